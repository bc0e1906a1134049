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


def photo_detection_recall(photo_names: list[str], boxes_per_photo: list[np.ndarray], annotations,
                           min_height: int = 32, iou_threshold: float = 0.5) -> dict:
    """Share of annotated faces (valid, at least ``min_height`` px tall) that some detection overlaps at IoU
    >= ``iou_threshold``, over a set of photos.

    Args:
        photo_names: image names as in ``annotations["image"]``.
        boxes_per_photo: float (k, 4) ``x, y, w, h`` detections per photo.
        annotations: :func:`emotion.data.wider_face.load_annotations` table.

    Returns:
        ``{"annotated_faces", "found", "recall" (None without faces), "min_height", "iou_threshold"}``.
    """
    from emotion.faces.detection_metrics import box_iou

    found = total = 0
    for name, boxes in zip(photo_names, boxes_per_photo):
        truth = annotations[(annotations["image"] == name) & (annotations["h"] >= min_height)
                            & (annotations["invalid"] == 0)]
        total += len(truth)
        if len(truth) and len(boxes):
            overlap = box_iou(truth[["x", "y", "w", "h"]].to_numpy(), np.asarray(boxes, dtype=float))
            found += int((overlap.max(axis=1) >= iou_threshold).sum())
    return {"annotated_faces": total, "found": found, "recall": found / total if total else None,
            "min_height": min_height, "iou_threshold": iou_threshold}


def least_confident(predictions_per_photo: list[list], count: int = 8) -> list[tuple[float, int, object]]:
    """The ``count`` faces whose top probability is lowest: ``(probability, photo index, FacePrediction)``."""
    ranked = sorted(((face.probabilities[face.emotion], index, face)
                     for index, faces in enumerate(predictions_per_photo) for face in faces), key=lambda item: item[0])
    return ranked[:count]
