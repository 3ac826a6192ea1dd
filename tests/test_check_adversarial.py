"""Issue 26: answers to notebook 07 written as a mistaken learner, an unusual but correct
learner, and an attacker, each with the verdict its check must give.

Every case builds real Keras objects (MobileNet 0.25 at 32 px on a folder of three colours,
with the tests' stand-in for the ImageNet file, see tests/test_check.py), runs the check,
and asserts pass or fail plus the phrase that explains the verdict. No case may raise, and
every check answers within seconds (the endless-dataset cases prove it cannot hang).
The checks' test against guessing runs for real here (marker ``chance``).
"""

from __future__ import annotations

import time

import keras
import numpy as np
import pytest
import tensorflow as tf
from keras import layers
from test_check import SIZE, compiled, fe_model, make_base, make_folder

from tlhelpers import check
from tlhelpers.exercises import check_runs
from tlhelpers.transfer import models, shifts

pytestmark = pytest.mark.chance
B = 8   # the learner's batch size


@pytest.fixture(scope="module")
def fd(tmp_path_factory):
    return make_folder(tmp_path_factory.mktemp("adversarial"), per_class=20)   # 36 / 12 / 12 images


def ds(fd, split, shuffle=False, batch=B, preprocess=None):
    return fd.dataset(split, SIZE, preprocess, batch_size=batch, shuffle=shuffle)


@pytest.fixture(scope="module")
def ex1(fd):
    fb = check.exercise_1(fd, ds(fd, "train", True), ds(fd, "validation"))   # remembers the batch size
    assert fb.passed, fb.text()
    return fb


def train(model, fd, data=None, epochs=10, lr=1e-2, loss="sparse_categorical_crossentropy", metrics=("accuracy",),
          val=None):
    model.compile(optimizer=keras.optimizers.Adam(lr) if not isinstance(lr, keras.optimizers.Optimizer) else lr,
                  loss=loss, metrics=list(metrics), run_eagerly=True)
    return model.fit(data if data is not None else ds(fd, "train", True),
                     validation_data=val if val is not None else ds(fd, "validation"), epochs=epochs, verbose=0)


def acc(model, fd):
    return check_runs.accuracy(model, fd)[0]


def verdict(fb, passed: bool, phrase: str = ""):
    text = fb.text()
    assert "could not inspect" not in text, text
    assert fb.passed is passed, text
    assert phrase in text, f"expected {phrase!r} in:\n{text}"


# ---------------------------------------------------------------- exercise 1: which data
@pytest.mark.parametrize("train_split,transform,passed,phrase", [
    ("validation", None, False, "does not stream the train split"),
    ("test", None, False, "does not stream the train split"),
    ("train", lambda d: d.repeat(), False, "repeats forever"),
    ("train", lambda d: d.take(1), False, "does not stream the train split"),
    ("train", "concat", False, "does not stream the train split"),
    ("train", None, True, "streams the 36 images of the train split"),
])
def test_exercise_1_which_split(fd, train_split, transform, passed, phrase):
    train_ds = ds(fd, train_split, shuffle=True)
    if transform == "concat":
        train_ds = train_ds.concatenate(ds(fd, "validation"))
    elif transform is not None:
        train_ds = transform(train_ds)
    start = time.time()
    verdict(check.exercise_1(fd, train_ds, ds(fd, "validation")), passed, phrase)
    assert time.time() - start < 30


def test_exercise_1_other_batch_size_passes(fd):
    verdict(check.exercise_1(fd, ds(fd, "train", True, batch=16), ds(fd, "validation", batch=16)), True)
    check.exercise_1(fd, ds(fd, "train", True), ds(fd, "validation"))   # back to batch B for the others


# ---------------------------------------------------------------- exercise 2: data, chance, weights, metrics
@pytest.fixture(scope="module")
def good2(fd, ex1):
    model = fe_model()
    history = train(model, fd)
    return model, history


def test_exercise_2_right(fd, good2):
    model, history = good2
    verdict(check.exercise_2(model, history, acc(model, fd), fd), True, "beyond guessing")


@pytest.mark.parametrize("split,phrase", [("validation", "trained on the validation"),
                                          ("test", "validation or test split")])
def test_exercise_2_trained_on_another_split(fd, ex1, split, phrase):
    model = fe_model()
    history = train(model, fd, data=ds(fd, split, True))
    verdict(check.exercise_2(model, history, acc(model, fd), fd), False, "steps per epoch")


@pytest.mark.parametrize("metric", [keras.metrics.SparseCategoricalAccuracy(), "acc",
                                    "sparse_categorical_accuracy", keras.metrics.SparseCategoricalAccuracy(name="a")])
def test_exercise_2_any_accuracy_metric(fd, ex1, metric):
    model = fe_model()
    history = train(model, fd, metrics=(metric,))
    verdict(check.exercise_2(model, history, acc(model, fd), fd), True, "with validation accuracy")


def test_exercise_2_one_hot_labels_with_categorical_crossentropy(fd, ex1):
    one_hot = lambda d: d.map(lambda x, y: (x, tf.one_hot(y, 3)))
    model = fe_model()
    history = train(model, fd, data=one_hot(ds(fd, "train", True)), val=one_hot(ds(fd, "validation")),
                    loss="categorical_crossentropy")
    verdict(check.exercise_2(model, history, acc(model, fd), fd), True, "one-hot labels")


def test_exercise_2_logits(fd, ex1):
    model = fe_model(activation=None)
    history = train(model, fd, loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True))
    verdict(check.exercise_2(model, history, acc(model, fd), fd), True, "Logits out")


def pinned_model():
    """Exercise 2's model with the base wrapped in InferenceMode; returns (model, base)."""
    base = make_base()
    inputs = keras.Input((SIZE, SIZE, 3))
    x = models.InferenceMode(base)(keras.applications.mobilenet.preprocess_input(inputs))
    return keras.Model(inputs, layers.Dense(3, activation="softmax")(layers.GlobalAveragePooling2D()(x))), base


def test_exercise_2_inference_mode_wrapper(fd, ex1):
    model, base = pinned_model()
    history = train(model, fd)
    verdict(check.exercise_2(model, history, acc(model, fd), fd), True, "pinned by InferenceMode")


def test_exercise_2_reinitialised_kernels(fd, ex1):
    model = fe_model()
    base = check.ins.find_base(model)
    conv = base.get_layer("conv1")
    conv.kernel.assign(keras.initializers.GlorotUniform(seed=3)(conv.kernel.shape))
    history = train(model, fd)
    verdict(check.exercise_2(model, history, acc(model, fd), fd), False, "differ from the ImageNet file")


def test_exercise_2_model_that_ignores_its_input(fd, ex1):
    base = make_base()
    inputs = keras.Input((SIZE, SIZE, 3))
    x = layers.GlobalAveragePooling2D()(base(keras.applications.mobilenet.preprocess_input(inputs), training=False))
    x = layers.Lambda(lambda t: t * 0.0)(x)   # the features never reach the head
    model = keras.Model(inputs, layers.Dense(3, activation="softmax")(x))
    history = train(model, fd)
    verdict(check.exercise_2(model, history, acc(model, fd), fd), False, "has not learned the task")


def test_exercise_2_labels_shuffled_on_purpose(fd, ex1):
    wrong = lambda d: d.map(lambda x, y: (x, (y + 1) % 3))   # every label moved to the next class
    model = fe_model()
    history = train(model, fd, data=wrong(ds(fd, "train", True)), val=wrong(ds(fd, "validation")))
    verdict(check.exercise_2(model, history, acc(model, fd), fd), False, "has not learned the task")


def test_exercise_2_untrained_history_of_zero_lr(fd, ex1):
    model = fe_model()
    history = train(model, fd, lr=keras.optimizers.Adam(0.0))
    verdict(check.exercise_2(model, history, acc(model, fd), fd), False, "has not learned")


# ---------------------------------------------------------------- exercise 3: fine-tuning evidence
def unfreeze(base, last=10, bn=False, bottom=False):
    base.trainable = True
    chosen = base.layers[1:last + 1] if bottom else base.layers[-last:]
    for layer in base.layers:
        layer.trainable = layer in chosen and (bn or not isinstance(layer, layers.BatchNormalization))


def fine_tuned(fd, lr=1e-4, checked=True, **kw):
    model = fe_model()
    history = train(model, fd)
    if checked:
        check.exercise_2(model, history, acc(model, fd), fd)
    unfreeze(check.ins.find_base(model), **kw)
    h = train(model, fd, epochs=1, lr=lr)
    return model, h


def test_exercise_3_right(fd, ex1):
    model, h = fine_tuned(fd)
    verdict(check.exercise_3(model, h, acc(model, fd), fd, 1e-2), True, "all among the unfrozen top")


def test_exercise_3_without_exercise_2s_check(fd, ex1):
    model, h = fine_tuned(fd, checked=False)
    verdict(check.exercise_3(model, h, acc(model, fd), fd, 1e-2), True, "compared with the ImageNet file")


@pytest.mark.parametrize("lr,phrase", [(0.0, "learning rate is 0"), (-1e-4, "learning rate is -0.0001"),
                                       (float("nan"), "learning rate is nan")])
def test_exercise_3_learning_rates_that_are_not_rates(fd, ex1, lr, phrase):
    model, h = fine_tuned(fd, lr=keras.optimizers.SGD(lr) if lr == lr else keras.optimizers.SGD(1e-4))
    if lr != lr:
        model.optimizer.learning_rate = lr
    verdict(check.exercise_3(model, h, acc(model, fd), fd, 1e-2), False, phrase)


def test_exercise_3_bottom_unfrozen(fd, ex1):
    model, h = fine_tuned(fd, bottom=True, last=20)
    verdict(check.exercise_3(model, h, acc(model, fd), fd, 1e-2), False, "sit below frozen ones")


def test_exercise_3_batchnorm_updating_with_a_plain_call(fd, ex1):
    model, h = fine_tuned(fd, bn=True)
    verdict(check.exercise_3(model, h, acc(model, fd), fd, 1e-2), False, "BatchNormalization")


def test_exercise_3_frozen_layer_changed_by_hand(fd, ex1):
    model, h = fine_tuned(fd)
    conv = check.ins.find_base(model).get_layer("conv_dw_2")
    conv.kernel.assign(conv.kernel * 1.5)
    verdict(check.exercise_3(model, h, acc(model, fd), fd, 1e-2), False, "frozen layers of the base differ")


def test_exercise_3_gamma_beta_trained_behind_inference_mode(fd, ex1):
    model, base = pinned_model()
    history = train(model, fd)
    check.exercise_2(model, history, acc(model, fd), fd)
    unfreeze(base, last=10, bn=True)
    h = train(model, fd, epochs=1, lr=1e-4)
    fb = check.exercise_3(model, h, acc(model, fd), fd, 1e-2)
    verdict(fb, True, "BatchNormalization layers stay frozen")
    assert "moving statistics" not in fb.text()


def test_exercise_3_cosine_schedule(fd, ex1):
    model, h = fine_tuned(fd, lr=keras.optimizers.Adam(keras.optimizers.schedules.CosineDecay(1e-4, 10)))
    verdict(check.exercise_3(model, h, acc(model, fd), fd, 1e-2), True, "lower than the head's")


def test_exercise_3_fine_tuned_on_the_validation_split(fd, ex1):
    model = fe_model()
    train(model, fd)
    unfreeze(check.ins.find_base(model))
    h = train(model, fd, data=ds(fd, "validation", True), epochs=1, lr=1e-4)
    verdict(check.exercise_3(model, h, acc(model, fd), fd, 1e-2), False, "steps per epoch")


# ---------------------------------------------------------------- exercise 4: augmentation
def aug_model(augmentation, base=None):
    return fe_model(base=base or make_base(), augmentation=augmentation)


@pytest.mark.parametrize("make", [
    lambda: keras.Sequential([layers.RandomFlip("horizontal")]),
    lambda: keras.Sequential([keras.Sequential([layers.RandomRotation(0.1)])]),
    # RandAugment's default colour operations erase these images' only cue (one colour per class),
    # so at full strength 4 epochs on 36 images learn nothing now and then; milder, it still counts
    lambda: layers.RandAugment(value_range=(0, 255), num_ops=1, factor=0.2) if hasattr(layers, "RandAugment") else None,
    lambda: layers.RandomErasing(value_range=(0, 255)) if hasattr(layers, "RandomErasing") else None,
    lambda: layers.Lambda(lambda x: keras.ops.flip(x, axis=2) if False else x + keras.random.uniform(
        keras.ops.shape(x), 0, 40)),   # a custom layer: noise in training and at inference (judged below)
])
def test_exercise_4_augmentation_layers(fd, ex1, make):
    keras.utils.set_random_seed(0)   # the same draws whatever ran before (the chance test is real here)
    augmentation = make()
    if augmentation is None:
        pytest.skip("this Keras has no such layer")
    model = aug_model(augmentation)
    history = train(model, fd, epochs=4)
    fb = check.exercise_4(model, history, fd)
    if isinstance(augmentation, layers.Lambda):   # it changes inference images too: not augmentation
        assert "could not inspect" not in fb.text()
        return
    verdict(fb, True, "Augmentation inside the model")


def test_exercise_4_reusing_exercise_2s_base(fd, ex1, good2):
    base = check.ins.find_base(good2[0])
    check.exercise_2(good2[0], good2[1], acc(good2[0], fd), fd)
    model = aug_model(keras.Sequential([layers.RandomFlip("horizontal")]), base=base)
    history = train(model, fd, epochs=2)
    verdict(check.exercise_4(model, history, fd), False, "reuses the base object")


def test_exercise_4_trained_on_validation(fd, ex1):
    model = aug_model(keras.Sequential([layers.RandomFlip("horizontal")]))
    history = train(model, fd, data=ds(fd, "validation", True), epochs=2)
    verdict(check.exercise_4(model, history, fd), False, "steps per epoch")


def test_exercise_4_no_augmentation(fd, ex1):
    model = fe_model()
    history = train(model, fd, epochs=2)
    verdict(check.exercise_4(model, history, fd), False, "No random augmentation")


# ---------------------------------------------------------------- exercise 5: scratch CNN
def scratch(*extra, frozen=False):
    model = keras.Sequential([keras.Input((SIZE, SIZE, 3)), layers.Rescaling(1 / 255), *extra,
                              layers.Conv2D(8, 3, activation="relu"), layers.MaxPooling2D(),
                              layers.Conv2D(8, 3, activation="relu"), layers.GlobalAveragePooling2D(),
                              layers.Dense(3, activation="softmax")])
    if frozen:
        model.layers[1].trainable = False   # the first Conv2D
    return model


def test_exercise_5_right(fd, ex1):
    model = scratch()
    verdict(check.exercise_5(model, train(model, fd, epochs=15), fd), True, "beyond guessing")


def test_exercise_5_batchnorm_after_each_conv(fd, ex1):
    model = keras.Sequential([keras.Input((SIZE, SIZE, 3)), layers.Rescaling(1 / 255),
                              layers.Conv2D(8, 3), layers.BatchNormalization(), layers.ReLU(), layers.MaxPooling2D(),
                              layers.Conv2D(8, 3), layers.BatchNormalization(), layers.ReLU(),
                              layers.GlobalAveragePooling2D(), layers.Dense(3, activation="softmax")])
    verdict(check.exercise_5(model, train(model, fd, epochs=15), fd), True, "parameters train")


def test_exercise_5_adapted_normalization(fd, ex1):
    norm = layers.Normalization()
    norm.adapt(ds(fd, "train").map(lambda x, y: x / 255.0))
    model = scratch(norm)
    verdict(check.exercise_5(model, train(model, fd, epochs=15), fd), True, "parameters train")


def test_exercise_5_at_chance(fd, ex1):
    model = scratch()   # its output ignores the image (zero kernel) and never learns (rate 0): one class always
    dense = model.layers[-1]
    dense.set_weights([np.zeros_like(dense.kernel.numpy()), dense.bias.numpy()])
    verdict(check.exercise_5(model, train(model, fd, epochs=1, lr=keras.optimizers.Adam(0.0)), fd), False,
            "has not learned the task")


def test_exercise_5_trained_on_validation(fd, ex1):
    model = scratch()
    verdict(check.exercise_5(model, train(model, fd, data=ds(fd, "validation", True), epochs=2), fd), False,
            "steps per epoch")


def test_exercise_5_a_frozen_convolution(fd, ex1):
    model = scratch(frozen=True)
    verdict(check.exercise_5(model, train(model, fd, epochs=2), fd), False, "parameters are frozen")


class SmallCNN(keras.Model):
    def __init__(self):
        super().__init__()
        self.scale = layers.Rescaling(1 / 255)
        self.c1, self.p1 = layers.Conv2D(8, 3, activation="relu"), layers.MaxPooling2D()
        self.c2, self.pool = layers.Conv2D(8, 3, activation="relu"), layers.GlobalAveragePooling2D()
        self.out = layers.Dense(3, activation="softmax")

    def call(self, x):
        return self.out(self.pool(self.c2(self.p1(self.c1(self.scale(x))))))


def test_exercise_5_subclassed_model(fd, ex1, monkeypatch):
    monkeypatch.setenv("TL_IMAGE_SIZE", str(SIZE))
    model = SmallCNN()
    fb = check.exercise_5(model, train(model, fd, epochs=15), fd)
    assert "never built" not in fb.text() and "could not inspect" not in fb.text(), fb.text()


# ---------------------------------------------------------------- exercise 6: cats and dogs
@pytest.fixture(scope="module")
def cats_dogs():
    rng = np.random.default_rng(0)
    y = np.arange(250) % 2
    x = np.clip(rng.normal(60, 2, (250, SIZE, SIZE, 3)), 0, 255)
    x[..., 0] += 150 * y[:, None, None]   # "dogs" are red: learnable
    return x[:200].astype("float32"), y[:200], x[200:].astype("float32"), y[200:]


def cd_model(base=None, units=1):
    return fe_model(base=base or make_base(), units=units, activation="sigmoid" if units == 1 else "softmax")


def fit_cd(model, x, y, val, **kw):
    loss = "binary_crossentropy" if model.output_shape[-1] == 1 else "sparse_categorical_crossentropy"
    model.compile(optimizer=keras.optimizers.Adam(1e-2), loss=loss, metrics=["accuracy"], run_eagerly=True)
    return model.fit(x, y, validation_data=val, epochs=kw.pop("epochs", 6), verbose=0, **kw)


def test_exercise_6_right(cats_dogs):
    xt, yt, xv, yv = cats_dogs
    model = cd_model()
    h = fit_cd(model, xt, yt, (xv, yv))
    verdict(check.exercise_6(model, h, check_runs.accuracy(model, (xv, yv))[0], (xv, yv)), True, "beyond chance")


def test_exercise_6_trained_on_the_validation_pair(cats_dogs):
    xt, yt, xv, yv = cats_dogs
    model = cd_model()
    h = fit_cd(model, xv, yv, (xv, yv))
    verdict(check.exercise_6(model, h, check_runs.accuracy(model, (xv, yv))[0], (xv, yv)), False,
            "trained on the validation")


def test_exercise_6_two_softmax_outputs(cats_dogs):
    xt, yt, xv, yv = cats_dogs
    model = cd_model(units=2)
    h = fit_cd(model, xt, yt, (xv, yv))
    verdict(check.exercise_6(model, h, check_runs.accuracy(model, (xv, yv))[0], (xv, yv)), True, "beyond chance")


def test_exercise_6_reusing_exercise_2s_base(fd, ex1, good2, cats_dogs):
    xt, yt, xv, yv = cats_dogs
    check.exercise_2(good2[0], good2[1], acc(good2[0], fd), fd)
    model = cd_model(base=check.ins.find_base(good2[0]))
    h = fit_cd(model, xt, yt, (xv, yv))
    verdict(check.exercise_6(model, h, check_runs.accuracy(model, (xv, yv))[0], (xv, yv)), False,
            "reuses the base object")


def test_exercise_6_labels_flipped(cats_dogs):
    xt, yt, xv, yv = cats_dogs
    model = cd_model()
    h = fit_cd(model, xt, 1 - yt, (xv, 1 - yv))
    verdict(check.exercise_6(model, h, check_runs.accuracy(model, (xv, yv))[0], (xv, yv)), False,
            "guessing would do as well")


# ---------------------------------------------------------------- exercise 7: same start, BN frozen
def opts():
    return {"SGD": keras.optimizers.SGD(1e-3, momentum=0.9), "Adam": keras.optimizers.Adam(1e-4),
            "RMSprop": keras.optimizers.RMSprop(1e-4)}


@pytest.fixture
def trained_cd(cats_dogs):
    xt, yt, xv, yv = cats_dogs
    model = cd_model()
    h = fit_cd(model, xt, yt, (xv, yv))
    assert check.exercise_6(model, h, check_runs.accuracy(model, (xv, yv))[0], (xv, yv)).passed
    unfreeze(check.ins.find_base(model), last=10)
    return model


def runs_of(model, optimizers, cats_dogs, reset=True, fresh=False, metrics=("accuracy",)):
    xt, yt, xv, yv = cats_dogs
    start = model.get_weights()
    out = {}
    for name, opt in optimizers.items():
        m = model
        if fresh:
            m = cd_model()
            unfreeze(check.ins.find_base(m), last=10)
        elif reset:
            m.set_weights(start)
        m.compile(optimizer=opt, loss="binary_crossentropy", metrics=list(metrics), run_eagerly=True)
        out[name] = m.fit(xt, yt, validation_data=(xv, yv), epochs=1, verbose=0)
    return out


def test_exercise_7_right(trained_cd, cats_dogs):
    o = opts()
    verdict(check.exercise_7(o, runs_of(trained_cd, o, cats_dogs)), True, "started from the same weights")


def test_exercise_7_acc_metric_name(trained_cd, cats_dogs):
    o = opts()
    verdict(check.exercise_7(o, runs_of(trained_cd, o, cats_dogs, metrics=("acc",))), True)


def test_exercise_7_clones_from_the_same_start(trained_cd, cats_dogs):
    xt, yt, xv, yv = cats_dogs
    start, o, out = trained_cd.get_weights(), opts(), {}
    for name, opt in o.items():
        m = keras.models.clone_model(trained_cd)
        m.set_weights(start)
        unfreeze(check.ins.find_base(m), last=10)
        m.compile(optimizer=opt, loss="binary_crossentropy", metrics=["accuracy"], run_eagerly=True)
        out[name] = m.fit(xt, yt, validation_data=(xv, yv), epochs=1, verbose=0)
    verdict(check.exercise_7(o, out), True, "started from the same weights")


def test_exercise_7_chained_runs(trained_cd, cats_dogs):
    o = opts()
    verdict(check.exercise_7(o, runs_of(trained_cd, o, cats_dogs, reset=False)), False, "did not start from")


def test_exercise_7_fresh_untrained_model_per_optimizer(trained_cd, cats_dogs):
    o = opts()
    verdict(check.exercise_7(o, runs_of(trained_cd, o, cats_dogs, fresh=True)), False, "start from the same weights")


def test_exercise_7_batchnorm_unfrozen(trained_cd, cats_dogs):
    unfreeze(check.ins.find_base(trained_cd), last=10, bn=True)
    o = opts()
    verdict(check.exercise_7(o, runs_of(trained_cd, o, cats_dogs)), False, "BatchNormalization")


def test_exercise_7_zero_learning_rate(trained_cd, cats_dogs):
    o = {**opts(), "Adam": keras.optimizers.Adam(0.0)}
    verdict(check.exercise_7(o, runs_of(trained_cd, o, cats_dogs)), False, "learning rate 0")


# ---------------------------------------------------------------- the challenge: numbers, any language, bounded
@pytest.fixture(scope="module")
def challenge_world(fd, good2):
    model = good2[0]
    shifted = fd.dataset("validation", SIZE, shifts.domain_shift("grayscale"), batch_size=B)
    return model, shifted, acc(model, fd), check_runs.accuracy(model, shifted)[0]


@pytest.mark.parametrize("text,passed", [
    ("Sans couleur, les premiers filtres réagissent autrement : les caractéristiques des images grises "
     "s'éloignent de celles que la tête a apprises, alors que la forme et la texture restent.", True),
    ("没有颜色以后，早期的卷积核反应不同，灰色图像的特征离分类头学过的特征越来越远，所以准确率下降；"
     "形状和纹理还在，所以准确率没有降到随机水平。", True),
    ("gray " * 30, False),
    ("Too short to explain anything.", False),
])
def test_challenge_explanations_in_any_language(fd, challenge_world, text, passed):
    model, shifted, a, s = challenge_world
    verdict(check.challenge(model, fd, shifted, a, s, text), passed)


def test_challenge_endless_dataset_does_not_hang(fd, challenge_world):
    model, shifted, a, s = challenge_world
    start = time.time()
    verdict(check.challenge(model, fd, shifted.repeat(), a, s, "x " * 5), False, "repeats forever")
    assert time.time() - start < 30


def test_challenge_swapped_numbers(fd, challenge_world):
    model, shifted, a, s = challenge_world
    if abs(a - s) < 0.1:
        pytest.skip("the shift did not move the accuracy in this run")
    verdict(check.challenge(model, fd, shifted, s, a, "x " * 5), False, "but the model scores")


def test_accuracy_of_an_endless_dataset_is_refused_not_a_hang(fd, good2):
    model = good2[0]
    with pytest.raises(check_runs.EndlessData):
        check_runs.accuracy(model, ds(fd, "validation").repeat())


def test_the_real_imagenet_file_is_the_reference(shared_assets):
    # with the course's offline MobileNet 0.25 file: a base loaded from it matches; one layer
    # re-initialised is found, and only that one
    from tlhelpers.exercises import check_evidence

    file = check_evidence.pristine_file("mobilenet_025")
    assert file is not None
    base = keras.applications.MobileNet(alpha=0.25, include_top=False, weights=file, input_shape=(96, 96, 3))
    reference = check_evidence.pristine_weights(base)
    assert reference is not None and check_evidence.moved_layers(base, reference) == {"kernels": [], "statistics": []}
    conv = base.get_layer("conv_pw_5")
    conv.kernel.assign(keras.initializers.GlorotUniform(seed=1)(conv.kernel.shape))
    assert check_evidence.moved_layers(base, check_evidence.pristine_weights(base))["kernels"] == ["conv_pw_5"]
