"""The sentences notebook 05 prints comparing the released models (accuracy, curves, cost, levers), each a tested
function of the results it states.

Every function takes the notebook's ``results`` dict (what it writes to ``results/05_compare_models.json``) or a part
of it, and returns markdown or a table to display. Three rules run through them:

- an accuracy always says which weights it is of: the *training checkpoint* (float32, ``privatetest_accuracy``) or the
  *stored file* (``privatetest_accuracy_stored_file``: the released ``.keras``, float16 weights where it was too big);
- a cost is the whole lineage's (parents' epochs and its own) and is counted at the quiet price of each epoch
  (:mod:`emotion.analysis.lineage_cost`); recorded CPU times are compared only between runs under a comparable load;
- whether a run had converged or its budget limited it is read from budget curves only
  (:func:`emotion.analysis.budget_curves.convergence`, by run:
  :func:`emotion.analysis.budget_curves.convergence_by_run`).
"""

from __future__ import annotations

import pandas as pd

from emotion.analysis.budget_curves import BUDGET_CAP_CPU_HOURS, CONVERGED_POINTS, convergence, convergence_by_run
from emotion.analysis.compare import BEST_MODEL_GOAL, PUBLISHED_ANCHOR_EPOCHS, STUDY_GOALS
from emotion.analysis.comparison_tables import cores_pair
from emotion.analysis.lineage_cost import SAME_LOAD_CORES, comparable_load

CHECKPOINT = "training checkpoint"
STORED = "stored file"
"""How a sentence names the two weights a release's accuracy can be of."""

QUIET = "at the quiet price of each epoch"
"""How a sentence names the cost unit of :mod:`emotion.analysis.lineage_cost`."""

NOT_CONVERGED_STATES = {"still rising": "was still rising", "falling": "was falling",
                        "capped": "hit the CPU-hour cap before converging", "no doubling": "has no doubling yet",
                        "paper budget": "reached the paper's 60 epochs without converging"}
"""How a sentence states a :func:`emotion.analysis.budget_curves.convergence` status other than "converged"."""


def _percent(value: float) -> str:
    return f"{value:.2%}"


def _known(value: float | None) -> bool:
    """Whether a number of the results is there (neither None, JSON's null, nor NaN)."""
    return value is not None and value == value


def goal_status(name: str, accuracy: float) -> str | None:
    """``"goal <text>: met"`` or ``"... not met"`` for a model with a goal in
    :data:`emotion.analysis.compare.STUDY_GOALS` (its accepted range ``low``-``high`` of PrivateTest accuracy), else
    None."""
    goal = STUDY_GOALS.get(name)
    if goal is None:
        return None
    return f"goal {goal['text']}: {'met' if goal['low'] <= accuracy <= goal['high'] else 'not met'}"


def _hours(goal: dict) -> str:
    """The CPU-hours of a goal outcome, named by how they were counted (``cost_basis``, "measured" when absent)."""
    if goal.get("cost_basis") == "quiet":
        return (f"{goal['training_cpu_hours']:.1f} CPU-hours {QUIET} ({goal['measured_training_cpu_hours']:.1f} as "
                "recorded on the shared machine")
    return f"{goal['training_cpu_hours']:.1f} CPU-hours as recorded (no quiet price for every run of it"


def describe_goal(goal: dict, weights: str = CHECKPOINT) -> str:
    """One sentence on :data:`emotion.analysis.compare.BEST_MODEL_GOAL` for a
    :func:`emotion.analysis.compare.check_best_model_goal` outcome (``goal``) that also carries
    ``privatetest_accuracy`` (of ``weights``), ``training_cpu_hours``, ``training_wall_hours`` and, from
    :func:`emotion.analysis.compare.best_model_goal`, ``cost_basis`` and ``measured_training_cpu_hours``.

    The verdict is "met" only when both the accuracy and the CPU budget are; otherwise it names what is missing."""
    missing = [part for part, met in ((f"{goal['shortfall_points']:.1f} points short", goal["accuracy_met"]),
                                      ("over the CPU budget", goal["budget_met"])) if not met]
    verdict = "met" if not missing else "not met (" + ", ".join(missing) + ")"
    return (f"{_percent(goal['privatetest_accuracy'])} on PrivateTest ({weights}) after {_hours(goal)}; "
            f"{goal['training_wall_hours']:.1f} wall-hours) of training, against the goal of at least "
            f"{BEST_MODEL_GOAL['accuracy']:.0%} from at most {BEST_MODEL_GOAL['training_cpu_hours']:.0f} CPU-hours: "
            f"{verdict}")


def describe_released(results: dict) -> str:
    """The paragraph under the released-models table: each release's PrivateTest accuracy and macro-F1 of its
    training checkpoint with its study goal (:func:`goal_status`); the stored file's accuracy for every release that
    stores weights other than float32 (``stored_as``), since notebook 06 and the README quote the stored files; the
    model the study picks on PublicTest against the goal (:func:`describe_goal`); the registry architectures with
    no release. Inputs: ``results["models"]``, ``results["best_model_goal"]``, ``results["not_released"]``."""
    models, goal = results["models"], results["best_model_goal"]
    parts = []
    for name, row in models.items():
        status = goal_status(name, row["privatetest_accuracy"])
        parts.append(f"*{name}* {_percent(row['privatetest_accuracy'])} (macro-F1 {row['privatetest_macro_f1']:.3f}"
                     + (f"; {status}" if status else "") + ")")
    stored = [f"*{name}* {_percent(row['privatetest_accuracy_stored_file'])} ({row['stored_as']} weights)"
              for name, row in models.items() if row["stored_as"] != "float32"]
    text = (f"**What this shows.** {len(models)} released single network(s); PrivateTest accuracy of each "
            f"{CHECKPOINT}: "
            + "; ".join(parts) + ".")
    if stored:
        text += (f" The {STORED}s that store smaller weights score differently: " + ", ".join(stored)
                 + f"; notebook 06 and the README quote the {STORED}s.")
    return (text + f" The single network the study would pick (highest PublicTest accuracy, never PrivateTest) "
            f"is *{goal['model']}*: " + describe_goal(goal) + " (the released ensembles are weighed in the ensemble "
            "section). Registry architectures with no release: "
            + (", ".join(results["not_released"]) or "none") + ".")


def describe_tta_choice(choice: dict, stored_file_accuracy: float) -> str:
    """The paragraph on :func:`emotion.analysis.compare.release_tta_choice` (scored on the released, stored file)
    against the same stored file's PrivateTest accuracy without test-time augmentation."""
    interval = choice["privatetest_accuracy_interval"]
    listed = ", ".join(f"{mode} {_percent(value)}" for mode, value in choice["selection_accuracy"].items())
    return (f"**What this shows.** PublicTest accuracy of *{choice['model']}* by test-time augmentation: {listed}, so "
            f"PublicTest chooses "
            f"*{choice['chosen']}*. Scored once with it, the {STORED} reaches {_percent(choice['test']['accuracy'])} "
            f"on PrivateTest (95 % bootstrap interval {_percent(interval['low'])}-{_percent(interval['high'])}, "
            f"macro-F1 {choice['test']['macro_f1']:.3f}), "
            f"{100 * (choice['test']['accuracy'] - stored_file_accuracy):+.2f} points on the "
            f"{_percent(stored_file_accuracy)} of the same {STORED} without TTA.")


def run_convergence(results: dict) -> dict[str, dict]:
    """:func:`emotion.analysis.budget_curves.convergence_by_run` of the budget curves the notebook wrote
    (``results["budget_curves"]["curves"]``): each run on a curve with its curve's verdict, the evidence every
    sentence on whether a run had converged reads. A run on no curve has no entry."""
    curves = results.get("budget_curves", {}).get("curves", {})
    return convergence_by_run({name: pd.DataFrame(records) for name, records in curves.items()})


def describe_run_convergence(names: list[str], verdicts: dict[str, dict]) -> str:
    """Whether each of ``names`` had converged, from :func:`run_convergence` only: a run on a converged curve
    converged; a run on a curve in any other state was limited by its budget (its recipe still moved when the budget
    doubled); a run on no curve is one run at one budget, which cannot say either way (a peak in the last epochs is
    what a cosine schedule gives whatever the budget)."""
    on_curve = [name for name in names if name in verdicts]
    unknown = [name for name in names if name not in verdicts]
    parts = []
    for name in on_curve:
        verdict = verdicts[name]
        change = verdict["publictest_change_points"]
        moved = "" if change is None else (f" ({verdict['epochs'][0]} -> {verdict['epochs'][1]} epochs: "
                                           f"{change:+.2f} PublicTest points)")
        parts.append(f"*{name}*: its recipe's budget curve *{verdict['curve']}*{moved} "
                     + ("converged" if verdict["converged"] else
                        f"{NOT_CONVERGED_STATES[verdict['status']]}: settled at the paper's own budget"
                        if verdict["status"] == "paper budget" else
                        f"{NOT_CONVERGED_STATES[verdict['status']]}, so the budget limited it"))
    if unknown:
        parts.append(", ".join(f"*{name}*" for name in unknown) + (
            " is on no budget curve, and one run at one budget cannot say whether it had converged" if len(unknown) == 1
            else " are on no budget curve, and one run at one budget each cannot say whether they had converged"))
    return "; ".join(parts)


def describe_resnets(results: dict) -> str:
    """The paragraph under the ResNet table (``results["resnet_table"]``): parameters per depth, the feature-map
    size after the stem, and the released ResNets' PrivateTest accuracy (training checkpoints) with their lineage
    epochs and quiet CPU-minutes (``results["models"]``). The scores compare the depths only when every released
    ResNet's budget curve converged (:func:`describe_run_convergence`); otherwise they compare budgets."""
    resnets, models = results["resnet_table"], results["models"]
    sizes = sorted({row["after stem (px)"] for row in resnets.values()})
    text = ("**What this shows.** " + "; ".join(f"*{name}*: {row['parameters']:,} parameters"
                                                for name, row in resnets.items())
            + ". Depth adds parameters, not resolution: every ResNet sees the same "
            + " or ".join(f"{side}x{side}" for side in sizes) + " maps after its stem")
    released = [name for name in resnets if name in models]
    if not released:
        return text + ", and none is released yet."
    verdicts = run_convergence(results)
    text += ". Their " + f"{CHECKPOINT}s score " + ", ".join(
        f"*{name}* {_percent(models[name]['privatetest_accuracy'])} ({models[name]['lineage_epochs']} epochs, "
        f"{_minutes(models[name])})" for name in released) + " on PrivateTest. "
    if all(verdicts.get(name, {}).get("converged") for name in released):
        return text + "Every one's budget curve converged, so the scores compare the depths."
    return (text + describe_run_convergence(released, verdicts)
            + "; so the scores compare these budgets, not what each depth can reach.")


def _minutes(row: dict) -> str:
    """A release's training CPU-minutes, whole lineage, at the quiet price (named as a float32 epoch's for a run
    trained under mixed_bfloat16, which was not priced itself) or, without one, as recorded."""
    quiet = row.get("quiet_cpu_minutes")
    if _known(quiet):
        if row.get("precision") == "mixed_bfloat16":
            return (f"{quiet:,.0f} CPU-minutes at the quiet price of a float32 epoch, though it trained under "
                    "mixed_bfloat16")
        return f"{quiet:,.0f} CPU-minutes {QUIET}"
    return f"{row['training_cpu_minutes']:,.0f} CPU-minutes as recorded (no quiet price)"


def describe_budget_curve(curve: dict) -> str:
    """One sentence on ``results["budget_curve"]`` (:func:`emotion.analysis.compare.lineage_budget_curve` as
    records, with ``model``, ``lineage``, ``cost_basis`` and ``points``): the PrivateTest accuracy of the checkpoint
    PublicTest chose within each CPU-hour budget the lineage reached, and which run of the lineage it came from."""
    points = curve["points"]
    unit = QUIET if curve.get("cost_basis") == "quiet" else "as recorded"
    lineage = " -> ".join(curve.get("lineage", [curve["model"]]))
    parts = [f"{point['budget_cpu_hours']:.1f} CPU-h: {_percent(point['privatetest_accuracy'])} (epoch "
             f"{point['chosen_epoch']}" + (f", {point['run']}" if "run" in point else "") + ")"
             for point in points if point["reached"]]
    text = (f"*{curve['model']}*'s lineage ({lineage}) read at each CPU-hour budget ({unit}) it reached: "
            + ("; ".join(parts) if parts else "none"))
    if not points:
        return text + " (no epoch finished within the smallest budget)"
    if not all(point["reached"] for point in points):
        last = points[-1]
        text += f" (the lineage ended after {last['cpu_hours']:.2f} CPU-hours, {last['epochs']} epochs)"
    return text


def describe_compute(results: dict) -> str:
    """The paragraph under the accuracy-against-compute figure: how cost is counted (``results["cost_counting"]``),
    how far apart the runs' loads were (the range of ``cores_used``; recorded CPU times compare only within
    :data:`emotion.analysis.lineage_cost.SAME_LOAD_CORES`), each release's training checkpoint against the paper's
    figure where it states one, what the budget curves say about convergence (:func:`describe_run_convergence`) and
    the best model's lineage curve (:func:`describe_budget_curve`)."""
    models, counting = results["models"], results["cost_counting"]
    cores = [row["cores_used"] for row in models.values() if _known(row["cores_used"])]
    text = "**What this shows.** Each point is a release at the CPU-minutes of its whole lineage (parents' epochs and "
    if counting["measured_images_per_split"] is None:
        text += (f"its own) as recorded: no quiet price was measured (`make training-cost` writes `results/"
                 f"{counting['quiet_cost_file']}`), so these costs compare only runs under a comparable load. ")
    else:
        text += (f"its own), each epoch priced at the quiet cost of its model from `results/"
                 f"{counting['quiet_cost_file']}` (one process at a time on the quiet machine, oneDNN on, a full "
                 f"epoch projected from {counting['measured_images_per_split']:,} images per split); a release "
                 "without that price is drawn open at its recorded CPU time. ")
    if len(cores) > 1:
        spread = max(cores) - min(cores)
        text += (f"The runs kept between {min(cores):.2f} and {max(cores):.2f} cores busy (table), "
                 + ("at least" if spread >= SAME_LOAD_CORES else "less than")
                 + f" {SAME_LOAD_CORES} cores apart, the most at which recorded CPU times compare as they stand: "
                 + ("the recorded times are not comparable across these runs. " if spread >= SAME_LOAD_CORES else
                    "the recorded times are comparable across these runs. "))
    float32_priced = [name for name, row in models.items()
                      if row["precision"] == "mixed_bfloat16" and _known(row.get("quiet_cpu_minutes"))]
    if float32_priced:
        text += ("Releases trained under mixed_bfloat16 (" + ", ".join(f"*{name}*" for name in float32_priced)
                 + ") are priced at their model's float32 epoch, the only one measured quietly. ")
    against = [f"*{name}* {100 * (row['privatetest_accuracy'] - row['paper_accuracy']):+.1f} points"
               for name, row in models.items() if _known(row.get("paper_accuracy"))]
    if against:
        text += (f"Against the paper's own figure ({CHECKPOINT}s; dashed lines): " + ", ".join(against)
                 + ". ")
    text += ("Whether a model had converged: " + describe_run_convergence(list(models), run_convergence(results))
             + ". The dotted lines are published from-scratch models (about "
             f"{PUBLISHED_ANCHOR_EPOCHS} GPU epochs, checkpoints chosen on the test split); the grey "
             "line follows the best model's checkpoints (runs scheduled for their own budgets, not one run planned for "
             "each budget): "
             + describe_budget_curve(results["budget_curve"]) + ".")
    return text


def describe_learning(results: dict) -> str:
    """The paragraph under the validation curves: where each run's PublicTest accuracy peaked
    (``results["validation_peaks"]``, epochs counted through the lineage for a warm-started run) and, from budget
    curves only, whether it had converged (:func:`describe_run_convergence`)."""
    peaks = results["validation_peaks"]
    parts = []
    for name, peak in peaks.items():
        own = peak["last_epoch"] - peak["first_epoch"] + 1
        if peak["first_epoch"] == 1:
            parts.append(f"*{name}* peaked at {peak['peak_publictest_accuracy']:.1%} in epoch {peak['peak_epoch']} "
                         f"of {peak['last_epoch']}.")
        else:
            parts.append(f"*{name}*, over its own {own} epochs ({peak['first_epoch']}-{peak['last_epoch']} of its "
                         f"lineage), peaked at {peak['peak_publictest_accuracy']:.1%} in epoch {peak['peak_epoch']}.")
    return ("**What this shows.** PublicTest accuracy per epoch. " + " ".join(parts) + " Whether a model had "
            "converged is read from budget curves only (next section): "
            + describe_run_convergence(list(peaks), run_convergence(results)) + ".")


def describe_convergence(name: str, verdict: dict) -> str:
    """One sentence on a :func:`emotion.analysis.budget_curves.convergence` verdict of the curve ``name``."""
    if verdict["epochs"] is None and verdict.get("reached_paper_budget"):
        return (f"*{name}* has no doubling of its epoch budget, but its longest run reached the paper's own epochs: "
                "settled at the paper's budget, not converged")
    if verdict["epochs"] is None:
        return (f"*{name}* has no doubling of its epoch budget yet"
                + (f"; its longest run hit the {BUDGET_CAP_CPU_HOURS:.0f} CPU-hour cap" if verdict["capped"] else ""))
    shorter, longer = verdict["epochs"]
    change = verdict["publictest_change_points"]
    text = f"*{name}*: {shorter} -> {longer} epochs moved PublicTest by {change:+.2f} points"
    return text + {
        "converged": f", under {CONVERGED_POINTS} points: converged",
        "capped": (f", and its longest run hit the {BUDGET_CAP_CPU_HOURS:.0f} CPU-hour cap: not converged, "
                   "stopped there"),
        "still rising": f", at least {CONVERGED_POINTS} points: still rising, so the budget limited it",
        "falling": ": falling (the longer budget overfits or the run is noisy)",
        "paper budget": (f", at least {CONVERGED_POINTS} points, at the paper's own {longer} epochs: settled at the "
                         "paper's budget, not converged"),
    }[verdict["status"]]


def describe_budget_curves(results: dict) -> str:
    """The paragraph under the budget-curve table: one :func:`describe_convergence` per curve of
    ``results["budget_curves"]["curves"]`` (the verdict recomputed by :func:`emotion.analysis.budget_curves.convergence`
    from the curve's records), or what would make one."""
    curves = results["budget_curves"]["curves"]
    if not curves:
        return ("**What this shows.** No model has runs at two budgets of one recipe yet (`make budgets` trains "
                "them), so no verdict says whether any had converged.")
    return "**What this shows.** " + "; ".join(describe_convergence(name, convergence(pd.DataFrame(records)))
                                                for name, records in curves.items()) + "."


def describe_paper_recipes(results: dict) -> str:
    """The paragraph under the paper's-recipe table: one :func:`emotion.analysis.ablations.describe_paper_recipe`
    per run of ``results["paper_recipe"]`` against the paper's 62.86 % (:data:`emotion.paper.PAPER_FER2013_ACCURACY`),
    or what would make one."""
    from emotion.analysis.ablations import describe_paper_recipe
    from emotion.paper import PAPER_FER2013_ACCURACY

    paper = results["paper_recipe"]
    if not paper:
        return ("**What this shows.** No run of the paper's recipe is in the results yet (`make budgets` trains "
                "`resnet34_paper_4ep`).")
    return "**What this shows.** " + "; ".join(
        describe_paper_recipe(entry, PAPER_FER2013_ACCURACY) + " (its CPU-hours as recorded on the shared machine, "
        "not at the quiet price)" for entry in paper.values()) + "."


SEED_RANGE_WORDS = ("within the seed band's range", "beyond the seed band's range")
"""How :func:`describe_levers` places a change against the seed band's range (max - min over seeds)."""


def _lever_cost(lever: dict) -> str:
    """The cost clause of one lever, by :func:`emotion.analysis.lineage_cost.cost_change`'s basis."""
    if lever["cost_basis"] == "quiet":
        return f"{lever['counted_cpu_minutes_change']:+.0f} training CPU-minutes {QUIET}"
    if lever["cost_basis"] == "measured at a comparable load":
        return (f"{lever['counted_cpu_minutes_change']:+.1f} training CPU-minutes as recorded, under a comparable "
                f"load ({cores_pair(lever)} cores busy; no quiet price of both runs)")
    return (f"a cost that cannot be stated: no quiet price of both runs, and their recorded times were taken under "
            f"different loads ({cores_pair(lever)} cores busy)")


def describe_levers(results: dict) -> str:
    """The paragraph under the lever table: per lever of ``results["levers"]`` the PrivateTest change of the
    training checkpoints, the change of cost as counted (:func:`_lever_cost`), and, with a seed band
    (``results["seed_band"]``), whether the change lies within its range (max - min over seeds: no larger than what
    a new seed alone gives) or beyond it; a pair trained at another budget than the band's is not placed against
    it (a seed band speaks for its own budget only)."""
    levers, band = results["levers"], results.get("seed_band")
    spread = None if band is None else 100 * (band["accuracy"]["max"] - band["accuracy"]["min"])

    def placement(lever: dict) -> str:
        if spread is None:
            return ""
        epochs = [lever.get("from_epochs"), lever.get("to_epochs")]
        if None not in epochs and set(epochs) != {band["epochs"]}:
            trained = " and ".join(str(value) for value in dict.fromkeys(epochs))
            return (f", not placed against the seed band (measured at {band['epochs']} epochs; these runs trained "
                    f"{trained})")
        return f", {SEED_RANGE_WORDS[abs(lever['accuracy_change_points']) >= spread]}"

    if not levers:
        text = "No pair of released runs differs in a single lever yet."
    else:
        text = " ".join(
            f"*{lever['lever']}* ({lever['runs']}): PrivateTest {lever['accuracy_change_points']:+.2f} points for "
            + _lever_cost(lever) + placement(lever) + "." for lever in levers)
    if band:
        accuracy = band["accuracy"]
        text += (f" Each is one seed; notebook 04's seed band ({_percent(accuracy['min'])}-"
                 f"{_percent(accuracy['max'])} over {len(band['runs'])} seeds at {band['epochs']} epochs, a range of "
                 f"{100 * (accuracy['max'] - accuracy['min']):.2f} points) is the yardstick, measured at its own "
                 "budget only.")
    else:
        text += " Each is one seed; no seed band has been run yet to say what a single difference can show."
    return ("**What this shows.** " + text + " The levers that cost no training time, the flip and ten-crop TTA, "
            "are measured on every released model in notebook 03 and shown in the table at the top.")


def describe_kfold(results: dict) -> str:
    """The paragraph of the K-fold section (``results["kfold"]``, :func:`emotion.analysis.compare.kfold_summary`):
    before a run, what K folds would cost; after, the ledger's evidence, where the fold models and their
    ensemble fall against the holdout seed band, and what K-fold costs: by construction K models on (K-1)/K of
    Training each, and the recorded CPU-minutes' ratio only when both were recorded under a comparable load
    (:func:`emotion.analysis.lineage_cost.comparable_load`). The verdict on the paper's claim is left to the claims
    ledger (notebook 08, claim ``kfold``), which first asks whether the runs' budget had converged."""
    kfold = results["kfold"]
    folds = kfold["folds"]
    if "per_fold" not in kfold:
        return (f"**What this shows.** No K-fold run is in the results yet. A {folds}-fold run trains {folds} models "
                f"on {folds - 1}/{folds} of Training each, about {folds - 1}x the training of one holdout run: "
                + ", ".join(f"*{name}* about {minutes / 60:.1f} CPU-hours"
                            for name, minutes in kfold["estimated_training_cpu_minutes"].items())
                + " (its epochs at the quiet price, as recorded where it has none).")
    ratio = kfold["recorded_cpu_minutes_ratio"]
    if comparable_load(kfold["cores_used"], kfold["holdout_cores_used"]):
        cost = f"{ratio:.1f}x the recorded training CPU-minutes of one holdout run, under a comparable load"
    else:
        load = ("its load was not recorded" if kfold["cores_used"] is None else
                f"{kfold['cores_used']:.2f} against {kfold['holdout_cores_used']:.2f} cores busy")
        cost = (f"{folds} models on {folds - 1}/{folds} of Training each, {folds - 1}x the training images of one "
                f"holdout run at the same epochs (the recorded CPU-minutes, {ratio:.1f}x, are not a fair ratio: "
                f"{load})")
    return (f"**What this shows.** {kfold['evidence']}. On average the fold models are "
            f"{kfold['fold_models']['direction']} the holdout seed band; the ensemble of all {folds} is "
            f"{kfold['ensemble']['direction']} it ({100 * kfold['ensemble']['difference']:+.2f} points from the band's "
            f"mean), for {cost}. The verdict on the paper's claim that K-fold is no better than holdout is the claims "
            "ledger's (notebook 08, claim `kfold`), which first asks whether these runs' budget had converged.")


def _ensemble_candidates(ensemble: dict) -> str:
    """"N released models" or "N candidates (R released models and E experiment runs ...)"."""
    candidates, runs = len(ensemble["candidates"]), ensemble.get("run_candidates", [])
    if not runs:
        return f"{candidates} released models"
    return (f"{candidates} candidates ({candidates - len(runs)} released models and {len(runs)} experiment "
            f"run{'s' if len(runs) != 1 else ''} whose outputs were kept, their weights being only on the machine "
            "that trained them)")


def _ensemble_weights(ensemble: dict) -> str:
    """What the chosen set's members are: stored files, or stored files and kept outputs of experiment runs."""
    runs = set(ensemble.get("run_candidates", [])) & set(ensemble["selection"]["members"])
    return f"{STORED}s" if not runs else f"{STORED}s and runs' kept outputs"


def describe_ensemble(results: dict) -> str:
    """The paragraph of the ensemble section (``results["ensemble"]``): how many candidates (releases and experiment
    runs that kept their outputs) greedy selection on PublicTest keeps, the chosen set's PrivateTest score (the
    ensemble's TTA) against the best single member's with the same TTA and McNemar's test (when it keeps more than
    one), the unselected average, whether the set can be released as one file, and the chosen set against the goal
    (:func:`describe_goal`, cost of every member's lineage counted once)."""
    ensemble = results["ensemble"]
    members, scored = ensemble["selection"]["members"], ensemble["privatetest"]
    interval, test = ensemble["privatetest_accuracy_interval"], ensemble["mcnemar_vs_best_single"]
    candidates = len(ensemble["candidates"])
    weights = _ensemble_weights(ensemble)
    runs_kept = [name for name in members if name in set(ensemble.get("run_candidates", []))]
    score = (f"{_percent(scored['accuracy'])} (95 % bootstrap interval {_percent(interval['low'])}-"
             f"{_percent(interval['high'])}, macro-F1 {scored['macro_f1']:.3f})")
    text = (f"**What this shows.** Greedy selection on PublicTest keeps {len(members)} of "
            f"{_ensemble_candidates(ensemble)}: {' + '.join(members)}")
    if len(members) == 1:
        text += (f" (no other candidate raises its PublicTest accuracy, so the ensemble is *{members[0]}* alone). "
                 f"On PrivateTest its {STORED + ' scores' if runs_kept == [] else 'kept outputs score'} {score} with "
                 f"{ensemble['tta']} TTA. ")
    else:
        single = ensemble["best_single"]
        text += (f". On PrivateTest the ensemble of {weights} scores {score} against "
                 f"{_percent(single['privatetest_accuracy'])} for *{single['model']}* alone with the same "
                 f"{ensemble['tta']} TTA (McNemar p = {test['p_value']:.2g}: {test['a_only']} images only the "
                 f"ensemble gets right, {test['b_only']} only the single model). ")
    if runs_kept:
        their = "its" if len(runs_kept) == 1 else "their"
        text += (f"It cannot be released as one file here: {', '.join(runs_kept)} kept only {their} outputs in "
                 "`results/`. ")
    return (text + f"The average of all {candidates} candidates, chosen by nobody, scores "
            f"{_percent(ensemble['all_released_unselected']['accuracy'])}. The chosen set, every member's lineage "
            "counted once: " + describe_goal(ensemble["goal"], f"{weights}, {ensemble['tta']} TTA") + ".")


def headline(results: dict) -> list[dict]:
    """The headline rows of ``results/05_compare_models.json`` (the README's list): the best release by PublicTest
    (training checkpoint), with the TTA PublicTest chose (stored file), and the ensemble chosen on PublicTest."""
    goal, choice, ensemble = results["best_model_goal"], results["tta_choice"], results["ensemble"]
    scored, interval = ensemble["privatetest"], choice["privatetest_accuracy_interval"]
    members = scored["members"]
    return [
        {"quantity": f"best released model by PublicTest: PrivateTest accuracy ({CHECKPOINT})",
         "value": f"{goal['model']}: {_percent(goal['privatetest_accuracy'])}", "split": "PrivateTest",
         "protocol": "model and checkpoint chosen on PublicTest; PrivateTest evaluated once"},
        {"quantity": f"best released model, test-time augmentation chosen on PublicTest ({choice['chosen']}): "
                     f"PrivateTest accuracy ({STORED})",
         "value": f"{choice['model']}: {_percent(choice['test']['accuracy'])} ({interval['low']:.1%}-"
                  f"{interval['high']:.1%})", "split": "PrivateTest", "protocol": choice["protocol"]},
        {"quantity": "ensemble of released models" + (" and experiment runs" if ensemble.get("run_candidates") else "")
                     + f" chosen on PublicTest ({ensemble['tta']} TTA): PrivateTest accuracy "
                     f"({_ensemble_weights(ensemble)})",
         "value": f"{_percent(scored['accuracy'])} (" + (f"selection kept {members[0]} alone, no ensemble gain"
                                                          if len(members) == 1 else " + ".join(members))
                  + f"; {ensemble['goal']['training_cpu_hours']:.1f} training CPU-h, "
                  + ("quiet price" if ensemble["goal"].get("cost_basis") == "quiet" else "as recorded") + ")",
         "split": "PrivateTest", "protocol": ensemble["protocol"]},
    ]


def describe_conclusion(results: dict) -> str:
    """The conclusion: the releases, the single network best by PublicTest against the goal (training checkpoint,
    whole lineage's cost as counted), the registry architectures with no release, the ensemble's score (with its
    test-time augmentation) and where the K-fold verdict is."""
    goal, ensemble, kfold = results["best_model_goal"], results["ensemble"]["privatetest"], results["kfold"]
    tta = results["ensemble"].get("tta")
    augmentation = f", {tta} test-time augmentation" if tta and tta != "none" else ""
    return (f"Released single networks: {', '.join(results['models'])}. Best by PublicTest: *{goal['model']}*, "
            f"{_percent(goal['privatetest_accuracy'])} on PrivateTest ({CHECKPOINT}) after {_hours(goal)}) for its "
            f"whole lineage (epochs: {results['models'][goal['model']]['lineage_epochs']}); it "
            f"{'meets' if goal['accuracy_met'] else 'misses'} the {BEST_MODEL_GOAL['accuracy']:.0%} goal and is "
            f"{'within' if goal['budget_met'] else 'over'} its {BEST_MODEL_GOAL['training_cpu_hours']:.0f} CPU-hours. "
            f"Registry architectures with no release: {', '.join(results['not_released']) or 'none'}. Ensemble chosen "
            f"on PublicTest: {_percent(ensemble['accuracy'])} on PrivateTest ({' + '.join(ensemble['members'])}"
            f"{augmentation}). K-fold vs holdout: "
            + ("the claims ledger's verdict (notebook 08, claim `kfold`)" if "per_fold" in kfold else kfold["status"])
            + ". The numbers are in `results/05_compare_models.json`.")
