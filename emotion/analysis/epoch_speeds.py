"""What whole training epochs cost, as the study's own runs measured them, per model, recipe, precision and CPU.

``results/03_training_cost.json`` (``make training-cost``) prices one epoch from a short measured epoch on a subset,
one process at a time, in float32: a controlled comparison of the kernels, but short epochs carry fixed costs that
full ones spread, and the CPU it ran on may not be today's. The runs themselves record every whole epoch they trained
(``history``: wall seconds, CPU seconds and training images per second) and, since the study began recording sessions,
the CPU, kernels and arithmetic of each session (``sessions``). This module reads those epochs back, assigns each to
its session, and summarises them by model, recipe, precision and CPU (:func:`observed_epoch_speeds`), so a budget can
be planned from what a full epoch took on a given CPU.

Each epoch is counted as it ran: some shared the machine with other work (notebooks, tests), which the medians damp
but do not remove, and ``cores_used`` (CPU seconds over wall seconds) shows how much of the machine the run had.
"""

from __future__ import annotations

import statistics
from pathlib import Path
from typing import Any

from emotion.provenance import read_results

RUN_PATTERNS = ("03_train_*.json", "03_ablation_*.json")
"""The results files of single training runs (K-fold files keep no per-epoch history)."""


def _session_of(epoch: int, sessions: list[dict]) -> dict | None:
    """The session that trained ``epoch`` (counted from 1, as a run's history counts): the last one whose
    ``first_epoch`` (the epochs already finished when it started) is below it (a session that stopped before its
    first epoch finished is followed by one with the same ``first_epoch``, which then trained it); None when the
    epoch was trained before the first recorded session."""
    found = None
    for session in sessions:
        if session.get("first_epoch", 0) < epoch:
            found = session
    return found


def _kernels(session: dict) -> str:
    """TensorFlow's kernels in a session: oneDNN on or off, as the session recorded it (sessions before the study
    recorded it: "not recorded")."""
    onednn = session.get("onednn")
    return "not recorded" if onednn is None else "oneDNN on" if onednn else "oneDNN off"


def run_epochs(document: dict[str, Any]) -> list[dict[str, Any]]:
    """The whole epochs of one run's results (``history`` and ``sessions``), each with what trained it.

    Returns:
        One ``{"epoch", "train_images_per_second", "epoch_seconds", "cpu_seconds", "precision", "kernels", "cpu"}``
        per epoch
        whose session is recorded and whose times are positive; [] for a run from before sessions were recorded.
    """
    sessions = document.get("sessions") or []
    epochs = []
    for row in document.get("history") or []:
        session = _session_of(int(row["epoch"]), sessions)
        times = [row.get(key) for key in ("train_images_per_second", "epoch_seconds", "cpu_seconds")]
        if session is None or any(not isinstance(value, (int, float)) or not value > 0 for value in times):
            continue
        bf16 = "bfloat16 in hardware" if session.get("native_bf16") else "no bfloat16 hardware"
        epochs.append({"epoch": int(row["epoch"]), "train_images_per_second": float(times[0]),
                       "epoch_seconds": float(times[1]), "cpu_seconds": float(times[2]),
                       "precision": session.get("policy", "float32"), "kernels": _kernels(session),
                       "cpu": f"{session.get('cpu_model', 'CPU')}, {session.get('cpu_cores', '?')} cores, {bf16}"})
    return epochs


def observed_epoch_speeds(results_dir: Path | str) -> dict[str, Any]:
    """Every recorded whole epoch of the runs in ``results_dir``, summarised per (model, recipe, precision, kernels,
    CPU).

    The recipe is the named one the run follows (:func:`emotion.analysis.lineage_cost.named_recipe`: "study" or
    "paper", by the fields that set an epoch's cost), else "own recipe, batch N".

    Returns:
        ``{"rows": [{"model", "recipe", "precision", "kernels", "cpu", "runs" (names), "epochs",
        "train_images_per_second", "epoch_wall_seconds", "epoch_cpu_seconds", "cores_used"}] (medians over the
        epochs; sorted by model, recipe, precision, kernels, CPU), "unrecorded_runs": [runs whose sessions were not
        recorded]}``.
    """
    from emotion.analysis.lineage_cost import named_recipe

    groups: dict[tuple[str, str, str, str], dict[str, Any]] = {}
    unrecorded = []
    paths = sorted(path for pattern in RUN_PATTERNS for path in Path(results_dir).glob(pattern))
    for path in paths:
        document = read_results(path)
        if not document.get("history") or "recipe" not in document:
            continue
        run = document.get("run") or path.stem.split("_", 2)[-1]
        epochs = run_epochs(document)
        if not epochs:
            unrecorded.append(run)
            continue
        recipe = document["recipe"]
        name = named_recipe(recipe) or f"own recipe, batch {recipe.get('batch_size', '?')}"
        for epoch in epochs:
            key = (recipe["model"], name, epoch["precision"], epoch["kernels"], epoch["cpu"])
            group = groups.setdefault(key, {"runs": [], "epochs": []})
            if run not in group["runs"]:
                group["runs"].append(run)
            group["epochs"].append(epoch)
    rows = []
    for (model, recipe, precision, kernels, cpu), group in sorted(groups.items()):
        epochs = group["epochs"]
        rows.append({"model": model, "recipe": recipe, "precision": precision, "kernels": kernels, "cpu": cpu,
                     "runs": group["runs"],
                     "epochs": len(epochs),
                     "train_images_per_second": statistics.median(e["train_images_per_second"] for e in epochs),
                     "epoch_wall_seconds": statistics.median(e["epoch_seconds"] for e in epochs),
                     "epoch_cpu_seconds": statistics.median(e["cpu_seconds"] for e in epochs),
                     "cores_used": statistics.median(e["cpu_seconds"] / e["epoch_seconds"] for e in epochs)})
    return {"rows": rows, "unrecorded_runs": unrecorded}


def speeds_markdown(observed: dict[str, Any]) -> str:
    """The README's table of :func:`observed_epoch_speeds`; "" when no run recorded its sessions."""
    if not observed["rows"]:
        return ""
    lines = ["**Whole epochs as the runs measured them** (median over every recorded epoch of the runs named, each "
             "epoch as it ran, some beside other work; one full FER2013 epoch: 28,709 training images and the two "
             "evaluation passes):", "",
             "| model (recipe) | precision | kernels | CPU | training img/s | wall-min per epoch | CPU-s per epoch "
             "| cores used | epochs (runs) |", "|---|---|---|---|---|---|---|---|---|"]
    for row in observed["rows"]:
        lines.append(f"| `{row['model']}` ({row['recipe']}) | {row['precision']} | {row['kernels']} | {row['cpu']} | "
                     f"{row['train_images_per_second']:.0f} | {row['epoch_wall_seconds'] / 60:.1f} | "
                     f"{row['epoch_cpu_seconds']:,.0f} | {row['cores_used']:.2f} | {row['epochs']} "
                     f"({', '.join(f'`{run}`' for run in row['runs'])}) |")
    if observed["unrecorded_runs"]:
        lines += ["", f"Left out: {len(observed['unrecorded_runs'])} runs trained before the study recorded each "
                      "session's CPU and precision."]
    return "\n".join(lines)
