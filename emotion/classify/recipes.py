"""The recipe of a training run: :class:`TrainConfig`, the named recipes, and how a recipe compiles a model.

A recipe is everything that decides the optimisation (architecture, epochs, batch, learning-rate schedule, weight
decay, label smoothing, augmentation, class weighting, optimizer, seed, warm start); it is recorded in the run folder
(:mod:`emotion.classify.run_folder`) so that a resumed run keeps it. :func:`emotion.classify.train.train_model` trains
one.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field, replace
from typing import Any

import numpy as np

from emotion import CLASS_NAMES
from emotion.classify.augment import PAPER_AUGMENTATION, AugmentConfig
from emotion.errors import ConfigurationError

CLASS_WEIGHTINGS = ("none", "balanced")
OPTIMIZERS = ("adamw", "sgd")
"""``adamw`` (the study's recipe: decoupled weight decay) or ``sgd`` (with ``momentum``; the one optimizer the paper
names)."""


@dataclass(frozen=True)
class TrainConfig:
    """The recipe of one training run.

    Attributes:
        model: a name of :data:`emotion.classify.models.MODEL_NAMES`.
        epochs: the epoch budget (the cosine schedule reaches zero at its end).
        batch_size: images per step.
        learning_rate: peak learning rate, reached after ``warmup_epochs``.
        weight_decay: decoupled weight decay (Keras subtracts ``learning_rate x weight_decay x weight`` each step, so
            under SGD it equals an L2 penalty of ``weight_decay``).
        label_smoothing: of the categorical cross-entropy.
        warmup_epochs: linear warm-up from 0 to ``learning_rate``.
        augment: the training augmentation (:class:`emotion.classify.augment.AugmentConfig`).
        mixed_precision: train under Keras' ``mixed_bfloat16`` policy (the softmax stays float32).
        seed: seeds initialisation, shuffling and augmentation.
        model_options: keyword arguments of the architecture (e.g. ``{"dropout": 0.2}``).
        class_weighting: ``"none"``, or ``"balanced"``: each training image's loss is weighted by
            n / (classes x count of its class), so every class carries the same total weight (the class-imbalance
            experiment of notebook 04).
        optimizer: one of :data:`OPTIMIZERS`.
        momentum: SGD's momentum (unused by AdamW).
        init_from: a warm start: the path of a ``.keras`` model of the same architecture whose weights the run
            starts from (e.g. a release, for a second cosine cycle); "" (the default) starts from random weights.
            Its file's SHA-256 and its own training time are recorded
            (:func:`emotion.classify.run_folder.warm_start_record`), so a budget counts
            both.
    """

    model: str
    epochs: int = 30
    batch_size: int = 64
    learning_rate: float = 1e-3
    weight_decay: float = 0.05
    label_smoothing: float = 0.1
    warmup_epochs: int = 1
    augment: AugmentConfig = field(default_factory=AugmentConfig)
    mixed_precision: bool = False
    seed: int = 0
    model_options: dict = field(default_factory=dict)
    class_weighting: str = "none"
    optimizer: str = "adamw"
    momentum: float = 0.9
    init_from: str = ""

    def as_dict(self) -> dict[str, Any]:
        """The recipe as plain JSON-ready values."""
        return asdict(self)


RECIPES = ("study", "paper")
"""``study``: :class:`TrainConfig`'s defaults. ``paper``: the paper's recipe for its best model as far as it states
one (SGD with momentum 0.9, batch 256, its augmentations only: :data:`PAPER_AUGMENTATION`, 60 epochs), with what it
leaves open filled in plainly: plain cross-entropy, peak learning rate 0.1 (the usual for SGD at batch 256), weight
decay 5e-4, and the study's one-epoch warm-up and cosine schedule."""


def recipe_config(recipe: str, model: str) -> TrainConfig:
    """The :class:`TrainConfig` of the named recipe (:data:`RECIPES`) for ``model``.

    Raises:
        ConfigurationError: unknown recipe.
    """
    if recipe == "study":
        return TrainConfig(model=model)
    if recipe == "paper":
        return TrainConfig(model=model, epochs=60, batch_size=256, learning_rate=0.1, weight_decay=5e-4,
                           label_smoothing=0.0, augment=PAPER_AUGMENTATION, optimizer="sgd", momentum=0.9)
    raise ConfigurationError(f"unknown recipe {recipe!r}: use one of {', '.join(RECIPES)}.")



RECIPE_FREE_FIELDS = ("epochs", "seed", "mixed_precision")
"""The fields a run may change and still follow a named recipe: its epoch budget, seed and dtype policy."""


def recipe_identity(recipe: dict[str, Any]) -> str:
    """Which named recipe (:data:`RECIPES`) ``recipe`` (a full recipe: every :class:`TrainConfig` field) follows,
    whatever its :data:`RECIPE_FREE_FIELDS`: "study", "paper", or "own" for any other (another learning rate, class
    weighting, no augmentation, a warm start...)."""
    for name in RECIPES:
        named = recipe_config(name, recipe["model"]).as_dict()
        if all(named[key] == recipe.get(key) for key in named if key not in RECIPE_FREE_FIELDS):
            return name
    return "own"

def with_overrides(config: TrainConfig, **overrides) -> TrainConfig:
    """Return ``config`` with the given fields replaced (``None`` values are ignored)."""
    return replace(config, **{key: value for key, value in overrides.items() if value is not None})


def balanced_class_weights(labels: np.ndarray, num_classes: int = len(CLASS_NAMES)) -> dict[int, float]:
    """Class weights n / (classes x count): each class's images together weigh as much as any other class's.

    Raises:
        ConfigurationError: a class has no training image (its weight would be infinite).
    """
    counts = np.bincount(np.asarray(labels), minlength=num_classes)
    if (counts == 0).any():
        missing = [CLASS_NAMES[index] if num_classes == len(CLASS_NAMES) else str(index)
                   for index in np.flatnonzero(counts == 0)]
        raise ConfigurationError(f"class weighting needs every class in the training data; missing: {missing}.")
    return {index: float(len(labels) / (num_classes * count)) for index, count in enumerate(counts)}


def compile_model(model, config: TrainConfig, steps_per_epoch: int) -> None:
    """Compile ``model`` with the recipe: its optimizer (AdamW or SGD with momentum), linear warm-up then cosine
    decay to zero over the epoch budget, label-smoothed cross-entropy (used by
    :func:`emotion.classify.train.train_model` and the input benchmark).

    Raises:
        ConfigurationError: unknown optimizer.
    """
    import keras

    if config.optimizer not in OPTIMIZERS:
        raise ConfigurationError(f"unknown optimizer {config.optimizer!r}: use one of {', '.join(OPTIMIZERS)}.")

    total_steps = max(1, config.epochs * steps_per_epoch)
    warmup_steps = min(config.warmup_epochs * steps_per_epoch, total_steps - 1)
    schedule = keras.optimizers.schedules.CosineDecay(
        initial_learning_rate=0.0 if warmup_steps else config.learning_rate,
        decay_steps=total_steps - warmup_steps,
        warmup_target=config.learning_rate if warmup_steps else None,
        warmup_steps=warmup_steps,
    )
    if config.optimizer == "sgd":
        optimizer = keras.optimizers.SGD(learning_rate=schedule, momentum=config.momentum,
                                         weight_decay=config.weight_decay)
    else:
        optimizer = keras.optimizers.AdamW(learning_rate=schedule, weight_decay=config.weight_decay)
    model.compile(
        optimizer=optimizer,
        loss=keras.losses.CategoricalCrossentropy(label_smoothing=config.label_smoothing),
        metrics=["accuracy"],
    )
