"""The WIDER protocol on hand-made boxes with known answers, annotation parsing, the cache, and detect-eval."""

from __future__ import annotations

import json
import os
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from emotion.app.cli import main
from emotion.data import wider_face
from emotion.data.wider_face import load_annotations, load_image_table
from emotion.errors import DataFormatError, DataMissingError
from emotion.faces.detection_eval import DETECTION_COLUMNS, DetectionRun, read_detection_cache, write_detection_cache
from emotion.faces.detection_metrics import (
    average_precision,
    box_iou,
    evaluate_level,
    face_outcomes,
    match_image,
    recall_table,
)

ATTRIBUTES = "idx={idx};blur=0;expression=0;illumination=0;invalid=0;occlusion=0;pose=0;easy={easy};medium=1;hard=1"


def annotations_frame(rows: list[tuple]) -> pd.DataFrame:
    """Faces as (image, x, y, w, h, easy) with the other attributes 0 and medium = hard = 1."""
    frame = pd.DataFrame(rows, columns=["image", "x", "y", "w", "h", "easy"])
    for column in ("idx", "blur", "expression", "illumination", "invalid", "occlusion", "pose"):
        frame[column] = 0
    frame["medium"] = frame["hard"] = 1
    return frame


def detections_frame(rows: list[tuple]) -> pd.DataFrame:
    return pd.DataFrame(rows, columns=DETECTION_COLUMNS)


def test_iou_uses_the_official_plus_one_convention():
    same = box_iou(np.array([[0, 0, 9, 9]]), np.array([[0, 0, 9, 9]]))
    assert same[0, 0] == pytest.approx(1.0)
    # Boxes 0..10 and 5..15 (w = 10, +1 pixel): intersection 6 x 11 = 66, union 2 * 121 - 66 = 176.
    shifted = box_iou(np.array([[0, 0, 10, 10]]), np.array([[5, 0, 10, 10]]))
    assert shifted[0, 0] == pytest.approx(66 / 176)
    assert box_iou(np.array([[0, 0, 5, 5]]), np.array([[50, 50, 5, 5]]))[0, 0] == 0
    assert box_iou(np.zeros((0, 4)), np.array([[0, 0, 5, 5]])).shape == (0, 1)


def test_match_image_finds_ignores_and_counts_duplicates_as_false():
    faces = np.array([[0, 0, 20, 20], [100, 0, 20, 20]], dtype=float)
    kept = np.array([True, False])
    boxes = np.array([[0, 0, 20, 20],      # finds face 0
                      [1, 1, 20, 20],      # duplicate of face 0: false positive
                      [100, 0, 20, 20],    # matches the ignored face: neither
                      [300, 300, 20, 20]],  # nothing there: false positive
                     dtype=float)
    outcome, found = match_image(boxes, np.array([0.9, 0.8, 0.7, 0.6]), faces, kept)
    assert outcome.tolist() == [1, 0, -1, 0]
    assert found.tolist() == [1, 1, 1, 1]
    # The order is by score, not by row.
    outcome, _ = match_image(boxes, np.array([0.1, 0.8, 0.7, 0.6]), faces, kept)
    assert outcome.tolist() == [1, -1, 0, 0]


def test_perfect_detections_give_ap_one_and_ignored_faces_do_not_hurt():
    annotations = annotations_frame([("a.jpg", 0, 0, 30, 30, 1), ("a.jpg", 100, 0, 30, 30, 0),
                                     ("b.jpg", 0, 0, 30, 30, 1)])
    detections = detections_frame([("a.jpg", 0, 0, 30, 30, 0.9), ("a.jpg", 100, 0, 30, 30, 0.95),
                                   ("b.jpg", 0, 0, 30, 30, 0.8)])
    easy = evaluate_level(detections, annotations, ["a.jpg", "b.jpg"], "easy")
    assert easy.faces == 2
    assert easy.average_precision == pytest.approx(1.0)
    # At medium both faces of a.jpg count, so 3 faces, all found.
    assert evaluate_level(detections, annotations, ["a.jpg", "b.jpg"], "medium").average_precision == pytest.approx(1.0)


def test_known_ap_with_a_false_positive_ranked_first_and_a_missed_face():
    annotations = annotations_frame([("a.jpg", 0, 0, 30, 30, 1), ("a.jpg", 100, 0, 30, 30, 1)])
    detections = detections_frame([("a.jpg", 300, 300, 30, 30, 1.0), ("a.jpg", 0, 0, 30, 30, 0.5),
                                   ("a.jpg", 500, 500, 30, 30, 0.0)])
    result = evaluate_level(detections, annotations, ["a.jpg"], "easy")
    # Ranked: FP, TP, FP -> the only recall step (0 -> 0.5) happens at precision 1/2; AP = 0.5 * 0.5.
    assert result.average_precision == pytest.approx(0.25, abs=1e-9)
    assert result.recall.max() == pytest.approx(0.5)
    # An image with faces but no detection still counts its faces.
    annotations = pd.concat([annotations, annotations_frame([("b.jpg", 0, 0, 30, 30, 1)])], ignore_index=True)
    assert evaluate_level(detections, annotations, ["a.jpg", "b.jpg"], "easy").faces == 3


def test_average_precision_of_a_hand_computed_curve():
    # Envelope: precision 1 up to recall 0.5, then 0.5 up to recall 1 -> 0.5 + 0.25.
    assert average_precision(np.array([0.5, 0.5, 1.0]), np.array([1.0, 0.5, 0.5])) == pytest.approx(0.75)
    with pytest.raises(ValueError, match="level"):
        evaluate_level(detections_frame([]), annotations_frame([]), [], "extreme")


def test_face_outcomes_and_recall_breakdowns():
    annotations = annotations_frame([("a.jpg", 0, 0, 10, 10, 0), ("a.jpg", 100, 0, 40, 40, 1),
                                     ("a.jpg", 200, 0, 200, 200, 1)])
    annotations.loc[2, "pose"] = 1
    detections = detections_frame([("a.jpg", 100, 0, 40, 40, 0.9), ("a.jpg", 200, 0, 200, 200, 0.2),
                                   ("a.jpg", 600, 600, 40, 40, 0.95)])
    faces, per_image = face_outcomes(detections, annotations, ["a.jpg"], min_score=0.5)
    assert faces["found"].tolist() == [False, True, False]
    assert per_image.loc[0, "false_positives"] == 1 and per_image.loc[0, "detections"] == 2
    table = recall_table(faces)
    assert table["height"]["<16"] == {"recall": 0.0, "faces": 1}
    assert table["height"]["32-64"] == {"recall": 1.0, "faces": 1}
    assert table["pose"]["atypical"] == {"recall": 0.0, "faces": 1}
    assert table["small"]["<32"] == {"recall": 0.0, "faces": 1}


def write_folder(folder: Path, annotation_lines: list[str]) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "annotations.csv").write_text("\n".join(["image,x,y,w,h,difficulty_or_attrs", *annotation_lines]) + "\n")
    return folder


def test_annotations_parse_and_malformed_rows_name_file_and_line(tmp_path):
    good = f"a.jpg,1,2,30,-2,{ATTRIBUTES.format(idx=1, easy=1)}"
    table = load_annotations(write_folder(tmp_path / "ok", [good]))
    assert table.loc[0, ["x", "y", "w", "h", "easy", "hard"]].tolist() == [1, 2, 30, -2, 1, 1]
    cases = {
        "wrong_fields": ("a.jpg,1,2,30", "line 3: expected 6 fields"),
        "not_integer": (f"a.jpg,1,2,thirty,4,{ATTRIBUTES.format(idx=1, easy=1)}", "line 3: w='thirty'"),
        "bad_pair": ("a.jpg,1,2,3,4,idx=1;blurry", "line 3: bad attribute 'blurry'"),
        "missing_key": ("a.jpg,1,2,3,4,idx=1;blur=0", r"line 3: attribute\(s\) expression"),
        "negative_flag": (f"a.jpg,1,2,3,4,{ATTRIBUTES.format(idx=1, easy=-1)}", "line 3: easy=-1 is negative"),
    }
    for name, (line, message) in cases.items():
        folder = write_folder(tmp_path / name, [good, line])
        with pytest.raises(DataFormatError, match=message) as raised:
            load_annotations(folder)
        assert str(folder / "annotations.csv") in str(raised.value)
    (tmp_path / "header" / "annotations.csv").parent.mkdir()
    (tmp_path / "header" / "annotations.csv").write_text("image,x,y\n")
    with pytest.raises(DataFormatError, match="line 1: header"):
        load_annotations(tmp_path / "header")
    with pytest.raises(DataMissingError, match="no such file"):
        load_annotations(tmp_path / "absent")


def test_image_table_is_in_sha256_order_and_checks_sizes(tmp_path):
    (tmp_path / "images.csv").write_text("image,event,width,height,faces,sha256\n"
                                         "b.jpg,e,10,10,1,ff\na.jpg,e,10,10,1,00\n")
    assert load_image_table(tmp_path)["image"].tolist() == ["a.jpg", "b.jpg"]
    (tmp_path / "images.csv").write_text("image,event,width,height,faces,sha256\na.jpg,e,wide,10,1,00\n")
    with pytest.raises(DataFormatError, match="line 2: width"):
        load_image_table(tmp_path)


def test_detection_cache_round_trip_and_staleness(tmp_path):
    run = DetectionRun(
        detections=detections_frame([("a.jpg", 1.5, 2.0, 30.0, 31.0, 0.75)]),
        timings=pd.DataFrame({"image": ["a.jpg", "b.jpg"], "width": [64, 64], "height": [48, 48],
                              "milliseconds": [1.0, 2.0]}),
        detector="haar", settings={"scale_factor": 1.1})
    write_detection_cache(run, tmp_path, mode="smoke", seed=0)
    cached = read_detection_cache(tmp_path, "haar", {"scale_factor": 1.1}, ["a.jpg", "b.jpg"])
    assert cached is not None
    pd.testing.assert_frame_equal(cached.detections, run.detections)
    assert cached.timings["milliseconds"].tolist() == [1.0, 2.0]
    assert read_detection_cache(tmp_path, "haar", {"scale_factor": 1.2}, ["a.jpg", "b.jpg"]) is None
    assert read_detection_cache(tmp_path, "haar", {"scale_factor": 1.1}, ["a.jpg"]) is None
    assert read_detection_cache(tmp_path, "yunet", {}, ["a.jpg"]) is None
    (tmp_path / "02_detections_haar.csv.gz").write_bytes(b"not gzip")
    with pytest.raises(DataFormatError, match="02_detections_haar.csv.gz"):
        read_detection_cache(tmp_path, "haar", {"scale_factor": 1.1}, ["a.jpg", "b.jpg"])


@pytest.fixture(scope="module")
def real_faces() -> Path:
    value = os.environ.get("EMOTION_DATA")
    if not value:
        pytest.skip("real-data test: set EMOTION_DATA to the data root (e.g. ../shared/data) to run it")
    folder = Path(value).resolve() / "faces"
    if not (folder / "annotations.csv").is_file():
        pytest.skip(f"real-data test: {folder} has no annotations.csv")
    return folder


def test_real_annotations_match_their_source_counts(real_faces):
    annotations = load_annotations(real_faces)
    assert len(annotations) == 6856
    assert {level: int(annotations[level].sum()) for level in ("easy", "medium", "hard")} == {
        "easy": 1682, "medium": 3036, "hard": 5961}
    assert len(load_image_table(real_faces)) == 700


def test_detect_eval_command_on_three_real_images(real_faces, capsys):
    assert main(["detect-eval", "--detector", "dlib_hog", "--data", str(real_faces), "--limit", "3"]) == 0
    summary = json.loads(capsys.readouterr().out)
    assert {"ap_easy", "ap_medium", "ap_hard", "images", "faces", "ms_per_image_median"} <= set(summary)
    # The first three images hold 24 annotated faces; dlib's HOG detector is deterministic, so the APs of the
    # official protocol on them are exact (seen here: 0.337, 0.3059, 0.2932).
    assert summary["images"] == 3 and summary["faces"] == 24 and summary["detections"] == 14
    assert (summary["faces_easy"], summary["faces_medium"], summary["faces_hard"]) == (18, 23, 24)
    assert [summary[f"ap_{level}"] for level in wider_face.LEVELS] == pytest.approx([0.337, 0.3059, 0.2932],
                                                                                         abs=1e-4)


def test_detect_eval_command_reports_a_missing_folder(tmp_path, capsys):
    assert main(["detect-eval", "--detector", "haar", "--data", str(tmp_path)]) == 1
    assert "annotations.csv: no such file" in capsys.readouterr().err
    assert main(["detect-eval", "--detector", "haar", "--data", str(tmp_path), "--limit", "0"]) == 2


def test_hard_examples_pick_profile_small_and_occluded_images_once():
    annotations = annotations_frame([("profile.jpg", 0, 0, 80, 80, 1), ("small.jpg", 0, 0, 10, 10, 0),
                                     ("small.jpg", 20, 0, 10, 10, 0), ("plain.jpg", 0, 0, 80, 80, 1)])
    annotations.loc[0, "pose"] = 1
    chosen = wider_face.hard_examples(annotations, ["plain.jpg", "profile.jpg", "small.jpg"], count=5)
    assert chosen == [("profile.jpg", "1 profile / atypical-pose faces"), ("small.jpg", "2 faces under 32 px high")]

