"""Data augmentation with Keras preprocessing layers, placed INSIDE the model.

The model takes raw [0, 255] pixels and runs, in this order::

    augmentation layers -> BackbonePreprocess -> base(training=False) -> pooling -> head

Augmentation first, because its layers (RandomContrast, RandomBrightness) assume and
clip to the [0, 255] range; the backbone's ``preprocess_input`` comes after, exactly
as at inference time. The random layers act only when ``training=True`` (in ``fit``);
in ``predict``/``evaluate`` they pass images through unchanged.

Notebook 06 writes the augmentation block (section 2) and the augmented model
(section 3) in plain Keras; :func:`make_augmentation` and :func:`augmented_model` are
those cells, packaged. ``tests/test_lesson_code_05_06.py`` checks that they match.

>>> from tlhelpers.transfer.augment import make_augmentation
>>> aug = make_augmentation(rotation=0.05, zoom=0.1)
>>> [layer.name for layer in aug.layers]
['flip', 'rotation', 'zoom']
"""

from __future__ import annotations

from typing import Any

import keras
from keras import layers

from tlhelpers.transfer.backbones import get_spec
from tlhelpers.transfer.models import InferenceMode, make_head

#: Strengths used when none are given: mild enough to keep a 32-px object recognisable.
DEFAULT_STRENGTHS: dict[str, Any] = dict(flip=True, rotation=0.05, zoom=0.1, translation=0.1,
                                         contrast=0.2, brightness=0.1)


def _check_strength(name: str, value: float, high: float) -> float:
    value = float(value)
    if not 0.0 <= value <= high:
        raise ValueError(f"{name} strength must be between 0 and {high}, got {value}. Use 0 to switch it off.")
    return value


def make_augmentation(flip: bool | str = True, rotation: float = 0.0, zoom: float = 0.0,
                      translation: float = 0.0, contrast: float = 0.0, brightness: float = 0.0,
                      seed: int | None = None) -> keras.Sequential:
    """A ``keras.Sequential`` of random layers for raw [0, 255] images; a strength of 0 leaves a layer out.

    Notebook 06, section 2 writes this block layer by layer in a cell; with
    ``**DEFAULT_STRENGTHS`` this function builds the same layers with the same settings
    (only the layer names differ). The explorer (:mod:`tlhelpers.figures.augment_explorer`) uses it
    to rebuild the block per slider move.

    - ``flip``: True/"horizontal" (left-right mirror: a mirrored car is still a car;
      upside-down is not, so no vertical flip), "horizontal_and_vertical", or False.
    - ``rotation``: fraction of a full turn, e.g. 0.05 = up to +/-18 degrees.
    - ``zoom`` / ``translation``: fraction of the height and width (+/-).
    - ``contrast`` / ``brightness``: relative change, clipped to [0, 255].

    Gaps created by rotating, zooming out or shifting are filled by reflection.

    >>> len(make_augmentation(**DEFAULT_STRENGTHS).layers)
    6
    """
    if flip is True:
        flip = "horizontal"
    if flip not in (False, None, "horizontal", "vertical", "horizontal_and_vertical"):
        raise ValueError(f"flip must be True, False, 'horizontal', 'vertical' or 'horizontal_and_vertical'; "
                         f"got {flip!r}.")
    stack = []
    if flip:
        stack.append(layers.RandomFlip(flip, seed=seed, name="flip"))
    if _check_strength("rotation", rotation, 0.5):
        stack.append(layers.RandomRotation(rotation, seed=seed, name="rotation"))
    if _check_strength("zoom", zoom, 0.9):
        stack.append(layers.RandomZoom(zoom, zoom, seed=seed, name="zoom"))
    if _check_strength("translation", translation, 0.5):
        stack.append(layers.RandomTranslation(translation, translation, seed=seed, name="translation"))
    if _check_strength("contrast", contrast, 0.99):
        stack.append(layers.RandomContrast(contrast, value_range=(0, 255), seed=seed, name="contrast"))
    if _check_strength("brightness", brightness, 1.0):
        stack.append(layers.RandomBrightness(brightness, value_range=(0, 255), seed=seed, name="brightness"))
    return keras.Sequential(stack, name="augmentation")


@keras.saving.register_keras_serializable(package="tlhelpers")
class BackbonePreprocess(layers.Layer):
    """A layer that applies a backbone's own ``preprocess_input`` (raw [0, 255] -> what the base expects).

    Being a layer, it travels with the model: a saved model takes raw pixels.

    >>> import numpy as np
    >>> float(BackbonePreprocess("mobilenet_v2")(np.full((1, 2, 2, 3), 255.0)).numpy().max())
    1.0
    """

    def __init__(self, backbone: str, **kwargs):
        kwargs.setdefault("name", "preprocess")
        super().__init__(**kwargs)
        self.backbone = backbone
        self._fn = get_spec(backbone).preprocess

    def call(self, inputs):
        return self._fn(keras.ops.cast(inputs, "float32"))

    def get_config(self) -> dict:
        return {**super().get_config(), "backbone": self.backbone}


def augmented_model(base: keras.Model, backbone: str, num_classes: int,
                    augmentation: keras.Model | None = None, **head_kwargs) -> keras.Model:
    """Raw pixels -> [augmentation] -> BackbonePreprocess -> frozen base(training=False) -> pooling -> head.

    Notebook 06, section 3 ("The model in Keras code") builds this model with the
    functional API in a cell; this function is that cell, packaged. With the notebook's
    head (``units=(128,), dropout=0.5, batchnorm=True``) it has the same layers, weights
    and outputs, with three additions that matter outside the lesson:

    - the preprocessing is a layer (:class:`BackbonePreprocess`), so a saved model takes raw pixels;
    - the base is wrapped in :class:`tlhelpers.transfer.models.InferenceMode`, so it stays in inference
      mode after unfreezing (Keras 3 overrides a plain ``base(x, training=False)`` in ``fit``);
    - the random layers go in one by one rather than as a nested model, so
      :func:`tlhelpers.transfer.models.find_base` / ``unfreeze`` find the pretrained base.

    ``augmentation`` is a ``keras.Sequential`` of random layers (:func:`make_augmentation`);
    ``augmentation=None`` builds the same model without augmentation (for comparisons).
    The head is the last layer, named "head", as in :func:`tlhelpers.transfer.models.transfer_classifier`.
    """
    base.trainable = False
    inputs = keras.Input(shape=base.input_shape[1:], name="raw_image")
    x = inputs
    # The random layers go in one by one (not as a nested model), so that
    # tlhelpers.transfer.models.find_base / unfreeze still find the pretrained base.
    for layer in (augmentation.layers if augmentation is not None else []):
        x = layer(x)
    x = BackbonePreprocess(backbone)(x)
    x = InferenceMode(base)(x)  # training=False, pinned even during fit (Keras 3)
    x = layers.GlobalAveragePooling2D(name="avg_pool")(x)
    outputs = make_head(base.output_shape[-1], num_classes, **head_kwargs)(x)
    suffix = "augmented" if augmentation is not None else "plain"
    return keras.Model(inputs, outputs, name=f"{base.name}_{suffix}")
