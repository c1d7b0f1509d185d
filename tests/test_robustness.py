"""Robustness (issue 9): every bad input of the catalogue through the CLI, atomic outputs,
numerical hostility at the public API, and a batch that survives broken sessions."""
from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
import warnings
from pathlib import Path

import numpy as np
import pytest

import synchrony as sy
from synchrony import errors
from synchrony.cli import main
from tests.bad_inputs import CATALOGUE, leftovers, session_copy

REPO = Path(__file__).resolve().parents[1]
BY_ID = {c.id: c for c in CATALOGUE}


def _out_folders(argv: list[str]) -> list[Path]:
    """The --out folder of an argv and, when it cannot exist, its parent."""
    out = Path(argv[argv.index("--out") + 1])
    return [out, out.parent / "out"] if out.parent.name == "out" else [out]


def test_catalogue_is_big_and_covers_the_issue():
    assert len(CATALOGUE) >= 30
    ids = {c.id for c in CATALOGUE}
    for needed in ("zip_truncated", "zip_corrupt_member", "zip_dotdot_entry", "zip_absolute_entry",
                   "zip_ratio_bomb", "e4_empty_file", "e4_missing_rate_row", "e4_non_numeric_row",
                   "e4_ibi_nan_offset", "e4_ibi_unsorted", "e4_ibi_duplicate", "e4_rate_zero", "e4_rate_negative",
                   "streams_wildly_different_lengths", "devices_never_overlap", "clocks_24h_apart",
                   "ratings_out_of_range", "ratings_truncated", "ratings_missing_column",
                   "config_misspelled_analysis_key", "config_window_zero", "config_window_longer_than_session",
                   "config_max_lag_equals_window", "missing_input_file", "output_not_writable"):
        assert needed in ids, needed


@pytest.mark.filterwarnings("ignore::synchrony.errors.SynchronyWarning")
@pytest.mark.parametrize("case", CATALOGUE, ids=lambda c: c.id)
def test_bad_input_through_cli(case, tmp_path, capsys):
    argv = case.build(tmp_path)
    code = main(argv)
    cap = capsys.readouterr()
    assert code == case.code, cap.err
    assert "Traceback" not in cap.err
    message = " ".join(cap.err.split())  # the CLI wraps long lines
    lines = [ln for ln in cap.err.splitlines() if ln.startswith("synchrony: error:")]
    assert len(lines) == 1, cap.err
    for word in case.words:
        assert word.lower() in message.lower(), f"{word!r} missing from: {message}"
    for out in _out_folders(argv):
        assert leftovers(out) == [], leftovers(out)
    # the library raises the catalogued class (--debug lets it through)
    with pytest.raises(getattr(errors, case.error)):
        main(["--debug"] + argv)


SUBPROCESS_CASES = ["zip_dotdot_entry", "e4_missing_rate_row", "ratings_out_of_range",
                    "config_misspelled_analysis_key", "missing_config_file", "clocks_24h_apart"]


@pytest.mark.parametrize("case_id", SUBPROCESS_CASES)
def test_bad_input_in_a_real_process_prints_no_traceback(case_id, tmp_path):
    case = BY_ID[case_id]
    argv = case.build(tmp_path)
    env = dict(os.environ, PYTHONPATH=str(REPO))
    proc = subprocess.run([sys.executable, "-m", "synchrony.cli", *argv], capture_output=True, text=True,
                          env=env, cwd=tmp_path, timeout=120)
    assert proc.returncode == 2, proc.stderr
    assert "Traceback" not in proc.stderr and "File \"" not in proc.stderr
    message = " ".join(proc.stderr.split())
    assert message.startswith("synchrony: error: ")
    assert case.words[0].lower() in message.lower()
    assert proc.stdout == ""
    for out in _out_folders(argv):
        assert leftovers(out) == []


# --------------------------------------------------------------------------- atomic outputs


@pytest.fixture(scope="module")
def tree(tmp_path_factory):
    cfg = session_copy(tmp_path_factory.mktemp("atomic"), lambda c: c["analysis"].update(surrogates=0))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", errors.SynchronyWarning)
        return sy.run_session(cfg)


def _session_files(out: Path) -> list[str]:
    return sorted(p.name for p in out.iterdir())


def test_outputs_complete_and_no_temp_folder(tree, tmp_path):
    written = sy.write_outputs(tree, tmp_path / "out") if hasattr(sy, "write_outputs") else None
    if written is None:
        from synchrony.pipeline import write_outputs

        written = write_outputs(tree, tmp_path / "out")
    names = _session_files(tmp_path / "out")
    assert "bad01_summary.json" in names and "bad01.nc" in names and "bad01.html" in names
    assert not any(n.startswith(".") for n in names)
    assert all(p.is_file() for p in written.values())


@pytest.mark.parametrize("where", ["report", "rename", "interrupt"])
def test_a_failed_write_leaves_nothing(tree, tmp_path, monkeypatch, where):
    """A crash while writing (in the report, half-way through the renames, or Ctrl-C) leaves no
    session file, no temporary folder, and in particular no summary JSON."""
    import synchrony.report as report
    from synchrony.pipeline import write_outputs

    out = tmp_path / "out"
    if where == "report":
        def boom(*a, **k):
            raise RuntimeError("report crashed")
        monkeypatch.setattr(report, "write_report", boom)
        expected = RuntimeError
    elif where == "rename":
        real, calls = os.replace, []

        def flaky(src, dst):
            calls.append(dst)
            if len(calls) == 3:
                raise OSError(28, "No space left on device")
            return real(src, dst)
        monkeypatch.setattr(os, "replace", flaky)
        expected = errors.InputError
    else:
        def interrupt(*a, **k):
            raise KeyboardInterrupt
        monkeypatch.setattr(report, "write_report", interrupt)
        expected = KeyboardInterrupt
    with pytest.raises(expected):
        write_outputs(tree, out)
    assert leftovers(out) == []


def test_a_rewrite_that_fails_does_not_keep_the_old_summary(tree, tmp_path, monkeypatch):
    """An earlier complete result whose rewrite fails half-way must not look finished any more."""
    from synchrony.pipeline import write_outputs

    out = tmp_path / "out"
    write_outputs(tree, out)
    real, calls = os.replace, []

    def flaky(src, dst):
        if Path(dst).parent == out:  # fail the second rename into the output folder itself
            calls.append(dst)
            if len(calls) == 2:
                raise OSError(5, "Input/output error")
        return real(src, dst)
    monkeypatch.setattr(os, "replace", flaky)
    with pytest.raises(errors.InputError, match="nothing was left"):
        write_outputs(tree, out)
    assert len(calls) == 2
    assert not (out / "bad01_summary.json").exists()


@pytest.mark.slow
def test_a_killed_run_leaves_nothing_that_looks_finished(tmp_path):
    """SIGKILL a real run while it writes: no summary JSON (the 'finished' marker) may exist
    unless every other output is complete too."""
    cfg = session_copy(tmp_path, lambda c: c["analysis"].update(surrogates=0))
    out = tmp_path / "out"
    env = dict(os.environ, PYTHONPATH=str(REPO))
    proc = subprocess.Popen([sys.executable, "-m", "synchrony.cli", "run", str(cfg), "--out", str(out), "-q"],
                            env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.time() + 120
    try:
        while time.time() < deadline and proc.poll() is None:
            if out.is_dir() and any(p.name.startswith(".synchrony-tmp") for p in out.iterdir()):
                break
            time.sleep(0.005)
        assert proc.poll() is None, "the run ended before it could be killed"
        os.kill(proc.pid, signal.SIGKILL)
    finally:
        proc.wait(timeout=60)
    assert not (out / "bad01_summary.json").exists()
    visible = [p for p in out.iterdir() if not p.name.startswith(".")]
    assert all(p.suffix != ".json" for p in visible)
    # the next run into the folder sweeps the killed run's work folder away
    from synchrony.pipeline import sweep_stale

    sweep_stale(out)
    assert not [p for p in out.iterdir() if p.name.startswith(".synchrony-")]


# --------------------------------------------------------------------------- numerical hostility


FS = 4.0
WCC_KW = dict(fs=FS, window=30.0, step=5.0, max_lag=5.0)


def _noise(n, seed=0):
    return np.random.default_rng(seed).standard_normal(n)


def _finite_abs_le_1(a) -> bool:
    a = np.asarray(a, dtype=float)
    a = a[np.isfinite(a)]
    return bool(np.all(np.abs(a) <= 1.0 + 1e-12))


@pytest.mark.parametrize("kind", ["all_nan", "constant", "one_constant", "nan_half", "huge", "tiny", "inf_spike",
                                  "short"])
def test_wcc_hostile_series_defined(kind):
    n = 600
    x, y = _noise(n, 1), _noise(n, 2)
    if kind == "all_nan":
        x = np.full(n, np.nan)
    elif kind == "constant":
        x, y = np.full(n, 3.0), np.full(n, 3.0)
    elif kind == "one_constant":
        y = np.full(n, 7.0)
    elif kind == "nan_half":
        x[: n // 2] = np.nan
    elif kind == "huge":
        x, y = x * 1e150, y * 1e150
    elif kind == "tiny":
        x, y = x * 1e-150, y * 1e-150
    elif kind == "inf_spike":
        x[100] = np.inf
    elif kind == "short":
        x, y = x[:50], y[:50]  # 12.5 s, shorter than one 30-s window
    try:
        r = sy.wcc(x, y, **WCC_KW)
    except ValueError as exc:
        # a clear error is a defined result; only a series shorter than one window may raise.
        # (synchrony.core imports nothing else from the package by design, so this is a plain ValueError;
        #  the pipeline checks window length first and raises InputError/AlignmentError there)
        assert kind == "short", f"{kind}: unexpected error {exc}"
        assert "too short for one window" in str(exc)
        return
    vals = np.asarray(r.values, dtype=float)
    assert _finite_abs_le_1(vals), f"{kind}: |r| > 1"
    if kind in ("all_nan", "constant"):
        assert not np.isfinite(vals).any()
    if kind == "one_constant":
        assert not np.isfinite(vals).any()  # correlation with a flat line is undefined
    if kind in ("huge", "tiny"):
        assert np.isfinite(vals).any()
        ref = np.asarray(sy.wcc(_noise(n, 1), _noise(n, 2), **WCC_KW).values)
        np.testing.assert_allclose(vals, ref, atol=1e-9)  # scale-free: r must not change with units
    if kind == "nan_half":
        assert np.isfinite(vals).any() and not np.isfinite(vals[0]).any()


@pytest.mark.parametrize("kind", ["all_nan", "constant", "short"])
def test_surrogate_test_hostile_series(kind):
    n = 1200
    x, y = _noise(n, 3), _noise(n, 4)
    if kind == "all_nan":
        x = np.full(n, np.nan)
    elif kind == "constant":
        x = np.full(n, 1.0)
    else:
        x, y = x[:60], y[:60]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", errors.SynchronyWarning)
        try:
            st = sy.surrogate_test(x, y, **WCC_KW, n_surrogates=19, random_state=0)
        except ValueError as exc:  # SynchronyErrors are ValueErrors too; a clear message is required
            assert kind == "short" and "one window" in str(exc), f"{kind}: {type(exc).__name__}: {exc}"
            return
    p = float(st["p_value"])
    assert np.isnan(p) or 0.0 < p <= 1.0
    for name in ("null_lo", "null_hi"):
        if name in st:
            band = np.asarray(st[name].values, float)
            assert not np.isinf(band).any()


def test_make_dyad_extreme_offsets_are_a_clear_error():
    from synchrony.dyad import make_dyad
    from synchrony.preprocess import analysis_series
    from tests.bad_inputs import base_session

    base = base_session()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", errors.SynchronyWarning)
        c = analysis_series(sy.read(base / "client/1635148245_A00204.zip"), ["eda"])
        t = analysis_series(sy.read(base / "therapist"), ["eda"])
    for off in (1e9, -1e9, 86400.0):
        with pytest.raises(errors.AlignmentError, match="overlap"):
            make_dyad(c, t, offsets={"therapist": off})
    for off in (float("nan"), float("inf")):
        with pytest.raises(errors.ConfigError, match="finite"):
            make_dyad(c, t, offsets={"therapist": off})


# --------------------------------------------------------------------------- batch survival


@pytest.mark.slow
@pytest.mark.filterwarnings("ignore::synchrony.errors.SynchronyWarning")
def test_batch_survives_broken_sessions(tmp_path, capsys):
    broken = {3: "zip_truncated", 8: "ratings_out_of_range", 12: "config_window_zero", 17: "clocks_24h_apart"}
    lines = []
    for i in range(20):
        folder = tmp_path / f"s{i:02d}"
        folder.mkdir()
        if i in broken:
            argv = BY_ID[broken[i]].build(folder)
            cfg = Path(argv[1])
            text = cfg.read_text().replace('id = "bad01"', f'id = "s{i:02d}"')
            cfg.write_text(text)
        else:
            cfg = session_copy(folder, lambda c, i=i: (c["session"].update(id=f"s{i:02d}"),
                                                       c["analysis"].update(surrogates=20)))
        lines.append(f'[[session]]\nconfig = "{cfg.relative_to(tmp_path)}"\ndyad = "d{i // 2}"\n')
    manifest = tmp_path / "manifest.toml"
    manifest.write_text("\n".join(lines))
    out = tmp_path / "results"
    t0 = time.perf_counter()
    code = main(["batch", str(manifest), "--out", str(out), "-q"])
    first = time.perf_counter() - t0
    cap = capsys.readouterr()
    assert code == 1, cap.err
    assert "16 sessions done" in cap.out and "4 failed" in cap.out
    summaries = sorted(p.name for p in out.glob("*_summary.json"))
    assert len(summaries) == 16
    assert not any(f"s{i:02d}_summary.json" in summaries for i in broken)
    import csv

    with open(out / "failures.csv", newline="") as fh:
        fails = list(csv.DictReader(fh))
    assert len(fails) == 4
    assert sorted(Path(r["config"]).parent.parent.name for r in fails) == [f"s{i:02d}" for i in sorted(broken)]
    assert all(r["error"] and "internal error" not in r["error"] for r in fails)
    mtimes = {p: p.stat().st_mtime_ns for p in out.glob("*_summary.json")}

    # the rerun does only the four broken sessions; the sixteen stay as they are
    t0 = time.perf_counter()
    code = main(["batch", str(manifest), "--out", str(out), "-q"])
    second = time.perf_counter() - t0
    cap = capsys.readouterr()
    assert code == 1
    assert "0 sessions done, 16 skipped (current), 4 failed" in cap.out
    assert {p: p.stat().st_mtime_ns for p in out.glob("*_summary.json")} == mtimes
    assert second < first / 3
    print(f"batch: first pass {first:.1f} s, rerun {second:.1f} s")


def test_a_killed_runs_work_folder_is_swept_by_the_next_run(tmp_path):
    """SIGKILL leaves the hidden work folder; the next run into the folder removes it, but never
    one of a process that still runs or one made on another host (a shared disk)."""
    import socket

    from synchrony.pipeline import sweep_stale, work_folder

    child = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    try:
        dead = Path(work_folder(tmp_path).as_posix().replace(f"-{os.getpid()}@", f"-{child.pid}@"))
        os.rename(work_folder(tmp_path), dead)  # made as if by the child
        (dead / "half.nc").write_bytes(b"partial")
        live = work_folder(tmp_path)  # this process: alive
        other = tmp_path / f".synchrony-tmp-{child.pid}@not-{socket.gethostname()}.abcd1234"
        other.mkdir()
        assert sweep_stale(tmp_path) == []  # the child still runs
    finally:
        child.kill()
        child.wait()
    assert sweep_stale(tmp_path) == [dead]
    assert not dead.exists() and live.is_dir() and other.is_dir()
