"""Tests for Chapter11/helpers.py: the SIR solver, forecast scores, quantile GRU, graph GRU cell."""

import numpy as np
import pytest
import torch
from chapter_modules import load_helpers
from scipy.integrate import solve_ivp

helpers = load_helpers(11)


def test_simulate_sir_matches_solve_ivp_and_conserves_people():
    trajectory, incidence = helpers.simulate_sir(0.5, 0.2, 1e-3, 60, steps_per_day=4)
    reference = solve_ivp(
        lambda t, y: [-0.5 * y[0] * y[1], 0.5 * y[0] * y[1] - 0.2 * y[1], 0.2 * y[1]],
        (0, 60),
        [1 - 1e-3, 1e-3, 0],
        t_eval=np.arange(61),
        rtol=1e-11,
        atol=1e-13,
    ).y.T
    assert trajectory.shape == (61, 3) and incidence.shape == (60,)
    assert np.abs(trajectory.numpy() - reference).max() < 1e-6
    assert torch.allclose(trajectory.sum(-1), torch.ones(61, dtype=torch.float64))
    assert torch.allclose(incidence, trajectory[:-1, 0] - trajectory[1:, 0])


def test_simulate_sir_batches_and_differentiates():
    beta = torch.tensor([0.3, 0.5], dtype=torch.float64, requires_grad=True)
    trajectory, incidence = helpers.simulate_sir(beta, 0.2, 1e-3, 30)
    assert trajectory.shape == (31, 2, 3) and incidence.shape == (30, 2)
    single, _ = helpers.simulate_sir(0.5, 0.2, 1e-3, 30)
    assert torch.allclose(trajectory[:, 1], single)
    trajectory[-1, :, 2].sum().backward()
    assert (beta.grad > 0).all()  # more transmission, more removed by day 30
    with pytest.raises(ValueError, match="fraction"):
        helpers.simulate_sir(0.5, 0.2, 1.5, 10)


def test_rk4_step_is_exact_for_a_cubic():
    # dy/dt = 3 t^2 written autonomously as (t, y): RK4 integrates polynomials of degree <= 3 exactly
    def rhs(state):
        return torch.stack([torch.ones_like(state[0]), 3 * state[0] ** 2])

    state = torch.tensor([0.0, 0.0], dtype=torch.float64)
    for _ in range(4):
        state = helpers.rk4_step(rhs, state, 0.5)
    assert state[1].item() == pytest.approx(8.0)


def test_weighted_interval_score_by_hand_and_as_pinball_loss():
    levels = (0.1, 0.5, 0.9)
    quantiles = np.array([[1.0, 2.0, 3.0], [1.0, 2.0, 3.0]])
    observed = np.array([2.5, 5.0])
    # y = 2.5: (0.5 * 0.5 + 0.2 / 2 * 2) / 1.5 ; y = 5: (0.5 * 3 + 0.1 * (2 + 2 / 0.2 * 2)) / 1.5
    expected = np.array([(0.25 + 0.2) / 1.5, (1.5 + 0.1 * 22) / 1.5])
    assert np.allclose(helpers.weighted_interval_score(observed, quantiles, levels), expected)
    rng = np.random.default_rng(0)
    q = np.sort(rng.normal(size=(50, 7)), axis=1)
    y = rng.normal(size=50)
    pinball = helpers.pinball_loss(torch.tensor(q), torch.tensor(y)).item()
    assert helpers.weighted_interval_score(y, q).mean() == pytest.approx(2 * pinball)


def test_scores_reject_crossing_quantiles_and_bad_levels():
    with pytest.raises(ValueError, match="cross"):
        helpers.weighted_interval_score([1.0], [[1, 3, 2, 4, 5, 6, 7]])
    with pytest.raises(ValueError, match="symmetric"):
        helpers.weighted_interval_score([1.0], [[1, 2, 3]], levels=(0.1, 0.5, 0.8))
    with pytest.raises(ValueError, match="values on the last axis"):
        helpers.weighted_interval_score([1.0], [[1, 2, 3]])
    with pytest.raises(ValueError, match="do not match"):
        helpers.pinball_loss(torch.zeros(4, 3), torch.zeros(4))


def test_sliding_windows_targets_follow_the_window():
    series = np.arange(20.0).reshape(10, 2)
    inputs, targets = helpers.sliding_windows(series, 3, horizon=2)
    assert inputs.shape == (6, 3, 2) and targets.shape == (6, 2)
    assert np.array_equal(inputs[0, :, 0], [0, 2, 4]) and targets[0, 0] == 8
    with pytest.raises(ValueError, match="too few"):
        helpers.sliding_windows(series, 9, horizon=2)
    with pytest.raises(ValueError, match="seq_len, n_series"):
        helpers.sliding_windows(np.arange(10.0), 3)


def test_quantile_gru_never_crosses_and_learns_quantiles():
    torch.manual_seed(0)
    model = helpers.QuantileGRU(1, 8)
    x = torch.randn(400, 5, 1)
    y = x[:, -1, 0] + 0.5 * torch.randn(400)
    optimizer = torch.optim.Adam(model.parameters(), lr=0.02)
    for _ in range(200):
        optimizer.zero_grad()
        helpers.pinball_loss(model(x), y).backward()
        optimizer.step()
    with torch.no_grad():
        q = model(x)
    assert (q.diff(dim=1) > 0).all()
    covered = ((y >= q[:, 1]) & (y <= q[:, -2])).float().mean().item()
    assert 0.7 < covered < 0.9  # the 80% interval
    with pytest.raises(ValueError, match="batch, time, features"):
        model(torch.randn(5, 1))


def test_normalized_adjacency_matches_pyg_gcn_normalization():
    from torch_geometric.nn.conv.gcn_conv import gcn_norm
    from torch_geometric.utils import dense_to_sparse, to_dense_adj

    adjacency = torch.tensor([[0, 1, 0], [1, 0, 2], [0, 2, 0]], dtype=torch.float32)
    edge_index, weight = dense_to_sparse(adjacency)
    edge_index, weight = gcn_norm(edge_index, weight, num_nodes=3, add_self_loops=True)
    reference = to_dense_adj(edge_index, edge_attr=weight, max_num_nodes=3)[0].T
    assert torch.allclose(helpers.normalized_adjacency(adjacency), reference, atol=1e-6)
    with pytest.raises(ValueError, match="self-loops"):
        helpers.normalized_adjacency(torch.zeros(2, 2), self_loops=False)


def test_graph_conv_gru_cell_follows_its_equations():
    torch.manual_seed(0)
    adjacency = torch.diag(torch.ones(3), 1) + torch.diag(torch.ones(3), -1)  # a path 0-1-2-3
    propagation = helpers.normalized_adjacency(adjacency)
    cell = helpers.GraphConvGRUCell(2, 4, propagation)
    x, h = torch.randn(5, 4, 2), torch.randn(5, 4, 4)
    w_z, w_r = cell.gates.weight[:4], cell.gates.weight[4:]
    b_z, b_r = cell.gates.bias[:4], cell.gates.bias[4:]
    xh = propagation @ torch.cat([x, h], -1)
    z, r = torch.sigmoid(xh @ w_z.T + b_z), torch.sigmoid(xh @ w_r.T + b_r)
    mixed = propagation @ torch.cat([x, r * h], -1)
    candidate = torch.tanh(mixed @ cell.candidate.weight.T + cell.candidate.bias)
    assert torch.allclose(cell(x, h), z * h + (1 - z) * candidate, atol=1e-6)
    # the reset gate mixes once and the candidate once more: two hops reach, three do not
    moved = x.clone()
    moved[:, 3] += 1
    assert torch.allclose(cell(moved, h)[:, 0], cell(x, h)[:, 0], atol=1e-6)
    assert not torch.allclose(cell(moved, h)[:, 1], cell(x, h)[:, 1])
    with pytest.raises(ValueError, match="nodes"):
        cell(torch.randn(5, 3, 2), h)


def test_graph_conv_gru_cell_with_self_weight_follows_its_equations():
    torch.manual_seed(0)
    neighbours = torch.tensor([[0, 1.0, 0], [0.5, 0, 0.5], [0, 1.0, 0]])
    cell = helpers.GraphConvGRUCell(2, 4, neighbours, self_weight=True)
    x, h = torch.randn(5, 3, 2), torch.randn(5, 3, 4)

    def conv(own, mixed, linear, own_linear):
        return mixed @ linear.weight.T + linear.bias + own @ own_linear.weight.T

    xh = torch.cat([x, h], -1)
    z, r = torch.sigmoid(conv(xh, neighbours @ xh, cell.gates, cell.gates_self)).chunk(2, -1)
    xrh = torch.cat([x, r * h], -1)
    candidate = torch.tanh(conv(xrh, neighbours @ xrh, cell.candidate, cell.candidate_self))
    assert torch.allclose(cell(x, h), z * h + (1 - z) * candidate, atol=1e-6)
    # a zero neighbour matrix leaves one GRU shared by independent nodes
    alone = helpers.GraphConvGRUCell(2, 4, torch.zeros(3, 3), self_weight=True)
    moved = x.clone()
    moved[:, 2] += 1
    assert torch.allclose(alone(moved, h)[:, :2], alone(x, h)[:, :2])
    with pytest.raises(ValueError, match="square"):
        helpers.GraphConvGRUCell(2, 4, torch.zeros(3, 2))


def test_graph_gru_forecaster_gives_sorted_quantiles_around_the_last_value():
    torch.manual_seed(0)
    model = helpers.GraphGRUForecaster(1, 6, torch.eye(4))
    inputs = torch.randn(8, 5, 4, 1)
    quantiles = model(inputs)
    assert quantiles.shape == (8, 4, len(helpers.QUANTILE_LEVELS))
    assert (quantiles.diff(dim=-1) > 0).all()
    with torch.no_grad():  # no learned change: the median is the last observed value
        model.change.weight.zero_()
        model.change.bias.zero_()
    assert torch.allclose(model(inputs)[..., 3], inputs[:, -1, :, 0])
    with pytest.raises(ValueError, match="4 nodes"):
        model(torch.randn(8, 5, 3, 1))
    with pytest.raises(ValueError, match="odd"):
        helpers.GraphGRUForecaster(1, 6, torch.eye(4), n_quantiles=4)


def test_grouped_bootstrap_interval_resamples_groups():
    values = np.array([1.0, 1.0, 1.0, 3.0, 3.0, 3.0])
    groups = np.array([0, 0, 0, 1, 1, 1])
    lo, hi = helpers.grouped_bootstrap_interval(values, groups, n_bootstrap=500, seed=0)
    assert lo == pytest.approx(1.0) and hi == pytest.approx(3.0)  # only two units to draw
    rng = np.random.default_rng(0)
    many = rng.normal(size=400)
    lo, hi = helpers.grouped_bootstrap_interval(many, np.repeat(np.arange(40), 10), seed=1)
    assert lo < many.mean() < hi and hi - lo < 0.5
    with pytest.raises(ValueError, match="two groups"):
        helpers.grouped_bootstrap_interval(values, np.zeros(6))
    with pytest.raises(ValueError, match="equal length"):
        helpers.grouped_bootstrap_interval(values, groups[:3])
