"""Reply converters: raw transport values -> the Python values the reply table declares.

RESP3 shapes are the model. Every converter also accepts the RESP2 shape of
the same reply (a flat list for a map, a bulk string for a double), so one
converter serves both protocols. Every converter passes ``None`` through:
nullability is the reply table's business, not the converter's.

Generated modules build composite converters once, at import time
(``_C3 = dict_of(None, to_float)``); nothing here runs a registry lookup per
call. ``None`` in place of a converter means "unchanged".
"""

from __future__ import annotations

import fnmatch
import re
from collections.abc import Callable
from typing import Any

from .types import GeoMatch, StreamEntry

Conv = Callable[[Any], Any]

__all__ = [
    "Conv",
    "dict_of",
    "entries",
    "geo_matches",
    "keep_bytes",
    "list_of",
    "pairs_of",
    "record_of",
    "recursive",
    "rows_of",
    "set_of",
    "stream_map",
    "to_binary",
    "to_bool",
    "to_consumer_info",
    "to_entry",
    "to_float",
    "to_geo_match",
    "to_group_info",
    "to_int",
    "to_ok",
    "to_pending_entry",
    "to_pending_summary",
    "to_set",
    "to_stream_info",
    "to_tuple",
    "tuple_of",
    "tuple_rest",
]


def to_ok(x: Any) -> Any:
    """Status ``OK`` -> True; anything else unchanged (None stays None)."""
    if x == b"OK" or x == "OK":
        return True
    return x


def to_bool(x: Any) -> Any:
    """Integer 0/1 (or a RESP3 boolean, or OK) -> bool."""
    if x is None:
        return None
    if x == b"OK" or x == "OK":
        return True
    return bool(x)


def to_float(x: Any) -> Any:
    """Double (RESP3) or its decimal string (RESP2) -> float."""
    if x is None or x.__class__ is float:
        return x
    return float(x)


def to_int(x: Any) -> Any:
    """Integer, or an integer sent as a string -> int."""
    if x is None or x.__class__ is int:
        return x
    return int(x)


def to_binary(x: Any) -> Any:
    """A binary payload (DUMP, FUNCTION DUMP, a raw vector) -> bytes, whatever the client decodes.

    A decoding client turns every bulk string into str with the
    ``surrogateescape`` error handler, so re-encoding gives the server's bytes
    back exactly (for the default UTF-8 encoding).
    """
    if x is None or x.__class__ is bytes:
        return x
    if isinstance(x, str):
        return x.encode("utf-8", "surrogateescape")
    return bytes(x)


class KeepBytes:
    """A converter of a binary reply (``keep_bytes(to_binary)``).

    Under ``encoding_errors="strict"`` a decoding client fails a reply that is
    not text with ``DecodeError``; a binary payload is never text, so the
    generated method (or the pipeline) converts ``DecodeError.reply`` (decoded
    with escapes, lossless) with this converter instead of failing.
    """

    __slots__ = ("conv",)

    def __init__(self, conv: Conv) -> None:
        self.conv = conv

    def __call__(self, x: Any) -> Any:
        return self.conv(x)


def keep_bytes(conv: Conv) -> KeepBytes:
    return KeepBytes(conv)


def to_set(x: Any) -> Any:
    """RESP3 set (hiredis gives a list) or RESP2 array -> set."""
    if x is None:
        return None
    return set(x)


def to_tuple(x: Any) -> Any:
    if x is None:
        return None
    return tuple(x)


def list_of(item: Conv | None) -> Conv:
    if item is None:
        return _identity
    each: Conv = item

    def conv(x: Any) -> Any:
        if x is None:
            return None
        return [each(v) for v in x]

    return conv


def set_of(item: Conv | None) -> Conv:
    if item is None:
        return to_set
    each: Conv = item

    def conv(x: Any) -> Any:
        if x is None:
            return None
        return {each(v) for v in x}

    return conv


def tuple_of(*items: Conv | None) -> Conv:
    """A fixed-shape array -> tuple, converting each position.

    A reply shorter than the declared shape is padded with None: trailing
    optional elements (VEMB RAW's quantization range) may be left out.
    """
    width = len(items)

    def conv(x: Any) -> Any:
        if x is None:
            return None
        values = [v if f is None else f(v) for f, v in zip(items, x)]
        if len(values) < width:
            values += [None] * (width - len(values))
        return tuple(values)

    return conv


def tuple_rest(*items: Conv | None) -> Conv:
    """An array of fixed leading elements then any number of one kind -> tuple.

    The last converter applies to every element from its position on
    (CLUSTER SLOTS: start, end, then one array per node).
    """
    head = items[:-1]
    width = len(head)
    tail = items[-1]

    def conv(x: Any) -> Any:
        if x is None:
            return None
        values = [v if f is None else f(v) for f, v in zip(head, x)]
        rest = x[width:]
        values += rest if tail is None else [tail(v) for v in rest]
        return tuple(values)

    return conv


def _pairs(x: Any) -> Any:
    """[[k, v], ...] (RESP3) or [k, v, k, v] (RESP2) or {k: v} -> iterator of (k, v)."""
    if isinstance(x, dict):
        return x.items()
    if x and isinstance(x[0], list):
        return x
    it = iter(x)
    return zip(it, it)


def dict_of(key: Conv | None, value: Conv | None) -> Conv:
    """Map (RESP3) or flat key/value array (RESP2) -> dict."""

    def conv(x: Any) -> Any:
        if x is None:
            return None
        if key is None and value is None:
            return x if isinstance(x, dict) else dict(_pairs(x))
        kf = key or _identity
        vf = value or _identity
        return {kf(k): vf(v) for k, v in _pairs(x)}

    return conv


def rows_of(key: Conv | None, *columns: Conv | None) -> Conv:
    """{k: [a, b, ...]} (RESP3) or the flat k a b ... k a b ... array (RESP2) -> {k: (a, b, ...)}.

    VSIM WITHSCORES WITHATTRIBS: {member: (score, attributes)}.
    """
    kf = key or _identity
    width = len(columns)
    row = tuple_of(*columns)

    def conv(x: Any) -> Any:
        if x is None:
            return None
        if isinstance(x, dict):
            return {kf(k): row(v) for k, v in x.items()}
        step = width + 1
        return {kf(x[i]): row(x[i + 1 : i + step]) for i in range(0, len(x), step)}

    return conv


def record_of(fields: dict[str, Conv]) -> Conv:
    """A map with known fields (RESP3 map, or RESP2 flat array) -> dict, each named field
    through its converter; other fields unchanged (a newer server may add some).

    ``fields`` is keyed by the field name as str; the reply's keys stay as the
    transport gives them (bytes, or str when the client decodes). A name with
    ``*`` is a glob pattern (``db.[0-9]*``: MEMORY STATS has one map per database),
    tried in order when no name matches exactly.
    """
    exact = {k: f for k, f in fields.items() if "*" not in k}
    by_bytes = {k.encode(): f for k, f in exact.items()}
    globs = [
        (re.compile(fnmatch.translate(k)), re.compile(fnmatch.translate(k).encode()), f)
        for k, f in fields.items()
        if "*" in k
    ]

    def find(k: Any) -> Conv | None:
        for p_str, p_bytes, f in globs:
            if (p_bytes if k.__class__ is bytes else p_str).match(k):
                return f
        return None

    def conv(x: Any) -> Any:
        if x is None:
            return None
        out = {}
        for k, v in _pairs(x):
            f = (by_bytes if k.__class__ is bytes else exact).get(k)
            if f is None and globs:
                f = find(k)
            out[k] = v if f is None else f(v)
        return out

    return conv


def recursive(build: Callable[[Conv], Conv]) -> Conv:
    """A converter that refers to itself (COMMAND DOCS arguments nest arguments):
    ``build`` gets a stand-in for the converter it returns."""
    made: list[Conv] = []

    def ref(x: Any) -> Any:
        return made[0](x)

    made.append(build(ref))
    return made[0]


def pairs_of(first: Conv | None, second: Conv | None) -> Conv:
    """Nested pairs (RESP3) or a flat array (RESP2) -> list of 2-tuples."""
    ff = first or _identity
    sf = second or _identity

    def conv(x: Any) -> Any:
        if x is None:
            return None
        return [(ff(a), sf(b)) for a, b in _pairs(x)]

    return conv


# tuple.__new__ builds the NamedTuple without its Python-level __new__: stream
# replies carry hundreds of entries, and this is most of their conversion cost.
_new_tuple: Callable[..., Any] = tuple.__new__


def to_entry(x: Any) -> Any:
    """[id, [f, v, ...]] -> StreamEntry; a deleted entry's nil fields -> {}."""
    if x is None:
        return None
    entry_id, flat = x
    if flat is None:
        return _new_tuple(StreamEntry, (entry_id, {}))
    it = iter(flat)
    return _new_tuple(StreamEntry, (entry_id, dict(zip(it, it))))


def entries(x: Any) -> Any:
    if x is None:
        return None
    out: list[Any] = []
    append = out.append
    for entry_id, flat in x:
        if flat is None:
            append(_new_tuple(StreamEntry, (entry_id, {})))
        else:
            it = iter(flat)
            append(_new_tuple(StreamEntry, (entry_id, dict(zip(it, it)))))
    return out


def stream_map(x: Any) -> Any:
    """XREAD/XREADGROUP: map (RESP3) or [[key, entries], ...] (RESP2); nil -> {}."""
    if x is None:
        return {}
    items = x.items() if isinstance(x, dict) else x
    return {k: entries(v) for k, v in items}


def to_geo_match(x: Any) -> Any:
    """A GEO* match. A bare member (no WITH* flag) stays as it is.

    With flags the server sends [member, dist?, hash?, [lon, lat]?] in that
    order; the kinds tell the fields apart without knowing the flags: the
    coordinates are an array, the hash an integer, the distance a double
    (RESP3) or string (RESP2).
    """
    if not isinstance(x, list):
        return x
    dist = geohash = coord = None
    for v in x[1:]:
        if isinstance(v, list):
            coord = (float(v[0]), float(v[1]))
        elif isinstance(v, int):
            geohash = v
        else:
            dist = float(v)
    return GeoMatch(x[0], dist, geohash, coord)


def geo_matches(x: Any) -> Any:
    if x is None:
        return None
    return [to_geo_match(v) for v in x]


def _identity(x: Any) -> Any:
    return x


# ---- stream records (XINFO STREAM/GROUPS/CONSUMERS, XPENDING) ------------------
# Each takes the RESP3 map or the RESP2 flat array, with bytes or decoded keys;
# fields the record does not name (a newer server's) are dropped.

from .types import (  # noqa: E402  (kept with the converters that use them)
    PendingEntry,
    PendingSummary,
    StreamConsumerInfo,
    StreamGroupInfo,
    StreamInfo,
)


def _fields(x: Any) -> dict[str, Any]:
    return {(k.decode() if k.__class__ is bytes else k): v for k, v in _pairs(x)}


def _field(f: dict[str, Any], name: str) -> Any:
    # Any, not Any | None: the record declares what the supported servers send; a
    # field an older server lacks comes back None rather than failing the reply.
    return f.get(name)


def to_stream_info(x: Any) -> Any:
    """XINFO STREAM -> StreamInfo."""
    if x is None:
        return None
    f = _fields(x)
    return StreamInfo(
        to_int(f.get("length")),
        to_int(f.get("radix-tree-keys")),
        to_int(f.get("radix-tree-nodes")),
        _field(f, "last-generated-id"),
        _field(f, "max-deleted-entry-id"),
        to_int(f.get("entries-added")),
        _field(f, "recorded-first-entry-id"),
        to_int(f.get("groups")),
        to_entry(f.get("first-entry")),
        to_entry(f.get("last-entry")),
    )


def to_group_info(x: Any) -> Any:
    """One XINFO GROUPS element -> StreamGroupInfo."""
    if x is None:
        return None
    f = _fields(x)
    return StreamGroupInfo(
        _field(f, "name"),
        to_int(f.get("consumers")),
        to_int(f.get("pending")),
        _field(f, "last-delivered-id"),
        to_int(f.get("entries-read")),
        to_int(f.get("lag")),
    )


def to_consumer_info(x: Any) -> Any:
    """One XINFO CONSUMERS element -> StreamConsumerInfo."""
    if x is None:
        return None
    f = _fields(x)
    return StreamConsumerInfo(
        _field(f, "name"),
        to_int(f.get("pending")),
        to_int(f.get("idle")),
        to_int(f.get("inactive")),
    )


def to_pending_summary(x: Any) -> Any:
    """XPENDING key group -> PendingSummary; per-consumer counts (strings) -> int."""
    if x is None:
        return None
    count, lo, hi, per_consumer = x
    consumers = {} if per_consumer is None else {c: int(n) for c, n in _pairs(per_consumer)}
    return PendingSummary(int(count), lo, hi, consumers)


def to_pending_entry(x: Any) -> Any:
    """One XPENDING ... start end count element -> PendingEntry."""
    if x is None:
        return None
    entry_id, consumer, idle, deliveries = x
    return PendingEntry(entry_id, consumer, int(idle), int(deliveries))
