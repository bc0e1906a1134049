"""Figures of the face-detector study (notebook 02). Each function returns a matplotlib ``Figure`` and never calls
``show()``; save with :func:`emotion.figures.plots.save_figure`."""

from __future__ import annotations

from typing import Mapping, Sequence

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
from matplotlib.patches import Rectangle

from emotion.data.wider_face import LEVELS
from emotion.faces.detection_metrics import HEIGHT_LABELS, LevelResult

DETECTOR_LABELS = {"haar": "Viola-Jones (Haar)", "dlib_hog": "dlib HOG", "dlib_cnn": "dlib CNN (MMOD)",
                   "mtcnn": "MTCNN", "yunet": "YuNet"}
"""Readable names of the detectors for legends and titles."""


def label(name: str) -> str:
    """The readable name of detector ``name`` (the name itself when unknown)."""
    return DETECTOR_LABELS.get(name, name)


def precision_recall_curves(results: Mapping[str, Mapping[str, LevelResult]],
                            image_counts: Mapping[str, int]) -> plt.Figure:
    """One panel per level (Easy, Medium, Hard), one precision-recall curve per detector, AP in the legend.

    Args:
        results: ``{detector: {level: LevelResult}}`` from :func:`emotion.faces.detection_metrics.evaluate_levels`.
        image_counts: ``{detector: images evaluated}`` (shown in the legend).
    """
    figure, axes = plt.subplots(1, len(LEVELS), figsize=(15, 4.8), sharey=True)
    for axis, level in zip(axes, LEVELS):
        for name, levels in results.items():
            result = levels[level]
            axis.plot(result.recall, result.precision, linewidth=1.8,
                      label=f"{label(name)}: AP {result.average_precision:.3f} ({image_counts[name]} img)")
        axis.set_title(f"{level.capitalize()} level")
        axis.set_xlabel("recall (share of the level's faces found)")
        axis.set_xlim(0, 1)
        axis.set_ylim(0, 1.02)
        axis.grid(alpha=0.3)
        axis.legend(fontsize=7.5, loc="lower left")
    axes[0].set_ylabel("precision (share of detections that are faces)")
    figure.suptitle("Precision-recall per WIDER FACE level (validation subset, IoU >= 0.5, other levels ignored)")
    figure.tight_layout()
    return figure


def recall_breakdown(tables: Mapping[str, Mapping[str, Mapping[str, Mapping[str, float]]]]) -> plt.Figure:
    """Recall by face height (left), pose (middle) and occlusion (right), one line or bar group per detector.

    Args:
        tables: ``{detector: recall table}`` from :func:`emotion.faces.detection_metrics.recall_table`.
    """
    figure, axes = plt.subplots(1, 3, figsize=(15, 4.6), gridspec_kw={"width_ratios": [2, 1, 1.3]})
    names = list(tables)
    for name in names:
        heights = tables[name]["height"]
        axes[0].plot(range(len(HEIGHT_LABELS)), [heights[bin_]["recall"] for bin_ in HEIGHT_LABELS], marker="o",
                     label=label(name))
    first = tables[names[0]]["height"] if names else {}
    axes[0].set_xticks(range(len(HEIGHT_LABELS)),
                       [f"{bin_}\n({first[bin_]['faces']} faces)" if first else bin_ for bin_ in HEIGHT_LABELS])
    axes[0].set_xlabel("annotated face height (pixels)")
    axes[0].set_ylabel("recall at the detector's default score")
    axes[0].set_ylim(0, 1)
    axes[0].grid(alpha=0.3)
    axes[0].legend(fontsize=8)
    axes[0].set_title("Recall by face size")
    for axis, key in ((axes[1], "pose"), (axes[2], "occlusion")):
        categories = list(tables[names[0]][key]) if names else []
        width = 0.8 / max(len(names), 1)
        for offset, name in enumerate(names):
            values = [tables[name][key][category]["recall"] for category in categories]
            axis.bar(np.arange(len(categories)) + offset * width - 0.4 + width / 2, values, width, label=label(name))
        axis.set_xticks(range(len(categories)),
                        [f"{category}\n({tables[names[0]][key][category]['faces']})" for category in categories])
        axis.set_ylim(0, 1)
        axis.set_xlabel(f"{key} (faces)")
        axis.set_title(f"Recall by {key}")
        axis.grid(alpha=0.3, axis="y")
    figure.suptitle("Which faces each detector finds (valid faces of the evaluated images, IoU >= 0.5)")
    figure.tight_layout()
    return figure


def speed_accuracy(summary: pd.DataFrame, level: str = "hard") -> plt.Figure:
    """AP at ``level`` against median milliseconds per image (log scale), with the Pareto front drawn.

    Args:
        summary: one row per detector with columns ``detector``, ``ms_per_image_median`` and ``ap_<level>``
            (and optionally ``ap_easy`` for a second marker).
    """
    figure, axis = plt.subplots(figsize=(8, 5.2))
    ordered = summary.sort_values("ms_per_image_median")
    for column, marker in (("ap_easy", "o"), (f"ap_{level}", "s")):
        if column not in ordered:
            continue
        axis.scatter(ordered["ms_per_image_median"], ordered[column], marker=marker, s=60,
                     label=f"AP {column[3:]}", zorder=3)
        for _, row in ordered.iterrows():
            axis.annotate(label(row["detector"]), (row["ms_per_image_median"], row[column]), fontsize=8,
                          xytext=(5, 4), textcoords="offset points")
    best, front = -1.0, []
    for _, row in ordered.iterrows():
        if row[f"ap_{level}"] > best:
            best = row[f"ap_{level}"]
            front.append((row["ms_per_image_median"], best))
    if front:
        axis.step(*zip(*front), where="post", color="grey", linestyle="--", label=f"Pareto front (AP {level})")
    axis.set_xscale("log")
    axis.set_xlabel("median time per benchmark image (ms, log scale; images ~1024 px wide)")
    axis.set_ylabel("average precision")
    axis.set_ylim(0, 1)
    axis.grid(alpha=0.3, which="both")
    axis.legend(fontsize=8, loc="center right")
    axis.set_title("Speed against accuracy: up and to the left is better")
    figure.tight_layout()
    return figure


def cost_by_size(speed: pd.DataFrame) -> plt.Figure:
    """Median milliseconds per image against megapixels, one line per detector (log y).

    Args:
        speed: rows ``detector, width, height, megapixels, median_ms, p90_ms``.
    """
    figure, axis = plt.subplots(figsize=(8, 5))
    for name, group in speed.groupby("detector", sort=False):
        group = group.sort_values("megapixels")
        axis.errorbar(group["megapixels"], group["median_ms"],
                      yerr=[np.zeros(len(group)), group["p90_ms"] - group["median_ms"]], marker="o", capsize=3,
                      label=label(name))
    sizes = speed.drop_duplicates("megapixels").sort_values("megapixels")
    for _, row in sizes.iterrows():
        axis.axvline(row["megapixels"], color="grey", alpha=0.2)
        axis.text(row["megapixels"], 0.02, f"{row['width']}x{row['height']}", rotation=90, fontsize=7,
                  va="bottom", ha="right", transform=axis.get_xaxis_transform())
    axis.set_yscale("log")
    axis.set_xlabel("image size (megapixels)")
    axis.set_ylabel("milliseconds per image (median; bar to p90, log scale)")
    axis.grid(alpha=0.3, which="both")
    axis.legend(fontsize=8)
    axis.set_title("Cost against image size, one image at a time")
    figure.tight_layout()
    return figure


def detection_gallery(images: Sequence[np.ndarray], titles: Sequence[str], annotations: Sequence[pd.DataFrame],
                      detections: Mapping[str, Sequence[pd.DataFrame]]) -> plt.Figure:
    """A grid: one row per image, one column per detector; annotated faces in green, detections in red.

    Each image is cropped to its annotated faces plus a margin (at least 240 px a side), so small faces stay visible
    and the PNG stays small.

    Args:
        images: RGB uint8 (h, w, 3) each; titles: one row label per image.
        annotations: per image, its faces (``x, y, w, h``).
        detections: ``{detector: per image, the detections to draw (x, y, w, h)}``.
    """
    names = list(detections)
    figure, axes = plt.subplots(len(images), len(names), figsize=(2.4 * len(names), 2.1 * len(images)),
                                squeeze=False)
    for row, image in enumerate(images):
        faces = annotations[row]
        height, width = image.shape[:2]
        if len(faces):
            left, top = faces["x"].min(), faces["y"].min()
            right, bottom = (faces["x"] + faces["w"]).max(), (faces["y"] + faces["h"]).max()
            margin = max(120 - (right - left) / 2, 120 - (bottom - top) / 2, 0.3 * max(right - left, bottom - top))
            crop = (max(0, left - margin), min(width, right + margin),
                    min(height, bottom + margin), max(0, top - margin))
        else:
            crop = (0, width, height, 0)
        for column, name in enumerate(names):
            axis = axes[row, column]
            axis.imshow(image)
            axis.set_xlim(crop[0], crop[1])
            axis.set_ylim(crop[2], crop[3])
            axis.set_xticks([])
            axis.set_yticks([])
            for _, face in annotations[row].iterrows():
                axis.add_patch(Rectangle((face["x"], face["y"]), face["w"], face["h"], fill=False,
                                         edgecolor="lime", linewidth=0.8))
            found = detections[name][row]
            for _, box in found.iterrows():
                axis.add_patch(Rectangle((box["x"], box["y"]), box["w"], box["h"], fill=False, edgecolor="red",
                                         linewidth=1.1))
            if row == 0:
                axis.set_title(label(name), fontsize=10)
            axis.set_xlabel(f"{len(found)} detections / {len(annotations[row])} faces", fontsize=8)
            if column == 0:
                axis.set_ylabel(titles[row], fontsize=8)
    figure.suptitle("The same hard images through every detector (green: annotated faces; red: detections at "
                    "each detector's default score)")
    figure.tight_layout()
    return figure
