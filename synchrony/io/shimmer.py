"""Shimmer CSV exports (Consensys / ShimmerCapture, calibrated ``_CAL`` columns).

Layout (as Consensys writes it):

- line 1: ``"sep=,"`` or ``"sep=\\t"`` (quotes optional): the separator;
- line 2: signal names ``Shimmer_<id>_<signal>_CAL`` (or ``_RAW``);
- line 3: units (``ms``, ``uS``, ``kOhms``, ``mV``, ``m/(s^2)`` ...);
- then one row per sample; rows may end with a trailing separator.

Time comes from ``Shimmer_<id>_Timestamp_Unix_CAL`` (UTC unix milliseconds). The
sampling rate is estimated from those stamps and snapped to Shimmer's clock
divisions (32768 Hz / integer) when within 0.5 % of one. Only ``_CAL`` columns
are read. Streams: ``GSR_Skin_Conductance`` -> ``eda`` (µS), ``PPG_A<n>`` ->
``bvp``, ``PPGtoHR``/``ECGtoHR`` -> ``hr``, ``ECG_*`` -> ``ecg`` (the first
lead; other leads keep their names), ``Accel_LN_X/Y/Z`` (else another
accelerometer) -> ``acc`` with axis x/y/z, ``Temperature*`` -> ``temp``; every other
signal (skin resistance, gyroscope, pressure ...) keeps its sanitised name.
Samples are never dropped: empty cells become NaN and are counted.
"""
from __future__ import annotations

import logging
import re
from pathlib import Path

import numpy as np
import xarray as xr

from ..errors import InputError
from ._common import SHARED_NAMES, StreamPart, assemble, guess_stream, read_head, sanitise_name

__all__ = ["read_shimmer", "sniff"]

logger = logging.getLogger("synchrony")

_COL = re.compile(r"^Shimmer_([A-Za-z0-9]+)_(.+)_(CAL|RAW)$")


def _sep_line(line: str) -> str | None:
    text = line.strip().strip('"').strip()
    if text.lower().startswith("sep="):
        sep = text[4:]
        if sep in ("\\t", "\t"):
            return "\t"
        return sep[:1] or None
    return None


def sniff(path) -> bool:
    """True for a text file whose first line is ``sep=`` and whose second names ``Shimmer_..._CAL`` columns."""
    raw = read_head(path, 4096)
    if raw is None:
        return False
    lines = raw.decode("utf-8-sig", "replace").splitlines()
    if len(lines) < 2:
        return False
    sep = _sep_line(lines[0])
    if sep is None:
        return False
    cols = [c.strip().strip('"') for c in lines[1].split(sep)]
    return any(_COL.match(c) for c in cols)


def _snap_fs(fs: float) -> float:
    div = round(32768.0 / fs)
    if div >= 1 and abs(32768.0 / div - fs) <= 0.005 * fs:
        return 32768.0 / div
    return fs


def read_shimmer(path, *, device_id: str | None = None) -> xr.DataTree:
    """Read a Shimmer CSV export into a Recording.

    Parameters
    ----------
    path : str or Path
        The ``.csv`` file.
    device_id : str, optional
        Which Shimmer's columns to read when the file holds several
        (the ``<id>`` of ``Shimmer_<id>_...``); required then.

    Returns
    -------
    xarray.DataTree
        The Recording; every child has ``fs`` (Hz) and the Shimmer's own column
        name in the attribute ``columns``.

    Examples
    --------
    >>> import os, tempfile
    >>> f = os.path.join(tempfile.mkdtemp(), "s.csv")
    >>> rows = ['"sep=,"', "Shimmer_8B73_Timestamp_Unix_CAL,Shimmer_8B73_GSR_Skin_Conductance_CAL",
    ...         "ms,uS"] + [f"{1600000000000 + i * 1000 / 128:.3f},{2 + i / 100}" for i in range(256)]
    >>> _ = open(f, "w").write("\\n".join(rows) + "\\n")
    >>> rec = read_shimmer(f)
    >>> rec["eda"].attrs["fs"], rec["eda"].sizes["time"], rec.attrs["start_utc"]
    (128.0, 256, '2020-09-13T12:26:40.000000Z')
    """
    path = Path(path)
    if not path.is_file():
        raise InputError(f"{path}: no such file")
    try:
        text = path.read_bytes().decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise InputError(f"{path}: not UTF-8 text ({exc}); expected a Shimmer CSV export") from exc
    lines = text.splitlines()
    if len(lines) < 3:
        raise InputError(f"{path}: {len(lines)} lines; expected a 'sep=' line, a header row and a units row")
    sep = _sep_line(lines[0])
    if sep is None:
        raise InputError(f"{path} line 1: expected the separator line '\"sep=,\"' (or tab), found {lines[0][:40]!r}")
    header = [c.strip().strip('"') for c in lines[1].split(sep)]
    units_row = [c.strip().strip('"') for c in lines[2].split(sep)]
    while header and header[-1] == "":  # trailing separator
        header.pop()
    cols = {}
    for j, name in enumerate(header):
        m = _COL.match(name)
        if m is None:
            raise InputError(f"{path} line 2, column {j + 1}: expected a name like "
                             f"'Shimmer_<id>_<signal>_CAL', found {name!r}")
        cols[j] = m.groups()
    ids = sorted({g[0] for g in cols.values()})
    if device_id is None:
        if len(ids) > 1:
            raise InputError(f"{path} line 2: columns of several Shimmers {ids}; pass device_id= (one person)")
        device_id = ids[0]
    elif device_id not in ids:
        raise InputError(f"device_id={device_id!r}: not in {path} (line 2 names {ids})")
    cal = {j: g[1] for j, g in cols.items() if g[0] == device_id and g[2] == "CAL"}
    tcol = [j for j, s in cal.items() if s.lower() == "timestamp_unix"]
    if not tcol:
        raise InputError(f"{path} line 2: no 'Shimmer_{device_id}_Timestamp_Unix_CAL' column; expected UTC unix "
                         "milliseconds (export with the Unix timestamp enabled)")
    if len(units_row) < len(header):
        raise InputError(f"{path} line 3: expected {len(header)} units, found {len(units_row)}")
    if units_row[tcol[0]].lower() != "ms":
        raise InputError(f"{path} line 3, column {tcol[0] + 1} ({header[tcol[0]]}): expected unit 'ms', "
                         f"found {units_row[tcol[0]]!r}")
    data_lines = [(i, ln) for i, ln in enumerate(lines[3:], start=4) if ln.strip()]
    if not data_lines:
        raise InputError(f"{path}: header and units but no data rows")
    want = sorted(cal)
    values = np.empty((len(data_lines), len(want)))
    for r, (i, ln) in enumerate(data_lines):
        cells = ln.split(sep)
        if len(cells) < len(header) or any(c.strip() for c in cells[len(header):]):
            raise InputError(f"{path} line {i}: expected {len(header)} fields, found {len(cells)}")
        for k, j in enumerate(want):
            cell = cells[j].strip().strip('"')
            if cell == "" or cell.lower() == "nan":
                values[r, k] = np.nan
                continue
            try:
                values[r, k] = float(cell)
            except ValueError:
                raise InputError(f"{path} line {i}, field {header[j]!r}: expected a number, found {cell!r}") from None
    col_of = {j: k for k, j in enumerate(want)}
    t_ms = values[:, col_of[tcol[0]]]
    if np.any(~np.isfinite(t_ms)):
        bad = int(np.flatnonzero(~np.isfinite(t_ms))[0])
        raise InputError(f"{path} line {data_lines[bad][0]}, field {header[tcol[0]]!r}: missing timestamp")
    d = np.diff(t_ms)
    if np.any(d <= 0):
        bad = int(np.flatnonzero(d <= 0)[0])
        raise InputError(f"{path} line {data_lines[bad + 1][0]}, field {header[tcol[0]]!r}: timestamp "
                         f"{t_ms[bad + 1]} is not after the previous {t_ms[bad]}; expected increasing unix ms")
    if len(t_ms) < 2:
        raise InputError(f"{path}: one data row; cannot establish the sampling rate")
    fs = _snap_fs(1000.0 / float(np.median(d)))
    t0 = t_ms[0] / 1000.0
    rel = (t_ms - t_ms[0]) / 1000.0

    # Group the signals into streams.
    signals = {j: s for j, s in cal.items() if not s.lower().startswith(("timestamp", "system_timestamp"))}
    acc_groups: dict[str, dict[str, int]] = {}
    singles = []
    for j, s in signals.items():
        m = re.match(r"^(.*accel.*)_([XYZ])$", s, re.IGNORECASE)
        if m:
            acc_groups.setdefault(m.group(1), {})[m.group(2).lower()] = j
        else:
            singles.append(j)
    parts: dict[str, StreamPart] = {}
    used: set[str] = set()

    def unique(name: str) -> str:
        base, k = name, 2
        while name in used:
            name = f"{base}_{k}"
            k += 1
        used.add(name)
        return name

    groups = sorted(acc_groups.items(), key=lambda g: (0 if "ln" in g[0].lower().split("_") else 1, g[0]))
    for gname, axes in groups:
        if set(axes) != {"x", "y", "z"}:
            singles.extend(axes.values())
            continue
        name = unique("acc" if "acc" not in used else sanitise_name(gname))
        arr = np.column_stack([values[:, col_of[axes[a]]] for a in "xyz"])
        parts[name] = StreamPart({name: arr}, rel, t0, fs, units_row[axes["x"]], str(path),
                                 extra_dims={name: ("axis",)}, coords={"axis": ["x", "y", "z"]},
                                 attrs={"columns": ", ".join(header[axes[a]] for a in "xyz"),
                                        "n_missing": int(np.isnan(arr).sum())})
    for j in sorted(singles):
        s = signals[j]
        stream = guess_stream(s.replace("_", " "))
        name = stream if stream is not None and stream not in used else sanitise_name(s)
        if name in SHARED_NAMES and name in used:
            name = name + "_channel"
        name = unique(name)
        x = values[:, col_of[j]]
        parts[name] = StreamPart({name: x}, rel, t0, fs, units_row[j], str(path),
                                 attrs={"columns": header[j], "n_missing": int(np.isnan(x).sum())})
    if not parts:
        raise InputError(f"{path} line 2: only timestamp columns; expected signal columns (GSR, PPG, ECG ...)")
    return assemble(parts, device=f"Shimmer {device_id}", source=path, origin_unix=t0,
                    attrs={"separator": "tab" if sep == "\t" else sep})
