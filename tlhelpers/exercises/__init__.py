"""Layer 8, the exercise checks behind ``tlhelpers.check``: the feedback object, looking
inside a learner's pipeline and model, and the evidence each check judges (histories,
recomputed accuracies, weights that changed, saved files).

See docs/architecture.md for the layers.

>>> from tlhelpers.exercises.feedback import Feedback
>>> Feedback.__name__
'Feedback'
"""
