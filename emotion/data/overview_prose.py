"""The sentences notebook 01 prints about the data (class balance, FER+ agreement, duplicates), each a tested
function of the results it states.

Every function takes the notebook's results document (``results/01_data_overview.json``, or the dict the notebook is
building) and returns markdown; the thresholds that pick a wording are the named constants below.
"""

from __future__ import annotations

from typing import Any

from emotion import SPLITS

NEARLY_BALANCED_RATIO = 1.5
"""Classes whose largest-to-smallest count ratio is at most this are called nearly balanced."""
FAR_FROM_BALANCED_RATIO = 5.0
"""Classes whose largest-to-smallest count ratio reaches this are called far from balanced."""
SPLIT_SHARE_TOLERANCE = 0.02
"""Two splits have "nearly the same" class proportions when no class's share differs between them by more than this
(two percentage points)."""
RARE_CLASS_SHARE = 0.05
"""A class with less than this share of PrivateTest is rare enough that accuracy barely registers it."""
BRIGHTNESS_GAP_NOTABLE = 10.0
"""A spread of the per-class mean pixel values (0-255 scale) of at least this many grey levels is a brightness cue
between classes worth naming."""
NOISY_CLASS_AGREEMENT = 0.5
"""A FER2013 class whose labels the FER+ majority confirms less often than this is one the crowd mostly relabels."""


def split_sizes(class_counts: dict[str, dict[str, int]]) -> dict[str, int]:
    """Images per split, ``{split: count}`` in :data:`emotion.SPLITS` order, from the results' ``class_counts``
    (``{class: {split: count, ..., "total": count}}``)."""
    return {split: sum(int(counts[split]) for counts in class_counts.values()) for split in SPLITS}


def largest_split_share_gap(class_counts: dict[str, dict[str, int]]) -> tuple[float, str]:
    """The largest difference, over classes and pairs of splits, between a class's shares of two splits, and the
    class it belongs to: ``(gap as a fraction, class name)``."""
    sizes = split_sizes(class_counts)
    gaps = {}
    for name, counts in class_counts.items():
        shares = [counts[split] / sizes[split] for split in SPLITS if sizes[split]]
        gaps[name] = max(shares) - min(shares) if shares else 0.0
    worst = max(gaps, key=gaps.get)
    return gaps[worst], worst


def describe_class_balance(results: dict[str, Any]) -> str:
    """The paragraph under the class-distribution table: split sizes, the largest and smallest class, and what follows.

    Inputs: ``results["class_counts"]`` and ``results["imbalance"]``. Rules: the balance wording follows the
    largest-to-smallest ratio (:data:`NEARLY_BALANCED_RATIO`, :data:`FAR_FROM_BALANCED_RATIO`); PublicTest is called a
    fair place to choose checkpoints only when every class's share differs between splits by at most
    :data:`SPLIT_SHARE_TOLERANCE`; the smallest class is called one accuracy barely registers when its PrivateTest
    share is under :data:`RARE_CLASS_SHARE`, and the sentence states how much accuracy ignoring it costs.
    """
    counts = results["class_counts"]
    largest, smallest = results["imbalance"]["largest_class"], results["imbalance"]["smallest_class"]
    ratio = results["imbalance"]["largest_to_smallest_ratio"]
    sizes = split_sizes(counts)
    total = sum(sizes.values())
    text = (f"{total:,} images: " + ", ".join(f"{split} {size:,}" for split, size in sizes.items()) + ". ")
    if ratio >= FAR_FROM_BALANCED_RATIO:
        text += "The classes are far from balanced: "
    elif ratio > NEARLY_BALANCED_RATIO:
        text += "The classes are unevenly spread: "
    else:
        text += "The classes are nearly balanced: "
    text += (f"*{largest}* has {counts[largest]['total']:,} images ({counts[largest]['total'] / total:.1%}), "
             f"*{smallest}* {counts[smallest]['total']:,} ({counts[smallest]['total'] / total:.1%}), a ratio of "
             f"{ratio:.1f} to 1. ")
    gap, gap_class = largest_split_share_gap(counts)
    if gap <= SPLIT_SHARE_TOLERANCE:
        text += (f"The splits keep nearly the same proportions: the largest difference in a class's share between two "
                 f"splits is {gap * 100:.1f} points (*{gap_class}*), so PublicTest is a fair place to choose "
                 "checkpoints for PrivateTest. ")
    else:
        text += (f"The splits' proportions differ (*{gap_class}*'s share by {gap * 100:.1f} points between two "
                 "splits), so a checkpoint chosen on PublicTest is chosen on a different class mix than "
                 "PrivateTest's. ")
    rare_share = counts[smallest]["PrivateTest"] / sizes["PrivateTest"]
    if rare_share < RARE_CLASS_SHARE:
        text += (f"Accuracy alone barely registers *{smallest}*: a model that never predicts it loses at most "
                 f"{rare_share * 100:.1f} points of PrivateTest accuracy (the class's share of the split), so later "
                 "notebooks report macro-F1 and per-class recall beside accuracy.")
    else:
        text += (f"Even the smallest class, *{smallest}*, holds {rare_share:.1%} of PrivateTest; later notebooks "
                 "still report macro-F1 and per-class recall beside accuracy.")
    return text


def pixel_summary(statistics: dict[str, dict[str, float]]) -> dict[str, Any]:
    """What :func:`describe_pixel_statistics` states about ``statistics`` (``{class: {"images", "pixel_mean", ...}}``),
    for the results file: the image-weighted ``overall_mean`` of the class means (every image has the same number of
    pixels), the ``darkest`` and ``brightest`` class and the ``gap`` between their means (grey levels)."""
    means = {name: row["pixel_mean"] for name, row in statistics.items()}
    images = sum(row["images"] for row in statistics.values())
    darkest, brightest = min(means, key=means.get), max(means, key=means.get)
    return {"overall_mean": sum(row["images"] * row["pixel_mean"] for row in statistics.values()) / images,
            "darkest": darkest, "brightest": brightest, "gap": means[brightest] - means[darkest]}


def describe_pixel_statistics(results: dict[str, Any]) -> str:
    """The paragraph under the mean faces: what the figure shows, and whether brightness differs between classes.

    Inputs: ``results["pixel_statistics"]`` (``{class: {"images", "pixel_mean", ...}}``), summed up by
    :func:`pixel_summary` (which the notebook also writes to its results). The first two sentences read
    the mean-face figure, which depends only on the fixed file. Rule: a spread of class means of at least
    :data:`BRIGHTNESS_GAP_NOTABLE` grey levels is named as a cue a model could learn; brightness augmentation is
    described as making it noisier, not removing it (its shift is zero on average).
    """
    statistics = results["pixel_statistics"]
    means = {name: row["pixel_mean"] for name, row in statistics.items()}
    summary = pixel_summary(statistics)
    overall, darkest, brightest, gap = (summary[key] for key in ("overall_mean", "darkest", "brightest", "gap"))
    text = ("The mean faces are recognisable faces, so the crops are roughly aligned and centred: eyes, nose and mouth "
            "sit in the same place in every class, and the classes differ most visibly around the mouth. "
            f"The mean pixel value is {overall:.1f} of 255; per class it ranges from {means[darkest]:.1f} "
            f"(*{darkest}*) to {means[brightest]:.1f} (*{brightest}*), {gap:.1f} grey levels apart. ")
    if gap >= BRIGHTNESS_GAP_NOTABLE:
        return text + ("A brightness difference between classes is a cue a model could learn instead of the "
                       "expression. The training pipeline's random brightness shift (notebook 03) makes it a noisier "
                       "cue for each image, but, zero on average, it leaves the class means apart.")
    return text + "Brightness differs too little between classes to offer a model a shortcut."


def describe_duplicates(results: dict[str, Any]) -> str:
    """The paragraph under the duplicate examples: distinct images, duplicate groups, leakage into the test splits,
    conflicting labels and blank images.

    Inputs: ``results["duplicates"]`` and ``results["file"]["rows"]``. Rules: the memory warning appears only when a
    test row has an exact copy in Training; the conflicting-label and blank-image clauses only when there are any.
    """
    duplicates, rows = results["duplicates"], results["file"]["rows"]
    leaked = duplicates["test_rows_with_copy_in_training"]
    text = (f"{duplicates['distinct_images']:,} distinct images among {rows:,} rows: "
            f"{duplicates['duplicate_groups']:,} groups of byte-identical images cover "
            f"{duplicates['duplicate_rows']:,} rows. {duplicates['cross_split_groups']:,} groups "
            f"({duplicates['cross_split_rows']:,} rows) span more than one split: ")
    if leaked["PrivateTest"] or leaked["PublicTest"]:
        text += (f"{leaked['PrivateTest']:,} PrivateTest rows and {leaked['PublicTest']:,} PublicTest rows have an "
                 "exact copy in Training, so a model can score on them by memory. ")
    else:
        text += "none of them puts a test row's copy in Training. "
    if duplicates["conflicting_label_groups"]:
        text += (f"{duplicates['conflicting_label_groups']:,} groups ({duplicates['conflicting_label_rows']:,} rows) "
                 "give the same image different labels. ")
    if duplicates["blank_images"]:
        text += f"{duplicates['blank_images']:,} images are entirely black. "
    return text + ("We keep the file as published (so our numbers compare with the literature) and measure the "
                   "leakage's effect on accuracy in notebook 06.")


def describe_ferplus_agreement(results: dict[str, Any]) -> str:
    """The paragraph under the FER2013-vs-FER+ table: how often FER2013's label is the crowd majority's, for which
    classes least, and what that agreement does and does not imply.

    Inputs: ``results["ferplus"]`` and ``results["file"]["rows"]``. Agreement between two label sets measures how
    noisy FER2013's labels are; it is not a ceiling on the accuracy of a classifier trained and scored on FER2013's
    own labels, and the sentence says so. Rule: classes whose agreement is under :data:`NOISY_CLASS_AGREEMENT` are
    named as ones the crowd majority relabels more often than it confirms.
    """
    ferplus, rows = results["ferplus"], results["file"]["rows"]
    by_class = ferplus["agreement_by_fer2013_class"]
    private = ferplus["agreement_where_labelled_by_split"]["PrivateTest"]
    best, worst = max(by_class, key=by_class.get), min(by_class, key=by_class.get)
    text = (f"FER+ gives a majority label to {ferplus['rows_with_majority_label']:,} of {rows:,} images; on those, "
            f"the original FER2013 label is the crowd majority's {ferplus['agreement_where_labelled']:.1%} of the time "
            f"(PrivateTest: {private:.1%}). Agreement is highest for *{best}* ({by_class[best]:.1%}) and lowest for "
            f"*{worst}* ({by_class[worst]:.1%}). ")
    noisy = sorted((name for name, value in by_class.items() if value < NOISY_CLASS_AGREEMENT), key=by_class.get)
    if noisy:
        text += ("For " + ", ".join(f"*{name}*" for name in noisy) + " the crowd majority gives another label more "
                 "often than it confirms FER2013's. ")
    return text + (
        f"FER2013's labels are therefore noisy: on PrivateTest {1 - private:.1%} of the images with a crowd majority "
        "carry a label that majority would not give, and some of a model's errors there may be faces whose FER2013 "
        "label the crowd disputes (notebook 06 counts them). This agreement is not a ceiling on accuracy: a "
        "classifier trained and scored on FER2013's own labels learns those labels, not the crowd's, and can score "
        "above it.")


def headline_rows(results: dict[str, Any]) -> list[dict[str, Any]]:
    """The README headline rows of notebook 01 (split sizes, distinct and duplicate rows, PrivateTest rows copied in
    Training, FER+ agreement on PrivateTest) from its results document."""
    sizes = split_sizes(results["class_counts"])
    duplicates = results["duplicates"]
    return [
        {"quantity": "FER2013 rows (" + " / ".join(sizes) + ")",
         "value": " / ".join(f"{size:,}" for size in sizes.values()), "split": "all", "protocol": "count"},
        {"quantity": "distinct images; duplicate rows",
         "value": f"{duplicates['distinct_images']:,}; {duplicates['duplicate_rows']:,}",
         "split": "all", "protocol": "exact byte match"},
        {"quantity": "PrivateTest rows with an exact copy in Training",
         "value": duplicates["test_rows_with_copy_in_training"]["PrivateTest"],
         "split": "PrivateTest", "protocol": "exact byte match"},
        {"quantity": "FER2013 label = FER+ majority label",
         "value": round(results["ferplus"]["agreement_where_labelled_by_split"]["PrivateTest"], 4),
         "split": "PrivateTest", "protocol": "FER+ majority rule, rows with a majority"},
    ]
