"""After a server restart: how soon commands succeed, and how many pub/sub messages are lost.

The server is killed and started again after DOWN seconds; the client keeps
calling meanwhile (each call waits for the reconnect). Before, reconnect
attempts backed off (50 ms doubling), so the first success came up to half a
second (and, after a longer outage, seconds) after the server was ready, and
a subscriber missed what was published meanwhile. Now attempts come every
10-50 ms during the first seconds of an outage. bench/restart.py measures the
same against redis-py.
"""

from __future__ import annotations

import asyncio
import socket
import time
from collections.abc import Iterator

import pytest

import redspec
from tests.faults.helpers import report, until
from tests.servers import RedisServer, start_server

DOWN = 2.5  # long enough that a doubling backoff has grown past a second
MESSAGES = 100


@pytest.fixture
def own_server() -> Iterator[RedisServer]:
    with start_server("redis8") as server:
        yield server


def _restart_after(server: RedisServer, down: float) -> float:
    """Kill the server, start it again after ``down`` s; when it answers PING (monotonic)."""
    server.kill()
    time.sleep(down)
    server.start()  # returns once PING is answered
    return time.monotonic()


async def test_first_command_after_a_restart(own_server: RedisServer) -> None:
    r = redspec.Redis(own_server.host, own_server.port, command_timeout=10)
    try:
        assert await r.ping() == b"PONG"
        restart = asyncio.ensure_future(asyncio.to_thread(_restart_after, own_server, DOWN))
        await until(lambda: not own_server.running, what="the server killed")
        while True:
            try:
                await r.ping()
                break
            except redspec.ConnectionError:
                await asyncio.sleep(0.001)
        first_ok = time.monotonic()
        ready = await restart
        latency = first_ok - ready
        report(
            f"restart: first successful command {latency * 1000:.1f} ms after the server "
            f"answered PING (down {DOWN}s)"
        )
        # Target 0.1 s; ready is seen up to 20 ms late by the test's own probe.
        assert latency < 0.15, latency
    finally:
        await r.aclose()


def _publish_when_ready(server: RedisServer, channel: bytes, n: int, every: float) -> float:
    """Restart the server, then publish ``n`` messages from a raw socket, one every ``every`` s."""
    ready = _restart_after(server, DOWN)
    with socket.create_connection((server.host, server.port)) as s:
        f = s.makefile("rb")
        for i in range(n):
            payload = b"%d" % i
            s.sendall(
                b"*3\r\n$7\r\nPUBLISH\r\n$%d\r\n%s\r\n$%d\r\n%s\r\n"
                % (len(channel), channel, len(payload), payload)
            )
            f.readline()
            time.sleep(every)
    return ready


async def test_pubsub_resubscribes_as_soon_as_the_server_is_back(
    own_server: RedisServer,
) -> None:
    r = redspec.Redis(own_server.host, own_server.port)
    received: list[bytes] = []
    try:
        async with r.pubsub(ignore_subscribe_messages=True) as ps:
            await ps.subscribe("restart:ch")
            publisher = asyncio.ensure_future(
                asyncio.to_thread(_publish_when_ready, own_server, b"restart:ch", MESSAGES, 0.005)
            )
            await until(lambda: not own_server.running, what="the server killed")
            while not publisher.done():
                msg = await ps.get_message(timeout=0.05)
                if msg is not None and msg.kind == "message":
                    received.append(msg.data)
            await publisher
            while (msg := await ps.get_message(timeout=0.5)) is not None:
                if msg.kind == "message":
                    received.append(msg.data)
    finally:
        await r.aclose()
    lost = MESSAGES - len(received)
    report(
        f"restart: pub/sub lost {lost} of {MESSAGES} messages published 5 ms apart "
        "right after the server answered PING"
    )
    # Ordered and without duplicates; the first few may be lost (at-most-once).
    assert received == sorted(set(received), key=int)
    assert lost <= 15, lost
