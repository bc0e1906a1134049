"""The ``tf.data`` input pipeline the study trains and evaluates through: shuffle, batch, augment, one-hot,
prefetch (:func:`make_dataset`).

Training draws from an **epoch-indexed stream**: epoch ``e`` (0-based) visits the images in the order
:func:`epoch_order` gives for ``(seed, e)``, and its batch ``i`` is augmented with the stateless seed
``(seed, e * steps_per_epoch + i)``. What an epoch sees depends only on the seed and the epoch's number, never on
how many epochs the process ran before, so a run resumed at epoch ``e`` draws exactly the batches an uninterrupted
run would have drawn from epoch ``e`` on (tested). (The study's first runs reshuffled by iteration count instead:
every resumed session started the stream again at the first epoch's batches, so a run stopped and resumed in several
sessions saw the early epochs' images, with the same augmentation, several times; ``sessions`` in a run's results
file tells which epochs were affected.)
"""

from __future__ import annotations

import numpy as np

from emotion import CLASS_NAMES
from emotion.classify.augment import NO_AUGMENTATION, AugmentConfig


def epoch_order(count: int, seed: int, epoch: int) -> np.ndarray:
    """The order (int32 (count,), a permutation of ``range(count)``) in which training epoch ``epoch`` (0-based)
    visits the images for ``seed``."""
    return np.random.default_rng([int(seed), int(epoch)]).permutation(count).astype(np.int32)


def steps_per_epoch(count: int, batch_size: int) -> int:
    """Batches in one epoch of ``count`` images (the last may be smaller)."""
    return -(-int(count) // int(batch_size))


def make_dataset(images: np.ndarray, labels: np.ndarray, *, batch_size: int, num_classes: int = len(CLASS_NAMES),
                 training: bool, seed: int = 0, augment: AugmentConfig = NO_AUGMENTATION,
                 epochs: range = range(1)):
    """Build the ``tf.data`` input pipeline.

    Training: the epochs ``epochs`` of the epoch-indexed stream (module docstring) one after another, each a full
    pass over the images in its own order, in batches, each batch augmented with its own stateless seed on parallel
    threads, one-hot labels, prefetch. Fit it with ``steps_per_epoch=steps_per_epoch(len(images), batch_size)`` so
    that Keras keeps one iterator across epochs and each of its epochs is one of the stream's. Evaluation: batch,
    one-hot, prefetch (no shuffle, no augmentation).

    Args:
        images: uint8 (n, 48, 48).
        labels: int (n,) class ids.
        batch_size: images per batch (the last batch of an epoch may be smaller).
        training: whether to shuffle and augment.
        seed: seeds the epochs' orders and the augmentation.
        augment: the augmentation applied when ``training``.
        epochs: with ``training``, the 0-based epochs the stream holds, in order (``range(first, last)``; a resumed
            run starts at its first unfinished epoch).

    Returns:
        A ``tf.data.Dataset`` of (float32 (b, 48, 48, 1) in 0-255, float32 (b, num_classes) one-hot).

    Raises:
        ValueError: images and labels differ in length, images are not (n, h, w), or ``epochs`` is empty.
    """
    import tensorflow as tf

    from emotion.classify.augment import augment_batch

    images, labels = np.asarray(images), np.asarray(labels)
    if images.ndim != 3 or len(images) != len(labels):
        raise ValueError(f"expected images (n, h, w) and labels (n,), got {images.shape} and {labels.shape}")

    def one_hot(batch_images, batch_labels):
        return tf.cast(batch_images, tf.float32), tf.one_hot(batch_labels, num_classes)

    if not training:
        dataset = tf.data.Dataset.from_tensor_slices((images[..., None], labels.astype(np.int32))).batch(batch_size)
        return dataset.map(one_hot, num_parallel_calls=tf.data.AUTOTUNE).prefetch(tf.data.AUTOTUNE)
    epochs = range(epochs.start, epochs.stop) if isinstance(epochs, range) else epochs
    if len(epochs) == 0:
        raise ValueError("the training stream needs at least one epoch, got an empty range.")
    steps = steps_per_epoch(len(images), batch_size)
    orders = tf.constant(np.stack([epoch_order(len(images), seed, epoch) for epoch in epochs]))
    first_steps = tf.constant(np.asarray([epoch * steps for epoch in epochs], np.int64))
    all_images, all_labels = tf.constant(images[..., None]), tf.constant(labels.astype(np.int32))

    def epoch_batches(position):
        return (tf.data.Dataset.from_tensor_slices(orders[position]).batch(batch_size).enumerate()
                .map(lambda index, order: (first_steps[position] + index, order)))

    def gather(step, order):
        batch_images, batch_labels = one_hot(tf.gather(all_images, order), tf.gather(all_labels, order))
        if augment != NO_AUGMENTATION:
            batch_images = augment_batch(batch_images, tf.stack([tf.constant(seed, tf.int64), step]), augment)
        return batch_images, batch_labels

    dataset = tf.data.Dataset.range(len(epochs)).flat_map(epoch_batches)
    dataset = dataset.map(gather, num_parallel_calls=tf.data.AUTOTUNE, deterministic=True)
    return dataset.prefetch(tf.data.AUTOTUNE)
