"""Tests for bios740.datasets.mitbih on small WFDB records written here (no PhysioNet access)."""

import numpy as np
import pytest
import wfdb

from bios740.datasets import ecg, mitbih

SYMBOL_CYCLE = ["N", "A", "N", "V", "N", "L", "F", "N", "/", "N", "R", "E"]


def write_fake_mitbih_record(directory, name, seed):
    """A 360 Hz two-lead record in MIT-BIH's format with beat and rhythm annotations."""
    simulated = ecg.simulate_record(seed, seed=11, duration_s=30, fs=360)
    lead = simulated.signal
    signals = np.stack([lead, 0.5 * lead], axis=1)
    wfdb.wrsamp(
        name,
        fs=360,
        units=["mV", "mV"],
        sig_name=["MLII", "V5"],
        p_signal=signals,
        fmt=["212", "212"],
        adc_gain=[200.0, 200.0],
        baseline=[1024, 1024],
        write_dir=str(directory),
    )
    beats = simulated.r_samples
    symbols = [SYMBOL_CYCLE[i % len(SYMBOL_CYCLE)] for i in range(beats.size)]
    # A rhythm annotation (not a beat) at the start, as in MIT-BIH.
    samples = np.concatenate([[1], beats])
    symbols = ["+"] + symbols
    aux = ["(N"] + [""] * beats.size
    wfdb.wrann(name, "atr", sample=samples, symbol=symbols, aux_note=aux, write_dir=str(directory))
    return beats, symbols[1:]


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
