"""Keep TensorFlow's start-up log lines out of the notebooks; let every other line through.

While it is imported (and when it first looks for a GPU), TensorFlow writes lines such as
``I0000 … cudart_stub.cc:31] Could not find cuda drivers`` straight to the process's
standard error, file descriptor 2, before its own logging is set up, so
``TF_CPP_MIN_LOG_LEVEL`` cannot silence them. In Jupyter they become a learner's first,
red, output. :func:`quiet_stderr` collects what is written to descriptor 2 inside a
block and writes back only the lines that are not this start-up noise.

>>> import_tensorflow().__name__
'tensorflow'
"""

from __future__ import annotations

import contextlib
import os
import re
import sys
import tempfile
from typing import Iterator

#: What GPU start-up errors on a machine without a (usable) GPU mention: CUDA and its
#: libraries registering twice or failing to start, TensorRT, XLA's computation placer.
GPU_NOISE = r".*(cuda|CUDA|cuInit|cuFFT|cuDNN|cuBLAS|TensorRT|computation placer already registered)"
#: The timestamp TensorFlow 2.19 and older put before a log line: ``2025-06-01 12:00:00.123456: ``.
STAMP = r"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d(\.\d+)?: "
#: Start-up noise: absl's note about early messages; info and warning lines, in absl's form
#: (I0000 …, W0000 …) and in the timestamped form (``… I tensorflow/core/util/port.cc:153] …``);
#: error lines about CUDA, its libraries or TensorRT being absent on a CPU machine, in both
#: forms; and the CPU-instructions note. Other error lines (out of memory, …) are kept.
NOISE = re.compile(
    r"^(WARNING: All log messages before absl::InitializeLog\(\) is called"
    r"|[IW]\d{4} \d\d:\d\d:\d\d"
    rf"|({STAMP})?[IW] (tensorflow|external|third_party|xla)/\S+:\d+\] "
    rf"|E\d{{4}} {GPU_NOISE}"
    rf"|{STAMP}E {GPU_NOISE}"
    r"|To enable the following instructions:)"
)


def keep(line: str) -> bool:
    """True for a line worth showing, False for start-up noise.

    >>> keep("I0000 00:00:1795731442.104977 9805 cudart_stub.cc:31] Could not find cuda drivers")
    False
    >>> keep("Traceback (most recent call last):")
    True
    """
    return not NOISE.match(line)


@contextlib.contextmanager
def quiet_stderr() -> Iterator[None]:
    """Inside the block, descriptor 2 goes to a file; afterwards the lines to :func:`keep` go back.

    >>> with quiet_stderr():
    ...     print("standard output is untouched")
    standard output is untouched
    """
    try:
        sys.stderr.flush()
        saved = os.dup(2)
    except (OSError, ValueError):   # no descriptor 2 (some embedded interpreters)
        yield
        return
    with tempfile.TemporaryFile() as captured:
        os.dup2(captured.fileno(), 2)
        try:
            yield
        finally:
            with contextlib.suppress(OSError, ValueError):
                sys.stderr.flush()
            os.dup2(saved, 2)
            os.close(saved)
            captured.seek(0)
            lines = captured.read().decode("utf-8", errors="replace").splitlines()
            shown = [line for line in lines if keep(line)]
            if shown:
                sys.stderr.write("\n".join(shown) + "\n")


def import_tensorflow():
    """``import tensorflow`` and its first look for devices, without their noise; returns the module.

    The device search (a CUDA error line on a CPU machine with the GPU build) would
    otherwise happen, loudly, when the first model is built.
    """
    with quiet_stderr():
        import tensorflow

        tensorflow.config.list_physical_devices()
    return tensorflow
