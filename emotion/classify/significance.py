"""How far to trust a classifier's number: a percentile bootstrap confidence interval of a metric over the test images,
McNemar's exact test for two classifiers scored on the same images (and its sign-test form for a group of
classifiers), and the two-proportion test for two accuracies whose per-image results are not known.

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


def paired_sign_test(scores_a: np.ndarray, scores_b: np.ndarray) -> dict[str, float]:
    """The exact sign test on per-image scores of two classifiers scored on the same images: ``a_better`` counts the
    images where A scores higher, ``b_better`` where B does, tested against a fair coin (two-sided exact binomial
    test), ties left out. A score is 1 (right) or 0 (wrong) for one classifier, where this is McNemar's exact test
    (:func:`mcnemar`); for a group of classifiers it is the share of them right on the image (e.g. the fold models
    of a K-fold run), and the test asks whether the group's mean accuracy differs from the other's image by image.

    Returns:
        ``{"a_better", "b_better", "p_value", "mean_a", "mean_b"}``.

    Raises:
        ValueError: the two arrays differ in shape or are empty.
    """
    scores_a, scores_b = np.asarray(scores_a, dtype=float), np.asarray(scores_b, dtype=float)
    if scores_a.shape != scores_b.shape or scores_a.ndim != 1 or scores_a.size == 0:
        raise ValueError(f"both scores must be non-empty 1-D arrays of one length, got {scores_a.shape} and "
                         f"{scores_b.shape}")
    a_better, b_better = int(np.sum(scores_a > scores_b)), int(np.sum(scores_b > scores_a))
    untied = a_better + b_better
    p_value = 1.0 if untied == 0 else float(stats.binomtest(a_better, untied, 0.5).pvalue)
    return {"a_better": a_better, "b_better": b_better, "p_value": p_value, "mean_a": float(scores_a.mean()),
            "mean_b": float(scores_b.mean())}


def two_proportion_test(accuracy_a: float, n_a: int, accuracy_b: float, n_b: int) -> dict[str, float]:
    """The two-sided two-proportion z-test (pooled proportion) of two accuracies on ``n_a`` and ``n_b`` images, for
    classifiers whose per-image results are not known: it treats the two samples as independent. For two classifiers
    scored on the same images whose errors fall on the same images more often than by chance (as two models of one
    recipe do) it is conservative: its p-value is larger than a paired test's (:func:`mcnemar`) would be.

    Returns:
        ``{"z", "p_value", "accuracy_a", "accuracy_b"}`` (``z`` 0 and ``p_value`` 1 when the pooled accuracy is 0 or 1).

    Raises:
        ValueError: an accuracy outside [0, 1] or fewer than 1 image on a side.
    """
    if n_a < 1 or n_b < 1 or not (0 <= accuracy_a <= 1 and 0 <= accuracy_b <= 1):
        raise ValueError(f"accuracies must be in [0, 1] on at least 1 image each, got {accuracy_a} on {n_a} and "
                         f"{accuracy_b} on {n_b}")
    pooled = (accuracy_a * n_a + accuracy_b * n_b) / (n_a + n_b)
    spread = float(np.sqrt(pooled * (1 - pooled) * (1 / n_a + 1 / n_b)))
    z = 0.0 if spread == 0 else (accuracy_a - accuracy_b) / spread
    return {"z": float(z), "p_value": float(2 * stats.norm.sf(abs(z))), "accuracy_a": float(accuracy_a),
            "accuracy_b": float(accuracy_b)}


def wilson_interval(accuracy: float, n: int, confidence: float = 0.95) -> dict[str, float]:
    """Wilson's score interval of an accuracy on ``n`` images: for a run whose per-image results are not at hand (an
    older results file), where :func:`bootstrap_interval` cannot resample. On FER2013's 3,589 PrivateTest images it
    agrees with the percentile bootstrap to about 0.1 points.

    Returns:
        ``{"estimate", "low", "high", "confidence", "method": "wilson"}``.

    Raises:
        ValueError: an accuracy outside [0, 1], fewer than 1 image or ``confidence`` outside (0, 1).
    """
    from scipy.stats import norm

    if n < 1 or not 0 <= accuracy <= 1 or not 0 < confidence < 1:
        raise ValueError(f"need an accuracy in [0, 1] on at least 1 image and a confidence in (0, 1), got {accuracy} "
                         f"on {n} at {confidence}")
    z = float(norm.ppf(0.5 + confidence / 2))
    centre = (accuracy + z * z / (2 * n)) / (1 + z * z / n)
    half = z * np.sqrt(accuracy * (1 - accuracy) / n + z * z / (4 * n * n)) / (1 + z * z / n)
    return {"estimate": float(accuracy), "low": float(centre - half), "high": float(centre + half),
            "confidence": confidence, "method": "wilson"}
