"""Statistics: surrogate tests, per-window bands and session indices.

- :func:`surrogate_test` (also ``synchrony.surrogate_test``): the same statistic on the data
  and on surrogates, p-value with the +1 correction, effect size and a per-window band.
- :mod:`synchrony.stats.surrogates`: the generators (segment shuffle as a derangement,
  circular shift, Fourier phase randomisation, IAAFT, pseudo-dyads).
- :mod:`synchrony.stats.indices`: Marci's SSI, SUSY-style mean Z / |Z| with effect sizes,
  rMEA-style summaries.

This layer imports only ``synchrony.core`` and ``synchrony.errors`` and never fills a
missing value.
"""
from __future__ import annotations

from synchrony.stats.indices import rmea_summary, ssi, susy
from synchrony.stats.inference import surrogate_test
from synchrony.stats.surrogates import (
    circular_shift,
    derangement,
    iaaft,
    phase_randomise,
    pseudo_dyads,
    segment_shuffle,
)

__all__ = [
    "surrogate_test",
    "segment_shuffle",
    "circular_shift",
    "phase_randomise",
    "iaaft",
    "pseudo_dyads",
    "derangement",
    "ssi",
    "susy",
    "rmea_summary",
]
