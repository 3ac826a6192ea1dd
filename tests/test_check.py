"""Tests of tlhelpers.check (exercises 1, 2, the challenge) and of every check on malformed input.

Models are MobileNet v1 alpha 0.25 at 32 px with random weights (fast); "pretrained" ones get
learned-looking BatchNormalization statistics, which is what the checks look at.
"""

import dataclasses
import functools

import keras
import numpy as np
import pytest
from keras import layers
from PIL import Image

from tlhelpers import check
from tlhelpers.exercises import check_evidence, check_runs
from tlhelpers.transfer import folders, shifts
from tlhelpers.exercises.feedback import guarded

SIZE = 32
CLASSES = 3
def _text(fb):
    return fb.text()


def make_folder(root, per_class=10):
    rng = np.random.default_rng(0)
    for i, name in enumerate("abc"[:CLASSES]):
        (root / name).mkdir()
        for j in range(per_class):
            img = np.clip(rng.normal(60, 2, (SIZE, SIZE, 3)), 0, 255)
            img[..., i] += 150   # one colour per class: easy to learn, so a trained model is beyond chance
            img = np.clip(img, 0, 255).astype(np.uint8)
            Image.fromarray(img).save(root / name / f"{j}.png")
    return folders.load_image_folder(root, 0.2, test_split=0.2, verbose=False)


def _fake_imagenet():
    """Random convolutions with learned-looking BatchNormalization statistics, fixed once: the
    tests' stand-in for the ImageNet file (MobileNet 0.25 at 32 px barely separates anything
    with its real weights, which would make every model of these tests score at chance)."""
    base = keras.applications.MobileNet(alpha=0.25, include_top=False, weights=None, input_shape=(SIZE, SIZE, 3))
    # learned statistics, as pretraining leaves them: one pass in training mode with momentum 0
    bns = [layer for layer in base.layers if isinstance(layer, layers.BatchNormalization)]
    for bn in bns:
        bn.momentum = 0.0
    base(np.random.default_rng(1).uniform(-1, 1, (64, SIZE, SIZE, 3)).astype("float32"), training=True)
    return base.get_weights(), check_runs.weights_by_layer(base)


FAKE_IMAGENET, _BY_LAYER = _fake_imagenet()
# the checks compare bases with "the ImageNet file": in these tests, with the stand-in above
check_evidence._PRISTINE[("mobilenet_025", (SIZE, SIZE, 3))] = _BY_LAYER


def make_base(pretrained=True):
    base = keras.applications.MobileNet(alpha=0.25, include_top=False, weights=None, input_shape=(SIZE, SIZE, 3))
    if pretrained:
        base.set_weights(FAKE_IMAGENET)
    base.trainable = False
    return base


def fe_model(base=None, preprocess=1, training=False, pool=True, units=CLASSES, activation="softmax",
             augmentation=None, size=SIZE, resize=False):
    base = base or make_base()
    inputs = keras.Input((size, size, 3))
    x = augmentation(inputs) if augmentation is not None else inputs
    x = layers.Resizing(SIZE, SIZE)(x) if resize else x
    for _ in range(preprocess):
        x = keras.applications.mobilenet.preprocess_input(x) if preprocess > 0 else x
    x = base(x, training=training) if training is not None else base(x)
    x = layers.GlobalAveragePooling2D()(x) if pool else x
    return keras.Model(inputs, layers.Dense(units, activation=activation)(x))


def compiled(model, lr=1e-3, loss="sparse_categorical_crossentropy", optimizer=None):
    model.compile(optimizer=optimizer or keras.optimizers.Adam(lr), loss=loss, metrics=["accuracy"],
                  run_eagerly=True)  # no graph tracing: much faster for these tiny runs
    return model


def raw(fd, split, shuffle=False):
    return fd.dataset(split, SIZE, None, batch_size=8, shuffle=shuffle)


@pytest.fixture(scope="module")
def fd(tmp_path_factory):
    return make_folder(tmp_path_factory.mktemp("imgs"))


@pytest.fixture(scope="module")
def trained(fd):
    model = compiled(fe_model(), lr=1e-2)   # learns the three colours well beyond chance
    history = model.fit(raw(fd, "train", True), validation_data=raw(fd, "validation"), epochs=8, verbose=0)
    return model, history, check_runs.accuracy(model, fd, "validation")[0]


# ---------------------------------------------------------------- exercise 1
def test_exercise_1_right_and_wrong(fd):
    assert check.exercise_1(fd, raw(fd, "train", True), raw(fd, "validation")).passed
    pre = check.exercise_1(fd, fd.dataset("train", SIZE, "mobilenet_025"), raw(fd, "validation"))
    assert "model does its own preprocessing" in _text(pre) and not pre.passed
    test_as_val = check.exercise_1(fd, raw(fd, "train"), raw(fd, "test"))
    assert "not the validation split" in _text(test_as_val)
    assert "not the FolderData" in _text(check.exercise_1("folder", raw(fd, "train"), raw(fd, "validation")))
    assert "not a dataset" in _text(check.exercise_1(fd, [1, 2], raw(fd, "validation")))


# ---------------------------------------------------------------- exercise 2
def test_exercise_2_right(fd, trained):
    model, history, acc = trained
    fb = check.exercise_2(model, history, acc, fd)
    assert fb.passed, _text(fb)
    assert "training=False" in _text(fb) and "holds the ImageNet weights" in _text(fb)


def _with_test_labels_differing(fd, model, acc):
    """The same folder with test labels chosen so the test accuracy differs from the validation one."""
    for c in range(CLASSES):
        other = dataclasses.replace(fd, test_labels=np.full(len(fd.test_paths), c))
        if abs(check_runs.accuracy(model, other, "test")[0] - acc) > 0.2:
            return other, check_runs.accuracy(model, other, "test")[0]
    pytest.skip("no labelling separates test from validation accuracy")


def test_exercise_2_wrong_claims(fd, trained):
    model, history, acc = trained
    other, test_acc = _with_test_labels_differing(fd, model, acc)
    assert "matches the test accuracy instead" in _text(check.exercise_2(model, history, test_acc, other))
    assert "but the model scores" in _text(check.exercise_2(model, history, (acc + 0.5) % 1, fd))
    assert "[loss, accuracy]" in _text(check.exercise_2(model, history, [0.9, acc], fd))
    assert "percentage" in _text(check.exercise_2(model, history, 57.0, fd))
    assert "dict of numbers" in _text(check.exercise_2(model, history.history, acc, fd))
    assert "another model" in _text(check.exercise_2(compiled(fe_model()), history, acc, fd))


@pytest.mark.parametrize("kwargs,phrase", [
    (dict(preprocess=0), "expects [-1, 1]"),
    (dict(preprocess=2), "preprocessed twice"),
    (dict(pool=False), "Nothing turns the base's feature maps"),
    (dict(units=5), "5 units but the data set has 3 classes"),
    (dict(activation=None), "not probabilities"),
])
def test_exercise_2_wrong_models(fd, trained, kwargs, phrase):
    fb = check.exercise_2(compiled(fe_model(**kwargs)), trained[1], 0.5, fd)
    assert phrase in _text(fb) and not fb.passed, _text(fb)


def test_exercise_2_wrong_base_and_compile(fd, trained):
    _, history, acc = trained
    unfrozen = fe_model()
    check.ins.find_base(unfrozen).trainable = True
    assert "trainable parameters" in _text(check.exercise_2(compiled(unfrozen), history, acc, fd))
    random_base = _text(check.exercise_2(compiled(fe_model(make_base(False))), history, acc, fd))
    assert "random weights" in random_base or "differ from the ImageNet file" in random_base, random_base
    assert "never compiled" in _text(check.exercise_2(fe_model(), history, acc, fd))
    bce = compiled(fe_model(), loss="binary_crossentropy")
    assert "binary cross-entropy, but there are 3 outputs" in _text(check.exercise_2(bce, history, acc, fd))
    no_base = compiled(keras.Sequential([keras.Input((SIZE, SIZE, 3)), layers.Flatten(), layers.Dense(3)]))
    assert "No pretrained base" in _text(check.exercise_2(no_base, history, acc, fd))


def test_exercise_2_plain_call_of_a_frozen_base_is_harmless_in_keras_3(fd):
    model = compiled(fe_model(training=None))
    history = model.fit(raw(fd, "train"), validation_data=raw(fd, "validation"), epochs=1, verbose=0)
    fb = check.exercise_2(model, history, check_runs.accuracy(model, fd)[0], fd)
    assert fb.passed and "harmless in Keras 3" in _text(fb), _text(fb)
    assert "update" not in _text(fb)  # no false claim that frozen BatchNormalization updates


def test_exercise_2_the_lessons_sequential_pattern_passes(fd):
    seq = compiled(keras.Sequential([keras.Input((SIZE, SIZE, 3)), layers.Rescaling(1 / 127.5, offset=-1),
                                     make_base(), layers.GlobalAveragePooling2D(),
                                     layers.Dense(CLASSES, activation="softmax")]))
    history = seq.fit(raw(fd, "train"), validation_data=raw(fd, "validation"), epochs=1, verbose=0)
    fb = check.exercise_2(seq, history, check_runs.accuracy(seq, fd)[0], fd)
    assert fb.passed and "training=None" in _text(fb) and "harmless in Keras 3" in _text(fb), _text(fb)


# ---------------------------------------------------------------- challenge
GOOD = ("Without colour the early filters respond differently, so the features of grey images move away "
        "from those the head learned; shape and texture survive, so accuracy stays above chance.")


def test_challenge(fd, trained):
    model = trained[0]
    shifted = fd.dataset("validation", SIZE, shifts.domain_shift("invert"), batch_size=8)
    acc, shifted_acc = check_runs.accuracy(model, fd)[0], check_runs.accuracy(model, shifted)[0]
    assert check.challenge(model, fd, shifted, acc, shifted_acc, GOOD).passed
    assert "1 different" in _text(check.challenge(model, fd, shifted, acc, shifted_acc, "word " * 15))
    german = ("Ohne Farbe reagieren die frühen Filter anders, deshalb entfernen sich die Merkmale der grauen "
              "Bilder von denen, die der Kopf gelernt hat; Form und Textur bleiben erhalten.")
    assert check.challenge(model, fd, shifted, acc, shifted_acc, german).passed   # no English word lists
    assert "repeats forever" in _text(check.challenge(model, fd, shifted.repeat(), acc, shifted_acc, GOOD))
    wrong = check.challenge(model, fd, shifted, (acc + 0.5) % 1, (shifted_acc + 0.5) % 1, GOOD)
    assert "but the model scores" in _text(wrong) and not wrong.passed
    assert "not text" in _text(check.challenge(model, fd, shifted, acc, shifted_acc, 42))
    assert "not a dataset" in _text(check.challenge(model, fd, "x", acc, shifted_acc, GOOD))


# ---------------------------------------------------------------- malformed input, every check
CHECKS = {check.exercise_1: 3, check.exercise_2: 4, check.exercise_3: 4, check.exercise_4: 3,
          check.exercise_5: 3, check.exercise_6: 4, check.exercise_7: 2, check.challenge: 6}
MALFORMED = {"None": None, "3": 3, "x": "x", "[]": [], "{}": {}, "dict history": {"loss": [1.0], "val_accuracy": [0.5]},
             "unbuilt Sequential": "unbuilt", "uncompiled model": "uncompiled", "list of numbers": [0.5] * 4,
             "numbers and None": [0.5, None, 0.7], "nan": float("nan"), "History never filled": "history"}


@functools.lru_cache(maxsize=1)
def _uncompiled():
    return fe_model()


@pytest.mark.parametrize("name", MALFORMED)
@pytest.mark.parametrize("fn", CHECKS, ids=lambda f: f.__name__)
def test_malformed_input_gets_feedback_not_a_traceback(fn, name):
    value = MALFORMED[name]
    value = {"unbuilt": keras.Sequential(), "uncompiled": _uncompiled(),
             "history": keras.callbacks.History()}.get(value, value) if isinstance(value, str) else value
    for position in range(CHECKS[fn]):
        args = ["x"] * CHECKS[fn]
        args[position] = value
        for fb in (fn(*args), fn(*[value] * CHECKS[fn])):
            assert isinstance(fb, check.Feedback) and fb.items and not fb.passed
            assert "could not inspect" not in fb.text(), fb.text()


def test_placeholders_ready_summary(capsys):
    assert not check.exercise_1(None, None, None).done
    assert check.ready(a=1) and not check.ready(a=None)
    assert "Skipped: `a`" in capsys.readouterr().out
    check.summary()
    assert "Summary of your checks" in capsys.readouterr().out
    assert isinstance(check.all_passed(), bool) and "<b>" in check.exercise_2(None, None, None, None).html()


def test_guard_turns_a_crash_into_feedback():
    @guarded("exercise_1")
    def broken():
        raise RuntimeError("boom")

    fb = broken()
    assert "could not inspect" in fb.text() and "RuntimeError: boom" in fb.text() and not fb.passed
