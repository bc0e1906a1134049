"""The run folder: what a training run keeps on disk so that it can be resumed, audited and released.

A run lives in one folder (default ``build/train/<model>/``)::

    recipe.json         the recipe (:class:`emotion.classify.recipes.TrainConfig`); a resume with another is refused
    started.json        the git commit and UTC time of the first start (:func:`record_start`)
    sessions.jsonl      one line per (re)start: time, first epoch, dtype policy, CPU, kernels (:func:`record_session`)
    warm_start.json     a warm-started run's parent file and its training time (:func:`warm_start_record`)
    backup/             keras.callbacks.BackupAndRestore state: a killed run (even SIGKILL) continues from its
                        last finished epoch when the same command is run again
    history.csv         one row per epoch: loss, accuracy, val_loss, val_accuracy (PublicTest), learning rate,
                        epoch wall seconds, training img/s, process CPU seconds
    best.keras          the model (no optimizer state) of the epoch with the highest PublicTest accuracy
    best.json           that epoch and its PublicTest accuracy
    audit/              each epoch's PrivateTest predictions, for the selection-bias audit only
    summary.json        the finished run: recipe, timings, chosen epoch, PrivateTest metrics

:func:`emotion.classify.train.train_model` writes the folder; this module names its files and reads and writes the
records kept across resumes.
"""

from __future__ import annotations

import csv
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from emotion.classify.recipes import TrainConfig
from emotion.errors import ConfigurationError
from emotion.machine import kernel_record

HISTORY_FILE = "history.csv"
BEST_MODEL_FILE = "best.keras"
BEST_EPOCH_FILE = "best.json"
SUMMARY_FILE = "summary.json"
BACKUP_DIR = "backup"
AUDIT_DIR = "audit"


@dataclass(frozen=True)
class TrainResult:
    """What :func:`emotion.classify.train.train_model` produced: the run folder, the summary dict (as in summary.json)
    and the files."""

    run_dir: Path
    summary: dict
    best_model: Path
    history: Path


def check_run_name(name: str | None) -> None:
    """Raises ConfigurationError unless ``name`` is None or usable in a file name (letters, digits, _ and -)."""
    import re

    if name is not None and not re.fullmatch(r"[A-Za-z0-9][A-Za-z0-9_-]{0,63}", name):
        raise ConfigurationError(
            f"run name {name!r} must be 1-64 letters, digits, '_' or '-' (it becomes part of file names).")


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


def recipe_differences(stored: dict[str, Any], config: TrainConfig) -> list[str]:
    """The recipe fields in which ``stored`` (a recipe as a run folder or a results file records it) differs from
    ``config``, sorted; a field added to :class:`TrainConfig` after ``stored`` was written is read as its default,
    so older records stay comparable."""
    recipe = json.loads(json.dumps(config.as_dict()))
    stored = recipe_with_defaults(stored, config.model)
    return sorted(key for key in recipe if stored.get(key) != recipe[key])


def recipe_with_defaults(stored: dict[str, Any], model: str) -> dict[str, Any]:
    """``stored`` (a recorded recipe) with every :class:`TrainConfig` field it lacks set to that field's default:
    a field added after the record was written had its default when the run trained."""
    defaults = json.loads(json.dumps(TrainConfig(model=model).as_dict()))
    return {**{key: value for key, value in defaults.items() if key not in stored}, **stored}


def check_same_recipe(run_dir: Path, config: TrainConfig) -> None:
    """Record the recipe in ``run_dir/recipe.json``; refuse to resume a run folder made with another recipe.

    Raises:
        ConfigurationError: the folder holds a run with a different recipe.
    """
    recipe_path = run_dir / "recipe.json"
    recipe = json.loads(json.dumps(config.as_dict()))
    if recipe_path.exists():
        changed = recipe_differences(json.loads(recipe_path.read_text()), config)
        if changed:
            raise ConfigurationError(
                f"{run_dir} holds a run with a different recipe (differs in: {', '.join(changed)}). Resume it with "
                f"the same options, or pass another --run-dir (or delete {run_dir}) to start afresh."
            )
        return
    recipe_path.write_text(json.dumps(recipe, indent=2) + "\n")


def record_start(run_dir: Path, resuming: bool = False) -> dict[str, Any]:
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


def resume_epoch(run_dir: Path | str) -> int:
    """The 0-based epoch a run in ``run_dir`` resumes at: the one after the last epoch Keras' ``BackupAndRestore``
    saved (``backup/training_metadata.json``, or its ``.bkp`` copy where only that exists), 0 for a new run. The
    training stream is built from this epoch on (:func:`emotion.classify.inputs.make_dataset`).

    Raises:
        DataFormatError: the metadata file is not the JSON object Keras writes.
    """
    from emotion.errors import DataFormatError

    backup = Path(run_dir) / BACKUP_DIR
    for name in ("training_metadata.json", "training_metadata.json.bkp"):
        path = backup / name
        if path.is_file():
            try:
                return int(json.loads(path.read_text())["epoch"])
            except (ValueError, KeyError, TypeError) as error:
                raise DataFormatError(f"{path}: not the epoch record Keras writes ({error}); the run folder's "
                                      "backup is damaged: delete the backup folder to restart the run from "
                                      "epoch 1, or restore it from a copy.") from error
    return 0


SESSIONS_FILE = "sessions.jsonl"
STREAM = "epoch_indexed"
"""The ``stream`` of a session record: the training batches come from the epoch-indexed stream of
:mod:`emotion.classify.inputs`. A record without it is from the study's first input pipeline, which restarted the
shuffle and augmentation with every process (:func:`replayed_epochs`)."""


def record_session(run_dir: Path, policy: str, first_epoch: int) -> None:
    """Append one line per (re)start to ``run_dir/sessions.jsonl``: when, from which epoch, under which policy, on
    which CPU and with which kernels (oneDNN on or off), and which training stream; a run that resumed on another
    machine says so."""
    from datetime import datetime, timezone

    record = {"utc": datetime.now(timezone.utc).isoformat(timespec="seconds"), "first_epoch": first_epoch,
              "policy": policy, "stream": STREAM, **kernel_record()}
    with (run_dir / SESSIONS_FILE).open("a") as handle:
        handle.write(json.dumps(record) + "\n")


def read_sessions(run_dir: Path | str) -> list[dict[str, Any]]:
    """The session records of a run folder (:func:`record_session`), oldest first; [] for runs from before."""
    path = Path(run_dir) / SESSIONS_FILE
    if not path.exists():
        return []
    return [json.loads(line) for line in path.read_text().splitlines() if line.strip()]


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


def replayed_epochs(sessions: list[dict[str, Any]], epochs_run: int) -> dict[str, Any]:
    """How many epochs of a run re-drew training batches that an earlier session of the same run had drawn.

    Under the first input pipeline (session records without ``stream``) every process started the shuffle and
    augmentation stream again: a session resumed at epoch f drew, at its epoch f + j, the batches of the stream's
    j-th pass, which any earlier session that lasted more than j epochs had drawn already. Sessions on the
    epoch-indexed stream (:data:`STREAM`) replay nothing. Session records began after some runs had started: when the
    first record resumes at an epoch above 0, the earlier sessions are unknown, but the first of them drew the
    stream's first pass, so the count is a lower bound.

    Args:
        sessions: the run's session records, oldest first (``first_epoch``, optionally ``stream``).
        epochs_run: epochs the run finished.

    Returns:
        ``{"replayed": n, "exact": bool, "resumed_sessions": the old-pipeline sessions that resumed at an epoch
        above 0}``.
    """
    starts = [int(record["first_epoch"]) for record in sessions]
    exact = not starts or starts[0] == 0
    longest_before, replayed, resumed = (0 if exact else 1), 0, 0
    for index, (record, start) in enumerate(zip(sessions, starts)):
        end = starts[index + 1] if index + 1 < len(starts) else epochs_run
        length = max(0, end - start)
        if record.get("stream") == STREAM:
            continue
        if start > 0:
            resumed += 1
            replayed += min(length, longest_before)
        longest_before = max(longest_before, length)
    return {"replayed": replayed, "exact": exact, "resumed_sessions": resumed}

