"""Tests for bios740.datasets.mitbih on small WFDB records written here (no PhysioNet access)."""

import numpy as np
import pytest
import wfdb

from bios740.datasets import ecg, mitbih

SYMBOL_CYCLE = ["N", "A", "N", "V", "N", "L", "F", "N", "/", "N", "R", "E"]


def write_fake_mitbih_record(directory, name, seed, *, swapped=False, noise_marks=False):
    """A 360 Hz two-lead record in MIT-BIH's format with beat and rhythm annotations.

    ``swapped`` puts V5 first, as in record 114 (there V5 is a low-amplitude noisy trace
    on which the detector would fail). ``noise_marks`` adds a non-beat annotation right at
    every third beat, while that beat's own annotation sits 25 ms later.
    """
    simulated = ecg.simulate_record(seed, seed=11, duration_s=30, fs=360)
    lead = simulated.signal
    other = np.random.default_rng(seed).normal(0, 0.3, lead.size)  # useless for detection
    signals = np.stack([other, lead] if swapped else [lead, 0.5 * lead], axis=1)
    wfdb.wrsamp(
        name,
        fs=360,
        units=["mV", "mV"],
        sig_name=["V5", "MLII"] if swapped else ["MLII", "V5"],
        p_signal=signals,
        fmt=["212", "212"],
        adc_gain=[200.0, 200.0],
        baseline=[1024, 1024],
        write_dir=str(directory),
    )
    beats = simulated.r_samples.copy()
    beat_symbols = [SYMBOL_CYCLE[i % len(SYMBOL_CYCLE)] for i in range(beats.size)]
    marks = []
    if noise_marks:
        for i in range(1, beats.size - 1, 3):
            marks.append((int(beats[i]), "~"))  # a noise mark at the R peak ...
            beats[i] += 9  # ... and the beat's own annotation 25 ms after it
        marks.append((int(beats[2]) + 30, "|"))  # an isolated QRS-like artefact mark
    # A rhythm annotation (not a beat) at the start, as in MIT-BIH.
    events = [(1, "+", "(N")]
    events += [(int(b), s, "") for b, s in zip(beats, beat_symbols, strict=True)]
    events += [(sample, symbol, "") for sample, symbol in marks]
    events.sort(key=lambda e: e[0])
    wfdb.wrann(
        name,
        "atr",
        sample=np.array([e[0] for e in events]),
        symbol=[e[1] for e in events],
        aux_note=[e[2] for e in events],
        write_dir=str(directory),
    )
    return beats, beat_symbols


def test_aami_mapping():
    labels = mitbih.aami_labels(["N", "L", "A", "V", "F", "/", "+", "~", "E", "j"])
    names = [mitbih.AAMI_CLASSES[k] if k >= 0 else None for k in labels]
    assert names == ["N", "N", "S", "V", "F", "Q", None, None, "V", "N"]
    assert set(mitbih.DS1).isdisjoint(mitbih.DS2) and len(mitbih.DS1) == len(mitbih.DS2) == 22
    assert set(mitbih.PACED).isdisjoint(set(mitbih.DS1) | set(mitbih.DS2))


def test_reads_wfdb_records_and_maps_beats_to_aami(tmp_path):
    truth = {}
    for seed, name in enumerate(["100", "101"]):
        truth[name] = write_fake_mitbih_record(tmp_path, name, seed)
    beats = mitbih.load_mitbih_beats(["100", "101"], directory=tmp_path)
    assert beats.class_names == mitbih.AAMI_CLASSES
    assert beats.x.shape[1:] == (round(0.25 * 125) + round(0.45 * 125), 3)
    assert set(beats.patient) == {"100", "101"}
    for name, (samples, symbols) in truth.items():
        mine = beats.patient == name
        # Every labelled beat sits within 150 ms of an annotated beat with the same class.
        for r, label in zip(beats.r_sample[mine], beats.y[mine], strict=True):
            nearest = int(np.argmin(np.abs(samples - r)))
            assert abs(samples[nearest] - r) <= 0.15 * 360
            assert mitbih.AAMI_CLASSES[label] == mitbih.SYMBOL_TO_AAMI[symbols[nearest]]
        assert mine.sum() >= 0.9 * (len(samples) - 2)
    counts = np.bincount(beats.y, minlength=5)
    assert (counts > 0).all()
    four = mitbih.select_classes(beats)
    assert four.class_names == ("N", "S", "V", "F")
    assert len(four) == len(beats) - counts[4]
    assert np.bincount(four.y).tolist() == counts[:4].tolist()
    with pytest.raises(ValueError, match="unknown classes"):
        mitbih.select_classes(beats, ("N", "X"))


def test_lead_by_name_and_bad_lead(tmp_path):
    write_fake_mitbih_record(tmp_path, "100", 0)
    record = ecg.read_wfdb_record(tmp_path / "100", channel="V5")
    assert record.lead == "V5" and record.fs == 360
    with pytest.raises(ValueError, match="leads"):
        ecg.read_wfdb_record(tmp_path / "100", channel="V1")


def test_missing_records_give_a_clear_error(tmp_path):
    with pytest.raises(FileNotFoundError) as info:
        mitbih.load_mitbih_beats(["100", "101"], directory=tmp_path)
    message = str(info.value)
    assert "100.hea" not in message or "NNN.hea" in message
    assert "download_mitbih" in message and str(tmp_path) in message
    assert "physionet.org" in message
    with pytest.raises(ValueError, match="empty"):
        mitbih.load_mitbih_beats([], directory=tmp_path)


def test_lead_is_chosen_by_name_as_in_record_114(tmp_path):
    beats_true, _ = write_fake_mitbih_record(tmp_path, "114", 2, swapped=True)
    beats = mitbih.load_mitbih_beats(["114"], directory=tmp_path)
    assert len(beats) >= 0.9 * (len(beats_true) - 2)  # read from MLII, the second signal
    record = ecg.read_wfdb_record(tmp_path / "114", channel="MLII")
    assert record.lead == "MLII"


def test_non_beat_annotations_neither_take_matches_nor_count_as_missed(tmp_path):
    beats_true, symbols = write_fake_mitbih_record(tmp_path, "100", 1, noise_marks=True)
    record = ecg.read_wfdb_record(tmp_path / "100")
    assert {"~", "|", "+"} <= set(record.ann_symbols)
    beats, report = ecg.beats_from_record(
        record.signal,
        record.fs,
        record.ann_samples,
        mitbih.aami_labels(record.ann_symbols),
        "100",
        class_names=mitbih.AAMI_CLASSES,
    )
    # Every beat next to a noise mark is kept, with its own beat's class.
    marked = beats_true[1:-1:3]
    for sample in marked[1:-1]:
        nearest = np.argmin(np.abs(beats.r_sample - sample))
        assert abs(beats.r_sample[nearest] - sample) <= 0.15 * 360
    assert len(beats) >= 0.95 * (len(beats_true) - 2)
    assert report["sensitivity"] > 0.97 and report["ppv"] > 0.97
    labels = [mitbih.SYMBOL_TO_AAMI[s] for s in symbols]
    assert [mitbih.AAMI_CLASSES[k] for k in beats.y] == [
        labels[int(np.argmin(np.abs(beats_true - r)))] for r in beats.r_sample
    ]
