"""Notebook 06's sentences (emotion.analysis.evaluation_prose): each wording on both sides of the number that flips
it, and every function fed the committed full-mode results."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from emotion import CLASS_NAMES
from emotion.analysis import evaluation_prose as prose
from emotion.analysis.claims import SIGNIFICANCE

RESULTS = Path(__file__).resolve().parent.parent / "results"


def interval(estimate, half=0.015):
    return {"estimate": estimate, "low": estimate - half, "high": estimate + half}


def model(accuracy, f1_half=0.02, **extra):
    return {"file": "m.keras", "images": 3589, "intervals": {"accuracy": interval(accuracy), "macro_f1": interval(0.6)},
            "per_class_intervals": {"f1": {name: interval(0.5, f1_half) for name in CLASS_NAMES}}, **extra}


def test_the_release_file_says_float16_and_the_checkpoint_beside_it():
    assert prose.release_file("r", {"file": "r.keras", "weights_dtype": "float16",
                                    "float32_checkpoint_accuracy": 0.5968}) == (
        "*r* (stored release file `models/r.keras`, float16 weights; its float32 training checkpoint scored 59.68% "
        "on PrivateTest)")
    assert prose.release_file("b", {"file": "b.keras", "weights_dtype": "float32"}) == (
        "*b* (stored release file `models/b.keras`, float32 weights)")
    assert prose.release_file("c", {"file": "c.keras"}) == "*c* (stored release file `models/c.keras`)"


def test_the_accuracy_table_and_headline_name_the_stored_release_file():
    models = {"r": model(0.5985, weights_dtype="float16", file="r.keras")}
    table = prose.accuracy_table(models)
    assert table.loc["r", "stored release file"] == "r.keras" and table.loc["r", "weights"] == "float16"
    assert table.loc["r", "accuracy (95 % CI)"] == "0.5985 (0.5835-0.6135)"
    rows = prose.headline_rows(models, {"r": {"accuracy_per_image": 0.70011}})
    assert [row["quantity"] for row in rows] == [
        "r: accuracy of the stored release file (95 % CI)",
        "r: accuracy of the stored release file on CK+48 (out of distribution)"]
    assert rows[1]["value"] == 0.7001 and len(prose.headline_rows(models, {})) == 1


def test_the_confused_pairs_say_when_a_later_pair_holds_more_images():
    pairs = [{"true": "disgust", "predicted": "angry", "count": 12, "share_of_true": 12 / 55},
             {"true": "sad", "predicted": "neutral", "count": 115, "share_of_true": 115 / 594}]
    text = prose.describe_confused_pairs({"model": "m", "pairs": pairs})
    assert "*disgust* as *angry* (12 of the 55 disgust images, 22%), then *sad* as *neutral* (115 of the 594" in text
    assert "By count, *sad* as *neutral* is the larger error (115 images against 12)." in text
    pairs[1]["count"] = 12
    assert "By count" not in prose.describe_confused_pairs({"model": "m", "pairs": pairs})


def test_the_interval_sentence_counts_pairs_at_the_significance_level_and_within_the_width():
    models = {"a": model(0.60), "b": model(0.62)}  # every accuracy interval is 3.0 points wide
    tests = {"a_vs_b": {"p_value": SIGNIFICANCE - 1e-9, "accuracy_a": 0.60, "accuracy_b": 0.62},
             "b_vs_a": {"p_value": SIGNIFICANCE - 1e-9, "accuracy_a": 0.62, "accuracy_b": 0.60}}
    text = prose.describe_intervals(models, tests, "a")
    assert "3,589 test images" in text and "about 3.0 points wide (±1.5)" in text
    assert "Of the 1 pair of models, 1 differ under McNemar's test on the same images (p < 0.05), 1 of them by " \
           "less than that width" in text
    at_level = {key: {**test, "p_value": SIGNIFICANCE} for key, test in tests.items()}
    assert "1 pair of models, 0 differ" in prose.describe_intervals(models, at_level, "a")
    apart = {"a_vs_b": {**tests["a_vs_b"], "accuracy_b": 0.65}, "b_vs_a": {**tests["b_vs_a"], "accuracy_a": 0.65}}
    assert "1 differ under McNemar's test on the same images (p < 0.05), 0 of them" in \
        prose.describe_intervals(models, apart, "a")
    assert "Per class, 7 of the 7 F1 intervals of *a* are wider" in text  # 4.0 > 3.0 points
    narrow = {"a": model(0.60, f1_half=0.015)}  # as wide as the accuracy's: not wider
    text = prose.describe_intervals(narrow, {}, "a")
    assert "Per class, 0 of the 7 F1 intervals" in text and "Only one model is released" in text


CALIBRATION = {"model": "m", "mean_confidence": 0.71, "accuracy": 0.66, "ece_before": 0.052, "ece_after": 0.013,
               "bins": 15}


def test_the_calibration_sentence_follows_the_temperature():
    over = prose.describe_calibration({**CALIBRATION, "temperature": 1.31, "label_smoothing": 0.1})
    assert over == ("*m*'s stored release file has a mean confidence of 0.71 for an accuracy of 0.66 on PrivateTest; "
                    "its expected calibration error (15 bins) is 0.052. The temperature fitted on PublicTest is 1.31: "
                    "above 1, it softens the probabilities, so the model was over-confident. Scaled, the ECE on "
                    "PrivateTest falls to 0.013, without changing a single prediction.")
    under = prose.describe_calibration({**CALIBRATION, "temperature": 0.92, "label_smoothing": 0.1})
    assert "under-confident (it was trained with label smoothing 0.1" in under
    assert ", although its mean confidence is above its accuracy" in under  # 0.71 > 0.66 against T < 1
    no_smoothing = prose.describe_calibration({**CALIBRATION, "temperature": 0.92, "label_smoothing": 0.0})
    assert "label smoothing" not in no_smoothing
    assert prose.describe_calibration({**CALIBRATION, "temperature": 1.0}).endswith("left as they are.")
    worse = prose.describe_calibration({**CALIBRATION, "temperature": 1.31, "ece_after": 0.052})
    assert "rises to 0.052: the temperature fitted on PublicTest does not carry over" in worse


def test_the_saliency_sentence_groups_thirds_within_the_margin():
    def saliency(upper, middle, lower):
        return {"model": "m", "images": 14, "feature_map": [10, 10], "mean_map_by_face_third": {
            "upper third": upper, "middle third": middle, "lower third": lower}}

    clear = prose.describe_saliency(saliency(0.100, 0.1101, 0.05))  # 10.1 % above the next: stands alone
    assert "10x10 feature maps, the last of at least 6x6" in clear
    assert "is strongest in the middle third at 0.110 and weaker in the upper third at 0.100 and the lower" in clear
    even = prose.describe_saliency(saliency(0.100, 0.1099, 0.05))
    assert "strongest in the middle third at 0.110 and the upper third at 0.100, about even, and weaker in the lower" \
        in even
    assert "is about even across the face" in prose.describe_saliency(saliency(0.100, 0.105, 0.101))


def test_the_ferplus_sentence_compares_on_the_same_images():
    entry = {"images": 3589, "images_with_ferplus_majority": 3137, "accuracy_fer2013_labels": 0.7024,
             "accuracy_fer2013_labels_on_majority_images": 0.7255, "accuracy_ferplus_majority": 0.7208,
             "fer2013_errors": 1068, "errors_where_ferplus_majority_agrees_with_model": 400,
             "share_of_errors_that_are_label_disagreements": 400 / 1068}
    text = prose.describe_ferplus(entry, "m")
    assert "scores 72.1% against the FER+ majority and 72.5% against FER2013's labels (lower with FER+" in text
    assert "Of its 1,068 errors against FER2013's labels, 400 (37%)" in text
    assert "(higher with FER+" in prose.describe_ferplus({**entry, "accuracy_ferplus_majority": 0.73}, "m")
    assert "(the same with FER+" in prose.describe_ferplus({**entry, "accuracy_ferplus_majority": 0.7255}, "m")


def test_the_leakage_sentence_calls_the_copies_easier_only_when_the_intervals_part():
    def leakage(low):
        return {"with_copy_in_training": {"n": 288, "accuracy": {"estimate": 0.878, "low": low, "high": 0.91}},
                "without": {"n": 3301, "accuracy": {"estimate": 0.687, "low": 0.671, "high": 0.704}},
                "accuracy_all": 0.7024, "accuracy_if_leaked_images_removed": 0.6871}

    apart = prose.describe_leakage(leakage(0.705), "m")
    assert apart.startswith("288 of the 3,589 PrivateTest images") and "clearly easier" in apart
    assert apart.endswith("from 70.24% to 68.71% (-1.53 points).")
    assert "not clearly easier" in prose.describe_leakage(leakage(0.704), "m")
    few = {"with_copy_in_training": {"n": 1}, "without": {"n": 299, "accuracy": interval(0.7)}, "accuracy_all": 0.7,
           "accuracy_if_leaked_images_removed": 0.699}
    assert "right on" not in prose.describe_leakage(few, "m")


def test_the_imbalance_sentence_follows_the_classes_and_the_p_value():
    imbalance = {"worst_f1_class": "fear", "rarest_class": "disgust", "spearman_training_count_vs_f1": 0.04,
                 "spearman_p_value": SIGNIFICANCE, "classes": 7}
    text = prose.describe_imbalance(imbalance)
    assert "*fear* and the rarest class of Training is *disgust*: the worst class is not the rarest" in text
    assert "0.04 (p = 0.05, only 7 points: no significant monotone relation at 0.05)" in text
    significant = prose.describe_imbalance({**imbalance, "worst_f1_class": "disgust", "spearman_p_value": 0.049})
    assert ": the same class." in significant and "only 7 points: significant at 0.05" in significant
    # What the ledger does (claims.disgust_claim) is said without presuming the settled model's answer.
    for sentence in (text, significant):
        assert sentence.endswith("(notebook 08, claim `disgust`) judges the worst class of a model whose budget curve "
                                 "has settled where there is one (below), else this model's and the budget it "
                                 "was trained at, and weighs the causal test only when the worst class is the rarest.")
    assert "undefined" in prose.describe_imbalance({**imbalance, "spearman_training_count_vs_f1": None,
                                                    "spearman_p_value": None})


def test_the_settled_imbalance_sentence_follows_the_interval():
    from emotion.analysis.ledger import stated_verdicts

    def settled(low, high):
        return {"run": "basic_cnn_60ep", "model": "basic_cnn", "epochs": 60, "worst_f1_class": "fear",
                "rarest_class": "disgust", "images": 3589, "rarest_test_images": 55,
                "f1": {"disgust": 0.639, "fear": 0.524},
                "rarest_f1_gap": {"lowest_other": "fear", "estimate": 0.115, "low": low, "high": high,
                                  "share_below_zero": 0.042, "confidence": 0.95}}

    text = prose.describe_settled_imbalance(settled(0.01, 0.22))
    assert text.startswith("Among the runs whose budget curve has settled and whose PrivateTest predictions are at "
                           "hand, PublicTest ranks *basic_cnn_60ep* (basic_cnn, 60 epochs) first. Its lowest F1 "
                           "belongs to *fear*.")
    assert ("F1 of 0.639; minus the lowest of the other classes (*fear*, 0.524) that is +0.115, with a 95% paired "
            "bootstrap interval of +0.010 to +0.220 over 3,589 PrivateTest images, 55 of them *disgust*, and 4% of the "
            "redraws put it below: the interval lies above zero: it is not the worst class.") in text
    assert "cannot tell" in prose.describe_settled_imbalance(settled(-0.01, 0.22))
    assert "it is the worst class" in prose.describe_settled_imbalance(settled(-0.2, -0.01))
    assert stated_verdicts(text) == ([], [])
    assert "waits for a settled curve" in prose.describe_settled_imbalance(None)


def test_the_ckplus_sentence_names_the_weakest_classes():
    ck = {"model": "m", "images": 927, "subjects": 106, "accuracy_per_image": 0.70,
          "accuracy_mean_over_subjects": 0.716, "share_predicted_neutral": 0.055,
          "recall_per_class": {"angry": 0.47, "disgust": 0.29, "fear": 0.28, "happy": 1.0}}
    text = prose.describe_ckplus(ck, 0.7024)
    assert "70.0% per image on CK+48 (927 images, 106 subjects; 71.6% averaged per subject) against 70.2%" in text
    assert "Its lowest recall is on *fear* (28%) and *disgust* (29%)." in text and "for 6% of these" in text


def test_the_conclusion_states_no_verdict_and_hands_the_claims_to_the_ledger():
    from emotion.analysis.ledger import stated_verdicts

    models = {"a": model(0.6)}
    leakage = {"accuracy_all": 0.7024, "accuracy_if_leaked_images_removed": 0.6871}
    ferplus = {"share_of_errors_that_are_label_disagreements": 0.3745}
    text = prose.describe_conclusion(models, "a", ferplus, leakage, None)
    assert "about 3.0 points wide; 37% of *a*'s errors" in text and "by -1.53 points; CK+48 was not" in text
    assert stated_verdicts(text) == ([], []) and "the claims ledger (notebook 08)" in text
    assert "on CK+48 it scores 70.0%." in prose.describe_conclusion(models, "a", ferplus, leakage,
                                                                    {"accuracy_per_image": 0.7})


def committed(name):
    path = RESULTS / name
    if not path.is_file():
        pytest.skip(f"results/{name} is not committed yet: run notebook 06 in full mode (make figures)")
    return json.loads(path.read_text())


def test_the_sentences_state_the_committed_full_run():
    results = committed("06_evaluation.json")
    if results["meta"]["mode"] != "full":
        pytest.skip("results/06_evaluation.json is not from a full run")
    reference = results["confused_pairs"]["model"]
    models, ferplus = results["models"], results["ferplus"][reference]
    first = results["confused_pairs"]["pairs"][0]
    assert f"({first['count']:,} of the" in prose.describe_confused_pairs(results["confused_pairs"])
    width = prose.interval_width(models)
    assert f"about {100 * width:.1f} points wide" in prose.describe_intervals(models, results["mcnemar"], reference)
    calibration = prose.describe_calibration(results["calibration"])
    assert f"is {results['calibration']['temperature']:.2f}" in calibration
    assert f"{results['calibration']['ece_after']:.3f}" in calibration
    assert f"these {results['saliency']['images']} faces" in prose.describe_saliency(results["saliency"])
    assert f"{ferplus['accuracy_ferplus_majority']:.1%} against the FER+ majority" in \
        prose.describe_ferplus(ferplus, reference)
    leakage = results["leakage"][reference]
    assert f"to {leakage['accuracy_if_leaked_images_removed']:.2%}" in prose.describe_leakage(leakage, reference)
    assert f"*{results['imbalance']['worst_f1_class']}*" in prose.describe_imbalance(results["imbalance"])
    if results.get("imbalance_settled"):
        settled = results["imbalance_settled"]
        assert f"ranks *{settled['run']}* ({settled['model']}" in prose.describe_settled_imbalance(settled)
    accuracy = models[reference]["intervals"]["accuracy"]["estimate"]
    if results["ckplus"]:
        ck = results["ckplus"][reference]
        assert f"{ck['accuracy_per_image']:.1%} per image" in prose.describe_ckplus(ck, accuracy)
    conclusion = prose.describe_conclusion(models, reference, ferplus, leakage, results["ckplus"].get(reference))
    assert f"{ferplus['share_of_errors_that_are_label_disagreements']:.0%} of *{reference}*'s errors" in conclusion
    table = prose.accuracy_table(models)
    assert table.loc[reference, "accuracy (95 % CI)"].startswith(f"{accuracy:.4f}")
    if "weights_dtype" not in models[reference]:
        pytest.skip("results/06_evaluation.json predates the stored file's dtype: re-run notebook 06 in full mode")
    assert prose.release_file(reference, models[reference]).startswith(f"*{reference}* (stored release file")


def test_the_heads_paragraph_says_which_run_stands_for_each_architecture():
    from emotion.analysis.evaluation_prose import describe_curve_heads

    assert "No architecture has a budget curve yet" in describe_curve_heads({"heads": {}, "mcnemar": {}, "images": 9})
    scored = {"run": "basic_cnn_60ep", "epochs": 60, "status": "paper budget",
              "intervals": {"accuracy": {"estimate": 0.6812, "low": 0.666, "high": 0.697}}}
    unscored = {"run": "resnet18_26ep", "epochs": 26, "status": "still rising"}
    text = describe_curve_heads({"heads": {"basic_cnn": scored, "resnet18": unscored}, "mcnemar": {}, "images": 3589})
    assert ("*basic_cnn*: *basic_cnn_60ep* (60 epochs; its curve: paper budget) scores 68.12% (66.6%-69.7%) on 3,589 "
            "PrivateTest images and stands for its architecture") in text
    assert "*resnet18*: *resnet18_26ep* (26 epochs; its curve: still rising) kept no PrivateTest predictions" in text
