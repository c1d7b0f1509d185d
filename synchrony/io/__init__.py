"""Readers: one module per format, one Recording shape out, a dispatcher by content.

Each reader module defines ``read_<format>(path) -> xarray.DataTree`` (the
Recording of :mod:`synchrony.recording`) and ``sniff(path) -> bool``, which looks
at the content (and the name only as a hint) and says whether that reader should
try the file. :func:`read` asks the registered sniffers in order.
"""
from __future__ import annotations

import importlib
from pathlib import Path

from ..errors import InputError

# format name -> (module, reader function). Order matters: specific formats first.
FORMATS: dict[str, tuple[str, str]] = {
    "e4": ("synchrony.io.empatica", "read_e4"),
    "embraceplus": ("synchrony.io.embraceplus", "read_embraceplus"),
    "biopac": ("synchrony.io.biopac", "read_biopac"),
    "edf": ("synchrony.io.edf", "read_edf"),
    "xdf": ("synchrony.io.xdf", "read_xdf"),
    "bids": ("synchrony.io.bids", "read_bids"),
    "shimmer": ("synchrony.io.shimmer", "read_shimmer"),
    "polar": ("synchrony.io.polar", "read_polar"),
    "csv": ("synchrony.io.csv", "read_csv"),
}


def reader_for(fmt: str):
    """The reader function of a format name (as used by the session config's ``format`` key)."""
    try:
        module, func = FORMATS[fmt]
    except KeyError:
        raise InputError(f"unknown format {fmt!r}; known formats: {', '.join(FORMATS)}") from None
    return getattr(importlib.import_module(module), func)


def available_formats() -> list[str]:
    """Formats whose reader module exists in this installation."""
    out = []
    for fmt, (module, _) in FORMATS.items():
        try:
            importlib.import_module(module)
        except ImportError:
            continue
        out.append(fmt)
    return out


def read(path, *, format: str | None = None, **kwargs):
    """Read any supported export, choosing the reader from the content.

    Parameters
    ----------
    path : str or Path
        A file or folder.
    format : str, optional
        Skip detection and use this reader (one of :data:`FORMATS`).

    Returns
    -------
    xarray.DataTree
        The Recording (see :mod:`synchrony.recording`).
    """
    path = Path(path)
    if format is not None:
        return reader_for(format)(path, **kwargs)
    if not path.exists():
        raise InputError(f"{path}: no such file or folder")
    tried = []
    for fmt, (module, func) in FORMATS.items():
        try:
            mod = importlib.import_module(module)
        except ImportError:
            continue
        tried.append(fmt)
        sniff = getattr(mod, "sniff", None)
        if sniff is not None and sniff(path):
            return getattr(mod, func)(path, **kwargs)
    raise InputError(
        f"{path}: not a recognised recording; tried the formats {', '.join(tried)}. "
        "Pass format=... (or a 'format' key in the session config) if you know what it is."
    )
