"""Numba kernels of the windowed cross-correlation (private).

Every function here takes plain, already validated arrays in samples and writes into arrays it
is given; :mod:`synchrony.core.wcc` validates, converts seconds to samples, allocates and wraps.
The slow, obvious numpy twins live in ``tests/reference.py``.

Cell geometry (shared by every convention)
-------------------------------------------
Window ``k`` and lag index ``j`` (lag ``tau[j]`` samples) pair ``x[ax : ax+W]`` with
``y[ax+tau[j] : ax+tau[j]+W]`` where ``ax = b0 + k*S + ox[j]``. The project's convention has
``b0 = 0`` and ``ox = 0``; the other conventions only change ``b0`` and ``ox`` (see
``synchrony.core.wcc``). A cell whose x- or y-span leaves ``[0, N)`` is NaN.

Algorithm
---------
Both series are first shifted by the mean of their finite values (r does not change; the
running sums then hold deviations, not an offset such as 70 bpm or 1e4). The moments of every
complete window of x and of y — mean, ``1/sqrt(Σ(a - mean)²)`` and an exact run-length
constancy flag — are computed once per series (:func:`window_moments`, O(N), sliding centred
update re-initialised exactly whenever its running rounding bound could reach 1e-13 of the
sum). Each lag diagonal then carries only its centred co-moment ``sxy`` and slides it with::

    sxy' = sxy + (xn - mx) (yn - my') - (xo - mx) (yo - my')

(``mx`` the old x-window mean, ``my'`` the new y-window mean): only centred quantities, so a
large offset costs no precision, unlike raw sums ``Σxy - n x̄ ȳ``. All lags are updated together
in the inner loop, which for every convention runs over plain array views (each lag either
shares the x sample or the y sample of the step), so it vectorises; ``r = sxy * isd_x * isd_y``
is written straight into the output row. Windows are processed in chunks (the unit of parallel
work); each chunk re-initialises ``sxy`` exactly (two-pass), so rounding never accumulates over
more than ``max(2048, 4 W)`` updates.

Where a chunk's data hold missing values, the chunk is cut into spans of about 256 updates;
spans whose samples are all finite use the path above, the others carry a pairwise-complete
state per lag (``n, mean_x, mean_y, sxx, syy, sxy``) that removes and adds one pair at a time,
re-initialised exactly at every span.

A cell is settled exactly (two-pass over its pairs, with an exact constancy test) when either
side is near-constant — centred sum of squares below ``tol * W * M**2`` (``M`` the largest
deviation in the chunk) — or when ``sqrt(sxx * syy)`` is below ``1e-4`` of its largest value in
the chunk (the running sum's rounding scales with the chunk's largest variances). A side that is
exactly constant over its valid pairs is always NaN, by the run-length flag or the exact test.

When the step is at least half a window the running update does more work than a direct pass
per cell, and every cell is computed directly (one centred pass with the window moments, or the
two-pass where pairs are missing).
"""
from __future__ import annotations

import numpy as np
from numba import njit, prange

# Order of the per-window reductions in a ``stats`` array (rows).
STAT_FIELDS = (
    "n_cells",
    "sum_abs_z",
    "max_abs_z",
    "max_r",
    "max_r_lag_n",
    "sum_z_lead",
    "n_lead",
    "sum_z_follow",
    "n_follow",
    "z_lag0",
)
N_STATS = len(STAT_FIELDS)
R_CLIP = 1.0 - 1e-12
_EPS = 2.220446049250313e-16
_COND = 1e-4  # see _scale: relative variance-product floor for the running co-moment
_NAN_REINIT = 256  # updates between exact re-initialisations where pairs are missing


@njit(cache=True, nogil=True, error_model="numpy")
def _cell(x, y, ax, ay, W, minn):
    """Exact two-pass pairwise-complete Pearson r of ``x[ax:ax+W]`` and ``y[ay:ay+W]``.

    Returns ``(r, n)``: NaN when fewer than ``minn`` (or 2) pairs are finite or when either
    side is exactly constant over the finite pairs.
    """
    n = 0
    sx = 0.0
    sy = 0.0
    for i in range(W):
        a = x[ax + i]
        b = y[ay + i]
        if np.isfinite(a) and np.isfinite(b):
            n += 1
            sx += a
            sy += b
    if n < 2 or n < minn:
        return np.nan, n
    mx = sx / n
    my = sy / n
    sxx = 0.0
    syy = 0.0
    sxy = 0.0
    x0 = np.nan
    y0 = np.nan
    const_x = True
    const_y = True
    first = True
    for i in range(W):
        a = x[ax + i]
        b = y[ay + i]
        if np.isfinite(a) and np.isfinite(b):
            if first:
                x0 = a
                y0 = b
                first = False
            else:
                if a != x0:
                    const_x = False
                if b != y0:
                    const_y = False
            dx = a - mx
            dy = b - my
            sxx += dx * dx
            syy += dy * dy
            sxy += dx * dy
    if const_x or const_y:
        return np.nan, n
    r = sxy / np.sqrt(sxx * syy)
    if r > 1.0:
        r = 1.0
    elif r < -1.0:
        r = -1.0
    return r, n


@njit(cache=True, nogil=True, error_model="numpy")
def _reduce_row(row, lag_n, stats, k):
    """Per-window reductions over lags of one row of r (see ``STAT_FIELDS``)."""
    ncell = 0
    sabs = 0.0
    maxabs = -np.inf
    maxr = -np.inf
    best = 0
    slead = 0.0
    nlead = 0
    sfol = 0.0
    nfol = 0
    z0 = np.nan
    for j in range(row.shape[0]):
        r = row[j]
        if not (r == r):
            continue
        rc = r
        if rc > R_CLIP:
            rc = R_CLIP
        elif rc < -R_CLIP:
            rc = -R_CLIP
        z = 0.5 * np.log((1.0 + rc) / (1.0 - rc))
        az = abs(z)
        ncell += 1
        sabs += az
        if az > maxabs:
            maxabs = az
        lag = lag_n[j]
        if r > maxr:
            maxr = r
            best = lag
        elif r == maxr:
            # ties: the lag nearest 0, then the negative one
            if abs(lag) < abs(best) or (abs(lag) == abs(best) and lag < best):
                best = lag
        if lag > 0:
            slead += z
            nlead += 1
        elif lag < 0:
            sfol += z
            nfol += 1
        else:
            z0 = z
    stats[0, k] = ncell
    stats[1, k] = sabs
    stats[5, k] = slead
    stats[6, k] = nlead
    stats[7, k] = sfol
    stats[8, k] = nfol
    stats[9, k] = z0
    if ncell > 0:
        stats[2, k] = maxabs
        stats[3, k] = maxr
        stats[4, k] = best
    else:
        stats[2, k] = np.nan
        stats[3, k] = np.nan
        stats[4, k] = np.nan


@njit(cache=True, nogil=True, error_model="numpy")
def _absmax(a, lo, hi):
    m = 0.0
    for i in range(max(lo, 0), min(hi, a.shape[0])):
        v = abs(a[i])
        if v > m and np.isfinite(v):
            m = v
    return m


@njit(cache=True, nogil=True, error_model="numpy")
def _span_clean(badx, bady, b0, S, W, lo_ox, hi_ox, lo_oy, hi_oy, k, kend):
    """Whether every sample used by windows ``k … kend`` (all lags) is finite."""
    xlo = b0 + k * S + lo_ox
    xhi = b0 + kend * S + hi_ox + W
    ylo = b0 + k * S + lo_oy
    yhi = b0 + kend * S + hi_oy + W
    return (badx[xhi] - badx[xlo] == 0) and (bady[yhi] - bady[ylo] == 0)


@njit(cache=True, nogil=True, error_model="numpy")
def _minpos(a, lo, hi):
    """Smallest non-NaN value of ``a[lo:hi]`` (inf when none)."""
    m = np.inf
    for i in range(max(lo, 0), min(hi, a.shape[0])):
        v = a[i]
        if v < m:
            m = v
    return m


@njit(cache=True, nogil=True, error_model="numpy")
def window_moments(a, W, mean, isd, const, orig):
    """Moments of every complete window ``a[t : t+W]`` (``t = 0 … N-W``), written in place.

    ``mean[t]``: the window mean; ``isd[t]``: ``1/sqrt(Σ(a - mean)²)``; ``const[t]``: 1 when
    the window of ``orig`` (``a`` before any shift) is exactly constant (a run-length test,
    not rounding). Windows holding a
    non-finite value get ``mean = isd = NaN``. ``isd`` is also NaN for near-constant windows
    (centred sum of squares below ``tol * W * M**2``, ``M`` the local largest magnitude), which
    tells the caller to compute those cells exactly. Sliding centred update, re-initialised
    exactly (two-pass) every ``max(2048, 4W)`` starts.
    """
    N = a.shape[0]
    T = N - W + 1
    if T <= 0:
        return
    # run-length constancy: nxt = first index after t whose value differs from a[t]
    nxt = np.empty(N, dtype=np.int64)
    nxt[N - 1] = N
    for t in range(N - 2, -1, -1):
        nxt[t] = t + 1 if orig[t + 1] != orig[t] else nxt[t + 1]
    bad = np.zeros(N + 1, dtype=np.int64)
    for t in range(N):
        bad[t + 1] = bad[t] + (0 if np.isfinite(a[t]) else 1)
    B = max(2048, 4 * W)
    tol = max(1e-8, 1e3 * (B + W) * _EPS)
    invW = 1.0 / W
    for b in range(0, T, B):
        e = min(T, b + B)
        M = _absmax(a, b, e + W - 1)
        thr = tol * W * M * M
        valid = False
        m = 0.0
        ss = 0.0
        err = 0.0
        for t in range(b, e):
            const[t] = 1 if nxt[t] >= t + W else 0
            if bad[t + W] - bad[t] != 0:
                mean[t] = np.nan
                isd[t] = np.nan
                valid = False
                continue
            if valid:
                xo = a[t - 1]
                xn = a[t + W - 1]
                mn = m + (xn - xo) * invW
                t1 = (xn - m) * (xn - mn)
                t2 = (xo - m) * (xo - mn)
                ss += t1 - t2
                m = mn
                # running bound on the rounding carried by ss (and by the mean, through the
                # offset M); re-initialise once it could exceed ~1e-13 of ss
                err += _EPS * (abs(t1) + abs(t2) + abs(ss) + 2.0 * M * abs(xn - xo))
                if err > 1e-13 * ss:
                    valid = False
            if not valid:
                s1 = 0.0
                for i in range(W):
                    s1 += a[t + i]
                m = s1 * invW
                ss = 0.0
                for i in range(W):
                    d = a[t + i] - m
                    ss += d * d
                err = 0.0
                valid = True
            mean[t] = m
            isd[t] = 1.0 / np.sqrt(ss) if ss > thr else np.nan


@njit(cache=True, nogil=True, error_model="numpy")
def _update(acc, vo, vn, vm, so, sn, sm):
    """acc[j] += (vn[j] - vm[j]) (sn - sm) - (vo[j] - vm[j]) (so - sm): one centred step."""
    dn = sn - sm
    do = so - sm
    for j in range(acc.shape[0]):
        m = vm[j]
        acc[j] += (vn[j] - m) * dn - (vo[j] - m) * do


@njit(cache=True, nogil=True, error_model="numpy")
def _update_steps(acc, vo, vn, vm, so, sn, sm, S):
    """``S`` successive :func:`_update` steps: step ``s`` uses ``vo[s:], vn[s:], vm[s:]`` and
    the scalars ``so[s], sn[s], sm[s]`` (views are made once per window, not per step)."""
    n = acc.shape[0]
    for s in range(S):
        dn = sn[s] - sm[s]
        do = so[s] - sm[s]
        for j in range(n):
            m = vm[s + j]
            acc[j] += (vn[s + j] - m) * dn - (vo[s + j] - m) * do


@njit(cache=True, nogil=True, error_model="numpy")
def _direct_lags(acc, xw, m1, yv, mv, W):
    """acc[j] = Σ_i (xw[i] - m1) (yv[i + j] - mv[j]): centred co-moments of one x window with
    consecutive y windows, the lag loop innermost so that it vectorises."""
    n = acc.shape[0]
    for j in range(n):
        acc[j] = 0.0
    for i in range(W):
        dx = xw[i] - m1
        for j in range(n):
            acc[j] += dx * (yv[i + j] - mv[j])


@njit(cache=True, nogil=True, error_model="numpy")
def _update_rev(acc, x, mx, lo, hi, D, W, so, sn, sm):
    """:func:`_update` for y-fixed lags, whose x starts ``lo, lo+D, … < hi`` run backwards
    in lag order."""
    _update(acc[::-1], x[lo:hi:D], x[lo + W:hi + W:D], mx[lo:hi:D], so, sn, sm)


@njit(cache=True, nogil=True, error_model="numpy")
def _update_scale(acc, vo, vn, vm, so, sn, sm, row, q, iv, G):
    """:func:`_update` then :func:`_scale` in one pass (step of one sample)."""
    dn = sn - sm
    do = so - sm
    nbad = 0
    for j in range(acc.shape[0]):
        m = vm[j]
        a = acc[j] + (vn[j] - m) * dn - (vo[j] - m) * do
        acc[j] = a
        g = q * iv[j]
        v = a * g
        if g > G:
            v = np.nan
        if v > 1.0:
            v = 1.0
        if v < -1.0:
            v = -1.0
        row[j] = v
        nbad += v != v
    return nbad


@njit(cache=True, nogil=True, error_model="numpy")
def _scale(row, acc, q, iv, G):
    """row[j] = acc[j] * q * iv[j] clipped to [-1, 1]; returns how many are NaN. NaN flags a
    cell to settle exactly: a NaN ``iv`` or ``q`` (near-constant side) or ``q * iv[j] > G``
    (the window's variance is far below the chunk's, so the running sum's rounding, which
    scales with the chunk's largest variances, would not be negligible)."""
    nbad = 0
    for j in range(acc.shape[0]):
        g = q * iv[j]
        v = acc[j] * g
        if g > G:
            v = np.nan
        if v > 1.0:
            v = 1.0
        if v < -1.0:
            v = -1.0
        row[j] = v
        nbad += v != v
    return nbad


@njit(cache=True, nogil=True, error_model="numpy")
def _chunk(x0, y0, x, y, badx, bady, mx, isx, cx, my, isy, cy, W, S, b0, ox, tau, klo, khi,
           kA, kB,
           k0, k1, minn, direct, out, cnt, stats, store, counts, reduce):
    """Compute windows ``k0 <= k < k1``: rows of r into ``out`` (``store``), pair counts into
    ``cnt`` (``counts``) and/or per-window reductions into ``stats`` (``reduce``).

    ``mx, isx, cx`` / ``my, isy, cy``: :func:`window_moments` of x / y (used where every
    sample is finite). Where a chunk holds missing values, each lag carries its own
    pairwise-complete state ``n, mean_x, mean_y, sxx, syy, sxy``. ``x, y`` are the centred
    copies the running sums use; cells settled exactly use the original ``x0, y0``.
    """
    J = tau.shape[0]
    tau0 = tau[0]
    D = tau[1] - tau[0] if J > 1 else 1
    # lags whose x start is the window base (ox = 0) form one contiguous range [jx0, jx1);
    # every other lag has its y start at the base (ox + tau = 0)
    jx0 = J
    jx1 = 0
    for j in range(J):
        if ox[j] == 0:
            if j < jx0:
                jx0 = j
            jx1 = j + 1
    if jx1 < jx0:
        jx0 = 0
        jx1 = 0
    row = np.empty(J)
    nrow = np.zeros(J, dtype=np.int64)
    amx = np.zeros(J)
    amy = np.zeros(J)
    sxx = np.zeros(J)
    syy = np.zeros(J)
    sxy = np.zeros(J)
    nn = np.zeros(J, dtype=np.int64)
    hxx = np.zeros(J)
    hyy = np.zeros(J)
    lo_ox = 0
    hi_ox = 0
    lo_oy = 0
    hi_oy = 0
    for j in range(J):
        if j == 0 or ox[j] < lo_ox:
            lo_ox = ox[j]
        if j == 0 or ox[j] > hi_ox:
            hi_ox = ox[j]
        if j == 0 or ox[j] + tau[j] < lo_oy:
            lo_oy = ox[j] + tau[j]
        if j == 0 or ox[j] + tau[j] > hi_oy:
            hi_oy = ox[j] + tau[j]
    started = False
    clean = False
    kend = k0
    G = np.inf
    tx = 0.0
    ty = 0.0
    for k in range(k0, k1):
        if store:
            row = out[k]
        if direct or k < kA or k > kB:
            # x-fixed lags of a window with all samples finite: one pass, vectorised over lags
            vec = (D == 1 and jx1 > jx0 and k >= kA and k <= kB
                   and _span_clean(badx, bady, b0, S, W, lo_ox, hi_ox, lo_oy, hi_oy, k, k))
            if vec:
                ax = b0 + k * S
                lo = ax + tau0 + jx0
                n = jx1 - jx0
                _direct_lags(sxy[jx0:jx1], x[ax:ax + W], mx[ax], y[lo:lo + n + W - 1],
                             my[lo:lo + n], W)
                nb = _scale(row[jx0:jx1], sxy[jx0:jx1], isx[ax], isy[lo:lo + n], np.inf)
                if counts:
                    nrow[jx0:jx1] = W
                if nb:
                    for j in range(jx0, jx1):
                        if not (row[j] == row[j]):
                            ay = ax + tau[j]
                            if cx[ax] or cy[ay]:
                                row[j] = np.nan
                            else:
                                r, n2 = _cell(x0, y0, ax, ay, W, minn)
                                row[j] = r
            for j in range(J):
                if vec and j >= jx0 and j < jx1:
                    continue
                if k >= klo[j] and k <= khi[j]:
                    ax = b0 + k * S + ox[j]
                    ay = ax + tau[j]
                    if bady[ay + W] - bady[ay] == 0 and badx[ax + W] - badx[ax] == 0:
                        # complete window: one centred pass with the precomputed moments
                        q = isx[ax] * isy[ay]
                        if q == q:
                            m1 = mx[ax]
                            m2 = my[ay]
                            acc = 0.0
                            for i in range(W):
                                acc += (x[ax + i] - m1) * (y[ay + i] - m2)
                            r = min(1.0, max(-1.0, acc * q))
                        elif cx[ax] or cy[ay]:
                            r = np.nan
                        else:
                            r, n2 = _cell(x0, y0, ax, ay, W, minn)
                        row[j] = r
                        nrow[j] = W
                    else:
                        r, n = _cell(x0, y0, ax, ay, W, minn)
                        row[j] = r
                        nrow[j] = n
                else:
                    row[j] = np.nan
                    nrow[j] = 0
        else:
            nbad = 0
            fused = False
            if started and k > kend:
                started = False  # end of the span: re-initialise exactly
            if not started:
                started = True
                # the longest span of windows whose data are all finite (up to the chunk's
                # end); where data are missing, spans of about _NAN_REINIT updates, each
                # re-initialised exactly (the pairwise state drifts faster) and re-tested,
                # so one gap does not slow a whole chunk
                kend = min(k1 - 1, kB)
                clean = _span_clean(badx, bady, b0, S, W, lo_ox, hi_ox, lo_oy, hi_oy, k, kend)
                if not clean:
                    kend = min(kend, k + max(1, _NAN_REINIT // S) - 1)
                    clean = _span_clean(badx, bady, b0, S, W, lo_ox, hi_ox, lo_oy, hi_oy, k,
                                        kend)
                xlo = b0 + k * S + lo_ox
                xhi = b0 + kend * S + hi_ox + W
                ylo = b0 + k * S + lo_oy
                yhi = b0 + kend * S + hi_oy + W
                upd = (kend - k) * S + W
                tol = max(1e-8, 1e3 * upd * _EPS)
                mxa = _absmax(x, xlo, xhi)
                mya = _absmax(y, ylo, yhi)
                tx = tol * W * mxa * mxa
                ty = tol * W * mya * mya
                if clean:
                    # G: cells whose 1/sqrt(sxx syy) exceeds _COND / sqrt(max sxx * max syy)
                    # over the chunk's windows are settled exactly (see _scale)
                    G = _minpos(isx, xlo, xhi - W + 1) * _minpos(isy, ylo, yhi - W + 1) / _COND
                    for j in range(J):
                        ax = b0 + k * S + ox[j]
                        ay = ax + tau[j]
                        m1 = mx[ax]
                        m2 = my[ay]
                        acc = 0.0
                        for i in range(W):
                            acc += (x[ax + i] - m1) * (y[ay + i] - m2)
                        sxy[j] = acc
                        nn[j] = W
                else:
                    # exact two-pass initialisation of every lag's pairwise-complete state
                    for j in range(J):
                        ax = b0 + k * S + ox[j]
                        ay = ax + tau[j]
                        n = 0
                        s1 = 0.0
                        s2 = 0.0
                        for i in range(W):
                            a = x[ax + i]
                            b = y[ay + i]
                            if np.isfinite(a) and np.isfinite(b):
                                n += 1
                                s1 += a
                                s2 += b
                        nn[j] = n
                        if n == 0:
                            amx[j] = 0.0
                            amy[j] = 0.0
                            sxx[j] = 0.0
                            syy[j] = 0.0
                            sxy[j] = 0.0
                            continue
                        m1 = s1 / n
                        m2 = s2 / n
                        a2 = 0.0
                        b2 = 0.0
                        ab = 0.0
                        for i in range(W):
                            a = x[ax + i]
                            b = y[ay + i]
                            if np.isfinite(a) and np.isfinite(b):
                                da = a - m1
                                db = b - m2
                                a2 += da * da
                                b2 += db * db
                                ab += da * db
                        amx[j] = m1
                        amy[j] = m2
                        sxx[j] = a2
                        syy[j] = b2
                        sxy[j] = ab
                        hxx[j] = a2
                        hyy[j] = b2
            elif clean:
                # centred co-moment update, all lags together; window moments precomputed.
                # x-fixed lags (ox = 0) share the x sample, y-fixed lags (ox + tau = 0) the
                # y sample, so each inner loop runs over plain array views.
                if S > 1 and D == 1:
                    # several updates per window: one call per lag range, views made once
                    base = b0 + (k - 1) * S
                    if jx1 > jx0:
                        lo = base + tau0 + jx0
                        e = lo + (jx1 - jx0) + S - 1
                        _update_steps(sxy[jx0:jx1], y[lo:e], y[lo + W:e + W],
                                      my[lo + 1:e + 1], x[base:base + S],
                                      x[base + W:base + W + S], mx[base:base + S], S)
                    if jx0 > 0:
                        lo = base - tau0 - (jx0 - 1)
                        e = lo + jx0 + S - 1
                        _update_steps(sxy[0:jx0][::-1], x[lo:e], x[lo + W:e + W], mx[lo:e],
                                      y[base:base + S], y[base + W:base + W + S],
                                      my[base + 1:base + 1 + S], S)
                    if jx1 < J:
                        lo = base - tau0 - (J - 1)
                        e = lo + (J - jx1) + S - 1
                        _update_steps(sxy[jx1:J][::-1], x[lo:e], x[lo + W:e + W], mx[lo:e],
                                      y[base:base + S], y[base + W:base + W + S],
                                      my[base + 1:base + 1 + S], S)
                for s in range(S if (S == 1 or D > 1) else 0):
                    base = b0 + (k - 1) * S + s
                    if S == 1 and D == 1 and jx1 > jx0:
                        # one update per window: update and scale in a single pass
                        lo = base + tau0 + jx0
                        hi = base + tau0 + jx1
                        nbad += _update_scale(sxy[jx0:jx1], y[lo:hi], y[lo + W:hi + W],
                                              my[lo + 1:hi + 1], x[base], x[base + W],
                                              mx[base], row[jx0:jx1], isx[base + 1],
                                              isy[lo + 1:hi + 1], G)
                        fused = True
                    elif jx1 > jx0:
                        lo = base + tau0 + jx0 * D
                        hi = base + tau0 + (jx1 - 1) * D + 1
                        if D == 1:
                            _update(sxy[jx0:jx1], y[lo:hi], y[lo + W:hi + W],
                                    my[lo + 1:hi + 1], x[base], x[base + W], mx[base])
                        else:
                            _update(sxy[jx0:jx1], y[lo:hi:D], y[lo + W:hi + W:D],
                                    my[lo + 1:hi + 1:D], x[base], x[base + W], mx[base])
                    if jx0 > 0:
                        _update_rev(sxy[0:jx0], x, mx, base - tau0 - (jx0 - 1) * D,
                                    base - tau0 + 1, D, W, y[base], y[base + W], my[base + 1])
                    if jx1 < J:
                        _update_rev(sxy[jx1:J], x, mx, base - tau0 - (J - 1) * D,
                                    base - tau0 - jx1 * D + 1, D, W, y[base], y[base + W],
                                    my[base + 1])
            else:
                for s in range(S):
                    base = b0 + (k - 1) * S + s
                    for j in range(J):
                        io = base + ox[j]
                        jo = io + tau[j]
                        xo = x[io]
                        yo = y[jo]
                        if np.isfinite(xo) and np.isfinite(yo):
                            n = nn[j] - 1
                            nn[j] = n
                            if n == 0:
                                amx[j] = 0.0
                                amy[j] = 0.0
                                sxx[j] = 0.0
                                syy[j] = 0.0
                                sxy[j] = 0.0
                            else:
                                mxo = amx[j]
                                myo = amy[j]
                                mxn = mxo - (xo - mxo) / n
                                myn = myo - (yo - myo) / n
                                sxy[j] -= (xo - mxo) * (yo - myn)
                                sxx[j] -= (xo - mxo) * (xo - mxn)
                                syy[j] -= (yo - myo) * (yo - myn)
                                amx[j] = mxn
                                amy[j] = myn
                        xn = x[io + W]
                        yn = y[jo + W]
                        if np.isfinite(xn) and np.isfinite(yn):
                            n = nn[j] + 1
                            nn[j] = n
                            mxo = amx[j]
                            myo = amy[j]
                            mxn = mxo + (xn - mxo) / n
                            myn = myo + (yn - myo) / n
                            sxy[j] += (xn - mxo) * (yn - myn)
                            sxx[j] += (xn - mxo) * (xn - mxn)
                            syy[j] += (yn - myo) * (yn - myn)
                            amx[j] = mxn
                            amy[j] = myn
            if clean:
                # vectorisable pass; NaN marks a near-constant side: settle those exactly
                base = b0 + k * S
                if jx1 > jx0 and not fused:
                    lo = base + tau0 + jx0 * D
                    hi = base + tau0 + (jx1 - 1) * D + 1
                    if D == 1:
                        nbad += _scale(row[jx0:jx1], sxy[jx0:jx1], isx[base], isy[lo:hi], G)
                    else:
                        nbad += _scale(row[jx0:jx1], sxy[jx0:jx1], isx[base], isy[lo:hi:D], G)
                if jx0 > 0:
                    lo = base - tau0 - (jx0 - 1) * D
                    hi = base - tau0 + 1
                    nbad += _scale(row[0:jx0][::-1], sxy[0:jx0][::-1], isy[base],
                                   isx[lo:hi:D], G)
                if jx1 < J:
                    lo = base - tau0 - (J - 1) * D
                    hi = base - tau0 - jx1 * D + 1
                    nbad += _scale(row[jx1:J][::-1], sxy[jx1:J][::-1], isy[base],
                                   isx[lo:hi:D], G)
                if counts:
                    nrow[:] = W
                if nbad:
                    for j in range(J):
                        if not (row[j] == row[j]):
                            ax = base + ox[j]
                            ay = ax + tau[j]
                            if cx[ax] or cy[ay]:
                                row[j] = np.nan
                            else:
                                r, n2 = _cell(x0, y0, ax, ay, W, minn)
                                row[j] = r
            else:
                for j in range(J):
                    row[j] = sxy[j] / np.sqrt(sxx[j] * syy[j])
                    nrow[j] = nn[j]
                for j in range(J):
                    n = nn[j]
                    if sxx[j] > hxx[j]:
                        hxx[j] = sxx[j]
                    if syy[j] > hyy[j]:
                        hyy[j] = syy[j]
                    if n < 2 or n < minn:
                        row[j] = np.nan
                    elif (sxx[j] <= tx or syy[j] <= ty
                          or sxx[j] * syy[j] < _COND * _COND * hxx[j] * hyy[j]):
                        ax = b0 + k * S + ox[j]
                        r, n2 = _cell(x0, y0, ax, ax + tau[j], W, minn)
                        row[j] = r
                    else:
                        row[j] = min(1.0, max(-1.0, row[j]))
        if counts:
            cnt[k, :] = nrow
        if reduce:
            _reduce_row(row, tau, stats, k)


@njit(cache=True, nogil=True, error_model="numpy")
def _centred(a):
    """``a`` minus the mean of its finite values (Pearson r does not change, and the running
    sums then carry deviations rather than a large offset such as 70 bpm or 1e4)."""
    s = 0.0
    n = 0
    for v in a:
        if np.isfinite(v):
            s += v
            n += 1
    c = s / n if n else 0.0
    out = np.empty_like(a)
    for i in range(a.shape[0]):
        out[i] = a[i] - c
    return out


@njit(cache=True, nogil=True, error_model="numpy")
def _prepare(x0, y0, W):
    """Centred copies of x and y, prefix counts of their non-finite samples and their
    :func:`window_moments`."""
    x = _centred(x0)
    y = _centred(y0)
    N = x.shape[0]
    T = max(N - W + 1, 0)
    badx = np.zeros(N + 1, dtype=np.int64)
    bady = np.zeros(N + 1, dtype=np.int64)
    for t in range(N):
        badx[t + 1] = badx[t] + (0 if np.isfinite(x[t]) else 1)
        bady[t + 1] = bady[t] + (0 if np.isfinite(y[t]) else 1)
    mx = np.empty(T)
    isx = np.empty(T)
    cx = np.empty(T, dtype=np.int8)
    my = np.empty(T)
    isy = np.empty(T)
    cy = np.empty(T, dtype=np.int8)
    window_moments(x, W, mx, isx, cx, x0)
    window_moments(y, W, my, isy, cy, y0)
    return x, y, badx, bady, mx, isx, cx, my, isy, cy


@njit(cache=True, parallel=True, error_model="numpy")
def wcc_parallel(x, y, W, S, b0, ox, tau, klo, khi, kA, kB, K, Kc, minn, direct,
                 out, cnt, stats, store, counts, reduce):
    """All windows, parallel over chunks of ``Kc`` windows (each chunk re-initialises)."""
    xc, yc, badx, bady, mx, isx, cx, my, isy, cy = _prepare(x, y, W)
    nch = (K + Kc - 1) // Kc
    for c in prange(nch):
        k0 = c * Kc
        k1 = min(K, k0 + Kc)
        _chunk(x, y, xc, yc, badx, bady, mx, isx, cx, my, isy, cy, W, S, b0, ox, tau, klo,
               khi, kA, kB, k0, k1, minn, direct, out, cnt, stats, store, counts, reduce)


@njit(cache=True, nogil=True, error_model="numpy")
def wcc_serial(x, y, W, S, b0, ox, tau, klo, khi, kA, kB, K, Kc, minn, direct,
               out, cnt, stats, store, counts, reduce):
    """:func:`wcc_parallel` on one thread (small jobs: no thread wake-up cost)."""
    xc, yc, badx, bady, mx, isx, cx, my, isy, cy = _prepare(x, y, W)
    nch = (K + Kc - 1) // Kc
    for c in range(nch):
        k0 = c * Kc
        k1 = min(K, k0 + Kc)
        _chunk(x, y, xc, yc, badx, bady, mx, isx, cx, my, isy, cy, W, S, b0, ox, tau, klo,
               khi, kA, kB, k0, k1, minn, direct, out, cnt, stats, store, counts, reduce)


@njit(cache=True, parallel=True, error_model="numpy")
def stats_many(x, ys, W, S, b0, ox, tau, klo, khi, kA, kB, K, Kc, minn, direct, stats):
    """Per-window reductions for many y series (rows of ``ys``), parallel over series."""
    ns = ys.shape[0]
    nch = (K + Kc - 1) // Kc
    out = np.empty((0, 0))
    cnt = np.empty((0, 0), dtype=np.int64)
    for i in prange(ns):
        xc, yc, badx, bady, mx, isx, cx, my, isy, cy = _prepare(x, ys[i], W)
        for c in range(nch):
            k0 = c * Kc
            k1 = min(K, k0 + Kc)
            _chunk(x, ys[i], xc, yc, badx, bady, mx, isx, cx, my, isy, cy, W, S, b0, ox, tau,
                   klo, khi,
                   kA, kB, k0, k1, minn, direct, out, cnt, stats[i], False, False, True)
