"""Figures and the self-contained HTML report of one session.

:func:`write_report` writes the report (one HTML file, figures embedded),
:func:`save_figures` the figures as PNG files; the ``plot_*`` functions return
:class:`matplotlib.figure.Figure` objects for one group of the result tree.

>>> from synchrony.report import write_report, save_figures
>>> callable(write_report) and callable(save_figures)
True
"""
from __future__ import annotations

from .figures import plot_ratings, plot_signals, plot_sync_band, plot_wcc_heatmap
from .html import render_figures, render_html, save_figures, write_report

__all__ = [
    "write_report",
    "save_figures",
    "render_html",
    "render_figures",
    "plot_wcc_heatmap",
    "plot_sync_band",
    "plot_ratings",
    "plot_signals",
]
