"""Pub/sub on a connection of its own.

``async with r.pubsub() as ps``: subscribe, psubscribe, ssubscribe (and their
unsubscribes), then ``get_message(timeout)`` or ``async for m in ps.listen()``.
The subscriber leases a dedicated connection from the client's pool, so
ordinary commands on the client never wait behind it.

How replies are told apart. Every command on the subscriber connection is
sent without a reply future and followed by ``PING <token>``; everything the
server sends (RESP3 push frames, RESP2 arrays, the PING echo, error replies)
arrives in one handler, in order. So a message can never be mistaken for a
command's reply (the RESP2 race), and ``await ps.subscribe(...)`` returns
once the server has confirmed it: a message published after that is
delivered. Error replies that arrive before the token are raised by the
call that caused them.

Reconnection. When the connection drops, the subscriber reconnects (for as
long as it is open: every 10-25 ms for the first seconds of an outage, then
backing off, as ``_core.retry_delay`` says), subscribes to everything again
in its first write, and then puts ``Message(kind="reconnected")`` in the
stream. Delivery is at-most-once: messages published while the connection
was down (between the loss and the "reconnected" message) are lost, and the
"reconnected" message marks that gap. Rejected credentials end the
reconnection: ``get_message`` raises the error.

Handlers. ``await ps.subscribe(ch=handler)`` (or ``**{"ch:1": handler}``)
routes that channel's messages to ``handler(msg)`` (a function or a
coroutine function) instead of the queue. Handlers run one at a time, in
message order, in a task of the subscriber; an exception in one is reported
to the loop's exception handler and does not stop the others.
"""

from __future__ import annotations

import asyncio
import inspect
import itertools
import sys
import time
from collections import deque
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from types import TracebackType
from typing import TYPE_CHECKING, Any, AnyStr, Generic, Literal, cast

if sys.version_info >= (3, 11):
    from typing import NamedTuple
else:  # generic NamedTuples need 3.11
    from typing_extensions import NamedTuple

from . import errors
from ._core import retry_delay
from .connection import Connection

if TYPE_CHECKING:
    from .client import Redis
    from .types import KeyT

__all__ = ["Handler", "Message", "MessageKind", "PubSub"]

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
_CONFIRMATIONS = frozenset(
    {"subscribe", "psubscribe", "ssubscribe", "unsubscribe", "punsubscribe", "sunsubscribe"}
)
_RESTORE = (("channels", "SUBSCRIBE"), ("patterns", "PSUBSCRIBE"), ("shards", "SSUBSCRIBE"))
# Frame kinds as the server spells them, bytes or decoded: no decode per message.
_KINDS: dict[Any, str] = {
    v: k
    for k in ("message", "pmessage", "smessage", "pong", *sorted(_CONFIRMATIONS))
    for v in (k, k.encode())
}
_tokens = itertools.count(1)


class Message(NamedTuple, Generic[AnyStr]):
    """One pub/sub event.

    ``message``/``smessage``: the channel and the payload. ``pmessage``: also
    the pattern that matched. (Un)subscribe confirmations: ``data`` is
    empty and ``subscriptions`` is the number of subscriptions the
    connection still has. ``reconnected``: the connection was lost and every
    subscription restored; messages published meanwhile were lost (channel
    and data are empty).
    """

    kind: MessageKind
    channel: AnyStr
    data: AnyStr
    pattern: AnyStr | None = None
    subscriptions: int | None = None


Handler = Callable[["Message[Any]"], Awaitable[None] | None]


class _Barrier:
    __slots__ = ("errors", "future", "token")

    def __init__(self, token: Any, future: asyncio.Future[None]) -> None:
        self.token = token
        self.future = future
        self.errors: list[errors.ResponseError] = []


def _retrieve(fut: asyncio.Future[Any]) -> None:
    if not fut.cancelled():
        fut.exception()


class PubSub(Generic[AnyStr]):
    """A subscriber; see the module docstring. Open it with ``async with``."""

    def __init__(self, client: Redis[AnyStr], *, ignore_subscribe_messages: bool = False) -> None:
        self._client: Redis[AnyStr] = client
        settings = client.settings
        self._decode = settings.decode_responses
        self._encoding = settings.encoding
        # Push frames that are not text arrive escaped under "strict" (never lost).
        policy = settings.encoding_errors
        self._errors = "surrogateescape" if policy == "strict" else policy
        self._empty: Any = "" if self._decode else b""
        self._ignore_confirmations = ignore_subscribe_messages
        self._messages: deque[Message[AnyStr] | errors.RedisError] = deque()
        self._readers: list[asyncio.Future[None]] = []
        self._conn: Connection | None = None
        self._closed = False
        self._ever_connected = False
        self._supervisor: asyncio.Task[None] | None = None
        self._ready: asyncio.Future[Connection] | None = None
        self._barriers: deque[_Barrier] = deque()
        self._restoring = False
        self._handler_calls: deque[tuple[Handler, Message[Any]]] = deque()
        self._dispatcher: asyncio.Task[None] | None = None
        # The wanted state, restored after a reconnect: name -> handler or None.
        self._subs: dict[str, dict[Any, Handler | None]] = {
            "channels": {},
            "patterns": {},
            "shards": {},
        }

    # ------------------------------------------------------------ life cycle

    async def __aenter__(self) -> PubSub[AnyStr]:
        try:
            await self._ensure_connection()
        except BaseException:
            # Cancelled or failed while connecting: nothing may keep the slot.
            await self.aclose()
            raise
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        """Close the subscriber's connection (its pool slot is freed). Idempotent."""
        self._closed = True
        supervisor = self._supervisor
        current = asyncio.current_task()
        for task in (supervisor, self._dispatcher):
            if task is not None and task is not current:  # a handler may close us
                task.cancel()
        conn, self._conn = self._conn, None
        if conn is not None:
            self._client._core.pool.release(conn, reuse=False)
        self._wake_readers()
        while self._barriers:
            b = self._barriers.popleft()
            if not b.future.done():
                b.future.set_exception(errors.ConnectionError("pubsub closed"))
                _retrieve(b.future)
        if supervisor is not None and supervisor is not current:
            # Its own exit path gives back a connection it was still setting up.
            await asyncio.wait([supervisor])
        if conn is not None:
            await conn.wait_closed()

    @property
    def closed(self) -> bool:
        return self._closed

    async def _ensure_connection(self) -> Connection:
        """The live connection; connects the first time, waits out a reconnect."""
        loop = asyncio.get_running_loop()
        while True:
            if self._closed:
                raise errors.ConnectionError("pubsub closed")
            conn = self._conn
            if conn is not None and conn.is_usable:
                return conn
            if self._supervisor is None or self._supervisor.done():
                self._ready = loop.create_future()
                self._supervisor = loop.create_task(self._supervise())
            ready = self._ready
            assert ready is not None
            if not ready.done():
                # A first connect is bounded by the connection's own timeouts; a
                # caller waits for a reconnect as long as ordinary commands do.
                timeout = self._client.settings.connect_timeout if self._ever_connected else None
                try:
                    # Raises the reason a (re)connect gave up.
                    await asyncio.wait_for(asyncio.shield(ready), timeout)
                except asyncio.TimeoutError:
                    raise errors.TimeoutError(
                        f"the subscriber did not reconnect within {timeout}s; still trying"
                    ) from None
            elif conn is not None:
                # Lost, and the supervisor has not noticed yet: let it run.
                await conn.wait_closed()
                await asyncio.sleep(0)
            else:
                await asyncio.sleep(0)

    async def _supervise(self) -> None:
        """Connect, then reconnect after every loss, until closed."""
        # A caller waits on the first connect and gets its error; after a loss
        # nobody does, so the reader is told instead.
        reconnect = self._ever_connected
        lost = False
        try:
            while True:
                conn = await self._open(reconnect)
                await conn.wait_closed()
                if self._closed:
                    return
                # Lost: the next connection must come from here.
                self._ready = asyncio.get_running_loop().create_future()
                if self._conn is conn:
                    self._conn = None
                    self._client._core.pool.release(conn, reuse=False)
                self._fail_barriers()
                self._lost()
                reconnect = lost = True
        except BaseException as exc:
            err: BaseException = exc
            if not isinstance(exc, errors.RedisError):
                err = errors.ConnectionError("pubsub closed")
            ready = self._ready
            if ready is not None and not ready.done():
                ready.set_exception(err)
                _retrieve(ready)
            if lost and isinstance(exc, errors.RedisError) and not self._closed:
                self._put(exc)  # the reader learns why messages stopped
            if not isinstance(exc, Exception):
                raise

    async def _open(self, reconnect: bool) -> Connection:
        core = self._client._core
        pool = core.pool
        attempt = 0
        down_since = time.monotonic()
        while True:
            if self._closed:
                raise errors.ConnectionError("pubsub closed")
            if core.closed:
                raise errors.ConnectionError("client closed")
            try:
                conn = await pool.acquire(self._on_push)
            except errors.AuthenticationError:
                raise
            except errors.RedisError:
                if not reconnect:
                    raise
                attempt += 1
                await asyncio.sleep(retry_delay(attempt, time.monotonic() - down_since))
                continue
            try:
                restore: list[tuple[Any, ...]] = []
                for table_name, cmd in _RESTORE:
                    names: dict[Any, Handler | None] = self._subs[table_name]
                    if names:
                        restore.append((cmd, *names))
                if restore:
                    self._restoring = True
                    try:
                        refused = await self._sync(conn, restore)
                    finally:
                        self._restoring = False
                    for e in refused:
                        self._put(e)
            except errors.ConnectionError:
                pool.release(conn, reuse=False)
                if not reconnect:
                    raise
                attempt += 1
                await asyncio.sleep(retry_delay(attempt, time.monotonic() - down_since))
                continue
            except BaseException:
                pool.release(conn, reuse=False)
                raise
            self._conn = conn
            self._ever_connected = True
            if reconnect:
                self._put(Message("reconnected", self._empty, self._empty, None, None))
            ready = self._ready
            if ready is not None and not ready.done():
                ready.set_result(conn)
            return conn

    def _lost(self) -> None:
        """The connection was lost; reconnecting follows. A hook (the cluster's PubSub
        moves shard channels whose slot is served elsewhere now)."""

    def _fail_barriers(self) -> None:
        while self._barriers:
            b = self._barriers.popleft()
            if not b.future.done():
                b.future.set_exception(errors.ConnectionError("subscriber connection lost"))
                _retrieve(b.future)

    async def _sync(
        self, conn: Connection, commands: Sequence[Sequence[Any]]
    ) -> list[errors.ResponseError]:
        """Send ``commands`` then ``PING <token>``; wait for the token.

        Returns the error replies that arrived before the token. Raises
        ConnectionError if the connection is lost first, TimeoutError after
        the client's command_timeout.
        """
        token = f"redspec-sync-{next(_tokens)}"
        for command in commands:
            conn.send_no_reply(command)
        conn.send_no_reply(("PING", token))
        loop = asyncio.get_running_loop()
        barrier = _Barrier(token if self._decode else token.encode(), loop.create_future())
        self._barriers.append(barrier)
        closed = loop.create_task(conn.wait_closed())
        try:
            done, _ = await asyncio.wait(
                [barrier.future, closed],
                timeout=self._client.command_timeout,
                return_when=asyncio.FIRST_COMPLETED,
            )
        finally:
            closed.cancel()
        if barrier.future.done():
            barrier.future.result()  # raises what _fail_barriers set
            return barrier.errors
        if not done:
            raise errors.TimeoutError(
                f"no reply from the subscriber connection within {self._client.command_timeout}s"
            )
        raise errors.ConnectionError("subscriber connection lost")

    # ---------------------------------------------------------- subscribing

    async def subscribe(self, *channels: KeyT, **handlers: Handler) -> None:
        """SUBSCRIBE; returns once the server confirmed.

        ``name=handler`` subscribes too, calling ``handler`` instead of queueing.
        """
        await self._subscribe("channels", "SUBSCRIBE", channels, handlers)

    async def psubscribe(self, *patterns: KeyT, **handlers: Handler) -> None:
        """PSUBSCRIBE to glob-style patterns (``news.*``)."""
        await self._subscribe("patterns", "PSUBSCRIBE", patterns, handlers)

    async def ssubscribe(self, *channels: KeyT, **handlers: Handler) -> None:
        """SSUBSCRIBE to shard channels (Redis 7+, Valkey 7+)."""
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
        table = self._subs[kind]
        before = {n: table[n] for n in wanted if n in table}
        # Recorded first: a reconnect from here on restores them too.
        table.update(wanted)
        try:
            refused = await self._sync(conn, [(command, *wanted)])
        except errors.ConnectionError:
            if self._closed:
                raise
            await self._ensure_connection()  # the reconnect subscribed them
            return
        except BaseException:
            self._forget(table, wanted, before)
            raise
        if refused:
            self._forget(table, wanted, before)
            raise refused[0]

    @staticmethod
    def _forget(
        table: dict[Any, Handler | None],
        wanted: dict[Any, Handler | None],
        before: dict[Any, Handler | None],
    ) -> None:
        for n in wanted:
            table.pop(n, None)
        table.update(before)

    async def _unsubscribe(self, kind: str, command: str, names: tuple[Any, ...]) -> None:
        names_sent: list[Any] = [self._key(n) for n in names]
        table = self._subs[kind]
        if names_sent:
            for n in names_sent:
                table.pop(n, None)
        else:
            table.clear()
        conn = await self._ensure_connection()
        try:
            refused = await self._sync(conn, [(command, *names_sent)])
        except errors.ConnectionError:
            if self._closed:
                raise
            await self._ensure_connection()  # the reconnect did not restore them
            return
        if refused:
            raise refused[0]

    def _key(self, name: Any) -> Any:
        """Names as the server will echo them, so confirmations and handlers match."""
        if isinstance(name, (memoryview, bytearray)):
            name = bytes(name)
        elif not isinstance(name, (str, bytes)):
            name = str(name)  # a number, sent in its decimal form
        if self._decode:
            return name.decode(self._encoding, self._errors) if isinstance(name, bytes) else name
        return name.encode(self._encoding, self._errors) if isinstance(name, str) else name

    @property
    def subscribed(self) -> bool:
        """True while subscribed to anything."""
        return any(self._subs.values())

    @property
    def channels(self) -> set[AnyStr]:
        return set(self._subs["channels"])

    @property
    def patterns(self) -> set[AnyStr]:
        return set(self._subs["patterns"])

    @property
    def shard_channels(self) -> set[AnyStr]:
        return set(self._subs["shards"])

    async def ping(self) -> None:
        """A round trip on the subscriber connection (a health check or keep-alive)."""
        conn = await self._ensure_connection()
        refused = await self._sync(conn, [])
        if refused:
            raise refused[0]

    # ------------------------------------------------------------- reading

    def _on_push(self, frame: Any) -> None:
        """Everything the subscriber connection receives lands here, in order."""
        if isinstance(frame, errors.ResponseError):
            if self._barriers:
                self._barriers[0].errors.append(frame)
            else:
                self._put(frame)
            return
        if isinstance(frame, (bytes, str)):
            self._pong(frame)  # PING <token> answered outside subscribed mode, or on RESP3
            return
        if not isinstance(frame, list) or not frame:
            return
        head = frame[0]
        kind = _KINDS.get(head)
        if kind is None:
            if isinstance(head, bytes):
                head = head.decode("ascii", "replace")
            kind = str(head).lower()
        if kind == "message" or kind == "smessage":
            msg: Message[Any] = Message(cast(MessageKind, kind), frame[1], frame[2], None, None)
            handler = self._subs["shards" if kind == "smessage" else "channels"].get(frame[1])
        elif kind == "pmessage":
            msg = Message("pmessage", frame[2], frame[3], frame[1], None)
            handler = self._subs["patterns"].get(frame[1])
        elif kind in _CONFIRMATIONS:
            if not self._ignore_confirmations and not self._restoring:
                channel = frame[1] if frame[1] is not None else self._empty
                count = frame[2] if len(frame) > 2 else None
                self._put(Message(cast(MessageKind, kind), channel, self._empty, None, count))
            return
        elif kind == "pong":
            self._pong(frame[1] if len(frame) > 1 else None)  # RESP2, subscribed
            return
        else:
            return  # other pushes (client tracking invalidations...) are not ours
        if handler is None:
            self._put(msg)
        else:
            self._handler_calls.append((handler, msg))
            if self._dispatcher is None or self._dispatcher.done():
                self._dispatcher = asyncio.get_running_loop().create_task(self._run_handlers())

    def _pong(self, token: Any) -> None:
        barriers = self._barriers
        while barriers:
            b = barriers.popleft()
            if b.token == token:
                if not b.future.done():
                    b.future.set_result(None)
                return
            # An older barrier of a lost connection: already failed.
            if not b.future.done():
                b.future.set_exception(errors.ConnectionError("subscriber connection lost"))
                _retrieve(b.future)

    async def _run_handlers(self) -> None:
        calls = self._handler_calls
        loop = asyncio.get_running_loop()
        while calls:
            handler, msg = calls.popleft()
            try:
                result = handler(msg)
                if inspect.isawaitable(result):
                    await result
            except Exception as exc:
                loop.call_exception_handler(
                    {"message": f"redspec pub/sub handler {handler!r} failed", "exception": exc}
                )

    def _put(self, item: Message[AnyStr] | errors.RedisError) -> None:
        self._messages.append(item)
        self._wake_readers()

    def _wake_readers(self) -> None:
        readers, self._readers = self._readers, []
        for r in readers:
            if not r.done():
                r.set_result(None)

    async def get_message(self, timeout: float | None = 0.0) -> Message[AnyStr] | None:
        """The next message; waits up to ``timeout`` seconds (None: until one arrives).

        Returns None when nothing arrived in time, or once the subscriber is
        closed and every queued message was read. Raises the error that
        ended reconnecting (e.g. rejected credentials), or a refusal the
        server sent outside any call.
        """
        if self._messages:  # the fast path: something is queued already
            item = self._messages.popleft()
            if isinstance(item, errors.RedisError):
                raise item
            return item
        loop = asyncio.get_running_loop()
        deadline = None if timeout is None else loop.time() + timeout
        while True:
            if self._messages:
                item = self._messages.popleft()
                if isinstance(item, errors.RedisError):
                    raise item
                return item
            if self._closed:
                return None
            remaining = None if deadline is None else deadline - loop.time()
            if remaining is not None and remaining <= 0:
                return None
            waiter: asyncio.Future[None] = loop.create_future()
            self._readers.append(waiter)
            handle = None
            if remaining is not None:
                handle = loop.call_later(remaining, _wake, waiter)
            try:
                await waiter
            finally:
                if handle is not None:
                    handle.cancel()

    async def listen(self) -> AsyncIterator[Message[AnyStr]]:
        """Every message, in order, until the subscriber is closed."""
        while True:
            message = await self.get_message(timeout=None)
            if message is None:
                return
            yield message


def _wake(fut: asyncio.Future[None]) -> None:
    if not fut.done():
        fut.set_result(None)
