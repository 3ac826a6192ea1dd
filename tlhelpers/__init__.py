"""tlhelpers: the reusable code behind the *Transfer Learning with Keras* course.

The notebooks import this package so that each one reads as a story. Submodules are
imported on demand (``from tlhelpers import data``) so that ``import tlhelpers`` is fast.

>>> import tlhelpers
>>> tlhelpers.__version__
'0.1.0'
"""

__version__ = "0.1.0"
