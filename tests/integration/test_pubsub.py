"""Pub/sub against Redis 8 (and Valkey 8 / Redis 7 for sharded channels), over
RESP3 and RESP2, under both event loops.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from typing import Any

import pytest

import redspec
from tests.conftest import LOOP_POLICIES, loop_policy
from tests.servers import RedisServer, start_server

pytestmark = pytest.mark.filterwarnings(
    'ignore:Overriding the "event_loop_policy":DeprecationWarning'
)


@pytest.fixture(params=LOOP_POLICIES)
def event_loop_policy(request: pytest.FixtureRequest) -> asyncio.AbstractEventLoopPolicy:
    return loop_policy(request.param)


@pytest.fixture(params=[3, 2], ids=["resp3", "resp2"])
async def r(
    request: pytest.FixtureRequest, redis8: RedisServer
) -> AsyncIterator[redspec.Redis[bytes]]:
    client = redspec.Redis(redis8.host, redis8.port, protocol=request.param)
    yield client
    await client.aclose()


async def _next(ps: redspec.PubSub[Any], timeout: float = 2.0) -> redspec.Message[Any]:
    msg = await ps.get_message(timeout=timeout)
    assert msg is not None, "no message within the timeout"
    return msg


async def test_subscribe_publish_confirmations(r: redspec.Redis[bytes]) -> None:
    async with r.pubsub() as ps:
        await ps.subscribe("ch1", b"ch2")
        assert await _next(ps) == redspec.Message("subscribe", b"ch1", b"", None, 1)
        assert await _next(ps) == redspec.Message("subscribe", b"ch2", b"", None, 2)
        # subscribe() returned after the server confirmed: this cannot be missed.
        assert await r.publish("ch1", "hello") == 1
        msg = await _next(ps)
        assert msg == redspec.Message("message", b"ch1", b"hello")
        assert (msg.kind, msg.channel, msg.data, msg.pattern) == ("message", b"ch1", b"hello", None)
        assert ps.channels == {b"ch1", b"ch2"}
        await ps.unsubscribe("ch1")
        assert await _next(ps) == redspec.Message("unsubscribe", b"ch1", b"", None, 1)
        assert await r.publish("ch1", "nobody") == 0
        await ps.unsubscribe()
        assert await _next(ps) == redspec.Message("unsubscribe", b"ch2", b"", None, 0)
        assert not ps.subscribed
        assert await ps.get_message(timeout=0.05) is None
    assert r._core.pool._busy == 0 and r._core.pool.size == 0


async def test_patterns(r: redspec.Redis[bytes]) -> None:
    async with r.pubsub(ignore_subscribe_messages=True) as ps:
        await ps.psubscribe("news.*")
        await r.publish("news.tech", "a")
        await r.publish("sport", "b")
        await r.publish("news.art", "c")
        assert await _next(ps) == redspec.Message("pmessage", b"news.tech", b"a", b"news.*")
        assert await _next(ps) == redspec.Message("pmessage", b"news.art", b"c", b"news.*")
        await ps.punsubscribe("news.*")
        await r.publish("news.tech", "d")
        assert await ps.get_message(timeout=0.1) is None


@pytest.mark.parametrize("kind", ["redis8", "valkey8", "redis7"])
async def test_sharded_channels(kind: str, request: pytest.FixtureRequest) -> None:
    server: RedisServer = request.getfixturevalue(kind)
    for protocol in (3, 2):
        async with redspec.Redis(server.host, server.port, protocol=protocol) as r:
            async with r.pubsub() as ps:
                await ps.ssubscribe("sh{1}")
                assert await _next(ps) == redspec.Message("ssubscribe", b"sh{1}", b"", None, 1)
                assert await r.spublish("sh{1}", "s") == 1
                assert await _next(ps) == redspec.Message("smessage", b"sh{1}", b"s")
                await ps.sunsubscribe("sh{1}")
                assert await _next(ps) == redspec.Message("sunsubscribe", b"sh{1}", b"", None, 0)


async def test_hundred_messages_in_order(r: redspec.Redis[bytes]) -> None:
    async with r.pubsub(ignore_subscribe_messages=True) as ps:
        await ps.subscribe("seq")
        await asyncio.gather(*(r.publish("seq", str(i)) for i in range(100)))
        got = [(await _next(ps)).data for _ in range(100)]
        assert got == [str(i).encode() for i in range(100)]


async def test_ping_while_messages_flow(r: redspec.Redis[bytes]) -> None:
    # On RESP2 a PING reply and a message are both arrays: they must not be confused.
    async with r.pubsub(ignore_subscribe_messages=True) as ps:
        await ps.subscribe("flood")

        async def publisher() -> None:
            for i in range(300):
                await r.publish("flood", str(i))

        async def pinger() -> None:
            for _ in range(50):
                await ps.ping()

        await asyncio.gather(publisher(), pinger())
        got = [(await _next(ps)).data for _ in range(300)]
        assert got == [str(i).encode() for i in range(300)]
        assert await ps.get_message(timeout=0.05) is None


async def test_decoded_messages(redis8: RedisServer) -> None:
    for protocol in (3, 2):
        async with redspec.Redis(
            redis8.host, redis8.port, protocol=protocol, decode_responses=True
        ) as r:
            async with r.pubsub() as ps:
                await ps.psubscribe("d.*")
                confirm = await _next(ps)
                assert confirm == redspec.Message("psubscribe", "d.*", "", None, 1)
                await r.publish("d.1", "é")
                assert await _next(ps) == redspec.Message("pmessage", "d.1", "é", "d.*")


async def test_get_message_waits_and_listen(r: redspec.Redis[bytes]) -> None:
    async with r.pubsub(ignore_subscribe_messages=True) as ps:
        await ps.subscribe("w")
        t0 = time.monotonic()
        assert await ps.get_message(timeout=0.2) is None
        assert 0.18 < time.monotonic() - t0 < 0.5
        assert await ps.get_message() is None  # timeout 0: no wait

        async def later() -> None:
            await asyncio.sleep(0.1)
            await r.publish("w", "late")

        task = asyncio.ensure_future(later())
        msg = await ps.get_message(timeout=None)  # waits as long as it takes
        assert msg is not None and msg.data == b"late"
        await task

        async def publish_three() -> None:
            for i in range(3):
                await r.publish("w", str(i))

        await publish_three()
        seen = []
        async for m in ps.listen():
            seen.append(m.data)
            if len(seen) == 3:
                break
        assert seen == [b"0", b"1", b"2"]

        # listen() ends once the subscriber is closed.
        async def close_soon() -> None:
            await asyncio.sleep(0.05)
            await ps.aclose()

        closer = asyncio.ensure_future(close_soon())
        assert [m async for m in ps.listen()] == []
        await closer


async def test_handlers(r: redspec.Redis[bytes]) -> None:
    got: list[tuple[str, bytes]] = []
    done = asyncio.Event()

    def sync_handler(m: redspec.Message[Any]) -> None:
        got.append(("sync", m.data))
        if m.data == b"boom":
            raise ValueError("handler failure is reported, not fatal")

    async def async_handler(m: redspec.Message[Any]) -> None:
        await asyncio.sleep(0)
        got.append(("async", m.data))
        if m.data == b"last":
            done.set()

    errors: list[dict[str, Any]] = []
    asyncio.get_running_loop().set_exception_handler(lambda loop, ctx: errors.append(ctx))
    async with r.pubsub(ignore_subscribe_messages=True) as ps:
        await ps.subscribe("plain", hs=sync_handler, **{"ha:1": async_handler})
        await r.publish("hs", "x")
        await r.publish("hs", "boom")
        await r.publish("ha:1", "y")
        await r.publish("plain", "queued")
        await r.publish("ha:1", "last")
        await asyncio.wait_for(done.wait(), 2)
        assert got == [("sync", b"x"), ("sync", b"boom"), ("async", b"y"), ("async", b"last")]
        assert (await _next(ps)).data == b"queued"  # no handler: queued
    assert len(errors) == 1 and isinstance(errors[0]["exception"], ValueError)


async def test_refused_subscription_raises(redis8: RedisServer) -> None:
    async with redspec.Redis(redis8.host, redis8.port) as admin:
        await admin.execute_command(
            "ACL", "SETUSER", "psuser", "on", ">pw", "~*", "&allowed", "+@all"
        )
        try:
            for protocol in (3, 2):
                async with redspec.Redis(
                    redis8.host, redis8.port, username="psuser", password="pw", protocol=protocol
                ) as r:
                    async with r.pubsub() as ps:
                        with pytest.raises(redspec.ResponseError) as info:
                            await ps.subscribe("forbidden")
                        assert info.value.code == "NOPERM"
                        assert not ps.subscribed
                        await ps.subscribe("allowed")
                        assert (await _next(ps)).kind == "subscribe"
                        await admin.publish("allowed", "ok")
                        assert (await _next(ps)).data == b"ok"
        finally:
            await admin.execute_command("ACL", "DELUSER", "psuser")


async def test_resubscribe_after_client_kill(r: redspec.Redis[bytes]) -> None:
    async with r.pubsub(ignore_subscribe_messages=True) as ps:
        await ps.subscribe("k1")
        await ps.psubscribe("kp.*")
        await ps.ssubscribe("ks")
        killed = await r.execute_command("CLIENT", "KILL", "TYPE", "pubsub")
        assert killed == 1
        reconnected = await _next(ps, 5)
        assert reconnected.kind == "reconnected"
        # Everything is back by the time the "reconnected" message is seen.
        await r.publish("k1", "a")
        await r.publish("kp.x", "b")
        await r.spublish("ks", "c")
        got = [await _next(ps) for _ in range(3)]
        assert [(m.kind, m.data) for m in got] == [
            ("message", b"a"),
            ("pmessage", b"b"),
            ("smessage", b"c"),
        ]
        assert await r.pubsub_numsub("k1") == {b"k1": 1}  # one subscriber, not two
    assert r._core.pool._busy == 0


async def test_reconnect_after_server_restart() -> None:
    with start_server("redis8") as server:
        async with redspec.Redis(server.host, server.port, connect_timeout=2) as r:
            async with r.pubsub() as ps:
                await ps.subscribe("rs")
                assert (await _next(ps)).kind == "subscribe"
                server.restart()
                assert (await _next(ps, 8)).kind == "reconnected"
                await r.publish("rs", "after")
                assert (await _next(ps)).data == b"after"


async def test_ordinary_commands_not_slowed_by_subscriber(r: redspec.Redis[bytes]) -> None:
    async with r.pubsub(ignore_subscribe_messages=True) as ps:
        await ps.subscribe("busy")
        # Nobody reads these: they pile up in the subscriber, not in the client.
        await asyncio.gather(*(r.publish("busy", "x" * 100) for _ in range(2000)))
        t0 = time.monotonic()
        for i in range(200):
            assert await r.echo(str(i)) == str(i).encode()
        assert time.monotonic() - t0 < 1.0
        assert ps._conn is not None and ps._conn is not r._core.conn
        assert len(ps._messages) == 2000


async def test_no_slot_leaked_when_cancelled(redis8: RedisServer) -> None:
    async with redspec.Redis(redis8.host, redis8.port, max_connections=1) as r:
        pool = r._core.pool

        # Connecting: the only slot is taken, entering waits for it; cancel.
        async def enter() -> None:
            async with r.pubsub():
                pass

        async with r._exclusive():
            t = asyncio.ensure_future(enter())
            await asyncio.sleep(0.05)
            t.cancel()
            with pytest.raises(asyncio.CancelledError):
                await t
        assert pool._busy == 0

        # Reading: cancelled in get_message(None).
        async with r.pubsub() as ps:
            await ps.subscribe("c")
            assert (await _next(ps)).kind == "subscribe"
            reader = asyncio.ensure_future(ps.get_message(timeout=None))
            await asyncio.sleep(0.05)
            reader.cancel()
            with pytest.raises(asyncio.CancelledError):
                await reader
            await r.publish("c", "still")
            assert (await _next(ps)).data == b"still"  # nothing lost to the cancelled reader
        assert pool._busy == 0

        # Cancelled in the middle of a subscribe round trip.
        async with r.pubsub() as ps:
            t2 = asyncio.ensure_future(ps.subscribe("c2"))
            t2.cancel()
            with pytest.raises(asyncio.CancelledError):
                await t2
        assert pool._busy == 0 and pool.size == 0
        # The slot is usable.
        assert await r.blpop(["nothing"], timeout=0.05) is None


async def test_client_closed_under_the_subscriber(redis8: RedisServer) -> None:
    r = redspec.Redis(redis8.host, redis8.port)
    ps = r.pubsub(ignore_subscribe_messages=True)
    await ps.subscribe("cc")  # without async with: connects on first use
    reader = asyncio.ensure_future(ps.get_message(timeout=None))
    await asyncio.sleep(0.05)
    await r.aclose()
    with pytest.raises(redspec.ConnectionError):
        await asyncio.wait_for(reader, 2)
    with pytest.raises(redspec.ConnectionError):
        await ps.subscribe("again")
    await ps.aclose()
    assert await ps.get_message(timeout=None) is None  # closed and drained


async def test_calls_during_an_outage_time_out_and_subscriptions_come_back() -> None:
    with start_server("redis8") as server:
        async with redspec.Redis(server.host, server.port, connect_timeout=0.3) as r:
            async with r.pubsub(ignore_subscribe_messages=True) as ps:
                await ps.subscribe("out")
                server.kill()
                await asyncio.sleep(0.05)
                t0 = time.monotonic()
                with pytest.raises(redspec.TimeoutError, match="reconnect"):
                    await ps.subscribe("during")
                assert time.monotonic() - t0 < 1.0
                assert ps.channels == {b"out"}
                server.start()
                assert (await _next(ps, 5)).kind == "reconnected"
                await r.publish("out", "back")
                assert (await _next(ps)).data == b"back"


async def test_subscribe_in_flight_when_the_connection_drops() -> None:
    with start_server("redis8") as server:
        async with redspec.Redis(server.host, server.port, connect_timeout=3) as r:
            async with r.pubsub(ignore_subscribe_messages=True) as ps:
                await ps.subscribe("first")
                sleeper = redspec.Redis(server.host, server.port)
                busy = asyncio.ensure_future(sleeper.execute_command("DEBUG", "SLEEP", "1"))
                await asyncio.sleep(0.05)
                pending = asyncio.ensure_future(ps.subscribe("second"))
                await asyncio.sleep(0.05)
                assert not pending.done()  # the server is asleep: no confirmation yet
                server.kill()
                server.start()
                await asyncio.wait_for(pending, 5)  # returns once the reconnect restored it
                assert ps.channels == {b"first", b"second"}
                assert (await _next(ps)).kind == "reconnected"
                await r.publish("second", "2")
                await r.publish("first", "1")
                assert [(await _next(ps)).data for _ in range(2)] == [b"2", b"1"]
                await asyncio.gather(busy, return_exceptions=True)
                await sleeper.aclose()


async def test_a_handler_may_close_the_subscriber(r: redspec.Redis[bytes]) -> None:
    ps = r.pubsub()

    async def stop(m: redspec.Message[Any]) -> None:
        await ps.aclose()

    await ps.subscribe(quit=stop)
    await r.publish("quit", "now")
    for _ in range(100):
        if ps.closed:
            break
        await asyncio.sleep(0.01)
    assert ps.closed
    await asyncio.sleep(0.05)
    assert r._core.pool._busy == 0 and r._core.pool.size == 0
    assert await r.pubsub_numsub("quit") == {b"quit": 0}
