"""Put synchrony windows and dial ratings on the rating clock.

The aligning rule (``rule="centre"``, the default): a rating bin collects the
synchrony windows whose **centre** falls inside the bin, after the window centres
are moved from the physiology clock to the rating clock (``t_rating = t_signals -
video_start_s``). ``sync_<modality>`` of the bin is the mean of those windows'
valid values; ``n_windows_<modality>`` says how many valid windows that mean rests
on, and the value is NaN where there are none. ``rule="overlap"`` instead takes
every window whose span ``[centre - W/2, centre + W/2)`` overlaps the bin.

A bin's extent depends on what the rating time stamps mean (the ratings'
``time_base`` attribute): bin **ends** (CARMA) give ``(t_{i-1}, t_i]``; otherwise
the stamp is taken as the bin's centre, ``[t_i - b/2, t_i + b/2)`` with ``b`` the
median spacing.
"""
from __future__ import annotations

import numpy as np
import xarray as xr

from ..errors import AlignmentError, SynchronyWarning

__all__ = ["bin_edges", "sync_on_rating_clock", "merge_ratings"]


def bin_edges(times: np.ndarray, *, bin_end: bool) -> tuple[np.ndarray, np.ndarray]:
    """Lower and upper edges of each rating bin (see the module docstring).

    >>> lo, hi = bin_edges(np.array([1.0, 2.0, 3.0]), bin_end=True)
    >>> lo.tolist(), hi.tolist()
    ([0.0, 1.0, 2.0], [1.0, 2.0, 3.0])
    """
    times = np.asarray(times, dtype=float)
    if times.size == 0:
        return times.copy(), times.copy()
    b = float(np.median(np.diff(times))) if times.size > 1 else 1.0
    if bin_end:
        lo = np.concatenate([[times[0] - b], times[:-1]])
        return lo, times.copy()
    return times - b / 2, times + b / 2


def sync_on_rating_clock(
    centres_rating: np.ndarray,
    values: np.ndarray,
    lo: np.ndarray,
    hi: np.ndarray,
    *,
    rule: str = "centre",
    window_s: float | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """Mean of valid window values per rating bin and the number of windows behind each.

    Parameters
    ----------
    centres_rating : array
        Window centres already on the rating clock (s), increasing.
    values : array
        The per-window synchrony values (NaN = invalid window).
    lo, hi : array
        Bin edges (see :func:`bin_edges`); bin ``i`` holds ``lo[i] <= c < hi[i]``
        (``lo < c <= hi`` for bin ends is equivalent up to ties on the edge, which go to the later bin).
    rule : {"centre", "overlap"}

    >>> m, n = sync_on_rating_clock(np.array([0.5, 1.5, 1.7, 2.5]), np.array([1., 2., np.nan, 4.]),
    ...                             np.array([0., 1., 2., 3.]), np.array([1., 2., 3., 4.]))
    >>> m.tolist(), n.tolist()
    ([1.0, 2.0, 4.0, nan], [1, 1, 1, 0])
    """
    centres_rating = np.asarray(centres_rating, dtype=float)
    values = np.asarray(values, dtype=float)
    valid = np.isfinite(values)
    c, v = centres_rating[valid], values[valid]
    csum = np.concatenate([[0.0], np.cumsum(v)])
    if rule == "centre":
        a = np.searchsorted(c, lo, side="left")
        b = np.searchsorted(c, hi, side="left")
    elif rule == "overlap":
        if window_s is None:
            raise ValueError("rule='overlap' needs window_s")
        a = np.searchsorted(c, lo - window_s / 2, side="right")
        b = np.searchsorted(c, hi + window_s / 2, side="left")
    else:
        raise ValueError(f"rule must be 'centre' or 'overlap', got {rule!r}")
    n = (b - a).astype(np.int64)
    with np.errstate(invalid="ignore", divide="ignore"):
        mean = np.where(n > 0, (csum[b] - csum[a]) / np.maximum(n, 1), np.nan)
    return mean, n


def merge_ratings(ratings: dict[str, xr.Dataset]) -> tuple[np.ndarray, dict[str, np.ndarray], list[str]]:
    """Put each rater's ratings on one common rating clock without padding or inventing values.

    The common clock is the union of the raters' time stamps (to the microsecond); a rater
    has NaN at the stamps it lacks. Returns ``(times, {role: ratings}, warnings)``; the
    warnings name raters of different lengths or different time bases.
    """
    if not ratings:
        raise AlignmentError("no ratings to merge")
    keyed = {role: np.round(ds["time"].values.astype(float), 6) for role, ds in ratings.items()}
    times = np.unique(np.concatenate(list(keyed.values())))
    out, notes = {}, []
    for role, ds in ratings.items():
        idx = np.searchsorted(times, keyed[role])
        col = np.full(times.size, np.nan)
        col[idx] = ds["rating"].values.astype(float)
        out[role] = col
    if len(ratings) == 2:
        (ra, ta), (rb, tb) = list(keyed.items())
        if ta.size and tb.size and abs(ta[-1] - tb[-1]) > 1e-6:
            notes.append(
                f"the raters' files end at different times ({ra}: {ta[-1]:g} s, {rb}: {tb[-1]:g} s); "
                "the shorter one is not padded (NaN after its end)"
            )
        if ta.size != tb.size or not np.array_equal(ta, tb):
            shared = np.intersect1d(ta, tb).size
            notes.append(f"the raters' time stamps differ ({ra}: {ta.size} bins, {rb}: {tb.size}, {shared} shared)")
    return times, out, notes


def warn_all(messages: list[str]) -> None:
    import warnings

    for m in messages:
        warnings.warn(m, SynchronyWarning, stacklevel=3)
