"""course.py: the launcher a new user runs first (standard library only)."""

import importlib.util
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
spec = importlib.util.spec_from_file_location("course", ROOT / "course.py")
course = importlib.util.module_from_spec(spec)
spec.loader.exec_module(course)


def test_supported_pythons_pass_and_others_get_one_clear_sentence():
    for ok in ((3, 11, 7), (3, 12, 0), (3, 13, 1)):
        assert course.check_python(ok) is None
    for version in ((3, 10, 12), (3, 14, 0), (2, 7, 18)):
        message = course.check_python(version)
        assert "3.11, 3.12, 3.13" in message and ".".join(map(str, version)) in message
        assert "python3.11 course.py" in message


def test_pyproject_states_the_same_range():
    requires = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["requires-python"]
    low, high = course.SUPPORTED_PYTHON
    assert requires == f">={low[0]}.{low[1]},<{high[0]}.{high[1] + 1}"


def test_a_venv_without_pip_is_detected_as_broken(tmp_path):
    import venv

    venv.EnvBuilder(with_pip=False).create(tmp_path / "v")
    python = tmp_path / "v" / ("Scripts/python.exe" if course.os.name == "nt" else "bin/python")
    assert not course.venv_is_usable(python)
    assert not course.venv_is_usable(tmp_path / "missing" / "python")


def test_ctrl_c_reaches_the_child_not_this_script():
    import signal
    import sys

    # The child sends itself SIGINT and reports how it ended; the parent must survive.
    code = "import os, signal; os.kill(os.getpid(), signal.SIGINT)"
    before = signal.getsignal(signal.SIGINT)
    status = course.call_keeping_ctrl_c_for_the_child([sys.executable, "-c", code])
    assert status != 0                                   # the child got the KeyboardInterrupt
    assert signal.getsignal(signal.SIGINT) is before     # the parent's handler is restored
