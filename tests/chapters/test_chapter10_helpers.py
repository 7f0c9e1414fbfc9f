"""Unit tests for Chapter10/helpers.py: metrics against scikit-learn, the soft Dice loss
against its formula and autograd, and the Gaussian-mixture tissue baseline."""

import numpy as np
import pytest
import torch
from chapter_modules import load_helpers
from sklearn.metrics import f1_score, jaccard_score

helpers = load_helpers(10)


def _maps(seed=0, shape=(5, 12, 10), n_labels=4):
    rng = np.random.default_rng(seed)
    return rng.integers(0, n_labels, shape), rng.integers(0, n_labels, shape)


def test_dice_and_jaccard_match_scikit_learn_per_image():
    prediction, target = _maps()
    for label in range(4):
        dice = helpers.dice_per_image(prediction, target, label)
        jaccard = helpers.jaccard_per_image(prediction, target, label)
        for i in range(len(prediction)):
            p, t = prediction[i].ravel() == label, target[i].ravel() == label
            assert dice[i] == pytest.approx(f1_score(t, p), abs=1e-12)
            assert jaccard[i] == pytest.approx(jaccard_score(t, p), abs=1e-12)
        np.testing.assert_allclose(jaccard, dice / (2 - dice), atol=1e-12)


def test_dice_of_empty_maps_is_the_empty_value_and_not_nan():
    empty = np.zeros((2, 4, 4), dtype=bool)
    assert helpers.dice_per_image(empty, empty).tolist() == [1.0, 1.0]
    assert helpers.jaccard_per_image(empty, empty, empty=0.0).tolist() == [0.0, 0.0]
    one = empty.copy()
    one[0, 1, 1] = True
    assert helpers.dice_per_image(one, empty).tolist() == [0.0, 1.0]


def test_dice_rejects_mismatched_maps():
    with pytest.raises(ValueError, match=r"\(N, H, W\) label maps.*mask\[None\]"):
        helpers.dice_per_image(np.zeros((4, 4)), np.zeros((4, 4)))
    with pytest.raises(ValueError, match="label maps"):
        helpers.jaccard_per_image(np.zeros((1, 4, 4)), np.zeros((1, 4, 5)))


def test_soft_dice_loss_matches_its_formula_and_autograd_gradient():
    generator = torch.Generator().manual_seed(0)
    logits = torch.randn(3, 4, 6, 5, generator=generator, dtype=torch.float64, requires_grad=True)
    targets = torch.randint(0, 4, (3, 6, 5), generator=generator)
    loss = helpers.soft_dice_loss(logits, targets, eps=0.5)
    p = logits.softmax(1).detach().numpy()
    g = np.eye(4)[targets.numpy()].transpose(0, 3, 1, 2)
    per_class = (2 * (p * g).sum((0, 2, 3)) + 0.5) / (p.sum((0, 2, 3)) + g.sum((0, 2, 3)) + 0.5)
    assert loss.item() == pytest.approx(1 - per_class.mean(), abs=1e-12)
    assert torch.autograd.gradcheck(lambda z: helpers.soft_dice_loss(z, targets, 0.5), (logits,))


def test_soft_dice_loss_is_near_zero_for_a_confident_right_answer():
    targets = torch.randint(0, 3, (2, 8, 8), generator=torch.Generator().manual_seed(1))
    logits = 30.0 * torch.nn.functional.one_hot(targets, 3).permute(0, 3, 1, 2).double()
    assert helpers.soft_dice_loss(logits, targets).item() < 1e-9


def test_soft_dice_loss_rejects_bad_inputs():
    with pytest.raises(ValueError, match=r"logits must be a \(N, C, H, W\)"):
        helpers.soft_dice_loss(torch.zeros(4, 4), torch.zeros(4, 4, dtype=torch.long))
    with pytest.raises(ValueError, match=r"targets must be \(N, H, W\)"):
        helpers.soft_dice_loss(torch.zeros(2, 3, 4, 4), torch.zeros(2, 4, 5, dtype=torch.long))
    with pytest.raises(ValueError, match="eps must be positive"):
        helpers.soft_dice_loss(torch.zeros(1, 2, 2, 2), torch.zeros(1, 2, 2, dtype=torch.long), 0)


def test_gmm_baseline_recovers_three_well_separated_tissues():
    rng = np.random.default_rng(0)
    truth = rng.integers(1, 4, (6, 16, 16)).astype(np.uint8)
    truth[:, :2] = 0
    t1 = np.array([0.0, 0.3, 0.6, 0.9])[truth] + rng.normal(0, 0.03, truth.shape)
    subjects = np.repeat([0, 1], 3)
    labels = helpers.gmm_tissue_segmentation(t1, truth > 0, subjects, smooth_sigma=0)
    assert labels.dtype == np.uint8 and (labels[truth == 0] == 0).all()
    assert (labels == truth).mean() > 0.99


def test_gmm_baseline_rejects_bad_shapes():
    with pytest.raises(ValueError, match=r"\(N, H, W\) and subject_ids \(N,\)"):
        helpers.gmm_tissue_segmentation(np.zeros((2, 4, 4)), np.ones((2, 4, 4), bool), [0])
    with pytest.raises(ValueError, match="fewer than 3 brain pixels"):
        helpers.gmm_tissue_segmentation(np.zeros((1, 4, 4)), np.zeros((1, 4, 4), bool), [0])
