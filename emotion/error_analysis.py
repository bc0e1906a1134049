"""Where and why a classifier fails: most-confused class pairs, accuracy on subsets (leaked vs clean images, FER+
agreement), and a one-image-per-row table of predictions for the evaluation notebook."""

from __future__ import annotations

import numpy as np

from emotion import CLASS_NAMES


def most_confused_pairs(confusion: np.ndarray, top: int = 5) -> list[dict]:
    """The off-diagonal cells of a confusion matrix with the largest share of their true class.

    Args:
        confusion: int (7, 7), rows true and columns predicted.
        top: how many pairs to return.

    Returns:
        Dicts ``{"true", "predicted", "count", "share_of_true"}``, largest share first.

    Raises:
        ValueError: ``confusion`` is not square.
    """
    confusion = np.asarray(confusion, dtype=float)
    if confusion.ndim != 2 or confusion.shape[0] != confusion.shape[1]:
        raise ValueError(f"confusion must be a square matrix, got {confusion.shape}")
    shares = confusion / np.maximum(confusion.sum(axis=1, keepdims=True), 1)
    np.fill_diagonal(shares, -1)
    order = np.argsort(shares, axis=None)[::-1][:top]
    pairs = []
    for flat in order:
        true, predicted = np.unravel_index(flat, shares.shape)
        pairs.append({"true": CLASS_NAMES[true], "predicted": CLASS_NAMES[predicted],
                      "count": int(confusion[true, predicted]), "share_of_true": float(shares[true, predicted])})
    return pairs


def subset_accuracy(labels: np.ndarray, predictions: np.ndarray, masks: dict[str, np.ndarray]) -> dict[str, dict]:
    """Accuracy and count on each named boolean subset of the same images.

    Raises:
        ValueError: a mask's length differs from the labels'.
    """
    labels, predictions = np.asarray(labels), np.asarray(predictions)
    table = {}
    for name, mask in masks.items():
        mask = np.asarray(mask, dtype=bool)
        if mask.shape != labels.shape:
            raise ValueError(f"mask {name!r} has shape {mask.shape}, labels {labels.shape}")
        table[name] = {"n": int(mask.sum()),
                       "accuracy": float(np.mean(predictions[mask] == labels[mask])) if mask.any() else None}
    return table


def examples_of(labels: np.ndarray, predictions: np.ndarray, true: int, predicted: int, count: int = 4,
                seed: int = 0) -> np.ndarray:
    """Indices (sorted, at most ``count``) of images with label ``true`` predicted as ``predicted``, drawn at random
    with ``seed``."""
    candidates = np.flatnonzero((np.asarray(labels) == true) & (np.asarray(predictions) == predicted))
    if candidates.size <= count:
        return candidates
    return np.sort(np.random.default_rng(seed).choice(candidates, size=count, replace=False))
