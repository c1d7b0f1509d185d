"""Simulated dyads for calibration: independent or coupled, resembling 4 Hz SC and HR.

Shared by ``tests/stats`` and ``benchmarks/bench_calibration.py`` so that the benchmark
measures exactly what the tests check.

- Skin conductance (µS): a tonic level that wanders as an Ornstein-Uhlenbeck process
  (time constant 120 s, sd 1 µS around 5 µS) plus phasic responses (Poisson onsets, one per
  20 s on average; bi-exponential shape, rise 0.75 s and decay 4 s; log-normal amplitudes
  with median 0.2 µS) plus 0.01 µS sensor noise.
- Heart rate (bpm): 75 bpm plus an OU process (time constant 8 s, sd 5 bpm), respiratory
  sinus arrhythmia (about 0.25 Hz, 2 bpm, with a slowly drifting rate) and 0.5 bpm noise.

Coupling: ``y`` gets ``c`` times the other person's standardised fluctuation ``lag_s``
seconds earlier (x leads), mixed as ``sqrt(1 - c^2)·own + c·partner``.
"""
from __future__ import annotations

import numpy as np


def _ou_fast(rng, n, fs, tau, sd):
    from scipy.signal import lfilter

    a = np.exp(-1.0 / (fs * tau))
    e = rng.normal(scale=sd * np.sqrt(1 - a * a), size=n)
    e[0] = rng.normal(scale=sd)
    return lfilter([1.0], [1.0, -a], e)


def scl_fluct(rng, n, fs):
    """Zero-mean skin-conductance fluctuation (tonic OU + phasic responses + noise), µS."""
    tonic = _ou_fast(rng, n, fs, 120.0, 1.0)
    t = np.arange(int(30 * fs)) / fs
    shape = np.exp(-t / 4.0) - np.exp(-t / 0.75)
    shape /= shape.max()
    onsets = (rng.random(n) < 1.0 / (20.0 * fs)) * rng.lognormal(np.log(0.2), 0.6, n)
    phasic = np.convolve(onsets, shape)[:n]
    return tonic + phasic - phasic.mean() + rng.normal(scale=0.01, size=n)


def hr_fluct(rng, n, fs):
    """Zero-mean heart-rate fluctuation (OU + respiratory sinus arrhythmia + noise), bpm."""
    t = np.arange(n) / fs
    f = 0.25 + 0.03 * np.sin(2 * np.pi * t / 97.0 + rng.uniform(0, 2 * np.pi))
    rsa = 2.0 * np.sin(2 * np.pi * np.cumsum(f) / fs + rng.uniform(0, 2 * np.pi))
    return _ou_fast(rng, n, fs, 8.0, 5.0) + rsa + rng.normal(scale=0.5, size=n)


def simulate_pair(kind: str, *, minutes: float = 50.0, fs: float = 4.0, coupling: float = 0.0,
                  lag_s: float = 2.0, random_state=None):
    """(x, y) for one dyad: ``kind`` in {"scl", "hr", "white"}; y follows x by ``lag_s``."""
    rng = np.random.default_rng(random_state)
    n = int(round(minutes * 60 * fs))
    lag = int(round(lag_s * fs))
    if kind == "scl":
        f, base = scl_fluct, 5.0
    elif kind == "hr":
        f, base = hr_fluct, 75.0
    elif kind == "white":
        f, base = (lambda r, m, _fs: r.normal(size=m)), 0.0
    else:
        raise ValueError(f"kind: expected 'scl', 'hr' or 'white', found {kind!r}")
    ex = f(rng, n + lag, fs)
    ey = f(rng, n, fs)
    x = ex[lag:]
    if coupling:
        sx, sy = ex.std(), ey.std()
        ey = np.sqrt(1 - coupling ** 2) * ey + coupling * (ex[:n] / sx) * sy  # x at t-lag
    return base + x, base + ey


def rejection_rate(method: str, kind: str, *, n_pairs: int, minutes: float = 20.0,
                   coupling: float = 0.0, lag_s: float = 2.0, n_surrogates: int = 99,
                   alpha: float = 0.05, statistic: str = "mean_abs_z", seed: int = 0,
                   fs: float = 4.0, window: float = 30.0, step: float = 1.0,
                   max_lag: float = 5.0, **extra):
    """Fraction of simulated pairs with p <= alpha, and the p-values.

    With ``n_surrogates = 99`` an exchangeable null gives ``P(p <= 0.05) = 5/100`` exactly.
    Pair ``i`` uses simulation seed ``seed + i`` and surrogate seed ``seed + 10**6 + i``.
    """
    from synchrony.stats import surrogate_test

    ps = np.empty(n_pairs)
    for i in range(n_pairs):
        x, y = simulate_pair(kind, minutes=minutes, coupling=coupling, lag_s=lag_s, fs=fs,
                             random_state=seed + i)
        t = surrogate_test(x, y, fs=fs, window=window, step=step, max_lag=max_lag,
                           method=method, n_surrogates=n_surrogates, statistic=statistic,
                           random_state=seed + 10**6 + i, **extra)
        ps[i] = float(t.p_value)
    return float(np.mean(ps <= alpha)), ps


def random_derangement_rate(kind: str, *, n_pairs: int, minutes: float = 20.0,
                            segment_s: float = 80.0, n_surrogates: int = 99,
                            alpha: float = 0.05, seed: int = 0, fs: float = 4.0,
                            window: float = 30.0, step: float = 1.0, max_lag: float = 5.0):
    """False-positive rate of the procedure NOT offered: random derangements of segments,
    statistic (mean |z|) over the windows inside one segment, for data and surrogates."""
    import importlib

    from synchrony.stats import inference, surrogates

    wcc = importlib.import_module("synchrony.core.wcc")
    w, s, lag, d = wcc.seconds_to_samples(fs, window, step, max_lag)
    kw = dict(window_n=w, step_n=s, max_lag_n=lag, lag_step_n=d, min_valid=0.5)
    seg = int(round(segment_s * fs))
    hits = 0
    for i in range(n_pairs):
        x, y = simulate_pair(kind, minutes=minutes, fs=fs, random_state=seed + i)
        rng = np.random.default_rng(seed + 10**6 + i)
        k = -(-x.size // seg)
        perms = np.stack([surrogates.derangement(k, random_state=rng)
                          for _ in range(n_surrogates)])
        data, used, null, _ = inference._segment_null(
            x, y, perms, seg_n=seg, kw=kw, statistic="mean_abs_z", band="peak_z",
            many=wcc.window_stats_many)
        stat = inference.reduce_statistic(data, used, "mean_abs_z")
        hits += (1 + np.sum(null >= stat)) / (1 + n_surrogates) <= alpha
    return hits / n_pairs


def pseudo_dyad_pvalues(kind: str, *, n_studies: int, n_sessions: int = 20, minutes: float = 10.0,
                        shortest: float = 1.0, coupling: float = 0.0, lag_s: float = 2.0,
                        statistic: str = "mean_abs_z", seed: int = 0, fs: float = 4.0,
                        window: float = 15.0, step: float = 1.0, max_lag: float = 2.0):
    """Pseudo-dyad p-values of ``n_studies`` simulated studies, shape (n_studies, n_sessions).

    Each study has ``n_sessions`` independent sessions (``simulate_pair``); each session's
    client is tested against the therapists of all the study's other sessions, as the batch
    does (``method="pseudo_dyad"``, every partner used once). With ``shortest < 1`` the
    sessions last between ``shortest * minutes`` and ``minutes`` (uniform), so partners are
    cut or NaN-extended. Equal lengths and no coupling make the real pair exchangeable with
    its pseudo-dyads, so each p is uniform on {1/n_sessions, ..., 1}: P(p <= 0.05) = 0.05
    exactly when n_sessions is 20. Study ``k`` uses simulation seeds ``seed + 1000 k + i``.
    """
    from synchrony.stats import surrogate_test

    ps = np.empty((n_studies, n_sessions))
    for k in range(n_studies):
        rng = np.random.default_rng(seed + 1000 * k + 999)
        mins = minutes * (shortest + (1 - shortest) * rng.random(n_sessions)) if shortest < 1 else \
            np.full(n_sessions, minutes)
        pairs = [simulate_pair(kind, minutes=m, fs=fs, coupling=coupling, lag_s=lag_s,
                               random_state=seed + 1000 * k + i) for i, m in enumerate(mins)]
        for i, (x, y) in enumerate(pairs):
            partners = [p[1] for j, p in enumerate(pairs) if j != i]
            t = surrogate_test(x, y, fs=fs, window=window, step=step, max_lag=max_lag,
                               method="pseudo_dyad", partners=partners,
                               n_surrogates=len(partners), statistic=statistic)
            ps[k, i] = float(t.p_value)
    return ps
