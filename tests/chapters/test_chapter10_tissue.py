"""Unit tests for the notebook 01 section of Chapter10/helpers.py: Dice per subject."""

import numpy as np
import pytest
from chapter_modules import load_helpers

helpers = load_helpers(10)


def test_dice_per_subject_pools_the_slices_of_each_subject():
    rng = np.random.default_rng(0)
    prediction, target = rng.integers(0, 3, (6, 5, 4)), rng.integers(0, 3, (6, 5, 4))
    subject_ids = np.array([7, 3, 7, 3, 3, 9])
    subjects, dice = helpers.dice_per_subject(prediction, target, subject_ids, label=2)
    assert subjects.tolist() == [3, 7, 9]
    for subject, value in zip(subjects, dice, strict=True):
        rows = subject_ids == subject
        p, t = prediction[rows] == 2, target[rows] == 2
        assert value == pytest.approx(2 * (p & t).sum() / (p.sum() + t.sum()), abs=1e-12)
    # one slice per subject: the same as the per-image Dice
    _, single = helpers.dice_per_subject(prediction, target, np.arange(6), label=1)
    np.testing.assert_allclose(single, helpers.dice_per_image(prediction, target, 1), atol=1e-12)


def test_dice_per_subject_is_not_the_mean_of_slice_dice():
    target = np.zeros((2, 4, 4), dtype=int)
    target[0] = 1  # a large slice, predicted right
    target[1, 0, 0] = 1  # a one-pixel slice, missed
    prediction = target.copy()
    prediction[1] = 0
    _, dice = helpers.dice_per_subject(prediction, target, [0, 0])
    assert dice[0] == pytest.approx(2 * 16 / 33)
    assert helpers.dice_per_image(prediction, target).mean() == pytest.approx(0.5)


def test_dice_per_subject_gives_the_empty_value_and_rejects_bad_ids():
    empty = np.zeros((3, 4, 4), dtype=int)
    _, dice = helpers.dice_per_subject(empty, empty, [0, 1, 1], label=3, empty=0.5)
    assert dice.tolist() == [0.5, 0.5]
    with pytest.raises(ValueError, match=r"subject_ids must be \(3,\)"):
        helpers.dice_per_subject(empty, empty, [0, 1])
    with pytest.raises(ValueError, match="label maps"):
        helpers.dice_per_subject(empty[0], empty[0], [0])
