"""The notebooks' plain-text twins (notebooks/scripts/) match the notebooks, so their diffs can be reviewed."""

from __future__ import annotations

import json

import pytest

from emotion.errors import DataFormatError
from emotion.study.notebook_scripts import notebook_to_script, sync_scripts
from emotion.study.notebooks import study_notebooks


def test_every_notebook_has_an_up_to_date_twin():
    stale = sync_scripts(study_notebooks(), check=True)
    assert stale == [], f"out of date: {[str(path) for path in stale]}; run `python -m emotion notebook-scripts`"


def test_a_twin_holds_the_sources_in_percent_format_without_outputs_or_injected_parameters(tmp_path):
    notebook = tmp_path / "01_x.ipynb"
    notebook.write_text(json.dumps({"cells": [
        {"cell_type": "markdown", "metadata": {}, "source": ["# Title\n", "\n", "Some text."]},
        {"cell_type": "code", "metadata": {"tags": ["parameters"]}, "source": ["mode = \"full\""], "outputs": []},
        {"cell_type": "code", "metadata": {"tags": ["injected-parameters"]}, "source": ["mode = \"smoke\""]},
        {"cell_type": "code", "metadata": {}, "source": ["print(1)\n"], "outputs": [{"text": "1"}]},
    ]}))
    assert notebook_to_script(notebook) == ('# %% [markdown]\n# # Title\n#\n# Some text.\n\n'
                                            '# %% tags=["parameters"]\nmode = "full"\n\n# %%\nprint(1)\n')
    assert sync_scripts([notebook], tmp_path / "scripts", check=True) == [tmp_path / "scripts" / "01_x.py"]
    assert sync_scripts([notebook], tmp_path / "scripts") == [tmp_path / "scripts" / "01_x.py"]
    assert sync_scripts([notebook], tmp_path / "scripts", check=True) == []


def test_a_file_that_is_not_a_notebook_is_named_in_the_error(tmp_path):
    broken = tmp_path / "02_broken.ipynb"
    broken.write_text("{not json")
    with pytest.raises(DataFormatError, match="02_broken.ipynb is not a Jupyter notebook"):
        notebook_to_script(broken)


def test_the_notebook_scripts_command_checks_and_writes_the_twins(tmp_path, monkeypatch, capsys):
    from emotion.app.cli import main
    from emotion.study import notebook_scripts

    assert main(["notebook-scripts", "--check"]) == 0
    monkeypatch.setattr(notebook_scripts, "SCRIPTS_DIR", tmp_path / "scripts")
    capsys.readouterr()
    assert main(["notebook-scripts", "--check"]) == 1
    assert "out of date: " + str(tmp_path / "scripts" / study_notebooks()[0].stem) in capsys.readouterr().err
    assert not (tmp_path / "scripts").exists()
    assert main(["notebook-scripts"]) == 0
    written = sorted(path.name for path in (tmp_path / "scripts").iterdir())
    assert written == sorted(f"{path.stem}.py" for path in study_notebooks())
    assert f"written: {tmp_path / 'scripts' / written[0]}" in capsys.readouterr().out
    assert main(["notebook-scripts", "--check"]) == 0
