"""Dial ratings: read moment-to-moment ratings and check how much of the video they cover.

Two layouts are read.

**Generic CSV** (``format="csv"``): optional ``#`` comment lines, a header with a
``time`` and a ``rating`` column (any order, case-insensitive, other columns
ignored; ``,``, ``;`` or tab separated), then one row per rating. ``time`` is in
seconds from the video start (rating time 0), strictly increasing; any bin size,
irregular spacing allowed. An empty ``rating`` cell is a missing rating (NaN, kept
and counted, never filled)::

    time,rating
    0,50
    1,52.5
    2,

**CARMA** (``format="carma"``; Girard 2014, *J. Open Res. Softw.* 2(1):e5). The export
written by CARMA's collect window (``fig_collect*.m``, ``cell2csv``) is nine header
rows of ``key,value`` — ``Time of Rating``, ``Multimedia File``, ``Lower Label``,
``Upper Label``, ``Minimum Value``, ``Maximum Value``, ``Number of Steps``, then
``Second,Rating`` and ``%%%%%%,%%%%%%`` — followed by ``second,rating`` rows, one
per bin, where ``second`` is the **end** of the bin (``bin, 2·bin, …``) and empty
bins carry ``NaN``. CARMA writes no final newline. The older one-table export
(columns ``Filename, Lower Label, Upper Label, Minimum Value, Midpoint Value,
Maximum Value, Number of Steps, Second, Rating``) is read as well. The scale
comes from the file's minimum and maximum (the ``scale`` argument is not used).

Coverage: ``bin_s`` is the median spacing. A step longer than 1.5 bins is a gap
(``step − bin`` seconds missing), a start later than 1.5 bins after 0 is a leading
gap, and each missing rating is one bin missing. Gaps are reported with a
:class:`~synchrony.errors.SynchronyWarning` naming the seconds missing, never
padded. ``duration_s`` is the time of the last rating (for CARMA the end of the
last bin) and ``coverage`` the fraction of expected bins that hold a rating.

>>> import tempfile, pathlib
>>> f = pathlib.Path(tempfile.mkdtemp()) / "client.csv"
>>> _ = f.write_text("time,rating\\n0,50\\n1,52.5\\n2,60\\n")
>>> r = read_ratings(f)
>>> r["rating"].values.tolist(), r.attrs["bin_s"], r.attrs["coverage"]
([50.0, 52.5, 60.0], 1.0, 1.0)
"""
from __future__ import annotations

import logging
import math
import warnings
from pathlib import Path

import numpy as np
import xarray as xr

from ..errors import ConfigError, InputError, SynchronyWarning, where
from ..io._text import read_text, split_lines

__all__ = ["read_ratings", "check_coverage"]

logger = logging.getLogger("synchrony")

_CARMA_KEYS = {
    "time of rating": "time_of_rating",
    "multimedia file": "media_file",
    "lower label": "lower_label",
    "upper label": "upper_label",
    "minimum value": "scale_min",
    "maximum value": "scale_max",
    "number of steps": "n_steps",
}
_LEGACY_COLS = ["filename", "lower label", "upper label", "minimum value", "midpoint value", "maximum value",
                "number of steps", "second", "rating"]
_SEPARATORS = (",", ";", "\t")
GAP_BINS = 1.5  #: a step longer than this many bins is a gap


def _unquote(s: str) -> str:
    return s.strip().strip('"').strip()


def _number(token: str, source, line: int, field: str, what: str, *, empty_nan: bool = False) -> float:
    text = _unquote(token)
    if not text and empty_nan:
        return math.nan
    try:
        if not text or "_" in text:
            raise ValueError
        return float(text)
    except ValueError:
        raise InputError(f"{where(source, line, field)}expected {what}, found {text!r}") from None


def _detect(lines: list[str]) -> str:
    first = next((ln for ln in lines if ln.strip()), "")
    head = _unquote(first.split(",")[0]).lower()
    if head == "time of rating" or [_unquote(c).lower() for c in first.split(",")][-2:] == ["second", "rating"] \
            and "lower label" in first.lower():
        return "carma"
    return "csv"


def _read_csv(lines: list[str], source: str):
    i = 0
    while i < len(lines) and (not lines[i].strip() or lines[i].lstrip().startswith("#")):
        i += 1
    if i >= len(lines):
        raise InputError(f"{where(source, i + 1)}expected a header row 'time,rating', found "
                         f"{'an empty file' if not lines else 'only comments'}")
    header = lines[i]
    sep = max(_SEPARATORS, key=header.count)
    names = [_unquote(c).lower() for c in header.split(sep)]
    missing = [c for c in ("time", "rating") if c not in names]
    if missing:
        raise InputError(f"{where(source, i + 1)}expected a header with columns 'time' and 'rating', found "
                         f"{header.strip()!r} (missing {', '.join(missing)})")
    it, ir = names.index("time"), names.index("rating")
    t, r, ln = [], [], []
    for k in range(i + 1, len(lines)):
        line = k + 1
        text = lines[k]
        fields = text.split(sep)
        if len(fields) != len(names):
            raise InputError(f"{where(source, line)}expected {len(names)} values separated by {sep!r} "
                             f"({', '.join(names)}), found {len(fields)}: {text.strip()!r}")
        t.append(_number(fields[it], source, line, "time", "a time in seconds"))
        r.append(_number(fields[ir], source, line, "rating", "a rating (a number, or empty when missing)",
                         empty_nan=True))
        ln.append(line)
    return np.array(t, dtype=np.float64), np.array(r, dtype=np.float64), np.array(ln, dtype=np.int64), {}


def _read_carma(lines: list[str], source: str):
    first = next((ln for ln in lines if ln.strip()), "")
    if "lower label" in first.lower() and _unquote(first.split(",")[0]).lower() != "time of rating":
        return _read_carma_legacy(lines, source)
    meta: dict = {}
    lines_of: dict[str, int] = {}
    k = 0
    while True:
        if k >= len(lines):
            raise InputError(f"{where(source, k + 1)}expected the CARMA header row 'Second,Rating', found the end "
                             "of the file")
        key, _, value = lines[k].partition(",")
        key_l = _unquote(key).lower()
        if key_l == "second":
            if _unquote(value).lower() != "rating":
                raise InputError(f"{where(source, k + 1)}expected 'Second,Rating', found {lines[k].strip()!r}")
            k += 1
            break
        if key_l in _CARMA_KEYS:
            meta[_CARMA_KEYS[key_l]] = _unquote(value)
            lines_of[_CARMA_KEYS[key_l]] = k + 1
        elif lines[k].strip():
            raise InputError(f"{where(source, k + 1)}expected a CARMA metadata row (one of "
                             f"{', '.join(k_.title() for k_ in _CARMA_KEYS)}), found {lines[k].strip()!r}")
        k += 1
    for field, label in (("scale_min", "Minimum Value"), ("scale_max", "Maximum Value")):
        if field not in meta:
            raise InputError(f"{where(source, None, label)}expected a '{label}' row in the CARMA header, found none")
        meta[field] = _number(meta[field], source, lines_of[field], label, "a number")
    if "n_steps" in meta:
        meta["n_steps"] = int(_number(meta["n_steps"], source, lines_of["n_steps"], "Number of Steps", "a number"))
    if k < len(lines) and set(lines[k].replace(",", "").strip()) <= {"%"} and lines[k].strip():
        k += 1
    t, r, ln = [], [], []
    for j in range(k, len(lines)):
        line = j + 1
        fields = lines[j].split(",")
        if len(fields) != 2:
            raise InputError(f"{where(source, line)}expected 2 values 'second,rating', found {len(fields)}: "
                             f"{lines[j].strip()!r}")
        t.append(_number(fields[0], source, line, "Second", "a bin end time in seconds"))
        r.append(_number(fields[1], source, line, "Rating", "a rating (a number or NaN)", empty_nan=True))
        ln.append(line)
    return np.array(t, dtype=np.float64), np.array(r, dtype=np.float64), np.array(ln, dtype=np.int64), meta


def _read_carma_legacy(lines: list[str], source: str):
    names = [_unquote(c).lower() for c in lines[0].split(",")]
    if names != _LEGACY_COLS:
        raise InputError(f"{where(source, 1)}expected the CARMA columns {', '.join(c.title() for c in _LEGACY_COLS)}, "
                         f"found {lines[0].strip()!r}")
    t, r, ln = [], [], []
    meta: dict = {}
    for j in range(1, len(lines)):
        line = j + 1
        fields = lines[j].rsplit(",", 8)
        if len(fields) != 9:
            raise InputError(f"{where(source, line)}expected 9 values, found {len(fields)}: {lines[j].strip()!r}")
        lo = _number(fields[3], source, line, "Minimum Value", "a number")
        hi = _number(fields[5], source, line, "Maximum Value", "a number")
        if not meta:
            meta = {"media_file": _unquote(fields[0]), "lower_label": _unquote(fields[1]),
                    "upper_label": _unquote(fields[2]), "scale_min": lo, "scale_max": hi,
                    "n_steps": int(_number(fields[6], source, line, "Number of Steps", "a number"))}
        elif (lo, hi) != (meta["scale_min"], meta["scale_max"]):
            raise InputError(f"{where(source, line)}expected the same Minimum/Maximum Value on every row "
                             f"({meta['scale_min']:g}, {meta['scale_max']:g}), found ({lo:g}, {hi:g})")
        t.append(_number(fields[7], source, line, "Second", "a bin end time in seconds"))
        r.append(_number(fields[8], source, line, "Rating", "a rating (a number or NaN)", empty_nan=True))
        ln.append(line)
    if not meta:
        raise InputError(f"{source}: expected CARMA rating rows after the header, found none")
    return np.array(t, dtype=np.float64), np.array(r, dtype=np.float64), np.array(ln, dtype=np.int64), meta


def read_ratings(path, *, scale: tuple[float, float] = (0, 100), format: str | None = None) -> xr.Dataset:
    """Read dial ratings (generic CSV or a CARMA export) on the video's clock.

    Parameters
    ----------
    path : str or Path
        The ratings file.
    scale : (float, float)
        The dial's minimum and maximum for a generic CSV (CARMA files state their own).
    format : {"csv", "carma"}, optional
        Skip detection.

    Returns
    -------
    xarray.Dataset
        Variable ``rating`` along ``time`` (seconds from the video start). Attributes:
        ``scale_min``, ``scale_max``, ``time_base`` (in words), ``bin_s``, ``source``,
        ``format``, ``n_missing``, ``duration_s``, ``coverage``, ``missing_s`` (and for
        CARMA the labels, number of steps, media file and time of rating).

    Raises
    ------
    InputError
        Malformed file, times not increasing, or a rating outside the scale (the
        message names the line and the value).

    Warns
    -----
    SynchronyWarning
        When ratings are missing (gaps longer than 1.5 bins, empty bins), naming how
        many seconds.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> f = pathlib.Path(tempfile.mkdtemp()) / "carma.csv"
    >>> _ = f.write_text("Time of Rating,13-Dec-2021 07:36:40\\nMultimedia File,s05.mp4\\n"
    ...                  "Lower Label,hindering\\nUpper Label,helpful\\nMinimum Value,0\\nMaximum Value,100\\n"
    ...                  "Number of Steps,9\\nSecond,Rating\\n%%%%%%,%%%%%%\\n1,40\\n2,45.5")
    >>> r = read_ratings(f)
    >>> r.attrs["format"], r["time"].values.tolist(), r.attrs["time_base"]
    ('carma', [1.0, 2.0], 'seconds from video start; bin end times')
    """
    path = Path(path)
    source = str(path)
    if not path.is_file():
        raise InputError(f"{path}: no such ratings file")
    lines = split_lines(read_text(path))
    fmt = format or _detect(lines)
    if fmt == "csv":
        try:
            lo, hi = (float(scale[0]), float(scale[1]))
        except (TypeError, ValueError, IndexError):
            raise ConfigError(f"scale: expected (minimum, maximum), found {scale!r}") from None
        if not (math.isfinite(lo) and math.isfinite(hi) and lo < hi):
            raise ConfigError(f"scale: expected finite minimum < maximum, found {scale!r}")
        t, r, ln, meta = _read_csv(lines, source)
        time_base = "seconds from video start; rating instants"
    elif fmt == "carma":
        t, r, ln, meta = _read_carma(lines, source)
        lo, hi = meta["scale_min"], meta["scale_max"]
        if not lo < hi:
            raise InputError(f"{where(source, None, 'Maximum Value')}expected a maximum above the minimum "
                             f"{lo:g}, found {hi:g}")
        time_base = "seconds from video start; bin end times"
    else:
        raise ConfigError(f"format: expected 'csv', 'carma' or None (detect), found {format!r}")
    if t.size == 0:
        raise InputError(f"{source}: expected rating rows after the header, found none")
    bad = np.flatnonzero(~np.isfinite(t))
    if bad.size:
        raise InputError(f"{where(source, int(ln[bad[0]]), 'time')}expected a finite time, found {float(t[bad[0]])!r}")
    if t.size > 1:
        bad = np.flatnonzero(~(np.diff(t) > 0))
        if bad.size:
            i = int(bad[0]) + 1
            raise InputError(f"{where(source, int(ln[i]), 'time')}expected times in strictly increasing order, "
                             f"found {t[i]:g} after {t[i - 1]:g}")
    if t[0] < 0:
        raise InputError(f"{where(source, int(ln[0]), 'time')}expected times in seconds from the video start "
                         f"(0 or later), found {t[0]:g}")
    outside = np.flatnonzero(~np.isnan(r) & ((r < lo) | (r > hi)))
    if outside.size:
        i = int(outside[0])
        raise InputError(f"{where(source, int(ln[i]), 'rating')}expected a rating within the scale "
                         f"[{lo:g}, {hi:g}], found {r[i]:g}"
                         + (f" ({outside.size} values are outside)" if outside.size > 1 else ""))
    bin_s = float(np.median(np.diff(t))) if t.size > 1 else (float(t[0]) if fmt == "carma" and t[0] > 0 else math.nan)
    attrs = {"scale_min": float(lo), "scale_max": float(hi), "time_base": time_base, "bin_s": bin_s,
             "source": source, "format": fmt, "n_missing": int(np.count_nonzero(np.isnan(r)))}
    for key in ("lower_label", "upper_label", "n_steps", "media_file", "time_of_rating"):
        if key in meta:
            attrs[key] = meta[key]
    ds = xr.Dataset({"rating": ("time", r, {"units": f"dial position, {lo:g}-{hi:g}"})},
                    coords={"time": ("time", t, {"units": "s", "long_name": time_base})}, attrs=attrs)
    report = check_coverage(ds)
    ds.attrs.update(duration_s=report["duration_s"], coverage=report["coverage"], missing_s=report["missing_s"])
    return ds


def check_coverage(ratings: xr.Dataset, *, expected_duration: float | None = None) -> dict:
    """Report how much of the video the ratings cover; refuse a truncated file.

    Parameters
    ----------
    ratings : xarray.Dataset
        As returned by :func:`read_ratings`.
    expected_duration : float, optional
        The video's length in seconds. A file whose last rating is more than 1.5
        bins before it is truncated: :class:`InputError` with both numbers.

    Returns
    -------
    dict
        ``duration_s``, ``coverage`` (fraction of expected bins holding a rating),
        ``missing_s``, ``n_gaps`` (gaps longer than 1.5 bins, leading one included)
        and ``n_missing`` (empty bins).

    Warns
    -----
    SynchronyWarning
        When ``missing_s > 0``.

    Examples
    --------
    >>> import numpy as np, xarray as xr
    >>> r = xr.Dataset({"rating": ("time", np.full(10, 50.0))}, coords={"time": np.arange(1.0, 11.0)},
    ...                attrs={"source": "r.csv"})
    >>> check_coverage(r, expected_duration=10)["coverage"]
    1.0
    >>> check_coverage(r, expected_duration=60)
    Traceback (most recent call last):
    ...
    synchrony.errors.InputError: r.csv: the ratings stop at 10 s but the video lasts 60 s (50 s short, more than 1.5 bins of 1 s); the file looks truncated
    """
    source = ratings.attrs.get("source", "ratings")
    t = np.asarray(ratings["time"].values, dtype=np.float64)
    r = np.asarray(ratings["rating"].values, dtype=np.float64)
    if t.size == 0:
        raise InputError(f"{source}: no ratings")
    bin_s = float(np.median(np.diff(t))) if t.size > 1 else float(ratings.attrs.get("bin_s", math.nan))
    duration = float(t[-1])
    n_nan = int(np.count_nonzero(np.isnan(r)))
    gap_bins = 0
    n_gaps = 0
    if math.isfinite(bin_s) and bin_s > 0:
        steps = np.diff(t)
        big = steps[steps > GAP_BINS * bin_s]
        gap_bins += int(np.sum(np.round(big / bin_s) - 1))
        n_gaps += int(big.size)
        if t[0] - bin_s > (GAP_BINS - 1) * bin_s:  # a later start than one bin: leading gap
            gap_bins += int(round((t[0] - bin_s) / bin_s))
            n_gaps += 1
        missing_s = (gap_bins + n_nan) * bin_s
    else:
        missing_s = 0.0
    n_present = int(t.size - n_nan)
    expected = t.size + gap_bins
    coverage = n_present / expected if expected else 0.0
    if missing_s > 0:
        warnings.warn(
            f"{source}: {missing_s:g} s of ratings are missing ({n_gaps} gap(s) longer than {GAP_BINS:g} bins of "
            f"{bin_s:g} s, {n_nan} empty bin(s)); coverage {coverage:.1%}. They are left missing, not filled.",
            SynchronyWarning, stacklevel=2)
    if expected_duration is not None:
        expected_duration = float(expected_duration)
        tol = GAP_BINS * bin_s if math.isfinite(bin_s) else 0.0
        if duration < expected_duration - tol:
            raise InputError(
                f"{source}: the ratings stop at {duration:g} s but the video lasts {expected_duration:g} s "
                f"({expected_duration - duration:g} s short, more than {GAP_BINS:g} bins of {bin_s:g} s); "
                "the file looks truncated")
    return {"duration_s": duration, "coverage": float(coverage), "missing_s": float(missing_s),
            "n_gaps": n_gaps, "n_missing": n_nan}
