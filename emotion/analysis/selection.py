"""The web app's default model, evaluated as chosen: how much being picked on PublicTest flatters its PublicTest number.

The default (:func:`emotion.classify.release.best_release`) is the release with the highest PublicTest accuracy, and an
ensemble among the candidates had its members picked greedily on PublicTest as well. A number that won a selection on
one split is biased upwards on that split (the winner's curse), so the default's PublicTest accuracy is not an
estimate of its accuracy; its PrivateTest accuracy, which nothing chose on, is.

The estimate (:func:`selection_inflation`): every candidate's change from PublicTest to PrivateTest mixes two things,
the difference in difficulty between the two splits (shared by all models) and the luck of the selection (only the
chosen one's). The median change of the candidates that were *not* chosen estimates the first; what the chosen model's
change departs from it by estimates the second. With a handful of candidates this is a rough estimate, so the range of
the unchosen candidates' changes is reported beside it and decides the wording.
"""

from __future__ import annotations

from statistics import median
from typing import Any, Mapping

from emotion.paper import PAPER_OWN_PHOTOS


def selection_inflation(publictest: Mapping[str, float], privatetest: Mapping[str, float],
                        chosen: str) -> dict[str, Any]:
    """How much the chosen model's PublicTest accuracy is inflated by having been chosen on PublicTest.

    Args:
        publictest: candidate name -> PublicTest accuracy (0-1), the number the choice was made on.
        privatetest: candidate name -> PrivateTest accuracy (0-1) of the same file; only names in both count.
        chosen: the candidate that was chosen.

    Returns:
        ``chosen``, ``publictest``, ``privatetest``, ``drop`` (PublicTest minus PrivateTest, in accuracy units),
        ``others_median_drop`` and ``others_drop_range`` ([min, max]) over the unchosen candidates, ``inflation``
        (``drop`` minus the others' median drop; positive means the PublicTest number flatters the model),
        ``candidates`` (how many were compared) and ``privatetest_rank`` (1 = best on PrivateTest).

    Raises:
        ValueError: ``chosen`` lacks either accuracy, or fewer than two other candidates have both.
    """
    names = [name for name in publictest if name in privatetest]
    if chosen not in names:
        raise ValueError(f"the chosen model {chosen!r} needs both a PublicTest and a PrivateTest accuracy; "
                         f"candidates with both: {names}")
    others = [name for name in names if name != chosen]
    if len(others) < 2:
        raise ValueError(f"need at least two unchosen candidates to estimate the split offset, got {others}")
    drops = {name: float(publictest[name]) - float(privatetest[name]) for name in names}
    others_drops = [drops[name] for name in others]
    ranking = sorted(names, key=lambda name: -float(privatetest[name]))
    return {
        "chosen": chosen, "publictest": float(publictest[chosen]), "privatetest": float(privatetest[chosen]),
        "drop": drops[chosen], "others_median_drop": median(others_drops),
        "others_drop_range": [min(others_drops), max(others_drops)],
        "inflation": drops[chosen] - median(others_drops), "candidates": len(names),
        "privatetest_rank": ranking.index(chosen) + 1,
    }


def describe_default_model(selection: dict[str, Any], ckplus_accuracy: float | None = None,
                           interval: dict[str, float] | None = None) -> str:
    """The sentences notebook 06 prints about the app's default model: its PrivateTest accuracy as chosen, whether
    its PublicTest number is inflated by the choice (the wording follows where its drop falls against the unchosen
    candidates' range: above it "inflated", inside it "within the spread", below it "no sign"), and where its
    out-of-distribution accuracy was measured (CK+48, or not at all when CK+48 was missing), beside the paper's own
    real-photo test.

    Args:
        selection: :func:`selection_inflation`'s result.
        ckplus_accuracy: the default's per-image accuracy on CK+48, or None when CK+48 was not evaluated.
        interval: the bootstrap interval of its PrivateTest accuracy (``low``, ``high``), stated when given.
    """
    # In the prose a change is PrivateTest minus PublicTest (points), so a fall reads as negative.
    change, others_median = -100 * selection["drop"], -100 * selection["others_median_drop"]
    low, high = sorted(-100 * drop for drop in selection["others_drop_range"])
    if change < low:
        verdict = (f"it fell further than every unchosen release, so its PublicTest number is inflated by about "
                   f"{100 * selection['inflation']:.1f} points by the choice")
    elif change <= high:
        verdict = (f"that lies within the unchosen releases' range ({low:+.1f} to {high:+.1f} points), so whatever the "
                   f"choice added to its PublicTest number ({100 * selection['inflation']:+.1f} points against their "
                   "median) is within the spread of models nobody chose")
    else:
        verdict = ("it gained more than every unchosen release, so there is no sign that the choice inflated its "
                   "PublicTest number")
    text = (f"The app's default, *{selection['chosen']}*, was chosen as the best of {selection['candidates']} releases "
            f"on PublicTest ({selection['publictest']:.2%}). Scored once on PrivateTest, which nothing chose on, it "
            f"reaches {selection['privatetest']:.2%}"
            + (f" (95 % interval {interval['low']:.2%}-{interval['high']:.2%})" if interval else "")
            + f", rank {selection['privatetest_rank']} of {selection['candidates']} there. From PublicTest to "
            f"PrivateTest it changes by {change:+.1f} points, the unchosen releases by {others_median:+.1f} (median): "
            f"{verdict}. ")
    if ckplus_accuracy is None:
        text += "Its out-of-distribution accuracy was not measured: CK+48 was not in the data folder."
    else:
        text += (f"Out of distribution it was measured on CK+48 (posed, frontal lab faces, six classes): "
                 f"{ckplus_accuracy:.1%} per image, where the paper's own test on {PAPER_OWN_PHOTOS['photos']} "
                 f"real photos of its authors got {PAPER_OWN_PHOTOS['accuracy']:.1%} (different photos, so not a "
                 "comparison of models).")
    return text
