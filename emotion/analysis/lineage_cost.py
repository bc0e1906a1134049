"""What a released model cost: its lineage (the releases it was warm-started from) and the quiet price of its epochs;
and how the claims ledger states a run's cost (:func:`stated_cost`, :func:`paper_budget_cost`).

A model's cost is the whole lineage's (parents' epochs and its own), and recorded CPU time is not a fair unit across
runs: on the shared 2-core machine the same recipe recorded about three times the CPU time an epoch with both cores
contended as with one core to itself. So costs are compared at the quiet price (:data:`QUIET_COST_FILE`: each model's
full epoch measured one process at a time on the quiet machine, oneDNN on) times the epochs, or as recorded only
between runs that had the machine to the same degree (:func:`comparable_load`).
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from emotion.paths import MODELS_DIR

QUIET_COST_FILE = "03_training_cost.json"
"""The results file (``make training-cost``) with each model's cost of one full epoch, measured one process at a
time on the quiet machine with oneDNN on: the yardstick that makes runs trained under different loads comparable."""
COST_FIELDS = ("model", "batch_size", "augment", "optimizer", "model_options")
"""The recipe fields that decide what an epoch costs; the learning rate, seed, epoch budget, class weighting and warm
start do not. Mixed precision does, and :data:`QUIET_COST_FILE` measured float32 only (:func:`quiet_epoch_cost`)."""
SAME_LOAD_CORES = 0.25
"""Two runs' recorded CPU times are compared as they stand only when the cores each kept busy (its CPU time over its
wall time) differ by less than this: the same basic-CNN recipe recorded about 220 CPU-seconds an epoch with one core
busy and about 650 with 1.7 (threads that wait for a core still burn CPU time)."""


def comparable_load(cores_a: float | None, cores_b: float | None) -> bool:
    """Whether two runs' recorded CPU times may be compared as they stand: both runs' cores used (CPU over wall time)
    are known and differ by less than :data:`SAME_LOAD_CORES`."""
    known = all(value is not None and value == value for value in (cores_a, cores_b))
    return bool(known and abs(cores_a - cores_b) < SAME_LOAD_CORES)


def lineage(table: pd.DataFrame, name: str) -> list[str]:
    """``name`` and the releases of ``table`` it was warm-started from (``warm_start_from``), oldest first; a parent
    missing from ``table`` ends the chain (:func:`lineage_label` names it)."""
    chain = [name]
    while (parent := table.loc[chain[0]].get("warm_start_from") or "") in table.index and parent not in chain:
        chain.insert(0, parent)
    return chain


def lineage_label(table: pd.DataFrame, name: str) -> str:
    """The epochs of ``name``'s whole lineage, parents first: "45 + 8 + 8 epochs", or "3 epochs from <parent>"
    when the parent is not in ``table``."""
    chain = lineage(table, name)
    parent = table.loc[chain[0]].get("warm_start_from") or ""
    return (" + ".join(str(int(table.loc[member, "epochs"])) for member in chain) + " epochs"
            + (f" from {parent}" if parent else ""))


def lineage_sum(table: pd.DataFrame, name: str, column: str) -> float:
    """``column`` of ``table`` summed over ``name``'s lineage (:func:`lineage`); NaN when a run of it has none or
    its oldest run was warm-started from a model not in ``table``."""
    chain = lineage(table, name)
    if table.loc[chain[0]].get("warm_start_from"):
        return float("nan")
    return float(table.loc[chain, column].sum(skipna=False))


def lineage_history(table: pd.DataFrame, name: str, models_dir: Path | str = MODELS_DIR) -> pd.DataFrame:
    """The per-epoch history of ``name``'s whole lineage (:func:`lineage`), the parents' epochs first.

    Returns:
        The histories' rows (:func:`emotion.classify.run_folder.read_history`) with ``epoch`` counted on through
        the lineage, ``run`` (the release the row belongs to), ``own_epoch`` (its epoch within that run) and
        ``quiet_cpu_seconds`` (the run's quiet price of one epoch, NaN where it has none).
    """
    from emotion.classify.run_folder import read_history

    parts, offset = [], 0
    for member in lineage(table, name):
        row = table.loc[member]
        part = pd.DataFrame(read_history(Path(models_dir) / row["history_file"]))
        parts.append(part.assign(run=member, own_epoch=part["epoch"], epoch=part["epoch"] + offset,
                                 quiet_cpu_seconds=row["own_quiet_cpu_minutes"] * 60 / row["epochs"]))
        offset += int(row["epochs"])
    return pd.concat(parts, ignore_index=True)


def set_cost(table: pd.DataFrame, members: list[str], basis: str) -> float:
    """Training CPU-minutes of a set of releases (an ensemble), each lineage counted once
    (:func:`emotion.classify.ensemble.lineage_cost`): ``basis`` "quiet" prices every epoch at
    :func:`quiet_epoch_cost` (NaN where a run has no price), "measured" takes the recorded CPU time."""
    from emotion.classify.ensemble import lineage_cost

    total, own = (("quiet_cpu_minutes", "own_quiet_cpu_minutes") if basis == "quiet" else
                  ("training_cpu_minutes", "own_training_cpu_minutes"))
    costs = {name: {"training_cpu_minutes": row[total], "own_training_cpu_minutes": row[own],
                    "training_wall_minutes": 0.0, "own_training_wall_minutes": 0.0,
                    "warm_start_from": row["warm_start_from"]} for name, row in table.iterrows()}
    return lineage_cost(members, costs)[0]


def quiet_epoch_cost(recipe: dict, training_cost: dict | None) -> dict | None:
    """The quiet price of one epoch of ``recipe`` (a full recipe, :class:`emotion.classify.recipes.TrainConfig`
    fields): the :data:`QUIET_COST_FILE` row (oneDNN on) of the named recipe whose :data:`COST_FIELDS` equal the
    run's.

    Returns:
        ``{"cpu_seconds", "recipe", "exact", "basis"}``; ``exact`` is False for a run trained under mixed_bfloat16,
        priced at the float32 epoch the file measured (``basis`` says so); None without the file or a matching row.
    """
    name = None if training_cost is None else named_recipe(recipe)
    if name is None:
        return None
    for row in training_cost["rows"]:
        if (row["model"], row["recipe"], bool(row["requested_onednn"])) == (recipe["model"], name, True):
            exact = not recipe.get("mixed_precision")
            basis = f"quiet float32 epoch of {recipe['model']} ({name} recipe)" + (
                "" if exact else "; the run trained under mixed_bfloat16, not measured quietly")
            return {"cpu_seconds": float(row["full_epoch_cpu_seconds"]), "recipe": name, "exact": exact,
                    "basis": basis}
    return None


def named_recipe(recipe: dict) -> str | None:
    """The named recipe (:data:`emotion.classify.recipes.RECIPES`, "study" or "paper") that ``recipe`` (a full
    recipe) follows: the one whose :data:`COST_FIELDS` (architecture, batch, augmentation, optimizer, model options)
    equal its; None for a recipe of its own."""
    from emotion.classify.recipes import RECIPES, recipe_config

    for name in RECIPES:
        named = recipe_config(name, recipe["model"]).as_dict()
        if all(named[field] == recipe.get(field) for field in COST_FIELDS):
            return name
    return None


def run_cost(document: dict, recipe: dict, training_cost: dict | None) -> dict:
    """What one run (a ``03_train_*`` or ``03_ablation_*`` results file and its full ``recipe``) cost by itself:
    ``{"measured_cpu_minutes", "cores_used" (None without a wall time), "quiet_cpu_minutes" (its epochs at
    :func:`quiet_epoch_cost`; None without a price), "exact" (the price is of the run's own precision)}``."""
    cpu = document.get("own_training_cpu_minutes", document["training_cpu_minutes"])
    wall = document.get("own_training_wall_minutes", document.get("training_wall_minutes"))
    price = quiet_epoch_cost(recipe, training_cost)
    epochs = document.get("epochs_run", recipe["epochs"])
    return {"measured_cpu_minutes": float(cpu), "cores_used": float(cpu / wall) if wall else None,
            "quiet_cpu_minutes": epochs * price["cpu_seconds"] / 60 if price else None,
            "exact": bool(price and price["exact"])}


def cost_change(before: dict, after: dict) -> dict:
    """The one rule for what a change of recipe cost, between two :func:`run_cost` results: at the quiet price when
    both runs have one of their own precision (``basis`` "quiet"), else as recorded when both ran under a comparable
    load (:func:`comparable_load`; "measured at a comparable load"), else not at all ("not comparable": the recorded
    times were taken under different loads).

    Returns:
        ``{"cpu_minutes_change": float or None, "basis"}``.
    """
    if before["exact"] and after["exact"]:
        return {"cpu_minutes_change": after["quiet_cpu_minutes"] - before["quiet_cpu_minutes"], "basis": "quiet"}
    if comparable_load(before["cores_used"], after["cores_used"]):
        return {"cpu_minutes_change": after["measured_cpu_minutes"] - before["measured_cpu_minutes"],
                "basis": "measured at a comparable load"}
    return {"cpu_minutes_change": None, "basis": "not comparable"}


def stated_cost(evidence: dict, run: str, recorded_minutes: float) -> str:
    """A run's training cost as the ledger states it: at the quiet price of its epochs where notebook 05 priced it
    (``evidence["quiet_cpu_minutes"]``: recorded CPU time depends on the CPU, the kernels, the precision and the load
    of each session, so only the quiet price compares runs; it is a float32 epoch's, also for a run trained in
    bfloat16), with the recorded minutes beside it; else as recorded, said so."""
    quiet = evidence.get("quiet_cpu_minutes", {}).get(run)
    if quiet is None or quiet != quiet:  # no price, or NaN
        return f"{recorded_minutes:.0f} CPU-minutes as recorded"
    return f"{quiet:.0f} CPU-minutes at the quiet price of a float32 epoch ({recorded_minutes:.0f} as recorded)"


def paper_budget_cost(evidence: dict, paper: dict) -> str:
    """The ledger's words for what the paper's whole schedule costs: from the measured cost of one epoch of the
    paper's recipe with oneDNN on (``evidence["training_cost"]``, ``results/03_training_cost.json``) when present,
    else extrapolated from the run's own CPU time (which may come from slower kernels). A run's schedule is set by its
    epochs, so a shorter run cannot be continued into the paper's: the remaining cost is a whole run's unless the run
    is that schedule cut short (``schedule_epochs`` equal to the paper's)."""
    from emotion.analysis.ablations import schedule_epochs

    whole = schedule_epochs(paper) == paper["paper_epochs"]
    remaining = paper["paper_epochs"] - paper["epochs"] if whole else paper["paper_epochs"]
    what = (f"{remaining} more epochs of the paper's schedule" if whole else
            f"a run of the paper's whole {remaining}-epoch schedule")
    for row in (evidence.get("training_cost") or {}).get("rows", []):
        if (row["model"], row["recipe"], bool(row["requested_onednn"])) == ("resnet34", "paper", True):
            hours = remaining * row["full_epoch_cpu_seconds"] / 3600
            return (f"{what}, about {hours:.0f} CPU-hours at the quiet float32 price, the measured "
                    f"{row['full_epoch_cpu_seconds']:,.0f} CPU-seconds an epoch with oneDNN on")
    return (f"{what}, about {paper['cpu_hours'] * remaining / paper['epochs']:.0f} CPU-hours at this "
            "run's own cost per epoch")
