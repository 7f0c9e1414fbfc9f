"""Tests of bios740.models."""

import pytest
import torch

from bios740.models import SmallCNN


def test_small_cnn_shapes_and_last_conv():
    model = SmallCNN(in_channels=2, n_classes=3, width=4).eval()
    images = torch.randn(5, 2, 48, 48)
    assert model(images).shape == (5, 3)
    activations = {}
    model.last_conv.register_forward_hook(lambda m, i, o: activations.setdefault("a", o))
    model(images)
    assert activations["a"].shape == (5, 16, 12, 12)


def test_small_cnn_max_pool_responds_to_one_spot():
    # Global max pooling: a response anywhere gives the same pooled feature.
    torch.manual_seed(0)
    model = SmallCNN(in_channels=1, width=4).eval()
    spot_a = torch.zeros(1, 1, 64, 64)
    spot_a[0, 0, 20:23, 20:23] = 5.0
    spot_b = torch.roll(spot_a, shifts=(16, 20), dims=(2, 3))
    assert torch.allclose(model(spot_a), model(spot_b), atol=1e-5)


def test_small_cnn_rejects_bad_input():
    with pytest.raises(ValueError, match="in_channels"):
        SmallCNN(in_channels=0)
    with pytest.raises(ValueError, match=r"\(N, 2, H, W\)"):
        SmallCNN(in_channels=2)(torch.zeros(1, 1, 32, 32))
