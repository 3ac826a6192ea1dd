"""Domain shift: images changed the way a deployed model's inputs might drift, for testing.

>>> from tlhelpers.transfer.shifts import SHIFTS
>>> SHIFTS
('grayscale', 'invert', 'low_resolution')
"""

from __future__ import annotations

from typing import Callable


SHIFTS = ("grayscale", "invert", "low_resolution")


def domain_shift(kind: str, preprocess=None) -> Callable:
    """A ``preprocess`` function that first shifts the images' domain, then preprocesses.

    ``kind``: ``"grayscale"`` (colour removed), ``"invert"`` (negative image) or
    ``"low_resolution"`` (detail removed by 4x down- and up-sampling). Pass the result
    as ``preprocess`` to ``FolderData.dataset`` or ``pipeline.dataset_from_files``.

    >>> import numpy as np
    >>> fn = domain_shift("invert")
    >>> float(fn(np.zeros((1, 4, 4, 3), np.float32)).numpy().max())
    255.0
    """
    import tensorflow as tf

    from tlhelpers.transfer.pipeline import get_preprocess   # here: it imports TensorFlow

    if kind not in SHIFTS:
        raise ValueError(f"Unknown domain shift {kind!r}; choose one of {', '.join(SHIFTS)}.")
    after = get_preprocess(preprocess)

    def apply(images):
        images = tf.cast(images, tf.float32)
        if kind == "grayscale":
            images = tf.image.grayscale_to_rgb(tf.image.rgb_to_grayscale(images))
        elif kind == "invert":
            images = 255.0 - images
        else:
            h, w = images.shape[1], images.shape[2]
            small = tf.image.resize(images, (max(1, h // 4), max(1, w // 4)))
            images = tf.image.resize(small, (h, w))
        return after(images)

    return apply
