"""Tests for bios740.generative_metrics."""

import numpy as np
import pytest
import torch
from scipy import linalg

from bios740.download import DataUnavailableError
from bios740.generative_metrics import (
    classifier_two_sample_test,
    frechet_distance,
    frechet_distance_from_statistics,
    gaussian_statistics,
    inception_fid,
    nearest_neighbour_distances,
)


def _scipy_frechet(mu_a, cov_a, mu_b, cov_b):
    root = linalg.sqrtm(cov_a @ cov_b).real
    return ((mu_a - mu_b) ** 2).sum() + np.trace(cov_a + cov_b - 2 * root)


def test_frechet_distance_matches_scipy_and_closed_forms():
    rng = np.random.default_rng(0)
    a, b = rng.normal(size=(5, 5)), rng.normal(size=(5, 5))
    cov_a, cov_b = a @ a.T + 0.1 * np.eye(5), b @ b.T + 0.1 * np.eye(5)
    mu_a, mu_b = rng.normal(size=5), rng.normal(size=5)
    ours = frechet_distance_from_statistics(mu_a, cov_a, mu_b, cov_b)
    assert ours == pytest.approx(_scipy_frechet(mu_a, cov_a, mu_b, cov_b), rel=1e-8)
    # Same covariance: only the means count. Equal Gaussians: 0.
    assert frechet_distance_from_statistics(mu_a, cov_a, mu_b, cov_a) == pytest.approx(
        ((mu_a - mu_b) ** 2).sum(), rel=1e-8
    )
    assert frechet_distance_from_statistics(mu_a, cov_a, mu_a, cov_a) == pytest.approx(0, abs=1e-8)
    # One dimension: (m1 - m2)^2 + (s1 - s2)^2.
    assert frechet_distance_from_statistics([0.0], [[4.0]], [1.0], [[1.0]]) == pytest.approx(2.0)
    with pytest.raises(ValueError, match=r"\(D,\)"):
        frechet_distance_from_statistics(mu_a, cov_a, mu_b[:3], cov_b)


def test_frechet_distance_on_features_and_input_checks():
    rng = np.random.default_rng(1)
    x = rng.normal(size=(4000, 3))
    y = rng.normal(size=(4000, 3)) * 2 + 1
    mean, cov = gaussian_statistics(y)
    assert mean.shape == (3,) and cov.shape == (3, 3)
    # Theory: 3 * 1^2 + 3 * (2 - 1)^2 = 6.
    assert frechet_distance(x, y) == pytest.approx(6.0, rel=0.05)
    assert frechet_distance(torch.from_numpy(x), torch.from_numpy(x)) == pytest.approx(0, abs=1e-8)
    with pytest.raises(ValueError, match=r"\(N, D\)"):
        frechet_distance(np.zeros(10), y)
    with pytest.raises(ValueError, match="feature sizes differ"):
        frechet_distance(x, y[:, :2])
    with pytest.raises(ValueError, match="nan"):
        frechet_distance(np.full((3, 3), np.nan), y)


def test_nearest_neighbour_distances_match_brute_force():
    rng = np.random.default_rng(2)
    queries, reference = rng.normal(size=(37, 4)), rng.normal(size=(50, 4))
    expected = np.sqrt(((queries[:, None] - reference[None]) ** 2).sum(-1)).min(1)
    assert np.allclose(nearest_neighbour_distances(queries, reference, chunk_size=8), expected)
    assert np.allclose(nearest_neighbour_distances(reference, reference), 0, atol=1e-6)
    with pytest.raises(ValueError, match="columns"):
        nearest_neighbour_distances(queries, reference[:, :3])


def test_classifier_two_sample_test_detects_a_shift_and_not_a_copy():
    rng = np.random.default_rng(3)
    real = rng.normal(size=(400, 5))
    same = rng.normal(size=(400, 5))
    shifted = rng.normal(size=(400, 5)) + np.array([1.5, 0, 0, 0, 0])
    wider = rng.normal(size=(400, 5)) * np.array([2.5, 1, 1, 1, 1])  # same mean
    null = classifier_two_sample_test(real, same, n_boot=200, seed=0)
    assert null["low"] < 0.5 < null["high"] and abs(null["auroc"] - 0.5) < 0.1
    shift = classifier_two_sample_test(real, shifted, n_boot=200, seed=0)
    assert shift["low"] > 0.7 and shift["n_test"] == 400
    # The default (boosted trees) sees a change of spread that a linear classifier cannot.
    spread = classifier_two_sample_test(real, wider, n_boot=200, seed=0)
    assert spread["low"] > 0.6
    with pytest.raises(ValueError, match="columns"):
        classifier_two_sample_test(real, shifted[:, :2])
    with pytest.raises(ValueError, match="test_size"):
        classifier_two_sample_test(real, shifted, test_size=1.5)


def test_inception_fid_needs_permission():
    images = torch.rand(2, 3, 32, 32)
    with pytest.raises(DataUnavailableError, match="allow_download=True"):
        inception_fid(images, images)
