"""A run's stored outputs: written atomically as float16 with the labels' digest, read back only for the same labels,
checked against the accuracy the run recorded before anything is written, and gathered as ensemble candidates."""

import json

import numpy as np
import pytest

from emotion.classify.evaluate import evaluate_model, load_model
from emotion.classify.run_outputs import (
    check_against_record,
    outputs_path,
    read_outputs,
    stored_run_outputs,
    write_outputs,
    write_run_outputs,
)
from emotion.errors import DataFormatError


def one_hot_outputs(predicted: np.ndarray) -> np.ndarray:
    values = np.full((len(predicted), 7), 0.01, dtype=np.float32)
    values[np.arange(len(predicted)), predicted] = 0.94
    return values


@pytest.fixture
def labelled():
    rng = np.random.default_rng(1)
    labels = {"PublicTest": rng.integers(0, 7, 40), "PrivateTest": rng.integers(0, 7, 50)}
    outputs = {split: {"none": one_hot_outputs(values), "flip": one_hot_outputs((values + 1) % 7)}
               for split, values in labels.items()}
    return labels, outputs


def results_document(accuracy_none: float, accuracy_flip: float, run: str = "run") -> dict:
    return {"meta": {"mode": "full"}, "run": run, "test": {"accuracy": accuracy_none, "tta_mode": "none"},
            "test_tta": {"accuracy": accuracy_flip, "tta": True, "tta_mode": "flip"}}


def test_outputs_sit_beside_their_results_file():
    assert outputs_path("results/03_ablation_basic_cnn_60ep.json").as_posix() == \
        "results/03_ablation_basic_cnn_60ep_outputs.npz"


def test_outputs_round_trip_as_float16_and_only_for_the_same_labels(tmp_path, labelled):
    labels, outputs = labelled
    path = write_outputs(tmp_path / "run_outputs.npz", outputs, labels)
    assert not list(tmp_path.glob("*.partial"))
    read = read_outputs(path, "flip", labels)
    assert set(read) == {"PublicTest", "PrivateTest"} and read["PrivateTest"].dtype == np.float32
    assert np.allclose(read["PrivateTest"], outputs["PrivateTest"]["flip"], atol=1e-3)
    assert (read["PublicTest"].argmax(axis=1) == (labels["PublicTest"] + 1) % 7).all()
    shuffled = {**labels, "PrivateTest": labels["PrivateTest"][::-1]}
    with pytest.raises(DataFormatError, match="PrivateTest outputs belong to other labels"):
        read_outputs(path, "flip", shuffled)
    with pytest.raises(DataFormatError, match="no 'tencrop' outputs"):
        read_outputs(path, "tencrop")


def test_a_damaged_outputs_file_is_a_clear_error(tmp_path):
    damaged = tmp_path / "damaged_outputs.npz"
    damaged.write_bytes(b"not a zip archive")
    with pytest.raises(DataFormatError, match="not a run's stored outputs.*run-outputs"):
        read_outputs(damaged, "flip")
    with pytest.raises(DataFormatError, match="not a run's stored outputs"):
        read_outputs(tmp_path / "missing_outputs.npz", "flip")


def test_outputs_must_reproduce_the_recorded_accuracy(labelled):
    labels, outputs = labelled
    private = labels["PrivateTest"]
    # "none" outputs are right on every image, "flip" outputs on none.
    assert check_against_record(outputs, private, results_document(1.0, 0.0)) == {"none": 1.0, "flip": 0.0}
    # Two images either way are tolerated (batch-dependent summation, float16 ties); three are not.
    assert check_against_record(outputs, private, results_document(48 / 50, 2 / 50))["none"] == 1.0
    with pytest.raises(DataFormatError, match="get 50 of 50 PrivateTest images right, the results file records 47"):
        check_against_record(outputs, private, results_document(47 / 50, 0.0), where="run x")
    with pytest.raises(DataFormatError, match="50 PrivateTest outputs for 49 labels"):
        check_against_record(outputs, private[:49], results_document(1.0, 0.0))
    # An output whose accuracy the results do not record cannot be checked, so it is refused.
    unrecorded = results_document(1.0, 0.0)
    del unrecorded["test_tta"]
    with pytest.raises(DataFormatError, match="no PrivateTest accuracy with flip TTA"):
        check_against_record(outputs, private, unrecorded)


def test_stored_runs_become_ensemble_candidates(tmp_path, labelled):
    labels, outputs = labelled
    for run in ("with_outputs", "without_outputs", "excluded"):
        (tmp_path / f"03_ablation_{run}.json").write_text(json.dumps(results_document(1.0, 0.0, run)))
    write_outputs(tmp_path / "03_ablation_with_outputs_outputs.npz", outputs, labels)
    write_outputs(tmp_path / "03_ablation_excluded_outputs.npz", outputs, labels)
    found, documents = stored_run_outputs(tmp_path, "none", labels, exclude={"excluded"})
    assert list(documents) == ["with_outputs"] and list(found["PrivateTest"]) == ["with_outputs"]
    assert (found["PrivateTest"]["with_outputs"].argmax(axis=1) == labels["PrivateTest"]).all()
    # Outputs left from an earlier run of that name do not give the accuracy its results now record.
    (tmp_path / "03_ablation_with_outputs.json").write_text(json.dumps(results_document(0.5, 0.0, "with_outputs")))
    with pytest.raises(DataFormatError, match="not the outputs of the checkpoint it scored"):
        stored_run_outputs(tmp_path, "none", labels, exclude={"excluded"})
    (tmp_path / "03_ablation_with_outputs.json").unlink()
    write_outputs(tmp_path / "03_ablation_orphan_outputs.npz", outputs, labels)
    with pytest.raises(DataFormatError, match="no results file 03_ablation_orphan.json beside it"):
        stored_run_outputs(tmp_path, "none", labels)


def test_a_checkpoints_outputs_are_written_only_when_they_reproduce_its_results(tmp_path, tiny_model):
    rng = np.random.default_rng(2)
    splits = {split: (rng.integers(0, 256, (30, 48, 48)).astype(np.uint8), rng.integers(0, 7, 30))
              for split in ("PublicTest", "PrivateTest")}
    model = load_model(tiny_model)
    scored = evaluate_model(model, *splits["PrivateTest"])
    flipped = evaluate_model(model, *splits["PrivateTest"], tta=True)
    results = tmp_path / "03_ablation_tiny.json"
    results.write_text(json.dumps({**results_document(scored["accuracy"], flipped["accuracy"], "tiny"),
                                   "test": scored, "test_tta": flipped}))
    path = write_run_outputs(tiny_model, results, splits)
    assert path == tmp_path / "03_ablation_tiny_outputs.npz"
    stored = read_outputs(path, "none", {split: labels for split, (_, labels) in splits.items()})
    assert (stored["PrivateTest"].argmax(axis=1) == splits["PrivateTest"][1]).mean() == pytest.approx(
        scored["accuracy"])
    path.unlink()
    wrong = (scored["accuracy"] + 0.5) % 1.0  # at least 15 of 30 images away from the truth
    results.write_text(json.dumps(results_document(wrong, flipped["accuracy"], "tiny")))
    with pytest.raises(DataFormatError, match="not the outputs of the checkpoint it scored"):
        write_run_outputs(tiny_model, results, splits)
    assert not list(tmp_path.glob("*.npz*"))


def test_the_command_says_what_is_missing(tmp_path, capsys):
    from emotion.app.cli import main

    assert main(["run-outputs", "--name", "nothing", "--results", str(tmp_path)]) == 2
    assert "no results file" in capsys.readouterr().err
    (tmp_path / "03_ablation_nothing.json").write_text(json.dumps(results_document(0.5, 0.5, "nothing")))
    assert main(["run-outputs", "--name", "nothing", "--results", str(tmp_path),
                 "--run-dir", str(tmp_path / "gone")]) == 2
    assert "only be computed on the machine that trained it" in capsys.readouterr().err
