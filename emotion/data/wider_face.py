"""Reading a WIDER-FACE-format folder: its face annotations, its image table and its images.

The folder holds ``images/``, ``annotations.csv`` (``image,x,y,w,h,difficulty_or_attrs``; the last field is
``key=value`` pairs joined by ``;`` with ``idx, blur, expression, illumination, invalid, occlusion, pose, easy,
medium, hard``) and ``images.csv`` (``image,event,width,height,faces,sha256``); see ``$EMOTION_DATA/faces/SOURCE.md``.
Notebook 02 evaluates the face detectors on it (:mod:`emotion.faces.detection_eval`).
"""

from __future__ import annotations

import csv
from pathlib import Path
from typing import Any, Sequence

import numpy as np
import pandas as pd

from emotion.errors import DataFormatError, DataMissingError

LEVELS = ("easy", "medium", "hard")
ATTRIBUTE_KEYS = ("idx", "blur", "expression", "illumination", "invalid", "occlusion", "pose", "easy", "medium", "hard")
ANNOTATION_HEADER = ["image", "x", "y", "w", "h", "difficulty_or_attrs"]
IMAGES_HEADER = ["image", "event", "width", "height", "faces", "sha256"]


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
        raise DataMissingError(f"{path}: no such file; "
                               "the folder needs images.csv (see $EMOTION_DATA/faces/SOURCE.md).")
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
