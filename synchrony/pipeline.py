"""One session, end to end: config -> recordings -> analysis series -> WCC -> surrogates ->
ratings on the same clock -> the result tree (ARCHITECTURE.md section 6) and its files.

>>> import synchrony as sy                                     # doctest: +SKIP
>>> tree = sy.run_session("sample_recordings/session.toml")    # doctest: +SKIP
>>> tree["hr"]["sync"]                                         # doctest: +SKIP
"""
from __future__ import annotations

import json
import logging
import math
import os
import shutil
import socket
import tempfile
import warnings
from datetime import datetime, timezone
from pathlib import Path

import numpy as np
import xarray as xr

from .config import ROLES, SessionConfig, load_config, path_sha256
from .errors import AlignmentError, InputError, SynchronyError, SynchronyWarning
from .recording import format_utc, make_recording, utc_from_unix, utc_to_unix

log = logging.getLogger("synchrony")

__all__ = ["run_session", "write_outputs", "output_paths", "load_person"]

LAG_WORDS = "positive lag: the client leads and the therapist follows (x = client at t, y = therapist at t + lag)"
STREAM_ALIASES = {"ppg": "bvp"}


# ----------------------------------------------------------------------------------- reading
def load_person(person) -> xr.DataTree:
    """Read one partner's recording(s) as one Recording.

    A whole export (``e4 = ...``) is read by its reader; per-stream files (``ecg = ...``,
    ``eda = ...``) are read one by one (``format`` or content detection) and their streams
    combined on one clock (the earliest start).
    """
    from .io import read, reader_for

    def _read(path, fmt):
        if fmt is not None:
            return reader_for(fmt)(path)
        return read(path)

    items = list(person.files.items())
    if len(items) == 1 and items[0][0] not in STREAM_ALIASES and items[0][0] not in (
        "ecg", "bvp", "ibi", "eda", "hr", "resp"
    ):
        key, path = items[0]
        fmt = person.format or (None if key == "recording" else key)
        return _read(path, fmt)
    streams: dict[str, xr.Dataset] = {}
    starts = []
    for key, path in items:
        name = STREAM_ALIASES.get(key, key)
        rec = _read(path, person.format)
        if name in rec.children:
            child = rec[name].to_dataset()
        elif len(rec.children) == 1:
            (only,) = rec.children
            child = rec[only].to_dataset().rename({only: name}) if only in rec[only].data_vars else rec[only].to_dataset()
        else:
            raise InputError(
                f"{path}: the session config names this file as the {person.role}'s {key} stream, but it holds "
                f"streams {', '.join(rec.children)}; name one of those or give a single-stream file"
            )
        origin = utc_to_unix(rec.attrs["start_utc"])
        streams[name] = child.assign_attrs(_origin=origin)
        starts.append(origin)
        for extra in ("tags",):
            if extra in rec.children and extra not in streams:
                streams[extra] = rec[extra].to_dataset().assign_attrs(_origin=origin)
    t0 = min(starts)
    out = {}
    for name, ds in streams.items():
        shift = ds.attrs.pop("_origin") - t0
        ds = ds.assign_coords(time=ds["time"] + shift)
        ds.attrs["time_origin_utc"] = utc_from_unix(t0)
        out[name] = ds
    src = ", ".join(str(p) for _, p in items)
    return make_recording(out, start_utc=utc_from_unix(t0), device="per-stream files", source=src)


# ----------------------------------------------------------------------------------- running
def _progress(enabled: bool, total: int, desc: str):
    if not enabled:
        return None
    from tqdm.auto import tqdm

    return tqdm(total=total, desc=desc, unit="step", leave=False, dynamic_ncols=True)


def run_session(config, *, out=None, progress: bool = False, partners: dict | None = None) -> xr.DataTree:
    """Run one session and return the result tree (ARCHITECTURE.md section 6).

    Parameters
    ----------
    config : str, Path, dict or SessionConfig
        The session config (TOML file) or its parsed content.
    out : str or Path, optional
        When given, also write the session's files there (see :func:`write_outputs`).
    progress : bool
        Show a progress bar on stderr.

    Returns
    -------
    xarray.DataTree
        Groups ``/signals``, one per modality, ``/aligned`` (when ratings are given) and ``/summary``.
    """
    cfg = config if isinstance(config, SessionConfig) else load_config(config)
    a = cfg.analysis
    mods = a["modalities"]
    bar = _progress(progress, 4 + 2 * len(mods) + (1 if cfg.ratings else 0), cfg.session_id)

    def step(msg):
        log.info("%s: %s", cfg.session_id, msg)
        if bar is not None:
            bar.set_postfix_str(msg)
            bar.update(1)

    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", SynchronyWarning)
        try:
            tree = _run(cfg, step, partners)
        finally:
            if bar is not None:
                bar.close()
    notes = []
    for w in caught:
        if issubclass(w.category, SynchronyWarning):
            notes.append(str(w.message))
        else:
            warnings.warn_explicit(w.message, w.category, w.filename, w.lineno)
    notes = list(dict.fromkeys(notes + list(tree.attrs.get("_notes", []))))
    tree.attrs.pop("_notes", None)
    tree.attrs["warnings"] = "\n".join(notes)
    for n in notes:
        warnings.warn(f"{cfg.session_id}: {n}", SynchronyWarning, stacklevel=2)
    if out is not None:
        write_outputs(tree, out)
    return tree


def _run(cfg: SessionConfig, step, partners) -> xr.DataTree:
    from .core.peaks import peaks
    from .core.wcc import wcc
    from .dyad import make_dyad
    from .preprocess import analysis_series
    from .stats.inference import surrogate_test

    a = cfg.analysis
    mods = a["modalities"]
    notes: list[str] = []

    recs = {role: load_person(cfg.persons[role]) for role in ROLES}
    if cfg.ratings:
        _precheck_ratings(cfg, recs)  # fail fast: bad ratings or video start before the long analysis
    step("recordings read")
    series = {}
    for role in ROLES:
        kw = {"fs_out": a["fs"], "max_gap": a["max_gap"]}
        if cfg.persons[role].hr_source != "auto":
            kw["hr_source"] = cfg.persons[role].hr_source
        try:
            series[role] = analysis_series(recs[role], mods, **kw)
        except SynchronyError as exc:
            raise type(exc)(f"{cfg.persons[role].role}'s recording: {exc}") from None
        _check_stream_lengths(cfg, role, recs[role], series[role], mods)
    step("preprocessed")
    offsets = {role: cfg.persons[role].offset_s for role in ROLES}
    try:
        dyad = make_dyad(series["client"], series["therapist"], offsets=offsets, fs=a["fs"])
    except AlignmentError as exc:
        raise AlignmentError(f"{cfg.path}: [client] and [therapist]: {exc}. {_clock_hint(recs, offsets)}") from None
    step("paired on one clock")
    fs = float(dyad.attrs["fs"])
    duration = dyad.sizes["time"] / fs
    if a["window"] > duration:
        raise AlignmentError(
            f"{cfg.path}: [analysis] window = {a['window']} s is longer than the partners' shared recording "
            f"({duration:.1f} s of overlap)"
        )

    groups: dict[str, xr.Dataset] = {}
    indices: dict[str, dict] = {}
    for i, mod in enumerate(mods):
        x = dyad[mod].sel(role="client").values.astype(float)
        y = dyad[mod].sel(role="therapist").values.astype(float)
        kw = dict(fs=fs, window=a["window"], step=a["step"], max_lag=a["max_lag"])
        r = wcc(x, y, lag_step=a["lag_step"], min_valid=a["min_valid"], **kw)
        pk = peaks(r, method=a["peak_method"])
        peak_r = pk["peak_r"].values
        sync = np.arctanh(np.clip(peak_r, -(1 - 1e-12), 1 - 1e-12))
        step(f"{mod}: windowed cross-correlation")
        ds = xr.Dataset(
            {
                "r": r,
                "peak_r": ("time", peak_r),
                "peak_lag": ("time", pk["peak_lag"].values, {"units": "s"}),
                "sync": ("time", sync, {"long_name": "Fisher z of the peak r", "units": "1"}),
            }
        )
        n_valid = np.isfinite(r.values).sum(axis=1)
        ds["n_valid"] = ("time", n_valid.astype(np.int32), {"long_name": "valid lags in the window"})
        st = None
        if a["surrogates"] > 0:
            skw = dict(n_surrogates=a["surrogates"], statistic=a["statistic"], random_state=_seed(a["random_state"], i),
                       lag_step=a["lag_step"], min_valid=a["min_valid"])
            # "auto": circular shifts, calibrated like the cyclic segment shuffle (RESULTS.md,
            # Statistics) but with as many surrogates as asked for, so p can reach 1/(n + 1)
            skw["method"] = "circular_shift" if a["surrogate_method"] == "auto" else a["surrogate_method"]
            st = surrogate_test(x, y, **kw, **skw)
            band_lo = st["null_lo"].reindex(time=ds["time"].values, method="nearest", tolerance=1e-6)
            band_hi = st["null_hi"].reindex(time=ds["time"].values, method="nearest", tolerance=1e-6)
            ds["null_lo"] = ("time", band_lo.values, dict(st["null_lo"].attrs))
            ds["null_hi"] = ("time", band_hi.values, dict(st["null_hi"].attrs))
        else:
            ds["null_lo"] = ("time", np.full(ds.sizes["time"], np.nan))
            ds["null_hi"] = ("time", np.full(ds.sizes["time"], np.nan))
        valid = np.isfinite(sync)
        idx = {
            "mean_sync": _num(np.nanmean(sync)) if valid.any() else None,
            "p_value": _num(st["p_value"]) if st is not None else None,
            "effect_size": _num(st["effect_size"]) if st is not None else None,
            "statistic": a["statistic"],
            "statistic_value": _num(st["statistic"]) if st is not None else None,
            "surrogate_method": st.attrs.get("method", a["surrogate_method"]) if st is not None else "none",
            "n_surrogates": int(a["surrogates"]),
            "n_windows": int(valid.sum()),
            "n_windows_total": int(valid.size),
            "mean_peak_lag_s": _num(np.nanmean(pk["peak_lag"].values)) if valid.any() else None,
            "median_peak_lag_s": _num(np.nanmedian(pk["peak_lag"].values)) if valid.any() else None,
            "fraction_above_band": _num(np.mean(sync[valid] > ds["null_hi"].values[valid])) if valid.any() and st is not None else None,
            "valid_fraction_client": _num(np.mean(np.isfinite(x))),
            "valid_fraction_therapist": _num(np.mean(np.isfinite(y))),
        }
        if not valid.any():
            notes.append(f"{mod}: no window had enough valid samples from both partners; its synchrony is all NaN")
        indices[mod] = idx
        ds.attrs.update({k: ("none" if v is None else v) for k, v in idx.items()})
        ds.attrs.update(
            window=a["window"], step=a["step"], max_lag=a["max_lag"], fs=fs, peak_method=a["peak_method"],
            lag_convention=LAG_WORDS, sync_definition="atanh(peak r) per window, peak by " + a["peak_method"],
            band_definition=(st["null_lo"].attrs.get("description", "per-window surrogate band") if st is not None else "none"),
        )
        groups[mod] = ds
        step(f"{mod}: surrogates")

    summary = {"session_id": cfg.session_id, "modalities": indices}
    root_attrs = {
        "session_id": cfg.session_id,
        "modalities": ",".join(mods),
        "synchrony_version": _version(),
        "created_utc": format_utc(datetime.now(timezone.utc)),
        "config": cfg.text,
        "config_path": str(cfg.path) if cfg.path else "",
        "analysis": json.dumps(a),
        "package_versions": json.dumps(_versions()),
        "input_checksums": json.dumps({str(p): path_sha256(p) for p in cfg.input_files()}),
        "input_checksum": cfg.checksum(),
        "lag_convention": LAG_WORDS,
        "devices": json.dumps({role: recs[role].attrs.get("device", "") for role in ROLES}),
        "sources": json.dumps({role: recs[role].attrs.get("source", "") for role in ROLES}),
    }
    aligned = None
    if cfg.ratings:
        aligned, rsum, rnotes = _align(cfg, recs, dyad, groups)
        summary.update(rsum)
        notes += rnotes
        step("ratings aligned")
    summary["parameters"] = {k: a[k] for k in a}
    summary["lag_convention"] = LAG_WORDS
    summary["input_checksum"] = root_attrs["input_checksum"]
    summary["warnings"] = notes

    signals = dyad.copy()
    signals.attrs["lag_convention"] = LAG_WORDS
    nodes = {"/": xr.Dataset(attrs=root_attrs), "/signals": signals}
    for mod, ds in groups.items():
        nodes[f"/{mod}"] = ds
    if aligned is not None:
        nodes["/aligned"] = aligned
    summary_json = json.dumps(_jsonable(summary), indent=2)
    nodes["/summary"] = xr.Dataset(attrs={"json": summary_json, **_flat(summary)})
    tree = xr.DataTree.from_dict(nodes)
    tree.attrs["_notes"] = notes
    return tree


def _precheck_ratings(cfg, recs) -> None:
    """Read the ratings files and place the video start once, so that their errors come in seconds."""
    from .align.clock import video_start_on_signals
    from .align.ratings import read_ratings

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", SynchronyWarning)  # warned again, once, by the real pass
        for role in ROLES:
            if role in cfg.ratings:
                kw = {}
                if "scale_min" in cfg.ratings or "scale_max" in cfg.ratings:
                    kw["scale"] = (cfg.ratings.get("scale_min", 0.0), cfg.ratings.get("scale_max", 100.0))
                read_ratings(cfg.ratings[role], **kw)
    video_start_on_signals(
        recs["client"].attrs["start_utc"], start_utc=cfg.ratings.get("start_utc"),
        start_tag=cfg.ratings.get("start_tag"), offset_s=cfg.ratings.get("offset_s"),
        client_rec=recs["client"], client_offset_s=cfg.persons["client"].offset_s,
    )


def _check_stream_lengths(cfg, role, rec, ser, mods) -> None:
    """Refuse a modality with less valid data (first to last finite sample) than one analysis window:
    it cannot give a single synchrony value, so it is a truncated or broken stream (often beside
    streams of the same device that run far longer), not a result."""
    fs = float(ser.attrs.get("fs", 0) or 0)
    if fs <= 0:
        return
    spans = {}
    for mod in mods:
        ok = np.flatnonzero(np.isfinite(np.asarray(ser[mod].values, dtype=float)))
        spans[mod] = 0.0 if ok.size == 0 else (ok[-1] - ok[0] + 1) / fs
    longest = max(spans.values())
    window = cfg.analysis["window"]
    total = ser.sizes.get("time", 0) / fs
    for mod, span in spans.items():
        if span < window <= total:  # (a window longer than the whole recording is reported later)
            stream = ser[mod].attrs.get("source") or ser.attrs.get(f"{mod}_source") or mod
            child = rec.children.get(stream)
            source = child.attrs.get("source") if child is not None else None
            source = source or rec.attrs.get("source", "")
            other = max(spans, key=spans.get)
            versus = (f", while its {other} runs {longest:.1f} s; the streams' lengths differ wildly"
                      if longest >= window else "")
            raise InputError(
                f"{source}: the {role}'s {mod} (from its {stream} stream) holds only {span:.1f} s of valid data, "
                f"shorter than one analysis window ({window:g} s){versus} (a truncated file, or the sensor off "
                f"the skin?). Fix the file, or drop {mod!r} from [analysis] modalities in {cfg.path}"
            )


def _clock_hint(recs, offsets) -> str:
    """A sentence on how far apart the two devices' clocks start (whole hours suggest a time-zone slip)."""
    try:
        d = (utc_to_unix(recs["therapist"].attrs["start_utc"]) + offsets["therapist"]) - (
            utc_to_unix(recs["client"].attrs["start_utc"]) + offsets["client"])
    except (KeyError, ValueError, TypeError):
        return ""
    text = f"The therapist's recording starts {d:+.1f} s ({d / 3600:+.2f} h) from the client's"
    hours = round(d / 3600)
    if hours and abs(d - hours * 3600) < 600:
        text += (f"; that is about {abs(hours)} h, as a time-zone, daylight-saving or date setting would give; "
                 "check both devices' clocks or set offset_s in [client] or [therapist]")
    else:
        text += "; check the devices' clocks and offset_s in [client] / [therapist]"
    return text + "."


def _align(cfg, recs, dyad, groups):
    from .align.clock import video_start_on_signals
    from .align.merge import bin_edges, merge_ratings, sync_on_rating_clock
    from .align.ratings import read_ratings
    from .align.segments import association, congruence, top_segments

    a = cfg.analysis
    notes: list[str] = []
    ratings = {}
    for role in ROLES:
        if role in cfg.ratings:
            kw = {}
            if "scale_min" in cfg.ratings or "scale_max" in cfg.ratings:
                kw["scale"] = (cfg.ratings.get("scale_min", 0.0), cfg.ratings.get("scale_max", 100.0))
            ratings[role] = read_ratings(cfg.ratings[role], **kw)
    video_start, how = video_start_on_signals(
        dyad.attrs["start_utc"],
        start_utc=cfg.ratings.get("start_utc"),
        start_tag=cfg.ratings.get("start_tag"),
        offset_s=cfg.ratings.get("offset_s"),
        client_rec=recs["client"],
        client_offset_s=cfg.persons["client"].offset_s,
    )
    times, cols, mnotes = merge_ratings(ratings)
    notes += mnotes
    bin_end = any("end" in str(ds.attrs.get("time_base", "")) for ds in ratings.values())
    lo, hi = bin_edges(times, bin_end=bin_end)
    bin_s = float(np.median(np.diff(times))) if times.size > 1 else 1.0
    duration = dyad.sizes["time"] / float(dyad.attrs["fs"])
    # coverage: rating bins outside the physiology are kept (NaN synchrony) and reported
    outside = (lo + video_start < 0) | (hi + video_start > duration)
    if outside.all():
        raise AlignmentError(
            f"the ratings ({times[0]:g}–{times[-1]:g} s of video, {how}) do not overlap the partners' shared "
            f"physiology (0–{duration:.1f} s after {dyad.attrs['start_utc']})"
        )
    if outside.any():
        after = hi[outside & (hi + video_start > duration)]
        before = lo[outside & (lo + video_start < 0)]
        if after.size:
            notes.append(
                f"the ratings run {float(hi[-1] + video_start - duration):.1f} s beyond the end of the shared "
                f"physiology; {after.size} rating bins have no synchrony (NaN)"
            )
        if before.size:
            notes.append(f"{before.size} rating bins lie before the shared physiology starts; they have no synchrony (NaN)")

    data = {}
    for role in ROLES:
        if role in cols:
            data[f"rating_{role}"] = ("time", cols[role], {"units": "dial (0 hindering – 100 helpful)",
                                                           "source": str(cfg.ratings[role])})
        else:
            data[f"rating_{role}"] = ("time", np.full(times.size, np.nan), {"note": "no ratings given"})
    per_bin = {}
    for mod, ds in groups.items():
        centres = ds["time"].values - video_start
        mean, n = sync_on_rating_clock(centres, ds["sync"].values, lo, hi, rule=a["align_rule"], window_s=a["window"])
        band, _ = sync_on_rating_clock(centres, ds["null_hi"].values, lo, hi, rule=a["align_rule"], window_s=a["window"])
        data[f"sync_{mod}"] = ("time", mean, {"long_name": f"mean {mod} synchrony (Fisher z of the peak r) of the windows in the bin"})
        data[f"n_windows_{mod}"] = ("time", n.astype(np.int32))
        data[f"null_hi_{mod}"] = ("time", band, {"long_name": "mean upper surrogate band of the windows in the bin"})
        per_bin[mod] = (mean, n, band)
    aligned = xr.Dataset(data, coords={"time": ("time", times, {"units": "s", "long_name": "seconds from the video start (rating clock)"})})
    aligned.attrs.update(video_start_s=float(video_start), video_start=how, bin_s=bin_s,
                         align_rule=a["align_rule"], bin_stamps="bin ends" if bin_end else "bin centres",
                         video_start_utc=utc_from_unix(utc_to_unix(dyad.attrs["start_utc"]) + video_start))

    rsum: dict = {}
    if "client" in cols and "therapist" in cols:
        rsum["congruence"] = congruence(cols["client"], cols["therapist"])
    rsum["association"] = {
        role: {mod: association(cols[role], per_bin[mod][0], bin_s=bin_s, max_lag_s=a["association_max_lag"])
               for mod in groups}
        for role in cols
    }
    segs = {}
    for role in cols:
        segs[role] = {}
        for kind, helpful in (("helpful", True), ("hindering", False)):
            found = top_segments(times, cols[role], bin_s=bin_s, segment_s=a["segment_s"], k=a["top_k"], helpful=helpful)
            for seg in found:
                i0, i1 = seg.pop("i0"), seg.pop("i1")
                seg["sync"], seg["band_hi"], seg["n_windows"] = {}, {}, {}
                for mod, (mean, n, band) in per_bin.items():
                    w = n[i0:i1]
                    ok = w > 0
                    seg["sync"][mod] = _num(np.sum(mean[i0:i1][ok] * w[ok]) / w[ok].sum()) if ok.any() else None
                    bvals = band[i0:i1][ok]
                    seg["band_hi"][mod] = _num(np.mean(bvals[np.isfinite(bvals)])) if np.isfinite(bvals).any() else None
                    seg["n_windows"][mod] = int(w.sum())
            segs[role][kind] = found
    rsum["segments"] = segs
    rsum["video_start"] = {"seconds_on_signals_clock": float(video_start), "how": how}
    return aligned, rsum, notes


# ----------------------------------------------------------------------------------- writing
def output_paths(out_dir, session_id: str) -> dict[str, Path]:
    """The files ``synchrony run`` writes for a session (the summary JSON is written last)."""
    out = Path(out_dir)
    return {
        "netcdf": out / f"{session_id}.nc",
        "aligned_csv": out / f"{session_id}_aligned.csv",
        "html": out / f"{session_id}.html",
        "summary_json": out / f"{session_id}_summary.json",
    }


def work_folder(out: Path, kind: str = "tmp") -> Path:
    """A new hidden work folder in ``out``, named for this host and process so that a later run
    can tell a leftover of a killed run (see :func:`sweep_stale`) from a folder in use."""
    return Path(tempfile.mkdtemp(prefix=f".synchrony-{kind}-{os.getpid()}@{socket.gethostname()}.", dir=out))


def sweep_stale(out) -> list[Path]:
    """Remove work folders in ``out`` that a killed run of this host left behind.

    A folder is removed only when it was made on this host by a process that no longer runs;
    folders of live processes and of other hosts (a shared disk) are left alone.
    """
    removed = []
    host = socket.gethostname()
    for p in Path(out).glob(".synchrony-*-*@*"):
        kind_pid, _, rest = p.name.partition("@")
        pid = kind_pid.rsplit("-", 1)[-1]
        if not (p.is_dir() and pid.isdigit() and rest.rsplit(".", 1)[0] == host):
            continue
        try:
            os.kill(int(pid), 0)
            continue  # still running (or reused by a live process): leave it
        except ProcessLookupError:
            pass
        except (PermissionError, OSError):
            continue
        shutil.rmtree(p, ignore_errors=True)
        if not p.exists():
            removed.append(p)
            log.info("removed %s, left by a run that was killed", p)
    return removed


def write_outputs(tree: xr.DataTree, out_dir) -> dict[str, Path]:
    """Write a session's files atomically: everything goes to a temporary folder inside
    ``out_dir`` and is renamed into place only when complete, the summary JSON last, so a
    crash never leaves a result that looks whole."""
    from .report import write_report

    out = Path(out_dir)
    try:
        out.mkdir(parents=True, exist_ok=True)
        sweep_stale(out)
        tmp = work_folder(out)
    except OSError as exc:
        raise InputError(f"{out}: cannot write the output folder ({exc.strerror or exc})") from None
    sid = tree.attrs["session_id"]
    final = output_paths(out, sid)
    moved: list[Path] = []
    try:
        staged = {k: tmp / p.name for k, p in final.items()}
        _to_netcdf(tree, staged["netcdf"])
        if "aligned" in tree.children:
            tree["aligned"].to_dataset().to_dataframe().to_csv(staged["aligned_csv"], float_format="%.6g")
        else:
            staged.pop("aligned_csv")
        # one drawing of the figures serves both the report and the PNG files
        write_report(tree, staged["html"], png_dir=tmp)
        figs = sorted(tmp.glob("*.png"))
        staged["summary_json"].write_text(tree["summary"].attrs["json"] + "\n", encoding="utf-8")
        written = {}
        # the summary JSON marks a finished run: drop an older one before any file is replaced
        final["summary_json"].unlink(missing_ok=True)
        for f in figs:
            os.replace(f, out / f.name)
            moved.append(out / f.name)
            written[f.stem] = out / f.name
        for key in ("netcdf", "aligned_csv", "html", "summary_json"):
            if key in staged:
                os.replace(staged[key], final[key])
                moved.append(final[key])
                written[key] = final[key]
        return written
    except BaseException as exc:
        for p in moved:  # a half-renamed set must not look like a result
            p.unlink(missing_ok=True)
        if isinstance(exc, OSError):
            raise InputError(f"{out}: writing the outputs failed ({exc.strerror or exc}); nothing was left "
                             "behind") from None
        raise
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def _to_netcdf(tree: xr.DataTree, path: Path) -> None:
    clean = tree.copy()
    for node in clean.subtree:
        node.attrs = {k: _attr(v) for k, v in node.attrs.items()}
        for var in node.variables.values():
            var.attrs = {k: _attr(v) for k, v in var.attrs.items()}
    clean.to_netcdf(path, engine="h5netcdf", invalid_netcdf=False)


def _attr(v):
    if isinstance(v, bool) or isinstance(v, np.bool_):
        return int(v)
    if v is None:
        return "none"
    if isinstance(v, (dict, list, tuple)):
        if isinstance(v, (list, tuple)) and v and all(isinstance(i, (int, float)) and not isinstance(i, bool) for i in v):
            return np.asarray(v, dtype=float)
        return json.dumps(_jsonable(v))
    return v


# ----------------------------------------------------------------------------------- helpers
def _seed(rs, i):
    if rs is None:
        return None
    return np.random.default_rng([int(rs), i])


def _num(v):
    v = float(v)
    return v if math.isfinite(v) else None


def _jsonable(obj):
    if isinstance(obj, dict):
        return {str(k): _jsonable(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [_jsonable(v) for v in obj]
    if isinstance(obj, (np.floating, float)):
        f = float(obj)
        return f if math.isfinite(f) else None
    if isinstance(obj, (np.integer,)):
        return int(obj)
    if isinstance(obj, np.bool_):
        return bool(obj)
    if isinstance(obj, Path):
        return str(obj)
    return obj


def _flat(summary: dict) -> dict:
    out = {"session_id": summary["session_id"]}
    for mod, idx in summary.get("modalities", {}).items():
        for k in ("mean_sync", "p_value", "effect_size", "n_windows"):
            v = idx.get(k)
            out[f"{mod}_{k}"] = "none" if v is None else v
    cong = summary.get("congruence")
    if cong:
        for k in ("r", "p_naive", "p_adjusted", "t", "df"):
            v = _jsonable(cong.get(k))
            out[f"congruence_{k}"] = "none" if v is None else v
    return out


def _version():
    from . import __version__

    return __version__


def _versions() -> dict:
    import importlib.metadata as md

    out = {}
    for p in ("synchrony", "numpy", "scipy", "numba", "xarray", "pandas", "neurokit2", "h5netcdf"):
        try:
            out[p] = md.version(p)
        except md.PackageNotFoundError:
            out[p] = "not installed"
    return out
