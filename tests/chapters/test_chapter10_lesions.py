"""Unit tests for the lesion-segmentation helpers of Chapter10/helpers.py (notebook 02):
boundaries, the percentile Hausdorff distance against a brute-force pairwise computation
and scipy's directed Hausdorff, and lesion-wise detection on hand-drawn cases."""

import numpy as np
import pytest
from chapter_modules import load_helpers
from scipy.spatial.distance import cdist, directed_hausdorff

helpers = load_helpers(10)


def _blobs(seed, n=4, size=24):
    rng = np.random.default_rng(seed)
    rows, cols = np.mgrid[:size, :size]
    masks = np.zeros((n, size, size), dtype=bool)
    for i in range(n):
        for _ in range(rng.integers(1, 4)):
            r, c, radius = rng.uniform(3, size - 3), rng.uniform(3, size - 3), rng.uniform(1, 5)
            masks[i] |= (rows - r) ** 2 + (cols - c) ** 2 <= radius**2
    return masks


def _boundary_by_hand(mask):
    padded = np.pad(mask, 1)
    inner = padded[:-2, 1:-1] & padded[2:, 1:-1] & padded[1:-1, :-2] & padded[1:-1, 2:]
    return mask & ~inner


def test_surface_pixels_are_the_pixels_with_an_outside_4_neighbour():
    masks = _blobs(0)
    masks[0, 0, :5] = True  # touching the image border: the border counts as outside
    expected = np.stack([_boundary_by_hand(m) for m in masks])
    np.testing.assert_array_equal(helpers.surface_pixels(masks), expected)
    square = np.zeros((1, 7, 7), bool)
    square[0, 1:6, 1:6] = True
    assert helpers.surface_pixels(square).sum() == 16


def test_hausdorff_matches_brute_force_pairwise_distances():
    prediction, target = _blobs(1), _blobs(2)
    for percentile in (50, 95, 100):
        got = helpers.hausdorff_distance(prediction, target, spacing=3.0, percentile=percentile)
        for i in range(len(prediction)):
            a = np.argwhere(_boundary_by_hand(prediction[i])) * 3.0
            b = np.argwhere(_boundary_by_hand(target[i])) * 3.0
            d = cdist(a, b)
            expected = max(np.percentile(d.min(1), percentile), np.percentile(d.min(0), percentile))
            assert got[i] == pytest.approx(expected, abs=1e-9)
            if percentile == 100:
                assert got[i] == pytest.approx(
                    max(directed_hausdorff(a, b)[0], directed_hausdorff(b, a)[0]), abs=1e-9
                )


def test_hausdorff_of_known_cases():
    masks = np.zeros((4, 9, 9), dtype=bool)
    target = masks.copy()
    masks[0, 4, 1], target[0, 4, 5] = True, True  # two pixels 4 apart
    masks[1, 2:5, 2:5], target[1, 2:5, 2:5] = True, True  # identical
    target[2, 3, 3] = True  # prediction empty
    got = helpers.hausdorff_distance(masks, target, spacing=3.0)
    assert got[0] == pytest.approx(12.0) and got[1] == 0.0
    assert np.isinf(got[2]) and np.isnan(got[3])


def test_hd95_ignores_a_few_stray_pixels_that_the_maximum_does_not():
    target = np.zeros((1, 64, 64), dtype=bool)
    target[0, 10:40, 10:40] = True
    prediction = target.copy()
    prediction[0, 60, 60] = True  # one stray pixel far away
    hd100 = helpers.hausdorff_distance(prediction, target, percentile=100)[0]
    hd95 = helpers.hausdorff_distance(prediction, target, percentile=95)[0]
    assert hd100 == pytest.approx(np.hypot(21, 21)) and hd95 == 0.0


def test_hausdorff_rejects_bad_inputs():
    with pytest.raises(ValueError, match=r"\(N, H, W\).*mask\[None\]"):
        helpers.hausdorff_distance(np.zeros((4, 4)), np.zeros((4, 4)))
    with pytest.raises(ValueError, match="spacing must be a positive"):
        helpers.hausdorff_distance(np.zeros((1, 4, 4)), np.zeros((1, 4, 4)), spacing=0)
    with pytest.raises(ValueError, match=r"percentile must be in \[0, 100\]"):
        helpers.hausdorff_distance(np.zeros((1, 4, 4)), np.zeros((1, 4, 4)), percentile=190)
    with pytest.raises(ValueError, match=r"masks must be \(N, H, W\)"):
        helpers.surface_pixels(np.zeros((4, 4)))


def _lesion_case():
    ids = np.zeros((2, 10, 10), dtype=np.int8)
    ids[0, 1:3, 1:3] = 1  # 4 px, hit by one predicted pixel
    ids[0, 6:9, 6:9] = 2  # 9 px, missed
    ids[1, 4:6, 4:6] = 1  # 4 px, fully predicted
    prediction = np.zeros(ids.shape, dtype=bool)
    prediction[0, 2, 2:5] = True  # one component touching lesion 1 (one pixel on it)
    prediction[0, 8, 0] = True  # a false blob
    prediction[1, 4:6, 4:6] = True
    prediction[1, 0, 0] = prediction[1, 1, 1] = True  # diagonal pixels: one 8-connected blob
    return prediction, ids


def test_match_lesions_counts_detections_and_false_blobs():
    prediction, ids = _lesion_case()
    result = helpers.match_lesions(prediction, ids)
    assert result["image"].tolist() == [0, 0, 1] and result["lesion"].tolist() == [1, 2, 1]
    assert result["size"].tolist() == [4, 9, 4] and result["overlap"].tolist() == [1, 0, 4]
    assert result["detected"].tolist() == [True, False, True]
    assert result["false_positives"].tolist() == [1, 1] and result["components"].tolist() == [2, 2]
    stricter = helpers.match_lesions(prediction, ids, min_overlap=2)
    assert stricter["detected"].tolist() == [False, False, True]


def test_match_lesions_of_empty_maps():
    empty = np.zeros((3, 5, 5), dtype=bool)
    result = helpers.match_lesions(empty, empty.astype(np.int8))
    assert len(result["size"]) == 0 and result["detected"].dtype == bool
    assert result["false_positives"].tolist() == [0, 0, 0]


def test_match_lesions_rejects_bad_inputs():
    prediction, ids = _lesion_case()
    with pytest.raises(TypeError, match="integer instance map.*ndimage.label"):
        helpers.match_lesions(prediction, ids.astype(float))
    with pytest.raises(ValueError, match=r"prediction and lesion_ids must both be \(N, H, W\)"):
        helpers.match_lesions(prediction[0], ids[0])
    with pytest.raises(ValueError, match=">= 0"):
        helpers.match_lesions(prediction, -ids)
    with pytest.raises(ValueError, match="min_overlap must be a whole number"):
        helpers.match_lesions(prediction, ids, min_overlap=0.5)
