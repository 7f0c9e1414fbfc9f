"""Tests for bios740.datasets.tabular: scikit-learn tables split and standardized."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from sklearn.datasets import load_breast_cancer, load_diabetes

from bios740.datasets.tabular import TABLES, load_tabular, make_splits, split_indices


def test_split_indices_is_disjoint_complete_and_stratified():
    labels = np.array([0] * 60 + [1] * 30 + [2] * 10)
    train, val, test = split_indices(100, val_size=0.2, test_size=0.3, seed=4, stratify=labels)
    together = np.concatenate([train, val, test])
    assert sorted(together.tolist()) == list(range(100))
    for part, share in ((val, 0.2), (test, 0.3), (train, 0.5)):
        counts = np.bincount(labels[part], minlength=3)
        np.testing.assert_allclose(counts, share * np.array([60, 30, 10]), atol=1)


def test_split_indices_is_deterministic_and_depends_on_the_seed():
    first = split_indices(200, seed=11)
    again = split_indices(200, seed=11)
    other = split_indices(200, seed=12)
    for a, b in zip(first, again, strict=True):
        np.testing.assert_array_equal(a, b)
    assert not np.array_equal(first[2], other[2])


def test_split_indices_empty_parts():
    train, val, test = split_indices(20, val_size=0.0, test_size=0.5)
    assert val.size == 0 and train.size == test.size == 10
    train, val, test = split_indices(20, val_size=0.25, test_size=0.0)
    assert test.size == 0 and val.size == 5


@pytest.mark.parametrize(
    ("kwargs", "error", "message"),
    [
        ({"n_samples": 1}, ValueError, "at least 2"),
        ({"n_samples": 10, "val_size": 0.6, "test_size": 0.5}, ValueError, "below 1"),
        ({"n_samples": 10, "test_size": 1.5}, ValueError, r"\[0, 1\)"),
        ({"n_samples": 10, "test_size": "0.2"}, TypeError, "number"),
        ({"n_samples": 10, "stratify": [0, 1]}, ValueError, "2 labels for 10 rows"),
    ],
)
def test_split_indices_rejects_bad_input(kwargs, error, message):
    with pytest.raises(error, match=message):
        split_indices(**kwargs)


def test_breast_cancer_is_standardized_with_training_statistics_only():
    data = load_tabular("breast_cancer", val_size=0.15, test_size=0.2, seed=0)
    assert data.n_features == 30 and data.class_names == ["malignant", "benign"]
    assert sum(map(len, (data.y_train, data.y_val, data.y_test))) == 569
    assert data.x_train.dtype == torch.float32 and data.y_train.dtype == torch.int64
    assert data.X_train is data.x_train  # the alias homework 1 uses
    raw = load_breast_cancer().data
    train_mean, train_sd = raw[data.train_idx].mean(0), raw[data.train_idx].std(0)  # ddof=0
    expected_test = (raw[data.test_idx] - train_mean) / train_sd
    np.testing.assert_allclose(data.x_test.numpy(), expected_test, rtol=1e-5, atol=1e-5)
    np.testing.assert_allclose(data.scaler.mean_, train_mean)
    assert data.x_test.mean(0).abs().max() > 1e-3  # the test rows were not used
    for y in (data.y_train, data.y_val, data.y_test):
        assert abs(y.float().mean().item() - 357 / 569) < 0.02  # stratified
    assert "test  n= 114" in data.summary()
    assert repr(data).startswith("TabularSplits(breast_cancer: train 369, val 86, test 114")


def test_digits_options_and_constant_pixels():
    data = load_tabular("digits", seed=3, standardize=False, dtype=torch.float64)
    assert data.image_shape == (8, 8) and data.n_classes == 10 and data.scaler is None
    assert data.x_train.dtype == torch.float64 and data.x_train.max() == 16.0
    again = load_tabular("Digits", seed=3)
    np.testing.assert_array_equal(again.test_idx, data.test_idx)
    assert torch.isfinite(again.x_train).all()  # always-blank pixels do not give NaN


def test_diabetes_is_a_regression_with_raw_targets():
    data = load_tabular("diabetes", val_size=0.0, test_size=0.2, seed=1)
    assert data.n_classes == 0 and data.y_train.dtype == torch.float32
    assert len(data.y_val) == 0 and "regression" in repr(data)
    target = load_diabetes().target
    np.testing.assert_allclose(data.y_test.numpy(), target[data.test_idx], rtol=1e-6)
    assert "target mean" in data.summary()


def test_make_splits_checks_its_input():
    with pytest.raises(ValueError, match="2-D"):
        make_splits(np.zeros(5), np.zeros(5))
    with pytest.raises(ValueError, match=r"\(5,\) to match"):
        make_splits(np.zeros((5, 2)), np.zeros(4))
    with pytest.raises(TypeError, match="floating"):
        make_splits(np.zeros((10, 2)), np.arange(10) % 2, dtype=torch.int64)


def test_load_tabular_rejects_unknown_names():
    assert set(TABLES) == {"breast_cancer", "diabetes", "digits"}
    with pytest.raises(ValueError, match="unknown table 'iris'"):
        load_tabular("iris")
    with pytest.raises(TypeError, match="string"):
        load_tabular(3)
