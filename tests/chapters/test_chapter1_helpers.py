"""Unit tests for Chapter1/helpers.py: MNIST through torchvision, weight images, the graph walk.

The IDX files are written here byte by byte in MNIST's published format (not with the
code under test), so the reader is checked against the format.
"""

from __future__ import annotations

import struct
from pathlib import Path

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402
import torch  # noqa: E402
from chapter_modules import load_helpers  # noqa: E402

from bios740.download import DataUnavailableError  # noqa: E402

helpers = load_helpers(1)


@pytest.fixture(autouse=True)
def _close_figures():
    yield
    plt.close("all")


def idx_bytes(type_code: int, shape: tuple[int, ...], payload: bytes) -> bytes:
    """Magic number 0x0000{type}{ndim}, big-endian uint32 sizes, then the data."""
    return bytes([0, 0, type_code, len(shape)]) + struct.pack(f">{len(shape)}I", *shape) + payload


def write_mnist_folder(root: Path, n_train: int = 12, n_test: int = 5) -> dict:
    """Write the four MNIST IDX files (fake pixels, real format) under root/MNIST/raw."""
    folder = root / "MNIST" / "raw"
    folder.mkdir(parents=True, exist_ok=True)
    expected = {}
    for split, n, seed in (("train", n_train, 1), ("t10k", n_test, 2)):
        rng = np.random.default_rng(seed)
        images = rng.integers(0, 256, size=(n, 28, 28), dtype=np.uint8)
        labels = rng.integers(0, 10, size=n, dtype=np.uint8)
        (folder / f"{split}-images-idx3-ubyte").write_bytes(
            idx_bytes(0x08, images.shape, images.tobytes())
        )
        (folder / f"{split}-labels-idx1-ubyte").write_bytes(
            idx_bytes(0x08, labels.shape, labels.tobytes())
        )
        expected[split] = (images, labels)
    return expected


# --------------------------------------------------------------------------------------
# load_mnist (torchvision reads the files)
# --------------------------------------------------------------------------------------


def test_load_mnist_reads_hand_written_idx_files(tmp_path):
    expected = write_mnist_folder(tmp_path)
    data = helpers.load_mnist(tmp_path)
    assert data.train_images.dtype == torch.uint8 and data.train_labels.dtype == torch.int64
    assert tuple(data.train_images.shape) == (12, 28, 28) and tuple(data.test_images.shape) == (
        5,
        28,
        28,
    )
    np.testing.assert_array_equal(data.train_images.numpy(), expected["train"][0])
    np.testing.assert_array_equal(data.train_labels.numpy(), expected["train"][1])
    np.testing.assert_array_equal(data.test_images.numpy(), expected["t10k"][0])
    np.testing.assert_array_equal(data.test_labels.numpy(), expected["t10k"][1])
    assert "train=(12, 28, 28)" in repr(data)


def test_load_mnist_with_download_reuses_files_and_fetches_nothing(tmp_path, monkeypatch):
    import torchvision.datasets

    def must_not_run(self):
        raise AssertionError("nothing should be downloaded when the files are there")

    monkeypatch.setattr(torchvision.datasets.MNIST, "_download", must_not_run, raising=False)
    monkeypatch.setattr(torchvision.datasets.mnist, "download_and_extract_archive", must_not_run)
    expected = write_mnist_folder(tmp_path)
    data = helpers.load_mnist(str(tmp_path), download=True)
    np.testing.assert_array_equal(data.test_labels.numpy(), expected["t10k"][1])


def test_load_mnist_download_failure_says_what_to_do(tmp_path, monkeypatch):
    import torchvision.datasets

    def offline(*args, **kwargs):
        raise RuntimeError("Error downloading train-images-idx3-ubyte.gz: no network")

    monkeypatch.setattr(torchvision.datasets.MNIST, "download", offline)
    with pytest.raises(DataUnavailableError, match="download=True.*t10k-labels-idx1-ubyte"):
        helpers.load_mnist(tmp_path / "new", download=True)


def test_load_mnist_missing_files_without_download(tmp_path):
    write_mnist_folder(tmp_path)
    (tmp_path / "MNIST" / "raw" / "t10k-labels-idx1-ubyte").unlink()
    with pytest.raises(DataUnavailableError, match="MNIST is not in"):
        helpers.load_mnist(tmp_path)


def test_load_mnist_rejects_a_file_that_is_not_idx(tmp_path):
    write_mnist_folder(tmp_path)
    (tmp_path / "MNIST" / "raw" / "train-images-idx3-ubyte").write_bytes(
        b"\x89PNG not mnist at all"
    )
    with pytest.raises(ValueError, match="not valid IDX"):
        helpers.load_mnist(tmp_path)


def test_load_mnist_mismatched_counts(tmp_path):
    write_mnist_folder(tmp_path)
    labels = np.zeros(11, dtype=np.uint8)  # 12 training images
    path = tmp_path / "MNIST" / "raw" / "train-labels-idx1-ubyte"
    path.write_bytes(idx_bytes(0x08, (11,), labels.tobytes()))
    with pytest.raises(ValueError, match="12, 28, 28.*11 labels"):
        helpers.load_mnist(tmp_path)


def test_load_mnist_labels_out_of_range(tmp_path):
    write_mnist_folder(tmp_path)
    path = tmp_path / "MNIST" / "raw" / "t10k-labels-idx1-ubyte"
    path.write_bytes(idx_bytes(0x08, (5,), np.full(5, 12, dtype=np.uint8).tobytes()))
    with pytest.raises(ValueError, match="digits 0-9"):
        helpers.load_mnist(tmp_path)


def test_load_mnist_rejects_non_paths_and_uses_the_course_data_dir(tmp_path, monkeypatch):
    with pytest.raises(TypeError, match="folder path"):
        helpers.load_mnist(123)
    monkeypatch.setenv("BIOS740_DATA_DIR", str(tmp_path))
    write_mnist_folder(tmp_path / "mnist")
    assert helpers.load_mnist().train_images.shape[0] == 12


def test_load_tabular_is_the_course_package_loader():
    from bios740.datasets import tabular

    assert helpers.load_tabular is tabular.load_tabular


# --------------------------------------------------------------------------------------
# Weight images and the computation graph
# --------------------------------------------------------------------------------------


def test_plot_weight_images():
    weight = torch.randn(10, 64, requires_grad=True)
    fig = helpers.plot_weight_images(weight, (8, 8), class_names=list("0123456789"))
    titles = [ax.get_title() for ax in fig.axes if ax.get_title()]
    assert titles[:2] == ["class 0", "class 1"] and len(titles) == 10
    image = fig.axes[0].images[0]
    low, high = image.get_clim()
    assert low == -high == -weight.abs().max().item()
    binary = helpers.plot_weight_images(np.ones(30), (5, 6), title="binary")
    assert binary._suptitle.get_text() == "binary"
    with pytest.raises(ValueError, match="does not fit 64"):
        helpers.plot_weight_images(weight, (7, 7))
    with pytest.raises(ValueError, match="class names"):
        helpers.plot_weight_images(weight, (8, 8), class_names=["a"])


# --------------------------------------------------------------------------------------
# Computation graph
# --------------------------------------------------------------------------------------


def test_computation_graph_of_a_squared_error():
    w = torch.tensor(0.5, requires_grad=True)
    b = torch.tensor(0.1, requires_grad=True)
    x, y = torch.tensor(2.0), torch.tensor(3.0)  # data: no nodes of their own
    loss = (w * x + b - y) ** 2
    nodes, edges = helpers.computation_graph(loss, {"w": w, "b": b, "loss": loss})
    labels = [node.label.split("\n")[0] for node in nodes]
    assert labels[0] == "PowBackward0" and nodes[0].kind == "output"
    assert "loss, scalar" in nodes[0].label
    assert sorted(labels) == sorted(
        ["PowBackward0", "SubBackward0", "AddBackward0", "MulBackward0", "w", "b"]
    )
    assert sum(node.kind == "leaf" for node in nodes) == 2
    named = {label: i for i, label in enumerate(labels)}
    assert (named["w"], named["MulBackward0"]) in edges
    assert (named["b"], named["AddBackward0"]) in edges
    assert (named["AddBackward0"], named["SubBackward0"]) in edges
    # every edge points from a deeper node to a shallower one (left to right when drawn)
    assert all(nodes[i].depth > nodes[j].depth for i, j in edges)


def test_computation_graph_shared_leaf_and_unnamed_leaves():
    w = torch.randn(3, requires_grad=True)
    out = (w * 2).sum() + w.prod()
    nodes, edges = helpers.computation_graph(out)
    leaves = [node for node in nodes if node.kind == "leaf"]
    assert len(leaves) == 1 and leaves[0].label == "leaf\nshape (3,)"  # one node, two uses
    leaf_index = nodes.index(leaves[0])
    assert sum(source == leaf_index for source, _ in edges) == 2


def test_computation_graph_rejects_tensors_without_history():
    with pytest.raises(ValueError, match="requires_grad=True"):
        helpers.computation_graph(torch.ones(3) * 2)
    w = torch.ones(2, requires_grad=True)
    with torch.no_grad():
        detached = w * 3
    with pytest.raises(ValueError, match="no grad_fn"):
        helpers.computation_graph(detached)
    with pytest.raises(TypeError, match="torch.Tensor"):
        helpers.computation_graph([1.0])


def test_plot_computation_graph_draws_one_box_per_node():
    w = torch.tensor(1.0, requires_grad=True)
    out = torch.sigmoid(w * 3.0)
    fig = helpers.plot_computation_graph(out, {"w": w}, title="tiny")
    ax = fig.axes[0]
    assert ax.get_title() == "tiny"
    texts = [t.get_text() for t in ax.texts if t.get_text()]
    assert len(texts) == 3 and any(t.startswith("w\n") for t in texts)


def test_computation_graph_leaves_are_exactly_what_autograd_differentiates():
    # library twin: the leaves of the walk are the tensors that receive .grad from backward()
    a, b, c = (torch.randn(3, requires_grad=True) for _ in range(3))
    unused = torch.randn(3, requires_grad=True)
    data = torch.randn(3)
    out = (torch.tanh(a * data) + b.exp() * c).sum() + (a * c).mean()
    nodes, _ = helpers.computation_graph(out, {"a": a, "b": b, "c": c, "unused": unused})
    leaves = sorted(node.label.split("\n")[0] for node in nodes if node.kind == "leaf")
    out.backward()
    with_grad = sorted(
        name for name, t in {"a": a, "b": b, "c": c, "unused": unused}.items() if t.grad is not None
    )
    assert leaves == with_grad == ["a", "b", "c"]
    # and every operation node is a grad_fn class name that autograd created
    operations = [node.label.split("\n")[0] for node in nodes if node.kind != "leaf"]
    assert all(name.endswith("Backward0") or name.endswith("Backward1") for name in operations)


# --------------------------------------------------------------------------------------
# mnist_splits
# --------------------------------------------------------------------------------------


def fake_mnist_data(n_train=200, n_test=50) -> helpers.MNISTData:
    rng = np.random.default_rng(0)
    return helpers.MNISTData(
        train_images=torch.from_numpy(rng.integers(0, 256, (n_train, 28, 28), dtype=np.uint8)),
        train_labels=torch.from_numpy(np.arange(n_train) % 10).long(),
        test_images=torch.from_numpy(rng.integers(0, 256, (n_test, 28, 28), dtype=np.uint8)),
        test_labels=torch.from_numpy(np.arange(n_test) % 10).long(),
    )


def test_mnist_splits_subsets_stratifies_and_standardizes():
    data = fake_mnist_data()
    splits = helpers.mnist_splits(data, train_size=100, val_size=0.2, test_size=30, seed=1)
    assert splits.image_shape == (28, 28) and splits.n_features == 784 and splits.n_classes == 10
    assert len(splits.y_train) == 80 and len(splits.y_val) == 20 and len(splits.y_test) == 30
    assert torch.bincount(splits.y_train).tolist() == [8] * 10
    assert set(splits.train_idx).isdisjoint(splits.val_idx)
    np.testing.assert_array_equal(splits.test_idx, np.arange(30))
    assert torch.allclose(splits.X_train.mean(0), torch.zeros(784), atol=1e-5)
    # validation rows are the standardized training images they came from
    raw = data.train_images[splits.val_idx[0]].reshape(1, -1).numpy() / 255
    expected = torch.as_tensor(splits.scaler.transform(raw)[0], dtype=torch.float32)
    assert torch.allclose(splits.X_val[0], expected, atol=1e-6)
    # the test rows use the training statistics too
    test_raw = data.test_images[:30].reshape(30, -1).numpy() / 255
    np.testing.assert_allclose(splits.x_test.numpy(), splits.scaler.transform(test_raw), atol=1e-5)
    again = helpers.mnist_splits(data, train_size=100, val_size=0.2, test_size=30, seed=1)
    np.testing.assert_array_equal(again.val_idx, splits.val_idx)


def test_mnist_splits_unstandardized_pixels_are_in_unit_range():
    splits = helpers.mnist_splits(fake_mnist_data(), standardize=False)
    assert splits.scaler is None
    assert 0.0 <= splits.X_train.min() and splits.X_train.max() <= 1.0
    assert len(splits.y_train) + len(splits.y_val) == 200 and len(splits.y_test) == 50


def test_mnist_splits_rejects_bad_arguments():
    data = fake_mnist_data()
    with pytest.raises(TypeError, match="MNISTData"):
        helpers.mnist_splits((data.train_images, data.train_labels))
    with pytest.raises(ValueError, match="between 10 and 200"):
        helpers.mnist_splits(data, train_size=500)
    with pytest.raises(ValueError, match="train_size"):
        helpers.mnist_splits(data, train_size=0.5)
    with pytest.raises(ValueError, match="test_size"):
        helpers.mnist_splits(data, test_size=0)
