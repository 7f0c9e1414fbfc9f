"""Tests of the semi-synthetic brain-slice data set (bios740.datasets.brain_slices)."""

import numpy as np
import pytest

from bios740.datasets import brain_slices
from bios740.datasets.brain_slices import (
    CHANNELS,
    MAX_LESIONS,
    BrainSliceData,
    bright_spot_scores,
    make_brain_slices,
    split_by_subject,
)


@pytest.fixture(autouse=True)
def _private_data_dir(tmp_path, monkeypatch):
    """Keep the disk cache of these tests out of the repository's data folder."""
    monkeypatch.setenv("BIOS740_DATA_DIR", str(tmp_path))


@pytest.fixture(scope="module")
def data():
    return make_brain_slices(n_subjects=8, slices_per_subject=6, size=64, seed=3, cache=False)


def test_shapes_and_dtypes(data):
    n = 48
    assert len(data) == n
    assert data.images.shape == (n, 2, 64, 64) and data.images.dtype == np.float32
    assert CHANNELS == ("T1", "FLAIR")
    assert data.lesion_keys.shape == (n, MAX_LESIONS)
    assert data.labels.shape == (n,) and data.labels.dtype == np.int64
    assert data.masks.shape == (n, 64, 64) and data.masks.dtype == bool
    assert data.lesion_ids.shape == (n, 64, 64)
    assert data.boxes.shape == (n, MAX_LESIONS, 4) and data.boxes.dtype == np.float32
    assert data.tissue.shape == (n, 64, 64) and set(np.unique(data.tissue)) <= {0, 1, 2, 3}
    assert data.subject_ids.shape == (n,) and data.slice_levels.shape == (n,)
    assert np.isfinite(data.images).all() and data.images.min() >= 0
    assert set(np.unique(data.subject_ids)) == set(range(8))
    assert "48 slices" in repr(data)


def test_labels_match_masks_and_both_classes_present(data):
    assert ((data.masks.sum(axis=(1, 2)) > 0) == (data.labels == 1)).all()
    assert (data.labels == (data.n_lesions > 0)).all()
    assert 0.2 < data.labels.mean() < 0.8
    assert (data.n_lesions <= MAX_LESIONS).all()


def test_masks_inside_the_brain_and_tissue_zero_outside(data):
    assert not (data.masks & ~data.brain).any()
    assert (data.tissue[~data.brain] == 0).all()
    assert (data.tissue[data.brain] > 0).all()


def test_boxes_enclose_each_lesion(data):
    for i in range(len(data)):
        boxes = data.boxes_of(i)
        assert len(boxes) == data.n_lesions[i]
        assert (data.boxes[i, data.n_lesions[i] :] == -1).all()
        for k, (x0, y0, x1, y1) in enumerate(boxes, start=1):
            rows, cols = np.nonzero(data.lesion_ids[i] == k)
            assert len(rows) > 0
            # The box is the tightest one around the lesion's pixels.
            assert (x0, y0, x1, y1) == (cols.min(), rows.min(), cols.max(), rows.max())
        assert (data.polarity[i, data.n_lesions[i] :] == 0).all()
        assert (data.lesion_keys[i, : data.n_lesions[i]] >= 0).all()
        assert (data.lesion_keys[i, data.n_lesions[i] :] == -1).all()


def test_lesions_change_the_image():
    kwargs = dict(n_subjects=2, slices_per_subject=4, seed=5, cache=False)
    with_lesions = make_brain_slices(lesion_fraction=1.0, **kwargs)
    without = make_brain_slices(lesion_fraction=0.0, **kwargs)
    assert with_lesions.labels.all() and not without.labels.any()
    assert not without.masks.any() and (without.lesion_keys == -1).all()


def test_deterministic_and_seed_dependent():
    kwargs = dict(n_subjects=3, slices_per_subject=4, size=32)
    a = make_brain_slices(seed=1, cache=False, **kwargs)
    b = make_brain_slices(seed=1, cache=False, **kwargs)
    c = make_brain_slices(seed=2, cache=False, **kwargs)
    assert np.array_equal(a.images, b.images) and np.array_equal(a.masks, b.masks)
    assert not np.array_equal(a.images, c.images)
    assert a.images.shape == (12, 2, 32, 32)


def test_cache_in_memory_and_on_disk(tmp_path):
    kwargs = dict(n_subjects=2, slices_per_subject=3, size=32, seed=11)
    first = make_brain_slices(**kwargs)
    assert make_brain_slices(**kwargs) is first
    assert list((tmp_path / "brain_slices").glob("brain_slices_*.npz"))
    brain_slices._MEMORY_CACHE.clear()
    from_disk = make_brain_slices(**kwargs)
    assert from_disk is not first and np.array_equal(from_disk.images, first.images)


def test_split_by_subject_has_no_shared_subject(data):
    train, val, test = split_by_subject(data, (0.5, 0.25, 0.25), seed=0)
    parts = [set(part.subject_ids.tolist()) for part in (train, val, test)]
    assert parts[0].isdisjoint(parts[1]) and parts[0].isdisjoint(parts[2])
    assert parts[1].isdisjoint(parts[2])
    assert len(train) + len(val) + len(test) == len(data)
    assert [len(p) for p in parts] == [4, 2, 2]
    again = split_by_subject(data, (0.5, 0.25, 0.25), seed=0)
    assert np.array_equal(again[2].images, test.images)


def test_tensors(data):
    torch = pytest.importorskip("torch")
    images, labels = data.tensors()
    assert images.dtype == torch.float32 and images.shape == (48, 2, 64, 64)
    assert labels.dtype == torch.int64
    flair, _ = data.tensors(channels="FLAIR")
    assert flair.shape == (48, 1, 64, 64) and np.array_equal(
        flair[:, 0].numpy(), data.channel("FLAIR")
    )
    both, _ = data.tensors(channels=["FLAIR", "T1"])
    assert np.array_equal(both[:, 1].numpy(), data.images[:, 0])
    with pytest.raises(ValueError, match="channels"):
        data.tensors(channels="T2")


@pytest.mark.parametrize(
    "kwargs, error, message",
    [
        (dict(n_subjects=0), ValueError, "n_subjects"),
        (dict(n_subjects=2.5), TypeError, "n_subjects"),
        (dict(slices_per_subject=100), ValueError, "slices_per_subject"),
        (dict(size=8), ValueError, "size"),
        (dict(lesion_fraction=1.5), ValueError, "lesion_fraction"),
        (dict(lesion_fraction="half"), TypeError, "lesion_fraction"),
        (dict(seed=-1), ValueError, "seed"),
    ],
)
def test_bad_arguments_are_rejected(kwargs, error, message):
    with pytest.raises(error, match=message):
        make_brain_slices(**kwargs)


def test_bad_split_arguments_are_rejected(data):
    with pytest.raises(ValueError, match="sum to 1"):
        split_by_subject(data, (0.5, 0.2))
    with pytest.raises(ValueError, match="at least two"):
        split_by_subject(data, (1.0,))
    with pytest.raises(TypeError, match="BrainSliceData"):
        split_by_subject(data.images, (0.5, 0.5))
    tiny = data.subset(data.subject_ids == 0)
    with pytest.raises(ValueError, match="more subjects"):
        split_by_subject(tiny, (0.5, 0.5))
    with pytest.raises(ValueError, match="boolean index"):
        data.subset(np.ones(3, dtype=bool))
    assert isinstance(data.subset([0, 1]), BrainSliceData)


def test_lesions_are_3d_objects_shared_by_neighbouring_slices():
    # All 39 levels of two subjects: each 3-D lesion shows in a run of adjacent levels.
    whole = make_brain_slices(n_subjects=2, slices_per_subject=39, size=48, seed=4, cache=False)
    for subject in range(2):
        rows = np.flatnonzero(whole.subject_ids == subject)
        levels = whole.slice_levels[rows]
        assert (np.diff(levels) == 1).all()
        keys = whole.lesion_keys[rows]
        seen = [key for key in np.unique(keys) if key >= 0]
        assert seen, "every subject with lesion_fraction > 0 has lesions"
        for key in seen:
            at = levels[(keys == key).any(axis=1)]
            assert (np.diff(at) == 1).all(), f"lesion {key} skips a level: {at}"
        multi = [key for key in seen if (keys == key).any(axis=1).sum() > 1]
        assert multi, "some lesions must span several slices"


def test_lesion_appearance_matches_the_contrast(data):
    # FLAIR: lesions brighter than the white matter around them; T1: never brighter.
    from scipy import ndimage

    flair_ratio, t1_ratio = [], []
    for i in np.flatnonzero(data.labels):
        ring = ndimage.binary_dilation(data.masks[i], iterations=2) & ~data.masks[i]
        ring &= data.tissue[i] == 3
        if ring.sum() < 5:
            continue
        lesion = data.masks[i]
        flair_ratio.append(data.images[i, 1][lesion].mean() / data.images[i, 1][ring].mean())
        t1_ratio.append(data.images[i, 0][lesion].mean() / data.images[i, 0][ring].mean())
    assert len(flair_ratio) > 5
    assert np.median(flair_ratio) > 1.15 and np.median(t1_ratio) < 0.97
    assert max(t1_ratio) < 1.1


def test_lesion_sizes_are_plausible(data):
    # Cross-sections of 3-D lesions 6-24 mm across, at 3 mm pixels: small ones dominate.
    areas = np.array(
        [
            (data.lesion_ids[i] == k).sum()
            for i in range(len(data))
            for k in range(1, data.n_lesions[i] + 1)
        ]
    )
    diameters_mm = 2 * np.sqrt(areas / np.pi) * 3.0
    assert 4 < np.median(diameters_mm) < 16
    assert diameters_mm.max() < 30


def test_no_bright_spot_shortcut():
    # The no-learning rule must not solve the task on any channel.
    from sklearn.metrics import roc_auc_score

    data = make_brain_slices(n_subjects=24, slices_per_subject=20, size=64, seed=0, cache=False)
    for name in CHANNELS:
        auc = roc_auc_score(data.labels, bright_spot_scores(data.channel(name), data.brain))
        assert auc <= 0.85, f"{name}: the bright-spot rule reaches AUC {auc:.3f}"


def test_bright_spot_scores_checks_its_inputs(data):
    scores = bright_spot_scores(data.channel("FLAIR"), data.brain)
    assert scores.shape == (len(data),) and (scores > 1).all()
    with pytest.raises(ValueError, match="one channel"):
        bright_spot_scores(data.images, data.brain)
    with pytest.raises(ValueError, match="at least one pixel"):
        bright_spot_scores(data.channel("T1"), np.zeros_like(data.brain))
