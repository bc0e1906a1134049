"""The batch face-cropping tool (the paper's "one-click batch processing tool"): every face of every image in a
folder, cropped to 48x48 grayscale, written as a FER2013-style CSV, class folders, or YOLO detector labels, with a
manifest of what was written and what was skipped and why.
"""

from __future__ import annotations

import csv
from pathlib import Path

import numpy as np

from emotion import CLASS_NAMES
from emotion.faces.detectors import FaceDetector
from emotion.errors import ConfigurationError
from emotion.data.image_files import ImageFileError, find_images, read_image_file
from emotion.faces.cropping import DEFAULT_MARGIN, crop_face

FORMATS = ("fer", "folders", "yolo")
MANIFEST_COLUMNS = ("source", "face", "status", "reason", "output", "x", "y", "w", "h", "score")


def label_from_path(path: Path, root: Path) -> str | None:
    """The class name given by the first folder under ``root`` when it is one of :data:`emotion.CLASS_NAMES`
    (``root/happy/img.jpg`` → ``happy``), else None."""
    parts = path.relative_to(root).parts
    return parts[0] if len(parts) > 1 and parts[0] in CLASS_NAMES else None


def crop_faces(in_dir: Path, out_dir: Path, detector: FaceDetector, *, output_format: str = "fer",
               align: bool = False, margin: float = DEFAULT_MARGIN, min_score: float | None = None,
               progress=None) -> dict[str, int]:
    """Crop every face in ``in_dir`` (recursively) into ``out_dir``.

    Formats:
        ``fer``: ``out_dir/faces.csv`` with FER2013's columns ``emotion,pixels,Usage``; ``emotion`` is the class id
            when the image sits in a class-named folder (``in_dir/happy/...``), else empty; Usage is ``Unlabelled``.
        ``folders``: ``out_dir/<class or unlabelled>/<image stem>_<face>.png``.
        ``yolo``: ``out_dir/images/<stem>.png`` (the upright decoded image) and ``out_dir/labels/<stem>.txt`` with one
            ``0 cx cy w h`` line per face (normalised), the layout YOLO detectors train on.
    Always writes ``out_dir/manifest.csv`` (one row per face written and per file skipped, with the reason).

    Returns:
        Counts: ``images``, ``faces``, ``skipped`` (files with no face or unreadable).

    Raises:
        ConfigurationError: unknown format, ``in_dir`` is not a folder, or ``out_dir`` is inside ``in_dir``.
    """
    in_dir, out_dir = Path(in_dir).resolve(), Path(out_dir).resolve()
    if output_format not in FORMATS:
        raise ConfigurationError(f"unknown format {output_format!r}; choose one of {', '.join(FORMATS)}.")
    if not in_dir.is_dir():
        raise ConfigurationError(f"{in_dir} is not a folder of images.")
    if out_dir == in_dir or in_dir in out_dir.parents:
        raise ConfigurationError(f"{out_dir} is inside {in_dir}; choose an output folder outside the input.")
    threshold = detector.operating_score if min_score is None else min_score
    paths, _ = find_images([in_dir])
    out_dir.mkdir(parents=True, exist_ok=True)
    manifest_rows, fer_rows = [], []
    counts = {"images": 0, "faces": 0, "skipped": 0}
    for path in (progress(paths) if progress else paths):
        source = str(path.relative_to(in_dir))
        try:
            image = read_image_file(path)
            faces = [face for face in detector.detect(image) if face.score >= threshold]
        except ImageFileError as error:
            manifest_rows.append({"source": source, "status": "skipped", "reason": str(error)})
            counts["skipped"] += 1
            continue
        counts["images"] += 1
        if not faces:
            manifest_rows.append({"source": source, "status": "skipped", "reason": "no face detected"})
            counts["skipped"] += 1
            continue
        label = label_from_path(path, in_dir)
        stem = "_".join(path.relative_to(in_dir).with_suffix("").parts)
        if output_format == "yolo":
            _write_yolo(image, faces, path, stem, out_dir)
        for index, face in enumerate(faces):
            crop = crop_face(image, face, margin=margin, align=align)
            output = ""
            if output_format == "fer":
                fer_rows.append((CLASS_NAMES.index(label) if label else "", " ".join(map(str, crop.ravel())),
                                 "Unlabelled"))
                output = f"faces.csv row {len(fer_rows)}"
            elif output_format == "folders":
                target = out_dir / (label or "unlabelled") / f"{stem}_{index}.png"
                target.parent.mkdir(parents=True, exist_ok=True)
                _write_png(target, crop)
                output = str(target.relative_to(out_dir))
            else:
                output = f"labels/{stem}.txt line {index + 1}"
            x, y, w, h = face.box
            manifest_rows.append({"source": source, "face": index, "status": "written", "reason": "",
                                  "output": output, "x": round(x, 1), "y": round(y, 1), "w": round(w, 1),
                                  "h": round(h, 1), "score": round(float(face.score), 4)})
            counts["faces"] += 1
    if output_format == "fer":
        partial = out_dir / "faces.csv.partial"
        with open(partial, "w", newline="") as handle:
            writer = csv.writer(handle)
            writer.writerow(("emotion", "pixels", "Usage"))
            writer.writerows(fer_rows)
        partial.replace(out_dir / "faces.csv")
    partial = out_dir / "manifest.csv.partial"
    with open(partial, "w", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=MANIFEST_COLUMNS)
        writer.writeheader()
        writer.writerows(manifest_rows)
    partial.replace(out_dir / "manifest.csv")
    return counts


def _write_png(path: Path, image: np.ndarray) -> None:
    import cv2

    if not cv2.imwrite(str(path), image):
        raise ConfigurationError(f"could not write {path}; is the folder writable?")


def _write_yolo(image: np.ndarray, faces, source: Path, stem: str, out_dir: Path) -> None:
    import cv2

    height, width = image.shape[:2]
    (out_dir / "images").mkdir(exist_ok=True)
    (out_dir / "labels").mkdir(exist_ok=True)
    # The decoded, upright image is written (not the source bytes) so labels match pixels even for EXIF-rotated
    # photos and formats a detector trainer may not read.
    _write_png(out_dir / "images" / f"{stem}.png", cv2.cvtColor(image, cv2.COLOR_RGB2BGR))
    lines = []
    for face in faces:
        x, y, w, h = face.box
        x0, y0 = max(0.0, x), max(0.0, y)
        x1, y1 = min(float(width), x + w), min(float(height), y + h)
        lines.append(f"0 {(x0 + x1) / 2 / width:.6f} {(y0 + y1) / 2 / height:.6f} {(x1 - x0) / width:.6f} "
                     f"{(y1 - y0) / height:.6f}")
    (out_dir / "labels" / f"{stem}.txt").write_text("\n".join(lines) + "\n")
