"""The rules of the claims decided by training runs, apart from the ledger that applies them
(:mod:`emotion.analysis.claims`): whether a trained run could decide a claim at all (the budget gate: its model's
budget curve had converged, :func:`budget_gate`), and the outcome rule of each training experiment: class weighting,
augmentation, K-fold against the seed band, and K-fold against a holdout run at matched optimizer steps. The ledger
applies each behind the gate; :mod:`emotion.analysis.ablations` also applies the first three to the runs it reads.
Every name here is also importable from :mod:`emotion.analysis.claims`.
"""

from __future__ import annotations

from pathlib import Path

SIGNIFICANCE = 0.05
"""The level below which a test's p-value calls a difference between trained models significant."""

UNSETTLED = "inconclusive at this budget"
"""The verdict of a claim whose deciding runs had not converged (:func:`budget_gate`)."""


def budget_evidence(results_dir: Path) -> dict[str, dict]:
    """Each architecture's longest budget curve of the study's recipe and its convergence verdict, from the runs in
    ``results_dir`` (:func:`emotion.analysis.budget_curves.budget_runs`,
    :func:`emotion.analysis.budget_curves.convergence`). Curves of the paper's recipe are left out: architectures are
    compared under one recipe, and the paper's has its own claim.

    Returns:
        ``{architecture: {**convergence, "curve" (its longest run), "longest_epochs", "cpu_hours"}}``; an
        architecture with only one budget has no entry.
    """
    from emotion.analysis.budget_curves import budget_runs, convergence

    evidence: dict[str, dict] = {}
    for name, curve in budget_runs(results_dir).items():
        if curve["recipe"].iloc[-1] != "study":
            continue  # architectures are compared under one recipe; the paper's has its own claim
        model, longest = str(curve["model"].iloc[-1]), int(curve["epochs"].max())
        if model in evidence and evidence[model]["longest_epochs"] >= longest:
            continue
        evidence[model] = {**convergence(curve), "curve": name, "longest_epochs": longest,
                           "cpu_hours": float(curve["cpu_hours"].iloc[-1])}
    return evidence


SHORTER_THAN_CONVERGED = "shorter than its converged budget"
"""The status of a run whose model's curve converged, but only at more epochs than the run trained."""
SHORTER_THAN_PAPER_BUDGET = "shorter than the paper's budget its curve reached"
"""The status of a run whose model's curve is settled at the paper's 60 epochs, while the run trained fewer."""
_CURVE_STATES = {"capped": "hit the CPU-hour cap", "no doubling": "has no doubling yet",
                 "still rising": "was still rising", "falling": "was falling"}


def budget_record(evidence: dict, runs: list[str | tuple[str, int | None]]) -> list[dict]:
    """Whether each run a verdict rests on could decide it, from ``evidence["budgets"]`` (:func:`budget_evidence`).

    Args:
        runs: model names, or ``(model, epochs)``: a converged curve settles a run only when the run trained at least
            the shorter budget of the curve's last doubling (without ``epochs``, the curve is taken to cover the run).

    Returns:
        Per run: ``model``, ``epochs``, ``curve`` (None without one), ``status`` (the curve's, "no budget curve",
        :data:`SHORTER_THAN_CONVERGED` or :data:`SHORTER_THAN_PAPER_BUDGET`), ``settled`` (bool: its curve converged,
        or reached the paper's 60 epochs, at no fewer epochs than the run's), and with a curve ``longest_epochs``,
        ``converged_from``, ``settled_from`` (the fewest epochs a settled run needs) and ``publictest_change_points``.
    """
    budgets = evidence.get("budgets") or {}
    record = []
    for run in runs:
        model, epochs = (run, None) if isinstance(run, str) else run
        status = budgets.get(model)
        if status is None:
            record.append({"model": model, "epochs": epochs, "curve": None, "status": "no budget curve",
                           "settled": False})
            continue
        converged_from = int(status["epochs"][0]) if status["converged"] and status.get("epochs") else None
        # A curve settled at the paper's budget settles only runs of that length.
        settled_from = (converged_from if converged_from is not None else
                        int(status["longest_epochs"]) if status.get("reached_paper_budget") else None)
        too_short = settled_from is not None and epochs is not None and epochs < settled_from
        record.append({"model": model, "epochs": epochs, "curve": status["curve"],
                       "status": (status["status"] if not too_short else SHORTER_THAN_CONVERGED
                                  if converged_from is not None else SHORTER_THAN_PAPER_BUDGET),
                       "settled": settled_from is not None and not too_short,
                       "longest_epochs": int(status["longest_epochs"]), "converged_from": converged_from,
                       "settled_from": settled_from,
                       "publictest_change_points": status.get("publictest_change_points")})
    return record


def _what_settles(run: dict) -> str:
    """The clause of ``needs`` that says what would settle one unsettled run of :func:`budget_record`."""
    from emotion.analysis.budget_curves import next_budget

    model = run["model"]
    if run["curve"] is None:
        at = f"{next_budget(run['epochs'])} epochs" if run.get("epochs") else "twice its epochs"
        return f"{model}: a budget curve (the same recipe at {at}; make budgets)"
    if run["status"] in (SHORTER_THAN_CONVERGED, SHORTER_THAN_PAPER_BUDGET):
        reached = (f"converged from {run['converged_from']} epochs" if run.get("converged_from") is not None else
                   f"reached the paper's {run['settled_from']} epochs")
        return (f"{model}: its curve {reached}, but these runs stopped at {run['epochs']}; next: the same runs at "
                f"{run['settled_from']} epochs")
    change = run["publictest_change_points"]
    return (f"{model}: its curve {_CURVE_STATES[run['status']]}"
            + (f" ({change:+.2f} PublicTest points over its last doubling)" if change is not None else "")
            + f" at {run['longest_epochs']} epochs; next: {next_budget(run['longest_epochs'])} epochs (make budgets)")


def budget_gate(evidence: dict, models: list[str | tuple[str, int | None]], verdict: str,
                then: str = "") -> tuple[str, str]:
    """The verdict a comparison of ``models`` may state: ``verdict`` when every one's run is settled
    (:func:`budget_record`: its budget curve converged or reached the paper's 60 epochs), else :data:`UNSETTLED`. A
    run that stopped while its PublicTest accuracy was still moving, short of the paper's budget, says what the model
    reached at that budget, not what it can reach.

    Returns:
        ``(verdict, needs)``; ``needs`` is "" when the verdict stands, else one clause per unsettled model naming
        its curve's state and the next budget (:func:`emotion.analysis.budget_curves.next_budget`, ``make budgets``),
        then ``then`` (what to run once they converge).
    """
    needs = [_what_settles(run) for run in budget_record(evidence, models) if not run["settled"]]
    return (verdict, "") if not needs else (UNSETTLED, "; ".join(needs + ([then] if then else [])))


def class_weighting_rule(disgust_f1_direction: str, worst_after_weighting: str) -> str:
    """The outcome of the disgust claim's causal test, class-weighted training at the seed band's budget: disgust's
    F1 above every seed's and no longer the worst class ``reproduced``, above but still the worst ``partly
    reproduced``, else ``inconclusive`` (weighting cannot add missing images, so no lift refutes nothing). F1, not
    recall, decides: weighting shifts predictions toward rare classes whatever the cause."""
    lifted = disgust_f1_direction == "above"
    return "reproduced" if lifted and worst_after_weighting != "disgust" else "partly reproduced" if lifted else \
        "inconclusive"


def rarest_class_rule(gap: dict) -> str:
    """Where the rarest class stands among the classes, from the paired bootstrap interval of its F1 minus the lowest
    F1 of the others (:func:`emotion.analysis.uncertainty.f1_gap_interval`): ``"the worst"`` when the interval lies
    below zero, ``"not the worst"`` when above, ``"undecided"`` when it holds zero. The interval is the study's one
    bootstrap method, the 95 % percentile interval of every other estimate, fixed before this gap was computed; a
    minimum over classes that nearly tie makes the gap's distribution uneven, so other intervals (basic, BCa) can
    fall differently near zero, and the share of resamples below zero is recorded beside it."""
    return "the worst" if gap["high"] < 0 else "not the worst" if gap["low"] > 0 else "undecided"


def augmentation_rule(gap_direction: str) -> str:
    """The augmentation claim's outcome at one budget: the generalisation gap (Training minus PrivateTest accuracy)
    without augmentation against the augmented seed band (:func:`emotion.analysis.ablations.augmentation_verdict`):
    ``reproduced`` above every seed's gap, ``not reproduced`` below every one, ``inconclusive`` inside."""
    return {"above": "reproduced", "below": "not reproduced", "inside": "inconclusive"}[gap_direction]


def kfold_rule(fold_models_direction: str) -> str:
    """The K-fold claim's outcome at one budget (:func:`emotion.analysis.ablations.kfold_verdict`): ``reproduced``
    (K-fold no better) unless the fold models' mean PrivateTest accuracy is above every holdout seed's."""
    return "not reproduced" if fold_models_direction == "above" else "reproduced"


def kfold_matched_rule(ensemble_difference_points: float, p_value: float) -> str:
    """The K-fold claim's outcome at matched optimizer steps (:func:`emotion.analysis.kfold_matched.
    kfold_matched_comparison`): "K-fold training is no better than a single holdout split" is ``not reproduced``
    when the K-fold ensemble's PrivateTest accuracy is above the holdout run's and the test of the difference gives
    p < :data:`SIGNIFICANCE`, else ``reproduced`` (a K-fold ensemble that is worse, or better by no more than chance
    explains, is no better)."""
    return "not reproduced" if ensemble_difference_points > 0 and p_value < SIGNIFICANCE else "reproduced"
