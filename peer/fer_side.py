"""The `fer` package's side of the peer comparison. Runs inside .venv-fer (made by `make peer-env`), never in the
study's environment: `python -m emotion peer-compare` calls it with a job file and reads its output file.

Job (JSON): {"faces": "faces.npz" (uint8 (n, 48, 48) crops), "photos": [paths], "detectors": ["haar", "mtcnn"],
"passes": 3, "output": "fer_output.npz", "report": "fer_report.json"}.

It writes the classifier's probabilities for every crop (fer's own preprocessing: resize to its 64x64 input, scale
to [-1, 1]) and, for each detector, every photo's faces with fer's emotion and the wall time of `detect_emotions`.
"""

import json
from importlib.metadata import version
import sys
import time

import torch  # noqa: F401  (torch must be imported before TensorFlow, or FER(mtcnn=True) segfaults)

try:  # torch imports triton lazily; imported after TensorFlow it segfaults, so import it first.
    import triton  # noqa: F401
    import triton.runtime  # noqa: F401
except ImportError:
    pass
import cv2
import numpy as np
import pkg_resources
from fer.fer import FER

FER_CLASSES = ("angry", "disgust", "fear", "happy", "sad", "surprise", "neutral")


def classify_crops(crops: np.ndarray) -> np.ndarray:
    """fer's bundled classifier on 48x48 crops, with fer's preprocessing. Returns float32 (n, 7)."""
    from tensorflow.keras.models import load_model

    model = load_model(pkg_resources.resource_filename("fer", "data/emotion_model.hdf5"), compile=False)
    height, width = model.input_shape[1:3]
    resized = np.stack([cv2.resize(crop, (width, height)) for crop in crops]).astype(np.float32)
    scaled = (resized / 255.0 - 0.5) * 2.0
    return model.predict(scaled[..., None], batch_size=256, verbose=0).astype(np.float32)


def detect_photos(photos: list, detector: str, passes: int = 1) -> list:
    """fer end to end (its detector, crop and classifier) on each photo, in `passes` passes over the photos; one
    record per photo with its median seconds and the faces of the first pass."""
    model = FER(mtcnn=detector == "mtcnn")
    warm = cv2.cvtColor(cv2.imread(photos[0]), cv2.COLOR_BGR2RGB)
    model.detect_emotions(warm)  # load weights before timing
    seconds = [[] for _ in photos]
    found = []
    for pass_number in range(passes):
        for index, path in enumerate(photos):
            image = cv2.imread(path)
            started = time.perf_counter()
            faces = model.detect_emotions(image)
            seconds[index].append(time.perf_counter() - started)
            if pass_number == 0:
                found.append([{"box": [float(value) for value in face["box"]],
                               "emotion": max(face["emotions"], key=face["emotions"].get)} for face in faces])
    return [{"photo": path, "seconds": float(np.median(times)), "faces": faces}
            for path, times, faces in zip(photos, seconds, found)]


def main(job_path: str) -> int:
    job = json.loads(open(job_path).read())
    crops = np.load(job["faces"])["images"]
    started = time.perf_counter()
    probabilities = classify_crops(crops)
    classify_seconds = time.perf_counter() - started
    np.savez(job["output"], probabilities=probabilities)
    report = {
        "classifier": {"images": int(len(crops)), "seconds": classify_seconds,
                       "input": "48x48 crop resized to 64x64, scaled to [-1, 1] (fer's own preprocessing)"},
        "photos": {detector: detect_photos(job["photos"], detector, job.get("passes", 1))
                   for detector in job["detectors"]},
        "versions": {name: version(name) for name in ("fer", "torch", "tensorflow", "facenet-pytorch")},
    }
    open(job["report"], "w").write(json.dumps(report))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1]))
