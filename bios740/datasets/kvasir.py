"""Kvasir-SEG (Jha et al., 2020): 1,000 colonoscopy images of polyps with masks and boxes.

What it is
----------
Kvasir-SEG is the polyp class of the Kvasir gastrointestinal endoscopy collection (Vestre
Viken Health Trust, Norway) with a pixel mask and bounding boxes of every polyp, drawn with
a medical doctor and checked by an experienced gastroenterologist. Everything is real.
Simula Research Laboratory publishes it at https://datasets.simula.no/kvasir-seg/ as one
zip file, ``kvasir-seg.zip`` (about 46 MB), downloadable without registration; its terms:
free for research and education, prior permission needed for commercial use (no
redistribution here: the course only downloads it on request, the Colab path of chapter 9).

The archive holds a folder ``Kvasir-SEG`` with

* ``images/<id>.jpg``: RGB images, 332 x 487 to 1920 x 1072 pixels;
* ``masks/<id>.jpg``: the polyp masks, same name and size (JPEG, so threshold them:
  white is polyp);
* ``kavsir_bboxes.json`` (spelled so in the release): ``{id: {"height": H, "width": W,
  "bbox": [{"label": "polyp", "xmin": ..., "ymin": ..., "xmax": ..., "ymax": ...}, ...]}}``,
  one entry per image, usually one box, sometimes several.

Box convention. The JSON's ``xmin``..``xmax`` are pixel indices of the polyp's first and
last column (as a box taken from a mask's smallest and largest index is); this module
returns the chapter's **continuous** ``(x1, y1, x2, y2)`` boxes, ``x2 = xmax + 1``, as
:mod:`bios740.datasets.nuclei` does. :func:`mask_boxes` computes the boxes of the mask's
connected regions in the same convention, so the two can be compared on the real files.

What is easier or harder than the nuclei image: few, large objects (one polyp fills a fifth
of the image on average) instead of many small ones; colour, glare and instrument overlays.
No checksum is published for the zip, so the download is not verified (the files are
checked for the layout above instead).

Typical use (on Colab)::

    from bios740.datasets.kvasir import load_kvasir

    data = load_kvasir(size=256)          # downloads once into data_dir("kvasir")
    image, boxes = data.images[0], data.boxes[0]   # float32 (3, 256, 256), (n, 4)
"""

from __future__ import annotations

import json
import zipfile
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from scipy import ndimage

__all__ = [
    "ARCHIVE",
    "BOXES_FILE",
    "CITATION",
    "FOLDER",
    "URL",
    "KvasirData",
    "download_kvasir",
    "load_kvasir",
    "mask_boxes",
    "read_boxes",
]

#: Where Simula publishes the archive; tests point this at a local ``file://`` folder.
URL = "https://datasets.simula.no/downloads/kvasir-seg.zip"
ARCHIVE = "kvasir-seg.zip"
FOLDER = "Kvasir-SEG"
BOXES_FILE = "kavsir_bboxes.json"
CITATION = (
    "Jha, D., Smedsrud, P. H., Riegler, M. A., et al. (2020). Kvasir-SEG: a segmented polyp "
    "dataset. MultiMedia Modeling (MMM 2020), LNCS 11962, 451-462."
)


@dataclass(frozen=True)
class KvasirData:
    """Images, masks and boxes of Kvasir-SEG (or of its first ``max_images``).

    Attributes:
        ids: image ids (file names without ``.jpg``), sorted.
        images: float32 ``(3, H, W)`` arrays in [0, 1] (one size if ``size`` was given).
        masks: bool ``(H, W)`` polyp masks, same sizes as the images.
        boxes: float32 ``(n, 4)`` continuous ``(x1, y1, x2, y2)`` boxes from the JSON.
    """

    ids: tuple[str, ...]
    images: list
    masks: list
    boxes: list

    def __len__(self) -> int:
        return len(self.ids)

    def __repr__(self) -> str:
        n_boxes = sum(len(b) for b in self.boxes)
        return f"KvasirData({len(self)} images, {n_boxes} polyp boxes)"


def _folder(root) -> Path:
    if root is None:
        from bios740.paths import data_dir

        root = data_dir("kvasir")
    return Path(root)


def download_kvasir(root=None, timeout: float = 120.0) -> Path:
    """Download ``kvasir-seg.zip`` once and unpack it; return the ``Kvasir-SEG`` folder.

    Raises:
        bios740.download.DataUnavailableError: offline or the server failed; the message
            names the file and where to put it.
        ValueError: the archive does not hold ``Kvasir-SEG/kavsir_bboxes.json``.
    """
    from bios740.download import download

    root = _folder(root)
    folder = root / FOLDER
    if (folder / BOXES_FILE).is_file():
        return folder
    archive = download(URL, root / ARCHIVE, timeout=timeout)
    with zipfile.ZipFile(archive) as handle:
        names = handle.namelist()
        if f"{FOLDER}/{BOXES_FILE}" not in names:
            raise ValueError(
                f"{archive} does not look like Kvasir-SEG: no {FOLDER}/{BOXES_FILE} among its "
                f"{len(names)} entries; delete it and download {URL} again"
            )
        handle.extractall(root)
    return folder


def read_boxes(path) -> dict[str, np.ndarray]:
    """Read ``kavsir_bboxes.json`` into ``{id: float32 (n, 4) continuous boxes}``.

    Raises:
        FileNotFoundError: no such file.
        ValueError: an entry lacks ``bbox`` or a box lacks one of its four corners, or a
            box is empty.
    """
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"{path} not found; it comes in {ARCHIVE} ({URL})")
    with open(path) as handle:
        entries = json.load(handle)
    if not isinstance(entries, dict):
        raise ValueError(f"{path} must map image ids to entries, got a {type(entries).__name__}")
    boxes = {}
    for image_id, entry in entries.items():
        if not isinstance(entry, dict) or not isinstance(entry.get("bbox"), list):
            raise ValueError(f"{path}: entry {image_id!r} has no 'bbox' list: {entry!r}")
        rows = []
        for box in entry["bbox"]:
            missing = [k for k in ("xmin", "ymin", "xmax", "ymax") if k not in box]
            if missing:
                raise ValueError(f"{path}: a box of {image_id!r} lacks {missing}: {box!r}")
            x1, y1 = float(box["xmin"]), float(box["ymin"])
            x2, y2 = float(box["xmax"]) + 1.0, float(box["ymax"]) + 1.0  # last pixel -> edge
            if x2 <= x1 or y2 <= y1:
                raise ValueError(f"{path}: box {box!r} of {image_id!r} is empty")
            rows.append((x1, y1, x2, y2))
        boxes[str(image_id)] = np.array(rows, dtype=np.float32).reshape(-1, 4)
    return boxes


def mask_boxes(mask) -> np.ndarray:
    """Continuous ``(x1, y1, x2, y2)`` boxes of the 8-connected regions of a polyp mask.

    Args:
        mask: ``(H, W)`` bool array (threshold a JPEG mask first: ``grey > 127``).

    Returns:
        float32 ``(n, 4)``, regions in ``scipy.ndimage.label`` order.
    """
    mask = np.asarray(mask)
    if mask.ndim != 2 or mask.dtype != bool:
        raise ValueError(
            f"mask must be a 2-D bool array, got {mask.dtype} {mask.shape}; use grey > 127"
        )
    regions, n = ndimage.label(mask, structure=np.ones((3, 3)))
    found = ndimage.find_objects(regions, max_label=n)
    return np.array(
        [(c.start, r.start, c.stop, r.stop) for r, c in found], dtype=np.float32
    ).reshape(-1, 4)


def load_kvasir(
    root=None, download: bool = True, size: int | None = None, max_images: int | None = None
) -> KvasirData:
    """Load Kvasir-SEG's images, masks and boxes, downloading the archive if needed.

    Args:
        root: folder that holds (or will hold) ``Kvasir-SEG`` (default
            ``bios740.paths.data_dir("kvasir")``).
        download: fetch the archive when the folder is missing.
        size: resize every image and mask to ``size`` x ``size`` (boxes scaled with them);
            ``None`` keeps each image's own size.
        max_images: keep only the first images in id order (fast experiments).

    Raises:
        FileNotFoundError: the folder is missing and ``download`` is False, or an image or
            mask named in the JSON is missing.
        ValueError: bad ``size``/``max_images``, or files that disagree with the JSON.
    """
    from PIL import Image

    for name, value in (("size", size), ("max_images", max_images)):
        if value is not None and (
            isinstance(value, bool) or not isinstance(value, int) or value < 1
        ):
            raise ValueError(f"{name} must be a positive integer or None, got {value!r}")
    folder = _folder(root) / FOLDER
    if download:
        folder = download_kvasir(root)
    elif not (folder / BOXES_FILE).is_file():
        raise FileNotFoundError(
            f"Kvasir-SEG is needed but {folder / BOXES_FILE} is not there. Download {URL}, "
            f"unpack it into {folder.parent.resolve()}, or call load_kvasir(download=True) on "
            "a machine with internet."
        )
    boxes = read_boxes(folder / BOXES_FILE)
    ids = tuple(sorted(boxes))[:max_images]
    images, masks, scaled = [], [], []
    for image_id in ids:
        paths = [folder / part / f"{image_id}.jpg" for part in ("images", "masks")]
        for path in paths:
            if not path.is_file():
                raise FileNotFoundError(f"{path} is named in {BOXES_FILE} but missing")
        image = Image.open(paths[0]).convert("RGB")
        mask = Image.open(paths[1]).convert("L")
        if image.size != mask.size:
            raise ValueError(f"{image_id}: image {image.size} and mask {mask.size} differ")
        box = boxes[image_id]
        if size is not None:
            width, height = image.size
            box = box * np.array([size / width, size / height] * 2, dtype=np.float32)
            image = image.resize((size, size), Image.BILINEAR)
            mask = mask.resize((size, size), Image.NEAREST)
        images.append(np.moveaxis(np.asarray(image, dtype=np.float32) / 255.0, -1, 0))
        masks.append(np.asarray(mask) > 127)
        scaled.append(box)
    return KvasirData(ids=ids, images=images, masks=masks, boxes=scaled)
