"""Stream consumers: a consumer-group helper and a plain tailing reader.

``StreamConsumer`` (``r.stream_consumer(stream, group, consumer, ...)``)::

    async with r.stream_consumer("jobs", "workers", "w1", create=True,
                                 claim_idle=60_000) as jobs:
        async for entry in jobs:
            await handle(entry.id, entry.fields)   # acked once this body has run

What it does, in order, whenever it needs entries:

1. History: the entries already delivered to this consumer and never acked
   (``XREADGROUP ... 0``): those of a previous run that crashed, and those a
   lost connection swallowed (the server had delivered them, the reply never
   arrived). They come first, so nothing in this consumer's pending list is
   forgotten.
2. Claims (with ``claim_idle``): ``XAUTOCLAIM`` takes over entries another
   consumer left pending for longer than ``claim_idle`` ms (a dead worker's),
   at start and then every ``claim_interval`` ms.
3. New entries: ``XREADGROUP ... BLOCK block COUNT count STREAMS stream >``,
   on a pooled connection, so the shared connection is never blocked.

Acknowledgement: with ``autoack=True`` (the default) an entry is acked (XACK,
sent without waiting, its reply checked before the next read) when the loop
asks for the next entry, that is once the body has run for it. An entry
whose body raised, or after which the loop was left with ``break``, is not
acked: it stays pending and comes back through the history (at-least-once).
``await consumer.ack(entry)`` acks explicitly (and is the only way with
``autoack=False``).

Reconnects: a blocking read is never re-sent behind the caller's back (the
client does not retry blocking commands). When one fails with a connection
error the consumer waits for the client to reconnect (``connect_timeout``),
reads its history again (the lost reply's entries are there), and goes on
with ``>``. After ``max_failures`` consecutive failures it raises.

``StreamReader`` (``r.stream_reader(stream, start="$")``) tails a stream
with plain XREAD and no group. ``$`` is turned into the concrete last id
before the first blocking read, and every read continues from the last id
seen, so a read made again after a reconnect skips nothing.
"""

from __future__ import annotations

import asyncio
from collections import deque
from collections.abc import Awaitable
from types import TracebackType
from typing import TYPE_CHECKING, Any, AnyStr, Generic

from ._encode import millis
from .errors import ConnectionError, PoolTimeoutError, ResponseError, TimeoutError

if TYPE_CHECKING:
    from .client import Redis
    from .types import KeyT, Millis, StreamEntry, StreamIdT, ValueT

__all__ = ["StreamConsumer", "StreamReader"]


def _retrieve(fut: asyncio.Future[Any]) -> None:
    if not fut.cancelled():
        fut.exception()


def _retryable(exc: BaseException) -> bool:
    # A lost connection, or no reconnect within connect_timeout; not a full pool.
    return isinstance(exc, (ConnectionError, TimeoutError)) and not isinstance(
        exc, PoolTimeoutError
    )


class StreamConsumer(Generic[AnyStr]):
    """A consumer in a consumer group; see the module docstring."""

    def __init__(
        self,
        client: Redis[AnyStr],
        stream: KeyT,
        group: ValueT,
        consumer: ValueT,
        *,
        create: bool = False,
        start_id: StreamIdT = "0",
        count: int = 10,
        block: Millis = 5000,
        claim_idle: Millis | None = None,
        claim_interval: Millis | None = None,
        autoack: bool = True,
        max_failures: int = 3,
    ) -> None:
        if count < 1:
            raise ValueError("count must be >= 1")
        self._client: Redis[AnyStr] = client
        self.stream = stream
        self.group = group
        self.consumer = consumer
        self._create = create
        self._start_id = start_id
        self._count = count
        self._block = int(millis(block))
        self._claim_idle = None if claim_idle is None else int(millis(claim_idle))
        interval = claim_interval if claim_interval is not None else claim_idle
        self._claim_interval = None if interval is None else millis(interval) / 1000
        self._autoack = autoack
        self._max_failures = max_failures
        self._buffer: deque[StreamEntry[AnyStr]] = deque()
        self._current: StreamEntry[AnyStr] | None = None
        self._acks: list[asyncio.Future[Any]] = []
        self._started = False
        self._history: Any = "0"  # None once the history is read
        self._claim_cursor: Any = "0-0"
        self._next_claim = 0.0
        self._closed = False

    # ------------------------------------------------------------ iteration

    def __aiter__(self) -> StreamConsumer[AnyStr]:
        return self

    async def __anext__(self) -> StreamEntry[AnyStr]:
        current, self._current = self._current, None
        if current is not None and self._autoack:
            self._ack_soon(current.id)  # the body ran for it
        if self._closed:
            raise StopAsyncIteration
        failures = 0
        while not self._buffer:
            try:
                await self._fill()
                failures = 0
            except Exception as exc:
                if not _retryable(exc) or self._closed:
                    raise
                failures += 1
                if failures >= self._max_failures:
                    raise
                # Entries a lost reply carried are in our pending list.
                self._history = "0"
                await asyncio.sleep(0.05 * failures)
        entry = self._buffer.popleft()
        self._current = entry
        return entry

    async def _fill(self) -> None:
        client = self._client
        await self._check_acks()
        if not self._started:
            if self._create:
                await self._ensure_group()
            self._started = True
            self._next_claim = 0.0
        if self._history is not None:
            got = await client.xreadgroup(
                self.group, self.consumer, {self.stream: self._history}, count=self._count
            )
            entries = next(iter(got.values()), [])
            if not entries:
                self._history = None
            else:
                self._history = entries[-1].id
                self._take(entries)
                return
        loop = asyncio.get_running_loop()
        if self._claim_idle is not None and loop.time() >= self._next_claim:
            cursor, claimed, _deleted = await client.xautoclaim(
                self.stream,
                self.group,
                self.consumer,
                self._claim_idle,
                self._claim_cursor,
                count=self._count,
            )
            done = cursor in (b"0-0", "0-0")
            self._claim_cursor = "0-0" if done else cursor
            if done:
                assert self._claim_interval is not None
                self._next_claim = loop.time() + self._claim_interval
            if claimed:
                self._take(claimed)
                return
            if not done:
                return  # more of the pending list to scan
        got = await client.xreadgroup(
            self.group,
            self.consumer,
            {self.stream: ">"},
            count=self._count,
            block=self._block,
        )
        self._take(next(iter(got.values()), []))

    def _take(self, entries: list[StreamEntry[AnyStr]]) -> None:
        for e in entries:
            if e.fields:
                self._buffer.append(e)
            else:
                self._ack_soon(e.id)  # deleted while pending: nothing to process

    async def _ensure_group(self) -> None:
        try:
            await self._client.xgroup_create(self.stream, self.group, self._start_id, mkstream=True)
        except ResponseError as exc:
            if exc.code != "BUSYGROUP":
                raise

    # ------------------------------------------------------------ acks

    def _ack_soon(self, entry_id: StreamIdT) -> None:
        fut = asyncio.ensure_future(self._client.xack(self.stream, self.group, entry_id))
        fut.add_done_callback(_retrieve)
        self._acks.append(fut)

    async def _check_acks(self) -> None:
        acks, self._acks = self._acks, []
        if acks:
            for result in await asyncio.gather(*acks, return_exceptions=True):
                if isinstance(result, BaseException):
                    raise result

    async def ack(self, *entries: StreamEntry[AnyStr] | StreamIdT) -> int:
        """XACK now; returns how many were still pending. Takes entries or ids.

        Acking the current entry explicitly spares it the automatic ack.
        """
        ids: list[Any] = [e.id if isinstance(e, tuple) else e for e in entries]
        current = self._current
        if current is not None and current.id in ids:
            self._current = None
        if not ids:
            return 0
        return await self._client.xack(self.stream, self.group, *ids)

    # ------------------------------------------------------------ life cycle

    async def __aenter__(self) -> StreamConsumer[AnyStr]:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        """Stop; wait for the acks already sent (the current entry stays pending)."""
        self._closed = True
        self._current = None
        await self._check_acks()


class StreamReader(Generic[AnyStr]):
    """Tails one stream with XREAD BLOCK, from ``start`` (``$``: new entries only)."""

    def __init__(
        self,
        client: Redis[AnyStr],
        stream: KeyT,
        *,
        start: StreamIdT = "$",
        count: int = 100,
        block: Millis = 5000,
        max_failures: int = 3,
    ) -> None:
        self._client: Redis[AnyStr] = client
        self.stream = stream
        self._last: Any = start
        self._count = count
        self._block = int(millis(block))
        self._max_failures = max_failures
        self._buffer: deque[StreamEntry[AnyStr]] = deque()

    @property
    def last_id(self) -> StreamIdT:
        """The id the next read continues from."""
        last: StreamIdT = self._last
        return last

    def __aiter__(self) -> StreamReader[AnyStr]:
        return self

    async def __anext__(self) -> StreamEntry[AnyStr]:
        failures = 0
        while not self._buffer:
            try:
                await self._read()
                failures = 0
            except Exception as exc:
                if not _retryable(exc):
                    raise
                failures += 1
                if failures >= self._max_failures:
                    raise
                await asyncio.sleep(0.05 * failures)
        return self._buffer.popleft()

    async def _read(self) -> None:
        if self._last in ("$", b"$"):
            # A "$" sent again after a reconnect would skip what arrived
            # meanwhile: pin it to the id it stands for now.
            newest = await self._resolve_last()
            self._last = newest
        got = await self._client.xread(
            {self.stream: self._last}, count=self._count, block=self._block
        )
        entries = next(iter(got.values()), [])
        if entries:
            self._last = entries[-1].id
            self._buffer.extend(entries)

    async def _resolve_last(self) -> Any:
        newest: Awaitable[list[StreamEntry[AnyStr]]] = self._client.xrevrange(
            self.stream, "+", "-", count=1
        )
        entries = await newest
        return entries[0].id if entries else "0-0"
