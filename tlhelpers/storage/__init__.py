"""Layer 3, files and assets: atomic writes and fingerprints (``cachefile``), where weights,
data and caches live online and offline (``assets``), and safe decoding and checking of
learners' image files (``imagedecode``, ``imagefiles``).

See docs/architecture.md for the layers.

>>> from tlhelpers.storage.cachefile import write_atomic
>>> callable(write_atomic)
True
"""
