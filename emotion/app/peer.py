"""Side-by-side comparison with the PyPI package `fer` (25.10.3), the tool many people use for this job.

`fer` cannot share the study's environment (it needs the full `tensorflow` distribution, opencv-contrib and torch),
so its side runs in ``.venv-fer`` (``make peer-env``) as a subprocess (``peer/fer_side.py``) on exactly the inputs our
side gets, in the same run:

- classifier alone: every PrivateTest image (48x48 crops, FER2013 labels) through fer's bundled mini-Xception and
  through our released model: accuracy and macro-F1 with 95 % bootstrap intervals, McNemar's test;
- end to end on real photos (WIDER FACE images with at least one face of 64 px or more): faces found, wall time per
  photo and faces per second with the same detector family (Haar and MTCNN; our side also with YuNet, which `fer`
  does not offer), detection recall on the photos' annotated faces at least 32 px tall, how often the two systems
  give the same emotion to the same face (boxes matched at IoU >= 0.5), and each side's fastest configuration against
  the other's (:data:`PIPELINE_SPEED_GOAL`).
"""

from __future__ import annotations

import json
import subprocess
import time
from pathlib import Path
from typing import Any

import numpy as np

from emotion import CLASS_NAMES
from emotion.errors import DataMissingError
from emotion.faces.detection_metrics import IOU_THRESHOLD, RECALL_MIN_HEIGHT
from emotion.machine import cpu_cores, other_cores
from emotion.paths import PROJECT_ROOT

FER_PYTHON = PROJECT_ROOT / ".venv-fer" / "bin" / "python"
FER_SCRIPT = PROJECT_ROOT / "peer" / "fer_side.py"


PEER_PASSES = 3
"""Both sides time every photo in this many passes over the photos and keep each photo's median: one pass on a
shared virtual machine moved our photos per second by a quarter between runs."""

PIPELINE_SPEED_GOAL = 5.0
"""Our fastest end-to-end configuration should process photos at least this many times faster than fer's fastest,
with detection recall (faces >= :data:`RECALL_MIN_HEIGHT` px) at least fer's and a more accurate classifier."""


def select_photos(folder: Path, count: int = 50, min_face_height: int = 64) -> list[Path]:
    """The first ``count`` images of ``folder/images.csv`` order holding a face at least ``min_face_height`` px
    tall (deterministic; the photos a user would run an emotion tool on)."""
    from emotion.data.wider_face import load_annotations, load_image_table

    annotations = load_annotations(folder)
    tall = set(annotations.loc[annotations["h"] >= min_face_height, "image"])
    names = [name for name in load_image_table(folder)["image"] if name in tall][:count]
    return [folder / "images" / name for name in names]


DETECTION_SIDES = (None, 800, 640, 512, 416, 320)
"""The longest sides :func:`tune_detection_side` tries (None: each photo's own size)."""
RECALL_TOLERANCE = 0.05
"""How much detection recall (a fraction of the annotated faces) :func:`tune_detection_side` may give up against the
full-size detector to buy speed."""


def tuning_photos(folder: Path, count: int = 50, skip: int = 50, min_face_height: int = 64) -> list[Path]:
    """The ``count`` photos after the first ``skip`` of :func:`select_photos`' order: photos the peer comparison
    (which takes the first ``skip``) never sees, for tuning the pipeline's settings."""
    return select_photos(folder, count=skip + count, min_face_height=min_face_height)[skip:]


def tune_detection_side(model, photos: list[Path], annotations, detector: str = "yunet",
                        sides=DETECTION_SIDES, tolerance: float = RECALL_TOLERANCE) -> dict[str, Any]:
    """Time the pipeline and measure its detection recall at each longest side of ``sides``, and choose one.

    Each side runs the whole pipeline (detect, crop, classify; the detector with the pipeline's other options,
    :data:`emotion.app.pipeline.PIPELINE_DETECTOR_OPTIONS`) on every photo once, one photo at a time after a
    warm-up, as :func:`run_our_side` times it. The choice: the smallest side whose recall is at least the full-size
    recall minus ``tolerance`` (the full size when none is).

    Returns:
        ``{"detector", "rows": [{"max_side", **speed, "recall"}], "full_size_recall", "tolerance", "chosen_side",
        "speedup_vs_full_size", "rule"}``.

    Raises:
        ConfigurationError: ``sides`` lacks None (the full-size reference).
    """
    from emotion.app.pipeline import PIPELINE_DETECTOR_OPTIONS, EmotionPipeline
    from emotion.data.image_files import read_image_file
    from emotion.errors import ConfigurationError
    from emotion.faces.detectors import create_detector

    if None not in sides:
        raise ConfigurationError("tune_detection_side needs None (full size) among the sides, as the reference.")
    images = [read_image_file(path) for path in photos]
    rows = []
    for side in sides:
        options = {key: value for key, value in PIPELINE_DETECTOR_OPTIONS.get(detector, {}).items()
                   if key != "max_side"}
        pipeline = EmotionPipeline(create_detector(detector, max_side=side, **options), model)
        pipeline.predict(images[0])
        records = []
        for path, image in zip(photos, images):
            started = time.perf_counter()
            faces = pipeline.predict(image)
            records.append({"photo": str(path), "seconds": time.perf_counter() - started,
                            "faces": [{"box": list(face.box)} for face in faces]})
        rows.append({"max_side": side, **speed(records), "recall": detection_recall(records, annotations)["recall"]})
    full = next(row for row in rows if row["max_side"] is None)
    keeps = [row for row in rows if row["recall"] >= full["recall"] - tolerance and row["max_side"] is not None]
    chosen = min(keeps, key=lambda row: row["max_side"]) if keeps else full
    return {"detector": detector, "options": options, "photos": [path.name for path in photos], "rows": rows,
            "full_size_recall": full["recall"], "tolerance": tolerance, "chosen_side": chosen["max_side"],
            "speedup_vs_full_size": chosen["photos_per_second"] / full["photos_per_second"],
            "rule": (f"the smallest longest side whose detection recall (annotated faces >= {RECALL_MIN_HEIGHT} px, "
                     f"IoU >= {IOU_THRESHOLD}) is at least the full-size recall minus {tolerance}; photos "
                     "disjoint from the peer comparison's")}


def run_fer_side(crops: np.ndarray, photos: list[Path], detectors: list[str], work_dir: Path,
                 fer_python: Path = FER_PYTHON, timeout: float = 3600,
                 passes: int = PEER_PASSES) -> tuple[np.ndarray, dict[str, Any]]:
    """Run ``peer/fer_side.py`` in the fer environment; returns (probabilities (n, 7), its report).

    Raises:
        DataMissingError: ``.venv-fer`` does not exist (the message says ``make peer-env``), or the subprocess
            failed (its last output lines are in the message).
    """
    if not Path(fer_python).is_file():
        raise DataMissingError(f"{fer_python} not found: the fer environment is made by `make peer-env` "
                               "(several GB; kept out of `make test`).")
    work_dir.mkdir(parents=True, exist_ok=True)
    np.savez(work_dir / "faces.npz", images=crops)
    job = {"faces": str(work_dir / "faces.npz"), "photos": [str(path) for path in photos], "detectors": detectors,
           "passes": passes,
           "output": str(work_dir / "fer_output.npz"), "report": str(work_dir / "fer_report.json")}
    (work_dir / "job.json").write_text(json.dumps(job))
    completed = subprocess.run([str(fer_python), str(FER_SCRIPT), str(work_dir / "job.json")], capture_output=True,
                               text=True, timeout=timeout)
    if completed.returncode != 0:
        raise DataMissingError(f"the fer side failed (exit {completed.returncode}):\n{completed.stderr[-2000:]}")
    probabilities = np.load(job["output"])["probabilities"]
    return probabilities, json.loads(Path(job["report"]).read_text())


PIPELINE_STAGES = ("detect", "crop", "classify")
"""The stages of our pipeline whose seconds each photo record carries (:class:`emotion.app.pipeline.StageTimes`)."""


def run_our_side(model, photos: list[Path], detectors: list[str],
                 passes: int = PEER_PASSES) -> dict[str, list[dict[str, Any]]]:
    """Our pipeline on each photo with each detector, one photo at a time (as fer is timed), after a warm-up, in
    ``passes`` passes over the photos. Each record has the photo, its median wall seconds over the passes, its faces
    (first pass; the pipeline is deterministic) and the median seconds of each of :data:`PIPELINE_STAGES`."""
    from dataclasses import replace

    from emotion.app.pipeline import EmotionPipeline
    from emotion.data.image_files import read_image_file

    records: dict[str, list[dict[str, Any]]] = {}
    for detector in detectors:
        pipeline = EmotionPipeline(detector, model)
        pipeline.predict(read_image_file(photos[0]))
        timed: list[list[tuple[float, dict[str, float]]]] = [[] for _ in photos]
        found: list[list] = []
        for pass_number in range(passes):
            for index, path in enumerate(photos):
                image = read_image_file(path)
                before = replace(pipeline.times)
                started = time.perf_counter()
                faces = pipeline.predict(image)
                seconds = time.perf_counter() - started
                timed[index].append((seconds, {stage: getattr(pipeline.times, stage) - getattr(before, stage)
                                               for stage in PIPELINE_STAGES}))
                if pass_number == 0:
                    found.append([{"box": list(face.box), "emotion": face.emotion} for face in faces])
        records[detector] = [
            {"photo": str(path), "seconds": float(np.median([seconds for seconds, _ in runs])),
             "stages": {stage: float(np.median([stages[stage] for _, stages in runs])) for stage in PIPELINE_STAGES},
             "faces": faces}
            for path, runs, faces in zip(photos, timed, found)]
    return records


def agreement(ours: list[dict[str, Any]], theirs: list[dict[str, Any]], threshold: float = 0.5) -> dict[str, Any]:
    """Match faces of the same photo by IoU (greedy, best first) and count equal emotions among matched pairs."""
    from emotion.faces.detection_metrics import box_iou

    matched = same = 0
    for mine, other in zip(ours, theirs):
        if not mine["faces"] or not other["faces"]:
            continue
        iou = box_iou(np.array([face["box"] for face in mine["faces"]]),
                      np.array([face["box"] for face in other["faces"]]))
        while iou.size and iou.max() >= threshold:
            row, column = np.unravel_index(iou.argmax(), iou.shape)
            matched += 1
            same += mine["faces"][row]["emotion"] == other["faces"][column]["emotion"]
            iou[row, :] = -1
            iou[:, column] = -1
    return {"matched_faces": matched, "same_emotion": same,
            "agreement": same / matched if matched else None, "iou_threshold": threshold}


def speed(records: list[dict[str, Any]]) -> dict[str, Any]:
    """Faces found, ms per photo (median, p90), photos and faces per second over a list of photo records, and the
    mean ms per photo of each pipeline stage where every record carries ``stages`` (our side; fer's does not)."""
    seconds = np.array([record["seconds"] for record in records])
    faces = int(sum(len(record["faces"]) for record in records))
    total = float(seconds.sum())
    summary = {"photos": len(records), "faces": faces, "ms_per_photo_median": float(np.median(seconds) * 1000),
               "ms_per_photo_p90": float(np.percentile(seconds, 90) * 1000), "total_seconds": total,
               "photos_per_second": len(records) / total if total > 0 else 0.0,
               "faces_per_second": faces / total if total > 0 else 0.0}
    if records and all("stages" in record for record in records):
        summary["ms_per_photo_by_stage"] = {
            stage: float(np.mean([record["stages"][stage] for record in records]) * 1000)
            for stage in records[0]["stages"]}
    return summary


def detection_recall(records: list[dict[str, Any]], annotations, min_height: int = RECALL_MIN_HEIGHT,
                     threshold: float = 0.5) -> dict[str, Any]:
    """Detection recall of one side's photo records (``photo`` path whose file name is the annotation's ``image``,
    ``faces`` with ``box`` x, y, w, h): :func:`~emotion.analysis.error_analysis.photo_detection_recall`, the rule
    notebook 07 uses, so both report the same quantity."""
    from emotion.analysis.error_analysis import photo_detection_recall

    return photo_detection_recall([Path(record["photo"]).name for record in records],
                                  [np.array([face["box"] for face in record["faces"]], dtype=float).reshape(-1, 4)
                                   for record in records], annotations, min_height=min_height,
                                  iou_threshold=threshold)


def fastest_comparison(ours: dict[str, dict[str, Any]], fer: dict[str, dict[str, Any]],
                       fer_accuracy: float, our_accuracy: float | dict[str, float]) -> dict[str, Any]:
    """Each side's fastest configuration (most photos per second) against the other's, and the goal's verdict.

    Args:
        ours, fer: ``{configuration: speed(...) with "recall"}`` of each side (a configuration is a detector, or
            for ours also a detector with a second classifier).
        fer_accuracy: fer's classifier's PrivateTest accuracy from the same run.
        our_accuracy: ours, from the same run: one number for every configuration, or one per configuration (the
            accuracy check then uses the classifier of the fastest one).
    """
    our_best = max(ours, key=lambda name: ours[name]["photos_per_second"])
    fer_best = max(fer, key=lambda name: fer[name]["photos_per_second"])
    accuracy = our_accuracy[our_best] if isinstance(our_accuracy, dict) else our_accuracy
    ratio = (ours[our_best]["photos_per_second"] / fer[fer_best]["photos_per_second"]
             if fer[fer_best]["photos_per_second"] else None)
    our_recall, fer_recall = ours[our_best]["recall"]["recall"], fer[fer_best]["recall"]["recall"]
    checks = {"speed": ratio is not None and ratio >= PIPELINE_SPEED_GOAL,
              "recall": our_recall is not None and fer_recall is not None and our_recall >= fer_recall,
              "accuracy": accuracy > fer_accuracy}
    return {"ours": our_best, "fer": fer_best, "photos_per_second_ratio": ratio,
            "faces_per_second_ratio": (ours[our_best]["faces_per_second"] / fer[fer_best]["faces_per_second"]
                                       if fer[fer_best]["faces_per_second"] else None),
            "recall": {"ours": our_recall, "fer": fer_recall}, "accuracy": {"ours": accuracy, "fer": fer_accuracy},
            "goal": PIPELINE_SPEED_GOAL, "checks": checks, "met": all(checks.values())}


def single_network_configuration(fast: dict[str, Any]) -> str:
    """The configuration name of the ``single_network`` entry of a peer-comparison payload: its detector and model."""
    return f"{fast['detector']} + {Path(fast['model']).stem}"


def compare(model_path: Path, data, photos: list[Path], detectors: list[str], work_dir: Path,
            fer_python: Path = FER_PYTHON, seed: int = 0, our_detectors: list[str] | None = None,
            annotations=None, tta: str = "none", passes: int = PEER_PASSES,
            single_model_path: Path | None = None) -> dict[str, Any]:
    """The whole comparison; returns the payload of ``results/07_peer_comparison.json``.

    Args:
        detectors: the detector families both sides run (``haar``, ``mtcnn``: what fer offers).
        our_detectors: what our side runs (default ``detectors`` plus ``yunet`` when its file is present).
        annotations: the photos' annotation table, for detection recall (default: none, recall not measured).
        tta: test-time augmentation of our classifier on the crops (:data:`emotion.classify.evaluate.TTA_MODES`;
            recorded; the end-to-end pipeline classifies each face once, without it).
        single_model_path: a single network to run as well when ``model_path`` is an ensemble (which classifies
            each face once per member): scored on the same crops and timed end to end with our fastest detector,
            under ``single_network``; the fastest comparison then counts it as one more configuration of ours,
            with its own accuracy. Ignored when it is ``model_path`` itself.
    """
    from emotion.classify.evaluate import accuracy, load_model, macro_f1, predict_probabilities, tta_mode
    from emotion.classify.significance import bootstrap_interval, mcnemar
    from emotion.faces.detectors import available_detectors

    crops, labels = data.split("PrivateTest")
    fer_probabilities, fer_report = run_fer_side(crops, photos, detectors, work_dir, fer_python, passes=passes)
    model = load_model(model_path)
    started = time.perf_counter()
    our_probabilities = predict_probabilities(model, crops, tta=tta)
    our_classify_seconds = time.perf_counter() - started
    ours_pred, fer_pred = our_probabilities.argmax(axis=1), fer_probabilities.argmax(axis=1)
    classifier = {
        name: {"accuracy": bootstrap_interval(labels, predictions, accuracy, seed=seed),
               "macro_f1": bootstrap_interval(labels, predictions, macro_f1, seed=seed)}
        for name, predictions in (("ours", ours_pred), ("fer", fer_pred))
    }
    classifier["ours"]["seconds"] = our_classify_seconds
    classifier["ours"]["tta"] = tta_mode(tta)
    classifier["fer"]["seconds"] = fer_report["classifier"]["seconds"]
    classifier["mcnemar_ours_vs_fer"] = mcnemar(labels, ours_pred, fer_pred)
    classifier["same_prediction"] = float(np.mean(ours_pred == fer_pred))
    if our_detectors is None:
        our_detectors = list(detectors) + [name for name in available_detectors(["yunet"])[0]
                                           if name not in detectors]
    our_records = run_our_side(model, photos, our_detectors, passes=passes)

    def measured(records):
        summary = speed(records)
        summary["recall"] = detection_recall(records, annotations) if annotations is not None else None
        return summary

    ours = {name: measured(our_records[name]) for name in our_detectors}
    theirs = {name: measured(fer_report["photos"][name]) for name in detectors}
    end_to_end = {}
    for detector in detectors:
        if detector not in ours:
            continue
        mine, other = ours[detector], theirs[detector]
        end_to_end[detector] = {"ours": mine, "fer": other,
                                "faces_per_second_ratio": (mine["faces_per_second"] / other["faces_per_second"]
                                                           if other["faces_per_second"] else None),
                                "agreement": agreement(our_records[detector], fer_report["photos"][detector])}
    payload_extra = {"ours_only": {name: ours[name] for name in our_detectors if name not in detectors}}
    configurations = dict(ours)
    accuracies = {name: classifier["ours"]["accuracy"]["estimate"] for name in ours}
    if single_model_path is not None and Path(single_model_path).resolve() != Path(model_path).resolve():
        single_model = load_model(single_model_path)
        single_pred = predict_probabilities(single_model, crops, tta=tta).argmax(axis=1)
        fastest_detector = max(ours, key=lambda name: ours[name]["photos_per_second"])
        single = {"model": Path(single_model_path).name, "detector": fastest_detector,
                  "accuracy": bootstrap_interval(labels, single_pred, accuracy, seed=seed),
                  "macro_f1": bootstrap_interval(labels, single_pred, macro_f1, seed=seed),
                  "mcnemar_vs_fer": mcnemar(labels, single_pred, fer_pred),
                  "end_to_end": measured(run_our_side(single_model, photos, [fastest_detector],
                                                      passes=passes)[fastest_detector])}
        payload_extra["single_network"] = single
        configurations[single_network_configuration(single)] = single["end_to_end"]
        accuracies[single_network_configuration(single)] = single["accuracy"]["estimate"]
    if annotations is not None:
        payload_extra["fastest"] = fastest_comparison(configurations, theirs, classifier["fer"]["accuracy"]["estimate"],
                                                      accuracies)
    return {
        "protocol": (f"classifier: PrivateTest (n={len(labels):,}) 48x48 crops, FER2013 labels, each "
                     f"model's own preprocessing (ours with test-time augmentation {tta_mode(tta)!r}); our "
                     "checkpoint was chosen on PublicTest, fer's bundled model was trained elsewhere (its "
                     "selection is unknown). End to end: the same photos, one at a time, each timed in "
                     f"{passes} passes over the photos with its median kept, on "
                     f"the same {cpu_cores()}-core CPU, sequentially in one run; detection recall counts annotated "
                     f"faces at least {RECALL_MIN_HEIGHT} px tall covered at IoU >= {IOU_THRESHOLD}."),
        "model": Path(model_path).name,
        "photos": [path.name for path in photos],
        "classes": list(CLASS_NAMES),
        "classifier": classifier,
        "end_to_end": end_to_end,
        **payload_extra,
        "fer_versions": fer_report["versions"],
    }


def peer_table(peer: dict[str, Any]):
    """A DataFrame (rows ``ours`` and ``fer``) of a ``07_peer_comparison.json`` payload: PrivateTest accuracy with
    its 95 % interval, macro-F1, and faces per second and ms per photo with each detector family."""
    import pandas as pd

    classifier = peer["classifier"]
    rows = {}
    for name in ("ours", "fer"):
        accuracy_interval = classifier[name]["accuracy"]
        rows[name] = {"PrivateTest accuracy": round(accuracy_interval["estimate"], 4),
                      "95 % interval": f"{accuracy_interval['low']:.3f}-{accuracy_interval['high']:.3f}",
                      "macro-F1": round(classifier[name]["macro_f1"]["estimate"], 4)}
        for family, entry in peer["end_to_end"].items():
            rows[name][f"faces/s ({family})"] = round(entry[name]["faces_per_second"], 2)
            rows[name][f"ms/photo median ({family})"] = round(entry[name]["ms_per_photo_median"], 1)
    single = peer.get("single_network")
    if single:
        rows[f"ours, single network ({Path(single['model']).stem})"] = {
            "PrivateTest accuracy": round(single["accuracy"]["estimate"], 4),
            "95 % interval": f"{single['accuracy']['low']:.3f}-{single['accuracy']['high']:.3f}",
            "macro-F1": round(single["macro_f1"]["estimate"], 4)}
    return pd.DataFrame(rows).T


def detector_speed_table(peer: dict[str, Any]):
    """A DataFrame of each end-to-end configuration of a ``07_peer_comparison.json`` payload (rows ``ours, haar``,
    ``fer, mtcnn``, ...): photos and faces per second, median ms per photo, the mean ms per photo of each of our
    pipeline's stages (blank for fer, which does not report them) and detection recall."""
    import pandas as pd

    entries = {**{(side, family): entry[side] for family, entry in peer["end_to_end"].items()
                  for side in ("ours", "fer")},
               **{("ours", family): entry for family, entry in peer.get("ours_only", {}).items()}}
    if peer.get("single_network"):
        entries[("ours", single_network_configuration(peer["single_network"]))] = peer["single_network"]["end_to_end"]
    rows = {}
    for (side, family), entry in sorted(entries.items(), key=lambda item: -item[1]["photos_per_second"]):
        stages = entry.get("ms_per_photo_by_stage", {})
        rows[f"{side}, {family}"] = {
            "photos/s": round(entry["photos_per_second"], 2), "faces/s": round(entry["faces_per_second"], 2),
            "ms/photo median": round(entry["ms_per_photo_median"], 1),
            **{f"ms/photo {stage}": round(stages[stage], 1) if stage in stages else None for stage in PIPELINE_STAGES},
            f"recall (faces >= {RECALL_MIN_HEIGHT} px)": (round(entry["recall"]["recall"], 3)
                                                          if entry.get("recall") else None)}
    return pd.DataFrame(rows).T


def run_conditions(busy_before: float | None, busy_after: float | None, own_cpu_seconds: float,
                   wall_seconds: float) -> dict[str, Any]:
    """What else the machine did during a run: ``other_cores`` (:func:`emotion.machine.other_cores`; the run's
    own CPU time includes its subprocesses), the run's wall seconds and the machine's cores."""
    return {"other_cores": other_cores(busy_before, busy_after, own_cpu_seconds, wall_seconds),
            "wall_seconds": wall_seconds, "cpu_cores": cpu_cores()}
