"""Empatica E4 reader: the real exports in ../shared/realdata, tiny inline exports, hostile variants."""
from __future__ import annotations

import io
import re
import zipfile
from pathlib import Path

import numpy as np
import pytest

import synchrony as sy
from synchrony.errors import InputError
from synchrony.io import empatica
from synchrony.io.empatica import read_e4, sniff
from synchrony.recording import utc_to_unix

# ----------------------------------------------------------------------------- real files

# sample counts = lines in the file minus the two header rows (IBI: minus one); checked with `wc -l`
MSR = {
    "EDA.csv": ("eda", 14646, 4.0),
    "BVP.csv": ("bvp", 234311, 64.0),
    "HR.csv": ("hr", 3651, 1.0),
    "IBI.csv": ("ibi", 570, None),
    "ACC.csv": ("acc", 117156, 32.0),
    "TEMP.csv": ("temp", 14640, 4.0),
}
FLIRT = {
    "EDA.csv": ("eda", 9998, 4.0),
    "BVP.csv": ("bvp", 9998, 64.0),
    "HR.csv": ("hr", 4998, 1.0),
    "IBI.csv": ("ibi", 4999, None),
    "ACC.csv": ("acc", 9998, 32.0),
    "TEMP.csv": ("temp", 4998, 4.0),
}
SESSIONS = {"msr2023_session": MSR, "flirt_truncated": FLIRT}


def _reference(file: Path, stream: str) -> tuple[float, np.ndarray]:
    """Independent slow parse with numpy.loadtxt: (header start, data)."""
    head = file.read_text().splitlines()[0]
    start = float(head.split(",")[0])
    skip = 1 if stream == "ibi" else 2
    data = np.loadtxt(file, delimiter=",", skiprows=skip, ndmin=2)
    return start, data


@pytest.mark.realdata
@pytest.mark.parametrize("session", sorted(SESSIONS))
def test_real_sessions_every_file_exact(realdata, session):
    folder = realdata / "empatica_e4" / session
    rec = read_e4(folder)
    spec = SESSIONS[session]
    assert set(rec.children) == {s for s, _, _ in spec.values()} | {"tags"}
    origin = utc_to_unix(rec.attrs["start_utc"])
    for fname, (stream, n, fs) in spec.items():
        ds = rec[stream].to_dataset()
        start, data = _reference(folder / fname, stream)
        assert ds.sizes["time"] == n, fname
        assert ds.attrs["source"] == str(folder / fname)
        # header instants are whole seconds in these files: exact float arithmetic
        assert utc_to_unix(ds.attrs["start_utc"]) == start
        offset = start - origin
        if stream == "ibi":
            np.testing.assert_array_equal(ds["time"].values, offset + data[:, 0])
            np.testing.assert_array_equal(ds["ibi"].values, data[:, 1])
            assert "fs" not in ds.attrs
            continue
        assert ds.attrs["fs"] == fs
        # exact: offset + i/fs, never accumulated
        np.testing.assert_array_equal(ds["time"].values, offset + np.arange(n) / fs)
        values = ds[stream].values
        np.testing.assert_array_equal(values.reshape(n, -1), data)
        assert ds.attrs["n_missing"] == 0
    assert rec["tags"].sizes["time"] == 0


@pytest.mark.realdata
def test_msr_session_known_facts(realdata):
    rec = read_e4(realdata / "empatica_e4" / "msr2023_session")
    assert rec.attrs["start_utc"] == "2023-04-05T09:23:40.000000Z"
    assert rec.attrs["device"] == "Empatica E4"
    hr = rec["hr"]
    assert hr["time"].values[0] == 10.0  # HR header start is 10 s after the others
    assert hr.attrs["start_utc"] == "2023-04-05T09:23:50.000000Z"
    assert hr["hr"].values[0] == 90.0 and hr["hr"].values[1] == 75.5
    assert rec["eda"]["eda"].values[:2].tolist() == [0.0, 0.247297]
    assert rec["acc"]["acc"].values[0].tolist() == [-34, -23, 45]
    assert rec["acc"]["acc"].values[-1].tolist() == [14, 10, 61]
    assert list(rec["acc"]["axis"].values) == ["x", "y", "z"]
    assert rec["acc"]["acc"].dims == ("time", "axis")
    ibi = rec["ibi"]
    assert ibi["time"].values[0] == 263.453125 and ibi["ibi"].values[0] == 0.5625
    assert ibi["time"].values[-1] == 3643.015625 and ibi["ibi"].values[-1] == 0.625
    units = {k: rec[k][k].attrs["units"] for k in ("eda", "bvp", "hr", "ibi", "acc", "temp")}
    assert units == {"eda": "µS", "bvp": "a.u.", "hr": "bpm", "ibi": "s", "acc": "1/64 g", "temp": "°C"}


@pytest.mark.realdata
def test_flirt_streams_end_at_different_times(realdata):
    rec = read_e4(realdata / "empatica_e4" / "flirt_truncated")
    ends = {k: float(rec[k]["time"].values[-1]) for k in ("bvp", "acc", "eda", "temp", "hr")}
    # (n - 1) / fs (+ 10 s for HR): the truncation described in the realdata README
    assert ends == {"bvp": 9997 / 64, "acc": 9997 / 32, "eda": 9997 / 4, "temp": 4997 / 4, "hr": 10 + 4997.0}
    tags = rec["tags"]  # tags.csv is 0 bytes
    assert tags.sizes["time"] == 0 and tags["tag"].dtype.kind == "i"


@pytest.mark.realdata
@pytest.mark.parametrize("subfolder", ["", "1560279825_A01234/"])
def test_zip_equals_folder(realdata, tmp_path, subfolder):
    folder = realdata / "empatica_e4" / "flirt_truncated"
    z = tmp_path / "1560279825_A01234.zip"
    with zipfile.ZipFile(z, "w", compression=zipfile.ZIP_DEFLATED) as zf:
        for f in sorted(folder.iterdir()):
            zf.write(f, subfolder + f.name)
        zf.writestr("__MACOSX/._EDA.csv", b"\x00\x05junk")
    a, b = read_e4(folder), read_e4(z)
    assert b.attrs["device_serial"] == "A01234"
    assert b["eda"].attrs["source"] == f"{z}::{subfolder}EDA.csv"
    for name in a.children:
        da, db = a[name].to_dataset(), b[name].to_dataset()
        for ds in (da, db):
            ds.attrs.pop("source")
        assert da.identical(db), name
    assert sniff(z) and sy.read(z)["bvp"].sizes["time"] == 9998


@pytest.mark.realdata
def test_single_file_read(realdata):
    f = realdata / "empatica_e4" / "msr2023_session" / "HR.csv"
    rec = read_e4(f)
    assert list(rec.children) == ["hr"]
    # alone, HR's own header is the recording start
    assert rec["hr"]["time"].values[0] == 0.0 and rec.attrs["start_utc"] == "2023-04-05T09:23:50.000000Z"
    assert sniff(f)


# ----------------------------------------------------------------------------- tiny exports

START = 1600000000
FILES = {
    "EDA.csv": f"{START}.000000\n4.000000\n0.000000\n0.1\n0.2\n0.3\n0.4\n",
    "HR.csv": f"{START + 10}.000000\n1.000000\n70.00\n71.50\n",
    "ACC.csv": f"{START}.000000, {START}.000000, {START}.000000\n32.000000, 32.000000, 32.000000\n"
               "-34,-23,45\n-38,-21,47\n1,2,3\n",
    "IBI.csv": f"{START}.000000, IBI\n263.453125,0.562500\n264.0,0.546875\n",
    "tags.csv": f"{START + 5}.250000\n{START + 7}.5\n",
}


def _write(folder: Path, files: dict[str, str | bytes], newline: str = "\n", final_newline: bool = True) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    for name, text in files.items():
        if isinstance(text, str):
            if not final_newline:
                text = text.rstrip("\n")
            text = text.replace("\n", newline).encode()
        (folder / name).write_bytes(text)
    return folder


def test_tiny_export_layout(tmp_path):
    rec = read_e4(_write(tmp_path / "s", FILES))
    assert list(rec.children) == ["eda", "hr", "ibi", "acc", "tags"]
    assert rec["eda"]["time"].values.tolist() == [0.0, 0.25, 0.5, 0.75, 1.0]
    assert rec["hr"]["time"].values.tolist() == [10.0, 11.0]
    assert rec["ibi"]["time"].values.tolist() == [263.453125, 264.0]
    tags = rec["tags"]
    assert tags["time"].values.tolist() == [5.25, 7.5]
    assert tags["tag"].values.tolist() == [1, 2]
    assert tags.attrs["start_utc"] == "2020-09-13T12:26:45.250000Z"
    for name, child in rec.children.items():
        assert child.attrs["time_origin_utc"] == rec.attrs["start_utc"] == "2020-09-13T12:26:40.000000Z"
    assert "fs" not in rec["ibi"].attrs and "fs" not in tags.attrs


@pytest.mark.parametrize("newline", ["\n", "\r\n", "\r"])
@pytest.mark.parametrize("final_newline", [True, False])
def test_line_endings_tolerated(tmp_path, newline, final_newline):
    ref = read_e4(_write(tmp_path / "ref", FILES))
    rec = read_e4(_write(tmp_path / "x", FILES, newline=newline, final_newline=final_newline))
    for name in ref.children:
        a, b = ref[name].to_dataset(), rec[name].to_dataset()
        assert np.array_equal(a["time"].values, b["time"].values), name
        var = "tag" if name == "tags" else name
        assert np.array_equal(a[var].values, b[var].values), name


def test_trailing_empty_line_and_spaces_tolerated(tmp_path):
    files = dict(FILES, **{"EDA.csv": f" {START}.000000 \n 4.0\n0.5 \n 0.6\n\n\n"})
    rec = read_e4(_write(tmp_path / "s", files))
    assert rec["eda"]["eda"].values.tolist() == [0.5, 0.6]


def test_header_precision_kept(tmp_path):
    files = {"EDA.csv": "1600000000.123456\n4.000000\n1\n2\n", "HR.csv": "1600000010.654321\n1.0\n70\n"}
    rec = read_e4(_write(tmp_path / "s", files))
    assert rec.attrs["start_utc"] == "2020-09-13T12:26:40.123456Z"
    assert rec["hr"].attrs["start_utc"] == "2020-09-13T12:26:50.654321Z"
    # offsets come from integer microseconds: 10.530865 s, exact to float64 resolution at that magnitude
    assert rec["hr"]["time"].values[0] == 10.530865


def test_nan_values_are_kept_and_counted(tmp_path):
    files = {"TEMP.csv": f"{START}\n4\n31.5\nnan\n31.6\nNaN\n"}
    rec = read_e4(_write(tmp_path / "s", files))
    v = rec["temp"]["temp"].values
    assert np.isnan(v[1]) and np.isnan(v[3]) and v[2] == 31.6
    assert rec["temp"].attrs["n_missing"] == 2


@pytest.mark.parametrize("tags", [None, ""])
def test_missing_or_empty_tags_give_empty_child(tmp_path, tags):
    files = {"EDA.csv": FILES["EDA.csv"]}
    if tags is not None:
        files["tags.csv"] = tags
    rec = read_e4(_write(tmp_path / "s", files))
    assert rec["tags"].sizes["time"] == 0
    assert rec["tags"].attrs["start_utc"] == rec.attrs["start_utc"]


def test_header_only_stream_has_zero_samples(tmp_path):
    rec = read_e4(_write(tmp_path / "s", {"EDA.csv": FILES["EDA.csv"], "IBI.csv": f"{START}.0, IBI\n"}))
    assert rec["ibi"].sizes["time"] == 0


def test_folder_without_e4_files(tmp_path):
    (tmp_path / "notes.txt").write_text("hello")
    with pytest.raises(InputError, match=r"EDA\.csv, BVP\.csv, HR\.csv, IBI\.csv, ACC\.csv, TEMP\.csv") as exc:
        read_e4(tmp_path)
    assert str(tmp_path) in str(exc.value)
    assert not sniff(tmp_path)


# ----------------------------------------------------------------------------- hostile variants

HOSTILE = [
    # (id, file, content, line, words that must appear)
    ("empty-file", "EDA.csv", "", 1, "empty file"),
    ("missing-rate-row", "EDA.csv", f"{START}.000000\n", 2, "sampling rate"),
    ("rate-not-a-number", "BVP.csv", f"{START}\nabc\n1\n", 2, "'abc'"),
    ("rate-zero", "BVP.csv", f"{START}\n0\n1\n", 2, "positive"),
    ("rate-inf", "BVP.csv", f"{START}\ninf\n1\n", 2, "positive"),
    ("start-not-a-number", "EDA.csv", "yesterday\n4\n1\n", 1, "'yesterday'"),
    ("non-numeric-row", "EDA.csv", f"{START}\n4\n0.1\n0.2\nabc\n0.3\n", 5, "'abc'"),
    ("empty-line-inside", "EDA.csv", f"{START}\n4\n0.1\n\n0.3\n", 4, "empty line"),
    ("two-values-in-one-column-file", "HR.csv", f"{START}\n1\n70\n71,72\n", 4, "found 2"),
    ("acc-wrong-column-count", "ACC.csv", f"{START},{START},{START}\n32,32,32\n1,2,3\n4,5\n", 4, "found 2"),
    ("acc-header-columns", "ACC.csv", f"{START},{START}\n32,32,32\n1,2,3\n", 1, "3 column"),
    ("acc-rates-disagree", "ACC.csv", f"{START},{START},{START}\n32,32,16\n1,2,3\n", 2, "same sampling rate"),
    ("acc-non-numeric", "ACC.csv", f"{START},{START},{START}\n32,32,32\n1,2,3\n1,x,3\n", 4, "column 2"),
    ("ibi-bad-header", "IBI.csv", f"{START}\n1.0,0.5\n", 1, "IBI"),
    ("ibi-offsets-go-back", "IBI.csv", f"{START}, IBI\n10.0,0.5\n9.0,0.5\n", 3, "increasing"),
    ("ibi-non-numeric", "IBI.csv", f"{START}, IBI\n10.0,0.5\n11.0,oops\n", 3, "'oops'"),
    ("tags-non-numeric", "tags.csv", f"{START}\nlater\n", 2, "'later'"),
    ("tags-go-back", "tags.csv", f"{START + 5}\n{START}\n", 2, "increasing"),
    ("underscore-number", "EDA.csv", f"{START}\n4\n1_000\n", 3, "'1_000'"),
]


@pytest.mark.parametrize("newline", ["\n", "\r\n"])
@pytest.mark.parametrize("case", HOSTILE, ids=[c[0] for c in HOSTILE])
def test_hostile_files_name_file_and_line(tmp_path, case, newline):
    _id, fname, content, line, words = case
    files = {"TEMP.csv": f"{START}\n4\n30\n"}  # a valid stream beside the broken one
    files[fname] = content
    folder = _write(tmp_path / "s", files, newline=newline)
    with pytest.raises(InputError) as exc:
        read_e4(folder)
    msg = str(exc.value)
    assert f"{folder / fname} line {line}" in msg, msg
    assert words in msg, msg


@pytest.mark.parametrize("case", HOSTILE[:6], ids=[c[0] for c in HOSTILE[:6]])
def test_hostile_files_inside_a_zip(tmp_path, case):
    _id, fname, content, line, words = case
    z = tmp_path / "export.zip"
    with zipfile.ZipFile(z, "w", compression=zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("TEMP.csv", f"{START}\n4\n30\n")
        zf.writestr(fname, content)
    with pytest.raises(InputError) as exc:
        read_e4(z)
    assert f"{z}::{fname} line {line}" in str(exc.value)


def _zip_bytes(files: dict[str, str]) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", compression=zipfile.ZIP_DEFLATED) as zf:
        for name, text in files.items():
            zf.writestr(name, text)
    return buf.getvalue()


@pytest.mark.parametrize("keep", [0.5, 0.9, 0.99])
def test_truncated_zip(tmp_path, keep):
    big = {"EDA.csv": f"{START}\n4\n" + "0.123456\n" * 5000, "BVP.csv": f"{START}\n64\n" + "1.5\n" * 5000}
    data = _zip_bytes(big)
    z = tmp_path / "1600000000_A00001.zip"
    z.write_bytes(data[: int(len(data) * keep)])
    with pytest.raises(InputError, match=re.escape(str(z))) as exc:
        read_e4(z)
    assert "truncated or corrupt" in str(exc.value)


def test_corrupt_member_crc(tmp_path):
    data = bytearray(_zip_bytes({"EDA.csv": f"{START}\n4\n" + "0.5\n" * 100}))
    # flip a byte inside the compressed data (after the 30-byte local header and the name)
    data[30 + len("EDA.csv") + 5] ^= 0xFF
    z = tmp_path / "x.zip"
    z.write_bytes(bytes(data))
    with pytest.raises(InputError, match=r"x\.zip::EDA\.csv.*unreadable"):
        read_e4(z)


@pytest.mark.parametrize("bad", ["../EDA.csv", "/abs/EDA.csv", "a/../../EDA.csv", "C:/x/EDA.csv"])
def test_zip_path_traversal_refused(tmp_path, bad):
    z = tmp_path / "evil.zip"
    with zipfile.ZipFile(z, "w") as zf:
        zf.writestr("TEMP.csv", f"{START}\n4\n30\n")
        info = zipfile.ZipInfo("placeholder")
        info.filename = bad  # ZipInfo normalises some names; set the raw name afterwards
        zf.writestr(info, FILES["EDA.csv"])
    with pytest.raises(InputError, match=r"refused the archive entry"):
        read_e4(z)


def test_zip_total_size_bound(tmp_path, monkeypatch):
    monkeypatch.setattr(empatica, "MAX_UNCOMPRESSED_BYTES", 100)
    z = tmp_path / "big.zip"
    z.write_bytes(_zip_bytes({"EDA.csv": f"{START}\n4\n" + "0.5\n" * 100}))
    with pytest.raises(InputError, match=r"more than the limit of 100 bytes"):
        read_e4(z)


def test_zip_bomb_ratio_refused(tmp_path, monkeypatch):
    # 2 MiB of one repeated line deflates ~1000x; lower the size floor so the test stays small
    monkeypatch.setattr(empatica, "_RATIO_MIN_BYTES", 1024 * 1024)
    monkeypatch.setattr(empatica, "MAX_COMPRESSION_RATIO", 100.0)
    z = tmp_path / "bomb.zip"
    z.write_bytes(_zip_bytes({"EDA.csv": f"{START}\n4\n" + "0\n" * (1024 * 1024)}))
    with pytest.raises(InputError, match=r"zip bomb"):
        read_e4(z)


def test_zip_with_two_sessions_refused(tmp_path):
    z = tmp_path / "two.zip"
    z.write_bytes(_zip_bytes({"a/EDA.csv": FILES["EDA.csv"], "b/EDA.csv": FILES["EDA.csv"]}))
    with pytest.raises(InputError, match=r"several folders"):
        read_e4(z)


def test_zip_without_e4_files(tmp_path):
    z = tmp_path / "other.zip"
    z.write_bytes(_zip_bytes({"readme.txt": "hi"}))
    with pytest.raises(InputError, match=r"holds none of them"):
        read_e4(z)
    assert not sniff(z)


def test_not_a_zip_with_zip_name(tmp_path):
    z = tmp_path / "fake.zip"
    z.write_text("this is not an archive")
    with pytest.raises(InputError, match=r"fake\.zip: expected a zip archive"):
        read_e4(z)


def test_wrong_single_file_name(tmp_path):
    f = tmp_path / "data.csv"
    f.write_text(FILES["EDA.csv"])
    with pytest.raises(InputError, match=r"found a file named 'data\.csv'"):
        read_e4(f)


def test_binary_file_refused(tmp_path):
    folder = _write(tmp_path / "s", {"EDA.csv": b"\x00\x01\x02binary"})
    with pytest.raises(InputError, match=r"EDA\.csv: expected a text"):
        read_e4(folder)


# ----------------------------------------------------------------------------- sniff

def test_sniff(tmp_path):
    folder = _write(tmp_path / "s", FILES)
    assert sniff(folder) and sniff(folder / "EDA.csv") and sniff(folder / "ACC.csv")
    assert not sniff(folder / "tags.csv")  # too generic alone
    other = tmp_path / "ratings.csv"
    other.write_text("time,rating\n0,50\n")
    assert not sniff(other)
    fake = tmp_path / "o" / "EDA.csv"
    fake.parent.mkdir()
    fake.write_text("time,eda\n0,1\n")
    assert not sniff(fake) and not sniff(fake.parent)
    assert sy.read(folder)["eda"].sizes["time"] == 5
