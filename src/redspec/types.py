"""Types that appear in the public signatures of generated and hand-written methods."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import AnyStr, Generic, Union

from typing_extensions import NamedTuple, TypeAlias

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

KeyT: TypeAlias = Union[str, bytes, memoryview]
"""A key: str is sent UTF-8 encoded."""
ValueT: TypeAlias = Union[str, bytes, memoryview, int, float]
"""A value argument: numbers are sent in their decimal form."""
PatternT: TypeAlias = Union[str, bytes]
StreamIdT: TypeAlias = Union[str, bytes]
RangeT: TypeAlias = Union[str, bytes, int, float]
"""A range bound that may be an index, a score (``"(1.5"``, ``"-inf"``) or a lex bound (``"[a"``)."""
Seconds: TypeAlias = Union[int, timedelta]
Millis: TypeAlias = Union[int, timedelta]
UnixSeconds: TypeAlias = Union[int, datetime]
UnixMillis: TypeAlias = Union[int, datetime]

RespKey: TypeAlias = Union[str, bytes, int, float, bool, None]
RespValue: TypeAlias = Union[
    None, bool, int, float, str, bytes, list["RespValue"], dict[RespKey, "RespValue"], set[RespKey]
]
"""Any RESP3 value, as the transport delivers it."""


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
