"""Numbers typed in a notebook's markdown, checked against the study's results files.

A notebook's prose may state a number only when the study backs it: a value in that notebook's own results files
(``results/NN_*.json``, numbers and numbers written inside their strings, ``meta`` left out) or one of the package's
named constants (:func:`study_constants`: image size, crop size, IoU threshold and the like, each defined once in the
code that uses it). Everything that interprets a measured number is printed by a tested function instead, so the
markdown holds only questions, methods and such constants.

The rule (:func:`number_is_backed`): a number stated with ``d`` decimals is backed when some value ``v`` of the pool
rounds to it at ``d`` decimals, either as it is or as a percentage (``100 v``). Left out of the check: code spans and
fenced code, link targets, URLs, dotted versions (``25.10.3``), notebook numbers (``# 04 ·`` titles, ``notebook 05``,
``Notebooks 03-05``, ``notebooks 03, 05 and 06``), citation years (``et al., 2016``), and numbers glued to a word or
a hyphen (``ResNet-18``, ``FER2013``, ``48x48``, ``-34``).

Generated sentences (the markdown a code cell displays, written by the package's ``describe_*`` functions) are read
too, as a reader reads them (:func:`unbacked_generated_numbers`): their numbers must be in *some* results file, since a
notebook may quote another's (notebook 05 quotes notebook 04's seed band), except differences stated in points
(``+1.5 points``, ``a 25.27-point distance``), which the describe functions derive and their tests check. And words
are read against numbers where a rule exists (:func:`overstated_caps`): a sentence that calls a percentage a cap, a
ceiling or an upper bound is wrong when a results file holds an accuracy above it.

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
    re.compile(r"[Nn]otebooks? \d\d(?:(?:\s*[-–]\s*|, and |, | and | or |/)\d\d)*"),  # notebook references
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
    where: str = "markdown cell"

    def __str__(self) -> str:
        return f"{self.notebook}, {self.where} {self.cell}: {self.number!r} is in no results file ({self.context!r})"


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


POINTS_AFTER = re.compile(r"\s?-?\s?points?\b")
"""What follows a number stated as a difference in percentage points (``+1.5 points``, ``25.27-point``)."""
CAP_WORDS = re.compile(r"\b(caps?|capping|ceiling|upper bound|cannot (?:be )?exceed(?:ed)?)\b", flags=re.IGNORECASE)
"""Words that state a percentage as a limit no classifier passes."""
PERCENT = re.compile(r"(?<![\w.])(\d+(?:\.\d+)?)\s?%")


def generated_markdown(notebook: Path) -> list[tuple[int, str]]:
    """The markdown the code cells of an executed ``notebook`` display, as ``(cell index, text)``."""
    cells = json.loads(Path(notebook).read_text())["cells"]
    return [(index, "".join(output["data"]["text/markdown"]))
            for index, cell in enumerate(cells) if cell["cell_type"] == "code"
            for output in cell.get("outputs", []) if "text/markdown" in output.get("data", {})]


def results_pool(results_dir: Path = RESULTS_DIR) -> set[float]:
    """Every number of every results file in ``results_dir`` (``meta`` left out) and the study constants.

    Raises:
        DataFormatError: a results file is not valid JSON.
    """
    pool = set(map(float, study_constants().values()))
    for path in sorted(Path(results_dir).glob("*.json")):
        try:
            number_pool(json.loads(path.read_text()), pool)
        except json.JSONDecodeError as error:
            raise DataFormatError(f"{path}, line {error.lineno}: not valid JSON ({error.msg}).") from error
    return pool


def unbacked_generated_numbers(notebook: Path, results_dir: Path = RESULTS_DIR,
                               pool: set[float] | None = None) -> list[UnbackedNumber]:
    """Every number the generated sentences of an executed ``notebook`` state that no results file backs, differences
    stated in points left out (empty when clean). ``pool``: :func:`results_pool`, when already read."""
    pool = results_pool(results_dir) if pool is None else pool
    problems = []
    for index, text in generated_markdown(notebook):
        plain = prose_text(text)
        for match in NUMBER.finditer(plain):
            token = match.group(1)
            if token.count(".") > 1 or POINTS_AFTER.match(plain, match.end()) or number_is_backed(token, pool):
                continue
            context = " ".join(plain[max(0, match.start() - 40):match.end() + 25].split())
            problems.append(UnbackedNumber(Path(notebook).name, index, token, context, where="generated text of cell"))
    return problems


def test_accuracies(value: Any, path: tuple[str, ...] = ()) -> list[float]:
    """Every measured FER2013 accuracy (0-1) in a results document: a number whose own key (or, for an interval's
    ``estimate``, its parent's) names an accuracy, on a path that names no training fit, history, goal, interval bound
    or other data set (CK+, FER+, AffectNet). ``meta`` is left out."""
    if isinstance(value, dict):
        return [found for name, item in value.items() if name != "meta"
                for found in test_accuracies(item, (*path, str(name).lower()))]
    if isinstance(value, (list, tuple)):
        return [found for item in value for found in test_accuracies(item, (*path, "[]"))]
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not 0 <= value <= 1 or not path:
        return []
    own = path[-2] if path[-1] == "estimate" and len(path) > 1 else path[-1]
    excluded = ("train", "history", "goal", "confidence", "low", "high", "interval", "ckplus", "ferplus", "affectnet")
    if "accuracy" in own and not any(word in part for part in path for word in excluded
                                                 if not (word == "interval" and part == "intervals")):
        return [float(value)]
    return []


NEGATED_CAP = re.compile(r"\b(?:not|no|never)\s+(?:a\s+|an\s+|the\s+|any\s+)?(?:cap|ceiling|upper bound)\b",
                         flags=re.IGNORECASE)
"""A cap word denied ("is not a ceiling"): such a sentence makes no cap claim."""


def overstated_caps(text: str, highest_accuracy: float) -> list[str]:
    """The sentences of ``text`` that call a percentage a cap, ceiling or upper bound (:data:`CAP_WORDS`) when an
    accuracy of ``highest_accuracy`` (0-1) was measured above it; a cap sentence that states no percentage is read
    with the percentages of the sentence before it, and one that denies the cap (:data:`NEGATED_CAP`) is left alone."""
    sentences = re.split(r"(?<=[.!?])\s+", prose_text(text))
    problems = []
    for index, sentence in enumerate(sentences):
        if not CAP_WORDS.search(sentence) or NEGATED_CAP.search(sentence):
            continue
        # A cap stated without its number ("caps the accuracy any classifier can reach") refers back to the
        # sentence before it.
        stated = list(PERCENT.finditer(sentence)) or (list(PERCENT.finditer(sentences[index - 1])) if index else [])
        if any(float(match.group(1)) / 100 < highest_accuracy - 5e-4 for match in stated):
            problems.append(" ".join(sentence.split()))
    return problems


def overstated_caps_in(notebook: Path, results_dir: Path = RESULTS_DIR) -> list[str]:
    """:func:`overstated_caps` over an executed ``notebook``'s markdown cells and generated sentences, against the
    highest accuracy in any results file of ``results_dir``; each problem names the notebook and cell."""
    highest = max((value for path in sorted(Path(results_dir).glob("*.json"))
                   for value in test_accuracies(json.loads(path.read_text()))), default=0.0)
    cells = json.loads(Path(notebook).read_text())["cells"]
    texts = [(index, "".join(cell["source"])) for index, cell in enumerate(cells) if cell["cell_type"] == "markdown"]
    texts += generated_markdown(notebook)
    return [f"{Path(notebook).name}, cell {index}: {sentence!r} (an accuracy of {highest:.2%} was measured)"
            for index, text in texts for sentence in overstated_caps(text, highest)]
