"""The detector interface: bad input is converted or refused with a clear error, never a crash inside a library."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pytest

from emotion.data.wider_face import read_image
from emotion.errors import ConfigurationError, DataFormatError, DataMissingError
from emotion.faces import detectors
from emotion.faces.detectors import (
    MAX_IMAGE_SIDE,
    Face,
    FaceDetector,
    YuNetDetector,
    available_detectors,
    create_detector,
    prepare_image,
)

FAST_DETECTORS = ("haar", "dlib_hog")


def test_prepare_image_converts_grayscale_rgba_and_16_bit():
    rng = np.random.default_rng(0)
    rgb = rng.integers(0, 256, size=(30, 40, 3), dtype=np.uint8)
    gray = rgb[:, :, 0]
    assert np.array_equal(prepare_image(gray), np.repeat(gray[:, :, None], 3, axis=2))
    assert np.array_equal(prepare_image(gray[:, :, None]), prepare_image(gray))
    rgba = np.concatenate([rgb, np.full((30, 40, 1), 7, np.uint8)], axis=2)
    assert np.array_equal(prepare_image(rgba), rgb)
    assert np.array_equal(prepare_image(rgb.astype(np.uint16) * 257), rgb)
    view = rgb[:, ::2]
    assert prepare_image(view).flags["C_CONTIGUOUS"]


@pytest.mark.parametrize("image, message", [
    (np.zeros((30, 30, 3), np.float32), "uint8 or uint16"),
    (np.zeros((30, 30, 2), np.uint8), r"shaped \(h, w\)"),
    (np.zeros((2, 30, 30, 3), np.uint8), r"shaped \(h, w\)"),
    (np.zeros((0, 30, 3), np.uint8), "empty"),
    ([[0, 1], [2, 3]], "numpy array"),
])
def test_prepare_image_refuses_what_it_cannot_convert(image, message):
    with pytest.raises(DataFormatError, match=message):
        prepare_image(image)


@pytest.mark.parametrize("name", FAST_DETECTORS + ("dlib_cnn",))
def test_every_bad_input_case_is_handled_by_each_detector(name):
    detector = create_detector(name)
    blank = np.full((120, 160, 3), 128, np.uint8)
    assert detector.detect(blank) == []  # no face
    assert detector.detect(np.zeros((10, 400, 3), np.uint8)) == []  # under MIN_IMAGE_SIDE
    assert detector.detect(np.full((120, 160), 128, np.uint8)) == []  # grayscale
    assert detector.detect(np.full((120, 160, 4), 128, np.uint8)) == []  # RGBA
    assert detector.detect(np.full((120, 160, 3), 128 * 257, np.uint16)) == []  # 16-bit
    with pytest.raises(DataFormatError):
        detector.detect(np.zeros((120, 160, 3), np.float64))


def test_huge_images_are_shrunk_and_boxes_mapped_back(monkeypatch):
    seen = []

    def fake_detect(self, image):
        seen.append(image.shape)
        height, width = image.shape[:2]
        return [Face(box=(0.0, 0.0, width / 2, height / 2), score=1.0, landmarks=((width / 4, height / 4),))]

    monkeypatch.setattr(detectors.HaarDetector, "_detect_rgb", fake_detect)
    huge = np.zeros((2 * MAX_IMAGE_SIDE, MAX_IMAGE_SIDE // 2, 3), np.uint8)
    (face,) = create_detector("haar").detect(huge)
    assert max(seen[0][:2]) == MAX_IMAGE_SIDE
    assert face.box[2:] == pytest.approx((MAX_IMAGE_SIDE / 4, MAX_IMAGE_SIDE), rel=1e-3)
    assert face.landmarks[0] == pytest.approx((MAX_IMAGE_SIDE / 8, MAX_IMAGE_SIDE / 2), rel=1e-3)


def test_unknown_detector_or_setting_lists_the_valid_ones():
    with pytest.raises(ConfigurationError, match="haar"):
        create_detector("viola")
    with pytest.raises(ConfigurationError, match="min_neighbors"):
        create_detector("haar", neighbours=3)
    assert create_detector("haar", min_neighbors=5).settings["min_neighbors"] == 5
    assert isinstance(create_detector("haar"), FaceDetector)


def test_yunet_without_its_file_is_skipped_with_a_clear_message(tmp_path, monkeypatch):
    with pytest.raises(DataMissingError, match="YuNet's weights are missing"):
        YuNetDetector(model_path=tmp_path / "absent.onnx")
    monkeypatch.setenv("EMOTION_DATA", str(tmp_path))
    usable, skipped = available_detectors()
    assert "yunet" not in usable and "haar" in usable and "mtcnn" in usable
    assert "face_detection_yunet_2023mar.onnx is missing" in skipped["yunet"]
    with pytest.raises(DataMissingError, match=str(tmp_path)):
        create_detector("yunet")


def test_mtcnn_handles_no_face_tiny_and_mixed_batches():
    mtcnn = create_detector("mtcnn")
    blank = np.full((120, 160, 3), 128, np.uint8)
    assert mtcnn.detect(blank) == []
    assert mtcnn.detect(np.zeros((12, 12, 3), np.uint8)) == []
    results = mtcnn.detect_batch([blank, np.zeros((5, 5), np.uint8), np.full((60, 80, 4), 9, np.uint8)])
    assert results == [[], [], []]
    with pytest.raises(DataFormatError):
        mtcnn.detect_batch([blank, np.zeros((30, 30, 3), np.int64)])


@pytest.fixture(scope="module")
def real_image() -> np.ndarray:
    value = os.environ.get("EMOTION_DATA")
    if not value:
        pytest.skip("real-data test: set EMOTION_DATA to the data root (e.g. ../shared/data) to run it")
    path = Path(value).resolve() / "faces" / "images" / "0_Parade_Parade_0_470.jpg"
    if not path.is_file():
        pytest.skip(f"real-data test: {path} is missing")
    return read_image(path)


def test_yunet_and_mtcnn_find_faces_with_landmarks_on_a_real_image(real_image):
    from emotion.analysis.error_analysis import photo_detection_recall
    from emotion.data.wider_face import load_annotations

    annotations = load_annotations(Path(os.environ["EMOTION_DATA"]).resolve() / "faces")
    # Of the photo's 21 valid annotated faces at least 32 px tall, YuNet finds all and MTCNN 19 (measured; both
    # detectors are deterministic), with 26 and 33 detections at their default scores.
    for name, found, detections in (("yunet", 21, 26), ("mtcnn", 19, 33)):
        faces = create_detector(name).detect(real_image)
        recall = photo_detection_recall(["0_Parade_Parade_0_470.jpg"], [np.array([face.box for face in faces])],
                                        annotations)
        assert (recall["annotated_faces"], recall["found"], len(faces)) == (21, found, detections), name
        face = faces[0]
        assert len(face.box) == 4 and len(face.landmarks) == 5
        x, y, width, height = face.box
        assert 0 <= x < real_image.shape[1] and 0 <= y < real_image.shape[0] and width > 0 and height > 0


def test_converted_inputs_give_the_same_faces_as_rgb(real_image):
    detector = create_detector("haar")

    # OpenCV's cascade runs scales in parallel threads, so the order of its faces may vary between calls.
    def boxes(image):
        return sorted(face.box for face in detector.detect(image))

    reference = boxes(real_image)
    assert reference
    assert boxes(real_image.astype(np.uint16) * 257) == reference
    rgba = np.concatenate([real_image, np.full(real_image.shape[:2] + (1,), 255, np.uint8)], axis=2)
    assert boxes(rgba) == reference
    gray = real_image.mean(axis=2).round().astype(np.uint8)
    assert len(boxes(gray)) >= len(reference) // 2


def test_mtcnn_batch_gives_the_faces_of_single_calls(real_image):
    mtcnn = create_detector("mtcnn")
    small = real_image[:400, :600]
    single = mtcnn.detect(small)
    batched = mtcnn.detect_batch([small, small])
    assert len(batched) == 2
    for faces in batched:
        assert len(faces) == len(single)
        assert np.allclose([f.box for f in faces], [f.box for f in single], atol=2)


def test_the_pipeline_detector_is_yunet_when_its_file_is_present_else_mtcnn(monkeypatch, tmp_path):
    from emotion.faces.detectors import YUNET_FILE, default_detector

    monkeypatch.setenv("EMOTION_DATA", str(tmp_path))
    assert default_detector() == "mtcnn"
    (tmp_path / YUNET_FILE).parent.mkdir(parents=True)
    (tmp_path / YUNET_FILE).write_bytes(b"onnx")
    assert default_detector() == "yunet"


def test_mtcnn_pyramid_drops_levels_smaller_than_pnet_and_keeps_the_package_scales_otherwise():
    from mtcnn.utils.images import build_scale_pyramid

    from emotion.faces.detectors import mtcnn_scales

    for width, height, min_face in ((640, 480, 14), (640, 480, 20), (1024, 768, 14)):
        assert np.allclose(mtcnn_scales(width, height, min_face, 0.709),
                           build_scale_pyramid(width, height, min_face, 0.709))
    scales = mtcnn_scales(640, 480, 40, 0.709)
    assert len(scales) == 8 and len(build_scale_pyramid(640, 480, 40, 0.709)) == 10
    assert (480 * scales >= 12).all()


def test_max_side_shrinks_photos_for_detection_and_maps_the_boxes_back(monkeypatch):
    seen = []

    def fake_detect(self, image):
        seen.append(image.shape)
        height, width = image.shape[:2]
        return [Face(box=(width / 4, height / 4, width / 2, height / 2), score=1.0)]

    monkeypatch.setattr(detectors.HaarDetector, "_detect_rgb", fake_detect)
    photo = np.zeros((600, 1000, 3), np.uint8)
    (face,) = create_detector("haar", max_side=500).detect(photo)
    assert seen[-1][:2] == (300, 500)
    assert face.box == pytest.approx((250.0, 150.0, 500.0, 300.0), rel=1e-3)
    (face,) = create_detector("haar").detect(photo)  # default: the photo's own size
    assert seen[-1][:2] == (600, 1000)
    assert create_detector("haar", max_side=2000).detect(photo) and seen[-1][:2] == (600, 1000)  # never enlarged
    assert "max_side=500" in repr(create_detector("haar", max_side=500))


@pytest.mark.parametrize("bad", [0, 10, -5, 1.5, "640", True, 10**6])
def test_a_bad_max_side_is_refused_with_the_range(bad):
    with pytest.raises(ConfigurationError, match="max_side must be a whole number of pixels from 20 to 4096"):
        create_detector("haar", max_side=bad)


def test_yunet_on_onnxruntime_finds_the_same_faces_as_opencv(real_data_root):
    from emotion.data.wider_face import load_image_table

    table = load_image_table(real_data_root / "faces")
    opencv, runtime = create_detector("yunet"), create_detector("yunet", backend="onnxruntime")
    assert "backend='onnxruntime'" in repr(runtime)
    compared = 0
    for name in table["image"][:6]:
        image = read_image(real_data_root / "faces" / "images" / name)
        expected, found = opencv.detect(image), runtime.detect(image)
        assert len(found) == len(expected), name
        for a, b in zip(sorted(expected, key=lambda face: -face.score), sorted(found, key=lambda face: -face.score)):
            assert b.score == pytest.approx(a.score, abs=1e-4)
            assert b.box == pytest.approx(a.box, abs=0.05)
            assert np.allclose(b.landmarks, a.landmarks, atol=0.05)
        compared += len(found)
    assert compared == 87  # YuNet's faces (score >= 0.3) on these six photos, so the comparison means something


def test_an_unknown_yunet_backend_is_refused(real_data_root):
    with pytest.raises(ConfigurationError, match="unknown backend 'tensorrt'; use one of opencv, onnxruntime"):
        create_detector("yunet", backend="tensorrt")


def test_yunet_decoding_places_an_anchor_where_its_grid_cell_says():
    from emotion.faces.yunet_onnxruntime import STRIDES, decode

    # A 64x64 padded image: 8x8, 4x4 and 2x2 cells. One confident anchor at stride 16, row 1, column 2.
    outputs = {"padded_width": 64}
    for stride in STRIDES:
        cells = (64 // stride) ** 2
        outputs |= {f"cls_{stride}": np.zeros((1, cells, 1), np.float32),
                    f"obj_{stride}": np.zeros((1, cells, 1), np.float32),
                    f"bbox_{stride}": np.zeros((1, cells, 4), np.float32),
                    f"kps_{stride}": np.zeros((1, cells, 10), np.float32)}
    index = 1 * 4 + 2
    outputs["cls_16"][0, index, 0], outputs["obj_16"][0, index, 0] = 0.81, 1.0
    outputs["bbox_16"][0, index] = [0.5, 0.25, np.log(2.0), 0.0]
    outputs["kps_16"][0, index, :2] = [0.1, 0.2]
    (row,) = decode(outputs, score_threshold=0.5, nms_threshold=0.3, top_k=10)
    # centre ((2 + 0.5) * 16, (1 + 0.25) * 16) = (40, 20); size (2 * 16, 16); score sqrt(0.81 * 1)
    assert row[:4] == pytest.approx([24.0, 12.0, 32.0, 16.0])
    assert row[4:6] == pytest.approx([(2 + 0.1) * 16, (1 + 0.2) * 16])
    assert row[14] == pytest.approx(0.9)
    assert decode(outputs, score_threshold=0.95, nms_threshold=0.3, top_k=10).shape == (0, 15)


def test_the_onnxruntime_yunet_session_does_not_spin_between_runs(real_data_root):
    from emotion.faces.yunet_onnxruntime import SESSION_CONFIG

    runtime = create_detector("yunet", backend="onnxruntime")._runtime
    options = runtime.session.get_session_options()
    assert SESSION_CONFIG == {"session.intra_op.allow_spinning": "0"}
    assert options.get_session_config_entry("session.intra_op.allow_spinning") == "0"
