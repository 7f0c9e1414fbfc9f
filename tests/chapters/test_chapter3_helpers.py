"""Unit tests for Chapter3/helpers.py."""

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from chapter_modules import load_helpers  # noqa: E402

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


def test_lesion_recipe_is_the_course_package_one():
    # Chapter 9 trains the same classifier: one implementation, in bios740.models.
    from bios740 import models

    for name in ("augment", "scale_channels", "train_lesion_cnn", "lesion_probability"):
        assert getattr(helpers, name) is getattr(models, name)


def test_bootstrap_by_subject_resamples_whole_subjects():
    subjects = np.repeat(np.arange(5), 4)
    values = helpers.bootstrap_by_subject(lambda rows: len(rows), subjects, n_boot=50, seed=0)
    assert (values == 20).all()  # five subjects of four slices drawn each time
    counts = helpers.bootstrap_by_subject(
        lambda rows: len(np.unique(subjects[rows])), subjects, n_boot=200, seed=0
    )
    assert counts.min() < 5 and counts.max() <= 5
    again = helpers.bootstrap_by_subject(lambda rows: rows.sum(), subjects, n_boot=20, seed=3)
    assert np.array_equal(again, helpers.bootstrap_by_subject(lambda r: r.sum(), subjects, 20, 3))


def test_bootstrap_skips_draws_where_the_statistic_fails():
    from sklearn.metrics import roc_auc_score

    labels = np.array([0, 1, 0, 1])
    scores = np.array([0.1, 0.9, 0.2, 0.8])
    values = helpers.bootstrap_by_subject(
        lambda rows: roc_auc_score(labels[rows], scores[rows]), np.array([0, 0, 1, 1]), 100, 0
    )
    assert len(values) > 0 and (values == 1.0).all()
    with pytest.raises(ValueError, match="1-D"):
        helpers.bootstrap_by_subject(len, np.zeros((2, 2)))


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


def test_reliability_bins_match_sklearn_calibration_curve():
    # The lesson's ECE bins against scikit-learn's twin (uniform bins of the positive class).
    from sklearn.calibration import calibration_curve

    rng = np.random.default_rng(0)
    probability = rng.uniform(0, 1, 500)
    labels = (rng.uniform(0, 1, 500) < probability**1.5).astype(int)
    mean_confidence, accuracy, counts = helpers.reliability_bins(probability, labels, n_bins=10)
    fraction, mean_predicted = calibration_curve(labels, probability, n_bins=10)
    used = counts > 0
    assert np.allclose(accuracy[used], fraction) and np.allclose(
        mean_confidence[used], mean_predicted
    )
