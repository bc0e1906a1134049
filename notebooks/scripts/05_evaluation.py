# %% [markdown]
# # 05 · Evaluation and methodology review: how far to trust the numbers
#
# **Question.** For every released model: how good is it per class (the paper's Table 4 layout), how uncertain are
# its numbers, are its probabilities honest, what does it look at, how much of its "error" is disagreement about the
# label, how much do duplicates between Training and PrivateTest flatter it, how badly does it fail out of
# distribution, and which of the paper's claims survive? (The training-side questions -- spread over seeds,
# test-set selection bias, class weighting, augmentation -- are measured by notebook 07 from the experiment runs; the
# ledger here uses the same functions, `emotion.analysis.ablations`, for its verdicts.)
#
# **Produces** (full mode): `figures/05_confusion_<model>.png`, `figures/05_confused_pairs.png`,
# `figures/05_intervals.png`, `figures/05_reliability.png`, `figures/05_gradcam.png`, `results/05_evaluation.json`
# (every number, with split, protocol and 95 % interval) and `results/05_claims.json` (the claims ledger).
#
# **Run time:** the README's run-time table (from `results/00_runtimes.json`) has the measured figures for each mode
# (inference only: models are never retrained here; smoke mode uses a few hundred images).
#
# **Protocol.** Every model was fit on Training with its checkpoint chosen on PublicTest (notebook 03); here
# PrivateTest is only predicted. Temperature scaling is fitted on PublicTest and applied to PrivateTest.

# %% tags=["parameters"]
mode = "full"  # "full": all PrivateTest images, figures/ and results/; "smoke": a few hundred images, build/smoke/
seed = 0
figures_dir = "../figures"
results_dir = "../results"
models_dir = "../models"  # released weights
released_results_dir = "../results"  # their results/03_train_*.json (read only, also in smoke mode)
bootstrap_resamples = 2000

# %%
from pathlib import Path

import numpy as np
import pandas as pd
from IPython.display import Markdown, display

from emotion import CLASS_NAMES
from emotion.analysis import ablations, claims, review
from emotion.classify.training_cost import load_training_cost
from emotion.figures import evaluation_plots, plots
from emotion.data.cohn_kanade import load_ckplus
from emotion.data.datacheck import missing_ckplus_note
from emotion.analysis.error_analysis import examples_of, most_confused_pairs
from emotion.classify.evaluate import load_model, predict_probabilities
from emotion.data.fer2013 import class_counts, load_fer2013
from emotion.data.ferplus import VOTE_COLUMNS, load_ferplus_votes, majority_labels
from emotion.data.leakage import find_duplicates, rows_with_copy_in
from emotion.study.results import package_versions, read_results, write_results
from emotion.analysis.saliency import MIN_MAP_SIDE, grad_cam, last_spatial_layer
from emotion.analysis.uncertainty import per_class_intervals

figures_dir, results_dir = Path(figures_dir), Path(results_dir)
limit = None if mode == "full" else 300
resamples = bootstrap_resamples if mode == "full" else 200
results = {"protocol": "fit on Training, checkpoint chosen on PublicTest (notebook 03), PrivateTest predicted once "
                       "here; temperature fitted on PublicTest", "headline": []}

# %% [markdown]
# ## Which models, and what do they predict?

# %%
models = review.released_models(Path(released_results_dir), Path(models_dir))
data = load_fer2013()
test_rows = data.indices("PrivateTest")[:limit]
public_rows = data.indices("PublicTest")[:limit]
labels, public_labels = data.labels[test_rows], data.labels[public_rows]
loaded = {name: load_model(entry["path"]) for name, entry in models.items()}
probabilities = {name: predict_probabilities(model, data.images[test_rows]) for name, model in loaded.items()}
public_probabilities = {name: predict_probabilities(model, data.images[public_rows]) for name, model in loaded.items()}
predictions = {name: values.argmax(axis=1) for name, values in probabilities.items()}
results["models"] = {name: {"file": entry["model_file"], "chosen_epoch": entry["chosen_epoch"],
                            "images": int(len(test_rows))} for name, entry in models.items()}
pd.DataFrame(results["models"]).T

# %% [markdown]
# ## Per class: the paper's Table 4 layout
#
# Precision, recall and F1 per class on PrivateTest, with macro and weighted averages. The paper's own per-class
# values are not part of the study's materials, so only its headline numbers are compared (claims ledger below).

# %%
tables = {name: review.per_class_table(labels, predictions[name]) for name in models}
for name, table in tables.items():
    results["models"][name]["per_class"] = review.table_records(table)
    matrix = pd.crosstab(pd.Categorical(labels, categories=range(7)), pd.Categorical(predictions[name], categories=range(7)),
                         dropna=False).to_numpy()
    results["models"][name]["confusion_matrix"] = matrix.tolist()
    plots.save_figure(plots.confusion_heatmap(matrix, f"{name}: PrivateTest confusion (rows sum to 1)"),
                      figures_dir / f"05_confusion_{name}.png")
pd.concat({name: table.round(3) for name, table in tables.items()}, axis=1)

# %% [markdown]
# ## Which emotions are confused, and what do those faces look like?

# %%
reference = max(models, key=lambda name: models[name]["publictest_accuracy_at_chosen_epoch"])
pairs = most_confused_pairs(np.array(results["models"][reference]["confusion_matrix"]), top=4)
groups = [(f"{pair['true']} as {pair['predicted']}",
           data.images[test_rows][examples_of(labels, predictions[reference], CLASS_NAMES.index(pair["true"]),
                                              CLASS_NAMES.index(pair["predicted"]), seed=seed)]) for pair in pairs]
plots.save_figure(evaluation_plots.image_rows(groups), figures_dir / "05_confused_pairs.png")
results["confused_pairs"] = {"model": reference, "pairs": pairs}
display(Markdown(
    f"**What this shows.** For *{reference}* (the released model best on PublicTest), the most confused pair is "
    f"*{pairs[0]['true']}* predicted as *{pairs[0]['predicted']}* ({pairs[0]['share_of_true']:.0%} of the "
    f"{pairs[0]['true']} images), then " + ", ".join(f"*{p['true']}* as *{p['predicted']}* ({p['share_of_true']:.0%})"
    for p in pairs[1:]) + ". The figure shows examples of each; the FER+ section below measures how many such errors "
    "are disagreements about the label rather than mistakes."
))

# %% [markdown]
# ## How uncertain are the numbers?
#
# 95 % percentile-bootstrap intervals over PrivateTest images, and McNemar's exact test for every pair of models on
# the same images.

# %%
for name in models:
    results["models"][name]["intervals"] = review.intervals(labels, predictions[name], resamples, seed)
    results["models"][name]["per_class_intervals"] = {
        metric: dict(zip(CLASS_NAMES, entries)) for metric, entries in
        per_class_intervals(labels, predictions[name], resamples=resamples, seed=seed).items()}
names = list(models)
results["mcnemar"] = review.pairwise_mcnemar(labels, predictions)
plots.save_figure(evaluation_plots.interval_plot({name: results["models"][name]["intervals"]["accuracy"] for name in names},
                                                 "PrivateTest accuracy", claims.PAPER_FER2013_ACCURACY, f"paper's {claims.PAPER_FER2013_ACCURACY:.2%}"),
                  figures_dir / "05_intervals.png")
pd.DataFrame({name: {"accuracy": f"{v['accuracy']['estimate']:.4f} ({v['accuracy']['low']:.4f}-{v['accuracy']['high']:.4f})",
                     "macro-F1": f"{v['macro_f1']['estimate']:.4f} ({v['macro_f1']['low']:.4f}-{v['macro_f1']['high']:.4f})"}
              for name, v in ((n, results["models"][n]["intervals"]) for n in names)}).T

# %%
widths = {name: results["models"][name]["intervals"]["accuracy"]["high"] - results["models"][name]["intervals"]["accuracy"]["low"]
          for name in names}
display(Markdown(
    f"**What this shows.** With {len(labels):,} test images the 95 % interval of an accuracy is about "
    f"{100 * np.mean(list(widths.values())):.1f} points wide (±{50 * np.mean(list(widths.values())):.1f}): a difference between two "
    f"models' accuracies smaller than that is not, by itself, evidence, whatever a results table's decimals suggest. "
    + (f"McNemar's test on the same images is sharper than comparing intervals: see `mcnemar` in the results file."
       if len(names) > 1 else "Only one model is released so far, so there is no pair to test.")
    + " Per class the intervals are wider (widest F1 interval: *"
    + max(results["models"][reference]["per_class_intervals"]["f1"].items(), key=lambda item: item[1]["high"] - item[1]["low"])[0]
    + "*): "
    + ", ".join(f"*{name}* F1 {entry['estimate']:.2f} ({entry['low']:.2f}-{entry['high']:.2f})" for name, entry in
                results["models"][reference]["per_class_intervals"]["f1"].items())
    + f" for *{reference}* (all models' per-class precision, recall and F1 intervals are in the results file). "
    "Spread over training seeds is a different uncertainty (which training run, not which test images): notebook 07 "
    "measures it."
))

# %% [markdown]
# ## Are the probabilities honest? Calibration before and after temperature scaling

# %%
numbers, bins = review.calibration_review(public_probabilities[reference], public_labels,
                                         probabilities[reference], labels)
plots.save_figure(evaluation_plots.reliability_diagram(bins, numbers["ece_by_variant"]), figures_dir / "05_reliability.png")
results["calibration"] = {**numbers, "model": reference}
c = results["calibration"]
display(Markdown("**What this shows.** " + review.describe_calibration(c, reference)))

# %% [markdown]
# ## What does the model look at? Class-activation maps per class

# %%
indices, titles = review.saliency_examples(labels, predictions[reference], seed=seed)
maps = grad_cam(loaded[reference], data.images[test_rows][indices], predictions[reference][indices])
feature_map = loaded[reference].get_layer(last_spatial_layer(loaded[reference])).output.shape[1:3]
plots.save_figure(evaluation_plots.saliency_grid(data.images[test_rows][indices], maps, titles, columns=7),
                  figures_dir / "05_gradcam.png")
thirds = review.saliency_by_region(maps)
results["saliency"] = {"model": reference, "images": int(len(indices)), "mean_map_by_face_third": thirds}
display(Markdown(
    f"**What this shows.** For one right and one wrong example per class, HiResCAM maps (a Grad-CAM variant that "
    f"keeps gradient and activation position by position, faithful for a dense head; computed on "
    f"*{reference}*'s {feature_map[0]}x{feature_map[1]} feature maps, the last of at least {MIN_MAP_SIDE}x{MIN_MAP_SIDE} before the head, from the pre-softmax score) show which regions raised the predicted "
    f"class's score. Averaged over these {len(indices)} faces the map is strongest in the "
    f"{max(thirds, key=thirds.get)}. {len(indices)} examples illustrate, they do not prove: read the figure as a sanity "
    f"check that the model looks at the face, not at the border or a watermark."
))

# %% [markdown]
# ## How many "errors" are disagreements about the label? FER+ on PrivateTest

# %%
votes = load_ferplus_votes(expected_rows=len(data.labels))
ferplus_labels = majority_labels(votes[list(VOTE_COLUMNS)].to_numpy())[test_rows]
results["ferplus"] = {name: review.ferplus_review(labels, predictions[name], ferplus_labels) for name in models}
f = results["ferplus"][reference]
display(pd.DataFrame(results["ferplus"]).T.round(4))
display(Markdown(
    f"**What this shows.** *{reference}* scores {f['accuracy_fer2013_labels']:.1%} against FER2013's labels and "
    f"{f['accuracy_ferplus_majority']:.1%} against the FER+ majority on the {f['images_with_ferplus_majority']:,} "
    f"images that have one. Of its {f['fer2013_errors']:,} errors, {f['errors_where_ferplus_majority_agrees_with_model']:,} "
    f"({f['share_of_errors_that_are_label_disagreements']:.0%}) are images where ten annotators side with the model "
    f"against the original label."
))

# %% [markdown]
# ## Does leakage flatter the score? Test images with an exact copy in Training

# %%
duplicates = find_duplicates(data.images, data.labels, data.usage)
leaked = np.isin(test_rows, rows_with_copy_in(duplicates, data.usage, "PrivateTest", "Training"))
results["leakage"] = {name: review.leakage_review(labels, predictions[name], leaked, resamples, seed) for name in models}
l = results["leakage"][reference]
display(Markdown(
    f"**What this shows.** {l['with_copy_in_training']['n']} of the {len(test_rows):,} PrivateTest images have an "
    f"exact copy in Training. *{reference}* is right on "
    + (f"{l['with_copy_in_training']['accuracy']['estimate']:.1%} of them " if "accuracy" in l["with_copy_in_training"] else "")
    + f"against {l['without']['accuracy']['estimate']:.1%} on the rest; removing them moves its accuracy from "
    f"{l['accuracy_all']:.2%} to {l['accuracy_if_leaked_images_removed']:.2%}."
))

# %% [markdown]
# ## Is disgust worst because it is rare?

# %%
training_counts = class_counts(data.labels, data.usage)["Training"].to_dict()
results["imbalance"] = {**review.imbalance_review(tables[reference], training_counts), "model": reference,
                        "training_counts": training_counts}
i = results["imbalance"]
display(Markdown(
    f"**What this shows.** The lowest F1 belongs to *{i['worst_f1_class']}* and the rarest class is *{i['rarest_class']}*; "
    f"across the seven classes, F1 and the number of training images have a Spearman correlation of "
    + (f"{i['spearman_training_count_vs_f1']:.2f} (p = {i['spearman_p_value']:.2f}, only {len(CLASS_NAMES)} points). "
       if i["spearman_training_count_vs_f1"] is not None else "no defined value (every class has the same F1). ")
    + "Correlation is not cause: a class can be hard for other reasons (notebook 01 shows how often *fear* is "
    "relabelled by FER+). The causal test, class-weighted training at the same budget, is in notebook 07; when "
    "disgust is both the rarest and the worst class, its outcome gives this claim's verdict in the ledger below."
))

# %% [markdown]
# ## How does it do out of distribution? CK+48 (posed, lab conditions)
#
# CK+48's six classes map onto FER2013's (contempt is left out; there is no neutral, so every *neutral* answer is
# wrong). Its three frames per sequence are near-duplicates, so accuracy is also reported averaged per subject.
# CK+ is available only from its authors, on request: without it in `EMOTION_DATA` the cell below says so, and
# the notebook goes on without this section.

# %%
ckplus_skipped = missing_ckplus_note()
results["ckplus"] = {}
if ckplus_skipped:
    results["ckplus_skipped"] = ckplus_skipped
    display(Markdown(ckplus_skipped))
else:
    ck = load_ckplus()
    ck_predictions = {name: predict_probabilities(model, ck.images[:limit]).argmax(axis=1) for name, model in loaded.items()}
    results["ckplus"] = {name: {**review.ckplus_review(ck.labels[:limit], ck_predictions[name], ck.subjects[:limit]),
                                "dropped": ck.dropped, "model": name} for name in models}
    k = results["ckplus"][reference]
    display(pd.DataFrame({name: {key: value for key, value in entry.items() if not isinstance(value, dict)}
                          for name, entry in results["ckplus"].items()}).T)
    display(Markdown(
        f"**What this shows.** *{reference}* scores {k['accuracy_per_image']:.1%} per image on CK+48 "
        f"({k['images']} images, {k['subjects']} subjects; {k['accuracy_mean_over_subjects']:.1%} averaged per subject) "
        f"against {results['models'][reference]['intervals']['accuracy']['estimate']:.1%} on FER2013's PrivateTest, and "
        f"answers *neutral* for {k['share_predicted_neutral']:.0%} of these expressive faces. The paper's "
        f"{claims.PAPER_OWN_PHOTOS['accuracy']:.1%} on its own {claims.PAPER_OWN_PHOTOS['photos']} photos cannot be checked (they are not published); "
        + f"on CK+48 this model's accuracy changes by "
        f"{100 * (k['accuracy_per_image'] - results['models'][reference]['intervals']['accuracy']['estimate']):+.1f} points "
        f"from PrivateTest (CK+48 has no neutral class and posed, frontal faces, so the two numbers are not on the same "
        f"task)."
    ))

# %% [markdown]
# ## The claims ledger: which of the paper's claims survive?

# %%
detector_results = claims.detector_evidence(Path(released_results_dir))
evidence = {"models": {name: {"intervals": results["models"][name]["intervals"],
                              "training_cpu_minutes": models[name]["training_cpu_minutes"],
                              "publictest_accuracy": models[name]["publictest_accuracy_at_chosen_epoch"]}
                       for name in models},
            "mcnemar": results["mcnemar"], "imbalance": results["imbalance"],
            "ckplus": results["ckplus"].get(reference), "detectors": detector_results,
            # Each architecture's budget curve: only a converged one can decide what a model reaches.
            "budgets": claims.budget_evidence(Path(released_results_dir)),
            "training_cost": load_training_cost(Path(released_results_dir) / "03_training_cost.json"),
            # Class weighting, augmentation and K-fold: the experiment runs (results/03_ablation_*.json,
            # results/03_kfold_*.json), judged against their seed band as in notebook 07.
            **ablations.ledger_evidence(Path(released_results_dir))}
ledger = claims.claims_ledger(evidence)
write_results(results_dir / "05_claims.json", {"claims": ledger, "protocol": results["protocol"]}, mode=mode, seed=seed)
pd.DataFrame(ledger).set_index("claim")

# %% [markdown]
# ## Conclusion

# %%
verdicts = pd.Series([entry["verdict"] for entry in ledger]).value_counts()
display(Markdown(
    f"The released models were scored once on PrivateTest, with checkpoints chosen on PublicTest. Their accuracies "
    f"carry 95 % intervals about {100 * np.mean(list(widths.values())):.1f} points wide; {f['share_of_errors_that_are_label_disagreements']:.0%} "
    f"of the reference model's errors are images where FER+'s annotators side with the model; removing the leaked "
    f"duplicates moves its accuracy by {100 * (l['accuracy_if_leaked_images_removed'] - l['accuracy_all']):+.2f} points; "
    + (f"on CK+48 it scores {k['accuracy_per_image']:.1%}. " if results["ckplus"] else
       "CK+48 was not in the data folder, so its section was skipped. ")
    + f"Of the paper's {len(ledger)} claims: "
    + ", ".join(f"{count} {verdict}" for verdict, count in verdicts.items())
    + ". The cell below writes every number to `results/05_evaluation.json`, each estimate with its split, protocol "
    "and interval."
))

# %%
for name in models:
    interval = results["models"][name]["intervals"]["accuracy"]
    results["headline"].append({"quantity": f"{name}: accuracy (95 % CI)",
                                "value": f"{interval['estimate']:.4f} ({interval['low']:.4f}-{interval['high']:.4f})",
                                "split": "PrivateTest", "protocol": "epoch chosen on PublicTest; bootstrap over images"})
    results["headline"] += [{"quantity": f"{name}: accuracy on CK+48 (out of distribution)",
                             "value": round(results["ckplus"][name]["accuracy_per_image"], 4),
                             "split": "CK+48 (6 classes)", "protocol": "per image"}] if results["ckplus"] else []
write_results(results_dir / "05_evaluation.json", results, mode=mode, seed=seed)

# %%
package_versions()  # Python, TensorFlow, Keras, OpenCV, dlib, mtcnn and the rest, as run
