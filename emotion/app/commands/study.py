"""Commands of the study's outputs: ``run-notebooks``, ``results-table``, ``record-ci``, ``report``, ``model-card``
and ``notebook-scripts``."""

# Handlers import their stage lazily so that `python -m emotion --help` stays fast.
from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

from emotion.paths import MODELS_DIR, RESULTS_DIR


def register(commands) -> None:
    """Add this stage's sub-parsers to ``commands`` (an argparse sub-parsers action)."""
    run = commands.add_parser("run-notebooks", help="execute the notebooks headless with papermill")
    run.add_argument("--mode", choices=("smoke", "full"), required=True)
    run.add_argument("--seed", type=int, default=0)
    run.add_argument("--only", nargs="+", metavar="NN", help="run only notebooks whose names start with these")
    run.add_argument("--models", nargs="+", metavar="MODEL",
                     help="full mode: run the per-model notebook (03) only for these released models")
    run.add_argument("--output", help="smoke mode: output folder (default build/smoke)")
    run.add_argument("--record-times", action="store_true",
                     help="merge each notebook's run time into results/00_runtimes.json (README table); runs with "
                          "the prediction cache off, so the times are a fresh machine's")
    run.add_argument("--allow-dirty", action="store_true",
                     help="full mode: run even though the code differs from the last commit (results record dirty)")
    run.set_defaults(handler=_run_notebooks)

    table = commands.add_parser("results-table", help="the README's results table from results/*.json")
    table.add_argument("--results", default=str(RESULTS_DIR), help="results folder (default results/)")
    group = table.add_mutually_exclusive_group()
    group.add_argument("--write", metavar="README", help="rewrite the table inside this README")
    group.add_argument("--check", metavar="README", help="exit 1 when this README's table is out of date")
    table.set_defaults(handler=_results_table)

    record = commands.add_parser("record-ci", help="read a clean clone's `.ci/run` log into results/00_commands.json "
                                 "(the README's times of the two commands)")
    record.add_argument("--log", required=True, help="the saved output of `.ci/run` (e.g. `.ci/run 2>&1 | tee LOG`)")
    record.add_argument("--venv", required=True, help="the .venv that run created (its size is recorded)")
    record.add_argument("--results", default=str(RESULTS_DIR), help="results folder (default results/)")
    record.set_defaults(handler=_record_ci)

    report = commands.add_parser("report", help="build the static HTML report and check it in headless Chromium")
    report.add_argument("--output", default="build/report", help="output folder (default build/report)")
    report.set_defaults(handler=_report)

    card = commands.add_parser("model-card", help="write models/MODEL_CARD.md from results/*.json")
    card.add_argument("--path", default=str(MODELS_DIR / "MODEL_CARD.md"))
    card.add_argument("--results", default=str(RESULTS_DIR))
    card.add_argument("--check", action="store_true", help="exit 1 when the card is out of date; write nothing")
    card.set_defaults(handler=_model_card)

    scripts = commands.add_parser("notebook-scripts", help="write notebooks/scripts/NN_slug.py, each notebook's "
                                  "sources as plain text (for diffs)")
    scripts.add_argument("--check", action="store_true",
                         help="exit 1 listing the twins that are out of date; write nothing")
    scripts.set_defaults(handler=_notebook_scripts)


def _run_notebooks(arguments: argparse.Namespace) -> int:
    from emotion.machine import busy_cpu_seconds, other_cores, own_cpu_seconds
    from emotion.study.notebooks import RUNTIMES_FILE, notebook_variants, record_runtime, run_notebook, study_notebooks

    if arguments.mode == "full" and not arguments.allow_dirty:
        from emotion.provenance import git_commit

        state = git_commit()
        if state["dirty"]:
            print("error: full mode writes results/ and figures/ that record the commit they came from, but these "
                  "code files differ from it:\n  " + "\n  ".join(state["dirty_paths"]) + "\nCommit (or stash) them "
                  "first, or pass --allow-dirty (make figures ALLOW_DIRTY=1) to run anyway with every results file "
                  "marked dirty: true.", file=sys.stderr)
            return 2
    if arguments.record_times:  # the kernels inherit it: a recorded time predicts every model, as a fresh machine does
        from emotion.classify.prediction_cache import CACHE_VARIABLE

        os.environ[CACHE_VARIABLE] = "off"
        print(f"[{arguments.mode}] recording run times: the prediction cache is off ({CACHE_VARIABLE}=off)", flush=True)
    notebooks = study_notebooks()
    if arguments.only:
        notebooks = [path for path in notebooks if any(path.name.startswith(prefix) for prefix in arguments.only)]
    if not notebooks:
        print("No notebook matches; the notebooks are notebooks/NN_slug.ipynb.", file=sys.stderr)
        return 2
    output_root = Path(arguments.output).resolve() if arguments.output else None
    if arguments.models:
        released = {parameters.get("model_name") for notebook in notebooks
                    for parameters, _ in notebook_variants(notebook, arguments.mode)}
        unknown = sorted(set(arguments.models) - released)
        if unknown:
            print(f"error: --models {' '.join(unknown)}: no such released model in {arguments.mode} mode (released: "
                  f"{', '.join(sorted(name for name in released if name)) or 'none'}; results/03_train_<model>.json).",
                  file=sys.stderr)
            return 2
    for notebook in notebooks:
        for parameters, keep_as in notebook_variants(notebook, arguments.mode):
            if arguments.models and parameters.get("model_name", arguments.models[0]) not in arguments.models:
                continue
            label = notebook.name + "".join(f" {key}={value}" for key, value in parameters.items())
            print(f"[{arguments.mode}] running {label} ...", flush=True)
            busy_before, own_before = busy_cpu_seconds(), own_cpu_seconds()
            run = run_notebook(notebook, arguments.mode, seed=arguments.seed, output_root=output_root,
                               extra_parameters=parameters, keep_as=keep_as)
            other = other_cores(busy_before, busy_cpu_seconds(), own_cpu_seconds() - own_before, run.seconds)
            beside = "" if other is None else f", other work meanwhile {other:.2f} cores"
            print(f"[{arguments.mode}] {label} done in {run.seconds:.0f} s{beside} -> {run.output}", flush=True)
            if arguments.record_times:
                record_runtime(RUNTIMES_FILE, notebook, arguments.mode, run.seconds, arguments.seed, other=other,
                               variant=None if keep_as is None else parameters.get("model_name"))
    return 0


def _results_table(arguments: argparse.Namespace) -> int:
    from emotion.study.results import headline_table, update_readme

    results_dir = Path(arguments.results)
    if arguments.write:
        same = update_readme(arguments.write, results_dir)
        print(f"{arguments.write}: {'already up to date' if same else 'results table rewritten'}")
        return 0
    if arguments.check:
        if update_readme(arguments.check, results_dir, check=True):
            print(f"{arguments.check}: the results table matches {results_dir}")
            return 0
        print(f"{arguments.check}: the results table differs from {results_dir}; run `make readme`.", file=sys.stderr)
        return 1
    print(headline_table(results_dir))
    return 0


def _record_ci(arguments: argparse.Namespace) -> int:
    from emotion.study.command_times import record_ci_run

    path = record_ci_run(arguments.log, arguments.venv, arguments.results)
    print(f"{path}: written; `make readme` puts it in the README's table of the two commands")
    return 0


def _report(arguments: argparse.Namespace) -> int:
    from emotion.study.report import build_report
    from emotion.study.report_check import browser_problems, find_chromium, static_problems

    index = build_report(Path(arguments.output).resolve())
    print(f"report written: {index}")
    problems = static_problems(index.parent)
    if find_chromium() is None:
        print("note: Chromium not found, so the pages were not opened in a browser; `make setup-browser` installs it.")
    else:
        screenshot = index.parent.with_name(index.parent.name + "_screenshot.png")
        problems += browser_problems(index.parent, screenshot)
        print(f"opened every page in headless Chromium; screenshot: {screenshot}")
    for problem in problems:
        print(f"problem: {problem}", file=sys.stderr)
    return 1 if problems else 0


def _model_card(arguments: argparse.Namespace) -> int:
    from emotion.study.model_card import write_model_card

    path = Path(arguments.path)
    same = write_model_card(path, Path(arguments.results), check=arguments.check)
    if arguments.check and not same:
        print(f"{path} is out of date with {arguments.results}; run `make model-card`.", file=sys.stderr)
        return 1
    print(f"{path}: {'up to date' if same else 'written'}")
    return 0


def _notebook_scripts(arguments: argparse.Namespace) -> int:
    from emotion.study import notebook_scripts
    from emotion.study.notebooks import study_notebooks

    notebooks = study_notebooks()
    stale = notebook_scripts.sync_scripts(notebooks, notebook_scripts.SCRIPTS_DIR, check=arguments.check)
    if arguments.check and stale:
        print(f"out of date: {', '.join(str(path) for path in stale)}; run `make notebook-scripts`.", file=sys.stderr)
        return 1
    for path in stale:
        print(f"written: {path}")
    if not stale:
        print(f"{notebook_scripts.SCRIPTS_DIR}: all {len(notebooks)} twins up to date")
    return 0
