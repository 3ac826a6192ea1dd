"""Execute some course notebooks as a learner's kernel would, and report what they wrote to stderr.

    python .github/scripts/run_notebooks.py 01 03 04 06 --out build/colab-notebooks

Used by ``nox -s colab`` (and so by the ``colab`` job of .github/workflows/tests.yml) with
Colab's versions of Python, TensorFlow, Keras, ipywidgets and numpy. Each notebook runs top
to bottom in a fresh kernel, in the ``ci`` profile unless TL_PROFILE says otherwise, with
``TF_CPP_MIN_LOG_LEVEL`` unset as on a learner's machine; the executed copy goes to ``--out``.
It prints, per notebook: passed or failed, the wall time, and every line written to stderr
(red in Jupyter). The exit status is 1 when a notebook fails or a stderr line is one of
TensorFlow's log lines (the set-up cell must keep those out: tlhelpers/settings/quiet.py).

>>> bool(TF_LOG_LINE.match("2025-06-01 12:00:00.123456: E external/local_xla/x.cc:1] failed call to cuInit"))
True
"""

from __future__ import annotations

import argparse
import os
import re
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
#: A TensorFlow (absl) log line: ``E0000 00:00:17… file.cc:1] …`` or, up to TensorFlow 2.19,
#: ``2025-06-01 12:00:00.123456: E path/file.cc:1] …``.
TF_LOG_LINE = re.compile(r"^(\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\.\d+: [IWEF] |[IWEF]\d{4} \d\d:\d\d:\d\d)")


def find_notebook(name: str, root: Path = ROOT) -> Path:
    """``notebooks/<name>*.ipynb`` for a prefix such as ``03``, or the path given.

    >>> find_notebook("01").name
    '01_what_is_transfer_learning.ipynb'
    """
    if Path(name).is_file():
        return Path(name).resolve()
    found = sorted((root / "notebooks").glob(f"{name}*.ipynb"))
    if len(found) != 1:
        raise SystemExit(f"No single notebook starts with {name!r} in notebooks/ (found {len(found)}); "
                         "give a prefix such as 03 or a path.")
    return found[0]


def stderr_lines(nb) -> list[str]:
    """Every line the executed notebook's code cells wrote to stderr."""
    return [line for cell in nb.cells if cell.cell_type == "code" for out in cell.get("outputs", [])
            if out.get("output_type") == "stream" and out.get("name") == "stderr"
            for line in out.get("text", "").splitlines()]


def run(path: Path, out: Path, timeout: int) -> tuple[str | None, float, list[str]]:
    """Execute one notebook; (error or None, seconds, stderr lines). Writes the executed copy."""
    import nbclient
    import nbformat

    nb = nbformat.read(path, as_version=4)
    start = time.monotonic()
    error = None
    try:
        nbclient.NotebookClient(nb, timeout=timeout, kernel_name="python3",
                                resources={"metadata": {"path": str(path.parent)}}).execute()
    except Exception as err:   # CellExecutionError, timeouts, a dead kernel: all are a failure
        error = f"{type(err).__name__}: {str(err).strip().splitlines()[-1] if str(err).strip() else ''}"
    seconds = time.monotonic() - start
    out.mkdir(parents=True, exist_ok=True)
    nbformat.write(nb, out / path.name)
    return error, seconds, stderr_lines(nb)


def versions() -> dict[str, str]:
    """Installed versions of the packages Colab pins (without importing TensorFlow here)."""
    from importlib.metadata import PackageNotFoundError, version

    found = {}
    for dist in ("tensorflow", "tensorflow-cpu", "keras", "numpy", "ipywidgets"):
        try:
            found[dist] = version(dist)
        except PackageNotFoundError:
            pass
    return found


def main(argv: list[str] | None = None) -> int:
    """Run the notebooks named in ``argv``; 0 when all pass without TensorFlow log lines."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("notebooks", nargs="+", help="prefixes (01 03 ...) or paths")
    parser.add_argument("--out", type=Path, default=ROOT / "build" / "executed-notebooks",
                        help="where the executed copies go (default: build/executed-notebooks)")
    parser.add_argument("--timeout", type=int, default=900, help="seconds per cell (default 900)")
    args = parser.parse_args(argv)
    os.environ.setdefault("TL_PROFILE", "ci")
    for var in ("TF_CPP_MIN_LOG_LEVEL", "PYTEST_CURRENT_TEST"):
        os.environ.pop(var, None)
    print(f"Python {sys.version.split()[0]}, " + ", ".join(f"{d} {v}" for d, v in versions().items())
          + f"; profile {os.environ['TL_PROFILE']}", flush=True)
    status = 0
    for name in args.notebooks:
        path = find_notebook(name)
        error, seconds, lines = run(path, args.out, args.timeout)
        logs = [line for line in lines if TF_LOG_LINE.match(line)]
        status |= bool(error or logs)
        print(f"{path.name}: {'FAILED ' + error if error else 'passed'} in {seconds:.0f} s, "
              f"{len(lines)} stderr line(s), {len(logs)} of them TensorFlow log lines", flush=True)
        for line in lines:
            print(f"    stderr: {line}")
    print(f"Executed copies in {args.out}")
    return status


if __name__ == "__main__":
    sys.exit(main())
