"""Surrogate generators against slow, obvious twins and against the properties they keep."""
from __future__ import annotations

import itertools

import numpy as np
import pytest

from synchrony.errors import ConfigError
from synchrony.stats import surrogates as sur


def twin_slot_permutation(y, seg, perm):
    """Slot p of the result = start of slot perm[p]; short source leaves NaN, long is cut."""
    slots = [list(y[i:i + seg]) for i in range(0, len(y), seg)]
    out = []
    for p, q in enumerate(perm):
        piece = slots[q][: len(slots[p])]
        out.extend(piece + [np.nan] * (len(slots[p]) - len(piece)))
    return np.array(out, dtype=float)


def test_derangement_has_no_fixed_point_and_is_uniform():
    rng = np.random.default_rng(0)
    draws = [tuple(sur.derangement(4, random_state=rng)) for _ in range(4500)]
    assert all(p[i] != i for p in draws for i in range(4))
    counts = np.array([draws.count(p) for p in set(draws)])
    # all 9 derangements of 4 appear, each with probability 1/9: expected 500, sd ~21;
    # +-100 is ~4.7 sd, loose enough never to flake yet catches a biased sampler.
    assert len(counts) == sur.n_derangements(4) == 9
    assert np.all(np.abs(counts - 500) < 100)


@pytest.mark.parametrize("n, seg", [(12, 4), (10, 4), (11, 3), (7, 5)])
def test_segment_shuffle_matches_twin_and_moves_every_segment(n, seg):
    y = np.arange(n, dtype=float)
    y[2] = np.nan
    s, perms = sur.segment_shuffle(y, seg, n_surrogates=30, random_state=5,
                                   return_permutations=True)
    assert s.shape == (30, n)
    for row, p in zip(s, perms):
        assert not np.any(p == np.arange(p.size)), "a segment stayed in place"
        np.testing.assert_array_equal(row, twin_slot_permutation(y, seg, p))
        # every value is an observation of y (each at most once) or NaN; none invented
        vals = row[np.isfinite(row)]
        assert np.all(np.isin(vals, y)) and len(set(vals)) == vals.size
        starts = np.arange(0, n, seg)
        for a in starts:  # no sample sits at its own position inside a moved segment
            fin = np.isfinite(row[a:a + seg]) & np.isfinite(y[a:a + seg])
            assert not np.any(row[a:a + seg][fin] == y[a:a + seg][fin])


def test_segment_shuffle_remainder_takes_part():
    y = np.arange(10.0)  # slots [0..3] [4..7] [8, 9]
    s, perms = sur.segment_shuffle(y, 4, n_surrogates=200, random_state=1,
                                   return_permutations=True)
    # the remainder slot (index 2) is deranged like the others: it never keeps 8, 9
    assert not np.any((s[:, 8] == 8) | (s[:, 9] == 9))
    # and the remainder content (8, 9) shows up elsewhere, followed by NaN in its slot
    moved = perms[:, 0] == 2
    assert moved.any()
    np.testing.assert_array_equal(s[moved][0, :4], [8.0, 9.0, np.nan, np.nan])


def test_segment_shuffle_rejects_single_segment():
    with pytest.raises(ConfigError, match="at least 2"):
        sur.segment_shuffle(np.arange(5.0), 5)


def test_circular_shift_range_and_values():
    y = np.arange(40.0)
    s, d = sur.circular_shift(y, 12, n_surrogates=500, random_state=2, return_shifts=True)
    assert d.min() >= 12 and d.max() <= 28 and {12, 28} <= set(d.tolist())
    for row, k in zip(s[:20], d[:20]):
        np.testing.assert_array_equal(row, np.roll(y, k))
        # no sample within min_shift of its own position, circularly
        gap = np.abs(row - y)
        assert np.all(np.minimum(gap, 40 - gap) >= 12)
    with pytest.raises(ConfigError, match="min_shift_n"):
        sur.circular_shift(y, 21)


def test_same_random_state_same_surrogates():
    y = np.cumsum(np.random.default_rng(0).normal(size=300))
    for f in (lambda r: sur.segment_shuffle(y, 50, n_surrogates=3, random_state=r),
              lambda r: sur.circular_shift(y, 60, n_surrogates=3, random_state=r),
              lambda r: sur.phase_randomise(y, n_surrogates=3, random_state=r),
              lambda r: sur.iaaft(y, n_surrogates=3, random_state=r)):
        np.testing.assert_array_equal(f(7), f(7))
        np.testing.assert_array_equal(f(np.random.default_rng(7)), f(7))
        assert not np.array_equal(f(7), f(8))


def _gappy(n=400, seed=0):
    rng = np.random.default_rng(seed)
    y = np.cumsum(rng.normal(size=n)) + 1e3
    y[100:130] = np.nan   # a long gap
    y[250] = np.inf       # a single bad sample
    y[390:] = np.nan      # a gap at the end
    y[380:384] = np.nan   # leaves a 6-sample run (380..390 minus gap) too short
    return y


def test_phase_randomise_keeps_gaps_and_spectrum_per_run():
    y = _gappy()
    s = sur.phase_randomise(y, n_surrogates=4, random_state=3, min_run_n=16)
    runs = sur.finite_runs(y)
    assert runs == [(0, 100), (130, 250), (251, 380), (384, 390)]
    for row in s:
        assert np.array_equal(np.isfinite(row[:380]), np.isfinite(y[:380]))
        assert np.all(np.isnan(row[380:]))  # short run (6 < 16) marked missing, not copied
        for a, b in runs[:3]:
            np.testing.assert_allclose(np.abs(np.fft.rfft(row[a:b])),
                                       np.abs(np.fft.rfft(y[a:b])), rtol=1e-9, atol=1e-6)
            assert abs(row[a:b].mean() - y[a:b].mean()) < 1e-9
            assert not np.allclose(row[a:b], y[a:b])


def test_iaaft_keeps_values_exactly_and_spectrum_closely():
    y = _gappy(seed=1)
    s = sur.iaaft(y, n_surrogates=3, random_state=4)
    for row in s:
        for a, b in sur.finite_runs(y)[:3]:
            np.testing.assert_array_equal(np.sort(row[a:b]), np.sort(y[a:b]))
            amp_s, amp_y = np.abs(np.fft.rfft(row[a:b])), np.abs(np.fft.rfft(y[a:b]))
            # IAAFT ends on the rank step, so the spectrum is matched only approximately;
            # for a random walk the relative L2 error settles at a few percent.
            assert np.linalg.norm(amp_s - amp_y) / np.linalg.norm(amp_y) < 0.1
        assert np.all(np.isnan(row[~np.isfinite(y)]))


def test_pseudo_dyads_roles_and_sessions():
    pairs = sur.pseudo_dyads(4)
    assert len(pairs) == 12 and all(a != b for a, _, b, _ in pairs)
    assert all(ra == "client" and rb == "therapist" for _, ra, _, rb in pairs)
    mixed = sur.pseudo_dyads(4, keep_roles=False)
    assert len(mixed) == 6 * 4 and all(a < b for a, _, b, _ in mixed)
    assert {(ra, rb) for _, ra, _, rb in mixed} == set(itertools.product(
        ("client", "therapist"), repeat=2))
    some = sur.pseudo_dyads(5, n=7, random_state=0)
    assert len(some) == len(set(some)) == 7 and set(some) <= set(sur.pseudo_dyads(5))
    with pytest.raises(ConfigError):
        sur.pseudo_dyads(1)


def test_bad_random_state_is_a_config_error():
    with pytest.raises(ConfigError, match="random_state"):
        sur.circular_shift(np.arange(10.0), 2, random_state="seed")


def test_cyclic_segment_shuffle_rotates_whole_segments():
    y = np.arange(20.0)
    s, perms = sur.segment_shuffle(y, 5, n_surrogates=50, random_state=0, cyclic=True,
                                   return_permutations=True)
    d = perms[:, 0]
    assert set(d.tolist()) == {1, 2, 3}  # all non-identity rotations of 4 slots occur
    np.testing.assert_array_equal(perms, (np.arange(4)[None, :] + d[:, None]) % 4)
    for row, k in zip(s, d):
        np.testing.assert_array_equal(row, np.roll(y, -5 * k))
