"""The session config (ARCHITECTURE.md section 6): a TOML file describing one session.

Relative paths are relative to the config file. Every key is checked: a misspelled
key is a :class:`~synchrony.errors.ConfigError` that lists the keys known there.

Example
-------
.. code-block:: toml

    [session]
    id = "dyad01_s05"

    [client]
    e4 = "client/1635148245_A00204.zip"   # or: ecg / ppg / ibi / eda / hr = "<file>", format = "csv"

    [therapist]
    e4 = "therapist/"
    offset_s = 0.0                        # seconds added to this device's clock (default 0)

    [ratings]
    client = "ratings_client.csv"
    therapist = "ratings_therapist.csv"
    start_tag = 1                         # or start_utc = "...Z", or offset_s = <video start on the
                                          # client's recording clock, seconds>

    [analysis]
    modalities = ["hr", "eda"]
    window = 30.0
    step = 1.0
    max_lag = 5.0
    surrogates = 200
    random_state = 1
"""
from __future__ import annotations

import hashlib
import math
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .errors import ConfigError

# Keys a person's table may hold: one whole-device export, or files per stream.
DEVICE_KEYS = ("e4", "embraceplus", "biopac", "polar", "edf", "xdf", "bids", "shimmer", "recording")
STREAM_KEYS = ("ecg", "ppg", "bvp", "ibi", "eda", "hr", "resp")
PERSON_OPTIONS = ("format", "offset_s", "hr_source", "timezone")

ANALYSIS_DEFAULTS: dict[str, Any] = {
    "modalities": ["hr", "eda"],
    "window": 30.0,          # s
    "step": 1.0,             # s
    "max_lag": 5.0,          # s
    "lag_step": None,        # s; None = one sample
    "min_valid": 0.5,        # fraction of a window's pairs that must be finite
    "surrogates": 200,
    "surrogate_method": "auto",   # "auto" = the stats layer's calibrated default
    "statistic": "mean_abs_z",
    "random_state": 1,
    "fs": 4.0,               # Hz, analysis grid of both partners
    "max_gap": 3.0,          # s without beats / samples that is never bridged
    "peak_method": "boker",  # how the per-window peak (and so `sync`) is found
    "segment_s": 30.0,       # length of the most helpful / hindering segments
    "top_k": 3,              # how many helpful and hindering segments per rater
    "association_max_lag": 10.0,  # s, rating-vs-synchrony lags searched
    "align_rule": "centre",  # which synchrony windows feed a rating bin
}

#: surrogate methods a single session can use ("pseudo_dyad" needs a batch)
SESSION_SURROGATE_METHODS = ("auto", "segment_shuffle", "circular_shift", "phase", "iaaft")

RATINGS_KEYS = ("client", "therapist", "start_utc", "start_tag", "offset_s", "scale_min", "scale_max")
SECTIONS = ("session", "client", "therapist", "ratings", "analysis")
ROLES = ("client", "therapist")


@dataclass
class PersonConfig:
    """Where one partner's physiology comes from."""

    role: str
    files: dict[str, Path]          # key (device or stream name) -> path
    format: str | None = None
    offset_s: float = 0.0
    hr_source: str = "auto"
    timezone: str | None = None


@dataclass
class SessionConfig:
    """A parsed, validated session config."""

    path: Path | None
    session_id: str
    persons: dict[str, PersonConfig]
    ratings: dict[str, Any]
    analysis: dict[str, Any]
    text: str = ""
    extra: dict[str, Any] = field(default_factory=dict)

    def input_files(self) -> list[Path]:
        """Every input file or folder the session reads."""
        out = [p for person in self.persons.values() for p in person.files.values()]
        out += [self.ratings[r] for r in ROLES if isinstance(self.ratings.get(r), Path)]
        return out

    def checksum(self) -> str:
        """SHA-256 over the config text and every input file's bytes (folders: their files, sorted)."""
        h = hashlib.sha256(self.text.encode())
        for p in self.input_files():
            h.update(path_sha256(p).encode())
        return h.hexdigest()


def path_sha256(path: Path) -> str:
    """SHA-256 of a file, or of a folder's files (names and contents, in sorted order)."""
    if path.is_file():
        return file_sha256(path)
    h = hashlib.sha256()
    for f in sorted(path.rglob("*")):
        if f.is_file():
            h.update(f.name.encode())
            h.update(file_sha256(f).encode())
    return h.hexdigest()


def file_sha256(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def _unknown(where: str, keys, known) -> None:
    bad = [k for k in keys if k not in known]
    if bad:
        raise ConfigError(
            f"{where}: unknown key{'s' if len(bad) > 1 else ''} {', '.join(repr(b) for b in bad)}; "
            f"known keys here: {', '.join(known)}"
        )


def _number(where: str, key: str, value, *, positive=False, nonneg=False, integer=False):
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
        raise ConfigError(f"{where}: {key} must be a finite number, found {value!r}")
    if integer and int(value) != value:
        raise ConfigError(f"{where}: {key} must be a whole number, found {value!r}")
    if positive and value <= 0:
        raise ConfigError(f"{where}: {key} must be > 0, found {value!r}")
    if nonneg and value < 0:
        raise ConfigError(f"{where}: {key} must be ≥ 0, found {value!r}")
    return int(value) if integer else float(value)


def load_config(source, *, base_dir: Path | None = None) -> SessionConfig:
    """Read and validate a session config.

    Parameters
    ----------
    source : str, Path or dict
        A TOML file, or the same content as a dict (then relative paths are relative to ``base_dir``,
        default the working directory).

    Raises
    ------
    ConfigError
        Naming the file and the section/key that is wrong, and what was expected.
    """
    if isinstance(source, dict):
        raw, text, path = source, repr(source), None
        base = Path(base_dir) if base_dir else Path.cwd()
        name = "session config"
    else:
        path = Path(source)
        name = str(path)
        if path.is_dir():
            path = path / "session.toml"
            name = str(path)
        if not path.is_file():
            raise ConfigError(f"{name}: session config not found")
        text = path.read_text(encoding="utf-8", errors="replace")
        try:
            raw = tomllib.loads(text)
        except tomllib.TOMLDecodeError as exc:
            raise ConfigError(f"{name}: not valid TOML ({exc})") from None
        base = path.parent
    _unknown(name, raw, SECTIONS)
    for sec in ("session", "client", "therapist"):
        if sec not in raw:
            raise ConfigError(f"{name}: missing section [{sec}]")
    for sec in SECTIONS:
        if sec in raw and not isinstance(raw[sec], dict):
            raise ConfigError(f"{name}: [{sec}] must be a table, found {raw[sec]!r}")

    session = raw["session"]
    _unknown(f"{name} [session]", session, ("id",))
    sid = session.get("id")
    if not isinstance(sid, str) or not sid.strip():
        raise ConfigError(f"{name} [session]: id must be a non-empty string, found {sid!r}")
    if any(c in sid for c in "/\\") or sid.startswith("."):
        raise ConfigError(f"{name} [session]: id {sid!r} is used as a file name; it must not contain '/' or '\\' or start with '.'")

    persons = {}
    for role in ROLES:
        sec = raw[role]
        where = f"{name} [{role}]"
        _unknown(where, sec, DEVICE_KEYS + STREAM_KEYS + PERSON_OPTIONS)
        files = {}
        for key in DEVICE_KEYS + STREAM_KEYS:
            if key in sec:
                if not isinstance(sec[key], str):
                    raise ConfigError(f"{where}: {key} must be a path string, found {sec[key]!r}")
                p = (base / sec[key]).resolve() if not Path(sec[key]).is_absolute() else Path(sec[key])
                if not p.exists():
                    raise ConfigError(f"{where}: {key} = {sec[key]!r}: no such file or folder ({p})")
                files[key] = p
        if not files:
            raise ConfigError(
                f"{where}: no recording given; use one of {', '.join(DEVICE_KEYS)} (a whole export) "
                f"or per-stream files {', '.join(STREAM_KEYS)}"
            )
        devices = [k for k in files if k in DEVICE_KEYS]
        if len(devices) > 1 or (devices and len(files) > 1):
            raise ConfigError(f"{where}: give either one whole export ({', '.join(devices)}) or per-stream files, not both")
        fmt = sec.get("format")
        if fmt is not None and not isinstance(fmt, str):
            raise ConfigError(f"{where}: format must be a string, found {fmt!r}")
        offset = _number(where, "offset_s", sec.get("offset_s", 0.0))
        hr_source = sec.get("hr_source", "auto")
        if hr_source not in ("auto", "ecg", "bvp", "ibi", "hr"):
            raise ConfigError(f"{where}: hr_source must be one of auto, ecg, bvp, ibi, hr; found {hr_source!r}")
        tz = sec.get("timezone")
        if tz is not None and not isinstance(tz, str):
            raise ConfigError(f"{where}: timezone must be a string, found {tz!r}")
        persons[role] = PersonConfig(role, files, fmt, offset, hr_source, tz)

    ratings: dict[str, Any] = {}
    if "ratings" in raw:
        sec = raw["ratings"]
        where = f"{name} [ratings]"
        _unknown(where, sec, RATINGS_KEYS)
        for role in ROLES:
            if role in sec:
                if not isinstance(sec[role], str):
                    raise ConfigError(f"{where}: {role} must be a path string, found {sec[role]!r}")
                p = (base / sec[role]).resolve()
                if not p.is_file():
                    raise ConfigError(f"{where}: {role} = {sec[role]!r}: no such file ({p})")
                ratings[role] = p
        clocks = [k for k in ("start_utc", "start_tag", "offset_s") if k in sec]
        if ratings and len(clocks) != 1:
            raise ConfigError(
                f"{where}: say where rating time 0 (the video start) sits with exactly one of start_utc "
                f"(ISO 8601 UTC), start_tag (1-based tag on the client's device) or offset_s (seconds on the "
                f"client's recording clock); found {clocks or 'none'}"
            )
        if "start_utc" in sec:
            from .recording import parse_utc

            if not isinstance(sec["start_utc"], str):
                raise ConfigError(f"{where}: start_utc must be an ISO 8601 UTC string, found {sec['start_utc']!r}")
            try:
                parse_utc(sec["start_utc"])
            except ValueError as exc:
                raise ConfigError(f"{where}: start_utc: {exc}") from None
            ratings["start_utc"] = str(sec["start_utc"])
        if "start_tag" in sec:
            ratings["start_tag"] = _number(where, "start_tag", sec["start_tag"], integer=True, positive=True)
        if "offset_s" in sec:
            ratings["offset_s"] = _number(where, "offset_s", sec["offset_s"])
        for k in ("scale_min", "scale_max"):
            if k in sec:
                ratings[k] = _number(where, k, sec[k])

    analysis = dict(ANALYSIS_DEFAULTS)
    sec = raw.get("analysis", {})
    where = f"{name} [analysis]"
    _unknown(where, sec, tuple(ANALYSIS_DEFAULTS))
    analysis.update(sec)
    mods = analysis["modalities"]
    known_mods = ("hr", "eda", "scl", "scr", "rmssd", "rsa")
    if isinstance(mods, str):
        mods = [mods]
    if not isinstance(mods, list) or not mods or any(m not in known_mods for m in mods):
        raise ConfigError(f"{where}: modalities must be a non-empty list drawn from {', '.join(known_mods)}; found {analysis['modalities']!r}")
    if len(set(mods)) != len(mods):
        raise ConfigError(f"{where}: modalities lists one twice: {mods!r}")
    analysis["modalities"] = list(mods)
    for k in ("window", "step", "fs", "segment_s"):
        analysis[k] = _number(where, k, analysis[k], positive=True)
    for k in ("max_lag", "max_gap", "association_max_lag"):
        analysis[k] = _number(where, k, analysis[k], nonneg=True)
    if analysis["lag_step"] is not None:
        analysis["lag_step"] = _number(where, "lag_step", analysis["lag_step"], positive=True)
    analysis["min_valid"] = _number(where, "min_valid", analysis["min_valid"])
    if not 0 < analysis["min_valid"] <= 1:
        raise ConfigError(f"{where}: min_valid must be in (0, 1], found {analysis['min_valid']!r}")
    analysis["surrogates"] = _number(where, "surrogates", analysis["surrogates"], integer=True, nonneg=True)
    analysis["top_k"] = _number(where, "top_k", analysis["top_k"], integer=True, positive=True)
    if analysis["max_lag"] >= analysis["window"]:
        raise ConfigError(
            f"{where}: max_lag ({analysis['max_lag']} s) must be shorter than the window ({analysis['window']} s)"
        )
    rs = analysis["random_state"]
    if rs is not None:
        analysis["random_state"] = _number(where, "random_state", rs, integer=True, nonneg=True)
    if analysis["peak_method"] not in ("boker", "max"):
        raise ConfigError(f"{where}: peak_method must be 'boker' or 'max', found {analysis['peak_method']!r}")
    if analysis["align_rule"] not in ("centre", "overlap"):
        raise ConfigError(f"{where}: align_rule must be 'centre' or 'overlap', found {analysis['align_rule']!r}")
    sm = analysis["surrogate_method"]
    if sm == "pseudo_dyad":
        raise ConfigError(f"{where}: surrogate_method = 'pseudo_dyad' needs other sessions' partners; it is a "
                          "batch option (synchrony batch MANIFEST --pseudo-dyads N), reported beside this "
                          "session's own surrogate test")
    if sm not in SESSION_SURROGATE_METHODS:
        raise ConfigError(f"{where}: surrogate_method must be one of {', '.join(map(repr, SESSION_SURROGATE_METHODS))}, "
                          f"found {sm!r}")
    if analysis["statistic"] not in ("mean_abs_z", "peak"):
        raise ConfigError(f"{where}: statistic must be 'mean_abs_z' or 'peak', found {analysis['statistic']!r}")

    return SessionConfig(path=path, session_id=sid, persons=persons, ratings=ratings, analysis=analysis, text=text)
