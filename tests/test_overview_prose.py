"""Notebook 01's sentences (emotion.data.overview_prose): each wording on both sides of the threshold that picks it,
and the committed results file stated as it is."""

from __future__ import annotations

import copy

import pytest

from emotion import CLASS_NAMES
from emotion.data import overview_prose
from emotion.data.overview_prose import (
    BRIGHTNESS_GAP_NOTABLE,
    FAR_FROM_BALANCED_RATIO,
    NEARLY_BALANCED_RATIO,
    NOISY_CLASS_AGREEMENT,
    RARE_CLASS_SHARE,
    SPLIT_SHARE_TOLERANCE,
)
from emotion.paths import RESULTS_DIR
from emotion.provenance import read_results


def counts(rows: dict[str, tuple[int, int, int]]) -> dict[str, dict[str, int]]:
    """``class_counts`` as the notebook writes it, from ``{class: (Training, PublicTest, PrivateTest)}``."""
    return {name: {"Training": t, "PublicTest": u, "PrivateTest": v, "total": t + u + v}
            for name, (t, u, v) in rows.items()}


def balance_results(rows: dict[str, tuple[int, int, int]], ratio: float | None = None) -> dict:
    class_counts = counts(rows)
    totals = {name: row["total"] for name, row in class_counts.items()}
    largest, smallest = max(totals, key=totals.get), min(totals, key=totals.get)
    return {"class_counts": class_counts,
            "imbalance": {"largest_class": largest, "smallest_class": smallest,
                          "largest_to_smallest_ratio": ratio or totals[largest] / totals[smallest]}}


EVEN = {"happy": (800, 100, 100), "disgust": (800, 100, 100)}


def test_the_balance_wording_follows_the_largest_to_smallest_ratio():
    far = overview_prose.describe_class_balance(balance_results(EVEN, FAR_FROM_BALANCED_RATIO))
    uneven = overview_prose.describe_class_balance(balance_results(EVEN, FAR_FROM_BALANCED_RATIO - 0.01))
    uneven_low = overview_prose.describe_class_balance(balance_results(EVEN, NEARLY_BALANCED_RATIO + 0.01))
    nearly = overview_prose.describe_class_balance(balance_results(EVEN, NEARLY_BALANCED_RATIO))
    assert "far from balanced" in far and "a ratio of 5.0 to 1" in far
    assert "unevenly spread" in uneven and "unevenly spread" in uneven_low
    assert "nearly balanced" in nearly
    assert nearly.startswith("2,000 images: Training 1,600, PublicTest 200, PrivateTest 200.")


def test_publictest_is_a_fair_place_to_choose_only_when_the_splits_share_their_class_mix():
    # happy is 50 % of Training and 50 % + gap of PrivateTest; PublicTest keeps 50 %.
    def with_gap(points: float) -> dict:
        extra = round(points * 10)  # PrivateTest has 1,000 images: 10 images are one point
        return balance_results({"happy": (500, 500, 500 + extra), "disgust": (500, 500, 500 - extra)})

    same = overview_prose.describe_class_balance(with_gap(SPLIT_SHARE_TOLERANCE * 100 - 0.1))
    different = overview_prose.describe_class_balance(with_gap(SPLIT_SHARE_TOLERANCE * 100 + 0.1))
    assert "nearly the same proportions" in same and "is 1.9 points" in same and "fair place" in same
    assert "proportions differ" in different and "by 2.1 points" in different and "fair place" not in different


def test_a_rare_class_is_named_with_what_ignoring_it_costs():
    def with_rare_share(images: int) -> dict:  # PrivateTest has 1,000 images
        return balance_results({"happy": (1000, 1000, 1000 - images), "disgust": (images, images, images)})

    rare = overview_prose.describe_class_balance(with_rare_share(round(RARE_CLASS_SHARE * 1000) - 1))
    common = overview_prose.describe_class_balance(with_rare_share(round(RARE_CLASS_SHARE * 1000)))
    assert "barely registers *disgust*" in rare and "at most 4.9 points of PrivateTest accuracy" in rare
    assert "barely registers" not in common and "holds 5.0% of PrivateTest" in common


def pixel_results(means: dict[str, float], images: dict[str, int] | None = None) -> dict:
    images = images or {name: 1 for name in means}
    return {"pixel_statistics": {name: {"images": images[name], "pixel_mean": mean} for name, mean in means.items()}}


def test_a_brightness_cue_is_named_from_its_threshold_and_augmentation_does_not_remove_it():
    notable = overview_prose.describe_pixel_statistics(pixel_results({"sad": 120.0, "surprise": 120.0
                                                                      + BRIGHTNESS_GAP_NOTABLE}))
    small = overview_prose.describe_pixel_statistics(pixel_results({"sad": 120.0, "surprise": 120.0
                                                                    + BRIGHTNESS_GAP_NOTABLE - 0.1}))
    assert "a cue a model could learn" in notable and "leaves the class means apart" in notable
    assert "removes" not in notable
    assert "too little between classes" in small and "cue a model could learn" not in small
    assert "from 120.0 (*sad*) to 130.0 (*surprise*), 10.0 grey levels apart" in notable


def test_the_overall_mean_weights_each_class_by_its_images():
    text = overview_prose.describe_pixel_statistics(pixel_results({"sad": 100.0, "happy": 200.0},
                                                                  {"sad": 3, "happy": 1}))
    assert "The mean pixel value is 125.0 of 255" in text


def duplicate_results(leaked: int = 5, conflicting: int = 2, blank: int = 1) -> dict:
    return {"file": {"rows": 1000},
            "duplicates": {"distinct_images": 990, "duplicate_groups": 8, "duplicate_rows": 18,
                           "cross_split_groups": 4, "cross_split_rows": 9, "conflicting_label_groups": conflicting,
                           "conflicting_label_rows": 2 * conflicting, "blank_images": blank,
                           "test_rows_with_copy_in_training": {"PublicTest": leaked, "PrivateTest": leaked}}}


def test_leakage_conflicts_and_blank_images_are_stated_only_when_there_are_any():
    full = overview_prose.describe_duplicates(duplicate_results())
    assert "5 PrivateTest rows and 5 PublicTest rows have an exact copy in Training" in full
    assert "by memory" in full and "2 groups (4 rows) give the same image different labels" in full
    assert "1 images are entirely black" in full
    clean = overview_prose.describe_duplicates(duplicate_results(leaked=0, conflicting=0, blank=0))
    assert "by memory" not in clean and "none of them puts a test row's copy in Training" in clean
    assert "different labels" not in clean and "black" not in clean


def ferplus_results(fear_agreement: float) -> dict:
    by_class = {name: 0.9 for name in CLASS_NAMES}
    by_class["fear"] = fear_agreement
    return {"file": {"rows": 1000},
            "ferplus": {"rows_with_majority_label": 900, "agreement_where_labelled": 0.68,
                        "agreement_where_labelled_by_split": {"Training": 0.68, "PublicTest": 0.67,
                                                              "PrivateTest": 0.674},
                        "agreement_by_fer2013_class": by_class}}


def test_ferplus_agreement_is_label_noise_and_never_a_cap_on_accuracy():
    noisy = overview_prose.describe_ferplus_agreement(ferplus_results(NOISY_CLASS_AGREEMENT - 0.001))
    confirmed = overview_prose.describe_ferplus_agreement(ferplus_results(NOISY_CLASS_AGREEMENT))
    assert "For *fear* the crowd majority gives another label" in noisy
    assert "gives another label" not in confirmed
    for text in (noisy, confirmed):
        assert "not a ceiling on accuracy" in text and "can score above it" in text
        assert "cap" not in text and "bound" not in text
        assert "(PrivateTest: 67.4%)" in text and "on PrivateTest 32.6% of the images" in text


def test_the_headline_rows_count_the_splits_from_the_class_counts():
    results = {**balance_results(EVEN), **duplicate_results(), **ferplus_results(0.4)}
    rows = overview_prose.headline_rows(results)
    assert rows[0]["quantity"] == "FER2013 rows (Training / PublicTest / PrivateTest)"
    assert rows[0]["value"] == "1,600 / 200 / 200" and rows[1]["value"] == "990; 18"
    assert rows[2]["value"] == 5 and rows[3]["value"] == 0.674


def test_the_committed_results_are_stated_as_they_are():
    path = RESULTS_DIR / "01_data_overview.json"
    if not path.is_file():
        pytest.skip(f"{path} does not exist: run notebook 01 in full mode")
    results = read_results(path)
    needed = {"class_counts", "imbalance", "pixel_statistics", "duplicates", "ferplus", "file"}
    if not needed <= set(results):
        pytest.skip(f"{path} lacks {sorted(needed - set(results))}: re-run notebook 01 in full mode")
    balance = overview_prose.describe_class_balance(copy.deepcopy(results))
    ratio = results["imbalance"]["largest_to_smallest_ratio"]
    assert f"a ratio of {ratio:.1f} to 1" in balance and f"{results['file']['rows']:,} images" in balance
    duplicates = overview_prose.describe_duplicates(results)
    assert f"{results['duplicates']['distinct_images']:,} distinct images" in duplicates
    leaked = results["duplicates"]["test_rows_with_copy_in_training"]["PrivateTest"]
    assert f"{leaked:,} PrivateTest rows" in duplicates
    agreement = overview_prose.describe_ferplus_agreement(results)
    private = results["ferplus"]["agreement_where_labelled_by_split"]["PrivateTest"]
    assert f"(PrivateTest: {private:.1%})" in agreement and "not a ceiling" in agreement
    pixels = overview_prose.describe_pixel_statistics(results)
    lowest = min(row["pixel_mean"] for row in results["pixel_statistics"].values())
    assert f"from {lowest:.1f}" in pixels
    assert overview_prose.headline_rows(results) == results["headline"]
