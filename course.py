"""Set up and run the course with one command, on Linux, macOS and Windows.

    python course.py lab     # create .venv if needed, then open JupyterLab on notebooks/
    python course.py test    # create .venv if needed, then run every test and notebook
    python course.py book    # build the course as a static website (build/book/html)
    python course.py setup   # only create or update .venv

Each installs the versions the course was measured with (constraints.txt); add --no-pins
(or set TL_NO_PINS=1) for the newest versions that pyproject.toml allows.

TensorFlow comes as tensorflow-cpu on Linux x86-64 and Windows machines without an NVIDIA
GPU, as tensorflow[and-cuda] on Linux with one (found with nvidia-smi), and as tensorflow
elsewhere; the script says which it chose.

Only the Python standard library is used. This file checks the Python version before
anything else and is written so that any Python, 2.7 included, can read it and print that
sentence; the rest is in tools/course_main.py. The virtual environment is (re)installed
when pyproject.toml changes, and rebuilt when it is broken.
"""

import os
import subprocess
import sys

#: Python versions that can run the course: tested on 3.11; TensorFlow 2.21 publishes wheels
#: for 3.10 to 3.13 and none for 3.14 (checked with pip, November 2026). Keep in step with
#: requires-python in pyproject.toml (tests/test_course.py checks it).
SUPPORTED_PYTHON = ((3, 11), (3, 13))
COMMANDS = ("lab", "test", "setup", "book")
HERE = os.path.dirname(os.path.abspath(__file__))

# Keep this file to the syntax of Python 2.7 and 3.0 (no f-strings, annotations, keyword-only
# arguments or print(..., file=...)), and ASCII: tests/test_course.py checks it.


def check_python(version=None):
    """None when this Python can run the course, else one sentence saying what to do.

    >>> check_python((3, 11, 7)) is None
    True
    """
    version = tuple(sys.version_info[:3]) if version is None else tuple(version)
    (low_major, low), (_, high) = SUPPORTED_PYTHON
    if (low_major, low) <= version[:2] <= (low_major, high):
        return None
    this = ".".join([str(part) for part in version[:3]])
    names = ", ".join(["3.%d" % minor for minor in range(low, high + 1)])
    if version[:2] > (low_major, high):
        why = "TensorFlow has no wheels for Python %s, the one running this script" % this
    else:
        why = "its code and tests are written for %s and later; this script runs on Python %s" % (
            "%d.%d" % (low_major, low), this)
    return ("The course needs Python %s (%s). Install one of those (python.org, or 'conda create "
            "-n tl python=3.%d') and run 'python3.%d course.py ...' with it." % (names, why, low, low))


def _load_implementation():
    """tools/course_main.py, as a module (it needs Python 3.11 or later)."""
    import importlib.util

    path = os.path.join(HERE, "tools", "course_main.py")
    spec = importlib.util.spec_from_file_location("course_main", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


#: The launcher itself (ensure_venv, run_tests, assemble_book, ...), or None on an old Python.
impl = _load_implementation() if check_python() is None else None


def __getattr__(name):
    """``course.ensure_venv`` and the rest: the names of :data:`impl` (Python 3.7+ asks here)."""
    if impl is None or name.startswith("__"):
        raise AttributeError(name)
    return getattr(impl, name)


def main(argv):
    """Check the Python version, then run one command; Ctrl-C ends it with one line and 130.

    >>> main([])  # doctest: +SKIP
    2
    """
    problem = check_python()
    if problem:
        sys.stderr.write(problem + "\n")
        return 1
    if not argv or argv[0] not in COMMANDS:
        sys.stdout.write(__doc__ + "\n")
        return 2
    try:
        return impl.main(argv)
    except KeyboardInterrupt:
        sys.stderr.write("\nStopped by Ctrl-C. Run 'python course.py %s' again when you want: an "
                         "unfinished install is completed then.\n" % argv[0])
        return 130
    except subprocess.CalledProcessError as err:
        sys.stderr.write("\n'%s' stopped with exit code %s (its message is above). Fix what it says "
                         "(often the network), then run 'python course.py %s' again.\n"
                         % (" ".join(err.cmd[-3:]), err.returncode, argv[0]))
        return 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
