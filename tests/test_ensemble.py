"""Ensembles chosen on one split and scored on another (emotion.classify.ensemble)."""

import numpy as np
import pytest

from emotion.classify.ensemble import average_probabilities, greedy_selection, released_probabilities, score_ensemble
from emotion.errors import ConfigurationError, ModelFileError


def model_wrong_at(index, labels=None):
    """Probabilities right on every image (0.6 on the true class) except ``index``, where 0.4 goes to a wrong
    class: two such models that err on different images average to the right answer everywhere."""
    labels = LABELS if labels is None else labels
    output = np.full((len(labels), 3), 0.2)
    output[np.arange(len(labels)), labels] = 0.6
    output[index] = 0.3
    output[index, (labels[index] + 1) % 3] = 0.4
    return output


LABELS = np.array([0, 1, 2, 0, 1, 2])


def test_average_is_the_mean_and_checks_shapes():
    a, b = np.array([[1.0, 0.0]]), np.array([[0.0, 1.0]])
    assert average_probabilities([a, b]).tolist() == [[0.5, 0.5]]
    with pytest.raises(ConfigurationError, match="at least one"):
        average_probabilities([])
    with pytest.raises(ConfigurationError, match="one shape"):
        average_probabilities([a, np.ones((2, 2))])


def test_greedy_selection_adds_a_member_only_when_it_raises_accuracy():
    a, b, c = model_wrong_at(0), model_wrong_at(1), model_wrong_at(2)
    chosen = greedy_selection({"a": a, "b": b, "c": c}, LABELS)
    assert chosen["single_accuracy"] == {name: pytest.approx(5 / 6) for name in "abc"}
    assert chosen["members"] == ["a", "b"]  # a first of equals; a + b is right on all six, so c adds nothing
    assert chosen["accuracy"] == 1.0
    assert [step["added"] for step in chosen["trace"]] == ["a", "b"]
    assert [step["accuracy"] for step in chosen["trace"]] == [pytest.approx(5 / 6), 1.0]
    assert greedy_selection({"a": a, "b": b}, LABELS, max_members=1)["members"] == ["a"]
    assert greedy_selection({"a": a, "again": a}, LABELS)["members"] == ["a"]  # a copy raises nothing


def test_greedy_selection_rejects_bad_input():
    with pytest.raises(ConfigurationError, match="at least one candidate"):
        greedy_selection({}, LABELS)
    with pytest.raises(ConfigurationError, match="expected \\(6, classes\\)"):
        greedy_selection({"a": np.ones((5, 3))}, LABELS)
    with pytest.raises(ConfigurationError, match="max_members"):
        greedy_selection({"a": model_wrong_at(0)}, LABELS, max_members=0)


def test_score_ensemble_scores_the_average_and_adds_up_the_cost():
    probabilities = {"a": model_wrong_at(0), "b": model_wrong_at(1)}
    costs = {"a": {"training_cpu_minutes": 10.0, "training_wall_minutes": 30.0},
             "b": {"training_cpu_minutes": 20.0, "training_wall_minutes": 60.0}}
    scored = score_ensemble(["a", "b"], probabilities, LABELS, costs)
    assert scored["accuracy"] == 1.0
    assert scored["n"] == 6 and scored["members"] == ["a", "b"]
    assert scored["training_cpu_minutes"] == 30.0
    assert scored["training_wall_hours"] == pytest.approx(1.5)
    with pytest.raises(ConfigurationError, match="no probabilities or costs for c"):
        score_ensemble(["a", "c"], probabilities, LABELS, costs)
    with pytest.raises(ConfigurationError, match="no members"):
        score_ensemble([], probabilities, LABELS, costs)


def test_released_probabilities_reports_a_missing_model_file(tmp_path):
    with pytest.raises(ModelFileError, match="does not exist"):
        released_probabilities(["nothing"], tmp_path, {"PublicTest": np.zeros((2, 48, 48), np.uint8)}, cache_dir=None)


def test_released_probabilities_predicts_every_split_with_each_model(tmp_path):
    import keras

    inputs = keras.Input((48, 48, 1))
    outputs = keras.layers.Dense(7, activation="softmax")(keras.layers.Flatten()(inputs))
    keras.Model(inputs, outputs).save(tmp_path / "tiny.keras")
    splits = {"PublicTest": np.zeros((3, 48, 48), np.uint8), "PrivateTest": np.full((2, 48, 48), 9, np.uint8)}
    output = released_probabilities(["tiny"], tmp_path, splits, tta="flip", cache_dir=None)
    assert output["PublicTest"]["tiny"].shape == (3, 7) and output["PrivateTest"]["tiny"].shape == (2, 7)
    np.testing.assert_allclose(output["PrivateTest"]["tiny"].sum(axis=1), 1.0, rtol=1e-5)


def test_choose_and_score_selects_on_publictest_and_scores_privatetest_once():
    from emotion.classify.ensemble import choose_and_score

    # On PublicTest a + b is perfect. On PrivateTest a is wrong on image 5 only; b is confidently wrong on image 2
    # and outvotes a there, while a + b gets image 5 right: the pair is wrong on image 2 only.
    private_labels = np.array([0, 1, 2, 0, 1, 2])
    b_private = model_wrong_at(1)
    b_private[2] = [0.05, 0.9, 0.05]  # confidently wrong: outvotes a here
    probabilities = {"PublicTest": {"a": model_wrong_at(0), "b": model_wrong_at(1)},
                     "PrivateTest": {"a": model_wrong_at(5), "b": b_private}}
    costs = {name: {"training_cpu_minutes": 1.0, "training_wall_minutes": 6.0} for name in "ab"}
    outcome = choose_and_score(probabilities, {"PublicTest": LABELS, "PrivateTest": private_labels}, costs)
    assert outcome["selection"]["members"] == ["a", "b"]
    assert outcome["privatetest"]["accuracy"] == pytest.approx(5 / 6)
    assert outcome["best_single"] == {"model": "a", "privatetest_accuracy": pytest.approx(5 / 6)}
    assert (outcome["mcnemar_vs_best_single"]["a_only"], outcome["mcnemar_vs_best_single"]["b_only"]) == (1, 1)
    assert outcome["all_released_unselected"]["members"] == ["a", "b"]
    assert outcome["privatetest"]["training_wall_hours"] == pytest.approx(0.2)
    assert outcome["candidates"] == ["a", "b"]
    assert outcome["privatetest_accuracy_interval"]["low"] <= outcome["privatetest"]["accuracy"]


def tiny_softmax_model(seed, input_shape=(48, 48, 1), classes=7):
    import keras

    keras.utils.set_random_seed(seed)
    inputs = keras.Input(input_shape)
    hidden = keras.layers.Dense(classes)(keras.layers.Flatten()(keras.layers.Rescaling(1 / 255)(inputs)))
    return keras.Model(inputs, keras.layers.Softmax()(hidden))


def test_an_averaged_model_saves_as_one_file_and_outputs_the_members_mean(tmp_path):
    from emotion.classify.ensemble import averaged_model
    from emotion.classify.evaluate import load_model

    members = [tiny_softmax_model(seed) for seed in (1, 2)]
    images = np.random.default_rng(0).integers(0, 256, (5, 48, 48, 1)).astype(np.float32)
    expected = average_probabilities([member.predict(images, verbose=0) for member in members])
    averaged_model(members, name="pair").save(tmp_path / "pair.keras")
    reloaded = load_model(tmp_path / "pair.keras")
    np.testing.assert_allclose(reloaded.predict(images, verbose=0), expected, rtol=1e-5, atol=1e-6)
    assert reloaded.name == "pair" and not np.allclose(expected, members[0].predict(images, verbose=0))


def test_members_of_different_shapes_cannot_be_averaged():
    from emotion.classify.ensemble import averaged_model

    with pytest.raises(ConfigurationError, match="at least one member"):
        averaged_model([])
    with pytest.raises(ConfigurationError, match="input and one output shape"):
        averaged_model([tiny_softmax_model(1), tiny_softmax_model(2, input_shape=(40, 40, 1))])


def test_a_warm_started_model_and_its_parent_are_counted_once():
    from emotion.classify.ensemble import lineage_cost

    costs = {"parent": {"training_cpu_minutes": 100.0, "training_wall_minutes": 60.0},
             "child": {"training_cpu_minutes": 130.0, "training_wall_minutes": 80.0, "warm_start_from": "parent",
                       "own_training_cpu_minutes": 30.0, "own_training_wall_minutes": 20.0},
             "orphan": {"training_cpu_minutes": 50.0, "training_wall_minutes": 25.0, "warm_start_from": "gone",
                        "own_training_cpu_minutes": 5.0, "own_training_wall_minutes": 2.0},
             "other": {"training_cpu_minutes": 7.0, "training_wall_minutes": 3.0, "warm_start_from": ""}}
    assert lineage_cost(["child", "parent"], costs) == (130.0, 80.0)
    assert lineage_cost(["child"], costs) == (130.0, 80.0)
    assert lineage_cost(["parent", "other"], costs) == (107.0, 63.0)
    # A parent that is not released: the child's total (which includes the parent) is what it cost.
    assert lineage_cost(["orphan"], costs) == (50.0, 25.0)
    scored = score_ensemble(["child", "parent"], {"child": model_wrong_at(0), "parent": model_wrong_at(1)}, LABELS,
                            costs)
    assert scored["training_cpu_minutes"] == 130.0 and scored["training_wall_hours"] == pytest.approx(80 / 60)


def test_an_ensemble_release_stores_one_file_and_scores_it_on_both_splits(tmp_path):
    from emotion.classify.ensemble import release_ensemble
    from emotion.classify.evaluate import evaluate_model, load_model
    from emotion.provenance import read_results

    models = tmp_path / "models"
    models.mkdir()
    for seed in (1, 2):
        tiny_softmax_model(seed).save(models / f"m{seed}.keras")
    rng = np.random.default_rng(0)
    splits = {split: (rng.integers(0, 256, (40, 48, 48)).astype(np.uint8), rng.integers(0, 7, 40))
              for split in ("PublicTest", "PrivateTest")}
    costs = {"m1": {"training_cpu_minutes": 10.0, "training_wall_minutes": 6.0},
             "m2": {"training_cpu_minutes": 20.0, "training_wall_minutes": 12.0}}
    written = release_ensemble(["m1", "m2"], "pair", models, tmp_path / "results", splits, costs, tta="flip",
                               mode="smoke")
    document = read_results(written["results"])
    stored = load_model(written["model"])
    assert written["model"] == models / "pair.keras" and document["members"] == ["m1", "m2"]
    assert document["publictest_accuracy"] == evaluate_model(stored, *splits["PublicTest"])["accuracy"]
    assert document["test_tta"] == evaluate_model(stored, *splits["PrivateTest"], tta="flip")
    assert (document["training_cpu_minutes"], document["training_wall_minutes"]) == (30.0, 18.0)
    assert document["meta"]["mode"] == "smoke" and document["headline"][0]["split"] == "PrivateTest"

    with pytest.raises(ConfigurationError, match="at least two members"):
        release_ensemble(["m1"], "solo", models, tmp_path / "results", splits, costs)
    with pytest.raises(ConfigurationError, match="no training cost for m3"):
        release_ensemble(["m1", "m3"], "x", models, tmp_path / "results", splits, costs)
    with pytest.raises(ConfigurationError, match="run name"):
        release_ensemble(["m1", "m2"], "../bad", models, tmp_path / "results", splits, costs)
    assert not (models / "solo.keras").exists() and not (models / "x.keras").exists()
