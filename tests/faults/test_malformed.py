"""Every kind of malformed frame a server may send: its own error, and the next command works.

The scripted fake server (tests/unit/fake_server.py) answers ``GET <kind>``
with the bytes below. The caller gets an error saying what was wrong (never
a value), other callers in flight on that connection fail too (nothing after
corrupt bytes can be trusted), and the client's next command goes to a fresh
connection.
"""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

import redspec
from tests.faults.helpers import report
from tests.unit.fake_server import DEFAULT, FakeClient, FakeServer

# kind -> (bytes sent as the reply, the error class, text the message must contain)
MALFORMED: dict[str, tuple[bytes, type[redspec.RedisError], str]] = {
    "unknown type byte": (b"?x\r\n", redspec.ProtocolError, 'got "?" as reply type byte'),
    "NUL type byte": (b"\x00\r\n", redspec.ProtocolError, "as reply type byte"),
    "empty line": (b"\r\n", redspec.ProtocolError, "as reply type byte"),
    "blob error (unsupported)": (b"!3\r\nERR\r\n", redspec.ProtocolError, 'got "!"'),
    "bad integer": (b":12a\r\n", redspec.ProtocolError, "Bad integer value"),
    "integer overflow": (b":99999999999999999999999\r\n", redspec.ProtocolError, "Bad integer"),
    "bad bulk length": (b"$abc\r\n", redspec.ProtocolError, "Bad bulk string length"),
    "negative bulk length": (b"$-5\r\n", redspec.ProtocolError, "length out of range"),
    "streamed string": (b"$?\r\n;3\r\nabc\r\n;0\r\n", redspec.ProtocolError, "bulk string"),
    "bad array count": (b"*x\r\n", redspec.ProtocolError, "Bad multi-bulk length"),
    "negative array count": (b"*-5\r\n", redspec.ProtocolError, "out of range"),
    "huge array count": (b"*99999999999999\r\n", redspec.ProtocolError, "out of range"),
    "streamed array": (b"*?\r\n:1\r\n.\r\n", redspec.ProtocolError, "multi-bulk"),
    "bad map count": (b"%x\r\n", redspec.ProtocolError, "multi-bulk"),
    "bad set count": (b"~z\r\n", redspec.ProtocolError, "multi-bulk"),
    "bad push count": (b">-3\r\n", redspec.ProtocolError, "out of range"),
    "bad double": (b",abc\r\n", redspec.ProtocolError, "Bad double value"),
    "double overflow": (b",1e999\r\n", redspec.ProtocolError, "Bad double value"),
    "bad boolean": (b"#x\r\n", redspec.ProtocolError, "Bad bool value"),
    "bad big number": (b"(12a\r\n", redspec.ProtocolError, "Bad bignum value"),
    "bad null": (b"_x\r\n", redspec.ProtocolError, "Bad nil value"),
    "verbatim without format": (b"=3\r\nabc\r\n", redspec.ProtocolError, "Verbatim"),
    "bare LF line end": (b"+OK\n:1\r\n", redspec.ProtocolError, "Bad simple string"),
    "CR inside a line": (b"+O\rK\r\n", redspec.ProtocolError, "Bad simple string"),
    "bad attribute length": (b"|x\r\n+a\r\n:1\r\n", redspec.ProtocolError, "bad length"),
    "attribute of unknown type": (b"|1\r\n?a\r\n:1\r\n", redspec.ProtocolError, "type byte"),
    "truncated, then closed": (b"$10\r\nabc", redspec.ConnectionError, "may or may not"),
    "bulk length never satisfied": (b"$999999999999\r\nabc", redspec.TimeoutError, "GET"),
}
CLOSE_AFTER = {"truncated, then closed"}


def _handler(client: FakeClient, cmd: list[bytes]) -> Any:
    if cmd[0] == b"GET":
        kind = cmd[1].decode()
        if kind in MALFORMED:
            if kind in CLOSE_AFTER:
                client.write(MALFORMED[kind][0])
                client.close()
                return None
            return MALFORMED[kind][0]
        return b"$2\r\nok\r\n"
    if cmd[0] == b"SILENT":
        return None  # in flight with the bad frame
    return DEFAULT


async def test_malformed_frames_each_fail_their_call_and_the_next_command_works() -> None:
    assert len(MALFORMED) >= 14
    async with FakeServer(_handler) as server:
        r = redspec.Redis("127.0.0.1", server.port, command_timeout=0.5)
        seen: dict[str, str] = {}
        try:
            for kind, (_, error, text) in MALFORMED.items():
                other = asyncio.ensure_future(r.execute_command("SILENT"))
                with pytest.raises(error) as info:
                    await r.get(kind)
                assert text in str(info.value), (kind, str(info.value))
                seen[kind] = type(info.value).__name__
                # Another call in flight on that connection fails too (never a value).
                with pytest.raises(
                    (redspec.ProtocolError, redspec.ConnectionError, redspec.TimeoutError)
                ):
                    await other
                assert await r.get("fine") == b"ok", kind
                assert await r.ping() == b"PONG"
        finally:
            await r.aclose()
        # A fresh connection after each bad frame.
        assert len(server.clients) == len(MALFORMED) + 1
    report(f"malformed frames: {len(seen)} kinds, each its own error, the next command working")


async def test_a_reply_nobody_asked_for_discards_the_connection_not_a_caller() -> None:
    def handler(client: FakeClient, cmd: list[bytes]) -> Any:
        if cmd[0] == b"GET" and cmd[1] == b"twice":
            return b"$1\r\na\r\n$1\r\nb\r\n"  # one reply too many
        return _handler(client, cmd)

    async with FakeServer(handler) as server:
        r = redspec.Redis("127.0.0.1", server.port, command_timeout=0.5)
        try:
            assert await r.get("twice") == b"a"
            assert await r.get("fine") == b"ok"  # not b"b"
            assert len(server.clients) == 2
        finally:
            await r.aclose()
