"""BIOPAC AcqKnowledge reader on the two real files (AcqKnowledge 5.0.1 and the compressed 3.8.1)."""
from __future__ import annotations

import numpy as np
import pytest

from synchrony.errors import InputError, SynchronyWarning
from synchrony.io import read
from synchrony.io.biopac import read_biopac, sniff

bioread = pytest.importorskip("bioread")

START = "2016-02-02T16:30:56.276000Z"  # the 5.0.1 file's "Segment 1" append marker


@pytest.mark.realdata
def test_real_501_exact(realdata):
    p = realdata / "biopac_acq" / "physio-5.0.1.acq"
    assert sniff(p)
    rec = read(p)
    assert rec.attrs["start_utc"] == START and rec.attrs["start_utc_known"] == 1
    assert rec.attrs["start_utc_source"] == "segment 1 append marker"
    # native rates and counts (bioread: 2000 Hz base, dividers 1, 2, 512)
    assert rec["ecg"].attrs["fs"] == 1000.0 and rec["ecg"].sizes["time"] == 61893
    assert rec["eda"].attrs["fs"] == 2000.0 and rec["eda"].sizes["time"] == 123787
    assert rec["resp"].attrs["fs"] == 3.90625 and rec["resp"].sizes["time"] == 241
    assert rec["ecg"]["ecg"].attrs["units"] == "mV" and rec["eda"]["eda"].attrs["units"] == "µS"
    assert rec["eda"]["eda"].attrs["units_original"] == "microsiemens"  # AcqKnowledge's own word, kept
    assert "units_original" not in rec["ecg"]["ecg"].attrs  # "mV" is already the package's spelling
    # the derived EDA channel is not taken for the raw one
    assert rec["eda"].attrs["label"] == "EDA - GSR100C"
    assert rec["eda_filtered_differentiated"].attrs["label"] == "EDA filtered, differentiated"
    assert rec["eda"]["eda"].values[0] == pytest.approx(3.39508073, abs=1e-8)
    assert rec["resp"]["time"].values[-1] == pytest.approx(240 / 3.90625)
    tags = rec["tags"]
    assert tags.sizes["time"] == 10 and tags["tag"].values.tolist() == list(range(1, 11))
    assert tags["label"].values[3] == "Deep Breath 1"
    assert tags["time"].values[3] == pytest.approx(12311 / 2000.0)  # marker sample over the base rate
    assert tags["marker_type"].values[0] == "apnd"


@pytest.mark.realdata
def test_real_381_needs_a_start(realdata):
    p = realdata / "biopac_acq" / "physio-3.8.1-c.acq"
    assert sniff(p)
    with pytest.raises(InputError, match="no absolute start time.*start_utc="):
        read(p)
    rec = read(p, start_utc=START)
    assert rec.attrs["start_utc_source"] == "argument" and rec.attrs["start_utc"] == START
    new = read_biopac(p.with_name("physio-5.0.1.acq"))
    for name in ("ecg", "eda", "resp", "eda_filtered_differentiated"):
        # same counts and rates as the 5.0.1 file; the samples agree except the last ~0.2 s, which the
        # two revisions store differently (bioread itself gives different tails: not a reader matter)
        assert rec[name].sizes == new[name].sizes and rec[name].attrs["fs"] == new[name].attrs["fs"]
        n = int(new[name].attrs["fs"] * 61.0)
        np.testing.assert_array_equal(rec[name][name].values[:n], new[name][name].values[:n])
    assert rec["tags"].sizes["time"] == 10


@pytest.mark.realdata
def test_channel_map_and_marker_estimate(realdata, monkeypatch):
    p = realdata / "biopac_acq" / "physio-5.0.1.acq"
    rec = read_biopac(p, channel_map={"filtered": "eda", "EKG": "ecg"})
    assert rec["eda"].attrs["label"] == "EDA filtered, differentiated"  # the user's map is literal
    assert rec["eda_gsr100c"].attrs["label"] == "EDA - GSR100C"
    assert rec["resp_rsp100c"].attrs["label"] == "RESP - RSP100C"

    real = bioread.read_file

    def without_append(path):
        df = real(path)
        df.event_markers = [m for m in df.event_markers if m.type_code != "apnd"]
        return df

    monkeypatch.setattr(bioread, "read_file", without_append)
    with pytest.warns(SynchronyWarning, match="estimated from marker"):
        est = read_biopac(p)
    assert est.attrs["start_utc_known"] == 0
    # the earliest "creation - position": "Deep Breath 3" (sample 73532 = 36.766 s) created 16:42:58.647,
    # minutes after the true 16:30:56 start: hence the warning and start_utc_known False
    assert est.attrs["start_utc"] == "2016-02-02T16:42:21.881000Z"


def test_hostile(tmp_path):
    f = tmp_path / "x.acq"
    f.write_bytes(b"\x00" * 10)
    assert not sniff(f)
    with pytest.raises(InputError, match="x.acq: not a readable AcqKnowledge file"):
        read_biopac(f)
    with pytest.raises(InputError, match="no such file"):
        read_biopac(tmp_path / "missing.acq")


@pytest.mark.realdata
def test_truncated_real_file(realdata, tmp_path):
    data = (realdata / "biopac_acq" / "physio-5.0.1.acq").read_bytes()
    f = tmp_path / "cut.acq"
    f.write_bytes(data[:3000])
    with pytest.raises(InputError, match="cut.acq"):
        read_biopac(f)
