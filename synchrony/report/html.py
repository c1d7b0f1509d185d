"""The self-contained HTML report of one session, and its figures as PNG files.

The report is one HTML file with its figures embedded as base64 PNG data URIs and
its style inline: no scripts, no external assets, readable from disk without a
server. Every piece of text taken from the result tree is escaped with
:func:`html.escape`.

Everything the tree lacks is skipped with a short note rather than an error: a
session without ratings has no ``/aligned`` group and no congruence, and its
report simply says so.

Files are written atomically: the content goes to a temporary name in the target
folder and is renamed over the final name only when complete, so a failure (a
figure that cannot be drawn, a full disk) never leaves a half-written report.

>>> import xarray as xr
>>> tree = xr.DataTree(xr.Dataset(attrs={"session_id": "demo", "warnings": "a & b"}))
>>> text = render_html(tree)
>>> "a &amp; b" in text and "<script" not in text
True
"""
from __future__ import annotations

import base64
import html
import json
import logging
import math
import os
import tomllib
import uuid
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import xarray as xr

from ..errors import InputError
from .figures import (
    DEFAULT_LAG_CONVENTION,
    figure_to_png,
    plot_ratings,
    plot_signals,
    plot_sync_band,
    plot_wcc_heatmap,
)

__all__ = ["write_report", "save_figures", "render_html", "render_figures", "RenderedFigure"]

logger = logging.getLogger("synchrony")

_DASH = "—"


# --------------------------------------------------------------------------- tree access


def _group(tree: xr.DataTree, name: str) -> xr.Dataset | None:
    """The dataset of child group ``name``, or None when the tree has no such group."""
    if name not in tree.children:
        return None
    return tree[name].to_dataset()


def _as_list(value) -> list[str]:
    """A list attribute that may also be stored as a comma or newline separated string."""
    if value is None:
        return []
    if isinstance(value, str):
        sep = "\n" if "\n" in value else ","
        return [v.strip() for v in value.split(sep) if v.strip()]
    if isinstance(value, (list, tuple, np.ndarray)):
        return [str(v).strip() for v in np.ravel(np.asarray(value, dtype=object)) if str(v).strip()]
    return [str(value)]


def _warnings(tree: xr.DataTree, summary: Mapping) -> list[str]:
    """Warnings from the root attribute (list or newline string) and the summary JSON."""
    value = tree.attrs.get("warnings")
    if isinstance(value, str):
        items = [w.strip() for w in value.splitlines() if w.strip()]
    else:
        items = _as_list(value)
    for w in _as_list(summary.get("warnings")) if "warnings" in summary else []:
        if w not in items:
            items.append(w)
    return items


def _modalities(tree: xr.DataTree) -> list[str]:
    """Modalities named by the root attribute ``modalities``, else groups holding ``r``."""
    named = _as_list(tree.attrs.get("modalities"))
    if named:
        missing = [m for m in named if m not in tree.children]
        if missing:
            logger.info("report: modalities %s listed but have no group; skipped", missing)
        return [m for m in named if m in tree.children]
    return [
        name for name, child in tree.children.items()
        if name not in ("signals", "aligned", "summary") and "r" in child.variables
    ]


def _summary(tree: xr.DataTree) -> dict:
    """The parsed summary JSON (``/summary`` attribute ``json``), or an empty dict."""
    node = tree.children.get("summary")
    if node is None:
        return {}
    text = node.attrs.get("json")
    if text is None:
        return {}
    try:
        data = json.loads(text)
    except (TypeError, ValueError) as exc:
        raise InputError(
            f"result tree /summary, attribute 'json': expected a JSON object, "
            f"found text that does not parse ({exc})"
        ) from exc
    if not isinstance(data, dict):
        raise InputError(
            "result tree /summary, attribute 'json': expected a JSON object, "
            f"found a {type(data).__name__}"
        )
    return data


def _session_id(tree: xr.DataTree, summary: Mapping) -> str:
    return str(tree.attrs.get("session_id") or summary.get("session_id") or "session")


# --------------------------------------------------------------------------- formatting


def _fmt(value, digits: int = 3) -> str:
    """Format a number for a table: 3 significant digits, integers whole, NaN/None a dash.

    >>> [_fmt(v) for v in (0.41, 0.005, 3.2, 2371, 1234.56, float("nan"), None, 0.41234)]
    ['0.41', '0.005', '3.2', '2371', '1234.6', '—', '—', '0.412']
    """
    if value is None:
        return _DASH
    if isinstance(value, (bool, np.bool_)):
        return "yes" if value else "no"
    if isinstance(value, (int, np.integer)):
        return str(int(value))
    if isinstance(value, (float, np.floating)):
        v = float(value)
        if math.isnan(v):
            return _DASH
        if math.isinf(v):
            return "∞" if v > 0 else "−∞"
        if abs(v) >= 100:
            return f"{v:.1f}" if not v.is_integer() else f"{v:.0f}"
        return f"{v:.{digits}g}"
    if isinstance(value, np.ndarray) and value.ndim == 0:
        return _fmt(value.item(), digits)
    return str(value)


def _clock(seconds) -> str:
    """``mm:ss`` (or ``h:mm:ss``) for a time in seconds.

    >>> _clock(310.0), _clock(3725.4), _clock(None)
    ('05:10', '1:02:05', '—')
    """
    if seconds is None or not np.isfinite(float(seconds)):
        return _DASH
    s = int(round(float(seconds)))
    sign = "−" if s < 0 else ""
    s = abs(s)
    h, rest = divmod(s, 3600)
    m, sec = divmod(rest, 60)
    return f"{sign}{h}:{m:02d}:{sec:02d}" if h else f"{sign}{m:02d}:{sec:02d}"


def _e(value) -> str:
    return html.escape(str(value), quote=True)


def _table(header: Iterable, rows: Iterable[Iterable], *, cls: str = "") -> str:
    """An HTML table; every cell is escaped (cells are already formatted strings)."""
    head = "".join(f"<th>{_e(h)}</th>" for h in header)
    body = "".join("<tr>" + "".join(f"<td>{_e(c)}</td>" for c in row) + "</tr>" for row in rows)
    attr = f' class="{_e(cls)}"' if cls else ""
    return f"<table{attr}><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


def _note(text: str) -> str:
    return f'<p class="note">{_e(text)}</p>'


# --------------------------------------------------------------------------- figures


@dataclass(frozen=True)
class RenderedFigure:
    """One rendered figure: file-name stem, title, caption and PNG bytes."""

    name: str
    title: str
    caption: str
    png: bytes


def _figure_plan(tree: xr.DataTree) -> list[tuple[str, str, str, Callable]]:
    """(name, title, caption, builder) for every figure the tree has data for."""
    summary = _summary(tree)
    plan: list[tuple[str, str, str, Callable]] = []
    signals = _group(tree, "signals")
    aligned = _group(tree, "aligned")
    video_start = aligned.attrs.get("video_start_s") if aligned is not None else None
    if signals is not None and any(
        "role" in da.dims and "time" in da.dims for da in signals.data_vars.values()
    ):
        plan.append((
            "signals", "Analysis signals",
            "Client and therapist analysis series per modality on the signals clock. "
            "Samples flagged invalid by the quality mask are drawn faint and marked by bars "
            "along the bottom of each panel; gaps are missing data (never filled).",
            lambda: plot_signals(signals, video_start_s=video_start),
        ))
    for mod in _modalities(tree):
        ds = _group(tree, mod)
        convention = str(ds.attrs.get("lag_convention") or DEFAULT_LAG_CONVENTION)
        if "r" in ds:
            plan.append((
                f"{mod}_wcc", f"{mod.upper()}: windowed cross-correlation",
                f"Pearson r per window (x: window centre) and lag (y); {convention}. "
                "Black dots mark the peak lag per window; grey cells had too few valid samples.",
                lambda ds=ds, mod=mod: plot_wcc_heatmap(ds, modality=mod),
            ))
        if "sync" in ds:
            plan.append((
                f"{mod}_sync", f"{mod.upper()}: synchrony and surrogate band",
                "Synchrony per window (Fisher z of the peak r) against the per-window band of "
                "the surrogate null; red dots mark windows above the band.",
                lambda ds=ds, mod=mod: plot_sync_band(ds, modality=mod),
            ))
    if aligned is not None and any(
        str(v).startswith(("rating_", "sync_")) for v in aligned.data_vars
    ):
        segments = summary.get("segments") if isinstance(summary.get("segments"), Mapping) else None
        mods = [m for m in _modalities(tree) if f"sync_{m}" in aligned] or None
        plan.append((
            "ratings", "Dial ratings, top and bottom segments, and synchrony",
            "Each rater's dial curve (0 hindering, 100 helpful) on the video clock with the "
            "other rater's curve in grey; green spans are that rater's most helpful segments, "
            "red their most hindering (numbered by rank). The last panel is each modality's "
            "synchrony on the same clock (gaps: no valid window).",
            lambda: plot_ratings(aligned, segments, modalities=mods),
        ))
    return plan


def render_figures(tree: xr.DataTree) -> list[RenderedFigure]:
    """Draw every figure the result tree has data for and render each to PNG.

    Parameters
    ----------
    tree : xarray.DataTree
        A session's result tree (ARCHITECTURE.md section 6).

    Returns
    -------
    list of RenderedFigure
        In report order: ``signals``, then per modality ``<mod>_wcc`` and
        ``<mod>_sync``, then ``ratings``; figures without data are left out.

    Examples
    --------
    >>> import xarray as xr
    >>> render_figures(xr.DataTree(xr.Dataset(attrs={"session_id": "empty"})))
    []
    """
    out = []
    for name, title, caption, build in _figure_plan(tree):
        fig = build()
        try:
            png = figure_to_png(fig)
        finally:
            fig.clear()
        out.append(RenderedFigure(name, title, caption, png))
    return out


# --------------------------------------------------------------------------- sections


_CSS = """
body{font-family:-apple-system,"Segoe UI",Roboto,"DejaVu Sans",Arial,sans-serif;margin:0;
 background:#f4f5f7;color:#1d1d1f;line-height:1.45}
main{max-width:1160px;margin:0 auto;padding:24px 28px 48px;background:#fff}
h1{font-size:1.6em;margin:0 0 4px} h2{font-size:1.25em;margin:28px 0 8px;
 border-bottom:2px solid #e3e5e8;padding-bottom:4px} h3{font-size:1.05em;margin:18px 0 6px}
.sub{color:#555;margin:0 0 12px}
table{border-collapse:collapse;margin:6px 0 12px;font-size:.92em}
th,td{border:1px solid #d5d8dc;padding:4px 10px;text-align:left;vertical-align:top}
th{background:#eef0f3} tbody tr:nth-child(even){background:#fafbfc}
td{font-variant-numeric:tabular-nums}
.warnings{background:#fff4ce;border:1px solid #e0b400;border-left:6px solid #e0b400;
 padding:10px 16px;margin:12px 0}
.warnings h2{border:none;margin:0 0 4px;font-size:1.1em}
.warnings ul{margin:4px 0 0;padding-left:20px}
.ok{background:#e9f6ec;border:1px solid #8cc79b;padding:8px 16px;margin:12px 0}
.note{color:#666;font-style:italic}
figure{margin:14px 0 22px} figure img{width:100%;height:auto;border:1px solid #e3e5e8}
figcaption{font-size:.9em;color:#444;margin-top:4px}
pre{background:#f6f8fa;border:1px solid #e3e5e8;padding:10px;overflow-x:auto;font-size:.85em}
.grid{display:flex;flex-wrap:wrap;gap:0 32px}
footer{margin-top:32px;color:#777;font-size:.85em}
"""

# result-tree parameter (attribute name) -> config key(s) in [analysis] that set it
_PARAMS = [
    ("window", "window (s)", ("window", "window_s")),
    ("step", "step (s)", ("step", "step_s")),
    ("max_lag", "maximum lag (s)", ("max_lag", "max_lag_s")),
    ("lag_step", "lag step (s)", ("lag_step", "lag_step_s")),
    ("min_valid", "minimum valid fraction", ("min_valid",)),
    ("convention", "WCC convention", ("convention",)),
    ("peak_method", "peak method", ("peak_method", "peaks")),
    ("surrogate_method", "surrogate method", ("surrogate_method", "surrogates_method", "method")),
    ("n_surrogates", "surrogates", ("surrogates", "n_surrogates")),
    ("statistic", "surrogate statistic", ("statistic",)),
    ("random_state", "random state", ("random_state",)),
]


def _config(tree: xr.DataTree) -> tuple[str | None, dict | None]:
    text = tree.attrs.get("config")
    if text is None:
        return None, None
    text = str(text)
    try:
        return text, tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        logger.info("report: root attribute 'config' is not valid TOML (%s); shown as text", exc)
        return text, None


def _facts(tree: xr.DataTree, summary: Mapping, mods: list[str]) -> str:
    rows: list[tuple[str, str]] = [("session", _session_id(tree, summary))]
    consumed = {"session_id", "config", "warnings", "modalities"}
    version = tree.attrs.get("synchrony_version", tree.attrs.get("version"))
    if version is not None:
        rows.append(("synchrony version", _fmt(version)))
    consumed |= {"synchrony_version", "version"}
    if tree.attrs.get("created_utc"):
        rows.append(("created (UTC)", _fmt(tree.attrs["created_utc"])))
    consumed.add("created_utc")
    rows.append(("modalities", ", ".join(mods) if mods else _DASH))
    signals = _group(tree, "signals")
    if signals is not None:
        if signals.attrs.get("start_utc"):
            rows.append(("signals start (UTC)", _fmt(signals.attrs["start_utc"])))
        fs = signals.attrs.get("fs")
        if "time" in signals.coords and signals.sizes.get("time", 0):
            t = np.asarray(signals["time"].values, dtype=float)
            span = float(t[-1] - t[0]) + (1.0 / float(fs) if fs else 0.0)
            rows.append(("signals duration", f"{_clock(span)} ({_fmt(span)} s)"))
        if fs is not None:
            rows.append(("analysis grid", f"{_fmt(fs)} Hz"))
        for key, value in signals.attrs.items():
            if key not in ("start_utc", "fs") and _is_scalar(value):
                rows.append((f"signals: {key}", _fmt(value)))
        for name, da in signals.data_vars.items():
            q = signals.get(f"{name}_quality")
            if q is None or "role" not in da.dims:
                continue
            parts = []
            for role in (str(r) for r in signals["role"].values):
                qv = np.asarray(q.sel(role=role).values)
                parts.append(f"{role} {100.0 * float(np.mean(qv == 0)):.1f}%")
            rows.append((f"{name}: valid samples", ", ".join(parts)))
    aligned = _group(tree, "aligned")
    if aligned is not None:
        if "time" in aligned.coords and aligned.sizes.get("time", 0):
            t = np.asarray(aligned["time"].values, dtype=float)
            bin_s = aligned.attrs.get("bin_s")
            span = float(t[-1] - t[0]) + (float(bin_s) if bin_s else 0.0)
            rows.append(("rated video duration", f"{_clock(span)} ({_fmt(span)} s)"))
        if aligned.attrs.get("bin_s") is not None:
            rows.append(("rating bin", f"{_fmt(aligned.attrs['bin_s'])} s"))
        vs = aligned.attrs.get("video_start_s")
        if vs is not None:
            rows.append(("video start on signals clock", f"{_clock(vs)} ({_fmt(vs)} s)"))
    else:
        rows.append(("ratings", "none (no /aligned group)"))
    for key, value in tree.attrs.items():
        if key not in consumed and _is_scalar(value):
            rows.append((key.replace("_", " "), _fmt(value)))
    return _table(["fact", "value"], rows, cls="facts")


def _is_scalar(value) -> bool:
    if isinstance(value, (str, int, float, bool, np.integer, np.floating, np.bool_)):
        return not (isinstance(value, str) and len(value) > 300)
    return False


def _parameters(tree: xr.DataTree, mods: list[str], config: dict | None) -> str:
    if not mods:
        return _note("No modality groups: no analysis parameters to show.")
    analysis = (config or {}).get("analysis") if isinstance(config, dict) else None
    analysis = analysis if isinstance(analysis, dict) else None
    groups = {m: _group(tree, m) for m in mods}
    rows = []
    for attr, label, keys in _PARAMS:
        values = []
        for m in mods:
            ds = groups[m]
            v = ds.attrs.get(attr)
            if v is None and attr == "lag_step" and "lag" in ds.coords and ds.sizes["lag"] > 1:
                v = float(np.median(np.diff(np.asarray(ds["lag"].values, dtype=float))))
            values.append(v)
        in_config = None
        if analysis is not None:
            for k in keys:
                if k in analysis:
                    in_config = k
                    break
        if all(v is None for v in values) and in_config is None:
            continue
        if analysis is None:
            source = "unknown (no parsable config)"
        elif in_config is not None:
            source = f"config [analysis] {in_config} = {analysis[in_config]!r}"
        else:
            source = "default (not set in config)"
        rows.append([label, *(_fmt(v) for v in values), source])
    table = _table(["parameter", *mods, "set by"], rows, cls="params")
    conventions = []
    for m in mods:
        conv = groups[m].attrs.get("lag_convention")
        conventions.append(f"{m}: {conv}" if conv else f"{m}: {DEFAULT_LAG_CONVENTION} (default)")
    lag = "<p><b>Lag sign.</b> " + "; ".join(_e(c) for c in conventions) + ".</p>"
    return table + lag


def _mod_summary(tree: xr.DataTree, summary: Mapping, mods: list[str]) -> str:
    per_mod = summary.get("modalities") if isinstance(summary.get("modalities"), Mapping) else {}
    names = list(dict.fromkeys([*mods, *per_mod]))
    if not names:
        return _note("No modality results.")
    cols = ["mean_sync", "p_value", "effect_size", "statistic", "n_windows", "n_surrogates"]
    labels = ["mean sync", "p (surrogate)", "effect size", "statistic", "windows", "surrogates"]
    extra: list[str] = []
    for m in names:
        for k in (per_mod.get(m) or {}):
            if k not in cols and k not in extra:
                extra.append(k)
    rows = []
    for m in names:
        entry = dict(per_mod.get(m) or {})
        ds = _group(tree, m) if m in tree.children else None
        if ds is not None:
            for k in cols:
                if entry.get(k) is None and k in ds.attrs:
                    entry[k] = ds.attrs[k]
        rows.append([m, *(_fmt(entry.get(k)) for k in cols + extra)])
    return _table(["modality", *labels, *(k.replace("_", " ") for k in extra)], rows, cls="summary")


def _congruence(summary: Mapping, has_aligned: bool) -> str:
    cong = summary.get("congruence")
    if not isinstance(cong, Mapping) or not cong:
        why = "no congruence in the summary" if has_aligned else "no ratings in this session"
        return _note(f"Rating congruence not available ({why}).")
    order = ["r", "p_naive", "p_adjusted", "t", "df"]
    labels = {"r": "Pearson r", "p_naive": "p (naive)", "p_adjusted": "p (autocorrelation-aware)",
              "t": "paired t", "df": "df"}
    keys = [k for k in order if k in cong] + [k for k in cong if k not in order]
    rows = [[labels.get(k, k.replace("_", " ")), _fmt(cong[k])] for k in keys
            if not isinstance(cong[k], (Mapping, list))]
    return _table(["client vs therapist rating", "value"], rows, cls="congruence")


def _association(summary: Mapping) -> str:
    assoc = summary.get("association")
    if not isinstance(assoc, Mapping) or not assoc:
        return _note("Rating–synchrony association not available.")
    keys: list[str] = []
    for per_mod in assoc.values():
        if isinstance(per_mod, Mapping):
            for entry in per_mod.values():
                if isinstance(entry, Mapping):
                    for k in entry:
                        if k not in keys and not isinstance(entry[k], (Mapping, list)):
                            keys.append(k)
    order = ["r", "lag_s", "p_adjusted"]
    keys = [k for k in order if k in keys] + [k for k in keys if k not in order]
    labels = {"r": "r", "lag_s": "lag (s)", "p_adjusted": "p (adjusted)"}
    rows = []
    for rater, per_mod in assoc.items():
        if not isinstance(per_mod, Mapping):
            continue
        for mod, entry in per_mod.items():
            if isinstance(entry, Mapping):
                rows.append([rater, mod, *(_fmt(entry.get(k)) for k in keys)])
    if not rows:
        return _note("Rating–synchrony association not available.")
    return _table(["rater", "modality", *(labels.get(k, k.replace("_", " ")) for k in keys)],
                  rows, cls="association")


def _segments(summary: Mapping, mods: list[str]) -> str:
    segs = summary.get("segments")
    if not isinstance(segs, Mapping) or not segs:
        return _note("Top and bottom rated segments not available.")
    parts = []
    for rater, kinds in segs.items():
        if not isinstance(kinds, Mapping):
            continue
        for kind in [k for k in ("helpful", "hindering") if k in kinds] + \
                    [k for k in kinds if k not in ("helpful", "hindering")]:
            items = kinds.get(kind) or []
            title = f"{rater}: most {kind}" if kind in ("helpful", "hindering") else f"{rater}: {kind}"
            parts.append(f"<div><h3>{_e(title)}</h3>")
            items = [s for s in items if isinstance(s, Mapping)]
            if not items:
                parts.append(_note("none") + "</div>")
                continue
            sync_mods = list(dict.fromkeys(
                [*mods, *(k for s in items if isinstance(s.get("sync"), Mapping) for k in s["sync"])]
            ))
            sync_mods = [m for m in sync_mods
                         if any(isinstance(s.get("sync"), Mapping) and m in s["sync"] for s in items)]
            rows = []
            for rank, s in enumerate(items, start=1):
                start, end = s.get("start_s"), s.get("end_s")
                rows.append([
                    rank,
                    f"{_clock(start)} ({_fmt(start)} s)" if start is not None else _DASH,
                    f"{_clock(end)} ({_fmt(end)} s)" if end is not None else _DASH,
                    _fmt(float(end) - float(start)) if start is not None and end is not None else _DASH,
                    _fmt(s.get("mean_rating")),
                    *(_fmt((s.get("sync") or {}).get(m)) for m in sync_mods),
                ])
            parts.append(_table(
                ["rank", "start (video)", "end (video)", "length (s)", "mean rating",
                 *(f"sync {m}" for m in sync_mods)], rows, cls="segments"))
            parts.append("</div>")
    if not parts:
        return _note("Top and bottom rated segments not available.")
    return '<div class="grid">' + "".join(parts) + "</div>"


def _other_summary(summary: Mapping) -> str:
    known = {"session_id", "modalities", "congruence", "association", "segments", "warnings"}
    rest = {k: v for k, v in summary.items() if k not in known}
    if not rest:
        return ""
    text = json.dumps(rest, indent=2, sort_keys=True, default=str)
    return ("<details><summary>Other summary fields</summary>"
            f"<pre>{_e(text)}</pre></details>")


def render_html(tree: xr.DataTree, figures: list[RenderedFigure] | None = None) -> str:
    """The report of one session as one self-contained HTML string.

    Parameters
    ----------
    tree : xarray.DataTree
        A session's result tree (ARCHITECTURE.md section 6).
    figures : list of RenderedFigure, optional
        Figures already rendered with :func:`render_figures`; rendered here when omitted.

    Returns
    -------
    str
        The HTML document (UTF-8 text, inline CSS, figures as data URIs, no scripts).

    Examples
    --------
    >>> import xarray as xr
    >>> tree = xr.DataTree(xr.Dataset(attrs={"session_id": "<s1>"}))
    >>> "&lt;s1&gt;" in render_html(tree)
    True
    """
    if figures is None:
        figures = render_figures(tree)
    summary = _summary(tree)
    sid = _session_id(tree, summary)
    mods = _modalities(tree)
    config_text, config = _config(tree)
    warnings = _warnings(tree, summary)
    has_aligned = "aligned" in tree.children

    out = [
        "<!DOCTYPE html>",
        '<html lang="en"><head><meta charset="utf-8">',
        '<meta name="viewport" content="width=device-width, initial-scale=1">',
        f"<title>Synchrony report: {_e(sid)}</title>",
        f"<style>{_CSS}</style></head><body><main>",
        f"<h1>Physiological synchrony report: {_e(sid)}</h1>",
        '<p class="sub">Client and therapist physiology, windowed cross-correlation against '
        "surrogates, aligned to the dial ratings.</p>",
    ]
    if warnings:
        out.append('<section class="warnings" id="warnings"><h2>⚠ Warnings '
                   f"({len(warnings)})</h2><ul>")
        out.extend(f"<li>{_e(w)}</li>" for w in warnings)
        out.append("</ul></section>")
    else:
        out.append('<section class="ok" id="warnings">No warnings were raised for this '
                   "session.</section>")

    out.append('<section id="facts"><h2>Session</h2>')
    out.append(_facts(tree, summary, mods))
    out.append("<h3>Analysis parameters</h3>")
    out.append(_parameters(tree, mods, config))
    out.append("</section>")

    out.append('<section id="summary"><h2>Synchrony per modality</h2>')
    out.append(_mod_summary(tree, summary, mods))
    out.append("<p class=\"note\">p: surrogate test with the +1 correction; effect size: "
               "(statistic − mean of the null) / SD of the null.</p></section>")

    out.append('<section id="ratings"><h2>Ratings</h2><h3>Congruence of the two raters</h3>')
    out.append(_congruence(summary, has_aligned))
    out.append("<h3>Association of each rater's rating with synchrony</h3>")
    out.append(_association(summary))
    out.append("<h3>Top and bottom rated segments (video clock)</h3>")
    out.append(_segments(summary, mods))
    out.append(_other_summary(summary))
    out.append("</section>")

    out.append('<section id="figures"><h2>Figures</h2>')
    if not figures:
        out.append(_note("No figures: the result tree holds no signals, modality or rating data."))
    for f in figures:
        data = base64.b64encode(f.png).decode("ascii")
        out.append(
            f'<figure id="fig-{_e(f.name)}"><h3>{_e(f.title)}</h3>'
            f'<img alt="{_e(f.title)}" src="data:image/png;base64,{data}">'
            f"<figcaption>{_e(f.caption)}</figcaption></figure>"
        )
    out.append("</section>")

    if config_text is not None:
        out.append('<section id="config"><h2>Configuration</h2><details open>'
                   f"<summary>session config (TOML)</summary><pre>{_e(config_text)}</pre>"
                   "</details></section>")
    version = tree.attrs.get("synchrony_version", tree.attrs.get("version"))
    out.append("<footer>Generated by synchrony"
               + (f" {_e(version)}" if version is not None else "")
               + (f" at {_e(tree.attrs['created_utc'])}" if tree.attrs.get("created_utc") else "")
               + ".</footer>")
    out.append("</main></body></html>\n")
    return "\n".join(out)


# --------------------------------------------------------------------------- writing


def _atomic_write(path: Path, data: bytes) -> None:
    """Write ``data`` to a temporary file beside ``path``, then rename it over ``path``."""
    path.parent.mkdir(parents=True, exist_ok=True)
    # a unique hidden name in the same folder (os.replace is atomic only within one file
    # system); opened with "xb" so the file gets the usual umask permissions
    tmp = path.with_name(f".{path.name}.{os.getpid()}.{uuid.uuid4().hex[:12]}.tmp")
    try:
        with open(tmp, "xb") as fh:
            fh.write(data)
        os.replace(tmp, path)
    except BaseException:
        try:
            os.unlink(tmp)
        except FileNotFoundError:
            pass
        raise


def _png_paths(out_dir: Path, session_id: str, figures: list[RenderedFigure]) -> list[Path]:
    return [out_dir / f"{session_id}_{f.name}.png" for f in figures]


def save_figures(tree: xr.DataTree, out_dir: str | os.PathLike, session_id: str) -> list[Path]:
    """Write every figure of the session as ``<out_dir>/<session_id>_<name>.png``.

    Names are ``signals``, ``<modality>_wcc``, ``<modality>_sync`` and ``ratings``
    (only those the tree has data for). All figures are drawn before the first file
    is written, and each file is written atomically.

    Parameters
    ----------
    tree : xarray.DataTree
        A session's result tree.
    out_dir : str or path-like
        Folder for the PNG files (created when missing).
    session_id : str
        Prefix of the file names.

    Returns
    -------
    list of pathlib.Path
        The files written, in report order.

    Examples
    --------
    >>> import tempfile, xarray as xr
    >>> with tempfile.TemporaryDirectory() as d:
    ...     save_figures(xr.DataTree(), d, "s1")
    []
    """
    figures = render_figures(tree)
    out = Path(out_dir)
    paths = _png_paths(out, str(session_id), figures)
    for p, f in zip(paths, figures):
        _atomic_write(p, f.png)
    return paths


def write_report(
    tree: xr.DataTree,
    path: str | os.PathLike,
    *,
    png_dir: str | os.PathLike | None = None,
) -> Path:
    """Write the session's self-contained HTML report.

    Parameters
    ----------
    tree : xarray.DataTree
        A session's result tree (ARCHITECTURE.md section 6).
    path : str or path-like
        The HTML file to write (its folder is created when missing).
    png_dir : str or path-like, optional
        When given, the same figures are also written there as
        ``<session_id>_<name>.png`` (as :func:`save_figures` does, without drawing
        them twice).

    Returns
    -------
    pathlib.Path
        ``path``. Everything is drawn before anything is written; the report is
        written to a temporary name in the same folder and renamed when complete, so
        a failure leaves no report (and an earlier report at ``path`` untouched).

    Examples
    --------
    >>> import tempfile, xarray as xr
    >>> tree = xr.DataTree(xr.Dataset(attrs={"session_id": "s1"}))
    >>> with tempfile.TemporaryDirectory() as d:
    ...     p = write_report(tree, f"{d}/s1.html")
    ...     p.name, p.read_text(encoding="utf-8").startswith("<!DOCTYPE html>")
    ('s1.html', True)
    """
    path = Path(path)
    figures = render_figures(tree)
    text = render_html(tree, figures)
    if png_dir is not None:
        sid = _session_id(tree, _summary(tree))
        for p, f in zip(_png_paths(Path(png_dir), sid, figures), figures):
            _atomic_write(p, f.png)
    _atomic_write(path, text.encode("utf-8"))
    logger.info("report written to %s (%d figures)", path, len(figures))
    return path
