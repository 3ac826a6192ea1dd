"""Saving, reloading and using a model: notebook 04's cells (run from the notebook itself) and
the check of exercise 2b in notebook 07, with right answers in their common forms and the
mistakes a learner (or an attacker) can make."""

from __future__ import annotations

import os
import types
from pathlib import Path

import keras
import numpy as np
import pytest
from keras import layers
from PIL import Image

from tlhelpers import check, course, lesson
from tlhelpers.transfer import backbones, folders, models
from tests.test_lesson_code_03_04 import run_cell

SIZE = 32


@pytest.fixture(scope="module")
def fd(tmp_path_factory):
    root = tmp_path_factory.mktemp("imgs")
    rng = np.random.default_rng(0)
    for i, name in enumerate("abc"):
        (root / name).mkdir()
        for j in range(5):
            img = np.clip(rng.normal(60, 20, (SIZE, SIZE, 3)), 0, 255)
            img[..., i] += 120
            Image.fromarray(np.clip(img, 0, 255).astype(np.uint8)).save(root / name / f"{j}.png")
    return course.load_image_folder(root, 0.2, test_split=0.2, verbose=False)


def small_model(lambda_layer: bool = False) -> keras.Model:
    keras.utils.set_random_seed(0)
    inputs = keras.Input((SIZE, SIZE, 3))
    if lambda_layer:
        x = layers.Lambda(keras.applications.mobilenet.preprocess_input)(inputs)
    else:
        x = keras.applications.mobilenet.preprocess_input(inputs)   # ops on the tensor: saved with the model
    x = layers.Conv2D(4, 3, activation="relu")(x)
    x = layers.GlobalAveragePooling2D()(x)
    return keras.Model(inputs, layers.Dense(3, activation="softmax")(x))


def top3_of(model, path, interpolation="nearest", names=("a", "b", "c")):
    img = keras.utils.load_img(path, target_size=(SIZE, SIZE), interpolation=interpolation)
    probs = keras.ops.convert_to_numpy(model(keras.utils.img_to_array(img)[None]))[0]
    return [(names[k], float(probs[k])) for k in np.argsort(probs)[::-1][:3]]


@pytest.fixture()
def saved(fd, tmp_path):
    model = small_model()
    path = tmp_path / "m.keras"
    model.save(path)
    return model, path, keras.models.load_model(path), fd.test_paths[0]


def text(fb):
    return fb.text()


# ---------------------------------------------------------------- right answers
@pytest.mark.parametrize("interpolation", ["nearest", "bilinear"])
def test_right_answer_passes(fd, saved, interpolation):
    model, path, loaded, image = saved
    fb = check.exercise_2b(model, str(path), loaded, top3_of(loaded, image, interpolation), image, fd)
    assert fb.passed, text(fb)


def test_right_answer_as_dict_and_path_objects(fd, saved):
    model, path, loaded, image = saved
    top3 = dict(top3_of(loaded, image))
    fb = check.exercise_2b(model, Path(path), loaded, top3, Path(image), fd)
    assert fb.passed, text(fb)


# ---------------------------------------------------------------- mistakes
def test_loaded_is_the_model_itself(fd, saved):
    model, path, _, image = saved
    fb = check.exercise_2b(model, path, model, top3_of(model, image), image, fd)
    assert not fb.passed and "load_model" in text(fb)


@pytest.mark.parametrize("name", ["missing.keras", "m.h5"])
def test_no_keras_file(fd, saved, tmp_path, name):
    model, _, loaded, image = saved
    fb = check.exercise_2b(model, tmp_path / name, loaded, top3_of(loaded, image), image, fd)
    assert not fb.passed and "model.save" in text(fb)


def test_damaged_file_is_a_fix_not_a_traceback(fd, saved, tmp_path):
    model, path, loaded, image = saved
    bad = tmp_path / "bad.keras"
    bad.write_bytes(path.read_bytes()[:200])   # half written
    fb = check.exercise_2b(model, bad, loaded, top3_of(loaded, image), image, fd)
    assert not fb.passed and "damaged" in text(fb)


def test_saved_before_training(fd, saved, tmp_path):
    model, path, loaded, image = saved
    rng = np.random.default_rng(0)   # "trained" after saving
    model.layers[-1].set_weights([w + rng.normal(0, 1, w.shape) for w in model.layers[-1].get_weights()])
    fb = check.exercise_2b(model, path, loaded, top3_of(loaded, image), image, fd)
    assert not fb.passed and "other outputs" in text(fb)


def test_lambda_layer_cannot_be_loaded_safely(fd, tmp_path):
    model = small_model(lambda_layer=True)
    path = tmp_path / "lambda.keras"
    model.save(path)
    image = fd.test_paths[0]
    fb = check.exercise_2b(model, path, small_model(lambda_layer=True), top3_of(model, image), image, fd)
    assert not fb.passed and "Lambda" in text(fb)


@pytest.mark.parametrize("change", ["order", "names", "double_preprocess", "two", "strings", "number"])
def test_wrong_top3(fd, saved, change):
    model, path, loaded, image = saved
    right = top3_of(loaded, image)
    if change == "order":
        top3 = right[::-1]
    elif change == "names":
        top3 = [(name.upper(), p) for name, p in right]
    elif change == "double_preprocess":   # preprocessed by hand, then again inside the model
        img = keras.utils.img_to_array(keras.utils.load_img(image, target_size=(SIZE, SIZE)))
        probs = keras.ops.convert_to_numpy(loaded(keras.applications.mobilenet.preprocess_input(img)[None]))[0]
        top3 = [("abc"[k], float(probs[k])) for k in np.argsort(probs)[::-1][:3]]
    elif change == "two":
        top3 = right[:2]
    elif change == "strings":
        top3 = "a, b, c"
    else:
        top3 = 0.9
    fb = check.exercise_2b(model, path, loaded, top3, image, fd)
    assert not fb.passed, (change, text(fb))
    assert "Traceback" not in text(fb)


def test_missing_image_and_placeholders(fd, saved, tmp_path):
    model, path, loaded, image = saved
    fb = check.exercise_2b(model, path, loaded, top3_of(loaded, image), tmp_path / "nope.png", fd)
    assert not fb.passed and "no image file" in text(fb)
    fb = check.exercise_2b(model, path, None, None, image, fd)
    assert not fb.passed and not fb.done
    fb = check.exercise_2b(model, path, loaded, top3_of(loaded, image), image, object())
    assert not fb.passed and "names no classes" in text(fb)


# ---------------------------------------------------------------- notebook 04's cells
def test_notebook_04_save_reload_predict_round_trip(tmp_path, monkeypatch):
    """The cells of notebook 04, section 8, on a small stand-in of rec_model: the saved file
    takes raw pixels, reloads with the same outputs, and gives the top 3 of one image file."""
    monkeypatch.chdir(tmp_path)
    os.makedirs("saved_models")
    base = keras.applications.MobileNet(alpha=0.25, include_top=False, weights=None, input_shape=(SIZE, SIZE, 3))
    inputs = keras.Input((SIZE, SIZE, 3))
    x = layers.RandomFlip("horizontal")(inputs)
    x = lesson.InferenceMode(base)(x)
    x = layers.GlobalAveragePooling2D()(x)
    rec_model = keras.Model(inputs, layers.Dense(10, activation="softmax")(x))
    profile = types.SimpleNamespace(name="test", backbone="mobilenet_025")
    ns = run_cell("04_fine_tuning.ipynb", "preprocess_input = lesson.get_spec", backbones=backbones,
                  os=os, rec_model=rec_model, profile=profile, S=SIZE, a_grid=None, a_val=None)
    reloaded, deployable = ns["reloaded"], ns["deployable"]
    raw = np.random.default_rng(0).uniform(0, 255, (4, SIZE, SIZE, 3)).astype("float32")
    np.testing.assert_allclose(keras.ops.convert_to_numpy(reloaded(raw)),
                               keras.ops.convert_to_numpy(deployable(raw)), atol=1e-6)
    # the preprocessing travels inside the file: raw pixels in, the same as preprocessing by hand
    by_hand = rec_model(keras.applications.mobilenet.preprocess_input(raw.copy()))
    np.testing.assert_allclose(keras.ops.convert_to_numpy(reloaded(raw)), keras.ops.convert_to_numpy(by_hand),
                               atol=1e-5)
    images = np.random.default_rng(1).integers(0, 256, (3, 32, 32, 3)).astype("uint8")
    probs = keras.ops.convert_to_numpy(deployable(keras.ops.image.resize(images.astype("float32"), (SIZE, SIZE))))
    ft = types.SimpleNamespace(y_pred=probs.argmax(1), probs=probs)
    ns = run_cell("04_fine_tuning.ipynb", 'image_path = "saved_models/test-image.png"', reloaded=reloaded,
                  cifar=types.SimpleNamespace(x_test=images, y_test=np.array([3, 1, 2])), S=SIZE,
                  class_names=[f"class{i}" for i in range(10)], ft=ft)
    assert Path("saved_models/test-image.png").is_file()
    top = np.argsort(ns["probs_one"])[::-1][:3]
    assert ns["probs_one"].shape == (10,) and np.isclose(ns["probs_one"].sum(), 1, atol=1e-5)
    assert ns["probs_one"][top[0]] >= ns["probs_one"][top[1]] >= ns["probs_one"][top[2]]
