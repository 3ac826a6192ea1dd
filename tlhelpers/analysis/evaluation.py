"""Evaluating a trained classifier: accuracy, per-class reports, and a table of results.

Test accuracy, a classification report (text or DataFrame) and per-class accuracy come
from true labels and predicted probabilities (or class ids). :func:`results_table` puts
this run's headline numbers (kept across notebooks by :mod:`tlhelpers.analysis.results`) next to
the figures that the original lesson reported, labelled as such.

>>> import numpy as np
>>> from tlhelpers.analysis.evaluation import accuracy
>>> accuracy([0, 1, 1], np.array([[.9, .1], [.2, .8], [.7, .3]]))
0.6666666666666666
"""

from __future__ import annotations

import dataclasses
from typing import Any, Mapping, Sequence

import numpy as np
import pandas as pd

from tlhelpers.analysis.stats import (  # noqa: F401
    Paired, class_ids, compare_sentence, gap_is_clear, gap_standard_error, paired, standard_error, t_factor,
)

#: Test accuracies reported by the original lesson (VGG16 / MobileNetV2 era), with the
#: conditions they were measured under. Shown next to this run's numbers, never mixed in.
LESSON_REPORTED = {"scratch": 0.612, "feature extraction": 0.809, "fine-tuning": 0.854}
LESSON_CONDITIONS = "5,000 train / 1,000 test images, 224 px"
REPORTED_COLUMN = f"original lesson, reported ({LESSON_CONDITIONS})"


def _pair(y_true: Any, y_pred: Any) -> tuple[np.ndarray, np.ndarray]:
    t, p = class_ids(y_true, "y_true"), class_ids(y_pred, "y_pred")
    if len(t) != len(p):
        raise ValueError(f"y_true has {len(t)} entries but y_pred has {len(p)}: pass one prediction per label.")
    if len(t) == 0:
        raise ValueError("y_true is empty: evaluate on at least one example.")
    return t, p


def accuracy(y_true: Any, y_pred: Any) -> float:
    """Fraction of correct predictions; ``y_pred`` may be class ids or probabilities.

    >>> accuracy([0, 1], [0, 0])
    0.5
    """
    t, p = _pair(y_true, y_pred)
    return float(np.mean(t == p))


def per_class_accuracy(y_true: Any, y_pred: Any, class_names: Sequence[str]) -> pd.Series:
    """Accuracy (recall) of each class, as a Series indexed by class name (NaN if absent).

    >>> per_class_accuracy([0, 0, 1], [0, 1, 1], ["cat", "dog"]).tolist()
    [0.5, 1.0]
    """
    t, p = _pair(y_true, y_pred)
    values = []
    for k in range(len(class_names)):
        mask = t == k
        values.append(float(np.mean(p[mask] == k)) if mask.any() else float("nan"))
    return pd.Series(values, index=list(class_names), name="accuracy")


def classification_report_frame(y_true: Any, y_pred: Any, class_names: Sequence[str]) -> pd.DataFrame:
    """Precision, recall, F1 and support per class (plus averages) as a DataFrame."""
    from sklearn.metrics import classification_report

    t, p = _pair(y_true, y_pred)
    report = classification_report(t, p, labels=list(range(len(class_names))),
                                   target_names=list(class_names), output_dict=True, zero_division=0)
    frame = pd.DataFrame(report).T
    frame["support"] = frame["support"].astype(int)
    return frame.round(3)


def classification_report_text(y_true: Any, y_pred: Any, class_names: Sequence[str], digits: int = 3) -> str:
    """The same report as scikit-learn prints it (a fixed-width text table)."""
    from sklearn.metrics import classification_report

    t, p = _pair(y_true, y_pred)
    return classification_report(t, p, labels=list(range(len(class_names))),
                                 target_names=list(class_names), digits=digits, zero_division=0)


@dataclasses.dataclass
class Evaluation:
    """Predictions of one model on one data set, with the usual summaries.

    >>> ev = Evaluation(np.array([[.9, .1], [.4, .6]]), np.array([0, 0]), ("cat", "dog"))
    >>> ev.accuracy, ev.n
    (0.5, 2)
    """

    probs: np.ndarray
    y_true: np.ndarray
    class_names: tuple[str, ...]

    @property
    def y_pred(self) -> np.ndarray:
        """The predicted class of every image (the argmax of ``probs``)."""
        return class_ids(self.probs, "probs")

    @property
    def n(self) -> int:
        """The number of images evaluated."""
        return len(self.y_true)

    @property
    def accuracy(self) -> float:
        """The fraction of images whose predicted class is the true one."""
        return accuracy(self.y_true, self.probs)

    def per_class(self) -> pd.Series:
        """Accuracy per class, indexed by class name."""
        return per_class_accuracy(self.y_true, self.probs, self.class_names)

    def report(self) -> str:
        """scikit-learn's classification report (precision, recall, F1 per class), as text."""
        return classification_report_text(self.y_true, self.probs, self.class_names)

    def report_frame(self) -> pd.DataFrame:
        """The classification report as a DataFrame, one row per class."""
        return classification_report_frame(self.y_true, self.probs, self.class_names)

    def summary(self) -> str:
        """One line: accuracy, its standard error and the number of images."""
        se = standard_error(self.accuracy, self.n)
        return (f"accuracy {self.accuracy:.3f} on {self.n} images "
                f"(standard error about {se:.3f}; one image = {1 / self.n:.3f})")


def evaluate(model, dataset, class_names: Sequence[str]) -> Evaluation:
    """Run ``model`` (in inference mode) over a ``tf.data`` dataset of (images, labels).

    Use it once on the test set, at the end; choices are made on the validation split.
    """
    from tlhelpers.transfer.training import predict_dataset   # here: it imports TensorFlow and Keras

    probs, labels = predict_dataset(model, dataset)
    if probs.ndim != 2 or probs.shape[1] != len(class_names):
        raise ValueError(f"The model outputs shape {probs.shape} but there are {len(class_names)} "
                         "class names: pass the class names the model was trained on.")
    return Evaluation(probs, labels.astype(int), tuple(class_names))


# ---------------------------------------------------------------- a table for the results

def results_table(this_run: Mapping[str, float], reported: Mapping[str, float] | None = None,
                  n_test: int | None = None) -> pd.DataFrame:
    """This run's numbers next to the original lesson's *reported* figures, one row per method.

    Rows are the union of both mappings (this run first); a missing value is NaN. With
    ``n_test`` a column gives the standard error of this run's accuracies.

    >>> results_table({"feature extraction": 0.5}).columns.tolist()[0]
    'this run'
    """
    reported = LESSON_REPORTED if reported is None else reported
    names = list(this_run) + [k for k in reported if k not in this_run]
    frame = pd.DataFrame(
        {"this run": [this_run.get(k, np.nan) for k in names],
         REPORTED_COLUMN: [reported.get(k, np.nan) for k in names]},
        index=pd.Index(names, name="method"), dtype=float)
    if n_test:
        frame.insert(1, "± standard error", [standard_error(v, n_test) if np.isfinite(v) else np.nan
                                             for v in frame["this run"]])
    return frame.round(3)
