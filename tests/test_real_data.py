"""Facts about the real data, asserted when EMOTION_DATA points at it (CI always does)."""

from __future__ import annotations

import numpy as np
import pytest

from emotion import CLASS_NAMES
from emotion.data.fer2013 import KNOWN_SHA256
from emotion.data.ferplus import VOTE_COLUMNS, load_ferplus_votes, majority_labels
from emotion.data.leakage import find_duplicates
from emotion.paths import ferplus_csv

SPLIT_COUNTS = {"Training": 28_709, "PublicTest": 3_589, "PrivateTest": 3_589}
CLASS_COUNTS = {  # class: (Training, PublicTest, PrivateTest), from fer2013/SOURCE.md
    "angry": (3995, 467, 491),
    "disgust": (436, 56, 55),
    "fear": (4097, 496, 528),
    "happy": (7215, 895, 879),
    "sad": (4830, 653, 594),
    "surprise": (3171, 415, 416),
    "neutral": (4965, 607, 626),
}


def test_checksum_is_the_original_kaggle_file(real_fer):
    assert real_fer.sha256 == KNOWN_SHA256
    assert real_fer.images.shape == (35_887, 48, 48)
    assert abs(float(real_fer.images.mean()) - 129.386) < 0.001


def test_counts_per_split_and_class(real_fer):
    for split, expected in SPLIT_COUNTS.items():
        assert int((real_fer.usage == split).sum()) == expected
    for class_id, name in enumerate(CLASS_NAMES):
        per_split = tuple(int(((real_fer.labels == class_id) & (real_fer.usage == s)).sum()) for s in SPLIT_COUNTS)
        assert per_split == CLASS_COUNTS[name], name


def test_duplicate_and_leakage_numbers(real_fer):
    summary = find_duplicates(real_fer.images, real_fer.labels, real_fer.usage).summary()
    assert summary == {
        "distinct_images": 34_034,
        "duplicate_groups": 1_516,
        "duplicate_rows": 3_369,
        "cross_split_groups": 557,
        "cross_split_rows": 1_323,
        "conflicting_label_groups": 57,
        "conflicting_label_rows": 160,
        "blank_images": 12,
    }


def test_ferplus_joins_on_row_position(real_data_root, real_fer):
    table = load_ferplus_votes(ferplus_csv(real_data_root), expected_rows=len(real_fer.labels))
    np.testing.assert_array_equal(table["Usage"].to_numpy(), real_fer.usage)
    assert (table["Image name"] == "").sum() == 173  # SOURCE.md: 173 rows without an image name
    labels = majority_labels(table[list(VOTE_COLUMNS)].to_numpy())
    labelled = labels >= 0
    agreement = float((labels[labelled] == real_fer.labels[labelled]).mean())
    # FER+ relabelled FER2013 for a reason: the two agree on about two thirds of the images with a FER+ majority
    # (the figure notebook 01 reports as agreement_where_labelled).
    assert agreement == pytest.approx(0.67870, abs=5e-5)
