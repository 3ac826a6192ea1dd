"""Model builders: feature extractors on a frozen base, unfreezing, and a small CNN.

>>> from tlhelpers.transfer.backbones import load_backbone
>>> from tlhelpers.transfer.models import transfer_classifier
>>> base = load_backbone("vgg16", 224, weights=None)
>>> model = transfer_classifier(base, 10, units=(256,), dropout=0.5)
>>> model.count_params()
14848586
"""

from __future__ import annotations

import dataclasses
from typing import Sequence

import keras
from keras import layers

from tlhelpers.transfer.params import count_weights

#: The two heads of the original lesson, as keyword arguments of :func:`make_head`.
LESSON_HEADS = {
    "vgg16": dict(units=(256,), dropout=0.5, batchnorm=False),
    "mobilenet_v2": dict(units=(128,), dropout=0.5, batchnorm=True),
}


def make_head(
    input_dim: int,
    num_classes: int,
    units: Sequence[int] = (128,),
    dropout: float = 0.5,
    batchnorm: bool = False,
    name: str = "head",
) -> keras.Model:
    """The classifier that sits on pooled features: [BN] -> Dense(relu)... -> Dropout -> softmax.

    Taught in notebook 03, section 4 (the head written as ``keras.Sequential``); this is
    that cell, packaged (tests/test_lesson_code_03_04.py keeps the two identical).

    It is a model of its own, so it can be trained on cached features and then stacked
    on the base unchanged.

    >>> make_head(1280, 10, units=(128,), batchnorm=True).count_params()
    170378
    """
    if num_classes < 2:
        raise ValueError(f"num_classes must be at least 2, got {num_classes}.")
    if not 0.0 <= dropout < 1.0:
        raise ValueError(f"dropout must be in [0, 1), got {dropout}.")
    inputs = keras.Input(shape=(input_dim,), name="features")
    x = inputs
    if batchnorm:
        x = layers.BatchNormalization(name="head_bn")(x)
    for i, n in enumerate(units):
        x = layers.Dense(n, activation="relu", name=f"head_dense_{i}")(x)
        if dropout:
            x = layers.Dropout(dropout, name=f"head_dropout_{i}")(x)
    outputs = layers.Dense(num_classes, activation="softmax", name="predictions")(x)
    return keras.Model(inputs, outputs, name=name)


@keras.saving.register_keras_serializable(package="tlhelpers")
class InferenceMode(layers.Layer):
    """Runs the wrapped base with ``training=False``, whatever the outer model is doing.

    Taught in notebook 04, section 2, where its ``__init__`` and ``call`` are written out
    and measured; this version adds what Keras needs to save and reload it.

    In Keras 3 a functional graph does *not* keep ``base(x, training=False)``: during
    ``fit`` the outer ``training=True`` is passed down to every nested layer (see
    keras-team/keras#20285). This wrapper pins inference mode for real, so
    BatchNormalization keeps its ImageNet statistics even when it is unfrozen.

    >>> wrapped = InferenceMode(keras.Sequential([layers.BatchNormalization()]))
    """

    def __init__(self, base: keras.Model, **kwargs):
        kwargs.setdefault("name", f"{base.name}_inference")
        super().__init__(**kwargs)
        self.base = base

    def call(self, inputs):
        return self.base(inputs, training=False)

    def compute_output_shape(self, input_shape):
        return self.base.compute_output_shape(input_shape)

    def get_config(self) -> dict:
        return {**super().get_config(), "base": keras.saving.serialize_keras_object(self.base)}

    @classmethod
    def from_config(cls, config: dict) -> "InferenceMode":
        config = dict(config)
        config["base"] = keras.saving.deserialize_keras_object(config["base"])
        return cls(**config)


def transfer_classifier(
    base: keras.Model,
    num_classes: int | None = None,
    head: keras.Model | None = None,
    pin_inference: bool = True,
    **head_kwargs,
) -> keras.Model:
    """A whole classifier: frozen ``base`` -> global average pooling -> ``head`` (functional API).

    Taught in notebook 03, sections 1 and 4 (``keras.Input``, ``base.trainable = False``,
    ``base(x, training=False)``, pooling, the head, ``keras.Model``); this is those
    cells, packaged, plus :class:`InferenceMode` (notebook 04, section 2).

    The base runs in inference mode (``training=False``, pinned by
    :class:`InferenceMode`) so its BatchNormalization layers keep their statistics even
    after they are unfrozen. ``pin_inference=False`` calls the base plainly (only to
    *show* why that matters). Pass an existing ``head`` (for example one trained on
    cached features) or ``num_classes`` and :func:`make_head` options.
    """
    if head is None:
        if num_classes is None:
            raise ValueError("Pass num_classes (to build a new head) or a trained head.")
        head = make_head(base.output_shape[-1], num_classes, **head_kwargs)
    elif num_classes is not None and head.output_shape[-1] != num_classes:
        raise ValueError(
            f"The head predicts {head.output_shape[-1]} classes but num_classes={num_classes}."
        )
    base.trainable = False
    inputs = keras.Input(shape=base.input_shape[1:], name="image")
    x = InferenceMode(base)(inputs) if pin_inference else base(inputs)
    x = layers.GlobalAveragePooling2D(name="avg_pool")(x)
    outputs = head(x)
    return keras.Model(inputs, outputs, name=f"{base.name}_transfer")


def find_base(model: keras.Model) -> keras.Model:
    """The pretrained base inside a transfer model (its first nested model that is not the head)."""
    for layer in model.layers:
        if isinstance(layer, InferenceMode):
            return layer.base
        if isinstance(layer, keras.Model) and layer.name != "head":
            return layer
    return model


@dataclasses.dataclass
class UnfreezeReport:
    """What :func:`unfreeze` changed. ``print(report)`` explains it in words."""

    base_name: str
    layers_total: int
    layers_trainable: int
    batchnorm_kept_frozen: int
    trainable_params_before: int
    trainable_params_after: int

    def __str__(self) -> str:
        return (
            f"{self.base_name}: {self.layers_trainable} of {self.layers_total} base layers "
            f"are now trainable ({self.batchnorm_kept_frozen} BatchNormalization layers kept "
            f"frozen).\nTrainable parameters: {self.trainable_params_before:,} -> "
            f"{self.trainable_params_after:,}.\nRecompile before training "
            "(tlhelpers.transfer.training.compile_model) so the change takes effect."
        )


def unfreeze(
    model_or_base: keras.Model,
    last_n: int | None = None,
    from_layer: str | None = None,
    train_batchnorm: bool = False,
) -> UnfreezeReport:
    """Make the top of the base trainable: its last ``last_n`` layers, or all from ``from_layer``.

    Taught in notebook 04, sections 1 and 4 (``base.trainable = True``, the loop that
    freezes all but the last layers again, the loop that keeps BatchNormalization
    frozen); this is those loops, packaged, with a report of what changed.

    BatchNormalization layers stay frozen unless ``train_batchnorm=True``. You must
    recompile afterwards. Returns a report of what changed.
    """
    base = find_base(model_or_base)
    if (last_n is None) == (from_layer is None):
        raise ValueError("Pass exactly one of last_n (a number of layers) or from_layer (a name).")
    names = [layer.name for layer in base.layers]
    if last_n is not None:
        if not 0 <= last_n <= len(names):
            raise ValueError(f"last_n must be between 0 and {len(names)} for {base.name}; got {last_n}.")
        start = len(names) - last_n
    else:
        if from_layer not in names:
            raise ValueError(f"{base.name} has no layer {from_layer!r}; e.g. {', '.join(names[-5:])}.")
        start = names.index(from_layer)
    before = count_weights(model_or_base.trainable_weights)
    base.trainable = True
    kept_bn = 0
    for i, layer in enumerate(base.layers):
        is_bn = isinstance(layer, layers.BatchNormalization)
        layer.trainable = i >= start and (train_batchnorm or not is_bn)
        kept_bn += int(i >= start and is_bn and not train_batchnorm)
    trainable = sum(1 for layer in base.layers if layer.trainable)
    return UnfreezeReport(base.name, len(names), trainable, kept_bn, before,
                          count_weights(model_or_base.trainable_weights))


def scratch_cnn(image_size: int = 32, num_classes: int = 10, dropout: float = 0.5) -> keras.Model:
    """The original lesson's small CNN (three conv layers), trained from scratch.

    Notebook 05, section 2 ("The scratch CNN, layer by layer") writes this network as a
    ``keras.Sequential`` in a cell; this function is that cell, packaged (with layer names),
    so that :func:`tlhelpers.transfer.experiments.data_size_sweep` can build a fresh copy per run.
    ``tests/test_lesson_code_05_06.py`` checks that both build the same layers.

    Takes raw [0, 255] pixels (it rescales them itself). 65,930 parameters for 10 classes,
    whatever the input size, thanks to global average pooling.

    >>> scratch_cnn(32).count_params()
    65930
    """
    if image_size < 18:
        raise ValueError(f"image_size must be at least 18 px for three conv blocks; got {image_size}.")
    return keras.Sequential(
        [
            keras.Input(shape=(image_size, image_size, 3), name="image"),
            layers.Rescaling(1.0 / 255, name="rescale"),
            layers.Conv2D(32, 3, activation="relu", name="conv1"),
            layers.MaxPooling2D(name="pool1"),
            layers.Conv2D(64, 3, activation="relu", name="conv2"),
            layers.MaxPooling2D(name="pool2"),
            layers.Conv2D(64, 3, activation="relu", name="conv3"),
            layers.GlobalAveragePooling2D(name="avg_pool"),
            layers.Dense(128, activation="relu", name="dense"),
            layers.Dropout(dropout, name="dropout"),
            layers.Dense(num_classes, activation="softmax", name="predictions"),
        ],
        name="scratch_cnn",
    )
