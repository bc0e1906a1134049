"""Budget curves: the same recipe trained at doubled epoch budgets, each budget its own run, and the verdict on
whether a model had converged (:func:`convergence`), the only evidence the study accepts on it. Notebook 05 draws and
states them, the claims ledger gates its trained claims on them (:mod:`emotion.analysis.training_rules`).
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from emotion.analysis.lineage_cost import run_cost
from emotion.classify.recipes import recipe_identity
from emotion.paths import RESULTS_DIR
from emotion.provenance import read_results

CONVERGED_POINTS = 0.5
"""A budget curve has converged when its last doubling of the epoch budget moved PublicTest accuracy by less than
this many points."""
PAPER_TOTAL_EPOCHS = 60
"""The paper's training length (60 epochs). A budget curve whose longest run reached it without converging is settled
at the paper's own budget (status "paper budget"): a comparison at that budget is as long as the paper's, though the
curve was still moving."""
BUDGET_CAP_CPU_HOURS = 10.0
"""The stated cap of one model's longest budget run: about five wall-hours of both cores of the study's machine
with TensorFlow's oneDNN kernels on (an epoch's cost per model: ``results/03_training_cost.json``)."""

UNGROUPED_FIELDS = ("epochs", "mixed_precision")
"""Recipe fields that do not split a budget curve: the epoch budget (what the curve varies) and the arithmetic
precision. ``mixed_precision`` asks for ``mixed_bfloat16`` only where bfloat16 runs in hardware, so whether a run
used it depends on the CPU of each session (:func:`emotion.classify.devices.training_policy`); the variables and the
softmax stay float32, and the study's paired ablation (``basic_cnn_5ep_bf16_seed1`` against ``basic_cnn_5ep_seed1``)
moved PublicTest and PrivateTest by less than the spread over seeds. Each point of a curve states its
:func:`run_precision`."""


def run_precision(document: dict) -> str:
    """The arithmetic a run trained in: the policies its sessions recorded (``float32``, ``mixed_bfloat16``, or both
    joined by " + " for a run that resumed on another CPU); for a run recorded before sessions were, ``float32``
    unless its recipe asked for mixed precision, then ``mixed_bfloat16 (asked)`` (the CPU of that run was not
    recorded)."""
    policies = sorted({session["policy"] for session in document.get("sessions") or []
                       if isinstance(session, dict) and session.get("policy")})
    if policies:
        return " + ".join(policies)
    return "mixed_bfloat16 (asked)" if (document.get("recipe") or {}).get("mixed_precision") else "float32"


def run_documents(results_dir: Path | str) -> dict[str, dict]:
    """Every released (``03_train_*``) and experiment (``03_ablation_*``) run's results, by run name."""
    documents = {}
    for prefix in ("03_train_", "03_ablation_"):
        for path in sorted(Path(results_dir).glob(f"{prefix}*.json")):
            documents[path.stem.removeprefix(prefix)] = read_results(path)
    return documents


def _quiet_hours(document: dict, training_cost: dict | None) -> float:
    """A run's epochs at the quiet price of its recipe, in hours (NaN without a price)."""
    quiet = run_cost(document, full_recipe(document), training_cost or None)["quiet_cpu_minutes"]
    return float("nan") if quiet is None else quiet / 60


def budget_runs(results_dir: Path | str = RESULTS_DIR, training_cost: dict | None = None) -> dict[str, pd.DataFrame]:
    """Runs of one recipe at several epoch budgets: the points of each model's budget curve.

    Runs (released and experiment) are grouped by their full recipe with ``epochs`` and ``mixed_precision`` left out
    (:data:`UNGROUPED_FIELDS`), so a group holds the same model, seed, optimizer and augmentation at different
    budgets; only groups with at least two budgets are returned, keyed by the name of the group's longest run.

    Returns:
        ``{name: DataFrame}``, one row per run sorted by epochs, with columns ``run``, ``model``, ``epochs``,
        ``chosen_epoch``, ``publictest_accuracy`` (at the chosen epoch), ``privatetest_accuracy``,
        ``privatetest_macro_f1``, ``privatetest_n``, ``cpu_hours``, ``wall_hours`` (as recorded, over all of a
        run's sessions), ``quiet_cpu_hours`` (its epochs at the quiet price of ``training_cost``,
        :func:`emotion.analysis.lineage_cost.run_cost`; NaN without one), ``recipe`` (the named recipe it follows,
        "study" or "paper", :func:`emotion.classify.recipes.recipe_identity`; "own" for neither) and ``precision``
        (:func:`run_precision`).
    """
    import json

    groups: dict[str, list[tuple[str, dict]]] = {}
    for name, document in run_documents(results_dir).items():
        recipe = {key: value for key, value in full_recipe(document).items() if key not in UNGROUPED_FIELDS}
        groups.setdefault(json.dumps(recipe, sort_keys=True), []).append((name, document))
    curves = {}
    for members in groups.values():
        rows = sorted(({
            "run": name, "model": document["model"], "epochs": int(document["epochs_run"]),
            "chosen_epoch": int(document["chosen_epoch"]),
            "publictest_accuracy": float(document["publictest_accuracy_at_chosen_epoch"]),
            "privatetest_accuracy": float(document["test"]["accuracy"]),
            "privatetest_macro_f1": float(document["test"]["macro_f1"]),
            "privatetest_n": int(document["test"]["n"]),
            "cpu_hours": document["training_cpu_minutes"] / 60, "wall_hours": document["training_wall_minutes"] / 60,
            "quiet_cpu_hours": _quiet_hours(document, training_cost),
            "recipe": recipe_identity(full_recipe(document)), "precision": run_precision(document),
        } for name, document in members), key=lambda row: row["epochs"])
        if len({row["epochs"] for row in rows}) >= 2:
            curves[rows[-1]["run"]] = pd.DataFrame(rows)
    return curves


def convergence(curve: pd.DataFrame, threshold_points: float = CONVERGED_POINTS,
                cap_cpu_hours: float = BUDGET_CAP_CPU_HOURS, paper_epochs: int = PAPER_TOTAL_EPOCHS) -> dict:
    """Whether a budget curve (a :func:`budget_runs` frame) has converged: its last doubling of epochs moved
    PublicTest accuracy by less than ``threshold_points``; or, failing that, whether its longest run reached the
    paper's own ``paper_epochs``, which settles it at the paper's budget.

    "The last doubling" compares the longest run with the longest run of at most half its epochs. When none is that
    short, the curve has no doubling yet.

    Returns:
        ``{"epochs": (shorter, longer) or None, "publictest_change_points", "converged": bool, "capped": bool (the
        longest run used at least ``cap_cpu_hours``), "reached_paper_budget": bool, "settled": bool (converged or at
        the paper's budget), "status": "converged" | "paper budget" | "capped" | "still rising" | "falling" |
        "no doubling"}``.
    """
    curve = curve.sort_values("epochs")
    longest = curve.iloc[-1]
    shorter = curve[curve["epochs"] * 2 <= longest["epochs"]]
    capped = bool(longest["cpu_hours"] >= cap_cpu_hours)
    reached = bool(longest["epochs"] >= paper_epochs)
    if shorter.empty:
        return {"epochs": None, "publictest_change_points": None, "converged": False, "capped": capped,
                "reached_paper_budget": reached, "settled": reached,
                "status": "paper budget" if reached else "capped" if capped else "no doubling"}
    base = shorter.iloc[-1]
    change = 100 * (longest["publictest_accuracy"] - base["publictest_accuracy"])
    converged = bool(abs(change) < threshold_points)
    return {"epochs": (int(base["epochs"]), int(longest["epochs"])), "publictest_change_points": float(change),
            "converged": converged, "capped": capped, "reached_paper_budget": reached,
            "settled": converged or reached,
            "status": "converged" if converged else "paper budget" if reached else "capped" if capped
            else "still rising" if change > 0 else "falling"}


def next_budget(longest_epochs: int, paper_epochs: int = PAPER_TOTAL_EPOCHS) -> int:
    """The epochs of the run that continues a budget curve whose longest run trained ``longest_epochs``: twice that,
    unless the doubling after it would pass the paper's ``paper_epochs``; then the paper's budget itself, since a
    curve that reaches it is settled (:func:`convergence`) whatever its PublicTest does. A cost rule: from 26 epochs,
    a 52-epoch run settles the curve only if it converged, and otherwise needs a 60-epoch run after it; one 60-epoch
    run settles it either way."""
    if longest_epochs >= paper_epochs:
        return int(longest_epochs)
    return int(paper_epochs if 4 * longest_epochs > paper_epochs else 2 * longest_epochs)


def full_recipe(document: dict) -> dict:
    """A run's recipe with the fields older runs did not record filled with their defaults
    (:func:`emotion.classify.run_folder.recipe_with_defaults`)."""
    from emotion.classify.run_folder import recipe_with_defaults

    return recipe_with_defaults(document.get("recipe", {}), document["model"])


def convergence_by_run(curves: dict[str, pd.DataFrame]) -> dict[str, dict]:
    """Each run of a :func:`budget_runs` curve with its curve's :func:`convergence` verdict (and ``curve``, its
    name): the only evidence the study accepts on whether a run's recipe had converged or its budget limited it. A
    run on no curve has no entry: one run at one budget cannot say (a peak in its last epochs is what a cosine
    schedule gives whatever the budget)."""
    return {run: {**convergence(curve), "curve": name} for name, curve in curves.items() for run in curve["run"]}


def budget_verdicts(curves: dict[str, pd.DataFrame]) -> pd.DataFrame:
    """One row per :func:`budget_runs` curve: the model, its budgets, the :func:`convergence` verdict."""
    rows = []
    for name, curve in curves.items():
        verdict = convergence(curve)
        rows.append({"curve": name, "model": curve["model"].iloc[-1],
                     "epochs": " -> ".join(str(value) for value in curve["epochs"]),
                     "publictest_change_points": verdict["publictest_change_points"],
                     "status": verdict["status"], "longest_run_cpu_hours": float(curve["cpu_hours"].iloc[-1])})
    return pd.DataFrame(rows, columns=["curve", "model", "epochs", "publictest_change_points", "status",
                                       "longest_run_cpu_hours"])
