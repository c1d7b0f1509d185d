"""Many sessions: a manifest, local processes or a Dask cluster, resumable, failure-isolated.

This module holds no science of its own: it drives :func:`synchrony.pipeline.run_session`
once per session and gathers what each one wrote into a study table.

Manifest (TOML; relative paths are relative to the manifest)::

    [[session]]
    config = "dyad01_s05/session.toml"
    dyad = "dyad01"
    session_number = 5
    wai = 47

or CSV with a ``config`` column and any other columns. Every key besides ``config`` is a
study-level measure carried into ``study.csv``.

Outputs in ``DIR``: each session's files (as ``synchrony run`` writes them), ``study.csv``
(one row per session and modality), ``study_aligned.csv`` (one row per session and rating
bin, long format for mixed models), ``failures.csv`` (``session_id, config, error``; header
only when none failed) and, when pseudo-dyads were computed, their figures in ``study.csv``.

A session is skipped when its summary JSON exists, every output file is present and the
recorded ``input_checksum`` (config text + every input file's bytes) matches the current one.
"""
from __future__ import annotations

import csv
import json
import logging
import math
import os
import tempfile
import time
import tomllib
from pathlib import Path

import numpy as np

from .config import load_config
from .errors import ConfigError, SynchronyError

log = logging.getLogger("synchrony")

__all__ = ["read_manifest", "run_batch"]

FAILURE_FIELDS = ["session_id", "config", "error"]


def read_manifest(path) -> list[dict]:
    """Entries of a manifest: dicts with ``config`` (absolute Path) and the study-level keys."""
    path = Path(path)
    if not path.is_file():
        raise ConfigError(f"{path}: manifest not found")
    base = path.parent
    if path.suffix.lower() == ".csv":
        with open(path, newline="", encoding="utf-8") as fh:
            rows = list(csv.DictReader(fh))
        if not rows or "config" not in rows[0]:
            raise ConfigError(f"{path}: a CSV manifest needs a header row with a 'config' column")
        entries = [{k: _maybe_number(v) for k, v in row.items()} for row in rows]
        lines = list(range(2, len(rows) + 2))
    else:
        try:
            raw = tomllib.loads(path.read_text(encoding="utf-8"))
        except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
            raise ConfigError(f"{path}: not a valid TOML manifest ({exc})") from None
        unknown = [k for k in raw if k != "session"]
        if unknown:
            raise ConfigError(f"{path}: unknown top-level key(s) {', '.join(unknown)}; a manifest lists [[session]] tables")
        entries = raw.get("session", [])
        if not isinstance(entries, list) or not entries:
            raise ConfigError(f"{path}: no [[session]] entries found")
        lines = [None] * len(entries)
    out = []
    for i, (e, line) in enumerate(zip(entries, lines), start=1):
        where = f"{path} " + (f"line {line}" if line else f"session {i}")
        if not isinstance(e, dict) or not e.get("config"):
            raise ConfigError(f"{where}: every session needs a 'config' (path to its session.toml)")
        e = dict(e)
        e["config"] = (base / str(e["config"])).resolve()
        for k, v in e.items():
            if k != "config" and isinstance(v, (dict, list)):
                raise ConfigError(f"{where}: study-level key {k!r} must be a single value, found {type(v).__name__}")
        out.append(e)
    configs = [str(e["config"]) for e in out]
    dup = {c for c in configs if configs.count(c) > 1}
    if dup:
        raise ConfigError(f"{path}: the same config is listed twice: {', '.join(sorted(dup))}")
    return out


def _maybe_number(v):
    if v is None:
        return v
    try:
        f = float(v)
    except ValueError:
        return v
    return int(f) if f.is_integer() and "." not in v else f


def _is_current(out: Path, session_id: str, checksum: str) -> bool:
    from .pipeline import output_paths

    paths = output_paths(out, session_id)
    js = paths["summary_json"]
    if not js.is_file() or not paths["netcdf"].is_file() or not paths["html"].is_file():
        return False
    try:
        return json.loads(js.read_text()).get("input_checksum") == checksum
    except (OSError, ValueError):
        return False


def _run_one(config_path: str, out: str, force: bool) -> dict:
    """Run one session in a worker; never raises for a broken session (the error is returned)."""
    from .pipeline import run_session

    sid = Path(config_path).parent.name or Path(config_path).stem
    t0 = time.perf_counter()
    try:
        cfg = load_config(config_path)
        sid = cfg.session_id
        checksum = cfg.checksum()
        if not force and _is_current(Path(out), sid, checksum):
            return {"session_id": sid, "config": config_path, "status": "skipped", "error": "", "seconds": 0.0}
        import warnings

        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # recorded in the session's own outputs
            run_session(cfg, out=out)
        status, error = "done", ""
    except SynchronyError as exc:
        status, error = "failed", str(exc)
    except Exception as exc:  # a bug or an unforeseen input: isolate it, name it
        status, error = "failed", f"internal error ({type(exc).__name__}): {exc}"
    return {"session_id": sid, "config": config_path, "status": status, "error": error,
            "seconds": time.perf_counter() - t0}


def run_batch(manifest, *, out, workers: int | None = None, scheduler: str | None = None, force: bool = False,
              progress: bool = False, pseudo_dyads: int = 0, random_state=None) -> dict:
    """Run every session of a manifest and write the study table.

    Parameters
    ----------
    manifest : str or Path
        TOML or CSV manifest (see the module docstring).
    out : str or Path
        Output folder.
    workers : int, optional
        Run sessions in this many local processes (a Dask ``LocalCluster`` when dask.distributed
        is installed, else a process pool). ``None`` or 1 runs them here, one after another.
    scheduler : str, optional
        Address of a running dask.distributed scheduler (``tcp://host:port``) or a
        ``distributed.Client`` / ``LocalCluster`` object.
    force : bool
        Redo sessions whose outputs are current.
    pseudo_dyads : int
        When > 0, for each session the real pair's synchrony is compared with up to this many
        pseudo-dyads (the session's client with therapists from other sessions, roles kept).

    Returns
    -------
    dict
        ``n_done``, ``n_skipped``, ``n_failed`` and ``results`` (one dict per session).
    """
    entries = read_manifest(manifest)
    out = Path(out)
    try:
        out.mkdir(parents=True, exist_ok=True)
        probe = out / f".write-test-{os.getpid()}"
        probe.write_text("")
        probe.unlink()
    except OSError as exc:
        raise ConfigError(f"{out}: the output folder is not writable ({exc.strerror or exc})") from None
    jobs = [str(e["config"]) for e in entries]
    bar = None
    if progress:
        from tqdm.auto import tqdm

        bar = tqdm(total=len(jobs), desc="sessions", unit="session", dynamic_ncols=True)
    results: dict[str, dict] = {}

    def done(res):
        results[res["config"]] = res
        if bar is not None:
            bar.set_postfix_str(f"{res['session_id']}: {res['status']}")
            bar.update(1)

    try:
        if scheduler is not None:
            _run_dask(jobs, out, force, done, address=scheduler)
        elif workers and workers > 1:
            try:
                import distributed  # noqa: F401
            except ImportError:
                _run_pool(jobs, out, force, done, workers)
            else:
                _run_dask(jobs, out, force, done, n_workers=workers)
        else:
            for j in jobs:
                done(_run_one(j, str(out), force))
    finally:
        if bar is not None:
            bar.close()
    ordered = [results[j] for j in jobs]
    pseudo = _pseudo_dyads(entries, ordered, out, pseudo_dyads, random_state) if pseudo_dyads else {}
    _write_tables(entries, ordered, out, pseudo)
    counts = {s: sum(r["status"] == s for r in ordered) for s in ("done", "skipped", "failed")}
    return {"n_done": counts["done"], "n_skipped": counts["skipped"], "n_failed": counts["failed"], "results": ordered}


def _run_pool(jobs, out, force, done, workers):
    from concurrent.futures import ProcessPoolExecutor, as_completed

    with ProcessPoolExecutor(max_workers=workers) as ex:
        futs = [ex.submit(_run_one, j, str(out), force) for j in jobs]
        for f in as_completed(futs):
            done(f.result())


def _run_dask(jobs, out, force, done, *, address=None, n_workers=None):
    from distributed import Client, LocalCluster, as_completed

    cluster = None
    if address is None:
        cluster = LocalCluster(n_workers=n_workers, threads_per_worker=1, processes=True, host="127.0.0.1",
                               dashboard_address=None)
        client = Client(cluster)
    elif isinstance(address, str):
        client = Client(address)
    else:
        client = address if hasattr(address, "submit") else Client(address)
    try:
        futs = client.map(_run_one, jobs, out=str(out), force=force, pure=False)
        for f in as_completed(futs):
            done(f.result())
    finally:
        if address is None or isinstance(address, str):
            client.close()
        if cluster is not None:
            cluster.close()


# --------------------------------------------------------------------------------- study tables
def _summary(out: Path, sid: str) -> dict | None:
    from .pipeline import output_paths

    p = output_paths(out, sid)["summary_json"]
    try:
        return json.loads(p.read_text())
    except (OSError, ValueError):
        return None


def _write_tables(entries, results, out: Path, pseudo: dict) -> None:
    measures = [k for e in entries for k in e if k != "config"]
    measures = list(dict.fromkeys(measures))
    rows, aligned_rows, failures = [], [], []
    for e, res in zip(entries, results):
        extra = {k: e.get(k, "") for k in measures}
        if res["status"] == "failed":
            failures.append({"session_id": res["session_id"], "config": res["config"], "error": res["error"]})
            continue
        s = _summary(out, res["session_id"])
        if s is None:
            failures.append({"session_id": res["session_id"], "config": res["config"],
                             "error": "its summary JSON is missing or unreadable"})
            continue
        cong = s.get("congruence") or {}
        for mod, idx in s.get("modalities", {}).items():
            row = {"session_id": res["session_id"], "modality": mod}
            for k in ("mean_sync", "p_value", "effect_size", "statistic", "statistic_value", "surrogate_method",
                      "n_surrogates", "n_windows", "median_peak_lag_s", "fraction_above_band"):
                row[k] = idx.get(k)
            for k in ("r", "p_naive", "p_adjusted", "t", "df"):
                row[f"congruence_{k}"] = cong.get(k)
            for role, per in (s.get("association") or {}).items():
                a = per.get(mod, {})
                for k in ("r", "lag_s", "p_adjusted"):
                    row[f"association_{role}_{k}"] = a.get(k)
            for k, v in pseudo.get((res["session_id"], mod), {}).items():
                row[f"pseudo_{k}"] = v
            row.update(extra)
            rows.append(row)
        aligned = out / f"{res['session_id']}_aligned.csv"
        if aligned.is_file():
            with open(aligned, newline="") as fh:
                for r in csv.DictReader(fh):
                    aligned_rows.append({"session_id": res["session_id"], **r, **extra})
    _write_csv(out / "study.csv", rows)
    _write_csv(out / "study_aligned.csv", aligned_rows)
    _write_csv(out / "failures.csv", failures, fields=FAILURE_FIELDS)


def _write_csv(path: Path, rows: list[dict], fields: list[str] | None = None) -> None:
    if fields is None:
        fields = list(dict.fromkeys(k for r in rows for k in r)) or ["session_id"]
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    try:
        with os.fdopen(fd, "w", newline="", encoding="utf-8") as fh:
            w = csv.DictWriter(fh, fieldnames=fields, extrasaction="ignore")
            w.writeheader()
            for r in rows:
                w.writerow({k: ("" if v is None or (isinstance(v, float) and math.isnan(v)) else v) for k, v in r.items()})
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


# --------------------------------------------------------------------------------- pseudo-dyads
def _pseudo_dyads(entries, results, out: Path, n_max: int, random_state) -> dict:
    """Between-dyad null: each session's client paired with therapists of other sessions."""
    import xarray as xr

    from .pipeline import output_paths
    from .stats.inference import surrogate_test

    signals, params = {}, {}
    for res in results:
        if res["status"] == "failed":
            continue
        nc = output_paths(out, res["session_id"])["netcdf"]
        try:
            tree = xr.open_datatree(nc, engine="h5netcdf")
            signals[res["session_id"]] = tree["signals"].to_dataset().load()
            params[res["session_id"]] = json.loads(tree.attrs["analysis"])
            tree.close()
        except (OSError, KeyError, ValueError) as exc:
            log.warning("pseudo-dyads: cannot read %s (%s)", nc, exc)
    ids = list(signals)
    rng = np.random.default_rng(random_state)
    out_rows = {}
    for sid in ids:
        a = params[sid]
        others = [o for o in ids if o != sid]
        if not others:
            continue
        pick = rng.permutation(others)[:n_max]
        for mod in a["modalities"]:
            if mod not in signals[sid]:
                continue
            x = signals[sid][mod].sel(role="client").values
            y = signals[sid][mod].sel(role="therapist").values
            partners = [signals[o][mod].sel(role="therapist").values for o in pick if mod in signals[o]]
            if not partners:
                continue
            res = surrogate_test(x, y, fs=float(signals[sid].attrs["fs"]), window=a["window"], step=a["step"],
                                 max_lag=a["max_lag"], statistic=a["statistic"], method="pseudo_dyad",
                                 partners=partners, n_surrogates=len(partners))
            out_rows[(sid, mod)] = {"p_value": float(res["p_value"]), "effect_size": float(res["effect_size"]),
                                    "n": int(res.sizes.get("surrogate", len(partners)))}
    return out_rows
