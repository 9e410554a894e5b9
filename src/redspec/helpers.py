"""Hand-written conveniences mixed into ``Redis``: iterators over SCAN cursors,
pipelines and transactions, pub/sub, scripts, locks and stream consumers.

They sit above the generated methods and the transport and use only
``_call`` and the client's settings, so they work the same on every server.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from typing import TYPE_CHECKING, Any, AnyStr, TypeVar

from ._base import READ, ClientBase
from ._replies import to_float
from .errors import WatchError

if TYPE_CHECKING:
    from .lock import Lock
    from .pipeline import Pipeline
    from .pubsub import PubSub
    from .scripting import Script
    from .streams import StreamConsumer, StreamReader
    from .types import KeyT, Millis, PatternT, StreamIdT, ValueT

T = TypeVar("T")

__all__ = ["ClientHelpers"]


class ClientHelpers(ClientBase[AnyStr]):
    """Mixed into ``Redis``; needs ``_call`` and the client core."""

    __slots__ = ()

    # ------------------------------------------------------------- cursors

    async def _cursor(self, head: tuple[Any, ...], options: list[Any]) -> AsyncIterator[Any]:
        """Yield every element of every page of a SCAN-family cursor."""
        cursor: Any = 0
        while True:
            next_cursor, items = await self._call((*head, cursor, *options), READ)
            for item in items:
                yield item
            if int(next_cursor) == 0:
                return
            cursor = next_cursor

    def _scan_options(self, match: PatternT | None, count: int | None) -> list[Any]:
        options: list[Any] = []
        if match is not None:
            options += ["MATCH", match]
        if count is not None:
            options += ["COUNT", count]
        return options

    async def scan_iter(
        self,
        match: PatternT | None = None,
        count: int | None = None,
        type: str | None = None,
        *,
        _type: str | None = None,
    ) -> AsyncIterator[AnyStr]:
        """Every key (matching ``match``, of ``type``), each page fetched on demand.

        SCAN guarantees every key present for the whole iteration is returned,
        possibly more than once. ``_type`` is redis-py's name for ``type``.
        """
        options = self._scan_options(match, count)
        type = type if _type is None else _type
        if type is not None:
            options += ["TYPE", type]
        async for key in self._cursor(("SCAN",), options):
            yield key

    async def sscan_iter(
        self, key: KeyT, match: PatternT | None = None, count: int | None = None
    ) -> AsyncIterator[AnyStr]:
        async for member in self._cursor(("SSCAN", key), self._scan_options(match, count)):
            yield member

    async def hscan_iter(
        self, key: KeyT, match: PatternT | None = None, count: int | None = None
    ) -> AsyncIterator[tuple[AnyStr, AnyStr]]:
        """(field, value) pairs of a hash."""
        it = self._cursor(("HSCAN", key), self._scan_options(match, count))
        async for field in it:
            yield field, await it.__anext__()

    async def zscan_iter(
        self, key: KeyT, match: PatternT | None = None, count: int | None = None
    ) -> AsyncIterator[tuple[AnyStr, float]]:
        """(member, score) pairs of a sorted set."""
        it = self._cursor(("ZSCAN", key), self._scan_options(match, count))
        async for member in it:
            yield member, to_float(await it.__anext__())

    # ------------------------------------------------ pipelines, transactions

    def pipeline(self, transaction: bool = True) -> Pipeline[AnyStr]:
        """A batch sent in one write, wrapped in MULTI/EXEC as in redis-py;
        ``transaction=False`` sends it as a plain batch."""
        from .pipeline import Pipeline

        return Pipeline(self, transaction)  # type: ignore[arg-type]

    async def transaction(
        self,
        fn: Callable[[Pipeline[AnyStr]], Awaitable[T]],
        *watch_keys: KeyT,
        retries: int = 10,
    ) -> T:
        """Run ``fn(pipe)`` in a WATCH transaction; run it again when a watched key changed.

        ``fn`` reads with immediate awaits (``await pipe.get(k)``), calls
        ``pipe.multi()`` and queues its writes; the helper then executes the
        transaction (unless ``fn`` did) and returns what ``fn`` returned,
        e.g. the Pending handles of its writes, which hold their results.
        Raises ``WatchError`` after ``retries`` conflicts.
        """
        for _ in range(retries + 1):
            async with self.pipeline(transaction=True) as pipe:
                try:
                    if watch_keys:
                        await pipe.watch(*watch_keys)
                    result = await fn(pipe)
                    if len(pipe) or pipe.watching:
                        await pipe.execute()
                except WatchError:
                    continue
                return result
        raise WatchError(f"transaction gave up after {retries} retries: watched keys kept changing")

    # ------------------------------------------------------ pub/sub, scripts

    def pubsub(self, *, ignore_subscribe_messages: bool = False) -> PubSub[AnyStr]:
        """A subscriber on a connection of its own: ``async with r.pubsub() as ps``."""
        from .pubsub import PubSub

        return PubSub(self, ignore_subscribe_messages=ignore_subscribe_messages)  # type: ignore[arg-type]

    def register_script(self, source: str | bytes, *, readonly: bool = False) -> Script[AnyStr]:
        """A Script run by SHA1 (EVALSHA, loaded on NOSCRIPT); see ``redspec.scripting``."""
        from .scripting import Script

        return Script(self, source, readonly=readonly)  # type: ignore[arg-type]

    def lock(
        self,
        name: KeyT,
        *,
        timeout: float | None = None,
        sleep: float = 0.1,
        blocking_timeout: float | None = None,
    ) -> Lock:
        """A lock in key ``name`` (SET NX PX; released by a token-checking script)."""
        from .lock import Lock

        return Lock(
            self,  # type: ignore[arg-type]
            name,
            timeout=timeout,
            sleep=sleep,
            blocking_timeout=blocking_timeout,
        )

    # ------------------------------------------------------------- streams

    def stream_consumer(
        self,
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
    ) -> StreamConsumer[AnyStr]:
        """A consumer-group reader: ``async for entry in r.stream_consumer(...)``.

        Reads this consumer's unacked history first, claims entries idle for
        ``claim_idle`` ms from other consumers (XAUTOCLAIM), then blocks for
        new ones (XREADGROUP ... BLOCK ``block`` ms). Each entry is acked once
        the loop body has run for it (``autoack``). ``create=True`` creates the
        group (and the stream) at ``start_id`` if it does not exist. Survives
        reconnects without skipping entries; see ``redspec.streams``.
        """
        from .streams import StreamConsumer

        return StreamConsumer(
            self,  # type: ignore[arg-type]
            stream,
            group,
            consumer,
            create=create,
            start_id=start_id,
            count=count,
            block=block,
            claim_idle=claim_idle,
            claim_interval=claim_interval,
            autoack=autoack,
            max_failures=max_failures,
        )

    def stream_reader(
        self,
        stream: KeyT,
        *,
        start: StreamIdT = "$",
        count: int = 100,
        block: Millis = 5000,
        max_failures: int = 3,
    ) -> StreamReader[AnyStr]:
        """Tail a stream with XREAD BLOCK: ``async for entry in r.stream_reader("s")``.

        Continues from the last id seen (``$`` is pinned to a concrete id
        first), so a read made again after a reconnect skips nothing.
        """
        from .streams import StreamReader

        return StreamReader(
            self,  # type: ignore[arg-type]
            stream,
            start=start,
            count=count,
            block=block,
            max_failures=max_failures,
        )
