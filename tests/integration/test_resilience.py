"""Connection loss, reconnection, retries and credentials, against real servers.

Each test that kills or restarts a server starts its own. Runs under both
the default event loop and uvloop.
"""

from __future__ import annotations

import asyncio
import os
import signal
import time
from collections.abc import Iterator
from urllib.parse import quote

import pytest

import redspec
from redspec._base import READ
from tests.conftest import LOOP_POLICIES, loop_policy
from tests.servers import RedisServer, start_server

pytestmark = pytest.mark.filterwarnings(
    'ignore:Overriding the "event_loop_policy":DeprecationWarning'
)


@pytest.fixture(params=LOOP_POLICIES)
def event_loop_policy(request: pytest.FixtureRequest) -> asyncio.AbstractEventLoopPolicy:
    return loop_policy(request.param)


@pytest.fixture
def own_server() -> Iterator[RedisServer]:
    with start_server("redis8") as server:
        yield server


async def _connections_received(server: RedisServer) -> int:
    async with redspec.Redis(unix_socket_path=server.unix_path, password=server.password) as a:
        info = await a.execute_command("INFO", "stats")
    for line in info.split(b"\r\n"):
        if line.startswith(b"total_connections_received:"):
            return int(line.split(b":")[1])
    raise AssertionError("no total_connections_received in INFO")


async def test_client_kill_then_recovery(redis8: RedisServer) -> None:
    async with (
        redspec.Redis(redis8.host, redis8.port) as r,
        redspec.Redis(redis8.host, redis8.port) as admin,
    ):
        first = await r.execute_command("CLIENT", "ID")
        # A write in flight when the connection dies fails: it may have run.
        sleeping = asyncio.ensure_future(r.execute_command("BLPOP", "nothing", 5))
        await asyncio.sleep(0.05)
        assert await admin.execute_command("CLIENT", "KILL", "ID", first) == 1
        with pytest.raises(redspec.ConnectionError, match="may or may not"):
            await sleeping
        # No user action: the next call reconnects.
        second = await r.execute_command("CLIENT", "ID")
        assert second != first
        assert await r.execute_command("ECHO", "back") == b"back"


async def test_server_restart_under_50_tasks(own_server: RedisServer) -> None:
    r = redspec.Redis(own_server.host, own_server.port)
    wrong = ok_after = 0
    failures: list[BaseException] = []
    restarted = asyncio.Event()
    stop = asyncio.Event()

    async def worker(i: int) -> None:
        nonlocal wrong, ok_after
        n = 0
        while not stop.is_set():
            n += 1
            payload = f"{i}:{n}".encode()
            try:
                got = await r.execute_command("ECHO", payload)
            except (redspec.ConnectionError, redspec.TimeoutError) as exc:
                failures.append(exc)
                continue
            if got != payload:
                wrong += 1
            elif restarted.is_set():
                ok_after += 1

    try:
        tasks = [asyncio.ensure_future(worker(i)) for i in range(50)]
        await asyncio.sleep(0.3)
        await asyncio.to_thread(own_server.restart)
        restarted.set()
        await asyncio.sleep(0.5)
        stop.set()
        await asyncio.gather(*tasks)
        assert wrong == 0
        assert ok_after > 50  # every task is served again, with no user action
        assert all(isinstance(e, redspec.ConnectionError) for e in failures), failures[:3]
        assert await r.execute_command("ECHO", "after") == b"after"
    finally:
        await r.aclose()


async def test_incr_in_flight_when_connection_dies_is_applied_at_most_once(
    own_server: RedisServer,
) -> None:
    r = redspec.Redis(own_server.host, own_server.port)
    admin = redspec.Redis(unix_socket_path=own_server.unix_path)
    try:
        await r.execute_command("SET", "big", b"x" * 200_000)
        # The server drops a client whose pending output passes 100 kB: INCR
        # runs, then the big reply queued behind its reply kills the connection
        # before the INCR reply is written, so that reply is lost. A pipeline
        # sends the three commands in one write (one read of the server); DEBUG
        # SLEEP holds the server until all of it has arrived.
        await admin.execute_command(
            "CONFIG", "SET", "client-output-buffer-limit", "normal 100kb 0 0"
        )
        async with r.pipeline(transaction=False) as p:
            p.debug("SLEEP", 0.05)
            incr = p.incr("n")
            p.get("big")
            with pytest.raises(redspec.ConnectionError):
                await p.execute()
        with pytest.raises(redspec.ConnectionError):
            incr.result()
        await admin.execute_command("CONFIG", "SET", "client-output-buffer-limit", "normal 0 0 0")
        # Applied once, and not re-sent by the reconnect.
        assert await r.execute_command("GET", "n") == b"1"
        assert await admin.execute_command("GET", "n") == b"1"
    finally:
        await r.aclose()
        await admin.aclose()


async def test_read_is_retried_once_write_never(own_server: RedisServer) -> None:
    r = redspec.Redis(own_server.host, own_server.port, retry_reads=True)
    try:
        await r.execute_command("SET", "k", "v")
        assert own_server.proc is not None
        os.kill(own_server.proc.pid, signal.SIGSTOP)  # replies stop; commands stay in flight
        read = asyncio.ensure_future(r._call(["ECHO", "read"], READ))
        write = asyncio.ensure_future(r.execute_command("SET", "k", "w"))
        await asyncio.sleep(0.1)
        await asyncio.to_thread(own_server.kill)
        with pytest.raises(redspec.ConnectionError):
            await write
        assert not read.done()  # waiting for the reconnect, to be sent again
        await asyncio.to_thread(own_server.restart)
        assert await read == b"read"
        assert await r.execute_command("GET", "k") is None  # fresh server; the SET never re-ran
    finally:
        await r.aclose()


async def test_retry_reads_false(own_server: RedisServer) -> None:
    r = redspec.Redis(own_server.host, own_server.port)  # retry_reads=False by default
    try:
        await r.execute_command("PING")
        assert own_server.proc is not None
        os.kill(own_server.proc.pid, signal.SIGSTOP)
        read = asyncio.ensure_future(r._call(["ECHO", "read"], READ))
        await asyncio.sleep(0.05)
        await asyncio.to_thread(own_server.kill)
        with pytest.raises(redspec.ConnectionError):
            await read
    finally:
        await r.aclose()


async def test_calls_while_down_wait_for_the_server(own_server: RedisServer) -> None:
    r = redspec.Redis(own_server.host, own_server.port, connect_timeout=3)
    try:
        await r.execute_command("PING")
        await asyncio.to_thread(own_server.kill)
        await asyncio.sleep(0.05)
        # Issued with no connection: they never left the process, so even a
        # write is sent once the server is back.
        pending = asyncio.ensure_future(r.execute_command("SET", "while-down", "1"))
        await asyncio.sleep(0.4)
        assert not pending.done()
        await asyncio.to_thread(own_server.restart)
        assert await pending == b"OK"
        assert await r.execute_command("GET", "while-down") == b"1"
    finally:
        await r.aclose()


async def test_down_longer_than_connect_timeout(own_server: RedisServer) -> None:
    r = redspec.Redis(own_server.host, own_server.port, connect_timeout=0.5)
    try:
        await r.execute_command("PING")
        await asyncio.to_thread(own_server.kill)
        t0 = time.monotonic()
        with pytest.raises(redspec.ConnectionError, match=r"within 0\.5s"):
            await r.execute_command("PING")
        assert 0.4 < time.monotonic() - t0 < 1.5
        await asyncio.to_thread(own_server.restart)
        assert await r.execute_command("PING") == b"PONG"
    finally:
        await r.aclose()


async def test_wrong_password_fails_fast_without_reconnect_loop() -> None:
    with start_server("redis8", password="right-pw") as server:
        before = await _connections_received(server)
        r = redspec.Redis(server.host, server.port, password="wrong-pw")
        for _ in range(2):
            t0 = time.monotonic()
            with pytest.raises(redspec.AuthenticationError) as info:
                await r.execute_command("PING")
            assert time.monotonic() - t0 < 1.0
            assert "wrong-pw" not in str(info.value)
        with pytest.raises(redspec.AuthenticationError):
            await r._call_blocking(["BLPOP", "q", 1], 1)
        await asyncio.sleep(0.3)  # a background loop would connect again meanwhile
        # One connection per failed call, plus the one counting them.
        assert await _connections_received(server) - before == 4
        await r.aclose()
        # Percent-encoded user info: a password with URL syntax in it.
        pw = "p@ss:w/rd %"
        await _set_password(server, pw)
        url = f"redis://default:{quote(pw, safe='')}@{server.host}:{server.port}/0"
        async with redspec.Redis.from_url(url) as ok:
            assert await ok.execute_command("PING") == b"PONG"


async def _set_password(server: RedisServer, password: str) -> None:
    async with redspec.Redis(unix_socket_path=server.unix_path, password=server.password) as a:
        await a.execute_command("CONFIG", "SET", "requirepass", password)
