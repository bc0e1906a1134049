"""The sentences notebook 06 prints about the evaluation (per-class scores, confusions, uncertainty, calibration,
saliency, label noise, leakage, out-of-distribution data), each a tested function of the results it states: the
dicts notebook 06 writes to ``results/06_evaluation.json``. Notebook 06 states no verdict: the claims ledger
(notebook 08) weighs these numbers.

Every accuracy stated here is that of a model's stored release file (``models/<name>.keras``, the file the app
loads), not of its training checkpoint: a release stored with float16 weights scores slightly differently from the
float32 checkpoint notebook 05 reports (:func:`release_file`).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from emotion import CLASS_NAMES
from emotion.analysis.claims import SIGNIFICANCE
from emotion.analysis.saliency import MIN_MAP_SIDE

SALIENCY_EVEN_MARGIN = 0.10
"""Two thirds of the face are "about even" in the mean saliency map when the stronger exceeds the weaker by less than
this share (10 %)."""


def release_file(name: str, model: dict) -> str:
    """How notebook 06 names what it scored: ``*name*`` and its stored release file, with the weights' dtype when the
    release records it, and for a float16 file the float32 training checkpoint's accuracy beside it.

    Args:
        model: ``results["models"][name]`` (``file``, and when recorded ``weights_dtype``,
            ``float32_checkpoint_accuracy``).
    """
    text = f"*{name}* (stored release file `models/{model.get('file', name + '.keras')}`"
    dtype = model.get("weights_dtype")
    if dtype == "float16" and model.get("float32_checkpoint_accuracy") is not None:
        text += (f", float16 weights; its float32 training checkpoint scored "
                 f"{model['float32_checkpoint_accuracy']:.2%} on PrivateTest")
    elif dtype:
        text += f", {dtype} weights"
    return text + ")"


def accuracy_table(models: dict[str, dict]) -> pd.DataFrame:
    """One row per released model: its stored release file, the weights' dtype, and PrivateTest accuracy and macro-F1
    with 95 % bootstrap intervals (``results["models"]``), as strings ``estimate (low-high)``."""
    def cell(entry: dict) -> str:
        return f"{entry['estimate']:.4f} ({entry['low']:.4f}-{entry['high']:.4f})"

    return pd.DataFrame({name: {"stored release file": model["file"], "weights": model.get("weights_dtype") or "",
                                "accuracy (95 % CI)": cell(model["intervals"]["accuracy"]),
                                "macro-F1 (95 % CI)": cell(model["intervals"]["macro_f1"])}
                         for name, model in models.items()}).T


def headline_rows(models: dict[str, dict], ckplus: dict[str, dict]) -> list[dict]:
    """The headline rows notebook 06 writes for the README: each stored release file's PrivateTest accuracy with its
    interval, and its CK+48 accuracy when CK+ was scored (``ckplus`` empty otherwise)."""
    rows = []
    for name, model in models.items():
        interval = model["intervals"]["accuracy"]
        rows.append({"quantity": f"{name}: accuracy of the stored release file (95 % CI)",
                     "value": f"{interval['estimate']:.4f} ({interval['low']:.4f}-{interval['high']:.4f})",
                     "split": "PrivateTest", "protocol": "epoch chosen on PublicTest; bootstrap over images"})
        if name in ckplus:
            rows.append({"quantity": f"{name}: accuracy of the stored release file on CK+48 (out of distribution)",
                         "value": round(ckplus[name]["accuracy_per_image"], 4), "split": "CK+48 (6 classes)",
                         "protocol": "per image"})
    return rows


def describe_confused_pairs(confused: dict) -> str:
    """The most confused pairs of the reference model (``results["confused_pairs"]``: ``model`` and ``pairs``, each
    ``true``, ``predicted``, ``count``, ``share_of_true``), ranked as they come: by the share of the true class's
    images. Rule: when a later pair holds more images than the first, the sentence says so (a rare class leads by
    share with few images)."""
    pairs = confused["pairs"]

    def pair(entry: dict) -> str:
        total = round(entry["count"] / entry["share_of_true"]) if entry["share_of_true"] else 0
        return (f"*{entry['true']}* as *{entry['predicted']}* ({entry['count']:,} of the {total:,} {entry['true']} "
                f"images, {entry['share_of_true']:.0%})")

    largest = max(pairs, key=lambda entry: entry["count"])
    return (f"For *{confused['model']}* (the single released network best on PublicTest), the largest share of a "
            f"class's images goes to {pair(pairs[0])}" + (", then " + ", ".join(pair(entry) for entry in pairs[1:])
                                                  if len(pairs) > 1 else "") + ". "
            + (f"By count, *{largest['true']}* as *{largest['predicted']}* is the larger error ({largest['count']:,} "
               f"images against {pairs[0]['count']:,}). " if largest["count"] > pairs[0]["count"] else "")
            + "The figure shows examples of each; the FER+ section below measures how many such errors are "
            "disagreements about the label rather than mistakes.")


def interval_width(models: dict[str, dict]) -> float:
    """The mean width (accuracy units) of the models' 95 % accuracy intervals."""
    return float(np.mean([model["intervals"]["accuracy"]["high"] - model["intervals"]["accuracy"]["low"]
                          for model in models.values()]))


def describe_intervals(models: dict[str, dict], mcnemar: dict[str, dict], reference: str) -> str:
    """How uncertain the numbers are, from ``results["models"]`` (``images``, ``intervals``, ``per_class_intervals``)
    and ``results["mcnemar"]``.

    Rules: the interval width is the mean over models; of the unordered pairs of models, those with McNemar p below
    :data:`emotion.analysis.claims.SIGNIFICANCE` differ, and those among them whose accuracies differ by less than
    that width show that overlapping intervals do not mean equal models; a class's F1 interval counts as wider than
    the accuracy's when its width exceeds the reference model's accuracy interval width.
    """
    width = interval_width(models)
    images = models[reference]["images"]
    text = (f"With {images:,} test images the 95 % interval of a released file's accuracy is about "
            f"{100 * width:.1f} points wide (±{50 * width:.1f}). ")
    pairs = {tuple(sorted(key.split("_vs_"))): test for key, test in mcnemar.items()}
    if pairs:
        differ = [test for test in pairs.values() if test["p_value"] < SIGNIFICANCE]
        close = [test for test in differ if abs(test["accuracy_a"] - test["accuracy_b"]) < width]
        text += (f"Of the {len(pairs)} {'pair' if len(pairs) == 1 else 'pairs'} of models, {len(differ)} differ "
                 f"under McNemar's test on the same images (p < {SIGNIFICANCE}), {len(close)} of them by less than "
                 "that width: on the same images the paired test is sharper than comparing intervals, and overlapping "
                 "intervals do not make two models equal. ")
    else:
        text += "Only one model is released, so there is no pair to test. "
    f1 = models[reference]["per_class_intervals"]["f1"]
    accuracy = models[reference]["intervals"]["accuracy"]
    wider = [name for name, entry in f1.items() if entry["high"] - entry["low"] > accuracy["high"] - accuracy["low"]]
    widest = max(f1, key=lambda name: f1[name]["high"] - f1[name]["low"])
    return (text + f"Per class, {len(wider)} of the {len(f1)} F1 intervals of *{reference}* are wider than its "
            f"accuracy's (widest: *{widest}*): "
            + ", ".join(f"*{name}* {entry['estimate']:.2f} ({entry['low']:.2f}-{entry['high']:.2f})"
                        for name, entry in f1.items())
            + " (every model's per-class precision, recall and F1 intervals are in the results file). Spread over "
            "training seeds is a different uncertainty (which training run, not which test images): notebook 04 "
            "measures it.")


def describe_curve_heads(review: dict) -> str:
    """The paragraph of the budget-curve heads (``results["curve_heads"]``,
    :func:`emotion.analysis.curve_heads.review_heads`): per architecture with a budget curve, its longest run, the
    curve's status, and its PrivateTest accuracy with the interval where it kept predictions (else: its release
    stands for it)."""
    heads = review["heads"]
    if not heads:
        return ("**What this shows.** No architecture has a budget curve yet (`make budgets`), so its release stands "
                "for each architecture in the claims ledger.")
    parts = []
    for model, head in heads.items():
        text = f"*{model}*: *{head['run']}* ({head['epochs']} epochs; its curve: {head['status']})"
        if "intervals" in head:
            accuracy = head["intervals"]["accuracy"]
            text += (f" scores {accuracy['estimate']:.2%} ({accuracy['low']:.1%}-{accuracy['high']:.1%}) on "
                     f"{review['images']:,} PrivateTest images and stands for its architecture")
        else:
            text += " kept no PrivateTest predictions, so its release stands for it"
        parts.append(text)
    return ("**What this shows.** Architectures with a budget curve, each with its longest run: " + "; ".join(parts)
            + ". McNemar's tests between these runs and every release are in `results/06_evaluation.json` "
            "(`curve_heads`); the claims ledger (notebook 08) compares architectures by them.")


def describe_calibration(calibration: dict) -> str:
    """Calibration of the reference model's stored release file (``results["calibration"]``: ``model``,
    ``temperature``, ``mean_confidence``, ``accuracy``, ``ece_before``, ``ece_after``, ``bins``, and
    ``label_smoothing`` of its training recipe when recorded).

    Rules: a fitted temperature above 1 softens the probabilities, so the model was over-confident; below 1 it
    sharpens them (under-confident); exactly 1 leaves them. Label smoothing is named as a likely cause only for an
    under-confident model trained with it. When the mean confidence sits on the other side of the accuracy than the
    temperature says, the sentence says so (the temperature fits every image's probability, not the average). When
    the scaled ECE on PrivateTest is not lower, the sentence says the PublicTest fit does not carry over.
    """
    c = calibration
    temperature = c["temperature"]
    text = (f"*{c['model']}*'s stored release file has a mean confidence of {c['mean_confidence']:.2f} for an "
            f"accuracy of {c['accuracy']:.2f} on PrivateTest; its expected calibration error ({c.get('bins', 15)} "
            f"bins) is {c['ece_before']:.3f}. The temperature fitted on PublicTest is {temperature:.2f}")
    if temperature == 1:
        return text + ": the probabilities are left as they are."
    over = temperature > 1
    text += (": above 1, it softens the probabilities, so the model was over-confident" if over else
             ": below 1, it sharpens the probabilities, so the model was under-confident")
    if not over and c.get("label_smoothing"):
        text += (f" (it was trained with label smoothing {c['label_smoothing']:g}, which pulls probabilities toward "
                 "uniform)")
    if (c["mean_confidence"] > c["accuracy"]) != over:
        text += (f", although its mean confidence is {'below' if over else 'above'} its accuracy: the temperature "
                 "fits each image's probability, not the average")
    if c["ece_after"] < c["ece_before"]:
        return text + (f". Scaled, the ECE on PrivateTest falls to {c['ece_after']:.3f}, without changing a single "
                       "prediction.")
    return text + (f". Scaled, the ECE on PrivateTest rises to {c['ece_after']:.3f}: the temperature fitted on "
                   "PublicTest does not carry over to PrivateTest, so the release is better left unscaled.")


def describe_saliency(saliency: dict) -> str:
    """What the class-activation maps show (``results["saliency"]``: ``model``, ``images``,
    ``mean_map_by_face_third`` and, when recorded, ``feature_map`` (height, width)). Rule: the strongest third is
    named with every third within :data:`SALIENCY_EVEN_MARGIN` of it ("about even"), and the rest as weaker; all
    three within it read "about even across the face"."""
    thirds = saliency["mean_map_by_face_third"]
    ranked = sorted(thirds, key=thirds.get, reverse=True)
    top = [name for name in ranked if thirds[name] * (1 + SALIENCY_EVEN_MARGIN) > thirds[ranked[0]]]
    rest = [name for name in ranked if name not in top]

    def listed(names: list[str]) -> str:
        return " and ".join(f"the {name} at {thirds[name]:.3f}" for name in names)

    if not rest:
        finding = f"is about even across the face ({', '.join(f'{name} {thirds[name]:.3f}' for name in ranked)})"
    else:
        finding = (f"is strongest in {listed(top)}" + (", about even," if len(top) > 1 else "")
                   + f" and weaker in {listed(rest)}")
    feature_map = saliency.get("feature_map")
    where = (f"*{saliency['model']}*'s " + (f"{feature_map[0]}x{feature_map[1]} " if feature_map else "")
             + f"feature maps, the last of at least {MIN_MAP_SIDE}x{MIN_MAP_SIDE} before the head")
    return (f"For one right and one wrong example per class, HiResCAM maps (a Grad-CAM variant that keeps gradient and "
            f"activation position by position, faithful for a dense head; computed on {where}, from the pre-softmax "
            f"score) show which regions raised the predicted class's score. Averaged over these {saliency['images']} "
            f"faces the map {finding}. {saliency['images']} examples illustrate, they do not prove: read the figure "
            "as a sanity check that the model looks at the face, not at the border or a watermark.")


def describe_ferplus(ferplus: dict, model: str) -> str:
    """The reference model against FER+'s majority labels (``results["ferplus"][model]``), on the same images: the
    FER2013-label accuracy compared with the FER+ one is the one on the images that have a FER+ majority. Rule: FER+
    labels are said to score the model higher or lower as they do there."""
    same = ferplus["accuracy_fer2013_labels_on_majority_images"]
    plus = ferplus["accuracy_ferplus_majority"]
    return (f"On the {ferplus['images_with_ferplus_majority']:,} PrivateTest images with a FER+ majority, *{model}*'s "
            f"stored release file scores {plus:.1%} against the FER+ majority and {same:.1%} against FER2013's labels "
            f"({'higher' if plus > same else 'lower' if plus < same else 'the same'} with FER+; "
            f"{ferplus['accuracy_fer2013_labels']:.1%} on all {ferplus['images']:,} images). Of its "
            f"{ferplus['fer2013_errors']:,} errors against FER2013's labels, "
            f"{ferplus['errors_where_ferplus_majority_agrees_with_model']:,} "
            f"({ferplus['share_of_errors_that_are_label_disagreements']:.0%}) are images where the FER+ majority of "
            "ten annotators sides with the model against the original label.")


def describe_leakage(leakage: dict, model: str) -> str:
    """Accuracy on PrivateTest images with an exact copy in Training against the rest (``results["leakage"][model]``).
    Rule: the copies are "clearly" easier when their 95 % interval lies wholly above the rest's; without an interval
    (fewer than two copies) only the counts are stated."""
    leaked, rest = leakage["with_copy_in_training"], leakage["without"]
    total = leaked["n"] + rest["n"]
    text = f"{leaked['n']:,} of the {total:,} PrivateTest images have an exact copy in Training. "
    if "accuracy" in leaked and "accuracy" in rest:
        clear = leaked["accuracy"]["low"] > rest["accuracy"]["high"]
        text += (f"*{model}*'s stored release file is right on {leaked['accuracy']['estimate']:.1%} of them (95 % "
                 f"interval {leaked['accuracy']['low']:.1%}-{leaked['accuracy']['high']:.1%}) against "
                 f"{rest['accuracy']['estimate']:.1%} on the rest"
                 + (", clearly easier: the intervals do not overlap. " if clear else
                    "; the intervals overlap, so the copies are not clearly easier. "))
    return text + (f"Removing them moves its accuracy from {leakage['accuracy_all']:.2%} to "
                   f"{leakage['accuracy_if_leaked_images_removed']:.2%} "
                   f"({100 * (leakage['accuracy_if_leaked_images_removed'] - leakage['accuracy_all']):+.2f} points).")


def describe_imbalance(imbalance: dict) -> str:
    """Whether F1 follows the number of training images (``results["imbalance"]``). Rules: the worst and the rarest
    class are named and said to coincide or not; the Spearman correlation is called significant when its p-value is
    below :data:`emotion.analysis.claims.SIGNIFICANCE` (undefined when every class has the same F1)."""
    worst, rarest = imbalance["worst_f1_class"], imbalance["rarest_class"]
    spearman, p_value = imbalance["spearman_training_count_vs_f1"], imbalance["spearman_p_value"]
    classes = imbalance.get("classes", len(CLASS_NAMES))
    text = (f"The lowest F1 belongs to *{worst}* and the rarest class of Training is *{rarest}*"
            + (": the same class. " if worst == rarest else ": the worst class is not the rarest. "))
    if spearman is None:
        text += "The correlation of F1 with the number of training images is undefined (every class has the same F1). "
    else:
        text += (f"Across the {classes} classes, F1 and the number of training images have a Spearman correlation of "
                 f"{spearman:.2f} (p = {p_value:.2f}, only {classes} points: "
                 + ("significant" if p_value < SIGNIFICANCE else "no significant monotone relation")
                 + f" at {SIGNIFICANCE}). ")
    text += ("Correlation is not cause: a class can be hard for other reasons, such as ambiguous labels (notebook 01 "
             "counts how often FER+ relabels each class). The causal test, class-weighted training at the same "
             "budget, is in notebook 04; ")
    return text + ("the claims ledger (notebook 08, claim `disgust`) judges the worst class of a model whose budget "
                   "curve has settled where there is one (below), else this model's and the budget it was "
                   "trained at, and weighs the causal test only when the worst class is the rarest.")


def describe_settled_imbalance(settled: dict | None) -> str:
    """Whether the rarest class is the worst in the settled head PublicTest ranks first (``results[
    "imbalance_settled"]``, :func:`emotion.analysis.curve_heads.settled_imbalance`). Rule
    (:func:`emotion.analysis.training_rules.rarest_class_rule`): the paired bootstrap interval of the rarest class's
    F1 minus the lowest other's lies above zero (not the worst), below (the worst) or holds zero (cannot tell)."""
    from emotion.analysis.training_rules import rarest_class_rule

    if settled is None:
        return ("No architecture's budget curve has settled with its PrivateTest predictions at hand, so whether the "
                "rarest class is the worst is known only for the short-trained model above; the claims ledger "
                "(notebook 08, claim `disgust`) waits for a settled curve.")
    gap, rarest = settled["rarest_f1_gap"], settled["rarest_class"]
    standing = {"not the worst": "the interval lies above zero: it is not the worst class",
                "the worst": "the interval lies below zero: it is the worst class",
                "undecided": "the interval holds zero: these images cannot tell whether it is the worst class"
                }[rarest_class_rule(gap)]
    other = gap["lowest_other"]
    return (f"Among the runs whose budget curve has settled and whose PrivateTest predictions are at hand, PublicTest "
            f"ranks *{settled['run']}* ({settled['model']}, {settled['epochs']} epochs) first. Its lowest F1 belongs "
            f"to *{settled['worst_f1_class']}*. *{rarest}*, the rarest class of Training, has an F1 of "
            f"{settled['f1'][rarest]:.3f}; minus the lowest of the other classes (*{other}*, "
            f"{settled['f1'][other]:.3f}) that is {gap['estimate']:+.3f}, with a {gap['confidence']:.0%} paired "
            f"bootstrap interval of {gap['low']:+.3f} to {gap['high']:+.3f} over {settled['images']:,} PrivateTest "
            f"images, {settled['rarest_test_images']} of them *{rarest}*, and {gap['share_below_zero']:.0%} of the "
            f"redraws put it below: {standing}. The claims ledger (notebook 08, claim `disgust`) weighs this run "
            "first.")


def describe_ckplus(ckplus: dict, privatetest_accuracy: float) -> str:
    """The reference model on CK+48 (``results["ckplus"][model]``) beside its PrivateTest accuracy; names the classes
    with the lowest recall and how often it answers *neutral*, a class CK+48 does not have."""
    recall = ckplus["recall_per_class"]
    weakest = sorted(recall, key=recall.get)[:2]
    return (f"*{ckplus['model']}*'s stored release file scores {ckplus['accuracy_per_image']:.1%} per image on CK+48 "
            f"({ckplus['images']:,} images, {ckplus['subjects']} subjects; {ckplus['accuracy_mean_over_subjects']:.1%} "
            f"averaged per subject) against {privatetest_accuracy:.1%} on FER2013's PrivateTest, and answers "
            f"*neutral* for {ckplus['share_predicted_neutral']:.0%} of these expressive faces. Its lowest recall is on "
            + " and ".join(f"*{name}* ({recall[name]:.0%})" for name in weakest)
            + ". CK+48 has no neutral class and posed, frontal faces, so the two accuracies are not on the same task; "
            "the paper's test on its own photos cannot be checked (they are not published).")


def describe_conclusion(models: dict[str, dict], reference: str, ferplus: dict, leakage: dict,
                        ckplus: dict | None) -> str:
    """Notebook 06's conclusion: the interval width, the reference model's label disagreements, the leakage shift and
    CK+48 score (or that CK+ was skipped), and where the claims are decided (notebook 08's ledger)."""
    shift = 100 * (leakage["accuracy_if_leaked_images_removed"] - leakage["accuracy_all"])
    return (f"The stored release files were scored once on PrivateTest, with checkpoints chosen on PublicTest. Their "
            f"accuracies carry 95 % intervals about {100 * interval_width(models):.1f} points wide; "
            f"{ferplus['share_of_errors_that_are_label_disagreements']:.0%} of *{reference}*'s errors are images where "
            f"FER+'s annotators side with the model; removing the leaked duplicates moves its accuracy by "
            f"{shift:+.2f} points; "
            + (f"on CK+48 it scores {ckplus['accuracy_per_image']:.1%}. " if ckplus else
               "CK+48 was not in the data folder, so its section was skipped. ")
            + "The cell below writes every number to `results/06_evaluation.json`, each estimate with its split, "
            "protocol and interval; the claims ledger (notebook 08) weighs them, with the training runs and their "
            "budgets, into a verdict on each of the paper's claims.")
