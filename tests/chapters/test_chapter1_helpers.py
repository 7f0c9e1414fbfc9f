"""Unit tests for Chapter1/helpers.py: splits, standardization, IDX/MNIST reading, plots.

The IDX files are written here byte by byte in MNIST's published format (not with the
helper under test), so the reader is checked against the format, not against itself.
"""

from __future__ import annotations

import gzip
import struct
from pathlib import Path

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402
import torch  # noqa: E402
from chapter_modules import load_helpers  # noqa: E402

helpers = load_helpers(1)


@pytest.fixture(autouse=True)
def _close_figures():
    yield
    plt.close("all")


# --------------------------------------------------------------------------------------
# IDX files written by hand
# --------------------------------------------------------------------------------------


def idx_bytes(type_code: int, shape: tuple[int, ...], payload: bytes) -> bytes:
    """Magic number 0x0000{type}{ndim}, big-endian uint32 sizes, then the data."""
    return bytes([0, 0, type_code, len(shape)]) + struct.pack(f">{len(shape)}I", *shape) + payload


def write_bytes(path: Path, content: bytes, compress: bool = False) -> Path:
    if compress:
        with gzip.open(path, "wb") as handle:
            handle.write(content)
    else:
        path.write_bytes(content)
    return path


def fake_mnist_arrays(n: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    images = rng.integers(0, 256, size=(n, 28, 28), dtype=np.uint8)
    labels = rng.integers(0, 10, size=n, dtype=np.uint8)
    return images, labels


def write_mnist_folder(folder: Path, compress: bool = False, n_train=12, n_test=5):
    folder.mkdir(parents=True, exist_ok=True)
    suffix = ".gz" if compress else ""
    expected = {}
    for split, n, seed in (("train", n_train, 1), ("t10k", n_test, 2)):
        images, labels = fake_mnist_arrays(n, seed)
        write_bytes(
            folder / f"{split}-images-idx3-ubyte{suffix}",
            idx_bytes(0x08, images.shape, images.tobytes()),
            compress,
        )
        write_bytes(
            folder / f"{split}-labels-idx1-ubyte{suffix}",
            idx_bytes(0x08, labels.shape, labels.tobytes()),
            compress,
        )
        expected[split] = (images, labels)
    return expected


@pytest.mark.parametrize("compress", [False, True])
def test_read_idx_reads_hand_written_ubyte_images(tmp_path, compress):
    images, _ = fake_mnist_arrays(7, seed=0)
    path = write_bytes(
        tmp_path / ("imgs.gz" if compress else "imgs"),
        idx_bytes(0x08, images.shape, images.tobytes()),
        compress,
    )
    read = helpers.read_idx(path)
    assert read.dtype == np.uint8
    assert read.shape == (7, 28, 28)
    np.testing.assert_array_equal(read, images)


def test_read_idx_recognises_gzip_by_content_not_name(tmp_path):
    labels = np.arange(10, dtype=np.uint8)
    path = write_bytes(
        tmp_path / "labels-idx1-ubyte", idx_bytes(0x08, (10,), labels.tobytes()), True
    )
    np.testing.assert_array_equal(helpers.read_idx(str(path)), labels)


@pytest.mark.parametrize(
    ("code", "dtype"),
    [(0x09, ">i1"), (0x0B, ">i2"), (0x0C, ">i4"), (0x0D, ">f4"), (0x0E, ">f8")],
)
def test_read_idx_handles_every_type_code_big_endian(tmp_path, code, dtype):
    values = np.array([[-3, 0, 5], [7, -1, 2]], dtype=dtype)
    path = write_bytes(tmp_path / "x.idx", idx_bytes(code, values.shape, values.tobytes()))
    read = helpers.read_idx(path)
    assert read.dtype == np.dtype(dtype).newbyteorder("=")
    np.testing.assert_array_equal(read, values.astype(np.dtype(dtype).newbyteorder("=")))


@pytest.mark.parametrize("name", ["w.idx", "w.idx.gz"])
def test_write_idx_matches_the_format_byte_for_byte(tmp_path, name):
    images, _ = fake_mnist_arrays(3, seed=5)
    path = helpers.write_idx(tmp_path / name, torch.from_numpy(images))
    content = gzip.decompress(path.read_bytes()) if name.endswith(".gz") else path.read_bytes()
    assert content == idx_bytes(0x08, images.shape, images.tobytes())
    np.testing.assert_array_equal(helpers.read_idx(path), images)


def test_write_idx_rejects_unsupported_dtype(tmp_path):
    with pytest.raises(TypeError, match="IDX cannot store"):
        helpers.write_idx(tmp_path / "x", np.zeros(3, dtype=np.int64))


def test_read_idx_missing_file(tmp_path):
    with pytest.raises(FileNotFoundError, match="not found.*download=True"):
        helpers.read_idx(tmp_path / "nope-idx3-ubyte")


def test_read_idx_rejects_non_path():
    with pytest.raises(TypeError, match="path must be"):
        helpers.read_idx(123)


def test_read_idx_wrong_magic(tmp_path):
    path = write_bytes(tmp_path / "bad", b"\x01\x02\x08\x01" + struct.pack(">I", 2) + b"\x00\x01")
    with pytest.raises(ValueError, match="magic number"):
        helpers.read_idx(path)


def test_read_idx_rejects_a_png_or_text_file(tmp_path):
    path = write_bytes(tmp_path / "notes.txt", b"this is not an IDX file")
    with pytest.raises(ValueError, match="not an IDX file"):
        helpers.read_idx(path)


def test_read_idx_unknown_type_code(tmp_path):
    path = write_bytes(tmp_path / "bad", idx_bytes(0x07, (2,), b"\x00\x01"))
    with pytest.raises(ValueError, match="unknown IDX type code 0x07"):
        helpers.read_idx(path)


def test_read_idx_too_short_for_header(tmp_path):
    path = write_bytes(tmp_path / "tiny", b"\x00\x00")
    with pytest.raises(ValueError, match="too short"):
        helpers.read_idx(path)


def test_read_idx_truncated_header(tmp_path):
    # declares 3 dimensions but stores only one size
    path = write_bytes(tmp_path / "hdr", bytes([0, 0, 8, 3]) + struct.pack(">I", 5))
    with pytest.raises(ValueError, match="truncated"):
        helpers.read_idx(path)


@pytest.mark.parametrize("compress", [False, True])
def test_read_idx_truncated_data(tmp_path, compress):
    images, _ = fake_mnist_arrays(4, seed=3)
    content = idx_bytes(0x08, images.shape, images.tobytes())[:-100]
    path = write_bytes(tmp_path / "cut", content, compress)
    with pytest.raises(ValueError, match=r"truncated.*needs 3136 data bytes, found 3036"):
        helpers.read_idx(path)


def test_read_idx_cut_off_gzip_stream(tmp_path):
    images, _ = fake_mnist_arrays(4, seed=3)
    whole = gzip.compress(idx_bytes(0x08, images.shape, images.tobytes()))
    path = write_bytes(tmp_path / "cut.gz", whole[: len(whole) // 2])
    with pytest.raises(ValueError, match="cannot be decompressed"):
        helpers.read_idx(path)


def test_read_idx_trailing_bytes(tmp_path):
    path = write_bytes(tmp_path / "long", idx_bytes(0x08, (3,), b"\x01\x02\x03\x04"))
    with pytest.raises(ValueError, match="longer than its header"):
        helpers.read_idx(path)


# --------------------------------------------------------------------------------------
# load_mnist
# --------------------------------------------------------------------------------------


@pytest.mark.parametrize("compress", [False, True])
def test_load_mnist_from_folder(tmp_path, compress):
    expected = write_mnist_folder(tmp_path, compress=compress)
    data = helpers.load_mnist(tmp_path)
    assert data.train_images.dtype == torch.uint8 and data.train_labels.dtype == torch.int64
    assert tuple(data.train_images.shape) == (12, 28, 28)
    assert tuple(data.test_images.shape) == (5, 28, 28)
    np.testing.assert_array_equal(data.train_images.numpy(), expected["train"][0])
    np.testing.assert_array_equal(data.train_labels.numpy(), expected["train"][1])
    np.testing.assert_array_equal(data.test_images.numpy(), expected["t10k"][0])
    np.testing.assert_array_equal(data.test_labels.numpy(), expected["t10k"][1])
    assert "train=(12, 28, 28)" in repr(data)


def test_load_mnist_finds_torchvision_layout(tmp_path):
    expected = write_mnist_folder(tmp_path / "MNIST" / "raw")
    data = helpers.load_mnist(str(tmp_path))
    np.testing.assert_array_equal(data.test_labels.numpy(), expected["t10k"][1])


def test_load_mnist_download_uses_torchvision_and_reuses_files(tmp_path):
    # torchvision finds the (fake) files already in root/MNIST/raw and downloads nothing,
    # so this exercises the Colab code path offline.
    expected = write_mnist_folder(tmp_path / "MNIST" / "raw")
    data = helpers.load_mnist(tmp_path, download=True)
    np.testing.assert_array_equal(data.train_images.numpy(), expected["train"][0])
    np.testing.assert_array_equal(data.test_labels.numpy(), expected["t10k"][1])
    assert data.train_labels.dtype == torch.int64


def test_load_mnist_download_skips_torchvision_when_files_are_present(tmp_path, monkeypatch):
    import torchvision.datasets

    def must_not_run(*args, **kwargs):
        raise AssertionError("torchvision should not be called when the files exist")

    monkeypatch.setattr(torchvision.datasets, "MNIST", must_not_run)
    expected = write_mnist_folder(tmp_path, compress=True)
    data = helpers.load_mnist(tmp_path, download=True)
    np.testing.assert_array_equal(data.test_images.numpy(), expected["t10k"][0])


def test_load_mnist_download_failure_says_what_to_do(tmp_path, monkeypatch):
    import torchvision.datasets

    def offline(self):
        raise RuntimeError("Error downloading train-images-idx3-ubyte.gz: no network")

    monkeypatch.setattr(torchvision.datasets.MNIST, "download", offline)
    with pytest.raises(RuntimeError, match="could not download MNIST.*download=False"):
        helpers.load_mnist(tmp_path / "new", download=True)


def test_load_mnist_missing_folder(tmp_path):
    with pytest.raises(FileNotFoundError, match="MNIST folder not found"):
        helpers.load_mnist(tmp_path / "absent")


def test_load_mnist_missing_file_is_named(tmp_path):
    write_mnist_folder(tmp_path)
    (tmp_path / "t10k-labels-idx1-ubyte").unlink()
    with pytest.raises(FileNotFoundError, match=r"\['t10k-labels-idx1-ubyte'\].*download=True"):
        helpers.load_mnist(tmp_path)


def test_load_mnist_mismatched_counts(tmp_path):
    write_mnist_folder(tmp_path)
    labels = np.zeros(11, dtype=np.uint8)  # 12 training images
    write_bytes(tmp_path / "train-labels-idx1-ubyte", idx_bytes(0x08, (11,), labels.tobytes()))
    with pytest.raises(ValueError, match="12 images but 11 labels"):
        helpers.load_mnist(tmp_path)


def test_load_mnist_wrong_image_shape(tmp_path):
    write_mnist_folder(tmp_path)
    flat = np.zeros((12, 784), dtype=np.uint8)
    write_bytes(tmp_path / "train-images-idx3-ubyte", idx_bytes(0x08, flat.shape, flat.tobytes()))
    with pytest.raises(ValueError, match="images must be 3-D"):
        helpers.load_mnist(tmp_path)


def test_load_mnist_rejects_non_byte_images(tmp_path):
    write_mnist_folder(tmp_path)
    floats = np.zeros((5, 28, 28), dtype=">f4")
    write_bytes(
        tmp_path / "t10k-images-idx3-ubyte", idx_bytes(0x0D, floats.shape, floats.tobytes())
    )
    with pytest.raises(ValueError, match="unsigned bytes"):
        helpers.load_mnist(tmp_path)


def test_load_mnist_labels_out_of_range(tmp_path):
    write_mnist_folder(tmp_path)
    labels = np.full(5, 12, dtype=np.uint8)
    write_bytes(tmp_path / "t10k-labels-idx1-ubyte", idx_bytes(0x08, (5,), labels.tobytes()))
    with pytest.raises(ValueError, match="digits 0-9"):
        helpers.load_mnist(tmp_path)


def test_load_mnist_default_root_uses_course_data_dir(tmp_path, monkeypatch):
    monkeypatch.setenv("BIOS740_DATA_DIR", str(tmp_path))
    write_mnist_folder(tmp_path / "mnist")
    assert helpers.load_mnist().train_images.shape[0] == 12


# --------------------------------------------------------------------------------------
# Splits and standardization
# --------------------------------------------------------------------------------------


def test_stratified_split_is_disjoint_complete_and_stratified():
    labels = np.array([0] * 60 + [1] * 30 + [2] * 10)
    train, val, test = helpers.stratified_split(labels, val_size=0.2, test_size=0.3, seed=4)
    together = np.concatenate([train, val, test])
    assert len(together) == len(set(together.tolist())) == labels.size
    for part, fraction in ((val, 0.2), (test, 0.3), (train, 0.5)):
        counts = np.bincount(labels[part], minlength=3)
        np.testing.assert_allclose(counts, fraction * np.array([60, 30, 10]), atol=1)


def test_stratified_split_is_deterministic_and_depends_on_seed():
    labels = np.tile(np.arange(4), 50)
    first = helpers.stratified_split(labels, seed=11)
    again = helpers.stratified_split(torch.from_numpy(labels), seed=11)
    other = helpers.stratified_split(labels, seed=12)
    for a, b in zip(first, again, strict=True):
        np.testing.assert_array_equal(a, b)
    assert not np.array_equal(first[2], other[2])


def test_stratified_split_without_validation():
    train, val, test = helpers.stratified_split(np.repeat([0, 1], 10), val_size=0.0, test_size=0.5)
    assert val.size == 0 and train.size == test.size == 10


@pytest.mark.parametrize(
    ("kwargs", "error", "message"),
    [
        ({"labels": np.zeros((3, 2))}, ValueError, "1-D"),
        ({"labels": []}, ValueError, "empty"),
        ({"labels": [0, 1] * 5, "val_size": 0.6, "test_size": 0.5}, ValueError, "below 1"),
        ({"labels": [0, 1] * 5, "test_size": 1.5}, ValueError, r"\[0, 1\)"),
        ({"labels": [0, 1] * 5, "test_size": "0.2"}, TypeError, "number"),
        ({"labels": [0, 1] * 5, "seed": 1.5}, TypeError, "seed"),
        ({"labels": [0, 0, 0, 0, 1], "val_size": 0.4, "test_size": 0.4}, ValueError, "too few"),
    ],
)
def test_stratified_split_rejects_bad_input(kwargs, error, message):
    with pytest.raises(error, match=message):
        helpers.stratified_split(**kwargs)


def test_standardizer_uses_training_statistics_and_survives_constant_features():
    train = np.array([[1.0, 5.0], [3.0, 5.0], [5.0, 5.0]])
    scaler = helpers.fit_standardizer(train)
    np.testing.assert_allclose(scaler.mean.numpy(), [3.0, 5.0])
    np.testing.assert_allclose(scaler.std.numpy(), [np.sqrt(8 / 3), 1.0])
    out = scaler.transform(torch.tensor([[3.0, 7.0]], dtype=torch.float64))
    np.testing.assert_allclose(out.numpy(), [[0.0, 2.0]])
    np.testing.assert_allclose(scaler.inverse_transform(out).numpy(), [[3.0, 7.0]])
    with pytest.raises(ValueError, match=r"shape \(n, 2\)"):
        scaler.transform(torch.zeros(2, 3))
    with pytest.raises(ValueError, match="2-D"):
        helpers.fit_standardizer(np.zeros(5))


def test_load_tabular_breast_cancer():
    from sklearn.datasets import load_breast_cancer

    data = helpers.load_tabular("breast_cancer", val_size=0.15, test_size=0.2, seed=0)
    assert data.n_features == 30 and data.class_names == ["malignant", "benign"]
    sizes = [len(data.y_train), len(data.y_val), len(data.y_test)]
    assert sum(sizes) == 569 and sizes[2] == round(0.2 * 212) + round(0.2 * 357)
    assert data.X_train.dtype == torch.float32 and data.y_train.dtype == torch.int64
    # standardized with the training split only: train has mean 0 / sd 1, test does not exactly
    assert torch.allclose(data.X_train.mean(0), torch.zeros(30), atol=1e-5)
    assert torch.allclose(data.X_train.std(0, unbiased=False), torch.ones(30), atol=1e-4)
    assert data.X_test.mean(0).abs().max() > 1e-3
    raw = load_breast_cancer().data
    np.testing.assert_allclose(data.standardizer.mean.numpy(), raw[data.train_idx].mean(0))
    expected_test = (raw[data.test_idx] - raw[data.train_idx].mean(0)) / raw[data.train_idx].std(0)
    np.testing.assert_allclose(data.X_test.numpy(), expected_test, rtol=1e-5, atol=1e-5)
    # class proportions kept in every split
    for y in (data.y_train, data.y_val, data.y_test):
        assert abs(y.float().mean().item() - 357 / 569) < 0.02
    assert "test  n= 113" in data.summary()
    assert repr(data).startswith("TabularSplits(breast_cancer: train 370, val 86, test 113")


def test_load_tabular_digits_and_options():
    data = helpers.load_tabular("digits", seed=3, standardize=False, dtype=torch.float64)
    assert data.image_shape == (8, 8) and data.n_classes == 10 and data.standardizer is None
    assert data.X_train.dtype == torch.float64 and data.X_train.max() == 16.0
    again = helpers.load_tabular("Digits", seed=3)
    np.testing.assert_array_equal(again.test_idx, data.test_idx)
    assert torch.isfinite(again.X_train).all()  # the always-blank pixels do not give NaN
    assert set(data.train_idx).isdisjoint(data.test_idx)


def test_load_tabular_rejects_unknown_names_and_dtypes():
    with pytest.raises(ValueError, match="unknown table 'iris'"):
        helpers.load_tabular("iris")
    with pytest.raises(TypeError, match="string"):
        helpers.load_tabular(3)
    with pytest.raises(TypeError, match="floating"):
        helpers.load_tabular("digits", dtype=torch.int64)


# --------------------------------------------------------------------------------------
# Plots
# --------------------------------------------------------------------------------------


def test_plot_digits_shows_labels_and_marks_mistakes_red():
    images = torch.rand(6, 64)
    fig = helpers.plot_digits(images, labels=[0, 1, 2, 3, 4, 5], predictions=[0, 1, 2, 3, 4, 9])
    assert fig._suptitle.get_text() == "Handwritten digits"
    titled = [ax for ax in fig.axes if ax.get_title()]
    assert len(titled) == 6
    assert titled[-1].get_title() == "5 → 9"
    assert titled[-1].title.get_color() == "red" and titled[0].title.get_color() == "black"


def test_plot_digits_accepts_channel_images_and_rejects_bad_shapes():
    fig = helpers.plot_digits(np.zeros((3, 1, 28, 28)), labels=[1, 2, 3], ncols=2)
    assert len(fig.axes) == 4
    with pytest.raises(ValueError, match="not square"):
        helpers.plot_digits(np.zeros((2, 10)))
    with pytest.raises(ValueError, match="3 images but 2 labels"):
        helpers.plot_digits(np.zeros((3, 8, 8)), labels=[1, 2])
    with pytest.raises(ValueError, match="no images"):
        helpers.plot_digits(np.zeros((0, 8, 8)))


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
    raw = data.train_images[splits.val_idx[0]].reshape(-1).double() / 255
    expected = splits.standardizer.transform(raw[None])[0].float()
    assert torch.allclose(splits.X_val[0], expected, atol=1e-6)
    again = helpers.mnist_splits(data, train_size=100, val_size=0.2, test_size=30, seed=1)
    np.testing.assert_array_equal(again.val_idx, splits.val_idx)


def test_mnist_splits_unstandardized_pixels_are_in_unit_range():
    splits = helpers.mnist_splits(fake_mnist_data(), standardize=False)
    assert splits.standardizer is None
    assert 0.0 <= splits.X_train.min() and splits.X_train.max() <= 1.0
    assert len(splits.y_train) + len(splits.y_val) == 200 and len(splits.y_test) == 50


def test_mnist_splits_rejects_bad_arguments():
    data = fake_mnist_data()
    with pytest.raises(TypeError, match="MNISTData"):
        helpers.mnist_splits((data.train_images, data.train_labels))
    with pytest.raises(ValueError, match="between 10 and 200"):
        helpers.mnist_splits(data, train_size=500)
    with pytest.raises(TypeError, match="train_size"):
        helpers.mnist_splits(data, train_size=0.5)
    with pytest.raises(ValueError, match="test_size"):
        helpers.mnist_splits(data, test_size=0)
