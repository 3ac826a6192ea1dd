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
MODULES = {p.stem: p for p in sorted(PACKAGE.glob("*.py"))}
#: The bottom layer: settings and pure data, importable without Keras or TensorFlow
#: (``quiet`` imports TensorFlow only inside the function that config's GPU check calls).
LOWEST = {"config", "registry", "quiet"}
HEAVY = {"keras", "tensorflow", "tf_keras"}
ARCHITECTURE = ROOT / "docs" / "architecture.md"


def imported_modules(path: Path, *, module_level_only: bool = False) -> list[tuple[str, int]]:
    """(name, line) of every import in *path*: tlhelpers modules by their short name, other
    packages by their top-level name (``tensorflow``). Imports in functions count too,
    unless *module_level_only*."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    nodes = tree.body if module_level_only else list(ast.walk(tree))
    if module_level_only:   # include imports in module-level if/try blocks, not in defs
        nodes = []
        stack = list(tree.body)
        while stack:
            node = stack.pop()
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef, ast.Lambda)):
                continue
            nodes.append(node)
            stack.extend(ast.iter_child_nodes(node))
    found = []
    for node in nodes:
        if isinstance(node, ast.Import):
            for alias in node.names:
                parts = alias.name.split(".")
                if parts[0] == "tlhelpers":
                    found.append((parts[1] if len(parts) > 1 else "__init__", node.lineno))
                else:
                    found.append((parts[0], node.lineno))
        elif isinstance(node, ast.ImportFrom):
            if node.level:   # relative: from . import x / from .x import y
                base = node.module.split(".")[0] if node.module else None
            elif node.module and node.module.split(".")[0] == "tlhelpers":
                parts = node.module.split(".")
                base = parts[1] if len(parts) > 1 else None
            else:
                found.append((node.module.split(".")[0], node.lineno))
                continue
            if base is not None:
                found.append((base, node.lineno))
            else:   # from tlhelpers import a, b: a and b may be modules
                found.extend((a.name, node.lineno) for a in node.names if a.name in MODULES)
                if not any(a.name in MODULES for a in node.names):
                    found.append(("__init__", node.lineno))
    return found


def import_graph() -> dict[str, dict[str, int]]:
    """module -> {imported tlhelpers module: first line}, the package's own __init__ left out
    (it only re-exports the package's modules lazily)."""
    graph = {}
    for name, path in MODULES.items():
        edges: dict[str, int] = {}
        for target, line in imported_modules(path):
            if target in MODULES and target != name and target != "__init__":
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
    names = {n for n, _ in imported_modules(MODULES["features"])}
    assert "tensorflow" in names or "keras" in names
    assert import_graph()["backbones"], "backbones imports nothing of tlhelpers?"


def test_no_import_cycles():
    graph = import_graph()
    cycles = [" -> ".join(one_cycle(graph, c)) for c in strongly_connected(graph)]
    assert not cycles, ("import cycles in tlhelpers (a module imports only from its own "
                        "layer or below; see docs/architecture.md):\n" + "\n".join(cycles))


def layers() -> dict[str, int]:
    """module -> its layer (1 = bottom), read from the numbered list under "## Layers" in
    docs/architecture.md (each line names its modules in backticks)."""
    text = ARCHITECTURE.read_text(encoding="utf-8")
    section = text.split("## Layers", 1)[1].split("\n## ", 1)[0]
    found = {}
    for line in section.splitlines():
        head, _, rest = line.partition(". **")
        if head.strip().isdigit():
            for name in re.findall(r"`(\w+)`", rest.split("(", 1)[0]):
                found[name] = int(head)
    return found


def test_every_import_goes_to_the_same_layer_or_below():
    layer = layers()
    unplaced = sorted(set(MODULES) - {"__init__"} - set(layer))
    assert not unplaced, f"not in a layer of docs/architecture.md: {unplaced}"
    assert not set(layer) - set(MODULES), f"layers name removed modules: {sorted(set(layer) - set(MODULES))}"
    upward = [f"{a} (layer {layer[a]}, line {line}) imports {b} (layer {layer[b]})"
              for a, edges in import_graph().items() if a in layer
              for b, line in edges.items() if layer[b] > layer[a]]
    assert not upward, "imports that go up a layer:\n" + "\n".join(upward)


def test_lowest_layer_imports_nothing_above_it_and_no_keras():
    for name in sorted(LOWEST):
        assert name in MODULES, f"tlhelpers/{name}.py is missing"
        own = {t for t, _ in imported_modules(MODULES[name]) if t in MODULES and t != name}
        above = own - LOWEST
        assert not above, f"{name}.py imports {sorted(above)}, above the lowest layer"
        heavy = {(t, line) for t, line in imported_modules(MODULES[name], module_level_only=True)
                 if t in HEAVY}
        assert not heavy, f"{name}.py imports {sorted(heavy)} when it loads"


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
    assert "`lesson.extract_features` (`tlhelpers.features`)" in surface.section() and "03, section 5" in surface.section()
