"""Reusable code for Chapter 3 (convolutional networks).

* :func:`conv2d_loops` and :func:`conv2d_unfold`: 2-D convolution (cross-correlation, as in
  ``nn.Conv2d``) written out by hand (notebook 01, homework 3).
* :func:`augment`, :func:`scale_channels`, :func:`train_lesion_cnn`,
  :func:`lesion_probability`: the lesion classifier's recipe of notebooks 03 to 05,
  re-exported from :mod:`bios740.models` (chapter 9 trains the same classifier).
* :func:`reliability_bins`, :func:`expected_calibration_error`: calibration (Guo et al., 2017).
* :func:`bootstrap_by_subject`: intervals that resample subjects, not slices.

The small CNN is :class:`bios740.models.SmallCNN`; saliency, Grad-CAM and the pointing game
are in :mod:`bios740.interpret` (chapter 9 reuses them); training is
:func:`bios740.training.fit`.
"""

from __future__ import annotations

import numpy as np
import torch
import torch.nn.functional as F

# The lesion classifier's recipe lives in the course package because chapter 9 trains it
# too; it is re-exported here so that the chapter's notebooks call ``helpers.<name>``.
from bios740.models import augment, lesion_probability, scale_channels, train_lesion_cnn
from bios740.stats import bootstrap_samples

__all__ = [
    "augment",
    "bootstrap_by_subject",
    "conv2d_loops",
    "conv2d_unfold",
    "expected_calibration_error",
    "lesion_probability",
    "reliability_bins",
    "scale_channels",
    "train_lesion_cnn",
]


def _check_conv_inputs(x, weight, stride, padding):
    if not isinstance(x, torch.Tensor) or not isinstance(weight, torch.Tensor):
        raise TypeError("x and weight must be torch tensors")
    if x.ndim != 4 or weight.ndim != 4:
        raise ValueError(
            f"x must be (N, C_in, H, W) and weight (C_out, C_in, kH, kW); got {tuple(x.shape)} "
            f"and {tuple(weight.shape)}"
        )
    if x.shape[1] != weight.shape[1]:
        raise ValueError(
            f"x has {x.shape[1]} channels but weight expects {weight.shape[1]} input channels"
        )
    if stride < 1 or padding < 0:
        raise ValueError(f"stride must be >= 1 and padding >= 0, got {stride} and {padding}")
    height = (x.shape[2] + 2 * padding - weight.shape[2]) // stride + 1
    width = (x.shape[3] + 2 * padding - weight.shape[3]) // stride + 1
    if height < 1 or width < 1:
        raise ValueError("the kernel is larger than the padded input")
    return height, width


def conv2d_loops(x, weight, bias=None, stride: int = 1, padding: int = 0):
    """2-D cross-correlation with explicit loops over output positions (slow, for teaching).

    ``out[n, o, i, j] = bias[o] + sum_{c, u, v} x_pad[n, c, i*stride + u, j*stride + v]
    * weight[o, c, u, v]``, which is what ``F.conv2d`` computes.
    """
    height, width = _check_conv_inputs(x, weight, stride, padding)
    x = F.pad(x, (padding, padding, padding, padding))
    k_h, k_w = weight.shape[2:]
    out = x.new_zeros(x.shape[0], weight.shape[0], height, width)
    for i in range(height):
        for j in range(width):
            patch = x[:, :, i * stride : i * stride + k_h, j * stride : j * stride + k_w]
            # (N, C, kH, kW) x (O, C, kH, kW) -> (N, O): a dot product per output channel.
            out[:, :, i, j] = torch.einsum("nchw,ochw->no", patch, weight)
    if bias is not None:
        out = out + bias.view(1, -1, 1, 1)
    return out


def conv2d_unfold(x, weight, bias=None, stride: int = 1, padding: int = 0):
    """2-D cross-correlation as one matrix product over ``F.unfold`` patches (im2col)."""
    height, width = _check_conv_inputs(x, weight, stride, padding)
    patches = F.unfold(x, weight.shape[2:], padding=padding, stride=stride)  # (N, C*kH*kW, L)
    out = weight.reshape(weight.shape[0], -1) @ patches  # (N, O, L)
    if bias is not None:
        out = out + bias.view(1, -1, 1)
    return out.reshape(x.shape[0], weight.shape[0], height, width)


def reliability_bins(confidence, correct, n_bins: int = 10):
    """Mean confidence, accuracy and count in ``n_bins`` equal-width confidence bins.

    ``confidence`` is the probability the model gives its prediction (or, for a binary
    reliability diagram, the predicted probability of the positive class with ``correct``
    the true 0/1 label). Empty bins give NaN means and count 0.
    """
    confidence = np.asarray(confidence, dtype=float).ravel()
    correct = np.asarray(correct, dtype=float).ravel()
    if confidence.shape != correct.shape:
        raise ValueError(f"{confidence.size} confidences but {correct.size} outcomes")
    if confidence.size == 0 or confidence.min() < 0 or confidence.max() > 1:
        raise ValueError("confidences must be a non-empty array of probabilities in [0, 1]")
    edges = np.linspace(0.0, 1.0, n_bins + 1)
    index = np.clip(np.digitize(confidence, edges[1:-1]), 0, n_bins - 1)
    counts = np.bincount(index, minlength=n_bins)
    with np.errstate(invalid="ignore", divide="ignore"):
        mean_confidence = np.bincount(index, confidence, n_bins) / counts
        accuracy = np.bincount(index, correct, n_bins) / counts
    return mean_confidence, accuracy, counts


def expected_calibration_error(probabilities, labels, n_bins: int = 10) -> float:
    """ECE (Guo et al., 2017): the count-weighted mean |accuracy - confidence| over bins.

    ``probabilities`` is ``(N, K)``; the confidence of each prediction is its largest
    probability and it is correct when its argmax equals the label.
    """
    probabilities = np.asarray(probabilities, dtype=float)
    labels = np.asarray(labels).ravel()
    if probabilities.ndim != 2 or probabilities.shape[0] != labels.shape[0]:
        raise ValueError(
            f"probabilities must be (N, K) with N = {labels.shape[0]} labels, "
            f"got {probabilities.shape}"
        )
    confidence = probabilities.max(axis=1)
    correct = probabilities.argmax(axis=1) == labels
    mean_confidence, accuracy, counts = reliability_bins(confidence, correct, n_bins)
    used = counts > 0
    gaps = np.abs(accuracy[used] - mean_confidence[used])
    return float((gaps * counts[used]).sum() / counts.sum())


def bootstrap_by_subject(statistic, subjects, n_boot: int = 1000, seed: int = 0) -> np.ndarray:
    """Bootstrap a statistic by resampling subjects (all slices of a drawn subject go in).

    Slices of one subject are not independent, so an interval from resampled slices is too
    narrow; resampling subjects keeps each person's slices together.

    Args:
        statistic: ``f(indices) -> float`` computed on the slices at ``indices`` (e.g. an
            AUC, or a difference of two AUCs); draws where it fails (one class missing)
            are skipped.
        subjects: ``(N,)`` subject of each slice.
        n_boot: number of bootstrap draws.
        seed: seed of the draws.

    Returns:
        The statistic's bootstrap values; ``np.percentile(values, [2.5, 97.5])`` is a 95 %
        interval.
    """
    subjects = np.asarray(subjects)
    if subjects.ndim != 1 or subjects.size == 0:
        raise ValueError(f"subjects must be a non-empty 1-D array, got shape {subjects.shape}")
    return bootstrap_samples(
        statistic, np.arange(subjects.size), groups=subjects, n_boot=n_boot, seed=seed
    )
