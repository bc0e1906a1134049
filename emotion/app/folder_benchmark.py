"""The folder benchmark: photos per second of ``python -m emotion predict FOLDER`` with its stages overlapped (the
default) against one batch after another (``--sequential``), both in one process with their passes interleaved, and
a check that both give the same outputs -> ``results/07_folder_benchmark.json``.

Two workloads: ``annotated_copies`` (``predict FOLDER --out DIR``: every photo's annotated copy is drawn and written
as PNG, and the copies are compared byte for byte) and ``predictions_only`` (``predict FOLDER --json``: the faces and
their probabilities only). A pass runs every photo once; passes alternate the two ways, sequential first in even
passes and overlapped first in odd ones, so that neither always runs on a warmer or a busier machine.
"""

from __future__ import annotations

import argparse
import hashlib
import shutil
import statistics
import sys
import time
from pathlib import Path
from typing import Any, Sequence

from emotion.errors import DataMissingError

BENCHMARK_PHOTOS = 200
"""Photos a full-mode run times (fewer make a smoke-mode file, written under build/ unless ``--results`` says)."""
PASSES = 3
"""Passes of each way, interleaved; the speed-up is the ratio of the medians."""
WARMUP_PHOTOS = 8
"""Photos each way runs once, untimed, before the first pass (runtime set-up, first allocations)."""
RESULTS_NAME = "07_folder_benchmark.json"
WAYS = ("sequential", "overlapped")
WORKLOADS = {"annotated_copies": True, "predictions_only": False}
"""Workload name -> whether annotated copies are written (``--out``)."""


def benchmark_photos(folder: Path, count: int) -> list[Path]:
    """``count`` image files spread evenly over ``folder``'s images (recursively, in sorted order), so that every
    part of a folder sorted by event, as WIDER's is, takes part.

    Raises:
        DataMissingError: the folder holds fewer than ``count`` images.
    """
    from emotion.data.image_files import find_images

    paths, _ = find_images([folder])
    if len(paths) < count:
        raise DataMissingError(f"{folder} holds {len(paths)} images, fewer than the {count} asked for; pass "
                               "--photos N or a larger --folder (the WIDER subset, $EMOTION_DATA/faces/images, "
                               "has 700).")
    return [paths[index * len(paths) // count] for index in range(count)]


def pass_order(passes: int) -> list[tuple[int, str]]:
    """``(pass, way)`` in the order they run: sequential first in even passes, overlapped first in odd ones."""
    return [(index, way) for index in range(passes) for way in (WAYS if index % 2 == 0 else WAYS[::-1])]


def output_signature(outcomes) -> list[tuple]:
    """What a run produced, comparable across runs: per input its path, error, faces (exact floats), the annotated
    copy's file name and the sha256 of its bytes."""
    rows = []
    for outcome in outcomes:
        copy = outcome.annotated
        rows.append((str(outcome.path), outcome.error, outcome.faces, copy.name if copy else None,
                     hashlib.sha256(copy.read_bytes()).hexdigest() if copy else None))
    return rows


def measure_folder(pipeline, photos: Sequence[Path], scratch: Path, *, passes: int = PASSES,
                   workloads: dict[str, bool] = WORKLOADS, warmup: int = WARMUP_PHOTOS) -> dict[str, Any]:
    """Time :func:`~emotion.app.pipeline.predict_files` on ``photos``, sequential and overlapped, ``passes`` times
    each per workload, interleaved (:func:`pass_order`), and compare every run's outputs with the first run's.

    Args:
        pipeline: an :class:`~emotion.app.pipeline.EmotionPipeline`, shared by all runs.
        scratch: a folder for the annotated copies; each run writes into its own subfolder, which is hashed and
            removed after the run.

    Returns:
        Per workload: ``runs`` (pass, way, seconds, photos_per_second, cpu_seconds: this process's CPU time,
        other_cores: the cores other processes kept busy meanwhile), each way's ``photos_per_second`` per pass with
        their median, min and max, ``speedup`` (overlapped median / sequential median), ``speedup_per_pass`` (pass
        by pass), ``identical_outputs``, ``photos``, ``faces`` and ``files_compared``.
    """
    from emotion.app.pipeline import predict_files
    from emotion.machine import busy_cpu_seconds, other_cores, own_cpu_seconds

    scratch = Path(scratch)
    for way in WAYS:
        predict_files(pipeline, photos[:warmup], out_dir=scratch / "warmup", overlap=way == "overlapped")
    shutil.rmtree(scratch / "warmup", ignore_errors=True)
    results = {}
    for workload, annotated in workloads.items():
        runs, reference, identical = [], None, True
        for index, way in pass_order(passes):
            out_dir = scratch / f"{workload}_{way}_{index}" if annotated else None
            if out_dir is not None:
                shutil.rmtree(out_dir, ignore_errors=True)
            busy_before, own_before, started = busy_cpu_seconds(), own_cpu_seconds(), time.perf_counter()
            outcomes = predict_files(pipeline, photos, out_dir=out_dir, overlap=way == "overlapped")
            seconds = time.perf_counter() - started
            own = own_cpu_seconds() - own_before
            other = other_cores(busy_before, busy_cpu_seconds(), own, seconds)
            signature = output_signature(outcomes)
            if out_dir is not None:
                shutil.rmtree(out_dir)
            if reference is None:
                reference = signature
            identical = identical and signature == reference
            runs.append({"pass": index, "way": way, "seconds": seconds, "photos_per_second": len(photos) / seconds,
                         "cpu_seconds": own, "other_cores": other})
        results[workload] = {**summarise_runs(runs), "identical_outputs": identical, "photos": len(photos),
                             "faces": sum(len(row[2]) for row in reference),
                             "files_compared": sum(row[4] is not None for row in reference)}
    return results


def summarise_runs(runs: Sequence[dict[str, Any]]) -> dict[str, Any]:
    """Each way's rates per pass with their median, min and max, and the speed-up of the medians and per pass."""
    summary: dict[str, Any] = {"runs": list(runs)}
    rates = {way: [run["photos_per_second"] for run in sorted(runs, key=lambda run: run["pass"]) if run["way"] == way]
             for way in WAYS}
    for way, values in rates.items():
        summary[way] = {"photos_per_second": values, "median": statistics.median(values), "min": min(values),
                        "max": max(values)}
    summary["speedup"] = summary["overlapped"]["median"] / summary["sequential"]["median"]
    summary["speedup_per_pass"] = [overlapped / sequential
                                   for sequential, overlapped in zip(rates["sequential"], rates["overlapped"])]
    return summary


def overlap_ceiling(runs: Sequence[dict[str, Any]], cores: int) -> dict[str, float] | None:
    """How far overlapping the stages can speed up the sequential way at most: ``{"cores_busy", "ceiling"}``, where
    ``cores_busy`` is the median over the sequential runs of their CPU seconds per wall second and ``ceiling`` is
    ``cores / cores_busy``, the speed-up if the overlapped way kept every core busy with the same CPU work per photo
    (it can exceed it only by doing less work per photo). None when the runs carry no CPU seconds."""
    busy = [run["cpu_seconds"] / run["seconds"] for run in runs
            if run["way"] == "sequential" and run.get("cpu_seconds") is not None and run["seconds"] > 0]
    if not busy:
        return None
    cores_busy = statistics.median(busy)
    return {"cores_busy": cores_busy, "ceiling": cores / cores_busy}


def describe_folder_benchmark(payload: dict[str, Any]) -> str:
    """Sentences on a ``07_folder_benchmark.json`` payload: per workload the two medians with their ranges, the
    speed-up with its range over passes, whether the outputs were identical, and the ceiling on any overlap
    (:func:`overlap_ceiling`); then how busy the machine was.

    Rule: a speed-up is stated with its per-pass range; the busiest run's other work is named, because other
    processes on the machine's few cores slow the two ways unequally."""
    sentences = []
    labels = {"annotated_copies": "Writing annotated copies", "predictions_only": "Predictions only"}
    for workload, result in payload["workloads"].items():
        sequential, overlapped = result["sequential"], result["overlapped"]
        ratios = result["speedup_per_pass"]
        sentences.append(
            f"{labels.get(workload, workload)}, {result['photos']} photos: overlapped {overlapped['median']:.2f} "
            f"photos/s ({overlapped['min']:.2f}-{overlapped['max']:.2f}) against sequential "
            f"{sequential['median']:.2f} ({sequential['min']:.2f}-{sequential['max']:.2f}), medians of "
            f"{len(ratios)} interleaved passes: {result['speedup']:.2f}x (per pass {min(ratios):.2f}-"
            f"{max(ratios):.2f}x); outputs {'identical' if result['identical_outputs'] else 'DIFFERENT'}"
            + (f" ({result['files_compared']} annotated copies compared byte for byte)."
               if result["files_compared"] else "."))
        bound = overlap_ceiling(result["runs"], payload["cpu_cores"])
        if bound is not None:
            sentences.append(
                f"One batch after another already kept {bound['cores_busy']:.2f} of the {payload['cpu_cores']} cores "
                f"busy (median over its passes), so no overlap of the same work could be more than "
                f"{bound['ceiling']:.2f}x faster.")
    busiest = max((run["other_cores"] for result in payload["workloads"].values() for run in result["runs"]
                   if run["other_cores"] is not None), default=None)
    if busiest is not None:
        sentences.append(f"Other processes kept up to {busiest:.2f} of the machine's {payload['cpu_cores']} cores "
                         "busy during a run.")
    return " ".join(sentences)


def configure_parser(parser: argparse.ArgumentParser) -> argparse.ArgumentParser:
    """Add the benchmark's options to ``parser`` (the ``folder-benchmark`` command's) and set its handler."""
    parser.add_argument("--folder", help="folder of photos (default $EMOTION_DATA/faces/images, the WIDER subset)")
    parser.add_argument("--photos", type=int, default=BENCHMARK_PHOTOS,
                        help=f"photos spread over the folder (default {BENCHMARK_PHOTOS}; fewer, or fewer than "
                             f"{PASSES} passes, write a smoke-mode file)")
    parser.add_argument("--passes", type=int, default=PASSES, help=f"passes of each way (default {PASSES})")
    parser.add_argument("--detector", default=None, help="face detector (default: predict's)")
    parser.add_argument("--model", help="classifier .keras (default: predict's, the released model best on "
                                        "PublicTest)")
    parser.add_argument("--results", help=f"folder of {RESULTS_NAME} (default results/ in full mode, "
                                          "build/folder_benchmark/ in smoke mode)")
    parser.set_defaults(handler=run_folder_benchmark)
    return parser


def run_folder_benchmark(arguments: argparse.Namespace) -> int:
    """The ``folder-benchmark`` command: measure, write the results file, print the sentences; exit status 1 when
    the two ways' outputs differ."""
    from emotion.app.pipeline import BATCH_SIZE, PHOTOS_IN_FLIGHT, READERS, EmotionPipeline
    from emotion.machine import cpu_cores
    from emotion.paths import BUILD_DIR, RESULTS_DIR, data_root
    from emotion.provenance import write_results

    if arguments.photos < 1 or arguments.passes < 1:
        print("error: --photos and --passes must be at least 1", file=sys.stderr)
        return 2
    folder = Path(arguments.folder) if arguments.folder else data_root() / "faces" / "images"
    photos = benchmark_photos(folder, arguments.photos)
    pipeline = EmotionPipeline(arguments.detector, arguments.model)
    full = arguments.photos >= BENCHMARK_PHOTOS and arguments.passes >= PASSES
    results_dir = Path(arguments.results) if arguments.results else (RESULTS_DIR if full
                                                                     else BUILD_DIR / "folder_benchmark")
    workloads = measure_folder(pipeline, photos, BUILD_DIR / "folder_benchmark" / "scratch",
                               passes=arguments.passes)
    try:
        shown_folder = str(folder.resolve().relative_to(data_root()))
    except ValueError:
        shown_folder = folder.name
    payload = {
        "protocol": f"python -m emotion predict on the same photos, one batch of {BATCH_SIZE} after another "
                    "(--sequential) and with decoding, detection, classification and writing overlapped on threads "
                    "(the default); "
                    f"{arguments.passes} passes each, interleaved (sequential first in even passes), in one process "
                    f"after {WARMUP_PHOTOS} untimed photos each way; photos/s = photos / wall seconds of the whole "
                    "call; outputs compared exactly (faces, probabilities, annotated PNG bytes)",
        "folder": shown_folder, "photos": len(photos), "passes": arguments.passes,
        "order": pass_order(arguments.passes),
        "batch_size": BATCH_SIZE, "max_in_flight_photos": PHOTOS_IN_FLIGHT, "readers": READERS,
        "detector": repr(pipeline.detector), "model": Path(pipeline.model_path).name if pipeline.model_path else None,
        "classifier_runtime": pipeline.classifier_runtime, "cpu_cores": cpu_cores(),
        "identical_outputs": all(result["identical_outputs"] for result in workloads.values()),
        "workloads": workloads,
    }
    path = write_results(results_dir / RESULTS_NAME, payload, mode="full" if full else "smoke", seed=0)
    print(describe_folder_benchmark(payload))
    print(f"written: {path}")
    return 0 if payload["identical_outputs"] else 1
