"""surrogate_test against slow twins, the contract's formulas, and ground truth."""
from __future__ import annotations

import warnings

import numpy as np
import pytest
import xarray as xr

from synchrony.errors import ConfigError, InputError
from synchrony.stats import inference as inf
from synchrony.stats import surrogates as sur
from tests.stats import _slow
from tests.stats._sim import simulate_pair

FS = 2.0
PAR = dict(fs=FS, window=10.0, step=2.0, max_lag=2.0)  # W=20, S=4, L=4 samples
W, S, L = 20, 4, 4


def _pair(n=480, seed=0, coupling=0.0):
    rng = np.random.default_rng(seed)
    x = np.cumsum(rng.normal(size=n)) * 0.3 + rng.normal(size=n)
    y = np.cumsum(rng.normal(size=n)) * 0.3 + rng.normal(size=n)
    if coupling:
        y = y + coupling * np.roll(x, 2)
    return x, y


def twin_stat(x, ys, used_rows, statistic):
    """The statistic from the slow per-cell computation, window by window."""
    out = []
    for yy, used in zip(ys, used_rows):
        r, lags = _slow.r_matrix(x, yy, window_n=W, step_n=S, max_lag_n=L)
        z = np.arctanh(np.clip(r, -1 + 1e-12, 1 - 1e-12))[used]
        if statistic == "mean_abs_z":
            out.append(np.nanmean(np.abs(z)))
        elif statistic == "peak":
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", RuntimeWarning)  # windows with no valid cell
                out.append(np.nanmean(np.nanmax(np.abs(z), axis=1)))
        elif statistic == "lead_minus_follow":
            out.append(np.nanmean(z[:, lags > 0]) - np.nanmean(z[:, lags < 0]))
    return np.array(out)


def _join_free(starts, n, d_pos_last, d_pos_first):
    """Windows whose reach [t-L, t+W+L) holds no position strictly between y's last and
    first sample (the pad) and does not hold both: the twin of the join rule."""
    ok = []
    for a in starts:
        reach = set(range(a - L, a + W + L))
        between = set(range(d_pos_last + 1, d_pos_first))
        ok.append(not (reach & between) and not ({d_pos_last, d_pos_first} <= reach))
    return np.array(ok)


@pytest.mark.parametrize("statistic", ["mean_abs_z", "peak", "lead_minus_follow"])
@pytest.mark.parametrize("n", [480, 470])  # 470: a remainder segment, NaN-extended
def test_segment_shuffle_null_is_the_statistic_of_rotated_segments(kernel, statistic, n):
    x, y = _pair(n=n)
    y[200:215] = np.nan
    t = inf.surrogate_test(x, y, **PAR, method="segment_shuffle", n_surrogates=5,
                           statistic=statistic, random_state=11, segment=30.0)
    seg, k = 60, 8
    assert t.attrs["segment_n"] == seg and t.attrs["n_segments"] == k
    shifts = t.attrs["segment_shifts"]
    assert len(shifts) == 5 and len(set(shifts)) == 5 and 0 not in shifts
    starts = np.arange(0, n - W + 1, S)
    ys, used = [], []
    for d in shifts:
        perm = (np.arange(k) + d) % k  # slot p gets slot p + d: a cyclic derangement
        ys.append(sur.apply_slot_permutation(y, seg, perm))
        # y's last sample lands at n-1-d*seg, its first at (k-d)*seg
        used.append(_join_free(starts, n, n - 1 - d * seg, (k - d) * seg))
    np.testing.assert_allclose(t.null.values, twin_stat(x, ys, used, statistic),
                               rtol=1e-9, atol=1e-12)
    every = np.ones(starts.size, bool)
    np.testing.assert_allclose(float(t.statistic), twin_stat(x, [y], [every], statistic)[0],
                               rtol=1e-9)


def test_segment_shuffle_uses_each_rotation_once_when_more_are_asked():
    x, y = _pair()
    t = inf.surrogate_test(x, y, **PAR, n_surrogates=200, random_state=0, segment=30.0)
    assert t.attrs["n_surrogates"] == 7 and t.attrs["n_surrogates_requested"] == 200
    assert t.attrs["segment_shifts"] == list(range(1, 8))
    assert float(t.p_value) >= 1 / 8


def test_random_derangement_null_matches_generated_surrogates(kernel):
    """The procedure kept only for the benchmark (not offered) is still computed right."""
    x, y = _pair()
    seg, k = 60, 8
    rng = np.random.default_rng(11)
    perms = np.stack([sur.derangement(k, random_state=rng) for _ in range(6)])
    kw = dict(window_n=W, step_n=S, max_lag_n=L, lag_step_n=1, min_valid=0.5)
    data, used, null, _ = inf._segment_null(x, y, perms, seg_n=seg, kw=kw,
                                            statistic="mean_abs_z", band="peak_z",
                                            many=kernel[1])
    starts = np.arange(0, 480 - W + 1, S)
    twin_used = np.array([(a - L) >= 0 and (a - L) // seg == (a + W + L - 1) // seg
                          for a in starts])
    np.testing.assert_array_equal(used, twin_used)
    ys = [sur.apply_slot_permutation(y, seg, p) for p in perms]
    np.testing.assert_allclose(null, twin_stat(x, ys, [used] * 6, "mean_abs_z"), rtol=1e-9)


def test_circular_shift_null_leaves_out_wrap_windows(kernel):
    x, y = _pair(seed=1)
    t = inf.surrogate_test(x, y, **PAR, method="circular_shift", n_surrogates=10,
                           random_state=3)
    ms = W + 2 * L + 1
    assert t.attrs["min_shift_n"] == ms
    shifts = sur.draw_shifts(10, 480, ms, random_state=np.random.default_rng(3))
    starts = np.arange(0, 480 - W + 1, S)
    ys, used = [], []
    for d in shifts:
        ys.append(np.roll(y, d))
        reach = [set(range(a - L, a + W + L)) for a in starts]
        used.append(np.array([not ({d - 1, d} <= r) for r in reach]))
    np.testing.assert_allclose(t.null.values, twin_stat(x, ys, used, "mean_abs_z"), rtol=1e-9)
    assert t.used.all()
    np.testing.assert_allclose(float(t.statistic),
                               twin_stat(x, [y], [np.ones(starts.size, bool)], "mean_abs_z")[0])
    # band: per-window quantiles of the surrogates' peak z over the surrogates that use it
    peak = []
    for yy, u in zip(ys, used):
        r, _ = _slow.r_matrix(x, yy, window_n=W, step_n=S, max_lag_n=L)
        peak.append(np.where(u, np.arctanh(np.clip(np.nanmax(r, 1), -1, 1 - 1e-12)), np.nan))
    lo, hi = np.nanquantile(np.array(peak), [0.025, 0.975], axis=0)
    np.testing.assert_allclose(t.null_lo.values, lo, rtol=1e-9)
    np.testing.assert_allclose(t.null_hi.values, hi, rtol=1e-9)


@pytest.mark.parametrize("method", ["phase", "iaaft"])
def test_fourier_methods_use_the_generators(kernel, method):
    x, y = _pair(seed=2)
    y[300:340] = np.nan
    t = inf.surrogate_test(x, y, **PAR, method=method, n_surrogates=5, random_state=9)
    gen = sur.phase_randomise if method == "phase" else sur.iaaft
    ys = gen(y, n_surrogates=5, random_state=np.random.default_rng(9))
    assert np.all(np.isnan(ys[:, 300:340]))  # the gap stays a gap in every surrogate
    every = [np.ones(t.sizes["time"], bool)] * 5
    np.testing.assert_allclose(t.null.values, twin_stat(x, ys, every, "mean_abs_z"), rtol=1e-9)


def test_pseudo_dyad_uses_partners_cut_or_extended(kernel):
    x, y = _pair(seed=3)
    partners = [_pair(seed=s)[1] for s in (10, 11)]
    partners[1] = partners[1][:400]  # shorter partner: the rest is missing, not filled
    t = inf.surrogate_test(x, y, **PAR, method="pseudo_dyad", partners=partners,
                           n_surrogates=200)
    ext = np.concatenate([partners[1], np.full(80, np.nan)])
    every = [np.ones(t.sizes["time"], bool)] * 2
    np.testing.assert_allclose(t.null.values, twin_stat(x, [partners[0], ext], every,
                                                        "mean_abs_z"), rtol=1e-9)
    assert t.attrs["n_surrogates"] == 2
    with pytest.raises(ConfigError, match="partners"):
        inf.surrogate_test(x, y, **PAR, method="pseudo_dyad")


def test_p_value_effect_size_and_coordinates_follow_the_contract():
    x, y = _pair(seed=4)
    t = inf.surrogate_test(x, y, **PAR, method="circular_shift", n_surrogates=50,
                           random_state=0)
    null, stat = t.null.values, float(t.statistic)
    assert float(t.p_value) == (1 + np.sum(null >= stat)) / (1 + 50)
    assert float(t.effect_size) == pytest.approx((stat - null.mean()) / null.std(ddof=1))
    np.testing.assert_allclose(t.time.values, (np.arange(t.sizes["time"]) * S + W / 2) / FS)
    assert np.all(t.null_lo.values <= t.null_hi.values)
    for key in ("method", "statistic", "band", "band_quantile", "n_surrogates", "min_shift_s",
                "windows_used", "random_state", "quantile_lo", "quantile_hi"):
        assert key in t.attrs, key
    assert t.attrs["random_state"] == 0 and t.attrs["quantile_hi"] == pytest.approx(0.975)


def test_time_coordinate_matches_wcc_for_dataarray_input():
    sy = pytest.importorskip("synchrony")
    x, y = _pair(seed=5)
    tcoord = 100.0 + np.arange(480) / FS
    xa = xr.DataArray(x, dims="time", coords={"time": tcoord})
    ya = xr.DataArray(y, dims="time", coords={"time": tcoord})
    t = inf.surrogate_test(xa, ya, **PAR, n_surrogates=5, random_state=0,
                           method="circular_shift")
    r = sy.wcc(xa, ya, **PAR)
    np.testing.assert_allclose(t.time.values, r.time.values)
    np.testing.assert_allclose(t.window_start.values, r.window_start.values)


def test_band_is_on_the_peak_z_scale_and_brackets_chance():
    x, y = _pair(n=1200, seed=6)
    t = inf.surrogate_test(x, y, **PAR, method="circular_shift", n_surrogates=100,
                           random_state=1)
    st = inf._kernel()[0](x, y, window_n=W, step_n=S, max_lag_n=L)
    peak_z = np.arctanh(st["max_r"])
    inside = (peak_z >= t.null_lo.values) & (peak_z <= t.null_hi.values)
    # independent series: the data's own peak z falls inside a 95 % band most of the time;
    # windows overlap (step 2 s of 10 s) so the fraction varies, 0.8 leaves a wide margin.
    assert inside.mean() > 0.8
    wide = inf.surrogate_test(x, y, **PAR, method="circular_shift", n_surrogates=100,
                              random_state=1, band="max_abs_z", band_quantile=0.5)
    assert wide.attrs["band"] == "max_abs_z" and np.all(wide.null_lo.values >= 0)


def test_coupled_pair_is_detected_and_independent_is_not():
    # ground truth: y follows x by 2 s with coupling 0.5; any calibrated test finds it
    x, y = simulate_pair("hr", minutes=20, coupling=0.5, lag_s=2.0, random_state=0)
    for method in ("segment_shuffle", "circular_shift", "phase"):
        t = inf.surrogate_test(x, y, fs=4.0, window=30, step=2, max_lag=5, method=method,
                               n_surrogates=99, random_state=0)
        # the data beats every surrogate: p = 1/(1 + n) (segment_shuffle: 19 rotations)
        assert float(t.p_value) == pytest.approx(1 / (1 + t.attrs["n_surrogates"])), method
        assert float(t.effect_size) > 3, method
    lead = inf.surrogate_test(x, y, fs=4.0, window=30, step=2, max_lag=5, method="phase",
                              n_surrogates=99, random_state=0, statistic="lead_minus_follow")
    assert float(lead.statistic) > 0 and float(lead.p_value) <= 0.05  # x leads


def test_missing_data_is_not_filled():
    x, y = _pair(seed=7)
    x[50:120] = np.nan
    t = inf.surrogate_test(x, y, **PAR, method="circular_shift", n_surrogates=20,
                           random_state=0)
    assert np.isfinite(float(t.statistic))
    # windows fully inside the gap have no valid cell, so no band: NaN, never 0
    starts = np.arange(t.sizes["time"]) * S
    dead = (starts >= 50) & (starts + W <= 120)
    assert dead.any() and np.all(np.isnan(t.null_lo.values[dead]))


def test_errors_name_the_parameter():
    x, y = _pair()
    with pytest.raises(ConfigError, match="method must be one of"):
        inf.surrogate_test(x, y, **PAR, method="shuffle")
    with pytest.raises(ConfigError, match="statistic must be one of"):
        inf.surrogate_test(x, y, **PAR, statistic="mean")
    with pytest.raises(ConfigError, match="min_shift"):
        inf.surrogate_test(x, y, **PAR, method="circular_shift", min_shift=14.0)
    with pytest.raises(ConfigError, match="segment"):
        inf.surrogate_test(x, y, **PAR, segment=14.0)  # 28 samples = W + 2L: too short
    with pytest.raises(InputError, match="same length"):
        inf.surrogate_test(x, y[:-1], **PAR)
    with pytest.raises(ConfigError, match="band"):
        inf.surrogate_test(x, y, **PAR, band="median")


def test_public_name():
    import synchrony as sy

    assert sy.surrogate_test is inf.surrogate_test


def test_column_quantiles_match_numpy_nanquantile():
    rng = np.random.default_rng(0)
    v = rng.normal(size=(37, 60))
    v[rng.random(v.shape) < 0.3] = np.nan
    v[:, 3] = np.nan          # no surrogate value: NaN, not 0
    v[:-1, 4] = np.nan        # a single value
    lo, hi = inf._quantiles(v, 0.9)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        np.testing.assert_allclose(lo, np.nanquantile(v, 0.05, axis=0), equal_nan=True)
        np.testing.assert_allclose(hi, np.nanquantile(v, 0.95, axis=0), equal_nan=True)


def test_segment_shuffle_band_covers_every_window():
    x, y = simulate_pair("hr", minutes=20, random_state=3)
    t = inf.surrogate_test(x, y, fs=4.0, window=30, step=1, max_lag=5, n_surrogates=200,
                           random_state=0)
    # 20 minutes: the largest multiple of 20 segments longer than 40 s is 20 (of 60 s)
    assert t.attrs["n_segments"] == 20 and t.attrs["n_surrogates"] == 19 and t.used.all()
    # a window is left out only by the rotation whose join meets it: every band is finite
    assert np.all(np.isfinite(t.null_lo)) and np.all(np.isfinite(t.null_hi))
    assert np.all(t.null_hi.values > t.null_lo.values)
