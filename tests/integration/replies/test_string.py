"""The string group's generated methods against live servers (RESP3 and RESP2)."""

from __future__ import annotations

from datetime import timedelta

from redspec._generated.client.string import StringCommands
from tests.integration.replies._data_support import Cases, Ctx

CASES = Cases(StringCommands, pipelines=True)


@CASES.case("set", "get")
async def set_get(c: Ctx) -> None:
    r = c.r
    await c.check(r.get, "k", expect=None)
    await c.check(r.set, "k", "v", expect=True)
    await c.check(r.get, "k", expect=b"v")
    await c.check(r.set, "k", "w", nx=True, expect=None)
    await c.check(r.set, "k", "w", xx=True, ex=100, expect=True)
    await c.check(r.set, "k", 1.5, px=timedelta(seconds=10), expect=True)
    await c.check(r.get, "k", expect=b"1.5")


@CASES.case("set")
async def set_get_flag(c: Ctx) -> None:
    r = c.r
    await c.check(r.set, "k", "v1", get=True, expect=None)
    await c.check(r.set, "k", "v2", get=True, keepttl=True, expect=b"v1")
    await c.check(r.set, "k", "v3", nx=True, get=True, expect=b"v2")


@CASES.case("set", servers=["valkey8"])
async def set_ifeq(c: Ctx) -> None:
    r = c.r
    await c.check(r.set, "k", "a", expect=True)
    await c.check(r.set, "k", "b", ifeq="zz", expect=None)
    await c.check(r.set, "k", "b", ifeq="a", expect=True)
    await c.check(r.set, "k", "c", ifeq="b", get=True, expect=b"b")


@CASES.case("getdel", "getex", "getrange", "substr", "strlen", "append", "setrange")
async def read_and_edit(c: Ctx) -> None:
    r = c.r
    await c.check(r.append, "k", "hello", expect=5)
    await c.check(r.setrange, "k", 5, " world", expect=11)
    await c.check(r.strlen, "k", expect=11)
    await c.check(r.getrange, "k", 0, 4, expect=b"hello")
    await c.check(r.getrange, "nokey", 0, 4, expect=b"")
    await c.check(r.substr, "k", 6, -1, expect=b"world")
    await c.check(r.getex, "k", ex=100, expect=b"hello world")
    await c.check(r.getex, "k", persist=True, expect=b"hello world")
    await c.check(r.getex, "nokey", expect=None)
    await c.check(r.getdel, "k", expect=b"hello world")
    await c.check(r.getdel, "k", expect=None)


@CASES.case("incr", "decr", "incrby", "decrby", "incrbyfloat")
async def counters(c: Ctx) -> None:
    r = c.r
    await c.check(r.incr, "n", expect=1)
    await c.check(r.incrby, "n", 10, expect=11)
    await c.check(r.decr, "n", expect=10)
    await c.check(r.decrby, "n", 4, expect=6)
    await c.check(r.incrbyfloat, "n", 1.5, expect=7.5)
    await c.check(r.incrbyfloat, "f", -2, expect=-2.0)


@CASES.case("getset", "setnx", "setex", "psetex")
async def deprecated_setters(c: Ctx) -> None:
    r = c.r
    await c.check(r.getset, "k", "a", expect=None)
    await c.check(r.getset, "k", "b", expect=b"a")
    await c.check(r.setnx, "k", "c", expect=False)
    await c.check(r.setnx, "k2", "c", expect=True)
    await c.check(r.setex, "k3", 100, "v", expect=True)
    await c.check(r.setex, "k3", timedelta(seconds=5), "v", expect=True)
    await c.check(r.psetex, "k4", 100000, "v", expect=True)


@CASES.case("mset", "msetnx", "mget")
async def multi_key(c: Ctx) -> None:
    r = c.r
    await c.check(r.mset, {"a": 1, "b": b"2"}, expect=True)
    await c.check(r.msetnx, {"a": 1, "c": 3}, expect=False)
    await c.check(r.msetnx, {"c": 3, "d": 4}, expect=True)
    await c.check(r.mget, "a", "nokey", "d", expect=[b"1", None, b"4"])


@CASES.case("lcs", "mset")
async def lcs(c: Ctx) -> None:
    r = c.r
    await c.check(r.mset, {"k1": "ohmytext", "k2": "mynewtext"}, expect=True)
    await c.check(r.lcs, "k1", "k2", expect=b"mytext")
    await c.check(r.lcs, "k1", "k2", len=True, expect=6)
    v = await c.check(r.lcs, "k1", "k2", idx=True)
    # each match: ((start, end) in k1, (start, end) in k2, length or None)
    assert v[c.v(b"len")] == 6 and v[c.v(b"matches")][0] == ((4, 7), (5, 8), None)
    v = await c.check(r.lcs, "k1", "k2", idx=True, minmatchlen=4, withmatchlen=True)
    assert v == c.v({b"matches": [((4, 7), (5, 8), 4)], b"len": 6})


test_reply = CASES.test()
test_coverage = CASES.coverage_test()
