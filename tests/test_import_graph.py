"""The package's layers, checked on its source: no module of `tlhelpers` imports another
that imports it back (directly or through others), counting imports inside functions too,
and the lowest layer (settings and pure data) imports nothing above it and neither Keras
nor TensorFlow when it loads. See the "Layers" section of docs/architecture.md."""

from __future__ import annotations

import ast
import os
import re
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PACKAGE = ROOT / "tlhelpers"


def _dotted(path: Path) -> str:
    """tlhelpers/figures/plots.py -> "figures.plots"; a subpackage's __init__.py -> "figures";
    the package's own __init__.py -> "__init__"."""
    parts = list(path.relative_to(PACKAGE).with_suffix("").parts)
    if parts[-1] == "__init__" and len(parts) > 1:
        parts.pop()
    return ".".join(parts)


MODULES = {_dotted(p): p for p in sorted(PACKAGE.rglob("*.py"))}
HEAVY = {"keras", "tensorflow", "tf_keras"}
ARCHITECTURE = ROOT / "docs" / "architecture.md"


def _resolve(module: str, names: list[str]) -> list[str]:
    """What ``from tlhelpers.<module> import names`` loads: the submodules among *names*, else
    the module itself ("" = the package's own __init__)."""
    subs = [f"{module}.{n}" if module else n for n in names]
    found = [s for s in subs if s in MODULES]
    return found or [module or "__init__"]


def imported_modules(path: Path, *, module_level_only: bool = False) -> list[tuple[str, int]]:
    """(name, line) of every import in *path*: tlhelpers modules by their dotted name below
    the package ("figures.plots"), other packages by their top-level name (``tensorflow``).
    Imports in functions count too, unless *module_level_only*."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    nodes = list(ast.walk(tree))
    if module_level_only:   # include imports in module-level if/try blocks, not in defs
        nodes = []
        stack = list(tree.body)
        while stack:
            node = stack.pop()
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef, ast.Lambda)):
                continue
            nodes.append(node)
            stack.extend(ast.iter_child_nodes(node))
    here = _dotted(path).split(".")
    package = here if path.name == "__init__.py" else here[:-1]   # the package the file is in
    if here == ["__init__"]:
        package = []
    found = []
    for node in nodes:
        if isinstance(node, ast.Import):
            for alias in node.names:
                parts = alias.name.split(".")
                if parts[0] == "tlhelpers":
                    found.append((".".join(parts[1:]) or "__init__", node.lineno))
                else:
                    found.append((parts[0], node.lineno))
        elif isinstance(node, ast.ImportFrom):
            names = [a.name for a in node.names]
            if node.level:   # relative: from . import x / from .x import y / from .. import z
                base = package[:len(package) - (node.level - 1)] if node.level > 1 else package
                module = ".".join(base + (node.module.split(".") if node.module else []))
            elif node.module.split(".")[0] == "tlhelpers":
                module = ".".join(node.module.split(".")[1:])
            else:
                found.append((node.module.split(".")[0], node.lineno))
                continue
            found.extend((target, node.lineno) for target in _resolve(module, names))
    return found


def import_graph() -> dict[str, dict[str, int]]:
    """module -> {imported tlhelpers module: first line}. The package inits are left out: the
    package's own only installs the finder for old names, the subpackages' hold docstrings."""
    graph = {}
    for name, path in MODULES.items():
        if path.name == "__init__.py":
            continue
        edges: dict[str, int] = {}
        for target, line in imported_modules(path):
            if target in MODULES and target != name and MODULES[target].name != "__init__.py":
                edges.setdefault(target, line)
        graph[name] = edges
    return graph


def strongly_connected(graph: dict[str, dict[str, int]]) -> list[list[str]]:
    """Tarjan's strongly connected components with more than one module."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    components = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for nxt in graph[node]:
            if nxt not in index:
                visit(nxt)
                low[node] = min(low[node], low[nxt])
            elif nxt in on_stack:
                low[node] = min(low[node], index[nxt])
        if low[node] == index[node]:
            component = []
            while True:
                top = stack.pop()
                on_stack.discard(top)
                component.append(top)
                if top == node:
                    break
            if len(component) > 1:
                components.append(sorted(component))

    for node in sorted(graph):
        if node not in index:
            visit(node)
    return components


def one_cycle(graph: dict[str, dict[str, int]], component: list[str]) -> list[str]:
    """A shortest cycle through the component's first module, as `a:line -> b:line -> a`."""
    members = set(component)
    start = component[0]
    paths = {start: [start]}
    queue = [start]
    while queue:
        node = queue.pop(0)
        for nxt in sorted(graph[node]):
            if nxt not in members:
                continue
            if nxt == start:
                cycle = paths[node] + [start]
                return [f"{a} (line {graph[a][b]})" for a, b in zip(cycle, cycle[1:])] + [start]
            if nxt not in paths:
                paths[nxt] = paths[node] + [nxt]
                queue.append(nxt)
    return component


def test_the_graph_sees_imports_inside_functions():
    # a sanity check of the parser itself: features imports TensorFlow and keras
    names = {n for n, _ in imported_modules(MODULES["transfer.features"])}
    assert "tensorflow" in names or "keras" in names
    assert import_graph()["transfer.backbones"], "backbones imports nothing of tlhelpers?"
    assert "figures.plots_models" in import_graph()["figures.plots"], "relative imports are missed"
    assert "storage.assets" in import_graph()["course"]


def test_no_import_cycles():
    graph = import_graph()
    cycles = [" -> ".join(one_cycle(graph, c)) for c in strongly_connected(graph)]
    assert not cycles, ("import cycles in tlhelpers (a module imports only from its own "
                        "layer or below; see docs/architecture.md):\n" + "\n".join(cycles))


def layers() -> dict[str, int]:
    """module -> its layer (1 = bottom), read from the numbered list under "## Layers" in
    docs/architecture.md: each line names its subpackage (`tlhelpers/settings/`: every
    module in it) or its top-level modules (`course`) in backticks."""
    text = ARCHITECTURE.read_text(encoding="utf-8")
    section = text.split("## Layers", 1)[1].split("\n## ", 1)[0]
    found = {}
    for line in section.splitlines():
        head, _, rest = line.partition(". **")
        if head.strip().isdigit():
            packages = re.findall(r"`tlhelpers/(\w+)/`", rest)
            for package in packages:
                found[package] = int(head)
                found.update({m: int(head) for m in MODULES if m.startswith(package + ".")})
            if not packages:   # the top layer: the package's own modules, by name
                found.update({name: int(head) for name in re.findall(r"`(\w+)`", rest)})
    return found


def test_every_import_goes_to_the_same_layer_or_below():
    layer = layers()
    graph = import_graph()
    unplaced = sorted(set(graph) - set(layer))
    assert not unplaced, f"not in a layer of docs/architecture.md: {unplaced}"
    assert not set(layer) - set(MODULES), f"layers name removed modules: {sorted(set(layer) - set(MODULES))}"
    upward = [f"{a} (layer {layer[a]}, line {line}) imports {b} (layer {layer[b]})"
              for a, edges in graph.items() if a in layer
              for b, line in edges.items() if layer[b] > layer[a]]
    assert not upward, "imports that go up a layer:\n" + "\n".join(upward)


def test_each_subpackage_is_one_layer():
    """The tree shows the architecture: a subpackage is a layer, and each layer is one
    subpackage (the top layer is the four names notebooks import, and ``__main__``)."""
    layer = layers()
    by_layer: dict[int, set[str]] = {}
    for name in import_graph():
        by_layer.setdefault(layer[name], set()).add(name.split(".")[0] if "." in name else "")
    mixed = {n: sorted(p) for n, p in by_layer.items() if len(p) > 1}
    assert not mixed, f"layers that span subpackages: {mixed}"
    assert by_layer[max(by_layer)] == {""}, "the top layer holds the top-level modules"


def test_lowest_layer_imports_nothing_above_it_and_no_keras():
    lowest = {m for m in MODULES if m.startswith("settings.")}
    assert {"settings.config", "settings.registry", "settings.quiet"} <= lowest
    for name in sorted(lowest):
        own = {t for t, _ in imported_modules(MODULES[name]) if t in MODULES and t != name}
        above = own - lowest - {"__init__", "settings"}
        assert not above, f"{name} imports {sorted(above)}, above the lowest layer"
        heavy = {(t, line) for t, line in imported_modules(MODULES[name], module_level_only=True)
                 if t in HEAVY}
        assert not heavy, f"{name} imports {sorted(heavy)} when it loads"


def test_the_code_uses_no_old_flat_names():
    """``tlhelpers.plots`` still works for learners (tests/test_moved_modules.py), with a
    FutureWarning; the course's own code, tests and tools use the new names."""
    import tlhelpers

    old = re.compile(r"\btlhelpers\.(%s)\b" % "|".join(tlhelpers.MOVED))
    files = [p for d in ("tlhelpers", "tests", "tools", "benchmarks", "notebooks", "docs")
             for p in (ROOT / d).rglob("*") if p.suffix in {".py", ".ipynb", ".md"}]
    allowed = {ROOT / "tests" / "test_moved_modules.py", PACKAGE / "__init__.py"}   # they show the old names
    example = {Path(__file__).resolve(), ARCHITECTURE}   # they name one old name, as the example
    texts = {p: p.read_text(encoding="utf-8") for p in files if p not in allowed}
    found = [f"{p.relative_to(ROOT)}: {m.group(0)}" for p, text in texts.items()
             for m in old.finditer(text) if not (p in example and m.group(0) == "tlhelpers.plots")]
    imports = re.compile(r"from tlhelpers import \(?([\w, ]+)")   # also in doctests and code strings
    found += [f"{p.relative_to(ROOT)}: from tlhelpers import {name}" for p, text in texts.items()
              for m in imports.finditer(text)
              for name in re.findall(r"\w+", m.group(1)) if name in tlhelpers.MOVED]
    assert not found, "old module names (use the subpackage's):\n" + "\n".join(found[:20])


def test_fetch_help_starts_no_tensorflow():
    """``python -m tlhelpers fetch --help`` answers at once: the fetch layer needs no TensorFlow."""
    env = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "0"}
    code = ("import runpy, sys; sys.argv = ['tlhelpers', 'fetch', '--help']\n"
            "try:\n    runpy.run_module('tlhelpers', run_name='__main__')\n"
            "except SystemExit as e:\n    code = e.code\n"
            "print('HEAVY', sorted(m for m in ('tensorflow', 'keras') if m in sys.modules))\n"
            "sys.exit(code)")
    done = subprocess.run([sys.executable, "-c", code], cwd=ROOT, env=env,
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert "usage: python -m tlhelpers fetch" in done.stdout
    assert "HEAVY []" in done.stdout, done.stdout
    assert "tensorflow" not in (done.stdout + done.stderr).lower().replace("heavy []", "")
    plain = subprocess.run([sys.executable, "-m", "tlhelpers", "fetch", "--help"], cwd=ROOT, env=env,
                           capture_output=True, text=True, timeout=120)
    assert plain.returncode == 0 and "--profile" in plain.stdout, plain.stderr
    assert "tensorflow" not in plain.stderr.lower()


def test_the_page_lists_what_the_notebooks_call():
    """docs/architecture.md's "What the notebooks call" is generated from the notebooks
    (tools/notebook_surface.py): a helper a notebook starts using must appear there."""
    import importlib.util

    spec = importlib.util.spec_from_file_location("notebook_surface", ROOT / "tools" / "notebook_surface.py")
    surface = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(surface)
    assert surface.main(["--check"]) == 0, "out of date: run python tools/notebook_surface.py"
    assert "`lesson.extract_features` (`tlhelpers.transfer.features`)" in surface.section() and "03, section 5" in surface.section()
