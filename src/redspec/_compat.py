"""redis-py's call forms turned into the spec's parameters (codegen/compat.py's FOLD).

Generated methods that accept a redis-py spelling (``expire(k, 10, nx=True)``,
``hset(h, "f", "v")``, ``xadd(s, f, maxlen=100)``) call these first; each returns
the spec-shaped value the rest of the method encodes, or raises ``DataError``
naming the command before anything is sent.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, Literal, TypeVar, cast

from ._generated.models import StreamTrim
from .errors import DataError
from .types import StreamIdT

__all__ = [
    "field_values",
    "flag_choice",
    "geo_triples",
    "geosearch_args",
    "key_list",
    "stream_trim",
    "xtrim_args",
    "zrange_args",
]

L = TypeVar("L", bound=str)
K = TypeVar("K")
V = TypeVar("V")
_Unit = Literal["M", "KM", "FT", "MI"]


def key_list(v: Any, name: str) -> Sequence[Any]:
    """Keys: a list or tuple of them, any other iterable, or one key alone. A number is
    refused: ``eval(script, 0)`` is redis-py's numkeys, not a key."""
    if isinstance(v, (list, tuple)):
        return v
    if isinstance(v, (str, bytes, memoryview)):
        return (v,)
    try:
        if isinstance(v, (int, float)):
            raise TypeError
        return list(v)
    except TypeError:
        kind = type(v).__name__
        raise DataError(f"{name} must be a key or a sequence of keys, not {kind}") from None


def flag_choice(command: str, current: L | None, **flags: bool) -> L | None:
    """redis-py's booleans (``nx=True``) as the spec's choice (``condition="NX"``)."""
    chosen = [token for token, on in flags.items() if on]
    if not chosen:
        return current
    if len(chosen) > 1 or current is not None:
        given = [f"{t.lower()}=True" for t in chosen]
        if current is not None:
            given.insert(0, repr(current))
        raise DataError(f"{command}: {' and '.join(given)} are mutually exclusive")
    return cast(L, chosen[0])


def field_values(
    command: str,
    mapping: Mapping[K, V] | None,
    field: K | None,
    value: V | None,
    items: Sequence[K | V] | None,
) -> Mapping[K, V]:
    """HSET/CONFIG SET: one field and value, a mapping, flat items, or any mix of them."""
    if field is None and items is None:
        if mapping is None:
            raise DataError(f"{command}: give a field and a value, mapping= or items=")
        return mapping
    merged: dict[Any, Any] = {}  # K and V: flat items do not say which is which
    if field is not None:
        if isinstance(field, Mapping):
            raise DataError(f"{command}: pass a mapping as mapping=, not in the field's place")
        if value is None:
            raise DataError(f"{command}: a field needs a value")
        merged[field] = value
    elif value is not None:
        raise DataError(f"{command}: a value needs a field")
    if mapping is not None:
        if not isinstance(mapping, Mapping):
            raise DataError(f"{command}: mapping must be a mapping, not {type(mapping).__name__}")
        merged.update(mapping)
    if items is not None:
        if isinstance(items, (str, bytes, memoryview)) or len(items) % 2:
            raise DataError(f"{command}: items must be a flat sequence of field, value pairs")
        it = iter(items)
        merged.update(zip(it, it))
    if not merged:
        raise DataError(f"{command}: nothing to set")
    return merged


def stream_trim(
    command: str,
    trim: StreamTrim | None,
    maxlen: int | None,
    minid: StreamIdT | None,
    approximate: bool,
    limit: int | None,
) -> StreamTrim | None:
    """XADD's maxlen=/minid=/approximate=/limit= as a StreamTrim."""
    if maxlen is None and minid is None:
        if limit is not None:
            raise DataError(f"{command}: limit needs maxlen or minid")
        return trim
    if trim is not None or (maxlen is not None and minid is not None):
        raise DataError(f"{command}: give one of maxlen, minid and trim")
    if limit is not None and not approximate:
        raise DataError(f"{command}: limit needs approximate trimming")
    op: Literal["~"] | None = "~" if approximate else None
    if maxlen is not None:
        return StreamTrim("MAXLEN", maxlen, op, limit)
    assert minid is not None
    return StreamTrim("MINID", minid, op, limit)


def xtrim_args(
    command: str,
    strategy: Literal["MAXLEN", "MINID"] | None,
    threshold: Any,
    operator: Literal["=", "~"] | None,
    maxlen: int | None,
    minid: Any,
    approximate: bool,
) -> tuple[Literal["MAXLEN", "MINID"], Any, Literal["=", "~"] | None]:
    """XTRIM's maxlen=/minid=/approximate= as strategy, threshold and operator."""
    if maxlen is None and minid is None:
        if strategy is None or threshold is None:
            raise DataError(f"{command}: give strategy and threshold, maxlen= or minid=")
        return strategy, threshold, operator
    if strategy is not None or threshold is not None or operator is not None:
        raise DataError(f"{command}: give either strategy and threshold or maxlen=/minid=")
    if maxlen is not None and minid is not None:
        raise DataError(f"{command}: maxlen and minid are mutually exclusive")
    op: Literal["=", "~"] | None = "~" if approximate else None
    if maxlen is not None:
        return "MAXLEN", maxlen, op
    return "MINID", minid, op


def geo_triples(command: str, values: Sequence[Any]) -> Sequence[tuple[float, float, Any]]:
    """GEOADD: (longitude, latitude, member) triples, or redis-py's flat sequence of them."""
    if isinstance(values, (str, bytes, memoryview)):
        kind = type(values).__name__
        raise DataError(f"{command}: values must be a sequence, not a single {kind}")
    if not values or isinstance(values[0], tuple):
        return values
    if len(values) % 3:
        raise DataError(
            f"{command}: values must be longitude, latitude, member, ... (got {len(values)} items)"
        )
    it = iter(values)
    return list(zip(it, it, it))


def zrange_args(
    command: str,
    sortby: Literal["BYSCORE", "BYLEX"] | None,
    rev: bool,
    limit: tuple[int, int] | None,
    desc: bool,
    byscore: bool,
    bylex: bool,
    offset: int | None,
    num: int | None,
) -> tuple[Literal["BYSCORE", "BYLEX"] | None, bool, tuple[int, int] | None]:
    """ZRANGE's desc=/byscore=/bylex=/offset=/num= as sortby, rev and limit."""
    if byscore or bylex:
        sortby = flag_choice(command, sortby, BYSCORE=byscore, BYLEX=bylex)
    if offset is not None or num is not None:
        if offset is None or num is None:
            raise DataError(f"{command}: offset and num go together")
        if limit is not None:
            raise DataError(f"{command}: give limit or offset and num, not both")
        limit = (offset, num)
    return sortby, rev or desc, limit


def geosearch_args(
    command: str,
    frommember: Any,
    fromlonlat: tuple[float, float] | None,
    byradius: tuple[float, _Unit] | None,
    bybox: tuple[float, float, _Unit] | None,
    order: Literal["ASC", "DESC"] | None,
    member: Any,
    longitude: float | None,
    latitude: float | None,
    radius: float | None,
    width: float | None,
    height: float | None,
    unit: str,
    sort: Literal["ASC", "DESC"] | None,
) -> tuple[
    Any,
    tuple[float, float] | None,
    tuple[float, _Unit] | None,
    tuple[float, float, _Unit] | None,
    Literal["ASC", "DESC"] | None,
]:
    """GEOSEARCH's member=/longitude=/latitude=/radius=/width=/height=/unit=/sort= as
    frommember, fromlonlat, byradius, bybox and order (the spec's checks follow)."""
    if member is not None:
        if frommember is not None:
            raise DataError(f"{command}: member and frommember are the same; give one")
        frommember = member
    if longitude is not None or latitude is not None:
        if longitude is None or latitude is None:
            raise DataError(f"{command}: longitude and latitude go together")
        if fromlonlat is not None:
            raise DataError(f"{command}: longitude/latitude and fromlonlat are the same; give one")
        fromlonlat = (longitude, latitude)
    u = cast(_Unit, unit.upper())
    if u not in ("M", "KM", "FT", "MI"):
        raise DataError(f"{command}: unit must be m, km, ft or mi, not {unit!r}")
    if radius is not None:
        if byradius is not None:
            raise DataError(f"{command}: radius and byradius are the same; give one")
        byradius = (radius, u)
    if width is not None or height is not None:
        if width is None or height is None:
            raise DataError(f"{command}: width and height go together")
        if bybox is not None:
            raise DataError(f"{command}: width/height and bybox are the same; give one")
        bybox = (width, height, u)
    if sort is not None:
        if order is not None:
            raise DataError(f"{command}: sort and order are the same; give one")
        order = sort
    return frommember, fromlonlat, byradius, bybox, order
