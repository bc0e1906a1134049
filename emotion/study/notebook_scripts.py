"""Plain-text twins of the notebooks, so that a change to a notebook can be read in a diff.

An executed ``.ipynb`` is JSON with outputs and images inside; its twin ``notebooks/scripts/NN_slug.py`` holds only
the cells' sources, in the "percent" format that Jupytext, VS Code and Spyder read (``# %%`` starts a code cell,
``# %% [markdown]`` a markdown cell whose lines are commented out). The twin is written from the notebook
(``python -m emotion notebook-scripts``) and a test fails when one is out of date, so a reviewer reads the diff of
the twin and trusts it to be the notebook's.
"""

from __future__ import annotations

import json
from pathlib import Path

from emotion.errors import DataFormatError
from emotion.paths import NOTEBOOKS_DIR

SCRIPTS_DIR = NOTEBOOKS_DIR / "scripts"


def notebook_to_script(notebook: Path) -> str:
    """The percent-format text of ``notebook``'s cell sources (no outputs, no metadata; papermill's injected
    parameters cell left out, as it is not part of the source).

    Raises:
        DataFormatError: the file is not a notebook (not JSON, or no ``cells`` list).
    """
    try:
        document = json.loads(Path(notebook).read_text())
        cells = document["cells"]
    except (json.JSONDecodeError, KeyError, TypeError) as error:
        raise DataFormatError(f"{notebook} is not a Jupyter notebook ({error}); restore it with git.") from error
    parts = []
    for cell in cells:
        tags = cell.get("metadata", {}).get("tags", [])
        if "injected-parameters" in tags:
            continue
        source = "".join(cell.get("source", [])).rstrip("\n")
        if cell.get("cell_type") == "markdown":
            body = "\n".join(f"# {line}" if line else "#" for line in source.splitlines())
            parts.append("# %% [markdown]\n" + body)
        elif cell.get("cell_type") == "code":
            header = "# %%" + (f" tags={json.dumps(tags)}" if tags else "")
            parts.append(header + ("\n" + source if source else ""))
    return "\n\n".join(parts) + "\n"


def script_path(notebook: Path, scripts_dir: Path = SCRIPTS_DIR) -> Path:
    """Where ``notebook``'s twin lives: ``scripts_dir/<stem>.py``."""
    return Path(scripts_dir) / f"{Path(notebook).stem}.py"


def sync_scripts(notebooks: list[Path], scripts_dir: Path = SCRIPTS_DIR, *, check: bool = False) -> list[Path]:
    """Write (or, with ``check``, only compare) the twin of each notebook.

    Returns:
        the twins that were out of date (written unless ``check``).
    """
    stale = []
    for notebook in notebooks:
        target, text = script_path(notebook, scripts_dir), notebook_to_script(notebook)
        if not target.is_file() or target.read_text() != text:
            stale.append(target)
            if not check:
                target.parent.mkdir(parents=True, exist_ok=True)
                target.write_text(text)
    return stale
