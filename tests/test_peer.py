"""The peer comparison's own logic (matching, speed, photo choice); the fer side runs only in `make peer-compare`."""

from __future__ import annotations

import pytest

from emotion.app.peer import agreement, run_fer_side, select_photos, speed
from emotion.errors import DataMissingError


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
    assert "ms_per_photo_by_stage" not in result  # fer's records carry no stages


def test_speed_averages_each_stage_over_the_photos():
    records = [{**record(0.5, []), "stages": {"detect": 0.3, "crop": 0.0, "classify": 0.1}},
               {**record(1.5, []), "stages": {"detect": 1.1, "crop": 0.2, "classify": 0.1}}]
    assert speed(records)["ms_per_photo_by_stage"] == pytest.approx({"detect": 700.0, "crop": 100.0, "classify": 100.0})


def test_missing_fer_environment_says_how_to_make_it(tmp_path):
    import numpy as np

    with pytest.raises(DataMissingError, match="make peer-env"):
        run_fer_side(np.zeros((1, 48, 48), np.uint8), [], ["haar"], tmp_path, fer_python=tmp_path / "nope")


def test_photos_are_chosen_deterministically_with_a_large_face(real_data_root):
    from emotion.data.wider_face import load_annotations

    photos = select_photos(real_data_root / "faces", count=5)
    assert len(photos) == 5 and photos == select_photos(real_data_root / "faces", count=5)
    annotations = load_annotations(real_data_root / "faces")
    for photo in photos:
        assert photo.is_file()
        assert annotations.loc[annotations["image"] == photo.name, "h"].max() >= 64


def test_detection_recall_counts_tall_valid_faces_matched_once():
    import pandas as pd

    from emotion.app.peer import detection_recall

    annotations = pd.DataFrame({"image": ["p.jpg"] * 4, "x": [0, 50, 100, 200], "y": [0, 0, 0, 0],
                                "w": [40, 40, 10, 40], "h": [40, 40, 10, 40], "invalid": [0, 0, 0, 1]})
    # two boxes on the first face (counted once), none on the second; the 10-px face and the invalid one do not count
    found = [record(0.1, [([1, 1, 40, 40], "x"), ([0, 0, 39, 39], "x"), ([100, 0, 10, 10], "x")])]
    result = detection_recall([{**found[0], "photo": "/data/faces/images/p.jpg"}], annotations)
    assert (result["found"], result["annotated_faces"], result["recall"]) == (1, 2, 0.5)
    assert detection_recall([record(0.1, [])], annotations)["recall"] == 0.0


def test_fastest_configurations_are_compared_and_every_goal_checked():
    from emotion.app.peer import PIPELINE_SPEED_GOAL, fastest_comparison

    def config(photos_per_second, recall):
        return {"photos_per_second": photos_per_second, "faces_per_second": 2 * photos_per_second,
                "recall": {"recall": recall}}

    ours = {"mtcnn": config(2.0, 0.9), "yunet": config(12.0, 0.8)}
    fer = {"haar": config(2.0, 0.5), "mtcnn": config(0.5, 0.85)}
    result = fastest_comparison(ours, fer, fer_accuracy=0.655, our_accuracy=0.68)
    assert (result["ours"], result["fer"]) == ("yunet", "haar")
    assert result["photos_per_second_ratio"] == pytest.approx(6.0) and PIPELINE_SPEED_GOAL == 5.0
    assert result["checks"] == {"speed": True, "recall": True, "accuracy": True} and result["met"]
    slower = fastest_comparison({"yunet": config(9.0, 0.8)}, fer, fer_accuracy=0.655, our_accuracy=0.65)
    assert slower["checks"] == {"speed": False, "recall": True, "accuracy": False} and not slower["met"]


class SideDetector:
    """A stand-in detector that finds the photo's one annotated face only when it runs at a side of at least 512."""

    name, operating_score = "side", 0.5

    def __init__(self, max_side):
        self.max_side = max_side

    def detect_batch(self, images):
        from emotion.faces.detectors import Face

        found = self.max_side is None or self.max_side >= 512
        return [[Face(box=(10.0, 10.0, 40.0, 40.0), score=0.9)] if found else [] for _ in images]


def test_tuning_chooses_the_smallest_side_that_keeps_the_recall(tmp_path, tiny_model, monkeypatch):
    import numpy as np
    import pandas as pd
    from PIL import Image

    from emotion.app import peer, pipeline  # noqa: F401  (imported before the patch: it keeps the real one)
    from emotion.faces import detectors

    photos = []
    for index in range(3):
        photos.append(tmp_path / f"p{index}.png")
        Image.fromarray(np.full((100, 120, 3), 90, np.uint8)).save(photos[-1])
    annotations = pd.DataFrame({"image": [path.name for path in photos], "x": 10, "y": 10, "w": 40, "h": 40,
                                "invalid": 0})
    monkeypatch.setattr(detectors, "create_detector", lambda name, max_side=None: SideDetector(max_side))
    outcome = peer.tune_detection_side(str(tiny_model), photos, annotations, detector="side",
                                       sides=(None, 640, 512, 320))
    assert [row["max_side"] for row in outcome["rows"]] == [None, 640, 512, 320]
    assert [row["recall"] for row in outcome["rows"]] == [1.0, 1.0, 1.0, 0.0]
    assert outcome["chosen_side"] == 512 and outcome["full_size_recall"] == 1.0
    assert outcome["rows"][0]["photos"] == 3
    # A tolerance that forgives losing every face picks the smallest side.
    assert peer.tune_detection_side(str(tiny_model), photos, annotations, detector="side", sides=(None, 512, 320),
                                    tolerance=1.0)["chosen_side"] == 320
    with pytest.raises(Exception, match="needs None"):
        peer.tune_detection_side(str(tiny_model), photos, annotations, sides=(640,))


def test_tuning_photos_never_overlap_the_peer_comparisons(real_data_root):
    from emotion.app.peer import tuning_photos

    peer_photos = select_photos(real_data_root / "faces", count=50)
    tuning = tuning_photos(real_data_root / "faces", count=50)
    assert len(tuning) == 50 and not set(tuning) & set(peer_photos)


def test_the_pipeline_runs_yunet_on_onnxruntime_at_its_tuned_side(tiny_model, real_data_root):
    from emotion.app.pipeline import PIPELINE_DETECTOR_OPTIONS, EmotionPipeline
    from emotion.faces.detectors import MAX_IMAGE_SIDE

    detector = EmotionPipeline("yunet", str(tiny_model)).detector
    assert detector.backend == "onnxruntime"
    assert detector.max_side == PIPELINE_DETECTOR_OPTIONS["yunet"].get("max_side", MAX_IMAGE_SIDE)
    assert EmotionPipeline("yunet", str(tiny_model), max_side=800).detector.max_side == 800
    assert EmotionPipeline("haar", str(tiny_model)).detector.max_side == MAX_IMAGE_SIDE


def test_the_pipelines_detection_side_is_the_one_the_tuning_run_chose():
    from emotion.app.pipeline import PIPELINE_DETECTOR_OPTIONS
    from emotion.paths import RESULTS_DIR
    from emotion.provenance import read_results

    tuning = read_results(RESULTS_DIR / "07_pipeline_tuning.json")
    assert tuning["meta"]["mode"] == "full"
    assert PIPELINE_DETECTOR_OPTIONS.get(tuning["detector"], {}).get("max_side") == tuning["chosen_side"]
    assert tuning["options"] == {key: value for key, value in PIPELINE_DETECTOR_OPTIONS[tuning["detector"]].items()
                                 if key != "max_side"}


def test_run_conditions_count_the_cores_other_work_kept_busy():
    from emotion.app.peer import run_conditions
    from emotion.machine import cpu_cores

    conditions = run_conditions(100.0, 160.0, own_cpu_seconds=50.0, wall_seconds=100.0)
    assert conditions == {"other_cores": pytest.approx(0.1), "wall_seconds": 100.0, "cpu_cores": cpu_cores()}


def test_detector_speed_table_ranks_every_configuration_by_photos_per_second():
    import pandas as pd

    from emotion.app.peer import detector_speed_table

    def entry(photos_per_second, stages=None):
        return {"photos_per_second": photos_per_second, "faces_per_second": 2 * photos_per_second,
                "ms_per_photo_median": 1000 / photos_per_second, "recall": {"recall": 0.5},
                **({"ms_per_photo_by_stage": stages} if stages else {})}

    stages = {"detect": 20.0, "crop": 1.0, "classify": 5.0}
    peer = {"end_to_end": {"haar": {"ours": entry(3.0, stages), "fer": entry(6.0)}},
            "ours_only": {"yunet": entry(37.0, stages)}}
    table = detector_speed_table(peer)
    assert list(table.index) == ["ours, yunet", "fer, haar", "ours, haar"]
    assert table.loc["ours, yunet", "ms/photo detect"] == 20.0 and pd.isna(table.loc["fer, haar", "ms/photo detect"])
    assert table.loc["fer, haar", "recall (faces >= 32 px)"] == 0.5


def test_our_side_times_every_photo_in_each_pass_and_keeps_stages_and_first_pass_faces(tmp_path, tiny_model,
                                                                                       monkeypatch):
    import numpy as np
    from PIL import Image

    from emotion.app import peer, pipeline

    photos = []
    for index in range(2):
        photos.append(tmp_path / f"p{index}.png")
        Image.fromarray(np.full((100, 120, 3), 90, np.uint8)).save(photos[-1])
    calls = []

    class CountingDetector(SideDetector):
        def detect_batch(self, images):
            calls.append(len(images))
            return super().detect_batch(images)

    monkeypatch.setattr(pipeline, "create_detector", lambda name, **options: CountingDetector(None))
    records = peer.run_our_side(str(tiny_model), photos, ["side"], passes=3)["side"]
    assert len(calls) == 1 + 3 * len(photos)  # one warm-up, then every photo in every pass
    assert [record["photo"] for record in records] == [str(path) for path in photos]
    for record in records:
        assert set(record["stages"]) == set(peer.PIPELINE_STAGES)
        assert record["faces"][0]["box"] == [10.0, 10.0, 40.0, 40.0] and len(record["faces"]) == 1
        assert record["seconds"] >= record["stages"]["detect"]
    assert "ms_per_photo_by_stage" in speed(records)


def test_the_fastest_configuration_is_judged_with_its_own_classifier():
    from emotion.app.peer import fastest_comparison
    from emotion.app.pipeline_prose import describe_fastest

    def config(photos_per_second, recall):
        return {"photos_per_second": photos_per_second, "faces_per_second": photos_per_second,
                "recall": {"recall": recall}}

    fer = {"haar": config(6.0, 0.3)}
    ours = {"yunet": config(27.0, 0.5), "yunet + single": config(40.0, 0.5)}
    result = fastest_comparison(ours, fer, fer_accuracy=0.655, our_accuracy={"yunet": 0.701, "yunet + single": 0.64})
    assert result["ours"] == "yunet + single" and result["accuracy"] == {"ours": 0.64, "fer": 0.655}
    assert result["checks"] == {"speed": True, "recall": True, "accuracy": False}
    sentence = describe_fastest({"fastest": result})
    assert "our pipeline with yunet + single processes 6.7x" in sentence
    assert "a classifier 64.0% against 65.5% accurate on PrivateTest" in sentence
    assert sentence.endswith("missed on accuracy.")


def test_the_single_network_gets_a_row_in_both_tables():
    from emotion.app.peer import detector_speed_table, peer_table

    def entry(photos_per_second):
        return {"photos_per_second": photos_per_second, "faces_per_second": 2 * photos_per_second,
                "ms_per_photo_median": 1000 / photos_per_second, "recall": {"recall": 0.5},
                "ms_per_photo_by_stage": {"detect": 20.0, "crop": 1.0, "classify": 4.0}}

    def interval(estimate):
        return {"estimate": estimate, "low": estimate - 0.01, "high": estimate + 0.01}

    peer = {"classifier": {"ours": {"accuracy": interval(0.70), "macro_f1": interval(0.68)},
                           "fer": {"accuracy": interval(0.655), "macro_f1": interval(0.636)}},
            "end_to_end": {"haar": {"ours": entry(3.0), "fer": entry(6.0)}},
            "ours_only": {"yunet": entry(27.0)},
            "single_network": {"model": "wide.keras", "detector": "yunet", "accuracy": interval(0.69),
                               "macro_f1": interval(0.67), "end_to_end": entry(40.0)}}
    speed = detector_speed_table(peer)
    assert list(speed.index) == ["ours, yunet + wide", "ours, yunet", "fer, haar", "ours, haar"]
    assert speed.loc["ours, yunet + wide", "ms/photo classify"] == 4.0
    table = peer_table(peer)
    assert table.loc["ours, single network (wide)", "PrivateTest accuracy"] == 0.69
    assert table.loc["ours, single network (wide)", "95 % interval"] == "0.680-0.700"


def test_peer_compare_refuses_a_missing_single_model_before_running_anything(tmp_path, capsys, real_data_root):
    from emotion.app.cli import main

    missing = tmp_path / "gone.keras"
    assert main(["peer-compare", "--single-model", str(missing), "--results", str(tmp_path)]) == 1
    assert f"--single-model {missing}: no such file" in capsys.readouterr().err
    assert not list(tmp_path.glob("*.json"))
