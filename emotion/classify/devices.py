"""Where and in which precision a run trains: the ``tf.distribute`` strategy and the Keras dtype policy.

Neither is part of the recipe (:mod:`emotion.classify.recipes`): a run may resume under another strategy or policy,
and each session records the policy it trained under (:func:`emotion.classify.run_folder.record_session`).
"""

from __future__ import annotations

import warnings

from emotion.errors import ConfigurationError
from emotion.machine import NATIVE_BF16_CPU_FLAGS, cpu_has_native_bf16

STRATEGIES = ("default", "mirrored", "multiworker")
"""The ``tf.distribute`` strategies :func:`emotion.classify.train.train_model` trains under: ``default`` (one device,
the study's releases), ``mirrored`` (``MirroredStrategy``: every GPU of one machine, or the CPU), ``multiworker``
(``MultiWorkerMirroredStrategy``; the cluster is read from the ``TF_CONFIG`` environment variable, one worker when it
is unset). The global batch (``batch_size``) is split across the replicas, so a recipe means the same optimisation
under each."""


def make_strategy(name: str = "default"):
    """The ``tf.distribute.Strategy`` called ``name`` (one of :data:`STRATEGIES`).

    Raises:
        ConfigurationError: unknown name.
    """
    import tensorflow as tf

    if name not in STRATEGIES:
        raise ConfigurationError(f"unknown strategy {name!r}: use one of {', '.join(STRATEGIES)}.")
    if name == "mirrored":
        return tf.distribute.MirroredStrategy()
    if name == "multiworker":
        return tf.distribute.MultiWorkerMirroredStrategy()
    return tf.distribute.get_strategy()


def training_policy(mixed_precision: bool, *, native_bf16: bool | None = None, gpu: bool | None = None) -> str:
    """The Keras dtype policy a run trains under on this machine.

    ``mixed_precision`` asks for ``mixed_bfloat16``; it is granted where bfloat16 products run in hardware (a GPU, or
    a CPU with AVX512-BF16/AMX). Elsewhere the run trains in float32: on an AVX2-only CPU TensorFlow falls back to
    Eigen's generic bfloat16 matrix product (its ``gebp_kernel<bfloat16>``), which made a resumed wide_crop_cnn epoch
    many times slower than the float32 ones. The variables are float32 under both policies, so a
    run can resume under the other one; each session's policy is recorded
    (:func:`emotion.classify.run_folder.read_sessions`).
    """
    if not mixed_precision:
        return "float32"
    if gpu is None:
        import tensorflow as tf
        gpu = bool(tf.config.list_physical_devices("GPU"))
    native = cpu_has_native_bf16() if native_bf16 is None else native_bf16
    if gpu or native:
        return "mixed_bfloat16"
    warnings.warn("--mixed-precision asked for mixed_bfloat16, but this CPU has no native bfloat16 "
                  f"({' or '.join(NATIVE_BF16_CPU_FLAGS)}) and no GPU is visible: training in float32, which is "
                  "faster here. The run folder's sessions.jsonl records the policy of each session.", stacklevel=2)
    return "float32"
