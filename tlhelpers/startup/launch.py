"""Where the course is published, and the launch badges and Colab install cell made from it.

The repository slug comes from the repository the course lives in (:func:`repository`:
``GITHUB_REPOSITORY`` in GitHub Actions, else the ``origin`` remote when it is on GitHub,
else a placeholder); the pinned ref lives here. The badges in README.md and in each
notebook's first cell, and the Colab install cell before each notebook's set-up cell, are
generated from them:

    python -m tlhelpers launch --update              # for the repository it runs in
    python -m tlhelpers launch --update owner/name   # for a repository named explicitly
    python -m tlhelpers launch --check               # exit 1 (and say the fix) if out of date

(``tests/test_launch.py`` checks that README and the notebooks agree with each other; the
test workflow runs ``--check``, which also checks that they name the repository itself.)

>>> colab_url("01_what_is_transfer_learning.ipynb").startswith("https://colab.research.google.com/github/")
True
"""

from __future__ import annotations

import re
import sys
import textwrap
from pathlib import Path

from tlhelpers.startup.repository import (GITHUB_URL, PLACEHOLDER, ROOT, SLUG,  # noqa: F401  (tests use them here)
                                          repository, slug_from_url)

#: GitHub "owner/name" of this course, from :func:`repository` (the placeholder until the
#: course lives in a GitHub repository: then no badge works).
REPO = repository()[0]
#: The branch, tag or commit the badges open and Colab installs ``tlhelpers`` from. Pin it
#: to the release tag when publishing, so notebooks and helpers always come from one version.
REF = "main"

FIRST_NOTEBOOK = "01_what_is_transfer_learning.ipynb"
COLAB_BADGE = "https://colab.research.google.com/assets/colab-badge.svg"
BINDER_BADGE = "https://mybinder.org/badge_logo.svg"
#: First line of the Colab install cell: how it is recognised (and replaced) in a notebook.
INSTALL_MARKER = "# Colab only: install the course's helpers (elsewhere this cell does nothing)."
SETUP_MARKER = "course.start("
#: Tags of the install cell: MyST-NB leaves a ``remove-cell`` cell out of the book's pages
#: (it still runs, and does nothing there); Jupyter and Colab ignore tags.
INSTALL_TAGS = ("remove-cell",)
#: The install cell's metadata: its tags, and its source collapsed in JupyterLab (one click shows it).
INSTALL_METADATA = {"tags": list(INSTALL_TAGS), "jupyter": {"source_hidden": True}}
README_START, README_END = "<!-- launch:start -->", "<!-- launch:end -->"


def _relpath(notebook: str) -> str:
    """``notebooks/<name>`` for a notebook given by name, or the path given as is."""
    return notebook if "/" in notebook else f"notebooks/{notebook}"


def colab_url(notebook: str) -> str:
    """The URL that opens a notebook of this repository in Colab."""
    return f"https://colab.research.google.com/github/{REPO}/blob/{REF}/{_relpath(notebook)}"


def binder_url(notebook: str = FIRST_NOTEBOOK) -> str:
    """The URL that builds the Binder image and opens JupyterLab on a notebook."""
    return f"https://mybinder.org/v2/gh/{REPO}/{REF}?urlpath=lab/tree/{_relpath(notebook)}"


def book_url() -> str:
    """Where GitHub Pages publishes the executed book (.github/workflows/book.yml).

    >>> book_url().startswith("https://") and book_url().endswith(REPO.split("/")[1] + "/")
    True
    """
    owner, name = REPO.split("/", 1)
    return f"https://{owner.lower()}.github.io/{name}/"


def badge_markdown(notebook: str, binder: bool = True) -> str:
    """One line of markdown: the "Open in Colab" badge (and the Binder one) for a notebook."""
    out = f"[![Open In Colab]({COLAB_BADGE})]({colab_url(notebook)})"
    if binder:
        out += f" [![Launch on Binder]({BINDER_BADGE})]({binder_url(notebook)})"
    return out


#: Import name of each package in pyproject.toml's ``dependencies`` (tests/test_launch.py
#: checks that the two lists agree). Colab normally has them all already.
RUNTIME_IMPORTS = {"numpy": "numpy", "matplotlib": "matplotlib", "seaborn": "seaborn",
                   "scikit-learn": "sklearn", "pandas": "pandas", "pillow": "PIL", "h5py": "h5py",
                   "ipython": "IPython", "ipywidgets": "ipywidgets", "psutil": "psutil",
                   "filelock": "filelock"}


def colab_install_snippet() -> str:
    """The code cell every notebook runs before its set-up cell (at most 15 lines).

    In Colab it pip-installs ``tlhelpers`` from this repository at ``REF`` with
    ``--no-deps``, so Colab's own TensorFlow, Keras and ipywidgets stay as they are, then
    installs only those of its dependencies that cannot be imported (usually none), and
    says what it did. Re-running it is instant; elsewhere it does nothing and prints nothing.
    """
    spec = f"tlhelpers @ git+https://github.com/{REPO}@{REF}"
    pairs = [f"{imp!r}: {pkg!r}" for pkg, imp in RUNTIME_IMPORTS.items()]
    wanted = textwrap.wrap(", ".join(pairs), 84, initial_indent="    wanted = {",
                           subsequent_indent=" " * 14, break_on_hyphens=False)
    wanted[-1] += "}   # import name: pip name"
    return "\n".join([
        INSTALL_MARKER,
        "import importlib, importlib.util, subprocess, sys",
        'if "google.colab" in sys.modules and importlib.util.find_spec("tlhelpers") is None:',
        '    pip = [sys.executable, "-m", "pip", "install", "-q"]',
        "    # --no-deps: Colab's own TensorFlow, Keras and ipywidgets stay as they are",
        f'    subprocess.check_call(pip + ["--no-deps", "{spec}"])',
        *wanted,
        "    missing = [pkg for mod, pkg in wanted.items() if importlib.util.find_spec(mod) is None]",
        "    if missing:",
        "        subprocess.check_call(pip + missing)",
        "    importlib.invalidate_caches()",
        f'    print("Colab: installed tlhelpers from {REPO}@{REF}; also installed:", ", ".join(missing) or "nothing")',
        'elif "google.colab" in sys.modules:',
        '    print("Colab: tlhelpers is already installed")',
    ])


def notebook_paths(root: Path = ROOT) -> list[Path]:
    """Every course notebook: ``notebooks/*.ipynb`` and ``notebooks/solutions/*.ipynb``."""
    return sorted((root / "notebooks").glob("*.ipynb")) + sorted(
        (root / "notebooks" / "solutions").glob("*.ipynb"))


def _with_badge(source: str, relpath: str) -> str:
    """The first markdown cell with its badge line right after the title (replaced if there)."""
    lines = [ln for ln in source.split("\n") if COLAB_BADGE not in ln]
    title = next((i for i, ln in enumerate(lines) if ln.startswith("# ")), 0)
    rest = lines[title + 1:]
    while rest and not rest[0].strip():
        rest.pop(0)
    return "\n".join(lines[:title + 1] + ["", badge_markdown(relpath), ""] + rest)


def update_notebook(path: Path, root: Path = ROOT) -> bool:
    """Put the current badge and install cell into one notebook; True when it changed."""
    import nbformat

    nb = nbformat.read(path, as_version=4)
    before = nbformat.writes(nb)
    relpath = path.resolve().relative_to(root.resolve()).as_posix()
    first_md = next(c for c in nb.cells if c.cell_type == "markdown")
    first_md.source = _with_badge(first_md.source, relpath)
    nb.cells = [c for c in nb.cells
                if not (c.cell_type == "code" and c.source.startswith(INSTALL_MARKER))]
    setup = next((i for i, c in enumerate(nb.cells)
                  if c.cell_type == "code" and SETUP_MARKER in c.source), None)
    if setup is None:
        raise ValueError(f"{path} has no set-up cell (a code cell calling {SETUP_MARKER}...)).")
    cell = nbformat.v4.new_code_cell(colab_install_snippet(), metadata=dict(INSTALL_METADATA))
    cell.pop("id", None)
    if nb.nbformat_minor >= 5:
        cell["id"] = "colab-install"
    nb.cells.insert(setup, cell)
    after = nbformat.writes(nb)
    if after != before:
        path.write_text(after + "\n" if not after.endswith("\n") else after, encoding="utf-8")
    return after != before


def readme_section(root: Path = ROOT) -> str:
    """The generated part of README's "Launch" section: Binder badge and Colab table."""
    rows = ["| notebook | Colab |", "|---|---|"]
    for path in notebook_paths(root):
        rel = path.relative_to(root).as_posix()
        rows.append(f"| `{rel.removeprefix('notebooks/')}` "
                    f"| [![Open In Colab]({COLAB_BADGE})]({colab_url(rel)}) |")
    return "\n".join([
        README_START,
        f"[![Launch on Binder]({BINDER_BADGE})]({binder_url()}) JupyterLab on Binder, "
        f"opened at `{FIRST_NOTEBOOK}` (`{REPO}` at `{REF}`)",
        "",
        f"**Read it without running it**: the [course as a website]({book_url()}), every notebook "
        "executed (built by `python course.py book`, published by `.github/workflows/book.yml`).",
        "",
        *rows,
        *(["", "> **Not live yet:** these links name a placeholder repository; they work once "
            "the course is on GitHub and `python -m tlhelpers launch --update` has been run there."]
          if REPO == PLACEHOLDER else []),
        README_END,
    ])


def update_readme(root: Path = ROOT) -> bool:
    """Replace the text between the launch markers in README.md; True when it changed."""
    readme = root / "README.md"
    text = readme.read_text(encoding="utf-8")
    if README_START not in text or README_END not in text:
        raise ValueError(f"README.md has no {README_START} ... {README_END} block to fill.")
    head, rest = text.split(README_START, 1)
    tail = rest.split(README_END, 1)[1]
    new = head + readme_section(root) + tail
    if new != text:
        readme.write_text(new, encoding="utf-8")
    return new != text


#: CHANGELOG.md's link definitions to GitHub ("[Unreleased]: https://github.com/owner/name/...").
CHANGELOG_LINK = re.compile(r"^(\[[^\]\n]+\]: https://github\.com/)[\w.-]+/[\w.-]+/", re.M)


def update_changelog(root: Path = ROOT) -> bool:
    """Point CHANGELOG.md's compare and commit links at :data:`REPO`; True when it changed.

    >>> CHANGELOG_LINK.sub(r"\\1a/b/", "[Unreleased]: https://github.com/OWNER/x/commits/main")
    '[Unreleased]: https://github.com/a/b/commits/main'
    """
    path = root / "CHANGELOG.md"
    if not path.is_file():
        return False
    text = path.read_text(encoding="utf-8")
    new = CHANGELOG_LINK.sub(lambda m: f"{m[1]}{REPO}/", text)
    if new != text:
        path.write_text(new, encoding="utf-8")
    return new != text


#: The files besides the notebooks that ``--update`` rewrites, each with its updater.
UPDATERS = (("README.md", update_readme), ("CHANGELOG.md", update_changelog))


def published_repo(root: Path = ROOT) -> str | None:
    """The ``owner/name`` that README's launch section names now (None without one)."""
    text = (root / "README.md").read_text(encoding="utf-8")
    found = re.search(r"https://mybinder\.org/v2/gh/([\w.-]+/[\w.-]+)/", text.split(README_START)[-1])
    return found[1] if found and README_START in text else None


def stale_files(root: Path = ROOT) -> list[str]:
    """The files that ``--update`` would change (computed on a copy; nothing is written)."""
    import shutil
    import tempfile

    with tempfile.TemporaryDirectory() as tmp:
        copy = Path(tmp)
        for name, _ in UPDATERS:
            if (root / name).is_file():   # a missing README is update_readme's error to give
                shutil.copy(root / name, copy / name)
        shutil.copytree(root / "notebooks", copy / "notebooks",
                        ignore=shutil.ignore_patterns(".ipynb_checkpoints"))
        stale = [p.relative_to(copy).as_posix() for p in notebook_paths(copy) if update_notebook(p, copy)]
        stale += [name for name, update in UPDATERS if update(copy)]
    return stale


def _placeholder_notice() -> str:
    return (f"note: no GitHub repository found (GITHUB_REPOSITORY is unset and origin is not a GitHub "
            f"URL), so the links name the placeholder {PLACEHOLDER}; run this in a clone of the "
            "published repository, or name it: python -m tlhelpers launch --update owner/name.")


def main(argv: list[str] | None = None) -> int:
    """``python -m tlhelpers launch --update [OWNER/NAME]`` or ``--check [OWNER/NAME]``.

    Without OWNER/NAME, the repository it runs in (:func:`repository`).

    >>> main(["--check"])  # doctest: +SKIP
    0
    """
    import argparse

    global REPO
    parser = argparse.ArgumentParser(prog="python -m tlhelpers launch", description=__doc__.split("\n")[0])
    group = parser.add_mutually_exclusive_group(required=True)
    group.add_argument("--update", "--update-notebooks", nargs="?", const="", metavar="OWNER/NAME",
                       help="rewrite the badges and install cells in README.md and the notebooks, and CHANGELOG.md's links")
    group.add_argument("--check", nargs="?", const="", metavar="OWNER/NAME",
                       help="only report what is out of date (exit 1 if anything is)")
    args = parser.parse_args(argv)
    given = args.update if args.update is not None else args.check
    if given and not SLUG.match(given):
        parser.error(f"{given!r} is not a GitHub repository: give it as owner/name, e.g. someone/tl-course.")
    REPO, source = (given, "the command line") if given else repository()
    if args.check is not None:
        stale = stale_files()
        for name in stale:
            print(f"out of date for {REPO}: {name}")
        print(f"fix: python -m tlhelpers launch --update {REPO}" if stale
              else f"launch links are up to date for {REPO}@{REF} (from {source})")
    else:
        stale = []
        changed = [p.relative_to(ROOT).as_posix() for p in notebook_paths() if update_notebook(p)]
        changed += [name for name, update in UPDATERS if update()]
        print(f"updated {len(changed)} file(s) for {REPO}@{REF} (from {source}): "
              + (", ".join(changed) or "none"))
    if REPO == PLACEHOLDER:
        print(_placeholder_notice())
    return 1 if stale else 0


if __name__ == "__main__":
    sys.exit(main())
