"""Five face detectors behind one interface: Viola-Jones (OpenCV Haar cascade), dlib HOG, dlib CNN (MMOD), MTCNN
and YuNet.

Every detector takes an RGB ``uint8 (h, w, 3)`` image and returns a list of :class:`Face` (box ``(x, y, w, h)`` in
pixels of that image, a score, and five landmarks where the detector gives them). :func:`prepare_image` turns the
inputs people actually have (grayscale, RGBA, 16-bit, huge, tiny) into that form or raises a
:class:`~emotion.errors.DataFormatError` that says what to do, so no bad image reaches OpenCV, dlib or TensorFlow.

Scores are each library's own and are not comparable across detectors: Haar gives the cascade's last-stage level
weight (``detectMultiScale3``), dlib HOG the SVM margin (``run`` with ``adjust_threshold``), dlib CNN the MMOD
confidence, MTCNN the O-Net probability and YuNet its face score. Only their order matters for precision-recall.

Settings (upsampling, minimum face size, thresholds) are constructor arguments; their defaults are listed in
:data:`DEFAULT_SETTINGS`. The defaults keep low-scoring detections (for precision-recall curves); each detector's
``operating_score`` is the score its library accepts by default, used for recall breakdowns and demos.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Sequence

import numpy as np

from emotion.errors import ConfigurationError, DataFormatError, DataMissingError
from emotion.paths import data_root

MIN_IMAGE_SIDE = 20
"""Images with a side shorter than this (pixels) return no faces: it is below every detector's smallest window."""

MAX_IMAGE_SIDE = 4096
"""Larger images are shrunk to this longest side before detection; boxes are mapped back to the original pixels."""

YUNET_BACKENDS = ("opencv", "onnxruntime")
"""What runs YuNet's network: OpenCV's DNN module or onnxruntime (:class:`YuNetDetector`)."""
YUNET_FILE = Path("models") / "face_detection_yunet_2023mar.onnx"
"""Where YuNet's weights live under the data root (``$EMOTION_DATA``)."""

DEFAULT_SETTINGS: dict[str, dict[str, Any]] = {
    "haar": {"scale_factor": 1.1, "min_neighbors": 3, "min_size": 24},
    "dlib_hog": {"upsample": 1, "adjust_threshold": -0.5},
    "dlib_cnn": {"upsample": 0},
    "mtcnn": {"min_face_size": 14, "scale_factor": 0.709, "threshold_pnet": 0.6, "threshold_rnet": 0.5,
              "threshold_onet": 0.3},
    "yunet": {"score_threshold": 0.3, "nms_threshold": 0.3, "top_k": 5000},
}
"""Each detector's default settings: low thresholds so the precision-recall curve reaches low scores. Library
defaults differ (dlib HOG threshold 0, MTCNN minimum face 20 px and thresholds 0.6/0.7/0.8, YuNet 0.9); see
``operating_score``."""


@dataclass(frozen=True)
class Face:
    """One detected face.

    Attributes:
        box: ``(x, y, w, h)`` in pixels of the input image, top-left corner and size (floats).
        score: the detector's confidence (higher = more face-like; scale differs per detector).
        landmarks: five ``(x, y)`` points (right eye, left eye, nose, right and left mouth corner, as seen in the
            image from the subject's side for MTCNN and YuNet) or ``None`` when the detector gives none.
    """

    box: tuple[float, float, float, float]
    score: float
    landmarks: tuple[tuple[float, float], ...] | None = None


def prepare_image(image: Any) -> np.ndarray:
    """Return ``image`` as a C-contiguous RGB ``uint8 (h, w, 3)`` array.

    Accepts ``uint8`` or ``uint16`` arrays shaped ``(h, w)`` (grayscale, replicated to three channels),
    ``(h, w, 1)``, ``(h, w, 3)`` (RGB) or ``(h, w, 4)`` (RGBA, alpha dropped). 16-bit values are scaled to 8 bits.

    Raises:
        DataFormatError: not a numpy array, an empty image, another dtype or channel count.
    """
    if not isinstance(image, np.ndarray):
        raise DataFormatError(f"expected an image as a numpy array, got {type(image).__name__}; "
                              "read files with emotion.faces.detection_eval.read_image or cv2.imread.")
    if image.ndim not in (2, 3) or (image.ndim == 3 and image.shape[2] not in (1, 3, 4)):
        raise DataFormatError(f"expected an image shaped (h, w), (h, w, 1), (h, w, 3) or (h, w, 4), got {image.shape}.")
    if image.shape[0] == 0 or image.shape[1] == 0:
        raise DataFormatError(f"the image is empty (shape {image.shape}).")
    if image.dtype == np.uint16:
        image = ((image.astype(np.uint32) + 128) // 257).astype(np.uint8)
    elif image.dtype != np.uint8:
        raise DataFormatError(f"expected uint8 or uint16 pixels, got {image.dtype}; "
                              "convert with (image * 255).round().astype('uint8') for floats in [0, 1].")
    if image.ndim == 2:
        image = image[:, :, None]
    if image.shape[2] == 1:
        image = np.repeat(image, 3, axis=2)
    elif image.shape[2] == 4:
        image = image[:, :, :3]
    return np.ascontiguousarray(image)


class FaceDetector:
    """Base class: :meth:`detect` handles bad input and huge images, subclasses implement :meth:`_detect_rgb`.

    Attributes:
        name: the registry name.
        settings: the settings in use (defaults of :data:`DEFAULT_SETTINGS` updated with the arguments).
        operating_score: the lowest score the library accepts with its own default settings.
        gives_landmarks: whether faces carry five landmarks.
    """

    name = ""
    operating_score = -np.inf
    gives_landmarks = False

    def __init__(self, *, max_side: int | None = None, **settings: Any) -> None:
        unknown = set(settings) - set(DEFAULT_SETTINGS[self.name])
        if unknown:
            raise ConfigurationError(f"{self.name}: unknown setting(s) {sorted(unknown)}; "
                                     f"valid: {sorted(DEFAULT_SETTINGS[self.name])} (and max_side).")
        if max_side is not None and (isinstance(max_side, bool) or not isinstance(max_side, int)
                                     or not MIN_IMAGE_SIDE <= max_side <= MAX_IMAGE_SIDE):
            raise ConfigurationError(f"{self.name}: max_side must be a whole number of pixels from {MIN_IMAGE_SIDE} "
                                     f"to {MAX_IMAGE_SIDE}, or None for the image's own size; got {max_side!r}.")
        self.settings = {**DEFAULT_SETTINGS[self.name], **settings}
        self.max_side = MAX_IMAGE_SIDE if max_side is None else max_side

    def detect(self, image: np.ndarray) -> list[Face]:
        """Detect faces in one image (any form :func:`prepare_image` accepts).

        Returns an empty list for images with a side under :data:`MIN_IMAGE_SIDE` pixels; images whose longest side
        is over ``max_side`` (default :data:`MAX_IMAGE_SIDE`) are shrunk to it for detection and the boxes mapped
        back to the original pixels.

        Raises:
            DataFormatError: the image is not usable (see :func:`prepare_image`).
        """
        image = prepare_image(image)
        height, width = image.shape[:2]
        if min(height, width) < MIN_IMAGE_SIDE:
            return []
        scale = min(1.0, self.max_side / max(height, width))
        if scale < 1.0:
            import cv2

            resized = cv2.resize(image, (max(1, round(width * scale)), max(1, round(height * scale))),
                                 interpolation=cv2.INTER_AREA)
            return [_rescale(face, 1.0 / scale) for face in self._detect_rgb(resized)]
        return self._detect_rgb(image)

    def detect_batch(self, images: Sequence[np.ndarray]) -> list[list[Face]]:
        """Detect faces in several images; returns one list of faces per image. Detectors without a batch mode
        loop over :meth:`detect`."""
        return [self.detect(image) for image in images]

    def _detect_rgb(self, image: np.ndarray) -> list[Face]:
        raise NotImplementedError

    def __repr__(self) -> str:
        settings = {**self.settings, **({"max_side": self.max_side} if self.max_side != MAX_IMAGE_SIDE else {}),
                    **({"backend": self.backend} if getattr(self, "backend", "opencv") != "opencv" else {})}
        return f"{type(self).__name__}({', '.join(f'{k}={v!r}' for k, v in settings.items())})"


def _rescale(face: Face, factor: float) -> Face:
    box = tuple(value * factor for value in face.box)
    landmarks = None if face.landmarks is None else tuple((x * factor, y * factor) for x, y in face.landmarks)
    return Face(box=box, score=face.score, landmarks=landmarks)


class HaarDetector(FaceDetector):
    """OpenCV's Viola-Jones frontal-face cascade (``haarcascade_frontalface_default.xml``, shipped with OpenCV).

    Settings: ``scale_factor`` (pyramid step, 1.1), ``min_neighbors`` (grouping threshold, 3),
    ``min_size`` (smallest face side in pixels, 24 = the cascade's window). Score: the level weight of
    ``detectMultiScale3(..., outputRejectLevels=True)``; the detections are those of ``detectMultiScale``.
    """

    name = "haar"

    def __init__(self, **settings: Any) -> None:
        import cv2

        super().__init__(**settings)
        path = Path(cv2.data.haarcascades) / "haarcascade_frontalface_default.xml"
        self._cascade = cv2.CascadeClassifier(str(path))
        if self._cascade.empty():
            raise DataMissingError(f"{path}: OpenCV's frontal-face cascade could not be loaded; "
                                   "reinstall opencv-python-headless (requirements.lock).")

    def _detect_rgb(self, image: np.ndarray) -> list[Face]:
        import cv2

        gray = cv2.cvtColor(image, cv2.COLOR_RGB2GRAY)
        size = int(self.settings["min_size"])
        boxes, _, weights = self._cascade.detectMultiScale3(
            gray, scaleFactor=float(self.settings["scale_factor"]), minNeighbors=int(self.settings["min_neighbors"]),
            minSize=(size, size), outputRejectLevels=True)
        weights = np.asarray(weights, dtype=float).ravel()
        return [Face(box=tuple(float(v) for v in box), score=float(weight)) for box, weight in zip(boxes, weights)]


class DlibHogDetector(FaceDetector):
    """dlib's HOG + linear SVM frontal-face detector (``get_frontal_face_detector``).

    Settings: ``upsample`` (times the image is doubled first: 1 finds faces down to about 40 px, 0 to about 80 px),
    ``adjust_threshold`` (added to the SVM threshold; negative keeps weaker detections, -0.5).
    Score: the SVM margin from ``run``; the library's default detector keeps scores >= 0.
    """

    name = "dlib_hog"
    operating_score = 0.0

    def __init__(self, **settings: Any) -> None:
        import dlib

        super().__init__(**settings)
        self._detector = dlib.get_frontal_face_detector()

    def _detect_rgb(self, image: np.ndarray) -> list[Face]:
        rectangles, scores, _ = self._detector.run(image, int(self.settings["upsample"]),
                                                   float(self.settings["adjust_threshold"]))
        return [Face(box=_dlib_box(rectangle), score=float(score)) for rectangle, score in zip(rectangles, scores)]


class DlibCnnDetector(FaceDetector):
    """dlib's CNN face detector (MMOD), weights from the ``face_recognition_models`` package.

    Settings: ``upsample`` (0: faces down to about 80 px; each step doubles the image and roughly quadruples the
    cost). Score: the MMOD confidence. Slow on a CPU (seconds per 1024 px image).
    """

    name = "dlib_cnn"
    operating_score = 0.0

    def __init__(self, **settings: Any) -> None:
        import dlib
        import face_recognition_models

        super().__init__(**settings)
        path = Path(face_recognition_models.cnn_face_detector_model_location())
        if not path.is_file():
            raise DataMissingError(f"{path}: dlib's MMOD weights are missing; reinstall face_recognition_models.")
        self._detector = dlib.cnn_face_detection_model_v1(str(path))

    def _detect_rgb(self, image: np.ndarray) -> list[Face]:
        detections = self._detector(image, int(self.settings["upsample"]))
        return [Face(box=_dlib_box(detection.rect), score=float(detection.confidence)) for detection in detections]


def _dlib_box(rectangle: Any) -> tuple[float, float, float, float]:
    return (float(rectangle.left()), float(rectangle.top()),
            float(rectangle.right() - rectangle.left() + 1), float(rectangle.bottom() - rectangle.top() + 1))


class MtcnnDetector(FaceDetector):
    """MTCNN (Zhang et al., 2016) as packaged by ``mtcnn`` 1.0 (TensorFlow), with five landmarks.

    Settings: ``min_face_size`` (smallest face side in pixels; sets the first pyramid scale, 14),
    ``scale_factor`` (pyramid step, 0.709), ``threshold_pnet`` / ``threshold_rnet`` / ``threshold_onet``
    (stage thresholds, 0.6 / 0.5 / 0.3; the package's defaults are 20 px and 0.6 / 0.7 / 0.8).
    Score: the O-Net face probability. :meth:`detect_batch` runs a list of images through the network together.
    """

    name = "mtcnn"
    operating_score = 0.8
    gives_landmarks = True

    def __init__(self, **settings: Any) -> None:
        os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
        from mtcnn import MTCNN

        super().__init__(**settings)
        _fix_mtcnn_pyramid()
        self._detector = MTCNN()

    def detect_batch(self, images: Sequence[np.ndarray]) -> list[list[Face]]:
        """Detect faces in several images in one pass of the networks (images are padded to the largest).

        Images with a side under :data:`MIN_IMAGE_SIDE` get no faces; images over ``max_side`` go through
        :meth:`detect` one by one (which shrinks them).

        Raises:
            DataFormatError: an image is not usable (see :func:`prepare_image`).
        """
        prepared = [prepare_image(image) for image in images]
        batchable = [index for index, image in enumerate(prepared)
                     if MIN_IMAGE_SIDE <= min(image.shape[:2]) and max(image.shape[:2]) <= self.max_side]
        results: list[list[Face]] = [self.detect(image) if index not in batchable else []
                                     for index, image in enumerate(prepared)]
        if batchable:
            outputs = self._detector.detect_faces([prepared[index] for index in batchable], **self.settings)
            for index, output in zip(batchable, outputs):
                results[index] = [_mtcnn_face(item) for item in output]
        return results

    def _detect_rgb(self, image: np.ndarray) -> list[Face]:
        return [_mtcnn_face(item) for item in self._detector.detect_faces([image], **self.settings)[0]]


def mtcnn_scales(width: int, height: int, min_face_size: float, scale_factor: float, min_size: int = 12):
    """MTCNN's image pyramid as ``mtcnn`` 1.0 builds it, less the levels whose image is smaller than P-Net's
    ``min_size`` px window.

    The package counts the levels from the image alone, ignoring the first scale ``min_size / min_face_size``: with
    ``min_face_size`` 40 on a 640x480 image its last level is 6 px tall and P-Net fails with an empty convolution.
    Where the package does not fail the scales are the same, so its results are unchanged.
    """
    from mtcnn.utils.images import build_scale_pyramid

    scales = build_scale_pyramid(width, height, min_face_size=min_face_size, scale_factor=scale_factor,
                                 min_size=min_size)
    return scales[min(width, height) * scales >= min_size]


def _fix_mtcnn_pyramid() -> None:
    """Make ``mtcnn``'s P-Net stage build its pyramid with :func:`mtcnn_scales` (idempotent)."""
    from mtcnn.stages import stage_pnet

    stage_pnet.build_scale_pyramid = mtcnn_scales


def _mtcnn_face(item: dict) -> Face:
    keypoints = item["keypoints"]
    order = ("right_eye", "left_eye", "nose", "mouth_right", "mouth_left")
    landmarks = tuple((float(keypoints[key][0]), float(keypoints[key][1])) for key in order)
    return Face(box=tuple(float(v) for v in item["box"]), score=float(item["confidence"]), landmarks=landmarks)


class YuNetDetector(FaceDetector):
    """YuNet (``cv2.FaceDetectorYN``) with ``$EMOTION_DATA/models/face_detection_yunet_2023mar.onnx``.

    Settings: ``score_threshold`` (0.3; OpenCV Zoo's demo uses 0.9), ``nms_threshold`` (0.3), ``top_k`` (5000).
    Score: YuNet's face score. Five landmarks. ``backend``: ``opencv`` (``cv2.FaceDetectorYN``, what notebook 02
    benchmarks) or ``onnxruntime`` (:mod:`emotion.faces.yunet_onnxruntime`: the same network and decoding, faster
    here; the pipeline's choice). Both give the same faces (tested).

    Raises:
        DataMissingError: the ONNX file is absent (the message says where it was expected and how to get it).
    """

    name = "yunet"
    operating_score = 0.9
    gives_landmarks = True

    def __init__(self, model_path: Path | str | None = None, *, max_side: int | None = None,
                 backend: str = "opencv", **settings: Any) -> None:
        import cv2

        super().__init__(max_side=max_side, **settings)
        if backend not in YUNET_BACKENDS:
            raise ConfigurationError(f"yunet: unknown backend {backend!r}; use one of {', '.join(YUNET_BACKENDS)}.")
        self.backend = backend
        self.model_path = Path(model_path) if model_path is not None else data_root() / YUNET_FILE
        if not self.model_path.is_file():
            raise DataMissingError(
                f"{self.model_path}: YuNet's weights are missing, so the yunet detector is skipped. Put "
                "face_detection_yunet_2023mar.onnx (OpenCV Zoo, sha256 8f2383e4...) in $EMOTION_DATA/models/.")
        if backend == "onnxruntime":
            from emotion.faces.yunet_onnxruntime import YuNetOnnxRuntime

            self._runtime = YuNetOnnxRuntime(self.model_path)
        else:
            self._detector = cv2.FaceDetectorYN.create(
                str(self.model_path), "", (320, 320), float(self.settings["score_threshold"]),
                float(self.settings["nms_threshold"]), int(self.settings["top_k"]))

    def _detect_rgb(self, image: np.ndarray) -> list[Face]:
        import cv2

        bgr = cv2.cvtColor(image, cv2.COLOR_RGB2BGR)
        if self.backend == "onnxruntime":
            rows = self._runtime.detect(bgr, float(self.settings["score_threshold"]),
                                        float(self.settings["nms_threshold"]), int(self.settings["top_k"]))
        else:
            self._detector.setInputSize((image.shape[1], image.shape[0]))
            _, rows = self._detector.detect(bgr)
        if rows is None:
            return []
        return [Face(box=tuple(float(v) for v in row[:4]), score=float(row[14]),
                     landmarks=tuple((float(row[4 + 2 * k]), float(row[5 + 2 * k])) for k in range(5)))
                for row in rows]


DETECTORS: dict[str, type[FaceDetector]] = {
    detector.name: detector
    for detector in (HaarDetector, DlibHogDetector, DlibCnnDetector, MtcnnDetector, YuNetDetector)
}
"""The registry: name -> class."""


def create_detector(name: str, **settings: Any) -> FaceDetector:
    """Return the detector called ``name`` (a key of :data:`DETECTORS`) with ``settings`` over its defaults.

    Raises:
        ConfigurationError: unknown name or setting (the message lists the valid ones).
        DataMissingError: the detector's model file is missing (YuNet without its ONNX file).
    """
    if name not in DETECTORS:
        raise ConfigurationError(f"unknown detector {name!r}; choose one of {sorted(DETECTORS)}.")
    return DETECTORS[name](**settings)


def available_detectors(names: Sequence[str] = tuple(DETECTORS)) -> tuple[list[str], dict[str, str]]:
    """Return ``(usable, skipped)``: the names among ``names`` whose model files are present, and for each other
    one the reason it is skipped (the :class:`DataMissingError` message). Loads nothing heavy except file checks."""
    usable, skipped = [], {}
    for name in names:
        if name == "yunet" and not (data_root() / YUNET_FILE).is_file():
            skipped[name] = f"{data_root() / YUNET_FILE} is missing, so YuNet is skipped."
        else:
            usable.append(name)
    return usable, skipped


PIPELINE_DETECTORS = ("yunet", "mtcnn")
"""The pipeline's detector by preference: YuNet, the fastest of notebook 02's benchmark at a comparable AP, when its
model file is under ``$EMOTION_DATA/models/``; else MTCNN, the paper's choice, which needs no file."""


def default_detector() -> str:
    """The detector the pipeline, ``predict``, ``crop-faces`` and the web app use when none is named: the first of
    :data:`PIPELINE_DETECTORS` whose model file is present."""
    usable, _ = available_detectors(PIPELINE_DETECTORS)
    return usable[0]


def faces_to_array(faces: Sequence[Face]) -> np.ndarray:
    """Return ``float64 (n, 5)``: ``x, y, w, h, score`` per face."""
    return np.array([[*face.box, face.score] for face in faces], dtype=float).reshape(-1, 5)
