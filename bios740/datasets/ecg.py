"""Electrocardiograms: simulated arrhythmia records, R-peak detection and beat data sets.

What is real and what is simulated
----------------------------------
* :func:`load_dicom_ecg` returns a **real** 10 s, 12-lead, 1 kHz ECG: the DICOM waveform
  test file that ships with pydicom.
* :func:`load_simulated_beats` builds a labelled heartbeat data set from **simulated**
  patients (:func:`simulate_record`), with the AAMI EC57 classes used on MIT-BIH:

  =====  ===============================================================================
  N      normal beats, bundle-branch-block beats (in patients with such conduction) and
         beats during atrial fibrillation (no P wave, fibrillatory baseline, irregular RR)
  S      supraventricular (atrial) premature beats: early, with an ectopic P wave of
         another shape and axis (often inverted) and PR interval; normal QRS (10 % are
         conducted aberrantly, with a wider QRS); the sinus node is reset, so the pause
         after them is not compensatory
  V      premature ventricular contractions from one or two foci per patient: wide QRS
         (120-170 ms), no P wave of their own (the sinus P wave falls on them), T wave
         opposite to the QRS; a compensatory pause after most of them, but 15 % are
         interpolated (no pause) where the heart rate allows and 20 % come late (at 88-98 %
         of the cycle, sometimes after the sinus P wave)
  F      fusion beats: a late ventricular beat and the sinus beat depolarise the ventricles
         together; the QRS is a mix (30-70 %) of the patient's normal and ventricular QRS,
         preceded by the sinus P wave, nearly on time
  =====  ===============================================================================

  Q (paced and unclassifiable beats) is left out: a pacemaker spike would be a one-line
  rule, and unclassifiable beats cannot be simulated honestly.

How a record is made
--------------------
Each beat is a sum of Gaussian waves, the P, Q, R, S and T "events" of the ECG model of
McSharry et al. (2003), written directly in milliseconds and millivolts so that their
sizes can be checked against physiology: QRS 80-100 ms for normal conduction, 120-150 ms
for left or right bundle branch block (30 % of patients; a notched broad R with a
discordant T, or a broad slurred S), 120-170 ms for PVCs; P waves of 0.07-0.22 mV whatever
the QRS amplitude (R 0.6-1.8 mV per patient), so no class can be recognised from a
rescaled P wave. Atrial (P) and ventricular (QRS-T) events are timed separately by a
rhythm model: a sinus node with respiratory sinus arrhythmia (2-8 %), a 0.1 Hz component,
slow heart-rate drift and beat-to-beat jitter; ectopic beats that reset it or not, as
above; in a quarter of the patients an atrial-fibrillation episode with irregular RR
(log-normal) and 4-8 Hz fibrillatory waves instead of P waves. The QT interval shortens
at faster rates, QRS amplitude follows breathing, and baseline wander, muscle-noise
bursts, mains hum and white noise are added. Every patient draws all of this anew, so
patients differ in heart rate, morphology, conduction and which ectopic beats they have.

The records are written to disk as WFDB records (MIT-BIH beat symbols N, L, R, A, V, F
and ``+`` rhythm annotations) and read back with :mod:`wfdb`, the same code path as
PhysioNet's databases (see :mod:`bios740.datasets.mitbih` for the real MIT-BIH data).
Beats are cut around R peaks **detected** in the signal (:func:`detect_r_peaks`, a
Pan-Tompkins-style detector); the annotations are used only to label each detected beat
(matching within 150 ms, as in AAMI EC57) and to measure the detector's error.

What is easier than real data
-----------------------------
One clean lead with no electrode changes, no artefacts that look like beats and a near
perfect detector; S and F beats more frequent than in MIT-BIH (about 5 % S, 6 % V, 2 % F
of beats, against 2.7 %, 7 % and 0.8 % there) and spread over more patients, so that
every split has all classes; beat
shapes vary within a patient only by small jitter, while real beats change with posture,
ischaemia and rate. So scores on these data are higher than inter-patient scores on
MIT-BIH (macro-F1 often 0.4-0.6 there). The task still needs learning: the RR intervals
alone do not separate the classes (interpolated and late PVCs, fusion beats, AF), and the
QRS widths of bundle-branch-block beats (N) and PVCs overlap across patients. Nothing here
is a substitute for real recordings; the point is a data set with known truth that runs
offline in seconds.
"""

from __future__ import annotations

import json
import os
import shutil
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
from scipy import signal as sps

CLASS_NAMES: tuple[str, ...] = ("N", "S", "V", "F")
CLASS_DESCRIPTIONS: dict[str, str] = {
    "N": "normal or bundle-branch-block beat, in sinus rhythm or atrial fibrillation",
    "S": "supraventricular (atrial) premature beat",
    "V": "premature ventricular contraction",
    "F": "fusion of a ventricular and a normal beat",
}
# MIT-BIH beat symbols and their AAMI EC57 classes; other symbols (rhythm changes "+",
# noise "~", comments) are not beats.
AAMI_SYMBOLS: dict[str, str] = {
    **{s: "N" for s in ("N", "L", "R", "e", "j")},
    **{s: "S" for s in ("A", "a", "J", "S")},
    **{s: "V" for s in ("V", "E")},
    "F": "F",
    **{s: "Q" for s in ("/", "f", "Q")},
}
SIMULATION_VERSION = 2


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
        # The third largest, not the largest: one ectopic beat with ten times the QRS
        # energy of the others (a PVC next to bundle-branch-block beats) must not set a
        # threshold the normal beats cannot reach.
        signal_level = 0.5 * float(np.sort(first)[-min(3, first.size)])
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
        rr_s: ``(beats, 3)`` RR interval before and after the beat and the local median
            RR, in seconds (the raw interval features of de Chazal et al., 2004), or None.
    """

    x: np.ndarray
    y: np.ndarray
    patient: np.ndarray
    r_sample: np.ndarray
    class_names: tuple[str, ...]
    fs: float
    rr_s: np.ndarray | None = None

    def __len__(self) -> int:
        return int(self.y.shape[0])

    def class_counts(self) -> dict[str, int]:
        counts = np.bincount(self.y, minlength=len(self.class_names))
        return {name: int(c) for name, c in zip(self.class_names, counts, strict=True)}

    def subset(self, mask: np.ndarray) -> BeatSet:
        """The beats where the boolean ``mask`` (or index array) selects them."""
        mask = np.asarray(mask)
        if mask.dtype == bool and mask.shape != self.y.shape:
            raise ValueError(f"mask must have shape {self.y.shape}, got {mask.shape}")
        return BeatSet(
            self.x[mask],
            self.y[mask],
            self.patient[mask],
            self.r_sample[mask],
            self.class_names,
            self.fs,
            None if self.rr_s is None else self.rr_s[mask],
        )

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


def rr_context(peaks: np.ndarray, neighbours: int = 8, *, raw: bool = False) -> np.ndarray:
    """RR features ``(len(peaks), 2)``: previous and next RR over the local median RR, minus 1.

    The local median is taken over the ``2 * neighbours`` intervals around the beat. The
    first and last beats get NaN where an interval is missing.

    Args:
        peaks: sorted R-peak sample indices of one record.
        neighbours: intervals on each side in the local median.
        raw: return ``(len(peaks), 3)`` raw intervals instead: previous RR, next RR and
            the local median RR, in samples.
    """
    peaks = np.asarray(peaks, dtype=np.float64)
    if peaks.ndim != 1:
        raise ValueError(f"peaks must be a 1-D array of sample indices, got shape {peaks.shape}")
    rr = np.diff(peaks)
    pre = np.concatenate([[np.nan], rr])
    post = np.concatenate([rr, [np.nan]])
    local = np.empty_like(pre)
    for i in range(peaks.size):
        window = rr[max(0, i - neighbours) : i + neighbours]
        local[i] = np.median(window) if window.size else np.nan
    if raw:
        return np.stack([pre, post, local], axis=1)
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

    ``reference_labels`` are class indices of the annotations at ``reference_samples``,
    or -1 for annotations that are not beats (rhythm changes, noise, comments): those are
    removed before detections are matched to beats, so that they can neither take a
    beat's match nor count as missed beats. Detections that match no annotated beat are
    dropped, as are annotated beats the detector missed; both are counted in the report.
    """
    reference_samples = np.asarray(reference_samples, dtype=np.int64)
    reference_labels = np.asarray(reference_labels, dtype=np.int64)
    if reference_samples.shape != reference_labels.shape:
        raise ValueError("reference_samples and reference_labels must have the same length")
    is_beat = reference_labels >= 0
    reference_samples, reference_labels = reference_samples[is_beat], reference_labels[is_beat]
    order = np.argsort(reference_samples, kind="stable")
    reference_samples, reference_labels = reference_samples[order], reference_labels[order]
    detected = detect_r_peaks(signal, fs)
    report = detection_report(detected, reference_samples, fs)
    rr = rr_context(detected)
    rr_raw = rr_context(detected, raw=True) / fs
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
        rr_s=rr_raw[beats].astype(np.float32),
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
        rr_s=None if any(s.rr_s is None for s in sets) else np.concatenate([s.rr_s for s in sets]),
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
    """One simulated single-lead record with its ground truth.

    Attributes:
        signal: ``(samples,)`` ECG in millivolts.
        fs: sampling rate in Hz.
        r_samples: sample of each beat's QRS fiducial point (the annotation times).
        labels: AAMI class index of each beat into :data:`CLASS_NAMES`.
        name: record name (``simNNN``).
        params: the patient's settings (written into the WFDB header as JSON).
        symbols: MIT-BIH beat symbol of each beat (``N``, ``L``, ``R``, ``A``, ``V``, ``F``).
        qrs_ms: QRS duration of each beat's noise-free waveform in milliseconds.
        rhythm: ``(sample, label)`` rhythm changes, e.g. ``(0, "(N")``, ``(9000, "(AFIB")``.
    """

    signal: np.ndarray
    fs: float
    r_samples: np.ndarray
    labels: np.ndarray
    name: str
    params: dict
    symbols: list[str] = field(default_factory=list)
    qrs_ms: np.ndarray = field(default_factory=lambda: np.zeros(0))
    rhythm: list[tuple[int, str]] = field(default_factory=list)


# A wave is (offset from the fiducial point in s, amplitude in mV, sigma before, sigma after);
# a beat is a sum of such (asymmetric) Gaussian waves, as in the ECG model of McSharry et al.
_Wave = tuple[float, float, float, float]


def _add_waves(ecg: np.ndarray, fs: float, centre_s: float, waves: list[_Wave]) -> None:
    """Add a sum of asymmetric Gaussian waves around ``centre_s`` to ``ecg`` in place."""
    for offset, amplitude, sigma_before, sigma_after in waves:
        mu = centre_s + offset
        lo = max(0, int((mu - 4 * sigma_before) * fs))
        hi = min(ecg.size, int((mu + 4 * sigma_after) * fs) + 2)
        if hi <= lo:
            continue
        t = np.arange(lo, hi) / fs - mu
        sigma = np.where(t < 0, sigma_before, sigma_after)
        ecg[lo:hi] += amplitude * np.exp(-0.5 * (t / sigma) ** 2)


def _qrs_duration_ms(qrs: list[_Wave]) -> float:
    """QRS duration of a set of QRS waves: the span where their sum exceeds 5 % of its peak."""
    t = np.arange(-0.2, 0.2, 0.0005)
    total = np.zeros_like(t)
    for offset, amplitude, sigma_before, sigma_after in qrs:
        sigma = np.where(t < offset, sigma_before, sigma_after)
        total += amplitude * np.exp(-0.5 * ((t - offset) / sigma) ** 2)
    above = np.flatnonzero(np.abs(total) > 0.05 * np.abs(total).max())
    return float((above[-1] - above[0]) * 0.5)


def _scale(waves: list[_Wave], factor: float) -> list[_Wave]:
    return [(o, a * factor, sb, sa) for o, a, sb, sa in waves]


def _patient_morphology(rng: np.random.Generator) -> dict:
    """Waves of one patient's conducted QRS-T, ectopic foci and P waves (amplitudes in mV)."""
    r_amp = rng.uniform(0.6, 1.8)
    conduction = rng.choice(["normal", "LBBB", "RBBB"], p=[0.7, 0.15, 0.15])
    q_sigma, r_sigma, s_sigma = rng.uniform(0.0095, 0.0115, 3)
    if conduction == "normal":  # QRS about 80-100 ms
        qrs = [
            (-rng.uniform(0.026, 0.032), -r_amp * rng.uniform(0.04, 0.2), q_sigma, q_sigma),
            (0.0, r_amp, r_sigma, r_sigma),
            (rng.uniform(0.026, 0.035), -r_amp * rng.uniform(0.1, 0.4), s_sigma, s_sigma),
        ]
        t_amp = rng.uniform(0.15, 0.45)
    elif conduction == "LBBB":  # broad notched R, no septal Q, discordant T: 120-150 ms
        qrs = [
            (0.0, r_amp, rng.uniform(0.018, 0.022), rng.uniform(0.017, 0.021)),
            (rng.uniform(0.039, 0.05), r_amp * rng.uniform(0.6, 0.9), 0.014, 0.018),
        ]
        t_amp = -rng.uniform(0.1, 0.3)
    else:  # RBBB: narrow R, then a broad slurred S wave: 120-150 ms
        qrs = [
            (-0.027, -r_amp * rng.uniform(0.04, 0.15), q_sigma, q_sigma),
            (0.0, r_amp, r_sigma, r_sigma),
            (rng.uniform(0.046, 0.058), -r_amp * rng.uniform(0.3, 0.6), 0.017, 0.022),
        ]
        t_amp = rng.uniform(0.08, 0.3)
    t_wave = (rng.uniform(0.24, 0.3), t_amp, rng.uniform(0.045, 0.06), rng.uniform(0.028, 0.038))
    p_amp, p_sigma = rng.uniform(0.07, 0.22), rng.uniform(0.018, 0.024)
    foci = []
    for _ in range(1 + int(rng.random() < 0.3)):  # one or two ventricular foci
        sign = 1.0 if rng.random() < 0.6 else -1.0
        main = min(3.0, r_amp * rng.uniform(1.0, 2.0))
        sigma = rng.uniform(0.02, 0.029)
        side = rng.choice([-1.0, 1.0])
        v_qrs = [
            (0.0, sign * main, sigma, sigma),
            (side * rng.uniform(0.042, 0.058), -sign * main * rng.uniform(0.2, 0.5), 0.017, 0.02),
        ]
        v_t = (rng.uniform(0.28, 0.34), -sign * rng.uniform(0.25, 0.6), 0.06, 0.05)
        foci.append((v_qrs, v_t, rng.uniform(0.5, 0.75)))  # waves and coupling ratio
    return {
        "conduction": str(conduction),
        "qrs": qrs,
        "t_wave": t_wave,
        "p_wave": (0.0, p_amp, p_sigma, p_sigma),
        "pr_s": rng.uniform(0.14, 0.2),  # P centre to R
        # Ectopic atrial focus: P' of another shape and axis (often inverted), other PR.
        "ectopic_p": (
            0.0,
            p_amp * rng.uniform(-1.2, 0.6),
            p_sigma * rng.uniform(0.7, 1.2),
            p_sigma,
        ),
        "ectopic_pr_s": rng.uniform(0.11, 0.19),
        "foci": foci,
        "r_amp": r_amp,
    }


def _rhythm_settings(rng: np.random.Generator) -> dict:
    """Rates of ectopic beats and the rhythm of one patient."""
    has_v = rng.random() < 0.65
    return {
        "heart_rate_bpm": rng.uniform(55, 100),
        "s_rate": rng.uniform(0.05, 0.18) if rng.random() < 0.6 else 0.0,
        "s_coupling": rng.uniform(0.65, 0.9),  # S beats come this early (share of sinus RR)
        "v_rate": rng.uniform(0.04, 0.18) if has_v else 0.0,
        "f_rate": rng.uniform(0.05, 0.12) if has_v and rng.random() < 0.6 else 0.0,
        "af": rng.random() < 0.25,
        "resp_amp": rng.uniform(0.02, 0.08),  # respiratory sinus arrhythmia (share of RR)
        "resp_hz": rng.uniform(0.2, 0.33),
        "drift_amp": rng.uniform(0.02, 0.08),  # slow heart-rate changes over the record
    }


def _beat_waves(morph: dict, kind: str, rng, rr_before: float, focus: int = 0, alpha=0.5):
    """QRS and T waves of one ventricular event, with beat-to-beat variability."""
    jitter = rng.normal(1.0, 0.03)
    qt = float(np.clip(rr_before, 0.4, 1.6) ** 0.3)  # the QT interval shortens at fast rates
    if kind == "V":
        qrs, t_wave, _ = morph["foci"][focus]
    else:
        qrs, t_wave = morph["qrs"], morph["t_wave"]
    qrs = [(o, a * jitter, sb * rng.normal(1, 0.03), sa) for o, a, sb, sa in qrs]
    t_wave = (t_wave[0] * qt, t_wave[1] * rng.normal(1, 0.05), t_wave[2] * qt, t_wave[3] * qt)
    if kind == "aberrant":  # a premature atrial beat conducted with a right-bundle delay
        qrs = [(o * 1.3, a, sb * 1.3, sa * 1.3) for o, a, sb, sa in qrs]
    if kind == "F":  # fusion: both wavefronts depolarise the ventricles together
        v_qrs, v_t, _ = morph["foci"][focus]
        qrs = _scale(qrs, 1 - alpha) + _scale(v_qrs, alpha)
        v_t = (v_t[0] * qt, v_t[1], v_t[2], v_t[3])
        return qrs, [(*t_wave[:1], t_wave[1] * (1 - alpha), *t_wave[2:]), _scale([v_t], alpha)[0]]
    return qrs, [t_wave]


def _rhythm(rng: np.random.Generator, settings: dict, morph: dict, duration_s: float):
    """Beat times and types from a sinus node, ectopic foci and an optional AF episode.

    Returns ventricular events ``(time, kind, focus, alpha, rr_before)`` and atrial events
    ``(time, kind)`` (``"sinus"`` or ``"ectopic"`` P waves).
    """
    rr0 = 60.0 / settings["heart_rate_bpm"]
    phases = rng.uniform(0, 2 * np.pi, 3)
    drift_hz = rng.uniform(1 / 120, 1 / 40)

    def sinus_rr(t: float) -> float:
        return rr0 * (
            1
            + settings["resp_amp"] * np.sin(2 * np.pi * settings["resp_hz"] * t + phases[0])
            + 0.02 * np.sin(2 * np.pi * 0.1 * t + phases[1])
            + settings["drift_amp"] * np.sin(2 * np.pi * drift_hz * t + phases[2])
            + rng.normal(0, 0.01)
        )

    af_window = (np.inf, np.inf)
    if settings["af"]:
        start = rng.uniform(0.15, 0.5) * duration_s
        af_window = (start, start + rng.uniform(0.25, 0.4) * duration_s)
    af_mean, af_spread = rr0 * rng.uniform(0.7, 0.95), rng.uniform(0.12, 0.25)
    pr = morph["pr_s"]
    s_rate, v_rate, f_rate = settings["s_rate"], settings["v_rate"], settings["f_rate"]
    ventricular, atrial = [], []
    last = 0.8
    atrial.append((last - pr, "sinus"))
    ventricular.append((last, "N", 0, 0.0, rr0))
    next_sinus = last + sinus_rr(last)
    previous = "N"
    end = duration_s - 1.0
    while True:
        if af_window[0] <= last < af_window[1]:
            rr = float(np.clip(af_mean * np.exp(rng.normal(0, af_spread)), 0.32, 1.8))
            kind = "V" if rng.random() < v_rate else "N"
            if kind == "V":
                rr = max(0.3, rr * rng.uniform(0.6, 0.9))
            if last + rr > end:
                break
            focus = int(rng.integers(len(morph["foci"])))
            ventricular.append((last + rr, kind, focus, 0.0, rr))
            last += rr
            next_sinus = last + sinus_rr(last)
            previous = kind
            continue
        rr = sinus_rr(last)
        u = rng.random()
        ectopic_ok = previous == "N" or (previous == "S" and rng.random() < 0.25)
        if ectopic_ok and u < s_rate:
            coupling = float(np.clip(settings["s_coupling"] + rng.normal(0, 0.04), 0.5, 0.95))
            t = last + coupling * (next_sinus - last)
            kind = "aberrant" if rng.random() < 0.1 else "S"
            atrial.append((t - morph["ectopic_pr_s"], "ectopic"))
            # The ectopic impulse resets the sinus node: a pause that is not compensatory.
            following = t + sinus_rr(t) * rng.uniform(1.0, 1.12)
            label = "S"
        elif previous == "N" and u < s_rate + v_rate:
            focus = int(rng.integers(len(morph["foci"])))
            mode = rng.choice(["compensatory", "interpolated", "late"], p=[0.65, 0.15, 0.2])
            coupling = morph["foci"][focus][2] + rng.normal(0, 0.03)
            if mode == "late":
                coupling = rng.uniform(0.88, 0.98)
            t = last + coupling * (next_sinus - last)
            if mode == "interpolated" and next_sinus - t > 0.4:
                # The sinus P wave after the PVC is conducted, with a longer PR interval.
                atrial.append((next_sinus - pr, "sinus"))
                ventricular.append((t, "V", focus, 0.0, t - last))
                delayed = next_sinus + rng.uniform(0.04, 0.1)
                if delayed > end:
                    break
                ventricular.append((delayed, "N", 0, 0.0, delayed - t))
                last, next_sinus, previous = delayed, next_sinus + sinus_rr(next_sinus), "N"
                continue
            # Compensatory pause: the sinus P wave falls on the PVC and is not conducted.
            atrial.append((next_sinus - pr, "sinus"))
            kind, label, following = "V", "V", next_sinus + sinus_rr(next_sinus)
        elif previous == "N" and u < s_rate + v_rate + f_rate:
            focus = int(rng.integers(len(morph["foci"])))
            t = next_sinus - rng.uniform(0.0, 0.04)
            atrial.append((next_sinus - pr, "sinus"))
            kind, label, following = "F", "F", next_sinus + sinus_rr(next_sinus)
        else:
            t = next_sinus
            atrial.append((t - pr, "sinus"))
            kind, label, following = "N", "N", t + sinus_rr(t)
        if t > end:
            break
        alpha = rng.uniform(0.3, 0.7) if kind == "F" else 0.0
        ventricular.append((t, kind, focus if kind in ("V", "F") else 0, alpha, t - last))
        last, next_sinus, previous = t, following, label
    return ventricular, atrial, af_window if settings["af"] else None


def simulate_record(
    patient: int, seed: int = 0, duration_s: float = 120.0, fs: float = 250.0
) -> SimulatedRecord:
    """Simulate one patient's single-lead (MLII-like) ECG with labelled beats.

    Deterministic for ``(patient, seed)``. The patient's conduction (normal or bundle
    branch block), beat shapes, ectopic foci and their rates, heart rate and its
    variability, an optional atrial-fibrillation episode, noise and baseline wander are
    all drawn per patient; see the module docstring.
    """
    if duration_s < 20:
        raise ValueError(f"duration_s must be at least 20 s, got {duration_s}")
    if fs < 100:
        raise ValueError(f"fs must be at least 100 Hz for QRS detail, got {fs}")
    rng = np.random.default_rng([seed, patient, SIMULATION_VERSION])
    morph = _patient_morphology(rng)
    settings = _rhythm_settings(rng)
    ventricular, atrial, af_window = _rhythm(rng, settings, morph, duration_s)

    n = int(duration_s * fs)
    ecg = np.zeros(n)
    time = np.arange(n) / fs
    breathing = 1 + 0.05 * np.sin(2 * np.pi * settings["resp_hz"] * time)
    for t, kind in atrial:
        wave = morph["p_wave"] if kind == "sinus" else morph["ectopic_p"]
        _add_waves(ecg, fs, t, [(0.0, wave[1] * rng.normal(1, 0.05), wave[2], wave[3])])
    symbol_of = {"N": {"normal": "N", "LBBB": "L", "RBBB": "R"}[morph["conduction"]]}
    symbol_of.update({"S": "A", "aberrant": "A", "V": "V", "F": "F"})
    samples, labels, symbols, qrs_ms = [], [], [], []
    for t, kind, focus, alpha, rr_before in ventricular:
        qrs, t_waves = _beat_waves(morph, kind, rng, rr_before, focus, alpha)
        index = int(round(t * fs))
        scale = breathing[min(index, n - 1)]
        _add_waves(ecg, fs, t, _scale(qrs, scale) + t_waves)
        samples.append(index)
        symbols.append(symbol_of[kind])
        labels.append(CLASS_NAMES.index(AAMI_SYMBOLS[symbols[-1]]))
        qrs_ms.append(_qrs_duration_ms(qrs))

    rhythm = [(0, "(N")]
    if af_window is not None:
        lo = int(af_window[0] * fs)
        hi = min(n, max(lo + 1, int(af_window[1] * fs)))
        # Fibrillatory waves of 4-8 Hz with a drifting rate replace the P waves.
        f_hz = rng.uniform(5, 7) + 0.7 * np.sin(2 * np.pi * 0.15 * time[lo:hi])
        phase = 2 * np.pi * np.cumsum(f_hz) / fs
        amplitude = rng.uniform(0.03, 0.09) * (1 + 0.4 * np.sin(2 * np.pi * 0.3 * time[lo:hi]))
        ecg[lo:hi] += amplitude * np.sin(phase)
        rhythm += [(lo, "(AFIB"), (hi, "(N")]
    wander = rng.uniform(0.05, 0.3) * np.sin(
        2 * np.pi * rng.uniform(0.15, 0.4) * time + rng.uniform(0, 6)
    )
    wander += rng.uniform(0.02, 0.15) * np.sin(2 * np.pi * rng.uniform(0.03, 0.08) * time)
    mains = rng.uniform(0.0, 0.02) * np.sin(2 * np.pi * rng.choice([50.0, 60.0]) * time)
    noise = rng.normal(0, rng.uniform(0.01, 0.04), n)
    # Muscle noise: bursts of broadband noise of a few seconds.
    for _ in range(int(rng.integers(0, 4))):
        start = int(rng.uniform(0, duration_s - 3) * fs)
        length = int(rng.uniform(1, 3) * fs)
        noise[start : start + length] += rng.normal(
            0, rng.uniform(0.03, 0.08), length
        ) * np.hanning(length)
    ecg = ecg + wander + mains + noise
    params = {
        "heart_rate_bpm": round(float(settings["heart_rate_bpm"]), 2),
        "r_amplitude_mV": round(float(morph["r_amp"]), 3),
        "conduction": morph["conduction"],
        "atrial_fibrillation": bool(settings["af"]),
        "rates": {k: round(float(settings[k]), 3) for k in ("s_rate", "v_rate", "f_rate")},
        "ventricular_foci": len(morph["foci"]),
    }
    return SimulatedRecord(
        ecg.astype(np.float64),
        float(fs),
        np.array(samples, dtype=np.int64),
        np.array(labels, dtype=np.int64),
        f"sim{patient:03d}",
        params,
        symbols,
        np.array(qrs_ms),
        rhythm,
    )


def write_wfdb_record(record: SimulatedRecord, directory: str | Path) -> Path:
    """Write a simulated record as WFDB files (``.hea``, ``.dat``, ``.atr``); return its path stem.

    Beats get MIT-BIH symbols; rhythm changes are written as MIT-BIH writes them, as
    non-beat ``+`` annotations with ``(N`` or ``(AFIB`` in the aux note.
    """
    import wfdb

    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    wfdb.wrsamp(
        record.name,
        fs=record.fs,
        units=["mV"],
        sig_name=["MLII"],
        p_signal=record.signal[:, None],
        fmt=["16"],
        adc_gain=[1000.0],
        baseline=[0],
        write_dir=str(directory),
        comments=[json.dumps(record.params)],
    )
    symbols = record.symbols or [CLASS_NAMES[k] for k in record.labels]
    events = [(int(s), sym, "") for s, sym in zip(record.r_samples, symbols, strict=True)]
    events += [(max(0, int(s)), "+", label) for s, label in record.rhythm]
    events.sort(key=lambda e: (e[0], e[1] != "+"))
    wfdb.wrann(
        record.name,
        "atr",
        sample=np.array([e[0] for e in events], dtype=np.int64),
        symbol=[e[1] for e in events],
        aux_note=[e[2] for e in events],
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
    n_patients: int = 40,
    seed: int = 0,
    duration_s: float = 60.0,
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
        labels = np.array(
            [
                CLASS_NAMES.index(AAMI_SYMBOLS[s]) if AAMI_SYMBOLS.get(s) in CLASS_NAMES else -1
                for s in record.ann_symbols
            ],
            dtype=np.int64,
        )
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
        {
            "patients": split,
            "records_dir": str(folder),
            "source": "simulated (bios740.datasets.ecg)",
        },
    )
