"""Budget-curve heads: the longest run of each architecture's longest curve, scored by notebook 06 where it kept its
predictions, and standing for its architecture in the ledger's comparisons (its release where it has no head)."""

import numpy as np
import pytest

from emotion.analysis.claims import claims_ledger
from emotion.analysis.curve_heads import curve_heads, head_predictions, representatives, review_heads
from emotion.classify.evaluate import encode_predictions
from emotion.errors import DataFormatError
from emotion.provenance import write_results

LABELS = np.random.default_rng(0).integers(0, 7, 60)


def predictions_with(correct: int) -> np.ndarray:
    """Predictions right on the first ``correct`` images, wrong on the rest."""
    predicted = LABELS.copy()
    predicted[correct:] = (predicted[correct:] + 1) % 7
    return predicted


def write_run(results_dir, name, model, epochs, publictest, correct=None, prefix="03_ablation_"):
    test = {"accuracy": (correct if correct is not None else 30) / len(LABELS), "macro_f1": 0.5, "n": len(LABELS)}
    if correct is not None:
        test["predictions"] = encode_predictions(predictions_with(correct))
    write_results(results_dir / f"{prefix}{name}.json", {
        "model": model, "epochs_run": epochs, "chosen_epoch": epochs, "recipe": {"model": model, "epochs": epochs},
        "publictest_accuracy_at_chosen_epoch": publictest, "test": test,
        "training_cpu_minutes": 6.0 * epochs, "training_wall_minutes": 3.0 * epochs}, mode="full", seed=0)


@pytest.fixture
def results(tmp_path):
    write_run(tmp_path, "basic_cnn", "basic_cnn", 14, 0.60, prefix="03_train_")
    write_run(tmp_path, "basic_cnn_30ep", "basic_cnn", 30, 0.64)  # kept no predictions
    write_run(tmp_path, "basic_cnn_60ep", "basic_cnn", 60, 0.66, correct=45)
    write_run(tmp_path, "resnet18", "resnet18", 13, 0.58, prefix="03_train_")  # one budget: no head
    return tmp_path


def test_each_architectures_head_is_its_longest_curves_longest_run(results):
    heads = curve_heads(results)
    assert list(heads) == ["basic_cnn"]
    head = heads["basic_cnn"]
    assert (head["run"], head["epochs"], head["status"], head["settled"]) == ("basic_cnn_60ep", 60, "paper budget",
                                                                             True)
    assert head["source"] == "results/03_ablation_basic_cnn_60ep.json" and head["cpu_hours"] == pytest.approx(6.0)


def test_a_heads_predictions_must_give_its_recorded_accuracy(results):
    heads = curve_heads(results)
    assert (head_predictions(heads, LABELS)["basic_cnn_60ep"] == predictions_with(45)).all()
    assert len(head_predictions(heads, LABELS, rows=20)["basic_cnn_60ep"]) == 20
    with pytest.raises(DataFormatError, match="they do not belong to these labels"):
        head_predictions(heads, (LABELS + 1) % 7)
    with pytest.raises(DataFormatError, match="60 PrivateTest predictions for 59 labels"):
        head_predictions(heads, LABELS[:59])


def test_notebook_06_scores_the_heads_against_the_releases(results):
    review = review_heads(curve_heads(results), LABELS, {"basic_cnn": predictions_with(36),
                                                         "resnet18": predictions_with(33)}, resamples=100, seed=0)
    head = review["heads"]["basic_cnn"]
    assert "predictions" not in head and head["intervals"]["accuracy"]["estimate"] == pytest.approx(45 / 60)
    test = review["mcnemar"]["basic_cnn_60ep_vs_resnet18"]
    assert (test["a_only"], test["b_only"], review["images"]) == (12, 0, 60)


def interval(value):
    return {"accuracy": {"estimate": value, "low": value - 0.02, "high": value + 0.02}}


def evidence_with(heads_review, budgets):
    models = {"basic_cnn": {"intervals": interval(0.60), "epochs": 14, "publictest_accuracy": 0.60,
                            "training_cpu_minutes": 84.0, "weights_dtype": "float32"},
              "resnet18": {"intervals": interval(0.55), "epochs": 13, "publictest_accuracy": 0.58,
                           "training_cpu_minutes": 78.0, "weights_dtype": "float32"}}
    return {"models": models, "mcnemar": {"resnet18_vs_basic_cnn": {"p_value": 0.2}},
            "curve_heads": heads_review["heads"], "curve_mcnemar": heads_review["mcnemar"], "budgets": budgets}


def test_the_ledger_compares_an_architectures_head_where_it_has_one(results):
    from emotion.analysis.training_rules import budget_evidence

    review = review_heads(curve_heads(results), LABELS, {"basic_cnn": predictions_with(36),
                                                         "resnet18": predictions_with(33)}, resamples=100, seed=0)
    evidence = evidence_with(review, budget_evidence(results))
    chosen = representatives(evidence["models"], evidence["curve_heads"], evidence["curve_mcnemar"],
                             ["basic_cnn", "resnet18"])
    assert (chosen["basic_cnn"]["run"], chosen["basic_cnn"]["kind"]) == ("basic_cnn_60ep", "budget-curve head")
    assert (chosen["resnet18"]["run"], chosen["resnet18"]["kind"]) == ("resnet18", "release file")
    entry = next(e for e in claims_ledger(evidence) if e["id"] == "resnet_vs_cnn")
    assert "basic_cnn_60ep (60 epochs, its budget curve's longest run) 0.7500" in entry["evidence"]
    assert "resnet18 0.5500" in entry["evidence"] and "McNemar p = 0.000488" in entry["evidence"]
    # basic_cnn's run is settled at the paper's 60 epochs; resnet18 has no curve, so the verdict waits on it.
    assert entry["verdict"] == "inconclusive at this budget"
    assert entry["needs"].startswith("resnet18: a budget curve") and "basic_cnn" not in entry["needs"]
    # A head without predictions is not scored: its release stands for it.
    unscored = evidence_with({"heads": {"basic_cnn": {**review["heads"]["basic_cnn"]}}, "mcnemar": {}}, {})
    del unscored["curve_heads"]["basic_cnn"]["intervals"]
    assert representatives(unscored["models"], unscored["curve_heads"], {}, ["basic_cnn"])["basic_cnn"]["kind"] == \
        "release file"


def test_resnet50_against_resnet34_uses_the_heads_too():
    head = {"run": "resnet50_20ep", "epochs": 20, "publictest_accuracy": 0.6, "cpu_hours": 5.0,
            "intervals": interval(0.61)}
    models = {name: {"intervals": interval(value), "epochs": 10, "publictest_accuracy": value,
                     "training_cpu_minutes": 60.0, "weights_dtype": "float16"}
              for name, value in (("resnet34", 0.5985), ("resnet50", 0.5417))}
    evidence = {"models": models, "mcnemar": {"resnet50_vs_resnet34": {"p_value": 1e-14}},
                "curve_heads": {"resnet50": head},
                "curve_mcnemar": {"resnet50_20ep_vs_resnet34": {"p_value": 0.3},
                                  "resnet34_vs_resnet50_20ep": {"p_value": 0.3}}, "budgets": {}}
    entry = next(e for e in claims_ledger(evidence) if e["id"] == "resnet50_vs_resnet34")
    assert ("resnet50_20ep (20 epochs, its budget curve's longest run) 0.6100 vs resnet34 (float16 weights) 0.5985; "
            "McNemar p = 0.3") in entry["evidence"]
    assert [run["epochs"] for run in entry["budget"]] == [10, 20]


def test_a_head_notebook_06_has_not_scored_yet_is_named_in_needs(results):
    from emotion.analysis.curve_heads import stale_heads
    from emotion.analysis.training_rules import budget_evidence

    budgets = budget_evidence(results)
    old = {"basic_cnn": {"run": "basic_cnn_30ep", "epochs": 30}}
    assert stale_heads(budgets, old, ["basic_cnn", "resnet18"]) == (
        "notebook 06 has not scored the longest budget run of basic_cnn (basic_cnn_60ep, scored: basic_cnn_30ep) yet: "
        "re-run it (python -m emotion run-notebooks --mode full --only 06) so that each stands for its architecture")
    assert stale_heads(budgets, {"basic_cnn": {"run": "basic_cnn_60ep"}}, ["basic_cnn"]) == ""
    review = review_heads({"basic_cnn": {**curve_heads(results)["basic_cnn"], "run": "basic_cnn_30ep",
                                         "predictions": None}}, LABELS,
                          {"basic_cnn": predictions_with(36), "resnet18": predictions_with(33)}, resamples=100, seed=0)
    entry = next(e for e in claims_ledger(evidence_with(review, budgets)) if e["id"] == "resnet_vs_cnn")
    assert "re-run it (python -m emotion run-notebooks --mode full --only 06)" in entry["needs"]
    assert "stored release files" in entry["evidence"]  # the releases stood in


def test_a_head_that_is_a_release_is_scored_as_its_stored_file_and_release_pairs_are_left_to_notebook_06():
    head = {"run": "basic_cnn", "model": "basic_cnn", "epochs": 14, "predictions": encode_predictions(LABELS),
            "privatetest_accuracy": 1.0, "source": "results/03_train_basic_cnn.json"}
    review = review_heads({"basic_cnn": head}, LABELS, {"basic_cnn": predictions_with(36),
                                                        "resnet18": predictions_with(33)}, resamples=100, seed=0)
    assert review["heads"]["basic_cnn"]["intervals"]["accuracy"]["estimate"] == pytest.approx(36 / 60)
    assert set(review["mcnemar"]) == set()  # no head other than a release: notebook 06 tests the releases itself


def test_the_rarest_class_is_judged_on_the_settled_head_publictest_ranks_first(results):
    from emotion import CLASS_NAMES
    from emotion.analysis.curve_heads import settled_imbalance
    from emotion.analysis.review import per_class_table

    counts = {name: 1000 for name in CLASS_NAMES} | {"disgust": 100}
    heads = curve_heads(results)
    # An unsettled head that PublicTest ranks higher is not judged: its curve vouches for nothing yet.
    heads["resnet18"] = {**heads["basic_cnn"], "run": "resnet18_20ep", "model": "resnet18", "settled": False,
                         "status": "still rising", "publictest_accuracy": 0.70}
    review = settled_imbalance(heads, LABELS, {"resnet18_20ep": predictions_with(50)}, counts, resamples=100, seed=0)
    f1 = per_class_table(LABELS, predictions_with(45))["f1-score"]
    assert (review["run"], review["model"], review["epochs"], review["images"]) == ("basic_cnn_60ep", "basic_cnn", 60,
                                                                                    60)
    assert review["rarest_class"] == "disgust" and review["f1"]["fear"] == pytest.approx(f1["fear"])
    assert review["rarest_test_images"] == int((LABELS == CLASS_NAMES.index("disgust")).sum())
    gap = review["rarest_f1_gap"]
    others = f1[[name for name in CLASS_NAMES if name != "disgust"]]
    assert gap["class"] == "disgust" and gap["lowest_other"] == others.idxmin()
    assert gap["estimate"] == pytest.approx(f1["disgust"] - others.min()) and gap["low"] <= gap["high"]
    assert review["worst_f1_class"] == f1[list(CLASS_NAMES)].idxmin()
    # Smoke mode's first rows only; no settled head with predictions: nothing to judge.
    assert settled_imbalance(heads, LABELS, {}, counts, resamples=100, seed=0, rows=50)["images"] == 50
    unsettled = {"basic_cnn": {**heads["basic_cnn"], "settled": False}}
    assert settled_imbalance(unsettled, LABELS, {}, counts, resamples=100, seed=0) is None
