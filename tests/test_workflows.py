"""The GitHub workflows are valid YAML and run the commands the README and noxfile.py name:
``python course.py test`` on the lowest and highest supported Python with the Keras weights
cached, the launch-badge check, notebooks 01/03/04/06 with Colab's versions, the cpu book."""

from __future__ import annotations

import ast
import importlib.util
from pathlib import Path

import nbformat
import pytest

ROOT = Path(__file__).resolve().parents[1]
WORKFLOWS = ROOT / ".github" / "workflows"
yaml = pytest.importorskip("yaml", reason="needs PyYAML (it comes with Jupyter's packages)")


def _load(name: str) -> dict:
    data = yaml.safe_load((WORKFLOWS / name).read_text(encoding="utf-8"))
    data["on"] = data.pop(True, data.get("on"))   # YAML 1.1 reads the key `on` as True
    return data


def _runs(job: dict) -> list[str]:
    return [step.get("run", "") for step in job["steps"]]


def _module(path: Path):
    spec = importlib.util.spec_from_file_location(path.stem, path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _noxfile() -> dict[str, object]:
    """noxfile.py's constants and session names, read without importing nox."""
    tree = ast.parse((ROOT / "noxfile.py").read_text(encoding="utf-8"))
    values = {t.id: ast.literal_eval(node.value) for node in tree.body if isinstance(node, ast.Assign)
              for t in node.targets if isinstance(t, ast.Name) and t.id.isupper()
              and isinstance(node.value, (ast.List, ast.Constant))}
    values["sessions"] = [node.name for node in tree.body if isinstance(node, ast.FunctionDef)
                          and any("session" in ast.unparse(d) for d in node.decorator_list)]
    return values


@pytest.mark.parametrize("path", sorted(WORKFLOWS.glob("*.yml")), ids=lambda p: p.name)
def test_every_workflow_is_valid_yaml_with_triggers_and_jobs(path):
    data = _load(path.name)
    assert data["on"] and data["jobs"], path.name
    for name, job in data["jobs"].items():
        assert "runs-on" in job and "steps" in job, f"{path.name}: job {name}"
        assert all("uses" in step or "run" in step for step in job["steps"]), f"{path.name}: {name}"


def test_tests_run_on_every_push_and_pull_request_with_both_ends_of_supported_python():
    course = _module(ROOT / "course.py")
    data = _load("tests.yml")
    assert {"push", "pull_request"} <= set(data["on"])
    job = data["jobs"]["tests"]
    low, high = course.SUPPORTED_PYTHON
    assert job["strategy"]["matrix"]["python"] == [f"{low[0]}.{low[1]}", f"{high[0]}.{high[1]}"]
    assert job["runs-on"].startswith("ubuntu")
    runs = _runs(job)
    test = runs.index("python course.py test")
    check = next(i for i, run in enumerate(runs) if "-m tlhelpers launch --check" in run)
    assert test < check, "the badge check runs after the tests"
    caches = [s for s in job["steps"] if s.get("uses", "").startswith("actions/cache@")]
    assert caches and caches[0]["with"]["path"] == "~/.keras", "the Keras weights are cached"
    assert job["steps"].index(caches[0]) < test


def test_colab_job_runs_the_nox_session_with_colabs_versions():
    job = _load("tests.yml")["jobs"]["colab"]
    nox = _noxfile()
    setup = next(s for s in job["steps"] if s.get("uses", "").startswith("actions/setup-python@"))
    assert str(setup["with"]["python-version"]) == nox["COLAB_PYTHON"] == "3.12"
    assert any(run.endswith("nox -s colab") for run in _runs(job))
    assert set(nox["COLAB_PINS"]) == {"tensorflow==2.19.*", "keras==3.10.*", "ipywidgets==7.7.1", "numpy==2.0.*"}
    assert nox["COLAB_NOTEBOOKS"] == ["01", "03", "04", "06"]


def test_noxfile_has_the_documented_sessions_and_the_workflow_pythons():
    nox = _noxfile()
    assert {"tests", "colab", "book"} <= set(nox["sessions"])
    assert nox["PYTHONS"] == _load("tests.yml")["jobs"]["tests"]["strategy"]["matrix"]["python"]
    contributing = (ROOT / "CONTRIBUTING.md").read_text(encoding="utf-8")
    assert all(f"nox -s {name}" in contributing for name in ("tests", "colab", "book"))


def test_book_workflow_publishes_the_cpu_book_for_this_repository():
    job = _load("book.yml")["jobs"]["build"]
    build = next(s for s in job["steps"] if s.get("run") == "python course.py book")
    assert build["env"]["TL_PROFILE"] == "cpu"
    assert "GITHUB_REPOSITORY" not in str(job)   # Actions sets it: the book links to this repository
    assert any(s.get("uses", "").startswith("actions/upload-pages-artifact@") for s in job["steps"])


def test_notebook_runner_reports_stderr_and_tensorflow_log_lines(tmp_path):
    runner = _module(ROOT / ".github" / "scripts" / "run_notebooks.py")
    assert runner.find_notebook("01").name == "01_what_is_transfer_learning.ipynb"
    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(outputs=[
        nbformat.v4.new_output("stream", name="stderr", text="a warning\n2025-06-01 12:00:00.1: E x/y.cc:1] z\n"),
        nbformat.v4.new_output("stream", name="stdout", text="fine\n")])])
    lines = runner.stderr_lines(nb)
    assert lines == ["a warning", "2025-06-01 12:00:00.1: E x/y.cc:1] z"]
    assert [bool(runner.TF_LOG_LINE.match(line)) for line in lines] == [False, True]
    with pytest.raises(SystemExit, match="No single notebook starts with '99'"):
        runner.find_notebook("99")
