"""Even time grids, gap-aware resampling and the quality codes.

Every analysis series lives on an even grid ``time = k / fs`` (seconds) whose
``time = 0`` is an absolute instant (attribute ``start_utc``). Beside each series
``<mod>`` sits ``<mod>_quality`` (uint8) saying why a sample is invalid; the
series is NaN exactly where its code is non-zero.

Quality codes
-------------
0 = valid; 1 = gap (no data / no beats for longer than ``max_gap``, or outside
the recording); 2 = artefact (sensor off or flat line, abrupt jump, a corrected
region that cannot be trusted); 3 = out of range; 4 = outside the device overlap
(only in a dyad).

Resampling never bridges a gap longer than ``max_gap`` seconds and never
extrapolates:

>>> import numpy as np
>>> t = np.array([0.0, 1.0, 2.0, 10.0, 11.0])
>>> x = np.array([1.0, 2.0, 3.0, 4.0, 5.0])
>>> v, q = regular_to_grid(t, x, np.zeros(5, np.uint8), np.array([0.0, 1.5, 4.0, 6.0, 10.5, 12.0]), max_gap=3.0)
>>> v
array([1. , 2.5, nan, nan, 4.5, nan])
>>> q.tolist()
[0, 0, 1, 1, 0, 1]
"""
from __future__ import annotations

import numpy as np
import xarray as xr

from ..errors import InputError
from ..recording import utc_from_unix, utc_to_unix

#: longest span one recording may cover (7 days): beyond it a start time is wrong, not the session long
MAX_RECORDING_S = 7 * 86400.0

__all__ = [
    "VALID",
    "GAP",
    "ARTEFACT",
    "OUT_OF_RANGE",
    "OUTSIDE_OVERLAP",
    "QUALITY_CODES",
    "QUALITY_LEGEND",
    "recording_span",
    "recording_grid",
    "regular_to_grid",
    "beats_to_grid",
    "runs",
    "dilate",
    "series_dataset",
]

VALID = np.uint8(0)
GAP = np.uint8(1)
ARTEFACT = np.uint8(2)
OUT_OF_RANGE = np.uint8(3)
OUTSIDE_OVERLAP = np.uint8(4)

QUALITY_CODES: dict[int, str] = {
    0: "valid",
    1: "gap (no data or no beats for longer than max_gap, or outside the recording)",
    2: "artefact (sensor off / flat line, abrupt jump, or a corrected region that cannot be trusted)",
    3: "out of range",
    4: "outside the device overlap",
}
#: The legend stored as attribute ``quality_codes`` (netCDF attributes cannot hold dicts).
QUALITY_LEGEND = "; ".join(f"{k} = {v}" for k, v in QUALITY_CODES.items())

_TIME_TOL = 1e-6  # seconds: two instants closer than this are the same instant


def recording_span(rec: xr.DataTree) -> tuple[float, float]:
    """Start and end (seconds on the recording clock) covered by the data streams.

    The start is 0 (the recording's ``start_utc``). The end is the latest end of
    any stream other than ``tags``: ``last time + 1/fs`` for regular streams, the
    last instant for irregular ones (beats).
    """
    end = 0.0
    for name, child in rec.children.items():
        if name == "tags":
            continue
        ds = child.to_dataset()
        if "time" not in ds.coords or ds.sizes.get("time", 0) == 0:
            continue
        last = float(ds["time"].values[-1])
        fs = ds.attrs.get("fs")
        end = max(end, last + (1.0 / float(fs) if fs else 0.0))
    if end <= 0.0:
        raise InputError(f"{rec.attrs.get('source', 'recording')}: no stream holds any samples")
    return 0.0, end


def recording_grid(rec: xr.DataTree, fs: float) -> np.ndarray:
    """The even grid ``k / fs`` (s) spanning a recording, from its start to the end of its data.

    Every preprocessing function of one recording uses this grid, so their outputs
    merge sample for sample.
    """
    if not (np.isfinite(fs) and fs > 0):
        raise InputError(f"fs_out: expected a positive sampling rate in Hz, found {fs!r}")
    _, end = recording_span(rec)
    if end > MAX_RECORDING_S:
        first = min(((float(c["time"].values[0]), n) for n, c in rec.children.items() if c.sizes.get("time")),
                    default=(0.0, "?"))
        last = max(((float(c["time"].values[-1]), c.attrs.get("source", n)) for n, c in rec.children.items()
                    if c.sizes.get("time")), default=(0.0, "?"))
        raise InputError(
            f"{rec.attrs.get('source', 'recording')}: its streams span {end / 86400:.1f} days (from the start of "
            f"{first[1]} to the end of {last[1]}), more than the {MAX_RECORDING_S / 86400:g} days one recording "
            "may cover; a start time in one of its files is probably wrong"
        )
    n = int(np.floor(end * fs + 1e-9))
    return np.arange(max(n, 1), dtype=np.float64) / fs


def runs(mask: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Start and stop indices (half-open) of the runs of ``True`` in a boolean array.

    >>> runs(np.array([0, 1, 1, 0, 1], bool))
    (array([1, 4]), array([3, 5]))
    """
    m = np.concatenate(([False], np.asarray(mask, bool), [False]))
    d = np.diff(m.astype(np.int8))
    return np.flatnonzero(d == 1), np.flatnonzero(d == -1)


def dilate(mask: np.ndarray, n: int) -> np.ndarray:
    """Grow the ``True`` samples of a boolean array by ``n`` samples on each side.

    >>> dilate(np.array([0, 0, 1, 0, 0, 0], bool), 1).astype(int).tolist()
    [0, 1, 1, 1, 0, 0]
    """
    mask = np.asarray(mask, bool)
    if n <= 0 or not mask.any():
        return mask.copy()
    c = np.concatenate(([0], np.cumsum(mask, dtype=np.int64)))
    idx = np.arange(mask.size)
    lo = np.clip(idx - n, 0, mask.size)
    hi = np.clip(idx + n + 1, 0, mask.size)
    return (c[hi] - c[lo]) > 0


def regular_to_grid(
    t: np.ndarray, x: np.ndarray, code: np.ndarray, grid: np.ndarray, *, max_gap: float
) -> tuple[np.ndarray, np.ndarray]:
    """Put a sampled series on a grid without bridging gaps longer than ``max_gap``.

    A grid instant that coincides with a native sample (within 1 µs) takes its
    value and code. Otherwise it is the linear interpolation between the two
    native samples around it, when both are valid (code 0, finite) and at most
    ``max_gap`` seconds apart. Else it is NaN with the non-zero code of its
    neighbours (gap when they are too far apart, or outside the samples).

    Parameters
    ----------
    t : array
        Native sample instants (s, increasing).
    x : array
        Values; non-finite values count as gaps.
    code : array of uint8
        Quality code of each native sample.
    grid : array
        Grid instants (s, same clock as ``t``).
    max_gap : float
        Longest stretch (s) between two valid samples that may be interpolated.
    """
    t = np.asarray(t, np.float64)
    x = np.asarray(x, np.float64)
    code = np.asarray(code, np.uint8).copy()
    code[(code == VALID) & ~np.isfinite(x)] = GAP
    out = np.full(grid.shape, np.nan)
    q = np.full(grid.shape, GAP, dtype=np.uint8)
    if t.size == 0:
        return out, q
    i = np.searchsorted(t, grid + _TIME_TOL, side="right") - 1  # left neighbour: t[i] <= g
    inside = (i >= 0) & (grid <= t[-1] + _TIME_TOL)
    il = np.clip(i, 0, t.size - 1)
    ir = np.clip(i + 1, 0, t.size - 1)
    exact = inside & (np.abs(grid - t[il]) <= _TIME_TOL)
    q[exact] = code[il[exact]]
    between = inside & ~exact & (i + 1 < t.size)
    ql, qr = code[il], code[ir]
    both_ok = between & (ql == VALID) & (qr == VALID) & ((t[ir] - t[il]) <= max_gap + _TIME_TOL)
    q[both_ok] = VALID
    bad = between & ~both_ok
    q[bad] = np.where(ql[bad] != VALID, ql[bad], np.where(qr[bad] != VALID, qr[bad], GAP))
    ok = q == VALID
    ex = ok & exact
    out[ex] = x[il[ex]]
    lin = ok & ~exact
    if lin.any():
        a, b = il[lin], ir[lin]
        w = (grid[lin] - t[a]) / (t[b] - t[a])
        out[lin] = x[a] + w * (x[b] - x[a])
    return out, q


def beats_to_grid(
    starts: np.ndarray,
    ends: np.ndarray,
    interval_code: np.ndarray,
    grid: np.ndarray,
    *,
    max_gap: float,
) -> tuple[np.ndarray, np.ndarray]:
    """Instantaneous heart rate on a grid from beat-to-beat intervals.

    Interpolation (documented rule): each interval ``[s_j, e_j]`` gives the
    instantaneous rate ``60 / (e_j - s_j)`` bpm, placed at its midpoint. A grid
    instant between two midpoints is interpolated linearly when both intervals
    are valid and the beat-free stretch between them (``s_{j+1} - e_j``, zero for
    consecutive beats) is at most ``max_gap``; otherwise a grid instant inside a
    valid interval takes that interval's rate (held constant inside it, never
    beyond it). Everything else is NaN: the code of the invalid interval that
    covers it, or gap (1) where no interval covers it.

    Parameters
    ----------
    starts, ends : array
        Interval start and end instants (s), sorted by end.
    interval_code : array of uint8
        Code of each interval (0 valid; 1 longer than max_gap; 2 untrusted; 3 out of range).
    grid : array
        Grid instants (s).
    max_gap : float
        Longest beat-free stretch (s) interpolated across.

    Returns
    -------
    hr, quality : arrays
        Heart rate (bpm, NaN where invalid) and codes on the grid.

    Examples
    --------
    >>> s = np.array([0.0, 1.0, 1.5]); e = np.array([1.0, 1.5, 2.5])
    >>> hr, q = beats_to_grid(s, e, np.zeros(3, np.uint8), np.array([0.25, 1.0, 1.25, 2.25, 3.0]), max_gap=3)
    >>> hr.round(1).tolist(), q.tolist()
    ([60.0, 100.0, 120.0, 60.0, nan], [0, 0, 0, 0, 1])
    """
    s = np.asarray(starts, np.float64)
    e = np.asarray(ends, np.float64)
    c = np.asarray(interval_code, np.uint8)
    n = s.size
    out = np.full(grid.shape, np.nan)
    q = np.full(grid.shape, GAP, dtype=np.uint8)
    if n == 0:
        return out, q
    with np.errstate(divide="ignore"):
        v = 60.0 / (e - s)
    m = 0.5 * (s + e)
    k = np.searchsorted(m, grid, side="right") - 1  # m[k] <= g < m[k+1]
    kl = np.clip(k, 0, n - 1)
    kr = np.clip(k + 1, 0, n - 1)
    has_both = (k >= 0) & (k + 1 < n)
    interp = has_both & (c[kl] == VALID) & (c[kr] == VALID) & ((s[kr] - e[kl]) <= max_gap + _TIME_TOL)
    if interp.any():
        a, b = kl[interp], kr[interp]
        w = (grid[interp] - m[a]) / (m[b] - m[a])
        out[interp] = v[a] + w * (v[b] - v[a])
        q[interp] = VALID
    rest = ~interp
    # the interval covering g is the left knot's (if g < e) or the right knot's (if g >= s)
    in_left = rest & (k >= 0) & (grid < e[kl] + _TIME_TOL) & (grid >= s[kl] - _TIME_TOL)
    in_right = rest & ~in_left & (k + 1 < n) & (grid >= s[kr] - _TIME_TOL) & (grid <= e[kr] + _TIME_TOL)
    for sel, idx in ((in_left, kl), (in_right, kr)):
        j = idx[sel]
        q[sel] = c[j]
        good = c[j] == VALID
        vals = np.full(j.shape, np.nan)
        vals[good] = v[j[good]]
        out[sel] = vals
    return out, q


def series_dataset(
    grid: np.ndarray,
    variables: dict[str, tuple[np.ndarray, np.ndarray, dict]],
    *,
    start_utc: str,
    fs: float,
    attrs: dict,
) -> xr.Dataset:
    """Assemble ``<name>`` / ``<name>_quality`` pairs on a grid into a Dataset.

    ``variables`` maps a modality name to ``(values, codes, variable attrs)``.
    Values are forced to NaN wherever the code is non-zero (and a non-finite value
    with code 0 becomes a gap), so the two always agree.
    """
    data_vars = {}
    for name, (values, codes, vattrs) in variables.items():
        values = np.asarray(values, np.float64).copy()
        codes = np.asarray(codes, np.uint8).copy()
        codes[(codes == VALID) & ~np.isfinite(values)] = GAP
        values[codes != VALID] = np.nan
        data_vars[name] = xr.Variable(("time",), values, attrs=dict(vattrs))
        data_vars[f"{name}_quality"] = xr.Variable(
            ("time",), codes,
            attrs={"long_name": f"quality code of {name}", "quality_codes": QUALITY_LEGEND,
                   "flag_values": np.arange(5, dtype=np.uint8),
                   "flag_meanings": "valid gap artefact out_of_range outside_overlap"},
        )
    ds = xr.Dataset(data_vars, coords={"time": ("time", np.asarray(grid, np.float64),
                                                {"units": "s", "long_name": "seconds from start_utc"})})
    ds.attrs.update({"start_utc": start_utc, "fs": float(fs), "quality_codes": QUALITY_LEGEND})
    ds.attrs.update(attrs)
    return ds


def shifted_utc(start_utc: str, seconds: float) -> str:
    """ISO 8601 instant ``seconds`` after ``start_utc``."""
    return utc_from_unix(utc_to_unix(start_utc) + float(seconds))


def attr_value(value):
    """A parameter value as a netCDF-storable attribute (None -> 'none', tuples -> lists, bool -> int)."""
    if value is None:
        return "none"
    if isinstance(value, bool):
        return int(value)
    if isinstance(value, (tuple, list)):
        return [attr_value(v) for v in value]
    return value
