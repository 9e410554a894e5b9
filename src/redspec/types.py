"""Types that appear in the public signatures of generated and hand-written methods."""

from __future__ import annotations

import sys
from datetime import datetime, timedelta
from typing import AnyStr, Generic, TypeAlias

if sys.version_info >= (3, 11):
    from typing import NamedTuple
else:  # generic NamedTuples need 3.11
    from typing_extensions import NamedTuple

from .errors import ResponseError

__all__ = [
    "GeoMatch",
    "KeyT",
    "Millis",
    "PatternT",
    "PendingEntry",
    "PendingSummary",
    "RangeT",
    "RespValue",
    "Seconds",
    "StreamConsumerInfo",
    "StreamEntry",
    "StreamGroupInfo",
    "StreamIdT",
    "StreamInfo",
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


class StreamInfo(NamedTuple, Generic[AnyStr]):
    """XINFO STREAM (without FULL). ``first_entry``/``last_entry`` are None on an empty stream."""

    length: int
    radix_tree_keys: int
    radix_tree_nodes: int
    last_generated_id: AnyStr
    max_deleted_entry_id: AnyStr
    entries_added: int
    recorded_first_entry_id: AnyStr
    groups: int
    first_entry: StreamEntry[AnyStr] | None
    last_entry: StreamEntry[AnyStr] | None


class StreamGroupInfo(NamedTuple, Generic[AnyStr]):
    """One group of XINFO GROUPS. ``entries_read``/``lag`` are None when the server cannot tell."""

    name: AnyStr
    consumers: int
    pending: int
    last_delivered_id: AnyStr
    entries_read: int | None
    lag: int | None


class StreamConsumerInfo(NamedTuple, Generic[AnyStr]):
    """One consumer of XINFO CONSUMERS; times in ms. ``inactive`` is None before Redis 7.2."""

    name: AnyStr
    pending: int
    idle: int
    inactive: int | None


class PendingSummary(NamedTuple, Generic[AnyStr]):
    """XPENDING key group: how many entries are pending, their id range, and per consumer."""

    pending: int
    min_id: AnyStr | None
    max_id: AnyStr | None
    consumers: dict[AnyStr, int]


class PendingEntry(NamedTuple, Generic[AnyStr]):
    """One entry of XPENDING key group start end count: idle ms since its last delivery."""

    id: AnyStr
    consumer: AnyStr
    idle: int
    deliveries: int
