"""The claims ledger as the study reads and states it, around the rules of :mod:`emotion.analysis.claims`.

The evidence read from results files (:func:`study_evidence`: :func:`file_evidence` and what notebook 06 measured,
:func:`evaluation_evidence`), the ledger notebook 08 wrote (:func:`read_ledger`),
the one form a verdict is stated in anywhere (:func:`verdict_tag`, found again by :func:`stated_verdicts` in text and
:func:`document_verdicts` in results files), and the two checks that keep the study to one verdict per claim: every
stated verdict agrees with the ledger (:func:`verdict_conflicts`), and no "not reproduced" rests on runs that had not
converged (:func:`unsettled_refutations`); :func:`study_verdicts` gathers every verdict the executed notebooks and
the results files state.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from emotion.analysis.claims import CLAIMS, TRAINED_CLAIMS, VERDICTS, Claim, detector_evidence
from emotion.analysis.training_rules import budget_evidence
from emotion.errors import DataFormatError, DataMissingError
from emotion.provenance import read_results

LEDGER_FILE = "08_claims.json"
"""The ledger notebook 08 writes under ``results/``."""
EVALUATION_FILE = "06_evaluation.json"
"""What notebook 06 measured on the released models, under ``results/``."""


def file_evidence(results_dir: Path) -> dict:
    """The part of the ledger's evidence read from the training and detector results files (:func:`study_evidence`
    adds what notebook 06 measured): ``detectors`` (:func:`emotion.analysis.claims.detector_evidence`),
    ``budgets`` (:func:`emotion.analysis.training_rules.budget_evidence`), ``training_cost``
    (``03_training_cost.json``),
    the experiments' outcomes (:func:`emotion.analysis.ablations.ledger_evidence`: ``class_weighted``,
    ``augmentation_ablation``, ``kfold``, ``paper_recipe``), ``kfold_matched`` (a K-fold run against a holdout run at
    matched optimizer steps, :func:`emotion.analysis.kfold_matched.kfold_matched_evidence`; absent until a K-fold
    run records its steps) and ``experiments``, the seed band's model and epochs (the budget those outcomes rest on;
    absent without a seed band)."""
    from emotion.analysis import ablations
    from emotion.analysis.budget_curves import budget_runs
    from emotion.analysis.kfold_matched import kfold_matched_evidence
    from emotion.classify.training_cost import load_training_cost

    results_dir = Path(results_dir)
    evidence = {"detectors": detector_evidence(results_dir), "budgets": budget_evidence(results_dir),
                "training_cost": load_training_cost(results_dir / "03_training_cost.json"),
                **ablations.ledger_evidence(results_dir)}
    matched = kfold_matched_evidence(results_dir)
    if matched is not None:
        evidence["kfold_matched"] = matched
    prices: dict[str, float] = {}
    compare = results_dir / "05_compare_models.json"
    if compare.is_file():  # each release's training cost at the quiet price, the basis notebook 05 compares costs on,
        prices = {name: entry["quiet_cpu_minutes"] for name, entry in read_results(compare).get("models", {}).items()
                  if entry.get("quiet_cpu_minutes") is not None}
    # and each budget run's (a budget-curve head stands for its architecture): its own epochs, from scratch, priced
    # from the runs' files themselves, so a run newer than notebook 05's last run has its price too
    for curve in budget_runs(results_dir, evidence["training_cost"]).values():
        for run, hours in zip(curve["run"], curve["quiet_cpu_hours"]):
            if hours == hours:  # NaN: no quiet price for this recipe
                prices.setdefault(run, 60 * float(hours))
    if prices:
        evidence["quiet_cpu_minutes"] = prices
    try:
        recipe = ablations.group_runs(ablations.read_runs(results_dir))["band_recipe"]
    except DataMissingError:
        return evidence
    return {**evidence, "experiments": {"model": recipe["model"], "epochs": int(recipe["epochs"])}}


def evaluation_evidence(evaluation: dict[str, Any], source: str = EVALUATION_FILE) -> dict[str, Any]:
    """The part of the ledger's evidence that notebook 06 measured, from its results (``results/06_evaluation.json``):
    ``models`` (per released model: PrivateTest ``intervals``, ``training_cpu_minutes``, ``publictest_accuracy``,
    ``epochs``, ``weights_dtype``), ``mcnemar``, ``imbalance``, ``imbalance_settled`` (the rarest class in the
    settled head PublicTest ranks first, :func:`emotion.analysis.curve_heads.settled_imbalance`; None before notebook
    06 recorded it or without such a head), ``ckplus`` (the reference model's CK+48 review, None
    when CK+48 was skipped), ``curve_heads`` and ``curve_mcnemar`` (each architecture's budget-curve head as notebook
    06 scored it and McNemar's tests between heads and releases, :func:`emotion.analysis.curve_heads.review_heads`;
    absent before notebook 06 recorded them).

    Raises:
        DataFormatError: the results lack one of these (written before notebook 06 recorded it); names ``source``.
    """
    try:
        reference = evaluation["reference_model"]
        models = {name: {"intervals": entry["intervals"], "training_cpu_minutes": entry["training_cpu_minutes"],
                         "publictest_accuracy": entry["publictest_accuracy"], "epochs": entry["epochs"],
                         "weights_dtype": entry["weights_dtype"]} for name, entry in evaluation["models"].items()}
        heads = {} if "curve_heads" not in evaluation else {"curve_heads": evaluation["curve_heads"]["heads"],
                                                             "curve_mcnemar": evaluation["curve_heads"]["mcnemar"]}
        return {"models": models, "mcnemar": evaluation["mcnemar"], "imbalance": evaluation["imbalance"],
                "imbalance_settled": evaluation.get("imbalance_settled"),
                "ckplus": evaluation.get("ckplus", {}).get(reference), **heads}
    except (KeyError, TypeError) as error:
        raise DataFormatError(f"{source} lacks {error} that the claims ledger weighs: it was written by an older "
                              "notebook 06; re-run it (python -m emotion run-notebooks --mode full --only 06)."
                              ) from error


def study_evidence(results_dir: Path) -> dict[str, Any]:
    """Everything the claims ledger weighs, read from ``results_dir``: :func:`file_evidence` and
    :func:`evaluation_evidence` of ``06_evaluation.json``.

    Raises:
        DataMissingError: notebook 06 has not written its results there yet.
        DataFormatError: they are from an older notebook 06.
    """
    path = Path(results_dir) / EVALUATION_FILE
    if not path.is_file():
        raise DataMissingError(f"{path} is missing: the claims ledger weighs what notebook 06 measured; run it first "
                               "(python -m emotion run-notebooks --mode full --only 06).")
    return {**file_evidence(results_dir), **evaluation_evidence(read_results(path), str(path))}


def study_verdicts(notebooks: list[Path], results_dir: Path) -> tuple[list[tuple[str, str, str]], list[str]]:
    """Every verdict stated in the executed ``notebooks`` (their text/markdown outputs, :func:`stated_verdicts`) and
    in the results files of ``results_dir`` (:func:`document_verdicts`), the ledger's own file left out: ``(tagged,
    untagged)``, ``tagged`` as ``(where, claim id, verdict)`` for :func:`verdict_conflicts`, ``untagged`` one message
    per verdict that names no claim."""
    import json

    stated: list[tuple[str, str, str]] = []
    loose: list[str] = []
    for notebook in notebooks:
        for index, cell in enumerate(json.loads(Path(notebook).read_text())["cells"]):
            for output in cell.get("outputs", []):
                text = "".join(output.get("data", {}).get("text/markdown", ""))
                tagged, untagged = stated_verdicts(text)
                stated += [(f"{Path(notebook).name}, cell {index}", key, verdict) for key, verdict in tagged]
                loose += [f"{Path(notebook).name}, cell {index}: {context}" for context in untagged]
    for path in sorted(Path(results_dir).glob("*.json")):
        if path.name == LEDGER_FILE:
            continue
        tagged, untagged = document_verdicts(json.loads(path.read_text()), path.name)
        stated += tagged
        loose += [f"results/{entry} (a verdict that names no claim)" for entry in untagged]
    return stated, loose


def read_ledger(results_dir: Path) -> dict[str, Claim]:
    """The ledger notebook 08 wrote (``results_dir/08_claims.json``) as ``{claim id: entry}``, empty before it ran."""
    path = Path(results_dir) / LEDGER_FILE
    return {} if not path.is_file() else {claim_id(entry): entry for entry in read_results(path)["claims"]}


def without_verdict(outcome: dict) -> dict:
    """An experiment's outcome (:func:`emotion.analysis.ablations.class_weighting_verdict` and its siblings) as a
    results file other than the ledger records it: placements and evidence without the ``verdict``, which is the
    outcome before the budget gate; only the ledger states a claim's verdict."""
    return {key: value for key, value in outcome.items() if key != "verdict"}


def claim_id(entry: Claim) -> str:
    """The id (:data:`emotion.analysis.claims.CLAIMS`) of a ledger entry: its ``id``, or for a ledger written before
    entries had one, the id whose text it carries.

    Raises:
        ValueError: the entry names no claim of the ledger.
    """
    if entry.get("id") in CLAIMS:
        return entry["id"]
    for key, text in CLAIMS.items():
        if entry.get("claim") == text:
            return key
    raise ValueError(f"no claim of the ledger reads {entry.get('claim')!r} (ids: {', '.join(CLAIMS)})")


def verdict_tag(entry: Claim) -> str:
    """How every notebook states a claim's verdict: ``**<verdict>** (claim `<id>`)``, the one form
    :func:`stated_verdicts` finds again, so that a verdict stated anywhere can be checked against the ledger."""
    return f"**{entry['verdict']}** (claim `{claim_id(entry)}`)"


_TAGGED = re.compile(r"\*\*(?P<verdict>[^*\n]+)\*\* \(claim `(?P<id>\w+)`\)")
_VERDICT_WORDS = re.compile(
    r"\b(?:" + "|".join(re.escape(verdict) for verdict in sorted(VERDICTS, key=len, reverse=True)) + r")\b",
    flags=re.IGNORECASE)


def stated_verdicts(text: str) -> tuple[list[tuple[str, str]], list[str]]:
    """The verdicts a text states: ``(tagged, untagged)``; ``tagged`` lists ``(claim id, verdict)`` for each
    :func:`verdict_tag`, ``untagged`` the context of each verdict word (:data:`emotion.analysis.claims.VERDICTS`)
    outside a tag: a verdict no one can check against the ledger."""
    tagged = [(match["id"], match["verdict"]) for match in _TAGGED.finditer(text)]
    rest = _TAGGED.sub(" ", text)
    untagged = [" ".join(rest[max(0, match.start() - 60):match.end() + 20].split())
                for match in _VERDICT_WORDS.finditer(rest)]
    return tagged, untagged


def document_verdicts(document: Any, where: str = "") -> tuple[list[tuple[str, str, str]], list[str]]:
    """The verdicts a results document holds: every dict with a ``verdict`` key, as ``(path, claim id, verdict)``
    when it names its claim (``claim_id`` or ``id``, or a ledger entry's ``claim`` text), else ``"path: verdict"``
    in the second list (untagged)."""
    tagged: list[tuple[str, str, str]] = []
    untagged: list[str] = []
    if isinstance(document, dict):
        if "verdict" in document:
            named = document.get("claim_id", document.get("id"))
            try:
                tagged.append((where or "/", named if named in CLAIMS else claim_id(document), document["verdict"]))
            except ValueError:
                untagged.append(f"{where or '/'}: {document['verdict']!r}")
        items = list(document.items())
    elif isinstance(document, list):
        items = [(str(index), item) for index, item in enumerate(document)]
    else:
        return tagged, untagged
    for key, item in items:
        found, loose = document_verdicts(item, f"{where}/{key}")
        tagged += found
        untagged += loose
    return tagged, untagged


def verdict_conflicts(stated: list[tuple[str, str, str]], ledger: list[Claim]) -> list[str]:
    """Every statement ``(where, claim id, verdict)`` that names a claim the ledger does not hold or gives a claim
    another verdict than the ledger's, one message each; empty when every statement agrees."""
    verdicts = {claim_id(entry): entry["verdict"] for entry in ledger}
    return [f"{where}: claim `{key}` is not in the ledger" if key not in verdicts else
            f"{where}: claim `{key}` is stated as {verdict!r}, the ledger says {verdicts[key]!r}"
            for where, key, verdict in stated if verdicts.get(key) != verdict]


def unsettled_refutations(ledger: list[Claim]) -> list[str]:
    """Ledger entries that say "not reproduced" from evidence that could not decide it: a claim resting on trained
    models (:data:`emotion.analysis.claims.TRAINED_CLAIMS`) whose ``budget`` record is missing or holds a run that
    had not settled (:func:`emotion.analysis.training_rules.budget_record`). Empty when the ledger keeps the budget
    rule."""
    problems = []
    for entry in ledger:
        key = claim_id(entry)
        if entry["verdict"] != "not reproduced" or key not in TRAINED_CLAIMS:
            continue
        if "budget" not in entry:
            problems.append(f"claim `{key}`: 'not reproduced' with no record of whether its runs had converged")
        problems += [f"claim `{key}`: 'not reproduced' although {run['model']} ({run['status']}) had not converged"
                     for run in entry.get("budget", []) if not run["settled"]]
    return problems
