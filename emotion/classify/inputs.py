"""The ``tf.data`` input pipeline the study trains and evaluates through: shuffle, batch, augment, one-hot,
prefetch (:func:`make_dataset`).
"""

from __future__ import annotations

import numpy as np

from emotion import CLASS_NAMES
from emotion.classify.augment import NO_AUGMENTATION, AugmentConfig


def make_dataset(images: np.ndarray, labels: np.ndarray, *, batch_size: int, num_classes: int = len(CLASS_NAMES),
                 training: bool, seed: int = 0, augment: AugmentConfig = NO_AUGMENTATION):
    """Build the ``tf.data`` input pipeline.

    Training: shuffle all images (reshuffled every epoch), batch, augment each batch with its own stateless seed on
    parallel threads, one-hot the labels, prefetch. Evaluation: batch, one-hot, prefetch (no shuffle, no
    augmentation).

    Args:
        images: uint8 (n, 48, 48).
        labels: int (n,) class ids.
        batch_size: images per batch (the last batch may be smaller).
        training: whether to shuffle and augment.
        seed: seeds the shuffle and the augmentation seeds.
        augment: the augmentation applied when ``training``.

    Returns:
        A ``tf.data.Dataset`` of (float32 (b, 48, 48, 1) in 0-255, float32 (b, num_classes) one-hot).

    Raises:
        ValueError: images and labels differ in length, or images are not (n, h, w).
    """
    import tensorflow as tf

    from emotion.classify.augment import augment_batch

    images, labels = np.asarray(images), np.asarray(labels)
    if images.ndim != 3 or len(images) != len(labels):
        raise ValueError(f"expected images (n, h, w) and labels (n,), got {images.shape} and {labels.shape}")
    dataset = tf.data.Dataset.from_tensor_slices((images[..., None], labels.astype(np.int32)))
    if training:
        dataset = dataset.shuffle(len(images), seed=seed, reshuffle_each_iteration=True)
    dataset = dataset.batch(batch_size)

    def one_hot(batch_images, batch_labels):
        return tf.cast(batch_images, tf.float32), tf.one_hot(batch_labels, num_classes)

    dataset = dataset.map(one_hot, num_parallel_calls=tf.data.AUTOTUNE)
    if training and augment != NO_AUGMENTATION:
        seeds = tf.data.Dataset.random(seed=seed, rerandomize_each_iteration=True).batch(2)
        dataset = tf.data.Dataset.zip((dataset, seeds)).map(
            lambda batch, key: (augment_batch(batch[0], key, augment), batch[1]),
            num_parallel_calls=tf.data.AUTOTUNE,
            deterministic=True,
        )
    return dataset.prefetch(tf.data.AUTOTUNE)
