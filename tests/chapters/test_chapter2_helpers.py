"""Unit tests for Chapter2/helpers.py."""

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402
import torch  # noqa: E402
from chapter_modules import load_helpers  # noqa: E402
from torch import nn  # noqa: E402

helpers = load_helpers(2)


@pytest.fixture(autouse=True)
def _close_figures():
    yield
    plt.close("all")


# ----------------------------------------------------------------- networks
def test_make_relu_mlp_layers_and_parameter_count():
    model = helpers.make_relu_mlp(2, [8, 4], 1)
    assert [type(m).__name__ for m in model] == ["Linear", "ReLU", "Linear", "ReLU", "Linear"]
    assert sum(p.numel() for p in model.parameters()) == (2 * 8 + 8) + (8 * 4 + 4) + (4 + 1)


def test_make_relu_mlp_rejects_bad_widths():
    with pytest.raises(ValueError, match="hidden_widths"):
        helpers.make_relu_mlp(2, [], 1)
    with pytest.raises(ValueError, match="input_dim"):
        helpers.make_relu_mlp(0, [4], 1)


def test_relu_sum_network_computes_the_formula():
    knots, slopes = [-0.5, 0.0, 0.7], [1.0, -2.0, 3.0]
    net = helpers.make_relu_sum_network(knots, slopes, intercept=0.3, linear_slope=0.5)
    x = torch.linspace(-2, 2, 101)[:, None]
    expected = 0.3 + 0.5 * x.squeeze(1)
    for knot, slope in zip(knots, slopes, strict=True):
        expected = expected + slope * torch.relu(x.squeeze(1) - knot)
    assert torch.allclose(net(x).squeeze(1), expected, atol=1e-5)


def test_relu_sum_network_checks_lengths():
    with pytest.raises(ValueError, match="same length"):
        helpers.make_relu_sum_network([0.0, 1.0], [1.0])


# ----------------------------------------------------------- region counts
@pytest.mark.parametrize("k", [1, 3, 7])
def test_hand_built_shallow_net_has_exactly_k_plus_one_regions(k):
    knots = np.linspace(-0.8, 0.8, k)
    net = helpers.make_relu_sum_network(knots, np.ones(k))
    assert helpers.count_linear_regions_1d(net, -1.0, 1.0, 20_001) == k + 1


def test_random_shallow_net_never_exceeds_k_plus_one():
    torch.manual_seed(0)
    for width in (2, 5, 16):
        net = helpers.make_relu_mlp(1, [width], 1)
        count = helpers.count_linear_regions_1d(net, -10.0, 10.0, 20_001)
        assert 1 <= count <= width + 1


@pytest.mark.parametrize("depth", [1, 2, 3, 5])
def test_sawtooth_has_two_to_the_depth_regions(depth):
    net = helpers.make_sawtooth_network(depth)
    # an even number of points keeps the grid off the dyadic kinks, where a
    # pre-activation is exactly 0 and one grid point would form its own pattern
    assert helpers.count_linear_regions_1d(net, 1e-4, 1 - 1e-4, 50_000) == 2**depth
    # and the function really is the sawtooth: it hits 1 and 0 alternately
    x = torch.tensor([[1.0 / 2**depth], [2.0 / 2**depth]])
    assert torch.allclose(net(x).squeeze(1), torch.tensor([1.0, 0.0]), atol=1e-5)


def test_count_2d_for_known_arrangement():
    # Two lines x1 = 0 and x2 = 0 split the square into 4 quadrants; 3 lines through
    # a common point (x1 = 0, x2 = 0, x1 = x2) give 6 sectors.
    for weights, expected in (
        ([[1.0, 0.0], [0.0, 1.0]], 4),
        ([[1.0, 0.0], [0.0, 1.0], [1, -1]], 6),
    ):
        w = torch.tensor(weights, dtype=torch.float32)
        net = nn.Sequential(nn.Linear(2, w.shape[0]), nn.ReLU(), nn.Linear(w.shape[0], 1))
        with torch.no_grad():
            net[0].weight.copy_(w)
            net[0].bias.zero_()
        count, region_map = helpers.count_linear_regions_2d(
            net, (-1, 1), (-1, 1), resolution=101, return_map=True
        )
        assert count == expected
        assert region_map.shape == (101, 101)
        assert len(np.unique(region_map)) == expected


def test_count_2d_without_map_returns_int():
    torch.manual_seed(1)
    net = helpers.make_relu_mlp(2, [6], 1)
    count = helpers.count_linear_regions_2d(net, resolution=50)
    assert isinstance(count, int) and count >= 1


def test_activation_patterns_shape_and_values():
    net = helpers.make_relu_sum_network([0.0, 0.5], [1.0, 1.0])
    patterns = helpers.activation_patterns(net, np.array([[-1.0], [0.25], [1.0]]))
    assert patterns.dtype == bool
    assert patterns.tolist() == [[False, False], [True, False], [True, True]]


def test_activation_patterns_errors():
    net = helpers.make_relu_mlp(2, [4], 1)
    with pytest.raises(ValueError, match="features"):
        helpers.activation_patterns(net, np.zeros((5, 3)))
    with pytest.raises(ValueError, match="shape"):
        helpers.activation_patterns(net, np.zeros(5))
    with pytest.raises(ValueError, match="nn.ReLU"):
        helpers.activation_patterns(nn.Linear(2, 1), np.zeros((5, 2)))
    with pytest.raises(TypeError, match="nn.Module"):
        helpers.activation_patterns("not a model", np.zeros((5, 2)))


def test_region_counter_errors():
    net1 = helpers.make_relu_mlp(1, [4], 1)
    net2 = helpers.make_relu_mlp(2, [4], 1)
    with pytest.raises(ValueError, match="start < end"):
        helpers.count_linear_regions_1d(net1, 1.0, -1.0)
    with pytest.raises(ValueError, match="num_points"):
        helpers.count_linear_regions_1d(net1, -1.0, 1.0, 1)
    with pytest.raises(ValueError, match="count_linear_regions_2d"):
        helpers.count_linear_regions_1d(net2)
    with pytest.raises(ValueError, match="2 input features"):
        helpers.count_linear_regions_2d(net1)
    with pytest.raises(ValueError, match="xlim"):
        helpers.count_linear_regions_2d(net2, xlim=(1, 0))
    with pytest.raises(ValueError, match="resolution"):
        helpers.count_linear_regions_2d(net2, resolution=1)


def test_make_sawtooth_rejects_bad_depth():
    with pytest.raises(ValueError, match="depth"):
        helpers.make_sawtooth_network(0)


# ------------------------------------------------------------------ plotting
def test_plot_decision_boundary_probabilities_and_labels():
    rng = np.random.default_rng(0)
    X = rng.normal(size=(40, 2))
    y = (X[:, 0] > 0).astype(int)
    ax = helpers.plot_decision_boundary(
        lambda p: 1 / (1 + np.exp(-3 * p[:, 0])), X, y, resolution=30, title="t"
    )
    assert ax.get_title() == "t" and ax.get_xlabel()
    ax = helpers.plot_decision_boundary(lambda p: (p[:, 0] > 0).astype(int), X, y, resolution=30)
    assert len(ax.collections) > 0


def test_plot_decision_boundary_errors():
    X = np.zeros((10, 2))
    y = np.zeros(10)
    with pytest.raises(ValueError, match=r"\(n_points, 2\)"):
        helpers.plot_decision_boundary(lambda p: p[:, 0], np.zeros((10, 3)), y)
    with pytest.raises(ValueError, match="labels"):
        helpers.plot_decision_boundary(lambda p: p[:, 0], X, np.zeros(9))
    with pytest.raises(ValueError, match="one label"):
        helpers.plot_decision_boundary(lambda p: p, X, y, resolution=10)
    with pytest.raises(TypeError, match="callable"):
        helpers.plot_decision_boundary(None, X, y)


def test_region_count_matches_the_kinks_of_a_random_shallow_net():
    # the twin by hand: a 1-k-1 ReLU net has a kink at -b_i / w_i for every hidden unit;
    # the number of distinct kinks inside the interval, plus one, is its region count
    torch.manual_seed(3)
    for width in (3, 10, 40):
        net = helpers.make_relu_mlp(1, [width], 1)
        kinks = (-net[0].bias / net[0].weight[:, 0]).detach().numpy()
        inside = np.unique(np.round(kinks[(kinks > -4) & (kinks < 4)], 6))
        assert helpers.count_linear_regions_1d(net, -4.0, 4.0, 200_001) == len(inside) + 1
