"""Walking a model's nested layers, with Keras's public API: one walker for the course.

A transfer-learning model nests its pretrained base (a whole ``keras.Model``) inside the
outer model, sometimes wrapped in :class:`tlhelpers.transfer.models.InferenceMode` (or the class of
the same name that notebook 04 writes), which holds it as ``.base``. These functions look
through both, so "every layer" really means every layer.

>>> import keras
>>> inner = keras.Sequential([keras.Input((4,)), keras.layers.Dense(2, name="d1")], name="inner")
>>> outer = keras.Sequential([keras.Input((4,)), inner, keras.layers.Dense(1, name="d2")])
>>> [layer.name for layer in leaves(outer)]
['d1', 'd2']
>>> [layer.name for layer in walk(outer)][1:]
['inner', 'd1', 'd2']
"""

from __future__ import annotations


def children(layer) -> list:
    """The layers directly inside ``layer``: a model's ``layers``, or a wrapper's ``base``."""
    if type(layer).__name__ == "InferenceMode":
        return [layer.base]
    return list(getattr(layer, "layers", []) or [])


def leaves(layer) -> list:
    """Every layer inside ``layer`` that has no layers of its own, in order."""
    out = []
    for sub in children(layer):
        out.extend(leaves(sub) if children(sub) else [sub])
    return out


def walk(layer) -> list:
    """``layer`` and everything nested in it, parents before children."""
    out = [layer]
    for sub in children(layer):
        out.extend(walk(sub))
    return out
