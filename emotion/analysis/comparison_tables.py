"""The tables notebook 05 displays beside its sentences (:mod:`emotion.analysis.comparison_prose`), built from the
results it writes: every accuracy column names the weights it is of (training checkpoint or stored file) and every
cost column how it is counted (quiet price or as recorded, whole lineage).
"""

from __future__ import annotations

import pandas as pd

from emotion.analysis.ablations import schedule_epochs


def _percent(value: float) -> str:
    return f"{value:.2%}"


def models_table(models: dict[str, dict]) -> pd.io.formats.style.Styler:
    """The first table of notebook 05 from ``results["models"]``: one row per release, its accuracies named by the
    weights they are of (training checkpoint or stored file) and the epochs of its whole lineage."""
    frame = pd.DataFrame(models).T
    columns = {
        "architecture": "architecture", "parameters": "parameters", "lineage_epochs": "epochs (whole lineage)",
        "chosen_epoch": "chosen epoch (own run)", "publictest_accuracy": "PublicTest accuracy (checkpoint)",
        "privatetest_accuracy": "PrivateTest accuracy (training checkpoint)",
        "privatetest_accuracy_stored_file": "PrivateTest accuracy (stored file)",
        "privatetest_macro_f1": "PrivateTest macro-F1 (checkpoint)",
        "privatetest_accuracy_flip_tta": "PrivateTest, flip TTA (checkpoint)",
        "privatetest_accuracy_tencrop_tta": "PrivateTest, ten-crop TTA (stored file)",
        "paper_accuracy": "paper's accuracy", "precision": "training precision", "stored_as": "stored weights",
    }
    shown = frame[list(columns)].rename(columns=columns)
    percent = [name for name in shown.columns if "accuracy" in name or "TTA" in name]
    for name in [*percent, "parameters", "PrivateTest macro-F1 (checkpoint)"]:
        shown[name] = pd.to_numeric(shown[name])
    return shown.style.format({**{name: "{:.2%}" for name in percent}, "parameters": "{:,}",
                               "PrivateTest macro-F1 (checkpoint)": "{:.3f}"}, na_rep="—")


def cost_table(models: dict[str, dict]) -> pd.DataFrame:
    """The cost table of notebook 05 from ``results["models"]``: per release the epochs of its whole lineage, its
    training checkpoint's PrivateTest accuracy, the lineage's CPU-minutes at the quiet price and as recorded, the
    cores its own run kept busy (how loaded the machine was) and how the quiet price was found."""
    frame = pd.DataFrame(models).T
    return pd.DataFrame({
        "epochs (whole lineage)": frame["lineage_epochs"],
        "PrivateTest accuracy (training checkpoint)": frame["privatetest_accuracy"].astype(float).map(_percent),
        "CPU-min, whole lineage, quiet price": pd.to_numeric(frame["quiet_cpu_minutes"]).round(0),
        "CPU-min, whole lineage, as recorded": pd.to_numeric(frame["training_cpu_minutes"]).round(0),
        "cores busy (own run, CPU / wall)": pd.to_numeric(frame["cores_used"]).round(2),
        "quiet price": frame["quiet_cost_basis"],
    })


def paper_recipe_table(paper: dict[str, dict]) -> pd.DataFrame:
    """The table of the paper's-recipe runs (``results["paper_recipe"]``,
    :func:`emotion.analysis.ablations.paper_recipe_summary` per run): both protocols' PrivateTest accuracy (training
    checkpoints), the interval, and the CPU- and wall-hours as recorded."""
    rows = {}
    for name, entry in paper.items():
        chosen = entry["test_chosen"]
        interval = entry["privatetest_interval"]
        rows[name] = {
            "epochs trained (its schedule; the paper's)": f"{entry['epochs']} ({schedule_epochs(entry)}; "
                                                          f"{entry['paper_epochs']})",
            "PrivateTest, epoch chosen on PublicTest": f"{_percent(entry['privatetest_accuracy'])} "
                                                       f"(epoch {entry['chosen_epoch']})",
            "95 % interval": f"{_percent(interval['low'])}-{_percent(interval['high'])}",
            "PrivateTest, epoch chosen on PrivateTest": "—" if chosen is None else
                f"{_percent(chosen['privatetest'])} (epoch {chosen['epoch']})",
            "CPU-hours as recorded": round(entry["cpu_hours"], 2), "wall-hours": round(entry["wall_hours"], 2)}
    return pd.DataFrame(rows).T


def levers_table(levers: list[dict]) -> pd.DataFrame:
    """The lever table (``results["levers"]``, :func:`emotion.analysis.compare.compare_levers`): accuracy change of
    the training checkpoints, and the change of cost as it is counted (``cost_basis``) beside the recorded one and
    the cores each run kept busy."""
    frame = pd.DataFrame(levers)
    return pd.DataFrame({
        "lever": frame["lever"], "runs": frame["runs"],
        "PrivateTest change, points (checkpoints)": frame["accuracy_change_points"].round(2),
        "PublicTest change, points": frame["publictest_change_points"].round(2),
        "CPU-min change, counted": pd.to_numeric(frame["counted_cpu_minutes_change"]).round(1),
        "counted as": frame["cost_basis"],
        "CPU-min change, as recorded": frame["cpu_minutes_change"].round(1),
        "cores busy (from -> to)": [cores_pair(row) for row in levers],
    }).set_index("lever")


def cores_pair(lever: dict) -> str:
    """The cores the two runs of a lever kept busy, "a -> b", or "not recorded" when either lacks a wall time."""
    known = [value for value in (lever["from_cores_used"], lever["to_cores_used"]) if value is not None]
    return " -> ".join(f"{value:.2f}" for value in known) if len(known) == 2 else "not recorded"


def stems_table(comparisons: list[dict]) -> pd.DataFrame:
    """The stem comparisons (``results["stems"]``, :func:`emotion.analysis.stem_comparison.compare_pair`): per
    comparison the budget matched, each stem's run, epochs, quiet CPU-minutes and PrivateTest accuracy, the difference
    and McNemar's p (empty when the runs are not paired on the same images)."""
    rows = []
    for record in comparisons:
        keep, imagenet, test = record["keep_resolution"], record["imagenet"], record["mcnemar"]
        rows.append({
            "matched": record["matched"],
            "resolution-keeping run": f"{keep['name']} ({keep['epochs']} ep)",
            "ImageNet-stem run": f"{imagenet['name']} ({imagenet['epochs']} ep)",
            "quiet CPU-min (keep / ImageNet)": " / ".join(
                "-" if value is None else f"{value:.0f}"
                for value in (keep["quiet_cpu_minutes"], imagenet["quiet_cpu_minutes"])),
            "PrivateTest keep": _percent(keep["privatetest_accuracy"]),
            "PrivateTest ImageNet": _percent(imagenet["privatetest_accuracy"]),
            "difference, points": round(record["difference_points"], 2),
            "McNemar p": None if test is None else float(f"{test['p_value']:.3g}"),
        })
    return pd.DataFrame(rows)
