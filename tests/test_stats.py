import doctest

import pytest

from tlhelpers import evaluation, stats


def test_doctests():
    result = doctest.testmod(stats)
    assert result.attempted > 0 and result.failed == 0


def test_evaluation_still_offers_the_noise_helpers():
    assert evaluation.compare_sentence is stats.compare_sentence
    assert evaluation.standard_error is stats.standard_error


def test_standard_error_refuses_an_empty_sample():
    with pytest.raises(ValueError, match="positive number of examples"):
        stats.standard_error(0.5, 0)
