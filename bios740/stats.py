"""Bootstrap intervals that resample the right unit (subjects, patients, molecules).

Every chapter compares models with an interval, and the unit that is independent differs:
slices of one subject, beats of one patient and windows of one state are correlated, so
their subject, patient or state is drawn with replacement and all of its rows go in (a
cluster bootstrap; Efron & Tibshirani 1993, ch. 6; Field & Welsh 2007). When two models
are scored on the same resamples, the difference of their bootstrap values gives a
*paired* interval, which is narrower than comparing two separate intervals and is the one
to assert on.

The functions share one random stream: resample ``b`` draws ``rng.integers(n_units,
size=n_units)`` from ``np.random.default_rng(seed)``, so the same ``seed`` draws the same
subjects for every model and every chapter.

Typical use::

    from bios740.stats import bootstrap, paired_bootstrap, percentile_interval

    auc, low, high = bootstrap(roc_auc_score, y_test, scores, groups=subjects)
    samples = paired_bootstrap(roc_auc_score, y_test, {"cnn": s_cnn, "rule": s_rule},
                               groups=subjects)
    low, high = percentile_interval(samples["cnn"] - samples["rule"])
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from typing import NamedTuple

import numpy as np

__all__ = [
    "Interval",
    "auroc",
    "bootstrap",
    "bootstrap_indices",
    "bootstrap_samples",
    "paired_bootstrap",
    "percentile_interval",
]


def auroc(y_true, scores) -> float:
    """Area under the ROC curve from ranks (the Mann-Whitney statistic); ties count one half.

    The same number as ``sklearn.metrics.roc_auc_score`` for binary labels, without its
    input checks, so it is many times faster: use it as the statistic of a bootstrap, which
    calls it hundreds of times.

    Args:
        y_true: ``(N,)`` labels, 0/1 or boolean.
        scores: ``(N,)`` scores, higher meaning class 1.

    Raises:
        ValueError: shapes differ, labels other than 0 and 1, or only one class present
            (the AUROC is undefined; :func:`bootstrap_samples` skips such resamples).
    """
    labels, values = np.asarray(y_true), np.asarray(scores, dtype=float)
    if labels.ndim != 1 or labels.shape != values.shape:
        raise ValueError(
            f"y_true and scores must be 1-D of one length, got shapes {labels.shape} and "
            f"{values.shape}; for class probabilities (N, 2) pass probabilities[:, 1]"
        )
    positive = labels == 1
    if not np.all(positive | (labels == 0)):
        raise ValueError(f"y_true must hold 0 and 1 only, got values {np.unique(labels)[:5]}")
    n_positive = int(positive.sum())
    n_negative = len(labels) - n_positive
    if n_positive == 0 or n_negative == 0:
        raise ValueError("only one class is present in y_true: the AUROC is undefined")
    from scipy.stats import rankdata  # imported here: most users of this module never need it

    rank_sum = float(rankdata(values)[positive].sum())
    return (rank_sum - n_positive * (n_positive + 1) / 2) / (n_positive * n_negative)


class Interval(NamedTuple):
    """A point estimate with the bounds of its percentile bootstrap interval."""

    estimate: float
    low: float
    high: float


def _check_count(n_boot) -> int:
    if isinstance(n_boot, bool) or not isinstance(n_boot, (int, np.integer)) or n_boot < 1:
        raise ValueError(f"n_boot must be a positive integer, got {n_boot!r}")
    return int(n_boot)


def bootstrap_indices(
    n: int | None = None, groups=None, n_boot: int = 1000, seed: int = 0
) -> Iterator[np.ndarray]:
    """Yield ``n_boot`` bootstrap resamples of row indices.

    Args:
        n: number of rows, each its own unit (give ``n`` or ``groups``).
        groups: ``(N,)`` unit of each row (subject, patient, state); units are drawn with
            replacement and every row of a drawn unit goes in, in row order.
        n_boot: number of resamples.
        seed: seed of ``np.random.default_rng``.

    Yields:
        Integer arrays of row indices (length ``n``, or the rows of the drawn units).

    Raises:
        ValueError: neither or both of ``n`` and ``groups``, or fewer than two units.
    """
    n_boot = _check_count(n_boot)
    if (n is None) == (groups is None):
        raise ValueError("give either n (rows are the units) or groups (one unit per row)")
    rng = np.random.default_rng(seed)
    if groups is None:
        if isinstance(n, bool) or not isinstance(n, (int, np.integer)) or n < 2:
            raise ValueError(f"n must be an integer of at least 2 rows, got {n!r}")
        for _ in range(n_boot):
            yield rng.integers(n, size=n)
        return
    groups = np.asarray(groups)
    if groups.ndim != 1 or groups.size == 0:
        raise ValueError(f"groups must be a non-empty 1-D array, got shape {groups.shape}")
    _, inverse = np.unique(groups, return_inverse=True)
    n_units = int(inverse.max()) + 1
    if n_units < 2:
        raise ValueError(
            "the bootstrap needs at least two units (subjects, patients) to resample; "
            "pass the unit of each row as groups"
        )
    order = np.argsort(inverse, kind="stable")
    starts = np.searchsorted(inverse[order], np.arange(n_units + 1))
    rows_of = [order[starts[k] : starts[k + 1]] for k in range(n_units)]
    for _ in range(n_boot):
        yield np.concatenate([rows_of[k] for k in rng.integers(n_units, size=n_units)])


def _as_arrays(arrays, groups) -> tuple[list[np.ndarray], int]:
    if not arrays:
        raise ValueError("give at least one array for the statistic")
    arrays = [np.asarray(a) for a in arrays]
    lengths = {len(a) for a in arrays}
    if groups is not None:
        lengths.add(len(np.asarray(groups)))
    if len(lengths) != 1:
        raise ValueError(
            "every array (and groups) needs one entry per row; got lengths "
            f"{[len(a) for a in arrays]}" + ("" if groups is None else f", groups {len(groups)}")
        )
    return arrays, lengths.pop()


def bootstrap_samples(
    statistic: Callable[..., float],
    *arrays,
    groups=None,
    n_boot: int = 1000,
    seed: int = 0,
) -> np.ndarray:
    """Return ``statistic(*arrays)`` on each bootstrap resample of the rows.

    Resamples on which the statistic raises ``ValueError`` or returns NaN (an AUROC with
    one class only: scikit-learn raises or warns and returns NaN, by version) are left
    out, so fewer than ``n_boot`` values may come back.

    Args:
        statistic: function of the resampled arrays, returning a number.
        *arrays: arrays with one entry per row (targets, predictions, ...).
        groups: optional ``(N,)`` unit of each row, resampled whole.
        n_boot: number of resamples; seed: seed of the resampling.
    """
    arrays, n_rows = _as_arrays(arrays, groups)
    values = []
    indices = bootstrap_indices(None if groups is not None else n_rows, groups, n_boot, seed)
    for rows in indices:
        try:
            value = float(statistic(*[a[rows] for a in arrays]))
        except ValueError:
            continue
        if not np.isnan(value):
            values.append(value)
    return np.asarray(values)


def percentile_interval(samples, level: float = 0.95) -> tuple[float, float]:
    """The ``level`` percentile interval of bootstrap values (NaN values ignored)."""
    if not 0 < level < 1:
        raise ValueError(f"level must be in (0, 1), got {level!r}")
    samples = np.asarray(samples, dtype=float)
    if samples.size == 0 or np.isnan(samples).all():
        raise ValueError("no bootstrap value to take an interval of (every resample failed)")
    alpha = (1 - level) / 2
    low, high = np.nanquantile(samples, [alpha, 1 - alpha])
    return float(low), float(high)


def bootstrap(
    statistic: Callable[..., float],
    *arrays,
    groups=None,
    n_boot: int = 1000,
    seed: int = 0,
    level: float = 0.95,
) -> Interval:
    """Estimate ``statistic(*arrays)`` with a percentile bootstrap interval.

    Args:
        statistic: e.g. ``sklearn.metrics.roc_auc_score`` or ``lambda y, p: ...``.
        *arrays: arrays with one entry per row.
        groups: optional ``(N,)`` unit of each row (subject, patient), resampled whole.
        n_boot, seed, level: resamples, their seed, and the interval's coverage.

    Returns:
        ``Interval(estimate, low, high)``.
    """
    samples = bootstrap_samples(statistic, *arrays, groups=groups, n_boot=n_boot, seed=seed)
    low, high = percentile_interval(samples, level)
    return Interval(float(statistic(*[np.asarray(a) for a in arrays])), low, high)


def paired_bootstrap(
    statistic: Callable[[np.ndarray, np.ndarray], float],
    y_true,
    predictions: Mapping[str, object],
    groups=None,
    n_boot: int = 1000,
    seed: int = 0,
) -> dict[str, np.ndarray]:
    """Score several models on the same bootstrap resamples of one test set.

    A resample on which the statistic raises ``ValueError`` for any model is left out for
    all of them, so ``samples[a] - samples[b]`` stays paired; a NaN (a metric undefined
    on that resample) is kept, and :func:`percentile_interval` ignores it.

    Args:
        statistic: ``statistic(y_true, y_pred) -> float``.
        y_true: targets of the test rows.
        predictions: model name -> predictions for the same rows.
        groups: optional ``(N,)`` unit of each row, resampled whole.
        n_boot, seed: resamples and their seed.

    Returns:
        ``{name: bootstrap values}``, all of the same length.
    """
    if not isinstance(predictions, Mapping) or not predictions:
        raise TypeError("predictions must be a non-empty dict {model name: predictions}")
    y_true = np.asarray(y_true)
    predicted = {}
    for name, values in predictions.items():
        values = np.asarray(values)
        if len(values) != len(y_true):
            raise ValueError(f"{name}: {len(values)} predictions for {len(y_true)} targets")
        predicted[name] = values
    _as_arrays([y_true], groups)
    samples = {name: [] for name in predicted}
    indices = bootstrap_indices(None if groups is not None else len(y_true), groups, n_boot, seed)
    for rows in indices:
        try:
            scores = {
                name: float(statistic(y_true[rows], p[rows])) for name, p in predicted.items()
            }
        except ValueError:
            continue
        for name, score in scores.items():
            samples[name].append(score)
    return {name: np.asarray(values) for name, values in samples.items()}
