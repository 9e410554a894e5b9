"""The "cluster" group's generated methods against live cluster nodes, RESP3 and RESP2.

Most commands run on a one-node cluster (Redis 8.2.3, ``--cluster-enabled
yes``); the ones that need a peer (MEET, REPLICATE, REPLICAS, FAILOVER,
FORGET, LINKS) run on a fresh two-node cluster per protocol. ASKING,
READONLY and READWRITE are used by the cluster client and get no generated
method.
"""

from __future__ import annotations

import binascii
from collections.abc import Iterator
from typing import Any

import pytest

from redspec._generated.client.cluster import ClusterCommands
from tests.servers import RedisServer, free_port, start_server

from ._sys_support import (
    PROTOCOLS,
    Calls,
    client_for,
    info_field,
    raw,
    str_client_for,
    wait_until,
)

calls = Calls()


def start_node(kind: str = "redis8") -> tuple[RedisServer, int]:
    bus = free_port()
    server = start_server(
        kind,
        args=[
            "--cluster-enabled", "yes",
            "--cluster-config-file", "nodes.conf",
            "--cluster-port", str(bus),
            "--cluster-node-timeout", "2000",
            "--repl-diskless-sync-delay", "0",
        ],
    )  # fmt: skip
    return server, bus


def slot_of(key: str) -> int:
    return binascii.crc_hqx(key.encode(), 0) % 16384


def node_id(server: RedisServer) -> str:
    return str(raw(server, "CLUSTER", "MYID").decode())


def knows(server: RedisServer, other_id: str) -> bool:
    for line in raw(server, "CLUSTER", "NODES").decode().splitlines():
        parts = line.split()
        if parts[0] == other_id and "handshake" not in parts[2] and "noaddr" not in parts[2]:
            return True
    return False


def role(server: RedisServer) -> str:
    return str(raw(server, "ROLE")[0].decode())


@pytest.fixture(scope="module")
def node() -> Iterator[RedisServer]:
    server, _ = start_node()
    yield server
    server.stop()


@pytest.fixture(params=PROTOCOLS)
def protocol(request: pytest.FixtureRequest) -> int:
    return int(request.param)


async def test_one_node(node: RedisServer, protocol: int) -> None:
    raw(node, "FLUSHALL")
    raw(node, "CLUSTER", "RESET", "HARD")
    r = client_for(node, protocol)
    try:
        myid = await calls.check(r.cluster_myid)
        assert len(myid) == 40
        assert len(await calls.check(r.cluster_myshardid)) == 40
        # A node that was just reset hard has config epoch 0 and knows nobody.
        await calls.check(r.cluster_set_config_epoch, 7, expect=True)
        await calls.check(r.cluster_addslots, 0, 1, 2, expect=True)
        await calls.check(r.cluster_addslotsrange, [(3, 100), (101, 16383)], expect=True)
        await calls.check(r.cluster_delslots, 2, expect=True)
        await calls.check(r.cluster_delslotsrange, [(50, 60), (70, 70)], expect=True)
        await r.cluster_addslots(2, 70)
        await r.cluster_addslotsrange([(50, 60)])
        wait_until("cluster_state:ok", lambda: b"cluster_state:ok" in raw(node, "CLUSTER", "INFO"))
        info = await calls.check(r.cluster_info)
        assert b"cluster_state:ok" in info and b"cluster_slots_assigned:16384" in info
        assert myid in await calls.check(r.cluster_nodes)
        epoch = await calls.check(r.cluster_bumpepoch)
        assert epoch.startswith((b"BUMPED ", b"STILL "))

        key = "reply-test:cluster"
        slot = slot_of(key)
        await calls.check(r.cluster_keyslot, key, expect=slot)
        await calls.check(r.cluster_countkeysinslot, slot, expect=0)
        await r.set(key, "v")
        await calls.check(r.cluster_countkeysinslot, slot, expect=1)
        await calls.check(r.cluster_getkeysinslot, slot, 10, expect=[key.encode()])

        shards = await calls.check(r.cluster_shards)
        assert shards[0][b"slots"] == [0, 16383]
        with pytest.warns(DeprecationWarning):
            slots = await calls.check(r.cluster_slots)
        primary = slots[0][2]
        assert slots[0][:2] == (0, 16383) and isinstance(primary, tuple) and primary[2] == myid
        assert isinstance(primary[3], dict)  # the node's metadata, a map on both protocols
        stats = await calls.check(r.cluster_slot_stats, slotsrange=(slot, slot + 1))
        assert stats[0] == (slot, {b"key-count": 1}) and stats[1][0] == slot + 1
        top = await calls.check(r.cluster_slot_stats, orderby="key-count", limit=1, order="DESC")
        assert top == [(slot, {b"key-count": 1})]
        await calls.check(r.cluster_links, expect=[])  # nobody to link to
        await calls.check(r.cluster_replicas, myid, expect=[])
        with pytest.warns(DeprecationWarning):
            await calls.check(r.cluster_slaves, myid, expect=[])
        await calls.check(r.cluster_count_failure_reports, myid, expect=0)
        await calls.check(r.cluster_saveconfig, expect=True)
        await calls.check(r.cluster_setslot, slot, stable=True, expect=True)
        await calls.check(r.cluster_setslot, slot, node=myid, expect=True)
        helptext = await calls.check(r.cluster_help)
        assert helptext[0].startswith(b"CLUSTER <subcommand>")

        await r.flushall()
        await calls.check(r.cluster_flushslots, expect=True)
        await calls.check(r.cluster_reset, reset_type="SOFT", expect=True)
        await calls.check(r.cluster_reset, expect=True)
        await calls.check(r.cluster_reset, reset_type="HARD", expect=True)
    finally:
        await r.aclose()


async def test_two_nodes(protocol: int) -> None:
    (a, _), (b, bus_b) = start_node(), start_node()
    ra, rb = client_for(a, protocol), client_for(b, protocol)
    try:
        id_a, id_b = node_id(a), node_id(b)
        raw(a, "CLUSTER", "ADDSLOTSRANGE", 0, 16383)
        await calls.check(ra.cluster_meet, "127.0.0.1", b.port, bus_b, expect=True)
        wait_until("the nodes meet", lambda: knows(a, id_b) and knows(b, id_a))
        await calls.check(rb.cluster_replicate, id_a, expect=True)
        wait_until(
            "the replica to sync",
            lambda: info_field(b, "replication", "master_link_status") == "up",
        )
        wait_until("A to list its replica", lambda: len(raw(a, "CLUSTER", "REPLICAS", id_a)) == 1)

        replicas = await calls.check(ra.cluster_replicas, id_a)
        assert len(replicas) == 1 and replicas[0].startswith(id_b.encode())
        with pytest.warns(DeprecationWarning):
            slaves = await calls.check(rb.cluster_slaves, id_a)
        assert len(slaves) == 1 and slaves[0].startswith(id_b.encode())
        await calls.check(ra.cluster_count_failure_reports, id_b, expect=0)
        links = await calls.check(ra.cluster_links)
        assert {link[b"direction"] for link in links} == {b"to", b"from"}
        assert {link[b"node"] for link in links} == {id_b.encode()}

        await calls.check(rb.cluster_failover, expect=True)
        wait_until("B to take over", lambda: role(b) == "master" and role(a) == "slave")
        await calls.check(ra.cluster_failover, options="TAKEOVER", expect=True)
        wait_until("A to take back over", lambda: role(a) == "master" and role(b) == "slave")
        await calls.check(ra.cluster_forget, id_b, expect=True)
        assert not knows(a, id_b)
    finally:
        await ra.aclose()
        await rb.aclose()
        a.stop()
        b.stop()


async def test_same_on_both_protocols(node: RedisServer) -> None:
    """CLUSTER SHARDS and CLUSTER SLOTS nest maps: RESP2 and RESP3 give equal values."""
    raw(node, "FLUSHALL")
    raw(node, "CLUSTER", "RESET", "HARD")
    raw(node, "CLUSTER", "ADDSLOTSRANGE", 0, 16383)
    wait_until("cluster_state:ok", lambda: b"cluster_state:ok" in raw(node, "CLUSTER", "INFO"))
    for decoded in (False, True):
        values = []
        for protocol in (3, 2):
            r: Any = (str_client_for if decoded else client_for)(node, protocol)
            try:
                shards = await calls.check(r.cluster_shards)
                with pytest.warns(DeprecationWarning):
                    slots = await calls.check(r.cluster_slots)
                values.append((shards, slots))
            finally:
                await r.aclose()
        assert values[0] == values[1]
        assert isinstance(values[0][0][0]["nodes" if decoded else b"nodes"][0], dict)
    raw(node, "CLUSTER", "RESET", "HARD")


async def test_decoded(node: RedisServer, protocol: int) -> None:
    raw(node, "FLUSHALL")
    raw(node, "CLUSTER", "RESET", "HARD")
    raw(node, "CLUSTER", "ADDSLOTSRANGE", 0, 16383)
    r = str_client_for(node, protocol)
    try:
        myid = await calls.check(r.cluster_myid)
        assert isinstance(myid, str) and len(myid) == 40
        shards = await calls.check(r.cluster_shards)
        assert shards[0]["slots"] == [0, 16383]
        stats = await calls.check(r.cluster_slot_stats, slotsrange=(0, 0))
        assert stats == [(0, {"key-count": 0})]
        assert "cluster_slots_assigned:16384" in await calls.check(r.cluster_info)
    finally:
        await r.aclose()
        raw(node, "CLUSTER", "RESET", "HARD")


def test_zz_every_method_called(request: pytest.FixtureRequest) -> None:
    calls.assert_covers(ClusterCommands, request)
