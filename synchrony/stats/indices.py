"""Session-level synchrony indices from the literature, for replication.

- :func:`ssi`: Marci et al. (2007) single-session index for skin conductance: slopes over
  short windows, running correlations of the two slope series, and
  ``SSI = ln(sum of positive r / |sum of negative r|)``.
- :func:`susy`: SUSY-style (Tschacher & Meier 2020) mean Z and mean |Z| over
  non-overlapping segments, with effect sizes against all non-matching segment pairings.
- :func:`rmea_summary`: rMEA-style summaries of a WCC matrix: lag zero, all lags, and the
  leading and following halves.

Nothing here fills a missing value: a slope, correlation or segment without enough finite
samples is NaN (or left out, and counted).
"""
from __future__ import annotations

import math
import warnings

import numpy as np
import xarray as xr
from numpy.lib.stride_tricks import sliding_window_view

from synchrony.errors import ConfigError, InputError
from synchrony.stats.surrogates import as_generator

__all__ = ["ssi", "susy", "rmea_summary", "running_slope", "running_pearson"]

_CLIP = 1.0 - 1e-12


def _series(v, name: str) -> np.ndarray:
    arr = np.asarray(getattr(v, "values", v), dtype=float)
    if arr.ndim != 1:
        raise InputError(f"{name}: expected a 1-D series, found shape {arr.shape}")
    return arr


def _samples(fs: float, seconds: float, name: str, minimum: int = 1) -> int:
    n = int(round(seconds * fs))
    if n < minimum:
        raise ConfigError(f"{name}={seconds!r} s at fs={fs} Hz gives {n} samples; expected at "
                          f"least {minimum}")
    return n


def running_slope(y, *, window_n: int, step_n: int, min_valid: float = 0.5) -> np.ndarray:
    """Least-squares slope (units per sample) of ``y`` over windows ``[k·step, k·step + window)``.

    Uses the finite samples of each window; NaN when fewer than ``max(2, min_valid·window)``.

    >>> running_slope(np.arange(10.0) * 2, window_n=4, step_n=3)
    array([2., 2., 2.])
    """
    y = np.asarray(y, dtype=float)
    if y.size < window_n:
        return np.empty(0)
    w = sliding_window_view(y, window_n)[::step_n]
    t = np.broadcast_to(np.arange(window_n, dtype=float), w.shape)
    ok = np.isfinite(w)
    n = ok.sum(-1)
    with np.errstate(invalid="ignore", divide="ignore"):
        tm = np.where(ok, t, 0).sum(-1) / n
        ym = np.where(ok, w, 0).sum(-1) / n
        dt = np.where(ok, t - tm[:, None], 0.0)
        dy = np.where(ok, w - ym[:, None], 0.0)
        slope = (dt * dy).sum(-1) / (dt * dt).sum(-1)
    return np.where((n >= 2) & (n >= min_valid * window_n), slope, np.nan)


def running_pearson(a, b, *, window_n: int, step_n: int, min_valid: float = 0.5) -> np.ndarray:
    """Pearson r of ``a`` and ``b`` over windows ``[k·step, k·step + window)``, finite pairs only.

    NaN when fewer than ``max(3, min_valid·window)`` pairs or either side is constant.

    >>> running_pearson(np.arange(6.0), np.arange(6.0) ** 2, window_n=3, step_n=3).round(3)
    array([0.961, 0.997])
    """
    a = np.asarray(a, dtype=float)
    b = np.asarray(b, dtype=float)
    if a.size < window_n:
        return np.empty(0)
    wa = sliding_window_view(a, window_n)[::step_n]
    wb = sliding_window_view(b, window_n)[::step_n]
    ok = np.isfinite(wa) & np.isfinite(wb)
    n = ok.sum(-1)
    with np.errstate(invalid="ignore", divide="ignore"):
        ma = np.where(ok, wa, 0).sum(-1) / n
        mb = np.where(ok, wb, 0).sum(-1) / n
        da = np.where(ok, wa - ma[:, None], 0.0)
        db = np.where(ok, wb - mb[:, None], 0.0)
        saa, sbb = (da * da).sum(-1), (db * db).sum(-1)
        r = (da * db).sum(-1) / np.sqrt(saa * sbb)
    good = (n >= 3) & (n >= min_valid * window_n) & (saa > 0) & (sbb > 0)
    return np.where(good, np.clip(r, -1.0, 1.0), np.nan)


def ssi(
    x,
    y,
    *,
    fs: float,
    slope_window: float = 5.0,
    slope_step: float = 1.0,
    corr_window: float = 15.0,
    corr_step: float = 1.0,
    min_valid: float = 0.5,
) -> xr.Dataset:
    """Marci's single-session index (SSI) of skin-conductance concordance.

    Each person's skin conductance is summarised by its least-squares slope over
    ``slope_window`` seconds, every ``slope_step`` seconds; the two slope series are
    correlated over running ``corr_window``-second windows every ``corr_step`` seconds;
    then ``SSI = ln(sum of positive r / |sum of negative r|)`` (Marci et al. 2007).
    ``+inf`` when no correlation is negative, ``-inf`` when none is positive, NaN when
    none is valid.

    Parameters
    ----------
    x, y : array_like or xarray.DataArray, shape (N,)
        Skin conductance of the two people on one grid at ``fs`` Hz (NaN = missing).
    fs : float
        Sampling rate in Hz.
    slope_window, slope_step, corr_window, corr_step : float
        Seconds (defaults 5, 1, 15, 1 as in Marci et al. 2007).
    min_valid : float
        Fraction of finite samples (slopes) or pairs (correlations) a window needs.

    Returns
    -------
    xarray.Dataset
        ``slope_x``, ``slope_y`` (dim ``slope_time``, µS/s, at slope-window centres), ``r``
        (dim ``time``, centres of the correlation windows in seconds) and ``ssi`` (scalar),
        with the parameters in attrs.

    Examples
    --------
    >>> t = np.arange(0, 600, 0.25)
    >>> x = np.sin(t / 7.0) + 0.01 * t
    >>> ds = ssi(x, x + 0.2 * np.cos(t / 2.0), fs=4.0)
    >>> bool(ds.ssi > 1.0)
    True
    """
    xv, yv = _series(x, "x"), _series(y, "y")
    if xv.size != yv.size:
        raise InputError(f"ssi: x and y must have the same length, found {xv.size} and {yv.size}")
    sw = _samples(fs, slope_window, "slope_window", 2)
    ss = _samples(fs, slope_step, "slope_step")
    if abs(corr_window / slope_step - round(corr_window / slope_step)) > 1e-9 or \
            abs(corr_step / slope_step - round(corr_step / slope_step)) > 1e-9:
        raise ConfigError(f"ssi: corr_window ({corr_window} s) and corr_step ({corr_step} s) must be "
                          f"multiples of slope_step ({slope_step} s)")
    cw = int(round(corr_window / slope_step))
    cs = int(round(corr_step / slope_step))
    if cw < 3 or cs < 1:
        raise ConfigError(f"ssi: corr_window must span at least 3 slopes, found {cw}")
    bx = running_slope(xv, window_n=sw, step_n=ss, min_valid=min_valid) * fs
    by = running_slope(yv, window_n=sw, step_n=ss, min_valid=min_valid) * fs
    r = running_pearson(bx, by, window_n=cw, step_n=cs, min_valid=min_valid)
    slope_t = (np.arange(bx.size) * ss + sw / 2.0) / fs
    k = np.arange(r.size) * cs
    r_t = (k * ss + ((cw - 1) * ss + sw) / 2.0) / fs
    pos = float(r[r > 0].sum())
    neg = float(-r[r < 0].sum())
    if np.isfinite(r).sum() == 0:
        value = math.nan
    elif neg == 0.0:
        value = math.inf
    elif pos == 0.0:
        value = -math.inf
    else:
        value = math.log(pos / neg)
    return xr.Dataset(
        {"slope_x": ("slope_time", bx), "slope_y": ("slope_time", by), "r": ("time", r),
         "ssi": ((), value)},
        coords={"slope_time": slope_t, "time": r_t},
        attrs={"index": "single-session index (Marci et al. 2007)", "fs": float(fs),
               "slope_window_s": sw / fs, "slope_step_s": ss / fs,
               "corr_window_s": cw * ss / fs, "corr_step_s": cs * ss / fs,
               "min_valid": min_valid, "sum_positive_r": pos, "sum_negative_r": -neg,
               "n_correlations": int(np.isfinite(r).sum()),
               "formula": "ln(sum(r > 0) / |sum(r < 0)|)"},
    )


def _segment_ccf_z(xs: np.ndarray, ys: np.ndarray, lags: np.ndarray) -> np.ndarray:
    """Fisher z of R-``ccf``-style cross-correlations of one segment pair at ``lags``.

    Segment means and (1/n) standard deviations, lagged products summed over the overlap
    and divided by n, as R's ``ccf`` does. Our lag sign: ``+tau`` pairs ``x[t]`` with
    ``y[t + tau]`` (x leads).
    """
    n = xs.size
    a = xs - xs.mean()
    b = ys - ys.mean()
    den = n * a.std() * b.std()
    out = np.empty(lags.size)
    for i, tau in enumerate(lags):
        if tau >= 0:
            c = a[: n - tau] @ b[tau:]
        else:
            c = a[-tau:] @ b[: n + tau]
        out[i] = c / den if den > 0 else np.nan
    return np.arctanh(np.clip(out, -_CLIP, _CLIP))


def susy(
    x,
    y,
    *,
    fs: float,
    segment: float = 30.0,
    max_lag: float = 3.0,
    max_pseudo: int | None = None,
    random_state: int | np.random.Generator | None = None,
) -> dict:
    """SUSY-style surrogate synchrony (Tschacher & Meier 2020), for replication.

    The series are cut into non-overlapping segments of ``segment`` seconds (a remainder at
    the end is not used, as in SUSY). In each segment the cross-correlations at lags
    ``-max_lag..max_lag`` (R ``ccf`` normalisation) are Fisher-z transformed and averaged;
    ``mean_z`` is the mean over segments, ``mean_abs_z`` the same with ``|z|``. The pseudo
    values are the same per-segment means for every non-matching pairing (segment ``i`` of
    ``x`` with segment ``j != i`` of ``y``; all ``s(s-1)`` of them, or ``max_pseudo`` drawn
    at random), and ``es = (real - mean(pseudo)) / sd(pseudo)``. Segments holding a
    non-finite sample in either series are left out (SUSY drops such rows; we never fill).

    Returns
    -------
    dict
        ``mean_z``, ``es_mean_z``, ``mean_abs_z``, ``es_mean_abs_z``, ``n_segments``,
        ``n_segments_dropped``, ``n_pseudo``, ``segment_s``, ``max_lag_s``.

    Examples
    --------
    >>> rng = np.random.default_rng(0)
    >>> s = rng.normal(size=4 * 900)
    >>> out = susy(s, s + rng.normal(size=s.size), fs=4.0, segment=30, max_lag=3)
    >>> out["n_segments"], out["n_pseudo"], bool(out["es_mean_z"] > 1)
    (30, 870, True)
    """
    xv, yv = _series(x, "x"), _series(y, "y")
    if xv.size != yv.size:
        raise InputError(f"susy: x and y must have the same length, found {xv.size} and {yv.size}")
    seg_n = _samples(fs, segment, "segment", 3)
    lag_n = int(round(max_lag * fs))
    if 2 * lag_n > seg_n:
        raise ConfigError(f"susy: segment ({segment} s) must be at least 2·max_lag ({max_lag} s)")
    n_seg = xv.size // seg_n
    xs = xv[: n_seg * seg_n].reshape(n_seg, seg_n)
    ys = yv[: n_seg * seg_n].reshape(n_seg, seg_n)
    good = np.isfinite(xs).all(1) & np.isfinite(ys).all(1)
    xs, ys = xs[good], ys[good]
    s = xs.shape[0]
    if s < 2:
        raise InputError(f"susy: {s} complete segment(s) of {segment} s; at least 2 are needed")
    lags = np.arange(-lag_n, lag_n + 1)
    pairs = [(i, j) for i in range(s) for j in range(s) if i != j]
    if max_pseudo is not None and max_pseudo < len(pairs):
        rng = as_generator(random_state)
        pick = rng.choice(len(pairs), size=int(max_pseudo), replace=False)
        pairs = [pairs[i] for i in np.sort(pick)]

    def seg_means(i, j):
        z = _segment_ccf_z(xs[i], ys[j], lags)
        return np.nanmean(z), np.nanmean(np.abs(z))

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        real = np.array([seg_means(i, i) for i in range(s)])
        pseudo = np.array([seg_means(i, j) for i, j in pairs])
    out = {"n_segments": int(s), "n_segments_dropped": int((~good).sum()),
           "n_pseudo": len(pairs), "segment_s": seg_n / fs, "max_lag_s": lag_n / fs}
    for col, name in ((0, "mean_z"), (1, "mean_abs_z")):
        r = float(np.nanmean(real[:, col]))
        p = pseudo[:, col][np.isfinite(pseudo[:, col])]
        sd = p.std(ddof=1) if p.size > 1 else math.nan
        out[name] = r
        out["es_" + name] = float((r - p.mean()) / sd) if sd > 0 else math.nan
    return out


def rmea_summary(r: xr.DataArray) -> dict:
    """rMEA-style summaries of a WCC matrix ``r(time, lag)`` as mean Fisher z.

    ``lag_zero`` (the lag-0 column), ``all_lags`` (every cell), ``x_leads`` (lags > 0) and
    ``y_leads`` (lags < 0), each the mean of ``atanh(r)`` over finite cells (``|r|`` clipped
    to ``1 - 1e-12``), plus ``all_lags_abs`` (mean ``|z|``). When ``r`` already holds Fisher z
    (``attrs["fisher_z"]`` true) it is averaged as is.

    Examples
    --------
    >>> r = xr.DataArray([[0.1, 0.5, -0.1]], dims=("time", "lag"),
    ...                  coords={"time": [15.0], "lag": [-1.0, 0.0, 1.0]})
    >>> s = rmea_summary(r)
    >>> round(s["lag_zero"], 4), round(s["x_leads"], 4)
    (0.5493, -0.1003)
    """
    if not isinstance(r, xr.DataArray) or "lag" not in r.dims:
        raise InputError("rmea_summary: expected the DataArray r(time, lag) of synchrony.wcc")
    if r.attrs.get("absolute"):
        raise InputError("rmea_summary: r holds absolute values; pass the signed matrix")
    z = r if r.attrs.get("fisher_z") else np.arctanh(r.clip(-_CLIP, _CLIP))
    lag = r["lag"]

    def m(a):
        v = np.asarray(a, dtype=float)
        v = v[np.isfinite(v)]
        return float(v.mean()) if v.size else math.nan

    return {"lag_zero": m(z.sel(lag=0.0)) if bool((lag == 0).any()) else math.nan,
            "all_lags": m(z), "all_lags_abs": m(abs(z)),
            "x_leads": m(z.where(lag > 0)), "y_leads": m(z.where(lag < 0)),
            "n_cells": int(np.isfinite(np.asarray(z)).sum())}
