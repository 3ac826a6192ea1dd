"""The course as a static book: ``course.py``'s book build, executed in the `ci` profile, opened
in headless Chromium. Every notebook page loads, shows a figure and the profile banner, has no
error output, and its links to the other pages work; search works offline.

Slow (every notebook is executed once more, about 4 minutes): it runs with the whole suite in CI.
Needs Sphinx and MyST-NB (the `book` extra, which `course.py test` installs), Playwright and
Debian's Chromium, like tests/test_browser.py.
"""

from __future__ import annotations

import hashlib
import importlib.util
import os
import shutil
import subprocess
import sys
from pathlib import Path
from urllib.parse import unquote, urlparse

import pytest

ROOT = Path(__file__).resolve().parents[1]
CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
pytest.importorskip("myst_nb", reason="needs the book extra: pip install -e .[book]")
if os.environ.get("TL_REQUIRE_BROWSER") == "1":
    import playwright.sync_api as playwright
else:
    playwright = pytest.importorskip("playwright.sync_api", reason="needs playwright (the test extra)")
    pytestmark = pytest.mark.skipif(not Path(CHROMIUM).exists(), reason="needs Chromium: apt-get install chromium")

spec = importlib.util.spec_from_file_location("course", ROOT / "course.py")
course = importlib.util.module_from_spec(spec)
spec.loader.exec_module(course)


@pytest.fixture(scope="module")
def book(tmp_path_factory) -> tuple[Path, list[str], dict]:
    """The book built from a copy of the repository's pages, in the `ci` profile, offline."""
    shared_assets = Path(os.environ.get("TL_ASSETS_DIR", "/nonexistent"))
    if not (shared_assets / "keras-cache" / "models").is_dir():
        pytest.skip("needs the offline assets: set TL_ASSETS_DIR to ../shared (CI does)")
    tmp = tmp_path_factory.mktemp("book")
    before = _fingerprints()
    pages = course.assemble_book(tmp / "src")
    env = {**os.environ, "TL_PROFILE": "ci", "TL_OFFLINE": "1", "TL_ASSETS_DIR": str(shared_assets),
           "TL_WIDGETS": "0", "MPLBACKEND": "Agg", "KERAS_HOME": str(tmp / "keras"),
           "TL_CACHE_DIR": str(tmp / "tlcache")}
    env.pop("PYTEST_CURRENT_TEST", None)
    done = subprocess.run([sys.executable, "-m", "sphinx", "-b", "html", "-q", str(tmp / "src"),
                           str(tmp / "html")], env=env, capture_output=True, text=True, timeout=1500)
    assert done.returncode == 0, done.stderr[-4000:]
    return tmp / "html", pages, before


def _fingerprints() -> dict[str, str]:
    return {p.as_posix(): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted((ROOT / "notebooks").rglob("*.ipynb"))}


def test_every_notebook_page_renders_with_figures_and_no_errors(book):
    html, pages, _ = book
    notebooks = [p for p in pages if p.startswith("notebooks/")]
    assert len(notebooks) >= 8
    with playwright.sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox", "--disable-gpu"])
        try:
            page = browser.new_page(viewport={"width": 1300, "height": 900})
            for name in notebooks:
                page.goto((html / f"{name}.html").as_uri())
                article = page.locator("article").first
                article.wait_for(timeout=30_000)
                text = article.inner_text()
                assert "Traceback" not in text and "Error:" not in text, name
                figures = page.locator("article img").evaluate_all(
                    "els => els.filter(e => e.complete && e.naturalWidth > 0).length")
                assert figures >= 1, f"{name}: no figure"
                assert "ci" in page.locator(".bd-header-announcement").first.inner_text(), name
                links = page.locator("nav a.reference.internal").evaluate_all("els => els.map(e => e.href)")
                targets = {unquote(urlparse(h).path) for h in links if h.startswith("file:")}
                assert len(targets) >= len(notebooks), name
                missing = [t for t in targets if not Path(t).is_file()]
                assert not missing, f"{name}: broken links {missing}"
            page.goto((html / "index.html").as_uri())
            page.locator("nav a.reference.internal", has_text="04").first.click()
            page.locator("article h1").first.wait_for(timeout=30_000)
            assert page.url.endswith("04_fine_tuning.html")
            page.goto((html / "search.html").as_uri() + "?q=BatchNormalization")
            page.locator("#search-results li").first.wait_for(timeout=30_000)
        finally:
            browser.close()


def test_the_build_left_the_repository_notebooks_unchanged(book):
    """Executed outputs go to the build folder only: the notebooks stay clean."""
    assert _fingerprints() == book[2]
