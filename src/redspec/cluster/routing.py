"""Cluster routing, pure: hash slots, key positions, request and response policies.

No I/O here. Everything about a command comes from ``redspec._generated.routing``, which
the generator compiles from the spec (key specs -> key-finding code, tips -> policies,
flags -> readonly/blocking); this module turns a call's argv into a slot, splits
``multi_shard`` commands per slot and merges or aggregates replies.

Policies (Redis "command tips"):

- ``KEYED``: no ``request_policy`` tip and the command has keys: all its keys must share one
  slot (else ``CrossSlotError`` before anything is sent); a call without keys (``EVAL`` with
  no keys) goes to any primary.
- ``KEYLESS``: no tip and no keys: any primary (or the node the user targets).
- ``ALL_NODES`` / ``ALL_SHARDS``: every node / every primary; replies go through
  :func:`aggregate`.
- ``MULTI_SHARD``: keys may span slots: :func:`split_by_slot`, then :func:`merge_parts`.
- ``SPECIAL`` (SCAN): the routing layer cannot route it; the cluster client does
  (``scan_iter`` walks every primary) or sends it to any primary.

Commands the spec does not know (module commands, a newer server's) get a default route:
keyless, neither readonly nor blocking, ``known=False``; the cluster client sends them to
any primary and a MOVED reply takes the call to the owner of its key (an unknown subcommand
of a known container takes the container's policies, also ``known=False``).
Regenerate from a dump of that server (``python -m codegen dump``) to route them directly.
``redspec._generated.routing.UNDERIVED`` lists the commands whose routing the spec does
not wholly define (also printed by ``python -m codegen generate``).

Error replies: callers pass the exception (a ``redspec`` error) in place of a failed reply;
what each policy does with them is documented on :func:`aggregate` and :func:`merge_parts`.
"""

from __future__ import annotations

import enum
from binascii import crc_hqx
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, NamedTuple

from redspec._generated.routing import CONTAINERS, ROUTES, KeyFinder
from redspec.errors import CrossSlotError, DataError

__all__ = [
    "SLOT_COUNT",
    "CommandRoute",
    "RequestPolicy",
    "ResponsePolicy",
    "SlotPart",
    "aggregate",
    "command_slot",
    "key_positions",
    "key_slot",
    "merge_parts",
    "route_for",
    "split_by_slot",
]

SLOT_COUNT = 16384


class RequestPolicy(enum.IntEnum):
    """Where a command goes (the ``request_policy`` tip, or the default for its keys)."""

    KEYED = 0
    KEYLESS = 1
    ALL_NODES = 2
    ALL_SHARDS = 3
    MULTI_SHARD = 4
    SPECIAL = 5


class ResponsePolicy(enum.IntEnum):
    """How the replies of several nodes become one (the ``response_policy`` tip)."""

    DEFAULT = 0
    ONE_SUCCEEDED = 1
    ALL_SUCCEEDED = 2
    AGG_LOGICAL_AND = 3
    AGG_LOGICAL_OR = 4
    AGG_MIN = 5
    AGG_MAX = 6
    AGG_SUM = 7
    SPECIAL = 8


@dataclass(frozen=True, slots=True)
class CommandRoute:
    """How to route one command. Built once per command name and cached.

    ``first_key`` > 0: the command's only key is ``argv[first_key]`` (GET, SET, HSET...).
    Otherwise ``finder`` (generated) returns the key positions, or is None for a keyless
    command. ``step``: argv words per key when a ``MULTI_SHARD`` command is split (MSET: 2).
    ``known``: False for a command the spec does not have (see the module docstring).
    """

    name: str
    request: RequestPolicy
    response: ResponsePolicy
    readonly: bool
    blocking: bool
    first_key: int = 0
    finder: KeyFinder | None = None
    step: int = 0
    known: bool = True


class SlotPart(NamedTuple):
    """One per-slot piece of a split ``MULTI_SHARD`` command.

    ``indices``: the positions, in the caller's key order (0 = the command's first key), of
    the keys this part carries, in the order it carries them. (A NamedTuple: an MGET of
    100 keys makes up to 100 of them, and a frozen dataclass costs 1 us each to build.)
    """

    slot: int | None  # None: a call without keys
    argv: tuple[Any, ...]
    indices: tuple[int, ...]


# ----------------------------------------------------------------------------- slots


def key_slot(key: str | bytes | memoryview | int | float, encoding: str = "utf-8") -> int:
    """The hash slot of ``key`` (CRC16-XMODEM mod 16384 of the key or its hash tag).

    The hash tag is the part between the first ``{`` and the first ``}`` after it, when not
    empty. ``str`` keys are hashed as they are sent (``encoding``); numbers as their decimal
    text, as the connection sends them.
    """
    if type(key) is str:
        try:
            k = key.encode(encoding)
        except UnicodeEncodeError:  # text read with surrogateescape, or not in the encoding
            k = _lenient_bytes(key, encoding)
    elif type(key) is bytes:
        k = key
    else:
        k = _key_bytes(key, encoding)
    # 123 is "{": an int needle is a plain memchr (20 ns); b"{" or k.find cost 70-140 ns
    if 123 in k:
        k = _hash_tag(k)
    return crc_hqx(k, 0) & 16383


def _hash_tag(k: bytes) -> bytes:
    """The part between the first { and the first } after it, or all of k if empty/open."""
    # partition is METH_O; find's optional start/end parsing makes it 40% slower here
    _, _, rest = k.partition(b"{")
    tag, closed, _ = rest.partition(b"}")
    return tag if tag and closed else k


def _lenient_bytes(key: str, encoding: str) -> bytes:
    """The bytes a str key most likely goes out as when the encoding cannot hold it:
    the original bytes of surrogate escapes; else a guess (the connection refuses
    such text, or writes it per encoding_errors, and MOVED corrects the slot)."""
    try:
        return key.encode(encoding, "surrogateescape")
    except UnicodeEncodeError:
        return key.encode(encoding, "replace")


def _key_bytes(key: object, encoding: str) -> bytes:
    if isinstance(key, str):
        try:
            return key.encode(encoding)
        except UnicodeEncodeError:
            return _lenient_bytes(key, encoding)
    if isinstance(key, (bytes, bytearray, memoryview)):
        return bytes(key)
    if isinstance(key, (int, float)) and not isinstance(key, bool):
        return repr(key).encode()
    raise DataError(f"a key must be str, bytes, memoryview, int or float, not {type(key).__name__}")


# ----------------------------------------------------------------------------- routes

_CACHE: dict[object, CommandRoute] = {}  # argv[0] as callers spell it -> route (not containers)
_SUB_CACHE: dict[tuple[object, object], CommandRoute] = {}  # (container, sub) as spelled
_BY_NAME: dict[str, CommandRoute] = {}  # canonical names -> routes built so far
_CACHE_LIMIT = 4096  # spellings remembered; beyond, routes are still found, just not cached


def _word(arg: object) -> str:
    if isinstance(arg, str):
        return arg.upper()
    if isinstance(arg, (bytes, bytearray, memoryview)):
        return bytes(arg).decode("latin-1").upper()
    return str(arg)


def _build(name: str) -> CommandRoute | None:
    route = _BY_NAME.get(name)
    if route is not None:
        return route
    row = ROUTES.get(name)
    if row is None:
        return None
    request, response, readonly, blocking, first_key, finder, step = row
    route = CommandRoute(
        name=name,
        request=RequestPolicy[request.upper()],
        response=ResponsePolicy[response.upper()],
        readonly=readonly,
        blocking=blocking,
        first_key=first_key,
        finder=finder,
        step=step,
    )
    _BY_NAME[name] = route
    return route


def _unknown(name: str) -> CommandRoute:
    return CommandRoute(
        name=name,
        request=RequestPolicy.KEYLESS,
        response=ResponsePolicy.DEFAULT,
        readonly=False,
        blocking=False,
        known=False,
    )


def route_for(argv: Sequence[Any]) -> CommandRoute:
    """The route of the command in ``argv`` (name as str or bytes, any case).

    A container's subcommand is read from ``argv[1]`` (``XINFO STREAM``); an unknown
    subcommand gets the container's route, marked ``known=False``; an unknown command a
    keyless route with ``known=False`` (see the module docstring).
    """
    try:
        return _CACHE[argv[0]]
    except (KeyError, TypeError):
        return _slow_route(argv)
    except IndexError:
        raise DataError("an empty command has no route") from None


def _slow_route(argv: Sequence[Any]) -> CommandRoute:
    head = argv[0]
    if len(argv) > 1 and type(head) in _SPELLINGS and type(argv[1]) in _SPELLINGS:
        route = _SUB_CACHE.get((head, argv[1]))  # subcommands end here once seen
        if route is not None:
            return route
    name = _word(head)
    if name in CONTAINERS and len(argv) > 1:
        sub = argv[1]
        full = f"{name} {_word(sub)}"
        route = _build(full)
        if route is None:
            container = _build(name)
            return _unknown(full) if container is None else _replace_known(container, full)
        if len(_SUB_CACHE) < _CACHE_LIMIT and _hashable(head) and _hashable(sub):
            _SUB_CACHE[(head, sub)] = route
        return route
    route = _build(name)
    if route is None:
        return _unknown(name)
    if name not in CONTAINERS and len(_CACHE) < _CACHE_LIMIT and _hashable(head):
        _CACHE[head] = route
    return route


_SPELLINGS = (str, bytes)  # the name types cached (hashable, and not mutable)


def _hashable(x: object) -> bool:
    return type(x) in _SPELLINGS


def _replace_known(route: CommandRoute, name: str) -> CommandRoute:
    return CommandRoute(
        name=name,
        request=route.request,
        response=route.response,
        readonly=route.readonly,
        blocking=route.blocking,
        known=False,
    )


def key_positions(route: CommandRoute, argv: Sequence[Any]) -> list[int]:
    """Indices into ``argv`` of the command's keys, in key-spec order."""
    pos = route.first_key
    if pos:
        return [pos] if pos < len(argv) else []
    finder = route.finder
    return [] if finder is None else finder(argv)


def command_slot(route: CommandRoute, argv: Sequence[Any], encoding: str = "utf-8") -> int | None:
    """The one slot of the command's keys; None when the call has no keys.

    Raises ``CrossSlotError`` (nothing has been sent) when the keys map to several slots.
    """
    pos = route.first_key
    if pos:
        if pos >= len(argv):
            return None
        # key_slot inlined: this line runs for nearly every cluster call
        key = argv[pos]
        if type(key) is str:
            k = key.encode(encoding)
        elif type(key) is bytes:
            k = key
        else:
            k = _key_bytes(key, encoding)
        if 123 in k:
            k = _hash_tag(k)
        return crc_hqx(k, 0) & 16383
    finder = route.finder
    if finder is None:
        return None
    positions = finder(argv)
    if not positions:
        return None
    slot = key_slot(argv[positions[0]], encoding)
    for p in positions[1:]:
        if key_slot(argv[p], encoding) != slot:
            raise _cross_slot(route, argv, positions, encoding)
    return slot


def _cross_slot(
    route: CommandRoute, argv: Sequence[Any], positions: list[int], encoding: str
) -> CrossSlotError:
    slots: list[int] = []
    for p in positions:
        s = key_slot(argv[p], encoding)
        if s not in slots:
            slots.append(s)
    shown = [str(s) for s in slots[:6]]
    more = len(slots) - len(shown)
    listed = ", ".join(shown[:-1]) + f" and {shown[-1]}" if not more else ", ".join(shown)
    if more:
        listed += f" and {more} more"
    return CrossSlotError(
        f"CROSSSLOT {route.name}: its {len(positions)} keys map to slots {listed}; the keys "
        "of one command must share a slot: give them a common hash tag "
        "(e.g. '{user1}:a' and '{user1}:b'), or send one command per slot"
    )


# ----------------------------------------------------------------------------- multi_shard


def split_by_slot(
    route: CommandRoute, argv: Sequence[Any], encoding: str = "utf-8"
) -> list[SlotPart]:
    """One sub-command per slot for a ``MULTI_SHARD`` command (MGET, DEL, MSET...).

    Each part is ``argv``'s words before the first key, the key groups (a key and the
    ``step - 1`` words after it: MSET's value) of one slot in the caller's order, and the
    words after the last group. Parts come in order of each slot's first key. A call whose
    keys share one slot gives one part carrying ``argv`` itself (as a tuple). A route that
    cannot be split (not ``MULTI_SHARD``) gives one part, or raises ``CrossSlotError``.
    """
    positions = key_positions(route, argv)
    step = route.step
    if not positions:
        return [SlotPart(None, tuple(argv), ())]
    if not step:
        slot = command_slot(route, argv, encoding)
        return [SlotPart(slot, tuple(argv), tuple(range(len(positions))))]
    groups: dict[int, list[int]] = {}
    for i, p in enumerate(positions):
        key = argv[p]  # key_slot inlined, as in command_slot (MGET of 100 keys: -20%)
        if type(key) is str:
            k = key.encode(encoding)
        elif type(key) is bytes:
            k = key
        else:
            k = _key_bytes(key, encoding)
        if 123 in k:
            k = _hash_tag(k)
        slot = crc_hqx(k, 0) & 16383
        group = groups.get(slot)
        if group is None:
            groups[slot] = [i]
        else:
            group.append(i)
    if len(groups) == 1:
        ((slot, indices),) = groups.items()
        return [SlotPart(slot, tuple(argv), tuple(indices))]
    first, last = positions[0], positions[-1]
    prefix = tuple(argv[:first])
    suffix = tuple(argv[last + step :])
    parts = []
    for slot, indices in groups.items():
        if step == 1:
            words = (*prefix, *[argv[positions[i]] for i in indices], *suffix)
        else:
            flat: list[Any] = []
            for i in indices:
                p = positions[i]
                flat += argv[p : p + step]
            words = (*prefix, *flat, *suffix)
        parts.append(SlotPart(slot, words, tuple(indices)))
    return parts


def merge_parts(route: CommandRoute, parts: Sequence[SlotPart], replies: Sequence[Any]) -> Any:
    """The reply one server would have given to the whole command, from the parts' replies.

    ``replies[i]`` answers ``parts[i]`` (an exception in place of an error reply).
    ``DEFAULT`` (MGET): each part's list put back in the caller's key order. ``AGG_SUM``
    (DEL, EXISTS, TOUCH, UNLINK): the sum. ``ALL_SUCCEEDED`` (MSET): the first reply.
    Others as in :func:`aggregate`. Any error reply raises the first one (in part order),
    except under ``ONE_SUCCEEDED``; parts that succeeded stay applied (a cluster cannot
    make them atomic).
    """
    if len(parts) != len(replies):
        raise DataError(f"{route.name}: {len(parts)} parts but {len(replies)} replies")
    if route.response is ResponsePolicy.DEFAULT:
        _raise_first(replies)
        total = sum(len(p.indices) for p in parts)
        if all(
            isinstance(r, list) and len(r) == len(p.indices)
            for p, r in zip(parts, replies, strict=True)
        ):
            merged: list[Any] = [None] * total
            for part, reply in zip(parts, replies, strict=True):
                for i, value in zip(part.indices, reply, strict=True):
                    merged[i] = value
            return merged
    return aggregate(route, list(replies))


# ----------------------------------------------------------------------------- fan-out


def aggregate(route: CommandRoute, replies: list[Any]) -> Any:
    """One reply from the replies of several nodes (``ALL_NODES`` / ``ALL_SHARDS``).

    Per response policy (an exception in ``replies`` stands for that node's error):

    - ``ONE_SUCCEEDED``: the first non-error reply; all failed: raise the first error.
    - ``ALL_SUCCEEDED``: any error: raise the first; else the first reply.
    - ``AGG_LOGICAL_AND`` / ``AGG_LOGICAL_OR``: AND / OR of integer (0/1) or boolean
      replies, element-wise for arrays (SCRIPT EXISTS); ``AGG_MIN`` / ``AGG_MAX`` /
      ``AGG_SUM``: min / max / sum (WAIT, DBSIZE), element-wise for arrays. Any error: raise
      the first (a partial aggregate would be a wrong number).
    - ``DEFAULT`` (no tip; KEYS, SLOWLOG GET): arrays concatenated in node order, maps
      merged, sets united; other replies: the first. Any error: raise the first.
    - ``SPECIAL`` (RANDOMKEY, INFO, MEMORY STATS...; the tips define no merge): the first
      successful reply that is not None (a key, if any node has one), else None; all failed:
      raise the first error. Use ``rc.node(...)`` for one node's own reply.

    No replies: ``[]`` under ``DEFAULT``, 0 under ``AGG_SUM``, else None.
    """
    policy = route.response
    if not replies:
        return [] if policy is ResponsePolicy.DEFAULT else 0 if policy is _SUM else None
    if policy is ResponsePolicy.ONE_SUCCEEDED or policy is ResponsePolicy.SPECIAL:
        ok = [r for r in replies if not isinstance(r, BaseException)]
        if not ok:
            raise replies[0]
        if policy is ResponsePolicy.SPECIAL:
            return next((r for r in ok if r is not None), None)
        return ok[0]
    _raise_first(replies)
    if policy is ResponsePolicy.ALL_SUCCEEDED:
        return replies[0]
    if policy is ResponsePolicy.DEFAULT:
        return _combine(replies)
    return _fold(_FOLDS[policy], replies)


_SUM = ResponsePolicy.AGG_SUM


def _logical_and(values: list[Any]) -> Any:
    result = all(values)
    return result if all(isinstance(v, bool) for v in values) else int(result)


def _logical_or(values: list[Any]) -> Any:
    result = any(values)
    return result if all(isinstance(v, bool) for v in values) else int(result)


_FOLDS: dict[ResponsePolicy, Any] = {
    ResponsePolicy.AGG_LOGICAL_AND: _logical_and,
    ResponsePolicy.AGG_LOGICAL_OR: _logical_or,
    ResponsePolicy.AGG_MIN: min,
    ResponsePolicy.AGG_MAX: max,
    ResponsePolicy.AGG_SUM: sum,
}


def _fold(fn: Any, replies: list[Any]) -> Any:
    if all(isinstance(r, list) for r in replies):
        width = len(replies[0])
        if any(len(r) != width for r in replies):
            raise DataError(f"cannot aggregate arrays of different lengths {len(replies)}")
        return [fn([r[i] for r in replies]) for i in range(width)]
    return fn(replies)


def _combine(replies: list[Any]) -> Any:
    first = replies[0]
    if all(isinstance(r, list) for r in replies):
        return [x for r in replies for x in r]
    if all(isinstance(r, dict) for r in replies):
        merged: dict[Any, Any] = {}
        for r in replies:
            merged.update(r)
        return merged
    if all(isinstance(r, (set, frozenset)) for r in replies):
        return set().union(*replies)
    return first


def _raise_first(replies: Sequence[Any]) -> None:
    for r in replies:
        if isinstance(r, BaseException):
            raise r
