"""Dial ratings: generic CSV and CARMA exports, range and coverage checks."""
from __future__ import annotations

import numpy as np
import pytest

import synchrony as sy
from synchrony.align.ratings import check_coverage, read_ratings
from synchrony.errors import ConfigError, InputError, SynchronyWarning


def _write(tmp_path, text: str, name: str = "ratings.csv", newline: str = "\n", final_newline: bool = True):
    if not final_newline:
        text = text.rstrip("\n")
    f = tmp_path / name
    f.write_bytes(text.replace("\n", newline).encode())
    return f


# ----------------------------------------------------------------------------- generic CSV

@pytest.mark.parametrize("newline", ["\n", "\r\n"])
@pytest.mark.parametrize("final_newline", [True, False])
def test_generic_csv(tmp_path, newline, final_newline):
    rows = "".join(f"{t},{50 + t}\n" for t in range(0, 10))
    f = _write(tmp_path, "time,rating\n" + rows, newline=newline, final_newline=final_newline)
    r = read_ratings(f)
    assert r["rating"].dims == ("time",)
    assert r["time"].values.tolist() == list(range(10))
    assert r["rating"].values.tolist() == [50.0 + t for t in range(10)]
    a = r.attrs
    assert (a["scale_min"], a["scale_max"], a["format"], a["source"]) == (0.0, 100.0, "csv", str(f))
    assert a["time_base"] == "seconds from video start; rating instants"
    assert a["bin_s"] == 1.0 and a["n_missing"] == 0 and a["coverage"] == 1.0 and a["duration_s"] == 9.0
    assert a["missing_s"] == 0.0


def test_columns_in_any_order_and_extra_columns(tmp_path):
    f = _write(tmp_path, "# rater: client\nRater;Rating;Time\nc;40;0.5\nc;41;1.0\nc;42;1.5\n")
    r = read_ratings(f)
    assert r["time"].values.tolist() == [0.5, 1.0, 1.5] and r.attrs["bin_s"] == 0.5


def test_irregular_times_allowed(tmp_path):
    # jittered 1 s bins: no step exceeds 1.5 median bins, so nothing is reported missing
    f = _write(tmp_path, "time,rating\n0,10\n0.9,11\n2.1,12\n3.0,13\n3.95,14\n")
    r = read_ratings(f)
    assert r.attrs["coverage"] == 1.0 and r["time"].values.tolist() == [0, 0.9, 2.1, 3.0, 3.95]


def test_empty_cells_are_missing_and_reported(tmp_path):
    f = _write(tmp_path, "time,rating\n0,10\n1,\n2,nan\n3,13\n")
    with pytest.warns(SynchronyWarning, match=r"2 s of ratings are missing.*2 empty bin"):
        r = read_ratings(f)
    assert np.isnan(r["rating"].values[1:3]).all() and r["rating"].values[3] == 13  # not filled
    assert r.attrs["n_missing"] == 2 and r.attrs["coverage"] == 0.5


def test_gap_is_reported_not_padded(tmp_path):
    rows = "".join(f"{t},50\n" for t in list(range(0, 10)) + list(range(20, 30)))
    f = _write(tmp_path, "time,rating\n" + rows)
    with pytest.warns(SynchronyWarning, match=r"10 s of ratings are missing \(1 gap"):
        r = read_ratings(f)
    assert r.sizes["time"] == 20  # no padding rows
    assert r.attrs["missing_s"] == 10.0 and r.attrs["coverage"] == 20 / 30


def test_late_start_is_a_leading_gap(tmp_path):
    f = _write(tmp_path, "time,rating\n" + "".join(f"{t},50\n" for t in range(5, 10)))
    with pytest.warns(SynchronyWarning, match=r"4 s of ratings are missing"):
        read_ratings(f)


@pytest.mark.parametrize("rows,line,words", [
    ("0,10\n2,11\n1,12\n", 4, "1 after 2"),
    ("0,10\n1,11\n1,12\n", 4, "1 after 1"),
    ("0,10\n1,101\n", 3, "[0, 100], found 101"),
    ("0,10\n1,-0.5\n", 3, "found -0.5"),
    ("0,10\nabc,11\n", 3, "'abc'"),
    ("0,10\n1,high\n", 3, "'high'"),
    ("0,10\n1\n", 3, "found 1"),
    ("-1,10\n", 2, "0 or later"),
    ("nan,10\n", 2, "finite time"),
])
def test_hostile_csv_names_line(tmp_path, rows, line, words):
    f = _write(tmp_path, "time,rating\n" + rows)
    with pytest.raises(InputError) as exc:
        read_ratings(f)
    assert f"{f} line {line}" in str(exc.value) and words in str(exc.value)


def test_scale_argument(tmp_path):
    f = _write(tmp_path, "time,rating\n0,1\n1,7\n2,4\n")
    r = read_ratings(f, scale=(1, 7))
    assert (r.attrs["scale_min"], r.attrs["scale_max"]) == (1.0, 7.0)
    with pytest.raises(InputError, match=r"\[1, 5\], found 7"):
        read_ratings(f, scale=(1, 5))
    with pytest.raises(ConfigError, match="scale"):
        read_ratings(f, scale=(5, 1))
    with pytest.raises(ConfigError, match="format"):
        read_ratings(f, format="xlsx")


def test_header_problems(tmp_path):
    with pytest.raises(InputError, match=r"line 1: expected a header with columns 'time' and 'rating'.*missing rating"):
        read_ratings(_write(tmp_path, "time,value\n0,1\n"))
    with pytest.raises(InputError, match=r"empty file"):
        read_ratings(_write(tmp_path, "", name="e.csv"))
    with pytest.raises(InputError, match=r"found none"):
        read_ratings(_write(tmp_path, "time,rating\n", name="h.csv"))


# ----------------------------------------------------------------------------- CARMA
#
# The fixture follows the layout CARMA's collect window writes (jmgirard/CARMA, fig_collect_mouse.m
# and fig_collect_vrjoy.m build the cell array; cell2csv.m writes it with ',' and no final newline):
# seven "key,value" rows, then "Second,Rating", then "%%%%%%,%%%%%%", then one "bin_end,mean" row per
# bin; bins with no samples keep their time and get NaN (num2str(NaN) -> "NaN").

CARMA = (
    "Time of Rating,13-Dec-2021 07:36:40\n"
    "Multimedia File,dyad01_s05.mp4\n"
    "Lower Label,very negative\n"
    "Upper Label,very positive\n"
    "Minimum Value,-100\n"
    "Maximum Value,100\n"
    "Number of Steps,9\n"
    "Second,Rating\n"
    "%%%%%%,%%%%%%\n"
    "0.5,7.8010475\n"
    "1,0.930772222\n"
    "1.5,-8.813263889\n"
    "2,NaN\n"
    "2.5,29.5026125\n"
    "3,33.07155"
)


@pytest.mark.parametrize("newline", ["\n", "\r\n"])
def test_carma_export(tmp_path, newline):
    f = _write(tmp_path, CARMA, name="carma.csv", newline=newline)
    with pytest.warns(SynchronyWarning, match=r"0\.5 s of ratings are missing.*1 empty bin"):
        r = read_ratings(f)
    a = r.attrs
    assert a["format"] == "carma" and a["time_base"] == "seconds from video start; bin end times"
    assert (a["scale_min"], a["scale_max"]) == (-100.0, 100.0)  # from the header, not the default scale
    assert (a["lower_label"], a["upper_label"], a["n_steps"]) == ("very negative", "very positive", 9)
    assert a["media_file"] == "dyad01_s05.mp4" and a["time_of_rating"] == "13-Dec-2021 07:36:40"
    assert r["time"].values.tolist() == [0.5, 1.0, 1.5, 2.0, 2.5, 3.0]
    assert r["rating"].values[2] == -8.813263889 and np.isnan(r["rating"].values[3])
    assert a["bin_s"] == 0.5 and a["duration_s"] == 3.0 and a["n_missing"] == 1 and a["coverage"] == 5 / 6


def test_carma_detected_through_public_name(tmp_path):
    text = CARMA.replace("2,NaN", "2,10")
    r = sy.read_ratings(_write(tmp_path, text, name="c.csv"))
    assert r.attrs["format"] == "carma" and r.attrs["coverage"] == 1.0


def test_carma_out_of_range_names_line(tmp_path):
    f = _write(tmp_path, CARMA.replace("2.5,29.5026125", "2.5,129.5"), name="c.csv")
    with pytest.raises(InputError, match=r"c\.csv line 14, field 'rating'.*\[-100, 100\], found 129\.5"):
        read_ratings(f)


def test_carma_header_problems(tmp_path):
    no_max = CARMA.replace("Maximum Value,100\n", "")
    with pytest.raises(InputError, match=r"field 'Maximum Value'"):
        read_ratings(_write(tmp_path, no_max, name="a.csv"))
    bad_min = CARMA.replace("Minimum Value,-100", "Minimum Value,low")
    with pytest.raises(InputError, match=r"a\.csv line 5, field 'Minimum Value'.*'low'"):
        read_ratings(_write(tmp_path, bad_min, name="a.csv"))
    stray = CARMA.replace("Number of Steps,9\n", "Number of Steps,9\nColour,blue\n")
    with pytest.raises(InputError, match=r"line 8: expected a CARMA metadata row"):
        read_ratings(_write(tmp_path, stray, name="a.csv"))
    cut = CARMA.split("Second,Rating")[0]
    with pytest.raises(InputError, match=r"'Second,Rating'"):
        read_ratings(_write(tmp_path, cut, name="a.csv"), format="carma")


# The older one-table CARMA export, as in jmgirard/CARMA examples/2F10_08_AP.csv (first rows shown there):
LEGACY = (
    "Filename,Lower Label,Upper Label,Minimum Value,Midpoint Value,Maximum Value,Number of Steps,Second,Rating\n"
    "C:\\Users\\rater\\Desktop\\2F10_08.avi,very negative,very positive,-100,0,100,9,1,7.8010475\n"
    "C:\\Users\\rater\\Desktop\\2F10_08.avi,very negative,very positive,-100,0,100,9,2,0.930772222\n"
    "C:\\Users\\rater\\Desktop\\2F10_08.avi,very negative,very positive,-100,0,100,9,3,8.813263889\n"
)


def test_carma_legacy_table(tmp_path):
    r = read_ratings(_write(tmp_path, LEGACY, name="old.csv"))
    assert r.attrs["format"] == "carma" and r.attrs["scale_min"] == -100.0
    assert r["time"].values.tolist() == [1.0, 2.0, 3.0]
    assert r["rating"].values.tolist() == [7.8010475, 0.930772222, 8.813263889]
    assert r.attrs["media_file"].endswith("2F10_08.avi")


# ----------------------------------------------------------------------------- truncation

def test_check_coverage_truncated(tmp_path):
    f = _write(tmp_path, "time,rating\n" + "".join(f"{t},50\n" for t in range(0, 300)))
    r = read_ratings(f)
    # the last rating at 299 s of a 300 s video is complete (within 1.5 bins)
    assert check_coverage(r, expected_duration=300)["coverage"] == 1.0
    with pytest.raises(InputError, match=r"ratings\.csv: the ratings stop at 299 s but the video lasts 3000 s"):
        check_coverage(r, expected_duration=3000)


def test_check_coverage_reports_gaps_again(tmp_path):
    f = _write(tmp_path, "time,rating\n0,1\n1,1\n5,1\n6,1\n")
    with pytest.warns(SynchronyWarning):
        r = read_ratings(f)
    with pytest.warns(SynchronyWarning, match=r"3 s of ratings are missing"):
        rep = check_coverage(r)
    assert rep == {"duration_s": 6.0, "coverage": 4 / 7, "missing_s": 3.0, "n_gaps": 1, "n_missing": 0}
