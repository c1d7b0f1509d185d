"""Small, transparent simulators for the preprocessing ground-truth tests.

Beats are generated from a known heart-rate trajectory h(t) (bpm) by integrating
the beat phase: beat k falls where the integral of h/60 reaches k. ECG is a sum of
Gaussian P, Q, R, S, T waves per beat; PPG a systolic plus a diastolic Gaussian
pulse 250 ms after each beat. Both get white noise and baseline wander.
"""
from __future__ import annotations

import numpy as np

from synchrony.recording import make_recording, make_stream

T0 = "2024-03-01T09:00:00Z"


def hr_truth(t: np.ndarray) -> np.ndarray:
    """The known trajectory: 65 bpm rising linearly to 85 at 300 s, plus a 6 bpm swing of period 25 s."""
    t = np.asarray(t, float)
    return 65.0 + 20.0 * np.clip(t / 300.0, 0.0, 1.0) + 6.0 * np.sin(2 * np.pi * t / 25.0)


def beat_times(duration: float, hr=hr_truth, dt: float = 1e-3, jitter: float = 0.0, rng=None) -> np.ndarray:
    t = np.arange(0.0, duration, dt)
    phase = np.cumsum(hr(t) / 60.0) * dt
    k = np.arange(1, int(phase[-1]))
    beats = np.interp(k, phase, t)
    if jitter:
        beats = beats + rng.normal(0.0, jitter, beats.size)
    return beats


def ecg_signal(beats, duration, fs, rng, noise=0.03):
    t = np.arange(int(duration * fs)) / fs
    x = np.zeros_like(t)
    waves = [(-0.2, 0.025, 0.12), (-0.025, 0.008, -0.12), (0.0, 0.01, 1.0), (0.025, 0.008, -0.25), (0.25, 0.04, 0.3)]
    for b in beats:
        lo, hi = np.searchsorted(t, [b - 0.4, b + 0.5])
        tt = t[lo:hi] - b
        for mu, sd, amp in waves:
            x[lo:hi] += amp * np.exp(-0.5 * ((tt - mu) / sd) ** 2)
    x += 0.1 * np.sin(2 * np.pi * 0.2 * t) + rng.normal(0, noise, t.size)
    return x


def ppg_signal(beats, duration, fs, rng, noise=0.02, ptt=0.25):
    t = np.arange(int(duration * fs)) / fs
    x = np.zeros_like(t)
    for b in beats:
        lo, hi = np.searchsorted(t, [b, b + 1.2])
        tt = t[lo:hi] - b - ptt
        x[lo:hi] += np.exp(-0.5 * (tt / 0.07) ** 2) + 0.35 * np.exp(-0.5 * ((tt - 0.3) / 0.09) ** 2)
    x += 0.2 * np.sin(2 * np.pi * 0.1 * t) + rng.normal(0, noise, t.size)
    return x


def recording(streams: dict[str, tuple[dict, np.ndarray, float | None, str]], start: str = T0):
    """streams: name -> (variables, time, fs, units)."""
    built = {
        name: make_stream(vars_, time, start_utc=start, time_origin_utc=start, fs=fs, units=units,
                          device="sim", source=f"sim/{name}")
        for name, (vars_, time, fs, units) in streams.items()
    }
    return make_recording(built, start_utc=start, device="sim", source="sim")
