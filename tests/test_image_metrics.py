"""PSNR and SSIM written out in bios740.image_metrics agree with torchmetrics."""

import pytest
import torch

from bios740.image_metrics import gaussian_window, psnr, ssim

torchmetrics = pytest.importorskip("torchmetrics")
from torchmetrics.functional.image import (  # noqa: E402
    peak_signal_noise_ratio,
    structural_similarity_index_measure,
)


def _pair(seed=0, shape=(4, 2, 32, 28)):
    generator = torch.Generator().manual_seed(seed)
    targets = torch.rand(shape, generator=generator)
    # Smooth structure plus noise of a different size per image, so the scores differ.
    targets = torch.nn.functional.avg_pool2d(targets, 3, stride=1, padding=1)
    noise_scale = torch.linspace(0.02, 0.3, shape[0]).view(-1, 1, 1, 1)
    predictions = targets + noise_scale * torch.randn(shape, generator=generator)
    return predictions, targets


@pytest.mark.parametrize("data_range", [1.0, 2.5])
def test_psnr_matches_torchmetrics_per_image(data_range):
    predictions, targets = _pair()
    predictions, targets = predictions * data_range, targets * data_range
    ours = psnr(predictions, targets, data_range=data_range)
    theirs = peak_signal_noise_ratio(
        predictions, targets, data_range=data_range, reduction="none", dim=(1, 2, 3)
    )
    assert ours.shape == (4,)
    assert torch.allclose(ours.float(), theirs, atol=1e-4)
    # More noise, lower PSNR.
    assert (ours.diff() < 0).all()


def test_psnr_by_hand():
    targets = torch.zeros(1, 1, 4, 4)
    predictions = torch.full((1, 1, 4, 4), 0.1)
    assert psnr(predictions, targets, data_range=1.0).item() == pytest.approx(20.0)


@pytest.mark.parametrize("seed", [0, 1])
def test_ssim_matches_torchmetrics_per_image(seed):
    predictions, targets = _pair(seed)
    ours = ssim(predictions, targets, data_range=1.0)
    theirs = structural_similarity_index_measure(
        predictions, targets, data_range=1.0, reduction="none"
    )
    assert ours.shape == (4,)
    assert torch.allclose(ours.float(), theirs, atol=1e-5)
    assert (ours.diff() < 0).all()
    assert ssim(targets, targets, data_range=1.0) == pytest.approx(torch.ones(4).double())


def test_ssim_other_window_and_valid_padding():
    predictions, targets = _pair(shape=(2, 1, 20, 20))
    # torchmetrics sizes its Gaussian window from sigma: 9 x 9 for sigma = 1.
    ours, similarity_map = ssim(
        predictions, targets, data_range=1.0, window_size=9, sigma=1.0, return_map=True
    )
    theirs = structural_similarity_index_measure(
        predictions, targets, data_range=1.0, sigma=1.0, reduction="none"
    )
    assert torch.allclose(ours.float(), theirs, atol=1e-5)
    assert similarity_map.shape == (2, 1, 20, 20)
    # Valid padding keeps the pixels the mirrored border does not reach, unchanged.
    valid, valid_map = ssim(
        predictions,
        targets,
        data_range=1.0,
        window_size=9,
        sigma=1.0,
        padding="valid",
        return_map=True,
    )
    assert valid_map.shape == (2, 1, 12, 12)
    assert torch.allclose(valid_map, similarity_map[..., 4:-4, 4:-4])
    assert torch.allclose(valid, valid_map.flatten(1).mean(1))


def test_gaussian_window_is_normalized_and_symmetric():
    window = gaussian_window(11, 1.5)
    assert window.sum().item() == pytest.approx(1.0)
    assert torch.allclose(window, window.T) and torch.allclose(window, window.flip(0))
    assert window.argmax().item() == 5 * 11 + 5


def test_metrics_reject_bad_input():
    x = torch.rand(2, 1, 16, 16)
    with pytest.raises(ValueError, match="same shape"):
        psnr(x, x[:1], data_range=1.0)
    with pytest.raises(ValueError, match="channel axis"):
        ssim(x[:, 0], x[:, 0], data_range=1.0)
    with pytest.raises(TypeError, match="torch.Tensor"):
        psnr(x.numpy(), x, data_range=1.0)
    with pytest.raises(ValueError, match="data_range"):
        psnr(x, x, data_range=0)
    with pytest.raises(ValueError, match="smaller than"):
        ssim(torch.rand(1, 1, 8, 8), torch.rand(1, 1, 8, 8), data_range=1.0)
    with pytest.raises(ValueError, match="padding"):
        ssim(x, x, data_range=1.0, padding="same")
    with pytest.raises(ValueError, match="odd"):
        gaussian_window(4)
