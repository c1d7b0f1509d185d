"""Congruence, association and segments on the rating clock, against obvious truths."""
import numpy as np
import pytest
from scipy import stats

from synchrony.align.segments import association, congruence, corr_test, effective_n, top_segments


def test_corr_test_matches_scipy_on_independent_bins():
    rng = np.random.default_rng(1)
    a, b = rng.standard_normal(300), rng.standard_normal(300)
    b += 0.3 * a
    res = corr_test(a, b)
    r, p = stats.pearsonr(a, b)
    assert res["r"] == pytest.approx(r, abs=1e-12)
    assert res["p_naive"] == pytest.approx(p, rel=1e-9)
    # white noise: the effective size stays near n, so the adjusted p is close to the naive one
    assert res["n_eff"] > 250


def test_adjusted_p_is_calibrated_where_naive_is_not():
    """Two independent smooth series (AR(1), phi = 0.95): the naive p rejects far too often,
    the effective-sample-size p stays near alpha. 400 pairs; binomial sd of a 5 % rate is 1.1 %,
    so the adjusted rate must stay below 10 % (over 4 sd) while the naive one exceeds 25 %."""
    rng = np.random.default_rng(7)
    n, phi, reps = 400, 0.95, 400
    naive = adjusted = 0
    for _ in range(reps):
        e = rng.standard_normal((2, n))
        x = np.empty((2, n))
        x[:, 0] = e[:, 0]
        for t in range(1, n):
            x[:, t] = phi * x[:, t - 1] + e[:, t]
        res = corr_test(x[0], x[1])
        naive += res["p_naive"] < 0.05
        adjusted += res["p_adjusted"] < 0.05
    assert naive / reps > 0.25
    assert adjusted / reps < 0.10


def test_effective_n_drops_for_autocorrelated_series():
    rng = np.random.default_rng(0)
    walk = np.cumsum(rng.standard_normal((2, 500)), axis=1)
    assert effective_n(walk[0], walk[1]) < 100


def test_congruence_paired_t_matches_scipy_and_ignores_unmatched_bins():
    rng = np.random.default_rng(3)
    a = 52 + 8 * rng.standard_normal(200)
    b = 53 + 14 * rng.standard_normal(200)
    b[10:20] = np.nan  # unmatched bins are left out, not filled
    res = congruence(a, b)
    ok = np.isfinite(b)
    t, p = stats.ttest_rel(a[ok], b[ok])
    assert res["n_pairs"] == 190 and res["df"] == 189
    assert res["t"] == pytest.approx(t, rel=1e-9)
    assert res["t_p_naive"] == pytest.approx(p, rel=1e-9)
    assert res["mean_a"] == pytest.approx(a[ok].mean())


def test_association_finds_the_rating_lag():
    """The rating copies the synchrony 5 bins later: the search must report lag +5 s."""
    rng = np.random.default_rng(5)
    sync = np.convolve(rng.standard_normal(700), np.ones(5) / 5, mode="same")
    rating = np.full_like(sync, np.nan)
    rating[5:] = sync[:-5] + 0.2 * rng.standard_normal(sync.size - 5)
    res = association(rating, sync, bin_s=1.0, max_lag_s=10.0)
    assert res["lag_s"] == 5.0
    assert res["r"] > 0.9
    assert res["n_lags_searched"] == 21
    assert res["p_adjusted"] >= res["p_naive"]


def test_top_segments_are_the_planted_ones_and_do_not_overlap():
    t = np.arange(600.0)
    r = np.full(600, 50.0)
    r[100:130] = 90
    r[400:430] = 80
    r[250:280] = 10
    helpful = top_segments(t, r, bin_s=1.0, segment_s=30, k=2)
    assert [(s["start_s"], s["end_s"]) for s in helpful] == [(100.0, 130.0), (400.0, 430.0)]
    hindering = top_segments(t, r, bin_s=1.0, segment_s=30, k=1, helpful=False)
    assert hindering[0]["start_s"] == 250.0 and hindering[0]["mean_rating"] == 10.0
    three = top_segments(t, r, bin_s=1.0, segment_s=30, k=3)
    starts = sorted(s["start_s"] for s in three)
    assert all(b - a >= 30 for a, b in zip(starts, starts[1:]))


def test_top_segments_skip_poorly_rated_stretches():
    t = np.arange(100.0)
    r = np.full(100, 50.0)
    r[0:30] = 99
    r[5:25] = np.nan  # mostly unrated: must not be chosen on its few high values
    best = top_segments(t, r, bin_s=1.0, segment_s=30, k=1)
    assert best[0]["n_rated_bins"] >= 24
