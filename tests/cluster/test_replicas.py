"""read_from_replicas against real 3 primaries + 3 replicas clusters."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import pytest

from redspec.cluster import RedisCluster
from tests.cluster.harness import Cluster, ClusterNode, key_slot, start_cluster


def calls(node: ClusterNode, command: str) -> int:
    line = node.info("commandstats").get(f"cmdstat_{command}", "")
    return int(line.split("calls=")[1].split(",")[0]) if line else 0


async def wait_for_replicas(rc: RedisCluster[bytes], count: int) -> None:
    """Until the client's table lists ``count`` replicas. On a loaded machine a node
    may flag a replica as failing for a moment (1.5 s node timeout), and a
    table read then leaves it out."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + 20
    while len(rc.replicas()) != count:
        assert loop.time() < deadline, f"{len(rc.replicas())} replicas known, not {count}"
        await asyncio.sleep(0.05)
        await rc.initialize()


@pytest.fixture(params=[3, 2], ids=["resp3", "resp2"])
async def rc(
    replicated_cluster: Cluster, request: pytest.FixtureRequest
) -> AsyncIterator[RedisCluster[bytes]]:
    client = RedisCluster.from_url(
        replicated_cluster.url, protocol=request.param, read_from_replicas=True
    )
    await client.flushall()
    yield client
    await client.aclose()


async def test_reads_reach_the_replicas(
    rc: RedisCluster[bytes], replicated_cluster: Cluster
) -> None:
    cluster = replicated_cluster
    keys = cluster.keys_on_every_primary(10, prefix="rr")
    await rc.mset({k: f"v-{k}" for k in keys})
    # WAIT fans out to every primary (agg_min): each has its replica in sync.
    assert await rc.wait(1, 5000) == 1
    await wait_for_replicas(rc, 3)
    for node in cluster.live_nodes():
        node.command("CONFIG", "RESETSTAT")
    for _ in range(3):
        assert await asyncio.gather(*(rc.get(k) for k in keys)) == [
            f"v-{k}".encode() for k in keys
        ]
    primaries = cluster.primaries()
    replicas = [r for p in primaries for r in cluster.replicas_of(p)]
    assert [calls(p, "get") for p in primaries] == [0, 0, 0]
    assert sum(calls(r, "get") for r in replicas) == 3 * len(keys)
    assert all(calls(r, "get") > 0 for r in replicas)
    # Writes, and reads sent as raw commands (treated as writes), go to the primaries.
    await rc.set(keys[0], "new")
    assert await rc.execute_command("GET", keys[0]) == b"new"
    assert sum(calls(p, "get") for p in primaries) == 1


async def test_replica_handles_and_readonly(
    rc: RedisCluster[bytes], replicated_cluster: Cluster
) -> None:
    await wait_for_replicas(rc, 3)
    for handle in rc.replicas():
        assert not handle.is_primary  # type: ignore[attr-defined]
        # READONLY was sent on connect: the replica serves reads of its primary's slots.
        info = await handle.execute_command("CLIENT", "INFO")
        assert b"flags=r" in info
    await rc.set("hk", 1)
    await rc.wait(1, 5000)
    replica = rc.node_for_key("hk", replica=True)
    assert await replica.get("hk") == b"1"
    primary = rc.node_for_key("hk")
    assert primary.settings.port == replicated_cluster.slot_owner(key_slot("hk")).port


async def test_reads_fall_back_to_the_primary_when_the_replica_dies() -> None:
    cluster = await asyncio.to_thread(start_cluster, "redis8", 3, 1)
    try:
        keys = cluster.keys_on_every_primary(5, prefix="fb")
        async with RedisCluster.from_url(
            cluster.url, read_from_replicas=True, retry_reads=True
        ) as rc:
            await rc.mset({k: k for k in keys})
            await rc.wait(1, 5000)
            assert await rc.mget(*keys) == [k.encode() for k in keys]
            victim_primary = cluster.slot_owner(key_slot(keys[0]))
            (replica,) = cluster.replicas_of(victim_primary)
            cluster.kill(replica)
            loop = asyncio.get_running_loop()
            for _ in range(3):
                started = loop.time()
                assert await asyncio.gather(*(rc.get(k) for k in keys)) == [
                    k.encode() for k in keys
                ]
                assert loop.time() - started < 1.0
    finally:
        await asyncio.to_thread(cluster.stop)
