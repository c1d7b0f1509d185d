"""Time the preprocessing of one 60-minute E4 pair (both partners, heart rate + skin conductance).

Run:  python benchmarks/bench_preprocess.py [E4_FOLDER]

Default input: ../shared/realdata/empatica_e4/msr2023_session (a real 61-min E4
session), used for both roles. It is read with ``synchrony.io.empatica.read_e4``
when that reader exists, otherwise with the small CSV loader below (the same
Recording shape; reading is not what is timed). Prints the wall time of
``analysis_series(rec, ["hr", "eda", "scl", "scr"])`` for both roles plus
``make_dyad``, best of three runs.
"""
from __future__ import annotations

import sys
import time
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from synchrony.dyad import make_dyad  # noqa: E402
from synchrony.preprocess import analysis_series  # noqa: E402
from synchrony.recording import make_recording, make_stream, utc_from_unix  # noqa: E402

DEFAULT = REPO.parent / "shared" / "realdata" / "empatica_e4" / "msr2023_session"


def load_e4_csvs(folder: Path):
    """Minimal E4 folder loader (BVP, EDA, HR, IBI) for when synchrony.io.empatica is absent."""
    streams = {}
    starts = {}
    for name, fname in (("bvp", "BVP.csv"), ("eda", "EDA.csv"), ("hr", "HR.csv")):
        path = folder / fname
        if not path.exists():
            continue
        head = path.read_text().splitlines()[:2]
        start, fs = float(head[0].split(",")[0]), float(head[1].split(",")[0])
        x = np.loadtxt(path, skiprows=2, ndmin=1)
        starts[name] = (start, fs, x)
    origin = min(v[0] for v in starts.values())
    t0 = utc_from_unix(origin)
    units = {"bvp": "nW", "eda": "uS", "hr": "bpm"}
    for name, (start, fs, x) in starts.items():
        t = (start - origin) + np.arange(x.size) / fs
        streams[name] = make_stream({name: x}, t, start_utc=utc_from_unix(start), time_origin_utc=t0, fs=fs,
                                    units=units[name], device="Empatica E4", source=str(folder / name))
    ibi_path = folder / "IBI.csv"
    if ibi_path.exists():
        lines = ibi_path.read_text().splitlines()
        start = float(lines[0].split(",")[0])
        rows = np.array([[float(v) for v in ln.split(",")] for ln in lines[1:] if ln.strip()]).reshape(-1, 2)
        streams["ibi"] = make_stream({"ibi": rows[:, 1]}, (start - origin) + rows[:, 0], start_utc=utc_from_unix(start),
                                     time_origin_utc=t0, fs=None, units="s", device="Empatica E4",
                                     source=str(ibi_path))
    return make_recording(streams, start_utc=t0, device="Empatica E4", source=str(folder))


def load(folder: Path):
    try:
        from synchrony.io.empatica import read_e4
    except ImportError:
        return load_e4_csvs(folder), "benchmark's own CSV loader"
    return read_e4(folder), "synchrony.io.empatica.read_e4"


def main(argv: list[str]) -> int:
    folder = Path(argv[1]) if len(argv) > 1 else DEFAULT
    if not folder.exists():
        print(f"no E4 session at {folder}")
        return 2
    rec, how = load(folder)
    mods = ["hr", "eda", "scl", "scr"]
    best = np.inf
    for _ in range(3):
        t = time.perf_counter()
        client = analysis_series(rec, mods)
        therapist = analysis_series(rec, mods)
        dyad = make_dyad(client, therapist)
        best = min(best, time.perf_counter() - t)
    minutes = dyad.sizes["time"] / dyad.attrs["fs"] / 60
    print(f"input: {folder} ({how}); heart source: {client.attrs['heart_source']}")
    print(f"preprocess one E4 pair ({minutes:.1f} min, {', '.join(mods)}, both roles + make_dyad): "
          f"{best:.2f} s (best of 3)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv))
