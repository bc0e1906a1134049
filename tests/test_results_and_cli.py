"""Results files with provenance, the README's generated table, and the command line."""

from __future__ import annotations

import json
import subprocess
import sys

import numpy as np
import pytest
from conftest import HEADER, fer_row

from emotion.app.cli import main
from emotion.errors import DataFormatError
from emotion.paths import PROJECT_ROOT, RESULTS_DIR
from emotion.provenance import read_results, write_results
from emotion.study.results import TABLE_END, TABLE_START, headline_table, update_readme


def test_write_results_adds_provenance_and_is_atomic(tmp_path):
    path = write_results(tmp_path / "r" / "00_x.json", {"value": np.float64(0.5), "counts": np.arange(3)},
                         mode="smoke", seed=7)
    document = json.loads(path.read_text())
    meta = document["meta"]
    assert meta["mode"] == "smoke" and meta["seed"] == 7
    assert {"commit", "dirty", "versions", "created_utc"} <= set(meta)
    assert meta["versions"]["numpy"] == np.__version__
    assert document["value"] == 0.5 and document["counts"] == [0, 1, 2]
    assert [p.name for p in path.parent.iterdir()] == ["00_x.json"]


def test_write_results_refuses_bad_payloads(tmp_path):
    with pytest.raises(ValueError, match="mode"):
        write_results(tmp_path / "a.json", {}, mode="quick", seed=0)
    with pytest.raises(ValueError):
        write_results(tmp_path / "b.json", {"accuracy": float("nan")}, mode="full", seed=0)
    with pytest.raises(ValueError, match="meta"):
        write_results(tmp_path / "c.json", {"meta": {}}, mode="full", seed=0)
    assert not list(tmp_path.iterdir())


def test_read_results_names_the_broken_file(tmp_path):
    broken = tmp_path / "bad.json"
    broken.write_text('{"meta": ')
    with pytest.raises(DataFormatError, match="bad.json, line 1: not valid JSON"):
        read_results(broken)


def test_headline_table_and_readme_round_trip(tmp_path):
    results = tmp_path / "results"
    write_results(results / "01_a.json", {"headline": [
        {"quantity": "accuracy", "value": 0.6543, "split": "PrivateTest", "protocol": "chosen on PublicTest"}]},
        mode="full", seed=0)
    table = headline_table(results)
    assert "| accuracy | 0.6543 | PrivateTest | chosen on PublicTest |" in table
    readme = tmp_path / "README.md"
    readme.write_text(f"intro\n{TABLE_START}\nold\n{TABLE_END}\noutro\n")
    assert update_readme(readme, results, check=True) is False
    assert "old" in readme.read_text()  # check mode writes nothing
    assert update_readme(readme, results) is False
    assert update_readme(readme, results, check=True) is True
    assert readme.read_text().startswith("intro\n") and readme.read_text().endswith("outro\n")
    assert "All 1 headline numbers" in readme.read_text()
    listing = (results / "README.md").read_text()
    assert "| accuracy | 0.6543 | PrivateTest | chosen on PublicTest | [`01_a.json`](01_a.json) (full" in listing
    (results / "README.md").write_text("stale")
    assert update_readme(readme, results, check=True) is False  # the full list is checked too
    readme.write_text("no markers")
    with pytest.raises(DataFormatError, match="markers are missing"):
        update_readme(readme, results)


def test_the_compact_tables_have_one_row_per_model_and_per_detector(tmp_path):
    from emotion.study.results import compact_results, detector_table, model_table

    model = {"epochs": 30, "chosen_epoch": 25, "training_cpu_minutes": 102.7}
    write_results(tmp_path / "05_compare_models.json", {"models": {
        "crop_cnn": {**model, "privatetest_accuracy": 0.6617}, "mobilenet": {**model, "privatetest_accuracy": 0.53,
                                                                                "training_cpu_minutes": None}}},
        mode="full", seed=0)
    interval = {"accuracy": {"estimate": 0.66174, "low": 0.6464, "high": 0.6768}, "macro_f1": {"estimate": 0.60617}}
    write_results(tmp_path / "06_evaluation.json", {"models": {"crop_cnn": {"images": 3589, "intervals": interval}}},
                  mode="full", seed=0)
    rows = model_table(tmp_path).splitlines()[2:]
    assert rows == ["| `crop_cnn` | 66.17% [64.6%, 67.7%] | 0.606 | 30 (25) | 103 |",
                    "| `mobilenet` | not evaluated (notebook 06) |  | 30 (25) | not measured |"]
    write_results(tmp_path / "02_face_detectors.json", {
        "average_precision": {"haar": {"easy": 0.41, "medium": 0.377, "hard": 0.2172},
                              "yunet": {"easy": 0.882, "medium": 0.869, "hard": 0.745}},
        "speed_by_size": [{"detector": "yunet", "width": 640, "median_ms": 9.4},
                          {"detector": "yunet", "width": 320, "median_ms": 3.0}]}, mode="full", seed=0)
    assert detector_table(tmp_path).splitlines()[2:] == ["| `yunet` | 0.882 | 0.869 | 0.745 | 9 |",
                                                         "| `haar` | 0.410 | 0.377 | 0.217 | not measured |"]
    assert "(FER2013 PrivateTest, n = 3,589;" in compact_results(tmp_path, tmp_path / "figures")


def test_the_budget_table_has_a_row_per_run_and_the_verdict_on_each_curves_longest(tmp_path):
    from emotion.study.results import budget_table

    assert budget_table(tmp_path) == ""
    def run(name, epochs, publictest, privatetest):
        return {"run": name, "model": "basic_cnn", "epochs": epochs, "chosen_epoch": epochs - 1,
                "publictest_accuracy": publictest, "privatetest_accuracy": privatetest, "privatetest_macro_f1": 0.6,
                "privatetest_n": 3589, "cpu_hours": epochs / 6, "wall_hours": epochs / 10, "precision": "float32"}

    paper = {**run("resnet34_paper_4ep", 4, 0.38, 0.3759), "model": "resnet34", "paper_epochs": 60}
    write_results(tmp_path / "05_compare_models.json", {
        "budget_curves": {"curves": {"basic_cnn_60ep": [{**run("basic_cnn_60ep", 60, 0.6759, 0.68),
                                                         "precision": "float32 + mixed_bfloat16"},
                                                        run("basic_cnn_30ep", 30, 0.6659, 0.6723)]}},
        "paper_recipe": {"resnet34_paper_4ep": paper}}, mode="full", seed=0)
    rows = budget_table(tmp_path).splitlines()[4:]
    assert rows == [
        "| `basic_cnn` (study recipe) | `basic_cnn_30ep` | 30 (29) | 66.59% | 67.23% [65.7%, 68.7%] | 0.600 | 5.00 | "
        "3.00 | float32 |  |",
        "| `basic_cnn` (study recipe) | `basic_cnn_60ep` | 60 (59) | 67.59% | 68.00% [66.5%, 69.5%] | 0.600 | "
        "10.00 | 6.00 | float32 + mixed_bfloat16 | paper budget (+1.00 PublicTest points, 30 -> 60 epochs) |",
        "| `resnet34` (paper's recipe) | `resnet34_paper_4ep` | 4 (3) | 38.00% | 37.59% [36.0%, 39.2%] | 0.600 | "
        "0.67 | 0.40 | float32 | a 4-epoch schedule (the paper's is 60 epochs) |"]


def test_committed_readme_table_matches_committed_results():
    assert update_readme(PROJECT_ROOT / "README.md", RESULTS_DIR, check=True), (
        "README.md's results table is out of date with results/: run `make readme`"
    )


def test_check_data_reports_missing_fer2013_with_instructions(tmp_path, capsys):
    assert main(["check-data", "--data", str(tmp_path)]) == 1
    out = capsys.readouterr().out
    assert "[MISSING] FER2013" in out and "Challenges in Representation Learning" in out
    assert "[MISSING] WIDER FACE val subset (required; notebooks 02, 07)" in out
    assert "[skip] CK+48 (optional; notebook 06)" in out


def test_check_data_accepts_a_valid_variant_and_says_it_differs(tmp_path, capsys):
    folder = tmp_path / "fer2013"
    folder.mkdir()
    pixels = np.zeros((48, 48), np.uint8)
    (folder / "fer2013.csv").write_text(f"{HEADER}\n{fer_row(3, pixels, 'Training')}\n")
    (folder / "fer2013new.csv").write_text(
        "Usage,Image name,neutral,happiness,surprise,sadness,anger,disgust,fear,contempt,unknown,NF\n"
        "Training,fer0000000.png,0,10,0,0,0,0,0,0,0,0\n")
    with pytest.warns(UserWarning):
        status = main(["check-data", "--data", str(tmp_path)])
    out = capsys.readouterr().out
    assert "[ok ] FER2013" in out and "differs from the original" in out
    assert status == 1 and "[MISSING] WIDER FACE val subset" in out  # FER2013 passes; the faces are still required


def test_check_data_reports_a_malformed_file_without_traceback(tmp_path, capsys):
    folder = tmp_path / "fer2013"
    folder.mkdir()
    (folder / "fer2013.csv").write_text("wrong,header\n")
    assert main(["check-data", "--data", str(tmp_path)]) == 1
    assert "malformed" in capsys.readouterr().out


def test_python_m_emotion_prints_usage_errors_without_traceback():
    completed = subprocess.run([sys.executable, "-m", "emotion", "results-table", "--check", "/nonexistent/README.md"],
                               capture_output=True, text=True, cwd=PROJECT_ROOT)
    assert completed.returncode == 1
    assert "Traceback" not in completed.stderr and "README.md" in completed.stderr


def test_every_committed_results_file_records_provenance():
    files = sorted(RESULTS_DIR.glob("*.json"))
    assert files, "results/ holds the numbers of the last full run"
    for path in files:
        meta = read_results(path)["meta"]
        assert meta["mode"] == "full", f"{path.name} comes from a {meta['mode']} run; commit full runs only"
        for key in ("commit", "versions", "seed", "created_utc"):
            assert meta.get(key) is not None, f"{path.name}: meta.{key} is missing"
        assert {"python", "numpy"} <= set(meta["versions"])


def test_model_card_is_generated_from_results(tmp_path):
    from emotion import CLASS_NAMES
    from emotion.study.model_card import render_model_card, write_model_card

    per_class = {name: {"precision": 0.5, "recall": 0.1 * (i + 1), "f1": 0.4, "support": 10}
                 for i, name in enumerate(CLASS_NAMES)}
    write_results(tmp_path / "03_train_tiny.json", {
        "model": "tiny", "model_file": "tiny.keras", "model_file_mib": 1.25, "chosen_epoch": 4, "epochs_run": 5,
        "training_cpu_minutes": 12.0,
        "recipe": {"epochs": 5, "batch_size": 64, "learning_rate": 0.001, "weight_decay": 0.05,
                   "label_smoothing": 0.1, "mixed_precision": False, "seed": 3},
        "test": {"n": 3589, "accuracy": 0.6512, "macro_f1": 0.61, "per_class": per_class},
    }, mode="full", seed=3)
    card = render_model_card(tmp_path)
    assert "`tiny.keras`" in card and "accuracy 65.1 %" in card and "epoch 4 of 5" in card
    assert "Resumed training" not in card  # no session records: nothing replayed
    assert "| neutral | 0.500 | 0.700 | 0.400 | 10 |" in card
    assert "lowest for *angry* (10.0 %)" in card
    assert "Out-of-scope uses" in card and "contested" in card
    path = tmp_path / "MODEL_CARD.md"
    assert write_model_card(path, tmp_path, check=True) is False and not path.exists()
    assert write_model_card(path, tmp_path) is False
    assert write_model_card(path, tmp_path, check=True) is True


def test_replayed_epochs_count_what_resumed_sessions_of_the_first_pipeline_drew_again():
    from emotion.classify.run_folder import STREAM, replayed_epochs

    def sessions(*starts, stream=None):
        return [{"first_epoch": start, **({"stream": stream} if stream else {})} for start in starts]

    # basic_cnn_60ep's sessions before the fix: 22 of its 36 epochs re-drew an earlier session's batches.
    assert replayed_epochs(sessions(0, 4, 7, 21, 28, 30, 31, 35), 36) == {"replayed": 22, "exact": True,
                                                                          "resumed_sessions": 7}
    # Records that begin mid-run give a lower bound: wide_crop_cnn's resumes at 22 and 28 (45 epochs).
    assert replayed_epochs(sessions(22, 28), 45) == {"replayed": 7, "exact": False, "resumed_sessions": 2}
    assert replayed_epochs(sessions(0), 30)["replayed"] == 0
    assert replayed_epochs([], 30) == {"replayed": 0, "exact": True, "resumed_sessions": 0}
    assert replayed_epochs(sessions(0, 4, 7, stream=STREAM), 10)["replayed"] == 0
    # A longer later session replays only as much as the longest earlier one lasted.
    assert replayed_epochs(sessions(0, 2), 12)["replayed"] == 2


def test_the_model_card_says_how_many_epochs_a_resumed_run_re_drew(tmp_path):
    from emotion import CLASS_NAMES
    from emotion.study.model_card import render_model_card

    per_class = {name: {"precision": 0.5, "recall": 0.5, "f1": 0.5, "support": 10} for name in CLASS_NAMES}
    write_results(tmp_path / "03_train_tiny.json", {
        "model": "tiny", "model_file": "tiny.keras", "model_file_mib": 1.0, "chosen_epoch": 40, "epochs_run": 45,
        "training_cpu_minutes": 12.0, "sessions": [{"first_epoch": 22}, {"first_epoch": 28}],
        "recipe": {"epochs": 45, "batch_size": 64, "learning_rate": 0.001, "weight_decay": 0.05,
                   "label_smoothing": 0.1, "mixed_precision": False, "seed": 0},
        "test": {"n": 3589, "accuracy": 0.65, "macro_f1": 0.6, "per_class": per_class},
    }, mode="full", seed=0)
    assert ("2 recorded resume(s) under the study's first input pipeline, which started the shuffle and augmentation "
            "stream again in every session: at least 7 of its 45 epochs re-drew batches") in render_model_card(tmp_path)


def test_committed_model_card_matches_committed_results():
    from emotion.paths import MODELS_DIR
    from emotion.study.model_card import write_model_card

    assert write_model_card(MODELS_DIR / "MODEL_CARD.md", RESULTS_DIR, check=True), (
        "models/MODEL_CARD.md is out of date with results/: run `make model-card`"
    )


def test_record_runtime_labels_the_file_with_the_mode_that_wrote_it(tmp_path):
    from pathlib import Path

    from emotion.study.notebooks import record_runtime

    runtimes = tmp_path / "00_runtimes.json"
    record_runtime(runtimes, Path("01_data.ipynb"), "full", 16.44, seed=0)
    assert read_results(runtimes)["meta"]["mode"] == "full"
    record_runtime(runtimes, Path("01_data.ipynb"), "smoke", 3.01, seed=0)
    document = read_results(runtimes)
    assert document["meta"]["mode"] == "smoke"
    assert document["notebooks"] == {"01_data": {"full": 16.4, "smoke": 3.0}}


def test_run_notebooks_refuses_a_model_that_is_not_released(capsys):
    assert main(["run-notebooks", "--mode", "full", "--allow-dirty", "--only", "03", "--models", "no_such_model"]) == 2
    error = capsys.readouterr().err
    assert error.startswith("error: --models no_such_model: no such released model in full mode (released: ")
    assert "wide_crop_cnn" in error and "Traceback" not in error


def test_full_mode_refuses_code_that_differs_from_the_commit_unless_allowed(monkeypatch, capsys):
    import emotion.provenance

    dirty = {"commit": "abc", "dirty": True, "dirty_paths": ["emotion/paper.py"]}
    monkeypatch.setattr(emotion.provenance, "git_commit", lambda *args, **kwargs: dirty)
    assert main(["run-notebooks", "--mode", "full", "--only", "99"]) == 2
    error = capsys.readouterr().err
    assert "emotion/paper.py" in error and "--allow-dirty" in error and "Traceback" not in error
    # Allowed, or in smoke mode (which writes nothing tracked), the run goes on: here to the missing notebook 99.
    for argv in (["--mode", "full", "--allow-dirty"], ["--mode", "smoke"]):
        assert main(["run-notebooks", *argv, "--only", "99"]) == 2
        assert "No notebook matches" in capsys.readouterr().err
    clean = {**dirty, "dirty": False, "dirty_paths": []}
    monkeypatch.setattr(emotion.provenance, "git_commit", lambda *args, **kwargs: clean)
    assert main(["run-notebooks", "--mode", "full", "--only", "99"]) == 2
    assert "No notebook matches" in capsys.readouterr().err


def test_runtimes_record_the_other_work_beside_each_run_and_the_table_marks_it(tmp_path):
    from pathlib import Path

    from emotion.machine import other_cores
    from emotion.study.notebooks import record_runtime
    from emotion.study.results import runtime_table

    assert other_cores(100.0, 300.0, own_seconds=80.0, wall_seconds=60.0) == pytest.approx(2.0)
    assert other_cores(100.0, 150.0, own_seconds=80.0, wall_seconds=60.0) == 0.0  # never below zero
    assert other_cores(None, 150.0, own_seconds=80.0, wall_seconds=60.0) is None
    runtimes = tmp_path / "00_runtimes.json"
    record_runtime(runtimes, Path("01_data.ipynb"), "full", 120.0, seed=0, other=1.04)
    record_runtime(runtimes, Path("01_data.ipynb"), "smoke", 30.0, seed=0, other=0.1)
    record_runtime(runtimes, Path("02_faces.ipynb"), "smoke", 60.0, seed=0)
    assert read_results(runtimes)["other_cores"] == {"01_data": {"full": 1.04, "smoke": 0.1},
                                                     "02_faces": {"smoke": None}}
    table = runtime_table(runtimes).splitlines()
    assert table[2] == "| `01_data` | 0.5 min | 2.0 min (beside other work: 1.0 cores) |"
    assert table[3] == "| `02_faces` | 1.0 min | not measured |"
    document = read_results(runtimes)
    del document["other_cores"]["01_data"]
    runtimes.write_text(json.dumps(document))
    assert runtime_table(runtimes).splitlines()[2] == ("| `01_data` | 0.5 min (load not recorded) | "
                                                       "2.0 min (load not recorded) |")


def test_the_model_table_adds_a_row_per_released_ensemble(tmp_path):
    from emotion.study.results import model_table

    write_results(tmp_path / "05_compare_models.json", {"models": {"a": {
        "privatetest_accuracy": 0.69, "epochs": 45, "chosen_epoch": 43, "training_cpu_minutes": 481.0}}},
                  mode="full", seed=0)
    write_results(tmp_path / "03_ensemble_pair.json", {
        "run": "pair", "members": ["b", "a"], "test": {"accuracy": 0.7024, "macro_f1": 0.6712},
        "privatetest_accuracy_interval": {"low": 0.687, "high": 0.717}, "training_cpu_minutes": 600.6},
                  mode="full", seed=0)
    rows = model_table(tmp_path).splitlines()
    assert rows[2] == "| `a` | not evaluated (notebook 06) |  | 45 (43) | 481 |"
    assert rows[3] == ("| `pair` (average of `b` + `a`) | 70.24% [68.7%, 71.7%] | 0.671 | their own | "
                       "601 (lineage counted once) |")


def test_only_code_changes_make_a_results_file_dirty(tmp_path):
    import subprocess

    from emotion.provenance import git_commit

    def git(*arguments):
        subprocess.run(["git", *arguments], cwd=tmp_path, check=True, capture_output=True)

    for relative in ("emotion/stage.py", "results/01_x.json", "notebooks/01_x.ipynb", "notebooks/scripts/01_x.py"):
        (tmp_path / relative).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / relative).write_text("0\n")
    git("init", "-q")
    git("add", ".")
    git("-c", "user.name=t", "-c", "user.email=t@example.org", "commit", "-qm", "start")
    (tmp_path / "results/01_x.json").write_text("1\n")  # what a full run itself rewrites
    (tmp_path / "notebooks/01_x.ipynb").write_text("1\n")
    assert git_commit(tmp_path)["dirty"] is False
    (tmp_path / "notebooks/scripts/01_x.py").write_text("1\n")  # a notebook's source changed
    (tmp_path / "emotion/stage.py").write_text("1\n")
    record = git_commit(tmp_path)
    assert record["dirty"] is True and record["dirty_paths"] == ["emotion/stage.py", "notebooks/scripts/01_x.py"]


def test_the_readme_lists_every_claim_with_the_ledgers_verdict_and_what_would_settle_it(tmp_path):
    from emotion.analysis.ledger import stated_verdicts
    from emotion.provenance import write_results
    from emotion.study.results import claims_table, compact_results

    assert claims_table(tmp_path) == ""
    ledger = [{"id": "kfold", "claim": "K-fold training is no better than a single holdout split",
               "verdict": "reproduced", "evidence": "...", "source": "x", "needs": ""},
              {"id": "resnet_vs_cnn", "claim": "ResNet beats the basic CNN on FER2013",
               "verdict": "inconclusive at this budget", "evidence": "...", "source": "x",
               "needs": "resnet34: a | in the text;\nnext: 60 epochs"}]
    write_results(tmp_path / "08_claims.json", {"claims": ledger}, mode="full", seed=0)
    table = claims_table(tmp_path).splitlines()
    assert table[2] == ("| K-fold training is no better than a single holdout split | **reproduced** (claim `kfold`) "
                        "| - |")
    assert table[3].endswith("| resnet34: a / in the text; next: 60 epochs |")
    assert len(table) == 4 and "| the paper's claim | verdict | what would settle it |" in compact_results(tmp_path)
    # Every verdict is tagged, so that the README's verdicts can be checked against the ledger; none stands untagged.
    assert stated_verdicts(compact_results(tmp_path)) == (
        [("kfold", "reproduced"), ("resnet_vs_cnn", "inconclusive at this budget")], [])
