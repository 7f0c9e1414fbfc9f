"""Chapter 1 helpers: tabular data splits, the MNIST IDX format, digit and weight plots.

What is here, and which notebooks use it:

* :func:`stratified_split`, :func:`fit_standardizer` and :func:`load_tabular` split
  scikit-learn's breast cancer and digits tables into train/validation/test sets that keep
  the class proportions, standardize them with statistics of the training split only and
  return torch tensors (notebooks 03 and 04, homework 1).
* :func:`read_idx`, :func:`write_idx` and :func:`load_mnist` read and write the IDX
  ("ubyte") files in which MNIST is distributed; ``load_mnist(download=True)`` fetches
  MNIST with torchvision (the Colab path), otherwise it reads the files from a folder.
* :func:`plot_digits` and :func:`plot_weight_images` draw digit images and the weights of
  a linear (logistic-regression) classifier as one image per class.
* :func:`computation_graph` and :func:`plot_computation_graph` walk autograd's graph from
  a result back to the leaf tensors (``grad_fn.next_functions``) and draw it with
  matplotlib alone (notebook 02).

Everything validates its input and raises ``ValueError``, ``TypeError`` or
``FileNotFoundError`` with a message that says what is wrong and how to fix it.
"""

from __future__ import annotations

import gzip
import math
import struct
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np
import torch

__all__ = [
    "IDX_DTYPES",
    "MNIST_FILES",
    "MNISTData",
    "Standardizer",
    "TabularSplits",
    "computation_graph",
    "fit_standardizer",
    "load_mnist",
    "mnist_splits",
    "load_tabular",
    "plot_computation_graph",
    "plot_digits",
    "plot_weight_images",
    "read_idx",
    "stratified_split",
    "write_idx",
]

# --------------------------------------------------------------------------------------
# Splitting and standardizing tables
# --------------------------------------------------------------------------------------


def _check_fraction(name: str, value: float) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float, np.floating)):
        raise TypeError(f"{name} must be a number between 0 and 1, not {type(value).__name__}")
    if not 0.0 <= float(value) < 1.0:
        raise ValueError(f"{name} must be in [0, 1), got {value}")
    return float(value)


def stratified_split(
    labels,
    val_size: float = 0.2,
    test_size: float = 0.2,
    seed: int = 0,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Split example indices into train, validation and test sets, stratified by class.

    Each class is shuffled with its own draw from one seeded generator and cut into the
    three parts in the requested proportions, so every part keeps (up to rounding) the
    class proportions of the whole table. The same labels and seed always give the same
    split; the three index arrays are disjoint and together cover every example.

    Args:
        labels: class label of every example (1-D array, list or tensor of integers).
        val_size: fraction of each class that goes to the validation set (may be 0).
        test_size: fraction of each class that goes to the test set (may be 0).
        seed: seed of the random permutation.

    Returns:
        ``(train_idx, val_idx, test_idx)``: sorted integer index arrays.
    """
    if isinstance(labels, torch.Tensor):
        labels = labels.detach().cpu().numpy()
    labels = np.asarray(labels)
    if labels.ndim != 1:
        raise ValueError(f"labels must be 1-D (one label per example), got shape {labels.shape}")
    if labels.size == 0:
        raise ValueError("labels is empty: there is nothing to split")
    val_size = _check_fraction("val_size", val_size)
    test_size = _check_fraction("test_size", test_size)
    if val_size + test_size >= 1.0:
        raise ValueError(
            f"val_size + test_size must be below 1 so that training data remain, "
            f"got {val_size} + {test_size}"
        )
    if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)):
        raise TypeError(f"seed must be an int, not {type(seed).__name__}")

    rng = np.random.default_rng(int(seed))
    parts: tuple[list, list, list] = ([], [], [])
    for label in np.unique(labels):
        members = np.flatnonzero(labels == label)
        members = members[rng.permutation(members.size)]
        n_test = int(round(test_size * members.size))
        n_val = int(round(val_size * members.size))
        if members.size - n_test - n_val < 1:
            raise ValueError(
                f"class {label!r} has only {members.size} examples, too few for a training "
                f"example after taking validation and test examples; lower val_size/test_size"
            )
        parts[2].append(members[:n_test])
        parts[1].append(members[n_test : n_test + n_val])
        parts[0].append(members[n_test + n_val :])
    train_idx, val_idx, test_idx = (np.sort(np.concatenate(p)).astype(np.int64) for p in parts)
    return train_idx, val_idx, test_idx


@dataclass
class Standardizer:
    """Per-feature mean and standard deviation, fitted on training data only.

    ``transform(x)`` returns ``(x - mean) / std``. Features that are constant in the
    training data (standard deviation 0, e.g. the always-blank border pixels of the
    digits) are only centred, so that no division by zero can occur.
    """

    mean: torch.Tensor
    std: torch.Tensor

    def transform(self, features: torch.Tensor) -> torch.Tensor:
        """``(features - mean) / std``, in float64, on the device of ``features``."""
        features = torch.as_tensor(features)
        if features.ndim != 2 or features.shape[1] != self.mean.numel():
            raise ValueError(
                f"expected features of shape (n, {self.mean.numel()}), got {tuple(features.shape)}"
            )
        mean, std = self.mean.to(features.device), self.std.to(features.device)
        return (features.to(mean.dtype) - mean) / std

    def inverse_transform(self, standardized: torch.Tensor) -> torch.Tensor:
        """Undo :meth:`transform`: ``standardized * std + mean`` (float64)."""
        standardized = torch.as_tensor(standardized)
        mean, std = self.mean.to(standardized.device), self.std.to(standardized.device)
        return standardized.to(mean.dtype) * std + mean


def fit_standardizer(train_features) -> Standardizer:
    """Fit a :class:`Standardizer` on the training features (2-D, ``(n, features)``)."""
    features = torch.tensor(np.array(train_features, dtype=np.float64))  # a writable copy
    if features.ndim != 2:
        raise ValueError(
            f"train_features must be 2-D (examples x features), got shape {tuple(features.shape)}"
        )
    if features.shape[0] < 2:
        raise ValueError("need at least 2 training examples to estimate a standard deviation")
    mean = features.mean(dim=0)
    std = features.std(dim=0, unbiased=False)
    std = torch.where(std > 0, std, torch.ones_like(std))
    return Standardizer(mean=mean, std=std)


@dataclass
class TabularSplits:
    """Train/validation/test tensors of one table, plus what produced them.

    ``X_*`` are float tensors ``(n, features)`` (standardized with training statistics
    when asked), ``y_*`` are int64 class labels. ``images_shape`` is ``(8, 8)`` for the
    digits (so weights and rows can be drawn as images) and ``None`` otherwise.
    """

    X_train: torch.Tensor
    y_train: torch.Tensor
    X_val: torch.Tensor
    y_val: torch.Tensor
    X_test: torch.Tensor
    y_test: torch.Tensor
    feature_names: list[str]
    class_names: list[str]
    train_idx: np.ndarray
    val_idx: np.ndarray
    test_idx: np.ndarray
    standardizer: Standardizer | None = None
    image_shape: tuple[int, int] | None = None
    name: str = ""
    extra: dict = field(default_factory=dict)

    @property
    def n_features(self) -> int:
        return self.X_train.shape[1]

    @property
    def n_classes(self) -> int:
        return len(self.class_names)

    def __repr__(self) -> str:
        return (
            f"TabularSplits({self.name}: train {len(self.y_train)}, val {len(self.y_val)}, "
            f"test {len(self.y_test)}; {self.n_features} features, {self.n_classes} classes)"
        )

    def summary(self) -> str:
        """One line per split: size and class counts."""
        lines = [f"{self.name}: {self.n_features} features, {self.n_classes} classes"]
        for split in ("train", "val", "test"):
            y = getattr(self, f"y_{split}")
            counts = torch.bincount(y, minlength=self.n_classes).tolist()
            lines.append(f"  {split:5s} n={len(y):4d}  class counts={counts}")
        return "\n".join(lines)


_TABLES = ("breast_cancer", "digits")


def load_tabular(
    name: str,
    val_size: float = 0.2,
    test_size: float = 0.2,
    seed: int = 0,
    standardize: bool = True,
    dtype: torch.dtype = torch.float32,
) -> TabularSplits:
    """Load a table that ships with scikit-learn and split it for training.

    Args:
        name: ``"breast_cancer"`` (569 tumours x 30 features, 0 = malignant,
            1 = benign) or ``"digits"`` (1,797 handwritten digits, 8 x 8 pixels = 64
            features with values 0-16, classes 0-9).
        val_size, test_size: fractions of every class in the validation and test sets.
        seed: seed of the split (see :func:`stratified_split`).
        standardize: subtract the training mean and divide by the training standard
            deviation, feature by feature. Validation and test data are transformed with
            the *training* statistics, so nothing about them leaks into the model.
        dtype: floating dtype of the feature tensors.

    Returns:
        :class:`TabularSplits`.
    """
    if not isinstance(name, str):
        raise TypeError(f"name must be a string, one of {_TABLES}")
    key = name.lower().replace("-", "_").replace(" ", "_")
    from sklearn import datasets  # imported here: plotting/IDX users need not pay for it

    if key == "breast_cancer":
        bunch = datasets.load_breast_cancer()
        feature_names = [str(f) for f in bunch.feature_names]
        image_shape = None
    elif key == "digits":
        bunch = datasets.load_digits()
        feature_names = [f"pixel_{r}_{c}" for r in range(8) for c in range(8)]
        image_shape = (8, 8)
    else:
        raise ValueError(f"unknown table {name!r}; choose one of {_TABLES}")
    if not (isinstance(dtype, torch.dtype) and dtype.is_floating_point):
        raise TypeError(f"dtype must be a floating torch dtype such as torch.float32, got {dtype}")

    features = np.asarray(bunch.data, dtype=np.float64)
    labels = np.asarray(bunch.target, dtype=np.int64)
    train_idx, val_idx, test_idx = stratified_split(labels, val_size, test_size, seed)

    standardizer = fit_standardizer(features[train_idx]) if standardize else None

    def prepare(index: np.ndarray) -> tuple[torch.Tensor, torch.Tensor]:
        x = torch.as_tensor(features[index], dtype=torch.float64)
        if standardizer is not None:
            x = standardizer.transform(x)
        return x.to(dtype), torch.as_tensor(labels[index])

    X_train, y_train = prepare(train_idx)
    X_val, y_val = prepare(val_idx)
    X_test, y_test = prepare(test_idx)
    return TabularSplits(
        X_train=X_train,
        y_train=y_train,
        X_val=X_val,
        y_val=y_val,
        X_test=X_test,
        y_test=y_test,
        feature_names=feature_names,
        class_names=[str(c) for c in bunch.target_names],
        train_idx=train_idx,
        val_idx=val_idx,
        test_idx=test_idx,
        standardizer=standardizer,
        image_shape=image_shape,
        name=key,
    )


# --------------------------------------------------------------------------------------
# The IDX file format (MNIST)
# --------------------------------------------------------------------------------------

# IDX type code (third byte of the magic number) -> big-endian NumPy dtype.
IDX_DTYPES: dict[int, np.dtype] = {
    0x08: np.dtype(">u1"),
    0x09: np.dtype(">i1"),
    0x0B: np.dtype(">i2"),
    0x0C: np.dtype(">i4"),
    0x0D: np.dtype(">f4"),
    0x0E: np.dtype(">f8"),
}
_GZIP_MAGIC = b"\x1f\x8b"


def _read_bytes(path: Path) -> bytes:
    with open(path, "rb") as handle:
        start = handle.read(2)
    try:
        if start == _GZIP_MAGIC:
            with gzip.open(path, "rb") as handle:
                return handle.read()
        return path.read_bytes()
    except (OSError, EOFError) as error:  # a damaged or cut-off gzip stream
        raise ValueError(
            f"{path} looks gzip-compressed but cannot be decompressed: {error}"
        ) from error


def read_idx(path) -> np.ndarray:
    """Read an IDX file (the format of the MNIST ``*-ubyte`` files), gzip-compressed or not.

    The format: two zero bytes, a type code (``0x08`` = unsigned byte, ...), the number of
    dimensions ``d``, then ``d`` big-endian 32-bit sizes, then the values in C order.
    Compression is recognised from the file's first bytes, not its name.

    Args:
        path: the file, e.g. ``data/mnist/train-images-idx3-ubyte.gz``.

    Returns:
        A NumPy array with the stored shape, in native byte order (``uint8`` for MNIST).

    Raises:
        FileNotFoundError: the file does not exist.
        ValueError: the file is not a valid IDX file (bad magic number, unknown type code,
            or a size that does not match the header, e.g. a truncated download).
    """
    if not isinstance(path, (str, Path)):
        raise TypeError(f"path must be a str or pathlib.Path, not {type(path).__name__}")
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(
            f"IDX file not found: {path}. Check the folder, or use load_mnist(root, "
            f"download=True) to fetch MNIST."
        )
    raw = _read_bytes(path)
    if len(raw) < 4:
        raise ValueError(f"{path} has {len(raw)} bytes, too short for an IDX header (4 bytes)")
    zero1, zero2, type_code, ndim = raw[0], raw[1], raw[2], raw[3]
    if zero1 != 0 or zero2 != 0:
        raise ValueError(
            f"{path} is not an IDX file: its magic number {raw[:4].hex()} should start with "
            f"two zero bytes (MNIST images start 00000803, labels 00000801)"
        )
    if type_code not in IDX_DTYPES:
        known = ", ".join(f"0x{code:02X}" for code in IDX_DTYPES)
        raise ValueError(f"{path}: unknown IDX type code 0x{type_code:02X} (known: {known})")
    if ndim == 0:
        raise ValueError(f"{path}: the IDX header declares 0 dimensions")
    header_size = 4 + 4 * ndim
    if len(raw) < header_size:
        raise ValueError(
            f"{path} is truncated: the header declares {ndim} dimensions "
            f"({header_size} header bytes) but the file has {len(raw)} bytes"
        )
    shape = struct.unpack(f">{ndim}I", raw[4:header_size])
    dtype = IDX_DTYPES[type_code]
    expected = math.prod(shape) * dtype.itemsize
    found = len(raw) - header_size
    if found != expected:
        problem = "truncated" if found < expected else "longer than its header says"
        raise ValueError(
            f"{path} is {problem}: shape {shape} of {dtype.name} needs {expected} data bytes, "
            f"found {found}. Delete the file and download it again."
        )
    data = np.frombuffer(raw, dtype=dtype, offset=header_size).reshape(shape)
    return data.astype(dtype.newbyteorder("="))


def write_idx(path, array) -> Path:
    """Write an array as an IDX file (gzip-compressed when ``path`` ends in ``.gz``).

    Supported dtypes: uint8, int8, int16, int32, float32, float64. Used by the tests and
    handy for saving small data sets in MNIST's format.
    """
    if isinstance(array, torch.Tensor):
        array = array.detach().cpu().numpy()
    array = np.asarray(array)
    if array.ndim == 0 or array.ndim > 255:
        raise ValueError(f"array must have between 1 and 255 dimensions, got {array.ndim}")
    codes = {dt.newbyteorder("="): code for code, dt in IDX_DTYPES.items()}
    native = array.dtype.newbyteorder("=")
    if native not in codes:
        raise TypeError(
            f"IDX cannot store dtype {array.dtype}; use one of {sorted(map(str, codes))}"
        )
    header = bytes([0, 0, codes[native], array.ndim]) + struct.pack(f">{array.ndim}I", *array.shape)
    payload = header + np.ascontiguousarray(array, dtype=IDX_DTYPES[codes[native]]).tobytes()
    path = Path(path)
    opener = gzip.open if path.suffix == ".gz" else open
    with opener(path, "wb") as handle:
        handle.write(payload)
    return path


# --------------------------------------------------------------------------------------
# MNIST
# --------------------------------------------------------------------------------------

# Split -> (images file, labels file), names as published (without ".gz").
MNIST_FILES = {
    "train": ("train-images-idx3-ubyte", "train-labels-idx1-ubyte"),
    "test": ("t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte"),
}


@dataclass
class MNISTData:
    """MNIST as tensors: images ``uint8 (n, 28, 28)``, labels ``int64 (n,)``."""

    train_images: torch.Tensor
    train_labels: torch.Tensor
    test_images: torch.Tensor
    test_labels: torch.Tensor

    def __repr__(self) -> str:
        return (
            f"MNISTData(train={tuple(self.train_images.shape)}, "
            f"test={tuple(self.test_images.shape)})"
        )


def _find_idx_file(folders: Sequence[Path], stem: str) -> Path | None:
    # Accept the published names, with or without .gz, and the common "-idx3-" -> ".idx3-"
    # variant some mirrors use.
    variants = [stem, stem.replace("-idx", ".idx")]
    for folder in folders:
        for variant in variants:
            for suffix in ("", ".gz"):
                candidate = folder / f"{variant}{suffix}"
                if candidate.is_file():
                    return candidate
    return None


def _check_mnist_pair(images: np.ndarray, labels: np.ndarray, where: str) -> None:
    if images.ndim != 3:
        raise ValueError(
            f"{where}: images must be 3-D (n, height, width), got shape {images.shape}"
        )
    if images.dtype != np.uint8:
        raise ValueError(
            f"{where}: images must be unsigned bytes (IDX type 0x08) as in MNIST, got {images.dtype}"
        )
    if labels.ndim != 1:
        raise ValueError(f"{where}: labels must be 1-D, got shape {labels.shape}")
    if images.shape[0] != labels.shape[0]:
        raise ValueError(
            f"{where}: {images.shape[0]} images but {labels.shape[0]} labels; the files "
            f"do not belong together"
        )
    if labels.size and (labels.min() < 0 or labels.max() > 9):
        raise ValueError(
            f"{where}: labels must be digits 0-9, found {labels.min()}..{labels.max()}"
        )


def load_mnist(root=None, download: bool = False) -> MNISTData:
    """Load MNIST's 60,000 training and 10,000 test images.

    Args:
        root: the folder with the four IDX files (``train-images-idx3-ubyte`` etc., each
            optionally ``.gz``), directly or in torchvision's layout ``root/MNIST/raw/``.
            ``None`` means ``bios740.paths.data_dir("mnist")``.
        download: if any file is missing, fetch MNIST with ``torchvision.datasets.MNIST``
            into ``root/MNIST/raw`` (needs internet; on Colab with Drive mounted the files
            stay on Drive for the next session). Files already there are not fetched again.

    Returns:
        :class:`MNISTData`.

    Raises:
        FileNotFoundError: a file is missing and ``download`` is False.
        ValueError: a file is not valid IDX, or images and labels do not match.
    """
    if root is None:
        from bios740.paths import data_dir

        root = data_dir("mnist")
    if not isinstance(root, (str, Path)):
        raise TypeError(f"root must be a folder path (str or Path), not {type(root).__name__}")
    root = Path(root).expanduser()
    folders = [root, root / "MNIST" / "raw", root / "raw"]
    have_all = all(
        _find_idx_file(folders, stem) is not None
        for stems in MNIST_FILES.values()
        for stem in stems
    )
    if download and not have_all:
        from torchvision.datasets import MNIST

        root.mkdir(parents=True, exist_ok=True)
        try:
            parts = {
                split: MNIST(str(root), train=split == "train", download=True)
                for split in MNIST_FILES
            }
        except Exception as error:  # torchvision raises RuntimeError/URLError offline
            raise RuntimeError(
                f"could not download MNIST into {root / 'MNIST' / 'raw'}: {error}. Without "
                f"internet, copy the four files {sorted(MNIST_FILES['train'] + MNIST_FILES['test'])} "
                f"(optionally .gz) into {root} and call load_mnist(root, download=False)."
            ) from error
        for split, dataset in parts.items():
            _check_mnist_pair(dataset.data.numpy(), dataset.targets.numpy(), f"MNIST {split}")
        return MNISTData(
            train_images=parts["train"].data.to(torch.uint8),
            train_labels=parts["train"].targets.to(torch.int64),
            test_images=parts["test"].data.to(torch.uint8),
            test_labels=parts["test"].targets.to(torch.int64),
        )

    if not root.is_dir():
        raise FileNotFoundError(
            f"MNIST folder not found: {root}. Pass the folder that holds the IDX files, or "
            f"load_mnist(root, download=True) to download them."
        )
    arrays = {}
    missing = []
    for stems in MNIST_FILES.values():
        for stem in stems:
            found = _find_idx_file(folders, stem)
            if found is None:
                missing.append(stem)
            else:
                arrays[stem] = read_idx(found)
    if missing:
        raise FileNotFoundError(
            f"MNIST files missing in {root} (also looked in MNIST/raw/): {missing} "
            f"(with or without .gz). Call load_mnist(root, download=True) with internet, "
            f"or copy the files there."
        )
    tensors = {}
    for split, (image_stem, label_stem) in MNIST_FILES.items():
        images, labels = arrays[image_stem], arrays[label_stem]
        _check_mnist_pair(images, labels, f"MNIST {split} files in {root}")
        tensors[split] = (
            torch.from_numpy(np.ascontiguousarray(images, dtype=np.uint8)),
            torch.from_numpy(labels.astype(np.int64)),
        )
    return MNISTData(*tensors["train"], *tensors["test"])


def mnist_splits(
    data: MNISTData,
    train_size: int | None = None,
    val_size: float = 0.2,
    test_size: int | None = None,
    seed: int = 0,
    standardize: bool = True,
    dtype: torch.dtype = torch.float32,
) -> TabularSplits:
    """Turn :class:`MNISTData` into flattened train/validation/test tensors.

    Pixels are scaled to [0, 1] and flattened to 784 features. The validation set is a
    stratified share of the (optionally subsampled) official training images; the test
    set is the official test set (optionally its first ``test_size`` images). With
    ``standardize``, features are standardized with training statistics only.

    Args:
        data: the output of :func:`load_mnist`.
        train_size: use a stratified random subset of about this many training images
            (None: all 60,000), e.g. 10,000 to train fast on a CPU.
        val_size: fraction of the training images held out for validation.
        test_size: use the first ``test_size`` test images (None: all 10,000).
        seed: seed of the subset and the split.
    """
    if not isinstance(data, MNISTData):
        raise TypeError(
            f"data must be the MNISTData returned by load_mnist, not {type(data).__name__}"
        )
    labels = data.train_labels.cpu().numpy()
    n_train = len(labels)
    if train_size is not None:
        if isinstance(train_size, bool) or not isinstance(train_size, int):
            raise TypeError(f"train_size must be an int or None, not {type(train_size).__name__}")
        if not 10 <= train_size <= n_train:
            raise ValueError(f"train_size must be between 10 and {n_train}, got {train_size}")
    if test_size is not None and (
        isinstance(test_size, bool) or not isinstance(test_size, int) or test_size < 1
    ):
        raise ValueError(f"test_size must be a positive int or None, got {test_size!r}")
    pool = np.arange(n_train)
    if train_size is not None and train_size < n_train:
        _, _, pool = stratified_split(labels, 0.0, train_size / n_train, seed)
    train_part, val_part, _ = stratified_split(labels[pool], val_size, 0.0, seed)
    train_idx, val_idx = pool[train_part], pool[val_part]
    n_test = len(data.test_labels) if test_size is None else min(test_size, len(data.test_labels))
    test_idx = np.arange(n_test)

    height, width = data.train_images.shape[1:]
    train_pixels = data.train_images.reshape(n_train, -1).to(torch.float64) / 255.0
    test_pixels = data.test_images[:n_test].reshape(n_test, -1).to(torch.float64) / 255.0
    standardizer = fit_standardizer(train_pixels[train_idx]) if standardize else None

    def prepare(pixels: torch.Tensor) -> torch.Tensor:
        return (standardizer.transform(pixels) if standardizer is not None else pixels).to(dtype)

    return TabularSplits(
        X_train=prepare(train_pixels[train_idx]),
        y_train=data.train_labels[train_idx].to(torch.int64),
        X_val=prepare(train_pixels[val_idx]),
        y_val=data.train_labels[val_idx].to(torch.int64),
        X_test=prepare(test_pixels),
        y_test=data.test_labels[:n_test].to(torch.int64),
        feature_names=[f"pixel_{r}_{c}" for r in range(height) for c in range(width)],
        class_names=[str(digit) for digit in range(10)],
        train_idx=train_idx,
        val_idx=val_idx,
        test_idx=test_idx,
        standardizer=standardizer,
        image_shape=(int(height), int(width)),
        name="mnist",
    )


# --------------------------------------------------------------------------------------
# Plots
# --------------------------------------------------------------------------------------


def _as_numpy(array) -> np.ndarray:
    if isinstance(array, torch.Tensor):
        array = array.detach().cpu().numpy()
    return np.asarray(array)


def _as_images(images, image_shape: tuple[int, int] | None) -> np.ndarray:
    array = _as_numpy(images).astype(np.float64)
    if array.ndim == 2 and image_shape is not None:
        if array.shape[1] != image_shape[0] * image_shape[1]:
            raise ValueError(
                f"rows of length {array.shape[1]} cannot be shown as {image_shape} images"
            )
        array = array.reshape(-1, *image_shape)
    elif array.ndim == 2:
        side = math.isqrt(array.shape[1])
        if side * side != array.shape[1]:
            raise ValueError(
                f"rows of length {array.shape[1]} are not square images; pass image_shape"
            )
        array = array.reshape(-1, side, side)
    if array.ndim == 4 and array.shape[1] == 1:
        array = array[:, 0]
    if array.ndim != 3:
        raise ValueError(
            f"images must be (n, height, width), (n, 1, height, width) or flattened (n, pixels); "
            f"got shape {array.shape}"
        )
    return array


def plot_digits(
    images,
    labels=None,
    predictions=None,
    ncols: int = 10,
    image_shape: tuple[int, int] | None = None,
    title: str = "Handwritten digits",
    size: float = 1.1,
    class_names: Sequence[str] | None = None,
):
    """Show digit images in a grid, titled with their labels (and predictions).

    Args:
        images: ``(n, h, w)``, ``(n, 1, h, w)`` or flattened ``(n, h*w)`` (square, or give
            ``image_shape``), array or tensor.
        labels: true labels, shown as ``"label 3"``.
        predictions: predicted labels; shown as ``"3 → 5"`` (true → predicted), in red when
            they differ from ``labels``.
        ncols: images per row.
        image_shape: ``(h, w)`` of flattened rows.
        title: figure title.
        size: inches per image.
        class_names: names to show instead of the integer labels.

    Returns:
        The matplotlib ``Figure``.
    """
    array = _as_images(images, image_shape)
    count = array.shape[0]
    if count == 0:
        raise ValueError("no images to show")
    labels = None if labels is None else _as_numpy(labels).reshape(-1)
    predictions = None if predictions is None else _as_numpy(predictions).reshape(-1)
    for name, values in (("labels", labels), ("predictions", predictions)):
        if values is not None and values.shape[0] != count:
            raise ValueError(f"{count} images but {values.shape[0]} {name}")
    if not isinstance(ncols, int) or ncols < 1:
        raise ValueError(f"ncols must be a positive int, got {ncols!r}")

    def name_of(value) -> str:
        return str(class_names[int(value)]) if class_names is not None else str(int(value))

    ncols = min(ncols, count)
    nrows = math.ceil(count / ncols)
    fig, axes = plt.subplots(
        nrows, ncols, figsize=(size * ncols, size * nrows + 0.5), squeeze=False
    )
    for index, ax in enumerate(axes.flat):
        ax.axis("off")
        if index >= count:
            continue
        ax.imshow(array[index], cmap="gray_r", interpolation="nearest")
        if predictions is not None and labels is not None:
            wrong = int(labels[index]) != int(predictions[index])
            ax.set_title(
                f"{name_of(labels[index])} → {name_of(predictions[index])}",
                fontsize=8,
                color="red" if wrong else "black",
            )
        elif predictions is not None:
            ax.set_title(f"pred {name_of(predictions[index])}", fontsize=8)
        elif labels is not None:
            ax.set_title(f"label {name_of(labels[index])}", fontsize=8)
    fig.suptitle(title)
    fig.tight_layout()
    return fig


def plot_weight_images(
    weight,
    image_shape: tuple[int, int],
    class_names: Sequence[str] | None = None,
    title: str = "Logistic-regression weights per class",
    ncols: int = 5,
    size: float = 1.6,
    value_label: str = "weight",
):
    """Draw each row of a linear layer's weight matrix as an image.

    Red pixels raise the score of the class, blue pixels lower it. One colour scale,
    symmetric about zero, is shared by all classes so that images can be compared.

    Args:
        weight: ``(classes, pixels)`` (e.g. ``model.weight`` of ``nn.Linear(64, 10)``) or
            ``(pixels,)`` for one binary logistic regression.
        image_shape: ``(h, w)`` with ``h * w == pixels``.
        class_names: titles of the images (default: class indices).
        title: figure title.
        value_label: label of the colour bar (say what the weights multiply, e.g.
            "weight per standardized pixel").

    Returns:
        The matplotlib ``Figure``.
    """
    array = _as_numpy(weight).astype(np.float64)
    if array.ndim == 1:
        array = array[None, :]
    if array.ndim != 2:
        raise ValueError(f"weight must be (classes, pixels) or (pixels,), got shape {array.shape}")
    if (
        not isinstance(image_shape, (tuple, list))
        or len(image_shape) != 2
        or image_shape[0] * image_shape[1] != array.shape[1]
    ):
        raise ValueError(
            f"image_shape {image_shape!r} does not fit {array.shape[1]} weights per class"
        )
    n_classes = array.shape[0]
    if class_names is not None and len(class_names) != n_classes:
        raise ValueError(f"{n_classes} weight rows but {len(class_names)} class names")
    names = (
        [str(c) for c in class_names]
        if class_names is not None
        else [str(i) for i in range(n_classes)]
    )
    limit = float(np.abs(array).max()) or 1.0
    ncols = max(1, min(ncols, n_classes))
    nrows = math.ceil(n_classes / ncols)
    fig, axes = plt.subplots(
        nrows, ncols, figsize=(size * ncols + 0.8, size * nrows + 0.6), squeeze=False
    )
    shown = None
    for index, ax in enumerate(axes.flat):
        ax.axis("off")
        if index >= n_classes:
            continue
        shown = ax.imshow(
            array[index].reshape(image_shape),
            cmap="RdBu_r",
            vmin=-limit,
            vmax=limit,
            interpolation="nearest",
        )
        ax.set_title(f"class {names[index]}", fontsize=9)
    colorbar = fig.colorbar(shown, ax=axes.ravel().tolist(), shrink=0.8)
    colorbar.set_label(value_label)
    fig.suptitle(title)
    return fig


# --------------------------------------------------------------------------------------
# The autograd computation graph
# --------------------------------------------------------------------------------------


@dataclass
class GraphNode:
    """One node of the backward graph: an operation, a leaf tensor or the output."""

    label: str
    kind: str  # "output", "operation" or "leaf"
    depth: int  # longest distance from the output (the output has depth 0)


def _shape_text(tensor: torch.Tensor) -> str:
    return "scalar" if tensor.ndim == 0 else f"shape {tuple(tensor.shape)}"


def computation_graph(
    output: torch.Tensor, names: dict[str, torch.Tensor] | None = None
) -> tuple[list[GraphNode], list[tuple[int, int]]]:
    """Walk the graph autograd recorded for ``output``, from its ``grad_fn`` to the leaves.

    Every operation on tensors that require gradients leaves a node (``MulBackward0``,
    ``AddBackward0``, ...) whose ``next_functions`` point at the nodes of its inputs; a
    leaf tensor with ``requires_grad=True`` appears as an ``AccumulateGrad`` node, which
    is where ``backward()`` deposits its ``.grad``. Tensors that do not require gradients
    (data, constants) leave no node.

    Args:
        output: a tensor computed from tensors with ``requires_grad=True``.
        names: optional ``{"w": w, ...}`` to label leaf nodes (and the output) by name.

    Returns:
        ``(nodes, edges)``: ``nodes[0]`` is the output; each edge ``(i, j)`` points in the
        direction of the forward computation, from input node ``i`` to node ``j`` that
        uses it (``backward()`` walks the edges in reverse).
    """
    if not isinstance(output, torch.Tensor):
        raise TypeError(f"output must be a torch.Tensor, not {type(output).__name__}")
    if output.grad_fn is None:
        raise ValueError(
            "output has no grad_fn, so autograd recorded no graph: it is a leaf or was "
            "computed without gradients. Create an input with requires_grad=True and do "
            "not compute under torch.no_grad()."
        )
    label_of = {id(tensor): name for name, tensor in (names or {}).items()}
    output_name = label_of.get(id(output), "output")

    index: dict[int, int] = {}
    functions: list = []
    edges: list[tuple[int, int]] = []
    stack = [output.grad_fn]
    index[id(output.grad_fn)] = 0
    functions.append(output.grad_fn)
    while stack:
        function = stack.pop()
        for parent, _ in function.next_functions:
            if parent is None:  # an input that does not require gradients
                continue
            if id(parent) not in index:
                index[id(parent)] = len(functions)
                functions.append(parent)
                stack.append(parent)
            edges.append((index[id(parent)], index[id(function)]))

    # depth = longest path from the output, so that every edge points rightwards
    depth = [0] * len(functions)
    for _ in range(len(functions)):
        changed = False
        for source, target in edges:
            if depth[source] < depth[target] + 1:
                depth[source] = depth[target] + 1
                changed = True
        if not changed:
            break

    nodes = []
    for position, function in enumerate(functions):
        variable = getattr(function, "variable", None)
        if variable is not None:
            name = label_of.get(id(variable), "leaf")
            label = f"{name}\n{_shape_text(variable)}"
            kind = "leaf"
        else:
            label = type(function).__name__
            kind = "operation"
        if position == 0:
            label = f"{label}\n→ {output_name}, {_shape_text(output)}"
            kind = "output"
        nodes.append(GraphNode(label=label, kind=kind, depth=depth[position]))
    return nodes, edges


def plot_computation_graph(
    output: torch.Tensor,
    names: dict[str, torch.Tensor] | None = None,
    title: str = "Computation graph recorded by autograd",
    ax=None,
):
    """Draw :func:`computation_graph` with matplotlib boxes and arrows (no graphviz).

    Leaves are green, operations blue and the operation that produced ``output`` orange.
    Arrows follow the forward computation; ``backward()`` walks them in reverse.

    Returns:
        The matplotlib ``Figure``.
    """
    nodes, edges = computation_graph(output, names)
    max_depth = max(node.depth for node in nodes)
    # the output in the rightmost column; every other node one column left of its
    # furthest-left consumer, so that arrows stay short
    column_of = [node.depth for node in nodes]
    consumers: dict[int, list[int]] = {}
    for source, target in edges:
        consumers.setdefault(source, []).append(target)
    coordinates: dict[int, tuple[float, float]] = {}
    columns: dict[int, list[int]] = {}
    for position, column in enumerate(column_of):
        columns.setdefault(column, []).append(position)
    for column in sorted(columns):  # from the output leftwards
        members = columns[column]
        wanted = {
            position: float(
                np.mean([coordinates[t][1] for t in consumers.get(position, [])] or [0])
            )
            for position in members
        }
        members.sort(key=lambda position: wanted[position])
        ys = [wanted[position] for position in members]
        for k in range(1, len(ys)):  # keep boxes at least one unit apart
            ys[k] = max(ys[k], ys[k - 1] + 1.0)
        shift = (np.mean(list(wanted.values())) - np.mean(ys)) if ys else 0.0
        for position, y in zip(members, ys, strict=True):
            coordinates[position] = (float(max_depth - column), y + shift)
    all_y = [y for _, y in coordinates.values()]
    low, high = min(all_y), max(all_y)
    if ax is None:
        fig, ax = plt.subplots(figsize=(2.2 * (max_depth + 1) + 0.4, 0.9 * (high - low) + 1.6))
    else:
        fig = ax.figure
    colours = {"leaf": "#c7e9c0", "operation": "#c6dbef", "output": "#fdd0a2"}
    for source, target in edges:
        ax.annotate(
            "",
            xy=coordinates[target],
            xytext=coordinates[source],
            arrowprops={"arrowstyle": "-|>", "color": "0.35", "shrinkA": 30, "shrinkB": 30},
        )
    for position, node in enumerate(nodes):
        ax.text(
            *coordinates[position],
            node.label,
            ha="center",
            va="center",
            fontsize=8,
            bbox={"boxstyle": "round,pad=0.4", "facecolor": colours[node.kind], "edgecolor": "0.3"},
        )
    ax.set_xlim(-0.6, max_depth + 0.6)
    ax.set_ylim(low - 0.6, high + 0.6)
    ax.axis("off")
    ax.set_title(title)
    return fig
