"""Unit tests for Chapter6/helpers.py."""

import numpy as np
import pytest
import torch
from chapter_modules import load_helpers  # noqa: E402
from sklearn.metrics import roc_auc_score
from torch.distributions import Normal, kl_divergence

helpers = load_helpers(6)


def test_bootstrap_by_subject_covers_the_estimate_and_resamples_subjects():
    rng = np.random.default_rng(0)
    subjects = np.repeat(np.arange(20), 10)
    labels = rng.integers(0, 2, size=200)
    scores = labels + rng.normal(0, 1.0, size=200)
    estimate, low, high = helpers.bootstrap_by_subject(
        roc_auc_score, [labels, scores], subjects, n_boot=200, seed=0
    )
    assert estimate == pytest.approx(roc_auc_score(labels, scores))
    assert low < estimate < high and high - low < 0.3
    # A subject-level effect widens the interval compared with ignoring the clusters.
    shifted = np.repeat(rng.normal(0, 3, size=20), 10) + rng.normal(0, 0.1, size=200)
    _, low_c, high_c = helpers.bootstrap_by_subject(np.mean, [shifted], subjects, n_boot=300)
    naive = 1.96 * shifted.std() / np.sqrt(200)
    assert (high_c - low_c) / 2 > 2 * naive
    with pytest.raises(ValueError, match="one row per"):
        helpers.bootstrap_by_subject(np.mean, [labels[:5]], subjects)
    with pytest.raises(ValueError, match="two subjects"):
        helpers.bootstrap_by_subject(np.mean, [labels], np.zeros(200))


def test_ring_mixture_and_mode_coverage():
    centres = helpers.ring_centres(8, 2.0)
    assert centres.shape == (8, 2)
    assert np.allclose(np.linalg.norm(centres, axis=1), 2.0)
    points = helpers.ring_mixture(4000, std=0.05, seed=1)
    assert points.shape == (4000, 2)
    perfect = helpers.mode_coverage(points, centres, std=0.05)
    assert perfect["modes_covered"] == 8 and perfect["high_quality_share"] > 0.98
    # All samples on two modes: two covered, every sample still high quality.
    collapsed = torch.tensor(centres[[0, 3]]).repeat(500, 1) + 0.01
    two = helpers.mode_coverage(collapsed, centres, std=0.05)
    assert two["modes_covered"] == 2 and two["high_quality_share"] == 1.0
    # Samples spread between modes: low quality.
    blurred = helpers.mode_coverage(0.5 * points, centres, std=0.05)
    assert blurred["high_quality_share"] < 0.05
    with pytest.raises(ValueError, match=r"\(N, 2\)"):
        helpers.mode_coverage(np.zeros((5, 3)), centres, std=0.05)


def test_ring_gan_shapes_and_losses():
    gan = helpers.RingGAN(pack=4)
    assert gan.discriminate(torch.randn(16, 2)).shape == (4,)
    with pytest.raises(ValueError, match="divisible"):
        gan.discriminate(torch.randn(6, 2))
    assert gan.sample(10).shape == (10, 2)
    stacked = helpers.RingGAN(pack=2, n_runs=3, hidden=8)
    assert stacked.sample(6).shape == (3, 6, 2)
    assert stacked.discriminate(torch.randn(3, 6, 2)).shape == (3, 3)
    with pytest.raises(ValueError, match=r"n_runs=3"):
        stacked.discriminate(torch.randn(6, 2))
    with pytest.raises(ValueError, match="positive integer"):
        helpers.RingGAN(n_runs=0)
    trained = helpers.train_ring_gan(steps=5, batch_size=32, progress=False)
    assert isinstance(trained, helpers.RingGAN)
    with pytest.raises(ValueError, match="generator_loss"):
        helpers.train_ring_gan(steps=1, generator_loss="wasserstein", progress=False)
    with pytest.raises(ValueError, match="divisible by pack"):
        helpers.train_ring_gan(steps=1, batch_size=9, pack=2, progress=False)


def test_stacked_runs_are_independent_and_match_nn_linear():
    torch.manual_seed(0)
    layer = helpers.StackedLinear(3, 4, 5)
    x = torch.randn(3, 7, 4)
    expected = torch.stack([x[k] @ layer.weight[k] + layer.bias[k] for k in range(3)])
    assert torch.allclose(layer(x), expected, atol=1e-6)
    # Each run's gradient depends on its own loss only: summing the runs' losses trains
    # them exactly as separately.
    gan = helpers.RingGAN(n_runs=2, hidden=8)
    points = torch.randn(2, 10, 2)
    logits = gan.discriminate(points)
    grads = torch.autograd.grad(logits[0].sum(), list(gan.discriminator.parameters()))
    assert all(float(g[1].abs().max()) == 0.0 for g in grads)
    before = gan.sample(4, generator=torch.Generator().manual_seed(1))[1]
    with torch.no_grad():
        gan.generator[0].weight[0] += 1.0  # change run 0 only
    after = gan.sample(4, generator=torch.Generator().manual_seed(1))[1]
    assert torch.equal(before, after)


def test_train_ring_gan_is_reproducible_and_leaves_global_rng_alone():
    torch.manual_seed(123)
    state = torch.get_rng_state()
    first = helpers.train_ring_gan(steps=3, batch_size=8, hidden=8, n_runs=2, progress=False)
    assert torch.equal(torch.get_rng_state(), state)
    second = helpers.train_ring_gan(steps=3, batch_size=8, hidden=8, n_runs=2, progress=False)
    for a, b in zip(first.parameters(), second.parameters(), strict=True):
        assert torch.equal(a, b)


def test_gaussian_kl_matches_torch_distributions():
    torch.manual_seed(0)
    mu, logvar = torch.randn(6, 3), torch.randn(6, 3)
    expected = kl_divergence(Normal(mu, torch.exp(0.5 * logvar)), Normal(0.0, 1.0)).sum(1)
    assert torch.allclose(helpers.gaussian_kl(mu, logvar), expected, atol=1e-6)
    assert torch.allclose(helpers.gaussian_kl(torch.zeros(2, 4), torch.zeros(2, 4)), torch.zeros(2))
    with pytest.raises(ValueError, match="must match"):
        helpers.gaussian_kl(mu, logvar[:, :2])


def test_vae_elbo_is_below_the_exact_likelihood_bound():
    torch.manual_seed(0)
    model = helpers.MLPVAE(n_features=10, hidden_size=8, latent_dim=2)
    x = (torch.rand(5, 10) > 0.5).float()
    logits, mu, logvar = model(x)
    assert logits.shape == (5, 10) and mu.shape == (5, 2) and logvar.shape == (5, 2)
    elbo = helpers.bernoulli_elbo(model, x).detach()
    assert elbo.shape == (5,) and (elbo < 0).all()  # a log-probability of binary data
    assert helpers.bits_per_dim(-elbo, 10) == pytest.approx(float(-elbo.mean()) / (10 * np.log(2)))


def test_bernoulli_mixture_beats_independent_pixels_on_clustered_data():
    rng = np.random.default_rng(0)
    prototypes = rng.random((3, 12)) > 0.5
    rows = prototypes[rng.integers(3, size=300)] ^ (rng.random((300, 12)) < 0.05)
    x = torch.tensor(rows, dtype=torch.float32)
    mixture = helpers.fit_bernoulli_mixture(x, 3, seed=0)
    log_likelihood = helpers.bernoulli_mixture_log_likelihood(mixture, x)
    p = x.mean(0).clamp(1e-3, 1 - 1e-3)
    independent = (x * p.log() + (1 - x) * (1 - p).log()).sum(1)
    assert log_likelihood.mean() > independent.mean() + 1.0
    assert torch.allclose(mixture[0].exp().sum(), torch.tensor(1.0, dtype=torch.float64))
    with pytest.raises(ValueError, match="zeros and ones"):
        helpers.fit_bernoulli_mixture(torch.rand(5, 3), 2)


def test_conv_autoencoder_and_patch_discriminator_shapes():
    ae = helpers.ConvAutoencoder(in_channels=2, latent_dim=4, base_channels=4)
    assert ae(torch.randn(3, 2, 32, 32)).shape == (3, 2, 32, 32)
    with pytest.raises(ValueError, match="32, 32"):
        ae(torch.randn(3, 2, 16, 16))
    discriminator = helpers.PatchDiscriminator(in_channels=2, base_channels=8)
    assert discriminator(torch.randn(2, 1, 32, 32), torch.randn(2, 1, 32, 32)).shape == (2, 1, 8, 8)
