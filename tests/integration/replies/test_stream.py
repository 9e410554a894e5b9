"""The stream group's generated methods against live servers (RESP3 and RESP2).

Every call goes through ``Ctx.check``: the reply must fit the method's declared
return annotation (the reply table) and, where given, equal ``expect``.
"""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

from redspec import StreamEntry
from redspec._generated.client.stream import StreamCommands
from redspec._generated.models import StreamTrim
from tests.integration.replies._data_support import Cases, Ctx, client_for
from tests.servers import RedisServer

CASES = Cases(StreamCommands)

E = StreamEntry


@CASES.case("xadd", "xlen", "xrange", "xrevrange", "xdel", "xtrim", "xsetid")
async def entries(c: Ctx) -> None:
    r = c.r
    await c.check(r.xadd, "s", {"f": "v"}, id="1-0", expect=b"1-0")
    await c.check(r.xadd, "s", {"f": 2, b"g": 3.5}, id=b"2-0", expect=b"2-0")
    new_id = await c.check(r.xadd, "s", {"a": "b"})
    assert c.v(b"-") in new_id
    await c.check(r.xadd, "nokey", {"a": "b"}, nomkstream=True, expect=None)
    await c.check(
        r.xadd, "s", {"a": "b"}, id="5-0", nomkstream=True, expect=None
    ) if False else None
    await c.check(r.xlen, "s", expect=3)
    await c.check(r.xlen, "nokey", expect=0)
    await c.check(
        r.xrange,
        "s",
        "-",
        "+",
        count=2,
        expect=[E(b"1-0", {b"f": b"v"}), E(b"2-0", {b"f": b"2", b"g": b"3.5"})],
    )
    await c.check(r.xrange, "nokey", "-", "+", expect=[])
    await c.check(
        r.xrevrange,
        "s",
        "2-0",
        "-",
        expect=[
            E(b"2-0", {b"f": b"2", b"g": b"3.5"}),
            E(b"1-0", {b"f": b"v"}),
        ],
    )
    await c.check(r.xrevrange, "s", "+", "-", count=1, expect=[E(new_id, {b"a": b"b"})])
    await c.check(r.xdel, "s", "1-0", "9-9", expect=1)
    await c.check(r.xtrim, "s", "MAXLEN", 1, expect=1)
    await c.check(r.xtrim, "s", "MINID", "0-1", operator="~", limit=10, expect=0)
    await c.check(r.xtrim, "s", "MAXLEN", 5, operator="=", expect=0)
    await c.check(r.xsetid, "s", "999999999999999-0", expect=True)
    await c.check(
        r.xsetid, "s", "999999999999999-1", entriesadded=10, maxdeletedid="5-0", expect=True
    )
    await c.check(
        r.xadd,
        "s",
        {"x": 1},
        id="999999999999999-5",
        trim=StreamTrim("MAXLEN", 0, operator="="),
        expect=b"999999999999999-5",
    )
    await c.check(r.xlen, "s", expect=0)


@CASES.case("xadd", "xread")
async def xread(c: Ctx) -> None:
    r = c.r
    await c.check(r.xadd, "s", {"f": "v"}, id="1-0", expect=b"1-0")
    await c.check(r.xadd, "s", {"f": "w"}, id="2-0", expect=b"2-0")
    await c.check(r.xadd, "t", {"g": "x"}, id="3-0", expect=b"3-0")
    await c.check(
        r.xread,
        {"s": "0", b"t": "0-0"},
        expect={
            b"s": [E(b"1-0", {b"f": b"v"}), E(b"2-0", {b"f": b"w"})],
            b"t": [E(b"3-0", {b"g": b"x"})],
        },
    )
    await c.check(r.xread, {"s": "1-0"}, count=1, expect={b"s": [E(b"2-0", {b"f": b"w"})]})
    # nothing new: nil on the wire, {} here
    await c.check(r.xread, {"s": "2-0"}, expect={})
    await c.check(r.xread, {"s": "$"}, block=10, expect={})
    await c.check(r.xread, {"nokey": "0"}, block=timedelta(milliseconds=10), count=5, expect={})
    await c.check(r.xread, {"s": "0"}, block=10, count=1, expect={b"s": [E(b"1-0", {b"f": b"v"})]})


@CASES.case(
    "xadd",
    "xgroup_create",
    "xgroup_createconsumer",
    "xgroup_delconsumer",
    "xgroup_destroy",
    "xgroup_setid",
    "xreadgroup",
    "xack",
    "xinfo_groups",
    "xinfo_consumers",
)
async def groups(c: Ctx) -> None:
    r = c.r
    await c.check(r.xgroup_create, "s", "g", "$", mkstream=True, expect=True)
    await c.check(r.xgroup_create, "s", "g2", "0", entries_read=0, expect=True)
    await c.check(r.xadd, "s", {"f": "v"}, id="1-0", expect=b"1-0")
    await c.check(r.xadd, "s", {"f": "w"}, id="2-0", expect=b"2-0")
    await c.check(r.xgroup_createconsumer, "s", "g", "c0", expect=True)
    await c.check(r.xgroup_createconsumer, "s", "g", "c0", expect=False)
    await c.check(r.xgroup_setid, "s", "g", "0", expect=True)
    await c.check(r.xgroup_setid, "s", "g2", "$", entries_read=2, expect=True)
    await c.check(
        r.xreadgroup, "g", "c1", {"s": ">"}, count=1, expect={b"s": [E(b"1-0", {b"f": b"v"})]}
    )
    await c.check(
        r.xreadgroup, "g", "c1", {"s": ">"}, noack=True, expect={b"s": [E(b"2-0", {b"f": b"w"})]}
    )
    await c.check(r.xreadgroup, "g", "c1", {"s": ">"}, block=10, expect={})
    # history of c1: only the acknowledged-by-need entry 1-0 is pending (2-0 was NOACK)
    await c.check(r.xreadgroup, "g", "c1", {"s": "0"}, expect={b"s": [E(b"1-0", {b"f": b"v"})]})
    groups = await c.check(r.xinfo_groups, "s")
    v = c.v
    assert [g.name for g in groups] == v([b"g", b"g2"])
    assert groups[0].pending == 1 and groups[0].consumers == 2
    assert groups[0].last_delivered_id == v(b"2-0")
    consumers = await c.check(r.xinfo_consumers, "s", "g")
    assert {x.name: x.pending for x in consumers} == v({b"c0": 0, b"c1": 1})
    assert all(isinstance(x.idle, int) for x in consumers)
    await c.check(r.xack, "s", "g", "1-0", "9-0", expect=1)
    await c.check(r.xack, "s", "g", "1-0", expect=0)
    await c.check(r.xgroup_delconsumer, "s", "g", "c1", expect=0)
    await c.check(r.xgroup_delconsumer, "s", "g", "nobody", expect=0)
    await c.check(r.xgroup_destroy, "s", "g2", expect=True)
    await c.check(r.xgroup_destroy, "s", "g2", expect=False)
    consumers = await c.check(r.xinfo_consumers, "s", "g")
    assert [x.name for x in consumers] == v([b"c0"])


@CASES.case(
    "xadd",
    "xgroup_create",
    "xreadgroup",
    "xdel",
    "xclaim",
    "xautoclaim",
    "xpending",
    "xpending_range",
)
async def claims(c: Ctx) -> None:
    r = c.r
    for i in (1, 2, 3):
        await c.check(r.xadd, "s", {"f": i}, id=f"{i}-0", expect=f"{i}-0".encode())
    await c.check(r.xgroup_create, "s", "g", "0", expect=True)
    got = await c.check(r.xreadgroup, "g", "c1", {"s": ">"})
    assert [e.id for e in got[c.v(b"s")]] == c.v([b"1-0", b"2-0", b"3-0"])
    await c.check(r.xdel, "s", "2-0", expect=1)
    # An entry deleted while pending comes back with empty fields (and is not
    # counted as delivered again).
    await c.check(
        r.xreadgroup,
        "g",
        "c1",
        {"s": "0"},
        expect={b"s": [E(b"1-0", {b"f": b"1"}), E(b"2-0", {}), E(b"3-0", {b"f": b"3"})]},
    )
    pending = await c.check(r.xpending, "s", "g", start="-", end="+", count=10)
    assert [(p.id, p.consumer, p.deliveries) for p in pending] == c.v(
        [(b"1-0", b"c1", 2), (b"2-0", b"c1", 1), (b"3-0", b"c1", 2)]
    )
    assert all(isinstance(p.idle, int) for p in pending)
    await c.check(r.xpending, "s", "g", idle=0, start="-", end="+", count=1, consumername="c1")
    await c.check(
        r.xpending, "s", "g", start="-", end="+", count=10, consumername="nobody", expect=[]
    )
    ranged = await c.check(r.xpending_range, "s", "g", "-", "+", 10)
    assert [p.id for p in ranged] == c.v([b"1-0", b"2-0", b"3-0"])
    await c.check(r.xpending_range, "s", "g", "-", "+", 10, consumername="nobody", expect=[])
    # XAUTOCLAIM drops the deleted entry from the PEL and reports its id.
    await c.check(
        r.xautoclaim,
        "s",
        "g",
        "c2",
        0,
        "0-0",
        count=10,
        expect=(b"0-0", [E(b"1-0", {b"f": b"1"}), E(b"3-0", {b"f": b"3"})], [b"2-0"]),
    )
    await c.check(
        r.xautoclaim, "s", "g", "c3", 0, "0-0", justid=True, expect=(b"0-0", [b"1-0", b"3-0"], [])
    )
    await c.check(r.xclaim, "s", "g", "c4", 0, "1-0", expect=[E(b"1-0", {b"f": b"1"})])
    await c.check(
        r.xclaim,
        "s",
        "g",
        "c4",
        0,
        "3-0",
        "9-0",
        idle=5,
        retrycount=7,
        force=False,
        justid=True,
        expect=[b"3-0"],
    )
    await c.check(
        r.xclaim,
        "s",
        "g",
        "c5",
        0,
        "1-0",
        time=datetime.now(timezone.utc) - timedelta(seconds=1),
        lastid="3-0",
        expect=[E(b"1-0", {b"f": b"1"})],
    )
    await c.check(r.xclaim, "s", "g", "c5", 3_600_000, "1-0", expect=[])


@CASES.case("xadd", "xgroup_create", "xreadgroup", "xinfo_stream")
async def xinfo_stream(c: Ctx) -> None:
    r = c.r
    await c.check(r.xadd, "s", {"f": "v"}, id="1-0", expect=b"1-0")
    await c.check(r.xadd, "s", {"f": "w"}, id="2-0", expect=b"2-0")
    await c.check(r.xgroup_create, "s", "g", "0", expect=True)
    await c.check(r.xreadgroup, "g", "c", {"s": ">"}, count=1)
    v = c.v
    info = await c.check(r.xinfo_stream, "s")
    assert info.length == 2 and info.groups == 1
    assert info.last_generated_id == v(b"2-0")
    assert info.first_entry == E(v(b"1-0"), v({b"f": b"v"}))
    assert info.last_entry == E(v(b"2-0"), v({b"f": b"w"}))
    full = await c.check(r.xinfo_stream, "s", full=True)
    assert full[v(b"length")] == 2 and isinstance(full[v(b"groups")], list)
    assert full[v(b"entries")][1] == E(v(b"2-0"), v({b"f": b"w"}))
    (group,) = full[v(b"groups")]
    assert group[v(b"name")] == v(b"g") and group[v(b"pel-count")] == 1
    assert group[v(b"pending")][0][:2] == v([b"1-0", b"c"])
    (consumer,) = group[v(b"consumers")]
    assert consumer[v(b"name")] == v(b"c") and consumer[v(b"pending")][0][0] == v(b"1-0")
    full = await c.check(r.xinfo_stream, "s", full=True, count=1)
    assert len(full[v(b"entries")]) == 1


@CASES.case("xinfo_help", "xgroup_help")
async def helps(c: Ctx) -> None:
    r = c.r
    lines = await c.check(r.xinfo_help)
    assert lines[0].startswith(c.v(b"XINFO <subcommand>"))
    lines = await c.check(r.xgroup_help)
    assert lines[0].startswith(c.v(b"XGROUP <subcommand>"))


@CASES.case(
    "xadd", "xgroup_create", "xreadgroup", "xackdel", "xdelex", "xtrim", "xlen", "xinfo_consumers"
)
async def delete_refs(c: Ctx) -> None:
    """Redis 8.2: the KEEPREF/DELREF/ACKED variants."""
    r = c.r
    for i in (1, 2, 3, 4):
        await c.check(r.xadd, "s", {"f": i}, id=f"{i}-0", expect=f"{i}-0".encode())
    await c.check(r.xadd, "s", {"f": 5}, id="5-0", condition="KEEPREF", expect=b"5-0")
    await c.check(r.xgroup_create, "s", "g", "0", expect=True)
    await c.check(r.xgroup_create, "s", "g2", "0", expect=True)
    await c.check(r.xreadgroup, "g", "c", {"s": ">"}, count=3)
    await c.check(r.xreadgroup, "g2", "c", {"s": ">"}, count=1)
    # per id: 1 done, -1 no such id, 2 not deleted (still pending in g2)
    await c.check(r.xackdel, "s", "g", "2-0", "9-0", expect=[1, -1])
    await c.check(r.xackdel, "s", "g", "1-0", condition="ACKED", expect=[2])
    await c.check(r.xdelex, "s", "3-0", "9-0", expect=[1, -1])
    await c.check(r.xdelex, "s", "1-0", condition="ACKED", expect=[2])
    await c.check(r.xtrim, "s", "MAXLEN", 0, condition="DELREF", expect=3)
    await c.check(r.xlen, "s", expect=0)
    await c.check(r.xinfo_consumers, "s", "g")


@CASES.case("xgroup_create", "xadd", "xreadgroup", "xpending")
async def xpending_summary(c: Ctx) -> None:
    r = c.r
    await c.check(r.xgroup_create, "s", "g", "$", mkstream=True, expect=True)
    await c.check(r.xpending, "s", "g", expect=(0, None, None, {}))
    await c.check(r.xadd, "s", {"f": "v"}, id="1-0", expect=b"1-0")
    await c.check(r.xadd, "s", {"f": "v"}, id="2-0", expect=b"2-0")
    await c.check(r.xreadgroup, "g", "c1", {"s": ">"}, count=1)
    await c.check(r.xreadgroup, "g", "c2", {"s": ">"})
    # the per-consumer counts are bulk strings on the wire
    await c.check(r.xpending, "s", "g", expect=(2, b"1-0", b"2-0", {b"c1": 1, b"c2": 1}))


async def test_xinfo_full_same_on_both_protocols(redis8: RedisServer) -> None:
    values = []
    for protocol in (3, 2):
        r = client_for(redis8, protocol)
        try:
            await r.execute_command("FLUSHALL")
            await r.xadd("s", {"f": "v"}, id="1-0")
            await r.xgroup_create("s", "g", "0")
            full = await r.xinfo_stream("s", full=True)
            values.append(
                full[b"groups"][0][b"name"] if isinstance(full[b"groups"][0], dict) else None
            )
        finally:
            await r.aclose()
    assert values == [b"g", b"g"]


test_reply = CASES.test()
test_coverage = CASES.coverage_test()
