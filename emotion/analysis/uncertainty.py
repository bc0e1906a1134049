"""Per-class bootstrap intervals: how far to trust each class's precision, recall and F1 (notebook 06).

The per-class scores are defined once, in :mod:`emotion.classify.evaluate`; this module resamples them. The interval
of one metric and McNemar's test for paired classifiers are in :mod:`emotion.classify.significance`."""

from __future__ import annotations

import numpy as np

from emotion.classify.evaluate import scores_from_confusion
from emotion.classify.significance import CONFIDENCE, bootstrap_inputs


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

    def scores(cells: np.ndarray) -> dict[str, np.ndarray]:
        scored = scores_from_confusion(cells.reshape(-1, num_classes, num_classes))
        return {metric: scored[metric] for metric in ("precision", "recall", "f1")}

    codes = labels.astype(np.int64) * num_classes + predictions.astype(np.int64)
    rng = np.random.default_rng(seed)
    cells = np.stack([np.bincount(codes[rng.integers(0, codes.size, codes.size)], minlength=num_classes ** 2)
                      for _ in range(resamples)])
    sampled, estimate = scores(cells), scores(np.bincount(codes, minlength=num_classes ** 2))
    tail = (1 - confidence) / 2 * 100
    result = {}
    for metric, values in sampled.items():
        low, high = np.percentile(values, [tail, 100 - tail], axis=0)
        result[metric] = [{"estimate": float(estimate[metric][0, index]), "low": float(low[index]),
                           "high": float(high[index])} for index in range(num_classes)]
    return result
