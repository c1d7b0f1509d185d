"""Simulate a client–therapist session with planted, stated ground truth.

:func:`simulate_session` writes a complete, realistic dyad session in the files a
lab would have after a recorded psychotherapy session:

- ``client/<start>_<device>.zip``: the client's Empatica E4 export, zipped as E4
  Connect delivers it (``EDA.csv`` 4 Hz, ``BVP.csv`` 64 Hz, ``HR.csv`` 1 Hz from
  +10 s, ``TEMP.csv`` 4 Hz, ``ACC.csv`` 32 Hz, ``IBI.csv`` beats, ``tags.csv``);
- ``therapist/``: the therapist's E4 export as an unzipped folder (the session
  config accepts both), started some seconds after the client's device;
- ``ratings_client.csv``, ``ratings_therapist.csv``: each rater's dial
  (``time,rating``; 1-s bins from the video start, 0–100);
- ``session.toml`` in the shape of ARCHITECTURE.md section 6 (the video start is
  the client's first E4 tag, ``start_tag = 1``);
- ``truth.json`` (the machine-readable truth) and ``README.md`` (the same truth
  for people).

The model, on one true clock (seconds from the client's device start):

**Heart rate.** Each person's instantaneous heart rate is a baseline plus a slow
drift (0.001–0.005 Hz), respiratory sinus arrhythmia (a sinusoid at a slowly
varying breathing rate) and a band-limited fluctuation (0.02–0.15 Hz, unit
variance scaled to a few bpm). Inside the *coupled segments* the therapist's
fluctuation is ``w·c·z_client(t − lag) + sqrt(1 − (w·c)²)·z_therapist(t)``, with
``c = coupling`` and ``w`` an envelope that is 1 inside the segment and falls
to 0 over ``ramp_s`` seconds (raised cosine) outside it; elsewhere the two
fluctuations are independent. Beats are the instants where the integrated heart
rate (cycles) crosses an integer; the PPG (BVP) waveform has its systolic peaks at
those instants.

**Skin conductance.** A tonic level (1–10 µS) with slow drift plus phasic skin
conductance responses: each response is the biexponential
``exp(−t/3.0) − exp(−t/0.75)`` (normalised to a peak of 1, peak 1.39 s after its
onset) scaled by its amplitude. Each person has their own responses (Poisson,
2.5–3 per minute); inside a coupled segment the client has, in addition, a
train of *shared* responses (one every 4 + Exp(6) s) which the therapist
reproduces ``lag_s`` later with ``coupling × (55–100 %)`` of the amplitude, while
both persons' own responses drop to ``1 − coupling`` of their usual rate (with
``coupling = 0`` the client's arousal stays but the therapist does not share it).

**Dial ratings.** Each rater's dial wanders slowly around about 50, rises by
20–30 points (client) or 12–22 (therapist) in every coupled segment after a
human reaction delay, and dips by 20–28 points for 40 s at two planted
hindering moments outside them.

**Lag sign** (ARCHITECTURE.md section 4): a positive ``lag_s`` means the client
(``x``) leads and the therapist (``y``) follows: ``therapist(t + lag) ≈
client(t)``, so a windowed cross-correlation of client against therapist peaks at
``+lag_s``.

Everything is drawn from :func:`numpy.random.default_rng` seeded with the seed and
a fixed key per component, so the same arguments give byte-identical files.
The committed ``sample_recordings/`` were made with::

    python -m synchrony.simulate sample_recordings

and a quick small session (300 s) for tests with
``simulate_session(path, **SMALL)``.

>>> import tempfile
>>> truth = simulate_session(tempfile.mkdtemp(), **SMALL)
>>> truth["lag_s"], [s["video_s"] for s in truth["coupled_segments"]]
(2.0, [[100.0, 200.0]])
"""
from __future__ import annotations

import argparse
import hashlib
import io
import json
import logging
import math
import zipfile
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path

import numpy as np

from .errors import ConfigError
from .recording import utc_from_unix

__all__ = [
    "simulate_session",
    "simulate_signals",
    "default_segments",
    "render_readme",
    "file_digests",
    "DEFAULT_SEED",
    "SMALL",
    "main",
]

logger = logging.getLogger("synchrony")

DEFAULT_SEED = 20211025
"""Seed of the committed ``sample_recordings/``."""

DEFAULT_SEGMENTS_1500 = ((150.0, 300.0), (480.0, 600.0), (780.0, 960.0), (1180.0, 1300.0))
"""Coupled segments (video clock, seconds) of the default 1500-s session."""

SMALL = {"duration_s": 300.0}
"""Keyword arguments of the fast small session: 5 min, one coupled segment [100, 200] s."""

SESSION_ID = "demo_dyad01"
FS_SIM = 64.0  # the true clock's grid (Hz); every device rate divides it
_PAD_S = 60.0  # simulated margin before the first and after the last device sample

# components of the random stream: default_rng([seed, component, role])
_KEYS = {"hr": 1, "eda": 2, "beats": 3, "ppg": 4, "ibi": 5, "temp": 6, "acc": 7, "motion": 8,
         "rating": 9, "shared": 10, "noise": 11}
_ROLES = ("client", "therapist")


@dataclass(frozen=True)
class _Person:
    """Fixed physiology of one simulated person (documented in the README)."""

    device_id: str
    hr_base: float  # bpm
    hr_drift_sd: float  # bpm, 0.001-0.005 Hz
    hr_fluct_sd: float  # bpm, 0.02-0.15 Hz (the component that couples)
    rsa_amp: float  # bpm, amplitude of the respiratory sinusoid
    resp_hz: float  # mean breathing rate
    eda_tonic: float  # µS
    eda_drift_sd: float  # µS
    scr_rate: float  # own responses per minute
    scr_amp: float  # median amplitude of own responses, µS
    ppg_amp: float  # a.u.
    temp_c: float  # °C
    gravity: tuple[int, int, int]  # resting wrist orientation, 1/64 g
    rating_base: float
    rating_wander_sd: float
    rating_rise: tuple[float, float]  # range of the rise in coupled segments, points
    reaction_s: float  # dial reaction delay, s
    dip_s: float  # length of a planted dip, s


PEOPLE = {
    "client": _Person("A00204", 81.0, 2.5, 4.5, 2.0, 0.27, 4.5, 0.20, 3.0, 0.20, 60.0, 33.6,
                      (-9, 21, 59), 52.0, 7.0, (20.0, 30.0), 3.0, 40.0),
    "therapist": _Person("A0157C", 72.0, 2.0, 4.0, 1.5, 0.22, 2.5, 0.15, 2.5, 0.15, 42.0, 33.1,
                         (12, -17, 60), 50.0, 8.0, (12.0, 22.0), 4.5, 40.0),
}


# --------------------------------------------------------------------------- helpers


def _rng(seed: int, component: str, role: str | None = None) -> np.random.Generator:
    return np.random.default_rng([int(seed), _KEYS[component], 0 if role is None else 1 + _ROLES.index(role)])


def _bandlimited(rng: np.random.Generator, n: int, fs: float, lo: float, hi: float) -> np.ndarray:
    """Gaussian noise with a flat spectrum in [lo, hi] Hz (cosine edges), mean 0, SD 1."""
    spec = np.fft.rfft(rng.standard_normal(n))
    f = np.fft.rfftfreq(n, 1.0 / fs)
    gain = np.ones_like(f)
    edge_lo, edge_hi = 0.5 * lo, 0.25 * hi
    gain[f < lo - edge_lo] = 0.0
    m = (f >= lo - edge_lo) & (f < lo)
    gain[m] = 0.5 - 0.5 * np.cos(np.pi * (f[m] - (lo - edge_lo)) / edge_lo) if edge_lo > 0 else 1.0
    m = (f > hi) & (f <= hi + edge_hi)
    gain[m] = 0.5 + 0.5 * np.cos(np.pi * (f[m] - hi) / edge_hi)
    gain[f > hi + edge_hi] = 0.0
    gain[0] = 0.0
    x = np.fft.irfft(spec * gain, n)
    return (x - x.mean()) / x.std()


def _envelope(t: np.ndarray, segments, ramp_s: float) -> np.ndarray:
    """1 inside every segment, raised-cosine fall to 0 over ``ramp_s`` outside it."""
    w = np.zeros_like(t)
    for a, b in segments:
        d = np.maximum(a - t, t - b)  # distance outside the segment (<= 0 inside)
        if ramp_s > 0:
            v = np.where(d <= 0, 1.0, 0.5 + 0.5 * np.cos(np.pi * np.clip(d, 0.0, ramp_s) / ramp_s))
        else:
            v = (d <= 0).astype(float)
        w = np.maximum(w, v)
    return w


def _rise(t: np.ndarray, a: float, b: float, ramp_s: float) -> np.ndarray:
    """0 before ``a``, raised-cosine rise to 1 over ``ramp_s``, 1 until ``b``, fall to 0 over ``ramp_s``."""
    up = np.clip((t - a) / ramp_s, 0.0, 1.0)
    down = np.clip((b + ramp_s - t) / ramp_s, 0.0, 1.0)
    return (0.5 - 0.5 * np.cos(np.pi * up)) * (0.5 - 0.5 * np.cos(np.pi * down))


_SCR_TAU_RISE, _SCR_TAU_DECAY = 0.75, 3.0
_SCR_PEAK_T = math.log(_SCR_TAU_DECAY / _SCR_TAU_RISE) * _SCR_TAU_RISE * _SCR_TAU_DECAY / (_SCR_TAU_DECAY - _SCR_TAU_RISE)
_SCR_NORM = math.exp(-_SCR_PEAK_T / _SCR_TAU_DECAY) - math.exp(-_SCR_PEAK_T / _SCR_TAU_RISE)


def _add_scrs(out: np.ndarray, t0: float, fs: float, onsets: np.ndarray, amps: np.ndarray) -> None:
    """Add biexponential skin conductance responses (onset times, amplitudes in µS) to ``out``."""
    span = int(40.0 * fs)
    for onset, amp in zip(onsets, amps):
        i0 = max(int(math.ceil((onset - t0) * fs)), 0)
        i1 = min(i0 + span, out.size)
        if i1 <= i0:
            continue
        tau = t0 + np.arange(i0, i1) / fs - onset
        out[i0:i1] += amp * (np.exp(-tau / _SCR_TAU_DECAY) - np.exp(-tau / _SCR_TAU_RISE)) / _SCR_NORM


def _poisson_events(rng: np.random.Generator, rate_per_s: np.ndarray, t: np.ndarray, dt: float,
                    median: float, sigma: float) -> tuple[np.ndarray, np.ndarray]:
    """Onsets and log-normal amplitudes of an inhomogeneous Poisson process on grid ``t``.

    Every grid step draws the same random numbers whatever the rate, so changing the
    rate in one stretch leaves the events everywhere else exactly as they were.
    """
    hit_u, jitter = rng.random(t.size), rng.random(t.size)
    amps = np.exp(rng.normal(np.log(median), sigma, t.size))
    hit = hit_u < rate_per_s * dt
    return t[hit] + jitter[hit] * dt, amps[hit]


def default_segments(duration_s: float) -> tuple[tuple[float, float], ...]:
    """The coupled segments used when none are given (video clock, seconds).

    Sessions of 1400 s or more get the four segments of :data:`DEFAULT_SEGMENTS_1500`
    (those that end before ``duration_s`` − 60 s); shorter ones a single segment over
    the middle third.

    >>> default_segments(300.0)
    ((100.0, 200.0),)
    >>> len(default_segments(1500.0))
    4
    """
    if duration_s >= 1400.0:
        return tuple(s for s in DEFAULT_SEGMENTS_1500 if s[1] <= duration_s - 60.0)
    third = round(duration_s / 3.0)
    return ((float(third), float(round(2 * duration_s / 3.0))),)


def _gaps(segments, lo: float, hi: float, margin: float) -> list[tuple[float, float]]:
    """Stretches of [lo, hi] at least ``margin`` away from every segment."""
    out, cur = [], lo
    for a, b in sorted(segments):
        if a - margin > cur:
            out.append((cur, a - margin))
        cur = max(cur, b + margin)
    if hi > cur:
        out.append((cur, hi))
    return out


def _windowed_r(x: np.ndarray, y: np.ndarray, fs: float, window_s: float, step_s: float, lags_s) -> np.ndarray:
    """Plain windowed Pearson r of ``x[t:t+W]`` with ``y[t+τ:t+τ+W]`` (ARCHITECTURE.md section 4).

    Returns (windows, lags); cells whose y-span leaves the series are NaN. Used to
    state the truth; the package's kernel is :func:`synchrony.wcc`.
    """
    w, s = int(round(window_s * fs)), int(round(step_s * fs))
    starts = np.arange(0, x.size - w + 1, s)
    out = np.full((starts.size, len(lags_s)), np.nan)
    xs = np.lib.stride_tricks.sliding_window_view(x, w)[starts]
    xs = xs - xs.mean(axis=1, keepdims=True)
    yv = np.lib.stride_tricks.sliding_window_view(y, w)
    for j, lag in enumerate(lags_s):
        tau = int(round(lag * fs))
        ok = (starts + tau >= 0) & (starts + tau + w <= y.size)
        ys = yv[starts[ok] + tau]
        ys = ys - ys.mean(axis=1, keepdims=True)
        xo = xs[ok]
        out[ok, j] = (xo * ys).sum(1) / np.sqrt((xo * xo).sum(1) * (ys * ys).sum(1))
    return out


# --------------------------------------------------------------------------- the model


@dataclass
class _Sim:
    """Everything simulated, on the true clock ``u`` (seconds from the client's device start)."""

    params: dict
    u: np.ndarray  # 64-Hz grid
    hr: dict  # role -> bpm on u
    eda: dict  # role -> µS on u
    resp_phase: dict  # role -> radians on u
    beats: dict  # role -> true instants (u) of every beat
    motion: dict  # role -> list of (u0, u1) stretches of wrist motion
    ratings: dict  # role -> 0..100 per 1-s bin of the video
    rating_time: np.ndarray
    dips: dict  # role -> list of (v0, v1)
    rises: dict  # role -> list of points per segment
    devices: dict  # role -> dict(offset_u, duration_s, start_unix, drift)


def _check(params: dict) -> None:
    d = params["duration_s"]
    if not (60.0 <= d <= 4 * 3600.0):
        raise ConfigError(f"simulate_session: parameter 'duration_s' must be between 60 and 14400 s; found {d!r}")
    if not (0.0 <= params["coupling"] < 1.0):
        raise ConfigError(f"simulate_session: parameter 'coupling' must lie in [0, 1); found {params['coupling']!r}")
    if abs(params["lag_s"]) > 10.0:
        raise ConfigError(f"simulate_session: parameter 'lag_s' must lie within ±10 s; found {params['lag_s']!r}")
    if params["video_start_s"] <= max(params["therapist_offset_s"], 0.0) or params["therapist_offset_s"] < 0:
        raise ConfigError(
            "simulate_session: the video must start after both devices: 'video_start_s' "
            f"({params['video_start_s']!r}, client device clock) must exceed 'therapist_offset_s' "
            f"({params['therapist_offset_s']!r}, which must be >= 0)")
    prev = -math.inf
    for a, b in params["coupled_segments"]:
        if not (0.0 <= a < b <= d) or a < prev:
            raise ConfigError(
                f"simulate_session: parameter 'coupled_segments' must be sorted, non-overlapping (start, end) "
                f"pairs within [0, {d:g}] s of the video; found {params['coupled_segments']!r}")
        prev = b


def _simulate(params: dict) -> _Sim:
    seed, d, lag, c = params["seed"], params["duration_s"], params["lag_s"], params["coupling"]
    v0 = params["video_start_s"]  # video start on the true clock
    segs_v = [tuple(map(float, s)) for s in params["coupled_segments"]]
    segs_u = [(a + v0, b + v0) for a, b in segs_v]
    ramp = params["ramp_s"]
    devices = {
        "client": {"offset_u": 0.0, "end_u": v0 + d + params["client_tail_s"], "drift": 0.0},
        "therapist": {"offset_u": params["therapist_offset_s"], "end_u": v0 + d + params["therapist_tail_s"],
                      "drift": params["therapist_drift_ppm"] * 1e-6},
    }
    for role, dev in devices.items():
        dev["start_unix"] = params["client_start_unix"] + dev["offset_u"]
        # device sample times are k/fs on the device clock; the device runs for a whole number of 1/64 s
        dev["duration_s"] = math.floor((dev["end_u"] - dev["offset_u"]) / (1 + dev["drift"]) * FS_SIM) / FS_SIM
    u_lo, u_hi = -_PAD_S, max(dev["end_u"] for dev in devices.values()) + _PAD_S
    n = int(round((u_hi - u_lo) * FS_SIM)) + 1
    u = u_lo + np.arange(n) / FS_SIM
    w = _envelope(u, segs_u, ramp)

    hr, eda, resp_phase, beats = {}, {}, {}, {}
    z = {}
    for role in _ROLES:
        p = PEOPLE[role]
        g = _rng(seed, "hr", role)
        z[role] = _bandlimited(g, n, FS_SIM, 0.02, 0.15)
        drift = p.hr_drift_sd * _bandlimited(g, n, FS_SIM, 0.001, 0.005)
        resp_hz = p.resp_hz + 0.02 * _bandlimited(g, n, FS_SIM, 0.002, 0.01)
        resp_phase[role] = g.uniform(0, 2 * np.pi) + 2 * np.pi * np.cumsum(resp_hz) / FS_SIM
        hr[role] = p.hr_base + drift + p.rsa_amp * np.sin(resp_phase[role])
    # the therapist's fluctuation follows the client's by `lag` inside the coupled segments
    z_c_lagged = np.interp(u - lag, u, z["client"])
    wc = w * c
    hr["client"] = hr["client"] + PEOPLE["client"].hr_fluct_sd * z["client"]
    hr["therapist"] = hr["therapist"] + PEOPLE["therapist"].hr_fluct_sd * (wc * z_c_lagged + np.sqrt(1 - wc**2) * z["therapist"])

    # skin conductance: tonic + own responses + shared responses in coupled segments
    gs = _rng(seed, "shared")
    shared_on, shared_amp = [], []
    for a, b in segs_u:
        t = a + gs.uniform(0.0, 4.0)
        while t < b:
            shared_on.append(t)
            shared_amp.append(float(np.exp(gs.normal(np.log(0.35), 0.35))))
            t += 4.0 + gs.exponential(6.0)
    shared_on, shared_amp = np.array(shared_on), np.array(shared_amp)
    shared_gain = c * gs.uniform(0.55, 1.0, shared_on.size)  # 0.5-0.9 at the default coupling 0.9
    inside = _envelope(u, segs_u, 0.0) > 0
    for role in _ROLES:
        p = PEOPLE[role]
        g = _rng(seed, "eda", role)
        x = p.eda_tonic + p.eda_drift_sd * _bandlimited(g, n, FS_SIM, 0.0005, 0.003)
        x = x - 0.15 * p.eda_tonic * (u - u_lo) / (u_hi - u_lo)  # slow habituation over the session
        rate = np.where(inside, (1.0 - c), 1.0) * p.scr_rate / 60.0
        onsets, amps = _poisson_events(g, rate, u, 1.0 / FS_SIM, p.scr_amp, 0.5)
        _add_scrs(x, u_lo, FS_SIM, onsets, amps)
        if role == "client":
            _add_scrs(x, u_lo, FS_SIM, shared_on, shared_amp)
        else:
            _add_scrs(x, u_lo, FS_SIM, shared_on + lag, shared_amp * shared_gain)
        eda[role] = x

    # beats: the integrated heart rate (cycles) crosses an integer
    for role in _ROLES:
        g = _rng(seed, "beats", role)
        phase = g.uniform(0, 1) + np.concatenate([[0.0], np.cumsum(0.5 * (hr[role][1:] + hr[role][:-1]) / 60.0 / FS_SIM)])
        k = np.arange(math.ceil(phase[0]), math.floor(phase[-1]) + 1)
        beats[role] = np.interp(k, phase, u)

    # wrist motion (beats dropped by the device, accelerometer bursts), away from coupled segments
    motion = {}
    for role in _ROLES:
        g = _rng(seed, "motion", role)
        dev = devices[role]
        lo, hi = dev["offset_u"] + 20.0, dev["offset_u"] + dev["duration_s"] - 10.0
        gaps = [gp for gp in _gaps(segs_u, lo, hi, 45.0) if gp[1] - gp[0] > 60.0]
        stretches = []
        for _ in range(200):
            if len(stretches) == params["motion_stretches"] or not gaps:
                break
            a, b = gaps[int(g.integers(len(gaps)))]
            length = float(np.round(g.uniform(15.0, 45.0), 2))
            start = float(np.round(g.uniform(a, max(a, b - length)), 2))
            if start + length <= b and all(start > y + 20 or start + length < x - 20 for x, y in stretches):
                stretches.append((start, start + length))
        motion[role] = sorted(stretches)

    # dial ratings, 1-s bins on the video clock (value at the bin centre)
    rt = np.arange(int(math.floor(d)), dtype=float)
    tc = rt + 0.5
    gaps_v = sorted(_gaps(segs_v, 0.0, d, 20.0), key=lambda gp: (-(gp[1] - gp[0]), gp[0]))
    gaps_v = [gp for gp in gaps_v if gp[1] - gp[0] >= 60.0]
    picks = {"client": (0, 2), "therapist": (1, 2)}
    ratings, dips, rises = {}, {}, {}
    for role in _ROLES:
        p = PEOPLE[role]
        g = _rng(seed, "rating", role)
        wander = p.rating_wander_sd * _bandlimited(g, rt.size + 200, 1.0, 0.0, 0.01)[100:-100]
        r = p.rating_base + wander
        rises[role] = [float(np.round(g.uniform(*p.rating_rise), 1)) for _ in segs_v]
        for (a, b), amp in zip(segs_v, rises[role]):
            r = r + amp * _rise(tc, a + p.reaction_s, b + p.reaction_s, 8.0)
        dips[role] = []
        for i in picks[role]:
            if i < len(gaps_v):
                a, b = gaps_v[i]
                mid = round(0.5 * (a + b))
                dip = (float(mid - p.dip_s / 2), float(mid + p.dip_s / 2))
                depth = float(np.round(g.uniform(20.0, 28.0), 1))
                dips[role].append(dip + (depth,))
                r = r - depth * _rise(tc, dip[0], dip[1] - 5.0, 5.0)
        ratings[role] = np.clip(np.round(r + g.normal(0, 0.4, r.size), 1), 0.0, 100.0)
    return _Sim(params, u, hr, eda, resp_phase, beats, motion, ratings, rt, dips, rises, devices)


# --------------------------------------------------------------------------- device files


def _fmt_header(start: float, fs: float, ncols: int = 1) -> str:
    return ", ".join([f"{start:.6f}"] * ncols) + "\n" + ", ".join([f"{fs:.6f}"] * ncols) + "\n"


def _column(values: np.ndarray, decimals: int) -> str:
    out = np.char.mod(f"%.{decimals}f", np.asarray(values, dtype=np.float64))
    out[out == "-0." + "0" * decimals] = "0." + "0" * decimals
    return "\n".join(out.tolist()) + "\n"


def _device_files(sim: _Sim, role: str) -> dict[str, str]:
    """The E4 export of one person as ``{file name: text}``."""
    p, dev, seed = PEOPLE[role], sim.devices[role], sim.params["seed"]
    start, off, drift, dur = dev["start_unix"], dev["offset_u"], dev["drift"], dev["duration_s"]

    def true_time(fs: float) -> tuple[np.ndarray, np.ndarray]:
        s = np.arange(int(math.floor(dur * fs + 1e-9))) / fs
        return s, off + s * (1.0 + drift)

    def on_device(u_true):
        return (np.asarray(u_true) - off) / (1.0 + drift)

    in_motion = {}
    for fs in (4.0, 32.0, 64.0):
        _, ut = true_time(fs)
        m = np.zeros(ut.size, bool)
        for a, b in sim.motion[role]:
            m |= (ut >= a) & (ut < b)
        in_motion[fs] = m
    gn = _rng(seed, "noise", role)
    files = {}

    # EDA, 4 Hz: the first samples are 0 while the electrodes settle, then a fast rise
    s, ut = true_time(4.0)
    x = np.interp(ut, sim.u, sim.eda[role]) + gn.normal(0.0, 0.003, ut.size)
    x = x * (1.0 - np.exp(-np.clip(s - 1.5, 0.0, None) / 0.8))
    x[s < 1.5] = 0.0
    files["EDA.csv"] = _fmt_header(start, 4.0) + _column(np.maximum(x, 0.0), 6)

    # BVP, 64 Hz: one pulse per beat, systolic peak at the beat instant
    s, ut = true_time(64.0)
    b_all = on_device(sim.beats[role])
    gp = _rng(seed, "ppg", role)
    amp = p.ppg_amp * (1.0 + 0.1 * np.sin(np.interp(sim.beats[role], sim.u, sim.resp_phase[role]))) \
        * np.exp(gp.normal(0.0, 0.05, b_all.size))
    y = np.zeros(s.size)
    for k in range(1, b_all.size - 1):
        bk = b_all[k]
        if bk < -2.0 or bk > dur + 2.0:
            continue
        period = b_all[k + 1] - bk
        i0 = max(int(math.ceil((bk - 0.45 * period) * 64.0)), 0)
        i1 = min(int(math.floor((bk + 1.0 * period) * 64.0)) + 1, s.size)
        if i1 <= i0:
            continue
        tau = s[i0:i1] - bk
        sig = np.where(tau < 0, 0.07 * period, 0.14 * period)
        pulse = np.exp(-0.5 * (tau / sig) ** 2) + 0.38 * np.exp(-0.5 * ((tau - 0.45 * period) / (0.1 * period)) ** 2)
        y[i0:i1] += amp[k] * pulse
    y -= 0.33 * p.ppg_amp  # AC-coupled around 0, as the device writes it
    resp = np.interp(ut, sim.u, sim.resp_phase[role])
    y += 0.08 * p.ppg_amp * np.sin(resp) + 0.05 * p.ppg_amp * _bandlimited(gp, s.size, 64.0, 0.005, 0.05)
    y += gp.normal(0.0, 0.01 * p.ppg_amp, s.size)
    mot = in_motion[64.0]
    if mot.any():
        y[mot] += 0.4 * p.ppg_amp * _bandlimited(gp, s.size, 64.0, 0.3, 3.0)[mot]
    files["BVP.csv"] = _fmt_header(start, 64.0) + _column(y, 2)

    # HR, 1 Hz from +10 s: mean of the beat-to-beat rate over the last 8 s
    b = b_all[(b_all > -10.0) & (b_all < dur + 1.0)]
    inst = 60.0 / np.diff(b)
    tb = b[1:]
    th = 10.0 + np.arange(int(math.floor(dur - 10.0)) + 1)
    th = th[th < dur]
    hrv = np.array([inst[(tb > t - 8.0) & (tb <= t)].mean() for t in th])
    files["HR.csv"] = _fmt_header(start + 10.0, 1.0) + _column(hrv, 2)

    # TEMP, 4 Hz: skin warms up under the strap, then drifts slowly
    s, ut = true_time(4.0)
    gt = _rng(seed, "temp", role)
    temp = p.temp_c - 2.5 * np.exp(-s / 150.0) + 0.15 * _bandlimited(gt, s.size, 4.0, 0.0005, 0.005)
    temp += gt.normal(0.0, 0.01, s.size)
    files["TEMP.csv"] = _fmt_header(start, 4.0) + _column(temp, 2)

    # ACC, 32 Hz, integer 1/64 g: resting orientation, small tremor, bursts in motion
    s, ut = true_time(32.0)
    ga = _rng(seed, "acc", role)
    acc = np.empty((s.size, 3))
    for j in range(3):
        acc[:, j] = p.gravity[j] + 2.0 * _bandlimited(ga, s.size, 32.0, 0.001, 0.02) + ga.normal(0.0, 0.6, s.size)
        mot = in_motion[32.0]
        if mot.any():
            acc[mot, j] += 18.0 * _bandlimited(ga, s.size, 32.0, 0.5, 3.0)[mot]
    acc = np.clip(np.round(acc), -128, 127).astype(int)
    files["ACC.csv"] = _fmt_header(start, 32.0, 3) + "\n".join(f"{a},{b_},{c_}" for a, b_, c_ in acc.tolist()) + "\n"

    # IBI: beats on the device's 1/64-s grid; none in the first seconds, in motion, or some isolated drops
    gi = _rng(seed, "ibi", role)
    q = np.round(b_all * 64.0) / 64.0
    ibi = np.diff(q)
    tq = q[1:]
    keep = (tq > gi.uniform(8.0, 20.0)) & (tq < dur) & (q[:-1] >= 0.0)
    for a, bb in sim.motion[role]:
        da, db = on_device(a) - 2.0, on_device(bb) + 2.0
        keep &= ~((tq >= da) & (tq <= db))
    keep &= gi.random(tq.size) >= 0.03
    files["IBI.csv"] = f"{start:.6f}, IBI\n" + "".join(f"{t:.6f},{i:.6f}\n" for t, i in zip(tq[keep], ibi[keep]))

    # tags: the client presses at the video start and at its end; the therapist at the video start
    tags = [sim.params["video_start_s"]]
    if role == "client":
        tags.append(sim.params["video_start_s"] + sim.params["duration_s"])
    files["tags.csv"] = "".join(f"{start + on_device(t):.2f}\n" for t in tags)
    files["info.txt"] = (
        "Simulated Empatica E4 export written by synchrony.simulate (not a real recording).\n"
        "Files and layout follow E4 Connect: row 1 start (UTC unix s), row 2 rate (Hz), samples after;\n"
        "ACC in 1/64 g (x, y, z); IBI rows are beat offset (s from start), interval (s); tags are UTC unix instants.\n"
    )
    return files


_FILE_ORDER = ("ACC.csv", "BVP.csv", "EDA.csv", "HR.csv", "IBI.csv", "TEMP.csv", "tags.csv", "info.txt")


def _write_zip(path: Path, files: dict[str, str], start_unix: float) -> None:
    stamp = datetime.fromtimestamp(int(start_unix), tz=timezone.utc).timetuple()[:6]
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        for name in _FILE_ORDER:
            info = zipfile.ZipInfo(name, date_time=stamp)
            info.compress_type = zipfile.ZIP_DEFLATED
            info.external_attr = 0o644 << 16
            info.create_system = 3
            zf.writestr(info, files[name].encode("ascii"), compresslevel=6)
    path.write_bytes(buf.getvalue())


# --------------------------------------------------------------------------- truth


def _top_segments(rating: np.ndarray, length: int, count: int, highest: bool) -> list[tuple[int, float]]:
    """Greedy non-overlapping ``length``-s windows with the highest (or lowest) mean rating."""
    means = np.convolve(rating, np.ones(length) / length, mode="valid")
    order = np.argsort(-means if highest else means, kind="stable")
    taken: list[tuple[int, float]] = []
    for i in order:
        if all(abs(int(i) - j) >= length for j, _ in taken):
            taken.append((int(i), float(means[i])))
            if len(taken) == count:
                break
    return taken


def simulate_signals(**kwargs) -> dict:
    """The true underlying series of a simulated session, on the video clock.

    Takes the keyword arguments of :func:`simulate_session` (except ``out_dir``) and
    returns, without writing anything, the noiseless physiology at ``fs`` Hz
    (default 4) from the video start to its end: ``{"time": seconds from the video
    start, "fs", "hr": {role: bpm}, "eda": {role: µS}, "rating_time",
    "rating": {role: 0–100}, "beats": {role: beat instants in seconds from the
    video start}, "params"}``. These are what the device files were made from
    (before sensor noise, quantisation and dropped beats).

    >>> sig = simulate_signals(**SMALL)
    >>> sig["time"][:3].tolist(), sorted(sig["hr"])
    ([0.0, 0.25, 0.5], ['client', 'therapist'])
    """
    fs = float(kwargs.pop("fs", 4.0))
    params = _params(**kwargs)
    return _signals(_simulate(params), fs)


def _signals(sim: _Sim, fs: float) -> dict:
    v0, d = sim.params["video_start_s"], sim.params["duration_s"]
    t = np.arange(int(math.floor(d * fs))) / fs
    return {
        "time": t,
        "fs": fs,
        "hr": {r: np.interp(t + v0, sim.u, sim.hr[r]) for r in _ROLES},
        "eda": {r: np.interp(t + v0, sim.u, sim.eda[r]) for r in _ROLES},
        "rating_time": sim.rating_time,
        "rating": dict(sim.ratings),
        "beats": {r: sim.beats[r] - v0 for r in _ROLES},
        "params": dict(sim.params),
    }


def _window_classes(times: np.ndarray, segments, window_s: float, ramp_s: float, lag_max: float):
    """Masks of windows [t, t+W) wholly inside a segment, and wholly clear of every segment."""
    inside = np.zeros(times.size, bool)
    outside = np.ones(times.size, bool)
    for a, b in segments:
        inside |= (times >= a) & (times + window_s <= b)
        outside &= (times + window_s + lag_max + ramp_s <= a) | (times - lag_max - ramp_s >= b)
    return inside, outside


def _expected(sig: dict, params: dict) -> dict:
    """Windowed correlations of the true series (30-s windows, 1-s step, lags ±5 s)."""
    fs, W, S, L = sig["fs"], 30.0, 1.0, 5.0
    lags = np.arange(-L, L + 0.5 / fs, 1.0 / fs)
    out = {}
    for mod in ("hr", "eda"):
        r = _windowed_r(sig[mod]["client"], sig[mod]["therapist"], fs, W, S, lags)
        starts = np.arange(r.shape[0]) * S
        ins, outs = _window_classes(starts, params["coupled_segments"], W, params["ramp_s"], L)
        j = int(np.argmin(np.abs(lags - params["lag_s"])))
        j0 = int(np.argmin(np.abs(lags)))
        peak = lags[np.nanargmax(r, axis=1)]
        peak_z = np.arctanh(np.clip(np.nanmax(np.abs(r), axis=1), 0.0, 1 - 1e-12))
        out[mod] = {
            "r_at_lag_inside_mean": round(float(np.nanmean(r[ins, j])), 3),
            "r_at_lag_inside_min": round(float(np.nanmin(r[ins, j])), 3),
            "r_at_lag_outside_mean": round(float(np.nanmean(r[outs, j])), 3),
            "abs_r_at_lag_outside_mean": round(float(np.nanmean(np.abs(r[outs, j]))), 3),
            "r_at_zero_lag_inside_mean": round(float(np.nanmean(r[ins, j0])), 3),
            "peak_lag_inside_median_s": float(np.median(peak[ins])),
            "peak_lag_inside_within_0.5s_fraction": round(float(np.mean(np.abs(peak[ins] - params["lag_s"]) <= 0.5)), 3),
            "peak_abs_z_inside_mean": round(float(np.mean(peak_z[ins])), 3),
            "peak_abs_z_outside_mean": round(float(np.mean(peak_z[outs])), 3),
            "peak_abs_z_session_mean": round(float(np.mean(peak_z)), 3),
            "n_windows_inside": int(ins.sum()),
            "n_windows_outside": int(outs.sum()),
        }
    return out


def _truth(sim: _Sim, sig: dict) -> dict:
    P = sim.params
    v0, d = P["video_start_s"], P["duration_s"]
    c0 = P["client_start_unix"]
    devices = {}
    for role in _ROLES:
        dev = sim.devices[role]
        start = dev["start_unix"]
        name = f"client/{int(start)}_{PEOPLE[role].device_id}.zip" if role == "client" else "therapist/"
        tags = [v0] + ([v0 + d] if role == "client" else [])
        devices[role] = {
            "device_id": PEOPLE[role].device_id,
            "path": name,
            "format": "zip" if role == "client" else "folder",
            "start_unix": start,
            "start_utc": utc_from_unix(start),
            "duration_s": dev["duration_s"],
            "end_utc": utc_from_unix(start + dev["duration_s"] * (1 + dev["drift"])),
            "offset_from_client_start_s": dev["offset_u"],
            "clock_drift_ppm": dev["drift"] * 1e6,
            "video_start_on_device_s": round((v0 - dev["offset_u"]) / (1 + dev["drift"]), 6),
            "tags_unix": [round(start + (t - dev["offset_u"]) / (1 + dev["drift"]), 2) for t in tags],
            "tags_meaning": ["video start"] + (["video end"] if role == "client" else []),
            "motion_stretches_device_s": [[round(a - dev["offset_u"], 2), round(b - dev["offset_u"], 2)]
                                          for a, b in sim.motion[role]],
        }
    segments = []
    for a, b in P["coupled_segments"]:
        segments.append({
            "video_s": [a, b],
            "client_device_s": [a + v0, b + v0],
            "therapist_device_s": [a + v0 - P["therapist_offset_s"], b + v0 - P["therapist_offset_s"]],
            "start_utc": utc_from_unix(c0 + v0 + a),
            "end_utc": utc_from_unix(c0 + v0 + b),
        })
    ratings = {}
    for role in _ROLES:
        r = sim.ratings[role]
        p = PEOPLE[role]
        helpful = _top_segments(r, 30, 3, True)
        hindering = _top_segments(r, 30, 3, False)

        def label(i: int) -> str:
            # the planted feature the 30-s window overlaps most, if by at least half the window
            spans = [(f"coupled segment {k + 1}", a + p.reaction_s, b + p.reaction_s)
                     for k, (a, b) in enumerate(P["coupled_segments"])]
            spans += [(f"dip {k + 1}", a, b) for k, (a, b, _) in enumerate(sim.dips[role])]
            best, most = "elsewhere", 15.0
            for name, a, b in spans:
                overlap = min(i + 30.0, b) - max(float(i), a)
                if overlap >= most:
                    best, most = name, overlap
            return best

        ratings[role] = {
            "file": f"ratings_{role}.csv",
            "mean": round(float(r.mean()), 2),
            "sd": round(float(r.std(ddof=1)), 2),
            "reaction_delay_s": p.reaction_s,
            "rise_points_per_segment": sim.rises[role],
            "dips_video_s": [{"start_s": a, "end_s": b, "depth": dp} for a, b, dp in sim.dips[role]],
            "top_helpful_30s": [{"start_s": float(i), "end_s": float(i + 30), "mean_rating": round(m, 2),
                                 "where": label(i)} for i, m in helpful],
            "top_hindering_30s": [{"start_s": float(i), "end_s": float(i + 30), "mean_rating": round(m, 2),
                                   "where": label(i)} for i, m in hindering],
        }
    ins = _envelope(sim.rating_time + 0.5, P["coupled_segments"], 0.0) > 0
    for role in _ROLES:
        r = sim.ratings[role]
        ratings[role]["mean_inside_coupled"] = round(float(r[ins].mean()), 2)
        ratings[role]["mean_outside_coupled"] = round(float(r[~ins].mean()), 2)
    congruence = float(np.corrcoef(sim.ratings["client"], sim.ratings["therapist"])[0, 1])
    return {
        "session_id": SESSION_ID,
        "generator": {
            "module": "synchrony.simulate",
            "command": P["command"],
            "seed": P["seed"],
            "parameters": {k: v for k, v in P.items() if k != "command"},
        },
        "lag_s": P["lag_s"],
        "lag_convention": ("positive lag = the client (x) leads and the therapist (y) follows: "
                           "therapist(t + lag_s) ~ client(t); a WCC of client against therapist peaks at +lag_s"),
        "coupling": {
            "hr_mixing_weight": P["coupling"],
            "hr_band_hz": [0.02, 0.15],
            "eda_shared_scr_interval_s": "4 + Exp(mean 6)",
            "eda_therapist_shared_amplitude_fraction": [round(0.55 * P["coupling"], 6), P["coupling"]],
            "eda_own_scr_rate_factor_inside": round(1.0 - P["coupling"], 6),
            "ramp_s": P["ramp_s"],
        },
        "video": {
            "start_unix": c0 + v0,
            "start_utc": utc_from_unix(c0 + v0),
            "end_utc": utc_from_unix(c0 + v0 + d),
            "duration_s": d,
            "start_tag": 1,
            "start_tag_device": "client",
        },
        "devices": devices,
        "coupled_segments": segments,
        "expected": _expected(sig, P),
        "ratings": ratings,
        "rating_congruence_r": round(congruence, 3),
    }


# --------------------------------------------------------------------------- README and config


def _session_toml(truth: dict) -> str:
    return (
        "# Simulated session written by synchrony.simulate; its ground truth is in README.md and truth.json.\n"
        "[session]\n"
        f'id = "{truth["session_id"]}"\n\n'
        "[client]\n"
        f'e4 = "{truth["devices"]["client"]["path"]}"\n\n'
        "[therapist]\n"
        f'e4 = "{truth["devices"]["therapist"]["path"]}"\n\n'
        "[ratings]\n"
        'client = "ratings_client.csv"\n'
        'therapist = "ratings_therapist.csv"\n'
        "start_tag = 1                      # the client's first E4 tag marks the video start\n"
        f'# start_utc = "{truth["video"]["start_utc"]}"   # the same instant, written out\n\n'
        "[analysis]\n"
        'modalities = ["hr", "eda"]\n'
        "window = 30.0\n"
        "step = 1.0\n"
        "max_lag = 5.0\n"
        "surrogates = 200\n"
        "random_state = 1\n"
    )


def _seg_rows(truth: dict) -> str:
    rows = []
    for k, s in enumerate(truth["coupled_segments"], 1):
        rows.append(f"| {k} | {s['video_s'][0]:g}–{s['video_s'][1]:g} | {s['client_device_s'][0]:g}–{s['client_device_s'][1]:g} "
                    f"| {s['therapist_device_s'][0]:g}–{s['therapist_device_s'][1]:g} | {s['start_utc']} – {s['end_utc']} |")
    return "\n".join(rows)


def render_readme(truth: dict) -> str:
    """The human-readable ground truth of a simulated session (``README.md``).

    Every number in it is taken from ``truth`` (what :func:`simulate_session` returns).

    Parameters
    ----------
    truth : dict
        The truth of a simulated session (or ``json.load`` of its ``truth.json``).

    Returns
    -------
    str
        Markdown text.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> out = pathlib.Path(tempfile.mkdtemp())
    >>> truth = simulate_session(out, **SMALL)
    >>> render_readme(truth) == (out / "README.md").read_text(encoding="utf-8")
    True
    """
    P = truth["generator"]["parameters"]
    dc, dt = truth["devices"]["client"], truth["devices"]["therapist"]
    e = truth["expected"]
    lines = [
        f"# Simulated session `{truth['session_id']}`: planted ground truth",
        "",
        "Everything in this folder was written by `synchrony/simulate.py`; it is not a real recording.",
        "It is a client–therapist session in the files a lab would have: two Empatica E4 exports,",
        "two dial-rating files and the session config. The truth planted in it is stated here and,",
        "machine-readably, in `truth.json`.",
        "",
        "Regenerate it (byte-identical) with:",
        "",
        "```",
        truth["generator"]["command"],
        "```",
        "",
        f"(the same as `synchrony.simulate.simulate_session(\"sample_recordings\", seed={truth['generator']['seed']})`).",
        "",
        "## Files",
        "",
        "| file | what |",
        "|---|---|",
        f"| `{dc['path']}` | client's E4 export, zipped (EDA 4 Hz, BVP 64 Hz, HR 1 Hz from +10 s, TEMP 4 Hz, ACC 32 Hz, IBI, tags) |",
        f"| `{dt['path']}` | therapist's E4 export, unzipped folder (same files) |",
        "| `ratings_client.csv`, `ratings_therapist.csv` | dial ratings: `time,rating`, 1-s bins, `time` = bin start in s from the video start, 0–100 |",
        "| `session.toml` | the session config (ARCHITECTURE.md section 6), video start = client tag 1 |",
        "| `truth.json` | this truth, machine-readable |",
        "",
        "## Clocks",
        "",
        "| | device | start (UTC) | start (unix) | recording length | video start on its clock | tags (unix) |",
        "|---|---|---|---|---|---|---|",
        f"| client | {dc['device_id']} | {dc['start_utc']} | {dc['start_unix']:.6f} | {dc['duration_s']:g} s | {dc['video_start_on_device_s']:g} s | {', '.join(f'{t:.2f}' for t in dc['tags_unix'])} |",
        f"| therapist | {dt['device_id']} | {dt['start_utc']} | {dt['start_unix']:.6f} | {dt['duration_s']:g} s | {dt['video_start_on_device_s']:g} s | {', '.join(f'{t:.2f}' for t in dt['tags_unix'])} |",
        "",
        f"- Video start (rating time 0): **{truth['video']['start_utc']}** (unix {truth['video']['start_unix']:.2f}); "
        f"the video lasts {truth['video']['duration_s']:g} s and ends at {truth['video']['end_utc']}.",
        f"- The therapist's E4 started {dt['offset_from_client_start_s']:g} s after the client's. Both device clocks are exact "
        f"(drift {dt['clock_drift_ppm']:g} ppm).",
        "- The client pressed the tag at the video start (tag 1) and again at its end (tag 2); the therapist "
        "pressed once, at the video start, so the two tags give the device offset.",
        "- The ratings cover the whole video; the video starts after both devices and ends before either stops.",
        "",
        "## Planted coupling",
        "",
        f"- **Lag: {truth['lag_s']:+g} s.** Sign convention: {truth['lag_convention']}.",
        f"- Heart rate: inside the coupled segments the therapist's 0.02–0.15 Hz heart-rate fluctuation is "
        f"`{P['coupling']:g}·client(t − {truth['lag_s']:g} s) + {math.sqrt(1 - P['coupling'] ** 2):.3f}·own(t)` "
        "(unit-variance components); outside them the two are independent. Baselines, slow drifts and "
        "respiratory sinus arrhythmia are independent everywhere.",
        f"- Skin conductance: inside the coupled segments the client has a train of shared skin conductance "
        f"responses (one every 4 + Exp(6) s, median 0.35 µS) that the therapist reproduces {truth['lag_s']:g} s later at "
        f"{100 * 0.55 * P['coupling']:.0f}–{100 * P['coupling']:.0f} % of the amplitude, and both persons' own responses fall to {1 - P['coupling']:.2g}× their usual rate. "
        "Tonic levels and drifts are independent.",
        f"- The coupling fades in and out over {P['ramp_s']:g} s just outside each segment (raised cosine).",
        "",
        "Coupled segments (seconds; video = rating clock):",
        "",
        "| # | video (rating) clock | client device clock | therapist device clock | UTC |",
        "|---|---|---|---|---|",
        _seg_rows(truth),
        "",
        "## What an analysis should find",
        "",
        "Windowed correlation of the true 4-Hz series, client against therapist (30-s windows, 1-s step, "
        "lags ±5 s), in windows wholly inside a coupled segment versus windows clear of every segment "
        "(by the window, the maximum lag and the ramp):",
        "",
        "| modality | r at +lag inside (mean) | r at +lag inside (min) | r at lag 0 inside | r at +lag outside (mean) | mean abs r outside | median peak lag inside | peak lag within ±0.5 s of the truth |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for mod in ("hr", "eda"):
        x = e[mod]
        lines.append(f"| {mod} | {x['r_at_lag_inside_mean']:.3f} | {x['r_at_lag_inside_min']:.3f} | "
                     f"{x['r_at_zero_lag_inside_mean']:.3f} | {x['r_at_lag_outside_mean']:.3f} | "
                     f"{x['abs_r_at_lag_outside_mean']:.3f} | {x['peak_lag_inside_median_s']:+g} s | "
                     f"{100 * x['peak_lag_inside_within_0.5s_fraction']:.0f} % |")
    lines += [
        "",
        f"- The synchrony peak lag is ≈ **{truth['lag_s']:+g} s** (therapist follows) in the coupled segments, for both "
        "heart rate and skin conductance; outside them windowed correlations scatter around 0 and their peak "
        "lags are spread over the whole ±5 s range.",
        "- Synchrony (Fisher z of the peak |r| over lags) is clearly higher in the coupled segments than elsewhere "
        f"(heart rate {e['hr']['peak_abs_z_inside_mean']:.2f} vs {e['hr']['peak_abs_z_outside_mean']:.2f}, skin conductance "
        f"{e['eda']['peak_abs_z_inside_mean']:.2f} vs {e['eda']['peak_abs_z_outside_mean']:.2f}; session means "
        f"{e['hr']['peak_abs_z_session_mean']:.2f} and {e['eda']['peak_abs_z_session_mean']:.2f}), so the session's "
        "mean synchrony should exceed a surrogate null (shifted or shuffled partners) for both modalities.",
        "- The device files add what real devices add: sensor noise, EDA zeros while the electrodes settle "
        "(first 1.5 s), IBI with the first seconds and wrist-motion stretches dropped (plus 3 % isolated beats), "
        "BVP motion artefact in those stretches (all outside the coupled segments, by at least 45 s).",
        "",
        "## Dial ratings",
        "",
        "| rater | mean | SD | mean inside coupled | mean outside | rise per segment (points) | reaction delay | planted dips (video s, depth) |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for role in _ROLES:
        r = truth["ratings"][role]
        dips = "; ".join(f"{d['start_s']:g}–{d['end_s']:g} (−{d['depth']:g})" for d in r["dips_video_s"]) or "none"
        lines.append(f"| {role} | {r['mean']:.2f} | {r['sd']:.2f} | {r['mean_inside_coupled']:.2f} | "
                     f"{r['mean_outside_coupled']:.2f} | {', '.join(f'{x:g}' for x in r['rise_points_per_segment'])} | "
                     f"{r['reaction_delay_s']:g} s | {dips} |")
    lines += [
        "",
        f"Rating congruence (Pearson r of the two raters' 1-s bins): **{truth['rating_congruence_r']:.3f}** — modest "
        "and inflated by autocorrelation, as real dial ratings are.",
        "",
        "Most helpful and most hindering moments (greedy non-overlapping 30-s windows by mean rating, video clock):",
        "",
        "| rater | kind | start–end (s) | mean rating | where |",
        "|---|---|---|---|---|",
    ]
    for role in _ROLES:
        r = truth["ratings"][role]
        for kind, key in (("helpful", "top_helpful_30s"), ("hindering", "top_hindering_30s")):
            for s in r[key]:
                lines.append(f"| {role} | {kind} | {s['start_s']:g}–{s['end_s']:g} | {s['mean_rating']:.2f} | {s['where']} |")
    lines.append("")
    for role in _ROLES:
        r = truth["ratings"][role]
        n_help = sum(s["where"].startswith("coupled") for s in r["top_helpful_30s"])
        n_hind = sum(s["where"].startswith("dip") for s in r["top_hindering_30s"])
        lines.append(f"- {role}: {n_help} of the {len(r['top_helpful_30s'])} most helpful moments lie in coupled "
                     f"segments (where synchrony is high); {n_hind} of the {len(r['top_hindering_30s'])} most "
                     f"hindering ones at the planted dips.")
    lines.append("")
    return "\n".join(lines)


# --------------------------------------------------------------------------- public entry points


def _params(*, duration_s: float = 1500.0, seed: int = DEFAULT_SEED, lag_s: float = 2.0,
            coupled_segments=None, coupling: float = 0.9, ramp_s: float = 5.0,
            client_start_unix: float = 1635148245.0, therapist_offset_s: float = 37.25,
            video_start_s: float = 61.5, client_tail_s: float = 45.0, therapist_tail_s: float = 30.0,
            therapist_drift_ppm: float = 0.0, motion_stretches: int = 3, command: str | None = None) -> dict:
    duration_s = float(duration_s)
    if coupled_segments is None:
        coupled_segments = default_segments(duration_s)
    params = {
        "duration_s": duration_s,
        "seed": int(seed),
        "lag_s": float(lag_s),
        "coupled_segments": [[float(a), float(b)] for a, b in coupled_segments],
        "coupling": float(coupling),
        "ramp_s": float(ramp_s),
        "client_start_unix": float(client_start_unix),
        "therapist_offset_s": float(therapist_offset_s),
        "video_start_s": float(video_start_s),
        "client_tail_s": float(client_tail_s),
        "therapist_tail_s": float(therapist_tail_s),
        "therapist_drift_ppm": float(therapist_drift_ppm),
        "motion_stretches": int(motion_stretches),
    }
    _check(params)
    if command is None:
        command = "python -m synchrony.simulate OUT_DIR" + _cli_options(params)
    params["command"] = command
    return params


_CLI_DEFAULTS = {"duration_s": 1500.0, "seed": DEFAULT_SEED, "lag_s": 2.0, "coupling": 0.9}


def _cli_options(params: dict) -> str:
    opts = ""
    for key, flag in (("duration_s", "--duration"), ("seed", "--seed"), ("lag_s", "--lag"), ("coupling", "--coupling")):
        if params[key] != _CLI_DEFAULTS[key]:
            opts += f" {flag} {params[key]:g}"
    if params["coupled_segments"] != [list(s) for s in default_segments(params["duration_s"])]:
        opts = " (with coupled_segments=" + json.dumps(params["coupled_segments"]) + ")" + opts
    return opts


def simulate_session(out_dir, *, duration_s: float = 1500.0, seed: int = DEFAULT_SEED, lag_s: float = 2.0,
                     coupled_segments=None, coupling: float = 0.9, ramp_s: float = 5.0,
                     client_start_unix: float = 1635148245.0, therapist_offset_s: float = 37.25,
                     video_start_s: float = 61.5, client_tail_s: float = 45.0, therapist_tail_s: float = 30.0,
                     therapist_drift_ppm: float = 0.0, motion_stretches: int = 3) -> dict:
    """Write a simulated dyad session with planted truth and return that truth.

    Parameters
    ----------
    out_dir : str or Path
        Folder to write into (created if missing; the files named below are replaced).
    duration_s : float
        Length of the video (and of the ratings), seconds.
    seed : int
        Seed of every random draw; the same arguments give byte-identical files.
    lag_s : float
        The therapist follows the client by this many seconds (positive = client leads).
    coupled_segments : sequence of (start, end), optional
        Coupled stretches on the video clock, seconds; default :func:`default_segments`.
    coupling : float
        Heart-rate mixing weight ``c`` in [0, 1) inside the segments (also sets the
        own-response rate of skin conductance there to ``1 − c`` of usual).
    ramp_s : float
        The coupling fades in and out over this many seconds outside each segment.
    client_start_unix : float
        UTC unix instant at which the client's E4 starts.
    therapist_offset_s : float
        The therapist's E4 starts this many seconds after the client's.
    video_start_s : float
        Video start on the client's device clock (the client's first tag press).
    client_tail_s, therapist_tail_s : float
        Each device records this long after the video ends.
    therapist_drift_ppm : float
        Clock drift of the therapist's E4 (parts per million, positive = its clock runs
        slow); 0 means both clocks are exact.
    motion_stretches : int
        Wrist-motion stretches per device (dropped beats, accelerometer bursts).

    Returns
    -------
    dict
        The truth, as written to ``truth.json`` (see the README it writes).

    Examples
    --------
    >>> import tempfile, pathlib
    >>> out = pathlib.Path(tempfile.mkdtemp())
    >>> truth = simulate_session(out, duration_s=300.0)
    >>> sorted(p.name for p in out.iterdir())  # doctest: +NORMALIZE_WHITESPACE
    ['README.md', 'client', 'ratings_client.csv', 'ratings_therapist.csv', 'session.toml',
     'therapist', 'truth.json']
    >>> truth["devices"]["client"]["path"], truth["video"]["start_utc"]
    ('client/1635148245_A00204.zip', '2021-10-25T07:51:46.500000Z')
    """
    out = Path(out_dir)
    params = _params(duration_s=duration_s, seed=seed, lag_s=lag_s, coupled_segments=coupled_segments,
                     coupling=coupling, ramp_s=ramp_s, client_start_unix=client_start_unix,
                     therapist_offset_s=therapist_offset_s, video_start_s=video_start_s,
                     client_tail_s=client_tail_s, therapist_tail_s=therapist_tail_s,
                     therapist_drift_ppm=therapist_drift_ppm, motion_stretches=motion_stretches)
    if params["command"].startswith("python -m synchrony.simulate OUT_DIR"):
        params["command"] = params["command"].replace("OUT_DIR", out.name or str(out), 1)
    sim = _simulate(params)
    sig = _signals(sim, 4.0)
    truth = _truth(sim, sig)
    logger.info("simulate_session: writing %s (seed %d, %g s)", out, params["seed"], params["duration_s"])

    out.mkdir(parents=True, exist_ok=True)
    client = out / "client"
    client.mkdir(exist_ok=True)
    for old in client.glob("*.zip"):
        old.unlink()
    _write_zip(out / truth["devices"]["client"]["path"], _device_files(sim, "client"), sim.devices["client"]["start_unix"])
    therapist = out / "therapist"
    therapist.mkdir(exist_ok=True)
    for name, text in _device_files(sim, "therapist").items():
        (therapist / name).write_bytes(text.encode("ascii"))
    for role in _ROLES:
        rows = "".join(f"{t:.1f},{r:.1f}\n" for t, r in zip(sim.rating_time, sim.ratings[role]))
        (out / f"ratings_{role}.csv").write_bytes(("time,rating\n" + rows).encode("ascii"))
    (out / "session.toml").write_bytes(_session_toml(truth).encode("utf-8"))
    (out / "truth.json").write_bytes((json.dumps(truth, indent=2, ensure_ascii=False) + "\n").encode("utf-8"))
    (out / "README.md").write_bytes(render_readme(truth).encode("utf-8"))
    return truth


def file_digests(folder) -> dict[str, str]:
    """SHA-256 of every file under ``folder`` (zip archives: of every member), by relative path.

    Zip members are hashed one by one so that a different zlib build, which may
    compress the same bytes differently, does not count as a different session.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> out = pathlib.Path(tempfile.mkdtemp())
    >>> _ = simulate_session(out, **SMALL)
    >>> sorted(file_digests(out))[:2]
    ['README.md', 'client/1635148245_A00204.zip::ACC.csv']
    """
    folder = Path(folder)
    out = {}
    for path in sorted(folder.rglob("*")):
        if not path.is_file():
            continue
        rel = path.relative_to(folder).as_posix()
        if path.suffix == ".zip":
            with zipfile.ZipFile(path) as zf:
                for name in sorted(zf.namelist()):
                    out[f"{rel}::{name}"] = hashlib.sha256(zf.read(name)).hexdigest()
        else:
            out[rel] = hashlib.sha256(path.read_bytes()).hexdigest()
    return out


def main(argv: list[str] | None = None) -> int:
    """Command line: ``python -m synchrony.simulate OUT_DIR [--small] [--seed N] ...``."""
    ap = argparse.ArgumentParser(prog="python -m synchrony.simulate",
                                 description="Write a simulated dyad session with planted ground truth.")
    ap.add_argument("out_dir")
    ap.add_argument("--small", action="store_true", help="a 300-s session with one coupled segment")
    ap.add_argument("--duration", type=float, default=None, help="video length in seconds (default 1500)")
    ap.add_argument("--seed", type=int, default=DEFAULT_SEED)
    ap.add_argument("--lag", type=float, default=2.0, help="therapist follows the client by this many seconds")
    ap.add_argument("--coupling", type=float, default=0.9)
    args = ap.parse_args(argv)
    duration = args.duration if args.duration is not None else (SMALL["duration_s"] if args.small else 1500.0)
    truth = simulate_session(args.out_dir, duration_s=duration, seed=args.seed, lag_s=args.lag, coupling=args.coupling)
    logger.info("wrote %s: lag %+g s, %d coupled segments", args.out_dir, truth["lag_s"], len(truth["coupled_segments"]))
    return 0


if __name__ == "__main__":  # pragma: no cover
    raise SystemExit(main())
