"""pyproject.toml, environment.yml and binder/ must name the same packages."""

import os
import re
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def _name(req: str) -> str:
    name = re.split(r"[<>=!~\[ ;]", req.strip(), maxsplit=1)[0].lower().replace("_", "-")
    return "tensorflow" if name == "tensorflow-cpu" else name


def _yaml_pip(path: Path) -> dict[str, str]:
    lines = path.read_text().splitlines()
    start = lines.index("  - pip:")
    reqs = {}
    for line in lines[start + 1:]:
        item = line.strip()
        if not item.startswith("- "):
            continue
        req = item[2:].strip()
        if req.startswith("-e"):
            continue
        reqs[_name(req)] = req.split(_name(req).split("-")[0], 1)[-1]
    return {k: re.sub(r"^[a-z\-]*", "", v) for k, v in reqs.items()}


def _pyproject() -> tuple[dict[str, str], dict[str, list[str]]]:
    data = tomllib.loads((ROOT / "pyproject.toml").read_text())
    deps = {_name(r): re.sub(r"^[A-Za-z0-9_\-\[\]]*", "", r) for r in data["project"]["dependencies"]}
    return deps, data["project"]["optional-dependencies"]


def test_conda_environment_installs_the_local_extras():
    """environment.yml installs the package with the extras course.py picks on a CPU machine."""
    text = (ROOT / "environment.yml").read_text()
    assert "- -e .[course,cpu,test]" in text
    _, extras = _pyproject()
    assert {"course", "cpu", "gpu", "test"} <= set(extras)
    assert "`gpu` instead of `cpu`" in text   # the GPU choice is documented


def test_binder_environment_matches_pyproject_runtime_and_course_extra():
    deps, extras = _pyproject()
    course = {_name(r): re.sub(r"^[A-Za-z0-9_\-\[\]]*", "", r) for r in extras["course"]}
    wanted = {**deps, **course}   # the course extra's stricter bounds win (ipywidgets 8)
    binder = _yaml_pip(ROOT / "binder" / "environment.yml")
    tf = binder.pop("tensorflow")
    assert binder == wanted
    assert "tensorflow-cpu" in (ROOT / "binder" / "environment.yml").read_text()
    assert tf == ">=2.21" and any(r.startswith(f"tensorflow-cpu{tf}") for r in extras["cpu"])


def test_binder_post_build_is_executable():
    post = ROOT / "binder" / "postBuild"
    assert os.access(post, os.X_OK)
    assert post.read_text().startswith("#!/usr/bin/env bash")


def test_ci_runs_the_readme_test_command():
    readme = (ROOT / "README.md").read_text()
    ci = (ROOT / ".ci" / "run").read_text()
    assert "python course.py test" in readme
    assert "course.py test" in ci
