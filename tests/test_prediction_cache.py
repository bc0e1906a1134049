"""The prediction cache: a stored model file's probabilities are predicted once per file, images, TTA and software."""

from __future__ import annotations

import numpy as np
import pytest

from emotion.classify.prediction_cache import cached_probabilities

SPLITS = {"PublicTest": np.zeros((3, 48, 48), np.uint8), "PrivateTest": np.full((2, 48, 48), 9, np.uint8)}


def _counting(calls: list):
    def predict(todo):
        calls.append(sorted(todo))
        return {split: np.full((len(images), 7), 1 / 7, np.float32) for split, images in todo.items()}
    return predict


def test_a_cached_file_is_predicted_once_and_again_only_for_what_changed(tmp_path):
    model, cache = tmp_path / "m.keras", tmp_path / "cache"
    model.write_bytes(b"weights v1")
    calls: list = []
    first = cached_probabilities(model, SPLITS, "flip", _counting(calls), cache)
    assert calls == [["PrivateTest", "PublicTest"]] and list(first) == ["PublicTest", "PrivateTest"]
    again = cached_probabilities(model, SPLITS, "flip", _counting(calls), cache)
    assert len(calls) == 1  # a full hit never calls predict (which would load the model)
    for split in SPLITS:
        np.testing.assert_array_equal(first[split], again[split])
    cached_probabilities(model, SPLITS, "none", _counting(calls), cache)  # another TTA mode
    assert calls[-1] == ["PrivateTest", "PublicTest"]
    other = {**SPLITS, "PrivateTest": np.full((2, 48, 48), 10, np.uint8)}  # other images on one split
    cached_probabilities(model, other, "flip", _counting(calls), cache)
    assert calls[-1] == ["PrivateTest"]
    model.write_bytes(b"weights v2")  # a retrained release
    cached_probabilities(model, SPLITS, "flip", _counting(calls), cache)
    assert calls[-1] == ["PrivateTest", "PublicTest"] and len(calls) == 4
    assert not list(cache.glob("*.part"))  # entries are written whole


def test_a_damaged_entry_is_predicted_again_and_no_cache_means_no_files(tmp_path):
    model, cache = tmp_path / "m.keras", tmp_path / "cache"
    model.write_bytes(b"weights")
    calls: list = []
    cached_probabilities(model, SPLITS, "flip", _counting(calls), cache)
    for entry in cache.glob("*.npy"):
        entry.write_bytes(b"not an array")
    assert cached_probabilities(model, SPLITS, "flip", _counting(calls), cache)["PrivateTest"].shape == (2, 7)
    assert len(calls) == 2
    entries = sorted(cache.iterdir())
    cached_probabilities(model, SPLITS, "flip", _counting(calls), None)
    cached_probabilities(model, SPLITS, "flip", _counting(calls), None)
    assert len(calls) == 4 and sorted(cache.iterdir()) == entries and sorted(tmp_path.iterdir()) == [cache, model]


def test_released_probabilities_read_the_cache_and_report_a_missing_file_as_before(tmp_path):
    import keras

    from emotion.classify.ensemble import released_probabilities
    from emotion.errors import ModelFileError

    inputs = keras.Input((48, 48, 1))
    keras.Model(inputs, keras.layers.Dense(7, activation="softmax")(keras.layers.Flatten()(inputs))).save(
        tmp_path / "tiny.keras")
    cache = tmp_path / "cache"
    first = released_probabilities(["tiny"], tmp_path, SPLITS, tta="flip", cache_dir=cache)
    assert len(list(cache.glob("*.npy"))) == 2
    uncached = released_probabilities(["tiny"], tmp_path, SPLITS, tta=True, cache_dir=None)  # True means flip
    cached = released_probabilities(["tiny"], tmp_path, SPLITS, tta=True, cache_dir=cache)
    assert len(list(cache.glob("*.npy"))) == 2  # the same entries: "flip" and True are one mode
    for split in SPLITS:
        np.testing.assert_allclose(first[split]["tiny"], uncached[split]["tiny"], rtol=1e-6)
        np.testing.assert_array_equal(first[split]["tiny"], cached[split]["tiny"])
    with pytest.raises(ModelFileError, match="does not exist"):
        released_probabilities(["nothing"], tmp_path, SPLITS, cache_dir=cache)


def test_the_cache_can_be_turned_off_and_recording_run_times_does(monkeypatch, tmp_path):
    import os

    from emotion.app.cli import main
    from emotion.classify.prediction_cache import CACHE_VARIABLE, PREDICTION_CACHE_DIR, default_cache_dir

    monkeypatch.delenv(CACHE_VARIABLE, raising=False)
    assert default_cache_dir() == PREDICTION_CACHE_DIR
    for off in ("off", "0", "no", "False"):
        monkeypatch.setenv(CACHE_VARIABLE, off)
        assert default_cache_dir() is None
    monkeypatch.setenv(CACHE_VARIABLE, "on")
    assert default_cache_dir() == PREDICTION_CACHE_DIR
    # --record-times turns it off before any notebook runs (here none matches, so none does)
    assert main(["run-notebooks", "--mode", "smoke", "--only", "99", "--record-times"]) == 2
    assert os.environ[CACHE_VARIABLE] == "off"


def test_an_unwritable_cache_is_reported_and_the_probabilities_still_returned(tmp_path, capsys):
    model, blocked = tmp_path / "m.keras", tmp_path / "blocked"
    model.write_bytes(b"weights")
    blocked.write_text("a file where the cache folder should be")
    calls: list = []
    values = cached_probabilities(model, SPLITS, "flip", _counting(calls), blocked)
    assert values["PublicTest"].shape == (3, 7) and len(calls) == 1
    assert "could not be written" in capsys.readouterr().out
