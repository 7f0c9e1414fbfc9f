"""MedMNIST v2 (Yang et al., 2023) 28 x 28 image sets from Zenodo, for Colab users.

MedMNIST collects small, pre-split medical image classification sets (pathology, blood
cells, breast ultrasound, dermatoscopy, CT organs, chest X-rays, retinal OCT). Each set is
one ``<name>.npz`` file with the arrays ``train_images``, ``train_labels``, ``val_images``,
``val_labels``, ``test_images``, ``test_labels`` (images uint8 ``(N, 28, 28)`` for grey
scale or ``(N, 28, 28, 3)`` for colour; labels ``(N, 1)``).

The files are not shipped with any package: :func:`load_medmnist` downloads them from
Zenodo record 10519652 with :func:`bios740.download.download` (PathMNIST, 107,180 colour
images, is a few hundred MB; the others are smaller) and checks their MD5. The MD5 sums are those that the ``medmnist``
package (version 3.0.2, ``medmnist/info.py``) lists for the same URLs. Offline, without
the file, it raises an error that names the file and the folder to put it in.

Typical use (on Colab)::

    from bios740.datasets.medmnist import load_medmnist, PAPER_RESNET18_28_ACCURACY

    data = load_medmnist("bloodmnist")
    x_train, y_train = data.train  # float32 (N, 3, 28, 28) in [0, 1], int64 (N,)
    print(PAPER_RESNET18_28_ACCURACY["bloodmnist"])  # 0.958
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

__all__ = [
    "DATASETS",
    "PAPER_RESNET18_28_ACCURACY",
    "MedMNISTData",
    "MedMNISTInfo",
    "download_medmnist",
    "load_medmnist",
    "medmnist_path",
]

ZENODO_RECORD = "10519652"
#: Where the files are; tests point this at a local folder (``file://``).
BASE_URL = f"https://zenodo.org/records/{ZENODO_RECORD}/files"
SPLITS = ("train", "val", "test")


@dataclass(frozen=True)
class MedMNISTInfo:
    """What one MedMNIST set is: file, checksum, channels and class names."""

    name: str
    md5: str
    n_channels: int
    classes: tuple[str, ...]
    description: str

    @property
    def filename(self) -> str:
        return f"{self.name}.npz"

    @property
    def n_classes(self) -> int:
        return len(self.classes)


DATASETS: dict[str, MedMNISTInfo] = {
    info.name: info
    for info in [
        MedMNISTInfo(
            "pathmnist",
            "a8b06965200029087d5bd730944a56c1",
            3,
            (
                "adipose",
                "background",
                "debris",
                "lymphocytes",
                "mucus",
                "smooth muscle",
                "normal colon mucosa",
                "cancer-associated stroma",
                "colorectal adenocarcinoma epithelium",
            ),
            "colorectal cancer histology patches (H&E), 9 tissue classes",
        ),
        MedMNISTInfo(
            "bloodmnist",
            "7053d0359d879ad8a5505303e11de1dc",
            3,
            (
                "basophil",
                "eosinophil",
                "erythroblast",
                "immature granulocyte",
                "lymphocyte",
                "monocyte",
                "neutrophil",
                "platelet",
            ),
            "blood cell microscopy, 8 cell types",
        ),
        MedMNISTInfo(
            "breastmnist",
            "750601b1f35ba3300ea97c75c52ff8f6",
            1,
            ("malignant", "normal or benign"),
            "breast ultrasound, malignant vs normal or benign",
        ),
        MedMNISTInfo(
            "dermamnist",
            "0744692d530f8e62ec473284d019b0c7",
            3,
            (
                "actinic keratosis / intraepithelial carcinoma",
                "basal cell carcinoma",
                "benign keratosis-like lesion",
                "dermatofibroma",
                "melanoma",
                "melanocytic nevus",
                "vascular lesion",
            ),
            "dermatoscopy of pigmented skin lesions, 7 diagnoses",
        ),
        MedMNISTInfo(
            "organamnist",
            "68e3f8846a6bd62f0c9bf841c0d9eacc",
            1,
            (
                "bladder",
                "femur-left",
                "femur-right",
                "heart",
                "kidney-left",
                "kidney-right",
                "liver",
                "lung-left",
                "lung-right",
                "pancreas",
                "spleen",
            ),
            "abdominal CT, axial crops of 11 organs",
        ),
        MedMNISTInfo(
            "pneumoniamnist",
            "28209eda62fecd6e6a2d98b1501bb15f",
            1,
            ("normal", "pneumonia"),
            "paediatric chest X-rays, pneumonia vs normal",
        ),
    ]
}

#: Test accuracy of ResNet-18 at 28 x 28 in the MedMNIST v2 paper (Yang et al., 2023, Table 3).
PAPER_RESNET18_28_ACCURACY: dict[str, float] = {
    "pathmnist": 0.907,
    "bloodmnist": 0.958,
    "breastmnist": 0.863,
    "dermamnist": 0.735,
    "organamnist": 0.935,
    "pneumoniamnist": 0.854,
}


@dataclass(frozen=True)
class MedMNISTData:
    """The three splits of one MedMNIST set as torch tensors.

    ``train``, ``val`` and ``test`` are ``(images, labels)`` pairs: float32 images
    ``(N, C, 28, 28)`` scaled to [0, 1] and int64 labels ``(N,)``.
    """

    info: MedMNISTInfo
    train: tuple
    val: tuple
    test: tuple

    def __repr__(self) -> str:
        sizes = ", ".join(f"{s} {len(getattr(self, s)[1])}" for s in SPLITS)
        return f"MedMNISTData({self.info.name}: {sizes}; {self.info.n_classes} classes)"


def _info(name: str) -> MedMNISTInfo:
    if not isinstance(name, str):
        raise TypeError(f"name must be a string such as 'pathmnist', got {type(name).__name__}")
    key = name.lower().strip()
    if key not in DATASETS:
        raise ValueError(f"unknown MedMNIST set {name!r}; choose one of {sorted(DATASETS)}")
    return DATASETS[key]


def medmnist_path(name: str, root: str | Path | None = None) -> Path:
    """Where the ``.npz`` file of set ``name`` is expected (``data_dir("medmnist")`` by default)."""
    info = _info(name)
    if root is None:
        from bios740.paths import data_dir

        root = data_dir("medmnist")
    return Path(root) / info.filename


def download_medmnist(
    name: str, root: str | Path | None = None, check_md5: bool = True, timeout: float = 60.0
) -> Path:
    """Download the 28 x 28 ``.npz`` file of set ``name`` unless it is already there.

    Raises:
        bios740.download.DataUnavailableError: offline or a wrong checksum; the message
            names the file and where to put it.
    """
    from bios740.download import download

    info = _info(name)
    destination = medmnist_path(name, root)
    # Zenodo wants ?download=1 to serve the file itself; a file:// folder (tests) does not.
    query = "?download=1" if BASE_URL.startswith("http") else ""
    return download(
        f"{BASE_URL}/{info.filename}{query}",
        destination,
        md5=info.md5 if check_md5 else None,
        timeout=timeout,
    )


def _to_tensors(images: np.ndarray, labels: np.ndarray, info: MedMNISTInfo, split: str):
    import torch

    if images.ndim == 3:
        images = images[:, None]
    elif images.ndim == 4 and images.shape[-1] in (1, 3):
        images = np.moveaxis(images, -1, 1)
    else:
        raise ValueError(
            f"{info.filename}: {split}_images has shape {images.shape}; expected (N, H, W) "
            "or (N, H, W, C)"
        )
    if images.shape[1] != info.n_channels:
        raise ValueError(
            f"{info.filename}: {split}_images has {images.shape[1]} channels, expected "
            f"{info.n_channels}"
        )
    labels = np.asarray(labels).reshape(len(labels), -1)
    if labels.shape != (len(images), 1):
        raise ValueError(
            f"{info.filename}: {split}_labels has shape {labels.shape}; expected one label "
            f"per image ({len(images)}, 1)"
        )
    labels = labels[:, 0].astype(np.int64)
    if labels.size and (labels.min() < 0 or labels.max() >= info.n_classes):
        raise ValueError(
            f"{info.filename}: {split}_labels must lie in 0..{info.n_classes - 1}, "
            f"found {labels.min()}..{labels.max()}"
        )
    scale = 255.0 if images.dtype == np.uint8 else 1.0
    return (
        torch.from_numpy(images.astype(np.float32) / np.float32(scale)),
        torch.from_numpy(labels),
    )


def load_medmnist(
    name: str,
    root: str | Path | None = None,
    download: bool = True,
    check_md5: bool = True,
    max_per_split: int | None = None,
) -> MedMNISTData:
    """Load a MedMNIST 28 x 28 set as tensors, downloading it first if needed.

    Args:
        name: one of :data:`DATASETS` (``"pathmnist"``, ``"bloodmnist"``, ``"breastmnist"``,
            ``"dermamnist"``, ``"organamnist"``, ``"pneumoniamnist"``).
        root: folder of the ``.npz`` files (default ``bios740.paths.data_dir("medmnist")``).
        download: fetch the file from Zenodo when it is missing.
        check_md5: verify the file's MD5 against the published one.
        max_per_split: keep only the first images of each split (fast experiments).

    Raises:
        FileNotFoundError: the file is missing and ``download`` is False.
        bios740.download.DataUnavailableError: the download failed (offline, bad checksum).
        ValueError: the file is not in MedMNIST's format.
    """
    info = _info(name)
    if max_per_split is not None and (not isinstance(max_per_split, int) or max_per_split < 1):
        raise ValueError(f"max_per_split must be a positive integer or None, got {max_per_split}")
    path = medmnist_path(name, root)
    if download:
        path = download_medmnist(name, root, check_md5=check_md5)
    elif not path.is_file():
        raise FileNotFoundError(
            f"{info.filename} is needed but not found at {path.resolve()}. Download "
            f"{BASE_URL}/{info.filename} (Zenodo record {ZENODO_RECORD}) and put it there, "
            "or call load_medmnist(..., download=True) on a machine with internet."
        )
    try:
        archive = np.load(path)
    except Exception as error:
        raise ValueError(f"{path} is not a readable .npz file: {error}") from error
    with archive:
        expected = [f"{split}_{part}" for split in SPLITS for part in ("images", "labels")]
        missing = [key for key in expected if key not in archive.files]
        if missing:
            raise ValueError(
                f"{path} is not a MedMNIST file: it lacks {missing} (it has {archive.files})"
            )
        splits = {}
        for split in SPLITS:
            images = archive[f"{split}_images"][:max_per_split]
            labels = archive[f"{split}_labels"][:max_per_split]
            splits[split] = _to_tensors(images, labels, info, split)
    return MedMNISTData(info=info, **splits)
