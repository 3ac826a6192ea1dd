"""TensorFlow's start-up noise stays out of the notebooks; other stderr lines still show."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import nbformat
import pytest

from tlhelpers.settings.quiet import keep

ROOT = Path(__file__).resolve().parents[1]
NOISE = [
    "WARNING: All log messages before absl::InitializeLog() is called are written to STDERR",
    "I0000 00:00:1795731442.104622    9805 port.cc:153] oneDNN custom operations are on.",
    "I0000 00:00:1795731442.104977    9805 cudart_stub.cc:31] Could not find cuda drivers",
    "E0000 00:00:1795731442.1 9805 cuda_executor.cc:1228] failed call to cuInit: (303)",
    "W0000 00:00:1795731442.1 9805 gpu_device.cc:2342] Cannot dlopen some GPU libraries.",
    "To enable the following instructions: AVX2 AVX512F FMA, in other operations, rebuild",
    # TensorFlow 2.19 and older (Colab's): a timestamp, then the level letter and the source file
    "2025-06-01 12:00:00.123456: E external/local_xla/xla/stream_executor/cuda/cuda_fft.cc:467] Unable to "
    "register cuFFT factory: Attempting to register factory for plugin cuFFT when one has already been registered",
    "2025-06-01 12:00:00.123456: E external/local_xla/xla/stream_executor/cuda/cuda_dnn.cc:8310] Unable to "
    "register cuDNN factory: Attempting to register factory for plugin cuDNN when one has already been registered",
    "2025-06-01 12:00:00.123456: E external/local_xla/xla/stream_executor/cuda/cuda_blas.cc:1418] Unable to "
    "register cuBLAS factory: Attempting to register factory for plugin cuBLAS when one has already been registered",
    "2025-06-01 12:00:00.123456: E external/local_xla/xla/stream_executor/cuda/cuda_driver.cc:152] failed call "
    "to cuInit: UNKNOWN ERROR (303)",
    "2025-06-01 12:00:00.123456: I tensorflow/core/util/port.cc:153] oneDNN custom operations are on. You may "
    "see slightly different numerical results due to floating-point round-off errors.",
    "2025-06-01 12:00:00.123456: I tensorflow/core/platform/cpu_feature_guard.cc:210] This TensorFlow binary is "
    "optimized to use available CPU instructions in performance-critical operations.",
    "2025-06-01 12:00:00.123456: W tensorflow/compiler/tf2tensorrt/utils/py_utils.cc:38] TF-TRT Warning: "
    "Could not find TensorRT",
    "2025-06-01 12:00:00.123456: I external/local_xla/xla/tsl/cuda/cudart_stub.cc:32] Could not find cuda drivers "
    "on your machine, GPU will not be used.",
    "I tensorflow/core/util/port.cc:153] oneDNN custom operations are on.",
    "E0000 00:00:1748779200.123456    4321 cuda_blas.cc:1407] Unable to register cuBLAS factory: Attempting to "
    "register factory for plugin cuBLAS when one has already been registered",
    "W0000 00:00:1748779200.123456    4321 computation_placer.cc:177] computation placer already registered. "
    "Please check linkage and avoid linking the same target more than once.",
    "E0000 00:00:1748779200.123456    4321 computation_placer.cc:177] computation placer already registered.",
    "2025-06-01 12:00:00.123456: E external/local_xla/xla/service/computation_placer.cc:177] computation placer "
    "already registered. Please check linkage and avoid linking the same target more than once.",
]


def loud(line: str) -> bool:
    """What the issue forbids in a notebook: a line that mentions CUDA or is a TF log line."""
    stamped = re.match(r"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\.\d+: [IWE] ", line)
    return "cuda" in line.lower() or bool(stamped) or line.startswith(("E0000", "W0000", "I0000"))


@pytest.mark.parametrize("line", NOISE)
def test_start_up_noise_is_dropped(line):
    assert not keep(line)


@pytest.mark.parametrize("line", [
    "Traceback (most recent call last):", "ValueError: bad input",
    "E0000 00:00:1.0 1 op_kernel.cc:1] Out of memory",
    "2025-06-01 12:00:00.123456: E tensorflow/core/framework/op_kernel.cc:1857] OP_REQUIRES failed: OOM",
    "2025-06-01 12:00:00.123456: F tensorflow/core/platform/statusor.cc:33] Attempting to fetch value",
    "I think the cuDNN docs are wrong",          # a learner's own print, not a log line
    "2025-06-01 12:00:00 training started",      # a timestamp alone is not TensorFlow's
    "  File \"/usr/lib/python3/dist-packages/tensorflow/python/eager/execute.py\", line 53, in quick_execute",
])
def test_other_lines_are_kept(line):
    assert keep(line)


def test_quiet_stderr_filters_what_c_code_writes_to_descriptor_2():
    code = ("import os\nfrom tlhelpers.settings.quiet import quiet_stderr\n"
            f"noise = {NOISE!r}\n"
            "with quiet_stderr():\n"
            "    os.write(2, ('\\n'.join(noise) + '\\nstill shown\\n').encode())\n"
            "os.write(2, b'after the block\\n')\n")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert done.stderr.splitlines() == ["still shown", "after the block"]


def test_importing_tensorflow_through_tlhelpers_prints_nothing():
    done = subprocess.run([sys.executable, "-c", "import tlhelpers.startup.notebook"],
                          capture_output=True, text=True, check=True)
    assert [line for line in done.stderr.splitlines() if loud(line)] == []


def test_notebook_01_prints_no_tensorflow_log_line(shared_assets, tmp_path):
    """Execute notebook 01 as a learner would; no stderr output may be TensorFlow's noise."""
    nbclient = pytest.importorskip("nbclient")
    nb = nbformat.read(ROOT / "notebooks" / "01_what_is_transfer_learning.ipynb", as_version=4)
    env = {**os.environ, "TL_PROFILE": "ci", "TL_OFFLINE": "1", "TL_ASSETS_DIR": str(shared_assets),
           "MPLBACKEND": "Agg", "KERAS_HOME": str(tmp_path / "keras"),
           "TL_CACHE_DIR": str(tmp_path / "tlcache")}
    env.pop("TF_CPP_MIN_LOG_LEVEL", None)   # as on a learner's machine
    env.pop("PYTEST_CURRENT_TEST", None)    # ipykernel forwards descriptor 2 only outside pytest
    from jupyter_client.manager import KernelManager

    km = KernelManager(kernel_name="python3")
    km.start_kernel(env=env, cwd=str(ROOT / "notebooks"))
    try:
        nbclient.NotebookClient(nb, km=km, timeout=300).execute()
    finally:
        km.shutdown_kernel(now=True)
    stderr = [line for cell in nb.cells if cell.cell_type == "code" for out in cell.outputs
              if out.output_type == "stream" and out.name == "stderr"
              for line in out.text.splitlines()]
    assert [line for line in stderr if loud(line)] == []
