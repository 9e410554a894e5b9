"""Redis client core against real servers: replies, multiplexing, cancellation, timeouts, close.

Runs under both the default event loop and uvloop.
"""

from __future__ import annotations

import asyncio
import random
import time
from typing import Any

import pytest

import redspec
from redspec._base import READ
from tests.conftest import LOOP_POLICIES, loop_policy
from tests.servers import RedisServer

pytestmark = pytest.mark.filterwarnings(
    'ignore:Overriding the "event_loop_policy":DeprecationWarning'
)


@pytest.fixture(params=LOOP_POLICIES)
def event_loop_policy(request: pytest.FixtureRequest) -> asyncio.AbstractEventLoopPolicy:
    return loop_policy(request.param)


async def test_basics_same_values_on_resp3_and_resp2(
    any_protocol_client: redspec.Redis[bytes],
) -> None:
    r = any_protocol_client
    x = r.execute_command
    got = [
        await x("PING"),
        await x("SET", "k", "v"),
        await x("GET", "k"),
        await x("GET", "missing"),
        await x("INCR", "n"),
        await x("INCRBY", "n", 41),
        await x("RPUSH", "l", "a", b"b", 3, 4.5),
        await x("LRANGE", "l", 0, -1),
        await x("LRANGE", "missing", 0, -1),
        await x("SET", "k", "w", "NX"),
        await x("ECHO", b"\x00\xff"),
    ]
    assert got == [
        b"PONG", b"OK", b"v", None, 1, 42, 4, [b"a", b"b", b"3", b"4.5"], [], None, b"\x00\xff"
    ]  # fmt: skip


async def test_generated_methods(any_protocol_client: redspec.Redis[bytes]) -> None:
    r = any_protocol_client
    assert await r.set("k", "v", nx=True) is True
    assert await r.set("k", "w", nx=True) is None
    assert await r.get("k") == b"v"
    assert await r.incr("n") == 1
    assert await r.hset("h", mapping={"a": 1}) == 1
    assert await r.hgetall("h") == {b"a": b"1"}
    assert await r.rpush("l", "x") == 1
    assert await r.blpop(["l"], 1) == (b"l", b"x")


async def test_decode_responses(redis8: RedisServer) -> None:
    async with redspec.Redis(redis8.host, redis8.port, decode_responses=True) as r:
        await r.execute_command("SET", "dk", "é")
        assert await r.execute_command("GET", "dk") == "é"
        assert await r.execute_command("MGET", "dk", "nope") == ["é", None]


async def test_error_replies_keep_their_code(client: redspec.Redis[bytes]) -> None:
    await client.execute_command("SET", "s", "x")
    with pytest.raises(redspec.WrongTypeError) as info:
        await client.execute_command("LPUSH", "s", "y")
    assert info.value.code == "WRONGTYPE"
    with pytest.raises(redspec.ResponseError) as info2:
        await client.execute_command("NOSUCHCOMMAND")
    assert info2.value.code == "ERR"
    assert await client.execute_command("GET", "s") == b"x"  # stream still in step


async def test_500_concurrent_calls_answered_in_order(client: redspec.Redis[bytes]) -> None:
    x = client.execute_command
    incrs = await asyncio.gather(*(x("INCR", "counter") for _ in range(500)))
    assert incrs == list(range(1, 501))  # sent in call order, one write per loop turn
    echoes = await asyncio.gather(*(x("ECHO", f"v{i}") for i in range(500)))
    assert echoes == [f"v{i}".encode() for i in range(500)]


async def test_fast_path_returns_the_connection_future(client: redspec.Redis[bytes]) -> None:
    await client.execute_command("PING")  # connected
    aw = client.execute_command("PING")
    # No coroutine wrapper on the hot path: the transport's future itself.
    assert isinstance(aw, asyncio.Future)
    assert await aw == b"PONG"
    # A command timeout is kept by the connection (one timer for all its
    # deadlines), so timed calls take the fast path too.
    timed = client.with_options(command_timeout=1.0).execute_command("PING")
    assert isinstance(timed, asyncio.Future)
    assert await timed == b"PONG"
    untimed = client.with_options(command_timeout=None).execute_command("PING")
    assert isinstance(untimed, asyncio.Future)
    assert await untimed == b"PONG"


async def test_cancellation_storm_gives_no_wrong_reply(client: redspec.Redis[bytes]) -> None:
    rnd = random.Random(7)
    wrong = 0
    done = 0

    async def one(i: int) -> None:
        nonlocal wrong, done
        for j in range(20):
            payload = f"{i}:{j}".encode()
            if await client.execute_command("ECHO", payload) != payload:
                wrong += 1
            done += 1

    for _ in range(5):
        tasks = [asyncio.ensure_future(one(i)) for i in range(100)]
        for _ in range(rnd.randint(1, 6)):
            await asyncio.sleep(0)
        for t in tasks:
            if rnd.random() < 0.5:
                t.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
    assert wrong == 0
    assert done > 0
    results = await asyncio.gather(*(client.execute_command("ECHO", str(i)) for i in range(200)))
    assert results == [str(i).encode() for i in range(200)]


async def test_command_timeout_then_next_calls_get_their_own_replies(
    client: redspec.Redis[bytes],
) -> None:
    slow = client.with_options(command_timeout=0.2)
    t0 = time.monotonic()
    with pytest.raises(redspec.TimeoutError, match="DEBUG"):
        await slow.execute_command("DEBUG", "SLEEP", 1)
    assert 0.15 < time.monotonic() - t0 < 0.6
    # The late OK of DEBUG SLEEP is dropped; the next replies are the right ones.
    assert await slow.with_options(command_timeout=None).execute_command("ECHO", "a") == b"a"
    assert await client.execute_command("ECHO", "b") == b"b"
    assert client.command_timeout == 5.0 and slow.command_timeout == 0.2


async def test_command_timeout_setting(redis8: RedisServer) -> None:
    r = redspec.Redis(redis8.host, redis8.port, command_timeout=0.2)
    try:
        with pytest.raises(redspec.TimeoutError):
            await r.execute_command("DEBUG", "SLEEP", 0.6)
        assert await r.with_options(command_timeout=2).execute_command("ECHO", "x") == b"x"
    finally:
        await r.aclose()


async def test_lazy_connect_and_settings_applied(redis8: RedisServer) -> None:
    r = redspec.Redis(redis8.host, redis8.port, db=3, client_name="core-test")
    assert r._core.conn is None  # nothing connected yet
    try:
        assert await r.execute_command("CLIENT", "GETNAME") == b"core-test"
        await r.execute_command("SET", "in-db-3", 1)
        assert await r.execute_command("DBSIZE") == 1
        info = await r.execute_command("CLIENT", "INFO")
        assert b"db=3" in info and b"lib-name=redspec" in info
    finally:
        await r.execute_command("FLUSHDB")
        await r.aclose()


async def test_read_mode_call(client: redspec.Redis[bytes]) -> None:
    await client.execute_command("SET", "r", "1")
    assert await client._call(["GET", "r"], READ) == b"1"


async def test_unix_socket(redis8: RedisServer) -> None:
    async with redspec.Redis(unix_socket_path=redis8.unix_path) as r:
        assert await r.execute_command("ECHO", "unix") == b"unix"
    async with redspec.Redis.from_url(f"unix://{redis8.unix_path}?db=2") as r2:
        info = await r2.execute_command("CLIENT", "INFO")
        assert b"db=2" in info


@pytest.mark.parametrize("kind", ["valkey8", "redis7"])
@pytest.mark.parametrize("protocol", [3, 2])
async def test_other_servers(kind: str, protocol: int, request: pytest.FixtureRequest) -> None:
    server: RedisServer = request.getfixturevalue(kind)
    async with redspec.Redis.from_url(server.url, protocol=protocol) as r:
        assert r._core.conn is not None and r._core.conn.protocol_version == protocol
        await r.execute_command("SET", "o", "1")
        assert await r.execute_command("INCR", "o") == 2
        assert await r.execute_command("GET", "o") == b"2"


async def test_aclose_fails_in_flight_and_later_calls(redis8: RedisServer) -> None:
    r = redspec.Redis(redis8.host, redis8.port)
    await r.execute_command("PING")
    in_flight = asyncio.ensure_future(r.execute_command("DEBUG", "SLEEP", 0.3))
    blocked = asyncio.ensure_future(r._call_blocking(["BLPOP", "never", 0], 0))
    await asyncio.sleep(0.05)
    await r.aclose()
    for fut in (in_flight, blocked):
        with pytest.raises(redspec.ConnectionError, match="client closed"):
            await fut
    with pytest.raises(redspec.ConnectionError, match="client closed"):
        await r.execute_command("PING")
    with pytest.raises(redspec.ConnectionError, match="client closed"):
        await r._call_blocking(["BLPOP", "never", 1], 1)
    await r.aclose()  # idempotent
    assert "closed" in repr(r)


async def test_async_with_and_views_share_one_connection(redis8: RedisServer) -> None:
    async with redspec.Redis(redis8.host, redis8.port) as r:
        view = r.with_options(command_timeout=5)
        ids = {await r.execute_command("CLIENT", "ID"), await view.execute_command("CLIENT", "ID")}
        assert len(ids) == 1
    with pytest.raises(redspec.ConnectionError):
        await view.execute_command("PING")


async def test_repr_and_errors_never_show_the_password(redis8: RedisServer) -> None:
    secret = "s3cr3t-pw"
    r = redspec.Redis.from_url(f"redis://user:{secret}@{redis8.host}:{redis8.port}/0")
    texts: list[Any] = [repr(r), str(r), repr(r.settings)]
    with pytest.raises(redspec.AuthenticationError) as info:
        await r.execute_command("PING")
    texts += [str(info.value), repr(info.value)]
    await r.aclose()
    with pytest.raises(redspec.DataError) as bad:
        redspec.Redis.from_url(f"redis://:{secret}@h/0?password_typo=1")
    texts.append(str(bad.value))
    for text in texts:
        assert secret not in text
    assert f"port={redis8.port}" in texts[0] and "db=0" in texts[0]


async def test_bad_input_is_a_data_error(client: redspec.Redis[bytes]) -> None:
    with pytest.raises(redspec.DataError):
        client.execute_command()
    with pytest.raises(redspec.DataError):
        await client.execute_command("SET", "k", object())
    with pytest.raises(redspec.DataError):
        redspec.Redis(port=-1)
    with pytest.raises(redspec.DataError):
        redspec.Redis(command_timeout=-1)
    with pytest.raises(redspec.DataError):
        redspec.Redis(encoding="no-such-codec")
    with pytest.raises(redspec.DataError):
        redspec.Redis(host=6379)  # type: ignore[call-overload]
    with pytest.raises(redspec.DataError, match="password must be a str, not bytes"):
        redspec.Redis(password=b"pw")  # type: ignore[call-overload]
    with pytest.raises(redspec.DataError):
        client.with_options(command_timeout="soon")  # type: ignore[arg-type]
    assert await client.execute_command("PING") == b"PONG"


async def test_rejected_handshake_is_reported_not_retried(redis8: RedisServer) -> None:
    r = redspec.Redis(redis8.host, redis8.port, db=99)
    for _ in range(2):
        t0 = time.monotonic()
        with pytest.raises(redspec.ResponseError, match="DB index"):
            await r.execute_command("PING")
        assert time.monotonic() - t0 < 1.0
    await r.aclose()


async def test_connection_refused_fails_fast() -> None:
    from tests.servers import free_port

    r = redspec.Redis("127.0.0.1", free_port())
    t0 = time.monotonic()
    with pytest.raises(redspec.ConnectionError, match="cannot connect"):
        await r.execute_command("PING")
    assert time.monotonic() - t0 < 1.0
    await r.aclose()
