"""The stem question on ResNet-18, and the sentence that states its answer.

The paper's ResNets use the ImageNet stem (a 7x7/2 convolution, then a 3x3/2 max-pool), which leaves 12x12 maps of a
48x48 face before the first residual stage. ``resnet18_keepres`` keeps resolution (a 3x3/1 convolution, the same
max-pool: 24x24 maps) and is otherwise ResNet-18. Its convolutions cost more per image, so the fair comparison is at
matched training CPU-seconds, every epoch at its quiet price (:func:`emotion.analysis.lineage_cost.quiet_epoch_cost`);
runs at matched epochs are compared as well, and said to be so. Both are trained with the study's recipe; each
comparison is paired on the same PrivateTest images (McNemar's exact test) when both runs kept their predictions.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from emotion.errors import DataFormatError

STEMS = {"resnet18": "ImageNet stem (7x7/2 convolution, 3x3/2 max-pool; 12x12 maps at the first stage)",
         "resnet18_keepres": "resolution-keeping stem (3x3/1 convolution, 3x3/2 max-pool; 24x24 maps)"}
"""The two architectures of the comparison and their stems."""
MATCHED_CPU = 0.15
"""Two runs are at matched CPU-seconds when their quiet training costs differ by at most this fraction."""
SIGNIFICANCE = 0.05
"""McNemar's p below which a difference between the stems is called significant."""
RECIPE_FIELDS = ("batch_size", "learning_rate", "weight_decay", "label_smoothing", "warmup_epochs", "augment",
                 "optimizer", "momentum", "class_weighting", "init_from")
"""The recipe fields two runs of the comparison must share (the model, the epoch budget and the arithmetic precision
may differ: bfloat16 is used only where the CPU has it in hardware,
:data:`emotion.analysis.budget_curves.UNGROUPED_FIELDS`)."""


def stem_runs(results_dir: Path | str, training_cost: dict | None) -> list[dict[str, Any]]:
    """Every finished run of either stem in ``results_dir`` (releases ``03_train_*.json`` and experiment runs
    ``03_ablation_*.json``), oldest file name first, as records: ``name``, ``model``, ``source`` (the file),
    ``epochs``, ``chosen_epoch``, ``publictest_accuracy``, ``privatetest_accuracy``, ``privatetest_macro_f1``,
    ``quiet_cpu_minutes`` (epochs at the quiet price, None without one), ``predictions`` (the stored PrivateTest
    classes, :func:`emotion.classify.evaluate.decode_predictions`, or None) and ``recipe``.

    Raises:
        DataFormatError: a results file of a stem run lacks a field the comparison reads (names the file).
    """
    from emotion.analysis.lineage_cost import quiet_epoch_cost
    from emotion.classify.evaluate import decode_predictions
    from emotion.provenance import read_results

    runs = []
    results_dir = Path(results_dir)
    for path in sorted(results_dir.glob("03_train_*.json")) + sorted(results_dir.glob("03_ablation_*.json")):
        document = read_results(path)
        if document.get("model") not in STEMS or not document.get("finished"):
            continue
        try:
            recipe = with_defaults(document["recipe"])  # a release recorded before newer recipe fields existed
            price = quiet_epoch_cost(recipe, training_cost)
            stored = document["test"].get("predictions")
            runs.append({
                "name": document.get("run") or path.stem.split("_", 2)[2], "model": document["model"],
                "source": f"results/{path.name}", "epochs": int(document["epochs_run"]),
                "chosen_epoch": int(document["chosen_epoch"]),
                "publictest_accuracy": float(document["publictest_accuracy_at_chosen_epoch"]),
                "privatetest_accuracy": float(document["test"]["accuracy"]),
                "privatetest_macro_f1": float(document["test"]["macro_f1"]),
                "quiet_cpu_minutes": None if price is None else price["cpu_seconds"] * int(document["epochs_run"]) / 60,
                "predictions": None if stored is None else decode_predictions(stored),
                "recipe": recipe})
        except KeyError as error:
            raise DataFormatError(f"{path}: a run of {document['model']} without {error}; retrain it or restore the "
                                  "file with git.") from error
    return runs


def with_release_predictions(runs: list[dict[str, Any]], models_dir: Path | str, images: np.ndarray,
                             labels: np.ndarray) -> list[dict[str, Any]]:
    """``runs`` with the PrivateTest predictions of every release that was published before runs kept them (a
    ``results/03_train_*.json`` without predictions) computed from its model file ``models_dir/<name>.keras``, without
    test-time augmentation as its recorded accuracy is; other runs unchanged. A run whose file is absent keeps None.

    Raises:
        DataFormatError: the model file's predictions do not give the accuracy its results file records (the file
            changed since the release; restore it with git or `make train`).
        ModelFileError: the model file is unreadable.
    """
    from emotion.classify.evaluate import load_model, predict_probabilities

    filled = []
    for run in runs:
        path = Path(models_dir) / f"{run['name']}.keras"
        if run["predictions"] is None and "/03_train_" in run["source"] and path.is_file():
            predictions = predict_probabilities(load_model(path), images).argmax(axis=1)
            accuracy = float(np.mean(predictions == labels))
            if abs(accuracy - run["privatetest_accuracy"]) > 0.5 / len(labels):
                raise DataFormatError(f"{path} predicts {accuracy:.4%} of PrivateTest, but {run['source']} records "
                                      f"{run['privatetest_accuracy']:.4%}: the model file changed since its release; "
                                      "restore it with git or retrain it with `make train`.")
            run = {**run, "predictions": predictions}
        filled.append(run)
    return filled


def with_defaults(recipe: dict[str, Any]) -> dict[str, Any]:
    """``recipe`` with every field that :class:`~emotion.classify.recipes.TrainConfig` gained after it was recorded
    set to that field's default (a release from before the optimizer fields existed trained with their defaults), as
    :func:`emotion.classify.run_folder.recipe_differences` reads older records."""
    from emotion.classify.run_folder import recipe_with_defaults

    return recipe_with_defaults(recipe, recipe.get("model") or "resnet18")


def pair_runs(runs: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The comparisons the runs allow, ``{"keep": run, "imagenet": run, "matched": ...}``: for each run of
    ``resnet18_keepres``, the ``resnet18`` run of the same recipe (:data:`RECIPE_FIELDS`, older records read with
    :func:`with_defaults`) closest to it in quiet
    CPU-minutes when within :data:`MATCHED_CPU` ("cpu"), every other one of as many epochs ("epochs"), and when
    neither exists, the closest in CPU-minutes (or the first) as "neither"."""
    def same_recipe(a, b):
        return all(a["recipe"].get(field) == b["recipe"].get(field) for field in RECIPE_FIELDS)

    runs = [{**run, "recipe": with_defaults(run["recipe"])} for run in runs]

    def cpu_gap(run, keep):
        if not run["quiet_cpu_minutes"] or not keep["quiet_cpu_minutes"]:
            return float("inf")
        return abs(run["quiet_cpu_minutes"] / keep["quiet_cpu_minutes"] - 1)

    pairs = []
    for keep in (run for run in runs if run["model"] == "resnet18_keepres"):
        rivals = [run for run in runs if run["model"] == "resnet18" and same_recipe(run, keep)]
        if not rivals:
            continue
        closest = min(rivals, key=lambda run: cpu_gap(run, keep))
        chosen = [(closest, "cpu")] if cpu_gap(closest, keep) <= MATCHED_CPU else []
        chosen += [(run, "epochs") for run in rivals if run["epochs"] == keep["epochs"]
                   and all(run is not other for other, _ in chosen)]
        pairs += [{"keep": keep, "imagenet": run, "matched": matched}
                  for run, matched in chosen or [(closest, "neither")]]
    return pairs


def compare_pair(pair: dict[str, Any], labels: np.ndarray | None) -> dict[str, Any]:
    """One comparison as a results record: both runs' names, epochs, quiet CPU-minutes and PrivateTest accuracy, the
    difference in points (resolution-keeping minus ImageNet stem) and McNemar's test on ``labels`` (the PrivateTest
    labels) when both runs kept their predictions (else ``mcnemar`` None)."""
    from emotion.classify.significance import mcnemar

    keep, imagenet = pair["keep"], pair["imagenet"]
    fields = ("name", "source", "epochs", "chosen_epoch", "quiet_cpu_minutes", "publictest_accuracy",
              "privatetest_accuracy", "privatetest_macro_f1")
    record = {"matched": pair["matched"], "keep_resolution": {key: keep[key] for key in fields},
              "imagenet": {key: imagenet[key] for key in fields},
              "difference_points": 100 * (keep["privatetest_accuracy"] - imagenet["privatetest_accuracy"]),
              "mcnemar": None}
    if labels is not None and keep["predictions"] is not None and imagenet["predictions"] is not None:
        record["mcnemar"] = mcnemar(labels, keep["predictions"], imagenet["predictions"])
    return record


def describe_stems(comparisons: list[dict[str, Any]], runs: list[dict[str, Any]]) -> str:
    """The stem question's answer in words: each comparison (which budget was matched, both accuracies, the
    difference and whether McNemar's test calls it significant at :data:`SIGNIFICANCE`), or what is missing.
    Every run is one seed, which the sentence says."""
    if not any(run["model"] == "resnet18_keepres" for run in runs):
        return ("No run of the resolution-keeping stem is in the results yet (`make stems` trains `resnet18_keepres` "
                "at the CPU-seconds of the released ResNet-18), so the stem question is open.")
    if not comparisons:
        return ("The resolution-keeping stem has runs, but no ResNet-18 run of the same recipe to compare them with "
                "(`make train` releases one).")
    sentences = []
    for record in comparisons:
        keep, imagenet = record["keep_resolution"], record["imagenet"]
        budget = {"cpu": "At matched training CPU-seconds", "epochs": "At matched epochs",
                  "neither": "At unmatched budgets"}[record["matched"]]
        cost = (f"{keep['quiet_cpu_minutes']:.0f} vs {imagenet['quiet_cpu_minutes']:.0f} CPU-minutes at the quiet "
                "price" if keep["quiet_cpu_minutes"] and imagenet["quiet_cpu_minutes"] else "no quiet price for one")
        test = record["mcnemar"]
        verdict = ("not paired on the same images (a run kept no predictions)" if test is None else
                   f"McNemar p = {test['p_value']:.2g}, " + ("significant" if test["p_value"] < SIGNIFICANCE else
                                                             "not significant") + f" at {SIGNIFICANCE}")
        sentences.append(
            f"{budget} ({keep['epochs']} epochs of the resolution-keeping stem against {imagenet['epochs']} of the "
            f"ImageNet stem; {cost}), the resolution-keeping stem scores {keep['privatetest_accuracy']:.2%} on "
            f"PrivateTest against {imagenet['privatetest_accuracy']:.2%} ({record['difference_points']:+.2f} points; "
            f"{verdict}).")
    return " ".join(sentences) + " Each run is one seed."
