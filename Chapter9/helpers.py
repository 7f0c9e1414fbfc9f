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
  supervised lesion classifier of notebook 01 (trained with chapter 3's recipe,
  ``bios740.models.train_lesion_cnn``; not duplicated here).
* :func:`match_detections`, :func:`ap_from_matches`, :func:`average_precision`,
  :func:`froc_from_matches`: detection metrics of notebook 04 and the homework (greedy
  matching in score order, AP with COCO's 101-point or all-point interpolation, FROC).
* :class:`CentreNet`, :func:`centre_targets`, :func:`centre_loss`, :func:`train_centre_net`,
  :func:`detect`: the CenterNet-style heatmap detector that notebook 03 writes out and
  notebooks 04 and 05 and the homework train.

The file is longer than the course's 300 lines because notebooks 01 to 05 and the homework
share the box, localization and detection-metric code, which one place keeps consistent.
"""

from __future__ import annotations

import numpy as np
import torch
import torch.nn.functional as F
from scipy import ndimage
from torch import nn

from bios740.models import SmallCNN

__all__ = [
    "FROC_RATES",
    "CentreNet",
    "ap_from_matches",
    "average_precision",
    "best_iou",
    "box_iou",
    "centre_loss",
    "centre_targets",
    "class_activation_map",
    "detect",
    "froc_from_matches",
    "generalized_box_iou",
    "map_to_box",
    "match_detections",
    "occlusion_map",
    "train_centre_net",
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


# ---------------------------------------------------------------- detection metrics
#: FP-per-image rates of the LUNA16 (Setio et al., 2017) FROC summary.
FROC_RATES = (0.125, 0.25, 0.5, 1.0, 2.0, 4.0, 8.0)


def _as_detections(boxes, scores, truth):
    boxes, truth = (np.asarray(b, dtype=np.float64) for b in (boxes, truth))
    boxes, truth = (b.reshape(0, 4) if b.size == 0 else b for b in (boxes, truth))
    boxes, truth = _as_boxes(boxes, "boxes"), _as_boxes(truth, "truth")
    scores = torch.as_tensor(np.asarray(scores, dtype=np.float64))
    if scores.shape != (len(boxes),):
        raise ValueError(
            f"scores must be ({len(boxes)},), one per box, got shape {tuple(scores.shape)}"
        )
    return boxes.double(), scores, truth.double()


def match_detections(
    boxes,
    scores,
    truth,
    iou_threshold: float = 0.5,
    criterion: str = "iou",
    duplicates: str = "fp",
) -> np.ndarray:
    """Match one slice's detections to its lesions, in descending score order.

    Each detection, from the highest score down, takes the unmatched lesion it hits best
    (largest IoU); each lesion is matched at most once. A detection "hits" a lesion when
    ``criterion="iou"``: IoU >= ``iou_threshold`` (PASCAL VOC, COCO), or
    ``criterion="centre"``: the detection's centre lies inside the lesion's box (a
    FROC-style hit, as LUNA16 scores points inside a nodule).

    Args:
        boxes: ``(D, 4)`` detected boxes ``(x1, y1, x2, y2)``; scores: ``(D,)``.
        truth: ``(L, 4)`` lesion boxes of the same slice (:func:`true_boxes`).
        duplicates: what a further hit of an already matched lesion is: ``"fp"`` (a false
            positive, as in AP) or ``"ignore"`` (neither, as in LUNA16 and CAMELYON16).

    Returns:
        int8 ``(D,)`` in the input order: 1 true positive, 0 false positive, -1 ignored.
    """
    if criterion not in ("iou", "centre"):
        raise ValueError(f"criterion must be 'iou' or 'centre', got {criterion!r}")
    if duplicates not in ("fp", "ignore"):
        raise ValueError(f"duplicates must be 'fp' or 'ignore', got {duplicates!r}")
    if not 0.0 < iou_threshold <= 1.0:
        raise ValueError(f"iou_threshold must be in (0, 1], got {iou_threshold}")
    boxes, scores, truth = _as_detections(boxes, scores, truth)
    outcome = np.zeros(len(boxes), dtype=np.int8)
    if len(boxes) == 0 or len(truth) == 0:
        return outcome
    iou = box_iou(boxes, truth).numpy()
    if criterion == "iou":
        hits = iou >= iou_threshold
    else:
        centres = ((boxes[:, :2] + boxes[:, 2:]) / 2).numpy()[:, None]
        lo, hi = truth[:, :2].numpy()[None], truth[:, 2:].numpy()[None]
        hits = ((centres >= lo) & (centres <= hi)).all(axis=-1)
    taken = np.zeros(len(truth), dtype=bool)
    # A stable sort keeps tied detections in input order, as pycocotools does.
    for d in np.argsort(-scores.numpy(), kind="stable"):
        free = hits[d] & ~taken
        if free.any():
            lesion = int(np.argmax(np.where(free, iou[d], -1.0)))
            taken[lesion], outcome[d] = True, 1
        elif duplicates == "ignore" and hits[d].any():
            outcome[d] = -1
    return outcome


def _pooled(scores, outcomes):
    scores, outcomes = np.asarray(scores, float), np.asarray(outcomes)
    if scores.shape != outcomes.shape or scores.ndim != 1:
        raise ValueError(
            f"scores and outcomes must be equal-length 1-D arrays, got {scores.shape} "
            f"and {outcomes.shape}"
        )
    keep = outcomes >= 0
    order = np.argsort(-scores[keep], kind="stable")
    return scores[keep][order], outcomes[keep][order] == 1


def ap_from_matches(scores, outcomes, n_lesions: int, interpolation: str = "coco") -> float:
    """Average precision from pooled detections already matched (:func:`match_detections`).

    Args:
        scores, outcomes: ``(D,)`` scores and outcomes (1, 0, -1) of every detection of
            every slice, concatenated slice by slice.
        n_lesions: lesions in all slices (the recall's denominator).
        interpolation: ``"coco"`` (precision envelope read at 101 recall points 0, 0.01,
            ..., 1, as pycocotools and torchmetrics) or ``"all"`` (area under the envelope
            at every recall step, PASCAL VOC 2010 on).

    Returns:
        AP in [0, 1]; NaN when there is no lesion.
    """
    if interpolation not in ("coco", "all"):
        raise ValueError(f"interpolation must be 'coco' or 'all', got {interpolation!r}")
    if n_lesions == 0:
        return float("nan")
    _, tp = _pooled(scores, outcomes)
    if tp.size == 0:
        return 0.0
    recall = np.cumsum(tp) / n_lesions
    precision = np.cumsum(tp) / np.arange(1, tp.size + 1)
    envelope = np.maximum.accumulate(precision[::-1])[::-1]
    if interpolation == "all":
        steps = np.diff(np.concatenate([[0.0], recall]))
        return float((steps * envelope).sum())
    points = np.linspace(0.0, 1.0, 101)
    at = np.searchsorted(recall, points, side="left")
    return float(np.where(at < tp.size, envelope[np.minimum(at, tp.size - 1)], 0.0).mean())


def average_precision(
    boxes, scores, truth, iou_threshold: float = 0.5, interpolation: str = "coco"
) -> float:
    """AP at one IoU threshold over slices: lists with one ``(D_i, 4)``/``(D_i,)``/``(L_i, 4)``
    array per slice of detected boxes, their scores and the true boxes."""
    if not (len(boxes) == len(scores) == len(truth)):
        raise ValueError(
            f"boxes, scores and truth need one entry per slice, got {len(boxes)}, "
            f"{len(scores)} and {len(truth)}"
        )
    outcomes = [
        match_detections(b, s, t, iou_threshold)
        for b, s, t in zip(boxes, scores, truth, strict=True)
    ]
    flat = np.concatenate([np.asarray(s, float).reshape(-1) for s in scores] + [np.zeros(0)])
    n_lesions = sum(len(t) for t in truth)
    return ap_from_matches(flat, np.concatenate(outcomes + [np.zeros(0)]), n_lesions, interpolation)


def froc_from_matches(scores, outcomes, n_lesions: int, n_images: int, rates=FROC_RATES):
    """FROC from pooled matched detections: sensitivity against mean FPs per image.

    Returns:
        ``(fp_per_image, sensitivity, thresholds, at_rates)``: the curve at every distinct
        score (keeping detections with score >= threshold), and the highest sensitivity
        reached with at most each of ``rates`` FPs per image (a step, no interpolation).
    """
    if n_lesions < 1 or n_images < 1:
        raise ValueError(f"need at least one lesion and one image, got {n_lesions}, {n_images}")
    s, tp = _pooled(scores, outcomes)
    last = np.r_[s[1:] != s[:-1], True] if s.size else np.zeros(0, bool)
    sensitivity = np.r_[0.0, np.cumsum(tp)[last] / n_lesions]
    fp_per_image = np.r_[0.0, np.cumsum(~tp)[last] / n_images]
    thresholds = np.r_[np.inf, s[last]]
    at_rates = np.array([sensitivity[fp_per_image <= r].max() for r in rates])
    return fp_per_image, sensitivity, thresholds, at_rates


# ------------------------------------------------------------------------ detector
class CentreNet(nn.Module):
    """A small CenterNet-style detector (Zhou et al., 2019, "Objects as Points").

    A fully convolutional network whose output grid has one cell per ``stride`` x
    ``stride`` pixels. At each cell it predicts five maps: the logit of "a lesion centre
    lies here" (the heatmap), the log width and log height of that lesion's box in
    pixels, and the centre's offset inside the cell (``dx``, ``dy`` in [0, 1), in cells),
    which recovers the position lost to the stride.

    Args:
        in_channels: image channels (2 for T1 and FLAIR, 1 for a grey microscopy image).
        width: channels of the hidden layers.
        stride: 1 or 2, the output grid's step in pixels.

    Shapes: ``(N, in_channels, H, W)`` in, ``(N, 5, H / stride, W / stride)`` out.
    """

    def __init__(self, in_channels: int = 2, width: int = 24, stride: int = 2):
        super().__init__()
        if stride not in (1, 2):
            raise ValueError(f"stride must be 1 or 2, got {stride}")
        if in_channels < 1 or width < 1:
            raise ValueError(f"in_channels and width must be >= 1, got {in_channels}, {width}")
        self.in_channels, self.stride = in_channels, stride

        def block(c_in, c_out, **options):
            return [nn.Conv2d(c_in, c_out, 3, **options), nn.BatchNorm2d(c_out), nn.ReLU()]

        self.body = nn.Sequential(
            nn.Conv2d(in_channels, 16, 3, padding=1),
            nn.ReLU(),
            *block(16, width, padding=1, stride=stride),
            *block(width, width, padding=1),
            *block(width, width, padding=2, dilation=2),
        )
        self.heat, self.geometry = nn.Conv2d(width, 1, 1), nn.Conv2d(width, 4, 1)
        # Start every cell at p = 0.1, as CenterNet does, so the focal loss starts small.
        nn.init.constant_(self.heat.bias, -2.19)

    def forward(self, images: torch.Tensor) -> torch.Tensor:
        if images.ndim != 4 or images.shape[1] != self.in_channels:
            raise ValueError(
                f"images must be (N, {self.in_channels}, H, W), got {tuple(images.shape)}"
            )
        if images.shape[-1] % self.stride or images.shape[-2] % self.stride:
            raise ValueError(f"H and W must be multiples of the stride {self.stride}")
        features = self.body(images)
        return torch.cat([self.heat(features), self.geometry(features)], dim=1)


def _check_boxes_per_image(boxes_per_image):
    if isinstance(boxes_per_image, np.ndarray | torch.Tensor) and boxes_per_image.ndim == 2:
        raise TypeError(
            "boxes_per_image must be a list with one (n_i, 4) array per image, got one "
            "array; for a single image pass [boxes]"
        )
    boxes = [np.asarray(b, dtype=np.float64).reshape(-1, 4) for b in boxes_per_image]
    for b in boxes:
        if len(b) and ((b[:, 2] <= b[:, 0]).any() or (b[:, 3] <= b[:, 1]).any()):
            raise ValueError(
                "boxes must be (x1, y1, x2, y2) with x2 > x1 and y2 > y1 (the chapter's "
                "convention, helpers.true_boxes); got a box with non-positive width or height"
            )
    return boxes


def centre_targets(boxes_per_image, image_shape, stride: int = 2) -> torch.Tensor:
    """Training targets of :class:`CentreNet` for a list of per-image boxes.

    Channel 0 is the heatmap: at every cell the largest Gaussian bump of the lesions'
    centres (standard deviation a quarter of the box's smaller side in cells, at least half
    a cell), exactly 1 at each centre's cell. Channels 1-4 are the log width, log height
    and the in-cell offsets ``dx, dy`` at centre cells (0 elsewhere); channel 5 is 1 at
    centre cells, where the size and offset losses count.

    Args:
        boxes_per_image: one ``(n_i, 4)`` array of continuous ``(x1, y1, x2, y2)`` boxes
            per image (:func:`true_boxes`).
        image_shape: ``(H, W)`` in pixels.
        stride: the detector's stride.

    Returns:
        float32 ``(N, 6, H / stride, W / stride)``.
    """
    boxes_per_image = _check_boxes_per_image(boxes_per_image)
    height, width = (int(s) for s in image_shape)
    if height % stride or width % stride:
        raise ValueError(f"image_shape {image_shape} must be a multiple of the stride {stride}")
    rows, cols = height // stride, width // stride
    targets = torch.zeros(len(boxes_per_image), 6, rows, cols)
    yy, xx = torch.meshgrid(
        torch.arange(rows, dtype=torch.float64) + 0.5,
        torch.arange(cols, dtype=torch.float64) + 0.5,
        indexing="ij",
    )
    for i, boxes in enumerate(boxes_per_image):
        for x1, y1, x2, y2 in boxes:
            cx, cy = (x1 + x2) / 2 / stride, (y1 + y2) / 2 / stride
            r, c = min(int(cy), rows - 1), min(int(cx), cols - 1)
            sigma = max(0.5, min(x2 - x1, y2 - y1) / stride / 4)
            # The bump peaks at the centre cell's middle, so that cell gets exactly 1.
            bump = torch.exp(-((xx - c - 0.5) ** 2 + (yy - r - 0.5) ** 2) / (2 * sigma**2))
            targets[i, 0] = torch.maximum(targets[i, 0], bump.float())
            targets[i, 1:, r, c] = torch.tensor(
                [np.log(x2 - x1), np.log(y2 - y1), cx - c, cy - r, 1.0]
            )
    return targets


def centre_loss(outputs: torch.Tensor, targets: torch.Tensor) -> torch.Tensor:
    """CenterNet's loss per lesion: penalty-reduced focal loss on the heatmap plus L1 on
    the log size and the offsets at the centre cells (outputs ``(N, 5, h, w)``, targets
    from :func:`centre_targets`)."""
    if outputs.shape[1] != 5 or targets.shape[1] != 6 or outputs.shape[2:] != targets.shape[2:]:
        raise ValueError(
            f"outputs must be (N, 5, h, w) and targets (N, 6, h, w) on the same grid, got "
            f"{tuple(outputs.shape)} and {tuple(targets.shape)}"
        )
    p = torch.sigmoid(outputs[:, 0]).clamp(1e-4, 1 - 1e-4)
    heat, centre = targets[:, 0], targets[:, 5]
    # Lin et al. (2017)'s focal loss with alpha = 2; negatives near a centre are
    # penalized less by (1 - heat)^4, as CenterNet does.
    focal = -(
        centre * (1 - p) ** 2 * torch.log(p)
        + (1 - centre) * (1 - heat) ** 4 * p**2 * torch.log(1 - p)
    ).sum()
    geometry = F.l1_loss(outputs[:, 1:5], targets[:, 1:5], reduction="none").sum(1)
    return (focal + (geometry * centre).sum()) / centre.sum().clamp_min(1)


def train_centre_net(
    images: torch.Tensor,
    boxes_per_image,
    *,
    epochs: int,
    seed: int,
    lr: float = 3e-3,
    batch_size: int = 32,
    width: int = 24,
    stride: int = 2,
    desc: str = "detector",
):
    """Train a :class:`CentreNet` with Adam and ``bios740.training.fit``.

    Args:
        images: ``(N, C, H, W)`` float tensor; the model is trained on its device.
        boxes_per_image: one ``(n_i, 4)`` box array per image (images without lesions
            teach the network where no centre is).

    Returns:
        ``(model, history)``, the model in eval mode.
    """
    from bios740.training import fit, tensor_loader

    if not isinstance(images, torch.Tensor) or images.ndim != 4:
        raise TypeError(
            f"images must be a (N, C, H, W) tensor, got {getattr(images, 'shape', images)}"
        )
    if len(boxes_per_image) != len(images):
        raise ValueError(f"{len(images)} images but {len(boxes_per_image)} box lists")
    targets = centre_targets(boxes_per_image, images.shape[-2:], stride).to(images.device)
    torch.manual_seed(seed)
    model = CentreNet(images.shape[1], width=width, stride=stride).to(images.device)
    centres = targets[:, 5] == 1
    if centres.any():
        # Start the size and offset maps at the training lesions' mean log size and the
        # cell's middle: from 0 (1-pixel boxes) the sizes take many epochs to grow.
        with torch.no_grad():
            model.geometry.bias[:2] = targets[:, 1:3].permute(1, 0, 2, 3)[:, centres].mean(1)
            model.geometry.bias[2:] = 0.5
    history = fit(
        model,
        tensor_loader(images, targets, batch_size=batch_size, shuffle=True, seed=seed),
        centre_loss,
        torch.optim.Adam(model.parameters(), lr=lr),
        epochs=epochs,
        device=images.device,
        desc=desc,
    )
    return model.eval(), history


def detect(model: CentreNet, images: torch.Tensor, per_image: int = 10, batch_size: int = 256):
    """Detections of a :class:`CentreNet`: the heatmap's 3 x 3 local maxima, best first.

    A cell is a detection when its heat is the largest in its 3 x 3 neighbourhood (the
    max-pooling that replaces non-maximum suppression in CenterNet); the ``per_image``
    highest are decoded into boxes from the predicted offset and size.

    Returns:
        One ``(boxes, scores)`` pair per image: float64 ``(k, 4)`` continuous
        ``(x1, y1, x2, y2)`` boxes in pixels and ``(k,)`` scores in (0, 1), sorted by
        decreasing score (``k = min(per_image, cells)``).
    """
    if not isinstance(images, torch.Tensor) or images.ndim != 4:
        raise TypeError(
            f"images must be a (N, C, H, W) tensor, got {getattr(images, 'shape', images)}"
        )
    if per_image < 1:
        raise ValueError(f"per_image must be >= 1, got {per_image}")
    device = next(model.parameters()).device
    model.eval()
    with torch.no_grad():
        outputs = torch.cat(
            [
                model(images[i : i + batch_size].to(device)).cpu()
                for i in range(0, len(images), batch_size)
            ]
        ).double()
    heat = torch.sigmoid(outputs[:, 0])
    heat = heat * (heat == F.max_pool2d(heat[:, None], 3, 1, 1)[:, 0])
    columns, stride = heat.shape[-1], model.stride
    detections = []
    for i in range(len(images)):
        scores, flat = heat[i].flatten().topk(min(per_image, heat[i].numel()))
        r, c = flat // columns, flat % columns
        w, h = outputs[i, 1, r, c].exp(), outputs[i, 2, r, c].exp()
        cx, cy = (c + outputs[i, 3, r, c]) * stride, (r + outputs[i, 4, r, c]) * stride
        boxes = torch.stack([cx - w / 2, cy - h / 2, cx + w / 2, cy + h / 2], dim=1)
        detections.append((boxes.numpy(), scores.numpy()))
    return detections
