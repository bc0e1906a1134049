"""Training-time augmentation of FER2013 batches, as TensorFlow ops that run inside a ``tf.data`` pipeline.

The paper's augmentations (mirror, random rotation, Gaussian blur, brightness) and those of the strong FER2013
recipes (random crop/shift/scale, random erasing) are each a function ``op(images, seed, ...)`` that transforms a
whole batch at once with per-image random parameters: vectorised ops keep the input pipeline ahead of the model on
two CPU cores, where a per-image ``map`` would not.

Randomness is *stateless*: every op draws from ``tf.random.stateless_*`` with an explicit ``seed`` (int32/int64
tensor of shape (2,)), so a batch's augmentation is a pure function of its pixels and its seed. The pipeline in
:mod:`emotion.classify.train` feeds one seed per batch from ``tf.data.Dataset.random``, which makes a run repeatable.

Every op takes and returns float32 ``(batch, 48, 48, 1)`` images with pixel values in 0-255 (the models scale them
to 0-1 themselves) and keeps that range.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass

import numpy as np
import tensorflow as tf

PIXEL_MAX = 255.0


@dataclass(frozen=True)
class AugmentConfig:
    """The magnitudes and probabilities of :func:`augment_batch`; zero (or 0 probability) switches an op off.

    Attributes:
        mirror_probability: chance of a horizontal flip.
        max_rotation_degrees: rotation angle drawn uniformly from +/- this.
        max_shift_fraction: translation drawn uniformly from +/- this fraction of the image side, per axis.
        min_scale, max_scale: zoom factor drawn uniformly from this range (> 1 zooms in: a random crop resized
            back to 48x48; < 1 zooms out).
        blur_probability: chance of a Gaussian blur with sigma drawn uniformly from 0.3 to ``max_blur_sigma`` px.
        max_brightness_delta: brightness shift drawn uniformly from +/- this fraction of 255.
        erase_probability: chance of random erasing (Zhong et al., 2020) of one rectangle covering
            ``min_erase_area`` to ``max_erase_area`` of the image with uniform noise.
    """

    mirror_probability: float = 0.5
    max_rotation_degrees: float = 10.0
    max_shift_fraction: float = 0.1
    min_scale: float = 0.9
    max_scale: float = 1.2
    blur_probability: float = 0.1
    max_blur_sigma: float = 1.0
    max_brightness_delta: float = 0.15
    erase_probability: float = 0.25
    min_erase_area: float = 0.02
    max_erase_area: float = 0.2

    def as_dict(self) -> dict[str, float]:
        """Return the configuration as a plain dict (for results files)."""
        return asdict(self)


NO_AUGMENTATION = AugmentConfig(0.0, 0.0, 0.0, 1.0, 1.0, 0.0, 1.0, 0.0, 0.0, 0.02, 0.2)
"""A configuration under which :func:`augment_batch` returns its input unchanged."""

PAPER_AUGMENTATION = AugmentConfig(min_scale=1.0, max_scale=1.0, max_shift_fraction=0.0, erase_probability=0.0)
"""The paper's augmentations only: mirror, random rotation, Gaussian blur and brightness, at the study's magnitudes
(the paper states none); no shift, zoom or random erasing."""


def _check_images(images: tf.Tensor) -> tf.Tensor:
    images = tf.convert_to_tensor(images)
    if images.shape.rank != 4:
        raise ValueError(f"images must be a (batch, height, width, channels) tensor, got shape {images.shape}")
    return tf.cast(images, tf.float32)


def _uniform(seed, shape, low: float, high: float) -> tf.Tensor:
    return tf.random.stateless_uniform(shape, seed=seed, minval=low, maxval=high, dtype=tf.float32)


def _bernoulli(seed, batch: tf.Tensor, probability: float) -> tf.Tensor:
    """A bool (batch,) tensor, True with ``probability``."""
    return _uniform(seed, [batch], 0.0, 1.0) < probability


def mirror(images: tf.Tensor, seed, probability: float = 0.5) -> tf.Tensor:
    """Flip each image left-right with ``probability``.

    Args:
        images: float32 (batch, height, width, channels), 0-255.
        seed: int tensor (2,).

    Returns:
        float32 images of the same shape.

    Raises:
        ValueError: ``images`` is not a 4-D tensor.
    """
    images = _check_images(images)
    flip = _bernoulli(seed, tf.shape(images)[0], probability)
    return tf.where(flip[:, None, None, None], tf.reverse(images, axis=[2]), images)


def affine(images: tf.Tensor, angles_degrees: tf.Tensor, scales: tf.Tensor, shifts: tf.Tensor) -> tf.Tensor:
    """Rotate each image about its centre, zoom it and shift it, in one bilinear resampling.

    Args:
        images: float32 (batch, height, width, channels), 0-255.
        angles_degrees: float32 (batch,), counter-clockwise rotation.
        scales: float32 (batch,), zoom (> 1 enlarges the face, i.e. crops).
        shifts: float32 (batch, 2), translation (x, y) in pixels.

    Returns:
        float32 images of the same shape; pixels that come from outside the image repeat the nearest edge pixel.
    """
    images = _check_images(images)
    height, width = tf.cast(tf.shape(images)[1], tf.float32), tf.cast(tf.shape(images)[2], tf.float32)
    centre_x, centre_y = (width - 1.0) / 2.0, (height - 1.0) / 2.0
    radians = angles_degrees * (math.pi / 180.0)
    cosine, sine = tf.cos(radians) / scales, tf.sin(radians) / scales
    # The transform maps each output pixel (x, y) back to the input pixel it samples:
    # input = centre + rotation(angle) / scale * (output - centre) - shift.
    a0, a1 = cosine, -sine
    b0, b1 = sine, cosine
    a2 = centre_x - a0 * centre_x - a1 * centre_y - shifts[:, 0]
    b2 = centre_y - b0 * centre_x - b1 * centre_y - shifts[:, 1]
    zeros = tf.zeros_like(a0)
    transforms = tf.stack([a0, a1, a2, b0, b1, b2, zeros, zeros], axis=1)
    return tf.raw_ops.ImageProjectiveTransformV3(
        images=images, transforms=transforms, output_shape=tf.shape(images)[1:3],
        fill_value=0.0, interpolation="BILINEAR", fill_mode="NEAREST",
    )


def rotate(images: tf.Tensor, seed, max_degrees: float = 10.0) -> tf.Tensor:
    """Rotate each image by an angle drawn uniformly from +/- ``max_degrees``; shapes as in :func:`mirror`."""
    images = _check_images(images)
    batch = tf.shape(images)[0]
    angles = _uniform(seed, [batch], -max_degrees, max_degrees)
    return affine(images, angles, tf.ones([batch]), tf.zeros([batch, 2]))


def crop_shift_scale(images: tf.Tensor, seed, max_shift_fraction: float = 0.1, min_scale: float = 0.9,
                     max_scale: float = 1.2) -> tf.Tensor:
    """Random zoom (a random crop resized back when > 1) and shift of each image; shapes as in :func:`mirror`."""
    images = _check_images(images)
    batch = tf.shape(images)[0]
    scale_seed, shift_seed = tf.unstack(tf.random.experimental.stateless_split(seed, 2))
    side = tf.cast(tf.shape(images)[1:3], tf.float32)
    scales = _uniform(scale_seed, [batch], min_scale, max_scale)
    shifts = _uniform(shift_seed, [batch, 2], -max_shift_fraction, max_shift_fraction) * side[::-1]
    return affine(images, tf.zeros([batch]), scales, shifts)


def gaussian_blur(images: tf.Tensor, seed, probability: float = 1.0, max_sigma: float = 1.0,
                  min_sigma: float = 0.3) -> tf.Tensor:
    """Blur each image, with ``probability``, by a 5x5 Gaussian of sigma drawn from [min_sigma, max_sigma] px.

    The borders are reflected. Shapes as in :func:`mirror`; single-channel images only.

    Raises:
        ValueError: ``images`` is not a 4-D tensor with one channel.
    """
    images = _check_images(images)
    if images.shape[-1] != 1:
        raise ValueError(f"gaussian_blur expects grayscale (batch, h, w, 1) images, got shape {images.shape}")
    batch = tf.shape(images)[0]
    apply_seed, sigma_seed = tf.unstack(tf.random.experimental.stateless_split(seed, 2))
    sigmas = _uniform(sigma_seed, [batch], min_sigma, max(max_sigma, min_sigma))
    taps = tf.constant([-2.0, -1.0, 0.0, 1.0, 2.0])
    kernels = tf.exp(-(taps[None, :] ** 2) / (2.0 * sigmas[:, None] ** 2))
    kernels = kernels / tf.reduce_sum(kernels, axis=1, keepdims=True)  # (batch, 5)
    # Each image becomes one channel of a single "image" so that a depthwise convolution applies a different
    # kernel to each image of the batch in one call.
    stacked = tf.transpose(images[..., 0], [1, 2, 0])[None]  # (1, height, width, batch)
    stacked = tf.pad(stacked, [[0, 0], [2, 2], [2, 2], [0, 0]], mode="REFLECT")
    horizontal = tf.transpose(kernels)[None, :, :, None]  # (1, 5, batch, 1)
    vertical = tf.transpose(kernels)[:, None, :, None]  # (5, 1, batch, 1)
    blurred = tf.nn.depthwise_conv2d(stacked, horizontal, strides=[1, 1, 1, 1], padding="VALID")
    blurred = tf.nn.depthwise_conv2d(blurred, vertical, strides=[1, 1, 1, 1], padding="VALID")
    blurred = tf.transpose(blurred[0], [2, 0, 1])[..., None]
    apply = _bernoulli(apply_seed, batch, probability)
    return tf.where(apply[:, None, None, None], blurred, images)


def adjust_brightness(images: tf.Tensor, seed, max_delta: float = 0.15) -> tf.Tensor:
    """Add a brightness shift drawn from +/- ``max_delta`` x 255 to each image, clipped to 0-255."""
    images = _check_images(images)
    deltas = _uniform(seed, [tf.shape(images)[0]], -max_delta, max_delta) * PIXEL_MAX
    return tf.clip_by_value(images + deltas[:, None, None, None], 0.0, PIXEL_MAX)


def random_erase(images: tf.Tensor, seed, probability: float = 0.5, min_area: float = 0.02,
                 max_area: float = 0.2) -> tf.Tensor:
    """Random erasing: with ``probability``, replace one rectangle of ``min_area``-``max_area`` of each image (aspect
    ratio 0.3-3.3) by uniform noise in 0-255. Shapes as in :func:`mirror`."""
    images = _check_images(images)
    batch = tf.shape(images)[0]
    height, width = tf.cast(tf.shape(images)[1], tf.float32), tf.cast(tf.shape(images)[2], tf.float32)
    seeds = tf.unstack(tf.random.experimental.stateless_split(seed, 6))
    areas = _uniform(seeds[0], [batch], min_area, max_area) * height * width
    ratios = tf.exp(_uniform(seeds[1], [batch], math.log(0.3), math.log(1 / 0.3)))
    box_heights = tf.minimum(tf.sqrt(areas * ratios), height)
    box_widths = tf.minimum(tf.sqrt(areas / ratios), width)
    tops = _uniform(seeds[2], [batch], 0.0, 1.0) * (height - box_heights)
    lefts = _uniform(seeds[3], [batch], 0.0, 1.0) * (width - box_widths)
    rows = tf.range(height)[None, :, None]
    columns = tf.range(width)[None, None, :]
    inside = ((rows >= tops[:, None, None]) & (rows < (tops + box_heights)[:, None, None])
              & (columns >= lefts[:, None, None]) & (columns < (lefts + box_widths)[:, None, None]))
    inside = inside & _bernoulli(seeds[4], batch, probability)[:, None, None]
    noise = _uniform(seeds[5], tf.shape(images), 0.0, PIXEL_MAX)
    return tf.where(inside[..., None], noise, images)


def augment_batch(images: tf.Tensor, seed, config: AugmentConfig = AugmentConfig()) -> tf.Tensor:
    """Apply the whole training augmentation to a batch: mirror, one affine resampling (rotation, zoom, shift),
    Gaussian blur, brightness, random erasing, in that order.

    Args:
        images: uint8 or float (batch, 48, 48, 1), 0-255.
        seed: int tensor (2,); the same images and seed give the same output.
        config: magnitudes and probabilities.

    Returns:
        float32 (batch, 48, 48, 1) in 0-255.

    Raises:
        ValueError: ``images`` is not a 4-D tensor.
    """
    images = _check_images(images)
    batch = tf.shape(images)[0]
    seeds = tf.unstack(tf.random.experimental.stateless_split(tf.cast(seed, tf.int64), 8))
    images = mirror(images, seeds[0], config.mirror_probability)
    side = tf.cast(tf.shape(images)[1:3], tf.float32)
    angles = _uniform(seeds[1], [batch], -config.max_rotation_degrees, config.max_rotation_degrees)
    scales = _uniform(seeds[2], [batch], config.min_scale, config.max_scale)
    shifts = _uniform(seeds[3], [batch, 2], -config.max_shift_fraction, config.max_shift_fraction) * side[::-1]
    images = affine(images, angles, scales, shifts)
    if config.blur_probability > 0:
        images = gaussian_blur(images, seeds[4], config.blur_probability, config.max_blur_sigma)
    images = adjust_brightness(images, seeds[5], config.max_brightness_delta)
    if config.erase_probability > 0:
        images = random_erase(images, seeds[6], config.erase_probability, config.min_erase_area,
                              config.max_erase_area)
    return images


def augmentation_examples(image: np.ndarray, copies: int = 6, seed: int = 0) -> dict[str, np.ndarray]:
    """Show each augmentation on one face, for the notebook's figure.

    Args:
        image: uint8 (48, 48) grayscale face.
        copies: how many random draws of each augmentation.
        seed: seeds the draws.

    Returns:
        ``{augmentation name: uint8 (copies, 48, 48)}`` for mirror, rotation, crop/shift/scale, Gaussian blur,
        brightness, random erasing and the full training pipeline (:func:`augment_batch`), in that order.

    Raises:
        ValueError: ``image`` is not 2-D.
    """
    image = np.asarray(image)
    if image.ndim != 2:
        raise ValueError(f"image must be a (height, width) grayscale array, got shape {image.shape}")
    batch = tf.repeat(tf.cast(image, tf.float32)[None, :, :, None], copies, axis=0)
    key = tf.constant([seed, 0], dtype=tf.int64)
    operations = {
        "mirror": lambda: mirror(batch, key, probability=0.5),
        "rotation (±10°)": lambda: rotate(batch, key, 10.0),
        "crop / shift / scale": lambda: crop_shift_scale(batch, key),
        "Gaussian blur": lambda: gaussian_blur(batch, key, probability=1.0, max_sigma=1.5),
        "brightness": lambda: adjust_brightness(batch, key, 0.25),
        "random erasing": lambda: random_erase(batch, key, probability=1.0),
        "all (training pipeline)": lambda: augment_batch(batch, key),
    }
    return {name: np.round(operation().numpy()[..., 0]).astype(np.uint8) for name, operation in operations.items()}
