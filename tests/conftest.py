"""Shared fixtures: where the real recordings and golden outputs live."""
from __future__ import annotations

import os
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
SHARED = REPO.parent / "shared"


def _realdata_dir() -> Path:
    env = os.environ.get("SYNCHRONY_REALDATA")
    return Path(env) if env else SHARED / "realdata"


REALDATA = _realdata_dir()
GOLDEN = Path(os.environ.get("SYNCHRONY_GOLDEN", SHARED / "golden"))


@pytest.fixture
def realdata() -> Path:
    """The folder of real recordings; skips the test when it is absent."""
    if not REALDATA.is_dir():
        pytest.skip(f"real recordings not found at {REALDATA} (set SYNCHRONY_REALDATA)")
    return REALDATA


@pytest.fixture
def golden() -> Path:
    """The folder of rMEA / bsync golden outputs; skips the test when it is absent."""
    if not GOLDEN.is_dir():
        pytest.skip(f"golden outputs not found at {GOLDEN} (they live in ../shared/golden)")
    return GOLDEN
