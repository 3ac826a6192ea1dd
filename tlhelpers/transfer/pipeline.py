"""``tf.data`` input pipelines that resize and preprocess on the fly.

Every dataset made here carries ``tl_labels`` (its labels, in order) and ``tl_fingerprint``
(a SHA-256 of what it yields: the images' bytes or the files' contents, the labels, the
size and what the preprocessing does), which :func:`tlhelpers.transfer.features.extract_features`
puts in its cache file names, so other images under the same names never hit old features.

Only the small stored images are kept in memory (uint8); each batch is resized and
given its backbone's ``preprocess_input`` as it is needed, so no float32 copy of the
whole data set at 224 px ever exists (that copy would be 3 GB for 5,000 images).

>>> import numpy as np
>>> from tlhelpers.transfer.pipeline import make_dataset
>>> ds = make_dataset(np.zeros((4, 32, 32, 3), np.uint8), np.arange(4), 96, "mobilenet_v2")
>>> next(iter(ds))[0].shape
TensorShape([4, 96, 96, 3])
"""

from __future__ import annotations

from typing import Callable, Sequence

import numpy as np
import tensorflow as tf

from tlhelpers.settings import config
from tlhelpers.storage.cachefile import fingerprint_arrays, fingerprint_files

Preprocess = Callable[[tf.Tensor], tf.Tensor]


def get_preprocess(preprocess: str | Preprocess | None) -> Preprocess:
    """A backbone name, a callable or None (keep raw [0, 255] floats) -> a callable.

    >>> get_preprocess(None)(tf.constant([255.0])).numpy()
    array([255.], dtype=float32)
    """
    if preprocess is None:
        return lambda x: x
    if isinstance(preprocess, str):
        from tlhelpers.transfer.backbones import get_spec   # here: it imports Keras

        return get_spec(preprocess).preprocess
    if callable(preprocess):
        return preprocess
    raise TypeError(
        f"preprocess must be a backbone name, a function or None; got {type(preprocess).__name__}."
    )


def _resize_and_preprocess(image_size: int | None, fn: Preprocess):
    def apply(images, labels):
        images = tf.cast(images, tf.float32)
        if image_size is not None:
            images = tf.image.resize(images, (image_size, image_size))
        return fn(images), labels

    return apply


def make_dataset(
    images: np.ndarray,
    labels: np.ndarray,
    image_size: int | None,
    preprocess: str | Preprocess | None = None,
    batch_size: int = 32,
    shuffle: bool = False,
    seed: int = 0,
) -> tf.data.Dataset:
    """Batches of (resized, preprocessed float32 images, labels) from in-memory arrays.

    ``images`` are the stored pixels (uint8, any size); ``image_size=None`` keeps it.
    Shuffling reshuffles every epoch with a fixed seed.
    """
    images, labels = np.asarray(images), np.asarray(labels)
    if images.ndim != 4 or images.shape[-1] != 3:
        raise ValueError(
            f"images must have shape (N, height, width, 3); got {images.shape}. "
            "Convert grayscale images to RGB first."
        )
    if len(images) != len(labels):
        raise ValueError(f"{len(images)} images but {len(labels)} labels: they must match.")
    ds = tf.data.Dataset.from_tensor_slices((images, labels))
    if shuffle:
        ds = ds.shuffle(len(labels), seed=seed, reshuffle_each_iteration=True)
    ds = ds.batch(batch_size)
    ds = ds.map(_resize_and_preprocess(image_size, get_preprocess(preprocess)),
                num_parallel_calls=tf.data.AUTOTUNE)
    recipe = _recipe(image_size, get_preprocess(preprocess), shuffle, seed)
    fingerprint = fingerprint_arrays(images, labels, extra=recipe)   # ~10 ms for 15 MB
    return _with_labels(ds.prefetch(tf.data.AUTOTUNE), labels, fingerprint)


def _recipe(image_size: int | None, fn: Preprocess, shuffle: bool, seed: int) -> bytes:
    """Size, order and what ``fn`` makes of a fixed probe image: the same preprocessing gives
    the same bytes whether it was named ("mobilenet_v2") or passed as a function."""
    probe = tf.reshape(tf.linspace(0.0, 255.0, 2 * 4 * 4 * 3), (2, 4, 4, 3))
    try:
        effect = np.asarray(fn(probe), np.float32).tobytes()
    except Exception:   # a function that needs other inputs: known only by itself (no reuse)
        effect = repr(fn).encode()
    return f"{image_size}|{shuffle}|{seed}|".encode() + effect


def _with_labels(ds: tf.data.Dataset, labels, fingerprint: str) -> tf.data.Dataset:
    """Remember the labels on the pipeline, so training.fit can check them against the model,
    and the fingerprint of its content, for the feature cache."""
    ds.tl_labels = np.asarray(labels)
    ds.tl_fingerprint = fingerprint
    return ds


def _decode_file(path):
    data = tf.io.read_file(path)
    image = tf.io.decode_image(data, channels=3, expand_animations=False)
    image.set_shape([None, None, 3])
    return image


def dataset_from_files(
    paths: Sequence[str],
    labels: Sequence[int],
    image_size: int,
    preprocess: str | Preprocess | None = None,
    batch_size: int = 32,
    shuffle: bool = False,
    seed: int = 0,
) -> tf.data.Dataset:
    """Like :func:`make_dataset`, but decodes image files as it streams them."""
    if len(paths) != len(labels):
        raise ValueError(f"{len(paths)} files but {len(labels)} labels: they must match.")
    fn = get_preprocess(preprocess)
    ds = tf.data.Dataset.from_tensor_slices((list(map(str, paths)), np.asarray(labels, np.int64)))
    if shuffle:
        ds = ds.shuffle(len(paths), seed=seed, reshuffle_each_iteration=True)
    ds = ds.map(
        lambda p, y: (tf.image.resize(tf.cast(_decode_file(p), tf.float32), (image_size, image_size)), y),
        num_parallel_calls=tf.data.AUTOTUNE,
    )
    ds = ds.batch(batch_size).map(lambda x, y: (fn(x), y), num_parallel_calls=tf.data.AUTOTUNE)
    # each file's size, modification time and sampled bytes (cachefile.fingerprint_files)
    fingerprint = fingerprint_files(paths, extra=np.asarray(labels, np.int64).tobytes()
                                    + _recipe(image_size, fn, shuffle, seed))
    return _with_labels(ds.prefetch(tf.data.AUTOTUNE), labels, fingerprint)


def value_range(ds: tf.data.Dataset, batches: int = 2) -> tuple[float, float]:
    """Smallest and largest input value over the first batches (to check preprocessing).

    >>> value_range(make_dataset(np.full((2, 8, 8, 3), 255, np.uint8), [0, 1], None, "mobilenet_v2"))
    (1.0, 1.0)
    """
    low, high = np.inf, -np.inf
    for x, _ in ds.take(batches):
        low, high = min(low, float(tf.reduce_min(x))), max(high, float(tf.reduce_max(x)))
    return low, high


def estimate_bytes(n_images: int, image_size: int, dtype: str = "float32") -> int:
    """Memory a materialised array of N square RGB images would take.

    >>> round(estimate_bytes(5000, 224) / 2**30, 2)
    2.8
    """
    return int(n_images) * image_size * image_size * 3 * np.dtype(dtype).itemsize


#: Share of the available memory that :func:`to_array` may fill.
SAFE_MEMORY_SHARE = 0.5


def available_memory() -> int:
    """Bytes of memory available now: ``TL_MEMORY_AVAILABLE_MB`` if set, else Linux's
    ``MemAvailable`` (/proc/meminfo), else free physical pages (``os.sysconf``).

    >>> available_memory() > 0
    True
    """
    import os

    override = config.settings().memory_available_mb
    if override is not None:
        return int(override * 2**20)
    try:
        with open("/proc/meminfo") as handle:
            for line in handle:
                if line.startswith("MemAvailable:"):
                    return int(line.split()[1]) * 1024
    except OSError:
        pass
    try:
        return os.sysconf("SC_AVPHYS_PAGES") * os.sysconf("SC_PAGE_SIZE")
    except (ValueError, OSError, AttributeError):  # pragma: no cover - not POSIX
        return 2**31   # assume 2 GB, the smallest machine the course supports


def check_memory(nbytes: int, what: str, instead: str) -> None:
    """Refuse to allocate ``nbytes`` beyond :data:`SAFE_MEMORY_SHARE` of the available memory.

    >>> check_memory(1000, "a tiny array", "nothing")
    """
    limit = int(available_memory() * SAFE_MEMORY_SHARE)
    if nbytes > limit:
        raise MemoryError(
            f"{what} would take {nbytes / 2**20:,.0f} MB, more than {SAFE_MEMORY_SHARE:.0%} of the "
            f"memory available now ({limit / SAFE_MEMORY_SHARE / 2**20:,.0f} MB). {instead}")


def to_array(images: np.ndarray, labels: np.ndarray, image_size: int | None,
             preprocess: str | Preprocess | None = None, batch_size: int = 256) -> tuple[np.ndarray, np.ndarray]:
    """Resized, preprocessed float32 images as one array, after checking it fits in memory.

    Only for small sets (e.g. a few images to inspect); for training, stream with
    :func:`make_dataset`, which never holds more than a few batches.

    >>> x, y = to_array(np.zeros((2, 8, 8, 3), np.uint8), [0, 1], 16, "mobilenet_v2")
    >>> x.shape, float(x.min())
    ((2, 16, 16, 3), -1.0)
    """
    images = np.asarray(images)
    size = image_size or (images.shape[1] if images.ndim == 4 else 0)
    check_memory(estimate_bytes(len(images), size), f"{len(images):,} images at {size} px as float32",
                 "Stream them instead with pipeline.make_dataset(images, labels, image_size, "
                 "preprocess), which resizes batch by batch, or pass fewer images.")
    ds = make_dataset(images, labels, image_size, preprocess, batch_size)
    xs, ys = zip(*[(x.numpy(), y.numpy()) for x, y in ds]) if len(images) else ((), ())
    if not xs:
        return np.zeros((0, size, size, 3), np.float32), np.zeros(0, np.asarray(labels).dtype)
    return np.concatenate(xs), np.concatenate(ys)
