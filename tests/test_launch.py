"""Launch links and the Colab install cell: generated from tlhelpers.startup.launch, the same
everywhere, and harmless outside Colab."""

import contextlib
import importlib.util
import io
import json
import os
import re
import shutil
import subprocess
import sys
import tomllib
import types

import nbformat
import pytest

from tlhelpers.startup import launch

NOTEBOOKS = launch.notebook_paths()
#: The repository README and the notebooks name now. These tests check that they agree with each
#: other; whether they name the repository the tests run in is `--check`'s job (the test workflow).
PUBLISHED = launch.published_repo()


@pytest.fixture
def published(monkeypatch):
    """launch.REPO set to the slug the files were generated for (a fork or clone may differ)."""
    assert PUBLISHED, "README.md has no launch section naming a repository"
    monkeypatch.setattr(launch, "REPO", PUBLISHED)


def test_there_are_notebooks():
    assert len(NOTEBOOKS) >= 8


def test_urls_come_from_repo_and_ref():
    nb = "01_what_is_transfer_learning.ipynb"
    assert launch.colab_url(nb) == (f"https://colab.research.google.com/github/{launch.REPO}"
                                    f"/blob/{launch.REF}/notebooks/{nb}")
    assert launch.binder_url().startswith(f"https://mybinder.org/v2/gh/{launch.REPO}/{launch.REF}?")
    assert launch.binder_url().endswith(f"urlpath=lab/tree/notebooks/{nb}")
    assert f"@{launch.REF}" in launch.colab_install_snippet()


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_notebook_badge_and_install_cell_match_launch(path, published):
    nb = nbformat.read(path, as_version=4)
    rel = path.relative_to(launch.ROOT).as_posix()
    first_md = next(c for c in nb.cells if c.cell_type == "markdown")
    assert launch.badge_markdown(rel) in first_md.source, (
        f"{rel}: badge out of date; run python -m tlhelpers launch --update")
    installs = [i for i, c in enumerate(nb.cells)
                if c.cell_type == "code" and c.source.startswith(launch.INSTALL_MARKER)]
    setup = next(i for i, c in enumerate(nb.cells)
                 if c.cell_type == "code" and launch.SETUP_MARKER in c.source)
    assert installs == [setup - 1], f"{rel}: one install cell, right before the set-up cell"
    cell = nb.cells[installs[0]]
    assert cell.source == launch.colab_install_snippet()
    assert "remove-cell" in cell.metadata.get("tags", []), f"{rel}: the book must leave it out"
    assert cell.metadata.get("jupyter", {}).get("source_hidden") is True, f"{rel}: collapsed in JupyterLab"
    assert cell.outputs == [] and cell.execution_count is None


def test_readme_launch_section_matches_launch(published):
    text = (launch.ROOT / "README.md").read_text(encoding="utf-8")
    assert launch.readme_section() in text
    assert "docs/workshop.md" in text and "docs/profiles.md" in text
    assert "python course.py lab" in text and "python course.py test" in text


def test_check_command_reports_up_to_date():
    done = subprocess.run([sys.executable, "-m", "tlhelpers.startup.launch", "--check"],
                          env={**os.environ, "GITHUB_REPOSITORY": PUBLISHED},
                          capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stdout + done.stderr
    assert f"up to date for {PUBLISHED}@" in done.stdout


def test_update_is_idempotent(tmp_path, published):
    shutil.copy(launch.ROOT / "README.md", tmp_path / "README.md")
    shutil.copytree(launch.ROOT / "notebooks", tmp_path / "notebooks")
    paths = launch.notebook_paths(tmp_path)
    assert not any(launch.update_notebook(p, tmp_path) for p in paths)
    assert not launch.update_readme(tmp_path)


def _run_snippet(monkeypatch, colab: bool, installed: bool, missing=frozenset()) -> tuple[str, list]:
    calls = []
    monkeypatch.setattr(subprocess, "check_call", lambda cmd, *a, **k: calls.append(cmd) or 0)
    if colab:
        monkeypatch.setitem(sys.modules, "google.colab", types.ModuleType("google.colab"))
    else:
        monkeypatch.delitem(sys.modules, "google.colab", raising=False)
    gone = set(missing) | (set() if installed else {"tlhelpers"})
    if gone:
        real = importlib.util.find_spec
        monkeypatch.setattr(importlib.util, "find_spec",
                            lambda name, *a: None if name in gone else real(name, *a))
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        exec(launch.colab_install_snippet(), {})
    return out.getvalue(), calls


def test_snippet_is_short():
    assert len(launch.colab_install_snippet().splitlines()) <= 17


def test_snippet_does_nothing_outside_colab(monkeypatch):
    assert _run_snippet(monkeypatch, colab=False, installed=False) == ("", [])


def test_snippet_installs_once_in_colab(monkeypatch):
    out, calls = _run_snippet(monkeypatch, colab=True, installed=False)
    assert calls == [[sys.executable, "-m", "pip", "install", "-q", "--no-deps",
                      f"tlhelpers @ git+https://github.com/{launch.REPO}@{launch.REF}"]]
    assert "installed tlhelpers" in out and "also installed: nothing" in out


def test_snippet_installs_only_missing_dependencies(monkeypatch):
    out, calls = _run_snippet(monkeypatch, colab=True, installed=False, missing={"psutil", "PIL"})
    assert calls[1] == [sys.executable, "-m", "pip", "install", "-q", "pillow", "psutil"]
    assert "also installed: pillow, psutil" in out


def test_snippet_checks_every_runtime_dependency():
    """RUNTIME_IMPORTS names exactly pyproject's `dependencies`, and no TensorFlow, Keras."""
    deps = tomllib.loads((launch.ROOT / "pyproject.toml").read_text())["project"]["dependencies"]
    names = {re.split(r"[<>=!~\[ ;]", d, maxsplit=1)[0].lower() for d in deps}
    assert names == set(launch.RUNTIME_IMPORTS)
    assert not names & {"tensorflow", "tensorflow-cpu", "keras", "jupyterlab"}
    for module in launch.RUNTIME_IMPORTS.values():   # each import name is a real module here
        assert importlib.util.find_spec(module) is not None, module


def _dry_run(cmd: list[str], tmp_path) -> set[str]:
    """What pip would install into this venv (which has the course's TensorFlow) for ``cmd``."""
    report = tmp_path / f"report-{len(list(tmp_path.iterdir()))}.json"
    local = [f"tlhelpers @ {launch.ROOT.as_uri()}" if a.startswith("tlhelpers @ git+") else a
             for a in cmd]   # the repository here stands in for GitHub (no internet in tests)
    done = subprocess.run([*local, "--dry-run", "--report", str(report)], capture_output=True,
                          text=True, timeout=600)
    assert done.returncode == 0, done.stderr[-2000:]
    return {item["metadata"]["name"].lower() for item in json.loads(report.read_text())["install"]}


def test_colab_install_commands_leave_tensorflow_keras_and_ipywidgets_alone(monkeypatch, tmp_path):
    """pip install --dry-run --report on each command the cell runs (two missing packages
    simulated): the package alone, then nothing that is already there."""
    import tensorflow  # noqa: F401  (the venv has the course's TensorFlow, as Colab has its own)

    _, calls = _run_snippet(monkeypatch, colab=True, installed=False, missing={"psutil", "seaborn"})
    monkeypatch.undo()
    would = [_dry_run(cmd, tmp_path) for cmd in calls]
    assert would[0] == {"tlhelpers"}
    assert would[1] == set()   # both are installed really: pip changes nothing
    for names in would:
        assert not names & {"tensorflow", "tensorflow-cpu", "keras", "ipywidgets", "jupyterlab"}


def test_snippet_rerun_in_colab_is_instant(monkeypatch):
    out, calls = _run_snippet(monkeypatch, colab=True, installed=True)
    assert calls == [] and "already installed" in out


def test_placeholder_slug_is_flagged():
    """Badges only work once they name the real repository (python -m tlhelpers launch --update)."""
    owner, name = PUBLISHED.split("/")
    assert owner and name and " " not in PUBLISHED
    if PUBLISHED == launch.PLACEHOLDER:
        pytest.skip("README and notebooks still name the placeholder 'OWNER/...': badges are not live yet")


def test_changing_the_slug_in_one_place_updates_everything(tmp_path, monkeypatch):
    shutil.copy(launch.ROOT / "README.md", tmp_path / "README.md")
    shutil.copytree(launch.ROOT / "notebooks", tmp_path / "notebooks")
    monkeypatch.setattr(launch, "REPO", "someone/tl-course")
    monkeypatch.setattr(launch, "REF", "v1.0")
    assert all(launch.update_notebook(p, tmp_path) for p in launch.notebook_paths(tmp_path))
    assert launch.update_readme(tmp_path)
    for path in [tmp_path / "README.md", *launch.notebook_paths(tmp_path)]:
        text = path.read_text(encoding="utf-8")
        assert "OWNER/" not in text and "someone/tl-course" in text, path.name
    readme = (tmp_path / "README.md").read_text(encoding="utf-8")
    assert "Not live yet" not in readme and "blob/v1.0/notebooks" in readme


@pytest.mark.parametrize("url", ["https://github.com/someone/tl.course.git", "https://github.com/someone/tl.course",
                                 "https://github.com/someone/tl.course/", "git@github.com:someone/tl.course.git",
                                 "ssh://git@github.com/someone/tl.course.git",
                                 "https://x-access-token:abc@github.com/someone/tl.course"])
def test_slug_from_github_urls(url):
    assert launch.slug_from_url(url) == "someone/tl.course"


@pytest.mark.parametrize("url", ["https://gitlab.com/someone/tl.git", "/work/main", "git@bitbucket.org:a/b.git",
                                 "https://github.com/someone", ""])
def test_other_urls_give_no_slug(url):
    assert launch.slug_from_url(url) is None


def _clone(tmp_path, origin: str | None) -> tuple[os.PathLike, dict]:
    """A git repository holding this working tree's tlhelpers, README and notebooks."""
    clone = tmp_path / "clone"
    clone.mkdir()
    shutil.copytree(launch.ROOT / "tlhelpers", clone / "tlhelpers",
                    ignore=shutil.ignore_patterns("__pycache__"))
    shutil.copy(launch.ROOT / "README.md", clone / "README.md")
    shutil.copy(launch.ROOT / "CHANGELOG.md", clone / "CHANGELOG.md")
    shutil.copytree(launch.ROOT / "notebooks", clone / "notebooks",
                    ignore=shutil.ignore_patterns(".ipynb_checkpoints"))
    git = ["git", "-C", str(clone)]
    subprocess.run([*git, "init", "-q"], check=True)
    if origin:
        subprocess.run([*git, "remote", "add", "origin", origin], check=True)
    env = {k: v for k, v in os.environ.items() if k != "GITHUB_REPOSITORY"}
    return clone, {**env, "PYTHONPATH": str(clone)}


def _launch(clone, env, *args) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "tlhelpers", "launch", *args], cwd=clone, env=env,
                          capture_output=True, text=True, timeout=120)


def _badge_slugs(clone) -> set[str]:
    """Every slug a Colab, Binder or install URL names in the clone's README and notebooks."""
    urls = re.compile(r"(?:colab\.research\.google\.com/github|mybinder\.org/v2/gh|git\+https://github\.com)"
                      r"/([\w.-]+/[\w.-]+)[/@]")
    files = [clone / "README.md", *launch.notebook_paths(clone)]
    found = [urls.findall(path.read_text(encoding="utf-8")) for path in files]
    assert all(found), "every file has badges"
    return {slug for names in found for slug in names}


def test_repository_comes_from_env_then_origin_then_placeholder(tmp_path):
    clone, env = _clone(tmp_path, "git@github.com:someone/name.git")
    assert launch.repository(clone, env) == ("someone/name", "origin (git@github.com:someone/name.git)")
    assert launch.repository(clone, {**env, "GITHUB_REPOSITORY": "org/course"})[0] == "org/course"
    subprocess.run(["git", "-C", str(clone), "remote", "set-url", "origin", "https://gitlab.com/a/b"], check=True)
    assert launch.repository(clone, env) == (launch.PLACEHOLDER, "placeholder")


def test_update_in_a_clone_rewrites_every_badge_to_its_origin(tmp_path):
    clone, env = _clone(tmp_path, "https://github.com/someone/name.git")
    readme_here = (launch.ROOT / "README.md").read_text(encoding="utf-8")
    done = _launch(clone, env, "--update")
    assert done.returncode == 0, done.stdout + done.stderr
    assert "someone/name@main (from origin" in done.stdout and "placeholder" not in done.stdout
    assert _badge_slugs(clone) == {"someone/name"}
    assert "Not live yet" not in (clone / "README.md").read_text(encoding="utf-8")
    links = re.findall(r"^\[[^\]]+\]: (\S+)", (clone / "CHANGELOG.md").read_text(encoding="utf-8"), re.M)
    assert links and all(url.startswith("https://github.com/someone/name/") for url in links), links
    assert (launch.ROOT / "README.md").read_text(encoding="utf-8") == readme_here   # only the clone
    assert _launch(clone, env, "--check").returncode == 0

    ci = {**env, "GITHUB_REPOSITORY": "org/course"}   # GitHub Actions: it wins over origin
    done = _launch(clone, ci, "--check")
    assert done.returncode == 1 and "fix: python -m tlhelpers launch --update org/course" in done.stdout
    assert _launch(clone, ci, "--update").returncode == 0
    assert _badge_slugs(clone) == {"org/course"}
    assert _launch(clone, env, "--update", "third/x").returncode == 0   # an explicit slug still works
    assert _badge_slugs(clone) == {"third/x"}


def test_without_a_github_origin_the_placeholder_comes_with_a_notice(tmp_path):
    clone, env = _clone(tmp_path, None)
    done = _launch(clone, env, "--update")
    assert done.returncode == 0 and "note: no GitHub repository found" in done.stdout
    assert _badge_slugs(clone) == {launch.PLACEHOLDER}
    assert "Not live yet" in (clone / "README.md").read_text(encoding="utf-8")


def test_a_malformed_slug_is_refused_in_one_sentence(tmp_path):
    clone, env = _clone(tmp_path, None)
    done = _launch(clone, env, "--update", "not a slug")
    assert done.returncode == 2 and "give it as owner/name" in done.stderr
