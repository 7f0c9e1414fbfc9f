"""Semi-synthetic axial brain MRI slices (T1 and FLAIR-like) with simulated 3-D lesions.

What is real and what is simulated
----------------------------------
* **Real:** the anatomy. Every slice is cut from the MNI152 2009 T1-weighted template and its
  grey-matter (GM), white-matter (WM) and brain-mask templates at 2 mm (Fonov et al., 2011),
  which ship with nilearn and load offline. Channel 0 (``"T1"``) is the warped template.
* **Simulated:** everything else.

  - *Subjects:* the template warped by a random small affine change (rotation, scaling,
    shift) and a smooth elastic deformation, with its own contrast (gamma, GM/WM contrast),
    smooth multiplicative bias field per channel and Rician noise level.
  - *FLAIR-like channel* (channel 1, ``"FLAIR"``): computed from the warped tissue maps as
    on a fluid-attenuated inversion-recovery image: grey matter brighter than white matter
    (ratio 1.25 to 1.5), CSF suppressed (dark). It is not a real FLAIR acquisition.
  - *Lesions* are 3-D objects of each subject, so neighbouring slices of one subject share
    them: irregular ellipsoids, mostly (60 %) periventricular, the others in deep or
    juxtacortical white matter, as multiple-sclerosis and small-vessel white-matter lesions
    lie. Their equivalent diameter is 6 to 24 mm in 3-D (log-uniform, median about 12 mm,
    :data:`LESION_DIAMETER_MM`); a slice through the edge of a lesion shows a smaller
    cross-section, so the masks in a slice are often only 2 to 10 pixels (at 3 mm pixels).
    Slices whose only lesion section is below :data:`MIN_SECTION_MM2` (a graze a rater
    would call uncertain) are never drawn. Lesions are hyper-intense on FLAIR (1.4 to 2.2
    times the tissue around them, log-uniform, so faint ones are common and the faintest
    are about as bright as cortex where the bias field is high) and iso- to hypo-intense
    on T1 (10 to 40 % darker; a quarter are darker "black holes", 40 to 60 %), never bright
    on T1.
  - *Confounders* that a find-the-brightest-spot rule falls for, all independent of the
    label: incompletely suppressed, flowing CSF as bright blobs in the ventricles (the
    commonest FLAIR artefact), bright periventricular rims ("caps"), a few bright
    vessel-like tubes in the sulci, cortex pushed up by the FLAIR bias field (up to about
    +-40 %), Rician noise and, in some subjects, a faint motion ghost (a shifted copy of
    the head along the phase-encoding direction).

Because the lesions are drawn by code, their masks, bounding boxes and tissue labels are
known exactly, so the same data serve classification (chapter 3), generation (chapters 6
and 12), localization (chapter 9) and segmentation and registration (chapter 10). The mask
of a lesion is where it contributes at least half of its full contrast; a faint fringe of
partial volume lies just outside it.

What is easier than real data
-----------------------------
Every subject is a warp of one average brain, so anatomy varies far less than between
people; there is no skull, no other pathology, no atrophy, no slice-thickness or
resolution change between scanners; lesion shapes are smooth ellipsoids; and the labels
are exact, where real lesion masks disagree between raters. What is harder than a naive
simulation: a no-learning rule (the brightest smoothed spot inside the brain relative to
the median, :func:`bright_spot_scores`) reaches a slice-level AUC of about 0.8 on FLAIR
and below 0.5 on T1 (0.6 for the darkest spot), measured on 30 subjects; the small CNN of
chapter 3 (60 subjects, 15 epochs on a CPU) reaches about 0.89, so at that budget its lead
over the rule is not yet clear of the test set's uncertainty.

Typical use::

    from bios740.datasets.brain_slices import make_brain_slices, split_by_subject

    data = make_brain_slices(n_subjects=100, slices_per_subject=20, seed=0)
    train, val, test = split_by_subject(data, fractions=(0.6, 0.2, 0.2), seed=0)
    x, y = train.tensors()  # float32 (N, 2, 64, 64) images (T1, FLAIR) and int64 (N,) labels
    x_flair, y = train.tensors(channels="FLAIR")  # (N, 1, 64, 64)
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, fields
from pathlib import Path

import numpy as np
from scipy import ndimage

__all__ = [
    "BrainSliceData",
    "CHANNELS",
    "LESION_DIAMETER_MM",
    "TISSUE_NAMES",
    "bright_spot_scores",
    "load_mni152_volumes",
    "make_brain_slices",
    "split_by_subject",
]

#: Bump when the generator changes, so that stale disk caches are not reused.
GENERATOR_VERSION = 6

#: Names of the image channels, in order.
CHANNELS = ("T1", "FLAIR")

#: Names of the values of :attr:`BrainSliceData.tissue`.
TISSUE_NAMES = ("background", "CSF/other", "grey matter", "white matter")

#: Largest number of lesions in one slice (the width of :attr:`BrainSliceData.boxes`).
MAX_LESIONS = 8

#: Equivalent diameter (mm) of the 3-D lesions, drawn log-uniformly in this range.
LESION_DIAMETER_MM = (6.0, 24.0)
#: Smallest lesion cross-section (mm^2) that makes a slice count as showing a lesion; slices
#: that only graze a lesion's edge are not drawn.
MIN_SECTION_MM2 = 30.0
#: FLAIR lesion brightness relative to the tissue around it (log-uniform).
FLAIR_CONTRAST_RANGE = (0.4, 1.2)
#: Share of lesions centred near the ventricles; the others lie anywhere in white matter.
PERIVENTRICULAR_PROBABILITY = 0.6

# Axial levels (voxel index z of the 2 mm MNI grid, 95 planes) that the slices come from:
# from just above the cerebellum to the upper convexity, where the brain is large.
_Z_RANGE = (28, 66)
_SLICE_MM = 2.0
# Square field of view in 2 mm voxels around the centre of the brain, (x, y) = (49, 58.5).
_FOV_VOXELS = 96.0
_CENTRE = np.array([49.0, 58.5, 0.0])

_MEMORY_CACHE: dict[str, BrainSliceData] = {}
_VOLUMES: dict[str, np.ndarray] | None = None


@dataclass(frozen=True)
class BrainSliceData:
    """A set of brain slices with their labels and ground truth.

    All arrays have the slice index first; ``N`` slices of ``H`` x ``W`` pixels.

    Attributes:
        images: float32 ``(N, 2, H, W)`` MR intensities, channels :data:`CHANNELS` (T1,
            FLAIR), about 0 to 1.5 and not standardized.
        labels: int64 ``(N,)``, 1 if the slice contains at least one lesion pixel, else 0.
        masks: bool ``(N, H, W)``, True on lesion pixels (always inside the brain).
        lesion_ids: int8 ``(N, H, W)``, 0 outside lesions and ``k`` on the ``k``-th lesion
            of the slice (1 to ``MAX_LESIONS``), for instance-level tasks.
        boxes: float32 ``(N, MAX_LESIONS, 4)``, one box per lesion as pixel indices
            ``(x_min, y_min, x_max, y_max)`` (column, row; inclusive), rows after the last
            lesion filled with -1. Use :meth:`boxes_of` for the valid rows of one slice.
        n_lesions: int64 ``(N,)`` number of lesions in the slice (0 to ``MAX_LESIONS``).
        polarity: int8 ``(N, MAX_LESIONS)``, the lesion's look on T1: -1 hypo-intense
            (more than 10 % darker), 0 about iso-intense; 0 also where there is no lesion.
        lesion_keys: int16 ``(N, MAX_LESIONS)``, the subject-level number (0, 1, ...) of the
            3-D lesion each slice lesion is a cross-section of; -1 where there is none.
        tissue: uint8 ``(N, H, W)``: 0 background, 1 CSF/other, 2 grey matter,
            3 white matter (see :data:`TISSUE_NAMES`), from the warped MNI152 templates.
        brain: bool ``(N, H, W)``, the warped brain mask.
        subject_ids: int64 ``(N,)`` synthetic subject of each slice.
        slice_levels: int64 ``(N,)`` axial level, the z voxel index of the 2 mm MNI grid.
    """

    images: np.ndarray
    labels: np.ndarray
    masks: np.ndarray
    lesion_ids: np.ndarray
    boxes: np.ndarray
    n_lesions: np.ndarray
    polarity: np.ndarray
    lesion_keys: np.ndarray
    tissue: np.ndarray
    brain: np.ndarray
    subject_ids: np.ndarray
    slice_levels: np.ndarray

    def __len__(self) -> int:
        return int(self.labels.shape[0])

    def __repr__(self) -> str:
        n_subjects = len(np.unique(self.subject_ids))
        size = "x".join(str(s) for s in self.images.shape[2:])
        return (
            f"BrainSliceData({len(self)} slices of {size} px, channels {', '.join(CHANNELS)}, "
            f"from {n_subjects} subjects, {int(self.labels.sum())} with lesions)"
        )

    def subset(self, indices) -> BrainSliceData:
        """Return the slices at ``indices`` (integer indices or a boolean mask)."""
        indices = np.asarray(indices)
        if indices.dtype == bool:
            if indices.shape != (len(self),):
                raise ValueError(
                    f"a boolean index must have shape ({len(self)},), got {indices.shape}"
                )
        elif indices.size and not np.issubdtype(indices.dtype, np.integer):
            raise TypeError(f"indices must be integers or booleans, got dtype {indices.dtype}")
        return BrainSliceData(**{f.name: getattr(self, f.name)[indices] for f in fields(self)})

    def boxes_of(self, index: int) -> np.ndarray:
        """The ``(n_lesions, 4)`` boxes of slice ``index`` (empty if it has no lesion)."""
        return self.boxes[index, : self.n_lesions[index]]

    def channel(self, name: str) -> np.ndarray:
        """The ``(N, H, W)`` images of one channel, ``"T1"`` or ``"FLAIR"``."""
        return self.images[:, _channel_indices(name)[0]]

    def tensors(self, device=None, channels=None):
        """Images and labels as torch tensors: float32 ``(N, C, H, W)`` and int64 ``(N,)``.

        Args:
            device: where to put the tensors (default: the CPU).
            channels: None for all channels (T1, FLAIR), or one name or a list of names
                from :data:`CHANNELS` (e.g. ``"FLAIR"`` gives ``(N, 1, H, W)``).
        """
        import torch

        images = self.images if channels is None else self.images[:, _channel_indices(channels)]
        images = torch.from_numpy(np.ascontiguousarray(images))
        labels = torch.from_numpy(self.labels)
        if device is not None:
            images, labels = images.to(device), labels.to(device)
        return images, labels


def _channel_indices(channels) -> list[int]:
    names = [channels] if isinstance(channels, str) else list(channels)
    unknown = [name for name in names if name not in CHANNELS]
    if unknown or not names:
        raise ValueError(f"channels must be names from {CHANNELS}, got {channels!r}")
    return [CHANNELS.index(name) for name in names]


def bright_spot_scores(images, region, sigma: float = 1.0) -> np.ndarray:
    """The no-learning lesion score: brightest smoothed pixel over the median, per slice.

    Each image is smoothed with a Gaussian of ``sigma`` pixels; the score is its maximum
    inside ``region`` (e.g. the brain mask) divided by its median there. A data set that
    this rule separates well needs no learning; use it as the baseline of a lesion
    classifier (with ``-images`` it finds the darkest spot instead).

    Args:
        images: ``(N, H, W)`` array of one channel.
        region: bool ``(N, H, W)`` pixels to look at (each slice needs at least one).
        sigma: width of the smoothing Gaussian in pixels (0 for none).

    Returns:
        float64 ``(N,)`` scores; higher means "more likely a lesion".

    Raises:
        ValueError: the shapes differ, are not ``(N, H, W)``, or a region is empty.
    """
    images = np.asarray(images, dtype=np.float64)
    region = np.asarray(region, dtype=bool)
    if images.ndim != 3 or images.shape != region.shape:
        raise ValueError(
            f"images and region must both be (N, H, W), got {images.shape} and {region.shape}; "
            "pick one channel with data.channel('FLAIR')"
        )
    if not region.reshape(len(region), -1).any(axis=1).all():
        raise ValueError("every slice needs at least one pixel in region")
    smoothed = ndimage.gaussian_filter(images, sigma=(0, sigma, sigma)) if sigma else images
    scores = np.empty(len(images))
    for i in range(len(images)):
        inside = smoothed[i][region[i]]
        median = np.median(inside)
        scores[i] = inside.max() / median if median > 0 else inside.max() - median
    return scores


def _data_cache_dir() -> Path | None:
    """The disk cache folder, or None when the course's path helper is unavailable."""
    try:
        from bios740.paths import data_dir
    except ImportError:  # pragma: no cover - the course package ships paths
        return None
    try:
        return Path(data_dir("brain_slices"))
    except Exception:  # an unwritable or unset data folder must not stop generation
        return None


def load_mni152_volumes() -> dict[str, np.ndarray]:
    """Load the 2 mm MNI152 T1, GM, WM and brain-mask templates from nilearn (cached).

    Returns a dict with float32 arrays ``t1``, ``gm``, ``wm``, ``mask`` of shape (99, 117, 95),
    indexed (x: left to right, y: posterior to anterior, z: inferior to superior).
    """
    global _VOLUMES
    if _VOLUMES is None:
        cache_dir = _data_cache_dir()
        cache_file = cache_dir / "mni152_2mm.npz" if cache_dir is not None else None
        if cache_file is not None and cache_file.exists():
            with np.load(cache_file) as stored:
                _VOLUMES = {key: stored[key] for key in stored.files}
        else:
            try:
                from nilearn import datasets
            except ImportError as error:  # pragma: no cover - nilearn is a course requirement
                raise ImportError(
                    "make_brain_slices needs nilearn for the MNI152 templates: pip install nilearn"
                ) from error
            loaders = {
                "t1": datasets.load_mni152_template,
                "gm": datasets.load_mni152_gm_template,
                "wm": datasets.load_mni152_wm_template,
                "mask": datasets.load_mni152_brain_mask,
            }
            _VOLUMES = {
                key: np.asarray(load(resolution=2).get_fdata(), dtype=np.float32)
                for key, load in loaders.items()
            }
            if cache_file is not None:
                try:
                    cache_file.parent.mkdir(parents=True, exist_ok=True)
                    np.savez_compressed(cache_file, **_VOLUMES)
                except OSError:
                    pass
    return _VOLUMES


def _check_arguments(n_subjects, slices_per_subject, size, lesion_fraction, seed):
    for name, value in [
        ("n_subjects", n_subjects),
        ("slices_per_subject", slices_per_subject),
        ("size", size),
        ("seed", seed),
    ]:
        if isinstance(value, bool) or not isinstance(value, (int, np.integer)):
            raise TypeError(f"{name} must be an integer, got {type(value).__name__} {value!r}")
    if n_subjects < 1:
        raise ValueError(f"n_subjects must be at least 1, got {n_subjects}")
    n_levels = _Z_RANGE[1] - _Z_RANGE[0] + 1
    if not 1 <= slices_per_subject <= n_levels:
        raise ValueError(
            f"slices_per_subject must be between 1 and {n_levels} (the axial levels "
            f"{_Z_RANGE[0]}..{_Z_RANGE[1]} of the 2 mm MNI grid), got {slices_per_subject}"
        )
    if not 16 <= size <= 256:
        raise ValueError(f"size must be between 16 and 256 pixels, got {size}")
    if seed < 0:
        raise ValueError(f"seed must be a non-negative integer, got {seed}")
    if isinstance(lesion_fraction, bool) or not isinstance(
        lesion_fraction, (int, float, np.floating)
    ):
        raise TypeError(f"lesion_fraction must be a number, got {lesion_fraction!r}")
    if not 0.0 <= lesion_fraction <= 1.0:
        raise ValueError(f"lesion_fraction must be between 0 and 1, got {lesion_fraction}")


def make_brain_slices(
    n_subjects: int = 100,
    slices_per_subject: int = 20,
    size: int = 64,
    lesion_fraction: float = 0.5,
    seed: int = 0,
    cache: bool = True,
) -> BrainSliceData:
    """Generate semi-synthetic axial T1 and FLAIR-like slices, about half with lesions.

    Real MNI152 anatomy, simulated subjects, lesions and confounders (see the module
    docstring). Each subject's lesions are 3-D; its slices are axial levels 2 mm apart,
    drawn so that about ``lesion_fraction`` of them cut a lesion.

    Args:
        n_subjects: number of synthetic subjects (each a different random warp of the template).
        slices_per_subject: distinct axial levels drawn per subject (1 to 39).
        size: output images are ``size`` x ``size`` pixels over a 192 mm field of view
            (3 mm pixels at 64, 4 mm at 48).
        lesion_fraction: expected share of slices that show a lesion (0 gives subjects with
            no lesions at all).
        seed: the same seed and arguments always give the same data.
        cache: reuse data generated before with the same arguments (kept in memory, and on
            disk under ``bios740.paths.data_dir("brain_slices")`` when that is available).

    Returns:
        A :class:`BrainSliceData` of ``n_subjects * slices_per_subject`` slices, ordered by
        subject and, within a subject, by level.

    Raises:
        TypeError, ValueError: an argument has the wrong type or range (the message says
            which and what is allowed).
    """
    _check_arguments(n_subjects, slices_per_subject, size, lesion_fraction, seed)
    arguments = dict(
        n_subjects=int(n_subjects),
        slices_per_subject=int(slices_per_subject),
        size=int(size),
        lesion_fraction=float(lesion_fraction),
        seed=int(seed),
        version=GENERATOR_VERSION,
    )
    key = hashlib.sha256(json.dumps(arguments, sort_keys=True).encode()).hexdigest()[:16]
    if cache and key in _MEMORY_CACHE:
        return _MEMORY_CACHE[key]
    cache_dir = _data_cache_dir() if cache else None
    cache_file = cache_dir / f"brain_slices_{key}.npz" if cache_dir is not None else None
    if cache_file is not None and cache_file.exists():
        try:
            with np.load(cache_file) as stored:
                data = BrainSliceData(**{f.name: stored[f.name] for f in fields(BrainSliceData)})
        except Exception:  # a damaged or outdated cache file is regenerated
            data = None
        if data is not None:
            _MEMORY_CACHE[key] = data
            return data

    data = _generate(**{k: v for k, v in arguments.items() if k != "version"})
    if cache:
        _MEMORY_CACHE[key] = data
        if cache_file is not None:
            try:
                cache_file.parent.mkdir(parents=True, exist_ok=True)
                tmp = cache_file.with_suffix(".tmp.npz")
                np.savez_compressed(tmp, **{f.name: getattr(data, f.name) for f in fields(data)})
                tmp.replace(cache_file)
            except OSError:
                pass
    return data


def _smooth_field(rng, points, amplitude, wavelength_range, n_waves=6):
    """A random smooth 3-D field evaluated at ``points`` (3, ...) in voxel coordinates.

    A sum of ``n_waves`` plane waves with random directions, phases and wavelengths (in
    voxels) in ``wavelength_range``, scaled so that its standard deviation is ``amplitude``.
    """
    field = np.zeros(points.shape[1:], dtype=np.float32)
    for _ in range(n_waves):
        direction = rng.normal(size=3)
        direction /= np.linalg.norm(direction)
        frequency = 2 * np.pi / rng.uniform(*wavelength_range)
        phase = rng.uniform(0, 2 * np.pi)
        weights = (direction * frequency).astype(np.float32)
        projection = weights[0] * points[0] + weights[1] * points[1] + weights[2] * points[2]
        field += np.sin(projection + np.float32(phase))
    return field * np.float32(amplitude * np.sqrt(2.0 / n_waves))


def _sample_volumes(volumes, points):
    """Trilinear interpolation of the stacked volumes at voxel coordinates ``points``."""
    import torch
    import torch.nn.functional as F

    shape = np.array(volumes.shape[1:], dtype=float)  # (x, y, z) sizes
    scale = (2.0 / (shape - 1)).astype(np.float32).reshape(3, *([1] * (points.ndim - 1)))
    normalized = points * scale - np.float32(1.0)
    # grid_sample wants the last axis ordered (W, H, D) = (z, y, x) for an input (C, x, y, z).
    grid = torch.from_numpy(np.ascontiguousarray(np.moveaxis(normalized[::-1], 0, -1)))
    grid = grid.to(torch.float32).reshape(1, -1, 1, 1, 3)
    sampled = F.grid_sample(
        torch.from_numpy(volumes)[None],
        grid,
        mode="bilinear",
        padding_mode="zeros",
        align_corners=True,
    )
    return sampled[0, :, :, 0, 0].numpy().reshape(volumes.shape[0], *points.shape[1:])


def _coarse_field(rng, points, amplitude, wavelength_range, step=4):
    """:func:`_smooth_field` on every ``step``-th pixel of ``points`` (3, L, H, W), upsampled.

    The fields vary over centimetres, so evaluating them on a coarse grid and interpolating
    loses nothing visible and saves most of the time.
    """
    import torch
    import torch.nn.functional as F

    coarse = _smooth_field(rng, points[:, :, ::step, ::step], amplitude, wavelength_range)
    full = F.interpolate(
        torch.from_numpy(coarse)[None, None], size=points.shape[1:], mode="trilinear"
    )
    return full[0, 0].numpy()


def _warp_subject(volumes, rng, size):
    """Warp the templates for one subject and sample every axial level of ``_Z_RANGE``.

    Returns the T1, GM, WM and brain-probability volumes ``(L, size, size)`` and the source
    coordinates (for smooth fields that move with the anatomy).
    """
    levels = np.arange(_Z_RANGE[0], _Z_RANGE[1] + 1)
    # Output pixel grid: rows run anterior to posterior (anterior at the top), columns run
    # left to right, over a square field of view centred on the brain.
    pixel = (np.arange(size) - (size - 1) / 2) * (_FOV_VOXELS / size)
    rows, cols = np.meshgrid(pixel, pixel, indexing="ij")
    points = np.empty((3, len(levels), size, size))
    points[0] = cols
    points[1] = -rows
    points[2] = (levels.astype(float) - _CENTRE[2])[:, None, None]

    # Small affine change: rotation about each axis (largest in-plane), scaling, shift.
    angles = np.deg2rad(rng.normal(0.0, [3.0, 3.0, 7.0]))
    cx, cy, cz = np.cos(angles)
    sx, sy, sz = np.sin(angles)
    rot_x = np.array([[1, 0, 0], [0, cx, -sx], [0, sx, cx]])
    rot_y = np.array([[cy, 0, sy], [0, 1, 0], [-sy, 0, cy]])
    rot_z = np.array([[cz, -sz, 0], [sz, cz, 0], [0, 0, 1]])
    scale = np.diag(rng.uniform(0.92, 1.08, size=3))
    matrix = rot_z @ rot_y @ rot_x @ scale
    shift = rng.normal(0.0, [2.0, 2.0, 1.0])
    source = np.tensordot(matrix, points, axes=1) + (_CENTRE + shift).reshape(3, 1, 1, 1)
    source = source.astype(np.float32)
    # Smooth elastic deformation: about 2 voxels (4 mm) of displacement, varying over ~2-3 cm.
    displacement = np.stack([_coarse_field(rng, source, 1.5, (12.0, 30.0)) for _ in range(3)])
    t1, gm, wm, brain = _sample_volumes(volumes["stack"], source + displacement)
    return np.clip(t1, 0, None), np.clip(gm, 0, 1), np.clip(wm, 0, 1), np.clip(brain, 0, 1), source


def _ellipsoid(rng, shape, spacing, centre, diameter, elongation=0.25, wobble=0.12):
    """A random irregular ellipsoid: its window in the volume and normalized distance there.

    ``d < 1`` inside the surface. ``diameter`` (mm) is the equivalent diameter (the semi-axes'
    geometric mean is half of it); ``centre`` and ``spacing`` are in mm.
    """
    stretch = np.exp(rng.normal(0.0, elongation, size=3))
    axes = 0.5 * diameter * stretch / np.prod(stretch) ** (1 / 3)
    rotation, _ = np.linalg.qr(rng.normal(size=(3, 3)))
    reach = 1.4 * axes.max()
    lo = np.maximum(0, np.floor((centre - reach) / spacing)).astype(int)
    hi = np.minimum(shape, np.ceil((centre + reach) / spacing) + 1).astype(int)
    if (hi <= lo).any():
        return None, None
    coordinates = np.meshgrid(
        *[np.arange(a, b) * s - c for a, b, s, c in zip(lo, hi, spacing, centre, strict=True)],
        indexing="ij",
    )
    local = np.stack(coordinates, axis=-1) @ rotation
    distance = np.sqrt(((local / axes) ** 2).sum(axis=-1))
    # Irregular outline: the radius wobbles with the angle around the first axis.
    angle = np.arctan2(local[..., 1], local[..., 2])
    amplitudes, phases = rng.uniform(0, wobble, size=2), rng.uniform(0, 2 * np.pi, size=2)
    distance /= 1.0 + sum(
        a * np.cos(k * angle + p) for a, k, p in zip(amplitudes, (2, 3), phases, strict=True)
    )
    window = tuple(slice(a, b) for a, b in zip(lo, hi, strict=True))
    return window, distance


def _tube(rng, shape, spacing, centre, length, radius):
    """A straight tube (a vessel-like segment): its window and distance to its axis (mm)."""
    direction = rng.normal(size=3) * np.array([0.4, 1.0, 1.0])  # mostly in-plane
    direction /= np.linalg.norm(direction)
    ends = centre + np.outer([-0.5, 0.5], direction * length)
    lo = np.maximum(0, np.floor((ends.min(0) - 2 * radius) / spacing)).astype(int)
    hi = np.minimum(shape, np.ceil((ends.max(0) + 2 * radius) / spacing) + 1).astype(int)
    if (hi <= lo).any():
        return None, None
    coordinates = np.meshgrid(
        *[np.arange(a, b) * s for a, b, s in zip(lo, hi, spacing, strict=True)], indexing="ij"
    )
    offset = np.stack(coordinates, axis=-1) - ends[0]
    along = np.clip(offset @ direction, 0.0, length)
    distance = np.linalg.norm(offset - along[..., None] * direction, axis=-1)
    return tuple(slice(a, b) for a, b in zip(lo, hi, strict=True)), distance


def _soft_profile(distance, edge=0.3):
    """Lesion profile: 1 in the core, falling linearly to 0.5 at ``d = 1`` and 0 at 1.15."""
    return np.clip((1.0 + edge / 2 - distance) / edge, 0.0, 1.0)


def _place_lesions(rng, brain, wm, ventricle_distance, spacing, wanted, n_positive_target):
    """Draw a subject's 3-D lesions; return the lesion-number volume and per-lesion contrasts."""
    shape = brain.shape
    lesion_volume = np.zeros(shape, dtype=np.int16)
    interior = ndimage.binary_erosion(brain > 0.5, iterations=1)
    candidates = np.argwhere(interior & (wm > 0.6) & (ventricle_distance > 2.0))
    lesions = []
    # Largest lesion cross-section (mm^2) in each axial level.
    largest = np.zeros(shape[0])
    if len(candidates) == 0:
        return lesion_volume, lesions, largest
    near = np.exp(-ventricle_distance[tuple(candidates.T)] / 6.0)
    # With no ventricle in the field of view (tiny images) every candidate is equally near.
    near = near / near.sum() if near.sum() > 0 else np.full(len(candidates), 1 / len(candidates))
    for _ in range(60):
        shown = (largest >= MIN_SECTION_MM2).sum()
        enough = len(lesions) >= wanted and shown >= n_positive_target
        if enough or len(lesions) == MAX_LESIONS:
            break
        if rng.random() < PERIVENTRICULAR_PROBABILITY:
            voxel = candidates[rng.choice(len(candidates), p=near)]
        else:
            voxel = candidates[rng.integers(len(candidates))]
        centre = (voxel + rng.uniform(-0.5, 0.5, size=3)) * spacing
        diameter = np.exp(rng.uniform(*np.log(LESION_DIAMETER_MM)))
        window, distance = _ellipsoid(rng, shape, spacing, centre, diameter)
        if window is None:
            continue
        inside = brain[window] > 0.5
        core = (distance <= 1.0) & inside
        # Keep lesions apart so that each has its own mask and box.
        if not core.any() or ((distance < 1.4) & (lesion_volume[window] > 0)).any():
            continue
        lesion_volume[window][core] = len(lesions) + 1
        area = core.sum(axis=(1, 2)) * spacing[1] * spacing[2]
        largest[window[0]] = np.maximum(largest[window[0]], area)
        flair = np.exp(rng.uniform(*np.log1p(FLAIR_CONTRAST_RANGE))) - 1.0
        t1 = rng.uniform(0.4, 0.6) if rng.random() < 0.25 else rng.uniform(0.1, 0.4)
        lesions.append((window, _soft_profile(distance) * inside, flair, t1))
    return lesion_volume, lesions, largest


def _subject(volumes, rng, size, slices_per_subject, lesion_fraction):
    """One subject: warp, FLAIR-like contrast, lesions, confounders; the chosen slices."""
    t1, gm, wm, brain, source = _warp_subject(volumes, rng, size)
    shape = t1.shape
    spacing = np.array([_SLICE_MM, 2.0 * _FOV_VOXELS / size, 2.0 * _FOV_VOXELS / size])
    other = np.clip(1.0 - gm - wm, 0.0, 1.0) * brain
    # Ventricles: CSF near the middle of each slice (the lateral and third ventricles).
    row_mm = (np.arange(size) - (size - 1) / 2) * spacing[1]
    central = np.hypot(row_mm[:, None] + 8.0, row_mm[None, :]) < 45.0
    ventricle = (other > 0.55) & (brain > 0.5) & central[None]
    ventricle = ndimage.binary_opening(ventricle, iterations=1)
    if ventricle.any():
        ventricle_distance = ndimage.distance_transform_edt(~ventricle, sampling=spacing)
    else:
        ventricle_distance = np.full(shape, np.inf)

    # T1: the real template, with a gamma and a small change of the grey/white contrast.
    t1 = t1 ** rng.uniform(0.8, 1.25) + rng.uniform(-0.04, 0.04) * (wm - gm)
    # FLAIR-like: grey brighter than white matter, CSF suppressed, from the tissue maps.
    wm_level = 1.0 / rng.uniform(1.25, 1.5)
    csf_level = rng.uniform(0.08, 0.22)
    flair = (gm + wm_level * wm + csf_level * other) * brain

    n_positive = 0
    if lesion_fraction > 0:
        n_positive = rng.binomial(slices_per_subject, lesion_fraction)
    wanted = int(rng.integers(2, 7)) if lesion_fraction > 0 else 0
    lesion_volume, lesions, largest = _place_lesions(
        rng, brain, wm, ventricle_distance, spacing, wanted, n_positive
    )
    t1_factor = np.ones(shape, dtype=np.float32)
    flair_factor = np.ones(shape, dtype=np.float32)
    hypo = np.zeros(len(lesions) + 1, dtype=np.int8)
    for k, (window, profile, flair_contrast, t1_contrast) in enumerate(lesions, start=1):
        flair_factor[window] *= 1.0 + flair_contrast * profile
        t1_factor[window] *= 1.0 - t1_contrast * profile
        hypo[k] = -1 if t1_contrast > 0.1 else 0

    # Confounders on FLAIR, independent of the lesions.
    # 1. Bright periventricular rims ("caps"), a normal finding.
    rim = np.exp(-np.clip(ventricle_distance - 0.5, 0, None) / 2.5) * (~ventricle)
    flair = flair * (1.0 + rng.uniform(0.05, 0.25) * rim * (brain > 0.5))
    # 2. Incompletely suppressed, flowing CSF in the ventricles: bright blobs.
    ventricle_voxels = np.argwhere(ventricle)
    for _ in range(rng.poisson(6.0) if len(ventricle_voxels) else 0):
        centre = (ventricle_voxels[rng.integers(len(ventricle_voxels))] + 0.5) * spacing
        window, distance = _ellipsoid(
            rng, shape, spacing, centre, rng.uniform(6.0, 16.0), elongation=0.4
        )
        if window is None:
            continue
        level = rng.uniform(1.5, 2.5) * other[window]
        flair[window] += _soft_profile(distance) * np.clip(level - flair[window], 0, None)
    # 3. Bright vessel-like tubes in the sulci (CSF away from the ventricles).
    sulci = np.argwhere((other > 0.4) & (brain > 0.5) & ~ventricle & (ventricle_distance > 8))
    for _ in range(rng.poisson(2.0) if len(sulci) else 0):
        centre = (sulci[rng.integers(len(sulci))] + 0.5) * spacing
        radius = rng.uniform(1.5, 3.0)
        window, distance = _tube(rng, shape, spacing, centre, rng.uniform(8.0, 25.0), radius)
        if window is None:
            continue
        profile = np.clip((1.3 * radius - distance) / (0.6 * radius), 0.0, 1.0)
        level = rng.uniform(1.3, 2.4) * brain[window]
        flair[window] += profile * np.clip(level - flair[window], 0, None)

    # Smooth multiplicative bias fields from the receive coil: about +-7 % on T1 and up to
    # about +-30 % on FLAIR (its longer inversion-recovery sequence makes it less uniform).
    t1 = t1 * t1_factor * np.exp(_coarse_field(rng, source, 0.07, (60.0, 150.0)))
    flair_bias = _coarse_field(rng, source, rng.uniform(0.12, 0.22), (40.0, 120.0))
    flair = flair * flair_factor * np.exp(flair_bias)
    # 4. A faint motion ghost in some subjects: a copy of the head shifted along the
    # phase-encoding direction (here the rows).
    if rng.random() < 0.3:
        flair = flair + rng.uniform(0.03, 0.1) * np.roll(flair, size // 3, axis=1)

    # The slices: about lesion_fraction of them through a lesion.
    # Slices whose largest lesion section is below MIN_SECTION_MM2 only graze a lesion
    # (a rater would call them uncertain): they are never drawn.
    positive = np.flatnonzero(largest >= MIN_SECTION_MM2)
    negative = np.flatnonzero(largest == 0)
    n_positive = min(n_positive, len(positive))
    n_negative = min(slices_per_subject - n_positive, len(negative))
    chosen = np.concatenate(
        [
            rng.choice(positive, n_positive, replace=False),
            rng.choice(negative, n_negative, replace=False),
        ]
    ).astype(int)
    if len(chosen) < slices_per_subject:  # too few levels of one kind: fill with the others
        rest = np.setdiff1d(np.arange(shape[0]), chosen)
        rest = rng.choice(rest, slices_per_subject - len(chosen), replace=False)
        chosen = np.concatenate([chosen, rest])
    chosen = np.sort(chosen)

    # Magnitude MR images have Rician noise: |signal + complex Gaussian noise|.
    images = np.empty((len(chosen), 2, size, size), dtype=np.float32)
    for c, (volume, sigma) in enumerate(
        [(t1, rng.uniform(0.02, 0.04)), (flair, rng.uniform(0.03, 0.06))]
    ):
        signal = volume[chosen]
        real = signal + rng.normal(0.0, sigma, signal.shape)
        images[:, c] = np.hypot(real, rng.normal(0.0, sigma, signal.shape))
    tissue = (np.argmax(np.stack([other, gm, wm])[:, chosen], axis=0) + 1).astype(np.uint8)
    inside = brain[chosen] > 0.5
    tissue[~inside] = 0
    return {
        "images": images,
        "lesion_volume": lesion_volume[chosen],
        "hypo": hypo,
        "tissue": tissue,
        "brain": inside,
        "levels": chosen + _Z_RANGE[0],
    }


def _slice_instances(lesion_slice):
    """Renumber one slice's lesions 1..n; return ids, boxes, keys (subject-level numbers)."""
    ids = np.zeros(lesion_slice.shape, dtype=np.int8)
    boxes = np.full((MAX_LESIONS, 4), -1.0, dtype=np.float32)
    keys = np.full(MAX_LESIONS, -1, dtype=np.int16)
    for k, key in enumerate(np.unique(lesion_slice[lesion_slice > 0])):
        rows, cols = np.nonzero(lesion_slice == key)
        ids[rows, cols] = k + 1
        boxes[k] = (cols.min(), rows.min(), cols.max(), rows.max())
        keys[k] = key - 1
    return ids, boxes, keys


def _generate(n_subjects, slices_per_subject, size, lesion_fraction, seed):
    volumes = load_mni152_volumes()
    volumes = {"stack": np.stack([volumes[name] for name in ("t1", "gm", "wm", "mask")])}
    n = n_subjects * slices_per_subject
    images = np.zeros((n, len(CHANNELS), size, size), dtype=np.float32)
    lesion_ids = np.zeros((n, size, size), dtype=np.int8)
    boxes = np.full((n, MAX_LESIONS, 4), -1.0, dtype=np.float32)
    n_lesions = np.zeros(n, dtype=np.int64)
    polarity = np.zeros((n, MAX_LESIONS), dtype=np.int8)
    lesion_keys = np.full((n, MAX_LESIONS), -1, dtype=np.int16)
    tissue = np.zeros((n, size, size), dtype=np.uint8)
    brain = np.zeros((n, size, size), dtype=bool)
    subject_ids = np.repeat(np.arange(n_subjects, dtype=np.int64), slices_per_subject)
    slice_levels = np.zeros(n, dtype=np.int64)
    for subject in range(n_subjects):
        rng = np.random.default_rng([seed, subject])
        drawn = _subject(volumes, rng, size, slices_per_subject, lesion_fraction)
        rows = slice(subject * slices_per_subject, (subject + 1) * slices_per_subject)
        images[rows], tissue[rows], brain[rows] = drawn["images"], drawn["tissue"], drawn["brain"]
        slice_levels[rows] = drawn["levels"]
        for j, lesion_slice in enumerate(drawn["lesion_volume"]):
            i = subject * slices_per_subject + j
            lesion_ids[i], boxes[i], lesion_keys[i] = _slice_instances(lesion_slice)
            n_lesions[i] = int((lesion_keys[i] >= 0).sum())
            polarity[i, : n_lesions[i]] = drawn["hypo"][lesion_keys[i][: n_lesions[i]] + 1]
    return BrainSliceData(
        images=images,
        labels=(n_lesions > 0).astype(np.int64),
        masks=lesion_ids > 0,
        lesion_ids=lesion_ids,
        boxes=boxes,
        n_lesions=n_lesions,
        polarity=polarity,
        lesion_keys=lesion_keys,
        tissue=tissue,
        brain=brain,
        subject_ids=subject_ids,
        slice_levels=slice_levels,
    )


def split_by_subject(
    data: BrainSliceData, fractions=(0.6, 0.2, 0.2), seed: int = 0
) -> tuple[BrainSliceData, ...]:
    """Split ``data`` into parts with no subject in more than one part.

    Slices of one subject share anatomy, so splitting slices at random would leak
    information from training to test data; splitting subjects does not.

    Args:
        data: the slices to split.
        fractions: share of the subjects in each part (positive, summing to 1).
        seed: seed of the random assignment of subjects.

    Returns:
        One :class:`BrainSliceData` per fraction, in the same order.
    """
    if not isinstance(data, BrainSliceData):
        raise TypeError(f"data must be a BrainSliceData, got {type(data).__name__}")
    fractions = np.asarray(fractions, dtype=float)
    if fractions.ndim != 1 or len(fractions) < 2:
        raise ValueError(f"fractions must list at least two shares, got {fractions.tolist()}")
    if (fractions <= 0).any() or not np.isclose(fractions.sum(), 1.0):
        raise ValueError(f"fractions must be positive and sum to 1, got {fractions.tolist()}")
    subjects = np.unique(data.subject_ids)
    if len(subjects) < len(fractions):
        raise ValueError(
            f"cannot split {len(subjects)} subjects into {len(fractions)} parts; "
            "generate more subjects"
        )
    rng = np.random.default_rng(seed)
    shuffled = rng.permutation(subjects)
    # Round the cumulative counts so that every part gets at least one subject.
    bounds = np.round(np.cumsum(fractions) * len(subjects)).astype(int)
    bounds[-1] = len(subjects)
    for k in range(len(bounds)):
        lower = bounds[k - 1] if k else 0
        bounds[k] = min(max(bounds[k], lower + 1), len(subjects) - (len(bounds) - 1 - k))
    parts = np.split(shuffled, bounds[:-1])
    return tuple(data.subset(np.isin(data.subject_ids, part)) for part in parts)
