"""Every lesson notebook (01-06) opens and closes the same way (docs/notebook-style.md):
objectives, an estimated time in one format (reading, then running per profile),
prerequisites, key takeaways and questions to check understanding."""

import json
import re
from pathlib import Path

import pytest

NOTEBOOKS = sorted((Path(__file__).resolve().parents[1] / "notebooks").glob("0[1-6]_*.ipynb"))


def markdown(path: Path) -> str:
    cells = json.loads(path.read_text(encoding="utf-8"))["cells"]
    return "\n".join("".join(c["source"]) for c in cells if c["cell_type"] == "markdown")


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem[:2])
def test_lesson_notebooks_share_one_shape(path):
    text = markdown(path)
    for heading in ("**Learning objectives.** After this notebook you can:", "**Prerequisites.** ",
                    "## Key takeaways", "## Check your understanding"):
        assert heading in text, f"{path.name}: missing {heading}"
    time = re.search(r"\*\*Estimated time\.\*\* Reading and exercises: about \d+ minutes\. "
                     r"Running all cells: [^\n]*`ci`[^\n]*`cpu`", text)
    assert time, f"{path.name}: the estimated time gives reading time, then run time in ci and cpu"


def test_there_are_six_lesson_notebooks():
    assert len(NOTEBOOKS) == 6


ALL = NOTEBOOKS + sorted((NOTEBOOKS[0].parent / "solutions").glob("*.ipynb")) + [NOTEBOOKS[0].parent / "07_exercises.ipynb"]


@pytest.mark.parametrize("path", ALL, ids=lambda p: p.stem[:2] + ("s" if p.parent.name == "solutions" else ""))
def test_a_notebook_imports_at_most_four_tlhelpers_names(path):
    """Issue 30: the learner-facing surface is course, lesson, views and (07) check."""
    cells = json.loads(path.read_text(encoding="utf-8"))["cells"]
    code = "\n".join("".join(c["source"]) for c in cells if c["cell_type"] == "code")
    names = {n.strip() for found in re.findall(r"from tlhelpers import ([\w, ]+)", code) for n in found.split(",")}
    names |= set(re.findall(r"^\s*import (tlhelpers[\w.]*)", code, re.M))
    assert len(names) <= 4 and names <= {"course", "lesson", "views", "check"}, names


@pytest.mark.parametrize("path", ALL, ids=lambda p: p.stem[:2] + ("s" if p.parent.name == "solutions" else ""))
def test_no_cell_reuses_a_facade_name_for_a_variable(path):
    """`lesson = lesson.evaluate(...)` would hide the facade from every later cell."""
    cells = json.loads(path.read_text(encoding="utf-8"))["cells"]
    code = "\n".join("".join(c["source"]) for c in cells if c["cell_type"] == "code")
    clash = re.findall(r"(?m)^\s*(?:\w+\s*,\s*)*(course|lesson|views|check)\s*(?:,\s*\w+\s*)*=(?!=)", code)
    assert not clash, f"{path.name} assigns to {clash}"
