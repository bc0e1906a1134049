"""The peer comparison run: `fer` in its own environment and our pipeline, the end-to-end part repeated.

The classifier part (every PrivateTest crop through both classifiers) runs once. The end-to-end part runs
:data:`PEER_RUNS` times, the two sides interleaved (fer's pass over the photos with each of its detectors, then ours
with each of our configurations; in the next run ours first, then fer's: :func:`side_order`), so that a slow spell of
the machine falls on both sides; each
run's photos per second of every configuration and its fastest-against-fastest ratio are kept, and the speed goal is
judged on the worst run (:func:`emotion.app.peer.fastest_comparison`). fer's side is one long-lived subprocess
(:class:`FerProcess`, ``peer/fer_side.py`` in ``.venv-fer``), so fer, TensorFlow and torch load once.
"""

from __future__ import annotations

import json
import select
import subprocess
import time
from pathlib import Path
from typing import Any

import numpy as np

from emotion import CLASS_NAMES
from emotion.app.commands.arguments import PEER_RUNS
from emotion.app.peer import (
    PIPELINE_STAGES,
    agreement,
    detection_recall,
    fastest_comparison,
    single_network_configuration,
    speed,
)
from emotion.errors import DataMissingError
from emotion.faces.detection_metrics import IOU_THRESHOLD, RECALL_MIN_HEIGHT
from emotion.machine import busy_cpu_seconds, cpu_cores, other_cores, own_cpu_seconds, reference_speed
from emotion.paths import PROJECT_ROOT

FER_PYTHON = PROJECT_ROOT / ".venv-fer" / "bin" / "python"
FER_SCRIPT = PROJECT_ROOT / "peer" / "fer_side.py"


class FerProcess:
    """``peer/fer_side.py`` in the fer environment, kept alive across requests (see its docstring for the protocol).

    Args:
        work_dir: where its log (``fer_side.log``, its stderr) and exchanged files go.
        fer_python: the fer environment's interpreter.
        timeout: seconds to wait for one answer.

    Raises:
        DataMissingError: ``.venv-fer`` does not exist (the message says ``make peer-env``); on a request, the
            subprocess stopped, took longer than ``timeout`` or answered an error (the message has its last log
            lines or its error).
    """

    def __init__(self, work_dir: Path, fer_python: Path = FER_PYTHON, timeout: float = 1800) -> None:
        if not Path(fer_python).is_file():
            raise DataMissingError(f"{fer_python} not found: the fer environment is made by `make peer-env` "
                                   "(several GB; kept out of `make test`).")
        self.work_dir, self.timeout = Path(work_dir), timeout
        self.work_dir.mkdir(parents=True, exist_ok=True)
        self.log_path = self.work_dir / "fer_side.log"
        self._log = self.log_path.open("w")
        self.process = subprocess.Popen([str(fer_python), str(FER_SCRIPT)], stdin=subprocess.PIPE,
                                        stdout=subprocess.PIPE, stderr=self._log, text=True)

    def request(self, **request: Any) -> dict[str, Any]:
        """Send one request and return its answer."""
        try:
            self.process.stdin.write(json.dumps(request) + "\n")
            self.process.stdin.flush()
        except BrokenPipeError:
            pass  # reported below, with the log, when no answer comes
        ready, _, _ = select.select([self.process.stdout], [], [], self.timeout)
        line = self.process.stdout.readline() if ready else ""
        if not line:
            if ready:
                self.process.wait(timeout=30)
            state = (f"stopped (exit {self.process.poll()})" if ready or self.process.poll() is not None
                     else f"gave no answer in {self.timeout:g} s")
            raise DataMissingError(f"the fer side {state} on request {sorted(request)}; its log "
                                   f"{self.log_path} ends:\n{self._log_tail()}")
        answer = json.loads(line)
        if "error" in answer:
            raise DataMissingError(f"the fer side failed on request {sorted(request)}: {answer['error']} (log: "
                                   f"{self.log_path})")
        return answer

    def classify(self, crops: np.ndarray) -> tuple[np.ndarray, dict[str, Any]]:
        """fer's classifier on uint8 (n, 48, 48) crops: (probabilities float32 (n, 7), ``{"images", "seconds",
        "input"}``)."""
        faces, output = self.work_dir / "faces.npz", self.work_dir / "fer_output.npz"
        np.savez(faces, images=crops)
        report = self.request(classify=str(faces), output=str(output))
        return np.load(output)["probabilities"], report

    def detect(self, detector: str, photos: list[Path]) -> list[dict[str, Any]]:
        """One pass of fer end to end with ``detector`` over ``photos``: a record per photo (photo, seconds,
        faces)."""
        return self.request(detect=detector, photos=[str(path) for path in photos])["photos"]

    def cpu_seconds(self) -> float:
        """CPU-seconds the subprocess has used so far (``/proc/PID/stat``; 0.0 where that cannot be read), which
        this process's own CPU time does not count while it runs."""
        return process_cpu_seconds(self.process.pid)

    def close(self) -> None:
        """End the subprocess (end of its input; killed if it does not exit within a minute)."""
        if self.process.stdin and not self.process.stdin.closed:
            self.process.stdin.close()
        try:
            self.process.wait(timeout=60)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
        self._log.close()

    def _log_tail(self, characters: int = 2000) -> str:
        self._log.flush()
        return self.log_path.read_text(errors="replace")[-characters:]

    def __enter__(self) -> FerProcess:
        return self

    def __exit__(self, *exc_info) -> None:
        self.close()


def process_cpu_seconds(pid: int) -> float:
    """User + system CPU-seconds of process ``pid`` (``/proc/PID/stat`` fields 14 and 15); 0.0 where it cannot be
    read (no /proc, or the process is gone)."""
    import os

    try:
        # The command name (field 2) may hold spaces; the fields after its closing parenthesis are fixed.
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except (OSError, IndexError):
        return 0.0
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


class RunConditions:
    """What else the machine did during one run: start it before the run, :meth:`stop` after; ``other_cores`` counts
    the cores other processes kept busy (:func:`emotion.machine.other_cores`), with this process's and fer's
    subprocess's CPU time taken out; ``machine_speed`` is :func:`emotion.machine.reference_speed` taken just before and
    just after the run (million elements per second, a fixed single-threaded workload), so that a slow run can be told
    from a machine that was slower then."""

    def __init__(self, fer_side: FerProcess) -> None:
        self.fer_side = fer_side
        self.speed_before = reference_speed()
        self.busy, self.own = busy_cpu_seconds(), own_cpu_seconds() + fer_side.cpu_seconds()
        self.started = time.perf_counter()

    def stop(self) -> dict[str, Any]:
        """``{"other_cores", "wall_seconds", "machine_speed": {"before", "after"}}`` of the run."""
        wall = time.perf_counter() - self.started
        own = own_cpu_seconds() + self.fer_side.cpu_seconds() - self.own
        busy = busy_cpu_seconds()
        return {"other_cores": other_cores(self.busy, busy, own, wall), "wall_seconds": wall,
                "machine_speed": {"before": self.speed_before, "after": reference_speed()}}


def time_pass(pipeline, photos: list[Path]) -> list[dict[str, Any]]:
    """One pass of our pipeline over ``photos``, one photo at a time (as fer is timed; reading the file is not
    timed): a record per photo with its wall seconds, the seconds of each of :data:`PIPELINE_STAGES` and its
    faces (box, emotion)."""
    from dataclasses import replace

    from emotion.data.image_files import read_image_file

    records = []
    for path in photos:
        image = read_image_file(path)
        before = replace(pipeline.times)
        started = time.perf_counter()
        faces = pipeline.predict(image)
        seconds = time.perf_counter() - started
        records.append({"photo": str(path), "seconds": seconds,
                        "stages": {stage: getattr(pipeline.times, stage) - getattr(before, stage)
                                   for stage in PIPELINE_STAGES},
                        "faces": [{"box": list(face.box), "emotion": face.emotion} for face in faces]})
    return records


def pooled_records(runs: list[list[dict[str, Any]]]) -> list[dict[str, Any]]:
    """One record per photo from the same photos' records of several passes: the median seconds (and median seconds
    of each stage, where records carry ``stages``) and the first pass's faces (both pipelines are deterministic)."""
    pooled = []
    for records in zip(*runs):
        record = {**records[0], "seconds": float(np.median([item["seconds"] for item in records]))}
        if "stages" in records[0]:
            record["stages"] = {stage: float(np.median([item["stages"][stage] for item in records]))
                                for stage in records[0]["stages"]}
        pooled.append(record)
    return pooled


def run_summary(records: list[dict[str, Any]]) -> dict[str, Any]:
    """What a run keeps of one configuration's pass: photos per second and each photo's seconds (and, for ours,
    each photo's detection seconds), to 0.1 ms."""
    summary = {"photos_per_second": speed(records)["photos_per_second"],
               "seconds": [round(record["seconds"], 4) for record in records]}
    if records and "stages" in records[0]:
        summary["detect_seconds"] = [round(record["stages"]["detect"], 4) for record in records]
    return summary


def side_order(run: int) -> tuple[str, str]:
    """Which side passes first in run ``run`` (from 0): fer in even runs, ours in odd ones, so that a machine that
    warms up or slows down over the comparison does not always favour the side that runs second."""
    return ("fer", "ours") if run % 2 == 0 else ("ours", "fer")


def compare(model_path: Path, data, photos: list[Path], detectors: list[str], work_dir: Path,
            fer_python: Path = FER_PYTHON, seed: int = 0, our_detectors: list[str] | None = None,
            annotations=None, tta: str = "none", runs: int = PEER_RUNS,
            single_model_path: Path | None = None) -> dict[str, Any]:
    """The whole comparison; returns the payload of ``results/07_peer_comparison.json``.

    Args:
        detectors: the detector families both sides run (``haar``, ``mtcnn``: what fer offers).
        our_detectors: what our side runs (default ``detectors`` plus ``yunet`` when its file is present).
        annotations: the photos' annotation table, for detection recall (default: none, recall not measured).
        tta: test-time augmentation of our classifier on the crops (:data:`emotion.classify.evaluate.TTA_MODES`;
            recorded; the end-to-end pipeline classifies each face once, without it).
        runs: how many times the end-to-end part runs, the sides interleaved (each run: one pass of each).
        single_model_path: a single network to run as well when ``model_path`` is an ensemble (which classifies
            each face once per member): scored on the same crops and timed end to end in every run with our fastest
            detector of the first run, under ``single_network``; the fastest comparison counts it as one more
            configuration of ours, with its own accuracy and McNemar p. Ignored when it is ``model_path`` itself.
    """
    from emotion.app.pipeline import EmotionPipeline
    from emotion.classify.evaluate import accuracy, load_model, macro_f1, predict_probabilities, tta_mode
    from emotion.classify.significance import bootstrap_interval, mcnemar
    from emotion.data.image_files import read_image_file
    from emotion.faces.detectors import available_detectors

    crops, labels = data.split("PrivateTest")
    if our_detectors is None:
        our_detectors = list(detectors) + [name for name in available_detectors(["yunet"])[0]
                                           if name not in detectors]
    single_model_path = (None if single_model_path is None
                         or Path(single_model_path).resolve() == Path(model_path).resolve() else single_model_path)
    with FerProcess(work_dir, fer_python) as fer_side:
        fer_probabilities, fer_report = fer_side.classify(crops)
        model = load_model(model_path)
        started = time.perf_counter()
        our_probabilities = predict_probabilities(model, crops, tta=tta)
        our_classify_seconds = time.perf_counter() - started
        ours_pred, fer_pred = our_probabilities.argmax(axis=1), fer_probabilities.argmax(axis=1)
        classifier = {name: {"accuracy": bootstrap_interval(labels, predictions, accuracy, seed=seed),
                             "macro_f1": bootstrap_interval(labels, predictions, macro_f1, seed=seed)}
                      for name, predictions in (("ours", ours_pred), ("fer", fer_pred))}
        classifier["ours"].update(seconds=our_classify_seconds, tta=tta_mode(tta))
        classifier["fer"]["seconds"] = fer_report["seconds"]
        classifier["mcnemar_ours_vs_fer"] = mcnemar(labels, ours_pred, fer_pred)
        classifier["same_prediction"] = float(np.mean(ours_pred == fer_pred))
        single = None
        if single_model_path is not None:
            single_model = load_model(single_model_path)
            single_pred = predict_probabilities(single_model, crops, tta=tta).argmax(axis=1)
            single = {"model": Path(single_model_path).name,
                      "accuracy": bootstrap_interval(labels, single_pred, accuracy, seed=seed),
                      "macro_f1": bootstrap_interval(labels, single_pred, macro_f1, seed=seed),
                      "mcnemar_vs_fer": mcnemar(labels, single_pred, fer_pred)}

        first = read_image_file(photos[0])
        pipelines = {name: EmotionPipeline(name, model) for name in our_detectors}
        for pipeline in pipelines.values():
            pipeline.predict(first)  # loads the weights before timing
        passes: dict[str, dict[str, list]] = {"ours": {name: [] for name in pipelines},
                                              "fer": {name: [] for name in detectors}}
        conditions = []
        for run in range(runs):
            run_conditions = RunConditions(fer_side)
            for side in side_order(run):
                if side == "fer":
                    for detector in detectors:
                        passes["fer"][detector].append(fer_side.detect(detector, photos))
                    continue
                for name, pipeline in list(pipelines.items()):
                    passes["ours"][name].append(time_pass(pipeline, photos))
                if run == 0 and single is not None:
                    single["detector"] = max(our_detectors,
                                             key=lambda name: speed(passes["ours"][name][0])["photos_per_second"])
                    name = single_network_configuration(single)
                    pipelines[name] = EmotionPipeline(single["detector"], single_model)
                    pipelines[name].predict(first)
                    passes["ours"][name] = [time_pass(pipelines[name], photos)]
            conditions.append(run_conditions.stop())
        fer_versions = fer_side.request(versions=True)

    def measured(records):
        summary = speed(records)
        summary["recall"] = detection_recall(records, annotations) if annotations is not None else None
        return summary

    pooled = {side: {name: pooled_records(runs_of) for name, runs_of in configurations.items()}
              for side, configurations in passes.items()}
    ours = {name: measured(records) for name, records in pooled["ours"].items()}
    theirs = {name: measured(records) for name, records in pooled["fer"].items()}
    end_to_end = {detector: {"ours": ours[detector], "fer": theirs[detector],
                             "faces_per_second_ratio": (ours[detector]["faces_per_second"]
                                                        / theirs[detector]["faces_per_second"]
                                                        if theirs[detector]["faces_per_second"] else None),
                             "agreement": agreement(pooled["ours"][detector], pooled["fer"][detector])}
                  for detector in detectors if detector in ours}
    payload_extra: dict[str, Any] = {"ours_only": {name: ours[name] for name in our_detectors if name not in detectors}}
    accuracies = {name: classifier["ours"]["accuracy"]["estimate"] for name in our_detectors}
    p_values = {name: classifier["mcnemar_ours_vs_fer"]["p_value"] for name in our_detectors}
    if single is not None:
        name = single_network_configuration(single)
        single["end_to_end"] = ours[name]
        payload_extra["single_network"] = single
        accuracies[name], p_values[name] = single["accuracy"]["estimate"], single["mcnemar_vs_fer"]["p_value"]
    run_records = [{**{side: {name: run_summary(runs_of[run]) for name, runs_of in passes[side].items()}
                       for side in ("ours", "fer")}, "conditions": conditions[run]} for run in range(runs)]
    if annotations is not None:
        payload_extra["fastest"] = fastest_comparison(
            ours, theirs, classifier["fer"]["accuracy"]["estimate"], accuracies, p_values,
            runs=[{side: {name: entry["photos_per_second"] for name, entry in run[side].items()}
                   for side in ("ours", "fer")} for run in run_records])
    return {
        "protocol": (f"classifier: PrivateTest (n={len(labels):,}) 48x48 crops, FER2013 labels, each "
                     f"model's own preprocessing (ours with test-time augmentation {tta_mode(tta)!r}); our "
                     "checkpoint was chosen on PublicTest, fer's bundled model was trained elsewhere (its "
                     "selection is unknown); once. End to end: the same photos, one at a time, in "
                     f"{runs} runs on the same {cpu_cores()}-core CPU, each run a pass of fer with each of its "
                     "detectors and a pass of ours with each configuration, fer first in odd-numbered runs and ours "
                     "first in even-numbered ones; each photo's median seconds over the "
                     "runs makes the per-configuration speeds, each run's photos per second its ratio; detection "
                     f"recall counts annotated faces at least {RECALL_MIN_HEIGHT} px tall covered at IoU >= "
                     f"{IOU_THRESHOLD}."),
        "model": Path(model_path).name,
        "photos": [path.name for path in photos],
        "classes": list(CLASS_NAMES),
        "classifier": classifier,
        "end_to_end": end_to_end,
        **payload_extra,
        "runs": run_records,
        "fer_versions": fer_versions,
    }
