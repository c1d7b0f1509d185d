"""End to end on the sample session: the planted truth (sample_recordings/truth.json) comes back,
and the files, groups and variables are exactly those of ARCHITECTURE.md section 6."""
import json
import warnings
from pathlib import Path

import numpy as np
import pytest
import xarray as xr

import synchrony as sy
from synchrony.errors import SynchronyWarning

SAMPLE = Path(__file__).resolve().parents[1] / "sample_recordings"


@pytest.fixture(scope="module")
def result(tmp_path_factory):
    out = tmp_path_factory.mktemp("run")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", SynchronyWarning)  # the demo's warnings are checked below
        tree = sy.run_session(SAMPLE / "session.toml", out=out)
    truth = json.loads((SAMPLE / "truth.json").read_text())
    return tree, out, truth


def _inside(times, segments, margin):
    m = np.zeros(times.size, bool)
    for a, b in segments:
        m |= (times >= a + margin) & (times <= b - margin)
    return m


def test_files_and_names_follow_the_contract(result):
    tree, out, truth = result
    sid = truth["session_id"]
    for name in (f"{sid}.nc", f"{sid}_aligned.csv", f"{sid}_summary.json", f"{sid}.html"):
        assert (out / name).is_file(), name
    assert not [p for p in out.iterdir() if p.name.startswith(".")], "temporary files left behind"
    back = xr.open_datatree(out / f"{sid}.nc", engine="h5netcdf")
    for group in ("signals", "hr", "eda", "aligned", "summary"):
        assert group in back.children
    assert set(back["signals"].dims) == {"role", "time"}
    assert list(back["signals"]["role"].values) == ["client", "therapist"]
    assert {"hr", "eda"} <= set(back["signals"].data_vars)
    assert "start_utc" in back["signals"].attrs
    for mod in ("hr", "eda"):
        ds = back[mod]
        assert ds["r"].dims == ("time", "lag")
        for v in ("peak_r", "peak_lag", "sync", "null_lo", "null_hi"):
            assert ds[v].dims == ("time",), v
    for v in ("rating_client", "rating_therapist", "sync_hr", "sync_eda"):
        assert back["aligned"][v].dims == ("time",)
    s = json.loads((out / f"{sid}_summary.json").read_text())
    assert s["session_id"] == sid
    for mod in ("hr", "eda"):
        for k in ("mean_sync", "p_value", "effect_size", "statistic", "n_surrogates", "n_windows"):
            assert k in s["modalities"][mod]
    for k in ("r", "p_naive", "p_adjusted", "t", "df"):
        assert k in s["congruence"]
    assert set(s["association"]) == {"client", "therapist"}
    assert {"helpful", "hindering"} <= set(s["segments"]["client"])
    back.close()


def test_planted_lag_is_recovered_inside_coupled_segments(result):
    """The simulator plants +2 s (client leads). On the committed seed the true series peak at
    +2.25 s (truth.json, expected.hr.peak_lag_inside_median_s); with a 4-Hz grid one lag step is
    0.25 s, so the median peak lag inside the segments must lie within ±0.5 s of the planted lag."""
    tree, _, truth = result
    video_start = tree["aligned"].attrs["video_start_s"]
    segs = [s["video_s"] for s in truth["coupled_segments"]]
    for mod in ("hr", "eda"):
        ds = tree[mod]
        t_video = ds["time"].values - video_start
        inside = _inside(t_video, segs, margin=15.0)  # windows wholly inside a segment
        lag = np.nanmedian(ds["peak_lag"].values[inside])
        assert abs(lag - truth["lag_s"]) <= 0.5, (mod, lag)


def test_synchrony_is_higher_in_coupled_segments(result):
    tree, _, truth = result
    video_start = tree["aligned"].attrs["video_start_s"]
    segs = [s["video_s"] for s in truth["coupled_segments"]]
    for mod in ("hr", "eda"):
        ds = tree[mod]
        t_video = ds["time"].values - video_start
        inside = _inside(t_video, segs, 15.0)
        outside = ~_inside(t_video, segs, -15.0)
        s = ds["sync"].values
        assert np.nanmean(s[inside]) > np.nanmean(s[outside]) + 0.3, mod
        # inside the coupled stretches most windows clear the surrogate band
        above = s[inside] > ds["null_hi"].values[inside]
        assert np.mean(above[np.isfinite(s[inside])]) > 0.5, mod


def test_session_synchrony_beats_surrogates(result):
    tree, _, _ = result
    s = json.loads(tree["summary"].attrs["json"])
    for mod in ("hr", "eda"):
        assert s["modalities"][mod]["p_value"] < 0.05, mod
        assert s["modalities"][mod]["effect_size"] > 2, mod


def test_sync_hr_rises_with_the_ratings(result):
    """The simulator raises both dials in the coupled stretches, so the aligned synchrony and
    the ratings must correlate positively, and the most helpful segments overlap coupled ones."""
    tree, _, truth = result
    al = tree["aligned"]
    ok = np.isfinite(al["sync_hr"].values) & np.isfinite(al["rating_client"].values)
    r = np.corrcoef(al["sync_hr"].values[ok], al["rating_client"].values[ok])[0, 1]
    assert r > 0.3
    s = json.loads(tree["summary"].attrs["json"])
    segs = [s_["video_s"] for s_ in truth["coupled_segments"]]
    for role in ("client", "therapist"):
        helpful = s["segments"][role]["helpful"]
        assert helpful
        for seg in helpful:
            mid = (seg["start_s"] + seg["end_s"]) / 2
            assert any(a - 15 <= mid <= b + 15 for a, b in segs), (role, seg)
        assert s["association"][role]["hr"]["r"] > 0.3


def test_video_start_from_the_tag_matches_the_truth(result):
    tree, _, truth = result
    from synchrony.recording import utc_to_unix

    got = utc_to_unix(tree["aligned"].attrs["video_start_utc"])
    assert got == pytest.approx(truth["video"]["start_unix"], abs=1e-3)
