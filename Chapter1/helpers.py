"""Chapter 1 helpers: MNIST for the Colab path, weight images, the autograd graph.

* :func:`load_mnist` reads MNIST with ``torchvision.datasets.MNIST`` (it parses the IDX
  files and, with ``download=True``, fetches them with checksums); :func:`mnist_splits`
  flattens and standardizes it (notebook 04 with ``DATA_SOURCE = "mnist"``).
* :func:`plot_weight_images` draws a linear classifier's weights as images (notebook 04, hw 1).
* :func:`computation_graph` and :func:`plot_computation_graph` walk autograd's graph from a
  result to its leaves (``grad_fn.next_functions``) and draw it: the lesson of notebook 02.
* ``load_tabular`` is :func:`bios740.datasets.tabular.load_tabular`, re-exported for hw 1.

Splits and scaling come from scikit-learn, digit grids from ``bios740.plotting.show_images``.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np
import torch

from bios740.datasets.tabular import TabularSplits, load_tabular, make_splits, split_indices  # noqa: F401
from bios740.download import DataUnavailableError
from bios740.paths import data_dir

__all__ = ["MNISTData", "computation_graph", "load_mnist", "load_tabular", "mnist_splits"]
__all__ += ["plot_computation_graph", "plot_weight_images"]


@dataclass
class MNISTData:
    """MNIST as tensors: images ``uint8 (n, 28, 28)``, labels ``int64 (n,)``."""

    train_images: torch.Tensor
    train_labels: torch.Tensor
    test_images: torch.Tensor
    test_labels: torch.Tensor

    def __repr__(self) -> str:
        return f"MNISTData(train={tuple(self.train_images.shape)}, test={tuple(self.test_images.shape)})"


def load_mnist(root=None, download: bool = False) -> MNISTData:
    """Load MNIST's training and test images with ``torchvision.datasets.MNIST``.

    Args:
        root: the folder that holds ``MNIST/raw/`` with the four uncompressed IDX files
            (``train-images-idx3-ubyte`` ...); None means ``bios740.paths.data_dir("mnist")``
            (on Colab, on Drive, so the files stay for the next session).
        download: fetch missing files (needs internet; torchvision checks their MD5 sums).

    Raises:
        TypeError: ``root`` is not a path.
        DataUnavailableError: files are missing and were not (or could not be) downloaded.
        ValueError: a file is not valid IDX, or images and labels do not match.
    """
    root = data_dir("mnist") if root is None else root
    if not isinstance(root, (str, Path)):
        raise TypeError(f"root must be a folder path (str or Path), not {type(root).__name__}")
    from torchvision.datasets import MNIST

    raw = Path(root).expanduser() / "MNIST" / "raw"
    arrays = []
    for train in (True, False):
        try:
            dataset = MNIST(str(raw.parent.parent), train=train, download=download)
        except RuntimeError as error:  # "Dataset not found" or a failed download
            raise DataUnavailableError(
                f"MNIST is not in {raw} ({error}). Call load_mnist(root, download=True) with "
                "internet, or copy train-images-idx3-ubyte, train-labels-idx1-ubyte, "
                "t10k-images-idx3-ubyte and t10k-labels-idx1-ubyte there (uncompressed)."
            ) from error
        except (AssertionError, ValueError, IndexError) as error:  # torchvision's IDX checks
            raise ValueError(
                f"MNIST files in {raw} are not valid IDX ({error!r}); delete them and download again"
            ) from error
        images, labels = dataset.data, dataset.targets.long()
        if images.ndim != 3 or len(images) != len(labels):
            raise ValueError(
                f"MNIST in {raw}: {tuple(images.shape)} images but {len(labels)} labels"
            )
        if len(labels) and (labels.min() < 0 or labels.max() > 9):
            raise ValueError(
                f"MNIST labels in {raw} must be digits 0-9, found {labels.min()}..{labels.max()}"
            )
        arrays += [images, labels]
    return MNISTData(*arrays)


def mnist_splits(
    data: MNISTData,
    train_size: int | None = None,
    val_size: float = 0.2,
    test_size: int | None = None,
    seed: int = 0,
    standardize: bool = True,
    dtype: torch.dtype = torch.float32,
) -> TabularSplits:
    """Turn :class:`MNISTData` into flattened train/validation/test tensors.

    Pixels are scaled to [0, 1] and flattened to 784 features. Validation is a stratified
    share of (a stratified subset of ``train_size``) official training images; the test
    set is the official one (its first ``test_size`` images). With ``standardize``, the
    training rows' ``StandardScaler`` is applied to every split.

    Raises:
        TypeError, ValueError: arguments of the wrong kind or out of range.
    """
    if not isinstance(data, MNISTData):
        raise TypeError(f"data must be the MNISTData of load_mnist, not {type(data).__name__}")
    n_train, labels = len(data.train_labels), data.train_labels.numpy()
    if train_size is not None and not (isinstance(train_size, int) and 10 <= train_size <= n_train):
        raise ValueError(f"train_size must be an int between 10 and {n_train}, got {train_size!r}")
    if test_size is not None and not (isinstance(test_size, int) and test_size >= 1):
        raise ValueError(f"test_size must be a positive int or None, got {test_size!r}")
    pool = np.arange(n_train)
    if train_size is not None and train_size < n_train:
        pool = split_indices(n_train, 0.0, train_size / n_train, seed, stratify=labels)[2]
    splits = make_splits(
        data.train_images[pool].flatten(1).numpy() / 255.0,
        labels[pool],
        val_size=val_size,
        test_size=0.0,
        seed=seed,
        standardize=standardize,
        dtype=dtype,
        image_shape=tuple(data.train_images.shape[1:]),
        name="mnist",
    )
    n_test = len(data.test_labels) if test_size is None else min(test_size, len(data.test_labels))
    test_pixels = data.test_images[:n_test].flatten(1).numpy() / 255.0
    scale = splits.scaler.transform if splits.scaler is not None else np.asarray
    splits.x_test = torch.as_tensor(scale(test_pixels), dtype=dtype)
    splits.y_test = data.test_labels[:n_test].long()
    splits.train_idx, splits.val_idx = pool[splits.train_idx], pool[splits.val_idx]
    splits.test_idx = np.arange(n_test)
    return splits


def plot_weight_images(
    weight,
    image_shape: tuple[int, int],
    class_names: Sequence[str] | None = None,
    title: str = "Logistic-regression weights per class",
    ncols: int = 5,
    size: float = 1.6,
    value_label: str = "weight",
):
    """Draw each row of a linear layer's weight matrix as an image, one colour scale for all.

    Red pixels raise the class score, blue ones lower it; the scale is symmetric about 0.

    Args:
        weight: ``(classes, pixels)`` (e.g. ``nn.Linear(64, 10).weight``) or ``(pixels,)``.
        image_shape: ``(h, w)`` with ``h * w == pixels``.
        class_names: image titles (default: class indices).
        value_label: colour-bar label (say what the weights multiply).

    Returns:
        The matplotlib ``Figure``.

    Raises:
        ValueError: shapes that do not fit together.
    """
    array = (
        weight.detach().cpu().numpy() if isinstance(weight, torch.Tensor) else np.asarray(weight)
    )
    array = np.atleast_2d(array.astype(np.float64))
    if array.ndim != 2:
        raise ValueError(f"weight must be (classes, pixels) or (pixels,), got shape {array.shape}")
    if len(image_shape) != 2 or image_shape[0] * image_shape[1] != array.shape[1]:
        raise ValueError(
            f"image_shape {image_shape!r} does not fit {array.shape[1]} weights per class"
        )
    n_classes = array.shape[0]
    names = [str(c) for c in (class_names if class_names is not None else range(n_classes))]
    if len(names) != n_classes:
        raise ValueError(f"{n_classes} weight rows but {len(names)} class names")
    limit = float(np.abs(array).max()) or 1.0
    ncols = max(1, min(ncols, n_classes))
    nrows = math.ceil(n_classes / ncols)
    fig, axes = plt.subplots(
        nrows, ncols, figsize=(size * ncols + 0.8, size * nrows + 0.6), squeeze=False
    )
    for index, ax in enumerate(axes.flat):
        ax.axis("off")
        if index < n_classes:
            shown = ax.imshow(
                array[index].reshape(image_shape),
                cmap="RdBu_r",
                vmin=-limit,
                vmax=limit,
                interpolation="nearest",
            )
            ax.set_title(f"class {names[index]}", fontsize=9)
    fig.colorbar(shown, ax=axes.ravel().tolist(), shrink=0.8).set_label(value_label)
    fig.suptitle(title)
    return fig


@dataclass
class GraphNode:
    """One node of the backward graph: an operation, a leaf tensor or the output."""

    label: str
    kind: str  # "output", "operation" or "leaf"
    depth: int  # longest distance from the output (the output has depth 0)


def _shape_text(tensor: torch.Tensor) -> str:
    return "scalar" if tensor.ndim == 0 else f"shape {tuple(tensor.shape)}"


def computation_graph(output: torch.Tensor, names: dict[str, torch.Tensor] | None = None):
    """Walk the graph autograd recorded for ``output``, from its ``grad_fn`` to the leaves.

    Every operation on tensors that require gradients leaves a node (``MulBackward0``, ...)
    whose ``next_functions`` point at its inputs' nodes; a leaf with ``requires_grad=True``
    appears as an ``AccumulateGrad`` node, where ``backward()`` deposits its ``.grad``.
    Tensors that need no gradient (data, constants) leave no node.

    Args:
        output: a tensor computed from tensors with ``requires_grad=True``.
        names: optional ``{"w": w, ...}`` to label leaves (and the output) by name.

    Returns:
        ``(nodes, edges)``: ``nodes[0]`` is the output's node; an edge ``(i, j)`` points
        along the forward computation, from input node ``i`` to the node ``j`` using it.

    Raises:
        TypeError: ``output`` is not a tensor.
        ValueError: ``output`` has no recorded graph.
    """
    if not isinstance(output, torch.Tensor):
        raise TypeError(f"output must be a torch.Tensor, not {type(output).__name__}")
    if output.grad_fn is None:
        raise ValueError(
            "output has no grad_fn, so autograd recorded no graph: it is a leaf or was "
            "computed without gradients. Create an input with requires_grad=True and do "
            "not compute under torch.no_grad()."
        )
    label_of = {id(tensor): name for name, tensor in (names or {}).items()}
    functions, index, edges = [output.grad_fn], {id(output.grad_fn): 0}, []
    stack = [output.grad_fn]
    while stack:
        function = stack.pop()
        for parent, _ in function.next_functions:
            if parent is None:  # an input that does not require gradients
                continue
            if id(parent) not in index:
                index[id(parent)] = len(functions)
                functions.append(parent)
                stack.append(parent)
            edges.append((index[id(parent)], index[id(function)]))
    depth = [0] * len(functions)  # longest path to the output, so every edge points rightwards
    for _ in functions:
        for source, target in edges:
            depth[source] = max(depth[source], depth[target] + 1)
    nodes = []
    for position, function in enumerate(functions):
        variable = getattr(function, "variable", None)
        if variable is not None:
            label, kind = f"{label_of.get(id(variable), 'leaf')}\n{_shape_text(variable)}", "leaf"
        else:
            label, kind = type(function).__name__, "operation"
        if position == 0:
            label = f"{label}\n→ {label_of.get(id(output), 'output')}, {_shape_text(output)}"
            kind = "output"
        nodes.append(GraphNode(label=label, kind=kind, depth=depth[position]))
    return nodes, edges


def plot_computation_graph(
    output: torch.Tensor,
    names: dict[str, torch.Tensor] | None = None,
    title: str = "Computation graph recorded by autograd",
    ax=None,
):
    """Draw :func:`computation_graph` with matplotlib boxes and arrows (no graphviz).

    Leaves are green, operations blue, the operation that produced ``output`` orange.
    Arrows follow the forward computation; ``backward()`` walks them in reverse.

    Returns:
        The matplotlib ``Figure``.
    """
    nodes, edges = computation_graph(output, names)
    max_depth = max(node.depth for node in nodes)
    consumers: dict[int, list[int]] = {}
    for source, target in edges:
        consumers.setdefault(source, []).append(target)
    coordinates: dict[int, tuple[float, float]] = {}
    for column in range(max_depth + 1):  # from the output leftwards
        members = [p for p, node in enumerate(nodes) if node.depth == column]
        # each node at the mean height of its consumers, boxes at least one unit apart
        wanted = {
            p: float(np.mean([coordinates[t][1] for t in consumers.get(p, [])] or [0]))
            for p in members
        }
        members.sort(key=wanted.__getitem__)
        ys = [wanted[p] for p in members]
        for k in range(1, len(ys)):
            ys[k] = max(ys[k], ys[k - 1] + 1.0)
        shift = np.mean(list(wanted.values())) - np.mean(ys) if ys else 0.0
        for p, y in zip(members, ys, strict=True):
            coordinates[p] = (float(max_depth - column), y + shift)
    all_y = [y for _, y in coordinates.values()]
    if ax is None:
        fig, ax = plt.subplots(
            figsize=(2.2 * (max_depth + 1) + 0.4, 0.9 * (max(all_y) - min(all_y)) + 1.6)
        )
    fig = ax.figure
    colours = {"leaf": "#c7e9c0", "operation": "#c6dbef", "output": "#fdd0a2"}
    for source, target in edges:
        arrow = {"arrowstyle": "-|>", "color": "0.35", "shrinkA": 30, "shrinkB": 30}
        ax.annotate("", xy=coordinates[target], xytext=coordinates[source], arrowprops=arrow)
    for position, node in enumerate(nodes):
        box = {"boxstyle": "round,pad=0.4", "facecolor": colours[node.kind], "edgecolor": "0.3"}
        ax.text(*coordinates[position], node.label, ha="center", va="center", fontsize=8, bbox=box)
    ax.set_xlim(-0.6, max_depth + 0.6)
    ax.set_ylim(min(all_y) - 0.6, max(all_y) + 0.6)
    ax.axis("off")
    ax.set_title(title)
    return fig
