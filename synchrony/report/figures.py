"""Figures of one session's results (matplotlib, Agg, no pyplot state).

Every function here takes a group of the session's result tree (ARCHITECTURE.md
section 6) as an :class:`xarray.Dataset` and returns a new
:class:`matplotlib.figure.Figure`. Figures are built with the object API on an
Agg canvas, never through :mod:`matplotlib.pyplot`, so nothing is registered in
pyplot's global figure list: a figure is freed as soon as the caller drops it,
and rendering works on machines without a display.

Time axes are in minutes. The WCC and signal figures use the ``/signals`` clock
(seconds from its ``start_utc``); the ratings figure uses the video clock of
``/aligned`` (seconds from the video start), the clock of the segment tables.

>>> import numpy as np, xarray as xr
>>> ds = xr.Dataset(
...     {"r": (("time", "lag"), np.zeros((5, 3))), "peak_lag": ("time", np.zeros(5))},
...     coords={"time": np.arange(5.0) + 15.0, "lag": [-1.0, 0.0, 1.0]},
... )
>>> fig = plot_wcc_heatmap(ds)
>>> [ax.get_ylabel().splitlines()[0] for ax in fig.axes][:1]
['lag (s)']
"""
from __future__ import annotations

import io
import logging
import textwrap
from collections.abc import Mapping, Sequence

import numpy as np
import xarray as xr
from matplotlib import colormaps
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from matplotlib.patches import Patch

from ..errors import InputError

__all__ = [
    "plot_wcc_heatmap",
    "plot_sync_band",
    "plot_ratings",
    "plot_signals",
    "figure_to_png",
    "ROLE_COLORS",
]

logger = logging.getLogger("synchrony")

ROLE_COLORS = {"client": "#1f6fb4", "therapist": "#d95f02"}
_SEGMENT_COLORS = {"helpful": "#1a9850", "hindering": "#d73027"}
_MODALITY_COLORS = ["#6a3d9a", "#1b9e77", "#e7298a", "#66a61e", "#a6761d", "#666666"]
_UNITS = {"hr": "bpm", "eda": "µS", "scl": "µS", "scr": "µS"}
DEFAULT_LAG_CONVENTION = "positive lag: client leads, therapist follows"
_WIDTH_IN = 11.0
_DPI = 100


def _new_figure(height_in: float) -> Figure:
    """A Figure on its own Agg canvas (not known to pyplot)."""
    fig = Figure(figsize=(_WIDTH_IN, height_in), dpi=_DPI, layout="constrained")
    FigureCanvasAgg(fig)
    return fig


def figure_to_png(fig: Figure, *, dpi: int = _DPI) -> bytes:
    """Render a figure to PNG bytes.

    Parameters
    ----------
    fig : matplotlib.figure.Figure
        The figure to render.
    dpi : int, optional
        Resolution in dots per inch.

    Returns
    -------
    bytes
        The PNG file's content.

    Examples
    --------
    >>> fig = _new_figure(1.0)
    >>> figure_to_png(fig)[:8] == b"\\x89PNG\\r\\n\\x1a\\n"
    True
    """
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=dpi)
    return buf.getvalue()


def _require_vars(ds: xr.Dataset, names: Sequence[str], what: str) -> None:
    missing = [n for n in names if n not in ds.variables]
    if missing:
        raise InputError(
            f"{what}: expected variables {', '.join(names)}; missing {', '.join(missing)} "
            f"(found {', '.join(map(str, ds.variables)) or 'none'})"
        )


def _legend_right(ax, handles=None, labels=None) -> None:
    """A legend outside the axes on the right, so that it never hides data."""
    if handles is None:
        handles, labels = ax.get_legend_handles_labels()
    ax.legend(handles, labels, loc="upper left", bbox_to_anchor=(1.005, 1.0), borderaxespad=0.0,
              fontsize=8, frameon=False)


def _minutes(seconds) -> np.ndarray:
    return np.asarray(seconds, dtype=float) / 60.0


def _name(ds: xr.Dataset, modality: str | None) -> str:
    name = modality or ds.attrs.get("modality") or ds.attrs.get("name") or ""
    return str(name).upper() if name else "synchrony"


def _is_uniform(values: np.ndarray) -> bool:
    if values.size < 3:
        return True
    d = np.diff(values)
    return bool(np.all(d > 0) and np.allclose(d, d[0], rtol=1e-6, atol=1e-9))


def plot_wcc_heatmap(ds_mod: xr.Dataset, *, modality: str | None = None) -> Figure:
    """Heatmap of the windowed cross-correlation r over time and lag, with the peak lag.

    Parameters
    ----------
    ds_mod : xarray.Dataset
        One modality's group: ``r(time, lag)`` and optionally ``peak_lag(time)``;
        attribute ``lag_convention`` (words) explains the lag sign.
    modality : str, optional
        Name shown in the title (defaults to the group's ``modality`` attribute).

    Returns
    -------
    matplotlib.figure.Figure
        Time (minutes, window centres) on x, lag (s) on y; a diverging colormap fixed
        to −1..1 and centred on 0; cells that are NaN (too few valid samples) grey.

    Examples
    --------
    >>> import numpy as np, xarray as xr
    >>> ds = xr.Dataset({"r": (("time", "lag"), np.full((4, 3), 0.5))},
    ...                 coords={"time": [15.0, 16.0, 17.0, 18.0], "lag": [-1.0, 0.0, 1.0]})
    >>> plot_wcc_heatmap(ds, modality="hr").axes[0].get_title()
    'HR: windowed cross-correlation r(time, lag)'
    >>> fig = plot_wcc_heatmap(ds.assign(peak_lag=("time", [0.0, 1, 1, -1])))
    >>> fig.axes[0].images[0].get_clim()
    (-1.0, 1.0)
    """
    _require_vars(ds_mod, ["r"], "WCC heatmap")
    r = ds_mod["r"].transpose("time", "lag")
    t = np.asarray(r["time"].values, dtype=float)
    lag = np.asarray(r["lag"].values, dtype=float)
    values = np.ma.masked_invalid(np.asarray(r.values, dtype=float))

    cmap = colormaps["RdBu_r"].with_extremes(bad="#d9d9d9")

    fig = _new_figure(4.0)
    ax = fig.add_subplot()
    tm = _minutes(t)
    if t.size and lag.size and _is_uniform(t) and _is_uniform(lag):
        dt = (tm[1] - tm[0]) if tm.size > 1 else 1.0 / 60.0
        dl = (lag[1] - lag[0]) if lag.size > 1 else 1.0
        extent = (tm[0] - dt / 2, tm[-1] + dt / 2, lag[0] - dl / 2, lag[-1] + dl / 2)
        image = ax.imshow(
            values.T, origin="lower", aspect="auto", extent=extent, cmap=cmap,
            vmin=-1.0, vmax=1.0, interpolation="nearest", rasterized=True,
        )
    else:
        image = ax.pcolormesh(
            tm, lag, values.T, cmap=cmap, vmin=-1.0, vmax=1.0, shading="nearest",
            rasterized=True,
        )
    if "peak_lag" in ds_mod:
        # dots, not a line: the peak jumps between lags where the correlation is flat
        ax.plot(tm, np.asarray(ds_mod["peak_lag"].values, dtype=float), ls="none",
                marker=".", ms=1.6, color="black", alpha=0.8, label="peak lag")

    convention = str(ds_mod.attrs.get("lag_convention") or DEFAULT_LAG_CONVENTION)
    ax.set_ylabel("lag (s)\n" + textwrap.fill(convention, 38), fontsize=9)
    ax.set_xlabel("time (min, window centre, signals clock)")
    title = f"{_name(ds_mod, modality)}: windowed cross-correlation r(time, lag)"
    if "peak_lag" in ds_mod:
        title += "; black dots: peak lag"
    ax.set_title(title)
    cbar = fig.colorbar(image, ax=ax, pad=0.01, fraction=0.04)
    cbar.set_label("Pearson r (grey: too few valid samples)", fontsize=8)
    return fig


def plot_sync_band(ds_mod: xr.Dataset, *, modality: str | None = None) -> Figure:
    """The synchrony series with its per-window surrogate band.

    Parameters
    ----------
    ds_mod : xarray.Dataset
        One modality's group: ``sync(time)`` and, when present, ``null_lo(time)``,
        ``null_hi(time)``; attributes ``p_value``, ``effect_size``, ``statistic``
        are quoted in the title when present.
    modality : str, optional
        Name shown in the title.

    Returns
    -------
    matplotlib.figure.Figure
        The band shaded grey, the series as a line, windows above the band marked.

    Examples
    --------
    >>> import numpy as np, xarray as xr
    >>> ds = xr.Dataset({"sync": ("time", [0.1, 0.9, np.nan, 0.2]),
    ...                  "null_lo": ("time", [-0.5] * 4), "null_hi": ("time", [0.5] * 4)},
    ...                 coords={"time": [15.0, 16.0, 17.0, 18.0]})
    >>> [t.get_text() for t in plot_sync_band(ds).axes[0].get_legend().get_texts()]
    ['surrogate band', 'synchrony', 'above band (1 of 3 windows)']
    """
    _require_vars(ds_mod, ["sync"], "synchrony band figure")
    t = np.asarray(ds_mod["time"].values, dtype=float)
    tm = _minutes(t)
    sync = np.asarray(ds_mod["sync"].values, dtype=float)

    fig = _new_figure(3.2)
    ax = fig.add_subplot()
    has_band = "null_lo" in ds_mod and "null_hi" in ds_mod
    if has_band:
        lo = np.asarray(ds_mod["null_lo"].values, dtype=float)
        hi = np.asarray(ds_mod["null_hi"].values, dtype=float)
        ax.fill_between(tm, lo, hi, color="#969696", alpha=0.45, lw=0, label="surrogate band",
                        step="mid")
    ax.plot(tm, sync, color="#252525", lw=0.8, label="synchrony")
    if has_band:
        with np.errstate(invalid="ignore"):
            above = np.isfinite(sync) & np.isfinite(hi) & (sync > hi)
        n_valid = int(np.isfinite(sync).sum())
        ax.plot(tm[above], sync[above], ls="none", marker="o", ms=2.5, color="#d7301f",
                label=f"above band ({int(above.sum())} of {n_valid} windows)")
    ax.axhline(0.0, color="black", lw=0.5, alpha=0.5)
    bits = []
    for key, label in (("statistic", "statistic"), ("p_value", "p"), ("effect_size", "effect size")):
        value = ds_mod.attrs.get(key)
        if value is not None:
            bits.append(f"{label} = {value:.3g}" if isinstance(value, (float, np.floating))
                        else f"{label} = {value}")
    title = f"{_name(ds_mod, modality)}: synchrony per window"
    ax.set_title(title + (f"  ({', '.join(bits)})" if bits else ""))
    ax.set_xlabel("time (min, window centre, signals clock)")
    ax.set_ylabel(str(ds_mod["sync"].attrs.get("long_name") or "sync (Fisher z of peak r)"),
                  fontsize=9)
    _legend_right(ax)
    return fig


def _segment_list(segments: Mapping | None, role: str, kind: str) -> list[dict]:
    if not isinstance(segments, Mapping):
        return []
    by_role = segments.get(role)
    if not isinstance(by_role, Mapping):
        return []
    items = by_role.get(kind) or []
    return [s for s in items if isinstance(s, Mapping) and "start_s" in s and "end_s" in s]


def plot_ratings(
    aligned: xr.Dataset,
    segments: Mapping | None = None,
    *,
    modalities: Sequence[str] | None = None,
) -> Figure:
    """Both raters' dial curves on the video clock, their top/bottom segments, and synchrony.

    One panel per rater present: the rater's own curve in colour with their most
    helpful segments shaded green and most hindering red (numbered by rank), the
    other rater's curve thin and grey for comparison. A last panel shows each
    modality's synchrony (``sync_<modality>``) on the same time axis.

    Parameters
    ----------
    aligned : xarray.Dataset
        The ``/aligned`` group: ``time`` (s from the video start), ``rating_client``,
        ``rating_therapist``, ``sync_<modality>``.
    segments : mapping, optional
        ``summary["segments"]``: ``{role: {"helpful": [{start_s, end_s, ...}], "hindering": [...]}}``.
    modalities : sequence of str, optional
        Which ``sync_<modality>`` to draw (default: all present).

    Returns
    -------
    matplotlib.figure.Figure

    Examples
    --------
    >>> import numpy as np, xarray as xr
    >>> al = xr.Dataset({"rating_client": ("time", [40.0, 60, 80]),
    ...                  "sync_hr": ("time", [0.1, np.nan, 0.3])}, coords={"time": [0.0, 1, 2]})
    >>> fig = plot_ratings(al, {"client": {"helpful": [{"start_s": 1.0, "end_s": 2.0}]}})
    >>> [ax.get_ylabel() for ax in fig.axes]
    ['client rating', 'sync (z)']
    """
    t = np.asarray(aligned["time"].values, dtype=float)
    tm = _minutes(t)
    roles = [r for r in ("client", "therapist") if f"rating_{r}" in aligned]
    if modalities is None:
        modalities = [str(v)[5:] for v in aligned.data_vars if str(v).startswith("sync_")]
    modalities = [m for m in modalities if f"sync_{m}" in aligned]
    n_panels = len(roles) + (1 if modalities else 0)
    if n_panels == 0:
        raise InputError(
            "ratings figure: /aligned has no rating_client, rating_therapist or sync_<modality> "
            f"variables (found {', '.join(map(str, aligned.data_vars)) or 'none'})"
        )
    fig = _new_figure(1.2 + 2.1 * n_panels)
    axes = fig.subplots(n_panels, 1, sharex=True, squeeze=False)[:, 0]
    for ax, role in zip(axes, roles):
        for other in roles:
            if other != role:
                ax.plot(tm, aligned[f"rating_{other}"].values, color="#8c8c8c", lw=0.8,
                        alpha=0.8, label=f"{other} rating")
        ax.plot(tm, aligned[f"rating_{role}"].values, color=ROLE_COLORS[role], lw=1.3,
                label=f"{role} rating")
        for kind, sign in (("helpful", "+"), ("hindering", "−")):
            for rank, seg in enumerate(_segment_list(segments, role, kind), start=1):
                a, b = float(seg["start_s"]) / 60.0, float(seg["end_s"]) / 60.0
                ax.axvspan(a, b, color=_SEGMENT_COLORS[kind], alpha=0.22, lw=0)
                ax.text((a + b) / 2, 103, f"{sign}{rank}", ha="center", va="bottom", fontsize=8,
                        color=_SEGMENT_COLORS[kind], fontweight="bold")
        ax.axhline(50, color="black", lw=0.5, ls=":", alpha=0.6)
        ax.set_ylim(-2, 113)  # room above 100 for the rank labels
        ax.set_yticks([0, 25, 50, 75, 100])
        ax.set_ylabel(f"{role} rating")
        handles, labels = ax.get_legend_handles_labels()
        handles += [Patch(color=_SEGMENT_COLORS["helpful"], alpha=0.3),
                    Patch(color=_SEGMENT_COLORS["hindering"], alpha=0.3)]
        labels += [f"{role}: most helpful (+rank)", f"{role}: most hindering (−rank)"]
        _legend_right(ax, handles, labels)
    axes[0].set_title("Dial ratings (0 hindering … 100 helpful) and synchrony, video clock")
    if modalities:
        ax = axes[-1]
        for i, mod in enumerate(modalities):
            ax.plot(tm, aligned[f"sync_{mod}"].values, lw=1.0,
                    color=_MODALITY_COLORS[i % len(_MODALITY_COLORS)], label=f"{mod} sync")
        ax.axhline(0.0, color="black", lw=0.5, alpha=0.5)
        ax.set_ylabel("sync (z)")
        _legend_right(ax)
    axes[-1].set_xlabel("time from video start (min)")
    return fig


def _runs(mask: np.ndarray) -> list[tuple[int, int]]:
    """Start and stop indices (half-open) of the True runs of a boolean vector."""
    padded = np.concatenate(([False], np.asarray(mask, dtype=bool), [False]))
    edges = np.flatnonzero(np.diff(padded.astype(np.int8)))
    return list(zip(edges[::2].tolist(), edges[1::2].tolist()))


def _ylim_from_valid(ax, da: xr.DataArray, quality: xr.DataArray | None) -> None:
    """Scale y to the valid samples (invalid ones, e.g. a 0 µS contact loss, may clip),
    leaving room at the bottom for the invalid-stretch bars."""
    values = np.asarray(da.values, dtype=float)
    if quality is not None:
        values = np.where(np.asarray(quality.transpose(*da.dims).values) == 0, values, np.nan)
    finite = values[np.isfinite(values)]
    if finite.size == 0:
        return
    lo, hi = float(finite.min()), float(finite.max())
    pad = (hi - lo) * 0.05 or max(abs(hi) * 0.05, 1e-6)
    ax.set_ylim(lo - 3 * pad, hi + pad)


def plot_signals(
    signals: xr.Dataset,
    *,
    video_start_s: float | None = None,
) -> Figure:
    """Both partners' analysis series, one panel per modality, invalid stretches marked.

    Valid samples (``<modality>_quality == 0``) are drawn solid in the role's
    colour, samples flagged invalid are drawn faint, and every invalid stretch is
    drawn as a bar in the role's colour along the bottom of the panel (client
    lowest). NaN samples are left as gaps.

    Parameters
    ----------
    signals : xarray.Dataset
        The ``/signals`` group: variables with dims (role, time), optional
        ``<name>_quality`` masks (0 = valid).
    video_start_s : float, optional
        Where rating time 0 sits on this clock; drawn as a dashed line.

    Returns
    -------
    matplotlib.figure.Figure

    Examples
    --------
    >>> import numpy as np, xarray as xr
    >>> sig = xr.Dataset({"hr": (("role", "time"), np.full((2, 8), 70.0)),
    ...                   "hr_quality": (("role", "time"), np.zeros((2, 8), np.uint8))},
    ...                  coords={"role": ["client", "therapist"], "time": np.arange(8) / 4})
    >>> [ax.get_ylabel() for ax in plot_signals(sig).axes]
    ['hr (bpm)']
    """
    names = [
        str(v) for v, da in signals.data_vars.items()
        if "role" in da.dims and "time" in da.dims and not str(v).endswith("_quality")
    ]
    if not names:
        raise InputError(
            "signals figure: /signals has no variable with dims (role, time) "
            f"(found {', '.join(map(str, signals.data_vars)) or 'none'})"
        )
    tm = _minutes(signals["time"].values)
    roles = [str(r) for r in signals["role"].values]
    fig = _new_figure(0.9 + 2.0 * len(names))
    axes = fig.subplots(len(names), 1, sharex=True, squeeze=False)[:, 0]
    for ax, name in zip(axes, names):
        da = signals[name].transpose("role", "time")
        quality = signals.get(f"{name}_quality")
        for i, role in enumerate(roles):
            y = np.asarray(da.values[i], dtype=float)
            color = ROLE_COLORS.get(role, _MODALITY_COLORS[i % len(_MODALITY_COLORS)])
            if quality is not None:
                bad = np.asarray(quality.transpose("role", "time").values[i]) != 0
            else:
                bad = ~np.isfinite(y)
            ax.plot(tm, np.where(bad, np.nan, y), color=color, lw=0.8, label=role)
            if bad.any():
                ax.plot(tm, np.where(bad, y, np.nan), color=color, lw=0.6, alpha=0.3)
                spans = [(tm[a], (tm[b - 1] - tm[a]) + (tm[1] - tm[0] if tm.size > 1 else 0))
                         for a, b in _runs(bad)]
                ax.broken_barh(spans, (0.01 + 0.045 * i, 0.035), color=color, alpha=0.8,
                               transform=ax.get_xaxis_transform(),
                               label=f"{role} invalid ({100 * bad.mean():.1f}%)")
        _ylim_from_valid(ax, da, quality)
        if video_start_s is not None and np.isfinite(video_start_s):
            ax.axvline(float(video_start_s) / 60.0, color="black", ls="--", lw=0.8,
                       label="video start")
        units = da.attrs.get("units") or _UNITS.get(name.lower(), "")
        ax.set_ylabel(f"{name} ({units})" if units else name)
        _legend_right(ax)
    axes[0].set_title("Analysis signals (solid: valid; faint and bars: flagged invalid)")
    axes[-1].set_xlabel("time (min, signals clock)")
    return fig
