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


def _pyproject() -> tuple[dict[str, str], dict[str, str]]:
    data = tomllib.loads((ROOT / "pyproject.toml").read_text())
    def table(reqs):
        return {_name(r): re.sub(r"^[A-Za-z0-9_\-\[\]]*", "", r) for r in reqs}
    return table(data["project"]["dependencies"]), table(data["project"]["optional-dependencies"]["dev"])


def test_conda_environment_matches_pyproject():
    deps, dev = _pyproject()
    assert _yaml_pip(ROOT / "environment.yml") == {**deps, **dev}
    assert "- -e ." in (ROOT / "environment.yml").read_text()


def test_binder_environment_matches_pyproject_runtime():
    deps, _ = _pyproject()
    assert _yaml_pip(ROOT / "binder" / "environment.yml") == deps
    assert "tensorflow-cpu" in (ROOT / "binder" / "environment.yml").read_text()


def test_binder_post_build_is_executable():
    post = ROOT / "binder" / "postBuild"
    assert os.access(post, os.X_OK)
    assert post.read_text().startswith("#!/usr/bin/env bash")


def test_ci_runs_the_readme_test_command():
    readme = (ROOT / "README.md").read_text()
    ci = (ROOT / ".ci" / "run").read_text()
    assert "python course.py test" in readme
    assert "course.py test" in ci
