import doctest

import pytest

from tlhelpers.analysis import evaluation, stats


def test_doctests():
    result = doctest.testmod(stats)
    assert result.attempted > 0 and result.failed == 0


def test_evaluation_still_offers_the_noise_helpers():
    assert evaluation.compare_sentence is stats.compare_sentence
    assert evaluation.standard_error is stats.standard_error


def test_standard_error_refuses_an_empty_sample():
    with pytest.raises(ValueError, match="positive number of examples"):
        stats.standard_error(0.5, 0)


def test_paired_counts_only_the_disagreements():
    y = [0] * 10
    a = [0] * 9 + [1]        # right on 9
    b = [0] * 7 + [1] * 3    # right on 7, and wrong wherever a is
    p = stats.paired(y, a, b)
    assert (p.acc_a, p.acc_b, p.a_only, p.b_only) == (0.9, 0.7, 2, 0)
    assert p.p_value == 0.5            # 2 of 2 disagreements: 2 x (1/2)^2
    assert not p.a_is_ahead()
    tied = stats.paired(y, a, a)
    assert tied.p_value == 1.0 and "tied" in tied.sentence("A", "B")


def test_paired_accepts_probabilities_and_refuses_mismatched_lengths():
    import numpy as np

    probs = np.array([[0.9, 0.1], [0.2, 0.8]])
    assert stats.paired([0, 1], probs, [1, 1]).a_only == 1
    with pytest.raises(ValueError, match="same images"):
        stats.paired([0, 1, 1], [0, 1], [0, 1, 1])


def test_the_paired_se_is_smaller_than_the_independent_one_when_errors_overlap():
    p = stats.Paired(1000, 0.66, 0.62, 90, 50)
    assert p.se < stats.gap_standard_error(0.66, 0.62, 1000)


def test_t_factor_and_chance():
    assert round(stats.t_factor(3), 2) == 4.30
    with pytest.raises(ValueError):
        stats.t_factor(1)
    assert stats.chance_p_value(0.5, 60, 0.5) > 0.4 and stats.chance_p_value(0.7, 60, 0.5) < 0.01
