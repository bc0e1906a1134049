"""Train a model on FER2013 with the study's protocol, resumably, and measure what it costs.

Protocol: fit on Training; every decision that looks at held-out data (which epoch's checkpoint is kept) looks at
PublicTest only; PrivateTest is evaluated once, at the end, on the checkpoint chosen by PublicTest accuracy. The
learning-rate schedule is fixed in advance (linear warm-up, then cosine decay to zero over the epoch budget), so it
uses no held-out data at all.

A run lives in one folder (default ``build/train/<model>/``)::

    backup/             keras.callbacks.BackupAndRestore state: a killed run (even SIGKILL) continues from its
                        last finished epoch when the same command is run again
    history.csv         one row per epoch: loss, accuracy, val_loss, val_accuracy (PublicTest), learning rate,
                        epoch wall seconds, training img/s, process CPU seconds
    best.keras          the model (no optimizer state) of the epoch with the highest PublicTest accuracy
    best.json           that epoch and its PublicTest accuracy
    summary.json        the finished run: recipe, timings, chosen epoch, PrivateTest metrics

Repeatability: :func:`train_model` seeds Python, NumPy and TensorFlow (``keras.utils.set_random_seed``), turns on
TensorFlow's op determinism and uses stateless augmentation seeded per batch from ``tf.data.Dataset.random``; on
this CPU two runs with the same seed give identical weights (tested in ``tests/test_train.py``). A run resumed after
an interruption is not bit-identical to an uninterrupted one: the shuffle and augmentation streams restart with the
new process.

The rest of the training code sits beside this module: the ``tf.data`` input pipeline in
:mod:`emotion.classify.inputs`, publishing a finished run in :mod:`emotion.classify.release`, K-fold
cross-validation in :mod:`emotion.classify.kfold` and the input-pipeline benchmark in
:mod:`emotion.classify.input_benchmark`.
"""

from __future__ import annotations

import csv
import json
import math
import resource
import time
import warnings
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path
from typing import Any

import numpy as np

from emotion import AUDIT_COLUMN, CLASS_NAMES
from emotion.classify.augment import PAPER_AUGMENTATION, AugmentConfig
from emotion.classify.inputs import make_dataset
from emotion.classify.release import release_run
from emotion.errors import ConfigurationError
from emotion.paths import BUILD_DIR
from emotion.machine import NATIVE_BF16_CPU_FLAGS, cpu_has_native_bf16, kernel_record
from emotion.provenance import json_default

HISTORY_FILE = "history.csv"
BEST_MODEL_FILE = "best.keras"
BEST_EPOCH_FILE = "best.json"
SUMMARY_FILE = "summary.json"
BACKUP_DIR = "backup"
AUDIT_DIR = "audit"
CLASS_WEIGHTINGS = ("none", "balanced")
OPTIMIZERS = ("adamw", "sgd")
"""``adamw`` (the study's recipe: decoupled weight decay) or ``sgd`` (with ``momentum``; the one optimizer the paper
names)."""
STRATEGIES = ("default", "mirrored", "multiworker")
"""The ``tf.distribute`` strategies :func:`train_model` trains under: ``default`` (one device, the study's releases),
``mirrored`` (``MirroredStrategy``: every GPU of one machine, or the CPU), ``multiworker``
(``MultiWorkerMirroredStrategy``; the cluster is read from the ``TF_CONFIG`` environment variable, one worker when it
is unset). The global batch (``batch_size``) is split across the replicas, so a recipe means the same optimisation
under each."""


def make_strategy(name: str = "default"):
    """The ``tf.distribute.Strategy`` called ``name`` (one of :data:`STRATEGIES`).

    Raises:
        ConfigurationError: unknown name.
    """
    import tensorflow as tf

    if name not in STRATEGIES:
        raise ConfigurationError(f"unknown strategy {name!r}: use one of {', '.join(STRATEGIES)}.")
    if name == "mirrored":
        return tf.distribute.MirroredStrategy()
    if name == "multiworker":
        return tf.distribute.MultiWorkerMirroredStrategy()
    return tf.distribute.get_strategy()


@dataclass(frozen=True)
class TrainConfig:
    """The recipe of one training run.

    Attributes:
        model: a name of :data:`emotion.classify.models.MODEL_NAMES`.
        epochs: the epoch budget (the cosine schedule reaches zero at its end).
        batch_size: images per step.
        learning_rate: peak learning rate, reached after ``warmup_epochs``.
        weight_decay: decoupled weight decay (Keras subtracts ``learning_rate x weight_decay x weight`` each step, so
            under SGD it equals an L2 penalty of ``weight_decay``).
        label_smoothing: of the categorical cross-entropy.
        warmup_epochs: linear warm-up from 0 to ``learning_rate``.
        augment: the training augmentation (:class:`emotion.classify.augment.AugmentConfig`).
        mixed_precision: train under Keras' ``mixed_bfloat16`` policy (the softmax stays float32).
        seed: seeds initialisation, shuffling and augmentation.
        model_options: keyword arguments of the architecture (e.g. ``{"dropout": 0.2}``).
        class_weighting: ``"none"``, or ``"balanced"``: each training image's loss is weighted by
            n / (classes x count of its class), so every class carries the same total weight (the class-imbalance
            experiment of notebook 07).
        optimizer: one of :data:`OPTIMIZERS`.
        momentum: SGD's momentum (unused by AdamW).
        init_from: a warm start: the path of a ``.keras`` model of the same architecture whose weights the run
            starts from (e.g. a release, for a second cosine cycle); "" (the default) starts from random weights.
            Its file's SHA-256 and its own training time are recorded (:func:`warm_start_record`), so a budget counts
            both.
    """

    model: str
    epochs: int = 30
    batch_size: int = 64
    learning_rate: float = 1e-3
    weight_decay: float = 0.05
    label_smoothing: float = 0.1
    warmup_epochs: int = 1
    augment: AugmentConfig = field(default_factory=AugmentConfig)
    mixed_precision: bool = False
    seed: int = 0
    model_options: dict = field(default_factory=dict)
    class_weighting: str = "none"
    optimizer: str = "adamw"
    momentum: float = 0.9
    init_from: str = ""

    def as_dict(self) -> dict[str, Any]:
        """The recipe as plain JSON-ready values."""
        return asdict(self)


@dataclass(frozen=True)
class TrainResult:
    """What :func:`train_model` produced: the run folder, the summary dict (as in summary.json) and the files."""

    run_dir: Path
    summary: dict
    best_model: Path
    history: Path



RECIPES = ("study", "paper")
"""``study``: :class:`TrainConfig`'s defaults. ``paper``: the paper's recipe for its best model as far as it states
one (SGD with momentum 0.9, batch 256, its augmentations only: :data:`PAPER_AUGMENTATION`, 60 epochs), with what it
leaves open filled in plainly: plain cross-entropy, peak learning rate 0.1 (the usual for SGD at batch 256), weight
decay 5e-4, and the study's one-epoch warm-up and cosine schedule."""


def recipe_config(recipe: str, model: str) -> TrainConfig:
    """The :class:`TrainConfig` of the named recipe (:data:`RECIPES`) for ``model``.

    Raises:
        ConfigurationError: unknown recipe.
    """
    if recipe == "study":
        return TrainConfig(model=model)
    if recipe == "paper":
        return TrainConfig(model=model, epochs=60, batch_size=256, learning_rate=0.1, weight_decay=5e-4,
                           label_smoothing=0.0, augment=PAPER_AUGMENTATION, optimizer="sgd", momentum=0.9)
    raise ConfigurationError(f"unknown recipe {recipe!r}: use one of {', '.join(RECIPES)}.")


def _epoch_timer_class():
    import keras

    class EpochTimer(keras.callbacks.Callback):
        """Adds to each epoch's logs: wall seconds of the epoch and of its training part, training img/s (whole
        epoch, validation excluded), process CPU seconds of the epoch, and the learning rate at its end."""

        def __init__(self, train_images: int):
            super().__init__()
            self.train_images = train_images

        def on_epoch_begin(self, epoch, logs=None):
            self._wall = time.perf_counter()
            self._cpu = time.process_time()
            self._validation = 0.0

        def on_test_begin(self, logs=None):
            self._validation_start = time.perf_counter()

        def on_test_end(self, logs=None):
            self._validation += time.perf_counter() - self._validation_start

        def on_epoch_end(self, epoch, logs=None):
            if logs is None:
                return
            wall = time.perf_counter() - self._wall
            train_seconds = wall - self._validation
            logs["epoch_seconds"] = wall
            logs["train_seconds"] = train_seconds
            logs["train_images_per_second"] = self.train_images / train_seconds
            logs["cpu_seconds"] = time.process_time() - self._cpu
            optimizer = self.model.optimizer
            logs["learning_rate"] = float(optimizer.learning_rate.numpy()) if hasattr(
                optimizer.learning_rate, "numpy") else float(optimizer.learning_rate)

    return EpochTimer


def _best_checkpoint_class():
    import keras

    class BestCheckpoint(keras.callbacks.Callback):
        """Saves the model without optimizer state whenever PublicTest accuracy (``val_accuracy``) improves on the
        best so far, and records that epoch in best.json. The best so far survives a resume (read from best.json),
        so a resumed run never replaces a better checkpoint."""

        def __init__(self, model_path: Path, record_path: Path):
            super().__init__()
            self.model_path, self.record_path = model_path, record_path
            self.best = -math.inf
            if record_path.exists():
                self.best = json.loads(record_path.read_text())["val_accuracy"]

        def on_epoch_end(self, epoch, logs=None):
            value = (logs or {}).get("val_accuracy")
            if value is None or not value > self.best:
                return
            self.best = float(value)
            # A functional wrapper shares the trained layers but carries no optimizer: the saved file holds the
            # weights and architecture only (a third of the size under AdamW).
            inference_model = keras.Model(self.model.input, self.model.output, name=self.model.name)
            temporary = self.model_path.with_name("partial_" + self.model_path.name)
            inference_model.save(temporary)
            temporary.replace(self.model_path)
            record = {"epoch": int(epoch) + 1, "val_accuracy": self.best, "val_loss": float(logs["val_loss"])}
            self.record_path.write_text(json.dumps(record, indent=2) + "\n")

    return BestCheckpoint


def _privatetest_audit_class():
    import keras

    class PrivateTestAudit(keras.callbacks.Callback):
        """Records, after every epoch, the PrivateTest predictions (``audit/privatetest_epochNNN.npy``, uint8 class
        ids) and their accuracy (the ``audit_privatetest_accuracy`` column of history.csv).

        This is for notebook 07's test-set selection-bias measurement only: nothing in training reads it (the
        checkpoint is chosen by :class:`BestCheckpoint` on PublicTest, the schedule is fixed in advance). It runs after
        the epoch timer, so its prediction time is not counted in the epoch's wall or CPU seconds.
        """

        def __init__(self, images: np.ndarray, labels: np.ndarray, folder: Path):
            super().__init__()
            self.images = np.asarray(images)[..., None].astype(np.float32)
            self.labels, self.folder = np.asarray(labels), folder

        def on_epoch_end(self, epoch, logs=None):
            predicted = np.concatenate([
                np.argmax(np.asarray(self.model(self.images[start:start + 512], training=False), np.float32), 1)
                for start in range(0, len(self.images), 512)
            ]).astype(np.uint8)
            self.folder.mkdir(parents=True, exist_ok=True)
            np.save(self.folder / f"privatetest_epoch{epoch + 1:03d}.npy", predicted)
            if logs is not None:
                logs[AUDIT_COLUMN] = float(np.mean(predicted == self.labels))

    return PrivateTestAudit


def balanced_class_weights(labels: np.ndarray, num_classes: int = len(CLASS_NAMES)) -> dict[int, float]:
    """Class weights n / (classes x count): each class's images together weigh as much as any other class's.

    Raises:
        ConfigurationError: a class has no training image (its weight would be infinite).
    """
    counts = np.bincount(np.asarray(labels), minlength=num_classes)
    if (counts == 0).any():
        missing = [CLASS_NAMES[index] if num_classes == len(CLASS_NAMES) else str(index)
                   for index in np.flatnonzero(counts == 0)]
        raise ConfigurationError(f"class weighting needs every class in the training data; missing: {missing}.")
    return {index: float(len(labels) / (num_classes * count)) for index, count in enumerate(counts)}


def read_history(path: Path | str) -> list[dict[str, float]]:
    """Read history.csv as a list of per-epoch dicts, ``epoch`` counted from 1.

    If a run was killed between writing an epoch's row and backing the epoch up, the resumed run repeats that epoch
    and the file holds it twice; the later row wins.
    """
    rows: dict[int, dict[str, float]] = {}
    with open(path, newline="") as handle:
        for row in csv.DictReader(handle):
            epoch = int(row.pop("epoch")) + 1
            rows[epoch] = {"epoch": epoch, **{key: float(value) for key, value in row.items() if value != ""}}
    return [rows[epoch] for epoch in sorted(rows)]


def compile_model(model, config: TrainConfig, steps_per_epoch: int) -> None:
    """Compile ``model`` with the recipe: its optimizer (AdamW or SGD with momentum), linear warm-up then cosine
    decay to zero over the epoch budget, label-smoothed cross-entropy (used by :func:`train_model` and the input
    benchmark).

    Raises:
        ConfigurationError: unknown optimizer.
    """
    import keras

    if config.optimizer not in OPTIMIZERS:
        raise ConfigurationError(f"unknown optimizer {config.optimizer!r}: use one of {', '.join(OPTIMIZERS)}.")

    total_steps = max(1, config.epochs * steps_per_epoch)
    warmup_steps = min(config.warmup_epochs * steps_per_epoch, total_steps - 1)
    schedule = keras.optimizers.schedules.CosineDecay(
        initial_learning_rate=0.0 if warmup_steps else config.learning_rate,
        decay_steps=total_steps - warmup_steps,
        warmup_target=config.learning_rate if warmup_steps else None,
        warmup_steps=warmup_steps,
    )
    if config.optimizer == "sgd":
        optimizer = keras.optimizers.SGD(learning_rate=schedule, momentum=config.momentum,
                                         weight_decay=config.weight_decay)
    else:
        optimizer = keras.optimizers.AdamW(learning_rate=schedule, weight_decay=config.weight_decay)
    model.compile(
        optimizer=optimizer,
        loss=keras.losses.CategoricalCrossentropy(label_smoothing=config.label_smoothing),
        metrics=["accuracy"],
    )


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
            (:class:`PrivateTestAudit`; never used by training).
        strategy: the ``tf.distribute`` strategy (:data:`STRATEGIES`); the model and optimizer are built in its
            scope. Not part of the recipe: a run may resume under another strategy. Recorded in the summary.

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
    _check_same_recipe(run_dir, config)
    started = _record_start(run_dir, resuming)

    keras.utils.set_random_seed(config.seed)
    tf.config.experimental.enable_op_determinism()
    previous_policy = keras.mixed_precision.global_policy().name
    distribution = make_strategy(strategy)
    train_images, train_labels = train
    steps_per_epoch = math.ceil(len(train_images) / config.batch_size)
    policy = training_policy(config.mixed_precision)
    _record_session(run_dir, policy, first_epoch=len(read_history(run_dir / HISTORY_FILE))
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
    train_data = make_dataset(train_images, train_labels, batch_size=config.batch_size, training=True,
                              seed=config.seed, augment=config.augment)
    validation_data = make_dataset(*validation, batch_size=256, training=False)
    class_weight = balanced_class_weights(train_labels) if config.class_weighting == "balanced" else None

    callbacks = [
        _epoch_timer_class()(len(train_images)),
        _best_checkpoint_class()(run_dir / BEST_MODEL_FILE, run_dir / BEST_EPOCH_FILE),
        *([_privatetest_audit_class()(*test, run_dir / AUDIT_DIR)] if test is not None and audit else []),
        keras.callbacks.CSVLogger(str(run_dir / HISTORY_FILE), append=True),
        keras.callbacks.BackupAndRestore(str(run_dir / BACKUP_DIR), delete_checkpoint=False),
        *(extra_callbacks or []),
    ]
    started_wall = time.perf_counter()
    model.fit(train_data, validation_data=validation_data, epochs=config.epochs, callbacks=callbacks,
              verbose=verbose, class_weight=class_weight)
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
        summary["test"] = evaluate_model(best_model, *test)
        summary["test_tta"] = evaluate_model(best_model, *test, tta=True)
        # The chosen checkpoint on the Training images themselves, without augmentation or dropout: with the test
        # accuracy it gives the generalisation gap that the augmentation ablation compares (history.csv's training
        # accuracy is measured on augmented images with dropout on, so it cannot).
        summary["train_fit"] = {key: value for key, value in evaluate_model(best_model, *train).items()
                                if key != "per_class"}
    (run_dir / SUMMARY_FILE).write_text(json.dumps(summary, indent=2, default=json_default) + "\n")
    return TrainResult(run_dir=run_dir, summary=summary, best_model=run_dir / BEST_MODEL_FILE,
                       history=run_dir / HISTORY_FILE)


WARM_START_FILE = "warm_start.json"


def warm_start_record(init_from: str, run_dir: Path) -> dict[str, Any]:
    """What a warm-started run starts from, kept in ``run_dir/warm_start.json`` across resumes.

    Returns:
        ``{"from": the path as given, "sha256": of the file, "parent_results": the parent's
        ``results/03_train_<stem>.json`` or None, "parent_training_cpu_minutes", "parent_training_wall_minutes"}``:
        the parent's own training time (its cumulative time when it was warm-started too), None when no results
        file of the parent exists.

    Raises:
        ModelFileError: the file does not exist.
        ConfigurationError: a resumed run folder was started from a file with other contents.
    """
    import hashlib

    from emotion.errors import ModelFileError
    from emotion.paths import RESULTS_DIR

    path = Path(init_from)
    if not path.is_file():
        raise ModelFileError(f"--init-from {init_from}: no such file. Give a .keras model of the same architecture, "
                             "e.g. models/wide_crop_cnn.keras.")
    digest = hashlib.sha256(path.read_bytes()).hexdigest()
    record_path = run_dir / WARM_START_FILE
    if record_path.exists():
        stored = json.loads(record_path.read_text())
        if stored["sha256"] != digest:
            raise ConfigurationError(
                f"{run_dir} was warm-started from a file with SHA-256 {stored['sha256'][:12]}..., but {init_from} "
                f"now has {digest[:12]}...: restore that file, or pass another --run-dir to start afresh.")
        return stored
    parent = RESULTS_DIR / f"03_train_{path.stem}.json"
    cpu = wall = None
    if parent.is_file():
        document = json.loads(parent.read_text())
        cpu = document.get("cumulative_training_cpu_minutes") or document.get("training_cpu_minutes")
        wall = document.get("cumulative_training_wall_minutes") or document.get("training_wall_minutes")
    record = {"from": init_from, "sha256": digest, "parent_results": parent.name if parent.is_file() else None,
              "parent_training_cpu_minutes": cpu, "parent_training_wall_minutes": wall}
    record_path.write_text(json.dumps(record, indent=2) + "\n")
    return record


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


def _record_start(run_dir: Path, resuming: bool = False) -> dict[str, Any]:
    """The git commit (and whether the tree had uncommitted changes) and UTC time when the run folder's training
    first started, kept in ``run_dir/started.json`` across resumes: the code that trained the model, which can be
    older than the commit recorded when the results are written."""
    from datetime import datetime, timezone

    from emotion.provenance import git_commit

    path = run_dir / "started.json"
    if path.exists():
        return json.loads(path.read_text())
    if resuming:  # a run folder from before start records were kept: its first commit is unknown
        record = {"commit": None, "dirty": None, "utc": None, "note": "started before start records were kept"}
        path.write_text(json.dumps(record, indent=2) + "\n")
        return record
    record = {**git_commit(), "utc": datetime.now(timezone.utc).isoformat(timespec="seconds")}
    path.write_text(json.dumps(record, indent=2) + "\n")
    return record


def training_policy(mixed_precision: bool, *, native_bf16: bool | None = None, gpu: bool | None = None) -> str:
    """The Keras dtype policy a run trains under on this machine.

    ``mixed_precision`` asks for ``mixed_bfloat16``; it is granted where bfloat16 products run in hardware (a GPU, or
    a CPU with AVX512-BF16/AMX). Elsewhere the run trains in float32: on an AVX2-only CPU TensorFlow falls back to
    Eigen's generic bfloat16 matrix product (its ``gebp_kernel<bfloat16>``), which made a resumed wide_crop_cnn epoch
    many times slower than the float32 ones. The variables are float32 under both policies, so a
    run can resume under the other one; each session's policy is recorded (:func:`read_sessions`).
    """
    if not mixed_precision:
        return "float32"
    if gpu is None:
        import tensorflow as tf
        gpu = bool(tf.config.list_physical_devices("GPU"))
    native = cpu_has_native_bf16() if native_bf16 is None else native_bf16
    if gpu or native:
        return "mixed_bfloat16"
    warnings.warn("--mixed-precision asked for mixed_bfloat16, but this CPU has no native bfloat16 "
                  f"({' or '.join(NATIVE_BF16_CPU_FLAGS)}) and no GPU is visible: training in float32, which is "
                  "faster here. The run folder's sessions.jsonl records the policy of each session.", stacklevel=2)
    return "float32"


SESSIONS_FILE = "sessions.jsonl"


def _record_session(run_dir: Path, policy: str, first_epoch: int) -> None:
    """Append one line per (re)start to ``run_dir/sessions.jsonl``: when, from which epoch, under which policy, on
    which CPU and with which kernels (oneDNN on or off); a run that resumed on another machine says so."""
    from datetime import datetime, timezone

    record = {"utc": datetime.now(timezone.utc).isoformat(timespec="seconds"), "first_epoch": first_epoch,
              "policy": policy, **kernel_record()}
    with (run_dir / SESSIONS_FILE).open("a") as handle:
        handle.write(json.dumps(record) + "\n")


def read_sessions(run_dir: Path | str) -> list[dict[str, Any]]:
    """The session records of a run folder (:func:`_record_session`), oldest first; [] for runs from before."""
    path = Path(run_dir) / SESSIONS_FILE
    if not path.exists():
        return []
    return [json.loads(line) for line in path.read_text().splitlines() if line.strip()]


def _check_same_recipe(run_dir: Path, config: TrainConfig) -> None:
    """Record the recipe in ``run_dir/recipe.json``; refuse to resume a run folder made with another recipe.

    Raises:
        ConfigurationError: the folder holds a run with a different recipe.
    """
    recipe_path = run_dir / "recipe.json"
    recipe = json.loads(json.dumps(config.as_dict()))
    if recipe_path.exists():
        stored = json.loads(recipe_path.read_text())
        # A recipe field added after the run started is read as its default (older run folders stay resumable).
        defaults = json.loads(json.dumps(TrainConfig(model=config.model).as_dict()))
        stored = {**{key: defaults[key] for key in recipe if key not in stored}, **stored}
        if stored != recipe:
            changed = sorted(key for key in recipe if stored.get(key) != recipe[key])
            raise ConfigurationError(
                f"{run_dir} holds a run with a different recipe (differs in: {', '.join(changed)}). Resume it with "
                f"the same options, or pass another --run-dir (or delete {run_dir}) to start afresh."
            )
        return
    recipe_path.write_text(json.dumps(recipe, indent=2) + "\n")



def with_overrides(config: TrainConfig, **overrides) -> TrainConfig:
    """Return ``config`` with the given fields replaced (``None`` values are ignored)."""
    return replace(config, **{key: value for key, value in overrides.items() if value is not None})


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
        strategy: the ``tf.distribute`` strategy (:data:`STRATEGIES`), e.g. ``mirrored`` on a GPU machine.

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
        release_run(result, MODELS_DIR, RESULTS_DIR, name=name, ablation=ablation, test_split=splits[2])
    return result


def check_run_name(name: str | None) -> None:
    """Raises ConfigurationError unless ``name`` is None or usable in a file name (letters, digits, _ and -)."""
    import re

    if name is not None and not re.fullmatch(r"[A-Za-z0-9][A-Za-z0-9_-]{0,63}", name):
        raise ConfigurationError(
            f"run name {name!r} must be 1-64 letters, digits, '_' or '-' (it becomes part of file names).")
