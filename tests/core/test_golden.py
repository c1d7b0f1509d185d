"""convention="rmea" / "bsync" reproduce the published tools' numbers (../shared/golden).

The golden files were produced with rMEA 1.3.0 ``MEAccf`` and bsync 0.1.0 ``calc_wcc_cpp``
under R 4.2.2 on ``input_n800.csv`` (x heart-rate-like around 70, y skin-conductance-like
around 2.5, y following x by 3 samples, NaN runs in both). Tolerance 1e-9: R prints 15
significant digits and bsync uses raw prefix sums, which differ from an exact two-pass Pearson
by up to ~1e-11 on this input (golden README).
"""
from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from synchrony.core import wcc

TOL = 1e-9


def _input(golden):
    df = pd.read_csv(golden / "input_n800.csv")
    return df["x"].to_numpy(float), df["y"].to_numpy(float)


@pytest.mark.parametrize("W,L,I,F", [(60, 10, 5, 1), (30, 5, 1, 1), (30, 5, 1, 4)])
@pytest.mark.parametrize("kind", ["r", "z_abs"])
def test_rmea_meaccf(golden, W, L, I, F, kind):
    x, y = _input(golden)
    stem = f"rmea_win{W}s_lag{L}s_inc{I}s_fs{F}_{kind}"
    want = pd.read_csv(golden / f"{stem}.csv", index_col=0)
    z = kind == "z_abs"
    got = wcc(x, y, fs=F, window=W, step=I, max_lag=L, convention="rmea", fisher_z=z,
              absolute=z)
    assert got.shape == want.shape                       # same window count and lags
    np.testing.assert_allclose(got.lag.values, [float(c[3:]) for c in want.columns])
    np.testing.assert_array_equal(np.isnan(got.values), np.isnan(want.values))
    np.testing.assert_allclose(got.values, want.values, rtol=0, atol=TOL)
    np.testing.assert_allclose(got.window_start.values, np.arange(want.shape[0]) * I)
    # ccfRes summary: lag_zero = the lag-0 column, all_lags = the mean over lags,
    # bestLag = the lag (s) of the row maximum
    summ = pd.read_csv(golden / f"{stem}_summary.csv", index_col=0)
    np.testing.assert_allclose(got.sel(lag=0).values, summ["lag_zero"], atol=TOL)
    np.testing.assert_allclose(got.mean("lag").values, summ["all_lags"], atol=TOL)
    best = got.lag.values[np.nanargmax(got.values, axis=1)]
    np.testing.assert_allclose(best, summ["bestLag"])


@pytest.mark.parametrize("W,L,I", [(60, 10, 5), (30, 5, 1), (120, 20, 4)])
def test_bsync_calc_wcc(golden, W, L, I):
    x, y = _input(golden)
    want = pd.read_csv(golden / f"bsync_win{W}_lag{L}_inc{I}_samples.csv")
    table = want.pivot(index="i", columns="tau", values="r")
    got = wcc(x, y, fs=1, window=W, step=I, max_lag=L, convention="bsync")
    assert got.shape == table.shape
    np.testing.assert_array_equal(got.window_start.values, table.index.to_numpy() - 1)
    np.testing.assert_array_equal(got.lag.values, table.columns.to_numpy())
    np.testing.assert_array_equal(np.isnan(got.values), np.isnan(table.to_numpy()))
    np.testing.assert_allclose(got.values, table.to_numpy(), rtol=0, atol=TOL)
