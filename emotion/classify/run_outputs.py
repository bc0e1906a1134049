"""The softmax outputs of a run's chosen checkpoint on PublicTest and PrivateTest, kept beside its results file.

An ablation run (``train --release --ablation``) keeps its weights only in its run folder on the machine that trained
it, so a fresh clone cannot load it. Its outputs on the two test splits are what an ensemble needs (members are chosen
on PublicTest and scored on PrivateTest, :mod:`emotion.classify.ensemble`), so they are stored with the results:
``results/03_ablation_<name>_outputs.npz``, float16 ``(n, 7)`` arrays named ``<split>/<tta>`` for ``tta`` in
:data:`STORED_TTA`, and the SHA-256 of each split's labels (so a reader can tell the outputs belong to the same images
in the same order without the file holding the labels themselves). Before it is written, each PrivateTest array must
reproduce the accuracy the results file recorded for that checkpoint (:func:`check_against_record`); PublicTest has no
such record of the same computation (training logged it in the training graph, whose batches differ: it agreed with
the kept outputs to 3 of 3,589 images on ``resnet18_keepres_5ep``).
"""

from __future__ import annotations

import hashlib
import json
import zipfile
from collections.abc import Mapping
from pathlib import Path

import numpy as np

from emotion.errors import DataFormatError

OUTPUT_SPLITS = ("PublicTest", "PrivateTest")
STORED_TTA = ("none", "flip")
OUTPUTS_SUFFIX = "_outputs.npz"
RECORDED_ACCURACY = {"none": "test", "flip": "test_tta"}
"""Which block of a results file records PrivateTest accuracy with each test-time augmentation."""
TOLERANCE_IMAGES = 2
"""Images by which a recomputed PrivateTest score may differ from the recorded one (oneDNN's summation order varies
with the batch, and float16 rounding can flip a near tie)."""


def outputs_path(results_path: Path | str) -> Path:
    """``03_ablation_<name>.json`` -> ``03_ablation_<name>_outputs.npz`` in the same folder."""
    results_path = Path(results_path)
    return results_path.with_name(results_path.stem + OUTPUTS_SUFFIX)


def labels_digest(labels: np.ndarray) -> str:
    """SHA-256 of the labels as uint8, in order: identifies the images a stored output belongs to."""
    return hashlib.sha256(np.asarray(labels, dtype=np.uint8).tobytes()).hexdigest()


def compute_outputs(model, splits: Mapping[str, tuple[np.ndarray, np.ndarray]]) -> dict[str, dict[str, np.ndarray]]:
    """``{split: {tta: float32 (n, 7)}}`` of ``model`` on each ``(images, labels)`` of ``splits``, for every
    :data:`STORED_TTA` mode."""
    from emotion.classify.evaluate import predict_probabilities

    return {split: {tta: predict_probabilities(model, images, tta=tta) for tta in STORED_TTA}
            for split, (images, _) in splits.items()}


def check_against_record(outputs: Mapping[str, Mapping[str, np.ndarray]], private_labels: np.ndarray,
                         document: dict, *, where: str = "the run") -> dict[str, float]:
    """Check that every PrivateTest output reproduces the accuracy ``document`` (a run's results) recorded for its
    test-time augmentation (:data:`RECORDED_ACCURACY`; the ``test_tta`` block must say it used flip TTA).

    Returns:
        ``{tta: recomputed accuracy}`` for each mode of ``outputs["PrivateTest"]``.

    Raises:
        DataFormatError: an output's accuracy differs from the recorded one by more than :data:`TOLERANCE_IMAGES`
            images, the document records no accuracy for one of the modes (it could not be checked), or the labels do
            not match the outputs in number.
    """
    labels = np.asarray(private_labels)
    found = {}
    for tta, probabilities in outputs.get("PrivateTest", {}).items():
        block = document.get(RECORDED_ACCURACY.get(tta, ""), {})
        recorded_mode = block.get("tta_mode", "flip" if block.get("tta") else "none")
        if "accuracy" not in block or recorded_mode != tta:
            raise DataFormatError(f"{where}: its results record no PrivateTest accuracy with {tta} TTA to check its "
                                  "outputs against.")
        probabilities = np.asarray(probabilities)
        if len(probabilities) != len(labels):
            raise DataFormatError(f"{where}: {len(probabilities)} PrivateTest outputs for {len(labels)} labels.")
        correct = int((probabilities.argmax(axis=1) == labels).sum())
        recorded = round(float(block["accuracy"]) * len(labels))
        if abs(correct - recorded) > TOLERANCE_IMAGES:
            raise DataFormatError(
                f"{where}: its outputs ({tta} TTA) get {correct} of {len(labels)} PrivateTest images right, the "
                f"results file records {recorded}: these are not the outputs of the checkpoint it scored.")
        found[tta] = correct / len(labels)
    return found


def write_outputs(path: Path | str, outputs: Mapping[str, Mapping[str, np.ndarray]],
                  labels: Mapping[str, np.ndarray]) -> Path:
    """Write ``outputs`` (:func:`compute_outputs`) as float16 with each split's :func:`labels_digest`, atomically
    (a partial file is never left under the final name)."""
    path = Path(path)
    arrays = {f"{split}/{tta}": np.asarray(values, dtype=np.float16)
              for split, by_tta in outputs.items() for tta, values in by_tta.items()}
    meta = {"splits": sorted(outputs), "tta": sorted({tta for by_tta in outputs.values() for tta in by_tta}),
            "labels_sha256": {split: labels_digest(labels[split]) for split in outputs}}
    arrays["meta"] = np.frombuffer(json.dumps(meta).encode(), dtype=np.uint8)
    temporary = path.with_name(path.name + ".partial")
    with temporary.open("wb") as handle:
        np.savez_compressed(handle, **arrays)
    temporary.replace(path)
    return path


def read_outputs(path: Path | str, tta: str, labels: Mapping[str, np.ndarray] | None = None) -> dict[str, np.ndarray]:
    """``{split: float32 (n, 7)}`` stored at ``path`` for test-time augmentation ``tta``.

    Args:
        labels: when given, each split's labels must have the digest stored with its outputs.

    Raises:
        DataFormatError: the file is missing, unreadable, lacks ``tta`` or a split, or belongs to other labels.
    """
    path = Path(path)
    try:
        with np.load(path, allow_pickle=False) as stored:
            meta = json.loads(bytes(stored["meta"]).decode())
            found = {split: stored[f"{split}/{tta}"].astype(np.float32) for split in meta["splits"]
                     if f"{split}/{tta}" in stored.files}
    except (OSError, KeyError, ValueError, zipfile.BadZipFile) as error:
        raise DataFormatError(
            f"{path}: not a run's stored outputs ({type(error).__name__}: {str(error)[:160]}). Write it again with "
            "`python -m emotion run-outputs --name NAME` from the run folder.") from error
    missing = [split for split in OUTPUT_SPLITS if split not in found]
    if missing:
        raise DataFormatError(f"{path}: no {tta!r} outputs for {', '.join(missing)} (it holds {meta['tta']}).")
    for split, values in (labels or {}).items():
        if split in found and labels_digest(values) != meta["labels_sha256"].get(split):
            raise DataFormatError(f"{path}: its {split} outputs belong to other labels (another order or another "
                                  "copy of FER2013) than the ones given.")
    return found


def stored_run_outputs(results_dir: Path | str, tta: str, labels: Mapping[str, np.ndarray], *,
                       exclude: set[str] | frozenset[str] = frozenset()) -> tuple[dict[str, dict[str, np.ndarray]],
                                                                                  dict[str, dict]]:
    """The stored outputs of every ablation run in ``results_dir`` that has them, as ensemble candidates.

    Returns:
        ``({split: {run: float32 (n, 7)}}, {run: its results document})``; runs named in ``exclude`` are left out.

    Raises:
        DataFormatError: a stored file is unreadable, belongs to other labels, or does not give the PrivateTest accuracy
            its run's results record.
    """
    from emotion.provenance import read_results

    outputs: dict[str, dict[str, np.ndarray]] = {split: {} for split in OUTPUT_SPLITS}
    documents = {}
    for path in sorted(Path(results_dir).glob("03_ablation_*" + OUTPUTS_SUFFIX)):
        results_path = path.with_name(path.name[: -len(OUTPUTS_SUFFIX)] + ".json")
        if not results_path.is_file():
            raise DataFormatError(f"{path}: no results file {results_path.name} beside it; remove the outputs file "
                                  "or restore its run's results.")
        document = read_results(results_path)
        name = document.get("run", results_path.stem.removeprefix("03_ablation_"))
        if name in exclude:
            continue
        stored = read_outputs(path, tta, {split: labels[split] for split in OUTPUT_SPLITS})
        # Outputs left from an earlier run of the same name would not give the accuracy its results record.
        check_against_record({"PrivateTest": {tta: stored["PrivateTest"]}}, labels["PrivateTest"], document,
                             where=str(path))
        for split, values in stored.items():
            outputs[split][name] = values
        documents[name] = document
    return outputs, documents


def checked_outputs(model_path: Path | str, splits: Mapping[str, tuple[np.ndarray, np.ndarray]],
                    document: dict) -> dict[str, dict[str, np.ndarray]]:
    """The outputs (:func:`compute_outputs`) of the checkpoint at ``model_path`` on ``splits``, checked, as they will
    be stored (float16), against the PrivateTest accuracies ``document`` (its results) records.

    Raises:
        ModelFileError: the checkpoint cannot be loaded.
        DataFormatError: the outputs do not reproduce the recorded accuracies.
    """
    import keras

    from emotion.classify.evaluate import load_model

    model = load_model(model_path)
    outputs = compute_outputs(model, splits)
    del model
    keras.backend.clear_session()
    rounded = {split: {tta: values.astype(np.float16) for tta, values in by_tta.items()}
               for split, by_tta in outputs.items()}
    check_against_record(rounded, splits["PrivateTest"][1], document, where=str(model_path))
    return outputs


def write_run_outputs(model_path: Path | str, results_path: Path | str,
                      splits: Mapping[str, tuple[np.ndarray, np.ndarray]]) -> Path:
    """Compute, check (:func:`checked_outputs`) and write the outputs of the checkpoint at ``model_path`` whose
    results are at ``results_path``: for a run released before runs kept their outputs.

    Raises:
        ModelFileError: the checkpoint cannot be loaded.
        DataFormatError: the results file is unreadable, or the outputs do not reproduce its accuracies (nothing is
            written then).
    """
    from emotion.provenance import read_results

    outputs = checked_outputs(model_path, splits, read_results(results_path))
    return write_outputs(outputs_path(results_path), outputs, {split: labels for split, (_, labels) in splits.items()})
