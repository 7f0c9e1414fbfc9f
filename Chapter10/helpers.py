"""Chapter 10 helpers: overlap metrics, the soft Dice loss and the classical tissue baseline.

* :func:`dice_per_image` and :func:`jaccard_per_image`: overlap of one label between a
  predicted and a true label map, one value per image (so intervals can resample subjects).
* :func:`soft_dice_loss`: the differentiable Dice of Milletari et al. (2016) on softmax
  probabilities, the loss that copes with rare classes.
* :func:`gmm_tissue_segmentation`: what a neuroimager fits without training data, a
  three-class Gaussian mixture on T1 intensities inside the brain mask, one subject at a
  time, with a spatially smoothed posterior (FSL FAST's idea: Zhang et al., 2001, who use
  a hidden Markov random field; the smoothing is a cheap stand-in for it).
* :func:`dice_per_subject` (notebook 01): Dice of each subject's slices pooled, one value per
  subject for intervals over subjects.
* :func:`surface_pixels`, :func:`hausdorff_distance` and :func:`match_lesions` (notebook 02):
  boundaries by erosion, the symmetric percentile Hausdorff distance (HD95) in mm, and
  lesion-wise detection (lesions hit, false-positive components per image).
* :func:`instance_iou`, :func:`match_instances` and :func:`merges_and_splits` (notebook 03):
  the IoU matrix of two instance maps, the unique matching at IoU >= 0.5 with the Data
  Science Bowl score ``TP / (TP + FP + FN)``, and the merged and split nuclei.
* :func:`pixel_to_normalized_theta`, :func:`normalized_theta_to_pixel`, :func:`warp_affine`,
  :func:`mutual_information`, :func:`affine_about_centre` and :func:`random_affine` (notebook 04):
  pixel <-> normalised affines, affine resampling, the Parzen-window mutual information.
* :func:`warp`, :func:`jacobian_determinant`, :func:`folding_fraction`,
  :func:`integrate_velocity` and :func:`random_velocity` (notebook 05): the spatial
  transformer on pixel displacements, det(I + grad u) and the share of folded pixels,
  scaling and squaring, and random smooth velocity fields for known deformations.

The file is longer than the course's 300 lines because each of the five notebooks and the
homework writes out its own lesson (overlap and surface metrics, instance matching, affine
and deformable transforms) and every one of these functions is imported by a notebook or
the homework grader and unit-tested against the library that does the same job (scipy,
MONAI, stardist, dipy, ``np.gradient``) in ``tests/chapters/test_chapter10_*.py``. Nothing
here is needed by another chapter, so it stays out of ``bios740``; the sections below are
marked by the notebook that introduces them.
"""

from __future__ import annotations

import numpy as np
import torch
import torch.nn.functional as F
from scipy import ndimage

__all__ = [
    "dice_per_image",
    "jaccard_per_image",
    "soft_dice_loss",
    "gmm_tissue_segmentation",
    "dice_per_subject",
    "surface_pixels",
    "hausdorff_distance",
    "match_lesions",
    "instance_iou",
    "match_instances",
    "merges_and_splits",
    "pixel_to_normalized_theta",
    "normalized_theta_to_pixel",
    "warp_affine",
    "mutual_information",
    "affine_about_centre",
    "random_affine",
    "warp",
    "jacobian_determinant",
    "folding_fraction",
    "integrate_velocity",
    "random_velocity",
]


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


# --- Notebook 01 (U-Net tissue segmentation): Dice per subject, for intervals over subjects ---


def dice_per_subject(prediction, target, subject_ids, label=1, empty: float = 1.0):
    """Dice of one label over all slices of each subject pooled (a subject's volume Dice).

    Neuroimaging reports one Dice per subject, counted over the subject's voxels; averaging
    per-slice Dice instead lets the small end slices weigh as much as the large middle ones.
    One value per subject is also the unit that a bootstrap over subjects resamples.

    Args:
        prediction, target: ``(N, H, W)`` integer or boolean label maps.
        subject_ids: ``(N,)`` subject of each slice.
        label: the label to score. empty: the value where neither map has the label.

    Returns:
        ``(subjects, dice)``: the sorted subject ids and float64 Dice values, both ``(S,)``.

    Raises:
        ValueError: the maps are not both ``(N, H, W)`` or ``subject_ids`` is not ``(N,)``.
    """
    p, t = _check_maps(prediction, target)
    subject_ids = np.asarray(subject_ids)
    if subject_ids.shape != (len(p),):
        raise ValueError(
            f"subject_ids must be ({len(p)},), one subject per slice, got {subject_ids.shape}"
        )
    subjects, inverse = np.unique(subject_ids, return_inverse=True)
    p, t = p == label, t == label
    overlap = np.bincount(inverse, (p & t).sum(1), minlength=len(subjects))
    total = np.bincount(inverse, p.sum(1) + t.sum(1), minlength=len(subjects))
    return subjects, np.where(total > 0, 2.0 * overlap / np.maximum(total, 1), empty)


# --- Notebook 02 (lesion segmentation with MONAI): HD95, lesion-wise detection ---


def _check_binary_maps(prediction, target, names=("prediction", "target")):
    prediction, target = np.asarray(prediction), np.asarray(target)
    if prediction.ndim != 3 or prediction.shape != target.shape:
        raise ValueError(
            f"{names[0]} and {names[1]} must both be (N, H, W), got {prediction.shape} and "
            f"{target.shape}; add a batch axis with mask[None]"
        )
    return prediction, target


def surface_pixels(masks) -> np.ndarray:
    """The boundary of each binary mask: its pixels with a 4-neighbour outside it.

    ``mask & ~erosion(mask)`` with the cross-shaped structuring element; pixels outside
    the image count as outside the mask, so a mask touching the border has a boundary there.

    Args:
        masks: ``(N, H, W)`` boolean masks.

    Returns:
        bool ``(N, H, W)``.
    """
    masks = np.asarray(masks)
    if masks.ndim != 3:
        raise ValueError(
            f"masks must be (N, H, W), got {masks.shape}; add a batch axis with mask[None]"
        )
    masks = masks.astype(bool)
    cross = ndimage.generate_binary_structure(2, 1)[None]  # no connection between images
    return masks & ~ndimage.binary_erosion(masks, structure=cross, border_value=0)


def hausdorff_distance(prediction, target, spacing: float = 1.0, percentile: float = 95.0):
    """Symmetric Hausdorff distance between boundaries, at a percentile, per image.

    For every boundary pixel of the prediction, the distance to the nearest boundary pixel
    of the target (a Euclidean distance transform of the target's boundary complement),
    and the other way round; the result is the larger of the two directed
    ``percentile``-th percentiles (linear interpolation, as ``np.percentile``). With
    ``percentile=100`` it is the classical Hausdorff distance, the largest of all.

    Args:
        prediction, target: ``(N, H, W)`` boolean masks.
        spacing: pixel size (e.g. mm), the unit of the result.
        percentile: in [0, 100]; 95 gives HD95.

    Returns:
        float64 ``(N,)``: NaN where both masks are empty, inf where only one is.

    Raises:
        ValueError: shapes that differ or are not ``(N, H, W)``, a non-positive spacing or a
            percentile outside [0, 100].
    """
    prediction, target = _check_binary_maps(prediction, target)
    if not np.isfinite(spacing) or spacing <= 0:
        raise ValueError(f"spacing must be a positive pixel size, got {spacing}")
    if not 0 <= percentile <= 100:
        raise ValueError(f"percentile must be in [0, 100] (95 for HD95), got {percentile}")
    edges_p, edges_t = surface_pixels(prediction), surface_pixels(target)
    result = np.empty(len(prediction))
    for i, (p, t) in enumerate(zip(edges_p, edges_t, strict=True)):
        if not p.any() or not t.any():
            result[i] = np.nan if not (p.any() or t.any()) else np.inf
            continue
        to_target = ndimage.distance_transform_edt(~t, sampling=spacing)[p]
        to_prediction = ndimage.distance_transform_edt(~p, sampling=spacing)[t]
        result[i] = max(
            np.percentile(to_target, percentile), np.percentile(to_prediction, percentile)
        )
    return result


def match_lesions(prediction, lesion_ids, min_overlap: int = 1) -> dict:
    """Lesion-wise detection: which true lesions a prediction finds, and its false blobs.

    A true lesion (one id of ``lesion_ids`` in one image) is **detected** when at least
    ``min_overlap`` of its pixels are predicted. A predicted connected component
    (8-connected) that touches no true lesion pixel is a **false positive**. Voxel-wise
    Dice weighs lesions by their area; these counts weigh every lesion the same.

    Args:
        prediction: ``(N, H, W)`` boolean predicted masks.
        lesion_ids: ``(N, H, W)`` integer instance maps, 0 background, ``k`` on lesion ``k``.
        min_overlap: predicted pixels a lesion needs to count as found (>= 1).

    Returns:
        dict of ``image`` (int64 ``(L,)`` image of each true lesion), ``lesion`` (its id),
        ``size`` (its pixels), ``overlap`` (its predicted pixels), ``detected`` (bool
        ``(L,)``), and per image ``false_positives`` and ``components`` (int64 ``(N,)``,
        false and all predicted components).

    Raises:
        TypeError: ``lesion_ids`` not integer. ValueError: shapes that differ, negative ids
            or ``min_overlap`` below 1.
    """
    prediction, lesion_ids = _check_binary_maps(
        prediction, lesion_ids, ("prediction", "lesion_ids")
    )
    if not np.issubdtype(lesion_ids.dtype, np.integer):
        raise TypeError(
            f"lesion_ids must be an integer instance map, got dtype {lesion_ids.dtype}; "
            "label a mask with scipy.ndimage.label first"
        )
    if lesion_ids.size and lesion_ids.min() < 0:
        raise ValueError(f"lesion_ids must be >= 0 (0 = background), got {lesion_ids.min()}")
    if (
        isinstance(min_overlap, bool)
        or not isinstance(min_overlap, (int, np.integer))
        or min_overlap < 1
    ):
        raise ValueError(f"min_overlap must be a whole number of pixels >= 1, got {min_overlap!r}")
    prediction = prediction.astype(bool)
    records = {key: [] for key in ("image", "lesion", "size", "overlap")}
    false_positives = np.zeros(len(prediction), dtype=np.int64)
    components = np.zeros(len(prediction), dtype=np.int64)
    eight = np.ones((3, 3), dtype=bool)
    for i, (p, ids) in enumerate(zip(prediction, lesion_ids.astype(np.int64), strict=True)):
        size = np.bincount(ids.ravel())
        overlap = np.bincount(ids[p], minlength=len(size))
        present = np.flatnonzero(size[1:]) + 1
        records["image"].append(np.full(len(present), i))
        records["lesion"].append(present)
        records["size"].append(size[present])
        records["overlap"].append(overlap[present])
        blobs, n_blobs = ndimage.label(p, structure=eight)
        touches = np.bincount(blobs[ids > 0], minlength=n_blobs + 1)[1:] > 0
        components[i], false_positives[i] = n_blobs, int((~touches).sum())
    result = {
        key: np.concatenate([np.zeros(0, np.int64), *values]).astype(np.int64)
        for key, values in records.items()
    }
    result["detected"] = result["overlap"] >= min_overlap
    result["false_positives"], result["components"] = false_positives, components
    return result


# --- Notebook 03 (nuclei instance segmentation): matching instances, the DSB score ---


def _check_instance_maps(true_labels, pred_labels) -> tuple[np.ndarray, np.ndarray]:
    true_labels, pred_labels = np.asarray(true_labels), np.asarray(pred_labels)
    for name, labels in (("true_labels", true_labels), ("pred_labels", pred_labels)):
        if not (np.issubdtype(labels.dtype, np.integer) or labels.dtype == bool):
            raise TypeError(
                f"{name} must be an integer instance map (0 background, 1..n nuclei), got "
                f"dtype {labels.dtype}; label a mask with scipy.ndimage.label first"
            )
        if labels.size and labels.min() < 0:
            raise ValueError(f"{name} must be >= 0 (0 = background), got {labels.min()}")
    if true_labels.ndim != 2 or true_labels.shape != pred_labels.shape:
        raise ValueError(
            f"true_labels and pred_labels must be 2-D (H, W) maps of one shape, got "
            f"{true_labels.shape} and {pred_labels.shape}; score one image at a time"
        )
    return true_labels.astype(np.int64), pred_labels.astype(np.int64)


def _instance_overlap(true_labels, pred_labels):
    """Pixel counts of every (true, predicted) pair, and the areas and ids present."""
    true_labels, pred_labels = _check_instance_maps(true_labels, pred_labels)
    true_ids, true_index = np.unique(true_labels, return_inverse=True)
    pred_ids, pred_index = np.unique(pred_labels, return_inverse=True)
    if true_ids[0] != 0:  # no background pixel: keep row 0 for the background anyway
        true_ids, true_index = np.r_[0, true_ids], true_index + 1
    if pred_ids[0] != 0:
        pred_ids, pred_index = np.r_[0, pred_ids], pred_index + 1
    n_t, n_p = len(true_ids), len(pred_ids)
    overlap = np.bincount(true_index.ravel() * n_p + pred_index.ravel(), minlength=n_t * n_p)
    overlap = overlap.reshape(n_t, n_p).astype(np.float64)
    true_area, pred_area = overlap.sum(1)[1:], overlap.sum(0)[1:]
    return overlap[1:, 1:], true_area, pred_area, true_ids[1:], pred_ids[1:]


def instance_iou(true_labels, pred_labels):
    """IoU between every true and every predicted instance of two label maps.

    One pass over the pixels counts each (true id, predicted id) pair, which gives every
    intersection at once; the union is ``|T| + |P| - |T & P|``.

    Args:
        true_labels, pred_labels: integer ``(H, W)`` maps, 0 background, ids may have gaps.

    Returns:
        ``(iou, true_ids, pred_ids)``: float64 ``(n_true, n_pred)`` IoU, row ``i`` for
        ``true_ids[i]`` and column ``j`` for ``pred_ids[j]`` (the ids present, sorted).

    Raises:
        TypeError: a map that is not integer. ValueError: shapes differ or are not 2-D.
    """
    inter, true_area, pred_area, true_ids, pred_ids = _instance_overlap(true_labels, pred_labels)
    return inter / (true_area[:, None] + pred_area[None, :] - inter), true_ids, pred_ids


def match_instances(true_labels, pred_labels, threshold: float = 0.5) -> dict:
    """Match predicted to true instances at IoU >= ``threshold``; count TP, FP and FN.

    For ``threshold > 0.5`` the matching is unique without any search: IoU > 0.5 needs
    ``|T & P| > |T| / 2`` and ``> |P| / 2``, and the instances of one map are disjoint,
    so a true nucleus has at most one such partner and so has a prediction. At exactly
    0.5 the only tie is an instance cut into two exact halves that match nothing else,
    and whichever half is taken the count is the same; pairs are taken greedily by IoU.
    Below 0.5 the pairs are no longer unique and an optimal assignment is needed
    (``scipy.optimize.linear_sum_assignment``, as ``stardist.matching`` does).

    The Data Science Bowl 2018 score at one threshold is ``TP / (TP + FP + FN)``
    (Caicedo et al., 2019; called ``accuracy`` in ``stardist.matching``).

    Args:
        true_labels, pred_labels: integer ``(H, W)`` instance maps, 0 background.
        threshold: IoU a pair needs to match, in [0.5, 1].

    Returns:
        dict with ``tp``, ``fp``, ``fn``, ``n_true``, ``n_pred`` (ints), ``precision``,
        ``recall``, ``f1``, ``ap`` (the DSB score) and ``mean_matched_iou`` (floats, 0 when
        undefined), and ``pairs``: int64 ``(tp, 2)`` rows ``(true id, predicted id)``.

    Raises:
        TypeError, ValueError: bad maps (see :func:`instance_iou`), or a threshold outside [0.5, 1].
    """
    if isinstance(threshold, bool) or not isinstance(threshold, (int, float, np.floating)):
        raise TypeError(f"threshold must be a number in [0.5, 1], got {threshold!r}")
    if not 0.5 <= threshold <= 1.0:
        raise ValueError(
            f"threshold must be in [0.5, 1], got {threshold}; below 0.5 one nucleus can match "
            "several predictions, so use an optimal assignment (stardist.matching.matching)"
        )
    iou, true_ids, pred_ids = instance_iou(true_labels, pred_labels)
    rows, cols = np.nonzero(iou >= threshold)
    order = np.argsort(-iou[rows, cols], kind="stable")
    used_true, used_pred, pairs, matched = set(), set(), [], []
    for i, j in zip(rows[order], cols[order], strict=True):
        if i not in used_true and j not in used_pred:
            used_true.add(i)
            used_pred.add(j)
            pairs.append((true_ids[i], pred_ids[j]))
            matched.append(iou[i, j])
    tp, n_true, n_pred = len(pairs), len(true_ids), len(pred_ids)
    fp, fn = n_pred - tp, n_true - tp
    return {
        "tp": tp,
        "fp": fp,
        "fn": fn,
        "n_true": n_true,
        "n_pred": n_pred,
        "precision": tp / n_pred if n_pred else 0.0,
        "recall": tp / n_true if n_true else 0.0,
        "f1": 2 * tp / (2 * tp + fp + fn) if tp else 0.0,
        "ap": tp / (tp + fp + fn) if tp else 0.0,
        "mean_matched_iou": float(np.mean(matched)) if matched else 0.0,
        "pairs": np.array(pairs, dtype=np.int64).reshape(-1, 2),
    }


def merges_and_splits(true_labels, pred_labels, coverage: float = 0.5):
    """Find predictions that merge nuclei and nuclei that predictions split.

    A prediction **merges** when it holds at least ``coverage`` of the pixels of each of
    two or more true nuclei; a true nucleus is **split** when at least ``coverage`` of the
    pixels of each of two or more predictions lie inside it. These are the two errors a
    watershed makes on touching nuclei (too few markers, too many).

    Args:
        true_labels, pred_labels: integer ``(H, W)`` instance maps, 0 background.
        coverage: share of an instance's pixels, in (0, 1].

    Returns:
        ``(merging_pred_ids, split_true_ids)``: int64 arrays of ids.

    Raises:
        TypeError, ValueError: bad maps (see :func:`instance_iou`) or ``coverage`` outside (0, 1].
    """
    if isinstance(coverage, bool) or not isinstance(coverage, (int, float, np.floating)):
        raise TypeError(f"coverage must be a number in (0, 1], got {coverage!r}")
    if not 0.0 < coverage <= 1.0:
        raise ValueError(f"coverage must be a share of pixels in (0, 1], got {coverage!r}")
    inter, true_area, pred_area, true_ids, pred_ids = _instance_overlap(true_labels, pred_labels)
    of_true = inter >= coverage * true_area[:, None]  # P holds most of T
    of_pred = inter >= coverage * pred_area[None, :]  # P lies mostly in T
    return pred_ids[of_true.sum(0) >= 2], true_ids[of_pred.sum(1) >= 2]


# --- Notebook 04 (spatial transforms, affine registration): pixel <-> normalised affines ---
# Affines here are (3, 3) matrices in pixels, (x, y) = (column, row) order, pixel centres at
# integers, mapping an OUTPUT pixel to the INPUT position it samples (grid_sample's pull-back).


def _normalizer(shape, align_corners) -> torch.Tensor:
    """The float64 (3, 3) matrix taking pixel (x, y) to PyTorch's normalised (x, y)."""
    if not isinstance(align_corners, bool):
        raise TypeError(f"align_corners must be True or False, got {align_corners!r}")
    if not (isinstance(shape, (tuple, list, torch.Size)) and len(shape) == 2):
        raise ValueError(f"shape must be the image's (H, W), got {shape!r}")
    height, width = (int(s) for s in shape)
    if min(height, width) < 2:
        raise ValueError(f"shape must be at least (2, 2) pixels, got {(height, width)}")
    if align_corners:  # the centres of the corner pixels, 0 and W - 1, sit at -1 and +1
        sx, sy, bx, by = 2 / (width - 1), 2 / (height - 1), -1.0, -1.0
    else:  # the outer pixel edges, -0.5 and W - 0.5, sit at -1 and +1
        sx, sy, bx, by = 2 / width, 2 / height, 1 / width - 1, 1 / height - 1
    return torch.tensor([[sx, 0.0, bx], [0.0, sy, by], [0.0, 0.0, 1.0]], dtype=torch.float64)


def _homogeneous(matrix, name: str) -> torch.Tensor:
    if not isinstance(matrix, (torch.Tensor, np.ndarray)):
        raise TypeError(f"{name} must be a tensor or NumPy array, got {type(matrix).__name__}")
    matrix = torch.as_tensor(matrix)
    matrix = matrix if matrix.is_floating_point() else matrix.double()
    if matrix.ndim < 2 or tuple(matrix.shape[-2:]) not in ((2, 3), (3, 3)):
        raise ValueError(
            f"{name} must be (..., 2, 3) or (..., 3, 3) affines, got {tuple(matrix.shape)}"
        )
    if matrix.shape[-2] == 2:
        last = torch.tensor([0.0, 0.0, 1.0], dtype=matrix.dtype, device=matrix.device)
        matrix = torch.cat([matrix, last.expand(*matrix.shape[:-2], 1, 3)], dim=-2)
    return matrix


def pixel_to_normalized_theta(matrix, shape, align_corners: bool = False) -> torch.Tensor:
    """The ``theta`` of ``F.affine_grid`` for a pixel-unit affine: ``theta = N M N^-1``.

    ``N`` takes pixels to normalised coordinates: with ``align_corners=True`` the centres
    of the corner pixels are at -1 and +1 (``x_n = 2 x / (W - 1) - 1``), with ``False``
    their outer edges are (``x_n = (2 x + 1) / W - 1``). Pass the same ``align_corners``
    to ``affine_grid`` and ``grid_sample``.

    Args:
        matrix: ``(..., 3, 3)`` or ``(..., 2, 3)`` tensor or array (differentiable).
        shape: the image's ``(H, W)``.
        align_corners: the convention of the grid it is meant for.

    Returns:
        ``(..., 2, 3)`` tensor with ``matrix``'s dtype and device.

    Raises:
        TypeError: ``matrix`` not a tensor/array or ``align_corners`` not a bool.
        ValueError: wrong matrix shape, or ``shape`` not an ``(H, W)`` of at least 2 x 2.
    """
    matrix = _homogeneous(matrix, "matrix")
    n = _normalizer(shape, align_corners).to(device=matrix.device, dtype=matrix.dtype)
    return (n @ matrix @ torch.linalg.inv(n))[..., :2, :]


def normalized_theta_to_pixel(theta, shape, align_corners: bool = False) -> torch.Tensor:
    """Invert :func:`pixel_to_normalized_theta`: ``(..., 2, 3)`` theta -> ``(..., 3, 3)``."""
    theta = _homogeneous(theta, "theta")
    n = _normalizer(shape, align_corners).to(device=theta.device, dtype=theta.dtype)
    return torch.linalg.inv(n) @ theta @ n


def warp_affine(images, matrix, align_corners: bool = False, mode: str = "bilinear"):
    """Resample ``(N, C, H, W)`` images with pixel affines: ``out[y, x] = in[M (x, y, 1)]``.

    Zeros outside the image. Use ``mode="nearest"`` for label maps (bilinear weights would
    invent labels between two neighbours). ``scipy.ndimage.affine_transform`` does the same
    with the axes in (row, col) order.

    Args:
        images: float ``(N, C, H, W)`` tensor.
        matrix: one ``(3, 3)``/``(2, 3)`` affine for all images, or ``(N, 3, 3)``/``(N, 2, 3)``.
        align_corners: the convention used for both ``affine_grid`` and ``grid_sample``.
        mode: ``"bilinear"`` or ``"nearest"``.

    Returns:
        ``(N, C, H, W)`` tensor, differentiable in ``images`` and ``matrix``.

    Raises:
        TypeError: ``images`` not a float tensor. ValueError: not 4-D, a batch of matrices
        of another length, or an unknown ``mode``.
    """
    if not isinstance(images, torch.Tensor) or not images.is_floating_point():
        raise TypeError(
            f"images must be a float tensor, got {type(images).__name__} "
            f"{getattr(images, 'dtype', '')}; convert with torch.as_tensor(x, dtype=torch.float32)"
        )
    if images.ndim != 4:
        raise ValueError(
            f"images must be (N, C, H, W), got {tuple(images.shape)}; use x[None, None]"
        )
    if mode not in ("bilinear", "nearest"):
        raise ValueError(f"mode must be 'bilinear' or 'nearest', got {mode!r}")
    matrix = _homogeneous(matrix, "matrix").to(device=images.device, dtype=images.dtype)
    matrix = matrix.expand(len(images), 3, 3) if matrix.ndim == 2 else matrix
    if matrix.ndim != 3 or len(matrix) != len(images):
        raise ValueError(
            f"matrix must be one (3, 3) affine or one per image ({len(images)}, 3, 3), "
            f"got {tuple(matrix.shape)}"
        )
    theta = pixel_to_normalized_theta(matrix, tuple(images.shape[-2:]), align_corners)
    grid = F.affine_grid(theta, list(images.shape), align_corners=align_corners)
    return F.grid_sample(images, grid, mode=mode, padding_mode="zeros", align_corners=align_corners)


def mutual_information(a, b, bins: int = 32, sigma_ratio: float = 0.5) -> torch.Tensor:
    """Mutual information (nats) of image pairs from a Parzen-window joint histogram.

    Every intensity spreads a Gaussian weight of ``sigma_ratio`` bin spacings over ``bins``
    centres on [0, 1] (weights normalised to sum to 1), so the joint histogram ``p(i, j)``
    and ``MI = sum p(i, j) log(p(i, j) / (p(i) p(j)))`` are differentiable in the
    intensities (Viola & Wells, 1997; the window of MONAI's ``GlobalMutualInformationLoss``).
    With intensities on the centres and a narrow window it is the plain histogram MI.

    Args:
        a, b: float ``(N, ...)`` tensors of one shape with intensities in [0, 1].
        bins: number of centres (at least 2). sigma_ratio: window width (positive).

    Returns:
        ``(N,)`` mutual information in nats.

    Raises:
        TypeError: not float tensors. ValueError: shapes differ, ``bins`` < 2,
        ``sigma_ratio`` <= 0, or intensities outside [0, 1].
    """
    for name, x in (("a", a), ("b", b)):
        if not isinstance(x, torch.Tensor) or not x.is_floating_point():
            raise TypeError(f"{name} must be a float tensor, got {type(x).__name__}")
    if a.shape != b.shape or a.ndim < 2:
        raise ValueError(
            f"a and b must be (N, ...) tensors of one shape, got {tuple(a.shape)} and "
            f"{tuple(b.shape)}; for one image pair use a[None], b[None]"
        )
    if isinstance(bins, bool) or not isinstance(bins, int) or bins < 2 or not sigma_ratio > 0:
        raise ValueError(
            f"need an integer bins >= 2 and sigma_ratio > 0, got {bins!r}, {sigma_ratio!r}"
        )
    low = float(min(a.detach().min(), b.detach().min()))
    high = float(max(a.detach().max(), b.detach().max()))
    if low < -1e-6 or high > 1 + 1e-6:
        raise ValueError(
            f"intensities must lie in [0, 1], got [{low:.3g}, {high:.3g}]; rescale with "
            "(x - x.min()) / (x.max() - x.min()) or clip at a robust percentile"
        )
    centres = torch.linspace(0, 1, bins, dtype=a.dtype, device=a.device)

    def window(x):  # (N, P) -> (N, P, bins), each row summing to 1
        weights = torch.exp(
            -0.5 * ((x.flatten(1)[..., None] - centres) * (bins - 1) / sigma_ratio) ** 2
        )
        return weights / weights.sum(-1, keepdim=True)

    wa, wb = window(a), window(b)
    joint = wa.transpose(1, 2) @ wb / wa.shape[1]  # (N, bins, bins), sums to 1
    pa, pb = joint.sum(2, keepdim=True), joint.sum(1, keepdim=True)
    eps = 1e-12  # empty bins: 0 log 0 = 0, with a finite gradient
    return (joint * (torch.log(joint + eps) - torch.log(pa * pb + eps))).sum((1, 2))


def affine_about_centre(angle_deg, scale, shift, shape, shear=0.0) -> np.ndarray:
    """Float64 ``(3, 3)`` pixel affine ``T(c + shift) R(angle) S(scale) H(shear) T(-c)``.

    About the image centre ``c = ((W - 1) / 2, (H - 1) / 2)``, in (x, y) order: rotation by
    ``angle_deg`` (from +x towards +y, which points down), ``scale`` a number or
    ``(sx, sy)``, ``shear`` of x along y, then ``shift = (dx, dy)`` pixels.
    """
    height, width = shape
    sx, sy = np.broadcast_to(np.asarray(scale, dtype=np.float64), (2,))
    if not (sx > 0 and sy > 0):
        raise ValueError(f"scale must be positive, got {scale!r}")
    angle = np.deg2rad(angle_deg)
    rotation = np.array([[np.cos(angle), -np.sin(angle)], [np.sin(angle), np.cos(angle)]])
    linear = rotation @ np.diag([sx, sy]) @ np.array([[1.0, shear], [0.0, 1.0]])
    centre = np.array([(width - 1) / 2, (height - 1) / 2])
    matrix = np.eye(3)
    matrix[:2, :2], matrix[:2, 2] = linear, centre + np.asarray(shift, float) - linear @ centre
    return matrix


def random_affine(
    n, shape, max_angle_deg=10.0, max_scale=0.08, max_shear=0.05, max_shift=4.0, seed=0
):
    """``n`` known random affines about the image centre, float64 ``(n, 3, 3)`` in pixels.

    Angle, shear and each shift are uniform in ``[-max, max]``, each axis's scale
    log-uniform in ``[1 / (1 + max_scale), 1 + max_scale]``, from
    ``np.random.default_rng(seed)``: warps with a known answer, to score registrations.

    Raises:
        ValueError: ``n`` not a positive integer, or a negative range.
    """
    if isinstance(n, bool) or not isinstance(n, (int, np.integer)) or n < 1:
        raise ValueError(f"n must be a positive integer, got {n!r}")
    if min(max_angle_deg, max_scale, max_shear, max_shift) < 0:
        raise ValueError("max_angle_deg, max_scale, max_shear and max_shift must be >= 0")
    rng = np.random.default_rng(seed)
    matrices = []
    for _ in range(n):
        angle, shear = (
            rng.uniform(-max_angle_deg, max_angle_deg),
            rng.uniform(-max_shear, max_shear),
        )
        scale = np.exp(rng.uniform(-1, 1, 2) * np.log1p(max_scale))
        matrices.append(
            affine_about_centre(angle, scale, rng.uniform(-max_shift, max_shift, 2), shape, shear)
        )
    return np.stack(matrices)


# --- Notebook 05 (deformable registration): warping, Jacobians, smooth random fields ---
# Displacements are (N, 2, H, W) in pixels, channel 0 along the rows and channel 1 along the
# columns (array order, as in scipy.ndimage.map_coordinates, dipy and monai's Warp).


def _check_displacement(displacement, name: str = "displacement") -> torch.Tensor:
    if not isinstance(displacement, torch.Tensor):
        raise TypeError(
            f"{name} must be a torch.Tensor (N, 2, H, W) in pixels, got "
            f"{type(displacement).__name__}; convert with torch.as_tensor(array)"
        )
    if displacement.ndim != 4 or displacement.shape[1] != 2 or not displacement.is_floating_point():
        raise ValueError(
            f"{name} must be a float (N, 2, H, W) tensor (row and column displacement in "
            f"pixels), got {displacement.dtype} {tuple(displacement.shape)}; add a batch axis "
            "with u[None]"
        )
    return displacement


def warp(
    image: torch.Tensor,
    displacement: torch.Tensor,
    mode: str = "bilinear",
    padding_mode: str = "border",
) -> torch.Tensor:
    """Resample ``image`` at ``x + u(x)``: ``warped[n, :, i, j] = image[n, :, i + u_row, j + u_col]``.

    The spatial transformer of Jaderberg et al. (2015). ``grid_sample`` wants, for every
    output pixel, the sampling point in normalised ``(x, y)`` = (column, row) order, with
    ``align_corners=True`` mapping pixel centre 0 to -1 and pixel centre ``size - 1`` to +1:
    ``normalised = 2 * pixel / (size - 1) - 1``. Points outside the image take the edge value.

    Args:
        image: ``(N, C, H, W)`` tensor; an integer label map needs ``mode="nearest"`` and
            comes back with its dtype (labels must not be blended).
        displacement: float ``(N, 2, H, W)`` displacement in pixels (rows, columns).
        mode: ``"bilinear"`` (images, differentiable) or ``"nearest"`` (label maps).
        padding_mode: ``grid_sample``'s ``"border"``, ``"zeros"`` or ``"reflection"``.

    Returns:
        The warped ``(N, C, H, W)`` image.

    Raises:
        TypeError: non-tensor inputs. ValueError: shapes that do not match, an unknown
        mode, or an integer image with bilinear interpolation.
    """
    displacement = _check_displacement(displacement)
    if not isinstance(image, torch.Tensor) or image.ndim != 4:
        raise TypeError(
            f"image must be a (N, C, H, W) tensor, got {getattr(image, 'shape', type(image))}; "
            "add axes with image[:, None]"
        )
    if image.shape[0] != displacement.shape[0] or image.shape[2:] != displacement.shape[2:]:
        raise ValueError(
            f"image {tuple(image.shape)} and displacement {tuple(displacement.shape)} need the "
            "same N, H and W"
        )
    if mode not in ("bilinear", "nearest"):
        raise ValueError(f"mode must be 'bilinear' or 'nearest', got {mode!r}")
    labels = not image.is_floating_point()
    if labels and mode != "nearest":
        raise ValueError("an integer label map must be warped with mode='nearest' (no blending)")
    height, width = image.shape[2:]
    rows = torch.arange(height, device=displacement.device, dtype=displacement.dtype)
    cols = torch.arange(width, device=displacement.device, dtype=displacement.dtype)
    sample_rows = rows[:, None] + displacement[:, 0]
    sample_cols = cols[None, :] + displacement[:, 1]
    grid = torch.stack(
        [2 * sample_cols / max(width - 1, 1) - 1, 2 * sample_rows / max(height - 1, 1) - 1], dim=-1
    )
    source = image.to(displacement.dtype) if labels else image
    warped = F.grid_sample(source, grid, mode=mode, padding_mode=padding_mode, align_corners=True)
    return warped.round().to(image.dtype) if labels else warped


def _finite_difference(field: torch.Tensor, dim: int) -> torch.Tensor:
    """Central differences inside, one-sided at the two edges (``np.gradient``'s rule)."""
    n = field.shape[dim]
    if n < 2:
        raise ValueError(f"a derivative needs at least 2 pixels along axis {dim}, got {n}")
    first = field.narrow(dim, 1, 1) - field.narrow(dim, 0, 1)
    last = field.narrow(dim, n - 1, 1) - field.narrow(dim, n - 2, 1)
    inner = (field.narrow(dim, 2, n - 2) - field.narrow(dim, 0, n - 2)) / 2
    return torch.cat([first, inner, last], dim=dim)


def jacobian_determinant(displacement: torch.Tensor) -> torch.Tensor:
    """Determinant of the Jacobian of the map ``phi(x) = x + u(x)``, per pixel.

    ``det(I + grad u) = (1 + du_r/dr)(1 + du_c/dc) - (du_r/dc)(du_c/dr)``: above 1 the map
    stretches a neighbourhood, below 1 it shrinks it, and at or below 0 it folds space
    onto itself (no real anatomy does that). Derivatives are finite differences in pixels.

    Args:
        displacement: float ``(N, 2, H, W)`` in pixels (rows, columns), ``H, W >= 2``.

    Returns:
        ``(N, H, W)`` determinants (1 everywhere for ``u = 0``).
    """
    displacement = _check_displacement(displacement)
    d_rows, d_cols = _finite_difference(displacement, 2), _finite_difference(displacement, 3)
    return (1 + d_rows[:, 0]) * (1 + d_cols[:, 1]) - d_cols[:, 0] * d_rows[:, 1]


def folding_fraction(displacement: torch.Tensor, mask=None) -> np.ndarray:
    """Share of pixels (inside ``mask``) where ``x + u(x)`` folds: ``det J <= 0``, per image.

    Args:
        displacement: float ``(N, 2, H, W)`` in pixels.
        mask: optional bool ``(N, H, W)`` (array or tensor) of the pixels to count, e.g.
            the brain; each image needs at least one.

    Returns:
        float64 ``(N,)`` shares in [0, 1].
    """
    determinant = jacobian_determinant(displacement).detach().cpu().numpy()
    inside = (
        np.ones(determinant.shape, bool)
        if mask is None
        else np.asarray(mask.cpu() if isinstance(mask, torch.Tensor) else mask, dtype=bool)
    )
    if inside.shape != determinant.shape:
        raise ValueError(f"mask must be (N, H, W) = {determinant.shape}, got {inside.shape}")
    counts = inside.reshape(len(inside), -1).sum(1)
    if (counts == 0).any():
        raise ValueError("every image needs at least one pixel inside mask")
    return ((determinant <= 0) & inside).reshape(len(inside), -1).sum(1) / counts


def integrate_velocity(velocity: torch.Tensor, steps: int = 7) -> torch.Tensor:
    """Displacement of ``exp(v)``, the flow of a stationary velocity field for unit time.

    Scaling and squaring (Arsigny et al., 2006): ``v / 2**steps`` is small enough to be its
    own displacement, and composing a map with itself ``steps`` times,
    ``u <- u + u o (x + u)``, doubles the time each round. The result has no folds when
    the steps are small (``exp(-v)`` is its inverse). Diffeomorphic VoxelMorph (Dalca et
    al., 2019) integrates its network's output this way.

    Args:
        velocity: float ``(N, 2, H, W)`` in pixels. steps: squarings, 0 to 20.

    Returns:
        ``(N, 2, H, W)`` displacement in pixels.
    """
    displacement = _check_displacement(velocity, "velocity")
    if isinstance(steps, bool) or not isinstance(steps, int) or not 0 <= steps <= 20:
        raise ValueError(f"steps must be an integer from 0 to 20, got {steps!r}")
    displacement = displacement / 2**steps
    for _ in range(steps):
        displacement = displacement + warp(displacement, displacement)
    return displacement


def random_velocity(
    n: int,
    size: int = 64,
    amplitude=(2.0, 4.0),
    smoothness: float = 6.0,
    linear: float = 0.0,
    shift: float = 0.0,
    seed: int = 0,
) -> torch.Tensor:
    """Random smooth velocity fields: Gaussian-smoothed noise plus a small affine part.

    Each field is white noise smoothed with a Gaussian of ``smoothness`` pixels, scaled so
    that its largest vector is ``amplitude`` pixels (drawn uniformly from a ``(low, high)``
    pair); then ``L (x - centre) + b`` is added, with the entries of ``L`` normal with sd
    ``linear`` (0.05 is about a 3 degree rotation or a 5 % scaling) and ``b`` normal with sd
    ``shift`` pixels. :func:`integrate_velocity` turns it into a fold-free displacement
    (the linear part into an affine map: the matrix exponential).

    Args:
        n: number of fields. size: height and width in pixels. seed: seed of the noise.

    Returns:
        float32 ``(n, 2, size, size)`` velocities in pixels (rows, columns), on the CPU.
    """
    for name, value in (("n", n), ("size", size), ("seed", seed)):
        if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < 0:
            raise TypeError(f"{name} must be a non-negative integer, got {value!r}")
    low, high = (amplitude, amplitude) if np.isscalar(amplitude) else amplitude
    if not 0 <= low <= high or smoothness <= 0 or linear < 0 or shift < 0 or size < 2:
        raise ValueError(
            f"need 0 <= amplitude low <= high, smoothness > 0, linear and shift >= 0 and size "
            f">= 2, got amplitude {amplitude}, smoothness {smoothness}, linear {linear}, "
            f"shift {shift}, size {size}"
        )
    rng = np.random.default_rng(seed)
    noise = ndimage.gaussian_filter(
        rng.standard_normal((n, 2, size, size)), (0, 0, smoothness, smoothness), mode="reflect"
    )
    largest = np.sqrt((noise**2).sum(1)).reshape(n, -1).max(1)
    noise *= (rng.uniform(low, high, n) / np.maximum(largest, 1e-12))[:, None, None, None]
    centred = np.mgrid[0:size, 0:size] - (size - 1) / 2  # (2, size, size) rows, columns
    matrices = rng.normal(0, linear, (n, 2, 2))
    offsets = rng.normal(0, shift, (n, 2))
    affine = np.einsum("nij,jhw->nihw", matrices, centred) + offsets[:, :, None, None]
    return torch.from_numpy((noise + affine).astype(np.float32))
