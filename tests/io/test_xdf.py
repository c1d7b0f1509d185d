"""XDF reader on files written here, chunk by chunk, to the XDF specification (v1.0):
magic "XDF:", then chunks [NumLengthBytes][Length][Tag uint16][Content] with tags 1 FileHeader,
2 StreamHeader, 3 Samples, 4 ClockOffset, 6 StreamFooter; little-endian values; variable-length
integers for lengths and sample counts. No real XDF sample lives in ../shared/realdata.
"""
from __future__ import annotations

import numpy as np
import pytest

from synchrony.errors import InputError
from synchrony.io import read
from synchrony.io.xdf import read_xdf, sniff

from ._writers import _chunk, _samples, _stream_header, write_xdf

pytest.importorskip("pyxdf")


def test_one_person_and_markers(tmp_path):
    f = write_xdf(tmp_path / "s.xdf", client_offset=0.25)
    assert sniff(f)
    rec = read(f, select="client")  # by content; select keeps one person's streams plus the markers
    assert set(rec.children) == {"ecg", "ibi", "tags"}
    assert rec.attrs["streams_left_out"] == "therapist_eda"
    # the client's clock offset (+0.25 s) is applied: its first ECG stamp 1000.0 -> 1000.25 LSL s,
    # the file's earliest stamp (with the marker at 1000.25), so time 0 = LSL 1000.25
    assert rec.attrs["lsl_time_origin"] == pytest.approx(1000.25)
    # header datetime 09:52:00+0200 = 07:52:00 UTC
    assert rec.attrs["start_utc"] == "2021-10-25T07:52:00.000000Z"
    ecg = rec["ecg"]
    assert ecg.attrs["fs"] == 128.0 and ecg.sizes["time"] == 256 and ecg["ecg"].attrs["units"] == "mV"
    np.testing.assert_allclose(ecg["time"].values, np.arange(256) / 128.0, atol=1e-9)  # both chunks, in order
    assert ecg["ecg"].values[200] == 200.0
    ibi = rec["ibi"]
    assert "fs" not in ibi.attrs
    np.testing.assert_allclose(ibi["ibi"].values, [0.8, 0.8, 0.9])  # stream unit "ms" -> s
    np.testing.assert_allclose(ibi["time"].values, [0.8, 1.6, 2.5], atol=1e-9)
    assert rec["tags"]["label"].values.tolist() == ["video start", "clap"]
    assert rec["tags"]["time"].values.tolist() == pytest.approx([0.0, 0.75])

    ther = read_xdf(f, select="therapist")
    assert set(ther.children) == {"eda", "tags"}
    # same file, same clock: the therapist's EDA at LSL 1000.5 sits at 0.25 s on the shared clock
    assert ther["eda"]["time"].values[0] == pytest.approx(0.25)
    assert ther.attrs["start_utc"] == rec.attrs["start_utc"]


def test_two_streams_of_one_modality_need_select(tmp_path):
    f = tmp_path / "two.xdf"
    data = b"XDF:" + _chunk(1, b'<?xml version="1.0"?><info><version>1.0</version></info>')
    for sid, who in ((1, "client"), (2, "therapist")):
        data += _stream_header(sid, f"{who}_ecg", "ECG", 1, 128, "float32", who)
        data += _samples(sid, [10.0, 10.0 + 1 / 128], [[1.0], [2.0]], "float32")
    f.write_bytes(data)
    with pytest.raises(InputError, match="'client_ecg' and 'therapist_ecg' are both ecg.*select="):
        read_xdf(f, start_utc="2021-10-25T07:52:00Z")
    # no datetime in the header: the start must be given
    with pytest.raises(InputError, match="no 'datetime'.*start_utc="):
        read_xdf(f, select="therapist")
    rec = read_xdf(f, select="therapist", start_utc="2021-10-25T07:52:00Z")
    assert rec.attrs["start_utc_source"] == "argument" and rec["ecg"].sizes["time"] == 2


def test_hostile_xdf(tmp_path):
    f = write_xdf(tmp_path / "h.xdf")
    bad = tmp_path / "bad.xdf"
    bad.write_bytes(b"XDX:" + f.read_bytes()[4:])
    assert not sniff(bad)
    with pytest.raises(InputError, match="bad.xdf bytes 0-3"):
        read_xdf(bad)
    nosel = read_xdf(f, select="client")
    assert "eda" not in nosel.children
    with pytest.raises(InputError, match="no signal stream matched select='nobody'"):
        read_xdf(f, select="nobody")
    g = write_xdf(tmp_path / "d.xdf", datetime="last tuesday")
    with pytest.raises(InputError, match="field 'datetime'.*'last tuesday'"):
        read_xdf(g, select="client")
