"""The lesson's helpers: one of the four names a notebook imports.

Backbones, heads and whole models, the ``tf.data`` pipeline, the feature cache, training
and evaluation. Each helper that packages Keras code comes *after* the notebook has shown
that code in plain Keras; its docstring says where ("Taught in notebook 03, section 5"),
and docs/architecture.md ("What the notebooks call") lists every name with its module.

>>> from tlhelpers import lesson
>>> lesson.make_head.__module__
'tlhelpers.transfer.models'
"""

import tlhelpers.startup.notebook  # noqa: F401  (first: it imports TensorFlow without its start-up lines)

from tlhelpers.transfer.augment import DEFAULT_STRENGTHS, make_augmentation
from tlhelpers.transfer.backbones import get_spec, load_backbone
from tlhelpers.analysis.evaluation import (LESSON_CONDITIONS, LESSON_REPORTED, Evaluation, evaluate, gap_is_clear,
                                  gap_standard_error, paired, results_table, standard_error, t_factor)
from tlhelpers.transfer.experiments import (NATIVE_SIZE, data_size_sweep, head_options, largest_gain, sweep_sizes,
                                   sweep_table)
from tlhelpers.transfer.models import LESSON_HEADS, InferenceMode, make_head, scratch_cnn, transfer_classifier, unfreeze
from tlhelpers.transfer.params import param_counts
from tlhelpers.transfer.pipeline import make_dataset, value_range
from tlhelpers.analysis.probing import (conv_depth, first_conv_kernel, linear_probe, neighbour_correlation, pick_layers,
                               pooled_features_at)
from tlhelpers.transfer.trainability import trainability_table
from tlhelpers.transfer.training import (compile_model, extract_features, fit, predict_dataset, profile_cache_key, restart,
                                set_seed)

__all__ = [
    "DEFAULT_STRENGTHS", "make_augmentation", "get_spec", "load_backbone", "LESSON_CONDITIONS", "LESSON_REPORTED",
    "Evaluation", "evaluate", "gap_is_clear", "gap_standard_error", "paired", "results_table", "standard_error",
    "t_factor", "NATIVE_SIZE", "data_size_sweep", "head_options", "largest_gain", "sweep_sizes", "sweep_table",
    "LESSON_HEADS", "InferenceMode", "make_head", "scratch_cnn", "transfer_classifier", "unfreeze", "param_counts",
    "make_dataset", "value_range", "conv_depth", "first_conv_kernel", "linear_probe", "neighbour_correlation",
    "pick_layers", "pooled_features_at", "trainability_table", "compile_model", "extract_features", "fit",
    "predict_dataset", "profile_cache_key", "restart", "set_seed",
]
