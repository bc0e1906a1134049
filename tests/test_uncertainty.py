"""Per-class bootstrap intervals of precision, recall and F1."""

import numpy as np
import pytest


def test_per_class_intervals_match_sklearn_and_cover_the_estimate():
    from sklearn.metrics import precision_recall_fscore_support

    from emotion.analysis.uncertainty import per_class_intervals

    rng = np.random.default_rng(3)
    labels = rng.integers(0, 7, 600)
    predictions = np.where(rng.random(600) < 0.6, labels, rng.integers(0, 7, 600))
    predictions[predictions == 1] = 0  # class 1 is never predicted: precision and F1 0, as zero_division=0
    result = per_class_intervals(labels, predictions, resamples=300, seed=0)
    precision, recall, f1, _ = precision_recall_fscore_support(labels, predictions, labels=range(7), zero_division=0)
    for metric, expected in (("precision", precision), ("recall", recall), ("f1", f1)):
        assert [entry["estimate"] for entry in result[metric]] == pytest.approx(list(expected))
        for entry in result[metric]:
            assert entry["low"] <= entry["estimate"] + 1e-12 and entry["estimate"] <= entry["high"] + 1e-12
    assert result["f1"][1] == {"estimate": 0.0, "low": 0.0, "high": 0.0}
    assert 0.05 < result["recall"][0]["high"] - result["recall"][0]["low"] < 0.3
    with pytest.raises(ValueError, match="at least 100"):
        per_class_intervals(labels, predictions, resamples=10)


def synthetic(hit_rates, n_per_class=200, seed=5):
    """Labels of 7 classes and predictions right with each class's rate (wrong answers spread over the others)."""
    rng = np.random.default_rng(seed)
    labels = np.repeat(np.arange(7), n_per_class)
    right = rng.random(labels.size) < np.asarray(hit_rates)[labels]
    wrong = (labels + rng.integers(1, 7, labels.size)) % 7
    return labels, np.where(right, labels, wrong)


def test_the_f1_gap_says_whether_a_class_is_the_worst_and_holds_zero_when_it_cannot_tell():
    from sklearn.metrics import f1_score

    from emotion.analysis.uncertainty import f1_gap_interval

    labels, predictions = synthetic([0.7, 0.2, 0.7, 0.9, 0.5, 0.8, 0.7])
    f1 = f1_score(labels, predictions, labels=range(7), average=None, zero_division=0)
    worst = f1_gap_interval(labels, predictions, 1, resamples=300)
    assert worst["estimate"] == pytest.approx(f1[1] - np.delete(f1, 1).min()) and worst["lowest_other"] == 4
    assert worst["low"] <= worst["estimate"] <= worst["high"] < 0  # class 1 is clearly the worst
    assert worst["share_below_zero"] == 1.0
    best = f1_gap_interval(labels, predictions, 3, resamples=300)
    assert best["lowest_other"] == 1 and 0 < best["low"] <= best["estimate"] <= best["high"]
    # Two classes equally bad: the interval holds zero.
    labels, predictions = synthetic([0.7, 0.4, 0.7, 0.9, 0.4, 0.8, 0.7], n_per_class=60)
    tied = f1_gap_interval(labels, predictions, 1, resamples=300, seed=1)
    assert tied["low"] < 0 < tied["high"] and 0 < tied["share_below_zero"] < 1
    with pytest.raises(ValueError, match="class_id must be one of the 7 classes"):
        f1_gap_interval(labels, predictions, 7, resamples=300)
