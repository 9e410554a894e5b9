"""The sorted-set group's generated methods against live servers (RESP3 and RESP2).

Every call goes through ``Ctx.check``: the reply must fit the method's declared
return annotation (the reply table) and, where given, equal ``expect``.
"""

from __future__ import annotations

from redspec._generated.client.sorted_set import SortedSetCommands
from tests.integration.replies._data_support import Cases, Ctx

CASES = Cases(SortedSetCommands)


@CASES.case("zadd", "zcard", "zcount", "zscore", "zmscore", "zincrby", "zlexcount")
async def add_and_read(c: Ctx) -> None:
    r = c.r
    await c.check(r.zadd, "z", {"a": 1, "b": 2.5, b"c": 3}, expect=3)
    await c.check(r.zadd, "z", {"a": 5, "d": 4}, ch=True, expect=2)
    await c.check(r.zadd, "z", {"a": 0}, condition="XX", comparison="GT", expect=0)
    await c.check(r.zadd, "z", {"a": 1}, condition="NX", expect=0)
    await c.check(r.zcard, "z", expect=4)
    await c.check(r.zcard, "nokey", expect=0)
    await c.check(r.zcount, "z", "(2.5", "+inf", expect=3)
    await c.check(r.zcount, "z", 0, 3, expect=2)
    await c.check(r.zscore, "z", "b", expect=2.5)
    await c.check(r.zscore, "z", "nope", expect=None)
    await c.check(r.zscore, "nokey", "a", expect=None)
    await c.check(r.zmscore, "z", "a", "nope", "d", expect=[5.0, None, 4.0])
    await c.check(r.zincrby, "z", 1.25, "a", expect=6.25)
    await c.check(r.zincrby, "z", -1, "new", expect=-1.0)
    await c.check(r.zadd, "lex", {"a": 0, "b": 0, "c": 0}, expect=3)
    await c.check(r.zlexcount, "lex", "[b", "+", expect=2)
    await c.check(r.zlexcount, "nokey", "-", "+", expect=0)


@CASES.case("zadd")
async def zadd_incr(c: Ctx) -> None:
    r = c.r
    await c.check(r.zadd, "z", {"a": 1.5}, incr=True, expect=1.5)
    await c.check(r.zadd, "z", {"a": 2}, incr=True, expect=3.5)
    # NX refuses an existing member: nil
    await c.check(r.zadd, "z", {"a": 1}, incr=True, condition="NX", expect=None)
    await c.check(r.zadd, "z", {"a": -10}, incr=True, comparison="GT", expect=None)


@CASES.case("zadd", "zrange", "zrangestore")
async def zrange(c: Ctx) -> None:
    r = c.r
    await c.check(r.zadd, "z", {"a": 1, "b": 2, "c": 3}, expect=3)
    await c.check(r.zrange, "z", 0, -1, expect=[b"a", b"b", b"c"])
    await c.check(r.zrange, "nokey", 0, -1, expect=[])
    await c.check(
        r.zrange, "z", 0, -1, withscores=True, expect=[(b"a", 1.0), (b"b", 2.0), (b"c", 3.0)]
    )
    await c.check(
        r.zrange,
        "z",
        0,
        -1,
        rev=True,
        withscores=True,
        expect=[(b"c", 3.0), (b"b", 2.0), (b"a", 1.0)],
    )
    await c.check(r.zrange, "z", "(1", "+inf", sortby="BYSCORE", limit=(0, 1), expect=[b"b"])
    await c.check(r.zrange, "nokey", 0, -1, withscores=True, expect=[])
    await c.check(r.zadd, "lex", {"a": 0, "b": 0, "c": 0}, expect=3)
    await c.check(r.zrange, "lex", "[b", "+", sortby="BYLEX", expect=[b"b", b"c"])
    await c.check(r.zrangestore, "dst", "z", 1, -1, expect=2)
    await c.check(r.zrangestore, "dst", "z", "+inf", 2, sortby="BYSCORE", rev=True, expect=2)
    await c.check(r.zrangestore, "dst", "lex", "-", "+", sortby="BYLEX", limit=(1, 5), expect=2)
    await c.check(r.zrange, "dst", 0, -1, expect=[b"b", b"c"])


@CASES.case(
    "zadd",
    "zrangebylex",
    "zrangebyscore",
    "zrevrange",
    "zrevrangebylex",
    "zrevrangebyscore",
)
async def deprecated_ranges(c: Ctx) -> None:
    r = c.r
    await c.check(r.zadd, "z", {"a": 1, "b": 2, "c": 3}, expect=3)
    await c.check(r.zrangebyscore, "z", "-inf", "+inf", expect=[b"a", b"b", b"c"])
    await c.check(
        r.zrangebyscore, "z", 2, "+inf", withscores=True, expect=[(b"b", 2.0), (b"c", 3.0)]
    )
    await c.check(r.zrangebyscore, "z", 1, 3, limit=(1, 1), expect=[b"b"])
    await c.check(r.zrevrangebyscore, "z", "+inf", "-inf", expect=[b"c", b"b", b"a"])
    await c.check(
        r.zrevrangebyscore, "z", 3, "(2", withscores=True, limit=(0, 5), expect=[(b"c", 3.0)]
    )
    await c.check(r.zrevrange, "z", 0, 1, expect=[b"c", b"b"])
    await c.check(r.zrevrange, "z", 0, 0, withscores=True, expect=[(b"c", 3.0)])
    await c.check(r.zrevrange, "nokey", 0, -1, withscores=True, expect=[])
    await c.check(r.zadd, "lex", {"a": 0, "b": 0, "c": 0}, expect=3)
    await c.check(r.zrangebylex, "lex", "-", "(c", expect=[b"a", b"b"])
    await c.check(r.zrangebylex, "lex", "-", "+", limit=(2, 5), expect=[b"c"])
    await c.check(r.zrevrangebylex, "lex", "+", "[b", expect=[b"c", b"b"])
    await c.check(r.zrevrangebylex, "lex", "+", "-", limit=(0, 1), expect=[b"c"])


@CASES.case("zadd", "zrank", "zrevrank")
async def ranks(c: Ctx) -> None:
    r = c.r
    await c.check(r.zadd, "z", {"a": 1, "b": 2.5}, expect=2)
    await c.check(r.zrank, "z", "b", expect=1)
    await c.check(r.zrank, "z", "nope", expect=None)
    await c.check(r.zrevrank, "z", "b", expect=0)
    await c.check(r.zrevrank, "nokey", "b", expect=None)


@CASES.case("zadd", "zrank", "zrevrank", servers=["redis8", "valkey8"])
async def ranks_withscore(c: Ctx) -> None:
    r = c.r
    await c.check(r.zadd, "z", {"a": 1, "b": 2.5}, expect=2)
    await c.check(r.zrank, "z", "b", withscore=True, expect=(1, 2.5))
    await c.check(r.zrank, "z", "nope", withscore=True, expect=None)
    await c.check(r.zrevrank, "z", "a", withscore=True, expect=(1, 1.0))
    await c.check(r.zrevrank, "nokey", "a", withscore=True, expect=None)


@CASES.case("zadd", "zrem", "zremrangebylex", "zremrangebyrank", "zremrangebyscore", "zcard")
async def removals(c: Ctx) -> None:
    r = c.r
    await c.check(r.zadd, "z", {"a": 1, "b": 2, "c": 3, "d": 4, "e": 5}, expect=5)
    await c.check(r.zrem, "z", "a", "nope", expect=1)
    await c.check(r.zremrangebyrank, "z", 0, 0, expect=1)
    await c.check(r.zremrangebyscore, "z", "(4", "+inf", expect=1)
    await c.check(r.zremrangebyscore, "nokey", 0, 1, expect=0)
    await c.check(r.zcard, "z", expect=2)
    await c.check(r.zadd, "lex", {"a": 0, "b": 0, "c": 0}, expect=3)
    await c.check(r.zremrangebylex, "lex", "[a", "(c", expect=2)
    await c.check(r.zcard, "lex", expect=1)


@CASES.case(
    "zadd",
    "zdiff",
    "zdiffstore",
    "zinter",
    "zinterstore",
    "zintercard",
    "zunion",
    "zunionstore",
)
async def set_algebra(c: Ctx) -> None:
    r = c.r
    await c.check(r.zadd, "a", {"x": 1, "y": 2}, expect=2)
    await c.check(r.zadd, "b", {"y": 3, "z": 4}, expect=2)
    await c.check(r.zdiff, "a", "b", expect=[b"x"])
    await c.check(r.zdiff, "a", "b", withscores=True, expect=[(b"x", 1.0)])
    await c.check(r.zdiff, "nokey", "b", withscores=True, expect=[])
    await c.check(r.zdiffstore, "d", "a", "b", expect=1)
    await c.check(r.zinter, "a", "b", expect=[b"y"])
    await c.check(r.zinter, "a", "b", withscores=True, expect=[(b"y", 5.0)])
    await c.check(
        r.zinter, "a", "b", weights=[2, 0.5], aggregate="MAX", withscores=True, expect=[(b"y", 4.0)]
    )
    await c.check(r.zinterstore, "d", "a", "b", weights=[1, 1], aggregate="MIN", expect=1)
    await c.check(r.zintercard, "a", "b", expect=1)
    await c.check(r.zintercard, "a", "b", limit=1, expect=1)
    await c.check(r.zunion, "a", "b", expect=[b"x", b"z", b"y"])
    await c.check(
        r.zunion, "a", "b", withscores=True, expect=[(b"x", 1.0), (b"z", 4.0), (b"y", 5.0)]
    )
    await c.check(
        r.zunion,
        "a",
        "b",
        aggregate="MIN",
        withscores=True,
        expect=[(b"x", 1.0), (b"y", 2.0), (b"z", 4.0)],
    )
    await c.check(r.zunionstore, "d", "a", "b", weights=[1, 2], expect=3)


@CASES.case("zadd", "zpopmin", "zpopmax", "zmpop")
async def pops(c: Ctx) -> None:
    r = c.r
    await c.check(r.zadd, "z", {"a": 1, "b": 2, "c": 3, "d": 4, "e": 5}, expect=5)
    # Without COUNT, RESP3 sends one flat [member, score]; still a list of pairs.
    await c.check(r.zpopmin, "z", expect=[(b"a", 1.0)])
    await c.check(r.zpopmax, "z", expect=[(b"e", 5.0)])
    await c.check(r.zpopmin, "z", 1, expect=[(b"b", 2.0)])
    await c.check(r.zpopmax, "z", count=1, expect=[(b"d", 4.0)])
    await c.check(r.zpopmin, "nokey", expect=[])
    await c.check(r.zpopmax, "nokey", 3, expect=[])
    await c.check(r.zadd, "z", {"x": 10, "y": 11}, expect=2)
    await c.check(r.zmpop, ["nokey", "z"], "MIN", expect=(b"z", [(b"c", 3.0)]))
    await c.check(r.zmpop, ["z"], "MAX", count=5, expect=(b"z", [(b"y", 11.0), (b"x", 10.0)]))
    await c.check(r.zmpop, ["nokey"], "MIN", expect=None)


@CASES.case("zadd", "bzpopmin", "bzpopmax", "bzmpop")
async def blocking_pops(c: Ctx) -> None:
    r = c.r
    await c.check(r.zadd, "z", {"a": 1, "b": 2, "c": 3, "d": 4}, expect=4)
    await c.check(r.bzpopmin, ["nokey", "z"], 0.01, expect=(b"z", b"a", 1.0))
    await c.check(r.bzpopmax, ["z"], 0, expect=(b"z", b"d", 4.0))
    await c.check(r.bzmpop, 0.01, ["nokey", "z"], "MIN", expect=(b"z", [(b"b", 2.0)]))
    await c.check(r.bzmpop, 0.01, ["z"], "MAX", count=3, expect=(b"z", [(b"c", 3.0)]))
    # timeouts: nil
    await c.check(r.bzpopmin, ["nokey"], 0.01, expect=None)
    await c.check(r.bzpopmax, ["nokey"], 0.01, expect=None)
    await c.check(r.bzmpop, 0.01, ["nokey"], "MAX", count=2, expect=None)


@CASES.case("zadd", "zrandmember")
async def zrandmember(c: Ctx) -> None:
    r = c.r
    await c.check(r.zadd, "z", {"a": 1, "b": 2}, expect=2)
    assert await c.check(r.zrandmember, "z") in c.v({b"a", b"b"})
    await c.check(r.zrandmember, "nokey", expect=None)
    assert sorted(await c.check(r.zrandmember, "z", count=5)) == c.v([b"a", b"b"])
    await c.check(r.zrandmember, "nokey", count=2, expect=[])
    v = await c.check(r.zrandmember, "z", count=2, withscores=True)
    assert sorted(v) == c.v([(b"a", 1.0), (b"b", 2.0)])
    v = await c.check(r.zrandmember, "z", count=-3, withscores=True)
    assert len(v) == 3 and set(v) <= c.v({(b"a", 1.0), (b"b", 2.0)})
    await c.check(r.zrandmember, "nokey", count=2, withscores=True, expect=[])


@CASES.case("zadd", "zscan")
async def zscan(c: Ctx) -> None:
    r = c.r
    await c.check(r.zadd, "z", {"a": 1, "b": 2.5, "c": 3}, expect=3)
    cursor, items = await c.check(r.zscan, "z", 0)
    assert cursor == 0
    assert sorted(items) == c.v([(b"a", 1.0), (b"b", 2.5), (b"c", 3.0)])
    await c.check(r.zscan, "z", 0, match="b*", count=10, expect=(0, [(b"b", 2.5)]))
    await c.check(r.zscan, "nokey", 0, expect=(0, []))


@CASES.case("zadd", "zscan", servers=["valkey8"])
async def zscan_noscores(c: Ctx) -> None:
    r = c.r
    await c.check(r.zadd, "z", {"a": 1, "b": 2}, expect=2)
    cursor, members = await c.check(r.zscan, "z", 0, noscores=True)
    assert cursor == 0 and sorted(members) == c.v([b"a", b"b"])
    await c.check(r.zscan, "nokey", 0, noscores=True, expect=(0, []))


test_reply = CASES.test()
test_coverage = CASES.coverage_test()
