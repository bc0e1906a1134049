"""``python -m emotion COMMAND``: the study's command-line interface.

Each command's options and handler live in ``emotion.app.commands``, one module per stage of the study;
this module builds the parser from them and runs a command.

Commands:
    check-data      verify the data under $EMOTION_DATA and print how to obtain anything missing
    build-wider-subset  rebuild $EMOTION_DATA/faces from the official WIDER FACE download
    detect-eval     run one face detector on a WIDER-FACE-format folder; print AP per level and speed as JSON
    crop-faces      crop every face in a folder to 48x48 grayscale (FER CSV, class folders, YOLO labels)
    train           train a model on FER2013 with the study's protocol, resumably (``--release`` publishes it)
    kfold           K-fold cross-validation of a recipe on FER2013 Training (results/03_kfold_NAME.json)
    training-cost   one epoch's cost per model with TensorFlow's oneDNN kernels off and on (results/03_training_cost.json)
    ensemble        release an ensemble of released models as one averaged .keras file (results/03_ensemble_NAME.json)
    run-outputs     keep a finished ablation run's outputs on PublicTest/PrivateTest (results/03_ablation_NAME_outputs.npz)
    evaluate        score a saved .keras model on a FER2013 split, optionally with flip or ten-crop TTA (JSON)
    run-notebooks   execute the notebooks headless (``--mode smoke`` or ``--mode full``)
    results-table   print the README's results table from results/*.json, or rewrite/check the README
    record-ci       read a clean clone's `.ci/run` log into results/00_commands.json (the README's command times)
    report          build the static HTML report (build/report/) and check it in headless Chromium
    model-card      write models/MODEL_CARD.md from results/*.json
    notebook-scripts  write notebooks/scripts/NN_slug.py, each notebook's sources as plain text (--check: compare only)
    predict         find faces in photos and classify their emotions (annotated copies, JSON)
    peer-compare    the `fer` package vs our pipeline on the same inputs (results/07_peer_comparison.json)
    tune-pipeline   choose the pipeline detector's image size on photos the peer comparison does not use
    serve           the web app for trying the system on a photo in a browser (http://127.0.0.1:8000/)
    serve-load      a bounded load test of the web app (results/07_webapp_load.json)
    folder-benchmark  predict on a folder, sequential vs overlapped (results/07_folder_benchmark.json)
"""  # noqa: E501

from __future__ import annotations

import argparse
import sys

from emotion.app.commands import classify, data, faces, study, system
from emotion.errors import EmotionError


def build_parser() -> argparse.ArgumentParser:
    """Return the argument parser of ``python -m emotion``: each stage's commands, in the order of the study's flow
    (``emotion.app.commands``)."""
    parser = argparse.ArgumentParser(prog="python -m emotion", description="The facial-emotion-recognition study.")
    commands = parser.add_subparsers(dest="command", required=True)
    for stage in (data, faces, classify, study, system):
        stage.register(commands)
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
