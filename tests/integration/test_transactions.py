"""Transactions: MULTI/EXEC on an exclusive connection, the WATCH flow, the
``transaction()`` helper, and the connection going back to the pool clean on
every exit path (cancellation included). Against Redis 8.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
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


@pytest.fixture
async def one_slot(redis8: RedisServer) -> AsyncIterator[redspec.Redis[bytes]]:
    """A client whose pool has a single exclusive connection: a leaked slot shows at once."""
    r = redspec.Redis(redis8.host, redis8.port, max_connections=1, pool_timeout=1.0)
    await r.execute_command("FLUSHALL")
    yield r
    await r.aclose()


async def _watched_keys(r: redspec.Redis[Any]) -> int:
    """WATCHed keys on the pool's (only) idle connection, from CLIENT INFO (Redis 7.4+)."""
    async with r._exclusive() as conn:
        info = await conn.send(["CLIENT", "INFO"])
    text = info.decode() if isinstance(info, bytes) else info
    fields = dict(f.split("=", 1) for f in text.split() if "=" in f)
    return int(fields["watch"])


async def test_multi_exec_results_and_pendings(
    any_protocol_client: redspec.Redis[bytes],
) -> None:
    r = any_protocol_client
    async with r.pipeline(transaction=True) as p:
        a = p.set("a", 1)
        b = p.incr("a")
        c = p.hgetall("nothing")
        d = p.zrange("z", 0, -1, withscores=True)
        assert await p.execute() == [True, 2, {}, []]
    assert (a.result(), b.result(), c.result(), d.result()) == (True, 2, {}, [])
    assert r._core.pool._busy == 0


async def test_atomicity(client: redspec.Redis[bytes]) -> None:
    stop = False
    torn = 0

    async def reader() -> None:
        nonlocal torn
        while not stop:
            x, y = await client.mget("x", "y")
            torn += x != y

    async def writer(i: int) -> None:
        for j in range(30):
            p = client.pipeline(transaction=True)
            p.set("x", f"{i}:{j}")
            p.execute_command("DEBUG", "SLEEP", "0")
            p.set("y", f"{i}:{j}")
            await p.execute()

    readers = [asyncio.ensure_future(reader()) for _ in range(3)]
    await asyncio.gather(*(writer(i) for i in range(5)))
    stop = True
    await asyncio.gather(*readers)
    assert torn == 0

    # Another view: INCR then GET inside one transaction never sees a foreign INCR.
    async def incr_get() -> list[Any]:
        p = client.pipeline(transaction=True)
        p.incr("n")
        p.get("n")
        return await p.execute()

    for n, got in await asyncio.gather(*(incr_get() for _ in range(50))):
        assert got == str(n).encode()


async def test_error_reply_inside_exec(any_protocol_client: redspec.Redis[bytes]) -> None:
    r = any_protocol_client
    await r.set("s", "text")
    p = r.pipeline(transaction=True)
    p.set("t", 1)
    bad = p.incr("s")
    after = p.get("t")
    with pytest.raises(redspec.ResponseError, match="not an integer"):
        await p.execute()
    assert after.result() == b"1"
    with pytest.raises(redspec.ResponseError):
        bad.result()
    p.incr("s")
    p.lpush("s", "x")
    p.incr("t")
    results = await p.execute(raise_on_error=False)
    assert isinstance(results[0], redspec.ResponseError)
    assert isinstance(results[1], redspec.WrongTypeError)
    assert results[2] == 2
    assert r._core.pool._busy == 0


async def test_refused_while_queueing_runs_nothing(client: redspec.Redis[bytes]) -> None:
    p = client.pipeline(transaction=True)
    ok = p.set("q", 1)
    p.execute_command("SET", "only-a-key")  # wrong arity: refused at queue time
    with pytest.raises(redspec.ResponseError, match="wrong number of arguments"):
        await p.execute()
    with pytest.raises(redspec.ResponseError):
        ok.result()
    assert await client.exists("q") == 0  # EXECABORT: nothing ran
    assert client._core.pool._busy == 0


async def test_watch_flow_and_conflict(any_protocol_client: redspec.Redis[bytes]) -> None:
    r = any_protocol_client
    await r.set("k", 10)
    async with r.pipeline(transaction=True) as p:
        await p.watch("k")
        assert p.watching
        value = await p.get("k")  # immediate mode
        assert value == b"10"
        with pytest.raises(redspec.ResponseError):
            await p.hgetall("k")  # an immediate error raises at the await
        p.multi()
        q = p.set("k", int(value) + 1)
        assert await p.execute() == [True]
        assert q.result() is True
    assert await r.get("k") == b"11"

    async with r.pipeline(transaction=True) as p:
        await p.watch("k")
        await p.get("k")
        await r.set("k", 99)  # another connection changes it
        p.multi()
        lost = p.set("k", 12)
        with pytest.raises(redspec.WatchError):
            await p.execute()
        with pytest.raises(redspec.WatchError):
            lost.result()
    assert await r.get("k") == b"99"
    assert r._core.pool._busy == 0


async def test_watch_errors_and_empty_exec(one_slot: redspec.Redis[bytes]) -> None:
    r = one_slot
    with pytest.raises(redspec.RedisError, match="transactional"):
        await r.pipeline(transaction=False).watch("k")
    async with r.pipeline(transaction=True) as p:
        await p.watch("k")
        assert await p.execute() == []  # EXEC of nothing still checks the watch
        await p.watch("k")
        await r.set("k", 1)
        with pytest.raises(redspec.WatchError):
            await p.execute()
    assert await _watched_keys(r) == 0


async def test_connection_back_clean_after_exception_while_watching(
    one_slot: redspec.Redis[bytes],
) -> None:
    r = one_slot
    with pytest.raises(RuntimeError):
        async with r.pipeline(transaction=True) as p:
            await p.watch("a", "b")
            raise RuntimeError("user code failed")
    assert r._core.pool._busy == 0 and r._core.pool.size == 1
    assert await _watched_keys(r) == 0  # UNWATCH was sent: no stale WATCH on reuse
    # A bad argument fails before anything is sent: still UNWATCHed.
    with pytest.raises(redspec.DataError):
        async with r.pipeline(transaction=True) as p:
            await p.watch("a")
            p.multi()
            p.set("a", {"not": "encodable"})  # type: ignore[call-overload]
            await p.execute()
    assert await _watched_keys(r) == 0
    # And a later transaction on the same connection is not aborted by an old WATCH.
    await r.set("a", "changed")
    p2 = r.pipeline(transaction=True)
    p2.set("a", "mine")
    assert await p2.execute() == [True]


async def test_transaction_helper_retries(client: redspec.Redis[bytes]) -> None:
    await client.set("bal", 100)
    attempts = 0

    async def debit(p: redspec.Pipeline[bytes]) -> redspec.Pending[int]:
        nonlocal attempts
        attempts += 1
        bal = int(await p.get("bal") or 0)
        if attempts <= 2:
            await client.incr("bal")  # a concurrent writer wins twice
        p.multi()
        p.set("bal", bal - 30)
        return p.incr("debits")

    debits = await client.transaction(debit, "bal")
    assert attempts == 3
    assert debits.result() == 1
    assert await client.get("bal") == b"72"
    assert client._core.pool._busy == 0

    async def always_conflicts(p: redspec.Pipeline[bytes]) -> None:
        await p.get("bal")
        await client.incr("bal")
        p.multi()
        p.set("bal", 0)

    with pytest.raises(redspec.WatchError, match="2 retries"):
        await client.transaction(always_conflicts, "bal", retries=2)
    assert client._core.pool._busy == 0


async def test_cancel_while_connecting_watching_and_reading(
    one_slot: redspec.Redis[bytes],
) -> None:
    r = one_slot
    pool = r._core.pool

    # Connecting: the only slot is taken; the watch() waits for it, then is cancelled.
    async with r._exclusive():
        p = r.pipeline(transaction=True)
        t = asyncio.ensure_future(p.watch("k"))
        await asyncio.sleep(0.05)
        t.cancel()
        with pytest.raises(asyncio.CancelledError):
            await t
    assert pool._busy == 0

    # Watching: cancelled in an immediate await (the server is busy), inside async with.
    async def watching() -> None:
        async with r.pipeline(transaction=True) as p:
            await p.watch("k")
            await p.execute_command("DEBUG", "SLEEP", "0.2")

    t = asyncio.ensure_future(watching())
    await asyncio.sleep(0.05)
    t.cancel()
    with pytest.raises(asyncio.CancelledError):
        await t
    assert pool._busy == 0
    assert await _watched_keys(r) == 0

    # Reading: cancelled while EXEC's reply is awaited.
    async def reading() -> None:
        async with r.pipeline(transaction=True) as p:
            await p.watch("k")
            p.multi()
            p.execute_command("DEBUG", "SLEEP", "0.2")
            p.set("k", "from-cancelled")
            await p.execute()

    t = asyncio.ensure_future(reading())
    await asyncio.sleep(0.05)
    t.cancel()
    with pytest.raises(asyncio.CancelledError):
        await t
    assert pool._busy == 0
    # The slot is usable again, and no WATCH or MULTI is left on it.
    assert await _watched_keys(r) == 0
    p = r.pipeline(transaction=True)
    p.set("after", 1)
    assert await p.execute() == [True]
    assert pool.size == 1 and pool._busy == 0


async def test_transaction_on_decoded_resp2_client(redis8: RedisServer) -> None:
    async with redspec.Redis(redis8.host, redis8.port, decode_responses=True, protocol=2) as r:
        await r.delete("dk")

        async def fn(p: redspec.Pipeline[str]) -> None:
            current = await p.get("dk")
            assert current is None
            p.multi()
            p.set("dk", "v")
            p.get("dk")

        await r.transaction(fn, "dk")
        assert await r.get("dk") == "v"


async def test_transaction_timeout_closes_the_connection(one_slot: redspec.Redis[bytes]) -> None:
    r = one_slot.with_options(command_timeout=0.1)
    p = r.pipeline(transaction=True)
    p.execute_command("DEBUG", "SLEEP", "0.3")
    p.set("slow", 1)
    with pytest.raises(redspec.TimeoutError):
        await p.execute()
    pool = one_slot._core.pool
    assert pool._busy == 0 and pool.size == 0  # owed replies: closed, not reused
    p2 = one_slot.pipeline(transaction=True)
    p2.get("slow")
    assert await p2.execute() == [b"1"]  # the transaction did run, after the sleep
