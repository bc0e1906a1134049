"""``python -m emotion COMMAND``: the study's command-line interface.

Commands:
    check-data      verify the data under $EMOTION_DATA and print how to obtain anything missing
    build-wider-subset  rebuild $EMOTION_DATA/faces from the official WIDER FACE download
    run-notebooks   execute the notebooks headless (``--mode smoke`` or ``--mode full``)
    results-table   print the README's results table from results/*.json, or rewrite/check the README
    detect-eval     run one face detector on a WIDER-FACE-format folder; print AP per level and speed as JSON
    report          build the static HTML report (build/report/) and check it in headless Chromium
    model-card      write models/MODEL_CARD.md from results/*.json
    predict         find faces in photos and classify their emotions (annotated copies, JSON)
    crop-faces      crop every face in a folder to 48x48 grayscale (FER CSV, class folders, YOLO labels)
    peer-compare    the `fer` package vs our pipeline on the same inputs (results/06_peer_comparison.json)
    tune-pipeline   choose the pipeline detector's image size on photos the peer comparison does not use
    serve           the web app for trying the system on a photo in a browser (http://127.0.0.1:8000/)
    serve-load      a bounded load test of the web app (results/06_webapp_load.json)
    train           train a model on FER2013 with the study's protocol, resumably (``--release`` publishes it)
    training-cost   one epoch's cost per model with TensorFlow's oneDNN kernels off and on (results/03_training_cost.json)
    kfold           K-fold cross-validation of a recipe on FER2013 Training (results/03_kfold_NAME.json)
    ensemble        release an ensemble of released models as one averaged .keras file (results/03_ensemble_NAME.json)
    evaluate        score a saved .keras model on a FER2013 split, optionally with flip or ten-crop TTA (JSON)
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

from emotion.errors import DataMissingError, EmotionError, ModelFileError
from emotion.paths import MODELS_DIR, RESULTS_DIR, data_root

PEER_PHOTOS = 50
"""WIDER photos of the peer comparison's end-to-end part (the protocol of results/06_peer_comparison.json)."""
LOAD_REQUESTS, LOAD_CONCURRENCY = 200, 8
"""The web app's load-test protocol (results/06_webapp_load.json): requests sent, and how many at once."""


def _check_data(arguments: argparse.Namespace) -> int:
    from emotion.data.datacheck import blocked_notebooks, check_data, format_report

    root = Path(arguments.data).resolve() if arguments.data else data_root()
    items = check_data(root)
    print(format_report(root, items))
    missing = [item.name for item in items if item.required and not item.ok]
    if missing:
        print(f"\nRequired data missing or malformed: {', '.join(missing)}. Notebooks "
              f"{', '.join(name[:2] for name in blocked_notebooks(items))} cannot run without it, so `make figures` "
              "stops here; the instructions above say how to obtain it.", file=sys.stderr)
        return 1
    return 0


def _build_wider_subset(arguments: argparse.Namespace) -> int:
    from emotion.data.wider_subset import build_wider_subset

    out = Path(arguments.out) if arguments.out else data_root() / "faces"
    summary = build_wider_subset(arguments.wider_val, arguments.ground_truth, out, replace=arguments.replace)
    print(f"Wrote {summary.folder}: {summary.images} images ({summary.image_bytes / 1e6:.1f} MB, sha256 verified), "
          f"{summary.faces:,} faces; images.csv, annotations.csv and widerface_eval/ equal the study's copies."
          + ("" if summary.readme_copied else " widerface_eval/wider_face_split_readme.txt was not written: no "
             "readme.txt lies beside wider_face_val.mat (it only explains the attribute codes)."))
    return 0


def _run_notebooks(arguments: argparse.Namespace) -> int:
    from emotion.machine import busy_cpu_seconds, other_cores, own_cpu_seconds
    from emotion.study.notebooks import RUNTIMES_FILE, notebook_variants, record_runtime, run_notebook, study_notebooks

    notebooks = study_notebooks()
    if arguments.only:
        notebooks = [path for path in notebooks if any(path.name.startswith(prefix) for prefix in arguments.only)]
    if not notebooks:
        print("No notebook matches; the notebooks are notebooks/NN_slug.ipynb.", file=sys.stderr)
        return 2
    output_root = Path(arguments.output).resolve() if arguments.output else None
    if arguments.models:
        released = {parameters.get("model_name") for notebook in notebooks
                    for parameters, _ in notebook_variants(notebook, arguments.mode)}
        unknown = sorted(set(arguments.models) - released)
        if unknown:
            print(f"error: --models {' '.join(unknown)}: no such released model in {arguments.mode} mode (released: "
                  f"{', '.join(sorted(name for name in released if name)) or 'none'}; results/03_train_<model>.json).",
                  file=sys.stderr)
            return 2
    for notebook in notebooks:
        for parameters, keep_as in notebook_variants(notebook, arguments.mode):
            if arguments.models and parameters.get("model_name", arguments.models[0]) not in arguments.models:
                continue
            label = notebook.name + "".join(f" {key}={value}" for key, value in parameters.items())
            print(f"[{arguments.mode}] running {label} ...", flush=True)
            busy_before, own_before = busy_cpu_seconds(), own_cpu_seconds()
            run = run_notebook(notebook, arguments.mode, seed=arguments.seed, output_root=output_root,
                               extra_parameters=parameters, keep_as=keep_as)
            other = other_cores(busy_before, busy_cpu_seconds(), own_cpu_seconds() - own_before, run.seconds)
            beside = "" if other is None else f", other work meanwhile {other:.2f} cores"
            print(f"[{arguments.mode}] {label} done in {run.seconds:.0f} s{beside} -> {run.output}", flush=True)
            if arguments.record_times and keep_as is None:
                record_runtime(RUNTIMES_FILE, notebook, arguments.mode, run.seconds, arguments.seed, other=other)
    return 0


def _results_table(arguments: argparse.Namespace) -> int:
    from emotion.study.results import headline_table, update_readme

    results_dir = Path(arguments.results)
    if arguments.write:
        same = update_readme(arguments.write, results_dir)
        print(f"{arguments.write}: {'already up to date' if same else 'results table rewritten'}")
        return 0
    if arguments.check:
        if update_readme(arguments.check, results_dir, check=True):
            print(f"{arguments.check}: the results table matches {results_dir}")
            return 0
        print(f"{arguments.check}: the results table differs from {results_dir}; run `make readme`.", file=sys.stderr)
        return 1
    print(headline_table(results_dir))
    return 0


def _report(arguments: argparse.Namespace) -> int:
    from emotion.study.report import build_report
    from emotion.study.report_check import browser_problems, find_chromium, static_problems

    index = build_report(Path(arguments.output).resolve())
    print(f"report written: {index}")
    problems = static_problems(index.parent)
    if find_chromium() is None:
        print("note: Chromium not found, so the pages were not opened in a browser; `make setup-browser` installs it.")
    else:
        screenshot = index.parent.with_name(index.parent.name + "_screenshot.png")
        problems += browser_problems(index.parent, screenshot)
        print(f"opened every page in headless Chromium; screenshot: {screenshot}")
    for problem in problems:
        print(f"problem: {problem}", file=sys.stderr)
    return 1 if problems else 0


def _train(arguments: argparse.Namespace) -> int:
    import json

    from emotion.classify.train import train_fer2013

    config = _train_config(arguments)
    if arguments.ablation and not arguments.release:
        print("--ablation names how a run is released: add --release.", file=sys.stderr)
        return 2
    result = train_fer2013(config, run_dir=arguments.run_dir, release=arguments.release, limit=arguments.limit,
                           name=arguments.name, ablation=arguments.ablation, strategy=arguments.strategy)
    summary = {key: value for key, value in result.summary.items() if key not in ("recipe", "test", "test_tta", "history")}
    if "test" in result.summary:
        summary["privatetest_accuracy"] = result.summary["test"]["accuracy"]
        summary["privatetest_macro_f1"] = result.summary["test"]["macro_f1"]
    print(json.dumps(summary, indent=2))
    return 0


def _training_cost(arguments: argparse.Namespace) -> int:
    from emotion.classify.training_cost import COST_MODELS, describe_cost, measure_epoch_cost
    from emotion.paths import RESULTS_DIR
    from emotion.study.results import write_results

    pairs = [pair for pair in COST_MODELS if not arguments.models or pair[0] in arguments.models]
    rows = []
    for model, recipe in pairs:
        for onednn in (True, False):
            print(f"measuring {model} ({recipe} recipe), oneDNN {'on' if onednn else 'off'} ...", flush=True)
            rows.append(measure_epoch_cost(model, recipe, onednn=onednn, limit=arguments.limit))
    payload = {"protocol": "one fresh `emotion train --epochs 2 --limit N` process per row, one at a time; the second "
                           "epoch measured and projected to a full FER2013 epoch (28,709 training images, two "
                           "evaluation passes of 3,589)",
               "limit": arguments.limit, "rows": rows}
    path = write_results(RESULTS_DIR / "03_training_cost.json", payload, mode="full", seed=0)
    from emotion.study.results import read_results

    print(describe_cost(read_results(path)))
    print(f"wrote {path}")
    return 0


def _train_config(arguments: argparse.Namespace):
    from emotion.classify.augment import NO_AUGMENTATION
    from emotion.classify.train import recipe_config, with_overrides

    return with_overrides(
        recipe_config(arguments.recipe, arguments.model), epochs=arguments.epochs, seed=arguments.seed,
        batch_size=arguments.batch_size, learning_rate=arguments.learning_rate,
        mixed_precision=arguments.mixed_precision or None,
        class_weighting="balanced" if arguments.class_weighted else None,
        augment=NO_AUGMENTATION if arguments.no_augment else None, init_from=arguments.init_from,
    )


def _ensemble(arguments: argparse.Namespace) -> int:
    import json

    from emotion.analysis.compare import released_table
    from emotion.classify.ensemble import greedy_selection, release_ensemble, released_probabilities
    from emotion.data.fer2013 import load_fer2013

    table = released_table(Path(arguments.results))
    if table.empty:
        print(f"no released model in {arguments.results}: run `make train` first.", file=sys.stderr)
        return 2
    unknown = [name for name in arguments.members or [] if name not in table.index]
    if unknown:
        print(f"not released: {', '.join(unknown)} (released: {', '.join(table.index)}).", file=sys.stderr)
        return 2
    data = load_fer2013()
    splits = {split: data.split(split) for split in ("PublicTest", "PrivateTest")}
    selection = None
    members = arguments.members
    if not members:
        candidates = table.sort_values("training_cpu_minutes").index.tolist()  # equal scores: the cheaper first
        probabilities = released_probabilities(candidates, Path(arguments.models),
                                               {"PublicTest": splits["PublicTest"][0]}, tta=arguments.tta)
        selection = greedy_selection(probabilities["PublicTest"], splits["PublicTest"][1])
        members = selection["members"]
        if len(members) < 2:
            print(f"greedy selection on PublicTest keeps {members[0]} alone: no ensemble raises its accuracy, so "
                  "none is released.", file=sys.stderr)
            return 1
    costs = table[["training_cpu_minutes", "training_wall_minutes", "own_training_cpu_minutes",
                   "own_training_wall_minutes", "warm_start_from"]].to_dict(orient="index")
    written = release_ensemble(members, arguments.name, Path(arguments.models), Path(arguments.results), splits,
                               costs, tta=arguments.tta, selection=selection)
    document = json.loads(written["results"].read_text())
    print(json.dumps({key: document[key] for key in ("members", "tta", "publictest_accuracy", "publictest_accuracy_tta",
                                                     "training_cpu_minutes", "model_file")}
                     | {"privatetest_accuracy": document["test"]["accuracy"],
                        "privatetest_accuracy_tta": document["test_tta"]["accuracy"]}, indent=2))
    return 0


def _kfold(arguments: argparse.Namespace) -> int:
    import json

    from emotion.classify.kfold import kfold_fer2013

    outcome = kfold_fer2013(_train_config(arguments), folds=arguments.folds, name=arguments.name,
                            run_dir=arguments.run_dir)
    print(json.dumps({key: value for key, value in outcome.items() if key != "recipe"}, indent=2))
    return 0


def _evaluate(arguments: argparse.Namespace) -> int:
    import json

    from emotion.classify.evaluate import evaluate_file

    print(json.dumps(evaluate_file(arguments.model, arguments.split, tta=arguments.tta), indent=2))
    return 0


def _model_card(arguments: argparse.Namespace) -> int:
    from emotion.study.model_card import write_model_card

    path = Path(arguments.path)
    same = write_model_card(path, Path(arguments.results), check=arguments.check)
    if arguments.check and not same:
        print(f"{path} is out of date with {arguments.results}; run `make model-card`.", file=sys.stderr)
        return 1
    print(f"{path}: {'up to date' if same else 'written'}")
    return 0


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


def _predict(arguments: argparse.Namespace) -> int:
    import json

    from emotion.data.image_files import find_images
    from emotion.app.pipeline import EmotionPipeline, predict_files, prediction_document

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


def _peer_compare(arguments: argparse.Namespace) -> int:
    from emotion.data.fer2013 import load_fer2013
    from emotion.faces.detection_eval import load_annotations
    from emotion.paths import BUILD_DIR
    from emotion.app.peer import compare, run_conditions, select_photos
    from emotion.app.pipeline import default_model_path
    from emotion.machine import busy_cpu_seconds, own_cpu_seconds
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
                      single_model_path=single)
    # Timings mean little unless the reader knows whether other work shared the CPU (fer's side is a subprocess,
    # counted in this process's own CPU time).
    payload["conditions"] = run_conditions(busy_before, busy_cpu_seconds(), own_cpu_seconds() - own_before,
                                           time.perf_counter() - started)
    # A run on fewer photos than the protocol's is a quick check, and its file says so.
    mode = "full" if arguments.photos >= PEER_PHOTOS else "smoke"
    path = write_results(Path(arguments.results) / "06_peer_comparison.json", payload, mode=mode, seed=0)
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
    path = write_results(Path(arguments.results) / "06_pipeline_tuning.json", payload, mode=mode, seed=0)
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

    from emotion.data.image_files import read_image_file
    from emotion.study.results import write_results
    from emotion.app.webapp import create_app, sample_photos
    from emotion.app.webapp_load import RESULTS_NAME, load_results, measure_load

    if arguments.photo:
        photo = Path(arguments.photo)
    else:
        samples = sample_photos()
        if not samples:
            raise DataMissingError(f"no sample photo under {data_root() / 'faces' / 'images'} (notebook 06's WIDER "
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


def _bounded(convert, accept, what: str):
    """An argparse ``type`` that converts with ``convert`` and accepts a value when ``accept(value)``; anything else
    is refused with ``'<text>' is not <what>``."""
    def parse(text: str):
        try:
            value = convert(text)
        except ValueError:
            value = None
        if value is None or not accept(value):
            raise argparse.ArgumentTypeError(f"{text!r} is not {what}")
        return value
    return parse


_port = _bounded(int, lambda value: 1 <= value <= 65535, "a port number (1-65535)")
_at_least_one = _bounded(int, lambda value: value >= 1, "a whole number of at least 1")
_positive_seconds = _bounded(float, lambda value: value > 0, "a positive number of seconds")


def build_parser() -> argparse.ArgumentParser:
    """Return the argument parser of ``python -m emotion``."""
    parser = argparse.ArgumentParser(prog="python -m emotion", description="The facial-emotion-recognition study.")
    commands = parser.add_subparsers(dest="command", required=True)

    check = commands.add_parser("check-data", help="verify $EMOTION_DATA, say which notebooks can run and how to "
                                "obtain what is missing")
    check.add_argument("--data", help="data root (default: $EMOTION_DATA, else data/raw)")
    check.set_defaults(handler=_check_data)

    wider = commands.add_parser("build-wider-subset", help="rebuild $EMOTION_DATA/faces (the 700-image WIDER FACE "
                                "val subset) from the official WIDER FACE downloads")
    wider.add_argument("--wider-val", required=True, metavar="DIR",
                       help="the unzipped WIDER_val.zip: the folder holding WIDER_val/images/<event>/<file>.jpg")
    wider.add_argument("--ground-truth", required=True, nargs="+", metavar="DIR",
                       help="folder(s) searched for wider_face_val.mat (wider_face_split.zip) and "
                            "wider_{easy,medium,hard}_val.mat (eval_tools.zip)")
    wider.add_argument("--out", metavar="DIR", help="the folder to create (default: $EMOTION_DATA/faces)")
    wider.add_argument("--replace", action="store_true", help="replace --out if it exists, once the new one is complete")
    wider.set_defaults(handler=_build_wider_subset)

    run = commands.add_parser("run-notebooks", help="execute the notebooks headless with papermill")
    run.add_argument("--mode", choices=("smoke", "full"), required=True)
    run.add_argument("--seed", type=int, default=0)
    run.add_argument("--only", nargs="+", metavar="NN", help="run only notebooks whose names start with these")
    run.add_argument("--models", nargs="+", metavar="MODEL",
                     help="full mode: run the per-model notebook (03) only for these released models")
    run.add_argument("--output", help="smoke mode: output folder (default build/smoke)")
    run.add_argument("--record-times", action="store_true",
                     help="merge each notebook's run time into results/00_runtimes.json (README table)")
    run.set_defaults(handler=_run_notebooks)

    table = commands.add_parser("results-table", help="the README's results table from results/*.json")
    table.add_argument("--results", default=str(RESULTS_DIR), help="results folder (default results/)")
    group = table.add_mutually_exclusive_group()
    group.add_argument("--write", metavar="README", help="rewrite the table inside this README")
    group.add_argument("--check", metavar="README", help="exit 1 when this README's table is out of date")
    table.set_defaults(handler=_results_table)

    detect = commands.add_parser("detect-eval", help="run one face detector on a WIDER-FACE-format folder; print "
                                 "AP per level and ms/image as one JSON object")
    detect.add_argument("--detector", required=True, help="haar, dlib_hog, dlib_cnn, mtcnn or yunet")
    detect.add_argument("--data", help="folder with images/, annotations.csv, images.csv (default $EMOTION_DATA/faces)")
    detect.add_argument("--limit", type=int, help="only the first N images in benchmark order (sha256 of the bytes)")
    detect.set_defaults(handler=_detect_eval)

    report = commands.add_parser("report", help="build the static HTML report and check it in headless Chromium")
    report.add_argument("--output", default="build/report", help="output folder (default build/report)")
    report.set_defaults(handler=_report)

    predict = commands.add_parser("predict", help="find faces in photos and classify their emotions")
    predict.add_argument("paths", nargs="+", help="image files or folders (jpg, png, bmp, webp, gif first frame)")
    predict.add_argument("--detector", default=None, help="face detector (default yunet when its model file is in $EMOTION_DATA/models/, else mtcnn)")
    predict.add_argument("--model", help="classifier .keras (default: the released model best on PublicTest)")
    predict.add_argument("--out", help="write annotated copies into this folder")
    predict.add_argument("--json", action="store_true", help="print one JSON document on stdout")
    predict.add_argument("--align", action="store_true", help="align crops by the eye landmarks")
    predict.add_argument("--sequential", action="store_true",
                         help="one batch of photos after another, each stage in turn (default: decoding, detection, "
                              "classification and writing overlap on threads; same outputs)")
    predict.set_defaults(handler=_predict)

    crop = commands.add_parser("crop-faces", help="crop every face in a folder to 48x48 grayscale")
    crop.add_argument("in_dir")
    crop.add_argument("out_dir")
    crop.add_argument("--detector", default=None, help="face detector (default yunet when its model file is in $EMOTION_DATA/models/, else mtcnn)")
    crop.add_argument("--format", choices=("fer", "folders", "yolo"), default="fer",
                      help="FER2013-style CSV, class folders, or YOLO detector labels (default fer)")
    crop.add_argument("--align", action="store_true", help="align crops by the eye landmarks")
    crop.add_argument("--sequential", action="store_true",
                      help="one photo after another, each stage in turn (default: decoding, detection and cropping "
                           "overlap on threads; same files)")
    crop.set_defaults(handler=_crop_faces)

    peer = commands.add_parser("peer-compare", help="compare with the `fer` package side by side (needs make peer-env)")
    peer.add_argument("--model", help="our classifier (default: the released model best on PublicTest)")
    peer.add_argument("--single-model",
                      help="a single network also timed with our fastest detector when --model is an ensemble "
                           "(default, without --model: the released single network best on PublicTest; 'none' "
                           "skips it)")
    peer.add_argument("--photos", type=int, default=PEER_PHOTOS,
                      help=f"WIDER photos for the end-to-end part (default {PEER_PHOTOS}; fewer writes a smoke-mode file)")
    peer.add_argument("--detectors", nargs="+", default=["haar", "mtcnn"], choices=["haar", "mtcnn"],
                      help="detector families both sides run (fer offers haar and mtcnn)")
    peer.add_argument("--our-detectors", nargs="+", choices=["haar", "mtcnn", "yunet", "dlib_hog"],
                      help="what our side runs (default: --detectors plus yunet when its model file is present)")
    peer.add_argument("--tta", choices=("none", "flip", "tencrop"), default="none",
                      help="test-time augmentation of our classifier on the PrivateTest crops (default none; the "
                           "end-to-end part classifies each face once)")
    peer.add_argument("--results", default=str(RESULTS_DIR))
    peer.set_defaults(handler=_peer_compare)

    tune = commands.add_parser("tune-pipeline", help="choose the pipeline detector's image size on photos the "
                               "peer comparison does not use -> results/06_pipeline_tuning.json")
    tune.add_argument("--photos", type=_at_least_one, default=PEER_PHOTOS,
                      help=f"tuning photos (default {PEER_PHOTOS}; fewer writes a smoke-mode file)")
    tune.add_argument("--detector", default="yunet", help="detector to tune (default yunet)")
    tune.add_argument("--model", help="classifier .keras (default: the released model best on PublicTest)")
    tune.add_argument("--results", default=str(RESULTS_DIR))
    tune.set_defaults(handler=_tune_pipeline)

    serve = commands.add_parser("serve", help="the web app: try the system on a photo in a browser")
    serve_load = commands.add_parser("serve-load", help="a bounded load test of the web app -> "
                                     "results/06_webapp_load.json")
    for parser_ in (serve, serve_load):
        parser_.add_argument("--detector", default=None, help="face detector (default yunet when its model file is in $EMOTION_DATA/models/, else mtcnn)")
        parser_.add_argument("--model", help="classifier .keras (default: the released model best on PublicTest)")
    serve.add_argument("--host", default="127.0.0.1",
                       help="address to listen on (default 127.0.0.1: this machine only; 0.0.0.0 opens it to the "
                            "network, with no login)")
    serve.add_argument("--port", type=_port, default=8000, help="port (default 8000)")
    serve.set_defaults(handler=_serve)
    serve_load.add_argument("--photo", help="the photo every request sends (default: the first sample photo)")
    serve_load.add_argument("--requests", type=_at_least_one, default=LOAD_REQUESTS,
                            help=f"requests to send (default {LOAD_REQUESTS}; fewer writes a smoke-mode file)")
    serve_load.add_argument("--concurrency", type=_at_least_one, default=LOAD_CONCURRENCY,
                            help=f"clients at once (default {LOAD_CONCURRENCY})")
    serve_load.add_argument("--timeout", type=_positive_seconds, default=600.0,
                            help="hard limit in seconds; unanswered requests count as errors (default 600)")
    serve_load.add_argument("--results", default=str(RESULTS_DIR))
    serve_load.set_defaults(handler=_serve_load)

    card = commands.add_parser("model-card", help="write models/MODEL_CARD.md from results/*.json")
    card.add_argument("--path", default=str(MODELS_DIR / "MODEL_CARD.md"))
    card.add_argument("--results", default=str(RESULTS_DIR))
    card.add_argument("--check", action="store_true", help="exit 1 when the card is out of date; write nothing")
    card.set_defaults(handler=_model_card)
    train = commands.add_parser("train", help="train a model on FER2013 (resumable; see emotion.classify.train)")
    kfold = commands.add_parser("kfold", help="K-fold cross-validation on FER2013 Training (results/03_kfold_NAME.json)")
    for parser_ in (train, kfold):
        parser_.add_argument("--model", required=True, help="basic_cnn, resnet18, resnet34, resnet50, mobilenet, crop_cnn or wide_crop_cnn")
        parser_.add_argument("--recipe", choices=("study", "paper"), default="study",
                             help="study (AdamW, batch 64, 30 epochs, full augmentation; the default) or paper (the "
                                  "paper's: SGD momentum 0.9, batch 256, mirror/rotation/blur/brightness, 60 epochs); "
                                  "the options below override it")
        parser_.add_argument("--epochs", type=int, help="epoch budget (default: the recipe's)")
        parser_.add_argument("--seed", type=int, help="random seed (default 0)")
        parser_.add_argument("--batch-size", type=int, help="images per step (default: the recipe's)")
        parser_.add_argument("--learning-rate", type=float, help="peak learning rate (default: the recipe's)")
        parser_.add_argument("--mixed-precision", action="store_true", help="train under mixed_bfloat16 where bfloat16 runs in hardware (GPU, AVX512-BF16 or AMX CPUs); float32 elsewhere, where it is faster")
        parser_.add_argument("--class-weighted", action="store_true",
                             help="weight each class's loss by n / (classes x its count)")
        parser_.add_argument("--no-augment", action="store_true", help="train without augmentation")
        parser_.add_argument("--init-from", metavar="MODEL.keras",
                             help="warm start from this model's weights (same architecture), e.g. a second cosine "
                                  "cycle from a release; its training time is added to the run's cumulative time")
        parser_.add_argument("--name", help="run name for the run folder and released files (default: the model)")
        parser_.add_argument("--run-dir", help="run folder (default build/train/NAME); the same folder resumes a run")
    train.add_argument("--limit", type=int, help="use only the first N images of each split (a quick check)")
    train.add_argument("--strategy", choices=("default", "mirrored", "multiworker"), default="default",
                       help="tf.distribute strategy: default (one device, as the releases), mirrored (all GPUs of "
                            "this machine), multiworker (cluster from TF_CONFIG); the batch size is the global batch")
    train.add_argument("--release", action="store_true",
                       help="copy the finished run to models/ and write results/03_train_NAME.json")
    train.add_argument("--ablation", action="store_true",
                       help="with --release: write only results/03_ablation_NAME.json (no model in models/)")
    train.set_defaults(handler=_train)
    cost = commands.add_parser("training-cost", help="one epoch's cost per model, oneDNN off and on -> "
                                                     "results/03_training_cost.json (minutes; one model at a time)")
    cost.add_argument("--limit", type=_at_least_one, default=1500, help="images per split in each measured epoch")
    cost.add_argument("--models", nargs="*", help="only these architectures (default: all)")
    cost.set_defaults(handler=_training_cost)
    kfold.add_argument("--folds", type=int, default=3, help="K (default 3)")
    kfold.set_defaults(handler=_kfold)

    ensemble = commands.add_parser(
        "ensemble", help="release an ensemble of released models as one averaged .keras file "
                         "(models/NAME.keras, results/03_ensemble_NAME.json)")
    ensemble.add_argument("--name", required=True, help="the ensemble's release name")
    ensemble.add_argument("--members", nargs="+", metavar="MODEL",
                          help="released models to average (default: greedy forward selection on PublicTest)")
    ensemble.add_argument("--tta", choices=("none", "flip", "tencrop"), default="flip",
                          help="members' test-time augmentation during selection (default flip)")
    ensemble.add_argument("--models", default=str(MODELS_DIR))
    ensemble.add_argument("--results", default=str(RESULTS_DIR))
    ensemble.set_defaults(handler=_ensemble)

    evaluate = commands.add_parser("evaluate", help="evaluate a saved .keras model on a FER2013 split (JSON)")
    evaluate.add_argument("--model", required=True, help="path of a .keras file, e.g. models/basic_cnn.keras")
    evaluate.add_argument("--split", default="PrivateTest", help="Training, PublicTest or PrivateTest")
    evaluate.add_argument("--tta", nargs="?", const="flip", default="none", choices=("none", "flip", "tencrop"),
                          help="test-time augmentation: --tta (or --tta flip) averages each image and its mirror; "
                               "--tta tencrop averages 5 shifted views and their mirrors")
    evaluate.set_defaults(handler=_evaluate)
    return parser


def main(argv: list[str] | None = None) -> int:
    """Run the command line; returns the exit status (0 ok, 1 failure a user can fix, 2 usage error)."""
    arguments = build_parser().parse_args(argv)
    try:
        return arguments.handler(arguments)
    except EmotionError as error:
        print(f"error: {error}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
