"""Numbers typed in a notebook's markdown, checked against the study's results files.

A notebook's prose may state a number only when the study backs it: a value in that notebook's own results files
(``results/NN_*.json``, numbers and numbers written inside their strings, ``meta`` left out) or one of the package's
named constants (:func:`study_constants`: image size, crop size, IoU threshold and the like, each defined once in the
code that uses it). Everything that interprets a measured number is printed by a tested function instead, so the
markdown holds only questions, methods and such constants.

The rule (:func:`number_is_backed`): a number stated with ``d`` decimals is backed when some value ``v`` of the pool
rounds to it at ``d`` decimals, either as it is or as a percentage (``100 v``). Left out of the check: code spans and
fenced code, link targets, URLs, dotted versions (``25.10.3``), notebook numbers (``# 04 ·`` titles, ``notebook 04``,
``Notebooks 03-05``), citation years (``et al., 2016``), and numbers glued to a word or a hyphen (``ResNet-18``,
``FER2013``, ``48x48``, ``-34``).

Small integers appear in almost every results file, so a wrong small integer can slip through; the check is meant to
catch the numbers a reader quotes (accuracies, counts, times), which are specific enough to fail when they are stale.
"""

from __future__ import annotations

import json
import math
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Iterable

from emotion.errors import DataFormatError, DataMissingError
from emotion.paths import RESULTS_DIR

NUMBER = re.compile(r"(?<![\w.\-−])(\d{1,3}(?:,\d{3})+|\d+(?:\.\d+)*)(?![\w])")
"""A number as prose writes it: ``35,887``, ``0.05``, ``62.86``, ``7``; dotted versions are matched whole."""
_LEFT_OUT = (
    re.compile(r"```.*?```", flags=re.DOTALL),  # fenced code
    re.compile(r"`[^`\n]*`"),  # code spans
    re.compile(r"\]\([^)]*\)"),  # link targets
    re.compile(r"https?://\S+"),  # URLs
    re.compile(r"[Nn]otebooks? \d\d(?:\s*[-–]\s*\d\d)?"),  # notebook references
    re.compile(r"^# \d\d ·", flags=re.MULTILINE),  # the notebook's number in its title
    re.compile(r"et al\.,? \d{4}"),  # citation years
)


@dataclass(frozen=True)
class UnbackedNumber:
    """A number a markdown cell states that neither the results nor a study constant backs."""

    notebook: str
    cell: int
    number: str
    context: str

    def __str__(self) -> str:
        return f"{self.notebook}, markdown cell {self.cell}: {self.number!r} is in no results file ({self.context!r})"


def study_constants() -> dict[str, float]:
    """The package's named constants that notebook prose may state, ``{name: value}``."""
    from emotion import CLASS_NAMES, SPLITS
    from emotion.classify.evaluate import TENCROP_SHIFT, TENCROP_VIEWS
    from emotion.classify.models import CROP_SIZE
    from emotion.classify.significance import CONFIDENCE
    from emotion.data.fer2013 import IMAGE_SIZE, PIXELS_PER_IMAGE
    from emotion.faces.detection_metrics import (
        IOU_THRESHOLD,
        RECALL_MIN_HEIGHT,
        THRESHOLD_COUNT,
        WIDER_VALIDATION_IMAGES,
    )

    return {
        "classes": len(CLASS_NAMES), "splits": len(SPLITS), "IMAGE_SIZE": IMAGE_SIZE,
        "PIXELS_PER_IMAGE": PIXELS_PER_IMAGE, "CROP_SIZE": CROP_SIZE, "TENCROP_SHIFT": TENCROP_SHIFT,
        "TENCROP_VIEWS": TENCROP_VIEWS, "IOU_THRESHOLD": IOU_THRESHOLD, "THRESHOLD_COUNT": THRESHOLD_COUNT,
        "WIDER_VALIDATION_IMAGES": WIDER_VALIDATION_IMAGES, "RECALL_MIN_HEIGHT": RECALL_MIN_HEIGHT,
        "CONFIDENCE": CONFIDENCE,
    }


def prose_text(markdown: str) -> str:
    """``markdown`` with the parts the check leaves out (code, links, URLs, references, citation years) blanked."""
    for pattern in _LEFT_OUT:
        markdown = pattern.sub(" ", markdown)
    return markdown


def stated_numbers(markdown: str) -> list[tuple[str, str]]:
    """Every number the prose of ``markdown`` states, as ``(number, context)`` (dotted versions left out)."""
    text = prose_text(markdown)
    found = []
    for match in NUMBER.finditer(text):
        token = match.group(1)
        if token.count(".") > 1:
            continue
        context = " ".join(text[max(0, match.start() - 40):match.end() + 25].split())
        found.append((token, context))
    return found


def number_pool(value: Any, pool: set[float] | None = None) -> set[float]:
    """Every finite number in a results document (keys and strings included; ``meta`` left out)."""
    pool = set() if pool is None else pool
    if isinstance(value, bool) or value is None:
        return pool
    if isinstance(value, (int, float)):
        if math.isfinite(value):
            pool.add(float(value))
    elif isinstance(value, str):
        for match in NUMBER.finditer(value):
            if match.group(1).count(".") <= 1:
                pool.add(float(match.group(1).replace(",", "")))
    elif isinstance(value, dict):
        for key, item in value.items():
            if key != "meta":
                number_pool(key, pool)
                number_pool(item, pool)
    elif isinstance(value, (list, tuple)):
        for item in value:
            number_pool(item, pool)
    return pool


def number_is_backed(token: str, pool: Iterable[float]) -> bool:
    """Whether ``token`` (as prose writes it) equals a value of ``pool`` rounded to its decimals, as it is or as a
    percentage."""
    stated = float(token.replace(",", ""))
    decimals = len(token.split(".")[1]) if "." in token else 0
    return any(round(value, decimals) == stated or round(100 * value, decimals) == stated for value in pool)


def notebook_pool(notebook: Path, results_dir: Path = RESULTS_DIR) -> set[float]:
    """The numbers notebook ``NN_slug.ipynb`` may state: its ``results_dir/NN_*.json`` files and the study constants.

    Raises:
        DataMissingError: the notebook has no results file (it has not been run in full mode).
        DataFormatError: a results file is not valid JSON.
    """
    files = sorted(Path(results_dir).glob(f"{Path(notebook).name[:2]}_*.json"))
    if not files:
        raise DataMissingError(f"{notebook}: no results/{Path(notebook).name[:2]}_*.json to check its prose against; "
                               "run the notebook in full mode first (make figures).")
    pool = set(map(float, study_constants().values()))
    for path in files:
        try:
            number_pool(json.loads(path.read_text()), pool)
        except json.JSONDecodeError as error:
            raise DataFormatError(f"{path}, line {error.lineno}: not valid JSON ({error.msg}).") from error
    return pool


def unbacked_numbers(notebook: Path, results_dir: Path = RESULTS_DIR) -> list[UnbackedNumber]:
    """Every number in ``notebook``'s markdown cells that :func:`notebook_pool` does not back (empty when clean)."""
    notebook = Path(notebook)
    pool = notebook_pool(notebook, results_dir)
    cells = json.loads(notebook.read_text())["cells"]
    return [UnbackedNumber(notebook.name, index, token, context)
            for index, cell in enumerate(cells) if cell["cell_type"] == "markdown"
            for token, context in stated_numbers("".join(cell["source"]))
            if not number_is_backed(token, pool)]
