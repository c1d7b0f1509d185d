"""Plain physiology tables: one column per signal, for devices that export simple CSV.

The format
----------
Optional comment lines starting with ``#`` hold ``key: value`` metadata; then one
header row of column names; then one row per sample. The separator is ``,``
(``;`` or a tab are recognised from the header row). Example::

    # start_utc: 2021-10-25T07:52:00Z
    # device: Shimmer GSR+
    # units: eda=µS, ppg=a.u.
    time,eda,ppg
    0.00,0.412,512
    0.25,0.415,530
    0.50,,528

Time is given one of three ways:

1. a ``time`` column in **seconds** — then the instant that ``time = 0`` refers to
   comes from a ``# start_utc:`` comment or the ``start_utc`` argument (one is
   required). The file's time values are kept as they are (nothing is re-based); the
   root ``start_utc`` is that instant;
2. a ``time`` column of **ISO 8601 instants** with a timezone (``2021-10-25T07:52:00.25Z``)
   — the first instant is the recording start and ``time`` counts seconds from it;
3. **no time column** and a sampling rate from a ``# fs: 4`` comment or the ``fs``
   argument (plus ``start_utc`` as in 1) — sample ``i`` lies at ``i / fs``.

With a time column, ``fs`` is inferred when the spacing is even within 1e-6
(relative); otherwise the stream is irregular, ``fs`` is absent and the times are
kept. Times must increase strictly (a repeated or earlier time is an error naming
its line).

Columns are named after the streams of :mod:`synchrony.recording`: ``ecg``,
``bvp`` (also ``ppg``), ``eda`` (also ``gsr``, ``sc``), ``resp``, ``temp``,
``hr``, ``ibi`` (also ``rr``), ``acc_x/acc_y/acc_z`` (one ``acc`` stream with an
``axis`` dimension). Other names are kept, lower-cased with other characters turned
into ``_``. Units come from the ``# units:`` comment, or a bracket in the column name
(``eda [uS]``), else a default for the known streams (µS, a.u., bpm, s, °C; ``unknown``
for the rest). Units are written in the package's one spelling
(:func:`synchrony.io._common.standard_unit`: ``uS`` -> ``µS``; ECG in µV and intervals in
ms are scaled to mV and s); the file's own spelling is kept in the variable attribute
``units_original``. Empty cells and ``nan`` are missing samples (kept as NaN, counted in
``n_missing``). An ``ibi`` column holds beats: rows where it is empty are not beats,
and its stream is irregular.

>>> import tempfile, pathlib
>>> f = pathlib.Path(tempfile.mkdtemp()) / "session.csv"
>>> _ = f.write_text("# start_utc: 2021-10-25T07:52:00Z\\ntime,eda,hr\\n0,0.4,70\\n0.5,0.41,\\n1.0,0.42,71\\n")
>>> rec = read_csv(f)
>>> sorted(rec.children), rec["eda"].attrs["fs"], rec["hr"].attrs["n_missing"]
(['eda', 'hr'], 2.0, 1)
"""
from __future__ import annotations

import logging
import re
from pathlib import Path

import numpy as np
import xarray as xr

from ..errors import ConfigError, InputError, where
from ..recording import make_recording, make_stream, utc_from_unix, utc_to_unix
from ._common import sanitise_name, standard_unit
from ._text import count_nonfinite, is_positive_finite, read_text, split_lines

__all__ = ["read_csv", "sniff", "ALIASES"]

logger = logging.getLogger("synchrony")

#: column name (lower case) -> stream name
ALIASES: dict[str, str] = {
    "ecg": "ecg", "ekg": "ecg",
    "bvp": "bvp", "ppg": "bvp",
    "eda": "eda", "gsr": "eda", "sc": "eda", "scl": "eda", "skin_conductance": "eda",
    "resp": "resp", "rsp": "resp", "respiration": "resp",
    "temp": "temp", "temperature": "temp", "skt": "temp",
    "hr": "hr", "heart_rate": "hr",
    "ibi": "ibi", "rr": "ibi", "rri": "ibi",
}
_DEFAULT_UNITS = {"ecg": "a.u.", "bvp": "a.u.", "eda": "µS", "resp": "a.u.", "temp": "°C", "hr": "bpm",
                  "ibi": "s", "acc": "unknown"}
_ACC = re.compile(r"^acc(?:el(?:erometer)?)?[_ ]?([xyz])$")
_UNIT_IN_NAME = re.compile(r"^(.*?)\s*[\[(]([^\])]*)[\])]\s*$")
_SEPARATORS = (",", ";", "\t")


def _split(line: str, sep: str) -> list[str]:
    return [f.strip().strip('"').strip() for f in line.split(sep)]


def _parse_meta(lines: list[str], source) -> tuple[dict[str, tuple[str, int]], int]:
    """Comment lines at the top -> {key: (value, line)}; index of the header row."""
    meta: dict[str, tuple[str, int]] = {}
    i = 0
    while i < len(lines) and (lines[i].lstrip().startswith("#") or not lines[i].strip()):
        text = lines[i].lstrip()[1:].strip() if lines[i].strip() else ""
        if ":" in text:
            key, value = text.split(":", 1)
            meta[key.strip().lower().replace(" ", "_")] = (value.strip(), i + 1)
        i += 1
    return meta, i


def _numeric(tokens: list[str], source, col: str, first_line: int) -> np.ndarray:
    filled = [t if t else "nan" for t in tokens]
    try:
        if any("_" in t for t in filled):
            raise ValueError
        return np.array(filled, dtype=np.float64)
    except ValueError:
        for k, t in enumerate(filled):
            try:
                if "_" in t:
                    raise ValueError
                float(t)
            except ValueError:
                raise InputError(f"{where(source, first_line + k, col)}expected a number, found {t!r}") from None
        raise  # pragma: no cover


def _parse_units(text: str, source, line: int) -> dict[str, str]:
    out = {}
    for part in text.split(","):
        if not part.strip():
            continue
        if "=" not in part:
            raise InputError(f"{where(source, line, 'units')}expected 'name=unit' pairs separated by commas, "
                             f"found {part.strip()!r}")
        k, v = part.split("=", 1)
        out[sanitise_name(k)] = v.strip()
    return out


def _check_strictly_increasing(t: np.ndarray, source, first_line: int, shown: list[str]) -> None:
    if t.size < 2:
        return
    bad = np.flatnonzero(~(np.diff(t) > 0))
    if bad.size:
        i = int(bad[0]) + 1
        kind = "a repeated" if t[i] == t[i - 1] else "an earlier"
        raise InputError(f"{where(source, first_line + i, 'time')}expected times in strictly increasing order, "
                         f"found {kind} time {shown[i]!r} after {shown[i - 1]!r}")


def _quantum(raw: list[str]) -> float:
    """Resolution the times were written with (``0.333333`` -> 1e-6), from a sample of the tokens."""
    decimals = 0
    for tok in raw[:1000]:
        if "e" in tok.lower():
            return 0.0
        if "." in tok:
            decimals = max(decimals, len(tok.split(".", 1)[1]))
    return 10.0 ** -decimals if decimals else 0.0


def _infer_fs(t: np.ndarray, quantum: float = 0.0) -> float | None:
    """``fs`` when the spacing is even within 1e-6 relative (plus the rounding of the written times)."""
    if t.size < 3:
        return None
    d = np.diff(t)
    mean = (t[-1] - t[0]) / (t.size - 1)
    if mean <= 0 or np.max(np.abs(d - mean)) > 1e-6 * mean + quantum:
        return None
    fs = 1.0 / mean
    # snap to a whole rate (or a whole period) when the written times cannot tell them apart
    tol = 1e-6 * mean + quantum / (t.size - 1)
    for candidate in (round(fs), 1.0 / round(mean) if round(mean) else 0):
        if candidate > 0 and abs(1.0 / candidate - mean) <= tol:
            return float(candidate)
    return fs


def read_csv(path, *, fs: float | None = None, time_column: str = "time", columns=None,
             start_utc: str | None = None, device: str = "csv") -> xr.DataTree:
    """Read a plain physiology table (format in the module docstring) into a Recording.

    Parameters
    ----------
    path : str or Path
        The CSV file.
    fs : float, optional
        Sampling rate in Hz when the file has no time column (overrides nothing: a
        ``# fs:`` comment that disagrees is an error). With a time column it is
        checked against the times.
    time_column : str
        Name of the time column (case-insensitive).
    columns : list or dict, optional
        A list keeps only those columns (file names); a dict maps file column
        names to stream names (``{"GSR_uS": "eda"}``) and keeps only those.
    start_utc : str, optional
        ISO 8601 instant that ``time = 0`` refers to, when the file's time column is in
        seconds or absent; a ``# start_utc:`` comment that disagrees is an error.
    device : str
        Recorded in the ``device`` attributes (a ``# device:`` comment wins).

    Returns
    -------
    xarray.DataTree
        One child per stream, as every reader returns.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> f = pathlib.Path(tempfile.mkdtemp()) / "ecg.csv"
    >>> _ = f.write_text("ECG [mV]\\n0.1\\n0.3\\n-0.2\\n")
    >>> rec = read_csv(f, fs=250, start_utc="2021-10-25T07:52:00Z")
    >>> rec["ecg"]["time"].values.tolist(), rec["ecg"]["ecg"].attrs["units"]
    ([0.0, 0.004, 0.008], 'mV')
    """
    path = Path(path)
    source = str(path)
    if not path.is_file():
        raise InputError(f"{path}: no such file")
    lines = split_lines(read_text(path))
    meta, h = _parse_meta(lines, source)
    if h >= len(lines):
        raise InputError(f"{where(source, h + 1)}expected a header row of column names, found "
                         f"{'an empty file' if not lines else 'the end of the file'}")
    header = lines[h]
    sep = max(_SEPARATORS, key=header.count) if any(s in header for s in _SEPARATORS) else ","
    names = _split(header, sep)
    ncol = len(names)
    if any(not n for n in names):
        raise InputError(f"{where(source, h + 1)}expected a name for every column, found {header.strip()!r}")
    lowered = [n.lower() for n in names]
    if len(set(lowered)) != ncol:
        dup = next(n for n in lowered if lowered.count(n) > 1)
        raise InputError(f"{where(source, h + 1)}expected distinct column names, found {dup!r} twice")

    # ---------------------------------------------------------------- metadata vs arguments
    def _meta_or_arg(key: str, arg, parse, label: str):
        if key in meta:
            value, line = meta[key]
            try:
                parsed = parse(value)
            except ValueError as exc:
                raise InputError(f"{where(source, line, key)}expected {label}, found {value!r} ({exc})") from None
            if arg is not None and _safe(parse, arg) != parsed:
                raise InputError(f"{where(source, line, key)}the file says {value!r} but the argument "
                                 f"{key}={arg!r} disagrees; remove one of them")
            return parsed
        if arg is None:
            return None
        try:
            return parse(arg)
        except (TypeError, ValueError) as exc:
            raise ConfigError(f"{key}: expected {label}, found {arg!r} ({exc})") from None

    def _fs(v):
        x = float(v)
        if not is_positive_finite(x):
            raise ValueError("not a positive finite number")
        return x

    rate = _meta_or_arg("fs", fs, _fs, "a positive sampling rate in Hz")
    origin = _meta_or_arg("start_utc", start_utc, lambda v: utc_to_unix(v), "an ISO 8601 instant with a timezone")
    device = meta["device"][0] if "device" in meta else device
    units_meta = {}
    if "units" in meta:
        units_meta = _parse_units(meta["units"][0], source, meta["units"][1])

    # ---------------------------------------------------------------- rows
    first = h + 2  # 1-based line of the first data row
    rows = lines[h + 1:]
    cells: list[list[str]] = []
    for k, text in enumerate(rows):
        fields = _split(text, sep)
        if len(fields) != ncol:
            raise InputError(f"{where(source, first + k)}expected {ncol} values separated by {sep!r} "
                             f"(columns {', '.join(names)}), found {len(fields)}: {text.strip()!r}")
        cells.append(fields)
    n = len(cells)
    columns_t = list(zip(*cells)) if n else [() for _ in names]

    tcol = lowered.index(time_column.lower()) if time_column.lower() in lowered else None
    if columns is None:
        selected = {names[i]: names[i] for i in range(ncol) if i != tcol}
    else:
        mapping = dict(columns) if isinstance(columns, dict) else {c: c for c in columns}
        selected = {}
        for col, target in mapping.items():
            if col.lower() not in lowered:
                raise InputError(f"{where(source, h + 1)}expected a column {col!r} (asked for in columns=), "
                                 f"found only {', '.join(names)}")
            selected[names[lowered.index(col.lower())]] = target
    if not selected:
        raise InputError(f"{where(source, h + 1)}expected at least one data column besides {time_column!r}, "
                         f"found {header.strip()!r}")

    # ---------------------------------------------------------------- time base
    if tcol is not None:
        raw = [str(v) for v in columns_t[tcol]]
        for k, v in enumerate(raw):
            if not v:
                raise InputError(f"{where(source, first + k, names[tcol])}expected a time, found an empty cell")
        try:
            t = np.array(raw, dtype=np.float64) if n else np.empty(0)
            iso = False
        except ValueError:
            iso = bool(raw) and not _is_number(raw[0])
            if not iso:
                t = _numeric(raw, source, names[tcol], first)
        if iso:
            unix = np.empty(n)
            for k, v in enumerate(raw):
                try:
                    unix[k] = utc_to_unix(v)
                except ValueError as exc:
                    raise InputError(f"{where(source, first + k, names[tcol])}expected an ISO 8601 instant with a "
                                     f"timezone (like 2021-10-25T07:52:00Z), found {v!r}: {exc}") from None
            if origin is not None and start_utc is not None:
                logger.info("%s: the time column holds instants; start_utc=%r is not used", source, start_utc)
            origin = unix[0] if n else None
            t = unix - unix[0] if n else unix
            _check_strictly_increasing(unix, source, first, raw)
        else:
            bad = np.flatnonzero(~np.isfinite(t))
            if bad.size:
                k = int(bad[0])
                raise InputError(f"{where(source, first + k, names[tcol])}expected a finite time in seconds, "
                                 f"found {raw[k]!r}")
            _check_strictly_increasing(t, source, first, raw)
            if origin is None:
                raise InputError(f"{source}: the {names[tcol]!r} column is in seconds, but nothing says which instant "
                                 "time 0 is: add a comment line '# start_utc: 2021-10-25T07:52:00Z' above the "
                                 "header or pass start_utc=")
        inferred = _infer_fs(t, 1e-6 if iso else _quantum(raw))
        if rate is not None and inferred is not None and abs(inferred - rate) > 1e-6 * rate:
            raise InputError(f"{source}: the times are spaced for {inferred:g} Hz but fs={rate:g} was given")
        if rate is not None and inferred is None and n >= 3:
            raise InputError(f"{source}: fs={rate:g} was given but the time column is not evenly spaced")
        rate = inferred if inferred is not None else (rate if n < 3 else None)
    else:
        if rate is None:
            raise InputError(f"{source}: no {time_column!r} column and no sampling rate: add a comment line "
                             "'# fs: 4' above the header, a time column, or pass fs=")
        if origin is None:
            raise InputError(f"{source}: no {time_column!r} column and no start instant: add a comment line "
                             "'# start_utc: 2021-10-25T07:52:00Z' above the header or pass start_utc=")
        t = np.arange(n, dtype=np.float64) / rate

    origin_iso = utc_from_unix(origin)

    # ---------------------------------------------------------------- streams
    streams: dict[str, xr.Dataset] = {}
    acc_axes: dict[str, np.ndarray] = {}
    acc_units = None
    for col, target in selected.items():
        i = names.index(col)
        label = col
        unit = None
        m = _UNIT_IN_NAME.match(col)
        if m:
            unit = m.group(2).strip() or None
        m = _UNIT_IN_NAME.match(target)
        if m:
            target = m.group(1)
        key = sanitise_name(target)
        values = _numeric([str(v) for v in columns_t[i]], source, label, first) if n else np.empty(0)
        values = np.where(np.isfinite(values), values, np.nan)
        am = _ACC.match(key)
        if am:
            acc_axes[am.group(1)] = values
            acc_units = unit or units_meta.get(key) or units_meta.get("acc") or acc_units
            continue
        stream = ALIASES.get(key, key)
        unit = unit or units_meta.get(key) or units_meta.get(stream) or _DEFAULT_UNITS.get(stream, "unknown")
        if stream in streams:
            raise InputError(f"{where(source, h + 1)}two columns map to the stream {stream!r}; keep one "
                             "(columns=) or rename it")
        values, unit, original = _standard(values, unit, stream)
        extra_attrs = {"units_original": original} if original else {}
        if stream == "ibi":
            keep = np.isfinite(values)
            tt, vv = t[keep], values[keep]
            streams["ibi"] = make_stream({"ibi": vv}, tt, start_utc=_at(origin, tt), time_origin_utc=origin_iso,
                                         fs=None, units={"ibi": unit}, device=device, source=source,
                                         attrs={"n_missing": 0, "column": col})
            streams["ibi"]["ibi"].attrs.update(extra_attrs)
            continue
        streams[stream] = make_stream({stream: values}, t, start_utc=_at(origin, t), time_origin_utc=origin_iso,
                                      fs=rate, units={stream: unit}, device=device, source=source,
                                      attrs={"n_missing": count_nonfinite(values), "column": col})
        streams[stream][stream].attrs.update(extra_attrs)
    if acc_axes:
        if set(acc_axes) != {"x", "y", "z"}:
            raise InputError(f"{where(source, h + 1)}expected accelerometer columns acc_x, acc_y and acc_z "
                             f"together, found only {', '.join('acc_' + a for a in sorted(acc_axes))}")
        data = np.column_stack([acc_axes[a] for a in "xyz"]) if n else np.empty((0, 3))
        data, acc_units, original = _standard(data, acc_units or "unknown", "acc")
        streams["acc"] = make_stream({"acc": data}, t, start_utc=_at(origin, t), time_origin_utc=origin_iso,
                                     fs=rate, units={"acc": acc_units}, device=device, source=source,
                                     extra_dims={"acc": ("axis",)}, coords={"axis": ("axis", ["x", "y", "z"])},
                                     attrs={"n_missing": count_nonfinite(data)})
        if original:
            streams["acc"]["acc"].attrs["units_original"] = original
    return make_recording(streams, start_utc=origin_iso, device=device, source=source, attrs={"format": "csv"})


def _standard(values: np.ndarray, unit: str, stream: str) -> tuple[np.ndarray, str, str]:
    """Values and unit in the package's spelling (see :func:`standard_unit`), and the file's own
    spelling when it differs ("" otherwise)."""
    std, factor = standard_unit(unit, stream)
    if factor != 1.0:
        values = values * factor
    return values, std, (unit if std != unit and unit != "unknown" else "")


def _safe(parse, value):
    try:
        return parse(value)
    except (TypeError, ValueError):
        raise ConfigError(f"expected a valid value, found {value!r}") from None


def _at(origin: float, t: np.ndarray) -> str:
    return utc_from_unix(origin + (float(t[0]) if t.size else 0.0))


def _is_number(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True


def sniff(path) -> bool:
    """Whether ``path`` is a plain table this reader understands (a header naming known columns). Never raises.

    >>> sniff("missing.csv")
    False
    """
    try:
        path = Path(path)
        if not path.is_file() or path.suffix.lower() not in (".csv", ".tsv", ".txt"):
            return False
        with open(path, "rb") as fh:
            head = fh.read(8192).decode("utf-8", "replace").lstrip("\ufeff")
        lines = split_lines(head)
        _meta, h = _parse_meta(lines, path)
        if h >= len(lines):
            return False
        header = lines[h]
        sep = max(_SEPARATORS, key=header.count) if any(s in header for s in _SEPARATORS) else ","
        names = []
        for n in _split(header, sep):
            m = _UNIT_IN_NAME.match(n)
            names.append(sanitise_name(m.group(1) if m else n))
        known = [n for n in names if n in ALIASES or _ACC.match(n)]
        return bool(known) and all(not _is_number(n) for n in names)
    except (OSError, ValueError):
        return False

