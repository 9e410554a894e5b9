"""Argument helpers that generated methods call while building a command.

They turn Python conveniences (timedelta, datetime, sequences) into wire
arguments and reject bad input with ``DataError`` before anything is sent.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from datetime import datetime, timedelta
from typing import Any, TypeVar

from .errors import ArgumentTypeError, DataError, DecodeError

T = TypeVar("T")

__all__ = [
    "MISUSE",
    "DecodeError",
    "at_most_one",
    "exactly_one",
    "millis",
    "misuse",
    "pairs",
    "seconds",
    "seq",
    "unix_millis",
    "unix_seconds",
]


# Durations and moments. With ``least`` (an expiry of a command whose server
# refuses small ones: codegen/overlay.py EXPIRY_LEAST) a smaller number is
# refused here, naming ``command`` and the parameter ``name``.


def seconds(
    v: int | float | timedelta, least: int | None = None, command: str = "", name: str = ""
) -> int | float:
    s = int(v.total_seconds()) if isinstance(v, timedelta) else v
    if least is not None and isinstance(s, (int, float)) and s < least:
        raise _bad_expiry(v, s, least, command, name, "seconds")
    return s


def millis(
    v: int | float | timedelta, least: int | None = None, command: str = "", name: str = ""
) -> int | float:
    ms = int(v.total_seconds() * 1000) if isinstance(v, timedelta) else v
    if least is not None and isinstance(ms, (int, float)) and ms < least:
        raise _bad_expiry(v, ms, least, command, name, "milliseconds")
    return ms


def unix_seconds(
    v: int | datetime, least: int | None = None, command: str = "", name: str = ""
) -> int:
    s = int(v.timestamp()) if isinstance(v, datetime) else v
    if least is not None and isinstance(s, (int, float)) and s < least:
        raise _bad_expiry(v, s, least, command, name, "unix seconds")
    return s


def unix_millis(
    v: int | datetime, least: int | None = None, command: str = "", name: str = ""
) -> int:
    ms = int(v.timestamp() * 1000) if isinstance(v, datetime) else v
    if least is not None and isinstance(ms, (int, float)) and ms < least:
        raise _bad_expiry(v, ms, least, command, name, "unix milliseconds")
    return ms


def _bad_expiry(
    given: object, sent: float, least: int, command: str, name: str, unit: str
) -> DataError:
    bound = "positive" if least == 1 else f"at least {least}"
    what = f"{name}={given!r}"
    if not isinstance(given, (int, float)):
        what += f" ({sent} {unit})"
    message = f"{command}: {what} is not an expiry the server accepts: it must be {bound}"
    if unit == "seconds":
        exact = given.total_seconds() if isinstance(given, timedelta) else given
        if isinstance(exact, (int, float)) and 0 < exact < 1:
            message += "; for less than a second use milliseconds (px=)"
    return DataError(message)


def seq(v: Iterable[T], name: str) -> Sequence[T]:
    """A sequence argument; a bare str/bytes (a classic mistake) is refused."""
    if isinstance(v, (str, bytes, memoryview)):
        raise ArgumentTypeError(
            f"{name} must be a sequence of values, not a single {type(v).__name__}"
        )
    return v if isinstance(v, (list, tuple)) else list(v)


def pairs(v: Mapping[Any, Any], name: str) -> list[Any]:
    """A mapping flattened to k1, v1, k2, v2 ...; an empty one is refused."""
    if not isinstance(v, Mapping):
        raise ArgumentTypeError(f"{name} must be a mapping, not {type(v).__name__}")
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


# What a misused argument raises while a generated method builds or packs its
# command: a value of the wrong type (TypeError, and ArgumentTypeError from the
# packer), a non-mapping given as a mapping (AttributeError), a short tuple or
# a mapping indexed as a sequence (LookupError). Generated methods catch these
# and call misuse().
MISUSE = (TypeError, AttributeError, LookupError)


def misuse(command: str, method: str, values: dict[str, Any], exc: BaseException) -> None:
    """Raise an ``ArgumentTypeError`` naming the command, the parameter, the type given
    and what to pass instead; return (the caller re-raises ``exc``) when no parameter's
    value contradicts its annotation. Runs only on that failure path."""
    from ._misuse import explain  # imported on first misuse: it costs nothing until then

    try:
        explain(command, method, values, exc)
    except ArgumentTypeError:
        raise
    except Exception:  # a shape the explainer trips on: the original error stands
        return
