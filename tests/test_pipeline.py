"""The end-to-end pipeline, the image-file reader and the face-cropping tool, on files the tests write."""

from __future__ import annotations

import csv
import json

import numpy as np
import pytest
from PIL import Image

from emotion import CLASS_NAMES
from emotion.app.cli import main
from emotion.app.pipeline import EmotionPipeline, annotate, predict_files
from emotion.data.image_files import ImageFileError, find_images, read_image_file
from emotion.errors import ConfigurationError
from emotion.faces.cropping import crop_face
from emotion.faces.detectors import Face


class CentreFaceDetector:
    """A stand-in detector: one face in the middle of any image at least 20 px wide, none in smaller ones."""

    name = "centre"
    operating_score = 0.5

    def detect(self, image):
        height, width = image.shape[:2]
        if min(height, width) < 20:
            return []
        side = min(height, width) / 2
        landmarks = ((width / 2 - side / 4, height / 2 - side / 6), (width / 2 + side / 4, height / 2 - side / 6))
        return [Face(box=(width / 2 - side / 2, height / 2 - side / 2, side, side), score=0.9, landmarks=landmarks),
                Face(box=(0, 0, 5, 5), score=0.1)]  # below operating_score: dropped

    def detect_batch(self, images):
        return [self.detect(image) for image in images]


@pytest.fixture
def photos(tmp_path):
    folder = tmp_path / "photos"
    (folder / "happy").mkdir(parents=True)
    rng = np.random.default_rng(0)
    rgb = rng.integers(0, 256, (120, 160, 3), dtype=np.uint8)
    Image.fromarray(rgb).save(folder / "rgb.jpg")
    Image.fromarray(rgb).save(folder / "happy" / "labelled.png")
    Image.fromarray(np.dstack([rgb, np.full((120, 160), 128, np.uint8)])).save(folder / "rgba.png")
    Image.fromarray(rgb[:, :, 0]).save(folder / "gray.bmp")
    Image.fromarray((rgb[:, :, 0].astype(np.uint16) * 257)).save(folder / "sixteen.png")
    Image.fromarray(rgb).save(folder / "still.webp")
    frames = [Image.fromarray(rgb), Image.fromarray(255 - rgb)]
    frames[0].save(folder / "animated.gif", save_all=True, append_images=frames[1:])
    exif = Image.Exif()
    exif[0x0112] = 6  # orientation: rotate 90 degrees clockwise to display
    Image.fromarray(rgb).save(folder / "rotated.jpg", exif=exif)
    Image.fromarray(rgb[:10, :10]).save(folder / "tiny.png")
    (folder / "empty.jpg").write_bytes(b"")
    (folder / "corrupt.png").write_bytes(b"\x89PNG\r\n\x1a\n this is not really a png")
    (folder / "notes.txt").write_text("not an image")
    return folder


def test_reader_handles_every_kind_of_file(photos):
    assert read_image_file(photos / "rgb.jpg").shape == (120, 160, 3)
    for name in ("rgba.png", "gray.bmp", "sixteen.png", "still.webp", "animated.gif"):
        image = read_image_file(photos / name)
        assert image.shape == (120, 160, 3) and image.dtype == np.uint8, name
    np.testing.assert_array_equal(read_image_file(photos / "sixteen.png")[:, :, 0],
                                  np.asarray(Image.open(photos / "gray.bmp")))
    assert read_image_file(photos / "rotated.jpg").shape == (160, 120, 3), "EXIF orientation is applied"
    with pytest.raises(ImageFileError, match="empty.jpg: the file is empty"):
        read_image_file(photos / "empty.jpg")
    with pytest.raises(ImageFileError, match="corrupt.png: not a readable image"):
        read_image_file(photos / "corrupt.png")
    with pytest.raises(ImageFileError, match="no such file"):
        read_image_file(photos / "absent.png")


def test_find_images_expands_folders_and_reports_missing_paths(photos):
    images, problems = find_images([photos, photos / "missing.jpg"])
    names = {path.name for path in images}
    assert "labelled.png" in names and "notes.txt" not in names
    assert problems == [(photos / "missing.jpg", "no such file or folder")]


def test_crop_face_is_48x48_gray_and_alignment_levels_the_eyes():
    image = np.zeros((100, 100, 3), np.uint8)
    image[30:70, 30:70] = 255
    face = Face(box=(30, 30, 40, 40), score=1.0, landmarks=((40, 40), (60, 50)))
    crop = crop_face(image, face, margin=0.0)
    assert crop.shape == (48, 48) and crop.dtype == np.uint8
    assert crop[24, 24] == 255 and crop[1:47, 1:47].min() > 200
    # A dark line through both eyes, sloping 26.6 degrees: aligned crops show it level through the centre.
    import cv2

    slanted = np.full((100, 100, 3), 255, np.uint8)
    cv2.line(slanted, (10, 35), (90, 75), (0, 0, 0), 3)
    eyes = Face(box=(30, 35, 40, 40), score=1.0, landmarks=((60, 60), (40, 50)))
    aligned = crop_face(slanted, eyes, margin=0.0, align=True)
    plain = crop_face(slanted, eyes, margin=0.0)
    assert aligned[22:27, 4:44].min(axis=0).max() < 100, "the line crosses the aligned crop horizontally"
    assert plain[22:27, 4:44].min(axis=0).max() > 200, "unaligned, it leaves the centre rows"
    border = crop_face(image, Face(box=(-20, -20, 40, 40), score=1.0))
    assert border.shape == (48, 48)


def test_pipeline_batches_faces_and_keeps_going_past_bad_files(photos, tiny_model, tmp_path):
    pipeline = EmotionPipeline(CentreFaceDetector(), tiny_model)
    paths, _ = find_images([photos])
    outcomes = predict_files(pipeline, paths, out_dir=tmp_path / "annotated", batch_size=4)
    by_name = {outcome.path.name: outcome for outcome in outcomes}
    assert [outcome.path for outcome in outcomes] == paths
    assert by_name["empty.jpg"].error and by_name["corrupt.png"].error
    assert by_name["tiny.png"].error is None and by_name["tiny.png"].faces == []
    for name in ("rgb.jpg", "rgba.png", "gray.bmp", "sixteen.png", "rotated.jpg", "animated.gif"):
        faces = by_name[name].faces
        assert len(faces) == 1, name
        assert faces[0].emotion in CLASS_NAMES
        assert sum(faces[0].probabilities.values()) == pytest.approx(1.0, abs=1e-4)
        assert by_name[name].annotated.is_file()
    assert pipeline.times.faces == 8 and pipeline.times.images == 9


def test_annotate_draws_on_a_copy_at_any_size():
    from emotion.app.pipeline import FacePrediction

    prediction = FacePrediction(box=(10, 10, 30, 30), detector_score=0.9, emotion="happy",
                                probabilities={name: (1.0 if name == "happy" else 0.0) for name in CLASS_NAMES})
    for shape in ((60, 80, 3), (3000, 4000, 3)):
        image = np.zeros(shape, np.uint8)
        drawn = annotate(image, [prediction])
        assert drawn.shape == shape and drawn.any() and not image.any()


def test_predict_command_prints_json_and_fails_on_bad_files(photos, tiny_model, capsys, monkeypatch):
    import emotion.faces.detectors

    monkeypatch.setattr(emotion.faces.detectors, "create_detector", lambda name, **settings: CentreFaceDetector())
    import emotion.app.pipeline

    monkeypatch.setattr(emotion.app.pipeline, "create_detector", lambda name, **settings: CentreFaceDetector())
    status = main(["predict", str(photos / "rgb.jpg"), str(photos / "corrupt.png"), str(photos / "gone.png"),
                   "--model", str(tiny_model), "--json"])
    captured = capsys.readouterr()
    document = json.loads(captured.out)
    assert status == 1
    assert [entry["ok"] for entry in document["files"]] == [True, False]
    assert document["missing"][0]["path"].endswith("gone.png")
    assert "corrupt.png" in captured.err and "Traceback" not in captured.err
    assert main(["predict", str(photos / "rgb.jpg"), "--model", str(tiny_model)]) == 0
    assert "rgb.jpg: 1 face(s)" in capsys.readouterr().out


def test_predict_with_a_missing_model_is_a_clear_error(photos, capsys, tmp_path):
    assert main(["predict", str(photos / "rgb.jpg"), "--detector", "haar", "--model", str(tmp_path / "no.keras")]) == 1
    assert "does not exist" in capsys.readouterr().err


@pytest.mark.parametrize("output_format", ["fer", "folders", "yolo"])
def test_crop_tool_writes_each_format_and_a_manifest(photos, tmp_path, output_format):
    from emotion.faces.crop_tool import crop_faces

    out = tmp_path / "out"
    counts = crop_faces(photos, out, CentreFaceDetector(), output_format=output_format)
    assert counts == {"images": 9, "faces": 8, "skipped": 3}  # tiny (no face), empty, corrupt; .txt not collected
    manifest = list(csv.DictReader((out / "manifest.csv").read_text().splitlines()))
    reasons = {row["source"]: row["reason"] for row in manifest if row["status"] == "skipped"}
    assert reasons["tiny.png"] == "no face detected" and "the file is empty" in reasons["empty.jpg"]
    if output_format == "fer":
        rows = list(csv.DictReader((out / "faces.csv").read_text().splitlines()))
        assert len(rows) == 8 and all(len(row["pixels"].split()) == 2304 for row in rows)
        labelled = [row for row, entry in zip(rows, [m for m in manifest if m["status"] == "written"])
                    if entry["source"].startswith("happy")]
        assert labelled[0]["emotion"] == str(CLASS_NAMES.index("happy"))
    elif output_format == "folders":
        assert (out / "happy" / "happy_labelled_0.png").is_file()
        assert len(list((out / "unlabelled").glob("*.png"))) == 7
    else:
        label = (out / "labels" / "rotated.txt").read_text().split()
        assert label[0] == "0" and [float(value) for value in label[1:3]] == [0.5, 0.5]
        with Image.open(out / "images" / "rotated.png") as image:
            assert image.size == (120, 160)


def test_crop_tool_refuses_output_inside_input(photos):
    from emotion.faces.crop_tool import crop_faces

    with pytest.raises(ConfigurationError, match="inside"):
        crop_faces(photos, photos / "out", CentreFaceDetector())
    with pytest.raises(ConfigurationError, match="unknown format"):
        crop_faces(photos, photos.parent / "o", CentreFaceDetector(), output_format="coco")


def test_default_model_is_chosen_by_publictest_not_privatetest(tmp_path):
    from emotion.app.pipeline import default_model_path
    from emotion.provenance import write_results

    models, results = tmp_path / "models", tmp_path / "results"
    models.mkdir()
    for name, public, private in (("a", 0.70, 0.60), ("b", 0.65, 0.75)):
        (models / f"{name}.keras").write_bytes(b"weights")
        write_results(results / f"03_train_{name}.json", {
            "model_file": f"{name}.keras", "publictest_accuracy_at_chosen_epoch": public,
            "test": {"accuracy": private}}, mode="full", seed=0)
    assert default_model_path(results, models) == models / "a.keras"
    (models / "a.keras").unlink()
    assert default_model_path(results, models) == models / "b.keras"
    (models / "b.keras").unlink()
    from emotion.errors import ModelFileError

    with pytest.raises(ModelFileError, match="no released model"):
        default_model_path(results, models)


def test_the_pipeline_forward_pass_equals_predict_probabilities(tiny_model):
    import keras

    from emotion.classify.evaluate import forward_function, predict_probabilities

    model = keras.saving.load_model(tiny_model, compile=False)
    faces = np.random.default_rng(0).integers(0, 256, (5, 48, 48), dtype=np.uint8)
    forward = forward_function(model, batch_size=2)  # three batches, the last of one face
    np.testing.assert_allclose(forward(faces), predict_probabilities(model, faces), atol=1e-6)
    assert forward(faces[:0]).shape == (0, 7)
    with pytest.raises(ValueError, match="images must be"):
        forward(np.zeros((2, 40, 40), np.uint8))


def test_the_pipeline_classifies_on_tflite_by_default_with_the_tensorflow_numbers(tiny_model):
    image = np.random.default_rng(2).integers(0, 256, (120, 160, 3), dtype=np.uint8)
    lite = EmotionPipeline(CentreFaceDetector(), str(tiny_model))
    plain = EmotionPipeline(CentreFaceDetector(), str(tiny_model), classifier_runtime="tensorflow")
    assert (lite.classifier_runtime, plain.classifier_runtime) == ("tflite", "tensorflow")
    (a,), (b,) = lite.predict(image), plain.predict(image)
    assert a.emotion == b.emotion
    assert list(a.probabilities.values()) == pytest.approx(list(b.probabilities.values()), abs=1e-5)
    with pytest.raises(ConfigurationError, match="unknown classifier runtime 'onnx'; use one of tflite, tensorflow"):
        EmotionPipeline(CentreFaceDetector(), str(tiny_model), classifier_runtime="onnx")


def test_a_released_ensemble_is_the_default_only_when_its_publictest_accuracy_is_higher(tmp_path):
    from emotion.app.pipeline import default_model_path
    from emotion.provenance import write_results

    models, results = tmp_path / "models", tmp_path / "results"
    models.mkdir()
    (models / "a.keras").write_bytes(b"weights")
    (models / "pair.keras").write_bytes(b"weights")
    write_results(results / "03_train_a.json", {"model_file": "a.keras", "publictest_accuracy_at_chosen_epoch": 0.70},
                  mode="full", seed=0)
    write_results(results / "03_ensemble_pair.json", {"model_file": "pair.keras", "publictest_accuracy": 0.69,
                                                      "publictest_accuracy_tta": 0.72}, mode="full", seed=0)
    assert default_model_path(results, models) == models / "a.keras"  # TTA is not what the pipeline runs
    write_results(results / "03_ensemble_pair.json", {"model_file": "pair.keras", "publictest_accuracy": 0.71},
                  mode="full", seed=0)
    assert default_model_path(results, models) == models / "pair.keras"
    assert default_model_path(results, models, ensembles=False) == models / "a.keras"  # single networks only
