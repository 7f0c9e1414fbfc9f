"""Tests of bios740.interpret: Grad-CAM and saliency against direct autograd computations."""

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from torch import nn

from bios740.interpret import brightest_spot_map, grad_cam, pointing_game, saliency_map
from bios740.models import SmallCNN


@pytest.fixture
def model():
    torch.manual_seed(0)
    return SmallCNN(in_channels=2, width=4).eval()


def test_grad_cam_matches_a_direct_autograd_computation(model):
    images = torch.randn(3, 2, 32, 32)
    # The twin: run the network in two halves and differentiate w.r.t. the activations.
    activations = model.features(images).detach().requires_grad_(True)
    scores = model.head(torch.amax(activations, dim=(2, 3)))[:, 1]
    (gradients,) = torch.autograd.grad(scores.sum(), activations)
    weights = gradients.mean(dim=(2, 3), keepdim=True)
    cam = F.relu((weights * activations).sum(1, keepdim=True))
    cam = F.interpolate(cam, size=(32, 32), mode="bilinear", align_corners=False)[:, 0]
    cam = cam / cam.amax(dim=(1, 2), keepdim=True).clamp_min(1e-12)
    ours = grad_cam(model, model.last_conv, images, target_class=1)
    assert ours.shape == (3, 32, 32)
    assert torch.allclose(ours, cam, atol=1e-5)
    assert ours.min() >= 0 and torch.allclose(ours.amax(dim=(1, 2)), torch.ones(3))


def test_saliency_is_the_input_gradient(model):
    images = torch.randn(2, 2, 16, 16)
    x = images.clone().requires_grad_(True)
    model(x)[:, 0].sum().backward()
    expected = x.grad.abs().amax(dim=1)
    assert torch.allclose(saliency_map(model, images, target_class=0), expected)


def test_grad_cam_of_a_linear_model_finds_the_bright_spot():
    # A 1x1 "feature layer" that passes the image through: Grad-CAM is the image, scaled.
    layer = nn.Conv2d(1, 1, 1, bias=False)
    model = nn.Sequential(layer, nn.Flatten(), nn.Linear(64, 2))
    with torch.no_grad():
        layer.weight.fill_(1.0)
        model[2].weight.zero_()
        model[2].weight[1] = 1.0
    images = torch.zeros(1, 1, 8, 8)
    images[0, 0, 2, 5] = 3.0
    cam = grad_cam(model, layer, images)
    assert np.unravel_index(int(cam.argmax()), (8, 8)) == (2, 5)


def test_grad_cam_rejects_a_layer_outside_the_model(model):
    with pytest.raises(ValueError, match="not used"):
        grad_cam(model, nn.Conv2d(1, 1, 1), torch.zeros(1, 2, 16, 16))
    with pytest.raises(TypeError, match="module"):
        grad_cam(model, "last_conv", torch.zeros(1, 2, 16, 16))
    with pytest.raises(ValueError, match="channel axis"):
        saliency_map(model, torch.zeros(2, 16, 16))


def test_pointing_game_with_tolerance():
    masks = np.zeros((3, 10, 10), dtype=bool)
    masks[:, 4:6, 4:6] = True
    maps = np.zeros((3, 10, 10))
    maps[0, 5, 5] = 1  # on the object
    maps[1, 7, 6] = 1  # 2 px below it
    maps[2, 0, 0] = 1  # far away
    assert pointing_game(maps, masks, tolerance=0).tolist() == [True, False, False]
    assert pointing_game(maps, masks, tolerance=2).tolist() == [True, True, False]
    assert pointing_game(torch.from_numpy(maps), masks, tolerance=2).tolist() == [True, True, False]
    with pytest.raises(ValueError, match="tolerance"):
        pointing_game(maps, masks, tolerance=-1)
    with pytest.raises(ValueError, match=r"\(N, H, W\)"):
        pointing_game(maps[0], masks[0])


def test_brightest_spot_map_respects_the_region():
    images = np.zeros((1, 12, 12))
    images[0, 1, 1] = 10.0  # outside the region
    images[0, 8, 8] = 2.0
    region = np.zeros((1, 12, 12), dtype=bool)
    region[0, 4:, 4:] = True
    spot = brightest_spot_map(images, region)
    assert np.unravel_index(np.argmax(spot[0]), (12, 12)) == (8, 8)
    with pytest.raises(ValueError, match="one channel"):
        brightest_spot_map(np.zeros((1, 2, 5, 5)))


def test_contrast_class_explains_the_logit_margin(model):
    images = torch.randn(3, 2, 16, 16)
    x = images.clone().requires_grad_(True)
    logits = model(x)
    (logits[:, 1] - logits[:, 0]).sum().backward()
    expected = x.grad.abs().amax(dim=1)
    assert torch.allclose(saliency_map(model, images, 1, contrast_class=0), expected)
    # With two classes the margin's gradient differs from one logit's, so the maps differ.
    assert not torch.allclose(saliency_map(model, images, 1), expected)

    class Margin(nn.Module):
        def __init__(self, inner):
            super().__init__()
            self.inner = inner

        def forward(self, inputs):
            out = self.inner(inputs)
            return torch.stack([out[:, 0] * 0, out[:, 1] - out[:, 0]], dim=1)

    twin = grad_cam(Margin(model), model.last_conv, images, target_class=1)
    assert torch.allclose(grad_cam(model, model.last_conv, images, 1, contrast_class=0), twin)
    with pytest.raises(ValueError, match="must differ"):
        grad_cam(model, model.last_conv, images, 1, contrast_class=1)
    with pytest.raises(ValueError, match="in 0..1"):
        saliency_map(model, images, 2)
