"""SSI, SUSY and rMEA-style summaries against plain loops and constructed cases."""
from __future__ import annotations

import math

import numpy as np
import pytest
import xarray as xr

from synchrony.errors import ConfigError, InputError
from synchrony.stats import indices


def twin_ssi(x, y, fs, sw_s=5.0, ss_s=1.0, cw_s=15.0, cs_s=1.0):
    """Marci's SSI with np.polyfit slopes and np.corrcoef correlations, loop by loop."""
    sw, ss = round(sw_s * fs), round(ss_s * fs)
    t = np.arange(sw) / fs

    def slopes(v):
        out = []
        for a in range(0, v.size - sw + 1, ss):
            seg = v[a:a + sw]
            ok = np.isfinite(seg)
            out.append(np.polyfit(t[ok], seg[ok], 1)[0] if ok.sum() >= max(2, sw / 2) else np.nan)
        return np.array(out)

    bx, by = slopes(x), slopes(y)
    cw, cs = round(cw_s / ss_s), round(cs_s / ss_s)
    rs = []
    for a in range(0, bx.size - cw + 1, cs):
        u, v = bx[a:a + cw], by[a:a + cw]
        ok = np.isfinite(u) & np.isfinite(v)
        rs.append(np.corrcoef(u[ok], v[ok])[0, 1] if ok.sum() >= max(3, cw / 2) else np.nan)
    rs = np.array(rs)
    return rs, math.log(rs[rs > 0].sum() / -rs[rs < 0].sum())


def test_ssi_matches_loop_twin_with_gaps():
    rng = np.random.default_rng(0)
    fs = 4.0
    x = np.cumsum(rng.normal(size=2400)) * 0.02 + 5
    y = 0.5 * x + np.cumsum(rng.normal(size=2400)) * 0.02
    x[400:430] = np.nan  # 7.5 s gap: some slopes lose > half their samples and become NaN
    ds = indices.ssi(x, y, fs=fs)
    r, value = twin_ssi(x, y, fs)
    np.testing.assert_allclose(ds.r.values, r, rtol=1e-9, atol=1e-12)
    assert float(ds.ssi) == pytest.approx(value, rel=1e-9)
    assert np.isnan(ds.slope_x.values).any()  # the gap shows, it is not bridged
    assert ds.attrs["slope_window_s"] == 5.0 and ds.attrs["corr_window_s"] == 15.0


def test_ssi_parameters_are_exposed_and_signs_are_right():
    t = np.arange(0, 300, 0.25)
    x = np.sin(t / 5.0) + 0.3 * np.sin(t / 1.7)
    same = indices.ssi(x, 2 * x + 1, fs=4.0)
    assert float(same.ssi) == math.inf and np.allclose(same.r.values, 1.0)
    opposite = indices.ssi(x, -x, fs=4.0)
    assert float(opposite.ssi) == -math.inf
    longer = indices.ssi(x, x, fs=4.0, slope_window=10.0, corr_window=30.0, corr_step=2.0)
    assert longer.r.size < same.r.size and longer.attrs["corr_step_s"] == 2.0
    with pytest.raises(ConfigError, match="multiples of slope_step"):
        indices.ssi(x, x, fs=4.0, corr_window=15.5)


def twin_ccf(a, b, tau):
    """R ccf(x, y) normalisation at our lag tau (x at t with y at t + tau), by a loop."""
    n = a.size
    am, bm = a.mean(), b.mean()
    s = sum((a[t] - am) * (b[t + tau] - bm) for t in range(n) if 0 <= t + tau < n)
    return s / (n * a.std() * b.std())


def test_susy_matches_loop_twin_and_drops_incomplete_segments():
    rng = np.random.default_rng(1)
    fs = 2.0
    x = rng.normal(size=250)
    y = np.roll(x, 1) + rng.normal(size=250)
    y[70] = np.nan  # kills segment 2 (samples 60..89) of 30-sample segments
    out = indices.susy(x, y, fs=fs, segment=15.0, max_lag=2.0)
    assert out["n_segments"] == 7 and out["n_segments_dropped"] == 1  # 250 // 30 = 8
    keep = [i for i in range(8) if i != 2]
    xs = [x[i * 30:(i + 1) * 30] for i in keep]
    ys = [y[i * 30:(i + 1) * 30] for i in keep]
    lags = range(-4, 5)

    def seg(i, j):
        z = np.arctanh([twin_ccf(xs[i], ys[j], k) for k in lags])
        return z.mean(), np.abs(z).mean()

    real = np.array([seg(i, i) for i in range(7)])
    pseudo = np.array([seg(i, j) for i in range(7) for j in range(7) if i != j])
    assert out["n_pseudo"] == 42
    assert out["mean_z"] == pytest.approx(real[:, 0].mean(), rel=1e-9)
    assert out["mean_abs_z"] == pytest.approx(real[:, 1].mean(), rel=1e-9)
    es = (real[:, 0].mean() - pseudo[:, 0].mean()) / pseudo[:, 0].std(ddof=1)
    assert out["es_mean_z"] == pytest.approx(es, rel=1e-9)
    few = indices.susy(x, y, fs=fs, segment=15.0, max_lag=2.0, max_pseudo=10, random_state=0)
    assert few["n_pseudo"] == 10 and few["mean_z"] == out["mean_z"]
    with pytest.raises(ConfigError, match="2·max_lag"):
        indices.susy(x, y, fs=fs, segment=3.0, max_lag=2.0)


def test_rmea_summary_on_wcc_output():
    sy = pytest.importorskip("synchrony")
    rng = np.random.default_rng(2)
    x = rng.normal(size=600)
    y = np.roll(x, 3) + rng.normal(size=600)  # y follows x by 3 samples: x leads
    r = sy.wcc(x, y, fs=1.0, window=60, step=10, max_lag=5)
    s = indices.rmea_summary(r)
    z = np.arctanh(np.clip(r.values, -1 + 1e-12, 1 - 1e-12))
    lag = r.lag.values
    assert s["all_lags"] == pytest.approx(np.nanmean(z))
    assert s["lag_zero"] == pytest.approx(np.nanmean(z[:, lag == 0]))
    assert s["x_leads"] == pytest.approx(np.nanmean(z[:, lag > 0]))
    assert s["x_leads"] > s["y_leads"]
    zr = sy.wcc(x, y, fs=1.0, window=60, step=10, max_lag=5, fisher_z=True)
    assert indices.rmea_summary(zr)["all_lags"] == pytest.approx(s["all_lags"])
    with pytest.raises(InputError):
        indices.rmea_summary(xr.DataArray(np.zeros(3), dims="time"))
