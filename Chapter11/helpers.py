"""Chapter 11 helpers: SIR simulator, forecast scores, quantile and graph GRUs, bootstraps.

The notebooks write each idea out once (RK4, the SIR fit, the interval score, the graph
convolution) and check it against a library; the versions here are what later notebooks
reuse. Shapes: time series are ``(seq_len, n_series)``; windows are
``(n_samples, seq_len, n_features)``; quantile forecasts are ``(n_samples, n_quantiles)``.

The module is longer than the course's 300 lines because notebooks 03, 04 and 05 share one
quantile head, one graph-convolutional GRU and one grouped bootstrap, which only this
chapter needs.
"""

from __future__ import annotations

import numpy as np
import torch
from torch import nn

from bios740.stats import bootstrap_samples, percentile_interval

#: Quantile levels of a 95%, 80% and 50% interval plus the median (a small FluSight set).
QUANTILE_LEVELS = (0.025, 0.1, 0.25, 0.5, 0.75, 0.9, 0.975)


def rk4_step(rhs, y: torch.Tensor, dt: float) -> torch.Tensor:
    """Advance ``dy/dt = rhs(y)`` by one classical Runge-Kutta (RK4) step of size ``dt``."""
    k1 = rhs(y)
    k2 = rhs(y + dt / 2 * k1)
    k3 = rhs(y + dt / 2 * k2)
    k4 = rhs(y + dt * k3)
    return y + dt / 6 * (k1 + 2 * k2 + 2 * k3 + k4)


def simulate_sir(beta, gamma, initial_infected: float, days: int, steps_per_day: int = 4):
    """Solve the SIR model with RK4 in torch, differentiable in ``beta`` and ``gamma``.

    ``dS/dt = -beta S I``, ``dI/dt = beta S I - gamma I``, ``dR/dt = gamma I`` on fractions
    of the population (rates per day).

    Parameters broadcast against each other, so one call solves a whole batch of models
    (many fits at once cost about as much as one).

    Args:
        beta, gamma: transmission and recovery rates; tensors (gradients flow) or floats.
        initial_infected: infected fraction on day 0, in (0, 1); a tensor or a float.
        days: number of days; ``steps_per_day``: RK4 steps per day.

    Returns:
        ``(trajectory, incidence)``: ``(days + 1, *batch, 3)`` fractions S, I, R at each day
        and ``(days, *batch)`` new infections per day (the fall of S over that day).
    """
    i0 = torch.as_tensor(initial_infected, dtype=torch.float64)
    if not ((i0.detach() > 0) & (i0.detach() < 1)).all():
        raise ValueError(f"initial_infected is a fraction in (0, 1), got {initial_infected}")
    if int(days) < 1 or int(steps_per_day) < 1:
        raise ValueError("days and steps_per_day must be positive integers")
    beta = torch.as_tensor(beta, dtype=torch.float64)
    gamma = torch.as_tensor(gamma, dtype=torch.float64)
    dt = 1.0 / int(steps_per_day)

    def rhs(s, i):
        infection = beta * s * i
        return -infection, infection - gamma * i

    # S and I are kept as two tensors (R = 1 - S - I): fewer small operations per step,
    # which is what a Python-level ODE loop spends its time on.
    s = (
        1
        - i0
        + torch.zeros(
            torch.broadcast_shapes(beta.shape, gamma.shape, i0.shape), dtype=torch.float64
        )
    )
    i = i0 + torch.zeros_like(s)
    states = [(s, i)]
    for _ in range(int(days)):
        for _ in range(int(steps_per_day)):
            ds1, di1 = rhs(s, i)
            ds2, di2 = rhs(s + dt / 2 * ds1, i + dt / 2 * di1)
            ds3, di3 = rhs(s + dt / 2 * ds2, i + dt / 2 * di2)
            ds4, di4 = rhs(s + dt * ds3, i + dt * di3)
            s = s + dt / 6 * (ds1 + 2 * ds2 + 2 * ds3 + ds4)
            i = i + dt / 6 * (di1 + 2 * di2 + 2 * di3 + di4)
        states.append((s, i))
    s_all = torch.stack([state[0] for state in states])
    i_all = torch.stack([state[1] for state in states])
    trajectory = torch.stack([s_all, i_all, 1 - s_all - i_all], dim=-1)
    return trajectory, s_all[:-1] - s_all[1:]


def check_quantiles(quantiles: torch.Tensor | np.ndarray, levels=QUANTILE_LEVELS) -> np.ndarray:
    """Return quantile forecasts as an array after checking shape, levels and order.

    Raises:
        ValueError: when the last axis is not one value per level, when levels are not
            increasing in (0, 1), or when quantiles cross (a higher level below a lower one).
    """
    values = np.asarray(torch.as_tensor(quantiles).detach().cpu(), dtype=float)
    levels = np.asarray(levels, dtype=float)
    if levels.ndim != 1 or not ((levels > 0) & (levels < 1)).all() or (np.diff(levels) <= 0).any():
        raise ValueError(f"levels must increase strictly inside (0, 1), got {levels.tolist()}")
    if values.shape[-1] != levels.size:
        raise ValueError(
            f"quantiles must have {levels.size} values on the last axis, got {values.shape}"
        )
    if (np.diff(values, axis=-1) < -1e-9).any():
        raise ValueError("quantiles cross: sort them along the last axis (or fix the model)")
    return values


def weighted_interval_score(observed, quantiles, levels=QUANTILE_LEVELS) -> np.ndarray:
    """Return the weighted interval score (Bracher et al., 2021) of each quantile forecast.

    With the median ``m`` and central ``(1 - alpha)`` intervals ``[l, u]`` for K values of
    alpha, ``WIS = (|y - m| / 2 + sum_k alpha_k / 2 * IS_alpha_k) / (K + 1/2)`` where
    ``IS_alpha = (u - l) + 2/alpha (l - y)_+ + 2/alpha (y - u)_+``. It equals twice the
    mean quantile (pinball) loss over the ``2K + 1`` levels. Lower is better.

    Args:
        observed: ``(n,)`` outcomes; quantiles: ``(n, len(levels))``; levels must be
            symmetric around a median level 0.5.

    Returns:
        ``(n,)`` scores.
    """
    values = check_quantiles(quantiles, levels)
    levels = np.asarray(levels, dtype=float)
    y = np.asarray(observed, dtype=float)
    if values.shape[:-1] != y.shape:
        raise ValueError(f"observed has shape {y.shape} but quantiles {values.shape}")
    if levels.size % 2 == 0 or not np.allclose(levels + levels[::-1], 1):
        raise ValueError("levels must be symmetric around 0.5 and include it")
    middle = levels.size // 2
    score = 0.5 * np.abs(y - values[..., middle])
    for k in range(middle):
        alpha = 2 * levels[k]
        lower, upper = values[..., k], values[..., -1 - k]
        interval = (upper - lower) + 2 / alpha * (
            np.clip(lower - y, 0, None) + np.clip(y - upper, 0, None)
        )
        score = score + alpha / 2 * interval
    return score / (middle + 0.5)


def pinball_loss(
    outputs: torch.Tensor, targets: torch.Tensor, levels=QUANTILE_LEVELS
) -> torch.Tensor:
    """Mean quantile loss of ``(n, n_levels)`` quantile outputs for ``(n,)`` targets (a torch loss)."""
    levels = torch.as_tensor(levels, dtype=outputs.dtype, device=outputs.device)
    if outputs.shape[-1] != levels.numel() or outputs.shape[:-1] != targets.shape:
        raise ValueError(
            f"outputs {tuple(outputs.shape)} do not match targets {tuple(targets.shape)}"
        )
    error = targets[..., None] - outputs
    return torch.maximum(levels * error, (levels - 1) * error).mean()


def sliding_windows(series: np.ndarray, window: int, horizon: int = 1):
    """Cut ``(seq_len, n_series)`` into inputs ``(n, window, n_series)`` and targets ``(n, n_series)``.

    The target of a window is the value ``horizon`` steps after its last input.
    """
    series = np.asarray(series, dtype=float)
    if series.ndim != 2:
        raise ValueError(
            f"series must be (seq_len, n_series), got {series.shape}; use series[:, None]"
        )
    count = series.shape[0] - window - horizon + 1
    if window < 1 or horizon < 1 or count < 1:
        raise ValueError(
            f"{series.shape[0]} time points are too few for window {window} + horizon {horizon}"
        )
    inputs = np.stack([series[t : t + window] for t in range(count)])
    targets = series[window + horizon - 1 : window + horizon - 1 + count]
    return inputs, targets


class QuantileGRU(nn.Module):
    """A GRU that reads a window ``(batch, seq_len, n_features)`` and outputs sorted quantiles.

    The median comes from a linear head; the other quantiles are the median plus or minus
    cumulative softplus gaps, so they can never cross.
    """

    def __init__(
        self, n_features: int, hidden_size: int = 16, n_quantiles: int = len(QUANTILE_LEVELS)
    ):
        super().__init__()
        if n_quantiles % 2 == 0:
            raise ValueError("n_quantiles must be odd (a median and symmetric intervals)")
        self.gru = nn.GRU(n_features, hidden_size, batch_first=True)
        self.median = nn.Linear(hidden_size, 1)
        self.gaps = nn.Linear(hidden_size, n_quantiles - 1)

    def forward(self, inputs: torch.Tensor) -> torch.Tensor:
        if inputs.dim() != 3:
            raise ValueError(f"inputs must be (batch, time, features), got {tuple(inputs.shape)}")
        outputs, _ = self.gru(inputs)
        last = outputs[:, -1]
        median = self.median(last)
        half = self.gaps.out_features // 2
        gaps = nn.functional.softplus(self.gaps(last)) + 1e-4
        below = median - gaps[:, :half].cumsum(1).flip(1)
        above = median + gaps[:, half:].cumsum(1)
        return torch.cat([below, median, above], dim=1)


def normalized_adjacency(adjacency, self_loops: bool = True) -> torch.Tensor:
    """Return the GCN propagation matrix ``D^-1/2 (A + I) D^-1/2`` (Kipf & Welling, 2017)."""
    adjacency = torch.as_tensor(adjacency, dtype=torch.float32)
    if adjacency.dim() != 2 or adjacency.shape[0] != adjacency.shape[1]:
        raise ValueError(f"adjacency must be square (n, n), got {tuple(adjacency.shape)}")
    if (adjacency < 0).any():
        raise ValueError("adjacency weights must be non-negative")
    if self_loops:
        adjacency = adjacency + torch.eye(adjacency.shape[0])
    degree = adjacency.sum(1)
    if (degree <= 0).any():
        raise ValueError("a node has no edges; add self-loops (self_loops=True)")
    scale = degree.rsqrt()
    return scale[:, None] * adjacency * scale[None, :]


class GraphConvGRUCell(nn.Module):
    """A GRU cell whose gates mix each node with its neighbours (a graph convolution inside).

    For node features ``x`` ``(batch, n_nodes, n_features)`` and state ``h``
    ``(batch, n_nodes, hidden_size)``, with ``A_hat`` from :func:`normalized_adjacency`:
    ``z = sigmoid(A_hat [x, h] W_z)``, ``r = sigmoid(A_hat [x, h] W_r)``,
    ``c = tanh(A_hat [x, r * h] W_c)``, ``h' = z * h + (1 - z) * c`` (Seo et al., 2018;
    a one-hop version of the diffusion-convolutional GRU of Li et al., 2018).

    With ``self_weight=True`` each convolution also gets its own weights for the node
    itself: ``[x, h] W_self + A [x, h] W_nb`` (Chebyshev order 2 as in Seo et al., or one
    diffusion step of Li et al.); then ``propagation`` should be a neighbour matrix
    without self-loops, and a zero matrix leaves an ordinary GRU shared by all nodes.
    """

    def __init__(
        self,
        n_features: int,
        hidden_size: int,
        propagation: torch.Tensor,
        self_weight: bool = False,
    ):
        super().__init__()
        propagation = torch.as_tensor(propagation, dtype=torch.float32)
        if propagation.dim() != 2 or propagation.shape[0] != propagation.shape[1]:
            raise ValueError(f"propagation must be square (n, n), got {tuple(propagation.shape)}")
        self.register_buffer("propagation", propagation)
        self.hidden_size = hidden_size
        self.gates = nn.Linear(n_features + hidden_size, 2 * hidden_size)
        self.candidate = nn.Linear(n_features + hidden_size, hidden_size)
        self.self_weight = bool(self_weight)
        if self.self_weight:
            self.gates_self = nn.Linear(n_features + hidden_size, 2 * hidden_size, bias=False)
            self.candidate_self = nn.Linear(n_features + hidden_size, hidden_size, bias=False)

    def forward(self, x: torch.Tensor, h: torch.Tensor) -> torch.Tensor:
        if x.dim() != 3 or x.shape[1] != self.propagation.shape[0]:
            raise ValueError(
                f"x must be (batch, {self.propagation.shape[0]} nodes, features), got {tuple(x.shape)}"
            )
        xh = torch.cat([x, h], dim=-1)
        gates = self.gates(self.propagation @ xh)
        if self.self_weight:
            gates = gates + self.gates_self(xh)
        z, r = torch.sigmoid(gates).chunk(2, dim=-1)
        xrh = torch.cat([x, r * h], dim=-1)
        candidate = self.candidate(self.propagation @ xrh)
        if self.self_weight:
            candidate = candidate + self.candidate_self(xrh)
        return z * h + (1 - z) * torch.tanh(candidate)


class GraphGRUForecaster(nn.Module):
    """Forecast every node's next value as sorted quantiles with a :class:`GraphConvGRUCell`.

    Reads windows ``(batch, seq_len, n_nodes, n_features)``, whose feature 0 is the series
    being forecast, and returns ``(batch, n_nodes, n_quantiles)``. The median is that
    series' last value plus a linear read-out of the final state (the model forecasts the
    change); the other quantiles are the median minus or plus cumulative softplus gaps,
    so they never cross. Without a neighbour to see (``torch.eye(n)``, or a zero matrix
    with ``self_weight=True``) it is one GRU shared by all nodes: the no-graph control.
    """

    def __init__(
        self,
        n_features: int,
        hidden_size: int,
        propagation: torch.Tensor,
        n_quantiles: int = len(QUANTILE_LEVELS),
        self_weight: bool = False,
    ):
        super().__init__()
        if n_quantiles % 2 == 0:
            raise ValueError("n_quantiles must be odd (a median and symmetric intervals)")
        self.cell = GraphConvGRUCell(n_features, hidden_size, propagation, self_weight)
        self.change = nn.Linear(hidden_size, 1)
        self.gaps = nn.Linear(hidden_size, n_quantiles - 1)

    def forward(self, inputs: torch.Tensor) -> torch.Tensor:
        n_nodes = self.cell.propagation.shape[0]
        if inputs.dim() != 4 or inputs.shape[2] != n_nodes:
            raise ValueError(
                f"inputs must be (batch, time, {n_nodes} nodes, features), got {tuple(inputs.shape)}"
            )
        h = inputs.new_zeros(inputs.shape[0], n_nodes, self.cell.hidden_size)
        for t in range(inputs.shape[1]):
            h = self.cell(inputs[:, t], h)
        median = inputs[:, -1, :, :1] + self.change(h)
        half = self.gaps.out_features // 2
        gaps = nn.functional.softplus(self.gaps(h)) + 1e-4
        below = median - gaps[..., :half].cumsum(-1).flip(-1)
        above = median + gaps[..., half:].cumsum(-1)
        return torch.cat([below, median, above], dim=-1)


def grouped_bootstrap_interval(
    values, groups, n_bootstrap: int = 2000, seed: int = 0, level: float = 0.95
) -> np.ndarray:
    """Return a bootstrap interval of a mean that resamples whole groups (states, outbreaks).

    Scores of one group (one state across years, one subject's windows) are correlated,
    so the groups are the independent units: each group's scores are averaged, groups
    are drawn with replacement, and the mean of the drawn group means is recorded.

    Args:
        values: ``(n,)`` scores, e.g. a paired difference of two models' WIS.
        groups: ``(n,)`` labels of the unit each score belongs to (at least two distinct).
        n_bootstrap: resamples; seed: seed of the resampling; level: interval coverage.

    Returns:
        ``[lower, upper]``.
    """
    values = np.asarray(values, dtype=float)
    groups = np.asarray(groups)
    if values.ndim != 1 or values.shape != groups.shape:
        raise ValueError(
            f"values and groups must be 1-D of equal length, got {values.shape}, {groups.shape}"
        )
    if not 0 < level < 1 or int(n_bootstrap) < 1:
        raise ValueError("level must be in (0, 1) and n_bootstrap a positive integer")
    labels, index = np.unique(groups, return_inverse=True)
    if labels.size < 2:
        raise ValueError("need at least two groups to resample; pass the unit of each score")
    means = np.bincount(index, weights=values) / np.bincount(index)
    samples = bootstrap_samples(np.mean, means, n_boot=int(n_bootstrap), seed=seed)
    return np.asarray(percentile_interval(samples, level))
