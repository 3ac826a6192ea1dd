"""How much an accuracy measured on a few images can be trusted: standard errors, and
sentences that compare two accuracies honestly.

>>> from tlhelpers.analysis.stats import standard_error
>>> round(standard_error(0.6, 200), 3)
0.035
"""

from __future__ import annotations

import dataclasses
import math
from typing import Any

import numpy as np


def standard_error(acc: float, n: int) -> float:
    """Binomial standard error of an accuracy measured on ``n`` examples.

    >>> round(standard_error(0.5, 100), 3)
    0.05
    """
    if n < 1:
        raise ValueError(f"n must be a positive number of examples, got {n}.")
    return math.sqrt(max(acc * (1.0 - acc), 0.0) / n)


def gap_standard_error(acc_a: float, acc_b: float, n: int) -> float:
    """Standard error of the difference of two accuracies, each measured on ``n`` examples.

    Treats the two as independent, $\\sqrt{SE_a^2 + SE_b^2}$: on the same examples the
    true value is usually a little smaller, so this errs on the side of "noise".

    >>> round(gap_standard_error(0.5, 0.5, 100), 4)
    0.0707
    """
    return math.sqrt(standard_error(acc_a, n) ** 2 + standard_error(acc_b, n) ** 2)


def compare_sentence(name_a: str, acc_a: float, name_b: str, acc_b: float, n: int,
                     what: str = "validation accuracy") -> str:
    """A sentence comparing two accuracies measured on ``n`` examples each, honest about noise.

    The gap is called real only when it exceeds twice its standard error
    (:func:`gap_standard_error`, which treats the two samples as independent); the sentence
    prints that threshold. It covers the sampling of the examples, not the training seed.
    When both models were scored on the *same* images, :func:`paired` is the sharper test.

    >>> compare_sentence("A", 0.80, "B", 0.60, 1000)
    'In this run, A reaches a validation accuracy of 0.800 and B 0.600 (n = 1000): A is ahead by 0.200, more than twice the standard error of the gap (2 x 0.020 = 0.040), so the gap is unlikely to be noise.'
    """
    se = gap_standard_error(acc_a, acc_b, n)
    gap = acc_a - acc_b
    first = (f"In this run, {name_a} reaches a {what} of {acc_a:.3f} and {name_b} {acc_b:.3f} "
             f"(n = {n}): ")
    if gap == 0:
        return first + "they are tied."
    leader = name_a if gap > 0 else name_b
    threshold = f"twice the standard error of the gap (2 x {se:.3f} = {2 * se:.3f})"
    if abs(gap) > 2 * se:
        verdict = f"more than {threshold}, so the gap is unlikely to be noise."
    else:
        verdict = (f"less than {threshold}, so this run cannot tell them apart: the gap may be noise "
                   "from which images were drawn.")
    return first + f"{leader} is ahead by {abs(gap):.3f}, " + verdict


def gap_is_clear(acc_a: float, acc_b: float, n: int) -> bool:
    """True when ``acc_a - acc_b`` exceeds twice its standard error (the rule of
    :func:`compare_sentence`), for takeaways that are computed, not typed.

    >>> gap_is_clear(0.8, 0.6, 1000), gap_is_clear(0.62, 0.6, 100)
    (True, False)
    """
    return acc_a - acc_b > 2 * gap_standard_error(acc_a, acc_b, n)


# --- Two models on the same images: a paired comparison ------------------------------------
#
# When two models are scored on the *same* images, most images are right (or wrong) for both,
# and only the images on which they disagree carry information about which one is better.
# McNemar's test uses exactly those: under "no difference", each disagreement is equally likely
# to favour either model, so the number won by A is Binomial(disagreements, 1/2).


@dataclasses.dataclass(frozen=True)
class Paired:
    """Two models scored on the same ``n`` images (see :func:`paired`).

    ``a_only`` images are right for A and wrong for B, ``b_only`` the reverse. ``p_value`` is
    McNemar's exact two-sided test; ``se`` the standard error of the gap in accuracy, from the
    same disagreements. Both cover one noise only: which images happened to be drawn.
    They say nothing about how a rerun with another seed would differ.
    """

    n: int
    acc_a: float
    acc_b: float
    a_only: int
    b_only: int

    @property
    def gap(self) -> float:
        """Accuracy of A minus accuracy of B."""
        return self.acc_a - self.acc_b

    @property
    def se(self) -> float:
        """Standard error of the paired gap: $\\sqrt{(b + c) - (b - c)^2/n}\\,/\\,n$."""
        b, c, n = self.a_only, self.b_only, self.n
        return math.sqrt(max(b + c - (b - c) ** 2 / n, 0.0)) / n

    @property
    def p_value(self) -> float:
        """McNemar's exact test: two-sided binomial p-value of the disagreements."""
        m = self.a_only + self.b_only
        if m == 0:
            return 1.0
        from scipy.stats import binomtest

        return float(binomtest(self.a_only, m, 0.5).pvalue)

    def a_is_ahead(self, margin: float = 0.0, alpha: float = 0.05) -> bool:
        """True when A beats B by more than ``margin`` and McNemar's test rejects a tie at ``alpha``.

        >>> Paired(1000, 0.66, 0.62, 90, 50).a_is_ahead(margin=0.03)
        True
        """
        return self.gap > margin and self.p_value < alpha

    def sentence(self, name_a: str, name_b: str, what: str = "test accuracy") -> str:
        """One sentence: both accuracies, the disagreements, and the verdict of the paired test.

        >>> print(Paired(1000, 0.66, 0.62, 90, 50).sentence("fine-tuning", "feature extraction"))
        In this run, fine-tuning reaches a test accuracy of 0.660 and feature extraction 0.620 on the same 1000 images: they disagree on 140 of them, 90 won by fine-tuning and 50 by feature extraction. McNemar's paired test gives p < 0.001: a gap of 0.040 ± 0.012 is unlikely to come from which images were drawn (this covers which images were drawn, not another training seed).
        """
        head = (f"In this run, {name_a} reaches a {what} of {self.acc_a:.3f} and {name_b} "
                f"{self.acc_b:.3f} on the same {self.n} images: ")
        m = self.a_only + self.b_only
        if m == 0:
            return head + "they are right and wrong on exactly the same images, so they are tied."
        head += (f"they disagree on {m} of them, {self.a_only} won by {name_a} and "
                 f"{self.b_only} by {name_b}. ")
        p = self.p_value
        p_text = "p < 0.001" if p < 0.001 else f"p = {p:.3f}"
        gap = f"a gap of {abs(self.gap):.3f} ± {self.se:.3f}"
        scope = " (this covers which images were drawn, not another training seed)."
        if p < 0.05:
            return head + f"McNemar's paired test gives {p_text}: {gap} is unlikely to come from which images were drawn" + scope
        return (head + f"McNemar's paired test gives {p_text}: {gap} could come from which images "
                "were drawn, so this run cannot tell them apart" + scope)


def class_ids(values: Any, name: str = "labels") -> np.ndarray:
    """Class ids from ids (N,), probabilities or one-hot rows (N, C), or one sigmoid column (N, 1).

    >>> class_ids([[0.2, 0.8], [0.9, 0.1]]).tolist(), class_ids([[0.7], [0.2]]).tolist()
    ([1, 0], [1, 0])
    """
    arr = np.asarray(values)
    if arr.ndim == 2 and arr.shape[1] == 1:   # one sigmoid output: the probability of class 1
        return (arr[:, 0] > 0.5).astype(int)
    if arr.ndim == 2:
        return arr.argmax(axis=1).astype(int)
    if arr.ndim != 1:
        raise ValueError(f"{name} must be class ids (N,) or probabilities (N, C); got shape {arr.shape}.")
    return arr.astype(int)


def paired(y_true: Any, pred_a: Any, pred_b: Any) -> Paired:
    """Compare two models' predictions (class ids or probabilities) on the same images.

    >>> p = paired([0, 1, 1, 0], [0, 1, 1, 1], [0, 0, 1, 1])
    >>> p.acc_a, p.acc_b, p.a_only, p.b_only
    (0.75, 0.5, 1, 0)
    """
    y = class_ids(y_true, "y_true")
    a, b = class_ids(pred_a, "pred_a"), class_ids(pred_b, "pred_b")
    if not (len(y) == len(a) == len(b)) or len(y) == 0:
        raise ValueError(f"paired() needs predictions of both models on the same images: got "
                         f"{len(y)} labels, {len(a)} and {len(b)} predictions. Predict both "
                         "models on one dataset in a fixed order (shuffle=False).")
    right_a, right_b = a == y, b == y
    return Paired(len(y), float(right_a.mean()), float(right_b.mean()),
                  int(np.sum(right_a & ~right_b)), int(np.sum(~right_a & right_b)))


def t_factor(seeds: int, confidence: float = 0.95) -> float:
    """Student-t multiplier for a mean over ``seeds`` runs ($t_{n-1}$, two-sided).

    With 3 seeds (2 degrees of freedom) a 95 % interval is the mean ± 4.30 standard errors,
    not ± 2: a spread from so few runs is itself uncertain.

    >>> round(t_factor(3), 2), round(t_factor(30), 2)
    (4.3, 2.05)
    """
    if seeds < 2:
        raise ValueError(f"a spread needs at least 2 seeds; got {seeds}.")
    from scipy import stats as scipy_stats

    return float(scipy_stats.t.ppf(0.5 + confidence / 2, seeds - 1))


def chance_p_value(acc: float, n: int, chance: float) -> float:
    """One-sided binomial p-value of scoring ``acc`` on ``n`` images by guessing at ``chance``.

    Small (below 0.05) when the accuracy is beyond what guessing gives on this many images.

    >>> round(chance_p_value(0.5, 60, 0.5), 2), chance_p_value(0.75, 60, 0.5) < 0.001
    (0.55, True)
    """
    if n < 1 or not 0 < chance < 1:
        raise ValueError(f"need n >= 1 and 0 < chance < 1; got n={n}, chance={chance}.")
    from scipy.stats import binomtest

    return float(binomtest(int(round(acc * n)), n, chance, alternative="greater").pvalue)
