"""Load AffectNet (Mollahosseini et al., 2017) from its official layout as 48x48 grayscale faces with FER2013 labels.

AffectNet is licence-gated (academic request form at https://mohammadmahoor.com/affectnet/); the study does not
have it, so no result of the study comes from it. This loader lets someone who has it evaluate the released models
on it. The official release is laid out as::

    $EMOTION_DATA/affectnet/
        Manually_Annotated_file_lists/training.csv
        Manually_Annotated_file_lists/validation.csv
        Manually_Annotated_Images/<subDirectory>/<file>.jpg

Each list has the columns ``subDirectory_filePath, face_x, face_y, face_width, face_height, facial_landmarks,
expression, valence, arousal`` (some copies of ``validation.csv`` omit the header line; both are accepted).
AffectNet's expressions map onto FER2013's seven classes; contempt (7), none (8), uncertain (9) and no-face (10)
have no FER2013 counterpart and are dropped.
"""

from __future__ import annotations

import csv
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from emotion.data.image_files import ImageFileError, read_grayscale_file
from emotion.errors import DataFormatError, DataMissingError
from emotion.paths import data_root

COLUMNS = ("subDirectory_filePath", "face_x", "face_y", "face_width", "face_height", "facial_landmarks",
           "expression", "valence", "arousal")
SPLIT_FILES = {"training": "training.csv", "validation": "validation.csv"}
LISTS_DIR = "Manually_Annotated_file_lists"
IMAGES_DIR = "Manually_Annotated_Images"
AFFECTNET_TO_FER2013 = {0: 6, 1: 3, 2: 4, 3: 5, 4: 2, 5: 1, 6: 0}
"""AffectNet expression id -> FER2013 class id: neutral, happy, sad, surprise, fear, disgust, anger."""
DROPPED_EXPRESSIONS = {7: "contempt", 8: "none", 9: "uncertain", 10: "no-face"}
IMAGE_SIZE = 48

OBTAIN_INSTRUCTIONS = """\
AffectNet is distributed under a licence to academic researchers only: request it at
https://mohammadmahoor.com/affectnet/ and unpack it so that $EMOTION_DATA/affectnet/ holds
Manually_Annotated_file_lists/{training,validation}.csv and Manually_Annotated_Images/."""


@dataclass(frozen=True)
class AffectNet:
    """AffectNet faces mapped to FER2013.

    Attributes:
        images: uint8 (n, 48, 48) grayscale crops of the annotated face boxes.
        labels: int64 (n,) FER2013 class ids (indexing :data:`emotion.CLASS_NAMES`).
        valence, arousal: float32 (n,) in [-1, 1].
        files: str (n,) image paths relative to ``Manually_Annotated_Images``.
        dropped: ``{expression name: rows}`` left out because FER2013 has no such class.
    """

    images: np.ndarray
    labels: np.ndarray
    valence: np.ndarray
    arousal: np.ndarray
    files: np.ndarray
    dropped: dict[str, int]


def affectnet_root() -> Path:
    """Return ``$EMOTION_DATA/affectnet`` (see :func:`emotion.paths.data_root`)."""
    return data_root() / "affectnet"


def _read_face(path: Path, box: tuple[int, int, int, int], where: str) -> np.ndarray:
    import cv2

    if not path.is_file():
        raise DataMissingError(f"{where}: the image {path} is missing. Unpack Manually_Annotated_Images completely.")
    try:
        image = read_grayscale_file(path)
    except ImageFileError as error:
        raise DataFormatError(f"{where}: {path} is not a readable image ({error})") from error
    x, y, width, height = box
    top, left = max(y, 0), max(x, 0)
    bottom, right = min(y + height, image.shape[0]), min(x + width, image.shape[1])
    if bottom <= top or right <= left:
        raise DataFormatError(f"{where}: the face box {box} lies outside the {image.shape[1]}x{image.shape[0]} image.")
    return cv2.resize(image[top:bottom, left:right], (IMAGE_SIZE, IMAGE_SIZE), interpolation=cv2.INTER_AREA)


def load_affectnet(root: Path | str | None = None, split: str = "validation", limit: int | None = None) -> AffectNet:
    """Read one AffectNet list and its images, keeping the seven expressions FER2013 shares.

    Args:
        root: the folder holding ``Manually_Annotated_file_lists`` and ``Manually_Annotated_Images``
            (default ``$EMOTION_DATA/affectnet``).
        split: ``training`` or ``validation`` (AffectNet's test set is not public).
        limit: read at most this many kept faces.

    Returns:
        :class:`AffectNet`.

    Raises:
        ValueError: unknown split.
        DataMissingError: the list or an image is missing (the message says how to obtain AffectNet).
        DataFormatError: a row with the wrong number of fields, a non-numeric box/expression/valence/arousal, an
            expression outside 0-10, an unreadable image, or a face box outside its image (file and line named).
    """
    if split not in SPLIT_FILES:
        raise ValueError(f"unknown AffectNet split {split!r}: use 'training' or 'validation'")
    root = Path(root) if root is not None else affectnet_root()
    list_path = root / LISTS_DIR / SPLIT_FILES[split]
    if not list_path.is_file():
        raise DataMissingError(f"AffectNet list not found at {list_path}.\n{OBTAIN_INSTRUCTIONS}")
    images, labels, valence, arousal, files = [], [], [], [], []
    dropped = {name: 0 for name in DROPPED_EXPRESSIONS.values()}
    with open(list_path, newline="") as handle:
        for line_number, row in enumerate(csv.reader(handle), start=1):
            if line_number == 1 and row and row[0] == COLUMNS[0]:
                continue
            where = f"{list_path}, line {line_number}"
            if len(row) != len(COLUMNS):
                raise DataFormatError(f"{where}: expected {len(COLUMNS)} fields ({', '.join(COLUMNS)}), "
                                      f"found {len(row)}.")
            try:
                box = tuple(int(float(value)) for value in row[1:5])
                expression = int(row[6])
                row_valence, row_arousal = float(row[7]), float(row[8])
            except ValueError as error:
                raise DataFormatError(f"{where}: a face box, expression, valence or arousal is not a number "
                                      f"({error}).") from error
            if expression in DROPPED_EXPRESSIONS:
                dropped[DROPPED_EXPRESSIONS[expression]] += 1
                continue
            if expression not in AFFECTNET_TO_FER2013:
                raise DataFormatError(f"{where}: expression {expression} is outside AffectNet's 0-10.")
            images.append(_read_face(root / IMAGES_DIR / row[0], box, where))
            labels.append(AFFECTNET_TO_FER2013[expression])
            valence.append(row_valence)
            arousal.append(row_arousal)
            files.append(row[0])
            if limit is not None and len(labels) >= limit:
                break
    return AffectNet(
        images=np.array(images, dtype=np.uint8).reshape(-1, IMAGE_SIZE, IMAGE_SIZE),
        labels=np.array(labels, dtype=np.int64),
        valence=np.array(valence, dtype=np.float32),
        arousal=np.array(arousal, dtype=np.float32),
        files=np.array(files, dtype=str),
        dropped=dropped,
    )

