"""One real fluorescence image of cell nuclei with instance masks (2018 Data Science Bowl).

What it is
----------
The 512 x 512 fluorescence microscopy image of stained nuclei, with one integer label per
nucleus (125 nuclei), that the ``stardist`` package ships as its 2-D test image
(``stardist.data.test_image_nuclei_2d(return_mask=True)``). It comes from the stage 1
training data of the 2018 Data Science Bowl (Caicedo et al., 2019, *Nature Methods* 16,
1247-1253), whose images and expert annotations the Broad Bioimage Benchmark Collection
publishes as BBBC038v1 under a CC0 1.0 licence (public domain dedication). ``stardist``
(BSD-3-Clause) cites the paper for it and states no other licence for the image. Loading it
reads two TIFF files with ``tifffile``; it does **not** import TensorFlow (only stardist's
models need it).

Everything is real: the pixels and the annotations. Nothing is simulated.

**One image is a demonstration, not a benchmark.** Every nucleus comes from one
experiment, one stain and one microscope, so a model trained on one part and tested on
another part of the same image says how well it works *on this image*, not on new
experiments (which is what the Data Science Bowl's stage 2 tested). Nuclei close to each
other share illumination and cell type, so the test part is not independent of the
training part in the way a new image would be. What is easier than real use: one
modality, fairly uniform nuclei (about 20 pixels across), a dark clean background.

Conventions
-----------
* ``image``: float32 ``(H, W)`` scaled to [0, 1] by its own minimum and maximum.
* ``labels``: int32 ``(H, W)``, 0 on background and ``1..n`` on the ``n`` nuclei
  (consecutive; the file's labels have gaps and are renumbered in order of the old ones).
* Boxes (:func:`boxes_from_labels`) are ``(x1, y1, x2, y2)`` in the **continuous**
  convention of ``torchvision.ops``: ``x`` is the column, ``y`` the row, and a box spans
  the pixel *edges*, so a nucleus covering columns 3 to 7 has ``x1 = 3`` and ``x2 = 8``
  and its box width ``x2 - x1 = 5`` is the number of columns it covers. (The brain slices
  of :mod:`bios740.datasets.brain_slices` store inclusive pixel indices instead: add 1 to
  their ``x_max``, ``y_max`` to compare.)
* Centres (:func:`centres_from_labels`) are ``(x, y)`` centroids in the same frame: the
  centre of pixel ``(row r, column c)`` is ``(c + 0.5, r + 0.5)``.

The spatial split
-----------------
:func:`spatial_split` cuts the image into a training part and a test part along one axis
(default: left part for training, right part for testing) and leaves a **guard band**
between them that belongs to neither. The band is at least as wide as the widest nucleus
(along the cut axis), so no nucleus has pixels in both parts: a nucleus can be cut by
the edge of a part (it then keeps its visible pixels, and its box is that of the visible
part) but it is never seen in training and scored in testing. The function checks this
and raises if it fails.

Typical use::

    from bios740.datasets.nuclei import load_nuclei, spatial_split, tile

    nuclei = load_nuclei()                  # NucleiImage(512 x 512, 125 nuclei)
    train, test = spatial_split(nuclei)     # left and right parts, guard band between
    boxes = train.boxes()                   # float32 (n, 4) x1, y1, x2, y2
    patches, patch_labels, origins = tile(train.image, train.labels, size=64)
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy import ndimage

__all__ = [
    "CITATION",
    "LICENSE",
    "NucleiImage",
    "boxes_from_labels",
    "centres_from_labels",
    "load_nuclei",
    "relabel_consecutive",
    "spatial_split",
    "tile",
]

#: The paper to cite for the image and its annotations.
CITATION = (
    "Caicedo, J. C., Goodman, A., Karhohs, K. W., et al. (2019). Nucleus segmentation "
    "across imaging experiments: the 2018 Data Science Bowl. Nature Methods 16, 1247-1253."
)
#: Licence of the image and annotations (BBBC038v1 page of the Broad Bioimage Benchmark
#: Collection); stardist, which ships the files, is BSD-3-Clause.
LICENSE = "CC0 1.0 (Broad Bioimage Benchmark Collection, BBBC038v1)"


@dataclass(frozen=True)
class NucleiImage:
    """An image of nuclei with its instance labels, and where it lies in the full image.

    Attributes:
        image: float32 ``(H, W)`` intensities in [0, 1].
        labels: int32 ``(H, W)``: 0 background, ``1..n`` one nucleus each (consecutive).
        origin: ``(row, column)`` of this image's top-left pixel in the full image.
    """

    image: np.ndarray
    labels: np.ndarray
    origin: tuple[int, int] = (0, 0)

    def __post_init__(self):
        if self.image.ndim != 2 or self.image.shape != self.labels.shape:
            raise ValueError(
                f"image and labels must both be (H, W), got {self.image.shape} and "
                f"{self.labels.shape}"
            )

    @property
    def n_nuclei(self) -> int:
        """Number of labelled nuclei."""
        return int(self.labels.max(initial=0))

    @property
    def shape(self) -> tuple[int, int]:
        """``(H, W)`` of the image."""
        return tuple(self.image.shape)

    def boxes(self) -> np.ndarray:
        """float32 ``(n, 4)`` continuous ``(x1, y1, x2, y2)`` boxes, row ``k`` for label ``k+1``."""
        return boxes_from_labels(self.labels)

    def centres(self) -> np.ndarray:
        """float64 ``(n, 2)`` ``(x, y)`` centroids, row ``k`` for label ``k+1``."""
        return centres_from_labels(self.labels)

    def __repr__(self) -> str:
        height, width = self.shape
        return f"NucleiImage({height} x {width} px, {self.n_nuclei} nuclei, origin {self.origin})"


def _check_labels(labels) -> np.ndarray:
    labels = np.asarray(labels)
    if labels.ndim != 2:
        raise ValueError(f"labels must be a 2-D (H, W) array of instance ids, got {labels.shape}")
    if not np.issubdtype(labels.dtype, np.integer):
        raise TypeError(
            f"labels must hold integer instance ids (0 = background), got dtype {labels.dtype}"
        )
    if labels.size and labels.min() < 0:
        raise ValueError(f"labels must be >= 0 (0 = background), got a minimum of {labels.min()}")
    return labels


def relabel_consecutive(labels) -> np.ndarray:
    """Renumber the instances ``1..n`` in order of their old ids; 0 stays background.

    Args:
        labels: integer ``(H, W)`` instance ids (gaps allowed).

    Returns:
        int32 ``(H, W)`` labels with ids ``1..n``.
    """
    labels = _check_labels(labels)
    ids = np.unique(labels)
    ids = ids[ids > 0]
    lookup = np.zeros(int(labels.max(initial=0)) + 1, dtype=np.int32)
    lookup[ids] = np.arange(1, len(ids) + 1, dtype=np.int32)
    return lookup[labels]


def boxes_from_labels(labels) -> np.ndarray:
    """Continuous ``(x1, y1, x2, y2)`` boxes of the instances ``1..n`` of ``labels``.

    ``x1``/``y1`` are the first column/row a nucleus covers and ``x2``/``y2`` one past the
    last (pixel edges), as ``torchvision.ops.box_iou`` expects; ``x2 - x1`` is the number
    of columns covered. Row ``k`` belongs to label ``k + 1``; a missing id (labels with
    gaps) gets a row of NaN, so relabel with :func:`relabel_consecutive` first.

    Args:
        labels: integer ``(H, W)`` instance ids, 0 = background.

    Returns:
        float32 ``(n, 4)`` with ``n = labels.max()`` (``(0, 4)`` if there is no instance).
    """
    labels = _check_labels(labels)
    n = int(labels.max(initial=0))
    boxes = np.full((n, 4), np.nan, dtype=np.float32)
    for k, found in enumerate(ndimage.find_objects(labels, max_label=n)):
        if found is not None:
            rows, cols = found
            boxes[k] = (cols.start, rows.start, cols.stop, rows.stop)
    return boxes


def centres_from_labels(labels) -> np.ndarray:
    """``(x, y)`` centroids of the instances ``1..n``, pixel centres at ``+0.5``.

    Returns:
        float64 ``(n, 2)``; NaN rows for ids that do not occur.
    """
    labels = _check_labels(labels)
    n = int(labels.max(initial=0))
    if n == 0:
        return np.zeros((0, 2))
    index = np.arange(1, n + 1)
    with np.errstate(invalid="ignore", divide="ignore"):
        centres = ndimage.center_of_mass(np.ones(labels.shape), labels, index)
    centres = np.asarray(centres, dtype=np.float64).reshape(n, 2)
    return centres[:, ::-1] + 0.5


def _read_stardist():
    """The raw image and mask from stardist (split out so that tests can replace it)."""
    try:
        from stardist.data import test_image_nuclei_2d
    except ImportError as error:
        raise ImportError(
            "load_nuclei needs the stardist package, which ships the image (its data load "
            "without TensorFlow): pip install stardist"
        ) from error
    return test_image_nuclei_2d(return_mask=True)


def load_nuclei() -> NucleiImage:
    """Load the Data Science Bowl 2018 nuclei image that stardist ships (see the module doc).

    Returns:
        A :class:`NucleiImage`: float32 image in [0, 1] and int32 labels ``1..n``.

    Raises:
        ImportError: stardist is not installed (the message says how to install it).
        ValueError: the files do not hold one 2-D image and a mask of its shape.
    """
    image, mask = _read_stardist()
    image, mask = np.asarray(image), np.asarray(mask)
    if image.ndim != 2 or image.shape != mask.shape:
        raise ValueError(
            f"expected a 2-D image and a mask of its shape, got {image.shape} and {mask.shape}"
        )
    image = image.astype(np.float32)
    low, high = float(image.min()), float(image.max())
    image = (image - low) / (high - low) if high > low else np.zeros_like(image)
    return NucleiImage(image=image.astype(np.float32), labels=relabel_consecutive(mask))


def _widest(labels, axis: int) -> int:
    boxes = boxes_from_labels(labels)
    boxes = boxes[~np.isnan(boxes).any(axis=1)]
    if len(boxes) == 0:
        return 0
    extent = boxes[:, 2] - boxes[:, 0] if axis == 1 else boxes[:, 3] - boxes[:, 1]
    return int(extent.max())


def spatial_split(
    data: NucleiImage, test_fraction: float = 0.5, guard: int | None = None, axis: str = "columns"
) -> tuple[NucleiImage, NucleiImage]:
    """Split an image into a training part and a test part with a guard band between.

    Along ``axis`` the first part (left, or top) is for training and the last (right, or
    bottom) for testing; ``guard`` pixels in between belong to neither. With the default
    guard (the widest nucleus along the axis) no nucleus can have pixels in both parts.
    Each part is relabelled ``1..n``; nuclei cut by a part's edge keep their visible pixels.

    Args:
        data: the image (from :func:`load_nuclei`).
        test_fraction: share of the non-guard pixels along ``axis`` that go to the test part.
        guard: width of the band in pixels (default: the widest nucleus along ``axis``).
        axis: ``"columns"`` (left | right) or ``"rows"`` (top | bottom).

    Returns:
        ``(train, test)`` :class:`NucleiImage` parts with their ``origin`` in ``data``'s frame.

    Raises:
        TypeError: ``data`` is not a NucleiImage.
        ValueError: a bad fraction, guard or axis, or a nucleus in both parts (guard too narrow).
    """
    if not isinstance(data, NucleiImage):
        raise TypeError(
            f"data must be a NucleiImage (from load_nuclei()), got {type(data).__name__}"
        )
    if axis not in ("columns", "rows"):
        raise ValueError(f"axis must be 'columns' or 'rows', got {axis!r}")
    if isinstance(test_fraction, bool) or not 0.0 < float(test_fraction) < 1.0:
        raise ValueError(f"test_fraction must be strictly between 0 and 1, got {test_fraction!r}")
    along = 1 if axis == "columns" else 0
    if guard is None:
        guard = _widest(data.labels, along)
    if isinstance(guard, bool) or not isinstance(guard, (int, np.integer)) or guard < 0:
        raise ValueError(f"guard must be a non-negative integer number of pixels, got {guard!r}")
    length = data.shape[along]
    free = length - guard
    n_test = int(round(test_fraction * free))
    n_train = free - n_test
    if n_train < 1 or n_test < 1:
        raise ValueError(
            f"a guard of {guard} px leaves no room for both parts of a {length}-px axis; "
            "use a narrower guard or a fraction nearer 0.5"
        )
    train_range, test_range = slice(0, n_train), slice(n_train + guard, length)
    train_ids = np.unique(np.take(data.labels, np.arange(length)[train_range], axis=along))
    test_ids = np.unique(np.take(data.labels, np.arange(length)[test_range], axis=along))
    shared = np.intersect1d(train_ids[train_ids > 0], test_ids[test_ids > 0])
    if len(shared):
        raise ValueError(
            f"{len(shared)} nuclei have pixels in both parts with a guard of {guard} px; "
            "leave guard=None (the widest nucleus) or widen it"
        )
    parts = []
    for part in (train_range, test_range):
        index = (slice(None), part) if along == 1 else (part, slice(None))
        origin = (
            (data.origin[0], data.origin[1] + part.start)
            if along == 1
            else (data.origin[0] + part.start, data.origin[1])
        )
        parts.append(
            NucleiImage(
                image=np.ascontiguousarray(data.image[index]),
                labels=relabel_consecutive(data.labels[index]),
                origin=origin,
            )
        )
    return parts[0], parts[1]


def tile(image, labels, size: int, stride: int | None = None):
    """Cut an image and its labels into square patches that cover every pixel.

    Patches start every ``stride`` pixels (default ``size``: no overlap); when the image
    is not a whole number of strides, a last patch is aligned with the far edge, so it
    overlaps its neighbour instead of running off the image. Labels are relabelled
    ``1..n`` within each patch.

    Args:
        image: ``(H, W)`` array.
        labels: integer ``(H, W)`` instance ids of ``image``.
        size: patch side in pixels (at most ``min(H, W)``).
        stride: step between patch origins (1 to ``size``; default ``size``).

    Returns:
        ``(patches, patch_labels, origins)``: float32 ``(N, size, size)``, int32
        ``(N, size, size)``, int64 ``(N, 2)`` ``(row, column)`` of each patch's top-left pixel.

    Raises:
        ValueError: shapes differ, or ``size``/``stride`` is out of range.
    """
    image = np.asarray(image)
    labels = _check_labels(labels)
    if image.shape != labels.shape:
        raise ValueError(f"image and labels must have one shape, got {image.shape}, {labels.shape}")
    height, width = image.shape
    if isinstance(size, bool) or not isinstance(size, (int, np.integer)):
        raise TypeError(f"size must be an integer number of pixels, got {size!r}")
    if not 1 <= size <= min(height, width):
        raise ValueError(f"size must be between 1 and {min(height, width)} (the image), got {size}")
    stride = size if stride is None else stride
    if isinstance(stride, bool) or not isinstance(stride, (int, np.integer)):
        raise TypeError(f"stride must be an integer number of pixels, got {stride!r}")
    if not 1 <= stride <= size:
        raise ValueError(
            f"stride must be between 1 and size={size} (to cover every pixel), got {stride}"
        )

    def starts(length):
        positions = list(range(0, length - size + 1, stride))
        if positions[-1] != length - size:
            positions.append(length - size)
        return positions

    origins = np.array([(r, c) for r in starts(height) for c in starts(width)], dtype=np.int64)
    patches = np.stack([image[r : r + size, c : c + size] for r, c in origins]).astype(np.float32)
    patch_labels = np.stack(
        [relabel_consecutive(labels[r : r + size, c : c + size]) for r, c in origins]
    )
    return patches, patch_labels, origins
