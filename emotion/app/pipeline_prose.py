"""The sentences notebook 07 prints about the end-to-end pipeline (where its time goes, its speed against `fer`),
each a tested function of the results it states.

The inputs are the notebook's own results (``results/07_pipeline_demo.json``: ``timing``, ``detection``,
``classifier_confidence``) and the peer comparison's (``results/07_peer_comparison.json``, written by
``make peer-compare``); the thresholds that pick a wording are the named constants below. Nothing here imports
TensorFlow or the rest of :mod:`emotion.app`.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from emotion.faces.detection_metrics import RECALL_MIN_HEIGHT

STAGE_NAMES = {"detect": "detection", "crop": "cropping", "classify": "classification"}
"""The pipeline's stages, as the timing keys ``<stage>_seconds`` name them, and as a sentence names them."""
STAGE_LEVERS = {
    "detect": "a faster detector, a smaller input or a larger minimum face; notebook 02 compares detectors",
    "crop": "faster cropping",
    "classify": "a smaller or faster classifier, such as a single network instead of an ensemble",
}
"""What would make each stage faster, as the stage sentence names it."""
MINOR_STAGE_SHARE = 0.05
"""A stage that takes less than this share of the pipeline's time is not worth optimising."""
LOW_CONFIDENCE = 0.5
"""A face whose top class probability is below this is one the classifier is unsure of (``share_below_0_5``)."""
OFTEN_UNSURE_SHARE = 0.25
"""When at least this share of faces gets a top probability under :data:`LOW_CONFIDENCE`, the classifier's answer on
these photos is called often a guess."""
PEER_ALPHA = 0.01
"""Significance level at which McNemar's test must reject "the two classifiers are equally accurate" before a
sentence calls one of them the more accurate."""
QUIET_BELOW = 0.25
"""The machine counts as quiet during a timed run when other work kept fewer than this many cores busy."""
PIPELINE_SPEED_GOAL = 5.0
"""Our fastest end-to-end configuration should process photos at least this many times faster than fer's fastest in
every run of the comparison, with detection recall (faces >= :data:`RECALL_MIN_HEIGHT` px) at least fer's and a
classifier more accurate by McNemar's test at :data:`PEER_ALPHA`."""


def stage_shares(times: dict[str, Any]) -> dict[str, float]:
    """Each stage's share of detect + crop + classify seconds, ``{stage: share}`` in :data:`STAGE_NAMES` order, from a
    :meth:`emotion.app.pipeline.StageTimes.as_dict` document (the notebook's ``results["timing"]``)."""
    seconds = {stage: float(times[f"{stage}_seconds"]) for stage in STAGE_NAMES}
    total = sum(seconds.values())
    return {stage: value / total if total else 0.0 for stage, value in seconds.items()}


def describe_stage_times(times: dict[str, Any]) -> str:
    """Notebook 07's paragraph on where the pipeline's time goes (``results["timing"]``: photos, faces, seconds per
    stage, ms per photo, faces per second).

    Rule: the stages are named largest first, the largest with its share. Speeding up one stage can save at most
    that stage's share of the time, so each stage's lever is given with its share as the ceiling of what it can
    save; a stage under :data:`MINOR_STAGE_SHARE` is called not worth optimising.
    """
    shares = stage_shares(times)
    ordered = sorted(shares, key=shares.get, reverse=True)
    largest = ordered[0]
    text = (f"On {times['images']} photos the pipeline found {times['faces']} faces in {times['total_seconds']:.1f} s: "
            f"{times['ms_per_image']:.0f} ms per photo, {times['faces_per_second']:.1f} faces per second. "
            f"{STAGE_NAMES[largest].capitalize()} is the largest stage, {shares[largest]:.0%} of the time; "
            + " and ".join(f"{STAGE_NAMES[stage]} takes {shares[stage]:.0%}" for stage in ordered[1:]) + ". "
            "Speeding up one stage saves at most its share of the time: ")
    levers = [f"at most {shares[stage]:.0%} from {STAGE_NAMES[stage]} ({STAGE_LEVERS[stage]})" for stage in ordered
              if shares[stage] >= MINOR_STAGE_SHARE]
    minor = [stage for stage in ordered if shares[stage] < MINOR_STAGE_SHARE]
    text += ", ".join(levers) + "."
    if minor:
        text += (" " + " and ".join(f"{STAGE_NAMES[stage]} ({shares[stage]:.0%})" for stage in minor).capitalize()
                 + (" is" if len(minor) == 1 else " are") + " not worth optimising.")
    return text


def describe_detection_and_confidence(results: dict[str, Any]) -> str:
    """Notebook 07's paragraph on what the pipeline gets wrong: detection recall on the photos' annotated faces and
    how sure the classifier is (``results["detection"]``, ``results["classifier_confidence"]``).

    Rules: recall is stated only when some face was annotated at the minimum height. The classifier's answer is
    called often a guess when at least :data:`OFTEN_UNSURE_SHARE` of faces get a top probability under
    :data:`LOW_CONFIDENCE`; otherwise the sentence says most answers are confident, and that confidence is not
    accuracy (these photos have no emotion labels).
    """
    detection, confidence = results["detection"], results["classifier_confidence"]
    if detection["annotated_faces"]:
        text = (f"Of the {detection['annotated_faces']} annotated faces {detection['min_height']} px or taller in "
                f"these photos, the detector found {detection['found']} ({detection['recall']:.0%}); notebook 02 "
                "measures which kinds of face it misses (by size, pose and occlusion). ")
    else:
        text = f"None of these photos has an annotated face {detection['min_height']} px or taller. "
    if not confidence["faces"]:
        return text + "No face was classified."
    text += (f"The classifier's top probability has a median of {confidence['median']:.2f}, and "
             f"{confidence['share_below_0_5']:.0%} of faces get less than {LOW_CONFIDENCE:g}: ")
    if confidence["share_below_0_5"] >= OFTEN_UNSURE_SHARE:
        return text + ("on photos unlike FER2013 (profile views, small or blurred faces, crowds) its answer is often a "
                       "guess, as the least confident crops show.")
    return text + ("most answers are confident, but with no emotion labels on these photos, confidence is not "
                   "accuracy.")


def describe_classifiers(peer: dict[str, Any], alpha: float = PEER_ALPHA) -> str:
    """Both classifiers' PrivateTest accuracy and which is the more accurate, from a ``07_peer_comparison.json``
    payload (``model`` and the ``classifier`` entry): the one with the higher accuracy when McNemar's p is below
    ``alpha``, otherwise neither."""
    classifier = peer["classifier"]
    ours, fer = classifier["ours"]["accuracy"]["estimate"], classifier["fer"]["accuracy"]["estimate"]
    p_value = classifier["mcnemar_ours_vs_fer"]["p_value"]
    text = f"On PrivateTest our classifier ({peer['model']}) scores {ours:.1%} and fer's bundled one {fer:.1%}: "
    if p_value >= alpha:
        return text + f"the two accuracies do not differ at the {alpha:g} level (McNemar p = {p_value:.3g})."
    winner = "ours" if ours > fer else "fer's"
    return text + f"{winner} is the more accurate of the two (McNemar p = {p_value:.3g} < {alpha:g})."


def describe_end_to_end(peer: dict[str, Any]) -> str:
    """Our pipeline against fer's with each detector family both run (a ``07_peer_comparison.json`` payload's
    ``end_to_end``): faces per second, faces found, median ms per photo, and how often the two give a face the same
    emotion. The sentence says that faces per second rewards a detector that finds more faces."""
    end_to_end = peer["end_to_end"]
    text = ("End to end, our faces per second are "
            + ", ".join(f"{entry['faces_per_second_ratio']:.1f}x fer's with {family} ({entry['ours']['faces']} faces "
                        f"found against {entry['fer']['faces']}, median {entry['ours']['ms_per_photo_median']:.0f} "
                        f"against {entry['fer']['ms_per_photo_median']:.0f} ms per photo)"
                        for family, entry in end_to_end.items())
            + "; faces per second counts the faces each system found, so a detector that finds more faces scores "
              "higher.")
    agreements = [f"{entry['agreement']['agreement']:.0%} of the time with {family}"
                  for family, entry in end_to_end.items() if entry["agreement"]["agreement"] is not None]
    if agreements:
        text += " On faces both systems found, they give the same emotion " + ", ".join(agreements) + "."
    return text


def describe_conditions(conditions: dict[str, Any] | None, quiet_below: float = QUIET_BELOW) -> str:
    """Whether the machine was quiet while the comparison ran (``conditions``:
    :func:`emotion.app.peer.run_conditions`), so a reader knows how far its times can be trusted; "" for files
    written before conditions were recorded."""
    if not conditions or conditions.get("other_cores") is None:
        return ""
    other, cores = conditions["other_cores"], conditions["cpu_cores"]
    if other < quiet_below:
        return f"Other work kept {other:.2f} of the {cores} cores busy during the run: the machine was quiet."
    return (f"Other work kept {other:.2f} of the {cores} cores busy during the run, so both sides' times are "
            "pessimistic; their ratio is fairer than either.")


def speed_goal_checks(worst_ratio: float | None, recall: dict[str, Any], accuracy: dict[str, Any],
                      p_value: float | None, goal: float = PIPELINE_SPEED_GOAL,
                      alpha: float = PEER_ALPHA) -> dict[str, bool]:
    """The speed goal's rule, in one place: ``{"speed", "recall", "accuracy"}``, each True when it holds.

    Rules: speed holds when the worst run's ratio of photos per second (ours over fer's fastest) is at least
    ``goal``; recall when ours (``recall["ours"]``) is at least fer's; accuracy when ours is the higher and McNemar's
    exact p of the two classifiers on the same crops is below ``alpha``. A missing number fails its check.
    """
    return {"speed": worst_ratio is not None and worst_ratio >= goal,
            "recall": recall["ours"] is not None and recall["fer"] is not None and recall["ours"] >= recall["fer"],
            "accuracy": p_value is not None and p_value < alpha and accuracy["ours"] > accuracy["fer"]}


def ratio_spread(fastest: dict[str, Any]) -> dict[str, Any]:
    """The photos-per-second ratio of a ``fastest`` entry across its runs: ``{"runs", "median", "low", "high"}``.
    A file written before runs were repeated holds one ratio: ``runs`` 1, and low = median = high."""
    per_run = fastest.get("ratio_per_run")
    if not per_run:
        ratio = fastest["photos_per_second_ratio"]
        return {"runs": 1, "median": ratio, "low": ratio, "high": ratio}
    if any(ratio is None for ratio in per_run):
        return {"runs": len(per_run), "median": None, "low": None, "high": None}
    ordered = sorted(per_run)
    middle = len(ordered) // 2
    median = ordered[middle] if len(ordered) % 2 else (ordered[middle - 1] + ordered[middle]) / 2
    return {"runs": len(per_run), "median": median, "low": ordered[0], "high": ordered[-1]}


def fastest_p_value(peer: dict[str, Any]) -> float | None:
    """McNemar's p of the classifier of our fastest configuration against fer's: the ``fastest`` entry's own, or in a
    file written before it was recorded there, the ``single_network``'s when that is the fastest, else the default
    classifier's."""
    fastest = peer["fastest"]
    if fastest.get("p_value") is not None:
        return fastest["p_value"]
    single = peer.get("single_network")
    if single and fastest["ours"] == f"{single['detector']} + {Path(single['model']).stem}":
        return single["mcnemar_vs_fer"]["p_value"]
    return peer["classifier"]["mcnemar_ours_vs_fer"]["p_value"]


def fastest_checks(peer: dict[str, Any]) -> dict[str, bool]:
    """:func:`speed_goal_checks` of a ``07_peer_comparison.json`` payload's ``fastest`` entry, the worst run's ratio
    for speed (a one-run file: its one ratio)."""
    fastest = peer["fastest"]
    return speed_goal_checks(ratio_spread(fastest)["low"], fastest["recall"], fastest["accuracy"],
                             fastest_p_value(peer), goal=fastest["goal"])


def describe_spread(spread: dict[str, Any]) -> str:
    """How many runs a ratio comes from and its range: ``one run, no spread measured`` or ``median of 5 runs, range
    4.10-5.20x``."""
    if spread["runs"] == 1:
        return "one run, no spread measured"
    if spread["median"] is None:
        return f"{spread['runs']} runs, in one of which fer's photos per second were zero"
    return f"median of {spread['runs']} runs, range {spread['low']:.2f}-{spread['high']:.2f}x"


def describe_ratio(spread: dict[str, Any]) -> str:
    """The ratio with its spread (:func:`describe_spread`): ``5.92x (one run, no spread measured)``."""
    value = "no ratio" if spread["median"] is None else f"{spread['median']:.2f}x"
    return f"{value} ({describe_spread(spread)})"


def describe_goal_verdict(peer: dict[str, Any]) -> str:
    """The speed goal's verdict (:func:`fastest_checks`), naming what is missed and the run it is judged on.

    Rule: a file of one run can meet the goal only "in its one run": one run measures no spread. A file of several
    runs is judged on its worst run."""
    fastest, spread = peer["fastest"], ratio_spread(peer["fastest"])
    missed = [name for name, held in fastest_checks(peer).items() if not held]
    goal = (f"the goal ({fastest['goal']:g}x fer's photos per second in every run, recall at least fer's, a classifier "
            f"more accurate at McNemar p < {PEER_ALPHA:g}) is ")
    if spread["runs"] == 1:
        judged = "in its one run"
    else:
        judged = (f"in the worst of {spread['runs']} runs ({spread['low']:.2f}x)" if spread["low"] is not None
                  else f"over {spread['runs']} runs")
    return goal + (f"met {judged}." if not missed else f"missed on {', '.join(missed)} {judged}.")


def describe_fastest(peer: dict[str, Any]) -> str:
    """One sentence on the fastest-against-fastest comparison of a ``07_peer_comparison.json`` payload (its
    ``fastest`` entry, :func:`emotion.app.peer.fastest_comparison`): the ratio of photos per second with its spread
    over the runs (:func:`describe_ratio`), recall, accuracy with McNemar's p, and :func:`describe_goal_verdict`,
    followed by :func:`describe_conditions`; empty when the payload predates it."""
    fastest = peer.get("fastest")
    if not fastest:
        return ""
    recall, accuracy, p_value = fastest["recall"], fastest["accuracy"], fastest_p_value(peer)
    spread = ratio_spread(fastest)
    ratio = "an unmeasured multiple of" if spread["median"] is None else f"{spread['median']:.2f}x"
    text = (f"Fastest against fastest, our pipeline with {fastest['ours']} processes {ratio} as many photos per "
            f"second as fer with {fastest['fer']} ({describe_spread(spread)}; "
            f"{fastest['faces_per_second_ratio']:.1f}x the faces per second), with detection recall "
            f"{recall['ours']:.0%} against {recall['fer']:.0%} on the annotated faces of {RECALL_MIN_HEIGHT} px or "
            f"more and a classifier {accuracy['ours']:.1%} against {accuracy['fer']:.1%} accurate on PrivateTest "
            f"(McNemar p = {p_value:.3g}); " + describe_goal_verdict(peer))
    conditions = describe_conditions(peer.get("conditions"))
    return f"{text} {conditions}" if conditions else text


def peer_headline_rows(peer: dict[str, Any]) -> list[dict[str, Any]]:
    """The README headline row of a ``07_peer_comparison.json`` payload: the fastest-against-fastest ratio of photos
    per second with its spread and the goal's verdict (:func:`describe_ratio`, :func:`fastest_checks`); none when
    the payload has no ``fastest`` entry."""
    fastest = peer.get("fastest")
    if not fastest:
        return []
    spread, missed = ratio_spread(fastest), [name for name, held in fastest_checks(peer).items() if not held]
    judged = "its one run" if spread["runs"] == 1 else "the worst run"
    verdict = "met" if not missed else "missed on " + ", ".join(missed)
    return [{"quantity": f"pipeline ({fastest['ours']}) vs fer ({fastest['fer']}): photos per second, ratio",
             "value": f"{describe_ratio(spread)}; goal {fastest['goal']:g}x in {judged}: {verdict}",
             "split": f"{len(peer.get('photos', []))} WIDER photos; classifier on PrivateTest",
             "protocol": (f"fastest configuration against fastest, one photo at a time, both sides interleaved run by "
                          f"run; recall on faces >= {RECALL_MIN_HEIGHT} px; McNemar p < {PEER_ALPHA:g}")}]


def describe_single_network(peer: dict[str, Any]) -> str:
    """The ``single_network`` entry of a ``07_peer_comparison.json`` payload (a single network run beside an ensemble
    default), as measured: its accuracy and photos per second against the default's with the same detector, and how
    much time per photo it saved against the most a faster classifier could save there (the default's classifier
    share of its stage time). Empty when the payload has none.

    Rule: a saving within that share is called so; a larger one is put down to the other stages' run-to-run
    variation, since a faster classifier alone cannot save more than its stage took.
    """
    single = peer.get("single_network")
    if not single:
        return ""
    detector = single["detector"]
    default = (peer["end_to_end"][detector]["ours"] if detector in peer["end_to_end"]
               else peer["ours_only"][detector])
    accuracy, measured = single["accuracy"], single["end_to_end"]
    text = (f"The default classifier ({peer['model']}) is an ensemble, which classifies each face once per member; "
            f"the single network best on PublicTest ({single['model']}) ran too, with {detector}: "
            f"{accuracy['estimate']:.1%} on PrivateTest (95 % interval {accuracy['low']:.1%}-{accuracy['high']:.1%}; "
            f"McNemar against fer p = {single['mcnemar_vs_fer']['p_value']:.3g}) against the ensemble's "
            f"{peer['classifier']['ours']['accuracy']['estimate']:.1%}, at {measured['photos_per_second']:.1f} "
            f"photos/s against {default['photos_per_second']:.1f} (classifier stage "
            f"{measured['ms_per_photo_by_stage']['classify']:.1f} against "
            f"{default['ms_per_photo_by_stage']['classify']:.1f} ms a photo).")
    stages = default["ms_per_photo_by_stage"]
    ceiling = stages["classify"] / sum(stages.values())
    saved = 1 - default["photos_per_second"] / measured["photos_per_second"]
    if saved <= ceiling:
        return text + (f" That is {saved:.0%} less time per photo, within the {ceiling:.0%} of the ensemble's stage "
                       "time its classifier took, the most a faster classifier could save.")
    return text + (f" That is {saved:.0%} less time per photo, more than the {ceiling:.0%} of the ensemble's stage "
                   "time its classifier took: the rest is run-to-run variation of the other stages.")


def describe_peer_comparison(peer: dict[str, Any]) -> str:
    """Notebook 07's paragraph on the comparison with the `fer` package, from a ``07_peer_comparison.json`` payload:
    :func:`describe_classifiers`, :func:`describe_end_to_end`, :func:`describe_fastest` and
    :func:`describe_single_network`, in that order (the last two only when the payload has them)."""
    parts = [describe_classifiers(peer), describe_end_to_end(peer), describe_fastest(peer),
             describe_single_network(peer)]
    return " ".join(part for part in parts if part)


def headline_rows(results: dict[str, Any], cores: int) -> list[dict[str, Any]]:
    """Notebook 07's README headline row (the pipeline's ms per photo) from its results document, on a machine of
    ``cores`` CPU cores."""
    system, times = results["system"], results["timing"]
    return [{"quantity": f"pipeline ({system['detector']} + {Path(system['classifier']).stem}): ms per photo",
             "value": round(times["ms_per_image"], 1), "split": f"{times['images']} WIDER photos",
             "protocol": f"one photo at a time, {cores}-core CPU, after warm-up"}]
