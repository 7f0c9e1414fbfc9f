"""Unit tests for the affine helpers of Chapter10/helpers.py (notebook 04): pixel <->
normalised affines (round trips, the grid that ``affine_grid`` builds), ``warp_affine``
against ``scipy.ndimage.affine_transform``, the Parzen-window mutual information against
scikit-learn's histogram MI, the known random affines and input validation."""

import numpy as np
import pytest
import torch
from chapter_modules import load_helpers
from scipy import ndimage
from sklearn.metrics import mutual_info_score

helpers = load_helpers(10)
SWAP = np.array([[0.0, 1.0, 0.0], [1.0, 0.0, 0.0], [0.0, 0.0, 1.0]])  # (x, y) <-> (row, col)


def _image(shape=(12, 15), seed=0):
    rng = np.random.default_rng(seed)
    return ndimage.gaussian_filter(rng.random(shape), 1.5)


@pytest.mark.parametrize("align_corners", [False, True])
def test_pixel_and_normalised_affines_round_trip(align_corners):
    matrices = helpers.random_affine(4, (12, 15), seed=3)
    theta = helpers.pixel_to_normalized_theta(matrices, (12, 15), align_corners)
    assert theta.shape == (4, 2, 3) and theta.dtype == torch.float64
    back = helpers.normalized_theta_to_pixel(theta, (12, 15), align_corners)
    np.testing.assert_allclose(back.numpy(), matrices, atol=1e-12)
    identity = helpers.pixel_to_normalized_theta(np.eye(3), (12, 15), align_corners)
    np.testing.assert_allclose(identity.numpy(), np.eye(3)[:2], atol=1e-12)


@pytest.mark.parametrize("align_corners", [False, True])
def test_affine_grid_of_the_converted_theta_samples_at_m_times_each_pixel(align_corners):
    height, width = 12, 15
    matrix = helpers.affine_about_centre(17.0, (1.1, 0.9), (2.0, -1.5), (height, width), 0.1)
    theta = helpers.pixel_to_normalized_theta(matrix, (height, width), align_corners)
    grid = torch.nn.functional.affine_grid(theta[None], [1, 1, height, width], align_corners)
    if align_corners:  # normalised -> pixels, the way grid_sample reads the grid
        pixels = (grid[0] + 1) / 2 * torch.tensor([width - 1, height - 1])
    else:
        pixels = ((grid[0] + 1) * torch.tensor([width, height]) - 1) / 2
    rows, cols = np.mgrid[0:height, 0:width]
    expected = np.einsum("ij,jhw->hwi", matrix[:2], np.stack([cols, rows, np.ones_like(rows)]))
    np.testing.assert_allclose(pixels.numpy(), expected, atol=1e-10)


@pytest.mark.parametrize("align_corners", [False, True])
def test_warp_affine_matches_scipy_affine_transform(align_corners):
    image = _image()
    matrix = helpers.affine_about_centre(-23.0, 1.07, (1.3, 0.6), image.shape, -0.05)
    warped = helpers.warp_affine(torch.from_numpy(image)[None, None], matrix, align_corners)
    in_row_col = SWAP @ matrix @ SWAP  # scipy orders the axes (row, col)
    expected = ndimage.affine_transform(
        image, in_row_col[:2, :2], in_row_col[:2, 2], order=1, mode="grid-constant", cval=0.0
    )
    np.testing.assert_allclose(warped[0, 0].numpy(), expected, atol=1e-10)
    labels = np.random.default_rng(1).integers(0, 4, image.shape).astype(np.float64)
    nearest = helpers.warp_affine(torch.from_numpy(labels)[None, None], matrix, mode="nearest")
    assert set(np.unique(nearest.numpy())) <= {0.0, 1.0, 2.0, 3.0}


def test_warp_affine_takes_one_matrix_or_one_per_image_and_is_differentiable():
    images = torch.from_numpy(np.stack([_image(seed=0), _image(seed=1)]))[:, None]
    matrices = torch.from_numpy(helpers.random_affine(2, images.shape[-2:], seed=0))
    matrices.requires_grad_(True)
    both = helpers.warp_affine(images, matrices)
    one = helpers.warp_affine(images[1:], matrices[1].detach())
    torch.testing.assert_close(both[1:], one.detach() + 0 * both[1:], atol=1e-12, rtol=0)
    both.sum().backward()
    assert torch.isfinite(matrices.grad).all() and matrices.grad.abs().sum() > 0
    shifted = helpers.warp_affine(images, helpers.affine_about_centre(0, 1, (2, 0), (12, 15)))
    torch.testing.assert_close(shifted[..., :-2], images[..., 2:])  # samples x + 2


def test_mutual_information_is_the_histogram_mi_in_the_narrow_window_limit():
    rng = np.random.default_rng(0)
    bins = 16
    a = rng.integers(0, bins, (2, 900))
    b = np.where(rng.random((2, 900)) < 0.7, (a * 3) % bins, rng.integers(0, bins, (2, 900)))
    mi = helpers.mutual_information(
        torch.from_numpy(a / (bins - 1)), torch.from_numpy(b / (bins - 1)), bins, sigma_ratio=0.1
    )
    expected = [mutual_info_score(a[k], b[k]) for k in range(2)]  # natural log, nats
    np.testing.assert_allclose(mi.numpy(), expected, atol=1e-8)


def test_mutual_information_is_symmetric_and_invariant_to_an_intensity_flip():
    image = torch.from_numpy(_image((20, 20)))
    image = (image - image.min()) / (image.max() - image.min())
    other = torch.from_numpy(_image((20, 20), seed=5))
    other = (other - other.min()) / (other.max() - other.min())
    mi = helpers.mutual_information(image[None], other[None])
    torch.testing.assert_close(mi, helpers.mutual_information(other[None], image[None]))
    same = helpers.mutual_information(image[None], image[None])
    flipped = helpers.mutual_information(image[None], 1 - image[None])  # the centres are symmetric
    torch.testing.assert_close(same, flipped)
    assert same > 3 * mi  # an image tells more about itself than about an unrelated one
    x = image[None].clone().requires_grad_(True)
    helpers.mutual_information(x, other[None]).sum().backward()
    assert torch.isfinite(x.grad).all()


def test_affine_about_centre_keeps_the_centre_and_random_affine_is_reproducible():
    matrix = helpers.affine_about_centre(30.0, (1.2, 0.8), (0.0, 0.0), (9, 11), 0.2)
    np.testing.assert_allclose(matrix @ [5.0, 4.0, 1.0], [5.0, 4.0, 1.0], atol=1e-12)
    rotation = helpers.affine_about_centre(90.0, 1.0, (0, 0), (9, 11))
    np.testing.assert_allclose(rotation @ [6.0, 4.0, 1.0], [5.0, 5.0, 1.0], atol=1e-12)
    first = helpers.random_affine(5, (64, 64), seed=2)
    np.testing.assert_array_equal(first, helpers.random_affine(5, (64, 64), seed=2))
    assert not np.allclose(first, helpers.random_affine(5, (64, 64), seed=3))
    # the centre moves by exactly the shift, at most max_shift per axis
    shifts = first[:, :2] @ [31.5, 31.5, 1.0] - 31.5
    assert np.abs(shifts).max() <= 4.0
    assert np.all(np.abs(np.linalg.det(first[:, :2, :2]) - 1) < 0.2)


def test_affine_helpers_reject_bad_input_with_clear_messages():
    with pytest.raises(ValueError, match=r"\(\.\.\., 2, 3\) or \(\.\.\., 3, 3\)"):
        helpers.pixel_to_normalized_theta(np.eye(2), (8, 8))
    with pytest.raises(TypeError, match="tensor or NumPy array"):
        helpers.pixel_to_normalized_theta([[1, 0, 0], [0, 1, 0]], (8, 8))
    with pytest.raises(TypeError, match="align_corners must be True or False"):
        helpers.pixel_to_normalized_theta(np.eye(3), (8, 8), align_corners="yes")
    with pytest.raises(ValueError, match=r"\(H, W\)"):
        helpers.normalized_theta_to_pixel(np.eye(3)[:2], (1, 8, 8))
    with pytest.raises(TypeError, match="float tensor"):
        helpers.warp_affine(np.zeros((1, 1, 8, 8)), np.eye(3))
    with pytest.raises(ValueError, match=r"\(N, C, H, W\)"):
        helpers.warp_affine(torch.zeros(8, 8), np.eye(3))
    with pytest.raises(ValueError, match="one per image"):
        helpers.warp_affine(torch.zeros(2, 1, 8, 8), np.stack([np.eye(3)] * 3))
    with pytest.raises(ValueError, match="'bilinear' or 'nearest'"):
        helpers.warp_affine(torch.zeros(1, 1, 8, 8), np.eye(3), mode="cubic")
    with pytest.raises(ValueError, match=r"in \[0, 1\].*rescale"):
        helpers.mutual_information(torch.full((1, 9), 2.0), torch.zeros(1, 9))
    with pytest.raises(ValueError, match="one shape"):
        helpers.mutual_information(torch.zeros(1, 9), torch.zeros(1, 8))
    with pytest.raises(ValueError, match="bins >= 2"):
        helpers.mutual_information(torch.zeros(1, 9), torch.zeros(1, 9), bins=1)
    with pytest.raises(ValueError, match="scale must be positive"):
        helpers.affine_about_centre(0, -1.0, (0, 0), (8, 8))
    with pytest.raises(ValueError, match="positive integer"):
        helpers.random_affine(0, (8, 8))
