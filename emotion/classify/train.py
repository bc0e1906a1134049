"""Train a model on FER2013 with the study's protocol, resumably, and measure what it costs.

Protocol: fit on Training; every decision that looks at held-out data (which epoch's checkpoint is kept) looks at
PublicTest only; PrivateTest is evaluated once, at the end, on the checkpoint chosen by PublicTest accuracy. The
learning-rate schedule is fixed in advance (linear warm-up, then cosine decay to zero over the epoch budget), so it
uses no held-out data at all.

A run lives in one folder (default ``build/train/<model>/``), laid out in :mod:`emotion.classify.run_folder`; running
the same command again with the same folder resumes it.

Repeatability: :func:`train_model` seeds Python, NumPy and TensorFlow (``keras.utils.set_random_seed``), turns on
TensorFlow's op determinism and draws its batches from an epoch-indexed stream (:mod:`emotion.classify.inputs`:
each epoch's order and augmentation seeds depend on the seed and the epoch's number only); on this CPU two runs with
the same seed give identical weights, and a run interrupted and resumed gives the weights of an uninterrupted one
(both tested in ``tests/test_train.py``).

The rest of the training code sits beside this module: the recipe in :mod:`emotion.classify.recipes`, the strategy
and dtype policy in :mod:`emotion.classify.devices`, the callbacks in :mod:`emotion.classify.callbacks`, the run
folder's records in :mod:`emotion.classify.run_folder`, the ``tf.data`` input pipeline in
:mod:`emotion.classify.inputs`, publishing a finished run in :mod:`emotion.classify.release`, K-fold
cross-validation in :mod:`emotion.classify.kfold` and the input-pipeline benchmark in
:mod:`emotion.classify.input_benchmark`.
"""

from __future__ import annotations

import json
import math
import resource
import time
from pathlib import Path
from typing import Any

import numpy as np

from emotion.classify.callbacks import (
    best_checkpoint_class,
    epoch_timer_class,
    privatetest_audit_class,
    seed_state_class,
    stream_check_class,
)
from emotion.classify.devices import make_strategy, training_policy
from emotion.classify.inputs import make_dataset

# recipe_config and with_overrides moved to emotion.classify.recipes; ``python -m emotion train``
# (emotion/app/commands/classify.py) imports them from here. The other names kept importable from here by other
# modules are used in this one too:
# TrainConfig, compile_model, training_policy (emotion/classify/input_benchmark.py), read_sessions
# (emotion/classify/training_cost.py), TrainConfig, read_history (notebooks 03 and 05).
from emotion.classify.recipes import (  # noqa: F401  (recipe_config and with_overrides are re-exported)
    CLASS_WEIGHTINGS,
    OPTIMIZERS,
    TrainConfig,
    balanced_class_weights,
    compile_model,
    recipe_config,
    with_overrides,
)
from emotion.classify.release import release_run
from emotion.classify.run_folder import (
    AUDIT_DIR,
    BACKUP_DIR,
    BEST_EPOCH_FILE,
    BEST_MODEL_FILE,
    HISTORY_FILE,
    SUMMARY_FILE,
    TrainResult,
    check_run_name,
    check_same_recipe,
    read_history,
    read_sessions,
    record_session,
    record_start,
    resume_epoch,
    warm_start_record,
)
from emotion.errors import ConfigurationError
from emotion.paths import BUILD_DIR
from emotion.provenance import json_default


def train_model(config: TrainConfig, train: tuple[np.ndarray, np.ndarray], validation: tuple[np.ndarray, np.ndarray],
                test: tuple[np.ndarray, np.ndarray] | None = None, *, run_dir: Path | str | None = None,
                verbose: int = 2, extra_callbacks: list | None = None, audit: bool = True,
                strategy: str = "default") -> TrainResult:
    """Train (or resume) one run and evaluate its PublicTest-chosen checkpoint on the test split once.

    Args:
        config: the recipe.
        train: (uint8 (n, 48, 48), int (n,)) images the model is fitted on (FER2013 Training).
        validation: the same for the split that chooses the checkpoint (PublicTest).
        test: the same for the split reported once at the end (PrivateTest); None skips the final evaluation.
        run_dir: the run's folder (default ``build/train/<model>``); running again with the same folder resumes.
        verbose: Keras ``fit`` verbosity (2: one line per epoch, for logs; 0: silent, for tests).
        extra_callbacks: more Keras callbacks (the tests use one to interrupt a run).
        audit: when ``test`` is given, record every epoch's test predictions for the selection-bias audit
            (:func:`emotion.classify.callbacks.privatetest_audit_class`; never used by training).
        strategy: the ``tf.distribute`` strategy (:data:`emotion.classify.devices.STRATEGIES`); the model and
            optimizer are built in its scope. Not part of the recipe: a run may resume under another strategy.
            Recorded in the summary.

    Returns:
        :class:`TrainResult`; ``summary`` is also written to ``run_dir/summary.json``.

    Raises:
        ConfigurationError: unknown model name, or epochs/batch size below 1.
    """
    import keras
    import tensorflow as tf

    from emotion.classify.evaluate import evaluate_model
    from emotion.classify.models import MODEL_NAMES, build_model

    if config.model not in MODEL_NAMES:
        raise ConfigurationError(f"unknown model {config.model!r}: use one of {', '.join(MODEL_NAMES)}.")
    if config.epochs < 1 or config.batch_size < 1:
        raise ConfigurationError(f"epochs and batch size must be at least 1, got {config.epochs}, {config.batch_size}.")
    if config.class_weighting not in CLASS_WEIGHTINGS:
        raise ConfigurationError(
            f"unknown class weighting {config.class_weighting!r}: use one of {', '.join(CLASS_WEIGHTINGS)}.")
    if config.optimizer not in OPTIMIZERS:
        raise ConfigurationError(f"unknown optimizer {config.optimizer!r}: use one of {', '.join(OPTIMIZERS)}.")
    run_dir = Path(run_dir) if run_dir else BUILD_DIR / "train" / config.model
    run_dir.mkdir(parents=True, exist_ok=True)
    resuming = (run_dir / "recipe.json").exists()
    check_same_recipe(run_dir, config)
    started = record_start(run_dir, resuming)

    keras.utils.set_random_seed(config.seed)
    tf.config.experimental.enable_op_determinism()
    previous_policy = keras.mixed_precision.global_policy().name
    distribution = make_strategy(strategy)
    train_images, train_labels = train
    steps_per_epoch = math.ceil(len(train_images) / config.batch_size)
    policy = training_policy(config.mixed_precision)
    record_session(run_dir, policy, first_epoch=len(read_history(run_dir / HISTORY_FILE))
                    if (run_dir / HISTORY_FILE).exists() else 0)
    keras.mixed_precision.set_global_policy(policy)
    warm_start = warm_start_record(config.init_from, run_dir) if config.init_from else None
    try:
        with distribution.scope():
            model = build_model(config.model, **config.model_options)
            if warm_start:
                load_initial_weights(model, Path(config.init_from))
            compile_model(model, config, steps_per_epoch)
    finally:
        keras.mixed_precision.set_global_policy(previous_policy)
    # The stream starts at the epoch Keras resumes at, so that a resumed run sees what an uninterrupted one would.
    # (A finished run resumes at its budget and trains no epoch; its stream is the last epoch's, never drawn.)
    first_epoch = resume_epoch(run_dir)
    train_data = make_dataset(train_images, train_labels, batch_size=config.batch_size, training=True,
                              seed=config.seed, augment=config.augment,
                              epochs=range(min(first_epoch, config.epochs - 1), config.epochs))
    validation_data = make_dataset(*validation, batch_size=256, training=False)
    class_weight = balanced_class_weights(train_labels) if config.class_weighting == "balanced" else None

    callbacks = [
        epoch_timer_class()(len(train_images)),
        best_checkpoint_class()(run_dir / BEST_MODEL_FILE, run_dir / BEST_EPOCH_FILE),
        *([privatetest_audit_class()(*test, run_dir / AUDIT_DIR)] if test is not None and audit else []),
        keras.callbacks.CSVLogger(str(run_dir / HISTORY_FILE), append=True),
        keras.callbacks.BackupAndRestore(str(run_dir / BACKUP_DIR), delete_checkpoint=False),
        stream_check_class()(first_epoch),
        seed_state_class()(run_dir / BACKUP_DIR, first_epoch),
        *(extra_callbacks or []),
    ]
    started_wall = time.perf_counter()
    model.fit(train_data, validation_data=validation_data, epochs=config.epochs, callbacks=callbacks,
              verbose=verbose, class_weight=class_weight, shuffle=False,  # the dataset shuffles itself
              steps_per_epoch=steps_per_epoch)
    session_wall = time.perf_counter() - started_wall

    history = read_history(run_dir / HISTORY_FILE)
    best = json.loads((run_dir / BEST_EPOCH_FILE).read_text())
    epoch_images_per_second = [row["train_images_per_second"] for row in history]
    summary: dict[str, Any] = {
        "model": config.model,
        "recipe": config.as_dict(),
        "parameters": int(model.count_params()),
        "strategy": {"name": strategy, "replicas": int(distribution.num_replicas_in_sync)},
        "epochs_run": len(history),
        "finished": len(history) >= config.epochs,
        "chosen_epoch": best["epoch"],
        "chosen_by": "highest PublicTest accuracy (val_accuracy) over the epochs",
        "publictest_accuracy_at_chosen_epoch": best["val_accuracy"],
        "train_images": int(len(train_images)),
        "training_wall_minutes": sum(row["epoch_seconds"] for row in history) / 60,
        "training_cpu_minutes": sum(row["cpu_seconds"] for row in history) / 60,
        "train_images_per_second_median": float(np.median(epoch_images_per_second)),
        "epoch_wall_seconds_median": float(np.median([row["epoch_seconds"] for row in history])),
        "last_session_wall_minutes": session_wall / 60,
        "max_resident_memory_mib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
        "history": history,
        "started": started,
        "sessions": read_sessions(run_dir),
    }
    if warm_start:
        summary["warm_start"] = warm_start
        parent_cpu, parent_wall = warm_start["parent_training_cpu_minutes"], warm_start["parent_training_wall_minutes"]
        summary["cumulative_training_cpu_minutes"] = (
            None if parent_cpu is None else parent_cpu + summary["training_cpu_minutes"])
        summary["cumulative_training_wall_minutes"] = (
            None if parent_wall is None else parent_wall + summary["training_wall_minutes"])
    if test is not None:
        best_model = keras.saving.load_model(run_dir / BEST_MODEL_FILE, compile=False)
        summary["test"] = evaluate_model(best_model, *test, keep_predictions=True)
        summary["test_tta"] = evaluate_model(best_model, *test, tta=True)
        # The chosen checkpoint on the Training images themselves, without augmentation or dropout: with the test
        # accuracy it gives the generalisation gap that the augmentation ablation compares (history.csv's training
        # accuracy is measured on augmented images with dropout on, so it cannot).
        summary["train_fit"] = {key: value for key, value in evaluate_model(best_model, *train).items()
                                if key != "per_class"}
    (run_dir / SUMMARY_FILE).write_text(json.dumps(summary, indent=2, default=json_default) + "\n")
    return TrainResult(run_dir=run_dir, summary=summary, best_model=run_dir / BEST_MODEL_FILE,
                       history=run_dir / HISTORY_FILE)


def load_initial_weights(model, path: Path) -> None:
    """Set ``model``'s weights to those of the ``.keras`` file at ``path`` (cast to ``model``'s variable dtypes).

    Raises:
        ModelFileError: the file is not a loadable model.
        ConfigurationError: its weights do not have the shapes of ``model``'s (another architecture or options).
    """
    from emotion.classify.evaluate import load_model

    source = load_model(path)
    theirs, ours = source.get_weights(), model.get_weights()
    shapes_theirs, shapes_ours = [w.shape for w in theirs], [w.shape for w in ours]
    if shapes_theirs != shapes_ours:
        raise ConfigurationError(
            f"--init-from {path}: its {len(theirs)} weight arrays ({source.count_params():,} parameters) do not match "
            f"the {len(ours)} of the model being trained ({model.count_params():,}); warm-start from a model of the "
            "same architecture and options.")
    model.set_weights([w.astype(o.dtype) for w, o in zip(theirs, ours)])


def train_fer2013(config: TrainConfig, *, run_dir: Path | str | None = None, release: bool = False,
                  limit: int | None = None, verbose: int = 2, data=None, name: str | None = None,
                  ablation: bool = False, strategy: str = "default") -> TrainResult:
    """Train ``config`` on FER2013 with the study's protocol (``python -m emotion train``).

    Args:
        config: the recipe.
        run_dir: the run folder (default ``build/train/<model>``); the same folder resumes an interrupted run.
        release: when the run finished, copy it to ``models/`` and write ``results/03_train_<name>.json`` (or only
            ``results/03_ablation_<name>.json`` with ``ablation``; see :func:`release_run`).
        name: the released name (default: the model's name).
        limit: use only the first ``limit`` images of each split (a quick check; cannot be released).
        verbose: Keras ``fit`` verbosity.
        data: a loaded :class:`emotion.data.fer2013.Fer2013` (default: :func:`emotion.data.fer2013.load_fer2013`).
        strategy: the ``tf.distribute`` strategy (:data:`emotion.classify.devices.STRATEGIES`), e.g. ``mirrored`` on
            a GPU machine.

    Raises:
        ConfigurationError: bad recipe, a changed recipe in an existing run folder, or ``release`` with ``limit``.
        DataMissingError, DataFormatError: FER2013 is missing or malformed.
    """
    from emotion.classify.models import MODEL_NAMES
    from emotion.paths import MODELS_DIR, RESULTS_DIR

    if config.model not in MODEL_NAMES:
        raise ConfigurationError(f"unknown model {config.model!r}: use one of {', '.join(MODEL_NAMES)}.")
    if release and limit is not None:
        raise ConfigurationError("--release needs the whole of FER2013: drop --limit.")
    check_run_name(name)
    run_dir = run_dir or BUILD_DIR / "train" / (name or config.model)
    if data is None:
        from emotion.data.fer2013 import load_fer2013

        data = load_fer2013()
    splits = [data.split(name) for name in ("Training", "PublicTest", "PrivateTest")]
    if limit is not None:
        splits = [(images[:limit], labels[:limit]) for images, labels in splits]
    result = train_model(config, *splits, run_dir=run_dir, verbose=verbose, strategy=strategy)
    if release:
        release_run(result, MODELS_DIR, RESULTS_DIR, name=name, ablation=ablation, test_split=splits[2],
                    output_splits={"PublicTest": splits[1], "PrivateTest": splits[2]} if ablation else None)
    return result
