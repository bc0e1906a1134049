"""Commands of the classify stage: ``train``, ``kfold``, ``training-cost``, ``ensemble``, ``run-outputs`` and
``evaluate``."""

# Handlers import their stage lazily so that `python -m emotion --help` stays fast.
from __future__ import annotations

import argparse
import sys
from pathlib import Path

from emotion.app.commands.arguments import at_least_one
from emotion.classify.training_cost import SHORT_EPOCH_LIMIT
from emotion.paths import MODELS_DIR, RESULTS_DIR


def register(commands) -> None:
    """Add this stage's sub-parsers to ``commands`` (an argparse sub-parsers action)."""
    train = commands.add_parser("train", help="train a model on FER2013 (resumable; see emotion.classify.train)")
    kfold = commands.add_parser("kfold",
                                help="K-fold cross-validation on FER2013 Training (results/03_kfold_NAME.json)")
    for parser_ in (train, kfold):
        parser_.add_argument("--model", required=True,
                             help="an architecture of the registry (emotion.classify.models): basic_cnn, resnet18, "
                                  "resnet18_keepres (ResNet-18 with a resolution-keeping stem), resnet34, resnet50, "
                                  "mobilenet, crop_cnn or wide_crop_cnn")
        parser_.add_argument("--recipe", choices=("study", "paper"), default="study",
                             help="study (AdamW, batch 64, 30 epochs, full augmentation; the default) or paper (the "
                                  "paper's: SGD momentum 0.9, batch 256, mirror/rotation/blur/brightness, 60 epochs); "
                                  "the options below override it")
        parser_.add_argument("--epochs", type=int, help="epoch budget (default: the recipe's)")
        parser_.add_argument("--seed", type=int, help="random seed (default 0)")
        parser_.add_argument("--batch-size", type=int, help="images per step (default: the recipe's)")
        parser_.add_argument("--learning-rate", type=float, help="peak learning rate (default: the recipe's)")
        parser_.add_argument("--mixed-precision", action="store_true",
                             help="train under mixed_bfloat16 where bfloat16 runs in hardware (GPU, AVX512-BF16 or "
                                  "AMX CPUs); float32 elsewhere, where it is faster")
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
    train.add_argument("--skip-released", action="store_true",
                       help="with --release: do nothing when results/ already holds this run's results file with "
                            "the same recipe (a queued run of make budgets/stems/experiments that is committed); a "
                            "file with another recipe is an error")
    kfold.add_argument("--skip-released", action="store_true",
                       help="do nothing when results/03_kfold_NAME.json already holds this recipe")
    train.set_defaults(handler=_train)
    cost = commands.add_parser("training-cost", help="one epoch's cost per model, oneDNN off and on -> "
                                                     "results/03_training_cost.json (minutes; one model at a time)")
    cost.add_argument("--limit", type=at_least_one, default=SHORT_EPOCH_LIMIT,
                      help="images per split in each measured epoch (default 3000; shorter epochs are dominated by "
                           "each epoch's fixed costs and understate a model's speed)")
    cost.add_argument("--kernels", choices=("both", "on"), default="both",
                      help="measure with oneDNN on and off (default), or on only (the quiet price training uses)")
    cost.add_argument("--models", nargs="*", help="measure only these architectures and replace their rows in the "
                                                  "existing table (default: all, a new table)")
    cost.set_defaults(handler=_training_cost)
    kfold.add_argument("--folds", type=int, default=3, help="K (default 3)")
    kfold.set_defaults(handler=_kfold)
    outputs = commands.add_parser(
        "run-outputs", help="keep a finished ablation run's softmax outputs on PublicTest and PrivateTest beside its "
                            "results (results/03_ablation_NAME_outputs.npz), so an ensemble can use it on any clone")
    outputs.add_argument("--name", required=True, help="the run's name (results/03_ablation_NAME.json)")
    outputs.add_argument("--run-dir", help="its run folder, holding best.keras (default build/train/NAME)")
    outputs.add_argument("--results", default=str(RESULTS_DIR))
    outputs.set_defaults(handler=_run_outputs)

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


def train_config(arguments: argparse.Namespace):
    """The ``TrainConfig`` of a ``train`` or ``kfold`` command line: the recipe's, with the options' overrides."""
    from emotion.classify.augment import NO_AUGMENTATION
    from emotion.classify.train import recipe_config, with_overrides

    return with_overrides(
        recipe_config(arguments.recipe, arguments.model), epochs=arguments.epochs, seed=arguments.seed,
        batch_size=arguments.batch_size, learning_rate=arguments.learning_rate,
        mixed_precision=arguments.mixed_precision or None,
        class_weighting="balanced" if arguments.class_weighted else None,
        augment=NO_AUGMENTATION if arguments.no_augment else None, init_from=arguments.init_from,
    )


def _train(arguments: argparse.Namespace) -> int:
    import json

    from emotion.classify.train import train_fer2013

    config = train_config(arguments)
    if (arguments.ablation or arguments.skip_released) and not arguments.release:
        print("--ablation and --skip-released are about how a run is released: add --release.", file=sys.stderr)
        return 2
    if arguments.skip_released:
        from emotion.classify.release import released_results

        name = arguments.name or config.model
        skipped = released_run_note(config, name, released_results(name, ablation=arguments.ablation,
                                                                   results_dir=RESULTS_DIR))
        if skipped is not None:
            print(skipped[1], file=sys.stderr)
            return skipped[0]
    result = train_fer2013(config, run_dir=arguments.run_dir, release=arguments.release, limit=arguments.limit,
                           name=arguments.name, ablation=arguments.ablation, strategy=arguments.strategy)
    summary = {key: value for key, value in result.summary.items()
               if key not in ("recipe", "test", "test_tta", "history")}
    if "test" in result.summary:
        summary["privatetest_accuracy"] = result.summary["test"]["accuracy"]
        summary["privatetest_macro_f1"] = result.summary["test"]["macro_f1"]
    print(json.dumps(summary, indent=2))
    return 0


def released_run_note(config, name: str, path: Path) -> tuple[int, str] | None:
    """For ``train``/``kfold --skip-released``: ``(exit status, message)`` when run ``name``'s results file ``path``
    exists: 0 and "skipped" when its recipe is ``config``, 2 and what differs otherwise; None when there is no such
    file (the run goes ahead)."""
    import json

    from emotion.classify.run_folder import recipe_differences

    if not path.is_file():
        return None
    try:
        stored = json.loads(path.read_text())["recipe"]
    except (ValueError, KeyError, TypeError) as error:
        return 2, f"{path}: not a training results file ({error}); move it away or fix it, then run again."
    changed = recipe_differences(stored, config)
    if changed:
        return 2, (f"{path} holds run {name!r} trained with another recipe (differs in: {', '.join(changed)}); "
                   "pass another --name, or delete the file to retrain.")
    return 0, f"{path} already holds run {name!r} with this recipe: skipped (delete the file to retrain)."


def _kfold(arguments: argparse.Namespace) -> int:
    import json

    from emotion.classify.kfold import kfold_fer2013

    config = train_config(arguments)
    name = arguments.name or f"{config.model}_{arguments.folds}fold"
    if arguments.skip_released:
        skipped = released_run_note(config, name, RESULTS_DIR / f"03_kfold_{name}.json")
        if skipped is not None:
            print(skipped[1], file=sys.stderr)
            return skipped[0]
    outcome = kfold_fer2013(config, folds=arguments.folds, name=name, run_dir=arguments.run_dir)
    # The stored predictions (one digit per PrivateTest image, per fold and for the ensemble) stay in the file only.
    printed = {key: value for key, value in outcome.items() if key not in ("recipe", "fold_privatetest_predictions")}
    printed["ensemble_privatetest"] = {key: value for key, value in outcome["ensemble_privatetest"].items()
                                       if key != "predictions"}
    print(json.dumps(printed, indent=2))
    return 0


def _training_cost(arguments: argparse.Namespace) -> int:
    from emotion.classify.training_cost import COST_MODELS, load_training_cost, measure_epoch_cost, merge_rows
    from emotion.classify.training_prose import describe_cost
    from emotion.errors import ConfigurationError
    from emotion.study.results import read_results, write_results

    pairs = [pair for pair in COST_MODELS if not arguments.models or pair[0] in arguments.models]
    unknown = sorted(set(arguments.models or []) - {model for model, _ in COST_MODELS})
    if unknown:
        print(f"error: no such model in the cost table: {', '.join(unknown)} (models: "
              f"{', '.join(dict.fromkeys(model for model, _ in COST_MODELS))}).", file=sys.stderr)
        return 1
    existing = load_training_cost(RESULTS_DIR / "03_training_cost.json") if arguments.models else None
    try:
        merge_rows(existing, [], arguments.limit)  # refuse before measuring, not after an hour
    except ConfigurationError as error:
        print(f"error: {error}", file=sys.stderr)
        return 1
    rows = []
    for model, recipe in pairs:
        for onednn in (True, False) if arguments.kernels == "both" else (True,):
            print(f"measuring {model} ({recipe} recipe), oneDNN {'on' if onednn else 'off'} ...", flush=True)
            rows.append(measure_epoch_cost(model, recipe, onednn=onednn, limit=arguments.limit))
    payload = {"protocol": "one fresh `emotion train --epochs 2 --limit N` process per row, one at a time; the second "
                           "epoch measured and projected to a full FER2013 epoch (28,709 training images, two "
                           "evaluation passes of 3,589)",
               "limit": arguments.limit, "rows": merge_rows(existing, rows, arguments.limit)}
    path = write_results(RESULTS_DIR / "03_training_cost.json", payload, mode="full", seed=0)
    print(describe_cost(read_results(path)))
    print(f"wrote {path}")
    return 0


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


def _run_outputs(arguments: argparse.Namespace) -> int:
    from emotion.classify.release import released_results
    from emotion.classify.run_folder import BEST_MODEL_FILE
    from emotion.classify.run_outputs import read_outputs, write_run_outputs
    from emotion.data.fer2013 import load_fer2013
    from emotion.paths import BUILD_DIR

    results_path = released_results(arguments.name, ablation=True, results_dir=arguments.results)
    run_dir = Path(arguments.run_dir or BUILD_DIR / "train" / arguments.name)
    if not results_path.is_file():
        print(f"no results file {results_path}: release the run first (`python -m emotion train ... --release "
              f"--ablation --name {arguments.name}`).", file=sys.stderr)
        return 2
    if not (run_dir / BEST_MODEL_FILE).is_file():
        print(f"no checkpoint {run_dir / BEST_MODEL_FILE}: its outputs can only be computed on the machine that "
              "trained it (give its folder with --run-dir).", file=sys.stderr)
        return 2
    data = load_fer2013()
    splits = {split: data.split(split) for split in ("PublicTest", "PrivateTest")}
    path = write_run_outputs(run_dir / BEST_MODEL_FILE, results_path, splits)
    private = read_outputs(path, "flip", {split: labels for split, (_, labels) in splits.items()})["PrivateTest"]
    accuracy = float((private.argmax(axis=1) == splits["PrivateTest"][1]).mean())
    print(f"wrote {path} (PrivateTest accuracy of the stored outputs, flip TTA: {accuracy:.2%})")
    return 0


def _evaluate(arguments: argparse.Namespace) -> int:
    import json

    from emotion.classify.evaluate import evaluate_file

    print(json.dumps(evaluate_file(arguments.model, arguments.split, tta=arguments.tta), indent=2))
    return 0
