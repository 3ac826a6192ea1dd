"""The package's house rules, checked on its source: one module reads the environment,
public Keras API only, every public definition documented, small modules, and a map of
the modules in docs/architecture.md."""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
MODULES = sorted((ROOT / "tlhelpers").glob("*.py"))
#: Methods whose name and meaning Keras defines (a docstring would only repeat Keras's).
KERAS_HOOKS = {"call", "build", "get_config", "from_config", "compute_output_shape",
               "on_epoch_begin", "on_epoch_end", "on_train_begin", "on_train_end"}
PRIVATE_KERAS = re.compile(r"keras\.src|_keras_history|_nodes_by_depth|_flatten_layers|\._functional\b"
                           r"|_inbound_nodes|_outbound_nodes")


def source(path: Path) -> str:
    return path.read_text(encoding="utf-8")


@pytest.mark.parametrize("path", MODULES, ids=lambda p: p.name)
def test_only_config_reads_the_environment(path):
    if path.name == "config.py":
        return
    text = source(path)
    if path.name == "__init__.py":   # sets TensorFlow's log level before TensorFlow loads
        text = text.replace('_os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")', "")
    assert not re.search(r"os\.environ|os\.getenv|getenv\(", text), \
        f"{path.name} reads the environment: use tlhelpers.config.settings() instead"


@pytest.mark.parametrize("path", MODULES, ids=lambda p: p.name)
def test_public_keras_api_only(path):
    found = PRIVATE_KERAS.findall(source(path))
    assert not found, f"{path.name} uses Keras internals: {found}"


def public_definitions(path: Path):
    tree = ast.parse(source(path))
    for node in tree.body:
        if isinstance(node, (ast.FunctionDef, ast.ClassDef)) and not node.name.startswith("_"):
            yield node.name, node
            if isinstance(node, ast.ClassDef):
                for sub in node.body:
                    if (isinstance(sub, ast.FunctionDef) and not sub.name.startswith("_")
                            and sub.name not in KERAS_HOOKS):
                        yield f"{node.name}.{sub.name}", sub


@pytest.mark.parametrize("path", MODULES, ids=lambda p: p.name)
def test_every_public_definition_has_a_docstring(path):
    assert ast.get_docstring(ast.parse(source(path))), f"{path.name} has no module docstring"
    missing = [name for name, node in public_definitions(path) if not ast.get_docstring(node)]
    assert not missing, f"{path.name}: no docstring for {missing}"


@pytest.mark.parametrize("path", MODULES, ids=lambda p: p.name)
def test_modules_stay_small(path):
    lines = len(source(path).splitlines())
    assert lines <= 330, f"{path.name} has {lines} lines; split it (the target is about 300)"


def test_architecture_page_lists_every_module():
    page = (ROOT / "docs" / "architecture.md").read_text(encoding="utf-8")
    listed = set(re.findall(r"`(\w+)\.py`", page))
    modules = {p.stem for p in MODULES} - {"__init__"}
    assert modules - listed == set(), f"not in docs/architecture.md: {sorted(modules - listed)}"
    assert listed - modules == set(), f"docs/architecture.md lists removed modules: {sorted(listed - modules)}"
