"""The released-models table read from results files the test writes."""

import json

import numpy as np
import pandas as pd
import pytest

from emotion.analysis.compare import best_model_goal, compare_levers, lineage_histories, released_table
from emotion.analysis.comparison_prose import goal_status
from emotion.provenance import write_results


def write_release(results_dir, models_dir, name, accuracy, **extra):
    models_dir.mkdir(exist_ok=True)
    (models_dir / f"{name}_history.csv").write_text(
        "epoch,accuracy,val_accuracy\n0,0.3,0.35\n1,0.4,0.45\n")
    write_results(results_dir / f"03_train_{name}.json", {
        "model": name, "parameters": 1000, "epochs_run": 2, "chosen_epoch": 2,
        "publictest_accuracy_at_chosen_epoch": 0.45, "test": {"accuracy": accuracy, "macro_f1": 0.4},
        "test_tta": {"accuracy": accuracy + 0.01}, "training_cpu_minutes": 3.0, "training_wall_minutes": 2.0,
        "train_images_per_second_median": 100.0, "history_file": f"{name}_history.csv", **extra,
    }, mode="smoke", seed=0)


def test_released_table_has_a_row_per_model_and_the_papers_number_where_stated(tmp_path):
    write_release(tmp_path, tmp_path / "models", "basic_cnn", 0.6)
    write_release(tmp_path, tmp_path / "models", "mobilenet", 0.55, recipe={"mixed_precision": True},
                  model_storage={"dtype": "float16"})
    table = released_table(tmp_path)
    assert table["precision"].tolist() == ["float32", "mixed_bfloat16"]
    assert table["stored_as"].tolist() == ["float32", "float16"]
    assert table.index.tolist() == ["basic_cnn", "mobilenet"]
    assert table.loc["basic_cnn", "paper_accuracy"] == 0.5
    assert np.isnan(table.loc["mobilenet", "paper_accuracy"])
    assert table.loc["mobilenet", "privatetest_accuracy_flip_tta"] == 0.56
    histories = lineage_histories(table, tmp_path / "models")
    assert histories["basic_cnn"]["epoch"].tolist() == [1, 2]


def test_no_release_gives_an_empty_table_with_the_columns(tmp_path):
    empty = released_table(tmp_path / "none")
    assert len(empty) == 0 and empty.index.name == "model"
    # The same columns, in the same order, as a table with a release: a notebook's code runs on either.
    write_release(tmp_path, tmp_path / "models", "basic_cnn", 0.6)
    assert empty.columns.tolist() == released_table(tmp_path).columns.tolist()
    assert empty.columns.tolist() == [  # the documented columns
        "architecture", "parameters", "epochs", "chosen_epoch", "publictest_accuracy", "privatetest_accuracy",
        "privatetest_accuracy_stored_file", "privatetest_macro_f1", "privatetest_accuracy_flip_tta",
        "privatetest_accuracy_tencrop_tta", "training_cpu_minutes", "training_wall_minutes", "own_training_cpu_minutes",
        "own_training_wall_minutes", "warm_start_from", "lineage_epochs", "cores_used", "own_quiet_cpu_minutes",
        "quiet_cpu_minutes", "quiet_cost_basis", "train_images_per_second", "paper_accuracy", "precision", "stored_as",
        "history_file"]


def test_a_run_released_under_its_own_name_gets_its_own_row_and_keeps_its_architecture(tmp_path):
    write_release(tmp_path, tmp_path / "models", "crop_cnn", 0.62, model_file="crop_cnn.keras")
    write_release(tmp_path, tmp_path / "models", "crop_cnn_14ep", 0.61, model_file="crop_cnn_14ep.keras")
    # Both files say model "crop_cnn" when a release is named: the row name comes from the released file.
    for path in tmp_path.glob("03_train_*.json"):
        document = json.loads(path.read_text())
        document["model"] = "crop_cnn"
        path.write_text(json.dumps(document))
    write_results(tmp_path / "03_notebook_crop_cnn.json", {"privatetest": {"tencrop_tta": {"accuracy": 0.64}}},
                  mode="smoke", seed=0)
    table = released_table(tmp_path)
    assert table.index.tolist() == ["crop_cnn", "crop_cnn_14ep"]
    assert table["architecture"].tolist() == ["crop_cnn", "crop_cnn"]
    assert table.loc["crop_cnn", "privatetest_accuracy_tencrop_tta"] == 0.64
    assert np.isnan(table.loc["crop_cnn_14ep", "privatetest_accuracy_tencrop_tta"])


def test_goals_are_ranges_and_the_best_model_goal_reads_the_publictest_choice(tmp_path):
    assert goal_status("resnet34", 0.6286 + 0.019).endswith(": met")
    assert goal_status("resnet34", 0.6286 + 0.021).endswith("not met")  # too high is not a reproduction either
    assert goal_status("basic_cnn", 0.6356).endswith("not met") and goal_status("crop_cnn", 0.7) is None
    write_release(tmp_path, tmp_path / "models", "basic_cnn", 0.6356)
    write_release(tmp_path, tmp_path / "models", "crop_cnn", 0.66, publictest_accuracy_at_chosen_epoch=0.65,
                  training_wall_minutes=90.0, training_cpu_minutes=400.0)
    goal = best_model_goal(released_table(tmp_path))
    assert goal["model"] == "crop_cnn" and goal["training_wall_hours"] == 1.5
    assert goal["training_cpu_hours"] == pytest.approx(400 / 60) and not goal["budget_met"]  # 6.67 > 6 CPU-h
    assert not goal["accuracy_met"] and goal["shortfall_points"] == pytest.approx(6.0)


def test_levers_pair_runs_that_differ_in_one_recipe_field_only(tmp_path):
    models = tmp_path / "models"
    recipe = {"epochs": 14, "seed": 0, "mixed_precision": False}
    write_release(tmp_path, models, "basic_cnn", 0.63, model="basic_cnn", recipe={**recipe, "model": "basic_cnn"},
                  model_file="basic_cnn.keras", training_cpu_minutes=55.0)
    write_release(tmp_path, models, "crop_cnn_14ep", 0.64, model="crop_cnn", model_file="crop_cnn_14ep.keras",
                  recipe={**recipe, "model": "crop_cnn"}, training_cpu_minutes=40.0)
    write_release(tmp_path, models, "crop_cnn", 0.66, model="crop_cnn", model_file="crop_cnn.keras",
                  recipe={**recipe, "model": "crop_cnn", "epochs": 30}, training_cpu_minutes=85.0)
    write_release(tmp_path, models, "resnet18", 0.60, model="resnet18", model_file="resnet18.keras",
                  recipe={**recipe, "model": "resnet18"})
    levers = {row["lever"]: row for row in compare_levers(tmp_path)}
    assert set(levers) == {"40x40 centre crop", "epoch budget 14 -> 30"}  # resnet18 differs in more than a crop
    assert levers["40x40 centre crop"]["runs"] == "basic_cnn -> crop_cnn_14ep"
    assert levers["40x40 centre crop"]["accuracy_change_points"] == pytest.approx(1.0)
    assert levers["40x40 centre crop"]["cpu_minutes_change"] == pytest.approx(-15.0)
    assert levers["epoch budget 14 -> 30"]["runs"] == "crop_cnn_14ep -> crop_cnn"
    assert (levers["epoch budget 14 -> 30"]["from_epochs"], levers["epoch budget 14 -> 30"]["to_epochs"]) == (14, 30)


def test_levers_also_pair_experiment_runs_by_their_file_names(tmp_path):
    recipe = {"model": "basic_cnn", "epochs": 5, "seed": 1, "mixed_precision": False}
    for name, changes, accuracy in [("basic_cnn_5ep_seed1", {}, 0.53),
                                    ("crop_cnn_5ep_seed1", {"model": "crop_cnn"}, 0.55),
                                    ("basic_cnn_5ep_bf16_seed1", {"mixed_precision": True}, 0.52),
                                    ("basic_cnn_5ep_seed2", {"seed": 2}, 0.54)]:
        write_results(tmp_path / f"03_ablation_{name}.json", {
            "model": changes.get("model", "basic_cnn"), "recipe": {**recipe, **changes},
            "test": {"accuracy": accuracy, "macro_f1": 0.4}, "publictest_accuracy_at_chosen_epoch": 0.5,
            "training_cpu_minutes": 10.0}, mode="smoke", seed=1)
    levers = {row["lever"]: row["runs"] for row in compare_levers(tmp_path)}
    assert levers == {"40x40 centre crop": "basic_cnn_5ep_seed1 -> crop_cnn_5ep_seed1",
                      "mixed_bfloat16": "basic_cnn_5ep_seed1 -> basic_cnn_5ep_bf16_seed1"}


def test_the_best_model_goal_on_no_release_says_what_to_run(tmp_path):
    from emotion.errors import DataMissingError

    with pytest.raises(DataMissingError, match="make train"):
        best_model_goal(released_table(tmp_path))


def test_check_best_model_goal_needs_both_accuracy_and_budget():
    from emotion.analysis.compare import BEST_MODEL_GOAL, check_best_model_goal

    hours = BEST_MODEL_GOAL["training_cpu_hours"]
    assert check_best_model_goal(BEST_MODEL_GOAL["accuracy"], hours) == {
        "accuracy_met": True, "budget_met": True, "shortfall_points": 0.0}
    over = check_best_model_goal(0.80, hours + 0.5)
    assert over["accuracy_met"] and not over["budget_met"]
    short = check_best_model_goal(BEST_MODEL_GOAL["accuracy"] - 0.05, 1.0)
    assert not short["accuracy_met"] and short["shortfall_points"] == pytest.approx(5.0)


def test_a_budget_curve_chooses_on_publictest_within_each_cpu_budget():
    from emotion.analysis.compare import budget_curve

    # Five epochs of 0.9 CPU-hours and half a wall-hour each; PublicTest peaks at epoch 2, then at epoch 5.
    history = pd.DataFrame({"epoch": [1, 2, 3, 4, 5], "cpu_seconds": [3240] * 5, "epoch_seconds": [1800] * 5,
                            "val_accuracy": [0.50, 0.60, 0.55, 0.58, 0.65],
                            "audit_privatetest_accuracy": [0.51, 0.59, 0.62, 0.60, 0.66]})
    curve = budget_curve(history, budgets_cpu_hours=(0.5, 1.0, 2.0, 4.0, 6.0)).set_index("budget_cpu_hours")
    assert 0.5 not in curve.index  # no epoch had finished after half a CPU-hour
    assert curve.loc[1.0, "chosen_epoch"] == 1 and curve.loc[1.0, "epochs"] == 1
    # Within 4 CPU-hours (epochs 1-4) PublicTest picks epoch 2, although epoch 3 scores higher on PrivateTest.
    assert curve.loc[4.0, "chosen_epoch"] == 2 and curve.loc[4.0, "privatetest_accuracy"] == 0.59
    assert curve.loc[4.0, "cpu_hours"] == pytest.approx(3.6) and curve.loc[4.0, "wall_hours"] == pytest.approx(2.0)
    assert curve.loc[4.0, "reached"] and not curve.loc[6.0, "reached"]  # the run stopped at 4.5 CPU-hours
    assert curve.loc[6.0, "chosen_epoch"] == 5 and curve.loc[6.0, "epochs"] == 5


def test_a_budget_curve_names_the_columns_it_lacks():
    from emotion.analysis.compare import budget_curve
    from emotion.errors import DataFormatError

    with pytest.raises(DataFormatError, match="cpu_seconds, epoch_seconds"):
        budget_curve(pd.DataFrame({"epoch": [1], "val_accuracy": [0.5], "audit_privatetest_accuracy": [0.5]}))


def _budget_run(results_dir, name, epochs, publictest, cpu_minutes, prefix="03_ablation_", sessions=None, **recipe):
    write_results(results_dir / f"{prefix}{name}.json", {**({"sessions": sessions} if sessions else {}),
        "model": recipe.get("model", "basic_cnn"), "recipe": {"model": "basic_cnn", "seed": 0, **recipe,
                                                              "epochs": epochs},
        "epochs_run": epochs, "chosen_epoch": epochs - 1, "publictest_accuracy_at_chosen_epoch": publictest,
        "test": {"accuracy": publictest + 0.01, "macro_f1": 0.5, "n": 3589},
        "training_cpu_minutes": cpu_minutes, "training_wall_minutes": cpu_minutes / 1.8}, mode="smoke", seed=0)


def test_budget_runs_group_one_recipe_at_several_epoch_budgets(tmp_path):
    from emotion.analysis.budget_curves import budget_runs

    _budget_run(tmp_path, "basic_cnn", 14, 0.631, 55.0, prefix="03_train_")
    _budget_run(tmp_path, "basic_cnn_30ep", 30, 0.645, 117.0)
    _budget_run(tmp_path, "basic_cnn_30ep_seed1", 30, 0.640, 117.0, seed=1)  # another seed: its own recipe
    _budget_run(tmp_path, "resnet18", 13, 0.62, 60.0, prefix="03_train_", model="resnet18")
    curves = budget_runs(tmp_path)
    assert list(curves) == ["basic_cnn_30ep"]  # groups with one budget are no curve
    curve = curves["basic_cnn_30ep"]
    assert curve["run"].tolist() == ["basic_cnn", "basic_cnn_30ep"]
    assert curve["epochs"].tolist() == [14, 30]
    assert curve["cpu_hours"].tolist() == pytest.approx([55 / 60, 117 / 60])
    assert curve["privatetest_n"].tolist() == [3589, 3589]
    assert curve["precision"].tolist() == ["float32", "float32"]


def test_budget_runs_keep_runs_of_either_precision_on_one_curve_and_state_each(tmp_path):
    from emotion.analysis.budget_curves import budget_runs

    _budget_run(tmp_path, "resnet18", 13, 0.61, 59.0, prefix="03_train_", model="resnet18")  # no sessions recorded
    _budget_run(tmp_path, "resnet18_26ep", 26, 0.64, 95.0, model="resnet18", mixed_precision=True,
                sessions=[{"policy": "mixed_bfloat16"}, {"policy": "float32"}])  # resumed on a CPU without bfloat16
    _budget_run(tmp_path, "resnet18_26ep_seed1", 26, 0.64, 95.0, model="resnet18", seed=1)  # another seed
    curves = budget_runs(tmp_path)
    assert list(curves) == ["resnet18_26ep"]
    assert curves["resnet18_26ep"]["run"].tolist() == ["resnet18", "resnet18_26ep"]
    assert curves["resnet18_26ep"]["precision"].tolist() == ["float32", "float32 + mixed_bfloat16"]
    _budget_run(tmp_path, "resnet18", 13, 0.61, 59.0, prefix="03_train_", model="resnet18", mixed_precision=True)
    assert budget_runs(tmp_path)["resnet18_26ep"]["precision"].tolist()[0] == "mixed_bfloat16 (asked)"


@pytest.mark.parametrize("epochs, publictest, cpu_hours, status, change", [
    ([14, 30], [0.631, 0.634], [1.0, 2.0], "converged", 0.3),
    ([14, 30], [0.631, 0.645], [1.0, 2.0], "still rising", 1.4),
    ([14, 29, 58], [0.60, 0.631, 0.645], [1.0, 2.0, 10.0], "capped", 1.4),  # at the 10 CPU-hour cap
    ([14, 29, 58], [0.60, 0.631, 0.645], [1.0, 2.0, 9.9], "still rising", 1.4),  # just under it
    ([14, 30, 60], [0.60, 0.631, 0.645], [1.0, 2.0, 9.9], "paper budget", 1.4),  # the paper's 60 epochs settle it
    ([14, 30, 60], [0.60, 0.631, 0.645], [1.0, 2.0, 10.0], "paper budget", 1.4),  # at 60 epochs even when capped
    ([40, 60], [0.631, 0.645], [1.0, 1.5], "paper budget", None),
    ([14, 20], [0.631, 0.645], [1.0, 1.5], "no doubling", None),
    ([10, 20], [0.64, 0.62], [1.0, 2.0], "falling", -2.0),
])
def test_convergence_compares_the_last_doubling_of_the_budget(epochs, publictest, cpu_hours, status, change):
    from emotion.analysis.budget_curves import convergence
    from emotion.analysis.comparison_prose import describe_convergence

    curve = pd.DataFrame({"epochs": epochs, "publictest_accuracy": publictest, "cpu_hours": cpu_hours})
    verdict = convergence(curve)
    assert verdict["status"] == status
    assert verdict["converged"] is (status == "converged")
    assert verdict["settled"] is (status in ("converged", "paper budget"))
    if change is None:
        assert verdict["epochs"] is None and verdict["publictest_change_points"] is None
        assert "no doubling" in describe_convergence("m", verdict)
        assert ("settled at the paper's budget" in describe_convergence("m", verdict)) is (status == "paper budget")
    else:
        assert verdict["publictest_change_points"] == pytest.approx(change)
        assert verdict["epochs"] == (epochs[-2], epochs[-1])
        sentence = describe_convergence("m", verdict)
        assert f"{epochs[-2]} -> {epochs[-1]} epochs moved PublicTest by {change:+.2f} points" in sentence
        assert status.split()[0] in sentence or (status == "capped" and "cap" in sentence)
        if status == "paper budget":
            assert "at the paper's own 60 epochs: settled at the paper's budget, not converged" in sentence


@pytest.mark.parametrize("longest, expected", [(5, 10), (10, 20), (13, 26), (15, 30), (16, 60), (20, 60), (26, 60),
                                               (30, 60), (59, 60), (60, 60), (80, 80)])
def test_a_curve_doubles_its_budget_until_the_next_doubling_would_pass_the_papers_60_epochs(longest, expected):
    from emotion.analysis.budget_curves import convergence, next_budget

    assert next_budget(longest) == expected
    # The run it asks for settles the curve when it reaches 60 epochs, whatever PublicTest does.
    curve = pd.DataFrame({"epochs": [longest, expected], "publictest_accuracy": [0.60, 0.65], "cpu_hours": [1.0, 2.0]})
    assert convergence(curve)["settled"] is (expected >= 60)


def test_budget_verdicts_have_a_row_per_curve(tmp_path):
    from emotion.analysis.budget_curves import budget_runs, budget_verdicts

    _budget_run(tmp_path, "basic_cnn", 14, 0.631, 55.0, prefix="03_train_")
    _budget_run(tmp_path, "basic_cnn_30ep", 30, 0.645, 117.0)
    table = budget_verdicts(budget_runs(tmp_path))
    assert table.to_dict(orient="records") == [{
        "curve": "basic_cnn_30ep", "model": "basic_cnn", "epochs": "14 -> 30",
        "publictest_change_points": pytest.approx(1.4), "status": "still rising",
        "longest_run_cpu_hours": pytest.approx(117 / 60)}]
    assert budget_verdicts({}).empty


def _quiet_cost_file(results_dir, **cpu_seconds):
    """A results/03_training_cost.json with one oneDNN-on row of the study's recipe per model."""
    write_results(results_dir / "03_training_cost.json", {"limit": 1000, "rows": [
        {"model": name, "recipe": "study", "requested_onednn": True, "full_epoch_cpu_seconds": seconds}
        for name, seconds in cpu_seconds.items()]}, mode="smoke", seed=0)


def _lineage(tmp_path):
    """wide (4 epochs) -> wide_cycle2 (2 epochs, warm-started from wide), priced at 900 CPU-s an epoch quietly."""
    models = tmp_path / "models"
    _quiet_cost_file(tmp_path, wide_crop_cnn=900.0)
    write_release(tmp_path, models, "wide", 0.60, model="wide_crop_cnn", model_file="wide.keras", epochs_run=4,
                  training_cpu_minutes=100.0, training_wall_minutes=50.0)
    write_release(tmp_path, models, "wide_cycle2", 0.62, model="wide_crop_cnn", model_file="wide_cycle2.keras",
                  epochs_run=2, training_cpu_minutes=130.0, training_wall_minutes=70.0, own_training_cpu_minutes=30.0,
                  own_training_wall_minutes=20.0, warm_start={"from": "models/wide.keras"},
                  model_storage={"dtype": "float16", "accuracy_stored": 0.621})
    history = "epoch,cpu_seconds,epoch_seconds,val_accuracy,audit_privatetest_accuracy\n"
    (models / "wide_history.csv").write_text(history + "".join(
        f"{epoch},1000,500,{0.40 + epoch / 100},{0.41 + epoch / 100}\n" for epoch in range(4)))
    (models / "wide_cycle2_history.csv").write_text(history + "0,1000,500,0.50,0.52\n1,1000,500,0.55,0.56\n")
    return released_table(tmp_path), models


def test_a_warm_started_release_carries_its_whole_lineage_and_its_stored_files_accuracy(tmp_path):
    from emotion.analysis.lineage_cost import lineage, lineage_label, set_cost

    table, _ = _lineage(tmp_path)
    assert lineage(table, "wide_cycle2") == ["wide", "wide_cycle2"]
    assert lineage_label(table, "wide_cycle2") == "4 + 2 epochs"
    assert table.loc["wide_cycle2", "lineage_epochs"] == "4 + 2"
    assert table.loc["wide_cycle2", "own_quiet_cpu_minutes"] == pytest.approx(2 * 900 / 60)
    assert table.loc["wide_cycle2", "quiet_cpu_minutes"] == pytest.approx(6 * 900 / 60)  # parents' epochs counted
    assert table.loc["wide_cycle2", "cores_used"] == pytest.approx(1.5)  # its own 30 CPU- over 20 wall-minutes
    assert table.loc["wide_cycle2", "privatetest_accuracy"] == 0.62
    assert table.loc["wide_cycle2", "privatetest_accuracy_stored_file"] == 0.621
    assert table.loc["wide", "privatetest_accuracy_stored_file"] == 0.60  # float32: the stored file is the checkpoint
    assert set_cost(table, ["wide", "wide_cycle2"], "quiet") == pytest.approx(90.0)  # the parent counted once
    assert set_cost(table, ["wide_cycle2"], "measured") == pytest.approx(130.0)


def test_a_lineage_budget_curve_starts_at_the_parents_first_epoch_and_ends_at_the_release(tmp_path):
    from emotion.analysis.compare import lineage_budget_curve

    table, models = _lineage(tmp_path)
    curve = lineage_budget_curve(table, "wide_cycle2", models, budgets_cpu_hours=(0.5, 1.0, 2.0))
    assert curve["budget_cpu_hours"].tolist() == [0.5, 1.0, 1.5]  # 6 quiet epochs of 0.25 CPU-hours: the end
    assert curve["chosen_epoch"].tolist() == [2, 4, 6] and curve["run"].tolist() == ["wide", "wide", "wide_cycle2"]
    assert curve["cost_basis"].unique().tolist() == ["quiet"]
    assert curve.iloc[-1]["cpu_hours"] * 60 == pytest.approx(table.loc["wide_cycle2", "quiet_cpu_minutes"])


def test_a_run_is_priced_quietly_only_by_a_row_of_its_own_recipe(tmp_path):
    from emotion.analysis.lineage_cost import quiet_epoch_cost
    from emotion.classify.recipes import TrainConfig

    document = {"limit": 1000, "rows": [{"model": "basic_cnn", "recipe": "study", "requested_onednn": True,
                                         "full_epoch_cpu_seconds": 496.0}]}
    study = TrainConfig(model="basic_cnn").as_dict()
    assert quiet_epoch_cost(study, document) == {"cpu_seconds": 496.0, "recipe": "study", "exact": True,
                                                 "basis": "quiet float32 epoch of basic_cnn (study recipe)"}
    assert not quiet_epoch_cost({**study, "mixed_precision": True}, document)["exact"]
    assert quiet_epoch_cost({**study, "batch_size": 256}, document) is None  # no row of that recipe
    assert quiet_epoch_cost(study, None) is None


def test_a_levers_cost_is_counted_quietly_where_both_runs_are_priced(tmp_path):
    _quiet_cost_file(tmp_path, basic_cnn=480.0, crop_cnn=240.0)
    recipe = {"model": "basic_cnn", "epochs": 5, "seed": 1, "mixed_precision": False}
    for name, changes, minutes, wall in [("basic_cnn_5ep_seed1", {}, 18.0, 19.0),
                                         ("crop_cnn_5ep_seed1", {"model": "crop_cnn"}, 18.0, 11.0),
                                         ("basic_cnn_5ep_bf16_seed1", {"mixed_precision": True}, 19.0, 18.0)]:
        write_results(tmp_path / f"03_ablation_{name}.json", {
            "model": changes.get("model", "basic_cnn"), "recipe": {**recipe, **changes}, "epochs_run": 5,
            "test": {"accuracy": 0.53, "macro_f1": 0.4}, "publictest_accuracy_at_chosen_epoch": 0.5,
            "training_cpu_minutes": minutes, "training_wall_minutes": wall}, mode="smoke", seed=1)
    levers = {row["lever"]: row for row in compare_levers(tmp_path)}
    crop, bf16 = levers["40x40 centre crop"], levers["mixed_bfloat16"]
    assert crop["cost_basis"] == "quiet" and crop["counted_cpu_minutes_change"] == pytest.approx(-20.0)
    assert crop["cpu_minutes_change"] == 0.0  # as recorded, under different loads: 0.95 vs 1.64 cores
    assert bf16["quiet_cpu_minutes_change"] is None  # mixed_bfloat16 was never priced quietly
    assert bf16["cost_basis"] == "measured at a comparable load" and bf16["counted_cpu_minutes_change"] == 1.0


def test_every_run_of_a_budget_curve_gets_its_curves_verdict():
    from emotion.analysis.budget_curves import convergence_by_run

    rising = pd.DataFrame({"run": ["b", "b_30"], "epochs": [14, 30], "publictest_accuracy": [0.60, 0.64],
                           "cpu_hours": [1.0, 2.0]})
    verdicts = convergence_by_run({"b_30": rising})
    assert set(verdicts) == {"b", "b_30"} and verdicts["b"]["status"] == "still rising"
    assert verdicts["b"]["curve"] == "b_30"


def test_validation_peaks_count_epochs_as_the_history_does():
    from emotion.analysis.compare import validation_peaks

    history = pd.DataFrame({"epoch": [46, 47, 48], "val_accuracy": [0.60, 0.62, 0.61]})
    assert validation_peaks({"m": history}) == {"m": {"peak_publictest_accuracy": 0.62, "peak_epoch": 47,
                                                      "first_epoch": 46, "last_epoch": 48}}
