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
"""

from __future__ import annotations

import csv
import json
import math
import resource
import shutil
import time
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path
from typing import Any

import numpy as np

from emotion import AUDIT_COLUMN, CLASS_NAMES
from emotion.classify.augment import NO_AUGMENTATION, AugmentConfig
from emotion.errors import ConfigurationError
from emotion.paths import BUILD_DIR
from emotion.study.results import cpu_cores, json_default

HISTORY_FILE = "history.csv"
BEST_MODEL_FILE = "best.keras"
BEST_EPOCH_FILE = "best.json"
SUMMARY_FILE = "summary.json"
BACKUP_DIR = "backup"
AUDIT_DIR = "audit"
CLASS_WEIGHTINGS = ("none", "balanced")
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
        learning_rate: peak learning rate of AdamW, reached after ``warmup_epochs``.
        weight_decay: AdamW's decoupled weight decay.
        label_smoothing: of the categorical cross-entropy.
        warmup_epochs: linear warm-up from 0 to ``learning_rate``.
        augment: the training augmentation (:class:`emotion.classify.augment.AugmentConfig`).
        mixed_precision: train under Keras' ``mixed_bfloat16`` policy (the softmax stays float32).
        seed: seeds initialisation, shuffling and augmentation.
        model_options: keyword arguments of the architecture (e.g. ``{"dropout": 0.2}``).
        class_weighting: ``"none"``, or ``"balanced"``: each training image's loss is weighted by
            n / (classes x count of its class), so every class carries the same total weight (the class-imbalance
            experiment of notebook 07).
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


def make_dataset(images: np.ndarray, labels: np.ndarray, *, batch_size: int, num_classes: int = len(CLASS_NAMES),
                 training: bool, seed: int = 0, augment: AugmentConfig = NO_AUGMENTATION):
    """Build the ``tf.data`` input pipeline.

    Training: shuffle all images (reshuffled every epoch), batch, augment each batch with its own stateless seed on
    parallel threads, one-hot the labels, prefetch. Evaluation: batch, one-hot, prefetch (no shuffle, no
    augmentation).

    Args:
        images: uint8 (n, 48, 48).
        labels: int (n,) class ids.
        batch_size: images per batch (the last batch may be smaller).
        training: whether to shuffle and augment.
        seed: seeds the shuffle and the augmentation seeds.
        augment: the augmentation applied when ``training``.

    Returns:
        A ``tf.data.Dataset`` of (float32 (b, 48, 48, 1) in 0-255, float32 (b, num_classes) one-hot).

    Raises:
        ValueError: images and labels differ in length, or images are not (n, h, w).
    """
    import tensorflow as tf

    from emotion.classify.augment import augment_batch

    images, labels = np.asarray(images), np.asarray(labels)
    if images.ndim != 3 or len(images) != len(labels):
        raise ValueError(f"expected images (n, h, w) and labels (n,), got {images.shape} and {labels.shape}")
    dataset = tf.data.Dataset.from_tensor_slices((images[..., None], labels.astype(np.int32)))
    if training:
        dataset = dataset.shuffle(len(images), seed=seed, reshuffle_each_iteration=True)
    dataset = dataset.batch(batch_size)

    def one_hot(batch_images, batch_labels):
        return tf.cast(batch_images, tf.float32), tf.one_hot(batch_labels, num_classes)

    dataset = dataset.map(one_hot, num_parallel_calls=tf.data.AUTOTUNE)
    if training and augment != NO_AUGMENTATION:
        seeds = tf.data.Dataset.random(seed=seed, rerandomize_each_iteration=True).batch(2)
        dataset = tf.data.Dataset.zip((dataset, seeds)).map(
            lambda batch, key: (augment_batch(batch[0], key, augment), batch[1]),
            num_parallel_calls=tf.data.AUTOTUNE,
            deterministic=True,
        )
    return dataset.prefetch(tf.data.AUTOTUNE)


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


def _compile(model, config: TrainConfig, steps_per_epoch: int) -> None:
    import keras

    total_steps = max(1, config.epochs * steps_per_epoch)
    warmup_steps = min(config.warmup_epochs * steps_per_epoch, total_steps - 1)
    schedule = keras.optimizers.schedules.CosineDecay(
        initial_learning_rate=0.0 if warmup_steps else config.learning_rate,
        decay_steps=total_steps - warmup_steps,
        warmup_target=config.learning_rate if warmup_steps else None,
        warmup_steps=warmup_steps,
    )
    model.compile(
        optimizer=keras.optimizers.AdamW(learning_rate=schedule, weight_decay=config.weight_decay),
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
    keras.mixed_precision.set_global_policy("mixed_bfloat16" if config.mixed_precision else "float32")
    try:
        with distribution.scope():
            model = build_model(config.model, **config.model_options)
            _compile(model, config, steps_per_epoch)
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
    }
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


def _record_start(run_dir: Path, resuming: bool = False) -> dict[str, Any]:
    """The git commit (and whether the tree had uncommitted changes) and UTC time when the run folder's training
    first started, kept in ``run_dir/started.json`` across resumes: the code that trained the model, which can be
    older than the commit recorded when the results are written."""
    from datetime import datetime, timezone

    from emotion.study.results import git_commit

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


MAX_MODEL_MIB = 50.0
"""Released ``.keras`` files are kept at or under this size (the repository's size cap); a larger float32 model is
stored with float16 weights (:func:`emotion.classify.evaluate.save_float16`) and its effect on accuracy is recorded."""


def release_run(result: TrainResult, models_dir: Path | str, results_dir: Path | str, *, mode: str = "full",
                name: str | None = None, ablation: bool = False,
                test_split: tuple[np.ndarray, np.ndarray] | None = None) -> dict:
    """Publish a finished run.

    Released model (``ablation=False``): copy the model and history into ``models_dir`` as ``<name>.keras`` and
    ``<name>_history.csv`` and write ``results_dir/03_train_<name>.json`` (with headline rows for the README). A model
    over :data:`MAX_MODEL_MIB` in float32 is stored with float16 weights; PrivateTest is then scored again with the
    stored file and both accuracies are recorded under ``model_storage``.

    Ablation run (``ablation=True``): an experiment of notebooks 04/07 (another seed, class weighting, no
    augmentation...): only ``results_dir/03_ablation_<name>.json`` is written (summary with per-epoch history,
    PrivateTest metrics of the PublicTest-chosen checkpoint); the weights stay in the run folder.

    Args:
        test_split: the (images, labels) the run was scored on, to score a float16-stored model again (default: FER2013
            PrivateTest, loaded when needed).

    Returns:
        The paths written: ``{"model": ..., "history": ..., "results": ...}`` (model and history None for ablations).

    Raises:
        ConfigurationError: the run did not finish its epoch budget or has no PrivateTest evaluation.
    """
    from emotion.study.results import write_results

    summary = result.summary
    if not summary["finished"] or "test" not in summary:
        raise ConfigurationError(
            f"{result.run_dir}: the run stopped after {summary['epochs_run']} of {summary['recipe']['epochs']} epochs "
            "or was not evaluated on PrivateTest; run the same command again to finish it before releasing."
        )
    name = name or summary["model"]
    results_dir = Path(results_dir)
    test = summary["test"]
    protocol = f"fit on Training; epoch {summary['chosen_epoch']} chosen on PublicTest; PrivateTest evaluated once"
    if ablation:
        payload = {**summary, "run": name, "protocol": protocol}
        results_path = write_results(results_dir / f"03_ablation_{name}.json", payload, mode=mode,
                                     seed=summary["recipe"]["seed"])
        return {"model": None, "history": None, "results": results_path}

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
    results_path = write_results(results_dir / f"03_train_{name}.json", payload, mode=mode,
                                 seed=summary["recipe"]["seed"])
    return {"model": model_path, "history": history_path, "results": results_path}


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
    _check_run_name(name)
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


def _check_run_name(name: str | None) -> None:
    """Raises ConfigurationError unless ``name`` is None or usable in a file name (letters, digits, _ and -)."""
    import re

    if name is not None and not re.fullmatch(r"[A-Za-z0-9][A-Za-z0-9_-]{0,63}", name):
        raise ConfigurationError(
            f"run name {name!r} must be 1-64 letters, digits, '_' or '-' (it becomes part of file names).")


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
    from emotion.study.results import write_results

    name = name or f"{config.model}_{folds}fold"
    _check_run_name(name)
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
        write_results(RESULTS_DIR / f"03_kfold_{name}.json", payload, mode="full", seed=config.seed)
    return payload


PIPELINE_GOAL = 0.9
"""The input pipeline's goal: the real pipeline trains at least this share of the synthetic-tensor rate."""


def describe_pipeline_benchmark(benchmark: dict, model_name: str) -> str:
    """The sentences notebook 03 prints for a :func:`benchmark_input_pipeline` result: both rates, the per-round
    ratios, the goal, and what the spread of the rounds allows one to conclude."""
    ratios = benchmark["round_ratios"]
    median = benchmark["ratio"]
    text = (f"With the real pipeline {model_name} trains at {benchmark['real_images_per_second']:.0f} img/s; on "
            f"synthetic tensors at {benchmark['synthetic_images_per_second']:.0f} img/s (medians of "
            f"{len(benchmark['real_rounds'])} rounds). Within each round the real / synthetic ratio was "
            + ", ".join(f"{ratio:.0%}" for ratio in ratios)
            + f"; median {median:.0%} ({'meets' if median >= PIPELINE_GOAL else 'misses'} the "
              f"{PIPELINE_GOAL:.0%} goal).")
    spread = max(ratios) - min(ratios)
    if len(ratios) > 1 and spread > abs(1 - median):
        text += (f" The rounds spread over {spread * 100:.0f} points, more than the median's distance from 100 %: "
                 f"on this shared machine the benchmark cannot tell the pipeline's cost from the load's noise.")
    elif median < PIPELINE_GOAL:
        text += (f" The rounds agree within {spread * 100:.0f} points, so the input pipeline costs about "
                 f"{(1 - median) * 100:.0f} % of the training rate: the model waits for its data.")
    else:
        text += " The input pipeline keeps the model busy."
    if max(ratios) > 1:
        text += " A ratio above 100 % can only be load noise (real input cannot be cheaper than none)."
    return text


def benchmark_input_pipeline(config: TrainConfig, images: np.ndarray, labels: np.ndarray, *, steps: int = 40,
                             rounds: int = 2) -> dict[str, Any]:
    """Does the input pipeline keep the model fed? Training img/s with the real pipeline (shuffle, augmentation,
    one-hot) against the same model fed one constant synthetic batch, which costs the pipeline nothing.

    The two are measured in alternating rounds of ``steps`` steps after a warm-up. ``ratio`` is the median over rounds
    of real / synthetic img/s within a round, so that a change in the machine's load between rounds (this machine is
    shared) affects both sides of each ratio about equally. The goal is a ratio of at least 0.9; a ratio above 1
    means the load changed within a round by more than the pipeline costs.

    Args:
        config: the recipe (model, batch size, augmentation, mixed precision).
        images: uint8 (n, 48, 48) real training images; labels: int (n,).
        steps: training steps per round.
        rounds: rounds of each kind.

    Returns:
        ``{"real_images_per_second", "synthetic_images_per_second"`` (medians over rounds), ``"ratio", "round_ratios",
        "real_rounds", "synthetic_rounds", "steps_per_round", "batch_size", "model", "mixed_precision"}``.
    """
    import keras
    import tensorflow as tf

    from emotion.classify.models import build_model

    keras.utils.set_random_seed(config.seed)
    previous_policy = keras.mixed_precision.global_policy().name
    keras.mixed_precision.set_global_policy("mixed_bfloat16" if config.mixed_precision else "float32")
    try:
        model = build_model(config.model, **config.model_options)
    finally:
        keras.mixed_precision.set_global_policy(previous_policy)
    _compile(model, config, steps)
    real = make_dataset(images, labels, batch_size=config.batch_size, training=True, seed=config.seed,
                        augment=config.augment).repeat()
    rng = np.random.default_rng(config.seed)
    synthetic_batch = (rng.uniform(0, 255, (config.batch_size, *images.shape[1:], 1)).astype(np.float32),
                       np.eye(len(CLASS_NAMES), dtype=np.float32)[rng.integers(0, len(CLASS_NAMES),
                                                                              config.batch_size)])
    synthetic = tf.data.Dataset.from_tensors(synthetic_batch).repeat()
    for dataset in (real, synthetic):
        model.fit(dataset, steps_per_epoch=3, epochs=1, verbose=0)
    measured: dict[str, list[float]] = {"real": [], "synthetic": []}
    for _ in range(rounds):
        for name, dataset in (("real", real), ("synthetic", synthetic)):
            started = time.perf_counter()
            model.fit(dataset, steps_per_epoch=steps, epochs=1, verbose=0)
            measured[name].append(steps * config.batch_size / (time.perf_counter() - started))
    real_rate, synthetic_rate = float(np.median(measured["real"])), float(np.median(measured["synthetic"]))
    ratios = [real / synthetic for real, synthetic in zip(measured["real"], measured["synthetic"])]
    return {
        "model": config.model,
        "mixed_precision": config.mixed_precision,
        "batch_size": config.batch_size,
        "steps_per_round": steps,
        "real_images_per_second": real_rate,
        "synthetic_images_per_second": synthetic_rate,
        "ratio": float(np.median(ratios)),
        "round_ratios": ratios,
        "real_rounds": measured["real"],
        "synthetic_rounds": measured["synthetic"],
    }


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
        "training_cpu_minutes"}], "held_out_accuracy_mean", "held_out_accuracy_std", "privatetest_accuracy_mean",
        "privatetest_accuracy_std", "ensemble_publictest", "ensemble_privatetest", "training_cpu_minutes"}``.
    """
    import keras

    from emotion.classify.evaluate import classification_metrics, evaluate_model, predict_probabilities

    images, labels = train
    per_fold, public_probabilities, private_probabilities = [], [], []
    for fold, (fit, held_out) in enumerate(kfold_indices(labels, folds, config.seed), start=1):
        result = train_model(config, (images[fit], labels[fit]), (images[held_out], labels[held_out]),
                             run_dir=Path(run_dir) / f"fold{fold}", verbose=verbose)
        model = keras.saving.load_model(result.best_model, compile=False)
        public_probabilities.append(predict_probabilities(model, public_test[0]))
        private_probabilities.append(predict_probabilities(model, private_test[0]))
        per_fold.append({
            "fold": fold,
            "held_out_accuracy": result.summary["publictest_accuracy_at_chosen_epoch"],
            "chosen_epoch": result.summary["chosen_epoch"],
            "publictest": evaluate_model(model, *public_test)["accuracy"],
            "privatetest": evaluate_model(model, *private_test)["accuracy"],
            "training_cpu_minutes": result.summary["training_cpu_minutes"],
        })
    held_out = [row["held_out_accuracy"] for row in per_fold]
    private = [row["privatetest"] for row in per_fold]
    return {
        "folds": folds,
        "per_fold": per_fold,
        "held_out_accuracy_mean": float(np.mean(held_out)),
        "held_out_accuracy_std": float(np.std(held_out, ddof=1)),
        "privatetest_accuracy_mean": float(np.mean(private)),
        "privatetest_accuracy_std": float(np.std(private, ddof=1)),
        "ensemble_publictest": classification_metrics(public_test[1], np.mean(public_probabilities, 0).argmax(1)),
        "ensemble_privatetest": classification_metrics(private_test[1], np.mean(private_probabilities, 0).argmax(1)),
        "training_cpu_minutes": float(sum(row["training_cpu_minutes"] for row in per_fold)),
    }
