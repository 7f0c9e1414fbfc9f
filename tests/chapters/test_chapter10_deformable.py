"""Unit tests for the deformable-registration helpers of Chapter10/helpers.py (notebook 05):
``warp`` against scipy and MONAI, the Jacobian determinant against an affine map and
``np.gradient``, folding, scaling and squaring, and the random velocity fields."""

import numpy as np
import pytest
import torch
from chapter_modules import load_helpers
from scipy import ndimage

helpers = load_helpers(10)


def _field(n=3, size=(12, 10), scale=2.0, seed=0):
    generator = torch.Generator().manual_seed(seed)
    return scale * torch.randn(n, 2, *size, generator=generator, dtype=torch.float64)


def test_warp_matches_scipy_map_coordinates_bilinear_and_nearest():
    image = torch.rand(
        3, 1, 12, 10, generator=torch.Generator().manual_seed(1), dtype=torch.float64
    )
    labels = torch.randint(0, 4, (3, 1, 12, 10), generator=torch.Generator().manual_seed(2))
    displacement = _field()
    grid = np.mgrid[0:12, 0:10]
    warped = helpers.warp(image, displacement)
    warped_labels = helpers.warp(labels, displacement, mode="nearest")
    assert warped_labels.dtype == labels.dtype
    for n in range(3):
        points = grid + displacement[n].numpy()  # rows, columns
        linear = ndimage.map_coordinates(image[n, 0].numpy(), points, order=1, mode="nearest")
        nearest = ndimage.map_coordinates(labels[n, 0].numpy(), points, order=0, mode="nearest")
        np.testing.assert_allclose(warped[n, 0].numpy(), linear, atol=1e-12)
        assert (warped_labels[n, 0].numpy() == nearest).all()


def test_warp_matches_monai_warp():
    pytest.importorskip("monai")
    from monai.networks.blocks import Warp

    image = torch.rand(2, 3, 9, 11, generator=torch.Generator().manual_seed(3), dtype=torch.float64)
    displacement = _field(2, (9, 11), seed=4)
    expected = Warp(mode="bilinear", padding_mode="border")(image, displacement)
    torch.testing.assert_close(helpers.warp(image, displacement), expected, atol=1e-12, rtol=0)


def test_warp_by_a_whole_pixel_shifts_and_zero_is_the_identity():
    image = torch.arange(30.0).reshape(1, 1, 5, 6)
    shift = torch.zeros(1, 2, 5, 6)
    shift[:, 1] = 1.0  # sample one column to the right
    torch.testing.assert_close(helpers.warp(image, shift)[..., :-1], image[..., 1:])
    torch.testing.assert_close(helpers.warp(image, torch.zeros(1, 2, 5, 6)), image)


def test_warp_rejects_bad_inputs_with_clear_messages():
    image, displacement = torch.rand(1, 1, 8, 8), torch.zeros(1, 2, 8, 8)
    with pytest.raises(TypeError, match="torch.Tensor"):
        helpers.warp(image, np.zeros((1, 2, 8, 8)))
    with pytest.raises(ValueError, match=r"\(N, 2, H, W\)"):
        helpers.warp(image, torch.zeros(2, 8, 8))
    with pytest.raises(ValueError, match="same N, H and W"):
        helpers.warp(image, torch.zeros(1, 2, 8, 7))
    with pytest.raises(ValueError, match="nearest"):
        helpers.warp(torch.zeros(1, 1, 8, 8, dtype=torch.int64), displacement)
    with pytest.raises(ValueError, match="mode"):
        helpers.warp(image, displacement, mode="cubic")


def test_jacobian_of_an_affine_map_is_its_determinant_everywhere():
    matrix = torch.tensor([[0.1, -0.3], [0.2, -0.05]], dtype=torch.float64)
    grid = torch.stack(torch.meshgrid(torch.arange(10.0), torch.arange(12.0), indexing="ij"))
    displacement = (torch.einsum("ij,jhw->ihw", matrix, grid.double()) + 3.0)[None]
    expected = torch.det(torch.eye(2, dtype=torch.float64) + matrix)  # of I + A, not of A
    determinant = helpers.jacobian_determinant(displacement)
    torch.testing.assert_close(determinant, torch.full_like(determinant, float(expected)))
    assert abs(float(expected) - float(torch.det(matrix))) > 0.5


def test_jacobian_matches_np_gradient():
    displacement = _field(seed=5)
    d_u0 = np.gradient(displacement[:, 0].numpy(), axis=(1, 2))
    d_u1 = np.gradient(displacement[:, 1].numpy(), axis=(1, 2))
    expected = (1 + d_u0[0]) * (1 + d_u1[1]) - d_u0[1] * d_u1[0]
    np.testing.assert_allclose(
        helpers.jacobian_determinant(displacement).numpy(), expected, atol=1e-12
    )


def test_folding_fraction_counts_non_positive_determinants_inside_the_mask():
    displacement = torch.zeros(2, 2, 6, 6, dtype=torch.float64)
    displacement[1, 1] = -2.0 * torch.arange(6.0)  # x -> -x along the columns: det = -1
    np.testing.assert_allclose(helpers.folding_fraction(displacement), [0.0, 1.0])
    mask = np.zeros((2, 6, 6), bool)
    mask[:, :2] = True
    np.testing.assert_allclose(helpers.folding_fraction(displacement, mask), [0.0, 1.0])
    with pytest.raises(ValueError, match="at least one pixel"):
        helpers.folding_fraction(displacement, np.zeros((2, 6, 6), bool))


def test_scaling_and_squaring_gives_a_fold_free_map_and_its_inverse():
    velocity = helpers.random_velocity(3, 32, amplitude=3.0, smoothness=4.0, seed=6).double()
    forward = helpers.integrate_velocity(velocity)
    backward = helpers.integrate_velocity(-velocity)
    assert (helpers.jacobian_determinant(forward) > 0).all()
    # x -> x + u(x) -> that + w(that) returns to x (up to interpolation) away from the edges
    round_trip = forward + helpers.warp(backward, forward)
    assert round_trip.norm(dim=1)[:, 4:-4, 4:-4].max() < 0.1
    assert forward.norm(dim=1).max() > 2.0  # a real deformation, not the identity
    # a constant velocity integrates to the same translation
    constant = torch.ones(1, 2, 8, 8, dtype=torch.float64) * torch.tensor([1.5, -0.5]).view(
        1, 2, 1, 1
    )
    torch.testing.assert_close(helpers.integrate_velocity(constant), constant)


def test_random_velocity_is_seeded_smooth_and_scaled():
    first = helpers.random_velocity(4, 32, amplitude=(2.0, 3.0), seed=7)
    again = helpers.random_velocity(4, 32, amplitude=(2.0, 3.0), seed=7)
    assert first.shape == (4, 2, 32, 32) and first.dtype == torch.float32
    torch.testing.assert_close(first, again)
    largest = first.norm(dim=1).amax((1, 2))
    assert ((largest >= 2.0 - 1e-4) & (largest <= 3.0 + 1e-4)).all()
    neighbour_step = (first[..., 1:] - first[..., :-1]).abs().max()
    assert neighbour_step < 0.5 * largest.min()  # smooth: no jumps between pixels
    affine = helpers.random_velocity(2, 16, amplitude=0.0, linear=0.05, seed=8)
    second_difference = affine[..., 2:] - 2 * affine[..., 1:-1] + affine[..., :-2]
    assert second_difference.abs().max() < 1e-5  # a linear field only
    with pytest.raises(ValueError, match="amplitude"):
        helpers.random_velocity(2, 16, amplitude=(3.0, 1.0))
    with pytest.raises(TypeError, match="n must be"):
        helpers.random_velocity(2.5)
