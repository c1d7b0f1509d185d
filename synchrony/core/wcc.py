"""Windowed cross-correlation (WCC): the public wrapper around the numba kernel.

The cell (ARCHITECTURE.md section 4): parameters in seconds are converted once to samples with
Python's ``round()`` — window ``W``, step ``S``, maximum lag ``L``, lag step ``D``. Windows start
at ``t_k = k*S`` while ``t_k + W <= N``; for ``tau in {-L, -L+D, ..., L}``::

    r[k, tau] = pearson(x[t_k : t_k+W], y[t_k+tau : t_k+tau+W])

over the pairs where both values are finite (``±inf`` counts as missing). Means, variances and
the covariance of a cell are all taken over those same valid pairs (pairwise-complete). A cell is
NaN — never 0 — when its y-span leaves ``[0, N)``, when fewer than ``min_valid * W`` pairs are
valid, or when either side is exactly constant over its valid pairs. Positive lag: x leads,
y follows.

Conventions (``convention=``) remap the same cells to reproduce published tools. With window
``W``, lag ``L`` and increment ``I`` (the step), all in samples:

``"synchrony"`` (default)
    as above; ``window_start = t_k/fs``, ``time = (t_k + W/2)/fs``; cells whose y-span leaves
    the series are NaN.
``"rmea"`` (rMEA 1.3.0 ``MEAccf``)
    windows are blocks of ``W + L`` samples starting at ``s = k*I`` for
    ``k < ceil((N - W - L + 1)/I)``; the earlier span is anchored at the block start: lag
    ``l >= 0`` pairs ``x[s : s+W]`` with ``y[s+l : s+l+W]``, lag ``l < 0`` pairs
    ``x[s+|l| : s+|l|+W]`` with ``y[s : s+W]``. ``window_start = s/fs``,
    ``time = (s + (W+L)/2)/fs`` (the block centre). With ``fisher_z=True`` the z values are
    ``atanh(r)`` clipped to ``±10`` as rMEA does (instead of clipping ``|r|`` to ``1 - 1e-12``).
``"boker"`` (Boker et al. 2002; Behrens & Boker)
    anchors ``a = L + k*I`` while ``a + W <= N``; the later span sits at the anchor: lag
    ``l >= 0`` pairs ``x[a-l : a-l+W]`` with ``y[a : a+W]``, lag ``l < 0`` pairs ``x[a : a+W]``
    with ``y[a+l : a+l+W]``. ``window_start = a/fs``, ``time = (a + W/2)/fs``.
``"bsync"`` (bsync 0.1.0 ``calc_wcc``)
    x is anchored at ``a = L + k*I`` (0-based; bsync's 1-based ``i = a + 1``) for
    ``k < floor((N - (W-1) - 2L)/I)``, L samples trimmed at both ends; lag ``l`` pairs
    ``x[a : a+W]`` with ``y[a+l : a+l+W]``. ``window_start = a/fs``, ``time = (a + W/2)/fs``.

In every convention all cells of the grid lie inside the series except in ``"synchrony"``.
"""
from __future__ import annotations

import logging
import math
from typing import Any

import numpy as np
import xarray as xr

from . import _kernels

logger = logging.getLogger("synchrony")

CONVENTIONS = ("synchrony", "rmea", "boker", "bsync")
LAG_SIGN = ("positive lag: x leads and y follows (a cell at lag +tau pairs x at t with y at "
            "t + tau); negative lag: y leads and x follows")
STAT_FIELDS = _kernels.STAT_FIELDS
_MAX_UPDATES = 2048
_PARALLEL_WORK = 4_000_000  # estimated pair updates below which one thread is used


def seconds_to_samples(fs: float, window: float, step: float, max_lag: float,
                       lag_step: float | None = None) -> tuple[int, int, int, int]:
    """Convert WCC parameters from seconds to samples, once, with Python's ``round()``.

    Parameters
    ----------
    fs : float
        Sampling rate in Hz (finite, > 0).
    window, step, max_lag : float
        Window length, step between window starts and largest lag, in seconds.
    lag_step : float, optional
        Spacing of the lags in seconds; default one sample.

    Returns
    -------
    (W, S, L, D) : tuple of int
        Window, step, maximum lag and lag step in samples.

    Raises
    ------
    ValueError
        Naming the parameter, its value and the rule: ``W >= 2``, ``S >= 1``, ``L >= 0``,
        ``D >= 1``, and ``D`` must divide ``L`` so that the lag grid ``-L, -L+D, ..., L`` is
        symmetric and contains lag 0. ``max_lag`` may equal or exceed the window (lags are
        limited only by the series length; the cells that leave the series are NaN).

    Examples
    --------
    >>> seconds_to_samples(4.0, window=30, step=1, max_lag=5)
    (120, 4, 20, 1)
    >>> seconds_to_samples(4.0, window=30, step=1, max_lag=5, lag_step=0.5)
    (120, 4, 20, 2)
    """
    fs = _positive_finite("fs", fs)
    for name, value in (("window", window), ("step", step), ("max_lag", max_lag)):
        _finite(name, value)
    W = round(float(window) * fs)
    S = round(float(step) * fs)
    L = round(float(max_lag) * fs)
    if W < 2:
        raise ValueError(f"window={window!r} s at fs={fs} Hz is {W} samples after rounding; "
                         "expected a window of at least 2 samples")
    if S < 1:
        raise ValueError(f"step={step!r} s at fs={fs} Hz is {S} samples after rounding; "
                         "expected a step of at least 1 sample")
    if L < 0:
        raise ValueError(f"max_lag={max_lag!r} s is negative; expected max_lag >= 0 "
                         "(lags run from -max_lag to +max_lag)")
    if lag_step is None:
        D = 1
    else:
        _finite("lag_step", lag_step)
        D = round(float(lag_step) * fs)
        if D < 1:
            raise ValueError(f"lag_step={lag_step!r} s at fs={fs} Hz is {D} samples after "
                             "rounding; expected at least 1 sample")
    if L % D:
        raise ValueError(f"lag_step={lag_step!r} s ({D} samples) does not divide max_lag="
                         f"{max_lag!r} s ({L} samples); expected max_lag to be a whole "
                         "multiple of lag_step so that the lags include 0 and ±max_lag")
    return W, S, L, D


def _finite(name: str, value: Any) -> float:
    try:
        v = float(value)
    except (TypeError, ValueError):
        raise TypeError(f"{name}={value!r}: expected a number") from None
    if not math.isfinite(v):
        raise ValueError(f"{name}={value!r}: expected a finite number")
    return v


def _positive_finite(name: str, value: Any) -> float:
    v = _finite(name, value)
    if v <= 0:
        raise ValueError(f"{name}={value!r}: expected a number > 0")
    return v


def _as_series(a: Any, name: str, fs: float) -> tuple[np.ndarray, float | None, dict]:
    """1-D float64 array, the start of its ``time`` coordinate (DataArray input) and attrs."""
    if isinstance(a, xr.DataArray):
        if a.ndim != 1:
            raise ValueError(f"{name}: expected a 1-D DataArray, found dims {a.dims}")
        if "time" not in a.coords:
            raise ValueError(f"{name}: expected a DataArray with a 'time' coordinate, found "
                             f"coords {list(a.coords)}")
        t = np.asarray(a["time"].values)
        if not np.issubdtype(t.dtype, np.number):
            raise TypeError(f"{name}: expected a numeric 'time' coordinate in seconds, found "
                            f"dtype {t.dtype}")
        t = t.astype(np.float64)
        if t.size >= 2:
            dt = np.diff(t)
            bad = np.abs(dt - 1.0 / fs) > 1e-6 / fs + 1e-9 * np.abs(t[1:])
            if bad.any():
                i = int(np.argmax(bad))
                raise ValueError(f"{name}: 'time' coordinate is not evenly spaced at fs={fs} "
                                 f"Hz: expected steps of {1.0 / fs!r} s, found {dt[i]!r} s "
                                 f"between samples {i} and {i + 1}")
        values = np.asarray(a.values)
        t0 = float(t[0]) if t.size else 0.0
        attrs = dict(a.attrs)
    else:
        values = np.asarray(a)
        t0 = None
        attrs = {}
        if values.ndim != 1:
            raise ValueError(f"{name}: expected a 1-D array, found shape {values.shape}")
    if not (np.issubdtype(values.dtype, np.number) or values.dtype == bool):
        raise TypeError(f"{name}: expected numeric values, found dtype {values.dtype}")
    if np.iscomplexobj(values):
        raise TypeError(f"{name}: expected real values, found dtype {values.dtype}")
    return np.ascontiguousarray(values, dtype=np.float64), t0, attrs


def _check_min_valid(min_valid: Any) -> float:
    mv = _finite("min_valid", min_valid)
    if not 0.0 <= mv <= 1.0:
        raise ValueError(f"min_valid={min_valid!r}: expected a fraction of the window "
                         "between 0 and 1")
    return mv


class _Grid:
    """Window grid of one convention, in samples (see the module docstring)."""

    def __init__(self, convention: str, N: int, W: int, S: int, L: int, D: int):
        if convention not in CONVENTIONS:
            raise ValueError(f"convention={convention!r}: expected one of "
                             + ", ".join(repr(c) for c in CONVENTIONS))
        tau = np.arange(-L, L + 1, D, dtype=np.int64)
        ox = np.zeros_like(tau)
        if convention == "synchrony":
            b0 = 0
            K = (N - W) // S + 1 if N >= W else 0
            centre_off = W / 2
        elif convention == "rmea":
            b0 = 0
            K = -(-(N - W - L + 1) // S) if N - W - L + 1 > 0 else 0
            ox = np.where(tau < 0, -tau, 0).astype(np.int64)
            centre_off = (W + L) / 2
        elif convention == "boker":
            b0 = L
            K = (N - W - L) // S + 1 if N - W - L >= 0 else 0
            ox = np.where(tau > 0, -tau, 0).astype(np.int64)
            centre_off = W / 2
        else:  # bsync
            b0 = L
            K = max((N - (W - 1) - 2 * L) // S, 0)
            centre_off = W / 2
        self.convention, self.N, self.W, self.S, self.L, self.D = convention, N, W, S, L, D
        self.b0, self.K, self.tau, self.ox = b0, K, tau, ox
        starts = b0 + S * np.arange(K, dtype=np.int64)
        self.starts = starts
        self.centres = starts + centre_off
        # windows k for which lag j's spans lie inside [0, N)
        lo_off = b0 + np.minimum(ox, ox + tau)
        hi_off = b0 + np.maximum(ox, ox + tau)
        klo = np.maximum(-(lo_off // S), 0)  # ceil(-lo_off / S)
        khi = np.minimum((N - W - hi_off) // S, K - 1)
        self.klo = klo.astype(np.int64)
        self.khi = khi.astype(np.int64)
        self.kA = int(klo.max()) if K else 0
        self.kB = int(khi.min()) if K else -1
        # the running update costs ~2S pair updates per cell, the direct two-pass ~2W
        self.direct = 2 * S >= W

    def work(self) -> int:
        """Rough count of pair updates (the cost model that picks serial or parallel)."""
        per_cell = 2 * self.W if self.direct else 2 * self.S
        return self.K * self.tau.size * per_cell + 4 * self.N

    def chunk(self, parallel_units: int) -> int:
        K, S, W = self.K, self.S, self.W
        if self.direct:
            return max(1, min(256, -(-K // max(4 * parallel_units, 1))))
        umax = max(_MAX_UPDATES, 4 * W)
        kc = -(-K // max(4 * parallel_units, 1)) if parallel_units > 1 else K
        kc = max(kc, -(-W // S))
        return int(max(1, min(kc, umax // S)))


def _threads() -> int:
    try:
        import numba

        return int(numba.get_num_threads())
    except Exception:  # pragma: no cover - numba always present
        return 1


def _run(x: np.ndarray, y: np.ndarray, grid: _Grid, min_valid: float, *, store: bool,
         counts: bool, reduce: bool, out: np.ndarray | None = None):
    K, J = grid.K, grid.tau.size
    if store:
        if out is None:
            out = np.empty((K, J))
        elif out.shape != (K, J) or out.dtype != np.float64 or not out.flags.c_contiguous:
            raise ValueError(f"out: expected a C-contiguous float64 array of shape {(K, J)}, "
                             f"found {out.dtype} {out.shape}")
    else:
        out = np.empty((0, 0))
    cnt = np.empty((K, J), dtype=np.int64) if counts else np.empty((0, 0), dtype=np.int64)
    stats = np.empty((_kernels.N_STATS, K)) if reduce else np.empty((_kernels.N_STATS, 0))
    if K:
        # parallel regions cost a thread wake-up (milliseconds on a busy machine): small jobs
        # run on the calling thread
        threads = _threads() if grid.work() >= _PARALLEL_WORK else 1
        kc = grid.chunk(threads)
        kernel = _kernels.wcc_parallel if threads > 1 else _kernels.wcc_serial
        kernel(x, y, grid.W, grid.S, grid.b0,
                              grid.ox, grid.tau, grid.klo, grid.khi, grid.kA, grid.kB, K, kc,
                              float(min_valid) * grid.W, grid.direct, out, cnt, stats,
                              store, counts, reduce)
    return out, cnt, stats


def _check_pair(x: np.ndarray, y: np.ndarray, grid_W: int, grid: _Grid) -> None:
    if x.shape != y.shape:
        raise ValueError(f"x and y: expected the same length, found {x.size} and {y.size} "
                         "samples")
    if grid.K == 0:
        extra = {"synchrony": "W", "rmea": "W + L", "boker": "W + L", "bsync": "W + 2L"}
        raise ValueError(f"x, y: {x.size} samples is too short for one window (window {grid_W}"
                         f" samples, max_lag {grid.L} samples, convention "
                         f"{grid.convention!r} needs at least {extra[grid.convention]} samples)")


def wcc(x: Any, y: Any, *, fs: float, window: float, step: float, max_lag: float,
        lag_step: float | None = None, min_valid: float = 0.5, fisher_z: bool = False,
        absolute: bool = False, convention: str = "synchrony",
        return_counts: bool = False, out: np.ndarray | None = None) -> xr.DataArray:
    """Windowed cross-correlation of two evenly sampled series.

    Parameters
    ----------
    x, y : array_like or xarray.DataArray
        1-D series of equal length sampled at ``fs``. A DataArray must carry a numeric
        ``time`` coordinate in seconds, evenly spaced at ``1/fs``; the output's ``time`` and
        ``window_start`` are then on that clock (its start is kept in ``attrs["time_start"]``).
        NaN and ±inf mark missing samples.
    fs : float
        Sampling rate in Hz.
    window, step, max_lag : float
        Window length, step between windows and largest lag, in seconds (rounded once to
        samples; see :func:`seconds_to_samples`).
    lag_step : float, optional
        Lag spacing in seconds (default one sample); must divide ``max_lag``.
    min_valid : float, default 0.5
        A cell needs at least ``min_valid * W`` pairs where both values are finite.
    fisher_z : bool, default False
        Return ``atanh(r)`` with ``|r|`` clipped to ``1 - 1e-12`` (``convention="rmea"``:
        ``atanh(r)`` clipped to ±10, as rMEA does).
    absolute : bool, default False
        Take the absolute value (after ``fisher_z``).
    convention : {"synchrony", "rmea", "boker", "bsync"}
        Window grid and edge rule; see the module docstring for the exact mapping.
    return_counts : bool, default False
        Add an ``n_valid`` (time, lag) coordinate: the number of valid pairs of each cell.
    out : numpy.ndarray, optional
        Preallocated C-contiguous float64 output of shape (n_windows, n_lags), filled in place
        and wrapped (no copy).

    Returns
    -------
    xarray.DataArray
        Named ``"r"``, dims ``("time", "lag")``; coords ``time`` (window centre, s), ``lag``
        (s), ``window_start`` (time; s). ``attrs`` hold ``fs``, the realised
        ``window_s/window_n``, ``step_s/step_n``, ``max_lag_s/max_lag_n``,
        ``lag_step_s/lag_step_n``, ``min_valid``, ``convention``, ``fisher_z``, ``absolute``,
        ``lag_sign`` (in words) and ``method`` (running centred update or direct two-pass).

    Examples
    --------
    >>> import numpy as np
    >>> rng = np.random.default_rng(0)
    >>> x = rng.standard_normal(400)
    >>> y = np.roll(x, 2)                 # y follows x by 2 samples
    >>> r = wcc(x, y, fs=4.0, window=20, step=5, max_lag=1)
    >>> r.dims, r.shape
    (('time', 'lag'), (17, 9))
    >>> float(r.lag[r.mean("time").argmax("lag")])   # lag of the peak, s: x leads by 0.5 s
    0.5
    """
    fs = _positive_finite("fs", fs)
    W, S, L, D = seconds_to_samples(fs, window, step, max_lag, lag_step)
    mv = _check_min_valid(min_valid)
    if convention not in CONVENTIONS:
        raise ValueError(f"convention={convention!r}: expected one of "
                         + ", ".join(repr(c) for c in CONVENTIONS))
    xa, tx0, xattrs = _as_series(x, "x", fs)
    ya, ty0, yattrs = _as_series(y, "y", fs)
    if tx0 is not None and ty0 is not None and abs(tx0 - ty0) > 1e-6 / fs:
        raise ValueError(f"x and y: expected the same 'time' coordinate, found starts {tx0!r} "
                         f"s and {ty0!r} s")
    t0 = tx0 if tx0 is not None else ty0
    grid = _Grid(convention, xa.size, W, S, L, D)
    _check_pair(xa, ya, W, grid)
    r, cnt, _ = _run(xa, ya, grid, mv, store=True, counts=bool(return_counts), reduce=False,
                     out=out)
    if fisher_z:
        if convention == "rmea":
            with np.errstate(divide="ignore"):
                np.arctanh(r, out=r)
            np.clip(r, -10.0, 10.0, out=r)
        else:
            np.clip(r, -_kernels.R_CLIP, _kernels.R_CLIP, out=r)
            np.arctanh(r, out=r)
    if absolute:
        np.abs(r, out=r)
    off = 0.0 if t0 is None else t0
    coords: dict[str, Any] = {
        "time": ("time", off + grid.centres / fs),
        "lag": ("lag", grid.tau / fs),
        "window_start": ("time", off + grid.starts / fs),
    }
    if return_counts:
        coords["n_valid"] = (("time", "lag"), cnt)
    attrs = {
        "long_name": "windowed cross-correlation",
        "quantity": ("|" if absolute else "") + ("Fisher z" if fisher_z else "Pearson r")
        + ("|" if absolute else ""),
        "fs": fs,
        "window_s": W / fs, "window_n": W,
        "step_s": S / fs, "step_n": S,
        "max_lag_s": L / fs, "max_lag_n": L,
        "lag_step_s": D / fs, "lag_step_n": D,
        "min_valid": mv,
        "fisher_z": int(bool(fisher_z)),
        "absolute": int(bool(absolute)),
        "convention": convention,
        "lag_sign": LAG_SIGN,
        "time_reference": "window centre" if convention != "rmea" else
        "centre of the window + max_lag block",
        "missing": "pairwise complete: means, variances and covariance over the pairs where "
                   "both values are finite",
        "method": "direct two-pass per cell" if grid.direct else
        "running centred co-moment per lag diagonal",
        "n_samples": int(xa.size),
    }
    if t0 is not None:
        attrs["time_start"] = t0
    for key in ("start_utc",):
        if key in xattrs or key in yattrs:
            attrs[key] = xattrs.get(key, yattrs.get(key))
    return xr.DataArray(r, dims=("time", "lag"), coords=coords, name="r", attrs=attrs)


def _stats_dict(stats: np.ndarray) -> dict[str, np.ndarray]:
    return {name: stats[..., i, :] for i, name in enumerate(STAT_FIELDS)}


def window_stats(x: Any, y: Any, *, window_n: int, step_n: int, max_lag_n: int,
                 lag_step_n: int = 1, min_valid: float = 0.5) -> dict[str, np.ndarray]:
    """Per-window reductions over lags of the synchrony-convention cells, without the matrix.

    Parameters
    ----------
    x, y : array_like
        1-D float series of equal length (NaN allowed).
    window_n, step_n, max_lag_n, lag_step_n : int
        Window, step, maximum lag and lag step in samples (``lag_step_n`` divides
        ``max_lag_n``).
    min_valid : float, default 0.5
        As in :func:`wcc`.

    Returns
    -------
    dict of str to numpy.ndarray
        Arrays of shape (n_windows,): ``n_cells`` (non-NaN cells), ``sum_abs_z`` (sum of
        ``|atanh(clip(r))|``), ``max_abs_z``, ``max_r`` and ``max_r_lag_n`` (its lag in
        samples; ties go to the lag nearest 0, then the negative one), ``sum_z_lead`` /
        ``n_lead`` (lags > 0, x leads), ``sum_z_follow`` / ``n_follow`` (lags < 0),
        ``z_lag0``. NaN where no valid cell (counts are 0 there).

    Examples
    --------
    >>> import numpy as np
    >>> x = np.sin(np.arange(300) / 5.0)
    >>> s = window_stats(x, np.roll(x, 3), window_n=60, step_n=30, max_lag_n=5)
    >>> s["max_r_lag_n"][:3]
    array([3., 3., 3.])
    """
    xa, ya, grid, mv = _stats_setup(x, y, window_n, step_n, max_lag_n, lag_step_n, min_valid)
    if ya.shape != xa.shape:
        raise ValueError(f"x and y: expected the same length, found {xa.size} and {ya.size} "
                         "samples")
    _, _, stats = _run(xa, ya, grid, mv, store=False, counts=False, reduce=True)
    return _stats_dict(stats)


def _stats_setup(x, y, W, S, L, D, min_valid):
    for name, v, lo in (("window_n", W, 2), ("step_n", S, 1), ("max_lag_n", L, 0),
                        ("lag_step_n", D, 1)):
        if isinstance(v, bool) or not isinstance(v, (int, np.integer)):
            raise TypeError(f"{name}={v!r}: expected an integer number of samples")
        if v < lo:
            raise ValueError(f"{name}={v!r}: expected at least {lo}")
    if L % D:
        raise ValueError(f"lag_step_n={D} does not divide max_lag_n={L}; expected a lag grid "
                         "-L, -L+D, ..., L that contains 0")
    mv = _check_min_valid(min_valid)
    xa = np.ascontiguousarray(x, dtype=np.float64)
    ya = np.ascontiguousarray(y, dtype=np.float64)
    if xa.ndim != 1:
        raise ValueError(f"x: expected a 1-D array, found shape {xa.shape}")
    grid = _Grid("synchrony", xa.size, int(W), int(S), int(L), int(D))
    if grid.K == 0:
        raise ValueError(f"x: {xa.size} samples is shorter than one window of {W} samples")
    return xa, ya, grid, mv


def window_stats_many(x: Any, ys: Any, *, window_n: int, step_n: int, max_lag_n: int,
                      lag_step_n: int = 1, min_valid: float = 0.5) -> dict[str, np.ndarray]:
    """:func:`window_stats` of ``x`` against each row of ``ys``, in parallel over the rows.

    Parameters
    ----------
    x : array_like
        1-D series of length N.
    ys : array_like
        Shape (n_series, N).
    window_n, step_n, max_lag_n, lag_step_n, min_valid
        As in :func:`window_stats`.

    Returns
    -------
    dict of str to numpy.ndarray
        The fields of :func:`window_stats`, each of shape (n_series, n_windows).

    Examples
    --------
    >>> import numpy as np
    >>> rng = np.random.default_rng(1)
    >>> x = rng.standard_normal(200)
    >>> ys = np.stack([x, -x, rng.standard_normal(200)])
    >>> s = window_stats_many(x, ys, window_n=40, step_n=20, max_lag_n=0)
    >>> s["max_r"].shape, float(s["max_r"][0, 0]), float(s["max_r"][1, 0])
    ((3, 9), 1.0, -1.0)
    """
    xa, _, grid, mv = _stats_setup(x, np.empty(0), window_n, step_n, max_lag_n, lag_step_n,
                                   min_valid)
    ya = np.ascontiguousarray(ys, dtype=np.float64)
    if ya.ndim != 2 or ya.shape[1] != xa.size:
        raise ValueError(f"ys: expected shape (n_series, {xa.size}), found {ya.shape}")
    stats = np.empty((ya.shape[0], _kernels.N_STATS, grid.K))
    if ya.shape[0]:
        _kernels.stats_many(xa, ya, grid.W, grid.S, grid.b0, grid.ox,
                            grid.tau, grid.klo, grid.khi, grid.kA, grid.kB, grid.K,
                            grid.chunk(1), mv * grid.W, grid.direct, stats)
    return _stats_dict(stats)


def wcc_stats(x: Any, y: Any, *, fs: float, window: float, step: float, max_lag: float,
              lag_step: float | None = None, min_valid: float = 0.5) -> xr.Dataset:
    """Per-window reductions of :func:`wcc` (synchrony convention) without the (time, lag) matrix.

    Memory is O(n_windows), so day-long recordings and surrogate loops never hold the matrix.

    Returns
    -------
    xarray.Dataset
        Over ``time`` (window centres, s) with ``window_start``: ``peak_r`` / ``peak_lag``
        (global maximum of r over lags, lag in s; ties nearest 0 then negative),
        ``mean_abs_z`` (mean |Fisher z| over valid lags), ``max_abs_z``, ``mean_z_lead``
        (lags > 0: x leads), ``mean_z_follow`` (lags < 0), ``z_lag0``, ``n_cells``.

    Examples
    --------
    >>> import numpy as np
    >>> x = np.sin(np.arange(400) / 6.0)
    >>> ds = wcc_stats(x, np.roll(x, 4), fs=4.0, window=25, step=10, max_lag=2)
    >>> float(ds.peak_lag[0])
    1.0
    """
    fs = _positive_finite("fs", fs)
    W, S, L, D = seconds_to_samples(fs, window, step, max_lag, lag_step)
    xa, _, _ = _as_series(x, "x", fs)
    ya, _, _ = _as_series(y, "y", fs)
    if xa.shape != ya.shape:
        raise ValueError(f"x and y: expected the same length, found {xa.size} and {ya.size} "
                         "samples")
    st = window_stats(xa, ya, window_n=W, step_n=S, max_lag_n=L, lag_step_n=D,
                      min_valid=min_valid)
    grid = _Grid("synchrony", xa.size, W, S, L, D)
    with np.errstate(invalid="ignore", divide="ignore"):
        data = {
            "peak_r": ("time", st["max_r"]),
            "peak_lag": ("time", st["max_r_lag_n"] / fs),
            "mean_abs_z": ("time", np.where(st["n_cells"] > 0,
                                            st["sum_abs_z"] / st["n_cells"], np.nan)),
            "max_abs_z": ("time", st["max_abs_z"]),
            "mean_z_lead": ("time", np.where(st["n_lead"] > 0,
                                             st["sum_z_lead"] / st["n_lead"], np.nan)),
            "mean_z_follow": ("time", np.where(st["n_follow"] > 0,
                                               st["sum_z_follow"] / st["n_follow"], np.nan)),
            "z_lag0": ("time", st["z_lag0"]),
            "n_cells": ("time", st["n_cells"].astype(np.int64)),
        }
    return xr.Dataset(data, coords={"time": grid.centres / fs,
                                    "window_start": ("time", grid.starts / fs)},
                      attrs={"fs": fs, "window_n": W, "step_n": S, "max_lag_n": L,
                             "lag_step_n": D, "lag_sign": LAG_SIGN})
