"""The generic (keyspace) group's generated methods against live servers (RESP3 and RESP2).

Every call goes through ``Ctx.check``: the reply must fit the method's declared
return annotation (the reply table) and, where given, equal ``expect``.
MIGRATE moves keys to a second server of the same kind, started for this module.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from datetime import datetime, timedelta, timezone

import pytest

from redspec._generated.client.generic import GenericCommands
from tests.integration.replies._data_support import Cases, Ctx
from tests.servers import RedisServer, start_server

CASES = Cases(GenericCommands)

_targets: dict[str, RedisServer] = {}
_PW = "migrate-pw"


@pytest.fixture(scope="module", autouse=True)
def _stop_targets() -> Iterator[None]:
    yield
    while _targets:
        _targets.popitem()[1].stop()


def _target(kind: str) -> RedisServer:
    if kind not in _targets:
        _targets[kind] = start_server(kind, password=_PW)
    return _targets[kind]


async def _set(c: Ctx, key: str, value: object = "v") -> None:
    await c.r.execute_command("SET", key, value)


@CASES.case("delete", "unlink", "exists", "touch", "type", "keys", "randomkey")
async def keyspace(c: Ctx) -> None:
    r = c.r
    await c.check(r.randomkey, expect=None)
    await _set(c, "a")
    await _set(c, "b")
    await c.r.execute_command("RPUSH", "l", "x")
    await c.check(r.exists, "a", "a", "nokey", expect=2)
    await c.check(r.touch, "a", "b", "nokey", expect=2)
    await c.check(r.type, "a", expect=b"string")
    await c.check(r.type, "l", expect=b"list")
    await c.check(r.type, "nokey", expect=b"none")
    assert sorted(await c.check(r.keys, "*")) == c.v([b"a", b"b", b"l"])
    await c.check(r.keys, "nomatch*", expect=[])
    assert await c.check(r.randomkey) in c.v({b"a", b"b", b"l"})
    await c.check(r.delete, "a", "nokey", expect=1)
    await c.check(r.unlink, "b", "l", "nokey", expect=2)
    await c.check(r.exists, "a", expect=0)


@CASES.case("expire", "pexpire", "expireat", "pexpireat", "ttl", "pttl", "persist")
async def expiry(c: Ctx) -> None:
    r = c.r
    await _set(c, "k")
    await c.check(r.ttl, "k", expect=-1)
    await c.check(r.ttl, "nokey", expect=-2)
    await c.check(r.pttl, "nokey", expect=-2)
    await c.check(r.expire, "k", 100, expect=True)
    await c.check(r.expire, "nokey", 100, expect=False)
    await c.check(r.expire, "k", timedelta(seconds=50), condition="GT", expect=False)
    await c.check(r.expire, "k", 200, condition="NX", expect=False)
    assert 0 < await c.check(r.ttl, "k") <= 100
    await c.check(r.pexpire, "k", 500_000, condition="XX", expect=True)
    await c.check(r.pexpire, "k", timedelta(seconds=1000), condition="LT", expect=False)
    assert 400_000 < await c.check(r.pttl, "k") <= 500_000
    now = time.time()
    await c.check(r.expireat, "k", int(now) + 300, expect=True)
    await c.check(
        r.expireat,
        "k",
        datetime.now(timezone.utc) + timedelta(hours=1),
        condition="GT",
        expect=True,
    )
    await c.check(r.expireat, "nokey", int(now) + 300, expect=False)
    await c.check(r.pexpireat, "k", int(now * 1000) + 600_000, condition="LT", expect=True)
    await c.check(r.pexpireat, "k", datetime.now(timezone.utc) + timedelta(minutes=5), expect=True)
    await c.check(r.persist, "k", expect=True)
    await c.check(r.persist, "k", expect=False)
    await c.check(r.persist, "nokey", expect=False)


@CASES.case("expire", "expiretime", "pexpiretime")
async def expiretime(c: Ctx) -> None:
    r = c.r
    await _set(c, "k")
    await c.check(r.expiretime, "k", expect=-1)
    await c.check(r.expiretime, "nokey", expect=-2)
    await c.check(r.pexpiretime, "nokey", expect=-2)
    await c.check(r.expire, "k", 100, expect=True)
    at = await c.check(r.expiretime, "k")
    assert abs(at - (time.time() + 100)) < 5
    pat = await c.check(r.pexpiretime, "k")
    assert abs(pat / 1000 - at) <= 1


@CASES.case("rename", "renamenx", "copy", "move", "exists")
async def rename_copy_move(c: Ctx) -> None:
    r = c.r
    await _set(c, "a", 1)
    await c.check(r.rename, "a", "b", expect=True)
    await _set(c, "c", 2)
    await c.check(r.renamenx, "b", "c", expect=False)
    await c.check(r.renamenx, "b", "d", expect=True)
    await c.check(r.copy, "d", "e", expect=True)
    await c.check(r.copy, "d", "e", expect=False)
    await c.check(r.copy, "c", "e", replace=True, expect=True)
    await c.check(r.copy, "nokey", "e", expect=False)
    await c.check(r.copy, "d", "other", db=1, expect=True)
    await c.check(r.move, "d", 1, expect=True)
    await c.check(r.move, "c", 1, expect=True)
    await c.check(r.move, "nokey", 1, expect=False)
    await c.check(r.exists, "c", "d", expect=0)


@CASES.case("dump", "restore", "object_idletime")
async def dump_restore(c: Ctx) -> None:
    r = c.r
    await c.check(r.dump, "nokey", expect=None)
    await _set(c, "k", "hello")
    # A DUMP payload is binary: bytes even on Redis[str] (its bytes that are not
    # UTF-8 survive the decoder, and RESTORE takes them back as they are).
    payload = await c.check(r.dump, "k")
    assert isinstance(payload, bytes) and payload[0] == 0  # RDB type 0: a string
    await c.check(r.restore, "k2", 0, payload, expect=True)
    await c.check(r.restore, "k2", 10_000, payload, replace=True, idletime=100, expect=True)
    assert await c.check(r.object_idletime, "k2") >= 100
    at = int(time.time() * 1000) + 60_000
    await c.check(r.restore, "k3", at, payload, absttl=True, freq=5, expect=True)
    assert await c.r.execute_command("GET", "k3") == c.v(b"hello")
    # a timedelta is a relative ttl; a datetime an absolute one (ABSTTL is sent for it)
    await c.check(r.restore, "k4", timedelta(seconds=60), payload, expect=True)
    assert 55_000 < await c.r.execute_command("PTTL", "k4") <= 60_000
    when = datetime.now(timezone.utc) + timedelta(seconds=120)
    await c.check(r.restore, "k5", when, payload, expect=True)
    assert 115_000 < await c.r.execute_command("PTTL", "k5") <= 120_000
    expires = await c.r.execute_command("PEXPIRETIME", "k5")
    assert abs(expires - int(when.timestamp() * 1000)) <= 1


@CASES.case("object_encoding", "object_refcount", "object_idletime", "object_help")
async def object_info(c: Ctx) -> None:
    r = c.r
    await _set(c, "k", "hello")
    await _set(c, "n", 12345)
    await c.check(r.object_encoding, "k", expect=b"embstr")
    await c.check(r.object_encoding, "n", expect=b"int")
    await c.check(r.object_encoding, "nokey", expect=None)
    assert await c.check(r.object_refcount, "k") >= 1
    await c.check(r.object_refcount, "nokey", expect=None)
    assert await c.check(r.object_idletime, "k") >= 0
    await c.check(r.object_idletime, "nokey", expect=None)
    lines = await c.check(r.object_help)
    assert lines[0].startswith(c.v(b"OBJECT <subcommand>"))


@CASES.case("object_freq")
async def object_freq(c: Ctx) -> None:
    r = c.r
    policy = await c.r.execute_command("CONFIG", "GET", "maxmemory-policy")
    await c.r.execute_command("CONFIG", "SET", "maxmemory-policy", "allkeys-lfu")
    try:
        await _set(c, "k")
        await c.r.execute_command("GET", "k")
        assert await c.check(r.object_freq, "k") >= 0
    finally:
        old = policy[c.v(b"maxmemory-policy")] if isinstance(policy, dict) else policy[1]
        await c.r.execute_command("CONFIG", "SET", "maxmemory-policy", old)


@CASES.case("scan")
async def scan(c: Ctx) -> None:
    r = c.r
    for i in range(5):
        await _set(c, f"k{i}")
    await c.r.execute_command("RPUSH", "l", "x")
    cursor, keys = await c.check(r.scan, 0, count=100)
    assert cursor == 0 and len(keys) == 6
    await c.check(r.scan, 0, match="l*", count=100, expect=(0, [b"l"]))
    await c.check(r.scan, 0, type="list", count=100, expect=(0, [b"l"]))
    await c.check(r.scan, 0, match="nomatch*", expect=(0, []))
    # The cursor comes back as the int the next call takes.
    seen: list[object] = []
    cursor = None
    while cursor != 0:
        cursor, page = await c.check(r.scan, cursor or 0, count=2)
        seen += page
    assert len(set(seen)) == 6


@CASES.case("sort", "sort_ro")
async def sort(c: Ctx) -> None:
    r = c.r
    await c.r.execute_command("RPUSH", "l", 3, 1, 2)
    await c.r.execute_command("MSET", "w_1", "one", "w_2", "two", "s_1", 30, "s_2", 20, "s_3", 10)
    await c.check(r.sort, "l", expect=[b"1", b"2", b"3"])
    await c.check(r.sort, "l", order="DESC", limit=(0, 2), expect=[b"3", b"2"])
    await c.check(r.sort, "l", get=["w_*", "#"], expect=[b"one", b"1", b"two", b"2", None, b"3"])
    await c.check(r.sort, "l", by="s_*", expect=[b"3", b"2", b"1"])
    await c.check(r.sort, "l", by="nosort", get=["#"], expect=[b"3", b"1", b"2"])
    await c.check(r.sort, "nokey", expect=[])
    await c.check(r.sort, "l", alpha=True, store="dst", expect=3)
    await c.check(r.sort, "nokey", store="dst2", expect=0)
    await c.check(r.sort_ro, "l", expect=[b"1", b"2", b"3"])
    await c.check(
        r.sort_ro, "l", get=["w_*"], order="ASC", alpha=True, expect=[b"one", b"two", None]
    )
    await c.check(r.sort_ro, "l", by="s_*", limit=(1, 1), expect=[b"2"])


@CASES.case("wait")
async def wait(c: Ctx) -> None:
    await _set(c, "k")
    await c.check(c.r.wait, 0, 0, expect=0)
    await c.check(c.r.wait, 0, 10, expect=0)
    await c.check(c.r.wait, 0, timedelta(milliseconds=10), expect=0)


@CASES.case("waitaof")
async def waitaof(c: Ctx) -> None:
    await _set(c, "k")
    await c.check(c.r.waitaof, 0, 0, 0, expect=(0, 0))
    await c.check(c.r.waitaof, 0, 0, 10, expect=(0, 0))
    await c.check(c.r.waitaof, 0, 0, timedelta(milliseconds=10), expect=(0, 0))


@CASES.case("migrate", "exists")
async def migrate(c: Ctx) -> None:
    """To a password-protected server of the same kind: AUTH and AUTH2 are needed."""
    r = c.r
    target = _target(c.kind)
    await target_flush(target)
    host, port = target.host, target.port
    # No key to move: NOKEY, without connecting to the target.
    await c.check(r.migrate, host, port, "nokey", 0, 1000, expect=b"NOKEY")
    for k, v in (("a", 1), ("b", 2), ("c", 3)):
        await _set(c, k, v)
    await c.check(r.migrate, host, port, "a", 0, 1000, auth=_PW, expect=b"OK")
    await c.check(r.exists, "a", expect=0)
    await c.check(
        r.migrate, host, port, "b", 1, 1000, copy=True, replace=True, auth=_PW, expect=b"OK"
    )
    await c.check(r.exists, "b", expect=1)
    await c.check(
        r.migrate,
        host,
        port,
        "",
        0,
        1000,
        replace=True,
        auth2=("default", _PW),
        keys=["b", "c"],
        expect=b"OK",
    )
    await c.check(r.exists, "b", "c", expect=0)


async def target_flush(target: RedisServer) -> None:
    import redspec

    t: redspec.Redis[bytes] = redspec.Redis.from_url(target.url)
    try:
        await t.execute_command("FLUSHALL")
    finally:
        await t.aclose()


test_reply = CASES.test()
test_coverage = CASES.coverage_test()
