"""The background subscription of one Sentinel object.

One task per ``Sentinel`` holds one connection to one sentinel (the first
in order that accepts it), subscribed to the event channels of
``_wire.EVENT_CHANNELS``. An event about a followed service makes that
service look again, asking the publishing sentinel first; ``+switch-master``
and ``+promoted-slave`` move its clients at once. ``+promoted-slave`` matters:
the sentinel that leads a failover publishes its own ``+switch-master`` only
after every replica is reconfigured (a second or more later), while its
``GET-MASTER-ADDR-BY-NAME`` already names the promoted node.

When the connection is lost, or a PING sent every ``check_interval`` goes
unanswered for ``sentinel_timeout``, the task subscribes to the next
sentinel, and every followed service is checked at once (events may have been
missed meanwhile). The same tick runs the periodic safety-net check.

The task runs while the Sentinel has at least one open client; it is
stopped when the last one closes and by ``Sentinel.aclose()``.
"""

from __future__ import annotations

import asyncio
import random
from collections.abc import Callable
from typing import Any

from ..connection import Connection
from ..errors import ProtocolError, RedisError, ResponseError
from ._nodes import SentinelNodes, open_connection
from ._service import Service
from ._wire import EVENT_CHANNELS, Address, parse_event

__all__ = ["Watcher"]

_BACKOFF_MIN = 0.05


class Watcher:
    """Subscribes to one sentinel after another and hands events to the services."""

    def __init__(
        self,
        nodes: SentinelNodes,
        services: dict[str, Service],
        check_interval: float,
        timeout: float | None,
    ) -> None:
        self._nodes = nodes
        self._services = services
        self._interval = check_interval
        self._timeout = timeout
        self._task: asyncio.Task[None] | None = None
        self._conn: Connection | None = None
        self.address: Address | None = None  # the sentinel subscribed to
        self._confirmed = 0
        self._signal: asyncio.Future[None] | None = None
        self._refused: ResponseError | None = None
        self._pongs = 0

    @property
    def subscribed_to(self) -> Address | None:
        """The sentinel whose events are being received, if any."""
        conn = self._conn
        return self.address if conn is not None and conn.is_usable and self.running else None

    @property
    def running(self) -> bool:
        return self._task is not None and not self._task.done()

    def ensure_running(self) -> None:
        if not self.running:
            self._task = asyncio.get_running_loop().create_task(self._run())

    async def stop(self) -> None:
        task, self._task = self._task, None
        if task is not None and not task.done():
            task.cancel()
            await asyncio.wait([task])
        conn, self._conn = self._conn, None
        if conn is not None:
            conn.close()
            await asyncio.wait([asyncio.ensure_future(conn.wait_closed())], timeout=2.0)

    # ------------------------------------------------------------ the task

    async def _run(self) -> None:
        loop = asyncio.get_running_loop()
        delay = _BACKOFF_MIN
        last_check = loop.time()
        while True:
            conn = await self._subscribe()
            if conn is None:
                # No sentinel takes the subscription: clients still rediscover
                # on their own, and the periodic check goes on.
                if loop.time() - last_check >= self._interval:
                    last_check = loop.time()
                    self._refresh_all()
                await asyncio.sleep(delay * (0.5 + random.random() / 2))
                delay = min(delay * 2, self._interval)
                continue
            delay = _BACKOFF_MIN
            self._refresh_all()  # catch up on what happened while unsubscribed
            await self._serve(conn)
            last_check = loop.time()
            self._conn = None

    async def _subscribe(self) -> Connection | None:
        for address in self._nodes.order():
            self.address = address
            self._confirmed = 0
            self._refused = None
            try:
                conn = await open_connection(self._nodes.settings_for(address), self._on_push)
            except RedisError:
                continue
            self._conn = conn
            conn.send_no_reply(("SUBSCRIBE", *EVENT_CHANNELS))
            if await self._heard(conn, lambda: self._confirmed >= len(EVENT_CHANNELS)):
                self._nodes.promote(address)
                return conn
            self._conn = None
            conn.close()  # refused (ACL), or no answer in time: try the next one
        return None

    async def _serve(self, conn: Connection) -> None:
        """Until the connection is lost or stops answering."""
        loop = asyncio.get_running_loop()
        while True:
            closed = loop.create_task(conn.wait_closed())
            try:
                await asyncio.wait([closed], timeout=self._interval)
            finally:
                closed.cancel()
            if not conn.is_usable:
                return
            self._pongs = 0
            conn.send_no_reply(("PING",))
            if not await self._heard(conn, lambda: self._pongs > 0):
                conn.close()
                return
            self._refresh_all()

    async def _heard(self, conn: Connection, condition: Callable[[], bool]) -> bool:
        """Wait until ``condition()`` holds, the connection dies, or sentinel_timeout passes."""
        loop = asyncio.get_running_loop()
        deadline = None if self._timeout is None else loop.time() + self._timeout
        while not condition():
            if not conn.is_usable or self._refused is not None:
                return False
            remaining = None if deadline is None else deadline - loop.time()
            if remaining is not None and remaining <= 0:
                return False
            signal = self._signal = loop.create_future()
            closed = loop.create_task(conn.wait_closed())
            try:
                await asyncio.wait(
                    [signal, closed], timeout=remaining, return_when=asyncio.FIRST_COMPLETED
                )
            finally:
                closed.cancel()
                self._signal = None
        return True

    def _refresh_all(self) -> None:
        for service in self._services.values():
            if service.followed:
                service.refresh(first=self.address)

    # ------------------------------------------------------------ frames

    def _on_push(self, frame: Any) -> None:
        try:
            self._handle(frame)
        finally:
            signal = self._signal
            if signal is not None and not signal.done():
                signal.set_result(None)

    def _handle(self, frame: Any) -> None:
        if isinstance(frame, ResponseError):
            self._refused = frame
            return
        if isinstance(frame, (bytes, str)):
            self._pongs += 1  # RESP3: PING answers PONG even when subscribed
            return
        if not isinstance(frame, list) or not frame:
            return
        kind = frame[0]
        if isinstance(kind, bytes):
            kind = kind.decode("ascii", "replace")
        if kind == "message" and len(frame) >= 3:
            try:
                event = parse_event(frame[1], frame[2])
            except ProtocolError:
                return  # not an event we can read: the periodic check covers it
            if event is None:
                return
            service = self._services.get(event.service)
            if service is not None and service.followed and self.address is not None:
                service.on_event(event, self.address)
        elif kind == "subscribe":
            self._confirmed += 1
        elif kind == "pong":
            self._pongs += 1  # RESP2, subscribed
