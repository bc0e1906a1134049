"""Notebook 08's table and sentences about the claims ledger, and the evidence it reads, on ledgers built here and on
the committed results."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from emotion.analysis import ledger_prose as prose
from emotion.analysis.claims import CLAIMS, UNSETTLED, claims_ledger
from emotion.analysis.ledger import evaluation_evidence, stated_verdicts, study_evidence, study_verdicts
from emotion.errors import DataFormatError, DataMissingError

RESULTS = Path(__file__).resolve().parent.parent / "results"


def entry(key, verdict, needs=""):
    return {"id": key, "claim": CLAIMS[key], "verdict": verdict, "evidence": "e", "source": "s", "needs": needs,
            "budget": []}


def test_the_table_states_each_verdict_with_its_claim_and_escapes_pipes():
    ledger = claims_ledger({})
    ledger[0]["evidence"] = "a | b"
    table = prose.ledger_table(ledger)
    assert "| a / b | " in table and table.count("(claim `") == len(ledger)
    tagged, untagged = stated_verdicts(table)
    assert [key for key, _ in tagged] == [item["id"] for item in ledger] and untagged == []


def test_the_verdicts_paragraph_groups_by_verdict_and_counts_what_waits_on_training():
    ledger = [entry("kfold", UNSETTLED), entry("detectors", "partly reproduced"),
              entry("affectnet", "not testable here")]
    text = prose.describe_verdicts(ledger)
    tagged, untagged = stated_verdicts(text)
    assert [key for key, _ in tagged] == ["detectors", "kfold", "affectnet"] and untagged == []
    assert "The paper makes 3 claims" in text and "1 of them rest on training runs" in text
    settled = prose.describe_verdicts([entry("detectors", "reproduced")])
    assert "None of them waits on a training run" in settled
    with pytest.raises(ValueError, match="empty"):
        prose.describe_verdicts([])
    with pytest.raises(ValueError, match="not among"):
        prose.describe_verdicts([entry("kfold", "probably")])


def test_the_agreement_sentence_lists_every_disagreement():
    stated = [("04_x.ipynb, cell 3", "kfold", UNSETTLED)]
    assert "every one agrees with it" in prose.describe_agreement(stated, [], [], 7, 40)
    assert "nothing to disagree with" in prose.describe_agreement([], [], [], 7, 40)
    text = prose.describe_agreement(stated, ["05_y.ipynb, cell 2: ... reproduced"], ["04_x: claim `kfold` is stated as "
                                                                                    "'reproduced'"], 7, 40)
    assert "2 disagree with it or name no claim" in text and "05_y.ipynb, cell 2" in text and "04_x: claim" in text
    assert "7 executed notebooks and 40 results files hold 1 stated verdict besides" in text


def test_the_conclusion_separates_decided_from_waiting_claims():
    ledger = [entry("detectors", "partly reproduced"), entry("kfold", UNSETTLED), entry("disgust", "not yet measured")]
    text = prose.describe_conclusion(ledger, 0)
    assert "Of the paper's 3 claims, 1 has a verdict" in text
    assert "2 wait on runs not made or not converged (`kfold`, `disgust`)" in text
    assert stated_verdicts(text) == ([("detectors", "partly reproduced")], [])
    assert "No other notebook" in text and "3 statements elsewhere disagree" in prose.describe_conclusion(ledger, 3)


def evaluation(**changes):
    document = {"reference_model": "a", "mcnemar": [], "imbalance": {"worst_f1_class": "disgust"},
                "ckplus": {"a": {"accuracy_per_image": 0.7}},
                "models": {"a": {"intervals": {}, "training_cpu_minutes": 10.0, "publictest_accuracy": 0.6,
                                 "epochs": 5, "weights_dtype": None, "per_class": {}}}}
    return {**document, **changes}


def test_the_evaluation_evidence_is_what_the_ledger_weighs_of_notebook_06():
    evidence = evaluation_evidence(evaluation())
    assert evidence["models"]["a"] == {"intervals": {}, "training_cpu_minutes": 10.0, "publictest_accuracy": 0.6,
                                       "epochs": 5, "weights_dtype": None}
    assert evidence["ckplus"] == {"accuracy_per_image": 0.7} and evidence["imbalance"]["worst_f1_class"] == "disgust"
    assert evaluation_evidence(evaluation(ckplus={}))["ckplus"] is None
    old = evaluation()
    del old["reference_model"]
    with pytest.raises(DataFormatError, match="06_evaluation.json lacks 'reference_model'.*--only 06"):
        evaluation_evidence(old)


def test_the_study_evidence_needs_notebook_06s_results(tmp_path):
    with pytest.raises(DataMissingError, match="06_evaluation.json is missing.*--only 06"):
        study_evidence(tmp_path)


def test_study_verdicts_reads_notebook_outputs_and_results_files_but_not_the_ledger(tmp_path):
    notebook = tmp_path / "04_x.ipynb"
    notebook.write_text(json.dumps({"cells": [
        {"cell_type": "code", "outputs": [{"data": {"text/markdown": ["**reproduced** (claim `kfold`)"]}}]},
        {"cell_type": "code", "outputs": [{"data": {"text/markdown": ["this was not reproduced here"]}},
                                          {"text": "plain"}]}]}))
    (tmp_path / "04_r.json").write_text(json.dumps({"meta": {}, "x": {"verdict": "reproduced", "claim_id": "disgust"}}))
    (tmp_path / "08_claims.json").write_text(json.dumps({"meta": {}, "claims": [entry("kfold", UNSETTLED)]}))
    stated, loose = study_verdicts([notebook], tmp_path)
    assert stated == [("04_x.ipynb, cell 0", "kfold", "reproduced"), ("04_r.json/x", "disgust", "reproduced")]
    assert len(loose) == 1 and loose[0].startswith("04_x.ipynb, cell 1: this was not reproduced")


def test_the_committed_ledger_is_what_its_rules_give_on_the_committed_results():
    path = RESULTS / "08_claims.json"
    if not path.is_file() or not (RESULTS / "06_evaluation.json").is_file():
        pytest.skip("results/08_claims.json is not committed yet: run notebook 08 in full mode (make figures)")
    try:
        evidence = study_evidence(RESULTS)
    except DataFormatError as error:
        pytest.skip(f"results/06_evaluation.json predates the ledger's own notebook: {error}")
    committed = json.loads(path.read_text())["claims"]
    assert [(item["id"], item["verdict"]) for item in claims_ledger(evidence)] == \
        [(item["id"], item["verdict"]) for item in committed]
