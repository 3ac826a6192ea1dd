"""What the benchmarks measured: ablations of the CPU fine-tuning recipe (a generated file).

Written by ``python benchmarks/ablations.py --out docs/benchmarks/ablations.jsonl --write-module
tlhelpers/analysis/measured.py`` from the runs recorded in ``docs/benchmarks/ablations.jsonl``
(tests/test_measured.py checks that they agree). Notebook 04, section 9, shows the table.

>>> int(ablation_table().loc["baseline", "seeds"])
3
"""

from __future__ import annotations

#: The conditions of every run (docs/performance.md has the machine and the commands).
MEASURED_ON = ("mobilenet_025 with its ImageNet weights, CIFAR-10: 4000 training images, "
               "scored on 1000 validation images split off the training set; 2 CPU cores; "
               "means over seeds")

#: (group, variant, seeds, validation accuracy, its standard error over seeds, with flip TTA,
#: head alone, wall seconds, peak MB): every variant changes one choice of the baseline.
ABLATIONS = [
    ('baseline', 'baseline', 3, 0.6833, 0.0054, 0.6987, 0.6813, 34, 1017),
    ('image_size', '96 px', 3, 0.6733, 0.009, 0.6897, 0.662, 30, 952),
    ('image_size', '160 px', 3, 0.7, 0.004, 0.7153, 0.705, 60, 1091),
    ('image_size', '192 px', 3, 0.6873, 0.0168, 0.7, 0.706, 68, 1183),
    ('head_epochs', 'head 10 epochs', 3, 0.6903, 0.0056, 0.707, 0.6853, 39, 1011),
    ('head_epochs', 'head 20 epochs', 3, 0.6847, 0.0089, 0.6967, 0.682, 49, 1013),
    ('depth', 'head only', 3, 0.6813, 0.0054, None, 0.6813, 12, 916),
    ('depth', 'last 10 layers', 3, 0.6817, 0.0064, 0.7, 0.6813, 37, 1007),
    ('depth', 'last 40 layers', 3, 0.684, 0.0095, 0.7013, 0.6813, 44, 1026),
    ('depth', 'whole base', 3, 0.7043, 0.0102, 0.7133, 0.6813, 60, 1057),
    ('ft_epochs', '3 epochs', 3, 0.6773, 0.0092, 0.6937, 0.6813, 45, 1009),
    ('ft_epochs', '10 epochs', 3, 0.7037, 0.0046, 0.7087, 0.6813, 78, 1020),
    ('schedule', 'cosine', 3, 0.7023, 0.0046, 0.72, 0.6813, 41, 1011),
    ('schedule', 'warm-up + cosine', 3, 0.6987, 0.0012, 0.717, 0.6813, 50, 1015),
    ('schedule', 'lr 3e-4 cosine', 3, 0.722, 0.0067, 0.7297, 0.6813, 41, 1015),
    ('augment', 'flip', 3, 0.6787, 0.0112, 0.6917, 0.6813, 36, 1015),
    ('augment', 'flip + translate', 3, 0.66, 0.0064, 0.667, 0.6813, 44, 1027),
    ('augment', 'flip + crop', 3, 0.674, 0.011, 0.6883, 0.6813, 42, 1015),
    ('label_smoothing', 'smoothing 0.1', 3, 0.68, 0.0075, 0.703, 0.6827, 34, 1010),
    ('features', '96 + 128 px features, head only', 3, 0.6887, 0.0074, None, 0.6887, 11, 955),
    ('features', '128 + 160 px features, head only', 3, 0.705, 0.006, None, 0.705, 15, 1010),
    ('batch', 'batch 16', 3, 0.6747, 0.0125, 0.6867, 0.6813, 36, 1022),
    ('batch', 'batch 64', 3, 0.694, 0.004, 0.708, 0.6813, 34, 1061),
    ('batchnorm', 'BatchNormalization trained', 3, 0.7057, 0.0081, 0.722, 0.6813, 36, 1033),
    ('combined', 'lr 1e-3 cosine', 3, 0.6717, 0.0063, 0.689, 0.6813, 38, 1017),
    ('combined', 'lr 3e-4 cosine, whole base', 3, 0.7463, 0.0018, 0.7543, 0.6813, 60, 1055),
    ('combined', 'lr 3e-4 cosine, 10 epochs', 3, 0.7353, 0.0052, 0.743, 0.6813, 66, 1022),
    ('combined', 'lr 3e-4 cosine, 10 epochs, flip', 3, 0.7273, 0.0028, 0.7447, 0.6813, 97, 1020),
    ('combined', 'lr 3e-4 cosine, 160 px', 3, 0.7207, 0.0076, 0.734, 0.705, 49, 1099),
    ('combined', 'lr 3e-4 cosine, batch 64', 3, 0.7087, 0.0047, 0.7217, 0.6813, 35, 1060),
    ('combined', 'lr 3e-4 cosine, whole base, 10 epochs', 3, 0.7247, 0.0341, 0.7303, 0.6813, 88, 1055),
]


def ablation_table():
    """The ablations as a DataFrame indexed by variant, with the gain over the baseline.

    >>> float(ablation_table().loc["baseline", "vs baseline"])
    0.0
    """
    import pandas as pd

    columns = ["group", "variant", "seeds", "accuracy", "standard error", "with flip TTA",
               "head alone", "wall s", "peak MB"]
    table = pd.DataFrame(ABLATIONS, columns=columns).set_index("variant")
    table.insert(4, "vs baseline", (table["accuracy"] - table.loc["baseline", "accuracy"]).round(4))
    return table
