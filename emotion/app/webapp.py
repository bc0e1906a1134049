"""The paper's web application, rebuilt for teachers: upload a photo in a browser, see each face boxed and labelled
with the seven emotion probabilities.

``python -m emotion serve`` (``make serve``) runs :func:`create_app` on 127.0.0.1:8000. Pages and endpoints:

    GET  /              the upload page (and the study's sample photos, when the data is there)
    POST /api/predict   multipart, one or more images in the field ``file``; answers the ``predict --json``
                        document (:func:`emotion.app.pipeline.prediction_document`), each file named by its client name
    GET  /results       the study's headline results, read from results/*.json
    GET  /samples/NAME  a sample photo (only the names the upload page lists)

Nothing uploaded is kept: uploads are parsed into memory (:class:`InMemoryRequest`, never a temporary file), decoded
from bytes (:func:`emotion.data.image_files.read_image_bytes`) and dropped with the request; their content is never
logged. Limits: :data:`MAX_UPLOAD_BYTES` a request (HTTP 413), :data:`MAX_FILES` files a request (HTTP 400) and
:data:`MAX_UPLOAD_PIXELS` pixels an image (that file's error, checked from the header before decoding).
"""

from __future__ import annotations

import io
import json
import threading
from pathlib import Path

from emotion import CLASS_NAMES
from emotion.errors import ConfigurationError, EmotionError
from emotion.paths import BUILD_DIR, RESULTS_DIR, data_root

MAX_UPLOAD_BYTES = 20 * 1024 * 1024
"""Largest request body accepted (all files together); larger requests get HTTP 413."""

MAX_FILES = 10
"""Most files one request may carry; more get HTTP 400."""

MAX_UPLOAD_PIXELS = 40_000_000
"""Images with more pixels than this are refused before decoding (a decompression bomb guard), as that file's error."""

SAMPLE_COUNT = 6
"""How many of notebook 07's WIDER photos the upload page offers as samples."""

DEFAULT_HOST = "127.0.0.1"
DEFAULT_PORT = 8000
GENERIC_ERROR = "internal error: the server could not process this request (nothing was stored). Try again, or " \
                "restart `make serve`; the server's console says what went wrong."


def _request_class():
    from flask import Request

    class InMemoryRequest(Request):
        """A request whose uploaded files are parsed into memory (``io.BytesIO``), never into a temporary file
        on disk as Werkzeug does for files over 500 KB; :data:`MAX_UPLOAD_BYTES` bounds the memory used."""

        def _get_file_stream(self, total_content_length, content_type, filename=None, content_length=None):
            return io.BytesIO()

    return InMemoryRequest


def sample_photos(results_dir: Path = RESULTS_DIR, images_dir: Path | None = None,
                  count: int = SAMPLE_COUNT) -> dict[str, Path]:
    """The study's sample photos: the first ``count`` WIDER photos notebook 07 ran the pipeline on
    (``results/07_pipeline_demo.json``, ``system.photos``) that exist in ``images_dir`` (default
    ``$EMOTION_DATA/faces/images``). Returns ``{file name: path}``; empty when the results file or the data is
    absent."""
    from emotion.provenance import read_results

    images_dir = data_root() / "faces" / "images" if images_dir is None else Path(images_dir)
    demo = Path(results_dir) / "07_pipeline_demo.json"
    if not demo.is_file():
        return {}
    try:
        names = read_results(demo).get("system", {}).get("photos", [])
    except EmotionError:
        return {}
    found = {name: images_dir / name for name in names if (images_dir / name).is_file()}
    return dict(list(found.items())[:count])


def create_app(pipeline=None, *, detector: str | None = None, model: Path | str | None = None,
               results_dir: Path = RESULTS_DIR, samples: dict[str, Path] | None = None,
               report_dir: Path = BUILD_DIR / "report"):
    """Build the Flask app; the pipeline (detector and classifier) is loaded here, once, not per request.

    Args:
        pipeline: an :class:`~emotion.app.pipeline.EmotionPipeline` to serve (tests pass a small one); default one made
            from ``detector`` and ``model``.
        detector: face detector name when ``pipeline`` is None (default: YuNet when its file is present, else
            MTCNN; :func:`~emotion.faces.detectors.default_detector`).
        model: classifier ``.keras`` when ``pipeline`` is None (default: the released model best on PublicTest).
        results_dir: where the results page reads ``*.json``.
        samples: ``{name: path}`` of sample photos (default :func:`sample_photos`).
        report_dir: the static report (``make report``); the results page links to it when ``index.html`` exists.

    Raises:
        ConfigurationError, DataMissingError, ModelFileError: as :class:`~emotion.app.pipeline.EmotionPipeline`.
    """
    from flask import Flask, abort, jsonify, render_template_string, request, send_file, send_from_directory
    from werkzeug.exceptions import HTTPException

    from emotion.app.pipeline import EmotionPipeline, StageTimes, predict_uploads, prediction_document
    from emotion.study.results import headline_rows

    if pipeline is None:
        pipeline = EmotionPipeline(detector, model)
    samples = sample_photos(results_dir) if samples is None else samples
    # The detectors are not thread-safe (YuNet's input size and MTCNN's TensorFlow graphs are per-object state) and
    # the pipeline accumulates stage times, so one request at a time runs the pipeline. The server itself is
    # threaded: pages, uploads and decoding go on concurrently.
    pipeline_lock = threading.Lock()

    app = Flask(__name__)
    app.request_class = _request_class()
    app.config["MAX_CONTENT_LENGTH"] = MAX_UPLOAD_BYTES
    app.json.sort_keys = False  # keep the document's order: the same as `predict --json`
    app.extensions["emotion_pipeline"] = pipeline

    @app.get("/")
    def index():
        return render_template_string(
            INDEX_PAGE, samples=sorted(samples), class_names=json.dumps(list(CLASS_NAMES)), max_files=MAX_FILES,
            max_megabytes=MAX_UPLOAD_BYTES // 2**20, max_megapixels=MAX_UPLOAD_PIXELS // 10**6,
            detector=pipeline.detector.name, model=_model_name(pipeline))

    @app.post("/api/predict")
    def api_predict():
        parts = request.files.getlist("file")
        if len(parts) > MAX_FILES:
            return jsonify(error=f"too many files: {len(parts)} sent, at most {MAX_FILES} a request."), 400
        uploads = []
        for number, part in enumerate(parts, start=1):
            data = part.read()
            if not part.filename and not data:
                continue  # the empty part a browser sends when no file was chosen
            uploads.append((_client_name(part.filename, number), data))
        if not uploads:
            return jsonify(error="no file: send one or more images in the multipart form field 'file'."), 400
        with pipeline_lock:
            pipeline.times = StageTimes()
            outcomes = predict_uploads(pipeline, uploads, max_pixels=MAX_UPLOAD_PIXELS)
            document = prediction_document(pipeline, outcomes)
        return jsonify(document)

    @app.get("/samples/<name>")
    def sample(name: str):
        if name not in samples:
            abort(404)
        return send_file(samples[name])

    @app.get("/results")
    def results():
        return render_template_string(RESULTS_PAGE, rows=headline_rows(Path(results_dir)),
                                      report=(Path(report_dir) / "index.html").is_file())

    @app.get("/results/<name>")
    def results_file(name: str):
        if not name.endswith(".json"):
            abort(404)
        return send_from_directory(Path(results_dir).resolve(), name, mimetype="application/json")

    @app.get("/report/")
    @app.get("/report/<path:name>")
    def report(name: str = "index.html"):
        return send_from_directory(Path(report_dir).resolve(), name)

    @app.errorhandler(HTTPException)
    def http_error(error: HTTPException):
        message = (f"the upload is larger than the {MAX_UPLOAD_BYTES // 2**20} MB limit a request; send fewer or "
                   "smaller images." if error.code == 413 else error.description)
        if request.path.startswith("/api/"):
            return jsonify(error=message), error.code
        return render_template_string(ERROR_PAGE, code=error.code, name=error.name, message=message), error.code

    @app.errorhandler(Exception)
    def unexpected_error(error: Exception):
        # The traceback goes to the server's console only; the upload's content is never logged.
        app.logger.error("unexpected %s while serving %s %s", type(error).__name__, request.method, request.path,
                         exc_info=error)
        return jsonify(error=GENERIC_ERROR), 500

    return app


def _client_name(filename: str | None, number: int) -> str:
    """The upload's file name without any folders the client sent, or ``upload N`` when it sent none."""
    name = (filename or "").replace("\\", "/").rsplit("/", 1)[-1].strip()
    return name or f"upload {number}"


def _model_name(pipeline) -> str:
    return Path(pipeline.model_path).name if pipeline.model_path is not None else "(a model passed in memory)"


def serve(app, host: str = DEFAULT_HOST, port: int = DEFAULT_PORT) -> None:
    """Serve ``app`` with Werkzeug's threaded server until Ctrl+C (meant for one classroom machine, not the
    internet).

    Raises:
        ConfigurationError: the address cannot be listened on (port taken, no permission).
    """
    print(f"Serving the emotion web app on http://{host}:{port}/ (Ctrl+C stops it)", flush=True)
    try:
        app.run(host=host, port=port, threaded=True, debug=False, use_reloader=False)
    except OSError as error:
        raise ConfigurationError(f"cannot listen on {host}:{port} ({error.strerror or error}); pass --port with a "
                                 "free port, e.g. --port 8080.") from error


STYLE = """
body { font-family: system-ui, -apple-system, "Segoe UI", "DejaVu Sans", sans-serif; max-width: 72rem;
       margin: 1.5rem auto; padding: 0 1rem; color: #1b1b1b; line-height: 1.45; }
nav a { margin-right: 1rem; }
.muted { color: #666; font-size: .9rem; }
#error, .file-error { color: #a30000; font-weight: 600; }
.result { border-top: 1px solid #ddd; margin-top: 1.2rem; padding-top: .8rem; }
.photo { position: relative; display: inline-block; max-width: 100%; margin: 0; }
.photo-image { display: block; max-width: 100%; height: auto; }
.face-box { position: absolute; border: 3px solid #ffc800; box-sizing: border-box; }
.face-label { position: absolute; left: -3px; bottom: 100%; background: #ffc800; color: #000; font-size: .8rem;
              padding: 0 .25rem; white-space: nowrap; }
.faces { display: flex; flex-wrap: wrap; gap: 1rem; margin-top: .6rem; }
.face-card { border: 1px solid #ddd; padding: .5rem .7rem; min-width: 16rem; }
.prob-row { display: grid; grid-template-columns: 5rem 1fr 3.5rem; align-items: center; gap: .4rem;
            font-size: .85rem; }
.prob-track { background: #eee; height: .8rem; }
.prob-bar { background: #3a6ea5; height: 100%; }
.prob-row.top .prob-bar { background: #d08a00; }
.prob-value { text-align: right; font-variant-numeric: tabular-nums; }
table { border-collapse: collapse; margin: 1rem 0; font-size: .92rem; }
th, td { border: 1px solid #ccc; padding: .3rem .6rem; text-align: left; vertical-align: top; }
th { background: #f3f3f3; }
"""

INDEX_PAGE = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>Facial emotion recognition: try it on a photo</title><style>""" + STYLE + """</style></head>
<body>
<nav><a href="/">Try it</a><a href="/results">The study's results</a></nav>
<h1>Facial emotion recognition: try it on a photo</h1>
<p>The system finds each face, crops it to 48x48 grayscale and gives the probability of seven emotions. Photos are
processed in memory and forgotten: nothing you upload is stored.</p>
<form id="upload-form">
  <input id="file-input" type="file" name="file" accept="image/*" multiple>
  <button id="upload-button" type="submit">Find faces and emotions</button>
</form>
<p class="muted" id="limits">Up to {{ max_files }} images at a time, {{ max_megabytes }} MB in all, {{ max_megapixels }}
megapixels each. JPEG, PNG, BMP, WebP, TIFF and GIF (an animated GIF's first frame is used).</p>
{% if samples %}
<p><label for="sample-select">Or pick one of the study's sample photos (WIDER FACE):</label>
<select id="sample-select">{% for name in samples %}<option value="{{ name }}">{{ name }}</option>{% endfor %}</select>
<button id="sample-button" type="button">Use this photo</button></p>
{% endif %}
<p id="status" class="muted" aria-live="polite"></p>
<p id="error" role="alert"></p>
<div id="run-info" hidden>
  <p>Detector <b id="run-detector"></b>, model <b id="run-model"></b>.
  Time per stage: detect <span id="time-detect"></span>, crop <span id="time-crop"></span>, classify
  <span id="time-classify"></span>, total <span id="time-total"></span>
  (<span id="time-roundtrip"></span> with the upload).</p>
</div>
<div id="results"></div>
<p class="muted">Server: detector {{ detector }}, model {{ model }}.</p>
<script>
const CLASS_NAMES = {{ class_names|safe }};
const objectUrls = [];

function element(tag, className, text) {
  const node = document.createElement(tag);
  if (className) node.className = className;
  if (text !== undefined) node.textContent = text;
  return node;
}
function seconds(value) { return value === null ? "n/a" : (value * 1000).toFixed(0) + " ms"; }
function percent(value) { return (100 * value).toFixed(1) + " %"; }
function showError(message) { document.getElementById("error").textContent = message; }

async function predict(files) {
  showError("");
  document.getElementById("status").textContent = "Working on " + files.length + " image(s)...";
  const body = new FormData();
  files.forEach(file => body.append("file", file, file.name));
  const started = performance.now();
  let response, answer;
  try {
    response = await fetch("/api/predict", {method: "POST", body: body});
  } catch (error) {
    document.getElementById("status").textContent = "";
    showError("The server could not be reached (" + error + "). Is `make serve` still running?");
    return;
  }
  try { answer = await response.json(); } catch (error) { answer = {error: "HTTP " + response.status}; }
  document.getElementById("status").textContent = "";
  if (!response.ok) { showError(answer.error || ("HTTP " + response.status)); return; }
  render(answer, files, performance.now() - started);
}

function render(answer, files, roundTripMs) {
  objectUrls.splice(0).forEach(url => URL.revokeObjectURL(url));
  const timing = answer.timing;
  document.getElementById("run-detector").textContent = answer.detector;
  document.getElementById("run-model").textContent = (answer.model || "").split(/[\\\\/]/).pop();
  document.getElementById("time-detect").textContent = seconds(timing.detect_seconds);
  document.getElementById("time-crop").textContent = seconds(timing.crop_seconds);
  document.getElementById("time-classify").textContent = seconds(timing.classify_seconds);
  document.getElementById("time-total").textContent = seconds(timing.total_seconds);
  document.getElementById("time-roundtrip").textContent = roundTripMs.toFixed(0) + " ms";
  document.getElementById("run-info").hidden = false;
  const results = document.getElementById("results");
  results.replaceChildren();
  answer.files.forEach((entry, index) => results.appendChild(renderFile(entry, files[index])));
}

function renderFile(entry, file) {
  const section = element("section", "result");
  section.appendChild(element("h2", "file-name", entry.path));
  if (!entry.ok) { section.appendChild(element("p", "file-error", entry.error)); return section; }
  const figure = element("figure", "photo");
  const image = element("img", "photo-image");
  image.alt = entry.path;
  const url = URL.createObjectURL(file);
  objectUrls.push(url);
  image.addEventListener("load", () => {
    entry.faces.forEach((face, number) => {
      const [x, y, w, h] = face.box;
      const box = element("div", "face-box");
      box.style.left = (100 * x / image.naturalWidth) + "%";
      box.style.top = (100 * y / image.naturalHeight) + "%";
      box.style.width = (100 * w / image.naturalWidth) + "%";
      box.style.height = (100 * h / image.naturalHeight) + "%";
      box.appendChild(element("span", "face-label",
        (number + 1) + ": " + face.emotion + " " + percent(face.probabilities[face.emotion])));
      figure.appendChild(box);
    });
  });
  image.addEventListener("error", () => figure.replaceChildren(
    element("p", "muted", "This browser cannot show this image format; the faces are listed below.")));
  image.src = url;
  figure.appendChild(image);
  section.appendChild(figure);
  if (!entry.faces.length) {
    section.appendChild(element("p", "no-faces", "No face found in this photo."));
    return section;
  }
  const faces = element("div", "faces");
  entry.faces.forEach((face, number) => {
    const card = element("div", "face-card");
    card.appendChild(element("h3", "face-title", "Face " + (number + 1) + ": " + face.emotion));
    const chart = element("div", "prob-chart");
    CLASS_NAMES.forEach(name => {
      const row = element("div", "prob-row" + (name === face.emotion ? " top" : ""));
      row.dataset.emotion = name;
      row.appendChild(element("span", "prob-name", name));
      const track = element("span", "prob-track");
      const bar = element("span", "prob-bar");
      bar.style.display = "block";
      bar.style.width = percent(face.probabilities[name]).replace(" ", "");
      track.appendChild(bar);
      row.appendChild(track);
      row.appendChild(element("span", "prob-value", percent(face.probabilities[name])));
      chart.appendChild(row);
    });
    card.appendChild(chart);
    faces.appendChild(card);
  });
  section.appendChild(faces);
  return section;
}

document.getElementById("upload-form").addEventListener("submit", event => {
  event.preventDefault();
  const files = Array.from(document.getElementById("file-input").files);
  if (!files.length) { showError("Choose one or more images first."); return; }
  if (files.length > {{ max_files }}) { showError("At most {{ max_files }} images at a time."); return; }
  predict(files);
});
const sampleButton = document.getElementById("sample-button");
if (sampleButton) sampleButton.addEventListener("click", async () => {
  const name = document.getElementById("sample-select").value;
  const response = await fetch("/samples/" + encodeURIComponent(name));
  if (!response.ok) { showError("The sample photo could not be loaded (HTTP " + response.status + ")."); return; }
  const blob = await response.blob();
  predict([new File([blob], name, {type: blob.type})]);
});
</script>
</body></html>
"""

RESULTS_PAGE = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Facial emotion recognition: the study's results</title>
<style>""" + STYLE + """</style></head>
<body>
<nav><a href="/">Try it</a><a href="/results">The study's results</a></nav>
<h1>The study's headline results</h1>
<p>Each row is read from a results file written by the notebook run that measured it.
{% if report %}The full report, with every notebook and figure: <a id="report-link" href="/report/">open the report</a>.
{% else %}The full report is not built on this machine (<code>make report</code> builds it).{% endif %}</p>
<table id="headline-table">
<thead><tr><th>quantity</th><th>value</th><th>split</th><th>protocol</th><th>source</th></tr></thead>
<tbody>
{% for quantity, value, split, protocol, source, mode, commit in rows %}
<tr class="headline-row"><td>{{ quantity }}</td><td>{{ value }}</td><td>{{ split }}</td><td>{{ protocol }}</td>
<td><a href="/results/{{ source }}">{{ source }}</a> ({{ mode }})</td></tr>
{% else %}
<tr><td colspan="5">No results yet: run <code>make figures</code>.</td></tr>
{% endfor %}
</tbody></table>
</body></html>
"""

ERROR_PAGE = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>{{ code }} {{ name }}</title><style>""" + STYLE + """</style>
</head><body><nav><a href="/">Try it</a><a href="/results">The study's results</a></nav>
<h1>{{ code }} {{ name }}</h1><p id="error">{{ message }}</p></body></html>
"""
