"""The sentences notebook 02 prints about the face detectors, each a tested function of the numbers it states.

Each "what this shows" paragraph of the notebook is one ``*_paragraph`` function, built from ``describe_*``
sentences whose rules are in their code: our distance from the published AP and what explains it, which effect on
recall is the largest, whether a looser match or a lower score changes recall (:data:`RECALL_CHANGE_POINTS`)
and which faces no detector finds (:data:`NONE_FOUND_RECALL`); the speed sentences are in
:mod:`emotion.faces.speed_prose`. Arguments are plain numbers (dicts keyed by detector name and level) and the
detectors' display names (``labels``: detector -> name), so tests can make the numbers up.
"""

from __future__ import annotations

from typing import Mapping, Sequence

from emotion.data.wider_face import LEVELS
from emotion.faces.detection_metrics import (
    HEIGHT_BINS,
    IOU_THRESHOLD,
    LOOSE_IOU_THRESHOLD,
    PUBLISHED_AP,
    PUBLISHED_AP_TOLERANCE,
    WIDER_VALIDATION_IMAGES,
)

RECALL_CHANGE_POINTS = 3.0
"""The smallest change of a recall, in percentage points, that the prose calls a change: box shape "matters" only
when loosening the match to IoU >= :data:`LOOSE_IOU_THRESHOLD` moves some detector's recall by at least this much."""

NONE_FOUND_RECALL = 0.01
"""A recall at or below this (1 %) counts as "finds none" of a group of faces."""

_LEVEL_NAMES = {"easy": "Easy", "medium": "Medium", "hard": "Hard"}
_ATTRIBUTES = (("pose", 1, "atypical-pose"), ("occlusion", 2, "heavily occluded"), ("blur", 2, "heavily blurred"))
"""The Easy-face groups of :func:`describe_easy_misses`: (annotation column, value, adjective)."""


def join_names(items: Sequence[str]) -> str:
    """``a``, ``a and b``, ``a, b and c``."""
    items = list(items)
    return items[0] if len(items) == 1 else ", ".join(items[:-1]) + " and " + items[-1]


def _points(change: float) -> str:
    """A change of a recall as signed percentage points: ``+1.8 points``."""
    return f"{100 * change:+.1f} points"


def _group(table: Mapping, *keys: str) -> float | None:
    """A recall of a :func:`emotion.faces.detection_metrics.recall_table`, or None when its group has no face."""
    for key in keys:
        table = table[key]
    return table["recall"] if table["faces"] else None


def _share(value: float | None) -> str:
    return "n/a" if value is None else f"{value:.0%}"


def published_ap_text() -> str:
    """:data:`PUBLISHED_AP` as results files cite it: ``"MTCNN 0.851/0.820/0.607, YuNet 0.884/0.866/0.750"``
    (Easy/Medium/Hard)."""
    names = {"mtcnn": "MTCNN", "yunet": "YuNet"}
    return ", ".join(f"{names.get(name, name)} " + "/".join(f"{levels[level]:.3f}" for level in LEVELS)
                     for name, levels in PUBLISHED_AP.items())


def describe_published_gaps(gaps: dict[str, float], tolerance: float = PUBLISHED_AP_TOLERANCE) -> str:
    """Our AP minus the published AP per level, each marked within or outside ``tolerance``:
    ``"+0.012 (easy, within ±0.05), -0.081 (medium, outside ±0.05)"``."""
    return ", ".join(f"{gap:+.3f} ({level}, {'within' if abs(gap) <= tolerance else 'outside'} ±{tolerance:g})"
                     for level, gap in gaps.items())


def describe_reference_check(label: str, gaps: dict[str, float], tolerance: float = PUBLISHED_AP_TOLERANCE) -> str:
    """Whether a reference detector's AP on the subset agrees with its published values, which is what supports (or
    questions) our implementation of the evaluation protocol. ``gaps``: level -> our AP minus the published AP."""
    largest = max(abs(gap) for gap in gaps.values())
    if largest <= tolerance:
        return (f"{label}'s own AP lands within {largest:.3f} of its published values (tolerance ±{tolerance:g}), "
                "which supports the protocol implementation")
    return (f"{label}'s own AP differs from its published values by up to {largest:.3f}, more than the ±{tolerance:g} "
            "tolerance, so either the subset or the protocol implementation departs from the published evaluation")


def describe_partial_detector(name: str, common_average_precision: Mapping[str, Mapping[str, float]], images: int,
                              full_order: Mapping[str, Sequence[str]], labels: Mapping[str, str]) -> str:
    """Where a detector that ran on only the first ``images`` images ranks on those images among all detectors, at
    Hard and at Easy, and whether the others keep there the order they have on all images (``full_order``: level ->
    the others from the highest AP to the lowest). ``common_average_precision``: detector -> level -> AP on those
    images."""
    others = [other for other in common_average_precision if other != name]
    parts = []
    for level in ("hard", "easy"):
        value = common_average_precision[name][level]
        above = [other for other in others if value > common_average_precision[other][level]]
        if not above:
            place = "below every other detector's"
        elif len(above) == len(others):
            place = "above every other detector's"
        else:
            place = "above " + join_names([f"{labels[other]}'s {common_average_precision[other][level]:.3f}"
                                      for other in above]) + " and below the rest"
        parts.append(f"its {_LEVEL_NAMES[level]} AP, {value:.3f}, ranks {len(others) + 1 - len(above)} of "
                     f"{len(others) + 1} ({place})")
    changed = [_LEVEL_NAMES[level] for level in ("hard", "easy")
               if sorted(others, key=lambda o: -common_average_precision[o][level]) != list(full_order[level])]
    keep = ("the others keep their order" if not changed else
            "the others' order differs from the one on all images at " + join_names(changed))
    return (f"{labels[name]} ran on the first {images} images only, so it is ranked on those images (the columns "
            f"'first {images} images'): there " + " and ".join(parts) + f"; on them {keep}.")


def accuracy_paragraph(average_precision: Mapping[str, Mapping[str, float]],
                       common_average_precision: Mapping[str, Mapping[str, float]],
                       highest_hard_recall: Mapping[str, float], faces_per_level: Mapping[str, int],
                       image_counts: Mapping[str, int], labels: Mapping[str, str]) -> str:
    """Notebook 02's paragraph under the AP table: the Hard and Easy rankings of the detectors that ran on every
    image, the rank of each one that ran on fewer on those images (:func:`describe_partial_detector`), and the highest
    Hard recall each reached, which bounds its Hard AP (precision is at most 1).

    Args:
        average_precision, common_average_precision: detector -> level -> AP on the images it ran on, and on the
            images every detector ran on.
        highest_hard_recall: detector -> Hard recall with every detection kept.
        faces_per_level: level -> faces; image_counts: detector -> images it ran on.
    """
    images = max(image_counts.values())
    complete = [name for name in average_precision if image_counts[name] == images]
    order = {level: sorted(complete, key=lambda name: -average_precision[name][level]) for level in LEVELS}
    text = (f"**What this shows.** On {images:,} images ({faces_per_level['easy']:,} Easy, "
            f"{faces_per_level['medium']:,} Medium and {faces_per_level['hard']:,} Hard faces), "
            + "; ".join(f"{_LEVEL_NAMES[level]} AP ranks " + ", ".join(
                f"{labels[name]} {average_precision[name][level]:.3f}" for name in order[level])
                for level in ("hard", "easy")) + ".")
    for name in average_precision:
        if image_counts[name] < images:
            text += " " + describe_partial_detector(name, common_average_precision, image_counts[name], order, labels)
    ranked = sorted(highest_hard_recall, key=lambda name: -average_precision[name]["hard"])
    return text + (" The curves end where a detector returns nothing more: the highest Hard recall reached is "
                   + ", ".join(f"{labels[name]} {highest_hard_recall[name]:.2f}" for name in ranked)
                   + ", which bounds its Hard AP whatever its precision.")


def loose_match_gains(average_precision: Mapping[str, float], published: Mapping[str, float],
                      loose_average_precision: Mapping[str, float]) -> dict[str, dict[str, float]]:
    """Per level: how far our AP falls short of the published one (``shortfall``, negative when above it), the AP
    that loosening the match to IoU >= :data:`LOOSE_IOU_THRESHOLD` adds (``gain_at_loose_match``), and the share of a
    positive shortfall that gain accounts for (``share_of_shortfall``, 0-1; 0 when there is no shortfall), the numbers
    :func:`describe_level_shortfall` states, for the results file."""
    gains = {}
    for level, value in average_precision.items():
        shortfall, gain = published[level] - value, loose_average_precision[level] - value
        gains[level] = {"shortfall": shortfall, "gain_at_loose_match": gain,
                        "share_of_shortfall": min(max(gain, 0.0) / shortfall, 1.0) if shortfall > 0 else 0.0}
    return gains


def describe_level_shortfall(level: str, average_precision: float, published: float, highest_recall: float,
                             loose_average_precision: float, tolerance: float = PUBLISHED_AP_TOLERANCE) -> str:
    """Why MTCNN's AP at one level is below the published one, from two measurements: a highest recall (every
    detection kept) below the published AP means no score threshold could reach it (AP cannot exceed recall), and the
    AP gained by loosening the match to IoU >= :data:`LOOSE_IOU_THRESHOLD` is the part of the gap that boxes
    overlapping their face by less than :data:`IOU_THRESHOLD` explain."""
    name = _LEVEL_NAMES[level]
    numbers = loose_match_gains({level: average_precision}, {level: published}, {level: loose_average_precision})[level]
    gap, gain, share = numbers["shortfall"], numbers["gain_at_loose_match"], numbers["share_of_shortfall"]
    if gap <= 0:
        return f"At {name} our AP is above the published one."
    if highest_recall < published:
        recall = (f"even with every detection kept MTCNN reaches only {highest_recall:.1%} of the {name} faces, less "
                  f"than the published AP of {published:.3f}, and AP is at most the highest recall, so no score "
                  f"threshold could reach the published value at IoU >= {IOU_THRESHOLD:g}")
    else:
        recall = (f"with every detection kept MTCNN reaches {highest_recall:.1%} of the {name} faces, above the "
                  f"published AP of {published:.3f}, so recall alone does not stop it")
    still = published - loose_average_precision
    loosened = f"loosening the match to IoU >= {LOOSE_IOU_THRESHOLD:g}"
    if gain <= 0.0005:
        return f"At {name}, {recall}; {loosened} leaves AP at {loose_average_precision:.3f}: box placement is not it."
    where = (f"within ±{tolerance:g} of the published value" if abs(still) <= tolerance
             else f"still {still:.3f} below the published value")
    return (f"At {name}, {recall}; {loosened} raises AP by {gain:.3f} to {loose_average_precision:.3f}, {where}: "
            f"boxes that overlap their face by {LOOSE_IOU_THRESHOLD:g} to {IOU_THRESHOLD:g} account for "
            f"{share:.0%} of the {gap:.3f} gap" + ("." if gain >= gap else ", missed faces for the rest."))


def describe_easy_misses(recall_by_attribute: Mapping[str, Mapping[str, Mapping[int, float]]],
                         overall: Mapping[str, float], labels: Mapping[str, str]) -> str:
    """Recall (every detection kept) on atypical-pose, heavily occluded and heavily blurred Easy faces against recall
    on all Easy faces, for the first detector of ``overall`` (the others in parentheses). It "misses more" of a group
    only when its recall there is below its overall recall.

    Args:
        recall_by_attribute: detector -> column (``pose``, ``occlusion``, ``blur``) -> value -> recall.
        overall: detector -> recall on all Easy faces.
    """
    def values(name: str) -> list[float | None]:
        return [recall_by_attribute[name][column].get(value) for column, value, _ in _ATTRIBUTES]

    main, *others = list(overall)
    groups = list(zip([adjective for _, _, adjective in _ATTRIBUTES], values(main)))
    lower = [adjective for adjective, value in groups if value is not None and value < overall[main]]
    if lower and len(lower) == sum(value is not None for _, value in groups):
        lead = f"{labels[main]} misses more of the Easy faces that are turned, occluded or blurred"
    elif lower:
        lead = f"{labels[main]} misses more of the {join_names(lower)} Easy faces than of all Easy faces"
    else:
        lead = f"{labels[main]} misses no more of the turned, occluded or blurred Easy faces than of the others"
    return (f"{lead}: with every detection kept it finds "
            + join_names([f"{_share(value)} of {adjective}" for adjective, value in groups])
            + f" Easy faces, against {overall[main]:.0%} of all Easy faces"
            + "".join(f" ({labels[name]}: " + ", ".join(_share(value) for value in values(name))
                      + f" against {overall[name]:.0%})" for name in others) + ".")


def describe_hard_limits(min_face_size: int, share_below_min_face: float, highest_hard_recall: float,
                         average_precision: Mapping[str, float], default_score_average_precision: Mapping[str, float],
                         operating_score: float) -> str:
    """What MTCNN's Hard AP rests on: its pyramid's smallest face (the Hard faces below it, ``share_below_min_face``,
    are at most that share of the Hard recall never reached) and its low score thresholds, which "matter most at Hard"
    only when keeping only the package's default score (``default_score_average_precision``, level -> AP) costs Hard
    the most AP of the three levels."""
    drops = {level: average_precision[level] - default_score_average_precision[level] for level in average_precision}
    most = drops["hard"] >= max(drops.values())
    return (f"Hard AP rests on two settings. The image pyramid (`min_face_size={min_face_size}`) is not built for "
            f"faces under {min_face_size} px, and {share_below_min_face:.1%} of the Hard faces here are shorter: at "
            f"most {100 * share_below_min_face:.1f} of the {100 * (1 - highest_hard_recall):.1f} points of Hard "
            f"recall MTCNN never reaches (highest Hard recall {highest_hard_recall:.3f}). And the low score "
            f"thresholds matter {'most' if most else 'less'} at Hard: keeping only the detections the package "
            f"accepts by default (ONet >= {operating_score:g}) gives AP {default_score_average_precision['hard']:.3f} "
            f"instead of {average_precision['hard']:.3f} at Hard, against " + " and ".join(
                f"{default_score_average_precision[level]:.3f} instead of {average_precision[level]:.3f} at "
                f"{_LEVEL_NAMES[level]}" for level in drops if level != "hard") + ".")


def mtcnn_gap_paragraph(average_precision: Mapping[str, float], highest_recall: Mapping[str, float],
                        loose_average_precision: Mapping[str, float],
                        default_score_average_precision: Mapping[str, float], operating_score: float,
                        min_face_size: int, hard_share_below_min_face: float, images: int,
                        stage_thresholds: Sequence[float],
                        easy_recall_by_attribute: Mapping[str, Mapping[str, Mapping[int, float]]],
                        easy_recall: Mapping[str, float], labels: Mapping[str, str],
                        reference_gaps: Mapping[str, float] | None = None,
                        tolerance: float = PUBLISHED_AP_TOLERANCE) -> str:
    """Notebook 02's paragraph on MTCNN against its published AP: the gap per level, why each level outside
    ``tolerance`` falls short (:func:`describe_level_shortfall`), which Easy faces it misses
    (:func:`describe_easy_misses`, MTCNN first), what its Hard AP rests on (:func:`describe_hard_limits`), the
    differences from the published run, and YuNet's reference check. When YuNet agrees with its published values and
    MTCNN does not, the re-port rather than the subset is the likelier cause.

    Args:
        average_precision, highest_recall, loose_average_precision, default_score_average_precision: MTCNN's level
            -> AP, highest recall, AP at IoU >= 0.3, and AP with only the detections at ``operating_score``.
        hard_share_below_min_face: share of Hard faces shorter than ``min_face_size``; images: images evaluated.
        stage_thresholds: P-, R- and O-Net thresholds of the study settings.
        reference_gaps: YuNet's level -> our AP minus its published AP, or None when YuNet did not run.
    """
    published = PUBLISHED_AP["mtcnn"]
    gaps = {level: average_precision[level] - published[level] for level in LEVELS}
    outside = [level for level in LEVELS if abs(gaps[level]) > tolerance]
    text = "**What this shows.** Our MTCNN AP differs from the published values by " + describe_published_gaps(
        gaps, tolerance) + (": every level agrees within the tolerance." if not outside else ". ")
    text += " ".join(describe_level_shortfall(level, average_precision[level], published[level], highest_recall[level],
                                              loose_average_precision[level], tolerance) for level in outside)
    text += " " + describe_easy_misses(easy_recall_by_attribute, easy_recall, labels)
    text += " " + describe_hard_limits(min_face_size, hard_share_below_min_face, highest_recall["hard"],
                                       average_precision, default_score_average_precision, operating_score)
    text += (f" Two differences from the published run remain: the data ({images:,} of "
             f"{WIDER_VALIDATION_IMAGES:,} validation images) and the code (the `mtcnn` package is a TensorFlow "
             "re-port of the original Caffe/Matlab model, not the code behind the leaderboard entry)")
    if reference_gaps:
        text += "; " + describe_reference_check("YuNet", reference_gaps, tolerance)
        if outside and max(abs(gap) for gap in reference_gaps.values()) <= tolerance:
            text += (", so of the two the re-port is the likelier cause of MTCNN's "
                     + join_names([_LEVEL_NAMES[level] for level in outside]) + " gap")
    pnet, rnet, onet = stage_thresholds
    return text + (f". Faces that no detection reaches are lost inside the detector (its pyramid or its three stages, "
                   f"thresholds {pnet:g}/{rnet:g}/{onet:g}), so no evaluation threshold brings them back; lower stage "
                   "thresholds might, at a higher cost per image, and were not tried here.")


def describe_size_effect(breakdown: Mapping[str, Mapping], labels: Mapping[str, str]) -> str:
    """Recall of the largest and of the small faces per detector (``breakdown``: detector -> recall_table), whether
    recall rises with face height for every detector (never falls from one non-empty height group to the next), and
    whether size is the first-order effect: for every detector the gap between the largest and the small faces is
    wider than between typical and atypical pose and between unoccluded and heavily occluded faces."""
    first, second, falling = [], [], []
    for name, table in breakdown.items():
        heights = [value for value in (_group(table, "height", bin_) for bin_ in table["height"]) if value is not None]
        if any(later < earlier for earlier, later in zip(heights, heights[1:])):
            falling.append(labels[name])
        size_gap = (_group(table, "height", ">=128") or 0.0) - (_group(table, "small", "<32") or 0.0)
        other_gaps = [(_group(table, column, high) or 0.0) - (_group(table, column, low) or 0.0)
                      for column, high, low in (("pose", "typical", "atypical"), ("occlusion", "none", "heavy"))]
        (first if size_gap > max(other_gaps) else second).append(labels[name])
    lead = ("Recall rises with face height for every detector" if not falling else
            "Recall does not rise steadily with face height for " + join_names(falling))
    text = (f"{lead}: at {HEIGHT_BINS[-2]:g} px and taller it is " + ", ".join(
        f"{labels[name]} {_share(_group(table, 'height', '>=128'))}" for name, table in breakdown.items())
        + f"; under {HEIGHT_BINS[2]:g} px " + ", ".join(
            f"{labels[name]} {_share(_group(table, 'small', '<32'))}" for name, table in breakdown.items()) + ". ")
    if not second:
        return text + ("Size is the first-order effect: for every detector the gap between those two groups is wider "
                       "than the gap between typical and atypical pose or between unoccluded and heavily occluded "
                       "faces.")
    if not first:
        return text + "For no detector is size the largest effect: pose or occlusion weighs as much or more."
    return text + (f"Size is the largest effect for {join_names(first)}; for {join_names(second)} pose or occlusion "
                   "weighs as much or more.")


def describe_tiny_faces(breakdown: Mapping[str, Mapping], tiny_share: float, labels: Mapping[str, str],
                        none_found: float = NONE_FOUND_RECALL) -> str:
    """The faces under :data:`HEIGHT_BINS` [1] px (``tiny_share`` of the valid faces) and each detector's recall on
    them. They are "below every detector's smallest window" only when every detector's recall there is at most
    ``none_found``; otherwise the sentence names who finds some. A detector that finds none of them finds at most
    ``1 - tiny_share`` of all valid faces."""
    recall = {name: _group(table, "height", "<16") for name, table in breakdown.items()}
    if not tiny_share or all(value is None for value in recall.values()):
        return f"No valid face here is under {HEIGHT_BINS[1]:g} px high."
    recall = {name: value for name, value in recall.items() if value is not None}
    finders = [name for name, value in recall.items() if value > none_found]
    text = f"{tiny_share:.0%} of the valid faces here are under {HEIGHT_BINS[1]:g} px high"
    cap = (f"a detector that finds none of them finds at most {1 - tiny_share:.0%} of all valid faces, one reason "
           "absolute recall is low on these images; the comparison between detectors is what matters.")
    if not finders:
        return (text + f" and no detector finds them (recall at most {none_found:.0%} each: "
                + ", ".join(f"{labels[name]} {value:.1%}" for name, value in recall.items())
                + f"): in practice they are below every detector's smallest window, and {cap}")
    rest = [labels[name] for name in recall if name not in finders]
    text += ". " + join_names([f"{labels[name]} finds {recall[name]:.1%}" for name in finders]) + " of them"
    if rest:
        text += f"; {join_names(rest)} find{'s' if len(rest) == 1 else ''} none (recall at most {none_found:.0%})"
    return text + "; " + cap


def describe_loose_match(strict_recall: Mapping[str, float], loose_recall: Mapping[str, float],
                         labels: Mapping[str, str], threshold_points: float = RECALL_CHANGE_POINTS) -> str:
    """Whether box shape matters: loosening the match from IoU >= :data:`IOU_THRESHOLD` to
    :data:`LOOSE_IOU_THRESHOLD` also counts boxes drawn to another convention. Box shape "matters" for the detectors
    whose overall recall moves by at least ``threshold_points``; when none does, the loosened match "barely changes"
    recall and the sentence names the largest change."""
    changes = {name: loose_recall[name] - strict_recall[name] for name in strict_recall}
    moved = [name for name, change in changes.items() if 100 * abs(change) >= threshold_points]
    if moved:
        return (f"Box shape matters for {join_names([labels[name] for name in moved])}: loosening the match to IoU >= "
                f"{LOOSE_IOU_THRESHOLD:g} moves overall recall by at least {threshold_points:g} points there ("
                + ", ".join(f"{labels[name]} {strict_recall[name]:.1%} to {loose_recall[name]:.1%}" for name in moved)
                + "): some hits are boxes drawn to another convention (brows to mouth against WIDER's hairline to "
                  f"chin), which overlap their face by less than {IOU_THRESHOLD:g}.")
    largest = max(changes, key=lambda name: abs(changes[name]))
    return (f"Loosening the match to IoU >= {LOOSE_IOU_THRESHOLD:g} barely changes overall recall: the largest change "
            f"is {labels[largest]}'s {_points(changes[largest])} ({strict_recall[largest]:.1%} to "
            f"{loose_recall[largest]:.1%}), under the {threshold_points:g} points that would make box shape a cause of "
            f"misses; few missed faces have a box that overlaps them by {LOOSE_IOU_THRESHOLD:g} to {IOU_THRESHOLD:g}.")


def describe_default_score(strict_recall: Mapping[str, float], every_recall: Mapping[str, float],
                           operating_scores: Mapping[str, float], labels: Mapping[str, str],
                           threshold_points: float = RECALL_CHANGE_POINTS) -> str:
    """What the libraries' default scores cost: the detectors whose overall recall rises by at least
    ``threshold_points`` when every detection of the study settings is kept, largest rise first, and how little the
    others change (a default score of ``-inf`` keeps every detection)."""
    changes = {name: every_recall[name] - strict_recall[name] for name in strict_recall}
    raised = sorted((name for name in changes if 100 * changes[name] >= threshold_points), key=lambda n: -changes[n])
    rest = [name for name in strict_recall if name not in raised]
    text = "Keeping every detection of the study settings instead of only those at the library's default score"
    if raised:
        text += " raises overall recall for " + ", ".join(
            f"{labels[name]} from {strict_recall[name]:.0%} to {every_recall[name]:.0%} ({_points(changes[name])})"
            for name in raised)
    if rest:
        text += ("; it" if raised else "") + " changes the overall recall of " + join_names(
            [f"{labels[name]} by {_points(changes[name])}"
             + (" (its default keeps every detection)" if operating_scores[name] == float("-inf") else "")
             for name in rest]) + f", under {threshold_points:g} points"
    return text + "."


def describe_strict_default(average_precision: dict[str, dict[str, float]], default_recall: dict[str, float],
                            operating_scores: dict[str, float], labels: dict[str, str]) -> str:
    """The detectors whose AP is the highest at every level while their recall at the library's default score is not
    the highest: their default score is strict on these images (AP sweeps every score, the default keeps one).

    Args:
        average_precision: detector -> level -> AP.
        default_recall: detector -> recall of all valid faces at the detector's default score.
        operating_scores: detector -> that default score.

    Returns one sentence per such detector, each after a space, or "" when no detector is in that position.
    """
    names = list(average_precision)
    levels = list(next(iter(average_precision.values())))
    best_recall = max(default_recall[name] for name in names)
    strict = [name for name in names
              if all(average_precision[name][level] >= max(average_precision[other][level] for other in names)
                     for level in levels) and default_recall[name] < best_recall]
    return "".join(f" {labels[name]}'s out-of-the-box {operating_scores[name]:g} is strict on these images: its AP "
                   f"ranks first at every level while its default-score recall, {default_recall[name]:.0%}, does not."
                   for name in strict)


def describe_partial_counts(name: str, images: int, table: Mapping, labels: Mapping[str, str]) -> str:
    """The faces behind the percentages of a detector that ran on only ``images`` images (``table``: its
    recall_table): its valid faces and the smallest group the recall paragraph quotes."""
    groups = {f"{HEIGHT_BINS[-2]:g} px and taller": table["height"][">=128"]["faces"],
              f"under {HEIGHT_BINS[2]:g} px": table["small"]["<32"]["faces"],
              f"under {HEIGHT_BINS[1]:g} px": table["height"]["<16"]["faces"],
              "typical pose": table["pose"]["typical"]["faces"], "atypical pose": table["pose"]["atypical"]["faces"]}
    smallest = min(groups, key=groups.get)
    text = (f"{labels[name]}'s numbers come from its {images} images only: "
            f"{sum(group['faces'] for group in table['height'].values()):,} valid faces, ")
    if not groups[smallest]:
        return text + f"none of them {smallest} (its recall there is n/a)."
    return text + (f"and as few as {groups[smallest]} in one group ({smallest}), where one face moves its recall by "
                   f"{100 / groups[smallest]:.0f} points.")


def misses_paragraph(breakdown: Mapping[str, Mapping], false_positives: Mapping[str, float],
                     strict_recall: Mapping[str, float], loose_recall: Mapping[str, float],
                     every_recall: Mapping[str, float], average_precision: Mapping[str, Mapping[str, float]],
                     operating_scores: Mapping[str, float], tiny_share: float, image_counts: Mapping[str, int],
                     labels: Mapping[str, str]) -> str:
    """Notebook 02's paragraph under the recall table: size (:func:`describe_size_effect`), pose, false positives,
    box shape (:func:`describe_loose_match`), the default score (:func:`describe_default_score`,
    :func:`describe_strict_default`), the faces under 16 px (:func:`describe_tiny_faces`), and the faces behind a
    detector that ran on fewer images (:func:`describe_partial_counts`).

    Args:
        breakdown: detector -> :func:`emotion.faces.detection_metrics.recall_table` at its default score.
        strict_recall, loose_recall, every_recall: detector -> recall of all valid faces at the default score, the
            same at IoU >= 0.3, and with every detection kept.
        operating_scores: detector -> its library's default score; tiny_share: valid faces under 16 px / all.
    """
    names = list(breakdown)
    text = ("**What this shows.** " + describe_size_effect(breakdown, labels) + " Faces in atypical pose are found by "
            + ", ".join(f"{labels[name]} {_share(_group(breakdown[name], 'pose', 'atypical'))}" for name in names)
            + " (typical pose: " + ", ".join(_share(_group(breakdown[name], "pose", "typical")) for name in names)
            + "). False positives per image at the default score: "
            + ", ".join(f"{labels[name]} {false_positives[name]:.2f}" for name in names) + ". "
            + describe_loose_match(strict_recall, loose_recall, labels) + " "
            + describe_default_score(strict_recall, every_recall, operating_scores, labels)
            + describe_strict_default(average_precision, strict_recall, operating_scores, labels) + " "
            + describe_tiny_faces(breakdown, tiny_share, labels))
    return text + "".join(" " + describe_partial_counts(name, image_counts[name], breakdown[name], labels)
                          for name in names if image_counts[name] < max(image_counts.values()))


def headline_entries(average_precision: Mapping[str, Mapping[str, float]], image_counts: Mapping[str, int],
                     fps_640: Mapping[str, float], speed_images: int, cores: int, load: float,
                     labels: Mapping[str, str]) -> list[dict[str, str]]:
    """The rows notebook 02 adds to its results' ``headline``: MTCNN's and YuNet's AP per level (those that ran) and
    MTCNN's frames per second at 640x480 (``fps_640``: variant label -> fps) with the package defaults and with a
    40 px minimum face, measured on ``speed_images`` images under one-minute load ``load``."""
    rows = [{"quantity": f"{labels[name]} AP Easy / Medium / Hard",
             "value": " / ".join(f"{average_precision[name][level]:.3f}" for level in LEVELS),
             "split": f"WIDER FACE val subset, {image_counts[name]} images",
             "protocol": "official WIDER evaluation on the subset; published (full val) " + published_ap_text()}
            for name in ("mtcnn", "yunet") if name in average_precision]
    return rows + [{"quantity": "MTCNN frames/s at 640x480 (package defaults; min face 40 px)",
                    "value": f"{fps_640['package defaults (min face 20 px, 0.6/0.7/0.8)']:.1f}; "
                             f"{fps_640['min face 40 px, package thresholds']:.1f}",
                    "split": f"{speed_images} resized WIDER images",
                    "protocol": f"median of one-image calls, {cores} CPU cores, load {load:.1f}"}]
