"""Evaluating face detectors on a WIDER-FACE-format folder: annotations, the Easy/Medium/Hard protocol, recall
breakdowns, speed, and the detection cache.

The folder holds ``images/``, ``annotations.csv`` (``image,x,y,w,h,difficulty_or_attrs``; the last field is
``key=value`` pairs joined by ``;`` with ``idx, blur, expression, illumination, invalid, occlusion, pose, easy,
medium, hard``) and ``images.csv`` (``image,event,width,height,faces,sha256``); see ``$EMOTION_DATA/faces/SOURCE.md``.

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
"""

from __future__ import annotations

import csv
import gzip
import io
import json
import os
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Iterable, Sequence

import numpy as np
import pandas as pd

from emotion.faces.detectors import FaceDetector, faces_to_array
from emotion.errors import DataFormatError, DataMissingError

LEVELS = ("easy", "medium", "hard")
ATTRIBUTE_KEYS = ("idx", "blur", "expression", "illumination", "invalid", "occlusion", "pose", "easy", "medium", "hard")
ANNOTATION_HEADER = ["image", "x", "y", "w", "h", "difficulty_or_attrs"]
IMAGES_HEADER = ["image", "event", "width", "height", "faces", "sha256"]
IOU_THRESHOLD = 0.5
LOOSE_IOU_THRESHOLD = 0.3
"""A looser match, to tell boxes drawn to another convention (brows to mouth against hairline to chin) from misses."""
THRESHOLD_COUNT = 1000
WIDER_VALIDATION_IMAGES = 3226
"""Images of the full WIDER FACE validation split, on which :data:`PUBLISHED_AP` was measured."""
HEIGHT_BINS = (0, 16, 32, 64, 128, np.inf)
HEIGHT_LABELS = ("<16", "16-32", "32-64", "64-128", ">=128")
DETECTION_COLUMNS = ["image", "x", "y", "w", "h", "score"]
PUBLISHED_AP = {
    "mtcnn": {"easy": 0.851, "medium": 0.820, "hard": 0.607},
    "yunet": {"easy": 0.884, "medium": 0.866, "hard": 0.750},
}
"""Published AP on the full WIDER FACE validation split (:data:`WIDER_VALIDATION_IMAGES` images): MTCNN from the
WIDER FACE leaderboard, YuNet from OpenCV Zoo's model card (2023mar)."""


def published_ap_text() -> str:
    """:data:`PUBLISHED_AP` as results files cite it: ``"MTCNN 0.851/0.820/0.607, YuNet 0.884/0.866/0.750"``
    (Easy/Medium/Hard)."""
    names = {"mtcnn": "MTCNN", "yunet": "YuNet"}
    return ", ".join(f"{names.get(name, name)} " + "/".join(f"{levels[level]:.3f}" for level in LEVELS)
                     for name, levels in PUBLISHED_AP.items())


PUBLISHED_AP_TOLERANCE = 0.05
"""How far (absolute AP) our AP on the subset may sit from :data:`PUBLISHED_AP` and still count as agreeing with it:
the subset is a sample of the validation split, so some distance is expected even with the same protocol."""


def describe_published_gaps(gaps: dict[str, float], tolerance: float = PUBLISHED_AP_TOLERANCE) -> str:
    """Our AP minus the published AP per level, each marked within or outside ``tolerance``:
    ``"+0.012 (easy, within ±0.05), -0.081 (medium, outside ±0.05)"``."""
    return ", ".join(f"{gap:+.3f} ({level}, {'within' if abs(gap) <= tolerance else 'outside'} ±{tolerance:g})"
                     for level, gap in gaps.items())


def describe_reference_check(label: str, gaps: dict[str, float], tolerance: float = PUBLISHED_AP_TOLERANCE) -> str:
    """Whether a reference detector's AP on the subset agrees with its published values, which is what supports (or
    questions) our implementation of the evaluation protocol. ``gaps``: level -> our AP minus the published AP."""
    largest = max(abs(gap) for gap in gaps.values())
    if largest <= tolerance:
        return (f"{label}'s own AP lands within {largest:.3f} of its published values (tolerance ±{tolerance:g}), "
                "which supports the protocol implementation")
    return (f"{label}'s own AP differs from its published values by up to {largest:.3f}, more than the ±{tolerance:g} "
            "tolerance, so either the subset or the protocol implementation departs from the published evaluation")


def describe_strict_default(average_precision: dict[str, dict[str, float]], default_recall: dict[str, float],
                            operating_scores: dict[str, float], labels: dict[str, str]) -> str:
    """The detectors whose AP is the highest at every level while their recall at the library's default score is not
    the highest: their default score is strict on these images (AP sweeps every score, the default keeps one).

    Args:
        average_precision: detector -> level -> AP.
        default_recall: detector -> recall of all valid faces at the detector's default score.
        operating_scores: detector -> that default score.
        labels: detector -> display name.

    Returns a parenthetical sentence, or "" when no detector is in that position.
    """
    names = list(average_precision)
    levels = list(next(iter(average_precision.values())))
    best_recall = max(default_recall[name] for name in names)
    strict = [name for name in names
              if all(average_precision[name][level] >= max(average_precision[other][level] for other in names)
                     for level in levels) and default_recall[name] < best_recall]
    return "".join(f" ({labels[name]}'s out-of-the-box {operating_scores[name]:g} is strict on these images: its AP "
                   f"ranks first at every level while its default-score recall, {default_recall[name]:.0%}, does not)"
                   for name in strict)


def describe_batching(batch_rows: dict[str, dict[str, float]], cores: int) -> str:
    """Batched against looped images per second at each size (:func:`batch_speedup` rows), and what the speed-up says:
    at least 2x everywhere means per-call overhead dominated; below that, the work is compute-bound."""
    text = ", ".join(f"{row['speedup']:.2f}x at {size} ({row['batched_images_per_second']:.1f} vs "
                     f"{row['loop_images_per_second']:.1f} images/s)" for size, row in batch_rows.items())
    if min(row["speedup"] for row in batch_rows.values()) >= 2:
        return text + ". At least 2x at every size: per-call overhead, not the convolutions, was the cost."
    return (text + f". Where it is below 2x, the work is compute-bound on {cores} cores: batching saves the per-call "
            "overhead of TensorFlow's eager execution and Python, which weighs most on small images, but not the "
            "convolutions themselves.")


def describe_load(load_before: float, load_after: float, cores: int) -> str:
    """The machine's one-minute load average around a speed benchmark, and whether other work shared the CPU (load
    above the number of cores: more runnable work than cores, so absolute times are pessimistic)."""
    text = f"Load average during the benchmark: {load_before:.1f} before, {load_after:.1f} after, on {cores} cores"
    if max(load_before, load_after) > cores:
        return text + ": other work shared the CPU, so absolute times are pessimistic; ratios between detectors are fairer."
    return text + "."


# ----------------------------------------------------------------------------------------------- loading the folder


def load_annotations(folder: Path | str) -> pd.DataFrame:
    """Read ``folder/annotations.csv`` into one row per face.

    Returns:
        DataFrame with ``image`` (str), ``x, y, w, h`` (int pixels) and the int columns of :data:`ATTRIBUTE_KEYS`.

    Raises:
        DataMissingError: the file is absent.
        DataFormatError: wrong header, a row with the wrong number of fields, a non-integer box value, a negative
            or non-integer attribute, a missing or unknown attribute (the message names file and line).
    """
    path = Path(folder) / "annotations.csv"
    if not path.is_file():
        raise DataMissingError(f"{path}: no such file; point --data (or $EMOTION_DATA/faces) at a folder laid out "
                               "as described in $EMOTION_DATA/faces/SOURCE.md.")
    rows = []
    with path.open(newline="") as handle:
        reader = csv.reader(handle)
        header = next(reader, None)
        if header != ANNOTATION_HEADER:
            raise DataFormatError(f"{path}, line 1: header must be {','.join(ANNOTATION_HEADER)}, got {header}.")
        for line_number, fields in enumerate(reader, start=2):
            if len(fields) != len(ANNOTATION_HEADER):
                raise DataFormatError(f"{path}, line {line_number}: expected {len(ANNOTATION_HEADER)} fields, "
                                      f"got {len(fields)}: {fields}.")
            row: dict[str, Any] = {"image": fields[0]}
            for name, value in zip(("x", "y", "w", "h"), fields[1:5]):
                # Boxes stay exactly as in the ground truth, degenerate ones included (WIDER val has a face with
                # w = -2 and one with w = h = 0), as the official evaluation reads them.
                row[name] = _integer(value, path, line_number, name)
            attributes = {}
            for pair in filter(None, fields[5].split(";")):
                key, separator, value = pair.partition("=")
                if not separator or key not in ATTRIBUTE_KEYS:
                    raise DataFormatError(f"{path}, line {line_number}: bad attribute {pair!r}; expected key=value "
                                          f"with keys {', '.join(ATTRIBUTE_KEYS)}.")
                attributes[key] = _non_negative_int(value, path, line_number, key)
            missing = [key for key in ATTRIBUTE_KEYS if key not in attributes]
            if missing:
                raise DataFormatError(f"{path}, line {line_number}: attribute(s) {', '.join(missing)} missing.")
            rows.append({**row, **attributes})
    return pd.DataFrame(rows, columns=["image", "x", "y", "w", "h", *ATTRIBUTE_KEYS])


def _integer(value: str, path: Path, line_number: int, name: str) -> int:
    try:
        return int(value)
    except ValueError:
        raise DataFormatError(f"{path}, line {line_number}: {name}={value!r} is not an integer.") from None


def _non_negative_int(value: str, path: Path, line_number: int, name: str) -> int:
    number = _integer(value, path, line_number, name)
    if number < 0:
        raise DataFormatError(f"{path}, line {line_number}: {name}={number} is negative.")
    return number


def load_image_table(folder: Path | str) -> pd.DataFrame:
    """Read ``folder/images.csv`` (one row per image) and return it in the benchmark order.

    The benchmark order sorts images by the sha256 of their bytes: a fixed, pseudo-random order that mixes the
    events, so "the first N images" is a fair sample of the folder.

    Raises:
        DataMissingError: the file is absent.
        DataFormatError: wrong header, missing fields or non-integer sizes (file and line named).
    """
    path = Path(folder) / "images.csv"
    if not path.is_file():
        raise DataMissingError(f"{path}: no such file; the folder needs images.csv (see $EMOTION_DATA/faces/SOURCE.md).")
    try:
        table = pd.read_csv(path, dtype={"image": str, "event": str, "sha256": str})
    except (pd.errors.ParserError, UnicodeDecodeError) as error:
        raise DataFormatError(f"{path}: not a readable CSV ({error}).") from error
    if list(table.columns) != IMAGES_HEADER:
        raise DataFormatError(f"{path}, line 1: header must be {','.join(IMAGES_HEADER)}, got {list(table.columns)}.")
    for column in ("width", "height", "faces"):
        bad = pd.to_numeric(table[column], errors="coerce").isna()
        if bad.any():
            line = int(np.flatnonzero(bad.to_numpy())[0]) + 2
            raise DataFormatError(f"{path}, line {line}: {column} must be an integer.")
        table[column] = table[column].astype(int)
    if table["image"].isna().any() or table["sha256"].isna().any():
        line = int(np.flatnonzero((table["image"].isna() | table["sha256"].isna()).to_numpy())[0]) + 2
        raise DataFormatError(f"{path}, line {line}: image and sha256 must not be empty.")
    return table.sort_values("sha256", kind="stable").reset_index(drop=True)


def read_image(path: Path | str) -> np.ndarray:
    """Read a benchmark image as RGB ``uint8 (h, w, 3)`` with the study's one reader
    (:func:`emotion.data.image_files.read_image_file`, EXIF orientation applied, as the pipeline reads photos).

    Raises:
        DataMissingError: no such file.
        DataFormatError: the file is not a decodable image.
    """
    from emotion.data.image_files import read_image_file

    path = Path(path)
    if not path.is_file():
        raise DataMissingError(f"{path}: no such image; check the folder's images/ against images.csv.")
    return read_image_file(path)


# ------------------------------------------------------------------------------------------------ running detectors


@dataclass
class DetectionRun:
    """Detections of one detector on a list of images.

    Attributes:
        detections: one row per detection, columns :data:`DETECTION_COLUMNS` (box in pixels, the detector's score).
        timings: one row per image: ``image, width, height, milliseconds`` (wall time of ``detect``).
        detector: the detector's name; settings: its settings.
        conditions: the machine's state for the timings: ``threads`` (:func:`thread_settings`) and
            ``load_average`` (1, 5, 15 min, at the end of the run).
    """

    detections: pd.DataFrame
    timings: pd.DataFrame
    detector: str
    settings: dict[str, Any]
    conditions: dict[str, Any] = field(default_factory=dict)


def run_detector(detector: FaceDetector, folder: Path | str, images: Sequence[str],
                 progress: Callable[[Iterable], Iterable] | None = None) -> DetectionRun:
    """Run ``detector`` on ``folder/images/<name>`` for each name of ``images``, one image at a time, timing each.

    Args:
        progress: wraps the image list (e.g. ``tqdm``) to show progress; None for quiet.

    Raises:
        DataMissingError / DataFormatError: an image is missing or unreadable.
    """
    folder = Path(folder)
    rows, timings = [], []
    for name in (progress(images) if progress else images):
        image = read_image(folder / "images" / name)
        started = time.perf_counter()
        faces = detector.detect(image)
        milliseconds = (time.perf_counter() - started) * 1000
        timings.append((name, image.shape[1], image.shape[0], milliseconds))
        rows.extend((name, *row) for row in faces_to_array(faces))
    return DetectionRun(
        detections=pd.DataFrame(rows, columns=DETECTION_COLUMNS),
        timings=pd.DataFrame(timings, columns=["image", "width", "height", "milliseconds"]),
        detector=detector.name, settings=dict(detector.settings),
        conditions={"threads": thread_settings(), "load_average": [round(v, 2) for v in os.getloadavg()]})


def cache_paths(results_dir: Path | str, detector_name: str) -> tuple[Path, Path]:
    """Return ``(detections .csv.gz, sidecar .json)`` of the detection cache of ``detector_name``."""
    results_dir = Path(results_dir)
    return (results_dir / f"02_detections_{detector_name}.csv.gz", results_dir / f"02_detections_{detector_name}.json")


def write_detection_cache(run: DetectionRun, results_dir: Path | str, *, mode: str, seed: int) -> Path:
    """Write ``run`` to the cache in ``results_dir``: detections as gzip CSV (4 decimals), the settings, images and
    per-image timings in a results JSON with provenance. Returns the CSV path."""
    from emotion.provenance import write_results

    csv_path, json_path = cache_paths(results_dir, run.detector)
    csv_path.parent.mkdir(parents=True, exist_ok=True)
    text = run.detections.to_csv(index=False, float_format="%.4f")
    with gzip.GzipFile(csv_path, "wb", mtime=0) as handle:
        handle.write(text.encode())
    write_results(json_path, {
        "detector": run.detector, "settings": run.settings, "images": run.timings["image"].tolist(),
        "milliseconds": run.timings["milliseconds"].round(2).tolist(),
        "width": run.timings["width"].tolist(), "height": run.timings["height"].tolist(),
        "conditions": run.conditions,
    }, mode=mode, seed=seed)
    return csv_path


def read_detection_cache(results_dir: Path | str, detector_name: str, settings: dict[str, Any],
                         images: Sequence[str]) -> DetectionRun | None:
    """Return the cached run of ``detector_name`` when it exists and was made with exactly these ``settings`` on
    exactly these ``images`` (same order); None otherwise (then the caller runs the detector).

    Raises:
        DataFormatError: the cache files exist but are malformed (names the file; delete it to recompute).
    """
    from emotion.provenance import read_results

    csv_path, json_path = cache_paths(results_dir, detector_name)
    if not (csv_path.is_file() and json_path.is_file()):
        return None
    document = read_results(json_path)
    if document.get("settings") != json.loads(json.dumps(settings)) or document.get("images") != list(images):
        return None
    try:
        detections = pd.read_csv(io.BytesIO(gzip.decompress(csv_path.read_bytes())), dtype={"image": str})
    except (OSError, EOFError, pd.errors.ParserError) as error:
        raise DataFormatError(f"{csv_path}: unreadable detection cache ({error}); delete it to recompute.") from error
    if list(detections.columns) != DETECTION_COLUMNS:
        raise DataFormatError(f"{csv_path}, line 1: columns must be {DETECTION_COLUMNS}; delete it to recompute.")
    timings = pd.DataFrame({"image": document["images"], "width": document["width"], "height": document["height"],
                            "milliseconds": document["milliseconds"]})
    return DetectionRun(detections=detections, timings=timings, detector=detector_name, settings=document["settings"],
                        conditions=document.get("conditions", {}))


def thread_settings() -> dict[str, Any]:
    """Return the CPU count and the thread settings of OpenCV, TensorFlow (0 = TensorFlow's default, all cores;
    None when no detector has loaded TensorFlow) and dlib (single-threaded on a CPU) for speed reports."""
    import cv2

    threads: dict[str, Any] = {"cpu_count": os.cpu_count(), "opencv_threads": cv2.getNumThreads(),
                               "dlib_threads": 1, "tensorflow_intra_op": None, "tensorflow_inter_op": None}
    if "tensorflow" in sys.modules:  # only when a detector loaded it: importing TensorFlow costs seconds
        tensorflow = sys.modules["tensorflow"]
        threads["tensorflow_intra_op"] = tensorflow.config.threading.get_intra_op_parallelism_threads()
        threads["tensorflow_inter_op"] = tensorflow.config.threading.get_inter_op_parallelism_threads()
    return threads


# ---------------------------------------------------------------------------------------------------------- matching


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
        detections: columns :data:`DETECTION_COLUMNS`; rows of images outside ``images`` are ignored.
        annotations: the table of :func:`load_annotations`.
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


# ----------------------------------------------------------------------------------------------- recall breakdowns


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


# ---------------------------------------------------------------------------------------------------------- speed


def time_calls(function: Callable[[], Any], repeats: int, warmup: int = 1) -> np.ndarray:
    """Call ``function`` ``warmup`` times untimed, then ``repeats`` times; return float (repeats,) milliseconds."""
    if repeats < 1:
        raise ValueError(f"repeats must be at least 1, got {repeats}")
    for _ in range(warmup):
        function()
    times = []
    for _ in range(repeats):
        started = time.perf_counter()
        function()
        times.append((time.perf_counter() - started) * 1000)
    return np.array(times)


def resize_to(image: np.ndarray, width: int, height: int) -> np.ndarray:
    """Resize an RGB ``uint8 (h, w, 3)`` image to exactly ``(height, width, 3)`` (area interpolation)."""
    import cv2

    return cv2.resize(image, (width, height), interpolation=cv2.INTER_AREA)


def speed_at_sizes(detector: FaceDetector, images: Sequence[np.ndarray], sizes: Sequence[tuple[int, int]],
                   repeats: int = 1) -> pd.DataFrame:
    """Milliseconds per image of ``detector.detect`` on ``images`` resized to each ``(width, height)``.

    Returns:
        one row per size: ``width, height, megapixels, median_ms, p90_ms, calls``.
    """
    rows = []
    for width, height in sizes:
        resized = [resize_to(image, width, height) for image in images]
        detector.detect(resized[0])
        times = np.concatenate([time_calls(lambda image=image: detector.detect(image), repeats, warmup=0)
                                for image in resized])
        rows.append((width, height, width * height / 1e6, float(np.median(times)), float(np.percentile(times, 90)),
                     len(times)))
    return pd.DataFrame(rows, columns=["width", "height", "megapixels", "median_ms", "p90_ms", "calls"])


def batch_speedup(detector: FaceDetector, images: Sequence[np.ndarray], repeats: int = 1) -> dict[str, float]:
    """Images per second of ``detector.detect_batch(images)`` versus ``detect`` on each image in a loop.

    All images should share one size (a batch is padded to the largest). Returns ``batched_images_per_second``,
    ``loop_images_per_second``, ``speedup`` and ``batch_size``; the best of ``repeats`` runs each, after a warm-up.
    """
    images = list(images)
    batched = time_calls(lambda: detector.detect_batch(images), repeats).min() / 1000
    loop = time_calls(lambda: [detector.detect(image) for image in images], repeats).min() / 1000
    return {"batch_size": len(images), "batched_images_per_second": len(images) / batched,
            "loop_images_per_second": len(images) / loop, "speedup": loop / batched}


def load_or_run(detector_name: str, folder: Path | str, images: Sequence[str], results_dir: Path | str, *,
                mode: str, seed: int, settings: dict[str, Any] | None = None, recompute: bool = False,
                progress: Callable[[Iterable], Iterable] | None = None) -> tuple[DetectionRun, bool]:
    """Return ``(run, from_cache)``: the cached run of ``detector_name`` on ``images`` when the cache in
    ``results_dir`` matches the settings and images (and ``recompute`` is False), else a fresh run, then cached.

    The detector (and its library) is loaded only when it has to run.

    Raises:
        ConfigurationError / DataMissingError: from :func:`emotion.faces.detectors.create_detector`.
    """
    from emotion.faces.detectors import DEFAULT_SETTINGS, create_detector

    settings = {**DEFAULT_SETTINGS.get(detector_name, {}), **(settings or {})}
    if not recompute:
        cached = read_detection_cache(results_dir, detector_name, settings, images)
        if cached is not None:
            return cached, True
    run = run_detector(create_detector(detector_name, **settings), folder, images, progress=progress)
    write_detection_cache(run, results_dir, mode=mode, seed=seed)
    return run, False


def summarise_run(run: DetectionRun, annotations: pd.DataFrame) -> dict[str, Any]:
    """The one-line summary of a run: AP per level, image and face counts, ms/image median and p90, threads and
    load average (what ``python -m emotion detect-eval`` prints)."""
    images = run.timings["image"].tolist()
    levels = evaluate_levels(run.detections, annotations, images)
    milliseconds = run.timings["milliseconds"].to_numpy()
    return {
        "detector": run.detector, "settings": run.settings, "images": len(images),
        "faces": int(annotations["image"].isin(images).sum()),
        **{f"ap_{level}": round(result.average_precision, 4) for level, result in levels.items()},
        **{f"faces_{level}": result.faces for level, result in levels.items()},
        "detections": len(run.detections),
        "ms_per_image_median": round(float(np.median(milliseconds)), 1) if len(milliseconds) else None,
        "ms_per_image_p90": round(float(np.percentile(milliseconds, 90)), 1) if len(milliseconds) else None,
        "threads": run.conditions.get("threads"), "load_average": run.conditions.get("load_average"),
        "protocol": "WIDER FACE official evaluation (IoU >= 0.5, other levels ignored, 1000 thresholds) "
                    "restricted to these images",
    }


def hard_examples(annotations: pd.DataFrame, images: Sequence[str], count: int,
                  max_faces: int = 20) -> list[tuple[str, str]]:
    """Pick up to ``count`` images of ``images`` that show hard faces, for a gallery: in turn the image with the
    most atypical-pose faces, the most faces under 32 px high, the most heavily occluded faces, then again, each
    image once, only images with at most ``max_faces`` valid faces (so boxes stay readable).

    Returns:
        ``[(image, reason), ...]``, reason e.g. ``"3 profile / atypical-pose faces"``.
    """
    valid = annotations[annotations["image"].isin(list(images)) & (annotations["invalid"] == 0)]
    per_image = valid.assign(profile=valid["pose"] == 1, small=valid["h"] < 32,
                             occluded=valid["occlusion"] == 2).groupby("image")[["profile", "small", "occluded"]].sum()
    per_image["faces"] = valid.groupby("image").size()
    per_image = per_image[per_image["faces"] <= max_faces].sort_index()
    reasons = {"profile": "profile / atypical-pose faces", "small": "faces under 32 px high",
               "occluded": "heavily occluded faces"}
    chosen: list[tuple[str, str]] = []
    while len(chosen) < count:
        before = len(chosen)
        for column, reason in reasons.items():
            remaining = per_image.drop(index=[name for name, _ in chosen])
            if len(chosen) == count or remaining.empty or remaining[column].max() == 0:
                continue
            name = remaining[column].idxmax()
            chosen.append((name, f"{int(remaining.loc[name, column])} {reason}"))
        if len(chosen) == before:
            break
    return chosen
