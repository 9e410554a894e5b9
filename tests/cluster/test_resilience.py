"""Slots moving and primaries failing under a running client.

Each test starts a cluster of its own (they change the topology): a manual
migration (ASK, then MOVED), ``redis-cli --cluster reshard`` under a read
loop, and ``kill -9`` of a primary under load.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator

import pytest

import redspec
from redspec.cluster import RedisCluster
from tests.cluster.conftest import KINDS
from tests.cluster.harness import (
    NODE_TIMEOUT_MS,
    Cluster,
    ClusterNode,
    key_slot,
    start_cluster,
    wait_until,
)


@pytest.fixture(params=KINDS)
async def own_cluster(request: pytest.FixtureRequest) -> AsyncIterator[Cluster]:
    cluster = await asyncio.to_thread(start_cluster, request.param, 3)
    try:
        yield cluster
    finally:
        await asyncio.to_thread(cluster.stop)


@pytest.fixture(params=KINDS)
async def own_replicated_cluster(request: pytest.FixtureRequest) -> AsyncIterator[Cluster]:
    cluster = await asyncio.to_thread(start_cluster, request.param, 3, 1)
    try:
        yield cluster
    finally:
        await asyncio.to_thread(cluster.stop)


def calls_of(node: ClusterNode, command: str) -> int:
    line = node.info("commandstats").get(f"cmdstat_{command}", "")
    return int(line.split("calls=")[1].split(",")[0]) if line else 0


async def test_ask_during_manual_migration_then_moved(own_cluster: Cluster) -> None:
    cluster = own_cluster
    keys = [f"{{mig}}:{i}" for i in range(10)]
    slot = key_slot(keys[0])
    source = cluster.slot_owner(slot)
    target = next(n for n in cluster.primaries() if n is not source)
    async with RedisCluster.from_url(cluster.url, retry_timeout=0.5) as rc:
        await rc.mset({k: k for k in keys})
        target.command("CLUSTER", "SETSLOT", slot, "IMPORTING", source.node_id)
        source.command("CLUSTER", "SETSLOT", slot, "MIGRATING", target.node_id)
        moved, stayed = keys[:5], keys[5:]
        source.command("MIGRATE", target.host, target.port, "", 0, 5000, "KEYS", *moved)
        asking_before = calls_of(target, "asking")
        # Migrated keys: ASK to the target (ASKING + GET there); the others: the source.
        assert await rc.get(moved[0]) == moved[0].encode()
        assert await rc.get(stayed[0]) == stayed[0].encode()
        assert calls_of(target, "asking") == asking_before + 1
        # A new key in a migrating slot is created on the target.
        assert target.command("CLUSTER", "COUNTKEYSINSLOT", slot) == len(moved)
        assert await rc.set("{mig}:new", "n") is True
        assert target.command("CLUSTER", "COUNTKEYSINSLOT", slot) == len(moved) + 1
        assert await rc.get("{mig}:new") == b"n"
        # The table was not changed by ASK: the source still owns the slot for us.
        assert rc.node_for_key(keys[0]).settings.port == source.port
        # A multi-key command over keys split between both nodes: TRYAGAIN,
        # retried until retry_timeout, then raised as such.
        with pytest.raises(redspec.TryAgainError):
            await rc.mget(moved[1], stayed[1])
        # Finish the migration: MOVED takes the client to the new owner.
        source.command("MIGRATE", target.host, target.port, "", 0, 5000, "KEYS", *stayed)
        for node in cluster.primaries():
            node.command("CLUSTER", "SETSLOT", slot, "NODE", target.node_id)
        assert await rc.mget(*keys) == [k.encode() for k in keys]
        assert rc.node_for_key(keys[0]).settings.port == target.port


async def test_reshard_under_a_read_loop(own_cluster: Cluster) -> None:
    cluster = own_cluster
    keys = [f"r:{i}" for i in range(500)]
    async with RedisCluster.from_url(cluster.url) as rc:
        await rc.mset({k: f"value-{k}" for k in keys})
        source = cluster.slot_owner(key_slot(keys[0]))
        target = next(n for n in cluster.primaries() if n is not source)
        wrong: list[str] = []
        library_errors: list[BaseException] = []
        other_errors: list[BaseException] = []
        reads = 0
        done = asyncio.Event()

        async def reader(offset: int) -> None:
            nonlocal reads
            while not done.is_set():
                for k in keys[offset::4]:
                    try:
                        value = await rc.get(k)
                    except redspec.RedisError as exc:
                        library_errors.append(exc)
                        continue
                    except Exception as exc:
                        other_errors.append(exc)
                        continue
                    reads += 1
                    if value != f"value-{k}".encode():
                        wrong.append(k)

        readers = [asyncio.ensure_future(reader(i)) for i in range(4)]
        proc = await asyncio.create_subprocess_exec(
            "redis-cli", "--cluster", "reshard", f"{source.host}:{source.port}",
            "--cluster-from", source.node_id, "--cluster-to", target.node_id,
            "--cluster-slots", "1000", "--cluster-yes", "--cluster-pipeline", "20",
            stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.STDOUT,
        )  # fmt: skip
        out, _ = await proc.communicate()
        assert proc.returncode == 0, out.decode()[-2000:]
        await asyncio.to_thread(cluster.wait_stable)
        done.set()
        await asyncio.gather(*readers)
        assert reads > 500
        assert wrong == []
        assert other_errors == []
        assert library_errors == []
        # Slots did move, and the client follows them.
        moved_keys = [k for k in keys if cluster.slot_owner(key_slot(k)) is target]
        assert moved_keys
        assert await rc.mget(*keys) == [f"value-{k}".encode() for k in keys]


async def test_kill_9_of_a_primary_under_load(own_replicated_cluster: Cluster) -> None:
    cluster = own_replicated_cluster
    keys = [f"fo:{i}" for i in range(300)]
    async with RedisCluster.from_url(cluster.url) as rc:
        await rc.mset({k: k for k in keys})
        victim = cluster.slot_owner(key_slot(keys[0]))
        victim_slot = key_slot(keys[0])
        # The writes of the victim's replica must have caught up before it dies.
        for node in cluster.replicas_of(victim):
            await asyncio.to_thread(_wait_offset, cluster, victim, node)
        wrong: list[str] = []
        other_errors: list[BaseException] = []
        slowest = 0.0
        stop = asyncio.Event()

        async def load(offset: int) -> None:
            nonlocal slowest
            while not stop.is_set():
                for k in keys[offset::5]:
                    started = time.monotonic()
                    try:
                        value = await rc.get(k)
                    except redspec.RedisError:
                        value = k.encode()  # an error is allowed during the failover
                    except Exception as exc:
                        other_errors.append(exc)
                        value = k.encode()
                    finally:
                        slowest = max(slowest, time.monotonic() - started)
                    if value != k.encode():
                        wrong.append(k)
                    if stop.is_set():
                        return

        channel = keys[0]  # a shard channel in the victim's slot
        ps = rc.pubsub(ignore_subscribe_messages=True)
        await ps.ssubscribe(channel)
        loaders = [asyncio.ensure_future(load(i)) for i in range(5)]
        await asyncio.sleep(0.2)
        killed_at = time.monotonic()
        cluster.kill(victim)
        # Every key readable again within the node timeout + 3 s.
        budget = NODE_TIMEOUT_MS / 1000 + 3
        recovered_at = None
        while time.monotonic() - killed_at < budget + 5:
            results = await asyncio.gather(*(rc.get(k) for k in keys), return_exceptions=True)
            if all(r == k.encode() for r, k in zip(results, keys)):
                recovered_at = time.monotonic()
                break
            await asyncio.sleep(0.05)
        stop.set()
        await asyncio.gather(*loaders)
        assert recovered_at is not None, "keys never became readable again"
        print(f"recovered after {recovered_at - killed_at:.2f}s, slowest call {slowest:.2f}s")
        assert recovered_at - killed_at <= budget, recovered_at - killed_at
        assert wrong == []
        assert other_errors == []
        assert slowest <= 5.0
        # New writes land on the promoted replica.
        promoted = await asyncio.to_thread(cluster.wait_failover, victim, victim_slot)
        assert promoted is not victim
        await rc.set(keys[0], "after")
        assert promoted.command("GET", keys[0]) == b"after"
        # The shard subscription moved to the promoted replica, after a gap message.
        msg = await _next_kind(ps, {"reconnected"})
        assert msg.kind == "reconnected"  # type: ignore[attr-defined]
        assert await rc.spublish(channel, "after") == 1
        msg = await _next_kind(ps, {"smessage"})
        assert msg.data == b"after"  # type: ignore[attr-defined]
        await ps.aclose()


def _wait_offset(cluster: Cluster, primary: ClusterNode, replica: ClusterNode) -> None:
    def caught_up() -> bool:
        p = primary.info("replication")
        r = replica.info("replication")
        return p.get("master_repl_offset") == r.get("master_repl_offset")

    wait_until("the replica to catch up", caught_up)


async def test_pipeline_and_transaction_follow_a_moved_slot(own_cluster: Cluster) -> None:
    cluster = own_cluster
    others = cluster.keys_on_every_primary(1, prefix="o")
    async with RedisCluster.from_url(cluster.url) as rc:
        await rc.mset({"{mv}:a": "a", "{mv}:b": "b", **{k: k for k in others}})
        slot = key_slot("{mv}")
        source = cluster.slot_owner(slot)
        target = next(n for n in cluster.primaries() if n is not source)
        await asyncio.to_thread(cluster.move_slot, slot, target)
        # The client still believes the source owns the slot: MOVED inside the pipeline.
        assert rc.node_for_key("{mv}:a").settings.port == source.port
        async with rc.pipeline() as p:
            p.get("{mv}:a")
            p.set("{mv}:c", "c")
            for k in others:
                p.get(k)
            p.get("{mv}:b")
            results = await p.execute()
        assert results == [b"a", True, *(k.encode() for k in others), b"b"]
        assert rc.node_for_key("{mv}:a").settings.port == target.port
    # A transaction answered MOVED is aborted whole, then sent to the new owner. A
    # client that learned the table before the move and has had no reason to
    # refresh since still sends to the old owner.
    async with RedisCluster.from_url(cluster.url, refresh_interval=None) as stale:
        await stale.set("{mv2}:n", 1)
        source2 = cluster.slot_owner(key_slot("{mv2}"))
        target2 = next(n for n in cluster.primaries() if n is not source2)
        await asyncio.to_thread(cluster.move_slot, key_slot("{mv2}"), target2)
        assert stale.node_for_key("{mv2}:n").settings.port == source2.port
        execs = calls_of(source2, "exec")
        async with stale.pipeline(transaction=True) as p:
            p.incr("{mv2}:n")
            p.incr("{mv2}:n")
            assert await p.execute() == [2, 3]
        assert calls_of(source2, "exec") == execs + 1  # the aborted one
        assert target2.command("GET", "{mv2}:n") == b"3"
    # With WATCH the redirection is raised: the watch was on the old owner.
    async with RedisCluster.from_url(cluster.url, refresh_interval=None) as stale:
        await stale.set("{mv3}:n", 1)
        source3 = cluster.slot_owner(key_slot("{mv3}"))
        target3 = next(n for n in cluster.primaries() if n is not source3)
        await asyncio.to_thread(cluster.move_slot, key_slot("{mv3}"), target3)
        async with stale.pipeline(transaction=True) as p:
            with pytest.raises(redspec.MovedError):
                await p.watch("{mv3}:n")
        async with stale.pipeline(transaction=True) as p:  # the table was updated
            await p.watch("{mv3}:n")
            p.multi()
            p.incr("{mv3}:n")
            assert await p.execute() == [2]


async def _next_kind(ps: object, kinds: set[str], timeout: float = 15.0) -> object:
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while True:
        msg = await ps.get_message(timeout=max(deadline - loop.time(), 0.01))  # type: ignore[attr-defined]
        assert msg is not None, f"no {kinds} message in time"
        if msg.kind in kinds:
            return msg


async def test_sharded_subscription_follows_a_slot_move(own_cluster: Cluster) -> None:
    cluster = own_cluster
    async with RedisCluster.from_url(cluster.url) as rc, rc.pubsub() as ps:
        await ps.ssubscribe("{moving}chan", "{staying}chan")
        slot = key_slot("{moving}chan")
        source = cluster.slot_owner(slot)
        target = next(n for n in cluster.primaries() if n is not source)
        await asyncio.to_thread(cluster.move_slot, slot, target)
        # The server dropped the subscription; it is made again on the new owner.
        msg = await _next_kind(ps, {"reconnected"})
        assert msg.kind == "reconnected"  # type: ignore[attr-defined]
        assert target.command("PUBSUB", "SHARDNUMSUB", "{moving}chan")[1] == 1
        assert await rc.spublish("{moving}chan", "after") == 1
        msg = await _next_kind(ps, {"smessage"})
        assert (msg.channel, msg.data) == (b"{moving}chan", b"after")  # type: ignore[attr-defined]
        assert await rc.spublish("{staying}chan", "still") == 1
        msg = await _next_kind(ps, {"smessage"})
        assert msg.data == b"still"  # type: ignore[attr-defined]
        assert ps.shard_channels == {b"{moving}chan", b"{staying}chan"}
