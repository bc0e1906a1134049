"""The README's table of the two commands: read from a clean clone's `.ci/run` log and the notebooks' run times."""
from __future__ import annotations

import json
from pathlib import Path

import pytest

from emotion.errors import DataFormatError, DataMissingError
from emotion.provenance import read_results, write_results

COMMIT = "0a4233f" + "0" * 33
LOG = f"""CI commit: {COMMIT}
python3.11 -m venv .venv
CI set-up time: 131 s
.venv/bin/python -m ruff check emotion tests
All checks passed!
........................................................................ [ 10%]
=========================== short test summary info ============================
SKIPPED [3] tests/test_webapp.py:12: chromium not found
=========== 736 passed, 3 skipped, 2 warnings in 1087.12s (0:18:07) ===========
CI wall time: 1285 s
CI machine CPU time: 3855 s
CI own CPU time: 1799 s
"""


def test_a_whole_ci_log_gives_commit_setup_wall_and_test_counts():
    from emotion.study.command_times import parse_ci_log

    measured = parse_ci_log(LOG)
    assert measured == {"commit": COMMIT, "setup_seconds": 131, "wall_seconds": 1285, "pytest_seconds": 1087.12,
                        "tests": {"passed": 736, "skipped": 3, "warnings": 2}, "cpu_seconds": 1799,
                        "other_cores": 1.6}  # (3855 - 1799) / 1285
    # A log of an older .ci/run, without the load lines: the load is not known, not zero.
    older = parse_ci_log(LOG.split("CI machine CPU time")[0])
    assert (older["cpu_seconds"], older["other_cores"]) == (None, None)
    # pytest's short form, without the clock time, and a warning in the singular.
    short = LOG.replace("736 passed, 3 skipped, 2 warnings in 1087.12s (0:18:07)", "5 passed, 1 warning in 3.50s")
    assert parse_ci_log(short)["tests"] == {"passed": 5, "warnings": 1}


@pytest.mark.parametrize(("change", "message"), [
    (lambda log: log.replace(f"CI commit: {COMMIT}\n", ""), "CI commit"),
    (lambda log: log.replace("CI set-up time: 131 s\n", ""), "CI set-up time"),
    (lambda log: log.replace("CI wall time: 1285 s\n", ""), "CI wall time"),
    (lambda log: log.replace("=========== 736 passed, 3 skipped, 2 warnings in 1087.12s (0:18:07) ===========\n", ""),
     "no pytest summary"),
    (lambda log: log.replace("736 passed, 3 skipped", "735 passed, 1 failed, 3 skipped"), "1 failed"),
    (lambda log: log.replace("736 passed, 3 skipped", "736 passed, 2 errors, 3 skipped"), "2 errors"),
    (lambda log: log.replace("736 passed, 3 skipped, 2 warnings", "3 skipped"), "no passed tests"),
    (lambda log: log.replace("CI set-up time: 131 s", "CI set-up time: 9999 s"), "exceeds the wall time"),
])
def test_a_cut_short_or_failing_ci_log_is_refused_with_what_is_wrong(change, message):
    from emotion.study.command_times import parse_ci_log

    with pytest.raises(DataFormatError, match=message):
        parse_ci_log(change(LOG), source="ci.log")


def test_record_ci_writes_the_results_file_and_the_cli_reports_bad_input_without_a_traceback(tmp_path, capsys):
    from emotion.app.cli import main

    log, venv, results = tmp_path / "ci.log", tmp_path / "venv", tmp_path / "results"
    log.write_text(LOG)
    (venv / "lib").mkdir(parents=True)
    (venv / "lib" / "a.so").write_bytes(b"x" * 1000)
    (venv / "bin").mkdir()
    (venv / "bin" / "python").symlink_to("/usr/bin/python3")  # a link is not counted
    assert main(["record-ci", "--log", str(log), "--venv", str(venv), "--results", str(results)]) == 0
    document = read_results(results / "00_commands.json")
    assert document["make_test"]["venv_bytes"] == 1000
    assert document["make_test"]["tests"]["passed"] == 736 and document["meta"]["cpu_cores"] >= 1
    capsys.readouterr()
    for argv, message in ((["--log", str(tmp_path / "none.log"), "--venv", str(venv)], "no such file"),
                          (["--log", str(log), "--venv", str(tmp_path / "none")], "no such folder"),
                          (["--log", str(venv / "lib" / "a.so"), "--venv", str(venv)], "no line 'CI commit")):
        (results / "00_commands.json").unlink(missing_ok=True)
        assert main(["record-ci", *argv, "--results", str(results)]) == 1
        error = capsys.readouterr().err
        assert message in error and "Traceback" not in error
        assert not (results / "00_commands.json").exists()  # nothing half-written


def _runtimes(path: Path, **extra) -> None:
    write_results(path, {"notebooks": {"01_data_overview": {"full": 60.0, "smoke": 10.0},
                                       "03_train": {"full": 120.0}, "08_claims_ledger": {"smoke": 5.0}},
                         "other_cores": {"01_data_overview": {"full": 0.0}, "03_train": {"full": 0.1}}, **extra},
                  mode="full", seed=0)


def test_make_figures_time_counts_each_per_model_run_and_names_what_was_not_timed(tmp_path):
    from emotion.study.command_times import commands_table, figures_minutes

    _runtimes(tmp_path / "00_runtimes.json")
    for model in ("basic_cnn", "resnet18", "resnet34"):
        (tmp_path / f"03_train_{model}.json").write_text("{}")
    runtimes = read_results(tmp_path / "00_runtimes.json")
    summary = figures_minutes(runtimes, {"basic_cnn", "resnet18", "resnet34"})
    assert summary == {"minutes": 3.0, "runs": 2, "missing": ["08_claims_ledger"],
                       "untimed": {"03_train": ["resnet18", "resnet34"]}, "beside": False, "cpus": [],
                       "cpu_unrecorded": 2}
    table = commands_table(tmp_path).splitlines()
    assert table[0] == f"| command | needs | time on the study's machine ({runtimes['meta']['cpu_model'] or 'CPU'}, " \
                       f"{runtimes['meta']['cpu_cores']} cores) |"
    assert "set-up (not measured yet" in table[2] and "plus 3 minutes of notebooks (2 full-mode runs" in table[2]
    assert "as last recorded, on a CPU not recorded; not yet timed" in table[2]
    assert "not yet timed in full mode: `08_claims_ledger`" in table[2]
    assert "`03_train` runs once more for each of 2 further released models, not yet timed" in table[2]
    assert "not measured yet" in table[3]

    # Both further runs timed (one beside other work), one of a model no longer released: that one is not counted.
    _runtimes(tmp_path / "00_runtimes.json", variants={"03_train": {"resnet18": 180.0, "resnet34": 240.0,
                                                                    "gone": 999.0}},
              variant_other_cores={"03_train": {"resnet18": 1.2, "resnet34": None, "gone": None}})
    summary = figures_minutes(read_results(tmp_path / "00_runtimes.json"), {"basic_cnn", "resnet18", "resnet34"})
    assert summary == {"minutes": 10.0, "runs": 4, "missing": ["08_claims_ledger"], "untimed": {}, "beside": True,
                       "cpus": [], "cpu_unrecorded": 4}

    log = tmp_path / "ci.log"
    log.write_text(LOG)
    (tmp_path / "venv").mkdir()
    (tmp_path / "venv" / "f").write_bytes(b"x" * 2_400)
    from emotion.study.command_times import record_ci_run

    record_ci_run(log, tmp_path / "venv", tmp_path)
    table = commands_table(tmp_path).splitlines()
    assert "about 0.0 GB of disk for `.venv`" in table[2]
    assert ("about 2 minutes of set-up (as measured with `make test`), plus 10 minutes of notebooks (4 full-mode runs "
            "as last recorded, some beside other work, on a CPU not recorded; not yet timed in full mode: "
            "`08_claims_ledger`)") in table[2]
    assert table[3].endswith("| about 21 minutes from a clean clone of 0a4233f (2 of set-up, then lint and 736 tests "
                             "passed, 3 skipped in 18; beside other work: 1.6 cores) |")
    quiet = LOG.replace("CI machine CPU time: 3855 s", "CI machine CPU time: 1900 s")
    log.write_text(quiet)
    record_ci_run(log, tmp_path / "venv", tmp_path)
    assert commands_table(tmp_path).splitlines()[3].endswith("passed, 3 skipped in 18) |")
    log.write_text(LOG.split("CI machine CPU time")[0])
    record_ci_run(log, tmp_path / "venv", tmp_path)
    assert commands_table(tmp_path).splitlines()[3].endswith("in 18; load not recorded) |")


def test_notebook_runs_per_model_are_recorded_apart_and_shown_in_the_runtime_table(tmp_path):
    from emotion.study.notebooks import record_runtime
    from emotion.study.results import runtime_table

    runtimes = tmp_path / "00_runtimes.json"
    record_runtime(runtimes, Path("03_train.ipynb"), "full", 120.0, seed=0, other=0.0)
    record_runtime(runtimes, Path("03_train.ipynb"), "full", 60.0, seed=0, other=0.5, variant="resnet18")
    record_runtime(runtimes, Path("03_train.ipynb"), "full", 180.0, seed=0, other=None, variant="resnet34")
    document = read_results(runtimes)
    assert document["notebooks"] == {"03_train": {"full": 120.0}}
    assert document["variants"] == {"03_train": {"resnet18": 60.0, "resnet34": 180.0}}
    assert document["variant_other_cores"] == {"03_train": {"resnet18": 0.5, "resnet34": None}}
    assert runtime_table(runtimes).splitlines()[2] == (
        "| `03_train` | not measured | 2.0 min; once more per further released model: 2 runs, 4.0 min in all |")
    with pytest.raises(ValueError, match="only full mode"):
        record_runtime(runtimes, Path("03_train.ipynb"), "smoke", 1.0, seed=0, variant="resnet18")
    json.loads(runtimes.read_text())  # still whole


def test_the_readme_table_of_the_two_commands_is_generated_from_the_results():
    from emotion.paths import PROJECT_ROOT, RESULTS_DIR
    from emotion.study.command_times import COMMANDS_END, COMMANDS_START, commands_table

    readme = (PROJECT_ROOT / "README.md").read_text()
    assert readme.count(COMMANDS_START) == 1 and readme.count(COMMANDS_END) == 1
    block = readme.split(COMMANDS_START, 1)[1].split(COMMANDS_END, 1)[0].strip()
    assert block == commands_table(RESULTS_DIR)


def test_folder_bytes_needs_a_folder():
    from emotion.study.command_times import folder_bytes

    with pytest.raises(DataMissingError, match="no such folder"):
        folder_bytes("/nonexistent/venv")


def test_the_runtime_tables_name_the_cpu_of_every_time_and_mark_them_where_they_differ(tmp_path):
    from emotion.study.command_times import commands_table, figures_minutes
    from emotion.study.notebooks import machine_label, record_runtime
    from emotion.study.results import runtime_table

    runtimes = tmp_path / "00_runtimes.json"
    xeon, epyc = "Xeon, 2 cores, bfloat16 in hardware", "EPYC, 2 cores, no bfloat16 hardware"
    record_runtime(runtimes, Path("01_data.ipynb"), "full", 60.0, seed=0, other=0.0, machine=xeon)
    record_runtime(runtimes, Path("01_data.ipynb"), "smoke", 6.0, seed=0, other=0.0, machine=xeon)
    assert read_results(runtimes)["cpus"] == {"01_data": {"full": xeon, "smoke": xeon}}
    table = runtime_table(runtimes)
    assert "[A]" not in table and table.endswith(f"\n\nAll times measured on: {xeon}.")
    record_runtime(runtimes, Path("03_train.ipynb"), "full", 120.0, seed=0, other=0.0, machine=epyc)
    record_runtime(runtimes, Path("03_train.ipynb"), "full", 60.0, seed=0, other=0.0, variant="resnet18",
                   machine=xeon)
    lines = runtime_table(runtimes).splitlines()
    assert lines[2] == "| `01_data` | 0.1 min [B] | 1.0 min [B] |"
    assert lines[3] == ("| `03_train` | not measured | 2.0 min [A]; once more per further released model: 1 run, "
                        "1.0 min in all [B] |")
    assert lines[-1] == f"Times come from different CPUs: [A] {epyc}; [B] {xeon}."
    summary = figures_minutes(read_results(runtimes), {"resnet18"})
    assert (summary["cpus"], summary["cpu_unrecorded"], summary["runs"]) == ([epyc, xeon], 0, 3)
    assert "2 full-mode runs as last recorded, on different CPUs (the run-time table names them))" in \
        commands_table(tmp_path).splitlines()[2]
    # One CPU: named where the header (the runtimes file's own CPU here) would name another.
    one = {"notebooks": {"01_data": {"full": 60.0}}, "cpus": {"01_data": {"full": epyc}}}
    header = read_results(runtimes)["meta"]["cpu_model"]
    assert figures_minutes(one)["cpus"] == [epyc]
    write_results(runtimes, one, mode="full", seed=0)
    line = commands_table(tmp_path).splitlines()[2]
    assert ("(1 full-mode run as last recorded, on EPYC, 2 cores, no bfloat16 hardware)" in line) is \
        (header != "EPYC")
    # A variant recorded for a notebook the table has no row for is neither shown nor named in the legend.
    write_results(runtimes, {**one, "variants": {"03_train": {"resnet18": 60.0}},
                             "variant_cpus": {"03_train": {"resnet18": xeon}}}, mode="full", seed=0)
    assert runtime_table(runtimes).endswith(f"All times measured on: {epyc}.")
    record_runtime(runtimes, Path("03_train.ipynb"), "full", 30.0, seed=0, other=0.0, machine=xeon)
    document = read_results(runtimes)  # merging keeps the other entries and their CPUs
    assert document["variant_cpus"] == {"03_train": {"resnet18": xeon}}
    assert document["cpus"] == {"01_data": {"full": epyc}, "03_train": {"full": xeon}}

    # A time from before the file named CPUs is marked as such; without a machine, this one's CPU is recorded.
    document = read_results(runtimes)
    document["notebooks"]["02_faces"] = {"full": 30.0}
    assert figures_minutes(document)["cpu_unrecorded"] == 1
    write_results(runtimes, {key: value for key, value in document.items() if key != "meta"}, mode="full", seed=0)
    assert ", 1 of them on a CPU not recorded" in commands_table(tmp_path).splitlines()[2]
    write_results(runtimes, {key: value for key, value in document.items() if key != "meta"}, mode="full", seed=0)
    assert runtime_table(runtimes).splitlines()[-1].endswith(
        "; [?] CPU not recorded (timed before the runtimes file named it).")
    assert "| `02_faces` | not measured | 0.5 min (load not recorded) [?] |" in runtime_table(runtimes)
    record_runtime(runtimes, Path("02_faces.ipynb"), "full", 30.0, seed=0, other=0.0)
    assert read_results(runtimes)["cpus"]["02_faces"] == {"full": machine_label()}


@pytest.mark.parametrize("seconds, words", [(20, "under a minute"), (86, "about 1 minute"), (95, "about 2 minutes"),
                                            (220, "about 4 minutes")])
def test_the_set_up_time_reads_as_english(seconds, words):
    from emotion.study.command_times import _about_minutes

    assert _about_minutes(seconds) == words
