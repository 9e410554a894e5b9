"""The bitmap group's generated methods against live servers (RESP3 and RESP2)."""

from __future__ import annotations

from redspec._generated.client.bitmap import BitmapCommands
from redspec._generated.models import BitfieldGet, BitfieldIncrby, BitfieldOverflow, BitfieldSet
from tests.integration.replies._data_support import Cases, Ctx

CASES = Cases(BitmapCommands, pipelines=True)


@CASES.case("setbit", "getbit", "bitcount", "bitpos")
async def bits(c: Ctx) -> None:
    r = c.r
    await c.check(r.setbit, "b", 7, 1, expect=0)
    await c.check(r.setbit, "b", 7, 1, expect=1)
    await c.check(r.setbit, "b", 9, 1, expect=0)
    await c.check(r.getbit, "b", 7, expect=1)
    await c.check(r.getbit, "nokey", 3, expect=0)
    await c.check(r.bitcount, "b", expect=2)
    await c.check(r.bitcount, "b", start=1, end=-1, expect=1)
    await c.check(r.bitcount, "b", start=0, end=7, unit="BIT", expect=1)
    await c.check(r.bitcount, "nokey", expect=0)
    await c.check(r.bitpos, "b", 1, expect=7)
    await c.check(r.bitpos, "b", 1, start=1, expect=9)
    await c.check(r.bitpos, "b", 0, start=0, end=7, unit="BIT", expect=0)
    await c.check(r.bitpos, "nokey", 1, expect=-1)


@CASES.case("bitop", "setbit", "getbit")
async def bitop(c: Ctx) -> None:
    r = c.r
    await c.check(r.setbit, "a", 0, 1, expect=0)
    await c.check(r.setbit, "b", 1, 1, expect=0)
    await c.check(r.bitop, "OR", "d", "a", "b", expect=1)
    await c.check(r.getbit, "d", 1, expect=1)
    await c.check(r.bitop, "AND", "d", "a", "b", expect=1)
    await c.check(r.bitop, "XOR", "d", "a", "b", expect=1)
    await c.check(r.bitop, "NOT", "d", "a", expect=1)
    await c.check(r.bitop, "AND", "d", "nokey", expect=0)


@CASES.case("bitop", "setbit", servers=["redis8"])
async def bitop_redis8_operations(c: Ctx) -> None:
    r = c.r
    await c.check(r.setbit, "a", 0, 1, expect=0)
    await c.check(r.setbit, "b", 1, 1, expect=0)
    for op in ("DIFF", "DIFF1", "ANDOR", "ONE"):
        await c.check(r.bitop, op, "d", "a", "b", expect=1)


@CASES.case("bitfield", "bitfield_ro")
async def bitfield(c: Ctx) -> None:
    r = c.r
    ops = [
        BitfieldSet("u8", 0, 200),
        BitfieldGet("u8", 0),
        BitfieldIncrby("u8", 0, 100),
        BitfieldOverflow("FAIL"),
        BitfieldIncrby("u8", 0, 300),
        BitfieldOverflow("SAT"),
        BitfieldIncrby("u8", 0, 300),
    ]
    await c.check(r.bitfield, "bf", operations=ops, expect=[0, 200, 44, None, 255])
    await c.check(r.bitfield, "bf", expect=[])
    await c.check(r.bitfield_ro, "bf", get=[("u8", 0), ("i4", 0)], expect=[255, -1])
    await c.check(r.bitfield_ro, "bf", expect=[])


test_reply = CASES.test()
test_coverage = CASES.coverage_test()
