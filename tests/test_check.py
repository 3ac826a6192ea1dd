"""Tests of tlhelpers.check: every check with placeholders, right answers and wrong answers."""

import keras
import numpy as np
import pandas as pd
import pytest
from PIL import Image

from tlhelpers import check, folders
from tlhelpers.backbones import load_backbone
from tlhelpers.models import feature_extractor, make_head, unfreeze
from tlhelpers.training import compile_model

SIZE = 64


def _statuses(fb):
    return [status for status, _, _ in fb.items]


@pytest.fixture(scope="module")
def data(tmp_path_factory):
    root = tmp_path_factory.mktemp("imgs")
    rng = np.random.default_rng(0)
    for name in ("a", "b", "c"):
        (root / name).mkdir()
        for j in range(10):
            Image.fromarray(rng.integers(0, 256, (24, 24, 3), dtype=np.uint8)).save(root / name / f"{j}.png")
    return folders.load_image_folder(root, 0.2, test_split=0.2)


@pytest.fixture
def model():
    return feature_extractor(load_backbone("mobilenet_025", SIZE, weights=None), 3)


@pytest.mark.parametrize("fn,args", [
    (check.exercise_1, (None,)), (check.exercise_2, (None,)), (check.exercise_3, (None, None, None)),
    (check.exercise_4, (None, 1e-3)), (check.exercise_5, (...,)), (check.exercise_6, (None, None)),
    (check.challenge, (None, None, "TODO")),
])
def test_placeholders_are_not_done_yet(fn, args, capsys):
    fb = fn(*args)
    assert not fb.passed and not fb.done
    assert "Not done yet" in capsys.readouterr().out


def test_ready_and_repr(capsys):
    assert check.ready(a=1, b="x") and not check.ready(a=None)
    assert "Skipped: `a`" in capsys.readouterr().out
    assert "not done yet" in repr(check.exercise_2(None))
    assert "<b>" in check.exercise_2(None).html()


def test_exercise_1_right_and_wrong_preprocessing(data):
    right = check.exercise_1(data, data.dataset("train", SIZE, "mobilenet_025"), "mobilenet_025")
    assert right.passed, right.text()
    raw = check.exercise_1(data, data.dataset("train", SIZE, None), "mobilenet_025")
    assert not raw.passed and "raw pixels" in raw.text()
    caffe = check.exercise_1(data, data.dataset("train", SIZE, "resnet50"), "mobilenet_025")
    assert "caffe" in caffe.text() and "Hint" in caffe.text()
    assert check.exercise_1(data, data.dataset("train", SIZE, "efficientnet_b0"), "efficientnet_b0").passed
    assert not check.exercise_1("folder", data.dataset("train", SIZE), "vgg16").passed


def test_exercise_2_right(model, data):
    fb = check.exercise_2(model, 3, data.dataset("train", SIZE, "mobilenet_025"))
    assert fb.passed, fb.text()
    assert "inference mode" in fb.text() and "Parameters:" in fb.text()


def test_exercise_2_plain_training_false_call_passes():
    base = load_backbone("mobilenet_025", SIZE, weights=None)
    base.trainable = False
    inputs = keras.Input((SIZE, SIZE, 3))
    x = keras.layers.GlobalAveragePooling2D()(base(inputs, training=False))
    model = keras.Model(inputs, keras.layers.Dense(3, activation="softmax")(x))
    assert check.exercise_2(model, 3).passed


def test_exercise_2_wrong(data):
    base = load_backbone("mobilenet_025", SIZE, weights=None)
    bad = feature_extractor(base, 5, base_training=None)
    base.trainable = True
    fb = check.exercise_2(bad, 3, data.dataset("train", SIZE, None))
    text = fb.text()
    assert not fb.passed
    for phrase in ("trainable parameters", "training=None", "5 units but there are 3", "raw pixels"):
        assert phrase in text
    logits = keras.Sequential([keras.Input((SIZE, SIZE, 3)), load_backbone("mobilenet_025", SIZE, weights=None),
                               keras.layers.GlobalAveragePooling2D(), keras.layers.Dense(3)])
    assert "not probabilities" in check.exercise_2(logits, 3).text()
    assert "No pretrained base" in check.exercise_2(make_head(8, 3), 3).text()
    assert "not a Keras model" in check.exercise_2("model").text()


def test_exercise_3(model):
    history = {"loss": [1.0, 0.8], "accuracy": [0.4, 0.5], "val_loss": [1.0, 0.9], "val_accuracy": [0.4, 0.6]}
    assert check.exercise_3(model, history, 0.6).passed
    no_val = check.exercise_3(model, {"loss": [1.0]}, 0.2)
    assert "no validation" in no_val.text() and "no better than guessing" in no_val.text()
    assert not check.exercise_3(model, [1, 2], 1.7).passed
    unfreeze(model, last_n=5)
    assert "already trainable" in check.exercise_3(model, history, 0.6).text()


def test_exercise_4(model):
    unfreeze(model, last_n=10)
    compile_model(model, 1e-4, verbose=False)
    assert check.exercise_4(model, 1e-3, 0.7, 0.6).passed
    assert "not lower" in check.exercise_4(model, 1e-5, 0.7).text()
    unfreeze(model, last_n=10, train_batchnorm=True)
    assert "BatchNormalization layers are trainable" in check.exercise_4(model, 1e-3, 0.7).text()


def test_exercise_4_not_unfrozen_or_not_recompiled(model):
    compile_model(model, 1e-4, verbose=False)
    assert "No layer of the base is trainable" in check.exercise_4(model, 1e-3, 0.5).text()
    x, y = np.zeros((4, SIZE, SIZE, 3), np.float32), np.arange(4) % 3
    model.fit(x, y, epochs=1, verbose=0)  # builds the optimizer with the head's weights only
    unfreeze(model, last_n=10)
    assert "not recompiled" in check.exercise_4(model, 1e-3, 0.5).text()


def test_exercise_5():
    good = pd.DataFrame([
        dict(backbone="mobilenet_025", weights="imagenet", params=2e5, seconds=1.0, accuracy=0.6),
        dict(backbone="resnet50", weights="none (size and speed only)", params=2e7, seconds=5.0, accuracy=np.nan),
        dict(backbone="efficientnet_b0", weights=None, params=4e6, seconds=2.0, accuracy=None)])
    assert check.exercise_5(good).passed
    cheat = good.copy()
    cheat.loc[1, "accuracy"] = 0.3
    assert "not a transfer-learning result" in check.exercise_5(cheat).text()
    assert "Only 2" in check.exercise_5(good.iloc[:2]).text()
    assert not check.exercise_5([{"backbone": "x"}]).passed


def test_exercise_6_and_challenge():
    assert check.exercise_6([1e-4, 1e-3, 1e-2], [0.3, 0.6, 0.5]).passed
    assert not check.exercise_6([1e-3, 1e-3], [0.5, 0.5]).passed
    assert "2 values but 3 scores" in check.exercise_6([1, 2], [0.1, 0.2, 0.3], "unfrozen_layers").text()
    assert not check.exercise_6([1e-4, 1e-3, 1e-2], [30, 60, 50]).passed
    words = "colour matters because the features were learned on colour photographs of many objects and scenes"
    assert check.challenge(0.7, 0.5, words).passed
    assert "only 2 words" in check.challenge(0.7, 0.5, "too short").text()


def test_summary_and_all_passed(capsys):
    check.summary()
    assert "Summary of your checks" in capsys.readouterr().out
    assert isinstance(check.all_passed(), bool)
