"""The maintainer's files exist and say what they must: CONTRIBUTING (set-up, tests, adding a
notebook, the style guides), a Keep a Changelog CHANGELOG, issue forms (the bug form asks for
the set-up cell's version printout) and a pull-request template."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
GITHUB = ROOT / ".github"
yaml = pytest.importorskip("yaml", reason="needs PyYAML (it comes with Jupyter's packages)")


def _text(relpath: str) -> str:
    path = ROOT / relpath
    assert path.is_file(), f"{relpath} is missing"
    return path.read_text(encoding="utf-8")


def test_contributing_covers_set_up_tests_notebooks_and_style():
    text = _text("CONTRIBUTING.md")
    for needed in ("python course.py setup", "python course.py test", "python course.py lab",
                   "docs/notebook-style.md", "docs/architecture.md", "## Add or change a notebook",
                   "python -m tlhelpers launch --update", "CHANGELOG.md"):
        assert needed in text, needed
    for link in re.findall(r"\]\(([^)#]+)\)", text):   # every local link points at a real file
        assert link.startswith("http") or (ROOT / link).exists(), link


def test_changelog_follows_keep_a_changelog():
    text = _text("CHANGELOG.md")
    assert text.startswith("# Changelog") and "keepachangelog.com" in text
    assert "## [Unreleased]" in text and "0.1.0" in text
    headings = re.findall(r"^### (\w+)", text, re.M)
    assert headings and set(headings) <= {"Added", "Changed", "Deprecated", "Removed", "Fixed", "Security"}


def _form(name: str) -> dict:
    form = yaml.safe_load(_text(f".github/ISSUE_TEMPLATE/{name}"))
    assert form["name"] and form["description"] and form["body"], name
    ids = [item["id"] for item in form["body"] if "id" in item]
    assert len(ids) == len(set(ids)), f"{name}: ids must be unique"
    return form


def test_bug_form_asks_for_the_set_up_cells_version_printout():
    form = _form("bug.yml")
    fields = {item["id"]: item for item in form["body"] if "id" in item}
    versions = fields["versions"]
    assert versions["type"] == "textarea" and versions["validations"]["required"]
    asked = versions["attributes"]["label"] + versions["attributes"]["description"]
    assert "course.start(" in asked and "versions" in asked
    setup = _text("docs/notebook-style.md")
    assert "profile = course.start(seed=42)" in setup and "profile = course.start(seed=42)" in asked


def test_feature_form_and_pull_request_template_exist():
    assert _form("feature.yml")["labels"] == ["enhancement"]
    template = _text(".github/pull_request_template.md")
    assert "python course.py test" in template and "docs/notebook-style.md" in template
    assert "CHANGELOG.md" in template
