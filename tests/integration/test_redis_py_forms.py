"""redis-py's common call forms against a live Redis 8 (codegen/compat.py, docs/migrating-...).

Each form is checked by what the server then holds, or by what it answered, not
by the argv alone: a form that encodes wrong fails here.
"""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

import redspec
from redspec import exceptions
from tests.servers import RedisServer


async def test_hset_field_value_items_and_mapping(client: redspec.Redis[bytes]) -> None:
    r = client
    assert await r.hset("h", "f1", "v1") == 1
    assert await r.hset("h", mapping={"f2": 2}, items=["f3", 3, "f4", 4]) == 3
    assert await r.hset("h", "f1", "w", mapping={"f5": 5}) == 1
    assert await r.hgetall("h") == {
        b"f1": b"w",
        b"f2": b"2",
        b"f3": b"3",
        b"f4": b"4",
        b"f5": b"5",
    }
    with pytest.raises(redspec.DataError, match="HSET: give a field"):
        await r.hset("h")
    with pytest.raises(redspec.DataError, match="HSET: a field needs a value"):
        await r.hset("h", "f")
    with pytest.raises(redspec.DataError, match="HSET: items"):
        await r.hset("h", items=["odd"])
    with pytest.raises(redspec.DataError, match="HSET: pass a mapping as mapping="):
        await r.hset("h", {"f": "v"})  # type: ignore[arg-type]


async def test_expire_family_flags(client: redspec.Redis[bytes]) -> None:
    r = client
    await r.set("k", "v")
    assert await r.expire("k", 100, xx=True) is False  # no expiry yet
    assert await r.expire("k", 100, nx=True) is True
    assert await r.expire("k", 50, gt=True) is False
    assert await r.expire("k", 50, lt=True) is True
    assert 40 < await r.ttl("k") <= 50
    assert await r.pexpire("k", 200_000, gt=True) is True
    assert await r.pttl("k") > 150_000
    now = int((await r.time())[0])
    assert await r.expireat("k", now + 1000, lt=True) is False
    assert await r.pexpireat("k", (now + 10) * 1000, lt=True) is True
    assert await r.ttl("k") <= 10
    with pytest.raises(redspec.DataError, match="EXPIRE: "):
        await r.expire("k", 10, nx=True, xx=True)
    with pytest.raises(redspec.DataError, match="mutually exclusive"):
        await r.expire("k", 10, condition="NX", gt=True)


async def test_xadd_trimming_keywords(client: redspec.Redis[bytes]) -> None:
    r = client
    for i in range(10):
        await r.xadd("s", {"i": i}, f"{i + 1}-0")
    assert await r.xlen("s") == 10
    await r.xadd("s", {"i": 10}, "11-0", maxlen=3, approximate=False)
    assert await r.xlen("s") == 3
    await r.xadd("s", {"i": 11}, "20-0", minid="12-0", approximate=False)
    assert [e.id for e in await r.xrange("s")] == [b"20-0"]
    # approximate (the default): the server may keep more, never fewer
    await r.xadd("s", {"i": 12}, "21-0", maxlen=1, limit=100)
    assert await r.xlen("s") >= 1
    assert await r.xadd("missing", {"f": 1}, nomkstream=True) is None
    assert await r.exists("missing") == 0
    with pytest.raises(redspec.DataError, match="XADD"):
        await r.xadd("s", {"f": 1}, maxlen=1, minid="1-0")
    with pytest.raises(redspec.DataError, match="XADD"):
        await r.xadd("s", {"f": 1}, maxlen=1, trim=redspec.StreamTrim("MAXLEN", 1))


async def test_xtrim_keywords(client: redspec.Redis[bytes]) -> None:
    r = client
    for i in range(10):
        await r.xadd("s", {"i": i}, f"{i + 1}-0")
    assert await r.xtrim("s", maxlen=8, approximate=False) == 2
    assert await r.xtrim("s", minid="6-0", approximate=False) == 3
    assert await r.xtrim("s", "MAXLEN", 4) == 1  # the spec's form still works
    assert [e.id for e in await r.xrange("s")] == [b"7-0", b"8-0", b"9-0", b"10-0"]
    with pytest.raises(redspec.DataError, match="XTRIM"):
        await r.xtrim("s")
    with pytest.raises(redspec.DataError, match="XTRIM"):
        await r.xtrim("s", "MAXLEN", 1, maxlen=2)


async def test_xrange_positional_count_and_defaults(client: redspec.Redis[bytes]) -> None:
    r = client
    for i in range(5):
        await r.xadd("s", {"i": i}, f"{i + 1}-0")
    assert [e.id for e in await r.xrange("s", "-", "+", 2)] == [b"1-0", b"2-0"]
    assert [e.id for e in await r.xrevrange("s", "+", "-", 2)] == [b"5-0", b"4-0"]
    assert len(await r.xrange("s")) == 5
    assert [e.id for e in await r.xrevrange("s", count=1)] == [b"5-0"]


async def test_xreadgroup_xpending_range_xclaim(client: redspec.Redis[bytes]) -> None:
    r = client
    await r.xadd("s", {"f": "a"}, "1-0")
    await r.xadd("s", {"f": "b"}, "2-0")
    assert await r.xgroup_create("s", "g", "0")  # id="$" by default, as in redis-py
    assert await r.xgroup_create("s", "late") and await r.xreadgroup("late", "c", {"s": ">"}) == {}
    got = await r.xreadgroup(groupname="g", consumername="c1", streams={"s": ">"}, count=1)
    assert [e.id for e in got[b"s"]] == [b"1-0"]
    await r.xreadgroup("g", "c1", {"s": ">"}, count=5, noack=False)
    pending = await r.xpending_range("s", "g", "-", "+", 10)
    assert [(p.id, p.consumer, p.deliveries) for p in pending] == [
        (b"1-0", b"c1", 1),
        (b"2-0", b"c1", 1),
    ]
    assert await r.xpending_range("s", "g", "-", "+", 10, consumername="nobody") == []
    ids = await r.xclaim("s", "g", "c2", 0, ["1-0", "2-0"], justid=True)
    assert ids == [b"1-0", b"2-0"]
    claimed = await r.xclaim("s", "g", "c3", 0, "1-0")  # several ids as *args still work
    assert [e.id for e in claimed] == [b"1-0"]
    assert (await r.xpending("s", "g")).consumers == {b"c2": 1, b"c3": 1}


async def test_zrange_redis_py_keywords(client: redspec.Redis[bytes]) -> None:
    r = client
    await r.zadd("z", {"a": 1, "b": 2, "c": 3, "d": 4})
    assert await r.zrange("z", 0, -1, desc=True) == [b"d", b"c", b"b", b"a"]
    assert await r.zrange("z", 2, 3, byscore=True, withscores=True) == [(b"b", 2.0), (b"c", 3.0)]
    assert await r.zrange("z", "(1", "+inf", byscore=True, offset=1, num=2) == [b"c", b"d"]
    assert await r.zrange("z", "+inf", 2, byscore=True, desc=True) == [b"d", b"c", b"b"]
    await r.zadd("lex", {"a": 0, "b": 0, "c": 0})
    assert await r.zrange("lex", "[b", "+", bylex=True) == [b"b", b"c"]
    with pytest.raises(redspec.DataError, match="ZRANGE"):
        await r.zrange("z", 0, 1, offset=1)
    with pytest.raises(redspec.DataError, match="ZRANGE"):
        await r.zrange("z", 0, 1, byscore=True, bylex=True)


async def test_zadd_flags(client: redspec.Redis[bytes]) -> None:
    r = client
    assert await r.zadd("z", {"a": 1}) == 1
    assert await r.zadd("z", {"a": 5, "b": 1}, nx=True) == 1
    assert await r.zscore("z", "a") == 1.0
    assert await r.zadd("z", {"a": 0, "c": 1}, xx=True, ch=True) == 1
    assert await r.zadd("z", {"a": 3}, gt=True, ch=True) == 1
    assert await r.zadd("z", {"a": 2}, gt=True, ch=True) == 0
    assert await r.zadd("z", {"a": 1}, lt=True, ch=True) == 1
    assert await r.zadd("z", {"a": 1}, incr=True, xx=True) == 2.0
    assert await r.zrange("z", 0, -1, withscores=True) == [(b"b", 1.0), (b"a", 2.0)]
    with pytest.raises(redspec.DataError, match="ZADD"):
        await r.zadd("z", {"a": 1}, nx=True, xx=True)
    with pytest.raises(redspec.DataError, match="ZADD"):
        await r.zadd("z", {"a": 1}, gt=True, comparison="LT")


async def test_keys_as_one_list(client: redspec.Redis[bytes]) -> None:
    r = client
    await r.mset({"a": 1, "b": 2})
    assert await r.mget(["a", "b", "c"]) == [b"1", b"2", None]
    assert await r.mget(("a",)) == [b"1"]
    assert await r.mget("a", "b") == [b"1", b"2"]
    assert await r.exists(["a", "b", "c"]) == 2
    assert await r.touch(["a", "b"]) == 2
    assert await r.sinter(["nothing"]) == set()
    await r.rpush("l1", "x")
    await r.rpush("l2", "y")
    assert await r.blpop(["l0", "l1"], 1) == (b"l1", b"x")
    assert await r.brpop("l2", 1) == (b"l2", b"y")  # one key alone
    assert await r.unlink(["a"]) == 1
    assert await r.delete(["b", "c"]) == 1
    # a bare str is one key, never its letters
    await r.set("ab", 1)
    assert await r.delete("ab") == 1
    # the lists redis-py's hmget/zmscore/smismember take
    await r.hset("h", mapping={"f": 1, "g": 2})
    assert await r.hmget("h", ["f", "x", "g"]) == [b"1", None, b"2"]
    await r.zadd("z", {"m": 1.5})
    assert await r.zmscore("z", ["m", "n"]) == [1.5, None]
    await r.sadd("s", "a")
    assert await r.smismember("s", ("a", "b")) == [True, False]
    assert sorted(await r.keys()) == [b"h", b"s", b"z"]  # pattern="*" by default
    await r.rpush("src", "1", "2")
    assert await r.lmove("src", "dst") == b"1"  # LEFT to RIGHT by default
    # redis-py's eval(script, numkeys, ...) is refused, not read as a key named 0
    with pytest.raises(redspec.DataError, match="keys must be a key or a sequence of keys"):
        await r.eval("return 1", 0)  # type: ignore[arg-type]


async def test_geoadd_flat_and_geosearch_keywords(client: redspec.Redis[bytes]) -> None:
    r = client
    flat = (13.361389, 38.115556, "Palermo", 15.087269, 37.502669, "Catania")
    assert await r.geoadd("Sicily", values=flat) == 2
    assert await r.geoadd("Sicily", [(12.758489, 38.788135, "edge")], nx=True) == 1
    assert await r.geoadd("Sicily", flat[:3], xx=True, ch=True) == 0
    assert await r.geoadd("Sicily", (13.0, 38.0, "Palermo"), xx=True, ch=True) == 1
    await r.geoadd("Sicily", flat[:3], xx=True)
    assert await r.geosearch("Sicily", member="Palermo", radius=200, unit="km", sort="ASC") == [
        b"Palermo",
        b"edge",
        b"Catania",
    ]
    near = await r.geosearch(
        "Sicily", longitude=15, latitude=37, radius=100, unit="km", withdist=True, count=1
    )
    assert [m.member for m in near] == [b"Catania"] and near[0].dist is not None
    boxed = await r.geosearch(
        "Sicily", member="Palermo", width=400, height=400, unit="km", sort="DESC", any=False
    )
    assert boxed == [b"Catania", b"edge", b"Palermo"]
    stored = await r.geosearchstore("dst", "Sicily", member="Palermo", radius=10, unit="km")
    assert stored == 1
    with pytest.raises(redspec.DataError, match="GEOSEARCH"):
        await r.geosearch("Sicily", longitude=15, radius=1)
    with pytest.raises(redspec.DataError, match="GEOADD"):
        await r.geoadd("Sicily", values=(1.0, 2.0))


async def test_scan_type_config_set_flushall(client: redspec.Redis[bytes]) -> None:
    r = client
    await r.set("str", 1)
    await r.rpush("list", 1)
    cursor, keys = await r.scan(0, _type="list", count=100)
    assert (cursor, keys) == (0, [b"list"])
    assert (await r.scan())[1] != []  # cursor=0 by default
    assert [k async for k in r.scan_iter(_type="list")] == [b"list"]
    assert [k async for k in r.scan_iter("s*", 10)] == [b"str"]
    before = (await r.config_get("maxmemory-samples"))[b"maxmemory-samples"]
    try:
        assert await r.config_set("maxmemory-samples", 7) is True
        assert await r.config_get("maxmemory-samples") == {b"maxmemory-samples": b"7"}
    finally:
        await r.config_set(mapping={"maxmemory-samples": before})
    assert await r.flushall(asynchronous=True) is True
    assert await r.dbsize() == 0
    with pytest.raises(redspec.DataError, match="FLUSHALL"):
        await r.flushall(asynchronous=True, flush_type="SYNC")


async def test_pipeline_is_a_transaction_by_default_on_the_shared_connection(
    client: redspec.Redis[bytes],
) -> None:
    r = client
    pool = r._core.pool
    size_before = pool.size
    async with r.pipeline() as p:
        assert p.transaction
        p.set("k", 1)
        p.incr("k")
        p.lpush("k", "x")  # WRONGTYPE inside EXEC: its own error, the others applied
        results = await p.execute(raise_on_error=False)
    assert results[:2] == [True, 2]
    assert isinstance(results[2], redspec.WrongTypeError)
    assert pool.size == size_before  # no exclusive connection was taken

    # Many transactions and plain commands at once over the one shared connection:
    # a command landing inside another task's MULTI would be answered QUEUED.
    async def transaction(i: int) -> list[Any]:
        p = r.pipeline()
        p.set(f"t{i}", i)
        p.get(f"t{i}")
        p.incr("counter")
        return await p.execute()

    async def plain(i: int) -> Any:
        await r.set(f"p{i}", i)
        return await r.get(f"p{i}")

    got = await asyncio.gather(*(transaction(i) for i in range(30)), *(plain(i) for i in range(30)))
    for i, res in enumerate(got[:30]):
        assert res[:2] == [True, str(i).encode()]
    assert sorted(res[2] for res in got[:30]) == list(range(1, 31))
    assert got[30:] == [str(i).encode() for i in range(30)]
    assert pool.size == size_before


async def test_transaction_refused_while_queueing_raises(client: redspec.Redis[bytes]) -> None:
    p = client.pipeline()
    p.set("k", 1)
    p.execute_command("NOSUCHCOMMAND")
    with pytest.raises(redspec.ResponseError):
        await p.execute()
    assert await client.get("k") is None  # EXECABORT: nothing applied
    assert await client.ping() == b"PONG"  # the shared connection is still in step


async def test_close_alias_and_exceptions_module(redis8: RedisServer) -> None:
    r = redspec.Redis(redis8.host, redis8.port)
    assert await r.ping() == b"PONG"
    await r.close()
    with pytest.raises(exceptions.ConnectionError):
        await r.ping()
    assert exceptions.WatchError is redspec.WatchError
    assert exceptions.ResponseError is redspec.ResponseError
    assert exceptions.ClusterCrossSlotError is redspec.CrossSlotError
    assert issubclass(exceptions.NoScriptError, exceptions.ResponseError)
    assert issubclass(exceptions.DataError, exceptions.RedisError)
    assert issubclass(exceptions.LockNotOwnedError, exceptions.LockError)
    r2 = redspec.Redis(redis8.host, redis8.port)
    try:
        await r2.set("s", "text")
        with pytest.raises(exceptions.ResponseError) as info:
            await r2.incr("s")
        assert info.value.code == "ERR"
    finally:
        await r2.aclose()
