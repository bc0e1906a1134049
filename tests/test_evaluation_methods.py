"""Uncertainty, calibration, CK+ loading and Grad-CAM on inputs built here (the evaluation methods of notebook 06)."""

from __future__ import annotations

import numpy as np
import pytest

from emotion import CLASS_NAMES
from emotion.analysis.calibration import (
    apply_temperature,
    expected_calibration_error,
    fit_temperature,
    reliability_bins,
)
from emotion.classify.evaluate import accuracy, macro_f1
from emotion.classify.significance import bootstrap_interval, mcnemar
from emotion.errors import DataFormatError, DataMissingError


def test_bootstrap_interval_brackets_the_estimate_and_narrows_with_more_data():
    rng = np.random.default_rng(0)
    labels = rng.integers(0, 7, 4000)
    predictions = np.where(rng.random(4000) < 0.6, labels, (labels + 1) % 7)
    wide = bootstrap_interval(labels[:200], predictions[:200], accuracy, resamples=500)
    narrow = bootstrap_interval(labels, predictions, accuracy, resamples=500)
    assert wide["low"] < wide["estimate"] < wide["high"]
    assert narrow["low"] < 0.6 < narrow["high"]
    assert narrow["high"] - narrow["low"] < wide["high"] - wide["low"]
    with pytest.raises(ValueError, match="one length"):
        bootstrap_interval(labels, predictions[:5], accuracy)


def test_macro_f1_matches_scikit_learn():
    from sklearn.metrics import f1_score

    rng = np.random.default_rng(1)
    labels, predictions = rng.integers(0, 7, 300), rng.integers(0, 6, 300)
    expected = f1_score(labels, predictions, labels=list(range(7)), average="macro", zero_division=0)
    assert macro_f1(labels, predictions) == pytest.approx(expected)


def test_mcnemar_counts_discordant_pairs():
    labels = np.zeros(40, dtype=int)
    a = np.zeros(40, dtype=int)
    b = np.zeros(40, dtype=int)
    b[:15] = 1  # B wrong on 15 images where A is right
    a[30:32] = 1  # A wrong on 2 where B is right
    result = mcnemar(labels, a, b)
    assert (result["a_only"], result["b_only"]) == (15, 2)
    assert result["p_value"] < 0.01
    assert mcnemar(labels, a, a)["p_value"] == 1.0


def test_the_sign_test_is_mcnemars_on_right_or_wrong_and_weighs_a_group_image_by_image():
    from emotion.classify.significance import paired_sign_test

    labels, a, b = np.zeros(40, dtype=int), np.zeros(40, dtype=int), np.zeros(40, dtype=int)
    b[:15], a[30:32] = 1, 1
    single = paired_sign_test((a == labels).astype(float), (b == labels).astype(float))
    assert (single["a_better"], single["b_better"]) == (15, 2)
    assert single["p_value"] == pytest.approx(mcnemar(labels, a, b)["p_value"])
    # A group's share right against one model: ties (equal scores) are left out, the rest is a fair-coin test.
    group = paired_sign_test([1.0, 2 / 3, 1 / 3, 0.0, 0.5], [1.0, 0.0, 1.0, 0.0, 0.0])
    assert (group["a_better"], group["b_better"], group["p_value"]) == (2, 1, 1.0)
    assert group["mean_a"] == pytest.approx(0.5) and group["mean_b"] == pytest.approx(0.4)
    assert paired_sign_test([1.0, 0.0], [1.0, 0.0])["p_value"] == 1.0
    with pytest.raises(ValueError, match="one length"):
        paired_sign_test([1.0, 0.0], [1.0])


def test_the_two_proportion_test_agrees_with_the_chi_square_test_of_the_two_by_two_table():
    from scipy.stats import chi2_contingency

    from emotion.classify.significance import two_proportion_test

    result = two_proportion_test(0.60, 100, 0.50, 100)
    expected = chi2_contingency([[60, 40], [50, 50]], correction=False)
    assert result["p_value"] == pytest.approx(expected.pvalue)
    assert result["z"] == pytest.approx(expected.statistic ** 0.5)
    assert two_proportion_test(0.50, 100, 0.60, 100)["z"] == pytest.approx(-result["z"])
    assert two_proportion_test(1.0, 10, 1.0, 20) == {"z": 0.0, "p_value": 1.0, "accuracy_a": 1.0, "accuracy_b": 1.0}
    # More images make the same difference significant.
    assert two_proportion_test(0.60, 1000, 0.50, 1000)["p_value"] < 0.05 < result["p_value"]
    for bad in ((1.2, 100, 0.5, 100), (0.6, 0, 0.5, 100)):
        with pytest.raises(ValueError, match="accuracies must be in"):
            two_proportion_test(*bad)


def test_calibration_of_a_perfectly_calibrated_and_an_overconfident_model():
    rng = np.random.default_rng(2)
    n = 20000
    confidence = rng.uniform(0.3, 1.0, n)
    labels = np.zeros(n, dtype=int)
    correct = rng.random(n) < confidence
    top = np.where(correct, 0, 1)
    probabilities = np.zeros((n, 7))
    probabilities[np.arange(n), top] = confidence
    probabilities[np.arange(n), np.where(top == 0, 2, 0)] += 1 - confidence
    assert expected_calibration_error(probabilities, labels) < 0.02
    overconfident = apply_temperature(probabilities, 0.3)
    assert expected_calibration_error(overconfident, labels) > 0.1
    temperature = fit_temperature(overconfident, labels)
    repaired = apply_temperature(overconfident, temperature)
    assert expected_calibration_error(repaired, labels) < expected_calibration_error(overconfident, labels)
    np.testing.assert_array_equal(repaired.argmax(axis=1), overconfident.argmax(axis=1))
    table = reliability_bins(probabilities, labels, bins=10)
    assert table["count"].sum() == n and np.isnan(table["accuracy"][0])


def test_calibration_rejects_bad_shapes():
    with pytest.raises(ValueError, match="probabilities must be"):
        expected_calibration_error(np.ones((3, 7)) / 7, np.zeros(4, dtype=int))
    with pytest.raises(ValueError, match="temperature"):
        apply_temperature(np.ones((1, 7)) / 7, 0)


def write_ckplus(folder, rows, image=None):
    import cv2

    image = np.full((48, 48), 128, np.uint8) if image is None else image
    lines = ["path,label,subject"]
    for label, subject, name in rows:
        path = folder / "images" / label / name
        path.parent.mkdir(parents=True, exist_ok=True)
        cv2.imwrite(str(path), image)
        lines.append(f"images/{label}/{name},{label},{subject}")
    (folder / "labels.csv").write_text("\n".join(lines) + "\n")


def test_ckplus_maps_labels_and_drops_contempt(tmp_path):
    from emotion.data.cohn_kanade import load_ckplus

    write_ckplus(tmp_path, [("anger", "S010", "a.png"), ("contempt", "S011", "c.png"), ("sadness", "S012", "s.png")])
    data = load_ckplus(tmp_path)
    assert data.images.shape == (2, 48, 48) and data.images.dtype == np.uint8
    assert [CLASS_NAMES[i] for i in data.labels] == ["angry", "sad"]
    assert list(data.subjects) == ["S010", "S012"] and data.dropped == {"contempt": 1}


def test_ckplus_errors_name_the_file(tmp_path):
    from emotion.data.cohn_kanade import load_ckplus

    with pytest.raises(DataMissingError, match="CK\\+48 not found"):
        load_ckplus(tmp_path / "absent")
    write_ckplus(tmp_path, [("joy", "S010", "a.png")])
    with pytest.raises(DataFormatError, match="line 2: unknown label 'joy'"):
        load_ckplus(tmp_path)
    write_ckplus(tmp_path, [("happy", "S010", "big.png")], image=np.zeros((64, 64), np.uint8))
    with pytest.raises(DataFormatError, match="expected a 48x48 8-bit grayscale"):
        load_ckplus(tmp_path)
    (tmp_path / "images" / "happy" / "big.png").write_bytes(b"broken")
    with pytest.raises(DataFormatError, match="missing or not a readable image"):
        load_ckplus(tmp_path)


def test_ckplus_real_data_counts(real_data_root):
    from emotion.data.cohn_kanade import load_ckplus

    data = load_ckplus(real_data_root / "ckplus48")
    assert len(data.labels) == 981 - 54 and data.dropped == {"contempt": 54}
    assert len(set(data.subjects)) <= 118
    assert np.bincount(data.labels, minlength=7)[CLASS_NAMES.index("surprise")] == 249


def test_grad_cam_follows_the_features_the_class_score_uses():
    import keras

    from emotion.analysis.saliency import grad_cam, last_spatial_layer

    # Two identical feature channels (copies of the image); only channel 0 feeds the logits, with weight
    # (k - 3) / 100 for class k: class 6 rises with it, class 0 falls with it.
    inputs = keras.Input((48, 48, 1))
    features = keras.layers.Conv2D(2, 1, use_bias=False, kernel_initializer="ones", name="features")(inputs)
    pooled = keras.layers.GlobalAveragePooling2D()(features)
    kernel = np.zeros((2, 7), np.float32)
    kernel[0] = (np.arange(7) - 3) / 100
    dense = keras.layers.Dense(7, activation="softmax")
    model = keras.Model(inputs, dense(pooled))
    dense.set_weights([kernel, np.zeros(7, np.float32)])
    assert last_spatial_layer(model) == "features"
    images = np.zeros((2, 48, 48), np.uint8)
    images[:, :20, :20] = 200
    rising = grad_cam(model, images, class_ids=np.array([6, 6]))
    assert rising.shape == (2, 48, 48) and rising.dtype == np.float32
    assert rising[:, 2:18, 2:18].min() > 0.9 and rising[:, 30:, 30:].max() == 0.0
    falling = grad_cam(model, images, class_ids=np.array([0, 0]))
    assert falling.max() == 0.0
    with pytest.raises(ValueError, match="class_ids"):
        grad_cam(model, images, class_ids=np.array([1]))


def test_most_confused_pairs_and_subset_accuracy():
    from emotion.analysis.error_analysis import examples_of, most_confused_pairs, subset_accuracy

    confusion = np.eye(7, dtype=int) * 10
    confusion[2, 4] = 6  # fear -> sad: 6 of 16
    confusion[0, 6] = 1  # angry -> neutral: 1 of 11
    pairs = most_confused_pairs(confusion, top=2)
    assert (pairs[0]["true"], pairs[0]["predicted"], pairs[0]["count"]) == ("fear", "sad", 6)
    assert pairs[0]["share_of_true"] == pytest.approx(6 / 16)
    assert (pairs[1]["true"], pairs[1]["predicted"]) == ("angry", "neutral")
    labels = np.array([0, 0, 1, 1])
    predictions = np.array([0, 1, 1, 1])
    table = subset_accuracy(labels, predictions, {"all": np.ones(4, bool), "first": np.array([1, 1, 0, 0], bool),
                                                  "none": np.zeros(4, bool)})
    assert table["all"]["accuracy"] == 0.75 and table["first"] == {"n": 2, "accuracy": 0.5}
    assert table["none"] == {"n": 0, "accuracy": None}
    np.testing.assert_array_equal(examples_of(labels, predictions, 0, 1), [1])


def test_evaluation_figures_render(tmp_path):
    from emotion.analysis.calibration import reliability_bins
    from emotion.figures.evaluation_plots import image_rows, interval_plot, reliability_diagram, saliency_grid
    from emotion.figures.plots import save_figure

    rng = np.random.default_rng(0)
    probabilities = rng.dirichlet(np.ones(7), 200)
    labels = rng.integers(0, 7, 200)
    table = reliability_bins(probabilities, labels)
    figures = [
        reliability_diagram({"raw": table}, {"raw": 0.1}),
        saliency_grid(rng.integers(0, 255, (3, 48, 48), dtype=np.uint8), rng.random((3, 48, 48)), ["a", "b", "c"]),
        image_rows([("fear as sad", rng.integers(0, 255, (2, 48, 48), dtype=np.uint8))]),
        interval_plot({"cnn": {"estimate": 0.6, "low": 0.58, "high": 0.62}}, "accuracy", 0.6286, "paper"),
    ]
    reliability, saliency, rows, intervals = figures
    legend = [text.get_text() for text in reliability.axes[0].get_legend().get_texts()]
    assert legend == ["perfect calibration", "raw (ECE 0.100)"] and len(reliability.axes[0].lines) == 2
    assert [axis.get_title() for axis in saliency.axes[:3]] == ["a", "b", "c"]
    assert [len(axis.images) for axis in saliency.axes[:3]] == [2, 2, 2]  # each face with its map over it
    assert rows.axes[0].get_ylabel() == "fear as sad" and [len(axis.images) for axis in rows.axes[:2]] == [1, 1]
    axis = intervals.axes[0]
    assert [label.get_text() for label in axis.get_yticklabels()] == ["cnn"]
    assert [text.get_text() for text in axis.get_legend().get_texts()] == ["paper"]
    paper_line = [line for line in axis.lines if line.get_label() == "paper"][0]
    assert paper_line.get_xdata()[0] == pytest.approx(0.6286)
    import matplotlib.pyplot as plt
    from PIL import Image

    from emotion.figures.plots import FIGURE_DPI

    for index, figure in enumerate(figures):
        # Cropped to what is drawn (plus matplotlib's padding), at the study's resolution, in a folder it creates.
        figure.set_dpi(FIGURE_DPI)
        drawn = figure.get_tightbbox(figure.canvas.get_renderer()).padded(plt.rcParams["savefig.pad_inches"])
        path = save_figure(figure, tmp_path / "new" / f"{index}.png")
        assert path == tmp_path / "new" / f"{index}.png"
        with Image.open(path) as image:
            assert image.format == "PNG" and tuple(round(value) for value in image.info["dpi"]) == (FIGURE_DPI,) * 2
            assert image.size == pytest.approx((drawn.width * FIGURE_DPI, drawn.height * FIGURE_DPI), abs=1)


def test_photo_detection_recall_and_least_confident():
    import pandas as pd

    from emotion.analysis.error_analysis import least_confident, photo_detection_recall
    from emotion.app.pipeline import FacePrediction

    annotations = pd.DataFrame({"image": ["a.jpg", "a.jpg", "a.jpg", "b.jpg"], "x": [0, 100, 200, 0],
                                "y": [0, 0, 0, 0], "w": [40, 40, 10, 50], "h": [40, 40, 10, 50],
                                "invalid": [0, 0, 0, 1]})
    result = photo_detection_recall(["a.jpg", "b.jpg"], [np.array([[1, 1, 40, 40], [300, 300, 5, 5]]),
                                                         np.zeros((0, 4))], annotations)
    assert (result["annotated_faces"], result["found"], result["recall"]) == (2, 1, 0.5)  # 10 px and invalid skipped

    def face(emotion, top):
        return FacePrediction(box=(0, 0, 1, 1), detector_score=1.0, emotion=emotion,
                              probabilities={name: (top if name == emotion else 0.0) for name in CLASS_NAMES})

    ranked = least_confident([[face("happy", 0.9), face("sad", 0.3)], [face("fear", 0.5)]], count=2)
    assert [(score, index) for score, index, _ in ranked] == [(0.3, 0), (0.5, 1)]


def test_saliency_maps_are_gradient_times_activation_of_the_class_logit_as_computed_by_hand():
    import keras

    from emotion.analysis.saliency import grad_cam

    inputs = keras.Input((48, 48, 1))
    features = keras.layers.Conv2D(2, 3, padding="same", name="features")(inputs)
    flat = keras.layers.Flatten()(features)
    model = keras.Model(inputs, keras.layers.Dense(7, activation="softmax")(flat))
    # Centre taps +1 and -1: the two feature channels are the image x and -x.
    kernel = np.zeros((3, 3, 1, 2), np.float32)
    kernel[1, 1, 0] = [1.0, -1.0]
    model.get_layer("features").set_weights([kernel, np.zeros(2, np.float32)])
    rng = np.random.default_rng(0)
    weights = rng.normal(0.0, 0.01, (48, 48, 2, 7)).astype(np.float32)
    weights[:, :, 0] += 0.02  # the x channel counts for every class on average, so Grad-CAM's map is not empty
    model.layers[-1].set_weights([weights.reshape(-1, 7), np.zeros(7, np.float32)])
    images = rng.integers(0, 255, (4, 48, 48), dtype=np.uint8)
    images[3] = 0  # a black face: nothing to attribute, an all-zero map
    activations = np.stack([images, -images.astype(np.float64)], axis=-1)  # (4, 48, 48, 2)
    predicted = np.argmax(activations.reshape(4, -1) @ weights.reshape(-1, 7), axis=1)

    def by_hand(method):
        maps = []
        for activation, class_id in zip(activations, predicted):
            gradient = weights[..., class_id]  # of the pre-softmax logit with respect to each activation
            if method == "gradcam":
                gradient = gradient.mean(axis=(0, 1), keepdims=True)
            cam = np.maximum((gradient * activation).sum(axis=-1), 0.0)
            maps.append(cam / cam.max() if cam.max() > 0 else cam)
        return np.array(maps)

    for method in ("hirescam", "gradcam"):
        np.testing.assert_allclose(grad_cam(model, images, method=method), by_hand(method), atol=1e-5)
    # With channel-averaged gradients the map is the image itself, scaled to [0, 1].
    np.testing.assert_allclose(grad_cam(model, images[:3], method="gradcam"),
                               images[:3] / images[:3].max(axis=(1, 2), keepdims=True), atol=1e-5)
    with pytest.raises(ValueError, match="unknown method"):
        grad_cam(model, images, method="lime")


def test_wilsons_interval_matches_the_bootstrap_on_a_test_split_of_fer2013s_size():
    from emotion.classify.evaluate import accuracy
    from emotion.classify.significance import bootstrap_interval, wilson_interval

    rng = np.random.default_rng(3)
    labels = rng.integers(0, 7, 3589)
    predictions = np.where(rng.random(3589) < 0.65, labels, (labels + 1) % 7)
    wilson = wilson_interval(accuracy(labels, predictions), 3589)
    bootstrap = bootstrap_interval(labels, predictions, accuracy, resamples=2000, seed=0)
    assert wilson["low"] < wilson["estimate"] < wilson["high"] and wilson["method"] == "wilson"
    assert abs(wilson["low"] - bootstrap["low"]) < 0.002 and abs(wilson["high"] - bootstrap["high"]) < 0.002
    edge = wilson_interval(1.0, 10)  # stays inside [0, 1] where the normal approximation would not
    assert edge["high"] == pytest.approx(1.0) and 0.65 < edge["low"] < 0.75
    with pytest.raises(ValueError, match="at least 1 image"):
        wilson_interval(0.5, 0)
