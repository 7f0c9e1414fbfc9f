"""Tests of the semi-synthetic brain-slice data set (bios740.datasets.brain_slices)."""

import numpy as np
import pytest

from bios740.datasets import brain_slices
from bios740.datasets.brain_slices import (
    MAX_LESIONS,
    BrainSliceData,
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
    assert data.images.shape == (n, 1, 64, 64) and data.images.dtype == np.float32
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
        assert data.polarity[i, : data.n_lesions[i]].tolist() == [
            p for p in data.polarity[i] if p != 0
        ]


def test_lesions_change_the_image():
    kwargs = dict(n_subjects=2, slices_per_subject=4, seed=5, cache=False)
    with_lesions = make_brain_slices(lesion_fraction=1.0, **kwargs)
    without = make_brain_slices(lesion_fraction=0.0, **kwargs)
    assert with_lesions.labels.all() and not without.labels.any()
    # Same subjects: the anatomy is identical, so the tissue maps agree.
    assert (with_lesions.tissue == without.tissue).all()


def test_deterministic_and_seed_dependent():
    kwargs = dict(n_subjects=3, slices_per_subject=4, size=32)
    a = make_brain_slices(seed=1, cache=False, **kwargs)
    b = make_brain_slices(seed=1, cache=False, **kwargs)
    c = make_brain_slices(seed=2, cache=False, **kwargs)
    assert np.array_equal(a.images, b.images) and np.array_equal(a.masks, b.masks)
    assert not np.array_equal(a.images, c.images)
    assert a.images.shape == (12, 1, 32, 32)


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
    assert images.dtype == torch.float32 and images.shape == (48, 1, 64, 64)
    assert labels.dtype == torch.int64


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


def test_bright_fraction_sets_the_lesion_type():
    kwargs = dict(n_subjects=3, slices_per_subject=5, size=32, lesion_fraction=1.0, cache=False)
    dark = make_brain_slices(bright_fraction=0.0, **kwargs)
    bright = make_brain_slices(bright_fraction=1.0, **kwargs)
    assert (dark.polarity <= 0).all() and (dark.polarity < 0).any()
    assert (bright.polarity >= 0).all() and (bright.polarity > 0).any()
    with pytest.raises(ValueError, match="bright_fraction"):
        make_brain_slices(bright_fraction=2.0)
    with pytest.raises(TypeError, match="bright_fraction"):
        make_brain_slices(bright_fraction=None)
