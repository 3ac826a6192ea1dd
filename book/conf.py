"""Sphinx configuration of the course book (``python course.py book``).

``course.py`` copies README.md (as the index), notebooks/ and docs/ next to this file in
``build/book-src`` and runs Sphinx there; MyST-NB executes every notebook during the build
(outputs go to the build folder only; the notebooks in the repository stay clean). Nothing
is downloaded: the theme's assets and MathJax (sphinx-mathjax-offline) come from packages.

For readers, :func:`setup` replaces the README part of the index with ``book/landing.md``
(what the course is, the notebooks, how to launch them; the table of contents stays),
gives the landing page one title, and prints a line as each notebook starts executing.
The Colab install cell is tagged ``remove-cell`` (``tlhelpers.startup.launch``): it runs, unseen.
The repository links name ``launch.REPO``: in GitHub Actions, ``GITHUB_REPOSITORY``.
"""

from __future__ import annotations

import os
import time

from tlhelpers.settings import config
from tlhelpers.startup import launch
from tlhelpers.settings.quiet import import_tensorflow

import_tensorflow()   # its start-up log lines stay out of the build log

profile = config.get_profile()

project = "Transfer Learning with Keras"
author = "the course's authors"
copyright = "the course's authors, MIT licence"
extensions = ["myst_nb", "sphinx-mathjax-offline"]
exclude_patterns = ["_build", "**.ipynb_checkpoints"]
myst_enable_extensions = ["dollarmath", "amsmath"]
myst_heading_anchors = 3
suppress_warnings = ["myst.header", "myst.xref_missing", "mystnb.unknown_mime_type"]

# Execute every notebook, in order, once; an error stops the build (a page with a traceback
# must never be published). The notebooks read the profile from the environment.
nb_execution_mode = "force"
nb_execution_timeout = int(os.environ.get("TL_BOOK_CELL_TIMEOUT", "900"))
nb_execution_raise_on_error = True
nb_execution_show_tb = True
nb_merge_streams = True

#: Settings that really differ from the profile's own (TL_BACKBONE=mobilenet_025 in ci is none).
overridden = [field for field in profile.overrides
              if getattr(profile, field) != getattr(config.PROFILES[profile.name], field)]
banner = (f"Executed in the <b>{profile.name}</b> profile: {profile.backbone} at "
          f"{profile.image_size} px, {profile.train_size:,} training / {profile.test_size:,} test images"
          f"{' (overridden: ' + ', '.join(overridden) + ')' if overridden else ''}. "
          "The original lesson: MobileNetV2 and VGG16 at 224 px, 5,000 / 1,000 images.")

html_theme = "sphinx_book_theme"
html_title = project
html_theme_options = {
    "announcement": banner,
    "repository_url": f"https://github.com/{launch.REPO}",
    "repository_branch": launch.REF,
    "path_to_docs": "",
    "use_repository_button": True,
    "use_download_button": True,
    "launch_buttons": {"binderhub_url": "https://mybinder.org",
                       "colab_url": "https://colab.research.google.com",
                       "notebook_interface": "jupyterlab"},
    "show_toc_level": 2,
    "logo": {"text": project},   # the sidebar's name, without docstitle (blank on the landing page)
}
html_last_updated_fmt = ""

LANDING = launch.ROOT / "book" / "landing.md"


def landing_page(source: str) -> str:
    """The index for readers: book/landing.md with its launch links, then the table of contents
    that course.py appended to README (the README itself when there is no landing page)."""
    if not LANDING.is_file():
        return source
    links = [f"[![Launch on Binder]({launch.BINDER_BADGE})]({launch.binder_url()}) JupyterLab on "
             f"Binder, opened at the first notebook", "", "| notebook | Colab |", "|---|---|"]
    links += [f"| {path.stem} | [![Open In Colab]({launch.COLAB_BADGE})]({launch.colab_url(rel)}) |"
              for path in launch.notebook_paths()
              for rel in [path.relative_to(launch.ROOT).as_posix()]]
    text = LANDING.read_text(encoding="utf-8").replace("<!-- launch -->", "\n".join(links))
    text = text.replace("<!-- repository -->", f"https://github.com/{launch.REPO}")
    contents = source.split("\n## Contents", 1)
    return text + ("\n## Contents" + contents[1] if len(contents) == 2 else "")


class Progress:
    """One line per notebook as MyST-NB starts executing it: "executing 03 (3/8) ..."."""

    def __init__(self) -> None:
        self.notebooks: list[str] = []
        self.started: dict[str, float] = {}

    def plan(self, app, env, docnames: list[str]) -> None:
        self.notebooks = [d for d in docnames if env.doc2path(d, False).endswith(".ipynb")]

    def read(self, app, docname: str, source: list[str]) -> None:
        if docname == app.config.root_doc:
            source[0] = landing_page(source[0])
        if docname in self.notebooks:
            self.started[docname] = time.monotonic()
            print(f"executing {docname.rsplit('/', 1)[-1]} ({self.notebooks.index(docname) + 1}/"
                  f"{len(self.notebooks)}) ...", flush=True)

    def done(self, app, doctree) -> None:
        docname = app.env.docname
        if docname in self.started:
            print(f"    {docname.rsplit('/', 1)[-1]} done in {time.monotonic() - self.started[docname]:.0f} s",
                  flush=True)


def one_title(app, pagename: str, templatename: str, context: dict, doctree) -> None:
    """No "Transfer Learning with Keras — Transfer Learning with Keras" on the landing page."""
    if context.get("title") == html_title:
        context["docstitle"] = ""   # Sphinx's layout adds " — docstitle" to <title> otherwise


def setup(app) -> dict:
    """Sphinx's hook: the landing page, its title, and the progress lines."""
    progress = Progress()
    app.connect("env-before-read-docs", progress.plan)
    app.connect("source-read", progress.read)
    app.connect("doctree-read", progress.done)
    app.connect("html-page-context", one_title)
    return {"parallel_read_safe": False}
