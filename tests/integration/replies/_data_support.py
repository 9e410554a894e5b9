"""Helpers for the reply tests of the data-type groups.

Groups: string, bitmap, hyperloglog, list, set, hash, geo.

A test module registers its cases in a ``Cases`` registry::

    CASES = Cases(StringCommands)

    @CASES.case("get", "set")
    async def get_and_set(c: Ctx) -> None:
        await c.check(c.r.set, "k", "v", expect=True)
        await c.check(c.r.get, "k", expect=b"v")

and exposes ``test_reply = CASES.test()`` and ``test_coverage = CASES.coverage_test()``.
Each case runs once per protocol (RESP3 and RESP2), with bytes and with
decoded (str) replies, and with ``Cases(mixin, pipelines=True)`` also through
one-command pipelines (the generated pipeline twin, whose ``Pending[T]`` is
checked too), on every pinned server
that has all the commands it declares (from the generated ``meta`` table),
unless ``servers=`` narrows it. Every call goes through ``Ctx.check``, which
checks the reply against the method's declared return annotation (and
against the overload that the call selects, as mypy would pick it); a case
must call exactly the methods it declares, so the coverage test (declared
names against the mixin's public methods) cannot be satisfied by a
declaration alone.
"""

from __future__ import annotations

import importlib
import inspect
import types
import typing
import warnings
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

import pytest

import redspec
from codegen.compat import VARIANTS
from redspec._generated.meta import COMMANDS
from redspec.pipeline import Pending
from tests.reply_check import assert_reply_matches, check
from tests.servers import RedisServer

KINDS = {"redis-8.2.3": "redis8", "valkey-8.1.8": "valkey8", "redis-7.0.15": "redis7"}
ALL = ("redis8", "valkey8", "redis7")
# (protocol, decode_responses): every case runs in each of these modes.
MODES = ((3, False), (2, False), (3, True), (2, True))
# ... and, in the modules that ask for it (Cases(..., pipelines=True)), in these
# through one-command pipelines.
PIPELINE_MODES = ((3, False), (2, False))
_UNSET: Any = object()

_AVAILABLE: dict[str, tuple[str, ...]] = {
    meta["method"]: tuple(KINDS[s] for s in meta["available_in"])
    for meta in COMMANDS.values()
    if meta["method"]
}
# second methods of a command (redis-py's xpending_range for XPENDING)
_AVAILABLE.update(
    (name, tuple(KINDS[s] for s in COMMANDS[v["command"]]["available_in"]))
    for name, v in VARIANTS.items()
)


def client_for(server: RedisServer, protocol: int, **settings: Any) -> Any:
    """A client on ``server`` speaking ``protocol`` (bytes unless told otherwise)."""
    return redspec.Redis.from_url(server.url, protocol=protocol, **settings)


def _admits(annotation: Any, value: object) -> bool:
    """Whether an argument value selects an overload parameter, as mypy would see it.

    Overloads of the generated methods tell their shapes apart by ``None`` and
    ``Literal`` parameters (``count: None``, ``withscores: Literal[True]``); any
    other annotation admits every non-None value, and None when it is optional.
    """
    if annotation is type(None) or annotation is None:
        return value is None
    origin = typing.get_origin(annotation)
    if origin is typing.Literal:
        return value in typing.get_args(annotation)
    if origin is typing.Union or origin is types.UnionType:
        return any(_admits(alt, value) for alt in typing.get_args(annotation))
    if value is None:
        return annotation is Any
    return True


# Pipeline modules import Pending for type checkers only.
_LOCALNS = {"Pending": Pending}


def declared_return(method: Callable[..., Any]) -> Any:
    """The resolved return annotation of a (bound) method's implementation."""
    func = inspect.unwrap(getattr(method, "__func__", method))
    return typing.get_type_hints(func, localns=_LOCALNS).get("return", Any)


def overload_for(method: Callable[..., Any], args: tuple[Any, ...], kwargs: dict[str, Any]) -> Any:
    """The return annotation of the first overload of ``method`` that this call selects.

    None when the method has no overloads (or Python < 3.11 cannot list them).
    Fails when none admits the call.
    """
    func = inspect.unwrap(getattr(method, "__func__", method))
    get_overloads = getattr(typing, "get_overloads", None)  # Python 3.11+
    overloads = get_overloads(func) if get_overloads is not None else ()
    if not overloads:
        return None
    bound = inspect.signature(func).bind(None, *args, **kwargs)
    bound.apply_defaults()
    for ov in overloads:
        hints = typing.get_type_hints(ov, localns=_LOCALNS)
        params = inspect.signature(ov).parameters
        ok = True
        for name, value in bound.arguments.items():
            param = params.get(name)
            if param is None or param.kind in (param.VAR_POSITIONAL, param.VAR_KEYWORD):
                continue
            if name in hints and not _admits(hints[name], value):
                ok = False
                break
        if ok:
            return hints.get("return", Any)
    raise AssertionError(f"{func.__name__}: no overload admits {args} {kwargs}")


@dataclass
class Ctx:
    """What a case gets: the client, the server kind and protocol, and the call record."""

    r: Any
    kind: str
    protocol: int
    decoded: bool = False
    pipelined: bool = False
    names: set[str] = field(default_factory=set)

    def v(self, expected: Any) -> Any:
        """``expected`` (written with bytes) as this client returns it: str when it decodes."""
        if not self.decoded:
            return expected
        if isinstance(expected, bytes):
            return expected.decode()
        if isinstance(expected, dict):
            return {self.v(k): self.v(x) for k, x in expected.items()}
        if isinstance(expected, (set, frozenset)):
            return {self.v(x) for x in expected}
        if isinstance(expected, list):
            return [self.v(x) for x in expected]
        if isinstance(expected, tuple):
            items = [self.v(x) for x in expected]
            return type(expected)(*items) if hasattr(expected, "_fields") else tuple(items)
        return expected

    async def check(
        self, method: Callable[..., Awaitable[Any]], *args: Any, expect: Any = _UNSET, **kwargs: Any
    ) -> Any:
        """Call ``method``; the reply must fit its declared return type (and equal ``expect``).

        Deprecated methods must warn (DeprecationWarning) when called.
        """
        func = getattr(method, "__func__", method)
        if getattr(func, "__deprecated__", None) is not None:
            with pytest.warns(DeprecationWarning):
                value = await self._run(method, args, kwargs)
        else:
            with warnings.catch_warnings():
                warnings.simplefilter("error", DeprecationWarning)
                value = await self._run(method, args, kwargs)
        anystr = str if self.decoded else bytes
        assert_reply_matches(method, value)
        chosen = overload_for(method, args, kwargs)
        if chosen is not None:
            check(value, chosen, anystr, path=f"{method.__name__}() [overload]")
        if expect is not _UNSET:
            expect = self.v(expect)
            assert value == expect, f"{method.__name__}{args}{kwargs}: {value!r} != {expect!r}"
        self.names.add(method.__name__)
        return value

    async def _run(
        self, method: Callable[..., Awaitable[Any]], args: tuple[Any, ...], kwargs: dict[str, Any]
    ) -> Any:
        """Await the client method, or (pipelined) queue its pipeline twin alone and execute."""
        if not self.pipelined:
            return await method(*args, **kwargs)
        name = method.__name__
        async with self.r.pipeline(transaction=False) as p:
            queue = getattr(p, name)
            pending = queue(*args, **kwargs)
            results = await p.execute()
        value = pending.result()
        assert results == [value], f"{name}: execute() gave {results!r}, Pending {value!r}"
        # The pipeline method's Pending[T] must fit too (and its selected overload's).
        inner = typing.get_args(declared_return(queue))
        assert len(inner) == 1, f"pipeline {name} returns {declared_return(queue)!r}"
        anystr = str if self.decoded else bytes
        check(value, inner[0], anystr, path=f"pipeline.{name}()")
        chosen = overload_for(queue, args, kwargs)
        if chosen is not None:
            check(value, typing.get_args(chosen)[0], anystr, path=f"pipeline.{name}() [overload]")
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

    def __init__(self, mixin: type, *, pipelines: bool = False) -> None:
        self.mixin = mixin
        self.pipelines = pipelines
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
            pytest.param(
                case,
                kind,
                protocol,
                decoded,
                pipelined,
                id=f"{case.name}-{kind}-resp{protocol}"
                + ("-str" if decoded else "")
                + ("-pipeline" if pipelined else ""),
            )
            for case in self.cases.values()
            for kind in case.servers
            for protocol, decoded, pipelined in self.modes()
        ]

    def modes(self) -> list[tuple[int, bool, bool]]:
        """(protocol, decode_responses, pipelined) of every run of a case."""
        modes = [(p, d, False) for p, d in MODES]
        if self.pipelines:
            modes += [(p, d, True) for p, d in PIPELINE_MODES]
        return modes

    def methods(self) -> set[str]:
        """The public coroutine methods of the mixin."""
        return {
            name
            for name, value in vars(self.mixin).items()
            if not name.startswith("_") and inspect.iscoroutinefunction(inspect.unwrap(value))
        }

    def pipeline_methods(self) -> set[str]:
        """The public methods of the matching generated pipeline mixin."""
        group = self.mixin.__module__.rsplit(".", 1)[1]
        module = importlib.import_module(f"redspec._generated.pipeline.{group}")
        twin = getattr(module, self.mixin.__name__.replace("Commands", "PipelineCommands"))
        return {
            name
            for name, value in vars(twin).items()
            if not name.startswith("_") and callable(value)
        }

    def test(self) -> Callable[..., Awaitable[None]]:
        @pytest.mark.parametrize(
            ("case", "kind", "protocol", "decoded", "pipelined"), self.params()
        )
        async def test_reply(
            case: Case,
            kind: str,
            protocol: int,
            decoded: bool,
            pipelined: bool,
            request: pytest.FixtureRequest,
        ) -> None:
            server: RedisServer = request.getfixturevalue(kind)
            r = client_for(server, protocol, decode_responses=decoded)
            try:
                await r.execute_command("FLUSHALL")
                ctx = Ctx(r, kind, protocol, decoded, pipelined)
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
            if self.pipelines:
                # The pipelined runs reach the pipeline twins by name: same set of methods.
                assert self.pipeline_methods() == self.methods()

        return test_coverage
