"""``check-data``: which notebook reads which data set (kept true against the notebooks' code), required sets stop
the run, optional ones say what is skipped; and notebook 06 runs without CK+48, saying why."""

from __future__ import annotations

import hashlib
import json
import re
from pathlib import Path

import nbformat
import pytest

from emotion.app.cli import main
from emotion.data import datacheck
from emotion.errors import DataFormatError, DataMissingError
from emotion.paths import NOTEBOOKS_DIR
from emotion.study.notebooks import run_notebook, study_notebooks

READS = {
    "FER2013": r"\bload_fer2013\(",
    "FER+ votes": r"\bload_ferplus_votes\(",
    "WIDER FACE val subset": r'data_root\(\) / "faces"',
    "CK+48": r"\bload_ckplus\(",
    "YuNet face detector": r'"yunet"|\bEmotionPipeline\(',
}
"""What in a notebook's code reads each data set: the loader, or the detector that needs the YuNet file."""


def code_of(notebook: Path) -> str:
    return "\n".join(cell.source for cell in nbformat.read(notebook, as_version=4).cells if cell.cell_type == "code")


def test_the_table_of_data_sets_matches_what_each_notebook_reads():
    assert [path.stem for path in study_notebooks()] == list(datacheck.NOTEBOOKS)
    assert [data_set.name for data_set in datacheck.DATA_SETS] == list(READS)
    for notebook in study_notebooks():
        code = code_of(notebook)
        read = [name for name, pattern in READS.items() if re.search(pattern, code)]
        listed = [data_set.name for data_set in datacheck.DATA_SETS if notebook.stem in data_set.notebooks]
        assert read == listed, f"{notebook.name} reads {read}, datacheck.DATA_SETS says {listed}"


def test_the_ckplus_section_named_in_the_skip_line_is_notebook_06s():
    headings = [cell.source.splitlines()[0] for cell in nbformat.read(NOTEBOOKS_DIR / "06_evaluation.ipynb", 4).cells
                if cell.cell_type == "markdown" and cell.source.startswith("## ")]
    assert f"## {datacheck.CKPLUS_SECTION}" in headings


def test_an_empty_data_root_stops_with_instructions_and_names_the_blocked_notebooks(tmp_path, capsys):
    assert main(["check-data", "--data", str(tmp_path)]) == 1
    captured = capsys.readouterr()
    for name in ("FER2013", "FER+ votes", "WIDER FACE val subset"):
        assert f"[MISSING] {name} (required" in captured.out
    assert "build-wider-subset --wider-val" in captured.out and "WIDER_val.zip" in captured.out
    assert "[skip] CK+48 (optional; notebook 06)" in captured.out and datacheck.CKPLUS_SECTION in captured.out
    assert "[skip] YuNet face detector" in captured.out
    assert re.search(r"02_face_detectors .*cannot run without WIDER FACE val subset", captured.out)
    assert re.search(r"04_methodology_review .*ready", captured.out)
    assert "Notebooks 01, 02, 03, 05, 06, 07 cannot run" in captured.err


def test_missing_ckplus_note_says_why_and_how_and_is_silent_when_present(tmp_path):
    note = datacheck.missing_ckplus_note(tmp_path)
    assert note.startswith("**Skipped: CK+48 is not in the data folder**")
    assert f"no ckplus48/labels.csv under EMOTION_DATA = {tmp_path}" in note
    assert "this section is skipped" in note and datacheck.CKPLUS_LEFT_OUT in note and "on request" in note
    (tmp_path / "ckplus48").mkdir()
    (tmp_path / "ckplus48" / "labels.csv").write_text("path,label,subject\n")
    assert datacheck.missing_ckplus_note(tmp_path) is None


def write_small_subset(folder: Path) -> Path:
    """A two-image folder and its image list, for the verification's failure cases."""
    images = {"a.jpg": b"first", "b.jpg": b"second"}
    (folder / "images").mkdir(parents=True)
    rows = []
    for name, content in images.items():
        (folder / "images" / name).write_bytes(content)
        rows.append((name, "0--Parade", hashlib.sha256(content).hexdigest()))
    listing = folder.parent / "list.csv"
    listing.write_text("image,event,sha256\n" + "".join(",".join(row) + "\n" for row in rows))
    (folder / "images.csv").write_text("image,event,width,height,faces,sha256\n"
                                       + "".join(f"{name},{event},1,1,1,{digest}\n" for name, event, digest in rows))
    (folder / "annotations.csv").write_text("image,x,y,w,h,difficulty_or_attrs\n")
    return listing


def test_folder_verification_catches_changed_missing_and_foreign_images(tmp_path):
    folder = tmp_path / "faces"
    listing = write_small_subset(folder)
    assert datacheck.verify_wider_subset(folder, listing) == "2 images, sha256 verified; 0 faces in annotations.csv"
    (folder / "images" / "b.jpg").write_bytes(b"other")
    with pytest.raises(DataFormatError, match="1 image.*differ.*b.jpg"):
        datacheck.verify_wider_subset(folder, listing)
    (folder / "images" / "b.jpg").unlink()
    with pytest.raises(DataMissingError, match="1 of the 2 images are missing.*b.jpg"):
        datacheck.verify_wider_subset(folder, listing)
    listing.write_text(listing.read_text().replace("b.jpg", "c.jpg"))
    with pytest.raises(DataFormatError, match="not the study's"):
        datacheck.verify_wider_subset(folder, listing)
    (folder / "annotations.csv").unlink()
    with pytest.raises(DataMissingError, match="annotations.csv does not exist"):
        datacheck.verify_wider_subset(folder, listing)


def linked_root(real_data_root: Path, folder: Path, leave_out: str) -> Path:
    """A data root of symlinks to everything in the real one except ``leave_out``."""
    folder.mkdir()
    for entry in real_data_root.iterdir():
        if entry.name != leave_out:
            (folder / entry.name).symlink_to(entry)
    return folder


def test_the_real_data_passes(real_data_root, capsys):
    assert main(["check-data", "--data", str(real_data_root)]) == 0
    out = capsys.readouterr().out
    assert "[ok ] WIDER FACE val subset (required; notebooks 02, 07)" in out and "700 images, sha256 verified" in out
    assert "[MISSING]" not in out and "[skip]" not in out


def test_without_ckplus_the_check_passes_and_says_what_is_skipped(real_data_root, tmp_path, capsys):
    root = linked_root(real_data_root, tmp_path / "root", "ckplus48")
    assert main(["check-data", "--data", str(root)]) == 0
    out = capsys.readouterr().out
    assert "[skip] CK+48" in out and "To include it: CK+ (Lucey et al., 2010)" in out
    assert re.search(r"06_evaluation .*runs without CK\+48", out)


def test_without_faces_or_with_a_changed_image_the_check_fails(real_data_root, tmp_path, capsys):
    root = linked_root(real_data_root, tmp_path / "root", "faces")
    assert main(["check-data", "--data", str(root)]) == 1
    assert "[MISSING] WIDER FACE val subset" in capsys.readouterr().out
    faces = root / "faces"
    (faces / "images").mkdir(parents=True)
    for name in ("images.csv", "annotations.csv"):
        (faces / name).symlink_to(real_data_root / "faces" / name)
    images = sorted((real_data_root / "faces" / "images").iterdir())
    for image in images[1:]:
        (faces / "images" / image.name).symlink_to(image)
    (faces / "images" / images[0].name).write_bytes(images[0].read_bytes()[:-10])
    assert main(["check-data", "--data", str(root)]) == 1
    out = capsys.readouterr().out
    assert "[MISSING] WIDER FACE val subset" in out and "malformed: 1 image(s)" in out and images[0].name in out


@pytest.mark.notebooks
def test_notebook_05_runs_without_ckplus_and_says_why(real_data_root, tmp_path, monkeypatch):
    root = linked_root(real_data_root, tmp_path / "root", "ckplus48")
    monkeypatch.setenv("EMOTION_DATA", str(root))
    run = run_notebook(NOTEBOOKS_DIR / "06_evaluation.ipynb", "smoke", output_root=tmp_path / "out")
    executed = nbformat.read(run.output, as_version=4)
    assert not [output for cell in executed.cells if cell.cell_type == "code" for output in cell.get("outputs", [])
                if output.get("output_type") == "error"]
    shown = json.dumps([cell.get("outputs", []) for cell in executed.cells if cell.cell_type == "code"])
    assert "Skipped: CK+48 is not in the data folder" in shown and "on request" in shown
    results = json.loads((tmp_path / "out" / "results" / "06_evaluation.json").read_text())
    assert results["ckplus"] == {} and "Skipped" in results["ckplus_skipped"]
    assert not [row for row in results["headline"] if "CK+48" in row["quantity"]]
