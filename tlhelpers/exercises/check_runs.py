"""Evidence that work was done, for :mod:`tlhelpers.check`: histories, accuracies, changed weights.

A number a learner types proves nothing; the checks recompute it from the learner's
model, read the History that ``fit`` returned, and compare weights with a snapshot.

>>> tolerance(100)
0.01
"""

from __future__ import annotations

import weakref
from typing import Any

import numpy as np

from tlhelpers.settings import config
from tlhelpers.exercises import inspection as ins
from tlhelpers.exercises.feedback import NB03, Feedback, describe, is_fraction
from tlhelpers.transfer.folders import FolderData

# ---------------------------------------------------------------- histories
def check_history(fb: Feedback, history: Any, model: Any, name: str = "history",
                  hint_nb: str = NB03) -> dict | None:
    """The History that ``model.fit`` returned for this model, with validation metrics."""
    import keras

    if isinstance(history, dict):
        fb.fix(f"`{name}` is a dict of numbers; the check needs the History object that "
               "`model.fit(...)` returns, which tells it which model produced the numbers.",
               f"Write `{name} = model.fit(...)` and pass `{name}` as it is ({hint_nb}).")
        return None
    if not isinstance(history, keras.callbacks.History):
        fb.fix(f"`{name}` is {describe(history)}, not the History that `model.fit(...)` returns.",
               f"Keep the return value: `{name} = model.fit(...)` ({hint_nb}).")
        return None
    hist = history.history or {}
    epochs = len(hist.get("loss", []))
    if not epochs:
        fb.fix(f"`{name}` holds no epoch: this History was not filled by a finished fit.",
               f"Train with `model.fit(..., epochs=...)` and keep what it returns ({hint_nb}).")
        return None
    owner = getattr(history, "model", None)
    if model is not None and owner is not model:
        fb.fix(f"`{name}` came from training another model ({getattr(owner, 'name', '?')!r}), "
               f"not the one you passed ({getattr(model, 'name', '?')!r}).",
               "Pass the model and the History of the same `fit` call.")
        return None
    rate = ins.learning_rate(getattr(model, "optimizer", None))
    if rate == 0.0:
        fb.fix(f"`{name}` comes from training at a learning rate of 0: the optimizer never moved a "
               "weight, so the model has not learned the task (whatever its accuracy by chance).",
               f"Compile with a positive learning rate, e.g. `keras.optimizers.Adam(1e-3)`, and train again ({hint_nb}).")
        return None
    key = val_accuracy_key(hist, model)
    fb.check(key is not None, f"`{name}`: {epochs} epoch(s), with validation accuracy (`{key}`).",
             f"`{name}` has no validation accuracy: training was not monitored on held-out images.",
             "Pass `validation_data=val_ds` to fit and `metrics=['accuracy']` to compile.")
    return hist


def val_accuracy_key(hist: dict, model: Any = None) -> str | None:
    """The History key of the validation accuracy, whatever the metric's name: "val_accuracy",
    "val_acc", "val_sparse_categorical_accuracy", "val_binary_accuracy", or the name given to
    an accuracy metric object compiled into ``model`` (None if absent)."""
    named = {f"val_{m.name}" for m in _compiled_metrics(model) if "Accuracy" in type(m).__name__
             and "TopK" not in type(m).__name__}
    keys = [k for k in hist if k in named or (k.startswith("val_") and ("accuracy" in k or k.endswith("_acc"))
                                              and "top_k" not in k)]
    return "val_accuracy" if "val_accuracy" in keys else (sorted(keys)[0] if keys else None)


def _compiled_metrics(model: Any) -> list:
    """The metric objects compiled into ``model`` (Keras 3 nests them in a CompileMetrics)."""
    out = []
    for metric in getattr(model, "metrics", None) or []:
        out.extend(getattr(metric, "metrics", None) or [metric])
    return out


# ---------------------------------------------------------------- accuracies, recomputed
def tolerance(n: int) -> float:
    """How far a claimed accuracy may be from the recomputed one: one image, at least 0.001."""
    return round(max(1e-3, 1.0 / max(n, 1)), 6)


#: the most images a check measures in one call: it answers in seconds, whatever it is given
MAX_IMAGES = 5000


class EndlessData(ValueError):
    """A dataset that never ends (``.repeat()``): a check cannot measure on it."""


def endless(data: Any) -> bool:
    """True for a tf.data dataset that repeats forever (infinite cardinality)."""
    import tensorflow as tf

    return hasattr(data, "cardinality") and int(data.cardinality()) == int(tf.data.INFINITE_CARDINALITY)


def _batches(data: Any, split: str | None, image_size: int | None):
    if isinstance(data, FolderData):
        yield from data.dataset(split or "validation", image_size, None, batch_size=64)
    elif isinstance(data, (tuple, list)) and len(data) == 2:
        x, y = np.asarray(data[0]), np.asarray(data[1])
        for i in range(0, min(len(x), MAX_IMAGES), 64):
            yield x[i:i + 64].astype("float32"), y[i:i + 64]
    else:
        if endless(data):
            raise EndlessData("the dataset repeats forever")
        seen = 0
        for batch in data:
            yield batch
            seen += len(np.asarray(batch[1]))
            if seen >= MAX_IMAGES:
                return


def _forward(model):
    """``model`` in inference mode as a function of a float32 batch, run inside one
    ``tf.function`` (traced once, again at most for a smaller last batch). Called eagerly
    batch by batch, MobileNet 0.25 at 128 px grew the kernel by 387 MB on its first check
    (measured in notebook 07, `cpu`); a model that cannot be traced runs eagerly."""
    import tensorflow as tf

    traced = tf.function(lambda x: model(x, training=False), reduce_retracing=True)
    eager = []   # set once tracing has failed: later batches do not try again

    def run(x: np.ndarray) -> np.ndarray:
        if not eager:
            try:
                return np.asarray(traced(tf.constant(x)))
            except Exception:   # noqa: BLE001 - e.g. Python side effects in a learner's model
                eager.append(True)
        return np.asarray(model(x, training=False))
    return run


def image_size_of(model) -> int | None:
    """The input size a model was built for (``model.input_shape[1]``), or None."""
    try:
        return int(model.input_shape[1])
    except (TypeError, ValueError, AttributeError):
        return None


def validation_batch(folder_data: FolderData, model):
    """The first validation batch of ``folder_data`` at the model's input size (else the profile's)."""
    size = image_size_of(model) or config.get_profile().image_size
    return ins.first_batch(folder_data.dataset("validation", size, None, batch_size=32))


def is_folder_data(fb: Feedback, folder_data: Any) -> bool:
    """True for the FolderData of Exercise 1; otherwise a fix that says what to pass."""
    if isinstance(folder_data, FolderData):
        return True
    fb.fix(f"`folder_data` is {describe(folder_data)}, not the FolderData of Exercise 1.",
           "Pass `folder_data` from Exercise 1: the check measures your model on its validation images.")
    return False


def accuracy(model, data: Any, split: str | None = None) -> tuple[float, int]:
    """(accuracy, number of images) of ``model`` in inference mode on a split of FolderData,
    a tf.data dataset of (images, labels) or an (x, y) pair."""
    size = image_size_of(model) or config.get_profile().image_size
    threshold = 0.0 if ins.last_activation(model) == "linear" else 0.5
    forward = _forward(model)
    right = total = 0
    for x, y in _batches(data, split, size):
        probs = forward(np.asarray(x, np.float32))
        y = np.asarray(y)
        y = y.argmax(-1) if y.ndim == 2 and y.shape[-1] > 1 else y.reshape(-1)
        pred = (probs.reshape(-1) > threshold).astype(int) if probs.shape[-1] == 1 else probs.argmax(-1)
        right += int((pred == y).sum())
        total += len(y)
    return right / max(total, 1), total


def as_accuracy(fb: Feedback, value: Any, name: str) -> float | None:
    """A claimed accuracy as a float in [0, 1], or None with a fix that says what went wrong."""
    if isinstance(value, (list, tuple)) and len(value) == 2 and all(isinstance(v, (float, int)) for v in value):
        fb.fix(f"`{name}` is a pair of numbers: `evaluate` returns [loss, accuracy].",
               "Take the second number: `model.evaluate(...)[1]`.")
        return None
    if not isinstance(value, str) and not isinstance(value, bool):
        try:
            number = float(np.asarray(value).reshape(-1)[0]) if np.size(value) == 1 else None
        except (TypeError, ValueError):
            number = None
        if number is not None and 1.0 < number <= 100.0:
            fb.fix(f"`{name}` = {number:g} looks like a percentage.", "Give accuracies as fractions (0.57).")
            return None
        if number is not None and is_fraction(number):
            return number
    fb.fix(f"`{name}` should be an accuracy between 0 and 1, got {describe(value)}.",
           "Use the accuracy that `model.evaluate(...)` returns (its second value).")
    return None


def check_claim(fb: Feedback, claimed: float, model, data: Any, name: str,
                other_splits: tuple[str, ...] = ("test", "train")) -> float | None:
    """Recompute the validation accuracy; the claim must match it (and we say which split it matches)."""
    measured, n = accuracy(model, data, "validation")
    tol = tolerance(n)
    if abs(claimed - measured) <= tol:
        fb.ok(f"`{name}` = {claimed:.3f} matches the validation accuracy that the check measured "
              f"on {n} images ({measured:.3f}).")
        return measured
    matches = ""
    if isinstance(data, FolderData):
        for split in other_splits:
            if data.split(split)[0] and abs(accuracy(model, data, split)[0] - claimed) <= tol:
                matches = f" It matches the {split} accuracy instead: choices are made on the validation split."
                break
    fb.fix(f"`{name}` = {claimed:.3f}, but the model scores {measured:.3f} on the {n} validation images."
           + matches, "Evaluate the model you just trained on `val_ds`: `model.evaluate(val_ds)[1]`.")
    return measured


# ---------------------------------------------------------------- weights: snapshots and changes
_SNAPSHOTS: "weakref.WeakKeyDictionary" = weakref.WeakKeyDictionary()
#: what exercise 2's check saw of a model: its optimizer and learning rate, its measured accuracy
SEEN: "weakref.WeakKeyDictionary" = weakref.WeakKeyDictionary()
#: the latest measurements, whatever the model (for comparisons between exercises)
LAST: dict[str, float] = {}


def weights_by_layer(model) -> dict[str, list[np.ndarray]]:
    """A copy of the weights of every innermost layer that has any, by layer name."""
    return {layer.name: [np.array(w) for w in layer.get_weights()] for layer in ins.leaves(model) if layer.weights}


def remember(base) -> None:
    """Keep a copy of the base's weights the first time a check sees it (before fine-tuning)."""
    if base not in _SNAPSHOTS:
        _SNAPSHOTS[base] = weights_by_layer(base)


def snapshot_of(base) -> dict | None:
    """The weights of ``base`` saved by :func:`remember`, or None if it was never remembered."""
    return _SNAPSHOTS.get(base)


def changed_layers(base, before: dict) -> list[str]:
    """Names of the layers whose weights differ from ``before``."""
    now = weights_by_layer(base)
    return [name for name, ws in now.items()
            if name in before and any(not np.array_equal(a, b) for a, b in zip(ws, before[name]))]


def looks_random(base) -> bool | None:
    """True when every BatchNormalization layer still has its initial statistics (mean 0,
    variance 1): the base was built with ``weights=None``. None when it has no BatchNormalization."""
    bns = [layer for layer in ins.leaves(base) if type(layer).__name__ == "BatchNormalization"]
    if not bns:
        return None
    return all(np.all(np.asarray(b.moving_mean) == 0) and np.all(np.asarray(b.moving_variance) == 1)
               for b in bns)
