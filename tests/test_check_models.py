"""Tests of tlhelpers.exercises.check_models: fine-tuning (exercise 3), augmentation (4), scratch CNN (5)."""

import keras
import pytest
from keras import layers
from test_check import SIZE, compiled, fe_model, make_folder, raw

from tlhelpers import check
from tlhelpers.exercises import check_runs


@pytest.fixture(scope="module")
def fd(tmp_path_factory):
    return make_folder(tmp_path_factory.mktemp("imgs_models"))


def head_trained(fd):
    """Exercise 2 done right and checked (the check keeps a copy of the base's weights)."""
    model = compiled(fe_model())
    history = model.fit(raw(fd, "train"), validation_data=raw(fd, "validation"), epochs=1, verbose=0)
    check.exercise_2(model, history, check_runs.accuracy(model, fd)[0], fd)
    return model, history, check.ins.find_base(model)


def unfreeze(base, n=10, batchnorm=False):
    base.trainable = True
    for layer in base.layers[:-n]:
        layer.trainable = False
    for layer in base.layers:
        if isinstance(layer, layers.BatchNormalization) and not batchnorm:
            layer.trainable = False


def fine_tune(model, fd, lr=1e-4):
    compiled(model, lr)
    h = model.fit(raw(fd, "train"), validation_data=raw(fd, "validation"), epochs=2, initial_epoch=1, verbose=0)
    return h, check_runs.accuracy(model, fd)[0]


def test_exercise_3_right(fd):
    model, _, base = head_trained(fd)
    unfreeze(base)
    h, acc = fine_tune(model, fd)
    fb = check.exercise_3(model, h, acc, fd)
    assert fb.passed, fb.text()
    assert "initial_epoch" in fb.text() and "changed" in fb.text() and "lower than the head's" in fb.text()
    assert "but the model scores" in check.exercise_3(model, h, (acc + 0.5) % 1, fd).text()


def test_exercise_3_nothing_unfrozen_but_trained(fd):
    model, _, _ = head_trained(fd)
    h, acc = fine_tune(model, fd)
    text = check.exercise_3(model, h, acc, fd).text()
    assert "No layer of the base is trainable" in text and "No layer of the base differs" in text


def test_exercise_3_unfrozen_but_not_trained(fd):
    model, history, base = head_trained(fd)
    unfreeze(base)
    compiled(model, 1e-4)
    fb = check.exercise_3(model, history, 0.5, fd)
    assert "No layer of the base differs" in fb.text() and "History of Exercise 2" in fb.text()


def test_exercise_3_batchnorm_trainable_and_lr_not_lower(fd):
    model, _, base = head_trained(fd)
    unfreeze(base, batchnorm=True)
    h, acc = fine_tune(model, fd, lr=1e-3)
    text = check.exercise_3(model, h, acc, fd).text()
    assert "BatchNormalization layers are trainable" in text and "keras-team/keras#20285" in text
    assert "statistics of" in text and "not lower than the head's" in text


def test_exercise_3_not_recompiled(fd):
    model, history, base = head_trained(fd)
    unfreeze(base)  # fit would now refuse the new variables (or, traced, train the head only)
    text = check.exercise_3(model, history, 0.5, fd).text()
    assert "still the one compiled before unfreezing" in text


def augmentation():
    return keras.Sequential([layers.RandomFlip("horizontal"), layers.RandomRotation(0.1)], name="augmentation")


def test_exercise_4(fd):
    model = compiled(fe_model(augmentation=augmentation()))
    h = model.fit(raw(fd, "train"), validation_data=raw(fd, "validation"), epochs=1, verbose=0)
    fb = check.exercise_4(model, h, fd)
    assert fb.passed, fb.text()
    assert "RandomFlip" in fb.text() and "raw [0, 255] pixels" in fb.text()
    assert "No random augmentation layer" in check.exercise_4(compiled(fe_model()), h, fd).text()
    inputs = keras.Input((SIZE, SIZE, 3))
    x = augmentation()(keras.applications.mobilenet.preprocess_input(inputs))
    base = check.ins.find_base(fe_model())
    late = compiled(keras.Model(inputs, layers.Dense(3, activation="softmax")(
        layers.GlobalAveragePooling2D()(base(x, training=False)))))
    assert "runs after preprocess_input" in check.exercise_4(late, h, fd).text()
    assert "another model" in check.exercise_4(late, h, fd).text()


def scratch_cnn(rescale=True, frozen=False, compile=True):
    model = keras.Sequential([keras.Input((SIZE, SIZE, 3))] + ([layers.Rescaling(1 / 255)] if rescale else []) + [
        layers.Conv2D(8, 3, activation="relu"), layers.MaxPooling2D(), layers.Conv2D(8, 3, activation="relu"),
        layers.GlobalAveragePooling2D(), layers.Dense(3, activation="softmax")])
    model.layers[-1].trainable = not frozen
    return compiled(model) if compile else model


def test_exercise_5(fd):
    model = scratch_cnn()
    h = model.fit(raw(fd, "train"), validation_data=raw(fd, "validation"), epochs=1, verbose=0)
    fb = check.exercise_5(model, h, fd)
    assert fb.passed, fb.text()
    assert "2 Conv2D and 1 pooling" in fb.text() and "From scratch:" in fb.text()
    assert "raw pixels" in check.exercise_5(scratch_cnn(rescale=False), h, fd).text()
    assert "parameters are frozen" in check.exercise_5(scratch_cnn(frozen=True), h, fd).text()
    assert "contains a pretrained base" in check.exercise_5(compiled(fe_model()), h, fd).text()
    dense = compiled(keras.Sequential([keras.Input((SIZE, SIZE, 3)), layers.Flatten(), layers.Dense(3, "softmax")]))
    assert "0 Conv2D and 0 pooling" in check.exercise_5(dense, h, fd).text()
    assert "never compiled" in check.exercise_5(scratch_cnn(compile=False), h, fd).text()


@pytest.mark.parametrize("start, lower", [(1e-2, False), (1e-4, True)])
def test_exercise_3_reads_a_schedule_at_its_largest_rate(fd, start, lower):
    """A cosine decay from 1e-2 ends near 0, yet its first steps are 10 times the head's rate:
    the check judges a schedule by its largest value, and one from 1e-4 passes (issue 30's merge
    of the two learning-rate readers)."""
    model, _, base = head_trained(fd)
    unfreeze(base)
    schedule = keras.optimizers.schedules.CosineDecay(start, decay_steps=2)
    h, acc = fine_tune(model, fd, lr=schedule)
    text = check.exercise_3(model, h, acc, fd).text()
    assert ("lower than the head's" in text and "not lower" not in text) if lower else "not lower than the head's" in text
