"""Scripts (EVALSHA with NOSCRIPT handled, in pipelines and transactions, the
read-only variant) and functions, on Redis 8, Valkey 8 and Redis 7.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Any

import pytest

import redspec
from tests.conftest import LOOP_POLICIES, loop_policy
from tests.servers import RedisServer

pytestmark = pytest.mark.filterwarnings(
    'ignore:Overriding the "event_loop_policy":DeprecationWarning'
)


@pytest.fixture(params=LOOP_POLICIES)
def event_loop_policy(request: pytest.FixtureRequest) -> asyncio.AbstractEventLoopPolicy:
    return loop_policy(request.param)


GET_AND_ADD = (
    "local v = tonumber(redis.call('GET', KEYS[1]) or 0) + ARGV[1]\n"
    "redis.call('SET', KEYS[1], v)\nreturn v"
)
ECHO = "return {KEYS[1], ARGV[1], ARGV[2]}"

LIB = """#!lua name=redspec_lib
redis.register_function('rs_add', function(keys, args)
  return redis.call('INCRBY', keys[1], args[1])
end)
redis.register_function{function_name='rs_get', callback=function(keys, args)
  return redis.call('GET', keys[1])
end, flags={'no-writes'}}
"""


@pytest.fixture(params=["redis8", "valkey8", "redis7"])
async def r(request: pytest.FixtureRequest) -> AsyncIterator[redspec.Redis[bytes]]:
    server: RedisServer = request.getfixturevalue(request.param)
    client = redspec.Redis(server.host, server.port)
    await client.execute_command("FLUSHALL")
    await client.script_flush()
    await client.function_flush()
    yield client
    await client.aclose()


async def test_script_loads_on_noscript_and_after_flush(r: redspec.Redis[bytes]) -> None:
    script = r.register_script(GET_AND_ADD)
    assert await r.script_exists(script.sha) == [False]
    assert await script(keys=["n"], args=[5]) == 5  # NOSCRIPT -> SCRIPT LOAD -> EVALSHA
    assert await r.script_exists(script.sha) == [True]
    assert await script(keys=["n"], args=[2]) == 7
    assert await r.script_flush() is True
    assert await script(keys=["n"], args=[1]) == 8  # loaded again, transparently
    assert await script.load() == script.sha
    assert repr(script).startswith("<Script EVALSHA ")


async def test_script_in_pipeline_after_flush(r: redspec.Redis[bytes]) -> None:
    script = r.register_script(GET_AND_ADD)
    await script(keys=["p"], args=[1])
    await r.script_flush()  # the server forgot it; the pipeline must still work
    p = r.pipeline(transaction=False)
    first = script(keys=["p"], args=[10], client=p)
    p.get("p")
    second = script(keys=["p"], args=[100], client=p)
    assert await p.execute() == [11, b"11", 111]
    assert (first.result(), second.result()) == (11, 111)


async def test_script_in_transaction_and_watch_mode(r: redspec.Redis[bytes]) -> None:
    script = r.register_script(ECHO)
    async with r.pipeline(transaction=True) as p:
        script(keys=["k"], args=["a", 1], client=p)
        assert await p.execute() == [[b"k", b"a", b"1"]]
    await r.script_flush()
    async with r.pipeline(transaction=True) as p:
        await p.watch("k")
        # Immediate mode: SCRIPT LOAD goes out just ahead of the EVALSHA.
        assert await script(keys=["k"], args=["b", 2], client=p) == [b"k", b"b", b"2"]
        p.multi()
        queued = script(keys=["k"], args=["c", 3], client=p)
        await p.execute()
        assert queued.result() == [b"k", b"c", b"3"]


async def test_broken_script_in_pipeline_reports_the_compile_error(
    r: redspec.Redis[bytes],
) -> None:
    broken = r.register_script("return +")
    p = r.pipeline(transaction=False)
    call = broken(client=p)
    p.set("fine", 1)
    results = await p.execute(raise_on_error=False)
    assert results[1] is True
    assert isinstance(results[0], redspec.ResponseError)
    assert results[0].code != "NOSCRIPT"
    with pytest.raises(redspec.ResponseError):
        call.result()


async def test_readonly_script(r: redspec.Redis[bytes]) -> None:
    await r.set("ro", "v")
    reader = r.register_script("return redis.call('GET', KEYS[1])", readonly=True)
    assert await reader(keys=["ro"]) == b"v"
    assert repr(reader).startswith("<Script EVALSHA_RO ")
    writer = r.register_script("return redis.call('SET', KEYS[1], 'x')", readonly=True)
    with pytest.raises(redspec.ResponseError, match=r"(?i)write"):
        await writer(keys=["ro"])
    assert await r.get("ro") == b"v"


async def test_script_on_another_client(r: redspec.Redis[bytes]) -> None:
    script = r.register_script(ECHO)
    s = r.settings
    async with redspec.Redis(s.host, s.port, decode_responses=True) as other:
        got: Any = await script(keys=["k"], args=["é", 1], client=other)  # type: ignore[arg-type]
        assert got == ["k", "é", "1"]


async def test_eval_family_takes_keys_and_args(r: redspec.Redis[bytes]) -> None:
    assert await r.eval(ECHO, keys=["a"], args=["b", 3]) == [b"a", b"b", b"3"]
    sha = await r.script_load(ECHO)
    assert await r.evalsha(sha, keys=["a"], args=["b", 4]) == [b"a", b"b", b"4"]
    assert await r.evalsha_ro(sha, keys=["a"], args=["b", 5]) == [b"a", b"b", b"5"]
    assert await r.eval_ro(ECHO, keys=["x"], args=[1, 2]) == [b"x", b"1", b"2"]
    assert await r.eval("return 1") == 1
    assert await r.eval(ECHO, keys="k") == [b"k"]  # one key alone, as in redis-py
    with pytest.raises(redspec.DataError):
        await r.eval(ECHO, keys=["k"], args="not-a-sequence")


async def test_functions_load_fcall_list_dump_restore_delete(r: redspec.Redis[bytes]) -> None:
    assert await r.function_load(LIB) == b"redspec_lib"
    with pytest.raises(redspec.ResponseError, match="already exists"):
        await r.function_load(LIB)
    assert await r.function_load(LIB, replace=True) == b"redspec_lib"
    assert await r.fcall("rs_add", keys=["f"], args=[3]) == 3
    assert await r.fcall("rs_add", keys=["f"], args=[4]) == 7
    assert await r.fcall_ro("rs_get", keys=["f"]) == b"7"
    with pytest.raises(redspec.ResponseError):
        await r.fcall_ro("rs_add", keys=["f"], args=[1])  # not flagged no-writes

    libs = await r.function_list()
    assert [lib[b"library_name"] for lib in libs] == [b"redspec_lib"]
    with_code = await r.function_list(libraryname="redspec*", withcode=True)
    assert with_code[0][b"library_code"] == LIB.encode()

    dump = await r.function_dump()
    assert isinstance(dump, bytes) and dump
    assert await r.function_flush() is True
    assert await r.function_list() == []
    with pytest.raises(redspec.ResponseError):
        await r.fcall("rs_add", keys=["f"], args=[1])
    assert await r.function_restore(dump) is True
    assert await r.fcall("rs_add", keys=["f"], args=[1]) == 8
    assert await r.function_restore(dump, policy="REPLACE") is True
    assert await r.function_delete("redspec_lib") is True
    assert await r.function_list() == []


async def test_fcall_in_pipeline(r: redspec.Redis[bytes]) -> None:
    await r.function_load(LIB)
    p = r.pipeline(transaction=False)
    added = p.fcall("rs_add", keys=["pf"], args=[2])
    read = p.fcall_ro("rs_get", keys=["pf"])
    assert await p.execute() == [2, b"2"]
    assert (added.result(), read.result()) == (2, b"2")
