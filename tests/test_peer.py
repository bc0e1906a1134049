"""The peer comparison's own logic (matching, speed, photo choice); the fer side runs only in `make peer-compare`."""

from __future__ import annotations

import pytest

from emotion.errors import DataMissingError
from emotion.app.peer import agreement, run_fer_side, select_photos, speed


def record(seconds, faces):
    return {"photo": "p.jpg", "seconds": seconds, "faces": [{"box": box, "emotion": emotion} for box, emotion in faces]}


def test_agreement_matches_faces_by_iou_one_to_one():
    ours = [record(0.1, [([0, 0, 10, 10], "happy"), ([50, 50, 10, 10], "sad"), ([90, 90, 5, 5], "fear")]),
            record(0.1, [])]
    theirs = [record(0.2, [([1, 1, 10, 10], "happy"), ([51, 50, 10, 10], "angry"), ([30, 0, 10, 10], "sad")]),
              record(0.2, [([0, 0, 9, 9], "happy")])]
    result = agreement(ours, theirs)
    assert result["matched_faces"] == 2 and result["same_emotion"] == 1 and result["agreement"] == 0.5
    # Best overlap first: a closer box takes the match even when a farther one has the same emotion.
    closer = [record(0.2, [([1, 1, 10, 10], "happy"), ([0, 0, 11, 11], "sad")])]
    assert agreement(ours[:1], closer)["same_emotion"] == 0


def test_speed_counts_faces_and_time():
    result = speed([record(0.5, [([0, 0, 1, 1], "x")] * 3), record(1.5, [])])
    assert result["faces"] == 3 and result["photos"] == 2
    assert result["faces_per_second"] == pytest.approx(1.5)
    assert result["ms_per_photo_median"] == pytest.approx(1000)


def test_missing_fer_environment_says_how_to_make_it(tmp_path):
    import numpy as np

    with pytest.raises(DataMissingError, match="make peer-env"):
        run_fer_side(np.zeros((1, 48, 48), np.uint8), [], ["haar"], tmp_path, fer_python=tmp_path / "nope")


def test_photos_are_chosen_deterministically_with_a_large_face(real_data_root):
    from emotion.faces.detection_eval import load_annotations

    photos = select_photos(real_data_root / "faces", count=5)
    assert len(photos) == 5 and photos == select_photos(real_data_root / "faces", count=5)
    annotations = load_annotations(real_data_root / "faces")
    for photo in photos:
        assert photo.is_file()
        assert annotations.loc[annotations["image"] == photo.name, "h"].max() >= 64
