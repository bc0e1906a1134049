"""Exact-duplicate and split-leakage report for an image collection such as FER2013."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

import numpy as np
import pandas as pd


@dataclass(frozen=True)
class DuplicateReport:
    """What exact duplicates a collection holds.

    Attributes:
        groups: one row per group of byte-identical images with two or more members: ``group`` (id), ``rows``
            (tuple of row indices), ``size``, ``splits`` (sorted tuple of the splits it spans), ``labels`` (sorted
            tuple of distinct labels), ``cross_split`` and ``conflicting`` (bool).
        distinct_images: number of distinct images.
        blank_rows: int64 array of rows whose pixels are all zero.
    """

    groups: pd.DataFrame
    distinct_images: int
    blank_rows: np.ndarray

    def summary(self) -> dict[str, int]:
        """Return the headline counts as a flat dict of ints."""
        groups = self.groups
        cross = groups[groups["cross_split"]]
        conflicting = groups[groups["conflicting"]]
        return {
            "distinct_images": int(self.distinct_images),
            "duplicate_groups": int(len(groups)),
            "duplicate_rows": int(groups["size"].sum()),
            "cross_split_groups": int(len(cross)),
            "cross_split_rows": int(cross["size"].sum()),
            "conflicting_label_groups": int(len(conflicting)),
            "conflicting_label_rows": int(conflicting["size"].sum()),
            "blank_images": int(self.blank_rows.size),
        }


def find_duplicates(images: np.ndarray, labels: np.ndarray, usage: np.ndarray) -> DuplicateReport:
    """Group byte-identical images and report which groups span splits or carry conflicting labels.

    Args:
        images: uint8 array (n, h, w).
        labels: int array (n,).
        usage: str array (n,), the split of each row.

    Raises:
        ValueError: the three arrays do not have the same length, or ``images`` is not uint8 (n, h, w).
    """
    if images.ndim != 3 or images.dtype != np.uint8:
        raise ValueError(f"images must be a uint8 array (n, h, w), got {images.dtype} {images.shape}")
    if not len(images) == len(labels) == len(usage):
        raise ValueError(f"images, labels and usage differ in length: {len(images)}, {len(labels)}, {len(usage)}")
    flat = np.ascontiguousarray(images.reshape(len(images), -1))
    digests = [hashlib.blake2b(row.tobytes(), digest_size=16).digest() for row in flat]
    frame = pd.DataFrame({"digest": digests, "label": np.asarray(labels), "usage": np.asarray(usage)})
    frame["row"] = np.arange(len(frame))
    sizes = frame.groupby("digest", sort=False)["row"].transform("size")
    repeated = frame[sizes > 1]
    records = []
    for group_id, (_, members) in enumerate(repeated.groupby("digest", sort=False)):
        splits = tuple(sorted(set(members["usage"])))
        distinct_labels = tuple(sorted(int(label) for label in set(members["label"])))
        records.append(
            {
                "group": group_id,
                "rows": tuple(int(row) for row in members["row"]),
                "size": len(members),
                "splits": splits,
                "labels": distinct_labels,
                "cross_split": len(splits) > 1,
                "conflicting": len(distinct_labels) > 1,
            }
        )
    columns = ["group", "rows", "size", "splits", "labels", "cross_split", "conflicting"]
    groups = pd.DataFrame.from_records(records, columns=columns)
    blank = np.flatnonzero(flat.max(axis=1) == 0)
    return DuplicateReport(groups=groups, distinct_images=int(frame["digest"].nunique()), blank_rows=blank)


def rows_with_copy_in(report: DuplicateReport, usage: np.ndarray, split: str, other: str) -> np.ndarray:
    """Return the rows of ``split`` whose exact image also occurs in ``other`` (e.g. PrivateTest rows that have a
    copy in Training): int64 array, sorted.

    Args:
        report: from :func:`find_duplicates` on the same collection.
        usage: str array (n,) of split names, as passed to :func:`find_duplicates`.
    """
    usage = np.asarray(usage)
    rows = [
        row
        for members, splits in zip(report.groups["rows"], report.groups["splits"])
        if split in splits and other in splits
        for row in members
        if usage[row] == split
    ]
    return np.array(sorted(rows), dtype=np.int64)
