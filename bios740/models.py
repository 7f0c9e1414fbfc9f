"""Small reference networks shared by several chapters, and the lesion classifier's recipe.

:class:`SmallCNN` is the lesion classifier of chapter 3 (notebooks 03 to 05), whose last
convolutional block chapter 9 explains with Grad-CAM (:mod:`bios740.interpret`) and turns
into boxes. Both chapters train it the same way:

* :func:`augment`: label-preserving flips, shifts and scanner gains for
  ``bios740.training.fit(transform=...)``;
* :func:`scale_channels`: per-channel scaling by the training images' standard deviation;
* :func:`train_lesion_cnn`: Adam, a one-cycle schedule, cross-entropy and augmentation;
* :func:`lesion_probability`: the probability of "lesion", optionally temperature-scaled.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from bios740.training import History, fit, predict, tensor_loader

__all__ = ["SmallCNN", "augment", "lesion_probability", "scale_channels", "train_lesion_cnn"]


class SmallCNN(nn.Module):
    """A small CNN for detection in images: four 3 x 3 conv blocks and a global max pool.

    Each block is convolution, batch norm and ReLU. Two 2 x 2 max poolings leave a feature
    map of a quarter of the input size (12 x 12 for 48 x 48 inputs); the last block
    (:attr:`last_conv`) is the one Grad-CAM looks at. Global max pooling suits detection:
    one strong local response (a lesion) anywhere in the image is enough.

    Args:
        in_channels: channels of the input images (e.g. 2 for T1 and FLAIR).
        n_classes: number of output logits.
        width: channels of the first block; later blocks have 2x and 4x as many.

    Raises:
        ValueError: a size argument is not a positive integer.
    """

    def __init__(self, in_channels: int = 1, n_classes: int = 2, width: int = 8):
        super().__init__()
        for name, value in [
            ("in_channels", in_channels),
            ("n_classes", n_classes),
            ("width", width),
        ]:
            if isinstance(value, bool) or not isinstance(value, int) or value < 1:
                raise ValueError(f"{name} must be a positive integer, got {value!r}")

        def block(c_in, c_out):
            return nn.Sequential(
                nn.Conv2d(c_in, c_out, 3, padding=1, bias=False),
                nn.BatchNorm2d(c_out),
                nn.ReLU(inplace=True),
            )

        self.in_channels = in_channels
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

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if x.ndim != 4 or x.shape[1] != self.in_channels:
            raise ValueError(
                f"SmallCNN expects images (N, {self.in_channels}, H, W), got {tuple(x.shape)}"
            )
        features = self.features(x)
        return self.head(torch.amax(features, dim=(2, 3)))


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
