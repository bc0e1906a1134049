"""How fast the input pipeline feeds training: the real ``tf.data`` pipeline against synthetic tensors
(:func:`benchmark_input_pipeline`, notebook 03).
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import numpy as np

from emotion import CLASS_NAMES
from emotion.classify.inputs import make_dataset
from emotion.classify.train import TrainConfig, compile_model, training_policy


def _step_timer(keras):
    """A Keras callback that records the wall seconds of each training step (``times``). A step's time includes
    fetching its batch from the input pipeline (Keras calls the train function with the iterator), so a pipeline
    that cannot keep up shows in it; the set-up of each ``fit`` call (iterator creation, callbacks), which a real
    epoch pays once, does not."""

    class StepTimer(keras.callbacks.Callback):
        def __init__(self):
            super().__init__()
            self.times: list[float] = []
            self._started = 0.0

        def on_train_batch_begin(self, batch, logs=None):
            self._started = time.perf_counter()

        def on_train_batch_end(self, batch, logs=None):
            self.times.append(time.perf_counter() - self._started)

    return StepTimer()


def benchmark_input_pipeline(config: TrainConfig, images: np.ndarray, labels: np.ndarray, *, steps: int = 40,
                             rounds: int = 2) -> dict[str, Any]:
    """Does the input pipeline keep the model fed? Training img/s with the real pipeline (shuffle, augmentation,
    one-hot) against the same model fed one constant synthetic batch, which costs the pipeline nothing.

    The two are measured in alternating rounds of ``steps`` steps after a warm-up. Each round's rate is the batch
    size over its median step time (:func:`_step_timer`: a step includes waiting for its batch), so that one slow step
    (a hiccup of this shared machine) or a ``fit`` call's set-up does not decide the round. ``ratio`` is the median
    over rounds of real / synthetic img/s within a round, so that a change in the machine's load between rounds
    affects both sides of each ratio about equally. The goal is a ratio of at least 0.9; a ratio above 1 means the
    load changed within a round by more than the pipeline costs.

    Args:
        config: the recipe (model, batch size, augmentation, mixed precision).
        images: uint8 (n, 48, 48) real training images; labels: int (n,).
        steps: training steps per round.
        rounds: rounds of each kind.

    Returns:
        ``{"real_images_per_second", "synthetic_images_per_second"`` (medians over rounds), ``"ratio", "round_ratios",
        "real_rounds", "synthetic_rounds", "steps_per_round", "batch_size", "model", "mixed_precision", "timing",
        "onednn"}`` (``onednn``: whether TensorFlow's oneDNN kernels were on).
    """
    import keras
    import tensorflow as tf

    from emotion.classify.models import build_model
    from emotion.machine import onednn_active

    keras.utils.set_random_seed(config.seed)
    previous_policy = keras.mixed_precision.global_policy().name
    keras.mixed_precision.set_global_policy(training_policy(config.mixed_precision))
    try:
        model = build_model(config.model, **config.model_options)
    finally:
        keras.mixed_precision.set_global_policy(previous_policy)
    compile_model(model, config, steps)
    real = make_dataset(images, labels, batch_size=config.batch_size, training=True, seed=config.seed,
                        augment=config.augment).repeat()
    rng = np.random.default_rng(config.seed)
    synthetic_batch = (rng.uniform(0, 255, (config.batch_size, *images.shape[1:], 1)).astype(np.float32),
                       np.eye(len(CLASS_NAMES), dtype=np.float32)[rng.integers(0, len(CLASS_NAMES),
                                                                              config.batch_size)])
    synthetic = tf.data.Dataset.from_tensors(synthetic_batch).repeat()
    for dataset in (real, synthetic):
        model.fit(dataset, steps_per_epoch=3, epochs=1, verbose=0, shuffle=False)
    measured: dict[str, list[float]] = {"real": [], "synthetic": []}
    for _ in range(rounds):
        for name, dataset in (("real", real), ("synthetic", synthetic)):
            timer = _step_timer(keras)
            model.fit(dataset, steps_per_epoch=steps, epochs=1, verbose=0, callbacks=[timer], shuffle=False)
            measured[name].append(config.batch_size / float(np.median(timer.times)))
    real_rate, synthetic_rate = float(np.median(measured["real"])), float(np.median(measured["synthetic"]))
    ratios = [real / synthetic for real, synthetic in zip(measured["real"], measured["synthetic"])]
    return {
        "model": config.model,
        "mixed_precision": config.mixed_precision,
        "batch_size": config.batch_size,
        "steps_per_round": steps,
        "timing": "median step",
        "onednn": onednn_active(),
        "real_images_per_second": real_rate,
        "synthetic_images_per_second": synthetic_rate,
        "ratio": float(np.median(ratios)),
        "round_ratios": ratios,
        "real_rounds": measured["real"],
        "synthetic_rounds": measured["synthetic"],
    }


def architecture_of(name: str, results_dir: Path | None = None) -> str:
    """The registry architecture of a model name: the name itself when it is one
    (:data:`emotion.classify.models.MODEL_NAMES`), else the ``model`` of the release ``results_dir/03_train_<name>.json``
    (a run released under ``--name``, e.g. ``wide_crop_cnn_cycle2``).

    Raises:
        ConfigurationError: neither an architecture nor a release.
    """  # noqa: E501
    from emotion.classify.models import MODEL_NAMES
    from emotion.errors import ConfigurationError
    from emotion.paths import RESULTS_DIR
    from emotion.provenance import read_results

    if name in MODEL_NAMES:
        return name
    path = Path(results_dir or RESULTS_DIR) / f"03_train_{name}.json"
    if not path.is_file():
        raise ConfigurationError(f"{name!r} is neither an architecture ({', '.join(MODEL_NAMES)}) nor a release "
                                 f"({path} does not exist).")
    return read_results(path)["model"]


def reuse_or_measure(config: TrainConfig, images: np.ndarray, labels: np.ndarray, *, steps: int, rounds: int,
                     cache: Path | None, recompute: bool = False) -> dict[str, Any]:
    """:func:`benchmark_input_pipeline`, or the benchmark a previous full run stored in ``cache`` (notebook 03's
    ``results/03_notebook_<model>.json``) when it was measured with the same model, batch size, mixed precision,
    steps, rounds, step timing and oneDNN kernels as now, as notebook 02 reuses its cached detections. The
    benchmark costs minutes of training per model; a reused one carries ``reused_from`` (the file and the commit that measured it).

    Args:
        cache: a results file holding ``pipeline_benchmark``, or None to always measure.
        recompute: measure even when the cache matches.
    """  # noqa: E501
    from dataclasses import replace

    from emotion.machine import onednn_expected
    from emotion.provenance import read_results

    config = replace(config, model=architecture_of(config.model, Path(cache).parent if cache is not None else None))
    if cache is not None and Path(cache).is_file() and not recompute:
        document = read_results(cache)
        stored = document.get("pipeline_benchmark")
        wanted = {"model": config.model, "batch_size": config.batch_size, "mixed_precision": config.mixed_precision,
                  "steps_per_round": steps, "timing": "median step", "onednn": onednn_expected()}
        if (stored and all(stored.get(key) == value for key, value in wanted.items())
                and len(stored.get("real_rounds", [])) == rounds):
            origin = stored.get("reused_from") or {"file": Path(cache).name, "commit": document["meta"].get("commit")}
            return {**stored, "reused_from": origin}
    return benchmark_input_pipeline(config, images, labels, steps=steps, rounds=rounds)
