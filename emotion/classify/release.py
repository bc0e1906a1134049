"""Publish a finished training run: the released ``models/<name>.keras`` (float16 weights when a float32 model is
over the size cap) and ``results/03_train_<name>.json``, or an ablation's ``results/03_ablation_<name>.json``.
"""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from emotion.errors import ConfigurationError
from emotion.machine import cpu_cores

if TYPE_CHECKING:
    from emotion.classify.run_folder import TrainResult



MAX_MODEL_MIB = 50.0
"""Released ``.keras`` files are kept at or under this size (the repository's size cap); a larger float32 model is
stored with float16 weights (:func:`emotion.classify.evaluate.save_float16`) and its effect on accuracy is recorded."""


def release_candidates(results_dir: Path, models_dir: Path, *, ensembles: bool = True) -> dict[str, dict[str, Any]]:
    """Every released model the study's default could be, ``{name: {"file": Path, "publictest_accuracy": float,
    "kind": "single" | "ensemble"}}``, in file-name order: single networks (``03_train_*.json``, the PublicTest accuracy
    of the chosen checkpoint) and, with ``ensembles``, ensembles (``03_ensemble_*.json``, the stored file's PublicTest
    accuracy without test-time augmentation, as the pipeline runs it). Releases whose model file is missing are
    left out."""
    from emotion.provenance import read_results

    paths = sorted(Path(results_dir).glob("03_train_*.json"))
    if ensembles:
        paths += sorted(Path(results_dir).glob("03_ensemble_*.json"))
    candidates = {}
    for path in paths:
        document = read_results(path)
        accuracy = document.get("publictest_accuracy_at_chosen_epoch", document.get("publictest_accuracy"))
        model_file = Path(models_dir) / document.get("model_file", "")
        if accuracy is not None and document.get("model_file") and model_file.is_file():
            candidates[release_name(document)] = {
                "file": model_file, "publictest_accuracy": float(accuracy),
                "kind": "ensemble" if path.name.startswith("03_ensemble_") else "single"}
    return candidates


def best_release(results_dir: Path, models_dir: Path, *, ensembles: bool = True) -> str | None:
    """The name of the released model with the highest **PublicTest** accuracy among :func:`release_candidates`
    (choosing by PrivateTest would leak the test set); of equal accuracies the first in file-name order wins. None
    when nothing is released. This is the web app's and the pipeline's default model."""
    candidates = release_candidates(results_dir, models_dir, ensembles=ensembles)
    best, best_accuracy = None, -1.0
    for name, candidate in candidates.items():
        if candidate["publictest_accuracy"] > best_accuracy:
            best, best_accuracy = name, candidate["publictest_accuracy"]
    return best


def release_name(document: dict) -> str:
    """The name a released model goes by (``models/<name>.keras``, ``results/03_train_<name>.json``): the stem of its
    ``model_file``. It differs from ``document["model"]``, the architecture, when a run was released under
    ``--name`` (e.g. ``wide_crop_cnn_cycle2``, a ``wide_crop_cnn``)."""
    return Path(document["model_file"]).stem if document.get("model_file") else document["model"]


def with_cumulative_time(summary: dict) -> dict:
    """A warm-started run's summary with ``training_cpu_minutes`` / ``training_wall_minutes`` replaced by the time of
    the whole lineage (the parent's plus this run's), so that a released model's cost includes what it was started
    from; this run's own time moves to ``own_training_cpu_minutes`` / ``own_training_wall_minutes``. Every other
    summary is returned with ``own_*`` equal to ``training_*``. When the parent's time is unknown the totals stay this
    run's own and ``warm_start["parent_training_cpu_minutes"]`` is None, which says so."""
    own = {"own_training_cpu_minutes": summary["training_cpu_minutes"],
           "own_training_wall_minutes": summary["training_wall_minutes"]}
    total = {}
    if summary.get("cumulative_training_cpu_minutes") is not None:
        total["training_cpu_minutes"] = summary["cumulative_training_cpu_minutes"]
    if summary.get("cumulative_training_wall_minutes") is not None:
        total["training_wall_minutes"] = summary["cumulative_training_wall_minutes"]
    return {**summary, **own, **total}


def released_results(name: str, *, ablation: bool, results_dir: Path | str) -> Path:
    """The results file :func:`release_run` writes for run ``name``: ``03_ablation_<name>.json`` for an ablation,
    else ``03_train_<name>.json``."""
    return Path(results_dir) / (f"03_ablation_{name}.json" if ablation else f"03_train_{name}.json")


def release_run(result: TrainResult, models_dir: Path | str, results_dir: Path | str, *, mode: str = "full",
                name: str | None = None, ablation: bool = False,
                test_split: tuple[np.ndarray, np.ndarray] | None = None,
                output_splits: dict[str, tuple[np.ndarray, np.ndarray]] | None = None) -> dict:
    """Publish a finished run.

    Released model (``ablation=False``): copy the model and history into ``models_dir`` as ``<name>.keras`` and
    ``<name>_history.csv`` and write ``results_dir/03_train_<name>.json`` (with headline rows for the README). A model
    over :data:`MAX_MODEL_MIB` in float32 is stored with float16 weights; PrivateTest is then scored again with the
    stored file and both accuracies are recorded under ``model_storage``.

    Ablation run (``ablation=True``): an experiment of notebooks 04/05 (another seed, class weighting, no
    augmentation...): only ``results_dir/03_ablation_<name>.json`` is written (summary with per-epoch history,
    PrivateTest metrics of the PublicTest-chosen checkpoint); the weights stay in the run folder. With
    ``output_splits`` (PublicTest and PrivateTest), the checkpoint's softmax outputs on them are checked against its
    recorded accuracies and kept beside the results (:mod:`emotion.classify.run_outputs`), so that an ensemble can
    use the run on any clone; outputs that fail the check are not kept (a warning says so), the results still are.

    Args:
        test_split: the (images, labels) the run was scored on, to score a float16-stored model again (default: FER2013
            PrivateTest, loaded when needed).

    Returns:
        The paths written: ``{"model": ..., "history": ..., "results": ...}`` (model and history None for ablations;
        an ablation with ``output_splits`` adds ``"outputs"``).

    Raises:
        ConfigurationError: the run did not finish its epoch budget or has no PrivateTest evaluation.
        ModelFileError: the checkpoint cannot be loaded (to store it as float16, or to keep an ablation's outputs).
    """
    from emotion.provenance import write_results

    summary = result.summary
    if not summary["finished"] or "test" not in summary:
        raise ConfigurationError(
            f"{result.run_dir}: the run stopped after {summary['epochs_run']} of {summary['recipe']['epochs']} epochs "
            "or was not evaluated on PrivateTest; run the same command again to finish it before releasing."
        )
    name = name or summary["model"]
    results_dir = Path(results_dir)
    test = summary["test"]
    summary = with_cumulative_time(summary)
    protocol = f"fit on Training; epoch {summary['chosen_epoch']} chosen on PublicTest; PrivateTest evaluated once"
    if ablation:
        payload = {**summary, "run": name, "protocol": protocol}
        results_path = write_results(released_results(name, ablation=True, results_dir=results_dir), payload, mode=mode,
                                     seed=summary["recipe"]["seed"])
        written = {"model": None, "history": None, "results": results_path}
        if output_splits is not None:
            written["outputs"] = _keep_outputs(result.best_model, results_path, output_splits, name)
        return written

    models_dir = Path(models_dir)
    models_dir.mkdir(parents=True, exist_ok=True)
    model_path, history_path = models_dir / f"{name}.keras", models_dir / f"{name}_history.csv"
    storage: dict[str, Any] = {"dtype": "float32", "float32_mib": result.best_model.stat().st_size / 2**20}
    if storage["float32_mib"] > MAX_MODEL_MIB:
        import keras

        from emotion.classify.evaluate import evaluate_model, load_model, save_float16

        if test_split is None:
            from emotion.data.fer2013 import load_fer2013

            test_split = load_fer2013().split("PrivateTest")
        save_float16(keras.saving.load_model(result.best_model, compile=False), model_path)
        stored = evaluate_model(load_model(model_path), *test_split)
        storage.update(dtype="float16", accuracy_float32=test["accuracy"], accuracy_stored=stored["accuracy"],
                       stored_mib=model_path.stat().st_size / 2**20,
                       note="weights stored as float16 to stay under the size cap; loaded back as float32. "
                            "accuracy_float32 is the trained checkpoint as saved (float32 weights, computed under "
                            "its training dtype policy); accuracy_stored is the released file")
        if storage["stored_mib"] > MAX_MODEL_MIB:
            raise ConfigurationError(
                f"{name}: {storage['stored_mib']:.0f} MiB even with float16 weights, over the {MAX_MODEL_MIB:.0f} MB "
                f"cap; {model_path} was written but should not be committed.")
    else:
        shutil.copyfile(result.best_model, model_path)
    shutil.copyfile(result.history, history_path)
    payload = {
        **summary,
        "model_file": model_path.name,
        "model_file_mib": model_path.stat().st_size / 2**20,
        "model_storage": storage,
        "history_file": history_path.name,
        "headline": [
            {"quantity": f"{name}: accuracy", "value": test["accuracy"], "split": "PrivateTest", "protocol": protocol},
            {"quantity": f"{name}: macro-F1", "value": test["macro_f1"], "split": "PrivateTest", "protocol": protocol},
            {"quantity": f"{name}: training CPU-minutes", "value": summary["training_cpu_minutes"],
             "split": "Training", "protocol": f"{summary['epochs_run']} epochs on {cpu_cores()} CPU cores"},
        ],
    }
    results_path = write_results(released_results(name, ablation=False, results_dir=results_dir), payload, mode=mode,
                                 seed=summary["recipe"]["seed"])
    return {"model": model_path, "history": history_path, "results": results_path}


def _keep_outputs(model_path: Path, results_path: Path, splits: dict, name: str) -> Path | None:
    """Keep an ablation's outputs beside its results (:func:`emotion.classify.run_outputs.write_run_outputs`). The
    results file is already written: outputs that do not reproduce it are not kept, with a warning that says how to
    try again, rather than losing the run's results with them."""
    import warnings

    from emotion.classify.run_outputs import write_run_outputs
    from emotion.errors import DataFormatError

    try:
        return write_run_outputs(model_path, results_path, splits)
    except DataFormatError as error:
        warnings.warn(f"{name}: its outputs were not kept ({error}). Its results are; to try again: "
                      f"python -m emotion run-outputs --name {name}", stacklevel=3)
        return None


def recipe_rows(release: dict) -> dict[str, Any]:
    """The recipe of a released run as the rows of notebook 03's table (optimizer and warm start as recorded)."""
    recipe = release["recipe"]
    optimizer = recipe.get("optimizer", "adamw")
    optimizer_text = (f"AdamW, peak lr {recipe['learning_rate']}, weight decay {recipe['weight_decay']}"
                      if optimizer == "adamw" else
                      f"SGD, momentum {recipe.get('momentum', 0.9)}, peak lr {recipe['learning_rate']}, weight decay "
                      f"{recipe['weight_decay']}")
    warm = release.get("warm_start")
    return {
        "parameters": f"{release['parameters']:,}",
        "epochs (budget / run)": f"{recipe['epochs']} / {release['epochs_run']}",
        "batch size": recipe["batch_size"],
        "optimizer": optimizer_text,
        "schedule": f"{recipe['warmup_epochs']} warm-up epoch(s), then cosine decay to 0",
        "starts from": f"the weights of {Path(warm['from']).name}" if warm else "random initialisation",
        "label smoothing": recipe["label_smoothing"],
        "mixed precision (bfloat16)": recipe["mixed_precision"],
        "seed": recipe["seed"],
        "training images": f"{release['train_images']:,}",
    }


def core_share(history: list[dict] | Any) -> float:
    """Median CPU-seconds per wall-second over a run's epochs (history rows with ``cpu_seconds``, ``epoch_seconds``):
    how many cores the run kept busy."""
    rows = history.to_dict("records") if hasattr(history, "to_dict") else list(history)
    return float(np.median([row["cpu_seconds"] / row["epoch_seconds"] for row in rows]))
