"""SCAN-family iterators and the Lock, against Redis 8."""

from __future__ import annotations

import asyncio
import time

import pytest

import redspec
from redspec.lock import LockNotOwnedError
from tests.conftest import LOOP_POLICIES, loop_policy
from tests.servers import RedisServer

pytestmark = pytest.mark.filterwarnings(
    'ignore:Overriding the "event_loop_policy":DeprecationWarning'
)


@pytest.fixture(params=LOOP_POLICIES)
def event_loop_policy(request: pytest.FixtureRequest) -> asyncio.AbstractEventLoopPolicy:
    return loop_policy(request.param)


async def _scan_calls(r: redspec.Redis[bytes]) -> int:
    info = await r.execute_command("INFO", "commandstats")
    for line in info.decode().splitlines():
        if line.startswith("cmdstat_scan:"):
            return int(line.split("calls=")[1].split(",")[0])
    return 0


async def test_scan_iter_pages_match_and_type(client: redspec.Redis[bytes]) -> None:
    p = client.pipeline(transaction=False)
    for i in range(300):
        p.set(f"str:{i}", i)
    for i in range(20):
        p.rpush(f"list:{i}", i)
    await p.execute()
    await client.execute_command("CONFIG", "RESETSTAT")
    keys = [k async for k in client.scan_iter(count=50)]
    calls = await _scan_calls(client)
    assert set(keys) == {f"str:{i}".encode() for i in range(300)} | {
        f"list:{i}".encode() for i in range(20)
    }
    assert calls > 3  # several pages
    await client.execute_command("CONFIG", "RESETSTAT")
    async for _ in client.scan_iter(count=10):
        break
    assert await _scan_calls(client) == 1  # fetched on demand
    assert {k async for k in client.scan_iter(match="list:*")} == {
        f"list:{i}".encode() for i in range(20)
    }
    assert {k async for k in client.scan_iter(type="list", count=100)} == {
        f"list:{i}".encode() for i in range(20)
    }


async def test_hscan_sscan_zscan(any_protocol_client: redspec.Redis[bytes]) -> None:
    r = any_protocol_client
    await r.hset("h", mapping={f"f{i}": i for i in range(200)})
    await r.sadd("s", *[f"m{i}" for i in range(200)])
    await r.zadd("z", {f"z{i}": i / 2 for i in range(200)})
    pairs = [pair async for pair in r.hscan_iter("h", count=20)]
    assert dict(pairs) == {f"f{i}".encode(): str(i).encode() for i in range(200)}
    assert {m async for m in r.sscan_iter("s", match="m1*")} == {
        f"m{i}".encode() for i in range(200) if str(i).startswith("1")
    }
    scored = [pair async for pair in r.zscan_iter("z", count=20)]
    assert dict(scored) == {f"z{i}".encode(): i / 2 for i in range(200)}
    assert all(isinstance(score, float) for _, score in scored)
    assert [x async for x in r.sscan_iter("missing")] == []


async def test_scan_iter_decoded(redis8: RedisServer) -> None:
    async with redspec.Redis(redis8.host, redis8.port, decode_responses=True) as r:
        await r.hset("dh", mapping={"é": "ü"})
        assert [p async for p in r.hscan_iter("dh")] == [("é", "ü")]


async def test_lock_acquire_release_and_contention(client: redspec.Redis[bytes]) -> None:
    a = client.lock("res", timeout=5)
    b = client.lock("res", timeout=5)
    assert await a.acquire()
    assert await a.owned() and await a.locked()
    assert not await b.acquire(blocking=False)
    t0 = time.monotonic()
    assert not await b.acquire(blocking_timeout=0.2)
    assert 0.15 < time.monotonic() - t0 < 0.5
    assert not await b.owned()
    with pytest.raises(redspec.LockError):
        await a.acquire()  # not reentrant
    await a.release()
    assert not await a.locked()
    with pytest.raises(LockNotOwnedError):
        await a.release()
    assert await b.acquire(blocking=False)
    await b.release()


async def test_lock_waits_for_release(client: redspec.Redis[bytes]) -> None:
    holder = client.lock("wait", timeout=5)
    await holder.acquire()

    async def release_later() -> None:
        await asyncio.sleep(0.15)
        await holder.release()

    task = asyncio.ensure_future(release_later())
    t0 = time.monotonic()
    async with client.lock("wait", timeout=5, sleep=0.02, blocking_timeout=2) as lock:
        assert 0.1 < time.monotonic() - t0 < 1.0
        assert await lock.owned()
    assert not await client.exists("wait")
    await task
    async with client.lock("wait", timeout=5):
        with pytest.raises(redspec.LockError, match="in time"):
            async with client.lock("wait", blocking_timeout=0.05):
                pass


async def test_lock_expiry_extend_and_release_of_an_expired_lock(
    client: redspec.Redis[bytes],
) -> None:
    lock = client.lock("exp", timeout=0.2)
    await lock.acquire()
    assert 0 < await client.pttl("exp") <= 200
    await lock.extend(1)
    assert 1000 < await client.pttl("exp") <= 1200
    await lock.extend(0.5, replace_ttl=True)
    assert 0 < await client.pttl("exp") <= 500
    await client.pexpire("exp", 50)
    await asyncio.sleep(0.1)
    other = client.lock("exp", timeout=5)
    assert await other.acquire(blocking=False)  # it expired: another holder took it
    with pytest.raises(LockNotOwnedError):
        await lock.release()  # must not delete the other holder's lock
    assert await other.owned()
    with pytest.raises(LockNotOwnedError):
        await lock.extend(1)
    await other.release()


async def test_cancelled_acquire_leaves_no_lock_behind(
    client: redspec.Redis[bytes], redis8: RedisServer
) -> None:
    async with redspec.Redis(redis8.host, redis8.port) as busy:
        sleeping = asyncio.ensure_future(busy.execute_command("DEBUG", "SLEEP", "0.2"))
        await asyncio.sleep(0.05)
        lock = client.lock("cancelled")  # no timeout: a stray hold would last forever
        task = asyncio.ensure_future(lock.acquire())
        await asyncio.sleep(0.05)  # SET sent, the server still asleep
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
        await sleeping
    # The SET ran after the cancel; the abandoned hold was released right after it.
    assert await client.exists("cancelled") == 0


async def test_lock_on_decoded_client(redis8: RedisServer) -> None:
    async with redspec.Redis(redis8.host, redis8.port, decode_responses=True) as r:
        async with r.lock("dl", timeout=1) as lock:
            assert await lock.owned()
        assert not await r.exists("dl")
