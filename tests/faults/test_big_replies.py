"""Huge replies that trickle in or are cut off mid-way (through tests/proxy.py).

Before: a big reply trickling in held every other caller of the client for
as long as it took, and giving up on the big call freed nobody (its reply was
still read and dropped, in order). Now callers queued behind it wait at most
their own timeouts, and once the big call is abandoned the next calls go to a
fresh connection.

The issue speaks of 100 MB; CI uses 32 MiB at 4 MiB/s (8 s to stream), which
is long enough to show the same thing. bench/hol.py measures 100 MB.
"""

from __future__ import annotations

import asyncio
import random
import statistics
import time
from collections.abc import AsyncIterator, Iterator

import pytest

import redspec
from tests.faults.helpers import report, until
from tests.proxy import FaultProxy
from tests.servers import RedisServer

HUGE = 32 << 20
RATE = 4 << 20
TIMEOUT = 1.0


@pytest.fixture
def proxy(redis8: RedisServer) -> Iterator[FaultProxy]:
    with FaultProxy(redis8.host, redis8.port) as p:
        yield p


@pytest.fixture
async def admin(redis8: RedisServer) -> AsyncIterator[redspec.Redis[bytes]]:
    r = redspec.Redis(redis8.host, redis8.port)
    yield r
    await r.delete("big:huge", "big:small", "big:mid")
    await r.aclose()


async def test_trickled_huge_reply_holds_nobody_beyond_their_timeouts(
    proxy: FaultProxy, admin: redspec.Redis[bytes]
) -> None:
    await admin.set("big:huge", b"x" * HUGE)
    await admin.set("big:small", b"s")
    r = redspec.Redis(proxy.host, proxy.port, command_timeout=TIMEOUT)
    try:
        assert await r.get("big:small") == b"s"
        proxy.trickle(RATE, chunk=64 << 10)
        huge = asyncio.ensure_future(r.get("big:huge"))
        await until(lambda: proxy.bytes_to_client > 1 << 20, what="the huge reply streaming")
        # Queued behind the huge reply: bounded by their own timeouts.
        t0 = time.monotonic()
        behind = await asyncio.gather(
            *(r.get("big:small") for _ in range(20)), return_exceptions=True
        )
        assert time.monotonic() - t0 < TIMEOUT + 0.5
        assert all(isinstance(b, redspec.TimeoutError) or b == b"s" for b in behind), behind
        with pytest.raises(redspec.TimeoutError):
            await huge
        # Abandoned: small calls now go to a fresh connection, at once.
        latencies = []
        for _ in range(30):
            t = time.monotonic()
            assert await r.get("big:small") == b"s"
            latencies.append(time.monotonic() - t)
        median = statistics.median(latencies)
        report(
            f"trickled {HUGE >> 20} MiB reply abandoned: small GET median "
            f"{median * 1000:.2f} ms, max {max(latencies) * 1000:.2f} ms"
        )
        assert median < 0.05, latencies
        # Nobody waits on the old connection any more: closed, no longer streaming.
        await until(lambda: proxy.open_connections == 1, what="the abandoned connection closed")
    finally:
        proxy.trickle(None)
        await r.aclose()


async def test_cancelled_huge_call_frees_the_connection_for_new_calls(
    proxy: FaultProxy, admin: redspec.Redis[bytes]
) -> None:
    await admin.set("big:huge", b"x" * HUGE)
    await admin.set("big:small", b"s")
    r = redspec.Redis(proxy.host, proxy.port, command_timeout=TIMEOUT)
    try:
        assert await r.get("big:small") == b"s"
        proxy.trickle(RATE, chunk=64 << 10)
        huge = asyncio.ensure_future(r.with_options(command_timeout=None).get("big:huge"))
        await until(lambda: proxy.bytes_to_client > 1 << 20, what="the huge reply streaming")
        old = r._core.conn
        assert old is not None
        huge.cancel()
        # Nobody else waits on that connection: closed, the rest not downloaded.
        await until(lambda: old.is_closed, timeout=TIMEOUT, what="the connection closed")
        t0 = time.monotonic()
        assert await r.get("big:small") == b"s"
        assert time.monotonic() - t0 < 0.5
        await until(lambda: proxy.open_connections == 1, what="one connection left")
    finally:
        proxy.trickle(None)
        await r.aclose()


async def test_resets_mid_reply_never_hand_out_a_wrong_reply(
    proxy: FaultProxy, admin: redspec.Redis[bytes]
) -> None:
    rng = random.Random(5)
    mid = b"".join(b"%08d" % i for i in range(64 << 10))  # 512 KiB, no two windows alike
    await admin.set("big:mid", mid)
    r = redspec.Redis(proxy.host, proxy.port, command_timeout=5)
    lost = wrong = 0
    try:
        for round_ in range(20):
            assert await r.ping() == b"PONG"
            proxy.reset_after(rng.randrange(1, len(mid)))
            calls = [r.get("big:mid"), *(r.echo(f"{round_}:{i}") for i in range(20))]
            results = await asyncio.gather(*calls, return_exceptions=True)
            expected = [mid, *(f"{round_}:{i}".encode() for i in range(20))]
            for got, want in zip(results, expected):
                if isinstance(got, redspec.ConnectionError):
                    assert "may or may not" in str(got)
                    lost += 1
                elif got != want:
                    wrong += 1
            proxy.reset_after(1 << 40)
            assert await r.echo("after") == b"after"
        assert wrong == 0
        assert lost >= 20  # every round cut the big reply
        report(f"resets mid-reply: 20 rounds, {lost} calls lost, 0 wrong replies")
    finally:
        await r.aclose()
