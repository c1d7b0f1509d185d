"""Helpers shared by the readers: channel naming, stream assembly, units, attributes.

- :func:`sanitise_name`, :func:`guess_stream`, :func:`name_channels`: a channel
  label -> a stream name (ARCHITECTURE.md section 5: shared names, derived
  channels never taken for the raw one);
- :class:`StreamPart` and :func:`assemble`: streams with absolute instants -> one
  Recording on one clock;
- :func:`standard_unit`: one spelling per unit across all readers
  (:data:`UNIT_SPELLINGS`);
- :func:`netcdf_attrs`: attribute values NetCDF can store (no bool, no None, no
  dicts or nested lists);
- :func:`zone`: a zoneinfo timezone or an :class:`~synchrony.errors.InputError`.
"""
from __future__ import annotations

import json
import logging
import re
from dataclasses import dataclass, field
from datetime import date, datetime

import numpy as np
import xarray as xr

from ..errors import InputError
from ..recording import make_recording, make_stream, utc_from_unix

__all__ = [
    "SHARED_NAMES",
    "UNIT_SPELLINGS",
    "sanitise_name",
    "guess_stream",
    "name_channels",
    "StreamPart",
    "assemble",
    "standard_unit",
    "netcdf_attrs",
    "zone",
]

logger = logging.getLogger("synchrony")

#: Stream names shared across formats (ARCHITECTURE.md section 5).
SHARED_NAMES = ("ecg", "bvp", "eda", "resp", "temp", "acc", "hr", "ibi", "tags")

# Labels of derived channels (filtered, differentiated ...): never taken for the raw modality.
_DERIVED = re.compile(
    r"filter|differentiat|derivativ|smooth|integrat|phasic|tonic|detrend|envelope|processed|clean|"
    r"resist|impedance|ohm|status|quality|flag|marker|trigger",
    re.IGNORECASE,
)
_B = r"(?<![a-z])"  # a boundary that treats '_', digits and punctuation as separators
_E = r"(?![a-z])"
# Ordered: heart rate before PPG ("PPGtoHR" is a rate), ECG before the rest.
_DEFAULT_PATTERNS: tuple[tuple[str, str], ...] = (
    (_B + r"(hr|heart ?rate|pulse ?rate|ppg ?to ?hr|ecg ?to ?hr)" + _E, "hr"),
    (_B + r"(ecg|ekg|electrocardio\w*)" + _E, "ecg"),
    (_B + r"(eda|gsr|skin ?conductance|electrodermal\w*|scl|sc)" + _E, "eda"),
    (_B + r"(ppg|bvp|pleth\w*|pulse|cardiac|photopleth\w*)" + _E, "bvp"),
    (_B + r"(resp\w*|rsp|breath\w*)" + _E, "resp"),
    (_B + r"(temp|temperature|skt|skin ?temp\w*)" + _E, "temp"),
)


def sanitise_name(label: str) -> str:
    """A safe variable/child name for a channel label.

    Lower case, runs of other characters turned into one ``_``, a leading digit
    prefixed with ``ch_``.

    >>> sanitise_name("EDA filtered, differentiated")
    'eda_filtered_differentiated'
    >>> sanitise_name("1 Resp (V)")
    'ch_1_resp_v'
    """
    name = re.sub(r"[^0-9a-z]+", "_", str(label).strip().lower()).strip("_")
    if not name:
        name = "channel"
    if name[0].isdigit():
        name = "ch_" + name
    return name


def guess_stream(label: str, patterns: dict[str, str] | None = None) -> str | None:
    """The shared stream name a channel label stands for, or ``None``.

    With ``patterns`` (regex -> stream name, searched case-insensitively in
    order), only those are used, literally. Without, the defaults apply and a
    derived channel ("filtered", "differentiated", "resistance" ...) is never
    mapped to a raw modality.

    >>> guess_stream("EKG - ERS100C"), guess_stream("EDA - GSR100C")
    ('ecg', 'eda')
    >>> guess_stream("EDA filtered, differentiated") is None
    True
    >>> guess_stream("Shimmer PPGtoHR"), guess_stream("cardiac")
    ('hr', 'bvp')
    """
    text = str(label)
    if patterns is not None:
        for pattern, stream in patterns.items():
            if re.search(pattern, text, re.IGNORECASE):
                return stream
        return None
    if _DERIVED.search(text):
        return None
    low = text.lower()
    for pattern, stream in _DEFAULT_PATTERNS:
        if re.search(pattern, low):
            return stream
    return None


@dataclass
class StreamPart:
    """One stream before assembly: absolute sample instants plus what :func:`make_stream` needs.

    ``t_unix`` are UTC unix seconds of every sample (float64) — or, for precision,
    ``t0_unix`` plus ``t_rel`` (seconds from ``t0_unix``).
    """

    variables: dict[str, np.ndarray]
    t_rel: np.ndarray
    t0_unix: float
    fs: float | None
    units: dict[str, str] | str
    source: str
    extra_dims: dict[str, tuple[str, ...]] | None = None
    coords: dict | None = None
    attrs: dict = field(default_factory=dict)
    start_unix: float | None = None  # instant of the stream's start if not its first sample


def assemble(parts: dict[str, StreamPart], *, device: str, source, attrs: dict | None = None,
             origin_unix: float | None = None) -> xr.DataTree:
    """Put stream parts on one clock (seconds from the earliest stream start) and build the Recording.

    Every variable's unit goes through :func:`standard_unit` (the file's own
    spelling, when different, is kept in the variable attribute
    ``units_original``), and every attribute through :func:`netcdf_attrs`.
    """
    if not parts:
        raise InputError(f"{source}: no data streams were found")
    if origin_unix is None:
        starts = []
        for p in parts.values():
            if p.start_unix is not None:
                starts.append(p.start_unix)
            if len(p.t_rel):
                starts.append(p.t0_unix + float(p.t_rel[0]))
        if not starts:
            raise InputError(f"{source}: every stream is empty")
        origin_unix = min(starts)
    origin = utc_from_unix(origin_unix)
    streams = {}
    for name, p in parts.items():
        t = (p.t0_unix - origin_unix) + np.asarray(p.t_rel, dtype=np.float64)
        first = p.t0_unix + float(p.t_rel[0]) if len(p.t_rel) else (p.start_unix or origin_unix)
        start = p.start_unix if p.start_unix is not None else first
        variables, units, originals = {}, {}, {}
        for var, values in p.variables.items():
            given = p.units.get(var, "") if isinstance(p.units, dict) else p.units
            values = np.asarray(values)
            quantity = var if var in SHARED_NAMES or var == "tag" else name if var == name else None
            unit, factor = standard_unit(given, quantity, textual=values.dtype.kind in "USO")
            if factor != 1.0:
                values = values * factor
            if str(given).strip() and unit != given:
                originals[var] = str(given)
            variables[var], units[var] = values, unit
        ds = make_stream(
            variables, t, start_utc=utc_from_unix(start), time_origin_utc=origin, fs=p.fs, units=units,
            device=device, source=p.source, extra_dims=p.extra_dims, coords=p.coords,
            attrs=netcdf_attrs(p.attrs),
        )
        for var, given in originals.items():
            ds[var].attrs["units_original"] = given
        streams[name] = ds
    return make_recording(streams, start_utc=origin, device=device, source=str(source),
                          attrs=netcdf_attrs(attrs or {}))


def name_channels(labels: list[str], patterns: dict[str, str] | None = None) -> list[str]:
    """Stream names for a list of channel labels: the first channel of a modality gets the shared
    name, any later one (and every unnamed channel) its own sanitised label, made unique.

    >>> name_channels(["ECG I", "ECG II", "EDA filtered", "Status"])
    ['ecg', 'ecg_ii', 'eda_filtered', 'status']
    """
    out: list[str] = []
    for label in labels:
        stream = guess_stream(label, patterns)
        if stream is not None and stream not in out:
            name = stream
        else:
            name = sanitise_name(label)
            if name in SHARED_NAMES:  # an unmapped or second channel never takes a shared name
                name = name + "_channel"
        base, k = name, 2
        while name in out:
            name = f"{base}_{k}"
            k += 1
        out.append(name)
    return out


def zone(name: str, where_: str = "timezone"):
    """A :class:`zoneinfo.ZoneInfo` for a zoneinfo name, or an InputError naming the parameter."""
    from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

    try:
        return ZoneInfo(str(name))
    except (ZoneInfoNotFoundError, ValueError) as exc:
        raise InputError(
            f"{where_}={name!r}: not a timezone name; expected a zoneinfo name such as 'Europe/Zurich' or 'UTC'"
        ) from exc


# ------------------------------------------------------------------------------------- units

#: The one spelling of every unit the readers write, and the spellings files use for it.
#: Case matters for the short forms ("uS" microsiemens vs "us" microseconds, "ms" vs "mS"); the
#: long forms (words) are matched case-insensitively.
UNIT_SPELLINGS: dict[str, tuple[tuple[str, ...], tuple[str, ...]]] = {
    # standard: (exact short forms, case-insensitive words)
    "µS": (("uS", "\u00b5S", "\u03bcS", "umho", "\u00b5mho", "uMho"),
           ("microsiemens", "micro siemens", "microsiemen", "micromho", "micromhos")),
    "bpm": (("bpm", "BPM", "Bpm", "1/min", "b/min"), ("beats/min", "beats per minute", "beats/minute")),
    "s": (("s", "sec", "secs"), ("second", "seconds")),
    "ms": (("ms", "msec", "msecs"), ("millisecond", "milliseconds")),
    "°C": (("°C", "\u00baC", "degC", "deg C", "deg. C", "C°"),
           ("degrees celsius", "degree celsius", "celsius", "degrees c", "deg celsius")),
    "mV": (("mV", "mv"), ("millivolt", "millivolts")),
    "µV": (("uV", "\u00b5V", "\u03bcV", "uv"), ("microvolt", "microvolts")),
    "V": (("V",), ("volt", "volts")),
    "a.u.": (("a.u.", "a.u", "au", "AU", "A.U."), ("arbitrary units", "arbitrary unit", "arb. units")),
    "g": (("g",), ()),
    "mg": (("mg",), ()),
    "m/s²": (("m/s²", "m/(s^2)", "m/s^2", "m/s2", "m/s/s", "m*s^-2"), ()),
    "µT": (("uT", "\u00b5T", "\u03bcT"), ("microtesla",)),
    "kΩ": (("kOhm", "kOhms", "kohm", "kohms", "kΩ", "k\u03a9"), ("kiloohm", "kiloohms")),
}
_EXACT = {s: std for std, (short, _) in UNIT_SPELLINGS.items() for s in short}
_WORDS = {w: std for std, (_, words) in UNIT_SPELLINGS.items() for w in words}
# physical conversions applied so that one quantity has one unit in every Recording
_SCALE = {"ecg": {"µV": ("mV", 1e-3), "V": ("mV", 1e3)}, "acc": {"mg": ("g", 1e-3)}, "ibi": {"ms": ("s", 1e-3)}}


def standard_unit(unit: str, stream: str | None = None, *, textual: bool = False) -> tuple[str, float]:
    """The standard spelling of a unit, and the factor that converts values to it.

    Spellings are unified (:data:`UNIT_SPELLINGS`: ``"microsiemens"`` -> ``"µS"``,
    ``"degC"`` -> ``"°C"``, ``"BPM"`` -> ``"bpm"``); for a known ``stream`` one
    quantity gets one unit: ECG in ``"mV"`` (µV and V are scaled), acceleration
    in ``"mg"`` becomes ``"g"``, intervals (``ibi``) in ``"ms"`` become ``"s"``, PPG/BVP (``bvp``) is always ``"a.u."`` (a
    light-absorption or ADC scale with no shared physical meaning). A missing
    unit becomes ``"unknown"`` (``""`` for text variables such as tag labels);
    tag numbers are ``"count"``. Anything else is kept as written.

    >>> standard_unit("microsiemens", "eda")
    ('µS', 1.0)
    >>> standard_unit("uV", "ecg")
    ('mV', 0.001)
    >>> standard_unit("nW", "bvp"), standard_unit("1/64 g", "acc"), standard_unit("", "resp")
    (('a.u.', 1.0), ('1/64 g', 1.0), ('unknown', 1.0))
    """
    text = str(unit).strip() if unit is not None else ""
    if textual:
        return text, 1.0
    if not text:
        return ("count" if stream == "tag" else "a.u." if stream == "bvp" else "unknown"), 1.0
    std = _EXACT.get(text) or _WORDS.get(text.lower()) or text
    if stream == "bvp":
        return "a.u.", 1.0
    scaled = _SCALE.get(stream or "", {}).get(std)
    if scaled is not None:
        return scaled
    return std, 1.0


# -------------------------------------------------------------------------------- attributes


def netcdf_attrs(attrs: dict) -> dict:
    """Attribute values NetCDF-4 can hold and give back unchanged.

    ``bool`` -> 0/1 (``int``); ``None`` -> ``""``; dicts, tuples and lists that
    are not flat lists of numbers -> JSON text; dates -> ISO 8601 text; numpy
    scalars -> Python numbers. Strings and numbers stay as they are.

    >>> netcdf_attrs({"known": True, "note": None, "map": {"a": 1}, "ids": ["x", "y"], "n": np.int64(3)})
    {'known': 1, 'note': '', 'map': '{"a": 1}', 'ids': '["x", "y"]', 'n': 3}
    """
    out = {}
    for key, value in attrs.items():
        if isinstance(value, (bool, np.bool_)):
            value = int(value)
        elif value is None:
            value = ""
        elif isinstance(value, np.generic):
            value = value.item()
        elif isinstance(value, (datetime, date)):
            value = value.isoformat()
        elif isinstance(value, (dict, list, tuple, np.ndarray)):
            seq = np.asarray(value, dtype=object).ravel() if not isinstance(value, dict) else None
            if seq is not None and np.ndim(value) == 1 and len(seq) and all(
                    isinstance(v, (int, float, np.integer, np.floating)) and not isinstance(v, (bool, np.bool_))
                    for v in seq):
                value = np.asarray(value)
            else:
                value = json.dumps(value.tolist() if isinstance(value, np.ndarray) else value, default=str)
        out[str(key)] = value
    return out


def read_head(path, n: int) -> bytes | None:
    """The first ``n`` bytes of a regular file, or ``None`` when it is not one or cannot be read.

    Sniffers use it so that looking at a file never raises.
    """
    from pathlib import Path

    path = Path(path)
    if not path.is_file():
        return None
    try:
        with open(path, "rb") as fh:
            return fh.read(n)
    except OSError:
        return None
