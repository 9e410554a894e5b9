"""The "connection" group's generated methods against live servers, RESP3 and RESP2.

AUTH, HELLO, SELECT, QUIT, RESET and CLIENT REPLY/TRACKING/CACHING are used
by the connection layer and get no generated method.
"""

from __future__ import annotations

import asyncio
import re
from collections.abc import AsyncIterator

import pytest

import redspec
from redspec._generated.client.connection import ConnectionCommands
from tests.servers import RedisServer

from ._sys_support import PROTOCOLS, Calls, client_for, str_client_for

calls = Calls()


@pytest.fixture(params=PROTOCOLS)
async def r(
    request: pytest.FixtureRequest, redis8: RedisServer
) -> AsyncIterator[redspec.Redis[bytes]]:
    c = client_for(redis8, request.param)
    yield c
    await c.aclose()


@pytest.fixture(params=PROTOCOLS)
async def vk(
    request: pytest.FixtureRequest, valkey8: RedisServer
) -> AsyncIterator[redspec.Redis[bytes]]:
    c = client_for(valkey8, request.param)
    yield c
    await c.aclose()


async def test_ping_echo(r: redspec.Redis[bytes]) -> None:
    await calls.check(r.ping, expect=b"PONG")
    await calls.check(r.ping, "hello", expect=b"hello")
    await calls.check(r.echo, "x y", expect=b"x y")


async def test_client_identity(r: redspec.Redis[bytes]) -> None:
    cid = await calls.check(r.client_id)
    assert cid > 0
    await calls.check(r.client_getname, expect=None)
    await calls.check(r.client_setname, "reply-test", expect=True)
    await calls.check(r.client_getname, expect=b"reply-test")
    info = await calls.check(r.client_info)
    assert f"id={cid} ".encode() in info and b"name=reply-test" in info
    listing = await calls.check(r.client_list, type="NORMAL")
    assert f"id={cid} ".encode() in listing
    mine = await calls.check(r.client_list, ids=[cid])
    assert mine.count(b"\n") == 1 and mine.startswith(f"id={cid} ".encode())
    await calls.check(r.client_setinfo, lib_name="redspec-test", expect=True)
    await calls.check(r.client_setinfo, lib_ver="0.0.1", expect=True)
    assert b"lib-name=redspec-test lib-ver=0.0.1" in await r.client_info()
    helptext = await calls.check(r.client_help)
    assert helptext[0].startswith(b"CLIENT <subcommand>")


async def test_client_modes(r: redspec.Redis[bytes]) -> None:
    await calls.check(r.client_getredir, expect=-1)  # tracking is off
    tracking = await calls.check(r.client_trackinginfo)
    assert tracking[b"redirect"] == -1
    await calls.check(r.client_no_evict, "ON", expect=True)
    await calls.check(r.client_no_evict, "OFF", expect=True)
    await calls.check(r.client_no_touch, "ON", expect=True)
    await calls.check(r.client_no_touch, "OFF", expect=True)
    await calls.check(r.client_pause, 50, mode="WRITE", expect=True)
    await calls.check(r.client_unpause, expect=True)


async def _blocked_client_id(r: redspec.Redis[bytes], name: str) -> int:
    for _ in range(200):
        for line in (await r.client_list()).decode().splitlines():
            if "cmd=blpop" in line and f" name={name} " in line:
                m = re.search(r"\bid=(\d+)", line)
                assert m is not None
                return int(m.group(1))
        await asyncio.sleep(0.01)
    raise AssertionError(f"no client {name} blocked")


async def test_client_unblock_and_kill(r: redspec.Redis[bytes], redis8: RedisServer) -> None:
    other = client_for(redis8, 3, client_name="rt-blocker")
    try:
        for unblock_type in (None, "ERROR"):
            waiter = asyncio.ensure_future(other.blpop(["reply-test:never"], 5))
            blocked = await _blocked_client_id(r, "rt-blocker")
            if unblock_type is None:
                await calls.check(r.client_unblock, blocked, expect=True)
                assert await waiter is None
            else:
                await calls.check(r.client_unblock, blocked, unblock_type=unblock_type, expect=True)
                with pytest.raises(redspec.ResponseError, match="UNBLOCKED"):
                    await waiter
        await calls.check(r.client_unblock, 999_999_999, expect=False)

        victim = client_for(redis8, 2)
        victim_id = await victim.client_id()
        await calls.check(r.client_kill, id=victim_id, expect=1)
        await calls.check(r.client_kill, id=victim_id, expect=0)
        await calls.check(r.client_kill, maxage=10**9, skipme="YES", expect=0)
        await victim.aclose()
    finally:
        await other.aclose()


async def test_valkey_client_capa_import_source(vk: redspec.Redis[bytes]) -> None:
    await calls.check(vk.client_capa, "redirect", expect=True)
    await calls.check(vk.client_import_source, "OFF", expect=True)
    await vk.execute_command("CONFIG", "SET", "import-mode", "yes")
    try:
        await calls.check(vk.client_import_source, "ON", expect=True)
        await vk.client_import_source("OFF")
    finally:
        await vk.execute_command("CONFIG", "SET", "import-mode", "no")


async def test_redis7_client_list(redis7: RedisServer) -> None:
    for protocol in (3, 2):
        c = client_for(redis7, protocol)
        try:
            await calls.check(c.client_no_evict, "OFF", expect=True)
            assert b"cmd=client|list" in await calls.check(c.client_list)
        finally:
            await c.aclose()


@pytest.mark.parametrize("protocol", [3, 2], ids=["resp3", "resp2"])
async def test_decoded(redis8: RedisServer, protocol: int) -> None:
    r = str_client_for(redis8, protocol)
    try:
        await calls.check(r.ping, expect="PONG")
        await calls.check(r.ping, "é", expect="é")
        await calls.check(r.echo, "x", expect="x")
        await calls.check(r.client_setname, "reply-test-str", expect=True)
        await calls.check(r.client_getname, expect="reply-test-str")
        assert "name=reply-test-str" in await calls.check(r.client_info)
        tracking = await calls.check(r.client_trackinginfo)
        assert tracking["flags"] in (["off"], {"off"}) and tracking["redirect"] == -1
    finally:
        await r.aclose()


def test_zz_every_method_called(request: pytest.FixtureRequest) -> None:
    calls.assert_covers(ConnectionCommands, request)
