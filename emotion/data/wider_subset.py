"""The study's 700-image WIDER FACE validation subset (``$EMOTION_DATA/faces``): its definition, and its rebuild from
the official WIDER FACE downloads (``python -m emotion build-wider-subset``).

The subset is defined by a rule, and its result is committed as ``data/wider_subset_images.csv`` (``image,event,
sha256``: names and checksums only, no images):

1. **Quotas.** Each of the 61 events of ``wider_face_val.mat`` gets ``floor(700 x event_size / 3226)`` images, at least
   :data:`MINIMUM_PER_EVENT`; the slots still free go one each to the events with the largest fractional parts
   (ties: the event that comes first in the .mat).
2. **Ranking.** Within an event, images are ranked by ``sha256("wider-val-subset-v1:" + name)`` (hex, ascending; the
   name without ``.jpg``) and the first ``quota`` are taken. No random-number library is involved.

The folder it writes (see ``$EMOTION_DATA/faces/SOURCE.md`` for the study's copy):

- ``images/<name>.jpg``: the JPEG bytes unchanged;
- ``images.csv``: ``image,event,width,height,faces,sha256``, one row per image in .mat order (event, then file);
- ``annotations.csv``: ``image,x,y,w,h,difficulty_or_attrs``, one row per face of those images in .mat order (event,
  file, then ``idx``); boxes as in ``face_bbx_list``; ``difficulty_or_attrs`` = ``idx=..;blur=..;expression=..;
  illumination=..;invalid=..;occlusion=..;pose=..;easy=..;medium=..;hard=..`` where ``idx`` is the 1-based position
  in the image's list, the six labels come from ``*_label_list`` and a level is 1 when ``idx`` is in that level's
  ``gt_list``;
- ``widerface_eval/``: the four .mat files as given, ``wider_face_val_bbx_gt.txt`` (the official text format,
  regenerated for the **full** split from ``wider_face_val.mat``), ``subset_images.txt`` (``event/name.jpg``) and the
  split's ``readme.txt`` as ``wider_face_split_readme.txt`` when it lies beside ``wider_face_val.mat``.
"""

from __future__ import annotations

import csv
import dataclasses
import hashlib
import io
import os
import re
import shutil
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Sequence

import numpy as np

from emotion.data.wider_face import ANNOTATION_HEADER, ATTRIBUTE_KEYS, IMAGES_HEADER, LEVELS
from emotion.errors import ConfigurationError, DataFormatError, DataMissingError
from emotion.paths import PROJECT_ROOT

SUBSET_SIZE = 700
"""Images in the subset."""
MINIMUM_PER_EVENT = 3
"""No event gets fewer images than this."""
SELECTION_SEED = "wider-val-subset-v1"
"""The prefix hashed with each file name to rank the images of an event."""
IMAGE_LIST = PROJECT_ROOT / "data" / "wider_subset_images.csv"
"""The committed list of the subset's images: ``image,event,sha256`` (sha256 of the JPEG bytes)."""
IMAGE_LIST_HEADER = ["image", "event", "sha256"]
LABEL_KEYS = ATTRIBUTE_KEYS[1:-len(LEVELS)]
"""The per-face labels of ``wider_face_val.mat`` (``<key>_label_list``: blur, expression, illumination, invalid,
occlusion, pose), in the official text file's column order."""
GROUND_TRUTH_FILES = {"val": "wider_face_val.mat", "easy": "wider_easy_val.mat", "medium": "wider_medium_val.mat",
                      "hard": "wider_hard_val.mat"}
"""The ground truth the rebuild reads: the split's file and the evaluation code's three level files."""
SPLIT_README = "readme.txt"
"""The attribute legend shipped beside ``wider_face_val.mat`` in wider_face_split.zip; copied when present."""
STUDY_SHA256 = {
    "images.csv": "c856f0b910e99bd7afb8e35558dfafe0c9be4236e602bf5e40f7498603311dd9",
    "annotations.csv": "d85d4e1cb003a37ce708be223b6bc72568ad83e0177f9405652d8c679fffeeb6",
    "widerface_eval/wider_face_val_bbx_gt.txt": "1334686fc7612437699131d1e08fb0b42bbd6a452a111433840abfa0b80d7e98",
    "widerface_eval/subset_images.txt": "1524442efd3bf56b1360462e283606566e55d49ae784ac6e118158fec439f309",
}
"""sha256 of the files the study's copy of the folder holds (its SOURCE.md); a rebuild must reproduce them."""

OBTAIN_INSTRUCTIONS = """\
WIDER FACE (Yang et al., "WIDER FACE: A Face Detection Benchmark", CVPR 2016; non-commercial research use) is
published at http://shuoyang1213.me/WIDERFACE/. Download from there
    WIDER_val.zip            the validation images (WIDER_val/images/<event>/<file>.jpg)
    wider_face_split.zip     the face annotations (wider_face_split/wider_face_val.mat and readme.txt)
    eval_tools.zip           the evaluation code (ground_truth/wider_{easy,medium,hard}_val.mat)
unzip them, and build the study's 700-image subset (listed with checksums in data/wider_subset_images.csv) with
    python -m emotion build-wider-subset --wider-val <folder holding WIDER_val/> \\
        --ground-truth <folder(s) holding the .mat files> --out $EMOTION_DATA/faces
(EMOTION_DATA defaults to data/raw in the project). Then run `python -m emotion check-data` again."""


@dataclass(frozen=True)
class ImageTruth:
    """The ground truth of one WIDER FACE validation image.

    Attributes:
        event: the event folder, e.g. ``0--Parade``.
        name: the file name without ``.jpg``.
        boxes: int64 (k, 4): ``x, y, w, h`` per face, as in ``face_bbx_list``.
        labels: int64 (k, 6): the :data:`LABEL_KEYS` per face.
        levels: level -> the 1-based face positions in that level's ``gt_list``.
    """

    event: str
    name: str
    boxes: np.ndarray
    labels: np.ndarray
    levels: dict[str, frozenset[int]]


@dataclass(frozen=True)
class ListedImage:
    """One row of :data:`IMAGE_LIST`."""

    image: str
    event: str
    sha256: str


@dataclass(frozen=True)
class BuildSummary:
    """What :func:`build_wider_subset` wrote."""

    folder: Path
    images: int
    faces: int
    image_bytes: int
    readme_copied: bool


def sha256_of_file(path: Path | str) -> str:
    """Hex sha256 of a file's bytes, read in 1 MiB blocks."""
    digest = hashlib.sha256()
    with Path(path).open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def event_quotas(sizes: Sequence[int], target: int = SUBSET_SIZE, minimum: int = MINIMUM_PER_EVENT) -> list[int]:
    """Images per event: ``floor(target x size / total)``, at least ``minimum``; the slots left go one each to the
    events with the largest fractional parts (computed exactly; ties go to the earlier event). Events raised to the
    minimum take no extra slot.

    Raises:
        ValueError: an event is empty, or ``target`` cannot be met (more than the images, or less than the minimums).
    """
    total = sum(sizes)
    if not sizes or min(sizes) < 1:
        raise ValueError(f"every event needs at least one image; got sizes {list(sizes)}.")
    if target > total or minimum * len(sizes) > target or min(sizes) < minimum:
        raise ValueError(f"cannot take {target} images, at least {minimum} per event, from events of sizes "
                         f"{list(sizes)}.")
    floors = [target * size // total for size in sizes]
    quotas = [max(minimum, share) for share in floors]
    left = target - sum(quotas)
    if left < 0:
        raise ValueError(f"the minimum of {minimum} per event already exceeds {target} images.")
    candidates = [index for index, share in enumerate(floors) if share >= minimum and quotas[index] < sizes[index]]
    by_fraction = sorted(candidates, key=lambda index: (-(target * sizes[index] % total), index))
    for index in by_fraction[:left]:
        quotas[index] += 1
    return quotas


def rank_key(name: str, seed: str = SELECTION_SEED) -> str:
    """The ranking key of an image within its event: ``sha256(seed + ":" + name)`` in hex (``name`` without
    ``.jpg``)."""
    return hashlib.sha256(f"{seed}:{name}".encode()).hexdigest()


def select_subset(events: Sequence[tuple[str, Sequence[str]]], target: int = SUBSET_SIZE,
                  minimum: int = MINIMUM_PER_EVENT, seed: str = SELECTION_SEED) -> list[tuple[str, str]]:
    """Apply the subset rule (module docstring) to ``[(event, [file names without .jpg])]`` in .mat order.

    Returns:
        ``[(event, name)]``, the chosen images in .mat order (event, then file).

    Raises:
        ValueError: see :func:`event_quotas`.
    """
    quotas = event_quotas([len(names) for _, names in events], target, minimum)
    chosen = []
    for (event, names), quota in zip(events, quotas):
        taken = set(sorted(names, key=lambda name: rank_key(name, seed))[:quota])
        chosen += [(event, name) for name in names if name in taken]
    return chosen


def _cell_strings(cells: np.ndarray, path: Path, what: str) -> list[str]:
    try:
        return [str(np.asarray(cell).ravel()[0]) for cell in np.asarray(cells).ravel()]
    except (IndexError, TypeError, ValueError) as error:
        raise DataFormatError(f"{path}: {what} is not a list of strings as in the official file ({error}).") from error


def _read_mat(path: Path, keys: Sequence[str]) -> dict[str, np.ndarray]:
    from scipy.io import loadmat

    try:
        contents = loadmat(str(path))
    except Exception as error:  # scipy raises several unrelated types for a damaged file
        raise DataFormatError(f"{path}: not a readable MATLAB .mat file ({type(error).__name__}: {error}). Download "
                              f"it again.\n{OBTAIN_INSTRUCTIONS}") from error
    missing = [key for key in keys if key not in contents]
    if missing:
        raise DataFormatError(f"{path}: lacks the variable(s) {', '.join(missing)}; is it the official "
                              f"{path.name}?\n{OBTAIN_INSTRUCTIONS}")
    return contents


def read_ground_truth(files: dict[str, Path]) -> list[ImageTruth]:
    """Read the validation ground truth.

    Args:
        files: :data:`GROUND_TRUTH_FILES`' keys (``val``, ``easy``, ``medium``, ``hard``) -> their paths.

    Returns:
        One :class:`ImageTruth` per image (3,226 for the official files), in .mat order.

    Raises:
        DataMissingError: a file is absent.
        DataFormatError: a file is not a .mat file, lacks a variable, or a level file lists other images or boxes
            than ``wider_face_val.mat`` (the message names the file and the image).
    """
    for key, path in files.items():
        if not Path(path).is_file():
            raise DataMissingError(f"{path}: no such file ({GROUND_TRUTH_FILES[key]}).\n{OBTAIN_INSTRUCTIONS}")
    val_path = Path(files["val"])
    label_keys = [f"{key}_label_list" for key in LABEL_KEYS]
    val = _read_mat(val_path, ["event_list", "file_list", "face_bbx_list", *label_keys])
    images = []
    for event_index, event in enumerate(_cell_strings(val["event_list"], val_path, "event_list")):
        names = _cell_strings(val["file_list"][event_index][0], val_path, f"file_list of {event}")
        for file_index, name in enumerate(names):
            boxes = np.asarray(val["face_bbx_list"][event_index][0][file_index][0], dtype=np.int64).reshape(-1, 4)
            labels = np.column_stack([
                np.asarray(val[key][event_index][0][file_index][0], dtype=np.int64).reshape(-1) for key in label_keys])
            if len(labels) != len(boxes):
                raise DataFormatError(f"{val_path}: {event}/{name}.jpg has {len(boxes)} boxes but {len(labels)} label "
                                      "rows.")
            images.append((event, name, boxes, labels.reshape(-1, len(LABEL_KEYS))))
    levels: list[dict[str, frozenset[int]]] = [{} for _ in images]
    for level in LEVELS:
        level_path = Path(files[level])
        contents = _read_mat(level_path, ["event_list", "file_list", "face_bbx_list", "gt_list"])
        position = 0
        for event_index, event in enumerate(_cell_strings(contents["event_list"], level_path, "event_list")):
            names = _cell_strings(contents["file_list"][event_index][0], level_path, f"file_list of {event}")
            for file_index, name in enumerate(names):
                boxes = np.asarray(contents["face_bbx_list"][event_index][0][file_index][0], dtype=np.int64)
                if position >= len(images) or images[position][:2] != (event, name) or not np.array_equal(
                        boxes.reshape(-1, 4), images[position][2]):
                    raise DataFormatError(f"{level_path}: {event}/{name}.jpg (image {position + 1}) does not match "
                                          f"{val_path.name}'s list of images and boxes; both files must come from the "
                                          f"official WIDER FACE release.\n{OBTAIN_INSTRUCTIONS}")
                indices = np.asarray(contents["gt_list"][event_index][0][file_index][0], dtype=np.int64).reshape(-1)
                levels[position][level] = frozenset(int(index) for index in indices)
                position += 1
        if position != len(images):
            raise DataFormatError(f"{level_path}: lists {position} images, {val_path.name} {len(images)}.")
    return [ImageTruth(*image, levels=image_levels) for image, image_levels in zip(images, levels)]


def events_in_order(truth: Sequence[ImageTruth]) -> list[tuple[str, list[str]]]:
    """``[(event, [names])]`` in .mat order, the input of :func:`select_subset`."""
    events: dict[str, list[str]] = {}
    for image in truth:
        events.setdefault(image.event, []).append(image.name)
    return list(events.items())


def _csv_text(header: Sequence[str], rows: Sequence[Sequence[object]]) -> str:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(header)
    writer.writerows(rows)
    return buffer.getvalue()


def annotations_text(truth: Sequence[ImageTruth]) -> str:
    """``annotations.csv`` for the images in ``truth`` (their order kept), as the module docstring describes."""
    rows = []
    for image in truth:
        for index, (box, labels) in enumerate(zip(image.boxes, image.labels), start=1):
            attributes = [f"idx={index}"] + [f"{key}={int(value)}" for key, value in zip(LABEL_KEYS, labels)]
            attributes += [f"{level}={int(index in image.levels.get(level, ()))}" for level in LEVELS]
            rows.append([f"{image.name}.jpg", *map(int, box), ";".join(attributes)])
    return _csv_text(ANNOTATION_HEADER, rows)


def bbx_gt_text(truth: Sequence[ImageTruth]) -> str:
    """``wider_face_val_bbx_gt.txt`` in the official format: ``event/name.jpg``, the face count, then per face
    ``x y w h blur expression illumination invalid occlusion pose `` (trailing space)."""
    lines = []
    for image in truth:
        lines += [f"{image.event}/{image.name}.jpg", str(len(image.boxes))]
        lines += ["".join(f"{int(value)} " for value in (*box, *labels))
                  for box, labels in zip(image.boxes, image.labels)]
    return "\n".join(lines) + "\n"


def read_image_list(path: Path | str = IMAGE_LIST) -> list[ListedImage]:
    """Read the committed list of the subset's images.

    Raises:
        DataMissingError: the file is absent.
        DataFormatError: wrong header, a row without three fields, a sha256 that is not 64 hex digits, or a repeated
            image (file and line named).
    """
    path = Path(path)
    if not path.is_file():
        raise DataMissingError(f"{path}: no such file; it is part of the repository (restore it with git).")
    listed, seen = [], set()
    with path.open(newline="") as handle:
        reader = csv.reader(handle)
        header = next(reader, None)
        if header != IMAGE_LIST_HEADER:
            raise DataFormatError(f"{path}, line 1: header must be {','.join(IMAGE_LIST_HEADER)}, got {header}.")
        for line, fields in enumerate(reader, start=2):
            if len(fields) != 3 or not re.fullmatch(r"[0-9a-f]{64}", fields[2]) or fields[0] in seen:
                raise DataFormatError(f"{path}, line {line}: expected image,event,sha256 (64 hex digits) with each "
                                      f"image once, got {fields}.")
            seen.add(fields[0])
            listed.append(ListedImage(*fields))
    return listed


def find_images_folder(wider_val: Path | str) -> Path:
    """The folder holding ``<event>/<file>.jpg`` inside an unzipped WIDER_val.zip: ``wider_val`` may be the folder
    that contains ``WIDER_val/``, ``WIDER_val/`` itself, or ``WIDER_val/images/``.

    Raises:
        DataMissingError: none of these exists (the message says what was expected).
    """
    wider_val = Path(wider_val)
    for candidate in (wider_val / "WIDER_val" / "images", wider_val / "images", wider_val):
        if candidate.is_dir() and any(path.is_dir() and "--" in path.name for path in candidate.iterdir()):
            return candidate
    raise DataMissingError(f"{wider_val}: no WIDER FACE validation images there; expected "
                           f"{wider_val / 'WIDER_val' / 'images'}/<event>/<file>.jpg (e.g. 0--Parade/"
                           f"0_Parade_Parade_0_628.jpg), as WIDER_val.zip unzips.\n{OBTAIN_INSTRUCTIONS}")


def find_ground_truth(folders: Sequence[Path | str]) -> tuple[dict[str, Path], Path | None]:
    """Find :data:`GROUND_TRUTH_FILES` anywhere below ``folders`` (e.g. an unzipped wider_face_split/ and
    eval_tools/), and the split's ``readme.txt`` beside ``wider_face_val.mat``.

    Returns:
        ``({key: path}, readme or None)``.

    Raises:
        DataMissingError: a folder does not exist, or a file is found nowhere (all missing ones named).
        DataFormatError: copies of one file found in two places differ.
    """
    found: dict[str, list[Path]] = {key: [] for key in GROUND_TRUTH_FILES}
    for folder in map(Path, folders):
        if not folder.is_dir():
            raise DataMissingError(f"{folder}: no such folder to search for the ground-truth .mat files.\n"
                                   f"{OBTAIN_INSTRUCTIONS}")
        for key, name in GROUND_TRUTH_FILES.items():
            found[key] += sorted(folder.rglob(name))
    missing = [GROUND_TRUTH_FILES[key] for key, paths in found.items() if not paths]
    if missing:
        raise DataMissingError(f"{', '.join(missing)} not found below {', '.join(map(str, folders))}.\n"
                               f"{OBTAIN_INSTRUCTIONS}")
    for key, paths in found.items():
        if len({sha256_of_file(path) for path in paths}) > 1:
            raise DataFormatError(f"{GROUND_TRUTH_FILES[key]}: the copies {', '.join(map(str, paths))} differ; keep "
                                  "only the one from the official download below the folders searched.")
    with_readme = [path for path in found["val"] if (path.parent / SPLIT_README).is_file()]
    files = {key: paths[0] for key, paths in found.items()}
    if with_readme:
        files["val"] = with_readme[0]
    return files, (with_readme[0].parent / SPLIT_README) if with_readme else None


SOURCE_TEXT = """\
# Face-detection evaluation set: WIDER FACE validation subset (rebuilt)

Built by `python -m emotion build-wider-subset` from the official WIDER FACE validation download (WIDER_val.zip,
wider_face_split.zip's wider_face_val.mat, eval_tools.zip's wider_{easy,medium,hard}_val.mat). The rule that
chooses the 700 images, the columns of images.csv and annotations.csv, and how widerface_eval/ is made are described
in the study's `emotion/data/wider_subset.py` and `docs/data.md`; the images' checksums are in
`data/wider_subset_images.csv`.

WIDER FACE: Shuo Yang, Ping Luo, Chen Change Loy, Xiaoou Tang, "WIDER FACE: A Face Detection Benchmark", CVPR 2016,
http://shuoyang1213.me/WIDERFACE/. Non-commercial research use only; cite the paper.
"""


def build_wider_subset(wider_val: Path | str, ground_truth: Sequence[Path | str], out: Path | str, *,
                       image_list: Path | str = IMAGE_LIST, replace: bool = False,
                       progress: bool | None = None) -> BuildSummary:
    """Rebuild the study's subset folder at ``out`` from the official downloads.

    Everything is written into a temporary folder beside ``out`` and renamed to ``out`` only when every image and
    file has been checked, so a failure leaves nothing half-written.

    Args:
        wider_val: the unzipped WIDER_val.zip (see :func:`find_images_folder`).
        ground_truth: folders holding the four .mat files (see :func:`find_ground_truth`).
        out: the folder to create, normally ``$EMOTION_DATA/faces``.
        image_list: the committed list of images and checksums.
        replace: replace an existing ``out`` (only after the new folder is complete).
        progress: a progress bar over the images (default: when stderr is a terminal).

    Raises:
        ConfigurationError: ``out`` exists and ``replace`` is false, or its parent folder is not writable.
        DataMissingError: the images folder, a .mat file or images of the subset are missing.
        DataFormatError: a .mat file is damaged or not the official one, the rule does not reproduce the committed
            list, an image's sha256 differs from the list, or a rebuilt file differs from the study's.
    """
    out = Path(out).absolute()
    if out.exists() and not replace:
        raise ConfigurationError(f"{out} already exists: remove it, choose another folder, or replace it "
                                 "(build-wider-subset --replace; it is replaced only once the new folder is complete).")
    images_folder = find_images_folder(wider_val)
    files, readme = find_ground_truth(ground_truth)
    truth = read_ground_truth(files)
    listed = read_image_list(image_list)
    selected = select_subset(events_in_order(truth))
    if [(entry.event, entry.image) for entry in listed] != [(event, f"{name}.jpg") for event, name in selected]:
        raise DataFormatError(f"the subset rule applied to {files['val']} does not give the {len(listed)} images of "
                              f"{image_list}: this wider_face_val.mat is not the official validation ground truth.\n"
                              f"{OBTAIN_INSTRUCTIONS}")
    by_name = {(image.event, image.name): image for image in truth}
    chosen = [by_name[key] for key in selected]

    missing, changed = [], []
    for entry in listed:
        source = images_folder / entry.event / entry.image
        if not source.is_file():
            missing.append(source)
        elif sha256_of_file(source) != entry.sha256:
            changed.append(source)
    if missing:
        raise DataMissingError(f"{len(missing)} of the subset's {len(listed)} images are missing, first: {missing[0]}. "
                               f"Unzip the complete WIDER_val.zip there.\n{OBTAIN_INSTRUCTIONS}")
    if changed:
        raise DataFormatError(f"{len(changed)} image(s) differ from the official bytes (sha256 in {image_list}), "
                              f"first: {changed[0]}. The download is damaged or not the official WIDER_val.zip: "
                              f"download it again.\n{OBTAIN_INSTRUCTIONS}")

    try:
        out.parent.mkdir(parents=True, exist_ok=True)
        staging = Path(tempfile.mkdtemp(prefix=f".{out.name}.partial-", dir=out.parent))
    except OSError as error:
        raise ConfigurationError(f"cannot write in {out.parent} ({error.strerror}); choose an output folder you can "
                                 "write to.") from error
    try:
        summary = _write_folder(staging, images_folder, chosen, listed, truth, files, readme, progress)
        for relative, expected in STUDY_SHA256.items():
            if sha256_of_file(staging / relative) != expected:
                raise DataFormatError(f"the rebuilt {relative} differs from the study's (sha256 {expected}): the "
                                      f".mat files {', '.join(str(path) for path in files.values())} are not the "
                                      f"official ones.\n{OBTAIN_INSTRUCTIONS}")
        if out.exists():
            retired = Path(tempfile.mkdtemp(prefix=f".{out.name}.old-", dir=out.parent)) / out.name
            os.replace(out, retired)
            os.replace(staging, out)
            shutil.rmtree(retired.parent)
        else:
            os.replace(staging, out)
    finally:
        if staging.exists():
            shutil.rmtree(staging)
    return dataclasses.replace(summary, folder=out)


def _write_folder(folder: Path, images_folder: Path, chosen: Sequence[ImageTruth], listed: Sequence[ListedImage],
                  truth: Sequence[ImageTruth], files: dict[str, Path], readme: Path | None,
                  progress: bool | None) -> BuildSummary:
    from PIL import Image
    from tqdm import tqdm

    (folder / "images").mkdir()
    rows, total_bytes = [], 0
    show = sys.stderr.isatty() if progress is None else progress
    for image, entry in tqdm(list(zip(chosen, listed)), desc="WIDER subset", unit="image", disable=not show):
        target = folder / "images" / entry.image
        shutil.copyfile(images_folder / entry.event / entry.image, target)
        with Image.open(target) as opened:
            width, height = opened.size
        rows.append([entry.image, entry.event, width, height, len(image.boxes), entry.sha256])
        total_bytes += target.stat().st_size
    (folder / "images.csv").write_text(_csv_text(IMAGES_HEADER, rows))
    (folder / "annotations.csv").write_text(annotations_text(chosen))
    evaluation = folder / "widerface_eval"
    evaluation.mkdir()
    for path in files.values():
        shutil.copyfile(path, evaluation / path.name)
    if readme is not None:
        shutil.copyfile(readme, evaluation / "wider_face_split_readme.txt")
    (evaluation / "wider_face_val_bbx_gt.txt").write_text(bbx_gt_text(truth))
    (evaluation / "subset_images.txt").write_text("".join(f"{entry.event}/{entry.image}\n" for entry in listed))
    (folder / "SOURCE.md").write_text(SOURCE_TEXT)
    return BuildSummary(folder, len(rows), sum(len(image.boxes) for image in chosen), total_bytes, readme is not None)
