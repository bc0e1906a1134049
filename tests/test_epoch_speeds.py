"""Whole epochs as the runs measured them: each epoch assigned to the session that trained it, summarised per model,
recipe, precision, kernels and CPU."""

import pytest

from emotion.analysis.epoch_speeds import observed_epoch_speeds, run_epochs, speeds_markdown
from emotion.provenance import write_results

XEON = {"policy": "mixed_bfloat16", "cpu_model": "Xeon", "cpu_cores": 2, "native_bf16": True, "onednn": True}
EPYC = {"policy": "float32", "cpu_model": "EPYC", "cpu_cores": 2, "native_bf16": False, "onednn": True}


def epoch(index, images_per_second, cpu=300.0):
    wall = 28709 / images_per_second + 20 if images_per_second else 20.0
    return {"epoch": index, "train_images_per_second": images_per_second, "epoch_seconds": wall,
            "cpu_seconds": cpu, "val_accuracy": 0.5}


def write_run(results_dir, name, history, sessions, recipe=None):
    from emotion.classify.recipes import recipe_config

    recipe = recipe or recipe_config("study", "resnet18").as_dict()
    write_results(results_dir / f"03_ablation_{name}.json", {"run": name, "model": recipe["model"], "recipe": recipe,
                                                              "history": history, "sessions": sessions},
                  mode="full", seed=0)


def test_each_epoch_counts_for_the_session_that_trained_it():
    # History counts epochs from 1; a session's first_epoch is the epochs already finished when it started. The
    # second session stopped before its first epoch finished; the third, from the same point, trained epoch 3.
    sessions = [{**EPYC, "first_epoch": 0}, {**XEON, "first_epoch": 2, "onednn": False}, {**XEON, "first_epoch": 2}]
    epochs = run_epochs({"history": [epoch(1, 50), epoch(2, 52), epoch(3, 200), epoch(4, 0.0)],
                         "sessions": sessions})
    assert [(e["epoch"], e["precision"], e["kernels"]) for e in epochs] == [
        (1, "float32", "oneDNN on"), (2, "float32", "oneDNN on"), (3, "mixed_bfloat16", "oneDNN on")]
    assert epochs[0]["cpu"] == "EPYC, 2 cores, no bfloat16 hardware"  # epoch 4's zero speed is left out
    assert run_epochs({"history": [epoch(1, 50)]}) == []
    assert run_epochs({"history": [epoch(1, 50)], "sessions": [{"first_epoch": 0}]})[0]["kernels"] == "not recorded"
    # Epochs trained before the first recorded session (recording began mid-run) are left out.
    assert [e["epoch"] for e in run_epochs({"history": [epoch(22, 60), epoch(23, 61)],
                                            "sessions": [{**EPYC, "first_epoch": 22}]})] == [23]


def test_the_runs_epochs_are_summarised_per_model_recipe_precision_kernels_and_cpu(tmp_path):
    write_run(tmp_path, "resnet18_26ep", [epoch(1, 240), epoch(2, 250), epoch(3, 260, cpu=400.0)],
              [{**XEON, "first_epoch": 0}])
    write_run(tmp_path, "resnet18_60ep", [epoch(1, 100), epoch(2, 300)],
              [{**EPYC, "first_epoch": 0}, {**XEON, "first_epoch": 1}])
    write_run(tmp_path, "old", [epoch(1, 30)], [])  # before sessions were recorded
    from emotion.classify.recipes import recipe_config

    paper = recipe_config("paper", "resnet34")
    write_run(tmp_path, "resnet34_paper_2ep", [epoch(1, 190)], [{**XEON, "first_epoch": 0}], paper.as_dict())
    odd = {**paper.as_dict(), "batch_size": 32}
    write_run(tmp_path, "resnet34_b32", [epoch(1, 150)], [{**XEON, "first_epoch": 0}], odd)
    observed = observed_epoch_speeds(tmp_path)
    rows = {(row["model"], row["recipe"], row["precision"]): row for row in observed["rows"]}
    assert set(rows) == {("resnet18", "study", "mixed_bfloat16"), ("resnet18", "study", "float32"),
                         ("resnet34", "paper", "mixed_bfloat16"), ("resnet34", "own recipe, batch 32",
                                                                   "mixed_bfloat16")}
    xeon = rows[("resnet18", "study", "mixed_bfloat16")]
    assert xeon["runs"] == ["resnet18_26ep", "resnet18_60ep"] and xeon["epochs"] == 4
    assert xeon["train_images_per_second"] == pytest.approx(255.0) and xeon["epoch_cpu_seconds"] == 300.0
    assert xeon["epoch_wall_seconds"] == pytest.approx((28709 / 250 + 28709 / 260) / 2 + 20)
    assert rows[("resnet18", "study", "float32")]["runs"] == ["resnet18_60ep"]
    assert observed["unrecorded_runs"] == ["old"]
    table = speeds_markdown(observed)
    assert "| `resnet34` (paper) | mixed_bfloat16 | oneDNN on | Xeon, 2 cores, bfloat16 in hardware | 190 | " in table
    assert "| 4 (`resnet18_26ep`, `resnet18_60ep`) |" in table and table.endswith("CPU and precision.")
    assert speeds_markdown({"rows": [], "unrecorded_runs": ["old"]}) == ""
