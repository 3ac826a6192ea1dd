"""Layer 4, data in: CIFAR-10 (``data``), the flowers photos of notebook 07 (``flowers``) and
``python -m tlhelpers fetch`` (``fetch``, which starts no TensorFlow).

See docs/architecture.md for the layers.

>>> from tlhelpers.datasets.data import balanced_indices
>>> import numpy as np
>>> balanced_indices(np.array([0, 1, 0, 1]), per_class=1).size
2

"""
