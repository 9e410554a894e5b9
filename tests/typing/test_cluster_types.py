"""mypy --strict checks of RedisCluster (not run by pytest: the module has no test functions).

The cluster client carries the same generated methods as Redis: the same
overloads and return types, bytes or str after decode_responses.
"""

from __future__ import annotations

from typing import Any

from typing_extensions import assert_type

import redspec
from redspec.cluster import ClusterPipeline, ClusterPubSub, NodeClient, RedisCluster
from redspec.types import RespValue, StreamEntry


def constructors(flag: bool) -> None:
    assert_type(redspec.RedisCluster(), RedisCluster[bytes])
    assert_type(RedisCluster("h", 7000), RedisCluster[bytes])
    assert_type(RedisCluster(startup_nodes=[("h", 7000), ("h", 7001)]), RedisCluster[bytes])
    assert_type(RedisCluster(decode_responses=True), RedisCluster[str])
    assert_type(RedisCluster(decode_responses=flag), RedisCluster[Any])

    def remap(host: str, port: int) -> tuple[str, int]:
        return host, port + 1000

    assert_type(
        RedisCluster(
            startup_nodes=[("h", 7000)],
            read_from_replicas=True,
            address_remap=remap,
            refresh_interval=None,
            max_redirects=5,
            retry_timeout=1.5,
            password="p",
            command_timeout=1.0,
            retry_reads=True,
        ),
        RedisCluster[bytes],
    )


def urls(flag: bool) -> None:
    url = "redis://127.0.0.1:7000,127.0.0.1:7001?read_from_replicas=true"
    assert_type(RedisCluster.from_url(url), RedisCluster[bytes])
    assert_type(RedisCluster.from_url(url, read_from_replicas=True), RedisCluster[bytes])
    assert_type(RedisCluster.from_url(url, decode_responses=True), RedisCluster[str])
    assert_type(RedisCluster.from_url(url, decode_responses=flag), RedisCluster[Any])


async def commands(rc: RedisCluster[bytes], rs: RedisCluster[str]) -> None:
    assert_type(await rc.get("k"), bytes | None)
    assert_type(await rs.get("k"), str | None)
    assert_type(await rc.set("k", 1, nx=True), bool | None)
    assert_type(await rc.mget("a", "b"), list[bytes | None])
    assert_type(await rs.mget("a", "b"), list[str | None])
    assert_type(await rc.delete("a", "b"), int)
    assert_type(await rc.dbsize(), int)
    assert_type(await rs.keys("*"), list[str])
    assert_type(await rc.hgetall("h"), dict[bytes, bytes])
    assert_type(await rc.zrange("z", 0, -1, withscores=True), list[tuple[bytes, float]])
    assert_type(await rc.xrange("s", "-", "+"), list[StreamEntry[bytes]])
    assert_type(await rc.execute_command("GET", "k"), Any)
    async for key in rs.scan_iter(match="user:*"):
        assert_type(key, str)
    assert_type(rc.with_options(command_timeout=1.0), RedisCluster[bytes])
    async with rs as same:
        assert_type(same, RedisCluster[str])
    await rc.initialize()
    await rc.aclose()


async def nodes(rc: RedisCluster[bytes]) -> None:
    assert_type(rc.nodes(), list[redspec.Redis[bytes]])
    assert_type(rc.primaries(), list[redspec.Redis[bytes]])
    assert_type(rc.replicas(), list[redspec.Redis[bytes]])
    node = rc.node("127.0.0.1", 7000)
    assert_type(node, redspec.Redis[bytes])
    assert_type(await node.info(), bytes)
    assert_type(rc.node_for_key("k", replica=True), redspec.Redis[bytes])
    assert isinstance(node, NodeClient)


async def pipelines(rc: RedisCluster[bytes], rs: RedisCluster[str]) -> None:
    p = rc.pipeline()
    assert_type(p, ClusterPipeline[bytes])
    assert_type(p.get("k"), redspec.Pending[bytes | None])
    assert_type(p.mget("a", "b"), redspec.Pending[list[bytes | None]])
    assert_type(await p.execute(), list[Any])
    async with rs.pipeline(transaction=True) as t:
        assert_type(t, redspec.Pipeline[str])
        await t.watch("{u}:a")
        assert_type(await t.get("{u}:a"), str | None)
        t.multi()
        assert_type(t.incr("{u}:n"), redspec.Pending[int])
        await t.execute()

    async def fn(pipe: redspec.Pipeline[str]) -> redspec.Pending[int]:
        pipe.multi()
        return pipe.incr("{u}:n")

    assert_type(await rs.transaction(fn, "{u}:n"), redspec.Pending[int])


async def pubsub_and_scripts(rs: RedisCluster[str]) -> None:
    async with rs.pubsub() as ps:
        assert_type(ps, ClusterPubSub[str])
        await ps.ssubscribe("orders")
        await ps.subscribe("news")
        msg = await ps.get_message(timeout=1.0)
        assert_type(msg, redspec.Message[str] | None)
    assert_type(await rs.spublish("orders", "x"), int)
    script = rs.register_script("return 1")
    assert_type(await script(keys=["k"], args=[1]), RespValue)
    p = rs.pipeline()
    assert_type(script(keys=["k"], client=p), redspec.Pending[RespValue])
