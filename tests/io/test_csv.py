"""Generic CSV physiology reader: the three time bases, names and units, hostile tables."""
from __future__ import annotations

import numpy as np
import pytest

import synchrony as sy
from synchrony.errors import InputError
from synchrony.io.csv import read_csv, sniff

T0 = "2021-10-25T07:52:00Z"


def _write(tmp_path, text: str, name: str = "session.csv", newline: str = "\n", final_newline: bool = True):
    if not final_newline:
        text = text.rstrip("\n")
    f = tmp_path / name
    f.write_bytes(text.replace("\n", newline).encode())
    return f


@pytest.mark.parametrize("newline", ["\n", "\r\n"])
@pytest.mark.parametrize("final_newline", [True, False])
def test_seconds_column_with_start_comment(tmp_path, newline, final_newline):
    f = _write(tmp_path, f"# start_utc: {T0}\n# device: Shimmer GSR+\ntime,eda,PPG\n0.00,0.4,512\n0.25,,530\n"
                         "0.50,0.42,528\n0.75,nan,529\n", newline=newline, final_newline=final_newline)
    rec = read_csv(f)
    assert sorted(rec.children) == ["bvp", "eda"]
    eda = rec["eda"]
    assert eda.attrs["fs"] == 4.0
    assert eda["time"].values.tolist() == [0.0, 0.25, 0.5, 0.75]
    assert np.isnan(eda["eda"].values[[1, 3]]).all() and eda.attrs["n_missing"] == 2
    assert eda["eda"].attrs["units"] == "µS" and rec["bvp"]["bvp"].attrs["units"] == "a.u."
    assert rec["bvp"].attrs["column"] == "PPG"
    assert rec.attrs["start_utc"] == "2021-10-25T07:52:00.000000Z"
    assert rec.attrs["device"] == "Shimmer GSR+" and eda.attrs["device"] == "Shimmer GSR+"
    assert eda.attrs["source"] == str(f)


def test_time_values_are_not_rebased(tmp_path):
    f = _write(tmp_path, "time,hr\n5,70\n6,71\n7,72\n")
    rec = read_csv(f, start_utc=T0)
    assert rec["hr"]["time"].values.tolist() == [5.0, 6.0, 7.0]
    assert rec.attrs["start_utc"] == "2021-10-25T07:52:00.000000Z"
    assert rec["hr"].attrs["start_utc"] == "2021-10-25T07:52:05.000000Z"


def test_seconds_without_start_is_an_error(tmp_path):
    f = _write(tmp_path, "time,eda\n0,1\n1,2\n")
    with pytest.raises(InputError, match=r"session\.csv.*start_utc"):
        read_csv(f)


def test_start_argument_disagreeing_with_file(tmp_path):
    f = _write(tmp_path, f"# start_utc: {T0}\ntime,eda\n0,1\n1,2\n")
    with pytest.raises(InputError, match=r"line 1, field 'start_utc'.*disagrees"):
        read_csv(f, start_utc="2021-10-25T08:00:00Z")
    assert read_csv(f, start_utc=T0)["eda"].sizes["time"] == 2  # the same instant is fine


def test_iso_instants(tmp_path):
    f = _write(tmp_path, "time,hr\n2021-10-25T07:52:00.5Z,70\n2021-10-25T09:52:01.5+02:00,71\n"
                         "2021-10-25T07:52:03Z,72\n")
    rec = read_csv(f)
    assert rec.attrs["start_utc"] == "2021-10-25T07:52:00.500000Z"
    assert rec["hr"]["time"].values.tolist() == [0.0, 1.0, 2.5]
    assert "fs" not in rec["hr"].attrs  # uneven spacing: irregular stream, times kept


def test_iso_without_timezone_names_line(tmp_path):
    f = _write(tmp_path, "time,hr\n2021-10-25T07:52:00Z,70\n2021-10-25T07:52:01,71\n")
    with pytest.raises(InputError, match=r"session\.csv line 3, field 'time'.*timezone"):
        read_csv(f)


def test_fs_comment_without_time_column(tmp_path):
    f = _write(tmp_path, f"# fs: 250\n# start_utc: {T0}\nECG [mV];resp\n0.1;1\n0.3;2\n-0.2;3\n")
    rec = read_csv(f)
    assert rec["ecg"]["time"].values.tolist() == [0.0, 0.004, 0.008]
    assert rec["ecg"].attrs["fs"] == 250.0 and rec["ecg"]["ecg"].attrs["units"] == "mV"
    assert rec["resp"]["resp"].values.tolist() == [1.0, 2.0, 3.0]


def test_fs_argument_and_missing_pieces(tmp_path):
    f = _write(tmp_path, "eda\n1\n2\n")
    with pytest.raises(InputError, match=r"no sampling rate"):
        read_csv(f, start_utc=T0)
    with pytest.raises(InputError, match=r"no start instant"):
        read_csv(f, fs=4)
    rec = read_csv(f, fs=4, start_utc=T0)
    assert rec["eda"]["time"].values.tolist() == [0.0, 0.25]


def test_fs_argument_must_match_times(tmp_path):
    f = _write(tmp_path, "time,eda\n0,1\n0.5,2\n1.0,3\n")
    assert read_csv(f, fs=2, start_utc=T0)["eda"].attrs["fs"] == 2.0
    with pytest.raises(InputError, match=r"spaced for 2 Hz but fs=4"):
        read_csv(f, fs=4, start_utc=T0)


def test_near_even_times_infer_fs(tmp_path):
    # 3 Hz written with 6 decimals: spacing even within 1e-6 relative -> fs inferred and snapped to 3
    times = [f"{i / 3:.6f}" for i in range(30)]
    f = _write(tmp_path, "time,eda\n" + "".join(f"{t},1\n" for t in times))
    rec = read_csv(f, start_utc=T0)
    assert rec["eda"].attrs["fs"] == 3.0
    assert rec["eda"]["time"].values[1] == 0.333333  # file values kept


@pytest.mark.parametrize("rows,line,word", [
    ("0,1\n1,2\n0.5,3\n", 5, "earlier"),
    ("0,1\n1,2\n1,3\n", 5, "repeated"),
    ("0,1\nx,2\n", 4, "'x'"),
    ("0,1\n1,abc\n", 4, "'abc'"),
    ("0,1\n1\n", 4, "found 1"),
    ("0,1\n1,2,3\n", 4, "found 3"),
    (",1\n", 3, "empty cell"),
    ("0,1\n1,2_0\n", 4, "'2_0'"),
])
def test_hostile_rows_name_line(tmp_path, rows, line, word):
    f = _write(tmp_path, f"# start_utc: {T0}\ntime,eda\n{rows}")
    with pytest.raises(InputError) as exc:
        read_csv(f)
    assert f"{f} line {line}" in str(exc.value) and word in str(exc.value)


def test_empty_and_header_only(tmp_path):
    with pytest.raises(InputError, match=r"line 1: expected a header row.*empty file"):
        read_csv(_write(tmp_path, "", name="a.csv"))
    with pytest.raises(InputError, match=r"line 2: expected a header row"):
        read_csv(_write(tmp_path, f"# start_utc: {T0}\n", name="b.csv"))
    with pytest.raises(InputError, match=r"at least one data column"):
        read_csv(_write(tmp_path, "time\n0\n", name="c.csv"), start_utc=T0)
    with pytest.raises(InputError, match=r"'eda' twice"):
        read_csv(_write(tmp_path, "time,eda,EDA\n0,1,2\n", name="d.csv"), start_utc=T0)


def test_names_units_and_accelerometer(tmp_path):
    f = _write(tmp_path, f"# start_utc: {T0}\n# units: skin_temp=°C, acc=g\n"
                         "time,GSR,Skin Temp,acc_x,acc_y,acc_z,3rd thing [mV]\n"
                         "0,1,30,0.1,0.2,0.3,5\n1,2,30.5,0.2,0.3,0.4,6\n")
    rec = read_csv(f)
    assert sorted(rec.children) == ["acc", "ch_3rd_thing", "eda", "skin_temp"]
    assert rec["skin_temp"]["skin_temp"].attrs["units"] == "°C"
    assert rec["ch_3rd_thing"]["ch_3rd_thing"].attrs["units"] == "mV"
    acc = rec["acc"]
    assert acc["acc"].dims == ("time", "axis") and list(acc["axis"].values) == ["x", "y", "z"]
    assert acc["acc"].values.tolist() == [[0.1, 0.2, 0.3], [0.2, 0.3, 0.4]]
    assert acc["acc"].attrs["units"] == "g"


def test_incomplete_accelerometer(tmp_path):
    f = _write(tmp_path, "time,acc_x,acc_y\n0,1,2\n")
    with pytest.raises(InputError, match=r"acc_x, acc_y and acc_z together"):
        read_csv(f, start_utc=T0)


def test_columns_selection_and_mapping(tmp_path):
    f = _write(tmp_path, "time,GSR_uS,junk\n0,1,x\n1,2,y\n")
    rec = read_csv(f, start_utc=T0, columns={"GSR_uS": "eda"})
    assert list(rec.children) == ["eda"] and rec["eda"]["eda"].values.tolist() == [1.0, 2.0]
    with pytest.raises(InputError, match=r"'junk'.*'x'"):
        read_csv(f, start_utc=T0)  # the junk column is text
    with pytest.raises(InputError, match=r"expected a column 'nope'"):
        read_csv(f, start_utc=T0, columns=["nope"])


def test_sparse_ibi_column_is_irregular(tmp_path):
    f = _write(tmp_path, f"# start_utc: {T0}\ntime,hr,ibi\n0,70,\n0.5,70,0.81\n1.0,71,\n1.5,71,0.83\n")
    rec = read_csv(f)
    assert rec["ibi"]["time"].values.tolist() == [0.5, 1.5]
    assert rec["ibi"]["ibi"].values.tolist() == [0.81, 0.83]
    assert "fs" not in rec["ibi"].attrs and rec["hr"].attrs["fs"] == 2.0


def test_bad_metadata(tmp_path):
    with pytest.raises(InputError, match=r"line 1, field 'fs'.*positive"):
        read_csv(_write(tmp_path, "# fs: -4\neda\n1\n"), start_utc=T0)
    with pytest.raises(InputError, match=r"line 1, field 'start_utc'.*ISO 8601"):
        read_csv(_write(tmp_path, "# start_utc: 2021-10-25 07:52\ntime,eda\n0,1\n", name="b.csv"))


def test_sniff_and_dispatch(tmp_path):
    f = _write(tmp_path, f"# start_utc: {T0}\ntime,eda\n0,1\n1,2\n2,3\n")
    assert sniff(f)
    e4 = _write(tmp_path, "1600000000.0\n4.0\n1\n", name="EDA.csv")
    assert not sniff(e4)
    assert not sniff(_write(tmp_path, "a,b\n1,2\n", name="x.csv"))
    assert not sniff(tmp_path)
    rec = sy.read(f)
    assert rec.attrs["format"] == "csv" and rec["eda"].attrs["fs"] == 1.0


def test_coarse_times_snap_to_whole_rate(tmp_path):
    # 3 Hz written with 2 decimals: the mean spacing 9.67/29 s differs from 1/3 s by less than the
    # rounding (0.01 s) spread over the span, so the rate is taken as exactly 3 Hz
    times = [f"{i / 3:.2f}" for i in range(30)]
    f = _write(tmp_path, "time,eda\n" + "".join(f"{t},1\n" for t in times))
    assert read_csv(f, start_utc=T0)["eda"].attrs["fs"] == 3.0
    g = _write(tmp_path, "time,hr\n0,70\n2,71\n4,72\n", name="slow.csv")
    assert read_csv(g, start_utc=T0)["hr"].attrs["fs"] == 0.5


def test_bad_start_argument_is_a_config_error(tmp_path):
    from synchrony.errors import ConfigError

    f = _write(tmp_path, "time,eda\n0,1\n1,2\n")
    with pytest.raises(ConfigError, match=r"start_utc.*no timezone"):
        read_csv(f, start_utc="2021-10-25T07:52:00")
