"""The sentences notebook 02 prints about the detectors' speed (:mod:`emotion.faces.speed_prose`), each at the
numbers that flip its wording."""

from __future__ import annotations

import pytest

from emotion.faces import speed_prose as speed

LABELS = {"haar": "Viola-Jones", "dlib_hog": "dlib HOG", "dlib_cnn": "dlib CNN", "mtcnn": "MTCNN", "yunet": "YuNet"}


def test_batching_is_faster_slower_or_no_clear_difference_and_shrinking_only_when_it_falls_with_size():
    rows = {"320x240": {"speedup": 1.61, "batched_images_per_second": 10.4, "loop_images_per_second": 6.47},
            "640x480": {"speedup": 0.94, "batched_images_per_second": 3.17, "loop_images_per_second": 3.36}}
    text = speed.describe_batching(rows)
    assert text.startswith("Batching MTCNN gives 1.61x at 320x240 (10.4 vs 6.5 images/s), faster; 0.94x at 640x480 "
                           "(3.2 vs 3.4 images/s), no clear difference (within ±10% of 1x). The speed-up shrinks")
    rows["640x480"]["speedup"] = 0.8
    assert "), slower. The speed-up shrinks" in speed.describe_batching(rows)
    rows["640x480"]["speedup"] = 1.7
    assert speed.describe_batching(rows).endswith("images/s), faster.")
    fast = {"320x240": {"speedup": 2.5, "batched_images_per_second": 10.0, "loop_images_per_second": 4.0}}
    assert "At least 2x at every size" in speed.describe_batching(fast)


def test_the_load_sentence_says_when_other_work_shared_the_cpu():
    assert speed.describe_load(0.4, 1.1, 2) == "Load average during the benchmark: 0.4 before, 1.1 after, on 2 cores."
    assert speed.describe_load(0.4, 2.6, 2).endswith("other work shared the CPU, so absolute times are pessimistic; "
                                                     "ratios between detectors are fairer.")


def test_a_settings_step_measures_a_setting_only_when_it_changes_alone():
    variants = {"study settings (min face 14 px)": {"settings": {"min_face_size": 14, "threshold_onet": 0.3},
                                                    "fps": 3.1},
                "package defaults (min face 20 px)": {"settings": {"min_face_size": 20, "threshold_onet": 0.8},
                                                      "fps": 4.5},
                "min face 40 px": {"settings": {"min_face_size": 40, "threshold_onet": 0.8}, "fps": 6.2}}
    text = speed.describe_settings_steps(variants)
    assert ("From 'study settings' to 'package defaults' (3.1 to 4.5 fps, 1.45x) `min_face_size` and "
            "`threshold_onet` change together, so that step does not say which of them matters.") in text
    assert text.endswith("From 'package defaults' to 'min face 40 px' (4.5 to 6.2 fps, 1.38x) only `min_face_size` "
                         "changes (20 to 40): the pyramid loses its largest, most expensive levels.")
    variants["min face 40 px"]["fps"] = 4.0
    assert speed.describe_settings_steps(variants).endswith("only `min_face_size` changes (20 to 40).")


def test_the_speed_paragraph_states_the_spread_of_the_calls():
    text = speed.speed_paragraph(
        {"dlib_cnn": {"median_ms": 2423.0, "p90_ms": 2530.7}, "yunet": {"median_ms": 11.3, "p90_ms": 11.6}},
        {"study (x)": {"settings": {"min_face_size": 14}, "median_ms": 327.1, "p90_ms": 342.3}}, 16,
        "the paper reports", {"320x240": {"speedup": 1.0, "batched_images_per_second": 4.0,
                                          "loop_images_per_second": 4.0}}, 2, 1.0, 1.1, LABELS)
    assert text.startswith("**What this shows.** At 640x480, one image at a time, median (p90) per image: dlib CNN "
                           "2,423 ms (2,531), YuNet 11 ms (12). MTCNN at 640x480 reaches 3.1 fps (2.9 at the p90 "
                           "call) with study (x), against the 16 fps the paper reports.")
    assert text.endswith("on 2 cores.")


@pytest.mark.parametrize(("loads", "expected"), [
    ({"yunet": 5.74, "haar": 4.96, "dlib_hog": 6.32}, "by up to 1.3x (if time grows in proportion to the load per "
                                                      "core), less than the smallest margin above (4.7x): the front "
                                                      "does not depend on it."),
    ({"yunet": 2.0, "haar": 12.0, "dlib_hog": 1.0}, "as much as the smallest margin above (4.7x): on a quiet machine "
                                                    "the front could differ."),
    ({"yunet": 1.0, "haar": 1.5, "dlib_hog": 0.5}, "no more runnable work than cores, so the times are not inflated"),
    ({"yunet": None, "haar": None, "dlib_hog": None}, "was not recorded"),
])
def test_the_pareto_paragraph_names_each_dominated_detector_and_whether_the_load_could_move_the_front(loads, expected):
    text = speed.speed_accuracy_paragraph(
        {"yunet": 101.0, "haar": 475.0, "dlib_hog": 512.0}, {"yunet": 0.745, "haar": 0.217, "dlib_hog": 0.254},
        ["yunet"], loads, 2, {"yunet": 700, "haar": 700, "dlib_hog": 30},
        {"yunet": 0.843, "haar": 0.278, "dlib_hog": 0.339}, LABELS)
    assert "(the Pareto front) are: YuNet (101 ms, Hard AP 0.745)." in text
    assert "Viola-Jones (475 ms, 0.217: 4.7x YuNet's time)" in text
    assert "dlib HOG (512 ms, 0.254: 5.1x YuNet's time; its AP is on its 30 images, where YuNet's is 0.843)" in text
    assert expected in text
