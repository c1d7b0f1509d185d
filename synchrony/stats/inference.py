"""Surrogate tests of windowed cross-correlation synchrony (ARCHITECTURE.md section 5).

:func:`surrogate_test` computes one statistic on the data and on ``n_surrogates``
surrogates, from the kernel's per-window reductions
(:func:`synchrony.core.wcc.window_stats_many`; no ``(time, lag)`` matrix is ever built for a
surrogate), and returns the p-value ``(1 + #{null >= stat}) / (1 + n)``, the effect size
``(stat - mean(null)) / sd(null)`` and a per-window band of the surrogates.

Calibration: what is offered and why
------------------------------------
A surrogate test is valid when, under independence, the data's statistic is exchangeable
with the surrogates' statistics. The project's own trials found segment shuffling (random
derangements, statistic over all cells) rejecting 7.5-14 % of independent pairs at
alpha = 0.05. Three causes, each measured in ``benchmarks/bench_calibration.py``:

1. **Joins inside windows.** A shuffled series has a join at every segment boundary; a
   window (with its lag reach) that straddles one correlates ``x`` with two unrelated
   pieces of ``y`` glued together, a kind of window the data never has.
2. **Segments in place.** In the data every segment of ``x`` meets its own segment of
   ``y``; in a derangement none does, while any two surrogates share about one pairing.
   The surrogates are then more alike than the data is like them: with ``K`` segments the
   null is too narrow by about ``(K-1)/K`` (about 7.7 % false positives for ``K = 10``, even
   on white noise with the joins left out).
3. **Slow structure of the local correlation.** Heart rate with a shared breathing band,
   skin conductance with slow drifts: the windowed ``|z|`` of two *independent* series
   itself wanders over minutes, so neighbouring segments' contributions to the data's
   statistic are correlated. A random derangement breaks that alignment in every
   surrogate and again makes the null too narrow (7-9 % false positives on 50-minute
   simulated HR and SC pairs even with 38 segments and joins left out).

No random derangement escapes (3) without long segments, which brings back (2). What is
offered:

- ``"segment_shuffle"``: a **cyclic** derangement, ``y``'s segments rotated by ``d`` whole
  segments (``0 < d < K``: no segment stays in place). The rotations form a group, so the
  data's statistic is exactly exchangeable with theirs (up to the one wrap-around join),
  and every surrogate keeps the series' own slow structure. There are only ``K - 1``
  of them: with more surrogates asked, all are used (``attrs["n_surrogates_requested"]``),
  so ``p >= 1/K`` and, under independence, ``P(p <= alpha) = floor(alpha·K)/K``. By default
  ``K`` is the largest multiple of 20 whose segments are longer than ``window + 2·max_lag``
  (60 segments of 50 s for 50 minutes at window 30 s, lags +-5 s; 20 of 60 s for 20
  minutes), so that the size at alpha = 0.05 is exactly 0.05; with fewer than 20 such
  segments, segments of ``window + 2·max_lag`` plus one sample.
- ``"circular_shift"``: the same idea at sample resolution, shifts uniform on
  ``[min_shift, N - min_shift]``.
- In both, the data statistic uses every window and each surrogate leaves out the windows
  whose lag reach meets its single join (``attrs["windows_used"]``).
- ``"phase"`` and ``"iaaft"`` keep ``y``'s spectrum (and, for IAAFT, its values), have no
  joins and use every window; ``"pseudo_dyad"`` uses every window of other sessions'
  partners (exact when sessions are exchangeable).

The random derangement with in-segment windows stays available to the benchmark as
:func:`_segment_null` to show the trap; it is not offered.

The per-window band
-------------------
``null_lo``/``null_hi`` band, for every window, the surrogates' value of the quantity the
pipeline uses as its synchrony series: ``band="peak_z"`` is the Fisher z of the largest r
over lags (``atanh(max r)``), ``band="max_abs_z"`` the largest ``|z|``. The band is the
central ``band_quantile`` (default 95 %: the 2.5 % and 97.5 % quantiles) of that value
across surrogates. Windows a surrogate leaves out (its join) do not enter that
surrogate's share of the band; a window no surrogate covers has a NaN band.
"""
from __future__ import annotations

import logging
from typing import Callable, Sequence

import numpy as np
import xarray as xr

from synchrony.errors import ConfigError, InputError
from synchrony.stats import surrogates as _sur

__all__ = ["surrogate_test", "STATISTICS", "METHODS", "BANDS", "reduce_statistic"]

logger = logging.getLogger("synchrony")

METHODS = ("segment_shuffle", "circular_shift", "phase", "iaaft", "pseudo_dyad")
BANDS = ("peak_z", "max_abs_z")
_CLIP = 1.0 - 1e-12
_BATCH = 64


def _ratio(num: np.ndarray, den: np.ndarray) -> np.ndarray:
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(den > 0, num / np.where(den > 0, den, 1.0), np.nan)


def _mean_abs_z(s, m):
    return _ratio((s["sum_abs_z"] * m).sum(-1), (s["n_cells"] * m).sum(-1))


def _peak(s, m):
    v = np.where(m & np.isfinite(s["max_abs_z"]), s["max_abs_z"], 0.0)
    c = (m & np.isfinite(s["max_abs_z"])).sum(-1)
    return _ratio(v.sum(-1), c)


def _lead(s, m):
    return _ratio((s["sum_z_lead"] * m).sum(-1), (s["n_lead"] * m).sum(-1))


def _follow(s, m):
    return _ratio((s["sum_z_follow"] * m).sum(-1), (s["n_follow"] * m).sum(-1))


def _lead_minus_follow(s, m):
    return _lead(s, m) - _follow(s, m)


#: statistic name -> (reduction of per-window stats over a window mask, description)
STATISTICS: dict[str, tuple[Callable, str]] = {
    "mean_abs_z": (_mean_abs_z, "mean |Fisher z| over the valid cells of the windows used"),
    "peak": (_peak, "mean over the windows used of the largest |z| over lags"),
    "lead": (_lead, "mean Fisher z over cells with lag > 0 (x leads, y follows)"),
    "follow": (_follow, "mean Fisher z over cells with lag < 0 (y leads, x follows)"),
    "lead_minus_follow": (_lead_minus_follow,
                          "mean z at lags > 0 minus mean z at lags < 0 (> 0: x leads)"),
}


#: the kernel fields each statistic reads
_NEEDS = {"mean_abs_z": ("sum_abs_z", "n_cells"), "peak": ("max_abs_z",),
          "lead": ("sum_z_lead", "n_lead"), "follow": ("sum_z_follow", "n_follow"),
          "lead_minus_follow": ("sum_z_lead", "n_lead", "sum_z_follow", "n_follow")}


def reduce_statistic(stats: dict, mask: np.ndarray, statistic: str) -> np.ndarray:
    """Reduce per-window kernel stats (``(..., n_windows)`` arrays) to a statistic.

    ``mask`` (broadcastable to the stats) selects the windows used. Cell-weighted means
    (``mean_abs_z``, ``lead``, ``follow``) are sums of cell sums over sums of cell counts.

    >>> s = {"sum_abs_z": np.array([2.0, 4.0]), "n_cells": np.array([2.0, 2.0])}
    >>> float(reduce_statistic(s, np.array([True, False]), "mean_abs_z"))
    1.0
    """
    return STATISTICS[statistic][0](stats, np.asarray(mask, dtype=bool))


def _band_values(s: dict, band: str) -> np.ndarray:
    if band == "peak_z":
        return np.arctanh(np.clip(s["max_r"], -_CLIP, _CLIP))
    return np.asarray(s["max_abs_z"], dtype=float)


def _kernel():
    """The kernel's reductions (a seam the tests use to compare against the slow twin)."""
    import importlib

    wcc = importlib.import_module("synchrony.core.wcc")  # the module, not the function
    return wcc.window_stats, wcc.window_stats_many, wcc.seconds_to_samples


def _as_series(v, name: str) -> tuple[np.ndarray, float]:
    """Values and the first time coordinate (0 for plain arrays)."""
    t0 = 0.0
    if isinstance(v, xr.DataArray):
        if v.ndim != 1:
            raise InputError(f"{name}: expected a 1-D DataArray, found dims {v.dims}")
        if "time" in v.coords and v.sizes[v.dims[0]] > 0:
            t0 = float(v["time"].values[0])
        v = v.values
    arr = np.asarray(v, dtype=float)
    if arr.ndim != 1:
        raise InputError(f"{name}: expected a 1-D series, found shape {arr.shape}")
    return arr, t0


def _quantiles(values: np.ndarray, q: float) -> tuple[np.ndarray, np.ndarray]:
    """Column quantiles over the finite values (linear interpolation, numpy's default).

    NaN where a column has no finite value. Equivalent to ``np.nanquantile(values, q, 0)``
    but vectorised over columns (numpy loops over them in Python).
    """
    v = np.sort(np.where(np.isfinite(values), values, np.nan), axis=0)  # NaN sort last
    cnt = np.isfinite(v).sum(axis=0)
    out = []
    for qq in ((1.0 - q) / 2.0, 1.0 - (1.0 - q) / 2.0):
        pos = qq * np.maximum(cnt - 1, 0)
        i0 = np.floor(pos).astype(int)
        i1 = np.minimum(i0 + 1, np.maximum(cnt - 1, 0))
        cols = np.arange(v.shape[1])
        a, b = v[i0, cols], v[i1, cols]
        frac = pos - i0
        val = np.where(frac > 0, a + (b - a) * frac, a)
        out.append(np.where(cnt > 0, val, np.nan))
    return out[0], out[1]


def _fit_length(a: np.ndarray, n: int) -> np.ndarray:
    """Truncate, or extend with NaN (marked missing, not filled) to length ``n``."""
    if a.size >= n:
        return a[:n]
    return np.concatenate([a, np.full(n - a.size, np.nan)])


def _slot_of(pos: np.ndarray, seg_n: int, n_slots: int) -> np.ndarray:
    return np.minimum(pos // seg_n, n_slots - 1)


def segment_windows(starts: np.ndarray, window_n: int, max_lag_n: int, seg_n: int, n: int):
    """Windows whose lag reach ``[t_k - L, t_k + W + L)`` lies inside one segment slot.

    >>> segment_windows(np.arange(0, 12, 2), 2, 1, 6, 12)
    array([False,  True, False, False,  True, False])
    """
    lo = starts - max_lag_n
    hi = starts + window_n + max_lag_n  # exclusive
    slot = lo // seg_n
    slot_end = np.minimum((slot + 1) * seg_n, n)
    return (lo >= 0) & (hi <= slot_end)


def _segment_null(x, y, perms, *, seg_n, kw, statistic, band, many):
    """NOT OFFERED (miscalibrated, see the module docstring): random slot derangements.

    Null statistics for slot permutations ``perms`` (n, n_slots), using only the windows
    whose lag reach lies inside one segment, for data and surrogates alike. Every
    surrogate comes exactly from ``n_slots - 1`` kernel passes of ``x`` against ``y``
    rotated by whole segments. Kept for the calibration benchmark and its test.
    """
    n = x.size
    n_slots = perms.shape[1]
    pad = np.concatenate([y, np.full(n_slots * seg_n - n, np.nan)])
    rot = np.stack([np.roll(pad, -d * seg_n)[:n] for d in range(n_slots)])
    rot[0] = y
    stats = many(x, rot, **kw)  # (n_slots, n_windows) per key; row 0 is the data
    nk = stats["n_cells"].shape[1]
    starts = np.arange(nk) * kw["step_n"]
    used = segment_windows(starts, kw["window_n"], kw["max_lag_n"], seg_n, n)
    p_k = _slot_of(starts + kw["window_n"] // 2, seg_n, n_slots)
    d = (perms[:, p_k] - p_k[None, :]) % n_slots  # (n, nk) rotation per window
    cols = np.arange(nk)[None, :]
    keys = _NEEDS[statistic] + (("max_r",) if band == "peak_z" else ("max_abs_z",))
    picked = {k: stats[k][d, cols] for k in set(keys)}
    null = reduce_statistic(picked, used[None, :], statistic)
    data_stats = {k: v[0] for k, v in stats.items()}
    return data_stats, used, null, _band_values(picked, band)


def _batched_null(x, make_batch, n, *, kw, statistic, band, many, mask_for=None):
    nulls, bands = [], []
    for a in range(0, n, _BATCH):
        b = min(n, a + _BATCH)
        ys = make_batch(a, b)
        s = many(x, ys, **kw)
        m = np.ones_like(s["n_cells"], dtype=bool) if mask_for is None else mask_for(a, b)
        nulls.append(reduce_statistic(s, m, statistic))
        bv = _band_values(s, band)
        bands.append(np.where(m, bv, np.nan))
    return np.concatenate(nulls), np.concatenate(bands, axis=0)


def surrogate_test(
    x,
    y,
    *,
    fs: float,
    window: float,
    step: float,
    max_lag: float,
    method: str = "segment_shuffle",
    n_surrogates: int = 200,
    statistic: str = "mean_abs_z",
    random_state: int | np.random.Generator | None = None,
    lag_step: float | None = None,
    min_valid: float = 0.5,
    segment: float | None = None,
    min_shift: float | None = None,
    partners: Sequence | None = None,
    band: str = "peak_z",
    band_quantile: float = 0.95,
    max_iter: int = 200,
) -> xr.Dataset:
    """Test windowed cross-correlation synchrony against surrogates.

    Parameters
    ----------
    x, y : array_like or xarray.DataArray, shape (N,)
        The pair (``x`` the client, ``y`` the therapist), same length and ``fs``; NaN marks
        missing samples. ``y`` is the series the surrogates replace.
    fs, window, step, max_lag, lag_step, min_valid
        As :func:`synchrony.wcc` (seconds; converted once with ``round()``).
    method : {"segment_shuffle", "circular_shift", "phase", "iaaft", "pseudo_dyad"}
        How surrogates of ``y`` are made (see :mod:`synchrony.stats.surrogates`).
    n_surrogates : int
        Number of surrogates (``"pseudo_dyad"``: at most ``len(partners)``, each used once;
        ``"segment_shuffle"``: at most ``n_segments - 1``, each rotation once).
    statistic : {"mean_abs_z", "peak", "lead", "follow", "lead_minus_follow"}
        Computed identically on the data and on every surrogate (see :data:`STATISTICS`).
    random_state : int, numpy.random.Generator or None
        Source of all randomness.
    segment : float, optional
        ``"segment_shuffle"`` segment length in seconds, longer than ``window + 2·max_lag``
        (default: the shortest giving a multiple of 20 segments, see the module docstring).
        The segments are rotated (cyclic derangement), so at most ``n_segments - 1``
        surrogates exist.
    min_shift : float, optional
        ``"circular_shift"`` minimum shift in seconds, larger than ``window + 2·max_lag``
        (default: that plus one sample).
    partners : sequence of array_like, optional
        ``"pseudo_dyad"``: ``y`` series of other sessions on the same grid; each is cut, or
        extended with NaN (missing, never filled), to the length of ``y``.
    band : {"peak_z", "max_abs_z"}
        The per-window quantity banded by ``null_lo``/``null_hi``.
    band_quantile : float
        Central coverage of the band (0.95: the 2.5 % and 97.5 % quantiles).
    max_iter : int
        ``"iaaft"`` iteration limit.

    Returns
    -------
    xarray.Dataset
        ``statistic`` (scalar), ``null`` (surrogate), ``p_value``, ``effect_size``,
        ``null_lo``/``null_hi`` (time), ``used`` (time; windows entering the statistic),
        with coordinates ``time`` (window centres, as :func:`synchrony.wcc`) and
        ``window_start``; attrs record the method, statistic, band, quantiles, segment
        length, minimum shift, windows used and why, and ``random_state``.

    Examples
    --------
    >>> rng = np.random.default_rng(0)
    >>> x = rng.normal(size=2400); y = rng.normal(size=2400)
    >>> t = surrogate_test(x, y, fs=4.0, window=15, step=1, max_lag=2, n_surrogates=19,
    ...                    random_state=1)
    >>> sorted(t.data_vars)[:4], t.sizes["surrogate"]
    (['effect_size', 'null', 'null_hi', 'null_lo'], 19)
    >>> bool(0 < float(t.p_value) <= 1)
    True
    """
    if method not in METHODS:
        raise ConfigError(f"surrogate_test: method must be one of {METHODS}, found {method!r}")
    if statistic not in STATISTICS:
        raise ConfigError(
            f"surrogate_test: statistic must be one of {tuple(STATISTICS)}, found {statistic!r}")
    if band not in BANDS:
        raise ConfigError(f"surrogate_test: band must be one of {BANDS}, found {band!r}")
    if not 0.0 < band_quantile < 1.0:
        raise ConfigError(f"band_quantile: expected a number in (0, 1), found {band_quantile!r}")
    n_sur = _sur._count(n_surrogates)
    xv, t0 = _as_series(x, "x")
    yv, _ = _as_series(y, "y")
    if xv.size != yv.size:
        raise InputError(f"surrogate_test: x and y must have the same length, found {xv.size} "
                         f"and {yv.size}")
    _, many, to_samples = _kernel()
    try:
        w_n, s_n, l_n, d_n = to_samples(fs, window, step, max_lag, lag_step)
    except ValueError as exc:
        raise ConfigError(f"surrogate_test: {exc}") from exc
    n = xv.size
    if n < w_n:
        raise InputError(f"surrogate_test: the series has {n} samples, fewer than one window "
                         f"({w_n} samples)")
    kw = dict(window_n=w_n, step_n=s_n, max_lag_n=l_n, lag_step_n=d_n, min_valid=min_valid)
    rng = _sur.as_generator(random_state)
    reach = w_n + 2 * l_n
    attrs: dict = {}
    used = None

    if method == "segment_shuffle":
        if segment is None:
            # the largest multiple of 20 segments longer than the lag reach, so that
            # p = 0.05 is attainable and the size at alpha = 0.05 is exactly 0.05
            k_fit = n // (reach + 1)
            seg_n = -(-n // (20 * (k_fit // 20))) if k_fit >= 20 else reach + 1
        else:
            seg_n = int(round(segment * fs))
            if seg_n <= reach:
                raise ConfigError(
                    f"surrogate_test: segment={segment} s ({seg_n} samples) must exceed window + "
                    f"2·max_lag ({reach} samples), so that no surrogate pairs a window with "
                    "partner data its own lags reach")
        n_slots = -(-n // seg_n)
        if n_slots < 2:
            raise InputError(
                f"surrogate_test: the series ({n} samples) holds fewer than 2 segments of "
                f"{seg_n} samples; use a shorter segment")
        if n_sur >= n_slots - 1:
            rot = np.arange(1, n_slots)
            if n_sur > n_slots - 1:
                logger.info("surrogate_test: %d surrogates asked, %d cyclic derangements of %d "
                            "segments exist; using all of them", n_sur, n_slots - 1, n_slots)
        else:
            rot = np.sort(rng.choice(np.arange(1, n_slots), size=n_sur, replace=False))
        pad = np.concatenate([yv, np.full(n_slots * seg_n - n, np.nan)])
        data_stats = {k: v[0] for k, v in many(xv, yv[None, :], **kw).items()}
        nk = data_stats["n_cells"].size
        starts = np.arange(nk) * s_n
        used = np.ones(nk, dtype=bool)

        def make(a, b):
            return np.stack([np.roll(pad, -int(d) * seg_n)[:n] for d in rot[a:b]])

        def mask_for(a, b):
            # the join: last sample of y at n - d*seg - 1, its first at (K - d)*seg, with
            # the NaN remainder pad between; leave out windows whose reach meets it
            d = rot[a:b, None]
            first = n - d * seg_n        # first position after y's last sample
            last = (n_slots - d) * seg_n - 1  # last position before y's first sample
            lo = starts[None, :] - l_n
            hi = starts[None, :] + w_n + l_n - 1
            return ~((hi >= first) & (lo <= last) | ((lo <= first - 1) & (hi >= last + 1)))

        null, band_vals = _batched_null(xv, make, rot.size, kw=kw, statistic=statistic,
                                        band=band, many=many, mask_for=mask_for)
        attrs.update(segment_s=seg_n / fs, segment_n=seg_n, n_segments=n_slots,
                     n_surrogates_requested=n_sur, derangement="cyclic",
                     segment_shifts=rot.tolist(),
                     windows_used=("data: every window; each surrogate: every window whose lag "
                                   "reach does not meet its one join (y's end, the NaN-extended "
                                   "remainder, y's start)"))
    elif method in METHODS:
        data_stats = {k: v[0] for k, v in many(xv, yv[None, :], **kw).items()}
        nk = data_stats["n_cells"].size
        starts = np.arange(nk) * s_n
        used = np.ones(nk, dtype=bool)
        if method == "circular_shift":
            if min_shift is None:
                ms_n = reach + 1
            else:
                ms_n = int(round(min_shift * fs))
                if ms_n <= reach:
                    raise ConfigError(
                        f"surrogate_test: min_shift={min_shift} s ({ms_n} samples) must exceed "
                        f"window + 2·max_lag ({reach} samples)")
            shifts = _sur.draw_shifts(n_sur, n, ms_n, random_state=rng)

            def make(a, b):
                return np.stack([np.roll(yv, int(d)) for d in shifts[a:b]])

            def mask_for(a, b):
                d = shifts[a:b, None]
                return ~((starts[None, :] - l_n < d) & (d < starts[None, :] + w_n + l_n))

            null, band_vals = _batched_null(xv, make, n_sur, kw=kw, statistic=statistic,
                                            band=band, many=many, mask_for=mask_for)
            attrs.update(min_shift_s=ms_n / fs, min_shift_n=ms_n,
                         windows_used=("data: every window; each surrogate: every window whose "
                                       "lag reach does not contain its wrap-around join"))
        elif method in ("phase", "iaaft"):
            gen = _sur.phase_randomise if method == "phase" else _sur.iaaft
            extra = {} if method == "phase" else {"max_iter": max_iter}

            def make(a, b):
                return gen(yv, n_surrogates=b - a, random_state=rng, **extra)

            null, band_vals = _batched_null(xv, make, n_sur, kw=kw, statistic=statistic,
                                            band=band, many=many)
            attrs.update(windows_used="every window (surrogates keep the gaps and have no joins)")
        elif method == "pseudo_dyad":
            if not partners:
                raise ConfigError("surrogate_test: method='pseudo_dyad' needs partners=[...], the "
                                  "y series of other sessions")
            ps = [_as_series(p, f"partners[{i}]")[0] for i, p in enumerate(partners)]
            if n_sur < len(ps):
                pick = np.sort(rng.choice(len(ps), size=n_sur, replace=False))
                ps = [ps[i] for i in pick]
            n_sur = len(ps)
            ys = np.stack([_fit_length(p, n) for p in ps])
            null, band_vals = _batched_null(xv, lambda a, b: ys[a:b], n_sur, kw=kw,
                                            statistic=statistic, band=band, many=many)
            attrs.update(windows_used="every window (partners are whole series from other "
                                      "sessions, cut or NaN-extended to this length)")
        else:  # pragma: no cover - guarded above
            raise ConfigError(f"surrogate_test: unknown method {method!r}; valid: {METHODS}")

    stat = float(reduce_statistic(data_stats, used, statistic))
    finite = null[np.isfinite(null)]
    if finite.size < null.size:
        logger.info("surrogate_test: %d of %d surrogate statistics are NaN (no valid cells)",
                    null.size - finite.size, null.size)
    if np.isfinite(stat) and finite.size:
        p_value = (1.0 + np.count_nonzero(finite >= stat)) / (1.0 + finite.size)
        sd = finite.std(ddof=1) if finite.size > 1 else np.nan
        effect = (stat - finite.mean()) / sd if sd > 0 else np.nan
    else:
        p_value = effect = np.nan
    lo, hi = _quantiles(band_vals, band_quantile)
    nk = lo.size
    time = t0 + (np.arange(nk) * s_n + w_n / 2.0) / fs
    ds = xr.Dataset(
        {
            "statistic": ((), stat),
            "null": (("surrogate",), null),
            "p_value": ((), float(p_value)),
            "effect_size": ((), float(effect)),
            "null_lo": (("time",), lo),
            "null_hi": (("time",), hi),
            "used": (("time",), used),
        },
        coords={"time": time, "window_start": ("time", t0 + np.arange(nk) * s_n / fs),
                "surrogate": np.arange(null.size)},
    )
    rs = random_state if isinstance(random_state, (int, np.integer)) else (
        "None" if random_state is None else "numpy.random.Generator (state not recorded)")
    ds.attrs.update(
        method=method, statistic=statistic, statistic_description=STATISTICS[statistic][1],
        n_surrogates=int(null.size), n_surrogates_finite=int(finite.size),
        band=band, band_description=("Fisher z of the largest r over lags, per window" if
                                     band == "peak_z" else "largest |Fisher z| over lags"),
        band_quantile=band_quantile, quantile_lo=(1 - band_quantile) / 2,
        quantile_hi=1 - (1 - band_quantile) / 2, n_windows_used=int(used.sum()),
        p_value_rule="(1 + #{null >= statistic}) / (1 + n finite surrogates)",
        effect_size_rule="(statistic - mean(null)) / sd(null, ddof=1)",
        random_state=rs if isinstance(rs, str) else int(rs), fs=float(fs),
        window_s=w_n / fs, step_s=s_n / fs, max_lag_s=l_n / fs, lag_step_s=d_n / fs,
        window_n=w_n, step_n=s_n, max_lag_n=l_n, lag_step_n=d_n, min_valid=min_valid,
        lag_convention="lag > 0: x leads, y follows (x at t paired with y at t + lag)",
        surrogate_of="y",
        **attrs,
    )
    return ds
