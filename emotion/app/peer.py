"""Side-by-side comparison with the PyPI package `fer` (25.10.3), the tool many people use for this job.

`fer` cannot share the study's environment (it needs the full `tensorflow` distribution, opencv-contrib and torch),
so its side runs in ``.venv-fer`` (``make peer-env``) as a subprocess (``peer/fer_side.py``) on exactly the inputs our
side gets, driven by :mod:`emotion.app.peer_runs`; this module holds the measures, the verdict and the tables:

- classifier alone: every PrivateTest image (48x48 crops, FER2013 labels) through fer's bundled mini-Xception and
  through our released model: accuracy and macro-F1 with 95 % bootstrap intervals, McNemar's test;
- end to end on real photos (WIDER FACE images with at least one face of 64 px or more): faces found, wall time per
  photo and faces per second with the same detector family (Haar and MTCNN; our side also with YuNet, which `fer`
  does not offer), detection recall on the photos' annotated faces at least 32 px tall, how often the two systems
  give the same emotion to the same face (boxes matched at IoU >= 0.5), and each side's fastest configuration against
  the other's (:data:`PIPELINE_SPEED_GOAL`), run by run: the end-to-end part is repeated, the two sides
  interleaved, and the goal is judged on the worst run.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import numpy as np

from emotion.app.pipeline_prose import PIPELINE_SPEED_GOAL, speed_goal_checks
from emotion.faces.detection_metrics import IOU_THRESHOLD, RECALL_MIN_HEIGHT
from emotion.machine import cpu_cores, other_cores


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
    warm-up, as :func:`emotion.app.peer_runs.time_pass` times it. The choice: the smallest side whose recall is at
    least the full-size recall minus ``tolerance`` (the full size when none is).

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


PIPELINE_STAGES = ("detect", "crop", "classify")
"""The stages of our pipeline whose seconds each photo record carries (:class:`emotion.app.pipeline.StageTimes`)."""


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


def fastest_comparison(ours: dict[str, dict[str, Any]], fer: dict[str, dict[str, Any]], fer_accuracy: float,
                       our_accuracy: float | dict[str, float], p_value: float | dict[str, float],
                       runs: list[dict[str, dict[str, float]]] | None = None) -> dict[str, Any]:
    """Each side's fastest configuration against the other's, run by run, and the goal's verdict
    (:func:`emotion.app.pipeline_prose.speed_goal_checks`, judged on the worst run).

    Args:
        ours, fer: ``{configuration: speed(...) with "recall"}`` of each side (a configuration is a detector, or
            for ours also a detector with a second classifier).
        fer_accuracy: fer's classifier's PrivateTest accuracy from the same comparison.
        our_accuracy: ours: one number for every configuration, or one per configuration (the accuracy check then
            uses the classifier of the fastest one).
        p_value: McNemar's exact p of our classifier against fer's on the same crops, one or one per configuration.
        runs: each run's photos per second, ``[{"ours": {configuration: float}, "fer": {configuration: float}}]``.
            Each side's fastest is the configuration with the highest median over the runs; each run's ratio sets
            ours against fer's fastest *in that run*. Without runs: the one measurement in ``ours`` and ``fer``.

    Returns:
        ``{"ours", "fer", "photos_per_second_ratio" (the median over the runs), "ratio_per_run", "runs",
        "faces_per_second_ratio", "recall", "accuracy", "p_value", "goal", "checks", "met"}``.
    """
    if runs is None:
        runs = [{"ours": {name: entry["photos_per_second"] for name, entry in ours.items()},
                 "fer": {name: entry["photos_per_second"] for name, entry in fer.items()}}]

    def median_speed(side: str, name: str) -> float:
        return float(np.median([run[side][name] for run in runs]))

    our_best = max(ours, key=lambda name: median_speed("ours", name))
    fer_best = max(fer, key=lambda name: median_speed("fer", name))
    ratios = [run["ours"][our_best] / max(run["fer"].values()) if max(run["fer"].values()) > 0 else None
              for run in runs]
    accuracy = {"ours": our_accuracy[our_best] if isinstance(our_accuracy, dict) else our_accuracy,
                "fer": fer_accuracy}
    p_value = p_value[our_best] if isinstance(p_value, dict) else p_value
    recall = {"ours": ours[our_best]["recall"]["recall"], "fer": fer[fer_best]["recall"]["recall"]}
    checks = speed_goal_checks(None if None in ratios else min(ratios), recall, accuracy, p_value)
    return {"ours": our_best, "fer": fer_best,
            "photos_per_second_ratio": None if None in ratios else float(np.median(ratios)),
            "ratio_per_run": ratios, "runs": len(runs),
            "faces_per_second_ratio": (ours[our_best]["faces_per_second"] / fer[fer_best]["faces_per_second"]
                                       if fer[fer_best]["faces_per_second"] else None),
            "recall": recall, "accuracy": accuracy, "p_value": p_value, "goal": PIPELINE_SPEED_GOAL,
            "checks": checks, "met": all(checks.values())}


def single_network_configuration(fast: dict[str, Any]) -> str:
    """The configuration name of the ``single_network`` entry of a peer-comparison payload: its detector and model."""
    return f"{fast['detector']} + {Path(fast['model']).stem}"


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


def peer_runs_table(peer: dict[str, Any]):
    """A DataFrame of each run of a ``07_peer_comparison.json`` payload (rows ``run 1`` ...): photos per second of
    every configuration of both sides (columns ``ours, yunet``, ``fer, haar`` ...), the run's fastest-against-fastest
    ratio and, where recorded, the cores other work kept busy during the run and the machine's reference speed around
    it (:func:`emotion.machine.reference_speed`, mean of before and after), so a slow run can be told from a slow
    machine. A file written before runs were repeated has one row, ``the only run``, from its one measurement."""
    import pandas as pd

    runs = peer.get("runs")
    fastest = peer.get("fastest") or {}
    if not runs:
        entries = {**{f"{side}, {family}": entry[side]["photos_per_second"]
                      for family, entry in peer["end_to_end"].items() for side in ("ours", "fer")},
                   **{f"ours, {family}": entry["photos_per_second"]
                      for family, entry in peer.get("ours_only", {}).items()}}
        if peer.get("single_network"):
            entries[f"ours, {single_network_configuration(peer['single_network'])}"] = (
                peer["single_network"]["end_to_end"]["photos_per_second"])
        rows = {"the only run": {**entries, "ratio": fastest.get("photos_per_second_ratio")}}
    else:
        ratios = fastest.get("ratio_per_run") or [None] * len(runs)
        rows = {f"run {index}": {**{f"{side}, {name}": value["photos_per_second"]
                                    for side in ("ours", "fer") for name, value in run[side].items()},
                                 "ratio": ratio,
                                 **({"other cores busy": run["conditions"]["other_cores"]}
                                    if run.get("conditions") else {}),
                                 **({"machine speed (M el/s)": sum(run["conditions"]["machine_speed"].values()) / 2}
                                    if (run.get("conditions") or {}).get("machine_speed") else {})}
                for index, (run, ratio) in enumerate(zip(runs, ratios), start=1)}
    return pd.DataFrame(rows).T.astype(float).round(2)


def run_conditions(busy_before: float | None, busy_after: float | None, own_cpu_seconds: float,
                   wall_seconds: float) -> dict[str, Any]:
    """What else the machine did during a run: ``other_cores`` (:func:`emotion.machine.other_cores`; the run's
    own CPU time includes its subprocesses), the run's wall seconds and the machine's cores."""
    return {"other_cores": other_cores(busy_before, busy_after, own_cpu_seconds, wall_seconds),
            "wall_seconds": wall_seconds, "cpu_cores": cpu_cores()}
