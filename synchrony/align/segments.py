"""Micro-process analyses on the rating clock: congruence, association, top/bottom segments.

Dial ratings and synchrony series are strongly autocorrelated, so a naive p-value
for their correlation overstates significance. Every p here comes in two forms:
``p_naive`` (as if the bins were independent) and ``p_adjusted``, which replaces
the sample size by the effective sample size of Pyper & Peterman (1998)::

    1 / n_eff = 1/n + (2/n) · Σ_{j=1..J} ((n − j)/n) · ρ_x(j) · ρ_y(j),   J = n/5

(ρ the sample autocorrelations), clamped to ``[3, n]``, and tests
``t = r · sqrt((n_eff − 2) / (1 − r²))`` on ``n_eff − 2`` degrees of freedom.
"""
from __future__ import annotations

import math

import numpy as np
from scipy import stats

__all__ = ["effective_n", "corr_test", "congruence", "association", "top_segments"]


def _acf(x: np.ndarray, nlags: int) -> np.ndarray:
    x = x - x.mean()
    denom = float(np.dot(x, x))
    if denom == 0 or nlags < 1:
        return np.zeros(max(nlags, 0))
    full = np.correlate(x, x, mode="full")[x.size: x.size + nlags]
    return full / denom


def effective_n(x: np.ndarray, y: np.ndarray) -> float:
    """Pyper–Peterman effective sample size of the correlation of two autocorrelated series.

    ``x`` and ``y`` are the complete pairs (no NaN), in time order.

    >>> rng = np.random.default_rng(0)
    >>> a, b = rng.standard_normal(500), rng.standard_normal(500)
    >>> 400 < effective_n(a, b) <= 500      # white noise: close to n
    True
    >>> s = np.cumsum(rng.standard_normal(500)); t = np.cumsum(rng.standard_normal(500))
    >>> effective_n(s, t) < 100             # random walks: far fewer independent pairs
    True
    """
    n = x.size
    if n < 4:
        return float(n)
    J = max(1, n // 5)
    rx, ry = _acf(x, J), _acf(y, J)
    j = np.arange(1, J + 1)
    inv = 1.0 / n + (2.0 / n) * float(np.sum((n - j) / n * rx * ry))
    neff = 1.0 / inv if inv > 0 else float(n)
    return float(min(max(neff, 3.0), n))


def corr_test(x: np.ndarray, y: np.ndarray) -> dict:
    """Pearson r of the complete pairs with a naive and an autocorrelation-aware p (two-sided).

    >>> res = corr_test(np.arange(10.0), np.arange(10.0) ** 2)
    >>> round(res["r"], 3), res["n"]
    (0.963, 10)
    """
    x = np.asarray(x, float)
    y = np.asarray(y, float)
    ok = np.isfinite(x) & np.isfinite(y)
    x, y = x[ok], y[ok]
    n = int(x.size)
    out = {"r": math.nan, "n": n, "n_eff": math.nan, "p_naive": math.nan, "p_adjusted": math.nan}
    if n < 4 or np.ptp(x) == 0 or np.ptp(y) == 0:
        return out
    r = float(np.corrcoef(x, y)[0, 1])
    neff = effective_n(x, y)
    out.update(r=r, n_eff=neff, p_naive=_p_from_r(r, n), p_adjusted=_p_from_r(r, neff))
    return out


def _p_from_r(r: float, n: float) -> float:
    if n <= 2:
        return math.nan
    if abs(r) >= 1:
        return 0.0
    t = r * math.sqrt((n - 2) / (1 - r * r))
    return float(2 * stats.t.sf(abs(t), n - 2))


def congruence(a: np.ndarray, b: np.ndarray) -> dict:
    """Rating congruence of two raters matched in time.

    Returns Pearson ``r`` with ``p_naive`` and ``p_adjusted`` (effective sample size), and the
    paired t-test on the means (``t``, ``df``, ``t_p_naive``; ``t_p_adjusted`` uses the effective
    size of the difference series, n·(1−ρ₁)/(1+ρ₁) for its lag-1 autocorrelation ρ₁), plus both
    raters' means and SDs.
    """
    a = np.asarray(a, float)
    b = np.asarray(b, float)
    ok = np.isfinite(a) & np.isfinite(b)
    res = corr_test(a, b)
    x, y = a[ok], b[ok]
    n = int(x.size)
    res.update(n_pairs=n, mean_a=_f(np.mean(x)) if n else math.nan, mean_b=_f(np.mean(y)) if n else math.nan,
               sd_a=_f(np.std(x, ddof=1)) if n > 1 else math.nan, sd_b=_f(np.std(y, ddof=1)) if n > 1 else math.nan)
    res.update(t=math.nan, df=max(n - 1, 0), t_p_naive=math.nan, t_p_adjusted=math.nan)
    if n >= 3:
        d = x - y
        sd = float(np.std(d, ddof=1))
        if sd > 0:
            t = float(np.mean(d) / (sd / math.sqrt(n)))
            rho1 = float(_acf(d, 1)[0]) if n > 3 else 0.0
            rho1 = min(max(rho1, -0.99), 0.99)
            neff = min(max(n * (1 - rho1) / (1 + rho1), 2.0), n)
            t_adj = float(np.mean(d) / (sd / math.sqrt(neff)))
            res.update(t=t, t_p_naive=float(2 * stats.t.sf(abs(t), n - 1)),
                       t_p_adjusted=float(2 * stats.t.sf(abs(t_adj), max(neff - 1, 1))), t_n_eff=neff)
    return res


def _f(v) -> float:
    return float(v)


def association(rating: np.ndarray, sync: np.ndarray, *, bin_s: float, max_lag_s: float) -> dict:
    """Correlation of a rater's dial with a synchrony series over a range of lags.

    A lag of ``+k`` bins pairs the rating at bin ``i`` with the synchrony at bin ``i − k``:
    positive ``lag_s`` means the rating follows the synchrony. The lag with the largest |r| is
    reported; its ``p_adjusted`` is the effective-sample-size p multiplied by the number of lags
    searched (Bonferroni, conservative because neighbouring lags are correlated), capped at 1.
    ``r_lag0`` and ``p_lag0_adjusted`` give the unsearched lag-0 figures.
    """
    rating = np.asarray(rating, float)
    sync = np.asarray(sync, float)
    kmax = int(round(max_lag_s / bin_s)) if bin_s > 0 else 0
    best = None
    lag0 = None
    n_lags = 0
    for k in range(-kmax, kmax + 1):
        if k >= 0:
            a, b = rating[k:], sync[: sync.size - k]
        else:
            a, b = rating[: rating.size + k], sync[-k:]
        res = corr_test(a, b)
        if not math.isfinite(res["r"]):
            continue
        n_lags += 1
        if k == 0:
            lag0 = res
        if best is None or abs(res["r"]) > abs(best[1]["r"]):
            best = (k, res)
    out = {"r": math.nan, "lag_s": math.nan, "p_naive": math.nan, "p_adjusted": math.nan, "n": 0,
           "n_eff": math.nan, "n_lags_searched": n_lags, "r_lag0": math.nan, "p_lag0_adjusted": math.nan}
    if best is not None:
        k, res = best
        out.update(r=res["r"], lag_s=k * bin_s, p_naive=res["p_naive"],
                   p_adjusted=min(1.0, res["p_adjusted"] * n_lags), n=res["n"], n_eff=res["n_eff"])
    if lag0 is not None:
        out.update(r_lag0=lag0["r"], p_lag0_adjusted=lag0["p_adjusted"])
    return out


def top_segments(times: np.ndarray, rating: np.ndarray, *, bin_s: float, segment_s: float = 30.0,
                 k: int = 3, helpful: bool = True, min_coverage: float = 0.8) -> list[dict]:
    """The ``k`` most helpful (highest mean rating) or hindering (lowest) non-overlapping segments.

    Candidate segments are runs of ``round(segment_s / bin_s)`` consecutive bins, at least
    ``min_coverage`` of them rated; they are taken greedily from the best mean down, skipping
    any that overlap one already taken. Returns dicts with ``start_s``, ``end_s`` (rating clock;
    ``end_s`` exclusive), ``i0``, ``i1`` (bin indices, ``i1`` exclusive) and ``mean_rating``.

    >>> t = np.arange(100.0); r = np.where((t >= 40) & (t < 70), 90.0, 50.0)
    >>> seg = top_segments(t, r, bin_s=1.0, segment_s=30.0, k=1)
    >>> seg[0]["start_s"], seg[0]["end_s"], seg[0]["mean_rating"]
    (40.0, 70.0, 90.0)
    """
    rating = np.asarray(rating, float)
    m = max(1, int(round(segment_s / bin_s)))
    n = rating.size
    if n < m:
        return []
    valid = np.isfinite(rating)
    vals = np.where(valid, rating, 0.0)
    cs = np.concatenate([[0.0], np.cumsum(vals)])
    cn = np.concatenate([[0], np.cumsum(valid)])
    counts = cn[m:] - cn[:-m]
    with np.errstate(invalid="ignore", divide="ignore"):
        means = (cs[m:] - cs[:-m]) / counts
    ok = counts >= min_coverage * m
    order = np.flatnonzero(ok)
    order = order[np.argsort(-means[order] if helpful else means[order], kind="stable")]
    taken: list[int] = []
    for i in order:
        if all(abs(int(i) - j) >= m for j in taken):
            taken.append(int(i))
            if len(taken) == k:
                break
    out = []
    for i in taken:
        out.append({"start_s": float(times[i]), "end_s": float(times[i] + m * bin_s), "i0": i, "i1": i + m,
                    "mean_rating": float(means[i]), "n_rated_bins": int(counts[i])})
    return out
