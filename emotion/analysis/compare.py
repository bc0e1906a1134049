"""Compare the released models (``results/03_train_<model>.json`` + ``models/``) with each other and the paper.

Only the numbers the paper states are used from :data:`emotion.paper.PAPER_RESULTS`; everything else comes from the
results files.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from emotion import AUDIT_COLUMN
from emotion.analysis.ablations import differing_fields
from emotion.analysis.budget_curves import full_recipe, run_documents
from emotion.analysis.lineage_cost import (
    QUIET_COST_FILE,
    cost_change,
    lineage,
    lineage_history,
    lineage_sum,
    quiet_epoch_cost,
    run_cost,
    set_cost,
)
from emotion.classify.prediction_cache import DEFAULT_CACHE
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
hours of both cores of the study's 2-core machine; every member, stage, parent and restart counted). The CPU-hours
are priced at the quiet per-epoch cost (:func:`emotion.analysis.lineage_cost.quiet_epoch_cost`) wherever it was
measured: the CPU time a run records depends on what else the shared machine ran
(:data:`emotion.analysis.lineage_cost.SAME_LOAD_CORES`)."""

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



def check_best_model_goal(accuracy: float, training_cpu_hours: float) -> dict:
    """:data:`BEST_MODEL_GOAL` for one PrivateTest accuracy and its training CPU-hours (a model or an ensemble):
    ``{"accuracy_met", "budget_met", "shortfall_points"}``."""
    return {"accuracy_met": accuracy >= BEST_MODEL_GOAL["accuracy"],
            "budget_met": training_cpu_hours <= BEST_MODEL_GOAL["training_cpu_hours"],
            "shortfall_points": max(0.0, (BEST_MODEL_GOAL["accuracy"] - accuracy) * 100)}


def goal_check(accuracy: float, quiet_cpu_minutes: float | None, measured_cpu_minutes: float,
               wall_minutes: float) -> dict:
    """:func:`check_best_model_goal` for a model or a set of them: its CPU budget checked at the quiet price when
    there is one (``cost_basis`` "quiet"), else as recorded ("measured"); with ``privatetest_accuracy``,
    ``training_cpu_hours`` (the hours checked), ``measured_training_cpu_hours`` and ``training_wall_hours``."""
    quiet = quiet_cpu_minutes is not None and quiet_cpu_minutes == quiet_cpu_minutes
    hours = (quiet_cpu_minutes if quiet else measured_cpu_minutes) / 60
    return {"privatetest_accuracy": float(accuracy), "training_cpu_hours": float(hours),
            "cost_basis": "quiet" if quiet else "measured", "measured_training_cpu_hours": measured_cpu_minutes / 60,
            "training_wall_hours": wall_minutes / 60, **check_best_model_goal(accuracy, hours)}


def best_model_goal(table: pd.DataFrame) -> dict:
    """:func:`goal_check` of the released model with the highest PublicTest accuracy of ``table``
    (:func:`released_table`), ``model``: its training checkpoint's PrivateTest accuracy and its whole lineage's
    training time (``quiet_cpu_minutes`` where the table has it).

    Raises:
        DataMissingError: no model is released (the table is empty)."""
    if table.empty:
        raise DataMissingError("no released model in results/03_train_*.json: run `make train` (or restore the "
                               "committed models/ and results/) before comparing models.")
    best = table["publictest_accuracy"].idxmax()
    row = table.loc[best]
    return {"model": best, **goal_check(row["privatetest_accuracy"], row.get("quiet_cpu_minutes"),
                                        float(row["training_cpu_minutes"]), float(row["training_wall_minutes"]))}


def budget_curve(history: pd.DataFrame, budgets_cpu_hours=BUDGET_POINTS_CPU_HOURS,
                 audit_column: str = AUDIT_COLUMN, cost_column: str = "cpu_seconds") -> pd.DataFrame:
    """Read one run at several training budgets: for each budget, the epoch chosen on PublicTest among the epochs
    finished within that many CPU-hours, and that epoch's PrivateTest accuracy (the per-epoch audit column).

    The points are checkpoints of *one* run with its own schedule (e.g. a cosine over the whole budget), not runs
    scheduled for each budget: a run planned for 2 CPU-hours would have annealed by then and score higher. The
    PrivateTest column only reports; nothing chooses on it.

    Args:
        history: per-epoch rows with ``epoch``, ``cpu_seconds``, ``epoch_seconds``, ``val_accuracy`` and
            ``audit_column`` (:func:`emotion.classify.run_folder.read_history` as a DataFrame).
        budgets_cpu_hours: the budgets to read.
        cost_column: the per-epoch CPU seconds the budgets count (``quiet_cpu_seconds`` of :func:`lineage_history`
            prices every epoch at the quiet cost).

    Returns:
        One row per budget: ``budget_cpu_hours``, ``reached`` (whether the run trained that long), ``epochs``
        (finished within the budget), ``chosen_epoch``, ``cpu_hours`` and ``wall_hours`` spent up to the chosen
        epoch's budget, ``publictest_accuracy``, ``privatetest_accuracy``. A budget before the first finished epoch
        has no row.

    Raises:
        DataFormatError: a needed column is missing.
    """
    from emotion.errors import DataFormatError

    missing = [column for column in ("epoch", cost_column, "epoch_seconds", "val_accuracy", audit_column)
               if column not in history.columns]
    if missing:
        raise DataFormatError(f"the history lacks the column(s) {', '.join(missing)} that a budget curve needs.")
    history = history.sort_values("epoch")
    cpu_hours = history[cost_column].cumsum() / 3600
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
    """One row per released model, from ``results_dir/03_train_*.json`` (and its ``03_notebook_<name>.json`` and
    :data:`QUIET_COST_FILE` where present).

    Returns:
        DataFrame indexed by release name (:func:`emotion.classify.release.release_name`) with columns
        ``architecture`` (the registry model), ``parameters``, ``epochs`` (of the run itself), ``chosen_epoch``,
        ``publictest_accuracy`` (at the chosen epoch), ``privatetest_accuracy`` and ``privatetest_macro_f1`` (the
        training checkpoint, float32 weights), ``privatetest_accuracy_stored_file`` (the released file: differs where
        it stores float16 weights), ``privatetest_accuracy_flip_tta`` (the checkpoint), ``privatetest_accuracy_tencrop_tta``
        (the released file, from notebook 03; NaN until it ran), ``training_cpu_minutes``, ``training_wall_minutes``
        (the whole lineage, as recorded), ``own_training_cpu_minutes``, ``own_training_wall_minutes`` (the run
        itself), ``warm_start_from`` (the parent's release name, "" for none), ``lineage_epochs`` (e.g. "45 + 8 + 8",
        :func:`lineage`), ``cores_used`` (the run's own CPU over wall time: how much of the machine it had),
        ``own_quiet_cpu_minutes`` and ``quiet_cpu_minutes`` (the run's and the whole lineage's epochs priced at
        :func:`quiet_epoch_cost`; NaN where a run of the lineage has no price), ``quiet_cost_basis`` (how the price
        was found), ``train_images_per_second``, ``paper_accuracy`` (NaN where the paper gives none), ``precision``
        (the training dtype policy), ``stored_as`` (the released weights' dtype) and ``history_file``.
        Empty (with these columns) when nothing is released.

    Raises:
        DataFormatError: a results file is not valid JSON with a ``meta`` block.
    """  # noqa: E501
    results_dir = Path(results_dir)
    training_cost = read_results(results_dir / QUIET_COST_FILE) if (results_dir / QUIET_COST_FILE).is_file() else None
    rows = []
    for path in sorted(results_dir.glob("03_train_*.json")):
        document = read_results(path)
        name = release_name(document)
        notebook = results_dir / f"03_notebook_{name}.json"
        tencrop = (read_results(notebook).get("privatetest", {}).get("tencrop_tta", {}).get("accuracy", float("nan"))
                   if notebook.is_file() else float("nan"))
        storage = document.get("model_storage", {})
        own_cpu = document.get("own_training_cpu_minutes", document["training_cpu_minutes"])
        own_wall = document.get("own_training_wall_minutes", document["training_wall_minutes"])
        price = quiet_epoch_cost(full_recipe(document), training_cost)
        rows.append({
            "model": name,
            "architecture": document["model"],
            "parameters": document["parameters"],
            "epochs": document["epochs_run"],
            "chosen_epoch": document["chosen_epoch"],
            "publictest_accuracy": document["publictest_accuracy_at_chosen_epoch"],
            "privatetest_accuracy": document["test"]["accuracy"],
            "privatetest_accuracy_stored_file": storage.get("accuracy_stored", document["test"]["accuracy"]),
            "privatetest_macro_f1": document["test"]["macro_f1"],
            "privatetest_accuracy_flip_tta": document.get("test_tta", {}).get("accuracy", float("nan")),
            "privatetest_accuracy_tencrop_tta": tencrop,
            "training_cpu_minutes": document["training_cpu_minutes"],
            "training_wall_minutes": document["training_wall_minutes"],
            "own_training_cpu_minutes": own_cpu,
            "own_training_wall_minutes": own_wall,
            "warm_start_from": Path(document["warm_start"]["from"]).stem if "warm_start" in document else "",
            "cores_used": own_cpu / own_wall if own_wall else float("nan"),
            "own_quiet_cpu_minutes": (document["epochs_run"] * price["cpu_seconds"] / 60 if price
                                      else float("nan")),
            "quiet_cost_basis": price["basis"] if price else "no quiet price of this recipe",
            "train_images_per_second": document["train_images_per_second_median"],
            "paper_accuracy": PAPER_RESULTS.get(name, {}).get("accuracy", float("nan")),
            "precision": "mixed_bfloat16" if document.get("recipe", {}).get("mixed_precision") else "float32",
            "stored_as": storage.get("dtype", "float32"),
            "history_file": document["history_file"],
        })
    columns = ["architecture", "parameters", "epochs", "chosen_epoch", "publictest_accuracy", "privatetest_accuracy",
               "privatetest_accuracy_stored_file", "privatetest_macro_f1", "privatetest_accuracy_flip_tta",
               "privatetest_accuracy_tencrop_tta", "training_cpu_minutes", "training_wall_minutes",
               "own_training_cpu_minutes", "own_training_wall_minutes", "warm_start_from", "lineage_epochs",
               "cores_used", "own_quiet_cpu_minutes", "quiet_cpu_minutes", "quiet_cost_basis",
               "train_images_per_second", "paper_accuracy", "precision", "stored_as", "history_file"]
    if not rows:
        return pd.DataFrame(columns=columns).rename_axis("model")
    table = pd.DataFrame(rows).set_index("model")
    table["lineage_epochs"] = [" + ".join(str(table.loc[member, "epochs"]) for member in lineage(table, name))
                               for name in table.index]
    table["quiet_cpu_minutes"] = [lineage_sum(table, name, "own_quiet_cpu_minutes") for name in table.index]
    return table[columns]


def lineage_budget_curve(table: pd.DataFrame, name: str, models_dir: Path | str = MODELS_DIR,
                         budgets_cpu_hours=BUDGET_POINTS_CPU_HOURS) -> pd.DataFrame:
    """:func:`budget_curve` of ``name``'s whole lineage (:func:`lineage_history`): every epoch priced at the quiet
    cost when each run of the lineage has one, else as recorded, read at each budget below the lineage's total and
    at the total itself, so that the curve ends where ``table`` places the release.

    Returns:
        :func:`budget_curve`'s rows (``chosen_epoch`` counted through the lineage) plus ``run`` (the release whose
        epoch was chosen) and ``cost_basis`` ("quiet" or "measured").
    """
    history = lineage_history(table, name, models_dir)
    quiet = bool(history["quiet_cpu_seconds"].notna().all())
    column = "quiet_cpu_seconds" if quiet else "cpu_seconds"
    total = float(history[column].sum()) / 3600
    curve = budget_curve(history, [budget for budget in budgets_cpu_hours if budget < total] + [total],
                         cost_column=column)
    runs = history.set_index("epoch")["run"]
    return curve.assign(run=curve["chosen_epoch"].map(runs), cost_basis="quiet" if quiet else "measured")


def lineage_histories(table: pd.DataFrame, models_dir: Path | str = MODELS_DIR) -> dict[str, pd.DataFrame]:
    """Each release's own per-epoch history with ``epoch`` counted through its lineage (a warm-started run's first
    epoch follows its parents' last: :func:`emotion.analysis.lineage_cost.lineage_history`), by model name."""
    return {name: (history := lineage_history(table, name, models_dir))[history["run"] == name]
            for name in table.index}


def validation_peaks(histories: dict[str, pd.DataFrame]) -> dict[str, dict]:
    """Where each history's PublicTest accuracy (``val_accuracy``) peaked: ``{name: {"peak_publictest_accuracy",
    "peak_epoch", "first_epoch", "last_epoch"}}``, epochs as the history counts them."""
    return {name: {"peak_publictest_accuracy": float(history["val_accuracy"].max()),
                   "peak_epoch": int(history.loc[history["val_accuracy"].idxmax(), "epoch"]),
                   "first_epoch": int(history["epoch"].min()), "last_epoch": int(history["epoch"].max())}
            for name, history in histories.items()}


def released_ensembles(results_dir: Path | str, table: pd.DataFrame, basis: str) -> dict[str, tuple[float, float]]:
    """Every released ensemble (``results_dir/03_ensemble_*.json``) as ``{name: (training CPU-minutes of its
    members' lineages, each counted once, PrivateTest accuracy of the stored file)}``, the minutes priced on
    ``basis`` (:func:`emotion.analysis.lineage_cost.set_cost`; as recorded where a member has no quiet price)."""
    ensembles = {}
    for document in map(read_results, sorted(Path(results_dir).glob("03_ensemble_*.json"))):
        minutes = set_cost(table, document["members"], basis) if set(document["members"]) <= set(table.index) else None
        if minutes is None or minutes != minutes:
            minutes = document["training_cpu_minutes"]
        ensembles[document["run"]] = (minutes, document["test"]["accuracy"])
    return ensembles


def kfold_summary(results_dir: Path | str, table: pd.DataFrame, folds: int) -> dict:
    """Notebook 05's K-fold entry: the ledger's K-fold evidence (:func:`emotion.analysis.ablations.ledger_evidence`,
    without its verdict, which only the ledger states)
    with the run's ``folds``, ``recipe``, ``per_fold`` rows and recorded ``training_cpu_minutes``; the holdout seeds'
    mean (``holdout_training_cpu_minutes``) and the run's ratio to it (``recorded_cpu_minutes_ratio``); the cores
    each kept busy (``holdout_cores_used``, the seeds' median of CPU over wall time; ``cores_used`` of the K-fold run,
    None when it recorded no wall time). Before a K-fold run exists: ``status`` and what ``folds`` folds would cost
    per released model, (K-1) x its own run at the quiet price (as recorded where it has none)."""
    import numpy as np

    from emotion.analysis.ablations import group_runs, ledger_evidence, read_runs, seed_band

    kfold = ledger_evidence(Path(results_dir)).get("kfold")
    if kfold is None:
        minutes = table["own_quiet_cpu_minutes"].fillna(table["own_training_cpu_minutes"])
        return {"status": "not run: make experiments runs it", "folds": folds,
                "estimated_training_cpu_minutes": {name: value * (folds - 1) for name, value in minutes.items()},
                "estimate": "K folds x (K-1)/K of the images x the model's own run, same epochs, at the quiet "
                            "price of its epochs (as recorded where it has none)"}
    run = read_results(Path(results_dir) / Path(kfold["source"]).name)
    band = seed_band(group_runs(read_runs(results_dir))["band"])
    cores = [cpu / wall for cpu, wall in zip(band["training_cpu_minutes_per_seed"],
                                             band["training_wall_minutes_per_seed"])]
    holdout, wall = float(np.mean(band["training_cpu_minutes_per_seed"])), run.get("training_wall_minutes")
    # Only the claims ledger (notebook 08) states the claim's verdict, after its budget gate.
    evidence = {key: value for key, value in kfold.items() if key != "verdict"}
    return {**evidence, "per_fold": run["per_fold"], "recipe": run["recipe"], "folds": run["folds"],
            "training_cpu_minutes": run["training_cpu_minutes"], "holdout_training_cpu_minutes": holdout,
            "recorded_cpu_minutes_ratio": run["training_cpu_minutes"] / holdout,
            "cores_used": run["training_cpu_minutes"] / wall if wall else None,
            "holdout_cores_used": float(np.median(cores))}


LEVERS = {
    frozenset({"model"}): "40x40 centre crop",
    frozenset({"epochs"}): "epoch budget",
    frozenset({"mixed_precision"}): "mixed_bfloat16",
}
"""The recipe differences :func:`compare_levers` names, by the set of recipe fields that differ."""


def compare_levers(results_dir: Path | str = RESULTS_DIR) -> list[dict]:
    """Pairs of runs (released models ``03_train_*`` and experiment runs ``03_ablation_*``, by file name) whose recipes
    differ in exactly one lever of :data:`LEVERS`, with what it changed.

    The crop lever is the pair ``basic_cnn`` -> ``crop_cnn`` (the only architectures that differ in the crop
    alone). Each row: ``lever``, ``runs`` ("a -> b", from the cheaper or baseline run), ``from_epochs``,
    ``to_epochs`` (each run's epochs: a seed band speaks only for its own budget), ``from_accuracy``,
    ``to_accuracy`` (PrivateTest, the training checkpoints), ``accuracy_change_points``, ``macro_f1_change``,
    ``publictest_change_points``, ``cpu_minutes_change`` (recorded training CPU-minutes, whatever the load),
    ``from_cores_used``, ``to_cores_used`` (each run's CPU over wall time), ``quiet_cpu_minutes_change`` (the epochs at
    the quiet price; None unless both runs have one of their own precision), and what the change of cost counts as
    (:func:`emotion.analysis.lineage_cost.cost_change`): ``counted_cpu_minutes_change`` (None when the costs are not
    comparable) and ``cost_basis``.
    """
    path = Path(results_dir) / QUIET_COST_FILE
    training_cost = read_results(path) if path.is_file() else None
    documents = run_documents(results_dir)
    names = sorted(documents)
    rows = []
    for index, first in enumerate(names):
        for second in names[index + 1:]:
            a, b = full_recipe(documents[first]), full_recipe(documents[second])
            lever = LEVERS.get(frozenset(differing_fields(a, b)))
            if lever is None or (lever == "40x40 centre crop"
                                 and {a["model"], b["model"]} != {"basic_cnn", "crop_cnn"}):
                continue
            # The baseline first: the basic CNN, the shorter budget, float32.
            baseline_second = {"40x40 centre crop": a["model"] == "crop_cnn", "epoch budget": a["epochs"] > b["epochs"],
                               "mixed_bfloat16": a["mixed_precision"]}[lever]
            before, after = (second, first) if baseline_second else (first, second)
            x, y = documents[before], documents[after]
            costs = [run_cost(document, full_recipe(document), training_cost) for document in (x, y)]
            counted = cost_change(*costs)
            quiet = [cost["quiet_cpu_minutes"] if cost["exact"] else None for cost in costs]
            if lever == "epoch budget":
                lever = f"epoch budget {full_recipe(x)['epochs']} -> {full_recipe(y)['epochs']}"
            rows.append({
                "lever": lever, "runs": f"{before} -> {after}",
                "from_epochs": int(full_recipe(x)["epochs"]), "to_epochs": int(full_recipe(y)["epochs"]),
                "from_accuracy": x["test"]["accuracy"], "to_accuracy": y["test"]["accuracy"],
                "accuracy_change_points": 100 * (y["test"]["accuracy"] - x["test"]["accuracy"]),
                "macro_f1_change": y["test"]["macro_f1"] - x["test"]["macro_f1"],
                "publictest_change_points": 100 * (y["publictest_accuracy_at_chosen_epoch"]
                                                   - x["publictest_accuracy_at_chosen_epoch"]),
                "cpu_minutes_change": y["training_cpu_minutes"] - x["training_cpu_minutes"],
                "from_cores_used": costs[0]["cores_used"], "to_cores_used": costs[1]["cores_used"],
                "quiet_cpu_minutes_change": quiet[1] - quiet[0] if None not in quiet else None,
                "counted_cpu_minutes_change": counted["cpu_minutes_change"], "cost_basis": counted["basis"],
            })
    return rows


def release_tta_choice(name: str, models_dir: Path | str, splits: dict, seed: int = 0, *,
                       cache_dir: Path | str | None | object = DEFAULT_CACHE) -> dict:
    """:func:`emotion.classify.evaluate.choose_tta` for the release ``models_dir/<name>.keras``, with a bootstrap
    interval of the PrivateTest accuracy. Its probabilities go through the prediction cache
    (:mod:`emotion.classify.prediction_cache`; ``cache_dir`` as in
    :func:`emotion.classify.ensemble.released_probabilities`), so a re-run whose file and images are unchanged neither
    loads the model nor predicts.

    Args:
        splits: ``{"PublicTest": (images, labels), "PrivateTest": (images, labels)}``.

    Returns:
        JSON-ready: ``{"model", "selection_accuracy", "chosen", "test" (metrics), "privatetest_accuracy_interval",
        "protocol"}``.

    Raises:
        ModelFileError: the model file is missing or unreadable.
    """
    from emotion.classify.evaluate import (
        TTA_MODES,
        accuracy,
        load_model,
        predict_probabilities,
        probabilities_by_tta,
        tta_choice,
    )
    from emotion.classify.prediction_cache import cached_modes, cached_probabilities, default_cache_dir
    from emotion.classify.significance import bootstrap_interval

    if cache_dir is DEFAULT_CACHE:
        cache_dir = default_cache_dir()
    path = Path(models_dir) / f"{name}.keras"
    loaded: list = []

    def model():
        if not loaded:
            loaded.append(load_model(path))
        return loaded[0]

    (selection_images, selection_labels), (test_images, test_labels) = splits["PublicTest"], splits["PrivateTest"]
    selection = cached_modes(path, selection_images, TTA_MODES, lambda images: probabilities_by_tta(model(), images),
                             cache_dir)

    def test_probabilities(mode: str) -> np.ndarray:
        return cached_probabilities(path, {"PrivateTest": test_images}, mode,
                                    lambda todo: {split: predict_probabilities(model(), images, tta=mode)
                                                  for split, images in todo.items()}, cache_dir)["PrivateTest"]

    choice = tta_choice(selection, selection_labels, test_probabilities, test_labels)
    predictions = choice.pop("test_predictions")
    interval = bootstrap_interval(test_labels, predictions, accuracy, seed=seed)
    return {"model": name, **choice, "privatetest_accuracy_interval": interval}
