"""Tests of bios740.stats: cluster and paired bootstrap intervals."""

import numpy as np
import pytest
from sklearn.metrics import roc_auc_score

from bios740.stats import (
    Interval,
    auroc,
    bootstrap,
    bootstrap_indices,
    bootstrap_samples,
    paired_bootstrap,
    percentile_interval,
)


def test_grouped_resamples_take_whole_units_in_row_order():
    groups = np.array([2, 0, 2, 1, 0, 2])
    rows_of = {0: [1, 4], 1: [3], 2: [0, 2, 5]}
    for rows in bootstrap_indices(groups=groups, n_boot=50, seed=1):
        pieces, k = [], 0
        while k < len(rows):  # the resample is a concatenation of whole units
            unit = int(groups[rows[k]])
            assert list(rows[k : k + len(rows_of[unit])]) == rows_of[unit]
            pieces.append(unit)
            k += len(rows_of[unit])
        assert len(pieces) == 3


def test_the_same_seed_draws_the_same_units_for_rows_and_groups():
    plain = list(bootstrap_indices(n=7, n_boot=5, seed=3))
    one_row_each = list(bootstrap_indices(groups=np.arange(7), n_boot=5, seed=3))
    assert all(np.array_equal(a, b) for a, b in zip(plain, one_row_each, strict=True))
    assert not np.array_equal(plain[0], next(bootstrap_indices(n=7, n_boot=1, seed=4)))


def test_interval_covers_a_known_mean_and_clustering_widens_it():
    rng = np.random.default_rng(0)
    groups = np.repeat(np.arange(30), 20)
    values = rng.normal(size=30)[groups] + 0.1 * rng.normal(size=600)  # correlated within unit
    clustered = bootstrap(np.mean, values, groups=groups, n_boot=400)
    naive = bootstrap(np.mean, values, n_boot=400)
    assert isinstance(clustered, Interval) and clustered.low < values.mean() < clustered.high
    # Treating 600 correlated rows as independent understates the uncertainty ~4x.
    assert (clustered.high - clustered.low) > 3 * (naive.high - naive.low)


def strict_auroc(y, scores):
    if y.min() == y.max():
        raise ValueError("one class only")
    return roc_auc_score(y, scores)


def test_failed_resamples_are_skipped_and_pairs_stay_aligned():
    y = np.array([0] * 18 + [1, 1])
    good, bad = y + 0.1 * np.arange(20), -y.astype(float)
    samples = paired_bootstrap(strict_auroc, y, {"good": good, "bad": bad}, n_boot=200)
    assert len(samples["good"]) == len(samples["bad"]) < 200  # one-class draws left out
    assert np.all(samples["good"] - samples["bad"] == 1.0)
    alone = bootstrap_samples(strict_auroc, y, good, n_boot=200)
    assert len(alone) == len(samples["good"])
    with np.errstate(all="ignore"):  # a statistic that returns NaN is left out too
        nan_free = bootstrap_samples(lambda t, s: np.nan if t.max() == 0 else 1.0, y, good)
    assert 0 < len(nan_free) < 1000 and np.all(nan_free == 1.0)


def test_percentile_interval_ignores_nan_and_checks_its_input():
    assert percentile_interval([np.nan, 1.0, 2.0, 3.0], level=0.5) == (1.5, 2.5)
    with pytest.raises(ValueError, match="every resample failed"):
        percentile_interval([np.nan])
    with pytest.raises(ValueError, match="level must be in"):
        percentile_interval([1.0], level=95)


def test_bad_input_gets_a_clear_error():
    with pytest.raises(ValueError, match="either n .* or groups"):
        next(bootstrap_indices())
    with pytest.raises(ValueError, match="at least two units"):
        next(bootstrap_indices(groups=np.zeros(5)))
    with pytest.raises(ValueError, match="n_boot must be a positive integer"):
        next(bootstrap_indices(n=5, n_boot=0))
    with pytest.raises(ValueError, match="one entry per row"):
        bootstrap(np.mean, np.ones(5), groups=np.arange(4))
    with pytest.raises(ValueError, match="3 predictions for 4 targets"):
        paired_bootstrap(np.mean, np.ones(4), {"short": np.ones(3)})
    with pytest.raises(TypeError, match="non-empty dict"):
        paired_bootstrap(np.mean, np.ones(4), [np.ones(4)])


def test_auroc_equals_sklearn_with_ties_and_rejects_bad_input():
    rng = np.random.default_rng(0)
    for n in (2, 7, 240):
        labels = rng.integers(0, 2, n)
        labels[:2] = [0, 1]
        scores = np.round(rng.normal(size=n) + labels, 1)  # rounded: many ties
        assert abs(auroc(labels, scores) - roc_auc_score(labels, scores)) < 1e-12
    assert auroc([0, 1], [0.5, 0.5]) == 0.5 and auroc([True, False], [2.0, 1.0]) == 1.0
    with pytest.raises(ValueError, match="only one class"):
        auroc([1, 1, 1], [0.1, 0.2, 0.3])
    with pytest.raises(ValueError, match="0 and 1 only"):
        auroc([0, 2, 1], [0.1, 0.2, 0.3])
    with pytest.raises(ValueError, match=r"probabilities\[:, 1\]"):
        auroc([0, 1], np.ones((2, 2)))
