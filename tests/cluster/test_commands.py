"""RedisCluster against real 3-primary clusters (Redis 8.2.3, Valkey 8.1.8), RESP3 and RESP2.

Routing is checked against the servers themselves: where a key landed is
asked of the node that owns its slot (harness admin connection, not the
client under test).
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import pytest

import redspec
from redspec.cluster import RedisCluster
from tests.cluster.harness import Cluster, ClusterNode, key_slot


@pytest.fixture(params=[3, 2], ids=["resp3", "resp2"])
async def rc(
    cluster: Cluster, request: pytest.FixtureRequest
) -> AsyncIterator[RedisCluster[bytes]]:
    client = RedisCluster.from_url(cluster.url, protocol=request.param)
    await client.flushall()
    yield client
    await client.aclose()


def stat_calls(cluster: Cluster, command: str) -> int:
    """How many times every live node ran ``command`` since CONFIG RESETSTAT."""
    total = 0
    for node in cluster.live_nodes():
        line = node.info("commandstats").get(f"cmdstat_{command}", "")
        if line:
            total += int(line.split("calls=")[1].split(",")[0])
    return total


async def test_600_keys_land_on_their_slot_owner_and_read_back(
    rc: RedisCluster[bytes], cluster: Cluster
) -> None:
    keys = [f"key:{i}" for i in range(600)]
    await asyncio.gather(*(rc.set(k, f"v{i}") for i, k in enumerate(keys)))
    assert await asyncio.gather(*(rc.get(k) for k in keys)) == [
        f"v{i}".encode() for i in range(600)
    ]
    per_node: dict[int, int] = {}
    for k in keys:
        owner = cluster.slot_owner(key_slot(k))
        per_node[owner.port] = per_node.get(owner.port, 0) + 1
    assert len(per_node) == 3  # the keys are spread over every primary
    for port, count in per_node.items():
        assert cluster.node_at(port).command("DBSIZE") == count
    assert await rc.dbsize() == 600


async def test_multi_shard_commands_split_and_merge_in_key_order(
    rc: RedisCluster[bytes], cluster: Cluster
) -> None:
    keys = cluster.keys_on_every_primary(4, prefix="m")
    assert len({cluster.slot_owner(key_slot(k)).port for k in keys}) == 3
    assert await rc.mset({k: k.upper() for k in keys}) is True
    # Caller's order, missing keys as None, a key given twice answered twice.
    asked = [keys[5], "missing", keys[0], keys[11], keys[5]]
    assert await rc.mget(*asked) == [
        keys[5].upper().encode(),
        None,
        keys[0].upper().encode(),
        keys[11].upper().encode(),
        keys[5].upper().encode(),
    ]
    assert await rc.exists(*keys, "missing", keys[0]) == len(keys) + 1
    assert await rc.touch(*keys[:6]) == 6
    assert await rc.unlink(*keys[:3]) == 3
    assert await rc.delete(*keys, "missing") == len(keys) - 3
    assert await rc.mget(*keys) == [None] * len(keys)


async def test_fan_out_dbsize_keys_flushall(rc: RedisCluster[bytes], cluster: Cluster) -> None:
    keys = cluster.keys_on_every_primary(5, prefix="f")
    await rc.mset({k: 1 for k in keys})
    assert await rc.dbsize() == len(keys)
    assert sorted(await rc.keys("f*")) == sorted(k.encode() for k in keys)
    assert await rc.ping() == b"PONG"
    assert await rc.flushall() is True
    assert await rc.dbsize() == 0
    assert [n.command("DBSIZE") for n in cluster.live_nodes()] == [0, 0, 0]


async def test_scan_iter_visits_every_key_exactly_once(
    rc: RedisCluster[bytes], cluster: Cluster
) -> None:
    keys = {f"s:{i}" for i in range(600)}
    await rc.mset({k: 1 for k in keys})
    await rc.mset({f"other:{i}": 1 for i in range(30)})
    seen = [k.decode() async for k in rc.scan_iter(match="s:*", count=37)]
    assert len(seen) == len(keys)
    assert set(seen) == keys
    await rc.sadd("s:set", "x")
    typed = [k async for k in rc.scan_iter(match="s:*", type="set")]
    assert typed == [b"s:set"]


async def test_scan_cursor_round_trips_over_every_primary(rc: RedisCluster[bytes]) -> None:
    await rc.mset({f"c:{i}": 1 for i in range(100)})
    cursor, found = 0, []
    while True:
        cursor, page = await rc.scan(cursor, count=10)
        found += page
        if cursor == 0:
            break
    assert sorted(found) == sorted(f"c:{i}".encode() for i in range(100))


async def test_cross_slot_command_refused_before_sending(
    rc: RedisCluster[bytes], cluster: Cluster
) -> None:
    a, b = cluster.keys_on_every_primary(1, prefix="x")[:2]
    for node in cluster.live_nodes():
        node.command("CONFIG", "RESETSTAT")
    with pytest.raises(redspec.CrossSlotError, match=r"SINTERSTORE.*slots") as info:
        await rc.sinterstore("dest", a, b)
    assert str(key_slot(a)) in str(info.value)
    assert stat_calls(cluster, "sinterstore") == 0
    # A hash tag puts them in one slot: then it is sent.
    await rc.sadd("{t}a", "1", "2")
    await rc.sadd("{t}b", "2", "3")
    assert await rc.sinterstore("{t}dest", "{t}a", "{t}b") == 1
    assert await rc.smembers("{t}dest") == {b"2"}


async def test_blocking_command_on_the_owner(rc: RedisCluster[bytes], cluster: Cluster) -> None:
    waiter = asyncio.ensure_future(rc.blpop(["q"], timeout=5))
    # Wait until the owner reports a blocked client, then push.
    owner = cluster.slot_owner(key_slot("q"))
    for _ in range(500):
        if owner.info("clients").get("blocked_clients") == "1":
            break
        await asyncio.sleep(0.01)
    await rc.rpush("q", "x")
    assert await waiter == (b"q", b"x")
    assert await rc.blpop(["q"], timeout=0.05) is None
    with pytest.raises(redspec.CrossSlotError):
        await rc.blpop(cluster.keys_on_every_primary(1, prefix="bq"), timeout=0.05)


async def test_keyless_and_keyed_without_keys(rc: RedisCluster[bytes]) -> None:
    assert await rc.echo("hi") == b"hi"
    assert await rc.eval("return 7", keys=[], args=[]) == 7
    assert await rc.execute_command("SET", "raw", "1") in (b"OK", "OK", True)
    assert await rc.execute_command("GET", "raw") == b"1"


async def test_scripts_on_every_node_also_after_script_flush(
    rc: RedisCluster[bytes], cluster: Cluster
) -> None:
    keys = cluster.keys_on_every_primary(2, prefix="sc")
    script = rc.register_script("return redis.call('INCRBY', KEYS[1], ARGV[1])")
    for k in keys:
        assert await script(keys=[k], args=[5]) == 5
    assert await rc.script_exists(script.sha) == [True]
    assert await rc.script_flush() is True
    assert await rc.script_exists(script.sha) == [False]
    for k in keys:  # NOSCRIPT on every node: loaded again, then run
        assert await script(keys=[k], args=[1]) == 6
    with pytest.raises(redspec.CrossSlotError):
        await script(keys=keys[:2] if key_slot(keys[0]) != key_slot(keys[1]) else keys[::3])


async def test_decode_responses(cluster: Cluster) -> None:
    async with RedisCluster.from_url(cluster.url, decode_responses=True) as rc:
        await rc.mset({"d1": "é", "d2": "x"})
        assert await rc.mget("d1", "d2", "d3") == ["é", "x", None]
        assert sorted(await rc.keys("d*")) == ["d1", "d2"]
        assert [k async for k in rc.scan_iter(match="d1")] == ["d1"]
        await rc.delete("d1", "d2")


async def test_node_handles(rc: RedisCluster[bytes], cluster: Cluster) -> None:
    await rc.initialize()
    primaries = rc.primaries()
    assert sorted(p.settings.port for p in primaries) == sorted(
        n.port for n in cluster.primaries()
    )
    assert len(rc.nodes()) == 3 and rc.replicas() == []
    await rc.set("h", "1")
    owner = cluster.slot_owner(key_slot("h"))
    handle = rc.node(owner.host, owner.port)
    assert await handle.dbsize() == 1
    assert rc.node_for_key("h").settings.port == owner.port
    async with handle:
        pass  # closing a node handle leaves the cluster client working
    await handle.close()
    assert await rc.get("h") == b"1"
    assert await handle.get("h") == b"1"
    assert repr(handle).startswith("<NodeClient")


async def test_discovery_skips_a_dead_startup_node(cluster: Cluster) -> None:
    from tests.servers import free_port

    dead = ("127.0.0.1", free_port())
    live = cluster.nodes[1].address
    async with RedisCluster(startup_nodes=[dead, live]) as rc:
        assert len(rc.primaries()) == 3
        await rc.set("dsn", 1)
        assert await rc.get("dsn") == b"1"


async def test_no_node_answers(cluster: Cluster) -> None:
    from tests.servers import free_port

    rc = RedisCluster("127.0.0.1", free_port(), connect_timeout=1)
    with pytest.raises(redspec.ConnectionError, match="cannot discover the cluster"):
        await rc.get("x")
    await rc.aclose()


async def test_address_remap_is_applied(cluster: Cluster) -> None:
    seen: list[tuple[str, int]] = []

    def remap(host: str, port: int) -> tuple[str, int]:
        seen.append((host, port))
        return ("localhost", port)

    async with RedisCluster(startup_nodes=[cluster.nodes[0].address], address_remap=remap) as rc:
        assert {n.settings.host for n in rc.nodes()} == {"localhost"}
        await rc.set("remapped", 1)
        assert await rc.get("remapped") == b"1"
        await rc.delete("remapped")
    assert {port for _, port in seen} >= {n.port for n in cluster.nodes}


async def test_with_options_shares_nodes(rc: RedisCluster[bytes]) -> None:
    quick = rc.with_options(command_timeout=2)
    # The default command_timeout, as for Redis (redspec._settings.DEFAULT_COMMAND_TIMEOUT).
    assert quick.command_timeout == 2 and rc.command_timeout == 5.0
    await quick.set("wo", 1)
    assert await rc.get("wo") == b"1"
    assert await quick.mget("wo", "nope") == [b"1", None]


async def test_functions_on_every_shard(rc: RedisCluster[bytes], cluster: Cluster) -> None:
    code = (
        "#!lua name=clusterlib\n"
        "redis.register_function('bump', function(keys, args) "
        "return redis.call('INCRBY', keys[1], args[1]) end)"
    )
    await rc.function_flush()
    assert await rc.function_load(code) == b"clusterlib"  # FUNCTION LOAD on every primary
    for node in cluster.primaries():
        assert node.command("FUNCTION", "LIST")[0][1] == b"clusterlib"
    keys = cluster.keys_on_every_primary(1, prefix="fn")
    for k in keys:  # FCALL routed by its keys
        assert await rc.fcall("bump", keys=[k], args=[4]) == 4
    with pytest.raises(redspec.CrossSlotError, match="FCALL"):
        await rc.fcall("bump", keys=keys[:2], args=[1])
    assert await rc.function_delete("clusterlib") is True
    assert all(node.command("FUNCTION", "LIST") == [] for node in cluster.primaries())


async def test_config_set_reaches_every_node_and_special_replies(
    rc: RedisCluster[bytes], cluster: Cluster
) -> None:
    before = cluster.nodes[0].command("CONFIG", "GET", "slowlog-max-len")[1]
    try:
        assert await rc.config_set("slowlog-max-len", 77) is True
        assert {n.command("CONFIG", "GET", "slowlog-max-len")[1] for n in cluster.nodes} == {b"77"}
    finally:
        await rc.config_set("slowlog-max-len", before)
    # RANDOMKEY (response_policy:special): a key of any shard that has one.
    assert await rc.randomkey() is None
    (only,) = cluster.keys_on_every_primary(1, prefix="rk")[2:]
    await rc.set(only, 1)
    assert await rc.randomkey() == only.encode()
    # WAIT (agg_min over the primaries): no replicas here.
    assert await rc.wait(0, 100) == 0


async def test_command_timeout_on_a_split_command(
    rc: RedisCluster[bytes], cluster: Cluster
) -> None:
    keys = cluster.keys_on_every_primary(5, prefix="to")
    await rc.mset({k: 1 for k in keys})
    slow = cluster.slot_owner(key_slot(keys[0]))
    sleeper = asyncio.ensure_future(asyncio.to_thread(slow.command, "DEBUG", "SLEEP", "0.8"))
    for _ in range(500):  # until the node is asleep: its INFO stops answering quickly
        if sleeper.done() or not await _answers_quickly(slow):
            break
    quick = rc.with_options(command_timeout=0.2)
    with pytest.raises(redspec.TimeoutError, match="MGET"):
        await quick.mget(*keys)
    await sleeper
    assert await rc.mget(*keys) == [b"1"] * len(keys)


async def _answers_quickly(node: ClusterNode) -> bool:
    try:
        await asyncio.wait_for(asyncio.to_thread(node.command, "PING"), 0.05)
    except asyncio.TimeoutError:
        return False
    return True
