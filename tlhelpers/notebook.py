"""The set-up every notebook runs first: seed, profile, versions.

>>> from tlhelpers.notebook import start
>>> profile = start(seed=42, profile="ci")   # doctest: +SKIP
profile        : ci
...
"""

from __future__ import annotations

import os
import platform
import warnings
import sys
from typing import Mapping

from tlhelpers.config import Profile, get_profile


def in_colab() -> bool:
    """True inside Google Colab."""
    return "google.colab" in sys.modules or "COLAB_RELEASE_TAG" in os.environ


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
    tlhelpers.notebook.NotReadyError: `head` is not defined yet: run the cell under '3. Train the head' first, then this cell again.
    """
    missing = [name for name in names if name not in namespace]
    if missing:
        listed = ", ".join(f"`{name}`" for name in missing)
        verb = "is" if len(missing) == 1 else "are"
        raise NotReadyError(f"{listed} {verb} not defined yet: {run}, then this cell again.")


def start(seed: int = 42, profile: str | None = None, verbose: bool = True) -> Profile:
    """Seed everything once, pick the profile, and print both with the library versions.

    Returns the :class:`~tlhelpers.config.Profile` that the rest of the notebook reads.
    """
    import keras

    active = get_profile(profile)
    keras.utils.set_random_seed(seed)
    # The course's tf.data pipelines shuffle themselves; Keras's fit still warns that its
    # own shuffle=True default is ignored for a dataset, which only confuses learners.
    warnings.filterwarnings("ignore", message=r"`shuffle=True` was passed, but will be ignored")
    if verbose:
        print(active.describe())
        from tlhelpers.backbones import random_weights_requested

        if random_weights_requested():
            print("WARNING        : TL_WEIGHTS=random: backbones have random weights (for timing "
                  "only); every accuracy below is meaningless.")
        print(f"seed           : {seed}")
        print("versions       : " + ", ".join(f"{k} {v}" for k, v in versions().items()))
    return active
