"""Unit tests for the instance-matching helpers of Chapter10/helpers.py (notebook 03):
the IoU matrix, the unique matching at IoU >= 0.5 and the DSB score on hand-computed
cases, against stardist.matching on random maps, merges and splits, input validation."""

import numpy as np
import pytest
from chapter_modules import load_helpers
from scipy import ndimage

helpers = load_helpers(10)


def _two_squares():
    """Two true 2 x 2 squares (ids 1, 2) in a 4 x 6 image."""
    truth = np.zeros((4, 6), dtype=int)
    truth[1:3, 0:2], truth[1:3, 3:5] = 1, 2
    return truth


def test_iou_matrix_by_hand():
    truth = _two_squares()
    pred = np.zeros_like(truth)
    pred[1:3, 0:2] = 7  # exactly square 1 (ids need not be consecutive)
    pred[1:3, 4:6] = 3  # half of square 2 and two background pixels: 2 / 6
    iou, true_ids, pred_ids = helpers.instance_iou(truth, pred)
    assert true_ids.tolist() == [1, 2] and pred_ids.tolist() == [3, 7]
    np.testing.assert_allclose(iou, [[0.0, 1.0], [2 / 6, 0.0]], atol=1e-15)


def test_iou_without_background_pixels_and_with_empty_maps():
    full = np.ones((3, 3), dtype=int)
    iou, _, _ = helpers.instance_iou(full, full * 5)
    assert iou.tolist() == [[1.0]]
    empty = np.zeros((3, 3), dtype=int)
    iou, true_ids, pred_ids = helpers.instance_iou(empty, full)
    assert iou.shape == (0, 1) and len(true_ids) == 0 and pred_ids.tolist() == [1]


def test_matching_counts_and_scores_by_hand():
    truth = _two_squares()
    pred = np.zeros_like(truth)
    pred[1:3, 0:2] = 1  # IoU 1 with square 1
    pred[1:3, 3:6] = 2  # square 2 plus two pixels: IoU 4 / 6
    pred[0, 0] = 3  # a stray pixel: FP
    at_half = helpers.match_instances(truth, pred, 0.5)
    assert (at_half["tp"], at_half["fp"], at_half["fn"]) == (2, 1, 0)
    assert at_half["ap"] == pytest.approx(2 / 3) and at_half["f1"] == pytest.approx(4 / 5)
    assert at_half["precision"] == pytest.approx(2 / 3) and at_half["recall"] == 1.0
    assert at_half["mean_matched_iou"] == pytest.approx((1 + 4 / 6) / 2)
    assert sorted(map(tuple, at_half["pairs"].tolist())) == [(1, 1), (2, 2)]
    strict = helpers.match_instances(truth, pred, 0.7)  # 4/6 < 0.7: square 2 is missed
    assert (strict["tp"], strict["fp"], strict["fn"]) == (1, 2, 1)
    assert strict["ap"] == pytest.approx(1 / 4)


def test_a_merge_matches_nothing_and_is_counted_as_a_merge():
    truth = _two_squares()
    pred = np.zeros_like(truth)
    pred[1:3, 0:5] = 1  # covers both squares: IoU 4 / 10 with each
    result = helpers.match_instances(truth, pred)
    assert (result["tp"], result["fp"], result["fn"], result["ap"]) == (0, 1, 2, 0.0)
    merged, split = helpers.merges_and_splits(truth, pred)
    assert merged.tolist() == [1] and split.tolist() == []


def test_a_split_is_counted_and_the_exact_half_tie_gives_one_match():
    truth = np.zeros((4, 4), dtype=int)
    truth[0:2, 0:4] = 1  # 8 pixels
    pred = np.zeros_like(truth)
    pred[0:2, 0:2], pred[0:2, 2:4] = 1, 2  # two exact halves: IoU 0.5 each
    result = helpers.match_instances(truth, pred, 0.5)
    assert (result["tp"], result["fp"], result["fn"]) == (1, 1, 0)
    merged, split = helpers.merges_and_splits(truth, pred)
    assert merged.tolist() == [] and split.tolist() == [1]


def test_empty_predictions_and_empty_truth():
    truth = _two_squares()
    none = helpers.match_instances(truth, np.zeros_like(truth))
    assert (none["tp"], none["fp"], none["fn"], none["ap"], none["f1"]) == (0, 0, 2, 0.0, 0.0)
    assert none["pairs"].shape == (0, 2)
    spurious = helpers.match_instances(np.zeros_like(truth), truth)
    assert (spurious["tp"], spurious["fp"], spurious["fn"]) == (0, 2, 0)


def _random_instances(seed, shape=(48, 48), n=12):
    rng = np.random.default_rng(seed)
    seeds = np.zeros(shape, dtype=int)
    seeds[rng.integers(0, shape[0], n), rng.integers(0, shape[1], n)] = np.arange(1, n + 1)
    distance, (rows, cols) = ndimage.distance_transform_edt(seeds == 0, return_indices=True)
    labels = seeds[rows, cols]
    labels[distance > rng.uniform(3, 6)] = 0  # blobs around the seeds, some touching
    return labels


@pytest.mark.parametrize("seed", range(4))
def test_matching_agrees_with_stardist(seed):
    from stardist.matching import intersection_over_union, label_overlap, matching

    truth = _random_instances(seed)
    pred = np.roll(truth, seed % 2 + 1, axis=1)  # shifted outlines: IoU from about 0.4 to 0.8
    other = _random_instances(seed + 100, n=4)
    pred = np.where((pred == 0) & (other > 0), other + pred.max(), pred)  # spurious instances
    pred = ndimage.label(pred > 0)[0] if seed % 2 else pred  # merge touching blobs sometimes
    iou, _, _ = helpers.instance_iou(truth, pred)
    reference = intersection_over_union(label_overlap(truth, pred, check=False))[1:, 1:]
    # stardist keeps rows/columns for every id 0..max; ours only for the ids present
    present_true, present_pred = np.unique(truth)[1:], np.unique(pred)[1:]
    np.testing.assert_allclose(
        iou, reference[np.ix_(present_true - 1, present_pred - 1)], atol=1e-6
    )
    thresholds = [0.5, 0.6, 0.75, 0.9]
    for threshold, theirs in zip(thresholds, matching(truth, pred, thresholds), strict=True):
        ours = helpers.match_instances(truth, pred, threshold)
        assert (ours["tp"], ours["fp"], ours["fn"]) == (theirs.tp, theirs.fp, theirs.fn)
        assert ours["ap"] == pytest.approx(theirs.accuracy, abs=1e-12)
        assert ours["f1"] == pytest.approx(theirs.f1, abs=1e-12)


def test_inputs_are_validated_with_helpful_messages():
    truth = _two_squares()
    with pytest.raises(ValueError, match=r"2-D \(H, W\) maps of one shape.*one image at a time"):
        helpers.instance_iou(truth, truth[:, :5])
    with pytest.raises(ValueError, match="one shape"):
        helpers.instance_iou(truth[None], truth[None])
    with pytest.raises(TypeError, match=r"integer instance map.*ndimage.label"):
        helpers.match_instances(truth, truth.astype(float))
    with pytest.raises(ValueError, match=">= 0"):
        helpers.match_instances(truth, -truth)
    with pytest.raises(ValueError, match=r"\[0.5, 1\].*optimal assignment"):
        helpers.match_instances(truth, truth, threshold=0.3)
    with pytest.raises(TypeError, match="threshold must be a number"):
        helpers.match_instances(truth, truth, threshold="0.5")
    with pytest.raises(ValueError, match=r"coverage.*\(0, 1\]"):
        helpers.merges_and_splits(truth, truth, coverage=0.0)
    with pytest.raises(TypeError, match="coverage must be a number"):
        helpers.merges_and_splits(truth, truth, coverage=None)


def test_boolean_masks_are_accepted_as_one_instance():
    truth = _two_squares()
    result = helpers.match_instances(truth == 1, truth == 1)
    assert (result["tp"], result["fp"], result["fn"]) == (1, 0, 0)
