"""FER+ crowd votes (``fer2013new.csv``, Microsoft): read them and turn them into majority-vote labels.

The file has one row per FER2013 row, **in the same order**: join on row position, never on ``Image name`` (the
names are not row indices, 173 are empty and four occur twice; see ``fer2013/SOURCE.md``).

Majority rule (FER+'s own "majority" mode, Barsoum et al. 2016, ``ferplus.py``): a single vote for an emotion is
treated as noise and removed; the label is the emotion holding **more than half** of the remaining votes; if no
emotion does (a tie or a spread), or the winner is ``unknown`` or ``NF`` (not a face), the row has no label.
``contempt`` has no FER2013 counterpart, so for comparison with FER2013 it also maps to "no label".
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from emotion import CLASS_NAMES, SPLITS
from emotion.errors import DataFormatError, DataMissingError
from emotion.paths import ferplus_csv

VOTE_COLUMNS = ("neutral", "happiness", "surprise", "sadness", "anger", "disgust", "fear", "contempt", "unknown", "NF")
HEADER = ("Usage", "Image name", *VOTE_COLUMNS)
FERPLUS_TO_FER2013 = {
    "anger": CLASS_NAMES.index("angry"),
    "disgust": CLASS_NAMES.index("disgust"),
    "fear": CLASS_NAMES.index("fear"),
    "happiness": CLASS_NAMES.index("happy"),
    "sadness": CLASS_NAMES.index("sad"),
    "surprise": CLASS_NAMES.index("surprise"),
    "neutral": CLASS_NAMES.index("neutral"),
}
NO_LABEL = -1
OBTAIN_INSTRUCTIONS = """\
FER+ votes are published by Microsoft in the GitHub repository microsoft/FERPlus as fer2013new.csv (MIT licence;
1,602,762 bytes, sha256 9206e20d62f56475939f516847d61753e4860caeac9718b560129541b776fc2c). Place it at
$EMOTION_DATA/fer2013/fer2013new.csv, beside fer2013.csv."""


def load_ferplus_votes(path: Path | str | None = None, expected_rows: int | None = None) -> pd.DataFrame:
    """Read ``fer2013new.csv``.

    Args:
        path: the file (default ``$EMOTION_DATA/fer2013/fer2013new.csv``).
        expected_rows: when given (the FER2013 row count), the number of rows must match it.

    Returns:
        DataFrame with columns ``Usage``, ``Image name`` and the ten vote columns (int64 counts), one row per
        FER2013 row in file order.

    Raises:
        DataMissingError: the file is absent (the message says where to get it).
        DataFormatError: wrong header, non-integer or negative votes, an unknown Usage, or a row count that does
            not match ``expected_rows``.
    """
    path = Path(path) if path is not None else ferplus_csv()
    if not path.is_file():
        raise DataMissingError(f"FER+ votes not found at {path}.\n{OBTAIN_INSTRUCTIONS}")
    table = pd.read_csv(path, dtype=str, keep_default_na=False)
    if tuple(table.columns) != HEADER:
        raise DataFormatError(f"{path}, line 1: expected the header {','.join(HEADER)!r}, "
                              f"found {','.join(table.columns)!r}.")
    for column in VOTE_COLUMNS:
        numeric = pd.to_numeric(table[column], errors="coerce")
        bad = numeric.isna() | (numeric < 0) | (numeric != numeric.round())
        if bad.any():
            row = int(np.flatnonzero(bad.to_numpy())[0])
            raise DataFormatError(
                f"{path}, line {row + 2}: the {column!r} vote count {table[column].iloc[row]!r} is not a "
                "non-negative integer."
            )
        table[column] = numeric.astype(np.int64)
    unknown_usage = ~table["Usage"].isin(SPLITS)
    if unknown_usage.any():
        row = int(np.flatnonzero(unknown_usage.to_numpy())[0])
        raise DataFormatError(f"{path}, line {row + 2}: unknown Usage {table['Usage'].iloc[row]!r}.")
    if expected_rows is not None and len(table) != expected_rows:
        raise DataFormatError(
            f"{path}: {len(table)} rows, but FER2013 has {expected_rows}. FER+ is joined on row position, so the "
            "two files must have the same rows in the same order."
        )
    return table


def majority_labels(votes: np.ndarray) -> np.ndarray:
    """Apply FER+'s majority rule and map the winners onto FER2013's seven classes.

    Args:
        votes: int array (n, 10) of vote counts in the order of :data:`VOTE_COLUMNS`.

    Returns:
        int64 array (n,): a FER2013 class id 0-6, or :data:`NO_LABEL` (-1) when there is no majority, or the
        majority is contempt, unknown or not-a-face.

    Raises:
        ValueError: ``votes`` is not two-dimensional with ten columns, or holds negative counts.
    """
    votes = np.asarray(votes)
    if votes.ndim != 2 or votes.shape[1] != len(VOTE_COLUMNS):
        raise ValueError(f"votes must have shape (n, {len(VOTE_COLUMNS)}), got {votes.shape}")
    if (votes < 0).any():
        raise ValueError("vote counts must be non-negative")
    kept = np.where(votes > 1, votes, 0)
    totals = kept.sum(axis=1)
    winner = kept.argmax(axis=1)
    has_majority = kept.max(axis=1) > 0.5 * totals
    to_fer = np.full(len(VOTE_COLUMNS), NO_LABEL, dtype=np.int64)
    for name, fer_id in FERPLUS_TO_FER2013.items():
        to_fer[VOTE_COLUMNS.index(name)] = fer_id
    return np.where(has_majority & (totals > 0), to_fer[winner], NO_LABEL)


def agreement_table(fer_labels: np.ndarray, ferplus_labels: np.ndarray) -> pd.DataFrame:
    """Cross-tabulate FER2013 labels (rows) against FER+ majority labels (columns, plus ``no majority``).

    Args:
        fer_labels: int array (n,) of FER2013 ids 0-6.
        ferplus_labels: int array (n,) from :func:`majority_labels` (-1 = no label).

    Returns:
        int DataFrame (7, 8) of counts, class names on both axes.
    """
    columns = [*CLASS_NAMES, "no majority"]
    fer_names = pd.Categorical(np.asarray(CLASS_NAMES)[fer_labels], categories=CLASS_NAMES)
    plus_names = pd.Categorical(
        np.where(ferplus_labels >= 0, np.asarray(CLASS_NAMES)[np.clip(ferplus_labels, 0, None)], "no majority"),
        categories=columns,
    )
    table = pd.crosstab(fer_names, plus_names, dropna=False).astype(int)
    table.index.name, table.columns.name = "FER2013 label", "FER+ majority"
    return table
