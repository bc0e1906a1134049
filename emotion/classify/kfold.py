"""K-fold cross-validation of a training recipe on FER2013 Training (the paper's K-fold vs holdout comparison;
``python -m emotion kfold`` writes ``results/03_kfold_<name>.json``).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from emotion.classify.recipes import TrainConfig
from emotion.classify.run_folder import check_run_name
from emotion.classify.train import train_model
from emotion.errors import ConfigurationError
from emotion.paths import BUILD_DIR


def kfold_fer2013(config: TrainConfig, *, folds: int, name: str | None = None, run_dir: Path | str | None = None,
                  write: bool = True, verbose: int = 2, data=None) -> dict[str, Any]:
    """K-fold cross-validation on FER2013's Training split (:func:`train_kfold`), written to
    ``results/03_kfold_<name>.json`` when ``write`` (``python -m emotion kfold``). The run folders
    (``build/train/kfold_<name>/foldK``) resume like any training run.

    Raises:
        ConfigurationError: bad recipe, bad name, or bad fold count.
        DataMissingError, DataFormatError: FER2013 is missing or malformed.
    """
    from emotion.paths import RESULTS_DIR
    from emotion.provenance import write_results

    name = name or f"{config.model}_{folds}fold"
    check_run_name(name)
    if data is None:
        from emotion.data.fer2013 import load_fer2013

        data = load_fer2013()
    splits = [data.split(split) for split in ("Training", "PublicTest", "PrivateTest")]
    outcome = train_kfold(config, *splits, folds=folds, run_dir=run_dir or BUILD_DIR / "train" / f"kfold_{name}",
                          verbose=verbose)
    payload = {
        "run": name,
        "recipe": config.as_dict(),
        **outcome,
        "protocol": (f"{folds}-fold cross-validation on Training (stratified); each fold's checkpoint chosen on its "
                     "held-out fold; PublicTest and PrivateTest scored once per fold model and for the ensemble "
                     "(mean softmax of the fold models)"),
    }
    if write:
        # Every fold model trains on the whole of its folds (train_kfold takes no --limit): a full run.
        write_results(RESULTS_DIR / f"03_kfold_{name}.json", payload, mode="full", seed=config.seed)
    return payload



def kfold_indices(labels: np.ndarray, folds: int, seed: int = 0) -> list[tuple[np.ndarray, np.ndarray]]:
    """Stratified K-fold split of the Training images, for the paper's K-fold vs holdout comparison.

    Args:
        labels: int (n,) class ids of the Training split.
        folds: K, at least 2.
        seed: seeds the shuffle before splitting.

    Returns:
        K pairs ``(fit_indices, held_out_indices)`` of int64 arrays; the held-out parts are disjoint, cover all n
        images and keep each class's share.

    Raises:
        ConfigurationError: fewer than 2 folds, or more folds than images of the rarest class.
    """
    from sklearn.model_selection import StratifiedKFold

    labels = np.asarray(labels)
    smallest = int(np.bincount(labels).min(initial=len(labels)) if len(labels) else 0)
    if folds < 2 or folds > smallest:
        raise ConfigurationError(f"K-fold needs 2 <= folds <= the rarest class's count ({smallest}), got {folds}.")
    splitter = StratifiedKFold(n_splits=folds, shuffle=True, random_state=seed)
    return [(fit.astype(np.int64), held_out.astype(np.int64))
            for fit, held_out in splitter.split(np.zeros(len(labels)), labels)]


def train_kfold(config: TrainConfig, train: tuple[np.ndarray, np.ndarray], public_test: tuple[np.ndarray, np.ndarray],
                private_test: tuple[np.ndarray, np.ndarray], *, folds: int, run_dir: Path | str,
                verbose: int = 2) -> dict[str, Any]:
    """K-fold cross-validation on Training: K runs, each fitted on K-1 folds with its checkpoint chosen on the held-out
    fold (never on PublicTest or PrivateTest); each chosen checkpoint is then scored on PublicTest and PrivateTest,
    and so is the average of the K models' softmax outputs (the K-fold ensemble).

    Args:
        config: the recipe of every fold's run.
        train, public_test, private_test: (uint8 (n, 48, 48), int (n,)) of the three FER2013 splits.
        folds: K.
        run_dir: folder holding one resumable run folder per fold (``fold1`` ... ``foldK``).

    Returns:
        ``{"folds", "per_fold": [{"fold", "held_out_accuracy", "chosen_epoch", "publictest", "privatetest",
        "fit_images", "epochs_run", "optimizer_steps", "training_cpu_minutes", "training_wall_minutes"}],
        "held_out_accuracy_mean", "held_out_accuracy_std", "privatetest_accuracy_mean", "privatetest_accuracy_std",
        "ensemble_publictest", "ensemble_privatetest", "fold_privatetest_predictions", "training_images",
        "optimizer_steps", "full_epoch_equivalents", "training_cpu_minutes", "training_wall_minutes", "sessions"
        (every fold's starts, with their CPU and arithmetic: :func:`emotion.analysis.budget_curves.run_precision`)}``.
        What a comparison with a holdout run at matched optimizer steps needs (:mod:`emotion.analysis.kfold_matched`):
        ``optimizer_steps``, the sum over folds of epochs x batches per epoch (ceil(fit images / batch size));
        ``full_epoch_equivalents``, the fit images seen over all folds and epochs / ``training_images`` (the Training
        split's size); the ensemble's PrivateTest predictions (``ensemble_privatetest["predictions"]``) and each fold
        model's (``fold_privatetest_predictions``, in the order of ``per_fold``), one digit per image
        (:func:`emotion.classify.evaluate.encode_predictions`). Files written before these keys existed lack them.
    """
    import keras

    from emotion.classify.evaluate import accuracy, classification_metrics, encode_predictions, predict_probabilities
    from emotion.classify.inputs import steps_per_epoch

    images, labels = train
    per_fold, public_probabilities, private_probabilities, fold_predictions, sessions = [], [], [], [], []
    for fold, (fit, held_out) in enumerate(kfold_indices(labels, folds, config.seed), start=1):
        result = train_model(config, (images[fit], labels[fit]), (images[held_out], labels[held_out]),
                             run_dir=Path(run_dir) / f"fold{fold}", verbose=verbose)
        model = keras.saving.load_model(result.best_model, compile=False)
        public_probabilities.append(predict_probabilities(model, public_test[0]))
        private_probabilities.append(predict_probabilities(model, private_test[0]))
        # The fold model's scores come from the same predictions that are stored, so the two always agree.
        fold_predictions.append(private_probabilities[-1].argmax(axis=1))
        epochs_run = int(result.summary["epochs_run"])
        per_fold.append({
            "fold": fold,
            "held_out_accuracy": result.summary["publictest_accuracy_at_chosen_epoch"],
            "chosen_epoch": result.summary["chosen_epoch"],
            "publictest": accuracy(public_test[1], public_probabilities[-1].argmax(axis=1)),
            "privatetest": accuracy(private_test[1], fold_predictions[-1]),
            "fit_images": int(len(fit)),
            "epochs_run": epochs_run,
            "optimizer_steps": epochs_run * steps_per_epoch(len(fit), config.batch_size),
            "training_cpu_minutes": result.summary["training_cpu_minutes"],
            "training_wall_minutes": result.summary["training_wall_minutes"],
        })
        sessions += result.summary.get("sessions") or []  # each start's CPU and arithmetic (policy)
    held_out = [row["held_out_accuracy"] for row in per_fold]
    private = [row["privatetest"] for row in per_fold]
    ensemble_predictions = np.mean(private_probabilities, 0).argmax(1)
    return {
        "folds": folds,
        "per_fold": per_fold,
        "held_out_accuracy_mean": float(np.mean(held_out)),
        "held_out_accuracy_std": float(np.std(held_out, ddof=1)),
        "privatetest_accuracy_mean": float(np.mean(private)),
        "privatetest_accuracy_std": float(np.std(private, ddof=1)),
        "ensemble_publictest": classification_metrics(public_test[1], np.mean(public_probabilities, 0).argmax(1)),
        "ensemble_privatetest": {**classification_metrics(private_test[1], ensemble_predictions),
                                 "predictions": encode_predictions(ensemble_predictions)},
        "fold_privatetest_predictions": [encode_predictions(predictions) for predictions in fold_predictions],
        "training_images": int(len(images)),
        "optimizer_steps": int(sum(row["optimizer_steps"] for row in per_fold)),
        "full_epoch_equivalents": sum(row["epochs_run"] * row["fit_images"] for row in per_fold) / len(images),
        "training_cpu_minutes": float(sum(row["training_cpu_minutes"] for row in per_fold)),
        "training_wall_minutes": float(sum(row["training_wall_minutes"] for row in per_fold)),
        "sessions": sessions,
    }
