"""The MIT-BIH Arrhythmia Database (Moody & Mark, 2001) through ``wfdb``, for Colab users.

48 half-hour two-lead records at 360 Hz with cardiologist beat annotations, on PhysioNet
(Goldberger et al., 2000). Beats are mapped to the five AAMI EC57 classes:

* N: normal and bundle branch block beats, atrial and nodal escape beats (N, L, R, e, j)
* S: supraventricular ectopic beats (A, a, J, S)
* V: ventricular ectopic beats (V, E)
* F: fusion of ventricular and normal beats (F)
* Q: paced, fusion of paced and normal, unclassifiable beats (/, f, Q)

The default split is the inter-patient one of de Chazal et al. (2004): records DS1 for
training and DS2 for testing, with the four paced records left out.

The records are not shipped with any package. :func:`download_mitbih` fetches them from
PhysioNet (about 100 MB); offline, :func:`load_mitbih_beats` raises an error that says
which files are needed and where to put them.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from .ecg import AAMI_SYMBOLS, BeatSet, beats_from_record, concatenate_beats, read_wfdb_record

AAMI_CLASSES: tuple[str, ...] = ("N", "S", "V", "F", "Q")
SYMBOL_TO_AAMI: dict[str, str] = dict(AAMI_SYMBOLS)
DS1 = (
    "101 106 108 109 112 114 115 116 118 119 122 124 201 203 205 207 208 209 215 220 223 230"
).split()
DS2 = (
    "100 103 105 111 113 117 121 123 200 202 210 212 213 214 219 221 222 228 231 232 233 234"
).split()
PACED = ("102", "104", "107", "217")
PHYSIONET_DATABASE = "mitdb"


def aami_labels(symbols: list[str]) -> np.ndarray:
    """AAMI class index per annotation symbol; -1 for non-beat annotations (rhythm, noise)."""
    return np.array(
        [AAMI_CLASSES.index(SYMBOL_TO_AAMI[s]) if s in SYMBOL_TO_AAMI else -1 for s in symbols],
        dtype=np.int64,
    )


def select_classes(beats: BeatSet, names: tuple[str, ...] = ("N", "S", "V", "F")) -> BeatSet:
    """Keep only the beats of the named classes and renumber their labels in that order.

    De Chazal et al. (2004) and most later inter-patient studies leave out class Q
    (paced and unclassifiable beats), which is almost absent once paced records are
    excluded; the default keeps N, S, V and F.
    """
    unknown = [n for n in names if n not in beats.class_names]
    if unknown:
        raise ValueError(f"unknown classes {unknown}; the beats have {beats.class_names}")
    old_index = np.array([beats.class_names.index(n) for n in names])
    keep = np.isin(beats.y, old_index)
    new_label = {int(old): new for new, old in enumerate(old_index)}
    return BeatSet(
        x=beats.x[keep],
        y=np.array([new_label[int(k)] for k in beats.y[keep]], dtype=np.int64),
        patient=beats.patient[keep],
        r_sample=beats.r_sample[keep],
        class_names=tuple(names),
        fs=beats.fs,
        rr_s=None if beats.rr_s is None else beats.rr_s[keep],
    )


def default_mitbih_dir() -> Path:
    from bios740.paths import data_dir

    return data_dir("mitdb")


def _missing_files(directory: Path, records: list[str]) -> list[str]:
    return [
        f"{r}.{ext}"
        for r in records
        for ext in ("hea", "dat", "atr")
        if not (directory / f"{r}.{ext}").is_file()
    ]


def download_mitbih(records: list[str] | None = None, directory: str | Path | None = None) -> Path:
    """Download MIT-BIH records (default: DS1 and DS2) from PhysioNet with ``wfdb``."""
    import wfdb

    directory = Path(directory) if directory is not None else default_mitbih_dir()
    records = list(records) if records is not None else list(DS1 + DS2)
    missing = sorted({name.split(".")[0] for name in _missing_files(directory, records)})
    if missing:
        directory.mkdir(parents=True, exist_ok=True)
        try:
            wfdb.dl_database(PHYSIONET_DATABASE, dl_dir=str(directory), records=missing)
        except Exception as error:  # network errors come in many types
            raise FileNotFoundError(_help_message(directory, missing, reason=str(error))) from error
    return directory


def _help_message(directory: Path, records: list[str], reason: str = "") -> str:
    shown = ", ".join(records[:6]) + (" ..." if len(records) > 6 else "")
    return (
        f"MIT-BIH Arrhythmia Database records are missing from {directory} ({shown}). "
        f"Each record needs three files: NNN.hea, NNN.dat and NNN.atr. Get them with "
        f"bios740.datasets.mitbih.download_mitbih() (needs internet; about 100 MB), or download "
        f"https://physionet.org/content/mitdb/1.0.0/ yourself and put the files in {directory} "
        f"(or set BIOS740_DATA_DIR to a folder whose mitdb/ subfolder has them)."
        + (f" Download error: {reason}" if reason else "")
    )


def load_mitbih_beats(
    records: list[str] | None = None,
    directory: str | Path | None = None,
    *,
    download: bool = False,
    channel: int | str = "MLII",
    before_s: float = 0.25,
    after_s: float = 0.45,
    out_fs: float = 125.0,
) -> BeatSet:
    """Read MIT-BIH records and return their beats with AAMI labels.

    Beats are cut around R peaks detected with :func:`bios740.datasets.ecg.detect_r_peaks` and
    labelled by the matching reference **beat** annotation (within 150 ms); rhythm, noise
    and other non-beat annotations (``+ ~ | x ! "`` ...) are left out of the matching and
    of the detection report. The lead is chosen by name: MLII is the first signal in all
    records but 114, whose signals are swapped (V5 first). ``x`` has the same three
    channels as the simulated beats.

    Args:
        records: record names such as ``["100", "101"]`` (default: DS1 + DS2).
        directory: folder with the WFDB files (default ``data_dir("mitdb")``).
        download: fetch missing records from PhysioNet first.
        channel: lead name or index (default ``"MLII"``).

    Raises:
        FileNotFoundError: records are missing and ``download`` is False (or failed);
            the message says which files and where.
    """
    directory = Path(directory) if directory is not None else default_mitbih_dir()
    records = [str(r) for r in (records if records is not None else DS1 + DS2)]
    if not records:
        raise ValueError("records is empty; give record names such as ['100', '101']")
    if download:
        download_mitbih(records, directory)
    missing = sorted({name.split(".")[0] for name in _missing_files(directory, records)})
    if missing:
        raise FileNotFoundError(_help_message(directory, missing))
    sets = []
    for name in records:
        record = read_wfdb_record(directory / name, channel=channel)
        beats, _ = beats_from_record(
            record.signal,
            record.fs,
            record.ann_samples,
            aami_labels(record.ann_symbols),
            name,
            class_names=AAMI_CLASSES,
            before_s=before_s,
            after_s=after_s,
            out_fs=out_fs,
        )
        sets.append(beats)
    return concatenate_beats(sets)
