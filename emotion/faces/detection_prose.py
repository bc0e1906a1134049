"""The sentences notebook 02 prints about the face detectors, each a tested function of the numbers it states: the
published AP and our distance from it, whether a reference detector's AP supports the protocol implementation, which
detector's default score is strict, what batching bought, and the load during the speed benchmark.
"""

from __future__ import annotations

from emotion.data.wider_face import LEVELS
from emotion.faces.detection_metrics import PUBLISHED_AP, PUBLISHED_AP_TOLERANCE


def published_ap_text() -> str:
    """:data:`PUBLISHED_AP` as results files cite it: ``"MTCNN 0.851/0.820/0.607, YuNet 0.884/0.866/0.750"``
    (Easy/Medium/Hard)."""
    names = {"mtcnn": "MTCNN", "yunet": "YuNet"}
    return ", ".join(f"{names.get(name, name)} " + "/".join(f"{levels[level]:.3f}" for level in LEVELS)
                     for name, levels in PUBLISHED_AP.items())


def describe_published_gaps(gaps: dict[str, float], tolerance: float = PUBLISHED_AP_TOLERANCE) -> str:
    """Our AP minus the published AP per level, each marked within or outside ``tolerance``:
    ``"+0.012 (easy, within ±0.05), -0.081 (medium, outside ±0.05)"``."""
    return ", ".join(f"{gap:+.3f} ({level}, {'within' if abs(gap) <= tolerance else 'outside'} ±{tolerance:g})"
                     for level, gap in gaps.items())


def describe_reference_check(label: str, gaps: dict[str, float], tolerance: float = PUBLISHED_AP_TOLERANCE) -> str:
    """Whether a reference detector's AP on the subset agrees with its published values, which is what supports (or
    questions) our implementation of the evaluation protocol. ``gaps``: level -> our AP minus the published AP."""
    largest = max(abs(gap) for gap in gaps.values())
    if largest <= tolerance:
        return (f"{label}'s own AP lands within {largest:.3f} of its published values (tolerance ±{tolerance:g}), "
                "which supports the protocol implementation")
    return (f"{label}'s own AP differs from its published values by up to {largest:.3f}, more than the ±{tolerance:g} "
            "tolerance, so either the subset or the protocol implementation departs from the published evaluation")


def describe_strict_default(average_precision: dict[str, dict[str, float]], default_recall: dict[str, float],
                            operating_scores: dict[str, float], labels: dict[str, str]) -> str:
    """The detectors whose AP is the highest at every level while their recall at the library's default score is not
    the highest: their default score is strict on these images (AP sweeps every score, the default keeps one).

    Args:
        average_precision: detector -> level -> AP.
        default_recall: detector -> recall of all valid faces at the detector's default score.
        operating_scores: detector -> that default score.
        labels: detector -> display name.

    Returns a parenthetical sentence, or "" when no detector is in that position.
    """
    names = list(average_precision)
    levels = list(next(iter(average_precision.values())))
    best_recall = max(default_recall[name] for name in names)
    strict = [name for name in names
              if all(average_precision[name][level] >= max(average_precision[other][level] for other in names)
                     for level in levels) and default_recall[name] < best_recall]
    return "".join(f" ({labels[name]}'s out-of-the-box {operating_scores[name]:g} is strict on these images: its AP "
                   f"ranks first at every level while its default-score recall, {default_recall[name]:.0%}, does not)"
                   for name in strict)


def describe_batching(batch_rows: dict[str, dict[str, float]], cores: int) -> str:
    """Batched against looped images per second at each size (:func:`emotion.faces.detection_eval.batch_speedup`
    rows), and what the speed-up says: at least 2x everywhere means per-call overhead dominated; below that, the work
    is compute-bound."""
    text = ", ".join(f"{row['speedup']:.2f}x at {size} ({row['batched_images_per_second']:.1f} vs "
                     f"{row['loop_images_per_second']:.1f} images/s)" for size, row in batch_rows.items())
    if min(row["speedup"] for row in batch_rows.values()) >= 2:
        return text + ". At least 2x at every size: per-call overhead, not the convolutions, was the cost."
    return (text + f". Where it is below 2x, the work is compute-bound on {cores} cores: batching saves the per-call "
            "overhead of TensorFlow's eager execution and Python, which weighs most on small images, but not the "
            "convolutions themselves.")


def describe_load(load_before: float, load_after: float, cores: int) -> str:
    """The machine's one-minute load average around a speed benchmark, and whether other work shared the CPU (load
    above the number of cores: more runnable work than cores, so absolute times are pessimistic)."""
    text = f"Load average during the benchmark: {load_before:.1f} before, {load_after:.1f} after, on {cores} cores"
    if max(load_before, load_after) > cores:
        return text + (": other work shared the CPU, so absolute times are pessimistic; "
                       "ratios between detectors are fairer.")
    return text + "."
