"""Tests of tlhelpers.exercises.check_runs and tlhelpers.exercises.inspection: the evidence the checks rely on."""

import keras
import numpy as np
from test_check import SIZE, compiled, fe_model, make_base

from tlhelpers.exercises import check_runs, inspection
from tlhelpers.exercises.feedback import Feedback, describe


def test_accuracy_is_recomputed_from_the_model():
    model = compiled(fe_model(units=2))
    x = np.random.default_rng(0).integers(0, 256, (10, SIZE, SIZE, 3)).astype("float32")
    pred = model.predict(x, verbose=0).argmax(-1)
    assert check_runs.accuracy(model, (x, pred)) == (1.0, 10)
    assert check_runs.accuracy(model, (x, 1 - pred)) == (0.0, 10)
    assert check_runs.tolerance(100) == 0.01 and check_runs.tolerance(10_000) == 0.001


def test_as_accuracy_explains_each_wrong_form():
    for value, phrase in [([0.3, 0.6], "[loss, accuracy]"), (57, "percentage"), ("0.5", "the text"),
                          (None, "None"), (True, "boolean"), (-1, "between 0 and 1")]:
        fb = Feedback("exercise_2", "t")
        assert check_runs.as_accuracy(fb, value, "acc") is None and phrase in fb.text(), (value, fb.text())
    assert check_runs.as_accuracy(Feedback("exercise_2", "t"), np.float32(0.25), "acc") == 0.25


def test_snapshot_and_changed_layers():
    base = make_base()
    check_runs.remember(base)
    before = check_runs.snapshot_of(base)
    assert check_runs.changed_layers(base, before) == []
    layer = base.get_layer("conv_pw_13")
    layer.kernel.assign(layer.kernel + 1.0)
    assert check_runs.changed_layers(base, before) == ["conv_pw_13"]
    check_runs.remember(base)  # the first copy is kept
    assert check_runs.changed_layers(base, check_runs.snapshot_of(base)) == ["conv_pw_13"]
    assert check_runs.looks_random(make_base(pretrained=False)) and not check_runs.looks_random(base)


def test_history_must_come_from_fit_of_this_model():
    model = compiled(fe_model())
    fb = Feedback("exercise_2", "t")
    assert check_runs.check_history(fb, keras.callbacks.History(), model) is None
    assert "no epoch" in fb.text()


def test_inspection_sees_the_base_call_and_what_reaches_it():
    base = make_base()
    model = fe_model(base)
    assert inspection.find_base(model) is base and inspection.backbone_of(base) == "mobilenet_025"
    assert inspection.base_call(model, base) == (True, False)
    assert inspection.base_call(fe_model(training=None), inspection.find_base(fe_model())) == (False, None)
    x = np.full((2, SIZE, SIZE, 3), 255.0, np.float32)
    assert np.allclose(inspection.input_of(model, base, x), 1.0)
    assert inspection.last_activation(model) == "softmax" and inspection.num_outputs(model) == 3
    assert inspection.loss_kind(compiled(model)) == ("sparse", False)
    assert describe([]) == "an empty list" and describe(keras.Sequential()) == "a Sequential"


def test_accuracy_falls_back_to_eager_once_for_a_model_that_cannot_be_traced():
    class NumpyInside(keras.Model):   # .numpy() works eagerly but not inside a tf.function
        calls = 0

        def call(self, x, training=False):
            NumpyInside.calls += 1
            mean = float(keras.ops.mean(x).numpy())
            return keras.ops.one_hot(keras.ops.zeros((keras.ops.shape(x)[0],), "int32") + int(mean > 1e9), 2)

    model = NumpyInside()
    model(np.zeros((1, 4, 4, 3), "float32"))
    x, y = np.zeros((130, 4, 4, 3), "float32"), np.zeros(130, int)   # 3 batches of at most 64
    NumpyInside.calls = 0
    acc, n = check_runs.accuracy(model, (x, y))
    assert (acc, n) == (1.0, 130)
    assert NumpyInside.calls == 4   # one failed trace, then 3 eager batches: no new trace per batch


def test_learning_rate_reads_constants_and_schedules_that_end_at_zero():
    """A learning rate of 0 means no weight moved; a cosine decay that ends at 0 did train."""
    import keras

    from tlhelpers.exercises.inspection import learning_rate as rate_of

    def learning_rate(model):
        return rate_of(getattr(model, "optimizer", None))

    model = keras.Sequential([keras.Input((2,)), keras.layers.Dense(1)])
    model.compile(optimizer=keras.optimizers.Adam(0.0), loss="mse")
    assert learning_rate(model) == 0.0
    schedule = keras.optimizers.schedules.CosineDecay(1e-3, decay_steps=4)
    model.compile(optimizer=keras.optimizers.Adam(schedule), loss="mse")
    model.fit(np.zeros((8, 2)), np.zeros(8), batch_size=2, epochs=1, verbose=0)   # 4 steps: now at 0
    assert learning_rate(model) > 0
    assert learning_rate(keras.Sequential()) is None
