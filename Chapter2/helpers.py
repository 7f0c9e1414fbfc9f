"""Chapter 2 helpers: small ReLU networks, their linear regions, and 2-D plots.

* :func:`make_relu_mlp`, :func:`make_relu_sum_network` and :func:`make_sawtooth_network`
  build the networks of notebook 01 (a generic MLP, a hand-set sum of hinges, and the
  depth-``L`` tent-map sawtooth with ``2**L`` pieces).
* :func:`activation_patterns`, :func:`count_linear_regions_1d` and
  :func:`count_linear_regions_2d` count linear regions by activation pattern: a forward
  hook records, for every unit of every ``nn.ReLU``/``nn.LeakyReLU`` module, whether its
  pre-activation is positive. Points with the same pattern lie in one region, where the
  network is one affine map (Montúfar et al. 2014). Networks that call ``torch.relu``
  inside ``forward`` cannot be hooked; write them with ``nn.ReLU`` modules.
* :func:`plot_decision_boundary` shades a two-input classifier's output (notebook 01).

Notebook 04 writes its optimizer loop out (it is the lesson); the rest comes from PyTorch.
"""

from __future__ import annotations

from collections.abc import Callable

import matplotlib.pyplot as plt
import numpy as np
import torch
from torch import nn

__all__ = [
    "activation_patterns",
    "count_linear_regions_1d",
    "count_linear_regions_2d",
    "make_relu_mlp",
    "make_relu_sum_network",
    "make_sawtooth_network",
    "plot_decision_boundary",
]

_RECTIFIERS = (nn.ReLU, nn.LeakyReLU)


def make_relu_mlp(input_dim: int, hidden_widths, output_dim: int = 1) -> nn.Sequential:
    """Build ``Linear -> ReLU -> ... -> Linear``; ``make_relu_mlp(2, [8, 8], 1)`` has two hidden layers.

    Raises:
        ValueError: a size that is not a positive int, or no hidden layer.
    """
    for name, value in (("input_dim", input_dim), ("output_dim", output_dim)):
        if not isinstance(value, int) or value < 1:
            raise ValueError(f"{name} must be a positive int, got {value!r}")
    widths = list(hidden_widths)
    if not widths or any(not isinstance(w, int) or w < 1 for w in widths):
        raise ValueError(
            f"hidden_widths must be a non-empty list of positive ints, got {hidden_widths!r}"
        )
    layers: list[nn.Module] = []
    for previous, width in zip([input_dim, *widths[:-1]], widths, strict=True):
        layers += [nn.Linear(previous, width), nn.ReLU()]
    return nn.Sequential(*layers, nn.Linear(widths[-1], output_dim))


def _set(layer: nn.Linear, weight, bias) -> nn.Linear:
    with torch.no_grad():
        layer.weight.copy_(torch.as_tensor(weight, dtype=torch.float32).reshape(layer.weight.shape))
        layer.bias.copy_(torch.as_tensor(bias, dtype=torch.float32).reshape(layer.bias.shape))
    return layer


def make_relu_sum_network(
    knots, slopes, intercept: float = 0.0, linear_slope: float = 0.0
) -> nn.Sequential:
    """Build the 1-D network ``intercept + linear_slope * x + sum_i slopes[i] * relu(x - knots[i])``.

    One hidden unit per knot, so with distinct knots the network has exactly
    ``len(knots) + 1`` linear pieces; a non-zero ``linear_slope`` adds the pair of units
    ``relu(x) - relu(-x) = x``.

    Raises:
        ValueError: no knots, or knots and slopes of different lengths.
    """
    knots = np.asarray(knots, dtype=np.float32).ravel()
    slopes = np.asarray(slopes, dtype=np.float32).ravel()
    if knots.size == 0:
        raise ValueError("knots must hold at least one position")
    if knots.shape != slopes.shape:
        raise ValueError(
            f"knots and slopes must have the same length, got {knots.size} and {slopes.size}"
        )
    in_weights, biases, out_weights = np.ones_like(knots), -knots, slopes
    if linear_slope != 0.0:
        in_weights = np.concatenate([in_weights, [1.0, -1.0]])
        biases = np.concatenate([biases, [0.0, 0.0]])
        out_weights = np.concatenate([out_weights, [linear_slope, -linear_slope]])
    hidden = _set(nn.Linear(1, in_weights.size), in_weights, biases)
    return nn.Sequential(
        hidden, nn.ReLU(), _set(nn.Linear(in_weights.size, 1), out_weights, intercept)
    )


def make_sawtooth_network(depth: int) -> nn.Sequential:
    """Build a deep ReLU network that composes the tent map ``depth`` times on [0, 1].

    Each hidden layer has two units, ``relu(z)`` and ``relu(z - 1/2)``, which the next
    layer combines into ``t(z) = 2 relu(z) - 4 relu(z - 1/2)``. ``depth`` compositions give
    a sawtooth with ``2**depth`` linear pieces on (0, 1) from ``O(depth)`` parameters: the
    construction of Telgarsky's (2015, 2016) depth separation; Montúfar et al. (2014)
    count regions of deep networks the same way.

    Raises:
        ValueError: ``depth`` is not a positive int.
    """
    if not isinstance(depth, int) or depth < 1:
        raise ValueError(f"depth must be a positive int, got {depth!r}")
    layers: list[nn.Module] = [_set(nn.Linear(1, 2), [[1.0], [1.0]], [0.0, -0.5]), nn.ReLU()]
    for _ in range(depth - 1):  # t(z) from the two units, split again into relu(t), relu(t - 1/2)
        layers += [_set(nn.Linear(2, 2), [[2.0, -4.0], [2.0, -4.0]], [0.0, -0.5]), nn.ReLU()]
    return nn.Sequential(*layers, _set(nn.Linear(2, 1), [[2.0, -4.0]], [0.0]))


def _input_features(model: nn.Module) -> int | None:
    return next((m.in_features for m in model.modules() if isinstance(m, nn.Linear)), None)


def activation_patterns(model: nn.Module, x) -> np.ndarray:
    """Return the ReLU activation pattern of every input point.

    Args:
        model: a network whose nonlinearities are ``nn.ReLU``/``nn.LeakyReLU`` modules.
        x: array or tensor ``(n_points, n_features)``.

    Returns:
        Bool array ``(n_points, n_units)``: True where a unit's pre-activation is positive,
        the units of all rectifier layers side by side.

    Raises:
        TypeError: ``model`` is not a module.
        ValueError: no rectifier modules, or ``x`` of the wrong shape.
    """
    if not isinstance(model, nn.Module):
        raise TypeError(f"model must be a torch.nn.Module, got {type(model).__name__}")
    rectifiers = [m for m in model.modules() if isinstance(m, _RECTIFIERS)]
    if not rectifiers:
        raise ValueError(
            "model has no nn.ReLU or nn.LeakyReLU modules to hook; build it with nn.ReLU() "
            "layers rather than calling torch.relu/F.relu inside forward()"
        )
    parameter = next(model.parameters(), None)
    points = torch.as_tensor(x if torch.is_tensor(x) else np.asarray(x), dtype=torch.float32)
    if points.ndim != 2:
        raise ValueError(f"x must have shape (n_points, n_features), got {tuple(points.shape)}")
    expected = _input_features(model)
    if expected is not None and points.shape[1] != expected:
        raise ValueError(
            f"x has {points.shape[1]} features but the model's first Linear layer expects {expected}"
        )
    recorded: list[torch.Tensor] = []
    hook = lambda _m, inputs, _o: recorded.append((inputs[0] > 0).flatten(1).cpu())  # noqa: E731
    handles = [m.register_forward_hook(hook) for m in rectifiers]
    try:
        with torch.no_grad():
            model(points.to(parameter.device if parameter is not None else "cpu"))
    finally:
        for handle in handles:
            handle.remove()
    return torch.cat(recorded, dim=1).numpy()


def count_linear_regions_1d(
    model: nn.Module, start: float = -1.0, end: float = 1.0, num_points: int = 10_001
) -> int:
    """Count the linear regions of a one-input network along ``[start, end]``.

    One plus the number of pattern changes between neighbouring grid points. Regions of a
    ReLU network are convex, so each meets the line in one interval. Regions narrower than
    the grid spacing are missed (a lower bound, exact as ``num_points`` grows); a grid
    point exactly on a kink can form a pattern of its own, so keep grids off round kinks.

    Raises:
        ValueError: a bad interval or grid, or a model without exactly one input.
    """
    if not np.isfinite([start, end]).all() or not start < end:
        raise ValueError(f"need finite start < end, got start={start!r}, end={end!r}")
    if not isinstance(num_points, int) or num_points < 2:
        raise ValueError(f"num_points must be an int >= 2, got {num_points!r}")
    if _input_features(model) not in (None, 1):
        raise ValueError(
            f"count_linear_regions_1d needs a model with 1 input feature, the model has "
            f"{_input_features(model)}; use count_linear_regions_2d for 2 inputs"
        )
    patterns = activation_patterns(model, np.linspace(start, end, num_points)[:, None])
    return int(np.any(patterns[1:] != patterns[:-1], axis=1).sum()) + 1


def count_linear_regions_2d(
    model: nn.Module,
    xlim=(-1.0, 1.0),
    ylim=(-1.0, 1.0),
    resolution: int = 200,
    return_map: bool = False,
):
    """Count the distinct activation patterns of a two-input network on a grid (a lower bound).

    With ``return_map=True`` also return the ``(resolution, resolution)`` int array (rows
    along y) of each grid point's region index.

    Raises:
        ValueError: bad limits or resolution, or a model without exactly two inputs.
    """
    for name, lim in (("xlim", xlim), ("ylim", ylim)):
        if len(lim) != 2 or not np.isfinite(lim).all() or not lim[0] < lim[1]:
            raise ValueError(f"{name} must be (low, high) with low < high, got {lim!r}")
    if not isinstance(resolution, int) or resolution < 2:
        raise ValueError(f"resolution must be an int >= 2, got {resolution!r}")
    if _input_features(model) not in (None, 2):
        raise ValueError(
            f"count_linear_regions_2d needs a model with 2 input features, the model has {_input_features(model)}"
        )
    grid_x, grid_y = np.meshgrid(np.linspace(*xlim, resolution), np.linspace(*ylim, resolution))
    patterns = activation_patterns(model, np.column_stack([grid_x.ravel(), grid_y.ravel()]))
    _, region_index = np.unique(patterns, axis=0, return_inverse=True)
    count = int(region_index.max()) + 1
    return (count, region_index.reshape(resolution, resolution)) if return_map else count


def _axes(ax):
    if ax is None:
        return plt.subplots(figsize=(5, 4))[1]
    if not isinstance(ax, plt.Axes):
        raise TypeError(f"ax must be a matplotlib Axes or None, got {type(ax).__name__}")
    return ax


def plot_decision_boundary(
    predict: Callable,
    X,
    y,
    ax=None,
    resolution: int = 200,
    padding: float = 0.5,
    title: str = "Decision boundary",
    xlabel: str = "$x_1$",
    ylabel: str = "$x_2$",
):
    """Shade a classifier's output over the plane and scatter the data on top.

    ``predict`` maps a float array ``(n, 2)`` to ``(n,)`` class labels or positive-class
    probabilities; probabilities are drawn with a colour bar and the 0.5 contour.

    Returns:
        The Axes.

    Raises:
        TypeError, ValueError: a non-callable ``predict`` or mismatched shapes.
    """
    if not callable(predict):
        raise TypeError("predict must be a callable mapping an (n, 2) array to (n,) values")
    X, y = np.asarray(X, dtype=float), np.asarray(y).ravel()
    if X.ndim != 2 or X.shape[1] != 2:
        raise ValueError(f"X must have shape (n_points, 2), got {X.shape}")
    if y.shape[0] != X.shape[0]:
        raise ValueError(f"y has {y.shape[0]} labels but X has {X.shape[0]} points")
    ax = _axes(ax)
    (x_min, y_min), (x_max, y_max) = X.min(axis=0) - padding, X.max(axis=0) + padding
    grid_x, grid_y = np.meshgrid(
        np.linspace(x_min, x_max, resolution), np.linspace(y_min, y_max, resolution)
    )
    values = predict(np.column_stack([grid_x.ravel(), grid_y.ravel()]))
    values = np.asarray(
        values.detach().cpu() if torch.is_tensor(values) else values, dtype=float
    ).ravel()
    if values.size != grid_x.size:
        raise ValueError(
            f"predict returned {values.size} values for {grid_x.size} grid points; it must return one label or probability per row"
        )
    values = values.reshape(grid_x.shape)
    if values.min() >= 0 and values.max() <= 1 and not np.all(values == values.round()):
        mesh = ax.contourf(grid_x, grid_y, values, levels=np.linspace(0, 1, 11), cmap="RdBu_r")
        ax.contour(grid_x, grid_y, values, levels=[0.5], colors="k", linewidths=1.5)
        plt.colorbar(mesh, ax=ax, label="P(class 1)")
    else:
        ax.contourf(grid_x, grid_y, values, alpha=0.35, cmap="RdBu_r")
    ax.scatter(X[:, 0], X[:, 1], c=y, cmap="RdBu_r", edgecolors="k", s=25)
    ax.set(title=title, xlabel=xlabel, ylabel=ylabel)
    return ax
