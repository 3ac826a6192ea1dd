"""Set up and run the course with one command, on Linux, macOS and Windows.

    python course.py lab     # create .venv if needed, then open JupyterLab on notebooks/
    python course.py test    # create .venv if needed, then run every test and notebook

Only the Python standard library is used here, so any Python 3.11 can run it.
The virtual environment is (re)installed when pyproject.toml changes.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import signal
import subprocess
import sys
import venv
from pathlib import Path

ROOT = Path(__file__).resolve().parent
VENV = ROOT / ".venv"
STAMP = VENV / ".installed-from"


def venv_python() -> Path:
    """The interpreter inside .venv (Scripts\\python.exe on Windows)."""
    sub = "Scripts/python.exe" if os.name == "nt" else "bin/python"
    return VENV / sub


#: Python versions that can run the course: tested on 3.11; TensorFlow 2.21 publishes wheels
#: for 3.10 to 3.13 and none for 3.14 (checked with pip, November 2026). Keep in step with
#: requires-python in pyproject.toml (tests/test_course.py checks it).
SUPPORTED_PYTHON = ((3, 11), (3, 13))


def check_python(version: tuple = tuple(sys.version_info[:3])) -> str | None:
    """None when this Python can run the course, else one sentence saying what to do."""
    (low_major, low), (_, high) = SUPPORTED_PYTHON
    if (low_major, low) <= tuple(version[:2]) <= (low_major, high):
        return None
    this = ".".join(str(part) for part in version[:3])
    names = ", ".join(f"3.{minor}" for minor in range(low, high + 1))
    return (f"The course needs Python {names} (TensorFlow, which it uses, has no wheels for "
            f"Python {this}, the one running this script). Install one of those (python.org, "
            f"or 'conda create -n tl python=3.{low}') and run 'python3.{low} course.py ...' with it.")


def ensure_venv() -> Path:
    """Create .venv and install the course into it unless it is already up to date."""
    problem = check_python()
    if problem:
        sys.exit(problem)
    wanted = hashlib.sha256((ROOT / "pyproject.toml").read_bytes()).hexdigest()
    python = venv_python()
    if python.exists() and STAMP.exists() and STAMP.read_text().strip() == wanted:
        return python
    if python.exists() and not venv_is_usable(python):
        print(f"The virtual environment in {VENV} is incomplete (no working pip: an interrupted "
              "install?); rebuilding it.", flush=True)
        shutil.rmtree(VENV)
    if not python.exists():
        print(f"Creating a virtual environment in {VENV} ...", flush=True)
        try:
            venv.EnvBuilder(with_pip=True).create(VENV)
        except (subprocess.CalledProcessError, OSError) as err:
            shutil.rmtree(VENV, ignore_errors=True)
            sys.exit(f"Could not create {VENV} ({err}). On Debian and Ubuntu, install the venv "
                     "module first ('sudo apt install python3-venv'), then run this command again.")
    print("Installing the course and its dependencies (a few minutes the first time; "
          "TensorFlow alone is a few hundred MB) ...", flush=True)
    subprocess.run([str(python), "-m", "pip", "install", "--quiet", "--upgrade", "pip"], check=True)
    subprocess.run([str(python), "-m", "pip", "install", "--progress-bar", "on", "-e", f"{ROOT}[dev]"],
                   check=True)
    STAMP.write_text(wanted)
    return python


def venv_is_usable(python: Path) -> bool:
    """True when the environment's interpreter runs and has pip."""
    try:
        result = subprocess.run([str(python), "-m", "pip", "--version"], capture_output=True, timeout=120)
    except (OSError, subprocess.TimeoutExpired):
        return False
    return result.returncode == 0


def call_keeping_ctrl_c_for_the_child(command: list[str], **kwargs) -> int:
    """Run ``command``; Ctrl-C goes to it alone (JupyterLab then asks its own shutdown
    question) instead of stopping this script with a traceback. A Python handler, not
    SIG_IGN: an ignored signal would stay ignored in the child too."""
    previous = signal.signal(signal.SIGINT, lambda signum, frame: None)
    try:
        return subprocess.call(command, **kwargs)
    finally:
        signal.signal(signal.SIGINT, previous)


def run_lab(python: Path, extra: list[str]) -> int:
    """Start JupyterLab on the notebooks folder."""
    return call_keeping_ctrl_c_for_the_child([str(python), "-m", "jupyter", "lab", str(ROOT / "notebooks"), *extra])


def run_tests(python: Path, extra: list[str]) -> int:
    """Unit tests and every notebook (nbval), in the small `ci` profile unless TL_PROFILE is set."""
    env = dict(os.environ)
    env.setdefault("TL_PROFILE", "ci")
    env.setdefault("MPLBACKEND", "Agg")
    print(f"Running tests with TL_PROFILE={env['TL_PROFILE']} ...", flush=True)
    code = subprocess.call([str(python), "-m", "pytest", *extra], cwd=ROOT, env=env)
    if code == 5:
        print("pytest collected no tests: that is a failure, not a pass.")
        return 1
    return code


def main(argv: list[str]) -> int:
    if not argv or argv[0] not in ("lab", "test", "setup"):
        print(__doc__)
        return 2
    python = ensure_venv()
    if argv[0] == "lab":
        return run_lab(python, argv[1:])
    if argv[0] == "test":
        return run_tests(python, argv[1:])
    print(f"Ready: {python}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
