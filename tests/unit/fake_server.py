"""A scripted, in-process RESP server for wire-layer tests.

It listens on 127.0.0.1 (or a unix socket, optionally TLS), parses commands
with hiredis, and answers each one through ``handler(client, command)``,
which returns the raw reply bytes, ``None`` for no reply at all, or
``DEFAULT`` to get the built-in behaviour: HELLO / AUTH / SELECT /
CLIENT SETNAME / CLIENT SETINFO / PING / ECHO, with an optional password.
Everything it receives is recorded per client: ``client.batches`` holds the
commands of each read, so a test can tell how many writes they came in.
"""

from __future__ import annotations

import asyncio
import ssl
from collections.abc import Callable
from typing import Any

import hiredis

from redspec._settings import ConnectionSettings

DEFAULT: Any = object()
Handler = Callable[["FakeClient", list[bytes]], Any]


def encode(value: Any) -> bytes:
    """RESP3 bytes for a Python value (bytes/str -> bulk, int, None -> null, list, dict)."""
    if value is None:
        return b"_\r\n"
    if isinstance(value, str):
        value = value.encode()
    if isinstance(value, bytes):
        return b"$%d\r\n%s\r\n" % (len(value), value)
    if isinstance(value, bool):
        return b"#t\r\n" if value else b"#f\r\n"
    if isinstance(value, int):
        return b":%d\r\n" % value
    if isinstance(value, list):
        return b"*%d\r\n" % len(value) + b"".join(encode(v) for v in value)
    if isinstance(value, dict):
        return b"%%%d\r\n" % len(value) + b"".join(encode(k) + encode(v) for k, v in value.items())
    raise TypeError(value)


def push(*items: Any) -> bytes:
    """A RESP3 push frame."""
    return b">%d\r\n" % len(items) + b"".join(encode(v) for v in items)


def error(message: str) -> bytes:
    return b"-" + message.encode() + b"\r\n"


OK = b"+OK\r\n"


class FakeClient:
    """One accepted connection, as the server sees it."""

    def __init__(self, server: FakeServer, writer: asyncio.StreamWriter) -> None:
        self.server = server
        self.writer = writer
        self.batches: list[list[list[bytes]]] = []
        self.authenticated = server.password is None
        self.protocol = 2
        self.db = 0
        self.name: bytes | None = None
        self.info: dict[bytes, bytes] = {}
        self.closed = asyncio.Event()

    @property
    def commands(self) -> list[list[bytes]]:
        return [cmd for batch in self.batches for cmd in batch]

    def write(self, data: bytes) -> None:
        self.writer.write(data)

    def close(self) -> None:
        self.writer.close()


class FakeServer:
    """``async with FakeServer(...) as server:`` then ``server.settings(...)``."""

    def __init__(
        self,
        handler: Handler | None = None,
        *,
        password: str | None = None,
        username: str = "default",
        hello: bool = True,
        setinfo: bool = True,
        reply_delay: float = 0.0,
        read_gate: asyncio.Event | None = None,
        unix_path: str | None = None,
        ssl_context: ssl.SSLContext | None = None,
    ) -> None:
        self.handler = handler
        self.password = password
        self.username = username
        self.hello = hello
        self.setinfo = setinfo
        self.reply_delay = reply_delay
        self.read_gate = read_gate  # while not set, the server stops reading
        self.unix_path = unix_path
        self.ssl_context = ssl_context
        self.clients: list[FakeClient] = []
        self.port = 0
        self._server: asyncio.AbstractServer | None = None
        self._tasks: set[asyncio.Task[None]] = set()

    async def __aenter__(self) -> FakeServer:
        if self.unix_path is not None:
            self._server = await asyncio.start_unix_server(
                self._serve, self.unix_path, ssl=self.ssl_context
            )
        else:
            self._server = await asyncio.start_server(
                self._serve, "127.0.0.1", 0, ssl=self.ssl_context
            )
            self.port = self._server.sockets[0].getsockname()[1]
        return self

    async def __aexit__(self, *exc: object) -> None:
        assert self._server is not None
        self._server.close()
        for client in self.clients:
            client.writer.close()
        for task in list(self._tasks):
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        await self._server.wait_closed()

    def settings(self, **kwargs: Any) -> ConnectionSettings:
        if self.unix_path is not None:
            kwargs.setdefault("path", self.unix_path)
        else:
            kwargs.setdefault("host", "127.0.0.1")
            kwargs.setdefault("port", self.port)
        kwargs.setdefault("connect_timeout", 5.0)
        return ConnectionSettings(**kwargs)

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        task = asyncio.current_task()
        assert task is not None
        self._tasks.add(task)
        client = FakeClient(self, writer)
        self.clients.append(client)
        parser = hiredis.Reader()
        try:
            while True:
                if self.read_gate is not None:
                    await self.read_gate.wait()
                data = await reader.read(1 << 16)
                if not data:
                    break
                parser.feed(data)
                batch: list[list[bytes]] = []
                while (cmd := parser.gets()) is not False:
                    batch.append(cmd)
                if not batch:
                    continue
                client.batches.append(batch)
                out = []
                for cmd in batch:
                    reply = DEFAULT
                    if self.handler is not None:
                        reply = self.handler(client, cmd)
                    if reply is DEFAULT:
                        reply = self.default(client, cmd)
                    if reply is not None:
                        out.append(reply)
                if out and self.reply_delay:
                    await asyncio.sleep(self.reply_delay)
                if out and not writer.is_closing():
                    writer.write(b"".join(out))
                    await writer.drain()
        except (ConnectionError, asyncio.CancelledError):
            pass
        finally:
            client.closed.set()
            writer.close()
            self._tasks.discard(task)

    def default(self, client: FakeClient, cmd: list[bytes]) -> bytes | None:
        name = cmd[0].upper()
        if name == b"HELLO":
            if not self.hello:
                return error("ERR unknown command 'HELLO', with args beginning with: '3' ")
            args = [a.upper() for a in cmd]
            if b"AUTH" in args:
                i = args.index(b"AUTH")
                if not self._check(cmd[i + 1], cmd[i + 2]):
                    return error("WRONGPASS invalid username-password pair or user is disabled.")
                client.authenticated = True
            if not client.authenticated:
                return error("NOAUTH HELLO must be called with the client already authenticated")
            if b"SETNAME" in args:
                client.name = cmd[args.index(b"SETNAME") + 1]
            client.protocol = int(cmd[1])
            return encode({"server": "fake", "proto": client.protocol, "id": 1})
        if name == b"AUTH":
            user, password = (cmd[1], cmd[2]) if len(cmd) == 3 else (b"default", cmd[1])
            if not self._check(user, password):
                return error("WRONGPASS invalid username-password pair or user is disabled.")
            client.authenticated = True
            return OK
        if not client.authenticated:
            return error("NOAUTH Authentication required.")
        if name == b"CLIENT":
            sub = cmd[1].upper()
            if sub == b"SETINFO":
                if not self.setinfo:
                    return error("ERR unknown subcommand 'SETINFO'. Try CLIENT HELP.")
                client.info[cmd[2].upper()] = cmd[3]
                return OK
            if sub == b"SETNAME":
                client.name = cmd[2]
                return OK
        if name == b"SELECT":
            client.db = int(cmd[1])
            return OK
        if name == b"PING":
            return b"+PONG\r\n"
        if name == b"ECHO":
            return encode(cmd[1])
        return error(f"ERR unknown command '{cmd[0].decode()}'")

    def _check(self, user: bytes, password: bytes) -> bool:
        if self.password is None:
            return True
        return user.decode() == self.username and password.decode() == self.password
