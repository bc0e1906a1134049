"""The FER2013 loader: parsing, every malformed case, checksum handling, and the cache."""

from __future__ import annotations

import gzip
import warnings

import numpy as np
import pytest
from conftest import HEADER, fer_row, write_fer_lines

from emotion import CLASS_NAMES
from emotion.data.fer2013 import (
    ChecksumMismatchWarning,
    class_counts,
    load_fer2013,
    parse_fer2013,
    pixel_statistics,
)
from emotion.errors import DataFormatError, DataMissingError

GOOD_PIXELS = np.arange(48 * 48, dtype=np.int64) % 256


def good_line(label=3, usage="Training"):
    return fer_row(label, GOOD_PIXELS.astype(np.uint8), usage)


def load_quietly(path, **kwargs):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ChecksumMismatchWarning)
        return load_fer2013(path, **kwargs)


def test_parses_images_labels_and_usage_exactly(small_fer, tmp_path):
    path, images, labels, usage = small_fer
    data = load_quietly(path, cache_dir=None)
    assert data.images.dtype == np.uint8 and data.images.shape == (9, 48, 48)
    np.testing.assert_array_equal(data.images, images)
    np.testing.assert_array_equal(data.labels, labels)
    np.testing.assert_array_equal(data.usage, usage)
    train_images, train_labels = data.split("Training")
    np.testing.assert_array_equal(train_images, images[:3])
    np.testing.assert_array_equal(train_labels, labels[:3])
    np.testing.assert_array_equal(data.indices("PrivateTest"), [6, 7, 8])


def test_gzip_and_crlf_give_the_same_arrays(small_fer, tmp_path):
    path, images, _, _ = small_fer
    crlf = tmp_path / "crlf.csv"
    crlf.write_bytes(path.read_bytes().replace(b"\n", b"\r\n"))
    gz = tmp_path / "fer2013.csv.gz"
    gz.write_bytes(gzip.compress(path.read_bytes()))
    for variant in (crlf, gz):
        np.testing.assert_array_equal(load_quietly(variant, cache_dir=None).images, images)


def test_unknown_split_name_is_a_clear_error(small_fer):
    data = load_quietly(small_fer[0], cache_dir=None)
    with pytest.raises(ValueError, match="unknown split 'Test'"):
        data.split("Test")


@pytest.mark.parametrize(
    ("lines", "message"),
    [
        (["emotion,pixel,Usage", good_line()], r"line 1: expected the header"),
        ([HEADER], r"header but no rows"),
        ([HEADER, good_line(), "3," + " ".join(["1"] * 2303) + ",Training"],
         r"line 3: 2303 pixel values, expected 2304"),
        ([HEADER, "3," + " ".join(["1"] * 2305) + ",Training"], r"line 2: 2305 pixel values"),
        ([HEADER, good_line(), good_line(label=7)], r"line 3: emotion label '7' is not an integer in 0-6"),
        ([HEADER, good_line(label=-1)], r"line 2: emotion label '-1'"),
        ([HEADER, good_line(usage="Validation")], r"line 2: unknown Usage 'Validation'"),
        ([HEADER, good_line(), good_line().replace(" 17 ", " 256 ", 1)], r"line 3, pixel 18: the value '256' is not"),
        ([HEADER, good_line().replace(" 17 ", " 1x ", 1)],
         r"line 2: pixel values must be integers 0-255, found the character 'x'"),
        ([HEADER, good_line().replace(" 17 ", " -1 ", 1)], r"line 2: .*character '-'"),
        ([HEADER, good_line().replace(" 17 ", " 1000 ", 1)], r"line 2, pixel 18: the value '1000'"),
        ([HEADER, good_line().replace(" 17 18 ", "  18 ", 1)], r"line 2, pixel 18: an empty value"),
        ([HEADER, good_line(), "3,1 2 3,PublicTest"], r"line 3: 3 pixel values"),
        ([HEADER, "3," + " ".join(["1"] * 2304)], r"line 2: expected 3 comma-separated fields"),
    ],
    ids=["header", "no-rows", "short-row", "long-row", "label-7", "label-negative", "usage", "pixel-256",
         "non-numeric", "negative-pixel", "four-digits", "double-space", "truncated-row", "missing-field"],
)
def test_malformed_rows_name_file_line_and_problem(tmp_path, lines, message):
    path = write_fer_lines(tmp_path / "bad.csv", lines)
    with pytest.raises(DataFormatError, match=message) as caught:
        load_fer2013(path, cache_dir=None)
    assert str(path) in str(caught.value)


def test_truncated_gzip_is_reported_not_a_traceback_from_zlib(small_fer, tmp_path):
    compressed = gzip.compress(small_fer[0].read_bytes())
    path = tmp_path / "fer2013.csv.gz"
    path.write_bytes(compressed[: len(compressed) // 2])
    with pytest.raises(DataFormatError, match="truncated or corrupt"):
        load_fer2013(path, cache_dir=None)


def test_missing_file_says_where_to_get_fer2013(tmp_path):
    with pytest.raises(DataMissingError) as caught:
        load_fer2013(tmp_path / "fer2013" / "fer2013.csv", cache_dir=None)
    text = str(caught.value)
    assert "Challenges in Representation Learning" in text
    assert "3b8d9617d1017f34733c8f2474d7784c563ce86c40a86ac12c2d37cc968f871b" in text
    assert "EMOTION_DATA" in text


def test_a_modified_file_warns_or_fails_but_never_passes_silently(small_fer):
    path = small_fer[0]
    with pytest.warns(ChecksumMismatchWarning, match="not byte-identical"):
        data = load_fer2013(path, cache_dir=None)
    assert not data.is_original
    with pytest.raises(DataFormatError, match="not byte-identical"):
        load_fer2013(path, cache_dir=None, allow_modified=False)


def test_cache_round_trip_and_damaged_cache_is_rebuilt(small_fer, tmp_path):
    path, images, labels, usage = small_fer
    cache = tmp_path / "cache"
    first = load_quietly(path, cache_dir=cache)
    cached_files = list(cache.glob("fer2013-*.npz"))
    assert len(cached_files) == 1
    second = load_quietly(path, cache_dir=cache)
    np.testing.assert_array_equal(second.images, images)
    np.testing.assert_array_equal(second.usage, usage)
    assert second.sha256 == first.sha256
    cached_files[0].write_bytes(b"not an npz")
    third = load_quietly(path, cache_dir=cache)
    np.testing.assert_array_equal(third.labels, labels)
    assert not list(cache.glob("*.partial*"))


def test_cache_is_invalidated_when_the_file_changes(small_fer, tmp_path):
    path, images, _, _ = small_fer
    cache = tmp_path / "cache"
    load_quietly(path, cache_dir=cache)
    changed = images.copy()
    changed[0, 0, 0] = 7
    lines = [HEADER] + [fer_row(0, changed[0], "Training")]
    write_fer_lines(path, lines)
    assert load_quietly(path, cache_dir=cache).images[0, 0, 0] == 7


def test_parse_detects_the_original_checksum_only_for_identical_bytes():
    text = ("\n".join([HEADER, good_line()]) + "\n").encode()
    assert not parse_fer2013(text).is_original


def test_class_counts_and_pixel_statistics(small_fer):
    _, images, labels, usage = small_fer
    counts = class_counts(labels, usage)
    assert list(counts.index) == list(CLASS_NAMES)
    assert counts.loc["angry", "Training"] == 1 and counts.loc["angry", "PrivateTest"] == 1
    assert counts["total"].sum() == 9
    statistics = pixel_statistics(images, labels)
    assert statistics.loc["happy", "images"] == 2
    assert statistics.loc["angry", "pixel_mean"] == pytest.approx(images[labels == 0].mean(), rel=1e-5)
