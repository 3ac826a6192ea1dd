"""tlhelpers: the reusable code behind the *Transfer Learning with Keras* course.

The notebooks import this package so that each one reads as a story. Submodules are
imported on demand (``from tlhelpers import data``) so that ``import tlhelpers`` is fast.

>>> import tlhelpers
>>> tlhelpers.__version__
'0.1.0'
"""

import os as _os

# Keep TensorFlow's C++ start-up chatter out of the notebooks (errors still show).
_os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

__version__ = "0.1.0"
