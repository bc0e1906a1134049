"""How far to trust a classifier's number: a percentile bootstrap confidence interval of a metric over the test images,
and McNemar's exact test for two classifiers scored on the same images.

The metrics themselves (accuracy, macro-F1, per-class scores) are defined once, in :mod:`emotion.classify.evaluate`;
this module resamples them. Ensembles (:mod:`emotion.classify.ensemble`) and every later stage use it; the per-class
intervals of notebook 06 are in :mod:`emotion.analysis.uncertainty`.
"""

from __future__ import annotations

from typing import Callable

import numpy as np
from scipy import stats

CONFIDENCE = 0.95
"""Coverage of the study's intervals (95 %)."""


def bootstrap_inputs(labels, predictions, resamples: int, confidence: float) -> tuple[np.ndarray, np.ndarray]:
    """The inputs of a bootstrap as arrays; raises ValueError on empty or mismatched inputs, ``resamples`` < 100 or
    ``confidence`` outside (0, 1)."""
    labels, predictions = np.asarray(labels), np.asarray(predictions)
    if labels.shape != predictions.shape or labels.ndim != 1 or labels.size == 0:
        raise ValueError(f"labels and predictions must be non-empty 1-D arrays of one length, got "
                         f"{labels.shape} and {predictions.shape}")
    if resamples < 100:
        raise ValueError(f"resamples must be at least 100, got {resamples}")
    if not 0 < confidence < 1:
        raise ValueError(f"confidence must be in (0, 1), got {confidence}")
    return labels, predictions


def bootstrap_interval(
    labels: np.ndarray,
    predictions: np.ndarray,
    metric: Callable[[np.ndarray, np.ndarray], float],
    *,
    resamples: int = 2000,
    confidence: float = CONFIDENCE,
    seed: int = 0,
) -> dict[str, float]:
    """Percentile bootstrap confidence interval of ``metric(labels, predictions)`` over test images.

    Args:
        labels, predictions: int arrays (n,), the true and predicted class ids of the same images.
        metric: a function of (labels, predictions) returning a float, e.g. accuracy or macro-F1.
        resamples: bootstrap resamples of the n images, drawn with replacement.
        confidence: the interval's coverage (0.95 for a 95 % interval).

    Returns:
        ``{"estimate", "low", "high", "confidence", "resamples"}``; the estimate is the metric on all images.

    Raises:
        ValueError: empty or mismatched inputs, ``resamples`` < 100, or ``confidence`` outside (0, 1).
    """
    labels, predictions = bootstrap_inputs(labels, predictions, resamples, confidence)
    rng = np.random.default_rng(seed)
    n = labels.size
    values = np.empty(resamples)
    for index in range(resamples):
        sample = rng.integers(0, n, size=n)
        values[index] = metric(labels[sample], predictions[sample])
    tail = (1 - confidence) / 2 * 100
    low, high = np.percentile(values, [tail, 100 - tail])
    return {"estimate": float(metric(labels, predictions)), "low": float(low), "high": float(high),
            "confidence": confidence, "resamples": resamples}


def mcnemar(labels: np.ndarray, predictions_a: np.ndarray, predictions_b: np.ndarray) -> dict[str, float]:
    """McNemar's exact test: do two classifiers scored on the same images differ in accuracy?

    Counts the discordant images, ``a_only`` (A right, B wrong) and ``b_only`` (B right, A wrong), and tests them
    against a fair coin (two-sided exact binomial test).

    Returns:
        ``{"a_only", "b_only", "p_value", "accuracy_a", "accuracy_b"}``.

    Raises:
        ValueError: the three arrays differ in shape or are empty.
    """
    labels, predictions_a, predictions_b = map(np.asarray, (labels, predictions_a, predictions_b))
    if not labels.shape == predictions_a.shape == predictions_b.shape or labels.size == 0:
        raise ValueError("labels and both predictions must be non-empty arrays of one shape")
    right_a, right_b = predictions_a == labels, predictions_b == labels
    a_only, b_only = int(np.sum(right_a & ~right_b)), int(np.sum(~right_a & right_b))
    discordant = a_only + b_only
    p_value = 1.0 if discordant == 0 else float(stats.binomtest(a_only, discordant, 0.5).pvalue)
    return {"a_only": a_only, "b_only": b_only, "p_value": p_value,
            "accuracy_a": float(right_a.mean()), "accuracy_b": float(right_b.mean())}
