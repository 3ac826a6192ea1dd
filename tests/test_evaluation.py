"""Tests for tlhelpers.analysis.evaluation: metrics, reports, sentences and the results cache."""

import doctest

import numpy as np
import pandas as pd
import pytest

from tlhelpers.analysis import evaluation

NAMES = ("cat", "dog", "frog")
Y_TRUE = np.array([0, 0, 1, 1, 2, 2])
PROBS = np.array([[.8, .1, .1], [.2, .7, .1], [.1, .8, .1], [.1, .6, .3], [.1, .1, .8], [.3, .3, .4]])


@pytest.fixture
def cache(tmp_path, monkeypatch):
    monkeypatch.setenv("TL_CACHE_DIR", str(tmp_path))
    return tmp_path


def test_accuracy_from_ids_and_probabilities():
    assert evaluation.accuracy(Y_TRUE, PROBS) == pytest.approx(5 / 6)
    assert evaluation.accuracy(Y_TRUE, PROBS.argmax(1)) == pytest.approx(5 / 6)


def test_accuracy_rejects_mismatched_and_empty_inputs():
    with pytest.raises(ValueError, match="one prediction per label"):
        evaluation.accuracy([0, 1], [0])
    with pytest.raises(ValueError, match="empty"):
        evaluation.accuracy([], [])
    with pytest.raises(ValueError, match="class ids"):
        evaluation.accuracy(np.zeros((2, 2, 2)), [0, 1])


def test_per_class_accuracy_and_missing_class():
    acc = evaluation.per_class_accuracy(Y_TRUE, PROBS, NAMES)
    assert acc.index.tolist() == list(NAMES)
    assert acc.tolist() == [0.5, 1.0, 1.0]
    acc = evaluation.per_class_accuracy([0, 0], [0, 1], NAMES)
    assert acc["cat"] == 0.5 and np.isnan(acc["dog"])


def test_classification_reports_agree():
    frame = evaluation.classification_report_frame(Y_TRUE, PROBS, NAMES)
    assert {"precision", "recall", "f1-score", "support"} <= set(frame.columns)
    assert frame.loc["dog", "recall"] == 1.0 and frame.loc["cat", "support"] == 2
    text = evaluation.classification_report_text(Y_TRUE, PROBS, NAMES)
    assert "frog" in text and "accuracy" in text


def test_evaluation_object_and_evaluate_with_a_tiny_model():
    import keras
    import tensorflow as tf

    model = keras.Sequential([keras.Input((4,)), keras.layers.Dense(3, activation="softmax")])
    ds = tf.data.Dataset.from_tensor_slices((np.ones((5, 4), "float32"), np.arange(5) % 3)).batch(2)
    ev = evaluation.evaluate(model, ds, NAMES)
    assert ev.n == 5 and ev.probs.shape == (5, 3) and 0.0 <= ev.accuracy <= 1.0
    assert "on 5 images" in ev.summary()
    assert len(ev.per_class()) == 3 and isinstance(ev.report_frame(), pd.DataFrame)
    with pytest.raises(ValueError, match="class names"):
        evaluation.evaluate(model, ds, ("a", "b"))


def test_standard_error_and_compare_sentence():
    assert evaluation.standard_error(0.5, 100) == pytest.approx(0.05)
    with pytest.raises(ValueError):
        evaluation.standard_error(0.5, 0)
    clear = evaluation.compare_sentence("A", 0.9, "B", 0.5, 1000)
    assert "unlikely to be noise" in clear and "A is ahead by 0.400" in clear
    noisy = evaluation.compare_sentence("A", 0.40, "B", 0.45, 60)
    assert "B is ahead" in noisy and "may be noise" in noisy
    assert "tied" in evaluation.compare_sentence("A", 0.5, "B", 0.5, 10)


def test_the_noise_sentence_prints_the_threshold_it_uses():
    # 0.217 vs 0.183 on 60 images: SE of the gap sqrt(se_a^2 + se_b^2) = 0.073, threshold 0.146
    text = evaluation.compare_sentence("A", 0.217, "B", 0.183, 60)
    se = evaluation.gap_standard_error(0.217, 0.183, 60)
    assert se == pytest.approx(0.0729, abs=1e-4)
    assert f"2 x {se:.3f} = {2 * se:.3f}" in text and "less than twice" in text
    assert evaluation.gap_is_clear(0.9, 0.5, 100) and not evaluation.gap_is_clear(0.217, 0.183, 60)
    assert not evaluation.gap_is_clear(0.5, 0.9, 100)   # a clear gap the other way is not "a ahead"


def test_results_table_labels_reported_figures():
    table = evaluation.results_table({"feature extraction": 0.6, "fine-tuning": 0.7}, n_test=200)
    assert table.index.tolist() == ["feature extraction", "fine-tuning", "scratch"]
    assert evaluation.REPORTED_COLUMN in table.columns
    assert "original lesson, reported" in evaluation.REPORTED_COLUMN
    assert table.loc["fine-tuning", evaluation.REPORTED_COLUMN] == 0.854
    assert np.isnan(table.loc["scratch", "this run"])
    assert table.loc["fine-tuning", "± standard error"] == pytest.approx(0.032, abs=1e-3)


def test_doctests():
    result = doctest.testmod(evaluation, optionflags=doctest.ELLIPSIS)
    assert result.failed == 0
