"""redis-py's common call forms, accepted beside the spec's own (data only).

Most Python Redis code is written for redis-py. These entries let the generated
methods take its usual spellings too, typed and checked like the rest, never
through ``**kwargs``. ``generate`` merges them into the overlay
(codegen/overlay.py); docs/migrating-from-redis-py.md lists what is left.

Sections (per command, like the overlay's):

* ``RENAMES``/``TYPES``/``DEFAULTS``: as in the overlay (redis-py's parameter names,
  a wider type, a default redis-py has).
* ``POSITIONAL``: parameters with a default that stay positional, in this order,
  after the required ones (``xrange(name, min, max, count)``).
* ``OPTIONAL``: required spec parameters that a redis-py form may supply instead
  (``hset(name, key, value)`` supplies the mapping); they become ``None`` by default,
  and ``FOLD`` must set them.
* ``EXTRA``: extra keyword parameters, name -> (annotation, default, what it means);
  positional when ``POSITIONAL`` names them.
* ``FOLD``: statements run first in the method, turning the extra parameters into
  the spec's (helpers in ``redspec._compat``, imported as ``_c``).
* ``FORMS``: extra parameters that replace a required choice (GEOSEARCH's
  ``member=`` for ``frommember=``): they get overloads of their own, where the
  spec's alternatives are absent.
* ``LIST_OR_ARGS``: ``*args`` parameters that also take one list or tuple, besides
  the ``*keys`` of every command (derived from the spec, not listed).
* ``VARIANTS``: method name -> a second method for a command, with some optional
  parameters required and positional (redis-py's ``xpending_range``).
"""

from __future__ import annotations

from typing import Any

# ---- streams: redis-py's names for groups and consumers ---------------------

_GROUP = {"group": "groupname"}
_CONSUMER = {"group": "groupname", "consumer": "consumername"}
_ENTRIES = {"group": "groupname", "entriesread": "entries_read"}

RENAMES: dict[str, dict[str, str]] = {
    "XACK": _GROUP,
    "XACKDEL": _GROUP,
    "XAUTOCLAIM": _CONSUMER,
    "XCLAIM": _CONSUMER,
    "XGROUP CREATE": _ENTRIES,
    "XGROUP CREATECONSUMER": _CONSUMER,
    "XGROUP DELCONSUMER": _CONSUMER,
    "XGROUP DESTROY": _GROUP,
    "XGROUP SETID": _ENTRIES,
    "XINFO CONSUMERS": _GROUP,
    "XPENDING": _CONSUMER,
    "XREADGROUP": _CONSUMER,
    "GEOADD": {"data|longitude_latitude_member": "values"},
}

TYPES: dict[str, dict[str, str]] = {
    # redis-py's flat (longitude, latitude, member, ...) besides the triples
    "GEOADD": {"values": "Sequence[tuple[float, float, ValueT]] | Sequence[ValueT]"},
}

DEFAULTS: dict[str, dict[str, str]] = {
    "XRANGE": {"start": '"-"', "end": '"+"'},
    "XREVRANGE": {"end": '"+"', "start": '"-"'},
    "XGROUP CREATE": {"id": '"$"'},
    "XAUTOCLAIM": {"start": '"0-0"'},
    "SCAN": {"cursor": "0"},
    "HSCAN": {"cursor": "0"},
    "SSCAN": {"cursor": "0"},
    "ZSCAN": {"cursor": "0"},
    "KEYS": {"pattern": '"*"'},
    "LMOVE": {"wherefrom": '"LEFT"', "whereto": '"RIGHT"'},
}

POSITIONAL: dict[str, list[str]] = {
    "XRANGE": ["start", "end", "count"],
    "XREVRANGE": ["end", "start", "count"],
    "XADD": ["id"],
    "XGROUP CREATE": ["id"],
    "XAUTOCLAIM": ["start"],
    "XTRIM": ["strategy", "threshold"],
    "SCAN": ["cursor"],
    "HSCAN": ["cursor"],
    "SSCAN": ["cursor"],
    "ZSCAN": ["cursor"],
    "KEYS": ["pattern"],
    "LMOVE": ["wherefrom", "whereto"],
    "HSET": ["field", "value"],
    "CONFIG SET": ["name", "value"],
}

OPTIONAL: dict[str, list[str]] = {
    "HSET": ["mapping"],
    "CONFIG SET": ["mapping"],
    "XTRIM": ["strategy", "threshold"],
}

Extra = tuple[str, str, str]  # annotation, default, what it means

_EXPIRY_FLAGS: dict[str, Extra] = {
    "nx": ("bool", "False", 'condition="NX": only when the key has no expiry'),
    "xx": ("bool", "False", 'condition="XX": only when the key has an expiry'),
    "gt": ("bool", "False", 'condition="GT": only when the new expiry is later'),
    "lt": ("bool", "False", 'condition="LT": only when the new expiry is sooner'),
}
_EXPIRY_FOLD = ["condition = _c.flag_choice({cmd}, condition, NX=nx, XX=xx, GT=gt, LT=lt)"]

_TRIM: dict[str, Extra] = {
    "maxlen": ("int | None", "None", "trim to at most this many entries (MAXLEN)"),
    "minid": ("StreamIdT | None", "None", "trim entries with ids below this one (MINID)"),
    "approximate": ("bool", "True", "with maxlen/minid: trim approximately (~), faster"),
}

_GEOSEARCH: dict[str, Extra] = {
    "member": ("ValueT | None", "None", "frommember=: search around this member"),
    "longitude": ("float | None", "None", "with latitude, fromlonlat=: search around this point"),
    "latitude": ("float | None", "None", "with longitude, fromlonlat="),
    "radius": ("float | None", "None", "byradius=: search a circle of this radius (in unit)"),
    "width": ("float | None", "None", "with height, bybox=: search a box (in unit)"),
    "height": ("float | None", "None", "with width, bybox="),
    "unit": (
        'Literal["m", "km", "ft", "mi", "M", "KM", "FT", "MI"]',
        '"m"',
        "the unit of radius/width/height",
    ),
    "sort": ('Literal["ASC", "DESC"] | None', "None", "order=: nearest or farthest first"),
}
_GEOSEARCH_FOLD = [
    "frommember, fromlonlat, byradius, bybox, order = _c.geosearch_args("
    "{cmd}, frommember, fromlonlat, byradius, bybox, order, member, longitude, latitude, "
    "radius, width, height, unit, sort)"
]

EXTRA: dict[str, dict[str, Extra]] = {
    "EXPIRE": _EXPIRY_FLAGS,
    "PEXPIRE": _EXPIRY_FLAGS,
    "EXPIREAT": _EXPIRY_FLAGS,
    "PEXPIREAT": _EXPIRY_FLAGS,
    "HSET": {
        "field": ("ValueT | None", "None", "with value: set this one field"),
        "value": ("ValueT | None", "None", "the value of field"),
        "items": ("Sequence[ValueT] | None", "None", "fields and values, flat: [f1, v1, f2, v2]"),
    },
    "CONFIG SET": {
        "name": ("ValueT | None", "None", "with value: set this one parameter"),
        "value": ("ValueT | None", "None", "the value of name"),
    },
    "XADD": {**_TRIM, "limit": ("int | None", "None", "with approximate trimming: LIMIT")},
    "XTRIM": _TRIM,
    "ZADD": {
        "nx": ("bool", "False", 'condition="NX": only add new members'),
        "xx": ("bool", "False", 'condition="XX": only update existing members'),
        "gt": ("bool", "False", 'comparison="GT": only raise scores'),
        "lt": ("bool", "False", 'comparison="LT": only lower scores'),
    },
    "GEOADD": {
        "nx": ("bool", "False", 'condition="NX": only add new members'),
        "xx": ("bool", "False", 'condition="XX": only update existing members'),
    },
    "ZRANGE": {
        "desc": ("bool", "False", "rev=True"),
        "byscore": ("bool", "False", 'sortby="BYSCORE"'),
        "bylex": ("bool", "False", 'sortby="BYLEX"'),
        "offset": ("int | None", "None", "with num, limit=(offset, num)"),
        "num": ("int | None", "None", "with offset, limit=(offset, num)"),
    },
    "SCAN": {"_type": ("ValueT | None", "None", "type=")},
    "FLUSHALL": {"asynchronous": ("bool", "False", 'flush_type="ASYNC"')},
    "FLUSHDB": {"asynchronous": ("bool", "False", 'flush_type="ASYNC"')},
    "GEOSEARCH": _GEOSEARCH,
    "GEOSEARCHSTORE": _GEOSEARCH,
}

FOLD: dict[str, list[str]] = {
    "EXPIRE": _EXPIRY_FOLD,
    "PEXPIRE": _EXPIRY_FOLD,
    "EXPIREAT": _EXPIRY_FOLD,
    "PEXPIREAT": _EXPIRY_FOLD,
    "HSET": ["mapping = _c.field_values({cmd}, mapping, field, value, items)"],
    "CONFIG SET": ["mapping = _c.field_values({cmd}, mapping, name, value, None)"],
    "XADD": ["trim = _c.stream_trim({cmd}, trim, maxlen, minid, approximate, limit)"],
    "XTRIM": [
        "strategy, threshold, operator = _c.xtrim_args("
        "{cmd}, strategy, threshold, operator, maxlen, minid, approximate)"
    ],
    "ZADD": [
        "condition = _c.flag_choice({cmd}, condition, NX=nx, XX=xx)",
        "comparison = _c.flag_choice({cmd}, comparison, GT=gt, LT=lt)",
    ],
    "GEOADD": [
        "condition = _c.flag_choice({cmd}, condition, NX=nx, XX=xx)",
        "values = _c.geo_triples({cmd}, values)",
    ],
    "ZRANGE": [
        "sortby, rev, limit = _c.zrange_args({cmd}, sortby, rev, limit, desc, byscore, bylex, "
        "offset, num)"
    ],
    "SCAN": ["if _type is not None: type = _type"],
    "FLUSHALL": ["flush_type = _c.flag_choice({cmd}, flush_type, ASYNC=asynchronous)"],
    "FLUSHDB": ["flush_type = _c.flag_choice({cmd}, flush_type, ASYNC=asynchronous)"],
    "GEOSEARCH": _GEOSEARCH_FOLD,
    "GEOSEARCHSTORE": _GEOSEARCH_FOLD,
}

FORMS: dict[str, list[str]] = {
    "GEOSEARCH": list(_GEOSEARCH),
    "GEOSEARCHSTORE": list(_GEOSEARCH),
}

LIST_OR_ARGS: dict[str, list[str]] = {
    "XCLAIM": ["ids"],
    "HMGET": ["fields"],
    "ZMSCORE": ["members"],
    "SMISMEMBER": ["members"],
}

VARIANTS: dict[str, dict[str, Any]] = {
    # xpending(name, groupname) is the summary; this is the extended form
    "xpending_range": {"command": "XPENDING", "required": ["start", "end", "count"]},
}
