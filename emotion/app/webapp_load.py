"""A bounded load test of the web app: serve it on 127.0.0.1 (a free port, a thread of this process), send a fixed
number of ``POST /api/predict`` requests with one photo from a few concurrent clients, stop, and report throughput,
latency, errors and memory. ``python -m emotion serve-load`` (``make webapp-load``) writes
``results/07_webapp_load.json``.
"""

from __future__ import annotations

import json
import time
import uuid
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np

DEFAULT_REQUESTS = 200
DEFAULT_CONCURRENCY = 8
DEFAULT_TIMEOUT_S = 600.0
RESULTS_NAME = "07_webapp_load.json"


def multipart_body(photo: bytes, name: str) -> tuple[bytes, str]:
    """Return ``(body, content type)`` of a multipart form with ``photo`` in the field ``file``."""
    boundary = uuid.uuid4().hex
    head = (f"--{boundary}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"{name}\"\r\n"
            "Content-Type: application/octet-stream\r\n\r\n").encode()
    return head + photo + f"\r\n--{boundary}--\r\n".encode(), f"multipart/form-data; boundary={boundary}"


def _resident_mib() -> float:
    import psutil

    return psutil.Process().memory_info().rss / 2**20


def measure_load(app, photo: bytes, photo_name: str, *, requests: int = DEFAULT_REQUESTS,
                 concurrency: int = DEFAULT_CONCURRENCY, timeout_s: float = DEFAULT_TIMEOUT_S) -> dict:
    """Serve ``app`` on 127.0.0.1 and send it ``requests`` predictions of ``photo``, ``concurrency`` at a time,
    after one warm-up request that is not counted. Stops by itself: requests not answered within ``timeout_s`` of the
    start count as errors, and the server is shut down before returning.

    Returns:
        ``{"requests", "concurrency", "completed", "errors", "error_kinds", "wall_seconds", "requests_per_second",
        "latency_ms": {"p50", "p95", "max"}, "rss_mib_before", "rss_mib_after", "detector", "model", ...}``;
        latencies and the rate cover successful requests (None when none succeeded). A request is an error unless it
        is answered 200 with every file processed.

    Raises:
        ValueError: ``requests`` or ``concurrency`` is below 1, or ``timeout_s`` is not positive.
    """
    import threading
    import urllib.error
    import urllib.request

    from werkzeug.serving import WSGIRequestHandler, make_server

    class QuietHandler(WSGIRequestHandler):
        def log_request(self, *args, **kwargs):  # one console line per request would drown the summary
            pass

    if requests < 1 or concurrency < 1 or timeout_s <= 0:
        raise ValueError(f"requests and concurrency must be at least 1 and timeout_s positive; got {requests}, "
                         f"{concurrency}, {timeout_s}.")
    body, content_type = multipart_body(photo, photo_name)
    server = make_server("127.0.0.1", 0, app, threaded=True, request_handler=QuietHandler)
    url = f"http://127.0.0.1:{server.server_port}/api/predict"
    thread = threading.Thread(target=server.serve_forever, name="webapp-load-server", daemon=True)
    thread.start()
    deadline = time.monotonic() + timeout_s

    def send(_: int) -> tuple[float | None, str | None]:
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            return None, "not sent: the hard timeout had passed"
        request = urllib.request.Request(url, data=body, headers={"Content-Type": content_type}, method="POST")
        started = time.perf_counter()
        try:
            with urllib.request.urlopen(request, timeout=remaining) as response:
                document = json.load(response)
        except urllib.error.HTTPError as error:
            return None, f"HTTP {error.code}"
        except (urllib.error.URLError, OSError, ValueError) as error:
            return None, type(error).__name__
        elapsed = time.perf_counter() - started
        if not all(entry["ok"] for entry in document["files"]):
            return None, "the photo was refused: " + "; ".join(entry["error"] for entry in document["files"])
        return elapsed, None

    try:
        rss_before = _resident_mib()
        warmup = send(0)
        started = time.perf_counter()
        with ThreadPoolExecutor(max_workers=concurrency) as pool:
            outcomes = list(pool.map(send, range(requests)))
        wall = time.perf_counter() - started
        rss_after = _resident_mib()
    finally:
        server.shutdown()
        thread.join(timeout=10)
    latencies = np.array([seconds for seconds, error in outcomes if error is None]) * 1000
    errors = Counter(error for _, error in outcomes if error is not None)
    pipeline = app.extensions["emotion_pipeline"]
    return {
        "requests": requests, "concurrency": concurrency, "timeout_s": timeout_s,
        "warmup_requests": 1, "warmup_error": warmup[1],
        "photo": photo_name, "photo_bytes": len(photo),
        "detector": pipeline.detector.name,
        "model": Path(pipeline.model_path).name if pipeline.model_path is not None else None,
        "completed": int(len(latencies)), "errors": int(sum(errors.values())), "error_kinds": dict(errors),
        "wall_seconds": round(wall, 3),
        "requests_per_second": round(len(latencies) / wall, 3) if len(latencies) else None,
        "latency_ms": ({"p50": _milliseconds(np.percentile(latencies, 50)),
                        "p95": _milliseconds(np.percentile(latencies, 95)), "max": _milliseconds(latencies.max())}
                       if len(latencies) else {"p50": None, "p95": None, "max": None}),
        "rss_mib_before": round(rss_before, 1), "rss_mib_after": round(rss_after, 1),
    }


def _milliseconds(value) -> float:
    return round(float(value), 1)


def load_results(measurement: dict) -> dict:
    """The payload of ``results/07_webapp_load.json``: the measurement with its protocol and headline rows."""
    split = (f"{measurement['requests']} requests of one photo ({measurement['photo']}), "
             f"{measurement['concurrency']} concurrent")
    protocol = (f"POST /api/predict to the threaded Werkzeug server on 127.0.0.1 in the measuring process, "
                f"{measurement['detector']} + {measurement['model']}, one pipeline run at a time (a lock), after one "
                "warm-up request; memory is the resident set of that process (server and clients)")
    headline = []
    if measurement["requests_per_second"] is not None:
        headline = [
            {"quantity": "web app: requests per second", "value": measurement["requests_per_second"],
             "split": split, "protocol": protocol},
            {"quantity": "web app: p95 latency (ms)", "value": measurement["latency_ms"]["p95"],
             "split": split, "protocol": protocol},
        ]
    return {"protocol": protocol, "split": split, "headline": headline, **measurement}
