"""The hyperloglog group's generated methods against live servers (RESP3 and RESP2)."""

from __future__ import annotations

from redspec._generated.client.hyperloglog import HyperloglogCommands
from tests.integration.replies._data_support import Cases, Ctx

CASES = Cases(HyperloglogCommands, pipelines=True)


@CASES.case("pfadd", "pfcount", "pfmerge")
async def hll(c: Ctx) -> None:
    r = c.r
    await c.check(r.pfadd, "h", "a", "b", "c", expect=True)
    await c.check(r.pfadd, "h", "a", expect=False)
    await c.check(r.pfadd, "h2", expect=True)
    await c.check(r.pfadd, "h2", "c", "d", expect=True)
    await c.check(r.pfcount, "h", expect=3)
    await c.check(r.pfcount, "h", "h2", "nokey", expect=4)
    await c.check(r.pfmerge, "h3", "h", "h2", expect=True)
    await c.check(r.pfmerge, "h4", expect=True)
    await c.check(r.pfcount, "h3", expect=4)


@CASES.case("pfadd", "pfdebug")
async def internals(c: Ctx) -> None:
    r = c.r
    await c.check(r.pfadd, "h", "a", expect=True)
    await c.check(r.pfdebug, "encoding", "h", expect=b"sparse")
    await c.check(r.pfdebug, "todense", "h", expect=1)
    await c.check(r.pfdebug, "encoding", "h", expect=b"dense")
    regs = await c.check(r.pfdebug, "getreg", "h")
    assert isinstance(regs, list) and len(regs) == 16384 and sum(1 for x in regs if x) == 1


@CASES.case("pfselftest", servers=["redis8"])  # about half a second per call
async def selftest(c: Ctx) -> None:
    await c.check(c.r.pfselftest, expect=True)


test_reply = CASES.test()
test_coverage = CASES.coverage_test()
