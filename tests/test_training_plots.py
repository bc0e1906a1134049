"""The training figures: built from small inputs, titled and labelled, never shown."""

import matplotlib

matplotlib.use("Agg")

import numpy as np
import pandas as pd
import pytest
from matplotlib.text import Text

from emotion import CLASS_NAMES
from emotion.figures import plots


def test_training_curves_mark_the_chosen_epoch():
    history = pd.DataFrame({"epoch": [1, 2, 3], "loss": [2.0, 1.5, 1.2], "val_loss": [1.9, 1.6, 1.7],
                            "accuracy": [0.3, 0.45, 0.5], "val_accuracy": [0.35, 0.48, 0.46],
                            "train_images_per_second": [110.0, 120.0, 118.0]})
    figure = plots.training_curves(history, chosen_epoch=2, title="tiny")
    loss_axis, accuracy_axis, speed_axis = figure.axes
    assert accuracy_axis.get_ylabel() == "accuracy" and speed_axis.get_ylabel() == "images per second"
    chosen_lines = [line for line in accuracy_axis.get_lines() if "chosen epoch (2)" in line.get_label()]
    assert len(chosen_lines) == 1 and chosen_lines[0].get_xdata()[0] == 2


def test_confusion_heatmap_rows_are_shares_of_the_true_class():
    matrix = np.diag([10, 1, 2, 3, 4, 5, 6])
    matrix[0, 3] = 10
    figure = plots.confusion_heatmap(matrix, "tiny")
    texts = [text.get_text() for text in figure.axes[0].texts]
    assert texts[0] == "0.50" and texts[3] == "0.50"
    assert [label.get_text() for label in figure.axes[0].get_yticklabels()] == list(CLASS_NAMES)


def test_augmentation_grid_has_a_row_per_augmentation_and_the_original_first():
    face = np.zeros((48, 48), np.uint8)
    figure = plots.augmentation_grid({"mirror": np.zeros((2, 48, 48), np.uint8),
                                      "blur": np.zeros((2, 48, 48), np.uint8)}, face)
    assert len(figure.axes) == 2 * 3
    assert figure.axes[0].get_title() == "original" and figure.axes[3].get_ylabel() == "blur"


def test_accuracy_vs_compute_draws_a_point_per_model_and_the_papers_line():
    table = pd.DataFrame({"training_cpu_minutes": [50.0, 120.0], "privatetest_accuracy": [0.6, 0.62],
                          "epochs": [14, 10], "paper_accuracy": [0.5, float("nan")]}, index=["basic_cnn", "resnet18"])
    figure = plots.accuracy_vs_compute(table)
    axis = figure.axes[0]
    assert len(axis.collections) == 2
    assert [text.get_text() for text in axis.get_legend().get_texts()] == ["paper's basic_cnn: 50.00%"]
    assert axis.get_xlabel() == "training CPU-minutes"


def test_accuracy_vs_compute_draws_budget_curves_published_anchors_and_the_budget():
    table = pd.DataFrame({"training_cpu_minutes": [50.0], "privatetest_accuracy": [0.6], "epochs": [14],
                          "paper_accuracy": [float("nan")]}, index=["basic_cnn"])
    curve = pd.DataFrame({"cpu_hours": [0.9, 1.8, 3.9], "privatetest_accuracy": [0.55, 0.62, 0.66]})
    figure = plots.accuracy_vs_compute(table, curves={"wide": curve}, anchors={"VGG": 0.727},
                                       budget_cpu_minutes=360.0)
    axis = figure.axes[0]
    line = next(line for line in axis.get_lines() if line.get_label().startswith("wide"))
    assert list(line.get_xdata()) == [54.0, 108.0, 234.0] and list(line.get_ydata()) == [0.55, 0.62, 0.66]
    labels = [text.get_text() for text in axis.get_legend().get_texts()]
    assert "published: VGG, 72.7%" in labels and "budget: 6 CPU-h" in labels
    assert axis.get_xlim()[1] >= 360.0  # the budget line is inside the axis


def test_accuracy_vs_compute_draws_each_budget_curves_runs_at_the_quiet_price_where_all_have_one():
    table = pd.DataFrame({"training_cpu_minutes": [50.0], "quiet_cpu_minutes": [40.0], "privatetest_accuracy": [0.6],
                          "epochs": [14], "paper_accuracy": [float("nan")]}, index=["basic_cnn"])
    priced = pd.DataFrame({"epochs": [14, 30], "cpu_hours": [0.9, 5.5], "quiet_cpu_hours": [1.9, 4.1],
                           "privatetest_accuracy": [0.636, 0.672]})
    unpriced = priced.assign(quiet_cpu_hours=[1.9, float("nan")])
    axis = plots.accuracy_vs_compute(table, cost_column="quiet_cpu_minutes",
                                     budget_runs={"a": priced, "b": unpriced}).axes[0]
    lines = {line.get_label(): line for line in axis.get_lines()}
    quiet = lines["a: one run per epoch budget (14, 30 epochs; quiet price)"]
    assert list(quiet.get_xdata()) == pytest.approx([114.0, 246.0]) and list(quiet.get_ydata()) == [0.636, 0.672]
    recorded = lines["b: one run per epoch budget (14, 30 epochs; CPU as recorded)"]
    assert list(recorded.get_xdata()) == pytest.approx([54.0, 330.0])
    assert axis.get_xlim()[1] >= 330.0


def test_accuracy_vs_compute_draws_an_ensemble_as_a_star_and_keeps_labels_apart():
    table = pd.DataFrame({"training_cpu_minutes": [50.0, 52.0], "privatetest_accuracy": [0.600, 0.603],
                          "epochs": [14, 13], "paper_accuracy": [float("nan")] * 2}, index=["basic_cnn", "resnet18"])
    figure = plots.accuracy_vs_compute(table, ensembles={"pair": (600.0, 0.70)})
    axis = figure.axes[0]
    star = next(collection for collection in axis.collections if collection.get_label() == "ensemble pair")
    assert star.get_offsets().tolist() == [[600.0, 0.70]]
    assert axis.get_xlim()[1] >= 600.0 and axis.get_ylim()[1] > 0.70
    # Two points a hair apart: their labels do not overlap.
    figure.canvas.draw()
    renderer = figure.canvas.get_renderer()
    first, second = (Text.get_window_extent(text, renderer) for text in axis.texts)
    assert len(axis.texts) == 2 and not first.overlaps(second)


def test_accuracy_vs_compute_labels_overlap_neither_each_other_nor_other_points_and_stay_inside():
    names = [f"model_{index}" for index in range(8)]
    table = pd.DataFrame({"training_cpu_minutes": [100, 104, 108, 112, 300, 305, 520, 530],
                          "privatetest_accuracy": [0.60, 0.602, 0.598, 0.604, 0.65, 0.652, 0.70, 0.701],
                          "epochs": [10] * 8, "paper_accuracy": [float("nan")] * 8}, index=names)
    curve = pd.DataFrame({"cpu_hours": [1.6, 2.5, 5.0, 8.8], "privatetest_accuracy": [0.58, 0.62, 0.66, 0.70]})
    figure = plots.accuracy_vs_compute(table, curves={"lineage": curve})
    axis = figure.axes[0]
    figure.canvas.draw()
    renderer = figure.canvas.get_renderer()
    frame = axis.get_window_extent(renderer)
    boxes = {text.get_text().split(" ")[0]: Text.get_window_extent(text, renderer) for text in axis.texts}  # words
    assert sorted(boxes) == names
    points = dict(zip(names, axis.transData.transform(table[["training_cpu_minutes", "privatetest_accuracy"]])))
    for name, box in boxes.items():
        assert frame.x0 <= box.x0 and box.x1 <= frame.x1 and frame.y0 <= box.y0 and box.y1 <= frame.y1
        assert not any(box.overlaps(other) for other_name, other in boxes.items() if other_name != name)
        assert not any(box.contains(*point) for other_name, point in points.items() if other_name != name)
    # A label placed away from its point is tied to it by a leader line; one beside it is not.
    for text in axis.texts:
        assert (text.arrow_patch is not None) == (abs(text.xyann[1]) > 13)


def test_validation_curves_have_one_line_per_model():
    histories = {name: pd.DataFrame({"epoch": [1, 2], "val_accuracy": [0.4, 0.5]}) for name in ("a", "b")}
    figure = plots.validation_curves(histories)
    assert [line.get_label() for line in figure.axes[0].get_lines()] == ["a", "b"]


def test_budget_curves_draw_both_splits_per_model_at_the_budgets():
    curves = {"basic_cnn_30ep": pd.DataFrame({"model": ["basic_cnn"] * 2, "epochs": [14, 30],
                                              "publictest_accuracy": [0.63, 0.64],
                                              "privatetest_accuracy": [0.64, 0.65]}),
              "resnet18_26ep": pd.DataFrame({"model": ["resnet18"] * 2, "epochs": [13, 26],
                                             "publictest_accuracy": [0.62, 0.63],
                                             "privatetest_accuracy": [0.61, 0.62]})}
    figure = plots.budget_curves(curves)
    lines = figure.axes[0].get_lines()
    assert [line.get_label() for line in lines] == [
        "basic_cnn: PublicTest (chooses)", "basic_cnn: PrivateTest", "resnet18: PublicTest (chooses)",
        "resnet18: PrivateTest"]
    assert lines[0].get_xdata().tolist() == [14, 30] and lines[1].get_ydata().tolist() == [0.64, 0.65]
    assert [tick.get_text() for tick in figure.axes[0].get_xticklabels()] == ["13", "", "26", "30"]  # 14 too close


@pytest.mark.parametrize("values, labels", [
    ([5, 10, 13, 14, 26, 30, 60], ["5", "10", "13", "", "26", "30", "60"]),
    ([13, 14, 15, 16], ["13", "", "15", ""]),  # measured from the last labelled tick, not the last tick
    ([60], ["60"]), ([], []),
])
def test_budget_ticks_keep_only_labels_that_do_not_print_over_each_other(values, labels):
    assert plots.spaced_tick_labels(values) == labels


def test_a_warm_started_model_is_labelled_with_its_parent_s_epochs_and_its_own():
    table = pd.DataFrame({"training_cpu_minutes": [480.0, 600.0, 30.0], "privatetest_accuracy": [0.69, 0.70, 0.5],
                          "epochs": [45, 8, 3], "paper_accuracy": [float("nan")] * 3,
                          "warm_start_from": ["", "wide", "gone"]}, index=["wide", "wide_cycle2", "orphan"])
    labels = [text.get_text() for text in plots.accuracy_vs_compute(table).axes[0].texts]
    assert labels == ["wide (45 epochs)", "wide_cycle2 (45 + 8 epochs)", "orphan (3 epochs from gone)"]


def test_accuracy_vs_compute_draws_a_curve_with_a_missing_value_as_a_gap():
    table = pd.DataFrame({"training_cpu_minutes": [50.0], "privatetest_accuracy": [0.6], "epochs": [14],
                          "paper_accuracy": [float("nan")]}, index=["basic_cnn"])
    curve = pd.DataFrame({"cpu_hours": [0.9, 1.8, 3.9], "privatetest_accuracy": [0.58, float("nan"), 0.66]})
    axis = plots.accuracy_vs_compute(table, curves={"wide": curve}).axes[0]
    assert [text.get_text() for text in axis.texts] == ["basic_cnn (14 epochs)"]
