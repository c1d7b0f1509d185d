"""The contract every reader keeps (ARCHITECTURE.md section 5; synchrony/recording.py).

To add a reader, append :class:`Case` entries to :data:`CASES`: a format name from
``synchrony.io.FORMATS`` and a function ``(tmp_path, realdata) -> path`` that returns the
file or folder to read (``realdata`` is ``None`` unless ``needs_realdata=True``, in which
case the case is skipped when ``../shared/realdata`` is absent).

Each case checks: every stream has a ``time`` coordinate that increases (strictly for
regular streams); ``fs`` agrees with the samples (spacing ``1/fs``, and ``n - 1 = span · fs``
within float rounding); ``start_utc`` is present and parseable on the root and every child,
and a regular child's ``start_utc`` is the root's plus its first ``time``; every variable
records its units; ``source`` and ``device`` are set; and :func:`synchrony.read` (the
dispatcher, choosing by content) returns the same tree as the specific reader.
"""
from __future__ import annotations

import zipfile
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

import numpy as np
import pytest

import synchrony as sy
from synchrony.io import reader_for
from synchrony.recording import utc_to_unix


@dataclass(frozen=True)
class Case:
    id: str
    format: str
    path: Callable[[Path, Path | None], Path]
    needs_realdata: bool = False
    kwargs: tuple = ()


def _e4_zip(tmp_path: Path, realdata: Path) -> Path:
    folder = realdata / "empatica_e4" / "flirt_truncated"
    z = tmp_path / "1560279825_A01234.zip"
    with zipfile.ZipFile(z, "w", compression=zipfile.ZIP_DEFLATED) as zf:
        for f in sorted(folder.glob("*.csv")):
            zf.write(f, f.name)
    return z


def _csv_table(tmp_path: Path, _realdata) -> Path:
    f = tmp_path / "table.csv"
    rows = "".join(f"{i / 4:.2f},{0.3 + 0.01 * i:.3f},{70 + i % 3}\n" for i in range(40))
    f.write_text("# start_utc: 2021-10-25T07:52:00Z\ntime,eda,hr\n" + rows)
    return f


def _csv_iso(tmp_path: Path, _realdata) -> Path:
    f = tmp_path / "beats.csv"
    f.write_text("time,ibi\n2021-10-25T07:52:00.8Z,0.8\n2021-10-25T07:52:01.61Z,0.81\n"
                 "2021-10-25T07:52:02.40Z,0.79\n")
    return f


CASES: list[Case] = [
    Case("e4-msr2023-folder", "e4", lambda tmp, rd: rd / "empatica_e4" / "msr2023_session", True),
    Case("e4-flirt-folder", "e4", lambda tmp, rd: rd / "empatica_e4" / "flirt_truncated", True),
    Case("e4-flirt-zip", "e4", _e4_zip, True),
    Case("e4-single-file", "e4", lambda tmp, rd: rd / "empatica_e4" / "flirt_truncated" / "HR.csv", True),
    Case("csv-seconds", "csv", _csv_table),
    Case("csv-iso-beats", "csv", _csv_iso),
]


def _check_stream(name: str, ds, root_start: float) -> None:
    assert "time" in ds.coords, f"{name}: no time coordinate"
    t = ds["time"].values
    assert t.dtype == np.float64, f"{name}: time must be float64 seconds"
    assert np.all(np.isfinite(t)), f"{name}: non-finite times"
    assert ds["time"].attrs.get("units") == "s"
    for key in ("start_utc", "time_origin_utc", "device", "source", "units"):
        assert ds.attrs.get(key) not in (None, ""), f"{name}: attribute {key!r} missing"
    start = utc_to_unix(ds.attrs["start_utc"])  # parseable
    assert utc_to_unix(ds.attrs["time_origin_utc"]) == root_start
    for var in ds.data_vars.values():
        assert var.dims[0] == "time", f"{name}/{var.name}: time must be the first dimension"
        assert var.attrs.get("units"), f"{name}/{var.name}: units not recorded"
    fs = ds.attrs.get("fs")
    if fs is None:
        assert t.size < 2 or np.all(np.diff(t) >= 0), f"{name}: times go back"
        return
    assert fs > 0 and np.isfinite(fs)
    assert t.size < 2 or np.all(np.diff(t) > 0), f"{name}: times not strictly increasing"
    if t.size:
        # the child's start instant is where its first sample sits on the recording clock (1 µs: ISO precision)
        assert abs(start - (root_start + t[0])) <= 1e-6 + 1e-12 * abs(root_start)
    if t.size >= 2:
        span = t[-1] - t[0]
        # n - 1 samples spaced 1/fs: equal up to float rounding of the times (and of times written
        # with fewer decimals than the spacing needs, hence the loose 1e-3 on the count)
        assert abs(span * fs - (t.size - 1)) <= 1e-3 + 1e-9 * t.size, f"{name}: fs disagrees with the samples"
        assert np.allclose(np.diff(t), 1 / fs, rtol=1e-3, atol=0), f"{name}: spacing is not 1/fs"


@pytest.mark.parametrize("case", CASES, ids=[c.id for c in CASES])
def test_reader_contract(case: Case, tmp_path, request):
    realdata = request.getfixturevalue("realdata") if case.needs_realdata else None
    path = case.path(tmp_path, realdata)
    reader = reader_for(case.format)
    rec = reader(path, **dict(case.kwargs))
    for key in ("start_utc", "device", "source"):
        assert rec.attrs.get(key), f"root attribute {key!r} missing"
    root_start = utc_to_unix(rec.attrs["start_utc"])
    assert rec.children, "no streams"
    for name, child in rec.children.items():
        assert name == name.lower() and name.isidentifier(), f"stream name {name!r} is not sanitised"
        _check_stream(name, child.to_dataset(), root_start)
    # the dispatcher picks the same reader from the content and gives the same result
    if not case.kwargs:
        assert sy.read(path).identical(rec), "sy.read(path) differs from the specific reader"
