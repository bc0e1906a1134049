"""Ensembles of the released models: average their softmax outputs, choose the members on PublicTest only.

The members are chosen by greedy forward selection (Caruana et al., 2004, without replacement): start from the
model with the highest PublicTest accuracy, add the model that raises the ensemble's PublicTest accuracy most, and
stop when no model raises it. PrivateTest is scored once, for the chosen set. An ensemble costs the training of all
its members and one forward pass of each per image, so :func:`score_ensemble` reports both.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Callable, Mapping, Sequence

import numpy as np

from emotion.classify.prediction_cache import DEFAULT_CACHE
from emotion.errors import ConfigurationError


def average_probabilities(probabilities: Sequence[np.ndarray]) -> np.ndarray:
    """The mean of several models' (n, classes) softmax outputs.

    Raises:
        ConfigurationError: no arrays, or arrays of different shapes.
    """
    if not probabilities:
        raise ConfigurationError("an ensemble needs at least one member's probabilities.")
    shapes = {np.shape(array) for array in probabilities}
    if len(shapes) != 1 or len(next(iter(shapes))) != 2:
        raise ConfigurationError(f"members' probabilities must all be (n, classes) arrays of one shape, got {shapes}.")
    return np.mean(np.stack([np.asarray(array, dtype=np.float64) for array in probabilities]), axis=0)


def _accuracy(probabilities: np.ndarray, labels: np.ndarray) -> float:
    """Accuracy of the arg-max class (:func:`emotion.classify.evaluate.accuracy`)."""
    from emotion.classify.evaluate import accuracy

    return accuracy(labels, np.asarray(probabilities).argmax(axis=1))


def greedy_selection(probabilities: Mapping[str, np.ndarray], labels: np.ndarray, *,
                     max_members: int | None = None) -> dict[str, Any]:
    """Choose ensemble members by greedy forward selection on one split (PublicTest in this study).

    Args:
        probabilities: each candidate's (n, classes) softmax output on the selection split, by name. Ties are broken
            by the order of this mapping (put the cheaper model first).
        labels: int (n,) true classes of the selection split.
        max_members: stop at this many members (default: no limit).

    Returns:
        ``{"members": [names in the order they were added], "accuracy": selection-split accuracy of the chosen set,
        "trace": [{"added", "members", "accuracy"} per step], "single_accuracy": {name: accuracy}}``.

    Raises:
        ConfigurationError: no candidates, a bad ``max_members``, or probabilities that do not match ``labels``.
    """
    labels = np.asarray(labels)
    if not probabilities:
        raise ConfigurationError("greedy selection needs at least one candidate model.")
    if max_members is not None and max_members < 1:
        raise ConfigurationError(f"max_members must be at least 1, got {max_members}.")
    for name, array in probabilities.items():
        if np.ndim(array) != 2 or len(array) != len(labels):
            raise ConfigurationError(f"{name}: expected ({len(labels)}, classes) probabilities, got {np.shape(array)}.")
    single = {name: _accuracy(np.asarray(array), labels) for name, array in probabilities.items()}
    members: list[str] = []
    trace: list[dict[str, Any]] = []
    best_accuracy = -1.0
    limit = max_members or len(probabilities)
    while len(members) < limit:
        candidates = [name for name in probabilities if name not in members]
        scores = {name: _accuracy(average_probabilities([probabilities[m] for m in members + [name]]), labels)
                  for name in candidates}
        best = max(candidates, key=lambda name: scores[name])  # first of equals: the mapping's order breaks ties
        if scores[best] <= best_accuracy:
            break
        members.append(best)
        best_accuracy = scores[best]
        trace.append({"added": best, "members": list(members), "accuracy": best_accuracy})
    return {"members": members, "accuracy": best_accuracy, "trace": trace, "single_accuracy": single}


def score_ensemble(members: Sequence[str], probabilities: Mapping[str, np.ndarray], labels: np.ndarray,
                   costs: Mapping[str, Mapping[str, float]]) -> dict[str, Any]:
    """Score a set of members on one split (PrivateTest, once) and add up what the set cost.

    Args:
        members: the chosen names (:func:`greedy_selection`).
        probabilities: each model's (n, classes) softmax output on the scored split, by name.
        labels: int (n,) true classes of the scored split.
        costs: per name, ``{"training_cpu_minutes", "training_wall_minutes"}`` and, for warm-started models,
            ``"own_training_cpu_minutes", "own_training_wall_minutes", "warm_start_from"`` (columns of
            :func:`emotion.analysis.compare.released_table`; see :func:`lineage_cost`).

    Returns:
        :func:`emotion.classify.evaluate.classification_metrics` of the averaged probabilities plus ``members``,
        ``training_cpu_minutes`` and ``training_wall_hours`` (sums over the members, trained one after another, each
        lineage counted once: :func:`lineage_cost`).

    Raises:
        ConfigurationError: no members, or a member without probabilities or costs.
    """
    from emotion.classify.evaluate import classification_metrics

    missing = [name for name in members if name not in probabilities or name not in costs]
    if not members or missing:
        problem = "no members" if not members else "no probabilities or costs for " + ", ".join(missing)
        raise ConfigurationError(f"cannot score the ensemble: {problem}.")
    averaged = average_probabilities([probabilities[name] for name in members])
    metrics = classification_metrics(np.asarray(labels), averaged.argmax(axis=1))
    cpu, wall = lineage_cost(members, costs)
    return {
        **metrics,
        "members": list(members),
        "training_cpu_minutes": cpu,
        "training_wall_hours": wall / 60,
    }


def lineage_cost(members: Sequence[str], costs: Mapping[str, Mapping[str, Any]]) -> tuple[float, float]:
    """Training CPU- and wall-minutes of a set of models, each model's lineage counted once.

    A warm-started model's ``training_*_minutes`` include its parent's (:func:`emotion.classify.release.
    with_cumulative_time`); when the parent (``warm_start_from``) is in ``costs`` too, the model adds only its
    ``own_training_*_minutes`` and the parent is counted once, whether or not it is a member. Plain models (no
    ``warm_start_from``) add their ``training_*_minutes``.

    Returns:
        ``(cpu_minutes, wall_minutes)``.
    """
    counted: list[str] = []
    queue = list(members)
    while queue:
        name = queue.pop(0)
        if name in counted:
            continue
        counted.append(name)
        parent = costs[name].get("warm_start_from") or ""
        if parent in costs:
            queue.append(parent)
    cpu = wall = 0.0
    for name in counted:
        row = costs[name]
        own = (row.get("warm_start_from") or "") in costs
        cpu += float(row["own_training_cpu_minutes"] if own else row["training_cpu_minutes"])
        wall += float(row["own_training_wall_minutes"] if own else row["training_wall_minutes"])
    return cpu, wall


def released_probabilities(names: Sequence[str], models_dir: Path | str, splits: Mapping[str, np.ndarray], *,
                           tta: bool | str = "flip", cache_dir: Path | str | None | object = DEFAULT_CACHE
                           ) -> dict[str, dict[str, np.ndarray]]:
    """Each released model's softmax output on each split: :func:`file_probabilities` of ``models_dir/<name>.keras``
    for every name.

    Args:
        names: release names; ``models_dir/<name>.keras`` must exist.
        models_dir: the folder of the released ``.keras`` files.
        splits: uint8 (n, 48, 48) images by split name.
        tta: test-time augmentation of every member (:data:`emotion.classify.evaluate.TTA_MODES`).

    Returns:
        ``{split: {name: float32 (n, 7)}}``.

    Raises:
        ModelFileError: a model file is missing or unreadable.
    """
    return file_probabilities({name: Path(models_dir) / f"{name}.keras" for name in names}, splits, tta=tta,
                              cache_dir=cache_dir)


def file_probabilities(paths: Mapping[str, Path | str], splits: Mapping[str, np.ndarray], *,
                       tta: bool | str = "none", cache_dir: Path | str | None | object = DEFAULT_CACHE
                       ) -> dict[str, dict[str, np.ndarray]]:
    """Each stored model file's softmax output on each split, through the prediction cache
    (:func:`emotion.classify.prediction_cache.cached_probabilities`; by default its
    :func:`emotion.classify.prediction_cache.default_cache_dir`; ``cache_dir=None`` always predicts). A file is
    loaded only when the cache lacks one of its splits, and released before the next is loaded.

    Args:
        paths: ``{name: .keras file}``.
        splits: uint8 (n, 48, 48) images by split name (any name: "PrivateTest", "CK+", ...).
        tta: test-time augmentation (:data:`emotion.classify.evaluate.TTA_MODES`; True means ``"flip"``).

    Returns:
        ``{split: {name: float32 (n, 7)}}``.

    Raises:
        ModelFileError: a model file is missing or unreadable.
    """
    import keras

    from emotion.classify.evaluate import load_model, predict_probabilities, tta_mode
    from emotion.classify.prediction_cache import cached_probabilities, default_cache_dir

    if cache_dir is DEFAULT_CACHE:
        cache_dir = default_cache_dir()

    def predict_with(path: Path) -> Callable[[dict[str, np.ndarray]], dict[str, np.ndarray]]:
        def predict(todo: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
            model = load_model(path)
            try:
                return {split: predict_probabilities(model, images, tta=tta) for split, images in todo.items()}
            finally:
                del model
                keras.backend.clear_session()
        return predict

    output: dict[str, dict[str, np.ndarray]] = {split: {} for split in splits}
    for name, path in paths.items():
        path = Path(path)
        for split, values in cached_probabilities(path, dict(splits), tta_mode(tta), predict_with(path),
                                                  cache_dir).items():
            output[split][name] = values
    return output


def choose_and_score(probabilities: Mapping[str, Mapping[str, np.ndarray]], labels: Mapping[str, np.ndarray],
                     costs: Mapping[str, Mapping[str, float]], *, seed: int = 0) -> dict[str, Any]:
    """The study's ensemble protocol: choose members on PublicTest (:func:`greedy_selection`), score PrivateTest
    once (:func:`score_ensemble`), and compare with the best single model on PublicTest.

    Args:
        probabilities: ``{"PublicTest": {name: (n, 7)}, "PrivateTest": {name: (n, 7)}}``
            (:func:`released_probabilities`); the order of the names breaks ties in the selection.
        labels: int (n,) true classes by split.
        costs: see :func:`score_ensemble`.
        seed: seeds the bootstrap resampling.

    Returns:
        ``{"candidates", "selection"`` (:func:`greedy_selection` on PublicTest), ``"privatetest"`` (the chosen set's
        metrics and cost), ``"privatetest_accuracy_interval"`` (95 % bootstrap), ``"best_single"`` (the first member,
        the best single model on PublicTest, scored on PrivateTest with the same test-time views),
        ``"mcnemar_vs_best_single"`` (A = the ensemble, B = the best single model) and ``"all_released_unselected"``
        (the average of every candidate, chosen by nobody, for reference)}``.
    """
    from emotion.classify.evaluate import accuracy
    from emotion.classify.significance import bootstrap_interval, mcnemar

    candidates = list(probabilities["PublicTest"])
    private, private_labels = probabilities["PrivateTest"], np.asarray(labels["PrivateTest"])
    chosen = greedy_selection(probabilities["PublicTest"], labels["PublicTest"])
    ensemble = score_ensemble(chosen["members"], private, private_labels, costs)
    everyone = score_ensemble(candidates, private, private_labels, costs)
    combined = average_probabilities([private[name] for name in chosen["members"]]).argmax(axis=1)
    first = chosen["members"][0]
    single = private[first].argmax(axis=1)
    return {
        "candidates": candidates,
        "selection": chosen,
        "privatetest": {key: ensemble[key] for key in ("members", "accuracy", "macro_f1", "n", "per_class",
                                                       "training_cpu_minutes", "training_wall_hours")},
        "privatetest_accuracy_interval": bootstrap_interval(private_labels, combined, accuracy, seed=seed),
        "best_single": {"model": first, "privatetest_accuracy": accuracy(private_labels, single)},
        "mcnemar_vs_best_single": mcnemar(private_labels, combined, single),
        "all_released_unselected": {key: everyone[key] for key in ("members", "accuracy", "macro_f1",
                                                                  "training_wall_hours")},
        "protocol": "members chosen by greedy forward selection on PublicTest; PrivateTest scored once for the "
                    "chosen set; every member with the same test-time augmentation",
    }


def averaged_model(members: Sequence, name: str = "ensemble"):
    """One Keras model whose output is the mean of the members' softmax outputs, so that an ensemble is released,
    loaded, evaluated and served as one ``.keras`` file like any single model.

    Args:
        members: loaded Keras models with the same input shape and 7 softmax outputs each.
        name: the new model's name.

    Raises:
        ConfigurationError: no members, or members with different input or output shapes.
    """
    import keras

    if not members:
        raise ConfigurationError("an averaged model needs at least one member.")
    inputs = {tuple(member.input_shape[1:]) for member in members}
    outputs = {tuple(member.output_shape[1:]) for member in members}
    if len(inputs) != 1 or len(outputs) != 1:
        raise ConfigurationError(
            f"members must share one input and one output shape to be averaged, got inputs {sorted(inputs)} and "
            f"outputs {sorted(outputs)}.")
    image = keras.Input(shape=next(iter(inputs)), name="image")
    # Each member is wrapped under its own name: Keras needs unique names for nested models in one archive.
    branches = [keras.Model(member.inputs[0], member.outputs[0], name=f"member_{index}_{member.name}")(image)
                for index, member in enumerate(members)]
    averaged = branches[0] if len(branches) == 1 else keras.layers.Average(name="mean_probabilities")(branches)
    return keras.Model(image, averaged, name=name)


def release_ensemble(members: Sequence[str], name: str, models_dir: Path | str, results_dir: Path | str,
                     splits: Mapping[str, tuple[np.ndarray, np.ndarray]], costs: Mapping[str, Mapping[str, Any]], *,
                     tta: str = "flip", selection: dict[str, Any] | None = None, mode: str = "full") -> dict[str, Path]:
    """Publish an ensemble of released models as one file: ``models_dir/<name>.keras`` (:func:`averaged_model`) and
    ``results_dir/03_ensemble_<name>.json``.

    The stored file itself is scored: on PublicTest without test-time augmentation (the number
    :func:`emotion.app.pipeline.default_model_path` compares with single models' checkpoints) and with ``tta`` (what
    chose the members), and on PrivateTest once, both ways, with a 95 % bootstrap interval of the plain accuracy
    (2,000 resamples, seed 0, as notebook 06 gives single models).

    Args:
        members: release names (``models_dir/<member>.keras``), e.g. :func:`greedy_selection`'s ``members``.
        splits: ``{"PublicTest": (uint8 images, labels), "PrivateTest": (...)}``.
        costs: per release, the columns of :func:`emotion.analysis.compare.released_table` that
            :func:`lineage_cost` reads.
        tta: the members' test-time augmentation during selection (:data:`emotion.classify.evaluate.TTA_MODES`).
        selection: the :func:`greedy_selection` record, stored as it is.

    Raises:
        ConfigurationError: a bad name, fewer than two members, a member without costs, or a file over the size cap.
        ModelFileError: a member's file is missing or unreadable.
    """
    import keras

    from emotion.classify.evaluate import accuracy, evaluate_model, load_model, predict_probabilities, tta_mode
    from emotion.classify.release import MAX_MODEL_MIB
    from emotion.classify.run_folder import check_run_name
    from emotion.classify.significance import bootstrap_interval
    from emotion.provenance import write_results

    check_run_name(name)
    tta = tta_mode(tta)
    if len(members) < 2:
        raise ConfigurationError(f"an ensemble needs at least two members, got {list(members)}: release the single "
                                 "model as it is.")
    missing = [member for member in members if member not in costs]
    if missing:
        raise ConfigurationError(f"no training cost for {', '.join(missing)}: is each member a released model?")
    models_dir, results_dir = Path(models_dir), Path(results_dir)
    path = models_dir / f"{name}.keras"
    if any(member == name for member in members):
        raise ConfigurationError(f"the ensemble's name {name!r} is one of its members: choose another name.")
    averaged_model([load_model(models_dir / f"{member}.keras") for member in members], name=name).save(path)
    size = path.stat().st_size / 2**20
    if size > MAX_MODEL_MIB:
        path.unlink()
        raise ConfigurationError(f"{name}: {size:.0f} MiB, over the {MAX_MODEL_MIB:.0f} MB cap of a released file; "
                                 "choose fewer or smaller members.")
    stored = load_model(path)
    scores = {split: {"none": evaluate_model(stored, *splits[split]),
                      tta: evaluate_model(stored, *splits[split], tta=tta)} for split in ("PublicTest", "PrivateTest")}
    private_images, private_labels = splits["PrivateTest"]
    interval = bootstrap_interval(np.asarray(private_labels),
                                  predict_probabilities(stored, private_images).argmax(axis=1), accuracy, seed=0)
    keras.backend.clear_session()
    cpu, wall = lineage_cost(members, costs)
    test = scores["PrivateTest"]["none"]
    protocol = ("members chosen on PublicTest (greedy forward selection); the averaged model scored on PrivateTest "
                "once")
    payload = {
        "run": name, "model": "ensemble", "members": list(members), "tta": tta, "selection": selection,
        "parameters": int(stored.count_params()), "model_file": path.name, "model_file_mib": size,
        "publictest_accuracy": scores["PublicTest"]["none"]["accuracy"],
        "publictest_accuracy_tta": scores["PublicTest"][tta]["accuracy"],
        "test": test, "test_tta": scores["PrivateTest"][tta], "privatetest_accuracy_interval": interval,
        "training_cpu_minutes": cpu, "training_wall_minutes": wall,
        "protocol": protocol,
        "headline": [
            {"quantity": f"{name} (ensemble of {' + '.join(members)}): accuracy", "value": test["accuracy"],
             "split": "PrivateTest", "protocol": protocol},
            {"quantity": f"{name} (ensemble): accuracy with {tta} TTA", "value": scores["PrivateTest"][tta]["accuracy"],
             "split": "PrivateTest", "protocol": protocol},
        ],
    }
    results = write_results(results_dir / f"03_ensemble_{name}.json", payload, mode=mode, seed=0)
    return {"model": path, "results": results}
