"""BIDS physiological recordings (``*_physio.tsv.gz`` + JSON sidecar), read and written.

Reading follows the BIDS specification ("Physiological recordings"): the
``.tsv.gz`` has no header row; its sidecar (same name, ``.json``) gives
``SamplingFrequency`` (Hz), ``StartTime`` (s, the first sample relative to the
start of the associated scan or acquisition) and ``Columns``; optional
per-column objects (``"cardiac": {"Units": "mV"}``) give units. ``n/a`` cells
are NaN. Column names map to streams: ``cardiac`` (a pulse trace, BIDS's
wording) -> ``bvp``, ``respiratory`` -> ``resp``, ECG/EDA/PPG labels as
everywhere; others (``trigger`` ...) keep their names.

The absolute start comes from the ``*_scans.tsv`` of the subject/session:
``acq_time`` of the physio file's own row, or of the scan it belongs to (same
entities without ``recording-``/``physio``), plus ``StartTime``. BIDS writes
``acq_time`` as local time unless it ends in ``Z``; ``timezone`` names the zone
for the former. Without a usable ``acq_time`` pass ``start_utc=`` (the instant
``StartTime`` is relative to); otherwise :class:`~synchrony.errors.InputError`:
no start is invented.

:func:`write_bids_physio` writes our analysis series (``/signals``: dims
``(role, time)`` or ``(time,)``) in BIDS derivative layout with a ``scans.tsv``
row carrying the UTC start, so :func:`read_bids` reads it back exactly.
"""
from __future__ import annotations

import gzip
import io
import json
import logging
import math
import os
import re
from datetime import datetime
from pathlib import Path

import numpy as np
import xarray as xr

from ..errors import InputError
from ..recording import format_utc, parse_utc, utc_to_unix
from ._common import StreamPart, assemble, name_channels, zone

__all__ = ["read_bids", "write_bids_physio", "sniff"]

logger = logging.getLogger("synchrony")

_SUFFIX = "_physio.tsv.gz"


def sniff(path) -> bool:
    """True for a ``*_physio.tsv.gz`` (or its ``.json``) with a sidecar naming ``SamplingFrequency``,
    or a folder holding one."""
    path = Path(path)
    if path.is_dir():
        found = sorted(path.glob("*" + _SUFFIX)) or sorted(path.glob("*/*" + _SUFFIX))
        return bool(found) and _sniff_file(found[0])
    return _sniff_file(path)


def _sniff_file(path: Path) -> bool:
    name = path.name
    if name.endswith("_physio.json"):
        path = path.with_name(name[: -len(".json")] + ".tsv.gz")
        name = path.name
    if not name.endswith(_SUFFIX) or not path.is_file():
        return False
    try:
        with open(path, "rb") as fh:
            if fh.read(2) != b"\x1f\x8b":
                return False
        side = _sidecar_path(path)
        return side.is_file() and b"SamplingFrequency" in side.read_bytes()[:8192]
    except OSError:
        return False


def _sidecar_path(tsv: Path) -> Path:
    return tsv.with_name(tsv.name[: -len(".tsv.gz")] + ".json")


def _entities(stem: str) -> dict[str, str]:
    return dict(part.split("-", 1) for part in stem.split("_") if "-" in part)


def _files(path: Path) -> list[Path]:
    if path.is_dir():
        files = sorted(path.glob("*" + _SUFFIX)) or sorted(path.glob("*/*" + _SUFFIX))
        if not files:
            raise InputError(f"{path}: no *{_SUFFIX} file here or one folder down")
    elif path.name.endswith("_physio.json"):
        files = [path.with_name(path.name[: -len(".json")] + ".tsv.gz")]
    else:
        files = [path]
    for f in files:
        if not f.name.endswith(_SUFFIX):
            raise InputError(f"{f}: expected a BIDS physio file named *{_SUFFIX}")
        if not f.is_file():
            raise InputError(f"{f}: no such file")
    keys = {tuple(sorted((k, v) for k, v in _entities(f.name[: -len(_SUFFIX)]).items() if k != "recording"))
            for f in files}
    if len(keys) > 1:
        raise InputError(f"{path}: physio files of several subjects/sessions/tasks/runs "
                         f"({', '.join(f.name for f in files)}); pass one file (one person, one acquisition)")
    return files


def _read_sidecar(tsv: Path) -> dict:
    side = _sidecar_path(tsv)
    if not side.is_file():
        raise InputError(f"{tsv}: its sidecar {side.name} is missing; expected SamplingFrequency, StartTime, Columns")
    try:
        meta = json.loads(side.read_text(encoding="utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise InputError(f"{side}: not valid JSON ({exc})") from exc
    if not isinstance(meta, dict):
        raise InputError(f"{side}: expected a JSON object, found {type(meta).__name__}")
    for key in ("SamplingFrequency", "StartTime", "Columns"):
        if key not in meta:
            raise InputError(f"{side} field {key!r}: missing (required by BIDS for physio files)")
    fs, start = meta["SamplingFrequency"], meta["StartTime"]
    if not isinstance(fs, (int, float)) or isinstance(fs, bool) or not math.isfinite(fs) or fs <= 0:
        raise InputError(f"{side} field 'SamplingFrequency': expected a positive number of Hz, found {fs!r}")
    if not isinstance(start, (int, float)) or isinstance(start, bool) or not math.isfinite(start):
        raise InputError(f"{side} field 'StartTime': expected a number of seconds, found {start!r}")
    cols = meta["Columns"]
    if not isinstance(cols, list) or not cols or not all(isinstance(c, str) and c for c in cols):
        raise InputError(f"{side} field 'Columns': expected a non-empty list of names, found {cols!r}")
    if len(set(cols)) != len(cols):
        raise InputError(f"{side} field 'Columns': duplicate names in {cols}")
    return meta


def _read_table(tsv: Path, n_cols: int) -> np.ndarray:
    import pandas as pd

    try:
        with gzip.open(tsv, "rb") as fh:
            raw = fh.read()
    except (OSError, EOFError) as exc:
        raise InputError(f"{tsv}: not a readable gzip file ({exc})") from exc
    if not raw.strip():
        raise InputError(f"{tsv}: no data rows")
    try:
        table = pd.read_csv(io.BytesIO(raw), sep="\t", header=None, na_values=["n/a"], keep_default_na=False,
                            dtype=np.float64, engine="c")
        if table.shape[1] == n_cols:
            return table.to_numpy(dtype=np.float64)
    except (ValueError, pd.errors.ParserError):
        pass
    # Locate the first offending line for the message.
    for i, line in enumerate(raw.decode("utf-8", "replace").splitlines(), start=1):
        cells = line.split("\t")
        if len(cells) != n_cols:
            raise InputError(f"{tsv} line {i}: expected {n_cols} tab-separated values (the sidecar's Columns), "
                             f"found {len(cells)}")
        for j, c in enumerate(cells):
            if c.strip() == "n/a":
                continue
            try:
                float(c)
            except ValueError:
                raise InputError(f"{tsv} line {i}, column {j + 1}: expected a number or 'n/a', found {c!r}") from None
    raise InputError(f"{tsv}: unreadable table")  # pragma: no cover


def _scans_reference(tsv: Path, tz) -> tuple[float | None, str]:
    """UTC unix seconds of the acq_time that StartTime refers to, and where it came from."""
    ents = _entities(tsv.name[: -len(_SUFFIX)])
    sub = ents.get("sub")
    if sub is None:
        return None, ""
    datatype_dir = tsv.parent
    for level in (datatype_dir.parent, datatype_dir.parent.parent):
        for scans in sorted(level.glob(f"sub-{sub}*_scans.tsv")):
            lines = scans.read_text(encoding="utf-8").splitlines()
            if not lines:
                continue
            head = lines[0].split("\t")
            if "filename" not in head or "acq_time" not in head:
                continue
            fi, ai = head.index("filename"), head.index("acq_time")
            own = tsv.relative_to(scans.parent).as_posix() if tsv.is_relative_to(scans.parent) else tsv.name
            stem = re.sub(r"_recording-[^_]+", "", tsv.name[: -len(_SUFFIX)])
            candidates = []
            for n, line in enumerate(lines[1:], start=2):
                cells = line.split("\t")
                if len(cells) <= max(fi, ai):
                    continue
                fname = cells[fi]
                base = Path(fname).name.split(".")[0]
                if fname == own:
                    candidates.insert(0, (n, cells[ai]))
                elif base.rsplit("_", 1)[0] == stem:
                    candidates.append((n, cells[ai]))
            for n, value in candidates:
                if value in ("", "n/a"):
                    continue
                text = value.strip()
                try:
                    if text.endswith(("Z", "z")) or re.search(r"[+-]\d\d:\d\d$", text):
                        t = utc_to_unix(text)
                    else:
                        t = datetime.fromisoformat(text).replace(tzinfo=tz).timestamp()
                except ValueError:
                    raise InputError(f"{scans} line {n}, field 'acq_time': expected YYYY-MM-DDThh:mm:ss[.ffffff][Z], "
                                     f"found {value!r}") from None
                return t, f"{scans.name} line {n} acq_time"
    return None, ""


def read_bids(path, *, start_utc: str | None = None, timezone: str = "UTC",
              channel_map: dict[str, str] | None = None) -> xr.DataTree:
    """Read BIDS physio recordings (``*_physio.tsv.gz`` + ``.json``) into a Recording.

    Parameters
    ----------
    path : str or Path
        A ``*_physio.tsv.gz`` (or its ``.json``), or a folder with the physio
        files of one acquisition (files differing only in ``recording-`` are
        combined: each keeps its own rate).
    start_utc : str, optional
        The instant ``StartTime`` refers to (the scan start), when the dataset
        has no ``scans.tsv`` ``acq_time`` (or to override it).
    timezone : str
        Zoneinfo name for an ``acq_time`` written without ``Z``.
    channel_map : dict of regex -> stream name, optional
        Replaces the default column-name patterns.

    Returns
    -------
    xarray.DataTree
        One child per column (``fs`` = ``SamplingFrequency``).

    Examples
    --------
    >>> import tempfile, numpy as np, xarray as xr
    >>> root = tempfile.mkdtemp()
    >>> ds = xr.Dataset({"hr": ("time", 70 + np.arange(8.0))}, coords={"time": np.arange(8) / 4},
    ...                 attrs={"start_utc": "2021-10-25T07:52:00Z"})
    >>> f = write_bids_physio(ds, root, subject="01", task="therapy")
    >>> f.name
    'sub-01_task-therapy_desc-synchrony_physio.tsv.gz'
    >>> rec = read_bids(f)
    >>> rec["hr"].attrs["fs"], rec.attrs["start_utc"], float(rec["hr"]["hr"][-1])
    (4.0, '2021-10-25T07:52:00.000000Z', 77.0)
    """
    path = Path(path)
    tz = zone(timezone)
    if not path.exists():
        raise InputError(f"{path}: no such file or folder")
    files = _files(path)
    parts: dict[str, StreamPart] = {}
    refs = []
    for tsv in files:
        meta = _read_sidecar(tsv)
        cols = meta["Columns"]
        data = _read_table(tsv, len(cols))
        fs = float(meta["SamplingFrequency"])
        if start_utc is not None:
            try:
                ref, how = utc_to_unix(start_utc), "argument"
            except ValueError as exc:
                raise InputError(f"start_utc={start_utc!r}: {exc}") from None
        else:
            ref, how = _scans_reference(tsv, tz)
            if ref is None:
                raise InputError(
                    f"{tsv}: no absolute start: no *_scans.tsv with an acq_time for this file or its scan. "
                    "Pass start_utc='YYYY-MM-DDTHH:MM:SSZ' (the instant the sidecar's StartTime refers to)."
                )
        refs.append(how)
        t0 = ref + float(meta["StartTime"])
        rec_label = _entities(tsv.name[: -len(_SUFFIX)]).get("recording")
        names = name_channels(cols, channel_map)
        for j, (col, name) in enumerate(zip(cols, names)):
            if name in parts:
                name = f"{name}_{rec_label}" if rec_label else f"{name}_{j}"
            info = meta.get(col) if isinstance(meta.get(col), dict) else {}
            unit = str(info.get("Units", meta.get("Units", "")) if info else "")
            parts[name] = StreamPart({name: data[:, j]}, np.arange(data.shape[0]) / fs, t0, fs, unit, str(tsv),
                                     attrs={"column": col, "bids_start_time": float(meta["StartTime"]),
                                            "start_reference": how})
    return assemble(parts, device=str(_read_sidecar(files[0]).get("Manufacturer", "BIDS physio")), source=path, attrs={"timezone": str(timezone), "start_reference": "; ".join(sorted(set(refs)))})


def _atomic_write(path: Path, data: bytes) -> None:
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_bytes(data)
    os.replace(tmp, path)


def write_bids_physio(dataset, root, *, subject: str, task: str, session: str | None = None,
                      role: str | None = None, desc: str = "synchrony", datatype: str = "beh",
                      variables: list[str] | None = None) -> Path:
    """Write analysis series in BIDS derivative layout (``_physio.tsv.gz`` + ``.json`` + ``scans.tsv``).

    Parameters
    ----------
    dataset : xarray.Dataset or xarray.DataTree
        Regular series on a ``time`` coordinate (seconds from the attribute
        ``start_utc``), dims ``(time,)`` or ``(role, time)`` (e.g. ``/signals``).
    root : str or Path
        The derivative dataset's root folder (created if missing; a
        ``dataset_description.json`` is written when absent).
    subject, task, session : str
        BIDS entities (labels without ``sub-``/``task-``/``ses-``).
    role : str, optional
        Which role to write when the data has a ``role`` dimension (required
        if it holds more than one). Client and therapist are different people:
        write each under its own ``subject`` label.
    desc : str
        The ``desc-`` entity of the derivative.
    datatype : str
        The folder under the subject/session (``beh`` by default).
    variables : list of str, optional
        Which variables to write (default: all along ``time`` only).

    Returns
    -------
    Path
        The ``.tsv.gz`` written. NaN is written as ``n/a``; boolean masks as 0/1.
    """
    if isinstance(dataset, xr.DataTree):
        dataset = dataset.to_dataset()
    for label, value in (("subject", subject), ("task", task), ("session", session), ("desc", desc)):
        if value is not None and not re.fullmatch(r"[A-Za-z0-9]+", str(value)):
            raise InputError(f"{label}={value!r}: BIDS labels are alphanumeric (no '-', '_' or spaces)")
    if "time" not in dataset.dims:
        raise InputError(f"dataset: expected a 'time' dimension, found dims {tuple(dataset.dims)}")
    if "start_utc" not in dataset.attrs:
        raise InputError("dataset attribute 'start_utc': missing; expected the ISO 8601 instant time 0 refers to")
    start = parse_utc(dataset.attrs["start_utc"])
    if "role" in dataset.dims:
        roles = [str(r) for r in dataset["role"].values]
        if role is None:
            if len(roles) != 1:
                raise InputError(f"role: the dataset holds roles {roles}; pass role= to write one person's series")
            role = roles[0]
        if role not in roles:
            raise InputError(f"role={role!r}: not in the dataset's roles {roles}")
        dataset = dataset.sel(role=role)
    t = np.asarray(dataset["time"].values, dtype=np.float64)
    if len(t) < 2:
        raise InputError(f"dataset 'time': {len(t)} samples; expected a regular series of at least 2")
    dt = np.diff(t)
    if np.any(np.abs(dt - dt[0]) > 1e-6 * max(dt[0], 1e-12)) or dt[0] <= 0:
        raise InputError("dataset 'time': not evenly spaced; BIDS physio needs one SamplingFrequency")
    fs = 1.0 / float(np.mean(dt))
    names = variables or [n for n, v in dataset.data_vars.items() if v.dims == ("time",)]
    if not names:
        raise InputError(f"dataset: no variables along 'time' alone (found {list(dataset.data_vars)})")
    cols = []
    for n in names:
        if n not in dataset or dataset[n].dims != ("time",):
            raise InputError(f"variables: {n!r} is not a variable along 'time' alone")
        cols.append(np.asarray(dataset[n].values).astype(np.float64))
    table = np.column_stack(cols)
    buf = io.StringIO()
    for row in table:
        buf.write("\t".join("n/a" if not np.isfinite(v) else repr(float(v)) for v in row) + "\n")
    ents = f"sub-{subject}" + (f"_ses-{session}" if session else "") + f"_task-{task}"
    stem = f"{ents}_desc-{desc}_physio"
    folder = Path(root) / f"sub-{subject}" / (f"ses-{session}" if session else "") / datatype
    folder.mkdir(parents=True, exist_ok=True)
    tsv = folder / f"{stem}.tsv.gz"
    gz = io.BytesIO()
    with gzip.GzipFile(fileobj=gz, mode="wb", mtime=0) as fh:
        fh.write(buf.getvalue().encode("ascii"))
    meta = {"SamplingFrequency": fs, "StartTime": float(t[0]), "Columns": names}
    for n in names:
        entry = {"Units": str(dataset[n].attrs.get("units", ""))}
        if dataset[n].attrs.get("long_name") or dataset[n].attrs.get("description"):
            entry["Description"] = str(dataset[n].attrs.get("long_name") or dataset[n].attrs.get("description"))
        meta[n] = entry
    _atomic_write(tsv, gz.getvalue())
    _atomic_write(folder / f"{stem}.json", json.dumps(meta, indent=2).encode("utf-8"))
    # scans.tsv: acq_time = the instant StartTime refers to, in UTC.
    scans = folder.parent / f"sub-{subject}" f"{'_ses-' + session if session else ''}_scans.tsv"
    rel = f"{datatype}/{tsv.name}"
    rows = {}
    if scans.is_file():
        lines = scans.read_text(encoding="utf-8").splitlines()
        if lines and lines[0].split("\t")[:2] == ["filename", "acq_time"]:
            for line in lines[1:]:
                cells = line.split("\t")
                if len(cells) >= 2:
                    rows[cells[0]] = cells[1]
    rows[rel] = format_utc(start)
    _atomic_write(scans, ("filename\tacq_time\n" + "".join(f"{k}\t{v}\n" for k, v in sorted(rows.items())))
                  .encode("utf-8"))
    desc_file = Path(root) / "dataset_description.json"
    if not desc_file.exists():
        from .. import __version__

        _atomic_write(desc_file, json.dumps({
            "Name": "synchrony derivatives", "BIDSVersion": "1.9.0", "DatasetType": "derivative",
            "GeneratedBy": [{"Name": "synchrony", "Version": __version__}]}, indent=2).encode("utf-8"))
    return tsv
