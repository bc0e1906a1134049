"""Folder runs with overlapped stages: the threads keep order and their bound, stop on errors and Ctrl+C, and
``predict_files`` and ``crop_faces`` give exactly the sequential path's outputs; the folder benchmark compares them."""

from __future__ import annotations

import json
import os
import threading
import time
import weakref
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from emotion.app.cli import main
from emotion.app.pipeline import EmotionPipeline, predict_files
from emotion.data.image_files import find_images
from emotion.faces.detectors import Face
from emotion.overlap import OverlappedStages, Stage


class CentreFaceDetector:
    """A stand-in detector: one face in the middle of any image at least 20 px wide (landmarks for alignment), and
    one below the operating score that the pipeline drops."""

    name = "centre"
    operating_score = 0.5

    def detect(self, image):
        height, width = image.shape[:2]
        if min(height, width) < 20:
            return []
        side = min(height, width) / 2
        landmarks = ((width / 2 - side / 4, height / 2 - side / 6), (width / 2 + side / 4, height / 2 - side / 5))
        return [Face(box=(width / 2 - side / 2, height / 2 - side / 2, side, side), score=0.9, landmarks=landmarks),
                Face(box=(width / 4, height / 4, side / 2, side / 2), score=0.7),
                Face(box=(0, 0, 5, 5), score=0.1)]

    def detect_batch(self, images):
        return [self.detect(image) for image in images]


def overlap_threads() -> list[str]:
    return [thread.name for thread in threading.enumerate() if thread.name.startswith("overlap-")]


def finishes(function, seconds: float = 30.0):
    """Run ``function`` on a helper thread; return what it raised (None when nothing), failing if it hangs."""
    outcome = {}

    def target():
        try:
            function()
        except BaseException as error:  # KeyboardInterrupt included: that is what some tests raise
            outcome["error"] = error

    thread = threading.Thread(target=target, daemon=True)
    thread.start()
    thread.join(seconds)
    assert not thread.is_alive(), f"still running after {seconds} s: the run hangs"
    return outcome.get("error")


@pytest.fixture
def folder(tmp_path):
    """Twelve photos of different sizes and kinds, two sharing a name in different folders, one unreadable and one
    too small for a face."""
    root = tmp_path / "photos"
    (root / "a").mkdir(parents=True)
    (root / "b").mkdir()
    rng = np.random.default_rng(1)
    for index in range(9):
        height, width = 60 + 17 * index, 90 + 11 * index
        image = rng.integers(0, 256, (height, width, 3), dtype=np.uint8)
        image[height // 3: 2 * height // 3, width // 3: 2 * width // 3] //= 2
        suffix = (".jpg", ".png", ".webp")[index % 3]
        Image.fromarray(image).save(root / f"photo{index:02d}{suffix}")
    Image.fromarray(rng.integers(0, 256, (80, 70), dtype=np.uint8)).save(root / "a" / "same.png")
    Image.fromarray(rng.integers(0, 256, (70, 80, 3), dtype=np.uint8)).save(root / "b" / "same.png")
    Image.fromarray(rng.integers(0, 256, (12, 12, 3), dtype=np.uint8)).save(root / "tiny.png")
    (root / "broken.jpg").write_bytes(b"\xff\xd8\xff not really a jpeg")
    return root


def _outputs(outcomes, out_dir: Path | None):
    files = {path.name: path.read_bytes() for path in sorted(out_dir.iterdir())} if out_dir else {}
    return [(outcome.path, outcome.error, outcome.faces,
             outcome.annotated.name if outcome.annotated else None) for outcome in outcomes], files


# --- the threads -------------------------------------------------------------------------------------------------


def test_results_come_in_the_items_order_and_one_worker_stages_see_them_in_order():
    rng = np.random.default_rng(0)
    delays = rng.uniform(0, 0.01, 40)
    seen = []

    def slow_square(item):
        time.sleep(delays[item])  # four workers finish out of order
        return item * item

    def record(value):
        seen.append(value)
        return value + 1

    with OverlappedStages(range(40), [Stage(slow_square, workers=4), Stage(record)], max_in_flight=6) as run:
        assert len(run) == 40
        results = list(run)
    assert results == [item * item + 1 for item in range(40)]
    assert seen == [item * item for item in range(40)]
    assert overlap_threads() == []


def test_no_more_than_max_in_flight_items_between_the_first_stage_and_the_consumer():
    lock, live, most, entered = threading.Lock(), [0], [0], [0]

    def enter(item):
        with lock:
            live[0] += 1
            entered[0] += 1
            most[0] = max(most[0], live[0])
        return item

    def consume():
        with OverlappedStages(range(30), [Stage(enter, workers=3), Stage(lambda item: item)], max_in_flight=5) as run:
            for index, _ in enumerate(run):
                if index == 0:  # let the stages run as far ahead as they may before consuming anything
                    deadline = time.monotonic() + 10
                    while entered[0] < 5 and time.monotonic() < deadline:
                        time.sleep(0.001)
                    time.sleep(0.05)
                with lock:
                    live[0] -= 1

    assert finishes(consume) is None
    assert most[0] == 5, "the stages ran ahead up to the bound, and never past it"


def test_a_stage_error_reaches_the_consumer_in_order_and_stops_every_thread():
    received = []

    def fail_on_seven(item):
        if item == 7:
            raise RuntimeError("item 7 is bad")
        return item

    def consume():
        with OverlappedStages(range(1000), [Stage(lambda item: item, workers=2), Stage(fail_on_seven),
                                            Stage(lambda item: item)], max_in_flight=4) as run:
            for value in run:
                received.append(value)

    error = finishes(consume)
    assert isinstance(error, RuntimeError) and "item 7" in str(error)
    assert received == list(range(7))
    assert overlap_threads() == []


@pytest.mark.parametrize("leave", ["ctrl_c", "break"])
def test_leaving_early_stops_every_thread_without_hanging(leave):
    started = []

    def first(item):
        started.append(item)
        time.sleep(0.01)
        return item

    def second(item):
        time.sleep(0.01)
        return item

    def consume():
        with OverlappedStages(range(10_000), [Stage(first, workers=2), Stage(second)], max_in_flight=8) as run:
            for value in run:
                if value == 3:
                    if leave == "ctrl_c":
                        raise KeyboardInterrupt
                    break

    error = finishes(consume)
    assert isinstance(error, KeyboardInterrupt) if leave == "ctrl_c" else error is None
    assert overlap_threads() == []
    assert len(started) < 20, "queued work was cancelled"


def test_bad_settings_are_refused():
    with pytest.raises(ValueError, match="at least one stage"):
        OverlappedStages([1], [], max_in_flight=1)
    with pytest.raises(ValueError, match="worker"):
        OverlappedStages([1], [Stage(abs, workers=0)], max_in_flight=1)
    with pytest.raises(ValueError, match="max_in_flight"):
        OverlappedStages([1], [Stage(abs)], max_in_flight=0)


# --- predict_files and crop_faces ----------------------------------------------------------------------------------


@pytest.mark.parametrize("write_copies", [True, False])
def test_overlapped_predictions_and_files_equal_the_sequential_ones(folder, tiny_model, tmp_path, write_copies):
    pipeline = EmotionPipeline(CentreFaceDetector(), tiny_model, align=True)
    paths, _ = find_images([folder])
    assert len(paths) == 13
    runs = {}
    for name, options in {"sequential": {"overlap": False},
                          "overlapped": {"overlap": True, "max_in_flight": 8},
                          "two_readers": {"overlap": True, "max_in_flight": 12, "readers": 2}}.items():
        out_dir = tmp_path / name if write_copies else None
        runs[name] = _outputs(predict_files(pipeline, paths, out_dir=out_dir, batch_size=4, **options), out_dir)
    outcomes, files = runs["sequential"]
    assert runs["overlapped"] == runs["sequential"] and runs["two_readers"] == runs["sequential"]
    by_name = {Path(path).relative_to(folder).as_posix(): (error, faces) for path, error, faces, _ in outcomes}
    assert "not a readable image" in by_name["broken.jpg"][0]
    assert by_name["tiny.png"] == (None, [])
    assert sum(len(faces) for _, faces in by_name.values()) == 22  # two faces in each of the 11 other photos
    if write_copies:
        assert {"same_emotions.png", "same_2_emotions.png"} <= set(files) and len(files) == 12


def test_a_folder_run_holds_no_more_photos_than_its_bound(folder, tiny_model, monkeypatch):
    import emotion.data.image_files

    original = emotion.data.image_files.read_image_file
    lock, alive, read, most = threading.Lock(), [0], [0], [0]
    batch_size, bound = 2, 6

    def forget():
        with lock:
            alive[0] -= 1

    def recording_reader(path, **options):
        image = original(path, **options)
        with lock:
            alive[0] += 1
            read[0] += 1
            most[0] = max(most[0], alive[0])
        weakref.finalize(image, forget)  # counts the decoded photo until nothing refers to it any more
        return image

    class WaitingDetector(CentreFaceDetector):
        """Holds its first batch until the reader is a batch ahead, so the run must overlap the two."""

        def detect_batch(self, images):
            deadline = time.monotonic() + 10
            while read[0] <= batch_size and time.monotonic() < deadline:
                time.sleep(0.001)
            return super().detect_batch(images)

    monkeypatch.setattr(emotion.data.image_files, "read_image_file", recording_reader)
    pipeline = EmotionPipeline(WaitingDetector(), tiny_model)
    paths, _ = find_images([folder])
    outcomes = predict_files(pipeline, paths, batch_size=batch_size, max_in_flight=bound)
    assert len(outcomes) == len(paths) and read[0] == len(paths) - 1  # broken.jpg never decodes
    assert batch_size < most[0] <= bound
    assert alive[0] == 0, "no decoded photo outlives the run"


def test_an_error_in_a_folder_run_stops_it_without_hanging(folder, tiny_model):
    class FailingDetector(CentreFaceDetector):
        def detect_batch(self, images):
            if any(image.shape[0] == 128 for image in images):  # photo04's height
                raise RuntimeError("the detector failed")
            return super().detect_batch(images)

    pipeline = EmotionPipeline(FailingDetector(), tiny_model)
    paths, _ = find_images([folder])
    error = finishes(lambda: predict_files(pipeline, paths, batch_size=2))
    assert isinstance(error, RuntimeError) and "the detector failed" in str(error)
    assert overlap_threads() == []
    with pytest.raises(ValueError, match="at least one batch"):
        predict_files(pipeline, paths, batch_size=8, max_in_flight=4)


def test_the_progress_wrapper_sees_every_batch_as_it_finishes(folder, tiny_model):
    pipeline = EmotionPipeline(CentreFaceDetector(), tiny_model)
    paths, _ = find_images([folder])
    counted = []

    def progress(batches):
        counted.append(len(batches))
        for batch in batches:
            counted.append(batch)
            yield batch

    predict_files(pipeline, paths, batch_size=4, progress=progress)
    assert counted[0] == 4 and len(counted) == 5


@pytest.mark.parametrize("output_format", ["fer", "folders", "yolo"])
def test_overlapped_crop_faces_writes_the_sequential_files_byte_for_byte(folder, tmp_path, output_format):
    from emotion.faces.crop_tool import crop_faces

    written = {}
    for overlap in (False, True):
        out = tmp_path / f"out_{overlap}"
        counts = crop_faces(folder, out, CentreFaceDetector(), output_format=output_format, align=True,
                            overlap=overlap, max_in_flight=3)
        written[overlap] = (counts, {path.relative_to(out).as_posix(): path.read_bytes()
                                     for path in sorted(out.rglob("*")) if path.is_file()})
    assert written[True] == written[False]
    counts, files = written[False]
    assert counts == {"images": 12, "faces": 22, "skipped": 2}
    assert "manifest.csv" in files and b"not a readable image" in files["manifest.csv"]


def test_the_commands_give_the_same_outputs_with_and_without_sequential(folder, tiny_model, tmp_path, capsys,
                                                                        monkeypatch):
    import emotion.app.pipeline
    import emotion.faces.detectors

    monkeypatch.setattr(emotion.app.pipeline, "create_detector", lambda name, **settings: CentreFaceDetector())
    monkeypatch.setattr(emotion.faces.detectors, "create_detector", lambda name, **settings: CentreFaceDetector())
    documents = []
    for extra in ([], ["--sequential"]):
        assert main(["predict", str(folder), "--model", str(tiny_model), "--json", *extra]) == 1  # broken.jpg
        captured = capsys.readouterr()
        assert "broken.jpg" in captured.err and "Traceback" not in captured.err
        document = json.loads(captured.out)
        documents.append({key: value for key, value in document.items() if key != "timing"})
    assert documents[0] == documents[1] and len(documents[0]["files"]) == 13
    outputs = []
    for extra in ([], ["--sequential"]):
        out = tmp_path / f"crops{len(outputs)}"
        assert main(["crop-faces", str(folder), str(out), "--detector", "centre", *extra]) == 0
        outputs.append((out / "faces.csv").read_bytes() + (out / "manifest.csv").read_bytes())
    assert outputs[0] == outputs[1]
    assert "22 face(s) from 12 image(s); 2 file(s) skipped" in capsys.readouterr().out


# --- the folder benchmark ------------------------------------------------------------------------------------------


def test_the_folder_benchmark_interleaves_the_two_ways_and_checks_their_outputs(folder, tiny_model, tmp_path):
    from emotion.app.folder_benchmark import describe_folder_benchmark, measure_folder, pass_order

    assert pass_order(3) == [(0, "sequential"), (0, "overlapped"), (1, "overlapped"), (1, "sequential"),
                             (2, "sequential"), (2, "overlapped")]
    pipeline = EmotionPipeline(CentreFaceDetector(), tiny_model)
    paths, _ = find_images([folder])
    workloads = measure_folder(pipeline, paths, tmp_path / "scratch", passes=2, warmup=2)
    for name, result in workloads.items():
        assert result["identical_outputs"], name
        assert [(run["pass"], run["way"]) for run in result["runs"]] == pass_order(2)
        assert len(result["sequential"]["photos_per_second"]) == len(result["overlapped"]["photos_per_second"]) == 2
        assert result["photos"] == 13 and result["faces"] == 22
    assert workloads["annotated_copies"]["files_compared"] == 12
    assert workloads["predictions_only"]["files_compared"] == 0
    assert list((tmp_path / "scratch").iterdir()) == [], "each run's copies are removed once hashed"
    text = describe_folder_benchmark({"workloads": workloads, "cpu_cores": 2})
    assert "outputs identical (12 annotated copies compared byte for byte)" in text and "x (per pass" in text


def test_the_folder_benchmark_notices_outputs_that_differ(folder, tiny_model, tmp_path):
    from emotion.app.folder_benchmark import measure_folder

    class DriftingDetector(CentreFaceDetector):
        """Moves its faces by a pixel on every call, as a nondeterministic stage would."""

        calls = 0

        def detect(self, image):
            DriftingDetector.calls += 1
            return [Face(box=(face.box[0] + self.calls, *face.box[1:]), score=face.score)
                    for face in super().detect(image)]

    pipeline = EmotionPipeline(DriftingDetector(), tiny_model)
    paths, _ = find_images([folder])
    workloads = measure_folder(pipeline, paths[:4], tmp_path / "scratch", passes=1, warmup=1,
                               workloads={"predictions_only": False})
    assert workloads["predictions_only"]["identical_outputs"] is False


def test_the_benchmark_sentence_states_the_ranges_and_the_busy_machine():
    from emotion.app.folder_benchmark import describe_folder_benchmark, summarise_runs

    runs = [{"pass": index, "way": way, "photos_per_second": rate, "seconds": 1.0, "other_cores": other}
            for index, way, rate, other in [(0, "sequential", 4.0, 0.1), (0, "overlapped", 6.0, 0.0),
                                            (1, "overlapped", 5.0, 0.6), (1, "sequential", 5.0, None),
                                            (2, "sequential", 4.5, 0.0), (2, "overlapped", 6.3, 0.0)]]
    summary = summarise_runs(runs)
    assert summary["sequential"] == {"photos_per_second": [4.0, 5.0, 4.5], "median": 4.5, "min": 4.0, "max": 5.0}
    assert summary["speedup"] == pytest.approx(6.0 / 4.5)
    assert summary["speedup_per_pass"] == pytest.approx([1.5, 1.0, 1.4])
    result = {**summary, "identical_outputs": True, "photos": 200, "faces": 900, "files_compared": 0}
    text = describe_folder_benchmark({"workloads": {"predictions_only": result}, "cpu_cores": 2})
    assert text == ("Predictions only, 200 photos: overlapped 6.00 photos/s (5.00-6.30) against sequential 4.50 "
                    "(4.00-5.00), medians of 3 interleaved passes: 1.33x (per pass 1.00-1.50x); outputs identical. "
                    "Other processes kept up to 0.60 of the machine's 2 cores busy during a run.")


def test_the_ceiling_of_an_overlap_is_the_cores_over_the_cores_the_sequential_way_kept_busy():
    from emotion.app.folder_benchmark import describe_folder_benchmark, overlap_ceiling, summarise_runs

    measured = [(0, "sequential", 20.0, 10.0, 16.0), (0, "overlapped", 22.0, 9.0, 17.0),
                (1, "overlapped", 21.0, 9.5, 17.0), (1, "sequential", 19.0, 10.0, 18.0),
                (2, "sequential", 21.0, 10.0, 17.0), (2, "overlapped", 23.0, 8.7, 16.0)]
    runs = [{"pass": index, "way": way, "photos_per_second": rate, "seconds": seconds, "cpu_seconds": cpu,
             "other_cores": 0.0} for index, way, rate, seconds, cpu in measured]
    assert overlap_ceiling(runs, 2) == pytest.approx({"cores_busy": 1.7, "ceiling": 2 / 1.7})
    assert overlap_ceiling([{**run, "cpu_seconds": None} for run in runs], 2) is None
    result = {**summarise_runs(runs), "identical_outputs": True, "photos": 200, "faces": 900, "files_compared": 0}
    text = describe_folder_benchmark({"workloads": {"predictions_only": result}, "cpu_cores": 2})
    assert ("One batch after another already kept 1.70 of the 2 cores busy (median over its passes), so no overlap "
            "of the same work could be more than 1.18x faster.") in text


def test_benchmark_photos_spread_over_the_folder_and_say_when_too_few(folder):
    from emotion.app.folder_benchmark import benchmark_photos
    from emotion.errors import DataMissingError

    paths, _ = find_images([folder])
    assert benchmark_photos(folder, 4) == [paths[0], paths[3], paths[6], paths[9]]
    with pytest.raises(DataMissingError, match="holds 13 images, fewer than the 14"):
        benchmark_photos(folder, 14)


@pytest.mark.real_data
def test_yunet_folder_runs_agree_on_real_photos(tiny_model, tmp_path):
    """The overlapped run with the pipeline's own detector (YuNet on onnxruntime, on its own thread) on ten WIDER
    photos copied beside an unreadable file: the same faces and the same annotated bytes as the sequential run."""
    import shutil

    from emotion.paths import data_root

    images = data_root() / "faces" / "images"
    if not os.environ.get("EMOTION_DATA") or not images.is_dir():
        pytest.skip("real-data test: set EMOTION_DATA to the data root with faces/images (the WIDER subset)")
    from emotion.faces.detectors import available_detectors

    if "yunet" not in available_detectors(["yunet"])[0]:
        pytest.skip("real-data test: YuNet's model file is not under $EMOTION_DATA/models/")
    folder = tmp_path / "wider"
    folder.mkdir()
    for path in sorted(images.rglob("*.jpg"))[::70][:10]:
        shutil.copy(path, folder / path.name)
    (folder / "zz_unreadable.jpg").write_bytes(b"")
    pipeline = EmotionPipeline("yunet", tiny_model)
    paths, _ = find_images([folder])
    runs = [_outputs(predict_files(pipeline, paths, out_dir=tmp_path / str(overlap), overlap=overlap),
                     tmp_path / str(overlap)) for overlap in (False, True)]
    assert runs[0] == runs[1]
    assert sum(len(faces) for _, _, faces, _ in runs[0][0]) > 0 and len(runs[0][1]) == 10
