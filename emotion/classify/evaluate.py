"""Evaluate a saved model on a FER2013 split: accuracy, macro-F1 and per-class precision/recall/F1.

Test-time augmentation averages the softmax over several views of each image:

* ``"flip"`` (or ``tta=True``): the image and its horizontal mirror (2 views).
* ``"tencrop"``: the classic ten-crop: the image shifted by :data:`TENCROP_SHIFT` pixels towards each corner
  (edge pixels repeated) and unshifted, each also mirrored (10 views). For ``crop_cnn``, whose first layer keeps the
  central 40x40, these are exactly the four corner and the centre 40x40 crops of the 48x48 face and their mirrors;
  for a 48x48 model they are shifted copies of the whole face.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

from emotion import CLASS_NAMES, SPLITS
from emotion.errors import ConfigurationError, DataFormatError, ModelFileError


def load_model(path: Path | str):
    """Load a ``.keras`` model saved by :mod:`emotion.classify.train` (no compile state is needed to predict).

    Raises:
        ModelFileError: the file does not exist, or is not a Keras model archive.
    """
    import keras

    path = Path(path)
    if not path.is_file():
        raise ModelFileError(
            f"model file {path} does not exist. Released models are models/<name>.keras; train one with "
            "`python -m emotion train --model NAME` (see `python -m emotion train --help`)."
        )
    if path.suffix != ".keras":
        raise ModelFileError(f"{path}: expected a Keras 3 model archive ending in .keras.")
    try:
        model = keras.saving.load_model(path, compile=False)
    except Exception as error:  # Keras raises ValueError, OSError, KeyError or zipfile errors on a bad archive.
        raise ModelFileError(
            f"{path} could not be loaded as a Keras model ({type(error).__name__}: {str(error)[:200]}). "
            "Is it a .keras file written by `python -m emotion train`?"
        ) from error
    if any(weight.dtype == "float16" for weight in model.weights):
        model = with_dtype_policy(model, "float32")
    return model


def with_dtype_policy(model, policy: str):
    """A copy of ``model`` whose every layer uses the Keras dtype ``policy`` (e.g. ``"float16"`` or ``"float32"``),
    with the weights cast to the new variable dtype."""
    import keras

    def retype(value):
        if isinstance(value, dict):
            if value.get("class_name") in ("DTypePolicy", "FloatDTypePolicy") and isinstance(value.get("config"), dict):
                return {**value, "config": {**value["config"], "name": policy}}
            return {key: retype(item) for key, item in value.items()}
        if isinstance(value, list):
            return [retype(item) for item in value]
        return value

    copy = model.__class__.from_config(retype(model.get_config()))
    variable_dtype = keras.mixed_precision.Policy(policy).variable_dtype
    copy.set_weights([np.asarray(weight).astype(variable_dtype) for weight in model.get_weights()])
    return copy


def save_float16(model, path: Path | str) -> Path:
    """Save ``model`` with float16 weights (half the size of float32; :func:`load_model` casts them back to
    float32 and computes in float32). For released models that would exceed the 50 MB size cap in float32."""
    path = Path(path)
    temporary = path.with_name("partial_" + path.name)
    with_dtype_policy(model, "float16").save(temporary)
    temporary.replace(path)
    return path


def check_split(split: str) -> str:
    """Return ``split`` when it is one of :data:`emotion.SPLITS`; raises ConfigurationError otherwise."""
    if split not in SPLITS:
        raise ConfigurationError(f"unknown split {split!r}: use one of {', '.join(SPLITS)}.")
    return split


TTA_MODES = ("none", "flip", "tencrop")
TENCROP_SHIFT = 4
"""Pixels each corner view of ten-crop TTA is shifted by: (48 - 40) / 2, the margin of ``crop_cnn``'s 40x40 crop."""
TENCROP_VIEWS = 2 * (1 + 4)
"""Views of the ten-crop TTA: the unshifted image and four corner shifts, each also mirrored."""


def tta_mode(tta: bool | str) -> str:
    """Normalise a ``tta`` argument: False -> ``"none"``, True -> ``"flip"``, or one of :data:`TTA_MODES`.

    Raises:
        ConfigurationError: an unknown mode.
    """
    if tta is False or tta is None:
        return "none"
    if tta is True:
        return "flip"
    if tta not in TTA_MODES:
        raise ConfigurationError(f"unknown test-time augmentation {tta!r}: use one of {', '.join(TTA_MODES)}.")
    return tta


def shifted(images: np.ndarray, dy: int, dx: int) -> np.ndarray:
    """``images`` (n, h, w, c) moved by ``dy`` rows and ``dx`` columns; the uncovered border repeats the edge pixels.

    A positive ``dy`` moves the content down, so the view then shows more of the top of the original."""
    if dy == 0 and dx == 0:
        return images
    pad = max(abs(dy), abs(dx))
    padded = np.pad(images, ((0, 0), (pad, pad), (pad, pad), (0, 0)), mode="edge")
    height, width = images.shape[1:3]
    return padded[:, pad - dy:pad - dy + height, pad - dx:pad - dx + width]


def tta_views(images: np.ndarray, tta: bool | str):
    """Yield the views of :func:`predict_probabilities`'s test-time augmentation, the unchanged images first."""
    mode = tta_mode(tta)
    shifts = [(0, 0)]
    if mode == "tencrop":
        shifts += [(dy, dx) for dy in (TENCROP_SHIFT, -TENCROP_SHIFT) for dx in (TENCROP_SHIFT, -TENCROP_SHIFT)]
    for dy, dx in shifts:
        view = shifted(images, dy, dx)
        yield view
        if mode != "none":
            yield view[:, :, ::-1]


def forward_function(model, batch_size: int = 256):
    """A compiled forward pass of ``model`` for the pipeline's small batches of faces: ``f(images) -> (n, classes)``
    float32 probabilities, ``images`` uint8 or float (n, 48, 48[, 1]).

    ``model.predict`` builds a dataset on every call, which costs about 150 ms on this CPU however few faces a photo
    has; one ``tf.function`` traced once for any batch size skips that. No test-time augmentation; the numbers equal
    :func:`predict_probabilities`'s (tested).
    """
    import tensorflow as tf

    shape = tuple(model.inputs[0].shape[1:])
    compiled = tf.function(lambda batch: model(batch, training=False),
                           input_signature=[tf.TensorSpec((None, *shape), tf.float32)], reduce_retracing=True)

    def forward(images: np.ndarray) -> np.ndarray:
        images = np.asarray(images, dtype=np.float32)
        if images.ndim == len(shape):
            images = images[..., None]
        if images.shape[1:] != shape:
            raise ValueError(f"images must be (n, {', '.join(map(str, shape[:2]))}[, 1]), got shape {images.shape}")
        parts = [_single_output(compiled(tf.constant(images[start:start + batch_size])).numpy())
                 for start in range(0, len(images), batch_size)]
        return np.concatenate(parts).astype(np.float32) if parts else np.zeros((0, model.outputs[0].shape[-1]),
                                                                                np.float32)

    return forward


CLASSIFIER_RUNTIMES = ("tflite", "tensorflow")
"""What runs the pipeline's classifier: ``tflite`` (the model converted once to TensorFlow Lite, run by its XNNPACK
CPU kernels: about half the time of ``tensorflow`` for a photo's few faces here, the same numbers to 1e-5, tested) or
``tensorflow`` (:func:`forward_function`)."""


def tflite_forward(model, threads: int | None = None):
    """Like :func:`forward_function`, on TensorFlow Lite: the model is converted once (seconds for a released model)
    and each call runs the interpreter on the batch (resized when the number of faces changes).

    The interpreter is not thread-safe, so calls are serialised with a lock (the web app answers requests from
    several threads). TensorFlow 2.21 marks ``tf.lite`` deprecated in favour of the separate LiteRT package; the
    study pins 2.21, where it works.

    Raises:
        ModelFileError: the model does not convert (the message says to use the ``tensorflow`` runtime).
    """
    import contextlib
    import io
    import os
    import threading
    import warnings

    import tensorflow as tf

    shape = tuple(model.inputs[0].shape[1:])
    try:
        # The converter exports a SavedModel first and prints where (stdout is the JSON channel of `predict`).
        with warnings.catch_warnings(), contextlib.redirect_stdout(io.StringIO()):
            warnings.simplefilter("ignore")
            content = tf.lite.TFLiteConverter.from_keras_model(model).convert()
            interpreter = tf.lite.Interpreter(model_content=content, num_threads=threads or os.cpu_count() or 1)
    except Exception as error:  # the converter raises many types; all mean the same to the caller
        raise ModelFileError(f"the classifier does not convert to TensorFlow Lite ({type(error).__name__}: "
                             f"{error}); use the tensorflow runtime.") from error
    input_index = interpreter.get_input_details()[0]["index"]
    output_index = interpreter.get_output_details()[0]["index"]
    classes = int(model.outputs[0].shape[-1])
    lock = threading.Lock()
    allocated = [0]

    def forward(images: np.ndarray) -> np.ndarray:
        images = np.asarray(images, dtype=np.float32)
        if images.ndim == len(shape):
            images = images[..., None]
        if images.shape[1:] != shape:
            raise ValueError(f"images must be (n, {', '.join(map(str, shape[:2]))}[, 1]), got shape {images.shape}")
        if not len(images):
            return np.zeros((0, classes), np.float32)
        with lock:
            if allocated[0] != len(images):
                interpreter.resize_tensor_input(input_index, images.shape)
                interpreter.allocate_tensors()
                allocated[0] = len(images)
            interpreter.set_tensor(input_index, np.ascontiguousarray(images))
            interpreter.invoke()
            return np.array(interpreter.get_tensor(output_index), dtype=np.float32)

    return forward


def predict_probabilities(model, images: np.ndarray, *, tta: bool | str = False,
                          batch_size: int = 256) -> np.ndarray:
    """Return the model's class probabilities.

    Args:
        model: a Keras model mapping (n, 48, 48, 1) 0-255 images to (n, 7) probabilities.
        images: uint8 (n, 48, 48) or (n, 48, 48, 1).
        tta: test-time augmentation, one of :data:`TTA_MODES` (True means ``"flip"``): the softmax outputs of the
            views (:func:`tta_views`) are averaged.

    Returns:
        float32 (n, num_classes).

    Raises:
        ValueError: ``images`` is not 3-D or 4-D.
        ConfigurationError: unknown ``tta`` mode.
    """
    images = np.asarray(images)
    if images.ndim == 3:
        images = images[..., None]
    if images.ndim != 4:
        raise ValueError(f"images must be (n, 48, 48) or (n, 48, 48, 1), got shape {images.shape}")
    images = images.astype(np.float32)
    outputs = [_single_output(model.predict(np.ascontiguousarray(view), batch_size=batch_size, verbose=0))
               for view in tta_views(images, tta)]
    return np.mean(outputs, axis=0).astype(np.float32)


def _single_output(predictions) -> np.ndarray:
    """The (n, classes) array of a one-output model; raises ModelFileError for a model with several outputs."""
    if isinstance(predictions, (list, tuple)):
        if len(predictions) != 1:
            raise ModelFileError(f"expected a model with one output (class probabilities), got {len(predictions)}.")
        predictions = predictions[0]
    predictions = np.asarray(predictions, dtype=np.float32)
    if predictions.ndim != 2:
        raise ModelFileError(f"expected (n, classes) probabilities from the model, got shape {predictions.shape}.")
    return predictions


def confusion_counts(labels: np.ndarray, predictions: np.ndarray, num_classes: int = len(CLASS_NAMES)) -> np.ndarray:
    """The (classes, classes) confusion matrix, rows true, columns predicted (int counts)."""
    codes = np.asarray(labels).astype(np.int64) * num_classes + np.asarray(predictions).astype(np.int64)
    return np.bincount(codes, minlength=num_classes ** 2).reshape(num_classes, num_classes)


def scores_from_confusion(matrices: np.ndarray) -> dict[str, np.ndarray]:
    """Per-class precision, recall and F1 from one or a stack of confusion matrices (``(..., classes, classes)``).

    The study's one definition of the per-class scores: a class never predicted (or never present) has precision (or
    recall) 0, and F1 0 when both are 0, as scikit-learn's ``zero_division=0`` gives. Returns arrays of shape
    ``(..., classes)`` under ``precision``, ``recall``, ``f1`` and ``support``.
    """
    matrix = np.asarray(matrices, dtype=float)
    right = np.diagonal(matrix, axis1=-2, axis2=-1)
    true, predicted = matrix.sum(-1), matrix.sum(-2)
    precision = np.divide(right, predicted, out=np.zeros_like(right), where=predicted > 0)
    recall = np.divide(right, true, out=np.zeros_like(right), where=true > 0)
    total = precision + recall
    f1 = np.divide(2 * precision * recall, total, out=np.zeros_like(right), where=total > 0)
    return {"precision": precision, "recall": recall, "f1": f1, "support": true}


def accuracy(labels: np.ndarray, predictions: np.ndarray) -> float:
    """Share of images whose prediction equals the label."""
    return float(np.mean(np.asarray(labels) == np.asarray(predictions)))


def macro_f1(labels: np.ndarray, predictions: np.ndarray, num_classes: int = len(CLASS_NAMES)) -> float:
    """Unweighted mean of the per-class F1 scores (:func:`scores_from_confusion`) over ``num_classes`` classes."""
    return float(scores_from_confusion(confusion_counts(labels, predictions, num_classes))["f1"].mean())


def classification_metrics(labels: np.ndarray, predictions: np.ndarray) -> dict[str, Any]:
    """Accuracy, macro-F1 and per-class precision/recall/F1/support (:func:`scores_from_confusion`).

    Args:
        labels: int (n,) true class ids 0-6.
        predictions: int (n,) predicted class ids.

    Returns:
        ``{"n", "accuracy", "macro_f1", "per_class": {class name: {"precision", "recall", "f1", "support"}},
        "confusion_matrix": 7x7 list (rows true, columns predicted)}``.
    """
    matrix = confusion_counts(labels, predictions)
    scores = scores_from_confusion(matrix)
    return {
        "n": int(len(labels)),
        "accuracy": accuracy(labels, predictions),
        "macro_f1": float(scores["f1"].mean()),
        "per_class": {
            name: {"precision": float(scores["precision"][i]), "recall": float(scores["recall"][i]),
                   "f1": float(scores["f1"][i]), "support": int(scores["support"][i])}
            for i, name in enumerate(CLASS_NAMES)
        },
        "confusion_matrix": matrix.tolist(),
    }


def evaluate_model(model, images: np.ndarray, labels: np.ndarray, *, tta: bool | str = False,
                   keep_predictions: bool = False) -> dict[str, Any]:
    """Predict ``images`` and score against ``labels``; returns :func:`classification_metrics` plus ``tta`` (whether
    any test-time augmentation was used) and ``tta_mode`` (which one, :data:`TTA_MODES`).

    Args:
        model: a Keras model (see :func:`predict_probabilities`).
        images: uint8 (n, 48, 48).
        labels: int (n,).
        tta: see :func:`predict_probabilities`.
        keep_predictions: also return ``predictions``, every image's predicted class as one digit of a string
            (:func:`encode_predictions`), so that two runs scored on the same images can be compared image by image
            (McNemar's test) from their results files alone.
    """
    mode = tta_mode(tta)
    predictions = predict_probabilities(model, images, tta=mode).argmax(axis=1)
    metrics = {**classification_metrics(np.asarray(labels), predictions), "tta": mode != "none", "tta_mode": mode}
    return {**metrics, "predictions": encode_predictions(predictions)} if keep_predictions else metrics


def encode_predictions(predictions: np.ndarray) -> str:
    """Predicted classes (int, 0-6) as a string of digits, one per image: 3,589 characters for PrivateTest.

    Raises:
        ValueError: a class outside 0-9 (one digit each).
    """
    predictions = np.asarray(predictions).astype(int).ravel()
    if predictions.size and (predictions.min() < 0 or predictions.max() > 9):
        raise ValueError(f"classes must be 0-9 to be stored as digits, got {predictions.min()}-{predictions.max()}")
    return "".join(map(str, predictions))


def decode_predictions(encoded: str) -> np.ndarray:
    """The classes :func:`encode_predictions` stored, as int64 (n,).

    Raises:
        DataFormatError: ``encoded`` is not a string of digits.
    """
    if not isinstance(encoded, str) or not encoded.isdigit():
        raise DataFormatError(f"stored predictions must be a string of digits, got {str(encoded)[:40]!r}: the "
                              "results file was edited or written by other code; retrain or restore it with git.")
    return np.frombuffer(encoded.encode("ascii"), dtype=np.uint8).astype(np.int64) - ord("0")


def probabilities_by_tta(model, images: np.ndarray, batch_size: int = 256) -> dict[str, np.ndarray]:
    """Every :data:`TTA_MODES` mode's probabilities from one pass over the ten-crop views: ``none`` is the first
    view, ``flip`` the mean of the first two (the image and its mirror), ``tencrop`` the mean of all
    :data:`TENCROP_VIEWS` (equal to :func:`predict_probabilities` with each mode; tested)."""
    images = np.asarray(images)
    if images.ndim == 3:
        images = images[..., None]
    if images.ndim != 4:
        raise ValueError(f"images must be (n, 48, 48) or (n, 48, 48, 1), got shape {images.shape}")
    views = [_single_output(model.predict(np.ascontiguousarray(view), batch_size=batch_size, verbose=0))
             for view in tta_views(images.astype(np.float32), "tencrop")]
    return {"none": views[0], "flip": np.mean(views[:2], axis=0).astype(np.float32),
            "tencrop": np.mean(views, axis=0).astype(np.float32)}


def choose_tta(model, selection: tuple[np.ndarray, np.ndarray], test: tuple[np.ndarray, np.ndarray]) -> dict:
    """Choose the test-time augmentation on the selection split (PublicTest) and score the test split once with it.

    The mode with the highest selection accuracy wins; a tie goes to the cheaper mode (the order of
    :data:`TTA_MODES`). Only the chosen mode is scored on the test split.

    Returns:
        ``{"selection_accuracy": {mode: accuracy}, "chosen": mode, "test": :func:`evaluate_model`'s dict for the test
        split with the chosen mode, "test_predictions": int (n,) predicted classes (for intervals and paired tests;
        not JSON), "protocol": str}``.
    """
    selection_images, selection_labels = selection
    test_images, test_labels = test
    return tta_choice(probabilities_by_tta(model, selection_images), selection_labels,
                      lambda mode: predict_probabilities(model, test_images, tta=mode), test_labels)


def tta_choice(selection_probabilities: dict[str, np.ndarray], selection_labels: np.ndarray,
               test_probabilities: Callable[[str], np.ndarray], test_labels: np.ndarray) -> dict:
    """:func:`choose_tta` from probabilities already computed: ``selection_probabilities`` holds every
    :data:`TTA_MODES` mode's (n, classes) output on the selection split (:func:`probabilities_by_tta`), and
    ``test_probabilities(mode)`` gives the test split's with the chosen mode; it is called once, for that mode only.
    """
    scores = {mode: accuracy(np.asarray(selection_labels), np.asarray(selection_probabilities[mode]).argmax(axis=1))
              for mode in TTA_MODES}
    chosen = max(TTA_MODES, key=lambda mode: scores[mode])  # max keeps the first of equals: the cheaper mode
    predictions = np.asarray(test_probabilities(chosen)).argmax(axis=1)
    metrics = {**classification_metrics(np.asarray(test_labels), predictions), "tta": chosen != "none",
               "tta_mode": chosen}
    return {"selection_accuracy": scores, "chosen": chosen, "test": metrics, "test_predictions": predictions,
            "protocol": "test-time augmentation chosen by PublicTest accuracy (ties: the cheaper mode); "
                        "PrivateTest scored once with the chosen mode"}


def evaluate_file(model_path: Path | str, split: str = "PrivateTest", *, tta: bool | str = False,
                  data=None) -> dict:
    """Load a saved model and evaluate it on one FER2013 split (``python -m emotion evaluate``).

    Args:
        model_path: a ``.keras`` file.
        split: one of :data:`emotion.SPLITS`.
        tta: test-time augmentation (:data:`TTA_MODES`; True means horizontal flip).
        data: a loaded :class:`emotion.data.fer2013.Fer2013` (default: :func:`emotion.data.fer2013.load_fer2013`).

    Returns:
        :func:`evaluate_model`'s dict plus ``model`` (the path) and ``split``.

    Raises:
        ConfigurationError: unknown split.
        ModelFileError: see :func:`load_model`.
        DataMissingError, DataFormatError: FER2013 is missing or malformed.
    """
    check_split(split)
    tta_mode(tta)
    model = load_model(model_path)
    if data is None:
        from emotion.data.fer2013 import load_fer2013

        data = load_fer2013()
    images, labels = data.split(split)
    return {"model": str(model_path), "split": split, **evaluate_model(model, images, labels, tta=tta)}
