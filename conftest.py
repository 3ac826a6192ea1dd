"""Time and memory of every notebook that nbval executes, with the `ci` budget enforced.

For each notebook: wall time from its first cell to its last, the peak resident
memory of its kernel process (VmHWM, Linux), and the number of lines its cells wrote to
stderr (red in Jupyter; the course aims at none). The table is printed at the end of the run
and written to ``test-artifacts/notebooks-<profile>.md``. In the ``ci`` profile a
notebook that takes more than twice its budget (3 minutes) fails the run.

    TL_PROFILE=cpu python -m pytest notebooks     # the table for another profile
"""

from __future__ import annotations

import os
import time
from pathlib import Path

import pytest

CI_BUDGET_S = 180
_records: dict[str, dict] = {}


def _kernel_peak_mb(nb_file) -> float | None:
    try:
        pid = nb_file.kernel.km.provisioner.process.pid
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    except (AttributeError, OSError, ValueError):
        return None
    return None


def _is_cell(item) -> bool:
    return type(item.parent).__name__ == "IPyNbFile"


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_setup(item):
    if _is_cell(item):
        _records.setdefault(item.parent.nodeid, {"start": time.perf_counter()})
    yield


def _stderr_lines(item) -> int:
    """Lines a cell wrote to stderr (shown in red in Jupyter), from nbval's record of its outputs."""
    outputs = getattr(item, "test_outputs", None) or []
    return sum(len(str(o.get("text", "")).splitlines()) for o in outputs
               if o.get("output_type") == "stream" and o.get("name") == "stderr")


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_teardown(item, nextitem):
    if _is_cell(item):
        record = _records[item.parent.nodeid]
        record["stderr"] = record.get("stderr", 0) + _stderr_lines(item)
        if nextitem is None or nextitem.parent is not item.parent:
            record["seconds"] = time.perf_counter() - record["start"]
            record["peak_mb"] = _kernel_peak_mb(item.parent)
    yield


def _table(profile: str) -> str:
    lines = [f"Notebooks in the `{profile}` profile", "",
             "| notebook | wall time (s) | kernel peak memory (MB) | stderr lines |", "|---|---:|---:|---:|"]
    for name, r in sorted(_records.items()):
        peak = f"{r['peak_mb']:.0f}" if r.get("peak_mb") else "n/a"
        lines.append(f"| {name} | {r.get('seconds', float('nan')):.0f} | {peak} | {r.get('stderr', 0)} |")
    return "\n".join(lines) + "\n"


def pytest_terminal_summary(terminalreporter, exitstatus, config):
    if not _records:
        return
    profile = os.environ.get("TL_PROFILE", "auto")
    text = _table(profile)
    terminalreporter.write_sep("-", "notebook time and memory")
    terminalreporter.write_line(text)
    out = Path(config.rootpath) / "test-artifacts" / f"notebooks-{profile}.md"
    out.parent.mkdir(exist_ok=True)
    out.write_text(text)
    slow = [n for n, r in _records.items() if r.get("seconds", 0) > 2 * CI_BUDGET_S]
    if profile == "ci" and slow:
        terminalreporter.write_line(
            f"FAILED budget: {', '.join(slow)} took more than twice the {CI_BUDGET_S} s budget.",
            red=True)


def pytest_sessionfinish(session, exitstatus):
    slow = [n for n, r in _records.items() if r.get("seconds", 0) > 2 * CI_BUDGET_S]
    if os.environ.get("TL_PROFILE") == "ci" and slow and exitstatus == 0:
        session.exitstatus = 1
