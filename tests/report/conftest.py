"""A realistic fake session result tree (ARCHITECTURE.md section 6) for the report tests.

The numbers are synthetic but have the shapes and ranges of a real 20-minute session:
two modalities (hr, eda) on a 4 Hz grid, 30 s windows every 1 s, lags ±5 s in 0.25 s
steps (41 lags, 1171 windows), a video that starts 60 s into the recording and is
rated in 1 s bins, and a summary JSON with congruence, association and segments.
"""
from __future__ import annotations

import json

import numpy as np
import pytest
import xarray as xr

SESSION_ID = "dyad01_s05"
FS = 4.0
DURATION_S = 1200.0
WINDOW, STEP, MAX_LAG = 30.0, 1.0, 5.0
VIDEO_START_S = 60.0
VIDEO_S = 1080.0

CONFIG = """[session]
id = "dyad01_s05"

[client]
e4 = "client/1635148245_A00204.zip"

[therapist]
e4 = "therapist/"

[ratings]
client = "ratings_client.csv"
therapist = "ratings_therapist.csv"
start_tag = 1

[analysis]
modalities = ["hr", "eda"]
window = 30.0
step = 1.0
surrogates = 200
random_state = 1
"""

SUMMARY = {
    "session_id": SESSION_ID,
    "modalities": {
        "hr": {"mean_sync": 0.41, "p_value": 0.005, "effect_size": 3.2,
               "statistic": "mean_abs_z", "n_surrogates": 200, "n_windows": 2371},
        "eda": {"mean_sync": 0.27, "p_value": 0.18, "effect_size": 0.93,
                "statistic": "mean_abs_z", "n_surrogates": 200, "n_windows": 1158},
    },
    "congruence": {"r": 0.13, "p_naive": 0.004, "p_adjusted": 0.21, "t": 1.22, "df": 457},
    "association": {
        "client": {"hr": {"r": 0.31, "lag_s": 0.0, "p_adjusted": 0.02},
                   "eda": {"r": -0.07, "lag_s": 5.0, "p_adjusted": 0.64}},
        "therapist": {"hr": {"r": 0.12, "lag_s": 0.0, "p_adjusted": 0.33},
                      "eda": {"r": 0.05, "lag_s": 0.0, "p_adjusted": 0.81}},
    },
    "segments": {
        "client": {
            "helpful": [
                {"start_s": 310.0, "end_s": 340.0, "mean_rating": 82.0, "sync": {"hr": 0.9, "eda": 0.35}},
                {"start_s": 700.0, "end_s": 730.0, "mean_rating": 77.5, "sync": {"hr": 0.62, "eda": 0.21}},
                {"start_s": 95.0, "end_s": 125.0, "mean_rating": 71.25, "sync": {"hr": 0.44, "eda": None}},
            ],
            "hindering": [
                {"start_s": 520.0, "end_s": 550.0, "mean_rating": 18.5, "sync": {"hr": 0.12, "eda": 0.08}},
                {"start_s": 900.0, "end_s": 930.0, "mean_rating": 24.0, "sync": {"hr": 0.2, "eda": 0.3}},
            ],
        },
        "therapist": {
            "helpful": [
                {"start_s": 400.0, "end_s": 430.0, "mean_rating": 88.0, "sync": {"hr": 0.71, "eda": 0.4}},
            ],
            "hindering": [
                {"start_s": 610.0, "end_s": 640.0, "mean_rating": 12.0, "sync": {"hr": 0.05, "eda": 0.11}},
                {"start_s": 1000.0, "end_s": 1030.0, "mean_rating": 30.5, "sync": {"hr": 0.33, "eda": 0.19}},
            ],
        },
    },
}


def _smooth_walk(rng: np.random.Generator, n: int, scale: float, width: int) -> np.ndarray:
    walk = np.cumsum(rng.normal(0.0, scale, n + width))
    kernel = np.hanning(width)
    return np.convolve(walk, kernel / kernel.sum(), mode="valid")[:n]


def _signals(rng: np.random.Generator) -> xr.Dataset:
    n = int(DURATION_S * FS)
    t = np.arange(n) / FS
    base_hr = 8.0 * np.sin(2 * np.pi * t / 240.0) + _smooth_walk(rng, n, 0.3, 40)
    hr = np.vstack([
        74.0 + base_hr + rng.normal(0, 1.0, n),
        68.0 + np.roll(base_hr, 8) * 0.8 + rng.normal(0, 1.0, n),
    ])
    eda = np.vstack([
        2.0 + np.abs(_smooth_walk(rng, n, 0.02, 80)) + 0.3 * np.sin(2 * np.pi * t / 500.0) ** 2,
        4.5 + np.abs(_smooth_walk(rng, n, 0.03, 80)),
    ])
    hr_q = np.zeros((2, n), np.uint8)
    eda_q = np.zeros((2, n), np.uint8)
    bad = (t >= 300) & (t < 330)          # client HR artefact stretch
    hr_q[0, bad] = 1
    hr[0, (t >= 310) & (t < 320)] = np.nan  # part of it lost entirely
    bad = (t >= 800) & (t < 815)          # therapist EDA contact loss
    eda_q[1, bad] = 2
    eda[1, bad] = 0.01
    ds = xr.Dataset(
        {
            "hr": (("role", "time"), hr, {"units": "bpm"}),
            "eda": (("role", "time"), eda, {"units": "µS"}),
            "hr_quality": (("role", "time"), hr_q),
            "eda_quality": (("role", "time"), eda_q),
        },
        coords={"role": ["client", "therapist"], "time": t},
        attrs={"start_utc": "2021-10-25T07:51:00.000000Z", "fs": FS},
    )
    return ds


def _modality(rng: np.random.Generator, name: str, strength: float) -> xr.Dataset:
    centres = np.arange(WINDOW / 2, DURATION_S - WINDOW / 2 + 1e-9, STEP)
    lags = np.arange(-MAX_LAG, MAX_LAG + 1e-9, 1 / FS)
    lag0 = 2.0 * np.sin(2 * np.pi * centres / 300.0)
    amp = strength * (0.6 + 0.4 * np.sin(2 * np.pi * centres / 180.0))
    r = amp[:, None] * np.exp(-((lags[None, :] - lag0[:, None]) ** 2) / 6.0)
    r = r + rng.normal(0, 0.12, r.shape) - 0.15
    r = np.clip(r, -0.99, 0.99)
    if name == "hr":
        r[(centres > 285) & (centres < 330)] = np.nan  # windows over the lost stretch
    r[:, :2][centres < 40] = np.nan                    # y-span leaves the series
    peak_idx = np.nanargmax(np.where(np.isnan(r), -np.inf, np.abs(r)), axis=1)
    peak_r = r[np.arange(r.shape[0]), peak_idx]
    peak_lag = lags[peak_idx].astype(float)
    all_nan = np.all(np.isnan(r), axis=1)
    peak_r[all_nan] = np.nan
    peak_lag[all_nan] = np.nan
    sync = np.arctanh(np.clip(np.abs(peak_r), 0, 1 - 1e-12))
    null_lo = 0.15 + rng.normal(0, 0.02, centres.size)
    null_hi = 0.75 + rng.normal(0, 0.03, centres.size)
    n_valid = np.where(all_nan, 0, int(WINDOW * FS)).astype(np.int64)
    summ = SUMMARY["modalities"][name]
    return xr.Dataset(
        {
            "r": (("time", "lag"), r),
            "peak_r": ("time", peak_r),
            "peak_lag": ("time", peak_lag, {"units": "s"}),
            "sync": ("time", sync),
            "null_lo": ("time", null_lo),
            "null_hi": ("time", null_hi),
            "n_valid": ("time", n_valid),
        },
        coords={"time": centres, "lag": lags},
        attrs={
            "mean_sync": summ["mean_sync"], "p_value": summ["p_value"],
            "effect_size": summ["effect_size"], "statistic": summ["statistic"],
            "n_surrogates": summ["n_surrogates"], "n_windows": summ["n_windows"],
            "window": WINDOW, "step": STEP, "max_lag": MAX_LAG,
            "lag_convention": "positive lag: client leads, therapist follows",
        },
    )


def _aligned(rng: np.random.Generator, mods: dict[str, xr.Dataset]) -> xr.Dataset:
    t = np.arange(0.0, VIDEO_S, 1.0)
    client = np.clip(52 + 14 * np.sin(2 * np.pi * t / 400) + 0.5 * _smooth_walk(rng, t.size, 1.0, 20), 0, 100)
    therapist = np.clip(53 + 10 * np.cos(2 * np.pi * t / 330) + 0.5 * _smooth_walk(rng, t.size, 1.0, 20), 0, 100)
    data = {"rating_client": ("time", client), "rating_therapist": ("time", therapist)}
    for name, ds in mods.items():
        src_t = ds["time"].values
        sync = ds["sync"].values
        idx = np.clip(np.searchsorted(src_t, t + VIDEO_START_S), 0, src_t.size - 1)
        data[f"sync_{name}"] = ("time", sync[idx])
        data[f"n_windows_{name}"] = ("time", np.isfinite(sync[idx]).astype(np.int64))
    return xr.Dataset(data, coords={"time": t},
                      attrs={"video_start_s": VIDEO_START_S, "bin_s": 1.0})


def build_tree(
    *,
    session_id: str = SESSION_ID,
    modalities_attr=("hr", "eda"),
    with_aligned: bool = True,
    summary: dict | None = None,
    warnings=("client EDA: 1.3% of samples flagged invalid (contact loss)",
              "ratings: therapist file ends 4 s before the video"),
    seed: int = 7,
) -> xr.DataTree:
    """Build a fake result tree; keyword switches drop or change parts of it."""
    rng = np.random.default_rng(seed)
    mods = {"hr": _modality(rng, "hr", 0.8), "eda": _modality(rng, "eda", 0.5)}
    summary = json.loads(json.dumps(SUMMARY)) if summary is None else summary
    summary["session_id"] = session_id
    root_attrs = {
        "session_id": session_id,
        "synchrony_version": "0.1.0",
        "config": CONFIG,
        "created_utc": "2026-01-02T03:04:05Z",
        "modalities": list(modalities_attr) if not isinstance(modalities_attr, str) else modalities_attr,
        "client_device": "Empatica E4 A00204",
        "therapist_device": "Empatica E4 A01F33",
    }
    if warnings is not None:
        root_attrs["warnings"] = list(warnings) if not isinstance(warnings, str) else warnings
    groups = {
        "/": xr.Dataset(attrs=root_attrs),
        "/signals": _signals(rng),
        "/summary": xr.Dataset(attrs={"json": json.dumps(summary)}),
    }
    groups.update({f"/{k}": v for k, v in mods.items()})
    if with_aligned:
        groups["/aligned"] = _aligned(rng, mods)
    return xr.DataTree.from_dict(groups)


@pytest.fixture(scope="session")
def result_tree() -> xr.DataTree:
    """The full fake session (read-only: copy before changing it)."""
    return build_tree()


@pytest.fixture
def make_tree():
    """The builder, for tests that need a changed tree."""
    return build_tree
