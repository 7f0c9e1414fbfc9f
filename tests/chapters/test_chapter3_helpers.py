"""Unit tests for Chapter3/helpers.py."""

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from chapter_modules import load_helpers  # noqa: E402
from torch import nn

helpers = load_helpers(3)


@pytest.mark.parametrize("stride, padding", [(1, 0), (1, 1), (2, 1), (3, 2)])
def test_convolutions_match_conv2d(stride, padding):
    torch.manual_seed(0)
    x = torch.randn(2, 3, 10, 9)
    weight = torch.randn(5, 3, 3, 2)
    bias = torch.randn(5)
    expected = F.conv2d(x, weight, bias, stride=stride, padding=padding)
    for conv in (helpers.conv2d_loops, helpers.conv2d_unfold):
        result = conv(x, weight, bias, stride=stride, padding=padding)
        assert result.shape == expected.shape
        assert torch.allclose(result, expected, atol=1e-5)
    assert torch.allclose(helpers.conv2d_unfold(x, weight), F.conv2d(x, weight), atol=1e-5)


def test_convolution_rejects_bad_input():
    with pytest.raises(ValueError, match="channels"):
        helpers.conv2d_unfold(torch.zeros(1, 2, 5, 5), torch.zeros(1, 3, 3, 3))
    with pytest.raises(ValueError, match="kernel is larger"):
        helpers.conv2d_loops(torch.zeros(1, 1, 2, 2), torch.zeros(1, 1, 3, 3))
    with pytest.raises(ValueError, match="N, C_in"):
        helpers.conv2d_unfold(torch.zeros(5, 5), torch.zeros(1, 1, 3, 3))
    with pytest.raises(TypeError):
        helpers.conv2d_unfold(np.zeros((1, 1, 5, 5)), torch.zeros(1, 1, 3, 3))


def test_small_cnn_shapes_and_training_reduces_loss():
    torch.manual_seed(0)
    model = helpers.SmallCNN(in_channels=1, n_classes=2, width=4)
    x = torch.randn(32, 1, 32, 32)
    assert model(x).shape == (32, 2)
    assert model.features(x).shape == (32, 16, 8, 8)
    # A learnable rule: a bright square somewhere means class 1.
    y = torch.randint(0, 2, (32,))
    for i in np.flatnonzero(y.numpy()):
        r, c = np.random.default_rng(int(i)).integers(2, 26, size=2)
        x[i, 0, r : r + 4, c : c + 4] += 4.0
    losses = helpers.train_classifier(model, x, y, epochs=15, batch_size=16, progress=False)
    assert losses[-1] < losses[0] * 0.5
    probabilities = helpers.predict_proba(model, x)
    assert probabilities.shape == (32, 2)
    assert torch.allclose(probabilities.sum(dim=1), torch.ones(32), atol=1e-5)
    with pytest.raises(ValueError, match="labels"):
        helpers.train_classifier(model, x, y[:3], progress=False)


def test_augment_keeps_shape_and_is_seeded():
    x = torch.randn(8, 1, 16, 16)
    a = helpers.augment(x, torch.Generator().manual_seed(1))
    b = helpers.augment(x, torch.Generator().manual_seed(1))
    assert a.shape == x.shape and torch.equal(a, b)
    assert not torch.equal(a, x)


def test_standardize():
    x = torch.randn(10, 1, 4, 4) * 3 + 2
    scaled, mean, std = helpers.standardize(x)
    assert abs(float(scaled.mean())) < 1e-5 and abs(float(scaled.std()) - 1) < 1e-5
    again, _, _ = helpers.standardize(x, mean, std)
    assert torch.allclose(again, scaled)
    with pytest.raises(ValueError):
        helpers.standardize(x, 0.0, 0.0)


def test_calibration_error():
    # Perfectly calibrated by construction: within each bin the accuracy equals the confidence.
    probabilities = np.array([[0.2, 0.8]] * 10 + [[0.6, 0.4]] * 10)
    labels = np.array([1] * 8 + [0] * 2 + [0] * 6 + [1] * 4)
    assert helpers.expected_calibration_error(probabilities, labels) == pytest.approx(0.0)
    # Always 90 % confident, right half the time: ECE = 0.4.
    probabilities = np.array([[0.1, 0.9]] * 10)
    labels = np.array([1, 0] * 5)
    assert helpers.expected_calibration_error(probabilities, labels) == pytest.approx(0.4)
    confidence, accuracy, counts = helpers.reliability_bins([0.05, 0.95, 0.95], [0, 1, 0])
    assert counts.sum() == 3 and counts[0] == 1 and counts[-1] == 2
    assert accuracy[-1] == pytest.approx(0.5) and np.isnan(accuracy[5])
    with pytest.raises(ValueError):
        helpers.reliability_bins([1.5], [1])
    with pytest.raises(ValueError):
        helpers.expected_calibration_error(np.ones((3, 2)) / 2, [0, 1])


class _Linear(nn.Module):
    """A model whose class-1 score is the sum of a 1x1 conv of the input: known gradients."""

    def __init__(self):
        super().__init__()
        self.conv = nn.Conv2d(1, 1, 1, bias=False)
        nn.init.constant_(self.conv.weight, 2.0)

    def forward(self, x):
        s = self.conv(x).sum(dim=(1, 2, 3))
        return torch.stack([-s, s], dim=1)


def test_saliency_and_grad_cam_on_a_known_model():
    model = _Linear()
    x = torch.zeros(2, 1, 8, 8)
    x[0, 0, 2, 3] = 1.0
    x[1, 0, 6, 1] = 5.0
    saliency = helpers.saliency_map(model, x)
    assert saliency.shape == (2, 8, 8) and torch.allclose(saliency, torch.full((2, 8, 8), 2.0))
    cam = helpers.grad_cam(model, model.conv, x)
    assert cam.shape == (2, 8, 8)
    # The CAM is the positive part of the activation, scaled to a maximum of 1.
    assert cam[0, 2, 3] == 1.0 and cam[0].sum() == 1.0
    assert cam[1, 6, 1] == 1.0
    with pytest.raises(ValueError, match="not used"):
        helpers.grad_cam(model, nn.Conv2d(1, 1, 1), x)


def test_pointing_game():
    maps = np.zeros((3, 10, 10))
    masks = np.zeros((3, 10, 10), dtype=bool)
    masks[:, 4:6, 4:6] = True
    maps[0, 5, 5] = 1  # on the lesion
    maps[1, 7, 5] = 1  # two pixels away
    maps[2, 6, 6] = 1  # diagonal neighbour
    assert helpers.pointing_game(maps, masks, tolerance=0).tolist() == [True, False, False]
    assert helpers.pointing_game(maps, masks, tolerance=1).tolist() == [True, False, True]
    assert helpers.pointing_game(maps, masks, tolerance=2).tolist() == [True, True, True]
    with pytest.raises(ValueError):
        helpers.pointing_game(maps, masks[:2])
