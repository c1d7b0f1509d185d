"""Preprocessing: a Recording becomes analysis series on an even grid, with quality masks.

- :func:`heart_rate` — ``hr`` (bpm), optionally ``rmssd`` and ``rsa``, from ECG,
  PPG/BVP, a beat list or a device HR stream (:mod:`.cardiac`);
- :func:`skin_conductance` — ``eda``, ``scl``, ``scr`` (µS) (:mod:`.eda`);
- :func:`analysis_series` — any of those modalities merged on one grid.

Every output has dim ``time`` (seconds from attribute ``start_utc``, the
recording start), attribute ``fs``, and ``<mod>_quality`` (uint8) beside each
``<mod>``: 0 valid, 1 gap, 2 artefact, 3 out of range, 4 outside the device
overlap (dyads only); the legend is attribute ``quality_codes``.
"""
from __future__ import annotations

import inspect

import xarray as xr

from ..errors import ConfigError, InputError
from .cardiac import heart_rate
from .eda import skin_conductance
from .grid import QUALITY_CODES, QUALITY_LEGEND

__all__ = ["heart_rate", "skin_conductance", "analysis_series", "MODALITIES", "QUALITY_CODES", "QUALITY_LEGEND"]

#: Modalities analysis_series can make, by the function that makes them.
MODALITIES = {"hr": "heart", "rmssd": "heart", "rsa": "heart", "eda": "eda", "scl": "eda", "scr": "eda"}

_HEART_PARAMS = set(inspect.signature(heart_rate).parameters) - {"rec", "fs_out", "hrv"}
_EDA_PARAMS = set(inspect.signature(skin_conductance).parameters) - {"rec", "fs_out"}


def analysis_series(rec: xr.DataTree, modalities: list[str], *, fs_out: float = 4.0, **params) -> xr.Dataset:
    """All requested modalities of one person on one grid of this person's recording.

    Parameters
    ----------
    rec : xarray.DataTree
        A Recording.
    modalities : list of str
        Any of ``hr``, ``rmssd``, ``rsa`` (heart) and ``eda``, ``scl``, ``scr`` (skin conductance).
    fs_out : float
        Grid rate in Hz (default 4).
    **params
        Passed to :func:`heart_rate` and/or :func:`skin_conductance` by name
        (``max_gap`` goes to both). An unknown name is a ConfigError.

    Returns
    -------
    xarray.Dataset
        ``<mod>`` and ``<mod>_quality`` for each modality; ``time`` in s from
        attribute ``start_utc`` (the recording start); attribute ``fs``; the
        parameters of each step, prefixed ``heart_`` or ``eda_``.

    Raises
    ------
    InputError
        Naming the modality and the recording's streams when a modality cannot be made.

    Examples
    --------
    >>> import numpy as np
    >>> from synchrony.recording import make_stream, make_recording
    >>> t0 = "2024-01-01T10:00:00Z"
    >>> ibi = make_stream({"ibi": np.full(80, 0.75)}, np.arange(1, 81) * 0.75, start_utc=t0,
    ...                   time_origin_utc=t0, fs=None, units="s", device="t", source="doctest")
    >>> rec = make_recording({"ibi": ibi}, start_utc=t0, device="t", source="doctest")
    >>> sorted(analysis_series(rec, ["hr"]).data_vars)
    ['hr', 'hr_quality']
    >>> analysis_series(rec, ["eda"])
    Traceback (most recent call last):
    ...
    synchrony.errors.InputError: doctest: modality 'eda' needs an 'eda' stream; the recording has streams ['ibi']
    """
    mods = list(dict.fromkeys(modalities))
    unknown = [m for m in mods if m not in MODALITIES]
    if unknown or not mods:
        raise ConfigError(
            f"modalities: expected some of {', '.join(MODALITIES)}, found {modalities!r}"
        )
    bad = sorted(set(params) - _HEART_PARAMS - _EDA_PARAMS)
    if bad:
        raise ConfigError(
            f"preprocessing parameter(s) {bad} unknown; heart_rate takes {sorted(_HEART_PARAMS)}, "
            f"skin_conductance takes {sorted(_EDA_PARAMS)}"
        )
    streams = list(rec.children)
    src = str(rec.attrs.get("source", "recording"))
    parts = []
    attrs = {}
    heart = [m for m in mods if MODALITIES[m] == "heart"]
    if heart:
        hp = {k: v for k, v in params.items() if k in _HEART_PARAMS}
        want_hrv = any(m in ("rmssd", "rsa") for m in heart)
        try:
            ds = heart_rate(rec, fs_out=fs_out, hrv=want_hrv, **hp)
        except InputError as exc:
            raise InputError(f"{src}: modality {heart[0]!r} cannot be made from streams {streams}: {exc}") from exc
        parts.append(ds[[v for m in heart for v in (m, f"{m}_quality")]])
        attrs.update({f"heart_{k}": v for k, v in ds.attrs.items() if k not in ("start_utc", "fs", "quality_codes")})
    eda_mods = [m for m in mods if MODALITIES[m] == "eda"]
    if eda_mods:
        if "eda" not in rec.children:
            raise InputError(f"{src}: modality {eda_mods[0]!r} needs an 'eda' stream; the recording has streams "
                             f"{streams}")
        ep = {k: v for k, v in params.items() if k in _EDA_PARAMS}
        ds = skin_conductance(rec, fs_out=fs_out, **ep)
        parts.append(ds[[v for m in eda_mods for v in (m, f"{m}_quality")]])
        attrs.update({f"eda_{k}": v for k, v in ds.attrs.items() if k not in ("start_utc", "fs", "quality_codes")})
    out = xr.merge(parts, join="exact", combine_attrs="drop_conflicts")
    out = out[[v for m in mods for v in (m, f"{m}_quality")]]
    out.attrs = {"start_utc": rec.attrs["start_utc"], "fs": float(fs_out), "quality_codes": QUALITY_LEGEND,
                 "modalities": mods, "recording_source": src, "device": str(rec.attrs.get("device", "")), **attrs}
    return out
