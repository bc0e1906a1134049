"""Where things live: the data root (``EMOTION_DATA``), the project's folders, and the FER2013 file."""

from __future__ import annotations

import os
from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parents[1]
"""The repository root (the package is installed in editable mode from it)."""

DATA_ENV_VAR = "EMOTION_DATA"
DEFAULT_DATA_ROOT = PROJECT_ROOT / "data" / "raw"
PROCESSED_DIR = PROJECT_ROOT / "data" / "processed"
FIGURES_DIR = PROJECT_ROOT / "figures"
RESULTS_DIR = PROJECT_ROOT / "results"
MODELS_DIR = PROJECT_ROOT / "models"
NOTEBOOKS_DIR = PROJECT_ROOT / "notebooks"
BUILD_DIR = PROJECT_ROOT / "build"


def data_root() -> Path:
    """Return the data root: ``$EMOTION_DATA`` when set (relative paths resolve from the current directory),
    else ``data/raw`` in the project. The folder is laid out like ``../shared/data`` (see README, "Data")."""
    value = os.environ.get(DATA_ENV_VAR, "").strip()
    return Path(value).expanduser().resolve() if value else DEFAULT_DATA_ROOT


def fer2013_csv(root: Path | None = None) -> Path:
    """Return the FER2013 CSV under ``root`` (default :func:`data_root`): ``fer2013/fer2013.csv.gz`` if present,
    else ``fer2013/fer2013.csv``. The returned path may not exist; :mod:`emotion.data.fer2013` says what to do then."""
    folder = (root or data_root()) / "fer2013"
    gz = folder / "fer2013.csv.gz"
    return gz if gz.exists() else folder / "fer2013.csv"


def ferplus_csv(root: Path | None = None) -> Path:
    """Return the path of the FER+ votes file ``fer2013/fer2013new.csv`` under ``root`` (default :func:`data_root`)."""
    return (root or data_root()) / "fer2013" / "fer2013new.csv"
