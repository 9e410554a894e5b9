"""Deadlines on the connection: timeouts, retirement, dead peers (see redspec/_liveness.py).

Against the scripted fake server, on asyncio and uvloop. Timings are asserted
with generous upper bounds (the machine may be loaded), and never by sleeping
a fixed time before looking at a state that could still change.
"""

from __future__ import annotations

import asyncio
import time
from typing import Any

import pytest

import redspec
from redspec import _core
from redspec._liveness import DEAD_PEER_GRACE
from redspec._settings import DEFAULT_COMMAND_TIMEOUT
from redspec.connection import Connection
from tests.unit.fake_server import DEFAULT, FakeClient, FakeServer, encode
from tests.unit.test_wire import both_loops


def _silent_on_first_connection(client: FakeClient, cmd: list[bytes]) -> Any:
    """GET is never answered on the first connection (a hung peer); later ones work."""
    if cmd[0] == b"GET":
        if client is client.server.clients[0]:
            return None
        return encode(b"v")
    return DEFAULT


async def _until(condition: Any, timeout: float = 5.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "condition not reached in time"
        await asyncio.sleep(0.01)


@both_loops
async def test_send_with_timeout_fails_the_caller_and_retires_the_connection() -> None:
    async with FakeServer(_silent_on_first_connection) as server:
        lost: list[BaseException | None] = []
        conn = await Connection.open(server.settings(), on_lost=lost.append)
        t0 = time.monotonic()
        with pytest.raises(redspec.TimeoutError, match=r"no reply to GET within 0\.2s"):
            await conn.send(("GET", "k"), 0.2)
        assert 0.18 < time.monotonic() - t0 < 1.0
        assert conn.is_retired and not conn.is_usable
        assert len(lost) == 1 and isinstance(lost[0], redspec.TimeoutError)
        # Nobody waits for a reply any more: a retired connection then closes.
        await asyncio.wait_for(conn.wait_closed(), 5)


@both_loops
async def test_hung_connection_is_replaced_for_the_next_calls() -> None:
    # Before: every later call timed out too, forever (one shared connection).
    async with FakeServer(_silent_on_first_connection) as server:
        r = redspec.Redis("127.0.0.1", server.port, command_timeout=0.3)
        assert await r.ping() == b"PONG"
        t0 = time.monotonic()
        with pytest.raises(redspec.TimeoutError):
            await r.get("k")
        assert await r.get("k") == b"v"
        recovered = time.monotonic() - t0
        assert recovered < 0.3 + 1.0, recovered
        assert len(server.clients) == 2
        await r.aclose()


@both_loops
async def test_calls_behind_an_overdue_silent_reply_fail_as_connection_lost() -> None:
    async with FakeServer(_silent_on_first_connection) as server:
        lost: list[BaseException | None] = []
        conn = await Connection.open(server.settings(), on_lost=lost.append)
        head = conn.send(("GET", "a"), 0.1)
        behind = conn.send(("GET", "b"), 30)
        t0 = time.monotonic()
        with pytest.raises(redspec.TimeoutError):
            await head
        with pytest.raises(redspec.ConnectionError, match="presumed dead") as info:
            await behind
        waited = time.monotonic() - t0
        assert DEAD_PEER_GRACE * 0.9 < waited < DEAD_PEER_GRACE + 1.5, waited
        assert "may or may not have been executed" in str(info.value)
        assert [type(e) for e in lost] == [redspec.TimeoutError]  # retired, then dead
        await asyncio.wait_for(conn.wait_closed(), 5)


@both_loops
async def test_bytes_arriving_keep_a_connection_alive() -> None:
    # The head's caller gave up, but its reply trickles in: slow, not dead.
    async def trickle(client: FakeClient) -> None:
        data = encode(b"x" * 14)  # 21 bytes, one every GRACE/8: 2.6 GRACE in all
        for i in range(len(data)):
            client.write(data[i : i + 1])
            await asyncio.sleep(DEAD_PEER_GRACE / 8)
        client.write(encode(b"second"))

    tasks: list[asyncio.Task[None]] = []

    def handler(client: FakeClient, cmd: list[bytes]) -> Any:
        if cmd[0] == b"BIG":
            tasks.append(asyncio.ensure_future(trickle(client)))
            return None
        if cmd[0] == b"SECOND":
            return None  # answered by trickle(), after the big reply
        return DEFAULT

    async with FakeServer(handler) as server:
        conn = await Connection.open(server.settings())
        head = conn.send(("BIG",), 0.1)
        behind = conn.send(("SECOND",), 60)
        with pytest.raises(redspec.TimeoutError):
            await head
        assert await behind == b"second"
        assert conn.is_retired
        await asyncio.wait_for(conn.wait_closed(), 5)  # drained: closed


@both_loops
async def test_a_slow_reply_inside_its_timeout_is_not_a_dead_peer() -> None:
    async with FakeServer() as server:
        conn = await Connection.open(server.settings())
        server.reply_delay = DEAD_PEER_GRACE + 0.3
        assert await conn.send(("ECHO", "slow"), DEAD_PEER_GRACE + 5) == b"slow"
        assert conn.is_usable and not conn.is_retired
        conn.close()


@both_loops
async def test_one_timer_per_connection_and_none_in_the_loop() -> None:
    async with FakeServer() as server:
        conn = await Connection.open(server.settings())
        loop = asyncio.get_running_loop()

        def timers() -> int:
            return sum(not h.cancelled() for h in getattr(loop, "_scheduled", []))

        before = timers()
        futures = [conn.send(("ECHO", str(i)), 30) for i in range(1000)]
        # One deadline timer, kept by the watchdog thread: none in the loop,
        # whose waits for I/O would otherwise all get a timeout.
        assert conn._timer is not None
        assert timers() == before
        assert await asyncio.gather(*futures) == [str(i).encode() for i in range(1000)]
        # A shorter deadline behind longer ones re-arms the timer.
        conn.send(("ECHO", "a"), 30)
        short = conn.send(("ECHO", "b"), 0.5)
        assert await short == b"b"
        conn.close()


@both_loops
async def test_command_timeout_bounds_a_first_connect_to_a_silent_server() -> None:
    # The server accepts but never answers the handshake.
    async with FakeServer(lambda c, cmd: None) as server:
        r = redspec.Redis("127.0.0.1", server.port, command_timeout=0.5, connect_timeout=5)
        t0 = time.monotonic()
        with pytest.raises(redspec.TimeoutError, match=r"PING within 0\.5s: still connecting"):
            await r.ping()
        assert 0.4 < time.monotonic() - t0 < 2.0
        await r.aclose()


@both_loops
async def test_command_timeout_bounds_the_wait_for_a_reconnect() -> None:
    async with FakeServer() as server:
        r = redspec.Redis("127.0.0.1", server.port, command_timeout=0.3, connect_timeout=5)
        assert await r.ping() == b"PONG"
        server.handler = lambda c, cmd: None  # reconnects get no greeting
        for client in server.clients:
            client.close()
        await _until(lambda: r._core.conn is not None and not r._core.conn.is_usable)
        t0 = time.monotonic()
        with pytest.raises(redspec.TimeoutError):
            await r.ping()
        assert time.monotonic() - t0 < 1.5
        await r.aclose()


def test_default_command_timeout() -> None:
    assert DEFAULT_COMMAND_TIMEOUT == 5.0
    assert redspec.Redis().command_timeout == DEFAULT_COMMAND_TIMEOUT
    assert redspec.Redis.from_url("redis://h").command_timeout == DEFAULT_COMMAND_TIMEOUT
    assert redspec.Redis.from_url("redis://h?command_timeout=none").command_timeout is None
    assert redspec.Redis(command_timeout=None).command_timeout is None


@both_loops
async def test_default_settings_give_every_call_a_deadline() -> None:
    async with FakeServer() as server:
        r = redspec.Redis("127.0.0.1", server.port)
        assert await r.ping() == b"PONG"
        conn = r._core.conn
        assert conn is not None
        pending = r.execute_command("PING")
        before = time.monotonic()
        (_, deadline, _, timeout) = conn._waiters[-1]
        assert timeout == DEFAULT_COMMAND_TIMEOUT
        assert before < deadline <= before + DEFAULT_COMMAND_TIMEOUT + 0.1
        await pending
        await r.aclose()


def test_retry_delays_probe_fast_then_back_off() -> None:
    early = [_core.retry_delay(n, 0.05 * n) for n in range(1, 60)]
    assert early[:2] == [0.01, 0.02]
    assert all(0.0125 <= d <= 0.025 for d in early[2:])
    # Within the first seconds of an outage, attempts are at most 25 ms apart.
    assert sum(early) < 1.5
    late = [_core.retry_delay(100, t) for t in (5.0, 6.0, 7.0, 9.0, 30.0)]
    assert late[0] <= 0.025 and late[-1] <= _core.BACKOFF_MAX
    assert late[-1] >= _core.BACKOFF_MAX / 2
