"""The Recording model: what every reader returns.

A Recording is an :class:`xarray.DataTree` with one child per stream (``eda``,
``bvp``, ``ecg``, ``hr``, ``ibi``, ``acc``, ``temp``, ``resp``, ``tags`` …).

Conventions (ARCHITECTURE.md sections 4 and 5):

- the root carries ``start_utc`` (ISO 8601, the recording start: the earliest
  stream start), ``device`` and ``source``;
- every child holds its samples along a ``time`` coordinate in **seconds from the
  recording start** (the root's ``start_utc``), so all streams of one recording
  share one clock; E4 heart rate, which starts 10 s after the other streams,
  therefore begins at ``time = 10.0``;
- every child carries ``start_utc`` (the instant of its own first sample, or of
  its file's header for irregular streams), ``time_origin_utc`` (the instant
  ``time = 0`` refers to, equal to the root's ``start_utc``), ``fs`` in Hz for
  regular streams (absent for ``ibi`` and ``tags``), ``units``, ``device`` and
  ``source`` (the file it was read from);
- ``ibi`` holds beat instants as ``time`` and the interval ending at each beat as
  variable ``ibi`` (seconds); ``tags`` holds the tag instants as ``time``.
"""
from __future__ import annotations

from datetime import datetime, timedelta, timezone

import numpy as np
import xarray as xr

from .errors import InputError

__all__ = [
    "utc_from_unix",
    "utc_to_unix",
    "parse_utc",
    "format_utc",
    "make_stream",
    "make_recording",
    "slice_recording",
    "stream_names",
]

_EPOCH = datetime(1970, 1, 1, tzinfo=timezone.utc)


def format_utc(dt: datetime) -> str:
    """ISO 8601 with microseconds and a ``Z`` suffix: ``2021-10-25T07:52:00.000000Z``."""
    return dt.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def utc_from_unix(seconds: float) -> str:
    """ISO 8601 instant for a UTC unix timestamp in seconds (microsecond precision)."""
    micro = int(round(float(seconds) * 1e6))
    return format_utc(_EPOCH + timedelta(microseconds=micro))


def parse_utc(value) -> datetime:
    """Parse an ISO 8601 instant (``Z`` or an explicit offset required) into an aware datetime."""
    if isinstance(value, datetime):
        if value.tzinfo is None:
            raise ValueError(f"instant {value!r} has no timezone; give it in UTC")
        return value.astimezone(timezone.utc)
    if isinstance(value, np.datetime64):
        return _EPOCH + timedelta(microseconds=int(value.astype("datetime64[us]").astype(np.int64)))
    text = str(value).strip()
    if text.endswith(("Z", "z")):
        text = text[:-1] + "+00:00"
    try:
        dt = datetime.fromisoformat(text)
    except ValueError as exc:
        raise ValueError(f"not an ISO 8601 instant: {value!r}") from exc
    if dt.tzinfo is None:
        raise ValueError(
            f"instant {value!r} has no timezone; write it in UTC with a 'Z' suffix, e.g. 2021-10-25T07:52:00Z"
        )
    return dt.astimezone(timezone.utc)


def utc_to_unix(value) -> float:
    """UTC unix seconds of an ISO 8601 instant (or aware datetime)."""
    return (parse_utc(value) - _EPOCH).total_seconds()


def make_stream(
    variables: dict[str, np.ndarray],
    time: np.ndarray,
    *,
    start_utc: str,
    time_origin_utc: str,
    fs: float | None,
    units: dict[str, str] | str,
    device: str,
    source: str,
    extra_dims: dict[str, tuple[str, ...]] | None = None,
    coords: dict | None = None,
    attrs: dict | None = None,
) -> xr.Dataset:
    """Build one stream of a Recording.

    Parameters
    ----------
    variables : dict of name -> array
        Data along ``time`` (first axis). Variables with more axes name them in
        ``extra_dims`` (e.g. ``{"acc": ("axis",)}``).
    time : array
        Seconds from the recording start (``time_origin_utc``).
    start_utc, time_origin_utc : str
        ISO 8601 instants of the first sample and of ``time = 0``.
    fs : float or None
        Sampling rate in Hz; ``None`` for irregular streams (beats, tags).
    units : str or dict
        Units of every variable (a dict names them per variable).
    """
    extra_dims = extra_dims or {}
    data_vars = {}
    for name, values in variables.items():
        values = np.asarray(values)
        dims = ("time",) + tuple(extra_dims.get(name, ()))
        unit = units.get(name, "") if isinstance(units, dict) else units
        data_vars[name] = xr.Variable(dims, values, attrs={"units": unit})
    ds = xr.Dataset(data_vars, coords={"time": ("time", np.asarray(time, dtype=np.float64), {"units": "s"})})
    if coords:
        ds = ds.assign_coords(coords)
    ds.attrs.update(
        {
            "start_utc": start_utc,
            "time_origin_utc": time_origin_utc,
            "units": units if isinstance(units, str) else ", ".join(f"{k}: {v}" for k, v in units.items()),
            "device": device,
            "source": str(source),
        }
    )
    if fs is not None:
        ds.attrs["fs"] = float(fs)
    if attrs:
        ds.attrs.update(attrs)
    return ds


def make_recording(streams: dict[str, xr.Dataset], *, start_utc: str, device: str, source: str, attrs: dict | None = None) -> xr.DataTree:
    """Assemble streams into a Recording (an :class:`xarray.DataTree`)."""
    if not streams:
        raise InputError(f"{source}: no data streams were found")
    root_attrs = {"start_utc": start_utc, "device": device, "source": str(source)}
    if attrs:
        root_attrs.update(attrs)
    tree = xr.DataTree(dataset=xr.Dataset(attrs=root_attrs))
    for name, ds in streams.items():
        tree[name] = xr.DataTree(dataset=ds)
    return tree


def stream_names(rec: xr.DataTree) -> list[str]:
    """Names of the streams in a Recording."""
    return list(rec.children)


def slice_recording(rec: xr.DataTree, start, end) -> xr.DataTree:
    """Keep the samples of every stream whose absolute instant lies in ``[start, end)``.

    ``start`` and ``end`` are ISO 8601 instants (or aware datetimes). The recording
    start and every ``time`` value are kept as they were (nothing is re-based), so
    a sliced stream still says where its samples sit on the recording's clock.
    """
    origin = utc_to_unix(rec.attrs["start_utc"])
    lo = utc_to_unix(start) - origin
    hi = utc_to_unix(end) - origin
    if hi <= lo:
        raise ValueError(f"slice end {end!r} is not after its start {start!r}")
    streams = {}
    for name, child in rec.children.items():
        ds = child.to_dataset()
        t = ds["time"].values
        keep = (t >= lo) & (t < hi)
        sub = ds.isel(time=np.flatnonzero(keep))
        if sub.sizes["time"]:
            sub.attrs["start_utc"] = utc_from_unix(origin + float(sub["time"].values[0]))
        streams[name] = sub
    return make_recording(streams, start_utc=rec.attrs["start_utc"], device=rec.attrs.get("device", ""),
                          source=rec.attrs.get("source", ""), attrs={k: v for k, v in rec.attrs.items()
                                                                      if k not in ("start_utc", "device", "source")})
