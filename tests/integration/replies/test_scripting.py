"""The scripting group's generated methods against live servers (RESP3 and RESP2).

Every call goes through ``Ctx.check``: the reply must fit the method's declared
return annotation (the reply table) and, where given, equal ``expect``.
SCRIPT KILL and FUNCTION KILL stop a busy script that a second client runs.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import Any

import pytest

import redspec
from redspec._generated.client.scripting import ScriptingCommands
from tests.integration.replies._data_support import Cases, Ctx, client_for
from tests.servers import RedisServer

CASES = Cases(ScriptingCommands)

LIB = """#!lua name=rslib
redis.register_function('echo', function(keys, args) return {keys[1], args[1]} end)
redis.register_function{function_name='ro', callback=function(keys, args)
  return redis.call('GET', keys[1]) end, flags={'no-writes'}}
"""
BUSY_LIB = """#!lua name=busylib
redis.register_function{function_name='spin', callback=function(keys, args)
  while true do end end, flags={'no-writes'}}
"""

_servers: dict[str, RedisServer] = {}


@pytest.fixture(autouse=True)
def _server_of_case(request: pytest.FixtureRequest) -> None:
    """Remember the server of the running case: the kill cases need a second client."""
    callspec = getattr(request.node, "callspec", None)
    if callspec is not None and "kind" in callspec.params:
        kind = callspec.params["kind"]
        _servers[kind] = request.getfixturevalue(kind)


@CASES.case("eval", "eval_ro", "script_load", "script_exists", "evalsha", "evalsha_ro")
async def eval_family(c: Ctx) -> None:
    r = c.r
    await r.execute_command("SET", "k", "hello")
    await c.check(r.eval, "return 1", expect=1)
    await c.check(r.eval, "return {1, 'a', {2, false}}", expect=[1, b"a", [2, None]])
    await c.check(
        r.eval,
        "return {KEYS[1], ARGV[1], ARGV[2]}",
        keys=["k"],
        args=["x", 2],
        expect=[b"k", b"x", b"2"],
    )
    await c.check(r.eval, "return redis.call('GET', KEYS[1])", keys=["k"], expect=b"hello")
    await c.check(r.eval, "return nil", expect=None)
    await c.check(r.eval, "return redis.status_reply('FINE')", expect=b"FINE")
    # An error inside a table reply is a value (a ResponseError), not raised.
    nested = await c.check(r.eval, "return {1, redis.error_reply('ERR boom')}")
    assert nested[0] == 1 and isinstance(nested[1], redspec.ResponseError)
    assert "boom" in str(nested[1])
    # A RESP3 double when the script speaks RESP3 to a RESP3 client; a string on RESP2.
    await r.execute_command("ZADD", "z", 1.5, "m")
    await c.check(
        r.eval,
        "redis.setresp(3); return redis.call('ZSCORE', KEYS[1], 'm')",
        keys=["z"],
        expect=1.5 if c.protocol == 3 else b"1.5",
    )
    await c.check(r.eval_ro, "return redis.call('GET', KEYS[1])", keys=["k"], expect=b"hello")
    sha = await c.check(r.script_load, "return ARGV[1]")
    assert len(sha) == 40
    await c.check(r.script_exists, sha, "0" * 40, expect=[True, False])
    await c.check(r.evalsha, sha, args=["x"], expect=b"x")
    await c.check(r.evalsha_ro, sha, keys=["k"], args=[3], expect=b"3")
    with pytest.raises(redspec.NoScriptError):
        await r.evalsha("0" * 40)


@CASES.case("script_load", "script_exists", "script_flush", "script_help", "script_debug")
async def script_admin(c: Ctx) -> None:
    r = c.r
    sha = await c.check(r.script_load, "return 'x'")
    await c.check(r.script_exists, sha, expect=[True])
    await c.check(r.script_flush, expect=True)
    await c.check(r.script_exists, sha, expect=[False])
    await c.check(r.script_load, "return 'x'", expect=sha)
    await c.check(r.script_flush, flush_type="ASYNC", expect=True)
    await c.check(r.script_flush, flush_type="SYNC", expect=True)
    lines = await c.check(r.script_help)
    assert lines[0].startswith(c.v(b"SCRIPT <subcommand>"))
    # YES/SYNC arm the debugger for this connection's next EVAL; NO disarms it.
    await c.check(r.script_debug, "YES", expect=True)
    await c.check(r.script_debug, "NO", expect=True)
    await c.check(r.script_debug, "SYNC", expect=True)
    await c.check(r.script_debug, "NO", expect=True)


@CASES.case("script_load", "script_show")
async def script_show(c: Ctx) -> None:
    r = c.r
    sha = await c.check(r.script_load, "return 42")
    await c.check(r.script_show, sha, expect=b"return 42")
    with pytest.raises(redspec.ResponseError):
        await r.script_show("0" * 40)


@CASES.case(
    "function_flush",
    "function_load",
    "function_list",
    "function_stats",
    "function_delete",
    "function_help",
    "fcall",
    "fcall_ro",
)
async def functions(c: Ctx) -> None:
    r = c.r
    await c.check(r.function_flush, expect=True)
    await c.check(r.function_list, expect=[])
    await c.check(r.function_load, LIB, expect=b"rslib")
    await c.check(r.function_load, LIB, replace=True, expect=b"rslib")
    await r.execute_command("SET", "k", "v")
    await c.check(r.fcall, "echo", keys=["k"], args=["a"], expect=[b"k", b"a"])
    await c.check(r.fcall_ro, "ro", keys=["k"], expect=b"v")
    libs = await c.check(r.function_list)
    v = c.v
    assert [lib[v(b"library_name")] for lib in libs] == v([b"rslib"])
    assert v(b"library_code") not in libs[0]
    funcs = sorted(libs[0][v(b"functions")], key=lambda f: f[v(b"name")])
    assert funcs == v(
        [
            {b"name": b"echo", b"description": None, b"flags": set()},
            {b"name": b"ro", b"description": None, b"flags": {b"no-writes"}},
        ]
    )
    libs = await c.check(r.function_list, libraryname="rs*", withcode=True)
    assert libs[0][v(b"library_code")] == v(LIB.encode())
    await c.check(r.function_list, libraryname="nomatch*", expect=[])
    stats = await c.check(r.function_stats)
    assert stats[v(b"running_script")] is None
    assert stats[v(b"engines")] == v({b"LUA": {b"libraries_count": 1, b"functions_count": 2}})
    lines = await c.check(r.function_help)
    assert lines[0].startswith(v(b"FUNCTION <subcommand>"))
    await c.check(r.function_delete, "rslib", expect=True)
    with pytest.raises(redspec.ResponseError):
        await r.function_delete("rslib")
    await c.check(r.function_flush, flush_type="SYNC", expect=True)
    await c.check(r.function_flush, flush_type="ASYNC", expect=True)


@CASES.case("function_flush", "function_load", "function_dump", "function_restore", "fcall")
async def function_dump_restore(c: Ctx) -> None:
    r = c.r
    await c.check(r.function_flush, expect=True)
    await c.check(r.function_load, LIB, expect=b"rslib")
    payload = await c.check(r.function_dump)
    assert isinstance(payload, bytes)  # even on Redis[str]
    await c.check(r.function_flush, expect=True)
    await c.check(r.function_restore, payload, expect=True)
    await c.check(r.fcall, "echo", keys=["a"], args=["b"], expect=[b"a", b"b"])
    await c.check(r.function_restore, payload, policy="REPLACE", expect=True)
    await c.check(r.function_restore, payload, policy="FLUSH", expect=True)
    with pytest.raises(redspec.ResponseError):
        await r.function_restore(payload, policy="APPEND")
    await c.check(r.function_flush, expect=True)


async def _kill_busy(
    c: Ctx, start: Callable[[Any], Awaitable[Any]], kill: Callable[[], Awaitable[Any]]
) -> Any:
    """Run a busy script on a second client; kill it from ``c.r``; return kill's reply."""
    r = c.r
    cfg = await r.execute_command("CONFIG", "GET", "busy-reply-threshold")
    old = cfg[c.v(b"busy-reply-threshold")] if isinstance(cfg, dict) else cfg[1]
    await r.execute_command("CONFIG", "SET", "busy-reply-threshold", "20")
    other = client_for(_servers[c.kind], c.protocol)
    try:
        await other.execute_command("PING")
        busy = asyncio.ensure_future(start(other))
        for _ in range(200):
            await asyncio.sleep(0.01)
            try:
                reply = await c.check(kill)
                break
            except redspec.ResponseError as e:  # NOTBUSY: not started yet
                assert "NOTBUSY" in str(e) or "No scripts" in str(e), e
        else:
            raise AssertionError("the busy script never became killable")
        with pytest.raises(redspec.ResponseError):
            await busy
        return reply
    finally:
        await other.aclose()
        await r.execute_command("CONFIG", "SET", "busy-reply-threshold", old)


@CASES.case("script_kill")
async def script_kill(c: Ctx) -> None:
    with pytest.raises(redspec.ResponseError, match="NOTBUSY"):
        await c.r.script_kill()
    reply = await _kill_busy(c, lambda o: o.eval("while true do end"), c.r.script_kill)
    assert reply is True


@CASES.case("function_load", "function_kill", "function_delete")
async def function_kill(c: Ctx) -> None:
    r = c.r
    await c.check(r.function_load, BUSY_LIB, replace=True, expect=b"busylib")
    try:
        with pytest.raises(redspec.ResponseError, match="NOTBUSY"):
            await r.function_kill()
        reply = await _kill_busy(c, lambda o: o.fcall_ro("spin"), r.function_kill)
        assert reply is True
    finally:
        await c.check(r.function_delete, "busylib", expect=True)


test_reply = CASES.test()
test_coverage = CASES.coverage_test()


async def test_nested_maps_same_on_both_protocols(redis8: RedisServer) -> None:
    values = []
    for protocol in (3, 2):
        r = client_for(redis8, protocol)
        try:
            await r.function_load(LIB, replace=True)
            values.append((await r.function_list(libraryname="rslib"), await r.function_stats()))
            await r.function_delete("rslib")
        finally:
            await r.aclose()
    assert values[0] == values[1]
