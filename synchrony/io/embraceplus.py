"""Empatica EmbracePlus raw data (Avro files, schema ``empatica.format.avro.Session``).

Read with :mod:`fastavro` (optional extra ``io``). Facts of the format, from the
schema embedded in every file (checked on schema 6.5):

- ``rawData.<sensor>`` holds ``timestampStart`` (UTC, **microseconds**),
  ``samplingFrequency`` (Hz, float32) and the values; the accelerometer and
  gyroscope hold ADC counts in ``x``/``y``/``z`` with ``imuParams.conversionFactor``
  (physical units per count: g for the accelerometer, deg/s for the gyroscope);
- ``rawData.systolicPeaks.peaksTimeNanos``: PPG systolic peaks, UTC **nanoseconds**;
- ``rawData.tags.tagsTimeMicros``: button presses, UTC microseconds;
- a sensor that was not recorded has ``samplingFrequency`` 0 and no values.

Streams: ``eda`` (µS), ``bvp`` (a.u.; the schema's nW of light absorption is kept
in the variable attribute ``units_original``), ``temp`` (°C), ``acc``
(g, axis x/y/z), ``gyro``, ``steps``, ``magnetometer`` (µT),
``ambient_light`` (lux), ``ibi`` (from the systolic peaks) and ``tags``. Empty
sensors are omitted and listed in the root attribute ``empty_streams``.

``ibi``: ``time`` = peak instants, ``ibi`` = seconds since the previous peak; the
first peak of each file has ``ibi`` NaN (no previous peak is known there — a
previous file may have missed beats at its end). Peaks that appear in two files
(same nanosecond) are kept once; ``n_duplicate_peaks_dropped`` counts them.

Several files of one session (the device writes one per interval) are
concatenated by time. Gaps stay gaps: the ``time`` coordinate holds only the real
sample instants (nothing is invented or interpolated), ``fs`` is the nominal
rate, and the attributes ``n_gaps`` and ``gaps`` ("start_s-end_s" on the
recording clock) describe every gap longer than 1.5 sample periods. Overlapping
segments (the same file given twice, or files from different devices) are an
error.
"""
from __future__ import annotations

import logging
from pathlib import Path

import numpy as np
import xarray as xr

from ..errors import InputError, require
from ._common import StreamPart, assemble

__all__ = ["read_embraceplus", "sniff"]

logger = logging.getLogger("synchrony")

_AVRO_MAGIC = b"Obj\x01"
_SCHEMA_MARK = b"empatica.format.avro"

# avro sensor name -> (stream name, units, kind)
_SENSORS = {
    "eda": ("eda", "µS", "values"),
    "bvp": ("bvp", "nW", "values"),
    "temperature": ("temp", "°C", "values"),
    "steps": ("steps", "count", "values"),
    "ambientLight": ("ambient_light", "lux", "values"),
    "accelerometer": ("acc", "g", "imu"),
    "gyroscope": ("gyro", "deg/s", "imu"),
    "magnetometer": ("magnetometer", "µT", "xyz"),
}


def sniff(path) -> bool:
    """True for an Avro file (or a folder of them) whose header names the Empatica schema."""
    path = Path(path)
    if path.is_dir():
        return any(_sniff_file(p) for p in sorted(path.glob("*.avro"))[:3])
    return _sniff_file(path)


def _sniff_file(path: Path) -> bool:
    try:
        with open(path, "rb") as fh:
            head = fh.read(4096)
    except OSError:
        return False
    return head.startswith(_AVRO_MAGIC) and _SCHEMA_MARK in head


def _files(path_or_list) -> list[Path]:
    if isinstance(path_or_list, (list, tuple)):
        files = [Path(p) for p in path_or_list]
    else:
        path = Path(path_or_list)
        if path.is_dir():
            files = sorted(path.glob("*.avro"))
            if not files:
                raise InputError(f"{path}: no .avro files in this folder; expected EmbracePlus raw data files")
        else:
            files = [path]
    if not files:
        raise InputError("read_embraceplus: empty list of files")
    for f in files:
        if not f.is_file():
            raise InputError(f"{f}: no such file")
    if len({f.resolve() for f in files}) != len(files):
        raise InputError(f"{files}: the same file is listed twice")
    return files


def _load(path: Path, fastavro) -> dict:
    with open(path, "rb") as fh:
        head = fh.read(4)
        if head != _AVRO_MAGIC:
            raise InputError(f"{path} bytes 0-3: expected the Avro magic b'Obj\\x01', found {head!r}. "
                             "Is this an EmbracePlus raw data file?")
        fh.seek(0)
        try:
            records = list(fastavro.reader(fh))
        except Exception as exc:  # fastavro raises several types on corrupt input
            raise InputError(f"{path}: unreadable Avro data ({type(exc).__name__}: {exc})") from exc
    if len(records) != 1:
        raise InputError(f"{path}: expected one session record, found {len(records)}")
    rec = records[0]
    if not isinstance(rec, dict) or "rawData" not in rec:
        raise InputError(f"{path} field 'rawData': missing; expected the Empatica Session schema "
                         f"(fields rawData.eda, rawData.bvp ...)")
    return rec


def read_embraceplus(path, *, convert_imu: bool = True) -> xr.DataTree:
    """Read EmbracePlus raw Avro data: one file, a list of files, or a folder of ``*.avro``.

    Parameters
    ----------
    path : str, Path, or list of them
        One ``.avro`` file, several files of one session, or a folder.
    convert_imu : bool
        Convert accelerometer/gyroscope ADC counts to physical units with the
        file's ``conversionFactor`` (default). With False, counts are kept
        (``units`` = ``"adc counts"``).

    Returns
    -------
    xarray.DataTree
        The Recording (see the module docstring for streams and attributes).

    Examples
    --------
    >>> import synchrony as sy
    >>> rec = sy.read_embraceplus("../shared/realdata/embraceplus")  # doctest: +SKIP
    >>> rec["eda"].attrs["fs"]  # doctest: +SKIP
    4.0
    """
    fastavro = require("fastavro", "io", "Reading EmbracePlus Avro files")
    files = _files(path)
    loaded = [(f, _load(f, fastavro)) for f in files]
    serials = {rec.get("deviceSn", "") for _, rec in loaded}
    if len(serials) > 1:
        raise InputError(f"{[str(f) for f in files]}: files come from different devices {sorted(serials)}; "
                         "give the files of one device (one person) at a time")

    segments: dict[str, list] = {}  # stream -> [(start_us, fs, values dict, file)]
    peaks: list[tuple[np.ndarray, Path]] = []
    tags: list[np.ndarray] = []
    empty: set[str] = set()
    seen: set[str] = set()
    for f, rec in loaded:
        raw = rec["rawData"]
        for sensor, (stream, unit, kind) in _SENSORS.items():
            block = raw.get(sensor)
            if block is None:
                continue
            try:
                fs = float(block["samplingFrequency"])
                start = int(block["timestampStart"])
                if kind == "values":
                    vals = {stream: np.asarray(block["values"], dtype=np.float64)}
                else:
                    xyz = np.column_stack([np.asarray(block[a], dtype=np.float64) for a in "xyz"]) \
                        if len(block["x"]) else np.empty((0, 3))
                    if kind == "imu" and convert_imu:
                        xyz = xyz * float(block["imuParams"]["conversionFactor"])
                    vals = {stream: xyz}
                    if kind == "xyz" and len(block.get("qualityIndex", [])) == len(xyz):
                        vals["quality_index"] = np.asarray(block["qualityIndex"], dtype=np.float64)
            except (KeyError, TypeError, ValueError) as exc:
                raise InputError(f"{f} field 'rawData.{sensor}': malformed ({exc}); expected "
                                 "timestampStart, samplingFrequency and values") from exc
            n = len(next(iter(vals.values())))
            if fs <= 0 or n == 0:
                empty.add(sensor)
                continue
            seen.add(sensor)
            segments.setdefault(stream, []).append((start, fs, vals, f, unit))
        sp = raw.get("systolicPeaks") or {}
        p = np.asarray(sp.get("peaksTimeNanos", []), dtype=np.int64)
        if len(p):
            if np.any(np.diff(p) <= 0):
                raise InputError(f"{f} field 'rawData.systolicPeaks.peaksTimeNanos': instants are not "
                                 "strictly increasing")
            peaks.append((p, f))
        tg = raw.get("tags") or {}
        t = np.asarray(tg.get("tagsTimeMicros", []), dtype=np.int64)
        if len(t):
            tags.append(t)
    empty -= seen
    if not peaks:
        empty.add("systolicPeaks")
    if not tags:
        empty.add("tags")

    # Every instant is handled in integer microseconds; origin = earliest first sample of any stream.
    firsts = [seg[0] for segs in segments.values() for seg in segs]
    firsts += [int(p[0] // 1000) for p, _ in peaks] + [int(t.min()) for t in tags]
    if not firsts:
        raise InputError(f"{files[0]}: every sensor is empty (samplingFrequency 0); nothing to read")
    origin_us = min(firsts)
    origin_s = origin_us / 1e6

    parts: dict[str, StreamPart] = {}
    for stream, segs in segments.items():
        segs.sort(key=lambda s: s[0])
        fs = segs[0][1]
        unit = segs[0][4] if convert_imu or stream not in ("acc", "gyro") else "adc counts"
        times, values, gaps = [], {}, []
        prev_end_us = None
        for start, fs_k, vals, f, _ in segs:
            if abs(fs_k - fs) > 1e-3 * fs:
                raise InputError(f"{f} field 'rawData' stream {stream}: sampling rate {fs_k} Hz differs from "
                                 f"{fs} Hz in {segs[0][3]}; expected one rate per session")
            n = len(next(iter(vals.values())))
            t = (start - origin_us) / 1e6 + np.arange(n) / fs_k
            if prev_end_us is not None:
                if start < prev_end_us - 0.5e6 / fs:
                    raise InputError(f"{f} stream {stream}: starts at {start} µs, before the previous segment "
                                     f"ends ({prev_end_us} µs); overlapping files (the same data twice?)")
                if start - prev_end_us > 0.5e6 / fs:  # more than 1.5 periods after the last sample
                    gaps.append(f"{times[-1][-1]:.6f}-{t[0]:.6f}")
            prev_end_us = start + int(round(n * 1e6 / fs_k))
            times.append(t)
            for k, v in vals.items():
                values.setdefault(k, []).append(v)
        extra = {stream: ("axis",)} if stream in ("acc", "gyro", "magnetometer") else None
        coords = {"axis": ["x", "y", "z"]} if extra else None
        units = {k: (unit if k == stream else "") for k in values}
        parts[stream] = StreamPart(
            {k: np.concatenate(v) for k, v in values.items()}, np.concatenate(times), origin_s, fs, units,
            ", ".join(sorted({str(s[3]) for s in segs})), extra_dims=extra, coords=coords,
            attrs={"n_gaps": len(gaps), "gaps": "; ".join(gaps), "n_files": len(segs)},
        )

    if peaks:
        peaks.sort(key=lambda pf: pf[0][0])
        all_t, all_ibi, dropped, last = [], [], 0, None
        for p, f in peaks:
            if last is not None:
                keep = p > last
                dropped += int(np.count_nonzero(~keep))
                p = p[keep]
                if not len(p):
                    continue
            ibi = np.empty(len(p))
            ibi[0] = np.nan  # the interval ending at a file's first peak is unknown
            ibi[1:] = np.diff(p) / 1e9
            all_t.append(p)
            all_ibi.append(ibi)
            last = p[-1]
        p = np.concatenate(all_t)
        parts["ibi"] = StreamPart(
            {"ibi": np.concatenate(all_ibi)}, (p - origin_us * 1000) / 1e9, origin_s, None, "s",
            ", ".join(str(f) for _, f in peaks),
            attrs={"n_duplicate_peaks_dropped": dropped,
                   "ibi_rule": "seconds since the previous systolic peak; NaN at the first peak of each file"},
        )
    if tags:
        t = np.unique(np.concatenate(tags))
        parts["tags"] = StreamPart({"tag": np.arange(1, len(t) + 1)}, (t - origin_us) / 1e6, origin_s, None,
                                   "count", ", ".join(str(f) for f in files))

    first = loaded[0][1]
    version = first.get("schemaVersion") or {}
    return assemble(
        parts, device=f"Empatica {first.get('deviceModel', 'EMBRACEPLUS')} {first.get('deviceSn', '')}".strip(),
        source=files[0] if len(files) == 1 else files[0].parent, origin_unix=origin_s,
        attrs={
            "empty_streams": ", ".join(sorted(empty)),
            "schema_version": ".".join(str(version.get(k, "?")) for k in ("major", "minor", "patch")),
            "local_utc_offset_s": int(first.get("timezone", 0)),
            "participant_id": str((first.get("enrollment") or {}).get("participantID", "")),
            "n_files": len(files),
        },
    )
