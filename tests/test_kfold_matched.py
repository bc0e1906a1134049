"""K-fold against holdout at matched optimizer steps: which runs match (5 % apart but not 6 %), the holdout partner
picked from the results, paired and unpaired tests, K-fold files from before the steps were recorded, bad input, and
the sentence, on hand-made run payloads."""

import numpy as np
import pytest

from emotion.analysis.kfold_matched import (
    describe_kfold_matched,
    holdout_steps,
    is_matched,
    kfold_matched_comparison,
    kfold_matched_evidence,
    matched_holdout,
    matching_epochs,
)
from emotion.classify.evaluate import classification_metrics, encode_predictions
from emotion.classify.significance import mcnemar, paired_sign_test, two_proportion_test
from emotion.errors import DataFormatError
from emotion.provenance import write_results

N = 300
LABELS = np.random.default_rng(0).integers(0, 7, N)
RECIPE = {"model": "basic_cnn", "batch_size": 50, "learning_rate": 0.001, "class_weighting": "none"}


def predicted(right: np.ndarray) -> np.ndarray:
    """Predictions that are right exactly on the images ``right`` marks."""
    return np.where(right, LABELS, (LABELS + 1) % 7)


def right_on(first: int, last: int) -> np.ndarray:
    return (np.arange(N) >= first) & (np.arange(N) < last)


def holdout_run(epochs, right, *, keep=True, train_images=1500, seed=0, finished=True, **recipe):
    """A holdout run's results; on 1,500 Training images in batches of 50 an epoch is 30 steps."""
    test = classification_metrics(LABELS, predicted(right))
    if keep:
        test["predictions"] = encode_predictions(predicted(right))
    return {"model": "basic_cnn", "recipe": {**RECIPE, "epochs": epochs, "seed": seed, **recipe}, "epochs_run": epochs,
            "finished": finished, "train_images": train_images, "test": test, "chosen_epoch": epochs,
            "publictest_accuracy_at_chosen_epoch": 0.5, "training_cpu_minutes": 60.0, "training_wall_minutes": 40.0}


def kfold_run(steps, ensemble_right, folds_right, *, keep=True, epochs=15, seed=1, training_images=1500, **recipe):
    """A K-fold run's results; by default 3 folds x 15 epochs of 1,000 fit images each in batches of 50: 900 steps,
    30 full-Training epochs, as many steps as a 30-epoch holdout run of :func:`holdout_run`."""
    fold_accuracies = [float(np.mean(right)) for right in folds_right]
    payload = {"run": "k", "recipe": {**RECIPE, "epochs": epochs, "seed": seed, **recipe}, "folds": len(folds_right),
               "privatetest_accuracy_mean": float(np.mean(fold_accuracies)),
               "ensemble_privatetest": classification_metrics(LABELS, predicted(ensemble_right)),
               "optimizer_steps": steps, "training_images": training_images,
               "full_epoch_equivalents": float(epochs * (len(folds_right) - 1))}
    if keep:
        payload["ensemble_privatetest"]["predictions"] = encode_predictions(predicted(ensemble_right))
        payload["fold_privatetest_predictions"] = [encode_predictions(predicted(right)) for right in folds_right]
    return payload


ENSEMBLE, FOLDS, HOLDOUT = right_on(0, 200), [right_on(0, 170), right_on(20, 190), right_on(60, 230)], right_on(40, 190)


def test_runs_match_when_their_steps_differ_by_at_most_five_percent_of_the_kfold_runs():
    assert is_matched(2000, 2100) and is_matched(2000, 1900) and is_matched(2000, 2000)
    assert not is_matched(2000, 2120) and not is_matched(2000, 1880)
    # A holdout epoch is ceil(Training images / batch size) steps: 1,001 images in batches of 50 are 21 steps.
    assert holdout_steps(holdout_run(10, HOLDOUT, train_images=1001)) == 210
    # 1,000 images in batches of 50: 20 steps an epoch; 105 and 95 epochs are 5 % from 2,000 steps, 106 and 94 are 6 %.
    kfold = kfold_run(2000, ENSEMBLE, FOLDS, training_images=1000)
    for epochs, matched in ((105, True), (95, True), (106, False), (94, False)):
        result = kfold_matched_comparison(kfold, holdout_run(epochs, HOLDOUT, train_images=1000))
        assert result["matched"] is matched and result["steps_gap"] == pytest.approx(epochs / 100 - 1)
    assert matching_epochs(kfold) == 100 and matching_epochs(kfold_run(900, ENSEMBLE, FOLDS)) == 30


def test_a_kfold_file_from_before_the_steps_were_recorded_has_no_matched_comparison(tmp_path):
    old = {key: value for key, value in kfold_run(900, ENSEMBLE, FOLDS, keep=False).items()
           if key not in ("optimizer_steps", "training_images", "full_epoch_equivalents")}
    assert kfold_matched_comparison(old, holdout_run(30, HOLDOUT)) is None
    write_results(tmp_path / "03_kfold_old.json", old, mode="smoke", seed=1)
    write_results(tmp_path / "03_ablation_h30.json", holdout_run(30, HOLDOUT), mode="smoke", seed=0)
    assert kfold_matched_evidence(tmp_path) is None


def test_with_predictions_on_both_sides_and_the_labels_both_tests_are_paired():
    kfold, holdout = kfold_run(900, ENSEMBLE, FOLDS), holdout_run(30, HOLDOUT)
    result = kfold_matched_comparison(kfold, holdout, LABELS, kfold_name="k3", holdout_name="h30")
    assert result["paired"] is True and result["unpaired_reason"] is None
    ensemble = result["ensemble"]
    assert ensemble["privatetest_accuracy"] == pytest.approx(200 / N)
    assert ensemble["difference_points"] == pytest.approx(100 * (200 - 150) / N)
    assert ensemble["test"]["name"] == "McNemar's exact test"
    assert (ensemble["test"]["a_only"], ensemble["test"]["b_only"]) == (50, 0)  # right on 0-39 and 190-199 only
    assert ensemble["test"]["p_value"] == mcnemar(LABELS, predicted(ENSEMBLE), predicted(HOLDOUT))["p_value"]
    share = np.mean(FOLDS, axis=0)
    folds = result["fold_models"]
    # Images 0-39 and 190-229 have more fold models right than the holdout run, 40-59 and 170-189 fewer.
    assert (folds["test"]["a_better"], folds["test"]["b_better"]) == (80, 40)
    assert folds["test"]["p_value"] == paired_sign_test(share, HOLDOUT.astype(float))["p_value"]
    assert folds["privatetest_accuracy"] == pytest.approx(share.mean())
    assert folds["interval"]["low"] < share.mean() < folds["interval"]["high"]
    assert result["holdout"]["interval"]["low"] < 0.5 < result["holdout"]["interval"]["high"]
    assert (result["kfold"]["run"], result["holdout"]["run"], result["kfold"]["seed"], result["holdout"]["seed"]) == \
        ("k3", "h30", 1, 0)  # another seed is still the same recipe
    assert "both tests paired on the same PrivateTest images" in describe_kfold_matched(result)


@pytest.mark.parametrize("kfold_keeps, holdout_keeps, labels, reason", [
    (True, False, LABELS, "h30's results file holds no PrivateTest predictions"),
    (False, False, LABELS, "k3's and h30's results files hold no PrivateTest predictions"),
    (True, True, None, "no PrivateTest labels were given to score the stored predictions"),
])
def test_without_predictions_on_both_sides_or_labels_the_tests_are_two_proportion_tests_marked_unpaired(
        kfold_keeps, holdout_keeps, labels, reason):
    result = kfold_matched_comparison(kfold_run(900, ENSEMBLE, FOLDS, keep=kfold_keeps),
                                      holdout_run(30, HOLDOUT, keep=holdout_keeps), labels, kfold_name="k3",
                                      holdout_name="h30")
    assert result["paired"] is False and result["unpaired_reason"] == reason
    for side, accuracy in (("ensemble", 200 / N), ("fold_models", np.mean(FOLDS))):
        test = result[side]["test"]
        assert (test["name"], test["paired"]) == ("two-proportion z-test", False)
        assert test["p_value"] == pytest.approx(two_proportion_test(accuracy, N, 150 / N, N)["p_value"])
    assert result["fold_models"]["interval"] is None  # no interval without every image's result
    assert result["ensemble"]["interval"]["low"] < 200 / N < result["ensemble"]["interval"]["high"]
    text = describe_kfold_matched(result)
    assert f"both tests unpaired ({reason})" in text and "two-proportion z-test p = " in text


def test_the_sentence_states_both_budgets_both_accuracies_the_differences_and_the_tests():
    text = describe_kfold_matched(kfold_matched_comparison(kfold_run(900, ENSEMBLE, FOLDS), holdout_run(30, HOLDOUT),
                                                           kfold_name="k3", holdout_name="h30"))
    assert text.startswith("matched in optimizer steps: K-fold run k3 (3 folds x 15 epochs, each fold model on 2/3 "
                           "of Training; 900 steps, 30.0 full-Training epochs) against holdout run h30 (30 epochs; "
                           "900 steps, +0.0 % against the K-fold run's); PrivateTest accuracy of the K-fold "
                           "ensemble 66.67% (95 % interval ")
    assert "against the holdout run's 50.00% (95 % interval " in text and ", +16.67 points, " in text
    assert "the fold models' mean 56.67%, +6.67 points, two-proportion z-test p = " in text
    assert text.endswith("; one seed each")
    unmatched = kfold_matched_comparison(kfold_run(900, ENSEMBLE, FOLDS), holdout_run(33, HOLDOUT))
    assert describe_kfold_matched(unmatched).startswith("not matched in optimizer steps (more than 5 % apart)")


def test_the_sentence_names_both_runs_arithmetic_where_they_differ():
    bfloat16 = kfold_run(900, ENSEMBLE, FOLDS, mixed_precision=True)  # asked, sessions not recorded
    comparison = kfold_matched_comparison(bfloat16, holdout_run(30, HOLDOUT, mixed_precision=False))
    assert (comparison["kfold"]["precision"], comparison["holdout"]["precision"]) == ("mixed_bfloat16 (asked)",
                                                                                      "float32")
    assert describe_kfold_matched(comparison).endswith(
        "; one seed each; the K-fold run trained in mixed_bfloat16 (asked), the holdout run in float32 (precision is "
        "not part of a recipe; notebook 04 measures what bfloat16 changes)")
    recorded = {**bfloat16, "sessions": [{"policy": "mixed_bfloat16"}, {"policy": "mixed_bfloat16"}]}
    same = kfold_matched_comparison(recorded, holdout_run(30, HOLDOUT) | {
        "sessions": [{"policy": "mixed_bfloat16"}]})
    assert same["kfold"]["precision"] == "mixed_bfloat16" and describe_kfold_matched(same).endswith("one seed each")


def test_the_holdout_partner_is_the_closest_matched_finished_run_of_the_same_recipe(tmp_path):
    kfold = kfold_run(900, ENSEMBLE, FOLDS)
    runs = {"h29": holdout_run(29, HOLDOUT), "h30_seed4": holdout_run(30, HOLDOUT, seed=4),
            "h30_unfinished": holdout_run(30, HOLDOUT, finished=False),
            "h30_lr": holdout_run(30, HOLDOUT, learning_rate=0.01), "h33": holdout_run(33, HOLDOUT)}
    assert matched_holdout(kfold, runs) == "h30_seed4"
    assert matched_holdout(kfold, {name: runs[name] for name in ("h29", "h33")}) == "h29"
    assert matched_holdout(kfold, {name: runs[name] for name in ("h30_unfinished", "h30_lr", "h33")}) is None
    for name, payload in runs.items():
        write_results(tmp_path / f"03_ablation_{name}.json", payload, mode="smoke", seed=0)
    write_results(tmp_path / "03_kfold_k3.json", kfold, mode="smoke", seed=1)
    evidence = kfold_matched_evidence(tmp_path)
    assert evidence["matched"] is True and evidence["holdout"]["run"] == "h30_seed4" and evidence["paired"] is False
    assert evidence["source"] == "results/03_kfold_k3.json, results/03_ablation_h30_seed4.json"
    assert evidence["evidence"] == describe_kfold_matched({key: value for key, value in evidence.items()
                                                           if key not in ("source", "evidence")})


def test_without_a_matched_holdout_run_the_evidence_names_the_run_that_would_match(tmp_path):
    write_results(tmp_path / "03_ablation_h5.json", holdout_run(5, HOLDOUT), mode="smoke", seed=0)  # 150 steps
    write_results(tmp_path / "03_kfold_k3.json", kfold_run(900, ENSEMBLE, FOLDS), mode="smoke", seed=1)
    write_results(tmp_path / "03_kfold_k3_short.json", kfold_run(200, ENSEMBLE, FOLDS), mode="smoke", seed=1)
    evidence = kfold_matched_evidence(tmp_path)
    assert evidence["matched"] is False and evidence["source"] == "results/03_kfold_k3.json"  # the most steps
    assert evidence["needs"] == ("a holdout run of 30 epochs of K-fold run k3's recipe (basic_cnn; "
                                 "results/03_ablation_*.json), to compare K-fold and holdout at matched optimizer "
                                 "steps (900 steps)")
    # A K-fold run with a matched partner is chosen over ones with more steps and none.
    write_results(tmp_path / "03_kfold_k3_5ep.json", kfold_run(150, ENSEMBLE, FOLDS, epochs=5), mode="smoke", seed=1)
    assert kfold_matched_evidence(tmp_path)["source"] == "results/03_kfold_k3_5ep.json, results/03_ablation_h5.json"


def test_bad_input_is_a_clear_error():
    kfold = kfold_run(900, ENSEMBLE, FOLDS)
    with pytest.raises(ValueError, match="differ in learning_rate; compare runs of one recipe"):
        kfold_matched_comparison(kfold, holdout_run(30, HOLDOUT, learning_rate=0.01))
    short = holdout_run(30, HOLDOUT)
    short["test"]["predictions"] = short["test"]["predictions"][:-1]
    with pytest.raises(DataFormatError, match="h30 holds 299 PrivateTest predictions for 300 images"):
        kfold_matched_comparison(kfold, short, holdout_name="h30")
    untimed = {key: value for key, value in holdout_run(30, HOLDOUT).items() if key != "train_images"}
    with pytest.raises(DataFormatError, match="h30 lacks 'train_images'"):
        kfold_matched_comparison(kfold, untimed, holdout_name="h30")
    with pytest.raises(ValueError, match="PrivateTest labels for 300 scored images"):
        kfold_matched_comparison(kfold, holdout_run(30, HOLDOUT), LABELS[:10])
    with pytest.raises(DataFormatError, match="lacks 'training_images'"):
        matching_epochs({key: value for key, value in kfold.items() if key != "training_images"})


def test_the_ledger_reads_the_matched_comparison_from_the_results_files(tmp_path):
    from emotion.analysis.claims import claims_ledger
    from emotion.analysis.ledger import file_evidence

    write_results(tmp_path / "03_ablation_h30.json", holdout_run(30, HOLDOUT, keep=False), mode="smoke", seed=0)
    assert "kfold_matched" not in file_evidence(tmp_path)  # no K-fold run yet
    write_results(tmp_path / "03_kfold_k3.json", kfold_run(900, ENSEMBLE, FOLDS), mode="smoke", seed=1)
    evidence = file_evidence(tmp_path)
    assert evidence["kfold_matched"]["matched"] is True and evidence["kfold_matched"]["paired"] is False
    converged = {"converged": True, "status": "converged", "publictest_change_points": 0.2, "epochs": (15, 30),
                 "curve": "h30", "longest_epochs": 30, "cpu_hours": 3.0}
    entry = next(entry for entry in claims_ledger({**evidence, "budgets": {"basic_cnn": converged}})
                 if entry["id"] == "kfold")
    # 66.67 % against 50.00 % on 300 images: the ensemble is better beyond chance even unpaired.
    assert entry["verdict"] == "not reproduced" and evidence["kfold_matched"]["ensemble"]["test"]["p_value"] < 0.05
    assert entry["evidence"].startswith("matched in optimizer steps: K-fold run k3 ")
    assert "both tests unpaired (h30's results file holds no PrivateTest predictions)" in entry["evidence"]
    assert entry["source"] == "results/03_kfold_k3.json, results/03_ablation_h30.json"


def test_notebook_05s_paragraph_says_what_is_missing_or_states_the_matched_comparison(tmp_path):
    from emotion.analysis.kfold_matched import describe_matched_section

    assert "No K-fold run in the results recorded its optimizer steps" in describe_matched_section(None)
    write_results(tmp_path / "03_kfold_k6.json", kfold_run(900, ENSEMBLE, FOLDS), mode="full", seed=0)
    waiting = describe_matched_section(kfold_matched_evidence(tmp_path))
    assert waiting.startswith("**What this shows.** K-fold run k6 has no holdout run at matched optimizer steps yet: "
                              "the comparison needs a holdout run of 30 epochs")
    write_results(tmp_path / "03_ablation_h30.json", holdout_run(30, HOLDOUT), mode="full", seed=0)
    paired = describe_matched_section(kfold_matched_evidence(tmp_path, LABELS))
    assert paired.startswith("**What this shows.** Matched in optimizer steps: K-fold run k6 (3 folds x 15 epochs")
    assert "both tests paired on the same PrivateTest images" in paired and "McNemar" in paired
    assert paired.endswith("the claims ledger's call (notebook 08, claim `kfold`), after its budget gate.")
