"""What ``python course.py ...`` does once course.py has checked the Python version.

course.py itself stays readable by any Python (2.7 included), so that an old interpreter
prints its one-sentence "needs Python 3.11-3.13" instead of a SyntaxError; everything else
lives here, with the standard library only.

>>> tensorflow_choice("Linux", "x86_64", gpu=False)[0]
'cpu'
"""

from __future__ import annotations

import hashlib
import json
import os
import platform
import shutil
import signal
import subprocess
import sys
import time
import venv
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
VENV = ROOT / ".venv"
STAMP = VENV / ".installed-from"
COMMANDS = ("lab", "test", "setup", "book")


def venv_python() -> Path:
    """The interpreter inside .venv (Scripts\\python.exe on Windows)."""
    sub = "Scripts/python.exe" if os.name == "nt" else "bin/python"
    return VENV / sub


def has_nvidia_gpu() -> bool:
    """True when ``nvidia-smi`` is installed and lists at least one GPU."""
    if shutil.which("nvidia-smi") is None:
        return False
    try:
        found = subprocess.run(["nvidia-smi", "-L"], capture_output=True, text=True, timeout=30)
    except (OSError, subprocess.TimeoutExpired):
        return False
    return found.returncode == 0 and "GPU" in found.stdout


def tensorflow_choice(system: str | None = None, machine: str | None = None,
                      gpu: bool | None = None) -> tuple[str, str, str]:
    """(extra, pip package, one sentence why): which TensorFlow build this machine gets.

    >>> tensorflow_choice("Linux", "x86_64", gpu=False)[:2]
    ('cpu', 'tensorflow-cpu')
    """
    system = system or platform.system()
    machine = (machine or platform.machine()).lower()
    if system == "Linux" and (has_nvidia_gpu() if gpu is None else gpu):
        return "gpu", "tensorflow", "an NVIDIA GPU was found (nvidia-smi): installing tensorflow[and-cuda]"
    if (system == "Linux" and machine in ("x86_64", "amd64")) or system == "Windows":
        return "cpu", "tensorflow-cpu", ("no NVIDIA GPU: installing the CPU-only build, tensorflow-cpu "
                                         "(half the download, no CUDA messages)")
    return "cpu", "tensorflow", (f"installing tensorflow (tensorflow-cpu has no wheels for {system} "
                                 f"{machine}; this build runs on the CPU)")


def ensure_venv(with_tests: bool = False, with_book: bool = False, pins: bool = True) -> Path:
    """Create .venv and install the course into it unless it is already up to date.

    With ``pins`` (the default) pip installs the versions of constraints.txt, the ones the
    course was measured with; without, the newest that pyproject.toml allows. The stamp
    records the hash of pyproject.toml (and of the pins) and the extras installed; a later
    call that needs no more than those does nothing.
    """
    extra, package, why = tensorflow_choice()
    extras = {"course", extra}
    if with_tests:
        extras |= {"test", "book"}   # tests/test_book.py builds the book
    if with_book:
        extras.add("book")
    constraints = ROOT / "constraints.txt"
    pinned = pins and constraints.is_file()
    recipe = (ROOT / "pyproject.toml").read_bytes() + (constraints.read_bytes() if pinned else b"unpinned")
    wanted = hashlib.sha256(recipe).hexdigest()
    python = venv_python()
    if VENV.exists() and not venv_is_usable(python):
        # checked before trusting the stamp: a damaged pyvenv.cfg leaves a python that cannot start
        print(f"The virtual environment in {VENV} is broken (its python does not start as a "
              "virtual environment with pip: an interrupted install or a damaged pyvenv.cfg?); "
              "rebuilding it.", flush=True)
        shutil.rmtree(VENV)
    stamp = read_stamp()
    if python.exists() and stamp.get("pyproject") == wanted and extras <= set(stamp.get("extras", [])):
        return python
    if not python.exists():
        create_venv(python)
    print(f"TensorFlow: {why}.", flush=True)
    other = {"tensorflow", "tensorflow-cpu"} - {package}
    if installed(python) & other:   # two builds in one environment overwrite each other's files
        print(f"Removing {', '.join(sorted(other))} first (it is the other TensorFlow build).", flush=True)
        subprocess.run([str(python), "-m", "pip", "uninstall", "--yes", *sorted(other)], check=True)
    print("Installing the course and its dependencies (a few minutes the first time; "
          "TensorFlow alone is a few hundred MB) ...", flush=True)
    subprocess.run([str(python), "-m", "pip", "install", "--quiet", "--upgrade", "pip"], check=True)
    target = f"{ROOT}[{','.join(sorted(extras))}]"
    print("Versions: " + ("the pinned ones of constraints.txt (--no-pins for the newest)" if pinned
                          else "the newest that pyproject.toml allows (no pins)") + ".", flush=True)
    pin_args = ["-c", str(constraints)] if pinned else []
    subprocess.run([str(python), "-m", "pip", "install", "--progress-bar", "on", *pin_args, "-e", target],
                   check=True)
    STAMP.write_text(json.dumps({"pyproject": wanted, "extras": sorted(extras)}))
    return python


def read_stamp() -> dict:
    """What the last install recorded; {} when there is none or it is unreadable."""
    try:
        stamp = json.loads(STAMP.read_text())
    except (OSError, ValueError):
        return {}
    return stamp if isinstance(stamp, dict) else {}


def installed(python: Path) -> set[str]:
    """Names of the distributions installed in the environment of ``python``."""
    done = subprocess.run([str(python), "-m", "pip", "list", "--format=json"],
                          capture_output=True, text=True)
    try:
        return {item["name"].lower() for item in json.loads(done.stdout)}
    except (ValueError, KeyError, TypeError):
        return set()


def venv_is_usable(python: Path) -> bool:
    """True when the environment's interpreter starts, runs as a virtual environment (its
    pyvenv.cfg was read) and has pip."""
    check = "import sys, pip; sys.exit(0 if sys.prefix != sys.base_prefix else 3)"
    try:
        result = subprocess.run([str(python), "-c", check], capture_output=True, timeout=120)
    except (OSError, subprocess.TimeoutExpired):
        return False
    return result.returncode == 0


def create_venv(python: Path) -> None:
    """Create .venv with pip; exit with one sentence when that fails or its python does not run."""
    print(f"Creating a virtual environment in {VENV} ...", flush=True)
    try:
        venv.EnvBuilder(with_pip=True).create(VENV)
    except (subprocess.CalledProcessError, OSError) as err:
        shutil.rmtree(VENV, ignore_errors=True)
        sys.exit(f"Could not create {VENV} ({err}). On Debian and Ubuntu, install the venv "
                 "module first ('sudo apt install python3-venv'), then run this command again.")
    if not venv_is_usable(python):
        shutil.rmtree(VENV, ignore_errors=True)
        sys.exit(f"The new virtual environment in {VENV} does not work ({python} does not start "
                 f"with pip). Check the Python running this script ({sys.executable}), or use "
                 "another Python 3.11-3.13, then run this command again.")


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
    """Start JupyterLab on the notebooks folder.

    As root (a Docker container, WSL), Jupyter refuses to start without ``--allow-root``;
    the launcher adds it and says so, instead of exiting with Jupyter's message.
    """
    if getattr(os, "geteuid", lambda: 1)() == 0 and "--allow-root" not in extra:
        print("Running as root (a container or WSL?): starting JupyterLab with --allow-root. "
              "As a normal user this is not needed.", flush=True)
        extra = [*extra, "--allow-root"]
    return call_keeping_ctrl_c_for_the_child([str(python), "-m", "jupyter", "lab", str(ROOT / "notebooks"), *extra])


BOOK_SOURCE = ROOT / "build" / "book-src"
BOOK_HTML = ROOT / "build" / "book" / "html"


def assemble_book(dest: Path = BOOK_SOURCE) -> list[str]:
    """Copy what the book shows into ``dest``: README.md as index.md (plus the table of
    contents), notebooks/, docs/ and book/conf.py. Returns the page names, in order."""
    if dest.exists():
        shutil.rmtree(dest)
    dest.mkdir(parents=True)
    shutil.copy(ROOT / "book" / "conf.py", dest / "conf.py")
    skip = shutil.ignore_patterns(".ipynb_checkpoints", "benchmarks")
    shutil.copytree(ROOT / "notebooks", dest / "notebooks", ignore=skip)
    shutil.copytree(ROOT / "docs", dest / "docs", ignore=skip)
    notebooks = [p.relative_to(dest).with_suffix("").as_posix()
                 for p in sorted((dest / "notebooks").glob("*.ipynb"))
                 + sorted((dest / "notebooks" / "solutions").glob("*.ipynb"))]
    guides = [p.relative_to(dest).with_suffix("").as_posix() for p in sorted((dest / "docs").glob("*.md"))]
    toc = "".join(f"\n\n```{{toctree}}\n:caption: {caption}\n:maxdepth: 1\n\n" + "\n".join(pages) + "\n```"
                  for caption, pages in (("Notebooks", notebooks), ("Guides", guides)))
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    (dest / "index.md").write_text(readme + "\n## Contents" + toc + "\n", encoding="utf-8")
    return notebooks + guides


def run_book(python: Path, extra: list[str]) -> int:
    """Build the static HTML book: every notebook executed, offline, into build/book/html."""
    env = dict(os.environ)
    env.setdefault("TL_PROFILE", "cpu")
    env.setdefault("TL_BACKBONE", "mobilenet_025")   # the weights that exist offline
    env.setdefault("TL_WIDGETS", "0")                # static figures: a web page has no kernel
    env.setdefault("MPLBACKEND", "Agg")
    pages = assemble_book()
    print(f"Building the book ({len(pages)} pages) in the {env['TL_PROFILE']} profile with "
          f"{env['TL_BACKBONE']}: every notebook is executed, so this takes minutes ...", flush=True)
    start = time.monotonic()
    code = call_keeping_ctrl_c_for_the_child(
        [str(python), "-m", "sphinx", "-b", "html", "-q", str(BOOK_SOURCE), str(BOOK_HTML), *extra],
        env=env)
    if code == 0:
        size = sum(p.stat().st_size for p in BOOK_HTML.rglob("*") if p.is_file()) / 2**20
        print(f"Book ready in {time.monotonic() - start:.0f} s ({size:.0f} MB): "
              f"{BOOK_HTML / 'index.html'}")
    return code


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
    """Run one of :data:`COMMANDS` (course.py has checked the Python version and the command).

    >>> main(["setup"])  # doctest: +SKIP
    0
    """
    pins = "--no-pins" not in argv and os.environ.get("TL_NO_PINS", "").strip().lower() not in ("1", "true", "yes")
    argv = [arg for arg in argv if arg != "--no-pins"]
    python = ensure_venv(with_tests=argv[0] == "test", with_book=argv[0] == "book", pins=pins)
    if argv[0] == "lab":
        return run_lab(python, argv[1:])
    if argv[0] == "book":
        return run_book(python, argv[1:])
    if argv[0] == "test":
        return run_tests(python, argv[1:])
    print(f"Ready: {python}")
    return 0
