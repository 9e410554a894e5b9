"""The cluster client under both event loops (asyncio and uvloop): one mixed workload."""

from __future__ import annotations

import asyncio

import pytest

from redspec.cluster import RedisCluster
from tests.cluster.harness import Cluster
from tests.conftest import LOOP_POLICIES, loop_policy

pytestmark = pytest.mark.filterwarnings(
    'ignore:Overriding the "event_loop_policy":DeprecationWarning'
)


@pytest.fixture(params=LOOP_POLICIES)
def event_loop_policy(request: pytest.FixtureRequest) -> asyncio.AbstractEventLoopPolicy:
    return loop_policy(request.param)


async def test_mixed_workload(cluster: Cluster) -> None:
    keys = cluster.keys_on_every_primary(20, prefix="loop")
    async with RedisCluster.from_url(cluster.url) as rc:
        await rc.flushall()
        await asyncio.gather(*(rc.set(k, k) for k in keys))
        assert await rc.mget(*keys) == [k.encode() for k in keys]
        assert await rc.dbsize() == len(keys)
        async with rc.pipeline() as p:
            for k in keys:
                p.incr(f"n:{k}")
            assert await p.execute() == [1] * len(keys)
        async with rc.pubsub(ignore_subscribe_messages=True) as ps:
            await ps.ssubscribe(keys[0], keys[-1])
            await rc.spublish(keys[-1], "hi")
            msg = await ps.get_message(timeout=5)
            assert msg is not None and msg.data == b"hi"
        assert sorted([k async for k in rc.scan_iter(match="loop*")]) == sorted(
            k.encode() for k in keys
        )
