"""What every view of one ``Redis`` client shares: its connections and their life cycle.

``Redis._call`` sends on the shared connection itself when that is the whole
job (the fast path). Everything else lands here: the first connect, waiting
for a reconnect, command timeouts, the single retry of a read, blocking
commands on pooled connections, and closing.

Reconnection is on demand. A call that finds no usable connection waits for
one (up to ``connect_timeout``, and never past its own ``command_timeout``);
the first such call starts one connector task, which tries again while
anybody is waiting and stops when nobody is. So an idle client whose server
is gone makes no attempts. Attempts follow ``retry_delay``: every 10-25 ms
(jittered) for the first ``FAST_PROBE_WINDOW`` seconds of an outage, so that
after a restart the first command succeeds within about 25 ms of the server
accepting connections; then backing off to ``BACKOFF_MAX``. The first
connect of a client never succeeded fails at once instead (a wrong address or
password should surface, not be waited out); so do rejected credentials and a
rejected handshake at any time.

A shared connection that missed a deadline is retired (see
``_liveness.py``): the next call connects a fresh one, while the retired one
finishes the calls in flight on it and then closes; ``aclose()`` and
``relocate()`` close it too.

Moving (Sentinel). ``relocate(settings)`` points the client at another
server: calls in flight on the old one fail with ``ConnectionError`` (their
outcome is unknown; they are never re-sent), and every later call connects to
the new address. ``locate``, when set, is awaited before every connection
attempt and may relocate the client first (a rediscovery after a loss).
"""

from __future__ import annotations

import asyncio
import random
import time
from collections.abc import Awaitable, Callable, Sequence
from typing import Any

from ._base import READ
from ._settings import ConnectionSettings
from .connection import Connection, PushHandler
from .errors import (
    AuthenticationError,
    ConnectionError,
    RedisError,
    ResponseError,
    TimeoutError,
)
from .pool import ConnectionPool

__all__ = ["BACKOFF_MAX", "FAST_PROBE", "FAST_PROBE_WINDOW", "ClientCore", "retry_delay"]

FAST_PROBE = 0.025
FAST_PROBE_WINDOW = 5.0
BACKOFF_MAX = 1.0
CLOSE_WAIT = 2.0


def retry_delay(attempt: int, down_for: float, longest: float = BACKOFF_MAX) -> float:
    """Seconds to wait before the next connection attempt.

    ``attempt`` attempts have failed in a row, the first ``down_for`` seconds
    ago. A restart is usually over in a second or two: for the first
    ``FAST_PROBE_WINDOW`` seconds of an outage, attempts come 10 and 20 ms
    apart, then every 12.5-25 ms (jittered, so that many clients do not
    probe in step). After that the delay doubles every second, up to
    ``longest``.
    """
    if down_for < FAST_PROBE_WINDOW:
        base = min(0.01 * 2.0 ** min(attempt - 1, 8), FAST_PROBE)
        if base < FAST_PROBE:
            return base
    else:
        base = min(FAST_PROBE * 2.0 ** min(down_for - FAST_PROBE_WINDOW, 30.0), longest)
    return base * (0.5 + random.random() / 2)


class ClientCore:
    """Shared state of a client and the views ``with_options`` makes of it."""

    __slots__ = (
        "_connector",
        "_down_since",
        "_draining",
        "_ever_connected",
        "_last_error",
        "_nudge",
        "_waiters",
        "closed",
        "conn",
        "locate",
        "on_error_reply",
        "pool",
        "retry_reads",
        "settings",
    )

    def __init__(
        self,
        settings: ConnectionSettings,
        *,
        retry_reads: bool,
        max_connections: int,
        pool_timeout: float | None,
    ) -> None:
        self.settings = settings
        self.retry_reads = retry_reads
        # The shared connection: None before the first connect; afterwards the
        # latest one, which the fast path checks with is_usable.
        self.conn: Connection | None = None
        self.closed = False
        self.pool = ConnectionPool(
            self._open_exclusive, max_connections, pool_timeout, settings.address
        )
        self._waiters: list[asyncio.Future[None]] = []
        self._connector: asyncio.Task[None] | None = None
        self._ever_connected = False
        self._last_error: RedisError | None = None
        # Set by a layer that moves the client (Sentinel); see relocate().
        self.locate: Callable[[], Awaitable[None]] | None = None
        # Given to every connection opened here (see Connection.on_error_reply).
        self.on_error_reply: Callable[[ResponseError], None] | None = None
        # Resolved to end the connector's backoff sleep early (a relocation).
        self._nudge: asyncio.Future[None] | None = None
        # When the server was first found unreachable (None: it was not).
        self._down_since: float | None = None
        # Retired shared connections still finishing their calls in flight.
        self._draining: set[Connection] = set()

    # ------------------------------------------------------------ calls (slow path)

    async def call(self, args: Sequence[Any], mode: int, timeout: float | None) -> Any:
        """Send on the shared connection once there is one; time out; retry a read once.

        ``timeout`` bounds the whole call, waiting for a (re)connect included;
        a retried read gets a fresh one.
        """
        retried = False
        while True:
            conn = self.conn
            remaining = timeout
            if conn is None or not conn.is_usable:
                start = time.monotonic()
                conn = await self.connection(timeout, args)
                if timeout is not None:
                    remaining = max(timeout - (time.monotonic() - start), 0.0)
            fut = conn.send(args, remaining)
            try:
                return await fut
            except ConnectionError:
                # The command may have reached the server. Only a read is safe
                # to send again, and only once; never after close().
                if mode != READ or retried or not self.retry_reads or self.closed:
                    raise
                retried = True

    async def call_blocking(self, args: Sequence[Any], timeout: float | None) -> Any:
        """Run a blocking command on a pooled connection of its own; never retried.

        ``timeout`` (the command timeout plus the block time, or None) bounds
        the reply; getting a connection is bounded by ``pool_timeout`` and
        ``connect_timeout``.
        """
        pool = self.pool
        conn = await pool.acquire()
        try:
            return await conn.send(args, timeout)
        finally:
            # A cancelled or timed-out caller leaves a reply pending: release()
            # then closes the connection, which also ends the block server-side.
            pool.release(conn)

    # ------------------------------------------------------------ connecting

    async def connection(
        self, timeout: float | None = None, args: Sequence[Any] = ()
    ) -> Connection:
        """The shared connection, connecting or waiting for a reconnect if needed.

        Waits up to ``connect_timeout`` for a reconnect (a first connect is
        bounded by the attempt's own ``connect_timeout``), and at most
        ``timeout`` (the command timeout of the call ``args`` that waits).
        """
        loop = asyncio.get_running_loop()
        deadline = None if timeout is None else loop.time() + timeout
        while True:
            conn = self.conn
            if conn is not None and conn.is_usable:
                return conn
            if self.closed:
                raise ConnectionError("client closed")
            waiter: asyncio.Future[None] = loop.create_future()
            self._waiters.append(waiter)
            if self._connector is None:
                self._connector = loop.create_task(self._connect())
            handles = []
            wait = self.settings.connect_timeout
            if wait is not None and self._ever_connected:
                handles.append(loop.call_at(loop.time() + wait, self._give_up, waiter, wait))
            if deadline is not None:
                handles.append(
                    loop.call_at(deadline, _expire_call, waiter, timeout, args, self.settings)
                )
            try:
                await waiter
            finally:
                for handle in handles:
                    handle.cancel()
            # Loop: the new connection may have died before this task resumed.

    async def _connect(self) -> None:
        # Every waiter must see a few attempts within its connect_timeout, or a
        # call made just after the server came back could time out in our sleep.
        timeout = self.settings.connect_timeout
        longest = min(BACKOFF_MAX, timeout / 3) if timeout else BACKOFF_MAX
        attempt = 0
        try:
            while True:
                try:
                    if self.locate is not None:
                        await self.locate()
                    settings = self.settings
                    conn = await _open(settings, None)
                except (AuthenticationError, ResponseError) as exc:
                    # Rejected credentials or handshake: retrying cannot help.
                    self._fail_waiters(exc)
                    return
                except RedisError as exc:
                    if not self._ever_connected:
                        self._fail_waiters(exc)
                        return
                    self._last_error = exc
                    t = time.monotonic()
                    if self._down_since is None:
                        self._down_since = t
                    self._waiters = [w for w in self._waiters if not w.done()]
                    if not self._waiters:
                        return  # nobody is waiting: try again on the next call
                    attempt += 1
                    await self._pause(retry_delay(attempt, t - self._down_since, longest))
                    continue
                if self.closed:
                    conn.close(ConnectionError("client closed"))
                    return
                if settings is not self.settings:
                    conn.close()  # relocated while connecting: go to the new address
                    continue
                conn.on_error_reply = self.on_error_reply
                old = self.conn
                if old is not None and not old.is_closed:
                    self._draining.add(old)  # retired: finishing its calls in flight
                self._draining = {c for c in self._draining if not c.is_closed}
                self.conn = conn
                self._ever_connected = True
                self._last_error = None
                self._down_since = None
                waiters, self._waiters = self._waiters, []
                for w in waiters:
                    if not w.done():
                        w.set_result(None)
                return
        finally:
            self._connector = None

    async def _pause(self, delay: float) -> None:
        """The backoff sleep; relocate() ends it early."""
        loop = asyncio.get_running_loop()
        nudge = self._nudge = loop.create_future()
        handle = loop.call_later(delay, _settle, nudge)
        try:
            await nudge
        finally:
            handle.cancel()
            self._nudge = None

    def relocate(self, settings: ConnectionSettings, reason: str) -> bool:
        """Point the client at another server; False if it is already there or closed.

        The shared connection and every pooled one (leased ones too) are
        closed: their callers get ``ConnectionError`` naming ``reason``, since a
        command in flight may or may not have run on the old server. Later
        calls, blocking commands and pub/sub reconnects go to the new address.
        """
        if self.closed or settings == self.settings:
            return False
        old = self.settings.address
        self.settings = settings
        error = ConnectionError(
            f"{reason}: the connection to {old} was closed; "
            "the command may or may not have been executed"
        )
        # Every connection to the old server goes, including any still finishing
        # calls: a reply from a demoted master would acknowledge a lost write.
        conn, self.conn = self.conn, None
        if conn is not None:
            conn.close(error)
        for old_conn in self._draining:
            old_conn.close(error)
        self._draining.clear()
        self.pool.retarget(settings.address, error)
        if self._nudge is not None:
            _settle(self._nudge)
        return True

    def _fail_waiters(self, exc: BaseException) -> None:
        waiters, self._waiters = self._waiters, []
        for w in waiters:
            if not w.done():
                w.set_exception(exc)

    def _give_up(self, waiter: asyncio.Future[None], timeout: float) -> None:
        if waiter.done():
            return
        address = self.settings.address
        last = self._last_error
        if last is None:
            waiter.set_exception(
                TimeoutError(f"timed out after {timeout}s waiting to reconnect to {address}")
            )
        else:
            err = ConnectionError(f"no connection to {address} within {timeout}s: {last}")
            err.__cause__ = last
            waiter.set_exception(err)

    async def _open_exclusive(self, on_push: PushHandler | None) -> Connection:
        # Waiting for the shared connection first gives exclusive users the same
        # lazy connect, reconnect wait and fail-fast credentials check.
        while True:
            await self.connection()
            settings = self.settings
            conn = await _open(settings, on_push)
            if settings is self.settings:
                conn.on_error_reply = self.on_error_reply
                return conn
            conn.close()  # relocated while opening: open at the new address

    # ------------------------------------------------------------ closing

    async def aclose(self) -> None:
        if self.closed:
            return
        self.closed = True
        self._fail_waiters(ConnectionError("client closed"))
        connector = self._connector
        if connector is not None:
            connector.cancel()
        conns = self.pool.close()
        for old in self._draining:
            old.close(ConnectionError("client closed"))
            conns.append(old)
        self._draining.clear()
        if self.conn is not None:
            self.conn.close(ConnectionError("client closed"))
            conns.append(self.conn)
        waits: list[asyncio.Future[Any]] = [asyncio.ensure_future(c.wait_closed()) for c in conns]
        if connector is not None:
            waits.append(connector)
        if waits:
            # Bounded: a TLS close waits for the peer's close_notify, and a hung
            # peer must not hang aclose(). The transports are closed either way.
            _, late = await asyncio.wait(waits, timeout=CLOSE_WAIT)
            for fut in late:
                fut.cancel()


def _settle(fut: asyncio.Future[None]) -> None:
    if not fut.done():
        fut.set_result(None)


async def _open(settings: ConnectionSettings, on_push: PushHandler | None) -> Connection:
    try:
        return await Connection.open(settings, on_push=on_push)
    except RedisError:
        raise
    except Exception as exc:
        # Unmapped (a bug, or an odd platform error): still a RedisError for the
        # caller. Only the class name: the text might quote a setting.
        raise ConnectionError(
            f"cannot connect to {settings.address}: {type(exc).__name__}"
        ) from exc


def _expire_call(
    waiter: asyncio.Future[None],
    timeout: float | None,
    args: Sequence[Any],
    settings: ConnectionSettings,
) -> None:
    """A call's command timeout ran out while it waited for a connection."""
    if waiter.done():
        return
    name = args[0] if args else "the call"
    if isinstance(name, (bytes, bytearray, memoryview)):
        name = bytes(name).decode("utf-8", "replace")
    # Only the command name: later arguments may be secrets (AUTH, CONFIG SET).
    waiter.set_exception(
        TimeoutError(
            f"no reply to {str(name).upper()} within {timeout}s: "
            f"still connecting to {settings.address}"
        )
    )
