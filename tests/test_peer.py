"""The peer comparison's own logic (matching, speed, photo choice); the fer side runs only in `make peer-compare`."""

from __future__ import annotations

import pytest

from emotion.app.peer import agreement, select_photos, speed
from emotion.app.peer_runs import FerProcess
from emotion.errors import DataMissingError


def record(seconds, faces):
    return {"photo": "p.jpg", "seconds": seconds, "faces": [{"box": box, "emotion": emotion} for box, emotion in faces]}



def grey_photos(folder, count):
    """``count`` grey 120x100 PNG photos in ``folder`` and an annotation table with one 40 px face on each."""
    import numpy as np
    import pandas as pd
    from PIL import Image

    photos = []
    for index in range(count):
        photos.append(folder / f"p{index}.png")
        Image.fromarray(np.full((100, 120, 3), 90, np.uint8)).save(photos[-1])
    return photos, pd.DataFrame({"image": [path.name for path in photos], "x": 10, "y": 10, "w": 40, "h": 40,
                                 "invalid": 0})

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
    with pytest.raises(DataMissingError, match="make peer-env"):
        FerProcess(tmp_path, fer_python=tmp_path / "nope")


FAKE_FER_SIDE = """
import json, sys
log = open(sys.argv[1], "a")
for line in sys.stdin:
    request = json.loads(line)
    log.write(json.dumps(sorted(request)) + "\\n")
    log.flush()
    if "classify" in request:
        import numpy as np
        crops = np.load(request["classify"])["images"]
        probabilities = np.zeros((len(crops), 7), np.float32)
        probabilities[:, 3] = 1
        np.savez(request["output"], probabilities=probabilities)
        reply = {"images": len(crops), "seconds": 0.5, "input": "fake"}
    elif "detect" in request:
        if request["detect"] == "crash":
            print("fer blew up", file=sys.stderr)
            sys.exit(3)
        reply = {"photos": [{"photo": photo, "seconds": 0.25, "faces": [{"box": [10, 10, 40, 40], "emotion": "happy"}]}
                            for photo in request["photos"]]}
    elif "versions" in request:
        reply = {"fer": "fake"}
    else:
        reply = {"error": "ValueError: unknown request"}
    print(json.dumps(reply), flush=True)
"""


@pytest.fixture
def fake_fer_python(tmp_path):
    """An executable standing in for .venv-fer/bin/python: it ignores the script it is given and speaks fer_side's
    protocol, logging each request's keys to ``requests.log``."""
    import sys

    (tmp_path / "fake_fer_side.py").write_text(FAKE_FER_SIDE)
    executable = tmp_path / "python"
    executable.write_text(f"#!/bin/sh\nexec {sys.executable} {tmp_path / 'fake_fer_side.py'} "
                          f"{tmp_path / 'requests.log'}\n")
    executable.chmod(0o755)
    return executable


def test_the_fer_process_answers_many_requests_and_reports_its_failures(tmp_path, fake_fer_python):
    import numpy as np

    with FerProcess(tmp_path / "work", fer_python=fake_fer_python) as fer_side:
        probabilities, report = fer_side.classify(np.zeros((3, 48, 48), np.uint8))
        assert probabilities.shape == (3, 7) and report["images"] == 3
        assert [record["seconds"] for record in fer_side.detect("haar", [tmp_path / "a.jpg"])] == [0.25]
        assert fer_side.detect("mtcnn", [tmp_path / "b.jpg"])[0]["photo"] == str(tmp_path / "b.jpg")
        with pytest.raises(DataMissingError, match="failed on request.*unknown request"):
            fer_side.request(nonsense=True)
        with pytest.raises(DataMissingError, match="stopped \\(exit 3\\)(.|\\n)*fer blew up"):
            fer_side.detect("crash", [tmp_path / "a.jpg"])
    assert len((tmp_path / "requests.log").read_text().splitlines()) == 5  # one process served them all


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
    result = fastest_comparison(ours, fer, fer_accuracy=0.655, our_accuracy=0.68, p_value=0.001)
    assert (result["ours"], result["fer"]) == ("yunet", "haar")
    assert result["photos_per_second_ratio"] == pytest.approx(6.0) and PIPELINE_SPEED_GOAL == 5.0
    assert result["runs"] == 1 and result["ratio_per_run"] == [pytest.approx(6.0)]
    assert result["checks"] == {"speed": True, "recall": True, "accuracy": True} and result["met"]
    slower = fastest_comparison({"yunet": config(9.0, 0.8)}, fer, fer_accuracy=0.655, our_accuracy=0.65,
                                p_value=0.001)
    assert slower["checks"] == {"speed": False, "recall": True, "accuracy": False} and not slower["met"]
    # A higher accuracy that McNemar's test does not separate from fer's at 0.01 does not count.
    unproven = fastest_comparison(ours, fer, fer_accuracy=0.655, our_accuracy=0.68, p_value=0.01)
    assert unproven["checks"]["accuracy"] is False and unproven["p_value"] == 0.01


def test_with_runs_the_fastest_are_chosen_by_median_and_the_goal_judged_on_the_worst_run():
    from emotion.app.peer import fastest_comparison

    def config(recall):
        return {"photos_per_second": 1.0, "faces_per_second": 1.0, "recall": {"recall": recall}}

    ours = {"yunet": config(0.53), "haar": config(0.38)}
    fer = {"haar": config(0.30), "mtcnn": config(0.52)}
    runs = [{"ours": {"yunet": 31.0, "haar": 3.5}, "fer": {"haar": 6.2, "mtcnn": 5.9}},
            {"ours": {"yunet": 37.0, "haar": 3.4}, "fer": {"haar": 6.0, "mtcnn": 6.1}},  # fer's fastest is mtcnn here
            {"ours": {"yunet": 28.0, "haar": 3.6}, "fer": {"haar": 6.3, "mtcnn": 5.8}}]
    result = fastest_comparison(ours, fer, 0.655, 0.70, 1e-11, runs=runs)
    assert (result["ours"], result["fer"], result["runs"]) == ("yunet", "haar", 3)
    assert result["ratio_per_run"] == pytest.approx([31 / 6.2, 37 / 6.1, 28 / 6.3])
    assert result["photos_per_second_ratio"] == pytest.approx(31 / 6.2)
    assert result["checks"]["speed"] is False  # 28 / 6.3 = 4.44 in the worst run, although the median is 5.0
    assert fastest_comparison(ours, fer, 0.655, 0.70, 1e-11, runs=runs[:2])["checks"]["speed"] is True


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

    from emotion.app import peer, pipeline  # noqa: F401  (imported before the patch: it keeps the real one)
    from emotion.faces import detectors

    photos, annotations = grey_photos(tmp_path, 3)
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


def test_a_pass_times_every_photo_with_its_stages_and_pooling_keeps_medians_and_first_faces(tmp_path, tiny_model,
                                                                                           monkeypatch):
    import numpy as np
    from PIL import Image

    from emotion.app import peer, pipeline
    from emotion.app.peer_runs import pooled_records, run_summary, time_pass

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
    records = time_pass(pipeline.EmotionPipeline("side", str(tiny_model)), photos)
    assert calls == [1, 1]  # one photo at a time
    assert [record["photo"] for record in records] == [str(path) for path in photos]
    for record in records:
        assert set(record["stages"]) == set(peer.PIPELINE_STAGES)
        assert record["faces"][0]["box"] == [10.0, 10.0, 40.0, 40.0] and len(record["faces"]) == 1
        assert record["seconds"] >= record["stages"]["detect"]
    passes = [[{**record, "seconds": seconds, "stages": {"detect": seconds / 2}, "faces": faces}
               for record in records[:1]] for seconds, faces in ((0.3, ["first"]), (0.1, []), (0.2, []))]
    pooled = pooled_records(passes)
    assert pooled[0]["seconds"] == 0.2 and pooled[0]["stages"] == {"detect": 0.1} and pooled[0]["faces"] == ["first"]
    summary = run_summary(passes[0])
    assert summary == {"photos_per_second": pytest.approx(1 / 0.3), "seconds": [0.3], "detect_seconds": [0.15]}


def test_the_comparison_runs_both_sides_interleaved_with_one_fer_process(tmp_path, tiny_model, fake_fer_python,
                                                                         monkeypatch):
    import numpy as np

    from emotion.app import peer_runs, pipeline
    from emotion.faces import detectors

    photos, annotations = grey_photos(tmp_path, 2)
    log = tmp_path / "requests.log"  # the fake fer side logs its requests here too

    class LoggingDetector(SideDetector):
        def detect_batch(self, images):
            with log.open("a") as file:
                file.write("ours\n")
            return super().detect_batch(images)

    class Crops:
        def split(self, name):
            return np.zeros((20, 48, 48), np.uint8), np.arange(20) % 7

    monkeypatch.setattr(pipeline, "create_detector", lambda name, **options: LoggingDetector(None))
    monkeypatch.setattr(detectors, "available_detectors", lambda names: ([], {}))
    payload = peer_runs.compare(tiny_model, Crops(), photos, ["haar"], tmp_path / "work", fer_python=fake_fer_python,
                                annotations=annotations, runs=3)
    fer_pass, our_pass = ['["detect", "photos"]'], ["ours"] * len(photos)
    # The classifiers once, our warm-up, then runs fer-ours, ours-fer, fer-ours from one fer process.
    assert log.read_text().splitlines() == (['["classify", "output"]', "ours"] + fer_pass + our_pass + our_pass
                                            + fer_pass + fer_pass + our_pass + ['["versions"]'])
    assert len(payload["runs"]) == 3 and payload["fastest"]["runs"] == 3
    assert set(payload["runs"][0]["fer"]) == {"haar"} and payload["runs"][0]["fer"]["haar"]["seconds"] == [0.25, 0.25]
    assert payload["fastest"]["ratio_per_run"] == pytest.approx(
        [run["ours"]["haar"]["photos_per_second"] / 4.0 for run in payload["runs"]])
    assert payload["end_to_end"]["haar"]["fer"]["photos_per_second"] == pytest.approx(4.0)
    assert payload["end_to_end"]["haar"]["ours"]["recall"]["recall"] == 1.0
    assert payload["classifier"]["fer"]["seconds"] == 0.5 and payload["fer_versions"] == {"fer": "fake"}
    assert "in 3 runs" in payload["protocol"]
    for run in payload["runs"]:
        assert run["conditions"]["wall_seconds"] > 0 and run["conditions"]["other_cores"] >= 0
        assert run["conditions"]["machine_speed"]["before"] > 0 and run["conditions"]["machine_speed"]["after"] > 0


def test_the_runs_table_reads_both_a_repeated_and_a_one_run_file():
    from emotion.app.peer import peer_runs_table

    def entry(photos_per_second):
        return {"photos_per_second": photos_per_second}

    old = {"end_to_end": {"haar": {"ours": entry(3.5), "fer": entry(6.3)}}, "ours_only": {"yunet": entry(31.7)},
           "single_network": {"model": "wide.keras", "detector": "yunet", "end_to_end": entry(37.3)},
           "fastest": {"photos_per_second_ratio": 37.3 / 6.3}}
    table = peer_runs_table(old)
    assert list(table.index) == ["the only run"]
    assert table.loc["the only run", "ours, yunet + wide"] == 37.3 and table.loc["the only run", "ratio"] == 5.92
    new = {"runs": [{"ours": {"yunet": entry(30.0)}, "fer": {"haar": entry(6.0)},
                     "conditions": {"other_cores": 0.05, "wall_seconds": 60.0}},
                    {"ours": {"yunet": entry(27.0)}, "fer": {"haar": entry(6.1)},
                     "conditions": {"other_cores": 0.912, "wall_seconds": 61.0}}],
           "fastest": {"ratio_per_run": [5.0, 27 / 6.1]}}
    table = peer_runs_table(new)
    assert list(table.index) == ["run 1", "run 2"]
    assert list(table.columns) == ["ours, yunet", "fer, haar", "ratio", "other cores busy"]
    assert table["ratio"].tolist() == [5.0, 4.43] and table["other cores busy"].tolist() == [0.05, 0.91]
    for run, (before, after) in zip(new["runs"], ((400.0, 420.0), (300.0, 310.0))):
        run["conditions"]["machine_speed"] = {"before": before, "after": after}
    assert peer_runs_table(new)["machine speed (M el/s)"].tolist() == [410.0, 305.0]


def test_the_reference_speed_is_a_positive_rate_and_refuses_no_repeats():
    from emotion.machine import reference_speed

    assert reference_speed(repeats=2) > 0
    with pytest.raises(ValueError, match="at least 1"):
        reference_speed(repeats=0)


def test_a_process_cpu_time_is_read_from_proc_and_a_gone_process_counts_nothing():
    import os

    from emotion.app.peer_runs import process_cpu_seconds

    if not os.path.exists("/proc/self/stat"):
        pytest.skip("no /proc on this system")
    sum(value * value for value in range(300_000))  # some CPU time of our own
    assert 0 < process_cpu_seconds(os.getpid()) <= sum(os.times()[:2]) + 0.05
    assert process_cpu_seconds(2**22 + 12345) == 0.0


def test_the_fastest_configuration_is_judged_with_its_own_classifier():
    from emotion.app.peer import fastest_comparison
    from emotion.app.pipeline_prose import describe_fastest

    def config(photos_per_second, recall):
        return {"photos_per_second": photos_per_second, "faces_per_second": photos_per_second,
                "recall": {"recall": recall}}

    fer = {"haar": config(6.0, 0.3)}
    ours = {"yunet": config(27.0, 0.5), "yunet + single": config(40.0, 0.5)}
    result = fastest_comparison(ours, fer, fer_accuracy=0.655, our_accuracy={"yunet": 0.701, "yunet + single": 0.64},
                                p_value={"yunet": 1e-11, "yunet + single": 0.02})
    assert result["ours"] == "yunet + single" and result["accuracy"] == {"ours": 0.64, "fer": 0.655}
    assert result["p_value"] == 0.02
    assert result["checks"] == {"speed": True, "recall": True, "accuracy": False}
    sentence = describe_fastest({"fastest": result})
    assert "our pipeline with yunet + single processes 6.67x as many" in sentence
    assert "a classifier 64.0% against 65.5% accurate on PrivateTest" in sentence
    assert sentence.endswith("missed on accuracy in its one run.")


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
