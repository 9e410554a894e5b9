"""Expiries the server would refuse are refused before sending.

Which arguments are expiries the generator derives from the spec; how small an
expiry each command takes is overlay data (codegen/overlay.py EXPIRY_LEAST),
checked here against Redis 8.2: one less is refused by the server, the bound
is accepted, and an expiry command without an entry takes any value.
"""

from __future__ import annotations

import re
import socket
from collections.abc import AsyncIterator, Awaitable, Callable
from datetime import datetime, timedelta, timezone
from typing import Any

import pytest

import redspec
from codegen import overlay
from tests.integration.replies._sys_support import raw_on
from tests.servers import RedisServer

# command -> the raw arguments that give it expiry ``t`` (the key "k" or hash "h" exist)
RAW: dict[str, Callable[[int], list[Any]]] = {
    "SET": lambda t: ["SET", "k", "v", "EX", t],
    "GETEX": lambda t: ["GETEX", "k", "PXAT", t],
    "SETEX": lambda t: ["SETEX", "k", t, "v"],
    "PSETEX": lambda t: ["PSETEX", "k", t, "v"],
    "HEXPIRE": lambda t: ["HEXPIRE", "h", t, "FIELDS", 1, "f"],
    "HPEXPIRE": lambda t: ["HPEXPIRE", "h", t, "FIELDS", 1, "f"],
    "HEXPIREAT": lambda t: ["HEXPIREAT", "h", t, "FIELDS", 1, "f"],
    "HPEXPIREAT": lambda t: ["HPEXPIREAT", "h", t, "FIELDS", 1, "f"],
    "HSETEX": lambda t: ["HSETEX", "h", "EX", t, "FIELDS", 1, "f", "v"],
    "HGETEX": lambda t: ["HGETEX", "h", "PX", t, "FIELDS", 1, "f"],
    "RESTORE": lambda t: ["RESTORE", "r", t, b"", "REPLACE"],
}
# Expiry commands the server lets take a negative value (the key is deleted).
UNBOUNDED: dict[str, Callable[[int], list[Any]]] = {
    "EXPIRE": lambda t: ["EXPIRE", "k", t],
    "PEXPIRE": lambda t: ["PEXPIRE", "k", t],
    "EXPIREAT": lambda t: ["EXPIREAT", "k", t],
    "PEXPIREAT": lambda t: ["PEXPIREAT", "k", t],
}


def _refused(s: socket.socket, args: list[Any]) -> bool:
    raw_on(s, "SET", "k", "v")
    raw_on(s, "HSET", "h", "f", "v")
    try:
        raw_on(s, *args)
    except redspec.ResponseError as exc:
        # RESTORE of an empty payload is refused for its payload, not its ttl.
        return "payload" not in str(exc).lower()
    return False


def test_the_bounds_are_the_servers(redis8: RedisServer) -> None:
    assert set(overlay.EXPIRY_LEAST) == set(RAW)
    with socket.create_connection((redis8.host, redis8.port)) as s:
        for command, least in overlay.EXPIRY_LEAST.items():
            assert _refused(s, RAW[command](least - 1)), f"{command} takes {least - 1}"
            assert not _refused(s, RAW[command](least)), f"{command} refuses {least}"
        for command, args in UNBOUNDED.items():
            assert not _refused(s, args(-1)), f"{command} refuses -1: give it an entry"


@pytest.fixture
async def r(redis8: RedisServer) -> AsyncIterator[redspec.Redis[bytes]]:
    client = redspec.Redis(redis8.host, redis8.port)
    await client.execute_command("FLUSHALL")
    await client.execute_command("CONFIG", "RESETSTAT")
    yield client
    await client.aclose()


async def _calls(r: redspec.Redis[bytes]) -> int:
    text = (await r.execute_command("INFO", "commandstats")).decode()
    return sum(int(n) for n in re.findall(r"calls=(\d+)", text))


async def _refused_before_sending(
    r: redspec.Redis[bytes], call: Callable[[], Awaitable[Any]], *parts: str
) -> str:
    before = await _calls(r)
    with pytest.raises(redspec.DataError) as info:
        await call()
    message = str(info.value)
    for part in parts:
        assert part in message, message
    assert await _calls(r) == before + 1  # only the INFO that counted
    return message


async def test_small_expiries_are_refused_naming_command_and_parameter(
    r: redspec.Redis[bytes],
) -> None:
    epoch = datetime(1970, 1, 1, tzinfo=timezone.utc)
    await _refused_before_sending(r, lambda: r.set("k", "v", ex=-1), "SET: ex=-1", "positive")
    await _refused_before_sending(r, lambda: r.set("k", "v", ex=0), "SET: ex=0")
    await _refused_before_sending(r, lambda: r.set("k", "v", px=0), "SET: px=0")
    await _refused_before_sending(r, lambda: r.set("k", "v", exat=0), "SET: exat=0")
    await _refused_before_sending(r, lambda: r.set("k", "v", pxat=epoch), "SET: pxat=", "0 unix")
    await _refused_before_sending(
        r, lambda: r.set("k", "v", ex=timedelta(0)), "SET: ex=datetime.timedelta(0) (0 seconds)"
    )
    await _refused_before_sending(
        r, lambda: r.set("k", "v", ex=timedelta(milliseconds=500)), "use milliseconds (px=)"
    )
    await _refused_before_sending(r, lambda: r.getex("k", ex=0), "GETEX: ex=0")
    with pytest.warns(DeprecationWarning):
        await _refused_before_sending(r, lambda: r.setex("k", 0, "v"), "SETEX: seconds=0")
    await _refused_before_sending(
        r, lambda: r.hexpire("h", -1, "f"), "HEXPIRE: seconds=-1", "at least 0"
    )
    await _refused_before_sending(
        r, lambda: r.hsetex("h", {"f": "v"}, px=-5), "HSETEX: px=-5"
    )
    await _refused_before_sending(r, lambda: r.restore("r", -1, b"x"), "RESTORE: ttl=-1")
    async with r.pipeline(transaction=False) as p:
        with pytest.raises(redspec.DataError, match="SET: ex=-1"):
            p.set("k", "v", ex=-1)


async def test_accepted_expiries_still_go_through(r: redspec.Redis[bytes]) -> None:
    assert await r.set("k", "v", px=1) is True
    assert await r.set("k", "v", ex=timedelta(seconds=10)) is True
    assert 0 < await r.ttl("k") <= 10
    assert await r.hset("h", "f", "v") == 1
    assert await r.hexpire("h", 0, "f") == [2]  # 0: the field expires at once
    await r.set("gone", "v")
    assert await r.expire("gone", -1) is True  # EXPIRE takes negatives: the key is deleted
    assert await r.exists("gone") == 0
