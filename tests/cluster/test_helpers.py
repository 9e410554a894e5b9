"""ClientHelpers on a cluster: SCAN-family iterators, the lock, stream readers and consumers."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import pytest

import redspec
from redspec.cluster import RedisCluster
from tests.cluster.harness import Cluster, key_slot


@pytest.fixture
async def rc(cluster: Cluster) -> AsyncIterator[RedisCluster[bytes]]:
    client = RedisCluster.from_url(cluster.url)
    await client.flushall()
    yield client
    await client.aclose()


async def test_keyed_scan_iterators(rc: RedisCluster[bytes]) -> None:
    await rc.hset("h", mapping={f"f{i}": i for i in range(50)})
    await rc.sadd("s", *range(50))
    await rc.zadd("z", {f"m{i}": i for i in range(50)})
    assert dict([p async for p in rc.hscan_iter("h", count=7)]) == {
        f"f{i}".encode(): str(i).encode() for i in range(50)
    }
    assert {m async for m in rc.sscan_iter("s")} == {str(i).encode() for i in range(50)}
    assert sorted([p async for p in rc.zscan_iter("z")], key=lambda p: p[1])[:2] == [
        (b"m0", 0.0),
        (b"m1", 1.0),
    ]


async def test_lock_on_a_cluster(rc: RedisCluster[bytes], cluster: Cluster) -> None:
    async with rc.lock("resource", timeout=5) as lock:
        assert await rc.exists("resource") == 1
        other = rc.lock("resource", blocking_timeout=0.1)
        assert await other.acquire() is False
        assert lock.name == "resource"
    assert await rc.exists("resource") == 0


async def test_stream_consumer_and_reader_on_the_owner(
    rc: RedisCluster[bytes], cluster: Cluster
) -> None:
    for i in range(5):
        await rc.xadd("jobs", {"i": i})
    seen: list[bytes] = []
    async with rc.stream_consumer("jobs", "g", "w1", create=True, count=2, block=200) as jobs:
        async for entry in jobs:
            seen.append(entry.fields[b"i"])
            if len(seen) == 5:
                await jobs.ack(entry)
                break
    assert seen == [str(i).encode() for i in range(5)]
    reader = rc.stream_reader("jobs", block=3000)
    nxt = asyncio.ensure_future(reader.__anext__())
    owner = cluster.slot_owner(key_slot("jobs"))
    for _ in range(500):  # until the reader blocks in XREAD on the stream's owner
        if owner.info("clients").get("blocked_clients") == "1":
            break
        await asyncio.sleep(0.01)
    new_id = await rc.xadd("jobs", {"i": "new"})
    entry = await asyncio.wait_for(nxt, 5)
    assert entry.id == new_id and entry.fields == {b"i": b"new"}


async def test_transaction_helper_refuses_cross_slot_watch(rc: RedisCluster[bytes]) -> None:
    async def body(pipe: redspec.Pipeline[bytes]) -> None:
        pipe.multi()

    assert key_slot("a") != key_slot("b")
    with pytest.raises(redspec.CrossSlotError):
        await rc.transaction(body, "a", "b")
