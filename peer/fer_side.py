"""The `fer` package's side of the peer comparison. Runs inside .venv-fer (made by `make peer-env`), never in the
study's environment: `python -m emotion peer-compare` starts it once and keeps it for the whole comparison, so the
slow import of fer, TensorFlow and torch, and each detector's weights, are paid once across the runs.

It answers one JSON request per line on stdin with one JSON line on stdout (anything the libraries print goes to
stderr), and exits at the end of stdin:

- {"classify": "faces.npz" (uint8 (n, 48, 48) crops), "output": "fer_output.npz"}: fer's bundled classifier on every
  crop with fer's own preprocessing (resize to its 64x64 input, scale to [-1, 1]); writes the probabilities to
  "output" and answers {"images", "seconds", "input"};
- {"detect": "haar" or "mtcnn", "photos": [paths]}: fer end to end (`detect_emotions`) on each photo, one at a time,
  in one pass; the first request for a detector loads it and runs it once on the first photo, untimed. Answers
  {"photos": [{"photo", "seconds", "faces": [{"box", "emotion"}]}]}, the seconds of `detect_emotions` alone;
- {"versions": true}: the versions of fer, torch, tensorflow and facenet-pytorch.

A request that fails is answered {"error": "<what went wrong>"} and the next one is read.
"""

import os
import sys

# The protocol owns the real stdout; whatever TensorFlow, torch or fer print (C libraries included) goes to stderr.
PROTOCOL = os.fdopen(os.dup(1), "w", buffering=1)
os.dup2(2, 1)
sys.stdout = sys.stderr

import json  # noqa: E402
import time  # noqa: E402
from importlib.metadata import version  # noqa: E402

import torch  # noqa: F401,E402  (torch must be imported before TensorFlow, or FER(mtcnn=True) segfaults)

try:  # torch imports triton lazily; imported after TensorFlow it segfaults, so import it first.
    import triton  # noqa: F401
    import triton.runtime  # noqa: F401
except ImportError:
    pass
import cv2  # noqa: E402
import numpy as np  # noqa: E402
import pkg_resources  # noqa: E402
from fer.fer import FER  # noqa: E402

FER_CLASSES = ("angry", "disgust", "fear", "happy", "sad", "surprise", "neutral")
DETECTORS = {}
"""fer's end-to-end models by detector name, each loaded and warmed up on its first request."""


def classify_crops(crops: np.ndarray) -> np.ndarray:
    """fer's bundled classifier on 48x48 crops, with fer's preprocessing. Returns float32 (n, 7)."""
    from tensorflow.keras.models import load_model

    model = load_model(pkg_resources.resource_filename("fer", "data/emotion_model.hdf5"), compile=False)
    height, width = model.input_shape[1:3]
    resized = np.stack([cv2.resize(crop, (width, height)) for crop in crops]).astype(np.float32)
    scaled = (resized / 255.0 - 0.5) * 2.0
    return model.predict(scaled[..., None], batch_size=256, verbose=0).astype(np.float32)


def detect_photos(photos: list, detector: str) -> list:
    """fer end to end (its detector, crop and classifier) on each photo, one pass; one record per photo."""
    if detector not in ("haar", "mtcnn"):
        raise ValueError(f"unknown detector {detector!r}; fer offers haar and mtcnn")
    if detector not in DETECTORS:
        DETECTORS[detector] = FER(mtcnn=detector == "mtcnn")
        warm = cv2.imread(photos[0])
        DETECTORS[detector].detect_emotions(warm)  # load weights before timing
    model = DETECTORS[detector]
    records = []
    for path in photos:
        image = cv2.imread(path)
        if image is None:
            raise ValueError(f"{path}: OpenCV cannot read this photo")
        started = time.perf_counter()
        faces = model.detect_emotions(image)
        seconds = time.perf_counter() - started
        records.append({"photo": path, "seconds": seconds,
                        "faces": [{"box": [float(value) for value in face["box"]],
                                   "emotion": max(face["emotions"], key=face["emotions"].get)} for face in faces]})
    return records


def answer(request: dict) -> dict:
    """The answer to one request (see the module docstring)."""
    if "classify" in request:
        crops = np.load(request["classify"])["images"]
        started = time.perf_counter()
        probabilities = classify_crops(crops)
        seconds = time.perf_counter() - started
        np.savez(request["output"], probabilities=probabilities)
        return {"images": int(len(crops)), "seconds": seconds,
                "input": "48x48 crop resized to 64x64, scaled to [-1, 1] (fer's own preprocessing)"}
    if "detect" in request:
        return {"photos": detect_photos(request["photos"], request["detect"])}
    if "versions" in request:
        return {name: version(name) for name in ("fer", "torch", "tensorflow", "facenet-pytorch")}
    raise ValueError(f"unknown request {sorted(request)}; expected classify, detect or versions")


def main() -> int:
    for line in sys.stdin:
        if not line.strip():
            continue
        try:
            reply = answer(json.loads(line))
        except Exception as error:  # noqa: BLE001  (reported to the caller, which raises with the message)
            reply = {"error": f"{type(error).__name__}: {error}"}
        PROTOCOL.write(json.dumps(reply) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
