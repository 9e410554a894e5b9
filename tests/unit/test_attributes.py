"""RESP3 attribute frames (``|``) are dropped from the reply stream, never handed to a caller.

hiredis returns a top-level attribute as a reply of its own and counts a
nested one as an element: without the connection's filter, the first caller
would get the attribute and the next caller the first caller's reply.
"""

from __future__ import annotations

import asyncio
import random
from typing import Any

import hiredis
import pytest

import redspec
from redspec._frames import FrameError, frame_end
from redspec._settings import ConnectionSettings
from redspec.connection import Connection
from tests.unit.fake_server import DEFAULT, FakeClient, FakeServer, encode, push
from tests.unit.test_wire import _NullTransport, both_loops

TTL_ATTRIBUTE = b"|1\r\n+ttl\r\n:3600\r\n"
# The example of the RESP3 spec: a map inside the attribute.
POPULARITY = b"|1\r\n+key-popularity\r\n%2\r\n$1\r\na\r\n,0.1923\r\n$1\r\nb\r\n,0.0012\r\n"


def test_hiredis_still_needs_the_filter() -> None:
    # If hiredis learns attributes one day, this says so (and the filter can go).
    reader = hiredis.Reader(notEnoughData=False)
    reader.feed(TTL_ATTRIBUTE + b"$1\r\nA\r\n")
    assert reader.gets() == [b"ttl", 3600]  # the attribute, as if it were a reply
    assert reader.gets() == b"A"


@both_loops
async def test_two_concurrent_callers_get_their_own_replies() -> None:
    def handler(client: FakeClient, cmd: list[bytes]) -> Any:
        if cmd[0] == b"GET":
            if cmd[1] == b"a":
                return POPULARITY + encode(b"A")
            return encode(b"B")
        return DEFAULT

    async with FakeServer(handler) as server:
        conn = await Connection.open(server.settings())
        a, b = conn.send(("GET", "a")), conn.send(("GET", "b"))
        assert list(await asyncio.gather(a, b)) == [b"A", b"B"]
        assert conn.attributes_dropped == 1
        assert conn.pending == 0 and conn.is_usable
        conn.close()


@both_loops
async def test_client_callers_through_the_fast_path() -> None:
    def handler(client: FakeClient, cmd: list[bytes]) -> Any:
        if cmd[0] == b"GET":
            return TTL_ATTRIBUTE + encode(cmd[1].upper())
        return DEFAULT

    async with FakeServer(handler) as server:
        r = redspec.Redis("127.0.0.1", server.port)
        got = await asyncio.gather(*(r.get(f"k{i}") for i in range(50)))
        assert got == [f"K{i}".encode() for i in range(50)]
        await r.aclose()


@both_loops
async def test_nested_attributes_are_not_counted_as_elements() -> None:
    replies = {
        # An attribute before an element of an array (the spec's second example).
        b"ARRAY": b"*3\r\n:1\r\n:2\r\n" + TTL_ATTRIBUTE + b":3\r\n",
        # Before a map value, and before the first element of a nested array.
        b"MAP": b"%1\r\n+k\r\n" + TTL_ATTRIBUTE + b"*2\r\n" + POPULARITY + b"+x\r\n+y\r\n",
        # An attribute that carries an attribute, then a push, then the reply.
        b"DEEP": (
            b"|1\r\n+a\r\n" + TTL_ATTRIBUTE + b"+v\r\n" + push("message", "c", "m") + b":7\r\n"
        ),
    }

    async with FakeServer(lambda c, cmd: replies.get(cmd[0], DEFAULT)) as server:
        pushed: list[Any] = []
        conn = await Connection.open(server.settings(), on_push=pushed.append)
        got = await asyncio.gather(*(conn.send((name,)) for name in replies))
        assert got == [[1, 2, 3], {b"k": [b"x", b"y"]}, 7]
        assert pushed == [[b"message", b"c", b"m"]]
        assert conn.attributes_dropped == 4
        assert await conn.send(("PING",)) == b"PONG"
        conn.close()


@both_loops
async def test_bars_inside_values_are_values() -> None:
    values = [b"|", b"a|b", b"|1\r\n+ttl\r\n:1\r\n", b"x\r\n|2\r\n", b"\n|", b"|" * 100]

    def handler(client: FakeClient, cmd: list[bytes]) -> Any:
        if cmd[0] == b"GET":
            return encode(values[int(cmd[1])])
        if cmd[0] == b"MIX":
            return encode([b"|", b"\r\n|", [b"|x"]]) + b"+|simple\r\n"
        return DEFAULT

    async with FakeServer(handler) as server:
        conn = await Connection.open(server.settings())
        got = await asyncio.gather(*(conn.send(("GET", i)) for i in range(len(values))))
        assert got == values
        mix = conn.send(("MIX",))
        assert await mix == [b"|", b"\r\n|", [b"|x"]]
        assert conn.attributes_dropped == 0
        conn.close()


@both_loops
async def test_attributes_split_at_any_byte() -> None:
    rng = random.Random(11)
    stream = b""
    expected: list[Any] = []
    for i in range(200):
        kind = i % 4
        if kind == 0:
            stream += TTL_ATTRIBUTE + encode(b"v|%d\r\n" % i)
            expected.append(b"v|%d\r\n" % i)
        elif kind == 1:
            stream += b"*2\r\n" + POPULARITY + b":%d\r\n$1\r\n|\r\n" % i
            expected.append([i, b"|"])
        elif kind == 2:
            stream += encode(b"|%d" % i)
            expected.append(b"|%d" % i)
        else:
            stream += POPULARITY + TTL_ATTRIBUTE + b":%d\r\n" % i
            expected.append(i)
    for steps in ([1], [1, 2, 3, 5, 64], [len(stream)]):
        conn = Connection(ConnectionSettings(), asyncio.get_running_loop())
        conn.connection_made(_NullTransport())  # type: ignore[arg-type]
        futures = [conn.send(("X", i)) for i in range(len(expected))]
        pos = 0
        while pos < len(stream):
            step = rng.choice(steps)
            conn.data_received(stream[pos : pos + step])
            pos += step
        assert [f.result() for f in futures] == expected
        assert conn.pending == 0 and conn.is_usable
        conn.close()


@both_loops
async def test_a_malformed_attribute_breaks_the_connection_not_a_reply() -> None:
    def handler(client: FakeClient, cmd: list[bytes]) -> Any:
        if cmd[0] == b"BAD":
            return b"|x\r\n+ttl\r\n:1\r\n"
        if cmd[0] == b"SLOW":
            return None
        return DEFAULT

    async with FakeServer(handler) as server:
        conn = await Connection.open(server.settings())
        results = await asyncio.gather(
            conn.send(("BAD",)), conn.send(("SLOW",)), return_exceptions=True
        )
        assert all(isinstance(r, redspec.ProtocolError) for r in results), results
        assert "bad length" in str(results[0])
        assert not conn.is_usable


def test_frame_end() -> None:
    frames = [
        b"+OK\r\n",
        b"$3\r\na\r\n\r\n",
        b"$-1\r\n",
        b"*-1\r\n",
        b"*2\r\n:1\r\n*1\r\n_\r\n",
        b"%1\r\n+k\r\n=7\r\ntxt:abc\r\n",
        TTL_ATTRIBUTE,
        POPULARITY,
        b"~0\r\n",
        b">2\r\n+a\r\n(123\r\n",
    ]
    for frame in frames:
        assert frame_end(frame + b"+next\r\n", 0) == len(frame)
        for cut in range(len(frame)):
            assert frame_end(frame[:cut], 0) is None
    for bad in (b"$x\r\n", b"*-2\r\n", b"?1\r\n", b"$?\r\n", b"|?\r\n"):
        with pytest.raises(FrameError):
            frame_end(bad, 0)
