"""Helpers for the reply tests of the data-type groups.

Groups: string, bitmap, hyperloglog, list, set, hash, geo.

A test module registers its cases in a ``Cases`` registry::

    CASES = Cases(StringCommands)

    @CASES.case("get", "set")
    async def get_and_set(c: Ctx) -> None:
        await c.check(c.r.set, "k", "v", expect=True)
        await c.check(c.r.get, "k", expect=b"v")

and exposes ``test_reply = CASES.test()`` and ``test_coverage = CASES.coverage_test()``.
Each case runs once per protocol (RESP3 and RESP2) on every pinned server
that has all the commands it declares (from the generated ``meta`` table),
unless ``servers=`` narrows it. Every call goes through ``Ctx.check``, which
checks the reply against the method's declared return annotation; a case
must call exactly the methods it declares, so the coverage test (declared
names against the mixin's public methods) cannot be satisfied by a
declaration alone.
"""

from __future__ import annotations

import inspect
import warnings
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

import pytest

import redspec
from redspec._generated.meta import COMMANDS
from tests.reply_check import assert_reply_matches
from tests.servers import RedisServer

KINDS = {"redis-8.2.3": "redis8", "valkey-8.1.8": "valkey8", "redis-7.0.15": "redis7"}
ALL = ("redis8", "valkey8", "redis7")
PROTOCOLS = (3, 2)
_UNSET: Any = object()

_AVAILABLE: dict[str, tuple[str, ...]] = {
    meta["method"]: tuple(KINDS[s] for s in meta["available_in"])
    for meta in COMMANDS.values()
    if meta["method"]
}


def client_for(server: RedisServer, protocol: int, **settings: Any) -> redspec.Redis[bytes]:
    """A client on ``server`` speaking ``protocol`` (bytes unless told otherwise)."""
    cls: Any = redspec.Redis
    if not hasattr(cls, "get"):  # until Redis itself carries the generated mixins
        cls = _with_mixins()
    r: redspec.Redis[bytes] = cls.from_url(server.url, protocol=protocol, **settings)
    return r


_MIXED: type | None = None


def _with_mixins() -> type:
    global _MIXED
    if _MIXED is None:
        from redspec._generated.client import Commands

        class _Client(Commands, redspec.Redis):  # type: ignore[misc]
            __slots__ = ()

        _MIXED = _Client
    return _MIXED


@dataclass
class Ctx:
    """What a case gets: the client, the server kind and protocol, and the call record."""

    r: Any
    kind: str
    protocol: int
    names: set[str] = field(default_factory=set)

    async def check(
        self, method: Callable[..., Awaitable[Any]], *args: Any, expect: Any = _UNSET, **kwargs: Any
    ) -> Any:
        """Call ``method``; the reply must fit its declared return type (and equal ``expect``).

        Deprecated methods must warn (DeprecationWarning) when called.
        """
        func = getattr(method, "__func__", method)
        if getattr(func, "__deprecated__", None) is not None:
            with pytest.warns(DeprecationWarning):
                value = await method(*args, **kwargs)
        else:
            with warnings.catch_warnings():
                warnings.simplefilter("error", DeprecationWarning)
                value = await method(*args, **kwargs)
        assert_reply_matches(method, value)
        if expect is not _UNSET:
            assert value == expect, f"{method.__name__}{args}{kwargs}: {value!r} != {expect!r}"
        self.names.add(method.__name__)
        return value

    def on(self, *kinds: str) -> bool:
        return self.kind in kinds


@dataclass(frozen=True)
class Case:
    name: str
    methods: tuple[str, ...]
    servers: tuple[str, ...]
    func: Callable[[Ctx], Awaitable[None]]


class Cases:
    """The cases of one test module, for one generated mixin class."""

    def __init__(self, mixin: type) -> None:
        self.mixin = mixin
        self.cases: dict[str, Case] = {}

    def case(
        self, *methods: str, servers: Iterable[str] | None = None
    ) -> Callable[[Callable[[Ctx], Awaitable[None]]], Callable[[Ctx], Awaitable[None]]]:
        def register(func: Callable[[Ctx], Awaitable[None]]) -> Callable[[Ctx], Awaitable[None]]:
            where = set(servers) if servers is not None else set(ALL)
            for m in methods:
                assert m in _AVAILABLE, f"{func.__name__}: {m} is no generated method"
                where &= set(_AVAILABLE[m])
            assert where, f"{func.__name__}: no server has all of {methods}"
            name = func.__name__.strip("_")
            assert name not in self.cases, name
            self.cases[name] = Case(name, methods, tuple(k for k in ALL if k in where), func)
            return func

        return register

    def params(self) -> list[Any]:
        return [
            pytest.param(case, kind, protocol, id=f"{case.name}-{kind}-resp{protocol}")
            for case in self.cases.values()
            for kind in case.servers
            for protocol in PROTOCOLS
        ]

    def methods(self) -> set[str]:
        """The public coroutine methods of the mixin."""
        return {
            name
            for name, value in vars(self.mixin).items()
            if not name.startswith("_") and inspect.iscoroutinefunction(inspect.unwrap(value))
        }

    def test(self) -> Callable[..., Awaitable[None]]:
        @pytest.mark.parametrize(("case", "kind", "protocol"), self.params())
        async def test_reply(
            case: Case, kind: str, protocol: int, request: pytest.FixtureRequest
        ) -> None:
            server: RedisServer = request.getfixturevalue(kind)
            r = client_for(server, protocol)
            try:
                await r.execute_command("FLUSHALL")
                ctx = Ctx(r, kind, protocol)
                await case.func(ctx)
                assert ctx.names == set(case.methods), (
                    f"{case.name} declared {sorted(case.methods)}, called {sorted(ctx.names)}"
                )
            finally:
                await r.aclose()

        return test_reply

    def coverage_test(self) -> Callable[[], None]:
        def test_coverage() -> None:
            declared = {m for case in self.cases.values() for m in case.methods}
            missing = sorted(self.methods() - declared)
            assert not missing, f"{self.mixin.__name__} methods no case calls: {missing}"
            foreign = sorted(declared - self.methods())
            assert not foreign, f"cases declare methods not in {self.mixin.__name__}: {foreign}"

        return test_coverage
