"""Experiments that compare transfer learning with training from scratch.

The main one is a *data-size sweep*: both approaches are trained on nested subsets of
the training split (e.g. 10, 50, 200 images per class) and scored on the validation
split. The transfer side trains only a head on features extracted ONCE for the whole
training split (a subset just indexes into them), so it costs almost nothing.

>>> from tlhelpers.transfer.experiments import sweep_sizes
>>> sweep_sizes(24)
[5, 10, 24]
"""

from __future__ import annotations

import math
import time
from typing import Sequence

import keras
import numpy as np
import tensorflow as tf

from tlhelpers.transfer.models import LESSON_HEADS, make_head, scratch_cnn
from tlhelpers.transfer.pipeline import make_dataset
from tlhelpers.transfer.training import compile_model, set_seed

#: The native size of CIFAR-10 images: the scratch CNN trains at this size.
NATIVE_SIZE = 32


def head_options(backbone: str) -> dict:
    """The original lesson's head for ``backbone`` (the MobileNetV2 head for other backbones).

    >>> head_options("mobilenet_025")["units"]
    (128,)
    """
    return dict(LESSON_HEADS.get(backbone, LESSON_HEADS["mobilenet_v2"]))


def sweep_sizes(max_per_class: int, candidates: Sequence[int] = (5, 10, 50, 200)) -> list[int]:
    """Images per class for the sweep: the candidates below ``max_per_class``, then the maximum.

    >>> sweep_sizes(400)
    [5, 10, 50, 200, 400]
    """
    if max_per_class < 1:
        raise ValueError(f"max_per_class must be at least 1, got {max_per_class}.")
    return sorted({int(c) for c in candidates if 0 < c < max_per_class} | {int(max_per_class)})


def nested_subsets(labels: np.ndarray, sizes: Sequence[int], seed: int = 0) -> dict[int, np.ndarray]:
    """Indices of ``n`` examples per class for each ``n`` in ``sizes``; smaller sets lie inside larger ones.

    Nesting means a bigger training set only ADDS images, so differences along the
    sweep come from the amount of data, not from a luckier draw.

    >>> subsets = nested_subsets(np.array([0, 1] * 10), [2, 5])
    >>> set(subsets[2]) <= set(subsets[5]), len(subsets[5])
    (True, 10)
    """
    labels = np.asarray(labels).reshape(-1)
    rng = np.random.default_rng(seed)
    per_class = {c: rng.permutation(np.flatnonzero(labels == c)) for c in np.unique(labels)}
    smallest = min(len(idx) for idx in per_class.values())
    out = {}
    for n in sizes:
        if not 1 <= n <= smallest:
            raise ValueError(
                f"Cannot take {n} images per class: the smallest class has {smallest}. "
                f"Use sizes between 1 and {smallest} (e.g. sweep_sizes({smallest}))."
            )
        out[int(n)] = np.sort(np.concatenate([idx[:n] for idx in per_class.values()]))
    return out


def _repeating(x, y, batch_size: int, seed: int, image_size: int | None = None) -> tf.data.Dataset:
    """A shuffled, endlessly repeating training stream (arrays of features or raw images)."""
    if image_size is None:  # features: already small, keep them as they are
        ds = tf.data.Dataset.from_tensor_slices((x, y)).shuffle(len(y), seed=seed).batch(batch_size)
    else:
        ds = make_dataset(x, y, image_size, None, batch_size, shuffle=True, seed=seed)
    return ds.repeat()


def train_and_score(model: keras.Model, train: tf.data.Dataset, steps: int, validation, epochs: int = 1,
                    learning_rate: float = 1e-3) -> float:
    """Train ``model`` for ``steps`` updates per epoch; return its accuracy on ``validation``.

    ``validation`` is a tf.data pipeline or a tuple (x, y).
    """
    compile_model(model, learning_rate, verbose=False)
    model.fit(train, steps_per_epoch=steps, epochs=epochs, verbose=0, shuffle=False)
    if isinstance(validation, tuple):
        return float(model.evaluate(*validation, verbose=0, return_dict=True)["accuracy"])
    return float(model.evaluate(validation, verbose=0, return_dict=True)["accuracy"])


def data_size_sweep(
    x_train: np.ndarray, y_train: np.ndarray, x_val: np.ndarray, y_val: np.ndarray,
    train_features: np.ndarray, val_features: np.ndarray, sizes: Sequence[int], epochs: int,
    backbone: str = "mobilenet_v2", batch_size: int = 32, scratch_size: int = NATIVE_SIZE,
    seed: int = 0, verbose: bool = True,
) -> dict:
    """Validation accuracy of the scratch CNN and of a head on frozen features, per training-set size.

    Notebook 05, section 5: this is the notebook's build / compile / fit cells (sections 2
    and 3) in a loop. Each run builds a fresh scratch CNN with
    :func:`tlhelpers.transfer.models.scratch_cnn` (the packaged version of the notebook's
    ``keras.Sequential`` cell) and a fresh :func:`tlhelpers.transfer.models.make_head`.

    ``train_features`` / ``val_features`` are the pooled backbone features of
    ``x_train`` / ``x_val`` in the same order. Every run gets the same number of weight
    updates: ``epochs`` passes over the LARGEST subset (smaller subsets are repeated), so
    only the amount of data changes along the sweep. Returns a plain dict of lists:
    ``images_per_class``, ``train_images``, ``scratch``, ``feature_extraction``,
    ``seconds`` (per approach, in total) and ``steps`` (updates per run).
    """
    if len(train_features) != len(y_train) or len(val_features) != len(y_val):
        raise ValueError(
            f"Features and labels must match: {len(train_features)} train features for "
            f"{len(y_train)} labels, {len(val_features)} val features for {len(y_val)} labels. "
            "Extract the features from the same (unshuffled) splits."
        )
    subsets = nested_subsets(y_train, sizes, seed)
    num_classes = int(np.max(y_train)) + 1
    steps = epochs * math.ceil(len(subsets[max(subsets)]) / batch_size)
    val_images = make_dataset(x_val, y_val, scratch_size, None, batch_size)
    result: dict = {"images_per_class": [], "train_images": [], "scratch": [], "feature_extraction": [],
                    "seconds": {"scratch": 0.0, "feature_extraction": 0.0}, "steps": steps,
                    "evaluated_on": f"validation split ({len(y_val)} images)"}
    for n, idx in subsets.items():
        set_seed(seed)
        start = time.perf_counter()
        head = make_head(train_features.shape[1], num_classes, **head_options(backbone))
        transfer = train_and_score(head, _repeating(train_features[idx], y_train[idx], batch_size, seed),
                                   steps, (val_features, y_val))
        middle = time.perf_counter()
        set_seed(seed)
        scratch = train_and_score(scratch_cnn(scratch_size, num_classes),
                                  _repeating(x_train[idx], y_train[idx], batch_size, seed, scratch_size),
                                  steps, val_images)
        end = time.perf_counter()
        result["seconds"]["feature_extraction"] += middle - start
        result["seconds"]["scratch"] += end - middle
        for key, value in (("images_per_class", n), ("train_images", len(idx)),
                           ("scratch", scratch), ("feature_extraction", transfer)):
            result[key].append(value)
        if verbose:
            print(f"{n:>4} images/class ({len(idx):>5} in all): scratch {scratch:.3f}   "
                  f"feature extraction {transfer:.3f}   ({end - start:.1f}s)", flush=True)
    return result


def sweep_table(result: dict) -> str:
    """The sweep as a small text table, one row per training-set size.

    >>> print(sweep_table({"images_per_class": [5], "train_images": [50], "scratch": [0.1],
    ...                    "feature_extraction": [0.4]}))
    images/class  train images  scratch  feature extraction  gain
               5            50    0.100               0.400  +0.300
    """
    rows = ["images/class  train images  scratch  feature extraction  gain"]
    for n, total, s, f in zip(result["images_per_class"], result["train_images"], result["scratch"],
                              result["feature_extraction"]):
        rows.append(f"{n:>12}  {total:>12}  {s:>7.3f}  {f:>18.3f}  {f - s:+.3f}")
    return "\n".join(rows)


def largest_gain(result: dict) -> tuple[int, float]:
    """(images per class, accuracy gain) where transfer beats scratch by the most.

    >>> largest_gain({"images_per_class": [5, 50], "scratch": [.1, .4], "feature_extraction": [.5, .6]})
    (5, 0.4)
    """
    gains = [round(f - s, 6) for s, f in zip(result["scratch"], result["feature_extraction"])]
    best = int(np.argmax(gains))
    return int(result["images_per_class"][best]), gains[best]
