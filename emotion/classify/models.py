"""The study's classifiers, built with the Keras 3 Functional API from a name.

Every model takes a batch of 48x48 grayscale images with pixel values in 0-255 (float32 or anything castable: a
saved model can be fed FER2013's uint8 pixels directly, because the scaling to 0-1 is the model's first layer) and
returns the softmax probabilities of the seven emotions, float32 even under the ``mixed_bfloat16`` policy.

Registry (:data:`MODEL_NAMES`):

* ``basic_cnn``: the paper's basic CNN baseline, as a small VGG-style network: four blocks of two 3x3 convolutions
  (32, 64, 128, 256 filters) with batch normalisation and ReLU, 2x2 max-pooling and dropout, then a dense head.
* ``resnet18``, ``resnet34``, ``resnet50``: the paper's ResNets (its Tables 1-2), i.e. the ImageNet ResNet of He et
  al. (2016) on a 48x48x1 input: a 7x7/2 stem with 64 filters, 3x3/2 max-pooling, four stages of 64/128/256/512
  filters ([2, 2, 2, 2] and [3, 4, 6, 3] basic blocks; [3, 4, 6, 3] bottleneck blocks with 4x expansion for 50),
  batch normalisation, 1x1 projection shortcuts when the shape changes, global average pooling and a 7-way softmax.
  The stem reduces 48x48 to 12x12 before the first block, which is the measured weakness the study examines.
* ``resnet18_keepres``: ResNet-18 with a stem that keeps resolution, for the stem question on 48x48 faces: a 3x3/1
  convolution (64 filters) in place of the 7x7/2 one, then the same 3x3/2 max-pool, so the first stage works on 24x24
  maps (the ImageNet stem leaves 12x12) and the last on 3x3. Every other layer is ResNet-18's; the convolutions cost
  about four times as much per image, so it is compared with ``resnet18`` at matched training CPU-seconds.
* ``mobilenet``: a small MobileNet-style network of depthwise-separable convolutions, the light alternative.
* ``crop_cnn``: the study's own model for a 2-core CPU budget: the basic CNN's blocks on the central 40x40 of each
  face (a ``CenterCrop`` layer inside the model, so it still takes 48x48 input). Training sees random 40x40 windows,
  because the augmentation's random shift and scale move the face before the fixed crop. Its convolutions see 0.69
  of the pixels of the basic CNN's, but the 48x48 input pipeline, augmentation and PublicTest pass are unchanged, so
  a whole epoch costs less in proportion (measured: notebooks 04 and 05). Evaluation can average shifted windows
  (ten-crop TTA, :func:`emotion.classify.evaluate.predict_probabilities` with ``tta="tencrop"``).
* ``wide_crop_cnn``: ``crop_cnn`` at 1.5x the width (48, 96, 192, 384 filters), about 2.25x its convolution cost.
  ``crop_cnn``'s training accuracy (augmented, dropout on) stayed below its PublicTest accuracy to its last epoch,
  the mark of a model short of capacity rather than of data; this is the candidate that spends the CPU budget on
  width and epochs together.
"""

from __future__ import annotations

from collections.abc import Callable

import keras
from keras import layers

from emotion import CLASS_NAMES

INPUT_SHAPE = (48, 48, 1)
NUM_CLASSES = len(CLASS_NAMES)
RESNET_STAGE_FILTERS = (64, 128, 256, 512)
RESNET_BLOCKS = {"resnet18": (2, 2, 2, 2), "resnet34": (3, 4, 6, 3), "resnet50": (3, 4, 6, 3)}
RESNET_STEMS = {"imagenet": (7, 2), "keep_resolution": (3, 1)}
"""The ResNet stems, as (kernel size, stride) of the stem convolution; a 3x3/2 max-pool follows either."""
"""Residual blocks per stage of each ResNet depth (the paper's Table 1 and He et al., 2016, Table 1)."""
BOTTLENECK_EXPANSION = 4
CROP_SIZE = 40
"""The side of the central window ``crop_cnn`` and ``wide_crop_cnn`` classify (of the 48x48 input)."""
WIDE_BLOCK_FILTERS = (48, 96, 192, 384)
"""The filters of ``wide_crop_cnn``'s four blocks (1.5x ``crop_cnn``'s)."""


def _preprocess(inputs: keras.KerasTensor) -> keras.KerasTensor:
    """Scale 0-255 pixels to 0-1 inside the model, so that saved models take raw FER2013 pixels."""
    return layers.Rescaling(1.0 / 255.0, name="rescale_0_255_to_0_1")(inputs)


def _classifier(features: keras.KerasTensor, num_classes: int) -> keras.KerasTensor:
    """The softmax output, kept in float32 under mixed precision for a numerically stable loss."""
    return layers.Dense(num_classes, activation="softmax", dtype="float32", name="probabilities")(features)


def _conv_bn_relu(x, filters: int, kernel_size: int, strides: int, name: str):
    x = layers.Conv2D(filters, kernel_size, strides=strides, padding="same", use_bias=False, name=f"{name}_conv")(x)
    x = layers.BatchNormalization(name=f"{name}_bn")(x)
    return layers.ReLU(name=f"{name}_relu")(x)


def basic_cnn(input_shape=INPUT_SHAPE, num_classes: int = NUM_CLASSES, dropout: float = 0.2,
              block_filters: tuple[int, ...] = (32, 64, 128, 256), dense_units: int = 256,
              crop: int | None = None, name: str = "basic_cnn") -> keras.Model:
    """The basic CNN baseline: VGG-style blocks (two 3x3 conv + BN + ReLU, 2x2 max-pool, dropout), dense head.

    ``crop``: when given, the model first keeps only the central ``crop`` x ``crop`` pixels (``crop_cnn``)."""
    inputs = keras.Input(shape=input_shape, name="image")
    x = _preprocess(inputs)
    if crop is not None:
        if not 8 <= crop <= min(input_shape[:2]):
            raise ValueError(f"crop must be between 8 and the input side {min(input_shape[:2])}, got {crop}")
        x = layers.CenterCrop(crop, crop, name="center_crop")(x)
    for block, filters in enumerate(block_filters, start=1):
        x = _conv_bn_relu(x, filters, 3, 1, name=f"block{block}_a")
        x = _conv_bn_relu(x, filters, 3, 1, name=f"block{block}_b")
        x = layers.MaxPooling2D(2, name=f"block{block}_pool")(x)
        x = layers.Dropout(dropout, name=f"block{block}_dropout")(x)
    x = layers.Flatten(name="flatten")(x)
    x = layers.Dense(dense_units, use_bias=False, name="dense")(x)
    x = layers.BatchNormalization(name="dense_bn")(x)
    x = layers.ReLU(name="dense_relu")(x)
    x = layers.Dropout(2 * dropout, name="dense_dropout")(x)
    return keras.Model(inputs, _classifier(x, num_classes), name=name)


def _basic_block(x, filters: int, strides: int, name: str):
    """Two 3x3 convolutions with BN; the shortcut is a 1x1 projection (with BN) when the shape changes."""
    shortcut = x
    if strides != 1 or x.shape[-1] != filters:
        shortcut = layers.Conv2D(filters, 1, strides=strides, use_bias=False, name=f"{name}_proj_conv")(x)
        shortcut = layers.BatchNormalization(name=f"{name}_proj_bn")(shortcut)
    y = _conv_bn_relu(x, filters, 3, strides, name=f"{name}_1")
    y = layers.Conv2D(filters, 3, padding="same", use_bias=False, name=f"{name}_2_conv")(y)
    y = layers.BatchNormalization(name=f"{name}_2_bn")(y)
    y = layers.Add(name=f"{name}_add")([shortcut, y])
    return layers.ReLU(name=f"{name}_out")(y)


def _bottleneck_block(x, filters: int, strides: int, name: str):
    """1x1 reduce, 3x3, 1x1 expand (4x) with BN; 1x1 projection shortcut when the shape changes (ResNet v1.5)."""
    output_filters = filters * BOTTLENECK_EXPANSION
    shortcut = x
    if strides != 1 or x.shape[-1] != output_filters:
        shortcut = layers.Conv2D(output_filters, 1, strides=strides, use_bias=False, name=f"{name}_proj_conv")(x)
        shortcut = layers.BatchNormalization(name=f"{name}_proj_bn")(shortcut)
    y = _conv_bn_relu(x, filters, 1, 1, name=f"{name}_1")
    y = _conv_bn_relu(y, filters, 3, strides, name=f"{name}_2")
    y = layers.Conv2D(output_filters, 1, use_bias=False, name=f"{name}_3_conv")(y)
    y = layers.BatchNormalization(name=f"{name}_3_bn")(y)
    y = layers.Add(name=f"{name}_add")([shortcut, y])
    return layers.ReLU(name=f"{name}_out")(y)


def resnet(depth: int, input_shape=INPUT_SHAPE, num_classes: int = NUM_CLASSES, stem: str = "imagenet",
           name: str | None = None) -> keras.Model:
    """The paper's ResNet-18/34/50: 7x7/2 stem (64), 3x3/2 max-pool, four residual stages, GAP, softmax.

    Args:
        stem: a key of :data:`RESNET_STEMS`: ``imagenet`` (the paper's 7x7/2 convolution) or ``keep_resolution``
            (3x3/1, so the first stage sees twice the resolution).
        name: the model's name (default ``resnet<depth>``).

    Raises:
        ValueError: ``depth`` is not 18, 34 or 50, or ``stem`` is not a key of :data:`RESNET_STEMS`.
    """
    blocks_of = f"resnet{depth}"
    if blocks_of not in RESNET_BLOCKS:
        raise ValueError(f"ResNet depth must be 18, 34 or 50, got {depth}")
    if stem not in RESNET_STEMS:
        raise ValueError(f"unknown ResNet stem {stem!r}: use one of {', '.join(RESNET_STEMS)}")
    block = _bottleneck_block if depth == 50 else _basic_block
    inputs = keras.Input(shape=input_shape, name="image")
    x = _preprocess(inputs)
    kernel_size, strides = RESNET_STEMS[stem]
    x = _conv_bn_relu(x, 64, kernel_size, strides, name="stem")
    x = layers.MaxPooling2D(3, strides=2, padding="same", name="stem_pool")(x)
    for stage, (filters, blocks) in enumerate(zip(RESNET_STAGE_FILTERS, RESNET_BLOCKS[blocks_of]), start=1):
        for index in range(blocks):
            strides = 2 if stage > 1 and index == 0 else 1
            x = block(x, filters, strides, name=f"stage{stage}_block{index + 1}")
    x = layers.GlobalAveragePooling2D(name="global_average_pool")(x)
    return keras.Model(inputs, _classifier(x, num_classes), name=name or blocks_of)


def mobilenet(input_shape=INPUT_SHAPE, num_classes: int = NUM_CLASSES, width: int = 32,
              dropout: float = 0.3) -> keras.Model:
    """A small MobileNet-v1-style network: a 3x3 stem, then depthwise-separable blocks (3x3 depthwise + BN + ReLU,
    1x1 pointwise + BN + ReLU), doubling the width at each stride-2 block (48 -> 24 -> 12 -> 6 px), GAP, softmax."""
    inputs = keras.Input(shape=input_shape, name="image")
    x = _preprocess(inputs)
    x = _conv_bn_relu(x, width, 3, 1, name="stem")
    plan = [(1, 1), (2, 2), (1, 2), (2, 4), (1, 4), (2, 8), (1, 8), (1, 8)]
    for index, (strides, multiplier) in enumerate(plan, start=1):
        x = layers.DepthwiseConv2D(3, strides=strides, padding="same", use_bias=False, name=f"sep{index}_dw")(x)
        x = layers.BatchNormalization(name=f"sep{index}_dw_bn")(x)
        x = layers.ReLU(name=f"sep{index}_dw_relu")(x)
        x = _conv_bn_relu(x, width * multiplier, 1, 1, name=f"sep{index}_pw")
    x = layers.GlobalAveragePooling2D(name="global_average_pool")(x)
    x = layers.Dropout(dropout, name="dropout")(x)
    return keras.Model(inputs, _classifier(x, num_classes), name="mobilenet")


MODEL_BUILDERS: dict[str, Callable[..., keras.Model]] = {
    "basic_cnn": basic_cnn,
    "resnet18": lambda **options: resnet(18, **options),
    "resnet34": lambda **options: resnet(34, **options),
    "resnet50": lambda **options: resnet(50, **options),
    "resnet18_keepres": lambda **options: resnet(18, **{"stem": "keep_resolution", "name": "resnet18_keepres",
                                                         **options}),
    "mobilenet": mobilenet,
    "crop_cnn": lambda **options: basic_cnn(**{"crop": CROP_SIZE, "name": "crop_cnn", **options}),
    "wide_crop_cnn": lambda **options: basic_cnn(**{"crop": CROP_SIZE, "block_filters": WIDE_BLOCK_FILTERS,
                                                    "name": "wide_crop_cnn", **options}),
}
MODEL_NAMES = tuple(MODEL_BUILDERS)


def build_model(name: str, input_shape=INPUT_SHAPE, num_classes: int = NUM_CLASSES, **options) -> keras.Model:
    """Build an untrained model by name.

    Args:
        name: one of :data:`MODEL_NAMES`.
        input_shape: (height, width, channels) of one image, default (48, 48, 1).
        num_classes: the number of output probabilities, default 7.
        options: keyword arguments of the architecture's builder (e.g. ``dropout`` for ``basic_cnn``).

    Returns:
        An uncompiled ``keras.Model`` mapping float (batch, *input_shape) in 0-255 to float32 (batch, num_classes).

    Raises:
        ValueError: unknown ``name``.
    """
    if name not in MODEL_BUILDERS:
        raise ValueError(f"unknown model {name!r}: use one of {', '.join(MODEL_NAMES)}")
    return MODEL_BUILDERS[name](input_shape=input_shape, num_classes=num_classes, **options)


def resnet_table() -> list[dict]:
    """The paper's Table 1 for the three ResNet depths, as built here: per stage the blocks and the output size of a
    48x48 input, the block type, and the parameter count of the built model (one row per depth)."""
    rows = []
    for name, blocks in RESNET_BLOCKS.items():
        model = build_model(name)
        row = {"model": name, "block": "bottleneck (1x1, 3x3, 1x1; x4 width)" if name == "resnet50"
               else "basic (3x3, 3x3)", "stem": "7x7/2 conv 64, 3x3/2 max-pool",
               "after stem (px)": int(model.get_layer("stem_pool").output.shape[1])}
        for stage, (filters, count) in enumerate(zip(RESNET_STAGE_FILTERS, blocks), start=1):
            last = model.get_layer(f"stage{stage}_block{count}_out")
            row[f"stage {stage}"] = f"{count} x {filters} ({last.output.shape[1]} px)"
        row["parameters"] = int(model.count_params())
        rows.append(row)
    return rows
