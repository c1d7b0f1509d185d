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
only when none failed), ``batch_log.csv`` (this run: each session's status, seconds, worker and
the worker's peak memory) and, when pseudo-dyads were computed, their figures in ``study.csv``
(``pseudo_p_value``, ``pseudo_effect_size``, ``pseudo_null_mean``, ``pseudo_n``, ``pseudo_note``).

A session is skipped when its summary JSON exists, every output file is present and the
recorded ``input_checksum`` (config text + every input file's bytes) matches the current one.
"""
from __future__ import annotations

import csv
import json
import logging
import math
import os
import shutil
import socket
import sys
import tempfile
import time
import tomllib
from contextlib import contextmanager
from pathlib import Path

import numpy as np

from .config import load_config
from .pipeline import output_paths, run_session, sweep_stale, work_folder
from .errors import ConfigError, SynchronyError

log = logging.getLogger("synchrony")

__all__ = ["read_manifest", "run_batch"]

FAILURE_FIELDS = ["session_id", "config", "error"]
BACKENDS = ("auto", "dask", "processes")
LOG_FIELDS = ["session_id", "status", "seconds", "worker", "peak_rss_mb", "config", "error"]


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
    paths = output_paths(out, session_id)
    js = paths["summary_json"]
    if not js.is_file() or not paths["netcdf"].is_file() or not paths["html"].is_file():
        return False
    try:
        return json.loads(js.read_text()).get("input_checksum") == checksum
    except (OSError, ValueError):
        return False


def _peak_rss_mb() -> float:
    """Peak resident memory of this process so far, MiB (NaN where the OS does not say).

    Linux: ``VmHWM`` of ``/proc/self/status``, this process's own high-water mark.
    (``getrusage``'s ``ru_maxrss`` is not: it carries the parent's peak over fork and exec,
    so every spawned worker would start at its launcher's peak.)
    """
    try:
        with open("/proc/self/status", encoding="ascii") as fh:
            for line in fh:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) / 1024
    except (OSError, ValueError, IndexError):
        pass
    try:
        import resource
    except ImportError:  # pragma: no cover - Windows
        return float("nan")
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return rss / 2**20 if sys.platform == "darwin" else rss / 1024  # bytes on macOS, KiB on Linux


def _one_thread() -> None:
    """In a worker process: numba kernels use one thread, so N workers use N cores, not N²."""
    try:
        import numba

        numba.set_num_threads(1)
    except (ImportError, ValueError):  # pragma: no cover
        pass


def _run_one(config_path: str, out: str, force: bool, one_thread: bool = False) -> dict:
    """Run one session in a worker; never raises for a broken session (the error is returned)."""
    if one_thread:
        _one_thread()
    sid = Path(config_path).parent.name or Path(config_path).stem
    t0 = time.perf_counter()
    try:
        cfg = load_config(config_path)
        sid = cfg.session_id
        checksum = cfg.checksum()
        if not force and _is_current(Path(out), sid, checksum):
            status, error = "skipped", ""
        else:
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
            "seconds": time.perf_counter() - t0, "worker": f"{socket.gethostname()}:{os.getpid()}",
            "peak_rss_mb": _peak_rss_mb()}


def run_batch(manifest, *, out, workers: int | None = None, scheduler=None, force: bool = False,
              progress: bool = False, pseudo_dyads: int = 0, random_state=None, backend: str = "auto") -> dict:
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
    scheduler : str or distributed.Client, optional
        Address of a running dask.distributed scheduler (``tcp://host:port``) or a
        ``distributed.Client`` / ``LocalCluster`` object.
    force : bool
        Redo sessions whose outputs are current.
    progress : bool
        Show progress bars (sessions, then pseudo-dyads) with an ETA.
    pseudo_dyads : int
        When > 0, for each session the real pair's synchrony is compared with up to this many
        pseudo-dyads: the session's client with therapists of other sessions (roles kept), on
        the same clock from the start of each session. Sessions with the same ``dyad`` value in
        the manifest are never partners. Runs on the same workers as the sessions.
    random_state : int, optional
        Seed of the pseudo-dyad draws (each session gets its own stream, so the result does not
        depend on the number of workers or the order of completion).
    backend : {"auto", "dask", "processes"}
        What ``workers > 1`` starts: ``"auto"`` a Dask ``LocalCluster`` when dask.distributed
        is installed, else a process pool; ``"dask"`` requires the former, ``"processes"``
        always uses :class:`concurrent.futures.ProcessPoolExecutor`.

    Returns
    -------
    dict
        ``n_done``, ``n_skipped``, ``n_failed``, ``seconds`` (wall time) and ``results`` (one
        dict per session: ``session_id``, ``config``, ``status``, ``error``, ``seconds``,
        ``worker`` and its ``peak_rss_mb`` so far).
    """
    if backend not in BACKENDS:
        raise ConfigError(f"backend: expected one of {', '.join(BACKENDS)}, found {backend!r}")
    entries = read_manifest(manifest)
    out = Path(out)
    if pseudo_dyads and (not isinstance(pseudo_dyads, (int, np.integer)) or pseudo_dyads < 0):
        raise ConfigError(f"pseudo_dyads: expected a whole number >= 0, found {pseudo_dyads!r}")
    try:
        out.mkdir(parents=True, exist_ok=True)
        probe = out / f".write-test-{os.getpid()}"
        probe.write_text("")
        probe.unlink()
        sweep_stale(out)
    except OSError as exc:
        raise ConfigError(f"{out}: the output folder is not writable ({exc.strerror or exc})") from None
    t0 = time.perf_counter()
    jobs = [str(e["config"]) for e in entries]
    results: dict[str, dict] = {}
    with _Executor(workers, scheduler, backend) as ex:
        with _bar(progress, len(jobs), "sessions") as bar:
            for job, res in ex.imap(_run_one, jobs, out=str(out), force=force, one_thread=ex.kind != "serial"):
                if isinstance(res, BaseException):
                    res = {"session_id": Path(job).parent.name, "config": job, "status": "failed",
                           "error": f"the worker running it died ({type(res).__name__}: {res})",
                           "seconds": float("nan"), "worker": "", "peak_rss_mb": float("nan")}
                results[job] = res
                if bar is not None:
                    bar.set_postfix_str(f"{res['session_id']}: {res['status']}")
                    bar.update(1)
        ordered = [results[j] for j in jobs]
        pseudo = _pseudo_dyads(entries, ordered, out, pseudo_dyads, random_state, ex, progress) if pseudo_dyads else {}
    _write_tables(entries, ordered, out, pseudo)
    counts = {s: sum(r["status"] == s for r in ordered) for s in ("done", "skipped", "failed")}
    return {"n_done": counts["done"], "n_skipped": counts["skipped"], "n_failed": counts["failed"],
            "seconds": time.perf_counter() - t0, "executor": ex.kind, "results": ordered}


@contextmanager
def _bar(show: bool, total: int, desc: str):
    if not show or not total:
        yield None
        return
    from tqdm.auto import tqdm

    bar = tqdm(total=total, desc=desc, unit="session", dynamic_ncols=True,
               bar_format="{l_bar}{bar}| {n_fmt}/{total_fmt} [{elapsed}<{remaining} left, {rate_fmt}]{postfix}")
    try:
        yield bar
    finally:
        bar.close()


class _Executor:
    """Where the work runs: here, a local process pool, or a dask.distributed cluster.

    ``imap(fn, items, **kw)`` yields ``fn(item, **kw)`` as each finishes. One executor serves
    both the sessions and the pseudo-dyads, so a cluster is started once.
    """

    def __init__(self, workers, scheduler, backend="auto"):
        self.workers, self.scheduler, self.backend = workers, scheduler, backend
        self.kind, self._pool, self._client, self._cluster, self._own_client = "serial", None, None, None, False

    def __enter__(self):
        if self.scheduler is not None:
            from distributed import Client

            if isinstance(self.scheduler, str):
                try:
                    self._client = Client(self.scheduler, timeout="30s")
                except OSError as exc:
                    raise ConfigError(f"--scheduler {self.scheduler}: cannot reach the dask scheduler ({exc})") from None
                self._own_client = True
            elif hasattr(self.scheduler, "submit"):
                self._client = self.scheduler
            else:
                self._client, self._own_client = Client(self.scheduler), True
            self.kind = "dask"
        elif self.workers and self.workers > 1:
            try:
                if self.backend == "processes":
                    raise ImportError
                from distributed import Client, LocalCluster
            except ImportError:
                if self.backend == "dask":
                    raise ConfigError("backend 'dask' needs dask.distributed: pip install 'synchrony[parallel]'") from None
                from concurrent.futures import ProcessPoolExecutor

                import multiprocessing

                # spawn, not fork: a fork of a process whose numba thread pool is running can die
                self._pool = ProcessPoolExecutor(max_workers=self.workers, mp_context=multiprocessing.get_context("spawn"))
                self.kind = "processes"
            else:
                import dask

                # no dashboard, so no use for the workers' statistical profiler (it samples the
                # task thread every 10 ms); glibc's default trimming instead of dask's eager one.
                # Together they cost about 10 % of a session on 2 cores (RESULTS.md, Batch).
                with dask.config.set({"distributed.worker.profile.enabled": False,
                                      "distributed.nanny.pre-spawn-environ.MALLOC_TRIM_THRESHOLD_": None}):
                    self._cluster = LocalCluster(n_workers=self.workers, threads_per_worker=1, processes=True,
                                                 host="127.0.0.1", dashboard_address=None)
                self._client, self._own_client = Client(self._cluster), True
                self.kind = "dask-local"
        return self

    def imap(self, fn, items, **kw):
        """Yield ``(item, fn(item, **kw))`` as each finishes; the result is the exception instead
        when the worker running it died (killed, out of memory), so one loss stops nothing."""
        items = list(items)
        if self._client is not None:
            from distributed import as_completed

            futs = self._client.map(fn, items, pure=False, **kw)
            which = {f.key: it for f, it in zip(futs, items)}
        elif self._pool is not None:
            from concurrent.futures import as_completed

            futs = [self._pool.submit(fn, it, **kw) for it in items]
            which = {f: it for f, it in zip(futs, items)}
        else:
            for it in items:
                yield it, fn(it, **kw)
            return
        for f in as_completed(futs):
            it = which[f.key if self._client is not None else f]
            try:
                yield it, f.result()
            except Exception as exc:  # the worker died; fn itself never raises for bad input
                yield it, exc

    def __exit__(self, *exc):
        if self._pool is not None:
            self._pool.shutdown(cancel_futures=True)
        if self._own_client:
            self._client.close()
        if self._cluster is not None:
            self._cluster.close()
        return False


# --------------------------------------------------------------------------------- study tables
def _summary(out: Path, sid: str) -> dict | None:
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
    _write_csv(out / "batch_log.csv", [{**r, "seconds": round(r["seconds"], 3), "peak_rss_mb": round(r["peak_rss_mb"], 1)}
                                       for r in results], fields=LOG_FIELDS)


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
#
# The parent reads every finished session's analysed signals once and writes them, per
# modality and role, as one NaN-padded (session x sample) .npy matrix in a hidden folder of
# DIR; each worker memory-maps those files (the page cache shares them between workers) and
# tests one session against its drawn partners. Nothing but indices travels to the workers.

def _pseudo_dyads(entries, results, out: Path, n_max: int, random_state, ex: _Executor, progress: bool) -> dict:
    """Between-dyad null: each session's client paired with therapists of other sessions."""
    import xarray as xr

    ids, meta, series = [], [], []
    for e, res in zip(entries, results):
        if res["status"] == "failed":
            continue
        nc = output_paths(out, res["session_id"])["netcdf"]
        try:
            with xr.open_datatree(nc, engine="h5netcdf") as tree:
                sig = tree["signals"].to_dataset().load()
                a = json.loads(tree.attrs["analysis"])
        except (OSError, KeyError, ValueError) as exc:
            log.warning("pseudo-dyads: cannot read %s (%s); session left out", nc, exc)
            continue
        mods = [m for m in a["modalities"] if m in sig]
        ids.append(res["session_id"])
        meta.append({"session_id": res["session_id"], "fs": float(sig.attrs["fs"]), "n": int(sig.sizes["time"]),
                     "dyad": None if e.get("dyad") in (None, "") else str(e["dyad"]), "modalities": mods,
                     "analysis": {k: a[k] for k in ("window", "step", "max_lag", "lag_step", "min_valid", "statistic")}})
        series.append({(m, r): sig[m].sel(role=r).values.astype(float) for m in mods for r in ("client", "therapist")})
    if len(ids) < 2:
        log.warning("pseudo-dyads need at least two finished sessions; %d found", len(ids))
        return {}
    pack = work_folder(out, "pseudo")
    try:
        n_max_len = max(m["n"] for m in meta)
        for mod in sorted({m for x in meta for m in x["modalities"]}):
            for role in ("client", "therapist"):
                mat = np.full((len(ids), n_max_len), np.nan)
                for i, ser in enumerate(series):
                    if (mod, role) in ser:
                        mat[i, : meta[i]["n"]] = ser[(mod, role)]
                np.save(pack / f"{mod}_{role}.npy", mat)
        (pack / "meta.json").write_text(json.dumps(meta))
        del series
        seeds = [int(s.generate_state(1)[0]) for s in np.random.SeedSequence(random_state).spawn(len(ids))]
        rows = {}
        with _bar(progress, len(ids), "pseudo-dyads") as bar:
            for (i, _), res in ex.imap(_pseudo_one, list(zip(range(len(ids)), seeds)), pack=str(pack),
                                       n_max=int(n_max), one_thread=ex.kind != "serial"):
                if isinstance(res, BaseException):
                    res = {"session_id": ids[i], "rows": {m: {"n": 0, "note": f"the worker died ({res})"}
                                                          for m in meta[i]["modalities"]}}
                for mod, row in res["rows"].items():
                    rows[(res["session_id"], mod)] = row
                if bar is not None:
                    bar.update(1)
        return rows
    finally:
        shutil.rmtree(pack, ignore_errors=True)


_PACK: dict = {}


def _load_pack(pack: str):
    if pack not in _PACK:
        _PACK.clear()
        meta = json.loads((Path(pack) / "meta.json").read_text())
        arrays = {f.stem: np.load(f, mmap_mode="r") for f in Path(pack).glob("*.npy")}
        _PACK[pack] = (meta, arrays)
    return _PACK[pack]


def _pseudo_one(task, *, pack: str, n_max: int, one_thread: bool = False) -> dict:
    """Test session ``i`` of the pack against up to ``n_max`` partners (runs in a worker)."""
    from .stats.inference import surrogate_test

    if one_thread:
        _one_thread()
    i, seed = task
    meta, arrays = _load_pack(pack)
    me = meta[i]
    eligible = [j for j, o in enumerate(meta)
                if j != i and o["fs"] == me["fs"] and (me["dyad"] is None or o["dyad"] != me["dyad"])]
    pick = np.random.default_rng(seed).permutation(eligible)[:n_max]
    a, n = me["analysis"], me["n"]
    rows = {}
    for mod in me["modalities"]:
        partners = [np.asarray(arrays[f"{mod}_therapist"][j, : meta[j]["n"]]) for j in pick
                    if mod in meta[j]["modalities"]]
        if not partners:
            rows[mod] = {"n": 0, "note": "no eligible partner session"}
            continue
        try:
            res = surrogate_test(np.asarray(arrays[f"{mod}_client"][i, :n]), np.asarray(arrays[f"{mod}_therapist"][i, :n]),
                                 fs=me["fs"], window=a["window"], step=a["step"], max_lag=a["max_lag"],
                                 lag_step=a["lag_step"], min_valid=a["min_valid"], statistic=a["statistic"],
                                 method="pseudo_dyad", partners=partners, n_surrogates=len(partners))
        except SynchronyError as exc:
            rows[mod] = {"n": 0, "note": str(exc)}
            continue
        except Exception as exc:  # isolate it, as for sessions: the study table is still written
            rows[mod] = {"n": 0, "note": f"internal error ({type(exc).__name__}): {exc}"}
            continue
        null = res["null"].values
        rows[mod] = {"p_value": float(res["p_value"]), "effect_size": float(res["effect_size"]),
                     "null_mean": float(np.nanmean(null)) if np.isfinite(null).any() else float("nan"),
                     "n": int(np.isfinite(null).sum()), "note": ""}
    return {"session_id": me["session_id"], "rows": rows}
