"""The table and sentences notebook 08 prints about the claims ledger, each a tested function of the ledger it
states (``results/08_claims.json``, :func:`emotion.analysis.claims.claims_ledger`) and of the agreement check
(:func:`emotion.analysis.ledger.study_verdicts`, :func:`emotion.analysis.ledger.verdict_conflicts`).

Every verdict is written with :func:`emotion.analysis.ledger.verdict_tag`, so that it can be found again and checked
against the ledger; no sentence here uses a verdict's words outside a tag.
"""

from __future__ import annotations

from emotion.analysis.claims import CLAIMS, UNSETTLED, VERDICTS, Claim
from emotion.analysis.ledger import claim_id, verdict_tag


def table_cell(text: str) -> str:
    """``text`` as one markdown table cell: a ``|`` would end the cell and a line break the row, so they become ``/``
    and a space."""
    return str(text).replace("|", "/").replace("\n", " ")


def ledger_table(ledger: list[Claim]) -> str:
    """The claims ledger as a markdown table: claim, verdict (:func:`emotion.analysis.ledger.verdict_tag`), evidence
    and what would settle it (``needs``)."""
    rows = [f"| {table_cell(entry['claim'])} | {verdict_tag(entry)} | {table_cell(entry['evidence'])} | "
            f"{table_cell(entry['needs']) or '-'} |" for entry in ledger]
    return "\n".join(["| claim | verdict | evidence | what would settle it |", "|---|---|---|---|", *rows])


def describe_verdicts(ledger: list[Claim]) -> str:
    """The ledger in one paragraph: every claim's verdict (tagged), grouped in the order of
    :data:`emotion.analysis.claims.VERDICTS`, and how many claims wait on training runs that had not converged.

    Raises:
        ValueError: the ledger is empty, or an entry's verdict is not one of
            :data:`emotion.analysis.claims.VERDICTS`.
    """
    if not ledger:
        raise ValueError("the ledger is empty: claims_ledger gives every claim of CLAIMS a verdict")
    unknown = [entry["verdict"] for entry in ledger if entry["verdict"] not in VERDICTS]
    if unknown:
        raise ValueError(f"verdicts {unknown} are not among {VERDICTS}")
    ordered = sorted(ledger, key=lambda entry: (VERDICTS.index(entry["verdict"]), list(CLAIMS).index(claim_id(entry))))
    waiting = [entry for entry in ledger if entry["verdict"] == UNSETTLED]
    text = (f"The paper makes {len(ledger)} claims this study can name; their verdicts, from one rule each: "
            + ", ".join(verdict_tag(entry) for entry in ordered) + ". ")
    if waiting:
        text += (f"{len(waiting)} of them rest on training runs not yet shown to converge (a budget curve still "
                 "rising, or no curve at all): "
                 "the last column of the table names, for each, the runs and the compute that would settle it, and "
                 "the ledger changes when those runs land (`make budgets`, then `make figures`).")
    else:
        text += "None of them waits on a training run that had not converged."
    return text


def describe_agreement(stated: list[tuple[str, str, str]], loose: list[str], conflicts: list[str],
                       notebooks: int, results_files: int) -> str:
    """Whether the rest of the study agrees with the ledger: ``stated`` verdicts (``(where, claim id, verdict)``)
    found in ``notebooks`` executed notebooks and ``results_files`` results files, ``loose`` verdicts that name no
    claim and the ``conflicts`` (:func:`emotion.analysis.ledger.verdict_conflicts`), one message each."""
    checked = (f"{notebooks} executed notebooks and {results_files} results files hold {len(stated)} stated "
               f"verdict{'s' if len(stated) != 1 else ''} besides this ledger")
    problems = conflicts + [f"{entry} (a verdict that names no claim)" for entry in loose]
    if not problems:
        return (checked + (": every one agrees with it, and none is stated without its claim's id." if stated else
                           ": no other notebook decides a claim, so there is nothing to disagree with it."))
    return (checked + f"; {len(problems)} disagree with it or name no claim, and the ledger is the one to believe "
            "(re-run the notebook that says otherwise): " + "; ".join(problems) + ".")


def describe_conclusion(ledger: list[Claim], problems: int) -> str:
    """Notebook 08's conclusion: which claims the evidence has decided (tagged), which wait on training runs or are
    not measured yet (by id), and whether the rest of the study agrees with the ledger (``problems``: conflicts plus
    verdicts that name no claim, from :func:`describe_agreement`'s inputs)."""
    open_verdicts = (UNSETTLED, "not yet measured")
    decided = [entry for entry in ledger if entry["verdict"] not in open_verdicts]
    waiting = [entry for entry in ledger if entry["verdict"] in open_verdicts]
    text = (f"Of the paper's {len(ledger)} claims, {len(decided)} " + ("has" if len(decided) == 1 else "have")
            + " a verdict that more compute here would not change: "
            + (", ".join(verdict_tag(entry) for entry in decided) or "none") + ". ")
    if waiting:
        text += (f"{len(waiting)} wait on runs not made or not converged ("
                 + ", ".join(f"`{claim_id(entry)}`" for entry in waiting) + "); the table says what each needs. ")
    text += ("No other notebook or results file states a verdict that disagrees with this ledger. " if not problems
             else f"{problems} statements elsewhere disagree with this ledger or name no claim (listed above). ")
    return text + "Every entry, with its evidence and source file, is in `results/08_claims.json`."
