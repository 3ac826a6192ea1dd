"""Notebook 04, sections 4 and 6, train the top of a base on stored activations of its frozen bottom.

The notebook says this is the same computation as training the whole model with only the
top unfrozen. These tests run the notebook's own cells (the split of section 4, its fit on
the activations, section 6's ``top_model``) on a small MobileNetV2 with random weights and
check that a few training steps give the same weights and the same BatchNormalization
statistics both ways, with BN frozen and with BN updating, and that section 4's fit trains
the weights of ``ft_model`` itself.
"""

from __future__ import annotations

import types

import keras
import numpy as np
import pytest
import tensorflow as tf
from keras import layers

from test_lesson_code_03_04 import run_cell
from tlhelpers import lesson
from tlhelpers.transfer import models, training

NB = "04_fine_tuning.ipynb"
S, UNFREEZE = 32, 20


@pytest.fixture(scope="module")
def pretrained():
    """Weights that stand in for ImageNet's; every 'load' gets a fresh, frozen copy of them."""
    keras.utils.set_random_seed(0)
    base = keras.applications.MobileNetV2(input_shape=(S, S, 3), alpha=0.35, include_top=False, weights=None)
    # Random weights with BN's initial statistics shrink the signal to nothing by the top of the
    # base, so no gradient would reach it. One pass in training mode, with momentum 0, gives every
    # BN layer the statistics of its real inputs, as pretraining would.
    bns = [layer for layer in base.layers if isinstance(layer, layers.BatchNormalization)]
    for bn in bns:
        bn.momentum = 0.0
    base(np.random.default_rng(1).uniform(-1, 1, (64, S, S, 3)).astype("float32"), training=True)
    return base.get_weights()


def loader(weights):
    def load_backbone(name, size):
        base = keras.applications.MobileNetV2(input_shape=(size, size, 3), alpha=0.35, include_top=False,
                                              weights=None)
        base.set_weights(weights)
        base.trainable = False
        return base
    return types.SimpleNamespace(load_backbone=load_backbone)


def head_maker(dim):
    keras.utils.set_random_seed(1)
    head_weights = lesson.make_head(dim, 10, dropout=0.0).get_weights()   # no dropout: no RNG in the step
    return (lambda: lesson.make_head(dim, 10, dropout=0.0)), head_weights


def split_cell(ft_base, x, y):
    """Section 4's split cell on ``ft_base``: returns its namespace (bottom, top, a_train, a_val)."""
    ds = tf.data.Dataset.from_tensor_slices((x, y)).batch(8)
    return run_cell(NB, "cut = ft_base.layers[", ft_base=ft_base, UNFREEZE=UNFREEZE, keras=keras,
                    training=training, train_ds=ds, val_ds=ds)


def train(model, x, y, steps=3):
    lesson.compile_model(model, 1e-3, verbose=False)
    ds = tf.data.Dataset.from_tensor_slices((x, y)).batch(8)
    model.fit(ds, epochs=1, steps_per_epoch=steps, verbose=0)


@pytest.mark.parametrize("train_batchnorm", [False, True])
def test_training_the_top_on_stored_activations_equals_training_the_whole_model(pretrained, train_batchnorm):
    backbones = loader(pretrained)
    rng = np.random.default_rng(0)
    x = rng.uniform(-1, 1, (24, S, S, 3)).astype("float32")
    y = rng.integers(0, 10, 24)
    frozen_base = backbones.load_backbone("m", S)   # notebook 04's section-3 base
    ns = split_cell(frozen_base, x, y)
    activations = ns["a_train"]
    new_head, head_weights = head_maker(frozen_base.output_shape[-1])
    ns = run_cell(NB, "def top_model", backbones=backbones, profile=types.SimpleNamespace(backbone="m"),
                  S=S, UNFREEZE=UNFREEZE, models=models, new_head=new_head, head_weights=head_weights)
    split = ns["top_model"](train_batchnorm)
    train(split, activations, y)

    full_base = backbones.load_backbone("m", S)
    head = new_head()
    head.set_weights(head_weights)
    full = lesson.transfer_classifier(full_base, head=head, pin_inference=not train_batchnorm)
    lesson.unfreeze(full, last_n=UNFREEZE, train_batchnorm=train_batchnorm)
    train(full, x, y)

    assert len(split.trainable_weights) == len(full.trainable_weights)
    top = next(layer for layer in split.layers if "top" in layer.name)
    top = getattr(top, "base", top)   # InferenceMode wraps it when BN is frozen
    moved = 0
    for a, b in zip(top.layers[1:], full_base.layers[-UNFREEZE:]):
        assert a.name == b.name
        for wa, wb in zip(a.weights, b.weights):
            np.testing.assert_allclose(wa.numpy(), wb.numpy(), atol=2e-5, err_msg=f"{a.name}/{wa.name}")
        start = [w for layer in [backbones.load_backbone("m", S).get_layer(b.name)] for w in layer.weights]
        moved += sum(not np.allclose(w.numpy(), s.numpy()) for w, s in zip(b.weights, start))
    assert moved > 0, "the steps changed nothing: the test would prove nothing"
    np.testing.assert_allclose(split.predict(activations, verbose=0), full.predict(x, verbose=0), atol=1e-4)
    bn_moved = any(isinstance(layer, layers.BatchNormalization)
                   and not np.allclose(layer.moving_mean.numpy(),
                                       backbones.load_backbone("m", S).get_layer(layer.name).moving_mean.numpy())
                   for layer in top.layers)
    assert bn_moved == train_batchnorm


def test_section_4_fit_on_activations_trains_ft_model_itself(pretrained):
    """The fit cell trains ``ft_top``; ``ft_model`` shares its layers, so it holds the new weights
    and gives, on images, the same outputs as ``ft_top`` on the stored activations."""
    backbones = loader(pretrained)
    rng = np.random.default_rng(0)
    x = rng.uniform(-1, 1, (24, S, S, 3)).astype("float32")
    y = rng.integers(0, 10, 24)
    ft_base = backbones.load_backbone("m", S)
    new_head, head_weights = head_maker(ft_base.output_shape[-1])
    ft_head = new_head()
    ft_head.set_weights(head_weights)
    inputs = keras.Input((S, S, 3))
    ft_model = keras.Model(inputs, ft_head(layers.GlobalAveragePooling2D()(lesson.InferenceMode(ft_base)(inputs))))
    run_cell(NB, "ft_base.trainable = True", ft_base=ft_base, ft_model=ft_model, UNFREEZE=UNFREEZE,
             layers=layers, trainability=types.SimpleNamespace(trainability_table=lambda m: types.SimpleNamespace(
                 summary=lambda: "")))
    before = [w.copy() for w in ft_model.get_weights()]
    ns = split_cell(ft_base, x, y)
    ns = run_cell(NB, "inputs = keras.Input(shape=cut.shape[1:])", **{**ns, "layers": layers}, models=models,
                  ft_head=ft_head, FT_LR=1e-3, y_train=y, y_val=y,
                  profile=types.SimpleNamespace(batch_size=8, head_epochs=1, epochs=1))
    assert ns["phase2"]["val_accuracy"], "the fit cell returned no history"
    changed = sum(not np.allclose(a, b) for a, b in zip(before, ft_model.get_weights()))
    assert changed > 0, "fitting ft_top left ft_model's weights unchanged: they are not shared"
    np.testing.assert_allclose(ns["ft_top"].predict(ns["a_train"], verbose=0), ft_model.predict(x, verbose=0),
                               atol=1e-4)
