"""Polar Sensor Logger exports (H10, Verity Sense, OH1 ...): ``;``-separated text files.

Each file's first column is the phone's **local** clock time (``Phone timestamp``
or ``Phone Data RX timestamp``, ``YYYY-MM-DDTHH:MM:SS.mmm``, no zone), so
:func:`read_polar` takes an explicit ``timezone`` (zoneinfo name) and records it.
Files are recognised by their header row, not their name:

==============  =====================================================  ========
header columns  content                                                stream
==============  =====================================================  ========
HR [bpm]        device heart rate, about 1 Hz (0 = no reading)          ``hr``
PP-interval     beat intervals (ms) with error estimate (ms), blocker,  ``ibi``
                skin-contact and contact-supported flags, HR
RR-interval     an H10's RR intervals beside its HR                     ``ibi``
ecg [uV]        ECG (µV, scaled to mV), sensor clock in ns              ``ecg``
X/Y/Z [mg]      accelerometer (mg -> g)                                 ``acc``
channel 0 ...   PPG channels (ADC counts, a.u.) and ambient light        ``bvp``
Marker          MARKER_START / MARKER_STOP                              ``tags``
==============  =====================================================  ========

Decisions, documented in the streams' attributes:

- HR rows of 0 bpm are the device's "no reading" and become NaN
  (``n_zero_as_missing``); the phone timestamps are kept as they are (no
  invented samples). Those stamps jitter (0.6-1.5 s apart), so the stream
  is irregular: no ``fs``; ``nominal_fs`` = 1 Hz records the device's rate.
- PPI rows: the logger stamps each packet on arrival and back-fills the rows
  inside it so that a row's stamp plus its interval is the next row's stamp
  (checked on a real export). The stamp therefore marks the **start** of the
  interval; the beat that ends it — our ``time`` — is ``stamp + interval``.
  Every row is kept; flagged rows are counted (``n_blocker``,
  ``n_no_skin_contact``) and the flags kept as variables.
- ECG/ACC/PPG rows carry the sensor's own nanosecond clock; sample times are
  that clock (regular, precise) shifted onto the phone's clock by the median
  difference between the two; ``fs`` is estimated from the sensor clock.
"""
from __future__ import annotations

import logging
from datetime import datetime
from pathlib import Path

import numpy as np
import xarray as xr

from ..errors import InputError
from ._common import StreamPart, assemble, zone

__all__ = ["read_polar", "sniff"]

logger = logging.getLogger("synchrony")

_TIME_COLS = ("phone timestamp", "phone data rx timestamp")


def _first_line(path: Path) -> str:
    try:
        with open(path, "rb") as fh:
            head = fh.read(2048)
    except OSError:
        return ""
    return head.split(b"\n", 1)[0].decode("utf-8-sig", "replace").strip("\r\n ")


def _is_polar(path: Path) -> bool:
    line = _first_line(path)
    return ";" in line and line.split(";", 1)[0].strip().lower() in _TIME_COLS


def sniff(path) -> bool:
    """True for a Polar Sensor Logger file (or a folder with one): first column ``Phone timestamp``."""
    path = Path(path)
    if path.is_dir():
        return any(_is_polar(p) for p in _candidates(path))
    return path.is_file() and _is_polar(path)


def _candidates(folder: Path) -> list[Path]:
    return sorted(p for p in folder.iterdir() if p.is_file() and p.suffix.lower() in (".txt", ".csv"))


def _kind(header: list[str]) -> str | None:
    low = [h.strip().lower() for h in header]
    if any(h.startswith("pp-interval") for h in low) or any(h.startswith("rr-interval") for h in low):
        return "ibi"
    if any(h.startswith("ecg") for h in low):
        return "ecg"
    if any(h.startswith("hr") for h in low):
        return "hr"
    if {"x [mg]", "y [mg]", "z [mg]"} <= set(low):
        return "acc"
    if any(h.startswith("channel 0") for h in low):
        return "bvp"
    if any("marker" in h for h in low):
        return "tags"
    return None


def _parse_table(path: Path) -> tuple[list[str], list[list[str]], list[int]]:
    try:
        text = path.read_bytes().decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise InputError(f"{path}: not UTF-8 text ({exc}); expected a Polar Sensor Logger export") from exc
    lines = text.splitlines()
    if not lines:
        raise InputError(f"{path}: empty file; expected a header row starting with 'Phone timestamp'")
    header = [h.strip() for h in lines[0].split(";")]
    if header[0].lower() not in _TIME_COLS:
        raise InputError(f"{path} line 1: expected a header starting with 'Phone timestamp;', found {lines[0][:60]!r}")
    rows, numbers = [], []
    for i, line in enumerate(lines[1:], start=2):
        if not line.strip():
            continue
        cells = [c.strip() for c in line.split(";")]
        if cells and cells[-1] == "" and len(cells) == len(header) + 1:
            cells = cells[:-1]  # a trailing ';'
        if len(cells) != len(header):
            raise InputError(f"{path} line {i}: expected {len(header)} ';'-separated fields "
                             f"({';'.join(header)}), found {len(cells)}: {line[:80]!r}")
        rows.append(cells)
        numbers.append(i)
    return header, rows, numbers


def _phone_times(path: Path, rows, numbers, tz) -> np.ndarray:
    out = np.empty(len(rows))
    for k, (cells, line) in enumerate(zip(rows, numbers)):
        text = cells[0].replace(" ", "T", 1)
        try:
            dt = datetime.fromisoformat(text)
        except ValueError:
            raise InputError(f"{path} line {line}, field 'Phone timestamp': expected a local time like "
                             f"2022-04-25T11:39:02.323, found {cells[0]!r}") from None
        if dt.tzinfo is None:
            dt = dt.replace(tzinfo=tz)
        out[k] = dt.timestamp()
    return out


def _column(path, header, rows, numbers, name_start: str, *, required=True) -> np.ndarray | None:
    low = [h.lower() for h in header]
    idx = [i for i, h in enumerate(low) if h.startswith(name_start)]
    if not idx:
        if required:
            raise InputError(f"{path} line 1: expected a column starting with {name_start!r}, found {header}")
        return None
    return _numbers(path, rows, numbers, idx[0], header[idx[0]])


def _numbers(path, rows, numbers, j: int, field: str) -> np.ndarray:
    out = np.empty(len(rows))
    for k, (cells, line) in enumerate(zip(rows, numbers)):
        try:
            out[k] = float(cells[j])
        except ValueError:
            raise InputError(f"{path} line {line}, field {field!r}: expected a number, found {cells[j]!r}") from None
    return out


def _sensor_clock(path, header, rows, numbers, phone: np.ndarray) -> tuple[float, np.ndarray, float]:
    """(t0 unix, relative times, fs) from the sensor's ns clock aligned to the phone clock."""
    j = next((i for i, h in enumerate(header) if h.lower().startswith("sensor timestamp")), None)
    if j is None:
        raise InputError(f"{path} line 1: expected a 'sensor timestamp [ns]' column, found {header}")
    ns_int = np.empty(len(rows), dtype=np.int64)
    for k, (cells, line) in enumerate(zip(rows, numbers)):
        try:
            ns_int[k] = int(cells[j])
        except ValueError:
            raise InputError(f"{path} line {line}, field {header[j]!r}: expected an integer count of ns, "
                             f"found {cells[j]!r}") from None
    rel = (ns_int - ns_int[0]) / 1e9
    if np.any(np.diff(rel) <= 0):
        bad = int(np.flatnonzero(np.diff(rel) <= 0)[0])
        raise InputError(f"{path} line {numbers[bad + 1]}, field 'sensor timestamp [ns]': not after the previous "
                         "row; expected strictly increasing sensor times")
    offset = float(np.median(phone - rel))  # phone instant of the first sensor sample
    fs = (len(rel) - 1) / rel[-1] if len(rel) > 1 and rel[-1] > 0 else None
    if fs is None:
        raise InputError(f"{path}: fewer than two samples; cannot establish the sampling rate")
    return offset, rel, float(fs)


def _check_sorted(path, t, numbers, field="Phone timestamp"):
    if len(t) > 1 and np.any(np.diff(t) < 0):
        bad = int(np.flatnonzero(np.diff(t) < 0)[0])
        raise InputError(f"{path} line {numbers[bad + 1]}, field {field!r}: time runs backwards "
                         "(earlier than the previous row); expected rows in time order")


def _read_file(path: Path, kind: str, tz, device: str) -> StreamPart:
    header, rows, numbers = _parse_table(path)
    if not rows:
        raise InputError(f"{path}: a header but no data rows")
    phone = _phone_times(path, rows, numbers, tz)
    src = str(path)
    if kind == "hr":
        _check_sorted(path, phone, numbers)
        hr = _column(path, header, rows, numbers, "hr")
        zero = hr == 0
        hr = np.where(zero, np.nan, hr)
        variables = {"hr": hr}
        units = {"hr": "bpm"}
        rr = _column(path, header, rows, numbers, "rr", required=False)
        if rr is not None:
            variables["rr_ms_list"] = rr
            units["rr_ms_list"] = "ms"
        # the phone stamps jitter (0.6-1.5 s apart in a real export): an irregular stream, no fs
        return StreamPart(variables, phone - phone[0], phone[0], None, units, src,
                          attrs={"n_zero_as_missing": int(zero.sum()), "nominal_fs": 1.0,
                                 "time_rule": "phone timestamps as written (irregular; the device's nominal "
                                              "rate is nominal_fs)"})
    if kind == "ibi":
        ppi = _column(path, header, rows, numbers, "pp-interval", required=False)
        if ppi is None:
            ppi = _column(path, header, rows, numbers, "rr-interval")
        low = [h.lower() for h in header]
        variables = {"ibi": ppi / 1000.0}
        units = {"ibi": "s"}
        err = _column(path, header, rows, numbers, "error estimate", required=False)
        if err is not None:
            variables["error_estimate"] = err / 1000.0
            units["error_estimate"] = "s"
        flags = {}
        contact_idx = [i for i, h in enumerate(low) if h in ("contact", "skin contact")]
        supported_idx = [i for i, h in enumerate(low) if h == "skin contact supported"]
        if len(contact_idx) == 2 and not supported_idx:  # the phone layout: contact;contact
            contact_idx, supported_idx = contact_idx[:1], contact_idx[1:]
        if "blocker" in low:
            flags["blocker"] = low.index("blocker")
        if contact_idx:
            flags["skin_contact"] = contact_idx[0]
        if supported_idx:
            flags["skin_contact_supported"] = supported_idx[0]
        for name, j in flags.items():
            variables[name] = _numbers(path, rows, numbers, j, header[j]).astype(np.int8)
            units[name] = "flag"
        hr_idx = [i for i, h in enumerate(low) if h.startswith("hr")]
        if hr_idx:
            dev_hr = _numbers(path, rows, numbers, hr_idx[0], header[hr_idx[0]])
            variables["device_hr"] = np.where(dev_hr == 0, np.nan, dev_hr)
            units["device_hr"] = "bpm"
        beat = phone + ppi / 1000.0
        order = np.argsort(beat, kind="stable")
        if np.any(order != np.arange(len(beat))):
            variables = {k: v[order] for k, v in variables.items()}
            beat = beat[order]
        n_block = int(np.count_nonzero(variables.get("blocker", np.zeros(0)) == 1))
        no_contact = 0
        if "skin_contact" in variables:
            sup = variables.get("skin_contact_supported", np.ones(len(beat), dtype=np.int8))
            no_contact = int(np.count_nonzero((variables["skin_contact"] == 0) & (sup == 1)))
        return StreamPart(variables, beat - beat[0], beat[0], None, units, src,
                          start_unix=float(phone[0]),
                          attrs={"n_blocker": n_block, "n_no_skin_contact": no_contact,
                                 "beat_time_rule": "phone timestamp + interval (the stamp marks the interval's "
                                                   "start; the beat that ends it is the time)"})
    if kind == "tags":
        _check_sorted(path, phone, numbers)
        labels = np.array([r[1] for r in rows], dtype=str)
        return StreamPart({"tag": np.arange(1, len(rows) + 1), "label": labels}, phone - phone[0], phone[0],
                          None, {"tag": "count", "label": ""}, src)
    t0, rel, fs = _sensor_clock(path, header, rows, numbers, phone)
    attrs = {"time_rule": "sensor clock (ns) shifted onto the phone clock by the median difference; fs "
                          "estimated from the sensor clock"}
    if kind == "ecg":
        ecg = _column(path, header, rows, numbers, "ecg")
        return StreamPart({"ecg": ecg}, rel, t0, fs, "uV", src, attrs=attrs)
    if kind == "acc":
        acc = np.column_stack([_column(path, header, rows, numbers, f"{a} [mg]") for a in "xyz"]) / 1000.0
        return StreamPart({"acc": acc}, rel, t0, fs, "g", src, extra_dims={"acc": ("axis",)},
                          coords={"axis": ["x", "y", "z"]}, attrs=attrs)
    if kind == "bvp":
        low = [h.lower() for h in header]
        chans = [i for i, h in enumerate(low) if h.startswith("channel")]
        ppg = np.column_stack([_numbers(path, rows, numbers, j, header[j]) for j in chans])
        variables = {"bvp": ppg}
        units = {"bvp": "adc counts"}
        if "ambient" in low:
            variables["ambient"] = _numbers(path, rows, numbers, low.index("ambient"), "ambient")
            units["ambient"] = "adc counts"
        return StreamPart(variables, rel, t0, fs, units, src, extra_dims={"bvp": ("ppg_channel",)},
                          coords={"ppg_channel": [header[j] for j in chans]}, attrs=attrs)
    raise AssertionError(kind)  # pragma: no cover


def read_polar(path, *, timezone: str = "UTC") -> xr.DataTree:
    """Read a Polar Sensor Logger export: one file or a folder of ``.txt`` files.

    Parameters
    ----------
    path : str or Path
        A ``*_HR.txt``/``*_PPI.txt``/``*_ECG.txt``/``*_ACC.txt``/``*_PPG.txt``/
        ``MARKER.txt`` file, or a folder holding them (one device, one person).
    timezone : str
        Zoneinfo name of the phone's clock (e.g. ``"Europe/Zurich"``). The
        phone writes local time without a zone; give it explicitly. Recorded
        in the root attribute ``timezone``.

    Returns
    -------
    xarray.DataTree
        The Recording (streams and decisions: see the module docstring).

    Examples
    --------
    >>> import synchrony as sy
    >>> rec = sy.read_polar("../shared/realdata/polar_sensor_logger",
    ...                     timezone="Europe/Istanbul")  # doctest: +SKIP
    >>> rec["ibi"].sizes["time"]  # doctest: +SKIP
    442
    """
    tz = zone(timezone)
    path = Path(path)
    if path.is_dir():
        files = [p for p in _candidates(path) if _is_polar(p)]
        if not files:
            raise InputError(f"{path}: no Polar Sensor Logger files here (none starts with 'Phone timestamp;')")
    elif path.is_file():
        files = [path]
    else:
        raise InputError(f"{path}: no such file or folder")
    parts: dict[str, StreamPart] = {}
    for f in files:
        line = _first_line(f)
        kind = _kind(line.split(";"))
        if kind is None:
            raise InputError(f"{f} line 1: unknown Polar Sensor Logger file; expected a header naming HR, "
                             f"PP-interval, ecg, X/Y/Z [mg], channel 0 or Marker, found {line[:80]!r}")
        if kind in parts:
            raise InputError(f"{f}: a second {kind} file in one folder (the first: {parts[kind].source}); "
                             "give one device's files at a time")
        parts[kind] = _read_file(f, kind, tz, "Polar")
    # Polar Sensor Logger names files Polar_<model>_<id>_<date>_<kind>.txt
    named = [f.stem.split("_") for f in files if f.stem.lower().startswith("polar_")]
    device = "Polar " + named[0][1] if named and len(named[0]) > 2 else "Polar"
    return assemble(parts, device=device, source=path, attrs={"timezone": str(timezone)})
