"""Helpers for the reply tests of the server, cluster, connection and pubsub groups.

Each test module keeps a ``Calls`` record: every generated method a case
calls goes through ``calls.check`` (the reply must fit the method's declared
return type) or ``calls.error`` (the server's error reply proves that the
arguments were accepted as a command line, where the command cannot succeed
here). The module's last test compares the record with the mixin's methods.
"""

from __future__ import annotations

import inspect
import socket
import time
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

import hiredis
import pytest

import redspec
from redspec.errors import ResponseError
from tests.reply_check import assert_reply_matches
from tests.servers import RedisServer

T = TypeVar("T")
_UNSET: Any = object()
PROTOCOLS = [pytest.param(3, id="resp3"), pytest.param(2, id="resp2")]


def client_for(server: RedisServer, protocol: int, **settings: Any) -> redspec.Redis[bytes]:
    """A bytes client on ``server`` speaking ``protocol``."""
    return redspec.Redis.from_url(server.url, protocol=protocol, **settings)


def str_client_for(server: RedisServer, protocol: int) -> redspec.Redis[str]:
    """A decoding (str) client on ``server`` speaking ``protocol``."""
    return redspec.Redis.from_url(server.url, protocol=protocol, decode_responses=True)


class Calls:
    """The generated methods that the cases of one module called."""

    def __init__(self) -> None:
        self.names: set[str] = set()
        self.errors: dict[str, str] = {}

    def _name(self, method: Callable[..., Any]) -> str:
        name: str = method.__name__
        self.names.add(name)
        return name

    async def check(
        self, method: Callable[..., Awaitable[T]], *args: Any, expect: Any = _UNSET, **kwargs: Any
    ) -> T:
        """Call ``method``; its reply must fit its return annotation (and equal ``expect``)."""
        value = await method(*args, **kwargs)
        assert_reply_matches(method, value)
        if expect is not _UNSET:
            assert value == expect, f"{method.__name__}: {value!r} != {expect!r}"
        self._name(method)
        return value

    async def error(
        self, method: Callable[..., Awaitable[Any]], *args: Any, match: str, **kwargs: Any
    ) -> ResponseError:
        """Call ``method`` where it cannot succeed: the server must answer with an error
        matching ``match`` (which shows it parsed the command line we sent)."""
        with pytest.raises(ResponseError, match=match) as info:
            await method(*args, **kwargs)
        self.errors[self._name(method)] = str(info.value)
        return info.value

    def assert_covers(self, mixin: type, request: pytest.FixtureRequest) -> None:
        """Every public method of ``mixin`` was called (when the whole module ran)."""
        module = request.module
        wanted = {n for n in dir(module) if n.startswith("test_")} - {request.function.__name__}
        selected = {
            item.originalname  # type: ignore[attr-defined]
            for item in request.session.items
            if getattr(item, "module", None) is module
        }
        if not wanted <= selected:
            pytest.skip("coverage is only judged when every case of the module runs")
        methods = {
            name
            for name, value in vars(mixin).items()
            if not name.startswith("_") and inspect.iscoroutinefunction(inspect.unwrap(value))
        }
        missing = sorted(methods - self.names)
        assert not missing, f"{mixin.__name__} methods no case called: {missing}"


def raw(server: RedisServer, *args: Any, timeout: float = 5.0) -> Any:
    """One command over a fresh plain connection (for setting up servers), RESP2."""
    with socket.create_connection((server.host, server.port), timeout=timeout) as s:
        return raw_on(s, *args)


def raw_on(s: socket.socket, *args: Any) -> Any:
    out = [b"*%d\r\n" % len(args)]
    for a in args:
        b = a if isinstance(a, bytes) else str(a).encode()
        out.append(b"$%d\r\n%s\r\n" % (len(b), b))
    s.sendall(b"".join(out))
    reader = hiredis.Reader()
    while True:
        reply = reader.gets()
        if reply is not False:
            if isinstance(reply, hiredis.ReplyError):
                raise ResponseError(str(reply))
            return reply
        data = s.recv(65536)
        if not data:
            raise ConnectionError("closed")
        reader.feed(data)


def wait_until(what: str, probe: Callable[[], bool], timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if probe():
            return
        time.sleep(0.02)
    raise AssertionError(f"timed out waiting for {what}")


def info_field(server: RedisServer, section: str, field: str) -> str:
    text = raw(server, "INFO", section).decode()
    for line in text.splitlines():
        if line.startswith(field + ":"):
            return str(line.split(":", 1)[1])
    return ""
