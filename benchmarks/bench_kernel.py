"""Kernel benchmark: a thin wrapper around :func:`synchrony.bench.main`.

Usage::

    python benchmarks/bench_kernel.py [--quick] [--write benchmarks/RESULTS.md]

The same as ``synchrony bench``; see ``synchrony/bench.py`` for what is timed and how.
"""
from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from synchrony.bench import main  # noqa: E402

if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
