"""Where rating time 0 (the video start) sits on the physiology clock.

Three ways to say it, one per session (``[ratings]`` in the session config):

- ``start_utc``: the video start as an absolute UTC instant;
- ``start_tag``: the k-th tag (1-based) pressed on the client's device marks the video start;
- ``offset_s``: the video start in seconds on the client's recording clock (seconds from the
  client recording's ``start_utc``, before any device offset is applied).

The result is ``video_start_s``: seconds from the ``/signals`` clock's ``start_utc``, so that a
rating at time ``t`` sits at ``video_start_s + t`` on the signals clock.
"""
from __future__ import annotations

import numpy as np
import xarray as xr

from ..errors import AlignmentError
from ..recording import utc_from_unix, utc_to_unix

__all__ = ["video_start_on_signals"]


def video_start_on_signals(
    signals_start_utc: str,
    *,
    start_utc: str | None = None,
    start_tag: int | None = None,
    offset_s: float | None = None,
    client_rec: xr.DataTree | None = None,
    client_offset_s: float = 0.0,
) -> tuple[float, str]:
    """Video start on the signals clock, and a sentence saying how it was found.

    >>> video_start_on_signals("2021-10-25T07:50:00Z", start_utc="2021-10-25T07:52:00Z")
    (120.0, 'video start given as 2021-10-25T07:52:00Z')
    """
    origin = utc_to_unix(signals_start_utc)
    given = [v is not None for v in (start_utc, start_tag, offset_s)]
    if sum(given) != 1:
        raise AlignmentError("say where the video starts with exactly one of start_utc, start_tag or offset_s")
    if start_utc is not None:
        return utc_to_unix(start_utc) - origin, f"video start given as {start_utc}"
    if client_rec is None:
        raise AlignmentError("start_tag / offset_s need the client's recording")
    rec_start = utc_to_unix(client_rec.attrs["start_utc"])
    if offset_s is not None:
        t = rec_start + float(offset_s) + client_offset_s
        return t - origin, f"video start {offset_s:g} s after the client's recording start ({utc_from_unix(t)})"
    tags = client_rec.children.get("tags")
    times = np.asarray(tags["time"].values, float) if tags is not None else np.array([])
    source = client_rec.attrs.get("source", "the client's recording")
    if times.size < start_tag:
        raise AlignmentError(
            f"{source}: start_tag = {start_tag} asks for tag {start_tag}, but the client's device recorded "
            f"{times.size} tag{'s' if times.size != 1 else ''}. Give [ratings] start_utc or offset_s instead."
        )
    t = rec_start + float(times[start_tag - 1]) + client_offset_s
    return t - origin, f"video start at tag {start_tag} on the client's device ({utc_from_unix(t)})"
