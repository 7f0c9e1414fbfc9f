"""Small reference networks shared by several chapters.

:class:`SmallCNN` is the lesion classifier of chapter 3 (notebooks 03 to 05), whose last
convolutional block chapter 9 explains with Grad-CAM (:mod:`bios740.interpret`).
"""

from __future__ import annotations

import torch
from torch import nn

__all__ = ["SmallCNN"]


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
