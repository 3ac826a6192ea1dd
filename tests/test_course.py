"""course.py: the launcher a new user runs first (standard library only)."""

import importlib.util
import os
import signal
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
spec = importlib.util.spec_from_file_location("course", ROOT / "course.py")
course = importlib.util.module_from_spec(spec)
spec.loader.exec_module(course)
launcher = course.impl   # tools/course_main.py: what course.py runs once the version is checked


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


PLATFORMS = [  # (platform.system(), platform.machine(), NVIDIA GPU) -> (extra, package)
    (("Linux", "x86_64", False), ("cpu", "tensorflow-cpu")),
    (("Linux", "x86_64", True), ("gpu", "tensorflow")),
    (("Windows", "AMD64", False), ("cpu", "tensorflow-cpu")),
    (("Windows", "AMD64", True), ("cpu", "tensorflow-cpu")),   # no CUDA builds for Windows
    (("Darwin", "arm64", False), ("cpu", "tensorflow")),
    (("Linux", "aarch64", False), ("cpu", "tensorflow")),
]
MARKER_ENV = {"Linux": "linux", "Windows": "win32", "Darwin": "darwin"}


def test_tensorflow_build_per_platform():
    for (system, machine, gpu), expected in PLATFORMS:
        extra, package, why = course.tensorflow_choice(system, machine, gpu)
        assert (extra, package) == expected, (system, machine, gpu)
        assert package in why or "and-cuda" in why


def test_pyproject_extras_pick_the_same_build():
    """The environment markers of the `cpu` extra agree with course.py, platform by platform."""
    from packaging.requirements import Requirement

    extras = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["optional-dependencies"]
    for (system, machine, gpu), (extra, package) in PLATFORMS:
        env = {"sys_platform": MARKER_ENV[system], "platform_machine": machine}
        picked = [r for r in map(Requirement, extras[extra]) if r.marker is None or r.marker.evaluate(env)]
        assert [r.name for r in picked] == [package], (system, machine, gpu, picked)
        if extra == "gpu":
            assert picked[0].extras == {"and-cuda"}


class FakeVenv:
    """ensure_venv with every subprocess recorded instead of run."""

    def __init__(self, monkeypatch, tmp_path, installed=()):
        self.calls: list[list[str]] = []
        venv_dir = tmp_path / ".venv"
        python = venv_dir / "bin" / "python"
        python.parent.mkdir(parents=True)
        python.touch()
        monkeypatch.setattr(launcher, "VENV", venv_dir)
        monkeypatch.setattr(launcher, "STAMP", venv_dir / ".installed-from")
        monkeypatch.setattr(launcher, "venv_python", lambda: python)
        monkeypatch.setattr(launcher, "venv_is_usable", lambda p: True)
        monkeypatch.setattr(launcher, "installed", lambda p: set(installed))
        monkeypatch.setattr(launcher, "tensorflow_choice",
                            lambda: ("cpu", "tensorflow-cpu", "no NVIDIA GPU: tensorflow-cpu"))
        monkeypatch.setattr(launcher.subprocess, "run", lambda cmd, **kw: self.calls.append(cmd))

    def pip_targets(self) -> list[str]:
        return [c[-1] for c in self.calls if "install" in c and "-e" in c]


def test_lab_installs_no_test_tools_and_test_adds_them_once(monkeypatch, tmp_path, capsys):
    fake = FakeVenv(monkeypatch, tmp_path)
    launcher.ensure_venv(with_tests=False)
    assert fake.pip_targets() == [f"{launcher.ROOT}[course,cpu]"]
    assert "TensorFlow: no NVIDIA GPU" in capsys.readouterr().out
    launcher.ensure_venv(with_tests=True)
    assert fake.pip_targets()[-1] == f"{launcher.ROOT}[book,course,cpu,test]"
    before = len(fake.calls)
    launcher.ensure_venv(with_tests=False)   # already has more than `lab` needs
    launcher.ensure_venv(with_tests=True)
    assert len(fake.calls) == before


def test_the_other_tensorflow_build_is_removed_first(monkeypatch, tmp_path):
    fake = FakeVenv(monkeypatch, tmp_path, installed={"tensorflow", "keras"})
    launcher.ensure_venv()
    uninstall = [c for c in fake.calls if "uninstall" in c]
    assert uninstall and uninstall[0][-1] == "tensorflow"
    assert fake.calls.index(uninstall[0]) < fake.calls.index(
        next(c for c in fake.calls if "-e" in c))


def test_an_old_or_damaged_stamp_means_reinstall(monkeypatch, tmp_path):
    fake = FakeVenv(monkeypatch, tmp_path)
    launcher.STAMP.write_text("0123abcd")   # the format before extras were recorded
    launcher.ensure_venv()
    assert fake.pip_targets()


# ---- issue 28, class 12: old interpreters, Ctrl-C, a broken environment ----------------------

def _old_python(version: str) -> str:
    """An interpreter of this old version (on PATH, or one pyenv installed), else skip."""
    import shutil

    found = [str(p) for p in sorted(Path.home().glob(f".pyenv/versions/{version}.*/bin/python"))]
    found += [p for p in [shutil.which(f"python{version}")] if p and "shims" not in p]
    if not found:
        pytest.skip(f"no Python {version} on this machine (the syntax test below still runs)")
    return found[0]


@pytest.mark.parametrize("version", ["2.7", "3.6"])
def test_an_old_python_gets_the_version_sentence_not_a_syntax_error(version, tmp_path):
    done = subprocess.run([_old_python(version), str(ROOT / "course.py"), "setup"], cwd=tmp_path,
                          capture_output=True, text=True, timeout=60)
    assert done.returncode == 1 and "needs Python 3.11, 3.12, 3.13" in done.stderr, done.stderr
    assert "Error" not in done.stderr and "Traceback" not in done.stderr
    assert not (tmp_path / ".venv").exists()


def test_course_py_keeps_to_syntax_that_python_2_7_and_3_0_read():
    """Whatever the interpreters above: no construct newer than Python 3.0 and 2.7 share."""
    import ast

    text = (ROOT / "course.py").read_text(encoding="utf-8")
    assert text.isascii()   # Python 2 refuses non-ASCII source without a coding line
    tree = ast.parse(text, feature_version=(3, 4))
    newer = (ast.JoinedStr, ast.AnnAssign, ast.Starred, ast.NamedExpr, ast.Nonlocal,
             ast.YieldFrom, ast.AsyncFunctionDef, ast.Await, ast.MatchValue)
    for node in ast.walk(tree):
        assert not isinstance(node, newer), ast.dump(node)[:80]
        if isinstance(node, ast.FunctionDef):
            args = node.args
            assert node.returns is None and not args.kwonlyargs and not args.posonlyargs, node.name
            assert all(a.annotation is None for a in args.args), node.name
        if isinstance(node, ast.ImportFrom):
            assert node.module != "__future__"
        if isinstance(node, ast.Call) and getattr(node.func, "id", "") == "print":
            assert not node.keywords, "print(..., file=/end=/flush=) is Python 3 only"


def test_ctrl_c_during_the_install_is_one_line_and_exit_code_130(tmp_path):
    """The real course.py in a copy of the project whose .venv python is a script: when pip is
    asked to install, it sends SIGINT to course.py, as Ctrl-C in the terminal would."""
    if os.name == "nt":
        pytest.skip("the fake interpreter is a shell script")
    for name in ("course.py", "pyproject.toml", "tools/course_main.py"):
        if (ROOT / name).exists():
            (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
            (tmp_path / name).write_bytes((ROOT / name).read_bytes())
    fake = tmp_path / ".venv" / "bin" / "python"
    fake.parent.mkdir(parents=True)
    fake.write_text('#!/bin/sh\ncase "$*" in *"pip install"*) kill -INT "$PPID"; exec sleep 30;; esac\n')
    fake.chmod(0o755)
    # A background job of a non-interactive shell (CI runners often are) starts with SIGINT
    # ignored, and Python then never raises KeyboardInterrupt: give the child the terminal's default.
    done = subprocess.run([sys.executable, str(tmp_path / "course.py"), "setup"], cwd=tmp_path,
                          capture_output=True, text=True, timeout=60,
                          preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL))
    assert done.returncode == 130, done.stderr
    assert done.stderr.strip().splitlines() == [done.stderr.strip()] and "Ctrl-C" in done.stderr


def test_a_broken_environment_is_rebuilt_even_when_its_stamp_matches(monkeypatch, tmp_path, capsys):
    fake = FakeVenv(monkeypatch, tmp_path)
    launcher.ensure_venv()                         # installed: the stamp matches from now on
    python = launcher.venv_python()
    usable = iter([False, True])                   # broken (pyvenv.cfg of random bytes), then rebuilt
    monkeypatch.setattr(launcher, "venv_is_usable", lambda p: next(usable))
    created = []

    class Builder:
        def __init__(self, **kwargs):
            pass

        def create(self, path):
            created.append(path)
            python.parent.mkdir(parents=True)
            python.touch()

    monkeypatch.setattr(launcher.venv, "EnvBuilder", Builder)
    launcher.ensure_venv()
    assert created == [launcher.VENV] and len(fake.pip_targets()) == 2
    assert "is broken" in capsys.readouterr().out


def test_a_pyvenv_cfg_of_random_bytes_makes_an_environment_unusable(tmp_path):
    import random
    import venv

    venv.EnvBuilder(with_pip=False, system_site_packages=True).create(tmp_path / "v")
    python = tmp_path / "v" / ("Scripts/python.exe" if os.name == "nt" else "bin/python")
    if not launcher.venv_is_usable(python):
        pytest.skip("the base Python has no pip for the new environment to see")
    (tmp_path / "v" / "pyvenv.cfg").write_bytes(random.Random(0).randbytes(300))
    assert not launcher.venv_is_usable(python)


def test_the_version_sentence_gives_the_right_reason():
    """Issue 29: TensorFlow has wheels for 3.10, so a 3.10 refusal names the course's own floor;
    only a Python newer than the range is refused for TensorFlow's wheels."""
    old, new = course.check_python((3, 10, 12)), course.check_python((3, 14, 0))
    assert "written for 3.11 and later" in old and "TensorFlow" not in old, old
    assert "TensorFlow has no wheels for Python 3.14.0" in new, new
    assert course.check_python((3, 12, 1)) is None


@pytest.mark.parametrize("uid, expected", [(0, True), (1000, False)])
def test_lab_as_root_adds_allow_root_and_says_so(monkeypatch, capsys, uid, expected):
    """Issue 29: as root (Docker, WSL) Jupyter exits 1 without --allow-root; the launcher adds it."""
    calls = []
    monkeypatch.setattr(course.impl.os, "geteuid", lambda: uid, raising=False)
    monkeypatch.setattr(course.impl, "call_keeping_ctrl_c_for_the_child", lambda cmd: calls.append(cmd) or 0)
    assert course.impl.run_lab(Path("/venv/bin/python"), []) == 0
    assert ("--allow-root" in calls[0]) is expected
    assert ("--allow-root" in capsys.readouterr().out) is expected
