"""Augmentation: shapes, dtype and range are kept; each op does what its name says; seeds make it repeatable."""

import numpy as np
import pytest
import tensorflow as tf

from emotion.classify import augment


@pytest.fixture
def faces():
    rng = np.random.default_rng(0)
    images = rng.integers(0, 256, (8, 48, 48, 1)).astype(np.uint8)
    images[:, :, :24] = 0  # A left half that is dark makes a mirror visible.
    return images


SEED = tf.constant([3, 4], dtype=tf.int64)


@pytest.mark.parametrize(
    "operation",
    [
        lambda x: augment.mirror(x, SEED),
        lambda x: augment.rotate(x, SEED, 15.0),
        lambda x: augment.crop_shift_scale(x, SEED),
        lambda x: augment.gaussian_blur(x, SEED, probability=1.0),
        lambda x: augment.adjust_brightness(x, SEED, 0.3),
        lambda x: augment.random_erase(x, SEED, probability=1.0),
        lambda x: augment.augment_batch(x, SEED),
    ],
    ids=["mirror", "rotate", "crop_shift_scale", "blur", "brightness", "erase", "all"],
)
def test_each_augmentation_keeps_shape_dtype_and_pixel_range(faces, operation):
    output = operation(faces).numpy()
    assert output.shape == faces.shape
    assert output.dtype == np.float32
    assert output.min() >= 0.0 and output.max() <= 255.0
    assert not np.array_equal(output, faces.astype(np.float32))


def test_mirror_really_mirrors_left_to_right(faces):
    output = augment.mirror(faces, SEED, probability=1.0).numpy()
    np.testing.assert_array_equal(output, faces[:, :, ::-1].astype(np.float32))
    assert output[:, :, 24:].max() == 0  # The dark half moved to the right.


def test_mirror_with_probability_one_half_flips_some_images_and_keeps_the_others():
    images = np.random.default_rng(1).integers(0, 256, (64, 48, 48, 1)).astype(np.float32)
    output = augment.mirror(images, SEED, probability=0.5).numpy()
    flipped = [np.array_equal(out, image[:, ::-1]) for out, image in zip(output, images)]
    kept = [np.array_equal(out, image) for out, image in zip(output, images)]
    assert all(f or k for f, k in zip(flipped, kept))
    assert 10 < sum(flipped) < 54


def test_affine_with_identity_parameters_returns_the_image():
    images = np.random.default_rng(2).integers(0, 256, (2, 48, 48, 1)).astype(np.float32)
    output = augment.affine(images, tf.zeros([2]), tf.ones([2]), tf.zeros([2, 2])).numpy()
    np.testing.assert_allclose(output, images, atol=1e-3)


def test_a_shift_moves_content_by_that_many_pixels():
    image = np.zeros((1, 48, 48, 1), np.float32)
    image[0, 20, 10, 0] = 255.0
    output = augment.affine(image, tf.zeros([1]), tf.ones([1]), tf.constant([[5.0, 3.0]])).numpy()
    assert np.unravel_index(output[0, ..., 0].argmax(), (48, 48)) == (23, 15)


def test_a_90_degree_rotation_turns_a_horizontal_bar_vertical():
    image = np.zeros((1, 48, 48, 1), np.float32)
    image[0, 23:25, 8:40, 0] = 255.0
    output = augment.affine(image, tf.constant([90.0]), tf.ones([1]), tf.zeros([1, 2])).numpy()[0, ..., 0]
    rows, columns = np.nonzero(output > 128)
    assert np.ptp(rows) > 25 and np.ptp(columns) < 4


def test_blur_preserves_the_mean_and_lowers_the_variance():
    images = np.random.default_rng(3).integers(0, 256, (4, 48, 48, 1)).astype(np.float32)
    output = augment.gaussian_blur(images, SEED, probability=1.0, max_sigma=1.0, min_sigma=1.0).numpy()
    np.testing.assert_allclose(output.mean(axis=(1, 2, 3)), images.mean(axis=(1, 2, 3)), rtol=0.01)
    # A sigma-1 Gaussian passes about 0.3 of the standard deviation of white noise (1 / (2 sqrt(pi) sigma)).
    assert (output.std(axis=(1, 2, 3)) < 0.5 * images.std(axis=(1, 2, 3))).all()


def test_same_seed_gives_the_same_batch_and_another_seed_a_different_one(faces):
    first = augment.augment_batch(faces, SEED).numpy()
    np.testing.assert_array_equal(first, augment.augment_batch(faces, SEED).numpy())
    assert not np.array_equal(first, augment.augment_batch(faces, tf.constant([3, 5], tf.int64)).numpy())


def test_no_augmentation_config_returns_the_input(faces):
    output = augment.augment_batch(faces, SEED, augment.NO_AUGMENTATION).numpy()
    np.testing.assert_allclose(output, faces.astype(np.float32), atol=1e-3)


def test_augmentation_examples_give_uint8_copies_per_augmentation(faces):
    examples = augment.augmentation_examples(faces[0, ..., 0], copies=3)
    assert len(examples) == 7
    for images in examples.values():
        assert images.shape == (3, 48, 48) and images.dtype == np.uint8


def test_non_batched_input_is_rejected():
    with pytest.raises(ValueError, match="batch"):
        augment.mirror(np.zeros((48, 48, 1), np.float32), SEED)
