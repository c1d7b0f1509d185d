"""analysis_series on simulated input, and the real recordings in ../shared/realdata."""
from __future__ import annotations

import numpy as np
import pytest

from synchrony.errors import ConfigError, InputError
from synchrony.preprocess import analysis_series, heart_rate, skin_conductance

from .simulate import beat_times, recording


def test_analysis_series_merges_on_one_grid():
    b = beat_times(120.0)
    t = np.arange(480) / 4.0
    rec = recording({"ibi": ({"ibi": np.diff(b)}, b[1:], None, "s"), "eda": ({"eda": 2 + 0.01 * t}, t, 4.0, "uS")})
    ds = analysis_series(rec, ["hr", "eda", "scr", "rmssd"])
    assert list(ds.data_vars) == ["hr", "hr_quality", "eda", "eda_quality", "scr", "scr_quality",
                                  "rmssd", "rmssd_quality"]
    assert ds.attrs["fs"] == 4.0 and ds.attrs["start_utc"] == rec.attrs["start_utc"]
    assert "heart_max_gap" in ds.attrs and "eda_lowpass_hz" in ds.attrs
    assert ds.sizes["time"] == 480
    with pytest.raises(ConfigError, match="unknown"):
        analysis_series(rec, ["hr"], lowpas_hz=1.0)
    with pytest.raises(ConfigError, match="modalities"):
        analysis_series(rec, ["heart"])
    no_beats = recording({"hr": ({"hr": np.full(100, 70.0)}, np.arange(100.0), 1.0, "bpm")})
    with pytest.raises(InputError, match=r"rmssd.*\['hr'\]"):
        analysis_series(no_beats, ["rmssd"])


@pytest.mark.realdata
def test_real_e4_session(realdata):
    empatica = pytest.importorskip("synchrony.io.empatica", reason="E4 reader not written yet")
    rec = empatica.read_e4(realdata / "empatica_e4" / "msr2023_session")
    ds = analysis_series(rec, ["hr", "eda", "scl", "scr"])
    assert abs(ds.sizes["time"] / 4.0 / 60.0 - 61.0) < 0.5  # a 61-minute session
    hr = ds["hr"].values
    # Plausibility: wrist BVP at rest/desk work. A resting adult sits at 50-110 bpm; this noisy
    # wrist PPG loses ~half its intervals to the artefact rules, but at least 30 % must survive.
    assert ds.attrs["heart_source"] == "bvp"
    assert 50 < np.nanmedian(hr) < 110 and np.mean(np.isfinite(hr)) > 0.3
    assert np.nanmin(hr) >= 30 and np.nanmax(hr) <= 220
    eda = ds["eda"].values
    # skin conductance of a seated adult: 0.05-20 uS; the E4's starting zeros are flagged, not kept
    assert ds["eda_quality"].values[0] == 2
    assert np.mean(np.isfinite(eda)) > 0.95 and 0.05 < np.nanmin(eda) and np.nanmax(eda) < 20
    # the E4's own beat list and HR stream give rates in the same physiological band
    for src in ("ibi", "hr"):
        h = heart_rate(rec, source=src)["hr"].values
        assert 50 < np.nanmedian(h) < 130


def _acq_channels(path):
    bioread = pytest.importorskip("bioread")
    data = bioread.read_file(str(path))
    out = {}
    for ch in data.channels:
        name = ch.name.lower()
        key = "ecg" if ("ecg" in name or "ekg" in name) else "eda" if ("eda" in name and "filt" not in name and "diff" not in name) \
            else None
        if key and key not in out:
            out[key] = (np.asarray(ch.data, float), float(ch.samples_per_second))
    return out


@pytest.mark.realdata
def test_real_biopac_ecg_and_eda(realdata):
    chans = _acq_channels(realdata / "biopac_acq" / "physio-5.0.1.acq")
    assert set(chans) == {"ecg", "eda"}
    streams = {k: ({k: x}, np.arange(x.size) / fs, fs, "mV" if k == "ecg" else "uS") for k, (x, fs) in chans.items()}
    rec = recording(streams)
    hr = heart_rate(rec)
    assert hr.attrs["source"] == "ecg" and hr.attrs["n_beats"] > 40  # ~62 s of ECG
    # a seated adult in the lab: 45-120 bpm, nearly all of it valid on clean ECG
    assert 45 < np.nanmedian(hr["hr"].values) < 120 and np.mean(np.isfinite(hr["hr"].values)) > 0.85
    eda = skin_conductance(rec)
    assert eda.attrs["fs_in"] == 2000.0 and eda.sizes["time"] == hr.sizes["time"]
    v = eda["eda"].values
    assert np.mean(np.isfinite(v)) > 0.8 and 0.05 < np.nanmedian(v) < 60


@pytest.mark.realdata
def test_real_embraceplus_peaks_and_low_eda(realdata):
    fastavro = pytest.importorskip("fastavro")
    with open(realdata / "embraceplus" / "paradigma_test_data.avro", "rb") as f:
        raw = next(iter(fastavro.reader(f)))["rawData"]
    e = raw["eda"]
    t0 = e["timestampStart"] / 1e6
    peaks = np.asarray(raw["systolicPeaks"]["peaksTimeNanos"], float) / 1e9
    x = np.asarray(e["values"], float)
    start = min(t0, peaks[0])
    from synchrony.recording import utc_from_unix

    rec = recording({"eda": ({"eda": x}, (t0 - start) + np.arange(x.size) / e["samplingFrequency"],
                             e["samplingFrequency"], "uS"),
                     "ibi": ({"ibi": np.diff(peaks)}, peaks[1:] - start, None, "s")}, start=utc_from_unix(start))
    ds = analysis_series(rec, ["hr", "eda"])
    assert ds.attrs["heart_source"] == "ibi"
    assert 45 < np.nanmedian(ds["hr"].values) < 120
    # EDA sits at 0.02-0.03 uS: above the 0.01 uS sensor-off floor, so it must survive as valid
    t_eda = (t0 - start) + np.array([0.0, x.size / e["samplingFrequency"]])
    within = (ds["time"].values >= t_eda[0]) & (ds["time"].values < t_eda[1])
    assert np.mean(ds["eda_quality"].values[within] == 0) > 0.9
    assert 0.015 < np.nanmedian(ds["eda"].values) < 0.035
