"""The sentences notebook 03 prints about a training run (its curve, chosen epoch, epoch cost, input pipeline), each a
tested function of the results it states.

The inputs are the notebook's own results (``results/03_notebook_<name>.json``: ``augmentation``,
``pipeline_benchmark``, ``privatetest``), the release it reads (``results/03_train_<name>.json`` and the run's
history) and the epoch-cost file (``results/03_training_cost.json``); the thresholds that pick a wording are the
named constants below. Nothing here imports TensorFlow.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from emotion import CLASS_NAMES
from emotion.classify.evaluate import TENCROP_VIEWS
from emotion.classify.release import core_share
from emotion.classify.training_cost import SAME_SPEED_BAND, SHORT_EPOCH_LIMIT, speedups
from emotion.paper import PAPER_FER2013_ACCURACY, PAPER_RESULTS

PIPELINE_GOAL = 0.9
"""The input pipeline's goal: the real pipeline trains at least this share of the synthetic-tensor rate."""
SHARED_BELOW = 0.85
"""A run used the machine alone when its median CPU-seconds per wall-second reached this fraction of the cores;
below it, something else was running beside it (:func:`describe_training_run`)."""
TTA_VIEWS = {"flip_tta": 2, "tencrop_tta": TENCROP_VIEWS}
"""How many views of a face each test-time augmentation classifies: its inference cost in plain passes."""
TTA_NAMES = {"flip_tta": "flip", "tencrop_tta": "ten-crop"}
"""The test-time augmentations as the PrivateTest sentence names them."""


def describe_augmentation(augmentation: dict[str, Any]) -> str:
    """The paragraph under the augmentation figure, from the notebook's ``results["augmentation"]``: each
    operation's mean absolute pixel change, the largest single operation against the whole pipeline (the entry whose
    name starts with ``all``), and what the figure shows (the faces stay recognisable)."""
    change = augmentation["mean_absolute_pixel_change"]
    singles = {name: value for name, value in change.items() if not name.startswith("all")}
    pipeline = next((value for name, value in change.items() if name.startswith("all")), None)
    largest = max(singles, key=singles.get)
    text = ("Each row is one operation applied with different random draws. The mean absolute change per pixel "
            "(0-255 scale) is " + ", ".join(f"{name} {value:.1f}" for name, value in change.items()) + ". "
            f"Of the single operations *{largest}* moves pixels most")
    if pipeline is not None:
        text += f"; the whole training pipeline, all of them in sequence, moves them by {pipeline:.1f} on average"
    return text + (". The faces stay recognisable: the pipeline varies pose, framing, sharpness and exposure, and "
                   "hides part of the face with random erasing, without changing what a human would call the "
                   "emotion.")


def benchmark_is_noise(benchmark: dict[str, Any]) -> bool:
    """Whether an input-pipeline benchmark's rounds spread wider than its median ratio's distance from 100 %, so it
    cannot tell the pipeline's cost from run-to-run noise (one round is never called noise)."""
    ratios = benchmark["round_ratios"]
    return len(ratios) > 1 and max(ratios) - min(ratios) > abs(1 - benchmark["ratio"])


def describe_pipeline_benchmark(benchmark: dict, model_name: str) -> str:
    """The sentences notebook 03 prints for a :func:`emotion.classify.input_benchmark.benchmark_input_pipeline`
    result: both rates, the per-round ratios, the goal, and what the spread of the rounds allows one to conclude.

    Rules: the median ratio meets :data:`PIPELINE_GOAL` or misses it; when :func:`benchmark_is_noise`, the cost is
    not told from noise; otherwise a median under the goal is a real cost and one at or over it keeps the model busy.
    A round above 100 % is called load noise."""
    ratios = benchmark["round_ratios"]
    median = benchmark["ratio"]
    text = (f"With the real pipeline {model_name} trains at {benchmark['real_images_per_second']:.0f} img/s; on "
            f"synthetic tensors at {benchmark['synthetic_images_per_second']:.0f} img/s ("
            + (f"medians of {len(ratios)} rounds" if len(ratios) > 1 else "one round")
            + "). Within each round the real / synthetic ratio was "
            + ", ".join(f"{ratio:.0%}" for ratio in ratios)
            + f"; median {median:.0%} ({'meets' if median >= PIPELINE_GOAL else 'misses'} the "
              f"{PIPELINE_GOAL:.0%} goal).")
    spread = max(ratios) - min(ratios)
    if benchmark_is_noise(benchmark):
        text += (f" The rounds spread over {spread * 100:.0f} points, more than the median's distance from 100 %: "
                 "the benchmark cannot tell the pipeline's cost from run-to-run noise.")
    elif median < PIPELINE_GOAL:
        text += (f" The rounds agree within {spread * 100:.0f} points, so the input pipeline costs about "
                 f"{(1 - median) * 100:.0f} % of the training rate: the model waits for its data.")
    else:
        text += " The input pipeline keeps the model busy."
    if max(ratios) > 1:
        text += " A ratio above 100 % can only be load noise (real input cannot be cheaper than none)."
    if benchmark.get("reused_from"):
        origin = benchmark["reused_from"]
        text += (f" (Measured by the full run at commit {str(origin.get('commit') or 'unknown')[:7]} and reused from "
                 f"`results/{origin['file']}`; `recompute_benchmark=True` measures it again.)")
    return text


def describe_cost(document: dict[str, Any] | None) -> str:
    """The paragraph notebook 03 prints under the cost table (and ``python -m emotion training-cost`` prints): the
    CPU, the method, and what oneDNN does to each model's epoch (from ``results/03_training_cost.json``; None: says how
    to measure it).

    Rules: a oneDNN on / off ratio at least :data:`SAME_SPEED_BAND` above 1 is a speed-up, one at least that far below
    1 a slow-down, and one in between no real change. A measurement on fewer than
    :data:`emotion.classify.training_cost.SHORT_EPOCH_LIMIT` images per split carries the caveat the README's table
    carries (:data:`emotion.classify.training_cost.SHORT_EPOCH_CAVEAT`)."""
    if document is None:
        return ("The cost per epoch has not been measured on this machine: `make training-cost` measures it (two "
                "short epochs per model and kernel setting) and writes `results/03_training_cost.json`.")
    gains = speedups(document["rows"])
    meta = document.get("meta", {})
    text = (f"Measured on {meta.get('cpu_model', 'an unnamed CPU')} ({meta.get('cpu_cores', '?')} cores, native "
            f"bfloat16: {'yes' if meta.get('native_bf16') else 'no'}), one process at a time, the second of two "
            f"epochs on {document['limit']:,} images per split, projected to a full FER2013 epoch. ")
    if document["limit"] < SHORT_EPOCH_LIMIT:
        text += ("On so few images each epoch's fixed costs weigh heavily, so the table understates the larger models' "
                 f"speed (`make training-cost` measures on {SHORT_EPOCH_LIMIT:,} by default). ")
    ordered = sorted(gains.items(), key=lambda item: item[1], reverse=True)
    faster = [f"{ratio:.1f}x faster for {name}" for name, ratio in ordered if ratio >= 1 + SAME_SPEED_BAND]
    same = [f"{name} ({ratio:.2f}x)" for name, ratio in ordered if 1 - SAME_SPEED_BAND < ratio < 1 + SAME_SPEED_BAND]
    slower = [f"{name} ({1 / ratio:.1f}x slower)" for name, ratio in ordered if ratio <= 1 - SAME_SPEED_BAND]
    if faster:
        text += "TensorFlow's oneDNN kernels make an epoch " + ", ".join(faster) + ". "
    if same:
        text += (f"They change the speed by less than {SAME_SPEED_BAND:.0%} for " + ", ".join(same)
                 + ", within what one measured epoch can resolve. ")
    if slower:
        text += "They cost time for " + ", ".join(slower) + ". "
    return text.strip()


def describe_training_run(release: dict, history: list[dict] | Any) -> str:
    """Notebook 03's sentence on one released run, every clause decided by a rule on the recorded numbers.

    Rules: the checkpoint is the epoch of highest PublicTest accuracy; when that is the last epoch, the budget may
    still be too short (the sentence says so, and how training accuracy stood against PublicTest's). The run had the
    machine to itself when its median core share (:func:`emotion.classify.release.core_share`) reached
    :data:`SHARED_BELOW` of the cores in ``release["meta"]["cpu_cores"]``; below that, the share alone cannot say
    whether other work took the cores or the run could not use them, and the sentence names both. A warm-started run's
    time is given with and without its parent's (:func:`emotion.classify.release.with_cumulative_time`).
    """
    rows = history.to_dict("records") if hasattr(history, "to_dict") else list(history)
    chosen, epochs = release["chosen_epoch"], release["epochs_run"]
    last = rows[-1]
    gap = last["accuracy"] - last["val_accuracy"]
    text = (f"Over the {epochs} epoch(s), PublicTest accuracy peaked at "
            f"{release['publictest_accuracy_at_chosen_epoch']:.1%} in epoch {chosen}, whose checkpoint is the "
            f"released model. In the last epoch training accuracy (on augmented images, with dropout) was "
            f"{last['accuracy']:.1%} against {last['val_accuracy']:.1%} on PublicTest (gap {gap:+.1%}). ")
    if chosen == epochs:
        text += ("PublicTest accuracy was highest at the last epoch, so a longer budget may still help"
                 + (" (training accuracy is below PublicTest's: the model underfits). " if gap < 0 else ". "))
    else:
        text += f"PublicTest accuracy did not improve after epoch {chosen}. "
    warm = release.get("warm_start")
    own_cpu = release.get("own_training_cpu_minutes", release["training_cpu_minutes"])
    own_wall = release.get("own_training_wall_minutes", release["training_wall_minutes"])
    text += f"Training took {own_wall:.0f} wall-minutes and {own_cpu:.0f} CPU-minutes"
    if warm:
        text += (f", starting from the weights of {Path(warm['from']).name}" +
                 (f"; with that model's own training, {release['training_cpu_minutes']:.0f} CPU-minutes and "
                  f"{release['training_wall_minutes']:.0f} wall-minutes in all"
                  if warm.get("parent_training_cpu_minutes") is not None else
                  " (whose training time is not recorded, so the total is unknown)"))
    cores = int(release.get("meta", {}).get("cpu_cores") or 0)
    share = core_share(rows)
    seconds = [row["epoch_seconds"] for row in rows]
    text += (f". An epoch took {release['epoch_wall_seconds_median']:.0f} s (median; {min(seconds):.0f}-"
             f"{max(seconds):.0f} s) at a median {release['train_images_per_second_median']:.0f} img/s, keeping "
             f"{share:.2f} cores busy")
    if cores:
        alone = share >= SHARED_BELOW * cores
        text += (f" of the machine's {cores} (median over epochs): "
                 + ("it had the machine to itself." if alone else
                    "it shared the machine with other work or could not keep every core busy."))
    else:
        text += " (median over epochs)."
    return text


def most_frequent_confusion(confusion: list[list[int]]) -> tuple[str, str, int]:
    """The largest off-diagonal cell of a confusion matrix (rows: true class, columns: predicted, in
    :data:`emotion.CLASS_NAMES` order): ``(true class, predicted class, count)``."""
    cells = [(count, true, predicted) for true, row in enumerate(confusion) for predicted, count in enumerate(row)
             if true != predicted]
    count, true, predicted = max(cells)
    return CLASS_NAMES[true], CLASS_NAMES[predicted], int(count)


def describe_privatetest(results: dict[str, Any], release: dict[str, Any]) -> str:
    """The paragraph under the PrivateTest confusion matrix, from the notebook's ``results`` (``model`` and
    ``privatetest``: plain, flip and ten-crop scores, the accuracy recorded at release, whether it was reproduced)
    and the ``release`` (``model``: the architecture).

    Rules: the score is "identical to" the release's only when ``reproduces_release``. Each test-time augmentation is
    given with its change in points and its cost in views (:data:`TTA_VIEWS`); the better one is named only when it
    beats the plain model, else the sentence says neither does. The recall extremes and the most frequent confusion
    come from the plain scores. The paper's figure is quoted for an architecture it reports
    (:data:`emotion.paper.PAPER_RESULTS`), else its best (:data:`emotion.paper.PAPER_FER2013_ACCURACY`). Goals are
    judged in notebook 05, not here.
    """
    scores = results["privatetest"]
    plain = scores["plain"]
    recall = {name: values["recall"] for name, values in plain["per_class"].items()}
    weakest, strongest = min(recall, key=recall.get), max(recall, key=recall.get)
    text = (f"On {plain['n']:,} PrivateTest faces the released {results['model']} reaches {plain['accuracy']:.2%} "
            f"accuracy and {plain['macro_f1']:.3f} macro-F1 "
            f"({'identical to' if scores['reproduces_release'] else 'different from'} the number recorded at release "
            f"for the released file, {scores['released_accuracy']:.2%}). ")
    changes = {key: (scores[key]["accuracy"] - plain["accuracy"]) * 100 for key in TTA_VIEWS}
    faces = {key: round(scores[key]["accuracy"] * plain["n"]) - round(plain["accuracy"] * plain["n"])
             for key in TTA_VIEWS}
    text += ("With test-time augmentation: " + "; ".join(
        f"{TTA_NAMES[key]} {scores[key]['accuracy']:.2%} ({changes[key]:+.2f} points, a net {faces[key]:+d} faces, "
        f"{TTA_VIEWS[key]} views a face)" for key in TTA_VIEWS) + ". ")
    best = max(changes, key=changes.get)
    if changes[best] > 0:
        text += (f"The better of the two is {TTA_NAMES[best]}, {changes[best]:+.2f} points for {TTA_VIEWS[best]} "
                 "times the inference cost. ")
    else:
        text += "Neither improves on the plain model. "
    true, predicted, count = most_frequent_confusion(plain["confusion_matrix"])
    text += (f"Recall is highest for *{strongest}* ({recall[strongest]:.0%}) and lowest for *{weakest}* "
             f"({recall[weakest]:.0%}); the most frequent confusion is *{true}* taken for *{predicted}* ({count:,} "
             "faces). ")
    paper = PAPER_RESULTS.get(release["model"])
    if paper:
        text += (f"For reference, {paper['note']}; this run is {(plain['accuracy'] - paper['accuracy']) * 100:+.1f} "
                 "points from it. ")
    else:
        text += (f"For reference, the paper reports no figure for {release['model']}; its best FER2013 accuracy is "
                 f"{PAPER_FER2013_ACCURACY:.2%}; this run is {(plain['accuracy'] - PAPER_FER2013_ACCURACY) * 100:+.1f} "
                 "points from it. ")
    return text + "Notebook 05 judges the study's accuracy goals."


def describe_conclusion(results: dict[str, Any], release: dict[str, Any]) -> str:
    """Notebook 03's closing paragraph, from its ``results`` (``model``, ``privatetest``, ``pipeline_benchmark``)
    and the ``release``: the epochs and CPU-minutes (a warm-started run's own and its lineage's, when the lineage's is
    recorded), the PrivateTest scores, and the input pipeline's median ratio
    with the same verdict as :func:`describe_pipeline_benchmark` (goal met or missed; noise when
    :func:`benchmark_is_noise`)."""
    scores, benchmark = results["privatetest"], results["pipeline_benchmark"]
    name, median = results["model"], benchmark["ratio"]
    warm = release.get("warm_start")
    own_cpu = release.get("own_training_cpu_minutes", release["training_cpu_minutes"])
    text = (f"The released {name} was trained for {release['epochs_run']} epoch(s) "
            + (f"from the weights of {Path(warm['from']).name} ({own_cpu:.0f} CPU-minutes of its own, "
               f"{release['training_cpu_minutes']:.0f} with the runs it started from)"
               if warm and release.get("cumulative_training_cpu_minutes") is not None else
               f"({release['training_cpu_minutes']:.0f} CPU-minutes of training in all)")
            + f"; its PublicTest-chosen "
            f"checkpoint (epoch {release['chosen_epoch']}) scores {scores['plain']['accuracy']:.2%} accuracy and "
            f"{scores['plain']['macro_f1']:.3f} macro-F1 on PrivateTest ({scores['flip_tta']['accuracy']:.2%} with "
            f"flip TTA, {scores['tencrop_tta']['accuracy']:.2%} with ten-crop TTA). The input pipeline trains at a "
            f"median {median:.0%} of the synthetic-data rate ({'meets' if median >= PIPELINE_GOAL else 'misses'} the "
            f"{PIPELINE_GOAL:.0%} goal)")
    text += ("; its rounds spread too widely to tell its cost from run-to-run noise. " if benchmark_is_noise(benchmark)
             else ". ")
    return text + (f"Notebook 05 puts the models side by side (CNN vs ResNet-18/34/50, accuracy vs training "
                   f"CPU-minutes, K-fold vs holdout). All numbers above are in `results/03_notebook_{name}.json` and "
                   f"`results/03_train_{name}.json`.")


def headline_rows(results: dict[str, Any], release: dict[str, Any]) -> list[dict[str, Any]]:
    """Notebook 03's README headline rows (accuracy with flip and with ten-crop TTA, the input pipeline's ratio) from
    its ``results`` and the ``release`` (for the chosen epoch)."""
    name, scores = results["model"], results["privatetest"]
    protocol = f"released checkpoint (epoch {release['chosen_epoch']}, chosen on PublicTest)"
    return [
        {"quantity": f"{name}: accuracy with flip TTA", "value": round(scores["flip_tta"]["accuracy"], 4),
         "split": "PrivateTest", "protocol": protocol},
        {"quantity": f"{name}: accuracy with ten-crop TTA", "value": round(scores["tencrop_tta"]["accuracy"], 4),
         "split": "PrivateTest", "protocol": protocol},
        {"quantity": f"{name}: input pipeline: real / synthetic training rate (ratio)",
         "value": round(results["pipeline_benchmark"]["ratio"], 3), "split": "Training",
         "protocol": "alternating benchmark rounds, same model"},
    ]
