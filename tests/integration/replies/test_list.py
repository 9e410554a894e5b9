"""The list group's generated methods against live servers (RESP3 and RESP2)."""

from __future__ import annotations

from redspec._generated.client.list import ListCommands
from tests.integration.replies._data_support import Cases, Ctx

CASES = Cases(ListCommands, pipelines=True)


@CASES.case("rpush", "lpush", "lpushx", "rpushx", "llen", "lrange", "lindex")
async def push_and_read(c: Ctx) -> None:
    r = c.r
    await c.check(r.rpush, "l", "a", "b", "c", expect=3)
    await c.check(r.lpush, "l", "z", expect=4)
    await c.check(r.lpushx, "nokey", "a", expect=0)
    await c.check(r.rpushx, "nokey", "a", expect=0)
    await c.check(r.lpushx, "l", "y", expect=5)
    await c.check(r.rpushx, "l", "q", 1, expect=7)
    await c.check(r.llen, "l", expect=7)
    await c.check(r.llen, "nokey", expect=0)
    await c.check(r.lrange, "l", 0, -1, expect=[b"y", b"z", b"a", b"b", b"c", b"q", b"1"])
    await c.check(r.lrange, "nokey", 0, -1, expect=[])
    await c.check(r.lindex, "l", 0, expect=b"y")
    await c.check(r.lindex, "l", 99, expect=None)


@CASES.case("rpush", "linsert", "lrem", "lset", "ltrim", "lrange")
async def edit(c: Ctx) -> None:
    r = c.r
    await c.check(r.rpush, "l", "a", "b", "a", expect=3)
    await c.check(r.linsert, "l", "BEFORE", "b", "X", expect=4)
    await c.check(r.linsert, "l", "AFTER", "nope", "X", expect=-1)
    await c.check(r.linsert, "nokey", "AFTER", "a", "X", expect=0)
    await c.check(r.lrem, "l", 0, "a", expect=2)
    await c.check(r.lset, "l", 0, "first", expect=True)
    await c.check(r.ltrim, "l", 0, 0, expect=True)
    await c.check(r.lrange, "l", 0, -1, expect=[b"first"])


@CASES.case("rpush", "lpop", "rpop")
async def pops(c: Ctx) -> None:
    r = c.r
    await c.check(r.rpush, "l", "a", "b", "c", "d", "e", expect=5)
    await c.check(r.lpop, "l", expect=b"a")
    await c.check(r.rpop, "l", expect=b"e")
    await c.check(r.lpop, "l", 2, expect=[b"b", b"c"])
    await c.check(r.rpop, "l", count=5, expect=[b"d"])
    await c.check(r.lpop, "nokey", expect=None)
    await c.check(r.rpop, "nokey", expect=None)
    await c.check(r.lpop, "nokey", 2, expect=None)
    await c.check(r.rpop, "nokey", 2, expect=None)
    await c.check(r.rpush, "l", "a", expect=1)
    await c.check(r.lpop, "l", 0, expect=[])


@CASES.case("rpush", "lpos")
async def lpos(c: Ctx) -> None:
    r = c.r
    await c.check(r.rpush, "l", "a", "b", "c", "a", "a", expect=5)
    await c.check(r.lpos, "l", "a", expect=0)
    await c.check(r.lpos, "l", "a", rank=2, expect=3)
    await c.check(r.lpos, "l", "zz", expect=None)
    await c.check(r.lpos, "l", "a", count=0, expect=[0, 3, 4])
    await c.check(r.lpos, "l", "a", rank=-1, count=2, maxlen=10, expect=[4, 3])
    await c.check(r.lpos, "l", "zz", count=2, expect=[])
    await c.check(r.lpos, "nokey", "a", count=2, expect=[])


@CASES.case("rpush", "lmove", "rpoplpush", "lmpop")
async def moves(c: Ctx) -> None:
    r = c.r
    await c.check(r.rpush, "l", "a", "b", "c", "d", expect=4)
    await c.check(r.lmove, "l", "l2", "LEFT", "RIGHT", expect=b"a")
    await c.check(r.lmove, "nokey", "l2", "LEFT", "RIGHT", expect=None)
    await c.check(r.rpoplpush, "l", "l2", expect=b"d")
    await c.check(r.rpoplpush, "nokey", "l2", expect=None)
    await c.check(r.lmpop, ["nokey", "l"], "LEFT", expect=(b"l", [b"b"]))
    await c.check(r.lmpop, ["l2"], "RIGHT", count=5, expect=(b"l2", [b"a", b"d"]))
    await c.check(r.lmpop, ["nokey"], "LEFT", expect=None)


@CASES.case("rpush", "blpop", "brpop", "blmove", "brpoplpush", "blmpop")
async def blocking(c: Ctx) -> None:
    r = c.r
    await c.check(r.rpush, "l", "a", "b", "c", "d", "e", expect=5)
    await c.check(r.blpop, ["nokey", "l"], 0.01, expect=(b"l", b"a"))
    await c.check(r.brpop, ["l"], 0.01, expect=(b"l", b"e"))
    await c.check(r.blmove, "l", "l2", "LEFT", "LEFT", 0.01, expect=b"b")
    await c.check(r.brpoplpush, "l", "l2", 0.01, expect=b"d")
    await c.check(r.blmpop, 0.01, ["nokey", "l2"], "LEFT", expect=(b"l2", [b"d"]))
    await c.check(r.blmpop, 0.01, ["l2"], "RIGHT", count=3, expect=(b"l2", [b"b"]))
    # timeouts: nil
    await c.check(r.blpop, ["nokey"], 0.01, expect=None)
    await c.check(r.brpop, ["nokey"], 0.01, expect=None)
    await c.check(r.blmove, "nokey", "l2", "LEFT", "LEFT", 0.01, expect=None)
    await c.check(r.brpoplpush, "nokey", "l2", 0.01, expect=None)
    await c.check(r.blmpop, 0.01, ["nokey"], "LEFT", count=2, expect=None)


test_reply = CASES.test()
test_coverage = CASES.coverage_test()
