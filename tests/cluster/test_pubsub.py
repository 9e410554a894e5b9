"""Cluster pub/sub against real 3-primary clusters: classic and sharded channels."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Any

import pytest

from redspec.cluster import RedisCluster
from redspec.pubsub import Message
from tests.cluster.harness import Cluster, key_slot


@pytest.fixture(params=[3, 2], ids=["resp3", "resp2"])
async def rc(
    cluster: Cluster, request: pytest.FixtureRequest
) -> AsyncIterator[RedisCluster[bytes]]:
    client = RedisCluster.from_url(cluster.url, protocol=request.param)
    yield client
    await client.aclose()


async def next_data(ps: Any, timeout: float = 5.0) -> Message[Any]:
    """The next message that is not a (un)subscribe confirmation."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while True:
        msg = await ps.get_message(timeout=max(deadline - loop.time(), 0.01))
        assert msg is not None, "no message in time"
        if msg.kind in ("message", "pmessage", "smessage", "reconnected"):
            return msg  # type: ignore[no-any-return]


async def test_classic_subscribe_and_psubscribe(rc: RedisCluster[bytes]) -> None:
    async with rc.pubsub() as ps:
        await ps.subscribe("news")
        await ps.psubscribe("sport.*")
        assert ps.channels == {b"news"} and ps.patterns == {b"sport.*"}
        # PUBLISH goes to any primary (its count is that node's subscribers only):
        # the cluster bus carries it to every node, so two messages published on
        # two nodes may arrive in either order.
        await rc.publish("news", "hello")
        await rc.publish("sport.tennis", "ace")
        got = {(m.kind, m.pattern, m.channel, m.data) for m in [await next_data(ps) for _ in "ab"]}
        assert got == {
            ("message", None, b"news", b"hello"),
            ("pmessage", b"sport.*", b"sport.tennis", b"ace"),
        }
        await ps.unsubscribe()
        await ps.punsubscribe()
        assert not ps.subscribed


async def test_sharded_channels_on_every_shard(rc: RedisCluster[bytes], cluster: Cluster) -> None:
    channels = cluster.keys_on_every_primary(2, prefix="chan")
    got: list[Message[Any]] = []
    async with rc.pubsub(ignore_subscribe_messages=True) as ps:
        await ps.ssubscribe(*channels[1:], **{channels[0]: got.append})
        assert ps.shard_channels == {c.encode() for c in channels}
        for c in channels:
            owner = cluster.slot_owner(key_slot(c))
            # Subscribed on the node serving the channel's slot.
            assert owner.command("PUBSUB", "SHARDNUMSUB", c)[1] == 1
        for c in channels:
            assert await rc.spublish(c, f"to-{c}") == 1
        received = [await next_data(ps) for _ in channels[1:]]
        assert sorted((m.kind, m.channel, m.data) for m in received) == sorted(
            ("smessage", c.encode(), f"to-{c}".encode()) for c in channels[1:]
        )
        for _ in range(200):  # the handler's message, delivered by its own task
            if got:
                break
            await asyncio.sleep(0.01)
        assert [(m.channel, m.data) for m in got] == [
            (channels[0].encode(), f"to-{channels[0]}".encode())
        ]
        await ps.sunsubscribe(channels[1])
        assert await rc.spublish(channels[1], "gone") == 0
        await ps.sunsubscribe()
        assert ps.shard_channels == set()
        await ps.ping()


async def test_decoded_sharded_messages(cluster: Cluster) -> None:
    async with RedisCluster.from_url(cluster.url, decode_responses=True) as rc:
        async with rc.pubsub(ignore_subscribe_messages=True) as ps:
            await ps.ssubscribe("dé", "x")
            await rc.spublish("dé", "é")
            msg = await next_data(ps)
            assert (msg.channel, msg.data) == ("dé", "é")
