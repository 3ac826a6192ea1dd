"""The feature cache: a frozen base run once over a dataset, its pooled outputs kept on disk.

Taught in notebook 03, section 5: with the base frozen and no random augmentation, the
base returns the same features for an image every time, so they can be computed once.

The cache file is named by the key *and* the data: ``<key>-<fingerprint[:12]>.npz``, where
the fingerprint (:func:`dataset_fingerprint`) hashes the images, labels, size and
preprocessing. Other images under the same key (``TL_CIFAR10_DIR`` pointed at another
folder) therefore never load the first folder's features.

>>> feature_cache_key("mobilenet_025", "imagenet", 96, "train", 300)
'mobilenet_025-imagenet-96px-train-300-seed0'
"""

from __future__ import annotations

import hashlib
import weakref
import zipfile
from pathlib import Path

import keras
import numpy as np
import tensorflow as tf

from tlhelpers.storage import assets
from tlhelpers.storage.cachefile import fingerprint_arrays, write_atomic

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


def dataset_fingerprint(dataset: tf.data.Dataset) -> str:
    """A hex digest of what ``dataset`` yields, for the cache file name.

    Datasets made by :mod:`tlhelpers.transfer.pipeline` carry it (``tl_fingerprint``: their images,
    labels, size and preprocessing, hashed when they were made, about 10 ms for 15 MB).
    Any other dataset (a learner's own ``tf.data`` pipeline, or one of ours after ``.map``
    or ``.take``) is read once and every batch (inputs and labels) hashed: one pass of
    the input pipeline, without the base, so a cached file is reused only for the very same
    inputs; random augmentation makes every pass differ, so it is never reused.

    >>> from tlhelpers.transfer.pipeline import make_dataset
    >>> ds = make_dataset(np.zeros((2, 8, 8, 3), np.uint8), [0, 1], None)
    >>> dataset_fingerprint(ds) == ds.tl_fingerprint, len(dataset_fingerprint(ds.take(1)))
    (True, 64)
    """
    known = getattr(dataset, "tl_fingerprint", None)
    if known:
        return str(known)
    digest = hashlib.sha256(b"stream|")
    for x, y in dataset:
        digest.update(fingerprint_arrays(np.asarray(x), np.asarray(y)).encode())
    return digest.hexdigest()


def cache_file(cache_key: str, fingerprint: str) -> Path:
    """Where :func:`extract_features` keeps the features of ``cache_key`` for data ``fingerprint``.

    >>> cache_file("k", "0123456789abcdef").name
    'k-0123456789ab.npz'
    """
    return assets.course_cache_dir("features") / f"{cache_key}-{fingerprint[:12]}.npz"


def _read_features(path: Path, expected_labels, fingerprint: str | None = None
                   ) -> tuple[np.ndarray, np.ndarray] | None:
    """The cached arrays, or None (with a notice) when the file is damaged or does not fit."""
    try:
        with np.load(path) as saved:
            features, labels = saved["features"], saved["labels"]
            stored = str(saved["fingerprint"]) if "fingerprint" in saved.files else None
    except (OSError, ValueError, EOFError, KeyError, zipfile.BadZipFile) as err:
        print(f"Notice: the cached features {path.name} could not be read ({type(err).__name__}); "
              "computing them again.")
        return None
    problem = None
    if features.ndim != 2 or labels.ndim != 1 or len(features) != len(labels):
        problem = f"shapes {features.shape} and {labels.shape} do not fit together"
    elif expected_labels is not None and not np.array_equal(labels, np.asarray(expected_labels)):
        problem = "their labels differ from this dataset's"
    elif fingerprint is not None and stored is not None and stored != fingerprint:
        problem = "they were computed from other data"
    elif not np.isfinite(features).all():
        problem = "they hold NaN or infinite values"
    if problem:
        print(f"Notice: the cached features {path.name} do not match ({problem}); computing them again.")
        return None
    return features, labels


def _write_features(path: Path, features: np.ndarray, labels: np.ndarray, fingerprint: str = "") -> None:
    """Write to a temporary file in the same folder, then rename: readers (another kernel
    too) see either no file or a complete one, never half of it."""
    def write(tmp: Path) -> None:
        with open(tmp, "wb") as out:
            np.savez(out, features=features, labels=labels, fingerprint=np.array(fingerprint))

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
    next time. Valid only while the base stays frozen (no random augmentation): the key
    must name backbone, weights and size; the data are named by the dataset's
    fingerprint (:func:`dataset_fingerprint`), added to the file name, so other images
    under the same key are computed afresh. A cached file that is damaged, or whose
    labels differ from the dataset's, is ignored and recomputed; files are written
    atomically, so two kernels can share the cache.

    >>> key = "mobilenet_025-imagenet-96px-train-800-seed0"
    >>> feats, labels = extract_features(base, ds, key)   # doctest: +SKIP
    """
    fingerprint = dataset_fingerprint(dataset) if cache_key else ""
    path = cache_file(cache_key, fingerprint) if cache_key else None
    if path is not None and path.is_file():
        cached = _read_features(path, getattr(dataset, "tl_labels", None), fingerprint)
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
        _write_features(path, features, labels_arr, fingerprint)
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

    >>> from tlhelpers.settings.config import get_profile
    >>> profile_cache_key(get_profile("ci", env={}), "train", 800)
    'mobilenet_025-imagenet-96px-train-800-seed0'
    """
    return feature_cache_key(profile.backbone, profile.weights, profile.image_size, split, n,
                             preprocess=preprocess)
