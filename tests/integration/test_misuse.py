"""A misused argument gets a message naming the command, the parameter, the type
received and what to pass instead, and nothing is sent (the server's command
counters do not move; the connection goes on working)."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import pytest

import redspec
from tests.servers import RedisServer


@pytest.fixture(params=[3, 2], ids=["resp3", "resp2"])
async def r(
    request: pytest.FixtureRequest, redis8: RedisServer
) -> AsyncIterator[redspec.Redis[bytes]]:
    client = redspec.Redis(redis8.host, redis8.port, protocol=request.param)
    await client.execute_command("FLUSHALL")
    await client.execute_command("CONFIG", "RESETSTAT")
    yield client
    await client.aclose()


async def calls(r: redspec.Redis[bytes], command: str) -> int:
    """How many times the server ran ``command`` (INFO commandstats)."""
    text = (await r.execute_command("INFO", "commandstats")).decode()
    m = re.search(rf"^cmdstat_{command}:calls=(\d+)", text, re.M)
    return int(m.group(1)) if m else 0


async def refused(
    r: redspec.Redis[bytes], command: str, call: Callable[[], Awaitable[Any]], *parts: str
) -> str:
    before = await calls(r, command)
    with pytest.raises(redspec.ArgumentTypeError) as info:
        await call()
    message = str(info.value)
    for part in parts:
        assert part in message, message
    assert isinstance(info.value, redspec.DataError) and isinstance(info.value, TypeError)
    assert await calls(r, command) == before  # nothing reached the server
    assert await r.set("after", "ok") is True and await r.get("after") == b"ok"
    return message


async def test_delete_given_a_list(r: redspec.Redis[bytes]) -> None:
    await r.set("a", 1)
    assert await r.delete(["a", "b"]) == 1  # one list of keys: the redis-py form, accepted
    message = await refused(
        r, "del", lambda: r.delete("a", ["b"]),  # type: ignore[call-overload]
        "DEL: keys[1] is a list", "str, bytes or memoryview", "delete(*keys)",
    )
    assert message.startswith("DEL: ")


async def test_mget_given_a_list(r: redspec.Redis[bytes]) -> None:
    assert await r.mget(["a", "b"]) == [None, None]
    await refused(
        r, "mget", lambda: r.mget("a", ["b"]),  # type: ignore[call-overload]
        "MGET: keys[1] is a list", "mget(*keys)",
    )


async def test_set_given_a_dict(r: redspec.Redis[bytes]) -> None:
    await refused(
        r, "set", lambda: r.set("k", {}),  # type: ignore[arg-type]
        "SET: value is a dict", "str, bytes, memoryview, int or float", "json.dumps",
    )


async def test_geoadd_given_wrong_shapes(r: redspec.Redis[bytes]) -> None:
    assert await r.geoadd("g", (0, 0, "m")) == 1  # flat lon, lat, member: the redis-py form
    await refused(
        r, "geoadd", lambda: r.geoadd("g", [(0, 0)]),
        "GEOADD: values[0] is a tuple", "a tuple (float, float, ValueT)",
        "geoadd(key, [(longitude, latitude, member), ...])",
    )
    await refused(
        r, "geoadd", lambda: r.geoadd("g", {"m": (0, 0)}),  # type: ignore[arg-type]
        "GEOADD: values is a dict", "a sequence (list or tuple)",
    )
    await refused(
        r, "geoadd", lambda: r.geoadd("g", [(0, 0, {})]),  # type: ignore[list-item]
        "GEOADD: values[0][2] is a dict",
    )
    assert await r.geoadd("g", [(1, 1, "n")]) == 1  # the shape the messages show works


async def test_other_shapes(r: redspec.Redis[bytes]) -> None:
    await refused(
        r, "hset", lambda: r.hset("h", mapping=[("a", 1)]),  # type: ignore[arg-type]
        "HSET: mapping is a list", "a mapping (dict)",
    )
    await refused(
        r, "hset", lambda: r.hset("h", mapping={"a": [1]}),  # type: ignore[dict-item]
        "HSET: mapping['a'] is a list",
    )
    await refused(
        r, "set", lambda: r.set("k", True),  # type: ignore[arg-type]
        "SET: value is a bool", "int(flag)",
    )
    await refused(r, "get", lambda: r.get(None), "GET: key is None")  # type: ignore[arg-type]


async def test_raw_commands_and_pipelines_name_the_command_and_argument(
    r: redspec.Redis[bytes],
) -> None:
    await refused(
        r, "set", lambda: r.execute_command("SET", "k", {}), "SET: argument 2 is a dict"
    )
    async with r.pipeline(transaction=False) as p:
        p.get("a")
        p.execute_command("DEL", ["x"])
        before = await calls(r, "get")
        batch_error = r"DEL: argument 1 is a list.*command 2 of 2"
        with pytest.raises(redspec.ArgumentTypeError, match=batch_error):
            await p.execute()
        assert await calls(r, "get") == before  # the batch went out whole or not at all
    async with r.pipeline(transaction=False) as p:
        with pytest.raises(redspec.ArgumentTypeError, match="GEOADD: values"):
            p.geoadd("g", [(0, 0)])
        p.set("k", "v")
        assert await p.execute() == [True]


async def test_well_typed_calls_are_untouched(r: redspec.Redis[bytes]) -> None:
    # The guard only explains failures: server errors and good calls pass as before.
    await r.set("s", "v")
    with pytest.raises(redspec.WrongTypeError):
        await r.lpush("s", "x")
    with pytest.raises(redspec.DataError, match="mutually exclusive"):
        await r.set("k", "v", nx=True, xx=True)
    assert await r.delete("s", "k") == 1
