"""Running face detectors on a WIDER-FACE-format folder for notebook 02: one image at a time with per-image timings,
a cache of each detector's detections in ``results/``, speed by image size and batching, and the one-line summary of
a run.

The folder is read by :mod:`emotion.data.wider_face`, the detections are scored by
:mod:`emotion.faces.detection_metrics` (the official WIDER FACE protocol) and notebook 02's sentences about them come
from :mod:`emotion.faces.detection_prose` and :mod:`emotion.faces.speed_prose`.
"""

from __future__ import annotations

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

# Notebook 02 reads the whole WIDER FACE evaluation as ``detection_eval.<name>``, and notebook 07 and
# ``python -m emotion detect-eval`` import load_annotations and load_image_table from here: the names that moved to
# emotion.data.wider_face and emotion.faces.detection_metrics stay importable here.
from emotion.data.wider_face import (  # noqa: F401  (re-exported)
    LEVELS,
    hard_examples,
    load_annotations,
    load_image_table,
    read_image,
)
from emotion.errors import DataFormatError
from emotion.faces.detection_metrics import (  # noqa: F401  (re-exported, but for evaluate_levels)
    HEIGHT_BINS,
    HEIGHT_LABELS,
    IOU_THRESHOLD,
    LOOSE_IOU_THRESHOLD,
    PUBLISHED_AP,
    PUBLISHED_AP_TOLERANCE,
    WIDER_VALIDATION_IMAGES,
    evaluate_level,
    evaluate_levels,
    face_outcomes,
    recall_table,
)
from emotion.faces.detectors import FaceDetector, faces_to_array

DETECTION_COLUMNS = ["image", "x", "y", "w", "h", "score"]


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
