"""Tests for Chapter9/helpers.py: boxes, IoU/GIoU, maps to boxes, weak localization."""

import numpy as np
import pytest
import torch
from chapter_modules import load_helpers
from torchvision.ops import box_iou as tv_box_iou
from torchvision.ops import generalized_box_iou as tv_giou

from bios740.models import SmallCNN

helpers = load_helpers(9)


def _random_boxes(n, generator):
    corners = torch.rand(n, 2, generator=generator, dtype=torch.float64) * 50
    sizes = torch.rand(n, 2, generator=generator, dtype=torch.float64) * 20 + 0.5
    return torch.cat([corners, corners + sizes], dim=1)


def test_box_iou_and_giou_match_torchvision():
    generator = torch.Generator().manual_seed(0)
    a, b = _random_boxes(7, generator), _random_boxes(5, generator)
    torch.testing.assert_close(helpers.box_iou(a, b), tv_box_iou(a, b), atol=1e-10, rtol=0)
    torch.testing.assert_close(helpers.generalized_box_iou(a, b), tv_giou(a, b), atol=1e-10, rtol=0)
    # hand-worked: [0, 0, 2, 2] and [1, 1, 3, 3] overlap 1 of 7; the hull is 9
    first, second = torch.tensor([[0.0, 0, 2, 2]]), torch.tensor([[1.0, 1, 3, 3]])
    assert helpers.box_iou(first, second).item() == pytest.approx(1 / 7)
    assert helpers.generalized_box_iou(first, second).item() == pytest.approx(1 / 7 - 2 / 9)
    # disjoint boxes: IoU 0, GIoU negative
    far = torch.tensor([[10.0, 10, 12, 12]])
    assert helpers.box_iou(first, far).item() == 0.0
    assert helpers.generalized_box_iou(first, far).item() < 0
    with pytest.raises(ValueError, match=r"\(N, 4\) boxes"):
        helpers.box_iou(torch.zeros(3), b)


class _FakeSlices:
    def __init__(self, boxes, n_lesions):
        self.boxes, self.n_lesions = boxes, n_lesions

    def __len__(self):
        return len(self.n_lesions)

    def boxes_of(self, index):
        return self.boxes[index, : self.n_lesions[index]]


def test_true_boxes_convert_inclusive_indices_to_continuous():
    boxes = np.full((2, 8, 4), -1.0, dtype=np.float32)
    boxes[0, 0] = (3, 2, 7, 5)  # columns 3-7, rows 2-5 (inclusive)
    slices = _FakeSlices(boxes, np.array([1, 0]))
    converted = helpers.true_boxes(slices)
    np.testing.assert_array_equal(converted[0], [[3, 2, 8, 6]])
    assert converted[1].shape == (0, 4)
    with pytest.raises(TypeError, match="BrainSliceData"):
        helpers.true_boxes(np.zeros(3))


def test_map_to_box_takes_the_region_around_the_peak():
    maps = np.zeros((1, 10, 12))
    maps[0, 2:5, 3:6] = 1.0  # peak region: rows 2-4, columns 3-5
    maps[0, 3, 4] = 2.0
    maps[0, 8, 10] = 1.5  # another blob, not connected to the peak
    np.testing.assert_array_equal(helpers.map_to_box(maps, 0.4), [[3, 2, 6, 5]])
    np.testing.assert_array_equal(helpers.map_to_box(maps, 0.9), [[4, 3, 5, 4]])
    outside = np.where(maps > 0, maps, -np.inf)  # -inf outside a region is allowed
    np.testing.assert_array_equal(helpers.map_to_box(outside, 0.4), [[3, 2, 6, 5]])
    with pytest.raises(ValueError, match="fraction"):
        helpers.map_to_box(maps, 0.0)
    with pytest.raises(ValueError, match=r"\(N, H, W\)"):
        helpers.map_to_box(maps[0], 0.5)


def test_best_iou_uses_the_best_matching_lesion():
    truth = [np.array([[0.0, 0, 2, 2], [5, 5, 7, 7]]), np.zeros((0, 4))]
    predicted = np.array([[5.0, 5, 7, 8], [0, 0, 1, 1]])
    np.testing.assert_allclose(helpers.best_iou(predicted, truth), [4 / 6, 0.0])
    with pytest.raises(ValueError, match="one box per slice"):
        helpers.best_iou(predicted[:1], truth)


def test_cam_and_occlusion_shapes_and_errors():
    generator = torch.Generator().manual_seed(0)
    x = torch.rand(32, 2, 16, 16, generator=generator)
    y = torch.arange(32) % 2
    x[y == 1, 1, 5:8, 9:12] += 3.0  # a bright "lesion" in the positives
    torch.manual_seed(0)
    model = SmallCNN(2, 2, width=4).eval()
    cam = helpers.class_activation_map(model, x[:4])
    assert cam.shape == (4, 16, 16)
    assert torch.isfinite(cam).all()
    occlusion = helpers.occlusion_map(model, x[:2], patch=4, stride=2)
    assert occlusion.shape == (2, 16, 16) and torch.isfinite(occlusion).all()
    with pytest.raises(TypeError, match="SmallCNN"):
        helpers.class_activation_map(torch.nn.Linear(2, 2), x)
    with pytest.raises(ValueError, match="stride <= patch"):
        helpers.occlusion_map(model, x[:1], patch=2, stride=4)


def test_occlusion_finds_the_only_pixel_that_matters():
    class OnePixel(torch.nn.Module):
        def forward(self, images):
            value = images[:, 0, 6, 3]
            return torch.stack([torch.zeros_like(value), value], dim=1)

    images = torch.ones(1, 1, 12, 12)
    occlusion = helpers.occlusion_map(OnePixel(), images, patch=2, stride=1)[0]
    assert occlusion[6, 3] == occlusion.max() and occlusion[0, 11] == 0


def test_cam_of_a_small_cnn_equals_the_head_applied_per_position():
    torch.manual_seed(0)
    model = SmallCNN(1, 2, width=4).eval()
    images = torch.rand(2, 1, 16, 16)
    cam = helpers.class_activation_map(model, images)
    with torch.no_grad():
        features = model.features(images)  # (2, 16, 4, 4)
        weights = model.head.weight[1] - model.head.weight[0]
        # the margin of the logits is the CAM weights applied to the channel maxima
        margin = model(images) @ torch.tensor([-1.0, 1.0])
        bias = model.head.bias[1] - model.head.bias[0]
        torch.testing.assert_close(features.amax(dim=(2, 3)) @ weights + bias, margin)
    assert cam.shape == (2, 16, 16)
