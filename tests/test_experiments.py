"""Tests for tlhelpers.transfer.experiments (tiny random data; accuracy does not matter here)."""

import json

import numpy as np
import pytest

from tlhelpers.transfer import experiments


def test_sweep_sizes_keeps_candidates_below_max_and_adds_max():
    assert experiments.sweep_sizes(24) == [5, 10, 24]
    assert experiments.sweep_sizes(500) == [5, 10, 50, 200, 500]
    assert experiments.sweep_sizes(50, candidates=(10, 50)) == [10, 50]
    with pytest.raises(ValueError, match="at least 1"):
        experiments.sweep_sizes(0)


def test_nested_subsets_are_balanced_and_nested():
    labels = np.repeat(np.arange(3), 10)
    subsets = experiments.nested_subsets(labels, [2, 5, 10], seed=1)
    assert set(subsets) == {2, 5, 10}
    for n, idx in subsets.items():
        assert np.bincount(labels[idx]).tolist() == [n] * 3
    assert set(subsets[2]) <= set(subsets[5]) <= set(subsets[10])


def test_nested_subsets_refuses_too_many():
    with pytest.raises(ValueError, match="smallest class has 2"):
        experiments.nested_subsets(np.array([0, 0, 1, 1]), [3])


def test_data_size_sweep_returns_plain_lists(tmp_path):
    rng = np.random.default_rng(0)
    y = np.repeat(np.arange(2), 6)
    x = rng.integers(0, 256, (12, 32, 32, 3), dtype=np.uint8)
    feats = rng.normal(size=(12, 8)).astype("float32")
    result = experiments.data_size_sweep(x, y, x[:4], y[:4], feats, feats[:4], [2, 6], epochs=1,
                                         batch_size=4, scratch_size=32, verbose=False)
    assert result["images_per_class"] == [2, 6]
    assert result["train_images"] == [4, 12]
    assert result["steps"] == 3
    for key in ("scratch", "feature_extraction"):
        assert len(result[key]) == 2 and all(0.0 <= a <= 1.0 for a in result[key])
    json.dumps(result)  # plain, serialisable values only
    table = experiments.sweep_table(result)
    assert table.count("\n") == 2 and "feature extraction" in table


def test_data_size_sweep_checks_feature_alignment():
    x = np.zeros((4, 32, 32, 3), np.uint8)
    y = np.array([0, 1, 0, 1])
    with pytest.raises(ValueError, match="Features and labels must match"):
        experiments.data_size_sweep(x, y, x, y, np.zeros((3, 8)), np.zeros((4, 8)), [1], epochs=1)


def test_largest_gain():
    result = {"images_per_class": [5, 50], "scratch": [0.1, 0.5], "feature_extraction": [0.3, 0.9]}
    assert experiments.largest_gain(result) == (50, 0.4)
