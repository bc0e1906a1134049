"""Notebook 02's figures draw what they say: a curve per detector and level, the Pareto front, one box per face."""

from __future__ import annotations

import matplotlib
import numpy as np
import pandas as pd
import pytest

matplotlib.use("Agg")

from emotion.data.wider_face import LEVELS  # noqa: E402
from emotion.faces.detection_metrics import HEIGHT_LABELS, LevelResult  # noqa: E402
from emotion.figures import detection_plots  # noqa: E402


def level_result(level, ap):
    return LevelResult(level, np.array([1.0, 0.8, 0.5]), np.array([0.1, 0.4, 0.6]), ap, 10)


def test_precision_recall_has_a_panel_per_level_and_the_ap_in_each_legend():
    results = {"mtcnn": {level: level_result(level, 0.7) for level in LEVELS},
               "haar": {level: level_result(level, 0.3) for level in LEVELS}}
    figure = detection_plots.precision_recall_curves(results, {"mtcnn": 700, "haar": 699})
    assert [axis.get_title() for axis in figure.axes] == ["Easy level", "Medium level", "Hard level"]
    legend = [text.get_text() for text in figure.axes[2].get_legend().get_texts()]
    assert legend == ["MTCNN: AP 0.700 (700 img)", "Viola-Jones (Haar): AP 0.300 (699 img)"]
    np.testing.assert_array_equal(figure.axes[0].lines[0].get_ydata(), [1.0, 0.8, 0.5])


def test_speed_accuracy_draws_the_pareto_front_of_the_hard_level():
    summary = pd.DataFrame({"detector": ["yunet", "haar", "mtcnn", "dlib_cnn"],
                            "ms_per_image_median": [9.0, 65.0, 229.0, 1518.0],
                            "ap_easy": [0.88, 0.41, 0.79, 0.41], "ap_hard": [0.745, 0.217, 0.611, 0.150]})
    figure = detection_plots.speed_accuracy(summary)
    front = [line for line in figure.axes[0].lines if line.get_label() == "Pareto front (AP hard)"]
    # YuNet is both fastest and best at Hard, so the front is that one point: nobody slower beats it.
    assert len(front) == 1 and list(front[0].get_ydata()) == [0.745]
    assert figure.axes[0].get_xscale() == "log"


def test_recall_breakdown_has_a_line_per_detector_over_every_height_bin():
    table = {"height": {bin_: {"recall": 0.1 * index, "faces": 5} for index, bin_ in enumerate(HEIGHT_LABELS)},
             "pose": {"typical": {"recall": 0.8, "faces": 9}, "atypical": {"recall": 0.2, "faces": 1}},
             "occlusion": {"none": {"recall": 0.7, "faces": 6}, "heavy": {"recall": 0.1, "faces": 4}}}
    figure = detection_plots.recall_breakdown({"mtcnn": table, "yunet": table})
    size, pose, occlusion = figure.axes
    assert len(size.lines) == 2 and list(size.lines[0].get_ydata()) == pytest.approx([0, 0.1, 0.2, 0.3, 0.4])
    assert [label.get_text() for label in pose.get_xticklabels()] == ["typical\n(9)", "atypical\n(1)"]
    assert len(occlusion.patches) == 4  # two categories x two detectors


def test_the_gallery_has_a_row_per_image_and_a_column_per_detector_with_every_box():
    image = np.zeros((300, 400, 3), np.uint8)
    faces = pd.DataFrame({"x": [50, 200], "y": [60, 80], "w": [40, 30], "h": [40, 30]})
    found = pd.DataFrame({"x": [52], "y": [61], "w": [38], "h": [41]})
    figure = detection_plots.detection_gallery([image, image], ["a", "b"], [faces, faces],
                                               {"mtcnn": [found, found], "haar": [found.iloc[:0], found]})
    assert len(figure.axes) == 4
    # two annotated faces + the detections drawn on each panel
    assert [len(axis.patches) for axis in figure.axes] == [3, 2, 3, 3]
