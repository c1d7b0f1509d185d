"""XDF files recorded from Lab Streaming Layer (LabRecorder), read with :mod:`pyxdf`.

An XDF file holds several LSL streams — typically one per person per device plus
marker streams. A Recording is one person, so :func:`read_xdf` keeps the streams
whose name, type, source_id or hostname matches ``select`` (a regex) plus every
marker stream (markers belong to the whole session). Streams map to Recording
children by their LSL type (``ECG`` -> ``ecg``, ``PPG``/``BVP`` -> ``bvp``,
``EDA``/``GSR`` -> ``eda``, ``RESP`` -> ``resp``, ``HR`` -> ``hr``,
``IBI``/``RR`` -> ``ibi``, ``ACC`` -> ``acc``, ``TEMP`` -> ``temp``,
``Markers`` -> ``tags``), else by name like other readers. A multi-channel
stream gives one child per channel (its first channel takes the stream's name),
except a 3-channel ``ACC`` stream (``acc`` with axis x/y/z). Two selected
streams of one modality are an error naming them: pass ``select=``.

Time: the LSL clock. Clock offsets are applied (``synchronize_clocks``) so all
streams share the recording computer's LSL clock; time stamps are otherwise
kept as recorded (no dejittering: no invented regularity). ``time = 0`` is the
earliest time stamp of *any* stream in the file, so two people read from one
file share one clock; the root attribute ``lsl_time_origin`` is that LSL time.
The absolute start is the file header's ``datetime`` (LabRecorder writes the
file's creation time, to the second; naive values are read in ``timezone``),
recorded with ``start_utc_source``; without it pass ``start_utc=`` (the instant
of ``lsl_time_origin``), else :class:`~synchrony.errors.InputError`.
``fs`` is the stream's nominal rate (absent for irregular streams);
``effective_fs`` records the rate the time stamps show.
"""
from __future__ import annotations

import logging
import re
from datetime import datetime
from pathlib import Path

import numpy as np
import xarray as xr

from ..errors import InputError, require
from ..recording import utc_to_unix
from ._common import SHARED_NAMES, StreamPart, assemble, guess_stream, read_head, sanitise_name, zone

__all__ = ["read_xdf", "sniff"]

logger = logging.getLogger("synchrony")

_TYPES = {"ecg": "ecg", "ekg": "ecg", "ppg": "bvp", "bvp": "bvp", "eda": "eda", "gsr": "eda", "resp": "resp",
          "respiration": "resp", "hr": "hr", "heartrate": "hr", "ibi": "ibi", "rr": "ibi", "acc": "acc",
          "accelerometer": "acc", "temp": "temp", "temperature": "temp", "markers": "tags", "marker": "tags",
          "events": "tags"}


def sniff(path) -> bool:
    """True for a file starting with the XDF magic ``XDF:``."""
    return read_head(path, 4) == b"XDF:"


def _info(stream: dict, key: str, default: str = "") -> str:
    value = stream.get("info", {}).get(key, [default])
    if isinstance(value, list):
        value = value[0] if value else default
    return default if value is None else str(value)


def _channel_labels_units(stream: dict, n: int) -> tuple[list[str], list[str]]:
    labels, units = [], []
    try:
        chans = stream["info"]["desc"][0]["channels"][0]["channel"]
        for ch in chans:
            labels.append(str((ch.get("label") or [""])[0] or ""))
            units.append(str((ch.get("unit") or [""])[0] or ""))
    except (KeyError, IndexError, TypeError):
        pass
    if len(labels) != n:
        labels, units = [f"ch{i + 1}" for i in range(n)], [""] * n
    return labels, units


def _parse_datetime(text: str, tz) -> float:
    t = text.strip()
    m = re.fullmatch(r"(.*[T ]\d\d:\d\d:\d\d(?:\.\d+)?)([+-]\d\d)(\d\d)", t)
    if m:  # +0200 -> +02:00
        t = f"{m.group(1)}{m.group(2)}:{m.group(3)}"
    dt = datetime.fromisoformat(t.replace("Z", "+00:00"))
    if dt.tzinfo is None:
        dt = dt.replace(tzinfo=tz)
    return dt.timestamp()


def read_xdf(path, *, select: str | None = None, start_utc: str | None = None,
             timezone: str = "UTC") -> xr.DataTree:
    """Read one person's streams (and the session's markers) from an XDF file.

    Parameters
    ----------
    path : str or Path
        The ``.xdf`` file.
    select : str, optional
        Regex (case-insensitive) matched against each stream's name, type,
        source_id and hostname; non-marker streams that do not match are left
        out. Needed when the file holds several people's devices.
    start_utc : str, optional
        The UTC instant of the LSL time ``lsl_time_origin`` (overrides the
        header's ``datetime``).
    timezone : str
        Zoneinfo name for a header ``datetime`` written without an offset.

    Returns
    -------
    xarray.DataTree
        The Recording (see the module docstring).
    """
    pyxdf = require("pyxdf", "io", "Reading XDF files")
    path = Path(path)
    tz = zone(timezone)
    if not path.is_file():
        raise InputError(f"{path}: no such file")
    with open(path, "rb") as fh:
        magic = fh.read(4)
    if magic != b"XDF:":
        raise InputError(f"{path} bytes 0-3: expected the XDF magic 'XDF:', found {magic!r}")
    try:
        streams, header = pyxdf.load_xdf(str(path), synchronize_clocks=True, dejitter_timestamps=False)
    except Exception as exc:  # pyxdf raises several types on truncated or corrupt chunks
        raise InputError(f"{path}: unreadable XDF content ({type(exc).__name__}: {exc})") from exc
    if not streams:
        raise InputError(f"{path}: the file holds no streams")
    firsts = [float(s["time_stamps"][0]) for s in streams if len(s["time_stamps"])]
    if not firsts:
        raise InputError(f"{path}: every stream is empty")
    lsl0 = min(firsts)

    if start_utc is not None:
        try:
            t0, how = utc_to_unix(start_utc), "argument"
        except ValueError as exc:
            raise InputError(f"start_utc={start_utc!r}: {exc}") from None
    else:
        info = (header or {}).get("info") or {}
        raw = info.get("datetime") if isinstance(info, dict) else None
        raw = raw[0] if isinstance(raw, list) and raw else raw
        if not raw:
            raise InputError(f"{path}: the file header has no 'datetime'; pass start_utc= (the UTC instant of the "
                             f"earliest time stamp, LSL time {lsl0:.6f})")
        try:
            t0 = _parse_datetime(str(raw), tz)
        except ValueError:
            raise InputError(f"{path} file header, field 'datetime': expected an ISO 8601 date-time, "
                             f"found {raw!r}") from None
        how = "file header datetime (file creation, about 1 s precision)"

    pattern = re.compile(select, re.IGNORECASE) if select else None
    parts: dict[str, StreamPart] = {}
    owner: dict[str, str] = {}
    markers = []
    skipped = []
    for s in streams:
        name, stype = _info(s, "name"), _info(s, "type")
        stamps = np.asarray(s["time_stamps"], dtype=np.float64)
        kind = _TYPES.get(stype.strip().lower()) or guess_stream(name) or guess_stream(stype)
        fmt = _info(s, "channel_format")
        if kind == "tags" or fmt == "string":
            values = s["time_series"]
            labels = [" | ".join(str(v) for v in row) if isinstance(row, (list, tuple, np.ndarray)) else str(row)
                      for row in values]
            markers.extend((float(t), lab, name) for t, lab in zip(stamps, labels))
            continue
        ident = " ".join((name, stype, _info(s, "source_id"), _info(s, "hostname")))
        if pattern is not None and not pattern.search(ident):
            skipped.append(name)
            continue
        if not len(stamps):
            skipped.append(name)
            continue
        if np.any(np.diff(stamps) < 0):
            raise InputError(f"{path} stream {name!r}: time stamps run backwards after clock correction")
        data = np.asarray(s["time_series"], dtype=np.float64)
        if data.ndim == 1:
            data = data[:, None]
        nominal = float(_info(s, "nominal_srate", "0") or 0)
        fs = nominal if nominal > 0 else None
        eff = (len(stamps) - 1) / (stamps[-1] - stamps[0]) if len(stamps) > 1 and stamps[-1] > stamps[0] else 0.0
        labels, units = _channel_labels_units(s, data.shape[1])
        attrs = {"lsl_name": name, "lsl_type": stype, "lsl_source_id": _info(s, "source_id"),
                 "effective_fs": float(eff)}
        base = kind or sanitise_name(name)
        if kind in owner:
            raise InputError(f"{path}: streams {owner[kind]!r} and {name!r} are both {kind}; a Recording is one "
                             "person. Pass select= (a regex on stream name/type/source_id/hostname)")
        if kind is not None:
            owner[kind] = name
        rel = stamps - lsl0
        if kind == "acc" and data.shape[1] == 3:
            parts["acc"] = StreamPart({"acc": data}, rel, t0, fs, units[0], str(path), extra_dims={"acc": ("axis",)},
                                      coords={"axis": ["x", "y", "z"]}, attrs=attrs)
            continue
        for j in range(data.shape[1]):
            cname = base if j == 0 else sanitise_name(f"{name}_{labels[j]}")
            if cname in parts or (j > 0 and cname in SHARED_NAMES):
                cname = cname + f"_{j + 1}"
            x = data[:, j]
            unit = units[j]
            a = dict(attrs, channel=labels[j])
            if cname == "ibi":
                if unit.lower() in ("ms", "millisecond", "milliseconds"):
                    x, unit = x / 1000.0, "s"
                elif unit.lower() in ("s", "second", "seconds"):
                    unit = "s"
                else:
                    ms = np.nanmedian(x) > 10
                    x, unit = (x / 1000.0 if ms else x), "s"
                    a["ibi_unit_rule"] = f"no unit in the stream; median {'>' if ms else '<='} 10 read as " \
                                         f"{'ms' if ms else 's'}"
                parts[cname] = StreamPart({"ibi": x}, rel, t0, None, "s", str(path), attrs=a)
            else:
                parts[cname] = StreamPart({cname: x}, rel, t0, fs if cname != "ibi" else None, unit, str(path),
                                          attrs=a)
    if markers:
        markers.sort(key=lambda m: m[0])
        parts["tags"] = StreamPart(
            {"tag": np.arange(1, len(markers) + 1), "label": np.array([m[1] for m in markers], dtype=str),
             "stream": np.array([m[2] for m in markers], dtype=str)},
            np.array([m[0] for m in markers]) - lsl0, t0, None, {"tag": "count", "label": "", "stream": ""}, str(path))
    if not any(k != "tags" for k in parts):
        raise InputError(f"{path}: no signal stream matched select={select!r} (streams: "
                         f"{', '.join(_info(s, 'name') for s in streams)})")
    return assemble(parts, device="LSL/XDF", source=path, origin_unix=t0,
                    attrs={"lsl_time_origin": lsl0, "start_utc_source": how, "timezone": str(timezone),
                           "streams_left_out": ", ".join(skipped)})
