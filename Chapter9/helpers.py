"""Reusable code for Chapter 9 (tumor localization).

Box convention of the whole chapter: ``(x1, y1, x2, y2)`` **continuous** pixel-edge
coordinates, as in ``torchvision.ops`` (``x`` is the column, ``y`` the row; a lesion
covering columns 3 to 7 has ``x1 = 3``, ``x2 = 8``). The brain slices store inclusive pixel
indices, so :func:`true_boxes` adds 1 to their ``x_max`` and ``y_max``.

* :func:`true_boxes`: the lesion boxes of each slice in the chapter's convention.
* :func:`box_iou`, :func:`generalized_box_iou`: pairwise IoU and GIoU (notebook 02 writes
  them out and checks them against ``torchvision.ops``).
* :func:`map_to_box`, :func:`best_iou`: a localization map becomes a box (threshold at a
  share of the peak, the connected region around the peak); the box's best IoU.
* :func:`class_activation_map`, :func:`occlusion_map`: two explanations of the weakly
  supervised lesion classifier of notebook 01 (to be trained with chapter 3's recipe once
  it moves into ``bios740``; not duplicated here).
"""

from __future__ import annotations

import numpy as np
import torch
import torch.nn.functional as F
from scipy import ndimage
from torch import nn

from bios740.models import SmallCNN

__all__ = [
    "best_iou",
    "box_iou",
    "class_activation_map",
    "generalized_box_iou",
    "map_to_box",
    "occlusion_map",
    "true_boxes",
]


# ----------------------------------------------------------------------------- boxes
def true_boxes(data) -> list[np.ndarray]:
    """The lesion boxes of every slice of a ``BrainSliceData``, continuous ``(x1, y1, x2, y2)``.

    Returns:
        A list with one float32 ``(n_lesions, 4)`` array per slice (``(0, 4)`` without lesions).
    """
    if not hasattr(data, "boxes_of"):
        raise TypeError(
            f"data must be a BrainSliceData (make_brain_slices), got {type(data).__name__}"
        )
    return [data.boxes_of(i) + np.array([0, 0, 1, 1], dtype=np.float32) for i in range(len(data))]


def _as_boxes(boxes, name) -> torch.Tensor:
    boxes = torch.as_tensor(boxes)
    if boxes.ndim != 2 or boxes.shape[-1] != 4:
        raise ValueError(
            f"{name} must be (N, 4) boxes (x1, y1, x2, y2), got shape {tuple(boxes.shape)}"
        )
    if not torch.is_floating_point(boxes):
        boxes = boxes.double()
    return boxes


def box_iou(boxes1, boxes2) -> torch.Tensor:
    """Pairwise intersection over union ``(N, M)`` of continuous ``(x1, y1, x2, y2)`` boxes."""
    a, b = _as_boxes(boxes1, "boxes1"), _as_boxes(boxes2, "boxes2")
    b = b.to(a.dtype)
    area_a = (a[:, 2] - a[:, 0]) * (a[:, 3] - a[:, 1])
    area_b = (b[:, 2] - b[:, 0]) * (b[:, 3] - b[:, 1])
    top_left = torch.maximum(a[:, None, :2], b[None, :, :2])
    bottom_right = torch.minimum(a[:, None, 2:], b[None, :, 2:])
    overlap = (bottom_right - top_left).clamp(min=0).prod(dim=-1)
    union = area_a[:, None] + area_b[None, :] - overlap
    return overlap / union


def generalized_box_iou(boxes1, boxes2) -> torch.Tensor:
    """Pairwise GIoU (Rezatofighi et al., 2019): IoU minus the empty share of the hull box."""
    a, b = _as_boxes(boxes1, "boxes1"), _as_boxes(boxes2, "boxes2")
    b = b.to(a.dtype)
    iou = box_iou(a, b)
    area_a = (a[:, 2] - a[:, 0]) * (a[:, 3] - a[:, 1])
    area_b = (b[:, 2] - b[:, 0]) * (b[:, 3] - b[:, 1])
    top_left = torch.maximum(a[:, None, :2], b[None, :, :2])
    bottom_right = torch.minimum(a[:, None, 2:], b[None, :, 2:])
    overlap = (bottom_right - top_left).clamp(min=0).prod(dim=-1)
    union = area_a[:, None] + area_b[None, :] - overlap
    hull = (
        torch.maximum(a[:, None, 2:], b[None, :, 2:])
        - torch.minimum(a[:, None, :2], b[None, :, :2])
    ).prod(dim=-1)
    return iou - (hull - union) / hull


def map_to_box(maps, fraction: float = 0.5) -> np.ndarray:
    """Turn each localization map into one box around its peak.

    The map is thresholded at ``fraction`` of its peak (Zhou et al., 2016, use 20 % for
    CAM on natural images, where objects are large) and the box encloses the connected
    region of above-threshold pixels that holds the peak.

    Args:
        maps: ``(N, H, W)`` array or tensor; larger means "more lesion". ``-inf`` is allowed
            (outside the brain).
        fraction: threshold as a share of the peak, in (0, 1].

    Returns:
        float32 ``(N, 4)`` continuous ``(x1, y1, x2, y2)`` boxes.
    """
    maps = np.asarray(maps.detach().cpu() if isinstance(maps, torch.Tensor) else maps, float)
    if maps.ndim != 3:
        raise ValueError(f"maps must be (N, H, W), got {maps.shape}")
    if not 0.0 < fraction <= 1.0:
        raise ValueError(f"fraction must be in (0, 1], got {fraction}")
    boxes = np.zeros((len(maps), 4), dtype=np.float32)
    for i, value in enumerate(maps):
        finite = np.isfinite(value)
        # Maps with negative values (CAM) are shifted so that their minimum is 0.
        low = min(value[finite].min(), 0.0) if finite.any() else 0.0
        shifted = np.where(finite, value - low, 0.0)
        peak = np.unravel_index(np.argmax(shifted), shifted.shape)
        regions, _ = ndimage.label(shifted >= fraction * shifted[peak])
        rows, cols = np.nonzero(regions == regions[peak])
        boxes[i] = (cols.min(), rows.min(), cols.max() + 1, rows.max() + 1)
    return boxes


def best_iou(predicted, truth: list[np.ndarray]) -> np.ndarray:
    """IoU of each predicted box ``(N, 4)`` with the true box of its slice it overlaps most.

    ``truth`` is one ``(n_i, 4)`` array per slice (:func:`true_boxes`); slices without a
    lesion get 0.
    """
    predicted = np.asarray(predicted, dtype=np.float64)
    if predicted.ndim != 2 or predicted.shape != (len(truth), 4):
        raise ValueError(
            f"predicted must be ({len(truth)}, 4), one box per slice, got {predicted.shape}"
        )
    values = np.zeros(len(truth))
    for i, boxes in enumerate(truth):
        if len(boxes):
            values[i] = float(box_iou(predicted[i : i + 1], boxes).max())
    return values


# ------------------------------------------------------------------ weak supervision
def class_activation_map(model: SmallCNN, images: torch.Tensor) -> torch.Tensor:
    """CAM (Zhou et al., 2016) of a ``SmallCNN``: the head's lesion-minus-normal weights
    applied to the last feature maps at every position, upsampled to the input ``(N, H, W)``.

    With global max pooling the logit margin is the weighted sum of each channel's
    maximum, so the CAM at a position is what that position would give if it held every
    channel's maximum (Oquab et al., 2015, use max pooling the same way).
    """
    if not isinstance(model, SmallCNN):
        raise TypeError(f"model must be a bios740.models.SmallCNN, got {type(model).__name__}")
    model.eval()
    with torch.no_grad():
        features = model.features(images)
        weights = model.head.weight[1] - model.head.weight[0]
        cam = torch.einsum("nchw,c->nhw", features, weights)[:, None]
        cam = F.interpolate(cam, size=images.shape[-2:], mode="bilinear", align_corners=False)
    return cam[:, 0]


def occlusion_map(model: nn.Module, images: torch.Tensor, patch: int = 8, stride: int = 4):
    """Occlusion sensitivity (Zeiler & Fergus, 2014): the drop of the lesion log-odds when
    a ``patch`` x ``patch`` square is set to 0, averaged over the squares covering a pixel.

    Returns:
        ``(N, H, W)`` tensor on the images' device; larger means the pixel mattered more.
    """
    if not isinstance(images, torch.Tensor) or images.ndim != 4:
        raise ValueError(
            f"images must be a (N, C, H, W) tensor, got {getattr(images, 'shape', images)}"
        )
    if not 1 <= stride <= patch <= min(images.shape[-2:]):
        raise ValueError(f"need 1 <= stride <= patch <= image size, got {stride}, {patch}")
    height, width = images.shape[-2:]
    corners = [
        (r, c)
        for r in range(0, height - patch + 1, stride)
        for c in range(0, width - patch + 1, stride)
    ]
    squares = torch.zeros(len(corners), height, width, device=images.device)
    for k, (r, c) in enumerate(corners):
        squares[k, r : r + patch, c : c + patch] = 1.0
    model.eval()
    maps = []
    with torch.no_grad():
        logits = model(images)
        base = logits[:, 1] - logits[:, 0]
        for i in range(len(images)):
            out = model(images[i] * (1.0 - squares[:, None]))
            change = base[i] - (out[:, 1] - out[:, 0])
            maps.append(torch.einsum("k,khw->hw", change, squares))
    return torch.stack(maps) / squares.sum(dim=0).clamp_min(1.0)
