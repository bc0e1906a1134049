"""The released-models table read from results files the test writes."""

import numpy as np
import pandas as pd

from emotion.compare import released_histories, released_table
from emotion.results import write_results


def write_release(results_dir, models_dir, name, accuracy, **extra):
    models_dir.mkdir(exist_ok=True)
    (models_dir / f"{name}_history.csv").write_text(
        "epoch,accuracy,val_accuracy\n0,0.3,0.35\n1,0.4,0.45\n")
    write_results(results_dir / f"03_train_{name}.json", {
        "model": name, "parameters": 1000, "epochs_run": 2, "chosen_epoch": 2,
        "publictest_accuracy_at_chosen_epoch": 0.45, "test": {"accuracy": accuracy, "macro_f1": 0.4},
        "test_tta": {"accuracy": accuracy + 0.01}, "training_cpu_minutes": 3.0, "training_wall_minutes": 2.0,
        "train_images_per_second_median": 100.0, "history_file": f"{name}_history.csv", **extra,
    }, mode="smoke", seed=0)


def test_released_table_has_a_row_per_model_and_the_papers_number_where_stated(tmp_path):
    write_release(tmp_path, tmp_path / "models", "basic_cnn", 0.6)
    write_release(tmp_path, tmp_path / "models", "mobilenet", 0.55, recipe={"mixed_precision": True},
                  model_storage={"dtype": "float16"})
    table = released_table(tmp_path)
    assert table["precision"].tolist() == ["float32", "mixed_bfloat16"]
    assert table["stored_as"].tolist() == ["float32", "float16"]
    assert table.index.tolist() == ["basic_cnn", "mobilenet"]
    assert table.loc["basic_cnn", "paper_accuracy"] == 0.5
    assert np.isnan(table.loc["mobilenet", "paper_accuracy"])
    assert table.loc["mobilenet", "privatetest_accuracy_flip_tta"] == 0.56
    histories = released_histories(table, tmp_path / "models")
    assert histories["basic_cnn"]["epoch"].tolist() == [1, 2]


def test_no_release_gives_an_empty_table_with_the_columns(tmp_path):
    table = released_table(tmp_path)
    assert table.empty and "privatetest_accuracy" in table.columns
    assert isinstance(table, pd.DataFrame)
