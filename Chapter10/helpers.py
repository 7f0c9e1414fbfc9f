"""Chapter 10 helpers: overlap metrics, the soft Dice loss and the classical tissue baseline.

* :func:`dice_per_image` and :func:`jaccard_per_image`: overlap of one label between a
  predicted and a true label map, one value per image (so intervals can resample subjects).
* :func:`soft_dice_loss`: the differentiable Dice of Milletari et al. (2016) on softmax
  probabilities, the loss that copes with rare classes.
* :func:`gmm_tissue_segmentation`: what a neuroimager fits without training data, a
  three-class Gaussian mixture on T1 intensities inside the brain mask, one subject at a
  time, with a spatially smoothed posterior (FSL FAST's idea: Zhang et al., 2001, who use
  a hidden Markov random field; the smoothing is a cheap stand-in for it).
"""

from __future__ import annotations

import numpy as np
import torch
import torch.nn.functional as F
from scipy import ndimage

__all__ = ["dice_per_image", "jaccard_per_image", "soft_dice_loss", "gmm_tissue_segmentation"]


def _check_maps(prediction, target) -> tuple[np.ndarray, np.ndarray]:
    prediction, target = np.asarray(prediction), np.asarray(target)
    if prediction.shape != target.shape or prediction.ndim != 3:
        raise ValueError(
            f"prediction and target must both be (N, H, W) label maps, got {prediction.shape} "
            f"and {target.shape}; add a batch axis with mask[None]"
        )
    return prediction.reshape(len(prediction), -1), target.reshape(len(target), -1)


def dice_per_image(prediction, target, label=1, empty: float = 1.0) -> np.ndarray:
    """Dice coefficient ``2 |P & T| / (|P| + |T|)`` of one label, per image.

    Args:
        prediction, target: ``(N, H, W)`` integer or boolean label maps.
        label: the label to score (``True``/1 for binary masks).
        empty: the value where neither map has the label (both empty: a perfect answer).

    Returns:
        float64 ``(N,)`` Dice values in [0, 1].

    Raises:
        ValueError: the maps are not both ``(N, H, W)``.
    """
    p, t = _check_maps(prediction, target)
    p, t = p == label, t == label
    overlap, total = (p & t).sum(1), p.sum(1) + t.sum(1)
    return np.where(total > 0, 2.0 * overlap / np.maximum(total, 1), empty)


def jaccard_per_image(prediction, target, label=1, empty: float = 1.0) -> np.ndarray:
    """Jaccard index (IoU) ``|P & T| / |P | T|`` of one label, per image; ``J = D / (2 - D)``."""
    p, t = _check_maps(prediction, target)
    p, t = p == label, t == label
    overlap, union = (p & t).sum(1), (p | t).sum(1)
    return np.where(union > 0, overlap / np.maximum(union, 1), empty)


def soft_dice_loss(logits: torch.Tensor, targets: torch.Tensor, eps: float = 1.0) -> torch.Tensor:
    """Mean over classes of ``1 - (2 sum p g + eps) / (sum p + sum g + eps)``.

    ``p`` are softmax probabilities and ``g`` the one-hot targets, summed over the batch
    and the pixels; every class counts equally however few pixels it has, which is why
    this loss learns rare classes that cross-entropy neglects. ``eps`` keeps a class that
    is absent from the batch (and predicted absent) at a loss near 0 instead of 0/0.

    Args:
        logits: float ``(N, C, H, W)`` scores. targets: int64 ``(N, H, W)`` in ``0..C-1``.

    Raises:
        ValueError: shapes that do not match, or a non-positive ``eps``.
    """
    if not isinstance(logits, torch.Tensor) or logits.ndim != 4:
        raise ValueError(
            f"logits must be a (N, C, H, W) tensor, got {getattr(logits, 'shape', logits)}"
        )
    if not isinstance(targets, torch.Tensor) or targets.shape != (
        logits.shape[0],
        *logits.shape[2:],
    ):
        raise ValueError(
            f"targets must be (N, H, W) = {(logits.shape[0], *logits.shape[2:])}, "
            f"got {tuple(getattr(targets, 'shape', ()))}"
        )
    if eps <= 0:
        raise ValueError(f"eps must be positive (it avoids 0/0 for absent classes), got {eps}")
    probabilities = logits.softmax(dim=1)
    one_hot = F.one_hot(targets.long(), logits.shape[1]).permute(0, 3, 1, 2).to(logits.dtype)
    dims = (0, 2, 3)
    overlap = (probabilities * one_hot).sum(dims)
    total = probabilities.sum(dims) + one_hot.sum(dims)
    return 1.0 - ((2.0 * overlap + eps) / (total + eps)).mean()


def gmm_tissue_segmentation(t1, brain, subject_ids, smooth_sigma: float = 0.7, seed: int = 0):
    """Label CSF (1), grey (2) and white matter (3) with a Gaussian mixture per subject.

    For each subject a three-component mixture is fitted to the T1 intensities of all its
    brain pixels (no labels are used); components are named by their mean (darkest CSF,
    brightest white matter). The posterior maps are smoothed with a Gaussian of
    ``smooth_sigma`` pixels before the argmax, so that a pixel leans towards its
    neighbours' tissue (0 for none).

    Args:
        t1: ``(N, H, W)`` T1 intensities. brain: bool ``(N, H, W)`` brain mask.
        subject_ids: ``(N,)`` subject of each slice.

    Returns:
        uint8 ``(N, H, W)`` labels, 0 outside the brain.

    Raises:
        ValueError: shapes that do not match, or a subject with fewer than 3 brain pixels.
    """
    from sklearn.mixture import GaussianMixture

    t1, brain, subject_ids = np.asarray(t1), np.asarray(brain, dtype=bool), np.asarray(subject_ids)
    if t1.ndim != 3 or brain.shape != t1.shape or subject_ids.shape != (len(t1),):
        raise ValueError(
            f"t1 and brain must be (N, H, W) and subject_ids (N,), got {t1.shape}, "
            f"{brain.shape} and {subject_ids.shape}"
        )
    labels = np.zeros(t1.shape, dtype=np.uint8)
    for subject in np.unique(subject_ids):
        rows = np.flatnonzero(subject_ids == subject)
        inside = brain[rows]
        if inside.sum() < 3:
            raise ValueError(f"subject {subject} has fewer than 3 brain pixels")
        values = t1[rows][inside][:, None]
        mixture = GaussianMixture(3, random_state=seed).fit(values)
        rank = np.argsort(np.argsort(mixture.means_[:, 0]))  # component -> 0 CSF, 1 GM, 2 WM
        posterior = np.zeros((3, *inside.shape))
        for component, probability in enumerate(mixture.predict_proba(values).T):
            posterior[rank[component]][inside] = probability
        if smooth_sigma:
            posterior = ndimage.gaussian_filter(posterior, (0, 0, smooth_sigma, smooth_sigma))
        labels[rows] = np.where(inside, posterior.argmax(0) + 1, 0)
    return labels
