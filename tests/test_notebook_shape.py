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
