# %% [markdown]
# # 01 · The data: what FER2013 holds, and how far to trust its labels
#
# **Question.** Before training anything: how are FER2013's 35,887 faces spread over the seven emotions and the three
# splits, how clean is the file (duplicates, leakage between splits, blank images), and how often do the original
# labels agree with the ten-annotator FER+ relabelling?
#
# **Produces** (full mode): `figures/01_class_distribution.png`, `figures/01_samples.png`, `figures/01_mean_faces.png`,
# `figures/01_duplicates.png`, `figures/01_ferplus_agreement.png` and `results/01_data_overview.json`.
# Smoke mode writes the same files under `build/smoke/` instead.
#
# **Run time:** the README's run-time table (from `results/00_runtimes.json`) has the measured figures for each mode;
# the first load parses the CSV, later loads read the cache in `data/processed/`.
#
# **Data.** Read from `$EMOTION_DATA/fer2013/` (`fer2013.csv.gz` and `fer2013new.csv`); `make check-data` says how to
# obtain them.

# %% tags=["parameters"]
mode = "full"  # "full": write figures/ and results/; "smoke": the same, under build/smoke/
seed = 0  # picks the sample images shown
figures_dir = "../figures"
results_dir = "../results"
samples_per_class = 10  # columns of the sample grid

# %%
import time
from pathlib import Path

import numpy as np
from IPython.display import Markdown, display

from emotion import CLASS_NAMES, SPLITS
from emotion.data import ferplus, fer2013, leakage, overview_prose
from emotion.figures import plots
from emotion.study.results import package_versions, write_results

figures_dir, results_dir = Path(figures_dir), Path(results_dir)
samples_per_class = samples_per_class if mode == "full" else 4
results = {"protocol": "descriptive statistics of the whole file; no model is fitted", "headline": []}

# %% [markdown]
# ## Does the file load, and is it the original?
#
# The loader checks the header, every label, every Usage value and every row's 2,304 pixels, and compares the
# file's sha256 with the original Kaggle `fer2013.csv`. We time a load that parses the CSV and one from the cache.

# %%
started = time.perf_counter()
data = fer2013.load_fer2013(cache_dir=None)
parse_seconds = time.perf_counter() - started
fer2013.load_fer2013()  # writes the cache in data/processed/ if it is not there yet
started = time.perf_counter()
data = fer2013.load_fer2013()  # from the cache
cached_seconds = time.perf_counter() - started
results["file"] = {
    "path_name": data.source.name, "rows": int(len(data.labels)), "sha256": data.sha256,
    "is_original_kaggle_file": data.is_original,
    "load_seconds_parse": round(parse_seconds, 2), "load_seconds_cached": round(cached_seconds, 2),
}
results["file"]

# %% [markdown]
# ## How are the emotions spread over the splits?

# %%
counts = fer2013.class_counts(data.labels, data.usage)
plots.save_figure(plots.class_distribution(counts), figures_dir / "01_class_distribution.png")
results["class_counts"] = counts.to_dict(orient="index")
counts

# %%
shares = counts["total"] / counts["total"].sum()
largest, smallest = shares.idxmax(), shares.idxmin()
results["imbalance"] = {"largest_class": largest, "smallest_class": smallest,
                        "largest_to_smallest_ratio": float(counts["total"].max() / counts["total"].min())}
display(Markdown("**What this shows.** " + overview_prose.describe_class_balance(results)))

# %% [markdown]
# ## What do the faces look like?

# %%
train_images, train_labels = data.split("Training")
plots.save_figure(plots.sample_grid(train_images, train_labels, per_class=samples_per_class, seed=seed),
                  figures_dir / "01_samples.png")
plots.save_figure(plots.mean_faces(train_images, train_labels), figures_dir / "01_mean_faces.png")
statistics = fer2013.pixel_statistics(data.images, data.labels)
results["pixel_statistics"] = statistics.round(4).to_dict(orient="index")
results["pixel_summary"] = overview_prose.pixel_summary(results["pixel_statistics"])
statistics.round(3)

# %%
display(Markdown("**What this shows.** " + overview_prose.describe_pixel_statistics(results)))

# %% [markdown]
# ## How clean is the file: duplicates, leakage, blank images

# %%
report = leakage.find_duplicates(data.images, data.labels, data.usage)
summary = report.summary()
leaked = {split: int(leakage.rows_with_copy_in(report, data.usage, split, "Training").size)
          for split in ("PublicTest", "PrivateTest")}
results["duplicates"] = {**summary, "test_rows_with_copy_in_training": leaked,
                         "blank_rows": report.blank_rows.tolist()}
summary

# %%
cross = report.groups[report.groups["cross_split"]]
conflicting = report.groups[report.groups["conflicting"] & report.groups["cross_split"]]
examples = list(cross["rows"].iloc[:3]) + list(conflicting["rows"].iloc[:2])
plots.save_figure(plots.duplicate_examples(data.images, data.labels, data.usage, examples),
                  figures_dir / "01_duplicates.png")
display(Markdown("**What this shows.** " + overview_prose.describe_duplicates(results)))

# %% [markdown]
# ## Do FER2013's labels agree with ten annotators (FER+)?
#
# FER+ (Barsoum et al., 2016) had ten crowd workers relabel every image. We take FER+'s own majority rule: votes of 1
# are dropped as noise, and an emotion wins only with more than half of the remaining votes; *unknown*, *not a face*
# and *contempt* (which FER2013 lacks) give no label. FER+ rows are joined to FER2013 by row position.

# %%
votes = ferplus.load_ferplus_votes(expected_rows=len(data.labels))
plus_labels = ferplus.majority_labels(votes[list(ferplus.VOTE_COLUMNS)].to_numpy())
agreement = ferplus.agreement_table(data.labels, plus_labels)
plots.save_figure(plots.agreement_heatmap(agreement), figures_dir / "01_ferplus_agreement.png")
labelled = plus_labels >= 0
per_class_agreement = {name: float((plus_labels[(data.labels == i) & labelled] == i).mean())
                       for i, name in enumerate(CLASS_NAMES)}
results["ferplus"] = {
    "rule": "FER+ majority: drop single votes; winner needs > 50 % of remaining votes; unknown/NF/contempt -> no label",
    "rows_with_majority_label": int(labelled.sum()),
    "rows_without": int((~labelled).sum()),
    "agreement_where_labelled": float((plus_labels[labelled] == data.labels[labelled]).mean()),
    "agreement_where_labelled_by_split": {s: float((plus_labels[labelled & (data.usage == s)] == data.labels[labelled & (data.usage == s)]).mean()) for s in SPLITS},
    "agreement_by_fer2013_class": per_class_agreement,
    "table": agreement.to_dict(orient="index"),
}
agreement

# %%
display(Markdown("**What this shows.** " + overview_prose.describe_ferplus_agreement(results)))

# %% [markdown]
# ## Conclusion
#
# The cell below writes every number of this notebook to `results/01_data_overview.json`, with the git commit,
# package versions, seed and mode. In short: FER2013 is the original file, heavily imbalanced (disgust is rare), has
# measurable train/test leakage through exact duplicates, and its labels often differ from a ten-annotator crowd
# majority: noisy labels, most of all for the classes the crowd relabels (the FER+ paragraph names them). Notebooks 03, 05 and 06 train and evaluate with these facts in mind: fit on
# Training, choose on PublicTest, report PrivateTest once, and report macro-F1 beside accuracy.

# %%
results["headline"] = overview_prose.headline_rows(results)
write_results(results_dir / "01_data_overview.json", results, mode=mode, seed=seed)

# %%
package_versions()  # Python, TensorFlow, Keras, OpenCV, dlib, mtcnn and the rest, as run
