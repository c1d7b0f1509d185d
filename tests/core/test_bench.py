"""The benchmark's implementations are checked here, so it never times an unchecked one."""
from __future__ import annotations

import numpy as np
import pytest

from synchrony import bench
from tests.reference import wcc_cells


@pytest.mark.parametrize("name", sorted(bench.IMPLEMENTATIONS))
def test_registered_implementations_match_twin(name):
    rng = np.random.default_rng(1)
    x = rng.standard_normal(300)
    y = 0.5 * np.roll(x, 3) + rng.standard_normal(300)
    for W, S, L in ((30, 1, 5), (40, 20, 8)):
        want, _, _, _ = wcc_cells(x, y, W, S, L)
        got = bench.IMPLEMENTATIONS[name](x, y, W, S, L)
        assert got.shape == want.shape
        np.testing.assert_array_equal(np.isnan(got), np.isnan(want))
        # pandas' online rolling moments are the least exact of the peers (~1e-13 here)
        np.testing.assert_allclose(got, want, rtol=0, atol=1e-10)


def test_neurokit2_lag0_peer_matches_lag0_column():
    pytest.importorskip("neurokit2")
    rng = np.random.default_rng(2)
    x = rng.standard_normal(200)
    y = x + rng.standard_normal(200)
    want, _, _, _ = wcc_cells(x, y, 20, 2, 0)
    got = bench.impl_neurokit2_lag0(x, y, 20, 2)
    # neurokit2 fills the trailing windows with the mean; compare the ones it computed
    np.testing.assert_allclose(got[:-6], want[:-6, 0], atol=1e-10)


def test_write_section_replaces_only_kernel(tmp_path):
    p = tmp_path / "RESULTS.md"
    p.write_text("# R\n\n## Pipeline\n\nkeep me\n\n## Kernel\n\nold\n\n## Other\n\nkeep too\n")
    bench._write_section(p, "## Kernel\n\nnew table")
    text = p.read_text()
    assert "old" not in text and "new table" in text
    assert "keep me" in text and "keep too" in text
    assert text.index("## Pipeline") < text.index("## Kernel") < text.index("## Other")


@pytest.mark.slow
def test_bench_quick_smoke(tmp_path, capsys):
    out = tmp_path / "RESULTS.md"
    assert bench.main(["--quick", "--write", str(out)]) == 0
    text = out.read_text()
    assert text.count("## Kernel") == 1
    for peer in ("synchrony.wcc", "pandas rolling corr per lag", "rMEA-style per-cell loop",
                 "numpy sliding windows", "memset", "neurokit2"):
        assert peer in text
    assert "≤ 1e-7 | met" in text and "Peak memory" in text
    assert "## Kernel" in capsys.readouterr().out
