"""Which facial regions drive a prediction: Grad-CAM (Selvaraju et al., 2017) and HiResCAM (Draelos & Carin, 2020)
for the study's Keras models."""

from __future__ import annotations

import numpy as np

MIN_MAP_SIDE = 6
"""The coarsest feature map (px on a side) Grad-CAM targets by default: coarser maps cannot tell eyes from mouth."""


def last_spatial_layer(model, min_side: int = MIN_MAP_SIDE) -> str:
    """Return the name of the last layer whose output is a 4-D feature map (batch, height, width, channels) at
    least ``min_side`` pixels high and wide: the Grad-CAM target. On 48x48 faces the very last maps are 3x3 (basic
    CNN) or 2x2 (ResNets), too coarse to tell eyes from mouth, so the default asks for 6x6 or finer; pass
    ``min_side=2`` for the classic last-convolution choice.

    Raises:
        ValueError: the model has no such layer.
    """
    for layer in reversed(model.layers):
        shape = getattr(getattr(layer, "output", None), "shape", None)
        if shape is not None and len(shape) == 4 and min(shape[1] or 0, shape[2] or 0) >= min_side:
            return layer.name
    raise ValueError(f"model {model.name!r} has no 4-D feature map of at least {min_side}x{min_side} for Grad-CAM")


def _class_scores(model):
    """The tensor whose gradient Grad-CAM follows: the pre-softmax logits when the model ends in a softmax Dense
    layer (as Selvaraju et al. prescribe; softmax outputs saturate and give empty maps), else the outputs."""
    import keras

    final = model.layers[-1]
    if isinstance(final, keras.layers.Dense) and getattr(final.activation, "__name__", "") == "softmax":
        return final.input, final
    return model.outputs[0], None


METHODS = ("hirescam", "gradcam")


def grad_cam(model, images: np.ndarray, class_ids: np.ndarray | None = None, layer_name: str | None = None,
             method: str = "hirescam") -> np.ndarray:
    """Class-activation heat maps, upsampled to the input size and scaled to [0, 1] per image.

    ``method="gradcam"`` weights each feature channel by its spatially averaged gradient (Selvaraju et al., 2017);
    ``"hirescam"`` (the default) multiplies gradient and activation position by position before summing channels
    (Draelos & Carin, 2020), which shows the locations the score actually used in models with a flatten + dense
    head such as the basic CNN, where Grad-CAM's averaging often cancels to an empty map.

    Args:
        model: a Keras model mapping (n, 48, 48, 1) images (0-255) to (n, classes) probabilities.
        images: uint8 (n, 48, 48) or (n, 48, 48, 1).
        class_ids: int (n,), the class to explain per image (default: the predicted class).
        layer_name: the feature-map layer (default: :func:`last_spatial_layer`).

    The class score is the pre-softmax logit when the model ends in a softmax Dense layer.

    Returns:
        float32 (n, 48, 48); an image whose gradients are all zero gets an all-zero map.

    Raises:
        ValueError: images are not (n, 48, 48[, 1]), ``class_ids`` has the wrong length, or ``method`` is unknown.
    """
    import keras
    import tensorflow as tf

    if method not in METHODS:
        raise ValueError(f"unknown method {method!r}; choose one of {', '.join(METHODS)}")
    images = np.asarray(images)
    if images.ndim == 3:
        images = images[..., None]
    if images.ndim != 4 or images.shape[-1] != 1:
        raise ValueError(f"images must be (n, height, width) or (n, height, width, 1), got {images.shape}")
    layer_name = layer_name or last_spatial_layer(model)
    score_source, final_dense = _class_scores(model)
    probe = keras.Model(model.inputs, [model.get_layer(layer_name).output, score_source])
    inputs = tf.convert_to_tensor(images.astype(np.float32))
    with tf.GradientTape() as tape:
        features, source = probe(inputs, training=False)
        if final_dense is not None:
            kernel, bias = final_dense.kernel, final_dense.bias
            probabilities = tf.matmul(tf.cast(source, kernel.dtype), kernel) + (0 if bias is None else bias)
        else:
            probabilities = source
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
    gradients, features = tf.cast(gradients, tf.float32), tf.cast(features, tf.float32)
    if method == "gradcam":
        gradients = tf.reduce_mean(gradients, axis=(1, 2), keepdims=True)
    maps = tf.nn.relu(tf.reduce_sum(gradients * features, axis=-1))
    maps = tf.image.resize(maps[..., None], images.shape[1:3], method="bilinear")[..., 0].numpy()
    peak = maps.reshape(len(maps), -1).max(axis=1)
    return np.where(peak[:, None, None] > 0, maps / np.maximum(peak, 1e-12)[:, None, None], 0.0).astype(np.float32)
