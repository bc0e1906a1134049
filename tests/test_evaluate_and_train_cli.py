"""Evaluation: the metrics, flip test-time augmentation, `python -m emotion evaluate` on good and bad input, and
`python -m emotion train`'s checks of its options."""

import json

import keras
import numpy as np
import pytest

from emotion import CLASS_NAMES
from emotion.app.cli import main
from emotion.classify.evaluate import (
    TENCROP_SHIFT,
    classification_metrics,
    evaluate_file,
    predict_probabilities,
    shifted,
)
from emotion.classify.models import build_model
from emotion.data.fer2013 import ChecksumMismatchWarning, load_fer2013
from emotion.errors import ConfigurationError


@pytest.fixture(scope="module")
def tiny_model_path(tmp_path_factory):
    path = tmp_path_factory.mktemp("model") / "tiny.keras"
    build_model("basic_cnn", block_filters=(4,), dense_units=8).save(path)
    return path


def test_metrics_on_known_predictions():
    labels = np.array([0, 0, 1, 3, 3, 3])
    predictions = np.array([0, 1, 1, 3, 3, 0])
    metrics = classification_metrics(labels, predictions)
    assert metrics["n"] == 6
    assert metrics["accuracy"] == pytest.approx(4 / 6)
    assert metrics["per_class"]["angry"] == {"precision": 0.5, "recall": 0.5, "f1": 0.5, "support": 2}
    assert metrics["per_class"]["happy"]["recall"] == pytest.approx(2 / 3)
    # Macro-F1 averages all seven classes, absent ones counting 0: (0.5 + 2/3 + 0.8) / 7.
    assert metrics["macro_f1"] == pytest.approx((0.5 + 2 / 3 + 0.8) / 7)
    assert np.array(metrics["confusion_matrix"]).sum() == 6


def test_the_study_metrics_agree_with_scikit_learn_including_absent_classes():
    from sklearn.metrics import confusion_matrix, f1_score, precision_recall_fscore_support

    rng = np.random.default_rng(3)
    labels, predictions = rng.integers(0, 6, 500), rng.integers(1, 7, 500)  # class 0 never predicted, 6 never true
    metrics = classification_metrics(labels, predictions)
    precision, recall, f1, support = precision_recall_fscore_support(labels, predictions, labels=range(7),
                                                                     zero_division=0)
    assert [row["precision"] for row in metrics["per_class"].values()] == pytest.approx(precision)
    assert [row["recall"] for row in metrics["per_class"].values()] == pytest.approx(recall)
    assert [row["f1"] for row in metrics["per_class"].values()] == pytest.approx(f1)
    assert [row["support"] for row in metrics["per_class"].values()] == list(support)
    assert metrics["macro_f1"] == pytest.approx(f1_score(labels, predictions, labels=range(7), average="macro",
                                                         zero_division=0))
    assert metrics["confusion_matrix"] == confusion_matrix(labels, predictions, labels=range(7)).tolist()


def test_flip_tta_averages_an_image_and_its_mirror(tiny_model_path):
    model = keras.saving.load_model(tiny_model_path, compile=False)
    images = np.random.default_rng(0).integers(0, 256, (5, 48, 48)).astype(np.uint8)
    plain = predict_probabilities(model, images)
    mirrored = predict_probabilities(model, images[:, :, ::-1])
    np.testing.assert_allclose(predict_probabilities(model, images, tta=True), (plain + mirrored) / 2, atol=1e-6)
    assert plain.shape == (5, 7) and plain.dtype == np.float32


def test_shifted_moves_the_content_and_repeats_the_edge():
    images = np.arange(2 * 6 * 6).reshape(2, 6, 6, 1)
    down_right = shifted(images, 2, 1)
    np.testing.assert_array_equal(down_right[:, 2:, 1:], images[:, :-2, :-1])
    np.testing.assert_array_equal(down_right[:, :2, 1:], np.repeat(images[:, :1, :-1], 2, axis=1))
    np.testing.assert_array_equal(shifted(images, -1, 0)[:, :-1], images[:, 1:])
    assert shifted(images, 0, 0) is images


def test_tencrop_tta_averages_five_shifted_views_and_their_mirrors(tiny_model_path):
    model = keras.saving.load_model(tiny_model_path, compile=False)
    images = np.random.default_rng(2).integers(0, 256, (4, 48, 48, 1)).astype(np.float32)
    views = [shifted(images, dy, dx) for dy, dx in
             [(0, 0)] + [(sy * TENCROP_SHIFT, sx * TENCROP_SHIFT) for sy in (1, -1) for sx in (1, -1)]]
    expected = np.mean([predict_probabilities(model, view[:, :, ::mirror]) for view in views for mirror in (1, -1)],
                       axis=0)
    np.testing.assert_allclose(predict_probabilities(model, images, tta="tencrop"), expected, atol=1e-6)
    with pytest.raises(ConfigurationError, match="unknown test-time augmentation 'sevencrop'"):
        predict_probabilities(model, images, tta="sevencrop")


def test_tencrop_of_crop_cnn_is_the_four_corner_and_centre_40x40_crops():
    model = build_model("crop_cnn", block_filters=(4,), dense_units=8)
    images = np.random.default_rng(3).integers(0, 256, (2, 48, 48, 1)).astype(np.float32)
    crop_model = keras.Model(model.input, model.get_layer("center_crop").output)
    # Shifting the content down-right by 4 px puts the original's top-left 40x40 in the centre window.
    np.testing.assert_allclose(np.asarray(crop_model(shifted(images, 4, 4))) * 255, images[:, :40, :40], atol=1e-3)
    np.testing.assert_allclose(np.asarray(crop_model(shifted(images, -4, -4))) * 255, images[:, 8:, 8:], atol=1e-3)


def test_evaluate_file_scores_a_saved_model_on_a_split(small_fer, tiny_model_path):
    with pytest.warns(ChecksumMismatchWarning, match="not byte-identical"):  # a file the test wrote, not Kaggle's
        data = load_fer2013(small_fer[0], cache_dir=None)
    result = evaluate_file(tiny_model_path, "PrivateTest", data=data)
    assert result["n"] == 3 and result["split"] == "PrivateTest"
    assert set(result["per_class"]) == set(CLASS_NAMES)
    images, labels = data.split("PrivateTest")
    predicted = np.argmax(np.asarray(keras.saving.load_model(tiny_model_path, compile=False)(
        images[..., None].astype(np.float32))), axis=1)
    assert result["accuracy"] == pytest.approx(float(np.mean(predicted == labels)))
    assert result["per_class"][CLASS_NAMES[labels[0]]]["support"] == int(np.sum(labels == labels[0]))


def test_cli_evaluate_prints_one_json_object(small_fer, tiny_model_path, monkeypatch, capsys):
    with pytest.warns(ChecksumMismatchWarning, match="not byte-identical"):
        data = load_fer2013(small_fer[0], cache_dir=None)
    monkeypatch.setattr("emotion.data.fer2013.load_fer2013", lambda: data)
    assert main(["evaluate", "--model", str(tiny_model_path), "--split", "PublicTest", "--tta"]) == 0
    result = json.loads(capsys.readouterr().out)
    assert {"accuracy", "macro_f1", "n", "per_class", "tta"} <= set(result)
    assert result["tta"] is True and result["tta_mode"] == "flip" and result["n"] == 3
    assert set(result["per_class"]["happy"]) == {"precision", "recall", "f1", "support"}


@pytest.mark.parametrize(
    ("make_arguments", "message"),
    [
        (lambda tmp, good: ["--model", str(tmp / "missing.keras")], "does not exist"),
        (lambda tmp, good: ["--model", str(good), "--split", "Validation"], "unknown split 'Validation'"),
        (lambda tmp, good: ["--model", str(tmp / "notes.txt")], "ending in .keras"),
        (lambda tmp, good: ["--model", str(tmp / "broken.keras")], "could not be loaded as a Keras model"),
    ],
    ids=["missing", "unknown-split", "not-keras-suffix", "not-a-model"],
)
def test_cli_evaluate_reports_bad_input_in_one_line_and_exits_1(tmp_path, tiny_model_path, capsys,
                                                               make_arguments, message):
    (tmp_path / "notes.txt").write_text("hello")
    (tmp_path / "broken.keras").write_text("not a zip archive")
    assert main(["evaluate", *make_arguments(tmp_path, tiny_model_path)]) == 1
    captured = capsys.readouterr()
    assert captured.err.startswith("error: ") and message in captured.err
    assert "Traceback" not in captured.err and captured.out == ""


@pytest.mark.parametrize(
    ("arguments", "message"),
    [
        (["--model", "vgg16"], "unknown model 'vgg16': use one of basic_cnn"),
        (["--model", "basic_cnn", "--release", "--limit", "10"], "--release needs the whole of FER2013"),
        (["--model", "vgg16", "--recipe", "paper"], "unknown model 'vgg16': use one of basic_cnn"),
    ],
    ids=["unknown-model", "release-with-limit", "unknown-model-paper-recipe"],
)
def test_cli_train_rejects_bad_options_before_loading_data(arguments, message, capsys):
    assert main(["train", *arguments]) == 1
    captured = capsys.readouterr()
    assert captured.err.startswith("error: ") and message in captured.err


def test_cli_recipe_choices_are_the_recipes_of_the_training_code(capsys):
    from emotion.classify.recipes import RECIPES

    with pytest.raises(SystemExit) as stopped:
        main(["train", "--model", "resnet34", "--recipe", "nonsense"])
    assert stopped.value.code == 2
    assert "choose from " + ", ".join(f"'{name}'" for name in RECIPES) in capsys.readouterr().err


def test_cli_train_builds_the_paper_recipe_and_lets_options_override_it():
    from dataclasses import replace

    from emotion.app.cli import build_parser
    from emotion.app.commands.classify import train_config
    from emotion.classify.recipes import recipe_config

    arguments = build_parser().parse_args(["train", "--model", "resnet34", "--recipe", "paper", "--epochs", "20"])
    assert train_config(arguments) == replace(recipe_config("paper", "resnet34"), epochs=20)
    default = build_parser().parse_args(["train", "--model", "resnet34"])
    assert train_config(default) == recipe_config("study", "resnet34")


def test_probabilities_by_tta_equal_each_mode_of_predict_probabilities(tiny_model_path):
    from emotion.classify.evaluate import probabilities_by_tta

    model = keras.saving.load_model(tiny_model_path, compile=False)
    images = np.random.default_rng(3).integers(0, 256, (6, 48, 48)).astype(np.uint8)
    by_mode = probabilities_by_tta(model, images)
    for mode in ("none", "flip", "tencrop"):
        np.testing.assert_allclose(by_mode[mode], predict_probabilities(model, images, tta=mode), atol=1e-6)


class _FixedModel:
    """A stand-in model whose output depends only on whether a view is mirrored (its left half brighter)."""

    def __init__(self, plain_class, mirrored_class):
        self.plain_class, self.mirrored_class = plain_class, mirrored_class

    def predict(self, views, batch_size=None, verbose=0):
        mirrored = views[:, :, :24].mean(axis=(1, 2, 3)) < views[:, :, 24:].mean(axis=(1, 2, 3))
        output = np.full((len(views), 7), 0.01, np.float32)
        output[~mirrored, self.plain_class] = 0.6
        output[mirrored, self.mirrored_class] = 0.9
        return output


def test_choose_tta_picks_the_best_selection_mode_and_scores_the_test_split_once_with_it():
    from emotion.classify.evaluate import choose_tta

    images = np.zeros((4, 48, 48), np.uint8)
    images[:, :, :24] = 200  # the unmirrored view is bright on the left
    # Plain views say class 0, mirrored ones class 3 with more confidence: flip (and ten-crop) predict class 3.
    model = _FixedModel(plain_class=0, mirrored_class=3)
    outcome = choose_tta(model, (images, np.full(4, 3)), (images, np.full(4, 0)))
    assert outcome["selection_accuracy"] == {"none": 0.0, "flip": 1.0, "tencrop": 1.0}
    assert outcome["chosen"] == "flip"  # tied with ten-crop, and cheaper
    assert outcome["test"]["tta_mode"] == "flip" and outcome["test"]["accuracy"] == 0.0
    assert outcome["test_predictions"].tolist() == [3, 3, 3, 3]
    assert choose_tta(model, (images, np.full(4, 0)), (images, np.full(4, 0)))["chosen"] == "none"


def test_the_tflite_forward_pass_gives_the_keras_numbers_also_from_several_threads(tiny_model_path):
    from concurrent.futures import ThreadPoolExecutor

    from emotion.classify.evaluate import forward_function, tflite_forward

    model = keras.saving.load_model(tiny_model_path, compile=False)
    lite, compiled = tflite_forward(model), forward_function(model)
    rng = np.random.default_rng(5)
    batches = [rng.integers(0, 256, (n, 48, 48)).astype(np.uint8) for n in (1, 3, 2, 3, 1, 4)]
    for batch in batches:
        np.testing.assert_allclose(lite(batch), compiled(batch), atol=1e-5)
    with ThreadPoolExecutor(4) as pool:  # batch sizes change between calls from different threads
        for batch, result in zip(batches * 3, pool.map(lite, batches * 3)):
            np.testing.assert_allclose(result, compiled(batch), atol=1e-5)
    assert lite(np.zeros((0, 48, 48), np.uint8)).shape == (0, 7)
    with pytest.raises(ValueError, match="images must be"):
        lite(np.zeros((2, 40, 40), np.uint8))


def test_predictions_are_stored_as_digits_and_read_back():
    import numpy as np

    from emotion.classify.evaluate import decode_predictions, encode_predictions
    from emotion.errors import DataFormatError

    classes = np.array([0, 6, 3, 3, 1])
    assert encode_predictions(classes) == "06331"
    np.testing.assert_array_equal(decode_predictions("06331"), classes)
    with pytest.raises(ValueError, match="0-9"):
        encode_predictions(np.array([1, 12]))
    for bad in ("06a31", "", None):
        with pytest.raises(DataFormatError, match="string of digits"):
            decode_predictions(bad)


def test_skip_released_skips_a_run_whose_results_file_holds_its_recipe_and_refuses_another(tmp_path):
    from dataclasses import replace

    from emotion.app.commands.classify import released_run_note
    from emotion.classify.recipes import recipe_config
    from emotion.classify.release import released_results

    config = recipe_config("study", "basic_cnn")
    path = released_results("run", ablation=True, results_dir=tmp_path)
    assert path == tmp_path / "03_ablation_run.json"
    assert released_results("run", ablation=False, results_dir=tmp_path) == tmp_path / "03_train_run.json"
    assert released_run_note(config, "run", path) is None
    path.write_text(json.dumps({"recipe": json.loads(json.dumps(config.as_dict()))}))
    status, message = released_run_note(config, "run", path)
    assert status == 0 and "skipped" in message
    status, message = released_run_note(replace(config, epochs=7), "run", path)
    assert status == 2 and "differs in: epochs" in message
    path.write_text("[]")
    status, message = released_run_note(config, "run", path)
    assert status == 2 and "not a training results file" in message


def test_skip_released_needs_release(capsys):
    assert main(["train", "--model", "basic_cnn", "--skip-released"]) == 2
    assert "add --release" in capsys.readouterr().err


def test_every_queued_run_with_a_committed_release_is_skipped_on_a_fresh_machine():
    """Each `train ... --skip-released` line of the Makefile whose results file is committed has that file's
    recipe, so `make budgets`/`stems`/`experiments` on a fresh clone retrains nothing already released."""
    import shlex

    from emotion.app.cli import build_parser
    from emotion.app.commands.classify import released_run_note, train_config
    from emotion.classify.release import released_results
    from emotion.paths import PROJECT_ROOT, RESULTS_DIR

    makefile = (PROJECT_ROOT / "Makefile").read_text()
    variables = dict(line.split(" = ", 1) for line in makefile.splitlines()
                     if " = " in line and line.split(" = ", 1)[0].isupper())
    # The experiment runs (ablations and K-fold); `make train` retrains the released models on purpose.
    lines = [line.strip() for line in makefile.splitlines()
             if "emotion kfold " in line or ("emotion train " in line and ("--ablation" in line or "$(EXPERIMENT)"
                                                                            in line))]
    assert len(lines) >= 10 and all("--skip-released" in line or "$(EXPERIMENT)" in line for line in lines)
    assert "--skip-released" in variables["EXPERIMENT"]
    committed = 0
    for line in lines:
        for name, value in variables.items():
            line = line.replace(f"$({name})", value)
        words = shlex.split(line.replace("$(SEED)", "0"))
        command = "train" if "train" in words else "kfold"
        arguments = build_parser().parse_args(words[words.index(command):])
        if command == "train":
            name = arguments.name or arguments.model
            path = released_results(name, ablation=arguments.ablation, results_dir=RESULTS_DIR)
        else:
            name = arguments.name or f"{arguments.model}_{arguments.folds}fold"
            path = RESULTS_DIR / f"03_kfold_{name}.json"
        note = released_run_note(train_config(arguments), name, path)
        if note is not None:
            committed += 1
            assert note[0] == 0, note[1]
    assert committed >= 1


def test_cli_kfold_prints_its_numbers_and_leaves_the_stored_predictions_to_the_file(monkeypatch, capsys):
    outcome = {"recipe": {"model": "basic_cnn"}, "folds": 2, "optimizer_steps": 900,
               "ensemble_privatetest": {"accuracy": 0.5, "predictions": "0123"}, "fold_privatetest_predictions":
               ["0000", "1111"]}
    seen = {}

    def kfold_fer2013(config, *, folds, name, run_dir):
        seen.update(model=config.model, epochs=config.epochs, folds=folds, name=name)
        return outcome

    monkeypatch.setattr("emotion.classify.kfold.kfold_fer2013", kfold_fer2013)
    assert main(["kfold", "--model", "basic_cnn", "--epochs", "3", "--folds", "2", "--name", "k2"]) == 0
    assert seen == {"model": "basic_cnn", "epochs": 3, "folds": 2, "name": "k2"}
    printed = json.loads(capsys.readouterr().out)
    assert printed == {"folds": 2, "optimizer_steps": 900, "ensemble_privatetest": {"accuracy": 0.5}}
    assert outcome["ensemble_privatetest"]["predictions"] == "0123"  # the payload written to the file keeps them
