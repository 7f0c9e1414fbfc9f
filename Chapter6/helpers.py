"""Chapter 6 helpers: intervals over subjects, the 8-Gaussian ring and its GANs, small VAE/AE nets.

The lecture notebooks write out what they teach (the ELBO, the GAN losses, the pix2pix
loop); this module keeps what several notebooks reuse. It is about 400 lines, longer than
the course's usual 300, because the ring GANs of notebook 03 are stacked
(:class:`StackedLinear`): a claim about mode collapse needs several training runs, and
training them as one batched model is what fits them into a CPU notebook's budget. The
shared U-Net is :class:`bios740.unet.UNet`, the image metrics are in
:mod:`bios740.image_metrics`, and the generative-model metrics (Fréchet distance,
two-sample test) are in :mod:`bios740.generative_metrics`.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn
from tqdm.auto import tqdm

from bios740.stats import bootstrap

__all__ = [
    "bootstrap_by_subject",
    "ring_centres",
    "ring_mixture",
    "mode_coverage",
    "StackedLinear",
    "RingGAN",
    "train_ring_gan",
    "gaussian_kl",
    "MLPVAE",
    "ConvAutoencoder",
    "PatchDiscriminator",
]


def bootstrap_by_subject(
    statistic: Callable[..., float],
    arrays: Sequence[np.ndarray],
    subjects: np.ndarray,
    n_boot: int = 1000,
    seed: int = 0,
    level: float = 0.95,
) -> tuple[float, float, float]:
    """Estimate ``statistic(*arrays)`` with a percentile bootstrap interval over subjects.

    Slices of one subject are not independent, so whole subjects are resampled with
    replacement (a cluster bootstrap) and the statistic is recomputed on their slices.

    Args:
        statistic: function of the arrays (e.g. ``lambda y, s: roc_auc_score(y, s)``).
        arrays: arrays with one row per slice, all of the same length.
        subjects: ``(N,)`` subject of each row.
        n_boot: bootstrap resamples.
        seed: seed of the resampling.
        level: coverage of the interval.

    Returns:
        ``(estimate, low, high)``; resamples on which the statistic fails (e.g. one class
        only for an AUROC) are skipped.

    Raises:
        ValueError: arrays of different lengths, or fewer than two subjects.
    """
    arrays = [np.asarray(a) for a in arrays]
    subjects = np.asarray(subjects)
    if any(len(a) != len(subjects) for a in arrays):
        raise ValueError(
            f"every array needs one row per subject entry ({len(subjects)}), "
            f"got lengths {[len(a) for a in arrays]}"
        )
    if len(np.unique(subjects)) < 2:
        raise ValueError("the bootstrap over subjects needs at least two subjects")
    return tuple(
        bootstrap(statistic, *arrays, groups=subjects, n_boot=n_boot, seed=seed, level=level)
    )


def ring_centres(n_modes: int = 8, radius: float = 2.0) -> np.ndarray:
    """The ``(n_modes, 2)`` centres of Gaussians evenly spaced on a circle."""
    angles = 2 * np.pi * np.arange(n_modes) / n_modes
    return radius * np.stack([np.cos(angles), np.sin(angles)], axis=1)


def ring_mixture(
    n_samples: int, n_modes: int = 8, radius: float = 2.0, std: float = 0.05, seed: int = 0
) -> torch.Tensor:
    """Draw ``(n_samples, 2)`` points from an equal mixture of Gaussians on a ring.

    The standard test of mode collapse (Metz et al., 2017): the true distribution has
    ``n_modes`` well-separated modes, so a generator that covers only some is easy to see.
    """
    if n_samples < 1 or n_modes < 1 or std <= 0:
        raise ValueError("n_samples and n_modes must be positive and std > 0")
    rng = np.random.default_rng(seed)
    modes = rng.integers(n_modes, size=n_samples)
    points = ring_centres(n_modes, radius)[modes] + std * rng.normal(size=(n_samples, 2))
    return torch.as_tensor(points, dtype=torch.float32)


def mode_coverage(
    samples, centres: np.ndarray, std: float, n_std: float = 3.0, min_fraction: float = 0.25
) -> dict:
    """Count the modes a generator covers and the share of its samples that are good.

    A sample is *high quality* if it lies within ``n_std`` standard deviations of its
    nearest centre. A mode is *covered* if it holds at least ``min_fraction`` of the
    high-quality samples a perfect generator would put there (``n / n_modes``).

    Returns:
        dict with ``modes_covered`` (int), ``high_quality_share`` (float) and ``counts``
        (high-quality samples per mode).
    """
    samples = np.asarray(samples.detach().cpu() if torch.is_tensor(samples) else samples)
    if samples.ndim != 2 or samples.shape[1] != centres.shape[1]:
        raise ValueError(f"samples must be (N, {centres.shape[1]}), got {samples.shape}")
    distances = np.linalg.norm(samples[:, None, :] - centres[None, :, :], axis=2)
    nearest = distances.argmin(axis=1)
    good = distances.min(axis=1) < n_std * std
    counts = np.bincount(nearest[good], minlength=len(centres))
    expected = len(samples) / len(centres)
    return {
        "modes_covered": int((counts >= min_fraction * expected).sum()),
        "high_quality_share": float(good.mean()),
        "counts": counts,
    }


class StackedLinear(nn.Module):
    """``n_runs`` independent linear layers applied at once: ``(R, N, in) -> (R, N, out)``.

    Initialized like :class:`torch.nn.Linear` (uniform in ``+-1/sqrt(in)``), one weight
    matrix per run, applied with one batched matrix product (``torch.baddbmm``).
    """

    def __init__(self, n_runs: int, n_in: int, n_out: int):
        super().__init__()
        bound = 1.0 / math.sqrt(n_in)
        self.weight = nn.Parameter(torch.empty(n_runs, n_in, n_out).uniform_(-bound, bound))
        self.bias = nn.Parameter(torch.empty(n_runs, 1, n_out).uniform_(-bound, bound))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return torch.baddbmm(self.bias, x, self.weight)


def _stacked_mlp(n_runs: int, n_in: int, hidden: int, n_out: int, layers: int = 3):
    modules, width = [], n_in
    for _ in range(layers):
        modules += [StackedLinear(n_runs, width, hidden), nn.ReLU()]
        width = hidden
    return nn.Sequential(*modules, StackedLinear(n_runs, width, n_out))


class RingGAN(nn.Module):
    """``n_runs`` independent GANs for 2-D points (MLP generators and discriminators).

    The runs are stacked into batched matrix products: their losses are summed, so each
    run's gradient is its own, and Adam works elementwise, so this is the same as training
    them one after another, only several times faster for nets this small. Points are
    ``(n_runs, N, 2)``; with ``n_runs=1`` plain ``(N, 2)`` inputs are accepted too.

    With ``pack > 1`` the discriminator judges ``pack`` samples at once, concatenated
    (PacGAN; Lin et al., 2018): a generator that puts its samples on few modes makes packs
    that look unlike real packs, which mix modes, so collapse is penalized.
    """

    def __init__(self, latent_dim: int = 2, hidden: int = 128, pack: int = 1, n_runs: int = 1):
        super().__init__()
        for name, value in [("latent_dim", latent_dim), ("hidden", hidden), ("pack", pack),
                            ("n_runs", n_runs)]:  # fmt: skip
            if isinstance(value, bool) or not isinstance(value, int) or value < 1:
                raise ValueError(f"{name} must be a positive integer, got {value!r}")
        self.latent_dim, self.pack, self.n_runs = latent_dim, pack, n_runs
        self.generator = _stacked_mlp(n_runs, latent_dim, hidden, 2)
        self.discriminator = _stacked_mlp(n_runs, 2 * pack, hidden, 1)

    def _stack(self, x: torch.Tensor, width: int, what: str) -> torch.Tensor:
        if x.ndim == 2 and self.n_runs == 1:
            x = x[None]
        if x.ndim != 3 or x.shape[0] != self.n_runs or x.shape[2] != width:
            raise ValueError(
                f"{what} must be (n_runs={self.n_runs}, N, {width}), got {tuple(x.shape)}"
            )
        return x

    def generate(self, z: torch.Tensor) -> torch.Tensor:
        """Points ``(R, N, 2)`` from latent codes ``(R, N, latent_dim)`` (``(N, 2)`` if one run)."""
        plain = z.ndim == 2
        points = self.generator(self._stack(z, self.latent_dim, "z"))
        return points[0] if plain else points

    def discriminate(self, points: torch.Tensor) -> torch.Tensor:
        """Logits ``(R, N // pack)`` for ``(R, N, 2)`` points (``(N // pack,)`` for ``(N, 2)``)."""
        plain = points.ndim == 2
        points = self._stack(points, 2, "points")
        if points.shape[1] % self.pack:
            raise ValueError(f"the batch ({points.shape[1]}) must be divisible by pack={self.pack}")
        logits = self.discriminator(points.reshape(self.n_runs, -1, 2 * self.pack))[..., 0]
        return logits[0] if plain else logits

    def sample(self, n: int, generator: torch.Generator | None = None) -> torch.Tensor:
        """Draw ``n`` points per run, ``(R, n, 2)`` (``(n, 2)`` if one run), no gradient."""
        device = next(self.parameters()).device
        with torch.no_grad():
            z = torch.randn(self.n_runs, n, self.latent_dim, generator=generator).to(device)
            points = self.generator(z)
        return points[0] if self.n_runs == 1 else points


def train_ring_gan(
    steps: int = 2000,
    pack: int = 1,
    generator_loss: str = "non_saturating",
    batch_size: int = 256,
    lr: float = 1e-3,
    std: float = 0.05,
    seed: int = 0,
    n_runs: int = 1,
    hidden: int = 128,
    device: torch.device | str | None = None,
    progress: bool = True,
) -> RingGAN:
    """Train ``n_runs`` :class:`RingGAN` runs on :func:`ring_mixture` (Adam, one D and one G step).

    Every run gets its own initialization, noise and real data, all drawn from ``seed``.

    Args:
        generator_loss: ``"non_saturating"`` (minimize ``-log D(G(z))``) or
            ``"saturating"`` (minimize ``log(1 - D(G(z)))``, the minimax form).
    """
    if generator_loss not in ("non_saturating", "saturating"):
        raise ValueError(
            f"generator_loss must be 'non_saturating' or 'saturating', got {generator_loss!r}"
        )
    if batch_size % pack:
        raise ValueError(f"batch_size ({batch_size}) must be divisible by pack ({pack})")
    with torch.random.fork_rng(devices=[]):  # seed the initialization, not the global state
        torch.manual_seed(seed)
        gan = RingGAN(hidden=hidden, pack=pack, n_runs=n_runs).to(device)
    data = ring_mixture(steps * n_runs * batch_size, std=std, seed=seed).to(device)
    data = data.reshape(steps, n_runs, batch_size, 2)
    opt_d = torch.optim.Adam(gan.discriminator.parameters(), lr=lr, betas=(0.5, 0.999))
    opt_g = torch.optim.Adam(gan.generator.parameters(), lr=lr, betas=(0.5, 0.999))
    noise = torch.Generator().manual_seed(seed + 1)
    for step in tqdm(range(steps), desc=f"GAN pack={pack}", disable=not progress):
        z = torch.randn(n_runs, batch_size, gan.latent_dim, generator=noise).to(device)
        fake = gan.generate(z)
        # Mean over each run's batch, sum over runs: every run gets its own gradient.
        # softplus(-a) = -log sigmoid(a) and softplus(a) = -log(1 - sigmoid(a)).
        loss_d = (
            F.softplus(-gan.discriminate(data[step])).mean(1)
            + F.softplus(gan.discriminate(fake.detach())).mean(1)
        ).sum()
        opt_d.zero_grad()
        loss_d.backward()
        opt_d.step()
        logits = gan.discriminate(fake)
        if generator_loss == "non_saturating":
            loss_g = F.softplus(-logits).mean(1).sum()
        else:  # log(1 - D) = -softplus(logit): minimizing it is maximizing D's loss
            loss_g = -F.softplus(logits).mean(1).sum()
        opt_g.zero_grad()
        loss_g.backward()
        opt_g.step()
    return gan


def gaussian_kl(mu: torch.Tensor, logvar: torch.Tensor) -> torch.Tensor:
    """``KL(N(mu, diag(exp(logvar))) || N(0, I))`` per row, in nats: ``(N, D) -> (N,)``."""
    if mu.shape != logvar.shape:
        raise ValueError(f"mu {tuple(mu.shape)} and logvar {tuple(logvar.shape)} must match")
    return 0.5 * (mu**2 + logvar.exp() - 1.0 - logvar).sum(dim=-1)


class MLPVAE(nn.Module):
    """A VAE with MLP encoder and decoder for flat inputs in [0, 1] (Bernoulli decoder).

    ``forward(x)`` returns ``(logits, mu, logvar)``: decoder logits of one reparameterized
    sample and the parameters of ``q(z | x) = N(mu, diag(exp(logvar)))``.
    """

    def __init__(self, n_features: int = 64, hidden_size: int = 128, latent_dim: int = 2):
        super().__init__()
        self.latent_dim = latent_dim
        self.encoder = nn.Sequential(nn.Linear(n_features, hidden_size), nn.ReLU())
        self.to_mu = nn.Linear(hidden_size, latent_dim)
        self.to_logvar = nn.Linear(hidden_size, latent_dim)
        self.decoder = nn.Sequential(
            nn.Linear(latent_dim, hidden_size), nn.ReLU(), nn.Linear(hidden_size, n_features)
        )

    def encode(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        h = self.encoder(x)
        return self.to_mu(h), self.to_logvar(h)

    def forward(self, x: torch.Tensor):
        mu, logvar = self.encode(x)
        z = mu + torch.exp(0.5 * logvar) * torch.randn_like(mu)
        return self.decoder(z), mu, logvar


def bernoulli_elbo(model: MLPVAE, x: torch.Tensor, beta: float = 1.0) -> torch.Tensor:
    """Per-example ELBO ``E_q[log p(x | z)] - beta KL(q || p)`` (one sample), in nats."""
    logits, mu, logvar = model(x)
    log_likelihood = -nn.functional.binary_cross_entropy_with_logits(logits, x, reduction="none")
    return log_likelihood.sum(dim=1) - beta * gaussian_kl(mu, logvar)


class ConvAutoencoder(nn.Module):
    """A convolutional autoencoder for ``(N, C, 32, 32)`` images with a ``latent_dim`` code."""

    def __init__(self, in_channels: int = 1, latent_dim: int = 16, base_channels: int = 16):
        super().__init__()
        c = base_channels
        self.encoder = nn.Sequential(
            nn.Conv2d(in_channels, c, 4, 2, 1), nn.ReLU(),  # 16 x 16
            nn.Conv2d(c, 2 * c, 4, 2, 1), nn.ReLU(),  # 8 x 8
            nn.Conv2d(2 * c, 4 * c, 4, 2, 1), nn.ReLU(),  # 4 x 4
            nn.Flatten(), nn.Linear(16 * 4 * c, latent_dim),
        )  # fmt: skip
        self.decoder = nn.Sequential(
            nn.Linear(latent_dim, 16 * 4 * c), nn.ReLU(), nn.Unflatten(1, (4 * c, 4, 4)),
            nn.ConvTranspose2d(4 * c, 2 * c, 4, 2, 1), nn.ReLU(),
            nn.ConvTranspose2d(2 * c, c, 4, 2, 1), nn.ReLU(),
            nn.ConvTranspose2d(c, in_channels, 4, 2, 1),
        )  # fmt: skip

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if x.ndim != 4 or x.shape[-2:] != (32, 32):
            raise ValueError(f"ConvAutoencoder expects (N, C, 32, 32) images, got {tuple(x.shape)}")
        return self.decoder(self.encoder(x))


class PatchDiscriminator(nn.Module):
    """A PatchGAN discriminator (Isola et al., 2017): one logit per overlapping patch.

    It sees the condition and the (real or generated) target stacked as channels, so it
    judges whether the pair matches, patch by patch; for 32 x 32 inputs it returns a
    ``(N, 1, 8, 8)`` map of logits, each with a receptive field of about 14 pixels.
    """

    def __init__(self, in_channels: int = 2, base_channels: int = 16):
        super().__init__()
        c = base_channels
        self.layers = nn.Sequential(
            nn.Conv2d(in_channels, c, 4, 2, 1), nn.LeakyReLU(0.2),
            nn.Conv2d(c, 2 * c, 4, 2, 1), nn.GroupNorm(4, 2 * c), nn.LeakyReLU(0.2),
            nn.Conv2d(2 * c, 1, 3, 1, 1),
        )  # fmt: skip

    def forward(self, condition: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
        return self.layers(torch.cat([condition, target], dim=1))


def bits_per_dim(nats_per_example: torch.Tensor | float, n_dims: int) -> float:
    """Convert a negative log-likelihood (or -ELBO) in nats per example to bits per dimension."""
    value = (
        float(nats_per_example.detach().mean())
        if torch.is_tensor(nats_per_example)
        else nats_per_example
    )
    return value / (n_dims * math.log(2.0))


def fit_bernoulli_mixture(
    x: torch.Tensor, n_components: int, n_iter: int = 100, seed: int = 0
) -> tuple[torch.Tensor, torch.Tensor]:
    """Fit a mixture of independent-Bernoulli components to binary rows by EM.

    The classical latent-class model for binary data: ``p(x) = sum_k pi_k prod_j
    theta_kj^x_j (1 - theta_kj)^(1 - x_j)``. A Beta(2, 2)-style smoothing keeps every
    ``theta`` inside (0, 1) so that held-out log-likelihoods stay finite.

    Returns:
        ``(log_weights (K,), theta (K, D))``.
    """
    if x.ndim != 2 or not ((x == 0) | (x == 1)).all():
        raise ValueError("x must be a (N, D) tensor of zeros and ones")
    x = x.double()
    generator = torch.Generator().manual_seed(seed)
    responsibilities = torch.rand(len(x), n_components, generator=generator, dtype=torch.float64)
    responsibilities /= responsibilities.sum(1, keepdim=True)
    for _ in range(n_iter):
        counts = responsibilities.sum(0)
        theta = (responsibilities.T @ x + 1.0) / (counts[:, None] + 2.0)  # M step
        log_weights = torch.log(counts / counts.sum())
        joint = log_weights + x @ theta.log().T + (1 - x) @ (1 - theta).log().T  # E step
        responsibilities = torch.softmax(joint, dim=1)
    return log_weights, theta


def bernoulli_mixture_log_likelihood(mixture, x: torch.Tensor) -> torch.Tensor:
    """Exact ``log p(x)`` per row (nats) under a mixture from :func:`fit_bernoulli_mixture`."""
    log_weights, theta = mixture
    x = x.double()
    joint = log_weights + x @ theta.log().T + (1 - x) @ (1 - theta).log().T
    return torch.logsumexp(joint, dim=1).float()
