"""The web app (emotion.app.webapp) through Flask's test client, its load test, and read_image_bytes; every upload is
made here in memory. A stand-in detector (one face in the middle of any image of 20 px or more) and a one-layer
model keep it quick; one test runs the real Haar detector and one the released model on a study photo."""

from __future__ import annotations

import io
import json
import struct
import threading
import zlib

import numpy as np
import pytest
from PIL import Image

from emotion import CLASS_NAMES
from emotion.app.cli import build_parser, main
from emotion.app.pipeline import EmotionPipeline
from emotion.app.webapp import GENERIC_ERROR, MAX_FILES, MAX_UPLOAD_BYTES, create_app, sample_photos
from emotion.data.image_files import IMAGE_SUFFIXES, ImageFileError, read_image_bytes, read_image_file
from emotion.faces.detectors import Face
from emotion.provenance import write_results

SUPPORTED = ", ".join(IMAGE_SUFFIXES)


class CentreFaceDetector:
    """One face, a square half the shorter side, in the middle of any image at least 20 px wide; none in smaller."""

    name = "centre"
    operating_score = 0.5

    def detect_batch(self, images):
        faces = []
        for image in images:
            height, width = image.shape[:2]
            side = min(height, width) / 2
            faces.append([] if min(height, width) < 20 else
                         [Face(box=(width / 2 - side / 2, height / 2 - side / 2, side, side), score=0.9)])
        return faces


@pytest.fixture(scope="module")
def site(tmp_path_factory):
    """A results folder with one headline row, a report, and a sample photo."""
    root = tmp_path_factory.mktemp("site")
    write_results(root / "results" / "02_face_detectors.json", {"headline": [
        {"quantity": "MTCNN AP (hard)", "value": 0.61234, "split": "WIDER val", "protocol": "IoU 0.5"}]},
        mode="full", seed=0)
    (root / "report").mkdir()
    (root / "report" / "index.html").write_text("<html><body>the report</body></html>")
    sample = root / "sample.jpg"
    sample.write_bytes(encode(photo()))
    return root


@pytest.fixture(scope="module")
def client(tiny_model, site):
    app = create_app(EmotionPipeline(CentreFaceDetector(), tiny_model), results_dir=site / "results",
                     samples={"sample.jpg": site / "sample.jpg"}, report_dir=site / "report")
    return app.test_client()


def photo(height=120, width=160, seed=0) -> np.ndarray:
    return np.random.default_rng(seed).integers(0, 256, (height, width, 3), dtype=np.uint8)


def encode(image, format="JPEG", **options) -> bytes:
    buffer = io.BytesIO()
    (image if isinstance(image, Image.Image) else Image.fromarray(image)).save(buffer, format, **options)
    return buffer.getvalue()


def png_header_only(width: int, height: int) -> bytes:
    """A PNG that declares ``width x height`` pixels and holds none: what a decompression bomb's header looks like."""
    def chunk(kind, data):
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0))
            + chunk(b"IEND", b""))


def post(client, *files, field="file"):
    return client.post("/api/predict", data={field: [(io.BytesIO(data), name) for name, data in files]},
                       content_type="multipart/form-data")


def bad_and_odd_uploads() -> list[tuple[str, bytes]]:
    rgb = photo()
    jpeg = encode(rgb)
    exif = Image.Exif()
    exif[0x0112] = 6  # rotate 90 degrees clockwise to display
    frames = [Image.fromarray(rgb), Image.fromarray(255 - rgb)]
    gif = io.BytesIO()
    frames[0].save(gif, "GIF", save_all=True, append_images=frames[1:])
    return [
        ("good.jpg", jpeg),
        ("notes.jpg", b"these are my lesson notes, not a photo\n"),
        ("truncated.jpg", jpeg[: len(jpeg) // 2]),
        ("empty.jpg", b""),
        ("drawing.jpg", b'<?xml version="1.0"?>\n<svg xmlns="http://www.w3.org/2000/svg" width="9" height="9"/>'),
        ("page.jpg", b"<!doctype html><html><body>hello</body></html>"),
        ("sixteen.png", encode(Image.fromarray(rgb[:, :, 0].astype(np.uint16) * 257), "PNG")),
        ("alpha.png", encode(np.dstack([rgb, np.full(rgb.shape[:2], 128, np.uint8)]), "PNG")),
        ("animated.gif", gif.getvalue()),
        ("rotated.jpg", encode(rgb, exif=exif)),
    ]


class StageClock:
    """A stand-in for ``time.perf_counter`` that moves only while a stage works: :meth:`spend` wraps a stage's
    function so that each call takes a set number of seconds, however often the pipeline reads the clock."""

    def __init__(self):
        self.now = 100.0

    def __call__(self) -> float:
        return self.now

    def spend(self, seconds: float, work):
        def timed(*args, **kwargs):
            self.now += seconds
            return work(*args, **kwargs)
        return timed


def test_predict_answers_the_documented_json_schema(client, tiny_model, monkeypatch):
    from types import SimpleNamespace

    import emotion.app.pipeline

    # Detection takes 0.25 s, each crop 0.125 s and the classifier 0.5 s on the stand-in clock (binary fractions,
    # so every sum below is exact).
    pipeline, clock = client.application.extensions["emotion_pipeline"], StageClock()
    monkeypatch.setattr(emotion.app.pipeline, "time", SimpleNamespace(perf_counter=clock))
    monkeypatch.setattr(pipeline.detector, "detect_batch", clock.spend(0.25, pipeline.detector.detect_batch))
    monkeypatch.setattr(emotion.app.pipeline, "crop_face", clock.spend(0.125, emotion.app.pipeline.crop_face))
    monkeypatch.setattr(pipeline, "forward", clock.spend(0.5, pipeline.forward))
    response = post(client, ("class photo.jpg", encode(photo())))
    assert response.status_code == 200 and response.mimetype == "application/json"
    document = response.get_json()
    assert list(document) == ["model", "detector", "files", "missing", "timing"]
    assert document["detector"] == "centre" and document["model"] == str(tiny_model) and document["missing"] == []
    [entry] = document["files"]
    assert entry == {**entry, "path": "class photo.jpg", "ok": True, "error": None, "annotated": None}
    assert list(entry) == ["path", "ok", "error", "faces", "annotated"]
    [face] = entry["faces"]
    assert list(face) == ["box", "detector_score", "emotion", "probabilities"]
    assert face["box"] == [50.0, 30.0, 60.0, 60.0] and face["detector_score"] == 0.9
    assert list(face["probabilities"]) == list(CLASS_NAMES)
    # The numbers are the classifier's on this face's crop (rounded to 4 decimals in the JSON).
    import io

    from emotion.classify.evaluate import load_model, predict_probabilities
    from emotion.faces.cropping import crop_face
    from emotion.faces.detectors import Face

    decoded = np.asarray(Image.open(io.BytesIO(encode(photo()))).convert("RGB"))  # the JPEG the server read
    crop = crop_face(decoded, Face(box=(50.0, 30.0, 60.0, 60.0), score=0.9))
    expected = predict_probabilities(load_model(tiny_model), crop[None])[0]
    assert list(face["probabilities"].values()) == pytest.approx(expected.tolist(), abs=1e-4)
    assert face["emotion"] == max(face["probabilities"], key=face["probabilities"].get)
    timing = document["timing"]
    assert list(timing) == ["images", "faces", "detect_seconds", "crop_seconds", "classify_seconds", "total_seconds",
                            "ms_per_image", "faces_per_second"]
    assert timing["images"] == 1 and timing["faces"] == 1, "timing covers this request only"
    assert timing == {"images": 1, "faces": 1, "detect_seconds": 0.25, "crop_seconds": 0.125,
                      "classify_seconds": 0.5, "total_seconds": 0.875, "ms_per_image": 875.0,
                      "faces_per_second": 1 / 0.875}


def test_each_file_is_named_by_its_client_name_never_a_server_path(client):
    document = post(client, ("Pictures/2024/class.jpg", encode(photo())),
                    ("", encode(photo(seed=1)))).get_json()
    assert [entry["path"] for entry in document["files"]] == ["class.jpg", "upload 2"]


def test_bad_files_get_their_own_error_and_the_others_are_still_processed(client):
    response = post(client, *bad_and_odd_uploads())
    assert response.status_code == 200
    entries = {entry["path"]: entry for entry in response.get_json()["files"]}
    assert list(entries) == [name for name, _ in bad_and_odd_uploads()], "one entry per upload, in order"
    errors = {name: entry["error"] for name, entry in entries.items()}
    assert errors["notes.jpg"] == ("notes.jpg: not a readable image (the content is in no image format Pillow knows)."
                                   f" Supported: {SUPPORTED}.")
    assert errors["truncated.jpg"].startswith("truncated.jpg: not a readable image (OSError: image file is truncated")
    assert errors["empty.jpg"] == "empty.jpg: the file is empty (0 bytes)."
    for name in ("drawing.jpg", "page.jpg"):
        assert errors[name] == (f"{name}: not a readable image (the content is in no image format Pillow knows; it is "
                                f"text (SVG, HTML or XML?), not a photo). Supported: {SUPPORTED}.")
    for name in ("good.jpg", "sixteen.png", "alpha.png", "animated.gif", "rotated.jpg"):
        assert entries[name]["ok"] and errors[name] is None and len(entries[name]["faces"]) == 1, name
    assert entries["good.jpg"]["faces"][0]["box"] == [50.0, 30.0, 60.0, 60.0]
    assert entries["rotated.jpg"]["faces"][0]["box"] == [30.0, 50.0, 60.0, 60.0], "EXIF orientation: 120 wide, 160 high"
    assert [entry["ok"] for entry in entries.values()].count(False) == 5


def test_images_over_the_pixel_limit_are_refused_before_decoding(client):
    bomb = encode(Image.new("1", (7000, 7000)), "PNG")
    assert len(bomb) < 10_000, "a few kilobytes that decode to 49 megapixels"
    document = post(client, ("bomb.png", bomb), ("huge.png", png_header_only(20000, 20000)),
                    ("good.jpg", encode(photo()))).get_json()
    assert [entry["error"] for entry in document["files"]] == [
        "bomb.png: 7000x7000 pixels is larger than the 40,000,000-pixel limit; downscale it first.",
        "huge.png: 400,000,000 pixels is larger than the 40,000,000-pixel limit; downscale it first.",  # past Pillow's
        None]


def test_a_photo_without_faces_is_an_ok_answer_with_no_faces(tiny_model):
    app = create_app(EmotionPipeline("haar", tiny_model), samples={})
    response = post(app.test_client(), ("wall.png", encode(np.full((200, 240, 3), 128, np.uint8), "PNG")))
    assert response.status_code == 200
    document = response.get_json()
    assert document["detector"] == "haar"
    assert document["files"] == [{"path": "wall.png", "ok": True, "error": None, "faces": [], "annotated": None}]
    assert document["timing"]["faces"] == 0 and document["timing"]["faces_per_second"] == 0.0


def test_a_request_over_the_size_limit_is_413_with_a_message(client):
    response = post(client, ("big.jpg", b"\xff" * (MAX_UPLOAD_BYTES + 1)))
    assert response.status_code == 413
    assert response.get_json() == {"error": "the upload is larger than the 20 MB limit a request; send fewer or "
                                            "smaller images."}


def test_at_most_ten_files_a_request(client):
    tiny = encode(photo(24, 24))
    response = post(client, *[(f"{number}.jpg", tiny) for number in range(MAX_FILES + 1)])
    assert response.status_code == 400
    assert response.get_json() == {"error": "too many files: 11 sent, at most 10 a request."}
    response = post(client, *[(f"{number}.jpg", tiny) for number in range(MAX_FILES)])
    assert response.status_code == 200 and len(response.get_json()["files"]) == MAX_FILES


@pytest.mark.parametrize("request_kind", ["other field", "no body", "empty browser part", "json"])
def test_no_file_is_400_with_a_message(client, request_kind):
    if request_kind == "other field":
        response = post(client, ("photo.jpg", encode(photo())), field="image")
    elif request_kind == "no body":
        response = client.post("/api/predict")
    elif request_kind == "empty browser part":
        response = post(client, ("", b""))
    else:
        response = client.post("/api/predict", json={"file": "photo.jpg"})
    assert response.status_code == 400
    assert response.get_json() == {"error": "no file: send one or more images in the multipart form field 'file'."}


def test_an_unexpected_failure_is_a_generic_500_without_a_traceback(tiny_model):
    class BrokenDetector(CentreFaceDetector):
        def detect_batch(self, images):
            raise RuntimeError("secret detail from /srv/models")

    response = post(create_app(EmotionPipeline(BrokenDetector(), tiny_model), samples={}).test_client(),
                    ("photo.jpg", encode(photo())))
    assert response.status_code == 500
    assert response.get_json() == {"error": GENERIC_ERROR}
    assert "Traceback" not in response.get_data(as_text=True) and "secret" not in response.get_data(as_text=True)


def test_uploads_are_parsed_in_memory_never_into_a_temporary_file(client, monkeypatch):
    import werkzeug.wrappers.request

    def no_disk(*args, **kwargs):
        raise AssertionError("an upload was spooled to a temporary file")

    monkeypatch.setattr(werkzeug.wrappers.request, "default_stream_factory", no_disk)
    big = encode(photo(600, 600), "PNG")
    assert len(big) > 500 * 1024, "larger than Werkzeug's in-memory threshold"
    response = post(client, ("noise.png", big))
    assert response.status_code == 200 and response.get_json()["files"][0]["ok"]


def test_the_upload_page_has_the_form_the_samples_and_stable_ids(client):
    response = client.get("/")
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    assert '<form id="upload-form">' in page
    assert '<input id="file-input" type="file" name="file" accept="image/*" multiple>' in page
    assert '<option value="sample.jpg">sample.jpg</option>' in page and 'id="sample-button"' in page
    for marker in ('fetch("/api/predict"', '"face-box"', '"face-label"', '"prob-bar"', '"file-error"',
                   'id="run-detector"', 'id="time-detect"', "URL.createObjectURL", "nothing you upload is stored"):
        assert marker in page, marker
    assert f"const CLASS_NAMES = {json.dumps(list(CLASS_NAMES))};" in page
    assert "Up to 10 images at a time, 20 MB in all, 40\nmegapixels each" in page


def test_the_page_offers_no_samples_when_there_are_none(tiny_model):
    page = create_app(EmotionPipeline(CentreFaceDetector(), tiny_model), samples={}).test_client().get("/")
    assert page.status_code == 200 and 'id="sample-select"' not in page.get_data(as_text=True)


def test_samples_serve_only_the_listed_photos(client, site):
    response = client.get("/samples/sample.jpg")
    assert response.status_code == 200 and response.data == (site / "sample.jpg").read_bytes()
    assert client.get("/samples/secret.jpg").status_code == 404
    assert client.get("/samples/..%2Fsample.jpg").status_code == 404


def test_sample_photos_are_notebook_06s_photos_that_exist(tmp_path):
    images = tmp_path / "images"
    images.mkdir()
    for name in ("b.jpg", "c.jpg", "d.jpg"):
        (images / name).write_bytes(b"x")
    write_results(tmp_path / "07_pipeline_demo.json", {"system": {"photos": ["a.jpg", "b.jpg", "c.jpg", "d.jpg"]}},
                  mode="full", seed=0)
    assert sample_photos(tmp_path, images, count=2) == {"b.jpg": images / "b.jpg", "c.jpg": images / "c.jpg"}
    assert sample_photos(tmp_path / "nowhere", images) == {}


def test_the_results_page_shows_the_headline_rows_and_links_the_report(client, tiny_model, site):
    response = client.get("/results")
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    assert ('<tr class="headline-row"><td>MTCNN AP (hard)</td><td>0.6123</td><td>WIDER val</td><td>IoU 0.5</td>'
            in page)
    assert '<a href="/results/02_face_detectors.json">02_face_detectors.json</a> (full)' in page
    assert '<a id="report-link" href="/report/">' in page
    assert client.get("/report/").get_data(as_text=True) == "<html><body>the report</body></html>"
    assert client.get("/results/02_face_detectors.json").get_json()["headline"][0]["value"] == 0.61234
    bare = create_app(EmotionPipeline(CentreFaceDetector(), tiny_model), results_dir=site / "none", samples={},
                      report_dir=site / "none").test_client()
    page = bare.get("/results").get_data(as_text=True)
    assert "No results yet" in page and "report-link" not in page
    missing = bare.get("/report/")
    assert missing.status_code == 404 and 'id="error"' in missing.get_data(as_text=True)


def test_the_api_answers_the_same_document_as_predict_json(client, tiny_model, tmp_path, capsys, monkeypatch):
    import emotion.app.pipeline

    monkeypatch.setattr(emotion.app.pipeline, "create_detector", lambda name, **settings: CentreFaceDetector())
    (tmp_path / "photo.jpg").write_bytes(encode(photo()))
    (tmp_path / "notes.jpg").write_bytes(b"not a photo")
    assert main(["predict", str(tmp_path / "photo.jpg"), str(tmp_path / "notes.jpg"), "--model", str(tiny_model),
                 "--json"]) == 1
    from_cli = json.loads(capsys.readouterr().out)
    from_api = post(client, ("photo.jpg", encode(photo())), ("notes.jpg", b"not a photo")).get_json()
    for document in (from_cli, from_api):
        for entry in document["files"]:
            entry["path"] = entry["path"].rsplit("/", 1)[-1]
            entry["error"] = entry["error"] and entry["error"].rsplit("/", 1)[-1]
        document["timing"] = sorted(document["timing"])
    assert from_cli == from_api


def test_predict_json_with_no_readable_file_is_valid_json_with_null_rates(tiny_model, tmp_path, capsys, monkeypatch):
    import emotion.app.pipeline

    monkeypatch.setattr(emotion.app.pipeline, "create_detector", lambda name, **settings: CentreFaceDetector())
    (tmp_path / "empty.jpg").write_bytes(b"")
    assert main(["predict", str(tmp_path / "empty.jpg"), "--model", str(tiny_model), "--json"]) == 1
    timing = json.loads(capsys.readouterr().out)["timing"]
    assert timing["images"] == 0 and timing["ms_per_image"] is None and timing["faces_per_second"] is None


def test_read_image_bytes_decodes_exactly_as_read_image_file(tmp_path):
    bombs = [("bomb.png", encode(Image.new("1", (7000, 7000)), "PNG")), ("huge.png", png_header_only(20000, 20000))]
    for name, data in bad_and_odd_uploads() + bombs:
        path = tmp_path / name
        path.write_bytes(data)
        try:
            from_file = read_image_file(path, max_pixels=40_000_000)
        except ImageFileError as error:
            with pytest.raises(ImageFileError) as from_bytes:
                read_image_bytes(data, str(path), max_pixels=40_000_000)
            assert str(from_bytes.value) == str(error), name
        else:
            np.testing.assert_array_equal(read_image_bytes(data, name, max_pixels=40_000_000), from_file)
    frames = [Image.new("RGB", (30, 20), (250, 0, 0)), Image.new("RGB", (30, 20), (0, 0, 250))]
    gif = io.BytesIO()
    frames[0].save(gif, "GIF", save_all=True, append_images=frames[1:])
    first = read_image_bytes(gif.getvalue(), "animated.gif")
    assert first.shape == (20, 30, 3) and first[0, 0, 0] > 200 and first[0, 0, 2] < 50, "the first frame is used"


def test_serve_listens_on_this_machine_only_by_default():
    arguments = build_parser().parse_args(["serve"])
    # no --detector: the app resolves it with default_detector (yunet when its file is present, else mtcnn)
    assert (arguments.host, arguments.port, arguments.detector, arguments.model) == ("127.0.0.1", 8000, None, None)


@pytest.mark.parametrize("port", ["0", "70000", "http"])
def test_serve_refuses_a_bad_port_with_a_usage_message(port, capsys):
    with pytest.raises(SystemExit) as exit_:
        build_parser().parse_args(["serve", "--port", port])
    assert exit_.value.code == 2
    assert f"argument --port: {port!r} is not a port number (1-65535)" in capsys.readouterr().err


def test_serve_with_an_unknown_detector_is_a_clear_error(capsys):
    assert main(["serve", "--detector", "eyeball"]) == 1
    error = capsys.readouterr().err
    assert error.startswith("error: unknown detector 'eyeball'; choose one of") and "Traceback" not in error


class PairedClock:
    """A stand-in for ``time.perf_counter`` in emotion.app.webapp_load: each thread reads it in (start, end) pairs, and
    the k-th pair to start, over all threads, spans k x 10 ms, whichever way the threads interleave."""

    def __init__(self):
        self.lock, self.pairs_started, self.open = threading.Lock(), 0, threading.local()

    def __call__(self) -> float:
        span = getattr(self.open, "span", None)
        if span is None:
            with self.lock:
                self.pairs_started += 1
                self.open.span = self.pairs_started * 0.010
            return 0.0
        self.open.span = None
        return span


def test_the_load_test_sends_a_bounded_number_of_requests_and_records_them(tiny_model, tmp_path, monkeypatch):
    import time
    from types import SimpleNamespace

    import emotion.app.webapp_load
    from emotion.app.webapp_load import load_results, measure_load
    from emotion.provenance import read_results

    app = create_app(EmotionPipeline(CentreFaceDetector(), tiny_model), samples={})
    with monkeypatch.context() as patch:
        patch.setattr(emotion.app.webapp_load, "time", SimpleNamespace(perf_counter=PairedClock(),
                                                                       monotonic=time.monotonic))
        measurement = measure_load(app, encode(photo()), "photo.jpg", requests=6, concurrency=2, timeout_s=120)
    assert (measurement["requests"], measurement["concurrency"], measurement["completed"], measurement["errors"]) \
        == (6, 2, 6, 0)
    assert measurement["detector"] == "centre" and measurement["model"] == "tiny.keras"
    assert measurement["error_kinds"] == {} and measurement["warmup_error"] is None
    # Pairs in the order they start: the warm-up request (10 ms, not counted), the whole run (20 ms), then the six
    # requests (30, 40, ..., 80 ms) however the two clients interleave.
    assert measurement["wall_seconds"] == 0.02 and measurement["requests_per_second"] == 300.0
    # The median of 30..80 is 55; the 95th percentile interpolates 3/4 of the way from 70 to 80.
    assert measurement["latency_ms"] == {"p50": 55.0, "p95": 77.5, "max": 80.0}
    # The app runs in this process, so the memory it reports is this process's resident set, in MiB.
    import psutil

    resident_mib = psutil.Process().memory_info().rss / 2**20
    assert measurement["rss_mib_before"] <= measurement["rss_mib_after"] + 64
    assert measurement["rss_mib_after"] == pytest.approx(resident_mib, rel=0.25)
    path = write_results(tmp_path / "07_webapp_load.json", load_results(measurement), mode="full", seed=0)
    document = read_results(path)
    assert [row["quantity"] for row in document["headline"]] == ["web app: requests per second",
                                                                 "web app: p95 latency (ms)"]
    assert document["split"] == "6 requests of one photo (photo.jpg), 2 concurrent"
    assert document["meta"]["mode"] == "full" and "127.0.0.1" in document["protocol"]

    refused = measure_load(app, b"not a photo", "notes.jpg", requests=3, concurrency=2, timeout_s=60)
    assert (refused["completed"], refused["errors"], refused["requests_per_second"]) == (0, 3, None)
    assert list(refused["error_kinds"]) == ["the photo was refused: notes.jpg: not a readable image (the content is "
                                            f"in no image format Pillow knows). Supported: {SUPPORTED}."]
    assert load_results(refused)["headline"] == []


@pytest.mark.real_data
def test_a_study_photo_through_the_released_model(real_data_root):
    from emotion.app.pipeline import default_model_path

    samples = sample_photos(images_dir=real_data_root / "faces" / "images")
    if not samples:
        pytest.skip(f"real-data test: no notebook-06 photo under {real_data_root / 'faces' / 'images'}")
    app = create_app(EmotionPipeline("haar", default_model_path()), samples=samples)
    client = app.test_client()
    name = next(iter(samples))
    sample = client.get(f"/samples/{name}")
    assert sample.status_code == 200
    document = post(client, (name, sample.data)).get_json()
    assert document["model"] == str(default_model_path()) and document["files"][0]["ok"]
    assert document["timing"]["images"] == 1


def test_a_load_test_below_the_protocol_is_written_as_a_smoke_run(tiny_model, tmp_path, capsys):
    from emotion.provenance import read_results

    photo_path = tmp_path / "photo.jpg"
    photo_path.write_bytes(encode(photo()))
    assert main(["serve-load", "--model", str(tiny_model), "--detector", "haar", "--photo", str(photo_path),
                 "--requests", "3", "--concurrency", "2", "--results", str(tmp_path)]) == 0
    document = read_results(tmp_path / "07_webapp_load.json")
    assert document["meta"]["mode"] == "smoke"
    assert document["split"] == "3 requests of one photo (photo.jpg), 2 concurrent"
