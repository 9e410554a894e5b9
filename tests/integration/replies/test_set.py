"""The set group's generated methods against live servers (RESP3 and RESP2)."""

from __future__ import annotations

from redspec._generated.client.set import SetCommands
from tests.integration.replies._data_support import Cases, Ctx

CASES = Cases(SetCommands, pipelines=True)


@CASES.case("sadd", "srem", "scard", "smembers", "sismember", "smismember", "smove")
async def members(c: Ctx) -> None:
    r = c.r
    await c.check(r.sadd, "s", "a", "b", "c", expect=3)
    await c.check(r.sadd, "s", "a", 1, expect=1)
    await c.check(r.srem, "s", "1", "zz", expect=1)
    await c.check(r.scard, "s", expect=3)
    await c.check(r.smembers, "s", expect={b"a", b"b", b"c"})
    await c.check(r.smembers, "nokey", expect=set())
    await c.check(r.sismember, "s", "a", expect=True)
    await c.check(r.sismember, "s", "zz", expect=False)
    await c.check(r.smismember, "s", "a", "zz", expect=[True, False])
    await c.check(r.smove, "s", "s2", "a", expect=True)
    await c.check(r.smove, "s", "s2", "zz", expect=False)


@CASES.case(
    "sadd", "sdiff", "sdiffstore", "sinter", "sintercard", "sinterstore", "sunion", "sunionstore"
)
async def algebra(c: Ctx) -> None:
    r = c.r
    await c.check(r.sadd, "s1", "a", "b", "c", expect=3)
    await c.check(r.sadd, "s2", "b", "c", "d", expect=3)
    await c.check(r.sdiff, "s1", "s2", expect={b"a"})
    await c.check(r.sdiff, "nokey", expect=set())
    await c.check(r.sdiffstore, "d", "s1", "s2", expect=1)
    await c.check(r.sinter, "s1", "s2", expect={b"b", b"c"})
    await c.check(r.sintercard, "s1", "s2", expect=2)
    await c.check(r.sintercard, "s1", "s2", limit=1, expect=1)
    await c.check(r.sinterstore, "d", "s1", "s2", expect=2)
    await c.check(r.sunion, "s1", "s2", expect={b"a", b"b", b"c", b"d"})
    await c.check(r.sunionstore, "d", "s1", "s2", expect=4)


@CASES.case("sadd", "spop", "srandmember")
async def random_members(c: Ctx) -> None:
    r = c.r
    await c.check(r.sadd, "s", "a", "b", "c", expect=3)
    assert await c.check(r.srandmember, "s") in c.v({b"a", b"b", b"c"})
    await c.check(r.srandmember, "nokey", expect=None)
    v = await c.check(r.srandmember, "s", -5)
    assert len(v) == 5 and set(v) <= c.v({b"a", b"b", b"c"})
    assert sorted(await c.check(r.srandmember, "s", 5)) == c.v([b"a", b"b", b"c"])
    await c.check(r.srandmember, "nokey", 2, expect=[])
    assert await c.check(r.spop, "s") in c.v({b"a", b"b", b"c"})
    assert len(await c.check(r.spop, "s", 1)) == 1
    assert len(await c.check(r.spop, "s", count=5)) == 1
    await c.check(r.spop, "s", expect=None)
    await c.check(r.spop, "nokey", 3, expect=set())


@CASES.case("sadd", "sscan")
async def sscan(c: Ctx) -> None:
    r = c.r
    await c.check(r.sadd, "s", "a", "b", "c", expect=3)
    cursor, found = await c.check(r.sscan, "s", 0)
    assert cursor == 0 and sorted(found) == c.v([b"a", b"b", b"c"])
    cursor, found = await c.check(r.sscan, "s", 0, match="a*", count=100)
    assert cursor == 0 and found == c.v([b"a"])
    await c.check(r.sscan, "nokey", 0, expect=(0, []))


test_reply = CASES.test()
test_coverage = CASES.coverage_test()
