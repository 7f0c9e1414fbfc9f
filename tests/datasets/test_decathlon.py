"""The Decathlon loader on a small task folder written here in the challenge's layout."""

from __future__ import annotations

import hashlib
import json
import tarfile

import numpy as np
import pytest

pytest.importorskip("monai")
nibabel = pytest.importorskip("nibabel")

from bios740.datasets import decathlon  # noqa: E402
from bios740.datasets.decathlon import (  # noqa: E402
    download_decathlon,
    load_decathlon_slices,
    task_resource,
    volume_slices,
)
from bios740.download import DataUnavailableError  # noqa: E402

TASK = "Task04_Hippocampus"
SHAPE = (12, 10, 6)  # x, y, z of the fake volumes


def write_task(root, n_cases=5):
    """A task folder as the archive unpacks: dataset.json, imagesTr/, labelsTr/."""
    folder = root / TASK
    (folder / "imagesTr").mkdir(parents=True)
    (folder / "labelsTr").mkdir()
    rng = np.random.default_rng(0)
    training = []
    for case in range(n_cases):
        image = rng.normal(100.0, 10.0, SHAPE).astype(np.float32)
        label = np.zeros(SHAPE, np.uint8)
        label[3:7, 2:5, 1 + case % 3] = 1  # one labelled plane per case, class 1
        label[5:7, 5:8, 1 + case % 3] = 2
        name = f"hippocampus_{case:03d}.nii.gz"
        nibabel.save(nibabel.Nifti1Image(image, np.eye(4)), folder / "imagesTr" / name)
        nibabel.save(nibabel.Nifti1Image(label, np.eye(4)), folder / "labelsTr" / name)
        training.append({"image": f"./imagesTr/{name}", "label": f"./labelsTr/{name}"})
    (folder / "dataset.json").write_text(
        json.dumps(
            {
                "name": "Hippocampus",
                "description": "fake",
                "reference": "",
                "licence": "CC-BY-SA 4.0",
                "tensorImageSize": "3D",
                "modality": {"0": "MRI"},
                "labels": {"0": "background", "1": "Anterior", "2": "Posterior"},
                "numTraining": n_cases,
                "numTest": 0,
                "training": training,
                "test": [],
            }
        )
    )
    return folder


def test_training_slices_have_one_size_and_keep_their_labels(tmp_path):
    write_task(tmp_path)
    data = load_decathlon_slices(TASK, root=tmp_path, download=False, size=16)
    assert data.images.shape[1:] == (1, 16, 16) and data.images.dtype == np.float32
    assert data.labels.shape == (len(data), 16, 16) and data.labels.dtype == np.int64
    # MONAI's training section holds 80 % of the 5 cases, one labelled plane each
    assert len(data) == 4 and len(set(data.case_ids)) == 4
    assert data.label_names == {0: "background", 1: "Anterior", 2: "Posterior"}
    # labels survive the padding: 4 x 3 voxels of class 1 and 2 x 3 of class 2 per slice
    assert (data.labels == 1).sum((1, 2)).tolist() == [12] * 4
    assert (data.labels == 2).sum((1, 2)).tolist() == [6] * 4
    x, y = data.tensors()
    assert tuple(x.shape) == (4, 1, 16, 16) and tuple(y.shape) == (4, 16, 16)
    assert "4 slices of 16x16 px" in repr(data)


def test_validation_is_the_other_cases(tmp_path):
    write_task(tmp_path)
    train = load_decathlon_slices(TASK, root=tmp_path, download=False, size=16)
    val = load_decathlon_slices(TASK, root=tmp_path, section="validation", download=False, size=16)
    assert len(val) == 1 and not set(val.case_ids) & set(train.case_ids)


def test_volume_slices_standardizes_crops_and_pads():
    rng = np.random.default_rng(1)
    image = rng.normal(5.0, 2.0, (1, 20, 6, 3)).astype(np.float32)
    label = np.zeros((20, 6, 3), np.int64)
    label[8:12, 1:3, 0] = 1
    images, labels = volume_slices(image, label, size=8, axis=2)
    assert images.shape == (1, 1, 8, 8) and labels.shape == (1, 8, 8)
    assert labels.sum() == 8  # the 4 x 2 block survives the centre crop of 20 -> 8 rows
    whole, _ = volume_slices(image, label, size=8, axis=2, only_labelled=False)
    assert whole.shape[0] == 3
    standardized = (image - image.mean()) / image.std()
    np.testing.assert_allclose(whole[0, 0, :, 1:7], standardized[0, 6:14, :, 0], atol=1e-4)
    assert np.all(whole[:, :, :, 0] == 0)  # padding columns


@pytest.mark.parametrize(
    ("image", "label", "size", "axis", "message"),
    [
        (np.zeros((4, 4, 4)), np.zeros((4, 4, 5)), 8, 2, "same size"),
        (np.zeros((4, 4, 4)), np.zeros((4, 4, 4)), 4, 2, "size must"),
        (np.zeros((4, 4, 4)), np.zeros((4, 4, 4)), 8, 3, "axis must"),
    ],
)
def test_volume_slices_rejects_bad_input(image, label, size, axis, message):
    with pytest.raises(ValueError, match=message):
        volume_slices(image, label, size, axis)


def test_missing_folder_says_where_to_get_it(tmp_path):
    with pytest.raises(FileNotFoundError, match="Task04_Hippocampus.tar"):
        load_decathlon_slices(TASK, root=tmp_path, download=False)
    with pytest.raises(ValueError, match="unknown Decathlon task"):
        task_resource("Task99_Nothing")
    with pytest.raises(ValueError, match="section"):
        load_decathlon_slices(TASK, root=tmp_path, section="test", download=False)


def make_archive(tmp_path):
    source = tmp_path / "source"
    write_task(source)
    archive = tmp_path / "served" / f"{TASK}.tar"
    archive.parent.mkdir()
    with tarfile.open(archive, "w") as handle:
        handle.add(source / TASK, arcname=TASK)
    return archive, hashlib.md5(archive.read_bytes()).hexdigest()


def test_download_verifies_and_unpacks(tmp_path):
    archive, md5 = make_archive(tmp_path)
    root = tmp_path / "data"
    folder = download_decathlon(TASK, root, url=archive.as_uri(), md5=md5)
    assert (folder / "dataset.json").is_file() and len(list((folder / "imagesTr").iterdir())) == 5
    # a second call finds the folder and touches nothing
    assert download_decathlon(TASK, root, url="file:///nowhere", md5="0" * 32) == folder


def test_download_with_a_wrong_checksum_fails_clearly(tmp_path):
    archive, _ = make_archive(tmp_path)
    with pytest.raises(DataUnavailableError, match="md5"):
        download_decathlon(TASK, tmp_path / "data", url=archive.as_uri(), md5="0" * 32)
    assert not (tmp_path / "data" / TASK).exists()


def test_offline_download_names_the_archive(tmp_path, monkeypatch):
    monkeypatch.setattr(decathlon, "task_resource", lambda task: ("http://127.0.0.1:9/x", "0"))
    with pytest.raises(DataUnavailableError, match=f"{TASK}.tar"):
        download_decathlon(TASK, tmp_path)
