"""make_dyad and offset_from_tags: one UTC grid, offsets, placement, alignment errors."""
from __future__ import annotations

import numpy as np
import pytest
import xarray as xr

from synchrony.dyad import make_dyad, offset_from_tags
from synchrony.errors import AlignmentError, ConfigError, InputError
from synchrony.recording import make_recording, make_stream


def series(start, n, fs=4.0, f=lambda t: 70 + np.sin(t)):
    t = np.arange(n) / fs
    q = np.zeros(n, np.uint8)
    return xr.Dataset({"hr": ("time", f(t)), "hr_quality": ("time", q)}, coords={"time": t},
                      attrs={"start_utc": start, "fs": fs})


def test_overlap_grid_exact_placement():
    c = series("2024-01-01T10:00:00Z", 400)
    th = series("2024-01-01T10:00:30Z", 400)
    d = make_dyad(c, th)
    assert list(d["role"].values) == ["client", "therapist"] and d["hr"].dims == ("role", "time")
    assert d.attrs["start_utc"] == "2024-01-01T10:00:30.000000Z" and d.sizes["time"] == 280
    assert d.attrs["placement_therapist"] == "exact sample index"
    # the client at true time 30 s is its sample 120; the therapist's sample 0
    np.testing.assert_array_equal(d["hr"].sel(role="client").values, c["hr"].values[120:400])
    np.testing.assert_array_equal(d["hr"].sel(role="therapist").values, th["hr"].values[:280])
    assert d.attrs["overlap_s"] == 70.0 and "quality_codes" in d.attrs


def test_offset_applied_and_recorded():
    c = series("2024-01-01T10:00:00Z", 400, f=lambda t: t)
    th = series("2024-01-01T10:00:00Z", 400, f=lambda t: t)
    d = make_dyad(c, th, offsets={"therapist": 2.5})  # therapist's clock is 2.5 s behind true time
    assert d.attrs["offset_therapist_s"] == 2.5 and d.attrs["offset_client_s"] == 0.0
    # same true instant: therapist's own time is 2.5 s less than the client's
    diff = d["hr"].sel(role="client").values - d["hr"].sel(role="therapist").values
    np.testing.assert_allclose(diff, 2.5)


def test_fractional_offset_interpolates_adjacent_valid_samples_only():
    c = series("2024-01-01T10:00:00Z", 400, f=lambda t: 2 * t)
    th = series("2024-01-01T10:00:00Z", 400, f=lambda t: 2 * t)
    th["hr"].values[200] = np.nan
    th["hr_quality"].values[200] = 2
    d = make_dyad(c, th, offsets={"therapist": 0.1})
    assert d.attrs["placement_therapist"].startswith("linear interpolation")
    tv = d["hr"].sel(role="therapist").values
    tq = d["hr_quality"].sel(role="therapist").values
    # the grid keeps the client's samples in the overlap [0.1, 100) s: first one at 0.25 s
    assert d.attrs["start_utc"] == "2024-01-01T10:00:00.250000Z"
    g = d["time"].values + 0.25  # true instants; the therapist's own time is g - 0.1
    good = tq == 0
    assert good.sum() > 380
    np.testing.assert_allclose(tv[good], 2 * (g[good] - 0.1), atol=1e-9)
    # the invalid therapist sample 200 (own time 50 s) spoils the two grid instants beside it, no more
    assert (tq == 2).sum() == 2 and np.all(np.isnan(tv[tq != 0]))


def test_no_overlap_or_offset_out_of_range_raises_with_spans():
    c = series("2024-01-01T10:00:00Z", 400)
    th = series("2024-01-01T11:00:00Z", 400)
    with pytest.raises(AlignmentError, match=r"do not overlap.*2024-01-01T10:00:00.*2024-01-01T11:00:00"):
        make_dyad(c, th)
    th2 = series("2024-01-01T10:00:00Z", 400)
    with pytest.raises(AlignmentError, match="offset"):
        make_dyad(c, th2, offsets={"therapist": 95.0})  # 5 s overlap left: below the 15 s minimum
    with pytest.raises(ConfigError, match="offsets"):
        make_dyad(c, th2, offsets={"patient": 1.0})


def test_mismatched_modalities_rejected():
    c = series("2024-01-01T10:00:00Z", 400)
    th = series("2024-01-01T10:00:00Z", 400).rename({"hr": "eda", "hr_quality": "eda_quality"})
    with pytest.raises(InputError, match="same modalities"):
        make_dyad(c, th)


def test_union_span_marks_code_4():
    c = series("2024-01-01T10:00:00Z", 400)
    th = series("2024-01-01T10:00:30Z", 400)
    d = make_dyad(c, th, span="union")
    assert d.sizes["time"] == 520
    q = d["hr_quality"].sel(role="therapist").values
    assert np.all(q[:120] == 4) and np.all(np.isnan(d["hr"].sel(role="therapist").values[:120]))


def _tags_rec(start, tags):
    s = make_stream({}, np.asarray(tags, float), start_utc=start, time_origin_utc=start, fs=None, units="",
                    device="e4", source=f"{start}/tags.csv")
    return make_recording({"tags": s}, start_utc=start, device="e4", source=f"{start}")


def test_offset_from_tags():
    c = _tags_rec("2024-01-01T10:00:00Z", [50.0, 100.0])
    th = _tags_rec("2024-01-01T10:00:10Z", [30.0, 92.5])
    assert offset_from_tags(c, th, client_tag=2, therapist_tag=2) == {"client": 0.0, "therapist": -2.5}
    with pytest.raises(AlignmentError, match=r"has 2 tag\(s\).*has 2"):
        offset_from_tags(c, th, client_tag=3)
