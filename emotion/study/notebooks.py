"""Run the study's notebooks headless with papermill, in smoke or full mode.

Full mode executes each notebook into a temporary file and, only when every cell succeeded, replaces the committed
notebook (so readers see the outputs of the last full run) and leaves figures in ``figures/`` and numbers in
``results/``. Smoke mode writes everything under ``build/smoke/`` and never touches tracked files.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import time
from dataclasses import dataclass
from pathlib import Path

from emotion.errors import EmotionError
from emotion.paths import BUILD_DIR, DATA_ENV_VAR, NOTEBOOKS_DIR, RESULTS_DIR, data_root

KERNEL_NAME = "emotion"
RUNTIMES_FILE = RESULTS_DIR / "00_runtimes.json"
PER_MODEL_NOTEBOOK = "03_train.ipynb"
"""The notebook that runs once per released model in full mode (parameter ``model_name``)."""
DEFAULT_MODEL = "basic_cnn"
"""The model whose full run of :data:`PER_MODEL_NOTEBOOK` is the committed notebook itself; every other released
model's run is kept as ``notebooks/runs/03_train_<model>.ipynb``."""
RUNS_DIR = NOTEBOOKS_DIR / "runs"


class NotebookFailed(EmotionError):
    """A notebook cell raised; the message names the notebook, the cell and the error."""


@dataclass(frozen=True)
class NotebookRun:
    """What one notebook run produced and how long it took."""

    notebook: Path
    output: Path
    seconds: float


def study_notebooks(folder: Path = NOTEBOOKS_DIR) -> list[Path]:
    """Return the numbered notebooks ``NN_slug.ipynb`` in reading order."""
    return sorted(folder.glob("[0-9][0-9]_*.ipynb"))


def run_notebook(
    notebook: Path,
    mode: str,
    *,
    seed: int = 0,
    output_root: Path | None = None,
    kernel_name: str = KERNEL_NAME,
    extra_parameters: dict | None = None,
    keep_as: Path | None = None,
) -> NotebookRun:
    """Execute one notebook with papermill.

    Args:
        notebook: the ``.ipynb`` to run.
        mode: ``smoke`` (tiny sizes, outputs under ``output_root``, default ``build/smoke``) or ``full``
            (figures/ and results/; the executed notebook replaces the original on success).
        seed: the ``seed`` parameter.
        output_root: for smoke mode, the folder that receives the executed notebook, figures/ and results/.
        kernel_name: the Jupyter kernel (``make setup`` registers ``emotion`` inside .venv).
        extra_parameters: more papermill parameters.
        keep_as: full mode: where the executed notebook is kept (default: it replaces ``notebook``).

    Raises:
        ValueError: unknown mode.
        NotebookFailed: a cell raised (the message names notebook, cell number and error).
    """
    import papermill
    from papermill.exceptions import PapermillExecutionError

    if mode not in ("smoke", "full"):
        raise ValueError(f"mode must be 'smoke' or 'full', got {mode!r}")
    notebook = Path(notebook).resolve()
    if mode == "smoke":
        root = Path(output_root or BUILD_DIR / "smoke").resolve()
        figures, results = root / "figures", root / "results"
        output = root / (Path(keep_as).name if keep_as else notebook.name)
    else:
        output = BUILD_DIR / "full" / (Path(keep_as).name if keep_as else notebook.name)
    output.parent.mkdir(parents=True, exist_ok=True)
    parameters = {"mode": mode, "seed": seed}
    if mode == "smoke":
        # Full mode keeps the notebook's own relative defaults (../figures, ../results), so no machine-specific
        # path is written into the committed notebooks.
        parameters.update(figures_dir=str(figures), results_dir=str(results))
    parameters.update(extra_parameters or {})
    # The kernel runs in notebooks/: a relative EMOTION_DATA (e.g. ../shared/data) must mean what it meant where the
    # command was typed, so hand the kernel the absolute path.
    if os.environ.get(DATA_ENV_VAR, "").strip():
        os.environ[DATA_ENV_VAR] = str(data_root())
    started = time.perf_counter()
    try:
        papermill.execute_notebook(
            str(notebook),
            str(output),
            parameters=parameters,
            kernel_name=kernel_name,
            cwd=str(notebook.parent),
            progress_bar=False,
        )
    except PapermillExecutionError as error:
        raise NotebookFailed(
            f"{notebook.name}: cell {error.exec_count} (index {error.cell_index}) raised {error.ename}: "
            f"{error.evalue}\nThe executed notebook with the traceback is at {output}."
        ) from error
    seconds = time.perf_counter() - started
    if mode == "full":
        from emotion.study.prose import overstated_caps_in, unbacked_generated_numbers, unbacked_numbers

        unbacked = [str(problem) for problem in unbacked_numbers(output, RESULTS_DIR)
                    + unbacked_generated_numbers(output, RESULTS_DIR)] + overstated_caps_in(output, RESULTS_DIR)
        if unbacked:
            raise NotebookFailed(
                f"{notebook.name}: its prose states numbers that no results file backs, or calls a percentage a cap "
                "that a measured accuracy passed (the committed notebook is left as it was, the executed one is at "
                f"{output}; write the number into the results, or fix the sentence):\n"
                + "\n".join(f"  {problem}" for problem in unbacked))
        stamp_fingerprint(output)
        kept = Path(keep_as) if keep_as else notebook
        kept.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(output, kept)
        output = kept
    return NotebookRun(notebook=notebook, output=output, seconds=seconds)


def source_fingerprint(notebook: dict) -> str:
    """sha256 of a notebook's cell types and sources, papermill's injected-parameters cell left out: equal for a
    notebook and its executed copy, different once any cell is edited."""
    cells = [(cell["cell_type"], "".join(cell["source"])) for cell in notebook["cells"]
             if "injected-parameters" not in cell.get("metadata", {}).get("tags", [])]
    return hashlib.sha256(json.dumps(cells).encode()).hexdigest()


def stamp_fingerprint(path: Path) -> None:
    """Record :func:`source_fingerprint` in an executed notebook's metadata (``metadata.emotion.source_sha256``), so a
    test can tell a committed notebook edited after its last full run."""
    notebook = json.loads(Path(path).read_text())
    notebook["metadata"].setdefault("emotion", {})["source_sha256"] = source_fingerprint(notebook)
    Path(path).write_text(json.dumps(notebook, indent=1, ensure_ascii=False) + "\n")


def notebook_variants(notebook: Path, mode: str, results_dir: Path = RESULTS_DIR) -> list[tuple[dict, Path | None]]:
    """The runs one notebook gets: ``[(extra_parameters, keep_as)]``.

    :data:`PER_MODEL_NOTEBOOK` in full mode runs once per released model (``results_dir/03_train_<model>.json``): the
    :data:`DEFAULT_MODEL` run replaces the notebook, the others are kept under :data:`RUNS_DIR`. Every other case is
    one run with the notebook's own parameters.
    """
    if mode != "full" or Path(notebook).name != PER_MODEL_NOTEBOOK:
        return [({}, None)]
    released = sorted(path.stem.removeprefix("03_train_") for path in Path(results_dir).glob("03_train_*.json"))
    variants: list[tuple[dict, Path | None]] = [({"model_name": DEFAULT_MODEL}, None)]
    variants += [({"model_name": name}, RUNS_DIR / f"{Path(notebook).stem}_{name}.ipynb")
                 for name in released if name != DEFAULT_MODEL]
    return variants


def machine_label() -> str:
    """The CPU a run time was measured on, as the runtimes file records it: model, cores, and whether it multiplies
    bfloat16 in hardware (the study's CPUs have differed between sessions, and with them every time)."""
    from emotion.machine import cpu_cores, cpu_has_native_bf16, cpu_model

    return (f"{cpu_model()}, {cpu_cores()} cores, "
            + ("bfloat16 in hardware" if cpu_has_native_bf16() else "no bfloat16 hardware"))


def record_runtime(runtimes_file: Path, notebook: Path, mode: str, seconds: float, seed: int,
                   other: float | None = None, variant: str | None = None, machine: str | None = None) -> None:
    """Merge one measured run time into ``runtimes_file`` (a results file: ``{"notebooks": {stem: {mode: s}},
    "other_cores": {stem: {mode: cores or None}}}``).

    Each time is stored under the mode it was measured in, with the cores other work kept busy meanwhile
    (:func:`emotion.machine.other_cores`; None: not measured). The file's ``meta.mode`` is the mode of the run that wrote it last, so
    a file last written by smoke runs (``make runtimes``) says so. A further run of the per-model notebook (``variant``:
    its model) goes to ``{"variants": {stem: {model: s}}}``, ``"variant_other_cores"`` alike, in full mode only, so
    that ``make figures``' whole time can be summed (:func:`emotion.study.command_times.figures_minutes`). The CPU of
    each time goes to ``"cpus"`` (``"variant_cpus"``) alike: ``machine``, default :func:`machine_label`."""  # noqa: E501
    from emotion.provenance import read_results, write_results

    if variant is not None and mode != "full":
        raise ValueError(f"only full mode runs the per-model notebook once per model; got mode {mode!r}")
    keys = ("notebooks", "other_cores", "cpus", "variants", "variant_other_cores", "variant_cpus")
    document = read_results(runtimes_file) if runtimes_file.is_file() else {}
    tables: dict[str, dict] = {key: document.get(key, {}) for key in keys}
    load = None if other is None else round(other, 2)
    where = ("notebooks", "other_cores", "cpus") if variant is None else keys[3:]
    for key, value in zip(where, (round(seconds, 1), load, machine or machine_label())):
        tables[key].setdefault(notebook.stem, {})[mode if variant is None else variant] = value
    payload = {"protocol": "wall-clock seconds of one papermill run; cpus: the CPU each was measured on (absent for "
                           "times recorded before the file named it); other_cores: the cores other processes kept "
                           "busy meanwhile (from /proc/stat); variants: the per-model notebook's further full-mode "
                           "runs, one per released model",
               **{key: {stem: dict(sorted(times.items())) for stem, times in sorted(tables[key].items())}
                  for key in keys[:3]}}
    if tables["variants"]:
        payload.update({key: {stem: dict(sorted(times.items())) for stem, times in sorted(tables[key].items())}
                        for key in keys[3:]})
    write_results(runtimes_file, payload, mode=mode, seed=seed)

