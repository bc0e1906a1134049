"""The end-to-end system: detect faces, crop each to 48x48 grayscale (optionally aligned by the eyes), classify the
seven emotions, and draw the result. This is what the paper's ``app.py`` did, as a tested library.
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Sequence

import numpy as np

from emotion import CLASS_NAMES
from emotion.errors import ConfigurationError, ModelFileError
from emotion.faces.cropping import DEFAULT_MARGIN, crop_face
from emotion.faces.detectors import Face, FaceDetector, create_detector, default_detector, prepare_image
from emotion.paths import MODELS_DIR, RESULTS_DIR

PIPELINE_DETECTOR_OPTIONS: dict[str, dict] = {"yunet": {"backend": "onnxruntime"}}
"""Keyword options of the pipeline's detectors, by name. YuNet runs on onnxruntime (the same faces as OpenCV's DNN
module, in about half the time here). Photos are detected at their own size: ``python -m emotion tune-pipeline``
found that shrinking them costs more detection recall than its tolerance on photos the peer comparison does not use
(results/07_pipeline_tuning.json; a test keeps any side it chooses here as ``max_side``)."""


@dataclass(frozen=True)
class FacePrediction:
    """One face found and classified.

    Attributes:
        box: ``(x, y, w, h)`` in pixels of the original image.
        detector_score: the detector's confidence.
        emotion: the most probable class name.
        probabilities: class name → probability (the seven classes of :data:`emotion.CLASS_NAMES`).
    """

    box: tuple[float, float, float, float]
    detector_score: float
    emotion: str
    probabilities: dict[str, float]

    def as_dict(self) -> dict:
        """JSON-ready dict (box rounded to 0.1 px, probabilities to 4 decimals)."""
        return {"box": [round(value, 1) for value in self.box], "detector_score": round(float(self.detector_score), 4),
                "emotion": self.emotion,
                "probabilities": {name: round(value, 4) for name, value in self.probabilities.items()}}


@dataclass
class StageTimes:
    """Accumulated wall-clock seconds per pipeline stage."""

    detect: float = 0.0
    crop: float = 0.0
    classify: float = 0.0
    images: int = 0
    faces: int = 0

    def as_dict(self) -> dict[str, float]:
        """Seconds per stage and per-image / per-face milliseconds."""
        total = self.detect + self.crop + self.classify
        return {"images": self.images, "faces": self.faces, "detect_seconds": self.detect, "crop_seconds": self.crop,
                "classify_seconds": self.classify, "total_seconds": total,
                "ms_per_image": 1000 * total / self.images if self.images else float("nan"),
                "faces_per_second": self.faces / total if total > 0 else float("nan")}


def default_model_path(results_dir: Path = RESULTS_DIR, models_dir: Path = MODELS_DIR, *,
                       ensembles: bool = True) -> Path:
    """The file of the released model with the highest **PublicTest** accuracy
    (:func:`emotion.classify.release.best_release`: single networks by their chosen checkpoint, ensembles by the stored
    file without test-time augmentation). ``ensembles=False`` considers single networks only (the fastest of the best:
    an ensemble classifies each face once per member). How much choosing on PublicTest flatters that number is
    measured in notebook 06 (:mod:`emotion.analysis.selection`).

    Raises:
        ModelFileError: no released model exists.
    """
    from emotion.classify.release import best_release, release_candidates

    best = best_release(results_dir, models_dir, ensembles=ensembles)
    if best is None:
        raise ModelFileError(f"no released model in {models_dir}: pass --model PATH.keras, or run `make train`.")
    return release_candidates(results_dir, models_dir, ensembles=ensembles)[best]["file"]


class EmotionPipeline:
    """Detector + classifier. Create once, then call :meth:`predict` per image or :meth:`predict_many`.

    Args:
        detector: a :class:`~emotion.faces.detectors.FaceDetector` or its registry name (``mtcnn``, ``yunet``, ...);
            default :func:`~emotion.faces.detectors.default_detector` (YuNet when its file is present, else MTCNN).
        model: a loaded Keras model or the path of a ``.keras`` file (default :func:`default_model_path`).
        min_score: keep detections scoring at least this; default the detector's ``operating_score`` (what its
            library accepts with default settings).
        max_side: for a detector given by name, the longest side photos are shrunk to for detection (default
            :data:`PIPELINE_DETECTOR_OPTIONS`' entry, else the photo's own size); a detector object keeps its own.
        align: align crops by the eyes.
        margin: crop margin (see :func:`crop_face`).
        classifier_runtime: ``tflite`` (default) or ``tensorflow``
            (:data:`emotion.classify.evaluate.CLASSIFIER_RUNTIMES`).

    Raises:
        ConfigurationError, DataMissingError: unknown detector or classifier runtime, or the detector's model file
            is missing.
        ModelFileError: the classifier file is missing or not a Keras model.
    """

    def __init__(self, detector: FaceDetector | str | None = None, model=None, *, min_score: float | None = None,
                 max_side: int | None = None, align: bool = False, margin: float = DEFAULT_MARGIN,
                 classifier_runtime: str = "tflite"):
        from emotion.classify.evaluate import CLASSIFIER_RUNTIMES, load_model

        if classifier_runtime not in CLASSIFIER_RUNTIMES:
            raise ConfigurationError(f"unknown classifier runtime {classifier_runtime!r}; use one of "
                                     f"{', '.join(CLASSIFIER_RUNTIMES)}.")
        if detector is None:
            detector = default_detector()
        if isinstance(detector, str):
            options = {**PIPELINE_DETECTOR_OPTIONS.get(detector, {}),
                       **({"max_side": max_side} if max_side is not None else {})}
            detector = create_detector(detector, **options)
        self.detector = detector
        if model is None or isinstance(model, (str, Path)):
            self.model_path = Path(model) if model is not None else default_model_path()
            self.model = load_model(self.model_path)
        else:
            self.model_path, self.model = None, model
        from emotion.classify.evaluate import forward_function, tflite_forward

        self.classifier_runtime = classifier_runtime
        # One compiled pass (not model.predict's per-call set-up), on TensorFlow Lite by default.
        self.forward = (tflite_forward(self.model) if classifier_runtime == "tflite"
                        else forward_function(self.model))
        self.min_score = self.detector.operating_score if min_score is None else min_score
        self.align, self.margin = align, margin
        self.times = StageTimes()

    def predict(self, image: np.ndarray) -> list[FacePrediction]:
        """Find and classify every face of one image (any form ``prepare_image`` accepts)."""
        return self.predict_many([image])[0]

    def predict_many(self, images: Sequence[np.ndarray]) -> list[list[FacePrediction]]:
        """Detect faces in all images (batched where the detector supports it), then classify all crops in one
        batch. Returns one list of predictions per image, faces in descending detector score."""
        return self.classify_detected(*self.detect_many(images))

    def detect_many(self, images: Sequence[np.ndarray]) -> tuple[list[np.ndarray], list[list[Face]]]:
        """The first half of :meth:`predict_many`: ``(prepared, kept)``, the images as RGB uint8 (h, w, 3)
        (:func:`~emotion.faces.detectors.prepare_image`) and per image the faces scoring at least ``min_score``, in
        descending score. Adds to ``times.detect`` and ``times.images`` only, so that it may run on another thread
        than :meth:`classify_detected`."""
        started = time.perf_counter()
        prepared = [prepare_image(image) for image in images]
        detections = self.detector.detect_batch(prepared)
        kept = [sorted((face for face in faces if face.score >= self.min_score), key=lambda face: -face.score)
                for faces in detections]
        self.times.detect += time.perf_counter() - started
        self.times.images += len(images)
        return prepared, kept

    def classify_detected(self, prepared: Sequence[np.ndarray],
                          kept: Sequence[Sequence[Face]]) -> list[list[FacePrediction]]:
        """The second half of :meth:`predict_many`: crop every face of :meth:`detect_many`'s result and classify the
        crops in one batch. Adds to ``times.crop``, ``times.classify`` and ``times.faces`` only."""
        started = time.perf_counter()
        crops = [crop_face(image, face, margin=self.margin, align=self.align)
                 for image, faces in zip(prepared, kept) for face in faces]
        cropped = time.perf_counter()
        probabilities = (self.forward(np.stack(crops)) if crops
                         else np.zeros((0, len(CLASS_NAMES)), np.float32))
        classified = time.perf_counter()
        self.times.crop += cropped - started
        self.times.classify += classified - cropped
        self.times.faces += len(crops)
        results, index = [], 0
        for faces in kept:
            predictions = []
            for face in faces:
                row = probabilities[index]
                index += 1
                predictions.append(FacePrediction(
                    box=tuple(float(value) for value in face.box), detector_score=float(face.score),
                    emotion=CLASS_NAMES[int(row.argmax())],
                    probabilities={name: float(value) for name, value in zip(CLASS_NAMES, row)}))
            results.append(predictions)
        return results


def annotate(image: np.ndarray, predictions: Sequence[FacePrediction]) -> np.ndarray:
    """Draw each face's box and "emotion probability" label; line width and text scale follow the image size so
    labels stay legible on thumbnails and on 20-megapixel photos. Returns a new RGB uint8 (h, w, 3) array."""
    import cv2

    canvas = prepare_image(image).copy()
    height, width = canvas.shape[:2]
    thickness = max(1, round(max(height, width) / 400))
    for prediction in predictions:
        x, y, w, h = (int(round(value)) for value in prediction.box)
        font_scale = max(0.35, min(3.0, w / 120))
        colour = (255, 200, 0)
        cv2.rectangle(canvas, (x, y), (x + w, y + h), colour, thickness)
        label = f"{prediction.emotion} {prediction.probabilities[prediction.emotion]:.0%}"
        (text_width, text_height), baseline = cv2.getTextSize(label, cv2.FONT_HERSHEY_SIMPLEX, font_scale, thickness)
        top = y - text_height - baseline - 2 if y - text_height - baseline - 2 >= 0 else y + h
        cv2.rectangle(canvas, (x, top), (x + text_width + 2, top + text_height + baseline + 2), colour, -1)
        cv2.putText(canvas, label, (x + 1, top + text_height + 1), cv2.FONT_HERSHEY_SIMPLEX, font_scale, (0, 0, 0),
                    thickness, cv2.LINE_AA)
    return canvas


@dataclass
class FileOutcome:
    """What happened to one input of :func:`predict_files` or :func:`predict_uploads`.

    Attributes:
        path: the file's path, or an upload's file name as the client sent it (never a server path).
    """

    path: Path | str
    faces: list[FacePrediction] = field(default_factory=list)
    error: str | None = None
    annotated: Path | None = None

    def as_dict(self) -> dict:
        """JSON-ready dict."""
        return {"path": str(self.path), "ok": self.error is None, "error": self.error,
                "faces": [face.as_dict() for face in self.faces],
                "annotated": str(self.annotated) if self.annotated else None}


BATCH_SIZE = 8
"""Photos :func:`predict_files` decodes, detects and classifies together by default."""
PHOTOS_IN_FLIGHT = 24
"""A folder run (:func:`predict_files` with ``overlap``) holds at most this many photos decoded and not yet finished:
three batches of 8, so that one batch can be decoded while the next stages detect one and classify and write another
(a 1024x768 WIDER photo takes 2.4 MB decoded, a 12-megapixel one 36 MB)."""
READERS = 1
"""Threads decoding photos in a folder run: one decodes a batch in a fraction of the time detection takes for it."""


def predict_files(pipeline: EmotionPipeline, paths: Sequence[Path], *, out_dir: Path | None = None,
                  batch_size: int = BATCH_SIZE, progress=None, overlap: bool = True,
                  max_in_flight: int = PHOTOS_IN_FLIGHT, readers: int = READERS) -> list[FileOutcome]:
    """Run the pipeline over image files; a bad file becomes an outcome with ``error`` set, the rest go on.

    Args:
        paths: image files (see :func:`emotion.data.image_files.find_images` to expand folders).
        out_dir: when given, write an annotated copy of each image as ``out_dir/<stem>_emotions.png`` (a number is
            added when two inputs share a name).
        batch_size: images decoded, detected and classified together.
        progress: optional wrapper for the iterator of batches, which yields each batch once it is finished and has
            a ``len`` (e.g. ``tqdm``).
        overlap: True (default): the stages overlap, each on its own thread working on the next batch while the
            stage after it works on this one: ``readers`` threads decode, one detects, one crops and classifies, one
            draws and writes the annotated copies (:class:`emotion.overlap.OverlappedStages`). False: one batch after
            another, each stage in turn, on the calling thread (the path before stages overlapped, which the folder
            benchmark compares with). Both give equal outcomes and byte-identical files: the batches are the same and
            each is detected and classified as one (tested).
        max_in_flight: with ``overlap``, at most this many photos, in whole batches (``max_in_flight // batch_size``
            of them), are decoded and not yet finished at any moment; this bounds the memory a folder takes.
        readers: with ``overlap``, threads decoding batches.

    Returns:
        One outcome per path, in the order of ``paths``. With ``overlap``, ``pipeline.times`` still adds up each
        stage's seconds, but the stages ran at the same time, so their sum exceeds the time the run took.

    Raises:
        ValueError: with ``overlap``, ``max_in_flight`` is smaller than ``batch_size`` or ``readers`` is below 1.
        Any error other than an unreadable file's stops the run and is raised here, after every thread stopped.
    """
    from emotion.data.image_files import read_image_file

    names = [Path(path) for path in paths]
    read = lambda index: read_image_file(names[index])  # noqa: E731
    if not overlap:
        return _predict_inputs(pipeline, names, read, out_dir=out_dir, batch_size=batch_size, progress=progress)
    if max_in_flight < batch_size:
        raise ValueError(f"max_in_flight ({max_in_flight} photos) must hold at least one batch ({batch_size}).")
    from emotion.overlap import OverlappedStages, Stage

    outcomes = [FileOutcome(path=name) for name in names]
    steps = _BatchSteps(pipeline, outcomes, read, out_dir)
    stages = [Stage(steps.read, workers=readers, name="read"), Stage(steps.detect, name="detect"),
              Stage(steps.classify, name="classify")]
    if out_dir is not None:
        stages.append(Stage(steps.write, name="write"))
    with OverlappedStages(_batches(len(names), batch_size), stages,
                          max_in_flight=max_in_flight // batch_size) as run:
        for _ in (progress(run) if progress else run):
            pass
    return outcomes


def predict_uploads(pipeline: EmotionPipeline, uploads: Sequence[tuple[str, bytes]], *, max_pixels: int,
                    batch_size: int = 1) -> list[FileOutcome]:
    """Run the pipeline over files held in memory (a web request's uploads); nothing is written to disk.

    Args:
        uploads: ``(client file name, content)`` pairs.
        max_pixels: refuse (as that file's ``error``) images with more pixels than this, before decoding them.
        batch_size: images decoded at once; 1 keeps a single decoded image per request in memory.

    Returns:
        One outcome per upload, in order, each named by its client file name.
    """
    from emotion.data.image_files import read_image_bytes

    names = [name for name, _ in uploads]
    return _predict_inputs(pipeline, names,
                           lambda index: read_image_bytes(uploads[index][1], names[index], max_pixels=max_pixels),
                           batch_size=batch_size)


def _predict_inputs(pipeline: EmotionPipeline, names: Sequence[Path | str], read, *, out_dir: Path | None = None,
                    batch_size: int, progress=None) -> list[FileOutcome]:
    """The sequential loop behind :func:`predict_files` (``overlap=False``) and :func:`predict_uploads`: each batch
    read, detected, classified and written in turn on the calling thread. ``read(index)`` decodes input ``index`` or
    raises :class:`~emotion.data.image_files.ImageFileError`, which becomes that outcome's ``error``."""
    outcomes = [FileOutcome(path=name) for name in names]
    steps = _BatchSteps(pipeline, outcomes, read, out_dir)
    batches = _batches(len(names), batch_size)
    for batch in (progress(batches) if progress else batches):
        step = steps.classify(steps.detect(steps.read(batch)))
        if out_dir is not None:
            steps.write(step)
    return outcomes


def _batches(count: int, batch_size: int) -> list[range]:
    return [range(start, min(start + batch_size, count)) for start in range(0, count, batch_size)]


class _BatchSteps:
    """The stages of one batch, which the sequential and the overlapped path both run, so that they compute the same.

    Each stage fills in the batch's outcomes and hands the next stage what it needs; the last one returns nothing,
    so that no image outlives its batch. ``write`` names the copies in the order it sees the batches, which both
    paths keep.
    """

    def __init__(self, pipeline: EmotionPipeline, outcomes: list[FileOutcome], read, out_dir: Path | None):
        self.pipeline, self.outcomes, self._read, self.out_dir = pipeline, outcomes, read, out_dir
        self.used_names: set[str] = set()

    def read(self, batch: range) -> tuple[list[FileOutcome], list[np.ndarray]]:
        from emotion.data.image_files import ImageFileError

        readable, images = [], []
        for index in batch:
            try:
                images.append(self._read(index))
                readable.append(self.outcomes[index])
            except ImageFileError as error:
                self.outcomes[index].error = str(error)
        return readable, images

    def detect(self, step: tuple[list[FileOutcome], list[np.ndarray]]):
        readable, images = step
        if not readable:
            return readable, [], []
        return (readable, *self.pipeline.detect_many(images))

    def classify(self, step):
        readable, prepared, kept = step
        found = self.pipeline.classify_detected(prepared, kept) if readable else []
        for outcome, faces in zip(readable, found):
            outcome.faces = faces
        return (readable, prepared, found) if self.out_dir is not None else None

    def write(self, step) -> None:
        import cv2

        for outcome, image, faces in zip(*step):
            self.out_dir.mkdir(parents=True, exist_ok=True)
            stem = Path(outcome.path).stem
            name, copy = f"{stem}_emotions.png", 1
            while name in self.used_names:  # two inputs with one name in different folders
                copy += 1
                name = f"{stem}_{copy}_emotions.png"
            self.used_names.add(name)
            target = self.out_dir / name
            cv2.imwrite(str(target), cv2.cvtColor(annotate(image, faces), cv2.COLOR_RGB2BGR))
            outcome.annotated = target


def prediction_document(pipeline: EmotionPipeline, outcomes: Sequence[FileOutcome],
                        missing: Sequence[tuple[Path | str, str]] = ()) -> dict:
    """The JSON document of ``predict --json`` and of the web app's ``POST /api/predict``.

    Keys: ``model`` (the classifier file, or None for a model passed as an object), ``detector`` (its name),
    ``files`` (:meth:`FileOutcome.as_dict` per input), ``missing`` (``{"path", "error"}`` per path that does not
    exist) and ``timing`` (``pipeline.times`` as :meth:`StageTimes.as_dict`, rates that are undefined because
    nothing was processed as None). Every value is plain JSON (no NaN).
    """
    timing = {key: None if isinstance(value, float) and not math.isfinite(value) else value
              for key, value in pipeline.times.as_dict().items()}
    return {"model": str(pipeline.model_path) if pipeline.model_path is not None else None,
            "detector": pipeline.detector.name,
            "files": [outcome.as_dict() for outcome in outcomes],
            "missing": [{"path": str(path), "error": reason} for path, reason in missing],
            "timing": timing}
