"""What an image classifier looks at: saliency, Grad-CAM and the pointing game.

Chapter 3 (notebook 04) teaches these; chapter 9 reuses them for weakly supervised
localization. Each map is ``(N, H, W)`` on the input's pixel grid.

* :func:`saliency_map`: vanilla gradient saliency (Simonyan et al., 2014).
* :func:`grad_cam`: Grad-CAM (Selvaraju et al., 2017).
* :func:`brightest_spot_map`: the no-learning baseline, the smoothed image itself.
* :func:`pointing_game`: is each map's peak on the object? (Zhang et al., 2018).
"""

from __future__ import annotations

import numpy as np
import torch
import torch.nn.functional as F
from scipy import ndimage
from torch import nn

__all__ = ["brightest_spot_map", "grad_cam", "pointing_game", "saliency_map"]


def _check_images(images):
    if not isinstance(images, torch.Tensor):
        raise TypeError(f"images must be a torch tensor (N, C, H, W), got {type(images).__name__}")
    if images.ndim != 4:
        raise ValueError(
            f"images must be (N, C, H, W), got {tuple(images.shape)}; add a channel axis with "
            "images[:, None]"
        )


def _class_score(logits: torch.Tensor, target_class: int, contrast_class: int | None):
    """The score to explain: one logit, or its margin over another (the log-odds for two)."""
    if logits.ndim != 2:
        raise ValueError(f"the model must return logits (N, K), got {tuple(logits.shape)}")
    n_classes = logits.shape[1]
    for name, value in [("target_class", target_class), ("contrast_class", contrast_class)]:
        if value is not None and not 0 <= value < n_classes:
            raise ValueError(f"{name} must be in 0..{n_classes - 1}, got {value}")
    if contrast_class == target_class:
        raise ValueError("contrast_class must differ from target_class")
    scores = logits[:, target_class]
    return scores if contrast_class is None else scores - logits[:, contrast_class]


def saliency_map(
    model: nn.Module,
    images: torch.Tensor,
    target_class: int = 1,
    contrast_class: int | None = None,
) -> torch.Tensor:
    """Vanilla gradient saliency: ``|d score / d pixel|``, max over channels, ``(N, H, W)``.

    Args:
        model: a classifier returning logits ``(N, K)``; put in eval mode here.
        images: ``(N, C, H, W)`` inputs (on the model's device).
        target_class: the logit whose gradient is taken.
        contrast_class: if given, explain ``logit[target] - logit[contrast]`` instead: with
            two classes and a softmax this is the log-odds, the score the prediction
            depends on (one logit alone can rise with evidence for both classes).
    """
    _check_images(images)
    model.eval()
    images = images.detach().clone().requires_grad_(True)
    scores = _class_score(model(images), target_class, contrast_class)
    (gradient,) = torch.autograd.grad(scores.sum(), images)
    return gradient.abs().amax(dim=1).detach()


def grad_cam(
    model: nn.Module,
    layer: nn.Module,
    images: torch.Tensor,
    target_class: int = 1,
    contrast_class: int | None = None,
) -> torch.Tensor:
    """Grad-CAM maps ``(N, H, W)``, upsampled to the input size and scaled to a peak of 1.

    The activations ``A_k`` of ``layer`` are weighted by the spatial mean of the gradient of
    the class score with respect to them, summed over channels ``k`` and passed through a
    ReLU. All-zero maps stay zero.

    Args:
        model: a classifier returning logits ``(N, K)``; put in eval mode here.
        layer: a module of ``model`` whose output is ``(N, K', h, w)``, e.g. ``model.last_conv``.
        images: ``(N, C, H, W)`` inputs.
        target_class: the logit to explain.
        contrast_class: if given, explain ``logit[target] - logit[contrast]`` (the log-odds
            of a two-class softmax) instead of the target logit alone.

    Raises:
        TypeError: ``layer`` is not a module.
        ValueError: ``layer`` was not used in the forward pass.
    """
    _check_images(images)
    if not isinstance(layer, nn.Module):
        raise TypeError("layer must be a module of the model, e.g. model.last_conv")
    stored = {}

    def keep(_module, _inputs, output):
        stored["activations"] = output

    handle = layer.register_forward_hook(keep)
    try:
        model.eval()
        logits = model(images)
    finally:
        handle.remove()
    scores = _class_score(logits, target_class, contrast_class)
    if "activations" not in stored:
        raise ValueError("layer was not used in the forward pass; pass a layer of this model")
    activations = stored["activations"]
    (gradients,) = torch.autograd.grad(scores.sum(), activations)
    weights = gradients.mean(dim=(2, 3), keepdim=True)
    cam = F.relu((weights * activations).sum(dim=1, keepdim=True))
    cam = F.interpolate(cam, size=images.shape[-2:], mode="bilinear", align_corners=False)[:, 0]
    peak = cam.amax(dim=(1, 2), keepdim=True)
    return (cam / peak.clamp_min(1e-12)).detach()


def brightest_spot_map(images, region=None, sigma: float = 1.0) -> np.ndarray:
    """The no-learning "explanation": the Gaussian-smoothed image, -inf outside ``region``.

    Its peak is the brightest smoothed pixel, which is where a find-the-brightest-spot rule
    would point. An explanation of a trained network must beat it in the pointing game.

    Args:
        images: ``(N, H, W)`` array (one channel).
        region: optional bool ``(N, H, W)`` pixels allowed (e.g. the brain mask).
        sigma: width of the smoothing Gaussian in pixels.
    """
    images = np.asarray(images, dtype=np.float64)
    if images.ndim != 3:
        raise ValueError(f"images must be (N, H, W) (one channel), got {images.shape}")
    smoothed = ndimage.gaussian_filter(images, sigma=(0, sigma, sigma))
    if region is not None:
        region = np.asarray(region, dtype=bool)
        if region.shape != images.shape:
            raise ValueError(
                f"region must have the images' shape {images.shape}, got {region.shape}"
            )
        smoothed[~region] = -np.inf
    return smoothed


def pointing_game(maps, masks, tolerance: int = 1) -> np.ndarray:
    """Pointing game: is each map's peak within ``tolerance`` pixels of the object?

    A hit is a peak within ``tolerance`` pixels (Chebyshev distance) of a mask pixel.

    Args:
        maps: ``(N, H, W)`` array or tensor; its argmax is where it points.
        masks: bool ``(N, H, W)`` object pixels.
        tolerance: allowed distance in pixels (0: the peak must be on the object).

    Returns:
        bool ``(N,)``, one hit or miss per map.

    Raises:
        ValueError: shapes differ or are not ``(N, H, W)``, or ``tolerance`` is negative.
    """
    maps = np.asarray(maps.detach().cpu() if isinstance(maps, torch.Tensor) else maps)
    masks = np.asarray(masks, dtype=bool)
    if maps.shape != masks.shape or maps.ndim != 3:
        raise ValueError(f"maps and masks must both be (N, H, W), got {maps.shape}, {masks.shape}")
    if tolerance < 0:
        raise ValueError(f"tolerance must be >= 0, got {tolerance}")
    peaks = maps.reshape(len(maps), -1).argmax(axis=1)
    rows, cols = np.unravel_index(peaks, maps.shape[1:])
    # Grow each mask by the tolerance, then look up the peak.
    size = 2 * tolerance + 1
    grown = ndimage.maximum_filter(masks, size=(1, size, size)) if tolerance else masks
    return grown[np.arange(len(maps)), rows, cols]
