"""The session simulator: deterministic, in the real E4 layout, and its planted truth is what it says.

The committed ``sample_recordings/`` must be what the current code writes, and its
README and truth.json must state what the generated physiology and ratings really
contain.
"""
from __future__ import annotations

import json
import math
import re
import tomllib
import zipfile
from pathlib import Path

import numpy as np
import pytest

from synchrony.errors import ConfigError
from synchrony.simulate import (
    DEFAULT_SEED,
    SMALL,
    _windowed_r,
    default_segments,
    file_digests,
    main,
    render_readme,
    simulate_session,
    simulate_signals,
)

REPO = Path(__file__).resolve().parents[1]
SAMPLE = REPO / "sample_recordings"
E4_RATES = {"EDA.csv": 4.0, "BVP.csv": 64.0, "HR.csv": 1.0, "TEMP.csv": 4.0, "ACC.csv": 32.0}


# --------------------------------------------------------------------------- fixtures and a tiny parser


@pytest.fixture(scope="module")
def small(tmp_path_factory):
    out = tmp_path_factory.mktemp("sim") / "small"
    truth = simulate_session(out, **SMALL)
    return out, truth


@pytest.fixture(scope="module")
def full_signals():
    """The true series of the committed (default) session."""
    return simulate_signals()


@pytest.fixture(scope="module")
def committed_truth():
    path = SAMPLE / "truth.json"
    if not path.is_file():
        pytest.fail(f"{path} is missing: regenerate it with `python -m synchrony.simulate sample_recordings`")
    return json.loads(path.read_text(encoding="utf-8"))


def _export_texts(path: Path) -> dict[str, str]:
    """File name -> text of an E4 export (zip or folder)."""
    if path.suffix == ".zip":
        with zipfile.ZipFile(path) as zf:
            names = zf.namelist()
            assert all("/" not in n for n in names), f"{path}: E4 files must sit at the top level, found {names}"
            return {n: zf.read(n).decode("ascii") for n in names}
    return {p.name: p.read_text(encoding="ascii") for p in path.iterdir() if p.is_file()}


def _parse_regular(name: str, text: str) -> tuple[float, float, np.ndarray]:
    """(start, fs, samples) of an E4 regular file, checking the header layout."""
    lines = text.split("\n")
    assert lines[-1] == "", f"{name}: must end with a newline"
    lines = lines[:-1]
    ncols = 3 if name == "ACC.csv" else 1
    head0, head1 = lines[0].split(", "), lines[1].split(", ")
    assert len(head0) == ncols and len(set(head0)) == 1, f"{name} line 1: expected {ncols} equal start values, found {lines[0]!r}"
    assert len(head1) == ncols and len(set(head1)) == 1, f"{name} line 2: expected {ncols} equal rates, found {lines[1]!r}"
    assert re.fullmatch(r"\d{10}\.\d{6}", head0[0]), f"{name} line 1: expected unix seconds with 6 decimals, found {head0[0]!r}"
    assert re.fullmatch(r"\d+\.000000", head1[0]), f"{name} line 2: expected the rate with 6 decimals, found {head1[0]!r}"
    pattern = {"EDA.csv": r"\d+\.\d{6}", "BVP.csv": r"-?\d+\.\d{2}", "HR.csv": r"\d+\.\d{2}", "TEMP.csv": r"\d+\.\d{2}",
               "ACC.csv": r"-?\d+,-?\d+,-?\d+"}[name]
    bad = next((i for i, line in enumerate(lines[2:], 3) if not re.fullmatch(pattern, line)), None)
    assert bad is None, f"{name} line {bad}: expected {pattern}, found {lines[bad - 1]!r}"
    values = np.array([[float(v) for v in line.split(",")] for line in lines[2:]])
    return float(head0[0]), float(head1[0]), values if ncols == 3 else values[:, 0]


def _parse_ibi(text: str) -> tuple[float, np.ndarray, np.ndarray]:
    lines = text.split("\n")[:-1]
    m = re.fullmatch(r"(\d{10}\.\d{6}), IBI", lines[0])
    assert m, f"IBI.csv line 1: expected '<start>, IBI', found {lines[0]!r}"
    rows = [line.split(",") for line in lines[1:]]
    assert all(len(r) == 2 and all(re.fullmatch(r"\d+\.\d{6}", v) for v in r) for r in rows), "IBI.csv: rows must be offset,ibi with 6 decimals"
    arr = np.array(rows, dtype=float)
    return float(m.group(1)), arr[:, 0], arr[:, 1]


def _parse_tags(text: str) -> list[float]:
    lines = text.split("\n")[:-1]
    assert all(re.fullmatch(r"\d{10}\.\d{2}", line) for line in lines), f"tags.csv: expected unix instants, found {lines}"
    return [float(line) for line in lines]


# --------------------------------------------------------------------------- determinism and the committed sample


def test_same_seed_gives_identical_bytes_and_another_seed_does_not(tmp_path, small):
    out, truth = small
    again = tmp_path / "small"  # the same folder name, so the recorded command is the same
    truth2 = simulate_session(again, **SMALL)
    assert truth2 == truth
    for path in sorted(p for p in out.rglob("*") if p.is_file()):
        rel = path.relative_to(out)
        assert (again / rel).read_bytes() == path.read_bytes(), f"{rel}: differs between two runs with the same seed"
    other = simulate_session(tmp_path / "other", seed=DEFAULT_SEED + 1, **SMALL)
    assert other["ratings"]["client"]["mean"] != truth["ratings"]["client"]["mean"]
    assert (tmp_path / "other/therapist/BVP.csv").read_bytes() != (out / "therapist/BVP.csv").read_bytes()


def _numeric_close(a: str, b: str) -> bool:
    """Equal, or numbers differing by at most one unit in their last printed decimal.

    A different CPU may round one value in a million the other way; that is not a
    different session.
    """
    if a == b:
        return True
    try:
        x, y = float(a), float(b)
    except ValueError:
        return False
    dec = len(a.split(".")[1]) if "." in a else 0
    return abs(x - y) <= 1.01 * 10.0**-dec


def test_committed_sample_recordings_are_what_the_code_writes(tmp_path, committed_truth):
    """Regenerate with the recorded command's defaults and compare every file (zip members one by one)."""
    fresh = tmp_path / "sample_recordings"
    truth = simulate_session(fresh)
    assert committed_truth["generator"]["command"] == "python -m synchrony.simulate sample_recordings"
    mine, theirs = file_digests(fresh), file_digests(SAMPLE)
    assert sorted(theirs) == sorted(mine), "sample_recordings/ holds other files than the simulator writes"
    differing = [k for k in mine if mine[k] != theirs[k]]
    for key in differing:  # tolerate last-digit rounding from another CPU, nothing more
        path, _, member = key.partition("::")
        if member:
            with zipfile.ZipFile(fresh / path) as a, zipfile.ZipFile(SAMPLE / path) as b:
                ta, tb = a.read(member).decode(), b.read(member).decode()
        else:
            ta, tb = (fresh / path).read_text(encoding="utf-8"), (SAMPLE / path).read_text(encoding="utf-8")
        la, lb = ta.split("\n"), tb.split("\n")
        assert len(la) == len(lb), f"sample_recordings/{key}: {len(lb)} lines, the simulator now writes {len(la)}"
        for i, (x, y) in enumerate(zip(la, lb), 1):
            tx, ty = re.split(r'([,\s":\[\]]+)', x), re.split(r'([,\s":\[\]]+)', y)
            assert len(tx) == len(ty) and all(_numeric_close(p, q) for p, q in zip(tx, ty)), (
                f"sample_recordings/{key} line {i}: committed {y!r}, the simulator now writes {x!r}; "
                "regenerate with `python -m synchrony.simulate sample_recordings`")
    assert truth["lag_s"] == committed_truth["lag_s"]
    size = sum(p.stat().st_size for p in SAMPLE.rglob("*") if p.is_file())
    assert size < 5 * 1024**2, f"sample_recordings/ holds {size} bytes; the limit is 5 MB"


# --------------------------------------------------------------------------- layout


@pytest.mark.parametrize("role", ["client", "therapist"])
def test_exports_follow_the_e4_layout(small, role):
    out, truth = small
    dev = truth["devices"][role]
    path = out / dev["path"]
    if role == "client":
        assert path.suffix == ".zip" and path.name == f"{int(dev['start_unix'])}_{dev['device_id']}.zip"
    else:
        assert path.is_dir()
    files = _export_texts(path)
    assert {"EDA.csv", "BVP.csv", "HR.csv", "TEMP.csv", "ACC.csv", "IBI.csv", "tags.csv"} <= set(files)
    for name, fs in E4_RATES.items():
        start, rate, values = _parse_regular(name, files[name])
        assert rate == fs, f"{name}: rate {rate}, expected {fs}"
        if name == "HR.csv":
            assert start == pytest.approx(dev["start_unix"] + 10.0, abs=1e-6), "HR.csv must start 10 s after the others"
            assert len(values) == math.floor(dev["duration_s"] - 10.0) + (dev["duration_s"] % 1 > 0)
            assert np.all((values > 40) & (values < 140)), "HR.csv: heart rate out of a resting range"
        else:
            assert start == pytest.approx(dev["start_unix"], abs=1e-6)
            assert len(values) == math.floor(dev["duration_s"] * fs), f"{name}: {len(values)} samples for {dev['duration_s']} s"
    _, _, eda = _parse_regular("EDA.csv", files["EDA.csv"])
    assert np.all(eda[:6] == 0.0) and np.all(eda[20:] > 0.5), "EDA: six settling zeros, then a tonic level of µS"
    _, _, acc = _parse_regular("ACC.csv", files["ACC.csv"])
    magnitude = np.median(np.linalg.norm(acc, axis=1))
    assert 55 < magnitude < 75, f"ACC at rest should read about 1 g = 64 units, found {magnitude}"
    _, _, temp = _parse_regular("TEMP.csv", files["TEMP.csv"])
    assert 28 < temp.min() and temp.max() < 36
    start, offset, ibi = _parse_ibi(files["IBI.csv"])
    assert start == pytest.approx(dev["start_unix"], abs=1e-6)
    assert np.all(np.diff(offset) > 0) and np.all((ibi > 0.4) & (ibi < 1.5))
    assert np.allclose(offset * 64, np.round(offset * 64), atol=1e-6), "beat offsets sit on the device's 1/64-s grid"
    consecutive = np.isclose(np.diff(offset), ibi[1:], atol=1e-6)
    assert 0.8 < consecutive.mean() < 1.0, "IBI: most intervals end where the previous row's beat was, some beats dropped"
    tags = _parse_tags(files["tags.csv"])
    assert tags == dev["tags_unix"]


def test_tags_mark_the_video_start_on_both_clocks(small):
    out, truth = small
    c, t = truth["devices"]["client"], truth["devices"]["therapist"]
    assert c["tags_unix"][0] == t["tags_unix"][0] == pytest.approx(truth["video"]["start_unix"], abs=0.005)
    on_client = c["tags_unix"][0] - c["start_unix"]
    on_therapist = t["tags_unix"][0] - t["start_unix"]
    assert on_client == pytest.approx(61.5) and on_therapist == pytest.approx(24.25)
    assert on_client - on_therapist == pytest.approx(t["offset_from_client_start_s"]) == pytest.approx(37.25)
    # the video lies inside both recordings
    for dev in (c, t):
        assert dev["video_start_on_device_s"] > 0
        assert dev["video_start_on_device_s"] + truth["video"]["duration_s"] < dev["duration_s"]


def test_read_e4_reads_both_exports(small):
    try:
        from synchrony.io.empatica import read_e4
    except ImportError as exc:  # pragma: no cover - the reader is written in parallel
        pytest.skip(f"synchrony.io.empatica.read_e4 is not importable yet: {exc}")
    out, truth = small
    for role in ("client", "therapist"):
        dev = truth["devices"][role]
        rec = read_e4(out / dev["path"])
        assert rec.attrs["start_utc"] == dev["start_utc"]
        assert {"eda", "bvp", "hr", "ibi", "acc", "temp", "tags"} <= set(rec.children)
        assert rec["eda"].sizes["time"] == math.floor(dev["duration_s"] * 4)
        assert float(rec["hr"]["time"][0]) == 10.0
        assert rec["tags"]["time"].values[0] == pytest.approx(dev["video_start_on_device_s"], abs=0.005)


def test_session_toml_has_the_contract_shape(small):
    out, truth = small
    cfg = tomllib.loads((out / "session.toml").read_text(encoding="utf-8"))
    assert set(cfg) == {"session", "client", "therapist", "ratings", "analysis"}
    assert cfg["session"] == {"id": truth["session_id"]}
    assert (out / cfg["client"]["e4"]).is_file() and cfg["client"]["e4"].endswith(".zip")
    assert cfg["therapist"] == {"e4": "therapist/"} and (out / "therapist").is_dir()
    assert cfg["ratings"] == {"client": "ratings_client.csv", "therapist": "ratings_therapist.csv", "start_tag": 1}
    assert cfg["analysis"] == {"modalities": ["hr", "eda"], "window": 30.0, "step": 1.0, "max_lag": 5.0,
                               "surrogates": 200, "random_state": 1}


def test_ratings_files_cover_the_video(small):
    out, truth = small
    for role in ("client", "therapist"):
        lines = (out / f"ratings_{role}.csv").read_text(encoding="ascii").split("\n")
        assert lines[0] == "time,rating" and lines[-1] == ""
        arr = np.array([line.split(",") for line in lines[1:-1]], dtype=float)
        assert np.array_equal(arr[:, 0], np.arange(truth["video"]["duration_s"]))
        assert np.all((arr[:, 1] >= 0) & (arr[:, 1] <= 100))


# --------------------------------------------------------------------------- the stated truth


def test_truth_json_and_readme_state_the_same_truth(small):
    out, truth = small
    assert json.loads((out / "truth.json").read_text(encoding="utf-8")) == truth
    readme = (out / "README.md").read_text(encoding="utf-8")
    assert readme == render_readme(truth)
    assert f"**Lag: {truth['lag_s']:+g} s.**" in readme
    assert truth["generator"]["command"] in readme
    rows = re.findall(r"^\| (\d+) \| ([\d.]+)–([\d.]+) \| ([\d.]+)–([\d.]+) \| ([\d.]+)–([\d.]+) \|", readme, re.M)
    assert len(rows) == len(truth["coupled_segments"]) >= 1
    for row, seg in zip(rows, truth["coupled_segments"]):
        assert [float(x) for x in row[1:]] == seg["video_s"] + seg["client_device_s"] + seg["therapist_device_s"]
    for role in ("client", "therapist"):
        dev = truth["devices"][role]
        assert f"| {role} | {dev['device_id']} | {dev['start_utc']} | {dev['start_unix']:.6f} |" in readme
    assert truth["video"]["start_utc"] in readme


def test_committed_readme_states_what_truth_json_says(committed_truth):
    readme = (SAMPLE / "README.md").read_text(encoding="utf-8")
    assert readme == render_readme(committed_truth)
    segs = [s["video_s"] for s in committed_truth["coupled_segments"]]
    assert segs == [list(s) for s in default_segments(1500.0)]
    assert committed_truth["lag_s"] == 2.0 and committed_truth["video"]["start_utc"] == "2021-10-25T07:51:46.500000Z"


def test_planted_coupling_is_in_the_true_series(full_signals, committed_truth):
    """Lagged correlation peaks at +lag_s inside the coupled segments and is about 0 outside.

    Tolerances: inside, the shared component carries 0.9² of the heart-rate
    fluctuation's variance and most of the skin-conductance responses, so the mean
    30-s r at the lag must reach the brief's 0.6; the 4-Hz grid resolves lags to
    0.25 s, so the median peak lag must be within one step of the truth. Outside,
    the series are independent, but 30-s windows of smooth signals have only a few
    degrees of freedom and neighbouring windows overlap, so the mean r over ~700
    windows (~25 independent) has a standard error near 0.1: |mean| < 0.25.
    """
    sig, truth = full_signals, committed_truth
    fs, lag = sig["fs"], truth["lag_s"]
    lags = np.arange(-5.0, 5.0 + 1e-9, 0.25)
    starts = np.arange(0.0, sig["time"].size / fs - 30.0 + 1e-9, 1.0)
    segs = [s["video_s"] for s in truth["coupled_segments"]]
    inside = np.zeros(starts.size, bool)
    outside = np.ones(starts.size, bool)
    for a, b in segs:
        inside |= (starts >= a) & (starts + 30.0 <= b)
        outside &= (starts + 40.0 <= a) | (starts - 10.0 >= b)
    j_lag, j0 = int(np.argmin(abs(lags - lag))), int(np.argmin(abs(lags)))
    for mod in ("hr", "eda"):
        r = _windowed_r(sig[mod]["client"], sig[mod]["therapist"], fs, 30.0, 1.0, lags)
        assert r.shape[0] == starts.size
        mean_in = np.nanmean(r[inside, j_lag])
        assert mean_in >= 0.6, f"{mod}: mean r at the planted lag inside the coupled segments is {mean_in:.2f}"
        assert mean_in > np.nanmean(r[inside, j0]) + 0.3, f"{mod}: the lag, not lag 0, must carry the coupling"
        peak = lags[np.nanargmax(r, axis=1)]
        assert abs(np.median(peak[inside]) - lag) <= 0.25, f"{mod}: median peak lag {np.median(peak[inside])}"
        assert np.mean(np.abs(peak[inside] - lag) <= 0.5) >= 0.85
        assert abs(np.nanmean(r[outside, j_lag])) < 0.25, f"{mod}: mean r outside {np.nanmean(r[outside, j_lag]):.2f}"
        # the peak lags outside are spread, not piled at the planted lag
        assert np.mean(np.abs(peak[outside] - lag) <= 0.5) < 0.3
        # and what truth.json (and so the README) states is what these series give
        stated = truth["expected"][mod]
        assert stated["r_at_lag_inside_mean"] == pytest.approx(mean_in, abs=0.0015)
        assert stated["peak_lag_inside_median_s"] == float(np.median(peak[inside]))


def test_coupling_is_all_the_dependence(full_signals):
    """With coupling 0 the therapist's series away from the segments are bit-identical, and inside r is ~0.

    This shows the series are independent outside the segments by construction, and
    that the high r inside comes from the planted coupling, not from the client's
    arousal alone. Tolerance: with no coupling a 30-s r has SD ~0.3 and ~450
    overlapping windows (~20 independent) give a standard error near 0.08: |mean| < 0.25.
    """
    base = full_signals
    free = simulate_signals(coupling=0.0)
    t = base["time"]
    far = np.ones(t.size, bool)
    for a, b in base["params"]["coupled_segments"]:
        far &= (t < a - 10.0) | (t > b + 45.0)  # ramp + lag before; ramp, lag and SCR tails after
    for mod in ("hr", "eda"):
        assert np.array_equal(free[mod]["therapist"][far], base[mod]["therapist"][far])
    assert np.array_equal(free["hr"]["client"], base["hr"]["client"])
    lags = np.array([base["params"]["lag_s"]])
    starts = np.arange(0.0, t.size / 4.0 - 30.0 + 1e-9, 1.0)
    inside = np.zeros(starts.size, bool)
    for a, b in base["params"]["coupled_segments"]:
        inside |= (starts >= a) & (starts + 30.0 <= b)
    for mod in ("hr", "eda"):
        r = _windowed_r(free[mod]["client"], free[mod]["therapist"], 4.0, 30.0, 1.0, lags)[:, 0]
        assert abs(np.nanmean(r[inside])) < 0.25, f"{mod}: uncoupled mean r inside {np.nanmean(r[inside]):.2f}"


def test_synchrony_beats_shifted_partners(full_signals):
    """Mean peak |z| of the session exceeds that of 19 circularly shifted therapists (p = 0.05 at most).

    The shifts are at least 100 s (well beyond window + 2·max lag) so that no shifted
    pairing keeps the coupling.
    """
    sig = full_signals
    lags = np.arange(-5.0, 5.0 + 1e-9, 0.25)

    def stat(x, y):
        r = _windowed_r(x, y, 4.0, 30.0, 5.0, lags)
        return np.mean(np.arctanh(np.clip(np.nanmax(np.abs(r), axis=1), 0, 1 - 1e-12)))

    n = sig["time"].size
    shifts = np.linspace(100 * 4, n - 100 * 4, 19).astype(int)
    for mod in ("hr", "eda"):
        x, y = sig[mod]["client"], sig[mod]["therapist"]
        observed = stat(x, y)
        null = [stat(x, np.roll(y, s)) for s in shifts]
        assert observed > max(null), f"{mod}: observed {observed:.3f}, shifted {max(null):.3f}"


def test_ratings_rise_in_coupled_segments(committed_truth, full_signals):
    """Each rater's dial sits well above its uncoupled level on every segment's plateau.

    Tolerance: the planted rises are 12-30 points against a slow wander of SD 7-8,
    so a plateau (after the reaction delay and the 8-s rise) sits at least 8 points
    above the median of the uncoupled time.
    """
    truth, sig = committed_truth, full_signals
    t = sig["rating_time"] + 0.5
    segs = [s["video_s"] for s in truth["coupled_segments"]]
    for role, react in (("client", 3.0), ("therapist", 4.5)):
        r = sig["rating"][role]
        assert np.array_equal(np.round(r, 1), r) and r.min() >= 0 and r.max() <= 100
        outside = np.ones(t.size, bool)
        for a, b in segs:
            outside &= (t < a) | (t > b + react + 8)
        level = np.median(r[outside])
        for k, (a, b) in enumerate(segs):
            plateau = (t >= a + react + 8) & (t <= b + react)
            assert r[plateau].mean() - level > 8, f"{role}: no rise in coupled segment {k + 1}"
        stated = truth["ratings"][role]
        assert stated["mean_inside_coupled"] > stated["mean_outside_coupled"] + 10
        assert all(s["where"].startswith("coupled segment") for s in stated["top_helpful_30s"])
        assert stated["top_hindering_30s"][0]["where"].startswith("dip")
        # the stated top moments are what the committed rating file gives
        arr = np.loadtxt(SAMPLE / stated["file"], delimiter=",", skiprows=1)
        assert np.array_equal(arr[:, 1], r)
        best = stated["top_helpful_30s"][0]
        means = np.convolve(r, np.ones(30) / 30, mode="valid")
        assert best["start_s"] == float(np.argmax(means)) and best["mean_rating"] == pytest.approx(means.max(), abs=0.006)
    cong = np.corrcoef(sig["rating"]["client"], sig["rating"]["therapist"])[0, 1]
    assert cong == pytest.approx(truth["rating_congruence_r"], abs=0.0015)
    assert 0.2 < cong < 0.8, "the raters agree modestly, not perfectly"


# --------------------------------------------------------------------------- the pulse waveform and beats


def test_bvp_systolic_peaks_sit_on_the_true_beats(small):
    """Raw BVP maxima within one sample of each true beat; neurokit2 recovers the heart rate.

    The noiseless pulse peaks exactly at the beat; sampled at 64 Hz, the nearest
    sample is at most half a sample away (mean a quarter). Sensor noise (1 % of the
    pulse amplitude) can tip the flat top of the pulse to a neighbouring sample, so
    every raw maximum must lie within 2 samples (1/32 s) and their mean distance
    below half a sample. neurokit2 band-pass filters before peak finding, which moves
    the asymmetric pulse's peaks by about a sample more: 2 samples for its peaks.
    Heart rate from its peaks must match the true beats within 1 bpm on a clean
    2-min stretch.
    """
    nk = pytest.importorskip("neurokit2")
    out, truth = small
    sig = simulate_signals(**SMALL)
    dev = truth["devices"]["therapist"]
    _, fs, bvp = _parse_regular("BVP.csv", (out / "therapist/BVP.csv").read_text())
    tb = np.arange(bvp.size) / fs
    beats = sig["beats"]["therapist"] + dev["video_start_on_device_s"]  # on the therapist's device clock
    lo, hi = 100.0, 220.0  # inside the coupled segment: no wrist motion by construction
    true = beats[(beats > lo + 1) & (beats < hi - 1)]
    raw_err = []
    for b in true:
        i = np.flatnonzero(np.abs(tb - b) <= 0.15)
        raw_err.append(abs(tb[i[np.argmax(bvp[i])]] - b))
    raw_err = np.array(raw_err) * 64  # in samples
    assert raw_err.max() <= 2.0, f"a BVP maximum lies {raw_err.max():.2f} samples from its beat"
    assert raw_err.mean() < 0.5, f"BVP maxima lie {raw_err.mean():.2f} samples from their beats on average"
    sl = (tb >= lo) & (tb < hi)
    cleaned = nk.ppg_clean(bvp[sl], sampling_rate=64)
    found = tb[sl][nk.ppg_findpeaks(cleaned, sampling_rate=64)["PPG_Peaks"]]
    found = found[(found > lo + 1) & (found < hi - 1)]
    err = np.array([np.min(np.abs(true - f)) for f in found])
    assert np.all(err <= 2 / 64 + 1e-9), f"neurokit2 peak up to {err.max():.3f} s from a true beat"
    assert abs(found.size - true.size) <= 1
    hr_found, hr_true = 60 / np.diff(found).mean(), 60 / np.diff(true).mean()
    assert hr_found == pytest.approx(hr_true, abs=1.0)


def test_ibi_file_holds_the_true_beats(small):
    out, truth = small
    sig = simulate_signals(**SMALL)
    dev = truth["devices"]["client"]
    files = _export_texts(out / dev["path"])
    _, offset, ibi = _parse_ibi(files["IBI.csv"])
    beats = np.round((sig["beats"]["client"] + dev["video_start_on_device_s"]) * 64) / 64
    idx = np.searchsorted(beats, offset)
    assert np.allclose(beats[idx], offset, atol=1e-9), "every IBI offset is a true beat on the 1/64-s grid"
    assert np.allclose(beats[idx] - beats[idx - 1], ibi, atol=1e-9), "each interval ends at its beat"
    assert offset.size < 0.97 * np.sum((beats > 20) & (beats < dev["duration_s"])), "the device drops some beats"
    for a, b in dev["motion_stretches_device_s"]:
        assert not np.any((offset >= a) & (offset <= b)), "no beats are reported during wrist motion"


# --------------------------------------------------------------------------- options, errors, command line


def test_clock_drift_moves_the_therapist_tag(tmp_path):
    truth = simulate_session(tmp_path / "drift", therapist_drift_ppm=100.0, **SMALL)
    t = truth["devices"]["therapist"]
    expected = t["start_unix"] + 24.25 / (1 + 100e-6)
    assert t["tags_unix"][0] == pytest.approx(round(expected, 2), abs=1e-6)
    assert _parse_tags((tmp_path / "drift/therapist/tags.csv").read_text()) == t["tags_unix"]


@pytest.mark.parametrize("kwargs, field", [
    ({"coupled_segments": [(200.0, 100.0)]}, "coupled_segments"),
    ({"coupled_segments": [(100.0, 400.0)]}, "coupled_segments"),
    ({"coupling": 1.0}, "coupling"),
    ({"video_start_s": 10.0}, "video_start_s"),
    ({"duration_s": 10.0}, "duration_s"),
])
def test_bad_parameters_are_named(tmp_path, kwargs, field):
    args = {**SMALL, **kwargs}
    with pytest.raises(ConfigError, match=field):
        simulate_session(tmp_path / "bad", **args)
    assert not (tmp_path / "bad").exists(), "nothing is written when the parameters are wrong"


def test_command_line_small_session(tmp_path):
    assert main([str(tmp_path / "cli"), "--small"]) == 0
    truth = json.loads((tmp_path / "cli/truth.json").read_text(encoding="utf-8"))
    assert truth["generator"]["command"] == "python -m synchrony.simulate cli --duration 300"
    assert truth["video"]["duration_s"] == 300.0 and len(truth["coupled_segments"]) == 1
