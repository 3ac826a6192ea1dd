"""How much an accuracy measured on a few images can be trusted: standard errors, and
sentences that compare two accuracies honestly.

>>> from tlhelpers.stats import standard_error
>>> round(standard_error(0.6, 200), 3)
0.035
"""

from __future__ import annotations

import math


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
    """A sentence comparing two accuracies on the same ``n`` examples, honest about noise.

    The gap is called real only when it exceeds twice its standard error
    (:func:`gap_standard_error`); the sentence prints that threshold.

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
        verdict = (f"less than {threshold}, so this run cannot tell them apart: on so few "
                   "images the gap may be noise.")
    return first + f"{leader} is ahead by {abs(gap):.3f}, " + verdict


def gap_is_clear(acc_a: float, acc_b: float, n: int) -> bool:
    """True when ``acc_a - acc_b`` exceeds twice its standard error (the rule of
    :func:`compare_sentence`), for takeaways that are computed, not typed.

    >>> gap_is_clear(0.8, 0.6, 1000), gap_is_clear(0.62, 0.6, 100)
    (True, False)
    """
    return acc_a - acc_b > 2 * gap_standard_error(acc_a, acc_b, n)
