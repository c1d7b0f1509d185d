"""EmbracePlus raw Avro reader: the real export, and files written to the schema the real file embeds.

The synthetic files use a subset of the ``empatica.format.avro.Session`` schema (schema 6.5, as
embedded in ../shared/realdata/embraceplus): field names, types and time units (µs for sensor
starts, ns for systolic peaks) are copied from it, values are made up.
"""
from __future__ import annotations

import numpy as np
import pytest

from synchrony.errors import InputError
from synchrony.io import read
from synchrony.io.embraceplus import read_embraceplus, sniff
from synchrony.recording import utc_to_unix

fastavro = pytest.importorskip("fastavro")

_SIGNAL = lambda name, item: {  # noqa: E731
    "name": name, "type": {"type": "record", "name": f"empatica.format.avro.{name.title()}", "fields": [
        {"name": "timestampStart", "type": "long"}, {"name": "samplingFrequency", "type": "float"},
        {"name": "values", "type": {"type": "array", "items": item}}]}}
SCHEMA = {
    "type": "record", "name": "empatica.format.avro.Session", "fields": [
        {"name": "deviceSn", "type": "string"},
        {"name": "timezone", "type": "int"},
        {"name": "rawData", "type": {"type": "record", "name": "empatica.format.avro.RawData", "fields": [
            _SIGNAL("eda", "float"), _SIGNAL("bvp", "float"),
            {"name": "gyroscope", "type": {"type": "record", "name": "empatica.format.avro.Imu", "fields": [
                {"name": "timestampStart", "type": "long"}, {"name": "samplingFrequency", "type": "float"},
                {"name": "imuParams", "type": {"type": "record", "name": "empatica.format.avro.ImuParams",
                                               "fields": [{"name": "conversionFactor", "type": "float"}]}},
                {"name": "x", "type": {"type": "array", "items": "int"}},
                {"name": "y", "type": {"type": "array", "items": "int"}},
                {"name": "z", "type": {"type": "array", "items": "int"}}]}},
            {"name": "tags", "type": {"type": "record", "name": "empatica.format.avro.Tags", "fields": [
                {"name": "tagsTimeMicros", "type": {"type": "array", "items": "long"}}]}},
            {"name": "systolicPeaks", "type": {"type": "record", "name": "empatica.format.avro.SystolicPeaks",
                                               "fields": [{"name": "peaksTimeNanos",
                                                           "type": {"type": "array", "items": "long"}}]}},
        ]}},
    ]}

T0_US = 1_700_000_000_000_000  # 2023-11-14T22:13:20Z


def _write(path, *, start_us, n_eda, peaks_ns=(), tags_us=(), serial="SN1"):
    rec = {"deviceSn": serial, "timezone": 3600, "rawData": {
        "eda": {"timestampStart": start_us, "samplingFrequency": 4.0, "values": list(np.linspace(1, 2, n_eda))},
        "bvp": {"timestampStart": start_us, "samplingFrequency": 64.0, "values": [0.5] * (16 * n_eda)},
        "gyroscope": {"timestampStart": 0, "samplingFrequency": 0.0, "imuParams": {"conversionFactor": 0.0},
                      "x": [], "y": [], "z": []},
        "tags": {"tagsTimeMicros": list(tags_us)},
        "systolicPeaks": {"peaksTimeNanos": list(peaks_ns)},
    }}
    with open(path, "wb") as fh:
        fastavro.writer(fh, fastavro.parse_schema(SCHEMA), [rec], codec="deflate")
    return path


@pytest.mark.realdata
def test_real_file_exact(realdata):
    p = realdata / "embraceplus" / "paradigma_test_data.avro"
    rec = read(p)  # the dispatcher picks this reader by content
    assert rec.attrs["device"] == "Empatica EMBRACEPLUS 3YK3K152XH"
    assert set(rec.children) == {"eda", "bvp", "temp", "acc", "steps", "ibi"}
    assert rec.attrs["empty_streams"] == "ambientLight, gyroscope, magnetometer, tags"
    # counts and rates as stored in the file (fastavro dump of the same file)
    assert rec["eda"].sizes["time"] == 7244 and rec["eda"].attrs["fs"] == 4.0
    assert rec["bvp"].sizes["time"] == 115904 and rec["bvp"].attrs["fs"] == 64.0
    assert rec["acc"].sizes == {"time": 115904, "axis": 3}
    assert rec["temp"].sizes["time"] == 1811 and rec["ibi"].sizes["time"] == 1796
    # start instants: timestampStart in µs, peaks in ns (the first peak precedes every sensor start)
    assert rec["bvp"].attrs["start_utc"] == "2025-11-26T10:41:53.255728Z"
    assert rec["eda"].attrs["start_utc"] == "2025-11-26T10:41:54.379721Z"
    assert rec.attrs["start_utc"] == "2025-11-26T10:41:48.935608Z"  # first systolic peak, 1764153708935608126 ns
    # time coordinate = seconds from the recording start; 1e-6 s: the µs rounding of the origin
    assert rec["bvp"]["time"].values[0] == pytest.approx(1764153713.255728 - 1764153708.935608, abs=1e-6)
    assert rec["acc"].attrs["units"] == "acc: g"
    # ADC counts times the file's conversionFactor (0.000488 g per count): first x sample -2048 counts
    assert rec["acc"]["acc"].values[0, 0] == pytest.approx(-2048 * 0.0004879999905824661, rel=1e-9)
    ibi = rec["ibi"]["ibi"].values
    assert np.isnan(ibi[0]) and np.all(np.isfinite(ibi[1:]))
    # the second peak is 647259894 ns after the first
    assert ibi[1] == pytest.approx(0.647259894, abs=1e-9)
    assert 0.3 < np.nanmin(ibi) and np.nanmax(ibi) < 1.7


def test_two_files_concatenated_with_gap_kept(tmp_path):
    a = _write(tmp_path / "1.avro", start_us=T0_US, n_eda=40, peaks_ns=[T0_US * 1000 + k * 800_000_000
                                                                          for k in range(12)])
    # second file starts 100 s later: a 90 s gap after the first file's 10 s of data
    b = _write(tmp_path / "2.avro", start_us=T0_US + 100_000_000, n_eda=40,
               peaks_ns=[(T0_US + 100_000_000) * 1000 + k * 800_000_000 for k in range(12)],
               tags_us=[T0_US + 101_000_000])
    rec = read_embraceplus(tmp_path)
    eda = rec["eda"]
    assert eda.sizes["time"] == 80  # no invented samples in the gap
    t = eda["time"].values
    assert t[39] == pytest.approx(9.75) and t[40] == pytest.approx(100.0)
    assert eda.attrs["n_gaps"] == 1 and eda.attrs["gaps"] == "9.750000-100.000000"
    assert not np.isnan(eda["eda"].values).any()
    ibi = rec["ibi"]["ibi"].values
    assert np.isnan(ibi[0]) and np.isnan(ibi[12])  # first beat of each file: previous beat unknown
    assert np.nanmax(ibi) == pytest.approx(0.8)
    assert rec["tags"]["time"].values.tolist() == [pytest.approx(101.0)]
    assert rec["tags"]["tag"].values.tolist() == [1]
    assert "gyroscope" in rec.attrs["empty_streams"]
    # a list of files in any order gives the same
    rec2 = read_embraceplus([b, a])
    np.testing.assert_array_equal(rec2["eda"]["time"].values, t)


def test_same_data_twice_is_an_error(tmp_path):
    a = _write(tmp_path / "1.avro", start_us=T0_US, n_eda=40)
    import shutil
    shutil.copy(a, tmp_path / "copy.avro")
    with pytest.raises(InputError, match="overlapping"):
        read_embraceplus(tmp_path)
    with pytest.raises(InputError, match="listed twice"):
        read_embraceplus([a, a])


def test_different_devices_rejected(tmp_path):
    _write(tmp_path / "1.avro", start_us=T0_US, n_eda=8, serial="A")
    _write(tmp_path / "2.avro", start_us=T0_US + 10**8, n_eda=8, serial="B")
    with pytest.raises(InputError, match="different devices"):
        read_embraceplus(tmp_path)


def test_hostile_files(tmp_path):
    bad = tmp_path / "x.avro"
    bad.write_bytes(b"PK\x03\x04 not avro")
    assert not sniff(bad)
    with pytest.raises(InputError, match="Avro magic"):
        read_embraceplus(bad)
    good = _write(tmp_path / "g.avro", start_us=T0_US, n_eda=8)
    trunc = tmp_path / "t.avro"
    trunc.write_bytes(good.read_bytes()[:-40])
    assert sniff(trunc)  # the header is intact
    with pytest.raises(InputError, match="t.avro"):
        read_embraceplus(trunc)
    with pytest.raises(InputError, match="no .avro"):
        read_embraceplus(_empty_dir(tmp_path))


def _empty_dir(tmp_path):
    d = tmp_path / "empty"
    d.mkdir()
    return d


def test_start_instants_from_microseconds(tmp_path):
    p = _write(tmp_path / "1.avro", start_us=T0_US + 123_456, n_eda=8)
    rec = read_embraceplus(p)
    assert rec["eda"].attrs["start_utc"] == "2023-11-14T22:13:20.123456Z"
    assert utc_to_unix(rec.attrs["start_utc"]) == pytest.approx((T0_US + 123_456) / 1e6, abs=1e-6)
    assert "ibi" not in rec.children and "systolicPeaks" in rec.attrs["empty_streams"]
