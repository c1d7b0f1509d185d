"""The windowed cross-correlation core: :func:`wcc`, :func:`peaks` and per-window reductions.

This subpackage imports nothing else from ``synchrony``; see ``wcc.py`` for the cell
definition and the conventions, ``_kernels.py`` for the algorithm.
"""
from __future__ import annotations

from .peaks import peaks
from .wcc import (
    CONVENTIONS,
    STAT_FIELDS,
    seconds_to_samples,
    wcc,
    wcc_stats,
    window_stats,
    window_stats_many,
)

__all__ = ["CONVENTIONS", "STAT_FIELDS", "peaks", "seconds_to_samples", "wcc", "wcc_stats",
           "window_stats", "window_stats_many"]
