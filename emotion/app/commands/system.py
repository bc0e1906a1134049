"""Commands of the system people use: ``predict``, ``peer-compare``, ``tune-pipeline``, ``serve``, ``serve-load``
and ``folder-benchmark``."""

# Handlers import their stage lazily so that `python -m emotion --help` stays fast.
from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

from emotion.app.commands.arguments import (
    LOAD_CONCURRENCY,
    LOAD_REQUESTS,
    PEER_PHOTOS,
    PEER_RUNS,
    at_least_one,
    port,
    positive_seconds,
)
from emotion.app.folder_benchmark import configure_parser as configure_folder_benchmark
from emotion.errors import DataMissingError, ModelFileError
from emotion.paths import RESULTS_DIR, data_root

DETECTOR_HELP = "face detector (default yunet when its model file is in $EMOTION_DATA/models/, else mtcnn)"
MODEL_HELP = "classifier .keras (default: the released model best on PublicTest)"


def register(commands) -> None:
    """Add this stage's sub-parsers to ``commands`` (an argparse sub-parsers action)."""
    predict = commands.add_parser("predict", help="find faces in photos and classify their emotions")
    predict.add_argument("paths", nargs="+", help="image files or folders (jpg, png, bmp, webp, gif first frame)")
    predict.add_argument("--detector", default=None, help=DETECTOR_HELP)
    predict.add_argument("--model", help=MODEL_HELP)
    predict.add_argument("--out", help="write annotated copies into this folder")
    predict.add_argument("--json", action="store_true", help="print one JSON document on stdout")
    predict.add_argument("--align", action="store_true", help="align crops by the eye landmarks")
    predict.add_argument("--sequential", action="store_true",
                         help="one batch of photos after another, each stage in turn (default: decoding, detection, "
                              "classification and writing overlap on threads; same outputs)")
    predict.set_defaults(handler=_predict)

    peer = commands.add_parser("peer-compare", help="compare with the `fer` package side by side (needs make peer-env)")
    peer.add_argument("--model", help="our classifier (default: the released model best on PublicTest)")
    peer.add_argument("--single-model",
                      help="a single network also timed with our fastest detector when --model is an ensemble "
                           "(default, without --model: the released single network best on PublicTest; 'none' "
                           "skips it)")
    peer.add_argument("--photos", type=int, default=PEER_PHOTOS,
                      help=f"WIDER photos for the end-to-end part (default {PEER_PHOTOS}; "
                           "fewer writes a smoke-mode file)")
    peer.add_argument("--detectors", nargs="+", default=["haar", "mtcnn"], choices=["haar", "mtcnn"],
                      help="detector families both sides run (fer offers haar and mtcnn)")
    peer.add_argument("--our-detectors", nargs="+", choices=["haar", "mtcnn", "yunet", "dlib_hog"],
                      help="what our side runs (default: --detectors plus yunet when its model file is present)")
    peer.add_argument("--runs", type=at_least_one, default=PEER_RUNS,
                      help=f"runs of the end-to-end part, fer's and our passes interleaved (default {PEER_RUNS}; "
                           "the speed goal is judged on the worst; fewer writes a smoke-mode file)")
    peer.add_argument("--tta", choices=("none", "flip", "tencrop"), default="none",
                      help="test-time augmentation of our classifier on the PrivateTest crops (default none; the "
                           "end-to-end part classifies each face once)")
    peer.add_argument("--results", default=str(RESULTS_DIR))
    peer.set_defaults(handler=_peer_compare)

    tune = commands.add_parser("tune-pipeline", help="choose the pipeline detector's image size on photos the "
                               "peer comparison does not use -> results/07_pipeline_tuning.json")
    tune.add_argument("--photos", type=at_least_one, default=PEER_PHOTOS,
                      help=f"tuning photos (default {PEER_PHOTOS}; fewer writes a smoke-mode file)")
    tune.add_argument("--detector", default="yunet", help="detector to tune (default yunet)")
    tune.add_argument("--model", help=MODEL_HELP)
    tune.add_argument("--results", default=str(RESULTS_DIR))
    tune.set_defaults(handler=_tune_pipeline)

    serve = commands.add_parser("serve", help="the web app: try the system on a photo in a browser")
    serve_load = commands.add_parser("serve-load", help="a bounded load test of the web app -> "
                                     "results/07_webapp_load.json")
    for parser_ in (serve, serve_load):
        parser_.add_argument("--detector", default=None, help=DETECTOR_HELP)
        parser_.add_argument("--model", help=MODEL_HELP)
    serve.add_argument("--host", default="127.0.0.1",
                       help="address to listen on (default 127.0.0.1: this machine only; 0.0.0.0 opens it to the "
                            "network, with no login)")
    serve.add_argument("--port", type=port, default=8000, help="port (default 8000)")
    serve.set_defaults(handler=_serve)
    serve_load.add_argument("--photo", help="the photo every request sends (default: the first sample photo)")
    serve_load.add_argument("--requests", type=at_least_one, default=LOAD_REQUESTS,
                            help=f"requests to send (default {LOAD_REQUESTS}; fewer writes a smoke-mode file)")
    serve_load.add_argument("--concurrency", type=at_least_one, default=LOAD_CONCURRENCY,
                            help=f"clients at once (default {LOAD_CONCURRENCY})")
    serve_load.add_argument("--timeout", type=positive_seconds, default=600.0,
                            help="hard limit in seconds; unanswered requests count as errors (default 600)")
    serve_load.add_argument("--results", default=str(RESULTS_DIR))
    serve_load.set_defaults(handler=_serve_load)

    configure_folder_benchmark(commands.add_parser(
        "folder-benchmark", help="predict on a folder, sequential vs overlapped -> results/07_folder_benchmark.json"))


def _predict(arguments: argparse.Namespace) -> int:
    import json

    from emotion.app.pipeline import EmotionPipeline, predict_files, prediction_document
    from emotion.data.image_files import find_images

    paths, missing = find_images(arguments.paths)
    pipeline = EmotionPipeline(arguments.detector, arguments.model, align=arguments.align)
    progress = None
    if not arguments.json and sys.stderr.isatty():
        from tqdm import tqdm

        progress = lambda batches: tqdm(batches, desc="batches", unit="batch", file=sys.stderr)  # noqa: E731
    outcomes = predict_files(pipeline, paths, out_dir=Path(arguments.out) if arguments.out else None,
                             progress=progress, overlap=not arguments.sequential)
    failures = [(str(path), reason) for path, reason in missing] + [
        (str(outcome.path), outcome.error) for outcome in outcomes if outcome.error]
    if arguments.json:
        print(json.dumps(prediction_document(pipeline, outcomes, missing), indent=2, allow_nan=False))
    else:
        for outcome in outcomes:
            if outcome.error:
                continue
            summary = ", ".join(f"{face.emotion} ({face.probabilities[face.emotion]:.0%})" for face in outcome.faces)
            print(f"{outcome.path}: {len(outcome.faces)} face(s){': ' + summary if summary else ''}")
    for path, reason in failures:
        print(f"error: {path}: {reason}", file=sys.stderr)
    return 1 if failures else 0


def _peer_compare(arguments: argparse.Namespace) -> int:
    from emotion.app.peer import run_conditions, select_photos
    from emotion.app.peer_runs import compare
    from emotion.app.pipeline import default_model_path
    from emotion.app.pipeline_prose import peer_headline_rows
    from emotion.data.fer2013 import load_fer2013
    from emotion.faces.detection_eval import load_annotations
    from emotion.machine import busy_cpu_seconds, own_cpu_seconds
    from emotion.paths import BUILD_DIR
    from emotion.study.results import write_results

    photos = select_photos(data_root() / "faces", count=arguments.photos)
    model = Path(arguments.model) if arguments.model else default_model_path()
    if arguments.single_model:
        single = None if arguments.single_model == "none" else Path(arguments.single_model)
    else:
        single = None if arguments.model else default_model_path(ensembles=False)
    for option, path in (("--model", model), ("--single-model", single)):
        if path is not None and not path.is_file():  # checked before fer's side spends minutes
            raise ModelFileError(f"{option} {path}: no such file; pass a released model from models/ "
                                 "(or run `make train`).")
    data, annotations = load_fer2013(), load_annotations(data_root() / "faces")
    busy_before, own_before, started = busy_cpu_seconds(), own_cpu_seconds(), time.perf_counter()
    payload = compare(model, data, photos, arguments.detectors, BUILD_DIR / "peer",
                      our_detectors=arguments.our_detectors, annotations=annotations, tta=arguments.tta,
                      single_model_path=single, runs=arguments.runs)
    # Timings mean little unless the reader knows whether other work shared the CPU (fer's side is a subprocess,
    # counted in this process's own CPU time).
    payload["conditions"] = run_conditions(busy_before, busy_cpu_seconds(), own_cpu_seconds() - own_before,
                                           time.perf_counter() - started)
    payload["headline"] = peer_headline_rows(payload)
    # A run on fewer photos or runs than the protocol's is a quick check, and its file says so.
    mode = "full" if arguments.photos >= PEER_PHOTOS and arguments.runs >= PEER_RUNS else "smoke"
    path = write_results(Path(arguments.results) / "07_peer_comparison.json", payload, mode=mode, seed=0)
    print(f"written: {path}")
    return 0


def _tune_pipeline(arguments: argparse.Namespace) -> int:
    from emotion.app.peer import tune_detection_side, tuning_photos
    from emotion.app.pipeline import default_model_path
    from emotion.classify.evaluate import load_model
    from emotion.faces.detection_eval import load_annotations
    from emotion.study.results import write_results

    folder = data_root() / "faces"
    photos = tuning_photos(folder, count=arguments.photos)
    model = load_model(Path(arguments.model) if arguments.model else default_model_path())
    payload = tune_detection_side(model, photos, load_annotations(folder), detector=arguments.detector)
    mode = "full" if arguments.photos >= PEER_PHOTOS else "smoke"
    path = write_results(Path(arguments.results) / "07_pipeline_tuning.json", payload, mode=mode, seed=0)
    for row in payload["rows"]:
        print(f"max_side {row['max_side'] or 'full':>5}: {row['ms_per_photo_median']:6.1f} ms/photo median, "
              f"{row['photos_per_second']:5.2f} photos/s, recall {row['recall']:.3f}")
    print(f"chosen: {payload['chosen_side']}; written: {path}")
    return 0


def _serve(arguments: argparse.Namespace) -> int:
    from emotion.app.webapp import create_app, serve

    serve(create_app(detector=arguments.detector, model=arguments.model), arguments.host, arguments.port)
    return 0


def _serve_load(arguments: argparse.Namespace) -> int:
    import json

    from emotion.app.webapp import create_app, sample_photos
    from emotion.app.webapp_load import RESULTS_NAME, load_results, measure_load
    from emotion.data.image_files import read_image_file
    from emotion.study.results import write_results

    if arguments.photo:
        photo = Path(arguments.photo)
    else:
        samples = sample_photos()
        if not samples:
            raise DataMissingError(f"no sample photo under {data_root() / 'faces' / 'images'} (notebook 07's WIDER "
                                   "photos): set EMOTION_DATA, or pass --photo PATH.")
        photo = next(iter(samples.values()))
    read_image_file(photo)  # a clear error now rather than a refusal in every request
    measurement = measure_load(create_app(detector=arguments.detector, model=arguments.model), photo.read_bytes(),
                               photo.name, requests=arguments.requests, concurrency=arguments.concurrency,
                               timeout_s=arguments.timeout)
    # Fewer requests or clients than the protocol's make a quick check, and the file says so.
    full = arguments.requests >= LOAD_REQUESTS and arguments.concurrency >= LOAD_CONCURRENCY
    path = write_results(Path(arguments.results) / RESULTS_NAME, load_results(measurement),
                         mode="full" if full else "smoke", seed=0)
    print(json.dumps(measurement, indent=2))
    print(f"written: {path}")
    return 1 if measurement["errors"] else 0
