"""Empatica E4 exports: the ``.zip`` from E4 Connect, its unzipped folder, or one of its CSV files.

The export holds one CSV per stream (vendor description, ``info.txt`` of every export):

==========  =========  =====================================================  ===========
file        stream     content                                                units
==========  =========  =====================================================  ===========
EDA.csv     ``eda``    electrodermal activity, 4 Hz                           µS
BVP.csv     ``bvp``    photoplethysmograph (blood volume pulse), 64 Hz        a.u.
HR.csv      ``hr``     average heart rate from BVP, 1 Hz (starts 10 s later)  bpm
TEMP.csv    ``temp``   skin temperature, 4 Hz                                 °C
ACC.csv     ``acc``    3-axis accelerometer x, y, z, 32 Hz, range ±2 g        1/64 g
IBI.csv     ``ibi``    beats ``offset_s, ibi_s``; row 1 ``<start>, IBI``      s
tags.csv    ``tags``   one UTC unix instant per button press                  —
==========  =========  =====================================================  ===========

Regular files: row 1 is the stream's start as UTC unix seconds, row 2 its sampling
rate in Hz (ACC repeats both values once per column), samples from row 3. Sample
``i`` lies at ``offset + i / fs`` seconds from the recording start, where the
recording start is the earliest header start among the streams and ``offset`` is
this stream's header start minus it (so HR begins at 10.0). Header instants keep
their microsecond precision. ``ibi``: the beat instants are the offsets plus the
file's header offset; the variable ``ibi`` is the interval that ends at each beat.
``tags``: ``time`` is each press in seconds from the recording start and ``tag``
its 1-based press number. A missing or empty ``tags.csv`` gives a ``tags`` child of
length zero, so that "no tags" is visible and distinguishable from "not read".
Non-finite values (``nan``) are kept as NaN and counted in the child's ``n_missing``.

Zip archives are read in memory, never extracted. Entries with absolute paths or
``..`` are refused, as are archives whose members would expand to more than
:data:`MAX_UNCOMPRESSED_BYTES` or with a compression ratio above
:data:`MAX_COMPRESSION_RATIO` (zip bombs). The E4 files may sit at the top level or in
one sub-folder. In errors and in ``source`` attributes a zip member is written
``archive.zip::EDA.csv``.

>>> import tempfile, pathlib
>>> folder = pathlib.Path(tempfile.mkdtemp())
>>> _ = (folder / "EDA.csv").write_text("1600000000.000000\\n4.000000\\n0.1\\n0.2\\n0.3\\n")
>>> _ = (folder / "HR.csv").write_text("1600000010.000000\\n1.000000\\n70.0\\n71.5\\n")
>>> rec = read_e4(folder)
>>> sorted(rec.children)
['eda', 'hr', 'tags']
>>> rec["hr"]["time"].values.tolist(), rec["hr"].attrs["start_utc"]
([10.0, 11.0], '2020-09-13T12:26:50.000000Z')
>>> rec["eda"]["time"].values.tolist()
[0.0, 0.25, 0.5]
>>> rec["tags"].sizes["time"]
0
"""
from __future__ import annotations

import logging
import re
import zipfile
from dataclasses import dataclass
from decimal import ROUND_HALF_EVEN, Decimal, InvalidOperation
from pathlib import Path, PurePosixPath

import numpy as np
import xarray as xr

from ..errors import InputError, where
from ..recording import make_recording, make_stream, utc_from_unix
from ._text import count_nonfinite, decode, is_positive_finite, parse_block, parse_number, read_text, split_lines

__all__ = ["read_e4", "sniff", "E4_FILES", "MAX_UNCOMPRESSED_BYTES", "MAX_COMPRESSION_RATIO"]

logger = logging.getLogger("synchrony")

DEVICE = "Empatica E4"

#: file name -> (stream name, units, number of data columns); order = order of children
E4_FILES: dict[str, tuple[str, str, int]] = {
    "EDA.csv": ("eda", "µS", 1),
    "BVP.csv": ("bvp", "a.u.", 1),
    "HR.csv": ("hr", "bpm", 1),
    "IBI.csv": ("ibi", "s", 2),
    "ACC.csv": ("acc", "1/64 g", 3),
    "TEMP.csv": ("temp", "°C", 1),
    "tags.csv": ("tags", "count", 1),
}
_BY_LOWER = {name.lower(): name for name in E4_FILES}

#: refuse archives whose members would expand to more than this (2 GiB)
MAX_UNCOMPRESSED_BYTES = 2 * 1024**3
#: refuse large members compressed more than this many times. Real E4 CSVs compress 3-10x; a
#: long constant stretch (sensor off the wrist) can reach a few hundred, while deflate itself
#: cannot exceed about 1032x, so a higher stated ratio means a forged or non-deflate bomb.
MAX_COMPRESSION_RATIO = 1000.0
#: the ratio is only checked for members above this size (16 MiB; a day of E4 BVP is ~40 MB)
_RATIO_MIN_BYTES = 16 * 1024 * 1024

#: the streams of one E4 export start within seconds of each other; a day apart means a damaged header
_MAX_START_SPREAD_US = 86400 * 1_000_000

#: plausible header values: unix seconds below 1e11 (year 5138), rates of 1 mHz to 100 kHz
_MAX_UNIX_S = 1e11
_MIN_RATE_HZ, _MAX_RATE_HZ = 1e-3, 1e5

_HINT = "Is this an E4 export? Row 1 must be the start time (UTC unix seconds), row 2 the rate in Hz."


@dataclass
class _Parsed:
    stream: str
    source: str
    start_us: int | None  # header start in integer microseconds (None: tags)
    fs: float | None
    values: np.ndarray
    instants_us: np.ndarray | None = None  # tags: absolute instants


# --------------------------------------------------------------------------- header parsing


def _unix_us(token: str, source, line: int, what: str) -> int:
    """UTC unix seconds text -> integer microseconds, exactly (no float rounding)."""
    text = token.strip()
    try:
        if not text or "_" in text:
            raise InvalidOperation
        value = Decimal(text)
        if not value.is_finite():
            raise InvalidOperation
    except (InvalidOperation, ValueError):
        raise InputError(f"{where(source, line)}expected {what}, found {token.strip()!r}. {_HINT}") from None
    if not 0 <= value < _MAX_UNIX_S:
        raise InputError(f"{where(source, line)}expected {what} between 0 (1970) and {_MAX_UNIX_S:g} "
                         f"(year 5138), found {token.strip()!r}. {_HINT}")
    return int((value * 1_000_000).to_integral_value(rounding=ROUND_HALF_EVEN))


def _header_values(text: str, source, line: int, ncols: int, what: str) -> list[str]:
    fields = text.split(",")
    if len(fields) != ncols:
        raise InputError(
            f"{where(source, line)}expected {what} in {ncols} column(s), found {len(fields)}: {text.strip()!r}. {_HINT}"
        )
    return fields


def _same(values: list, source, line: int, what: str) -> None:
    if len(set(values)) > 1:
        raise InputError(f"{where(source, line)}expected the same {what} in every column, found {values}")


def _parse_regular(lines: list[str], source: str, stream: str, ncols: int) -> _Parsed:
    if not lines:
        raise InputError(f"{where(source, 1)}expected the start time (UTC unix seconds), found an empty file. {_HINT}")
    starts = [_unix_us(t, source, 1, "the start time as UTC unix seconds")
              for t in _header_values(lines[0], source, 1, ncols, "the start time (UTC unix seconds)")]
    _same(starts, source, 1, "start time")
    if len(lines) < 2 or not lines[1].strip():
        raise InputError(f"{where(source, 2)}expected the sampling rate in Hz, found "
                         f"{'nothing (the file ends after row 1)' if len(lines) < 2 else 'an empty line'}. {_HINT}")
    rates = [parse_number(t, source, 2, "the sampling rate in Hz", hint=_HINT)
             for t in _header_values(lines[1], source, 2, ncols, "the sampling rate in Hz")]
    _same(rates, source, 2, "sampling rate")
    fs = rates[0]
    if not is_positive_finite(fs):
        raise InputError(f"{where(source, 2)}expected a positive, finite sampling rate in Hz, found {lines[1].strip()!r}")
    if not _MIN_RATE_HZ <= fs <= _MAX_RATE_HZ:
        raise InputError(f"{where(source, 2)}expected a sampling rate between {_MIN_RATE_HZ:g} and "
                         f"{_MAX_RATE_HZ:g} Hz (the E4 records at 1-64 Hz), found {lines[1].strip()!r}")
    values = parse_block(lines[2:], source, first_line=3, ncols=ncols, what="a number")
    return _Parsed(stream, source, starts[0], fs, values if ncols > 1 else values[:, 0])


def _parse_ibi(lines: list[str], source: str) -> _Parsed:
    if not lines:
        raise InputError(f"{where(source, 1)}expected '<start>, IBI', found an empty file. {_HINT}")
    fields = lines[0].split(",")
    if len(fields) != 2 or fields[1].strip().upper() != "IBI":
        raise InputError(f"{where(source, 1)}expected '<start time>, IBI', found {lines[0].strip()!r}")
    start = _unix_us(fields[0], source, 1, "the start time as UTC unix seconds")
    values = parse_block(lines[1:], source, first_line=2, ncols=2, what="a time or interval in seconds")
    offsets = values[:, 0]
    if not np.all(np.isfinite(offsets)):
        bad = int(np.flatnonzero(~np.isfinite(offsets))[0])
        raise InputError(f"{where(source, bad + 2)}expected a finite beat offset in seconds, found {lines[bad + 1].split(',')[0].strip()!r}")
    _check_increasing(offsets, source, first_line=2, what="beat offsets", strict=True)
    return _Parsed("ibi", source, start, None, values)


def _parse_tags(lines: list[str], source: str) -> _Parsed:
    instants = [_unix_us(t, source, i + 1, "a tag instant as UTC unix seconds") if t.strip() else None
                for i, t in enumerate(lines)]
    for i, v in enumerate(instants):
        if v is None:
            raise InputError(f"{where(source, i + 1)}expected a tag instant (UTC unix seconds), found an empty line")
    us = np.asarray(instants, dtype=np.int64)
    _check_increasing(us / 1e6, source, first_line=1, what="tag instants (UTC unix seconds)", strict=False)
    return _Parsed("tags", source, None, None, np.arange(1, len(us) + 1, dtype=np.int64), instants_us=us)


def _check_increasing(t: np.ndarray, source, *, first_line: int, what: str, strict: bool) -> None:
    if t.size < 2:
        return
    d = np.diff(t)
    bad = np.flatnonzero(d <= 0 if strict else d < 0)
    if bad.size:
        i = int(bad[0]) + 1
        raise InputError(
            f"{where(source, first_line + i)}expected {what} in increasing order, found {float(t[i])!r} after "
            f"{float(t[i - 1])!r}"
        )


def _parse_file(name: str, text: str, source: str) -> _Parsed:
    stream, _units, ncols = E4_FILES[name]
    lines = split_lines(text)
    if stream == "ibi":
        return _parse_ibi(lines, source)
    if stream == "tags":
        return _parse_tags(lines, source)
    return _parse_regular(lines, source, stream, ncols)


# --------------------------------------------------------------------------- containers


def _zip_members(path: Path) -> dict[str, tuple[str, bytes]]:
    """Read the E4 members of a zip in memory: canonical file name -> (source label, bytes)."""
    try:
        zf = zipfile.ZipFile(path)
    except (zipfile.BadZipFile, OSError, EOFError, ValueError, NotImplementedError) as exc:
        raise InputError(f"{path}: expected a zip archive (E4 export), but it is unreadable: {exc}. "
                         "The file may be truncated or corrupt; download it again.") from exc
    with zf:
        infos = zf.infolist()
        total = 0
        for info in infos:
            name = info.filename
            parts = PurePosixPath(name.replace("\\", "/")).parts
            if name.startswith(("/", "\\")) or re.match(r"^[A-Za-z]:", name) or ".." in parts:
                raise InputError(f"{path}: refused the archive entry {name!r}: absolute paths and '..' are not allowed")
            total += info.file_size
            if info.file_size > _RATIO_MIN_BYTES and info.file_size > MAX_COMPRESSION_RATIO * max(info.compress_size, 1):
                raise InputError(
                    f"{path}: refused the archive entry {name!r}: it expands {info.file_size} bytes from "
                    f"{info.compress_size} (ratio above {MAX_COMPRESSION_RATIO:g}); this looks like a zip bomb"
                )
        if total > MAX_UNCOMPRESSED_BYTES:
            raise InputError(f"{path}: refused the archive: its members expand to {total} bytes, more than the "
                             f"limit of {MAX_UNCOMPRESSED_BYTES} bytes")
        # group the E4 names by folder; ignore macOS resource forks and hidden files
        folders: dict[str, dict[str, zipfile.ZipInfo]] = {}
        for info in infos:
            if info.is_dir():
                continue
            p = PurePosixPath(info.filename.replace("\\", "/"))
            if p.parts and (p.parts[0] == "__MACOSX" or p.name.startswith(".")):
                continue
            canon = _BY_LOWER.get(p.name.lower())
            if canon is None:
                continue
            folders.setdefault(str(p.parent), {})[canon] = info
        if not folders:
            raise InputError(f"{path}: expected an Empatica E4 export with some of {', '.join(E4_FILES)}; "
                             f"the archive holds none of them")
        if len(folders) > 1:
            raise InputError(f"{path}: expected one E4 session, found E4 files in several folders of the "
                             f"archive: {', '.join(sorted(folders))}")
        (folder, members), = folders.items()
        if folder.count("/") > 0:
            raise InputError(f"{path}: expected the E4 files at the top level or in one sub-folder, found "
                             f"them in {folder!r}")
        out = {}
        for canon, info in members.items():
            label = f"{path}::{info.filename}"
            try:
                with zf.open(info) as fh:
                    data = fh.read(info.file_size + 1)
            except (zipfile.BadZipFile, OSError, EOFError, ValueError, RuntimeError) as exc:
                raise InputError(f"{label}: the archive member is unreadable ({exc}); the zip may be truncated "
                                 "or corrupt") from exc
            except Exception as exc:  # zlib.error and friends from a damaged stream
                raise InputError(f"{label}: the archive member is unreadable ({type(exc).__name__}: {exc}); "
                                 "the zip may be truncated or corrupt") from exc
            if len(data) > info.file_size:
                raise InputError(f"{label}: the member is larger than the archive says ({info.file_size} bytes); "
                                 "refused as corrupt")
            out[canon] = (label, data)
        return out


def _folder_members(path: Path) -> dict[str, Path]:
    found = {}
    for entry in path.iterdir():
        canon = _BY_LOWER.get(entry.name.lower())
        if canon is not None and entry.is_file():
            found[canon] = entry
    return found


def _serial(path: Path) -> str | None:
    """The device serial from an E4 Connect name such as ``1635148245_A00204.zip``."""
    m = re.match(r"^\d{9,11}_([A-Za-z0-9]+)$", path.stem if path.suffix.lower() == ".zip" else path.name)
    return m.group(1) if m else None


# --------------------------------------------------------------------------- assembly


def _build(parsed: list[_Parsed], source: Path) -> xr.DataTree:
    starts = [p.start_us for p in parsed if p.start_us is not None]
    if not starts:
        tag_us = [int(p.instants_us[0]) for p in parsed if p.instants_us is not None and p.instants_us.size]
        if not tag_us:
            raise InputError(f"{source}: no data streams were found: tags.csv is empty and none of "
                             f"{', '.join(n for n in E4_FILES if n != 'tags.csv')} is present")
        starts = tag_us[:1]
    origin_us = min(starts)
    if max(starts) - origin_us > _MAX_START_SPREAD_US:
        median = sorted(starts)[len(starts) // 2]
        odd = max((p for p in parsed if p.start_us is not None), key=lambda p: abs(p.start_us - median))
        raise InputError(
            f"{where(odd.source, 1)}expected the start time of every file of one E4 export within a day of the "
            f"others, found {utc_from_unix(odd.start_us / 1e6)} while the others start near "
            f"{utc_from_unix(median / 1e6)}; the file's first row is probably damaged")
    origin = utc_from_unix(origin_us / 1e6)
    streams: dict[str, xr.Dataset] = {}
    order = {spec[0]: i for i, spec in enumerate(E4_FILES.values())}
    have_tags = False
    for p in sorted(parsed, key=lambda p: order[p.stream]):
        units = next(spec[1] for spec in E4_FILES.values() if spec[0] == p.stream)
        common = dict(time_origin_utc=origin, device=DEVICE, source=p.source)
        if p.stream == "tags":
            have_tags = True
            t = (p.instants_us - origin_us) / 1e6
            first = utc_from_unix(int(p.instants_us[0]) / 1e6) if p.instants_us.size else origin
            streams["tags"] = make_stream({"tag": p.values}, t, start_utc=first, fs=None, units={"tag": units},
                                          attrs={"n_missing": 0, "description": "button presses; tag = press number from 1"},
                                          **common)
            continue
        offset = (p.start_us - origin_us) / 1e6
        start = utc_from_unix(p.start_us / 1e6)
        if p.stream == "ibi":
            t = offset + p.values[:, 0]
            streams["ibi"] = make_stream({"ibi": p.values[:, 1]}, t, start_utc=start, fs=None, units={"ibi": units},
                                         attrs={"n_missing": count_nonfinite(p.values[:, 1]),
                                                "description": "beat instants; ibi = interval ending at the beat"},
                                         **common)
            continue
        n = p.values.shape[0]
        t = offset + np.arange(n, dtype=np.float64) / p.fs
        values = p.values
        if not np.all(np.isfinite(values)):
            values = np.where(np.isfinite(values), values, np.nan)
        extra = {}
        coords = None
        if p.stream == "acc":
            extra = {"acc": ("axis",)}
            coords = {"axis": ("axis", ["x", "y", "z"])}
        streams[p.stream] = make_stream({p.stream: values}, t, start_utc=start, fs=p.fs, units={p.stream: units},
                                        extra_dims=extra, coords=coords,
                                        attrs={"n_missing": count_nonfinite(values)}, **common)
    if not have_tags:
        # documented choice: a missing tags.csv gives an empty tags child, like an empty one
        streams["tags"] = make_stream({"tag": np.empty(0, dtype=np.int64)}, np.empty(0), start_utc=origin,
                                      time_origin_utc=origin, fs=None, units={"tag": "count"}, device=DEVICE,
                                      source=str(source), attrs={"n_missing": 0, "description": "no tags.csv in the export"})
    logger.debug("%s: read E4 streams %s", source,
                 ", ".join(f"{k} ({v.sizes['time']} samples)" for k, v in streams.items()))
    attrs = {"format": "e4"}
    serial = _serial(source)
    if serial:
        attrs["device_serial"] = serial
    return make_recording(streams, start_utc=origin, device=DEVICE, source=str(source), attrs=attrs)


def read_e4(path) -> xr.DataTree:
    """Read an Empatica E4 export into a Recording.

    Parameters
    ----------
    path : str or Path
        The ``.zip`` downloaded from E4 Connect, its unzipped folder (any subset of
        ``EDA.csv``, ``BVP.csv``, ``HR.csv``, ``IBI.csv``, ``ACC.csv``, ``TEMP.csv``,
        ``tags.csv``), or one of those CSV files alone.

    Returns
    -------
    xarray.DataTree
        Children ``eda``, ``bvp``, ``hr``, ``ibi``, ``acc``, ``temp`` (those present)
        and ``tags`` (always; zero length when ``tags.csv`` is missing or empty, except
        when a single non-tags CSV file is read). See the module docstring for the
        exact clock conventions.

    Raises
    ------
    InputError
        Unreadable, unsafe or malformed input; the message names the file, the
        1-based line and what was expected and found.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> f = pathlib.Path(tempfile.mkdtemp()) / "TEMP.csv"
    >>> _ = f.write_text("1600000000.000000\\n4.000000\\n31.5\\nnan\\n")
    >>> rec = read_e4(f)
    >>> list(rec.children), rec["temp"].attrs["fs"], rec["temp"].attrs["n_missing"]
    (['temp'], 4.0, 1)
    """
    path = Path(path)
    if not path.exists():
        raise InputError(f"{path}: no such file or folder")
    parsed: list[_Parsed] = []
    if path.is_dir():
        members = _folder_members(path)
        if not any(name != "tags.csv" for name in members):
            raise InputError(f"{path}: expected an Empatica E4 folder with at least one of "
                             f"{', '.join(n for n in E4_FILES if n != 'tags.csv')}; found none")
        for name, file in members.items():
            parsed.append(_parse_file(name, read_text(file), str(file)))
        return _build(parsed, path)
    if path.suffix.lower() == ".zip" or zipfile.is_zipfile(path):
        for name, (label, data) in _zip_members(path).items():
            parsed.append(_parse_file(name, decode(data, label), label))
        if not any(p.stream != "tags" for p in parsed):
            raise InputError(f"{path}: expected an E4 export with at least one of "
                             f"{', '.join(n for n in E4_FILES if n != 'tags.csv')}; the archive holds only tags.csv")
        return _build(parsed, path)
    canon = _BY_LOWER.get(path.name.lower())
    if canon is None:
        raise InputError(f"{path}: expected an E4 export (.zip, folder, or one of {', '.join(E4_FILES)}), "
                         f"found a file named {path.name!r}")
    p = _parse_file(canon, read_text(path), str(path))
    rec = _build([p], path)
    if canon != "tags.csv":
        del rec["tags"]
    return rec


def _looks_like_e4_header(text: str) -> bool:
    lines = split_lines(text[:4096])[:2]
    if not lines:
        return False
    first = lines[0].split(",")[0].strip()
    try:
        t = float(first)
    except ValueError:
        return False
    return 1e8 < t < 1e11  # a unix instant in seconds (1973 .. 5138)


def sniff(path) -> bool:
    """Whether ``path`` looks like an E4 export (zip, folder or single E4 CSV). Never raises.

    >>> sniff("no/such/place")
    False
    """
    try:
        path = Path(path)
        if path.is_dir():
            members = _folder_members(path)
            regular = [members[n] for n in members if n != "tags.csv"]
            if not regular:
                return False
            with open(regular[0], "rb") as fh:
                return _looks_like_e4_header(fh.read(4096).decode("utf-8", "replace"))
        if not path.is_file():
            return False
        if zipfile.is_zipfile(path):
            with zipfile.ZipFile(path) as zf:
                names = {PurePosixPath(n.replace("\\", "/")).name.lower() for n in zf.namelist()}
            return any(n.lower() in names for n in E4_FILES if n != "tags.csv")
        canon = _BY_LOWER.get(path.name.lower())
        if canon is None or canon == "tags.csv":
            return False
        with open(path, "rb") as fh:
            return _looks_like_e4_header(fh.read(4096).decode("utf-8", "replace"))
    except (OSError, zipfile.BadZipFile, ValueError, EOFError, NotImplementedError):
        return False
