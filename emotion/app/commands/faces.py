"""Commands of the faces stage: ``detect-eval`` and ``crop-faces``."""

# Handlers import their stage lazily so that `python -m emotion --help` stays fast.
from __future__ import annotations

import argparse
import sys
from pathlib import Path

from emotion.paths import data_root


def register(commands) -> None:
    """Add this stage's sub-parsers to ``commands`` (an argparse sub-parsers action)."""
    detect = commands.add_parser("detect-eval", help="run one face detector on a WIDER-FACE-format folder; print "
                                 "AP per level and ms/image as one JSON object")
    detect.add_argument("--detector", required=True, help="haar, dlib_hog, dlib_cnn, mtcnn or yunet")
    detect.add_argument("--data", help="folder with images/, annotations.csv, images.csv (default $EMOTION_DATA/faces)")
    detect.add_argument("--limit", type=int, help="only the first N images in benchmark order (sha256 of the bytes)")
    detect.set_defaults(handler=_detect_eval)

    crop = commands.add_parser("crop-faces", help="crop every face in a folder to 48x48 grayscale")
    crop.add_argument("in_dir")
    crop.add_argument("out_dir")
    crop.add_argument("--detector", default=None,
                      help="face detector (default yunet when its model file is in $EMOTION_DATA/models/, else mtcnn)")
    crop.add_argument("--format", choices=("fer", "folders", "yolo"), default="fer",
                      help="FER2013-style CSV, class folders, or YOLO detector labels (default fer)")
    crop.add_argument("--align", action="store_true", help="align crops by the eye landmarks")
    crop.add_argument("--sequential", action="store_true",
                      help="one photo after another, each stage in turn (default: decoding, detection and cropping "
                           "overlap on threads; same files)")
    crop.set_defaults(handler=_crop_faces)


def _detect_eval(arguments: argparse.Namespace) -> int:
    import json

    from emotion.faces.detection_eval import load_annotations, load_image_table, run_detector, summarise_run
    from emotion.faces.detectors import create_detector

    folder = Path(arguments.data).resolve() if arguments.data else data_root() / "faces"
    if arguments.limit is not None and arguments.limit < 1:
        print("error: --limit must be at least 1", file=sys.stderr)
        return 2
    annotations = load_annotations(folder)
    images = load_image_table(folder)["image"].tolist()[: arguments.limit]
    run = run_detector(create_detector(arguments.detector), folder, images)
    print(json.dumps(summarise_run(run, annotations)))
    return 0


def _crop_faces(arguments: argparse.Namespace) -> int:
    from emotion.faces.crop_tool import crop_faces
    from emotion.faces.detectors import create_detector, default_detector

    detector = create_detector(arguments.detector or default_detector())
    progress = None
    if sys.stderr.isatty():
        from tqdm import tqdm

        progress = lambda photos: tqdm(photos, desc="photos", unit="photo", file=sys.stderr)  # noqa: E731
    counts = crop_faces(Path(arguments.in_dir), Path(arguments.out_dir), detector,
                        output_format=arguments.format, align=arguments.align, progress=progress,
                        overlap=not arguments.sequential)
    print(f"{counts['faces']} face(s) from {counts['images']} image(s); {counts['skipped']} file(s) skipped "
          f"(see {Path(arguments.out_dir) / 'manifest.csv'})")
    return 0
