"""Per-class bootstrap intervals: how far to trust each class's precision, recall and F1 (notebook 06).

The per-class scores are defined once, in :mod:`emotion.classify.evaluate`; this module resamples them. The interval
of one metric and McNemar's test for paired classifiers are in :mod:`emotion.classify.significance`."""

from __future__ import annotations

import numpy as np

from emotion.classify.evaluate import scores_from_confusion
from emotion.classify.significance import CONFIDENCE, bootstrap_inputs


def _resampled_confusions(labels: np.ndarray, predictions: np.ndarray, num_classes: int, resamples: int,
                          seed: int) -> tuple[np.ndarray, np.ndarray]:
    """``resamples`` confusion matrices of the images redrawn with replacement (flattened, ``(resamples, k*k)``), and
    the observed one (``(k*k,)``)."""
    codes = labels.astype(np.int64) * num_classes + predictions.astype(np.int64)
    rng = np.random.default_rng(seed)
    cells = np.stack([np.bincount(codes[rng.integers(0, codes.size, codes.size)], minlength=num_classes ** 2)
                      for _ in range(resamples)])
    return cells, np.bincount(codes, minlength=num_classes ** 2)


def _scores(cells: np.ndarray, num_classes: int) -> dict[str, np.ndarray]:
    scored = scores_from_confusion(np.asarray(cells).reshape(-1, num_classes, num_classes))
    return {metric: scored[metric] for metric in ("precision", "recall", "f1")}


def per_class_intervals(labels: np.ndarray, predictions: np.ndarray, *, num_classes: int = 7, resamples: int = 2000,
                        confidence: float = CONFIDENCE, seed: int = 0) -> dict[str, list[dict[str, float]]]:
    """Percentile bootstrap intervals of each class's precision, recall and F1 over test images.

    Each resample redraws the n images with replacement and recomputes the confusion matrix. A class with no
    predicted (or no true) image in a resample has precision (or recall) and F1 0 there, as scikit-learn's
    ``zero_division=0`` gives.

    Returns:
        ``{"precision": [...], "recall": [...], "f1": [...]}``, one ``{"estimate", "low", "high"}`` per class id.

    Raises:
        ValueError: empty or mismatched inputs, ``resamples`` < 100, or ``confidence`` outside (0, 1).
    """
    labels, predictions = bootstrap_inputs(labels, predictions, resamples, confidence)
    cells, observed = _resampled_confusions(labels, predictions, num_classes, resamples, seed)
    sampled, estimate = _scores(cells, num_classes), _scores(observed, num_classes)
    tail = (1 - confidence) / 2 * 100
    result = {}
    for metric, values in sampled.items():
        low, high = np.percentile(values, [tail, 100 - tail], axis=0)
        result[metric] = [{"estimate": float(estimate[metric][0, index]), "low": float(low[index]),
                           "high": float(high[index])} for index in range(num_classes)]
    return result


def f1_gap_interval(labels: np.ndarray, predictions: np.ndarray, class_id: int, *, num_classes: int = 7,
                    resamples: int = 2000, confidence: float = CONFIDENCE, seed: int = 0) -> dict:
    """Is class ``class_id`` the one with the lowest F1? The percentile bootstrap interval of its F1 minus the lowest
    F1 among the other classes, both recomputed on the same redrawn images in each resample (a paired bootstrap, so
    that what the two share does not widen the interval). An interval wholly below zero says the class is the worst,
    wholly above that it is not; one that holds zero cannot tell.

    Returns:
        ``{"class_id", "estimate", "low", "high", "lowest_other" (the other class with the lowest observed F1),
        "share_below_zero" (of the resamples, where the class was the worst), "confidence", "resamples"}``.

    Raises:
        ValueError: empty or mismatched inputs, ``resamples`` < 100, ``confidence`` outside (0, 1), or ``class_id``
            not one of the ``num_classes`` classes.
    """
    labels, predictions = bootstrap_inputs(labels, predictions, resamples, confidence)
    if not 0 <= class_id < num_classes:
        raise ValueError(f"class_id must be one of the {num_classes} classes (0-{num_classes - 1}), got {class_id}")
    cells, observed = _resampled_confusions(labels, predictions, num_classes, resamples, seed)
    others = [index for index in range(num_classes) if index != class_id]

    def gaps(f1: np.ndarray) -> np.ndarray:
        return f1[:, class_id] - f1[:, others].min(axis=1)

    observed_f1 = _scores(observed, num_classes)["f1"]
    tail = (1 - confidence) / 2 * 100
    sampled = gaps(_scores(cells, num_classes)["f1"])
    low, high = np.percentile(sampled, [tail, 100 - tail])
    return {"class_id": int(class_id), "estimate": float(gaps(observed_f1)[0]), "low": float(low), "high": float(high),
            "lowest_other": int(others[int(np.argmin(observed_f1[0, others]))]),
            "share_below_zero": float(np.mean(sampled < 0)), "confidence": confidence, "resamples": int(resamples)}
