"""The CI jobs, runnable locally: ``pip install nox`` (or ``pipx install nox``), then

    nox -s tests          # the test suite on Python 3.11 and 3.13, then the launch-badge check
    nox -s tests-3.11     # one Python only
    nox -s colab          # notebooks 01, 03, 04 and 06 with Colab's versions (Python 3.12)
    nox -s book           # the book, as .github/workflows/book.yml builds it

Each session has its own virtual environment under ``.nox/`` (nox needs the Python it asks
for on PATH, e.g. from python.org, pyenv, uv or conda). ``tests`` runs what
``python course.py test`` runs after its set-up: pytest with the ``ci`` profile, so
``nox -s tests-3.11 -- tests/test_launch.py -x`` passes arguments on to pytest. With the
offline bundle beside the repository (``../shared``), the sessions use it as ``.ci/run`` does.
.github/workflows/tests.yml runs the same jobs (tests/test_workflows.py keeps them in step).
"""

from __future__ import annotations

import os
from pathlib import Path

import nox

ROOT = Path(__file__).resolve().parent
#: The lowest and highest Python that course.py supports (SUPPORTED_PYTHON).
PYTHONS = ["3.11", "3.13"]
#: Colab's runtime (checked in 2025): what notebooks meet there.
COLAB_PYTHON = "3.12"
COLAB_PINS = ["tensorflow==2.19.*", "keras==3.10.*", "ipywidgets==7.7.1", "numpy==2.0.*"]
COLAB_NOTEBOOKS = ["01", "03", "04", "06"]

nox.options.sessions = ["tests"]
nox.options.reuse_existing_virtualenvs = True


def _env(session: nox.Session) -> dict[str, str]:
    """The ci profile, headless figures, and the offline bundle when ../shared has one."""
    env = {"TL_PROFILE": os.environ.get("TL_PROFILE", "ci"), "MPLBACKEND": "Agg"}
    shared = ROOT.parent / "shared"
    if (shared / "keras-cache" / "models").is_dir() and "TL_ASSETS_DIR" not in os.environ:
        tmp = Path(session.create_tmp())
        env.update(TL_ASSETS_DIR=str(shared), TL_OFFLINE="1", KERAS_HOME=str(tmp / "keras"),
                   TL_CACHE_DIR=str(tmp / "tlcache"))
    return env


@nox.session(python=PYTHONS)
def tests(session: nox.Session) -> None:
    """``python course.py test``'s suite in a fresh environment, then ``launch --check``."""
    session.install("-c", "constraints.txt", "-e", ".[course,cpu,test,book]")   # the measured versions
    session.run("python", "-m", "pytest", *session.posargs, env=_env(session))
    session.run("python", "-m", "tlhelpers", "launch", "--check")


@nox.session(python=COLAB_PYTHON)
def colab(session: nox.Session) -> None:
    """Notebooks 01, 03, 04, 06 in the ci profile with Colab's TensorFlow, Keras, ipywidgets, numpy."""
    session.install(*COLAB_PINS, "-e", ".", "nbclient", "ipykernel")
    session.run("python", ".github/scripts/run_notebooks.py", *(session.posargs or COLAB_NOTEBOOKS),
                "--out", "build/colab-notebooks", env={k: v for k, v in _env(session).items()
                                                       if k != "MPLBACKEND"})


@nox.session(python=False)
def book(session: nox.Session) -> None:
    """``python course.py book``: every notebook executed in the cpu profile, into build/book/html."""
    session.run("python", "course.py", "book", *session.posargs, external=True)
