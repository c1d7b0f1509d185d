"""Peak picking on a windowed cross-correlation: one (peak r, peak lag) per window.

``method="max"``
    The global maximum of r over lags in each window; ties go to the lag nearest 0, then to
    the negative lag. NaN cells are ignored; a window with no finite cell gives NaN.
``method="boker"`` (Boker, Xu, Rotondo & King, 2002)
    Optionally smooth each window's r over lags with a centred moving average of
    ``2*smooth + 1`` lags (a span that holds a NaN or leaves the lag range gives NaN), then
    search outward from lag 0 — distance 0, 1, 2, … lag steps, at equal distance the negative
    lag first — for the first *local peak*: a lag whose smoothed value is finite and strictly
    greater than the smoothed values at the ``neighbourhood`` lags on each side, all of which
    must exist inside the lag range and be finite. ``peak_r`` is the (unsmoothed) value at that
    lag. A window with no qualifying peak (monotone r, a plateau, the maximum at the edge of
    the lag range, too many NaN) gives NaN: the edge of the lag range is not a peak because
    nothing shows the curve turns there.

Both work on whatever the DataArray holds (r, Fisher z or its absolute value).
"""
from __future__ import annotations

from typing import Any

import numpy as np
import xarray as xr

METHODS = ("max", "boker")


def peaks(r: xr.DataArray, method: str = "boker", *, neighbourhood: int = 1,
          smooth: int = 0) -> xr.Dataset:
    """Peak r and its lag for every window of a WCC result.

    Parameters
    ----------
    r : xarray.DataArray
        Output of :func:`synchrony.wcc`, dims ``("time", "lag")``.
    method : {"boker", "max"}
        See the module docstring.
    neighbourhood : int, default 1
        ``"boker"``: a local peak exceeds this many lags on each side.
    smooth : int, default 0
        ``"boker"``: half-width, in lags, of the moving average applied before the search
        (0: none).

    Returns
    -------
    xarray.Dataset
        ``peak_r`` (time) and ``peak_lag`` (time, seconds), with the input's ``time`` and
        ``window_start`` coordinates; NaN where no peak qualifies. ``attrs`` record the method
        and its parameters, and the input's attrs under their own names.

    Examples
    --------
    >>> import numpy as np, xarray as xr
    >>> r = xr.DataArray([[0.1, 0.5, 0.2, 0.6, 0.3], [0.1, 0.2, 0.3, 0.4, 0.5]],
    ...                  dims=("time", "lag"), coords={"lag": [-2, -1, 0, 1, 2]})
    >>> p = peaks(r, "boker")
    >>> p.peak_lag.values.tolist(), p.peak_r.values.tolist()   # nearest local peak; none
    ([-1.0, nan], [0.5, nan])
    >>> peaks(r, "max").peak_lag.values.tolist()
    [1.0, 2.0]
    """
    if not isinstance(r, xr.DataArray):
        raise TypeError(f"r: expected the xarray.DataArray returned by wcc, found "
                        f"{type(r).__name__}")
    if set(r.dims) != {"time", "lag"}:
        raise ValueError(f"r: expected dims ('time', 'lag'), found {r.dims}")
    for name, v in (("neighbourhood", neighbourhood), ("smooth", smooth)):
        if isinstance(v, bool) or not isinstance(v, (int, np.integer)):
            raise TypeError(f"{name}={v!r}: expected an integer number of lags")
    if neighbourhood < 1:
        raise ValueError(f"neighbourhood={neighbourhood!r}: expected at least 1 lag")
    if smooth < 0:
        raise ValueError(f"smooth={smooth!r}: expected 0 (no smoothing) or more lags")
    r = r.transpose("time", "lag")
    vals = np.asarray(r.values, dtype=np.float64)
    lags = np.asarray(r["lag"].values, dtype=np.float64) if "lag" in r.coords else \
        np.arange(r.sizes["lag"], dtype=np.float64) - r.sizes["lag"] // 2
    if method == "max":
        pr, pl = _peak_max(vals, lags)
    elif method == "boker":
        pr, pl = _peak_boker(vals, lags, neighbourhood, smooth)
    else:
        raise ValueError(f"method={method!r}: expected one of "
                         + ", ".join(repr(m) for m in METHODS))
    coords: dict[str, Any] = {}
    for name in ("time", "window_start"):
        if name in r.coords and r.coords[name].dims == ("time",):
            coords[name] = r.coords[name]
    attrs = {k: v for k, v in r.attrs.items()}
    attrs.update({"peak_method": method, "neighbourhood": int(neighbourhood),
                  "smooth": int(smooth)})
    return xr.Dataset({"peak_r": ("time", pr), "peak_lag": ("time", pl)}, coords=coords,
                      attrs=attrs)


def _order_key(lags: np.ndarray) -> np.ndarray:
    """Rank of each lag by (|lag|, lag): nearest 0 first, the negative one first on ties."""
    order = np.lexsort((lags, np.abs(lags)))
    rank = np.empty(lags.size, dtype=np.int64)
    rank[order] = np.arange(lags.size)
    return rank


def _pick(vals: np.ndarray, ok: np.ndarray, lags: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Among the cells where ``ok``, the lag of smallest (|lag|, lag) per window."""
    rank = _order_key(lags)
    key = np.where(ok, rank[None, :], lags.size)
    j = np.argmin(key, axis=1) if lags.size else np.zeros(vals.shape[0], dtype=np.int64)
    found = ok.any(axis=1) if lags.size else np.zeros(vals.shape[0], dtype=bool)
    rows = np.arange(vals.shape[0])
    pr = np.where(found, vals[rows, j] if lags.size else np.nan, np.nan)
    pl = np.where(found, lags[j] if lags.size else np.nan, np.nan)
    return pr.astype(np.float64), pl.astype(np.float64)


def _peak_max(vals: np.ndarray, lags: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    finite = ~np.isnan(vals)
    with np.errstate(invalid="ignore"):
        m = np.max(np.where(finite, vals, -np.inf), axis=1, initial=-np.inf)
    ok = finite & (vals == m[:, None])
    return _pick(vals, ok, lags)


def _peak_boker(vals: np.ndarray, lags: np.ndarray, h: int,
                smooth: int) -> tuple[np.ndarray, np.ndarray]:
    K, J = vals.shape
    s = vals
    if smooth:
        w = 2 * smooth + 1
        s = np.full((K, J), np.nan)
        if J >= w:
            win = np.lib.stride_tricks.sliding_window_view(vals, w, axis=1)
            s[:, smooth:J - smooth] = win.mean(axis=2)  # NaN anywhere in the span -> NaN
    ok = ~np.isnan(s)
    ok[:, :h] = False
    ok[:, J - h:] = False
    with np.errstate(invalid="ignore"):
        for m in range(1, h + 1):
            left = np.full((K, J), np.nan)
            right = np.full((K, J), np.nan)
            left[:, m:] = s[:, :-m]
            right[:, :-m] = s[:, m:]
            ok &= (s > left) & (s > right)  # NaN neighbours compare False
    return _pick(vals, ok, lags)
