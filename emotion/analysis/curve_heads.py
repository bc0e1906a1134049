"""The run that stands for a model once it has a budget curve: the longest run of its longest curve (the "head").

A released model is often a short run (the basic CNN's release trained 14 epochs), so once an architecture has a
budget curve, a comparison between architectures is about their heads, the runs whose budget the curve vouches for
(:func:`emotion.analysis.budget_curves.convergence`). Notebook 06 scores the heads that kept their PrivateTest
predictions (``test.predictions`` of the run's results) with bootstrap intervals and McNemar's test against every
other head and release (:func:`review_heads`); the claims ledger then compares architectures by their heads where
they have one, by their releases otherwise (:func:`representatives`).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from emotion.errors import DataFormatError
from emotion.provenance import read_results


def _run_file(results_dir: Path, run: str) -> Path | None:
    """The results file of run ``run`` as :func:`emotion.analysis.budget_curves.budget_runs` names it: an experiment's
    ``03_ablation_<run>.json`` or a release's ``03_train_<run>.json``."""
    for prefix in ("03_ablation_", "03_train_"):
        if (results_dir / f"{prefix}{run}.json").is_file():
            return results_dir / f"{prefix}{run}.json"
    return None


def curve_heads(results_dir: Path | str) -> dict[str, dict]:
    """Per architecture with a budget curve (:func:`emotion.analysis.training_rules.budget_evidence`), the longest
    run of its longest curve.

    Returns:
        ``{architecture: {"run", "model", "epochs", "chosen_epoch", "publictest_accuracy", "privatetest_accuracy",
        "privatetest_macro_f1", "n", "predictions" (the encoded string, None where the run kept none), "status",
        "settled", "cpu_hours", "wall_hours", "source"}}``.
    """
    from emotion.analysis.training_rules import budget_evidence

    results_dir = Path(results_dir)
    heads = {}
    for model, verdict in budget_evidence(results_dir).items():
        path = _run_file(results_dir, verdict["curve"])
        if path is None:
            continue
        document = read_results(path)
        test = document["test"]
        heads[model] = {
            "run": verdict["curve"], "model": model, "epochs": int(document["epochs_run"]),
            "chosen_epoch": int(document["chosen_epoch"]),
            "publictest_accuracy": float(document["publictest_accuracy_at_chosen_epoch"]),
            "privatetest_accuracy": float(test["accuracy"]), "privatetest_macro_f1": float(test["macro_f1"]),
            "n": int(test["n"]), "predictions": test.get("predictions"), "status": verdict["status"],
            "settled": bool(verdict.get("settled", verdict["converged"])),
            "cpu_hours": document["training_cpu_minutes"] / 60, "wall_hours": document["training_wall_minutes"] / 60,
            "source": f"results/{path.name}"}
    return heads


def head_predictions(heads: dict[str, dict], labels: np.ndarray, *, rows: int | None = None) -> dict[str, np.ndarray]:
    """The PrivateTest predictions of every head that kept them, by run name, checked against the accuracy its
    results record (on all its images; ``rows`` then keeps the first ones, as notebook 06's smoke mode does).

    Raises:
        DataFormatError: a head's predictions are not of ``labels``' images or do not give its recorded accuracy.
    """
    from emotion.classify.evaluate import decode_predictions

    labels = np.asarray(labels)
    found = {}
    for head in heads.values():
        if not head["predictions"]:
            continue
        predicted = decode_predictions(head["predictions"])
        if len(predicted) != len(labels):
            raise DataFormatError(f"{head['source']}: {len(predicted)} PrivateTest predictions for {len(labels)} "
                                  "labels; it was scored on other images.")
        correct = int((predicted == labels).sum())
        if correct != round(head["privatetest_accuracy"] * len(labels)):
            raise DataFormatError(f"{head['source']}: its predictions get {correct} of {len(labels)} PrivateTest "
                                  f"images right, its results record {head['privatetest_accuracy']:.4f}: they do not "
                                  "belong to these labels.")
        found[head["run"]] = predicted[:rows]
    return found


def review_heads(heads: dict[str, dict], labels: np.ndarray, release_predictions: dict[str, np.ndarray], *,
                 resamples: int, seed: int, rows: int | None = None) -> dict:
    """Notebook 06's review of the heads: each head that kept predictions scored with 95 % bootstrap intervals of
    accuracy and macro-F1, and McNemar's test between each such head and every release and other head (the releases'
    tests among themselves are notebook 06's own). A head that is itself a release (a curve whose longest run is the
    release) is scored as its stored file, like the release.

    Args:
        labels: all PrivateTest labels (the heads' predictions are checked against them).
        release_predictions: the releases' PrivateTest predictions by release name, of the first ``rows`` images.
        rows: score only the first ``rows`` images (smoke mode); None for all.

    Returns:
        ``{"heads": {architecture: head without "predictions", plus "intervals" where scored}, "mcnemar":
        {"a_vs_b": ...} for every ordered pair with a head in it, "images": n scored}``.
    """
    from emotion.analysis.review import intervals, pairwise_mcnemar

    labels = np.asarray(labels)
    scored_labels = labels[:rows]
    predicted = _predicted(heads, labels, release_predictions, rows)
    review = {}
    for model, head in heads.items():
        entry = {key: value for key, value in head.items() if key != "predictions"}
        if head["run"] in predicted:
            entry["intervals"] = intervals(scored_labels, predicted[head["run"]], resamples, seed)
        review[model] = entry
    everyone = {**predicted, **release_predictions}
    tests = pairwise_mcnemar(scored_labels, everyone) if len(everyone) > 1 else {}
    involved = set(predicted) - set(release_predictions)
    return {"heads": review, "images": int(len(scored_labels)),
            "mcnemar": {key: test for key, test in tests.items()
                        if any(key.startswith(f"{run}_vs_") or key.endswith(f"_vs_{run}") for run in involved)}}


def _predicted(heads: dict[str, dict], labels: np.ndarray, release_predictions: dict[str, np.ndarray],
               rows: int | None) -> dict[str, np.ndarray]:
    """Each head's PrivateTest predictions by run name: its release file's where the head is a release, else those
    its results kept (:func:`head_predictions`)."""
    return {**head_predictions(heads, labels, rows=rows), **{
        head["run"]: release_predictions[head["run"]] for head in heads.values() if head["run"] in release_predictions}}


def settled_imbalance(heads: dict[str, dict], labels: np.ndarray, release_predictions: dict[str, np.ndarray],
                      training_counts: dict[str, int], *, resamples: int, seed: int,
                      rows: int | None = None) -> dict | None:
    """Is the rarest class the worst of a model whose budget curve has settled? Among the heads whose curve settled
    (converged, or reached the paper's 60 epochs) and whose PrivateTest predictions are at hand, the one PublicTest
    ranks first is reviewed: the worst class by F1 and the Spearman correlation of F1 with training images
    (:func:`emotion.analysis.review.imbalance_review`), and the paired bootstrap interval of the rarest class's F1 minus
    the lowest F1 of the others (:func:`emotion.analysis.uncertainty.f1_gap_interval`).

    Args:
        labels: all PrivateTest labels; ``release_predictions`` and ``rows`` as in :func:`review_heads`.
        training_counts: images per class name in Training.

    Returns:
        The :func:`~emotion.analysis.review.imbalance_review` keys plus ``"model"`` (architecture), ``"run"``,
        ``"epochs"``, ``"status"``, ``"publictest_accuracy"``, ``"source"``, ``"f1"`` (per class name),
        ``"rarest_f1_gap"`` (class ids replaced by names), ``"images"`` and ``"rarest_test_images"`` (the rarest class's
        images among them); None when no settled head has predictions.
    """
    from emotion import CLASS_NAMES
    from emotion.analysis.review import imbalance_review, per_class_table
    from emotion.analysis.uncertainty import f1_gap_interval

    labels = np.asarray(labels)
    predicted = _predicted(heads, labels, release_predictions, rows)
    settled = [head for head in heads.values() if head["settled"] and head["run"] in predicted]
    if not settled:
        return None
    head = max(settled, key=lambda entry: entry["publictest_accuracy"])
    scored_labels, predictions = labels[:rows], predicted[head["run"]]
    table = per_class_table(scored_labels, predictions)
    review = imbalance_review(table, training_counts)
    gap = f1_gap_interval(scored_labels, predictions, CLASS_NAMES.index(review["rarest_class"]), resamples=resamples,
                          seed=seed)
    gap = {**{key: value for key, value in gap.items() if key not in ("class_id", "lowest_other")},
           "class": CLASS_NAMES[gap["class_id"]], "lowest_other": CLASS_NAMES[gap["lowest_other"]]}
    return {**review, "model": head["model"], "run": head["run"], "epochs": head["epochs"], "status": head["status"],
            "publictest_accuracy": head["publictest_accuracy"], "source": head["source"],
            "f1": {name: float(table.loc[name, "f1-score"]) for name in CLASS_NAMES}, "rarest_f1_gap": gap,
            "images": int(len(scored_labels)), "rarest_test_images": int(table.loc[review["rarest_class"], "support"])}


def stale_heads(budgets: dict[str, dict], heads: dict[str, dict], architectures: list[str]) -> str:
    """The ``needs`` clause for ``architectures`` whose longest budget run now (``budgets``,
    :func:`emotion.analysis.training_rules.budget_evidence`) is not the head notebook 06 last scored (``heads``): a run
    landed after it ran, so its release stood for the architecture instead. "" when every head is current."""
    stale = [f"{name} ({budgets[name]['curve']}, scored: {heads[name]['run'] if name in heads else 'none'})"
             for name in architectures if name in budgets
             and (name not in heads or heads[name]["run"] != budgets[name]["curve"])]
    if not stale:
        return ""
    return ("notebook 06 has not scored the longest budget run of " + ", ".join(stale) + " yet: re-run it (python -m "
            "emotion run-notebooks --mode full --only 06) so that each stands for its architecture")


def representatives(models: dict[str, dict], heads: dict[str, dict], mcnemar: dict[str, dict],
                    architectures: list[str]) -> dict[str, dict]:
    """Which run stands for each of ``architectures`` in a comparison: its head where notebook 06 scored one
    (``heads[arch]`` with ``intervals``) and tested it against the other architectures' runs (a McNemar key in
    ``mcnemar`` for each), else its release (``models[arch]``, notebook 06's review of the release files); an
    architecture with neither is left out.

    Returns:
        ``{architecture: {"run", "kind" ("budget-curve head" or "release file"), "epochs", "accuracy",
        "publictest_accuracy", "training_cpu_minutes"}}``; a pair's McNemar test is ``mcnemar[f"{a}_vs_{b}"]`` with
        the two ``run`` names.
    """
    chosen = {}
    for architecture in architectures:
        head = heads.get(architecture)
        if head is not None and "intervals" in head and all(
                f"{head['run']}_vs_{other}" in mcnemar for other in _other_runs(architecture, architectures, models,
                                                                               heads)):
            chosen[architecture] = {"run": head["run"], "kind": "budget-curve head", "epochs": head["epochs"],
                                    "accuracy": head["intervals"]["accuracy"]["estimate"],
                                    "publictest_accuracy": head["publictest_accuracy"],
                                    "training_cpu_minutes": head["cpu_hours"] * 60}
        elif architecture in models:
            release = models[architecture]
            chosen[architecture] = {"run": architecture, "kind": "release file", "epochs": release.get("epochs"),
                                    "accuracy": release["intervals"]["accuracy"]["estimate"],
                                    "publictest_accuracy": release.get("publictest_accuracy"),
                                    "training_cpu_minutes": release.get("training_cpu_minutes")}
    return chosen


def _other_runs(architecture: str, architectures: list[str], models: dict, heads: dict) -> list[str]:
    """The runs a head must have a McNemar test against: every other architecture's head (scored) or release."""
    runs = []
    for other in architectures:
        if other == architecture:
            continue
        head = heads.get(other)
        if head is not None and "intervals" in head:
            runs.append(head["run"])
        elif other in models:
            runs.append(other)
    return runs
