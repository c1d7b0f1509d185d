"""Slow, obvious twins of the window reductions the statistics layer consumes.

``window_stats`` here is the plain two-pass Pearson version of
``synchrony.core.wcc.window_stats`` (ARCHITECTURE.md section 4): every cell is computed
on its own from the finite pairs, then reduced per window. It exists so that the
statistics can be tested before, and independently of, the numba kernel.
"""
from __future__ import annotations

import numpy as np

_CLIP = 1.0 - 1e-12


def cell_r(xw: np.ndarray, yw: np.ndarray, min_count: float) -> float:
    """Pearson r over the finite pairs of two equal-length spans (NaN per section 4)."""
    ok = np.isfinite(xw) & np.isfinite(yw)
    n = int(ok.sum())
    if n < 2 or n < min_count:
        return np.nan
    a = xw[ok] - xw[ok].mean()
    b = yw[ok] - yw[ok].mean()
    saa = float(a @ a)
    sbb = float(b @ b)
    if saa == 0.0 or sbb == 0.0:
        return np.nan
    return float(a @ b) / np.sqrt(saa * sbb)


def r_matrix(x, y, *, window_n, step_n, max_lag_n, lag_step_n=1, min_valid=0.5):
    """r[k, lag] for every window start t_k = k*S and lag in -L..L (step D)."""
    x = np.asarray(x, dtype=float)
    y = np.asarray(y, dtype=float)
    n = x.size
    lags = np.arange(-max_lag_n, max_lag_n + 1, lag_step_n)
    starts = np.arange(0, n - window_n + 1, step_n)
    out = np.full((starts.size, lags.size), np.nan)
    for i, t in enumerate(starts):
        for j, tau in enumerate(lags):
            lo = t + tau
            if lo < 0 or lo + window_n > n:
                continue
            out[i, j] = cell_r(x[t:t + window_n], y[lo:lo + window_n], min_valid * window_n)
    return out, lags


def window_stats(x, y, *, window_n, step_n, max_lag_n, lag_step_n=1, min_valid=0.5):
    """The per-window reductions of ``synchrony.core.wcc.window_stats``, slowly."""
    r, lags = r_matrix(x, y, window_n=window_n, step_n=step_n, max_lag_n=max_lag_n,
                       lag_step_n=lag_step_n, min_valid=min_valid)
    z = np.arctanh(np.clip(r, -_CLIP, _CLIP))
    fin = np.isfinite(z)
    nk = r.shape[0]
    out = {
        "n_cells": fin.sum(axis=1).astype(float),
        "sum_abs_z": np.where(fin, np.abs(z), 0.0).sum(axis=1),
        "max_abs_z": np.full(nk, np.nan),
        "max_r": np.full(nk, np.nan),
        "max_r_lag_n": np.full(nk, np.nan),
        "sum_z_lead": np.where(fin & (lags > 0), z, 0.0).sum(axis=1),
        "n_lead": (fin & (lags > 0)).sum(axis=1).astype(float),
        "sum_z_follow": np.where(fin & (lags < 0), z, 0.0).sum(axis=1),
        "n_follow": (fin & (lags < 0)).sum(axis=1).astype(float),
        "z_lag0": np.full(nk, np.nan),
    }
    for k in range(nk):
        if fin[k].any():
            out["max_abs_z"][k] = np.nanmax(np.abs(z[k]))
            j = int(np.nanargmax(r[k]))
            out["max_r"][k] = r[k, j]
            out["max_r_lag_n"][k] = lags[j]
    if 0 in lags:
        out["z_lag0"] = z[:, int(np.flatnonzero(lags == 0)[0])]
    return out


def window_stats_many(x, ys, **kw):
    """``window_stats`` of x against every row of ys, stacked to (n_series, n_windows)."""
    rows = [window_stats(x, y, **kw) for y in np.atleast_2d(ys)]
    return {k: np.stack([r[k] for r in rows]) for k in rows[0]}


def seconds_to_samples(fs, window, step, max_lag, lag_step=None):
    """(W, S, L, D) in samples by ``round()`` (section 4); minimal validation."""
    w, s, lag = round(window * fs), round(step * fs), round(max_lag * fs)
    d = 1 if lag_step is None else round(lag_step * fs)
    if w < 2 or s < 1 or lag < 0 or d < 1:
        raise ValueError("bad window/step/max_lag/lag_step")
    return w, s, lag, d
