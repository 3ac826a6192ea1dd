"""The Keras code notebooks 05 and 06 teach, against the helpers that package it.

Notebook 05 writes the scratch CNN layer by layer (``lesson.scratch_cnn`` is that cell,
packaged); notebook 06 writes the augmentation block and the augmented model
(``lesson.make_augmentation`` and ``augment.augmented_model``). Each test runs the
notebook's own cell source (read from the .ipynb) at small sizes with random weights and
compares the result with the helper: layer types and settings (names ignored), trainable
and non-trainable parameter counts, which layers train, and, with the same weights, the
same outputs. Changing a notebook's cell without its helper (or the other way round)
fails here.
"""

import json
import types
from pathlib import Path

import keras
import numpy as np
import pytest
from keras import layers

from tlhelpers import lesson
from tlhelpers.transfer import augment, backbones, experiments, models, training
from tlhelpers.transfer.params import count_weights

from test_lesson_code_03_04 import with_facades

NOTEBOOKS = Path(__file__).resolve().parents[1] / "notebooks"
NB05 = NOTEBOOKS / "05_transfer_vs_scratch.ipynb"
NB06 = NOTEBOOKS / "06_data_augmentation.ipynb"
#: the head notebook 06 writes out (BN -> Dense(128) -> Dropout(0.5) -> softmax)
HEAD_06 = dict(units=(128,), dropout=0.5, batchnorm=True)


def _code_cells(path: Path) -> list[str]:
    nb = json.loads(path.read_text(encoding="utf-8"))
    return ["".join(c["source"]) for c in nb["cells"] if c["cell_type"] == "code"]


def _cell(path: Path, marker: str) -> str:
    """The one code cell of ``path`` that contains ``marker``."""
    found = [src for src in _code_cells(path) if marker in src]
    assert len(found) == 1, f"{path.name}: expected one code cell containing {marker!r}, found {len(found)}"
    return found[0]


def _run_cell(path: Path, marker: str, namespace: dict) -> dict:
    with_facades(namespace)
    exec(compile(_cell(path, marker), f"{path.name}[{marker}]", "exec"), namespace)
    return namespace


def _flat_layers(model) -> list:
    """The model's layers in order, nested blocks (augmentation, head) opened up.

    The pretrained base stays one entry (``("base", base)``), also when the helper wraps
    it in ``InferenceMode``; preprocessing and input layers are left out (the notebook
    applies ``preprocess_input`` as plain operations, the helper as a layer: the outputs
    test covers it).
    """
    out = []
    for layer in model.layers:
        if isinstance(layer, (keras.layers.InputLayer, augment.BackbonePreprocess)):
            continue
        if isinstance(layer, lesson.InferenceMode):
            out.append(("base", layer.base))
        elif isinstance(layer, keras.Model) and layer.name in ("augmentation", "head"):
            out.extend(_flat_layers(layer))
        elif isinstance(layer, keras.Model):
            out.append(("base", layer))
        else:
            out.append(layer)
    return out


def _settings(model) -> list:
    """(type, configuration without the name) per layer; the base by its type and size."""
    result = []
    for layer in _flat_layers(model):
        if isinstance(layer, tuple):
            base = layer[1]
            result.append(("base", base.count_params(), base.input_shape, base.trainable))
        else:
            config = {k: v for k, v in layer.get_config().items() if k != "name"}
            result.append((type(layer).__name__, config))
    return result


_count = count_weights   # tlhelpers.transfer.params, the course's one parameter counter


def _trainable_layers(model) -> list:
    return [s for layer, s in zip(_flat_layers(model), _settings(model))
            if not isinstance(layer, tuple) and layer.trainable_weights]


def _assert_same_model(taught, packaged):
    assert _settings(taught) == _settings(packaged)
    assert _count(taught.trainable_weights) == _count(packaged.trainable_weights)
    assert _count(taught.non_trainable_weights) == _count(packaged.non_trainable_weights)
    assert _trainable_layers(taught) == _trainable_layers(packaged)


def _same_outputs(taught, packaged, size):
    """Give ``taught`` the weights of ``packaged`` and compare predictions (inference mode)."""
    taught.set_weights(packaged.get_weights())
    x = np.random.default_rng(0).uniform(0, 255, (2, size, size, 3)).astype("float32")
    np.testing.assert_allclose(taught.predict(x, verbose=0), packaged.predict(x, verbose=0),
                               rtol=1e-5, atol=1e-6)


# ---------------------------------------------------------------- notebook 05: the scratch CNN

def test_notebook_05_shows_the_keras_code():
    code = "\n".join(_code_cells(NB05))
    for line in ('scratch = keras.Sequential([',
                 'keras.Input(shape=(SCRATCH_SIZE, SCRATCH_SIZE, 3))',
                 'layers.Rescaling(1 / 255)',
                 'layers.Conv2D(32, 3, activation="relu")',
                 'layers.MaxPooling2D()',
                 'layers.Conv2D(64, 3, activation="relu")',
                 'layers.GlobalAveragePooling2D()',
                 'layers.Dense(128, activation="relu")',
                 'layers.Dropout(0.5)',
                 'layers.Dense(10, activation="softmax")',
                 'scratch.summary()',
                 'scratch.compile(optimizer=keras.optimizers.Adam(1e-3), loss="sparse_categorical_crossentropy"',
                 'metrics=["accuracy"]',
                 'scratch.fit(raw["train"], validation_data=raw["val"], epochs=profile.head_epochs',
                 'head.compile(optimizer=keras.optimizers.Adam(1e-3)',
                 'head.fit(f_train, y_train, validation_data=(f_val, y_val), epochs=profile.head_epochs',
                 'lesson.data_size_sweep('):
        assert line in code, f"notebook 05 no longer shows: {line}"
    assert "lesson.compile_model(" not in code and "lesson.fit(" not in code
    assert "lesson.scratch_cnn??" in NB05.read_text(encoding="utf-8")


def test_scratch_cnn_cell_matches_models_scratch_cnn():
    ns = _run_cell(NB05, "scratch = keras.Sequential(",
                   dict(keras=keras, layers=layers, experiments=experiments, training=training))
    taught, packaged = ns["scratch"], lesson.scratch_cnn(ns["SCRATCH_SIZE"])
    assert taught.count_params() == packaged.count_params() == 65_930
    _assert_same_model(taught, packaged)
    _same_outputs(taught, packaged, ns["SCRATCH_SIZE"])


def test_sweep_builds_the_scratch_cnn_with_models_scratch_cnn(monkeypatch):
    built = []

    def spy(*args, **kwargs):
        built.append(lesson.scratch_cnn(*args, **kwargs))
        return built[-1]

    monkeypatch.setattr(experiments, "scratch_cnn", spy)
    rng = np.random.default_rng(0)
    y = np.repeat(np.arange(2), 4)
    x = rng.integers(0, 256, (8, 32, 32, 3), dtype=np.uint8)
    feats = rng.normal(size=(8, 4)).astype("float32")
    lesson.data_size_sweep(x, y, x[:2], y[:2], feats, feats[:2], [2, 4], epochs=1, batch_size=4,
                                verbose=False)
    assert len(built) == 2 and all(m.name == "scratch_cnn" for m in built)


# ------------------------------------------------------ notebook 06: augmentation and the model

def test_notebook_06_shows_the_keras_code():
    code = "\n".join(_code_cells(NB06))
    for line in ('augmentation = keras.Sequential([',
                 'layers.RandomFlip("horizontal")',
                 'layers.RandomRotation(0.05, fill_mode="reflect")',
                 'layers.RandomZoom(0.1, 0.1, fill_mode="reflect")',
                 'layers.RandomTranslation(0.1, 0.1, fill_mode="reflect")',
                 'layers.RandomContrast(0.2, value_range=(0, 255))',
                 'layers.RandomBrightness(0.1, value_range=(0, 255))',
                 'preprocess_input = lesson.get_spec(profile.backbone).preprocess',
                 'base.trainable = False',
                 'inputs = keras.Input(shape=(profile.image_size, profile.image_size, 3))',
                 'x = augmentation(inputs)',
                 'x = preprocess_input(x)',
                 'x = base(x, training=False)',
                 'x = layers.GlobalAveragePooling2D()(x)',
                 'aug_model = keras.Model(inputs, outputs',
                 'aug_model.compile(optimizer=keras.optimizers.Adam(1e-3)',
                 'aug_model.fit(raw_ds["train"], validation_data=raw_ds["val"], epochs=profile.epochs',
                 'head.compile(optimizer=keras.optimizers.Adam(1e-3)',
                 'head.fit(f_train, y_train',
                 'views.augmentation_explorer('):
        assert line in code, f"notebook 06 no longer shows: {line}"
    assert "augment.augmented_model(" not in code and "lesson.compile_model(" not in code
    cell = _cell(NB06, "aug_model = keras.Model(")
    steps = ["x = augmentation(inputs)", "x = preprocess_input(x)", "x = base(x, training=False)",
             "x = layers.GlobalAveragePooling2D()(x)", "outputs = layers.Dense(10"]
    assert [cell.index(step) for step in steps] == sorted(cell.index(step) for step in steps)
    text = NB06.read_text(encoding="utf-8")
    assert "lesson.make_augmentation??" in text and "augment.augmented_model??" in text


def _notebook_06_namespace(size: int = 96, backbone: str = "mobilenet_025") -> dict:
    """Run notebook 06's augmentation, preprocessing, base and model cells (random weights)."""
    profile = types.SimpleNamespace(backbone=backbone, image_size=size)
    random_backbones = types.SimpleNamespace(
        get_spec=lesson.get_spec,
        load_backbone=lambda name, image_size: lesson.load_backbone(name, image_size, weights=None))
    ns = dict(keras=keras, layers=layers, profile=profile, backbones=random_backbones, training=training,
              print=lambda *a, **k: None)
    for marker in ("augmentation = keras.Sequential(", "preprocess_input = lesson.get_spec(",
                   "base.trainable = False", "aug_model = keras.Model("):
        _run_cell(NB06, marker, ns)
    return ns


def test_augmentation_cell_matches_make_augmentation():
    ns = _run_cell(NB06, "augmentation = keras.Sequential(", dict(keras=keras, layers=layers,
                                                                  print=lambda *a, **k: None))
    taught, packaged = ns["augmentation"], lesson.make_augmentation(**lesson.DEFAULT_STRENGTHS)
    assert len(taught.layers) == len(packaged.layers) == 6
    assert _settings(taught) == _settings(packaged)
    assert taught.name == packaged.name == "augmentation"


def test_augmented_model_cell_matches_augment_augmented_model():
    ns = _notebook_06_namespace()
    taught, base = ns["aug_model"], ns["base"]
    assert ns["preprocess_input"] is keras.applications.mobilenet.preprocess_input
    assert not base.trainable
    other_base = lesson.load_backbone("mobilenet_025", 96, weights=None)
    packaged = augment.augmented_model(other_base, "mobilenet_025", 10,
                                       lesson.make_augmentation(**lesson.DEFAULT_STRENGTHS), **HEAD_06)
    _assert_same_model(taught, packaged)
    assert [t[0] for t in _trainable_layers(taught)] == ["BatchNormalization", "Dense", "Dense"]
    assert _count(taught.trainable_weights) == _count(lesson.make_head(256, 10, **HEAD_06).trainable_weights)
    # same weights -> same predictions: augmentation off, preprocessing and base in the same place
    _same_outputs(taught, packaged, 96)


def test_notebook_06_head_cell_builds_the_same_head_as_the_model_cell():
    """Section 5 trains lesson.make_head(**HEAD_06) on cached features: the head the model cell writes out."""
    head_cell = _cell(NB06, "head = lesson.make_head(")
    assert "units=(128,), dropout=0.5, batchnorm=True" in head_cell
    ns = _notebook_06_namespace()
    head = lesson.make_head(256, 10, **HEAD_06)
    assert _settings(ns["aug_model"])[-4:] == _settings(head)


@pytest.mark.parametrize("backbone", ["mobilenet_v2", "vgg16"])
def test_symbolic_preprocess_input_matches_the_helper_layer(backbone):
    """``x = preprocess_input(x)`` on a symbolic Keras tensor computes what BackbonePreprocess does."""
    fn = lesson.get_spec(backbone).preprocess
    inputs = keras.Input(shape=(8, 8, 3))
    taught = keras.Model(inputs, fn(inputs))
    x = np.random.default_rng(0).uniform(0, 255, (2, 8, 8, 3)).astype("float32")
    np.testing.assert_allclose(taught.predict(x, verbose=0),
                               np.asarray(augment.BackbonePreprocess(backbone)(x)), rtol=1e-5, atol=1e-5)
