"""The contract every reader keeps (ARCHITECTURE.md section 5; synchrony/recording.py).

To add a reader, append :class:`Case` entries to :data:`CASES`: a format name from
``synchrony.io.FORMATS`` and a function ``(tmp_path, realdata) -> path`` that returns the
file or folder to read (``realdata`` is ``None`` unless ``needs_realdata=True``, in which
case the case is skipped when ``../shared/realdata`` is absent).

Each case checks: every stream has a ``time`` coordinate that increases (strictly for
regular streams); ``fs`` agrees with the samples (spacing ``1/fs``, and ``n - 1 = span · fs``
within float rounding); ``start_utc`` is present and parseable on the root and every child,
and a regular child's ``start_utc`` is the root's plus its first ``time``; every variable
records its units (text variables such as tag labels excepted), spelled as
:func:`synchrony.io._common.standard_unit` spells them; ``source`` and ``device`` are set;
:func:`synchrony.read` (the dispatcher, choosing by content, passing ``kwargs`` on) returns
the same tree as the specific reader; every attribute is NetCDF-safe (no bool, None, dict or
nested list) and the Recording survives a NetCDF-4 round trip (h5netcdf) unchanged.
"""
from __future__ import annotations

import zipfile
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

import numpy as np
import pytest
import xarray as xr

import synchrony as sy
from synchrony.io import reader_for
from synchrony.io._common import standard_unit
from synchrony.recording import utc_to_unix

from ._writers import shimmer_text, write_bids, write_edf, write_xdf


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


def _edf(tmp_path: Path, _realdata) -> Path:
    import pyedflib

    return write_edf(tmp_path / "x.edf", pyedflib.FILETYPE_EDFPLUS, annotations=[(0.5, 1.0, "clap")])[0]


def _bdf(tmp_path: Path, _realdata) -> Path:
    import pyedflib

    return write_edf(tmp_path / "x.bdf", pyedflib.FILETYPE_BDF)[0]


def _shimmer(tmp_path: Path, _realdata) -> Path:
    f = tmp_path / "shimmer.csv"
    f.write_text(shimmer_text(sep=","), newline="")
    return f


CASES: list[Case] = [
    Case("e4-msr2023-folder", "e4", lambda tmp, rd: rd / "empatica_e4" / "msr2023_session", True),
    Case("e4-flirt-folder", "e4", lambda tmp, rd: rd / "empatica_e4" / "flirt_truncated", True),
    Case("e4-flirt-zip", "e4", _e4_zip, True),
    Case("e4-single-file", "e4", lambda tmp, rd: rd / "empatica_e4" / "flirt_truncated" / "HR.csv", True),
    Case("csv-seconds", "csv", _csv_table),
    Case("csv-iso-beats", "csv", _csv_iso),
    Case("embraceplus-file", "embraceplus",
         lambda tmp, rd: rd / "embraceplus" / "paradigma_test_data.avro", True),
    Case("embraceplus-folder", "embraceplus", lambda tmp, rd: rd / "embraceplus", True),
    Case("biopac-5.0.1", "biopac", lambda tmp, rd: rd / "biopac_acq" / "physio-5.0.1.acq", True),
    Case("biopac-3.8.1-start-given", "biopac", lambda tmp, rd: rd / "biopac_acq" / "physio-3.8.1-c.acq", True,
         (("start_utc", "2016-02-02T16:30:56.276Z"),)),
    Case("polar-folder", "polar", lambda tmp, rd: rd / "polar_sensor_logger", True,
         (("timezone", "Europe/Istanbul"),)),
    Case("edf-plus-written", "edf", _edf),
    Case("bdf-written", "edf", _bdf),
    Case("xdf-written", "xdf", lambda tmp, rd: write_xdf(tmp / "s.xdf"), kwargs=(("select", "client"),)),
    Case("bids-written", "bids", lambda tmp, rd: write_bids(tmp), kwargs=(("timezone", "Europe/Zurich"),)),
    Case("shimmer-written", "shimmer", _shimmer),
]

#: Exact expectations per case (counts, rates, instants): asserted here and in each reader's own tests.
EXPECT: dict[str, dict] = {
    "embraceplus-file": {"start_utc": "2025-11-26T10:41:48.935608Z",
                         "streams": {"eda": (7244, 4.0), "bvp": (115904, 64.0), "temp": (1811, None),
                                     "ibi": (1796, None)},
                         "child_start": {"bvp": "2025-11-26T10:41:53.255728Z"}},
    "biopac-5.0.1": {"start_utc": "2016-02-02T16:30:56.276000Z",
                     "streams": {"ecg": (61893, 1000.0), "eda": (123787, 2000.0), "resp": (241, 3.90625),
                                 "tags": (10, None)}},
    "biopac-3.8.1-start-given": {"start_utc": "2016-02-02T16:30:56.276000Z"},
    "polar-folder": {"start_utc": "2022-04-25T08:39:02.323000Z",
                     "streams": {"hr": (548, None), "ibi": (442, None), "tags": (2, None)}},
}
EXPECT["embraceplus-folder"] = EXPECT["embraceplus-file"]


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
        if var.dtype.kind in "USO":  # text (tag labels ...): no unit
            continue
        unit = var.attrs.get("units")
        assert unit, f"{name}/{var.name}: units not recorded"
        # one spelling everywhere: the unit is its own standard form (E4's "1/64 g" is kept as is)
        quantity = var.name if var.name in ("ecg", "bvp", "eda", "hr", "ibi", "temp", "acc", "tag") else None
        assert standard_unit(unit, quantity) == (unit, 1.0), f"{name}/{var.name}: unit {unit!r} not standard"
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
        d = np.diff(t)
        n_gaps = int(ds.attrs.get("n_gaps", 0))
        if n_gaps:  # documented gaps (EmbracePlus: nothing invented inside them): regular between them
            assert np.count_nonzero(d > 1.5 / fs) == n_gaps, f"{name}: gaps differ from n_gaps"
            d = d[d <= 1.5 / fs]
        else:
            assert abs(span * fs - (t.size - 1)) <= 1e-3 + 1e-9 * t.size, f"{name}: fs disagrees with the samples"
        assert np.allclose(d, 1 / fs, rtol=1e-3, atol=0), f"{name}: spacing is not 1/fs"


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
    # the dispatcher picks the same reader from the content (passing the keywords on): the same result
    assert sy.read(path, **dict(case.kwargs)).identical(rec), "sy.read(path) differs from the specific reader"
    want = EXPECT.get(case.id, {})
    if "start_utc" in want:
        assert rec.attrs["start_utc"] == want["start_utc"]
    for name, (n, fs) in want.get("streams", {}).items():
        assert rec[name].sizes["time"] == n, f"{name}: {rec[name].sizes['time']} samples, expected {n}"
        if fs is not None:
            assert rec[name].attrs["fs"] == fs
    for name, start in want.get("child_start", {}).items():
        assert rec[name].attrs["start_utc"] == start


def _attrs_of(rec) -> list[tuple[str, dict]]:
    out = [("/", dict(rec.attrs))]
    for name, child in rec.children.items():
        ds = child.to_dataset()
        out.append((name, dict(ds.attrs)))
        out += [(f"{name}/{k}", dict(v.attrs)) for k, v in ds.variables.items()]
    return out


@pytest.mark.parametrize("case", CASES, ids=[c.id for c in CASES])
def test_netcdf_round_trip(case: Case, tmp_path, request):
    realdata = request.getfixturevalue("realdata") if case.needs_realdata else None
    rec = reader_for(case.format)(case.path(tmp_path, realdata), **dict(case.kwargs))
    for where_, attrs in _attrs_of(rec):
        for key, value in attrs.items():
            assert value is not None, f"{where_} attribute {key!r} is None"
            assert not isinstance(value, (bool, np.bool_, dict, list, tuple)), \
                f"{where_} attribute {key!r} is a {type(value).__name__}; NetCDF needs 0/1, text or a flat array"
    f = tmp_path / "x.nc"
    rec.to_netcdf(f, engine="h5netcdf")
    with xr.open_datatree(f, engine="h5netcdf") as back:
        back = back.load()
        assert set(back.children) == set(rec.children)
        assert _same_attrs(back.attrs, rec.attrs, "/")
        for name, child in rec.children.items():
            a, b = child.to_dataset(), back[name].to_dataset()
            xr.testing.assert_equal(b, a)  # values, dims and coords (text comes back as object arrays)
            assert _same_attrs(b.attrs, a.attrs, name)
            for k in a.variables:
                assert _same_attrs(b[k].attrs, a[k].attrs, f"{name}/{k}")


def _same_attrs(got: dict, want: dict, where_: str) -> bool:
    assert set(got) == set(want), f"{where_}: attributes {sorted(set(got) ^ set(want))} lost or added"
    for key, value in want.items():
        g = got[key]
        if isinstance(value, str):
            assert isinstance(g, str) and g == value, f"{where_} attribute {key!r}: {g!r} != {value!r}"
        else:
            assert np.array_equal(np.asarray(g), np.asarray(value)), f"{where_} attribute {key!r}: {g!r} != {value!r}"
    return True
