"""Batch scale benchmark (the batch issue): many simulated sessions end to end.

Run from the repository root::

    .venv/bin/python benchmarks/bench_batch.py                       # 200 x 50-min sessions, ~30 min
    .venv/bin/python benchmarks/bench_batch.py --quick               # 12 x 5-min sessions, ~2 min
    .venv/bin/python benchmarks/bench_batch.py --write benchmarks/RESULTS.md

What it does, in order (every figure is wall-clock time on this machine):

1. Simulates N *uncoupled* sessions (``synchrony.simulate``, coupling 0, seeds 1..N, each
   session its own dyad) of M minutes and a TOML manifest. Not part of any figure.
2. Runs one session here first, so the numba cache is warm (the compile is reported apart).
3. Serial reference: the first few sessions with ``workers=1`` and one numba thread, as in a
   worker (seconds per session on one core).
4. ``run_batch(workers=W, backend="processes")``: every session in a process pool; then the same
   manifest again with ``pseudo_dyads=K``: all sessions are current (the resume check), so
   that call's time is the resume check plus the pseudo-dyad stage plus the study tables.
5. The same two calls with ``backend="dask"``: a ``LocalCluster`` (W workers, one thread
   each, loopback) started inside each call, its start-up included.

Peak memory per worker is the largest ``peak_rss_mb`` (the process's peak resident set,
``getrusage``) that ``batch_log.csv`` records for that worker. Because the sessions are
uncoupled, the study table doubles as a check of calibration on the whole pipeline: the
share of sessions with p <= 0.05 for the session's own surrogate test (circular shift) and
for the pseudo-dyad test.
"""
from __future__ import annotations

import argparse
import csv
import os
import platform
import shutil
import sys
import tempfile
import time
import warnings
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from synchrony.batch import run_batch  # noqa: E402
from synchrony.bench import _write_section  # noqa: E402
from synchrony.simulate import simulate_session  # noqa: E402


def _simulate_one(args):
    folder, seed, minutes, n_sur = args
    simulate_session(folder, seed=seed, duration_s=60.0 * minutes, coupling=0.0)
    cfg = Path(folder) / "session.toml"
    text = cfg.read_text().replace('id = "demo_dyad01"', f'id = "{Path(folder).name}"')
    cfg.write_text(text.replace("surrogates = 200", f"surrogates = {n_sur}"))
    return folder


def make_study(root: Path, n: int, minutes: float, workers: int, n_sur: int) -> Path:
    jobs = [(str(root / f"s{i:04d}"), 1 + i, minutes, n_sur) for i in range(n)]
    with ProcessPoolExecutor(max_workers=workers) as ex:
        list(ex.map(_simulate_one, jobs))
    lines = [f'[[session]]\nconfig = "s{i:04d}/session.toml"\ndyad = "d{i:04d}"\nsession_number = 1\n'
             for i in range(n)]
    (root / "manifest.toml").write_text("\n".join(lines))
    return root / "manifest.toml"


def _rows(path: Path) -> list[dict]:
    with open(path, newline="") as fh:
        return list(csv.DictReader(fh))


def _per_worker_peak(results: list[dict]) -> dict[str, float]:
    peak: dict[str, float] = {}
    for r in results:
        if r["status"] == "done":
            peak[r["worker"]] = max(peak.get(r["worker"], 0.0), float(r["peak_rss_mb"]))
    return peak


def _rate(rows, key, mod):
    from scipy.stats import kstest

    p = np.array([float(r[key]) for r in rows if r["modality"] == mod and r.get(key) not in (None, "")])
    half = 1.96 * np.sqrt(0.05 * 0.95 / max(p.size, 1))
    return (f"{100 * np.mean(p <= 0.05):.1f} % (n = {p.size}; ±{100 * half:.1f} at 5 %; "
            f"KS test of uniform p: {kstest(p, 'uniform').pvalue:.2f})")


def _dir_mb(path: Path) -> float:
    return sum(f.stat().st_size for f in path.iterdir() if f.is_file()) / 2**20


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--sessions", type=int, default=200)
    ap.add_argument("--minutes", type=float, default=50.0, help="session length (default 50)")
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--pseudo-dyads", type=int, default=None, help="partners per session (default: all others)")
    ap.add_argument("--surrogates", type=int, default=200, help="per-session surrogates (default 200)")
    ap.add_argument("--serial", type=int, default=6, help="sessions in the serial reference")
    ap.add_argument("--quick", action="store_true", help="12 sessions of 5 minutes (smoke run)")
    ap.add_argument("--keep", metavar="DIR", help="work in DIR and keep it (default: a temporary folder)")
    ap.add_argument("--write", metavar="PATH", help="write the '## Batch' section into PATH")
    a = ap.parse_args(argv)
    if a.quick:
        a.sessions, a.minutes, a.serial = 12, 5.0, 2
    k = a.sessions - 1 if a.pseudo_dyads is None else a.pseudo_dyads
    work = Path(a.keep) if a.keep else Path(tempfile.mkdtemp(prefix="synchrony-bench-batch-"))
    work.mkdir(parents=True, exist_ok=True)
    warnings.simplefilter("ignore")
    try:
        t = time.perf_counter()
        manifest = make_study(work / "study", a.sessions, a.minutes, a.workers, a.surrogates)
        t_sim = time.perf_counter() - t
        print(f"simulated {a.sessions} sessions of {a.minutes:g} min in {t_sim:.0f} s", flush=True)

        # warm the numba cache in this process (and report what the first call cost)
        one = work / "one.toml"
        one.write_text(manifest.read_text().split("\n\n")[0].replace('config = "', 'config = "study/'))
        t = time.perf_counter()
        run_batch(one, out=work / "warm")
        t_first = time.perf_counter() - t
        t = time.perf_counter()
        run_batch(one, out=work / "warm", force=True)
        t_warm = time.perf_counter() - t
        print(f"first session here {t_first:.1f} s, again {t_warm:.1f} s", flush=True)

        serial = work / "serial.toml"
        serial.write_text("\n\n".join(manifest.read_text().split("\n\n")[: a.serial]).replace(
            'config = "', 'config = "study/'))
        import numba

        numba.set_num_threads(1)  # as in a worker: one core per session
        r = run_batch(serial, out=work / "out_serial")
        per_session_serial = r["seconds"] / a.serial
        print(f"serial: {per_session_serial:.2f} s per session", flush=True)

        runs = {}
        for backend in ("processes", "dask"):
            out = work / f"out_{backend}"
            r1 = run_batch(manifest, out=out, workers=a.workers, backend=backend, progress=True)
            assert r1["n_failed"] == 0, [x for x in r1["results"] if x["status"] == "failed"][:3]
            r2 = run_batch(manifest, out=out, workers=a.workers, backend=backend, progress=True,
                           pseudo_dyads=k, random_state=1)
            assert r2["n_skipped"] == a.sessions
            peaks = _per_worker_peak(r1["results"])
            runs[backend] = dict(seconds=r1["seconds"], rate=60 * a.sessions / r1["seconds"], pseudo=r2["seconds"],
                                 peaks=peaks, study=_rows(out / "study.csv"),
                                 busy=sum(x["seconds"] for x in r1["results"]))
            print(f"{backend}: {r1['seconds']:.0f} s ({runs[backend]['rate']:.1f} sessions/min), resume + "
                  f"pseudo-dyads (K = {k}) {r2['seconds']:.0f} s, peak RSS per worker "
                  f"{', '.join(f'{v:.0f}' for v in peaks.values())} MiB", flush=True)
        disk = _dir_mb(work / "out_processes") / a.sessions
    finally:
        if not a.keep:
            shutil.rmtree(work, ignore_errors=True)

    pr, dk = runs["processes"], runs["dask"]
    n1000 = 1000 / pr["rate"]
    pseudo_per_pair = pr["pseudo"] / (a.sessions * k)
    lines = [
        "## Batch",
        "",
        f"`benchmarks/bench_batch.py` ({time.strftime('%Y-%m-%d')}, {os.cpu_count()} CPUs, "
        f"Python {platform.python_version()}, load average before the run "
        f"{os.getloadavg()[0]:.1f}): {a.sessions} simulated, uncoupled sessions of {a.minutes:g} minutes "
        f"(hr + eda from E4 exports, {a.surrogates} circular-shift surrogates per modality, NetCDF + CSV + "
        f"JSON + 6 figures + HTML per session), `--workers {a.workers}`. Simulating them took {t_sim:.0f} s "
        "(not counted).",
        "",
        "| | wall | sessions / min | peak memory per worker | pseudo-dyads (resume check included) |",
        "|---|---|---|---|---|",
    ]
    for name, run in (("process pool (`--backend processes`)", pr), ("Dask `LocalCluster` (`--backend dask`)", dk)):
        peaks = ", ".join(f"{v:.0f}" for v in sorted(run["peaks"].values()))
        lines.append(f"| {name} | {run['seconds']:.0f} s | **{run['rate']:.1f}** | {peaks} MiB | "
                     f"{run['pseudo']:.0f} s (K = {k} partners each) |")
    lines += [
        "",
        f"- One session in one process on one thread: {per_session_serial:.2f} s (warm cache; the very first "
        f"session in a fresh process took {t_first:.1f} s including the numba cache load and imports). "
        f"{a.workers} workers: {pr['busy'] / a.sessions:.2f} s of worker time per session, "
        f"parallel efficiency {per_session_serial * a.sessions / (a.workers * pr['seconds']):.2f}.",
        f"- The Dask path costs {100 * (dk['seconds'] / pr['seconds'] - 1):+.1f} % against the process pool "
        "(cluster start-up included).",
        f"- Outputs: {disk:.1f} MiB per session on disk.",
        f"- **1000 sessions** of {a.minutes:g} minutes on {a.workers} workers: about {n1000:.0f} min "
        f"({n1000 / 60:.1f} h). Pseudo-dyads cost {1e3 * pseudo_per_pair:.1f} ms per session-partner "
        f"pair (both modalities) on {a.workers} workers, so {min(k, 999)} partners each for 1000 sessions adds "
        f"about {1000 * min(k, 999) * pseudo_per_pair / 60:.0f} min (linear in sessions × partners; all 999 "
        "others: quadratic in sessions).",
        f"- Calibration on the whole pipeline (uncoupled sessions, rate of p ≤ 0.05): session surrogate test "
        f"hr {_rate(pr['study'], 'p_value', 'hr')}, eda {_rate(pr['study'], 'p_value', 'eda')}; pseudo-dyads "
        f"hr {_rate(pr['study'], 'pseudo_p_value', 'hr')}, eda {_rate(pr['study'], 'pseudo_p_value', 'eda')}.",
        "",
    ]
    text = "\n".join(lines)
    print(text)
    if a.write:
        _write_section(Path(a.write), text, heading="## Batch")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
