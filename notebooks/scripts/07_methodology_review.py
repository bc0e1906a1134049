# %% [markdown]
# # 07 · Methodology review: how much of a result is the seed, the test set, or the recipe?
#
# **Question.** Three habits of the paper's protocol can make a number look better than it is: reporting one training
# run (another seed gives another number), stopping training by watching the test set, and attributing a weak class to
# its rarity without testing it. Its claim that augmentation reduces overfitting is also untested there. How large
# is each effect on this study's models?
#
# **How.** Short runs of one recipe (the basic CNN, 5 epochs, the study's augmentation and schedule) that differ in one
# thing each: several seeds (the *seed band*: the spread a new seed alone produces), balanced class weights, no
# augmentation, `mixed_bfloat16`, and the study's own 40x40-crop architecture (`crop_cnn`). A change is called an effect only when it moves a number outside every seed's value.
# That bar is modest: with n seeds, a change with no effect lands above all of them with probability 1/(n+1) (25 %
# for three), so each verdict below is stated with that chance, and a value inside the band is "inconclusive".
# Every run also recorded its PrivateTest predictions after each epoch (`audit_privatetest_accuracy` in its history),
# never read during training, so that we can replay the paper's protocol of choosing the epoch on the test set.
#
# This notebook trains nothing: `make experiments` trains the runs and writes `results/03_ablation_<name>.json`;
# both modes read those files (smoke mode writes its outputs under `build/smoke/`).
#
# **Produces** (full mode): `figures/07_experiments.png`, `figures/07_selection_audit.png`,
# `figures/07_class_weighting.png` and `results/07_methodology.json`. The claims ledger in notebook 05 uses the same
# functions (`emotion.analysis.ablations`) for its class-imbalance, augmentation and K-fold verdicts.
#
# **Run time:** the README's run-time table (from `results/00_runtimes.json`) has the measured figures for each mode.

# %% tags=["parameters"]
mode = "full"  # "full": figures/ and results/; "smoke": the same analysis, outputs under build/smoke/
seed = 0  # unused (nothing random here); kept so that every notebook takes the same parameters
figures_dir = "../figures"
results_dir = "../results"
released_results_dir = "../results"  # where the experiment runs' results/03_ablation_*.json are (read only)

# %%
from pathlib import Path

import numpy as np
import pandas as pd
from IPython.display import Markdown, display

from emotion import CLASS_NAMES
from emotion.figures import ablation_plots, plots
from emotion.analysis import ablations
from emotion.classify.models import CROP_SIZE
from emotion.errors import DataMissingError
from emotion.study.results import cpu_cores, package_versions, read_results, write_results

figures_dir, results_dir, released_results_dir = Path(figures_dir), Path(results_dir), Path(released_results_dir)
runs = ablations.read_runs(released_results_dir)
grouped = ablations.group_runs(runs)
band = ablations.seed_band(grouped["band"])
treatments = grouped["treatments"]
results = {"protocol": "every run: fit on Training, epoch chosen on PublicTest, PrivateTest evaluated once on that "
                       "epoch; the per-epoch PrivateTest audit was recorded but never used in training",
           "band_recipe": grouped["band_recipe"], "headline": []}

# %% [markdown]
# ## What was run
#
# One row per run: what it changes against the seed band's recipe, what it cost, and how its PublicTest-chosen
# checkpoint scores on PrivateTest. *Generalisation gap* is the checkpoint's accuracy on the Training images
# (un-augmented) minus its PrivateTest accuracy.

# %%
labels = {name: f"seed {payload['recipe']['seed']}" for name, payload in grouped["band"].items()}
labels.update({entry["name"]: f"{entry['label']} (seed {entry['payload']['recipe']['seed']})"
               for entry in treatments.values()})
overview = pd.DataFrame({labels[name]: {
    "run": name, "epochs": payload["epochs_run"], "chosen epoch": payload["chosen_epoch"],
    "PrivateTest accuracy": payload["test"]["accuracy"], "macro-F1": payload["test"]["macro_f1"],
    "disgust recall": payload["test"]["per_class"]["disgust"]["recall"],
    "generalisation gap": ablations.generalisation_gap(payload),
    "CPU-minutes": payload["training_cpu_minutes"], "median img/s": payload["train_images_per_second_median"],
} for name, payload in runs.items() if name in labels}).T
results["runs"] = {row["run"]: {key: value for key, value in row.items() if key != "run"}
                   for row in overview.to_dict(orient="index").values()}
overview.style.format({"PrivateTest accuracy": "{:.2%}", "macro-F1": "{:.3f}", "disgust recall": "{:.2f}",
                       "generalisation gap": "{:+.3f}", "CPU-minutes": "{:.0f}", "median img/s": "{:.0f}"})

# %% [markdown]
# ## How much does the seed alone move the numbers?

# %%
values = {labels[name]: {"accuracy": payload["test"]["accuracy"], "macro_f1": payload["test"]["macro_f1"],
                         "gap": ablations.generalisation_gap(payload)}
          for name, payload in runs.items() if name in labels}
band_labels = [labels[name] for name in grouped["band"]]
plots.save_figure(ablation_plots.runs_against_band(values, band_labels, {
    "accuracy": "PrivateTest accuracy", "macro_f1": "PrivateTest macro-F1",
    "gap": "generalisation gap (Training - PrivateTest)"}), figures_dir / "07_experiments.png")
results["seed_band"] = band
a, m = band["accuracy"], band["macro_f1"]
display(Markdown(
    f"**What this shows.** Over {a['n']} seeds of the same {band['epochs']}-epoch recipe, PrivateTest accuracy spans "
    f"{a['min']:.2%} to {a['max']:.2%} (mean {a['mean']:.2%}, standard deviation {100 * a['sd']:.2f} points) and "
    f"macro-F1 {m['min']:.3f} to {m['max']:.3f}. Each seed cost "
    + ", ".join(f"{minutes:.0f}" for minutes in band["training_cpu_minutes_per_seed"])
    + f" CPU-minutes ({', '.join(f'{minutes:.0f}' for minutes in band['training_wall_minutes_per_seed'])} wall-minutes "
    f"on the shared {cpu_cores()}-core CPU). A one-run difference between two recipes smaller than this spread says nothing; "
    f"the bootstrap interval of notebook 05 measures a different uncertainty (which test images), not this one "
    f"(which training run)."
))

# %% [markdown]
# ## Test-set selection bias: what if the epoch had been chosen on PrivateTest?
#
# The paper stopped training by watching its test accuracy. Each run's audit lets us replay that: pick the epoch with
# the best PrivateTest accuracy instead of the best PublicTest accuracy, and compare. The same question across runs:
# pick the best of the finished runs by PrivateTest instead of PublicTest.

# %%
audited = dict(runs)
for path in sorted(released_results_dir.glob("03_train_*.json")):
    audited[path.stem.removeprefix("03_train_")] = read_results(path)
bias = {name: ablations.selection_bias(payload) for name, payload in audited.items()}
bias = {name: entry for name, entry in bias.items() if entry is not None}
if not bias:
    raise DataMissingError("no run in the results has a per-epoch PrivateTest audit: run `make experiments`.")
across = ablations.choice_bias_across_runs(runs)
results["selection_bias"] = {"per_run": bias, "across_runs": across}
plots.save_figure(ablation_plots.selection_audit({name: audited[name]["history"] for name in bias},
                                                 ablations.AUDIT_COLUMN), figures_dir / "07_selection_audit.png")
inflations = [entry["inflation"] for entry in bias.values()]
pd.DataFrame({name: {"epochs": entry["epochs"], "PublicTest picks epoch": entry["publictest_choice"]["epoch"],
                     "PrivateTest there": entry["publictest_choice"]["privatetest"],
                     "PrivateTest picks epoch": entry["privatetest_choice"]["epoch"],
                     "PrivateTest there ": entry["privatetest_choice"]["privatetest"],
                     "inflation (points)": 100 * entry["inflation"]} for name, entry in bias.items()}).T.round(4)

# %%
display(Markdown("**What this shows.** " + ablations.describe_selection_bias(bias, across, band)))

# %% [markdown]
# ## Is disgust worst because it is rare? Class-weighted training at the same budget
#
# Balanced class weights make every class weigh the same in the loss (disgust, the rarest class of Training, counts as
# much as happy, the most common; notebook 01 counts them). If rarity is what holds disgust back, its recall and F1 should rise above the seed band.

# %%
weighted = treatments.get("class_weighting")
if weighted is None:
    raise DataMissingError("no class-weighted run in the results: run `make experiments`.")
class_verdict = ablations.class_weighting_verdict(weighted["payload"], band, f"results/03_ablation_{weighted['name']}.json")
results["class_weighting"] = class_verdict
plots.save_figure(ablation_plots.per_class_against_band(
    band["per_class"]["recall"], {name: weighted["payload"]["test"]["per_class"][name]["recall"] for name in CLASS_NAMES},
    "recall", "class-weighted"), figures_dir / "07_class_weighting.png")
moved = {name: entry["direction"] for name, entry in class_verdict["recall"].items() if entry["direction"] != "inside"}
display(Markdown(
    f"**What this shows.** {class_verdict['evidence']}. Recall left the seed band for "
    + (", ".join(f"*{name}* ({direction})" for name, direction in moved.items()) or "no class")
    + f". Outcome of this test of the paper's explanation (\"because it has the fewest samples\"): "
    f"**{class_verdict['verdict']}**; the claim as a whole gets its one verdict in the claims ledger (notebook 05), "
    "which also asks whether disgust is the worst class of the reference model. Overall accuracy with weighting: "
    f"{weighted['payload']['test']['accuracy']:.2%}, "
    f"{ablations.against_band(weighted['payload']['test']['accuracy'], band['accuracy'])['direction']} the band's "
    f"{band['accuracy']['min']:.2%}-{band['accuracy']['max']:.2%}."
))

# %% [markdown]
# ## Does augmentation reduce overfitting?

# %%
unaugmented = treatments.get("augment")
if unaugmented is None:
    augmentation = {"verdict": "not yet measured", "evidence": "no run without augmentation in the results "
                    "(`make experiments` trains basic_cnn_5ep_noaugment_seed1)"}
else:
    augmentation = ablations.augmentation_verdict(unaugmented["payload"], band,
                                                  f"results/03_ablation_{unaugmented['name']}.json")
results["augmentation"] = augmentation
display(Markdown(
    f"**What this shows.** {augmentation['evidence']}. Verdict on the paper's claim: **{augmentation['verdict']}**. "
    + (f"The budget is short ({band['epochs']} epochs) and the verdict rests on one run without augmentation; with "
       f"{band['accuracy']['n']} seeds a run with no effect would land above every seed's gap with probability "
       f"{augmentation['gap']['chance_above_if_no_effect']:.0%}." if "gap" in augmentation else "")
))

# %% [markdown]
# ## Does `mixed_bfloat16` change accuracy?

# %%
bf16 = treatments.get("mixed_precision")
if bf16 is None:
    results["mixed_precision"] = {"status": "not run: make experiments trains basic_cnn_5ep_bf16_seed1"}
    display(Markdown("**What this shows.** The `mixed_bfloat16` run is not in the results yet."))
else:
    placed = ablations.against_band(bf16["payload"]["test"]["accuracy"], band["accuracy"])
    cost = ablations.compute_cost(bf16["payload"], grouped["band"])
    results["mixed_precision"] = {"accuracy": placed, "run": bf16["name"], **cost}
    display(Markdown(
        f"**What this shows.** Under `mixed_bfloat16` the same recipe reached {placed['value']:.2%} "
        f"({placed['direction']} the seed band {placed['band_min']:.2%}-{placed['band_max']:.2%}). An epoch took "
        f"{cost['cpu_seconds_per_epoch']:.0f} CPU-seconds with {cost['cores_used']:.1f} of the {cpu_cores()} cores busy on "
        f"average; the float32 seed runs took "
        + ", ".join(f"{cost['band_cpu_seconds_per_epoch'][name]:.0f} ({cost['band_cores_used'][name]:.1f} cores)"
                    for name in cost["band_cpu_seconds_per_epoch"])
        + f": {cost['cpu_ratio_vs_band_median']:.2f}x the band's median CPU-seconds per epoch. Fewer than {cpu_cores()} "
        f"cores busy means another job shared the machine, which also moves CPU-seconds, so differences of a few percent "
        f"are noise. The network alone may gain more from bfloat16 than a whole epoch does: every epoch here also "
        f"pays for the float32 input pipeline and the PublicTest pass."
    ))

# %% [markdown]
# ## Does the 40x40 centre crop (`crop_cnn`) change accuracy at the same budget?
#
# The study's own model is the basic CNN on the central 40x40 of the face (notebook 04). Trained with the band's recipe
# and epochs, does it land outside the seed band, and what does an epoch cost it in CPU-seconds?

# %%
cropped = treatments.get("model")
if cropped is None or cropped["payload"]["recipe"]["model"] != "crop_cnn":
    results["crop"] = {"status": "not run: make experiments trains crop_cnn_5ep_seed1"}
    display(Markdown("**What this shows.** The `crop_cnn` run at the band's recipe is not in the results yet."))
else:
    placed = ablations.against_band(cropped["payload"]["test"]["accuracy"], band["accuracy"])
    placed_f1 = ablations.against_band(cropped["payload"]["test"]["macro_f1"], band["macro_f1"])
    cost = ablations.compute_cost(cropped["payload"], grouped["band"])
    results["crop"] = {"run": cropped["name"], "accuracy": placed, "macro_f1": placed_f1, **cost}
    display(Markdown(
        f"**What this shows.** `crop_cnn` with the band's recipe reached {placed['value']:.2%} accuracy "
        f"({placed['direction']} the seed band {placed['band_min']:.2%}-{placed['band_max']:.2%}) and macro-F1 "
        f"{placed_f1['value']:.3f} ({placed_f1['direction']} {placed_f1['band_min']:.3f}-{placed_f1['band_max']:.3f})"
        f", at {cost['cpu_seconds_per_epoch']:.0f} CPU-seconds per epoch ({cost['cores_used']:.1f} cores busy), "
        f"{cost['cpu_ratio_vs_band_median']:.2f}x the basic CNN seeds' median. With {band['accuracy']['n']} seeds in "
        f"the band, a change with no effect lands outside it on one given side with probability "
        f"{1 / (band['accuracy']['n'] + 1):.0%}."
    ))

# %% [markdown]
# ## Conclusion

# %%
results["headline"] = [
    {"quantity": f"spread over {band['accuracy']['n']} seeds ({grouped['band_recipe']['model']}, {band['epochs']} epochs): accuracy min-max",
     "value": f"{band['accuracy']['min']:.4f}-{band['accuracy']['max']:.4f}", "split": "PrivateTest",
     "protocol": "epoch chosen on PublicTest, per seed"},
    {"quantity": "test-set selection bias: mean inflation from choosing the epoch on PrivateTest",
     "value": round(float(np.mean(inflations)), 4), "split": "PrivateTest",
     "protocol": f"per-epoch audit of {len(bias)} runs"},
]
write_results(results_dir / "07_methodology.json", results, mode=mode, seed=seed)
display(Markdown(
    f"A new seed moves this recipe's PrivateTest accuracy by up to {100 * (band['accuracy']['max'] - band['accuracy']['min']):.1f} "
    f"points; choosing epochs on the test set would have added {100 * np.mean(inflations):.2f} points on average; "
    f"the class-weighting test: {class_verdict['verdict']}; augmentation against overfitting: "
    f"{augmentation['verdict']}; "
    f"the {CROP_SIZE}x{CROP_SIZE} crop: {results['crop'].get('accuracy', {}).get('direction', results['crop'].get('status'))} the seed band. "
    f"All numbers are in `results/07_methodology.json`; the claims ledger (notebook 05) cites the runs' own files."
))

# %%
package_versions()  # Python, TensorFlow, Keras, OpenCV, dlib, mtcnn and the rest, as run
