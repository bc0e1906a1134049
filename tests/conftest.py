"""Shared fixtures: small FER2013-format files the tests write, and the real data when EMOTION_DATA points at it."""

from __future__ import annotations

import gzip
import os
from pathlib import Path

import numpy as np
import pytest

# The package first: importing it turns TensorFlow's oneDNN kernels on, which only works before TensorFlow loads (a test
# module that imports keras first would run slower and warn).
import emotion  # noqa: F401

HEADER = "emotion,pixels,Usage"


def fer_row(label: int, pixels: np.ndarray, usage: str) -> str:
    """One CSV line of FER2013 format for a uint8 (48, 48) image."""
    return f"{label},{' '.join(str(int(value)) for value in pixels.ravel())},{usage}"


@pytest.fixture
def small_fer(tmp_path: Path):
    """A valid 9-row FER2013 CSV (3 rows per split) with known pixels; returns (path, images, labels, usage)."""
    rng = np.random.default_rng(0)
    images = rng.integers(0, 256, size=(9, 48, 48), dtype=np.uint8)
    images[0, 0, 0], images[0, 0, 1] = 0, 255  # make sure the extremes parse
    labels = np.array([0, 1, 2, 3, 4, 5, 6, 0, 3])
    usage = np.array(["Training"] * 3 + ["PublicTest"] * 3 + ["PrivateTest"] * 3)
    lines = [HEADER] + [fer_row(label, image, split) for label, image, split in zip(labels, images, usage)]
    path = tmp_path / "fer2013.csv"
    path.write_text("\n".join(lines) + "\n")
    return path, images, labels, usage


def write_fer_lines(path: Path, lines: list[str], compress: bool = False) -> Path:
    text = ("\n".join(lines) + "\n").encode()
    if compress:
        path = path.with_name(path.name + ".gz") if not path.name.endswith(".gz") else path
        path.write_bytes(gzip.compress(text))
    else:
        path.write_bytes(text)
    return path


@pytest.fixture(scope="session")
def real_data_root() -> Path:
    """The real data root from EMOTION_DATA; skips (saying why) when it is not set or has no FER2013."""
    value = os.environ.get("EMOTION_DATA")
    if not value:
        pytest.skip("real-data test: set EMOTION_DATA to the data root (e.g. ../shared/data) to run it")
    root = Path(value).resolve()
    if not (root / "fer2013" / "fer2013.csv.gz").exists() and not (root / "fer2013" / "fer2013.csv").exists():
        pytest.skip(f"real-data test: EMOTION_DATA={root} has no fer2013/fer2013.csv(.gz)")
    return root


@pytest.fixture(scope="session")
def real_fer(real_data_root: Path):
    """FER2013 loaded from the real data (cached in data/processed after the first load)."""
    from emotion.data.fer2013 import load_fer2013
    from emotion.paths import fer2013_csv

    return load_fer2013(fer2013_csv(real_data_root), allow_modified=False)


@pytest.fixture(scope="session")
def tiny_model(tmp_path_factory):
    """A saved 7-way softmax on the flattened pixels: a real .keras classifier that loads in milliseconds."""
    import keras

    keras.utils.set_random_seed(0)
    inputs = keras.Input((48, 48, 1))
    flat = keras.layers.Flatten()(keras.layers.Rescaling(1 / 255)(inputs))
    outputs = keras.layers.Dense(7, activation="softmax")(flat)
    path = tmp_path_factory.mktemp("model") / "tiny.keras"
    keras.Model(inputs, outputs).save(path)
    return path
