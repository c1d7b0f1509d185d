"""EDF, EDF+ and BDF(+) recordings (European Data Format and BioSemi's 24-bit variant).

Read with :mod:`pyedflib` (optional extra ``io``). Every signal keeps its native
sampling rate: one Recording child per signal, named after the modality its label
names (``ECG``/``EKG`` -> ``ecg``, ``EDA``/``GSR`` -> ``eda``, ``PPG``/``Pleth`` ->
``bvp``, ``Resp`` -> ``resp``, ``Temp`` -> ``temp``) and otherwise after the
label itself, sanitised. EDF+ annotations become the ``tags`` child.

The EDF header stores the start date and time as **local clock time without a
timezone** (EDF spec, fields 8-9; EDF+ adds sub-second precision in the first
annotation), so :func:`read_edf` takes an explicit ``timezone`` (a zoneinfo
name, default ``"UTC"``) and records it in the root attribute ``timezone``.

This module also holds the small naming and assembly helpers that the other
readers of this package share (:func:`sanitise_name`, :func:`guess_stream`,
:func:`assemble`).
"""
from __future__ import annotations

import logging
import re
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import xarray as xr

from ..errors import InputError, require
from ..recording import make_recording, make_stream, utc_from_unix

__all__ = ["read_edf", "sniff", "sanitise_name", "guess_stream", "StreamPart", "assemble"]

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
    """Put stream parts on one clock (seconds from the earliest stream start) and build the Recording."""
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
        streams[name] = make_stream(
            p.variables, t, start_utc=utc_from_unix(start), time_origin_utc=origin, fs=p.fs, units=p.units,
            device=device, source=p.source, extra_dims=p.extra_dims, coords=p.coords, attrs=p.attrs,
        )
    return make_recording(streams, start_utc=origin, device=device, source=str(source), attrs=attrs)


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


# ----------------------------------------------------------------------------------------- EDF

_EDF_MAGIC = b"0       "  # version field of EDF/EDF+
_BDF_MAGIC = b"\xffBIOSEMI"


def sniff(path) -> bool:
    """True for a file whose first 8 bytes are the EDF version field or BioSemi's BDF marker."""
    path = Path(path)
    if not path.is_file():
        return False
    try:
        with open(path, "rb") as fh:
            head = fh.read(256)
    except OSError:
        return False
    if len(head) < 256:
        return False
    if head[:8] not in (_EDF_MAGIC, _BDF_MAGIC):
        return False
    # header length (bytes 184-191) must be 256 * (ns + 1)
    try:
        n_bytes = int(head[184:192].decode("ascii").strip())
        ns = int(head[252:256].decode("ascii").strip())
    except (UnicodeDecodeError, ValueError):
        return False
    return n_bytes == 256 * (ns + 1)


def read_edf(path, *, timezone: str = "UTC", channel_map: dict[str, str] | None = None) -> xr.DataTree:
    """Read an EDF, EDF+ or BDF file into a Recording.

    Parameters
    ----------
    path : str or Path
        The ``.edf`` / ``.bdf`` file.
    timezone : str
        Zoneinfo name of the clock the header's start date/time was written in
        (the EDF spec stores local time without a zone). Recorded in the root
        attribute ``timezone``.
    channel_map : dict of regex -> stream name, optional
        Overrides the default label patterns (see :func:`guess_stream`).

    Returns
    -------
    xarray.DataTree
        One child per signal at its native rate (``fs``), physical values with
        the header's units; EDF+ annotations as ``tags`` (``time`` = onset,
        ``tag`` 1-based, ``label`` text, ``duration`` in s, NaN where none).

    Examples
    --------
    >>> import numpy as np, pyedflib, tempfile, os
    >>> f = os.path.join(tempfile.mkdtemp(), "x.edf")
    >>> w = pyedflib.EdfWriter(f, 1, file_type=pyedflib.FILETYPE_EDFPLUS)
    >>> w.setSignalHeader(0, {"label": "ECG", "dimension": "mV", "sample_frequency": 256,
    ...     "physical_min": -5, "physical_max": 5, "digital_min": -32768, "digital_max": 32767})
    >>> w.writeSamples([np.zeros(512)]); w.close()
    >>> rec = read_edf(f)
    >>> list(rec.children), rec["ecg"].attrs["fs"], rec["ecg"].sizes["time"]
    (['ecg'], 256.0, 512)
    """
    pyedflib = require("pyedflib", "io", "Reading EDF/BDF files")
    path = Path(path)
    tz = zone(timezone)
    if not path.is_file():
        raise InputError(f"{path}: no such file")
    with open(path, "rb") as fh:
        head = fh.read(256)
    if len(head) < 256 or head[:8] not in (_EDF_MAGIC, _BDF_MAGIC):
        raise InputError(
            f"{path} bytes 0-7: expected the EDF version field '0       ' or BDF's '\\xffBIOSEMI', "
            f"found {head[:8]!r}. Is this an EDF/BDF file?"
        )
    reserved = head[192:236].decode("ascii", "replace").strip()
    if reserved.startswith(("EDF+D", "BDF+D")):
        raise InputError(
            f"{path} header field 'reserved': found {reserved!r}, a discontinuous EDF+D/BDF+D file; "
            "only continuous recordings (EDF, EDF+C, BDF, BDF+C) are supported. Export it as continuous."
        )
    try:
        reader = pyedflib.EdfReader(str(path))
    except OSError as exc:
        raise InputError(f"{path}: not a readable EDF/BDF file ({exc})") from exc
    try:
        start_local = reader.getStartdatetime()
        labels = [str(s).strip() for s in reader.getSignalLabels()]
        fs_all = [float(reader.getSampleFrequency(i)) for i in range(reader.signals_in_file)]
        signals = [reader.readSignal(i) for i in range(reader.signals_in_file)]
        units = [str(reader.getPhysicalDimension(i)).strip() for i in range(reader.signals_in_file)]
        onsets, durations, texts = reader.readAnnotations()
        filetype = reader.filetype
    finally:
        reader.close()
    start = start_local.replace(tzinfo=None).replace(tzinfo=tz)
    t0 = start.timestamp()
    names = name_channels(labels, channel_map)
    parts: dict[str, StreamPart] = {}
    for label, name, fs, x, unit in zip(labels, names, fs_all, signals, units):
        if fs <= 0:
            raise InputError(f"{path} signal {label!r}: sampling rate {fs} Hz; expected a positive rate")
        parts[name] = StreamPart({name: np.asarray(x, dtype=np.float64)}, np.arange(len(x)) / fs, t0, fs,
                                 unit, str(path), attrs={"label": label})
    if len(onsets):
        durations = np.asarray(durations, dtype=np.float64)
        durations = np.where(durations < 0, np.nan, durations)  # pyedflib: -1 = no duration given
        order = np.argsort(onsets, kind="stable")
        parts["tags"] = StreamPart(
            {"tag": np.arange(1, len(onsets) + 1), "label": np.asarray(texts, dtype=str)[order],
             "duration": durations[order]},
            np.asarray(onsets, dtype=np.float64)[order], t0, None, {"tag": "", "label": "", "duration": "s"},
            str(path), start_unix=t0,
        )
    kind = {0: "EDF", 1: "EDF+", 2: "BDF", 3: "BDF+"}.get(filetype, "EDF")
    return assemble(parts, device=kind, source=path, origin_unix=t0,
                    attrs={"timezone": str(timezone), "format": kind,
                           "start_local": start_local.isoformat()})
