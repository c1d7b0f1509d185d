"""Calibration: false-positive rate on independent pairs, power on coupled ones.

The benchmark (benchmarks/bench_calibration.py) runs the same ``rejection_rate`` on enough
pairs to state the rate to +-1.5 %; here a smaller run with a binomial tolerance.

Tolerance: with n pairs and a true rate of 0.05 the observed rate has standard error
sqrt(0.05 * 0.95 / n); we accept 0.05 +- 3 SE (a calibrated method fails this with
probability 0.3 %; the seeds are fixed, so the outcome is reproducible). The known
miscalibrated procedure (random derangements of segments) is checked to fail (slow).
"""
from __future__ import annotations

import numpy as np
import pytest

from tests.stats._sim import pseudo_dyad_pvalues, random_derangement_rate, rejection_rate

# 10-minute pairs, window 15 s, lags +-2 s: segment_shuffle gets 20 segments of 30 s and
# uses all 19 rotations, so its exact size at 0.05 is 1/20
SHORT = dict(minutes=10.0, window=15.0, step=1.0, max_lag=2.0)


def _band(n):
    se = np.sqrt(0.05 * 0.95 / n)
    return 0.05 - 3 * se, 0.05 + 3 * se


@pytest.mark.parametrize("method, kind, n, n_sur", [("segment_shuffle", "hr", 300, 99),
                                                   ("circular_shift", "scl", 150, 19)])
def test_false_positive_rate_is_alpha(method, kind, n, n_sur):
    # with 19 surrogates an exchangeable null rejects at p = 1/20 exactly 5 % of the time
    rate, ps = rejection_rate(method, kind, n_pairs=n, n_surrogates=n_sur, seed=1, **SHORT)
    lo, hi = _band(n)
    assert lo <= rate <= hi, f"{method}/{kind}: false-positive rate {rate:.3f} outside [{lo:.3f}, {hi:.3f}]"
    # the p-values are roughly uniform too: mean about 0.5 with sd 0.29/sqrt(n); 4 sd margin
    assert abs(ps.mean() - 0.5) < 4 * 0.29 / np.sqrt(n)


def test_power_on_coupled_pairs():
    # y follows x by 2 s with coupling 0.5 (shared-component correlation 0.5) on 20-minute
    # heart-rate pairs: the benchmark measures power 0.9 or more (issue: >= 0.8); with 30
    # pairs the standard error is about 0.06, so 0.7 is a 3-SE floor.
    rate, _ = rejection_rate("segment_shuffle", "hr", n_pairs=30, coupling=0.5, seed=7,
                             minutes=20.0)
    assert rate >= 0.7


@pytest.mark.slow
def test_random_derangements_are_anticonservative():
    # the trap the issue describes, kept out of surrogate_test: random derangements of 10
    # segments (statistic over in-segment windows): the null is too narrow by about
    # K/(K-1), and on HR also by the slow structure of the local correlation. These seeds
    # give 9.75 %; the assertion asks only for more than 5 % + 2 SE (7.2 %).
    rate = random_derangement_rate("hr", n_pairs=400, seed=3, minutes=10.0,
                                   segment_s=60.0, window=15.0, max_lag=2.0)
    assert rate > 0.05 + 2 * np.sqrt(0.05 * 0.95 / 400)


@pytest.mark.slow
@pytest.mark.parametrize("method", ["segment_shuffle", "circular_shift", "phase"])
def test_false_positive_rate_large(method):
    n = 800
    rate, _ = rejection_rate(method, "hr", n_pairs=n, seed=11, **SHORT)
    lo, hi = _band(n)
    assert lo <= rate <= hi


# ------------------------------------------------------------------ pseudo-dyads (batch null)
# Studies of 20 independent 10-minute sessions; each session's client is tested against the
# other 19 sessions' therapists, as `synchrony batch --pseudo-dyads` does. Sessions in one study
# share partners, so their p-values are weakly dependent: the standard error used is the larger
# of the binomial one and the one measured between studies (studies are independent).

def _se(ps):
    per_study = (ps <= 0.05).mean(axis=1)
    return max(np.sqrt(0.05 * 0.95 / ps.size), per_study.std(ddof=1) / np.sqrt(len(per_study)))


def test_pseudo_dyads_are_calibrated_on_uncoupled_sessions():
    # equal lengths: the real pair is exchangeable with its 19 pseudo-dyads, so p is uniform
    # on {1/20, ..., 1} and P(p <= 0.05) = 1/20 exactly; accept 0.05 +- 3 SE
    ps = pseudo_dyad_pvalues("hr", n_studies=40, seed=21)
    rate, se = (ps <= 0.05).mean(), _se(ps)
    assert abs(rate - 0.05) <= 3 * se, f"false-positive rate {rate:.3f}, SE {se:.3f}"
    # mean of the uniform on {k/20} is 0.525, sd 0.288; 4 SE margin (dependence: x2 on the SE)
    assert abs(ps.mean() - 0.525) < 4 * 2 * 0.288 / np.sqrt(ps.size)


def test_pseudo_dyads_with_unequal_session_lengths_are_not_liberal():
    # sessions of 7-10 minutes: shorter partners are NaN-extended, so their statistic averages
    # fewer windows and the null is wider than the real pair's sampling spread; the test can
    # only become conservative. Checked: the rate does not exceed 0.05 + 3 SE.
    ps = pseudo_dyad_pvalues("scl", n_studies=20, shortest=0.7, seed=22)
    assert (ps <= 0.05).mean() <= 0.05 + 3 * _se(ps)


def test_pseudo_dyads_detect_coupled_sessions():
    # every session coupled (0.5, 2 s lag): the real pair beats most pseudo-dyads; these seeds
    # reject in about 60 % of sessions (p cannot go below 1/20 with 19 partners), 0.35 is far
    # above anything an uncoupled study gives (0.05 + 3 SE is about 0.09)
    ps = pseudo_dyad_pvalues("hr", n_studies=8, coupling=0.5, seed=23)
    assert (ps <= 0.05).mean() >= 0.35
