"""Plots that several chapters draw: training curves, image grids, confusion matrices.

Every function gives its figure a title and labelled axes, and returns the
matplotlib ``Figure`` so a notebook can save or adjust it.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import matplotlib.pyplot as plt
import numpy as np


def _as_numpy(array) -> np.ndarray:
    if hasattr(array, "detach"):
        array = array.detach().cpu().numpy()
    return np.asarray(array)


_SPLIT_NAMES = {"train": "training", "val": "validation", "test": "test"}


def readable_key(key: str) -> str:
    """Turn a history key into a legend label: ``"val_auc"`` -> ``"validation AUC"``."""
    split, _, name = key.partition("_")
    if split not in _SPLIT_NAMES or not name:
        split, name = "", key
    name = {"auc": "AUC", "auroc": "AUROC", "f1": "F1", "mse": "MSE", "mae": "MAE"}.get(
        name, name.replace("_", " ")
    )
    return f"{_SPLIT_NAMES.get(split, '')} {name}".strip()


def plot_history(
    history,
    keys: Sequence[str] | None = None,
    title: str = "Training history",
    loss_label: str = "loss",
    metric_label: str | None = None,
):
    """Plot losses (left) and other metrics (right) against the epoch.

    Args:
        history: a :class:`bios740.training.History` or a mapping of name -> list with
            an ``"epoch"`` entry (or values per epoch starting at 1).
        keys: which records to draw; by default every loss and metric except ``lr``.
        title: the figure title.
        loss_label: y-axis label of the loss panel; give the loss and its unit, e.g.
            ``"cross-entropy (nats per example)"``.
        metric_label: y-axis label of the metric panel; by default the metric's name
            when only one metric is drawn, else ``"metric value"``.
    """
    records: Mapping[str, Sequence[float]] = getattr(history, "records", history)
    if not isinstance(records, Mapping) or not records:
        raise ValueError("history must be a non-empty History or dict of lists")
    keys = list(keys) if keys is not None else [k for k in records if k not in ("epoch", "lr")]
    missing = [k for k in keys if k not in records]
    if missing:
        raise KeyError(f"history has no {missing}; it has {sorted(records)}")
    length = len(records[keys[0]])
    epochs = records.get("epoch", range(1, length + 1))
    losses = [k for k in keys if k.endswith("loss")]
    others = [k for k in keys if k not in losses]
    columns = 1 + bool(losses and others)
    fig, axes = plt.subplots(1, columns, figsize=(5.5 * columns, 3.8), squeeze=False)
    groups = [g for g in (losses, others) if g]
    metric_names = sorted({k.partition("_")[2] or k for k in others})
    if metric_label is None:
        metric_label = readable_key(metric_names[0]) if len(metric_names) == 1 else "metric value"
    for ax, group in zip(axes[0], groups, strict=False):
        for key in group:
            ax.plot(list(epochs), records[key], marker="o", markersize=3, label=readable_key(key))
        ax.set_xlabel("epoch")
        ax.set_ylabel(loss_label if group is losses else metric_label)
        ax.set_title("Loss" if group is losses else "Metrics")
        ax.grid(alpha=0.3)
        ax.legend()
    fig.suptitle(title)
    fig.tight_layout()
    return fig


def show_images(
    images,
    titles: Sequence[str] | None = None,
    ncols: int = 8,
    cmap: str = "gray",
    title: str = "Images",
    size: float = 1.6,
):
    """Show a grid of images.

    Args:
        images: an array or tensor of shape (N, H, W), (N, 1, H, W) or (N, 3, H, W)
            (channels-first) or (N, H, W, 3).
        titles: one short title per image.
        ncols: images per row.
        cmap: colour map for single-channel images.
        title: the figure title.
    """
    array = _as_numpy(images)
    if array.ndim == 4 and array.shape[1] in (1, 3):
        array = np.moveaxis(array, 1, -1)
    if array.ndim == 4 and array.shape[-1] == 1:
        array = array[..., 0]
    if array.ndim not in (3, 4) or (array.ndim == 4 and array.shape[-1] != 3):
        raise ValueError(
            f"images must have shape (N, H, W), (N, C, H, W) or (N, H, W, 3); got {array.shape}"
        )
    count = array.shape[0]
    if count == 0:
        raise ValueError("no images to show")
    if titles is not None and len(titles) != count:
        raise ValueError(f"{len(titles)} titles for {count} images")
    if ncols < 1:
        raise ValueError(f"ncols must be at least 1, got {ncols}")
    ncols = min(ncols, count)
    nrows = int(np.ceil(count / ncols))
    fig, axes = plt.subplots(
        nrows, ncols, figsize=(size * ncols, size * nrows + 0.5), squeeze=False
    )
    for index, ax in enumerate(axes.flat):
        ax.axis("off")
        if index < count:
            ax.imshow(array[index], cmap=cmap if array.ndim == 3 else None)
            if titles is not None:
                ax.set_title(titles[index], fontsize=8)
    fig.suptitle(title)
    fig.tight_layout()
    return fig


def confusion_matrix(y_true, y_pred, n_classes: int | None = None) -> np.ndarray:
    """Counts ``C[i, j]`` of samples of true class ``i`` predicted as class ``j``."""
    y_true = _as_numpy(y_true).astype(int).ravel()
    y_pred = _as_numpy(y_pred).astype(int).ravel()
    if y_true.shape != y_pred.shape:
        raise ValueError(f"y_true has {y_true.size} labels but y_pred has {y_pred.size}")
    if y_true.size and min(y_true.min(), y_pred.min()) < 0:
        raise ValueError("class labels must be non-negative integers")
    n_classes = n_classes or int(max(y_true.max(initial=0), y_pred.max(initial=0)) + 1)
    matrix = np.zeros((n_classes, n_classes), dtype=int)
    np.add.at(matrix, (y_true, y_pred), 1)
    return matrix


def plot_confusion_matrix(
    y_true,
    y_pred,
    class_names: Sequence[str] | None = None,
    normalize: bool = False,
    title: str = "Confusion matrix",
    ax=None,
):
    """Draw the confusion matrix with counts (or row shares) written in each cell.

    Rows are true classes and columns predicted classes. With ``normalize=True`` each
    row is divided by its total, so the diagonal shows each class's recall.
    """
    n_classes = len(class_names) if class_names is not None else None
    matrix = confusion_matrix(y_true, y_pred, n_classes)
    shown = matrix / np.maximum(matrix.sum(axis=1, keepdims=True), 1) if normalize else matrix
    names = list(class_names) if class_names is not None else [str(i) for i in range(len(matrix))]
    if ax is None:
        side = max(3.5, 0.55 * len(names) + 1.5)
        fig, ax = plt.subplots(figsize=(side, side))
    else:
        fig = ax.figure
    image = ax.imshow(shown, cmap="Blues", vmin=0)
    fig.colorbar(
        image, ax=ax, fraction=0.046, pad=0.04, label="share of row" if normalize else "count"
    )
    threshold = shown.max() / 2 if shown.size else 0
    for i in range(len(names)):
        for j in range(len(names)):
            text = f"{shown[i, j]:.2f}" if normalize else str(matrix[i, j])
            color = "white" if shown[i, j] > threshold else "black"
            ax.text(j, i, text, ha="center", va="center", color=color, fontsize=8)
    ax.set_xticks(range(len(names)), names, rotation=45, ha="right")
    ax.set_yticks(range(len(names)), names)
    ax.set_xlabel("predicted class")
    ax.set_ylabel("true class")
    ax.set_title(title)
    fig.tight_layout()
    return fig
