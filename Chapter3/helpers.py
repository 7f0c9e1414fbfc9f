"""Reusable code for Chapter 3 (convolutional networks).

* :func:`conv2d_loops` and :func:`conv2d_unfold`: 2-D convolution (cross-correlation, as in
  ``nn.Conv2d``) written out by hand (notebook 01, homework 3).
* :func:`augment`: label-preserving augmentation of brain slices for
  ``bios740.training.fit(transform=...)``.
* :func:`scale_channels`, :func:`train_lesion_cnn`, :func:`lesion_probability`: the recipe
  of notebooks 03 to 05 (per-channel scaling, ``bios740.models.SmallCNN`` trained with
  ``bios740.training.fit``, Adam and a one-cycle schedule, augmentation), and the
  probability of "lesion", optionally temperature-scaled.
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
from torch import nn

from bios740.models import SmallCNN
from bios740.stats import bootstrap_samples
from bios740.training import History, fit, predict, tensor_loader

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


def augment(images: torch.Tensor, generator: torch.Generator, max_shift: int = 3, gain=0.1):
    """Random left-right flips, shifts and scanner gains, each drawn per image.

    All three keep the label: a lesion stays a lesion when the slice is mirrored (the brain
    is nearly symmetric), moved a few pixels (the border is filled with background, not
    wrapped around), or scanned with a gain ``1 +- gain``. The gain multiplies the
    intensities, so pass images scaled without centring (background 0), e.g.
    ``x / x_train.std()``, for it to act as a scanner gain.

    Args:
        images: ``(N, C, H, W)`` batch.
        generator: a seeded ``torch.Generator`` (CPU), so that runs repeat.
        max_shift: largest shift in pixels along each axis.
        gain: largest relative change of the intensity.
    """
    if not isinstance(images, torch.Tensor) or images.ndim != 4:
        raise ValueError(
            f"images must be a (N, C, H, W) tensor, got {getattr(images, 'shape', images)}"
        )
    n, _, height, width = images.shape
    device = images.device
    flip = (torch.rand(n, generator=generator) < 0.5).to(device).view(n, 1, 1, 1)
    images = torch.where(flip, images.flip(-1), images)
    if max_shift > 0:
        padded = F.pad(images, (max_shift,) * 4)
        offsets = torch.randint(0, 2 * max_shift + 1, (n, 2), generator=generator).tolist()
        images = torch.stack(
            [padded[i, :, r : r + height, c : c + width] for i, (r, c) in enumerate(offsets)]
        )
    scale = 1.0 + gain * (2 * torch.rand(n, 1, 1, 1, generator=generator) - 1)
    return images * scale.to(device)


def scale_channels(x_train: torch.Tensor, *others: torch.Tensor):
    """Divide every channel by its standard deviation on the training images.

    No centring: the background stays 0 and a scanner gain stays a multiplication (see
    :func:`augment`). Returns the scaled training images followed by the scaled ``others``.
    """
    if not isinstance(x_train, torch.Tensor) or x_train.ndim != 4:
        raise ValueError("x_train must be a (N, C, H, W) tensor")
    scale = x_train.std(dim=(0, 2, 3), keepdim=True).clamp_min(1e-8)
    return tuple(x / scale for x in (x_train, *others))


def train_lesion_cnn(
    x_train: torch.Tensor,
    y_train: torch.Tensor,
    *,
    epochs: int,
    seed: int,
    width: int = 8,
    n_classes: int = 2,
    lr: float = 3e-3,
    batch_size: int = 64,
    augment_data: bool = True,
    validation: tuple[torch.Tensor, torch.Tensor] | None = None,
    metrics=None,
    model: nn.Module | None = None,
    parameters=None,
    desc: str = "training",
    channels_last: bool = False,
) -> tuple[nn.Module, History]:
    """Train a lesion classifier with ``bios740.training.fit``; return it and its history.

    Adam with a one-cycle learning-rate schedule (stepped per batch), cross-entropy, and
    :func:`augment` on each training batch. By default a fresh
    ``SmallCNN(in_channels, n_classes, width)`` seeded from ``seed``; pass ``model`` (and optionally
    the ``parameters`` to train, e.g. only the head) to continue from a pretrained one.
    The model is on the device of ``x_train`` when it returns. ``channels_last`` stores
    the weights channels-last (NHWC), which makes this CNN's convolutions about 30 %
    faster on a CPU; the numbers then differ from NCHW in the last bits, which training
    amplifies, so a notebook's quoted ranges belong to one choice.
    """
    if len(x_train) != len(y_train):
        raise ValueError(f"{len(x_train)} images but {len(y_train)} labels")
    torch.manual_seed(seed)
    if model is None:
        model = SmallCNN(x_train.shape[1], n_classes, width=width)
    model = model.to(x_train.device)
    if channels_last:
        model = model.to(memory_format=torch.channels_last)
    optimizer = torch.optim.Adam(model.parameters() if parameters is None else parameters, lr=lr)
    loader = tensor_loader(x_train, y_train, batch_size=batch_size, shuffle=True, seed=seed)
    schedule = torch.optim.lr_scheduler.OneCycleLR(
        optimizer, max_lr=lr, total_steps=epochs * len(loader)
    )
    generator = torch.Generator().manual_seed(seed)
    val_loader = None
    if validation is not None:
        val_loader = tensor_loader(*validation, batch_size=512)
    history = fit(
        model,
        loader,
        nn.CrossEntropyLoss(),
        optimizer,
        epochs=epochs,
        val_loader=val_loader,
        metrics=metrics,
        scheduler=schedule,
        scheduler_step="batch",
        transform=(lambda x: augment(x, generator)) if augment_data else None,
        desc=desc,
    )
    return model, history


def lesion_probability(model: nn.Module, images: torch.Tensor, temperature: float = 1.0):
    """Probability of class 1 ("lesion") for each image, as a NumPy array ``(N,)``.

    Runs ``model`` in eval mode (``bios740.training.predict``) and applies a softmax to the
    logits divided by ``temperature`` (1 leaves them as they are).
    """
    if temperature <= 0:
        raise ValueError(f"temperature must be positive, got {temperature}")
    loader = tensor_loader(images, torch.zeros(len(images), dtype=torch.long), batch_size=512)
    logits, _ = predict(model, loader)
    return torch.softmax(logits / temperature, dim=1)[:, 1].numpy()


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
