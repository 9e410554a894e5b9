"""Shared fixtures: real servers (session-wide) and clients on them.

Servers are started once per session and always stopped (fixture finalizers,
and servers.py's atexit hook). A test that kills or restarts a server starts
its own with ``servers.start_server``, so it never disturbs the others.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Iterator

import pytest

import redspec
from tests.servers import RedisServer, TLSFiles, make_tls, start_server

LOOP_POLICIES = ["asyncio", "uvloop"]


def loop_policy(name: str) -> asyncio.AbstractEventLoopPolicy:
    """The policy for a parametrized ``event_loop_policy`` override in a test module.

    A module that must run under both loops declares::

        @pytest.fixture(params=LOOP_POLICIES)
        def event_loop_policy(request):
            return loop_policy(request.param)
    """
    if name == "uvloop":
        import uvloop

        return uvloop.EventLoopPolicy()
    return asyncio.DefaultEventLoopPolicy()


def _server(kind: str, **kw: object) -> Iterator[RedisServer]:
    server = start_server(kind, **kw)  # type: ignore[arg-type]
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture(scope="session")
def redis8() -> Iterator[RedisServer]:
    yield from _server("redis8")


@pytest.fixture(scope="session")
def valkey8() -> Iterator[RedisServer]:
    yield from _server("valkey8")


@pytest.fixture(scope="session")
def redis7() -> Iterator[RedisServer]:
    yield from _server("redis7")


@pytest.fixture(scope="session")
def tls_files(tmp_path_factory: pytest.TempPathFactory) -> TLSFiles:
    return make_tls(tmp_path_factory.mktemp("tls"))


@pytest.fixture(scope="session")
def redis7_tls(tls_files: TLSFiles) -> Iterator[RedisServer]:
    # Also bound to 127.0.0.2, an address the certificate does not name, so a
    # test can check that the host name is verified.
    yield from _server("redis7", tls=tls_files, args=["--bind", "127.0.0.1", "127.0.0.2"])


async def _fresh(server: RedisServer, **settings: object) -> redspec.Redis[bytes]:
    r: redspec.Redis[bytes] = redspec.Redis(server.host, server.port, **settings)  # type: ignore[arg-type]
    await r.execute_command("FLUSHALL")
    return r


@pytest.fixture
async def client(redis8: RedisServer) -> AsyncIterator[redspec.Redis[bytes]]:
    """A client on the shared Redis 8 server, emptied first, closed after."""
    r = await _fresh(redis8)
    yield r
    await r.aclose()


@pytest.fixture(params=[3, 2], ids=["resp3", "resp2"])
async def any_protocol_client(
    request: pytest.FixtureRequest, redis8: RedisServer
) -> AsyncIterator[redspec.Redis[bytes]]:
    """``client``, once over RESP3 and once over RESP2."""
    r = await _fresh(redis8, protocol=request.param)
    yield r
    await r.aclose()
