"""The aligning rule: which synchrony windows feed each rating bin."""
import numpy as np
import pytest
import xarray as xr

from synchrony.align.merge import bin_edges, merge_ratings, sync_on_rating_clock
from synchrony.align.clock import video_start_on_signals
from synchrony.errors import AlignmentError
from synchrony.recording import make_recording, make_stream


def _slow(centres, values, lo, hi):
    out, n = [], []
    for a, b in zip(lo, hi):
        inside = [v for c, v in zip(centres, values) if a <= c < b and np.isfinite(v)]
        out.append(np.mean(inside) if inside else np.nan)
        n.append(len(inside))
    return np.array(out), np.array(n)


def test_centre_rule_matches_the_obvious_loop():
    rng = np.random.default_rng(0)
    centres = np.sort(rng.uniform(-5, 105, 400))
    values = rng.standard_normal(400)
    values[rng.random(400) < 0.2] = np.nan
    lo, hi = bin_edges(np.arange(0.0, 100.0, 2.0), bin_end=False)
    got, n = sync_on_rating_clock(centres, values, lo, hi)
    want, wn = _slow(centres, values, lo, hi)
    np.testing.assert_array_equal(n, wn)
    np.testing.assert_allclose(got, want, rtol=1e-12, equal_nan=True)


def test_no_window_means_nan_not_zero():
    got, n = sync_on_rating_clock(np.array([0.5]), np.array([1.0]), np.array([0.0, 10.0]), np.array([1.0, 11.0]))
    assert n.tolist() == [1, 0]
    assert np.isnan(got[1])


def test_merge_keeps_raters_apart_and_reports_different_lengths():
    a = xr.Dataset({"rating": ("time", [50.0, 60, 70])}, coords={"time": [1.0, 2, 3]})
    b = xr.Dataset({"rating": ("time", [40.0, 45])}, coords={"time": [1.0, 2]})
    times, cols, notes = merge_ratings({"client": a, "therapist": b})
    assert times.tolist() == [1, 2, 3]
    assert np.isnan(cols["therapist"][2])  # not padded with its last value
    assert any("end at different times" in n for n in notes)


def test_video_start_from_a_tag():
    origin = "2021-10-25T07:50:00Z"
    tags = make_stream({"tag": np.array([1, 2])}, np.array([42.5, 300.0]), start_utc=origin,
                       time_origin_utc=origin, fs=None, units="", device="E4", source="tags.csv")
    rec = make_recording({"tags": tags}, start_utc=origin, device="E4", source="x")
    got, how = video_start_on_signals("2021-10-25T07:50:10Z", start_tag=1, client_rec=rec)
    assert got == pytest.approx(32.5)
    assert "tag 1" in how
    with pytest.raises(AlignmentError, match="recorded 2 tags"):
        video_start_on_signals(origin, start_tag=3, client_rec=rec)
