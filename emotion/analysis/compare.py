"""Compare the released models (``results/03_train_<model>.json`` + ``models/``) with each other and the paper.

Only the numbers the paper states are used from :data:`emotion.paper.PAPER_RESULTS`; everything else comes from the
results files.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from emotion import AUDIT_COLUMN
from emotion.analysis.ablations import differing_fields
from emotion.classify.release import release_name
from emotion.errors import DataMissingError
from emotion.paper import PAPER_RESULTS
from emotion.paths import MODELS_DIR, RESULTS_DIR
from emotion.provenance import read_results

STUDY_GOALS = {
    "basic_cnn": {"low": 0.66, "high": 1.0, "text": "at least 66 %"},
    "resnet34": {"low": 0.6086, "high": 0.6486, "text": "the paper's 62.86 % within 2 points"},
}
"""The study's PrivateTest accuracy goals for single models, as accepted ranges."""

BEST_MODEL_GOAL = {"accuracy": 0.72, "training_cpu_hours": 6.0}
"""The study's goal for its best model: at least 72 % PrivateTest accuracy from at most 6 CPU-hours of training (3
hours of both cores of the study's 2-core machine; every member, stage and restart counted). CPU-hours, not wall
hours, because a run that shares the machine takes longer without costing more."""

PUBLISHED_ANCHORS = {
    "Pramerdorfer & Kampel 2016, VGG": 0.727,
    "Khaireddin & Chen 2021, VGG variant": 0.7328,
    "CIFAR-style ResNet-18 (Pramerdorfer & Kampel 2016 protocol)": 0.737,
}
"""Published single-model FER2013 test accuracies of networks trained from scratch on 48x48 crops (about
:data:`PUBLISHED_ANCHOR_EPOCHS` GPU epochs each, checkpoints chosen on the test split itself): the anchors the study's
own model is placed against."""
PUBLISHED_ANCHOR_EPOCHS = 300
"""About how many epochs the :data:`PUBLISHED_ANCHORS` trained for."""

BUDGET_POINTS_CPU_HOURS = (1.0, 2.0, 4.0, 6.0)
"""The training budgets at which :func:`budget_curve` reads a run."""


def goal_status(name: str, accuracy: float) -> str | None:
    """``"goal <text>: met"`` or ``"... not met"`` for a model with a goal in :data:`STUDY_GOALS`, else None."""
    goal = STUDY_GOALS.get(name)
    if goal is None:
        return None
    return f"goal {goal['text']}: {'met' if goal['low'] <= accuracy <= goal['high'] else 'not met'}"


def check_best_model_goal(accuracy: float, training_cpu_hours: float) -> dict:
    """:data:`BEST_MODEL_GOAL` for one PrivateTest accuracy and its training CPU-hours (a model or an ensemble):
    ``{"accuracy_met", "budget_met", "shortfall_points"}``."""
    return {"accuracy_met": accuracy >= BEST_MODEL_GOAL["accuracy"],
            "budget_met": training_cpu_hours <= BEST_MODEL_GOAL["training_cpu_hours"],
            "shortfall_points": max(0.0, (BEST_MODEL_GOAL["accuracy"] - accuracy) * 100)}


def describe_goal(goal: dict) -> str:
    """One sentence on :data:`BEST_MODEL_GOAL` for a :func:`check_best_model_goal` outcome (``goal``) that also
    carries ``privatetest_accuracy``, ``training_cpu_hours`` and ``training_wall_hours``."""
    verdict = "met" if goal["accuracy_met"] and goal["budget_met"] else (
        "not met (" + ", ".join(part for part in (
            f"{goal['shortfall_points']:.1f} points short" if not goal["accuracy_met"] else "",
            "over the CPU budget" if not goal["budget_met"] else "") if part) + ")")
    return (f"{goal['privatetest_accuracy']:.2%} on PrivateTest after {goal['training_cpu_hours']:.1f} CPU-hours "
            f"({goal['training_wall_hours']:.1f} wall-hours) of training, against the goal of at least "
            f"{BEST_MODEL_GOAL['accuracy']:.0%} from at most {BEST_MODEL_GOAL['training_cpu_hours']:.0f} CPU-hours: "
            f"{verdict}")


def describe_budget_curve(name: str, curve: pd.DataFrame) -> str:
    """One sentence on a :func:`budget_curve`: the PrivateTest accuracy at each budget the run reached, and where
    the run stopped when it reached none or not all."""
    reached = curve[curve["reached"]] if len(curve) else curve
    parts = [f"{row.budget_cpu_hours:g} CPU-h: {row.privatetest_accuracy:.2%} (epoch {row.chosen_epoch})"
             for row in reached.itertuples()]
    text = f"*{name}* read at each CPU-hour budget it reached: " + ("; ".join(parts) if parts else "none")
    if len(curve) and not curve["reached"].all():
        last = curve.iloc[-1]
        text += f" (the run ended after {last['cpu_hours']:.2f} CPU-hours, {int(last['epochs'])} epochs)"
    elif not len(curve):
        text += " (no epoch finished within the smallest budget)"
    return text


def best_model_goal(table: pd.DataFrame) -> dict:
    """Check :data:`BEST_MODEL_GOAL` on the released model with the highest PublicTest accuracy of ``table``
    (:func:`released_table`): its PrivateTest accuracy, training CPU- and wall-hours and whether each part is met.

    Raises:
        DataMissingError: no model is released (the table is empty)."""
    if table.empty:
        raise DataMissingError("no released model in results/03_train_*.json: run `make train` (or restore the "
                               "committed models/ and results/) before comparing models.")
    best = table["publictest_accuracy"].idxmax()
    row = table.loc[best]
    cpu_hours = float(row["training_cpu_minutes"]) / 60
    accuracy = float(row["privatetest_accuracy"])
    return {"model": best, "privatetest_accuracy": accuracy, "training_cpu_hours": cpu_hours,
            "training_wall_hours": float(row["training_wall_minutes"]) / 60,
            **check_best_model_goal(accuracy, cpu_hours)}


def budget_curve(history: pd.DataFrame, budgets_cpu_hours=BUDGET_POINTS_CPU_HOURS,
                 audit_column: str = AUDIT_COLUMN) -> pd.DataFrame:
    """Read one run at several training budgets: for each budget, the epoch chosen on PublicTest among the epochs
    finished within that many CPU-hours, and that epoch's PrivateTest accuracy (the per-epoch audit column).

    The points are checkpoints of *one* run with its own schedule (e.g. a cosine over the whole budget), not runs
    scheduled for each budget: a run planned for 2 CPU-hours would have annealed by then and score higher. The
    PrivateTest column only reports; nothing chooses on it.

    Args:
        history: per-epoch rows with ``epoch``, ``cpu_seconds``, ``epoch_seconds``, ``val_accuracy`` and
            ``audit_column`` (:func:`emotion.classify.run_folder.read_history` as a DataFrame).
        budgets_cpu_hours: the budgets to read.

    Returns:
        One row per budget: ``budget_cpu_hours``, ``reached`` (whether the run trained that long), ``epochs``
        (finished within the budget), ``chosen_epoch``, ``cpu_hours`` and ``wall_hours`` spent up to the chosen
        epoch's budget, ``publictest_accuracy``, ``privatetest_accuracy``. A budget before the first finished epoch
        has no row.

    Raises:
        DataFormatError: a needed column is missing.
    """
    from emotion.errors import DataFormatError

    missing = [column for column in ("epoch", "cpu_seconds", "epoch_seconds", "val_accuracy", audit_column)
               if column not in history.columns]
    if missing:
        raise DataFormatError(f"the history lacks the column(s) {', '.join(missing)} that a budget curve needs.")
    history = history.sort_values("epoch")
    cpu_hours = history["cpu_seconds"].cumsum() / 3600
    wall_hours = history["epoch_seconds"].cumsum() / 3600
    rows = []
    for budget in budgets_cpu_hours:
        within = history[cpu_hours <= budget + 1e-9]
        if within.empty:
            continue
        chosen = within.loc[within["val_accuracy"].idxmax()]
        last = within.index[-1]
        rows.append({"budget_cpu_hours": float(budget), "reached": bool(cpu_hours.iloc[-1] >= budget - 1e-9),
                     "epochs": int(len(within)), "chosen_epoch": int(chosen["epoch"]),
                     "cpu_hours": float(cpu_hours.loc[last]), "wall_hours": float(wall_hours.loc[last]),
                     "publictest_accuracy": float(chosen["val_accuracy"]),
                     "privatetest_accuracy": float(chosen[audit_column])})
    return pd.DataFrame(rows, columns=["budget_cpu_hours", "reached", "epochs", "chosen_epoch", "cpu_hours",
                                       "wall_hours", "publictest_accuracy", "privatetest_accuracy"])


def released_table(results_dir: Path | str = RESULTS_DIR) -> pd.DataFrame:
    """One row per released model, from ``results_dir/03_train_*.json``.

    Returns:
        DataFrame indexed by release name (:func:`emotion.classify.release.release_name`) with columns ``architecture``
        (the registry model), ``parameters``, ``epochs``, ``chosen_epoch``,
        ``publictest_accuracy`` (at the chosen epoch), ``privatetest_accuracy``, ``privatetest_macro_f1``,
        ``privatetest_accuracy_flip_tta``, ``privatetest_accuracy_tencrop_tta`` (from notebook 03's
        ``results/03_notebook_<name>.json``, NaN until it ran), ``training_cpu_minutes``, ``training_wall_minutes``
        (of the whole lineage for a warm-started model), ``own_training_cpu_minutes``, ``own_training_wall_minutes``
        (the run itself: what an ensemble of a model and its parent adds up), ``warm_start_from`` (the parent's
        release name, "" for none), ``train_images_per_second``, ``paper_accuracy`` (NaN where the paper gives none), ``precision`` (the training
        dtype policy), ``stored_as`` (the released weights' dtype) and ``history_file``.
        Empty (with these columns) when nothing is released.

    Raises:
        DataFormatError: a results file is not valid JSON with a ``meta`` block.
    """  # noqa: E501
    rows = []
    for path in sorted(Path(results_dir).glob("03_train_*.json")):
        document = read_results(path)
        name = release_name(document)
        notebook = Path(results_dir) / f"03_notebook_{name}.json"
        tencrop = (read_results(notebook).get("privatetest", {}).get("tencrop_tta", {}).get("accuracy", float("nan"))
                   if notebook.is_file() else float("nan"))
        rows.append({
            "model": name,
            "architecture": document["model"],
            "parameters": document["parameters"],
            "epochs": document["epochs_run"],
            "chosen_epoch": document["chosen_epoch"],
            "publictest_accuracy": document["publictest_accuracy_at_chosen_epoch"],
            "privatetest_accuracy": document["test"]["accuracy"],
            "privatetest_macro_f1": document["test"]["macro_f1"],
            "privatetest_accuracy_flip_tta": document.get("test_tta", {}).get("accuracy", float("nan")),
            "privatetest_accuracy_tencrop_tta": tencrop,
            "training_cpu_minutes": document["training_cpu_minutes"],
            "training_wall_minutes": document["training_wall_minutes"],
            "own_training_cpu_minutes": document.get("own_training_cpu_minutes", document["training_cpu_minutes"]),
            "own_training_wall_minutes": document.get("own_training_wall_minutes", document["training_wall_minutes"]),
            "warm_start_from": Path(document["warm_start"]["from"]).stem if "warm_start" in document else "",
            "train_images_per_second": document["train_images_per_second_median"],
            "paper_accuracy": PAPER_RESULTS.get(name, {}).get("accuracy", float("nan")),
            "precision": "mixed_bfloat16" if document.get("recipe", {}).get("mixed_precision") else "float32",
            "stored_as": document.get("model_storage", {}).get("dtype", "float32"),
            "history_file": document["history_file"],
        })
    columns = ["architecture", "parameters", "epochs", "chosen_epoch", "publictest_accuracy", "privatetest_accuracy",
               "privatetest_macro_f1", "privatetest_accuracy_flip_tta", "privatetest_accuracy_tencrop_tta",
               "training_cpu_minutes",
               "training_wall_minutes", "own_training_cpu_minutes", "own_training_wall_minutes", "warm_start_from",
               "train_images_per_second", "paper_accuracy", "precision", "stored_as", "history_file"]
    if not rows:
        return pd.DataFrame(columns=columns).rename_axis("model")
    return pd.DataFrame(rows).set_index("model")[columns]


def released_histories(table: pd.DataFrame, models_dir: Path | str = MODELS_DIR) -> dict[str, pd.DataFrame]:
    """The per-epoch history of each model of :func:`released_table` (read from ``models_dir``), by model name."""
    from emotion.classify.run_folder import read_history

    return {name: pd.DataFrame(read_history(Path(models_dir) / row["history_file"]))
            for name, row in table.iterrows()}


LEVERS = {
    frozenset({"model"}): "40x40 centre crop",
    frozenset({"epochs"}): "epoch budget",
    frozenset({"mixed_precision"}): "mixed_bfloat16",
}
"""The recipe differences :func:`compare_levers` names, by the set of recipe fields that differ."""


def _full_recipe(document: dict) -> dict:
    """A release's recipe with the fields older runs did not record filled with their defaults."""
    from emotion.classify.recipes import TrainConfig

    return {**TrainConfig(model=document["model"]).as_dict(), **document.get("recipe", {})}


def compare_levers(results_dir: Path | str = RESULTS_DIR) -> list[dict]:
    """Pairs of runs (released models ``03_train_*`` and experiment runs ``03_ablation_*``, by file name) whose recipes
    differ in exactly one lever of :data:`LEVERS`, with what it changed.

    The crop lever is the pair ``basic_cnn`` -> ``crop_cnn`` (the only architectures that differ in the crop
    alone). Each row: ``lever``, ``runs`` ("a -> b", from the cheaper or baseline run), ``from_accuracy``,
    ``to_accuracy`` (PrivateTest), ``accuracy_change_points``, ``macro_f1_change``, ``cpu_minutes_change``
    (training CPU-minutes) and ``publictest_change_points``.
    """
    documents = _run_documents(results_dir)
    names = sorted(documents)
    rows = []
    for index, first in enumerate(names):
        for second in names[index + 1:]:
            a, b = _full_recipe(documents[first]), _full_recipe(documents[second])
            lever = LEVERS.get(frozenset(differing_fields(a, b)))
            if lever is None or (lever == "40x40 centre crop"
                                 and {a["model"], b["model"]} != {"basic_cnn", "crop_cnn"}):
                continue
            # The baseline first: the basic CNN, the shorter budget, float32.
            baseline_second = {"40x40 centre crop": a["model"] == "crop_cnn", "epoch budget": a["epochs"] > b["epochs"],
                               "mixed_bfloat16": a["mixed_precision"]}[lever]
            before, after = (second, first) if baseline_second else (first, second)
            x, y = documents[before], documents[after]
            if lever == "epoch budget":
                lever = f"epoch budget {_full_recipe(x)['epochs']} -> {_full_recipe(y)['epochs']}"
            rows.append({
                "lever": lever, "runs": f"{before} -> {after}",
                "from_accuracy": x["test"]["accuracy"], "to_accuracy": y["test"]["accuracy"],
                "accuracy_change_points": 100 * (y["test"]["accuracy"] - x["test"]["accuracy"]),
                "macro_f1_change": y["test"]["macro_f1"] - x["test"]["macro_f1"],
                "publictest_change_points": 100 * (y["publictest_accuracy_at_chosen_epoch"]
                                                   - x["publictest_accuracy_at_chosen_epoch"]),
                "cpu_minutes_change": y["training_cpu_minutes"] - x["training_cpu_minutes"],
            })
    return rows


CONVERGED_POINTS = 0.5
"""A budget curve has converged when its last doubling of the epoch budget moved PublicTest accuracy by less than
this many points."""
BUDGET_CAP_CPU_HOURS = 10.0
"""The stated cap of one model's longest budget run: about five wall-hours of both cores of the study's machine
with TensorFlow's oneDNN kernels on (an epoch's cost per model: ``results/03_training_cost.json``)."""


def _run_documents(results_dir: Path | str) -> dict[str, dict]:
    """Every released (``03_train_*``) and experiment (``03_ablation_*``) run's results, by run name."""
    documents = {}
    for prefix in ("03_train_", "03_ablation_"):
        for path in sorted(Path(results_dir).glob(f"{prefix}*.json")):
            documents[path.stem.removeprefix(prefix)] = read_results(path)
    return documents


def budget_runs(results_dir: Path | str = RESULTS_DIR) -> dict[str, pd.DataFrame]:
    """Runs of one recipe at several epoch budgets: the points of each model's budget curve.

    Runs (released and experiment) are grouped by their full recipe with ``epochs`` left out, so a group holds the
    same model, seed, optimizer and augmentation at different budgets; only groups with at least two budgets are
    returned, keyed by the name of the group's longest run.

    Returns:
        ``{name: DataFrame}``, one row per run sorted by epochs, with columns ``run``, ``model``, ``epochs``,
        ``chosen_epoch``, ``publictest_accuracy`` (at the chosen epoch), ``privatetest_accuracy``,
        ``privatetest_macro_f1``, ``privatetest_n``, ``cpu_hours``, ``wall_hours``.
    """
    import json

    groups: dict[str, list[tuple[str, dict]]] = {}
    for name, document in _run_documents(results_dir).items():
        recipe = {key: value for key, value in _full_recipe(document).items() if key != "epochs"}
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
        } for name, document in members), key=lambda row: row["epochs"])
        if len({row["epochs"] for row in rows}) >= 2:
            curves[rows[-1]["run"]] = pd.DataFrame(rows)
    return curves


def convergence(curve: pd.DataFrame, threshold_points: float = CONVERGED_POINTS,
                cap_cpu_hours: float = BUDGET_CAP_CPU_HOURS) -> dict:
    """Whether a budget curve (a :func:`budget_runs` frame) has converged: its last doubling of epochs moved
    PublicTest accuracy by less than ``threshold_points``.

    "The last doubling" compares the longest run with the longest run of at most half its epochs. When none is that
    short, the curve has no doubling yet.

    Returns:
        ``{"epochs": (shorter, longer) or None, "publictest_change_points", "converged": bool, "capped": bool (the
        longest run used at least ``cap_cpu_hours``), "status": "converged" | "capped" | "still rising" |
        "no doubling"}``.
    """
    curve = curve.sort_values("epochs")
    longest = curve.iloc[-1]
    shorter = curve[curve["epochs"] * 2 <= longest["epochs"]]
    capped = bool(longest["cpu_hours"] >= cap_cpu_hours)
    if shorter.empty:
        return {"epochs": None, "publictest_change_points": None, "converged": False, "capped": capped,
                "status": "capped" if capped else "no doubling"}
    base = shorter.iloc[-1]
    change = 100 * (longest["publictest_accuracy"] - base["publictest_accuracy"])
    converged = abs(change) < threshold_points
    return {"epochs": (int(base["epochs"]), int(longest["epochs"])), "publictest_change_points": float(change),
            "converged": bool(converged), "capped": capped,
            "status": "converged" if converged else "capped" if capped else "still rising" if change > 0
            else "falling"}


def describe_convergence(name: str, verdict: dict) -> str:
    """One sentence on a :func:`convergence` verdict (used by notebooks 04 and 05)."""
    if verdict["epochs"] is None:
        return (f"*{name}* has no doubling of its epoch budget yet"
                + (f"; its longest run hit the {BUDGET_CAP_CPU_HOURS:.0f} CPU-hour cap" if verdict["capped"] else ""))
    shorter, longer = verdict["epochs"]
    change = verdict["publictest_change_points"]
    text = f"*{name}*: {shorter} -> {longer} epochs moved PublicTest by {change:+.2f} points"
    return text + {
        "converged": f", under {CONVERGED_POINTS} points: converged",
        "capped": (f", and its longest run hit the {BUDGET_CAP_CPU_HOURS:.0f} CPU-hour cap: not converged, "
                   "stopped there"),
        "still rising": ": still rising",
        "falling": ": falling (the longer budget overfits or the run is noisy)",
    }[verdict["status"]]


def release_tta_choice(name: str, models_dir: Path | str, splits: dict, seed: int = 0) -> dict:
    """:func:`emotion.classify.evaluate.choose_tta` for the release ``models_dir/<name>.keras``, with a bootstrap
    interval of the PrivateTest accuracy.

    Args:
        splits: ``{"PublicTest": (images, labels), "PrivateTest": (images, labels)}``.

    Returns:
        JSON-ready: ``{"model", "selection_accuracy", "chosen", "test" (metrics), "privatetest_accuracy_interval",
        "protocol"}``.
    """
    from emotion.classify.evaluate import accuracy, choose_tta, load_model
    from emotion.classify.significance import bootstrap_interval

    choice = choose_tta(load_model(Path(models_dir) / f"{name}.keras"), splits["PublicTest"], splits["PrivateTest"])
    predictions = choice.pop("test_predictions")
    interval = bootstrap_interval(splits["PrivateTest"][1], predictions, accuracy, seed=seed)
    return {"model": name, **choice, "privatetest_accuracy_interval": interval}


def describe_tta_choice(choice: dict, plain_accuracy: float) -> str:
    """One sentence on a :func:`release_tta_choice` result against the model's PrivateTest accuracy without TTA."""
    scores = choice["selection_accuracy"]
    interval = choice["privatetest_accuracy_interval"]
    listed = ", ".join(f"{mode} {value:.2%}" for mode, value in scores.items())
    return (f"PublicTest accuracy of *{choice['model']}* by test-time augmentation: {listed}, so PublicTest chooses "
            f"*{choice['chosen']}*. Scored once with it, PrivateTest is {choice['test']['accuracy']:.2%} (95 % "
            f"bootstrap interval {interval['low']:.2%}-{interval['high']:.2%}, macro-F1 "
            f"{choice['test']['macro_f1']:.3f}), {100 * (choice['test']['accuracy'] - plain_accuracy):+.2f} points "
            f"on the {plain_accuracy:.2%} without TTA")


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
