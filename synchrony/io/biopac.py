"""BIOPAC AcqKnowledge ``.acq`` files, read with :mod:`bioread` (optional extra ``io``).

Every channel keeps its own rate (AcqKnowledge stores a base rate and a divider
per channel): one Recording child per channel. Channel names become stream names
through ordered regular expressions (``channel_map``; defaults: ECG/EKG -> ``ecg``,
EDA/GSR/skin conductance -> ``eda``, RESP/respiration -> ``resp``, PPG/pulse ->
``bvp``). Derived channels ("EDA filtered, differentiated" ...) never take a raw
modality's name under the defaults: they keep their own sanitised name. The
root attribute ``channel_names`` records "file name -> stream" for every channel.

Event markers become ``tags`` (``time`` = the marker's sample over the base rate,
``tag`` 1-based, ``label`` = marker text, ``marker_type`` = AcqKnowledge's type
code, e.g. ``apnd`` for a segment start, ``flag`` for a user flag).

The absolute start (``start_utc``), in this order:

1. the ``start_utc`` argument, when given (``start_utc_source = "argument"``);
2. the creation instant of the "append" marker at sample 0, which AcqKnowledge
   (4.x and later) writes when acquisition of the first segment begins
   (``start_utc_source = "segment 1 append marker"``);
3. otherwise, when some other marker carries a creation instant, the earliest
   one minus its position in the recording — markers may be created after the
   fact, so this is only an estimate: ``start_utc_known = False`` and a
   :class:`~synchrony.errors.SynchronyWarning` says so;
4. otherwise (files of AcqKnowledge 3.x carry no dates at all) an
   :class:`~synchrony.errors.InputError` asks for ``start_utc=``: a Recording
   never carries an invented start.

The root attribute ``start_utc_known`` is 1 in cases 1 and 2, else 0 (an int:
NetCDF attributes hold no booleans).

Units: AcqKnowledge writes its own words (``microsiemens``, ``Volts`` ...); they
are mapped to the package's one spelling (``µS``, ``V``; ECG in ``mV``, scaled
when the file has V or µV) by :func:`synchrony.io._common.standard_unit`, and the
file's own string is kept in each variable's attribute ``units_original``.
"""
from __future__ import annotations

import logging
import struct
import warnings
from pathlib import Path

import numpy as np
import xarray as xr

from ..errors import InputError, SynchronyWarning, require
from ..recording import format_utc, utc_to_unix
from ._common import StreamPart, assemble, name_channels, read_head

__all__ = ["read_biopac", "sniff"]

logger = logging.getLogger("synchrony")

def sniff(path) -> bool:
    """True when the first 24 bytes look like an AcqKnowledge graph header (either byte order)."""
    head = read_head(path, 24)
    if head is None or len(head) < 24:
        return False
    for order in "<>":
        version, = struct.unpack(order + "i", head[2:6])
        n_channels, = struct.unpack(order + "h", head[10:12])
        ms_per_sample, = struct.unpack(order + "d", head[16:24])
        if 30 <= version <= 250 and 1 <= n_channels <= 1024 and np.isfinite(ms_per_sample) \
                and 0 < ms_per_sample < 1e7:
            return True
    return False


def _start(path: Path, datafile, start_utc) -> tuple[float, bool, str]:
    if start_utc is not None:
        try:
            return utc_to_unix(start_utc), True, "argument"
        except ValueError as exc:
            raise InputError(f"start_utc={start_utc!r}: {exc}") from None
    markers = list(datafile.event_markers or [])
    for m in markers:
        created = getattr(m, "date_created_utc", None)
        if m.sample_index == 0 and getattr(m, "type_code", None) == "apnd" and created is not None:
            return created.timestamp(), True, "segment 1 append marker"
    dated = [(m.date_created_utc.timestamp() - m.sample_index / datafile.samples_per_second, m)
             for m in markers if getattr(m, "date_created_utc", None) is not None]
    if dated:
        t0, m = min(dated, key=lambda d: d[0])
        warnings.warn(
            f"{path}: no segment-start marker with a date; start_utc estimated from marker {m.text!r} "
            f"(created {format_utc(m.date_created_utc)}), which may have been added after the recording. "
            "Pass start_utc= if you know the start.", SynchronyWarning, stacklevel=3)
        return t0, False, f"estimated from the creation time of marker {m.text!r}"
    raise InputError(
        f"{path}: the file carries no absolute start time (no dated event markers; AcqKnowledge 3.x files "
        "hold none). Pass start_utc='YYYY-MM-DDTHH:MM:SSZ' (e.g. from your lab notes or a sync event)."
    )


def read_biopac(path, *, start_utc: str | None = None, channel_map: dict[str, str] | None = None) -> xr.DataTree:
    """Read a BIOPAC AcqKnowledge ``.acq`` file into a Recording.

    Parameters
    ----------
    path : str or Path
        The ``.acq`` file.
    start_utc : str, optional
        ISO 8601 instant of the first sample; required when the file holds no
        dated markers (see the module docstring for the rule).
    channel_map : dict of regex -> stream name, optional
        Replaces the default channel-name patterns, e.g.
        ``{"^CH1$": "ecg", "GSR": "eda"}`` (searched case-insensitively, in order;
        unmatched channels keep their sanitised names).

    Returns
    -------
    xarray.DataTree
        One child per channel at its native rate; ``tags`` from event markers.

    Examples
    --------
    >>> import synchrony as sy
    >>> rec = sy.read_biopac("../shared/realdata/biopac_acq/physio-5.0.1.acq")  # doctest: +SKIP
    >>> rec["ecg"].attrs["fs"], rec["eda"].attrs["fs"]  # doctest: +SKIP
    (1000.0, 2000.0)
    """
    bioread = require("bioread", "io", "Reading BIOPAC AcqKnowledge files")
    path = Path(path)
    if not path.is_file():
        raise InputError(f"{path}: no such file")
    try:
        datafile = bioread.read_file(str(path))
    except Exception as exc:  # bioread raises many types on malformed input
        raise InputError(f"{path}: not a readable AcqKnowledge file ({type(exc).__name__}: {exc})") from exc
    channels = list(datafile.channels)
    if not channels:
        raise InputError(f"{path}: the file holds no channels")
    t0, known, how = _start(path, datafile, start_utc)
    labels = [str(c.name) for c in channels]
    names = name_channels(labels, channel_map)
    parts: dict[str, StreamPart] = {}
    for ch, label, name in zip(channels, labels, names):
        fs = float(ch.samples_per_second)
        data = np.asarray(ch.data, dtype=np.float64)
        if fs <= 0 or not np.isfinite(fs):
            raise InputError(f"{path} channel {label!r}: sampling rate {fs} Hz; expected a positive rate")
        parts[name] = StreamPart({name: data}, np.arange(len(data)) / fs, t0, fs, str(ch.units or ""),
                                 str(path), attrs={"label": label})
    markers = sorted(datafile.event_markers or [], key=lambda m: m.sample_index)
    if markers:
        base = float(datafile.samples_per_second)
        parts["tags"] = StreamPart(
            {"tag": np.arange(1, len(markers) + 1),
             "label": np.array([str(m.text or "") for m in markers], dtype=str),
             "marker_type": np.array([str(m.type_code or "").strip() for m in markers], dtype=str)},
            np.array([m.sample_index / base for m in markers]), t0, None,
            {"tag": "count", "label": "", "marker_type": ""}, str(path), start_unix=t0,
        )
    return assemble(parts, device="BIOPAC AcqKnowledge", source=path, origin_unix=t0, attrs={
        "start_utc_known": int(known),
        "start_utc_source": how,
        "acq_version": str(datafile.version_string if hasattr(datafile, "version_string") else ""),
        "channel_names": "; ".join(f"{lab} -> {n}" for lab, n in zip(labels, names)),
    })
