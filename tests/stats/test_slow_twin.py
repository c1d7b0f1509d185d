"""The slow window reductions agree with the numba kernel (so either may serve the tests)."""
from __future__ import annotations

import numpy as np
import pytest

from tests.stats import _slow

wcc = pytest.importorskip("synchrony.core.wcc")


@pytest.mark.parametrize("case", ["random", "nan_gaps", "offset", "constant"])
def test_slow_window_stats_matches_kernel(case):
    rng = np.random.default_rng(3)
    x = rng.normal(size=260)
    y = 0.5 * np.roll(x, 3) + rng.normal(size=260)
    if case == "nan_gaps":
        x[:7] = np.nan
        y[100:140] = np.nan
        x[-3:] = np.inf
    elif case == "offset":  # HR/SC-like offsets: the kernel must not lose precision
        x, y = x + 1e4, y + 1e4
    elif case == "constant":
        y[50:120] = 2.0
    kw = dict(window_n=40, step_n=9, max_lag_n=6, lag_step_n=2)
    a = _slow.window_stats(x, y, **kw)
    b = wcc.window_stats(x, y, **kw)
    assert set(a) == set(b)
    for key in a:
        # 1e-8: double-precision sums over 40 pairs; z = atanh(r) amplifies r errors by 1/(1-r^2)
        np.testing.assert_allclose(b[key], a[key], rtol=1e-8, atol=1e-8, equal_nan=True,
                                   err_msg=key)
