"""Types that appear in the public signatures of generated and hand-written methods."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import AnyStr, Generic, TypeAlias

from typing_extensions import NamedTuple

from .errors import ResponseError

__all__ = [
    "GeoMatch",
    "KeyT",
    "Millis",
    "PatternT",
    "RangeT",
    "RespValue",
    "Seconds",
    "StreamEntry",
    "StreamIdT",
    "UnixMillis",
    "UnixSeconds",
    "ValueT",
]

KeyT: TypeAlias = str | bytes | memoryview
"""A key: str is sent UTF-8 encoded."""
ValueT: TypeAlias = str | bytes | memoryview | int | float
"""A value argument: numbers are sent in their decimal form."""
PatternT: TypeAlias = str | bytes
StreamIdT: TypeAlias = str | bytes
RangeT: TypeAlias = str | bytes | int | float
"""A range bound: an index, a score (``"(1.5"``, ``"-inf"``) or a lex bound (``"[a"``)."""
Seconds: TypeAlias = int | timedelta
Millis: TypeAlias = int | timedelta
UnixSeconds: TypeAlias = int | datetime
UnixMillis: TypeAlias = int | datetime

RespKey: TypeAlias = str | bytes | int | float | bool | None
RespValue: TypeAlias = (
    bool | int | float | str | bytes
    | list["RespValue"] | dict[RespKey, "RespValue"] | set[RespKey] | ResponseError | None
)
"""Any RESP3 value, as the transport delivers it.

An error nested in an aggregate (a failed command in EXEC's array, an error
in a Lua table reply) is a value too: a :class:`~redspec.errors.ResponseError`
instance (or a subclass), not raised. A top-level error reply is raised.
"""


class StreamEntry(NamedTuple, Generic[AnyStr]):
    """One stream entry. ``fields`` is empty for an entry deleted while pending."""

    id: AnyStr
    fields: dict[AnyStr, AnyStr]


class GeoMatch(NamedTuple, Generic[AnyStr]):
    """One GEOSEARCH/GEORADIUS match; fields not asked for (WITHDIST...) are None."""

    member: AnyStr
    dist: float | None = None
    hash: int | None = None
    coord: tuple[float, float] | None = None
