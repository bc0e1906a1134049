"""Every notebook follows the house rules and runs end to end in smoke mode without touching tracked files."""

from __future__ import annotations

import ast
import json
import subprocess
from pathlib import Path

import nbformat
import pytest

from emotion.paths import NOTEBOOKS_DIR, PROJECT_ROOT
from emotion.study.notebooks import PER_MODEL_NOTEBOOK, RUNS_DIR, run_notebook, source_fingerprint, study_notebooks
from emotion.study.prose import overstated_caps_in, unbacked_generated_numbers, unbacked_numbers

NOTEBOOKS = study_notebooks()
IDS = [path.stem for path in NOTEBOOKS]
MAX_LOOP_LINES = 8
"""The longest loop a notebook's code cell may hold; anything longer is logic for the package."""
MAX_FSTRING_LINES = 60
"""The most lines of f-strings all notebooks' code cells may hold together: interpretive prose is written by tested
``describe_*`` functions of the package, so what is left are labels and titles."""


def fstring_lines(source: str) -> int:
    """Lines of ``source`` that an f-string token covers."""
    import io
    import re
    import tokenize

    covered = set()
    for token in tokenize.generate_tokens(io.StringIO(source).readline):
        if token.type == tokenize.STRING and re.match(r"^[rRbBuU]*[fF]", token.string):
            covered.update(range(token.start[0], token.end[0] + 1))
    return len(covered)


def test_the_narrative_is_written_by_the_package_not_by_notebook_f_strings():
    counts = {path.stem: sum(fstring_lines(cell.source) for cell in nbformat.read(path, as_version=4).cells
                             if cell.cell_type == "code") for path in NOTEBOOKS}
    assert sum(counts.values()) <= MAX_FSTRING_LINES, counts
    assert fstring_lines('x = 1\ntext = (f"a {x}"\n        f"b")\nplain = "c"\n') == 2


def test_there_are_notebooks():
    assert NOTEBOOKS and NOTEBOOKS[0].name == "01_data_overview.ipynb"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=IDS)
def test_notebook_structure(path):
    notebook = nbformat.read(path, as_version=4)
    cells = notebook.cells
    assert cells[0].cell_type == "markdown" and cells[0].source.startswith("# "), "opens with a title"
    assert "Produces" in cells[0].source and "Run time" in cells[0].source
    parameters = [cell for cell in cells if "parameters" in cell.metadata.get("tags", [])]
    assert len(parameters) == 1, "exactly one cell tagged 'parameters'"
    for name in ("mode", "seed", "figures_dir", "results_dir"):
        assert f"\n{name} =" in "\n" + parameters[0].source, f"parameters cell lacks {name}"
    code = [cell.source for cell in cells if cell.cell_type == "code"]
    for index, source in enumerate(code):
        # A lambda in a pandas call is an expression, allowed.
        definitions = [node for node in ast.walk(ast.parse(source))
                       if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef))]
        assert not definitions, (f"code cell {index} defines {type(definitions[0]).__name__} on line "
                                 f"{definitions[0].lineno}: logic belongs in the package, not a notebook")
        loops = [node for node in ast.walk(ast.parse(source)) if isinstance(node, (ast.For, ast.AsyncFor, ast.While))
                 and node.end_lineno - node.lineno + 1 > MAX_LOOP_LINES]
        assert not loops, (f"code cell {index} has a {loops[0].end_lineno - loops[0].lineno + 1}-line loop on line "
                           f"{loops[0].lineno}: more than {MAX_LOOP_LINES} lines is logic for the package")
    assert "package_versions()" in code[-1], "ends with the versions cell"
    assert len(cells) <= 32


@pytest.mark.parametrize("path", NOTEBOOKS + sorted(RUNS_DIR.glob("*.ipynb")),
                         ids=IDS + [f"runs/{path.stem}" for path in sorted(RUNS_DIR.glob("*.ipynb"))])
def test_committed_notebook_is_its_last_full_run_unedited(path):
    notebook = json.loads(path.read_text())
    injected = [cell for cell in notebook["cells"] if "injected-parameters" in cell.get("metadata", {}).get("tags", [])]
    assert injected, f"{path.name} has never been executed: run `python -m emotion run-notebooks --mode full`"
    assert 'mode = "full"' in "".join(injected[0]["source"]), f"{path.name} was committed from a non-full run"
    stamped = notebook["metadata"].get("emotion", {}).get("source_sha256")
    assert stamped == source_fingerprint(notebook), (
        f"{path.name} was edited after its last full run, so its outputs may not belong to its code: run "
        f"`python -m emotion run-notebooks --mode full --only {path.name[:2]}`")
    if path.parent == RUNS_DIR:
        template = json.loads((NOTEBOOKS_DIR / PER_MODEL_NOTEBOOK).read_text())
        assert stamped == source_fingerprint(template), f"{path.name} ran an older {PER_MODEL_NOTEBOOK}"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=IDS)
def test_notebook_prose_states_only_numbers_its_results_back(path):
    problems = unbacked_numbers(path)
    assert not problems, "\n".join(map(str, problems))


@pytest.mark.parametrize("path", NOTEBOOKS, ids=IDS)
def test_generated_sentences_state_only_backed_numbers_and_no_cap_a_result_passed(path):
    problems = [str(problem) for problem in unbacked_generated_numbers(path)] + overstated_caps_in(path)
    assert not problems, "\n".join(problems)


@pytest.fixture(scope="module")
def tracked_state():
    def snapshot():
        return subprocess.run(["git", "status", "--porcelain", "--untracked-files=all", "--", "notebooks", "figures",
                               "results", "models", "README.md"], cwd=PROJECT_ROOT, capture_output=True,
                              text=True).stdout

    before = snapshot()
    yield snapshot, before


@pytest.mark.notebooks
@pytest.mark.parametrize("path", NOTEBOOKS, ids=IDS)
def test_notebook_runs_in_smoke_mode_and_touches_no_tracked_file(path, real_data_root, tmp_path, tracked_state):
    snapshot, before = tracked_state
    run = run_notebook(path, "smoke", output_root=tmp_path)
    assert run.output.is_file()
    results = list((tmp_path / "results").glob(f"{path.name[:2]}_*.json"))
    assert results, "a notebook writes its numbers to results/"
    for result in results:
        assert json.loads(result.read_text())["meta"]["mode"] == "smoke"
    assert snapshot() == before, "a smoke run modified notebooks/, figures/, results/, models/ or README.md"
    executed = nbformat.read(run.output, as_version=4)
    unexecuted = [index for index, cell in enumerate(executed.cells)
                  if cell.cell_type == "code" and cell.source.strip() and cell.execution_count is None]
    assert not unexecuted, f"code cells {unexecuted} did not run"
    errors = [output for cell in executed.cells if cell.cell_type == "code" for output in cell.get("outputs", [])
              if output.get("output_type") == "error"]
    assert not errors


@pytest.mark.notebooks
def test_a_failing_cell_names_the_notebook_and_the_cell(tmp_path):
    from nbformat.v4 import new_code_cell, new_notebook

    from emotion.study.notebooks import NotebookFailed

    notebook = new_notebook(cells=[new_code_cell("mode = 'full'\nseed = 0"), new_code_cell("1 / 0")])
    notebook.cells[0].metadata["tags"] = ["parameters"]
    notebook.metadata["kernelspec"] = {"name": "emotion", "display_name": "emotion", "language": "python"}
    path = tmp_path / "99_broken.ipynb"
    nbformat.write(notebook, path)
    with pytest.raises(NotebookFailed, match=r"99_broken.ipynb: cell \d+ .*ZeroDivisionError"):
        run_notebook(path, "smoke", output_root=tmp_path / "out")


def test_the_training_notebook_runs_once_per_released_model_in_full_mode_only(tmp_path):
    from emotion.study.notebooks import RUNS_DIR, notebook_variants

    for name in ("basic_cnn", "resnet18", "resnet34"):
        (tmp_path / f"03_train_{name}.json").write_text("{}")
    notebook = Path("notebooks/03_train.ipynb")
    variants = notebook_variants(notebook, "full", tmp_path)
    assert variants == [({"model_name": "basic_cnn"}, None),
                        ({"model_name": "resnet18"}, RUNS_DIR / "03_train_resnet18.ipynb"),
                        ({"model_name": "resnet34"}, RUNS_DIR / "03_train_resnet34.ipynb")]
    assert notebook_variants(notebook, "smoke", tmp_path) == [({}, None)]
    assert notebook_variants(Path("notebooks/05_compare_models.ipynb"), "full", tmp_path) == [({}, None)]


@pytest.mark.notebooks
def test_a_relative_emotion_data_means_the_folder_where_the_command_ran(tmp_path, monkeypatch):
    from nbformat.v4 import new_code_cell, new_notebook

    data = tmp_path / "where" / "data"
    data.mkdir(parents=True)
    notebook = new_notebook(cells=[new_code_cell("mode = 'full'\nseed = 0"), new_code_cell(
        "from emotion.paths import data_root\n"
        "assert data_root() == __import__('pathlib').Path(expected), data_root()")])
    notebook.cells[0].metadata["tags"] = ["parameters"]
    notebook.metadata["kernelspec"] = {"name": "emotion", "display_name": "emotion", "language": "python"}
    path = tmp_path / "notebooks" / "98_relative.ipynb"
    path.parent.mkdir()
    nbformat.write(notebook, path)
    monkeypatch.chdir(tmp_path / "where")
    monkeypatch.setenv("EMOTION_DATA", "data")  # relative to the current folder, not to the notebook's
    run_notebook(path, "smoke", output_root=tmp_path / "out", extra_parameters={"expected": str(data)})
