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

Units are the header's physical dimensions, spelled as everywhere in this
package (:func:`synchrony.io._common.standard_unit`; the header's own spelling,
when different, is kept in the variable attribute ``units_original``).
"""
from __future__ import annotations

import logging
from pathlib import Path

import numpy as np
import xarray as xr

from ..errors import InputError, require
from ._common import StreamPart, assemble, name_channels, read_head, zone

__all__ = ["read_edf", "sniff"]

logger = logging.getLogger("synchrony")

_EDF_MAGIC = b"0       "  # version field of EDF/EDF+
_BDF_MAGIC = b"\xffBIOSEMI"


def sniff(path) -> bool:
    """True for a file whose first 8 bytes are the EDF version field or BioSemi's BDF marker."""
    head = read_head(path, 256)
    if head is None or len(head) < 256:
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
            np.asarray(onsets, dtype=np.float64)[order], t0, None, {"tag": "count", "label": "", "duration": "s"},
            str(path), start_unix=t0,
        )
    kind = {0: "EDF", 1: "EDF+", 2: "BDF", 3: "BDF+"}.get(filetype, "EDF")
    return assemble(parts, device=kind, source=path, origin_unix=t0,
                    attrs={"timezone": str(timezone), "format": kind,
                           "start_local": start_local.isoformat()})
