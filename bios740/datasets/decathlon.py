"""Medical Segmentation Decathlon (Antonelli et al., 2022; Simpson et al., 2019) as 2-D slices.

What it is
----------
Ten real 3-D segmentation tasks (brain tumour, heart, liver, hippocampus, prostate, lung,
pancreas, hepatic vessels, spleen, colon) from several hospitals, released under CC BY-SA
4.0 for the 2018 challenge. MONAI's :class:`monai.apps.DecathlonDataset` knows where each
task's ``.tar`` archive lies and its MD5; this module downloads the archive with
:func:`bios740.download.download` (verified, clear message when offline), unpacks it, reads
the volumes through ``DecathlonDataset`` and cuts them into 2-D slices of one size for the
course's small 2-D networks. It is chapter 10's Colab path; the offline notebooks use the
brain slices and the nuclei image instead.

Every archive holds a folder ``TaskNN_Name`` with ``dataset.json`` (its ``"training"`` list
pairs ``./imagesTr/<case>.nii.gz`` with ``./labelsTr/<case>.nii.gz``, and ``"labels"`` names
the classes), ``imagesTr/``, ``labelsTr/`` and ``imagesTs/`` (test images without labels).
The default, ``Task04_Hippocampus`` (MRI, 260 training volumes of about 35 x 50 x 35 voxels,
labels 1 anterior and 2 posterior hippocampus; an archive of about 27 MB), is the one small
enough for a free Colab session; the others are 0.3 to 30 GB.

What to know before trusting a number: MONAI's ``validation`` section is a random 20 % of
the *training* cases (the challenge's own test labels are not public), split by volume, so
slices of one patient never cross it; slices are taken along one axis and only where the
label is present (``only_labelled=True``), which makes every slice contain the structure
and the task easier than finding it in the whole volume.

Typical use (on Colab)::

    from bios740.datasets.decathlon import load_decathlon_slices

    train = load_decathlon_slices("Task04_Hippocampus", section="training", size=64)
    val = load_decathlon_slices("Task04_Hippocampus", section="validation", size=64)
    x, y = train.tensors()  # float32 (N, 1, 64, 64), int64 (N, 64, 64)
"""

from __future__ import annotations

import tarfile
from dataclasses import dataclass
from pathlib import Path

import numpy as np

__all__ = [
    "CITATION",
    "DEFAULT_TASK",
    "DecathlonSlices",
    "download_decathlon",
    "load_decathlon_slices",
    "task_resource",
    "volume_slices",
]

DEFAULT_TASK = "Task04_Hippocampus"
CITATION = (
    "Antonelli, M., Reinke, A., Bakas, S., et al. (2022). The Medical Segmentation Decathlon. "
    "Nature Communications 13, 4128."
)
_SECTIONS = ("training", "validation")


@dataclass(frozen=True)
class DecathlonSlices:
    """2-D slices of one Decathlon task.

    Attributes:
        task: the task folder name, e.g. ``"Task04_Hippocampus"``.
        images: float32 ``(N, C, size, size)``, each volume standardized (mean 0, SD 1
            inside its nonzero voxels), channels as in the task (4 MR contrasts for the
            brain tumours, 1 elsewhere).
        labels: int64 ``(N, size, size)`` class indices (0 background).
        case_ids: ``(N,)`` the volume (file name) each slice comes from: split and
            resample by it.
        label_names: class index -> name, from ``dataset.json``.
    """

    task: str
    images: np.ndarray
    labels: np.ndarray
    case_ids: np.ndarray
    label_names: dict

    def __len__(self) -> int:
        return int(self.labels.shape[0])

    def __repr__(self) -> str:
        size = "x".join(str(s) for s in self.images.shape[2:])
        return (
            f"DecathlonSlices({self.task}: {len(self)} slices of {size} px, "
            f"{self.images.shape[1]} channel(s), from {len(np.unique(self.case_ids))} volumes)"
        )

    def tensors(self, device=None):
        """Images and labels as torch tensors: float32 ``(N, C, H, W)``, int64 ``(N, H, W)``."""
        import torch

        images, labels = torch.from_numpy(self.images), torch.from_numpy(self.labels)
        if device is not None:
            images, labels = images.to(device), labels.to(device)
        return images, labels


def task_resource(task: str) -> tuple[str, str]:
    """The archive address and MD5 that MONAI lists for ``task``.

    Raises:
        ValueError: ``task`` is not one of the ten Decathlon tasks.
    """
    from monai.apps import DecathlonDataset

    if task not in DecathlonDataset.resource:
        raise ValueError(
            f"unknown Decathlon task {task!r}; choose one of {sorted(DecathlonDataset.resource)}"
        )
    return DecathlonDataset.resource[task], DecathlonDataset.md5[task]


def _root(root) -> Path:
    if root is None:
        from bios740.paths import data_dir

        root = data_dir("decathlon")
    return Path(root)


def download_decathlon(
    task: str = DEFAULT_TASK, root=None, url: str | None = None, md5: str | None = None
) -> Path:
    """Download and unpack a task's archive once; return its ``TaskNN_Name`` folder.

    Args:
        task: the task folder name. root: where archives and folders go (default
            ``bios740.paths.data_dir("decathlon")``).
        url, md5: override MONAI's address and checksum (tests use a ``file://`` copy).

    Raises:
        bios740.download.DataUnavailableError: offline or a checksum mismatch; the message
            names the archive and where to put it.
        ValueError: the archive has no ``<task>/dataset.json`` or an entry would unpack
            outside ``root``.
    """
    from bios740.download import download

    default_url, default_md5 = task_resource(task)
    root = _root(root)
    folder = root / task
    if (folder / "dataset.json").is_file():
        return folder
    archive = download(url or default_url, root / f"{task}.tar", md5=md5 or default_md5)
    with tarfile.open(archive) as handle:
        names = handle.getnames()
        if f"{task}/dataset.json" not in {name.removeprefix("./") for name in names}:
            raise ValueError(
                f"{archive} does not hold {task}/dataset.json (it has {len(names)} entries); "
                "delete it and download it again"
            )
        handle.extractall(root, filter="data")  # "data" refuses paths that leave root
    return folder


def volume_slices(
    image, label, size: int, axis: int = 2, only_labelled: bool = True
) -> tuple[np.ndarray, np.ndarray]:
    """Cut one volume into standardized 2-D slices, centre-cropped or zero-padded to ``size``.

    Args:
        image: ``(C, X, Y, Z)`` intensities (channel first, as MONAI loads them) or
            ``(X, Y, Z)``. label: ``(X, Y, Z)`` or ``(1, X, Y, Z)`` integer classes.
        size: side of the square output slices. axis: the spatial axis (0, 1 or 2) to
            slice along. only_labelled: keep only slices where some label is nonzero.

    Returns:
        float32 ``(n, C, size, size)`` images and int64 ``(n, size, size)`` labels.

    Raises:
        ValueError: shapes that disagree, or a bad ``size``/``axis``.
    """
    image, label = np.asarray(image, dtype=np.float32), np.asarray(label)
    if image.ndim == 3:
        image = image[None]
    if label.ndim == 4 and label.shape[0] == 1:
        label = label[0]
    if image.ndim != 4 or label.shape != image.shape[1:]:
        raise ValueError(
            f"image must be (C, X, Y, Z) and label (X, Y, Z) of the same size, got "
            f"{image.shape} and {label.shape}"
        )
    if isinstance(size, bool) or not isinstance(size, int) or size < 8:
        raise ValueError(f"size must be an integer of at least 8, got {size!r}")
    if axis not in (0, 1, 2):
        raise ValueError(f"axis must be 0, 1 or 2, got {axis!r}")
    inside = image.sum(0) != 0
    if inside.any():
        values = image[:, inside]
        image = (image - values.mean(1)[:, None, None, None]) / (
            values.std(1)[:, None, None, None] + 1e-6
        )
    image = np.moveaxis(image, axis + 1, 1)  # (C, slices, a, b)
    label = np.moveaxis(label, axis, 0).astype(np.int64)
    keep = np.flatnonzero(label.reshape(len(label), -1).any(1)) if only_labelled else None
    if keep is not None:
        image, label = image[:, keep], label[keep]
    fitted_image = np.zeros((label.shape[0], image.shape[0], size, size), np.float32)
    fitted_label = np.zeros((label.shape[0], size, size), np.int64)
    source, target = [], []
    for extent in label.shape[1:]:
        n = min(extent, size)
        source.append(slice((extent - n) // 2, (extent - n) // 2 + n))
        target.append(slice((size - n) // 2, (size - n) // 2 + n))
    fitted_image[:, :, target[0], target[1]] = np.moveaxis(image, 0, 1)[:, :, source[0], source[1]]
    fitted_label[:, target[0], target[1]] = label[:, source[0], source[1]]
    return fitted_image, fitted_label


def load_decathlon_slices(
    task: str = DEFAULT_TASK,
    root=None,
    section: str = "training",
    download: bool = True,
    size: int = 64,
    axis: int = 2,
    max_cases: int | None = None,
    seed: int = 0,
) -> DecathlonSlices:
    """Load a Decathlon task through MONAI's ``DecathlonDataset`` as 2-D slices.

    Args:
        task: the task folder name (default the small hippocampus task).
        root: folder holding ``<task>/`` (default ``bios740.paths.data_dir("decathlon")``).
        section: ``"training"`` or ``"validation"`` (MONAI's split of the labelled cases,
            20 % to validation, fixed by ``seed``).
        download: fetch the archive when the folder is missing.
        size, axis: see :func:`volume_slices`. max_cases: keep the first volumes only.

    Raises:
        FileNotFoundError: the folder is missing and ``download`` is False.
        ValueError: bad arguments or files that disagree with ``dataset.json``.
    """
    from monai.apps import DecathlonDataset
    from monai.transforms import EnsureChannelFirstd, LoadImaged

    if section not in _SECTIONS:
        raise ValueError(f"section must be one of {_SECTIONS}, got {section!r}")
    if max_cases is not None and (
        isinstance(max_cases, bool) or not isinstance(max_cases, int) or max_cases < 1
    ):
        raise ValueError(f"max_cases must be a positive integer or None, got {max_cases!r}")
    task_resource(task)
    root = _root(root)
    if download:
        download_decathlon(task, root)
    elif not (root / task / "dataset.json").is_file():
        url, _ = task_resource(task)
        raise FileNotFoundError(
            f"{root / task / 'dataset.json'} is not there. Download {url}, unpack it into "
            f"{root.resolve()}, or call load_decathlon_slices(download=True) with internet."
        )
    keys = ["image", "label"]
    dataset = DecathlonDataset(
        root_dir=str(root),
        task=task,
        section=section,
        transform=[LoadImaged(keys), EnsureChannelFirstd(keys)],
        download=False,
        seed=seed,
        cache_rate=0.0,
        progress=False,
    )
    images, labels, case_ids = [], [], []
    for index in range(len(dataset) if max_cases is None else min(max_cases, len(dataset))):
        item = dataset[index]
        image, label = volume_slices(
            np.asarray(item["image"]), np.asarray(item["label"]), size, axis
        )
        images.append(image)
        labels.append(label)
        case = Path(str(dataset.data[index]["image"])).name.removesuffix(".nii.gz")
        case_ids += [case] * len(label)
    if not images:
        raise ValueError(f"{root / task} has no {section} cases")
    names = dataset.get_properties("labels")["labels"]
    return DecathlonSlices(
        task=task,
        images=np.concatenate(images),
        labels=np.concatenate(labels),
        case_ids=np.asarray(case_ids),
        label_names={int(k): str(v) for k, v in names.items()},
    )
