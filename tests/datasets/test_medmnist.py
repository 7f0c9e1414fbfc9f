"""Offline tests of the MedMNIST loader on small files written in MedMNIST's format."""

import hashlib

import numpy as np
import pytest
import torch

from bios740.datasets import medmnist
from bios740.datasets.medmnist import DATASETS, PAPER_RESNET18_28_ACCURACY, load_medmnist
from bios740.download import DataUnavailableError


def write_fake(path, n_channels, n_classes, sizes=(12, 4, 6), seed=0):
    """Write a small .npz with MedMNIST's keys, dtypes and shapes."""
    rng = np.random.default_rng(seed)
    arrays = {}
    for split, n in zip(("train", "val", "test"), sizes, strict=True):
        shape = (n, 28, 28) if n_channels == 1 else (n, 28, 28, n_channels)
        arrays[f"{split}_images"] = rng.integers(0, 256, size=shape, dtype=np.uint8)
        arrays[f"{split}_labels"] = rng.integers(0, n_classes, size=(n, 1), dtype=np.uint8)
    np.savez(path, **arrays)
    return arrays


@pytest.mark.parametrize("name", ["pathmnist", "bloodmnist", "breastmnist"])
def test_load_fake_file(tmp_path, name):
    info = DATASETS[name]
    arrays = write_fake(tmp_path / f"{name}.npz", info.n_channels, info.n_classes)
    data = load_medmnist(name, root=tmp_path, download=False)
    images, labels = data.train
    assert images.shape == (12, info.n_channels, 28, 28) and images.dtype == torch.float32
    assert labels.shape == (12,) and labels.dtype == torch.int64
    assert 0.0 <= images.min() and images.max() <= 1.0
    assert len(data.val[1]) == 4 and len(data.test[1]) == 6
    assert labels.tolist() == arrays["train_labels"][:, 0].tolist()
    # Channel order: the last axis of the file becomes the second axis of the tensor.
    first = arrays["train_images"][0]
    expected = first[None] if info.n_channels == 1 else np.moveaxis(first, -1, 0)
    assert torch.allclose(images[0], torch.from_numpy(expected / 255.0).float())
    assert name in repr(data)


def test_download_from_local_url_and_md5(tmp_path, monkeypatch):
    source = tmp_path / "server"
    source.mkdir()
    write_fake(source / "breastmnist.npz", 1, 2)
    digest = hashlib.md5((source / "breastmnist.npz").read_bytes()).hexdigest()
    monkeypatch.setattr(medmnist, "BASE_URL", source.as_uri())
    fake_info = medmnist.MedMNISTInfo("breastmnist", digest, 1, ("a", "b"), "fake")
    monkeypatch.setitem(medmnist.DATASETS, "breastmnist", fake_info)
    data = load_medmnist("breastmnist", root=tmp_path / "data", max_per_split=5)
    assert (tmp_path / "data" / "breastmnist.npz").is_file()
    assert data.train[0].shape == (5, 1, 28, 28)


def test_wrong_md5_is_rejected(tmp_path, monkeypatch):
    source = tmp_path / "server"
    source.mkdir()
    write_fake(source / "breastmnist.npz", 1, 2)
    monkeypatch.setattr(medmnist, "BASE_URL", source.as_uri())
    with pytest.raises(DataUnavailableError, match="md5"):
        load_medmnist("breastmnist", root=tmp_path / "data")


def test_offline_error_names_the_file(tmp_path, monkeypatch):
    monkeypatch.setattr(medmnist, "BASE_URL", (tmp_path / "nowhere").as_uri())
    with pytest.raises(DataUnavailableError, match="bloodmnist.npz"):
        load_medmnist("bloodmnist", root=tmp_path)
    with pytest.raises(FileNotFoundError, match="bloodmnist.npz") as error:
        load_medmnist("bloodmnist", root=tmp_path, download=False)
    assert str(tmp_path) in str(error.value)


def test_bad_input(tmp_path):
    with pytest.raises(ValueError, match="unknown MedMNIST"):
        load_medmnist("mnist", root=tmp_path, download=False)
    with pytest.raises(TypeError):
        load_medmnist(3, root=tmp_path, download=False)
    np.savez(tmp_path / "pathmnist.npz", x=np.zeros(3))
    with pytest.raises(ValueError, match="not a MedMNIST file"):
        load_medmnist("pathmnist", root=tmp_path, download=False)
    write_fake(tmp_path / "breastmnist.npz", 3, 2)  # colour images for a grey-scale set
    with pytest.raises(ValueError, match="channels"):
        load_medmnist("breastmnist", root=tmp_path, download=False)
    write_fake(tmp_path / "pneumoniamnist.npz", 1, 5)  # labels beyond the two classes
    with pytest.raises(ValueError, match="labels must lie"):
        load_medmnist("pneumoniamnist", root=tmp_path, download=False)


def test_paper_accuracies():
    assert PAPER_RESNET18_28_ACCURACY["pathmnist"] == 0.907
    assert PAPER_RESNET18_28_ACCURACY["bloodmnist"] == 0.958
    assert PAPER_RESNET18_28_ACCURACY["breastmnist"] == 0.863
    assert set(PAPER_RESNET18_28_ACCURACY) <= set(DATASETS)
    assert all(len(info.md5) == 32 for info in DATASETS.values())
