"""The package's exceptions and warning category.

Every error a user can cause is a :class:`SynchronyError`. Its message says what
was wrong, where (file, line, field or parameter), what was expected and what was
found. The command line prints that message without a traceback and exits with
status 2; a batch records it for the session and goes on.
"""
from __future__ import annotations

import logging

logger = logging.getLogger("synchrony")
logger.addHandler(logging.NullHandler())


class SynchronyError(Exception):
    """Base class of every error the package raises on bad input or configuration."""


class InputError(SynchronyError, ValueError):
    """An input file is unreadable, malformed or inconsistent."""


class ConfigError(SynchronyError, ValueError):
    """A session config, manifest or parameter is missing, misspelled or out of range."""


class AlignmentError(SynchronyError, ValueError):
    """Recordings or ratings cannot be put on one clock (no overlap, bad offsets)."""


class MissingDependencyError(SynchronyError, ImportError):
    """An optional dependency needed for this feature is not installed."""


class SynchronyWarning(UserWarning):
    """Warnings issued by synchrony (filter them with this category)."""


def where(path, line: int | None = None, field: str | None = None) -> str:
    """Format a location prefix for error messages: ``'EDA.csv line 2, field rate: '``."""
    parts = [str(path)]
    if line is not None:
        parts.append(f"line {line}")
    if field is not None:
        parts.append(f"field {field!r}")
    return " ".join(parts[:1]) + ("" if len(parts) == 1 else " " + ", ".join(parts[1:])) + ": "


def require(module: str, extra: str, feature: str):
    """Import an optional dependency or raise a :class:`MissingDependencyError` with an install hint."""
    import importlib

    try:
        return importlib.import_module(module)
    except ImportError as exc:  # pragma: no cover - exercised only without the extra
        raise MissingDependencyError(
            f"{feature} needs the optional package {module!r}, which is not installed. "
            f"Install it with: pip install 'synchrony[{extra}]'"
        ) from exc
