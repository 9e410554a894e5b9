"""Cluster pipelines and transactions against real 3-primary clusters."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import pytest

import redspec
from redspec.cluster import RedisCluster
from tests.cluster.harness import Cluster, key_slot


@pytest.fixture(params=[3, 2], ids=["resp3", "resp2"])
async def rc(
    cluster: Cluster, request: pytest.FixtureRequest
) -> AsyncIterator[RedisCluster[bytes]]:
    client = RedisCluster.from_url(cluster.url, protocol=request.param)
    await client.flushall()
    yield client
    await client.aclose()


def total_calls(cluster: Cluster, command: str) -> int:
    total = 0
    for node in cluster.live_nodes():
        line = node.info("commandstats").get(f"cmdstat_{command}", "")
        if line:
            total += int(line.split("calls=")[1].split(",")[0])
    return total


async def test_pipeline_over_every_node_results_in_order(
    rc: RedisCluster[bytes], cluster: Cluster
) -> None:
    keys = cluster.keys_on_every_primary(3, prefix="p")
    async with rc.pipeline() as p:
        sets = [p.set(k, f"v-{k}") for k in keys]
        p.incr("counter")
        gets = [p.get(k) for k in reversed(keys)]
        mget = p.mget(*keys)  # several slots: split as on the client
        size = p.dbsize()  # a fan-out inside a pipeline
        p.echo("keyless")
        results = await p.execute()
    expected_gets = [f"v-{k}".encode() for k in reversed(keys)]
    assert results == [
        *[True] * len(keys),
        1,
        *expected_gets,
        [f"v-{k}".encode() for k in keys],
        len(keys) + 1,
        b"keyless",
    ]
    assert [s.result() for s in sets] == [True] * len(keys)
    assert [g.result() for g in gets] == expected_gets
    assert mget.result()[0] == f"v-{keys[0]}".encode()
    assert size.result() == len(keys) + 1


async def test_a_large_pipeline_across_nodes(rc: RedisCluster[bytes]) -> None:
    async with rc.pipeline() as p:
        for i in range(3000):
            p.set(f"big:{i}", i)
        results = await p.execute()
    assert results == [True] * 3000
    assert await rc.dbsize() == 3000
    values = await rc.mget(*[f"big:{i}" for i in range(3000)])
    assert values == [str(i).encode() for i in range(3000)]


async def test_error_replies_stay_in_place(rc: RedisCluster[bytes], cluster: Cluster) -> None:
    a, b, c = cluster.keys_on_every_primary(1, prefix="e")
    await rc.set(a, "text")
    async with rc.pipeline() as p:
        p.set(b, 1)
        bad = p.incr(a)
        p.get(c)
        results = await p.execute(raise_on_error=False)
    assert results[0] is True
    assert isinstance(results[1], redspec.ResponseError)
    assert results[2] is None
    with pytest.raises(redspec.ResponseError):
        bad.result()
    async with rc.pipeline() as p:
        p.incr(a)
        with pytest.raises(redspec.ResponseError):
            await p.execute()


async def test_cross_slot_command_refused_when_queued(
    rc: RedisCluster[bytes], cluster: Cluster
) -> None:
    a, b, _ = cluster.keys_on_every_primary(1, prefix="cs")
    async with rc.pipeline() as p:
        with pytest.raises(redspec.CrossSlotError, match="RENAME"):
            p.rename(a, b)
        assert len(p) == 0


async def test_transaction_on_one_slot(rc: RedisCluster[bytes], cluster: Cluster) -> None:
    owner = cluster.slot_owner(key_slot("{acct}"))
    execs = total_calls(cluster, "exec")
    owner_execs = owner.info("commandstats").get("cmdstat_exec")
    async with rc.pipeline(transaction=True) as p:
        p.set("{acct}:a", 10)
        p.incrby("{acct}:a", 5)
        p.mget("{acct}:a", "{acct}:b")  # multi_shard, one slot: fine
        results = await p.execute()
    assert results == [True, 15, [b"15", None]]
    assert total_calls(cluster, "exec") == execs + 1
    assert owner.info("commandstats").get("cmdstat_exec") != owner_execs


async def test_cross_slot_transaction_refused_before_sending(
    rc: RedisCluster[bytes], cluster: Cluster
) -> None:
    a, b, _ = cluster.keys_on_every_primary(1, prefix="tx")
    multis = total_calls(cluster, "multi")
    async with rc.pipeline(transaction=True) as p:
        p.set(a, 1)
        with pytest.raises(redspec.CrossSlotError, match="transaction"):
            p.set(b, 1)
        with pytest.raises(redspec.CrossSlotError):
            p.mget(a, b)
        with pytest.raises(redspec.DataError, match="every node"):
            p.dbsize()
    assert total_calls(cluster, "multi") == multis
    assert await rc.exists(a, b) == 0


async def test_watch_flow_and_watch_error(rc: RedisCluster[bytes]) -> None:
    await rc.set("{w}:n", 1)
    async with rc.pipeline(transaction=True) as p:
        await p.watch("{w}:n")
        value = int(await p.get("{w}:n") or 0)
        p.multi()
        p.set("{w}:n", value + 1)
        assert await p.execute() == [True]
    assert await rc.get("{w}:n") == b"2"
    async with rc.pipeline(transaction=True) as p:
        await p.watch("{w}:n")
        await rc.set("{w}:n", 100)  # changed behind the watcher's back
        p.multi()
        p.set("{w}:n", 3)
        with pytest.raises(redspec.WatchError):
            await p.execute()
    assert await rc.get("{w}:n") == b"100"
    async with rc.pipeline(transaction=True) as p:
        with pytest.raises(redspec.CrossSlotError):
            await p.watch("{w}:n", "{other}:n")


async def test_transaction_helper(rc: RedisCluster[bytes]) -> None:
    await rc.set("{h}:x", 5)

    async def double(pipe: redspec.Pipeline[bytes]) -> None:
        current = int(await pipe.get("{h}:x") or 0)
        pipe.multi()
        pipe.set("{h}:x", current * 2)

    await rc.transaction(double, "{h}:x")
    assert await rc.get("{h}:x") == b"10"


async def test_blocking_command_in_a_pipeline_runs_on_a_pooled_connection(
    rc: RedisCluster[bytes],
) -> None:
    await rc.set("{q}:other", "x")

    async def blocked() -> list[object]:
        async with rc.pipeline() as p:
            p.blpop(["{q}:list"], timeout=1)
            return await p.execute()

    task = asyncio.ensure_future(blocked())
    await asyncio.sleep(0.1)
    # The same node answers other callers meanwhile: the shared connection is free.
    assert await asyncio.wait_for(rc.get("{q}:other"), 0.5) == b"x"
    await rc.rpush("{q}:list", "item")
    assert await task == [(b"{q}:list", b"item")]


async def test_scripts_in_a_cluster_pipeline(rc: RedisCluster[bytes], cluster: Cluster) -> None:
    keys = cluster.keys_on_every_primary(1, prefix="ps")
    script = rc.register_script("return redis.call('INCRBY', KEYS[1], ARGV[1])")
    await rc.script_flush()
    async with rc.pipeline() as p:
        for k in keys:
            script(keys=[k], args=[2], client=p)
        assert await p.execute() == [2, 2, 2]
    async with rc.pipeline(transaction=True) as p:
        script(keys=["{s}:k"], args=[3], client=p)
        p.get("{s}:k")
        assert await p.execute() == [3, b"3"]
