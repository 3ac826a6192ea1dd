"""Notebook 06 and its augmentation explorer, executed headless with nbclient (the engine of
``jupyter nbconvert --execute``), in the venv's own kernel.

Issue 16: the explorer used to draw with ``with out: display(...)``. nbclient mimics the front
end of an ``Output`` widget by answering each output captured that way with a ``comm_msg`` on
the shell channel, while it waits on that channel for the cell's ``execute_reply``; now and then
it then never noticed the reply, which sat unread in its socket, and waited forever on an idle
kernel. nbval does not mimic Output widgets, so the notebook suite
never saw it. The explorers now set the Output's content from the kernel side
(:func:`tlhelpers.figures.explore.replace_output`).

A hang shows here as a run that misses its hard deadline (``asyncio.wait_for`` around the whole
run). A cell timeout alone would not catch it: when nbclient's wait for the reply times out, it
finds the lost reply and carries on as if nothing happened.

Needs the offline assets (``TL_ASSETS_DIR``, as CI sets it); the kernel runs in the ``ci`` profile,
offline, with widgets on, and with Keras's and the course's caches in a temporary folder unless
``KERAS_HOME`` / ``TL_CACHE_DIR`` are set.
"""

from __future__ import annotations

import asyncio
import json
import os
import sys
import time
from pathlib import Path

import nbformat
import pytest

nbclient = pytest.importorskip("nbclient")
from jupyter_client.manager import AsyncKernelManager  # noqa: E402  (after the importorskip)

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOKS = ROOT / "notebooks"
NB06 = NOTEBOOKS / "06_data_augmentation.ipynb"
NB06_LIMIT_S = 420  # the `ci` budget is 3 minutes a notebook (conftest.py); a hang waits forever
EXPLORER_RUNS = 10
EXPLORER_LIMIT_S = 90  # one run of the minimal notebook; the first one imports TensorFlow

SLIDER_MOVES = [("rotation", 0.3), ("zoom", 0.4), ("flip", False), ("contrast", 0.5),
                ("translation", 0.2), ("brightness", 0.3), ("flip", True), ("rotation", 0.0)]
KERNEL_CHECK = ("import json, sys, ipykernel\n"
                "print(json.dumps({'prefix': sys.prefix, 'ipykernel': ipykernel.__file__}))")


@pytest.fixture
def kernel_env(shared_assets, tmp_path) -> dict:
    """The environment of the kernel: the current one, in the offline `ci` profile, widgets on."""
    env = {**os.environ, "TL_PROFILE": "ci", "TL_OFFLINE": "1", "TL_ASSETS_DIR": str(shared_assets),
           "MPLBACKEND": "Agg", "PYTHONUNBUFFERED": "1"}
    env.pop("TL_WIDGETS", None)  # the explorer's widget path is what is tested
    env.setdefault("KERAS_HOME", str(tmp_path / "keras"))
    env.setdefault("TL_CACHE_DIR", str(tmp_path / "tlcache"))
    return env


def _client(nb, km=None, cell_timeout: int = 600):
    client = nbclient.NotebookClient(nb, km=km, kernel_name="python3", timeout=cell_timeout,
                                     resources={"metadata": {"path": str(NOTEBOOKS)}})
    client.current = (None, time.monotonic())
    client.on_cell_start = lambda cell, cell_index: setattr(client, "current", (cell_index, time.monotonic()))
    return client


async def _run(client, limit_s: float, what: str, **start_kwargs) -> float:
    """Execute the client's notebook; fail, naming the stuck cell, if it takes over ``limit_s``."""
    start = time.monotonic()
    task = asyncio.ensure_future(client.async_execute(**start_kwargs))
    done, _ = await asyncio.wait({task}, timeout=limit_s)
    if not done:
        index, since = client.current
        stuck = time.monotonic() - since
        task.cancel()  # nbclient turns the cancellation into DeadKernelError; the hang is the news
        await asyncio.gather(task, return_exceptions=True)
        source = client.nb.cells[index].source if index is not None else "(before the first cell)"
        pytest.fail(f"{what} hung: not done after {limit_s:.0f}s; cell {index} had been running for "
                    f"{stuck:.0f}s:\n{source}")
    task.result()  # a cell's error, if any
    return time.monotonic() - start


def _check_kernel(cell) -> None:
    """The kernel nbclient started is this venv's Python, with this venv's ipykernel."""
    info = json.loads("".join(o.get("text", "") for o in cell.outputs if o.output_type == "stream"))
    assert Path(info["prefix"]).resolve() == Path(sys.prefix).resolve(), info
    assert Path(info["ipykernel"]).resolve().is_relative_to(Path(sys.prefix).resolve()), info


def _explorer_notebook():
    cells = [
        KERNEL_CHECK,
        "import numpy as np\nfrom tlhelpers.transfer import augment\nfrom tlhelpers.figures import augment_explorer\n"
        "image = np.random.default_rng(0).uniform(0, 255, (32, 32, 3)).astype('float32')",
        "box = augment_explorer.augmentation_explorer(image, n=4, ncols=4)\nbox",
        "controls = dict(zip(augment.DEFAULT_STRENGTHS, box.children[0].children[0].children))",
        # what a learner's slider moves do, from the kernel; each one redraws the grid, and a
        # cell that ends with an output captured by the Output widget is where a client hung
        *(f"controls[{name!r}].value = {value!r}" for name, value in SLIDER_MOVES),
        "grid = box.children[-1].outputs\n"
        "assert len(grid) == 1 and 'image/png' in grid[0]['data'], grid\nprint('explorer ok')",
    ]
    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(c) for c in cells])
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    return nb


def test_explorer_notebook_runs_ten_times_in_a_row(kernel_env):
    """The minimal explorer notebook, 10 times in one kernel, each run a fresh client with a deadline."""
    runs: list[float] = []
    last = None

    async def main():
        nonlocal last
        km = AsyncKernelManager(kernel_name="python3")
        await km.start_kernel(env=kernel_env, cwd=str(NOTEBOOKS))
        try:
            for i in range(EXPLORER_RUNS):
                last = _explorer_notebook()
                client = _client(last, km=km, cell_timeout=EXPLORER_LIMIT_S)
                try:
                    runs.append(await _run(client, EXPLORER_LIMIT_S, f"explorer run {i + 1} of {EXPLORER_RUNS}"))
                finally:
                    if client.kc is not None:  # the kernel is ours: nbclient leaves its client open
                        client.kc.stop_channels()
        finally:
            await km.shutdown_kernel(now=True)

    asyncio.run(main())
    print("explorer runs (s):", ", ".join(f"{t:.1f}" for t in runs))
    assert len(runs) == EXPLORER_RUNS
    _check_kernel(last.cells[0])
    shown = [o for o in last.cells[2].outputs if o.output_type in ("display_data", "execute_result")]
    assert shown and "application/vnd.jupyter.widget-view+json" in shown[0].data
    assert "image/png" in shown[0].data  # the static grid, for pages without widgets
    assert "explorer ok" in "".join(o.get("text", "") for o in last.cells[-1].outputs)


def test_notebook_06_completes_under_nbclient(kernel_env):
    nb = nbformat.read(NB06, as_version=4)
    nb.cells.insert(0, nbformat.v4.new_code_cell(KERNEL_CHECK))
    client = _client(nb, cell_timeout=NB06_LIMIT_S)
    seconds = asyncio.run(_run(client, NB06_LIMIT_S, NB06.name, env=kernel_env, cwd=str(NOTEBOOKS)))
    print(f"{NB06.name} under nbclient: {seconds:.1f}s")
    _check_kernel(nb.cells[0])
    errors = [o for c in nb.cells if c.cell_type == "code" for o in c.outputs if o.output_type == "error"]
    assert not errors, errors
    explorer = next(c for c in nb.cells if "augmentation_explorer(" in c.source)
    shown = [o for o in explorer.outputs if o.output_type in ("display_data", "execute_result")]
    assert shown and "image/png" in shown[0].data, "the explorer's cell shows no grid"
