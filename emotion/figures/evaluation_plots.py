"""Figures of the evaluation notebook (05): reliability diagrams, Grad-CAM grids, confused-pair examples, and
interval plots. Each function returns a Figure and never calls ``show()``."""

from __future__ import annotations

from typing import Mapping, Sequence

import matplotlib.pyplot as plt
import numpy as np


def reliability_diagram(tables: Mapping[str, Mapping[str, np.ndarray]], eces: Mapping[str, float]) -> plt.Figure:
    """Accuracy against confidence per bin, one line per variant (e.g. before / after temperature scaling).

    Args:
        tables: variant name → :func:`emotion.analysis.calibration.reliability_bins` output.
        eces: variant name → expected calibration error, shown in the legend.
    """
    figure, (axis, counts) = plt.subplots(2, 1, figsize=(6.5, 7), height_ratios=[3, 1], sharex=True)
    axis.plot([0, 1], [0, 1], color="grey", linestyle="--", label="perfect calibration")
    for name, table in tables.items():
        filled = table["count"] > 0
        axis.plot(table["confidence"][filled], table["accuracy"][filled], marker="o",
                  label=f"{name} (ECE {eces[name]:.3f})")
        centres = (table["edges"][:-1] + table["edges"][1:]) / 2
        counts.step(centres, table["count"], where="mid", label=name)
    axis.set_ylabel("accuracy in the bin")
    axis.set_title("Reliability: is a prediction made with confidence p right p of the time?")
    axis.legend(loc="upper left", fontsize=8)
    axis.set_xlim(0, 1)
    axis.set_ylim(0, 1)
    counts.set_xlabel("confidence (top softmax probability)")
    counts.set_ylabel("images")
    figure.tight_layout()
    return figure


def saliency_grid(images: np.ndarray, maps: np.ndarray, titles: Sequence[str], columns: int = 8,
                  title: str = ("Class-activation maps: the regions that raised the predicted class's score "
                                "(red = most)"),
                  ) -> plt.Figure:
    """Images with their class-activation heat maps overlaid.

    Args:
        images: uint8 (n, 48, 48); maps: float (n, 48, 48) in [0, 1]; titles: n short captions.
    """
    rows = max(1, int(np.ceil(len(images) / columns)))
    figure, axes = plt.subplots(rows, columns, figsize=(columns * 1.6, rows * 1.85), squeeze=False)
    for index, axis in enumerate(axes.ravel()):
        axis.axis("off")
        if index < len(images):
            axis.imshow(images[index], cmap="gray", vmin=0, vmax=255)
            axis.imshow(maps[index], cmap="jet", alpha=0.4, vmin=0, vmax=1)
            axis.set_title(titles[index], fontsize=7)
    figure.suptitle(title)
    figure.tight_layout()
    return figure


def image_rows(groups: Sequence[tuple[str, np.ndarray]], columns: int = 4) -> plt.Figure:
    """One row per group of images (e.g. the examples of a confused pair), the group's title on the left.

    Args:
        groups: ``(title, uint8 (k, 48, 48))`` pairs.
    """
    figure, axes = plt.subplots(len(groups), columns, figsize=(columns * 1.5 + 2.2, len(groups) * 1.6),
                                squeeze=False)
    for row, (title, images) in enumerate(groups):
        for column in range(columns):
            axis = axes[row, column]
            axis.set_xticks([])
            axis.set_yticks([])
            if column < len(images):
                axis.imshow(images[column], cmap="gray", vmin=0, vmax=255)
            else:
                axis.axis("off")
            if column == 0:
                axis.set_ylabel(title, rotation=0, ha="right", va="center", fontsize=9)
    figure.tight_layout()
    return figure


def interval_plot(rows: Mapping[str, Mapping[str, float]], quantity: str, reference: float | None = None,
                  reference_label: str = "") -> plt.Figure:
    """Point estimates with 95 % intervals, one row per model / variant.

    Args:
        rows: name → ``{"estimate", "low", "high"}`` (as from :func:`emotion.classify.significance.bootstrap_interval`).
        quantity: the x-axis label.
        reference: an optional vertical line (e.g. the paper's number).
    """
    names = list(rows)
    figure, axis = plt.subplots(figsize=(7, 0.6 * len(names) + 1.4))
    for position, name in enumerate(names):
        row = rows[name]
        axis.errorbar(row["estimate"], position, xerr=[[row["estimate"] - row["low"]], [row["high"] - row["estimate"]]],
                      fmt="o", capsize=4)
    if reference is not None:
        axis.axvline(reference, color="firebrick", linestyle="--", label=reference_label)
        axis.legend(loc="lower right", fontsize=8)
    axis.set_yticks(range(len(names)), names)
    axis.set_xlabel(quantity)
    axis.set_title(f"{quantity}: estimate and 95 % bootstrap interval")
    figure.tight_layout()
    return figure
