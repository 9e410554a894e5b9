"""Pub/sub on a connection of its own.

``async with r.pubsub() as ps``: subscribe, psubscribe, ssubscribe (and their
unsubscribes), then ``get_message(timeout)`` or ``async for m in ps.listen()``.
Messages are pushed by the server (RESP3 push frames, or unsolicited arrays on
RESP2) and routed here by the connection's push handler, so ordinary commands
on the client never wait behind subscribers.

After a connection loss the subscriber reconnects with backoff, subscribes to
everything again, and puts a ``Message(kind="reconnected")`` in the stream.
Delivery is at-most-once: messages published while the connection was down
are lost; the "reconnected" message marks the gap.
"""

from __future__ import annotations

import asyncio
import random
from collections.abc import AsyncIterator, Awaitable, Callable
from types import TracebackType
from typing import TYPE_CHECKING, Any, AnyStr, Generic, Literal, cast

from typing_extensions import NamedTuple

from . import errors
from .connection import Connection

if TYPE_CHECKING:
    from .client import Redis
    from .types import KeyT

__all__ = ["Message", "PubSub"]

MessageKind = Literal[
    "message",
    "pmessage",
    "smessage",
    "subscribe",
    "psubscribe",
    "ssubscribe",
    "unsubscribe",
    "punsubscribe",
    "sunsubscribe",
    "reconnected",
]
_DATA_KINDS = frozenset({"message", "pmessage", "smessage"})
_SUBSCRIBE_KINDS = {"subscribe": "channels", "psubscribe": "patterns", "ssubscribe": "shards"}
_UNSUBSCRIBE_KINDS = {
    "unsubscribe": "channels",
    "punsubscribe": "patterns",
    "sunsubscribe": "shards",
}


class Message(NamedTuple, Generic[AnyStr]):
    """One pub/sub event.

    For ``message``/``smessage`` the channel and payload; for ``pmessage`` also
    the matching pattern. For (un)subscribe confirmations ``data`` is empty
    and ``subscriptions`` is the number of subscriptions the connection still has.
    ``reconnected`` marks a gap: the connection was lost and every
    subscription restored.
    """

    kind: MessageKind
    channel: AnyStr
    data: AnyStr
    pattern: AnyStr | None = None
    subscriptions: int | None = None


Handler = Callable[["Message[Any]"], Awaitable[None] | None]


class PubSub(Generic[AnyStr]):
    """A subscriber. Not shared between tasks that read concurrently."""

    def __init__(self, client: Redis[AnyStr], *, ignore_subscribe_messages: bool = False) -> None:
        self._client: Redis[AnyStr] = client
        self._empty: Any = "" if client.settings.decode_responses else b""
        self._decode = client.settings.decode_responses
        self._ignore_confirmations = ignore_subscribe_messages
        self._queue: asyncio.Queue[Message[AnyStr] | errors.RedisError] = asyncio.Queue()
        self._conn: Connection | None = None
        self._closed = False
        self._connecting: asyncio.Task[Connection] | None = None
        self._watcher: asyncio.Task[None] | None = None
        # What we are subscribed to (the wanted state, restored after a
        # reconnect): name -> handler or None.
        self._subs: dict[str, dict[Any, Handler | None]] = {
            "channels": {},
            "patterns": {},
            "shards": {},
        }

    # ------------------------------------------------------------ lifecycle

    async def __aenter__(self) -> PubSub[AnyStr]:
        await self._ensure_connection()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        """Close the subscriber's connection (its pool slot is freed)."""
        self._closed = True
        for task in (self._connecting, self._watcher):
            if task is not None:
                task.cancel()
        conn, self._conn = self._conn, None
        if conn is not None:
            self._client._core.pool.release(conn, reuse=False)
            await conn.wait_closed()

    async def _ensure_connection(self) -> Connection:
        if self._closed:
            raise errors.ConnectionError("pubsub closed")
        conn = self._conn
        if conn is not None and conn.is_usable:
            return conn
        if self._connecting is None or self._connecting.done():
            self._connecting = asyncio.get_running_loop().create_task(self._connect())
        return await asyncio.shield(self._connecting)

    async def _connect(self) -> Connection:
        """(Re)connect with backoff and restore every subscription."""
        pool = self._client._core.pool
        delay = 0.05
        reconnect = self._conn is not None
        if self._conn is not None:
            pool.release(self._conn, reuse=False)
            self._conn = None
        while True:
            try:
                conn = await pool.acquire(self._on_push)
                break
            except (errors.AuthenticationError, errors.PoolTimeoutError):
                raise
            except errors.RedisError:
                if not reconnect:
                    raise
                await asyncio.sleep(delay * (0.5 + random.random()))
                delay = min(delay * 2, 2.0)
        self._conn = conn
        for kind, command in (
            ("channels", "SUBSCRIBE"),
            ("patterns", "PSUBSCRIBE"),
            ("shards", "SSUBSCRIBE"),
        ):
            restore: list[Any] = list(self._subs[kind])
            if restore:
                conn.send_no_reply((command, *restore))
        if reconnect:
            self._queue.put_nowait(Message("reconnected", self._empty, self._empty, None, None))
        self._watcher = asyncio.get_running_loop().create_task(self._watch(conn))
        return conn

    async def _watch(self, conn: Connection) -> None:
        """Reconnect as soon as the connection drops, not at the next call."""
        await conn.wait_closed()
        if not self._closed and self._conn is conn:
            try:
                await self._ensure_connection()
            except errors.RedisError as exc:
                # Nothing to raise into here: the reader gets the error instead of a message.
                self._queue.put_nowait(exc)

    # ---------------------------------------------------------- subscribing

    async def subscribe(self, *channels: KeyT, **handlers: Handler) -> None:
        """SUBSCRIBE; ``name=handler`` subscribes too, calling handler instead of queueing."""
        await self._subscribe("channels", "SUBSCRIBE", channels, handlers)

    async def psubscribe(self, *patterns: KeyT, **handlers: Handler) -> None:
        await self._subscribe("patterns", "PSUBSCRIBE", patterns, handlers)

    async def ssubscribe(self, *channels: KeyT, **handlers: Handler) -> None:
        """SSUBSCRIBE to shard channels (Redis 7+)."""
        await self._subscribe("shards", "SSUBSCRIBE", channels, handlers)

    async def unsubscribe(self, *channels: KeyT) -> None:
        """UNSUBSCRIBE from the given channels, or from all when none is given."""
        await self._unsubscribe("channels", "UNSUBSCRIBE", channels)

    async def punsubscribe(self, *patterns: KeyT) -> None:
        await self._unsubscribe("patterns", "PUNSUBSCRIBE", patterns)

    async def sunsubscribe(self, *channels: KeyT) -> None:
        await self._unsubscribe("shards", "SUNSUBSCRIBE", channels)

    async def _subscribe(
        self, kind: str, command: str, names: tuple[Any, ...], handlers: dict[str, Handler]
    ) -> None:
        wanted: dict[Any, Handler | None] = {self._key(n): None for n in names}
        for name, handler in handlers.items():
            wanted[self._key(name)] = handler
        if not wanted:
            raise errors.DataError(f"{command.lower()}() needs at least one name")
        conn = await self._ensure_connection()
        self._subs[kind].update(wanted)
        conn.send_no_reply((command, *wanted))

    async def _unsubscribe(self, kind: str, command: str, names: tuple[Any, ...]) -> None:
        conn = await self._ensure_connection()
        if names:
            for n in names:
                self._subs[kind].pop(self._key(n), None)
        else:
            self._subs[kind].clear()
        conn.send_no_reply((command, *names))

    def _key(self, name: Any) -> Any:
        """Names as the server will echo them, so confirmations and handlers match."""
        if isinstance(name, memoryview):
            name = bytes(name)
        if self._decode:
            return name.decode() if isinstance(name, bytes) else str(name)
        return name.encode() if isinstance(name, str) else bytes(name)

    @property
    def subscribed(self) -> bool:
        return any(self._subs.values())

    # ------------------------------------------------------------- reading

    def _on_push(self, frame: list[Any]) -> None:
        if not frame:
            return
        kind = frame[0]
        kind = kind.decode() if isinstance(kind, bytes) else str(kind)
        if kind in _DATA_KINDS:
            if kind == "pmessage":
                msg: Message[Any] = Message("pmessage", frame[2], frame[3], frame[1], None)
                handler = self._subs["patterns"].get(frame[1])
            else:
                msg = Message(cast(MessageKind, kind), frame[1], frame[2], None, None)
                table = "shards" if kind == "smessage" else "channels"
                handler = self._subs[table].get(frame[1])
            if handler is not None:
                self._run_handler(handler, msg)
            else:
                self._queue.put_nowait(msg)
        elif kind in _SUBSCRIBE_KINDS or kind in _UNSUBSCRIBE_KINDS:
            if not self._ignore_confirmations:
                channel = frame[1] if frame[1] is not None else self._empty
                confirmation: Message[Any] = Message(
                    cast(MessageKind, kind), channel, self._empty, None, frame[2]
                )
                self._queue.put_nowait(confirmation)
        # Other pushes (e.g. client tracking invalidations) are not ours.

    def _run_handler(self, handler: Handler, msg: Message[Any]) -> None:
        result = handler(msg)
        if asyncio.iscoroutine(result):
            asyncio.get_running_loop().create_task(result)

    async def get_message(self, timeout: float | None = 0.0) -> Message[AnyStr] | None:
        """The next message; waits up to ``timeout`` seconds (None: until one arrives).

        Raises the error that ended the subscription if reconnecting failed
        for good (e.g. the password was changed).
        """
        if timeout is None:
            item = await self._queue.get()
        elif timeout <= 0:
            try:
                item = self._queue.get_nowait()
            except asyncio.QueueEmpty:
                return None
        else:
            try:
                item = await asyncio.wait_for(self._queue.get(), timeout)
            except asyncio.TimeoutError:
                return None
        if isinstance(item, errors.RedisError):
            raise item
        return item

    async def listen(self) -> AsyncIterator[Message[AnyStr]]:
        """Every message, in order, for as long as the subscriber is open."""
        while not self._closed:
            message = await self.get_message(timeout=None)
            if message is not None:
                yield message

    async def ping(self, message: KeyT | None = None) -> None:
        """PING on the subscribed connection (keeps idle links alive through proxies)."""
        conn = await self._ensure_connection()
        await conn.send(("PING",) if message is None else ("PING", message))
