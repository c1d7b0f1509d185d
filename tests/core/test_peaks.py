"""sy.peaks against the loop twin in tests/reference.py (exact: both pick stored values)."""
from __future__ import annotations

import numpy as np
import pytest
import xarray as xr

from synchrony.core import peaks, wcc
from tests.reference import peaks_reference


@pytest.mark.parametrize("seed", range(6))
@pytest.mark.parametrize("method", ["max", "boker"])
def test_peaks_match_twin(seed, method):
    rng = np.random.default_rng(seed)
    K, J = 40, int(rng.integers(1, 15))
    v = np.round(rng.standard_normal((K, J)), 1)        # rounding makes ties and plateaus
    v[rng.random((K, J)) < 0.15] = np.nan
    lags = (np.arange(J) - J // 2) * 0.25
    r = xr.DataArray(v, dims=("time", "lag"), coords={"lag": lags, "time": np.arange(K)})
    for h in (1, 2):
        for sm in (0, 1, 2):
            if method == "max" and (h, sm) != (1, 0):
                continue
            p = peaks(r, method, neighbourhood=h, smooth=sm)
            pr, pl = peaks_reference(v, lags, method, h, sm)
            np.testing.assert_array_equal(p.peak_r.values, pr)
            np.testing.assert_array_equal(p.peak_lag.values, pl)


def test_peaks_on_wcc_recover_known_lag():
    rng = np.random.default_rng(3)
    s = np.convolve(rng.standard_normal(2000), np.ones(8) / 8, "same")
    x, y = s[6:], s[:-6] + 0.05 * rng.standard_normal(1994)   # y follows x by 6 samples
    r = wcc(x, y, fs=4.0, window=30, step=5, max_lag=3)
    for method in ("max", "boker"):
        p = peaks(r, method)
        assert p.peak_lag.dims == ("time",)
        np.testing.assert_array_equal(p.window_start.values, r.window_start.values)
        assert np.nanmedian(p.peak_lag.values) == 1.5
        assert p.attrs["peak_method"] == method and p.attrs["window_n"] == 120


def test_boker_nan_when_no_peak_and_nearest_to_zero():
    r = xr.DataArray([[0.1, 0.2, 0.3, 0.4, 0.5],       # monotone: the edge is no peak
                      [0.9, 0.1, 0.3, 0.2, 0.8],        # local peak at 0 beats the global max
                      [np.nan] * 5,
                      [0.5, 0.4, 0.4, 0.3, 0.6]],        # plateau: none qualifies
                     dims=("time", "lag"), coords={"lag": [-2.0, -1.0, 0.0, 1.0, 2.0]})
    p = peaks(r, "boker")
    np.testing.assert_array_equal(p.peak_lag.values, [np.nan, 0.0, np.nan, np.nan])
    np.testing.assert_array_equal(peaks(r, "max").peak_lag.values, [2.0, -2.0, np.nan, 2.0])


def test_peaks_validation():
    r = xr.DataArray(np.zeros((2, 3)), dims=("time", "lag"))
    with pytest.raises(ValueError, match="method='mean'"):
        peaks(r, "mean")
    with pytest.raises(ValueError, match="neighbourhood=0"):
        peaks(r, neighbourhood=0)
    with pytest.raises(TypeError, match="DataArray"):
        peaks(np.zeros((2, 3)))
    with pytest.raises(ValueError, match="dims"):
        peaks(xr.DataArray(np.zeros((2, 3)), dims=("a", "b")))
