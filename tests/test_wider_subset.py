"""The WIDER FACE subset: its selection rule, the files rebuilt from the official .mat files, the end-to-end
``build-wider-subset`` command on a fake download, and the errors for a bad download."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest

from emotion.app.cli import main
from emotion.data import wider_subset
from emotion.errors import ConfigurationError, DataFormatError, DataMissingError


def test_quotas_follow_the_rule_with_exact_fractions_and_ties_to_the_earlier_event():
    # 10 x 45/100 = 4.5 and 10 x 35/100 = 3.5 tie for the one free slot: the earlier event takes it.
    assert wider_subset.event_quotas([45, 35, 20], target=10, minimum=1) == [5, 3, 2]
    # The minimum lifts an event (1.8 -> 2), which then takes no extra slot.
    assert wider_subset.event_quotas([9, 46, 45], target=20, minimum=2) == [2, 9, 9]
    with pytest.raises(ValueError, match="cannot take"):
        wider_subset.event_quotas([2, 50], target=10, minimum=3)


def test_selection_ranks_by_the_seeded_sha256_and_keeps_file_order():
    names = [f"img_{index}" for index in range(6)]
    expected = sorted(names, key=lambda name: hashlib.sha256(f"wider-val-subset-v1:{name}".encode()).hexdigest())[:2]
    chosen = wider_subset.select_subset([("1--A", names), ("2--B", list("uvwxyz"))], target=4, minimum=1)
    assert chosen[:2] == [("1--A", name) for name in names if name in expected]
    assert [event for event, _ in chosen] == ["1--A", "1--A", "2--B", "2--B"]


def test_the_committed_image_list_is_well_formed():
    listed = wider_subset.read_image_list()
    assert len(listed) == wider_subset.SUBSET_SIZE
    assert len({entry.event for entry in listed}) == 61


@pytest.fixture(scope="module")
def real_faces(real_data_root: Path) -> Path:
    folder = real_data_root / "faces"
    if not (folder / "widerface_eval" / "wider_face_val.mat").is_file():
        pytest.skip(f"real-data test: {folder} has no widerface_eval/wider_face_val.mat")
    return folder


@pytest.fixture(scope="module")
def ground_truth(real_faces: Path):
    evaluation = real_faces / "widerface_eval"
    return wider_subset.read_ground_truth({key: evaluation / name
                                           for key, name in wider_subset.GROUND_TRUTH_FILES.items()})


def test_the_rule_on_the_full_validation_list_gives_exactly_the_700_images(real_faces, ground_truth):
    selected = wider_subset.select_subset(wider_subset.events_in_order(ground_truth))
    table = (real_faces / "images.csv").read_text().splitlines()[1:]
    assert len(ground_truth) == 3226
    assert [f"{name}.jpg,{event}" for event, name in selected] == [",".join(row.split(",")[:2]) for row in table]
    assert [(entry.image, entry.event) for entry in wider_subset.read_image_list()] == [
        (f"{name}.jpg", event) for event, name in selected]


def test_annotations_and_the_ground_truth_text_are_rebuilt_byte_for_byte(real_faces, ground_truth):
    by_key = {(image.event, image.name): image for image in ground_truth}
    chosen = [by_key[key] for key in wider_subset.select_subset(wider_subset.events_in_order(ground_truth))]
    assert wider_subset.annotations_text(chosen) == (real_faces / "annotations.csv").read_text()
    assert wider_subset.bbx_gt_text(ground_truth) == (
        real_faces / "widerface_eval" / "wider_face_val_bbx_gt.txt").read_text()


def make_download(real_faces: Path, root: Path, replaced: dict[str, bytes] | None = None,
                  left_out: str | None = None) -> tuple[Path, list[Path]]:
    """A fake official download from symlinks: ``root/wider/WIDER_val/images/<event>/<file>.jpg``,
    ``root/wider_face_split/{wider_face_val.mat,readme.txt}`` and ``root/eval_tools/ground_truth/*.mat``.
    ``replaced`` gives some images other bytes; ``left_out`` drops one image."""
    for entry in wider_subset.read_image_list():
        if entry.image == left_out:
            continue
        target = root / "wider" / "WIDER_val" / "images" / entry.event / entry.image
        target.parent.mkdir(parents=True, exist_ok=True)
        if replaced and entry.image in replaced:
            target.write_bytes(replaced[entry.image])
        else:
            target.symlink_to(real_faces / "images" / entry.image)
    evaluation = real_faces / "widerface_eval"
    split, tools = root / "wider_face_split", root / "eval_tools" / "ground_truth"
    split.mkdir()
    tools.mkdir(parents=True)
    (split / "wider_face_val.mat").symlink_to(evaluation / "wider_face_val.mat")
    (split / "readme.txt").symlink_to(evaluation / "wider_face_split_readme.txt")
    for level in wider_subset.LEVELS:
        (tools / f"wider_{level}_val.mat").symlink_to(evaluation / f"wider_{level}_val.mat")
    return root / "wider", [split, root / "eval_tools"]


def leftovers(folder: Path) -> list[str]:
    return sorted(path.name for path in folder.iterdir() if ".partial-" in path.name or ".old-" in path.name)


def test_build_on_a_fake_download_reproduces_the_study_folder(real_faces, tmp_path, capsys):
    wider, truth = make_download(real_faces, tmp_path / "download")
    out = tmp_path / "data" / "faces"
    arguments = ["build-wider-subset", "--wider-val", str(wider), "--ground-truth", *map(str, truth), "--out", str(out)]
    assert main(arguments) == 0
    assert "700 images" in capsys.readouterr().out
    for relative in ("images.csv", "annotations.csv", "widerface_eval/wider_face_val_bbx_gt.txt",
                     "widerface_eval/subset_images.txt", "widerface_eval/wider_face_split_readme.txt",
                     *(f"widerface_eval/{name}" for name in wider_subset.GROUND_TRUTH_FILES.values())):
        assert (out / relative).read_bytes() == (real_faces / relative).read_bytes(), relative
    assert sorted(path.name for path in (out / "images").iterdir()) == sorted(
        path.name for path in (real_faces / "images").iterdir())
    for image in (out / "images").iterdir():
        assert image.read_bytes() == (real_faces / "images" / image.name).read_bytes(), image.name

    assert main(arguments) == 1, "an existing folder is not overwritten without --replace"
    assert "already exists" in capsys.readouterr().err
    assert main(arguments + ["--replace"]) == 0
    assert leftovers(out.parent) == []


def test_a_changed_image_is_named_and_nothing_is_written(real_faces, tmp_path):
    name = wider_subset.read_image_list()[5].image
    damaged = bytearray((real_faces / "images" / name).read_bytes())
    damaged[len(damaged) // 2] ^= 0xFF
    wider, truth = make_download(real_faces, tmp_path / "download", replaced={name: bytes(damaged)})
    out = tmp_path / "data" / "faces"
    with pytest.raises(DataFormatError, match="differ from the official bytes") as raised:
        wider_subset.build_wider_subset(wider, truth, out)
    assert name in str(raised.value) and "download it again" in str(raised.value)
    assert not out.parent.exists() or (not out.exists() and leftovers(out.parent) == [])


def test_missing_inputs_say_what_and_where(real_faces, tmp_path):
    name = wider_subset.read_image_list()[0].image
    wider, truth = make_download(real_faces, tmp_path / "download", left_out=name)
    out = tmp_path / "faces"
    with pytest.raises(DataMissingError, match=f"1 of the subset's 700 images are missing, first: .*{name}"):
        wider_subset.build_wider_subset(wider, truth, out)
    with pytest.raises(DataMissingError, match="no WIDER FACE validation images"):
        wider_subset.build_wider_subset(tmp_path / "nowhere", truth, out)
    (truth[1] / "ground_truth" / "wider_hard_val.mat").unlink()
    with pytest.raises(DataMissingError, match="wider_hard_val.mat not found below"):
        wider_subset.build_wider_subset(wider, truth, out)
    assert not out.exists()


def test_a_failure_after_writing_began_leaves_nothing_behind(real_faces, tmp_path, monkeypatch):
    wider, truth = make_download(real_faces, tmp_path / "download")
    monkeypatch.setitem(wider_subset.STUDY_SHA256, "annotations.csv", "0" * 64)
    out = tmp_path / "data" / "faces"
    with pytest.raises(DataFormatError, match="rebuilt annotations.csv differs"):
        wider_subset.build_wider_subset(wider, truth, out)
    assert not out.exists() and leftovers(out.parent) == []


def test_an_output_folder_that_cannot_be_created_is_a_clear_error(real_faces, tmp_path):
    wider, truth = make_download(real_faces, tmp_path / "download")
    (tmp_path / "a_file").write_text("not a folder")
    with pytest.raises(ConfigurationError, match="cannot write in"):
        wider_subset.build_wider_subset(wider, truth, tmp_path / "a_file" / "faces")
