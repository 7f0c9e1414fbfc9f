"""A small U-Net for image-to-image models, with an optional time-embedding input.

Ronneberger et al. (2015) built the U-Net for segmentation: an encoder that halves the
resolution and doubles the channels at each level, a decoder that undoes it, and skip
connections that hand each decoder level the encoder's features of the same resolution,
so that fine detail need not squeeze through the bottleneck. Chapter 6 uses it as the
pix2pix generator (Isola et al., 2017); chapter 12 uses it as the diffusion denoiser, which
also needs to know the noise level: pass ``time_embedding_dim`` and call ``model(x, t)``.
Each convolution block then adds a learned projection of a sinusoidal embedding of ``t``
to its features (as in Ho et al., 2020). Pass ``n_classes`` as well for a class-conditional
denoiser: a learned embedding of the label is added to the time features, and label
``n_classes`` is the null label ("no class") that classifier-free guidance needs (Ho &
Salimans, 2022).

Typical use::

    from bios740.unet import UNet

    generator = UNet(in_channels=1, out_channels=1, base_channels=16, depth=2)
    denoiser = UNet(1, 1, time_embedding_dim=64)
    noise_prediction = denoiser(noisy_images, timesteps)  # timesteps: (N,) ints or floats
    conditional = UNet(1, 1, time_embedding_dim=64, n_classes=2)
    noise_prediction = conditional(noisy_images, timesteps, labels)  # labels in 0..2
"""

from __future__ import annotations

import math

import torch
from torch import nn

__all__ = ["UNet", "ConvBlock", "sinusoidal_embedding"]


def sinusoidal_embedding(t: torch.Tensor, dim: int, max_period: float = 10_000.0) -> torch.Tensor:
    """Embed scalar times ``t`` as sines and cosines of geometrically spaced frequencies.

    The transformer's positional encoding (Vaswani et al., 2017) applied to a time or
    noise level: nearby times get similar vectors and every scale of ``t`` is represented.

    Args:
        t: ``(N,)`` times (integer steps or floats).
        dim: embedding size, a positive even number.
        max_period: the longest wavelength.

    Returns:
        float32 ``(N, dim)``: ``[cos(t w_k), sin(t w_k)]`` with ``w_k = max_period^(-k / (dim/2))``.

    Raises:
        TypeError: ``t`` is not a tensor.
        ValueError: ``t`` is not 1-D, or ``dim`` is not a positive even integer.
    """
    if not isinstance(t, torch.Tensor):
        raise TypeError(f"t must be a torch.Tensor of shape (N,), got {type(t).__name__}")
    if t.ndim != 1:
        raise ValueError(
            f"t must have shape (N,), got {tuple(t.shape)}; flatten it with t.view(-1)"
        )
    if isinstance(dim, bool) or not isinstance(dim, int) or dim <= 0 or dim % 2:
        raise ValueError(f"dim must be a positive even integer, got {dim!r}")
    half = dim // 2
    exponents = torch.arange(half, device=t.device, dtype=torch.float32) / half
    frequencies = torch.exp(-math.log(max_period) * exponents)
    angles = t.to(torch.float32)[:, None] * frequencies[None, :]
    return torch.cat([torch.cos(angles), torch.sin(angles)], dim=1)


def _groups(channels: int) -> int:
    """The largest of 8, 4, 2, 1 groups that divides ``channels`` (GroupNorm)."""
    return next(g for g in (8, 4, 2, 1) if channels % g == 0)


class ConvBlock(nn.Module):
    """Two 3x3 convolutions with group norm and SiLU, and a residual connection.

    Group norm instead of batch norm: its output does not depend on the other images in
    the batch, which matters for GAN generators and diffusion models that see batches of
    very different images (and for batches of one).

    Args:
        in_channels, out_channels: feature channels in and out.
        time_dim: size of the time embedding added after the first convolution, or None.
    """

    def __init__(self, in_channels: int, out_channels: int, time_dim: int | None = None):
        super().__init__()
        self.conv1 = nn.Conv2d(in_channels, out_channels, 3, padding=1)
        self.norm1 = nn.GroupNorm(_groups(out_channels), out_channels)
        self.conv2 = nn.Conv2d(out_channels, out_channels, 3, padding=1)
        self.norm2 = nn.GroupNorm(_groups(out_channels), out_channels)
        self.activation = nn.SiLU()
        self.time_projection = nn.Linear(time_dim, out_channels) if time_dim else None
        self.skip = (
            nn.Identity()
            if in_channels == out_channels
            else nn.Conv2d(in_channels, out_channels, 1)
        )

    def forward(self, x: torch.Tensor, time_features: torch.Tensor | None = None) -> torch.Tensor:
        h = self.activation(self.norm1(self.conv1(x)))
        if self.time_projection is not None:
            if time_features is None:
                raise ValueError("this block was built with a time embedding: pass t")
            h = h + self.time_projection(time_features)[:, :, None, None]
        h = self.activation(self.norm2(self.conv2(h)))
        return h + self.skip(x)


class UNet(nn.Module):
    """A small U-Net: ``depth`` down-sampling levels, skip connections, optional time input.

    Channels are ``base_channels * 2**level``; each level halves the height and width, so
    both must be divisible by ``2**depth``. The output has the input's height and width and
    no final activation (add a ``tanh``/``sigmoid`` or a loss on logits as the task needs).

    Args:
        in_channels: channels of the input image (e.g. 1, or 2 for image + condition).
        out_channels: channels of the output.
        base_channels: channels at full resolution.
        depth: number of down-sampling steps (1 to 5).
        time_embedding_dim: if given, ``forward`` needs ``t`` and every block is told the
            embedded time (diffusion models); if None, ``forward(x)`` only.
        n_classes: if given (needs ``time_embedding_dim``), ``forward`` also needs
            ``labels`` in ``0 .. n_classes``, the last being the null label.

    Raises:
        ValueError: on channel counts or a depth that cannot work.
    """

    def __init__(
        self,
        in_channels: int = 1,
        out_channels: int = 1,
        base_channels: int = 16,
        depth: int = 2,
        time_embedding_dim: int | None = None,
        n_classes: int | None = None,
    ):
        super().__init__()
        for name, value in [
            ("in_channels", in_channels),
            ("out_channels", out_channels),
            ("base_channels", base_channels),
        ]:
            if isinstance(value, bool) or not isinstance(value, int) or value < 1:
                raise ValueError(f"{name} must be a positive integer, got {value!r}")
        if isinstance(depth, bool) or not isinstance(depth, int) or not 1 <= depth <= 5:
            raise ValueError(f"depth must be an integer from 1 to 5, got {depth!r}")
        if time_embedding_dim is not None and (
            not isinstance(time_embedding_dim, int)
            or time_embedding_dim <= 0
            or time_embedding_dim % 2
        ):
            raise ValueError(
                f"time_embedding_dim must be a positive even integer or None, got {time_embedding_dim!r}"
            )
        if n_classes is not None and (
            isinstance(n_classes, bool) or not isinstance(n_classes, int) or n_classes < 1
        ):
            raise ValueError(f"n_classes must be a positive integer or None, got {n_classes!r}")
        if n_classes is not None and time_embedding_dim is None:
            raise ValueError("n_classes needs a time embedding: pass time_embedding_dim too")
        self.depth = depth
        self.time_embedding_dim = time_embedding_dim
        self.n_classes = n_classes
        time_dim = None
        if time_embedding_dim:
            time_dim = 4 * base_channels
            self.time_mlp = nn.Sequential(
                nn.Linear(time_embedding_dim, time_dim), nn.SiLU(), nn.Linear(time_dim, time_dim)
            )
        if n_classes:
            self.label_embedding = nn.Embedding(n_classes + 1, time_dim)
        widths = [base_channels * 2**level for level in range(depth + 1)]
        self.stem = nn.Conv2d(in_channels, widths[0], 3, padding=1)
        self.encoder = nn.ModuleList(
            [ConvBlock(widths[0], widths[0], time_dim)]
            + [
                ConvBlock(widths[level - 1], widths[level], time_dim)
                for level in range(1, depth + 1)
            ]
        )
        self.downsample = nn.ModuleList(
            [
                nn.Conv2d(widths[level], widths[level], 4, stride=2, padding=1)
                for level in range(depth)
            ]
        )
        self.upsample = nn.ModuleList(
            [
                nn.ConvTranspose2d(widths[level + 1], widths[level], 4, stride=2, padding=1)
                for level in range(depth)
            ]
        )
        self.decoder = nn.ModuleList(
            [ConvBlock(2 * widths[level], widths[level], time_dim) for level in range(depth)]
        )
        self.head = nn.Conv2d(widths[0], out_channels, 1)

    def forward(
        self,
        x: torch.Tensor,
        t: torch.Tensor | None = None,
        labels: torch.Tensor | None = None,
    ) -> torch.Tensor:
        """Map ``(N, in_channels, H, W)`` images (and times ``t``) to ``(N, out_channels, H, W)``.

        ``t`` is ``(N,)``, or one number for the whole batch; ``labels`` is ``(N,)``
        integers in ``0 .. n_classes`` for a model built with ``n_classes``.

        Raises:
            ValueError: wrong shape, sizes not divisible by ``2**depth``, ``t`` or
                ``labels`` missing (or given to a model built without them).
        """
        if not isinstance(x, torch.Tensor) or x.ndim != 4:
            shape = tuple(x.shape) if isinstance(x, torch.Tensor) else type(x).__name__
            raise ValueError(
                f"x must be a (N, C, H, W) tensor, got {shape}; add axes with x[:, None]"
            )
        if x.shape[1] != self.stem.in_channels:
            raise ValueError(
                f"x has {x.shape[1]} channels but the model was built for {self.stem.in_channels}"
            )
        factor = 2**self.depth
        if x.shape[2] % factor or x.shape[3] % factor:
            raise ValueError(
                f"height and width must be divisible by 2**depth = {factor}, got {tuple(x.shape[2:])}; "
                "pad or resize the images, or build the UNet with a smaller depth"
            )
        time_features = None
        if self.time_embedding_dim:
            if t is None:
                raise ValueError(
                    "this UNet has a time embedding: call model(x, t) with t of shape (N,)"
                )
            if not isinstance(t, torch.Tensor):
                t = torch.as_tensor(t, device=x.device)
            if t.ndim == 0:  # one time for the whole batch
                t = t.expand(x.shape[0])
            if t.shape != (x.shape[0],):
                raise ValueError(f"t must have shape ({x.shape[0]},), got {tuple(t.shape)}")
            embedded = sinusoidal_embedding(t, self.time_embedding_dim).to(x.dtype)
            time_features = self.time_mlp(embedded)
        elif t is not None:
            raise ValueError(
                "this UNet was built without a time embedding: pass time_embedding_dim"
            )
        if self.n_classes:
            time_features = time_features + self.label_embedding(self._check_labels(labels, x))
        elif labels is not None:
            raise ValueError("this UNet was built without classes: pass n_classes to condition")

        h = self.encoder[0](self.stem(x), time_features)
        skips = []
        for level in range(self.depth):
            skips.append(h)
            h = self.encoder[level + 1](self.downsample[level](h), time_features)
        for level in reversed(range(self.depth)):
            h = self.upsample[level](h)
            h = self.decoder[level](torch.cat([h, skips[level]], dim=1), time_features)
        return self.head(h)

    def _check_labels(self, labels, x: torch.Tensor) -> torch.Tensor:
        if labels is None:
            raise ValueError(
                f"this UNet is class-conditional: call model(x, t, labels) with labels in "
                f"0..{self.n_classes} ({self.n_classes} is the null label)"
            )
        labels = torch.as_tensor(labels, device=x.device)
        if labels.dtype.is_floating_point or labels.shape != (x.shape[0],):
            raise ValueError(
                f"labels must be ({x.shape[0]},) integers, got {labels.dtype} {tuple(labels.shape)}"
            )
        if int(labels.min()) < 0 or int(labels.max()) > self.n_classes:
            raise ValueError(
                f"labels must lie in 0..{self.n_classes} ({self.n_classes} is the null label), "
                f"got {int(labels.min())}..{int(labels.max())}"
            )
        return labels.long()
