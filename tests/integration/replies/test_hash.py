"""The hash group's generated methods against live servers (RESP3 and RESP2)."""

from __future__ import annotations

import time
from datetime import datetime, timedelta, timezone

from redspec._generated.client.hash import HashCommands
from tests.integration.replies._data_support import Cases, Ctx

CASES = Cases(HashCommands, pipelines=True)


@CASES.case("hset", "hsetnx", "hmset", "hget", "hmget", "hgetall", "hdel", "hexists", "hlen")
async def fields(c: Ctx) -> None:
    r = c.r
    await c.check(r.hset, "h", mapping={"a": 1, "b": b"2"}, expect=2)
    await c.check(r.hset, "h", mapping={"a": "x"}, expect=0)
    await c.check(r.hsetnx, "h", "a", "y", expect=False)
    await c.check(r.hsetnx, "h", "c", 3, expect=True)
    await c.check(r.hmset, "h", {"d": 4, "e": 5.5}, expect=True)
    await c.check(r.hget, "h", "a", expect=b"x")
    await c.check(r.hget, "h", "zz", expect=None)
    await c.check(r.hmget, "h", "a", "zz", "e", expect=[b"x", None, b"5.5"])
    await c.check(r.hdel, "h", "d", "zz", expect=1)
    await c.check(r.hexists, "h", "a", expect=True)
    await c.check(r.hexists, "h", "zz", expect=False)
    await c.check(r.hlen, "h", expect=4)
    expected = {b"a": b"x", b"b": b"2", b"c": b"3", b"e": b"5.5"}
    await c.check(r.hgetall, "h", expect=expected)
    await c.check(r.hgetall, "nokey", expect={})


@CASES.case("hset", "hkeys", "hvals", "hstrlen", "hincrby", "hincrbyfloat")
async def values(c: Ctx) -> None:
    r = c.r
    await c.check(r.hset, "h", mapping={"a": 1, "b": "hello"}, expect=2)
    assert sorted(await c.check(r.hkeys, "h")) == c.v([b"a", b"b"])
    assert sorted(await c.check(r.hvals, "h")) == c.v([b"1", b"hello"])
    await c.check(r.hkeys, "nokey", expect=[])
    await c.check(r.hstrlen, "h", "b", expect=5)
    await c.check(r.hstrlen, "h", "zz", expect=0)
    await c.check(r.hincrby, "h", "a", 5, expect=6)
    await c.check(r.hincrbyfloat, "h", "a", 1.5, expect=7.5)
    await c.check(r.hincrbyfloat, "h", "f", -1, expect=-1.0)


@CASES.case("hset", "hrandfield")
async def hrandfield(c: Ctx) -> None:
    r = c.r
    await c.check(r.hset, "h", mapping={"a": 1, "b": 2}, expect=2)
    assert await c.check(r.hrandfield, "h") in c.v({b"a", b"b"})
    await c.check(r.hrandfield, "nokey", expect=None)
    assert sorted(await c.check(r.hrandfield, "h", count=5)) == c.v([b"a", b"b"])
    v = await c.check(r.hrandfield, "h", count=-3, withvalues=True)
    assert len(v) == 3 and set(v) <= c.v({(b"a", b"1"), (b"b", b"2")})
    assert sorted(await c.check(r.hrandfield, "h", count=2, withvalues=True)) == c.v(
        [(b"a", b"1"), (b"b", b"2")]
    )
    await c.check(r.hrandfield, "nokey", count=2, expect=[])
    await c.check(r.hrandfield, "nokey", count=2, withvalues=True, expect=[])


@CASES.case("hset", "hscan")
async def hscan(c: Ctx) -> None:
    r = c.r
    await c.check(r.hset, "h", mapping={"a": 1, "b": 2, "c": 3}, expect=3)
    await c.check(r.hscan, "h", 0, expect=(0, {b"a": b"1", b"b": b"2", b"c": b"3"}))
    await c.check(r.hscan, "h", 0, match="a*", count=100, expect=(0, {b"a": b"1"}))
    await c.check(r.hscan, "nokey", 0, expect=(0, {}))


@CASES.case("hset", "hscan", servers=["redis8", "valkey8"])  # NOVALUES: Redis 7.4+
async def hscan_novalues(c: Ctx) -> None:
    r = c.r
    await c.check(r.hset, "h", mapping={"a": 1, "b": 2}, expect=2)
    cursor, found = await c.check(r.hscan, "h", 0, novalues=True)
    assert cursor == 0 and sorted(found) == c.v([b"a", b"b"])


@CASES.case(
    "hset",
    "hexpire",
    "hpexpire",
    "hexpireat",
    "hpexpireat",
    "httl",
    "hpttl",
    "hexpiretime",
    "hpexpiretime",
    "hpersist",
)
async def field_expiry(c: Ctx) -> None:
    r = c.r
    await c.check(r.hset, "h", mapping={"a": 1, "b": 2, "c": 3}, expect=3)
    await c.check(r.hexpire, "h", 100, "a", "zz", expect=[1, -2])
    await c.check(r.hexpire, "h", timedelta(seconds=100), "a", condition="NX", expect=[0])
    await c.check(r.hexpire, "nokey", 100, "a", expect=[-2])
    await c.check(r.hpexpire, "h", 200000, "b", condition="GT", expect=[0])
    await c.check(r.hpexpire, "h", timedelta(milliseconds=200000), "b", expect=[1])
    when = int(time.time()) + 1000
    await c.check(r.hexpireat, "h", when, "a", expect=[1])
    at = datetime.fromtimestamp(when + 1, tz=timezone.utc)
    await c.check(r.hpexpireat, "h", at, "a", condition="XX", expect=[1])
    await c.check(r.hexpiretime, "h", "a", "c", "zz", expect=[when + 1, -1, -2])
    await c.check(r.hpexpiretime, "h", "a", expect=[(when + 1) * 1000])
    ttl = await c.check(r.httl, "h", "b", "c", "zz")
    assert 0 < ttl[0] <= 200 and ttl[1:] == [-1, -2]
    pttl = await c.check(r.hpttl, "h", "b")
    assert 0 < pttl[0] <= 200000
    await c.check(r.hpersist, "h", "a", "c", "zz", expect=[1, -1, -2])
    await c.check(r.hexpire, "h", 0, "c", expect=[2])  # a time in the past deletes the field


@CASES.case("hset", "hgetdel", "hgetex", "hsetex", "httl")
async def get_set_with_expiry(c: Ctx) -> None:
    r = c.r
    await c.check(r.hset, "h", mapping={"a": 1, "b": 2}, expect=2)
    await c.check(r.hgetdel, "h", "a", "zz", expect=[b"1", None])
    await c.check(r.hgetdel, "nokey", "a", expect=[None])
    await c.check(r.hgetex, "h", "b", "zz", ex=100, expect=[b"2", None])
    await c.check(r.hgetex, "h", "b", persist=True, expect=[b"2"])
    await c.check(r.hgetex, "h", "b", px=timedelta(seconds=50), expect=[b"2"])
    await c.check(r.hgetex, "nokey", "a", expect=[None])
    await c.check(r.hsetex, "h", {"x": 1}, expect=True)
    await c.check(r.hsetex, "h", {"x": 1}, condition="FNX", ex=100, expect=False)
    await c.check(r.hsetex, "h", {"x": 2, "y": 3}, condition="FXX", keepttl=True, expect=False)
    await c.check(r.hsetex, "h", {"x": 2, "y": 3}, px=timedelta(seconds=30), expect=True)
    ttl = await c.check(r.httl, "h", "x", "y")
    assert all(0 < t <= 30 for t in ttl)


test_reply = CASES.test()
test_coverage = CASES.coverage_test()
