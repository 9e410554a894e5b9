"""Generated methods build the exact argv for the hard argument shapes, and refuse bad input.

No server: a fake host records what the methods would send.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import timedelta
from typing import Any

import pytest

from redspec import DataError
from redspec._base import READ, WRITE
from redspec._generated.client import Commands
from redspec._generated.models import (
    BitfieldGet,
    BitfieldIncrby,
    BitfieldOverflow,
    BitfieldSet,
    StreamTrim,
)
from redspec._generated.pipeline import PipelineCommands


class Fake(Commands[bytes]):
    def __init__(self, reply: Any = None) -> None:
        self.calls: list[tuple[list[Any], Any]] = []
        self.reply = reply

    async def _call(self, args: Sequence[Any], mode: int) -> Any:
        self.calls.append((list(args), mode))
        return self.reply

    async def _call_blocking(self, args: Sequence[Any], block: float | None) -> Any:
        self.calls.append((list(args), ("blocking", block)))
        return self.reply

    @property
    def argv(self) -> list[Any]:
        assert len(self.calls) == 1, self.calls
        return self.calls[0][0]


async def test_names_and_varargs() -> None:
    f = Fake(2)
    assert await f.delete("a", "b") == 2
    assert f.calls == [(["DEL", "a", "b"], WRITE)]
    f = Fake(b"OK")
    assert await f.client_no_evict("ON") is True
    assert f.argv == ["CLIENT", "NO-EVICT", "ON"]
    assert hasattr(f, "restore_asking") and hasattr(f, "cluster_set_config_epoch")
    f = Fake()
    await f.get("k")
    assert f.calls == [(["GET", "k"], READ)]


async def test_set_options_and_exclusive_check() -> None:
    f = Fake(b"OK")
    assert await f.set("k", "v", ex=timedelta(seconds=10), nx=True) is True
    assert f.argv == ["SET", "k", "v", "NX", "EX", 10]
    f = Fake(b"old")
    assert await f.set("k", "v", get=True, keepttl=True) == b"old"
    assert f.argv == ["SET", "k", "v", "GET", "KEEPTTL"]
    f = Fake()
    with pytest.raises(DataError, match="nx and xx"):
        await f.set("k", "v", nx=True, xx=True)
    with pytest.raises(DataError, match="ex and px"):
        await f.set("k", "v", ex=1, px=5)
    assert f.calls == []


async def test_bitfield_operations() -> None:
    f = Fake([0, 1])
    await f.bitfield(
        "bf",
        operations=[
            BitfieldGet("u8", 0),
            BitfieldOverflow("SAT"),
            BitfieldSet("i5", 10, 3),
            BitfieldIncrby("u2", 100, 1),
        ],
    )
    assert f.argv == [
        "BITFIELD",
        "bf",
        "GET",
        "u8",
        0,
        "OVERFLOW",
        "SAT",
        "SET",
        "i5",
        10,
        3,
        "INCRBY",
        "u2",
        100,
        1,
    ]
    with pytest.raises(DataError):
        await f.bitfield("bf", operations=[("GET", "u8", 0)])  # type: ignore[list-item]


async def test_geosearch() -> None:
    f = Fake([])
    await f.geosearch("g", fromlonlat=(13.4, 52.5), byradius=(10, "KM"), count=5, any=True)
    assert f.argv == [
        "GEOSEARCH",
        "g",
        "FROMLONLAT",
        13.4,
        52.5,
        "BYRADIUS",
        10,
        "KM",
        "COUNT",
        5,
        "ANY",
    ]
    f = Fake([[b"m", b"0.5"]])
    res = await f.geosearch("g", frommember="m", bybox=(1, 2, "M"), order="ASC", withdist=True)
    assert res[0].member == b"m" and res[0].dist == 0.5
    assert f.argv == ["GEOSEARCH", "g", "FROMMEMBER", "m", "BYBOX", 1, 2, "M", "ASC", "WITHDIST"]
    f = Fake()
    with pytest.raises(DataError, match="frommember"):
        await f.geosearch("g", frommember="m", fromlonlat=(1, 2), byradius=(1, "M"))
    with pytest.raises(DataError):
        await f.geosearch("g", frommember="m")  # neither byradius nor bybox
    with pytest.raises(DataError, match="any"):
        await f.geosearch("g", frommember="m", byradius=(1, "M"), any=True)
    assert f.calls == []


async def test_xadd_xtrim() -> None:
    f = Fake(b"1-0")
    await f.xadd("s", {"f": "v"})
    assert f.argv == ["XADD", "s", "*", "f", "v"]
    f = Fake(b"1-0")
    await f.xadd(
        "s",
        {"f": 1},
        id="5-0",
        nomkstream=True,
        trim=StreamTrim("MAXLEN", 1000, operator="~", limit=10),
    )
    assert f.argv == ["XADD", "s", "NOMKSTREAM", "MAXLEN", "~", 1000, "LIMIT", 10, "5-0", "f", 1]
    f = Fake(0)
    await f.xtrim("s", "MINID", "0-1", operator="=")
    assert f.argv == ["XTRIM", "s", "MINID", "=", "0-1"]


async def test_client_kill_filters() -> None:
    f = Fake(1)
    await f.client_kill(type="PUBSUB", skipme="YES", maxage=60)
    assert f.argv == ["CLIENT", "KILL", "TYPE", "PUBSUB", "SKIPME", "YES", "MAXAGE", 60]
    f = Fake()
    with pytest.raises(DataError, match="at least one"):
        await f.client_kill()
    assert f.calls == []


async def test_sort() -> None:
    f = Fake([])
    await f.sort("l", by="w_*", limit=(0, 10), get=["#", "o_*"], order="DESC", alpha=True)
    assert f.argv == [
        "SORT",
        "l",
        "BY",
        "w_*",
        "LIMIT",
        0,
        10,
        "GET",
        "#",
        "GET",
        "o_*",
        "DESC",
        "ALPHA",
    ]
    f = Fake(3)
    assert await f.sort("l", store="dst") == 3
    assert f.argv == ["SORT", "l", "STORE", "dst"]
    f = Fake()
    with pytest.raises(DataError, match="get"):
        await f.sort("l", get="#")
    assert f.calls == []


async def test_migrate() -> None:
    f = Fake(b"OK")
    await f.migrate("h", 6379, "", 0, 5000, copy=True, auth2=("u", "p"), keys=["a", "b"])
    assert f.argv == [
        "MIGRATE",
        "h",
        6379,
        "",
        0,
        5000,
        "COPY",
        "AUTH2",
        "u",
        "p",
        "KEYS",
        "a",
        "b",
    ]
    f = Fake()
    with pytest.raises(DataError):
        await f.migrate("h", 1, "k", 0, 1, auth="x", auth2=("u", "p"))
    with pytest.raises(DataError):
        await f.migrate("h", 1, "", 0, 1, keys="ab")
    assert f.calls == []


async def test_mpop_family() -> None:
    f = Fake(None)
    await f.lmpop(["a", "b"], "LEFT", count=3)
    assert f.argv == ["LMPOP", 2, "a", "b", "LEFT", "COUNT", 3]
    f = Fake(None)
    await f.bzmpop(1.5, ["z"], "MIN")
    assert f.calls == [(["BZMPOP", 1.5, 1, "z", "MIN"], ("blocking", 1.5))]
    f = Fake(None)
    await f.lmpop("ab", "LEFT")  # one key alone, as redis-py's blpop("k", 0) takes it
    assert f.argv == ["LMPOP", 1, "ab", "LEFT"]
    f = Fake()
    with pytest.raises(DataError, match="keys"):
        await f.lmpop(object(), "LEFT")  # type: ignore[arg-type]
    assert f.calls == []


async def test_hash_field_expiry() -> None:
    f = Fake(1)
    assert await f.hsetex("h", {"f1": "v1", "f2": 2}, condition="FNX", px=1500) is True
    assert f.argv == ["HSETEX", "h", "FNX", "PX", 1500, "FIELDS", 2, "f1", "v1", "f2", 2]
    f = Fake([b"v", None])
    await f.hgetex("h", "f1", "f2", ex=timedelta(minutes=1))
    assert f.argv == ["HGETEX", "h", "EX", 60, "FIELDS", 2, "f1", "f2"]
    f = Fake()
    with pytest.raises(DataError):
        await f.hgetex("h", "f", ex=1, persist=True)
    assert f.calls == []


async def test_weights_and_counters() -> None:
    f = Fake(2)
    await f.zunionstore("d", "a", "b", weights=[1.5, 0.5], aggregate="MAX")
    assert f.argv == ["ZUNIONSTORE", "d", 2, "a", "b", "WEIGHTS", 1.5, 0.5, "AGGREGATE", "MAX"]
    f = Fake(2)
    await f.zinterstore("d", "a", weights=[2])
    assert f.argv == ["ZINTERSTORE", "d", 1, "a", "WEIGHTS", 2]
    f = Fake()
    with pytest.raises(DataError, match="weights"):
        await f.zunionstore("d", "a", weights="1")  # type: ignore[arg-type]
    f = Fake(None)
    await f.eval("return 1", keys=["k1", "k2"], args=[1, "x"])
    assert f.argv == ["EVAL", "return 1", 2, "k1", "k2", 1, "x"]
    f = Fake(None)
    await f.fcall("fn")
    assert f.argv == ["FCALL", "fn", 0]


async def test_xread_blocks_only_with_block() -> None:
    f = Fake(None)
    assert await f.xread({"s": "0-0"}, count=2) == {}
    assert f.calls == [(["XREAD", "COUNT", 2, "STREAMS", "s", "0-0"], READ)]
    f = Fake(None)
    await f.xreadgroup("g", "c", {"s1": ">", "s2": ">"}, block=timedelta(milliseconds=500))
    assert f.calls == [
        (
            ["XREADGROUP", "GROUP", "g", "c", "BLOCK", 500, "STREAMS", "s1", "s2", ">", ">"],
            ("blocking", 0.5),
        )
    ]
    f = Fake(None)
    await f.blpop(["a", "b"], 0)
    assert f.calls == [(["BLPOP", "a", "b", 0], ("blocking", 0))]


async def test_zrange_withscores_converts() -> None:
    f = Fake([b"a", b"1", b"b", b"2.5"])
    assert await f.zrange("z", 0, -1, withscores=True) == [(b"a", 1.0), (b"b", 2.5)]
    assert f.argv == ["ZRANGE", "z", 0, -1, "WITHSCORES"]


async def test_more_shapes() -> None:
    f = Fake(3)
    await f.bitcount("b", start=0, end=-1, unit="BIT")
    assert f.argv == ["BITCOUNT", "b", 0, -1, "BIT"]
    f = Fake(3)
    await f.bitpos("b", 1, start=2)
    assert f.argv == ["BITPOS", "b", 1, 2]
    f = Fake(b"OK")
    await f.cluster_setslot(5, importing="node-a")
    assert f.argv == ["CLUSTER", "SETSLOT", 5, "IMPORTING", "node-a"]
    f = Fake(b"OK")
    await f.replicaof(no_one=True)
    assert f.argv == ["REPLICAOF", "NO", "ONE"]
    f = Fake(b"OK")
    await f.replicaof(host="h", port=6379)
    assert f.argv == ["REPLICAOF", "h", 6379]
    f = Fake({})
    await f.xinfo_stream("s", full=True, count=5)
    assert f.argv == ["XINFO", "STREAM", "s", "FULL", "COUNT", 5]
    f = Fake(1)
    await f.vadd("v", "e", values=[0.5, 1.0, 2.0], quantization="Q8")
    assert f.argv == ["VADD", "v", "VALUES", 3, 0.5, 1.0, 2.0, "e", "Q8"]
    f = Fake()
    with pytest.raises(DataError):
        await f.bitcount("b", end=5)  # end needs start
    with pytest.raises(DataError):
        await f.cluster_setslot(5, importing="a", stable=True)
    with pytest.raises(DataError):
        await f.cluster_setslot(5)
    with pytest.raises(DataError):
        await f.xinfo_stream("s", count=5)  # count needs full
    with pytest.raises(DataError):
        await f.vadd("v", "e", fp32=b"\x00\x00\x80\x3f", values=[1.0])
    assert f.calls == []


class FakePipe(PipelineCommands[bytes]):
    def __init__(self) -> None:
        self.calls: list[tuple[list[Any], int, Any]] = []

    def _call(self, args: Sequence[Any], mode: int, conv: Any) -> Any:
        self.calls.append((list(args), mode, conv))
        return None


def test_pipeline_methods_pass_the_converter() -> None:
    p = FakePipe()
    p.get("k")
    p.zrange("z", 0, 1, withscores=True)
    p.zrange("z", 0, 1)
    p.xadd("s", {"f": "v"})
    (a, ma, ca), (b, mb, cb), (c, _, cc), (d, md, _) = p.calls
    assert (a, ma, ca) == (["GET", "k"], READ, None)
    assert b == ["ZRANGE", "z", 0, 1, "WITHSCORES"] and mb == READ
    assert cb is not None and cb([b"m", b"1"]) == [(b"m", 1.0)]
    assert c == ["ZRANGE", "z", 0, 1] and cc is None
    assert d == ["XADD", "s", "*", "f", "v"] and md == WRITE


async def test_durations_take_timedelta() -> None:
    f = Fake(b"OK")
    await f.client_pause(timedelta(seconds=2), mode="WRITE")
    assert f.argv == ["CLIENT", "PAUSE", 2000, "WRITE"]
    f = Fake([])
    await f.xclaim("s", "g", "c", timedelta(minutes=1), "1-0", idle=timedelta(seconds=1))
    assert f.argv == ["XCLAIM", "s", "g", "c", 60000, "1-0", "IDLE", 1000]
    f = Fake(1)
    await f.expire("k", timedelta(hours=1), condition="NX")
    assert f.argv == ["EXPIRE", "k", 3600, "NX"]
