"""Scoring face detections against WIDER FACE annotations: IoU, the official Easy/Medium/Hard precision-recall
and AP, and recall broken down by face height, pose and occlusion.

**Protocol** (:func:`evaluate_level`), the one of the official WIDER FACE evaluation (``evaluation.py`` of the
Python port used by RetinaFace and others), restricted to the images evaluated:

1. Scores are min-max normalised to [0, 1] over all detections of the run.
2. Per image, detections are taken by descending score; each is compared with *every* ground-truth face
   (IoU with the official +1-pixel convention, ``x2 = x + w``); if its best IoU is >= 0.5 and that face is not in
   the level, the detection is ignored (neither true nor false positive); if that face is in the level and not yet
   found, it is found; otherwise (IoU < 0.5, or the face was already found) the detection is a false positive.
3. For 1,000 thresholds ``1 - (t + 1) / 1000`` the counts are summed over images; precision = found faces / kept
   detections, recall = found faces / faces in the level (all images, also those with no detection).
4. AP = area under the precision envelope (VOC style, all points).

Detections are tables with the columns :data:`emotion.faces.detection_eval.DETECTION_COLUMNS`; annotations are
:func:`emotion.data.wider_face.load_annotations` tables.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Sequence

import numpy as np
import pandas as pd

from emotion.data.wider_face import LEVELS

IOU_THRESHOLD = 0.5
LOOSE_IOU_THRESHOLD = 0.3
"""A looser match, to tell boxes drawn to another convention (brows to mouth against hairline to chin) from misses."""
THRESHOLD_COUNT = 1000
WIDER_VALIDATION_IMAGES = 3226
"""Images of the full WIDER FACE validation split, on which :data:`PUBLISHED_AP` was measured."""
HEIGHT_BINS = (0, 16, 32, 64, 128, np.inf)
HEIGHT_LABELS = ("<16", "16-32", "32-64", "64-128", ">=128")
RECALL_MIN_HEIGHT = 32
"""Annotated faces at least this tall (px) count for the end-to-end detection recall (smaller ones are too small for a
48x48 emotion crop to mean much)."""
PUBLISHED_AP = {
    "mtcnn": {"easy": 0.851, "medium": 0.820, "hard": 0.607},
    "yunet": {"easy": 0.884, "medium": 0.866, "hard": 0.750},
}
"""Published AP on the full WIDER FACE validation split (:data:`WIDER_VALIDATION_IMAGES` images): MTCNN from the
WIDER FACE leaderboard, YuNet from OpenCV Zoo's model card (2023mar)."""

PUBLISHED_AP_TOLERANCE = 0.05
"""How far (absolute AP) our AP on the subset may sit from :data:`PUBLISHED_AP` and still count as agreeing with it:
the subset is a sample of the validation split, so some distance is expected even with the same protocol."""


def box_iou(boxes: np.ndarray, faces: np.ndarray) -> np.ndarray:
    """IoU between every box and every face, with the official WIDER +1-pixel convention.

    Args:
        boxes: float (n, 4) ``x, y, w, h``; faces: float (m, 4) ``x, y, w, h``.

    Returns:
        float (n, m).
    """
    boxes = np.asarray(boxes, dtype=float).reshape(-1, 4)
    faces = np.asarray(faces, dtype=float).reshape(-1, 4)
    box_x2, box_y2 = boxes[:, 0] + boxes[:, 2], boxes[:, 1] + boxes[:, 3]
    face_x2, face_y2 = faces[:, 0] + faces[:, 2], faces[:, 1] + faces[:, 3]
    width = np.minimum(box_x2[:, None], face_x2[None]) - np.maximum(boxes[:, None, 0], faces[None, :, 0]) + 1
    height = np.minimum(box_y2[:, None], face_y2[None]) - np.maximum(boxes[:, None, 1], faces[None, :, 1]) + 1
    intersection = np.clip(width, 0, None) * np.clip(height, 0, None)
    box_area = (boxes[:, 2] + 1) * (boxes[:, 3] + 1)
    face_area = (faces[:, 2] + 1) * (faces[:, 3] + 1)
    return intersection / (box_area[:, None] + face_area[None] - intersection)


def match_image(boxes: np.ndarray, scores: np.ndarray, faces: np.ndarray, kept: np.ndarray,
                iou_threshold: float = IOU_THRESHOLD) -> tuple[np.ndarray, np.ndarray]:
    """Match one image's detections to its faces by descending score (step 2 of the module's protocol).

    Args:
        boxes: float (n, 4) detections ``x, y, w, h``; scores: float (n,).
        faces: float (m, 4) ground truth; kept: bool (m,), True for faces in the level (False = ignored).

    Returns:
        ``(outcome, found_so_far)`` in descending-score order: outcome int (n,) is 1 (found a face of the level),
        0 (false positive) or -1 (ignored); found_so_far int (n,) counts faces found after each detection.
    """
    order = np.argsort(-np.asarray(scores, dtype=float), kind="stable")
    boxes = np.asarray(boxes, dtype=float).reshape(-1, 4)[order]
    kept = np.asarray(kept, dtype=bool)
    outcome = np.zeros(len(boxes), dtype=int)
    found_so_far = np.zeros(len(boxes), dtype=int)
    state = np.zeros(len(kept), dtype=int)  # 0 not found, 1 found, -1 matched while ignored
    overlaps = box_iou(boxes, faces)
    for index in range(len(boxes)):
        if overlaps.shape[1]:
            best = int(np.argmax(overlaps[index]))
            if overlaps[index, best] >= iou_threshold:
                if not kept[best]:
                    state[best] = -1
                    outcome[index] = -1
                elif state[best] == 0:
                    state[best] = 1
                    outcome[index] = 1
        found_so_far[index] = int((state == 1).sum())
    return outcome, found_so_far


@dataclass
class LevelResult:
    """Precision-recall of one detector at one level: arrays over the 1,000 thresholds (descending)."""

    level: str
    precision: np.ndarray
    recall: np.ndarray
    average_precision: float
    faces: int


def evaluate_level(detections: pd.DataFrame, annotations: pd.DataFrame, images: Sequence[str], level: str,
                   iou_threshold: float = IOU_THRESHOLD, threshold_count: int = THRESHOLD_COUNT) -> LevelResult:
    """Precision-recall curve and AP of ``detections`` at ``level`` over ``images`` (the module's protocol).

    Args:
        detections: columns :data:`emotion.faces.detection_eval.DETECTION_COLUMNS`; rows of images outside
            ``images`` are ignored.
        annotations: the table of :func:`emotion.data.wider_face.load_annotations`.
        images: the image names evaluated (faces of other images are not counted).
        level: ``easy``, ``medium`` or ``hard``.

    Raises:
        ValueError: unknown level.
    """
    if level not in LEVELS:
        raise ValueError(f"level must be one of {LEVELS}, got {level!r}")
    images = list(images)
    chosen = detections[detections["image"].isin(images)]
    scores = chosen["score"].to_numpy(dtype=float)
    if scores.size:
        low, high = scores.min(), scores.max()
        normalised = (scores - low) / (high - low) if high > low else np.ones_like(scores)
    else:
        normalised = scores
    chosen = chosen.assign(normalised=normalised)
    thresholds = 1 - (np.arange(threshold_count) + 1) / threshold_count
    kept_detections = np.zeros(threshold_count)
    found = np.zeros(threshold_count)
    face_groups = dict(tuple(annotations[annotations["image"].isin(images)].groupby("image")))
    detection_groups = dict(tuple(chosen.groupby("image")))
    face_count = 0
    for name in images:
        faces = face_groups.get(name)
        kept = faces[level].to_numpy() == 1 if faces is not None else np.zeros(0, dtype=bool)
        face_count += int(kept.sum())
        image_detections = detection_groups.get(name)
        if image_detections is None or not len(image_detections):
            continue
        face_boxes = faces[["x", "y", "w", "h"]].to_numpy(float) if faces is not None else np.zeros((0, 4))
        outcome, found_so_far = match_image(image_detections[["x", "y", "w", "h"]].to_numpy(float),
                                            image_detections["normalised"].to_numpy(), face_boxes, kept, iou_threshold)
        sorted_scores = np.sort(image_detections["normalised"].to_numpy())[::-1]
        # For each threshold, the last detection (in score order) with a score at or above it.
        last = np.searchsorted(-sorted_scores, -thresholds, side="right") - 1
        valid = last >= 0
        counted = np.cumsum(outcome != -1)
        kept_detections[valid] += counted[last[valid]]
        found[valid] += found_so_far[last[valid]]
    precision = np.divide(found, kept_detections, out=np.zeros_like(found), where=kept_detections > 0)
    recall = found / face_count if face_count else np.zeros_like(found)
    return LevelResult(level=level, precision=precision, recall=recall,
                       average_precision=average_precision(recall, precision), faces=face_count)


def average_precision(recall: np.ndarray, precision: np.ndarray) -> float:
    """Area under the precision envelope (VOC all-point AP, as the official WIDER evaluation).

    Args:
        recall, precision: float (k,), recall non-decreasing.
    """
    recall = np.concatenate(([0.0], np.asarray(recall, dtype=float), [1.0]))
    precision = np.concatenate(([0.0], np.asarray(precision, dtype=float), [0.0]))
    precision = np.maximum.accumulate(precision[::-1])[::-1]
    steps = np.flatnonzero(recall[1:] != recall[:-1])
    return float(np.sum((recall[steps + 1] - recall[steps]) * precision[steps + 1]))


def evaluate_levels(detections: pd.DataFrame, annotations: pd.DataFrame,
                    images: Sequence[str]) -> dict[str, LevelResult]:
    """:func:`evaluate_level` for Easy, Medium and Hard."""
    return {level: evaluate_level(detections, annotations, images, level) for level in LEVELS}


def face_outcomes(detections: pd.DataFrame, annotations: pd.DataFrame, images: Sequence[str],
                  min_score: float, iou_threshold: float = IOU_THRESHOLD) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Which faces a detector finds and which detections are false, at one operating score.

    Detections with ``score >= min_score`` are matched greedily by descending score, each to the best-overlapping
    face not yet taken (IoU >= ``iou_threshold``); every annotated face counts, of every level.

    Returns:
        ``(faces, per_image)``: ``faces`` is the annotations of ``images`` with ``found`` (bool) and ``height_bin``
        (:data:`HEIGHT_LABELS`) added; ``per_image`` has ``image, detections, false_positives``.
    """
    images = list(images)
    faces = annotations[annotations["image"].isin(images)].copy()
    faces["found"] = False
    chosen = detections[detections["image"].isin(images) & (detections["score"] >= min_score)]
    detection_groups = dict(tuple(chosen.groupby("image")))
    per_image = []
    for name, group in faces.groupby("image", sort=False):
        image_detections = detection_groups.get(name)
        if image_detections is None:
            continue
        order = np.argsort(-image_detections["score"].to_numpy(), kind="stable")
        overlaps = box_iou(image_detections[["x", "y", "w", "h"]].to_numpy(float)[order],
                           group[["x", "y", "w", "h"]].to_numpy(float))
        taken = np.zeros(len(group), dtype=bool)
        for row in overlaps:
            candidates = np.where(taken, -1.0, row)
            best = int(np.argmax(candidates))
            if candidates[best] >= iou_threshold:
                taken[best] = True
        faces.loc[group.index[taken], "found"] = True
    counts = chosen.groupby("image").size()
    for name in images:
        detections_here = int(counts.get(name, 0))
        found_here = int(faces.loc[faces["image"] == name, "found"].sum())
        per_image.append((name, detections_here, detections_here - found_here))
    faces["height_bin"] = pd.cut(faces["h"], bins=list(HEIGHT_BINS), right=False, labels=list(HEIGHT_LABELS))
    return faces, pd.DataFrame(per_image, columns=["image", "detections", "false_positives"])


def recall_table(faces: pd.DataFrame) -> dict[str, dict[str, dict[str, float]]]:
    """Recall by face height, pose and occlusion from the ``faces`` of :func:`face_outcomes`, valid faces only
    (``invalid == 0``).

    Returns:
        ``{"height": {bin: {"recall", "faces"}}, "small": {"<32": ...}, "pose": {...}, "occlusion": {...}}``; a
        group without faces has recall 0.0 and ``faces`` 0.
    """
    valid = faces[faces["invalid"] == 0]
    names = {"pose": {0: "typical", 1: "atypical"}, "occlusion": {0: "none", 1: "partial", 2: "heavy"}}
    table: dict[str, dict[str, dict[str, float]]] = {"height": {}}
    for label in HEIGHT_LABELS:
        group = valid[valid["height_bin"] == label]
        table["height"][label] = {"recall": float(group["found"].mean()) if len(group) else 0.0, "faces": len(group)}
    small = valid[valid["h"] < 32]
    table["small"] = {"<32": {"recall": float(small["found"].mean()) if len(small) else 0.0, "faces": len(small)}}
    for column, labels in names.items():
        table[column] = {}
        for value, label in labels.items():
            group = valid[valid[column] == value]
            table[column][label] = {"recall": float(group["found"].mean()) if len(group) else 0.0,
                                    "faces": len(group)}
    return table
