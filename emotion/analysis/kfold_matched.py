"""K-fold against holdout training at matched optimizer steps, and the sentence that states the comparison.

The paper set 6 folds x 10 epochs against 60 holdout epochs. The study's first K-fold run (3 folds x 5 epochs) was
set against 5-epoch holdout runs: each fold model took (K-1)/K of a holdout run's steps, and all K together (K-1)
times as many. Here a K-fold run (:func:`emotion.classify.kfold.train_kfold`) meets a holdout run of the same model
and recipe except the epoch budget (``results/03_ablation_*.json``) that took as many optimizer steps: the K-fold
run's steps are the sum over folds of epochs x ceil(fit images / batch size), the holdout run's epochs x ceil(Training
images / batch size), and the two are *matched* when they differ by at most :data:`MATCHED_STEPS_PERCENT` % of the
K-fold run's. The seed may differ too: a seed is not a recipe (:func:`emotion.analysis.ablations.seed_band`).

Both sides are scored on PrivateTest: the K-fold ensemble (the mean softmax of the fold models) and the fold models'
mean accuracy, each against the holdout run, with the study's 95 % bootstrap intervals where the results files allow
them and a test of the difference: paired on the same images (McNemar's exact test; for the fold models' mean its
sign-test form, :func:`emotion.classify.significance.paired_sign_test`) when both files hold their PrivateTest
predictions and the PrivateTest labels are given, else the two-proportion test, marked unpaired. Results files hold
predictions, never labels (the data set's terms keep it out of the repository), so a caller that reads results files
only, as the claims ledger does, compares unpaired.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from emotion.analysis.ablations import differing_fields, pairs_from_confusion, read_runs
from emotion.analysis.budget_curves import run_precision
from emotion.errors import DataFormatError

MATCHED_STEPS_PERCENT = 5
"""A K-fold and a holdout run are at matched optimizer steps when their steps differ by at most this many percent
of the K-fold run's."""
RECIPE_FREE = ("epochs", "seed", "mixed_precision")
"""The recipe fields in which a matched holdout run may differ from the K-fold run: the budget, the seed and the
arithmetic precision (bfloat16 only where the CPU has it in hardware; not a recipe,
:data:`emotion.analysis.budget_curves.UNGROUPED_FIELDS`)."""


def _batches(images: int, batch_size: int) -> int:
    """Optimizer steps in one epoch over ``images`` (the last batch may be smaller: ceil)."""
    return -(-int(images) // int(batch_size))


def holdout_steps(payload: dict, source: str = "the holdout run") -> int:
    """A holdout run's optimizer steps: ``epochs_run`` x ceil(``train_images`` / batch size).

    Raises:
        DataFormatError: the results lack one of these (names ``source``).
    """
    try:
        return int(payload["epochs_run"]) * _batches(payload["train_images"], payload["recipe"]["batch_size"])
    except (KeyError, TypeError) as error:
        raise DataFormatError(f"{source} lacks {error}, which a comparison at matched optimizer steps reads: it is not "
                              "a training run's results file; retrain it or restore it with git.") from error


def is_matched(kfold_steps: int, steps: int) -> bool:
    """Whether ``steps`` lie within :data:`MATCHED_STEPS_PERCENT` % of ``kfold_steps`` (in integers: exactly 5 %
    apart is matched)."""
    return 100 * abs(int(steps) - int(kfold_steps)) <= MATCHED_STEPS_PERCENT * int(kfold_steps)


def recipe_differences(kfold: dict, holdout: dict) -> list[str]:
    """The recipe fields besides :data:`RECIPE_FREE` in which two runs differ (empty: the same recipe at another
    budget)."""
    return differing_fields(kfold.get("recipe", {}), holdout.get("recipe", {}), ignore=RECIPE_FREE)


def matching_epochs(kfold: dict, source: str = "the K-fold run") -> int:
    """The epochs of a holdout run of the K-fold run's recipe whose optimizer steps come closest to the K-fold run's
    (``training_images``: the Training split's size).

    Raises:
        DataFormatError: the K-fold results lack one of these (names ``source``).
    """
    try:
        per_epoch = _batches(kfold["training_images"], kfold["recipe"]["batch_size"])
        return max(1, round(int(kfold["optimizer_steps"]) / per_epoch))
    except (KeyError, TypeError) as error:
        raise DataFormatError(f"{source} records its optimizer steps but lacks {error}: the file was edited or "
                              "written by other code; rerun the K-fold run or restore it with git.") from error


def _interval(matrix: list[list[int]], resamples: int, seed: int) -> dict[str, float]:
    """The 95 % bootstrap interval of the accuracy behind a confusion matrix, as the study draws it
    (:func:`emotion.analysis.ablations.paper_recipe_summary`)."""
    from emotion.classify.evaluate import accuracy
    from emotion.classify.significance import bootstrap_interval

    interval = bootstrap_interval(*pairs_from_confusion(matrix), accuracy, resamples=resamples, seed=seed)
    return {"low": interval["low"], "high": interval["high"]}


def _stored(encoded: Any, n: int, where: str) -> np.ndarray | None:
    """Stored PrivateTest predictions as classes (None when absent), checked to number ``n``."""
    from emotion.classify.evaluate import decode_predictions

    if encoded is None:
        return None
    predictions = decode_predictions(encoded)
    if len(predictions) != n:
        raise DataFormatError(f"{where} holds {len(predictions)} PrivateTest predictions for {n} images: the file was "
                              "edited or written by other code; retrain it or restore it with git.")
    return predictions


def kfold_matched_comparison(kfold: dict, holdout: dict, labels: np.ndarray | None = None, *, kfold_name: str = "",
                             holdout_name: str = "", resamples: int = 2000, seed: int = 0) -> dict[str, Any] | None:
    """A K-fold run against a holdout run of its recipe at another epoch budget (and seed), on PrivateTest.

    Args:
        kfold: a K-fold run's results (``results/03_kfold_<name>.json``).
        holdout: a training run's results (``results/03_ablation_<name>.json``).
        labels: the PrivateTest labels (int (n,)): with them, and predictions stored in both files, both tests are
            paired on the images.
        kfold_name, holdout_name: the runs' names, for the record and its reasons.
        resamples, seed: of the bootstrap intervals.

    Returns:
        None for a K-fold file written before K-fold runs recorded their optimizer steps (it has no matched
        comparison); else ``{"matched", "steps_gap" (the holdout run's steps over the K-fold run's, minus 1),
        "kfold": {"run", "model", "folds", "epochs", "seed", "optimizer_steps", "full_epoch_equivalents"},
        "holdout": {"run", "epochs", "seed", "optimizer_steps", "privatetest_accuracy", "interval"}, "paired",
        "unpaired_reason" (None when paired), "ensemble", "fold_models"}``, the last two each
        ``{"privatetest_accuracy", "interval" (None where the files allow none), "difference_points" (minus the
        holdout run's), "test": {"name", "paired", "p_value", ...}}``.

    Raises:
        ValueError: the runs differ in more of their recipe than :data:`RECIPE_FREE`, were scored on different
            numbers of images, or ``labels`` has another length.
        DataFormatError: a file lacks what the comparison reads, or holds predictions of another length.
    """
    from emotion.classify.significance import bootstrap_interval, mcnemar, paired_sign_test, two_proportion_test

    if "optimizer_steps" not in kfold:
        return None
    kfold_name, holdout_name = kfold_name or str(kfold.get("run", "the K-fold run")), holdout_name or "the holdout run"
    differs = recipe_differences(kfold, holdout)
    if differs:
        raise ValueError(f"{holdout_name} is not {kfold_name}'s recipe at another budget: they differ in "
                         f"{', '.join(differs)}; compare runs of one recipe.")
    try:
        n, ensemble_scores = int(holdout["test"]["n"]), kfold["ensemble_privatetest"]
        steps, kfold_steps = holdout_steps(holdout, holdout_name), int(kfold["optimizer_steps"])
        accuracies = {"holdout": float(holdout["test"]["accuracy"]), "ensemble": float(ensemble_scores["accuracy"]),
                      "fold_models": float(kfold["privatetest_accuracy_mean"])}
        if int(ensemble_scores["n"]) != n:
            raise ValueError(f"{kfold_name} was scored on {ensemble_scores['n']} PrivateTest images, {holdout_name} "
                             f"on {n}: compare runs scored on the same split.")
        ensemble = _stored(ensemble_scores.get("predictions"), n, kfold_name)
        folds = [_stored(one, n, kfold_name) for one in kfold.get("fold_privatetest_predictions") or []]
        theirs = _stored(holdout["test"].get("predictions"), n, holdout_name)
        intervals = {"holdout": _interval(holdout["test"]["confusion_matrix"], resamples, seed),
                     "ensemble": _interval(ensemble_scores["confusion_matrix"], resamples, seed), "fold_models": None}
        recipe = kfold["recipe"]
        kfold_record = {"run": kfold_name, "model": recipe["model"], "folds": int(kfold["folds"]),
                        "epochs": int(recipe["epochs"]), "seed": recipe.get("seed"), "optimizer_steps": kfold_steps,
                        "full_epoch_equivalents": float(kfold["full_epoch_equivalents"]),
                        "precision": run_precision(kfold)}
        holdout_record = {"run": holdout_name, "epochs": int(holdout["epochs_run"]),
                          "seed": holdout["recipe"].get("seed"), "precision": run_precision(holdout),
                          "optimizer_steps": steps,
                          "privatetest_accuracy": accuracies["holdout"], "interval": intervals["holdout"]}
    except (KeyError, TypeError) as error:
        raise DataFormatError(f"{kfold_name} or {holdout_name} lacks {error}, which a comparison at matched optimizer "
                              "steps reads; retrain the run or restore its results file with git.") from error
    missing = [f"{name}'s" for name, stored in ((kfold_name, ensemble is not None and len(folds) > 0),
                                                (holdout_name, theirs is not None)) if not stored]
    reason = (f"{' and '.join(missing)} results file{'s hold' if len(missing) > 1 else ' holds'} no PrivateTest "
              "predictions" if missing else
              None if labels is not None else "no PrivateTest labels were given to score the stored predictions")
    if reason is None:
        labels = np.asarray(labels)
        if labels.shape != (n,):
            raise ValueError(f"{labels.shape} PrivateTest labels for {n} scored images: pass the PrivateTest "
                             "split's labels.")
        share = np.mean([predictions == labels for predictions in folds], axis=0)  # of the fold models right
        interval = bootstrap_interval(share, share, lambda values, _: float(np.mean(values)), resamples=resamples,
                                      seed=seed)
        intervals["fold_models"] = {"low": interval["low"], "high": interval["high"]}
        tests = {"ensemble": {"name": "McNemar's exact test", "paired": True, **mcnemar(labels, ensemble, theirs)},
                 "fold_models": {"name": "exact sign test on each image's share of fold models right",
                                 "paired": True, **paired_sign_test(share, (theirs == labels).astype(float))}}
    else:
        tests = {side: {"name": "two-proportion z-test", "paired": False,
                        **two_proportion_test(accuracies[side], n, accuracies["holdout"], n)}
                 for side in ("ensemble", "fold_models")}
    return {"matched": is_matched(kfold_steps, steps), "steps_gap": steps / kfold_steps - 1, "kfold": kfold_record,
            "holdout": holdout_record, "paired": reason is None, "unpaired_reason": reason,
            **{side: {"privatetest_accuracy": accuracies[side], "interval": intervals[side],
                      "difference_points": 100 * (accuracies[side] - accuracies["holdout"]), "test": tests[side]}
               for side in ("ensemble", "fold_models")}}


def matched_holdout(kfold: dict, runs: dict[str, dict]) -> str | None:
    """The holdout run of ``runs`` (``{name: payload}`` of ``results/03_ablation_*.json``) at matched optimizer steps
    with a K-fold run: finished, of its recipe except :data:`RECIPE_FREE`, its steps within
    :data:`MATCHED_STEPS_PERCENT` %; the closest in steps (then the first by name), None without one."""
    steps = int(kfold["optimizer_steps"])
    matched = {name: abs(holdout_steps(payload, f"results/03_ablation_{name}.json") - steps)
               for name, payload in runs.items()
               if payload.get("finished", True) and not recipe_differences(kfold, payload)
               and is_matched(steps, holdout_steps(payload, f"results/03_ablation_{name}.json"))}
    return min(matched, key=lambda name: (matched[name], name)) if matched else None


def kfold_matched_evidence(results_dir: Path | str, labels: np.ndarray | None = None) -> dict[str, Any] | None:
    """The claims ledger's K-fold evidence at matched optimizer steps, from the runs in ``results_dir``: of the
    K-fold runs (``03_kfold_*.json``) that recorded their steps, the one with the most steps that has a matched
    holdout run (:func:`matched_holdout`), as its :func:`kfold_matched_comparison` with ``source`` (both files) and
    ``evidence`` (:func:`describe_kfold_matched`). Without a matched pair: ``{"matched": False, "kfold", "source",
    "needs"}`` for the K-fold run with the most steps, ``needs`` naming the holdout run that would match it. None
    when no K-fold run recorded its steps (files written before they did)."""
    results_dir = Path(results_dir)
    kfolds = {name: payload for name, payload in read_runs(results_dir, "03_kfold_").items()
              if "optimizer_steps" in payload}
    if not kfolds:
        return None
    holdouts = read_runs(results_dir)
    partners = {name: matched_holdout(payload, holdouts) for name, payload in kfolds.items()}
    paired = [name for name, partner in partners.items() if partner is not None]
    name = max(paired or kfolds, key=lambda run: (kfolds[run]["optimizer_steps"], run))
    kfold, source = kfolds[name], f"results/03_kfold_{name}.json"
    if not paired:
        epochs = matching_epochs(kfold, source)
        return {"matched": False, "kfold": {"run": name, "optimizer_steps": int(kfold["optimizer_steps"])},
                "source": source,
                "needs": f"a holdout run of {epochs} epochs of K-fold run {name}'s recipe "
                         f"({kfold['recipe']['model']}; results/03_ablation_*.json), to compare K-fold and holdout "
                         f"at matched optimizer steps ({int(kfold['optimizer_steps']):,} steps)"}
    comparison = kfold_matched_comparison(kfold, holdouts[partners[name]], labels, kfold_name=name,
                                          holdout_name=partners[name])
    return {**comparison, "source": f"{source}, results/03_ablation_{partners[name]}.json",
            "evidence": describe_kfold_matched(comparison)}


def describe_kfold_matched(comparison: dict[str, Any]) -> str:
    """The comparison of :func:`kfold_matched_comparison` in words: both runs' budgets in optimizer steps and whether
    they are matched, the K-fold ensemble's and the fold models' mean PrivateTest accuracy against the holdout run's
    with their intervals, the differences, each test's p-value and whether it was paired (and why not)."""
    kfold, holdout = comparison["kfold"], comparison["holdout"]

    def accuracy(side: dict) -> str:
        interval = side["interval"]
        return f"{side['privatetest_accuracy']:.2%}" + (
            "" if interval is None else f" (95 % interval {interval['low']:.2%}-{interval['high']:.2%})")

    def against(side: dict) -> str:
        return f"{side['difference_points']:+.2f} points, {side['test']['name']} p = {side['test']['p_value']:.3g}"

    budget = "matched in optimizer steps" if comparison["matched"] else (
        f"not matched in optimizer steps (more than {MATCHED_STEPS_PERCENT} % apart)")
    pairing = ("both tests paired on the same PrivateTest images" if comparison["paired"] else
               f"both tests unpaired ({comparison['unpaired_reason']}): they ignore that both sides were scored on "
               "the same images, which makes them conservative where the two sides' errors fall on the same images")
    return (f"{budget}: K-fold run {kfold['run']} ({kfold['folds']} folds x {kfold['epochs']} epochs, each fold model "
            f"on {kfold['folds'] - 1}/{kfold['folds']} of Training; {kfold['optimizer_steps']:,} steps, "
            f"{kfold['full_epoch_equivalents']:.1f} full-Training epochs) against holdout run {holdout['run']} "
            f"({holdout['epochs']} epochs; {holdout['optimizer_steps']:,} steps, "
            f"{100 * comparison['steps_gap']:+.1f} % against the K-fold run's); "
            f"PrivateTest accuracy of the K-fold ensemble {accuracy(comparison['ensemble'])} against the holdout "
            f"run's {accuracy(holdout)}, {against(comparison['ensemble'])}; the fold models' mean "
            f"{accuracy(comparison['fold_models'])}, {against(comparison['fold_models'])}; {pairing}; one seed each"
            + _precisions(kfold, holdout))


def _precisions(kfold: dict, holdout: dict) -> str:
    """The clause that names both runs' arithmetic where they differ ("" where they agree or were not recorded)."""
    ours, theirs = kfold.get("precision"), holdout.get("precision")
    if not ours or not theirs or ours == theirs:
        return ""
    return (f"; the K-fold run trained in {ours}, the holdout run in {theirs} (precision is not part of a recipe; "
            "notebook 04 measures what bfloat16 changes)")


def describe_matched_section(evidence: dict[str, Any] | None) -> str:
    """Notebook 05's paragraph on K-fold against holdout at matched optimizer steps, from
    :func:`kfold_matched_evidence`: the comparison's sentence where a pair is matched, else what would make one."""
    if evidence is None:
        return ("**What this shows.** No K-fold run in the results recorded its optimizer steps yet, so none can be "
                "set against a holdout run at matched steps (`make budgets` runs one).")
    if not evidence["matched"]:
        return (f"**What this shows.** K-fold run {evidence['kfold']['run']} has no holdout run at matched optimizer "
                f"steps yet: the comparison needs {evidence['needs']}.")
    return (f"**What this shows.** {evidence['evidence'][0].upper()}{evidence['evidence'][1:]}. Whether this decides "
            "the paper's claim is the claims ledger's call (notebook 08, claim `kfold`), after its budget gate.")
