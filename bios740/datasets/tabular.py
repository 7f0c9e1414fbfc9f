"""Chapter 1's tables: breast cancer, diabetes and digits, split and standardized.

All three are real data that ship with scikit-learn (no download, no simulation):

* **breast cancer** (Wisconsin Diagnostic Breast Cancer, Street et al. 1993): 569 tumours
  x 30 features of cell nuclei computed from digitized images of fine-needle aspirates;
  label 0 = malignant, 1 = benign (scikit-learn's coding). The features have **no
  physical units** documented (they are measured in image units), so read them as
  relative sizes.
* **diabetes** (Efron et al. 2004): 442 patients x 10 baseline variables, target a
  quantitative measure of disease progression one year later (a regression).
* **digits**: the UCI optical-recognition digits, 1,797 8 x 8 images with grey levels
  0-16. They are the optdigits *test* set, written by **13 people**; no writer ids ship
  with them, so a random split puts every writer's digits in both training and test sets,
  and test accuracy is optimistic for digits of writers the model has never seen. What is
  easier than real use: known writers, centred and size-normalized digits.

The splits are thin wrappers around scikit-learn: ``train_test_split(stratify=...)`` for
classification (every split keeps the class shares) and ``StandardScaler`` fitted on the
training split only (population standard deviation, ``ddof=0``), so nothing about
validation or test rows leaks into the preprocessing.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch
from sklearn import datasets
from sklearn.model_selection import train_test_split
from sklearn.preprocessing import StandardScaler

__all__ = ["TABLES", "TabularSplits", "load_tabular", "make_splits", "split_indices"]

TABLES = ("breast_cancer", "diabetes", "digits")


@dataclass(repr=False)
class TabularSplits:
    """Train/validation/test tensors of one table, with what produced them.

    ``x_*`` are float tensors ``(n, n_features)``; ``y_*`` are int64 class labels (or
    float targets for a regression, where ``class_names`` is empty). ``scaler`` is the
    ``StandardScaler`` fitted on the training rows (None without standardization);
    ``image_shape`` is ``(height, width)`` for images stored as rows, else None.
    ``X_train`` etc. are aliases of ``x_train`` etc. (homework 1 uses them).
    """

    x_train: torch.Tensor
    y_train: torch.Tensor
    x_val: torch.Tensor
    y_val: torch.Tensor
    x_test: torch.Tensor
    y_test: torch.Tensor
    feature_names: list[str]
    class_names: list[str]
    train_idx: np.ndarray
    val_idx: np.ndarray
    test_idx: np.ndarray
    scaler: StandardScaler | None = None
    image_shape: tuple[int, int] | None = None
    name: str = ""

    X_train = property(lambda self: self.x_train)
    X_val = property(lambda self: self.x_val)
    X_test = property(lambda self: self.x_test)

    @property
    def n_features(self) -> int:
        """Number of feature columns."""
        return self.x_train.shape[1]

    @property
    def n_classes(self) -> int:
        """Number of classes (0 for a regression)."""
        return len(self.class_names)

    def __repr__(self) -> str:
        kind = f"{self.n_classes} classes" if self.n_classes else "regression"
        return (
            f"TabularSplits({self.name}: train {len(self.y_train)}, val {len(self.y_val)}, "
            f"test {len(self.y_test)}; {self.n_features} features, {kind})"
        )

    def summary(self) -> str:
        """One line per split: its size and class counts (or target mean)."""
        lines = [repr(self)]
        for split in ("train", "val", "test"):
            y = getattr(self, f"y_{split}")
            if self.n_classes:
                detail = f"class counts={torch.bincount(y, minlength=self.n_classes).tolist()}"
            else:
                detail = f"target mean={y.mean().item():.2f}" if len(y) else "empty"
            lines.append(f"  {split:5s} n={len(y):4d}  {detail}")
        return "\n".join(lines)


def _check_fraction(name: str, value) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float, np.floating)):
        raise TypeError(f"{name} must be a number in [0, 1), not {type(value).__name__}")
    if not 0.0 <= float(value) < 1.0:
        raise ValueError(f"{name} must be in [0, 1), got {value}")
    return float(value)


def split_indices(
    n_samples: int,
    val_size: float = 0.2,
    test_size: float = 0.2,
    seed: int = 0,
    stratify=None,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Split ``range(n_samples)`` into sorted train, validation and test indices.

    Two calls of scikit-learn's ``train_test_split``: first the test rows, then the
    validation rows from the rest. Sizes are fractions of all rows.

    Args:
        n_samples: number of rows.
        val_size: share of rows for validation (0 gives an empty validation set).
        test_size: share of rows for the test set (0 gives an empty test set).
        seed: ``random_state`` of both splits.
        stratify: class label per row to keep class shares in every split, or None.

    Returns:
        ``(train_idx, val_idx, test_idx)``: disjoint int64 arrays covering every row.

    Raises:
        TypeError, ValueError: a fraction outside [0, 1), fractions that leave no training
            rows, or ``stratify`` of the wrong length.
    """
    if isinstance(n_samples, bool) or not isinstance(n_samples, (int, np.integer)) or n_samples < 2:
        raise ValueError(f"n_samples must be an int of at least 2, got {n_samples!r}")
    val_size, test_size = (
        _check_fraction("val_size", val_size),
        _check_fraction("test_size", test_size),
    )
    if val_size + test_size >= 1.0:
        raise ValueError(
            f"val_size + test_size must be below 1 so that training rows remain, got "
            f"{val_size} + {test_size}"
        )
    labels = None if stratify is None else np.asarray(stratify).reshape(-1)
    if labels is not None and len(labels) != n_samples:
        raise ValueError(f"stratify has {len(labels)} labels for {n_samples} rows")
    rest, test = np.arange(n_samples), np.array([], dtype=np.int64)
    if test_size > 0:
        rest, test = train_test_split(rest, test_size=test_size, random_state=seed, stratify=labels)
    val = np.array([], dtype=np.int64)
    if val_size > 0:
        rest, val = train_test_split(
            rest,
            test_size=val_size / (1.0 - test_size),
            random_state=seed,
            stratify=None if labels is None else labels[rest],
        )
    return tuple(np.sort(part).astype(np.int64) for part in (rest, val, test))


def make_splits(
    features,
    targets,
    *,
    val_size: float = 0.2,
    test_size: float = 0.2,
    seed: int = 0,
    classification: bool = True,
    standardize: bool = True,
    dtype: torch.dtype = torch.float32,
    feature_names=None,
    class_names=None,
    image_shape: tuple[int, int] | None = None,
    name: str = "",
) -> TabularSplits:
    """Split a feature table (stratified for classification) and standardize it.

    Args:
        features: ``(n_samples, n_features)`` array.
        targets: ``(n_samples,)`` class labels (``classification``) or numbers.
        standardize: fit a ``StandardScaler`` on the training rows and apply it to all.
        dtype: floating dtype of the feature tensors (and of regression targets).
        Other arguments: see :func:`split_indices` and :class:`TabularSplits`.

    Raises:
        TypeError, ValueError: wrong shapes, a non-floating dtype, bad fractions.
    """
    features = np.asarray(features, dtype=np.float64)
    targets = np.asarray(targets)
    if features.ndim != 2:
        raise ValueError(f"features must be 2-D (n_samples, n_features), got {features.shape}")
    if targets.shape != (features.shape[0],):
        raise ValueError(f"targets must be ({features.shape[0]},) to match, got {targets.shape}")
    if not (isinstance(dtype, torch.dtype) and dtype.is_floating_point):
        raise TypeError(f"dtype must be a floating torch dtype such as torch.float32, got {dtype}")
    parts = split_indices(
        len(targets), val_size, test_size, seed, stratify=targets if classification else None
    )
    scaler = StandardScaler().fit(features[parts[0]]) if standardize else None
    tensors = []
    for index in parts:
        x = features[index]
        if scaler is not None and len(index):
            x = scaler.transform(x)
        y = torch.as_tensor(targets[index], dtype=torch.int64 if classification else dtype)
        tensors += [torch.as_tensor(x, dtype=dtype), y]
    n_classes = int(targets.max()) + 1 if classification else 0
    return TabularSplits(
        *tensors,
        feature_names=list(feature_names or [f"x{j}" for j in range(features.shape[1])]),
        class_names=list(class_names or [str(c) for c in range(n_classes)]),
        train_idx=parts[0],
        val_idx=parts[1],
        test_idx=parts[2],
        scaler=scaler,
        image_shape=image_shape,
        name=name,
    )


def load_tabular(
    name: str,
    val_size: float = 0.2,
    test_size: float = 0.2,
    seed: int = 0,
    standardize: bool = True,
    dtype: torch.dtype = torch.float32,
) -> TabularSplits:
    """Load a scikit-learn table and split it (stratified by class) for training.

    Args:
        name: ``"breast_cancer"`` (569 x 30, 0 = malignant, 1 = benign), ``"diabetes"``
            (442 x 10; the target, disease progression in score units, is not standardized) or ``"digits"`` (1,797 x 64
            pixels with grey levels 0-16, classes 0-9, ``image_shape`` (8, 8)).
        val_size, test_size: shares of all rows in the validation and test sets.
        seed: seed of the split.
        standardize: standardize features with statistics of the training rows only.
        dtype: floating dtype of the feature tensors.

    Returns:
        :class:`TabularSplits`.

    Raises:
        TypeError, ValueError: an unknown table name or bad split arguments.
    """
    if not isinstance(name, str):
        raise TypeError(f"name must be a string, one of {TABLES}, not {type(name).__name__}")
    key = name.lower().replace("-", "_").replace(" ", "_")
    if key not in TABLES:
        raise ValueError(f"unknown table {name!r}; choose one of {TABLES}")
    bunch = getattr(datasets, f"load_{key}")()
    is_digits = key == "digits"
    return make_splits(
        bunch.data,
        bunch.target,
        val_size=val_size,
        test_size=test_size,
        seed=seed,
        classification=key != "diabetes",
        standardize=standardize,
        dtype=dtype,
        feature_names=(
            [f"pixel_{r}_{c}" for r in range(8) for c in range(8)]
            if is_digits
            else [str(f) for f in bunch.feature_names]
        ),
        class_names=None if key == "diabetes" else [str(c) for c in bunch.target_names],
        image_shape=(8, 8) if is_digits else None,
        name=key,
    )
