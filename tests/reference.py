"""Slow, obvious numpy twins of the package's kernels (one function per kernel).

They loop cell by cell and use plain two-pass formulas so that they are right by inspection;
the tests compare the fast kernels with them. Other parts of the package may append twins here.
"""
from __future__ import annotations

import numpy as np

R_CLIP = 1.0 - 1e-12


# ---------------------------------------------------------------- core: WCC cells
def pearson_pairwise(a: np.ndarray, b: np.ndarray, min_count: float = 0.0) -> tuple[float, int]:
    """Two-pass Pearson r over the pairs where both are finite; NaN if too few or constant."""
    a = np.asarray(a, dtype=np.float64)
    b = np.asarray(b, dtype=np.float64)
    ok = np.isfinite(a) & np.isfinite(b)
    n = int(ok.sum())
    if n < 2 or n < min_count:
        return np.nan, n
    a, b = a[ok], b[ok]
    if np.all(a == a[0]) or np.all(b == b[0]):
        return np.nan, n
    da = a - a.mean()
    db = b - b.mean()
    r = float(np.sum(da * db) / np.sqrt(np.sum(da * da) * np.sum(db * db)))
    return min(1.0, max(-1.0, r)), n


def wcc_cells(x, y, W, S, L, D=1, min_valid=0.5, convention="synchrony"):
    """Cell-by-cell WCC in samples. Returns (r (K, J), n_valid (K, J), starts, lags).

    Grids (documented in synchrony.core.wcc): synchrony t_k = kS while t_k + W <= N, x at
    t_k, y at t_k + tau; rmea blocks s = kI, k < ceil((N-W-L+1)/I), earlier span at s; boker
    anchor a = L + kS while a + W <= N, later span at a; bsync x at a = L + kI,
    k < floor((N-(W-1)-2L)/I).
    """
    x = np.asarray(x, dtype=np.float64)
    y = np.asarray(y, dtype=np.float64)
    N = x.size
    lags = np.arange(-L, L + 1, D)
    if convention == "synchrony":
        starts = np.arange(0, N - W + 1, S)
    elif convention == "rmea":
        K = int(np.ceil((N - W - L + 1) / S)) if N - W - L + 1 > 0 else 0
        starts = np.arange(K) * S
    elif convention == "boker":
        starts = np.arange(L, N - W + 1, S)
    elif convention == "bsync":
        K = max((N - (W - 1) - 2 * L) // S, 0)
        starts = L + np.arange(K) * S
    else:
        raise ValueError(convention)
    r = np.full((starts.size, lags.size), np.nan)
    n = np.zeros((starts.size, lags.size), dtype=np.int64)
    for k, t in enumerate(starts):
        for j, tau in enumerate(lags):
            if convention in ("synchrony", "bsync"):
                ax, ay = t, t + tau
            elif convention == "rmea":
                ax, ay = (t, t + tau) if tau >= 0 else (t - tau, t)
            else:  # boker
                ax, ay = (t - tau, t) if tau > 0 else (t, t + tau)
            if min(ax, ay) < 0 or max(ax, ay) + W > N:
                continue
            r[k, j], n[k, j] = pearson_pairwise(x[ax:ax + W], y[ay:ay + W], min_valid * W)
    return r, n, starts, lags


def fisher_z(r, clip=R_CLIP):
    """atanh(r) with |r| clipped to ``clip``."""
    return np.arctanh(np.clip(r, -clip, clip))


def window_stats_from_matrix(r, lags):
    """Per-window reductions over lags computed from a full (K, J) r matrix."""
    K = r.shape[0]
    out = {f: np.full(K, np.nan) for f in ("n_cells", "sum_abs_z", "max_abs_z", "max_r",
                                           "max_r_lag_n", "sum_z_lead", "n_lead",
                                           "sum_z_follow", "n_follow", "z_lag0")}
    for k in range(K):
        row = r[k]
        ok = ~np.isnan(row)
        z = fisher_z(row)
        out["n_cells"][k] = ok.sum()
        out["sum_abs_z"][k] = np.abs(z[ok]).sum()
        lead, fol = ok & (lags > 0), ok & (lags < 0)
        out["sum_z_lead"][k] = z[lead].sum()
        out["n_lead"][k] = lead.sum()
        out["sum_z_follow"][k] = z[fol].sum()
        out["n_follow"][k] = fol.sum()
        out["z_lag0"][k] = z[lags == 0][0] if (lags == 0).any() else np.nan
        if ok.any():
            out["max_abs_z"][k] = np.abs(z[ok]).max()
            m = row[ok].max()
            cands = lags[ok & (row == m)]
            out["max_r"][k] = m
            out["max_r_lag_n"][k] = sorted(cands, key=lambda v: (abs(v), v))[0]
    return out


# ---------------------------------------------------------------- core: peaks
def peaks_reference(r, lags, method="max", neighbourhood=1, smooth=0):
    """Per window: (peak_r, peak_lag) by a plain loop.

    max: global maximum, ties nearest lag 0 then negative. boker: optionally smooth with a
    centred moving average of 2*smooth+1 lags (NaN if any NaN in the span, or the span leaves
    the lag range), then search outward from lag 0 (distance 0, 1, 2, ... lags; at equal
    distance the negative side first) for the first lag whose smoothed value is finite and
    strictly greater than the finite values at the ``neighbourhood`` lags on each side (all of
    which must exist inside the lag range and be finite). peak_r is the unsmoothed r there.
    """
    r = np.asarray(r, dtype=np.float64)
    lags = np.asarray(lags, dtype=np.float64)
    K, J = r.shape
    pr = np.full(K, np.nan)
    pl = np.full(K, np.nan)
    c0 = int(np.argmin(np.abs(lags)))
    for k in range(K):
        row = r[k]
        if method == "max":
            best = None
            for j in range(J):
                if np.isnan(row[j]):
                    continue
                key = (-row[j], abs(lags[j]), lags[j])
                if best is None or key < best[0]:
                    best = (key, j)
            if best is not None:
                pr[k], pl[k] = row[best[1]], lags[best[1]]
            continue
        s = np.full(J, np.nan)
        for j in range(J):
            if j - smooth >= 0 and j + smooth < J:
                span = row[j - smooth:j + smooth + 1]
                if not np.isnan(span).any():
                    s[j] = span.mean()
        found = None
        for d in range(J):
            for j in (c0 - d, c0 + d) if d else (c0,):
                if found is not None or j < 0 or j >= J:
                    continue
                if np.isnan(s[j]) or j - neighbourhood < 0 or j + neighbourhood >= J:
                    continue
                nb = np.r_[s[j - neighbourhood:j], s[j + 1:j + neighbourhood + 1]]
                if np.isnan(nb).any():
                    continue
                if np.all(s[j] > nb):
                    found = j
            if found is not None:
                break
        if found is not None:
            pr[k], pl[k] = row[found], lags[found]
    return pr, pl
