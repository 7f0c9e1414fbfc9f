"""Tests of bios740.models."""

import numpy as np
import pytest
import torch

from bios740 import models
from bios740.models import SmallCNN


def test_small_cnn_shapes_and_last_conv():
    model = SmallCNN(in_channels=2, n_classes=3, width=4).eval()
    images = torch.randn(5, 2, 48, 48)
    assert model(images).shape == (5, 3)
    activations = {}
    model.last_conv.register_forward_hook(lambda m, i, o: activations.setdefault("a", o))
    model(images)
    assert activations["a"].shape == (5, 16, 12, 12)


def test_small_cnn_max_pool_responds_to_one_spot():
    # Global max pooling: a response anywhere gives the same pooled feature.
    torch.manual_seed(0)
    model = SmallCNN(in_channels=1, width=4).eval()
    spot_a = torch.zeros(1, 1, 64, 64)
    spot_a[0, 0, 20:23, 20:23] = 5.0
    spot_b = torch.roll(spot_a, shifts=(16, 20), dims=(2, 3))
    assert torch.allclose(model(spot_a), model(spot_b), atol=1e-5)


def test_small_cnn_rejects_bad_input():
    with pytest.raises(ValueError, match="in_channels"):
        SmallCNN(in_channels=0)
    with pytest.raises(ValueError, match=r"\(N, 2, H, W\)"):
        SmallCNN(in_channels=2)(torch.zeros(1, 1, 32, 32))


def test_train_lesion_cnn_learns_a_bright_square():
    torch.manual_seed(0)
    x = torch.rand(64, 2, 24, 24) * 0.2
    y = torch.randint(0, 2, (64,))
    for i in np.flatnonzero(y.numpy()):
        r, c = np.random.default_rng(int(i)).integers(2, 18, size=2)
        x[i, 1, r : r + 4, c : c + 4] += 2.0
    model, history = models.train_lesion_cnn(
        x, y, epochs=12, seed=0, width=4, batch_size=16, validation=(x, y)
    )
    assert history["train_loss"][-1] < 0.5 * history["train_loss"][0]
    probability = models.lesion_probability(model, x)
    assert probability.shape == (64,) and ((probability >= 0) & (probability <= 1)).all()
    assert ((probability > 0.5) == y.numpy().astype(bool)).mean() > 0.9
    # Temperature scaling keeps the ranking.
    warmer = models.lesion_probability(model, x, temperature=3.0)
    assert (np.argsort(warmer) == np.argsort(probability)).mean() > 0.95
    # Channels-last weights train the same network (faster on CPUs), to rounding.
    fast, fast_history = models.train_lesion_cnn(
        x, y, epochs=2, seed=0, width=4, batch_size=16, channels_last=True
    )
    slow, slow_history = models.train_lesion_cnn(x, y, epochs=2, seed=0, width=4, batch_size=16)
    weight = next(p for p in fast.parameters() if p.ndim == 4)
    assert weight.is_contiguous(memory_format=torch.channels_last)
    assert np.allclose(fast_history["train_loss"], slow_history["train_loss"], atol=1e-4)
    with pytest.raises(ValueError, match="labels"):
        models.train_lesion_cnn(x, y[:3], epochs=1, seed=0)
    with pytest.raises(ValueError, match="temperature"):
        models.lesion_probability(model, x, temperature=0)


def test_augment_is_seeded_per_image_and_does_not_wrap():
    x = torch.zeros(8, 1, 16, 16)
    x[:, 0, 0, :] = 1.0  # a bright top row: a shift must not wrap it to the bottom
    a = models.augment(x, torch.Generator().manual_seed(1), max_shift=3, gain=0.0)
    b = models.augment(x, torch.Generator().manual_seed(1), max_shift=3, gain=0.0)
    assert a.shape == x.shape and torch.equal(a, b)
    assert a[:, 0, -3:, :].abs().max() == 0
    rows = [int(torch.nonzero(image[0].sum(dim=1))[0]) if image.sum() else -1 for image in a]
    assert len(set(rows)) > 1  # shifts differ between images
    gained = models.augment(torch.ones(64, 1, 4, 4), torch.Generator().manual_seed(0), 0, 0.1)
    assert 0.9 <= gained.min() and gained.max() <= 1.1 and gained.std() > 0.01
    with pytest.raises(ValueError, match="N, C, H, W"):
        models.augment(torch.zeros(4, 4), torch.Generator())


def test_scale_channels():
    x = torch.rand(10, 2, 4, 4) * torch.tensor([1.0, 5.0]).view(1, 2, 1, 1)
    scaled, other = models.scale_channels(x, x[:3])
    assert torch.allclose(scaled.std(dim=(0, 2, 3)), torch.ones(2), atol=1e-5)
    assert torch.equal(other, scaled[:3]) and (scaled >= 0).all()
