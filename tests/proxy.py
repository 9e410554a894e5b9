"""A TCP proxy for fault tests: it sits between the client under test and a real server.

    from tests.proxy import FaultProxy

    with FaultProxy(server.host, server.port) as proxy:        # or proxy.start() / proxy.stop()
        r = redspec.Redis(proxy.host, proxy.port)
        proxy.hang()                 # open connections stop forwarding (both ways)
        proxy.resume()               # ... and forward what they held back, in order

It listens on a free 127.0.0.1 port and runs its own event loop in a daemon
thread, so it keeps working while the test's loop is busy and can be driven
from sync or async code alike (each control call returns once it took
effect). Every connection it accepts gets a connection to the target.

Faults (all take effect at once, on every connection unless said otherwise):

- ``hang(new_too=False)``: stop forwarding in both directions while still
  reading (the client's writes succeed, as with a peer whose kernel still
  acknowledges but which never answers). Bytes are held, not dropped.
  ``new_too=True`` also hangs connections accepted later (a frozen server);
  otherwise new connections work (a dead flow: a lost NAT entry, a half-open
  socket).
- ``resume()``: end a hang; held bytes are forwarded in order.
- ``trickle(bytes_per_second, chunk=...)``: limit server-to-client bytes to
  that rate, in pieces of ``chunk`` bytes (``trickle(None)`` lifts it).
- ``reset()``: send RST to both ends of every open connection.
- ``reset_after(n)``: after ``n`` more server-to-client bytes on a
  connection, forward exactly those and reset it (a reset mid-reply).
- ``drop()``: close every open connection with a FIN on both ends.
- ``refuse(True)``: accept new connections and reset them at once.

Counters: ``accepted`` (connections accepted so far), ``open_connections``,
``bytes_to_client``.
"""

from __future__ import annotations

import asyncio
import socket
import struct
import threading
from collections.abc import Awaitable, Callable
from types import TracebackType
from typing import Any, TypeVar

__all__ = ["FaultProxy"]

T = TypeVar("T")
_READ = 1 << 16


class _Link:
    """One proxied connection: a client side and a server side."""

    def __init__(
        self,
        proxy: FaultProxy,
        client: tuple[asyncio.StreamReader, asyncio.StreamWriter],
        server: tuple[asyncio.StreamReader, asyncio.StreamWriter],
        hung: bool,
    ) -> None:
        self.proxy = proxy
        self.client_reader, self.client_writer = client
        self.server_reader, self.server_writer = server
        self.running = asyncio.Event()
        if not hung:
            self.running.set()
        self.reset_budget: int | None = None
        self.tasks: list[asyncio.Task[None]] = []

    def start(self) -> None:
        loop = asyncio.get_running_loop()
        self.tasks = [
            loop.create_task(self._pump(self.client_reader, self.server_writer, to_client=False)),
            loop.create_task(self._pump(self.server_reader, self.client_writer, to_client=True)),
        ]

    async def _pump(
        self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter, *, to_client: bool
    ) -> None:
        held: list[bytes] = []
        read: asyncio.Future[bytes] | None = None
        try:
            while True:
                if held and self.running.is_set():
                    data = b"".join(held)
                    held.clear()
                    await self._forward(data, writer, to_client)
                    continue
                if read is None:
                    read = asyncio.ensure_future(reader.read(_READ))
                if self.running.is_set():
                    await asyncio.wait({read})
                else:
                    # Hung: keep reading (the sender's writes succeed) and hold it all.
                    resumed: asyncio.Future[Any] = asyncio.ensure_future(self.running.wait())
                    waits: set[asyncio.Future[Any]] = {read, resumed}
                    await asyncio.wait(waits, return_when=asyncio.FIRST_COMPLETED)
                    resumed.cancel()
                    if not read.done():
                        continue  # resumed: forward what was held
                data = read.result()
                read = None
                if not data:
                    break
                if self.running.is_set():
                    await self._forward(data, writer, to_client)
                else:
                    held.append(data)
        except (ConnectionError, OSError, asyncio.CancelledError):
            pass
        finally:
            if read is not None:
                read.cancel()
            self.close(reset=False)

    async def _forward(self, data: bytes, writer: asyncio.StreamWriter, to_client: bool) -> None:
        if to_client:
            await self._to_client(data, writer)
        else:
            writer.write(data)
            await writer.drain()

    async def _to_client(self, data: bytes, writer: asyncio.StreamWriter) -> None:
        proxy = self.proxy
        budget = self.reset_budget
        if budget is not None and len(data) >= budget:
            if budget:
                writer.write(data[:budget])
                await writer.drain()
                proxy.bytes_to_client += budget
            self.close(reset=True)
            raise ConnectionResetError("reset_after")
        if budget is not None:
            self.reset_budget = budget - len(data)
        rate = proxy.rate
        if rate is None:
            writer.write(data)
            await writer.drain()
            proxy.bytes_to_client += len(data)
            return
        for i in range(0, len(data), proxy.chunk):
            piece = data[i : i + proxy.chunk]
            await self.running.wait()
            writer.write(piece)
            await writer.drain()
            proxy.bytes_to_client += len(piece)
            await asyncio.sleep(len(piece) / rate)

    def close(self, *, reset: bool) -> None:
        for w in (self.client_writer, self.server_writer):
            if reset:
                sock = w.get_extra_info("socket")
                if sock is not None:
                    try:
                        sock.setsockopt(
                            socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0)
                        )
                    except OSError:
                        pass
                w.transport.abort()
            else:
                w.close()
        self.proxy.links.discard(self)
        current = asyncio.current_task()
        for task in self.tasks:
            if task is not current:
                task.cancel()


class FaultProxy:
    """See the module docstring."""

    def __init__(self, target_host: str, target_port: int) -> None:
        self.target = (target_host, target_port)
        self.host = "127.0.0.1"
        self.port = 0
        self.links: set[_Link] = set()
        self.accepted = 0
        self.bytes_to_client = 0
        self.rate: float | None = None
        self.chunk = 4096
        self._hang_new = False
        self._refuse = False
        self._loop: asyncio.AbstractEventLoop | None = None
        self._server: asyncio.AbstractServer | None = None
        self._thread: threading.Thread | None = None

    # ------------------------------------------------------------ life cycle

    def start(self) -> FaultProxy:
        ready = threading.Event()
        self._loop = asyncio.new_event_loop()

        def run() -> None:
            assert self._loop is not None
            asyncio.set_event_loop(self._loop)
            self._server = self._loop.run_until_complete(
                asyncio.start_server(self._accept, self.host, 0)
            )
            self.port = self._server.sockets[0].getsockname()[1]
            ready.set()
            self._loop.run_forever()

        self._thread = threading.Thread(target=run, name="fault-proxy", daemon=True)
        self._thread.start()
        if not ready.wait(10):
            raise RuntimeError("the fault proxy did not start")
        return self

    def stop(self) -> None:
        loop, thread = self._loop, self._thread
        if loop is None or thread is None:
            return

        async def shutdown() -> None:
            if self._server is not None:
                self._server.close()
            for link in list(self.links):
                link.close(reset=False)
            await asyncio.sleep(0)

        asyncio.run_coroutine_threadsafe(shutdown(), loop).result(10)
        loop.call_soon_threadsafe(loop.stop)
        thread.join(10)
        loop.close()
        self._loop = self._thread = None

    def __enter__(self) -> FaultProxy:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

    @property
    def url(self) -> str:
        return f"redis://{self.host}:{self.port}"

    @property
    def open_connections(self) -> int:
        return len(self.links)

    # ------------------------------------------------------------ faults

    def hang(self, *, new_too: bool = False) -> None:
        def do() -> None:
            self._hang_new = new_too
            for link in self.links:
                link.running.clear()

        self._run(do)

    def resume(self) -> None:
        def do() -> None:
            self._hang_new = False
            for link in self.links:
                link.running.set()

        self._run(do)

    def trickle(self, bytes_per_second: float | None, chunk: int = 4096) -> None:
        def do() -> None:
            self.rate = bytes_per_second
            self.chunk = chunk

        self._run(do)

    def reset(self) -> None:
        def do() -> None:
            for link in list(self.links):
                link.close(reset=True)

        self._run(do)

    def reset_after(self, n: int) -> None:
        def do() -> None:
            for link in self.links:
                link.reset_budget = n

        self._run(do)

    def drop(self) -> None:
        def do() -> None:
            for link in list(self.links):
                link.close(reset=False)

        self._run(do)

    def refuse(self, on: bool = True) -> None:
        def do() -> None:
            self._refuse = on

        self._run(do)

    # ------------------------------------------------------------ internals

    def _run(self, fn: Callable[[], Any]) -> None:
        """Run ``fn`` on the proxy's loop and wait until it ran."""

        async def call() -> None:
            fn()

        self._call(call())

    def _call(self, coro: Awaitable[T]) -> T:
        assert self._loop is not None, "the proxy is not started"
        return asyncio.run_coroutine_threadsafe(coro, self._loop).result(10)  # type: ignore[arg-type]

    async def _accept(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.accepted += 1
        if self._refuse:
            sock = writer.get_extra_info("socket")
            if sock is not None:
                sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
            writer.transport.abort()
            return
        try:
            upstream = await asyncio.open_connection(*self.target)
        except OSError:
            writer.transport.abort()
            return
        link = _Link(self, (reader, writer), upstream, hung=self._hang_new)
        self.links.add(link)
        link.start()
