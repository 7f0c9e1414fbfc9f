"""Image-quality metrics written out: PSNR and SSIM, one value per image.

Both compare a reconstruction with a reference image of the same size. Returned per
image (shape ``(N,)``) so that a notebook can put an interval over test subjects around
the mean; ``tests/test_image_metrics.py`` checks them against torchmetrics.

* **PSNR** (peak signal-to-noise ratio) is ``10 log10(R^2 / MSE)`` in decibels, with ``R``
  the data range (largest minus smallest possible value). It is a log-transformed mean
  squared error: it rewards blur that sits close to the truth on average.
* **SSIM** (structural similarity; Wang et al., 2004) compares local means, variances and
  the covariance in a Gaussian window (11 x 11, sigma 1.5) and averages the map over the
  image. It rewards matching local structure (edges, texture) more than PSNR does, though
  it too can prefer a smooth answer to a sharp but misplaced one.

Typical use::

    from bios740.image_metrics import psnr, ssim

    scores = psnr(outputs, targets, data_range=1.0)  # (N,) in dB
    similarity = ssim(outputs, targets, data_range=1.0)  # (N,), 1 = identical
"""

from __future__ import annotations

import torch
import torch.nn.functional as F

__all__ = ["psnr", "ssim", "gaussian_window"]


def _check_pair(predictions, targets, data_range) -> None:
    for name, value in [("predictions", predictions), ("targets", targets)]:
        if not isinstance(value, torch.Tensor):
            raise TypeError(f"{name} must be a torch.Tensor, got {type(value).__name__}")
        if value.ndim != 4:
            raise ValueError(
                f"{name} must be (N, C, H, W), got {tuple(value.shape)}; "
                "add a channel axis with images[:, None]"
            )
    if predictions.shape != targets.shape:
        raise ValueError(
            f"predictions {tuple(predictions.shape)} and targets {tuple(targets.shape)} "
            "must have the same shape"
        )
    if isinstance(data_range, bool) or not isinstance(data_range, (int, float)) or data_range <= 0:
        raise ValueError(
            f"data_range must be a positive number (max - min of the intensity scale), got {data_range!r}"
        )


def psnr(predictions: torch.Tensor, targets: torch.Tensor, data_range: float) -> torch.Tensor:
    """Peak signal-to-noise ratio of each image, in dB.

    Args:
        predictions, targets: ``(N, C, H, W)`` images on the same intensity scale.
        data_range: the scale's range ``R`` (1.0 for images in [0, 1]). Fix it from the
            data set, not from each image, or images become incomparable.

    Returns:
        float64 ``(N,)``: ``10 log10(R^2 / MSE)`` per image (``inf`` where they are equal).

    Raises:
        TypeError, ValueError: inputs that are not matching 4-D tensors, or a bad range.
    """
    _check_pair(predictions, targets, data_range)
    errors = (predictions.double() - targets.double()) ** 2
    mse = errors.flatten(1).mean(dim=1)
    return 10.0 * torch.log10(data_range**2 / mse)


def gaussian_window(size: int = 11, sigma: float = 1.5) -> torch.Tensor:
    """A normalized 2-D Gaussian window ``(size, size)`` (the outer product of 1-D ones)."""
    if isinstance(size, bool) or not isinstance(size, int) or size < 1 or size % 2 == 0:
        raise ValueError(f"size must be a positive odd integer, got {size!r}")
    if sigma <= 0:
        raise ValueError(f"sigma must be positive, got {sigma!r}")
    offsets = torch.arange(size, dtype=torch.float64) - (size - 1) / 2
    profile = torch.exp(-(offsets**2) / (2 * sigma**2))
    profile = profile / profile.sum()
    return profile[:, None] * profile[None, :]


def ssim(
    predictions: torch.Tensor,
    targets: torch.Tensor,
    data_range: float,
    window_size: int = 11,
    sigma: float = 1.5,
    k1: float = 0.01,
    k2: float = 0.03,
    padding: str = "reflect",
    return_map: bool = False,
):
    """Structural similarity index of each image (Wang et al., 2004).

    With Gaussian-weighted local means ``mu``, variances ``s^2`` and covariance ``s_xy``,
    ``SSIM = (2 mu_x mu_y + C1)(2 s_xy + C2) / ((mu_x^2 + mu_y^2 + C1)(s_x^2 + s_y^2 + C2))``,
    ``C1 = (k1 R)^2``, ``C2 = (k2 R)^2``, evaluated at every pixel and averaged over pixels
    and channels. With ``padding="reflect"`` (torchmetrics' convention) the image is
    mirrored at its border so that the map covers every pixel; with ``"valid"`` (Wang et
    al.'s and scikit-image's) only pixels where the whole window fits count. On small
    images the two differ by a few hundredths: say which one a table uses.

    Args:
        predictions, targets: ``(N, C, H, W)`` images, at least ``window_size`` pixels
            high and wide.
        data_range: the intensity range ``R``.
        window_size, sigma: the Gaussian window.
        k1, k2: the stabilizing constants of the paper.
        padding: ``"reflect"`` or ``"valid"`` (see above).
        return_map: also return the SSIM map, ``(N, C, H, W)`` with reflect padding,
            ``(N, C, H - w + 1, W - w + 1)`` with valid.

    Returns:
        float64 ``(N,)`` SSIM per image (1 for identical images), and the map if asked.

    Raises:
        TypeError, ValueError: bad inputs, or images smaller than the window.
    """
    _check_pair(predictions, targets, data_range)
    window = gaussian_window(window_size, sigma).to(predictions.device)
    if min(predictions.shape[-2:]) < window_size:
        raise ValueError(
            f"images of {tuple(predictions.shape[-2:])} px are smaller than the "
            f"{window_size} x {window_size} window; pass a smaller window_size"
        )
    if padding not in ("reflect", "valid"):
        raise ValueError(f"padding must be 'reflect' or 'valid', got {padding!r}")
    channels = predictions.shape[1]
    kernel = window.expand(channels, 1, window_size, window_size)
    x, y = predictions.double(), targets.double()
    if padding == "reflect":
        half = window_size // 2
        x = F.pad(x, (half, half, half, half), mode="reflect")
        y = F.pad(y, (half, half, half, half), mode="reflect")

    def local_mean(image):
        return F.conv2d(image, kernel, groups=channels)

    mu_x, mu_y = local_mean(x), local_mean(y)
    var_x = local_mean(x * x) - mu_x**2
    var_y = local_mean(y * y) - mu_y**2
    cov_xy = local_mean(x * y) - mu_x * mu_y
    c1, c2 = (k1 * data_range) ** 2, (k2 * data_range) ** 2
    similarity = ((2 * mu_x * mu_y + c1) * (2 * cov_xy + c2)) / (
        (mu_x**2 + mu_y**2 + c1) * (var_x + var_y + c2)
    )
    per_image = similarity.flatten(1).mean(dim=1)
    return (per_image, similarity) if return_map else per_image
