"""The AffectNet loader on a small fixture written in AffectNet's official layout."""

import cv2
import numpy as np
import pytest

from emotion.data.affectnet import load_affectnet
from emotion.errors import DataFormatError, DataMissingError

HEADER = ("subDirectory_filePath,face_x,face_y,face_width,face_height,facial_landmarks,expression,valence,arousal")


def landmarks():
    return ";".join(f"{value:.2f}" for value in np.linspace(10, 90, 136))


@pytest.fixture
def affectnet(tmp_path):
    """Five images of 120x100 px; each has a bright 40x40 face box at a known place on a dark background."""
    images_dir = tmp_path / "Manually_Annotated_Images"
    rows = []
    # (expression, face_x, face_y): anger, happy, contempt (dropped), neutral, no-face (dropped).
    for index, (expression, x, y) in enumerate([(6, 10, 20), (1, 50, 30), (7, 0, 0), (0, 70, 60), (10, 0, 0)]):
        image = np.full((100, 120, 3), 20, np.uint8)
        image[y:y + 40, x:x + 40] = (60, 120 + index, 200)  # BGR; grayscale is about 115
        folder = images_dir / str(100 + index)
        folder.mkdir(parents=True)
        cv2.imwrite(str(folder / f"face{index}.png"), image)
        rows.append(f'{100 + index}/face{index}.png,{x},{y},40,40,{landmarks()},{expression},0.{index},-0.{index}')
    lists = tmp_path / "Manually_Annotated_file_lists"
    lists.mkdir()
    (lists / "validation.csv").write_text("\n".join(rows) + "\n")  # no header, as in some official copies
    (lists / "training.csv").write_text("\n".join([HEADER, *rows]) + "\n")
    return tmp_path


@pytest.mark.parametrize("split", ["validation", "training"])
def test_loads_crops_of_the_face_boxes_mapped_to_fer2013_classes(affectnet, split):
    data = load_affectnet(affectnet, split)
    assert data.images.shape == (3, 48, 48) and data.images.dtype == np.uint8
    # anger -> angry (0), happy -> happy (3), neutral -> neutral (6).
    assert data.labels.tolist() == [0, 3, 6]
    assert data.dropped == {"contempt": 1, "none": 0, "uncertain": 0, "no-face": 1}
    # The crop is the uniform face box, so no dark background pixel remains.
    assert data.images.min() > 90 and data.images.max() < 140
    np.testing.assert_allclose(data.valence, [0.0, 0.1, 0.3])
    np.testing.assert_allclose(data.arousal, [-0.0, -0.1, -0.3])
    assert data.files.tolist() == ["100/face0.png", "101/face1.png", "103/face3.png"]


def test_limit_stops_after_that_many_kept_faces(affectnet):
    assert len(load_affectnet(affectnet, "validation", limit=2).labels) == 2


def test_missing_list_says_how_to_obtain_affectnet(tmp_path):
    with pytest.raises(DataMissingError, match="mohammadmahoor.com/affectnet"):
        load_affectnet(tmp_path, "validation")


def test_missing_image_names_the_line(affectnet):
    (affectnet / "Manually_Annotated_Images" / "101" / "face1.png").unlink()
    with pytest.raises(DataMissingError, match=r"validation.csv, line 2: the image .*face1.png is missing"):
        load_affectnet(affectnet, "validation")


def test_malformed_row_names_file_and_line(affectnet):
    path = affectnet / "Manually_Annotated_file_lists" / "validation.csv"
    lines = path.read_text().splitlines()
    lines[2] = lines[2].replace(",7,", ",seven,")
    path.write_text("\n".join(lines) + "\n")
    with pytest.raises(DataFormatError, match="validation.csv, line 3: .*not a number"):
        load_affectnet(affectnet, "validation")


def test_unknown_split_is_rejected(affectnet):
    with pytest.raises(ValueError, match="training"):
        load_affectnet(affectnet, "test")
