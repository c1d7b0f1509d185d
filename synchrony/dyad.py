"""Pair two people's analysis series on one UTC grid: the Dyad.

A Dyad is an :class:`xarray.Dataset` with dims ``(role, time)``, ``role =
["client", "therapist"]``; ``time`` is in seconds from attribute ``start_utc``;
each modality ``<mod>`` has ``<mod>_quality`` beside it (codes of
:mod:`synchrony.preprocess.grid`; 4 = outside the device overlap).

Device clocks: ``offsets[role]`` seconds are **added** to that device's own
instants to get true time. :func:`offset_from_tags` derives them from one tag
press seen by both devices (the therapist is shifted onto the client's clock).
"""
from __future__ import annotations

import math

import numpy as np
import xarray as xr

from .errors import AlignmentError, ConfigError, InputError
from .preprocess.grid import GAP, OUTSIDE_OVERLAP, QUALITY_LEGEND, VALID, regular_to_grid
from .recording import format_utc, parse_utc

__all__ = ["make_dyad", "offset_from_tags", "ROLES"]

ROLES = ("client", "therapist")
_INDEX_TOL = 1e-4  # samples: grids closer than this to whole samples are commensurate


def _modalities(ds: xr.Dataset) -> list[str]:
    return [v for v in ds.data_vars if not v.endswith("_quality") and f"{v}_quality" in ds.data_vars]


def _check_series(ds: xr.Dataset, role: str) -> tuple[float, np.ndarray]:
    if not isinstance(ds, xr.Dataset):
        raise InputError(f"make_dyad: {role}: expected an analysis_series Dataset, found {type(ds).__name__}")
    for key in ("start_utc", "fs"):
        if key not in ds.attrs:
            raise InputError(f"make_dyad: {role} series: attribute {key!r} missing; expected analysis_series output")
    if "time" not in ds.coords or ds.sizes.get("time", 0) == 0:
        raise InputError(f"make_dyad: {role} series has no samples along 'time'")
    fs = float(ds.attrs["fs"])
    if not (fs > 0):
        raise InputError(f"make_dyad: {role} series: attribute fs must be a positive rate in Hz, found {fs!r}")
    return fs, np.asarray(ds["time"].values, np.float64)


def _span_text(origin, a: float, b: float) -> str:
    from datetime import timedelta

    return f"{format_utc(origin + timedelta(seconds=a))} to {format_utc(origin + timedelta(seconds=b))}"


def make_dyad(
    client: xr.Dataset,
    therapist: xr.Dataset,
    *,
    offsets: dict[str, float] | None = None,
    fs: float | None = None,
    span: str = "overlap",
    min_overlap: float = 15.0,
) -> xr.Dataset:
    """Put the client's and the therapist's analysis series on one UTC grid.

    Parameters
    ----------
    client, therapist : xarray.Dataset
        Outputs of :func:`synchrony.preprocess.analysis_series` (attributes
        ``start_utc`` and ``fs``; ``<mod>`` and ``<mod>_quality`` variables). Both
        must hold the same modalities.
    offsets : dict, optional
        ``{"client": s, "therapist": s}``: seconds added to each device's own
        instants to get true time (default 0 for a role not named).
    fs : float, optional
        Grid rate in Hz (default: the client's ``fs``).
    span : {"overlap", "union"}
        Grid extent: the overlap of both devices (default), or their union (then
        a role is NaN with code 4 where its device has no samples).
    min_overlap : float
        Shortest usable overlap in seconds (default 15, the shortest common WCC
        window); shorter is an AlignmentError.

    Returns
    -------
    xarray.Dataset
        Dims ``(role, time)``. The grid is the client's own sample instants (after
        its offset) where its rate is ``fs``, else ``overlap start + k / fs``. A
        role whose samples fall on grid instants (same rate, offset a whole number
        of samples, within 1e-4 sample) is placed by exact sample index;
        otherwise by linear interpolation between its two adjacent samples, only
        when both are valid (never across a gap). Attributes: ``start_utc``,
        ``fs``, ``offset_client_s``, ``offset_therapist_s``, ``overlap_start_utc``,
        ``overlap_end_utc``, ``overlap_s``, ``placement_<role>``,
        ``<role>_span_utc``, ``quality_codes``.

    Raises
    ------
    AlignmentError
        When the devices (after offsets) do not overlap by ``min_overlap`` s; the
        message gives both spans in UTC and the offsets.

    Examples
    --------
    >>> import numpy as np, xarray as xr
    >>> def series(start, n):
    ...     t = np.arange(n) / 4.0
    ...     return xr.Dataset({"hr": ("time", 70 + np.sin(t)), "hr_quality": ("time", np.zeros(n, np.uint8))},
    ...                       coords={"time": t}, attrs={"start_utc": start, "fs": 4.0})
    >>> d = make_dyad(series("2024-01-01T10:00:00Z", 400), series("2024-01-01T10:00:30Z", 400))
    >>> d.hr.dims, d.sizes["time"], d.attrs["start_utc"]
    (('role', 'time'), 280, '2024-01-01T10:00:30.000000Z')
    """
    fs_c, t_c = _check_series(client, "client")
    fs_t, t_t = _check_series(therapist, "therapist")
    offsets = dict(offsets or {})
    extra = sorted(set(offsets) - set(ROLES))
    if extra:
        raise ConfigError(f"offsets: expected keys among {list(ROLES)}, found {extra}")
    off = {}
    for role in ROLES:
        v = offsets.get(role, 0.0)
        try:
            v = float(v)
        except (TypeError, ValueError):
            raise ConfigError(f"offsets[{role!r}]: expected seconds as a number, found {v!r}") from None
        if not math.isfinite(v):
            raise ConfigError(f"offsets[{role!r}]: expected a finite number of seconds, found {v!r}")
        off[role] = v
    if span not in ("overlap", "union"):
        raise ConfigError(f"span: expected 'overlap' or 'union', found {span!r}")
    fs = fs_c if fs is None else float(fs)
    if not (fs > 0):
        raise ConfigError(f"fs: expected a positive rate in Hz, found {fs!r}")
    mods_c, mods_t = _modalities(client), _modalities(therapist)
    if set(mods_c) != set(mods_t) or not mods_c:
        raise InputError(f"make_dyad: the two series must hold the same modalities; client has {mods_c}, "
                         f"therapist has {mods_t}")

    origin = parse_utc(client.attrs["start_utc"])  # reference: all instants below are seconds from here
    shift_t = (parse_utc(therapist.attrs["start_utc"]) - origin).total_seconds()
    zero = {"client": off["client"], "therapist": shift_t + off["therapist"]}  # true instant of each time=0
    times = {"client": t_c, "therapist": t_t}
    rates = {"client": fs_c, "therapist": fs_t}
    spans = {r: (zero[r] + times[r][0], zero[r] + times[r][-1] + 1.0 / rates[r]) for r in ROLES}
    lo = max(spans["client"][0], spans["therapist"][0])
    hi = min(spans["client"][1], spans["therapist"][1])
    if hi - lo < min_overlap:
        what = "do not overlap" if hi <= lo else f"overlap for only {hi - lo:.3f} s (minimum {min_overlap:g} s)"
        offs = ("" if not any(off.values()) else
                f" after the clock offsets client {off['client']:+g} s, therapist {off['therapist']:+g} s"
                " (an offset this large pushes one device out of the other's range)")
        raise AlignmentError(
            f"make_dyad: the devices {what}{offs}: client spans {_span_text(origin, *spans['client'])}, "
            f"therapist spans {_span_text(origin, *spans['therapist'])}"
        )
    g_lo, g_hi = (lo, hi) if span == "overlap" else (min(spans["client"][0], spans["therapist"][0]),
                                                     max(spans["client"][1], spans["therapist"][1]))
    if abs(fs - fs_c) < 1e-12:
        k0 = math.ceil((g_lo - zero["client"]) * fs - _INDEX_TOL)
        start = zero["client"] + k0 / fs
    else:
        start = g_lo
    n = int(math.floor((g_hi - start) * fs + _INDEX_TOL))
    grid = start + np.arange(max(n, 0)) / fs  # seconds from `origin`
    if grid.size == 0:
        raise AlignmentError(f"make_dyad: no grid instant at {fs:g} Hz falls in the overlap "
                             f"{_span_text(origin, lo, hi)}")

    data = {m: np.full((2, grid.size), np.nan) for m in mods_c}
    qual = {m: np.full((2, grid.size), OUTSIDE_OVERLAP, np.uint8) for m in mods_c}
    placement = {}
    for i, (role, ds) in enumerate((("client", client), ("therapist", therapist))):
        local = grid - zero[role]  # the grid on this device's own time axis
        pos = (local - times[role][0]) * rates[role]
        idx = np.rint(pos).astype(np.int64)
        inside = (grid >= spans[role][0] - 1e-9) & (grid < spans[role][1] - 1e-9)
        exact = abs(rates[role] - fs) < 1e-12 and np.all(np.abs(pos - idx) <= _INDEX_TOL)
        placement[role] = "exact sample index" if exact else "linear interpolation between adjacent valid samples"
        for m in mods_c:
            x = np.asarray(ds[m].values, np.float64)
            q = np.asarray(ds[f"{m}_quality"].values, np.uint8)
            if exact:
                ok = inside & (idx >= 0) & (idx < x.size)
                data[m][i, ok] = x[idx[ok]]
                qual[m][i, ok] = q[idx[ok]]
            else:
                v, qq = regular_to_grid(times[role], x, q, local, max_gap=1.5 / rates[role])
                data[m][i, inside] = v[inside]
                qual[m][i, inside] = qq[inside]
            qual[m][i, (qual[m][i] == VALID) & ~np.isfinite(data[m][i])] = GAP
            data[m][i, qual[m][i] != VALID] = np.nan
    from datetime import timedelta

    t0 = origin + timedelta(seconds=float(grid[0]))
    data_vars = {}
    for m in mods_c:
        data_vars[m] = (("role", "time"), data[m], dict(client[m].attrs))
        data_vars[f"{m}_quality"] = (("role", "time"), qual[m], dict(client[f"{m}_quality"].attrs,
                                                                     quality_codes=QUALITY_LEGEND))
    out = xr.Dataset(
        data_vars,
        coords={"role": ("role", list(ROLES)),
                "time": ("time", np.arange(grid.size) / fs, {"units": "s", "long_name": "seconds from start_utc"})},
    )
    out.attrs = {
        "start_utc": format_utc(t0),
        "fs": float(fs),
        "offset_client_s": off["client"],
        "offset_therapist_s": off["therapist"],
        "offsets": f"client: {off['client']:+g} s; therapist: {off['therapist']:+g} s (added to each device's "
                   "instants to get true time)",
        "overlap_start_utc": format_utc(origin + timedelta(seconds=lo)),
        "overlap_end_utc": format_utc(origin + timedelta(seconds=hi)),
        "overlap_s": float(hi - lo),
        "span": span,
        "min_overlap": float(min_overlap),
        "client_span_utc": _span_text(origin, *spans["client"]),
        "therapist_span_utc": _span_text(origin, *spans["therapist"]),
        "placement_client": placement["client"],
        "placement_therapist": placement["therapist"],
        "quality_codes": QUALITY_LEGEND,
        "modalities": list(mods_c),
    }
    return out


def _tag_instants(rec: xr.DataTree):
    from datetime import timedelta

    if "tags" not in rec.children:
        return []
    t = np.asarray(rec["tags"].to_dataset()["time"].values, np.float64)
    origin = parse_utc(rec.attrs["start_utc"])
    return [origin + timedelta(seconds=float(v)) for v in np.sort(t[np.isfinite(t)])]


def offset_from_tags(client_rec: xr.DataTree, therapist_rec: xr.DataTree, *, client_tag: int = 1,
                     therapist_tag: int = 1) -> dict[str, float]:
    """Clock offsets that make one tag press on each device simultaneous.

    The client's clock is the reference (offset 0); the therapist's offset is the
    client's tag instant minus the therapist's, so ``therapist instant + offset``
    is on the client's clock.

    Parameters
    ----------
    client_rec, therapist_rec : xarray.DataTree
        Recordings with a ``tags`` stream.
    client_tag, therapist_tag : int
        Which press to use on each device, counted from 1 (the first press).

    Raises
    ------
    AlignmentError
        When a device lacks the requested tag (the message says how many each has).

    Examples
    --------
    >>> import numpy as np
    >>> from synchrony.recording import make_stream, make_recording
    >>> def rec(start, tag_s):
    ...     tags = make_stream({}, np.array([tag_s]), start_utc=start, time_origin_utc=start, fs=None,
    ...                        units="", device="e4", source="doctest")
    ...     return make_recording({"tags": tags}, start_utc=start, device="e4", source="doctest")
    >>> offset_from_tags(rec("2024-01-01T10:00:00Z", 100.0), rec("2024-01-01T10:00:10Z", 92.5))
    {'client': 0.0, 'therapist': -2.5}
    """
    for name, k in (("client_tag", client_tag), ("therapist_tag", therapist_tag)):
        if not isinstance(k, (int, np.integer)) or k < 1:
            raise ConfigError(f"{name}: expected a tag number counted from 1, found {k!r}")
    tc, tt = _tag_instants(client_rec), _tag_instants(therapist_rec)
    if len(tc) < client_tag or len(tt) < therapist_tag:
        raise AlignmentError(
            f"offset_from_tags: asked for client tag {client_tag} and therapist tag {therapist_tag}, but the client's "
            f"recording ({client_rec.attrs.get('source', '?')}) has {len(tc)} tag(s) and the therapist's "
            f"({therapist_rec.attrs.get('source', '?')}) has {len(tt)}"
        )
    delta = (tc[client_tag - 1] - tt[therapist_tag - 1]).total_seconds()
    return {"client": 0.0, "therapist": float(delta)}
