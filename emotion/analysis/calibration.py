"""Are the model's probabilities honest? Expected calibration error, reliability bins and temperature scaling."""

from __future__ import annotations

import numpy as np
from scipy.optimize import minimize_scalar


def _check_probabilities(probabilities: np.ndarray, labels: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    probabilities, labels = np.asarray(probabilities, dtype=np.float64), np.asarray(labels)
    if probabilities.ndim != 2 or labels.shape != (probabilities.shape[0],) or labels.size == 0:
        raise ValueError(f"probabilities must be (n, classes) and labels (n,), got {probabilities.shape} and "
                         f"{labels.shape}")
    return probabilities, labels


def reliability_bins(probabilities: np.ndarray, labels: np.ndarray, bins: int = 15) -> dict[str, np.ndarray]:
    """Group predictions by confidence (the top probability) into equal-width bins.

    Args:
        probabilities: float (n, classes), rows summing to 1.
        labels: int (n,).

    Returns:
        ``{"edges": (bins+1,), "confidence": (bins,), "accuracy": (bins,), "count": (bins,)}``; empty bins hold
        NaN confidence and accuracy and count 0.

    Raises:
        ValueError: shapes do not match, or ``bins`` < 1.
    """
    probabilities, labels = _check_probabilities(probabilities, labels)
    if bins < 1:
        raise ValueError(f"bins must be at least 1, got {bins}")
    confidence = probabilities.max(axis=1)
    correct = probabilities.argmax(axis=1) == labels
    edges = np.linspace(0.0, 1.0, bins + 1)
    which = np.clip(np.digitize(confidence, edges[1:-1], right=True), 0, bins - 1)
    count = np.bincount(which, minlength=bins)
    with np.errstate(invalid="ignore"):
        mean_confidence = np.bincount(which, weights=confidence, minlength=bins) / count
        mean_accuracy = np.bincount(which, weights=correct.astype(float), minlength=bins) / count
    return {"edges": edges, "confidence": mean_confidence, "accuracy": mean_accuracy, "count": count}


def expected_calibration_error(probabilities: np.ndarray, labels: np.ndarray, bins: int = 15) -> float:
    """ECE: the count-weighted mean gap between confidence and accuracy over :func:`reliability_bins`."""
    table = reliability_bins(probabilities, labels, bins)
    filled = table["count"] > 0
    gaps = np.abs(table["confidence"][filled] - table["accuracy"][filled])
    return float(np.sum(gaps * table["count"][filled]) / np.sum(table["count"]))


def apply_temperature(probabilities: np.ndarray, temperature: float) -> np.ndarray:
    """Rescale probabilities as softmax(log(p) / T); T > 1 softens, T < 1 sharpens. Returns float64 (n, classes).

    Raises:
        ValueError: ``temperature`` is not positive.
    """
    if temperature <= 0:
        raise ValueError(f"temperature must be positive, got {temperature}")
    logits = np.log(np.clip(np.asarray(probabilities, dtype=np.float64), 1e-12, 1.0)) / temperature
    logits -= logits.max(axis=1, keepdims=True)
    scaled = np.exp(logits)
    return scaled / scaled.sum(axis=1, keepdims=True)


def fit_temperature(probabilities: np.ndarray, labels: np.ndarray) -> float:
    """The temperature in [0.05, 20] that minimises the negative log-likelihood of ``labels`` (fit it on PublicTest,
    apply it to PrivateTest). Accuracy is unchanged by construction: the arg-max does not move."""
    probabilities, labels = _check_probabilities(probabilities, labels)

    def negative_log_likelihood(temperature: float) -> float:
        scaled = apply_temperature(probabilities, temperature)
        return float(-np.mean(np.log(np.clip(scaled[np.arange(labels.size), labels], 1e-12, 1.0))))

    return float(minimize_scalar(negative_log_likelihood, bounds=(0.05, 20.0), method="bounded").x)
