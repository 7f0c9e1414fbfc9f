"""bios740.unet: shapes, skip connections, the time-embedding hook and input checks."""

import pytest
import torch

from bios740.unet import UNet, sinusoidal_embedding


@pytest.mark.parametrize("depth", [1, 2, 3])
def test_output_shape(depth):
    model = UNet(in_channels=2, out_channels=3, base_channels=8, depth=depth)
    x = torch.randn(2, 2, 32, 24)
    assert model(x).shape == (2, 3, 32, 24)


def test_time_embedding_changes_the_output_and_is_required():
    torch.manual_seed(0)
    model = UNet(1, 1, base_channels=8, depth=2, time_embedding_dim=16)
    x = torch.randn(3, 1, 16, 16)
    early = model(x, torch.tensor([1, 1, 1]))
    late = model(x, torch.tensor([500, 500, 500]))
    assert early.shape == (3, 1, 16, 16)
    assert not torch.allclose(early, late)
    # One number for the whole batch is the same as a constant vector.
    assert torch.allclose(model(x, torch.tensor(7)), model(x, torch.full((3,), 7)))
    with pytest.raises(ValueError, match="time embedding"):
        model(x)
    with pytest.raises(ValueError, match="without a time embedding"):
        UNet(1, 1, base_channels=8)(x, torch.zeros(3))
    with pytest.raises(ValueError, match=r"shape \(3,\)"):
        model(x, torch.zeros(2))


def test_sinusoidal_embedding_values():
    t = torch.tensor([0.0, 1.0, 10.0])
    embedding = sinusoidal_embedding(t, 8)
    assert embedding.shape == (3, 8)
    assert torch.allclose(embedding[0], torch.tensor([1.0] * 4 + [0.0] * 4))
    # The first frequency is 1: cos(t) and sin(t).
    assert embedding[1, 0].item() == pytest.approx(torch.cos(torch.tensor(1.0)).item())
    assert embedding[2, 4].item() == pytest.approx(torch.sin(torch.tensor(10.0)).item())
    with pytest.raises(ValueError, match="even"):
        sinusoidal_embedding(t, 7)
    with pytest.raises(ValueError, match=r"\(N,\)"):
        sinusoidal_embedding(t[None], 8)


def test_skip_connections_carry_fine_detail():
    # A U-Net can learn the identity on images whose detail is finer than its bottleneck.
    torch.manual_seed(0)
    model = UNet(1, 1, base_channels=8, depth=2)
    x = torch.randn(16, 1, 16, 16)
    optimizer = torch.optim.Adam(model.parameters(), lr=3e-3)
    first = None
    for _ in range(150):
        loss = torch.nn.functional.mse_loss(model(x), x)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        first = loss.item() if first is None else first
    assert loss.item() < 0.05 * first


def test_rejects_bad_input():
    model = UNet(1, 1, base_channels=8, depth=2)
    with pytest.raises(ValueError, match="divisible by 2\\*\\*depth = 4"):
        model(torch.randn(1, 1, 18, 16))
    with pytest.raises(ValueError, match="channels"):
        model(torch.randn(1, 3, 16, 16))
    with pytest.raises(ValueError, match="x\\[:, None\\]"):
        model(torch.randn(16, 16))
    with pytest.raises(ValueError, match="depth"):
        UNet(1, 1, depth=0)
    with pytest.raises(ValueError, match="base_channels"):
        UNet(1, 1, base_channels=0)


def test_class_conditioning_changes_the_output_and_checks_labels():
    torch.manual_seed(0)
    model = UNet(1, 1, base_channels=8, depth=2, time_embedding_dim=16, n_classes=2)
    x = torch.randn(3, 1, 16, 16)
    t = torch.tensor([10, 10, 10])
    lesion, healthy, null = (model(x, t, torch.full((3,), k)) for k in (1, 0, 2))
    assert lesion.shape == (3, 1, 16, 16)
    assert not torch.allclose(lesion, healthy) and not torch.allclose(lesion, null)
    # Each image follows its own label: a mixed batch matches the single-label batches.
    mixed = model(x, t, torch.tensor([1, 0, 2]))
    assert torch.allclose(mixed[0], lesion[0]) and torch.allclose(mixed[1], healthy[1])
    assert torch.allclose(mixed[2], null[2])
    with pytest.raises(ValueError, match="class-conditional"):
        model(x, t)
    with pytest.raises(ValueError, match=r"lie in 0\.\.2"):
        model(x, t, torch.tensor([0, 1, 3]))
    with pytest.raises(ValueError, match="integers"):
        model(x, t, torch.tensor([0.0, 1.0, 1.0]))
    with pytest.raises(ValueError, match=r"\(3,\) integers"):
        model(x, t, torch.tensor([0, 1]))
    with pytest.raises(ValueError, match="without classes"):
        UNet(1, 1, base_channels=8, time_embedding_dim=16)(x, t, torch.tensor([0, 1, 1]))
    with pytest.raises(ValueError, match="needs a time embedding"):
        UNet(1, 1, n_classes=2)
    with pytest.raises(ValueError, match="positive integer"):
        UNet(1, 1, time_embedding_dim=16, n_classes=0)
