"""FER+ majority rule and the exact-duplicate report, on inputs built here."""

from __future__ import annotations

import numpy as np
import pytest

from emotion import CLASS_NAMES
from emotion.data.ferplus import HEADER, NO_LABEL, VOTE_COLUMNS, agreement_table, load_ferplus_votes, majority_labels
from emotion.data.leakage import find_duplicates, rows_with_copy_in
from emotion.errors import DataFormatError, DataMissingError


def votes(**counts):
    row = np.zeros(len(VOTE_COLUMNS), dtype=np.int64)
    for name, value in counts.items():
        row[VOTE_COLUMNS.index(name)] = value
    return row


@pytest.mark.parametrize(
    ("row", "expected"),
    [
        (votes(happiness=10), CLASS_NAMES.index("happy")),
        (votes(anger=6, sadness=4), CLASS_NAMES.index("angry")),
        (votes(anger=5, sadness=5), NO_LABEL),  # a tie is no majority
        (votes(fear=4, surprise=3, neutral=3), NO_LABEL),  # 4 of 10 is not more than half
        # Single votes are dropped: 4 of the 7 left.
        (votes(fear=4, surprise=3, neutral=1, sadness=1, anger=1), CLASS_NAMES.index("fear")),
        (votes(contempt=8, neutral=2), NO_LABEL),  # contempt has no FER2013 class
        (votes(unknown=6, neutral=4), NO_LABEL),
        (votes(NF=10), NO_LABEL),
        (votes(neutral=1, happiness=1), NO_LABEL),  # only single votes: nothing left
        (votes(), NO_LABEL),
    ],
)
def test_majority_rule(row, expected):
    assert majority_labels(row[None, :])[0] == expected


def test_majority_rejects_wrong_shapes_and_negative_votes():
    with pytest.raises(ValueError, match="shape"):
        majority_labels(np.zeros((3, 8)))
    with pytest.raises(ValueError, match="non-negative"):
        majority_labels(-np.ones((1, 10)))


def write_votes(path, rows, header=HEADER):
    path.write_text(",".join(header) + "\n" + "\n".join(rows) + "\n")
    return path


def test_votes_file_is_read_and_validated(tmp_path):
    good = "Training,fer0000000.png," + ",".join(["1"] * 10)
    table = load_ferplus_votes(write_votes(tmp_path / "v.csv", [good, good.replace("fer0000000.png", "")]),
                               expected_rows=2)
    assert len(table) == 2 and table["neutral"].dtype == np.int64
    with pytest.raises(DataFormatError, match="line 1: expected the header"):
        load_ferplus_votes(write_votes(tmp_path / "h.csv", [good], header=HEADER[:-1]))
    with pytest.raises(DataFormatError, match=r"line 3: the 'neutral' vote count 'x'"):
        load_ferplus_votes(write_votes(tmp_path / "x.csv", [good, good.replace(".png,1", ".png,x")]))
    with pytest.raises(DataFormatError, match="line 2: unknown Usage 'Test'"):
        load_ferplus_votes(write_votes(tmp_path / "u.csv", [good.replace("Training", "Test")]))
    with pytest.raises(DataFormatError, match="1 rows, but FER2013 has 5"):
        load_ferplus_votes(write_votes(tmp_path / "n.csv", [good]), expected_rows=5)
    with pytest.raises(DataMissingError, match="microsoft/FERPlus"):
        load_ferplus_votes(tmp_path / "absent.csv")


def test_agreement_table_counts_every_row_once():
    fer = np.array([0, 0, 3, 6])
    plus = np.array([0, NO_LABEL, 3, 3])
    table = agreement_table(fer, plus)
    assert table.shape == (7, 8)
    assert table.to_numpy().sum() == 4
    assert table.loc["angry", "no majority"] == 1 and table.loc["neutral", "happy"] == 1


def test_duplicate_report_on_a_built_collection():
    rng = np.random.default_rng(1)
    images = rng.integers(1, 256, size=(8, 4, 4), dtype=np.uint8)
    images[3] = images[0]  # Training copy inside Training, same label
    images[5] = images[1]  # Training image repeated in PrivateTest with another label
    images[6] = 0  # blank
    images[7] = 0  # blank duplicate in PublicTest
    labels = np.array([0, 1, 2, 0, 4, 2, 6, 6])
    usage = np.array(["Training"] * 5 + ["PrivateTest", "Training", "PublicTest"])
    report = find_duplicates(images, labels, usage)
    assert report.summary() == {
        "distinct_images": 5,
        "duplicate_groups": 3,
        "duplicate_rows": 6,
        "cross_split_groups": 2,
        "cross_split_rows": 4,
        "conflicting_label_groups": 1,
        "conflicting_label_rows": 2,
        "blank_images": 2,
    }
    np.testing.assert_array_equal(rows_with_copy_in(report, usage, "PrivateTest", "Training"), [5])
    np.testing.assert_array_equal(rows_with_copy_in(report, usage, "PublicTest", "Training"), [7])


def test_duplicate_report_rejects_mismatched_inputs():
    with pytest.raises(ValueError, match="differ in length"):
        find_duplicates(np.zeros((2, 4, 4), np.uint8), np.zeros(3), np.array(["Training"] * 2))
    with pytest.raises(ValueError, match="uint8"):
        find_duplicates(np.zeros((2, 4, 4), np.float32), np.zeros(2), np.array(["Training"] * 2))
