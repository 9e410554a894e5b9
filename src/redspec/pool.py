"""The bounded pool of exclusive connections.

Ordinary commands share one multiplexed connection (see ``client.py``). A
caller that must own a connection for a while takes one from this pool:
blocking commands (BLPOP, XREAD BLOCK...), and the stateful sessions built on
``Redis._exclusive()`` (WATCH/MULTI, pub/sub, MONITOR).

At most ``max_connections`` exist at once (idle, leased, or being opened).
When all are leased, ``acquire`` waits up to ``timeout`` seconds and then
raises ``PoolTimeoutError``. A connection is put back only if it is still
usable and has no reply outstanding: one whose caller was cancelled or timed
out mid-command still owes a reply (or is still blocked in the server), and
the next user would wait behind it, so it is closed instead.
"""

from __future__ import annotations

import asyncio
from collections import deque
from collections.abc import Awaitable, Callable
from typing import Any

from .connection import Connection, PushHandler
from .errors import ConnectionError, PoolTimeoutError

__all__ = ["ConnectionPool"]

Opener = Callable[[PushHandler | None], Awaitable[Connection]]


def _expire(fut: asyncio.Future[Any], exc_type: type[BaseException], message: str) -> None:
    """Timer callback: fail ``fut`` unless it already has its outcome."""
    if not fut.done():
        fut.set_exception(exc_type(message))


class ConnectionPool:
    """Exclusive connections, opened on demand by ``opener``, at most ``max_connections``."""

    __slots__ = (
        "_address",
        "_busy",
        "_closed",
        "_idle",
        "_leased",
        "_max",
        "_open",
        "_timeout",
        "_waiters",
    )

    def __init__(
        self, opener: Opener, max_connections: int, timeout: float | None, address: str
    ) -> None:
        self._open = opener
        self._max = max_connections
        self._timeout = timeout
        self._address = address
        self._idle: list[Connection] = []
        self._leased: set[Connection] = set()
        # Slots held outside the idle list: leased connections and opens in
        # progress. idle + busy never exceeds max_connections.
        self._busy = 0
        self._waiters: deque[asyncio.Future[Connection | None]] = deque()
        self._closed = False

    @property
    def size(self) -> int:
        """Connections that exist or are being opened."""
        return len(self._idle) + self._busy

    async def acquire(self, on_push: PushHandler | None = None) -> Connection:
        """A connection for the caller alone; give it back with ``release``.

        With ``on_push`` the connection is a fresh one that delivers push frames
        to it (pub/sub); ``release`` then always closes it.
        """
        if self._closed:
            raise ConnectionError("client closed")
        if on_push is None:
            idle = self._idle
            while idle:
                conn = idle.pop()
                if conn.is_usable:
                    self._lease(conn)
                    return conn
                conn.close()  # died while idle: its slot is free again
        if self._busy + len(self._idle) >= self._max:
            if on_push is None or not self._idle:
                handed = await self._wait()
                if handed is not None:
                    if on_push is None:
                        return handed
                    # A pooled connection has no push handler: trade it for a new one.
                    self._leased.discard(handed)
                    handed.close()
            else:
                # Make room for the dedicated connection by closing an idle one.
                self._idle.pop().close()
                self._busy += 1
        else:
            self._busy += 1
        # This caller now holds a slot (counted in _busy) and opens into it.
        try:
            conn = await self._open(on_push)
        except BaseException:
            self._free_slot()
            raise
        if self._closed:
            conn.close(ConnectionError("client closed"))
            self._free_slot()
            raise ConnectionError("client closed")
        self._leased.add(conn)
        return conn

    def release(self, conn: Connection, *, reuse: bool = True) -> None:
        """Give a leased connection back (or close it: see the module docstring)."""
        if conn not in self._leased:
            return  # already released, or the pool was closed meanwhile
        if self._closed or not reuse or not conn.is_usable or conn.pending:
            self._leased.discard(conn)
            conn.close()
            self._free_slot()
            return
        waiter = self._next_waiter()
        if waiter is not None:
            waiter.set_result(conn)  # stays leased, to its new holder
        else:
            self._leased.discard(conn)
            self._busy -= 1
            self._idle.append(conn)

    def retarget(self, address: str, exc: BaseException) -> None:
        """The server moved (Sentinel): close every connection, the pool stays open.

        Idle connections go; leased ones are closed under their holders (who
        get ``exc``) and free their slots when released.
        """
        self._address = address
        idle, self._idle = self._idle, []
        for conn in (*idle, *self._leased):
            conn.close(exc)

    def close(self) -> list[Connection]:
        """Close every connection, leased ones too (their callers get ConnectionError).

        Returns them, so the caller can wait for their transports to close.
        """
        self._closed = True
        conns = [*self._idle, *self._leased]
        self._idle.clear()
        self._leased.clear()
        self._busy = 0
        for conn in conns:
            conn.close(ConnectionError("client closed"))
        while self._waiters:
            w = self._waiters.popleft()
            if not w.done():
                w.set_exception(ConnectionError("client closed"))
        return conns

    # ------------------------------------------------------------------ internals

    def _lease(self, conn: Connection) -> None:
        self._leased.add(conn)
        self._busy += 1

    def _free_slot(self) -> None:
        """A slot was given up: the longest waiter may open a connection into it."""
        if self._closed:
            return  # close() already zeroed the count
        waiter = self._next_waiter()
        if waiter is not None:
            waiter.set_result(None)
        else:
            self._busy -= 1

    def _next_waiter(self) -> asyncio.Future[Connection | None] | None:
        waiters = self._waiters
        while waiters:
            w = waiters.popleft()
            if not w.done():
                return w
        return None

    async def _wait(self) -> Connection | None:
        """Wait for a slot: a connection handed over, or None (a slot to open into)."""
        loop = asyncio.get_running_loop()
        waiter: asyncio.Future[Connection | None] = loop.create_future()
        self._waiters.append(waiter)
        timeout = self._timeout
        handle = None
        if timeout is not None:
            message = (
                f"no connection to {self._address} became free within {timeout}s "
                f"(all {self._max} of max_connections in use)"
            )
            handle = loop.call_later(timeout, _expire, waiter, PoolTimeoutError, message)
        try:
            return await waiter
        except asyncio.CancelledError:
            # Cancelled after a release handed us its connection or slot:
            # pass it on rather than leak it.
            if not waiter.cancelled() and waiter.exception() is None:
                handed = waiter.result()
                if handed is None:
                    self._free_slot()
                else:
                    self.release(handed)
            raise
        finally:
            if handle is not None:
                handle.cancel()
