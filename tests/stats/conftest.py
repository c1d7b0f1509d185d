"""Fixtures: run the statistics on the real kernel and on the slow two-pass twin."""
from __future__ import annotations

import importlib

import pytest

from tests.stats import _slow


def _real():
    try:
        wcc = importlib.import_module("synchrony.core.wcc")
        return wcc.window_stats, wcc.window_stats_many, wcc.seconds_to_samples
    except (ImportError, AttributeError):  # pragma: no cover - before the kernel lands
        return None


@pytest.fixture(params=["kernel", "slow"])
def kernel(request, monkeypatch):
    """Patch ``inference._kernel`` to the real kernel or to ``tests/stats/_slow.py``.

    Returns the ``(window_stats, window_stats_many, seconds_to_samples)`` in use, so twins
    can reduce with the same one.
    """
    from synchrony.stats import inference

    if request.param == "kernel":
        funcs = _real()
        if funcs is None:
            pytest.skip("synchrony.core.wcc.window_stats is not available yet")
    else:
        funcs = (_slow.window_stats, _slow.window_stats_many, _slow.seconds_to_samples)
    monkeypatch.setattr(inference, "_kernel", lambda: funcs)
    return funcs
