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
    """course.ensure_venv with every subprocess recorded instead of run."""

    def __init__(self, monkeypatch, tmp_path, installed=()):
        self.calls: list[list[str]] = []
        venv_dir = tmp_path / ".venv"
        python = venv_dir / "bin" / "python"
        python.parent.mkdir(parents=True)
        python.touch()
        monkeypatch.setattr(course, "VENV", venv_dir)
        monkeypatch.setattr(course, "STAMP", venv_dir / ".installed-from")
        monkeypatch.setattr(course, "venv_python", lambda: python)
        monkeypatch.setattr(course, "venv_is_usable", lambda p: True)
        monkeypatch.setattr(course, "installed", lambda p: set(installed))
        monkeypatch.setattr(course, "tensorflow_choice",
                            lambda: ("cpu", "tensorflow-cpu", "no NVIDIA GPU: tensorflow-cpu"))
        monkeypatch.setattr(course.subprocess, "run", lambda cmd, **kw: self.calls.append(cmd))

    def pip_targets(self) -> list[str]:
        return [c[-1] for c in self.calls if "install" in c and "-e" in c]


def test_lab_installs_no_test_tools_and_test_adds_them_once(monkeypatch, tmp_path, capsys):
    fake = FakeVenv(monkeypatch, tmp_path)
    course.ensure_venv(with_tests=False)
    assert fake.pip_targets() == [f"{course.ROOT}[course,cpu]"]
    assert "TensorFlow: no NVIDIA GPU" in capsys.readouterr().out
    course.ensure_venv(with_tests=True)
    assert fake.pip_targets()[-1] == f"{course.ROOT}[book,course,cpu,test]"
    before = len(fake.calls)
    course.ensure_venv(with_tests=False)   # already has more than `lab` needs
    course.ensure_venv(with_tests=True)
    assert len(fake.calls) == before


def test_the_other_tensorflow_build_is_removed_first(monkeypatch, tmp_path):
    fake = FakeVenv(monkeypatch, tmp_path, installed={"tensorflow", "keras"})
    course.ensure_venv()
    uninstall = [c for c in fake.calls if "uninstall" in c]
    assert uninstall and uninstall[0][-1] == "tensorflow"
    assert fake.calls.index(uninstall[0]) < fake.calls.index(
        next(c for c in fake.calls if "-e" in c))


def test_an_old_or_damaged_stamp_means_reinstall(monkeypatch, tmp_path):
    fake = FakeVenv(monkeypatch, tmp_path)
    course.STAMP.write_text("0123abcd")   # the format before extras were recorded
    course.ensure_venv()
    assert fake.pip_targets()
