"""The HTML report: self-contained, complete, escaped, graceful on missing parts, atomic."""
from __future__ import annotations

import base64
import json
import re
import shutil
import subprocess
from pathlib import Path

import numpy as np
import pytest
import xarray as xr

from synchrony.errors import InputError
from synchrony.report import html as report_html
from synchrony.report import render_figures, save_figures, write_report

ALL_FIGURES = {"signals", "hr_wcc", "hr_sync", "eda_wcc", "eda_sync", "ratings"}


@pytest.fixture(scope="module")
def report(result_tree, tmp_path_factory) -> tuple[Path, str]:
    out = tmp_path_factory.mktemp("report")
    path = write_report(result_tree, out / "dyad01_s05.html")
    return path, path.read_text(encoding="utf-8")


def _figure_ids(text: str) -> set[str]:
    return set(re.findall(r'<figure id="fig-([^"]+)">', text))


def _cells(text: str) -> list[str]:
    return re.findall(r"<td>(.*?)</td>", text)


def test_report_is_self_contained(report):
    path, text = report
    assert path.name == "dyad01_s05.html"
    assert not re.search(r"""(src|href)\s*=\s*["']?\s*(https?:)?//""", text, re.I)
    assert not re.search(r"<script|<link|<iframe|@import|url\(", text, re.I)
    srcs = re.findall(r'<img[^>]*\ssrc="([^"]+)"', text)
    assert len(srcs) == len(ALL_FIGURES)
    for src in srcs:
        assert src.startswith("data:image/png;base64,")
        png = base64.b64decode(src.split(",", 1)[1], validate=True)
        assert png.startswith(b"\x89PNG\r\n\x1a\n") and len(png) > 10_000
    assert _figure_ids(text) == ALL_FIGURES


def test_summary_tables_hold_the_numbers(report):
    _, text = report
    cells = _cells(text)
    # per modality: mean sync, p, effect size, statistic, windows, surrogates (fixture SUMMARY)
    row = ["hr", "0.41", "0.005", "3.2", "mean_abs_z", "2371", "200"]
    assert any(cells[i:i + 7] == row for i in range(len(cells)))
    row = ["eda", "0.27", "0.18", "0.93", "mean_abs_z", "1158", "200"]
    assert any(cells[i:i + 7] == row for i in range(len(cells)))
    # congruence
    for label, value in [("Pearson r", "0.13"), ("p (naive)", "0.004"),
                         ("p (autocorrelation-aware)", "0.21"), ("paired t", "1.22"), ("df", "457")]:
        i = cells.index(label)
        assert cells[i + 1] == value
    # association: rater, modality, r, lag, p
    assert any(cells[i:i + 5] == ["client", "hr", "0.31", "0", "0.02"] for i in range(len(cells)))
    assert any(cells[i:i + 5] == ["client", "eda", "-0.07", "5", "0.64"] for i in range(len(cells)))
    # segments: rank, start, end, length, mean rating, sync hr, sync eda
    assert any(cells[i:i + 7] == ["1", "05:10 (310 s)", "05:40 (340 s)", "30", "82", "0.9", "0.35"]
               for i in range(len(cells)))
    assert any(cells[i:i + 7] == ["3", "01:35 (95 s)", "02:05 (125 s)", "30", "71.2", "0.44", "—"]
               for i in range(len(cells)))
    assert "therapist: most hindering" in text


def test_facts_parameters_and_lag_convention(report):
    _, text = report
    cells = _cells(text)
    assert cells[cells.index("signals duration") + 1] == "20:00 (1200 s)"
    assert cells[cells.index("rated video duration") + 1] == "18:00 (1080 s)"
    assert cells[cells.index("video start on signals clock") + 1] == "01:00 (60 s)"
    assert cells[cells.index("client device") + 1] == "Empatica E4 A00204"
    assert cells[cells.index("hr: valid samples") + 1] == "client 97.5%, therapist 100.0%"
    # window is set in the config; max_lag is not, so it is stated as the default
    i = cells.index("window (s)")
    assert cells[i:i + 4] == ["window (s)", "30", "30", "config [analysis] window = 30.0"]
    i = cells.index("maximum lag (s)")
    assert cells[i:i + 4] == ["maximum lag (s)", "5", "5", "default (not set in config)"]
    i = cells.index("lag step (s)")
    assert cells[i + 1] == "0.25"
    assert "positive lag: client leads, therapist follows" in text
    assert "[analysis]" in text and "random_state = 1" in text  # config shown


def test_warnings_are_shown_before_everything_else(report, make_tree, tmp_path):
    _, text = report
    warn = text.index('class="warnings"')
    assert warn < text.index('id="facts"')
    assert "ratings: therapist file ends 4 s before the video" in text
    assert "Warnings (2)" in text
    # the same from a newline string, and none at all
    tree = make_tree(warnings="first problem\nsecond problem\n")
    t2 = report_html.render_html(tree, figures=[])
    assert "Warnings (2)" in t2 and "<li>second problem</li>" in t2
    t3 = report_html.render_html(make_tree(warnings=None), figures=[])
    assert 'class="warnings"' not in t3 and "No warnings" in t3


def test_text_is_escaped(make_tree, tmp_path):
    nasty = '<script>alert("x")</script>&'
    summary = json.loads(json.dumps(make_tree().children["summary"].attrs["json"]))
    summary = json.loads(summary)
    summary["congruence"]["note<b>"] = "<i>odd</i>"
    tree = make_tree(session_id=nasty, warnings=[f"file {nasty}"], summary=summary)
    tree.attrs["config"] = tree.attrs["config"] + '\n# <img src="http://x/y.png">\n'
    text = write_report(tree, tmp_path / "r.html").read_text(encoding="utf-8")
    assert "<script>" not in text and "<i>odd</i>" not in text and "note<b>" not in text
    assert "note&lt;b&gt;" in text and "&lt;i&gt;odd&lt;/i&gt;" in text
    assert "&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;&amp;" in text
    assert "&lt;img src=&quot;http://x/y.png&quot;&gt;" in text
    assert not re.search(r"""src\s*=\s*["']?https?:""", text)


def test_missing_ratings_render_gracefully(make_tree, tmp_path):
    summary = json.loads(make_tree().children["summary"].attrs["json"])
    for key in ("congruence", "association", "segments"):
        summary.pop(key)
    tree = make_tree(with_aligned=False, summary=summary, modalities_attr="hr, eda")
    text = write_report(tree, tmp_path / "r.html").read_text(encoding="utf-8")
    assert _figure_ids(text) == ALL_FIGURES - {"ratings"}
    assert "Rating congruence not available (no ratings in this session)" in text
    assert "Rating–synchrony association not available" in text
    assert "Top and bottom rated segments not available" in text
    cells = _cells(text)
    assert cells[cells.index("ratings") + 1] == "none (no /aligned group)"


def test_only_one_modality_listed(make_tree, tmp_path):
    tree = make_tree(modalities_attr=["hr"])
    figs = {f.name for f in render_figures(tree)}
    assert figs == {"signals", "hr_wcc", "hr_sync", "ratings"}


def test_summary_falls_back_to_modality_attributes(result_tree, tmp_path):
    tree = result_tree.copy()
    tree["summary"] = xr.DataTree(xr.Dataset(attrs={"note": "no json"}))
    text = report_html.render_html(tree, figures=[])
    cells = _cells(text)
    assert any(cells[i:i + 7] == ["hr", "0.41", "0.005", "3.2", "mean_abs_z", "2371", "200"]
               for i in range(len(cells)))


def test_bare_tree_renders_a_short_report(tmp_path):
    tree = xr.DataTree(xr.Dataset(attrs={"session_id": "s0"}))
    text = write_report(tree, tmp_path / "s0.html").read_text(encoding="utf-8")
    assert "No figures" in text and "<img" not in text
    assert "No modality results" in text


def test_bad_summary_json_names_the_field(result_tree):
    tree = result_tree.copy()
    tree["summary"] = xr.DataTree(xr.Dataset(attrs={"json": "{not json"}))
    with pytest.raises(InputError, match=r"/summary, attribute 'json': expected a JSON object"):
        report_html.render_html(tree, figures=[])


def test_write_leaves_no_temporary_file(result_tree, tmp_path):
    out = tmp_path / "deep" / "folder"
    path = write_report(result_tree, out / "dyad01_s05.html", png_dir=out)
    expected = {path.name} | {f"dyad01_s05_{n}.png" for n in ALL_FIGURES}
    assert {p.name for p in out.iterdir()} == expected


def test_failing_figure_leaves_no_report(result_tree, tmp_path, monkeypatch):
    def broken(*args, **kwargs):
        raise RuntimeError("figure failed")

    monkeypatch.setattr(report_html, "plot_sync_band", broken)
    target = tmp_path / "r.html"
    with pytest.raises(RuntimeError, match="figure failed"):
        write_report(result_tree, target, png_dir=tmp_path)
    assert list(tmp_path.iterdir()) == []
    # an earlier report at the same path is left untouched
    target.write_text("old report", encoding="utf-8")
    with pytest.raises(RuntimeError):
        write_report(result_tree, target)
    assert target.read_text(encoding="utf-8") == "old report"
    assert [p.name for p in tmp_path.iterdir()] == ["r.html"]


def test_failed_write_removes_its_temporary(result_tree, tmp_path, monkeypatch):
    def fail_replace(src, dst):
        raise OSError("disk full")

    monkeypatch.setattr(report_html.os, "replace", fail_replace)
    with pytest.raises(OSError, match="disk full"):
        write_report(xr.DataTree(xr.Dataset(attrs={"session_id": "s"})), tmp_path / "s.html")
    assert list(tmp_path.iterdir()) == []


def test_save_figures_names_and_content(result_tree, tmp_path):
    paths = save_figures(result_tree, tmp_path / "figs", "dyad01_s05")
    assert [p.name for p in paths] == [
        "dyad01_s05_signals.png", "dyad01_s05_hr_wcc.png", "dyad01_s05_hr_sync.png",
        "dyad01_s05_eda_wcc.png", "dyad01_s05_eda_sync.png", "dyad01_s05_ratings.png",
    ]
    assert {p.name for p in (tmp_path / "figs").iterdir()} == {p.name for p in paths}
    for p in paths:
        assert p.read_bytes().startswith(b"\x89PNG\r\n\x1a\n")


def _chromium() -> str | None:
    return shutil.which("chromium") or shutil.which("chromium-browser")


def test_report_renders_in_headless_chromium(report, tmp_path):
    exe = _chromium()
    if exe is None:
        pytest.skip("chromium is not on the PATH (Debian package 'chromium')")
    path, text = report
    shot = tmp_path / "shot.png"
    cmd = [exe, "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
           "--disable-background-networking", "--disable-component-update", "--disable-sync",
           f"--user-data-dir={tmp_path / 'profile'}", f"--screenshot={shot}",
           "--window-size=1280,4000", path.resolve().as_uri()]
    subprocess.run(cmd, check=False, capture_output=True, timeout=120)
    assert shot.exists(), "chromium wrote no screenshot"
    from matplotlib.image import imread

    img = imread(shot)
    pixels = (np.asarray(img[..., :3]) * 255).astype(np.uint8).reshape(-1, 3)
    colours = np.unique(pixels.view([("", np.uint8)] * 3))
    # a page of text alone has a few hundred anti-aliased shades; the heatmaps add thousands
    assert colours.size > 2000, colours.size
    # the lower part of the page (where the figures sit) is not blank either
    lower = pixels[pixels.shape[0] // 2:]
    assert (lower != 255).any(axis=1).mean() > 0.05


def test_report_from_a_tree_read_back_from_netcdf(result_tree, tmp_path):
    # the pipeline writes the tree to NetCDF; list attributes come back as lists or arrays
    nc = tmp_path / "s.nc"
    result_tree.to_netcdf(nc, engine="h5netcdf")
    with xr.open_datatree(nc, engine="h5netcdf") as back:
        text = write_report(back, tmp_path / "s.html").read_text(encoding="utf-8")
    assert _figure_ids(text) == ALL_FIGURES
    assert "Warnings (2)" in text
    assert any(c == "hr, eda" for c in _cells(text))
