"""Semi-synthetic axial brain MRI slices with simulated lesions.

What is real and what is simulated
----------------------------------
* **Real:** the anatomy. Every slice is cut from the MNI152 2009 T1-weighted template and its
  grey-matter (GM), white-matter (WM) and brain-mask templates at 2 mm (Fonov et al., 2011),
  which ship with nilearn and load offline.
* **Simulated:** everything that makes one slice differ from another. Each synthetic
  *subject* is the template warped by a random small affine change (rotation, scaling,
  shift) and a random smooth elastic deformation, with its own contrast (gamma), smooth
  multiplicative bias field and Rician noise level. **Lesions** are simulated too: in about
  ``lesion_fraction`` of the slices one to three irregular blobs are painted inside the
  brain, mostly brighter (hyper-intense, 90 %) and some darker (hypo-intense) than the tissue
  around them, of varied size (radius about 4 to 24 mm) and contrast (25 % to 80 %), many
  small or faint, each with a faint swelling (oedema) around it. Most lesions (85 %) lie in
  the periventricular white matter, as multiple-sclerosis and small-vessel lesions do; the
  others anywhere in the brain. The lesions are drawn per slice, not as 3-D objects, so
  neighbouring slices of one subject do not share lesions. They are a teaching device with
  known ground truth, not a model of any one disease.

Because the lesions are painted by code, their masks, bounding boxes and tissue labels are
known exactly, so the same data serve classification (chapter 3), localization (chapter 9),
segmentation and registration (chapter 10).

Typical use::

    from bios740.datasets.brain_slices import make_brain_slices, split_by_subject

    data = make_brain_slices(n_subjects=100, slices_per_subject=20, seed=0)
    train, val, test = split_by_subject(data, fractions=(0.6, 0.2, 0.2), seed=0)
    x, y = train.tensors()  # float32 (N, 1, 64, 64) images and int64 (N,) labels

The generator is calibrated so that the task is not trivial: with 2,000 slices split by
subject, logistic regression on raw pixels reaches a test AUC of about 0.75 (it can only
learn where lesions tend to be), and a small CNN about 0.97 after a few epochs.
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
    "TISSUE_NAMES",
    "make_brain_slices",
    "load_mni152_volumes",
    "split_by_subject",
]

#: Bump when the generator changes, so that stale disk caches are not reused.
GENERATOR_VERSION = 3

#: Names of the values of :attr:`BrainSliceData.tissue`.
TISSUE_NAMES = ("background", "CSF/other", "grey matter", "white matter")

#: Largest number of lesions in one slice (the width of :attr:`BrainSliceData.boxes`).
MAX_LESIONS = 3

# Axial levels (voxel index z of the 2 mm MNI grid, 95 planes) that the slices come from:
# from just above the cerebellum to the upper convexity, where the brain is large.
_Z_RANGE = (28, 66)
# Square field of view in 2 mm voxels around the centre of the brain, (x, y) = (49, 58.5).
_FOV_VOXELS = 96.0
_CENTRE = np.array([49.0, 58.5, 0.0])

# Lesion appearance: radius in pixels at 64 x 64 and relative contrast (both drawn
# log-uniformly, so small and faint lesions are common), and the share of bright lesions.
RADIUS_RANGE = (2.5, 8.0)
CONTRAST_RANGE = (0.25, 0.8)
HYPER_PROBABILITY = 0.9
# Share of lesions centred in the periventricular white matter, where most multiple-sclerosis
# and small-vessel lesions lie; the others may lie anywhere in the brain.
PERIVENTRICULAR_PROBABILITY = 0.85
# Faint swelling (oedema) around each lesion: relative contrast and reach in lesion radii.
EDEMA_CONTRAST = 0.15
EDEMA_REACH = 2.5
# Spread (pixels at 64 x 64) of periventricular lesion centres around the ventricles.
PERIVENTRICULAR_SPREAD = 5.0

_MEMORY_CACHE: dict[str, BrainSliceData] = {}
_VOLUMES: dict[str, np.ndarray] | None = None


@dataclass(frozen=True)
class BrainSliceData:
    """A set of brain slices with their labels and ground truth.

    All arrays have the slice index first; ``N`` slices of ``H`` x ``W`` pixels.

    Attributes:
        images: float32 ``(N, 1, H, W)`` MR intensities (about 0 to 1.2; not standardized).
        labels: int64 ``(N,)``, 1 if the slice contains at least one lesion, else 0.
        masks: bool ``(N, H, W)``, True on lesion pixels (always inside the brain).
        lesion_ids: int8 ``(N, H, W)``, 0 outside lesions and ``k`` on lesion ``k``
            (1 to ``MAX_LESIONS``), for instance-level tasks.
        boxes: float32 ``(N, MAX_LESIONS, 4)``, one box per lesion as pixel indices
            ``(x_min, y_min, x_max, y_max)`` (column, row; inclusive), rows after the last
            lesion filled with -1. Use :meth:`boxes_of` for the valid rows of one slice.
        n_lesions: int64 ``(N,)`` number of lesions (0 to ``MAX_LESIONS``).
        polarity: int8 ``(N, MAX_LESIONS)``, +1 hyper-intense, -1 hypo-intense, 0 no lesion.
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
            f"BrainSliceData({len(self)} slices of {size} px from {n_subjects} subjects, "
            f"{int(self.labels.sum())} with lesions)"
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

    def tensors(self, device=None):
        """Images and labels as torch tensors: float32 ``(N, 1, H, W)`` and int64 ``(N,)``."""
        import torch

        images = torch.from_numpy(self.images)
        labels = torch.from_numpy(self.labels)
        if device is not None:
            images, labels = images.to(device), labels.to(device)
        return images, labels


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
    bright_fraction: float = HYPER_PROBABILITY,
) -> BrainSliceData:
    """Generate semi-synthetic axial brain slices, about half of them with lesions.

    Real MNI152 anatomy, simulated subjects and lesions (see the module docstring).

    Args:
        n_subjects: number of synthetic subjects (each a different random warp of the template).
        slices_per_subject: distinct axial levels drawn per subject (1 to 39).
        size: output images are ``size`` x ``size`` pixels over a 192 mm field of view.
        lesion_fraction: probability that a slice contains lesions.
        seed: the same seed and arguments always give the same data.
        cache: reuse data generated before with the same arguments (kept in memory, and on
            disk under ``bios740.paths.data_dir("brain_slices")`` when that is available).
        bright_fraction: share of lesions that are hyper-intense (the rest are hypo-intense);
            0.0 gives a different lesion type (dark lesions only), e.g. for transfer learning.

    Returns:
        A :class:`BrainSliceData` of ``n_subjects * slices_per_subject`` slices, ordered by
        subject.
    """
    _check_arguments(n_subjects, slices_per_subject, size, lesion_fraction, seed)
    if isinstance(bright_fraction, bool) or not isinstance(
        bright_fraction, (int, float, np.floating)
    ):
        raise TypeError(f"bright_fraction must be a number, got {bright_fraction!r}")
    if not 0.0 <= bright_fraction <= 1.0:
        raise ValueError(f"bright_fraction must be between 0 and 1, got {bright_fraction}")
    arguments = dict(
        n_subjects=int(n_subjects),
        slices_per_subject=int(slices_per_subject),
        size=int(size),
        lesion_fraction=float(lesion_fraction),
        seed=int(seed),
        bright_fraction=float(bright_fraction),
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
        except Exception:  # a damaged cache file is regenerated
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


def _subject_slices(volumes, rng, levels, size):
    """Warp the templates for one subject and sample its axial slices at ``levels``."""
    # Output pixel grid: rows run anterior to posterior (anterior at the top), columns run
    # left to right, over a square field of view centred on the brain.
    pixel = (np.arange(size) - (size - 1) / 2) * (_FOV_VOXELS / size)
    rows, cols = np.meshgrid(pixel, pixel, indexing="ij")
    n = len(levels)
    points = np.empty((3, n, size, size))
    points[0] = cols
    points[1] = -rows
    points[2] = (np.asarray(levels, dtype=float) - _CENTRE[2])[:, None, None]
    points[2] += 0.0 * rows  # broadcast to the full grid

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
    displacement = np.stack([_smooth_field(rng, source, 1.5, (12.0, 30.0)) for _ in range(3)])
    t1, gm, wm, mask = _sample_volumes(volumes["stack"], source + displacement)
    brain = mask > 0.5
    other = np.clip(1.0 - gm - wm, 0.0, None)
    tissue = (np.argmax(np.stack([other, gm, wm]), axis=0) + 1).astype(np.uint8)
    tissue[~brain] = 0

    # Contrast: gamma on the intensities and a small change of the grey/white contrast.
    t1 = np.clip(t1, 0.0, None)
    t1 = t1 ** rng.uniform(0.8, 1.25) + rng.uniform(-0.04, 0.04) * (wm - gm)
    # Smooth multiplicative bias field, as from the receive coil (about +-10 %).
    bias = np.exp(_smooth_field(rng, source, 0.08, (60.0, 150.0)))
    return np.clip(t1, 0.0, None), bias, brain, tissue


def _paint_lesions(rng, image, brain, white_matter, size, bright_fraction):
    """Paint one to three irregular lesions inside ``brain`` (in place on ``image``).

    Returns the lesion-id map, the boxes, the polarities and the number of lesions.
    """
    lesion_ids = np.zeros((size, size), dtype=np.int8)
    boxes = np.full((MAX_LESIONS, 4), -1.0, dtype=np.float32)
    polarity = np.zeros(MAX_LESIONS, dtype=np.int8)
    # Lesion centres lie inside the brain, at least a pixel or two from its edge.
    interior = ndimage.binary_erosion(brain, iterations=max(1, size // 32))
    candidates = np.argwhere(interior)
    if len(candidates) == 0:
        return lesion_ids, boxes, polarity, 0
    # Periventricular centres: white-matter pixels weighted by closeness to the middle of the
    # slice, where the lateral ventricles are.
    in_white = np.argwhere(interior & white_matter)
    if len(in_white):
        offsets = (in_white - (size - 1) / 2) / (PERIVENTRICULAR_SPREAD * size / 64.0)
        weights = np.exp(-0.5 * (offsets**2).sum(axis=1))
        weights /= weights.sum()
    scale = size / 64.0
    wanted = int(rng.choice([1, 2, 3], p=[0.5, 0.3, 0.2]))
    count = 0
    for _ in range(10 * wanted):
        if count == wanted:
            break
        if len(in_white) and rng.random() < PERIVENTRICULAR_PROBABILITY:
            r0, c0 = in_white[rng.choice(len(in_white), p=weights)]
        else:
            r0, c0 = candidates[rng.integers(len(candidates))]
        # Radius in pixels at 64 x 64: log-uniform, so that small lesions are common.
        radius = np.exp(rng.uniform(np.log(RADIUS_RANGE[0]), np.log(RADIUS_RANGE[1]))) * scale
        aspect = rng.uniform(0.6, 1.0)
        theta0 = rng.uniform(0, np.pi)
        amplitudes = rng.uniform(0.0, 0.18, size=3)
        phases = rng.uniform(0, 2 * np.pi, size=3)
        contrast = np.exp(rng.uniform(np.log(CONTRAST_RANGE[0]), np.log(CONTRAST_RANGE[1])))
        sign = 1 if rng.random() < bright_fraction else -1
        # Work in a window around the centre: the blob never reaches beyond 1.6 radii, the
        # oedema fades out by 1.6 * EDEMA_REACH radii.
        half = int(np.ceil(1.6 * EDEMA_REACH * radius)) + 1
        r_lo, r_hi = max(0, r0 - half), min(size, r0 + half + 1)
        c_lo, c_hi = max(0, c0 - half), min(size, c0 + half + 1)
        dr, dc = np.mgrid[r_lo - r0 : r_hi - r0, c_lo - c0 : c_hi - c0].astype(float)
        u = dc * np.cos(theta0) + dr * np.sin(theta0)
        v = (-dc * np.sin(theta0) + dr * np.cos(theta0)) / aspect
        angle = np.arctan2(v, u)
        # Irregular outline: the radius wobbles with the angle (harmonics 2 to 4).
        wobble = 1.0 + sum(
            a * np.cos(k * angle + p) for a, k, p in zip(amplitudes, (2, 3, 4), phases, strict=True)
        )
        distance = np.hypot(u, v) / (radius * wobble)
        window = (slice(r_lo, r_hi), slice(c_lo, c_hi))
        blob = (distance < 1.0) & brain[window]
        if blob.sum() < 3:
            continue
        # Keep lesions apart (one pixel of gap) so that each has its own mask and box.
        grown = ndimage.binary_dilation(np.pad(blob, 1), iterations=1)
        neighbours = np.pad(lesion_ids[window], 1) > 0
        if (grown & neighbours).any():
            continue
        # Soft profile: strongest at the centre, fading to the outline.
        profile = np.sqrt(np.clip(1.0 - distance**2, 0.0, 1.0)) * blob
        edema = np.exp(-0.5 * (distance / (0.6 * EDEMA_REACH)) ** 2) * brain[window]
        image[window] *= (1.0 + sign * contrast * profile) * (1.0 + sign * EDEMA_CONTRAST * edema)
        lesion_ids[window][blob] = count + 1
        rows_idx, cols_idx = np.nonzero(blob)
        boxes[count] = (
            c_lo + cols_idx.min(),
            r_lo + rows_idx.min(),
            c_lo + cols_idx.max(),
            r_lo + rows_idx.max(),
        )
        polarity[count] = sign
        count += 1
    return lesion_ids, boxes, polarity, count


def _generate(n_subjects, slices_per_subject, size, lesion_fraction, seed, bright_fraction):
    volumes = load_mni152_volumes()
    volumes = {"stack": np.stack([volumes[name] for name in ("t1", "gm", "wm", "mask")])}
    n = n_subjects * slices_per_subject
    images = np.zeros((n, 1, size, size), dtype=np.float32)
    lesion_ids = np.zeros((n, size, size), dtype=np.int8)
    boxes = np.full((n, MAX_LESIONS, 4), -1.0, dtype=np.float32)
    n_lesions = np.zeros(n, dtype=np.int64)
    polarity = np.zeros((n, MAX_LESIONS), dtype=np.int8)
    tissue = np.zeros((n, size, size), dtype=np.uint8)
    brain = np.zeros((n, size, size), dtype=bool)
    subject_ids = np.repeat(np.arange(n_subjects, dtype=np.int64), slices_per_subject)
    slice_levels = np.zeros(n, dtype=np.int64)
    all_levels = np.arange(_Z_RANGE[0], _Z_RANGE[1] + 1)

    for subject in range(n_subjects):
        rng = np.random.default_rng([seed, subject])
        levels = np.sort(rng.choice(all_levels, size=slices_per_subject, replace=False))
        t1, bias, subject_brain, subject_tissue = _subject_slices(volumes, rng, levels, size)
        noise_sigma = rng.uniform(0.025, 0.045)
        for j, level in enumerate(levels):
            i = subject * slices_per_subject + j
            image = t1[j].copy()
            if rng.random() < lesion_fraction:
                ids, slice_boxes, signs, count = _paint_lesions(
                    rng, image, subject_brain[j], subject_tissue[j] == 3, size, bright_fraction
                )
                lesion_ids[i], boxes[i], polarity[i], n_lesions[i] = ids, slice_boxes, signs, count
            image *= bias[j]
            # Magnitude MR images have Rician noise: |signal + complex Gaussian noise|.
            real = image + rng.normal(0.0, noise_sigma, image.shape)
            imaginary = rng.normal(0.0, noise_sigma, image.shape)
            images[i, 0] = np.hypot(real, imaginary)
            tissue[i], brain[i], slice_levels[i] = subject_tissue[j], subject_brain[j], level

    return BrainSliceData(
        images=images,
        labels=(n_lesions > 0).astype(np.int64),
        masks=lesion_ids > 0,
        lesion_ids=lesion_ids,
        boxes=boxes,
        n_lesions=n_lesions,
        polarity=polarity,
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
