"""Check that the data root holds what each notebook reads, and say exactly how to obtain what is missing.

:data:`DATA_SETS` is the one table of which notebook reads which data set and whether a notebook can run without it
(a test reads the notebooks' code to keep it true). A required set that is missing makes ``python -m emotion
check-data`` exit 1, so ``make figures`` stops before the first notebook; an optional one is reported with the
sections that will be skipped.
"""

from __future__ import annotations

import csv
from dataclasses import dataclass
from pathlib import Path

from emotion.data import cohn_kanade, ferplus, wider_face, wider_subset
from emotion.data.fer2013 import OBTAIN_INSTRUCTIONS as FER2013_INSTRUCTIONS
from emotion.data.fer2013 import load_fer2013
from emotion.errors import DataFormatError, DataMissingError
from emotion.paths import DATA_ENV_VAR, data_root, fer2013_csv, ferplus_csv

NOTEBOOKS = ("01_data_overview", "02_face_detectors", "03_train", "04_methodology_review", "05_compare_models",
             "06_evaluation", "07_pipeline_demo", "08_claims_ledger")
"""The study's notebooks, in reading order (``notebooks/<name>.ipynb``)."""

CKPLUS_SECTION = "How does it do out of distribution? CK+48 (posed, lab conditions)"
"""The title of notebook 06's CK+48 section, the part of the study that needs CK+48."""
CKPLUS_LEFT_OUT = "the CK+48 numbers of its claims ledger, conclusion and headline table"
"""What notebook 06 leaves out besides its CK+48 section when CK+48 is missing; check-data and the notebook say it."""
CKPLUS_SKIPPED = f'notebook 06 skips its section "{CKPLUS_SECTION}" and leaves out {CKPLUS_LEFT_OUT}'
"""What the study loses without CK+48, as check-data says it."""
YUNET_SKIPPED = ("notebook 02 benchmarks the other detectors without YuNet; notebook 07, the web app and `predict` use "
                 "MTCNN as the pipeline's detector instead")
"""What the study loses without the YuNet model file."""
YUNET_INSTRUCTIONS = (
    "To include it: OpenCV Zoo, models/face_detection_yunet/face_detection_yunet_2023mar.onnx (232,589 bytes, sha256 "
    "8f2383e4dd3cfbb4553ea8718107fc0423210dc964f9f4280604804ed2552fa4), saved as $EMOTION_DATA/models/"
    "face_detection_yunet_2023mar.onnx.")
"""Where to get the YuNet model file."""


@dataclass(frozen=True)
class DataSet:
    """One data set under the data root: which notebooks read it, and whether they can run without it.

    Attributes:
        name: as check-data prints it.
        relative: its path under the data root.
        required: a notebook cannot run without it.
        notebooks: the names (:data:`NOTEBOOKS`) of the notebooks that read it.
        without: for an optional set, what is skipped when it is missing.
    """

    name: str
    relative: str
    required: bool
    notebooks: tuple[str, ...]
    without: str = ""


DATA_SETS = (
    DataSet("FER2013", "fer2013", True, ("01_data_overview", "03_train", "05_compare_models", "06_evaluation")),
    DataSet("FER+ votes", "fer2013", True, ("01_data_overview", "06_evaluation")),
    DataSet("WIDER FACE val subset", "faces", True, ("02_face_detectors", "07_pipeline_demo")),
    DataSet("CK+48", "ckplus48", False, ("06_evaluation",), CKPLUS_SKIPPED),
    DataSet("YuNet face detector", "models/face_detection_yunet_2023mar.onnx", False,
            ("02_face_detectors", "07_pipeline_demo"), YUNET_SKIPPED),
)
"""Every data set a notebook reads. Notebook 04 reads only results/."""


@dataclass(frozen=True)
class CheckItem:
    """One line of the data check: what, where, whether it is fine, and what to do otherwise."""

    name: str
    path: Path
    ok: bool
    required: bool
    detail: str


def _notebook_numbers(names: tuple[str, ...]) -> str:
    numbers = [name[:2] for name in names]
    return ("notebook " if len(numbers) == 1 else "notebooks ") + ", ".join(numbers)


def _check_fer2013(root: Path) -> tuple[CheckItem, int | None]:
    path = fer2013_csv(root)
    try:
        data = load_fer2013(path, allow_modified=True)
    except DataMissingError:
        return CheckItem("FER2013", path, False, True, "missing.\n" + FER2013_INSTRUCTIONS), None
    except DataFormatError as error:
        return CheckItem("FER2013", path, False, True, f"malformed: {error}"), None
    verdict = "original Kaggle file (sha256 verified)" if data.is_original else (
        f"parses, but differs from the original (sha256 {data.sha256}); results will not match the study's")
    return CheckItem("FER2013", path, True, True, f"{len(data.labels):,} rows; {verdict}"), len(data.labels)


def _check_ferplus(root: Path, rows: int | None) -> CheckItem:
    path = ferplus_csv(root)
    try:
        votes = ferplus.load_ferplus_votes(path, expected_rows=rows)
    except DataMissingError:
        return CheckItem("FER+ votes", path, False, True, "missing.\n" + ferplus.OBTAIN_INSTRUCTIONS)
    except DataFormatError as error:
        return CheckItem("FER+ votes", path, False, True, f"malformed: {error}")
    return CheckItem("FER+ votes", path, True, True, f"{len(votes):,} rows")


def verify_wider_subset(folder: Path | str, image_list: Path | str = wider_subset.IMAGE_LIST) -> str:
    """Check that ``folder`` holds the study's subset: ``annotations.csv``, ``images.csv`` naming exactly the images of
    ``image_list`` with the same sha256, and each of those JPEGs under ``images/`` with that sha256 (about 80 MB read).

    Returns:
        A one-line summary, e.g. ``"700 images, sha256 verified; 6,856 faces in annotations.csv"``.

    Raises:
        DataMissingError: the folder, one of the two CSV files or an image is absent (the message says how to build
            the folder).
        DataFormatError: images.csv lists other images or checksums, or an image's bytes differ (file named).
    """
    folder = Path(folder)
    listed = {entry.image: entry for entry in wider_subset.read_image_list(image_list)}
    for name in ("annotations.csv", "images.csv"):
        if not (folder / name).is_file():
            raise DataMissingError(f"{folder / name} does not exist.\n{wider_subset.OBTAIN_INSTRUCTIONS}")
    with (folder / "images.csv").open(newline="") as handle:
        rows = list(csv.reader(handle))
    if not rows or rows[0] != wider_face.IMAGES_HEADER:
        raise DataFormatError(f"{folder / 'images.csv'}, line 1: header must be "
                              f"{','.join(wider_face.IMAGES_HEADER)}.")
    table = {row[0]: row[-1] for row in rows[1:] if row}
    if table != {name: entry.sha256 for name, entry in listed.items()}:
        other = sorted(set(table) ^ set(listed)) or sorted(name for name in table if table[name] != listed[name].sha256)
        raise DataFormatError(f"{folder / 'images.csv'} lists {len(table)} images that are not the study's "
                              f"{len(listed)} of {Path(image_list).name} (first difference: {other[0]}). Rebuild the "
                              f"folder.\n{wider_subset.OBTAIN_INSTRUCTIONS}")
    absent = [name for name in listed if not (folder / "images" / name).is_file()]
    if absent:
        raise DataMissingError(f"{len(absent)} of the {len(listed)} images are missing under {folder / 'images'} "
                               f"(first: {absent[0]}).\n{wider_subset.OBTAIN_INSTRUCTIONS}")
    changed = [name for name, entry in listed.items()
               if wider_subset.sha256_of_file(folder / "images" / name) != entry.sha256]
    if changed:
        raise DataFormatError(f"{len(changed)} image(s) under {folder / 'images'} differ from the study's bytes "
                              f"(sha256 in {Path(image_list).name}), first: {changed[0]}. Rebuild the folder.\n"
                              f"{wider_subset.OBTAIN_INSTRUCTIONS}")
    with (folder / "annotations.csv").open() as handle:
        faces = sum(1 for _ in handle) - 1
    return f"{len(listed)} images, sha256 verified; {faces:,} faces in annotations.csv"


def _check_faces(root: Path) -> CheckItem:
    path = root / "faces"
    if not path.is_dir():
        return CheckItem("WIDER FACE val subset", path, False, True, "missing.\n" + wider_subset.OBTAIN_INSTRUCTIONS)
    try:
        summary = verify_wider_subset(path)
    except DataMissingError as error:
        return CheckItem("WIDER FACE val subset", path, False, True, f"incomplete: {error}")
    except DataFormatError as error:
        return CheckItem("WIDER FACE val subset", path, False, True, f"malformed: {error}")
    return CheckItem("WIDER FACE val subset", path, True, True, summary)


def _check_optional(root: Path, data_set: DataSet, marker: str, instructions: str) -> CheckItem:
    path = root / data_set.relative
    if (path / marker if marker else path).is_file():
        rows = (path / marker).read_text().count("\n") - 1 if marker.endswith(".csv") else None
        listed = "" if rows is None else f" ({rows:,} images in {marker})"
        return CheckItem(data_set.name, path, True, False, "present" + listed)
    return CheckItem(data_set.name, path, False, False, f"not there, so {data_set.without}. {instructions}")


def check_data(root: Path) -> list[CheckItem]:
    """Check every data set of :data:`DATA_SETS` under ``root``, in that order.

    FER2013 is parsed and checksum-verified, FER+ parsed against it, the WIDER subset's images checked against the
    committed list (:func:`verify_wider_subset`, about 80 MB read); CK+48 and YuNet only
    for presence. Never raises for missing or malformed data: that is what the items report.
    """
    fer2013, rows = _check_fer2013(root)
    by_name = {data_set.name: data_set for data_set in DATA_SETS}
    return [
        fer2013,
        _check_ferplus(root, rows),
        _check_faces(root),
        _check_optional(root, by_name["CK+48"], "labels.csv", "To include it: " + cohn_kanade.OBTAIN_INSTRUCTIONS),
        _check_optional(root, by_name["YuNet face detector"], "", YUNET_INSTRUCTIONS),
    ]


def notebook_readiness(items: list[CheckItem]) -> list[tuple[str, str, str]]:
    """Per notebook of :data:`NOTEBOOKS`: ``(name, data sets it reads, "ready" / what is skipped / why it cannot
    run)``, from the items of :func:`check_data`."""
    status = {item.name: item for item in items}
    rows = []
    for notebook in NOTEBOOKS:
        sets = [data_set for data_set in DATA_SETS if notebook in data_set.notebooks]
        reads = ", ".join(data_set.name + ("" if data_set.required else " (optional)") for data_set in sets)
        blocking = [data_set.name for data_set in sets if data_set.required and not status[data_set.name].ok]
        skipping = [data_set.name for data_set in sets if not data_set.required and not status[data_set.name].ok]
        if blocking:
            verdict = "cannot run without " + ", ".join(blocking) + " (see MISSING above)"
        elif skipping:
            verdict = "runs without " + ", ".join(skipping) + " (see skip above)"
        else:
            verdict = "ready"
        rows.append((notebook, reads or "no data set (reads results/ only)", verdict))
    return rows


def blocked_notebooks(items: list[CheckItem]) -> list[str]:
    """The notebooks (:data:`NOTEBOOKS`) that cannot run because a required data set of theirs failed the check."""
    return [name for name, _, verdict in notebook_readiness(items) if verdict.startswith("cannot run")]


def format_report(root: Path, items: list[CheckItem]) -> str:
    """Return the human-readable report of :func:`check_data`: one block per data set, then one line per notebook."""
    lines = [f"Data root: {root}  (set {DATA_ENV_VAR} to change it)"]
    notebooks = {data_set.name: data_set.notebooks for data_set in DATA_SETS}
    for item in items:
        mark = "ok " if item.ok else ("MISSING" if item.required else "skip")
        role = "required" if item.required else "optional"
        detail = item.detail.replace("\n", "\n        ")
        lines.append(f"[{mark}] {item.name} ({role}; {_notebook_numbers(notebooks[item.name])}): {item.path}\n"
                     f"        {detail}")
    lines.append("\nNotebooks (the data sets each reads: status):")
    readiness = notebook_readiness(items)
    name_width, reads_width = (max(len(row[column]) for row in readiness) for column in (0, 1))
    lines += [f"  {name:<{name_width}}  {reads + ':':<{reads_width + 1}}  {verdict}"
              for name, reads, verdict in readiness]
    return "\n".join(lines)


def missing_ckplus_note(root: Path | None = None) -> str | None:
    """The sentence notebook 06 shows instead of its CK+48 section when ``root/ckplus48/labels.csv`` (default root:
    :func:`emotion.paths.data_root`) does not exist; ``None`` when it does."""
    root = Path(root) if root is not None else data_root()
    labels = root / "ckplus48" / "labels.csv"
    if labels.is_file():
        return None
    return (f"**Skipped: CK+48 is not in the data folder** (no ckplus48/labels.csv under {DATA_ENV_VAR} = {root}), "
            f"so this section is skipped and the notebook leaves out {CKPLUS_LEFT_OUT}; nothing else in it needs "
            f"CK+48. {cohn_kanade.OBTAIN_INSTRUCTIONS} Then `python -m emotion check-data` reports it present and this "
            "notebook includes the section.")
