"""BIDS physio reader and writer, on files laid out per the BIDS specification (physiological
recordings: headerless ``_physio.tsv.gz`` + JSON sidecar with SamplingFrequency, StartTime,
Columns; ``_scans.tsv`` with acq_time). No real BIDS sample lives in ../shared/realdata.
"""
from __future__ import annotations

import gzip
import json

import numpy as np
import pytest
import xarray as xr

from synchrony.errors import InputError
from synchrony.io import read
from synchrony.io.bids import read_bids, sniff, write_bids_physio

from ._writers import write_bids


def test_read_spec_layout(tmp_path):
    f = write_bids(tmp_path)
    assert sniff(f) and sniff(f.with_name(f.name.replace(".tsv.gz", ".json")))
    rec = read(f, timezone="Europe/Zurich")
    # acq_time 09:52:00 local (CEST) = 07:52:00 UTC; StartTime -1.5 s: physio began before the scan
    assert rec.attrs["start_utc"] == "2021-10-25T07:51:58.500000Z"
    assert set(rec.children) == {"bvp", "trigger", "resp"}  # cardiac -> bvp (a pulse trace), respiratory -> resp
    bvp = rec["bvp"]
    assert bvp.attrs["fs"] == 50.0 and bvp.sizes["time"] == 100 and bvp["bvp"].attrs["units"] == "a.u."
    assert bvp["bvp"].attrs["units_original"] == "mV"  # the sidecar's own unit, kept
    assert bvp.attrs["column"] == "cardiac" and bvp.attrs["bids_start_time"] == -1.5
    assert np.isnan(rec["resp"]["resp"].values[3]) and rec["resp"]["resp"].values[4] == 4.0  # n/a -> NaN
    assert rec["trigger"]["time"].values[-1] == pytest.approx(99 / 50)
    assert "scans.tsv" in rec.attrs["start_reference"]


def test_no_acq_time_needs_start_utc(tmp_path):
    f = write_bids(tmp_path, acq_time=None)
    with pytest.raises(InputError, match="no absolute start.*start_utc="):
        read_bids(f)
    rec = read_bids(f, start_utc="2021-10-25T07:52:00Z")
    assert rec.attrs["start_utc"] == "2021-10-25T07:51:58.500000Z"


@pytest.mark.parametrize("rows,msg", [
    (["0.1\t1\t2", "0.2\t1"], r"line 2: expected 3 tab-separated values"),
    (["0.1\t1\t2", "0.2\tx\t2"], r"line 2, column 2: expected a number or 'n/a', found 'x'"),
])
def test_hostile_tables(tmp_path, rows, msg):
    f = write_bids(tmp_path, rows=rows)
    with pytest.raises(InputError, match=msg):
        read_bids(f)


def test_hostile_sidecars(tmp_path):
    f = write_bids(tmp_path)
    side = f.with_name(f.name.replace(".tsv.gz", ".json"))
    side.write_text(json.dumps({"SamplingFrequency": 0, "StartTime": 0, "Columns": ["a"]}))
    with pytest.raises(InputError, match="field 'SamplingFrequency'.*found 0"):
        read_bids(f)
    side.write_text(json.dumps({"SamplingFrequency": 10, "Columns": ["a"]}))
    with pytest.raises(InputError, match="field 'StartTime': missing"):
        read_bids(f)
    side.write_text("{not json")
    with pytest.raises(InputError, match="not valid JSON"):
        read_bids(f)
    side.unlink()
    assert not sniff(f)
    with pytest.raises(InputError, match="sidecar .* is missing"):
        read_bids(f)
    scans = tmp_path / "sub-01" / "ses-1" / "sub-01_ses-1_scans.tsv"
    side.write_text(json.dumps({"SamplingFrequency": 50, "StartTime": 0, "Columns": ["a", "b", "c"]}))
    scans.write_text("filename\tacq_time\nfunc/sub-01_ses-1_task-rest_run-1_bold.nii.gz\tyesterday\n")
    with pytest.raises(InputError, match="scans.tsv line 2, field 'acq_time'.*'yesterday'"):
        read_bids(f)


def test_write_read_round_trip(tmp_path):
    t = np.arange(40) / 4.0 + 10.0  # starts 10 s after start_utc
    hr = 70 + np.sin(t)
    hr[5] = np.nan
    ds = xr.Dataset(
        {"hr": (("role", "time"), np.vstack([hr, hr + 5]), {"units": "bpm"}),
         "eda": (("role", "time"), np.vstack([np.full(40, 2.0), np.full(40, 3.0)]), {"units": "uS"}),
         "r": (("role", "time", "lag"), np.zeros((2, 40, 3)))},  # not along time alone: not written
        coords={"role": ["client", "therapist"], "time": t}, attrs={"start_utc": "2021-10-25T07:52:00Z"})
    with pytest.raises(InputError, match="pass role="):
        write_bids_physio(ds, tmp_path, subject="01", task="therapy")
    f = write_bids_physio(ds, tmp_path / "deriv", subject="c01", session="5", task="therapy", role="therapist")
    assert f.relative_to(tmp_path / "deriv").as_posix() == \
        "sub-c01/ses-5/beh/sub-c01_ses-5_task-therapy_desc-synchrony_physio.tsv.gz"
    meta = json.loads(f.with_name(f.name.replace(".tsv.gz", ".json")).read_text())
    assert meta["SamplingFrequency"] == 4.0 and meta["StartTime"] == 10.0 and meta["Columns"] == ["hr", "eda"]
    assert json.loads((tmp_path / "deriv" / "dataset_description.json").read_text())["DatasetType"] == "derivative"
    with gzip.open(f, "rt") as fh:
        assert fh.read().splitlines()[5].startswith("n/a\t")  # NaN written as n/a, never as 0
    rec = read_bids(f)
    assert rec.attrs["start_utc"] == "2021-10-25T07:52:10.000000Z"
    np.testing.assert_array_equal(rec["hr"]["hr"].values, hr + 5)  # repr() round-trips float64 exactly
    assert rec["eda"]["eda"].attrs["units"] == "µS" and rec["hr"].attrs["fs"] == 4.0
    # absolute instants survive: first sample at start_utc + 10 s
    np.testing.assert_allclose(rec["hr"]["time"].values, t - 10.0)


def test_write_rejects_irregular(tmp_path):
    ds = xr.Dataset({"hr": ("time", [1.0, 2.0, 3.0])}, coords={"time": [0.0, 1.0, 3.0]},
                    attrs={"start_utc": "2021-10-25T07:52:00Z"})
    with pytest.raises(InputError, match="not evenly spaced"):
        write_bids_physio(ds, tmp_path, subject="01", task="x")
    with pytest.raises(InputError, match="subject='0_1'"):
        write_bids_physio(ds, tmp_path, subject="0_1", task="x")
