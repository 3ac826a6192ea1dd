"""Training: seeding, compiling, fitting with clear label errors, and two-phase fitting.

The feature cache (:mod:`tlhelpers.transfer.features`) is re-exported here, because the notebooks
extract features and train heads side by side; saved heads are in :mod:`tlhelpers.transfer.heads`,
the distribution strategy in :mod:`tlhelpers.transfer.devices`.

Histories are returned as plain dicts of lists (``{"accuracy": [...], ...}``).

>>> from tlhelpers.transfer.training import set_seed
>>> set_seed(0)
"""

from __future__ import annotations

import time

import keras
import numpy as np
import tensorflow as tf

from tlhelpers.transfer.models import find_base, unfreeze
from tlhelpers.transfer.features import extract_features, feature_cache_key, profile_cache_key  # noqa: F401 (part of this API)
from tlhelpers.transfer.params import param_counts


def set_seed(seed: int = 42) -> None:
    """Seed Python, NumPy and TensorFlow in one call (``keras.utils.set_random_seed``)."""
    keras.utils.set_random_seed(seed)


def compile_model(model: keras.Model, learning_rate: float = 1e-3, verbose: bool = True) -> keras.Model:
    """Compile with Adam and sparse categorical cross-entropy, saying what will train.

    Taught in notebook 03, section 4 (``model.compile(...)``); this is that cell, packaged.

    Call it again after every change of ``trainable``: Keras fixes the set of weights
    to update when it compiles.
    """
    model.compile(
        optimizer=keras.optimizers.Adam(learning_rate),
        loss="sparse_categorical_crossentropy",
        metrics=["accuracy"],
    )
    if verbose:
        n = param_counts(model).trainable
        print(f"Compiled {model.name}: {n:,} trainable parameters, learning rate {learning_rate:g}.")
    return model


def restart(model: keras.Model, weights: list, learning_rate: float) -> keras.Model:
    """Put a compiled model back to ``weights`` with a fresh optimizer state, without recompiling.

    Notebook 04, section 6, runs many short fine-tunings from the same start. Building and
    compiling a new model for each would trace a new training graph every time, and on a
    CPU TensorFlow keeps about 80 MB of each (measured with MobileNetV2 at 128 px): too much
    for Binder's 2 GB. So the notebook compiles one model per setting and restarts it: the
    weights (BatchNormalization statistics included) come back, every optimizer variable
    (step count, Adam's moments) goes back to zero, and the learning rate is set. The
    trainable flags must be the ones the model was compiled with.

    >>> m = keras.Sequential([keras.Input((2,)), keras.layers.Dense(1)])
    >>> _ = m.compile(optimizer=keras.optimizers.Adam(0.1), loss="mse")
    >>> start = m.get_weights()
    >>> _ = m.fit(np.ones((4, 2)), np.ones(4), verbose=0)
    >>> _ = restart(m, start, 0.01)
    >>> int(m.optimizer.iterations.numpy()), all((a == b).all() for a, b in zip(m.get_weights(), start))
    (0, True)
    """
    optimizer = getattr(model, "optimizer", None)
    if optimizer is None:
        raise ValueError(f"{model.name} is not compiled: compile it once (compile_model), then restart it.")
    model.set_weights(weights)
    for variable in optimizer.variables:
        variable.assign(keras.ops.zeros_like(variable))
    optimizer.learning_rate = learning_rate
    return model


class EpochLogger(keras.callbacks.Callback):
    """One compact line per epoch (epoch, time, metrics): easy to read in a notebook."""

    def on_epoch_begin(self, epoch, logs=None):
        self._start = time.perf_counter()

    def on_epoch_end(self, epoch, logs=None):
        parts = [f"{k} {v:.4f}" for k, v in (logs or {}).items() if k != "learning_rate"]
        took = time.perf_counter() - self._start
        print(f"epoch {epoch + 1:>3}  {took:5.1f}s  " + "  ".join(parts), flush=True)


def check_labels(labels, num_classes: int, what: str = "labels") -> None:
    """Refuse labels that are not class indices in ``[0, num_classes)``.

    Out-of-range labels would crash deep inside TensorFlow on a CPU and train silently
    wrong on a GPU. A notice is printed when training labels use fewer classes.

    >>> check_labels(np.array([0, 1, 2]), 3)
    """
    arr = np.asarray(labels)
    if arr.ndim == 2 and arr.shape[1] == 1:
        arr = arr[:, 0]
    if arr.ndim != 1:
        raise ValueError(f"The {what} have shape {arr.shape}; the course uses one class index per "
                         "example, shape (N,). For one-hot labels pass labels.argmax(axis=1).")
    if arr.size == 0:
        raise ValueError(f"The {what} are empty: there is nothing to train or validate on.")
    if not np.issubdtype(arr.dtype, np.integer) and not np.array_equal(arr, np.round(arr)):
        raise ValueError(f"The {what} must be whole class indices (0, 1, 2, ...); got {arr.dtype} "
                         f"values such as {arr[arr != np.round(arr)][0]!r}.")
    low, high = int(arr.min()), int(arr.max())
    if low < 0 or high >= num_classes:
        raise ValueError(
            f"The {what} run from {low} to {high}, but the model predicts {num_classes} classes "
            f"(labels 0 to {num_classes - 1}). Build the head with num_classes equal to the "
            f"number of classes in the data ({high + 1} if the labels are 0 to {high}).")
    used = len(np.unique(arr))
    if what.startswith("training") and used < num_classes:
        print(f"Notice: the {what} use only {used} of the model's {num_classes} classes; "
              "the others can never be learned. Check num_classes and the data.")


def _num_classes(model) -> int | None:
    try:
        return int(model.output_shape[-1])
    except (AttributeError, TypeError, ValueError):
        return None


def fit(model, train, validation=None, epochs: int = 5, verbose: bool = True, **kwargs) -> dict:
    """``model.fit`` with a one-line-per-epoch log; returns the history as a dict.

    Taught in notebook 03, sections 4 and 5 (``model.fit``, ``head.fit``); this adds a
    label check and a compact log.

    The labels are checked against the model's number of outputs first (see
    :func:`check_labels`) for arrays and for ``tlhelpers.transfer.pipeline`` datasets.
    """
    callbacks = list(kwargs.pop("callbacks", [])) + ([EpochLogger()] if verbose else [])
    n = _num_classes(model)
    if n is not None and n > 1:
        for what, data in (("training labels", train), ("validation labels", validation)):
            labels = data[1] if isinstance(data, tuple) else getattr(data, "tl_labels", None)
            if labels is not None:
                check_labels(labels, n, what)
    try:
        if isinstance(train, tuple):
            x, y = train
            history = model.fit(x, y, validation_data=validation, epochs=epochs, verbose=0,
                                callbacks=callbacks, **kwargs)
        else:
            # a tf.data pipeline does its own shuffling
            history = model.fit(train, validation_data=validation, epochs=epochs, verbose=0,
                                callbacks=callbacks, shuffle=False, **kwargs)
    except tf.errors.InvalidArgumentError as err:
        if "label value" not in str(err):
            raise
        found = str(err).split("Received a label value of", 1)[-1].split("\n")[0].strip()
        raise ValueError(
            f"A label does not fit the model's {n} classes (TensorFlow: label value {found}). "
            "Build the head with num_classes equal to the number of classes in the data.") from None
    return {k: [float(v) for v in vals] for k, vals in history.history.items()}


def fit_two_phase(
    model: keras.Model,
    train: tf.data.Dataset,
    validation: tf.data.Dataset | None,
    head_epochs: int,
    fine_tune_epochs: int,
    learning_rate: float = 1e-3,
    fine_tune_learning_rate: float | None = None,
    unfreeze_last: int = 20,
    cached_features: tuple | None = None,
    verbose: bool = True,
) -> dict:
    """Feature extraction, then fine-tuning the top of the base at a lower learning rate.

    Taught in notebook 04, sections 3 and 4 (phase 1 on features, then the unfreezing
    loops, the recompile at a low rate and ``fit(..., initial_epoch=...)``); this is
    those cells, packaged.

    Phase 1 trains the head with the base frozen (on ``cached_features`` = (x_train,
    y_train, x_val, y_val) when given, which is much faster). Phase 2 unfreezes the last
    ``unfreeze_last`` base layers (BatchNormalization stays frozen), recompiles at
    ``fine_tune_learning_rate`` (default ten times lower) and trains end to end. The
    returned history has ``fine_tune_start`` = number of phase-1 epochs.
    """
    head = model.layers[-1]
    find_base(model).trainable = False
    if verbose:
        print("Phase 1: feature extraction (base frozen)")
    if cached_features is not None:
        xf, yf, xv, yv = cached_features
        compile_model(head, learning_rate, verbose)
        first = fit(head, (xf, yf), (xv, yv), head_epochs, verbose)
    else:
        compile_model(model, learning_rate, verbose)
        first = fit(model, train, validation, head_epochs, verbose)
    report = unfreeze(model, last_n=unfreeze_last)
    lr2 = learning_rate / 10 if fine_tune_learning_rate is None else fine_tune_learning_rate
    if verbose:
        print(f"Phase 2: fine-tuning\n{report}")
    compile_model(model, lr2, verbose)
    second = fit(model, train, validation, head_epochs + fine_tune_epochs, verbose,
                 initial_epoch=head_epochs)
    history = {k: first.get(k, []) + second.get(k, []) for k in second}
    history["fine_tune_start"] = head_epochs
    return history


def predict_dataset(model: keras.Model, dataset: tf.data.Dataset) -> tuple[np.ndarray, np.ndarray]:
    """Class probabilities and true labels for every example of ``dataset``.

    The model runs inside one ``tf.function``: called eagerly, batch by batch, MobileNetV2
    at 128 px took 1 GB more memory for 1,000 images (measured), too much for Binder.
    """
    spec = tf.TensorSpec((None, *model.input_shape[1:]), tf.float32)
    run = tf.function(lambda x: model(x, training=False), input_signature=[spec])
    probs, labels = [], []
    for x, y in dataset:
        probs.append(run(x).numpy())
        labels.append(np.asarray(y))
    return np.concatenate(probs), np.concatenate(labels)
