"""Streams: typed StreamEntry replies, blocking reads, and the consumer-group
helper end to end (claims, acks, reconnects). Against Redis 8 unless noted.
"""

from __future__ import annotations

import asyncio
import time
from typing import Any

import pytest

import redspec
from redspec import StreamEntry, _replies
from redspec.types import PendingEntry, PendingSummary, StreamGroupInfo, StreamInfo
from tests.conftest import LOOP_POLICIES, loop_policy
from tests.servers import RedisServer

pytestmark = pytest.mark.filterwarnings(
    'ignore:Overriding the "event_loop_policy":DeprecationWarning'
)


@pytest.fixture(params=LOOP_POLICIES)
def event_loop_policy(request: pytest.FixtureRequest) -> asyncio.AbstractEventLoopPolicy:
    return loop_policy(request.param)


async def _kill_blocked(r: redspec.Redis[Any], command: str) -> int:
    """CLIENT KILL the connections blocked in ``command``; how many were killed."""
    listing = await r.execute_command("CLIENT", "LIST")
    text = listing.decode() if isinstance(listing, bytes) else listing
    killed = 0
    for line in text.splitlines():
        fields = dict(f.split("=", 1) for f in line.split() if "=" in f)
        if fields.get("cmd") == command and "b" in fields.get("flags", ""):
            killed += await r.execute_command("CLIENT", "KILL", "ID", fields["id"])
    return killed


async def _wait_blocked(r: redspec.Redis[Any], command: str) -> None:
    for _ in range(100):
        listing = await r.execute_command("CLIENT", "LIST")
        text = listing.decode() if isinstance(listing, bytes) else listing
        if any(f"cmd={command}" in line and "flags=b" in line for line in text.splitlines()):
            return
        await asyncio.sleep(0.01)
    raise AssertionError(f"nobody blocked in {command}")


async def test_entries_are_typed_everywhere(any_protocol_client: redspec.Redis[bytes]) -> None:
    r = any_protocol_client
    ids: list[Any] = [await r.xadd("s", {"n": i}) for i in range(3)]
    assert all(isinstance(i, bytes) for i in ids)
    rng = await r.xrange("s", "-", "+")
    assert rng == [StreamEntry(ids[i], {b"n": str(i).encode()}) for i in range(3)]
    assert isinstance(rng[0], StreamEntry) and rng[0].fields == {b"n": b"0"}
    assert await r.xrevrange("s", "+", "-", count=1) == [StreamEntry(ids[2], {b"n": b"2"})]
    assert await r.xread({"s": ids[1]}) == {b"s": [StreamEntry(ids[2], {b"n": b"2"})]}
    assert await r.xread({"s": "$"}, block=10) == {}
    await r.xgroup_create("s", "g", "0")
    got = await r.xreadgroup("g", "c1", {"s": ">"}, count=2)
    assert got == {b"s": rng[:2]}
    claimed = await r.xclaim("s", "g", "c2", 0, ids[0])
    assert claimed == [rng[0]]
    cursor, auto, deleted = await r.xautoclaim("s", "g", "c3", 0, "0-0")
    assert (cursor, auto, deleted) == (b"0-0", rng[:2], [])
    # An entry deleted while pending comes back with no fields.
    await r.xdel("s", ids[0])
    again = await r.xreadgroup("g", "c3", {"s": "0"})
    assert again[b"s"][0] == StreamEntry(ids[0], {})


async def test_blocking_xread_woken_by_xadd(client: redspec.Redis[bytes]) -> None:
    ticks = 0

    async def timer() -> None:
        nonlocal ticks
        while True:
            await asyncio.sleep(0.01)
            ticks += 1

    added_at = 0.0

    async def producer() -> Any:
        nonlocal added_at
        await asyncio.sleep(0.3)
        # "$" means entries added after the XREAD arrives: on a loaded machine its
        # pooled connection may still be greeting the server after 0.3 s.
        deadline = time.monotonic() + 10
        while b"blocked_clients:0" in await client.execute_command("INFO", "clients"):
            assert time.monotonic() < deadline, "XREAD never blocked"
            await asyncio.sleep(0.01)
        added_at = time.monotonic()
        return await client.xadd("wake", {"k": "v"})

    ticker = asyncio.ensure_future(timer())
    t0 = time.monotonic()
    try:
        got, new_id = await asyncio.gather(client.xread({"wake": "$"}, block=5000), producer())
    finally:
        ticker.cancel()
    woken = time.monotonic()
    assert got == {b"wake": [StreamEntry(new_id, {b"k": b"v"})]}
    assert woken - t0 > 0.25
    assert woken - added_at < 1.5  # woken by the XADD, not by the 5 s BLOCK
    assert ticks >= 15  # the loop kept running while XREAD blocked
    assert await client.echo("shared connection free") == b"shared connection free"


async def test_consumer_group_end_to_end(client: redspec.Redis[bytes]) -> None:
    for i in range(25):
        await client.xadd("jobs", {"i": i})
    seen: list[bytes] = []
    async with client.stream_consumer("jobs", "workers", "w1", create=True, count=10) as jobs:
        async for entry in jobs:
            seen.append(entry.fields[b"i"])
            if len(seen) == 25:
                await jobs.ack(entry)  # the last one explicitly: the loop is left
                break
    assert seen == [str(i).encode() for i in range(25)]
    pending = await client.xpending("jobs", "workers")
    assert pending[0] == 0  # every entry acked
    # New entries reach a consumer blocked in XREADGROUP.
    got: list[bytes] = []

    async def consume() -> None:
        async for entry in client.stream_consumer("jobs", "workers", "w1", block=2000):
            got.append(entry.fields[b"i"])
            if len(got) == 3:
                return

    task = asyncio.ensure_future(consume())
    await _wait_blocked(client, "xreadgroup")
    for i in (100, 101, 102):
        await client.xadd("jobs", {"i": i})
    await asyncio.wait_for(task, 3)
    assert got == [b"100", b"101", b"102"]


async def test_failed_body_leaves_entry_pending_for_the_next_run(
    client: redspec.Redis[bytes],
) -> None:
    await client.xadd("fail", {"n": 1})
    await client.xadd("fail", {"n": 2})
    with pytest.raises(RuntimeError):
        async with client.stream_consumer("fail", "g", "c", create=True) as c:
            async for entry in c:
                if entry.fields[b"n"] == b"2":
                    raise RuntimeError("processing failed")
    summary = await client.xpending("fail", "g")
    assert summary[0] == 1  # the first was acked, the failed one was not
    # The next run of the same consumer starts with its unacked history.
    async with client.stream_consumer("fail", "g", "c") as c:
        entry = await c.__anext__()
        assert entry.fields == {b"n": b"2"}
        await c.ack(entry)
    assert (await client.xpending("fail", "g"))[0] == 0


async def test_claims_a_dead_consumers_entries(client: redspec.Redis[bytes]) -> None:
    ids: list[Any] = [await client.xadd("claim", {"n": i}) for i in range(5)]
    await client.xgroup_create("claim", "g", "0")
    # "dead" reads everything and dies without acking.
    delivered = await client.xreadgroup("g", "dead", {"claim": ">"})
    assert len(delivered[b"claim"]) == 5
    await client.xadd("claim", {"n": 5})
    await asyncio.sleep(0.06)
    got: list[Any] = []
    async with client.stream_consumer("claim", "g", "alive", claim_idle=50, block=100) as alive:
        async for entry in alive:
            got.append(entry.id)
            if len(got) == 6:
                await alive.ack(entry)
                break
    assert got[:5] == ids  # claimed first, then the new entry
    assert len(got) == 6
    assert (await client.xpending("claim", "g"))[0] == 0
    raw = await client.execute_command("XINFO", "CONSUMERS", "claim", "g")
    consumers = {c.name: c.pending for c in map(_replies.to_consumer_info, raw)}
    assert consumers == {b"dead": 0, b"alive": 0}


async def test_history_recovers_entries_whose_reply_was_lost(
    client: redspec.Redis[bytes],
) -> None:
    await client.xgroup_create("lost", "g", "$", mkstream=True)
    ids: list[Any] = [await client.xadd("lost", {"n": i}) for i in range(3)]
    # The server delivers (moves to c's pending list) but the reply never arrives:
    await client.xreadgroup("g", "c", {"lost": ">"}, count=2)
    async with client.stream_consumer("lost", "g", "c", block=100) as c:
        got = [(await c.__anext__()).id for _ in range(3)]
        await c.ack(got[-1])
    assert got == ids
    assert (await client.xpending("lost", "g"))[0] == 0


async def test_consumer_survives_a_killed_connection(client: redspec.Redis[bytes]) -> None:
    await client.xgroup_create("surv", "g", "$", mkstream=True)
    got: list[bytes] = []

    async def consume() -> None:
        async for entry in client.stream_consumer("surv", "g", "c", block=5000):
            got.append(entry.fields[b"n"])
            if len(got) == 4:
                return

    task = asyncio.ensure_future(consume())
    await _wait_blocked(client, "xreadgroup")
    assert await _kill_blocked(client, "xreadgroup") == 1
    await client.xadd("surv", {"n": 0})
    await client.xadd("surv", {"n": 1})
    await _wait_blocked(client, "xreadgroup")
    assert await _kill_blocked(client, "xreadgroup") == 1
    await client.xadd("surv", {"n": 2})
    await client.xadd("surv", {"n": 3})
    await asyncio.wait_for(task, 5)
    assert got == [b"0", b"1", b"2", b"3"]


async def test_stream_reader_pins_dollar_and_survives_a_killed_connection(
    client: redspec.Redis[bytes],
) -> None:
    await client.xadd("tail", {"old": 1})
    reader = client.stream_reader("tail", block=5000)
    first = asyncio.ensure_future(reader.__anext__())
    await _wait_blocked(client, "xread")
    assert reader.last_id not in ("$", b"$")  # pinned to the newest id before blocking
    assert await _kill_blocked(client, "xread") == 1
    # Added while no read was in flight: a "$" re-sent now would skip it.
    new_id: Any = await client.xadd("tail", {"new": 1})
    entry = await asyncio.wait_for(first, 3)
    assert entry == StreamEntry(new_id, {b"new": b"1"})
    assert reader.last_id == new_id


async def test_blocking_xread_is_not_resent_after_a_kill(client: redspec.Redis[bytes]) -> None:
    read = asyncio.ensure_future(client.xread({"nr": "$"}, block=5000))
    await _wait_blocked(client, "xread")
    await _kill_blocked(client, "xread")
    with pytest.raises(redspec.ConnectionError):
        await read
    assert client._core.pool._busy == 0


async def test_consumer_without_a_group_raises(redis8: RedisServer) -> None:
    async with redspec.Redis(redis8.host, redis8.port) as r:
        await r.delete("gone")
        c = r.stream_consumer("gone", "g", "c")  # no group, create=False
        with pytest.raises(redspec.ResponseError, match="NOGROUP"):
            await c.__anext__()


async def test_cancelled_consumer_leaks_no_slot(redis8: RedisServer) -> None:
    async with redspec.Redis(redis8.host, redis8.port, max_connections=1) as r:
        await r.delete("cs")

        async def consume() -> None:
            async for _ in r.stream_consumer("cs", "g", "c", create=True, block=0):
                pass

        task = asyncio.ensure_future(consume())
        await _wait_blocked(r, "xreadgroup")
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
        assert r._core.pool._busy == 0
        assert await r.blpop(["free"], timeout=0.05) is None


@pytest.mark.parametrize("kind", ["redis8", "valkey8", "redis7"])
@pytest.mark.parametrize("protocol", [3, 2])
@pytest.mark.parametrize("decode", [False, True], ids=["bytes", "str"])
async def test_stream_records(
    kind: str, protocol: int, decode: bool, request: pytest.FixtureRequest
) -> None:
    server: RedisServer = request.getfixturevalue(kind)
    async with redspec.Redis(
        server.host, server.port, protocol=protocol, decode_responses=decode
    ) as r:
        b: Any = (lambda s: s) if decode else (lambda s: s.encode())
        x = r.execute_command
        await r.delete("rec", "empty")
        await x("XADD", "rec", "1-1", "a", "1")
        await x("XADD", "rec", "2-1", "b", "2")
        await x("XGROUP", "CREATE", "rec", "g", "0")
        await x("XREADGROUP", "GROUP", "g", "c", "COUNT", "1", "STREAMS", "rec", ">")

        info = _replies.to_stream_info(await x("XINFO", "STREAM", "rec"))
        assert isinstance(info, StreamInfo)
        assert (info.length, info.groups, info.entries_added) == (2, 1, 2)
        assert (info.last_generated_id, info.recorded_first_entry_id) == (b("2-1"), b("1-1"))
        assert info.max_deleted_entry_id == b("0-0")
        assert info.radix_tree_keys == 1 and info.radix_tree_nodes >= 1
        assert info.first_entry == StreamEntry(b("1-1"), {b("a"): b("1")})
        assert info.last_entry == StreamEntry(b("2-1"), {b("b"): b("2")})
        await x("XADD", "empty", "1-1", "a", "1")
        await x("XDEL", "empty", "1-1")
        empty = _replies.to_stream_info(await x("XINFO", "STREAM", "empty"))
        assert (empty.length, empty.first_entry, empty.last_entry) == (0, None, None)

        groups = [_replies.to_group_info(g) for g in await x("XINFO", "GROUPS", "rec")]
        assert groups == [StreamGroupInfo(b("g"), 1, 1, b("1-1"), 1, 1)]

        consumers = [
            _replies.to_consumer_info(c) for c in await x("XINFO", "CONSUMERS", "rec", "g")
        ]
        assert [(c.name, c.pending) for c in consumers] == [(b("c"), 1)]
        assert consumers[0].idle >= 0
        assert (consumers[0].inactive is None) == (kind == "redis7")  # 7.2+ field

        summary = _replies.to_pending_summary(await x("XPENDING", "rec", "g"))
        assert summary == PendingSummary(1, b("1-1"), b("1-1"), {b("c"): 1})
        await x("XGROUP", "CREATE", "rec", "idle", "$")
        assert _replies.to_pending_summary(await x("XPENDING", "rec", "idle")) == PendingSummary(
            0, None, None, {}
        )
        extended = [
            _replies.to_pending_entry(e) for e in await x("XPENDING", "rec", "g", "-", "+", 10)
        ]
        assert len(extended) == 1 and isinstance(extended[0], PendingEntry)
        assert (extended[0].id, extended[0].consumer, extended[0].deliveries) == (
            b("1-1"),
            b("c"),
            1,
        )
        assert extended[0].idle >= 0
