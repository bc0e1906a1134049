"""The model registry: output shapes, float32 softmax, parameter counts and block counts of the paper's ResNets."""

import numpy as np
import pytest

from emotion.classify.models import MODEL_NAMES, RESNET_BLOCKS, build_model
from emotion.paths import RESULTS_DIR
from emotion.provenance import read_results


@pytest.fixture(scope="module")
def models():
    return {name: build_model(name) for name in MODEL_NAMES}


@pytest.mark.parametrize("name", MODEL_NAMES)
def test_each_model_maps_a_batch_of_48x48_faces_to_seven_probabilities(models, name):
    images = np.random.default_rng(0).integers(0, 256, (3, 48, 48, 1)).astype(np.float32)
    probabilities = np.asarray(models[name](images, training=False))
    assert probabilities.shape == (3, 7)
    assert probabilities.dtype == np.float32
    np.testing.assert_allclose(probabilities.sum(axis=1), 1.0, rtol=1e-5)


IMAGENET_RESNET_PARAMETERS = {"resnet18": 11_689_512, "resnet34": 21_797_672, "resnet50": 25_557_032}
"""Parameters of the ImageNet ResNets (torchvision's counts: a 3-channel stem, a 1000-way classifier)."""


@pytest.mark.parametrize("name", ["resnet18", "resnet34", "resnet50"])
def test_resnets_have_the_imagenet_parameters_less_the_colour_stem_and_the_1000_way_classifier(models, name):
    features = 2048 if name == "resnet50" else 512
    expected = (IMAGENET_RESNET_PARAMETERS[name]
                - (features * 1000 + 1000) + (features * 7 + 7)  # a 7-way softmax replaces the 1000-way one
                - 7 * 7 * (3 - 1) * 64)  # the 7x7 stem sees 1 grey channel instead of 3
    trainable = sum(int(np.prod(weight.shape)) for weight in models[name].trainable_weights)
    assert trainable == expected


@pytest.mark.parametrize(
    ("name", "parameters"),
    [
        # All weights, batch-norm statistics included: what the released models' results files record.
        ("basic_cnn", 1_767_207),
        ("resnet18", 11_183_431),
        ("resnet34", 21_299_015),
        ("resnet50", 23_569_223),
        ("mobilenet", 215_015),
        ("crop_cnn", 1_439_527),
        ("wide_crop_cnn", 3_035_703),
        ("resnet18_keepres", 11_183_431 - 7 * 7 * 64 + 3 * 3 * 64),  # ResNet-18 with a 3x3 stem kernel
    ],
)
def test_parameter_counts_match_the_architectures(models, name, parameters):
    assert models[name].count_params() == parameters


@pytest.mark.parametrize("path", sorted(RESULTS_DIR.glob("03_train_*.json")), ids=lambda path: path.stem)
def test_the_builders_still_make_the_released_architectures(models, path):
    # A release records its parameter count; a builder that drifted would no longer load or match its weights.
    release = read_results(path)
    if release["model"] not in models or release["recipe"].get("model_options"):
        pytest.skip(f"{path.name}: built with options of its own")
    assert models[release["model"]].count_params() == release["parameters"]


@pytest.mark.parametrize("name", ["resnet18", "resnet34", "resnet50"])
def test_resnets_have_the_papers_blocks_per_stage_and_a_7x7_stride_2_stem(models, name):
    layer_names = [layer.name for layer in models[name].layers]
    blocks = [sum(1 for layer in layer_names if layer.startswith(f"stage{stage}_") and layer.endswith("_add"))
              for stage in range(1, 5)]
    assert tuple(blocks) == RESNET_BLOCKS[name]
    stem = models[name].get_layer("stem_conv")
    assert stem.kernel_size == (7, 7) and stem.strides == (2, 2) and stem.filters == 64
    # 48 px -> 24 (stem) -> 12 (max-pool) -> 12, 6, 3, 2 px through the four stages.
    assert tuple(models[name].get_layer("stage1_block1_add").output.shape[1:3]) == (12, 12)
    assert tuple(models[name].get_layer("global_average_pool").input.shape[1:3]) == (2, 2)


def test_resnet50_uses_bottleneck_blocks_with_fourfold_expansion(models):
    final = models["resnet50"].get_layer("global_average_pool").input
    assert final.shape[-1] == 2048
    assert models["resnet50"].get_layer("stage4_block1_3_conv").filters == 2048


def test_models_take_raw_0_255_pixels_because_they_rescale_inside(models):
    assert models["basic_cnn"].layers[1].name == "rescale_0_255_to_0_1"


def test_the_softmax_stays_float32_under_mixed_bfloat16():
    import keras

    keras.mixed_precision.set_global_policy("mixed_bfloat16")
    try:
        model = build_model("mobilenet")
    finally:
        keras.mixed_precision.set_global_policy("float32")
    assert model.get_layer("stem_conv").compute_dtype == "bfloat16"
    assert model.output.dtype == "float32"


def test_unknown_model_name_lists_the_valid_names():
    with pytest.raises(ValueError, match="resnet18"):
        build_model("vgg16")


def test_the_resnet_table_shows_the_papers_blocks_and_the_resolution_each_stage_works_at():
    from emotion.classify.models import resnet_table

    rows = {row["model"]: row for row in resnet_table()}
    assert list(rows) == ["resnet18", "resnet34", "resnet50"]
    assert rows["resnet34"]["stage 3"] == "6 x 256 (3 px)" and rows["resnet18"]["stage 1"] == "2 x 64 (12 px)"
    assert all(row["after stem (px)"] == 12 for row in rows.values())
    assert rows["resnet18"]["parameters"] < rows["resnet34"]["parameters"] < rows["resnet50"]["parameters"]
    assert rows["resnet50"]["block"].startswith("bottleneck")


def test_crop_cnn_classifies_the_central_40x40_so_a_changed_border_does_not_matter(models):
    model = models["crop_cnn"]
    assert tuple(model.get_layer("center_crop").output.shape[1:3]) == (40, 40)
    images = np.random.default_rng(1).integers(0, 256, (2, 48, 48, 1)).astype(np.float32)
    border = images.copy()
    border[:, :4], border[:, -4:], border[:, :, :4], border[:, :, -4:] = 0, 255, 0, 255
    np.testing.assert_allclose(np.asarray(model(images, training=False)),
                               np.asarray(model(border, training=False)), atol=1e-6)
    centre = images.copy()
    centre[:, 20:28, 20:28] = 255 - centre[:, 20:28, 20:28]
    assert not np.allclose(np.asarray(model(images, training=False)), np.asarray(model(centre, training=False)))


def test_crop_cnn_refuses_a_crop_larger_than_the_input():
    with pytest.raises(ValueError, match="crop must be between 8 and the input side 48"):
        build_model("crop_cnn", crop=56)


def test_the_resolution_keeping_stem_doubles_every_stages_resolution_and_changes_nothing_else(models):
    from emotion.classify.models import resnet

    imagenet, keeping = models["resnet18"], models["resnet18_keepres"]
    for stage, (paper_side, kept_side) in enumerate(((12, 24), (6, 12), (3, 6), (2, 3)), start=1):
        assert imagenet.get_layer(f"stage{stage}_block2_out").output.shape[1] == paper_side
        assert keeping.get_layer(f"stage{stage}_block2_out").output.shape[1] == kept_side
    assert keeping.get_layer("stem_conv").kernel.shape == (3, 3, 1, 64)
    assert [layer.name for layer in keeping.layers] == [layer.name for layer in imagenet.layers]
    with pytest.raises(ValueError, match="unknown ResNet stem 'tiny'"):
        resnet(18, stem="tiny")


def test_the_train_commands_help_names_every_architecture():
    import argparse

    from emotion.app.commands import classify

    parser = argparse.ArgumentParser()
    commands = parser.add_subparsers()
    classify.register(commands)
    train = commands.choices["train"]
    help_text = next(action.help for action in train._actions if "--model" in action.option_strings)
    assert [name for name in MODEL_NAMES if name not in help_text.replace(",", " ").split()] == []
