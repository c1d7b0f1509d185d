"""Heart rate: ground truth on simulated ECG / PPG / beat lists, artefacts, gaps, HRV, errors."""
from __future__ import annotations

import numpy as np
import pytest

from synchrony.errors import ConfigError, InputError
from synchrony.preprocess import heart_rate
from synchrony.preprocess.grid import ARTEFACT, GAP, OUT_OF_RANGE, VALID

from .simulate import beat_times, ecg_signal, hr_truth, ppg_signal, recording

D = 120.0  # s: long enough for 4 swings of the 25 s trajectory and ~150 beats


@pytest.fixture(scope="module")
def beats():
    return beat_times(D)


def _errors(ds, shift=0.0):
    return ds["hr"].values - hr_truth(ds["time"].values - shift)


def test_ecg_ground_truth(beats):
    rng = np.random.default_rng(1)
    fs = 250.0
    x = ecg_signal(beats, D, fs, rng)
    ds = heart_rate(recording({"ecg": ({"ecg": x}, np.arange(x.size) / fs, fs, "mV")}))
    err = _errors(ds)
    assert ds.attrs["source"] == "ecg" and ds.attrs["n_beats"] == beats.size
    # Valid from the first beat to the last: only the stretch before the first R peak is a gap.
    assert np.mean(ds["hr_quality"].values == VALID) > 0.98
    # R peaks are refined to ~1 ms at 250 Hz, so 60/IBI errs by ~0.1 bpm; linear interpolation
    # between interval midpoints of a 25 s sinusoid adds < 0.05 bpm; edges hold half an interval (< 1 bpm).
    assert np.nanmedian(np.abs(err)) < 0.2
    assert np.nanmax(np.abs(err)) < 1.0


def test_ppg_ground_truth_at_64_hz(beats):
    rng = np.random.default_rng(2)
    fs = 64.0
    x = ppg_signal(beats, D, fs, rng)
    ds = heart_rate(recording({"bvp": ({"bvp": x}, np.arange(x.size) / fs, fs, "nW")}))
    assert ds.attrs["source"] == "bvp"
    err = _errors(ds, shift=0.25)  # the pulse arrives a constant 0.25 s after the beat
    # At 64 Hz a sample is 15.6 ms; parabolic refinement brings the peak jitter to a few ms,
    # i.e. well under 1 bpm per beat at 65-90 bpm. Without refinement this would be ~1.5 bpm.
    assert np.nanmedian(np.abs(err)) < 0.5
    assert np.nanpercentile(np.abs(err), 99) < 1.5


def test_planted_beat_artefacts_are_corrected_and_counted():
    rng = np.random.default_rng(3)
    b = beat_times(300.0, jitter=0.005, rng=rng)  # 5 ms jitter: ~0.7 bpm beat-to-beat noise
    bad = np.delete(b, 100)  # missed beat
    bad = np.insert(bad, 200, 0.5 * (bad[199] + bad[200]))  # extra beat
    rec = recording({"ibi": ({"ibi": np.diff(bad)}, bad[1:], None, "s")})
    raw = heart_rate(rec, fix_peaks=False, max_deviation=None)
    fixed = heart_rate(rec)
    t = fixed["time"].values
    for tp in (b[100], b[200]):
        near = np.abs(t - tp) < 2.0
        # uncorrected: a missed beat halves the rate, an extra one doubles it (errors of 30+ bpm)
        assert np.nanmax(np.abs(_errors(raw)[near])) > 25
        # corrected: back within the noise of the jittered beats (3 x 0.7 bpm)
        assert np.nanmax(np.abs(_errors(fixed)[near])) < 2.5
        assert np.all(fixed["hr_quality"].values[near] == VALID)
    assert fixed.attrs["n_corrected_beats"] >= 2
    assert raw.attrs["n_corrected_beats"] == 0


def test_gap_in_ecg_stays_nan_and_masked(beats):
    rng = np.random.default_rng(4)
    fs = 250.0
    x = ecg_signal(beats, D, fs, rng)
    x[int(50 * fs):int(60 * fs)] = np.nan  # 10 s of lost signal
    ds = heart_rate(recording({"ecg": ({"ecg": x}, np.arange(x.size) / fs, fs, "mV")}))
    t = ds["time"].values
    inside = (t > 51.5) & (t < 58.5)
    assert np.all(np.isnan(ds["hr"].values[inside]))
    assert np.all(ds["hr_quality"].values[inside] == GAP)
    after = (t > 63) & (t < 110)
    assert np.nanmax(np.abs(_errors(ds)[after])) < 1.0


def test_short_gaps_bridged_long_ones_not():
    beats = np.arange(1.0, 60.0, 0.8)
    keep = np.ones(beats.size, bool)
    keep[20] = False  # one dropped interval pair: 1.6 s hole, bridged
    keep[40:46] = False  # 5.6 s without beats: a gap
    t = beats[keep]
    rec = recording({"ibi": ({"ibi": np.full(t.size, 0.8)}, t, None, "s")})
    ds = heart_rate(rec, max_gap=3.0)
    tt, hr, q = ds["time"].values, ds["hr"].values, ds["hr_quality"].values
    hole = (tt > beats[19]) & (tt < beats[20])
    assert np.allclose(hr[hole], 75.0) and np.all(q[hole] == VALID)
    long_gap = (tt > beats[40]) & (tt < beats[45] - 0.8)
    assert np.all(np.isnan(hr[long_gap])) and np.all(q[long_gap] == GAP)


def test_out_of_range_rate_is_code_3():
    t = np.r_[np.arange(1, 41) * 0.8, 32.0 + np.arange(1, 11) * 0.25, 34.5 + np.arange(1, 41) * 0.8]
    ibi = np.diff(np.r_[0.0, t])
    rec = recording({"ibi": ({"ibi": ibi}, t, None, "s")})
    ds = heart_rate(rec, fix_peaks=False, max_deviation=None, hr_range=(30, 220))
    tt = ds["time"].values
    fast = (tt > 32.1) & (tt < 34.4)  # 240 bpm
    assert np.all(ds["hr_quality"].values[fast] == OUT_OF_RANGE)
    assert np.all(np.isnan(ds["hr"].values[fast]))


def test_device_hr_stream_last_resort_and_auto_order():
    t = 10.0 + np.arange(50.0)
    hr = np.full(50, 72.0)
    hr[20] = 250.0
    rec = recording({"hr": ({"hr": hr}, t, 1.0, "bpm"), "eda": ({"eda": np.ones(240)}, np.arange(240) / 4, 4.0, "uS")})
    ds = heart_rate(rec)
    assert ds.attrs["source"] == "hr"
    q = ds["hr_quality"].values
    assert np.all(q[ds["time"].values < 10.0] == GAP)  # E4 HR starts at 10 s
    assert np.all(q[(ds["time"].values > 29.1) & (ds["time"].values < 30.9)] == OUT_OF_RANGE)
    assert np.nanmax(ds["hr"].values) == 72.0
    assert ds["time"].size == 240 and ds.attrs["fs"] == 4.0


def test_rmssd_and_rsa_known_values():
    # alternating intervals 0.8 +- 0.02 s: successive differences are all 40 ms, so RMSSD = 40 ms exactly
    ibi = 0.8 + 0.02 * (-1.0) ** np.arange(200)
    t = np.cumsum(ibi)
    rec = recording({"ibi": ({"ibi": ibi}, t, None, "s")})
    ds = heart_rate(rec, hrv=True, fix_peaks=False, max_deviation=None)
    r = ds["rmssd"].values
    assert np.nanmax(np.abs(r - 40.0)) < 1e-9 and np.mean(np.isfinite(r)) > 0.7
    # RSA: a 0.25 Hz (respiratory) swing in HR carries far more HF power than a 0.05 Hz one of the same size
    def rsa_for(freq):
        b = beat_times(150.0, hr=lambda x: 70 + 5 * np.sin(2 * np.pi * freq * x))
        out = heart_rate(recording({"ibi": ({"ibi": np.diff(b)}, b[1:], None, "s")}), hrv=True)
        return np.nanmedian(out["rsa"].values)
    assert rsa_for(0.25) > rsa_for(0.05) + 3  # ln units: > 20x the power


def test_errors_name_what_is_missing():
    rec = recording({"eda": ({"eda": np.ones(40)}, np.arange(40) / 4, 4.0, "uS")})
    with pytest.raises(InputError, match=r"ecg, bvp, ibi, hr.*\['eda'\]"):
        heart_rate(rec)
    with pytest.raises(InputError, match="'ecg' requested"):
        heart_rate(rec, source="ecg")
    with pytest.raises(ConfigError, match="source"):
        heart_rate(rec, source="ppg")
    with pytest.raises(ConfigError, match="hr_range"):
        heart_rate(rec, hr_range=(100, 50))


def test_attrs_record_every_parameter(beats):
    rec = recording({"ibi": ({"ibi": np.diff(beats)}, beats[1:], None, "s")})
    ds = heart_rate(rec, fs_out=2.0, max_gap=2.5)
    for key in ("source", "fs_out", "max_gap", "fix_peaks", "hr_range", "max_corrected_run", "max_deviation",
                "n_beats", "n_corrected_beats", "method_beats", "method_correction", "method_interpolation",
                "quality_codes", "start_utc", "fs"):
        assert key in ds.attrs, key
    assert ds.attrs["fs"] == 2.0 and ds.attrs["max_gap"] == 2.5
    assert ds["hr_quality"].dtype == np.uint8 and ds["hr"].dtype == np.float64
    assert np.all(np.isnan(ds["hr"].values) == (ds["hr_quality"].values != 0))
