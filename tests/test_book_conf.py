"""book/conf.py for readers, on a two-notebook book (fast; tests/test_book.py builds the real one):
the landing page replaces README with its table of contents kept, the page title is said once,
the build prints a line per notebook, and the banner names only real overrides."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import nbformat
import pytest

from tlhelpers.startup import launch

ROOT = Path(__file__).resolve().parents[1]
pytest.importorskip("myst_nb", reason="needs the book extra: pip install -e .[book]")


@pytest.fixture(scope="module")
def mini_book(tmp_path_factory) -> tuple[Path, str]:
    src = tmp_path_factory.mktemp("src")
    shutil.copy(ROOT / "book" / "conf.py", src / "conf.py")
    (src / "notebooks").mkdir()
    for name in ("01_a", "02_b"):
        hidden = nbformat.v4.new_code_cell("print('colab install cell')",   # as launch.update_notebook tags it
                                           metadata={"tags": list(launch.INSTALL_TAGS)})
        nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_markdown_cell(f"# Notebook {name}"), hidden,
                                             nbformat.v4.new_code_cell(f"print('ran {name}')")])
        nbformat.write(nb, src / "notebooks" / f"{name}.ipynb")
    toc = "```{toctree}\n:caption: Notebooks\n\nnotebooks/01_a\nnotebooks/02_b\n```\n"
    (src / "index.md").write_text("# Transfer Learning with Keras\n\nREADME: Tests and CI\n"
                                  f"\n## Contents\n\n{toc}", encoding="utf-8")
    env = {**os.environ, "TL_PROFILE": "ci", "TL_BACKBONE": "mobilenet_025", "TL_WIDGETS": "0",
           "MPLBACKEND": "Agg", "GITHUB_REPOSITORY": "someone/tl-course"}
    env.pop("PYTEST_CURRENT_TEST", None)
    html = src.parent / "html"
    done = subprocess.run([sys.executable, "-m", "sphinx", "-b", "html", "-q", str(src), str(html)],
                          env=env, capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stderr[-3000:]
    return html, done.stdout


def test_landing_page_is_for_readers_with_the_contents_kept(mini_book):
    html, _ = mini_book
    index = (html / "index.html").read_text(encoding="utf-8")
    assert "This website is the course already run" in index and "Tests and CI" not in index
    assert "notebooks/01_a.html" in index and "notebooks/02_b.html" in index
    assert "colab.research.google.com/github/someone/tl-course/blob/" in index   # GITHUB_REPOSITORY


def test_the_landing_page_title_is_said_once(mini_book):
    html, _ = mini_book
    title = re.search(r"<title>(.*?)</title>", (html / "index.html").read_text(encoding="utf-8"), re.S)[1]
    assert title.strip() == "Transfer Learning with Keras"
    assert re.search(r'logo__title">\s*Transfer Learning with Keras', (html / "index.html").read_text())
    page = (html / "notebooks" / "01_a.html").read_text(encoding="utf-8")
    assert "Notebook 01_a" in re.search(r"<title>(.*?)</title>", page, re.S)[1]


def test_the_colab_install_cell_is_left_out_of_the_pages(mini_book):
    page = (mini_book[0] / "notebooks" / "01_a.html").read_text(encoding="utf-8")
    assert "ran 01_a" in page and "colab install cell" not in page


def test_the_build_says_which_notebook_it_executes(mini_book):
    _, stdout = mini_book
    assert "executing 01_a (1/2) ..." in stdout and "executing 02_b (2/2) ..." in stdout
    assert re.search(r"02_b done in \d+ s", stdout)


def test_the_banner_names_no_override_that_changes_nothing(mini_book):
    html, _ = mini_book
    page = (html / "notebooks" / "01_a.html").read_text(encoding="utf-8")
    assert "profile: mobilenet_025" in page.replace("</b>", "") and "overridden" not in page
