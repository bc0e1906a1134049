"""Compare the released models (``results/03_train_<model>.json`` + ``models/``) with each other and the paper.

Only the numbers the paper states are listed in :data:`PAPER_RESULTS`; everything else comes from the results files.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from emotion.paths import MODELS_DIR, RESULTS_DIR
from emotion.results import read_results

PAPER_RESULTS = {
    "basic_cnn": {"accuracy": 0.50, "note": "the paper's basic CNN baseline, reported as about 50 %"},
    "resnet34": {"accuracy": 0.6286, "note": "the paper's ResNet-34, 62.86 %"},
}
"""FER2013 test accuracy the paper reports, by our model name (only the figures the paper states)."""

STUDY_GOALS = {"basic_cnn": 0.66, "resnet34": 0.6286}
"""The study's PrivateTest accuracy goals (issue 4): basic CNN >= 66 %; ResNet-34 reproduces 62.86 % +/- 2 points."""


def released_table(results_dir: Path | str = RESULTS_DIR) -> pd.DataFrame:
    """One row per released model, from ``results_dir/03_train_*.json``.

    Returns:
        DataFrame indexed by model name with columns ``parameters``, ``epochs``, ``chosen_epoch``,
        ``publictest_accuracy`` (at the chosen epoch), ``privatetest_accuracy``, ``privatetest_macro_f1``,
        ``privatetest_accuracy_flip_tta``, ``training_cpu_minutes``, ``training_wall_minutes``,
        ``train_images_per_second``, ``paper_accuracy`` (NaN where the paper gives none), ``precision`` (the training
        dtype policy), ``stored_as`` (the released weights' dtype) and ``history_file``.
        Empty (with these columns) when nothing is released.

    Raises:
        DataFormatError: a results file is not valid JSON with a ``meta`` block.
    """
    rows = []
    for path in sorted(Path(results_dir).glob("03_train_*.json")):
        document = read_results(path)
        name = document["model"]
        rows.append({
            "model": name,
            "parameters": document["parameters"],
            "epochs": document["epochs_run"],
            "chosen_epoch": document["chosen_epoch"],
            "publictest_accuracy": document["publictest_accuracy_at_chosen_epoch"],
            "privatetest_accuracy": document["test"]["accuracy"],
            "privatetest_macro_f1": document["test"]["macro_f1"],
            "privatetest_accuracy_flip_tta": document.get("test_tta", {}).get("accuracy", float("nan")),
            "training_cpu_minutes": document["training_cpu_minutes"],
            "training_wall_minutes": document["training_wall_minutes"],
            "train_images_per_second": document["train_images_per_second_median"],
            "paper_accuracy": PAPER_RESULTS.get(name, {}).get("accuracy", float("nan")),
            "precision": "mixed_bfloat16" if document.get("recipe", {}).get("mixed_precision") else "float32",
            "stored_as": document.get("model_storage", {}).get("dtype", "float32"),
            "history_file": document["history_file"],
        })
    columns = ["parameters", "epochs", "chosen_epoch", "publictest_accuracy", "privatetest_accuracy",
               "privatetest_macro_f1", "privatetest_accuracy_flip_tta", "training_cpu_minutes",
               "training_wall_minutes", "train_images_per_second", "paper_accuracy", "precision", "stored_as",
               "history_file"]
    if not rows:
        return pd.DataFrame(columns=columns).rename_axis("model")
    return pd.DataFrame(rows).set_index("model")[columns]


def released_histories(table: pd.DataFrame, models_dir: Path | str = MODELS_DIR) -> dict[str, pd.DataFrame]:
    """The per-epoch history of each model of :func:`released_table` (read from ``models_dir``), by model name."""
    from emotion.train import read_history

    return {name: pd.DataFrame(read_history(Path(models_dir) / row["history_file"]))
            for name, row in table.iterrows()}
