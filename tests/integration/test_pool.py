"""Blocking commands and the exclusive-connection pool, against Redis 8."""

from __future__ import annotations

import asyncio
import random
import time

import pytest

import redspec
from tests.servers import RedisServer


def blpop(r: redspec.Redis[bytes], key: str, block: float) -> asyncio.Future[object]:
    return asyncio.ensure_future(r.blpop([key], block))


async def _push_later(server: RedisServer, delay: float, key: str, value: str) -> None:
    await asyncio.sleep(delay)
    async with redspec.Redis(server.host, server.port) as other:
        await other.execute_command("RPUSH", key, value)


async def test_7s_blpop_under_defaults(client: redspec.Redis[bytes], redis8: RedisServer) -> None:
    t0 = time.monotonic()
    pusher = asyncio.ensure_future(_push_later(redis8, 6.5, "q7", "late"))
    assert await blpop(client, "q7", 7) == (b"q7", b"late")
    assert 6.4 < time.monotonic() - t0 < 7.0
    await pusher


async def test_blpop_block_is_added_to_command_timeout(
    client: redspec.Redis[bytes], redis8: RedisServer
) -> None:
    r = client.with_options(command_timeout=1)
    pusher = asyncio.ensure_future(_push_later(redis8, 1.5, "q2", "v"))
    # 1.5 s > command_timeout, but < command_timeout + block: not a timeout.
    assert await blpop(r, "q2", 2) == (b"q2", b"v")
    await pusher
    t0 = time.monotonic()
    assert await blpop(r, "q2", 0.3) is None  # the server's own timeout, not ours
    assert time.monotonic() - t0 < 1.0


async def test_blocking_forever_has_no_timeout(client: redspec.Redis[bytes]) -> None:
    r = client.with_options(command_timeout=0.1)
    waiting = blpop(r, "forever", 0)
    await asyncio.sleep(0.4)
    assert not waiting.done()
    await client.execute_command("RPUSH", "forever", "x")
    assert await waiting == (b"forever", b"x")


async def test_blocking_does_not_hold_up_the_shared_connection(
    client: redspec.Redis[bytes],
) -> None:
    waiting = blpop(client, "qq", 5)
    await asyncio.sleep(0.05)
    assert await client.execute_command("ECHO", "free") == b"free"
    await client.execute_command("RPUSH", "qq", "1")
    assert await waiting == (b"qq", b"1")


async def test_pooled_connection_is_reused(client: redspec.Redis[bytes]) -> None:
    await client.execute_command("RPUSH", "r", "1", "2")
    async with client._exclusive() as a:
        first = await a.send(["CLIENT", "ID"])
    assert await blpop(client, "r", 1) == (b"r", b"1")
    async with client._exclusive() as b:
        assert await b.send(["CLIENT", "ID"]) == first
        b.close()  # e.g. a session that cannot undo its state
    async with client._exclusive() as c:
        assert await c.send(["CLIENT", "ID"]) != first
    assert client._core.pool.size == 1


async def test_cancelled_blpop_connection_is_discarded(client: redspec.Redis[bytes]) -> None:
    waiting = blpop(client, "c", 0)
    await asyncio.sleep(0.05)
    waiting.cancel()
    await asyncio.sleep(0.05)
    assert client._core.pool.size == 0  # closed, so the server unblocked it
    await client.execute_command("RPUSH", "c", "kept")
    # Had the connection gone back to the pool, its stale BLPOP would have
    # taken "kept" and the reply would have been dropped.
    assert await blpop(client, "c", 1) == (b"c", b"kept")


async def test_timed_out_blocking_call_discards_its_connection(
    client: redspec.Redis[bytes],
) -> None:
    r = client.with_options(command_timeout=0.1)
    assert await blpop(r, "t", 0.1) is None  # the pool now holds an open connection
    assert client._core.pool.size == 1
    # DEBUG SLEEP keeps the server from answering within 0.1 + 0.1 s.
    sleeper = asyncio.ensure_future(client.execute_command("DEBUG", "SLEEP", 0.4))
    await asyncio.sleep(0.02)
    with pytest.raises(redspec.TimeoutError, match="BLPOP"):
        await r._call_blocking(["BLPOP", "t", 0.1], 0.1)
    await sleeper
    assert client._core.pool.size == 0
    await asyncio.sleep(0.3)
    assert await blpop(client, "t", 0.1) is None


async def test_pool_exhaustion_raises_pool_timeout(redis8: RedisServer) -> None:
    r = redspec.Redis(redis8.host, redis8.port, max_connections=2, pool_timeout=0.3)
    try:
        holders = [blpop(r, f"h{i}", 5) for i in range(2)]
        await asyncio.sleep(0.05)
        t0 = time.monotonic()
        with pytest.raises(redspec.PoolTimeoutError, match="max_connections"):
            await r._call_blocking(["BLPOP", "h3", 1], 1)
        assert 0.25 < time.monotonic() - t0 < 0.6
        # A waiter is served as soon as a connection frees up.
        third = blpop(r, "h3", 2)
        await asyncio.sleep(0.05)
        await r.execute_command("RPUSH", "h0", "x")
        assert await holders[0] == (b"h0", b"x")
        await r.execute_command("RPUSH", "h3", "y")
        assert await third == (b"h3", b"y")
        assert r._core.pool.size == 2
        holders[1].cancel()
    finally:
        await r.execute_command("DEL", "h0", "h3")
        await r.aclose()


async def test_cancelled_pool_waiter_passes_its_turn(redis8: RedisServer) -> None:
    r = redspec.Redis(redis8.host, redis8.port, max_connections=1, pool_timeout=2)
    try:
        holder = blpop(r, "w0", 5)
        await asyncio.sleep(0.05)
        impatient = blpop(r, "w1", 1)
        patient = blpop(r, "w2", 1)
        await asyncio.sleep(0.05)
        impatient.cancel()
        await r.execute_command("RPUSH", "w0", "a")
        await holder
        await r.execute_command("RPUSH", "w2", "b")
        assert await patient == (b"w2", b"b")
        assert r._core.pool.size == 1
    finally:
        await r.aclose()


async def test_pool_stress_with_cancellations_keeps_its_bound(redis8: RedisServer) -> None:
    r = redspec.Redis(redis8.host, redis8.port, max_connections=3, pool_timeout=5)
    pool = r._core.pool
    rnd = random.Random(3)
    served = 0
    biggest = 0

    async def user(i: int) -> None:
        nonlocal served, biggest
        async with r._exclusive() as conn:
            biggest = max(biggest, pool.size)
            assert await conn.send(["ECHO", str(i)]) == str(i).encode()
            await asyncio.sleep(rnd.random() / 100)
            served += 1

    try:
        tasks = [asyncio.ensure_future(user(i)) for i in range(200)]
        for _ in range(20):
            await asyncio.sleep(0.005)
            for t in rnd.sample(tasks, 5):
                t.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        assert biggest <= 3
        assert served > 50
        assert pool.size <= 3
        assert pool._busy == 0 and not pool._leased
        assert all(w.done() for w in pool._waiters)
        # Still fully usable: three at once.
        await asyncio.gather(*(user(i) for i in range(3)))
    finally:
        await r.aclose()
