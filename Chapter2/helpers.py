"""Reusable code for Chapter 2 (neural networks).

Plotting of decision boundaries, loss surfaces and optimizer paths, running a
``torch.optim`` optimizer on a two-parameter function, and counting the linear
regions of small ReLU networks by their activation patterns.

The region counters work for any ``nn.Module`` whose nonlinearities are
``nn.ReLU`` (or ``nn.LeakyReLU``) modules: a forward hook records, for every
unit, whether its pre-activation is positive. Points with the same pattern lie
in the same region, where the network is one affine function (Montufar et al.,
2014). Networks that call ``torch.relu`` or ``F.relu`` directly cannot be
hooked; write them with ``nn.ReLU`` modules instead.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping

import matplotlib.pyplot as plt
import numpy as np
import torch
from torch import nn

__all__ = [
    "activation_patterns",
    "count_linear_regions_1d",
    "count_linear_regions_2d",
    "count_parameters",
    "make_relu_sum_network",
    "make_sawtooth_network",
    "make_relu_mlp",
    "plot_decision_boundary",
    "plot_loss_surface",
    "plot_optimizer_paths",
    "run_optimizer",
]

_RECTIFIERS = (nn.ReLU, nn.LeakyReLU)


# --------------------------------------------------------------------------- #
# Small networks
# --------------------------------------------------------------------------- #
def count_parameters(model: nn.Module) -> int:
    """Return the number of trainable parameters (weights and biases) of ``model``."""
    if not isinstance(model, nn.Module):
        raise TypeError(f"model must be a torch.nn.Module, got {type(model).__name__}")
    return sum(p.numel() for p in model.parameters() if p.requires_grad)


def make_relu_mlp(input_dim: int, hidden_widths: list[int] | tuple[int, ...], output_dim: int = 1):
    """Build ``Linear -> ReLU -> ... -> Linear`` with the given hidden widths.

    Example: ``make_relu_mlp(2, [8, 8], 1)`` has two hidden layers of 8 units.
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
    previous = input_dim
    for width in widths:
        layers += [nn.Linear(previous, width), nn.ReLU()]
        previous = width
    layers.append(nn.Linear(previous, output_dim))
    return nn.Sequential(*layers)


def make_relu_sum_network(
    knots, slopes, intercept: float = 0.0, linear_slope: float = 0.0
) -> nn.Sequential:
    """Hand-built one-hidden-layer ReLU network on the real line.

    The network computes ``intercept + linear_slope * x + sum_i slopes[i] * relu(x - knots[i])``
    with one hidden unit per knot, so it is piecewise linear with a kink at each
    knot and has exactly ``len(knots) + 1`` activation regions when the knots are
    distinct. ``linear_slope`` is realized by one extra pair of units
    ``relu(x) - relu(-x)`` only when it is non-zero.
    """
    knots_t = torch.as_tensor(np.asarray(knots, dtype=np.float32)).flatten()
    slopes_t = torch.as_tensor(np.asarray(slopes, dtype=np.float32)).flatten()
    if knots_t.numel() == 0:
        raise ValueError("knots must hold at least one position")
    if knots_t.shape != slopes_t.shape:
        raise ValueError(
            f"knots and slopes must have the same length, got {knots_t.numel()} and "
            f"{slopes_t.numel()}"
        )
    in_weights = torch.ones(knots_t.numel())
    biases = -knots_t
    out_weights = slopes_t.clone()
    if linear_slope != 0.0:
        # relu(x) - relu(-x) == x: a linear term needs two extra units
        in_weights = torch.cat([in_weights, torch.tensor([1.0, -1.0])])
        biases = torch.cat([biases, torch.zeros(2)])
        out_weights = torch.cat([out_weights, torch.tensor([linear_slope, -linear_slope])])
    hidden = nn.Linear(1, in_weights.numel())
    output = nn.Linear(in_weights.numel(), 1)
    with torch.no_grad():
        hidden.weight.copy_(in_weights[:, None])
        hidden.bias.copy_(biases)
        output.weight.copy_(out_weights[None, :])
        output.bias.fill_(float(intercept))
    return nn.Sequential(hidden, nn.ReLU(), output)


def make_sawtooth_network(depth: int) -> nn.Sequential:
    """Deep ReLU network that composes the tent map ``depth`` times on [0, 1].

    Each hidden layer has two units, ``relu(z)`` and ``relu(z - 1/2)``, and the
    next layer combines them into the tent map ``t(z) = 2 relu(z) - 4 relu(z - 1/2)``.
    Composing it ``depth`` times gives a sawtooth with ``2**depth`` linear
    pieces on the open interval (0, 1) from only ``O(depth)`` parameters: the
    construction behind the depth-separation results of Montufar et al. (2014).
    """
    if not isinstance(depth, int) or depth < 1:
        raise ValueError(f"depth must be a positive int, got {depth!r}")
    layers: list[nn.Module] = []
    first = nn.Linear(1, 2)
    with torch.no_grad():
        first.weight.copy_(torch.tensor([[1.0], [1.0]]))
        first.bias.copy_(torch.tensor([0.0, -0.5]))
    layers += [first, nn.ReLU()]
    for _ in range(depth - 1):
        # combine the two units into t(z), then split t(z) again into relu(t) and relu(t - 1/2)
        middle = nn.Linear(2, 2)
        with torch.no_grad():
            middle.weight.copy_(torch.tensor([[2.0, -4.0], [2.0, -4.0]]))
            middle.bias.copy_(torch.tensor([0.0, -0.5]))
        layers += [middle, nn.ReLU()]
    last = nn.Linear(2, 1)
    with torch.no_grad():
        last.weight.copy_(torch.tensor([[2.0, -4.0]]))
        last.bias.zero_()
    layers.append(last)
    return nn.Sequential(*layers)


# --------------------------------------------------------------------------- #
# Activation patterns and linear regions
# --------------------------------------------------------------------------- #
def _input_features(model: nn.Module) -> int | None:
    for module in model.modules():
        if isinstance(module, nn.Linear):
            return module.in_features
    return None


def activation_patterns(model: nn.Module, x) -> np.ndarray:
    """Return the ReLU activation pattern of every input point.

    Parameters
    ----------
    model : nn.Module
        Network whose nonlinearities are ``nn.ReLU``/``nn.LeakyReLU`` modules.
    x : array-like or tensor of shape (n_points, n_features)

    Returns
    -------
    numpy bool array of shape (n_points, n_units): True where a unit's
    pre-activation is positive, units of all rectifier layers side by side.
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
    device = parameter.device if parameter is not None else torch.device("cpu")
    x_t = torch.as_tensor(np.asarray(x) if not torch.is_tensor(x) else x, dtype=torch.float32)
    if x_t.ndim != 2:
        raise ValueError(f"x must have shape (n_points, n_features), got {tuple(x_t.shape)}")
    expected = _input_features(model)
    if expected is not None and x_t.shape[1] != expected:
        raise ValueError(
            f"x has {x_t.shape[1]} features but the model's first Linear layer expects {expected}"
        )
    recorded: list[torch.Tensor] = []

    def hook(_module, inputs, _output):
        recorded.append((inputs[0] > 0).reshape(inputs[0].shape[0], -1).cpu())

    handles = [m.register_forward_hook(hook) for m in rectifiers]
    try:
        with torch.no_grad():
            model(x_t.to(device))
    finally:
        for handle in handles:
            handle.remove()
    return torch.cat(recorded, dim=1).numpy()


def count_linear_regions_1d(
    model: nn.Module, start: float = -1.0, end: float = 1.0, num_points: int = 10_001
) -> int:
    """Count the linear regions of a network with one input along ``[start, end]``.

    The interval is sampled at ``num_points`` evenly spaced points and the count is
    one plus the number of places where the activation pattern changes between
    neighbouring points. Each activation region of a ReLU network is convex, so it
    meets a line in one interval and this equals the number of distinct patterns.
    Regions narrower than the grid spacing can be missed: the result is a lower
    bound that becomes exact as ``num_points`` grows. A grid point that falls exactly
    on a kink (a pre-activation of exactly 0) can form a pattern of its own; for
    hand-built networks with kinks at round numbers, choose a grid that avoids them.
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
    grid = np.linspace(start, end, num_points, dtype=np.float64)[:, None]
    patterns = activation_patterns(model, grid)
    changes = np.any(patterns[1:] != patterns[:-1], axis=1)
    return int(changes.sum()) + 1


def count_linear_regions_2d(
    model: nn.Module,
    xlim: tuple[float, float] = (-1.0, 1.0),
    ylim: tuple[float, float] = (-1.0, 1.0),
    resolution: int = 200,
    return_map: bool = False,
):
    """Count the linear regions of a network with two inputs inside a rectangle.

    The rectangle is sampled on a ``resolution x resolution`` grid and the count is
    the number of distinct activation patterns. With ``return_map=True`` also return
    an int array of shape (resolution, resolution), rows along y, giving each grid
    point's region index (for ``plt.imshow``/``pcolormesh``). Regions smaller than
    a grid cell can be missed, so the count is a lower bound.
    """
    for name, lim in (("xlim", xlim), ("ylim", ylim)):
        if len(lim) != 2 or not np.isfinite(lim).all() or not lim[0] < lim[1]:
            raise ValueError(f"{name} must be (low, high) with low < high, got {lim!r}")
    if not isinstance(resolution, int) or resolution < 2:
        raise ValueError(f"resolution must be an int >= 2, got {resolution!r}")
    if _input_features(model) not in (None, 2):
        raise ValueError(
            f"count_linear_regions_2d needs a model with 2 input features, the model has "
            f"{_input_features(model)}"
        )
    xs = np.linspace(*xlim, resolution)
    ys = np.linspace(*ylim, resolution)
    grid_x, grid_y = np.meshgrid(xs, ys)
    points = np.column_stack([grid_x.ravel(), grid_y.ravel()])
    patterns = activation_patterns(model, points)
    _, region_index = np.unique(patterns, axis=0, return_inverse=True)
    count = int(region_index.max()) + 1
    if return_map:
        return count, region_index.reshape(resolution, resolution)
    return count


# --------------------------------------------------------------------------- #
# Plotting
# --------------------------------------------------------------------------- #
def _check_ax(ax):
    if ax is None:
        _, ax = plt.subplots(figsize=(5, 4))
    elif not isinstance(ax, plt.Axes):
        raise TypeError(f"ax must be a matplotlib Axes or None, got {type(ax).__name__}")
    return ax


def plot_decision_boundary(
    predict: Callable[[np.ndarray], np.ndarray],
    X,
    y,
    ax=None,
    resolution: int = 200,
    padding: float = 0.5,
    title: str = "Decision boundary",
    xlabel: str = "$x_1$",
    ylabel: str = "$x_2$",
):
    """Shade the predicted class over a 2-D plane and scatter the data on top.

    ``predict`` maps a float array of shape (n, 2) to class labels or positive-class
    probabilities of shape (n,) (a torch model can be wrapped in a lambda). Values in
    [0, 1] are drawn as a probability map with the 0.5 contour; integer labels as
    filled classes. Returns the Axes.
    """
    if not callable(predict):
        raise TypeError("predict must be a callable mapping an (n, 2) array to (n,) values")
    X = np.asarray(X, dtype=float)
    y = np.asarray(y).ravel()
    if X.ndim != 2 or X.shape[1] != 2:
        raise ValueError(f"X must have shape (n_points, 2), got {X.shape}")
    if y.shape[0] != X.shape[0]:
        raise ValueError(f"y has {y.shape[0]} labels but X has {X.shape[0]} points")
    ax = _check_ax(ax)
    x_min, y_min = X.min(axis=0) - padding
    x_max, y_max = X.max(axis=0) + padding
    grid_x, grid_y = np.meshgrid(
        np.linspace(x_min, x_max, resolution), np.linspace(y_min, y_max, resolution)
    )
    values = predict(np.column_stack([grid_x.ravel(), grid_y.ravel()]))
    if torch.is_tensor(values):
        values = values.detach().cpu().numpy()
    values = np.asarray(values, dtype=float).reshape(-1)
    if values.size != grid_x.size:
        raise ValueError(
            f"predict returned {values.size} values for {grid_x.size} grid points; it must "
            "return one label or probability per row"
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


def plot_loss_surface(
    loss: Callable[[np.ndarray, np.ndarray], np.ndarray],
    xlim: tuple[float, float],
    ylim: tuple[float, float],
    ax=None,
    resolution: int = 200,
    levels: int = 30,
    log_scale: bool = True,
    title: str = "Loss surface",
    xlabel: str = "$w_1$",
    ylabel: str = "$w_2$",
):
    """Draw contour lines of a two-parameter loss ``loss(w1, w2)``.

    ``loss`` must accept two NumPy arrays of the same shape and return loss values of
    that shape (write it with NumPy operations). With ``log_scale`` the contour levels
    are spaced logarithmically, which shows narrow valleys better. Returns the Axes.
    """
    if not callable(loss):
        raise TypeError("loss must be a callable loss(w1, w2) working on NumPy arrays")
    for name, lim in (("xlim", xlim), ("ylim", ylim)):
        if len(lim) != 2 or not lim[0] < lim[1]:
            raise ValueError(f"{name} must be (low, high) with low < high, got {lim!r}")
    ax = _check_ax(ax)
    grid_x, grid_y = np.meshgrid(np.linspace(*xlim, resolution), np.linspace(*ylim, resolution))
    values = np.asarray(loss(grid_x, grid_y), dtype=float)
    if values.shape != grid_x.shape:
        raise ValueError(
            f"loss returned shape {values.shape} for inputs of shape {grid_x.shape}; it must "
            "work element-wise on NumPy arrays"
        )
    if not np.isfinite(values).all():
        raise ValueError("loss returned NaN or inf inside the window; shrink xlim/ylim")
    if values.max() <= values.min():
        raise ValueError("loss is constant over the window; there are no contours to draw")
    if log_scale:
        if values.min() < 0:
            raise ValueError("log_scale=True needs a non-negative loss; pass log_scale=False")
        # start the levels a little above the minimum (log of 0 is undefined)
        low = max(values.min(), 1e-8 * values.max())
        contour_levels = np.geomspace(low, values.max(), levels)
    else:
        contour_levels = np.linspace(values.min(), values.max(), levels)
    ax.contour(grid_x, grid_y, values, levels=contour_levels, cmap="viridis", linewidths=0.8)
    ax.set(title=title, xlabel=xlabel, ylabel=ylabel, xlim=xlim, ylim=ylim)
    return ax


def plot_optimizer_paths(
    paths: Mapping[str, np.ndarray],
    ax=None,
    minimum: tuple[float, float] | None = None,
    title: str | None = None,
):
    """Draw optimizer trajectories (one ``(steps + 1, 2)`` array per name) on an Axes.

    Usually called after :func:`plot_loss_surface` on the same Axes. ``minimum``
    marks the true minimizer with a star. Returns the Axes.
    """
    if not isinstance(paths, Mapping) or not paths:
        raise ValueError("paths must be a non-empty dict {name: array of shape (steps + 1, 2)}")
    ax = _check_ax(ax)
    for name, path in paths.items():
        path = np.asarray(path, dtype=float)
        if path.ndim != 2 or path.shape[1] != 2:
            raise ValueError(f"path {name!r} must have shape (steps + 1, 2), got {path.shape}")
        (line,) = ax.plot(path[:, 0], path[:, 1], "-", lw=1.3, label=name)
        ax.plot(path[-1, 0], path[-1, 1], "o", color=line.get_color(), ms=4)
    if minimum is not None:
        ax.plot(*minimum, "*", color="k", ms=12, label="minimum")
    if title is not None:
        ax.set_title(title)
    ax.legend(fontsize=7, loc="best")
    return ax


def run_optimizer(
    loss: Callable[[torch.Tensor], torch.Tensor],
    start,
    optimizer_class: type[torch.optim.Optimizer],
    steps: int,
    **optimizer_kwargs,
) -> np.ndarray:
    """Minimize ``loss(w)`` over a 2-vector ``w`` with a ``torch.optim`` optimizer.

    ``loss`` receives a float64 tensor of shape (2,) and must return a scalar tensor.
    Returns the path as a NumPy array of shape (steps + 1, 2), the start included.
    Example: ``run_optimizer(f, [-1.5, 2.0], torch.optim.Adam, 200, lr=0.05)``.
    """
    if not (
        isinstance(optimizer_class, type) and issubclass(optimizer_class, torch.optim.Optimizer)
    ):
        raise TypeError(
            f"optimizer_class must be a torch.optim.Optimizer class such as torch.optim.SGD, "
            f"got {optimizer_class!r}"
        )
    if not isinstance(steps, int) or steps < 1:
        raise ValueError(f"steps must be a positive int, got {steps!r}")
    w = torch.tensor(np.asarray(start, dtype=np.float64).ravel(), requires_grad=True)
    if w.numel() != 2:
        raise ValueError(f"start must hold 2 numbers, got {w.numel()}")
    optimizer = optimizer_class([w], **optimizer_kwargs)
    path = [w.detach().clone().numpy()]
    for _ in range(steps):
        optimizer.zero_grad()
        value = loss(w)
        if not torch.is_tensor(value) or value.numel() != 1:
            raise ValueError("loss(w) must return a scalar tensor")
        value.backward()
        optimizer.step()
        path.append(w.detach().clone().numpy())
    return np.stack(path)
