"""Reusable code for Chapter 3 (convolutional networks).

* :func:`conv2d_loops` and :func:`conv2d_unfold`: 2-D convolution (cross-correlation, as in
  ``nn.Conv2d``) written out by hand.
* :class:`SmallCNN`: the small lesion classifier of notebooks 03 to 05.
* :func:`train_classifier`, :func:`predict_proba`, :func:`augment`: a compact training loop
  with on-the-fly augmentation.
* :func:`expected_calibration_error`, :func:`reliability_bins`: calibration (Guo et al., 2017).
* :func:`saliency_map`, :func:`grad_cam`, :func:`pointing_game`: what the network looks at
  (Simonyan et al., 2014; Selvaraju et al., 2017; Zhang et al., 2018). Chapter 9 reuses
  :func:`grad_cam`.
"""

from __future__ import annotations

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn
from tqdm.auto import tqdm

__all__ = [
    "SmallCNN",
    "augment",
    "conv2d_loops",
    "conv2d_unfold",
    "expected_calibration_error",
    "grad_cam",
    "pointing_game",
    "predict_proba",
    "reliability_bins",
    "saliency_map",
    "standardize",
    "train_classifier",
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


class SmallCNN(nn.Module):
    """A small CNN for 64 x 64 (or 28 x 28) images: four 3 x 3 conv blocks, global max pool.

    Two 2 x 2 poolings leave a feature map of a quarter of the input size (16 x 16 for
    64 x 64 inputs); the last block (:attr:`last_conv`) is the one Grad-CAM looks at. Global
    max pooling suits detection: one strong local response (a lesion) anywhere is enough.
    """

    def __init__(self, in_channels: int = 1, n_classes: int = 2, width: int = 8):
        super().__init__()

        def block(c_in, c_out):
            return nn.Sequential(
                nn.Conv2d(c_in, c_out, 3, padding=1, bias=False),
                nn.BatchNorm2d(c_out),
                nn.ReLU(inplace=True),
            )

        self.features = nn.Sequential(
            block(in_channels, width),
            nn.MaxPool2d(2),
            block(width, 2 * width),
            nn.MaxPool2d(2),
            block(2 * width, 4 * width),
            block(4 * width, 4 * width),
        )
        self.head = nn.Linear(4 * width, n_classes)

    @property
    def last_conv(self) -> nn.Module:
        """The last convolutional block, whose activations Grad-CAM weights."""
        return self.features[-1]

    def forward(self, x):
        features = self.features(x)
        return self.head(torch.amax(features, dim=(2, 3)))


def standardize(images, mean: float | None = None, std: float | None = None):
    """Scale images by a mean and standard deviation (computed from ``images`` if not given).

    Returns ``(scaled, mean, std)``; pass the training set's mean and std for the others.
    """
    if mean is None:
        mean, std = float(images.mean()), float(images.std())
    if std is None or std <= 0:
        raise ValueError("std must be positive")
    return (images - mean) / std, mean, std


def augment(images: torch.Tensor, generator: torch.Generator, max_shift: int = 4):
    """Random left-right flips, shifts of up to ``max_shift`` pixels and intensity changes.

    All three keep the label: a lesion stays a lesion when the slice is mirrored (the brain
    is nearly symmetric), moved a little, or scanned with a different gain.
    """
    n = images.shape[0]
    device = images.device
    flip = torch.rand(n, generator=generator) < 0.5
    images = torch.where(flip.to(device).view(n, 1, 1, 1), images.flip(-1), images)
    if max_shift > 0:
        shifts = torch.randint(-max_shift, max_shift + 1, (2,), generator=generator).tolist()
        images = torch.roll(images, shifts=shifts, dims=(-2, -1))
    gain = 1.0 + 0.1 * (torch.rand(n, 1, 1, 1, generator=generator) * 2 - 1)
    return images * gain.to(device)


def train_classifier(
    model: nn.Module,
    images: torch.Tensor,
    labels: torch.Tensor,
    epochs: int = 5,
    batch_size: int = 64,
    lr: float = 3e-3,
    augment_data: bool = True,
    seed: int = 0,
    progress: bool = True,
    desc: str = "training",
) -> list[float]:
    """Train ``model`` with Adam and cross-entropy; return the mean training loss per epoch.

    ``images`` and ``labels`` should already be on the model's device.
    """
    if images.shape[0] != labels.shape[0]:
        raise ValueError(f"{images.shape[0]} images but {labels.shape[0]} labels")
    if epochs < 1 or batch_size < 1:
        raise ValueError("epochs and batch_size must be positive")
    generator = torch.Generator().manual_seed(seed)
    optimizer = torch.optim.Adam(model.parameters(), lr=lr)
    schedule = torch.optim.lr_scheduler.OneCycleLR(
        optimizer, max_lr=lr, total_steps=epochs * -(-len(images) // batch_size)
    )
    losses = []
    for _ in tqdm(range(epochs), desc=desc, disable=not progress, leave=False):
        model.train()
        order = torch.randperm(len(images), generator=generator).to(images.device)
        total = 0.0
        for start in range(0, len(images), batch_size):
            batch = order[start : start + batch_size]
            x = images[batch]
            if augment_data:
                x = augment(x, generator)
            loss = F.cross_entropy(model(x), labels[batch])
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
            schedule.step()
            total += loss.item() * len(batch)
        losses.append(total / len(images))
    return losses


@torch.no_grad()
def predict_proba(model: nn.Module, images: torch.Tensor, batch_size: int = 512, temperature=1.0):
    """Class probabilities ``(N, K)`` on the CPU, in eval mode, optionally temperature-scaled."""
    model.eval()
    logits = torch.cat(
        [model(images[i : i + batch_size]) for i in range(0, len(images), batch_size)]
    )
    return torch.softmax(logits / temperature, dim=1).cpu()


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


def saliency_map(model: nn.Module, images: torch.Tensor, target_class: int = 1):
    """Vanilla gradient saliency (Simonyan et al., 2014): ``|d score / d pixel|``, max over
    channels, shape ``(N, H, W)``."""
    model.eval()
    images = images.detach().clone().requires_grad_(True)
    scores = model(images)[:, target_class]
    (gradient,) = torch.autograd.grad(scores.sum(), images)
    return gradient.abs().amax(dim=1).detach()


def grad_cam(model: nn.Module, layer: nn.Module, images: torch.Tensor, target_class: int = 1):
    """Grad-CAM (Selvaraju et al., 2017) maps ``(N, H, W)``, upsampled to the input size.

    The activations ``A_k`` of ``layer`` are weighted by the spatial mean of the gradient of
    the class score with respect to them, summed over channels ``k`` and passed through a
    ReLU. Each map is scaled to a maximum of 1 (all-zero maps stay zero).
    """
    if not isinstance(layer, nn.Module):
        raise TypeError("layer must be a module of the model, e.g. model.last_conv")
    stored = {}

    def keep(_module, _inputs, output):
        stored["activations"] = output

    handle = layer.register_forward_hook(keep)
    try:
        model.eval()
        scores = model(images)[:, target_class]
    finally:
        handle.remove()
    if "activations" not in stored:
        raise ValueError("layer was not used in the forward pass; pass a layer of this model")
    activations = stored["activations"]
    (gradients,) = torch.autograd.grad(scores.sum(), activations)
    weights = gradients.mean(dim=(2, 3), keepdim=True)
    cam = F.relu((weights * activations).sum(dim=1, keepdim=True))
    cam = F.interpolate(cam, size=images.shape[-2:], mode="bilinear", align_corners=False)[:, 0]
    peak = cam.amax(dim=(1, 2), keepdim=True)
    return (cam / peak.clamp_min(1e-12)).detach()


def pointing_game(maps, masks, tolerance: int = 1):
    """Pointing game (Zhang et al., 2018): is each map's peak on the object?

    A hit is a peak within ``tolerance`` pixels (Chebyshev distance) of a mask pixel.
    Returns a boolean array, one value per map.
    """
    maps = np.asarray(maps.cpu() if isinstance(maps, torch.Tensor) else maps)
    masks = np.asarray(masks, dtype=bool)
    if maps.shape != masks.shape or maps.ndim != 3:
        raise ValueError(f"maps and masks must both be (N, H, W), got {maps.shape}, {masks.shape}")
    if tolerance < 0:
        raise ValueError("tolerance must be >= 0")
    hits = np.zeros(len(maps), dtype=bool)
    for i, (saliency, mask) in enumerate(zip(maps, masks, strict=True)):
        row, col = np.unravel_index(np.argmax(saliency), saliency.shape)
        window = mask[
            max(0, row - tolerance) : row + tolerance + 1,
            max(0, col - tolerance) : col + tolerance + 1,
        ]
        hits[i] = window.any()
    return hits
