"""tlhelpers.transfer.walk: one walker through nested models and InferenceMode wrappers."""

import keras

from tlhelpers.transfer.models import InferenceMode
from tlhelpers.transfer.walk import children, leaves, walk


def nested():
    base = keras.Sequential([keras.Input((4,)), keras.layers.Dense(3, name="b1"),
                             keras.layers.BatchNormalization(name="b2")], name="base")
    inputs = keras.Input((4,))
    x = InferenceMode(base, name="pinned")(inputs)
    return keras.Model(inputs, keras.layers.Dense(2, name="head")(x)), base


def test_walk_looks_through_inference_mode_wrappers():
    model, base = nested()
    assert [layer.name for layer in leaves(model)][-3:] == ["b1", "b2", "head"]
    names = [layer.name for layer in walk(model)]
    assert names.index("pinned") < names.index("base") < names.index("b1")
    assert children(model.get_layer("pinned")) == [base]


def test_a_plain_layer_has_no_children():
    dense = keras.layers.Dense(1)
    assert children(dense) == [] and leaves(dense) == [] and walk(dense) == [dense]
