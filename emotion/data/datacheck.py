"""Check that the data root holds what the study reads, and say exactly how to obtain what is missing."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from emotion.data import ferplus
from emotion.errors import DataFormatError, DataMissingError
from emotion.data.fer2013 import OBTAIN_INSTRUCTIONS as FER2013_INSTRUCTIONS
from emotion.data.fer2013 import load_fer2013
from emotion.paths import DATA_ENV_VAR, fer2013_csv, ferplus_csv

OPTIONAL_ITEMS = {
    "faces (WIDER FACE val subset)": (
        "faces/annotations.csv",
        "WIDER FACE (Yang et al., CVPR 2016), validation split: images from the WIDER FACE project page, ground "
        "truth wider_face_val.mat and wider_{easy,medium,hard}_val.mat. Lay out $EMOTION_DATA/faces/ as described in "
        "README 'Data' (images/, annotations.csv, images.csv, widerface_eval/). Needed by notebook 02.",
    ),
    "ckplus48 (CK+ 48x48 crops)": (
        "ckplus48/labels.csv",
        "CK+ (Lucey et al., 2010), released by its authors on request for non-commercial research; the 48x48 'CK+48' "
        "crops are the last three frames of each labelled sequence. Put images/<class>/*.png and labels.csv "
        "(path,label,subject) under $EMOTION_DATA/ckplus48/. Needed by notebook 05.",
    ),
    "models/face_detection_yunet_2023mar.onnx (YuNet)": (
        "models/face_detection_yunet_2023mar.onnx",
        "OpenCV Zoo, models/face_detection_yunet/face_detection_yunet_2023mar.onnx (232,589 bytes, sha256 "
        "8f2383e4dd3cfbb4553ea8718107fc0423210dc964f9f4280604804ed2552fa4). Without it the YuNet detector is skipped.",
    ),
}


@dataclass(frozen=True)
class CheckItem:
    """One line of the data check: what, where, whether it is fine, and what to do otherwise."""

    name: str
    path: Path
    ok: bool
    required: bool
    detail: str


def check_data(root: Path) -> list[CheckItem]:
    """Check FER2013 (required; parsed and checksum-verified), FER+ votes (required) and the optional folders.

    Returns one :class:`CheckItem` per item; never raises for missing or malformed data (that is reported).
    """
    items = []
    fer_path = fer2013_csv(root)
    rows = None
    try:
        data = load_fer2013(fer_path, allow_modified=True)
        rows = len(data.labels)
        verdict = "original Kaggle file (sha256 verified)" if data.is_original else (
            f"parses, but differs from the original (sha256 {data.sha256}); results will not match the study's"
        )
        items.append(CheckItem("FER2013", fer_path, True, True, f"{rows:,} rows; {verdict}"))
    except DataMissingError:
        items.append(CheckItem("FER2013", fer_path, False, True, "missing.\n" + FER2013_INSTRUCTIONS))
    except DataFormatError as error:
        items.append(CheckItem("FER2013", fer_path, False, True, f"malformed: {error}"))

    plus_path = ferplus_csv(root)
    try:
        votes = ferplus.load_ferplus_votes(plus_path, expected_rows=rows)
        items.append(CheckItem("FER+ votes", plus_path, True, True, f"{len(votes):,} rows"))
    except DataMissingError:
        items.append(CheckItem("FER+ votes", plus_path, False, True, "missing.\n" + ferplus.OBTAIN_INSTRUCTIONS))
    except DataFormatError as error:
        items.append(CheckItem("FER+ votes", plus_path, False, True, f"malformed: {error}"))

    for name, (relative, instructions) in OPTIONAL_ITEMS.items():
        path = root / relative
        ok = path.exists()
        items.append(CheckItem(name, path, ok, False, "present" if ok else f"missing (optional). {instructions}"))
    return items


def format_report(root: Path, items: list[CheckItem]) -> str:
    """Return the human-readable report of :func:`check_data`."""
    lines = [f"Data root: {root}  (set {DATA_ENV_VAR} to change it)"]
    for item in items:
        mark = "ok " if item.ok else ("MISSING" if item.required else "skip")
        lines.append(f"[{mark}] {item.name}: {item.path}\n        {item.detail}")
    return "\n".join(lines)
