"""Argument helpers that generated methods call while building a command.

They turn Python conveniences (timedelta, datetime, sequences) into wire
arguments and reject bad input with ``DataError`` before anything is sent.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from datetime import datetime, timedelta
from typing import Any, TypeVar

from .errors import DataError

T = TypeVar("T")

__all__ = [
    "at_most_one",
    "exactly_one",
    "millis",
    "pairs",
    "seconds",
    "seq",
    "unix_millis",
    "unix_seconds",
]


def seconds(v: int | float | timedelta) -> int | float:
    if isinstance(v, timedelta):
        return int(v.total_seconds())
    return v


def millis(v: int | float | timedelta) -> int | float:
    if isinstance(v, timedelta):
        return int(v.total_seconds() * 1000)
    return v


def unix_seconds(v: int | datetime) -> int:
    if isinstance(v, datetime):
        return int(v.timestamp())
    return v


def unix_millis(v: int | datetime) -> int:
    if isinstance(v, datetime):
        return int(v.timestamp() * 1000)
    return v


def seq(v: Iterable[T], name: str) -> Sequence[T]:
    """A sequence argument; a bare str/bytes (a classic mistake) is refused."""
    if isinstance(v, (str, bytes, memoryview)):
        raise DataError(f"{name} must be a sequence of values, not a single {type(v).__name__}")
    return v if isinstance(v, (list, tuple)) else list(v)


def pairs(v: Mapping[Any, Any], name: str) -> list[Any]:
    """A mapping flattened to k1, v1, k2, v2 ...; an empty one is refused."""
    if not isinstance(v, Mapping):
        raise DataError(f"{name} must be a mapping, not {type(v).__name__}")
    flat: list[Any] = []
    for k, val in v.items():
        flat.append(k)
        flat.append(val)
    return flat


def at_most_one(command: str, **given: object) -> None:
    """Mutually exclusive options: name the offenders."""
    chosen = [k for k, v in given.items() if v is not None and v is not False]
    if len(chosen) > 1:
        raise DataError(
            f"{command}: {' and '.join(chosen)} are mutually exclusive; give at most one"
        )


def exactly_one(command: str, **given: object) -> None:
    chosen = [k for k, v in given.items() if v is not None and v is not False]
    if len(chosen) != 1:
        names = ", ".join(given)
        raise DataError(f"{command}: give exactly one of {names} (got {len(chosen)})")
