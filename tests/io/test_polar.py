"""Polar Sensor Logger reader: the real Verity Sense export, and files in the logger's layout.

The ECG/ACC layouts (header rows) are those Polar Sensor Logger writes ("Phone timestamp;sensor
timestamp [ns];timestamp [ms];ecg [uV]", "...;X [mg];Y [mg];Z [mg]"); the values are made up.
"""
from __future__ import annotations

import numpy as np
import pytest

from synchrony.errors import InputError
from synchrony.io import read
from synchrony.io.polar import read_polar, sniff
from synchrony.recording import utc_to_unix


@pytest.mark.realdata
def test_real_export_exact(realdata):
    folder = realdata / "polar_sensor_logger"
    assert sniff(folder)
    rec = read(folder, timezone="Europe/Istanbul")  # phone clock UTC+3 in April 2022
    assert rec.attrs["timezone"] == "Europe/Istanbul" and rec.attrs["device"] == "Polar Sense"
    assert set(rec.children) == {"hr", "ibi", "tags"}
    hr = rec["hr"]
    assert hr.sizes["time"] == 548 and hr.attrs["nominal_fs"] == 1.0
    assert "fs" not in hr.attrs  # phone stamps 0.6-1.5 s apart: kept as written, so not a regular stream
    # first HR row: 2022-04-25T11:39:02.323 local = 08:39:02.323 UTC
    assert hr.attrs["start_utc"] == "2022-04-25T08:39:02.323000Z" == rec.attrs["start_utc"]
    assert hr.attrs["n_zero_as_missing"] == 73  # rows with HR 0 (no reading) -> NaN, counted
    assert np.isnan(hr["hr"].values).sum() == 73 and hr["hr"].values[0] == 66.0
    ibi = rec["ibi"]
    assert ibi.sizes["time"] == 442  # every row kept
    assert ibi.attrs["n_blocker"] == 21 and ibi.attrs["n_no_skin_contact"] == 0
    assert int(ibi["blocker"].sum()) == 21
    # first PPI row: stamp 11:39:41.224, interval 1117 ms -> the beat that ends it at 11:39:42.341,
    # 40.018 s after the first HR row; 1e-6 s: float64 unix seconds resolve about 0.24 µs
    assert ibi["time"].values[0] == pytest.approx(41.224 - 2.323 + 1.117, abs=1e-6)
    assert ibi["ibi"].values[0] == pytest.approx(1.117) and ibi["error_estimate"].values[0] == pytest.approx(0.882)
    assert np.all(np.diff(ibi["time"].values) > 0)
    tags = rec["tags"]
    assert tags["label"].values.tolist() == ["MARKER_START", "MARKER_STOP"]
    assert tags["time"].values[0] == pytest.approx(60.06, abs=1e-6)


@pytest.mark.realdata
def test_timezone_is_explicit_and_applied(realdata):
    f = realdata / "polar_sensor_logger" / "Polar_Sense_HR.txt"
    utc = read_polar(f)
    ist = read_polar(f, timezone="Europe/Istanbul")
    assert utc_to_unix(utc.attrs["start_utc"]) - utc_to_unix(ist.attrs["start_utc"]) == pytest.approx(3 * 3600)
    with pytest.raises(InputError, match="timezone='Mars/Olympus'"):
        read_polar(f, timezone="Mars/Olympus")


def _ecg_file(path, newline="\n", final_newline=True, n=260):
    fs = 130.0
    rows = ["Phone timestamp;sensor timestamp [ns];timestamp [ms];ecg [uV]"]
    ns0 = 700_000_000_000_000_000
    for i in range(n):
        # phone stamps arrive in packets of 73 samples, all stamped at the packet's arrival
        packet_end = min((i // 73 + 1) * 73, n) - 1
        phone_s = 5.0 + packet_end / fs + 0.020
        rows.append(f"2022-04-25T11:40:{phone_s:06.3f};{ns0 + round(i * 1e9 / fs)};{i / fs * 1000:.1f};{100 + i}")
    text = newline.join(rows) + (newline if final_newline else "")
    path.write_bytes(text.encode())
    return path


@pytest.mark.parametrize("newline,final", [("\n", True), ("\r\n", True), ("\n", False)])
def test_ecg_layout(tmp_path, newline, final):
    f = _ecg_file(tmp_path / "Polar_H10_ABC_ECG.txt", newline, final)
    rec = read_polar(f, timezone="UTC")
    ecg = rec["ecg"]
    # the logger writes µV; every Recording holds ECG in mV (the file's "uV" kept in units_original)
    assert ecg.sizes["time"] == 260 and ecg["ecg"].attrs["units"] == "mV"
    assert ecg["ecg"].attrs["units_original"] == "uV"
    assert ecg.attrs["fs"] == pytest.approx(130.0, rel=1e-9)  # from the sensor's ns clock
    assert np.allclose(np.diff(ecg["time"].values), 1 / 130.0)
    assert ecg["ecg"].values[-1] == pytest.approx(0.359, rel=1e-12)  # 359 µV
    assert rec.attrs["device"] == "Polar H10"


def test_hostile_polar_files(tmp_path):
    f = tmp_path / "Polar_X_HR.txt"
    f.write_text("Phone timestamp;HR [bpm]\n2022-04-25T11:39:02.323;66\n2022-04-25T11:39:03.274;abc\n")
    with pytest.raises(InputError, match=r"Polar_X_HR.txt line 3, field 'HR \[bpm\]'.*'abc'"):
        read_polar(f)
    f.write_text("Phone timestamp;HR [bpm]\n25/04/2022 11:39;66\n")
    with pytest.raises(InputError, match="line 2, field 'Phone timestamp'"):
        read_polar(f)
    f.write_text("Phone timestamp;HR [bpm]\n2022-04-25T11:39:02.323;66;7\n")
    with pytest.raises(InputError, match="line 2: expected 2"):
        read_polar(f)
    f.write_text("Phone timestamp;HR [bpm]\n2022-04-25T11:39:05.000;66\n2022-04-25T11:39:02.000;66\n")
    with pytest.raises(InputError, match="line 3.*backwards"):
        read_polar(f)
    f.write_text("Phone timestamp;Foo\n2022-04-25T11:39:05.000;66\n")
    with pytest.raises(InputError, match="unknown Polar Sensor Logger file"):
        read_polar(f)
    other = tmp_path / "other.csv"
    other.write_text("time,hr\n0,60\n")
    assert not sniff(other)


def test_two_files_of_one_kind_rejected(tmp_path):
    for name in ("a_HR.txt", "b_HR.txt"):
        (tmp_path / name).write_text("Phone timestamp;HR [bpm]\n2022-04-25T11:39:02.323;66\n")
    with pytest.raises(InputError, match="a second hr file"):
        read_polar(tmp_path)
