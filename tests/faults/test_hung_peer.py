"""A peer that stops answering while its kernel still accepts bytes (through tests/proxy.py).

Before: the first call timed out, and so did every later one, forever, since
all ordinary commands share one connection and only a lost connection made
the client reconnect. Now a connection with an overdue reply is retired at
once (the next calls use a fresh connection), and presumed dead after
DEAD_PEER_GRACE of silence (calls still in flight fail as lost, and reads
are retried when retry_reads allows).
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Iterator

import pytest

import redspec
from redspec._liveness import DEAD_PEER_GRACE
from redspec._settings import DEFAULT_COMMAND_TIMEOUT
from tests.faults.helpers import report, until
from tests.proxy import FaultProxy
from tests.servers import RedisServer

TIMEOUT = 0.5


@pytest.fixture
def proxy(redis8: RedisServer) -> Iterator[FaultProxy]:
    with FaultProxy(redis8.host, redis8.port) as p:
        yield p


async def test_hung_flow_recovers_on_a_fresh_connection(proxy: FaultProxy) -> None:
    r = redspec.Redis(proxy.host, proxy.port, command_timeout=TIMEOUT)
    try:
        await r.set("hung:k", "v")
        proxy.hang()  # this connection's flow is dead; new connections still work
        t0 = time.monotonic()
        in_flight = [asyncio.ensure_future(r.get("hung:k")) for _ in range(10)]
        for result in await asyncio.gather(*in_flight, return_exceptions=True):
            assert isinstance(result, redspec.TimeoutError), result
        assert await r.get("hung:k") == b"v"
        recovery = time.monotonic() - t0
        report(
            f"hung peer: first successful call {recovery:.3f}s after the hang "
            f"(command_timeout {TIMEOUT}s, dead-peer grace {DEAD_PEER_GRACE}s)"
        )
        assert recovery < TIMEOUT + DEAD_PEER_GRACE, recovery
        # Everyone on the hung connection gave up: it is closed, not kept.
        await until(lambda: proxy.open_connections == 1, what="the hung connection closed")
        for i in range(50):
            assert await r.echo(f"after-{i}") == f"after-{i}".encode()
    finally:
        await r.aclose()


async def test_reads_in_flight_are_retried_after_the_peer_is_presumed_dead(
    proxy: FaultProxy,
) -> None:
    r = redspec.Redis(proxy.host, proxy.port, command_timeout=10, retry_reads=True)
    try:
        await r.set("hung:r", "v")
        proxy.hang()
        t0 = time.monotonic()
        head = asyncio.ensure_future(r.with_options(command_timeout=0.2).get("hung:r"))
        read = asyncio.ensure_future(r.get("hung:r"))  # 10 s of its own: behind the head
        write = asyncio.ensure_future(r.set("hung:w", "x"))
        with pytest.raises(redspec.TimeoutError):
            await head
        # The write may have reached the server: never re-sent, fails as lost.
        with pytest.raises(redspec.ConnectionError, match="presumed dead"):
            await write
        assert await read == b"v"  # re-sent on a fresh connection
        waited = time.monotonic() - t0
        report(f"hung peer: read in flight answered after {waited:.3f}s (re-sent once)")
        assert waited < 0.2 + DEAD_PEER_GRACE + 1.0, waited
    finally:
        await r.aclose()


async def test_frozen_server_every_call_bounded_then_recovery(proxy: FaultProxy) -> None:
    r = redspec.Redis(proxy.host, proxy.port, command_timeout=TIMEOUT)
    try:
        assert await r.ping() == b"PONG"
        proxy.hang(new_too=True)  # fresh connections hang too (in the handshake)
        for _ in range(3):
            t0 = time.monotonic()
            with pytest.raises(redspec.TimeoutError):
                await r.ping()
            assert time.monotonic() - t0 < TIMEOUT + 0.5
        proxy.resume()
        t0 = time.monotonic()
        while True:
            try:
                assert await r.ping() == b"PONG"
                break
            except redspec.TimeoutError:
                assert time.monotonic() - t0 < 5, "no recovery after the server thawed"
        report(f"frozen server: first call after the thaw took {time.monotonic() - t0:.3f}s")
    finally:
        await r.aclose()


async def test_default_settings_never_wait_forever(proxy: FaultProxy) -> None:
    r = redspec.Redis(proxy.host, proxy.port)  # command_timeout left at its default
    try:
        assert await r.ping() == b"PONG"
        proxy.hang()
        t0 = time.monotonic()
        with pytest.raises(redspec.TimeoutError):
            await r.ping()
        waited = time.monotonic() - t0
        assert DEFAULT_COMMAND_TIMEOUT - 0.1 < waited < DEFAULT_COMMAND_TIMEOUT + 1.0, waited
        assert await r.ping() == b"PONG"
    finally:
        await r.aclose()
