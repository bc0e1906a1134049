"""Figures of the methodology notebook (07): training experiments against their seed band, the test-set
selection audit, and per-class effects. Each function returns a Figure and never calls ``show()``."""

from __future__ import annotations

from typing import Mapping

import matplotlib.pyplot as plt
import numpy as np

from emotion import CLASS_NAMES


def runs_against_band(values: Mapping[str, Mapping[str, float]], band_names: list[str],
                      quantities: Mapping[str, str]) -> plt.Figure:
    """One panel per quantity: each run's value as a dot, the seed band (min-max of ``band_names``) shaded.

    Args:
        values: run label → {quantity key → value}.
        band_names: the labels of the seed-band runs.
        quantities: quantity key → axis label (e.g. ``{"accuracy": "PrivateTest accuracy"}``).
    """
    labels = list(values)
    figure, axes = plt.subplots(1, len(quantities), figsize=(4.2 * len(quantities), 0.45 * len(labels) + 1.8),
                                sharey=True, squeeze=False)
    for axis, (key, title) in zip(axes[0], quantities.items()):
        band = [values[name][key] for name in band_names if values[name].get(key) is not None]
        if band:
            axis.axvspan(min(band), max(band), color="tab:blue", alpha=0.15, label="seed band (min-max)")
        for row, name in enumerate(labels):
            value = values[name].get(key)
            if value is None:
                continue
            axis.plot(value, row, "o", color="tab:blue" if name in band_names else "tab:red")
            axis.annotate(f"{value:.3f}", (value, row), textcoords="offset points", xytext=(6, -3), fontsize=7)
        axis.set_yticks(range(len(labels)), labels)
        axis.set_xlabel(title)
        axis.margins(x=0.25)
    axes[0][0].invert_yaxis()
    axes[0][0].legend(loc="lower right", fontsize=7)
    figure.suptitle("Training experiments against the spread over seeds (blue: seeds, red: one change each)")
    figure.tight_layout()
    return figure


def selection_audit(histories: Mapping[str, list[dict]], audit_column: str) -> plt.Figure:
    """Per run: PublicTest accuracy (which chose the checkpoint) and the audited PrivateTest accuracy per epoch, with
    the epoch each would pick marked."""
    columns = min(3, len(histories))
    rows = int(np.ceil(len(histories) / columns))
    figure, axes = plt.subplots(rows, columns, figsize=(4.3 * columns, 3.1 * rows), squeeze=False)
    for axis, (name, history) in zip(axes.flat, histories.items()):
        epochs = [row["epoch"] for row in history]
        public = [row["val_accuracy"] for row in history]
        private = [row[audit_column] for row in history]
        axis.plot(epochs, public, marker=".", label="PublicTest (chooses)")
        axis.plot(epochs, private, marker=".", label="PrivateTest (audit only)")
        axis.axvline(epochs[int(np.argmax(public))], color="tab:blue", linestyle=":")
        axis.axvline(epochs[int(np.argmax(private))], color="tab:orange", linestyle="--")
        axis.set_title(name, fontsize=9)
        axis.set_xlabel("epoch")
        axis.set_ylabel("accuracy")
    for axis in list(axes.flat)[len(histories):]:
        axis.axis("off")
    axes[0][0].legend(fontsize=7)
    figure.suptitle("Which epoch would each split choose? (dotted: PublicTest's pick, dashed: PrivateTest's)")
    figure.tight_layout()
    return figure


def per_class_against_band(band: Mapping[str, Mapping[str, float]], treated: Mapping[str, float], metric: str,
                           treated_label: str) -> plt.Figure:
    """Per class: the seed band's min-max of ``metric`` as a bar range, the treated run's value as a dot."""
    figure, axis = plt.subplots(figsize=(8, 3.6))
    positions = np.arange(len(CLASS_NAMES))
    low = np.array([band[name]["min"] for name in CLASS_NAMES])
    high = np.array([band[name]["max"] for name in CLASS_NAMES])
    axis.bar(positions, high - low, bottom=low, width=0.5, color="tab:blue", alpha=0.35, label="seed band (min-max)")
    axis.plot(positions, [treated[name] for name in CLASS_NAMES], "o", color="tab:red", label=treated_label)
    axis.set_xticks(positions, CLASS_NAMES)
    axis.set_ylabel(f"PrivateTest {metric}")
    axis.set_ylim(0, 1)
    axis.legend(fontsize=8)
    axis.set_title(f"Per-class {metric}: {treated_label} against the seed band")
    figure.tight_layout()
    return figure
