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
