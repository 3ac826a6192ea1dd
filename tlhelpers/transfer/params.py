"""Counting parameters, one way for the whole course.

Keras's ``count_params()`` adds up every weight, BatchNormalization's moving mean and
variance included, although no optimiser ever updates them. The course always reports
two numbers instead: *trainable* (what the optimiser updates) and *non-trainable*.

>>> from tlhelpers.transfer.models import make_head
>>> param_counts(make_head(1280, 10, units=(128,), batchnorm=True))
ParamCounts(trainable=167818, non_trainable=2560)
"""

from __future__ import annotations

import dataclasses
from typing import Iterable

import numpy as np


def count_weights(weights: Iterable) -> int:
    """Number of values in a list of weights (variables or arrays), without copying them.

    >>> count_weights([np.zeros((3, 4)), np.zeros(4)])
    16
    """
    return int(sum(int(np.prod(w.shape)) for w in weights))


@dataclasses.dataclass(frozen=True)
class ParamCounts:
    """Trainable and non-trainable parameter counts of a model or layer."""

    trainable: int
    non_trainable: int

    @property
    def total(self) -> int:
        """Both together: what ``model.count_params()`` reports."""
        return self.trainable + self.non_trainable


def param_counts(model_or_layer) -> ParamCounts:
    """Trainable and non-trainable parameters of a Keras model or layer.

    A layer inside a frozen model counts as non-trainable, as Keras trains it.
    """
    return ParamCounts(count_weights(model_or_layer.trainable_weights),
                       count_weights(model_or_layer.non_trainable_weights))
