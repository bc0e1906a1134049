# %% [markdown]
# # 06 · Evaluation: how far to trust the numbers
#
# **Question.** For every released model: how good is it per class (the paper's Table 4 layout), how uncertain are
# its numbers, are its probabilities honest, what does it look at, how much of its "error" is disagreement about the
# label, how much do duplicates between Training and PrivateTest flatter it, and how badly does it fail out of
# distribution? (The training-side questions -- spread over seeds, test-set selection bias, class weighting,
# augmentation -- are measured by notebook 04 from the experiment runs. This notebook decides no claim of the paper:
# the claims ledger, notebook 08, weighs these numbers with the training runs and their budgets.)
#
# **What is scored.** Each model's stored release file (`models/<name>.keras`, the file the app loads; float16 weights
# where a float32 model was over the size cap, and the first table says which). Its accuracy can differ slightly from
# the float32 training checkpoint's that notebook 05 reports.
#
# **Produces** (full mode): `figures/06_confusion_<model>.png`, `figures/06_confused_pairs.png`,
# `figures/06_intervals.png`, `figures/06_reliability.png`, `figures/06_gradcam.png`, `results/06_evaluation.json`
# (every number, with split, protocol and 95 % interval).
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
from emotion.analysis import claims, evaluation_prose, review
from emotion.analysis.selection import describe_default_model, selection_inflation
from emotion.figures import evaluation_plots, plots
from emotion.data.cohn_kanade import load_ckplus
from emotion.data.datacheck import missing_ckplus_note
from emotion.analysis.error_analysis import examples_of, most_confused_pairs
from emotion.classify.ensemble import file_probabilities
from emotion.classify.evaluate import load_model
from emotion.classify.release import best_release, release_candidates
from emotion.data.fer2013 import class_counts, load_fer2013
from emotion.data.ferplus import VOTE_COLUMNS, load_ferplus_votes, majority_labels
from emotion.data.leakage import find_duplicates, rows_with_copy_in
from emotion.study.results import package_versions, write_results
from emotion.analysis.saliency import grad_cam, last_spatial_layer
from emotion.analysis.uncertainty import per_class_intervals

figures_dir, results_dir = Path(figures_dir), Path(results_dir)
limit = None if mode == "full" else 300
resamples = bootstrap_resamples if mode == "full" else 200
results = {"protocol": "fit on Training, checkpoint chosen on PublicTest (notebook 03), PrivateTest predicted once "
                       "here from each stored release file; temperature fitted on PublicTest", "headline": []}

# %% [markdown]
# ## Which models, and what do they predict?

# %%
models = review.released_models(Path(released_results_dir), Path(models_dir))
data = load_fer2013()
test_rows = data.indices("PrivateTest")[:limit]
public_rows = data.indices("PublicTest")[:limit]
labels, public_labels = data.labels[test_rows], data.labels[public_rows]
ckplus_skipped = missing_ckplus_note()  # CK+48 is optional; its section below says what to do without it
ck = None if ckplus_skipped else load_ckplus()
views = {"PrivateTest": data.images[test_rows], "PublicTest": data.images[public_rows],
         **({} if ck is None else {"CK+": ck.images[:limit]})}
# Each file is loaded once for all its images; later runs read build/predictions/ (emotion.classify.prediction_cache)
stored = file_probabilities({name: entry["path"] for name, entry in models.items()}, views)
probabilities, public_probabilities = stored["PrivateTest"], stored["PublicTest"]
predictions = {name: values.argmax(axis=1) for name, values in probabilities.items()}
results["models"] = review.release_summary(models, len(test_rows))
pd.DataFrame(results["models"]).T

# %% [markdown]
# ## Per class: the paper's Table 4 layout
#
# Precision, recall and F1 per class on PrivateTest (each model's stored release file), with macro and
# weighted averages. The paper's own per-class
# values are not part of the study's materials, so only its headline numbers are compared (claims ledger, notebook 08).

# %%
tables = {name: review.per_class_table(labels, predictions[name]) for name in models}
for name, table in tables.items():
    results["models"][name]["per_class"] = review.table_records(table)
    matrix = pd.crosstab(pd.Categorical(labels, categories=range(7)), pd.Categorical(predictions[name], categories=range(7)),
                         dropna=False).to_numpy()
    results["models"][name]["confusion_matrix"] = matrix.tolist()
    plots.save_figure(plots.confusion_heatmap(matrix, f"{name}: PrivateTest confusion (rows sum to 1)"),
                      figures_dir / f"06_confusion_{name}.png")
pd.concat({name: table.round(3) for name, table in tables.items()}, axis=1)

# %% [markdown]
# ## Which emotions are confused, and what do those faces look like?

# %%
reference = max(models, key=lambda name: models[name]["publictest_accuracy_at_chosen_epoch"])
results["reference_model"] = reference  # the model every single-model section below reviews
pairs = most_confused_pairs(np.array(results["models"][reference]["confusion_matrix"]), top=4)
groups = [(f"{pair['true']} as {pair['predicted']}",
           data.images[test_rows][examples_of(labels, predictions[reference], CLASS_NAMES.index(pair["true"]),
                                              CLASS_NAMES.index(pair["predicted"]), seed=seed)]) for pair in pairs]
plots.save_figure(evaluation_plots.image_rows(groups), figures_dir / "06_confused_pairs.png")
results["confused_pairs"] = {"model": reference, "pairs": pairs}
display(Markdown("**What this shows.** " + evaluation_prose.describe_confused_pairs(results["confused_pairs"])))

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
results["mcnemar"] = review.pairwise_mcnemar(labels, predictions)
plots.save_figure(evaluation_plots.interval_plot({name: results["models"][name]["intervals"]["accuracy"] for name in models},
                                                 "PrivateTest accuracy (stored release files)",
                                                 claims.PAPER_FER2013_ACCURACY, f"paper's {claims.PAPER_FER2013_ACCURACY:.2%}"),
                  figures_dir / "06_intervals.png")
evaluation_prose.accuracy_table(results["models"])

# %%
display(Markdown("**What this shows.** "
                 + evaluation_prose.describe_intervals(results["models"], results["mcnemar"], reference)))

# %% [markdown]
# ## Which run stands for each architecture? The budget-curve heads
#
# A release is often a short run (the basic CNN's trained 14 epochs), so once an architecture has a budget curve
# (`make budgets`, read in notebook 05), its curve's longest run stands for it when architectures are compared
# (`emotion.analysis.curve_heads`). Those that kept their PrivateTest predictions in their results file (every run
# since the study began keeping them) are scored here like the releases, on the same images, with McNemar's test against
# every release and every other head; their predictions must give the accuracy their results file records. The claims
# ledger (notebook 08) reads them.

# %%
from emotion.analysis.curve_heads import curve_heads, review_heads, settled_imbalance

all_private_labels = data.labels[data.indices("PrivateTest")]  # a head's predictions are checked on all of them
heads = curve_heads(Path(released_results_dir))
results["curve_heads"] = review_heads(heads, all_private_labels, predictions, resamples=resamples, seed=seed,
                                      rows=limit)
display(Markdown(evaluation_prose.describe_curve_heads(results["curve_heads"])))

# %% [markdown]
# ## Are the probabilities honest? Calibration before and after temperature scaling

# %%
numbers, bins = review.calibration_review(public_probabilities[reference], public_labels,
                                         probabilities[reference], labels)
plots.save_figure(evaluation_plots.reliability_diagram(bins, numbers["ece_by_variant"]), figures_dir / "06_reliability.png")
results["calibration"] = {**numbers, "model": reference,
                          "label_smoothing": models[reference].get("recipe", {}).get("label_smoothing")}
display(Markdown("**What this shows.** " + evaluation_prose.describe_calibration(results["calibration"])))

# %% [markdown]
# ## What does the model look at? Class-activation maps per class

# %%
indices, titles = review.saliency_examples(labels, predictions[reference], seed=seed)
reference_model = load_model(models[reference]["path"])  # Grad-CAM needs the network itself
maps = grad_cam(reference_model, data.images[test_rows][indices], predictions[reference][indices])
feature_map = reference_model.get_layer(last_spatial_layer(reference_model)).output.shape[1:3]
plots.save_figure(evaluation_plots.saliency_grid(data.images[test_rows][indices], maps, titles, columns=7),
                  figures_dir / "06_gradcam.png")
results["saliency"] = {"model": reference, "images": int(len(indices)),
                       "mean_map_by_face_third": review.saliency_by_region(maps),
                       "feature_map": [int(side) for side in feature_map]}
display(Markdown("**What this shows.** " + evaluation_prose.describe_saliency(results["saliency"])))

# %% [markdown]
# ## How many "errors" are disagreements about the label? FER+ on PrivateTest

# %%
votes = load_ferplus_votes(expected_rows=len(data.labels))
ferplus_labels = majority_labels(votes[list(VOTE_COLUMNS)].to_numpy())[test_rows]
results["ferplus"] = {name: review.ferplus_review(labels, predictions[name], ferplus_labels) for name in models}
display(pd.DataFrame(results["ferplus"]).T.round(4))
display(Markdown("**What this shows.** " + evaluation_prose.describe_ferplus(results["ferplus"][reference], reference)))

# %% [markdown]
# ## Does leakage flatter the score? Test images with an exact copy in Training

# %%
duplicates = find_duplicates(data.images, data.labels, data.usage)
leaked = np.isin(test_rows, rows_with_copy_in(duplicates, data.usage, "PrivateTest", "Training"))
results["leakage"] = {name: review.leakage_review(labels, predictions[name], leaked, resamples, seed) for name in models}
display(Markdown("**What this shows.** " + evaluation_prose.describe_leakage(results["leakage"][reference], reference)))

# %% [markdown]
# ## Is disgust worst because it is rare?
#
# First for the reference model, whose training may have stopped while its accuracy was still moving; then for the
# settled budget-curve head that PublicTest ranks first, the model the claims ledger weighs first. One point estimate
# of F1 per class cannot say whether the rarest class is the worst, as PrivateTest has few images of it: so the images
# are redrawn with replacement, the rarest class's F1 and the lowest F1 among the other classes are computed on each
# redraw, and their difference gets a percentile interval (`emotion.analysis.uncertainty.f1_gap_interval`).

# %%
training_counts = class_counts(data.labels, data.usage)["Training"].to_dict()
results["imbalance"] = {**review.imbalance_review(tables[reference], training_counts), "model": reference,
                        "training_counts": training_counts}
display(Markdown("**What this shows.** " + evaluation_prose.describe_imbalance(results["imbalance"])))

results["imbalance_settled"] = settled_imbalance(heads, all_private_labels, predictions, training_counts,
                                                 resamples=resamples, seed=seed, rows=limit)
display(Markdown("**What this shows.** " + evaluation_prose.describe_settled_imbalance(results["imbalance_settled"])))

# %% [markdown]
# ## How does it do out of distribution? CK+48 (posed, lab conditions)
#
# CK+48's six classes map onto FER2013's (contempt is left out; there is no neutral, so every *neutral* answer is
# wrong). Its three frames per sequence are near-duplicates, so accuracy is also reported averaged per subject.
# CK+ is available only from its authors, on request: without it in `EMOTION_DATA` the cell below says so, and
# the notebook goes on without this section.

# %%
results["ckplus"] = {}
if ckplus_skipped:
    results["ckplus_skipped"] = ckplus_skipped
    display(Markdown(ckplus_skipped))
else:
    ck_predictions = {name: values.argmax(axis=1) for name, values in stored["CK+"].items()}
    results["ckplus"] = {name: {**review.ckplus_review(ck.labels[:limit], ck_predictions[name], ck.subjects[:limit]),
                                "dropped": ck.dropped, "model": name} for name in models}
    display(pd.DataFrame({name: {key: value for key, value in entry.items() if not isinstance(value, dict)}
                          for name, entry in results["ckplus"].items()}).T)
    display(Markdown("**What this shows.** " + evaluation_prose.describe_ckplus(
        results["ckplus"][reference], results["models"][reference]["intervals"]["accuracy"]["estimate"])))

# %% [markdown]
# ## The web app's default model, evaluated as chosen
#
# The web app and the pipeline classify with the release that has the highest PublicTest accuracy
# (`emotion.classify.release.best_release`; an ensemble competes too, and its members were themselves picked on
# PublicTest). A number that won a choice on PublicTest flatters the winner; PrivateTest, which nothing chose on, does
# not. Here the default's stored file is predicted on PrivateTest (and on CK+48 when present), and its change from
# PublicTest to PrivateTest is set against that of the releases nobody chose (`emotion.analysis.selection`).

# %%
candidates = release_candidates(Path(released_results_dir), Path(models_dir))
default_name = best_release(Path(released_results_dir), Path(models_dir))
default_file = {default_name: candidates[default_name]["file"]}
default_stored = file_probabilities(default_file,
                                    {split: images for split, images in views.items() if split != "PublicTest"})
default_predictions = default_stored["PrivateTest"][default_name].argmax(axis=1)
privatetest_of = {name: results["models"][name]["intervals"]["accuracy"]["estimate"] for name in models}
privatetest_of[default_name] = float((default_predictions == labels).mean())
default_review = {
    "model": default_name, "kind": candidates[default_name]["kind"],
    "selection": selection_inflation({name: entry["publictest_accuracy"] for name, entry in candidates.items()},
                                     privatetest_of, default_name),
    "privatetest_interval": review.intervals(labels, default_predictions, resamples, seed)["accuracy"],
    "ckplus_accuracy": None if ckplus_skipped else review.ckplus_review(
        ck.labels[:limit], default_stored["CK+"][default_name].argmax(axis=1), ck.subjects[:limit])["accuracy_per_image"]}
default_review["text"] = describe_default_model(default_review["selection"], default_review["ckplus_accuracy"],
                                                default_review["privatetest_interval"])
results["default_model"] = default_review
display(Markdown("**What this shows.** " + default_review["text"]))

# %% [markdown]
# ## Conclusion

# %%
display(Markdown(evaluation_prose.describe_conclusion(
    results["models"], reference, results["ferplus"][reference], results["leakage"][reference],
    results["ckplus"].get(reference))))
results["headline"] = evaluation_prose.headline_rows(results["models"], results["ckplus"])
write_results(results_dir / "06_evaluation.json", results, mode=mode, seed=seed)

# %%
package_versions()  # Python, TensorFlow, Keras, OpenCV, dlib, mtcnn and the rest, as run
