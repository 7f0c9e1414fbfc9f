"""Electrocardiograms: simulated arrhythmia records, R-peak detection and beat data sets.

What is real and what is simulated
----------------------------------
* :func:`load_dicom_ecg` returns a **real** 10 s, 12-lead, 1 kHz ECG: the DICOM waveform
  test file that ships with pydicom.
* :func:`load_simulated_beats` builds a labelled heartbeat data set from **simulated**
  patients. Each patient's beat shapes come from the dynamical ECG model of McSharry et
  al. (2003) as implemented by NeuroKit2 (``neurokit2.ecg_simulate``, method ``ecgsyn``):
  one short simulation per beat class, with the model's P, Q, R, S and T waves changed
  the way the arrhythmia changes them. The beats are then laid end to end at R-peak
  times drawn from a rhythm model (sinus rhythm with heart-rate variability, premature
  beats with a compensatory pause, irregular atrial fibrillation), and baseline wander,
  fibrillatory waves, mains hum and noise are added. The records are written to disk as
  WFDB records with annotation files and read back with :mod:`wfdb`, the same code path
  as PhysioNet's databases (see :mod:`bios740.datasets.mitbih` for the real MIT-BIH data).
* Beats are cut around R peaks **detected** in the signal (:func:`detect_r_peaks`, a
  Pan-Tompkins-style detector); the simulator's known R-peak times are used only to give
  each detected beat its label (matching within 150 ms, as in AAMI EC57) and to measure
  the detector's error.

The five simulated classes (:data:`CLASS_NAMES`) mimic what distinguishes real beats:

=====  ===================================================================================
N      normal sinus beat: P wave, narrow QRS, upright T, regular rhythm
V      premature ventricular contraction: early, no P wave, wide tall QRS, T wave opposite
       to the QRS, followed by a compensatory pause
AF     beat during atrial fibrillation: no P wave, fibrillatory baseline, irregular RR
BBB    bundle-branch-block-like beat: P wave and regular rhythm, but a wide QRS with a deep,
       slurred S wave
ST     ST-segment change (ischaemia-like): normal QRS, ST segment raised or lowered
=====  ===================================================================================

They are not MIT-BIH's classes (in the AAMI scheme AF and ST beats count as N); they are
chosen so that both shape and rhythm matter. Nothing here is a substitute for real
recordings; the point is a data set with known truth that runs offline in seconds.
"""

from __future__ import annotations

import json
import os
import shutil
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
from scipy import signal as sps

CLASS_NAMES: tuple[str, ...] = ("N", "V", "AF", "BBB", "ST")
CLASS_DESCRIPTIONS: dict[str, str] = {
    "N": "normal sinus beat",
    "V": "premature ventricular contraction",
    "AF": "beat during atrial fibrillation",
    "BBB": "bundle-branch-block-like beat (wide QRS)",
    "ST": "ST-segment elevation or depression",
}
# Beat symbols written to the simulated WFDB annotation files (MIT-BIH conventions);
# the exact class is kept in each annotation's aux_note because AF and ST beats are
# "N" beats in MIT-BIH's notation.
WFDB_SYMBOLS: dict[str, str] = {"N": "N", "V": "V", "AF": "N", "BBB": "B", "ST": "N"}
SIMULATION_VERSION = 1
# McSharry et al. (2003) defaults for the P, Q, R, S, T extrema: angle (deg), amplitude, width.
_TI = np.array([-70.0, -15.0, 0.0, 15.0, 100.0])
_AI = np.array([1.2, -5.0, 30.0, -7.5, 0.75])
_BI = np.array([0.25, 0.1, 0.1, 0.1, 0.4])
# Each template spans this much time around its R peak (seconds).
_TEMPLATE_BEFORE_S = 0.42
_TEMPLATE_AFTER_S = 0.62


# --------------------------------------------------------------------------------------
# Real data shipped with pydicom
# --------------------------------------------------------------------------------------
@dataclass
class MultiLeadECG:
    """A multi-lead ECG: ``signals`` (samples, leads) in millivolts sampled at ``fs`` Hz."""

    signals: np.ndarray
    fs: float
    lead_names: list[str]
    source: str = ""

    @property
    def duration_s(self) -> float:
        return self.signals.shape[0] / self.fs

    def lead(self, name: str) -> np.ndarray:
        """Return one lead by name (e.g. ``"II"``)."""
        if name not in self.lead_names:
            raise ValueError(f"no lead {name!r}; leads are {self.lead_names}")
        return self.signals[:, self.lead_names.index(name)]


def load_dicom_ecg(path: str | Path | None = None) -> MultiLeadECG:
    """Read a DICOM waveform ECG (default: the 12-lead example that ships with pydicom).

    The samples are scaled to physical units by pydicom (``waveform_array``) and
    converted from microvolts to millivolts.
    """
    import pydicom
    from pydicom.data import get_testdata_file

    if path is None:
        path = get_testdata_file("waveform_ecg.dcm")
        if path is None:
            raise FileNotFoundError(
                "pydicom's test file waveform_ecg.dcm was not found; reinstall pydicom "
                "(pip install --force-reinstall pydicom) or pass the path of a DICOM ECG."
            )
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"no DICOM file at {path}")
    dataset = pydicom.dcmread(path)
    if "WaveformSequence" not in dataset:
        raise ValueError(f"{path} has no WaveformSequence; it is not a DICOM waveform file")
    group = dataset.WaveformSequence[0]
    values = np.asarray(dataset.waveform_array(0), dtype=np.float64)
    names, scale = [], []
    for channel in group.ChannelDefinitionSequence:
        meaning = str(channel.ChannelSourceSequence[0].CodeMeaning)
        names.append(meaning.replace("Lead ", "").replace(" (Einthoven)", "").strip())
        unit = str(channel.ChannelSensitivityUnitsSequence[0].CodeValue)
        scale.append({"uV": 1e-3, "mV": 1.0, "V": 1e3}.get(unit, 1e-3))
    return MultiLeadECG(values * np.array(scale), float(group.SamplingFrequency), names, str(path))


# --------------------------------------------------------------------------------------
# Signal processing
# --------------------------------------------------------------------------------------
def _check_signal(signal: np.ndarray, fs: float) -> np.ndarray:
    signal = np.asarray(signal, dtype=np.float64)
    if signal.ndim != 1:
        raise ValueError(f"signal must be one lead, a 1-D array; got shape {signal.shape}")
    if not np.isfinite(signal).all():
        raise ValueError("signal contains NaN or infinite values; interpolate or drop them first")
    if not isinstance(fs, (int, float, np.integer, np.floating)) or fs <= 0:
        raise ValueError(f"fs (sampling rate in Hz) must be a positive number, got {fs!r}")
    if signal.size < 2 * fs:
        raise ValueError(
            f"signal is {signal.size} samples = {signal.size / fs:.2f} s long; at least 2 s needed"
        )
    return signal


def bandpass(
    signal: np.ndarray, fs: float, low_hz: float = 0.5, high_hz: float = 40.0, order: int = 2
) -> np.ndarray:
    """Zero-phase Butterworth band-pass filter (removes baseline wander and high-frequency noise).

    Zero phase (``filtfilt``) keeps the R peaks where they are, unlike a causal filter.
    """
    signal = np.asarray(signal, dtype=np.float64)
    if not 0 < low_hz < high_hz < fs / 2:
        raise ValueError(
            f"need 0 < low_hz < high_hz < fs/2 = {fs / 2}; got low_hz={low_hz}, high_hz={high_hz}"
        )
    sos = sps.butter(order, [low_hz, high_hz], btype="bandpass", fs=fs, output="sos")
    return sps.sosfiltfilt(sos, signal, axis=0)


@dataclass
class PanTompkinsStages:
    """Intermediate signals of :func:`detect_r_peaks` (for plots)."""

    filtered: np.ndarray
    derivative: np.ndarray
    squared: np.ndarray
    integrated: np.ndarray
    threshold: np.ndarray


def detect_r_peaks(
    signal: np.ndarray, fs: float, *, return_stages: bool = False
) -> np.ndarray | tuple[np.ndarray, PanTompkinsStages]:
    """Detect R peaks in one ECG lead with a Pan-Tompkins-style detector.

    Steps (Pan & Tompkins, 1985): band-pass 5-15 Hz to keep the QRS energy, differentiate,
    square, integrate over a 150 ms moving window, then accept peaks of the integrated
    signal that exceed an adaptive threshold between the running signal and noise levels
    (with a 250 ms refractory period and a search-back when a beat seems missed). Each
    accepted peak is finally moved to the largest deflection of the 0.5-40 Hz filtered ECG
    within +-80 ms, which is where the R peak is.

    Args:
        signal: one lead (1-D), any units.
        fs: sampling rate in Hz.
        return_stages: also return the intermediate signals for plotting.

    Returns:
        Sorted sample indices of the R peaks (and the stages if asked).
    """
    signal = _check_signal(signal, fs)
    qrs_band = bandpass(signal, fs, 5.0, min(15.0, 0.45 * fs), order=2)
    derivative = np.gradient(qrs_band) * fs
    squared = derivative**2
    window = max(1, int(round(0.15 * fs)))
    integrated = np.convolve(squared, np.ones(window) / window, mode="same")

    candidates, _ = sps.find_peaks(integrated, distance=max(1, int(0.25 * fs)))
    threshold = np.zeros_like(integrated)
    if candidates.size == 0:
        peaks = np.array([], dtype=np.int64)
    else:
        heights = integrated[candidates]
        # Initial levels from the first 5 s (it holds a few beats at any heart rate): the
        # strongest candidate is a QRS complex, a typical one is noise or a T wave.
        first = heights[candidates < 5 * fs]
        first = first if first.size else heights
        signal_level = 0.5 * float(np.max(first))
        noise_level = float(np.median(first))
        noise_level = min(noise_level, 0.5 * signal_level)
        accepted: list[int] = []
        skipped: list[int] = []
        recent_rr: list[int] = []
        for index, height in zip(candidates, heights, strict=True):
            level = noise_level + 0.25 * (signal_level - noise_level)
            # Search back first: a gap of 1.66 mean RR means a beat was probably missed;
            # take the strongest skipped candidate if it clears half the threshold.
            if recent_rr and skipped and index - accepted[-1] > 1.66 * np.mean(recent_rr):
                best = max(skipped, key=lambda i: integrated[i])
                if integrated[best] > 0.5 * level and best - accepted[-1] > 0.25 * fs:
                    accepted.append(best)
                    signal_level = 0.25 * integrated[best] + 0.75 * signal_level
                skipped = []
            threshold[index:] = level
            if height > level and (not accepted or index - accepted[-1] > 0.25 * fs):
                accepted.append(int(index))
                signal_level = 0.125 * height + 0.875 * signal_level
                skipped = []
                if len(accepted) >= 2:
                    recent_rr = (recent_rr + [accepted[-1] - accepted[-2]])[-8:]
            else:
                noise_level = 0.125 * height + 0.875 * noise_level
                skipped.append(int(index))
        peaks = np.array(sorted(set(accepted)), dtype=np.int64)

    filtered = bandpass(signal, fs, 0.5, min(40.0, 0.45 * fs))
    half = int(round(0.08 * fs))
    # The R peak is the QRS deflection with the record's dominant polarity (a deep S wave
    # can be larger than R, so the largest absolute value is not always R).
    extremes = [
        filtered[max(0, p - half) : p + half + 1][
            np.argmax(np.abs(filtered[max(0, p - half) : p + half + 1]))
        ]
        for p in peaks
    ]
    polarity = 1.0 if not extremes or np.median(extremes) >= 0 else -1.0
    refined = []
    for peak in peaks:
        lo, hi = max(0, peak - half), min(filtered.size, peak + half + 1)
        refined.append(lo + int(np.argmax(polarity * filtered[lo:hi])))
    peaks = np.unique(np.array(refined, dtype=np.int64))
    # Two candidates can refine onto neighbouring samples of one QRS: keep the larger.
    if peaks.size > 1:
        keep = [peaks[0]]
        for peak in peaks[1:]:
            if peak - keep[-1] < 0.2 * fs:
                if abs(filtered[peak]) > abs(filtered[keep[-1]]):
                    keep[-1] = peak
            else:
                keep.append(peak)
        peaks = np.array(keep, dtype=np.int64)
    if return_stages:
        return peaks, PanTompkinsStages(qrs_band, derivative, squared, integrated, threshold)
    return peaks


def heart_rate_bpm(peaks: np.ndarray, fs: float) -> float:
    """Mean heart rate (beats per minute) from R-peak sample indices (median RR, robust)."""
    peaks = np.asarray(peaks)
    if peaks.ndim != 1 or peaks.size < 2:
        raise ValueError("need at least two R peaks to compute a heart rate")
    return float(60.0 / (np.median(np.diff(peaks)) / fs))


def match_peaks(
    detected: np.ndarray, reference: np.ndarray, fs: float, tolerance_s: float = 0.15
) -> tuple[np.ndarray, np.ndarray]:
    """Match detected to reference R peaks one to one within ``tolerance_s`` (AAMI: 150 ms).

    Returns:
        ``(detected_index, reference_index)``: positions into the two arrays of matched pairs.
    """
    detected = np.asarray(detected, dtype=np.int64)
    reference = np.asarray(reference, dtype=np.int64)
    tolerance = tolerance_s * fs
    if detected.size == 0 or reference.size == 0:
        return np.array([], dtype=np.int64), np.array([], dtype=np.int64)
    nearest = np.clip(np.searchsorted(reference, detected), 1, reference.size - 1)
    left = reference[nearest - 1]
    right = reference[np.minimum(nearest, reference.size - 1)]
    choice = np.where(np.abs(detected - left) <= np.abs(detected - right), nearest - 1, nearest)
    if reference.size == 1:
        choice = np.zeros_like(detected)
    distance = np.abs(detected - reference[choice])
    det_idx, ref_idx, used = [], [], set()
    for order in np.argsort(distance, kind="stable"):
        ref = int(choice[order])
        if distance[order] <= tolerance and ref not in used:
            used.add(ref)
            det_idx.append(int(order))
            ref_idx.append(ref)
    pairs = sorted(zip(det_idx, ref_idx, strict=True))
    return (
        np.array([p[0] for p in pairs], dtype=np.int64),
        np.array([p[1] for p in pairs], dtype=np.int64),
    )


def detection_report(detected: np.ndarray, reference: np.ndarray, fs: float) -> dict[str, float]:
    """Sensitivity, positive predictive value and timing error (ms) of an R-peak detector."""
    det_idx, ref_idx = match_peaks(detected, reference, fs)
    errors_ms = (np.asarray(detected)[det_idx] - np.asarray(reference)[ref_idx]) / fs * 1000
    return {
        "sensitivity": det_idx.size / max(1, len(reference)),
        "ppv": det_idx.size / max(1, len(detected)),
        "mean_abs_error_ms": float(np.mean(np.abs(errors_ms))) if errors_ms.size else np.nan,
        "p95_abs_error_ms": float(np.percentile(np.abs(errors_ms), 95))
        if errors_ms.size
        else np.nan,
    }


# --------------------------------------------------------------------------------------
# Beat data sets
# --------------------------------------------------------------------------------------
@dataclass
class BeatSet:
    """Heartbeats as sequences.

    Attributes:
        x: ``(beats, time, 3)`` float32. Channel 0 is the band-passed ECG around the R
            peak divided by the record's median R amplitude; channels 1 and 2 are the
            RR interval before and after the beat divided by the local median RR, minus
            1 (0 for a regular rhythm), repeated over time so every model sees them.
        y: ``(beats,)`` int64 class indices into ``class_names``.
        patient: ``(beats,)`` record/patient identifiers (str).
        r_sample: ``(beats,)`` R-peak sample in the original record.
    """

    x: np.ndarray
    y: np.ndarray
    patient: np.ndarray
    r_sample: np.ndarray
    class_names: tuple[str, ...]
    fs: float

    def __len__(self) -> int:
        return int(self.y.shape[0])

    def class_counts(self) -> dict[str, int]:
        counts = np.bincount(self.y, minlength=len(self.class_names))
        return {name: int(c) for name, c in zip(self.class_names, counts, strict=True)}

    def tensors(self, device=None):
        """``(x, y)`` as torch tensors (float32, int64) on ``device``."""
        import torch

        return (
            torch.as_tensor(self.x, dtype=torch.float32, device=device),
            torch.as_tensor(self.y, dtype=torch.long, device=device),
        )


@dataclass
class BeatSplits:
    """Train/validation/test beats split by patient, plus bookkeeping for reports."""

    train: BeatSet
    val: BeatSet
    test: BeatSet
    class_names: tuple[str, ...]
    fs: float
    detection: dict[str, float] = field(default_factory=dict)
    info: dict = field(default_factory=dict)

    def balance_table(self):
        """Beats per class and split as a pandas DataFrame (with a share column)."""
        import pandas as pd

        table = pd.DataFrame(
            {name: split.class_counts() for name, split in self.splits().items()}
        ).T[list(self.class_names)]
        table["total"] = table.sum(axis=1)
        return table

    def splits(self) -> dict[str, BeatSet]:
        return {"train": self.train, "val": self.val, "test": self.test}


def rr_context(peaks: np.ndarray, neighbours: int = 8) -> np.ndarray:
    """RR features ``(len(peaks), 2)``: previous and next RR over the local median RR, minus 1.

    The first and last beats get NaN where an interval is missing.
    """
    peaks = np.asarray(peaks, dtype=np.float64)
    rr = np.diff(peaks)
    pre = np.concatenate([[np.nan], rr])
    post = np.concatenate([rr, [np.nan]])
    local = np.empty_like(pre)
    for i in range(peaks.size):
        window = rr[max(0, i - neighbours) : i + neighbours]
        local[i] = np.median(window) if window.size else np.nan
    return np.stack([pre / local - 1.0, post / local - 1.0], axis=1)


def segment_beats(
    signal: np.ndarray,
    fs: float,
    peaks: np.ndarray,
    *,
    before_s: float = 0.25,
    after_s: float = 0.45,
    out_fs: float = 125.0,
) -> tuple[np.ndarray, np.ndarray]:
    """Cut fixed windows around R peaks from a band-passed, amplitude-normalised record.

    The record is filtered 0.5-40 Hz, resampled to ``out_fs`` and divided by the median
    absolute R amplitude (so patients with small and large QRS complexes look alike).

    Returns:
        ``(windows, kept)``: ``(beats, time)`` float32 windows and the positions in
        ``peaks`` of the beats whose window fits inside the record.
    """
    signal = _check_signal(signal, fs)
    peaks = np.asarray(peaks, dtype=np.int64)
    if out_fs <= 0 or before_s < 0 or after_s <= 0:
        raise ValueError("out_fs and after_s must be positive and before_s non-negative")
    filtered = bandpass(signal, fs, 0.5, min(40.0, 0.45 * fs, 0.45 * out_fs))
    from fractions import Fraction

    ratio = Fraction(float(out_fs) / float(fs)).limit_denominator(1000)
    if ratio != 1:
        filtered = sps.resample_poly(filtered, ratio.numerator, ratio.denominator)
    centre = np.round(peaks * float(out_fs) / fs).astype(np.int64)
    before = int(round(before_s * out_fs))
    after = int(round(after_s * out_fs))
    kept = np.flatnonzero((centre - before >= 0) & (centre + after < filtered.size))
    if kept.size == 0:
        return np.zeros((0, before + after), np.float32), kept
    index = centre[kept, None] + np.arange(-before, after)[None, :]
    windows = filtered[index]
    scale = np.median(np.abs(filtered[centre[kept]]))
    windows = windows / max(scale, 1e-6)
    return windows.astype(np.float32), kept


def beats_from_record(
    signal: np.ndarray,
    fs: float,
    reference_samples: np.ndarray,
    reference_labels: np.ndarray,
    patient: str,
    *,
    class_names: tuple[str, ...],
    before_s: float = 0.25,
    after_s: float = 0.45,
    out_fs: float = 125.0,
) -> tuple[BeatSet, dict[str, float]]:
    """Detect R peaks, label them from reference annotations, and cut beat windows.

    ``reference_labels`` are class indices (or -1 for beats to ignore) of the annotated
    beats at ``reference_samples``. Detections that match no annotated beat are dropped,
    as are annotated beats the detector missed; both are counted in the returned report.
    """
    reference_samples = np.asarray(reference_samples, dtype=np.int64)
    reference_labels = np.asarray(reference_labels, dtype=np.int64)
    if reference_samples.shape != reference_labels.shape:
        raise ValueError("reference_samples and reference_labels must have the same length")
    detected = detect_r_peaks(signal, fs)
    report = detection_report(detected, reference_samples, fs)
    rr = rr_context(detected)
    windows, kept = segment_beats(
        signal, fs, detected, before_s=before_s, after_s=after_s, out_fs=out_fs
    )
    det_idx, ref_idx = match_peaks(detected, reference_samples, fs)
    label_of_detection = np.full(detected.size, -1, dtype=np.int64)
    label_of_detection[det_idx] = reference_labels[ref_idx]
    usable = (label_of_detection[kept] >= 0) & np.isfinite(rr[kept]).all(axis=1)
    kept_rows = np.flatnonzero(usable)
    beats = kept[kept_rows]
    time_steps = windows.shape[1]
    rr_feat = np.clip(rr[beats], -1.0, 2.0).astype(np.float32)
    x = np.concatenate(
        [
            windows[kept_rows][:, :, None],
            np.repeat(rr_feat[:, None, :], time_steps, axis=1),
        ],
        axis=2,
    )
    beat_set = BeatSet(
        x=x.astype(np.float32),
        y=label_of_detection[beats],
        patient=np.full(beats.size, str(patient)),
        r_sample=detected[beats],
        class_names=class_names,
        fs=out_fs,
    )
    return beat_set, report


def concatenate_beats(sets: list[BeatSet]) -> BeatSet:
    """Stack several :class:`BeatSet` objects (same classes and sampling rate)."""
    if not sets:
        raise ValueError("no beat sets to concatenate")
    return BeatSet(
        x=np.concatenate([s.x for s in sets]),
        y=np.concatenate([s.y for s in sets]),
        patient=np.concatenate([s.patient for s in sets]),
        r_sample=np.concatenate([s.r_sample for s in sets]),
        class_names=sets[0].class_names,
        fs=sets[0].fs,
    )


def split_patients(
    patients: list[str],
    patient_classes: dict[str, set[int]],
    n_classes: int,
    fractions: tuple[float, float, float] = (0.6, 0.2, 0.2),
    seed: int = 0,
    max_tries: int = 1000,
) -> dict[str, list[str]]:
    """Assign whole patients to train/val/test so that every split contains every class.

    Raises ValueError if no such assignment is found (too few patients or rare classes).
    """
    if len(fractions) != 3 or min(fractions) <= 0 or abs(sum(fractions) - 1) > 1e-6:
        raise ValueError(f"fractions must be three positive numbers summing to 1, got {fractions}")
    patients = sorted(patients)
    if len(patients) < 3:
        raise ValueError(f"need at least 3 patients to split by patient, got {len(patients)}")
    n_val = max(1, int(round(fractions[1] * len(patients))))
    n_test = max(1, int(round(fractions[2] * len(patients))))
    n_train = len(patients) - n_val - n_test
    if n_train < 1:
        raise ValueError(f"{len(patients)} patients are too few for fractions {fractions}")
    rng = np.random.default_rng(seed)
    for _ in range(max_tries):
        order = list(rng.permutation(patients))
        split = {
            "train": sorted(order[:n_train]),
            "val": sorted(order[n_train : n_train + n_val]),
            "test": sorted(order[n_train + n_val :]),
        }
        if all(
            set().union(*(patient_classes[p] for p in members)) >= set(range(n_classes))
            for members in split.values()
        ):
            return split
    raise ValueError(
        "could not split the patients so that every split has every class; "
        "use more patients or longer records"
    )


# --------------------------------------------------------------------------------------
# Simulation
# --------------------------------------------------------------------------------------
@dataclass
class SimulatedRecord:
    """One simulated single-lead record with its ground truth."""

    signal: np.ndarray  # (samples,) millivolts
    fs: float
    r_samples: np.ndarray  # true R-peak samples
    labels: np.ndarray  # class index of each beat
    name: str
    params: dict


def _template(
    rng: np.random.Generator, fs: float, heart_rate: float, ti, ai, bi, seed: int
) -> np.ndarray:
    """One beat (R at index ``_TEMPLATE_BEFORE_S * fs``) from NeuroKit2's ECGSYN model."""
    import neurokit2 as nk

    ecg = nk.ecg_simulate(
        duration=2.0 * 60.0 / heart_rate + 0.8,
        sampling_rate=int(fs),
        heart_rate=heart_rate,
        heart_rate_std=0,
        noise=0,
        method="ecgsyn",
        random_state=seed,
        ti=tuple(ti),
        ai=tuple(ai),
        bi=tuple(bi),
    )
    ecg = np.asarray(ecg, dtype=np.float64)
    # The model starts at the R peak (phase 0); the second R peak is one RR later.
    rr = int(round(60.0 / heart_rate * fs))
    search = ecg[rr - int(0.1 * fs) : rr + int(0.1 * fs)]
    r_index = rr - int(0.1 * fs) + int(np.argmax(search))
    before, after = int(round(_TEMPLATE_BEFORE_S * fs)), int(round(_TEMPLATE_AFTER_S * fs))
    beat = ecg[r_index - before : r_index + after].copy()
    # Remove the baseline with a line through both ends (TP segments), then taper the
    # ends so templates add smoothly when they overlap.
    edge = max(2, int(0.03 * fs))
    x = np.arange(beat.size)
    start, end = beat[:edge].mean(), beat[-edge:].mean()
    beat -= start + (end - start) * x / (beat.size - 1)
    taper = max(2, int(0.06 * fs))
    ramp = 0.5 - 0.5 * np.cos(np.linspace(0, np.pi, taper))
    beat[:taper] *= ramp
    beat[-taper:] *= ramp[::-1]
    return beat / beat[before]


def _class_templates(rng: np.random.Generator, fs: float, heart_rate: float, seed: int):
    """Templates for the five classes with this patient's own morphology."""
    ti = _TI + rng.uniform(-5, 5, 5)
    ai = _AI * rng.uniform(0.8, 1.2, 5)
    bi = _BI * rng.uniform(0.9, 1.1, 5)
    templates: dict[str, np.ndarray] = {}
    templates["N"] = _template(rng, fs, heart_rate, ti, ai, bi, seed)
    # Ventricular beat: no atrial wave, slow conduction through the muscle (wide QRS),
    # discordant (inverted) and broad T wave.
    ai_v = ai * np.array([0.0, 1.5, 1.0, 2.0, -2.0])
    bi_v = bi * np.array([1.0, 2.8, 2.6, 2.8, 1.3])
    ti_v = ti + np.array([0.0, -20.0, 0.0, 25.0, 15.0])
    templates["V"] = _template(rng, fs, heart_rate, ti_v, ai_v, bi_v, seed + 1) * rng.uniform(
        1.2, 1.6
    )
    # Atrial fibrillation: no organised P wave (f-waves are added to the record).
    ai_af = ai * np.array([0.0, 1.0, 1.0, 1.0, 1.0])
    templates["AF"] = _template(rng, fs, heart_rate, ti, ai_af, bi, seed + 2)
    # Bundle branch block: normal P, wide QRS with a deep, broad S wave.
    ai_b = ai * np.array([1.0, 1.0, 1.0, 2.2, -0.6])
    bi_b = bi * np.array([1.0, 1.6, 1.9, 2.4, 1.0])
    ti_b = ti + np.array([0.0, -6.0, 0.0, 14.0, 8.0])
    templates["BBB"] = _template(rng, fs, heart_rate, ti_b, ai_b, bi_b, seed + 3)
    # ST change: a plateau between the J point and the T wave, raised or lowered.
    st = templates["N"].copy()
    before = int(round(_TEMPLATE_BEFORE_S * fs))
    start, stop = before + int(0.05 * fs), before + int(0.30 * fs)
    ramp = int(0.03 * fs)
    shape = np.zeros(st.size)
    shape[start:stop] = 1.0
    shape = np.convolve(shape, np.hanning(2 * ramp) / np.hanning(2 * ramp).sum(), mode="same")
    sign = rng.choice([-1.0, 1.0])
    st += sign * rng.uniform(0.2, 0.3) * shape
    templates["ST"] = st
    return templates


def _episode_plan(rng: np.random.Generator, n_beats: int) -> list[str]:
    """Rhythm label per beat: sinus rhythm with PVCs, plus AF, BBB and ST episodes."""
    plan = ["N"] * n_beats
    episodes = [name for name in ("AF", "BBB", "ST") if rng.random() < 0.75]
    if len(episodes) < 2:
        episodes = list(rng.choice(["AF", "BBB", "ST"], size=2, replace=False))
    rng.shuffle(episodes)
    slots = np.linspace(0.1, 0.9, len(episodes) + 1)
    for k, name in enumerate(episodes):
        length = int(rng.uniform(0.10, 0.18) * n_beats)
        start = int(rng.uniform(slots[k], slots[k + 1]) * n_beats)
        start = min(start, n_beats - length - 2)
        plan[start : start + length] = [name] * length
    pvc_rate = rng.uniform(0.06, 0.16)
    for i in range(2, n_beats - 2):
        if plan[i - 1] == "N" and plan[i] == "N" and plan[i + 1] == "N":
            if rng.random() < pvc_rate:
                plan[i] = "V"
    return plan


def simulate_record(
    patient: int, seed: int = 0, duration_s: float = 120.0, fs: float = 250.0
) -> SimulatedRecord:
    """Simulate one patient's single-lead ECG with labelled beats (see module docstring).

    Deterministic for ``(patient, seed)``. The heart rate, heart-rate variability, beat
    shapes, QRS amplitude, noise and baseline wander are all patient-specific.
    """
    if duration_s < 20:
        raise ValueError(f"duration_s must be at least 20 s, got {duration_s}")
    if fs < 100:
        raise ValueError(f"fs must be at least 100 Hz for QRS detail, got {fs}")
    rng = np.random.default_rng([seed, patient, SIMULATION_VERSION])
    heart_rate = rng.uniform(55, 95)
    rr_sinus = 60.0 / heart_rate
    templates = _class_templates(rng, fs, heart_rate, seed=int(rng.integers(2**31)))
    n_beats = int(duration_s / rr_sinus) + 5
    plan = _episode_plan(rng, n_beats)

    resp_amp, resp_hz = rng.uniform(0.02, 0.06), rng.uniform(0.2, 0.33)
    mayer_amp = rng.uniform(0.01, 0.03)
    af_rr_mean = rr_sinus * rng.uniform(0.75, 0.9)
    times, labels = [], []
    t = 1.0
    previous_sinus_rr = rr_sinus
    i = 0
    while i < len(plan):
        label = plan[i]
        sinus = rr_sinus * (
            1
            + resp_amp * np.sin(2 * np.pi * resp_hz * t)
            + mayer_amp * np.sin(2 * np.pi * 0.1 * t + 1.0)
            + rng.normal(0, 0.01)
        )
        if label == "AF":
            rr = float(np.clip(af_rr_mean * np.exp(rng.normal(0, 0.22)), 0.33, 1.6))
        elif label == "V":
            rr = sinus * rng.uniform(0.55, 0.72)
        elif label == "ST":
            rr = sinus * 0.95
        else:
            rr = sinus
        if i > 0 and plan[i - 1] == "V":
            # Compensatory pause: the sinus node keeps time, so the two intervals around
            # a PVC add up to two sinus cycles.
            rr = 2 * previous_sinus_rr - (times[-1] - times[-2])
        t += rr
        previous_sinus_rr = sinus
        if t > duration_s - 1.0:
            break
        times.append(t)
        labels.append(CLASS_NAMES.index(label))
        i += 1

    n = int(duration_s * fs)
    ecg = np.zeros(n)
    r_amp = rng.uniform(0.7, 1.6)
    before = int(round(_TEMPLATE_BEFORE_S * fs))
    r_samples = np.round(np.array(times) * fs).astype(np.int64)
    for r, label in zip(r_samples, labels, strict=True):
        beat = templates[CLASS_NAMES[label]] * r_amp * rng.uniform(0.93, 1.07)
        lo = r - before
        hi = lo + beat.size
        clip_lo, clip_hi = max(0, lo), min(n, hi)
        ecg[clip_lo:clip_hi] += beat[clip_lo - lo : beat.size - (hi - clip_hi)]

    time = np.arange(n) / fs
    # Fibrillatory waves (4-8 Hz) during AF, from the first to the last AF beat.
    labels_arr = np.array(labels)
    af = np.flatnonzero(labels_arr == CLASS_NAMES.index("AF"))
    if af.size:
        lo, hi = r_samples[af[0]] - int(0.5 * fs), r_samples[af[-1]] + int(0.5 * fs)
        f_hz = rng.uniform(5, 7) + 0.5 * np.sin(2 * np.pi * 0.2 * time[lo:hi])
        phase = 2 * np.pi * np.cumsum(f_hz) / fs
        ecg[lo:hi] += rng.uniform(0.03, 0.07) * np.sin(phase) * np.hanning(hi - lo) ** 0.1
    wander = rng.uniform(0.05, 0.3) * np.sin(
        2 * np.pi * rng.uniform(0.15, 0.4) * time + rng.uniform(0, 6)
    )
    wander += rng.uniform(0.02, 0.1) * np.sin(2 * np.pi * rng.uniform(0.03, 0.08) * time)
    mains = rng.uniform(0.0, 0.02) * np.sin(2 * np.pi * rng.choice([50.0, 60.0]) * time)
    noise = rng.normal(0, rng.uniform(0.01, 0.035), n)
    ecg = ecg + wander + mains + noise
    params = {
        "heart_rate_bpm": round(float(heart_rate), 2),
        "r_amplitude_mV": round(float(r_amp), 3),
        "episodes": sorted(set(CLASS_NAMES[k] for k in labels)),
    }
    return SimulatedRecord(
        ecg.astype(np.float64), float(fs), r_samples, labels_arr, f"sim{patient:03d}", params
    )


def write_wfdb_record(record: SimulatedRecord, directory: str | Path) -> Path:
    """Write a simulated record as WFDB files (``.hea``, ``.dat``, ``.atr``); return its path stem."""
    import wfdb

    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    wfdb.wrsamp(
        record.name,
        fs=record.fs,
        units=["mV"],
        sig_name=["ECG"],
        p_signal=record.signal[:, None],
        fmt=["16"],
        adc_gain=[1000.0],
        baseline=[0],
        write_dir=str(directory),
        comments=[json.dumps(record.params)],
    )
    wfdb.wrann(
        record.name,
        "atr",
        sample=record.r_samples,
        symbol=[WFDB_SYMBOLS[CLASS_NAMES[k]] for k in record.labels],
        aux_note=[CLASS_NAMES[k] for k in record.labels],
        write_dir=str(directory),
        fs=record.fs,
    )
    return directory / record.name


@dataclass
class WfdbRecord:
    """A record read with wfdb: one lead, its sampling rate and its beat annotations."""

    signal: np.ndarray
    fs: float
    lead: str
    ann_samples: np.ndarray
    ann_symbols: list[str]
    ann_aux: list[str]
    name: str


def read_wfdb_record(
    path: str | Path, channel: int | str = 0, extension: str = "atr"
) -> WfdbRecord:
    """Read one lead and its annotation file from a WFDB record (local files).

    Args:
        path: the record path without extension, e.g. ``data/mitdb/100``.
        channel: lead index or name (MIT-BIH: ``"MLII"`` is usually lead 0).
        extension: annotation file extension (``"atr"`` for reference annotations).
    """
    import wfdb

    path = Path(path)
    header = path.with_name(path.name + ".hea")
    if not header.is_file():
        raise FileNotFoundError(
            f"no WFDB header {header}; a record needs {path.name}.hea, {path.name}.dat and "
            f"{path.name}.{extension} in {path.parent}"
        )
    annotation_file = path.with_name(f"{path.name}.{extension}")
    if not annotation_file.is_file():
        raise FileNotFoundError(f"no annotation file {annotation_file} for record {path.name}")
    record = wfdb.rdrecord(str(path))
    if isinstance(channel, str):
        if channel not in record.sig_name:
            raise ValueError(f"record {path.name} has leads {record.sig_name}, not {channel!r}")
        channel = record.sig_name.index(channel)
    if not 0 <= channel < record.n_sig:
        raise ValueError(f"channel {channel} out of range; record has {record.n_sig} leads")
    annotation = wfdb.rdann(str(path), extension)
    aux = list(annotation.aux_note) if annotation.aux_note is not None else []
    return WfdbRecord(
        signal=np.asarray(record.p_signal[:, channel], dtype=np.float64),
        fs=float(record.fs),
        lead=record.sig_name[channel],
        ann_samples=np.asarray(annotation.sample, dtype=np.int64),
        ann_symbols=list(annotation.symbol),
        ann_aux=aux if len(aux) == len(annotation.symbol) else [""] * len(annotation.symbol),
        name=path.name,
    )


def simulated_records_dir(
    n_patients: int, seed: int, duration_s: float, fs: float, cache_dir: str | Path | None = None
) -> Path:
    """Write the simulated records once (cached) and return their folder."""
    if cache_dir is None:
        from bios740.paths import data_dir

        cache_dir = data_dir("ecg_simulated")
    folder = Path(cache_dir) / (
        f"v{SIMULATION_VERSION}_seed{seed}_n{n_patients}_{duration_s:g}s_{fs:g}Hz"
    )
    done = folder / "RECORDS"
    if done.is_file() and len(done.read_text().split()) == n_patients:
        return folder
    # Build in a private folder and rename it into place, so that two processes (parallel
    # test workers, two notebooks) never read a half-written cache.
    staging = folder.with_name(f"{folder.name}.tmp{os.getpid()}")
    shutil.rmtree(staging, ignore_errors=True)
    staging.mkdir(parents=True)
    names = []
    for patient in range(n_patients):
        record = simulate_record(patient, seed=seed, duration_s=duration_s, fs=fs)
        write_wfdb_record(record, staging)
        names.append(record.name)
    (staging / "RECORDS").write_text("\n".join(names) + "\n")
    if folder.exists() and not done.is_file():
        shutil.rmtree(folder, ignore_errors=True)  # an incomplete cache from an older run
    try:
        staging.rename(folder)
    except OSError:  # another process finished first: use its (identical) records
        shutil.rmtree(staging, ignore_errors=True)
    return folder


def load_simulated_beats(
    n_patients: int = 24,
    seed: int = 0,
    duration_s: float = 120.0,
    fs: float = 250.0,
    *,
    fractions: tuple[float, float, float] = (0.6, 0.2, 0.2),
    before_s: float = 0.25,
    after_s: float = 0.45,
    out_fs: float = 125.0,
    cache_dir: str | Path | None = None,
) -> BeatSplits:
    """Simulated heartbeat data set split by patient (see the module docstring).

    Records are simulated once, written as WFDB records under ``cache_dir`` (default
    ``data_dir("ecg_simulated")``) and read back with wfdb. Beats are cut around detected
    R peaks; every split contains every class and no patient appears in two splits.

    Returns:
        :class:`BeatSplits` with ``x`` of shape ``(beats, time, 3)`` (see :class:`BeatSet`).
    """
    if not isinstance(n_patients, (int, np.integer)) or n_patients < 6:
        raise ValueError(
            f"n_patients must be an integer >= 6 to split by patient, got {n_patients}"
        )
    folder = simulated_records_dir(n_patients, seed, duration_s, fs, cache_dir)
    per_patient: dict[str, BeatSet] = {}
    errors, sens, ppv = [], [], []
    for name in (folder / "RECORDS").read_text().split():
        record = read_wfdb_record(folder / name)
        labels = np.array([CLASS_NAMES.index(a) for a in record.ann_aux])
        beats, report = beats_from_record(
            record.signal,
            record.fs,
            record.ann_samples,
            labels,
            name,
            class_names=CLASS_NAMES,
            before_s=before_s,
            after_s=after_s,
            out_fs=out_fs,
        )
        per_patient[name] = beats
        errors.append(report["mean_abs_error_ms"])
        sens.append(report["sensitivity"])
        ppv.append(report["ppv"])
    classes = {name: set(np.unique(b.y).tolist()) for name, b in per_patient.items()}
    split = split_patients(list(per_patient), classes, len(CLASS_NAMES), fractions, seed)
    sets = {
        key: concatenate_beats([per_patient[p] for p in members]) for key, members in split.items()
    }
    detection = {
        "sensitivity": float(np.mean(sens)),
        "ppv": float(np.mean(ppv)),
        "mean_abs_error_ms": float(np.mean(errors)),
    }
    return BeatSplits(
        sets["train"],
        sets["val"],
        sets["test"],
        CLASS_NAMES,
        out_fs,
        detection,
        {"patients": split, "records_dir": str(folder), "source": "simulated (NeuroKit2 ECGSYN)"},
    )
