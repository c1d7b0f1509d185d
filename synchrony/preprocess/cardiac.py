"""Heart rate (and optional windowed HRV) on an even grid from ECG, PPG/BVP, beat lists or a device HR stream.

Pipeline (each step named in the output's attributes):

1. **Beats.** ECG: ``neurokit2.ecg_clean`` + ``ecg_findpeaks`` (method ``"neurokit"``);
   PPG/BVP: ``neurokit2.ppg_clean`` + ``ppg_findpeaks`` (Elgendi et al. 2013). Each
   peak is refined to sub-sample precision by a parabola through the peak sample
   and its two neighbours (at 64 Hz a sample is 15.6 ms, which alone would give
   ±1.5 bpm of beat-to-beat noise at 75 bpm). Beat lists (``ibi``: E4 IBI.csv,
   EmbracePlus systolic peaks, Polar RR/PPI) are used as given: interval ``j``
   spans ``[time_j - ibi_j, time_j]``.
2. **Correction.** Beats are split into runs wherever no beat occurs for longer
   than ``max_gap`` (so a correction never invents beats across a gap); each run
   of at least 8 beats is corrected with neurokit2's Kubios-style
   ``signal_fixpeaks`` (Lipponen & Tarvainen 2019), applied non-iteratively up to
   ``fix_iterations`` times until nothing changes. A corrected beat is one that is
   not an original beat (moved or inserted); a deleted beat counts once. Where at
   least ``max_corrected_run`` corrected beats follow each other the correction
   is guessing: the intervals they bound are marked artefact (code 2). So is an
   interval more than ``max_deviation`` (30 %) away from the median of the 11
   intervals around it (what Kubios' adaptive thresholds let through when a
   whole wrist-PPG stretch is noisy).
3. **Grid.** Instantaneous heart rate ``60 / IBI`` is placed at each interval's
   midpoint and interpolated linearly between the midpoints of adjacent valid
   intervals, never across a beat-free stretch longer than ``max_gap``
   (:func:`synchrony.preprocess.grid.beats_to_grid`). Rates outside ``hr_range``
   are code 3. A device HR stream is resampled linearly between samples at most
   ``max_gap`` apart.
4. **HRV (optional).** ``rmssd`` (ms): root mean square of successive IBI
   differences of the beats within a centred window of ``rmssd_window`` s;
   ``rsa`` (ln ms²): log power in ``rsa_band`` (Hz) of the IBI series (from the
   grid's heart rate) in a centred window of ``rsa_window`` s (linear detrend,
   Hann taper). Both are computed at every grid instant and are NaN (gap) when
   less than ``hrv_min_valid`` of the window (RMSSD) or any of it (RSA) lacks
   valid heart rate.
"""
from __future__ import annotations

import logging

import numpy as np
import xarray as xr

from ..errors import ConfigError, InputError
from .grid import (
    ARTEFACT,
    GAP,
    OUT_OF_RANGE,
    VALID,
    attr_value,
    beats_to_grid,
    recording_grid,
    regular_to_grid,
    runs,
    series_dataset,
)

__all__ = ["heart_rate", "detect_beats", "correct_beats", "HEART_SOURCES"]

logger = logging.getLogger("synchrony")

#: Heart sources in the order ``source="auto"`` prefers them.
HEART_SOURCES = ("ecg", "bvp", "ibi", "hr")

_FIX_RATE = 1000.0  # Hz: beat instants are handed to signal_fixpeaks as millisecond indices
_MIN_FIX_BEATS = 8
_ADJ_TOL = 0.02  # s: an interval starting within 20 ms of the previous one's end follows it


def _stream(rec: xr.DataTree, name: str) -> xr.Dataset | None:
    if name not in rec.children:
        return None
    ds = rec[name].to_dataset()
    return ds if ds.sizes.get("time", 0) > 0 else None


def _values(ds: xr.Dataset, name: str, source: str) -> np.ndarray:
    if name in ds.data_vars:
        return np.asarray(ds[name].values, np.float64)
    one_d = [v for v in ds.data_vars if ds[v].dims == ("time",)]
    if len(one_d) == 1:
        return np.asarray(ds[one_d[0]].values, np.float64)
    raise InputError(
        f"{source}: stream {name!r}: expected a variable named {name!r} (or exactly one variable along time), "
        f"found {sorted(ds.data_vars)}"
    )


def _source_of(rec: xr.DataTree) -> str:
    return str(rec.attrs.get("source", "recording"))


def choose_heart_source(rec: xr.DataTree, source: str = "auto") -> str:
    """The heart stream to use: ``source`` itself, or for ``"auto"`` the first of ecg > bvp > ibi > hr present."""
    have = [n for n in rec.children if _stream(rec, n) is not None]
    if source == "auto":
        for name in HEART_SOURCES:
            if name in have:
                return name
        raise InputError(
            f"{_source_of(rec)}: no heart stream to compute heart rate from; expected one of "
            f"{', '.join(HEART_SOURCES)}, found streams {have or 'none'}"
        )
    if source not in HEART_SOURCES:
        raise ConfigError(f"source: expected 'auto' or one of {', '.join(HEART_SOURCES)}, found {source!r}")
    if source not in have:
        raise InputError(
            f"{_source_of(rec)}: heart source {source!r} requested but the recording has no such stream "
            f"(streams: {have or 'none'})"
        )
    return source


def _refine(x: np.ndarray, idx: np.ndarray) -> np.ndarray:
    """Sub-sample peak positions by a parabola through each peak and its neighbours."""
    idx = np.asarray(idx, np.int64)
    pos = idx.astype(np.float64)
    ok = (idx > 0) & (idx < x.size - 1)
    i = idx[ok]
    a, b, c = x[i - 1], x[i], x[i + 1]
    den = a - 2 * b + c
    with np.errstate(divide="ignore", invalid="ignore"):
        d = np.where(den < 0, 0.5 * (a - c) / den, 0.0)
    pos[ok] += np.clip(d, -0.5, 0.5)
    return pos


def detect_beats(signal: np.ndarray, time: np.ndarray, fs: float, kind: str) -> np.ndarray:
    """Beat instants (s, on ``time``'s clock) detected in an ECG or PPG signal.

    Each finite stretch of at least 5 s is cleaned and searched separately
    (non-finite samples are never filled).

    Parameters
    ----------
    signal : array
        The raw ECG or PPG/BVP samples.
    time : array
        Their instants (s), evenly spaced at ``fs``.
    fs : float
        Sampling rate (Hz).
    kind : {"ecg", "bvp"}
        Which detector to use.

    Examples
    --------
    >>> import neurokit2 as nk
    >>> ecg = nk.ecg_simulate(duration=20, sampling_rate=250, heart_rate=60, random_state=1)
    >>> beats = detect_beats(ecg, np.arange(ecg.size) / 250, 250, "ecg")
    >>> bool(abs(np.median(np.diff(beats)) - 1.0) < 0.05)
    True
    """
    import neurokit2 as nk

    x = np.asarray(signal, np.float64)
    starts, stops = runs(np.isfinite(x))
    out = []
    for a, b in zip(starts, stops):
        if (b - a) < 5 * fs:
            continue
        seg = x[a:b]
        if kind == "ecg":
            clean = np.asarray(nk.ecg_clean(seg, sampling_rate=fs, method="neurokit"), np.float64)
            peaks = nk.ecg_findpeaks(clean, sampling_rate=fs, method="neurokit")["ECG_R_Peaks"]
        elif kind == "bvp":
            clean = np.asarray(nk.ppg_clean(seg, sampling_rate=fs, method="elgendi"), np.float64)
            peaks = nk.ppg_findpeaks(clean, sampling_rate=fs, method="elgendi")["PPG_Peaks"]
        else:
            raise ConfigError(f"kind: expected 'ecg' or 'bvp', found {kind!r}")
        peaks = np.unique(np.asarray(peaks, np.int64))
        if peaks.size == 0:
            continue
        pos = _refine(clean, peaks)
        out.append(time[a] + pos / fs)
    return np.concatenate(out) if out else np.empty(0)


def correct_beats(beats: np.ndarray, *, max_iterations: int = 3) -> tuple[np.ndarray, np.ndarray, int]:
    """Correct one run of consecutive beats with neurokit2's Kubios-style ``signal_fixpeaks``.

    Parameters
    ----------
    beats : array
        Beat instants (s) of one uninterrupted run.
    max_iterations : int
        Passes of ``signal_fixpeaks(iterative=False)``; stops early when a pass changes nothing.

    Returns
    -------
    corrected : array
        Corrected beat instants (s).
    is_new : array of bool
        Which corrected beats are not original beats (moved or inserted).
    n_corrected : int
        Beats moved, inserted or deleted.

    Examples
    --------
    >>> rng = np.random.default_rng(0)
    >>> b = np.cumsum(0.8 + rng.normal(0, 0.02, 120))
    >>> planted = np.delete(b, 60)          # one missed beat
    >>> fixed, new, n = correct_beats(planted)
    >>> fixed.size == b.size and n >= 1
    True
    """
    import neurokit2 as nk

    beats = np.asarray(beats, np.float64)
    if beats.size < _MIN_FIX_BEATS:
        return beats, np.zeros(beats.size, bool), 0
    base = beats[0]
    orig = np.round((beats - base) * _FIX_RATE).astype(np.int64)
    cur = orig
    for _ in range(max_iterations):
        try:
            _, fixed = nk.signal_fixpeaks(cur, sampling_rate=_FIX_RATE, iterative=False, method="Kubios")
        except Exception as exc:  # neurokit2 can fail on odd short runs; keep the beats as they are
            logger.debug("signal_fixpeaks failed on a run of %d beats: %s", cur.size, exc)
            break
        fixed = np.unique(np.asarray(fixed, np.int64))
        if fixed.size == cur.size and np.array_equal(fixed, cur):
            break
        cur = fixed
    is_new = ~np.isin(cur, orig)
    kept = int(cur.size - is_new.sum())
    n_corrected = max(cur.size, orig.size) - kept
    # beats that were not moved keep their exact (sub-sample) instants
    out = base + cur / _FIX_RATE
    out[~is_new] = beats[np.searchsorted(orig, cur[~is_new])]
    return out, is_new, int(n_corrected)


def _beat_intervals(runs_of_beats, runs_new, max_corrected_run: int):
    """Intervals (start, end, untrusted) from runs of consecutive beats."""
    s_all, e_all, bad_all = [], [], []
    for b, new in zip(runs_of_beats, runs_new):
        if b.size < 2:
            continue
        bad_beat = np.zeros(b.size, bool)
        if max_corrected_run > 0 and new.any():
            a, z = runs(new)
            for lo, hi in zip(a, z):
                if hi - lo >= max_corrected_run:
                    bad_beat[lo:hi] = True
        s_all.append(b[:-1])
        e_all.append(b[1:])
        bad_all.append(bad_beat[:-1] | bad_beat[1:])
    if not s_all:
        return np.empty(0), np.empty(0), np.empty(0, bool)
    return np.concatenate(s_all), np.concatenate(e_all), np.concatenate(bad_all)


def _split_runs(beats: np.ndarray, max_gap: float) -> list[np.ndarray]:
    if beats.size == 0:
        return []
    cut = np.flatnonzero(np.diff(beats) > max_gap) + 1
    return np.split(beats, cut)


def _ibi_runs(t: np.ndarray, ibi: np.ndarray, max_gap: float) -> list[np.ndarray]:
    """Runs of consecutive beats from a beat list: interval j spans [t_j - ibi_j, t_j]."""
    ok = np.isfinite(t) & np.isfinite(ibi) & (ibi > 0)
    t, ibi = t[ok], ibi[ok]
    order = np.argsort(t, kind="stable")
    t, ibi = t[order], ibi[order]
    out, cur = [], []
    for tj, ij in zip(t, ibi):
        start = tj - ij
        if cur and abs(start - cur[-1]) <= _ADJ_TOL and ij <= max_gap:
            cur.append(tj)
        else:
            if len(cur) >= 2:
                out.append(np.array(cur))
            cur = [start, tj] if ij <= max_gap else []
            if ij > max_gap:  # an interval longer than max_gap is itself a gap
                cur = [tj]
    if len(cur) >= 2:
        out.append(np.array(cur))
    return out


def _deviant(s, e, max_deviation):
    """Intervals deviating from the median of the 11 around them (within a run) by more than max_deviation."""
    from scipy.ndimage import median_filter

    out = np.zeros(s.size, bool)
    if not max_deviation or s.size == 0:
        return out
    brk = np.flatnonzero(np.abs(s[1:] - e[:-1]) > _ADJ_TOL) + 1
    for idx in np.split(np.arange(s.size), brk):
        if idx.size < 5:
            continue
        ibi = e[idx] - s[idx]
        med = median_filter(ibi, size=11, mode="nearest")
        out[idx] = np.abs(ibi - med) > max_deviation * med
    return out


def _interval_codes(s, e, bad, hr_range, max_gap, max_deviation=None):
    with np.errstate(divide="ignore"):
        v = 60.0 / (e - s)
    c = np.zeros(s.size, np.uint8)
    c[bad | _deviant(s, e, max_deviation)] = ARTEFACT
    c[(v < hr_range[0]) | (v > hr_range[1])] = OUT_OF_RANGE
    c[(e - s) > max_gap] = GAP
    return c


def _rmssd(s, e, c, grid, hr_ok, fs, window, min_valid):
    """RMSSD (ms) in a centred window at every grid instant."""
    out = np.full(grid.shape, np.nan)
    q = np.full(grid.shape, GAP, np.uint8)
    ibi = (e - s) * 1000.0
    pair = (c[:-1] == VALID) & (c[1:] == VALID) & (np.abs(s[1:] - e[:-1]) <= _ADJ_TOL)
    d2 = np.where(pair, np.diff(ibi) ** 2, 0.0)
    at = e[:-1]  # the beat the two intervals share
    cs = np.concatenate(([0.0], np.cumsum(d2)))
    cn = np.concatenate(([0], np.cumsum(pair)))
    lo = np.searchsorted(at, grid - window / 2, side="left")
    hi = np.searchsorted(at, grid + window / 2, side="left")
    n = cn[hi] - cn[lo]
    half = int(round(window * fs / 2))
    cov = np.concatenate(([0], np.cumsum(hr_ok)))
    idx = np.arange(grid.size)
    a = idx - half
    b = idx + half + 1
    inside = (a >= 0) & (b <= grid.size)
    frac = np.zeros(grid.size)
    frac[inside] = (cov[b[inside]] - cov[a[inside]]) / (b[inside] - a[inside])
    ok = inside & (frac >= min_valid) & (n >= 2)
    out[ok] = np.sqrt((cs[hi] - cs[lo])[ok] / n[ok])
    q[ok] = VALID
    return out, q


def _rsa(hr, fs, window, band):
    """ln HF power (ln ms²) of the IBI series in a centred window at every grid instant."""
    n = hr.size
    out = np.full(n, np.nan)
    q = np.full(n, GAP, np.uint8)
    w = int(round(window * fs))
    if w < 8 or n < w:
        return out, q
    ibi = 60000.0 / hr  # ms, NaN where hr is NaN
    from numpy.lib.stride_tricks import sliding_window_view

    view = sliding_window_view(ibi, w)  # window k covers [k, k+w)
    centre = np.arange(view.shape[0]) + w // 2
    taper = np.hanning(w)
    scale = 2.0 / (fs * np.sum(taper**2))
    freqs = np.fft.rfftfreq(w, 1.0 / fs)
    sel = (freqs >= band[0]) & (freqs <= band[1])
    df = fs / w
    tt = np.arange(w) - (w - 1) / 2
    tt2 = np.sum(tt**2)
    for k0 in range(0, view.shape[0], 2048):
        blk = view[k0:k0 + 2048]
        good = np.all(np.isfinite(blk), axis=1)
        if not good.any():
            continue
        y = blk[good]
        y = y - y.mean(axis=1, keepdims=True)
        y = y - np.outer(y @ tt / tt2, tt)
        p = np.abs(np.fft.rfft(y * taper, axis=1)) ** 2 * scale
        hf = p[:, sel].sum(axis=1) * df
        with np.errstate(divide="ignore"):
            val = np.log(hf)
        cidx = centre[k0:k0 + 2048][good]
        out[cidx] = val
        q[cidx] = np.where(np.isfinite(val), VALID, GAP)
    return out, q


def heart_rate(
    rec: xr.DataTree,
    *,
    source: str = "auto",
    fs_out: float = 4.0,
    max_gap: float = 3.0,
    fix_peaks: bool = True,
    hr_range=(30.0, 220.0),
    max_corrected_run: int = 3,
    fix_iterations: int = 3,
    max_deviation: float | None = 0.3,
    hrv: bool = False,
    rmssd_window: float = 30.0,
    rsa_window: float = 60.0,
    rsa_band=(0.15, 0.4),
    hrv_min_valid: float = 0.5,
) -> xr.Dataset:
    """Instantaneous heart rate of one recording on an even grid, with its quality mask.

    Parameters
    ----------
    rec : xarray.DataTree
        A Recording (:mod:`synchrony.recording`).
    source : str
        ``"auto"`` (default: ecg > bvp > ibi > hr, the first the recording has) or
        one of ``"ecg"``, ``"bvp"``, ``"ibi"``, ``"hr"``.
    fs_out : float
        Grid rate in Hz (default 4). The grid is ``k / fs_out`` seconds from the
        recording's ``start_utc`` up to the end of its latest stream.
    max_gap : float
        Longest beat-free stretch (s) that is interpolated across (default 3);
        longer stretches are NaN with code 1.
    fix_peaks : bool
        Correct beats with neurokit2's Kubios-style ``signal_fixpeaks`` (default True).
    hr_range : (float, float)
        Plausible heart rate in bpm (default 30-220); beyond it: code 3.
    max_corrected_run : int
        This many or more consecutive corrected beats mark their intervals as
        artefact, code 2 (default 3; 0 switches it off).
    fix_iterations : int
        Passes of the beat correction (default 3).
    max_deviation : float or None
        After correction, an interval differing from the median of the 11
        intervals around it by more than this fraction is an artefact, code 2
        (default 0.3: beat-to-beat changes of 30 % are not physiological at rest
        and are what wrist PPG under motion produces; None switches it off).
    hrv : bool
        Also compute ``rmssd`` (ms) and ``rsa`` (ln ms²) (default False; needs beats,
        so not from a device ``hr`` stream).
    rmssd_window, rsa_window : float
        Centred window lengths in s (defaults 30 and 60).
    rsa_band : (float, float)
        High-frequency band in Hz (default 0.15-0.4, the respiratory band).
    hrv_min_valid : float
        Fraction of an RMSSD window that must have valid heart rate (default 0.5).

    Returns
    -------
    xarray.Dataset
        Dim ``time`` (s from attribute ``start_utc``), variables ``hr`` (bpm, NaN
        where invalid) and ``hr_quality`` (uint8 codes; attribute
        ``quality_codes``), plus ``rmssd``/``rsa`` and their quality when ``hrv``.
        Attributes: every parameter, ``source``, ``n_beats`` (detected),
        ``n_corrected_beats``, and ``method_*`` descriptions.

    Examples
    --------
    >>> import numpy as np
    >>> from synchrony.recording import make_stream, make_recording
    >>> t0 = "2024-01-01T10:00:00Z"
    >>> beats = 5.0 + np.arange(1, 121) * 0.75                # 80 bpm from 5 s to 95 s
    >>> ibi = make_stream({"ibi": np.full(120, 0.75)}, beats, start_utc=t0, time_origin_utc=t0,
    ...                   fs=None, units="s", device="test", source="doctest")
    >>> rec = make_recording({"ibi": ibi}, start_utc=t0, device="test", source="doctest")
    >>> ds = heart_rate(rec)
    >>> float(np.nanmedian(ds.hr)), ds.attrs["source"], int(ds.hr_quality[0])
    (80.0, 'ibi', 1)
    """
    lo, hi = (float(v) for v in hr_range)
    if not (0 < lo < hi):
        raise ConfigError(f"hr_range: expected (low, high) bpm with 0 < low < high, found {hr_range!r}")
    if not (np.isfinite(max_gap) and max_gap > 0):
        raise ConfigError(f"max_gap: expected a positive number of seconds, found {max_gap!r}")
    name = choose_heart_source(rec, source)
    ds = _stream(rec, name)
    grid = recording_grid(rec, fs_out)
    src = _source_of(rec)
    n_beats = n_corrected = 0
    s = e = c = None
    if name == "hr":
        x = _values(ds, "hr", src)
        code = np.zeros(x.size, np.uint8)
        code[~np.isfinite(x)] = GAP
        code[np.isfinite(x) & ((x < lo) | (x > hi))] = OUT_OF_RANGE
        hr, q = regular_to_grid(ds["time"].values, x, code, grid, max_gap=max_gap)
        method = "device heart-rate stream, linear between samples at most max_gap apart"
    else:
        if name == "ibi":
            beat_runs = _ibi_runs(np.asarray(ds["time"].values, np.float64), _values(ds, "ibi", src), max_gap)
            n_beats = int(ds.sizes["time"])
            method = "device beat list (interval j spans [time_j - ibi_j, time_j])"
        else:
            fs_in = ds.attrs.get("fs")
            if not fs_in:
                raise InputError(f"{src}: stream {name!r} has no 'fs' attribute; expected its sampling rate in Hz")
            beats = detect_beats(_values(ds, name, src), np.asarray(ds["time"].values, np.float64),
                                 float(fs_in), name)
            n_beats = int(beats.size)
            beat_runs = _split_runs(beats, max_gap)
            method = ("neurokit2 ecg_clean + ecg_findpeaks (neurokit)" if name == "ecg"
                      else "neurokit2 ppg_clean + ppg_findpeaks (elgendi)") + ", parabolic sub-sample refinement"
        news = []
        if fix_peaks:
            fixed_runs = []
            for b in beat_runs:
                fb, new, nc = correct_beats(b, max_iterations=fix_iterations)
                fixed_runs.append(fb)
                news.append(new)
                n_corrected += nc
            beat_runs = fixed_runs
        else:
            news = [np.zeros(b.size, bool) for b in beat_runs]
        s, e, bad = _beat_intervals(beat_runs, news, max_corrected_run if fix_peaks else 0)
        c = _interval_codes(s, e, bad, (lo, hi), max_gap, max_deviation)
        hr, q = beats_to_grid(s, e, c, grid, max_gap=max_gap)
    variables = {"hr": (hr, q, {"units": "bpm", "long_name": "instantaneous heart rate", "source": name})}
    if hrv:
        if s is None:
            raise InputError(
                f"{src}: rmssd/rsa need beats (an ecg, bvp or ibi stream); heart source {name!r} is a rate stream"
            )
        rm, rq = _rmssd(s, e, c, grid, (q == VALID), fs_out, rmssd_window, hrv_min_valid)
        hr_valid = np.where(q == VALID, hr, np.nan)
        rs, rsq = _rsa(hr_valid, fs_out, rsa_window, rsa_band)
        variables["rmssd"] = (rm, rq, {"units": "ms", "long_name": f"RMSSD in a centred {rmssd_window:g} s window",
                                       "source": name})
        variables["rsa"] = (rs, rsq, {"units": "ln(ms^2)", "source": name,
                                      "long_name": f"ln HF power {rsa_band[0]:g}-{rsa_band[1]:g} Hz of IBI "
                                                   f"in a centred {rsa_window:g} s window"})
    attrs = {
        "source": name,
        "fs_out": float(fs_out),
        "max_gap": float(max_gap),
        "fix_peaks": attr_value(fix_peaks),
        "hr_range": [lo, hi],
        "max_corrected_run": int(max_corrected_run),
        "fix_iterations": int(fix_iterations),
        "max_deviation": attr_value(max_deviation),
        "hrv": attr_value(hrv),
        "rmssd_window": float(rmssd_window),
        "rsa_window": float(rsa_window),
        "rsa_band": [float(v) for v in rsa_band],
        "hrv_min_valid": float(hrv_min_valid),
        "n_beats": int(n_beats),
        "n_corrected_beats": int(n_corrected),
        "method_beats": method,
        "method_correction": ("neurokit2 signal_fixpeaks (Kubios, Lipponen & Tarvainen 2019) per run of "
                              "beats split at gaps > max_gap" if fix_peaks and name != "hr" else "none"),
        "method_interpolation": ("60/IBI at each interval midpoint, linear between adjacent valid intervals, "
                                 "held inside an interval, never across > max_gap without beats"
                                 if name != "hr" else "linear between device samples at most max_gap apart"),
    }
    return series_dataset(grid, variables, start_utc=rec.attrs["start_utc"], fs=fs_out, attrs=attrs)
