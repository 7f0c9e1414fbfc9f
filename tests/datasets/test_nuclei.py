"""Tests for bios740.datasets.nuclei: the stardist nuclei image, boxes, split and tiles."""

from __future__ import annotations

import builtins
import importlib.util

import numpy as np
import pytest

from bios740.datasets import nuclei
from bios740.datasets.nuclei import (
    NucleiImage,
    boxes_from_labels,
    centres_from_labels,
    load_nuclei,
    relabel_consecutive,
    spatial_split,
    tile,
)


def _fake_image():
    """A 40 x 60 uint16 image with three nuclei (ids with gaps, as in the real file)."""
    mask = np.zeros((40, 60), dtype=np.uint16)
    mask[2:6, 3:8] = 7  # rows 2-5, columns 3-7
    mask[10:20, 30:34] = 2
    mask[30:33, 50:60] = 11  # touches the right edge
    image = (10 + 50 * (mask > 0) + np.arange(60)[None, :] % 3).astype(np.uint16)
    return image, mask


@pytest.fixture
def fake_stardist(monkeypatch):
    monkeypatch.setattr(nuclei, "_read_stardist", _fake_image)


def test_load_nuclei_scales_and_relabels(fake_stardist):
    data = load_nuclei()
    assert data.image.dtype == np.float32 and data.labels.dtype == np.int32
    assert data.image.min() == 0.0 and data.image.max() == 1.0
    assert data.n_nuclei == 3
    assert sorted(np.unique(data.labels).tolist()) == [0, 1, 2, 3]
    # old ids 2, 7, 11 become 1, 2, 3 in order
    assert (data.labels[10:20, 30:34] == 1).all() and (data.labels[2:6, 3:8] == 2).all()
    assert "3 nuclei" in repr(data)


def test_boxes_are_continuous_x1_y1_x2_y2(fake_stardist):
    boxes = load_nuclei().boxes()
    np.testing.assert_array_equal(boxes[1], [3, 2, 8, 6])  # columns 3-7, rows 2-5
    np.testing.assert_array_equal(boxes[0], [30, 10, 34, 20])
    np.testing.assert_array_equal(boxes[2], [50, 30, 60, 33])
    widths = boxes[:, 2] - boxes[:, 0]
    np.testing.assert_array_equal(widths, [4, 5, 10])  # = columns covered
    torch = pytest.importorskip("torch")
    from torchvision.ops import box_area

    areas = box_area(torch.from_numpy(boxes)).numpy()
    np.testing.assert_array_equal(areas, [40, 20, 30])  # = pixels of these rectangles


def test_centres_are_pixel_centres():
    labels = np.zeros((5, 6), dtype=np.int32)
    labels[1:3, 2:4] = 1  # pixels (r 1-2, c 2-3): centre x = 3.0, y = 2.0
    labels[4, 5] = 2
    np.testing.assert_allclose(centres_from_labels(labels), [[3.0, 2.0], [5.5, 4.5]])
    assert centres_from_labels(np.zeros((3, 3), dtype=int)).shape == (0, 2)


def test_boxes_of_missing_ids_are_nan_and_empty_is_empty():
    labels = np.zeros((4, 4), dtype=np.int32)
    labels[0, 0] = 2
    boxes = boxes_from_labels(labels)
    assert np.isnan(boxes[0]).all() and np.array_equal(boxes[1], [0, 0, 1, 1])
    assert boxes_from_labels(np.zeros((3, 3), dtype=np.int64)).shape == (0, 4)
    assert relabel_consecutive(labels).max() == 1


@pytest.mark.parametrize(
    ("labels", "error", "match"),
    [
        (np.zeros((2, 2), dtype=float), TypeError, "integer instance ids"),
        (np.zeros(4, dtype=int), ValueError, r"2-D \(H, W\)"),
        (-np.ones((2, 2), dtype=int), ValueError, "must be >= 0"),
    ],
)
def test_label_validation(labels, error, match):
    with pytest.raises(error, match=match):
        boxes_from_labels(labels)


def test_spatial_split_has_a_guard_band_no_nucleus_crosses(fake_stardist):
    data = load_nuclei()
    train, test = spatial_split(data, test_fraction=0.5, guard=10)
    assert train.shape == (40, 25) and test.shape == (40, 25)
    assert train.origin == (0, 0) and test.origin == (0, 35)
    assert train.n_nuclei == 1 and test.n_nuclei == 1  # the middle nucleus is in the band
    np.testing.assert_array_equal(test.boxes()[0], [15, 30, 25, 33])  # in the part's frame
    # default guard: the widest nucleus (10 columns)
    train_d, test_d = spatial_split(data)
    assert train_d.shape[1] + test_d.shape[1] + 10 == 60
    top, bottom = spatial_split(data, axis="rows", guard=4)
    assert top.shape == (18, 60) and bottom.origin == (22, 0)


def test_spatial_split_rejects_a_guard_that_lets_a_nucleus_cross(fake_stardist):
    data = load_nuclei()
    with pytest.raises(ValueError, match="pixels in both parts"):
        spatial_split(data, test_fraction=28 / 60, guard=0)  # cuts the nucleus at columns 30-33
    with pytest.raises(TypeError, match="NucleiImage"):
        spatial_split(np.zeros((4, 4)))
    with pytest.raises(ValueError, match="test_fraction"):
        spatial_split(data, test_fraction=1.0)
    with pytest.raises(ValueError, match="axis must be"):
        spatial_split(data, axis="diagonal")
    with pytest.raises(ValueError, match="no room"):
        spatial_split(data, guard=59)


def test_tile_covers_every_pixel_and_relabels():
    image, mask = _fake_image()
    labels = relabel_consecutive(mask)
    patches, patch_labels, origins = tile(image.astype(np.float32), labels, size=16, stride=16)
    assert patches.shape[1:] == (16, 16) and patches.dtype == np.float32
    assert patch_labels.dtype == np.int32 and origins.dtype == np.int64
    assert sorted({r for r, _ in origins.tolist()}) == [0, 16, 24]  # last patch at 40 - 16
    assert sorted({c for _, c in origins.tolist()}) == [0, 16, 32, 44]
    covered = np.zeros(image.shape, dtype=bool)
    for (r, c), patch in zip(origins, patches, strict=True):
        covered[r : r + 16, c : c + 16] = True
        np.testing.assert_array_equal(patch, image[r : r + 16, c : c + 16])
    assert covered.all()
    for patch_label in patch_labels:
        ids = np.unique(patch_label)
        assert ids.tolist() == list(range(len(ids)))
    with pytest.raises(ValueError, match="stride must be between"):
        tile(image, labels, size=16, stride=17)
    with pytest.raises(ValueError, match="size must be between"):
        tile(image, labels, size=41)
    with pytest.raises(ValueError, match="one shape"):
        tile(image[:10], labels, size=4)


def test_missing_stardist_says_how_to_install(monkeypatch):
    real_import = builtins.__import__

    def no_stardist(name, *args, **kwargs):
        if name.startswith("stardist"):
            raise ImportError("No module named 'stardist'")
        return real_import(name, *args, **kwargs)

    monkeypatch.setattr(builtins, "__import__", no_stardist)
    with pytest.raises(ImportError, match="pip install stardist"):
        load_nuclei()


def test_nucleiimage_checks_shapes():
    with pytest.raises(ValueError, match="both be"):
        NucleiImage(np.zeros((3, 3), np.float32), np.zeros((3, 4), np.int32))


@pytest.mark.skipif(importlib.util.find_spec("stardist") is None, reason="stardist missing")
def test_the_real_image_without_tensorflow():
    import sys

    data = load_nuclei()
    assert data.shape == (512, 512) and data.n_nuclei == 125
    assert not any(name.startswith("tensorflow") for name in sys.modules)
    boxes = data.boxes()
    assert np.isfinite(boxes).all() and ((boxes[:, 2:] - boxes[:, :2]) >= 1).all()
    train, test = spatial_split(data)
    assert train.n_nuclei > 40 and test.n_nuclei > 40
    assert train.shape[1] + test.shape[1] < 512
