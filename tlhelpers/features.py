"""The feature cache: a frozen base run once over a dataset, its pooled outputs kept on disk.

Taught in notebook 03, section 5: with the base frozen and no random augmentation, the
base returns the same features for an image every time, so they can be computed once.

>>> feature_cache_key("mobilenet_025", "imagenet", 96, "train", 300)
'mobilenet_025-imagenet-96px-train-300-seed0'
"""

from __future__ import annotations

import weakref
import zipfile
from pathlib import Path

import keras
import numpy as np
import tensorflow as tf

from tlhelpers import assets
from tlhelpers.cachefile import write_atomic

_POOLED_RUNS: "weakref.WeakKeyDictionary" = weakref.WeakKeyDictionary()


def _pooled_features(base: keras.Model):
    # One fixed signature (any batch size), traced once per base and reused by every call:
    # no retracing warnings, and no new graph in memory for each split.
    try:
        return _POOLED_RUNS[base]
    except (KeyError, TypeError):
        pass

    @tf.function(input_signature=[tf.TensorSpec((None, *base.input_shape[1:]), tf.float32)])
    def run(x):
        return tf.reduce_mean(base(x, training=False), axis=(1, 2))

    try:
        _POOLED_RUNS[base] = run
    except TypeError:   # pragma: no cover - an object that cannot be weakly referenced
        pass
    return run


def _read_features(path: Path, expected_labels) -> tuple[np.ndarray, np.ndarray] | None:
    """The cached arrays, or None (with a notice) when the file is damaged or does not fit."""
    try:
        with np.load(path) as saved:
            features, labels = saved["features"], saved["labels"]
    except (OSError, ValueError, EOFError, KeyError, zipfile.BadZipFile) as err:
        print(f"Notice: the cached features {path.name} could not be read ({type(err).__name__}); "
              "computing them again.")
        return None
    problem = None
    if features.ndim != 2 or labels.ndim != 1 or len(features) != len(labels):
        problem = f"shapes {features.shape} and {labels.shape} do not fit together"
    elif expected_labels is not None and not np.array_equal(labels, np.asarray(expected_labels)):
        problem = "their labels differ from this dataset's"
    elif not np.isfinite(features).all():
        problem = "they hold NaN or infinite values"
    if problem:
        print(f"Notice: the cached features {path.name} do not match ({problem}); computing them again.")
        return None
    return features, labels


def _write_features(path: Path, features: np.ndarray, labels: np.ndarray) -> None:
    """Write to a temporary file in the same folder, then rename: readers (another kernel
    too) see either no file or a complete one, never half of it."""
    def write(tmp: Path) -> None:
        with open(tmp, "wb") as out:
            np.savez(out, features=features, labels=labels)

    try:
        write_atomic(path, write)
    except OSError as err:
        print(f"Notice: could not save the features to the cache ({err}); they are kept in memory only.")


def extract_features(
    base: keras.Model, dataset: tf.data.Dataset, cache_key: str | None = None, verbose: bool = True
) -> tuple[np.ndarray, np.ndarray]:
    """Run the frozen base once over ``dataset``; return (pooled features, labels).

    Taught in notebook 03, section 5 (``feature_model.predict``); this is that cell,
    packaged, with a cache on disk.

    With ``cache_key``, the arrays are saved to the course cache and loaded from there
    next time. Valid only while the base stays frozen and the inputs do not change
    (no random augmentation): the key must name backbone, weights, size and data. A
    cached file that is damaged, or whose labels differ from the dataset's, is ignored
    and recomputed; files are written atomically, so two kernels can share the cache.
    """
    path = assets.course_cache_dir("features") / f"{cache_key}.npz" if cache_key else None
    if path is not None and path.is_file():
        cached = _read_features(path, getattr(dataset, "tl_labels", None))
        if cached is not None:
            if verbose:
                print(f"Loaded cached features {cached[0].shape} from {path}")
            return cached
    run = _pooled_features(base)
    steps = int(dataset.cardinality()) if int(dataset.cardinality()) > 0 else None
    bar = keras.utils.Progbar(steps, unit_name="batch", verbose=1 if verbose else 0)
    feats, labels = [], []
    for x, y in dataset:
        feats.append(run(x).numpy())
        labels.append(np.asarray(y))
        bar.add(1)
    features, labels_arr = np.concatenate(feats), np.concatenate(labels)
    if path is not None:
        _write_features(path, features, labels_arr)
    return features, labels_arr


def feature_cache_key(backbone: str, weights: str | None, image_size: int, split: str,
                      n: int, seed: int = 0, preprocess: str | None = None) -> str:
    """A file-name-safe key for :func:`extract_features`.

    >>> feature_cache_key("mobilenet_025", "imagenet", 96, "train", 300)
    'mobilenet_025-imagenet-96px-train-300-seed0'
    """
    key = f"{backbone}-{weights or 'random'}-{image_size}px-{split}-{n}-seed{seed}"
    return key + (f"-pre_{preprocess}" if preprocess and preprocess != backbone else "")


def profile_cache_key(profile, split: str, n: int, preprocess: str | None = None) -> str:
    """:func:`feature_cache_key` with backbone, weights and image size taken from ``profile``,
    so no notebook types them by hand. Splits are named "train", "val" and "test".

    >>> from tlhelpers.config import get_profile
    >>> profile_cache_key(get_profile("ci", env={}), "train", 800)
    'mobilenet_025-imagenet-96px-train-800-seed0'
    """
    return feature_cache_key(profile.backbone, profile.weights, profile.image_size, split, n,
                             preprocess=preprocess)
