"""Figures for the notebooks. Each function returns a matplotlib ``Figure`` and never calls ``show()``."""

from __future__ import annotations

from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import seaborn as sns
from matplotlib.text import Text

from emotion import CLASS_NAMES
from emotion.analysis.lineage_cost import lineage_label

FIGURE_DPI = 150


def save_figure(figure: plt.Figure, path: Path | str) -> Path:
    """Save ``figure`` as a PNG at :data:`FIGURE_DPI`, creating the folder; returns the path."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    figure.savefig(path, dpi=FIGURE_DPI, bbox_inches="tight")
    return path


def class_distribution(counts: pd.DataFrame) -> plt.Figure:
    """Grouped bars of images per class and split.

    Args:
        counts: the table of :func:`emotion.data.fer2013.class_counts` (classes x splits, plus ``total``).
    """
    splits = [column for column in counts.columns if column != "total"]
    figure, axis = plt.subplots(figsize=(9, 4.5))
    long = counts[splits].reset_index().melt(id_vars="class", var_name="split", value_name="images")
    sns.barplot(data=long, x="class", y="images", hue="split", ax=axis)
    for container in axis.containers:
        axis.bar_label(container, fontsize=7, padding=1)
    axis.set_title("FER2013: images per class and split")
    axis.set_xlabel("emotion")
    axis.set_ylabel("images (count)")
    figure.tight_layout()
    return figure


def sample_grid(images: np.ndarray, labels: np.ndarray, per_class: int = 8, seed: int = 0) -> plt.Figure:
    """A grid of randomly chosen images: one row per class, ``per_class`` columns.

    Args:
        images: uint8 array (n, 48, 48).
        labels: int array (n,).
    """
    rng = np.random.default_rng(seed)
    figure, axes = plt.subplots(len(CLASS_NAMES), per_class, figsize=(per_class * 1.1, len(CLASS_NAMES) * 1.2))
    for class_id, name in enumerate(CLASS_NAMES):
        candidates = np.flatnonzero(labels == class_id)
        chosen = rng.choice(candidates, size=min(per_class, candidates.size), replace=False) if candidates.size else []
        for column in range(per_class):
            axis = axes[class_id, column]
            axis.set_xticks([])
            axis.set_yticks([])
            if column < len(chosen):
                axis.imshow(images[chosen[column]], cmap="gray", vmin=0, vmax=255)
            if column == 0:
                axis.set_ylabel(name, rotation=0, ha="right", va="center", fontsize=10)
    figure.suptitle("FER2013: random Training images per class", y=1.0)
    figure.tight_layout()
    return figure


def mean_faces(images: np.ndarray, labels: np.ndarray) -> plt.Figure:
    """The per-pixel mean image of each class, plus the histogram of pixel values per class.

    Args:
        images: uint8 array (n, 48, 48).
        labels: int array (n,).
    """
    figure = plt.figure(figsize=(12, 4.2))
    grid = figure.add_gridspec(2, len(CLASS_NAMES), height_ratios=[1, 1.1])
    for class_id, name in enumerate(CLASS_NAMES):
        axis = figure.add_subplot(grid[0, class_id])
        mask = labels == class_id
        if mask.any():
            axis.imshow(images[mask].mean(axis=0), cmap="gray", vmin=0, vmax=255)
        axis.set_title(name, fontsize=9)
        axis.axis("off")
    histogram = figure.add_subplot(grid[1, :])
    bins = np.arange(0, 257, 4)
    for class_id, name in enumerate(CLASS_NAMES):
        values = images[labels == class_id].ravel()
        if values.size:
            density, _ = np.histogram(values, bins=bins, density=True)
            histogram.plot(bins[:-1] + 2, density, label=name)
    histogram.set_xlabel("pixel value (0 = black, 255 = white)")
    histogram.set_ylabel("density")
    histogram.legend(ncol=len(CLASS_NAMES), fontsize=8, loc="upper center")
    figure.suptitle("FER2013: mean face per class (top) and pixel-value distribution (bottom)")
    figure.tight_layout()
    return figure


def duplicate_examples(
    images: np.ndarray, labels: np.ndarray, usage: np.ndarray, groups: list[tuple[int, ...]]
) -> plt.Figure:
    """Show duplicate groups side by side, each image titled with its split, label and row.

    Args:
        images, labels, usage: the whole collection (uint8 (n, 48, 48), int (n,), str (n,)).
        groups: row-index tuples, one per group to show (each shown with up to four members).
    """
    columns = max((min(len(group), 4) for group in groups), default=1)
    figure, axes = plt.subplots(len(groups) or 1, columns, figsize=(columns * 1.9, max(len(groups), 1) * 2.1),
                                squeeze=False)
    for row_index, group in enumerate(groups):
        for column in range(columns):
            axis = axes[row_index, column]
            axis.axis("off")
            if column < len(group):
                member = group[column]
                axis.imshow(images[member], cmap="gray", vmin=0, vmax=255)
                axis.set_title(f"{usage[member]}\n{CLASS_NAMES[labels[member]]} (row {member})", fontsize=8)
    figure.suptitle("Exact duplicates that cross splits (leakage) or disagree on the label")
    figure.tight_layout()
    return figure


def agreement_heatmap(table: pd.DataFrame) -> plt.Figure:
    """Row-normalised heatmap of FER2013 labels vs FER+ majority labels (the table of
    :func:`emotion.data.ferplus.agreement_table`), annotated with the share of each FER2013 class."""
    shares = table.div(table.sum(axis=1).replace(0, np.nan), axis=0)
    figure, axis = plt.subplots(figsize=(8.5, 5.5))
    sns.heatmap(shares, annot=True, fmt=".2f", cmap="Blues", vmin=0, vmax=1, ax=axis,
                cbar_kws={"label": "share of the FER2013 class"})
    axis.set_title("Where FER2013's labels go under FER+ majority vote (rows sum to 1)")
    axis.set_xlabel("FER+ majority label")
    axis.set_ylabel("FER2013 label")
    figure.tight_layout()
    return figure


def augmentation_grid(examples: dict[str, np.ndarray], original: np.ndarray) -> plt.Figure:
    """One row per augmentation: the original face, then random draws of that augmentation.

    Args:
        examples: ``{augmentation name: uint8 (copies, 48, 48)}`` (:func:`emotion.classify.augment.augmentation_examples`).
        original: uint8 (48, 48), the face they were drawn from.
    """  # noqa: E501
    copies = max(len(images) for images in examples.values())
    figure, axes = plt.subplots(len(examples), copies + 1, figsize=((copies + 1) * 1.15, len(examples) * 1.25),
                                squeeze=False)
    for row, (name, images) in enumerate(examples.items()):
        for column in range(copies + 1):
            axis = axes[row, column]
            axis.set_xticks([])
            axis.set_yticks([])
            image = original if column == 0 else (images[column - 1] if column - 1 < len(images) else None)
            if image is not None:
                axis.imshow(image, cmap="gray", vmin=0, vmax=255)
            if column == 0:
                axis.set_ylabel(name, rotation=0, ha="right", va="center", fontsize=9)
            if row == 0:
                axis.set_title("original" if column == 0 else f"draw {column}", fontsize=8)
    figure.suptitle("Training augmentation: random draws of each operation on one Training face", y=1.0)
    figure.tight_layout()
    return figure


def training_curves(history: pd.DataFrame, chosen_epoch: int, title: str) -> plt.Figure:
    """Loss, accuracy and training speed per epoch, with the epoch chosen on PublicTest marked.

    Args:
        history: one row per epoch with ``epoch`` (from 1), ``loss``, ``val_loss``, ``accuracy``,
            ``val_accuracy`` and ``train_images_per_second`` (:func:`emotion.classify.run_folder.read_history`).
        chosen_epoch: the epoch whose checkpoint was kept.
        title: the figure's title.
    """
    figure, axes = plt.subplots(1, 3, figsize=(14, 4))
    panels = [
        (axes[0], ("loss", "Training (augmented)"), ("val_loss", "PublicTest"), "loss (cross-entropy)"),
        (axes[1], ("accuracy", "Training (augmented)"), ("val_accuracy", "PublicTest"), "accuracy"),
    ]
    for axis, (train_column, train_label), (validation_column, validation_label), ylabel in panels:
        axis.plot(history["epoch"], history[train_column], marker="o", markersize=3, label=train_label)
        axis.plot(history["epoch"], history[validation_column], marker="o", markersize=3, label=validation_label)
        axis.axvline(chosen_epoch, color="grey", linestyle="--", label=f"chosen epoch ({chosen_epoch})")
        axis.set_xlabel("epoch")
        axis.set_ylabel(ylabel)
        axis.legend(fontsize=8)
    axes[0].set_title("Loss")
    axes[1].set_title("Accuracy")
    axes[2].plot(history["epoch"], history["train_images_per_second"], marker="o", markersize=3, color="tab:green")
    axes[2].set_ylim(bottom=0)
    axes[2].set_title("Training speed (whole epochs, validation excluded)")
    axes[2].set_xlabel("epoch")
    axes[2].set_ylabel("images per second")
    figure.suptitle(title)
    figure.tight_layout()
    return figure


def confusion_heatmap(matrix: np.ndarray, title: str) -> plt.Figure:
    """Row-normalised confusion matrix (rows: true class; columns: predicted), annotated with the recall shares.

    Args:
        matrix: int (7, 7) counts, rows true and columns predicted, in :data:`emotion.CLASS_NAMES` order.
        title: the figure's title.
    """
    matrix = np.asarray(matrix, dtype=float)
    shares = matrix / np.maximum(matrix.sum(axis=1, keepdims=True), 1)
    figure, axis = plt.subplots(figsize=(7.5, 6))
    sns.heatmap(pd.DataFrame(shares, index=CLASS_NAMES, columns=CLASS_NAMES), annot=True, fmt=".2f", cmap="Blues",
                vmin=0, vmax=1, ax=axis, cbar_kws={"label": "share of the true class"})
    axis.set_title(title)
    axis.set_xlabel("predicted emotion")
    axis.set_ylabel("true emotion")
    figure.tight_layout()
    return figure


def photo_grid(images: list[np.ndarray], titles: list[str], columns: int = 3, width_inches: float = 15) -> plt.Figure:
    """Photos of any sizes in a grid, each with a title (e.g. annotated pipeline outputs).

    Args:
        images: RGB uint8 arrays (h, w, 3); titles: one caption per image.
    """
    rows = max(1, int(np.ceil(len(images) / columns)))
    figure, axes = plt.subplots(rows, columns, figsize=(width_inches, rows * width_inches / columns * 0.75),
                                squeeze=False)
    for index, axis in enumerate(axes.ravel()):
        axis.axis("off")
        if index < len(images):
            axis.imshow(images[index])
            axis.set_title(titles[index], fontsize=9)
    figure.tight_layout()
    return figure


def stage_bars(milliseconds: pd.Series, xlabel: str) -> plt.Figure:
    """Horizontal bars of time per pipeline stage.

    Args:
        milliseconds: stage name → milliseconds.
    """
    figure, axis = plt.subplots(figsize=(7, 2.6))
    bars = axis.barh(list(milliseconds.index), list(milliseconds.values), color="tab:blue")
    axis.bar_label(bars, labels=[f"{value:.0f} ms" for value in milliseconds.values], padding=3, fontsize=9)
    axis.invert_yaxis()
    axis.set_xlabel(xlabel)
    axis.set_title("Where the time goes, per photo")
    axis.set_xlim(0, max(milliseconds.max() * 1.25, 1))
    figure.tight_layout()
    return figure


COST_AXES = {
    "training_cpu_minutes": "training CPU-minutes",
    "quiet_cpu_minutes": "training CPU-minutes, whole lineage, each epoch at its quiet cost",
}
"""The x-axis label of :func:`accuracy_vs_compute` for each cost column of the released table it can draw."""


def accuracy_vs_compute(table: pd.DataFrame, curves: dict[str, pd.DataFrame] | None = None,
                        anchors: dict[str, float] | None = None, budget_cpu_minutes: float | None = None,
                        ensembles: dict[str, tuple[float, float]] | None = None,
                        cost_column: str = "training_cpu_minutes",
                        budget_runs: dict[str, pd.DataFrame] | None = None) -> plt.Figure:
    """PrivateTest accuracy (of the training checkpoint) against the training CPU-minutes of each model's whole
    lineage, one point per released model labelled with its lineage's epochs
    (:func:`emotion.analysis.lineage_cost.lineage_label`), with the paper's reported accuracy of the same model as a
    dashed line where it states one.

    Args:
        table: :func:`emotion.analysis.compare.released_table`.
        curves: ``{model: budget curve}`` (:func:`emotion.analysis.compare.lineage_budget_curve`) drawn as lines
            through their points: what the model's lineage had reached after each budget, in the same cost unit.
        anchors: ``{label: accuracy}`` of published models (:data:`emotion.analysis.compare.PUBLISHED_ANCHORS`), drawn as
            dotted lines.
        budget_cpu_minutes: a training budget drawn as a vertical line.
        ensembles: ``{name: (training CPU-minutes of all members, PrivateTest accuracy)}`` of released ensembles,
            drawn as stars.
        cost_column: the table's cost column on the x axis (:data:`COST_AXES`); a model without a value there is
            drawn at its recorded ``training_cpu_minutes`` as an open circle, labelled "as recorded".
        budget_runs: ``{curve: runs}`` (:func:`emotion.analysis.budget_curves.budget_runs`), each run of one recipe at
            its own epoch budget, drawn as a dashed line through its runs at ``quiet_cpu_hours`` where the cost axis
            is the quiet price and every run has one, else at the recorded ``cpu_hours`` (the legend says which).
    """  # noqa: E501
    if table[cost_column].isna().all():
        cost_column = "training_cpu_minutes"  # no model has the cost asked for: all are drawn as recorded
    recorded = table[cost_column].isna()
    costs = table[cost_column].fillna(table["training_cpu_minutes"])
    figure, axis = plt.subplots(figsize=(9, 9.5))
    for name, (minutes, accuracy) in (ensembles or {}).items():
        axis.scatter(minutes, accuracy, marker="*", s=160, color="black", zorder=4, label=f"ensemble {name}")
    for name, curve in (curves or {}).items():
        axis.plot(curve["cpu_hours"] * 60, curve["privatetest_accuracy"], marker="s", markersize=4, linewidth=1,
                  color="0.35", label=f"{name}: its lineage's checkpoints at each CPU-hour budget")
    run_minutes = {}
    for index, (name, runs) in enumerate((budget_runs or {}).items()):
        quiet = cost_column == "quiet_cpu_minutes" and bool(runs["quiet_cpu_hours"].notna().all())
        run_minutes[name] = (runs["quiet_cpu_hours"] if quiet else runs["cpu_hours"]) * 60
        axis.plot(run_minutes[name], runs["privatetest_accuracy"], marker="D", markersize=4, linewidth=1,
                  linestyle="--", color=f"C{(index + 5) % 10}",
                  label=f"{name}: one run per epoch budget ({', '.join(str(e) for e in runs['epochs'])} epochs; "
                        + ("quiet price)" if quiet else "CPU as recorded)"))
    for index, (label, accuracy) in enumerate((anchors or {}).items()):
        axis.axhline(accuracy, color=f"0.{3 + 2 * index}", linestyle=(0, (1, 1 + index)), linewidth=1.2,
                     label=f"published: {label}, {accuracy:.1%}")
    if budget_cpu_minutes is not None:
        axis.axvline(budget_cpu_minutes, color="0.55", linestyle="-.", linewidth=1,
                     label=f"budget: {budget_cpu_minutes / 60:.0f} CPU-h")
    right = max([float(costs.max()) if len(table) else 0.0, budget_cpu_minutes or 0.0]
                + [minutes for minutes, _ in (ensembles or {}).values()]
                + [float(curve["cpu_hours"].max()) * 60 for curve in (curves or {}).values() if len(curve)]
                + [float(minutes.max()) for minutes in run_minutes.values() if len(minutes)])
    right = max(right * 1.08, 1.0)
    axis.set_xlim(0, right)
    values = [float(v) for v in table["privatetest_accuracy"]] + list((anchors or {}).values()) + [
        float(v) for v in table["paper_accuracy"] if v == v] + [
        float(v) for curve in (curves or {}).values() for v in curve["privatetest_accuracy"]] + [
        float(v) for runs in (budget_runs or {}).values() for v in runs["privatetest_accuracy"]] + [
        accuracy for _, accuracy in (ensembles or {}).values()]
    if values:
        axis.set_ylim(min(values) - 0.015, max(values) + 0.015)
    labels = []
    for index, (name, row) in enumerate(table.iterrows()):
        color = f"C{index}"
        x, y = costs[name], row["privatetest_accuracy"]
        axis.scatter(x, y, s=50, zorder=3, **({"facecolors": "none", "edgecolors": color} if recorded[name]
                                               else {"color": color}))
        labels.append((x, y, f"{name} ({lineage_label(table, name)}" + (", as recorded)" if recorded[name] else ")")))
        if not np.isnan(row["paper_accuracy"]):
            axis.axhline(row["paper_accuracy"], color=color, linestyle="--", linewidth=1,
                         label=f"paper's {name}: {row['paper_accuracy']:.2%}")
    axis.set_xlim(0, right)
    axis.set_xlabel(COST_AXES[cost_column])
    axis.set_ylabel("PrivateTest accuracy")
    axis.set_title("Accuracy vs training compute of each lineage (checkpoints chosen on PublicTest)")
    if axis.get_legend_handles_labels()[0]:
        # Below the axes, where it cannot hide a point; one column, so the axes keep the figure's width.
        axis.legend(fontsize=8, loc="upper center", bbox_to_anchor=(0.5, -0.1), ncol=1, frameon=False)
    figure.tight_layout()  # before the labels: they are placed where the axes finally are
    place_labels(axis, labels, _data_points(axis))
    return figure


LABEL_OFFSETS = (4, -13, 17, -26, 30, -39, 43, -52)
"""Vertical offsets (points) a point's label tries, nearest first, each on its preferred side and then the other."""


def place_labels(axis: plt.Axes, labels: list[tuple[float, float, str]], obstacles: np.ndarray) -> list:
    """Annotate each ``(x, y, text)`` beside its point, measuring each label's drawn box: it takes the first place of
    :data:`LABEL_OFFSETS` (right of the point, or left in the axes' right third, then the other side at the same
    offset) whose box stays inside the axes and overlaps neither a label placed before it nor an ``obstacles`` point
    (display coordinates, (n, 2): markers and samples along drawn lines) other than its own; where none is free, the
    first. A label more than one line away from its point gets a thin leader line to it. Returns the annotations."""
    renderer = axis.figure._get_renderer()  # also where the canvas (pdf, svg) has no get_renderer
    frame = axis.get_window_extent(renderer)
    margin = 4 * axis.figure.dpi / 72  # a marker's half-size, in display units
    right_third = axis.get_xlim()[0] + 0.66 * (axis.get_xlim()[1] - axis.get_xlim()[0])
    placed, annotations = [], []
    for x, y, text in labels:
        own = np.hypot(*(obstacles - axis.transData.transform((x, y))).T) <= margin if len(obstacles) else []
        others = obstacles[~np.asarray(own, bool)] if len(obstacles) else obstacles
        sides = (-1, 1) if x > right_third else (1, -1)
        places = [(6 * side, dy) for dy in LABEL_OFFSETS for side in sides]
        probe = axis.annotate(text, (x, y), xytext=places[0], textcoords="offset points", fontsize=9)
        chosen = places[0]
        for offset in places:
            probe.xyann = offset
            probe.set_ha("left" if offset[0] > 0 else "right")
            box = probe.get_window_extent(renderer)
            inside = frame.x0 <= box.x0 and box.x1 <= frame.x1 and frame.y0 <= box.y0 and box.y1 <= frame.y1
            hits = np.any((others[:, 0] > box.x0 - margin) & (others[:, 0] < box.x1 + margin)
                          & (others[:, 1] > box.y0 - margin) & (others[:, 1] < box.y1 + margin))
            if inside and not hits and not any(box.overlaps(other) for other in placed):
                chosen = offset
                break
        probe.remove()
        far = abs(chosen[1]) > 13
        annotation = axis.annotate(text, (x, y), xytext=chosen, textcoords="offset points", fontsize=9,
                                   ha="left" if chosen[0] > 0 else "right",
                                   arrowprops={"arrowstyle": "-", "color": "0.6", "linewidth": 0.6} if far else None)
        annotation.update_positions(renderer)
        placed.append(Text.get_window_extent(annotation, renderer))  # the words, not the leader line
        annotations.append(annotation)
    return annotations


def _data_points(axis: plt.Axes, step: float = 4.0) -> np.ndarray:
    """Display coordinates of every scatter marker and of points every ``step`` display units along each line drawn
    in data coordinates (reference lines across the axes are left out: labels may cross them)."""
    points = [collection.get_offset_transform().transform(collection.get_offsets())
              for collection in axis.collections if len(collection.get_offsets())]
    for line in axis.get_lines():
        if line.get_transform() != axis.transData:
            continue
        vertices = axis.transData.transform(np.column_stack([line.get_xdata(), line.get_ydata()]).astype(float))
        for start, stop in zip(vertices[:-1], vertices[1:]):
            if not np.isfinite([*start, *stop]).all():  # a gap in the line (a missing value): nothing drawn there
                continue
            count = max(int(np.hypot(*(stop - start)) / step), 1)
            points.append(start + np.linspace(0, 1, count + 1)[:, None] * (stop - start))
        points.append(vertices[np.isfinite(vertices).all(axis=1)])
    return np.concatenate(points) if points else np.zeros((0, 2))


def validation_curves(histories: dict[str, pd.DataFrame]) -> plt.Figure:
    """PublicTest accuracy per epoch of each model, side by side on one axis.

    Args:
        histories: ``{model name: history}`` with columns ``epoch`` (counted through a warm-started run's lineage:
            :func:`emotion.analysis.compare.lineage_histories`) and ``val_accuracy``.
    """
    figure, axis = plt.subplots(figsize=(7.5, 4.5))
    for name, history in histories.items():
        axis.plot(history["epoch"], history["val_accuracy"], marker="o", markersize=3, label=name)
    axis.set_xlabel("epoch (a warm-started run counts on from its parents' epochs)")
    axis.set_ylabel("PublicTest accuracy")
    axis.set_title("PublicTest accuracy per epoch of each released model")
    axis.legend(fontsize=8)
    figure.tight_layout()
    return figure


def spaced_tick_labels(values: list[int], min_ratio: float = 1.15) -> list[str]:
    """Labels for ticks at ``values`` (ascending) on a log axis: a value within ``min_ratio`` of the last labelled one
    gets no label (13 and 14 epochs would print over each other), so every label stays legible; its tick stays."""
    labels, last = [], None
    for value in values:
        show = last is None or value >= last * min_ratio
        labels.append(str(value) if show else "")
        last = value if show else last
    return labels


def budget_curves(curves: dict[str, pd.DataFrame]) -> plt.Figure:
    """Accuracy at the PublicTest-chosen epoch of runs of one recipe at several epoch budgets, one line per model.

    Args:
        curves: ``{name: frame}`` as :func:`emotion.analysis.budget_curves.budget_runs` returns (columns ``epochs``,
            ``publictest_accuracy``, ``privatetest_accuracy``).
    """
    figure, axis = plt.subplots(figsize=(7.5, 4.5))
    for index, (name, curve) in enumerate(curves.items()):
        colour = f"C{index % 10}"
        axis.plot(curve["epochs"], curve["publictest_accuracy"], marker="o", color=colour,
                  label=f"{curve['model'].iloc[-1]}: PublicTest (chooses)")
        axis.plot(curve["epochs"], curve["privatetest_accuracy"], marker="s", linestyle="--", color=colour,
                  alpha=0.7, label=f"{curve['model'].iloc[-1]}: PrivateTest")
    axis.set_xscale("log", base=2)
    epochs = sorted({int(value) for curve in curves.values() for value in curve["epochs"]})
    axis.set_xticks(epochs, spaced_tick_labels(epochs))
    axis.set_xlabel("epoch budget (log scale; each point its own run and schedule)")
    axis.set_ylabel("accuracy at the chosen epoch")
    axis.set_title("Budget curves: does more training still pay?")
    axis.legend(fontsize=7)
    figure.tight_layout()
    return figure
