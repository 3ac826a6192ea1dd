"""Figures and widgets: one of the four names a notebook imports.

Image grids, training curves, confusion matrices, filters and activation maps, results
bars, and the interactive explorers (each with a static figure where widgets cannot run).
docs/architecture.md ("What the notebooks call") lists every name with its module.

>>> from tlhelpers import views
>>> views.plot_history.__module__
'tlhelpers.figures.plots_models'
"""

import tlhelpers.startup.notebook  # noqa: F401  (first: it imports TensorFlow without its start-up lines)

from tlhelpers.figures.augment_explorer import augmentation_explorer
from tlhelpers.figures.explore import freezing_explorer, prediction_browser
from tlhelpers.figures.plots import (compare_histories, plot_confusion_matrix, plot_history, plot_lines, plot_results,
                             plot_scatter, show_activations, show_augmentations, show_filters, show_images,
                             show_predictions)
from tlhelpers.analysis.zoo import decision_widget

__all__ = [
    "augmentation_explorer", "freezing_explorer", "prediction_browser", "compare_histories", "plot_confusion_matrix",
    "plot_history", "plot_lines", "plot_results", "plot_scatter", "show_activations", "show_augmentations",
    "show_filters", "show_images", "show_predictions", "decision_widget",
]
