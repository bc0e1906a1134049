"""Training: a tiny fit writes its history and checkpoint, resumes after an interruption, repeats with a seed, and
the released files carry the protocol's numbers."""

import json

import keras
import numpy as np
import pytest

from emotion.classify.input_benchmark import benchmark_input_pipeline
from emotion.classify.inputs import epoch_order, make_dataset, steps_per_epoch
from emotion.classify.kfold import kfold_indices, train_kfold
from emotion.classify.recipes import TrainConfig, balanced_class_weights
from emotion.classify.release import release_run
from emotion.classify.run_folder import read_history, resume_epoch
from emotion.classify.train import train_model
from emotion.errors import ConfigurationError, DataFormatError

TINY = {"block_filters": (4, 8), "dense_units": 8}


@pytest.fixture(scope="module")
def splits():
    rng = np.random.default_rng(0)
    labels = rng.integers(0, 7, 112)
    images = rng.integers(0, 256, (112, 48, 48)).astype(np.uint8)
    # Brighten the images of class 0 so that there is something to learn.
    images[labels == 0] = np.clip(images[labels == 0].astype(int) + 80, 0, 255).astype(np.uint8)
    return (images[:64], labels[:64]), (images[64:88], labels[64:88]), (images[88:], labels[88:])


def tiny_config(**changes):
    return TrainConfig(**{"model": "basic_cnn", "epochs": 2, "batch_size": 16, "model_options": TINY, **changes})


class StopBeforeEpoch(keras.callbacks.Callback):
    """Raises at the start of an epoch, as if the process had been killed after the previous one."""

    def __init__(self, epoch):
        super().__init__()
        self.epoch = epoch

    def on_epoch_begin(self, epoch, logs=None):
        if epoch == self.epoch:
            raise KeyboardInterrupt("simulated kill")


class EpochsSeen(keras.callbacks.Callback):
    def __init__(self):
        super().__init__()
        self.epochs = []

    def on_epoch_begin(self, epoch, logs=None):
        self.epochs.append(epoch)


@pytest.fixture(scope="module")
def finished_run(tmp_path_factory, splits):
    """A finished 2-epoch tiny run, evaluated on the test split."""
    return train_model(tiny_config(), *splits, run_dir=tmp_path_factory.mktemp("run"), verbose=0)


def test_a_short_fit_writes_history_checkpoint_and_a_summary(finished_run, splits):
    result = finished_run
    history = read_history(result.history)
    assert [row["epoch"] for row in history] == [1, 2]
    for column in ("loss", "accuracy", "val_loss", "val_accuracy", "train_images_per_second", "cpu_seconds",
                   "epoch_seconds", "learning_rate"):
        assert column in history[0]
    best_epoch = int(np.argmax([row["val_accuracy"] for row in history])) + 1
    assert result.summary["chosen_epoch"] == best_epoch
    assert result.summary["finished"] is True
    assert result.summary["test"]["n"] == len(splits[2][1])
    # Every PrivateTest prediction is kept, so that two runs can be compared image by image from their results.
    from emotion.classify.evaluate import decode_predictions

    predictions = decode_predictions(result.summary["test"]["predictions"])
    assert predictions.shape == splits[2][1].shape
    assert np.mean(predictions == splits[2][1]) == pytest.approx(result.summary["test"]["accuracy"])
    reloaded = keras.saving.load_model(result.best_model, compile=False)
    assert reloaded.output.shape[-1] == 7
    assert json.loads((result.run_dir / "summary.json").read_text())["chosen_epoch"] == best_epoch


def test_an_interrupted_run_resumes_from_its_last_finished_epoch(tmp_path, splits):
    with pytest.raises(KeyboardInterrupt):
        train_model(tiny_config(), *splits[:2], run_dir=tmp_path, verbose=0, extra_callbacks=[StopBeforeEpoch(1)])
    assert [row["epoch"] for row in read_history(tmp_path / "history.csv")] == [1]
    seen = EpochsSeen()
    result = train_model(tiny_config(), *splits[:2], run_dir=tmp_path, verbose=0, extra_callbacks=[seen])
    assert seen.epochs == [1]
    assert [row["epoch"] for row in read_history(result.history)] == [1, 2]
    assert result.summary["finished"] is True


def test_a_run_interrupted_and_resumed_trains_exactly_as_an_uninterrupted_one(tmp_path, splits):
    straight = train_model(tiny_config(epochs=3), *splits[:2], run_dir=tmp_path / "straight", verbose=0)
    for stop in (1, 2):  # killed after epoch 1, resumed and killed after epoch 2, resumed to the end
        with pytest.raises(KeyboardInterrupt):
            train_model(tiny_config(epochs=3), *splits[:2], run_dir=tmp_path / "resumed", verbose=0,
                        extra_callbacks=[StopBeforeEpoch(stop)])
    resumed = train_model(tiny_config(epochs=3), *splits[:2], run_dir=tmp_path / "resumed", verbose=0)
    columns = ("loss", "accuracy", "val_loss", "val_accuracy")
    assert ([[row[column] for column in columns] for row in read_history(resumed.history)]
            == [[row[column] for column in columns] for row in read_history(straight.history)])
    for first, second in zip(keras.saving.load_model(straight.best_model, compile=False).get_weights(),
                             keras.saving.load_model(resumed.best_model, compile=False).get_weights()):
        np.testing.assert_array_equal(first, second)


def test_the_training_stream_is_indexed_by_epoch_and_each_epoch_visits_every_image_once(splits):
    images, labels = splits[0]

    def batches(epochs):
        return [(np.asarray(x), np.asarray(y)) for x, y in make_dataset(
            images, labels, batch_size=24, training=True, seed=3, epochs=epochs)]

    whole = batches(range(0, 3))
    assert len(whole) == 3 * steps_per_epoch(len(images), 24) == 9
    pieces = batches(range(0, 1)) + batches(range(1, 2)) + batches(range(2, 3))
    for (x, y), (x_piece, y_piece) in zip(whole, pieces):
        np.testing.assert_array_equal(x, x_piece)
        np.testing.assert_array_equal(y, y_piece)
    first_epoch = np.concatenate([y.argmax(axis=1) for _, y in whole[:3]])
    assert sorted(first_epoch) == sorted(labels)  # every image once
    np.testing.assert_array_equal(first_epoch, labels[epoch_order(len(images), 3, 0)])
    assert not np.array_equal(epoch_order(len(images), 3, 0), epoch_order(len(images), 3, 1))
    with pytest.raises(ValueError, match="at least one epoch"):
        make_dataset(images, labels, batch_size=24, training=True, epochs=range(2, 2))


def test_the_resume_epoch_comes_from_the_backup_and_a_damaged_record_is_a_clear_error(tmp_path):
    assert resume_epoch(tmp_path) == 0
    backup = tmp_path / "backup"
    backup.mkdir()
    (backup / "training_metadata.json.bkp").write_text('{"epoch": 4, "batch": 0}')
    assert resume_epoch(tmp_path) == 4
    (backup / "training_metadata.json").write_text('{"epoch": 7, "batch": 0}')
    assert resume_epoch(tmp_path) == 7
    (backup / "training_metadata.json").write_text("not json")
    with pytest.raises(DataFormatError, match="backup is damaged"):
        resume_epoch(tmp_path)


def test_resuming_with_another_recipe_is_refused(tmp_path, splits):
    with pytest.raises(KeyboardInterrupt):
        train_model(tiny_config(), *splits[:2], run_dir=tmp_path, verbose=0, extra_callbacks=[StopBeforeEpoch(1)])
    with pytest.raises(ConfigurationError, match="learning_rate"):
        train_model(tiny_config(learning_rate=0.1), *splits, run_dir=tmp_path, verbose=0)


def test_the_same_seed_gives_identical_weights_and_another_seed_different_ones(tmp_path, splits):
    runs = {}
    for name, seed in (("first", 1), ("second", 1), ("other", 2)):
        config = tiny_config(seed=seed, epochs=1)
        result = train_model(config, *splits[:2], run_dir=tmp_path / name, verbose=0)
        runs[name] = keras.saving.load_model(result.best_model, compile=False).get_weights()
    for first, second in zip(runs["first"], runs["second"]):
        np.testing.assert_array_equal(first, second)
    assert any(not np.array_equal(first, other) for first, other in zip(runs["first"], runs["other"]))


def test_the_training_pipeline_yields_augmented_float_batches_with_one_hot_labels(splits):
    images, labels = splits[0]
    batch_images, batch_labels = next(iter(make_dataset(images, labels, batch_size=16, training=True)))
    assert batch_images.shape == (16, 48, 48, 1) and batch_images.dtype == "float32"
    assert batch_labels.shape == (16, 7)
    np.testing.assert_array_equal(np.asarray(batch_labels).sum(axis=1), 1.0)
    evaluation = next(iter(make_dataset(images, labels, batch_size=16, training=False)))
    np.testing.assert_array_equal(np.asarray(evaluation[0])[..., 0], images[:16])


def test_release_writes_model_history_and_a_results_file_with_headline_rows(tmp_path, finished_run):
    result = finished_run
    written = release_run(result, tmp_path / "models", tmp_path / "results", mode="smoke")
    document = json.loads(written["results"].read_text())
    assert written["model"].name == "basic_cnn.keras" and written["history"].exists()
    assert document["meta"]["mode"] == "smoke"
    assert document["chosen_epoch"] == result.summary["chosen_epoch"]
    assert {row["split"] for row in document["headline"]} >= {"PrivateTest"}
    assert document["test"]["accuracy"] == result.summary["test"]["accuracy"]


class StopAfterFirstEpoch(keras.callbacks.Callback):
    def on_epoch_end(self, epoch, logs=None):
        self.model.stop_training = True


def test_a_run_that_stopped_short_of_its_budget_is_not_released(tmp_path, splits):
    result = train_model(tiny_config(), *splits[:2], run_dir=tmp_path / "run", verbose=0,
                         extra_callbacks=[StopAfterFirstEpoch()])
    assert result.summary["finished"] is False
    with pytest.raises(ConfigurationError, match="1 of 2 epochs"):
        release_run(result, tmp_path / "models", tmp_path / "results", mode="smoke")
    assert not (tmp_path / "models").exists()


def test_pipeline_benchmark_reports_both_rates_and_their_ratio(splits):
    result = benchmark_input_pipeline(tiny_config(), *splits[0], steps=2, rounds=3)
    assert result["round_ratios"] == pytest.approx([real / synthetic for real, synthetic in
                                                    zip(result["real_rounds"], result["synthetic_rounds"])])
    assert result["ratio"] == pytest.approx(np.median(result["round_ratios"]))


def test_a_stored_benchmark_is_reused_only_when_its_settings_match(splits, tmp_path):
    from emotion.classify.input_benchmark import reuse_or_measure
    from emotion.classify.training_prose import describe_pipeline_benchmark
    from emotion.machine import onednn_expected
    from emotion.provenance import write_results

    stored = {"model": "basic_cnn", "batch_size": 16, "mixed_precision": False, "steps_per_round": 2,
              "timing": "median step", "onednn": onednn_expected(),
              "real_images_per_second": 100.0, "synthetic_images_per_second": 125.0, "ratio": 0.8,
              "round_ratios": [0.8], "real_rounds": [100.0], "synthetic_rounds": [125.0]}
    cache = write_results(tmp_path / "03_notebook_basic_cnn.json", {"pipeline_benchmark": stored}, mode="full",
                          seed=0)
    reused = reuse_or_measure(tiny_config(), *splits[0], steps=2, rounds=1, cache=cache)
    assert reused["ratio"] == 0.8 and reused["reused_from"]["file"] == "03_notebook_basic_cnn.json"
    assert "reused from `results/03_notebook_basic_cnn.json`" in describe_pipeline_benchmark(reused, "basic_cnn")
    for changed in ({"steps": 3, "rounds": 1}, {"steps": 2, "rounds": 2}):  # other settings: measured afresh
        measured = reuse_or_measure(tiny_config(), *splits[0], cache=cache, **changed)
        assert "reused_from" not in measured and measured["steps_per_round"] == changed["steps"]
    for key, other in (("timing", "whole fit"), ("onednn", not onednn_expected())):  # older method or kernels
        stale = write_results(tmp_path / f"03_notebook_{key}.json", {"pipeline_benchmark": {**stored, key: other}},
                              mode="full", seed=0)
        assert "reused_from" not in reuse_or_measure(tiny_config(), *splits[0], steps=2, rounds=1, cache=stale)
    assert "reused_from" not in reuse_or_measure(tiny_config(), *splits[0], steps=2, rounds=1, cache=cache,
                                                 recompute=True)


def test_kfold_indices_are_stratified_disjoint_and_cover_training():
    labels = np.repeat(np.arange(7), [30, 6, 30, 60, 30, 30, 30])
    splits = kfold_indices(labels, folds=3, seed=0)
    held_out = np.concatenate([part for _, part in splits])
    assert sorted(held_out.tolist()) == list(range(len(labels)))
    for fit, part in splits:
        assert not set(fit) & set(part)
        assert np.bincount(labels[part], minlength=7).tolist() == [10, 2, 10, 20, 10, 10, 10]
    with pytest.raises(ConfigurationError, match="rarest"):
        kfold_indices(labels, folds=7)


def test_kfold_training_reports_each_fold_and_the_ensemble(tmp_path, splits):
    from emotion.classify.evaluate import decode_predictions

    train, public_test, private_test = splits
    # A batch of 10 does not divide a fold's 32 (or 31-33) images: each epoch ends with a smaller batch, still a step.
    result = train_kfold(tiny_config(epochs=1, batch_size=10), train, public_test, private_test, folds=2,
                         run_dir=tmp_path, verbose=0)
    assert [row["fold"] for row in result["per_fold"]] == [1, 2]
    assert (tmp_path / "fold2" / "best.keras").exists()
    assert result["ensemble_privatetest"]["n"] == len(private_test[1])
    assert result["privatetest_accuracy_mean"] == pytest.approx(np.mean([r["privatetest"] for r in result["per_fold"]]))
    # What a comparison at matched optimizer steps needs: the steps (epochs x ceil(fit images / batch) per fold),
    # the full-Training-epoch equivalents, and every PrivateTest prediction of the fold models and the ensemble.
    fit_sizes = [len(fit) for fit, _ in kfold_indices(train[1], 2, 0)]
    assert [row["fit_images"] for row in result["per_fold"]] == fit_sizes and sum(fit_sizes) == len(train[1])
    assert [row["optimizer_steps"] for row in result["per_fold"]] == [-(-size // 10) for size in fit_sizes]
    assert result["optimizer_steps"] == sum(-(-size // 10) for size in fit_sizes) > len(train[1]) // 10
    assert result["training_images"] == 64 and result["full_epoch_equivalents"] == pytest.approx(1.0)
    # Wall time and each fold's sessions (CPU and arithmetic) add up over folds, as CPU time does.
    assert result["training_wall_minutes"] == pytest.approx(sum(r["training_wall_minutes"] for r in result["per_fold"]))
    assert len(result["sessions"]) == 2 and all(session["policy"] == "float32" for session in result["sessions"])
    ensemble = decode_predictions(result["ensemble_privatetest"]["predictions"])
    assert np.mean(ensemble == private_test[1]) == pytest.approx(result["ensemble_privatetest"]["accuracy"])
    assert len(result["fold_privatetest_predictions"]) == 2
    for fold, (row, stored) in enumerate(zip(result["per_fold"], result["fold_privatetest_predictions"]), start=1):
        model = keras.saving.load_model(tmp_path / f"fold{fold}" / "best.keras", compile=False)
        predicted = model.predict(private_test[0][..., None].astype(np.float32), verbose=0).argmax(axis=1)
        np.testing.assert_array_equal(decode_predictions(stored), predicted)
        assert np.mean(predicted == private_test[1]) == pytest.approx(row["privatetest"])


def test_every_epoch_s_test_predictions_are_audited_in_files_and_history(finished_run, splits):
    history = read_history(finished_run.history)
    for row in history:
        predicted = np.load(finished_run.run_dir / "audit" / f"privatetest_epoch{row['epoch']:03d}.npy")
        assert predicted.shape == splits[2][1].shape and predicted.dtype == np.uint8
        assert row["audit_privatetest_accuracy"] == pytest.approx(np.mean(predicted == splits[2][1]))
    assert finished_run.summary["history"] == history
    assert set(finished_run.summary["started"]) >= {"commit", "dirty", "utc"}


def test_the_audit_never_changes_training(tmp_path, splits):
    audited = train_model(tiny_config(), *splits, run_dir=tmp_path / "a", verbose=0)
    blind = train_model(tiny_config(), *splits, run_dir=tmp_path / "b", verbose=0, audit=False)
    assert not (tmp_path / "b" / "audit").exists()
    for left, right in zip(keras.saving.load_model(audited.best_model).get_weights(),
                           keras.saving.load_model(blind.best_model).get_weights()):
        np.testing.assert_array_equal(left, right)
    assert audited.summary["test"] == blind.summary["test"]


def test_balanced_class_weights_give_every_class_the_same_total_weight():
    labels = np.array([0] * 50 + [1] * 5 + [2, 3, 4, 5, 6] * 9)
    weights = balanced_class_weights(labels)
    totals = [weights[index] * np.sum(labels == index) for index in range(7)]
    assert totals == pytest.approx([len(labels) / 7] * 7)
    assert weights[1] == pytest.approx(10 * weights[0])
    with pytest.raises(ConfigurationError, match=r"missing: \['disgust'\]"):
        balanced_class_weights(np.array([0, 2, 3, 4, 5, 6]))


def test_class_weighting_changes_what_is_learned_and_unknown_weightings_are_refused(tmp_path, splits):
    plain = train_model(tiny_config(epochs=1), *splits[:2], run_dir=tmp_path / "plain", verbose=0)
    weighted = train_model(tiny_config(epochs=1, class_weighting="balanced"), *splits[:2],
                           run_dir=tmp_path / "weighted", verbose=0)
    assert weighted.summary["recipe"]["class_weighting"] == "balanced"
    differences = [np.abs(left - right).max() for left, right in zip(
        keras.saving.load_model(plain.best_model).get_weights(),
        keras.saving.load_model(weighted.best_model).get_weights())]
    assert max(differences) > 0
    with pytest.raises(ConfigurationError, match="unknown class weighting 'inverse'"):
        train_model(tiny_config(class_weighting="inverse"), *splits[:2], run_dir=tmp_path / "bad", verbose=0)


def test_an_ablation_release_writes_only_its_results_file(tmp_path, finished_run):
    written = release_run(finished_run, tmp_path / "models", tmp_path / "results", mode="smoke",
                          name="tiny_seed1", ablation=True)
    assert written["model"] is None and not (tmp_path / "models").exists()
    document = json.loads((tmp_path / "results" / "03_ablation_tiny_seed1.json").read_text())
    assert document["run"] == "tiny_seed1" and "headline" not in document
    assert [row["epoch"] for row in document["history"]] == [1, 2]
    assert "PublicTest" in document["protocol"]


def test_an_ablation_release_keeps_the_checkpoints_outputs_checked_against_its_scores(tmp_path, finished_run,
                                                                                      splits):
    from dataclasses import replace

    from emotion.classify.run_outputs import read_outputs

    output_splits = {"PublicTest": splits[1], "PrivateTest": splits[2]}
    written = release_run(finished_run, tmp_path / "models", tmp_path / "results", mode="smoke", name="tiny_out",
                          ablation=True, output_splits=output_splits)
    assert written["outputs"].name == "03_ablation_tiny_out_outputs.npz"
    labels = {split: values for split, (_, values) in output_splits.items()}
    for tta, block in (("none", "test"), ("flip", "test_tta")):
        private = read_outputs(written["outputs"], tta, labels)["PrivateTest"]
        assert (private.argmax(axis=1) == splits[2][1]).mean() == pytest.approx(
            finished_run.summary[block]["accuracy"], abs=2 / len(splits[2][1]))
    # Outputs that do not reproduce the recorded scores are not kept; the run's results still are.
    recorded = finished_run.summary["test"]["accuracy"]
    claimed = {**finished_run.summary["test"], "accuracy": 0.0 if recorded >= 0.5 else 1.0}  # 12+ images off
    wrong = replace(finished_run, summary={**finished_run.summary, "test": claimed})
    with pytest.warns(UserWarning, match="outputs were not kept .*run-outputs --name tiny_out"):
        kept = release_run(wrong, tmp_path / "models", tmp_path / "other", mode="smoke", name="tiny_out",
                           ablation=True, output_splits=output_splits)
    assert kept["outputs"] is None and kept["results"].is_file()
    assert not list((tmp_path / "other").glob("*.npz*"))


def test_a_model_over_the_size_cap_is_stored_as_float16_and_loads_back_as_float32(tmp_path, finished_run, splits,
                                                                                  monkeypatch):
    from emotion.classify import release
    from emotion.classify.evaluate import load_model

    # A cap just under the float32 file: float32 is over it, float16 (about half the weights' bytes) under it.
    monkeypatch.setattr(release, "MAX_MODEL_MIB", (finished_run.best_model.stat().st_size - 1) / 2**20)
    written = release_run(finished_run, tmp_path / "models", tmp_path / "results", mode="smoke",
                          test_split=splits[2])
    document = json.loads(written["results"].read_text())
    storage = document["model_storage"]
    assert storage["dtype"] == "float16" and document["model_file_mib"] < storage["float32_mib"]
    assert {weight.dtype for weight in keras.saving.load_model(written["model"]).weights} == {"float16"}
    reloaded = load_model(written["model"])
    assert {weight.dtype for weight in reloaded.weights} == {"float32"}
    original = keras.saving.load_model(finished_run.best_model)
    images = splits[2][0][..., None].astype(np.float32)
    np.testing.assert_allclose(np.asarray(reloaded(images)), np.asarray(original(images)), atol=2e-3)
    assert storage["accuracy_stored"] == pytest.approx(storage["accuracy_float32"], abs=0.05)


def test_a_run_folder_from_before_a_recipe_field_existed_still_resumes(tmp_path, splits):
    run_dir = tmp_path / "old"
    train_model(tiny_config(epochs=1), *splits[:2], run_dir=run_dir, verbose=0)
    recipe = json.loads((run_dir / "recipe.json").read_text())
    del recipe["class_weighting"]
    (run_dir / "recipe.json").write_text(json.dumps(recipe))
    (run_dir / "started.json").unlink()
    resumed = train_model(tiny_config(epochs=1), *splits[:2], run_dir=run_dir, verbose=0)
    assert resumed.summary["started"]["commit"] is None and "before start records" in resumed.summary["started"]["note"]
    with pytest.raises(ConfigurationError, match="differs in: class_weighting"):
        train_model(tiny_config(epochs=1, class_weighting="balanced"), *splits[:2], run_dir=run_dir, verbose=0)


def test_mixed_precision_is_granted_only_where_bfloat16_runs_in_hardware():
    from emotion.classify.devices import training_policy
    from emotion.machine import cpu_has_native_bf16

    avx2_only = "model name\t: AMD EPYC\nflags\t\t: fpu sse2 avx avx2 fma\n"
    with_bf16 = "model name\t: Intel Xeon\nflags\t\t: fpu avx2 avx512f avx512_bf16\n"
    assert cpu_has_native_bf16(avx2_only) is False
    assert cpu_has_native_bf16(with_bf16) is True
    assert training_policy(False, native_bf16=True, gpu=True) == "float32"
    assert training_policy(True, native_bf16=True, gpu=False) == "mixed_bfloat16"
    assert training_policy(True, native_bf16=False, gpu=True) == "mixed_bfloat16"
    with pytest.warns(UserWarning, match="no native bfloat16"):
        assert training_policy(True, native_bf16=False, gpu=False) == "float32"


def test_the_paper_recipe_is_sgd_with_momentum_batch_256_and_only_its_augmentations():
    from emotion.classify.augment import AugmentConfig
    from emotion.classify.recipes import RECIPES, recipe_config

    assert RECIPES == ("study", "paper")
    assert recipe_config("study", "resnet34") == TrainConfig(model="resnet34")
    paper = recipe_config("paper", "resnet34")
    assert (paper.optimizer, paper.momentum, paper.batch_size, paper.epochs) == ("sgd", 0.9, 256, 60)
    assert paper.label_smoothing == 0.0
    study = AugmentConfig()
    # Mirror, rotation, blur and brightness as in the study; shift, zoom and erasing switched off.
    assert (paper.augment.mirror_probability, paper.augment.max_rotation_degrees, paper.augment.blur_probability,
            paper.augment.max_brightness_delta) == (study.mirror_probability, study.max_rotation_degrees,
                                                    study.blur_probability, study.max_brightness_delta)
    assert (paper.augment.max_shift_fraction, paper.augment.min_scale, paper.augment.max_scale,
            paper.augment.erase_probability) == (0.0, 1.0, 1.0, 0.0)
    with pytest.raises(ConfigurationError, match="unknown recipe 'vgg': use one of study, paper"):
        recipe_config("vgg", "resnet34")


def test_sgd_trains_with_momentum_and_the_recipe_is_recorded(tmp_path, splits):
    result = train_model(tiny_config(optimizer="sgd", momentum=0.9, learning_rate=0.05, weight_decay=5e-4),
                         *splits[:2], run_dir=tmp_path, verbose=0)
    recipe = json.loads((tmp_path / "recipe.json").read_text())
    assert (recipe["optimizer"], recipe["momentum"]) == ("sgd", 0.9)
    model = keras.saving.load_model(result.best_model, compile=False)
    assert np.isfinite(model.predict(splits[1][0][:4, ..., None].astype("float32"), verbose=0)).all()
    # The SGD run differs from the AdamW run of the same seed: the optimizer is really used.
    adamw = train_model(tiny_config(), *splits[:2], run_dir=tmp_path / "adamw", verbose=0)
    assert read_history(result.history)[-1]["loss"] != read_history(adamw.history)[-1]["loss"]


def test_an_unknown_optimizer_is_refused_before_the_run_folder_is_made(tmp_path, splits):
    with pytest.raises(ConfigurationError, match="unknown optimizer 'rmsprop': use one of adamw, sgd"):
        train_model(tiny_config(optimizer="rmsprop"), *splits[:2], run_dir=tmp_path / "run", verbose=0)
    assert not (tmp_path / "run").exists()


def test_a_run_folder_from_before_the_optimizer_fields_still_resumes(tmp_path):
    from emotion.classify.run_folder import check_same_recipe

    stored = tiny_config().as_dict()
    del stored["optimizer"], stored["momentum"]
    (tmp_path / "recipe.json").write_text(json.dumps(stored))
    check_same_recipe(tmp_path, tiny_config())  # read as the defaults: the same recipe
    with pytest.raises(ConfigurationError, match="differs in: optimizer"):
        check_same_recipe(tmp_path, tiny_config(optimizer="sgd"))


def test_a_warm_start_begins_from_the_given_model_and_adds_its_training_time(tmp_path, finished_run, splits,
                                                                           monkeypatch):
    import hashlib

    import emotion.paths

    parent = tmp_path / "parent.keras"
    parent.write_bytes(finished_run.best_model.read_bytes())
    (tmp_path / "results").mkdir()
    (tmp_path / "results" / "03_train_parent.json").write_text(
        json.dumps({"training_cpu_minutes": 100.0, "training_wall_minutes": 60.0}))
    monkeypatch.setattr(emotion.paths, "RESULTS_DIR", tmp_path / "results")
    # At learning rate 0 nothing trainable moves: the weights after the epoch are the parent's, not a fresh draw.
    result = train_model(tiny_config(epochs=1, learning_rate=0.0, init_from=str(parent)), *splits,
                         run_dir=tmp_path / "run", verbose=0)
    trained = keras.saving.load_model(result.best_model, compile=False)
    source = keras.saving.load_model(parent, compile=False)
    for ours, theirs in zip(trained.trainable_weights, source.trainable_weights):
        np.testing.assert_array_equal(ours.numpy(), theirs.numpy())
    warm = result.summary["warm_start"]
    assert warm["sha256"] == hashlib.sha256(parent.read_bytes()).hexdigest()
    assert (warm["parent_results"], warm["parent_training_cpu_minutes"]) == ("03_train_parent.json", 100.0)
    assert result.summary["cumulative_training_cpu_minutes"] == pytest.approx(
        100.0 + result.summary["training_cpu_minutes"])
    assert result.summary["cumulative_training_wall_minutes"] == pytest.approx(
        60.0 + result.summary["training_wall_minutes"])
    assert json.loads((result.run_dir / "recipe.json").read_text())["init_from"] == str(parent)

    # A fresh start from the same seed does not give the parent's weights.
    fresh = train_model(tiny_config(epochs=1, learning_rate=0.0), *splits[:2], run_dir=tmp_path / "fresh", verbose=0)
    fresh_weights = keras.saving.load_model(fresh.best_model, compile=False).trainable_weights
    assert not all(np.array_equal(a.numpy(), b.numpy()) for a, b in zip(fresh_weights, source.trainable_weights))

    # The parent changed under a run folder that started from it: resuming is refused.
    parent.write_bytes(parent.read_bytes() + b"\0")
    with pytest.raises(ConfigurationError, match="SHA-256"):
        train_model(tiny_config(epochs=1, learning_rate=0.0, init_from=str(parent)), *splits[:2],
                    run_dir=tmp_path / "run", verbose=0)


def test_a_warm_start_from_a_missing_file_or_another_architecture_is_refused(tmp_path, finished_run, splits):
    from emotion.errors import ModelFileError

    with pytest.raises(ModelFileError, match="no such file"):
        train_model(tiny_config(init_from=str(tmp_path / "absent.keras")), *splits[:2], run_dir=tmp_path / "a",
                    verbose=0)
    wider = tiny_config(init_from=str(finished_run.best_model), model_options={**TINY, "dense_units": 16})
    with pytest.raises(ConfigurationError, match="do not match"):
        train_model(wider, *splits[:2], run_dir=tmp_path / "b", verbose=0)


def test_a_release_name_resolves_to_its_architecture(tmp_path):
    from emotion.classify.input_benchmark import architecture_of
    from emotion.provenance import write_results

    write_results(tmp_path / "03_train_wide_cycle2.json", {"model": "wide_crop_cnn"}, mode="full", seed=0)
    assert architecture_of("basic_cnn", tmp_path) == "basic_cnn"
    assert architecture_of("wide_cycle2", tmp_path) == "wide_crop_cnn"
    with pytest.raises(ConfigurationError, match="neither an architecture"):
        architecture_of("nothing", tmp_path)
