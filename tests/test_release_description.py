"""Notebook 03's description of a released run: every clause follows a rule on the recorded numbers."""

import pytest

from emotion.classify.release import core_share, recipe_rows, with_cumulative_time
from emotion.classify.training_prose import describe_training_run


def history(cpu_seconds, epoch_seconds=100.0, epochs=4, last_accuracy=0.60, last_val=0.65):
    rows = [{"epoch": epoch + 1, "cpu_seconds": cpu_seconds, "epoch_seconds": epoch_seconds + epoch,
             "accuracy": 0.5, "val_accuracy": 0.5} for epoch in range(epochs)]
    rows[-1].update(accuracy=last_accuracy, val_accuracy=last_val)
    return rows


def release(chosen=4, epochs=4, **extra):
    return {"chosen_epoch": chosen, "epochs_run": epochs, "publictest_accuracy_at_chosen_epoch": 0.65,
            "training_cpu_minutes": 12.0, "training_wall_minutes": 7.0, "epoch_wall_seconds_median": 101.5,
            "train_images_per_second_median": 280.0, "meta": {"cpu_cores": 2}, "parameters": 1234,
            "train_images": 28709, "recipe": {"epochs": epochs, "batch_size": 64, "learning_rate": 0.001,
                                              "weight_decay": 0.05, "warmup_epochs": 1, "label_smoothing": 0.1,
                                              "mixed_precision": False, "seed": 0}, **extra}


def test_the_core_share_is_the_median_of_cpu_over_wall_seconds():
    assert core_share([{"cpu_seconds": 100, "epoch_seconds": 100}, {"cpu_seconds": 180, "epoch_seconds": 100},
                       {"cpu_seconds": 190, "epoch_seconds": 100}]) == pytest.approx(1.8)


def test_a_run_alone_and_a_run_beside_other_work_are_told_apart():
    alone = describe_training_run(release(), history(cpu_seconds=180.0))
    assert "keeping 1.77 cores busy of the machine's 2 (median over epochs): it had the machine to itself." in alone
    shared = describe_training_run(release(), history(cpu_seconds=110.0))
    assert ("keeping 1.08 cores busy of the machine's 2 (median over epochs): it shared the machine with other "
            "work") in shared
    assert "100-103 s" in alone and "Training took 7 wall-minutes and 12 CPU-minutes." in alone


def test_a_peak_at_the_last_epoch_says_the_budget_may_be_short_and_underfitting_only_when_it_does():
    underfit = describe_training_run(release(), history(180.0, last_accuracy=0.60, last_val=0.65))
    assert "highest at the last epoch, so a longer budget may still help (training accuracy is below" in underfit
    overfit = describe_training_run(release(), history(180.0, last_accuracy=0.70, last_val=0.65))
    assert "may still help." in overfit and "underfits" not in overfit
    earlier = describe_training_run(release(chosen=2), history(180.0))
    assert "did not improve after epoch 2" in earlier and "longer budget" not in earlier


def test_a_warm_started_run_gives_its_own_time_and_the_lineage_s():
    summary = release(warm_start={"from": "models/parent.keras", "parent_training_cpu_minutes": 100.0},
                      cumulative_training_cpu_minutes=112.0, cumulative_training_wall_minutes=67.0)
    text = describe_training_run(with_cumulative_time(summary), history(180.0))
    assert ("Training took 7 wall-minutes and 12 CPU-minutes, starting from the weights of parent.keras; with that "
            "model's own training, 112 CPU-minutes and 67 wall-minutes in all.") in text
    rows = recipe_rows(with_cumulative_time(summary))
    assert rows["starts from"] == "the weights of parent.keras" and rows["optimizer"].startswith("AdamW")
    assert recipe_rows(release())["starts from"] == "random initialisation"
    sgd = release()
    sgd["recipe"] = {**sgd["recipe"], "optimizer": "sgd", "momentum": 0.9}
    assert recipe_rows(sgd)["optimizer"] == "SGD, momentum 0.9, peak lr 0.001, weight decay 0.05"


def test_cumulative_time_replaces_the_totals_only_for_a_warm_start():
    plain = with_cumulative_time(release())
    assert (plain["training_cpu_minutes"], plain["own_training_cpu_minutes"]) == (12.0, 12.0)
    warm = with_cumulative_time(release(cumulative_training_cpu_minutes=112.0, cumulative_training_wall_minutes=67.0))
    assert (warm["training_cpu_minutes"], warm["own_training_cpu_minutes"]) == (112.0, 12.0)
    assert (warm["training_wall_minutes"], warm["own_training_wall_minutes"]) == (67.0, 7.0)
