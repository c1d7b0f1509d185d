"""Shimmer CSV reader on files written in the Consensys export layout.

No real Shimmer export lives in ../shared/realdata; these files follow the layout Consensys
writes: a quoted "sep=" line, Shimmer_<id>_<signal>_CAL names, a units row, a trailing separator.
"""
from __future__ import annotations

import numpy as np
import pytest

from synchrony.errors import InputError
from synchrony.io import read
from synchrony.io.shimmer import read_shimmer, sniff

from ._writers import shimmer_text

@pytest.mark.parametrize("sep", ["\t", ","])
@pytest.mark.parametrize("newline,final", [("\n", True), ("\r\n", True), ("\n", False)])
def test_layout(tmp_path, sep, newline, final):
    f = tmp_path / "s.csv"
    f.write_text(shimmer_text(sep=sep, newline=newline, final=final), newline="")
    assert sniff(f)
    rec = read(f)
    assert rec.attrs["start_utc"] == "2021-10-25T07:50:45.000000Z" and rec.attrs["device"] == "Shimmer 8B73"
    assert set(rec.children) == {"acc", "eda", "gsr_skin_resistance", "bvp", "hr", "temp"}
    eda = rec["eda"]
    assert eda.attrs["fs"] == 128.0 and eda.sizes["time"] == 64 and eda["eda"].attrs["units"] == "µS"
    assert rec["hr"]["hr"].attrs["units"] == "bpm" and rec["temp"]["temp"].attrs["units"] == "°C"
    assert rec["acc"]["acc"].attrs["units"] == "m/s²" and rec["acc"]["acc"].attrs["units_original"] == "m/(s^2)"
    assert eda["eda"].values[-1] == pytest.approx(2.063)
    # timestamps written at 3 decimals of ms: times agree with i/128 s to 0.5 µs
    np.testing.assert_allclose(eda["time"].values, np.arange(64) / 128.0, atol=1e-6)
    assert rec["acc"].sizes == {"time": 64, "axis": 3} and rec["acc"]["axis"].values.tolist() == ["x", "y", "z"]
    assert rec["bvp"].attrs["columns"] == "Shimmer_8B73_PPG_A13_CAL"


def test_missing_cells_are_nan_not_dropped(tmp_path):
    lines = shimmer_text(sep=",").splitlines()
    cells = lines[5].split(",")
    cells[4] = ""
    lines[5] = ",".join(cells)
    f = tmp_path / "m.csv"
    f.write_text("\n".join(lines) + "\n")
    rec = read_shimmer(f)
    assert rec["eda"].sizes["time"] == 64 and np.isnan(rec["eda"]["eda"].values[2])
    assert rec["eda"].attrs["n_missing"] == 1


def test_hostile_shimmer(tmp_path):
    f = tmp_path / "h.csv"
    good = shimmer_text(sep=",").splitlines()
    bad = list(good)
    bad[6] = bad[6].replace("0.1", "abc", 1)
    f.write_text("\n".join(bad))
    with pytest.raises(InputError, match=r"h.csv line 7, field 'Shimmer_8B73_Accel_LN_X_CAL'.*'abc'"):
        read_shimmer(f)
    bad = list(good)
    bad[2] = bad[2].replace("ms", "s", 1)
    f.write_text("\n".join(bad))
    with pytest.raises(InputError, match="line 3.*expected unit 'ms'"):
        read_shimmer(f)
    bad = list(good)
    bad[4], bad[5] = bad[5], bad[4]
    f.write_text("\n".join(bad))
    with pytest.raises(InputError, match="line 6.*not after the previous"):
        read_shimmer(f)
    f.write_text("\n".join(good[1:]))
    assert not sniff(f)
    with pytest.raises(InputError, match="line 1: expected the separator line"):
        read_shimmer(f)
    two = shimmer_text(sep=",").replace("Shimmer_8B73_PPG_A13_CAL", "Shimmer_9C11_PPG_A13_CAL")
    f.write_text(two)
    with pytest.raises(InputError, match="several Shimmers"):
        read_shimmer(f)
    assert "eda" in read_shimmer(f, device_id="8B73").children
    with pytest.raises(InputError, match="no 'Shimmer_9C11_Timestamp_Unix_CAL' column"):
        read_shimmer(f, device_id="9C11")  # that device's columns carry no timestamps
