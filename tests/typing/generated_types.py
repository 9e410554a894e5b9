"""mypy --strict checks of generated method types (run by test_generated_typing.py)."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import AnyStr

from typing_extensions import assert_type

from redspec._generated.client import Commands
from redspec._generated.models import BitfieldGet, BitfieldSet, StreamTrim
from redspec._generated.pipeline import PipelineCommands
from redspec.pipeline import Pending
from redspec.types import GeoMatch, PendingEntry, RespValue, StreamEntry


class C(Commands[AnyStr]):
    """What Redis[bytes] / Redis[str] look like to the generated methods."""


class P(PipelineCommands[AnyStr]):
    pass


async def strings(rb: C[bytes], rs: C[str], flag: bool) -> None:
    assert_type(await rb.get("k"), bytes | None)
    assert_type(await rs.get("k"), str | None)
    assert_type(await rb.set("k", "v"), bool)
    assert_type(await rb.set("k", "v", ex=10), bool)
    assert_type(await rb.set("k", "v", ex=10, nx=True), bool | None)
    assert_type(await rb.set("k", "v", xx=True, keepttl=True), bool | None)
    assert_type(await rs.set("k", "v", ifeq="old"), bool | None)
    assert_type(await rb.set("k", "v", nx=flag), bool | bytes | None)
    assert_type(await rb.ping(), bytes)
    assert_type(await rs.ping("hi"), str)
    assert_type(await rb.set("k", "v", get=True), bytes | None)
    assert_type(await rs.set("k", "v", get=True), str | None)
    assert_type(await rb.set("k", "v", get=flag), bool | bytes | None)
    assert_type(await rb.incr("n"), int)
    assert_type(await rb.incrbyfloat("n", 1.5), float)
    assert_type(await rb.delete("a", "b"), int)
    assert_type(await rb.mget("a", "b"), list[bytes | None])
    assert_type(await rb.mset({"a": 1, b"b": "x"}), bool)


async def collections(rb: C[bytes], rs: C[str]) -> None:
    assert_type(await rb.hgetall("h"), dict[bytes, bytes])
    assert_type(await rs.hgetall("h"), dict[str, str])
    assert_type(await rb.hset("h", mapping={"a": 1}), int)
    assert_type(await rb.zrange("z", 0, -1), list[bytes])
    assert_type(await rb.zrange("z", 0, -1, withscores=True), list[tuple[bytes, float]])
    assert_type(await rs.zrange("z", "(1", "+inf", sortby="BYSCORE", limit=(0, 10)), list[str])
    assert_type(await rb.zadd("z", {"a": 1.0}), int)
    assert_type(await rb.zadd("z", {"a": 1.0}, incr=True), float | None)
    assert_type(await rb.smembers("s"), set[bytes])
    assert_type(await rb.lpop("l"), bytes | None)
    assert_type(await rb.zrandmember("z"), bytes | None)
    assert_type(await rb.zrandmember("z", count=2), list[bytes])
    assert_type(await rb.zrandmember("z", count=2, withscores=True), list[tuple[bytes, float]])
    assert_type(await rs.hrandfield("h", count=2, withvalues=True), list[tuple[str, str]])
    assert_type(await rb.lpop("l", 2), list[bytes] | None)
    assert_type(await rb.blpop(["a"], 1.5), tuple[bytes, bytes] | None)
    assert_type(
        await rb.bitfield("b", operations=[BitfieldGet("u8", 0), BitfieldSet("u8", 0, 1)]),
        list[int | None],
    )


async def streams_geo_scripts(rb: C[bytes], rs: C[str]) -> None:
    assert_type(await rs.xrange("s", "-", "+"), list[StreamEntry[str]])
    assert_type(await rb.xadd("s", {"f": "v"}), bytes)
    assert_type(await rb.xadd("s", {"f": "v"}, nomkstream=True), bytes | None)
    assert_type(await rb.xadd("s", {"f": 1}, trim=StreamTrim("MAXLEN", 10, operator="~")), bytes)
    assert_type(await rb.xread({"s": "0-0"}, block=100), dict[bytes, list[StreamEntry[bytes]]])
    assert_type(
        await rs.xreadgroup("g", "c", {"s": ">"}, count=1), dict[str, list[StreamEntry[str]]]
    )
    assert_type(await rb.geosearch("g", frommember="m", byradius=(1, "KM")), list[bytes])
    assert_type(
        await rb.geosearch("g", fromlonlat=(1.0, 2.0), bybox=(1, 2, "M"), withdist=True),
        list[GeoMatch[bytes]],
    )
    assert_type(await rb.eval("return 1", keys=["k"], args=[1]), RespValue)
    assert_type(await rb.fcall("f", ["k"]), RespValue)


async def vectors_binary_durations(rb: C[bytes], rs: C[str], when: datetime) -> None:
    # exactly one of ele= / values= / fp32= (the overloads require it)
    assert_type(await rb.vadd("v", "e", values=[1.0, 0.0]), bool)
    assert_type(await rb.vadd("v", "e", fp32=b"\x00\x00\x80\x3f", setattr="{}"), bool)
    assert_type(await rb.vsim("v", ele="a", count=3), list[bytes])
    assert_type(await rs.vsim("v", values=[1.0], withscores=True), dict[str, float])
    assert_type(await rs.vsim("v", ele="a", withattribs=True), dict[str, str | None])
    assert_type(
        await rb.vsim("v", fp32=b"", withscores=True, withattribs=True),
        dict[bytes, tuple[float, bytes | None]],
    )
    # binary payloads are bytes on Redis[str] too, and go back as they are
    assert_type(await rs.vemb("v", "e", raw=True), tuple[str, bytes, float, float | None] | None)
    payload = await rs.dump("k")
    assert_type(payload, bytes | None)
    assert_type(await rs.function_dump(), bytes)
    if payload is not None:
        assert_type(await rs.restore("k2", timedelta(seconds=5), payload), bool)
        assert_type(await rs.restore("k2", when, payload, replace=True), bool)
        assert_type(await rs.restore("k2", 0, payload), bool)
    assert_type(await rb.wait(1, timedelta(milliseconds=100)), int)
    assert_type(await rb.waitaof(1, 0, 100), tuple[int, int])


async def redis_py_forms(rb: C[bytes], rs: C[str], keys: list[str]) -> None:
    # codegen/compat.py: redis-py's spellings, typed like the spec's
    assert_type(await rb.mget(keys), list[bytes | None])
    assert_type(await rb.delete(("a", "b")), int)
    assert_type(await rs.blpop("k", 1), tuple[str, str] | None)
    assert_type(await rb.hset("h", "f", "v"), int)
    assert_type(await rb.hset("h", mapping={"a": 1}, items=["b", 2]), int)
    assert_type(await rb.expire("k", 10, nx=True), bool)
    assert_type(await rb.xadd("s", {"f": 1}, "1-0", maxlen=10, approximate=False), bytes)
    assert_type(await rb.xtrim("s", minid="1-0"), int)
    assert_type(await rs.xrange("s", "-", "+", 10), list[StreamEntry[str]])
    assert_type(
        await rs.xreadgroup(groupname="g", consumername="c", streams={"s": ">"}, count=1),
        dict[str, list[StreamEntry[str]]],
    )
    assert_type(await rb.xpending_range("s", "g", "-", "+", 10), list[PendingEntry[bytes]])
    assert_type(await rb.xclaim("s", "g", "c", 0, ["1-0"], justid=True), list[bytes])
    assert_type(await rb.zrange("z", 0, 1, desc=True, withscores=True), list[tuple[bytes, float]])
    assert_type(await rb.zadd("z", {"a": 1}, nx=True, ch=True), int)
    assert_type(await rb.geoadd("g", values=(1.0, 2.0, "m")), int)
    assert_type(await rb.geosearch("g", member="m", radius=1, unit="km"), list[bytes])
    assert_type(
        await rb.geosearch("g", longitude=1, latitude=2, width=1, height=2, withdist=True),
        list[GeoMatch[bytes]],
    )
    assert_type(await rb.scan(_type="string"), tuple[int, list[bytes]])
    assert_type(await rb.config_set("maxmemory", "10mb"), bool)
    assert_type(await rb.flushall(asynchronous=True), bool)


def _optional(pending: Pending[bytes | None]) -> bytes | None:
    return pending.result()


def pipeline(p: P[bytes]) -> None:
    assert_type(p.get("k"), Pending[bytes | None])
    assert_type(p.set("k", 1), Pending[bool])
    assert_type(p.set("k", 1, nx=True), Pending[bool | None])
    # Pending is covariant: a Pending[bytes] is a Pending[bytes | None]
    assert_type(_optional(p.xadd("s", {"f": 1})), bytes | None)
    assert_type(p.ping(), Pending[bytes])
    assert_type(p.zrange("z", 0, 1, withscores=True), Pending[list[tuple[bytes, float]]])
    assert_type(p.get("k").result(), bytes | None)
