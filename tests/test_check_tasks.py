"""Tests of tlhelpers.exercises.check_tasks: cats vs dogs (exercise 6) and the optimizer experiment (7)."""

import keras
import numpy as np
import pytest
from test_check import SIZE, compiled, fe_model
from test_check_models import unfreeze

from tlhelpers import check
from tlhelpers.exercises import check_runs

rng = np.random.default_rng(0)
X = rng.integers(0, 256, (24, SIZE, SIZE, 3)).astype("float32")
Y = np.arange(24) % 2


def binary(model):
    return compiled(model, loss="binary_crossentropy")


@pytest.fixture(scope="module")
def cats_dogs():
    model = binary(fe_model(units=1, activation="sigmoid"))
    history = model.fit(X[:16], Y[:16], validation_data=(X[16:], Y[16:]), epochs=1, verbose=0)
    return model, history, check_runs.accuracy(model, (X[16:], Y[16:]))[0]


def test_exercise_6_passes_when_the_measured_accuracy_is_beyond_chance(cats_dogs, monkeypatch):
    # the check re-measures the model; here the measurement is replaced by a score of 7 of 8
    # (binomial p = 0.035 against guessing), so only the verdict's logic is under test
    model, history, _ = cats_dogs
    monkeypatch.setattr(check_runs, "accuracy", lambda m, data: (0.875, 8))
    fb = check.exercise_6(model, history, 0.875, (X[16:], Y[16:]))
    assert fb.passed and "beyond chance" in fb.text(), fb.text()


def test_exercise_6_right_and_wrong(cats_dogs):
    model, history, acc = cats_dogs
    val = (X[16:], Y[16:])
    fb = check.exercise_6(model, history, acc, val)
    # random pixels: the model cannot learn them, and a score at chance does not pass
    assert not fb.passed and "guessing would do as well" in fb.text(), fb.text()
    assert "One sigmoid output" in fb.text()
    assert "but the model scores" in check.exercise_6(model, history, (acc + 0.5) % 1, val).text()
    assert "not 0 and 1" in check.exercise_6(model, history, acc, (X[16:], Y[16:] + 3)).text()
    assert "not the pair" in check.exercise_6(model, history, acc, X[16:]).text()
    softmax_one = binary(fe_model(units=1, activation="softmax"))
    assert "do not fit together" in check.exercise_6(softmax_one, history, acc, val).text()
    big = binary(fe_model(units=1, activation="sigmoid", size=48, resize=True))
    assert "inputs of shape" in check.exercise_6(big, history, acc, val).text()
    two = compiled(fe_model(units=2))
    assert "2 softmax outputs" in check.exercise_6(two, history, acc, val).text()


def fine_tune_runs(model, optimizers, base_frozen=False):
    """The notebook's loop: same start, one fit per optimizer at the fine-tuning stage."""
    if not base_frozen:
        unfreeze(check.ins.find_base(model), n=6)
    start = model.get_weights()
    histories = {}
    for name, opt in optimizers.items():
        model.set_weights(start)
        compiled(model, optimizer=opt, loss="binary_crossentropy")
        histories[name] = model.fit(X[:16], Y[:16], validation_data=(X[16:], Y[16:]), epochs=1, verbose=0)
    return histories


def three():
    return {"sgd": keras.optimizers.SGD(1e-4, momentum=0.9), "adam": keras.optimizers.Adam(1e-4),
            "rmsprop": keras.optimizers.RMSprop(1e-4)}


def test_exercise_7_right():
    opts = three()
    fb = check.exercise_7(opts, fine_tune_runs(fe_model(units=1, activation="sigmoid"), opts))
    assert fb.passed, fb.text()
    assert "sgd (lr 0.0001): val_accuracy" in fb.text()


def test_exercise_7_wrong():
    assert "map a name to a keras optimizer" in check.exercise_7([0.5] * 4, [0.5] * 4).text()
    opts = three()
    fake = {name: {"val_accuracy": [0.5]} for name in opts}
    assert "not the History of a finished fit" in check.exercise_7(opts, fake).text()
    assert "needs one History per name" in check.exercise_7(opts, [0.5, 0.5, 0.5]).text()
    plain_sgd = {**three(), "sgd": keras.optimizers.SGD(1e-4)}
    assert "Missing: SGD with momentum" in check.exercise_7(plain_sgd, {}).text()
    head_only = three()
    hists = fine_tune_runs(fe_model(units=1, activation="sigmoid"), head_only, base_frozen=True)
    assert "trained the head only" in check.exercise_7(head_only, hists).text()
    shared = keras.optimizers.Adam(1e-4)
    reused = {"sgd": keras.optimizers.SGD(1e-4, momentum=0.9), "adam": shared, "rmsprop": shared}
    text = check.exercise_7(reused, fine_tune_runs(fe_model(units=1, activation="sigmoid"), reused)).text()
    assert "Missing: RMSprop" in text and "made 2 updates, but its History has 1" in text
    unused = three()
    assert "never made an update" in check.exercise_7(unused, {n: hists["sgd"] for n in unused}).text()
