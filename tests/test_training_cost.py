"""What an epoch costs per model: the projection from a measured epoch, the speed-ups and the tables built on them."""

from __future__ import annotations

import pytest

from emotion.classify.training_cost import (
    cost_markdown,
    epoch_cost,
    merge_rows,
    project_full_epoch,
    speed_change,
    speedups,
)
from emotion.errors import ConfigurationError


def test_a_full_epoch_is_projected_from_the_training_and_evaluation_parts_of_a_measured_one():
    # 1,000 images per split: 10 s of training, 4 s evaluating PublicTest and the PrivateTest audit, 21 CPU-seconds.
    projected = project_full_epoch({"train_seconds": 10.0, "epoch_seconds": 14.0, "cpu_seconds": 21.0}, limit=1000)
    assert projected["train_images_per_second"] == pytest.approx(100.0)
    assert projected["epoch_images_per_second"] == pytest.approx(1000 / 14)
    assert projected["cpu_per_wall"] == pytest.approx(1.5)
    assert projected["full_epoch_wall_seconds"] == pytest.approx(287.09 + 4.0 * 3.589)
    assert projected["full_epoch_cpu_seconds"] == pytest.approx((287.09 + 4.0 * 3.589) * 1.5)
    with pytest.raises(ValueError, match="train_seconds <= epoch_seconds"):
        project_full_epoch({"train_seconds": 15.0, "epoch_seconds": 14.0, "cpu_seconds": 21.0}, limit=1000)


def row(model, onednn, wall, cpu=None, recipe="study"):
    return {"model": model, "recipe": recipe, "requested_onednn": onednn, "full_epoch_wall_seconds": wall,
            "full_epoch_cpu_seconds": cpu if cpu is not None else 1.8 * wall, "train_images_per_second": 28709 / wall}


ROWS = [row("resnet18", True, 300.0), row("resnet18", False, 1080.0), row("basic_cnn", True, 270.0),
        row("basic_cnn", False, 243.0), row("resnet34", True, 480.0, recipe="paper")]


def test_speedups_pair_each_model_and_recipe_measured_both_ways():
    assert speedups(ROWS) == {"resnet18 (study)": pytest.approx(3.6), "basic_cnn (study)": pytest.approx(0.9)}


def test_the_readme_table_has_one_row_per_model_with_onednn_on():
    document = {"meta": {"cpu_model": "AMD EPYC", "cpu_cores": 2}, "limit": 1000, "rows": ROWS}
    lines = cost_markdown(document).splitlines()
    assert lines[0].startswith("**Training cost** (one full FER2013 epoch on this study's machine, AMD EPYC with 2")
    assert "of 1,000 images per split, too short: each epoch's fixed costs" in lines[0]
    assert lines[4:] == ["| `resnet18` (study) | 5.0 | 540 | 3.6x faster |",
                         "| `basic_cnn` (study) | 4.5 | 486 | 1.1x slower |",
                         "| `resnet34` (paper) | 8.0 | 864 | not measured |"]
    assert cost_markdown(None) == ""


def test_a_missing_row_says_how_to_measure_it():
    document = {"rows": ROWS}
    assert epoch_cost(document, "resnet34", "paper")["full_epoch_wall_seconds"] == 480.0
    with pytest.raises(ConfigurationError, match="no row for resnet50 .study recipe, oneDNN on.: run `make training"):
        epoch_cost(document, "resnet50")


def test_a_speed_ratio_near_one_is_no_real_change_and_a_slow_down_is_never_called_faster():
    assert speed_change(1.05) == "1.1x faster" and speed_change(3.5) == "3.5x faster"
    assert speed_change(1.049) == "no real change (1.05x)" and speed_change(0.97) == "no real change (0.97x)"
    assert speed_change(0.951) == "no real change (0.95x)" and speed_change(0.95) == "1.1x slower"


def cost_row(model, onednn, seconds, recipe="study"):
    return {"model": model, "recipe": recipe, "requested_onednn": onednn, "full_epoch_wall_seconds": seconds}


def test_measuring_some_models_again_replaces_only_their_rows():
    document = {"limit": 1000, "rows": [cost_row("basic_cnn", True, 100), cost_row("basic_cnn", False, 200),
                                        cost_row("resnet18", True, 300), cost_row("resnet18", False, 900)]}
    new = [cost_row("resnet18_keepres", True, 1000), cost_row("resnet18", True, 280)]
    merged = merge_rows(document, new, 1000)
    assert [(row["model"], row["requested_onednn"], row["full_epoch_wall_seconds"]) for row in merged] == [
        ("basic_cnn", True, 100), ("basic_cnn", False, 200), ("resnet18", True, 280), ("resnet18", False, 900),
        ("resnet18_keepres", True, 1000)]
    assert merge_rows(None, new, 3000) == new
    with pytest.raises(ConfigurationError, match="measured on 1000 images per split, these rows on 3000: pass "
                                                 "--limit 1000"):
        merge_rows(document, new, 3000)


def test_the_cost_command_refuses_an_unknown_model_or_a_mismatched_limit_before_measuring(capsys, monkeypatch):
    from emotion.app.cli import main

    assert main(["training-cost", "--models", "resnet99"]) == 1
    assert "no such model in the cost table: resnet99" in capsys.readouterr().err
    document = {"meta": {}, "limit": 1000, "rows": [cost_row("basic_cnn", True, 100)]}
    monkeypatch.setattr("emotion.classify.training_cost.load_training_cost", lambda path: document)
    monkeypatch.setattr("emotion.classify.training_cost.measure_epoch_cost",
                        lambda *args, **kwargs: pytest.fail("measured before checking the limit"))
    assert main(["training-cost", "--models", "resnet18", "--limit", "3000"]) == 1
    assert "pass --limit 1000" in capsys.readouterr().err


def test_the_cost_command_can_measure_with_onednn_on_only(tmp_path, monkeypatch, capsys):
    from emotion.app.cli import main

    measured = []
    monkeypatch.setattr("emotion.app.commands.classify.RESULTS_DIR", tmp_path)
    monkeypatch.setattr("emotion.classify.training_cost.load_training_cost", lambda path: None)
    monkeypatch.setattr("emotion.classify.training_cost.measure_epoch_cost", lambda model, recipe, *, onednn, limit: (
        measured.append((model, onednn)) or {**cost_row(model, onednn, 100.0, recipe), "full_epoch_cpu_seconds": 90.0,
                                             "train_images_per_second": 50.0, "limit": limit}))
    assert main(["training-cost", "--models", "resnet18_keepres", "--kernels", "on", "--limit", "1000"]) == 0
    assert measured == [("resnet18_keepres", True)] and (tmp_path / "03_training_cost.json").is_file()
