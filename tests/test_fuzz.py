"""Fuzzing (issue 9): mutated E4 CSVs and zips, ratings files and configs fed to the readers and the
pipeline. The only exception allowed out is a SynchronyError; when a mutated input is accepted,
what comes out must still be well formed.

The fast tier runs a few dozen cases per target. The slow tier (``-m slow``) runs
``SYNCHRONY_FUZZ_EXAMPLES`` cases per target (default 300) and prints how many it tried.
"""
from __future__ import annotations

import copy
import io
import os
import shutil
import tempfile
import warnings
import zipfile
from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from synchrony.align.ratings import read_ratings
from synchrony.config import load_config
from synchrony.errors import SynchronyError, SynchronyWarning
from synchrony.io.empatica import read_e4
from tests.bad_inputs import BASE_CONFIG, CLIENT_ZIP, base_session, session_copy, write_toml

SLOW_EXAMPLES = int(os.environ.get("SYNCHRONY_FUZZ_EXAMPLES", "300"))
_COMMON = dict(deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large,
                                                       HealthCheck.function_scoped_fixture])
settings.register_profile("synchrony-fuzz-fast", max_examples=40, **_COMMON)
settings.register_profile("synchrony-fuzz-slow", max_examples=SLOW_EXAMPLES, **_COMMON)
FAST = settings.get_profile("synchrony-fuzz-fast")
SLOW = settings.get_profile("synchrony-fuzz-slow")

TRIED: dict[str, int] = {}

# ------------------------------------------------------------------------ mutation strategies

NASTY = ["nan", "NaN", "inf", "-inf", "-1", "0", "1e308", "-1e308", "1e-320", "", " ", ",", ",,", "abc",
         "\ufeff", "\x00", "1_000", "0x10", "1635148245", "  4.0  ", "\r", "\t", "\"", "1,2,3", "%%%%%%"]

_op = st.one_of(
    st.tuples(st.just("delete"), st.integers(0, 10**6), st.integers(1, 200)),
    st.tuples(st.just("insert"), st.integers(0, 10**6), st.one_of(st.sampled_from(NASTY), st.text(max_size=8))),
    st.tuples(st.just("replace_line"), st.integers(0, 10**4), st.sampled_from(NASTY)),
    st.tuples(st.just("dup_line"), st.integers(0, 10**4), st.just("")),
    st.tuples(st.just("swap_lines"), st.integers(0, 10**4), st.integers(0, 10**4)),
    st.tuples(st.just("truncate"), st.integers(0, 10**6), st.just("")),
    st.tuples(st.just("newlines"), st.sampled_from(["\r\n", "\r", "\n\n"]), st.just("")),
)
mutations = st.lists(_op, min_size=1, max_size=4)


def mutate(text: str, ops) -> str:
    """Apply mutation operations to a text (positions are taken modulo its length)."""
    for kind, a, b in ops:
        if kind == "delete" and text:
            i = a % len(text)
            text = text[:i] + text[i + b:]
        elif kind == "insert":
            i = a % (len(text) + 1)
            text = text[:i] + b + text[i:]
        elif kind in ("replace_line", "dup_line", "swap_lines"):
            lines = text.split("\n")
            i = a % len(lines)
            if kind == "replace_line":
                lines[i] = b
            elif kind == "dup_line":
                lines.insert(i, lines[i])
            else:
                j = b % len(lines)
                lines[i], lines[j] = lines[j], lines[i]
            text = "\n".join(lines)
        elif kind == "truncate":
            text = text[: a % (len(text) + 1)]
        elif kind == "newlines":
            text = text.replace("\n", a)
    return text


def _head(path: Path, n: int) -> str:
    return "\n".join(path.read_text().splitlines()[:n]) + "\n"


def _sources() -> dict[str, str]:
    base = base_session()
    out = {name: _head(base / "therapist" / name, 60) for name in ("EDA.csv", "IBI.csv", "ACC.csv", "HR.csv")}
    out["tags.csv"] = (base / "therapist" / "tags.csv").read_text()
    out["ratings"] = _head(base / "ratings_client.csv", 80)
    out["carma"] = ("Time of Rating,13-Dec-2021 07:36:40\nMultimedia File,s05.mp4\nLower Label,hindering\n"
                    "Upper Label,helpful\nMinimum Value,0\nMaximum Value,100\nNumber of Steps,9\nSecond,Rating\n"
                    "%%%%%%,%%%%%%\n" + "\n".join(f"{k},{40 + k % 7}" for k in range(1, 40)))
    return out


SOURCES: dict[str, str] = {}


def source(name: str) -> str:
    if not SOURCES:
        SOURCES.update(_sources())
    return SOURCES[name]


def _count(target: str) -> None:
    TRIED[target] = TRIED.get(target, 0) + 1


# ------------------------------------------------------------------------ checks on accepted input


def _check_recording(rec) -> None:
    assert rec.children, "a recording without streams was accepted"
    for name, child in rec.children.items():
        t = np.asarray(child["time"].values, dtype=float)
        assert np.all(np.isfinite(t)), f"{name}: non-finite time"
        if t.size > 1 and name != "tags":
            assert np.all(np.diff(t) > 0), f"{name}: time not increasing"
        fs = child.attrs.get("fs")
        if fs is not None:
            assert np.isfinite(fs) and fs > 0


def _check_ratings(ds) -> None:
    t = ds["time"].values
    r = ds["rating"].values
    assert t.size > 0 and np.all(np.isfinite(t)) and t[0] >= 0
    assert np.all(np.diff(t) > 0)
    ok = ~np.isnan(r)
    assert np.all((r[ok] >= ds.attrs["scale_min"]) & (r[ok] <= ds.attrs["scale_max"]))


# ------------------------------------------------------------------------ targets


def _e4_folder_case(name: str, ops) -> None:
    _count(f"e4 {name}")
    folder = Path(tempfile.mkdtemp(prefix="fuzz-e4-"))
    try:
        (folder / "HR.csv").write_text(source("HR.csv"))
        (folder / name).write_text(mutate(source(name), ops), encoding="utf-8", errors="surrogatepass")
        try:
            rec = read_e4(folder)
        except SynchronyError:
            return
        _check_recording(rec)
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def _zip_bytes() -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as zf:
        for name in ("EDA.csv", "IBI.csv", "HR.csv", "tags.csv"):
            zf.writestr(name, source(name))
    return buf.getvalue()


def _zip_case(edits) -> None:
    _count("e4 zip bytes")
    data = bytearray(_zip_bytes())
    for pos, value, cut in edits:
        data[pos % len(data)] = value
        if cut:
            del data[cut % len(data):]
        if not data:
            break
    folder = Path(tempfile.mkdtemp(prefix="fuzz-zip-"))
    try:
        path = folder / "1635148245_A00204.zip"
        path.write_bytes(bytes(data))
        try:
            rec = read_e4(path)
        except SynchronyError:
            return
        _check_recording(rec)
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def _ratings_case(kind: str, ops) -> None:
    _count(f"ratings {kind}")
    folder = Path(tempfile.mkdtemp(prefix="fuzz-ratings-"))
    try:
        path = folder / "ratings.csv"
        path.write_text(mutate(source(kind), ops), encoding="utf-8", errors="surrogatepass")
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", SynchronyWarning)
            try:
                ds = read_ratings(path)
            except SynchronyError:
                return
        _check_ratings(ds)
    finally:
        shutil.rmtree(folder, ignore_errors=True)


_values = st.one_of(st.none(), st.booleans(), st.integers(-10**6, 10**6),
                    st.floats(allow_nan=True, allow_infinity=True), st.text(max_size=12),
                    st.lists(st.sampled_from(["hr", "eda", "scl", "x", ""]), max_size=3),
                    st.dictionaries(st.text(max_size=4), st.integers(), max_size=2))
_keys = st.sampled_from([(s, k) for s, t in BASE_CONFIG.items() for k in t]
                        + [("analysis", k) for k in ("lag_step", "min_valid", "fs", "max_gap", "peak_method",
                                                     "segment_s", "top_k", "align_rule", "statistic",
                                                     "surrogate_method", "association_max_lag")]
                        + [("client", "offset_s"), ("therapist", "hr_source"), ("ratings", "offset_s"),
                           ("ratings", "start_utc"), ("ratings", "scale_min"), ("bogus", "x"), ("client", "zzz")])
config_edits = st.lists(st.tuples(_keys, _values), min_size=1, max_size=3)


def _config_dict_case(edits) -> None:
    _count("config values")
    cfg = copy.deepcopy(BASE_CONFIG)
    for (sec, key), value in edits:
        if value is None:
            cfg.get(sec, {}).pop(key, None)
        else:
            cfg.setdefault(sec, {})[key] = value
    try:
        parsed = load_config(cfg, base_dir=base_session())
    except SynchronyError:
        return
    a = parsed.analysis
    assert a["window"] > 0 and 0 <= a["max_lag"] < a["window"] and a["surrogates"] >= 0


def _config_text_case(ops) -> None:
    _count("config text")
    folder = Path(tempfile.mkdtemp(prefix="fuzz-config-"))
    try:
        text = (base_session() / "session.toml").read_text()
        cfg = folder / "session.toml"
        cfg.write_text(mutate(text, ops), encoding="utf-8", errors="surrogatepass")
        for sub in ("client", "therapist"):
            os.symlink(base_session() / sub, folder / sub)
        for f in ("ratings_client.csv", "ratings_therapist.csv"):
            os.symlink(base_session() / f, folder / f)
        try:
            load_config(cfg)
        except SynchronyError:
            return
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def _pipeline_case(target: str, ops, edits) -> None:
    """Mutate one file of a small session (and maybe its config) and run the whole pipeline."""
    import synchrony as sy

    _count(f"pipeline {target}")
    folder = Path(tempfile.mkdtemp(prefix="fuzz-pipeline-"))
    try:
        def edit(cfg):
            cfg["analysis"].update(surrogates=0, step=5.0)
            for (sec, key), value in edits:
                if value is not None:
                    cfg.setdefault(sec, {})[key] = value
        cfg = session_copy(folder, edit)
        path = cfg.parent / target
        path.write_text(mutate(path.read_text(), ops), encoding="utf-8", errors="surrogatepass")
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", SynchronyWarning)
            try:
                tree = sy.run_session(cfg)
            except SynchronyError:
                return
        for mod in [m for m in ("hr", "eda") if m in tree.children]:
            r = np.asarray(tree[mod]["r"].values, dtype=float)
            assert np.all(np.abs(r[np.isfinite(r)]) <= 1 + 1e-12)
    finally:
        shutil.rmtree(folder, ignore_errors=True)


E4_NAMES = st.sampled_from(["EDA.csv", "IBI.csv", "ACC.csv", "tags.csv"])
zip_edits = st.lists(st.tuples(st.integers(0, 10**6), st.integers(0, 255), st.one_of(st.none(), st.integers(0, 10**6))),
                     min_size=1, max_size=6)
PIPELINE_TARGETS = st.sampled_from(["therapist/EDA.csv", "therapist/IBI.csv", "therapist/HR.csv",
                                    "ratings_client.csv", "therapist/tags.csv"])
small_config_edits = st.lists(st.tuples(st.sampled_from([("analysis", "window"), ("analysis", "max_lag"),
                                                         ("analysis", "min_valid"), ("therapist", "offset_s"),
                                                         ("ratings", "start_tag")]),
                                        st.one_of(st.none(), st.floats(-100, 400), st.integers(-3, 500))),
                              max_size=2)


# ------------------------------------------------------------------------ fast tier


@FAST
@given(name=E4_NAMES, ops=mutations)
def test_fuzz_e4_csv(name, ops):
    _e4_folder_case(name, ops)


@FAST
@given(edits=zip_edits)
def test_fuzz_e4_zip(edits):
    _zip_case(edits)


@FAST
@given(kind=st.sampled_from(["ratings", "carma"]), ops=mutations)
def test_fuzz_ratings(kind, ops):
    _ratings_case(kind, ops)


@FAST
@given(edits=config_edits)
def test_fuzz_config_values(edits):
    _config_dict_case(edits)


@FAST
@given(ops=mutations)
def test_fuzz_config_text(ops):
    _config_text_case(ops)


@settings(FAST, max_examples=4)
@given(target=PIPELINE_TARGETS, ops=mutations, edits=small_config_edits)
def test_fuzz_pipeline(target, ops, edits):
    _pipeline_case(target, ops, edits)


# ------------------------------------------------------------------------ slow tier


@pytest.mark.slow
def test_fuzz_long_pass(capsys):
    """All targets with SYNCHRONY_FUZZ_EXAMPLES cases each (the pipeline a tenth of that)."""
    TRIED.clear()
    for fn, strategy in ((_e4_folder_case, st.tuples(E4_NAMES, mutations)),
                         (_zip_case, st.tuples(zip_edits)),
                         (_ratings_case, st.tuples(st.sampled_from(["ratings", "carma"]), mutations)),
                         (_config_dict_case, st.tuples(config_edits)),
                         (_config_text_case, st.tuples(mutations))):
        def make(fn):
            @SLOW
            @given(args=strategy)
            def run(args):
                fn(*args)
            return run
        make(fn)()

    @settings(SLOW, max_examples=max(5, SLOW_EXAMPLES // 10))
    @given(target=PIPELINE_TARGETS, ops=mutations, edits=small_config_edits)
    def run_pipeline(target, ops, edits):
        _pipeline_case(target, ops, edits)
    run_pipeline()
    with capsys.disabled():
        total = sum(TRIED.values())
        print(f"\nfuzz: {total} cases tried: " + ", ".join(f"{k} {v}" for k, v in sorted(TRIED.items())))
    assert total >= 5 * SLOW_EXAMPLES
