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
            "[link](figures/04_x.png), http://127.0.0.1:8000/, `fer` 25.10.3, notebook 04, Notebooks 03-05, "
            "Barsoum et al., 2016) with IoU 0.5.")
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
