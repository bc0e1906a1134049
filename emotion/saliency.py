"""Which facial regions drive a prediction: Grad-CAM (Selvaraju et al., 2017) for the study's Keras models."""

from __future__ import annotations

import numpy as np


def last_spatial_layer(model) -> str:
    """Return the name of the last layer whose output is a 4-D feature map (batch, height, width, channels) with
    more than one pixel: the usual Grad-CAM target.

    Raises:
        ValueError: the model has no such layer.
    """
    for layer in reversed(model.layers):
        shape = getattr(layer, "output", None)
        shape = getattr(shape, "shape", None)
        if shape is not None and len(shape) == 4 and (shape[1] or 0) * (shape[2] or 0) > 1:
            return layer.name
    raise ValueError(f"model {model.name!r} has no 4-D feature-map layer for Grad-CAM")


def grad_cam(model, images: np.ndarray, class_ids: np.ndarray | None = None, layer_name: str | None = None) -> np.ndarray:
    """Grad-CAM heat maps, upsampled to the input size and scaled to [0, 1] per image.

    Args:
        model: a Keras model mapping (n, 48, 48, 1) images (0-255) to (n, classes) probabilities.
        images: uint8 (n, 48, 48) or (n, 48, 48, 1).
        class_ids: int (n,), the class to explain per image (default: the predicted class).
        layer_name: the feature-map layer (default: :func:`last_spatial_layer`).

    Returns:
        float32 (n, 48, 48); an image whose gradients are all zero gets an all-zero map.

    Raises:
        ValueError: images are not (n, 48, 48[, 1]), or ``class_ids`` has the wrong length.
    """
    import keras
    import tensorflow as tf

    images = np.asarray(images)
    if images.ndim == 3:
        images = images[..., None]
    if images.ndim != 4 or images.shape[-1] != 1:
        raise ValueError(f"images must be (n, height, width) or (n, height, width, 1), got {images.shape}")
    layer_name = layer_name or last_spatial_layer(model)
    probe = keras.Model(model.inputs, [model.get_layer(layer_name).output, model.outputs[0]])
    inputs = tf.convert_to_tensor(images.astype(np.float32))
    with tf.GradientTape() as tape:
        features, probabilities = probe(inputs, training=False)
        if class_ids is None:
            class_ids = tf.argmax(probabilities, axis=1).numpy()
        class_ids = np.asarray(class_ids)
        if class_ids.shape != (images.shape[0],):
            raise ValueError(f"class_ids must have shape ({images.shape[0]},), got {class_ids.shape}")
        scores = tf.gather(probabilities, class_ids, axis=1, batch_dims=1)
    gradients = tape.gradient(scores, features)
    if gradients is None:
        raise ValueError(f"the class score does not depend differentiably on layer {layer_name!r} (a preprocessing "
                         "layer?); pass layer_name= a convolutional layer of the model")
    weights = tf.reduce_mean(tf.cast(gradients, tf.float32), axis=(1, 2), keepdims=True)
    maps = tf.nn.relu(tf.reduce_sum(weights * tf.cast(features, tf.float32), axis=-1))
    maps = tf.image.resize(maps[..., None], images.shape[1:3], method="bilinear")[..., 0].numpy()
    peak = maps.reshape(len(maps), -1).max(axis=1)
    return np.where(peak[:, None, None] > 0, maps / np.maximum(peak, 1e-12)[:, None, None], 0.0).astype(np.float32)
