"""The methodology review of notebook 06: each function answers one reviewer's question about released models,
from their predictions, and returns plain numbers (so the notebook only calls, shows and writes them)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from scipy import stats

from emotion import CLASS_NAMES
from emotion.classify.evaluate import accuracy, macro_f1
from emotion.classify.release import release_name
from emotion.classify.significance import bootstrap_interval
from emotion.provenance import read_results


def released_models(results_dir: Path, models_dir: Path) -> dict[str, dict[str, Any]]:
    """Released models whose weights are present: model name → its ``03_train_<name>.json`` payload plus
    ``path`` (the ``.keras`` file). Ordered by file name."""
    models = {}
    for path in sorted(Path(results_dir).glob("03_train_*.json")):
        document = read_results(path)
        weights = Path(models_dir) / document["model_file"]
        if weights.is_file():
            models[release_name(document)] = {**document, "path": weights}
    return models


def release_summary(models: dict[str, dict[str, Any]], images: int) -> dict[str, dict[str, Any]]:
    """What notebook 06 scores for each :func:`released_models` entry: the stored release file (``file``), the epoch
    PublicTest chose, the number of PrivateTest ``images``, the weights' dtype (``weights_dtype``: float16 when the
    float32 model was over the size cap; None when the release predates the record) and, for a float16 file, the
    float32 training checkpoint's PrivateTest accuracy (``float32_checkpoint_accuracy``, else None); and what the
    claims ledger weighs of its training: ``epochs`` run, ``publictest_accuracy`` at the chosen epoch and
    ``training_cpu_minutes``."""
    summary = {}
    for name, entry in models.items():
        storage = entry.get("model_storage") or {}
        summary[name] = {"file": entry["model_file"], "chosen_epoch": entry["chosen_epoch"], "images": int(images),
                         "weights_dtype": storage.get("dtype"),
                         "float32_checkpoint_accuracy": storage.get("accuracy_float32"),
                         "epochs": entry["epochs_run"],
                         "publictest_accuracy": entry["publictest_accuracy_at_chosen_epoch"],
                         "training_cpu_minutes": entry["training_cpu_minutes"]}
    return summary


def per_class_table(labels: np.ndarray, predictions: np.ndarray) -> pd.DataFrame:
    """The paper's Table 4 layout: precision, recall, F1 and support per class, then macro and weighted averages
    and accuracy (the layout of scikit-learn's classification report, from
    :func:`emotion.classify.evaluate.classification_metrics`)."""
    from emotion.classify.evaluate import classification_metrics

    metrics = classification_metrics(np.asarray(labels), np.asarray(predictions))
    table = pd.DataFrame({name: {"precision": row["precision"], "recall": row["recall"], "f1-score": row["f1"],
                                 "support": row["support"]} for name, row in metrics["per_class"].items()}).T
    classes, support = table.loc[list(CLASS_NAMES)], table.loc[list(CLASS_NAMES), "support"]
    columns = ["precision", "recall", "f1-score"]
    table.loc["macro avg"] = [*classes[columns].mean(), support.sum()]
    weights = support / support.sum() if support.sum() else support
    table.loc["weighted avg"] = [*(classes[columns].mul(weights, axis=0)).sum(), support.sum()]
    table.loc["accuracy"] = [np.nan, np.nan, metrics["accuracy"], support.sum()]
    table["support"] = table["support"].astype(int)
    return table


def table_records(table: pd.DataFrame) -> dict[str, dict[str, Any]]:
    """A table as ``{row: {column: value}}`` for a results file, NaN cells as None (JSON null), floats rounded to 4."""
    return {str(row): {str(column): (None if pd.isna(value) else round(float(value), 4) if isinstance(value, float)
                                     else value.item() if hasattr(value, "item") else value)
                       for column, value in values.items()}
            for row, values in table.to_dict(orient="index").items()}


def _finite_or_none(value: float) -> float | None:
    return float(value) if np.isfinite(value) else None


def intervals(labels: np.ndarray, predictions: np.ndarray, resamples: int, seed: int) -> dict[str, dict]:
    """95 % bootstrap intervals of accuracy and macro-F1."""
    return {"accuracy": bootstrap_interval(labels, predictions, accuracy, resamples=resamples, seed=seed),
            "macro_f1": bootstrap_interval(labels, predictions, macro_f1, resamples=resamples, seed=seed)}


def ferplus_review(labels: np.ndarray, predictions: np.ndarray, ferplus_labels: np.ndarray) -> dict[str, Any]:
    """How the model scores against FER+ majority labels, and how many of its FER2013 "errors" FER+ calls right.

    Args:
        labels: FER2013 labels; predictions: the model's; ferplus_labels: :func:`emotion.data.ferplus.majority_labels`
            (-1 where FER+ has no majority), all int (n,).
    """
    labelled = ferplus_labels >= 0
    wrong = predictions != labels
    rescued = wrong & labelled & (predictions == ferplus_labels)
    return {
        "images": int(labels.size),
        "images_with_ferplus_majority": int(labelled.sum()),
        "accuracy_fer2013_labels": float(np.mean(~wrong)),
        "accuracy_fer2013_labels_on_majority_images": float(np.mean(~wrong[labelled])),
        "accuracy_ferplus_majority": float(np.mean(predictions[labelled] == ferplus_labels[labelled])),
        "fer2013_errors": int(wrong.sum()),
        "errors_where_ferplus_majority_agrees_with_model": int(rescued.sum()),
        "share_of_errors_that_are_label_disagreements": float(rescued.sum() / max(int(wrong.sum()), 1)),
    }


def leakage_review(labels: np.ndarray, predictions: np.ndarray, leaked: np.ndarray, resamples: int,
                   seed: int) -> dict[str, Any]:
    """Accuracy on test images with an exact copy in Training vs the rest, with 95 % intervals."""
    leaked = np.asarray(leaked, dtype=bool)
    review = {}
    for name, mask in (("with_copy_in_training", leaked), ("without", ~leaked)):
        review[name] = {"n": int(mask.sum())}
        if mask.sum() >= 2:
            review[name]["accuracy"] = bootstrap_interval(labels[mask], predictions[mask], accuracy,
                                                          resamples=resamples, seed=seed)
    review["accuracy_all"] = float(np.mean(labels == predictions))
    review["accuracy_if_leaked_images_removed"] = float(np.mean(labels[~leaked] == predictions[~leaked]))
    return review


def imbalance_review(table: pd.DataFrame, training_counts: dict[str, int]) -> dict[str, Any]:
    """Does a class's F1 and recall follow its number of training images? Spearman correlation over the seven
    classes (a weak test with n = 7: the intervention test is class-weighted training)."""
    counts = np.array([training_counts[name] for name in CLASS_NAMES])
    f1 = table.loc[list(CLASS_NAMES), "f1-score"].to_numpy()
    recall = table.loc[list(CLASS_NAMES), "recall"].to_numpy()
    f1_correlation = stats.spearmanr(counts, f1)
    return {
        "worst_f1_class": CLASS_NAMES[int(np.argmin(f1))],
        "worst_recall_class": CLASS_NAMES[int(np.argmin(recall))],
        "rarest_class": CLASS_NAMES[int(np.argmin(counts))],
        # Spearman is undefined (NaN) when every class has the same F1; JSON gets null then.
        "spearman_training_count_vs_f1": _finite_or_none(f1_correlation.statistic),
        "spearman_p_value": _finite_or_none(f1_correlation.pvalue),
        "classes": len(CLASS_NAMES),
    }


def ckplus_review(labels: np.ndarray, predictions: np.ndarray, subjects: np.ndarray) -> dict[str, Any]:
    """Out-of-distribution accuracy on CK+48 (six classes; the model may still answer *neutral*, which is always
    wrong here): per image, averaged per subject, and recall per class."""
    per_subject = pd.DataFrame({"subject": subjects, "correct": labels == predictions}).groupby("subject")["correct"]
    recall = {CLASS_NAMES[class_id]: float(np.mean(predictions[labels == class_id] == class_id))
              for class_id in sorted(set(labels.tolist()))}
    return {
        "images": int(labels.size),
        "subjects": int(per_subject.ngroups),
        "accuracy_per_image": float(np.mean(labels == predictions)),
        "accuracy_mean_over_subjects": float(per_subject.mean().mean()),
        "share_predicted_neutral": float(np.mean(predictions == CLASS_NAMES.index("neutral"))),
        "recall_per_class": recall,
    }


def saliency_examples(labels: np.ndarray, predictions: np.ndarray, seed: int = 0) -> tuple[np.ndarray, list[str]]:
    """One correctly and one wrongly classified image per class (when they exist), chosen at random with ``seed``.

    Returns:
        (indices int (k,), titles like ``"happy ✓"`` or ``"fear → sad"``).
    """
    rng = np.random.default_rng(seed)
    indices, titles = [], []
    for class_id, name in enumerate(CLASS_NAMES):
        for correct in (True, False):
            pool = np.flatnonzero((labels == class_id) & ((predictions == labels) == correct))
            if pool.size:
                index = int(rng.choice(pool))
                indices.append(index)
                titles.append(f"{name} right" if correct else f"{name} as {CLASS_NAMES[predictions[index]]}")
    return np.array(indices, dtype=np.int64), titles


def pairwise_mcnemar(labels: np.ndarray, predictions: dict[str, np.ndarray]) -> dict[str, dict]:
    """McNemar's test for every ordered pair of models: key ``"a_vs_b"`` (``a_only`` = images only a gets right)."""
    from emotion.classify.significance import mcnemar

    return {f"{a}_vs_{b}": mcnemar(labels, predictions[a], predictions[b])
            for a in predictions for b in predictions if a != b}


def calibration_review(public_probabilities: np.ndarray, public_labels: np.ndarray, test_probabilities: np.ndarray,
                       test_labels: np.ndarray, bins: int = 15) -> tuple[dict[str, Any], dict[str, dict]]:
    """Fit a temperature on PublicTest, apply it to PrivateTest; returns (numbers, reliability bins by variant)."""
    from emotion.analysis import calibration

    temperature = calibration.fit_temperature(public_probabilities, public_labels)
    scaled = calibration.apply_temperature(test_probabilities, temperature)
    variants = {"as trained": test_probabilities, f"temperature {temperature:.2f} (fit on PublicTest)": scaled}
    tables = {name: calibration.reliability_bins(values, test_labels, bins) for name, values in variants.items()}
    eces = [calibration.expected_calibration_error(values, test_labels, bins) for values in variants.values()]
    numbers = {"temperature": temperature, "bins": bins, "ece_before": eces[0], "ece_after": eces[1],
               "mean_confidence": float(test_probabilities.max(axis=1).mean()),
               "accuracy": float(np.mean(test_probabilities.argmax(axis=1) == test_labels)),
               "ece_by_variant": dict(zip(variants, eces))}
    return numbers, tables


def saliency_by_region(maps: np.ndarray) -> dict[str, float]:
    """Mean Grad-CAM value in the upper, middle and lower third of 48x48 face crops (eyes and brows; nose and
    cheeks; mouth and chin)."""
    thirds = np.array_split(np.arange(maps.shape[1]), 3)
    names = ("upper third (eyes, brows)", "middle third (nose, cheeks)", "lower third (mouth, chin)")
    return {name: float(maps[:, rows].mean()) for name, rows in zip(names, thirds)}
