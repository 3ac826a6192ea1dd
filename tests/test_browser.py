"""The course in a real browser: JupyterLab serves notebook 01, headless Chromium runs it,
and its ipywidgets slider must render as a widget and drive its output.

Needs Debian's Chromium (`apt-get install chromium`; `.ci/run` installs it) and Playwright
for Python (a dev dependency), which drives /usr/bin/chromium: no browser is downloaded.
The server and the browser are stopped by process id at the end, whatever happens.
The screenshot is saved to test-artifacts/jupyterlab-01.png.
"""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
NOTEBOOK = "01_what_is_transfer_learning.ipynb"
DEADLINE_S = 280  # the whole test stays under 5 minutes

# CI sets TL_REQUIRE_BROWSER=1: there a missing browser is a failure, not a skip.
if os.environ.get("TL_REQUIRE_BROWSER") == "1":
    import playwright.sync_api as playwright
    assert Path(CHROMIUM).exists(), "Chromium is missing: apt-get install chromium"
else:
    playwright = pytest.importorskip("playwright.sync_api", reason="needs playwright (pip install -e .[course,cpu,test])")
    pytestmark = pytest.mark.skipif(not Path(CHROMIUM).exists(),
                                    reason="needs Chromium: apt-get install chromium")


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture
def lab(tmp_path):
    """JupyterLab on 127.0.0.1 over a copy of the notebooks (so nothing is saved into the repo)."""
    work = tmp_path / "notebooks"
    shutil.copytree(ROOT / "notebooks", work)
    port, token = _free_port(), "tl-browser-test"
    settings = tmp_path / "settings" / "@jupyterlab"
    for folder, name, text in (("notebook-extension", "tracker", '{"windowingMode": "none"}'),
                               ("apputils-extension", "notification", '{"fetchNews": "false"}')):
        (settings / folder).mkdir(parents=True)
        (settings / folder / f"{name}.jupyterlab-settings").write_text(text)
    env = {**os.environ, "JUPYTER_RUNTIME_DIR": str(tmp_path / "runtime"), "TL_PROFILE": "ci"}
    server = subprocess.Popen(
        [sys.executable, "-m", "jupyter", "lab", "--no-browser", "--ip=127.0.0.1", f"--port={port}",
         f"--IdentityProvider.token={token}", f"--ServerApp.root_dir={work}",
         "--ServerApp.open_browser=False", "--allow-root", "--LabApp.news_url=",
         f"--LabApp.user_settings_dir={tmp_path / 'settings'}",
         f"--LabApp.workspaces_dir={tmp_path / 'workspaces'}"],
        env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
    url = f"http://127.0.0.1:{port}"
    try:
        for _ in range(120):
            try:
                urllib.request.urlopen(f"{url}/api/status?token={token}", timeout=2)
                break
            except OSError:
                time.sleep(0.5)
        else:
            pytest.fail("JupyterLab did not start within 60 s")
        yield url, token
    finally:
        os.killpg(server.pid, signal.SIGTERM)  # the server and the kernels it started
        try:
            server.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(server.pid, signal.SIGKILL)


def _run_all(page) -> None:
    page.locator(".lm-MenuBar-itemLabel", has_text="Run").first.click()
    page.locator(".lm-Menu-itemLabel", has_text="Run All Cells").first.click()


def test_widgets_render_and_respond_in_jupyterlab(lab):
    url, token = lab
    start = time.monotonic()
    left = lambda: max(1, DEADLINE_S - (time.monotonic() - start)) * 1000  # ms
    shots = ROOT / "test-artifacts"
    shots.mkdir(exist_ok=True)
    with playwright.sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=[
            "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
            "--disable-background-networking", "--disable-component-update", "--disable-sync"])
        try:
            page = browser.new_page(viewport={"width": 1400, "height": 1000})
            page.goto(f"{url}/lab/tree/{NOTEBOOK}?token={token}", timeout=left())
            page.locator(".jp-Notebook").first.wait_for(timeout=left())
            select = page.locator(".jp-Dialog button", has_text="Select")  # kernel chooser, if asked
            try:
                select.first.click(timeout=10_000)
            except playwright.TimeoutError:
                pass
            page.locator(".jp-Notebook-ExecutionIndicator[data-status='idle']").first.wait_for(
                timeout=left())
            _run_all(page)
            # the set-up cell prints the active profile
            page.locator(".jp-OutputArea-output", has_text="profile").first.wait_for(timeout=left())
            assert "ci" in page.locator(".jp-OutputArea-output", has_text="profile").first.inner_text()
            slider = page.locator(".widget-slider").first
            slider.wait_for(timeout=left())
            assert page.get_by_text("Error displaying widget").count() == 0
            output = slider.locator("xpath=ancestor::div[contains(@class,'widget-vbox')][1]"
                                    ).locator(".widget-html-content").first
            before = output.inner_text()
            handle = slider.locator(".noUi-handle").first
            handle.scroll_into_view_if_needed()
            handle.focus()
            handle.press("Home")
            page.wait_for_function("([el, old]) => el.innerText !== old",
                                   arg=[output.element_handle(), before], timeout=30_000)
            after = output.inner_text()
            output.scroll_into_view_if_needed()
            page.screenshot(path=str(shots / "jupyterlab-01.png"))
        except Exception:
            page.screenshot(path=str(shots / "jupyterlab-01-failure.png"))
            raise
        finally:
            browser.close()
    assert before and after and before != after
