"""A catalogue of bad inputs for the ``synchrony`` command, built by code (no committed blobs).

Each :class:`Case` builds, inside a fresh folder, a small simulated session (300 s, see
:func:`synchrony.simulate.simulate_session`) with one thing broken, and returns the
command-line arguments that run it. The CLI must exit with ``code`` (2 for every bad
input), print a message holding every word of ``words`` (case-insensitive) and no
traceback, and leave no session file in the output folder.

>>> len(CATALOGUE) >= 30
True
>>> len({c.id for c in CATALOGUE}) == len(CATALOGUE)
True
"""
from __future__ import annotations

import io
import shutil
import tempfile
import zipfile
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

__all__ = ["Case", "CATALOGUE", "base_session", "session_copy", "write_toml", "BASE_CONFIG",
           "CLIENT_ZIP", "OUTPUT_SUFFIXES", "leftovers"]

#: the client's export inside a simulated session (a zip); the therapist's is the folder ``therapist/``
CLIENT_ZIP = "client/1635148245_A00204.zip"

#: the session config every case starts from (small and fast: 20 surrogates)
BASE_CONFIG: dict = {
    "session": {"id": "bad01"},
    "client": {"e4": CLIENT_ZIP},
    "therapist": {"e4": "therapist/"},
    "ratings": {"client": "ratings_client.csv", "therapist": "ratings_therapist.csv", "start_tag": 1},
    "analysis": {"modalities": ["hr", "eda"], "window": 30.0, "step": 1.0, "max_lag": 5.0,
                 "surrogates": 20, "random_state": 1},
}

#: file endings of anything ``synchrony run`` writes
OUTPUT_SUFFIXES = (".nc", ".json", ".html", ".csv", ".png")

_TEMPLATE: Path | None = None


def base_session() -> Path:
    """A pristine simulated session (made once per process, in a temporary folder; do not edit it)."""
    global _TEMPLATE
    if _TEMPLATE is None or not (_TEMPLATE / "session.toml").is_file():
        from synchrony.simulate import SMALL, simulate_session

        folder = Path(tempfile.mkdtemp(prefix="synchrony-bad-inputs-")) / "session"
        simulate_session(folder, seed=7, **SMALL)
        _TEMPLATE = folder
    return _TEMPLATE


def _toml_value(v) -> str:
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, str):
        return '"' + v.replace("\\", "\\\\").replace('"', '\\"') + '"'
    if isinstance(v, (list, tuple)):
        return "[" + ", ".join(_toml_value(x) for x in v) + "]"
    if isinstance(v, float):
        return repr(v) if v == v and abs(v) != float("inf") else ("nan" if v != v else ("inf" if v > 0 else "-inf"))
    return str(v)


def write_toml(path: Path, config: dict) -> Path:
    """Write a (two-level) config dict as TOML.

    >>> import tempfile, pathlib, tomllib
    >>> p = write_toml(pathlib.Path(tempfile.mkdtemp()) / "s.toml", {"a": {"x": 1.5, "m": ["hr"]}})
    >>> tomllib.loads(p.read_text())
    {'a': {'x': 1.5, 'm': ['hr']}}
    """
    lines = []
    for sec, table in config.items():
        lines.append(f"[{sec}]")
        lines += [f"{k} = {_toml_value(v)}" for k, v in table.items()]
        lines.append("")
    path.write_text("\n".join(lines), encoding="utf-8")
    return path


def session_copy(tmp: Path, edit: Callable[[dict], None] | None = None, name: str = "session") -> Path:
    """Copy the pristine session into ``tmp/name`` and write its config (``BASE_CONFIG`` after ``edit``).

    Returns the path of the copy's ``session.toml``.
    """
    import copy

    dst = Path(tmp) / name
    shutil.copytree(base_session(), dst)
    cfg = copy.deepcopy(BASE_CONFIG)
    if edit is not None:
        edit(cfg)
    return write_toml(dst / "session.toml", cfg)


def leftovers(out: Path) -> list[str]:
    """Anything in ``out`` that a run could have left: session files or hidden temporary folders."""
    out = Path(out)
    if not out.is_dir():
        return []
    return sorted(str(p.relative_to(out)) for p in out.rglob("*")
                  if p.suffix.lower() in OUTPUT_SUFFIXES or p.name.startswith(".synchrony-tmp"))


# --------------------------------------------------------------------------- mutation helpers


def _rewrite_zip(zpath: Path, edit: Callable[[dict[str, bytes]], dict[str, bytes]],
                 compression=zipfile.ZIP_DEFLATED) -> None:
    with zipfile.ZipFile(zpath) as zf:
        members = {i.filename: zf.read(i) for i in zf.infolist()}
    members = edit(members)
    with zipfile.ZipFile(zpath, "w", compression) as zf:
        for name, data in members.items():
            zf.writestr(name, data)


def _set_member(name: str, data: bytes):
    def edit(m):
        m = dict(m)
        m[name] = data
        return m
    return edit


def _lines_edit(path: Path, fn: Callable[[list[str]], list[str]]) -> None:
    lines = path.read_text(encoding="utf-8").splitlines()
    path.write_text("\n".join(fn(lines)) + "\n", encoding="utf-8")


def _set_line(i: int, text: str):
    """Replace 1-based line ``i``."""
    def fn(lines):
        lines = list(lines)
        lines[i - 1] = text
        return lines
    return fn


def _shift_e4_folder(folder: Path, seconds: float) -> None:
    """Move every header start (and tag instant) of an E4 folder by ``seconds``."""
    for f in folder.glob("*.csv"):
        lines = f.read_text().splitlines()
        if f.name == "tags.csv":
            lines = [f"{float(x) + seconds:.6f}" for x in lines if x.strip()]
        elif f.name == "IBI.csv":
            start, rest = lines[0].split(",", 1)
            lines[0] = f"{float(start) + seconds:.6f},{rest}"
        else:
            lines[0] = ",".join(f"{float(x) + seconds:.6f}" for x in lines[0].split(","))
        f.write_text("\n".join(lines) + "\n")


# --------------------------------------------------------------------------- the catalogue


@dataclass(frozen=True)
class Case:
    """One bad input: ``build(tmp) -> argv``; expected exit ``code`` and words of the message."""

    id: str
    build: Callable[[Path], list[str]]
    words: tuple[str, ...]
    code: int = 2
    error: str = "SynchronyError"  #: the class the library raises (checked in-process by the tests)


def _run_argv(cfg: Path, tmp: Path) -> list[str]:
    return ["run", str(cfg), "--out", str(Path(tmp) / "out"), "-q"]


def _cfg_case(edit: Callable[[dict], None]):
    """A case whose only fault is in the session config."""
    def build(tmp):
        return _run_argv(session_copy(tmp, edit), tmp)
    return build


def _file_case(rel: str, mutate: Callable[[Path], None], edit: Callable[[dict], None] | None = None):
    """A case that breaks one file of the session (``rel`` relative to the session folder)."""
    def build(tmp):
        cfg = session_copy(tmp, edit)
        mutate(cfg.parent / rel)
        return _run_argv(cfg, tmp)
    return build


def _truncate(frac: float):
    def fn(p: Path):
        data = p.read_bytes()
        p.write_bytes(data[: int(len(data) * frac)])
    return fn


def _corrupt_zip_member(p: Path) -> None:
    """Flip bytes inside the first member's compressed data (headers intact: CRC or inflate fails)."""
    data = bytearray(p.read_bytes())
    with zipfile.ZipFile(p) as zf:
        info = zf.infolist()[0]
    start = info.header_offset + 30 + len(info.filename.encode()) + len(info.extra)
    for k in range(start + 10, start + min(info.compress_size, 400) - 10):
        data[k] ^= 0x5A
    p.write_bytes(bytes(data))


def _zip_add(name: str, data: bytes = b"1600000000.0\n4.0\n0.1\n"):
    def fn(p: Path):
        # zipfile normalises a leading '/' away on write, so absolute names are patched in afterwards
        _rewrite_zip(p, _set_member(name, data))
    return fn


def _zip_add_absolute(p: Path) -> None:
    placeholder = "Xetc/EDA.csv"
    _rewrite_zip(p, _set_member(placeholder, b"1600000000.0\n4.0\n0.1\n"))
    raw = p.read_bytes().replace(placeholder.encode(), b"/etc/EDA.csv")
    p.write_bytes(raw)


def _zip_forged_size(p: Path) -> None:
    """A member whose central-directory entry claims 4 GB uncompressed (a bomb's signature)."""
    _rewrite_zip(p, _set_member("BOMB.bin", b"\0" * 1024))
    raw = bytearray(p.read_bytes())
    # find the central entry of BOMB.bin and set its uncompressed size (offset 24) to 0xFFFFFFF0
    name = b"BOMB.bin"
    pos = 0
    while True:
        cd = raw.find(b"PK\x01\x02", pos)
        assert cd >= 0, "central entry not found"
        n = int.from_bytes(raw[cd + 28: cd + 30], "little")
        if raw[cd + 46: cd + 46 + n] == name:
            raw[cd + 24: cd + 28] = (0xFFFFFFF0).to_bytes(4, "little")
            break
        pos = cd + 4
    p.write_bytes(bytes(raw))


def _zip_ratio_bomb(p: Path) -> None:
    """A real member that expands from a few hundred bytes to 17 MiB (bzip2 of zeros)."""
    with zipfile.ZipFile(p, "a", zipfile.ZIP_BZIP2) as zf:
        zf.writestr("EDA_backup/huge.bin", b"\0" * (17 * 1024 * 1024))


def _ratings(text: str):
    def fn(p: Path):
        p.write_text(text, encoding="utf-8")
    return fn


def _edit(section: str, **kv):
    def fn(cfg):
        for k, v in kv.items():
            if v is None:
                cfg[section].pop(k, None)
            else:
                cfg[section][k] = v
    return fn


def _rename_key(section: str, old: str, new: str):
    def fn(cfg):
        cfg[section][new] = cfg[section].pop(old)
    return fn


def _shorten_folder(seconds: float, only: str | None = None):
    """Cut every regular stream of an E4 folder (or just ``only``) to its first ``seconds``."""
    def fn(folder: Path):
        for f in folder.glob(only or "*.csv"):
            lines = f.read_text().splitlines()
            if f.name in ("tags.csv", "IBI.csv"):
                continue
            fs = float(lines[1].split(",")[0])
            f.write_text("\n".join(lines[: 2 + int(seconds * fs)]) + "\n")
    return fn


def _unwritable(tmp: Path) -> list[str]:
    cfg = session_copy(tmp)
    blocker = Path(tmp) / "out"
    blocker.write_text("a regular file, so out/results cannot be a folder\n")
    return ["run", str(cfg), "--out", str(blocker / "results"), "-q"]


def _missing_config(tmp: Path) -> list[str]:
    return ["run", str(Path(tmp) / "nowhere" / "session.toml"), "--out", str(Path(tmp) / "out"), "-q"]


def _bad_toml(tmp: Path) -> list[str]:
    cfg = session_copy(tmp)
    cfg.write_text(cfg.read_text() + "\n[analysis\nwindow = 3\n")
    return _run_argv(cfg, tmp)


THERAPIST_EDA = "therapist/EDA.csv"
THERAPIST_IBI = "therapist/IBI.csv"
THERAPIST_ACC = "therapist/ACC.csv"
THERAPIST_TAGS = "therapist/tags.csv"
RATINGS = "ratings_client.csv"

CATALOGUE: list[Case] = [
    # ---- zip archives
    Case("zip_truncated", _file_case(CLIENT_ZIP, _truncate(0.5)), ("1635148245_A00204.zip", "truncated")),
    Case("zip_corrupt_member", _file_case(CLIENT_ZIP, _corrupt_zip_member),
         ("1635148245_A00204.zip", "corrupt")),
    Case("zip_not_a_zip", _file_case(CLIENT_ZIP, lambda p: p.write_bytes(b"this is not an archive\n" * 50)),
         ("1635148245_A00204.zip",)),
    Case("zip_empty_file", _file_case(CLIENT_ZIP, lambda p: p.write_bytes(b"")), ("1635148245_A00204.zip",)),
    Case("zip_dotdot_entry", _file_case(CLIENT_ZIP, _zip_add("../../evil/EDA.csv")),
         ("1635148245_A00204.zip", "..", "refused")),
    Case("zip_absolute_entry", _file_case(CLIENT_ZIP, _zip_add_absolute),
         ("1635148245_A00204.zip", "/etc/EDA.csv", "absolute")),
    Case("zip_forged_size_bomb", _file_case(CLIENT_ZIP, _zip_forged_size), ("1635148245_A00204.zip", "bytes")),
    Case("zip_ratio_bomb", _file_case(CLIENT_ZIP, _zip_ratio_bomb), ("1635148245_A00204.zip", "zip bomb")),
    Case("zip_without_e4_files", _file_case(CLIENT_ZIP, lambda p: _rewrite_zip(p, lambda m: {"notes.txt": b"hi"})),
         ("1635148245_A00204.zip", "EDA.csv")),
    # ---- E4 CSV files
    Case("e4_empty_file", _file_case(THERAPIST_EDA, lambda p: p.write_bytes(b"")), ("EDA.csv", "line 1", "empty")),
    Case("e4_missing_rate_row", _file_case(THERAPIST_EDA, lambda p: p.write_text("1635148282.250000\n")),
         ("EDA.csv", "line 2", "sampling rate")),
    Case("e4_non_numeric_row", _file_case(THERAPIST_EDA, lambda p: _lines_edit(p, _set_line(50, "0.41x"))),
         ("EDA.csv", "line 50", "0.41x")),
    Case("e4_rate_zero", _file_case(THERAPIST_EDA, lambda p: _lines_edit(p, _set_line(2, "0.000000"))),
         ("EDA.csv", "line 2", "positive")),
    Case("e4_rate_negative", _file_case(THERAPIST_EDA, lambda p: _lines_edit(p, _set_line(2, "-4.0"))),
         ("EDA.csv", "line 2", "positive")),
    Case("e4_rate_inf", _file_case(THERAPIST_EDA, lambda p: _lines_edit(p, _set_line(2, "inf"))),
         ("EDA.csv", "line 2", "sampling rate")),
    Case("e4_start_nan", _file_case(THERAPIST_EDA, lambda p: _lines_edit(p, _set_line(1, "nan"))),
         ("EDA.csv", "line 1", "start time")),
    Case("e4_start_text", _file_case(THERAPIST_EDA, lambda p: _lines_edit(p, _set_line(1, "Monday"))),
         ("EDA.csv", "line 1", "Monday")),
    Case("e4_acc_columns", _file_case(THERAPIST_ACC, lambda p: _lines_edit(p, _set_line(2, "32.0,32.0"))),
         ("ACC.csv", "line 2", "3 column")),
    Case("e4_ibi_header", _file_case(THERAPIST_IBI, lambda p: _lines_edit(p, _set_line(1, "1635148282.25,RR"))),
         ("IBI.csv", "line 1", "IBI")),
    Case("e4_ibi_nan_offset", _file_case(THERAPIST_IBI, lambda p: _lines_edit(p, _set_line(5, "nan,0.8"))),
         ("IBI.csv", "line 5", "finite")),
    Case("e4_ibi_inf_offset", _file_case(THERAPIST_IBI, lambda p: _lines_edit(p, _set_line(5, "inf,0.8"))),
         ("IBI.csv", "line 5", "finite")),
    Case("e4_ibi_unsorted", _file_case(THERAPIST_IBI, lambda p: _lines_edit(p, lambda l: l[:4] + [l[5], l[4]] + l[6:])),
         ("IBI.csv", "line 6", "increasing")),
    Case("e4_ibi_duplicate", _file_case(THERAPIST_IBI, lambda p: _lines_edit(p, lambda l: l[:5] + [l[4]] + l[5:])),
         ("IBI.csv", "line 6", "increasing")),
    Case("e4_tags_unsorted", _file_case(THERAPIST_TAGS, lambda p: p.write_text("1635148400.0\n1635148300.0\n")),
         ("tags.csv", "line 2", "increasing")),
    # ---- devices and clocks
    Case("streams_wildly_different_lengths", _file_case("therapist", _shorten_folder(12.0, only="EDA.csv")),
         ("EDA.csv", "therapist", "eda", "window", "session.toml")),
    Case("recording_shorter_than_window", _file_case("therapist", _shorten_folder(12.0)),
         ("therapist", "window", "session.toml")),
    Case("devices_never_overlap", _cfg_case(_edit("therapist", offset_s=100000.0)),
         ("session.toml", "therapist", "offset_s", "do not overlap")),
    Case("clocks_24h_apart", _file_case("therapist", lambda p: _shift_e4_folder(p, 86400.0)),
         ("session.toml", "do not overlap", "24 h", "time-zone")),
    Case("start_tag_beyond_tags", _cfg_case(_edit("ratings", start_tag=9)), ("start_tag", "tag 9")),
    # ---- ratings
    Case("ratings_out_of_range", _file_case(RATINGS, lambda p: _lines_edit(p, _set_line(20, "18.0,150.0"))),
         ("ratings_client.csv", "line 20", "rating", "150")),
    Case("ratings_truncated", _file_case(RATINGS, lambda p: p.write_text(p.read_text()[: len(p.read_text()) // 2 + 3]
                                                                         .rsplit(",", 1)[0])),
         ("ratings_client.csv", "line", "expected 2 values")),
    Case("ratings_missing_column", _file_case(RATINGS, lambda p: _lines_edit(p, _set_line(1, "time,score"))),
         ("ratings_client.csv", "line 1", "rating")),
    Case("ratings_empty", _file_case(RATINGS, lambda p: p.write_bytes(b"")), ("ratings_client.csv", "empty")),
    Case("ratings_duplicate_time", _file_case(RATINGS, lambda p: _lines_edit(p, lambda l: l[:10] + [l[9]] + l[10:])),
         ("ratings_client.csv", "line 11", "time", "increasing")),
    Case("ratings_inf_time", _file_case(RATINGS, lambda p: _lines_edit(p, _set_line(7, "inf,50"))),
         ("ratings_client.csv", "line 7", "finite")),
    Case("ratings_text_value", _file_case(RATINGS, lambda p: _lines_edit(p, _set_line(7, "5.0,high"))),
         ("ratings_client.csv", "line 7", "rating", "high")),
    Case("ratings_negative_time", _file_case(RATINGS, lambda p: _lines_edit(p, _set_line(2, "-3.0,50"))),
         ("ratings_client.csv", "line 2", "time")),
    # ---- session config
    Case("config_misspelled_analysis_key", _cfg_case(_rename_key("analysis", "window", "windw")),
         ("session.toml", "[analysis]", "'windw'", "known keys", "window", "max_lag")),
    Case("config_misspelled_section", _cfg_case(lambda c: c.update(analysys=c.pop("analysis"))),
         ("session.toml", "'analysys'", "known keys", "analysis")),
    Case("config_misspelled_person_key", _cfg_case(_rename_key("client", "e4", "e5")),
         ("session.toml", "[client]", "'e5'", "known keys", "e4")),
    Case("config_misspelled_ratings_key", _cfg_case(_rename_key("ratings", "start_tag", "start_tags")),
         ("session.toml", "[ratings]", "'start_tags'", "known keys", "start_tag")),
    Case("config_window_zero", _cfg_case(_edit("analysis", window=0.0)), ("session.toml", "window", "> 0")),
    Case("config_window_negative", _cfg_case(_edit("analysis", window=-30.0)), ("session.toml", "window", "> 0")),
    Case("config_window_longer_than_session", _cfg_case(_edit("analysis", window=5000.0)),
         ("session.toml", "window", "longer")),
    Case("config_max_lag_equals_window", _cfg_case(_edit("analysis", max_lag=30.0)),
         ("session.toml", "max_lag", "window")),
    Case("config_max_lag_above_window", _cfg_case(_edit("analysis", max_lag=45.0)),
         ("session.toml", "max_lag", "window")),
    Case("config_step_nan", _cfg_case(_edit("analysis", step=float("nan"))), ("session.toml", "step", "finite")),
    Case("config_unknown_modality", _cfg_case(_edit("analysis", modalities=["hr", "heart"])),
         ("session.toml", "modalities", "heart")),
    Case("config_surrogates_negative", _cfg_case(_edit("analysis", surrogates=-5)),
         ("session.toml", "surrogates")),
    Case("config_no_video_clock", _cfg_case(_edit("ratings", start_tag=None)),
         ("session.toml", "[ratings]", "start_tag")),
    Case("config_not_toml", _bad_toml, ("session.toml", "TOML")),
    Case("config_session_id_path", _cfg_case(_edit("session", id="../escape")), ("session.toml", "id")),
    # ---- missing and unwritable paths
    Case("missing_config_file", _missing_config, ("nowhere", "session.toml", "not found")),
    Case("missing_input_file", _cfg_case(_edit("client", e4="client/gone.zip")),
         ("session.toml", "[client]", "e4", "gone.zip")),
    Case("missing_ratings_file", _cfg_case(_edit("ratings", therapist="nope.csv")),
         ("session.toml", "[ratings]", "therapist", "nope.csv")),
    Case("output_not_writable", _unwritable, ("results", "cannot write")),
]


def _error_class(case_id: str) -> str:
    """The exception class (in :mod:`synchrony.errors`) the library raises for a case."""
    if case_id in ("devices_never_overlap", "clocks_24h_apart", "start_tag_beyond_tags",
                   "config_window_longer_than_session"):
        return "AlignmentError"
    if case_id.startswith(("config_", "missing_")):
        return "ConfigError"
    return "InputError"


CATALOGUE = [Case(c.id, c.build, c.words, c.code, _error_class(c.id)) for c in CATALOGUE]
