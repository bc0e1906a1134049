"""The sentences notebook 02 prints about the face detectors' speed, each a tested function of the numbers it states:
MTCNN's frame rate per settings step against the paper's, what batching bought (:data:`BATCH_MARGIN`), the machine's
load during the benchmark, and whether that load could move the speed-accuracy front. Arguments are plain numbers and
the detectors' display names (``labels``: detector -> name), so tests can make the numbers up. The accuracy and recall
sentences are in :mod:`emotion.faces.detection_prose`.
"""

from __future__ import annotations

from typing import Mapping, Sequence

from emotion.faces.detection_prose import join_names

BATCH_MARGIN = 0.10
"""A batched-over-loop speed-up within this distance of 1 is "no clear difference": both sides are best-of-two
timings on a CPU that other work may share."""

def describe_batching(batch_rows: dict[str, dict[str, float]], margin: float = BATCH_MARGIN) -> str:
    """Batched against looped images per second at each size (``"WxH"`` -> a
    :func:`emotion.faces.detection_eval.batch_speedup` row), each "faster", "slower" or "no clear difference" (within
    ``margin`` of 1x). At least 2x everywhere means per-call overhead dominated; a speed-up that falls as images grow
    fits a fixed per-call overhead that batching saves next to convolutions that it does not."""
    def verdict(speedup: float) -> str:
        if abs(speedup - 1) < margin:
            return f"no clear difference (within ±{margin:.0%} of 1x)"
        return "faster" if speedup > 1 else "slower"

    text = "Batching MTCNN gives " + "; ".join(
        f"{row['speedup']:.2f}x at {size} ({row['batched_images_per_second']:.1f} vs "
        f"{row['loop_images_per_second']:.1f} images/s), {verdict(row['speedup'])}" for size, row in batch_rows.items())
    by_pixels = sorted(batch_rows, key=lambda size: int(size.split("x")[0]) * int(size.split("x")[1]))
    speedups = [batch_rows[size]["speedup"] for size in by_pixels]
    if min(speedups) >= 2:
        return text + ". At least 2x at every size: per-call overhead, not the convolutions, was the cost."
    if len(speedups) > 1 and all(later < earlier for earlier, later in zip(speedups, speedups[1:])):
        return text + (". The speed-up shrinks as images grow, as expected when batching saves a fixed per-call "
                       "overhead (TensorFlow's eager execution, Python) but not the convolutions, whose cost grows "
                       "with the pixels.")
    return text + "."


def describe_load(load_before: float, load_after: float, cores: int) -> str:
    """The machine's one-minute load average around a speed benchmark, and whether other work shared the CPU (load
    above the number of cores: more runnable work than cores, so absolute times are pessimistic)."""
    text = f"Load average during the benchmark: {load_before:.1f} before, {load_after:.1f} after, on {cores} cores"
    if max(load_before, load_after) > cores:
        return text + (": other work shared the CPU, so absolute times are pessimistic; "
                       "ratios between detectors are fairer.")
    return text + "."


def describe_settings_steps(variants: Mapping[str, Mapping]) -> str:
    """What each step between consecutive MTCNN variants (label -> ``{"settings", "fps"}``, in the order measured)
    changed and did to the frame rate: a step that changes one setting measures it; one that changes several does not
    separate them. A larger minimum face that speeds MTCNN up cuts the pyramid's largest levels."""
    sentences = []
    for before, after in zip(variants, list(variants)[1:]):
        old, new = variants[before]["settings"], variants[after]["settings"]
        changed = sorted(key for key in set(old) | set(new) if old.get(key) != new.get(key))
        ratio = variants[after]["fps"] / variants[before]["fps"]
        step = (f"From '{before.split(' (')[0]}' to '{after.split(' (')[0]}' "
                f"({variants[before]['fps']:.1f} to {variants[after]['fps']:.1f} fps, {ratio:.2f}x)")
        if len(changed) != 1:
            sentences.append(f"{step} {join_names([f'`{key}`' for key in changed])} change together, so that step does "
                             "not say which of them matters.")
            continue
        key = changed[0]
        sentences.append(f"{step} only `{key}` changes ({old.get(key)} to {new.get(key)})" + (
            ": the pyramid loses its largest, most expensive levels." if key == "min_face_size" and ratio > 1
            and new[key] > old[key] else "."))
    return " ".join(sentences)


def speed_paragraph(speed_640: Mapping[str, Mapping[str, float]], mtcnn_variants: Mapping[str, Mapping],
                    paper_fps: float, paper_source: str, batch_rows: dict[str, dict[str, float]], cores: int,
                    load_before: float, load_after: float, labels: Mapping[str, str]) -> str:
    """Notebook 02's paragraph under the speed and batching tables: milliseconds per image at 640x480 with the p90 of
    the calls, MTCNN's frame rate per setting variant against the paper's (:func:`describe_settings_steps`),
    batching (:func:`describe_batching`) and the load (:func:`describe_load`).

    Args:
        speed_640: detector -> ``{"median_ms", "p90_ms"}`` at 640x480.
        mtcnn_variants: label -> ``{"settings", "median_ms", "p90_ms"}`` of MTCNN at 640x480, in the order measured.
        batch_rows: ``"WxH"`` -> :func:`emotion.faces.detection_eval.batch_speedup` row.
    """
    fps = {label: {"settings": row["settings"], "fps": 1000 / row["median_ms"]}
           for label, row in mtcnn_variants.items()}
    return ("**What this shows.** At 640x480, one image at a time, median (p90) per image: " + ", ".join(
        f"{labels[name]} {row['median_ms']:,.0f} ms ({row['p90_ms']:,.0f})" for name, row in speed_640.items())
        + ". MTCNN at 640x480 reaches " + ", ".join(
            f"{1000 / row['median_ms']:.1f} fps ({1000 / row['p90_ms']:.1f} at the p90 call) with {label}"
            for label, row in mtcnn_variants.items())
        + f", against the {paper_fps:g} fps {paper_source}. " + describe_settings_steps(fps) + " "
        + describe_batching(batch_rows) + " " + describe_load(load_before, load_after, cores))


def describe_load_spread(loads: Mapping[str, float | None], cores: int, smallest_margin: float | None,
                         labels: Mapping[str, str]) -> str:
    """Whether the load while each detector ran (``loads``: detector -> one-minute load average at the end of its
    run, None when not recorded) could have reordered the detectors by time. If time grows in proportion to the load
    per core above 1, the loads shift one detector's time against another's by at most the ratio of the largest to
    the smallest ``max(1, load / cores)``; the front stands when that is below ``smallest_margin``, the smallest
    ratio of times it rests on (None: it rests on none)."""
    known = {name: load for name, load in loads.items() if load is not None}
    if not known:
        return "The machine's load during the detector runs was not recorded, so their times may carry other work."
    low, high = min(known, key=known.get), max(known, key=known.get)
    text = (f"Those times were measured under one-minute load averages (at the end of each run) of {known[low]:.1f} "
            f"({labels[low]}) to {known[high]:.1f} ({labels[high]}) on {cores} cores")
    if known[high] <= cores:
        return text + ": no more runnable work than cores, so the times are not inflated by other work."
    spread = max(1, known[high] / cores) / max(1, known[low] / cores)
    text += (": other work shared the CPU, so absolute times are pessimistic, and the loads could shift one "
             f"detector's time against another's by up to {spread:.1f}x (if time grows in proportion to the load per "
             "core)")
    if smallest_margin is None:
        return text + "."
    if spread < smallest_margin:
        return text + (f", less than the smallest margin above ({smallest_margin:.1f}x): the front does not depend "
                       "on it.")
    return text + (f", as much as the smallest margin above ({smallest_margin:.1f}x): on a quiet machine the front "
                   "could differ.")


def speed_accuracy_paragraph(ms_per_image: Mapping[str, float], hard_average_precision: Mapping[str, float],
                             front: Sequence[str], loads: Mapping[str, float | None], cores: int,
                             image_counts: Mapping[str, int], common_hard_average_precision: Mapping[str, float],
                             labels: Mapping[str, str]) -> str:
    """Notebook 02's paragraph under the speed-accuracy figure: the Pareto front on Hard AP (``front``, fastest
    first), each detector off it with the slowest front detector that is faster and its time ratio to it, the AP on
    common images for a detector that ran on fewer, and whether the load could have moved the front
    (:func:`describe_load_spread`).

    Args:
        ms_per_image: detector -> median milliseconds per benchmark image.
        hard_average_precision, common_hard_average_precision: detector -> Hard AP on the images it ran on, and on
            the images every detector ran on.
        loads: detector -> load average of its run; image_counts: detector -> images it ran on.
    """
    text = ("**What this shows.** Ordered by median time per benchmark image, the detectors that improve Hard AP over "
            "every faster one (the Pareto front) are: " + ", ".join(
                f"{labels[name]} ({ms_per_image[name]:,.0f} ms, Hard AP {hard_average_precision[name]:.3f})"
                for name in front) + ".")
    parts, margins = [], []
    for name in (name for name in ms_per_image if name not in front):
        beater = max((member for member in front if ms_per_image[member] <= ms_per_image[name]),
                     key=lambda member: ms_per_image[member])
        margins.append(ms_per_image[name] / ms_per_image[beater])
        part = (f"{labels[name]} ({ms_per_image[name]:,.0f} ms, {hard_average_precision[name]:.3f}: "
                f"{margins[-1]:.1f}x {labels[beater]}'s time")
        if image_counts[name] < max(image_counts.values()):
            part += (f"; its AP is on its {image_counts[name]} images, where {labels[beater]}'s is "
                     f"{common_hard_average_precision[beater]:.3f}")
        parts.append(part + ")")
    if parts:
        text += " Each detector off it is slower than one on it and no more accurate: " + ", ".join(parts) + "."
    return text + " " + describe_load_spread(loads, cores, min(margins) if margins else None, labels)
