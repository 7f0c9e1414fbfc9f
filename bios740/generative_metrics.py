"""Evaluating generative models: Fréchet distance, classifier two-sample test, memorization.

No single number says whether a generative model is good (Theis et al., 2016), so
chapters 6 and 12 report several, each of which catches a different failure:

* :func:`frechet_distance`: fit a Gaussian to features of real and of generated images
  and compute the Fréchet (2-Wasserstein) distance between the two Gaussians,
  ``|mu_a - mu_b|^2 + Tr(S_a + S_b - 2 (S_a S_b)^(1/2))``. On Inception-v3 features this
  is the FID (Heusel et al., 2017); on features of a small network trained on the data
  it is the same idea, comparable only within one feature extractor.
* :func:`classifier_two_sample_test`: train a classifier to tell held-out real samples
  from generated ones and report its held-out AUROC with a bootstrap interval (Lopez-Paz
  & Oquab, 2017). About 0.5 means the classifier cannot tell them apart.
* :func:`nearest_neighbour_distances`: distance from each sample to its nearest training
  example; a model that copies its training data has samples much closer to the
  training set than held-out real data are.
* :func:`inception_fid`: the real FID through torchmetrics, only on request, because it
  downloads Inception weights (on Colab); offline it fails with a clear message.

Typical use::

    from bios740.generative_metrics import frechet_distance, classifier_two_sample_test

    fd = frechet_distance(real_features, generated_features)  # (N, D) arrays
    test = classifier_two_sample_test(real_images.reshape(n, -1), samples.reshape(m, -1))
    test["auroc"], test["low"], test["high"]
"""

from __future__ import annotations

import numpy as np

from bios740.download import DataUnavailableError

__all__ = [
    "gaussian_statistics",
    "frechet_distance",
    "frechet_distance_from_statistics",
    "classifier_two_sample_test",
    "nearest_neighbour_distances",
    "inception_fid",
]


def _as_2d(features, name: str) -> np.ndarray:
    if hasattr(features, "detach"):  # a torch tensor
        features = features.detach().cpu().numpy()
    array = np.asarray(features, dtype=np.float64)
    if array.ndim != 2:
        raise ValueError(
            f"{name} must be a (N, D) array of feature vectors, got shape {array.shape}; "
            "flatten images with x.reshape(len(x), -1)"
        )
    if len(array) < 2:
        raise ValueError(f"{name} needs at least two rows, got {len(array)}")
    if not np.isfinite(array).all():
        raise ValueError(f"{name} contains inf or nan")
    return array


def gaussian_statistics(features) -> tuple[np.ndarray, np.ndarray]:
    """Mean ``(D,)`` and covariance ``(D, D)`` (unbiased) of ``(N, D)`` features."""
    array = _as_2d(features, "features")
    return array.mean(axis=0), np.cov(array, rowvar=False).reshape(array.shape[1], -1)


def frechet_distance_from_statistics(mean_a, cov_a, mean_b, cov_b) -> float:
    """Fréchet distance between ``N(mean_a, cov_a)`` and ``N(mean_b, cov_b)``.

    ``Tr((S_a S_b)^(1/2))`` is computed as the sum of square roots of the eigenvalues of
    the symmetric matrix ``S_a^(1/2) S_b S_a^(1/2)``, which has the same eigenvalues as
    ``S_a S_b`` and is numerically safer than a general matrix square root.

    Raises:
        ValueError: shapes that do not match.
    """
    mean_a, mean_b = np.asarray(mean_a, float), np.asarray(mean_b, float)
    cov_a, cov_b = np.atleast_2d(cov_a).astype(float), np.atleast_2d(cov_b).astype(float)
    d = mean_a.shape[0]
    if (
        mean_a.shape != (d,)
        or mean_b.shape != (d,)
        or cov_a.shape != (d, d)
        or cov_b.shape != (d, d)
    ):
        raise ValueError(
            f"means must be (D,) and covariances (D, D) with one D, got {mean_a.shape}, "
            f"{cov_a.shape}, {mean_b.shape}, {cov_b.shape}"
        )
    values, vectors = np.linalg.eigh((cov_a + cov_a.T) / 2)
    root_a = (vectors * np.sqrt(np.clip(values, 0, None))) @ vectors.T
    middle = root_a @ cov_b @ root_a
    trace_root = np.sqrt(np.clip(np.linalg.eigvalsh((middle + middle.T) / 2), 0, None)).sum()
    return float(
        ((mean_a - mean_b) ** 2).sum() + np.trace(cov_a) + np.trace(cov_b) - 2 * trace_root
    )


def frechet_distance(features_a, features_b) -> float:
    """Fréchet distance between Gaussians fitted to two ``(N, D)`` feature sets.

    Biased upward for small ``N`` (the covariance estimates are noisy): compare models
    with the same numbers of samples, and report the distance between two real sets of
    that size as the floor.
    """
    a, b = _as_2d(features_a, "features_a"), _as_2d(features_b, "features_b")
    if a.shape[1] != b.shape[1]:
        raise ValueError(f"feature sizes differ: {a.shape[1]} and {b.shape[1]}")
    return frechet_distance_from_statistics(*gaussian_statistics(a), *gaussian_statistics(b))


def nearest_neighbour_distances(queries, reference, chunk_size: int = 1024) -> np.ndarray:
    """Euclidean distance from each query row to its nearest reference row, ``(N,)``.

    Args:
        queries: ``(N, D)`` samples (flattened images or features).
        reference: ``(M, D)`` rows to search, e.g. the training set.
        chunk_size: query rows per block (bounds the memory to ``chunk_size * M``).
    """
    q, r = _as_2d(queries, "queries"), _as_2d(reference, "reference")
    if q.shape[1] != r.shape[1]:
        raise ValueError(f"queries have {q.shape[1]} columns but reference has {r.shape[1]}")
    squared_r = (r**2).sum(axis=1)
    out = np.empty(len(q))
    for start in range(0, len(q), chunk_size):
        block = q[start : start + chunk_size]
        squared = (block**2).sum(axis=1)[:, None] + squared_r[None, :] - 2 * block @ r.T
        out[start : start + chunk_size] = np.sqrt(np.clip(squared.min(axis=1), 0, None))
    return out


def classifier_two_sample_test(
    real,
    generated,
    classifier=None,
    test_size: float = 0.5,
    n_boot: int = 1000,
    seed: int = 0,
    level: float = 0.95,
) -> dict:
    """Classifier two-sample test: can a classifier tell real from generated samples?

    Both sets are split into a training and a test part; the classifier (default: gradient-boosted
    trees) learns real = 1 vs generated = 0 on the training
    part and is scored by AUROC on the test part, with a percentile bootstrap interval
    over test rows. Under the null hypothesis (same distribution) the AUROC is 0.5.
    Use held-out real data, never the model's training data, and equal set sizes. The
    test is only as strong as its classifier: a linear one cannot see a model that gets
    the mean and covariance right, so the default is gradient-boosted trees.

    Args:
        real, generated: ``(N, D)`` and ``(M, D)`` arrays (flattened images or features).
        classifier: a scikit-learn classifier with ``predict_proba`` (cloned); default
            ``HistGradientBoostingClassifier(max_iter=200, random_state=seed)``.
        test_size: share of each set used for scoring.

    Returns:
        dict with ``auroc``, ``low``, ``high``, ``accuracy`` and ``n_test``.
    """
    from sklearn.base import clone
    from sklearn.ensemble import HistGradientBoostingClassifier
    from sklearn.model_selection import train_test_split

    from bios740.stats import auroc  # sklearn's roc_auc_score, fast enough to bootstrap

    x_real, x_fake = _as_2d(real, "real"), _as_2d(generated, "generated")
    if x_real.shape[1] != x_fake.shape[1]:
        raise ValueError(f"real has {x_real.shape[1]} columns but generated has {x_fake.shape[1]}")
    if not 0 < test_size < 1:
        raise ValueError(f"test_size must be between 0 and 1, got {test_size}")
    if classifier is None:
        classifier = HistGradientBoostingClassifier(max_iter=200, random_state=seed)
    x = np.concatenate([x_real, x_fake])
    y = np.r_[np.ones(len(x_real)), np.zeros(len(x_fake))]
    x_train, x_test, y_train, y_test = train_test_split(
        x, y, test_size=test_size, stratify=y, random_state=seed
    )
    model = clone(classifier).fit(x_train, y_train)
    scores = model.predict_proba(x_test)[:, 1]
    rng = np.random.default_rng(seed)
    boot = []
    for _ in range(n_boot):
        rows = rng.integers(len(y_test), size=len(y_test))
        if y_test[rows].min() != y_test[rows].max():
            boot.append(auroc(y_test[rows], scores[rows]))
    alpha = (1 - level) / 2
    low, high = np.quantile(boot, [alpha, 1 - alpha])
    return {
        "auroc": float(auroc(y_test, scores)),
        "low": float(low),
        "high": float(high),
        "accuracy": float(((scores > 0.5) == y_test).mean()),
        "n_test": int(len(y_test)),
    }


def inception_fid(real_images, generated_images, allow_download: bool = False) -> float:
    """FID with torchmetrics' Inception-v3 features (Heusel et al., 2017); Colab only.

    The Inception weights (about 100 MB) are downloaded on first use, so this runs only
    when asked (``allow_download=True``) and with ``torch-fidelity`` installed.

    Args:
        real_images, generated_images: float ``(N, 3, H, W)`` tensors in [0, 1] (repeat a
            grey channel with ``x.repeat(1, 3, 1, 1)``).
        allow_download: confirm that the weights may be downloaded.

    Raises:
        DataUnavailableError: not allowed to download, torch-fidelity missing, or the
            download failed (offline); the message says what to do.
    """
    if not allow_download:
        raise DataUnavailableError(
            "Inception-FID needs the Inception-v3 weights (about 100 MB, downloaded on first "
            "use). Run it on Colab with allow_download=True (after pip install torch-fidelity); "
            "offline, use frechet_distance on features of a small network instead."
        )
    try:
        from torchmetrics.image.fid import FrechetInceptionDistance

        metric = FrechetInceptionDistance(feature=2048, normalize=True)
    except (ImportError, ModuleNotFoundError, RuntimeError, OSError) as error:
        raise DataUnavailableError(
            "could not set up Inception-FID: install torch-fidelity (pip install torch-fidelity) "
            f"and make sure the weights can be downloaded ({type(error).__name__}: {error})"
        ) from error
    metric.update(real_images, real=True)
    metric.update(generated_images, real=False)
    return float(metric.compute())
