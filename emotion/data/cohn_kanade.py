"""The Cohn-Kanade CK+48 crops (posed expressions, 48x48) as an out-of-distribution test set for FER2013 models.

The data itself is read from $EMOTION_DATA/ckplus48; nothing of it is in the repository."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from emotion import CLASS_NAMES
from emotion.data.image_files import ImageFileError, read_grayscale_file
from emotion.errors import DataFormatError, DataMissingError
from emotion.paths import data_root

CKPLUS_TO_FER2013 = {
    "anger": "angry",
    "disgust": "disgust",
    "fear": "fear",
    "happy": "happy",
    "sadness": "sad",
    "surprise": "surprise",
}
"""CK+ label → FER2013 class. ``contempt`` has no FER2013 class and is left out; CK+48 has no neutral images."""
OBTAIN_INSTRUCTIONS = (
    "CK+ (Lucey et al., 2010) is released by its authors on request for non-commercial research. The 48x48 'CK+48' "
    "crops (last three frames of each of the 327 labelled sequences) go in $EMOTION_DATA/ckplus48/ as "
    "images/<label>/<file>.png with labels.csv (columns path,label,subject)."
)


@dataclass(frozen=True)
class CkPlus:
    """CK+48 mapped to FER2013 classes.

    Attributes:
        images: uint8 (n, 48, 48).
        labels: int64 (n,), FER2013 class ids (contempt rows are dropped).
        subjects: str (n,), the CK+ subject id of each image (``S010``...).
        paths: str (n,), paths relative to the CK+48 folder.
        dropped: dict of CK+ label → images left out (contempt).
    """

    images: np.ndarray
    labels: np.ndarray
    subjects: np.ndarray
    paths: np.ndarray
    dropped: dict[str, int]


def load_ckplus(folder: Path | str | None = None) -> CkPlus:
    """Load ``labels.csv`` and the PNGs it lists, mapped onto FER2013's classes.

    Raises:
        DataMissingError: the folder or ``labels.csv`` is absent (the message says how to obtain CK+).
        DataFormatError: a wrong header, an unknown label, a missing or unreadable image, or one that is not 48x48
            grayscale (the message names the file and the line of labels.csv).
    """
    folder = Path(folder) if folder is not None else data_root() / "ckplus48"
    table_path = folder / "labels.csv"
    if not table_path.is_file():
        raise DataMissingError(f"CK+48 not found: {table_path} does not exist. {OBTAIN_INSTRUCTIONS}")
    table = pd.read_csv(table_path, dtype=str, keep_default_na=False)
    if list(table.columns) != ["path", "label", "subject"]:
        raise DataFormatError(f"{table_path}, line 1: expected the header 'path,label,subject', found "
                              f"{','.join(table.columns)!r}.")
    known = set(CKPLUS_TO_FER2013) | {"contempt"}
    images, labels, keep = [], [], []
    for row, (relative, label) in enumerate(zip(table["path"], table["label"])):
        if label not in known:
            raise DataFormatError(f"{table_path}, line {row + 2}: unknown label {label!r}; expected one of "
                                  f"{sorted(known)}.")
        if label == "contempt":
            continue
        try:
            image = read_grayscale_file(folder / relative)
        except ImageFileError as error:
            raise DataFormatError(f"{table_path}, line {row + 2}: image {folder / relative} is missing or not a "
                                  f"readable image ({error})") from error
        if image.shape != (48, 48):
            raise DataFormatError(f"{folder / relative}: expected a 48x48 8-bit grayscale image, got shape "
                                  f"{image.shape}.")
        images.append(image)
        labels.append(CLASS_NAMES.index(CKPLUS_TO_FER2013[label]))
        keep.append(row)
    kept = table.iloc[keep]
    return CkPlus(
        images=np.stack(images) if images else np.zeros((0, 48, 48), np.uint8),
        labels=np.array(labels, dtype=np.int64),
        subjects=kept["subject"].to_numpy(dtype=str),
        paths=kept["path"].to_numpy(dtype=str),
        dropped={"contempt": int((table["label"] == "contempt").sum())},
    )
