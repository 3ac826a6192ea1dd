"""Sphinx configuration of the course book (``python course.py book``).

``course.py`` copies README.md (as the index), notebooks/ and docs/ next to this file in
``build/book-src`` and runs Sphinx there; MyST-NB executes every notebook during the build
(outputs go to the build folder only; the notebooks in the repository stay clean). Nothing
is downloaded: the theme's assets and MathJax (sphinx-mathjax-offline) come from packages.
"""

from __future__ import annotations

import os

from tlhelpers import config, launch
from tlhelpers.quiet import import_tensorflow

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

banner = (f"Executed in the <b>{profile.name}</b> profile: {profile.backbone} at "
          f"{profile.image_size} px, {profile.train_size:,} training / {profile.test_size:,} test images"
          f"{' (overridden: ' + ', '.join(profile.overrides) + ')' if profile.overrides else ''}. "
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
}
html_last_updated_fmt = ""
