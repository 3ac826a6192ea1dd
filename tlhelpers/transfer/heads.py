"""Trained heads saved to the course cache, so a later notebook (or a rerun) can reuse them.

A head is saved only when all its weights are finite numbers, and loaded only when they
still are: a damaged or non-finite file is kept aside (``<name>.npz.damaged-<date-time>``)
with a notice, and the caller trains a new head. A full disk only costs the saved copy.

>>> from tlhelpers.transfer.heads import save_head, load_head
>>> path = save_head(head, "03-head")     # doctest: +SKIP
>>> load_head(new_head, "03-head")        # doctest: +SKIP
True
"""

from __future__ import annotations

import zipfile
from pathlib import Path

import keras
import numpy as np

from tlhelpers.storage import assets
from tlhelpers.storage.cachefile import keep_aside, write_atomic


def _head_path(name: str) -> Path:
    return assets.course_cache_dir("heads") / f"{name}.npz"


def _non_finite(arrays: list[np.ndarray]) -> int:
    """How many weights are NaN or infinite."""
    return sum(int(np.size(a) - np.isfinite(a).sum()) for a in arrays
               if np.issubdtype(np.asarray(a).dtype, np.floating))


def save_head(head: keras.Model, name: str) -> Path | None:
    """Save a trained head's weights in the course cache (for the next notebook).

    The arrays are stored in layer order, so a head built the same way loads them
    whatever its layers are called; the file is written atomically (a temporary file,
    then a rename), so a crash never leaves half a file under the final name. Weights
    holding NaN or infinite values (training diverged) are refused with a ValueError; when
    the disk is full or the cache unwritable, a notice says so and None is returned (the
    next notebook then trains its own head).

    >>> save_head(models.make_head(4, 2), "demo").name   # doctest: +SKIP
    'demo.npz'
    """
    weights = head.get_weights()
    bad = _non_finite(weights)
    if bad:
        raise ValueError(
            f"The head {head.name!r} has {bad:,} weights that are NaN or infinite (training "
            "diverged), so it was not saved: lower the learning rate, train it again, then save it.")

    def write(tmp: Path) -> None:
        with open(tmp, "wb") as out:
            np.savez(out, *weights)

    try:
        return write_atomic(_head_path(name), write)
    except OSError as err:
        print(f"Notice: could not save the head {name!r} to the course cache ({err}); it is kept "
              "in memory only, and the next notebook will train its own.")
        return None


def load_head(head: keras.Model, name: str) -> bool:
    """Load weights saved by :func:`save_head` into ``head``; False when there are none.

    A damaged file, or one holding NaN or infinite values, is kept aside with a notice;
    one saved from a head of another shape is ignored with a notice. Both return False,
    so the caller trains a new head instead of crashing or predicting NaN.

    >>> load_head(models.make_head(4, 2), "missing")   # doctest: +SKIP
    False
    """
    path = _head_path(name)
    if not path.is_file():
        return False
    try:
        with np.load(path) as saved:
            arrays = [saved[f"arr_{i}"] for i in range(len(saved.files))]
        bad = _non_finite(arrays)
        problem = f"{bad:,} of its weights are NaN or infinite" if bad else None
    except (OSError, ValueError, EOFError, KeyError, zipfile.BadZipFile) as err:
        problem = f"it could not be read: {type(err).__name__}"
    if problem:
        aside = keep_aside(path)
        print(f"Notice: the saved head {path} is damaged ({problem}); "
              + (f"kept aside as {aside.name}" if aside else "ignoring it")
              + "; a new head is trained instead.")
        return False
    expected = [tuple(w.shape) for w in head.get_weights()]
    if [a.shape for a in arrays] != expected:
        print(f"Notice: the saved head {path} has other shapes than this head; ignoring it.")
        return False
    head.set_weights(arrays)
    return True
