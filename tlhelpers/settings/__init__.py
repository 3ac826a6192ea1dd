"""Layer 1, settings and pure data: the course's settings and profiles (``config``, the only
reader of the environment), the backbone table as plain data (``registry``) and TensorFlow's
quiet import (``quiet``). Nothing here loads Keras or TensorFlow when it is imported.

See docs/architecture.md for the layers.

>>> from tlhelpers.settings import registry
>>> 'mobilenet_v2' in registry.ENTRIES
True

"""
