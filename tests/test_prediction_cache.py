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


def test_every_mode_of_one_pass_is_cached_and_shares_its_entries_with_the_single_mode_cache(tmp_path):
    from emotion.classify.prediction_cache import cached_modes

    model, cache = tmp_path / "m.keras", tmp_path / "cache"
    model.write_bytes(b"weights")
    images, modes, passes = SPLITS["PublicTest"], ("none", "flip", "tencrop"), []

    def one_pass(todo):
        passes.append(len(todo))
        return {mode: np.full((len(todo), 7), index, np.float32) for index, mode in enumerate(modes)}

    first = cached_modes(model, images, modes, one_pass, cache)
    assert passes == [3] and len(list(cache.glob("*.npy"))) == 3
    again = cached_modes(model, images, modes, one_pass, cache)
    assert passes == [3]  # a full hit never predicts (nor loads the model)
    for index, mode in enumerate(modes):
        np.testing.assert_array_equal(first[mode], again[mode])
        assert float(again[mode][0, 0]) == index
    calls: list = []  # the single-mode cache finds the same entry: one key per file, images and mode
    flip = cached_probabilities(model, {"PublicTest": images}, "flip", _counting(calls), cache)["PublicTest"]
    assert calls == [] and float(flip[0, 0]) == 1
    next(cache.glob("*.npy")).write_bytes(b"damaged")  # one mode missing: one pass again, all modes stored
    cached_modes(model, images, modes, one_pass, cache)
    assert passes == [3, 3]
    cached_modes(model, images, modes, one_pass, None)
    assert passes == [3, 3, 3]


def test_the_release_tta_choice_predicts_once_then_reads_the_cache_and_chooses_the_same(tmp_path, monkeypatch):
    import keras

    import emotion.classify.evaluate as evaluate
    from emotion.analysis.compare import release_tta_choice

    inputs = keras.Input((48, 48, 1))
    keras.Model(inputs, keras.layers.Dense(7, activation="softmax")(keras.layers.Flatten()(inputs))).save(
        tmp_path / "tiny.keras")
    rng = np.random.default_rng(0)
    splits = {split: (rng.integers(0, 256, (n, 48, 48), dtype=np.uint8), rng.integers(0, 7, n))
              for split, n in (("PublicTest", 6), ("PrivateTest", 5))}
    loads: list = []
    real_load = evaluate.load_model
    monkeypatch.setattr(evaluate, "load_model", lambda path: loads.append(path) or real_load(path))
    cache = tmp_path / "cache"
    uncached = release_tta_choice("tiny", tmp_path, splits, cache_dir=None)
    first = release_tta_choice("tiny", tmp_path, splits, cache_dir=cache)
    assert len(loads) == 2 and len(list(cache.glob("*.npy"))) == 4  # three PublicTest modes, the chosen PrivateTest
    second = release_tta_choice("tiny", tmp_path, splits, cache_dir=cache)
    assert len(loads) == 2  # from the cache: the model is not even loaded
    assert first == second
    assert first["chosen"] == uncached["chosen"] and first["test"] == uncached["test"]
    assert first["selection_accuracy"] == uncached["selection_accuracy"]


def test_file_probabilities_name_any_split_and_load_a_file_only_on_a_miss(tmp_path, monkeypatch):
    import keras

    import emotion.classify.evaluate as evaluate
    from emotion.classify.ensemble import file_probabilities

    inputs = keras.Input((48, 48, 1))
    keras.Model(inputs, keras.layers.Dense(7, activation="softmax")(keras.layers.Flatten()(inputs))).save(
        tmp_path / "a.keras")
    loads: list = []
    real_load = evaluate.load_model
    monkeypatch.setattr(evaluate, "load_model", lambda path: loads.append(path) or real_load(path))
    cache, splits = tmp_path / "cache", {"CK+": SPLITS["PublicTest"]}
    first = file_probabilities({"mine": tmp_path / "a.keras"}, splits, cache_dir=cache)
    again = file_probabilities({"mine": str(tmp_path / "a.keras")}, splits, cache_dir=cache)
    assert len(loads) == 1 and list(first) == ["CK+"] and list(first["CK+"]) == ["mine"]
    np.testing.assert_array_equal(first["CK+"]["mine"], again["CK+"]["mine"])
    direct = evaluate.predict_probabilities(real_load(tmp_path / "a.keras"), splits["CK+"])  # tta "none" by default
    np.testing.assert_allclose(first["CK+"]["mine"], direct, rtol=1e-6)


def test_an_unreadable_model_file_or_an_empty_entry_never_ends_in_a_traceback_from_the_cache(tmp_path, monkeypatch):
    import emotion.classify.prediction_cache as cache_module
    from emotion.classify.prediction_cache import cached_modes

    model, cache = tmp_path / "m.keras", tmp_path / "cache"
    model.write_bytes(b"weights")
    calls: list = []
    cached_probabilities(model, SPLITS, "flip", _counting(calls), cache)
    for entry in cache.glob("*.npy"):
        entry.write_bytes(b"")  # an empty entry (a full disk, say): np.load raises EOFError
    assert cached_probabilities(model, SPLITS, "flip", _counting(calls), cache)["PublicTest"].shape == (3, 7)
    assert len(calls) == 2

    def unreadable(path, chunk=0):
        raise PermissionError(13, "Permission denied", str(path))

    monkeypatch.setattr(cache_module, "file_digest", unreadable)  # the file exists but cannot be read
    assert cached_probabilities(model, SPLITS, "flip", _counting(calls), cache)["PrivateTest"].shape == (2, 7)
    assert len(calls) == 3  # predicted (loading the file is what reports it), nothing cached
    modes = cached_modes(model, SPLITS["PublicTest"], ("none", "flip"),
                         lambda images: {mode: np.ones((len(images), 7)) for mode in ("none", "flip", "tencrop")},
                         cache)
    assert list(modes) == ["none", "flip"] and modes["flip"].dtype == np.float32


def test_the_key_changes_with_the_studys_view_code(monkeypatch):
    import emotion.classify.prediction_cache as cache_module

    before = cache_module.entry_key("abc", SPLITS["PublicTest"], "tencrop")
    monkeypatch.setattr(cache_module, "VIEWS_VERSION", cache_module.VIEWS_VERSION + 1)
    assert cache_module.entry_key("abc", SPLITS["PublicTest"], "tencrop") != before
