"""The course's set-up, data and results: one of the four names a notebook imports.

A notebook imports at most ``course``, ``lesson``, ``views`` and (in 07) ``check``. This
facade gathers what is *not* the lesson: starting a notebook (seed, profile, versions),
CIFAR-10 and learners' own folders, offline assets, the results store and what the
benchmarks measured. Each name is defined in the module named in the table of
docs/architecture.md ("What the notebooks call"); read it there with ``course.name??``.

>>> from tlhelpers import course
>>> course.train_val_split.__module__
'tlhelpers.datasets.data'
"""

import tlhelpers.startup.notebook  # noqa: F401  (first: it imports TensorFlow without its start-up lines)

from tlhelpers.storage.assets import AssetNotAvailableError, course_cache_dir
from tlhelpers.transfer.backbones import prepare_weights
from tlhelpers.datasets.data import cifar10_folder, load_cifar10, require_cifar10_folder, train_val_split
from tlhelpers.datasets.flowers import flowers_folder
from tlhelpers.transfer.folders import load_image_folder, read_images, scan_class_folders
from tlhelpers.transfer.heads import save_head
from tlhelpers.analysis.measured import MEASURED_ON, ablation_table
from tlhelpers.analysis.measured_finetune import SEEDS as FINETUNE_SEEDS
from tlhelpers.startup.notebook import need, start
from tlhelpers.analysis.results import find_result, load_results, run_tag, save_result, save_results
from tlhelpers.transfer.shifts import domain_shift
from tlhelpers.analysis.zoo import recommend_strategy, zoo_table

__all__ = [
    "AssetNotAvailableError", "course_cache_dir", "prepare_weights", "cifar10_folder", "load_cifar10",
    "require_cifar10_folder", "train_val_split", "flowers_folder", "load_image_folder", "read_images",
    "scan_class_folders", "save_head", "MEASURED_ON", "ablation_table", "FINETUNE_SEEDS", "need", "start",
    "find_result", "load_results", "run_tag", "save_result", "save_results", "domain_shift",
    "recommend_strategy", "zoo_table",
]
