"""The batch face-cropping tool (the paper's "one-click batch processing tool"): every face of every image in a
folder, cropped to 48x48 grayscale, written as a FER2013-style CSV, class folders, or YOLO detector labels, with a
manifest of what was written and what was skipped and why.
"""

from __future__ import annotations

import csv
from pathlib import Path

import numpy as np

from emotion import CLASS_NAMES
from emotion.data.image_files import ImageFileError, find_images, read_image_file
from emotion.errors import ConfigurationError
from emotion.faces.cropping import DEFAULT_MARGIN, crop_face
from emotion.faces.detectors import FaceDetector

FORMATS = ("fer", "folders", "yolo")
MANIFEST_COLUMNS = ("source", "face", "status", "reason", "output", "x", "y", "w", "h", "score")


def label_from_path(path: Path, root: Path) -> str | None:
    """The class name given by the first folder under ``root`` when it is one of :data:`emotion.CLASS_NAMES`
    (``root/happy/img.jpg`` → ``happy``), else None."""
    parts = path.relative_to(root).parts
    return parts[0] if len(parts) > 1 and parts[0] in CLASS_NAMES else None


PHOTOS_IN_FLIGHT = 8
"""``crop_faces`` with ``overlap`` holds at most this many photos decoded and not yet cropped."""


def crop_faces(in_dir: Path, out_dir: Path, detector: FaceDetector, *, output_format: str = "fer",
               align: bool = False, margin: float = DEFAULT_MARGIN, min_score: float | None = None,
               progress=None, overlap: bool = True, max_in_flight: int = PHOTOS_IN_FLIGHT) -> dict[str, int]:
    """Crop every face in ``in_dir`` (recursively) into ``out_dir``.

    Formats:
        ``fer``: ``out_dir/faces.csv`` with FER2013's columns ``emotion,pixels,Usage``; ``emotion`` is the class id
            when the image sits in a class-named folder (``in_dir/happy/...``), else empty; Usage is ``Unlabelled``.
        ``folders``: ``out_dir/<class or unlabelled>/<image stem>_<face>.png``.
        ``yolo``: ``out_dir/images/<stem>.png`` (the upright decoded image) and ``out_dir/labels/<stem>.txt`` with one
            ``0 cx cy w h`` line per face (normalised), the layout YOLO detectors train on.
    Always writes ``out_dir/manifest.csv`` (one row per face written and per file skipped, with the reason).

    Args:
        progress: optional wrapper for the iterator of photos, which yields each once it is finished and has a
            ``len`` (e.g. ``tqdm``).
        overlap: True (default): decoding, detection and cropping-and-writing each run on their own thread, on the
            next photo while the stage after works on this one (:class:`emotion.overlap.OverlappedStages`); False:
            one photo after another on the calling thread. Both write byte-identical files (tested).
        max_in_flight: with ``overlap``, at most this many photos are decoded and not yet cropped at any moment.

    Returns:
        Counts: ``images``, ``faces``, ``skipped`` (files with no face or unreadable).

    Raises:
        ConfigurationError: unknown format, ``in_dir`` is not a folder, or ``out_dir`` is inside ``in_dir``.
        ValueError: ``max_in_flight`` is below 1.
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
    cropper = _Cropper(in_dir, out_dir, output_format, align=align, margin=margin)

    def detect(step: tuple[Path, np.ndarray | None, str | None]):
        path, image, error = step
        faces = [] if image is None else [face for face in detector.detect(image) if face.score >= threshold]
        return path, image, error, faces

    if overlap:
        from emotion.overlap import OverlappedStages, Stage

        stages = [Stage(_read, name="read"), Stage(detect, name="detect"), Stage(cropper, name="crop")]
        with OverlappedStages(paths, stages, max_in_flight=max_in_flight) as run:
            for _ in (progress(run) if progress else run):
                pass
    else:
        for path in (progress(paths) if progress else paths):
            cropper(detect(_read(path)))
    if output_format == "fer":
        partial = out_dir / "faces.csv.partial"
        with open(partial, "w", newline="") as handle:
            writer = csv.writer(handle)
            writer.writerow(("emotion", "pixels", "Usage"))
            writer.writerows(cropper.fer_rows)
        partial.replace(out_dir / "faces.csv")
    partial = out_dir / "manifest.csv.partial"
    with open(partial, "w", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=MANIFEST_COLUMNS)
        writer.writeheader()
        writer.writerows(cropper.manifest_rows)
    partial.replace(out_dir / "manifest.csv")
    return cropper.counts


def _read(path: Path) -> tuple[Path, np.ndarray | None, str | None]:
    """``(path, image, None)``, or ``(path, None, reason)`` for a file that is not a usable image."""
    try:
        return path, read_image_file(path), None
    except ImageFileError as error:
        return path, None, str(error)


class _Cropper:
    """Crops and writes one photo's faces and keeps the manifest, the FER rows and the counts; called once per photo,
    in the folder's order (the rows and their numbers follow it)."""

    def __init__(self, in_dir: Path, out_dir: Path, output_format: str, *, align: bool, margin: float) -> None:
        self.in_dir, self.out_dir, self.output_format = in_dir, out_dir, output_format
        self.align, self.margin = align, margin
        self.manifest_rows: list[dict] = []
        self.fer_rows: list[tuple] = []
        self.counts = {"images": 0, "faces": 0, "skipped": 0}

    def __call__(self, step: tuple[Path, np.ndarray | None, str | None, list]) -> None:
        path, image, error, faces = step
        in_dir, out_dir = self.in_dir, self.out_dir
        source = str(path.relative_to(in_dir))
        if error is not None:
            self.manifest_rows.append({"source": source, "status": "skipped", "reason": error})
            self.counts["skipped"] += 1
            return
        self.counts["images"] += 1
        if not faces:
            self.manifest_rows.append({"source": source, "status": "skipped", "reason": "no face detected"})
            self.counts["skipped"] += 1
            return
        label = label_from_path(path, in_dir)
        stem = "_".join(path.relative_to(in_dir).with_suffix("").parts)
        if self.output_format == "yolo":
            _write_yolo(image, faces, path, stem, out_dir)
        for index, face in enumerate(faces):
            crop = crop_face(image, face, margin=self.margin, align=self.align)
            output = ""
            if self.output_format == "fer":
                self.fer_rows.append((CLASS_NAMES.index(label) if label else "", " ".join(map(str, crop.ravel())),
                                      "Unlabelled"))
                output = f"faces.csv row {len(self.fer_rows)}"
            elif self.output_format == "folders":
                target = out_dir / (label or "unlabelled") / f"{stem}_{index}.png"
                target.parent.mkdir(parents=True, exist_ok=True)
                _write_png(target, crop)
                output = str(target.relative_to(out_dir))
            else:
                output = f"labels/{stem}.txt line {index + 1}"
            x, y, w, h = face.box
            self.manifest_rows.append({"source": source, "face": index, "status": "written", "reason": "",
                                       "output": output, "x": round(x, 1), "y": round(y, 1), "w": round(w, 1),
                                       "h": round(h, 1), "score": round(float(face.score), 4)})
            self.counts["faces"] += 1


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
