"""Figures: right data in the right artists, no pyplot state, readable on every tree shape."""
from __future__ import annotations

import numpy as np
import pytest
import xarray as xr
from matplotlib.collections import PolyCollection, QuadMesh
from matplotlib.patches import Rectangle

from synchrony.errors import InputError
from synchrony.report.figures import (
    figure_to_png,
    plot_ratings,
    plot_signals,
    plot_sync_band,
    plot_wcc_heatmap,
)


def test_no_pyplot_figures_are_left_behind(result_tree):
    import matplotlib.pyplot as plt

    before = set(plt.get_fignums())
    figs = [
        plot_wcc_heatmap(result_tree["hr"].to_dataset()),
        plot_sync_band(result_tree["hr"].to_dataset()),
        plot_signals(result_tree["signals"].to_dataset()),
        plot_ratings(result_tree["aligned"].to_dataset(), None),
    ]
    assert all(f.canvas.__class__.__name__ == "FigureCanvasAgg" for f in figs)
    assert set(plt.get_fignums()) == before


def test_heatmap_shows_r_with_fixed_diverging_scale_and_peak_lag(result_tree):
    ds = result_tree["hr"].to_dataset()
    fig = plot_wcc_heatmap(ds, modality="hr")
    ax = fig.axes[0]
    (image,) = ax.images
    assert image.get_clim() == (-1.0, 1.0)
    assert image.get_cmap().name.startswith("RdBu_r")
    # the image holds r transposed (lag on y), NaN cells masked, not filled
    shown = image.get_array()
    assert shown.shape == (ds.sizes["lag"], ds.sizes["time"])
    np.testing.assert_array_equal(np.ma.getmaskarray(shown), np.isnan(ds["r"].values.T))
    np.testing.assert_allclose(shown.compressed(), ds["r"].values.T[~np.isnan(ds["r"].values.T)])
    # the peak lag is drawn at the window centres (minutes) and its lag
    (line,) = ax.lines
    np.testing.assert_allclose(line.get_xdata(), ds["time"].values / 60.0)
    np.testing.assert_allclose(line.get_ydata(), ds["peak_lag"].values)
    assert "client leads, therapist follows" in ax.get_ylabel().replace("\n", " ")
    # extent covers the lags from cell edge to cell edge
    left, right, bottom, top = image.get_extent()
    assert bottom == pytest.approx(-5.0 - 0.125) and top == pytest.approx(5.0 + 0.125)


def test_heatmap_irregular_time_uses_rasterized_mesh():
    ds = xr.Dataset({"r": (("time", "lag"), np.full((4, 3), 0.2))},
                    coords={"time": [15.0, 16.0, 18.0, 25.0], "lag": [-1.0, 0.0, 1.0]})
    ax = plot_wcc_heatmap(ds).axes[0]
    meshes = [c for c in ax.collections if isinstance(c, QuadMesh)]
    assert len(meshes) == 1 and meshes[0].get_rasterized()
    assert ax.get_ylabel().startswith("lag (s)\npositive lag: client leads")


def test_heatmap_needs_r():
    with pytest.raises(InputError, match="expected variables r; missing r"):
        plot_wcc_heatmap(xr.Dataset({"sync": ("time", [1.0])}))


def test_sync_band_marks_exactly_the_windows_above_the_band(result_tree):
    ds = result_tree["eda"].to_dataset()
    ax = plot_sync_band(ds, modality="eda").axes[0]
    sync, hi = ds["sync"].values, ds["null_hi"].values
    expected = np.isfinite(sync) & (sync > hi)
    assert 0 < expected.sum() < expected.size  # the fixture has both kinds
    marks = [ln for ln in ax.lines if ln.get_marker() == "o"]
    assert len(marks) == 1
    np.testing.assert_allclose(marks[0].get_ydata(), sync[expected])
    labels = [t.get_text() for t in ax.get_legend().get_texts()]
    assert f"above band ({expected.sum()} of {np.isfinite(sync).sum()} windows)" in labels
    assert any(isinstance(c, PolyCollection) for c in ax.collections)  # the band
    assert "p = 0.18" in ax.get_title() and "effect size = 0.93" in ax.get_title()


def test_sync_band_without_band_still_draws_the_series():
    ds = xr.Dataset({"sync": ("time", [0.1, np.nan, 0.4])}, coords={"time": [15.0, 16, 17]})
    ax = plot_sync_band(ds).axes[0]
    assert [t.get_text() for t in ax.get_legend().get_texts()] == ["synchrony"]


def _spans(ax):
    return [p for p in ax.patches if isinstance(p, Rectangle) and p.get_alpha() == pytest.approx(0.22)]


def test_ratings_shade_each_raters_segments_in_their_own_panel(result_tree):
    import json

    summary = json.loads(result_tree["summary"].attrs["json"])
    segments = summary["segments"]
    fig = plot_ratings(result_tree["aligned"].to_dataset(), segments)
    client_ax, therapist_ax, sync_ax = fig.axes[:3]
    assert client_ax.get_ylabel() == "client rating"
    assert therapist_ax.get_ylabel() == "therapist rating"
    assert sync_ax.get_ylabel() == "sync (z)"
    for ax, role in ((client_ax, "client"), (therapist_ax, "therapist")):
        n = len(segments[role]["helpful"]) + len(segments[role]["hindering"])
        spans = _spans(ax)
        assert len(spans) == n
        # the first helpful span covers its start..end in minutes, in green
        first = segments[role]["helpful"][0]
        xs = sorted(s.get_x() for s in spans)
        assert first["start_s"] / 60 in [pytest.approx(x) for x in xs]
        y0, y1 = ax.get_ylim()
        assert y0 <= 0 and y1 >= 100
    assert [ln.get_label() for ln in sync_ax.lines if not ln.get_label().startswith("_")] == \
        ["hr sync", "eda sync"]
    # both raters' curves share one time axis
    assert client_ax.get_shared_x_axes().joined(client_ax, sync_ax)


def test_ratings_with_one_rater_and_no_sync():
    al = xr.Dataset({"rating_therapist": ("time", [10.0, 90.0])}, coords={"time": [0.0, 1.0]})
    fig = plot_ratings(al, {"client": {"helpful": [{"start_s": 0, "end_s": 1}]}})
    assert [ax.get_ylabel() for ax in fig.axes] == ["therapist rating"]
    assert _spans(fig.axes[0]) == []  # the client's segments have no panel here


def test_ratings_without_anything_to_draw_says_so():
    with pytest.raises(InputError, match="rating_client, rating_therapist or sync_"):
        plot_ratings(xr.Dataset({"x": ("time", [1.0])}, coords={"time": [0.0]}))


def test_signals_mark_invalid_stretches_per_role(result_tree):
    sig = result_tree["signals"].to_dataset()
    fig = plot_signals(sig, video_start_s=60.0)
    hr_ax, eda_ax = fig.axes[:2]
    assert hr_ax.get_ylabel() == "hr (bpm)" and eda_ax.get_ylabel() == "eda (µS)"
    bars = [c for c in hr_ax.collections if "invalid" in str(c.get_label())]
    assert [b.get_label() for b in bars] == ["client invalid (2.5%)"]
    xs = np.concatenate([p.vertices[:, 0] for p in bars[0].get_paths()])
    assert xs.min() == pytest.approx(300 / 60) and xs.max() == pytest.approx(330 / 60)
    # valid samples drawn solid; the invalid ones only in the faint copy
    solid = [ln for ln in hr_ax.lines if ln.get_label() == "client"][0]
    y = np.asarray(solid.get_ydata(), float)
    t = sig["time"].values
    assert np.all(np.isnan(y[(t >= 300) & (t < 330)]))
    assert np.isfinite(y[t < 300]).all()
    # y scaled to the valid samples: the 0.01 µS contact-loss values are outside the axis
    assert eda_ax.get_ylim()[0] > 0.5
    assert any(ln.get_label() == "video start" for ln in hr_ax.lines)


def test_signals_without_role_time_variables():
    with pytest.raises(InputError, match=r"dims \(role, time\)"):
        plot_signals(xr.Dataset({"hr": ("time", [1.0, 2.0])}))


def test_png_bytes(result_tree):
    png = figure_to_png(plot_sync_band(result_tree["hr"].to_dataset()))
    assert png.startswith(b"\x89PNG\r\n\x1a\n") and len(png) > 10_000
