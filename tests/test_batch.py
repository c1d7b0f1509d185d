"""Batch: a real dask LocalCluster (two workers, loopback), a broken session, resume, study tables."""
import csv
import os
import warnings

import pytest

from synchrony.batch import read_manifest, run_batch
from synchrony.cli import main
from synchrony.errors import ConfigError, SynchronyWarning
from synchrony.simulate import SMALL, simulate_session
from synchrony.stats import surrogate_test


@pytest.fixture(scope="module")
def study(tmp_path_factory):
    root = tmp_path_factory.mktemp("study")
    lines = []
    for i in range(3):
        d = root / f"s{i}"
        simulate_session(d, seed=100 + i, **SMALL)
        text = (d / "session.toml").read_text().replace('id = "demo_dyad01"', f'id = "s{i}"')
        text = text.replace("surrogates = 200", "surrogates = 40")
        (d / "session.toml").write_text(text)
        lines.append(f'[[session]]\nconfig = "s{i}/session.toml"\ndyad = "d{i}"\nwai = {40 + i}\n')
    bad = root / "broken"
    bad.mkdir()
    (bad / "session.toml").write_text('[session]\nid = "broken"\n[client]\ne4 = "nowhere.zip"\n[therapist]\ne4 = "x/"\n')
    lines.append('[[session]]\nconfig = "broken/session.toml"\ndyad = "d9"\nwai = 12\n')
    (root / "manifest.toml").write_text("\n".join(lines))
    return root


def _rows(path):
    with open(path, newline="") as fh:
        return list(csv.DictReader(fh))


def test_local_cluster_runs_isolates_failure_and_resumes(study, tmp_path):
    out = tmp_path / "out"
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", SynchronyWarning)
        res = run_batch(study / "manifest.toml", out=out, workers=2, pseudo_dyads=2, random_state=0)
    assert (res["n_done"], res["n_failed"]) == (3, 1)
    fails = _rows(out / "failures.csv")
    assert [f["session_id"] for f in fails] == ["broken"]
    assert "nowhere.zip" in fails[0]["error"]
    rows = _rows(out / "study.csv")
    assert {(r["session_id"], r["modality"]) for r in rows} == {(f"s{i}", m) for i in range(3) for m in ("hr", "eda")}
    r0 = next(r for r in rows if r["session_id"] == "s0")
    assert r0["dyad"] == "d0" and r0["wai"] == "40"
    assert float(r0["p_value"]) > 0 and "pseudo_p_value" in r0
    long = _rows(out / "study_aligned.csv")
    assert {r["session_id"] for r in long} == {"s0", "s1", "s2"} and "sync_hr" in long[0]
    for i in range(3):
        assert (out / f"s{i}.nc").is_file() and (out / f"s{i}.html").is_file()

    # the log names each session's worker (two at most) and that worker's peak memory
    log = {r["session_id"]: r for r in _rows(out / "batch_log.csv")}
    assert log["broken"]["status"] == "failed" and log["s1"]["status"] == "done"
    assert len({log[f"s{i}"]["worker"] for i in range(3)}) <= 2
    assert all(float(log[f"s{i}"]["peak_rss_mb"]) > 50 for i in range(3))  # numpy + numba alone exceed this

    # the pseudo-dyad figures are exactly surrogate_test on the session's client against the other
    # sessions' therapists (2 partners each: all there are), read back from the .nc files
    sig = {f"s{i}": _signals(out / f"s{i}.nc") for i in range(3)}
    for r in rows:
        x = sig[r["session_id"]][r["modality"]].sel(role="client").values
        partners = [sig[o][r["modality"]].sel(role="therapist").values for o in sorted(sig) if o != r["session_id"]]
        y = sig[r["session_id"]][r["modality"]].sel(role="therapist").values
        t = surrogate_test(x, y, fs=4.0, window=30.0, step=1.0, max_lag=5.0, method="pseudo_dyad",
                           partners=partners, n_surrogates=2)
        assert float(r["pseudo_p_value"]) == pytest.approx(float(t.p_value), abs=1e-12)
        assert float(r["pseudo_effect_size"]) == pytest.approx(float(t.effect_size), rel=1e-9)
        assert r["pseudo_n"] == "2"

    # rerun: the three complete sessions are current and skipped; only the broken one is retried
    res2 = run_batch(study / "manifest.toml", out=out)
    assert (res2["n_skipped"], res2["n_done"], res2["n_failed"]) == (3, 0, 1)
    assert len(_rows(out / "study.csv")) == 6
    assert "pseudo_p_value" not in _rows(out / "study.csv")[0]

    # sessions of one dyad are never each other's pseudo-partners: s0 and s1 share a dyad now
    m2 = study / "manifest_same_dyad.toml"
    m2.write_text("".join(f'[[session]]\nconfig = "s{i}/session.toml"\ndyad = "{d}"\n' for i, d in
                          enumerate(["dA", "dA", "dB"])))
    res3 = run_batch(m2, out=out, pseudo_dyads=10, random_state=1)
    assert res3["n_skipped"] == 3
    n = {(r["session_id"], r["modality"]): r["pseudo_n"] for r in _rows(out / "study.csv")}
    assert n[("s0", "hr")] == n[("s1", "eda")] == "1" and n[("s2", "hr")] == "2"
    assert not list(out.glob(".synchrony-pseudo-*")), "the pseudo-dyad pack must be removed"


def _signals(nc):
    import xarray as xr

    with xr.open_datatree(nc, engine="h5netcdf") as tree:
        return tree["signals"].to_dataset().load()


def test_cli_exit_status(study, tmp_path, capsys):
    code = main(["batch", str(study / "manifest.toml"), "--out", str(tmp_path / "o"), "-q",
                 "--workers", "2", "--backend", "processes", "--pseudo-dyads", "1", "--seed", "3"])
    assert code == 1
    out = capsys.readouterr().out
    assert "3 sessions done, 0 skipped (current), 1 failed of 4" in out and "(processes, " in out
    assert all(r["pseudo_n"] == "1" for r in _rows(tmp_path / "o" / "study.csv"))
    with pytest.raises(SystemExit) as exc:  # argparse: usage and exit status 2, no traceback
        main(["batch", str(study / "manifest.toml"), "--out", str(tmp_path / "o"), "--pseudo-dyads", "-1"])
    assert exc.value.code == 2 and "whole number" in capsys.readouterr().err
    code = main(["batch", str(study / "nope.toml"), "--out", str(tmp_path / "o")])
    assert code == 2
    assert "manifest not found" in capsys.readouterr().err


def test_manifest_errors_name_the_place(tmp_path):
    m = tmp_path / "m.toml"
    m.write_text("[[session]]\ndyad = 1\n")
    with pytest.raises(ConfigError, match="session 1.*needs a 'config'"):
        read_manifest(m)
    m.write_text("[[sessions]]\nconfig='a'\n")
    with pytest.raises(ConfigError, match="unknown top-level key"):
        read_manifest(m)
    c = tmp_path / "m.csv"
    c.write_text("config,wai\na/session.toml,40\n")
    assert read_manifest(c)[0]["wai"] == 40


def _die_on(item):
    if item == "die":
        os._exit(3)  # as a worker killed by the OOM killer would
    return item


def test_a_dead_worker_is_recorded_not_raised():
    """A worker process that dies takes its session with it, not the batch: the executor yields
    the exception for that item (run_batch records it in failures.csv) and every item once."""
    from synchrony.batch import _Executor

    with _Executor(2, None, "processes") as ex:
        got = dict(ex.imap(_die_on, ["a", "die", "b"]))
    assert sorted(got) == ["a", "b", "die"]
    assert isinstance(got["die"], Exception)
    assert all(got[k] == k or isinstance(got[k], Exception) for k in "ab")
