"""Tests for the detection metrics of Chapter9/helpers.py: matching, AP and FROC."""

import numpy as np
import pytest
import torch
from chapter_modules import load_helpers

helpers = load_helpers(9)

LESIONS = np.array([[0.0, 0, 10, 10], [20, 20, 30, 30]])


def test_matching_takes_each_lesion_once_in_score_order():
    boxes = np.array([[0.0, 0, 10, 10], [1, 1, 10, 10], [40, 40, 50, 50], [20, 21, 30, 30]])
    scores = np.array([0.5, 0.9, 0.8, 0.1])  # unsorted on purpose
    # the duplicate with the higher score (0.9) takes lesion 0; the exact box becomes a FP
    np.testing.assert_array_equal(helpers.match_detections(boxes, scores, LESIONS), [0, 1, 0, 1])
    ignored = helpers.match_detections(boxes, scores, LESIONS, duplicates="ignore")
    np.testing.assert_array_equal(ignored, [-1, 1, 0, 1])
    # a box shifted by half its width: IoU 1/3 misses, its centre is inside the lesion
    shifted = np.array([[5.0, 0, 15, 10]])
    assert helpers.match_detections(shifted, [1.0], LESIONS).tolist() == [0]
    assert helpers.match_detections(shifted, [1.0], LESIONS, criterion="centre").tolist() == [1]
    # no lesions: every detection is a FP; no detections: empty
    assert helpers.match_detections(boxes, scores, np.zeros((0, 4))).tolist() == [0, 0, 0, 0]
    assert helpers.match_detections(np.zeros((0, 4)), [], LESIONS).shape == (0,)


def test_matching_validates_its_inputs():
    with pytest.raises(ValueError, match="one per box"):
        helpers.match_detections(LESIONS, [0.5], LESIONS)
    with pytest.raises(ValueError, match="criterion"):
        helpers.match_detections(LESIONS, [0.5, 0.4], LESIONS, criterion="dice")
    with pytest.raises(ValueError, match=r"\(N, 4\) boxes"):
        helpers.match_detections(np.zeros((2, 3)), [0.5, 0.4], LESIONS)


def test_average_precision_hand_worked():
    # pooled order TP, FP, TP with 3 lesions: recall 1/3, 1/3, 2/3; precision 1, 1/2, 2/3
    scores, outcomes = np.array([0.9, 0.8, 0.7]), np.array([1, 0, 1])
    all_point = helpers.ap_from_matches(scores, outcomes, 3, "all")
    assert all_point == pytest.approx(1 / 3 * 1 + 1 / 3 * 2 / 3)
    # 101 points: recall 0..0.33 (34 points) at 1, 0.34..0.66 (33 points) at 2/3, rest 0
    coco = helpers.ap_from_matches(scores, outcomes, 3, "coco")
    assert coco == pytest.approx((34 + 33 * 2 / 3) / 101)
    # input order does not matter; ignored (-1) detections drop out
    shuffled = helpers.ap_from_matches(scores[::-1], outcomes[::-1], 3, "all")
    assert shuffled == pytest.approx(all_point)
    with_ignored = helpers.ap_from_matches(np.r_[scores, 0.95], np.r_[outcomes, -1], 3, "all")
    assert with_ignored == pytest.approx(all_point)
    assert np.isnan(helpers.ap_from_matches(scores, outcomes, 0))
    with pytest.raises(ValueError, match="interpolation"):
        helpers.ap_from_matches(scores, outcomes, 3, "11-point")


def _random_case(rng):
    boxes, scores, truth = [], [], []
    for _ in range(rng.integers(1, 7)):
        n_lesions, n_detections = rng.integers(0, 5), rng.integers(0, 8)
        centres, sizes = rng.uniform(5, 55, (n_lesions, 2)), rng.uniform(2, 10, (n_lesions, 2))
        lesions = np.c_[centres - sizes / 2, centres + sizes / 2]
        if n_lesions and n_detections:
            found = lesions[rng.integers(0, n_lesions, n_detections)]
            found = found + rng.normal(0, 1.5, (n_detections, 4))
            found[:, 2:] = np.maximum(found[:, 2:], found[:, :2] + 0.5)
        else:
            centres = rng.uniform(5, 55, (n_detections, 2))
            found = np.c_[centres - 3, centres + 3]
        # float32 first, so that both sides see the same numbers
        boxes.append(found.astype(np.float32).astype(float).reshape(-1, 4))
        scores.append(rng.random(n_detections).astype(np.float32).astype(float))
        truth.append(lesions.astype(np.float32).astype(float).reshape(-1, 4))
    return boxes, scores, truth


def test_average_precision_matches_torchmetrics():
    pytest.importorskip("pycocotools")
    from torchmetrics.detection import MeanAveragePrecision

    rng = np.random.default_rng(0)
    for _ in range(40):
        boxes, scores, truth = _random_case(rng)
        if not sum(len(t) for t in truth):
            continue
        # float64 recall points: torchmetrics' default ones are float32, so a recall of
        # exactly 0.6 would fall below its point 0.6000000238
        metric = MeanAveragePrecision(
            iou_thresholds=[0.5], rec_thresholds=np.linspace(0, 1, 101).tolist()
        )
        metric.update(
            [
                {
                    "boxes": torch.tensor(b).float(),
                    "scores": torch.tensor(s).float(),
                    "labels": torch.zeros(len(b), dtype=torch.long),
                }
                for b, s in zip(boxes, scores, strict=True)
            ],
            [
                {"boxes": torch.tensor(t).float(), "labels": torch.zeros(len(t), dtype=torch.long)}
                for t in truth
            ],
        )
        expected = float(metric.compute()["map_50"])
        assert helpers.average_precision(boxes, scores, truth) == pytest.approx(expected, abs=1e-6)


def test_froc_counts_lesions_and_false_positives_per_image():
    # 2 images, 4 lesions; pooled by score: TP, FP, TP, FP, FP, TP
    scores = np.array([0.9, 0.8, 0.7, 0.6, 0.5, 0.4])
    outcomes = np.array([1, 0, 1, 0, 0, 1])
    fp_rate, sensitivity, thresholds, at_rates = helpers.froc_from_matches(
        scores, outcomes, n_lesions=4, n_images=2, rates=(0.5, 1.0, 1.5, 8.0)
    )
    np.testing.assert_allclose(fp_rate, [0, 0, 0.5, 0.5, 1.0, 1.5, 1.5])
    np.testing.assert_allclose(sensitivity, [0, 0.25, 0.25, 0.5, 0.5, 0.5, 0.75])
    assert thresholds[0] == np.inf and thresholds[-1] == 0.4
    np.testing.assert_allclose(at_rates, [0.5, 0.5, 0.75, 0.75])
    # tied scores enter together: one step, not two
    fp_rate, sensitivity, _, _ = helpers.froc_from_matches([0.5, 0.5], [1, 0], 1, 1)
    np.testing.assert_allclose(fp_rate, [0, 1])
    np.testing.assert_allclose(sensitivity, [0, 1])
    with pytest.raises(ValueError, match="at least one lesion"):
        helpers.froc_from_matches(scores, outcomes, n_lesions=0, n_images=2)
