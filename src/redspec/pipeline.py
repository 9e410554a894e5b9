"""Pipelines and transactions.

``Pipeline`` carries the generated pipeline methods: each queues a command
and returns a typed ``Pending[T]``; ``execute()`` sends the whole batch in
one write and fills every Pending in order.

* ``transaction=False``: the batch goes over the client's shared multiplexed
  connection (other tasks' commands may interleave; a pipeline is a batch,
  not an isolation unit).
* ``transaction=True``: an exclusive connection runs MULTI ... EXEC. The
  redis-py WATCH flow works as there: ``await p.watch(k)`` switches the
  pipeline to immediate mode, where ``await p.get(k)`` runs at once; then
  ``p.multi()`` starts queueing; ``execute()`` raises ``WatchError`` when a
  watched key changed. The exclusive connection goes back to the pool clean
  (UNWATCH/DISCARD) on every exit path, cancellation included.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Generator, Sequence
from types import TracebackType
from typing import TYPE_CHECKING, Any, AnyStr, Generic, TypeVar

from ._generated.pipeline import PipelineCommands
from .errors import RedisError, ResponseError, WatchError, error_from_reply

if TYPE_CHECKING:
    from .client import Redis
    from .connection import Connection

T = TypeVar("T")
Conv = Callable[[Any], Any]

__all__ = ["Pending", "Pipeline"]

_UNSET: Any = object()


class Pending(Generic[T]):
    """The future result of one queued command; ``result()`` once executed.

    In a watching transaction (immediate mode) a Pending is also awaitable.
    """

    __slots__ = ("_conv", "_error", "_future", "_value")

    def __init__(self, conv: Conv | None) -> None:
        self._conv = conv
        self._value: Any = _UNSET
        self._error: BaseException | None = None
        self._future: Awaitable[Any] | None = None

    def _resolve(self, raw: Any) -> None:
        if isinstance(raw, BaseException):
            self._error = raw
        else:
            self._value = raw if self._conv is None else self._conv(raw)

    @property
    def done(self) -> bool:
        return self._value is not _UNSET or self._error is not None

    def result(self) -> T:
        """The reply, converted; raises the command's error if it failed."""
        if self._error is not None:
            raise self._error
        if self._value is _UNSET:
            raise RedisError("the pipeline has not been executed yet")
        value: T = self._value
        return value

    def __await__(self) -> Generator[Any, None, T]:
        if self._future is not None and not self.done:
            try:
                raw = yield from _as_generator(self._future)
            except ResponseError as e:
                raw = e
            self._resolve(raw)
        return self.result()

    def __repr__(self) -> str:
        state = "error" if self._error is not None else "done" if self.done else "queued"
        return f"<Pending {state}>"


def _as_generator(aw: Awaitable[Any]) -> Generator[Any, None, Any]:
    return aw.__await__()


class Pipeline(PipelineCommands[AnyStr]):
    """A batch of commands sent in one write; see the module docstring."""

    def __init__(self, client: Redis[AnyStr], transaction: bool) -> None:
        self._client: Redis[AnyStr] = client
        self._transaction = transaction
        self._queue: list[tuple[Sequence[Any], Pending[Any]]] = []
        self._conn: Connection | None = None
        self._watching = False
        self._explicit_multi = False
        self._scripts: dict[str, str | bytes] = {}

    def _preload_script(self, sha: str, source: str | bytes) -> None:
        """A Script queued here: SCRIPT LOAD it before the batch is sent."""
        self._scripts[sha] = source

    # The generated methods end here.
    def _call(self, args: Sequence[Any], mode: int, conv: Conv | None) -> Pending[Any]:
        pending: Pending[Any] = Pending(conv)
        if self._watching and not self._explicit_multi:
            assert self._conn is not None
            pending._future = self._conn.send(args)
        else:
            self._queue.append((args, pending))
        return pending

    def __len__(self) -> int:
        return len(self._queue)

    async def __aenter__(self) -> Pipeline[AnyStr]:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.reset()

    async def watch(self, *keys: Any) -> None:
        """WATCH keys; until ``multi()`` the pipeline runs commands at once."""
        if not self._transaction:
            raise RedisError("watch() needs a transactional pipeline: r.pipeline(transaction=True)")
        if self._explicit_multi:
            raise RedisError("watch() must come before multi()")
        if self._conn is None:
            await self._acquire()
        assert self._conn is not None
        self._watching = True
        await self._conn.send(("WATCH", *keys))

    async def unwatch(self) -> None:
        if self._conn is not None and self._watching:
            await self._conn.send(("UNWATCH",))
        self._watching = False

    def multi(self) -> None:
        """Start queueing the transaction's commands (after watch())."""
        if self._explicit_multi:
            raise RedisError("multi() was already called")
        if self._queue:
            raise RedisError("multi() must come before queued commands")
        self._explicit_multi = True

    async def execute(self, raise_on_error: bool = True) -> list[Any]:
        """Send the queued commands in one write and return their results in order.

        A failed command's error is raised after every reply has been read
        (``raise_on_error=True``) or returned in its place.
        """
        queue, self._queue = self._queue, []
        try:
            if self._transaction:
                results = await self._execute_transaction(queue)
            else:
                results = await self._execute_batch(queue)
        finally:
            self._explicit_multi = False
            if self._transaction:
                self._watching = False
                await self._give_back(clean=True)
        if raise_on_error:
            for r in results:
                if isinstance(r, BaseException):
                    raise r
        return results

    async def _execute_batch(self, queue: list[tuple[Sequence[Any], Pending[Any]]]) -> list[Any]:
        if not queue:
            return []
        conn = await self._client._core.connection()
        await self._load_scripts(conn)
        futures = conn.send_many([args for args, _ in queue])
        results: list[Any] = []
        for fut, (_, pending) in zip(futures, queue):
            try:
                raw = await fut
            except ResponseError as e:
                raw = e
            pending._resolve(raw)
            results.append(pending._error if pending._error is not None else pending._value)
        return results

    async def _execute_transaction(
        self, queue: list[tuple[Sequence[Any], Pending[Any]]]
    ) -> list[Any]:
        if self._conn is None:
            await self._acquire()
        conn = self._conn
        assert conn is not None
        await self._load_scripts(conn)
        commands: list[Sequence[Any]] = [("MULTI",), *(args for args, _ in queue), ("EXEC",)]
        futures = conn.send_many(commands)
        queued_error: ResponseError | None = None
        for fut in futures[:-1]:
            try:
                await fut
            except ResponseError as e:
                queued_error = queued_error or e
        try:
            replies = await futures[-1]
        except ResponseError as e:
            # EXECABORT: a command was refused while queueing; report that one.
            raise (queued_error or e) from None
        if replies is None:
            raise WatchError()
        results: list[Any] = []
        for raw, (_, pending) in zip(replies, queue):
            if isinstance(raw, Exception) and not isinstance(raw, ResponseError):
                raw = error_from_reply(str(raw))
            pending._resolve(raw)
            results.append(pending._error if pending._error is not None else pending._value)
        return results

    async def _load_scripts(self, conn: Connection) -> None:
        scripts, self._scripts = self._scripts, {}
        if scripts:
            # Loading is idempotent; EVALSHA in the batch then cannot meet NOSCRIPT.
            for fut in conn.send_many([("SCRIPT", "LOAD", src) for src in scripts.values()]):
                await fut

    async def _acquire(self) -> None:
        self._conn = await self._client._core.pool.acquire()

    async def _give_back(self, clean: bool) -> None:
        conn, self._conn = self._conn, None
        if conn is not None:
            # The pool closes it instead when it is broken or has replies pending.
            self._client._core.pool.release(conn, reuse=clean)

    async def reset(self) -> None:
        """Forget queued commands and return the exclusive connection, clean."""
        self._queue = []
        self._explicit_multi = False
        conn = self._conn
        dirty = False
        if conn is not None and self._watching and conn.is_usable:
            try:
                await asyncio.shield(conn.send(("UNWATCH",)))
            except (RedisError, asyncio.CancelledError):
                dirty = True
        self._watching = False
        await self._give_back(clean=not dirty)
