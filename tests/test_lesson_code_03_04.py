"""The Keras code that notebooks 03 and 04 teach, run from the notebooks' own cells, must
build the same models as the helpers that package it (``lesson.transfer_classifier``,
``lesson.make_head``, ``lesson.unfreeze``, ``lesson.InferenceMode``).

Each test executes the notebook cell itself (found by its first line), so editing the
notebook or the helper alone makes the test fail.
"""

from __future__ import annotations

import json
import types
from pathlib import Path

import keras
import numpy as np
import pytest
from keras import layers

from tlhelpers import course, lesson, views
from tlhelpers.transfer import backbones, models, trainability, training

NOTEBOOKS = Path(__file__).resolve().parents[1] / "notebooks"


def cell(notebook: str, first_line: str) -> str:
    """The source of the one code cell of ``notebook`` that starts with ``first_line``."""
    nb = json.loads((NOTEBOOKS / notebook).read_text(encoding="utf-8"))
    found = [src for c in nb["cells"] if c["cell_type"] == "code"
             for src in ["".join(c["source"])] if src.startswith(first_line)]
    assert len(found) == 1, f"{notebook}: expected one code cell starting with {first_line!r}, found {len(found)}"
    return found[0]


#: Module names the notebooks used before the facades; a test may still pass a stand-in under them.
OLD_MODULES = {"assets", "augment", "backbones", "data", "evaluation", "experiments", "explore", "flowers", "folders",
               "heads", "measured", "models", "notebook", "params", "pipeline", "plots", "probing", "results",
               "shifts", "trainability", "training", "zoo"}


def with_facades(namespace: dict) -> dict:
    """Add the notebooks' facades (``course``, ``lesson``, ``views``) to ``namespace``, in place.

    A stand-in the test passes replaces the facade names it provides: under a module's name
    (``backbones=SimpleNamespace(load_backbone=fake)``) or under the name itself
    (``load_backbone=fake``). A facade passed explicitly is kept as it is.
    """
    for name, real in (("course", course), ("lesson", lesson), ("views", views)):
        if name in namespace:
            continue
        attrs = {n: getattr(real, n) for n in real.__all__}
        for key, value in list(namespace.items()):
            if key in attrs:
                attrs[key] = value
            elif key in OLD_MODULES:
                attrs.update({n: getattr(value, n) for n in attrs if hasattr(value, n)})
        namespace[name] = types.SimpleNamespace(**attrs)
    return namespace


def run_cell(notebook: str, first_line: str, **namespace) -> dict:
    namespace = with_facades({"keras": keras, "layers": layers, "np": np, **namespace})
    exec(compile(cell(notebook, first_line), f"{notebook}:{first_line[:30]}", "exec"), namespace)
    return namespace


def leaf_layers(model: keras.Model) -> list:
    """Layers with nested models (and InferenceMode) expanded, input layers left out."""
    out = []
    for layer in model.layers:
        inner = layer.base if isinstance(layer, lesson.InferenceMode) else layer
        if isinstance(inner, keras.Model):
            out += leaf_layers(inner)
        elif not isinstance(inner, keras.layers.InputLayer):
            out.append(inner)
    return out


def signature(layer) -> tuple:
    """A layer's type and configuration, without its (generated) name."""
    config = {k: v for k, v in layer.get_config().items() if k not in ("name", "dtype")}
    return type(layer).__name__, json.dumps(config, sort_keys=True, default=str)


def counts(model: keras.Model) -> tuple[int, int]:
    totals = lesson.trainability_table(model).totals
    return totals["trainable_params"], totals["non_trainable_params"]


def assert_same_model(plain: keras.Model, packaged: keras.Model) -> None:
    assert [signature(l) for l in leaf_layers(plain)] == [signature(l) for l in leaf_layers(packaged)]
    assert counts(plain) == counts(packaged)
    trainable = lambda m: [signature(l) for l in leaf_layers(m) if l.trainable and l.weights]
    assert trainable(plain) == trainable(packaged)


def test_notebook_03_vgg16_cells_equal_feature_extractor():
    ns = run_cell("03_feature_extraction.ipynb", "vgg_base = keras.applications.VGG16(")
    ns = run_cell("03_feature_extraction.ipynb", "inputs = keras.Input(shape=(224, 224, 3))", **ns)
    packaged = lesson.transfer_classifier(
        keras.applications.VGG16(include_top=False, weights=None, input_shape=(224, 224, 3)),
        10, **lesson.LESSON_HEADS["vgg16"])
    assert counts(ns["vgg_model"]) == (133_898, 14_714_688)
    assert_same_model(ns["vgg_model"], packaged)


@pytest.fixture(scope="module")
def mobilenet_v2_224():
    return lesson.load_backbone("mobilenet_v2", 224, weights=None)


def test_notebook_03_head_cell_equals_make_head(mobilenet_v2_224):
    ns = run_cell("03_feature_extraction.ipynb", "num_features = base.output_shape[-1]", base=mobilenet_v2_224,
                  training=training)
    lesson.set_seed(42)   # what the cell does first: notebook 04's new_head() starts from the same weights
    packaged = lesson.make_head(1280, 10, **lesson.LESSON_HEADS["mobilenet_v2"])
    assert_same_model(ns["head"], packaged)
    assert counts(ns["head"]) == (167_818, 2_560)
    assert all(np.array_equal(a, b) for a, b in zip(ns["head"].get_weights(), packaged.get_weights()))


def test_notebook_03_mobilenet_v2_model_equals_feature_extractor(mobilenet_v2_224):
    ns = run_cell("03_feature_extraction.ipynb", "num_features = base.output_shape[-1]", base=mobilenet_v2_224,
                  training=training)
    ns = run_cell("03_feature_extraction.ipynb", "inputs = keras.Input(shape=(S, S, 3))", S=224, **ns)
    packaged = lesson.transfer_classifier(mobilenet_v2_224, 10, **lesson.LESSON_HEADS["mobilenet_v2"])
    assert counts(ns["model"]) == (167_818, 2_257_984 + 2_560)
    assert_same_model(ns["model"], packaged)


def test_notebook_03_base_cell_builds_the_registered_backbone(monkeypatch):
    # In a TL_WEIGHTS=random run the cell asks for weights=None: no file needed.
    monkeypatch.setenv("TL_WEIGHTS", "random")
    from tlhelpers.settings.config import get_profile

    for name in ("mobilenet_025", "mobilenet_v2"):
        profile = get_profile("ci", env={"TL_BACKBONE": name, "TL_WEIGHTS": "random"})
        ns = run_cell("03_feature_extraction.ipynb", "weights = course.prepare_weights(", profile=profile,
                      S=profile.image_size, backbones=backbones)
        reference = lesson.load_backbone(name, profile.image_size, weights=None)
        assert [signature(l) for l in ns["base"].layers] == [signature(l) for l in reference.layers]
        assert ns["preprocess_input"] is lesson.get_spec(name).preprocess
        assert not ns["base"].trainable_weights


def test_notebook_04_vgg16_unfreeze_cell_equals_models_unfreeze():
    ns = run_cell("04_fine_tuning.ipynb", "vgg_base = keras.applications.VGG16(", models=models,
                  trainability=trainability)
    packaged = lesson.transfer_classifier(
        keras.applications.VGG16(include_top=False, weights=None, input_shape=(224, 224, 3)),
        10, **lesson.LESSON_HEADS["vgg16"])
    lesson.unfreeze(packaged, last_n=4)
    names = lambda m: [l.name for l in models.find_base(m).layers if l.trainable]
    assert names(ns["vgg_model"]) == names(packaged) == [
        "block5_conv1", "block5_conv2", "block5_conv3", "block5_pool"]
    assert counts(ns["vgg_model"]) == counts(packaged)


@pytest.mark.parametrize("unfreeze", [20, 40])
def test_notebook_04_unfreeze_loops_equal_models_unfreeze(unfreeze):
    def build():
        base = lesson.load_backbone("mobilenet_025", 96, weights=None)
        return base, lesson.transfer_classifier(base, 10, **lesson.LESSON_HEADS["mobilenet_v2"])

    ft_base, ft_model = build()
    run_cell("04_fine_tuning.ipynb", "ft_base.trainable = True", ft_base=ft_base, ft_model=ft_model,
             UNFREEZE=unfreeze, trainability=trainability)
    base, packaged = build()
    report = lesson.unfreeze(packaged, last_n=unfreeze)
    assert [l.name for l in ft_base.layers if l.trainable] == [l.name for l in base.layers if l.trainable]
    assert counts(ft_model) == counts(packaged)
    assert report.batchnorm_kept_frozen > 0
    assert not any(l.trainable for l in ft_base.layers if isinstance(l, layers.BatchNormalization))


def test_notebook_04_inference_mode_cell_behaves_like_the_package():
    ns = run_cell("04_fine_tuning.ipynb", "class InferenceMode(layers.Layer):", bn_moves=lambda f: None)

    def bn_moved(wrapper) -> bool:
        base = keras.Sequential([keras.Input((8, 8, 3)), layers.Conv2D(4, 3), layers.BatchNormalization()])
        inputs = keras.Input((8, 8, 3))
        x = layers.GlobalAveragePooling2D()(wrapper(base)(inputs))
        model = keras.Model(inputs, layers.Dense(2, activation="softmax")(x))
        base.trainable = True
        before = base.layers[-1].moving_mean.numpy()
        model.compile(optimizer="adam", loss="sparse_categorical_crossentropy")
        model.fit(np.random.default_rng(0).uniform(0, 1, (4, 8, 8, 3)), np.zeros(4), verbose=0)
        return not np.allclose(before, base.layers[-1].moving_mean.numpy())

    assert not bn_moved(ns["InferenceMode"]) and not bn_moved(lesson.InferenceMode)
    assert bn_moved(lambda base: (lambda x: base(x, training=False)))   # what the class fixes


def test_the_taught_lines_stay_in_the_notebooks():
    def code(notebook):
        nb = json.loads((NOTEBOOKS / notebook).read_text(encoding="utf-8"))
        return "\n".join("".join(c["source"]) for c in nb["cells"] if c["cell_type"] == "code")

    nb03, nb04 = code("03_feature_extraction.ipynb"), code("04_fine_tuning.ipynb")
    for line in ("keras.applications.MobileNetV2(include_top=False, weights=weights", "base.trainable = False",
                 "x = base(inputs, training=False)", "layers.GlobalAveragePooling2D()(x)",
                 "keras.Model(inputs, outputs", "model.compile(", "model.fit(fit_ds",
                 "keras.optimizers.Adam(learning_rate=1e-3)", "feature_model.predict(train_ds",
                 "preprocess_input = keras.applications.mobilenet_v2.preprocess_input", "head.fit(f_tr"):
        assert line in nb03, line
    for line in ("ft_base.trainable = True", "for layer in ft_base.layers[:-UNFREEZE]:",
                 "isinstance(layer, layers.BatchNormalization)", "keras.optimizers.Adam(learning_rate=FT_LR)",
                 "initial_epoch=profile.head_epochs", "for layer in vgg_base.layers[:-4]:",
                 "return self.base(inputs, training=False)"):
        assert line in nb04, line


def test_notebook_04_two_rates_cell_gives_the_head_its_own_rate():
    """Section 7's TwoRates: one SGD step moves the base by lr * gradient and the head (the last
    layer) by head_lr * gradient, and fit reports the loss and compile's metrics."""
    import tensorflow as tf

    ns = run_cell("04_fine_tuning.ipynb", "class TwoRates(keras.Model):", tf=tf)
    keras.utils.set_random_seed(0)
    inputs = keras.Input((4,))
    head = keras.Sequential([keras.Input((8,)), layers.Dense(3, activation="softmax")], name="head")
    outputs = head(layers.Dense(8, activation="relu", name="body")(inputs))
    model = ns["TwoRates"](inputs, outputs, head_optimizer=keras.optimizers.SGD(0.1))
    model.compile(optimizer=keras.optimizers.SGD(0.01), loss="sparse_categorical_crossentropy",
                  metrics=["accuracy"])
    x = np.random.default_rng(0).normal(size=(16, 4)).astype("float32")
    y = np.arange(16) % 3
    before = [v.numpy().copy() for v in model.trainable_variables]
    with tf.GradientTape() as tape:
        loss = keras.losses.SparseCategoricalCrossentropy()(y, model(x, training=True))
    grads = [g.numpy() for g in tape.gradient(loss, model.trainable_variables)]
    history = model.fit(x, y, batch_size=16, epochs=1, shuffle=False, verbose=0).history
    head_ids = {id(v) for v in head.trainable_variables}
    for v, w0, g in zip(model.trainable_variables, before, grads):
        lr = 0.1 if id(v) in head_ids else 0.01
        np.testing.assert_allclose(v.numpy(), w0 - lr * g, atol=1e-6)
    assert set(history) == {"loss", "accuracy"} and np.isclose(history["loss"][0], float(loss), atol=1e-5)
