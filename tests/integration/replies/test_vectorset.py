"""The module group (vector sets, Redis 8) generated methods against a live server.

Every call goes through ``Ctx.check``: the reply must fit the method's declared
return annotation (the reply table, ``module.txt``) and, where given, equal
``expect``. Only Redis 8.2.3 has vector sets.
"""

from __future__ import annotations

import json
import struct

import pytest

import redspec
from redspec._generated.client.vectorset import VectorsetCommands
from tests.integration.replies._data_support import Cases, Ctx

CASES = Cases(VectorsetCommands)


def fp32(*xs: float) -> bytes:
    return struct.pack(f"<{len(xs)}f", *xs)


async def _three(c: Ctx, **kw: object) -> None:
    r = c.r
    await c.check(r.vadd, "v", "a", values=[1, 0, 0], **kw, expect=True)
    await c.check(r.vadd, "v", "b", fp32=fp32(0, 1, 0), setattr='{"x": 1}', **kw, expect=True)
    await c.check(r.vadd, "v", "c", values=[0.0, 0.5, 1.0], **kw, expect=True)


@CASES.case("vadd", "vcard", "vdim", "vismember", "vrem")
async def add_remove(c: Ctx) -> None:
    r = c.r
    await _three(c)
    await c.check(r.vadd, "v", "a", values=[1, 0, 0], expect=False)  # updated, not added
    await c.check(r.vadd, "v", "d", values=[1, 1, 1], cas=True, ef=100, m=16, expect=True)
    await c.check(r.vadd, "q", "x", values=[1, 2, 3, 4], reduce=2, quantization="NOQUANT")
    await c.check(r.vadd, "bin", "x", values=[1, -1], quantization="BIN", expect=True)
    await c.check(r.vadd, "q8", "x", values=[1, -1], quantization="Q8", expect=True)
    await c.check(r.vcard, "v", expect=4)
    await c.check(r.vcard, "nokey", expect=0)
    await c.check(r.vdim, "v", expect=3)
    await c.check(r.vdim, "q", expect=2)
    with pytest.raises(redspec.ResponseError):
        await r.vdim("nokey")
    await c.check(r.vismember, "v", "a", expect=True)
    await c.check(r.vismember, "v", "zz", expect=False)
    await c.check(r.vismember, "nokey", "a", expect=False)
    await c.check(r.vrem, "v", "d", expect=True)
    await c.check(r.vrem, "v", "d", expect=False)
    await c.check(r.vrem, "nokey", "d", expect=False)


@CASES.case("vadd", "vemb")
async def vemb(c: Ctx) -> None:
    r = c.r
    await c.check(r.vadd, "v", "a", values=[3, 0, 4], quantization="NOQUANT", expect=True)
    await c.check(r.vemb, "v", "a", expect=[3.0, 0.0, 4.0])
    await c.check(r.vemb, "v", "zz", expect=None)
    await c.check(r.vemb, "nokey", "a", expect=None)
    await c.check(r.vadd, "q", "a", values=[1, 0, 0], expect=True)  # default: int8 (Q8)
    kind, blob, norm, rng = await c.check(r.vemb, "q", "a", raw=True)
    # the blob is bytes even on Redis[str] (the reply table's `binary`)
    assert kind == c.v(b"int8") and isinstance(blob, bytes) and len(blob) == 3 and norm == 1.0
    assert isinstance(rng, float)
    await c.check(r.vemb, "q", "zz", raw=True, expect=None)
    # unquantized: 3 elements (no quantization range); the blob is the normalized
    # vector, with bytes that are not UTF-8, and it goes back through VADD FP32
    raw = await c.check(r.vemb, "v", "a", raw=True)
    assert raw == (c.v(b"f32"), fp32(0.6, 0, 0.8), 5.0, None)
    await c.check(r.vadd, "w", "a", fp32=raw[1], quantization="NOQUANT", expect=True)
    assert (await c.check(r.vemb, "w", "a", raw=True))[1] == raw[1]


@CASES.case("vadd", "vgetattr", "vsetattr")
async def attributes(c: Ctx) -> None:
    r = c.r
    await _three(c)
    await c.check(r.vgetattr, "v", "b", expect=b'{"x": 1}')
    await c.check(r.vgetattr, "v", "a", expect=None)
    await c.check(r.vgetattr, "nokey", "a", expect=None)
    await c.check(r.vsetattr, "v", "a", json.dumps({"y": 2}), expect=True)
    await c.check(r.vgetattr, "v", "a", expect=b'{"y": 2}')
    await c.check(r.vsetattr, "v", "zz", "{}", expect=False)
    await c.check(r.vsetattr, "v", "a", "", expect=True)  # removes the attributes
    await c.check(r.vgetattr, "v", "a", expect=None)


@CASES.case("vadd", "vinfo")
async def vinfo(c: Ctx) -> None:
    r = c.r
    await _three(c)
    info = await c.check(r.vinfo, "v")
    v = c.v
    assert info[v(b"size")] == 3 and info[v(b"vector-dim")] == 3
    assert info[v(b"quant-type")] == v(b"int8")
    await c.check(r.vinfo, "nokey", expect=None)


@CASES.case("vadd", "vlinks")
async def vlinks(c: Ctx) -> None:
    r = c.r
    await _three(c)
    # one list per HNSW level the element is on (an upper level may be empty)
    levels = await c.check(r.vlinks, "v", "a")
    assert {m for level in levels for m in level} == c.v({b"b", b"c"})
    scored = await c.check(r.vlinks, "v", "a", withscores=True)
    assert len(scored) == len(levels)
    assert {m for level in scored for m in level} == c.v({b"b", b"c"})
    assert all(isinstance(s, float) for level in scored for s in level.values())
    await c.check(r.vlinks, "v", "zz", expect=None)
    await c.check(r.vlinks, "nokey", "a", withscores=True, expect=None)


@CASES.case("vadd", "vrandmember")
async def vrandmember(c: Ctx) -> None:
    r = c.r
    await _three(c)
    assert await c.check(r.vrandmember, "v") in c.v({b"a", b"b", b"c"})
    await c.check(r.vrandmember, "nokey", expect=None)
    assert sorted(await c.check(r.vrandmember, "v", 5)) == c.v([b"a", b"b", b"c"])
    assert len(await c.check(r.vrandmember, "v", -5)) == 5
    await c.check(r.vrandmember, "nokey", 2, expect=[])


@CASES.case("vadd", "vsim")
async def vsim(c: Ctx) -> None:
    r = c.r
    await _three(c)
    await c.check(r.vsim, "v", ele="a", count=1, expect=[b"a"])
    got = await c.check(r.vsim, "v", values=[0, 1, 0], count=3, ef=50, epsilon=0.9)
    assert got[0] == c.v(b"b")
    await c.check(r.vsim, "v", fp32=fp32(1, 0, 0), count=1, truth=True, nothread=True)
    scores = await c.check(r.vsim, "v", ele="a", withscores=True)
    assert scores[c.v(b"a")] == 1.0 and len(scores) == 3
    attrs = await c.check(r.vsim, "v", ele="a", withattribs=True)
    assert attrs == c.v({b"a": None, b"b": b'{"x": 1}', b"c": None})
    await c.check(r.vsim, "v", ele="a", filter=".x == 1", filter_ef=10, expect=[b"b"])
    await c.check(r.vsim, "nokey", ele="a", expect=[])
    await c.check(r.vsim, "nokey", ele="a", withscores=True, expect={})
    # both flags: {member: (score, attributes)} (RESP2 sends flat triples)
    both = await c.check(r.vsim, "v", ele="a", withscores=True, withattribs=True)
    assert {k: attrs for k, (_, attrs) in both.items()} == c.v(
        {b"a": None, b"b": b'{"x": 1}', b"c": None}
    )
    assert both[c.v(b"a")][0] == 1.0 and {s for s, _ in both.values()} <= {1.0, 0.5}
    await c.check(r.vsim, "nokey", ele="a", withscores=True, withattribs=True, expect={})


test_reply = CASES.test()
test_coverage = CASES.coverage_test()
