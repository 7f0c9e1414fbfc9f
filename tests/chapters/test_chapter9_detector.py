"""Tests for the CenterNet-style detector of Chapter9/helpers.py."""

import numpy as np
import pytest
import torch
from chapter_modules import load_helpers
from torch import nn

helpers = load_helpers(9)


class FixedOutputs(nn.Module):
    """A stand-in detector whose output is given, to test decoding on its own."""

    def __init__(self, outputs, stride):
        super().__init__()
        self.outputs, self.stride = outputs, stride
        self.unused = nn.Parameter(torch.zeros(1))

    def forward(self, images):
        return self.outputs[: len(images)]


def test_centre_net_shapes_and_validation():
    model = helpers.CentreNet(in_channels=2, width=8, stride=2)
    assert model(torch.zeros(3, 2, 32, 32)).shape == (3, 5, 16, 16)
    assert helpers.CentreNet(1, width=8, stride=1)(torch.zeros(1, 1, 16, 16)).shape == (
        1,
        5,
        16,
        16,
    )
    with pytest.raises(ValueError, match=r"\(N, 2, H, W\)"):
        model(torch.zeros(3, 1, 32, 32))
    with pytest.raises(ValueError, match="multiples of the stride"):
        model(torch.zeros(1, 2, 31, 32))
    with pytest.raises(ValueError, match="stride must be 1 or 2"):
        helpers.CentreNet(stride=4)


def test_centre_targets_put_size_and_offset_at_the_centre_cell():
    box = np.array([[3.0, 10.0, 8.0, 13.0]])  # centre (5.5, 11.5), 5 x 3 pixels
    targets = helpers.centre_targets([box, np.zeros((0, 4))], (16, 16), stride=2)
    assert targets.shape == (2, 6, 8, 8)
    assert targets[1].abs().sum() == 0  # no lesion, no target
    r, c = 5, 2  # cell of (11.5 / 2, 5.5 / 2)
    assert targets[0, 5].sum() == 1 and targets[0, 5, r, c] == 1
    assert targets[0, 0, r, c] == 1 and targets[0, 0].max() == 1
    assert 0 < targets[0, 0, r, c + 1] < 1  # a Gaussian bump, not a single cell
    np.testing.assert_allclose(
        targets[0, 1:5, r, c].numpy(), [np.log(5), np.log(3), 2.75 - 2, 5.75 - 5], rtol=1e-6
    )


def test_centre_targets_validate_their_inputs():
    with pytest.raises(TypeError, match="one \\(n_i, 4\\) array per image"):
        helpers.centre_targets(np.zeros((2, 4)) + [0, 0, 1, 1], (16, 16))
    with pytest.raises(ValueError, match="non-positive width"):
        helpers.centre_targets([np.array([[5.0, 5, 5, 8]])], (16, 16))
    with pytest.raises(ValueError, match="multiple of the stride"):
        helpers.centre_targets([np.zeros((0, 4))], (15, 16))


def test_decoding_the_targets_gives_back_the_boxes():
    boxes = [np.array([[3.0, 10, 8, 13], [20, 2, 30, 9]]), np.array([[1.0, 1, 4, 4]])]
    targets = helpers.centre_targets(boxes, (32, 32), stride=2)
    # a perfect network: heat logit +8 at the centres and -8 elsewhere, exact geometry
    outputs = torch.cat([torch.where(targets[:, 5:6] == 1, 8.0, -8.0), targets[:, 1:5]], 1)
    detections = helpers.detect(FixedOutputs(outputs, stride=2), torch.zeros(2, 2, 32, 32), 5)
    for (found, scores), true in zip(detections, boxes, strict=True):
        assert np.all(np.diff(scores) <= 0)  # best first
        hits = scores > 0.5
        assert hits.sum() == len(true)
        np.testing.assert_allclose(np.sort(found[hits], 0), np.sort(true, 0), atol=1e-5)


def test_centre_loss_prefers_the_right_answer():
    boxes = [np.array([[3.0, 10, 8, 13]])]
    targets = helpers.centre_targets(boxes, (16, 16), stride=2)
    right = torch.cat([torch.where(targets[:, 5:6] == 1, 5.0, -5.0), targets[:, 1:5]], 1)
    shifted = right.roll(1, dims=-1)
    assert helpers.centre_loss(right, targets) < 0.1 < helpers.centre_loss(shifted, targets)
    with pytest.raises(ValueError, match=r"\(N, 5, h, w\)"):
        helpers.centre_loss(right[:, :3], targets)


def test_train_centre_net_finds_bright_squares():
    generator = np.random.default_rng(0)
    images, boxes = np.zeros((96, 1, 32, 32), np.float32), []
    for i in range(len(images)):
        x, y, size = *generator.integers(2, 24, 2), int(generator.integers(3, 7))
        images[i, 0, y : y + size, x : x + size] = 1.0
        boxes.append(np.array([[x, y, x + size, y + size]], float))
    images += 0.1 * generator.standard_normal(images.shape).astype(np.float32)
    model, history = helpers.train_centre_net(
        torch.from_numpy(images), boxes, epochs=15, seed=0, width=16
    )
    assert history["train_loss"][-1] < 0.5 * history["train_loss"][0]
    detections = helpers.detect(model, torch.from_numpy(images[:32]), per_image=1)
    iou = [
        float(helpers.box_iou(found, true).max())
        for (found, _), true in zip(detections, boxes[:32], strict=True)
    ]
    assert np.mean(np.array(iou) >= 0.5) > 0.8, iou


def test_train_and_detect_validate_their_inputs():
    with pytest.raises(TypeError, match=r"\(N, C, H, W\) tensor"):
        helpers.train_centre_net(np.zeros((2, 1, 8, 8)), [None, None], epochs=1, seed=0)
    with pytest.raises(ValueError, match="2 images but 1 box lists"):
        helpers.train_centre_net(torch.zeros(2, 1, 8, 8), [np.zeros((0, 4))], epochs=1, seed=0)
    with pytest.raises(ValueError, match="per_image"):
        helpers.detect(helpers.CentreNet(1, 4), torch.zeros(1, 1, 8, 8), per_image=0)
