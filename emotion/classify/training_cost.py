"""What one training epoch costs on this machine, per model, with TensorFlow's oneDNN kernels off and on
(``python -m emotion training-cost`` -> ``results/03_training_cost.json``; notebook 03 shows the table).

Each measurement is a fresh ``python -m emotion train --epochs 2 --limit N`` process with ``TF_ENABLE_ONEDNN_OPTS``
set to "0" or "1", so that the kernels are chosen when TensorFlow loads, as a user's run would. The second epoch is
the one read (the first also traces and compiles the training step). A full FER2013 epoch is projected from it:
training time per image x 28,709 Training images, plus the two per-epoch evaluation passes (PublicTest and the
PrivateTest audit) scaled from N to 3,589 images each; CPU-seconds scale with the wall time at the measured CPU/wall
ratio. Two processes never run at once: each gets the whole machine.
"""

from __future__ import annotations

import csv
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from emotion.errors import ConfigurationError
from emotion.machine import ONEDNN_VARIABLE, busy_cpu_seconds, other_cores

FER2013_TRAINING_IMAGES = 28709
FER2013_TEST_IMAGES = 3589
"""Images in FER2013's Training split and in each of PublicTest and PrivateTest (the per-epoch evaluation passes)."""

SAME_SPEED_BAND = 0.05
"""oneDNN on / off speed ratios within this distance of 1 are called no real change: one measured epoch per setting
cannot resolve less (:func:`speed_change`)."""
SHORT_EPOCH_LIMIT = 3000
"""Images per split below which a measured epoch is too short to project from faithfully
(:data:`SHORT_EPOCH_CAVEAT`); the default of ``python -m emotion training-cost --limit``."""
SHORT_EPOCH_CAVEAT = (", too short: each epoch's fixed costs weigh on so few images, so the table understates the "
                      "speed of the larger models (the command's default is 3,000)")
"""What the README says of a table measured on fewer than 3,000 images per split: on this machine resnet18 trained
almost twice as fast measured on 3,000 images per split as on 1,000."""

COST_MODELS = (("basic_cnn", "study"), ("resnet18", "study"), ("resnet18_keepres", "study"), ("resnet34", "study"),
               ("resnet34", "paper"), ("resnet50", "study"), ("mobilenet", "study"), ("crop_cnn", "study"),
               ("wide_crop_cnn", "study"))
"""The (model, recipe) pairs of the table: every architecture under the study's recipe, and ResNet-34 under the
paper's (batch 256, SGD), whose 60-epoch run the study budgets."""


def project_full_epoch(epoch: dict[str, float], limit: int) -> dict[str, float]:
    """A full FER2013 epoch's cost from one measured epoch on ``limit`` images per split.

    Args:
        epoch: a history row with ``train_seconds`` (the training phase), ``epoch_seconds`` (training plus both
            evaluation passes) and ``cpu_seconds`` (the process's CPU time over the epoch).
        limit: images per split in the measured epoch.

    Returns:
        ``{"train_images_per_second", "epoch_images_per_second", "cpu_per_wall", "full_epoch_wall_seconds",
        "full_epoch_cpu_seconds"}``; ``epoch_images_per_second`` is the measured epoch's training images over its
        whole wall time (evaluation included).

    Raises:
        ValueError: a time that is not positive, or evaluation longer than the epoch.
    """
    train_seconds, epoch_seconds, cpu_seconds = (float(epoch[key]) for key in
                                                 ("train_seconds", "epoch_seconds", "cpu_seconds"))
    if min(train_seconds, epoch_seconds, cpu_seconds, limit) <= 0 or train_seconds > epoch_seconds:
        raise ValueError(f"an epoch needs positive times with train_seconds <= epoch_seconds, got {epoch}")
    evaluation_seconds = epoch_seconds - train_seconds
    full_wall = (train_seconds / limit * FER2013_TRAINING_IMAGES
                 + evaluation_seconds / limit * FER2013_TEST_IMAGES)
    return {
        "train_images_per_second": limit / train_seconds,
        "epoch_images_per_second": limit / epoch_seconds,
        "cpu_per_wall": cpu_seconds / epoch_seconds,
        "full_epoch_wall_seconds": full_wall,
        "full_epoch_cpu_seconds": full_wall * cpu_seconds / epoch_seconds,
    }


def read_measured_epoch(run_dir: Path) -> dict[str, float]:
    """The last epoch of ``run_dir/history.csv`` (the measurement), as floats.

    Raises:
        ConfigurationError: the run left no history (it failed; its log says why).
    """
    path = Path(run_dir) / "history.csv"
    if not path.is_file():
        raise ConfigurationError(f"the measuring run left no {path}: it failed; see its output above.")
    with path.open(newline="") as handle:
        rows = list(csv.DictReader(handle))
    if not rows:
        raise ConfigurationError(f"{path} has no epoch: the measuring run failed.")
    return {key: float(value) for key, value in rows[-1].items() if value not in ("", None)}


def measure_epoch_cost(model: str, recipe: str, *, onednn: bool, limit: int, timeout_seconds: float = 3600,
                       python: str = sys.executable) -> dict[str, Any]:
    """Train ``model`` under ``recipe`` for two epochs on ``limit`` images per split in a fresh process with oneDNN
    ``onednn``, and project a full epoch from the second (:func:`project_full_epoch`).

    Returns:
        the projection plus ``model``, ``recipe``, ``onednn`` (as TensorFlow reported it in the run's session
        record), ``limit``, ``other_cores`` (cores other processes kept busy meanwhile) and the measured epoch's
        ``train_seconds``, ``epoch_seconds``, ``cpu_seconds``.

    Raises:
        ConfigurationError: ``limit`` below one batch, or the run failed or timed out (its output is printed).
    """
    if limit < 256:
        raise ConfigurationError(f"--limit {limit} is too small to measure an epoch: use 256 or more images.")
    children = resource.getrusage(resource.RUSAGE_CHILDREN)
    children_before = children.ru_utime + children.ru_stime
    environment = {**os.environ, ONEDNN_VARIABLE: "1" if onednn else "0"}
    with tempfile.TemporaryDirectory(prefix="emotion-cost-") as folder:
        run_dir = Path(folder) / "run"
        command = [python, "-m", "emotion", "train", "--model", model, "--recipe", recipe, "--epochs", "2",
                   "--limit", str(limit), "--run-dir", str(run_dir)]
        busy_before, started = busy_cpu_seconds(), time.perf_counter()
        try:
            completed = subprocess.run(command, env=environment, capture_output=True, text=True,
                                       timeout=timeout_seconds)
        except subprocess.TimeoutExpired as error:
            raise ConfigurationError(f"{' '.join(command)} ran over {timeout_seconds:.0f} s; use a smaller --limit."
                                     ) from error
        if completed.returncode != 0:
            raise ConfigurationError(f"{' '.join(command)} failed (exit {completed.returncode}):\n"
                                     f"{completed.stderr[-2000:]}")
        wall = time.perf_counter() - started
        children = resource.getrusage(resource.RUSAGE_CHILDREN)
        own = children.ru_utime + children.ru_stime - children_before
        epoch = read_measured_epoch(run_dir)
        from emotion.classify.train import read_sessions

        sessions = read_sessions(run_dir)
    reported = sessions[-1].get("onednn") if sessions else None
    return {"model": model, "recipe": recipe, "onednn": reported, "requested_onednn": onednn, "limit": limit,
            "other_cores": other_cores(busy_before, busy_cpu_seconds(), own, wall),
            **{key: epoch[key] for key in ("train_seconds", "epoch_seconds", "cpu_seconds")},
            **project_full_epoch(epoch, limit)}


def speedups(rows: list[dict[str, Any]]) -> dict[str, float]:
    """oneDNN on / off speed of each ``model (recipe)`` measured both ways: ratio of projected full-epoch wall times."""
    by_key: dict[tuple[str, str], dict[bool, float]] = {}
    for row in rows:
        by_key.setdefault((row["model"], row["recipe"]), {})[bool(row["requested_onednn"])] = \
            row["full_epoch_wall_seconds"]
    return {f"{model} ({recipe})": times[False] / times[True] for (model, recipe), times in by_key.items()
            if True in times and False in times}


def merge_rows(document: dict[str, Any] | None, rows: list[dict[str, Any]], limit: int) -> list[dict[str, Any]]:
    """The rows of a table that measured some models again: ``document``'s rows (``results/03_training_cost.json``,
    None when there is none) with each (model, recipe, oneDNN) measured in ``rows`` replaced, in
    :data:`COST_MODELS` order, so that measuring one model does not drop the others.

    Raises:
        ConfigurationError: ``document`` was measured on another number of images per split than ``limit``: rows
            projected from epochs of different lengths do not belong in one table.
    """
    if document is None or not document.get("rows"):
        return list(rows)
    if int(document["limit"]) != int(limit):
        raise ConfigurationError(
            f"results/03_training_cost.json was measured on {document['limit']} images per split, these rows on "
            f"{limit}: pass --limit {document['limit']} to add to it, or measure every model at {limit} (no --models).")

    def key(row: dict[str, Any]) -> tuple[str, str, bool]:
        return row["model"], row["recipe"], bool(row["requested_onednn"])

    merged = {key(row): row for row in document["rows"]}
    merged.update({key(row): row for row in rows})
    order = {pair: index for index, pair in enumerate(COST_MODELS)}
    return sorted(merged.values(), key=lambda row: (order.get((row["model"], row["recipe"]), len(order)),
                                                    not row["requested_onednn"]))


def cost_table(rows: list[dict[str, Any]]):
    """A pandas table of :func:`measure_epoch_cost` rows for notebook 03: one row per model and recipe, oneDNN off
    and on side by side (training img/s, projected full-epoch wall minutes and CPU-seconds)."""
    import pandas as pd

    records = []
    for row in rows:
        kernels = "oneDNN on" if row["requested_onednn"] else "oneDNN off"
        records.append({"model": row["model"], "recipe": row["recipe"], "kernels": kernels,
                        "training img/s": round(row["train_images_per_second"], 1),
                        "full epoch, wall-min": round(row["full_epoch_wall_seconds"] / 60, 1),
                        "full epoch, CPU-s": round(row["full_epoch_cpu_seconds"])})
    frame = pd.DataFrame(records)
    return frame.pivot_table(index=["model", "recipe"], columns="kernels", sort=False,
                             values=["training img/s", "full epoch, wall-min", "full epoch, CPU-s"])


def load_training_cost(path: Path | str) -> dict[str, Any] | None:
    """``results/03_training_cost.json`` (written by ``make training-cost``), or None when it was never measured."""
    from emotion.provenance import read_results

    path = Path(path)
    return read_results(path) if path.is_file() else None


def epoch_cost(document: dict[str, Any], model: str, recipe: str = "study", onednn: bool = True) -> dict[str, Any]:
    """The row of ``document`` (``results/03_training_cost.json``) for one model, recipe and kernel choice.

    Raises:
        ConfigurationError: the file has no such row (re-run ``make training-cost``).
    """
    for row in document["rows"]:
        if (row["model"], row["recipe"], bool(row["requested_onednn"])) == (model, recipe, onednn):
            return row
    raise ConfigurationError(f"results/03_training_cost.json has no row for {model} ({recipe} recipe, oneDNN "
                             f"{'on' if onednn else 'off'}): run `make training-cost`.")


def speed_change(ratio: float) -> str:
    """A oneDNN on / off speed ratio in words: ``"3.5x faster"``, ``"1.3x slower"``, or ``"no real change (0.97x)"``
    within :data:`SAME_SPEED_BAND` of 1."""
    if ratio >= 1 + SAME_SPEED_BAND:
        return f"{ratio:.1f}x faster"
    if ratio <= 1 - SAME_SPEED_BAND:
        return f"{1 / ratio:.1f}x slower"
    return f"no real change ({ratio:.2f}x)"


def cost_markdown(document: dict[str, Any] | None) -> str:
    """The README's training-cost table (markdown) from ``results/03_training_cost.json``: per model and recipe, a
    full FER2013 epoch's wall minutes and CPU-seconds with oneDNN on, and the speed-up over oneDNN off; "" when the
    file does not exist. Budgets in the Makefile and docs point here instead of typing minutes."""
    if document is None:
        return ""
    meta = document.get("meta", {})
    gains = speedups(document["rows"])
    lines = [f"**Training cost** (one full FER2013 epoch on this study's machine, {meta.get('cpu_model', 'CPU')} with "
             f"{meta.get('cpu_cores', '?')} cores, projected from a measured epoch of {document['limit']:,} images per "
             f"split{SHORT_EPOCH_CAVEAT if document['limit'] < SHORT_EPOCH_LIMIT else ''}; `make training-cost`):", "",
             "| model (recipe) | wall-min per epoch | CPU-s per epoch | oneDNN on vs off |", "|---|---|---|---|"]
    for row in document["rows"]:
        if not row["requested_onednn"]:
            continue
        name = f"{row['model']} ({row['recipe']})"
        gain = speed_change(gains[name]) if name in gains else "not measured"
        lines.append(f"| `{row['model']}` ({row['recipe']}) | {row['full_epoch_wall_seconds'] / 60:.1f} | "
                     f"{row['full_epoch_cpu_seconds']:,.0f} | {gain} |")
    return "\n".join(lines)
