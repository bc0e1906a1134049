"""The Keras callbacks of a training run, each built by a function that imports Keras only when called.

:func:`epoch_timer_class` times each epoch (history.csv's wall, CPU and img/s columns), :func:`best_checkpoint_class`
keeps the PublicTest-chosen checkpoint (best.keras, best.json) and :func:`privatetest_audit_class` records each epoch's
PrivateTest predictions for the selection-bias audit; :func:`emotion.classify.train.train_model` uses all three.
"""

from __future__ import annotations

import json
import math
import time
from pathlib import Path

import numpy as np

from emotion import AUDIT_COLUMN


def epoch_timer_class():
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


def best_checkpoint_class():
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


def privatetest_audit_class():
    import keras

    class PrivateTestAudit(keras.callbacks.Callback):
        """Records, after every epoch, the PrivateTest predictions (``audit/privatetest_epochNNN.npy``, uint8 class
        ids) and their accuracy (the ``audit_privatetest_accuracy`` column of history.csv).

        This is for notebook 04's test-set selection-bias measurement only: nothing in training reads it (the
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


def stream_check_class():
    import keras

    class StreamCheck(keras.callbacks.Callback):
        """Stops a run before its first step when Keras resumes at another epoch than the one the training stream
        starts at (:func:`emotion.classify.run_folder.resume_epoch`); placed after ``BackupAndRestore``, whose
        ``on_train_begin`` sets the epoch Keras resumes at."""

        def __init__(self, stream_first_epoch: int):
            super().__init__()
            self.stream_first_epoch = stream_first_epoch

        def on_train_begin(self, logs=None):
            from emotion.errors import ConfigurationError

            resumed_at = int(getattr(self.model, "_initial_epoch", None) or 0)
            if resumed_at != self.stream_first_epoch:
                raise ConfigurationError(
                    f"Keras resumes this run at epoch {resumed_at + 1} but its training stream was built from epoch "
                    f"{self.stream_first_epoch + 1}: the run folder's backup changed while the run started. Run the "
                    "same command again.")

    return StreamCheck


SEED_STATE_DIR = "seed_states"
"""Folder (inside the run folder's backup) holding the random-number state of the model's layers (dropout's seed
generators) at the end of the last two epochs; Keras' backup keeps weights and optimizer only."""


def seed_generators(model) -> dict[str, object]:
    """The model's Keras ``SeedGenerator`` objects (dropout's and any other random layer's), by a stable name."""
    found = {}
    for position, layer in enumerate(model._flatten_layers(include_self=True, recursive=True)):
        for index, generator in enumerate(getattr(layer, "_seed_generators", []) or []):
            found[f"{position:04d}_{layer.name}_{index}"] = generator
    return found


def seed_state_class():
    import keras

    class SeedState(keras.callbacks.Callback):
        """Saves the seed generators' state at each epoch's end (``backup/seed_states/epoch_<n>.npz``, the last two
        kept) and restores the one of the epoch a run resumes at, so that a resumed run draws the dropout masks an
        uninterrupted one would. Placed after ``BackupAndRestore``; a run resumed from a backup without this state
        (from before it was kept) goes on with fresh generators, as it did before."""

        def __init__(self, backup_dir: Path, resume_at: int):
            super().__init__()
            self.folder, self.resume_at = Path(backup_dir) / SEED_STATE_DIR, resume_at

        def on_train_begin(self, logs=None):
            path = self.folder / f"epoch_{self.resume_at}.npz"
            if self.resume_at and path.is_file():
                with np.load(path) as stored:
                    for name, generator in seed_generators(self.model).items():
                        if name in stored:
                            generator.state.assign(stored[name])

        def on_epoch_end(self, epoch, logs=None):
            self.folder.mkdir(parents=True, exist_ok=True)
            target = self.folder / f"epoch_{epoch + 1}.npz"
            partial = target.with_suffix(".partial.npz")
            np.savez(partial, **{name: np.asarray(generator.state.value)
                                 for name, generator in seed_generators(self.model).items()})
            partial.replace(target)
            for old in self.folder.glob("epoch_*.npz"):
                stem = old.name[len("epoch_"):-len(".npz")]
                if stem.isdigit() and int(stem) < epoch:
                    old.unlink()

    return SeedState
