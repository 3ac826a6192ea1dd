"""The set-up every notebook runs first: seed, profile, versions.

>>> from tlhelpers.startup.notebook import start
>>> profile = start(seed=42, profile="ci")   # doctest: +SKIP
profile        : ci
...
"""

from __future__ import annotations

import logging
import platform
import sys
import warnings
from pathlib import Path
from typing import Mapping

from tlhelpers.settings.config import Profile, get_profile, settings
from tlhelpers.settings.registry import NATIVE_WEIGHTS_WARNING
from tlhelpers.settings.quiet import import_tensorflow


def return_freed_memory() -> bool:
    """Make the C library hand large freed blocks (128 KiB and more) back to the system at once.

    glibc's ``malloc`` raises its threshold for serving large blocks from ``mmap`` as a
    program frees them, so after a few training runs freed tensors stay in the process and
    its resident memory only grows. A fixed threshold (``mallopt(M_MMAP_THRESHOLD)``) keeps
    large blocks mmapped, and ``free`` returns them. Measured on notebook 04 (``ci``): peak
    1,185 -> 1,167 MB, same run time (docs/performance.md). Linux with glibc only; elsewhere
    (macOS, Windows, musl) it does nothing and returns False.

    >>> isinstance(return_freed_memory(), bool)
    True
    """
    if not sys.platform.startswith("linux"):
        return False
    import ctypes

    try:
        libc = ctypes.CDLL("libc.so.6")
        return bool(libc.mallopt(-3, 128 * 1024))   # -3: M_MMAP_THRESHOLD
    except (OSError, AttributeError):
        return False


# Every notebook imports this module first: large freed blocks go back to the system, and
# TensorFlow is imported here, once, quietly.
return_freed_memory()
import_tensorflow()

#: Peak memory of one notebook kernel per profile, in MB: the measured peaks of
#: docs/performance.md ("Every notebook, per profile"), rounded up.
NEEDED_MB = {"cpu": 1650, "full": 2000, "ci": 1300}

#: Where Linux exposes this container's cgroup memory limit (v2, or v1 under memory/).
CGROUP_DIR = Path("/sys/fs/cgroup")


def in_colab() -> bool:
    """True inside Google Colab."""
    return "google.colab" in sys.modules or settings().colab


def versions() -> dict[str, str]:
    """Versions of the libraries the course depends on."""
    import keras
    import matplotlib
    import numpy
    import sklearn
    import tensorflow as tf

    return {
        "python": platform.python_version(),
        "tensorflow": tf.__version__,
        "keras": keras.__version__,
        "numpy": numpy.__version__,
        "scikit-learn": sklearn.__version__,
        "matplotlib": matplotlib.__version__,
    }


#: cgroup v2 and v1 file names: (limit, usage, reclaimable page cache in memory.stat).
_CGROUP_FILES = (("", "memory.max", "memory.current", "inactive_file"),
                 ("memory", "memory.limit_in_bytes", "memory.usage_in_bytes", "total_inactive_file"))
#: cgroup v1 writes a huge number (about 2**63) for "no limit".
_NO_LIMIT = 2**60


def _cgroup_available(root: Path | None = None) -> int | None:
    """Bytes still free under the container's cgroup limit (v2 ``memory.max`` minus
    ``memory.current``, or v1 ``memory/memory.limit_in_bytes`` minus ``usage_in_bytes``;
    page cache that can be reclaimed not counted as used), or None without a limit.

    >>> _cgroup_available(Path("/nonexistent")) is None
    True
    """
    root = CGROUP_DIR if root is None else root
    for sub, limit_file, usage_file, cache_field in _CGROUP_FILES:
        folder = root / sub if sub else root
        try:
            limit = (folder / limit_file).read_text().strip()
            if limit == "max" or int(limit) >= _NO_LIMIT:
                return None
            used = int((folder / usage_file).read_text())
            stat = folder / "memory.stat"
            if stat.is_file():
                fields = dict(line.split() for line in stat.read_text().splitlines() if " " in line)
                used -= int(fields.get(cache_field, 0))
            return max(int(limit) - max(used, 0), 0)
        except (OSError, ValueError):
            continue
    return None


def available_memory_mb() -> tuple[float, float] | None:
    """(memory available to this machine or container, this process's own resident
    memory), in MB; None when ``psutil`` is not installed. Where a cgroup limit is smaller
    than what psutil reports for the host (containers: Binder), the cgroup figure counts."""
    try:
        import psutil
    except ImportError:
        return None
    available = psutil.virtual_memory().available
    own = psutil.Process().memory_info().rss
    cgroup = _cgroup_available()
    if cgroup is not None:
        available = min(available, cgroup)
    limit = settings().mem_limit   # Binder's MEM_LIMIT: this kernel's share at most
    if limit is not None:
        available = min(available, max(limit - own, 0))
    return available / 2**20, own / 2**20


def memory_warning(profile: str) -> str | None:
    """A WARNING line when less memory is available than this notebook's kernel still needs
    to reach the profile's measured peak, else None (also when it cannot be measured)."""
    try:
        peak = NEEDED_MB.get(profile)
        measured = available_memory_mb() if peak else None
        if measured is None:
            return None
        available, own = measured
        needed = max(peak - own, 0)
        if available >= needed:
            return None
        return (f"WARNING        : low memory: {available:,.0f} MB available, this notebook needs "
                f"about {needed:,.0f} MB more (its kernel peaks near {peak:,} MB in the "
                f"{profile} profile), so it may die. Free memory: in JupyterLab, Kernel → Shut "
                "Down All Kernels (or the \"Running Terminals and Kernels\" panel on the left), "
                "then restart this notebook. On Binder the whole session has 2 GB.")
    except Exception:   # a warning must never stop the set-up cell
        return None


def widgets_available() -> bool:
    """True in a live Jupyter kernel with ipywidgets installed, unless ``TL_WIDGETS=0``.

    The explorers of :mod:`tlhelpers.figures.explore` and :mod:`tlhelpers.figures.augment_explorer` show
    static figures instead when it is False (in tests, exported notebooks, slow machines).
    """
    if not settings().widgets:
        return False
    try:
        import ipywidgets  # noqa: F401
        from IPython import get_ipython
    except ImportError:
        return False
    shell = get_ipython()
    return shell is not None and getattr(shell, "kernel", None) is not None


class NotReadyError(NameError):
    """A cell needs the result of an earlier cell that has not been run (yet)."""

    def _render_traceback_(self) -> list[str]:   # IPython shows this instead of a traceback
        return [f"NotReadyError: {self}"]


def need(namespace: Mapping[str, object], *names: str, run: str) -> None:
    """Stop with a short message naming the cell to run, when ``names`` are not defined.

    Use it where a cell needs an earlier cell's result and learners often jump ahead:

    >>> need({"head": 1}, "head", run="run the cell under '3. Train the head' first")
    >>> need({}, "head", run="run the cell under '3. Train the head' first")
    Traceback (most recent call last):
    ...
    tlhelpers.startup.notebook.NotReadyError: `head` is not defined yet: run the cell under '3. Train the head' first, then this cell again.
    """
    missing = [name for name in names if name not in namespace]
    if missing:
        listed = ", ".join(f"`{name}`" for name in missing)
        verb = "is" if len(missing) == 1 else "are"
        raise NotReadyError(f"{listed} {verb} not defined yet: {run}, then this cell again.")


#: The part of TensorFlow's frequent-retracing warning that :func:`start` drops from its log.
RETRACING_WARNING = "triggered tf.function retracing"


class _DropMessage(logging.Filter):
    """A logging filter that drops records whose message contains ``text``."""

    def __init__(self, text: str):
        super().__init__()
        self.text = text

    def filter(self, record: logging.LogRecord) -> bool:
        return self.text not in record.getMessage()


def _drop_tensorflow_log(text: str) -> None:
    """Drop TensorFlow log records containing ``text`` (once; later calls add nothing).

    >>> _drop_tensorflow_log(RETRACING_WARNING)
    """
    logger = logging.getLogger("tensorflow")
    if not any(isinstance(f, _DropMessage) and f.text == text for f in logger.filters):
        logger.addFilter(_DropMessage(text))


def start(seed: int = 42, profile: str | None = None, verbose: bool = True) -> Profile:
    """Seed everything once, pick the profile, and print both with the library versions.

    Returns the :class:`~tlhelpers.settings.config.Profile` that the rest of the notebook reads.
    """
    import keras

    active = get_profile(profile)
    keras.utils.set_random_seed(seed)
    # The course's tf.data pipelines shuffle themselves; Keras's fit still warns that its
    # own shuffle=True default is ignored for a dataset, which only confuses learners.
    warnings.filterwarnings("ignore", message=r"`shuffle=True` was passed, but will be ignored")
    # Built at a size without its own weights file (96 px in `ci`), a MobileNet warns that it
    # loads the 224-px ImageNet file: intended, since convolution weights fit any input size
    # (notebook 03 says so). Only that one message is silenced; every other warning shows.
    warnings.filterwarnings("ignore", message=NATIVE_WEIGHTS_WARNING, category=UserWarning)
    # Each new model that predicts is traced once per input shape, and TensorFlow counts all
    # of Keras's prediction steps together: a notebook that compares a few models on purpose
    # gets "N out of the last M calls ... triggered tf.function retracing", advice for code
    # that rebuilds a function in a loop. Only that message is dropped (RETRACING_WARNING).
    _drop_tensorflow_log(RETRACING_WARNING)
    if verbose:
        print(active.describe())
        if settings().random_weights:
            print("WARNING        : TL_WEIGHTS=random: backbones have random weights (for timing "
                  "only); every accuracy below is meaningless.")
        if (warning := memory_warning(active.name)) is not None:
            print(warning)
        print(f"seed           : {seed}")
        print("versions       : " + ", ".join(f"{k} {v}" for k, v in versions().items()))
    return active
