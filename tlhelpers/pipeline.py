"""``tf.data`` input pipelines that resize and preprocess on the fly.

Only the small stored images are kept in memory (uint8); each batch is resized and
given its backbone's ``preprocess_input`` as it is needed, so no float32 copy of the
whole data set at 224 px ever exists (that copy would be 3 GB for 5,000 images).

>>> import numpy as np
>>> from tlhelpers.pipeline import make_dataset
>>> ds = make_dataset(np.zeros((4, 32, 32, 3), np.uint8), np.arange(4), 96, "mobilenet_v2")
>>> next(iter(ds))[0].shape
TensorShape([4, 96, 96, 3])
"""

from __future__ import annotations

from typing import Callable, Sequence

import numpy as np
import tensorflow as tf

Preprocess = Callable[[tf.Tensor], tf.Tensor]


def get_preprocess(preprocess: str | Preprocess | None) -> Preprocess:
    """A backbone name, a callable or None (keep raw [0, 255] floats) -> a callable.

    >>> get_preprocess(None)(tf.constant([255.0])).numpy()
    array([255.], dtype=float32)
    """
    if preprocess is None:
        return lambda x: x
    if isinstance(preprocess, str):
        from tlhelpers.backbones import get_spec

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
    return ds.prefetch(tf.data.AUTOTUNE)


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
    return ds.prefetch(tf.data.AUTOTUNE)


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
