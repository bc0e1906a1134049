"""The check that keeps notebook prose from stating numbers its results files do not hold."""

from __future__ import annotations

import json

import nbformat
import pytest

from emotion.errors import DataMissingError
from emotion.study.prose import number_is_backed, number_pool, stated_numbers, study_constants, unbacked_numbers


def write_notebook(path, *markdown):
    notebook = nbformat.v4.new_notebook()
    notebook.cells = [nbformat.v4.new_markdown_cell(text) for text in markdown]
    notebook.cells.append(nbformat.v4.new_code_cell("accuracy = 0.123456"))
    nbformat.write(notebook, path)
    return path


def test_numbers_are_read_as_prose_writes_them():
    text = ("FER2013 has 35,887 faces; ResNet-18, -34 and -50 reach 62.86 % on 48x48 inputs (`lr = 0.01`, "
            "[link](figures/04_x.png), http://127.0.0.1:8000/, `fer` 25.10.3, notebook 05, Notebooks 03-05, "
            "notebooks 03, 05 and 06, notebooks 04/05, Barsoum et al., 2016) with IoU 0.5.")
    assert [number for number, _ in stated_numbers(text)] == ["35,887", "62.86", "0.5"]


def test_a_number_is_backed_at_its_own_precision_as_a_value_or_a_percentage():
    pool = {0.62857, 35887.0, 0.5}
    assert number_is_backed("62.86", pool) and number_is_backed("63", pool) and number_is_backed("35,887", pool)
    assert number_is_backed("0.5", pool) and number_is_backed("50", pool)
    assert number_is_backed("62.9", pool) and not number_is_backed("62.87", pool) and not number_is_backed("62.8", pool)
    assert not number_is_backed("35,888", pool)


def test_the_pool_holds_numbers_and_numbers_inside_strings_but_not_meta():
    document = {"meta": {"seed": 1234}, "accuracy": 0.6286, "protocol": "IoU >= 0.5 over 1,000 thresholds",
                "rows": [{"epochs": 30, "ok": True}]}
    assert number_pool(document) == {0.6286, 0.5, 1000.0, 30.0}


def test_a_stale_number_in_markdown_is_reported_with_its_cell(tmp_path):
    results = tmp_path / "results"
    results.mkdir()
    (results / "09_demo.json").write_text(json.dumps({"meta": {}, "accuracy": 0.6617, "faces": 3589}))
    notebook = write_notebook(tmp_path / "09_demo.ipynb", "# 09 · Demo\n\nThe model reaches 66.17 % on 3,589 faces.",
                              "A later edit says 66.2 % and 72.4 %.")
    problems = unbacked_numbers(notebook, results)
    assert [(problem.cell, problem.number) for problem in problems] == [(1, "72.4")]
    assert str(problems[0]).startswith("09_demo.ipynb, markdown cell 1: '72.4' is in no results file")


def test_study_constants_back_design_numbers_and_a_notebook_without_results_is_refused(tmp_path):
    assert study_constants()["IMAGE_SIZE"] == 48 and study_constants()["CROP_SIZE"] == 40
    (tmp_path / "results").mkdir()
    (tmp_path / "results" / "09_demo.json").write_text(json.dumps({"meta": {}}))
    notebook = write_notebook(tmp_path / "09_demo.ipynb", "The central 40x40 of a 48 px face: 2,304 pixels; IoU 0.5.")
    assert unbacked_numbers(notebook, tmp_path / "results") == []
    with pytest.raises(DataMissingError, match="no results/08_"):
        unbacked_numbers(write_notebook(tmp_path / "08_other.ipynb", "7 classes"), tmp_path / "results")


def write_executed(path, generated, markdown="# 09 · Demo"):
    notebook = nbformat.v4.new_notebook()
    cell = nbformat.v4.new_code_cell("display(Markdown(describe(results)))")
    cell.outputs = [nbformat.v4.new_output("display_data", data={"text/markdown": generated})]
    notebook.cells = [nbformat.v4.new_markdown_cell(markdown), cell]
    nbformat.write(notebook, path)
    return path


def test_generated_sentences_are_read_against_every_results_file_except_differences_in_points(tmp_path):
    from emotion.study.prose import unbacked_generated_numbers

    results = tmp_path / "results"
    results.mkdir()
    (results / "07_other.json").write_text(json.dumps({"meta": {}, "seed_band": {"sd": 0.0081}}))
    (results / "09_demo.json").write_text(json.dumps({"meta": {}, "accuracy": 0.6617}))
    notebook = write_executed(tmp_path / "09_demo.ipynb",
                              "It reaches 66.17 %, +1.5 points over the band (sd 0.81 points, a 25.27-point gap), "
                              "and 3.1 fps.")
    problems = unbacked_generated_numbers(notebook, results)
    assert [(problem.cell, problem.number) for problem in problems] == [(1, "3.1")]
    assert "generated text of cell 1" in str(problems[0])


def test_a_percentage_called_a_cap_is_wrong_when_a_higher_test_accuracy_was_measured():
    from emotion.study.prose import overstated_caps

    assert overstated_caps("Agreement is 67.4 %, which caps the accuracy.", 0.7024) == [
        "Agreement is 67.4 %, which caps the accuracy."]
    assert overstated_caps("Agreement is 67.4 %, which caps the accuracy.", 0.6740) == []  # not above the cap
    assert overstated_caps("Agreement is 67.4 %, which is label noise, not a limit.", 0.7024) == []
    assert overstated_caps("Agreement is 67.4 %. This is not a ceiling: a model can score above it.", 0.7024) == []
    # A cap stated without its number refers back to the sentence before it.
    assert len(overstated_caps("The crowd agrees on 67.4 %. Label noise caps what a model can reach.", 0.7024)) == 1
    assert overstated_caps("The crowd agrees on 71.0 %. Label noise caps what a model can reach.", 0.7024) == []


def test_only_measured_test_accuracies_count_against_a_cap(tmp_path):
    from emotion.study.prose import overstated_caps_in, test_accuracies

    document = {"meta": {"accuracy": 0.99}, "test": {"accuracy": 0.70, "per_class": {"happy": {"recall": 0.9}}},
                "train_fit": {"accuracy": 0.79}, "history": [{"val_accuracy": 0.71}], "goal": {"accuracy": 0.72},
                "models": {"a": {"intervals": {"accuracy": {"estimate": 0.69, "low": 0.67, "confidence": 0.95}}}},
                "privatetest_accuracy": 0.68}
    assert sorted(test_accuracies(document)) == [0.68, 0.69, 0.70]
    results = tmp_path / "results"
    results.mkdir()
    (results / "05_x.json").write_text(json.dumps(document))
    notebook = write_executed(tmp_path / "01_demo.ipynb", "Agreement is 69.5 %: it caps any classifier.")
    assert [problem.split(":")[0] for problem in overstated_caps_in(notebook, results)] == ["01_demo.ipynb, cell 1"]
