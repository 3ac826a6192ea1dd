"""Write the "What the notebooks call" section of docs/architecture.md from the notebooks.

Every ``module.name`` a notebook uses from the ``tlhelpers`` modules it imports becomes one
row: what it is (the first line of its docstring), which notebooks call it, and, for a helper
that packages code a notebook teaches, where that lesson is (the "Taught in notebook NN,
section M" line of its docstring). tests/test_import_graph.py checks the page is up to date.

    python tools/notebook_surface.py          # rewrite the section
    python tools/notebook_surface.py --check  # exit 1 when it is out of date
"""

from __future__ import annotations

import importlib
import inspect
import json
import re
import sys
from collections import defaultdict
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PAGE = ROOT / "docs" / "architecture.md"
START, END = "<!-- surface:start -->", "<!-- surface:end -->"


def notebook_uses(root: Path = ROOT) -> dict[tuple[str, str], set[str]]:
    """(module, name) -> the notebooks ("03", "07s" for the solutions) whose code cells use it."""
    uses: dict[tuple[str, str], set[str]] = defaultdict(set)
    paths = sorted((root / "notebooks").glob("*.ipynb")) + sorted((root / "notebooks" / "solutions").glob("*.ipynb"))
    for path in paths:
        cells = json.loads(path.read_text(encoding="utf-8"))["cells"]
        code = "\n".join("".join(c["source"]) for c in cells if c["cell_type"] == "code")
        modules = {m.strip() for found in re.findall(r"from tlhelpers import ([\w, ]+)", code)
                   for m in found.split(",")} | set(re.findall(r"import tlhelpers\.(\w+)", code))
        tag = path.stem[:2] + ("s" if path.parent.name == "solutions" else "")
        for module in modules:
            for name in re.findall(rf"(?<![\w.]){module}\.(\w+)", code):
                uses[module, name].add(tag)
    return uses


def rows(root: Path = ROOT) -> list[str]:
    """One Markdown table row per (module, name) that exists in ``tlhelpers``."""
    out = []
    for (module, name), tags in sorted(notebook_uses(root).items()):
        obj = getattr(importlib.import_module(f"tlhelpers.{module}"), name, None)
        if obj is None:   # text such as "results.md" in a string, not an attribute
            continue
        doc = inspect.getdoc(obj) if inspect.isfunction(obj) or inspect.isclass(obj) else ""
        first = (doc or "a constant").strip().split("\n")[0].replace("|", "\\|")
        taught = re.search(r"Taught in notebook (\d+), (sections? [\d and]+)", doc or "")
        where = f"{taught.group(1)}, {taught.group(2).strip()}" if taught else ""
        home = getattr(obj, "__module__", None) if inspect.isfunction(obj) or inspect.isclass(obj) else None
        defined = f" (`{home}`)" if home and home != f"tlhelpers.{module}" else ""
        out.append(f"| `{module}.{name}`{defined} | {first} | {', '.join(sorted(tags))} | {where} |")
    return out


def section(root: Path = ROOT) -> str:
    head = ["| name | what it is | called in | packages the code taught in |", "|---|---|---|---|"]
    return "\n".join([START, *head, *rows(root), END])


def main(argv: list[str]) -> int:
    text = PAGE.read_text(encoding="utf-8")
    new = re.sub(re.escape(START) + ".*?" + re.escape(END), lambda m: section(), text, flags=re.S)
    if "--check" in argv:
        return 0 if new == text else 1
    PAGE.write_text(new, encoding="utf-8")
    print(f"wrote {PAGE.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
