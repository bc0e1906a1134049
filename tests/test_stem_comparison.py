"""The stem comparison: which runs are paired, at which matched budget, and the sentence that states it."""

from __future__ import annotations

import json

import numpy as np
import pytest

from emotion.analysis import stem_comparison as stems
from emotion.classify.evaluate import encode_predictions
from emotion.errors import DataFormatError

RECIPE = {"batch_size": 64, "learning_rate": 0.001, "weight_decay": 0.05, "label_smoothing": 0.1, "warmup_epochs": 1,
          "augment": {"mirror_probability": 0.5}, "optimizer": "adamw", "momentum": 0.9, "mixed_precision": False,
          "class_weighting": "none", "init_from": ""}


def run(name, model, epochs, minutes, accuracy, predictions=None, **recipe):
    return {"name": name, "model": model, "source": f"results/03_x_{name}.json", "epochs": epochs,
            "chosen_epoch": epochs,
            "publictest_accuracy": accuracy, "privatetest_accuracy": accuracy, "privatetest_macro_f1": accuracy - 0.1,
            "quiet_cpu_minutes": minutes, "predictions": predictions, "recipe": {**RECIPE, **recipe}}


def test_the_closest_run_in_cpu_is_matched_within_the_tolerance_and_equal_epochs_are_paired_too():
    base13, base26 = run("resnet18", "resnet18", 13, 60.0, 0.60), run("resnet18_26ep", "resnet18", 26, 120.0, 0.63)
    keep = run("keep4", "resnet18_keepres", 4, 66.0, 0.62)
    assert [(pair["imagenet"]["name"], pair["matched"]) for pair in stems.pair_runs([base13, base26, keep])] == [
        ("resnet18", "cpu")]
    equal = run("keep13", "resnet18_keepres", 13, 215.0, 0.66)
    assert [(pair["imagenet"]["name"], pair["matched"]) for pair in stems.pair_runs([base13, base26, equal])] == [
        ("resnet18", "epochs")]
    # 60 vs 69.1 CPU-minutes is 13 % apart (matched), 60 vs 71 is 15.5 % (not)
    assert stems.pair_runs([base13, run("k", "resnet18_keepres", 4, 69.1, 0.6)])[0]["matched"] == "cpu"
    assert stems.pair_runs([base13, run("k", "resnet18_keepres", 4, 71.0, 0.6)])[0]["matched"] == "neither"
    assert stems.pair_runs([run("b", "resnet18", 13, 60.0, 0.6, optimizer="sgd"), keep]) == []
    # A release recorded before the optimizer and class-weighting fields existed trained with their defaults.
    older = run("old", "resnet18", 13, 60.0, 0.6)
    for field in ("optimizer", "momentum", "class_weighting", "init_from"):
        del older["recipe"][field]
    assert [pair["imagenet"]["name"] for pair in stems.pair_runs([older, keep])] == ["old"]
    assert stems.pair_runs([base13, run("k", "resnet18_keepres", 4, None, 0.6)])[0]["matched"] == "neither"


def test_a_pair_with_stored_predictions_gets_mcnemars_test_and_the_sentence_says_so():
    labels = np.array([0, 1, 2, 3] * 25)
    right, wrong = labels.copy(), (labels + 1) % 7
    keep_pred = np.where(np.arange(100) < 90, right, wrong)
    base_pred = np.where(np.arange(100) < 60, right, wrong)
    keep = run("keep4", "resnet18_keepres", 4, 62.0, 0.90, keep_pred)
    base = run("resnet18", "resnet18", 13, 60.0, 0.60, base_pred)
    record = stems.compare_pair(stems.pair_runs([base, keep])[0], labels)
    assert record["difference_points"] == pytest.approx(30.0) and record["mcnemar"]["a_only"] == 30
    text = stems.describe_stems([record], [base, keep])
    assert text.startswith("At matched training CPU-seconds (4 epochs of the resolution-keeping stem against 13 of "
                           "the ImageNet stem; 62 vs 60 CPU-minutes at the quiet price), the resolution-keeping stem "
                           "scores 90.00% on PrivateTest against 60.00% (+30.00 points; McNemar p = ")
    assert "significant at 0.05" in text and "not significant" not in text and text.endswith("Each run is one seed.")
    same = stems.compare_pair({"keep": {**keep, "predictions": base_pred}, "imagenet": base, "matched": "epochs"},
                              labels)
    assert "not significant at 0.05" in stems.describe_stems([same], [base, keep])
    unpaired = stems.compare_pair({"keep": keep, "imagenet": {**base, "predictions": None}, "matched": "cpu"}, labels)
    assert unpaired["mcnemar"] is None and "not paired on the same images" in stems.describe_stems([unpaired], [keep])


def test_a_release_without_stored_predictions_gets_them_from_its_model_file(tmp_path):
    from emotion.classify.models import build_model

    model = build_model("basic_cnn", block_filters=(4,), dense_units=8)
    model.save(tmp_path / "resnet18.keras")
    images = np.random.default_rng(0).integers(0, 256, (40, 48, 48)).astype(np.uint8)
    from emotion.classify.evaluate import predict_probabilities

    predicted = predict_probabilities(model, images).argmax(axis=1)
    labels = predicted.copy()
    labels[:10] = (labels[:10] + 1) % 7  # 30 of 40 right
    release = {**run("resnet18", "resnet18", 13, 60.0, 0.75), "source": "results/03_train_resnet18.json"}
    experiment = run("keep", "resnet18_keepres", 5, 60.0, 0.7, predicted)
    filled = stems.with_release_predictions([release, experiment], tmp_path, images, labels)
    np.testing.assert_array_equal(filled[0]["predictions"], predicted)
    assert filled[1] is experiment
    absent = {**release, "name": "resnet34"}
    assert stems.with_release_predictions([absent], tmp_path, images, labels)[0]["predictions"] is None
    with pytest.raises(DataFormatError, match="the model file changed since its release"):
        stems.with_release_predictions([{**release, "privatetest_accuracy": 0.6}], tmp_path, images, labels)


def test_the_stems_table_has_a_row_per_comparison():
    from emotion.analysis.comparison_tables import stems_table

    labels = np.array([0, 1, 2, 3] * 25)
    keep = run("keep4", "resnet18_keepres", 4, 62.0, 0.90, labels)
    base = run("resnet18", "resnet18", 13, 60.0, 0.60, None)
    table = stems_table([stems.compare_pair(stems.pair_runs([base, keep])[0], labels)])
    assert table.loc[0, "resolution-keeping run"] == "keep4 (4 ep)" and table.loc[0, "difference, points"] == 30.0
    assert table.loc[0, "quiet CPU-min (keep / ImageNet)"] == "62 / 60" and table.loc[0, "McNemar p"] is None


def test_the_sentence_says_what_is_missing():
    assert "No run of the resolution-keeping stem" in stems.describe_stems([], [run("b", "resnet18", 13, 60.0, 0.6)])
    assert "no ResNet-18 run of the same recipe" in stems.describe_stems([], [run("k", "resnet18_keepres", 4, 6.0,
                                                                                   0.6)])


def write(path, document):
    path.write_text(json.dumps({"meta": {}, **document}))


def test_stem_runs_reads_releases_and_experiments_of_either_stem_only(tmp_path):
    base = {"model": "resnet18", "finished": True, "epochs_run": 13, "chosen_epoch": 12,
            "recipe": {"model": "resnet18"},
            "publictest_accuracy_at_chosen_epoch": 0.6, "test": {"accuracy": 0.61, "macro_f1": 0.5}}
    write(tmp_path / "03_train_resnet18.json", base)
    write(tmp_path / "03_ablation_resnet18_keepres_4ep.json", {
        **base, "model": "resnet18_keepres", "run": "resnet18_keepres_4ep", "epochs_run": 4,
        "test": {"accuracy": 0.62, "macro_f1": 0.5, "predictions": encode_predictions(np.array([1, 2]))}})
    write(tmp_path / "03_ablation_basic_cnn_30ep.json", {**base, "model": "basic_cnn"})
    write(tmp_path / "03_ablation_resnet18_unfinished.json", {**base, "finished": False})
    runs = stems.stem_runs(tmp_path, None)
    assert [(entry["name"], entry["epochs"], entry["quiet_cpu_minutes"]) for entry in runs] == [
        ("resnet18", 13, None), ("resnet18_keepres_4ep", 4, None)]
    assert runs[0]["predictions"] is None and list(runs[1]["predictions"]) == [1, 2]
    write(tmp_path / "03_ablation_resnet18_broken.json", {key: value for key, value in base.items() if key != "test"})
    with pytest.raises(DataFormatError, match="03_ablation_resnet18_broken.json: a run of resnet18 without 'test'"):
        stems.stem_runs(tmp_path, None)


def test_an_older_recipe_is_read_with_the_defaults_of_the_fields_added_since():
    older = {"model": "resnet18", "epochs": 13, "batch_size": 64}
    filled = stems.with_defaults(older)
    assert filled["optimizer"] == "adamw" and filled["class_weighting"] == "none" and filled["epochs"] == 13
    assert stems.with_defaults({**older, "optimizer": "sgd"})["optimizer"] == "sgd"
