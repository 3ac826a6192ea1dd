"""constraints.txt pins the versions the course was measured with (issue 29).

Every pin must satisfy pyproject.toml's bounds, and pip's resolver must accept the pins
together with the course's extras (a dry run against the package index; skipped when the
index cannot be reached, which the offline bundle does not replace).
"""

from __future__ import annotations

import re
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

ROOT = Path(__file__).resolve().parents[1]


def pins() -> dict[str, str]:
    lines = (ROOT / "constraints.txt").read_text().splitlines()
    found = [re.fullmatch(r"([A-Za-z0-9_.\-]+)==([^\s#]+)", line.strip()) for line in lines
             if line.strip() and not line.lstrip().startswith("#")]
    assert all(found), "every line of constraints.txt is a comment or name==version"
    return {canonicalize_name(m.group(1)): m.group(2) for m in found}


def test_every_requirement_is_pinned_and_every_pin_satisfies_pyproject():
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    reqs = [Requirement(r) for r in project["dependencies"]]
    for extra in ("course", "cpu", "test", "book"):
        reqs += [Requirement(r) for r in project["optional-dependencies"][extra]]
    pinned = pins()
    for req in reqs:
        name = canonicalize_name(req.name)
        assert name in pinned, f"{req.name} is not pinned in constraints.txt"
        assert req.specifier.contains(pinned[name], prereleases=True), (req, pinned[name])


def test_course_py_and_nox_install_with_the_pins():
    assert '"-c", str(constraints)' in (ROOT / "tools" / "course_main.py").read_text()
    assert '"-c", "constraints.txt"' in (ROOT / "noxfile.py").read_text()
    assert "--no-pins" in (ROOT / "course.py").read_text()


def test_the_pins_install_together():
    """pip resolves the course with every pin, without installing anything."""
    cmd = [sys.executable, "-m", "pip", "install", "--dry-run", "--ignore-installed", "--quiet",
           "--disable-pip-version-check", "-c", str(ROOT / "constraints.txt"),
           f"{ROOT}[course,cpu,test,book]"]
    try:
        done = subprocess.run(cmd, capture_output=True, text=True, timeout=600)
    except subprocess.TimeoutExpired:
        pytest.skip("the package index did not answer within 10 minutes")
    if done.returncode and re.search(r"(?i)network|connection|resolve host|timed out|proxy", done.stderr):
        pytest.skip("the package index cannot be reached: " + done.stderr.strip().splitlines()[-1])
    assert done.returncode == 0, done.stderr[-3000:]
