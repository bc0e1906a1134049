"""Notebook 02's sentences follow their rules on numbers the tests make up: each claim appears only when the numbers
support it, and the numbers it states are the ones given."""

from __future__ import annotations

import pytest

from emotion.faces import detection_prose as prose
from emotion.faces.detection_metrics import PUBLISHED_AP, PUBLISHED_AP_TOLERANCE

LABELS = {"haar": "Viola-Jones", "dlib_hog": "dlib HOG", "dlib_cnn": "dlib CNN", "mtcnn": "MTCNN", "yunet": "YuNet"}


def recall_table(heights, pose=(0.5, 0.2), occlusion=(0.5, 0.3, 0.1), faces=100):
    """A :func:`emotion.faces.detection_metrics.recall_table` with the given recalls: heights for <16, 16-32, 32-64,
    64-128, >=128; pose (typical, atypical); occlusion (none, partial, heavy); ``faces`` in every group."""
    bins = ("<16", "16-32", "32-64", "64-128", ">=128")
    return {"height": {bin_: {"recall": value, "faces": faces} for bin_, value in zip(bins, heights)},
            "small": {"<32": {"recall": (heights[0] + heights[1]) / 2, "faces": 2 * faces}},
            "pose": {label: {"recall": value, "faces": faces} for label, value in zip(("typical", "atypical"), pose)},
            "occlusion": {label: {"recall": value, "faces": faces}
                          for label, value in zip(("none", "partial", "heavy"), occlusion)}}


def test_published_ap_is_cited_easy_medium_hard():
    assert prose.published_ap_text() == "MTCNN 0.851/0.820/0.607, YuNet 0.884/0.866/0.750"


def test_published_gaps_are_marked_within_or_outside_the_tolerance():
    assert PUBLISHED_AP_TOLERANCE == 0.05
    text = prose.describe_published_gaps({"easy": 0.012, "medium": -0.05, "hard": -0.081})
    assert text == "+0.012 (easy, within ±0.05), -0.050 (medium, within ±0.05), -0.081 (hard, outside ±0.05)"


def test_reference_check_supports_the_protocol_only_within_tolerance():
    close = prose.describe_reference_check("YuNet", {"easy": 0.01, "medium": -0.03, "hard": 0.02})
    assert close.startswith("YuNet's own AP lands within 0.030 ") and "supports the protocol" in close
    far = prose.describe_reference_check("YuNet", {"easy": 0.01, "medium": -0.07, "hard": 0.02})
    assert "differs from its published values by up to 0.070" in far and "supports" not in far


def test_the_partial_detector_is_ranked_on_the_common_images_with_the_others_order_checked():
    common = {"yunet": {"easy": 0.9, "hard": 0.8}, "haar": {"easy": 0.39, "hard": 0.3},
              "dlib_cnn": {"easy": 0.4, "hard": 0.1}}
    order = {"hard": ["yunet", "haar"], "easy": ["yunet", "haar"]}
    text = prose.describe_partial_detector("dlib_cnn", common, 30, order, LABELS)
    assert text.startswith("dlib CNN ran on the first 30 images only")
    assert "its Hard AP, 0.100, ranks 3 of 3 (below every other detector's)" in text
    assert "its Easy AP, 0.400, ranks 2 of 3 (above Viola-Jones's 0.390 and below the rest)" in text
    assert text.endswith("on them the others keep their order.")
    swapped = prose.describe_partial_detector("dlib_cnn", common, 30, {"hard": ["haar", "yunet"],
                                                                       "easy": ["yunet", "haar"]}, LABELS)
    assert swapped.endswith("the others' order differs from the one on all images at Hard.")


def test_the_accuracy_paragraph_ranks_each_level_by_its_own_ap():
    ap = {"haar": {"easy": 0.5, "medium": 0.4, "hard": 0.3}, "mtcnn": {"easy": 0.4, "medium": 0.5, "hard": 0.6}}
    text = prose.accuracy_paragraph(ap, ap, {"haar": 0.31, "mtcnn": 0.65}, {"easy": 10, "medium": 20, "hard": 1500},
                                    {"haar": 700, "mtcnn": 700}, LABELS)
    assert "1,500 Hard faces), Hard AP ranks MTCNN 0.600, Viola-Jones 0.300; Easy AP ranks Viola-Jones 0.500, " \
           "MTCNN 0.400." in text
    assert "ran on the first" not in text and "highest Hard recall reached is MTCNN 0.65, Viola-Jones 0.31" in text


def test_a_shortfall_below_the_published_ap_names_the_recall_cap_and_the_share_of_box_placement():
    text = prose.describe_level_shortfall("easy", 0.786, 0.851, 0.823, 0.814)
    assert "reaches only 82.3% of the Easy faces, less than the published AP of 0.851" in text
    assert "raises AP by 0.028 to 0.814, within ±0.05 of the published value" in text
    assert "account for 43% of the 0.065 gap, missed faces for the rest." in text
    uncapped = prose.describe_level_shortfall("easy", 0.7, 0.851, 0.9, 0.7)
    assert "so recall alone does not stop it" in uncapped and "box placement is not it" in uncapped
    far = prose.describe_level_shortfall("medium", 0.6, 0.82, 0.7, 0.65)
    assert "still 0.170 below the published value" in far
    assert prose.describe_level_shortfall("hard", 0.7, 0.607, 0.8, 0.72) == "At Hard our AP is above the published one."


def test_the_loose_match_gains_are_the_numbers_the_shortfall_sentence_states():
    gains = prose.loose_match_gains({"easy": 0.786, "hard": 0.7}, {"easy": 0.851, "hard": 0.607},
                                    {"easy": 0.814, "hard": 0.72})
    assert gains["easy"] == pytest.approx({"shortfall": 0.065, "gain_at_loose_match": 0.028,
                                           "share_of_shortfall": 0.028 / 0.065})
    assert gains["hard"]["share_of_shortfall"] == 0.0 and gains["hard"]["shortfall"] == pytest.approx(-0.093)
    assert prose.loose_match_gains({"easy": 0.5}, {"easy": 0.6}, {"easy": 0.9})["easy"]["share_of_shortfall"] == 1.0


def test_easy_misses_are_called_more_only_where_recall_is_below_the_overall_one():
    by = {"mtcnn": {"pose": {0: 0.9, 1: 0.45}, "occlusion": {2: 0.34}, "blur": {2: 0.57}},
          "yunet": {"pose": {1: 0.7}, "occlusion": {2: 0.61}, "blur": {2: 0.78}}}
    text = prose.describe_easy_misses(by, {"mtcnn": 0.82, "yunet": 0.91}, LABELS)
    assert text.startswith("MTCNN misses more of the Easy faces that are turned, occluded or blurred: ")
    assert "45% of atypical-pose, 34% of heavily occluded and 57% of heavily blurred Easy faces, against 82%" in text
    assert text.endswith("(YuNet: 70%, 61%, 78% against 91%).")
    blur_only = prose.describe_easy_misses({"mtcnn": {"pose": {1: 0.9}, "occlusion": {2: 0.85}, "blur": {2: 0.5}}},
                                           {"mtcnn": 0.82}, LABELS)
    assert blur_only.startswith("MTCNN misses more of the heavily blurred Easy faces than of all Easy faces")
    none = prose.describe_easy_misses({"mtcnn": {"pose": {}, "occlusion": {2: 0.9}, "blur": {2: 0.9}}},
                                      {"mtcnn": 0.82}, LABELS)
    assert "misses no more" in none and "n/a of atypical-pose" in none


def test_hard_limits_bound_recall_by_the_share_below_the_pyramid_and_say_where_the_score_tail_matters():
    ap = {"easy": 0.786, "medium": 0.770, "hard": 0.611}
    text = prose.describe_hard_limits(14, 0.105, 0.645, ap, {"easy": 0.762, "medium": 0.723, "hard": 0.539}, 0.8)
    assert "10.5% of the Hard faces here are shorter: at most 10.5 of the 35.5 points of Hard recall" in text
    assert "matter most at Hard" in text
    assert "0.762 instead of 0.786 at Easy and 0.723 instead of 0.770 at Medium" in text
    assert "matter less at Hard" in prose.describe_hard_limits(14, 0.1, 0.6, ap, {"easy": 0.5, "medium": 0.75,
                                                                                   "hard": 0.6}, 0.8)


def mtcnn_gap(average_precision, reference_gaps):
    return prose.mtcnn_gap_paragraph(
        average_precision, {"easy": 0.823, "medium": 0.80, "hard": 0.645}, {"easy": 0.814, "medium": 0.8, "hard": 0.62},
        {"easy": 0.76, "medium": 0.72, "hard": 0.54}, 0.8, 14, 0.105, 700, (0.6, 0.5, 0.3),
        {"mtcnn": {"pose": {1: 0.45}, "occlusion": {2: 0.34}, "blur": {2: 0.57}}}, {"mtcnn": 0.82}, LABELS,
        reference_gaps)


def test_the_mtcnn_paragraph_blames_the_re_port_only_when_the_reference_agrees_and_mtcnn_does_not():
    published = PUBLISHED_AP["mtcnn"]
    short = {"easy": published["easy"] - 0.065, "medium": published["medium"] - 0.04, "hard": published["hard"]}
    text = mtcnn_gap(short, {"easy": 0.0, "medium": 0.003, "hard": -0.005})
    assert "(easy, outside ±0.05)" in text and "At Easy, even with every detection kept" in text
    assert "so of the two the re-port is the likelier cause of MTCNN's Easy gap" in text
    assert "thresholds 0.6/0.5/0.3" in text
    assert "likelier cause" not in mtcnn_gap(short, {"easy": 0.0, "medium": 0.08, "hard": 0.0})
    assert "likelier cause" not in mtcnn_gap(short, None) and "YuNet's own AP" not in mtcnn_gap(short, None)
    agreeing = mtcnn_gap(dict(published), {"easy": 0.0, "medium": 0.0, "hard": 0.0})
    assert "every level agrees within the tolerance" in agreeing and "At Easy" not in agreeing


def test_size_is_first_order_only_when_its_gap_beats_pose_and_occlusion_for_every_detector():
    big = recall_table((0.0, 0.1, 0.4, 0.5, 0.8), pose=(0.3, 0.1), occlusion=(0.4, 0.2, 0.1))
    text = prose.describe_size_effect({"haar": big, "mtcnn": big}, LABELS)
    assert text.startswith("Recall rises with face height for every detector: at 128 px and taller it is "
                           "Viola-Jones 80%, MTCNN 80%; under 32 px Viola-Jones 5%, MTCNN 5%.")
    assert "Size is the first-order effect" in text
    posed = recall_table((0.3, 0.3, 0.4, 0.35, 0.4), pose=(0.6, 0.0))
    mixed = prose.describe_size_effect({"haar": big, "mtcnn": posed}, LABELS)
    assert "Size is the largest effect for Viola-Jones; for MTCNN pose or occlusion weighs as much or more." in mixed
    assert "Recall does not rise steadily with face height for MTCNN: " in mixed and "first-order" not in mixed
    assert "For no detector is size the largest effect" in prose.describe_size_effect({"mtcnn": posed}, LABELS)


def test_tiny_faces_are_below_every_window_only_when_no_detector_finds_them():
    found = prose.describe_tiny_faces({"haar": recall_table((0.0, 0.1, 0.4, 0.5, 0.8)),
                                       "mtcnn": recall_table((0.108, 0.45, 0.7, 0.78, 0.83))}, 0.27, LABELS)
    assert found.startswith("27% of the valid faces here are under 16 px high. MTCNN finds 10.8% of them; "
                            "Viola-Jones finds none (recall at most 1%)")
    assert "smallest window" not in found and "finds at most 73% of all valid faces" in found
    none = prose.describe_tiny_faces({"haar": recall_table((0.0, 0.1, 0.4, 0.5, 0.8)),
                                      "mtcnn": recall_table((0.005, 0.45, 0.7, 0.78, 0.83))}, 0.27, LABELS)
    assert "no detector finds them (recall at most 1% each: Viola-Jones 0.0%, MTCNN 0.5%)" in none
    assert "below every detector's smallest window" in none
    empty = recall_table((0.0, 0.1, 0.4, 0.5, 0.8))
    empty["height"]["<16"]["faces"] = 0
    assert prose.describe_tiny_faces({"haar": empty}, 0.0, LABELS) == "No valid face here is under 16 px high."


def test_box_shape_matters_only_when_the_loose_match_moves_recall_by_the_threshold():
    strict = {"haar": 0.215, "dlib_cnn": 0.148, "yunet": 0.218}
    barely = prose.describe_loose_match(strict, {"haar": 0.225, "dlib_cnn": 0.166, "yunet": 0.218}, LABELS)
    assert barely.startswith("Loosening the match to IoU >= 0.3 barely changes overall recall: the largest change is "
                             "dlib CNN's +1.8 points (14.8% to 16.6%), under the 3 points")
    assert "matters" not in barely
    matters = prose.describe_loose_match(strict, {"haar": 0.26, "dlib_cnn": 0.166, "yunet": 0.218}, LABELS)
    assert matters.startswith("Box shape matters for Viola-Jones: ") and "Viola-Jones 21.5% to 26.0%" in matters
    assert prose.RECALL_CHANGE_POINTS == 3.0
    assert "matters for" in prose.describe_loose_match(strict, {"haar": 0.245, "dlib_cnn": 0.148, "yunet": 0.218},
                                                       LABELS)


def test_the_default_score_sentence_names_the_raised_detectors_and_how_little_the_others_move():
    text = prose.describe_default_score({"haar": 0.215, "mtcnn": 0.484, "yunet": 0.218},
                                        {"haar": 0.215, "mtcnn": 0.573, "yunet": 0.704},
                                        {"haar": float("-inf"), "mtcnn": 0.8, "yunet": 0.9}, LABELS)
    assert text == ("Keeping every detection of the study settings instead of only those at the library's default "
                    "score raises overall recall for YuNet from 22% to 70% (+48.6 points), MTCNN from 48% to 57% (+8.9 "
                    "points); it changes the overall recall of Viola-Jones by +0.0 points (its default keeps every "
                    "detection), under 3 points.")
    quiet = prose.describe_default_score({"mtcnn": 0.5}, {"mtcnn": 0.52}, {"mtcnn": 0.8}, LABELS)
    assert quiet.endswith("changes the overall recall of MTCNN by +2.0 points, under 3 points.")


def test_strict_default_names_the_detector_best_by_ap_but_not_by_default_recall():
    ap = {"yunet": {"easy": 0.9, "hard": 0.7}, "mtcnn": {"easy": 0.8, "hard": 0.6}}
    scores = {"yunet": 0.9, "mtcnn": 0.8}
    text = prose.describe_strict_default(ap, {"yunet": 0.218, "mtcnn": 0.484}, scores, LABELS)
    assert text == (" YuNet's out-of-the-box 0.9 is strict on these images: its AP ranks first at every level while "
                    "its default-score recall, 22%, does not.")
    assert prose.describe_strict_default(ap, {"yunet": 0.5, "mtcnn": 0.484}, scores, LABELS) == ""
    mixed = {"yunet": {"easy": 0.9, "hard": 0.5}, "mtcnn": {"easy": 0.8, "hard": 0.6}}
    assert prose.describe_strict_default(mixed, {"yunet": 0.2, "mtcnn": 0.484}, scores, LABELS) == ""


def test_the_misses_paragraph_states_the_faces_behind_a_detector_run_on_fewer_images():
    small = recall_table((0.0, 0.0, 0.0, 0.5, 0.8), faces=26)
    small["pose"]["atypical"]["faces"] = 6
    breakdown = {"mtcnn": recall_table((0.108, 0.45, 0.7, 0.78, 0.83)), "dlib_cnn": small}
    recall = {"mtcnn": 0.48, "dlib_cnn": 0.15}
    text = prose.misses_paragraph(breakdown, {"mtcnn": 0.53, "dlib_cnn": 0.13}, recall, recall, recall,
                                  {"mtcnn": {"easy": 0.8}, "dlib_cnn": {"easy": 0.4}}, {"mtcnn": 0.8, "dlib_cnn": 0.0},
                                  0.27, {"mtcnn": 700, "dlib_cnn": 30}, LABELS)
    assert text.startswith("**What this shows.** Recall rises with face height")
    assert "False positives per image at the default score: MTCNN 0.53, dlib CNN 0.13." in text
    assert text.endswith("dlib CNN's numbers come from its 30 images only: 130 valid faces, and as few as 6 in one "
                         "group (atypical pose), where one face moves its recall by 17 points.")
    small["pose"]["typical"]["faces"] = 0
    assert prose.describe_partial_counts("dlib_cnn", 2, small, LABELS).endswith(
        "130 valid faces, none of them typical pose (its recall there is n/a).")


def test_the_headline_rows_cite_the_published_ap_and_the_speed_conditions():
    ap = {"mtcnn": {"easy": 0.786, "medium": 0.770, "hard": 0.611}, "haar": {"easy": 0.4, "medium": 0.3, "hard": 0.2}}
    fps = {"package defaults (min face 20 px, 0.6/0.7/0.8)": 4.46, "min face 40 px, package thresholds": 6.16}
    rows = prose.headline_entries(ap, {"mtcnn": 700, "haar": 700}, fps, 3, 2, 1.07, LABELS)
    assert rows == [
        {"quantity": "MTCNN AP Easy / Medium / Hard", "value": "0.786 / 0.770 / 0.611",
         "split": "WIDER FACE val subset, 700 images",
         "protocol": "official WIDER evaluation on the subset; published (full val) MTCNN 0.851/0.820/0.607, "
                     "YuNet 0.884/0.866/0.750"},
        {"quantity": "MTCNN frames/s at 640x480 (package defaults; min face 40 px)", "value": "4.5; 6.2",
         "split": "3 resized WIDER images", "protocol": "median of one-image calls, 2 CPU cores, load 1.1"}]
