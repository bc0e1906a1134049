"""Load the original Kaggle FER2013 file (``emotion,pixels,Usage``) into arrays, validating every row.

The parser is vectorised: the pixel text of all rows is decoded with numpy in one pass, so the 301 MB CSV loads in
seconds, and a cached copy in ``data/processed/`` loads in well under a second. Every malformed input raises
:class:`~emotion.errors.DataFormatError` naming the file, the line number and the problem.
"""

from __future__ import annotations

import gzip
import hashlib
import json
import warnings
import zlib
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from emotion import CLASS_NAMES, SPLITS
from emotion.errors import DataFormatError, DataMissingError
from emotion.paths import PROCESSED_DIR, fer2013_csv

if TYPE_CHECKING:
    import pandas as pd

IMAGE_SIZE = 48
PIXELS_PER_IMAGE = IMAGE_SIZE * IMAGE_SIZE
HEADER = b"emotion,pixels,Usage"
KNOWN_SHA256 = "3b8d9617d1017f34733c8f2474d7784c563ce86c40a86ac12c2d37cc968f871b"
"""sha256 of the decompressed original Kaggle ``fer2013.csv`` (md5 ``f8428a1edbd21e88f42c73edd2a14f95``)."""
CACHE_FORMAT_VERSION = 1

OBTAIN_INSTRUCTIONS = f"""\
FER2013 is published on Kaggle with the challenge "Challenges in Representation Learning: Facial Expression
Recognition Challenge" (ICML 2013 workshop; Goodfellow et al.). Download the file fer2013.csv (inside
fer2013.tar.gz / the challenge's data page; 35,887 rows, 301,072,766 bytes, sha256 {KNOWN_SHA256})
and place it, plain or gzipped, at
    $EMOTION_DATA/fer2013/fer2013.csv    or    $EMOTION_DATA/fer2013/fer2013.csv.gz
(EMOTION_DATA defaults to data/raw in the project). Then run the command again."""


class ChecksumMismatchWarning(UserWarning):
    """The FER2013 file parsed cleanly but is not byte-identical to the original Kaggle file."""


@dataclass(frozen=True)
class Fer2013:
    """FER2013 in memory.

    Attributes:
        images: uint8 array (n, 48, 48), grayscale faces in file order.
        labels: int64 array (n,), emotion ids 0-6 indexing :data:`emotion.CLASS_NAMES`.
        usage: str array (n,), one of :data:`emotion.SPLITS` per row.
        sha256: sha256 of the decompressed CSV text.
        source: the file the arrays were read from.
    """

    images: np.ndarray
    labels: np.ndarray
    usage: np.ndarray
    sha256: str
    source: Path

    @property
    def is_original(self) -> bool:
        """True when the file is byte-identical to the original Kaggle ``fer2013.csv``."""
        return self.sha256 == KNOWN_SHA256

    def split(self, name: str) -> tuple[np.ndarray, np.ndarray]:
        """Return ``(images, labels)`` of one split: uint8 (m, 48, 48) and int64 (m,).

        Raises:
            ValueError: ``name`` is not one of ``Training``, ``PublicTest``, ``PrivateTest``.
        """
        if name not in SPLITS:
            raise ValueError(f"unknown split {name!r}: use one of {', '.join(SPLITS)}")
        mask = self.usage == name
        return self.images[mask], self.labels[mask]

    def indices(self, name: str) -> np.ndarray:
        """Return the row indices (int64, file order) of one split; raises ValueError for an unknown split."""
        if name not in SPLITS:
            raise ValueError(f"unknown split {name!r}: use one of {', '.join(SPLITS)}")
        return np.flatnonzero(self.usage == name)


def read_csv_bytes(path: Path) -> bytes:
    """Return the text of ``path`` as bytes, decompressing it when the name ends in ``.gz``.

    Raises:
        DataMissingError: the file does not exist (the message says how to obtain FER2013).
        DataFormatError: the gzip stream is truncated or corrupt.
    """
    path = Path(path)
    if not path.is_file():
        raise DataMissingError(f"FER2013 not found at {path}.\n{OBTAIN_INSTRUCTIONS}")
    raw = path.read_bytes()
    if path.suffix != ".gz":
        return raw
    try:
        return gzip.decompress(raw)
    except (EOFError, OSError, zlib.error) as error:
        raise DataFormatError(
            f"{path}: the gzip file is truncated or corrupt ({error}). Download it again, or decompress a good "
            f"copy to {path.with_suffix('')}."
        ) from error


def parse_fer2013(text: bytes, source: Path | str = "<memory>") -> Fer2013:
    """Parse the text of a FER2013 CSV and validate every row.

    Args:
        text: the whole CSV as bytes (header ``emotion,pixels,Usage``; LF or CRLF line endings).
        source: the file name used in error messages.

    Returns:
        :class:`Fer2013` with images uint8 (n, 48, 48), labels int64 (n,), usage str (n,).

    Raises:
        DataFormatError: wrong header, no rows, a row without three fields, a label outside 0-6, an unknown Usage,
            a row whose pixel count is not 2,304, a non-numeric pixel or one outside 0-255. The message gives the
            1-based line number in the file.
    """
    sha256 = hashlib.sha256(text).hexdigest()
    lines = text.split(b"\n")
    if lines and lines[-1] == b"":
        lines.pop()
    if not lines or lines[0].rstrip(b"\r") != HEADER:
        found = lines[0][:80].decode("utf-8", "replace") if lines else "an empty file"
        raise DataFormatError(
            f"{source}, line 1: expected the header 'emotion,pixels,Usage', found {found!r}. "
            "Is this the original Kaggle fer2013.csv?"
        )
    rows = lines[1:]
    if not rows:
        raise DataFormatError(f"{source}: the file has a header but no rows.")

    usage_codes = {name.encode(): name for name in SPLITS}
    labels = np.empty(len(rows), dtype=np.int64)
    usage = np.empty(len(rows), dtype=object)
    pixel_fields: list[bytes] = []
    for index, line in enumerate(rows):
        line_number = index + 2
        fields = line.rstrip(b"\r").split(b",")
        if len(fields) != 3:
            raise DataFormatError(
                f"{source}, line {line_number}: expected 3 comma-separated fields (emotion,pixels,Usage), "
                f"found {len(fields)}."
            )
        label_text, pixels, usage_text = fields
        if label_text.strip() not in {str(i).encode() for i in range(len(CLASS_NAMES))}:
            raise DataFormatError(
                f"{source}, line {line_number}: emotion label {label_text[:20].decode('utf-8', 'replace')!r} "
                f"is not an integer in 0-{len(CLASS_NAMES) - 1}."
            )
        labels[index] = int(label_text)
        split = usage_codes.get(usage_text.strip())
        if split is None:
            raise DataFormatError(
                f"{source}, line {line_number}: unknown Usage {usage_text[:30].decode('utf-8', 'replace')!r}; "
                f"expected one of {', '.join(SPLITS)}."
            )
        usage[index] = split
        pixels = pixels.strip()
        count = pixels.count(b" ") + 1 if pixels else 0
        if count != PIXELS_PER_IMAGE:
            raise DataFormatError(
                f"{source}, line {line_number}: {count} pixel values, expected {PIXELS_PER_IMAGE} (48x48)."
            )
        pixel_fields.append(pixels)

    images = _decode_pixels(pixel_fields, source)
    return Fer2013(
        images=images.reshape(len(rows), IMAGE_SIZE, IMAGE_SIZE),
        labels=labels,
        usage=usage.astype(str),
        sha256=sha256,
        source=Path(str(source)),
    )


def _decode_pixels(pixel_fields: list[bytes], source: Path | str, chunk_rows: int = 2048) -> np.ndarray:
    """Decode the space-separated decimal pixels of every row, vectorised over chunks of rows.

    Each row already holds exactly 2,304 space-separated tokens. Returns uint8 (n * 2304,). Raises
    DataFormatError naming the line of the first non-numeric, empty or out-of-range value.
    """
    decoded = np.empty(len(pixel_fields) * PIXELS_PER_IMAGE, dtype=np.uint8)
    for first in range(0, len(pixel_fields), chunk_rows):
        chunk = pixel_fields[first : first + chunk_rows]
        values = _decode_chunk(chunk, source, first_line=first + 2)
        decoded[first * PIXELS_PER_IMAGE : (first + len(chunk)) * PIXELS_PER_IMAGE] = values
    return decoded


def _decode_chunk(pixel_fields: list[bytes], source: Path | str, first_line: int) -> np.ndarray:
    joined = b" ".join(pixel_fields)
    buffer = np.frombuffer(joined, dtype=np.uint8)
    is_space = buffer == ord(" ")
    is_digit = (buffer >= ord("0")) & (buffer <= ord("9"))

    bad = np.flatnonzero(~(is_space | is_digit))
    if bad.size:
        position = int(bad[0])
        row_starts = np.concatenate([[0], np.cumsum([len(field) + 1 for field in pixel_fields])[:-1]])
        row = int(np.searchsorted(row_starts, position, side="right")) - 1
        character = joined[position : position + 1].decode("latin-1")
        raise DataFormatError(
            f"{source}, line {first_line + row}: pixel values must be integers 0-255, found the character "
            f"{character!r}."
        )

    separators = np.flatnonzero(is_space)
    ends = np.append(separators, buffer.size)
    starts = np.insert(separators + 1, 0, 0)
    lengths = ends - starts
    values = np.zeros(ends.size, dtype=np.int32)
    for power in range(3):
        present = lengths > power
        digit_index = np.where(present, ends - 1 - power, 0)
        values += np.where(present, buffer[digit_index].astype(np.int32) - ord("0"), 0) * 10**power

    invalid = (lengths == 0) | (lengths > 3) | (values > 255)
    if invalid.any():
        token = int(np.flatnonzero(invalid)[0])
        text = joined[starts[token] : ends[token]].decode("latin-1")
        problem = "an empty value (two spaces in a row)" if not text else f"the value {text!r}"
        raise DataFormatError(
            f"{source}, line {first_line + token // PIXELS_PER_IMAGE}, pixel {token % PIXELS_PER_IMAGE + 1}: "
            f"{problem} is not an integer in 0-255."
        )
    return values.astype(np.uint8)


def load_fer2013(
    path: Path | str | None = None,
    *,
    cache_dir: Path | str | None = PROCESSED_DIR,
    allow_modified: bool = True,
) -> Fer2013:
    """Load FER2013 from ``path`` (default: the file under ``$EMOTION_DATA``), through a cache when possible.

    The first load parses and validates the CSV; the arrays are then cached as ``.npz`` in ``cache_dir``, keyed
    by the file's path, size and modification time, so later loads skip parsing. ``cache_dir=None`` disables it.

    Args:
        path: ``fer2013.csv`` or ``fer2013.csv.gz``.
        cache_dir: folder for the cache (``data/processed`` by default).
        allow_modified: when the file parses but differs from the original Kaggle file, warn
            (:class:`ChecksumMismatchWarning`) and go on if True; raise DataFormatError if False.

    Raises:
        DataMissingError: the file is absent (the message says where FER2013 is published and where to put it).
        DataFormatError: the file is malformed (file, line and problem in the message), or it differs from the
            original and ``allow_modified`` is False.
    """
    path = Path(path) if path is not None else fer2013_csv()
    if not path.is_file():
        raise DataMissingError(f"FER2013 not found at {path}.\n{OBTAIN_INSTRUCTIONS}")
    cache_file = _cache_file(path, Path(cache_dir)) if cache_dir is not None else None
    data = _read_cache(cache_file, path) if cache_file is not None else None
    if data is None:
        data = parse_fer2013(read_csv_bytes(path), source=path)
        if cache_file is not None:
            _write_cache(cache_file, data)
    if not data.is_original:
        message = (
            f"{path} is not byte-identical to the original Kaggle fer2013.csv (sha256 {data.sha256}, expected "
            f"{KNOWN_SHA256}). Results will not be comparable with the study's."
        )
        if not allow_modified:
            raise DataFormatError(message
                                  + " Obtain the original file, or pass allow_modified=True for your own variant.")
        warnings.warn(message, ChecksumMismatchWarning, stacklevel=2)
    return data


def _cache_file(path: Path, cache_dir: Path) -> Path:
    stat = path.stat()
    key = f"{path.resolve()}|{stat.st_size}|{stat.st_mtime_ns}|v{CACHE_FORMAT_VERSION}"
    return cache_dir / f"fer2013-{hashlib.sha256(key.encode()).hexdigest()[:16]}.npz"


def _read_cache(cache_file: Path, source: Path) -> Fer2013 | None:
    if not cache_file.is_file():
        return None
    try:
        with np.load(cache_file, allow_pickle=False) as cached:
            meta = json.loads(str(cached["meta"]))
            return Fer2013(
                images=cached["images"],
                labels=cached["labels"],
                usage=cached["usage"],
                sha256=meta["sha256"],
                source=source,
            )
    except (OSError, ValueError, KeyError, zlib.error):
        # A damaged cache is not an error: it is rebuilt from the CSV.
        return None


def _write_cache(cache_file: Path, data: Fer2013) -> None:
    """Write the cache atomically (a temporary file renamed into place), so a killed run leaves no half file."""
    cache_file.parent.mkdir(parents=True, exist_ok=True)
    temporary = cache_file.with_name(cache_file.name + ".partial.npz")
    np.savez(
        temporary,
        images=data.images,
        labels=data.labels,
        usage=data.usage.astype("U11"),
        meta=np.array(json.dumps({"sha256": data.sha256})),
    )
    temporary.replace(cache_file)


def class_counts(labels: np.ndarray, usage: np.ndarray) -> "pd.DataFrame":
    """Return a table of image counts: one row per class name, one column per split plus ``total``.

    Args:
        labels: int array (n,) of class ids 0-6.
        usage: str array (n,) of split names.
    """
    import pandas as pd

    table = pd.crosstab(
        pd.Categorical(np.asarray(CLASS_NAMES)[labels], categories=CLASS_NAMES),
        pd.Categorical(usage, categories=SPLITS),
        dropna=False,
    )
    table.index.name, table.columns.name = "class", None
    table = table.astype(int)
    table["total"] = table.sum(axis=1)
    return table


def pixel_statistics(images: np.ndarray, labels: np.ndarray) -> "pd.DataFrame":
    """Return per-class pixel statistics: mean and std of the pixel values, mean per-image contrast (std) and
    the share of very dark (mean < 30) or very bright (mean > 225) images.

    Args:
        images: uint8 array (n, 48, 48).
        labels: int array (n,).
    """
    import pandas as pd

    flat = images.reshape(len(images), -1).astype(np.float32)
    image_mean = flat.mean(axis=1)
    image_std = flat.std(axis=1)
    rows = []
    for class_id, name in enumerate(CLASS_NAMES):
        mask = labels == class_id
        rows.append(
            {
                "class": name,
                "images": int(mask.sum()),
                "pixel_mean": float(flat[mask].mean()),
                "pixel_std": float(flat[mask].std()),
                "image_contrast_mean": float(image_std[mask].mean()),
                "share_dark": float((image_mean[mask] < 30).mean()),
                "share_bright": float((image_mean[mask] > 225).mean()),
            }
        )
    return pd.DataFrame(rows).set_index("class")
