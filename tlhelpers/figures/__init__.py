"""Layer 7, figures and explorers: image grids, training curves, confusion matrices, filters
and activation maps, and the interactive explorers (each with a static figure where
widgets cannot run).

See docs/architecture.md for the layers.

>>> from tlhelpers.figures import plots
>>> callable(plots.show_images)
True
"""
