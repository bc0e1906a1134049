"""The sentences notebook 04 prints in the methodology review (seeds, selection bias, training experiments), each a
tested function of the results it states: the dicts notebook 04 writes to ``results/04_methodology.json``
(:func:`emotion.analysis.ablations.seed_band`, :func:`emotion.analysis.ablations.against_band`,
:func:`emotion.analysis.ablations.compute_cost` and the experiments' placements).

Notebook 04 decides no claim and states no verdict: it comes before the model comparison and the evaluation that
the ledger also weighs, so where a sentence reaches a claim it names the claim and hands it to the claims ledger
(notebook 08, rules in :mod:`emotion.analysis.claims`); the experiments' own outcomes are told in words that are not
verdicts.
"""

from __future__ import annotations

from typing import Any

import numpy as np


def run_labels(grouped: dict[str, Any]) -> dict[str, str]:
    """How notebook 04 names each run of :func:`emotion.analysis.ablations.group_runs`: ``seed N`` for the seed band's
    runs, ``<treatment> (seed N)`` for a treatment."""
    labels = {name: f"seed {payload['recipe']['seed']}" for name, payload in grouped["band"].items()}
    labels.update({entry["name"]: f"{entry['label']} (seed {entry['payload']['recipe']['seed']})"
                   for entry in grouped["treatments"].values()})
    return labels


def headline_rows(band: dict[str, Any], band_recipe: dict[str, Any], inflations: list[float]) -> list[dict]:
    """Notebook 04's headline rows: the seed band's accuracy range and the mean inflation from choosing the epoch on
    PrivateTest over the audited runs (``inflations``, accuracy units)."""
    return [
        {"quantity": f"spread over {band['accuracy']['n']} seeds ({band_recipe['model']}, {band['epochs']} epochs): "
                     "accuracy min-max",
         "value": f"{band['accuracy']['min']:.4f}-{band['accuracy']['max']:.4f}", "split": "PrivateTest",
         "protocol": "epoch chosen on PublicTest, per seed"},
        {"quantity": "test-set selection bias: mean inflation from choosing the epoch on PrivateTest",
         "value": round(float(np.mean(inflations)), 4), "split": "PrivateTest",
         "protocol": f"per-epoch audit of {len(inflations)} runs"},
    ]


def describe_seed_band(band: dict[str, Any], cores: int) -> str:
    """The spread of one recipe over seeds (:func:`emotion.analysis.ablations.seed_band`), what each seed cost, and
    that it is the spread at this budget (``band["epochs"]``)."""
    a, m = band["accuracy"], band["macro_f1"]
    return (f"Over {a['n']} seeds of the same {band['epochs']}-epoch recipe, PrivateTest accuracy spans {a['min']:.2%} "
            f"to {a['max']:.2%} (mean {a['mean']:.2%}, standard deviation {100 * a['sd']:.2f} points) and macro-F1 "
            f"{m['min']:.3f} to {m['max']:.3f}. Each seed cost "
            + ", ".join(f"{minutes:.0f}" for minutes in band["training_cpu_minutes_per_seed"])
            + " CPU-minutes (" + ", ".join(f"{minutes:.0f}" for minutes in band["training_wall_minutes_per_seed"])
            + f" wall-minutes on this {cores}-core machine). A one-run difference between two recipes inside this "
            "spread is what a new seed alone produces; with only "
            f"{a['n']} seeds the spread is itself a rough, low estimate, and it is the spread at {band['epochs']} "
            "epochs, not at convergence. The bootstrap interval of notebook 06 measures a different uncertainty "
            "(which test images), not this one (which training run).")


def _ledger_verdict(claim: str, weighs: str) -> str:
    """The sentence that hands ``claim`` (its id in :data:`emotion.analysis.claims.CLAIMS`) to the claims ledger."""
    return (f"The claim's one verdict is the claims ledger's (notebook 08, claim `{claim}`), which {weighs}.")


def describe_class_weighting(weighting: dict[str, Any], band: dict[str, Any], accuracy: dict[str, Any]) -> str:
    """The class-weighted run against the seed band (``results["class_weighting"]``: ``evidence``, ``f1``,
    ``recall``, ``worst_class_after_weighting``; ``accuracy``: :func:`emotion.analysis.ablations.against_band` of its
    overall accuracy), handing the disgust claim to the ledger.

    Rule for the outcome, in words that are not a verdict: disgust's F1 above every seed's ("rose above") or not, and
    whether disgust is still the worst class after weighting."""
    moved = {name: entry["direction"] for name, entry in weighting["recall"].items() if entry["direction"] != "inside"}
    lifted = weighting["f1"]["disgust"]["direction"] == "above"
    worst = weighting["worst_class_after_weighting"]
    outcome = ("disgust's F1 rose above every seed's" if lifted else "disgust's F1 did not rise above the seed band")
    outcome += (" and disgust is still the worst class" if worst == "disgust" else
                f" and the worst class after weighting is *{worst}*")
    return (f"{weighting['evidence'][0].upper()}{weighting['evidence'][1:]}. Recall left the seed band for "
            + (", ".join(f"*{name}* ({direction})" for name, direction in moved.items()) or "no class")
            + f". For the paper's explanation (\"because it has the fewest samples\"): {outcome}, in one run at "
            f"{band['epochs']} epochs. Overall accuracy with weighting: {accuracy['value']:.2%}, "
            f"{accuracy['direction']} the band's {accuracy['band_min']:.2%}-{accuracy['band_max']:.2%}. "
            + _ledger_verdict("disgust", "also asks whether disgust is the worst class of the reference model and "
                                         "whether these runs had converged"))


def describe_augmentation(augmentation: dict[str, Any], band: dict[str, Any]) -> str:
    """The run without augmentation against the seed band (``results["augmentation"]``: ``evidence``, and ``gap``
    and ``accuracy`` placements once measured), handing the augmentation claim to the ledger. Rule: the gap
    without augmentation is said to be above, inside or below every augmented seed's, with the chance 1/(n+1) that a
    run with no effect lands above them all."""
    if "gap" not in augmentation:
        return augmentation.get("evidence", augmentation.get("status", "")) + ". " + _ledger_verdict(
            "augmentation", "weighs the runs once they exist")
    gap, accuracy = augmentation["gap"], augmentation["accuracy"]
    where = {"above": "above every augmented seed's", "inside": "inside the augmented seeds' range",
             "below": "below every augmented seed's"}[gap["direction"]]
    return (f"{augmentation['evidence'][0].upper()}{augmentation['evidence'][1:]}. Without augmentation the "
            f"generalisation gap is {where}, and PrivateTest accuracy is {accuracy['direction']} the seed band; with "
            f"{band['accuracy']['n']} seeds, a run with no effect would land above every seed's gap with probability "
            f"{gap['chance_above_if_no_effect']:.0%}, and this is one run at {band['epochs']} epochs. "
            + _ledger_verdict("augmentation", "also asks whether these runs had converged"))


def describe_mixed_precision(mixed: dict[str, Any], cores: int) -> str:
    """The ``mixed_bfloat16`` run against the float32 seeds (``results["mixed_precision"]``: ``accuracy`` placement
    and :func:`emotion.analysis.ablations.compute_cost`; ``status`` alone before it ran). Rule: its CPU-seconds per
    epoch are called cheaper or costlier only outside the float32 seeds' own range (the same recipe on the same
    machine), else inside it."""
    if "accuracy" not in mixed:
        return "The `mixed_bfloat16` run is not in the results yet (" + mixed["status"] + ")."
    placed, band_cpu = mixed["accuracy"], mixed["band_cpu_seconds_per_epoch"]
    low, high, own = min(band_cpu.values()), max(band_cpu.values()), mixed["cpu_seconds_per_epoch"]
    cost = ("fewer than every float32 seed's" if own < low else "more than every float32 seed's" if own > high else
            "inside the float32 seeds' own range")
    return (f"Under `mixed_bfloat16` the same recipe reached {placed['value']:.2%} ({placed['direction']} the seed "
            f"band {placed['band_min']:.2%}-{placed['band_max']:.2%}). An epoch took {own:.0f} CPU-seconds with "
            f"{mixed['cores_used']:.1f} of the {cores} cores busy on average; the float32 seed runs took "
            + ", ".join(f"{band_cpu[name]:.0f} ({mixed['band_cores_used'][name]:.1f} cores)" for name in band_cpu)
            + f": {mixed['cpu_ratio_vs_band_median']:.2f}x their median, {cost} ({low:.0f}-{high:.0f}), which the "
            "same recipe spans on the same machine depending on what else ran. These are whole-epoch costs, which "
            "include the float32 input pipeline and the PublicTest pass, not the network's alone.")


def describe_crop(crop: dict[str, Any], band: dict[str, Any]) -> str:
    """``crop_cnn`` with the band's recipe against the seed band (``results["crop"]``: ``accuracy`` and ``macro_f1``
    placements and its cost; ``status`` alone before it ran), with the chance 1/(n+1) that a change with no effect
    lands outside the band on one given side."""
    if "accuracy" not in crop:
        return "The `crop_cnn` run at the band's recipe is not in the results yet (" + crop["status"] + ")."
    placed, placed_f1 = crop["accuracy"], crop["macro_f1"]
    return (f"`crop_cnn` with the band's recipe reached {placed['value']:.2%} accuracy ({placed['direction']} the "
            f"seed band {placed['band_min']:.2%}-{placed['band_max']:.2%}, {100 * placed['difference']:+.2f} points "
            f"from its mean) and macro-F1 {placed_f1['value']:.3f} ({placed_f1['direction']} "
            f"{placed_f1['band_min']:.3f}-{placed_f1['band_max']:.3f}), at {crop['cpu_seconds_per_epoch']:.0f} "
            f"CPU-seconds per epoch ({crop['cores_used']:.1f} cores busy), {crop['cpu_ratio_vs_band_median']:.2f}x "
            f"the basic CNN seeds' median. With {band['accuracy']['n']} seeds in the band, a change with no effect "
            f"lands outside it on one given side with probability {placed['chance_above_if_no_effect']:.0%}; one "
            f"run at {band['epochs']} epochs says nothing of the two models at convergence.")


def describe_conclusion(band: dict[str, Any], inflations: list[float], weighting: dict[str, Any],
                        crop: dict[str, Any], crop_size: int) -> str:
    """Notebook 04's conclusion: the seed spread, the mean selection-bias inflation, the class-weighting outcome,
    the crop run's placement, and where these runs are used next (the model comparison reads the seed band; the
    claims ledger weighs the runs into the verdicts on the claims they bear on)."""
    lifted = weighting["f1"]["disgust"]["direction"] == "above"
    return (f"A new seed moves this recipe's PrivateTest accuracy by up to "
            f"{100 * (band['accuracy']['max'] - band['accuracy']['min']):.1f} points at {band['epochs']} epochs; "
            f"choosing epochs on the test set would have added {100 * np.mean(inflations):.2f} points on average; "
            f"class weighting {'lifted' if lifted else 'did not lift'} disgust's F1 above the seed band; the "
            f"{crop_size}x{crop_size} crop: "
            + (f"{crop['accuracy']['direction']} the seed band. " if "accuracy" in crop else "not run. ")
            + "Notebook 05 reads a difference between two models against this seed band; the claims ledger (notebook "
              "08) weighs the augmentation runs, and whether they had converged, into its verdict on the claim "
              "`augmentation`, and the class-weighting run into `disgust` only where disgust is the worst class of "
              "the model that claim judges (else the cause is moot). All numbers are in "
              "`results/04_methodology.json`; the ledger cites the runs' own files.")
