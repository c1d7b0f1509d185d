"""Surrogate-test speed and calibration (the statistics issue).

Run from the repository root::

    .venv/bin/python benchmarks/bench_calibration.py            # full run, a few minutes
    .venv/bin/python benchmarks/bench_calibration.py --quick    # smoke run, < 1 minute

1. Speed: ``sy.surrogate_test`` with 1000 surrogates of a 50-minute 4 Hz pair (window 30 s,
   step 1 s, lags +-5 s) per method, wall-clock seconds on this machine.
2. Calibration: the false-positive rate at alpha = 0.05 on simulated *independent* pairs
   resembling 4 Hz skin conductance and heart rate (``tests/stats/_sim.py``), with enough
   pairs to state it to +-1.5 % (95 % binomial half-width 1.96·sqrt(0.05·0.95/n) <= 0.015
   needs n >= 811; we use 850), for each shipped method. 99 surrogates per pair, so an
   exchangeable null gives exactly 5 % (p takes the values k/100).
3. The trap: procedures not offered. Random derangements of 30-s segments with the
   statistic over all windows (joins inside windows); random derangements with the
   statistic over the windows inside one segment, for few segments (K = 10) and for many
   (K = 38) on white noise, HR and SC.
4. Power: 50-minute coupled pairs (y follows x by 2 s; shared-component correlation 0.3,
   0.4 and 0.5).

Writes ``benchmarks/RESULTS_stats.md`` (the figures the lead copies into RESULTS.md).
"""
from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from synchrony.core.wcc import window_stats_many  # noqa: E402
from synchrony.stats import inference, surrogate_test, surrogates  # noqa: E402
from tests.stats._sim import random_derangement_rate, rejection_rate, simulate_pair  # noqa: E402

FS, WINDOW, STEP, MAX_LAG = 4.0, 30.0, 1.0, 5.0


def ci(rate: float, n: int) -> str:
    half = 1.96 * np.sqrt(max(rate * (1 - rate), 0.05 * 0.95) / n)
    return f"{100 * rate:.1f} % ± {100 * half:.1f}"


def timing(n_sur: int) -> list[tuple[str, str, float]]:
    x, y = simulate_pair("scl", minutes=50, random_state=0)
    surrogate_test(x, y, fs=FS, window=WINDOW, step=STEP, max_lag=MAX_LAG, n_surrogates=5,
                   random_state=0)  # compile / warm up
    rows = []
    for method, n in (("segment_shuffle", n_sur), ("circular_shift", n_sur), ("phase", n_sur),
                      ("iaaft", max(10, n_sur // 10))):
        best = np.inf
        for _ in range(2 if method != "iaaft" else 1):
            t0 = time.perf_counter()
            t = surrogate_test(x, y, fs=FS, window=WINDOW, step=STEP, max_lag=MAX_LAG,
                               method=method, n_surrogates=n, random_state=1)
            best = min(best, time.perf_counter() - t0)
        used = int(t.attrs["n_surrogates"])
        rows.append((method, f"{n} asked, {used} made" if used != n else str(n), best))
        print(f"timing {method:16s} n={n:5d} ({used}) {best:7.2f} s", flush=True)
    return rows


def naive_rate(kind: str, n_pairs: int, minutes: float, seed: int) -> float:
    """Derangement of 30-s segments, statistic over *all* windows (the trap)."""
    kw = dict(window_n=120, step_n=4, max_lag_n=20)
    hits = 0
    for i in range(n_pairs):
        x, y = simulate_pair(kind, minutes=minutes, random_state=seed + i)
        ys = surrogates.segment_shuffle(y, 120, n_surrogates=99, random_state=seed + 10**6 + i)
        s = window_stats_many(x, np.vstack([y, ys]), **kw)
        v = inference.reduce_statistic(s, np.ones(s["n_cells"].shape, bool), "mean_abs_z")
        hits += (1 + np.sum(v[1:] >= v[0])) / 100 <= 0.05
    return hits / n_pairs


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="few pairs: a smoke run")
    ap.add_argument("--out", default=str(ROOT / "benchmarks" / "RESULTS_stats.md"))
    args = ap.parse_args()
    q = args.quick
    n_fpr = 60 if q else 850
    n_pow = 10 if q else 40
    n_trap = 40 if q else 400
    lines = ["## Statistics", "",
             f"Machine: {os.cpu_count()} CPUs visible; numba threads "
             f"{os.environ.get('NUMBA_NUM_THREADS', 'default')}. Command: "
             f"`.venv/bin/python benchmarks/bench_calibration.py{' --quick' if q else ''}`.", ""]

    t_all = time.perf_counter()
    rows = timing(100 if q else 1000)
    lines += ["### Speed: one 50-minute 4 Hz pair (window 30 s, step 1 s, lags ±5 s)", "",
              "| method | surrogates | seconds |", "|---|---:|---:|"]
    lines += [f"| {m} | {n} | {s:.2f} |" for m, n, s in rows]
    lines += ["", "segment_shuffle (cyclic) makes at most n_segments − 1 = 59 surrogates here, "
              "whatever is asked; every method runs one kernel reduction per surrogate "
              "(batched, parallel over surrogates), never the (time, lag) matrix.", ""]

    lines += ["### False-positive rate at α = 0.05 (independent pairs, 99 surrogates asked)",
              "", "4 Hz pairs, window 30 s, step 1 s, lags ±5 s; ± is the 95 % binomial "
              "half-width. segment_shuffle is the cyclic derangement with its default "
              "segments (20 for 20 minutes, 60 for 50 minutes: all 19 or 59 rotations are "
              "used, so an exact test has size exactly 1/20 or 3/60 = 5 %).", "",
              "| method | minutes | signal | pairs | rate |", "|---|---:|---|---:|---:|"]
    plan = [("segment_shuffle", 20, "scl", n_fpr // 2), ("segment_shuffle", 20, "hr", n_fpr // 2),
            ("segment_shuffle", 50, "scl", n_fpr // 3), ("segment_shuffle", 50, "hr", n_fpr // 3),
            ("circular_shift", 20, "scl", n_fpr // 2), ("circular_shift", 20, "hr", n_fpr // 2),
            ("phase", 20, "scl", n_fpr // 4), ("phase", 20, "hr", n_fpr // 4)]
    pooled: dict[tuple, list] = {}
    for method, minutes, kind, n in plan:
        t0 = time.perf_counter()
        rate, ps = rejection_rate(method, kind, n_pairs=n, minutes=minutes, seed=100_000)
        lines.append(f"| {method} | {minutes} | {kind} | {n} | {ci(rate, n)} |")
        pooled.setdefault((method, minutes), []).append(ps)
        print(f"fpr {method} {minutes} {kind} n={n} rate={rate:.3f} "
              f"({time.perf_counter() - t0:.0f} s)", flush=True)
    for (method, minutes), pss in pooled.items():
        ps = np.concatenate(pss)
        lines.append(f"| **{method}** | {minutes} | both | {ps.size} | "
                     f"**{ci(float(np.mean(ps <= 0.05)), ps.size)}** |")

    lines += ["", "### The trap: procedures not offered", "",
              "| procedure | minutes | signal | pairs | rate |", "|---|---:|---|---:|---:|"]
    for kind in ("white", "hr"):
        r = naive_rate(kind, n_trap // 4, 20, seed=300_000)
        lines.append(f"| random derangement of 30-s segments, statistic over all windows | 20 "
                     f"| {kind} | {n_trap // 4} | {ci(r, n_trap // 4)} |")
        print(f"naive {kind} {r:.3f}", flush=True)
    for kind, minutes, seg, n in (("white", 20, 120.0, n_trap // 2), ("white", 50, 80.0, n_trap // 2),
                                  ("hr", 50, 80.0, n_trap // 2), ("scl", 50, 80.0, n_trap // 2)):
        r = random_derangement_rate(kind, n_pairs=n, minutes=minutes, segment_s=seg,
                                    seed=400_000)
        k = -(-int(minutes * 60 * FS) // int(seg * FS))
        lines.append(f"| random derangement of K = {k} segments, windows inside one segment "
                     f"for data and surrogates | {minutes} | {kind} | {n} | {ci(r, n)} |")
        print(f"random derangement K={k} {kind} {r:.3f}", flush=True)

    lines += ["", "### Power at α = 0.05 (y follows x by 2 s, 50-minute pairs, 99 surrogates asked)",
              "", "Coupling c: y = sqrt(1 − c²)·own + c·(x 2 s earlier, rescaled).", "",
              "| method | signal | coupling | pairs | power |", "|---|---|---:|---:|---:|"]
    for method, cs in (("segment_shuffle", (0.3, 0.4, 0.5)), ("circular_shift", (0.4,))):
        for kind in ("scl", "hr"):
            for c in cs:
                r, _ = rejection_rate(method, kind, n_pairs=n_pow, coupling=c, minutes=50,
                                      seed=500_000)
                lines.append(f"| {method} | {kind} | {c} | {n_pow} | {ci(r, n_pow)} |")
                print(f"power {method} {kind} c={c} {r:.2f}", flush=True)
    lines += ["", f"Total benchmark time: {time.perf_counter() - t_all:.0f} s.", ""]
    Path(args.out).write_text("\n".join(lines))
    print("\n".join(lines))


if __name__ == "__main__":
    main()
