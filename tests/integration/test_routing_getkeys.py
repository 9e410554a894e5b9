"""Cluster routing against a live Redis 8.2.3: key positions vs COMMAND GETKEYS, slots vs
CLUSTER KEYSLOT.

The argvs are what the generated methods build: every method of the generated client is
called on a recording stand-in, with values made from its type hints (only the required
parameters, then random choices of the optional ones), and the argv it would send is asked
of the server with COMMAND GETKEYS. The keys the routing layer finds must be exactly the
server's. One server, cluster-enabled (CLUSTER KEYSLOT needs it; it owns no slots, which
neither command minds).
"""

from __future__ import annotations

import asyncio
import inspect
import random
import types
import typing
from collections.abc import AsyncIterator, Iterator, Mapping, Sequence
from datetime import datetime, timedelta
from typing import Any

import pytest
from typing_extensions import Unpack

import redspec
from redspec._base import ClientBase
from redspec._generated import meta
from redspec._generated.client import Commands
from redspec.cluster.routing import key_positions, key_slot, route_for
from redspec.errors import DataError, ResponseError
from tests.servers import RedisServer, free_port, start_server

pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning")

SERVERS = {"redis8": "redis-8.2.3", "valkey8": "valkey-8.1.8"}
MOVABLE = {n for n, m in meta.COMMANDS.items() if "movablekeys" in m["flags"]}

# argvs a method cannot produce from its type hints alone (or not often enough): the
# movable-keys forms, each checked by the server as well.
EXPLICIT: list[tuple[Any, ...]] = [
    ("XREAD", "COUNT", 2, "BLOCK", 0, "STREAMS", "key:a", "key:b", "0", "$"),
    ("XREAD", "STREAMS", "STREAMS", "0"),
    ("XREADGROUP", "GROUP", "g", "c", "STREAMS", "STREAMS", "key:a", ">", ">"),
    ("EVAL", "return 1", 2, "key:a", "key:b", "arg"),
    ("EVALSHA", "a" * 40, 1, "key:a", "arg"),
    ("EVAL_RO", "return 1", 1, "key:a"),
    ("EVALSHA_RO", "a" * 40, 2, "key:a", "key:b"),
    ("FCALL", "f", 2, "key:a", "key:b", "x"),
    ("FCALL_RO", "f", 1, "key:a"),
    ("ZUNION", 2, "key:a", "key:b", "WEIGHTS", 1, 2),
    ("ZINTER", 1, "key:a", "WITHSCORES"),
    ("ZDIFF", 2, "key:a", "key:b"),
    ("ZUNIONSTORE", "key:d", 2, "key:a", "key:b", "AGGREGATE", "MAX"),
    ("ZINTERSTORE", "key:d", 1, "key:a"),
    ("ZDIFFSTORE", "key:d", 2, "key:a", "key:b"),
    ("ZINTERCARD", 2, "key:a", "key:b", "LIMIT", 3),
    ("SINTERCARD", 2, "key:a", "key:b", "LIMIT", 3),
    ("LMPOP", 2, "key:a", "key:b", "LEFT", "COUNT", 2),
    ("ZMPOP", 1, "key:a", "MIN"),
    ("BLMPOP", 0, 2, "key:a", "key:b", "RIGHT"),
    ("BZMPOP", 1.5, 1, "key:a", "MAX", "COUNT", 3),
    ("SORT", "key:a"),
    ("SORT", "key:a", "BY", "w_*", "LIMIT", 0, 10, "GET", "#", "GET", "STORE", "ALPHA"),
    ("SORT", "key:a", "DESC", "STORE", "key:d"),
    ("SORT", "key:a", "GET", "STORE", "STORE", "key:d"),
    ("SORT_RO", "key:a", "BY", "nosort", "GET", "x_*"),
    ("MIGRATE", "127.0.0.1", 1, "key:a", 0, 100),
    ("MIGRATE", "127.0.0.1", 1, "", 0, 100, "COPY", "REPLACE", "KEYS", "key:a", "key:b"),
    ("MIGRATE", "127.0.0.1", 1, "", 0, 100, "AUTH", "KEYS", "KEYS", "key:a"),
    ("MIGRATE", "127.0.0.1", 1, "", 0, 100, "AUTH2", "u", "p", "KEYS", "key:a"),
    ("GEORADIUS", "key:g", 0, 0, 1, "km", "STORE", "key:d"),
    ("GEORADIUS", "key:g", 0, 0, 1, "km", "COUNT", 2, "ASC", "STOREDIST", "key:d"),
    ("GEORADIUSBYMEMBER", "key:g", "m", 1, "km", "STORE", "key:d"),
    ("GEORADIUSBYMEMBER", "key:g", "m", 1, "km", "WITHDIST", "STOREDIST", "key:d"),
    ("GEORADIUS_RO", "key:g", 0, 0, 1, "km"),
    ("MSET", "key:a", 1, "key:b", 2),
    ("BITOP", "AND", "key:d", "key:a", "key:b"),
    ("XINFO", "STREAM", "key:s", "FULL"),
    ("OBJECT", "ENCODING", "key:a"),
    ("MEMORY", "USAGE", "key:a", "SAMPLES", 5),
]


class _Sent(Exception):
    def __init__(self, argv: Sequence[Any]) -> None:
        self.argv = tuple(argv)


class _Recorder(Commands[bytes], ClientBase[bytes]):
    """Generated methods with a `_call` that records the argv instead of sending it."""

    def _call(self, args: Sequence[Any], mode: int) -> Any:
        raise _Sent(args)

    def _call_blocking(self, args: Sequence[Any], block: float | None) -> Any:
        raise _Sent(args)


class _Values:
    """Argument values from type hints: keys 'key:N', other strings 'val:N'."""

    def __init__(self, rng: random.Random) -> None:
        self.rng = rng
        self.n = 0

    def key(self) -> str:
        self.n += 1
        return f"key:{self.n}"

    def make(self, tp: Any, name: str) -> Any:
        from redspec import types as rt

        origin = typing.get_origin(tp)
        args = typing.get_args(tp)
        if tp in (rt.KeyT,):
            return self.key()
        if origin in (typing.Union, types.UnionType):
            opts = [a for a in args if a is not type(None)]
            if typing.get_origin(opts[0]) is typing.Literal:
                return typing.get_args(opts[0])[0]
            if set(opts) == set(typing.get_args(rt.KeyT)):
                return self.key()
            return self.make(opts[0], name)
        if origin is typing.Literal:
            return args[0]
        if origin in (Sequence, list, typing.Sequence) or (
            inspect.isclass(origin) and issubclass(origin, Sequence) and origin is not tuple
        ):
            return [self.make(args[0], name) for _ in range(self.rng.randint(1, 3))]
        if origin is tuple:
            return tuple(self.make(a, name) for a in args)
        if origin is not None and inspect.isclass(origin) and issubclass(origin, Mapping):
            return {self.make(args[0], name): self.make(args[1], name) for _ in range(2)}
        if tp is bool:
            return True
        if tp is int:
            return self.rng.randint(1, 3)
        if tp is float:
            return 1.5
        if tp in (str, bytes, memoryview):
            self.n += 1
            return f"val:{self.n}"
        if tp in (datetime, timedelta):
            return 1
        if inspect.isclass(tp) and hasattr(tp, "__dataclass_fields__"):
            hints = typing.get_type_hints(tp)
            return tp(**{f: self.make(hints[f], f) for f in tp.__dataclass_fields__})
        raise TypeError(f"no value for {tp!r} ({name})")


def _argv_of(
    method: Any,
    hints: dict[str, Any],
    params: list[inspect.Parameter],
    values: _Values,
    optional: set[str],
) -> tuple[Any, ...] | None:
    posargs: list[Any] = []
    kwargs: dict[str, Any] = {}
    for p in params:
        if p.kind is p.VAR_KEYWORD:
            continue  # **options (Unpack[TypedDict]): the named options are enough
        tp = hints[p.name]
        if p.kind is p.VAR_POSITIONAL:
            posargs += [values.make(tp, p.name) for _ in range(values.rng.randint(1, 3))]
        elif p.default is p.empty:
            v = values.make(tp, p.name)
            if p.kind is p.KEYWORD_ONLY:
                kwargs[p.name] = v
            else:
                posargs.append(v)
        elif p.name in optional:
            kwargs[p.name] = values.make(tp, p.name)
    coro = method(*posargs, **kwargs)
    try:
        coro.send(None)
    except _Sent as sent:
        return sent.argv
    except (DataError, TypeError, ValueError):
        return None
    finally:
        coro.close()
    return None


def generated_argvs(seed: int = 7, variants: int = 10) -> Iterator[tuple[Any, ...]]:
    """Argvs of every generated method: required parameters only, then random options."""
    rng = random.Random(seed)
    rec = _Recorder()
    methods = sorted({m["method"] for m in meta.COMMANDS.values() if m["method"]})
    for name in methods:
        fn = getattr(Commands, name)
        # the names generated modules import for the type checker only
        hints = typing.get_type_hints(inspect.unwrap(fn), localns={"Unpack": Unpack})
        params = list(inspect.signature(fn).parameters.values())[1:]
        opts = [p.name for p in params if p.default is not p.empty]
        method = getattr(rec, name)
        seen: set[tuple[Any, ...]] = set()
        for i in range(variants):
            chosen = set() if i == 0 else {o for o in opts if rng.random() < 0.4}
            argv = _argv_of(method, hints, params, _Values(rng), chosen)
            if argv is not None and repr(argv) not in {repr(s) for s in seen}:
                seen.add(argv)
                yield argv


def _wire(x: Any) -> bytes:
    if isinstance(x, bytes):
        return x
    if isinstance(x, memoryview):
        return bytes(x)
    if isinstance(x, float):
        return repr(x).encode()
    return str(x).encode()


@pytest.fixture(scope="module", params=sorted(SERVERS))
def cluster_node(request: pytest.FixtureRequest) -> Iterator[RedisServer]:
    server = start_server(
        request.param,
        args=["--cluster-enabled", "yes", "--cluster-port", str(free_port())],
    )
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture
async def node(cluster_node: RedisServer) -> AsyncIterator[redspec.Redis[bytes]]:
    r: redspec.Redis[bytes] = redspec.Redis(cluster_node.host, cluster_node.port)
    yield r
    await r.aclose()


async def _getkeys(r: redspec.Redis[bytes], argvs: list[tuple[Any, ...]]) -> list[Any]:
    return await asyncio.gather(
        *(r.execute_command("COMMAND", "GETKEYS", *argv) for argv in argvs),
        return_exceptions=True,
    )


def _compare(argvs: list[tuple[Any, ...]], replies: list[Any]) -> tuple[int, set[str], list[str]]:
    """(agreements, commands agreed on with keys, disagreements)."""
    agreed = 0
    keyed: set[str] = set()
    wrong: list[str] = []
    for argv, reply in zip(argvs, replies, strict=True):
        route = route_for(argv)
        ours = sorted(_wire(argv[p]) for p in key_positions(route, argv))
        if isinstance(reply, ResponseError):
            text = str(reply)
            if "no key arguments" in text:
                theirs: list[bytes] = []
            elif "Invalid command" in text or "Invalid arguments" in text or "number of" in text:
                continue  # a form this server does not take (Valkey-only, bad combination)
            else:
                wrong.append(f"{argv!r}: server error {text}")
                continue
        else:
            theirs = sorted(reply)
        specs = meta.COMMANDS[route.name]["key_specs"] if route.known else ()
        if specs and all("not_key" in ks["flags"] for ks in specs):
            # SPUBLISH's shard channel: routed like a key, yet not a key to GETKEYS
            if theirs or not ours:
                wrong.append(f"{argv!r}: a not_key spec, ours {ours}, server {theirs}")
            continue
        if ours != theirs:
            wrong.append(f"{argv!r}: ours {ours} != server {theirs}")
        else:
            agreed += 1
            if theirs:
                keyed.add(route.name)
    return agreed, keyed, wrong


async def test_key_positions_match_command_getkeys(
    node: redspec.Redis[bytes], cluster_node: RedisServer
) -> None:
    argvs = list(generated_argvs())
    assert len(argvs) > 900
    agreed, keyed, wrong = _compare(argvs, await _getkeys(node, argvs))
    assert wrong == []
    # most argvs were judged (not skipped as forms the server refuses)
    assert agreed > 0.8 * len(argvs)
    server_id = SERVERS[cluster_node.kind]
    on_server = {n for n, m in meta.COMMANDS.items() if server_id in m["available_in"]}
    with_keys = {n for n in on_server if meta.COMMANDS[n]["key_specs"]}
    missing = with_keys - keyed
    assert len(missing) < 0.05 * len(with_keys), sorted(missing)


async def test_movable_keys_forms_match_command_getkeys(
    node: redspec.Redis[bytes], cluster_node: RedisServer
) -> None:
    agreed, keyed, wrong = _compare(EXPLICIT, await _getkeys(node, EXPLICIT))
    assert wrong == []
    assert agreed == len(EXPLICIT)
    server_id = SERVERS[cluster_node.kind]
    on_server = {n for n in MOVABLE if server_id in meta.COMMANDS[n]["available_in"]}
    assert on_server <= keyed, sorted(on_server - keyed)


async def test_key_slot_matches_cluster_keyslot(node: redspec.Redis[bytes]) -> None:
    rng = random.Random(11)
    keys: list[bytes | str | int] = [b"", b"{", b"}", b"{}", b"{}{a}", b"a{b}c{d}", b"{{a}}"]
    keys += ["é{ü}", "日本{語}", 12345, -7]
    for _ in range(400):
        raw = bytes(rng.randrange(256) for _ in range(rng.randint(0, 24)))
        if rng.random() < 0.5:
            i = rng.randint(0, len(raw))
            raw = raw[:i] + b"{" + raw[i : i + rng.randint(0, 4)] + b"}" + raw[i:]
        keys.append(raw)
    replies = await asyncio.gather(*(node.execute_command("CLUSTER", "KEYSLOT", k) for k in keys))
    assert [key_slot(k) for k in keys] == replies
