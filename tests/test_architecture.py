"""The package's house rules, checked on its source: one module reads the environment,
public Keras API only, every public definition documented, small modules, and a map of
the modules in docs/architecture.md."""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PACKAGE = ROOT / "tlhelpers"
MODULES = sorted(PACKAGE.rglob("*.py"))


def IDS(path: Path) -> str:
    """A test id: the module's path inside the package (figures/plots.py)."""
    return str(path.relative_to(PACKAGE))
#: Methods whose name and meaning Keras defines (a docstring would only repeat Keras's).
KERAS_HOOKS = {"call", "build", "get_config", "from_config", "compute_output_shape",
               "on_epoch_begin", "on_epoch_end", "on_train_begin", "on_train_end"}
PRIVATE_KERAS = re.compile(r"keras\.src|_keras_history|_nodes_by_depth|_flatten_layers|\._functional\b"
                           r"|_inbound_nodes|_outbound_nodes")


def source(path: Path) -> str:
    return path.read_text(encoding="utf-8")


@pytest.mark.parametrize("path", MODULES, ids=IDS)
def test_only_config_reads_the_environment(path):
    if path.name == "config.py":
        return
    text = source(path)
    if path == PACKAGE / "__init__.py":   # sets TensorFlow's log level before TensorFlow loads
        text = text.replace('_os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")', "")
    assert not re.search(r"os\.environ|os\.getenv|getenv\(", text), \
        f"{path.name} reads the environment: use tlhelpers.settings.config.settings() instead"


@pytest.mark.parametrize("path", MODULES, ids=IDS)
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


@pytest.mark.parametrize("path", MODULES, ids=IDS)
def test_every_public_definition_has_a_docstring(path):
    assert ast.get_docstring(ast.parse(source(path))), f"{path.name} has no module docstring"
    missing = [name for name, node in public_definitions(path) if not ast.get_docstring(node)]
    assert not missing, f"{path.name}: no docstring for {missing}"


@pytest.mark.parametrize("path", MODULES, ids=IDS)
def test_modules_stay_small(path):
    lines = len(source(path).splitlines())
    assert lines <= 330, f"{path.name} has {lines} lines; split it (the target is about 300)"


def test_architecture_page_lists_every_module_under_its_subpackage():
    """docs/architecture.md has one table per subpackage ("### `tlhelpers/figures/`"), and
    each lists exactly the modules in that folder."""
    page = (ROOT / "docs" / "architecture.md").read_text(encoding="utf-8")
    tables = page.split("## The modules, by subpackage", 1)[1]
    listed: dict[str, set[str]] = {}
    for block in tables.split("\n### ")[1:]:
        folder = re.match(r"`tlhelpers/(\w*)/?`", block).group(1)
        listed[folder] = set(re.findall(r"^\| `(\w+)\.py` \|", block, re.M))
    folders: dict[str, set[str]] = {}
    for path in MODULES:
        if path.name != "__init__.py":
            folder = "" if path.parent == PACKAGE else path.parent.name
            folders.setdefault(folder, set()).add(path.stem)
    assert set(listed) == set(folders), f"tables for {sorted(listed)}, folders {sorted(folders)}"
    for folder, modules in folders.items():
        where = f"tlhelpers/{folder}/" if folder else "tlhelpers/"
        assert modules - listed[folder] == set(), f"not in docs/architecture.md's {where} table: {sorted(modules - listed[folder])}"
        assert listed[folder] - modules == set(), f"{where} table lists modules not there: {sorted(listed[folder] - modules)}"


def test_every_subpackage_says_what_it_is_for():
    for init in sorted(PACKAGE.glob("*/__init__.py")):
        doc = ast.get_docstring(ast.parse(source(init))) or ""
        assert doc.startswith("Layer "), f"{init.relative_to(ROOT)}: start the docstring with its layer"
        assert "docs/architecture.md" in doc


def test_the_wheel_carries_every_subpackage():
    """pyproject's package list finds every folder of tlhelpers: Colab installs tlhelpers as a
    wheel from GitHub, where a missing subpackage would break every import."""
    import fnmatch
    import tomllib

    config = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    include = config["tool"]["setuptools"]["packages"]["find"]["include"]   # setuptools' fnmatch patterns
    folders = {".".join(p.parent.relative_to(ROOT).parts) for p in PACKAGE.rglob("__init__.py")}
    left_out = sorted(f for f in folders if not any(fnmatch.fnmatchcase(f, pattern) for pattern in include))
    assert len(folders) > 1 and not left_out, f"pyproject.toml's packages leave out {left_out}"
    missing_init = sorted(str(d.relative_to(ROOT)) for d in PACKAGE.iterdir()
                          if d.is_dir() and d.name != "__pycache__" and not (d / "__init__.py").exists())
    assert not missing_init, f"folders without __init__.py are not packaged: {missing_init}"
