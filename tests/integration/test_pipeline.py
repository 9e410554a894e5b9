"""Pipelines (transaction=False) against Redis 8, and the seed's non-blocking cases.

Runs under both the default event loop and uvloop.
"""

from __future__ import annotations

import asyncio
import time
from typing import Any

import pytest

import redspec
from tests.conftest import LOOP_POLICIES, loop_policy
from tests.servers import RedisServer

pytestmark = pytest.mark.filterwarnings(
    'ignore:Overriding the "event_loop_policy":DeprecationWarning'
)


@pytest.fixture(params=LOOP_POLICIES)
def event_loop_policy(request: pytest.FixtureRequest) -> asyncio.AbstractEventLoopPolicy:
    return loop_policy(request.param)


class _CountingTransport:
    """Wraps a transport and counts its writes."""

    def __init__(self, inner: Any) -> None:
        self.inner = inner
        self.writes: list[bytes] = []

    def write(self, data: bytes) -> None:
        self.writes.append(bytes(data))
        self.inner.write(data)

    def __getattr__(self, name: str) -> Any:
        return getattr(self.inner, name)


async def _count_writes(r: redspec.Redis[Any]) -> _CountingTransport:
    conn = await r._core.connection()
    counting = _CountingTransport(conn._transport)
    conn._transport = counting  # type: ignore[assignment]
    return counting


async def test_results_in_order_and_pending_handles(
    any_protocol_client: redspec.Redis[bytes],
) -> None:
    r = any_protocol_client
    async with r.pipeline(transaction=False) as p:
        a = p.set("a", 1)
        b = p.get("a")
        c = p.incr("n")
        d = p.hset("h", mapping={"f": "v"})
        e = p.hgetall("h")
        f = p.zadd("z", {"m": 1.5})
        g = p.zrange("z", 0, -1, withscores=True)
        h = p.get("missing")
        with pytest.raises(redspec.RedisError, match="not been executed"):
            b.result()
        assert len(p) == 8
        results = await p.execute()
    assert results == [True, b"1", 1, 1, {b"f": b"v"}, 1, [(b"m", 1.5)], None]
    assert (a.result(), b.result(), c.result(), d.result()) == (True, b"1", 1, 1)
    assert (e.result(), f.result(), g.result(), h.result()) == (
        {b"f": b"v"},
        1,
        [(b"m", 1.5)],
        None,
    )
    assert len(p) == 0


async def test_decoded_pipeline(redis8: RedisServer) -> None:
    async with redspec.Redis(redis8.host, redis8.port, decode_responses=True, protocol=2) as r:
        p = r.pipeline(transaction=False)
        p.set("dk", "é")
        got = p.get("dk")
        assert await p.execute() == [True, "é"]
        assert got.result() == "é"


async def test_whole_batch_in_one_write(client: redspec.Redis[bytes]) -> None:
    counting = await _count_writes(client)
    p = client.pipeline(transaction=False)
    for i in range(10):
        p.set(f"k{i}", i)
    p.mget(*[f"k{i}" for i in range(10)])
    results = await p.execute()
    assert results[-1] == [str(i).encode() for i in range(10)]
    assert len(counting.writes) == 1
    assert counting.writes[0].count(b"SET") == 10


async def test_error_raised_after_all_replies(client: redspec.Redis[bytes]) -> None:
    await client.set("s", "text")
    p = client.pipeline(transaction=False)
    p.set("before", 1)
    bad = p.incr("s")
    p.set("after", 2)
    with pytest.raises(redspec.ResponseError, match="not an integer"):
        await p.execute()
    # The commands after the failed one ran, and their replies were read:
    assert await client.get("after") == b"2"
    with pytest.raises(redspec.ResponseError):
        bad.result()
    assert client._core.conn is not None and client._core.conn.pending == 0


async def test_error_returned_in_place(client: redspec.Redis[bytes]) -> None:
    await client.set("s", "text")
    p = client.pipeline(transaction=False)
    p.set("x", 1)
    bad = p.incr("s")
    p.lpush("s", "v")
    p.get("x")
    results = await p.execute(raise_on_error=False)
    assert results[0] is True and results[3] == b"1"
    assert isinstance(results[1], redspec.ResponseError)
    assert isinstance(results[2], redspec.WrongTypeError)
    assert results[2].code == "WRONGTYPE"
    with pytest.raises(redspec.ResponseError):
        bad.result()


async def test_empty_pipeline_and_reuse(client: redspec.Redis[bytes]) -> None:
    p = client.pipeline(transaction=False)
    assert p and await p.execute() == []
    p.incr("r")
    assert await p.execute() == [1]
    p.incr("r")
    assert await p.execute() == [2]  # the queue was emptied by the first execute


async def test_shared_connection_with_concurrent_users(client: redspec.Redis[bytes]) -> None:
    async def counter(i: int) -> None:
        for _ in range(50):
            await client.incr(f"c{i}")

    async def batcher(i: int) -> list[Any]:
        p = client.pipeline(transaction=False)
        for j in range(20):
            p.set(f"p{i}:{j}", j)
            p.get(f"p{i}:{j}")
        return await p.execute()

    got = await asyncio.gather(*(counter(i) for i in range(10)), *(batcher(i) for i in range(10)))
    for results in got[10:]:
        assert results == [x for j in range(20) for x in (True, str(j).encode())]
    assert [await client.get(f"c{i}") for i in range(10)] == [b"50"] * 10


async def test_blocking_command_in_pipeline_does_not_stall_shared_connection(
    client: redspec.Redis[bytes],
) -> None:
    p = client.pipeline(transaction=False)
    p.set("before", 1)
    popped = p.blpop(["bq"], timeout=2)
    batch = asyncio.ensure_future(p.execute())
    await asyncio.sleep(0.05)
    t0 = time.monotonic()
    assert await client.echo("free") == b"free"
    assert time.monotonic() - t0 < 0.5
    assert not batch.done()
    await client.rpush("bq", "x")
    assert await batch == [True, (b"bq", b"x")]
    assert popped.result() == (b"bq", b"x")


async def test_pipeline_timeout_leaves_client_usable(client: redspec.Redis[bytes]) -> None:
    r = client.with_options(command_timeout=0.2)
    p = r.pipeline(transaction=False)
    p.execute_command("DEBUG", "SLEEP", "0.4")
    p.set("late", 1)
    with pytest.raises(redspec.TimeoutError):
        await p.execute()
    # The late replies are dropped, not handed to the next callers.
    assert await client.echo("mine") == b"mine"
    assert await client.get("late") == b"1"


async def test_cancelled_pipeline_does_not_desynchronise(client: redspec.Redis[bytes]) -> None:
    p = client.pipeline(transaction=False)
    p.execute_command("DEBUG", "SLEEP", "0.2")
    for i in range(5):
        p.set(f"x{i}", i)
    task = asyncio.ensure_future(p.execute())
    await asyncio.sleep(0.05)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    assert await client.echo("next") == b"next"
    assert await client.get("x4") == b"4"


async def test_ten_op_pipeline_speedup(
    client: redspec.Redis[bytes], capsys: pytest.CaptureFixture[str]
) -> None:
    rounds = 150

    async def sequential() -> None:
        for i in range(10):
            await client.set(f"k{i}", i)

    async def pipelined() -> None:
        p = client.pipeline(transaction=False)
        for i in range(10):
            p.set(f"k{i}", i)
        await p.execute()

    async def timed(fn: Any) -> float:
        t0 = time.perf_counter()
        for _ in range(rounds):
            await fn()
        return time.perf_counter() - t0

    await sequential()
    await pipelined()
    # Interleaved, best of 7: a burst of load on a shared machine hits both alike.
    seq, pipe = float("inf"), float("inf")
    for _ in range(7):
        seq = min(seq, await timed(sequential))
        pipe = min(pipe, await timed(pipelined))
    speedup = seq / pipe
    with capsys.disabled():
        print(
            f"\n10-op pipeline: {pipe / rounds * 1e6:.0f} us vs 10 awaited commands "
            f"{seq / rounds * 1e6:.0f} us: {speedup:.1f}x"
        )
    assert speedup > 1.5


async def test_timer_ticks_during_blocking_command(client: redspec.Redis[bytes]) -> None:
    ticks = 0

    async def timer() -> None:
        nonlocal ticks
        while True:
            await asyncio.sleep(0.01)
            ticks += 1

    ticker = asyncio.ensure_future(timer())
    try:
        blocked = asyncio.ensure_future(client.blpop(["never"], timeout=0.5))
        t0 = time.monotonic()
        done = 0
        while not blocked.done():
            assert await client.incr("during") == done + 1
            done += 1
            await asyncio.sleep(0.005)
        assert await blocked is None
        elapsed = time.monotonic() - t0
    finally:
        ticker.cancel()
    assert 0.45 < elapsed < 1.0
    assert ticks >= 25  # ~50 expected: the loop was never blocked
    assert done >= 25


async def test_twenty_blocking_pops_in_parallel(client: redspec.Redis[bytes]) -> None:
    t0 = time.monotonic()
    pops = [asyncio.ensure_future(client.blpop([f"q{i}"], timeout=2)) for i in range(20)]
    await asyncio.sleep(0.3)
    for i in range(20):
        await client.rpush(f"q{i}", i)
    got = await asyncio.gather(*pops)
    elapsed = time.monotonic() - t0
    assert got == [(f"q{i}".encode(), str(i).encode()) for i in range(20)]
    assert elapsed < 1.0  # in parallel: not 20 x anything
    pool = client._core.pool
    assert pool.size == 20 and pool._busy == 0  # all back, idle
    t0 = time.monotonic()
    timeouts = await asyncio.gather(*(client.blpop([f"e{i}"], timeout=0.3) for i in range(20)))
    assert timeouts == [None] * 20
    assert time.monotonic() - t0 < 0.9  # 20 x 0.3 s would be 6 s


async def test_blocking_pop_cancelled_in_every_state_leaks_no_slot(
    redis8: RedisServer,
) -> None:
    async with redspec.Redis(redis8.host, redis8.port, max_connections=1) as r:
        pool = r._core.pool
        # Reading: blocked in the server.
        t = asyncio.ensure_future(r.blpop(["cq"], timeout=0))
        await asyncio.sleep(0.05)
        assert pool._busy == 1
        # Connecting: waiting for the only slot.
        waiting = asyncio.ensure_future(r.blpop(["cq2"], timeout=0))
        await asyncio.sleep(0.05)
        waiting.cancel()
        t.cancel()
        await asyncio.gather(t, waiting, return_exceptions=True)
        assert pool._busy == 0
        await r.rpush("cq", "v")
        assert await r.blpop(["cq"], timeout=1) == (b"cq", b"v")
        assert pool.size == 1 and pool._busy == 0
