"""The app's default model evaluated as chosen: the selection-inflation estimate, its wording at each boundary, and
the default's choice itself (the highest PublicTest accuracy, never PrivateTest)."""

from __future__ import annotations

import json

import pytest

from emotion.analysis.selection import describe_default_model, selection_inflation
from emotion.classify.release import best_release, release_candidates
from emotion.paths import MODELS_DIR, RESULTS_DIR

PUBLIC = {"a": 0.60, "b": 0.62, "c": 0.64, "chosen": 0.70}
PRIVATE_OTHERS = {"a": 0.61, "b": 0.62, "c": 0.66}  # changes +1, 0, +2 points


def selection(chosen_private):
    return selection_inflation(PUBLIC, {**PRIVATE_OTHERS, "chosen": chosen_private}, "chosen")


def test_inflation_is_the_chosen_drop_beyond_the_unchosen_median():
    result = selection(0.68)  # changes by -2 points; the others' median change is +1
    assert result["drop"] == pytest.approx(0.02) and result["others_median_drop"] == pytest.approx(-0.01)
    assert result["inflation"] == pytest.approx(0.03)
    assert result["others_drop_range"] == pytest.approx([-0.02, 0.0])
    assert result["candidates"] == 4 and result["privatetest_rank"] == 1


@pytest.mark.parametrize("chosen_private, wording", [
    (0.699, "inflated by about"),  # -0.1 points: below the others' lowest change (0)
    (0.700, "within the unchosen releases' range"),  # 0: the range's low end
    (0.720, "within the unchosen releases' range"),  # +2: the range's high end
    (0.721, "no sign that the choice inflated"),  # +2.1: above every unchosen release
])
def test_the_wording_flips_at_the_edges_of_the_unchosen_range(chosen_private, wording):
    text = describe_default_model(selection(chosen_private))
    assert wording in text
    assert sum(phrase in text for phrase in ("inflated by about", "within the unchosen", "no sign")) == 1


def test_the_sentence_names_where_out_of_distribution_accuracy_was_measured():
    assert "not measured: CK+48 was not in the data folder" in describe_default_model(selection(0.70))
    text = describe_default_model(selection(0.70), ckplus_accuracy=0.654, interval={"low": 0.685, "high": 0.715})
    assert "CK+48" in text and "65.4%" in text and "46.8%" in text and "111 real photos" in text
    assert "reaches 70.00% (95 % interval 68.50%-71.50%), rank 1 of 4" in text


def test_inputs_that_cannot_give_an_estimate_are_refused():
    with pytest.raises(ValueError, match="needs both"):
        selection_inflation(PUBLIC, PRIVATE_OTHERS, "chosen")
    with pytest.raises(ValueError, match="at least two unchosen"):
        selection_inflation({"a": 0.6, "chosen": 0.7}, {"a": 0.6, "chosen": 0.7}, "chosen")


def _release(results, models, name, accuracy, *, ensemble=False):
    (models / f"{name}.keras").write_bytes(b"stub")
    key = "publictest_accuracy" if ensemble else "publictest_accuracy_at_chosen_epoch"
    prefix = "03_ensemble_" if ensemble else "03_train_"
    (results / f"{prefix}{name}.json").write_text(json.dumps({"meta": {}, "model": name, "model_file": f"{name}.keras",
                                                              key: accuracy}))


def test_the_default_is_the_best_release_on_publictest_and_missing_files_do_not_count(tmp_path):
    results, models = tmp_path / "results", tmp_path / "models"
    results.mkdir()
    models.mkdir()
    assert best_release(results, models) is None
    _release(results, models, "a", 0.61)
    _release(results, models, "b", 0.63)
    _release(results, models, "pair", 0.64, ensemble=True)
    assert best_release(results, models) == "pair" and best_release(results, models, ensembles=False) == "b"
    (models / "pair.keras").unlink()
    assert best_release(results, models) == "b"
    assert release_candidates(results, models)["a"]["kind"] == "single"


def test_the_committed_default_is_evaluated_as_chosen():
    notebook_results = RESULTS_DIR / "06_evaluation.json"
    document = json.loads(notebook_results.read_text())
    if "default_model" not in document:
        pytest.skip("results/06_evaluation.json predates the default-model section: run notebook 06 in full mode")
    entry = document["default_model"]
    assert entry["selection"]["chosen"] == best_release(RESULTS_DIR, MODELS_DIR)
    assert f"{entry['selection']['privatetest']:.2%}" in entry["text"]
