"""Layer 5, the lesson's helpers: the pieces of a transfer-learning run. Backbones with their
own preprocessing, the ``tf.data`` pipeline, learners' folders, heads and whole models,
augmentation layers, the feature cache, training, parameter counts and what trains.
Each helper that packages Keras code a notebook teaches says which section teaches it.

See docs/architecture.md for the layers.

>>> from tlhelpers.transfer.models import make_head
>>> make_head(8, 3, units=(4,)).output_shape
(None, 3)
"""
