"""Low-level parsing helpers for the comma-separated text exports (E4, generic CSV, ratings).

Everything here works on a file's decoded text and keeps **1-based line numbers**, so
that every :class:`~synchrony.errors.InputError` can say which line of which file is
wrong. The fast paths convert whole blocks with numpy; when a block fails, a slow pass
finds the first offending line and reports it.

Tolerated everywhere: ``\\r\\n`` and lone ``\\r`` line ends, a UTF-8 byte-order mark,
a missing final newline, trailing empty lines and spaces around values.

>>> lines = split_lines("1.5, 2\\r\\n3,4\\r\\n\\r\\n")
>>> lines
['1.5, 2', '3,4']
>>> parse_block(lines, "x.csv", first_line=1, ncols=2).tolist()
[[1.5, 2.0], [3.0, 4.0]]
"""
from __future__ import annotations

import math
import re
from pathlib import Path

import numpy as np

from ..errors import InputError, where

__all__ = [
    "decode",
    "read_text",
    "split_lines",
    "parse_number",
    "parse_block",
    "find_bad_token",
]

_BAD_CHARS = re.compile(r"[_]")


def decode(data: bytes, source) -> str:
    """Decode a file's bytes as UTF-8 (BOM removed), falling back to Latin-1 for stray bytes.

    Binary content (NUL bytes) is refused: it means the file is not a text export.

    >>> decode(b"\\xef\\xbb\\xbftime,rating\\n", "r.csv")
    'time,rating\\n'
    """
    if b"\x00" in data[:65536]:
        raise InputError(f"{source}: expected a text (CSV) file, found binary content (NUL bytes)")
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        text = data.decode("latin-1")
    if text.startswith("\ufeff"):
        text = text[1:]
    return text


def read_text(path, source=None) -> str:
    """Read and decode a text file, turning OS errors into :class:`InputError`."""
    path = Path(path)
    source = path if source is None else source
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise InputError(f"{source}: cannot read the file ({exc.strerror or exc})") from exc
    return decode(data, source)


def split_lines(text: str) -> list[str]:
    """Split text into lines (any line-end convention); trailing empty lines are dropped.

    Empty lines *inside* the text are kept (as ``''``) so line numbers stay exact and
    callers can reject them.

    >>> split_lines("a\\rb\\n\\n")
    ['a', 'b']
    """
    if "\r" in text:
        text = text.replace("\r\n", "\n").replace("\r", "\n")
    lines = text.split("\n")
    while lines and not lines[-1].strip():
        lines.pop()
    return lines


def parse_number(token: str, source, line: int, what: str, *, hint: str = "") -> float:
    """Parse one numeric field, or raise an :class:`InputError` naming file, line and token.

    >>> parse_number(" 64.000000", "BVP.csv", 2, "the sampling rate in Hz")
    64.0
    """
    text = token.strip()
    try:
        if not text or _BAD_CHARS.search(text):
            raise ValueError
        return float(text)
    except ValueError:
        raise InputError(
            f"{where(source, line)}expected {what}, found {token.strip()!r}.{(' ' + hint) if hint else ''}"
        ) from None


def find_bad_token(lines: list[str], source, first_line: int, ncols: int, *, what: str = "a number",
                   allow_empty: bool = False, sep: str = ",") -> InputError:
    """Slow pass: find the first line that breaks the block and build its error.

    ``first_line`` is the 1-based line number of ``lines[0]``.
    """
    for i, text in enumerate(lines):
        line = first_line + i
        if not text.strip():
            return InputError(f"{where(source, line)}expected {ncols} value(s), found an empty line")
        fields = text.split(sep)
        if len(fields) != ncols:
            return InputError(
                f"{where(source, line)}expected {ncols} value(s) separated by {sep!r}, found {len(fields)}: {text.strip()!r}"
            )
        for k, tok in enumerate(fields):
            if allow_empty and not tok.strip():
                continue
            try:
                parse_number(tok, source, line, what)
            except InputError as exc:
                col = f" (column {k + 1})" if ncols > 1 else ""
                return InputError(str(exc).replace(": expected", f"{col}: expected", 1) if col else str(exc))
    return InputError(f"{source}: could not parse lines {first_line}-{first_line + len(lines) - 1} as numbers")


def parse_block(lines: list[str], source, *, first_line: int, ncols: int, what: str = "a number",
                allow_empty: bool = False, sep: str = ",") -> np.ndarray:
    """Parse comma-separated numeric lines into a float64 array of shape ``(n, ncols)``.

    Fast path: one numpy conversion over all tokens. Non-finite values (``nan``,
    ``inf``) are returned as they are; callers decide what they mean. Empty fields
    become NaN only with ``allow_empty=True``; otherwise they are an error, like a
    non-numeric token or a wrong number of fields, reported with the 1-based line.

    >>> parse_block(["1", "nan", "3"], "EDA.csv", first_line=3, ncols=1).ravel().tolist()
    [1.0, nan, 3.0]
    >>> parse_block(["1", "x"], "EDA.csv", first_line=3, ncols=1)
    Traceback (most recent call last):
    ...
    synchrony.errors.InputError: EDA.csv line 4: expected a number, found 'x'.
    """
    n = len(lines)
    if n == 0:
        return np.empty((0, ncols), dtype=np.float64)
    blob = "\n".join(lines)
    # python's float() accepts 1_000; an export never writes it, so treat it as malformed
    if "_" in blob:
        raise find_bad_token(lines, source, first_line, ncols, what=what, allow_empty=allow_empty, sep=sep)
    if ncols == 1:
        if sep in blob:
            raise find_bad_token(lines, source, first_line, ncols, what=what, allow_empty=allow_empty, sep=sep)
        tokens = lines
    else:
        if blob.count(sep) != n * (ncols - 1):
            raise find_bad_token(lines, source, first_line, ncols, what=what, allow_empty=allow_empty, sep=sep)
        counts = [t.count(sep) for t in lines]
        if min(counts) != ncols - 1 or max(counts) != ncols - 1:
            raise find_bad_token(lines, source, first_line, ncols, what=what, allow_empty=allow_empty, sep=sep)
        tokens = blob.replace("\n", sep).split(sep)
    if allow_empty:
        tokens = [t if t.strip() else "nan" for t in tokens]
    try:
        values = np.array(tokens, dtype=np.float64)
    except ValueError:
        raise find_bad_token(lines, source, first_line, ncols, what=what, allow_empty=allow_empty, sep=sep) from None
    return values.reshape(n, ncols)


def count_nonfinite(values: np.ndarray) -> int:
    """Number of NaN / inf entries (missing data, kept as it is)."""
    return int(np.count_nonzero(~np.isfinite(values)))


def is_positive_finite(x: float) -> bool:
    """True for a finite number above zero."""
    return math.isfinite(x) and x > 0
