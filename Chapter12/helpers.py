"""Chapter 12 helpers: noise schedules, the closed-form forward process and 2-D toy data.

Notebook 01 writes each of these out once and checks it against ``diffusers``; later
notebooks import them from here. Timesteps follow ``diffusers``' convention: index
``t = 0 .. T-1``, where index ``t`` is step ``t + 1`` of Ho et al. (2020), so
``alpha_bar[0] = 1 - beta[0]`` is already slightly noisy and ``alpha_bar[T-1]`` is the
last, almost pure-noise step.

The file is longer than 300 lines because notebooks 04, 05 and 06 share the conditional
denoiser, its training loop with label dropout and its guided DDIM sampler, and notebook 06
and ``train_slice_denoiser.py`` share the brain-slice data, the slice U-Net's settings and
its checkpoint format (the script writes what the notebook loads).
"""

from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np
import torch
from torch import nn
from tqdm.auto import tqdm

from bios740.unet import UNet, sinusoidal_embedding

__all__ = [
    "CHECKPOINT",
    "SLICE_DENOISER",
    "ConditionalDenoiser",
    "build_slice_denoiser",
    "flair_slices",
    "load_slice_denoiser",
    "save_slice_denoiser",
    "ToyDenoiser",
    "alpha_bars",
    "cosine_betas",
    "distance_to_data",
    "linear_betas",
    "log_snr",
    "q_sample",
    "sample_conditional",
    "swiss_roll",
    "train_conditional_denoiser",
    "train_toy_denoiser",
]


def _check_steps(n_steps) -> int:
    if isinstance(n_steps, bool) or not isinstance(n_steps, (int, np.integer)):
        raise TypeError(f"n_steps must be an integer, got {type(n_steps).__name__} {n_steps!r}")
    if n_steps < 2:
        raise ValueError(f"n_steps must be at least 2, got {n_steps}")
    return int(n_steps)


def linear_betas(n_steps: int = 1000, beta_start: float = 1e-4, beta_end: float = 0.02):
    """The linear schedule of Ho et al. (2020): ``beta`` evenly spaced, float64, ``(T,)``."""
    n_steps = _check_steps(n_steps)
    if not 0 < beta_start < beta_end < 1:
        raise ValueError(f"need 0 < beta_start < beta_end < 1, got {beta_start}, {beta_end}")
    return torch.linspace(beta_start, beta_end, n_steps, dtype=torch.float64)


def cosine_betas(n_steps: int = 1000, offset: float = 0.008, max_beta: float = 0.999):
    """The cosine schedule of Nichol & Dhariwal (2021), float64, ``(T,)``.

    ``alpha_bar(s) = cos^2(pi/2 (s + offset) / (1 + offset))`` for ``s`` in [0, 1], and
    ``beta_t = 1 - alpha_bar((t+1)/T) / alpha_bar(t/T)``, clipped at ``max_beta`` so the
    last steps do not divide by almost zero.
    """
    n_steps = _check_steps(n_steps)
    if not 0 < max_beta < 1 or offset < 0:
        raise ValueError(f"need 0 < max_beta < 1 and offset >= 0, got {max_beta}, {offset}")
    s = torch.arange(n_steps + 1, dtype=torch.float64) / n_steps
    bar = torch.cos((s + offset) / (1 + offset) * math.pi / 2) ** 2
    return (1 - bar[1:] / bar[:-1]).clamp(max=max_beta)


def alpha_bars(betas: torch.Tensor) -> torch.Tensor:
    """``alpha_bar_t = prod_{s <= t} (1 - beta_s)``: the signal kept after step ``t``."""
    betas = torch.as_tensor(betas, dtype=torch.float64)
    if betas.ndim != 1 or not bool(((betas > 0) & (betas < 1)).all()):
        raise ValueError("betas must be a 1-D schedule with every value in (0, 1)")
    return torch.cumprod(1 - betas, dim=0)


def log_snr(alpha_bar: torch.Tensor) -> torch.Tensor:
    """Natural log of the signal-to-noise ratio ``alpha_bar / (1 - alpha_bar)``."""
    alpha_bar = torch.as_tensor(alpha_bar, dtype=torch.float64)
    return torch.log(alpha_bar) - torch.log1p(-alpha_bar)


def q_sample(x0: torch.Tensor, t: torch.Tensor, noise: torch.Tensor, alpha_bar: torch.Tensor):
    """Draw ``x_t ~ q(x_t | x_0) = N(sqrt(alpha_bar_t) x_0, (1 - alpha_bar_t) I)``.

    Args:
        x0: ``(N, ...)`` clean data, scaled to about unit size (images in [-1, 1]).
        t: ``(N,)`` integer timestep indices in ``0 .. T-1``.
        noise: standard normal noise shaped like ``x0``.
        alpha_bar: ``(T,)`` cumulative products from :func:`alpha_bars`.

    Returns:
        ``x_t`` in the dtype of ``x0``.
    """
    if not isinstance(x0, torch.Tensor) or not isinstance(noise, torch.Tensor):
        raise TypeError("x0 and noise must be torch tensors")
    if noise.shape != x0.shape:
        raise ValueError(
            f"noise must be shaped like x0 {tuple(x0.shape)}, got {tuple(noise.shape)}"
        )
    t = torch.as_tensor(t)
    if t.dtype.is_floating_point or t.ndim != 1 or len(t) != len(x0):
        raise ValueError(
            f"t must be a 1-D integer tensor with one step per sample ({len(x0)}), got "
            f"{t.dtype} of shape {tuple(t.shape)}"
        )
    if int(t.min()) < 0 or int(t.max()) >= len(alpha_bar):
        raise ValueError(
            f"t must lie in 0..{len(alpha_bar) - 1}, got {int(t.min())}..{int(t.max())}"
        )
    bar = torch.as_tensor(alpha_bar, device=x0.device)[t.to(x0.device)]
    bar = bar.reshape(-1, *([1] * (x0.ndim - 1)))
    return (bar.sqrt() * x0 + (1 - bar).sqrt() * noise).to(x0.dtype)


def swiss_roll(n: int, seed: int = 0, noise: float = 0.05) -> torch.Tensor:
    """``(n, 2)`` points on a 2-D Swiss roll, centred and scaled to unit variance (about 1)."""
    if isinstance(n, bool) or not isinstance(n, (int, np.integer)) or n < 1:
        raise ValueError(f"n must be a positive integer, got {n!r}")

    def roll(angle):
        return np.stack([angle * np.cos(angle), angle * np.sin(angle)], axis=1)

    # Scale by the distribution's own moments (from a fine grid of angles), not by the
    # sample's: two samples standardized by their own means and spreads differ by a few
    # per cent in scale, which a two-sample test on this thin curve can see.
    grid = roll(1.5 * np.pi * (1 + 2 * (np.arange(100_000) + 0.5) / 100_000))
    centre, spread = grid.mean(0), grid.std()
    rng = np.random.default_rng(seed)
    points = (roll(1.5 * np.pi * (1 + 2 * rng.random(n))) - centre) / spread
    points += noise * rng.standard_normal(points.shape)
    return torch.tensor(points, dtype=torch.float32)


class ToyDenoiser(nn.Module):
    """ε-prediction for 2-D points: an MLP on the point and the embedded step (notebook 02)."""

    def __init__(self, hidden: int = 128, time_dim: int = 32):
        super().__init__()
        self.time_dim = time_dim
        self.net = nn.Sequential(
            nn.Linear(2 + time_dim, hidden), nn.SiLU(),
            nn.Linear(hidden, hidden), nn.SiLU(),
            nn.Linear(hidden, hidden), nn.SiLU(),
            nn.Linear(hidden, 2),
        )  # fmt: skip

    def forward(self, x: torch.Tensor, t: torch.Tensor) -> torch.Tensor:
        if x.ndim != 2 or x.shape[1] != 2:
            raise ValueError(f"x must be (N, 2) points, got {tuple(x.shape)}")
        return self.net(torch.cat([x, sinusoidal_embedding(t, self.time_dim)], dim=1))


def _take_step(loss, optimizer, schedule, losses: list[float]) -> None:
    """One optimizer and schedule step of the training loops below; record the loss."""
    optimizer.zero_grad()
    loss.backward()
    optimizer.step()
    schedule.step()
    losses.append(loss.item())


def train_toy_denoiser(
    data: torch.Tensor,
    alpha_bar: torch.Tensor,
    train_steps: int = 2500,
    batch_size: int = 512,
    hidden: int = 128,
    lr: float = 2e-3,
    seed: int = 0,
) -> tuple[ToyDenoiser, list[float]]:
    """Train a :class:`ToyDenoiser` with the simple ε-loss, as notebook 02 does step by step.

    Args:
        data: ``(N, 2)`` training points on the device to train on.
        alpha_bar: ``(T,)`` schedule from :func:`alpha_bars` (float32 is enough).
        train_steps, batch_size, hidden, lr: Adam with a cosine learning-rate decay.
        seed: seeds the network's initialization and the draws of rows, steps and noise.

    Returns:
        The model in eval mode and the loss of every step.
    """
    if not isinstance(data, torch.Tensor) or data.ndim != 2 or data.shape[1] != 2:
        raise ValueError("data must be a (N, 2) tensor of points")
    device = data.device
    torch.manual_seed(seed)
    model = ToyDenoiser(hidden).to(device)
    optimizer = torch.optim.Adam(model.parameters(), lr=lr)
    schedule = torch.optim.lr_scheduler.CosineAnnealingLR(optimizer, train_steps)
    bar = torch.as_tensor(alpha_bar, dtype=torch.float32).to(device)
    generator = torch.Generator(device=device).manual_seed(seed)
    losses = []
    for _ in tqdm(range(train_steps), desc="training"):
        rows = torch.randint(0, len(data), (batch_size,), device=device, generator=generator)
        t = torch.randint(0, len(bar), (batch_size,), device=device, generator=generator)
        noise = torch.randn((batch_size, 2), device=device, generator=generator)
        loss = ((model(q_sample(data[rows], t, noise, bar), t) - noise) ** 2).mean()
        _take_step(loss, optimizer, schedule, losses)
    return model.eval(), losses


def distance_to_data(samples, reference) -> tuple[np.ndarray, np.ndarray]:
    """Nearest-neighbour distances between 2-D samples and held-out data, both ways.

    ``to_data[i]`` is how far sample ``i`` lies from the nearest reference point (small
    when samples sit on the data: a precision-like check); ``to_samples[j]`` is how far
    reference point ``j`` lies from the nearest sample (small when the samples cover the
    data: a recall-like check, which catches mode collapse). For fresh data of the same
    size both medians are the typical spacing of the data.

    Returns:
        ``(to_data, to_samples)``, arrays of lengths ``len(samples)`` and ``len(reference)``.
    """
    from scipy.spatial import cKDTree

    samples, reference = (np.asarray(a, dtype=float) for a in (samples, reference))
    for name, array in [("samples", samples), ("reference", reference)]:
        if array.ndim != 2 or array.shape[1] != 2 or len(array) == 0:
            raise ValueError(f"{name} must be a non-empty (N, 2) array, got {array.shape}")
        if not np.isfinite(array).all():
            raise ValueError(f"{name} contains NaN or infinite values (a diverged sampler?)")
    to_data = cKDTree(reference).query(samples)[0]
    to_samples = cKDTree(samples).query(reference)[0]
    return to_data, to_samples


class ConditionalDenoiser(nn.Module):
    """ε-prediction for ``dim``-dimensional points given the step and a class label.

    Label ``n_classes`` is the null label ("no class"), which classifier-free guidance
    needs (notebook 04 writes this model and its training out; notebook 05 uses these).
    """

    def __init__(self, dim: int, n_classes: int, hidden: int = 256, embedding_dim: int = 32):
        super().__init__()
        if dim < 1 or n_classes < 1:
            raise ValueError(f"need dim >= 1 and n_classes >= 1, got {dim} and {n_classes}")
        self.dim, self.n_classes, self.embedding_dim = dim, n_classes, embedding_dim
        self.label = nn.Embedding(n_classes + 1, embedding_dim)
        self.net = nn.Sequential(
            nn.Linear(dim + 2 * embedding_dim, hidden), nn.SiLU(),
            nn.Linear(hidden, hidden), nn.SiLU(),
            nn.Linear(hidden, hidden), nn.SiLU(),
            nn.Linear(hidden, dim),
        )  # fmt: skip

    def forward(self, x: torch.Tensor, t: torch.Tensor, labels: torch.Tensor) -> torch.Tensor:
        if x.ndim != 2 or x.shape[1] != self.dim:
            raise ValueError(f"x must be (N, {self.dim}) points, got {tuple(x.shape)}")
        if labels.shape != (len(x),) or int(labels.min()) < 0 or int(labels.max()) > self.n_classes:
            raise ValueError(
                f"labels must be ({len(x)},) integers in 0..{self.n_classes} "
                f"({self.n_classes} is the null label)"
            )
        steps = sinusoidal_embedding(t, self.embedding_dim)
        return self.net(torch.cat([x, steps, self.label(labels)], dim=1))


def train_conditional_denoiser(
    points: torch.Tensor,
    labels: torch.Tensor,
    alpha_bar: torch.Tensor,
    n_classes: int,
    train_steps: int = 4000,
    batch_size: int = 128,
    hidden: int = 256,
    lr: float = 1e-3,
    label_dropout: float = 0.1,
    seed: int = 0,
    model: nn.Module | None = None,
) -> tuple[nn.Module, list[float]]:
    """Train a conditional ε-predictor with the ε-loss and label dropout.

    Each drawn label is replaced by the null label with probability ``label_dropout``,
    so one network learns the conditional and the unconditional prediction. Adam with a
    cosine learning-rate decay; ``seed`` fixes the initialization and every draw.

    Args:
        points: ``(N, dim)`` points for a new :class:`ConditionalDenoiser`, or ``(N, ...)``
            data of any shape for a given ``model``, e.g. ``(N, 1, 32, 32)`` images for a
            class-conditional :class:`bios740.unet.UNet` (notebook 06).
        model: train this network (called ``model(x, t, labels)``) instead of a new
            :class:`ConditionalDenoiser`; it must have an ``n_classes`` attribute.

    Returns:
        The model in eval mode and the loss of every step.
    """
    if not isinstance(points, torch.Tensor) or points.ndim < 2:
        raise ValueError("points must be an (N, dim) tensor, or (N, ...) data for a given model")
    if model is None and points.ndim != 2:
        raise ValueError(f"points must be (N, dim) without a model, got {tuple(points.shape)}")
    if model is not None and getattr(model, "n_classes", None) != n_classes:
        raise ValueError(f"model must be built with n_classes={n_classes} (its null label)")
    if not isinstance(labels, torch.Tensor) or labels.shape != (len(points),):
        raise ValueError(f"labels must be a ({len(points)},) tensor of class indices")
    if not 0 <= label_dropout < 1:
        raise ValueError(f"label_dropout must be in [0, 1), got {label_dropout}")
    device = points.device
    torch.manual_seed(seed)
    if model is None:
        model = ConditionalDenoiser(points.shape[1], n_classes, hidden)
    model = model.to(device).train()
    optimizer = torch.optim.Adam(model.parameters(), lr=lr)
    schedule = torch.optim.lr_scheduler.CosineAnnealingLR(optimizer, train_steps)
    bar = torch.as_tensor(alpha_bar, dtype=torch.float32).to(device)
    generator = torch.Generator(device=device).manual_seed(seed)
    labels = labels.to(device)
    losses = []
    for _ in tqdm(range(train_steps), desc="training"):
        rows = torch.randint(0, len(points), (batch_size,), device=device, generator=generator)
        t = torch.randint(0, len(bar), (batch_size,), device=device, generator=generator)
        noise = torch.randn((batch_size, *points.shape[1:]), device=device, generator=generator)
        dropped = torch.rand(batch_size, device=device, generator=generator) < label_dropout
        condition = torch.where(dropped, torch.full_like(labels[rows], n_classes), labels[rows])
        loss = ((model(q_sample(points[rows], t, noise, bar), t, condition) - noise) ** 2).mean()
        _take_step(loss, optimizer, schedule, losses)
    return model.eval(), losses


@torch.no_grad()
def sample_conditional(
    model: ConditionalDenoiser,
    labels,
    alpha_bar: torch.Tensor,
    sampling_steps: int = 50,
    guidance: float = 0.0,
    seed: int = 0,
    sample_shape: tuple[int, ...] | None = None,
    clip_sample: bool = False,
) -> torch.Tensor:
    """One sample per label with DDIM (η = 0, ``diffusers.DDIMScheduler``) and guidance ``w``.

    ``guidance = 0`` samples the conditional model, ``-1`` the unconditional one.
    ``sample_shape`` is the shape of one sample (default ``(model.dim,)``; e.g.
    ``(1, 32, 32)`` for the slice U-Net). Returns ``(len(labels), *sample_shape)`` on the
    model's device. ``clip_sample`` clips each step's predicted clean sample to [-1, 1]
    (for images scaled to that range: near ``t = T`` the prediction divides by
    ``sqrt(alpha_bar_t)``, almost zero under the cosine schedule, and would explode).
    """
    from diffusers import DDIMScheduler

    device = next(model.parameters()).device
    labels = torch.as_tensor(np.asarray(labels), dtype=torch.long, device=device)
    if labels.ndim != 1 or len(labels) == 0:
        raise ValueError("labels must be a non-empty 1-D sequence of class indices")
    scheduler = DDIMScheduler(
        num_train_timesteps=len(alpha_bar),
        clip_sample=bool(clip_sample),
        set_alpha_to_one=False,
        timestep_spacing="trailing",
    )
    scheduler.alphas_cumprod = torch.as_tensor(alpha_bar, dtype=torch.float64).cpu()
    scheduler.final_alpha_cumprod = scheduler.alphas_cumprod[0]
    scheduler.set_timesteps(_check_steps(sampling_steps))
    generator = torch.Generator(device=device).manual_seed(seed)
    shape = tuple(sample_shape) if sample_shape is not None else (model.dim,)
    x = torch.randn((len(labels), *shape), device=device, generator=generator)
    null = torch.full_like(labels, model.n_classes)
    for t in tqdm(scheduler.timesteps, desc="sampling", leave=False):
        steps = torch.full((len(labels),), int(t), device=device)
        epsilon = model(x, steps, labels)
        if guidance != 0:
            unconditional = model(x, steps, null)
            epsilon = unconditional + (1 + guidance) * (epsilon - unconditional)
        x = scheduler.step(epsilon, t, x).prev_sample.float()
    return x


# The slice denoiser of notebook 06 and train_slice_denoiser.py: a class-conditional U-Net
# (label 1 lesion, 0 no lesion, 2 the null label) on 32x32 FLAIR slices, cosine schedule.
SLICE_DENOISER = {"base_channels": 16, "depth": 2, "time_embedding_dim": 64, "n_classes": 2}
SLICE_DATA = {"n_subjects": 200, "slices_per_subject": 20, "size": 32, "seed": 0}
CHECKPOINT = Path(__file__).with_name("slice_denoiser.pt")
FLAIR_CEILING = 2.0  # FLAIR intensities 0..2 map to -1..1; lesions lie at about 0.8-2.0


def flair_slices(fractions=(0.6, 0.2, 0.2)) -> dict[str, dict[str, torch.Tensor]]:
    """The FLAIR brain slices of notebook 06, scaled to [-1, 1] and split by subject.

    Always the same data (:data:`SLICE_DATA`, generation seed 0), because the checkpoint
    was trained on its ``train`` part: a notebook's ``SEED`` changes sampling and
    training draws, never which slices are held out.

    Returns:
        ``{"train"|"val"|"test": {"images": (N, 1, 32, 32), "labels": (N,), "subjects": (N,)}}``.
    """
    from bios740.datasets.brain_slices import make_brain_slices, split_by_subject

    parts = split_by_subject(make_brain_slices(**SLICE_DATA), fractions, seed=0)
    out = {}
    for name, part in zip(("train", "val", "test"), parts, strict=True):
        flair = np.clip(part.channel("FLAIR"), 0, FLAIR_CEILING) / FLAIR_CEILING * 2 - 1
        out[name] = {
            "images": torch.from_numpy(flair.astype(np.float32))[:, None],
            "labels": torch.from_numpy(part.labels),
            "subjects": torch.from_numpy(part.subject_ids),
        }
    return out


def build_slice_denoiser() -> UNet:
    """A fresh, untrained U-Net with the settings of :data:`SLICE_DENOISER`."""
    return UNet(1, 1, **SLICE_DENOISER)


def save_slice_denoiser(model: UNet, path, info: dict) -> Path:
    """Store ``model``'s weights as float16 (half the size) with its settings and ``info``."""
    if not isinstance(model, UNet):
        raise TypeError(f"model must be a bios740.unet.UNet, got {type(model).__name__}")
    state = {name: value.detach().cpu().half() for name, value in model.state_dict().items()}
    info = json.loads(json.dumps(dict(info), default=str))  # plain types: weights_only loads
    path = Path(path)
    torch.save({"settings": dict(SLICE_DENOISER), "state": state, "info": info}, path)
    return path


def load_slice_denoiser(path=CHECKPOINT) -> tuple[UNet, dict]:
    """Load a checkpoint written by :func:`save_slice_denoiser` (float32, eval mode).

    Raises:
        FileNotFoundError: no file at ``path`` (the message says how to make it).
        ValueError: the file was written for other settings than :data:`SLICE_DENOISER`.
    """
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(
            f"no slice denoiser at {path}; make it with `python train_slice_denoiser.py` "
            "in Chapter12 (about 25 minutes on a 2-core CPU), or let notebook 06 train briefly"
        )
    stored = torch.load(path, map_location="cpu", weights_only=True)
    if not isinstance(stored, dict) or stored.get("settings") != SLICE_DENOISER:
        raise ValueError(
            f"{path} was not written for the settings {SLICE_DENOISER}; rerun "
            "train_slice_denoiser.py to rebuild it"
        )
    model = build_slice_denoiser()
    model.load_state_dict({name: value.float() for name, value in stored["state"].items()})
    return model.eval(), stored["info"]
