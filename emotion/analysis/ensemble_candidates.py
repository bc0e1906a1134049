"""The candidates of the ensemble of notebook 05: every released model and every experiment run that kept its outputs
(:mod:`emotion.classify.run_outputs`), with what each cost to train, so that selection may mix architectures and
training budgets and the chosen set's cost counts every lineage once (:func:`emotion.analysis.lineage_cost.set_cost`).
"""

from __future__ import annotations

from collections.abc import Mapping

import pandas as pd

from emotion.analysis.lineage_cost import run_cost

COST_COLUMNS = ("training_cpu_minutes", "training_wall_minutes", "own_training_cpu_minutes",
                "own_training_wall_minutes", "warm_start_from", "quiet_cpu_minutes", "own_quiet_cpu_minutes")
"""The cost columns of :func:`emotion.analysis.compare.released_table` that :func:`candidate_costs` gives every
candidate."""


def run_cost_row(document: dict, training_cost: dict | None) -> dict:
    """The :data:`COST_COLUMNS` of one experiment run (its ``03_ablation_*.json`` document, as
    :func:`emotion.classify.release.release_run` writes it: ``training_*`` the whole lineage's time, ``own_training_*``
    the run's own): recorded CPU and wall minutes, and its epochs at the quiet price of its recipe (NaN without one).
    A warm-started run's parent is no candidate, so its lineage has no quiet price (NaN) and is ordered and counted
    as recorded."""
    from emotion.classify.run_folder import recipe_with_defaults

    cpu, wall = document["training_cpu_minutes"], document["training_wall_minutes"]
    recipe = recipe_with_defaults(document.get("recipe", {}), document["model"])
    quiet = run_cost(document, recipe, training_cost or None)["quiet_cpu_minutes"]
    quiet = float("nan") if quiet is None else quiet
    return {"training_cpu_minutes": cpu, "training_wall_minutes": wall,
            "own_training_cpu_minutes": document.get("own_training_cpu_minutes", cpu),
            "own_training_wall_minutes": document.get("own_training_wall_minutes", wall), "warm_start_from": "",
            "quiet_cpu_minutes": float("nan") if "warm_start" in document else quiet, "own_quiet_cpu_minutes": quiet}


def candidate_costs(table: pd.DataFrame, runs: Mapping[str, dict], training_cost: dict | None) -> pd.DataFrame:
    """:data:`COST_COLUMNS` of every release in ``table`` (:func:`emotion.analysis.compare.released_table`) and every
    experiment run in ``runs`` (name -> results document; a run named like a release is left out), indexed by name,
    cheapest first (quiet price, as recorded where there is none): of equal PublicTest scores the cheaper candidate
    is chosen first."""
    rows = {name: run_cost_row(document, training_cost) for name, document in runs.items()
            if name not in table.index}
    frame = pd.concat([table[list(COST_COLUMNS)], pd.DataFrame.from_dict(rows, orient="index",
                                                                         columns=list(COST_COLUMNS))])
    order = pd.to_numeric(frame["quiet_cpu_minutes"]).fillna(pd.to_numeric(frame["training_cpu_minutes"]))
    return frame.loc[order.sort_values(kind="stable").index]


def merged_probabilities(order: list[str], *sources: Mapping[str, Mapping]) -> dict[str, dict]:
    """``{split: {name: outputs}}`` of every source (released models' and runs' outputs) in the order ``order``
    (names found in no source are skipped), so that ties in the selection go to the earlier name."""
    splits = sorted({split for source in sources for split in source})
    merged: dict[str, dict] = {}
    for split in splits:
        found = {name: values for source in sources for name, values in source.get(split, {}).items()}
        merged[split] = {name: found[name] for name in order if name in found}
    return merged
