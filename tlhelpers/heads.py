"""Trained heads saved to the course cache, so a later notebook (or a rerun) can reuse them.

>>> from tlhelpers.heads import save_head, load_head
>>> path = save_head(head, "03-head")     # doctest: +SKIP
>>> load_head(new_head, "03-head")        # doctest: +SKIP
True
"""

from __future__ import annotations

import zipfile
from pathlib import Path

import keras
import numpy as np

from tlhelpers import assets
from tlhelpers.cachefile import write_atomic


def _head_path(name: str) -> Path:
    return assets.course_cache_dir("heads") / f"{name}.npz"


def save_head(head: keras.Model, name: str) -> Path:
    """Save a trained head's weights in the course cache (for the next notebook).

    The arrays are stored in layer order, so a head built the same way loads them
    whatever its layers are called; the file is written atomically (a temporary file,
    then a rename), so a crash never leaves half a file under the final name.
    """
    weights = head.get_weights()

    def write(tmp: Path) -> None:
        with open(tmp, "wb") as out:
            np.savez(out, *weights)

    return write_atomic(_head_path(name), write)


def load_head(head: keras.Model, name: str) -> bool:
    """Load weights saved by :func:`save_head` into ``head``; False when there are none.

    A damaged file, or one saved from a head of another shape, is ignored with a
    notice (False), so the caller trains a new head instead of crashing.
    """
    path = _head_path(name)
    if not path.is_file():
        return False
    try:
        with np.load(path) as saved:
            arrays = [saved[f"arr_{i}"] for i in range(len(saved.files))]
    except (OSError, ValueError, EOFError, KeyError, zipfile.BadZipFile) as err:
        print(f"Notice: the saved head {path} could not be read ({type(err).__name__}); ignoring it.")
        return False
    expected = [tuple(w.shape) for w in head.get_weights()]
    if [a.shape for a in arrays] != expected:
        print(f"Notice: the saved head {path} has other shapes than this head; ignoring it.")
        return False
    head.set_weights(arrays)
    return True
