"""Ensemble candidates: released models and experiment runs side by side with what each cost, cheapest first, and
their outputs merged in that order."""

import numpy as np
import pandas as pd
import pytest

from emotion.analysis.ensemble_candidates import COST_COLUMNS, candidate_costs, merged_probabilities

TRAINING_COST = {"rows": [{"model": "basic_cnn", "recipe": "study", "requested_onednn": True,
                           "full_epoch_cpu_seconds": 300.0}]}


def release_table():
    rows = {"wide": {"training_cpu_minutes": 600.0, "training_wall_minutes": 400.0, "own_training_cpu_minutes": 100.0,
                     "own_training_wall_minutes": 60.0, "warm_start_from": "", "quiet_cpu_minutes": 500.0,
                     "own_quiet_cpu_minutes": 500.0, "parameters": 1},
            "small": {"training_cpu_minutes": 30.0, "training_wall_minutes": 20.0, "own_training_cpu_minutes": 30.0,
                      "own_training_wall_minutes": 20.0, "warm_start_from": "", "quiet_cpu_minutes": float("nan"),
                      "own_quiet_cpu_minutes": float("nan"), "parameters": 1}}
    return pd.DataFrame.from_dict(rows, orient="index")


def run_document(epochs, cpu, wall, model="basic_cnn"):
    return {"model": model, "recipe": {"model": model, "epochs": epochs}, "epochs_run": epochs,
            "training_cpu_minutes": cpu, "training_wall_minutes": wall}


def test_runs_are_priced_like_releases_and_ordered_cheapest_first():
    runs = {"basic_cnn_60ep": run_document(60, 520.0, 300.0), "mobile_run": run_document(4, 9.0, 5.0, "mobilenet"),
            "wide": run_document(1, 1.0, 1.0)}  # named like a release: left out
    costs = candidate_costs(release_table(), runs, TRAINING_COST)
    assert list(costs.columns) == list(COST_COLUMNS)
    # 60 epochs at 300 quiet CPU-s = 300 CPU-min; mobilenet has no quiet price, so its 9 recorded minutes order it.
    assert costs.loc["basic_cnn_60ep", "quiet_cpu_minutes"] == pytest.approx(300.0)
    assert np.isnan(costs.loc["mobile_run", "quiet_cpu_minutes"])
    assert costs.loc["basic_cnn_60ep", "own_training_cpu_minutes"] == 520.0
    assert list(costs.index) == ["mobile_run", "small", "basic_cnn_60ep", "wide"]
    # Without a price file the run is ordered by its 520 recorded minutes, after the release at 500.
    assert list(candidate_costs(release_table(), runs, {}).index)[-2:] == ["wide", "basic_cnn_60ep"]


def test_a_warm_started_run_counts_its_parents_time():
    from emotion.classify.release import with_cumulative_time

    # As release_run writes it: the lineage's time in training_*, the run's own in own_training_*.
    warm = with_cumulative_time({**run_document(8, 50.0, 30.0), "warm_start": {"from": "models/x.keras"},
                                 "cumulative_training_cpu_minutes": 650.0, "cumulative_training_wall_minutes": 420.0})
    row = candidate_costs(release_table(), {"cycle": warm}, TRAINING_COST).loc["cycle"]
    assert (row["training_cpu_minutes"], row["own_training_cpu_minutes"]) == (650.0, 50.0)
    assert (row["training_wall_minutes"], row["own_training_wall_minutes"]) == (420.0, 30.0)
    assert np.isnan(row["quiet_cpu_minutes"]) and row["own_quiet_cpu_minutes"] == pytest.approx(40.0)


def test_outputs_are_merged_in_the_candidates_order():
    released = {"PublicTest": {"b": 1, "a": 2}, "PrivateTest": {"b": 3, "a": 4}}
    runs = {"PublicTest": {"r": 5}, "PrivateTest": {"r": 6}}
    merged = merged_probabilities(["r", "a", "missing", "b"], released, runs)
    assert list(merged["PublicTest"]) == ["r", "a", "b"] and merged["PrivateTest"] == {"r": 6, "a": 4, "b": 3}
