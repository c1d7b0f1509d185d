"""synchrony: physiological synchrony for psychotherapy research.

Read wearable and lab exports, clean them, put client and therapist on one clock,
compute windowed cross-correlation with a fast exact kernel, test it against
surrogates and align it with moment-to-moment dial ratings.

The public names are imported lazily so that ``import synchrony`` stays fast.

>>> import synchrony as sy
>>> sorted(n for n in ("wcc", "peaks", "read_e4") if hasattr(sy, n))
['peaks', 'read_e4', 'wcc']
"""
from __future__ import annotations

import importlib

from .errors import (  # noqa: F401  (light, always available)
    AlignmentError,
    ConfigError,
    InputError,
    SynchronyError,
    SynchronyWarning,
)

__version__ = "0.1.0"

# public name -> module that defines it
_LAZY = {
    "wcc": "synchrony.core.wcc",
    "peaks": "synchrony.core.peaks",
    "surrogate_test": "synchrony.stats.inference",
    "read": "synchrony.io",
    "read_e4": "synchrony.io.empatica",
    "read_csv": "synchrony.io.csv",
    "read_embraceplus": "synchrony.io.embraceplus",
    "read_biopac": "synchrony.io.biopac",
    "read_polar": "synchrony.io.polar",
    "read_edf": "synchrony.io.edf",
    "read_xdf": "synchrony.io.xdf",
    "read_bids": "synchrony.io.bids",
    "read_shimmer": "synchrony.io.shimmer",
    "read_ratings": "synchrony.align.ratings",
    "slice_recording": "synchrony.recording",
    "make_dyad": "synchrony.dyad",
    "run_session": "synchrony.pipeline",
    "run_batch": "synchrony.batch",
    "simulate_session": "synchrony.simulate",
}

__all__ = sorted(
    ["AlignmentError", "ConfigError", "InputError", "SynchronyError", "SynchronyWarning", *_LAZY]
)


def __getattr__(name: str):
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'synchrony' has no attribute {name!r}")
    try:
        value = getattr(importlib.import_module(module), name)
    except (ImportError, AttributeError) as exc:
        raise AttributeError(f"synchrony.{name} is not available: {exc}") from exc
    globals()[name] = value
    return value


def __dir__():
    return __all__
