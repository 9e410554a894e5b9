"""Pipelines and transactions.

``Pipeline`` carries the generated pipeline methods: each queues a command
and returns a typed ``Pending[T]``; ``execute()`` sends the whole batch in
one write and fills every Pending in order.

* ``transaction=False``: the batch goes over the client's shared multiplexed
  connection (other tasks' commands may run before or after it, never inside
  it: a pipeline is a batch, not an isolation unit). A batch holding a
  blocking command (BLPOP, XREAD BLOCK...) runs on a pooled connection of its
  own instead, so it never stalls the shared one.
* ``transaction=True`` (the default, as in redis-py): MULTI ... EXEC. Without
  WATCH the whole transaction goes over the shared connection as one
  contiguous write, so no other task's command can land inside it. The
  redis-py WATCH flow works as there: ``await p.watch(k)`` takes an
  exclusive connection from the pool and switches the
  pipeline to immediate mode, where ``await p.get(k)`` runs at once; then
  ``p.multi()`` starts queueing; ``execute()`` raises ``WatchError`` when a
  watched key changed. The exclusive connection goes back to the pool clean
  on every exit path: after EXEC it is clean by construction; otherwise
  UNWATCH is sent, and a connection still owing replies (a cancelled or
  timed-out caller) is closed instead of reused. Use the pipeline as
  ``async with`` (or call ``reset()``) so the WATCH exit path runs.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Generator, Sequence
from types import TracebackType
from typing import TYPE_CHECKING, Any, AnyStr, Generic, TypeVar

from ._generated.meta import COMMANDS
from ._generated.pipeline import PipelineCommands
from ._replies import KeepBytes
from .errors import (
    ConnectionError,
    DecodeError,
    RedisError,
    ResponseError,
    WatchError,
    error_from_reply,
)

if TYPE_CHECKING:
    from .client import Redis
    from .connection import Connection

# Covariant: a Pending[bytes] is a Pending[bytes | None] (it only hands values out).
T_co = TypeVar("T_co", covariant=True)
Conv = Callable[[Any], Any]

__all__ = ["Pending", "Pipeline"]

_UNSET: Any = object()

# Commands that may block the connection they run on, as generated methods
# and execute_command usually spell them (mixed case is not recognised).
# XREAD and XREADGROUP block only with BLOCK; the others always may (outside MULTI).
_BLOCKING_NAMES = [
    name for name, meta in COMMANDS.items() if "blocking" in meta["flags"] and " " not in name
]
_BLOCKING: frozenset[str | bytes] = frozenset(
    v for n in _BLOCKING_NAMES for v in (n, n.lower(), n.encode(), n.lower().encode())
)
_BLOCK_WHEN_ASKED: frozenset[str | bytes] = frozenset(
    v for n in ("XREAD", "XREADGROUP") for v in (n, n.lower(), n.encode(), n.lower().encode())
)
_BLOCK_TOKENS: frozenset[str | bytes] = frozenset({"BLOCK", "block", b"BLOCK", b"block"})


def _is_blocking(args: Sequence[Any]) -> bool:
    name = args[0]
    if name not in _BLOCKING:
        return False
    if name in _BLOCK_WHEN_ASKED:
        return any(isinstance(a, (str, bytes)) and a in _BLOCK_TOKENS for a in args)
    return True


def _consume(fut: asyncio.Future[Any]) -> None:
    # A reply nobody awaits (a failed batch, a Pending never awaited): mark
    # its exception retrieved so asyncio does not log it.
    if not fut.cancelled():
        fut.exception()


class Pending(Generic[T_co]):
    """The future result of one queued command; ``result()`` once executed.

    In a watching transaction (immediate mode, between ``watch()`` and
    ``multi()``) the command is sent at once and the Pending is awaitable.
    """

    __slots__ = ("_conv", "_error", "_future", "_value")

    def __init__(self, conv: Conv | None) -> None:
        self._conv = conv
        self._value: Any = _UNSET
        self._error: BaseException | None = None
        self._future: asyncio.Future[Any] | None = None

    def _resolve(self, raw: Any) -> None:
        if isinstance(raw, BaseException):
            if not (isinstance(raw, DecodeError) and type(self._conv) is KeepBytes):
                self._error = raw
                return
            raw = raw.reply  # a binary payload (DUMP): its converter restores the bytes
        try:
            self._value = raw if self._conv is None else self._conv(raw)
        except Exception as exc:  # a reply of an unexpected shape
            self._error = ResponseError(f"cannot convert the reply {raw!r}: {exc}")

    @property
    def done(self) -> bool:
        """True once the reply (or the error) is in."""
        return self._value is not _UNSET or self._error is not None

    def result(self) -> T_co:
        """The reply, converted; raises the command's error if it failed."""
        if self._error is not None:
            raise self._error
        if self._value is _UNSET:
            raise RedisError("the pipeline has not been executed yet")
        value: T_co = self._value
        return value

    def __await__(self) -> Generator[Any, None, T_co]:
        fut = self._future
        if fut is not None and not self.done:
            try:
                raw = yield from fut.__await__()
            except ResponseError as e:
                raw = e
            self._resolve(raw)
        return self.result()

    def __repr__(self) -> str:
        state = "error" if self._error is not None else "done" if self.done else "queued"
        return f"<Pending {state}>"


_Queue = list[tuple[Sequence[Any], "Pending[Any]"]]


class Pipeline(PipelineCommands[AnyStr]):
    """A batch of commands sent in one write; see the module docstring.

    Not shared between tasks: one task queues and executes.
    """

    def __init__(self, client: Redis[AnyStr], transaction: bool) -> None:
        self._client: Redis[AnyStr] = client
        self._transaction = transaction
        self._queue: _Queue = []
        self._conn: Connection | None = None
        self._watching = False
        self._explicit_multi = False
        # SHA1 -> source of the scripts queued here, loaded ahead of the batch.
        self._scripts: dict[str, str | bytes] = {}

    @property
    def transaction(self) -> bool:
        return self._transaction

    @property
    def watching(self) -> bool:
        """True between ``watch()`` and ``execute()``/``reset()``."""
        return self._watching

    # The generated methods end here.
    def _call(self, args: Sequence[Any], mode: int, conv: Conv | None) -> Pending[Any]:
        pending: Pending[Any] = Pending(conv)
        if self._watching and not self._explicit_multi:
            assert self._conn is not None
            fut = self._conn.send(args, self._client._timeout)
            fut.add_done_callback(_consume)
            pending._future = fut
        else:
            self._queue.append((args, pending))
        return pending

    def _call_script(
        self, sha: str, source: str | bytes, args: Sequence[Any], mode: int
    ) -> Pending[Any]:
        """A Script queued here (or run at once while watching), its load handled."""
        if self._watching and not self._explicit_multi:
            assert self._conn is not None
            # SCRIPT LOAD goes out in the same write, just ahead of EVALSHA.
            self._conn.send(("SCRIPT", "LOAD", source), self._client._timeout).add_done_callback(
                _consume
            )
        else:
            self._scripts[sha] = source
        return self._call(args, mode, None)

    def execute_command(self, *args: Any) -> Pending[Any]:
        """Queue a raw command (``"GET", "k"``); its reply is not converted."""
        if not args:
            raise RedisError("execute_command needs at least the command name")
        return self._call(args, 0, None)

    def __len__(self) -> int:
        return len(self._queue)

    def __bool__(self) -> bool:
        return True  # an empty pipeline is still a pipeline, not a false value

    async def __aenter__(self) -> Pipeline[AnyStr]:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.reset()

    # ------------------------------------------------------------ WATCH flow

    async def watch(self, *keys: Any) -> None:
        """WATCH keys; until ``multi()`` the pipeline runs commands at once."""
        if not self._transaction:
            raise RedisError("watch() needs a transactional pipeline: r.pipeline(transaction=True)")
        if self._explicit_multi:
            raise RedisError("watch() must come before multi()")
        if self._queue:
            raise RedisError("watch() must come before any queued command")
        if not keys:
            raise RedisError("watch() needs at least one key")
        if self._conn is None:
            self._conn = await self._client._core.pool.acquire()
        # Watching from here on: whatever happens to the reply, the exit path
        # must UNWATCH (or drop the connection).
        self._watching = True
        await self._conn.send(("WATCH", *keys), self._client._timeout)

    async def unwatch(self) -> None:
        """UNWATCH every key; the pipeline leaves immediate mode."""
        if self._conn is not None and self._watching:
            await self._conn.send(("UNWATCH",), self._client._timeout)
        self._watching = False

    def multi(self) -> None:
        """Start queueing the transaction's commands (after watch())."""
        if not self._transaction:
            raise RedisError("multi() needs a transactional pipeline: r.pipeline(transaction=True)")
        if self._explicit_multi:
            raise RedisError("multi() was already called")
        if self._queue:
            raise RedisError("multi() must come before queued commands")
        self._explicit_multi = True

    # ------------------------------------------------------------ executing

    async def execute(self, raise_on_error: bool = True) -> list[Any]:
        """Send the queued commands in one write and return their results in order.

        A failed command's error is raised after every reply has been read
        (``raise_on_error=True``) or returned in its place. When the whole
        batch fails (connection lost, timeout), that error is raised and each
        unanswered Pending's ``result()`` raises it too. A transaction
        whose watched key changed raises ``WatchError``; one that the server
        refused while queueing (EXECABORT) raises the refusal.
        """
        queue, self._queue = self._queue, []
        scripts, self._scripts = self._scripts, {}
        try:
            if self._transaction:
                results = await self._execute_transaction(queue, scripts)
            else:
                results = await self._execute_batch(queue, scripts)
        except RedisError as exc:
            # A lost connection, a timeout, a WatchError: every command without
            # a reply of its own shares the batch's fate, so result() says why.
            for _, pending in queue:
                if not pending.done:
                    pending._error = exc
            raise
        if raise_on_error:
            for r in results:
                if isinstance(r, BaseException):
                    raise r
        return results

    async def _execute_batch(self, queue: _Queue, scripts: dict[str, str | bytes]) -> list[Any]:
        if not queue:
            return []
        core = self._client._core
        commands = _with_loads(scripts, [args for args, _ in queue])
        if any(_is_blocking(args) for args, _ in queue):
            # A blocking command would stall every user of the shared connection.
            pool = core.pool
            conn = await pool.acquire()
            try:
                # No timeout: the block times are the commands' own business.
                replies = await _gather(conn.send_many(commands))
            finally:
                pool.release(conn)  # closed instead when replies are still owed
        else:
            shared = core.conn
            if shared is None or not shared.is_usable:
                shared = await core.connection()
            replies = await _gather(shared.send_many(commands, self._client._timeout))
        return _fill(queue, replies[len(scripts) :], replies[: len(scripts)])

    async def _execute_transaction(
        self, queue: _Queue, scripts: dict[str, str | bytes]
    ) -> list[Any]:
        if not queue and not self._watching:
            self._explicit_multi = False
            return []
        commands = _with_loads(scripts, [("MULTI",), *(args for args, _ in queue), ("EXEC",)])
        if self._conn is None:
            # No WATCH: MULTI ... EXEC goes over the shared connection in one contiguous
            # write (send_many queues it back to back in one event-loop turn), so no other
            # task's command can fall inside the transaction.
            self._explicit_multi = False
            core = self._client._core
            shared = core.conn
            if shared is None or not shared.is_usable:
                shared = await core.connection()
            replies = await _gather(shared.send_many(commands, self._client._timeout))
            return self._exec_results(queue, scripts, replies)
        pool = self._client._core.pool
        conn = self._conn
        clean = False  # True once EXEC (or its refusal) came back: no state left
        try:
            replies = await _gather(conn.send_many(commands, self._client._timeout))
            clean = True
        finally:
            self._explicit_multi = False
            if clean or not self._watching or conn.pending:
                # Every reply read: the server holds no WATCH. Or the caller
                # gave up mid-batch: the pool closes a connection that still
                # owes replies, which also ends MULTI and WATCH.
                self._watching = False
                self._conn = None
                pool.release(conn)
            else:
                await self._unwatch_and_release()
        return self._exec_results(queue, scripts, replies)

    @staticmethod
    def _exec_results(
        queue: _Queue, scripts: dict[str, str | bytes], replies: list[Any]
    ) -> list[Any]:
        loads, replies = replies[: len(scripts)], replies[len(scripts) :]
        exec_reply = replies[-1]
        if isinstance(exec_reply, ResponseError):
            # EXECABORT: a command was refused while queueing; report that one.
            refused = next((r for r in replies[1:-1] if isinstance(r, ResponseError)), exec_reply)
            for _, pending in queue:
                pending._resolve(refused)
            raise refused
        if exec_reply is None:
            err = WatchError()
            for _, pending in queue:
                pending._resolve(err)
            raise err
        if isinstance(exec_reply, BaseException):
            raise exec_reply
        results = [
            r
            if not isinstance(r, Exception) or isinstance(r, ResponseError)
            else error_from_reply(str(r))
            for r in exec_reply
        ]
        return _fill(queue, results, loads)

    # ------------------------------------------------------------ clean-up

    async def _unwatch_and_release(self) -> None:
        conn, self._conn = self._conn, None
        watching, self._watching = self._watching, False
        if conn is None:
            return
        pool = self._client._core.pool
        if not watching or not conn.is_usable:
            pool.release(conn)
            return
        try:
            await conn.send(("UNWATCH",), self._client._timeout)
        except BaseException:
            pool.release(conn, reuse=False)
            raise
        pool.release(conn)

    async def reset(self) -> None:
        """Forget queued commands and give the exclusive connection back, clean."""
        self._queue = []
        self._scripts = {}
        self._explicit_multi = False
        await self._unwatch_and_release()


def _with_loads(
    scripts: dict[str, str | bytes], commands: list[Sequence[Any]]
) -> list[Sequence[Any]]:
    if not scripts:
        return commands
    # SCRIPT LOAD is idempotent and goes out in the same write, ahead of the
    # batch: its EVALSHA cannot meet NOSCRIPT.
    return [*(("SCRIPT", "LOAD", src) for src in scripts.values()), *commands]


async def _gather(futures: list[asyncio.Future[Any]]) -> list[Any]:
    """Every reply in order, error replies in place; a lost connection or a timeout raises.

    The connection times each reply out (``send_many``'s timeout). On
    cancellation or timeout the remaining futures are failed, so the
    connection drops their late replies (and the pool closes it).
    """
    replies: list[Any] = []
    try:
        for fut in futures:
            try:
                replies.append(await fut)
            except (ResponseError, DecodeError) as e:  # this command's own failure
                replies.append(e)
    except BaseException:
        for fut in futures:
            if not fut.done():
                fut.cancel()
            else:
                _consume(fut)
        raise
    return replies


def _fill(queue: _Queue, replies: list[Any], loads: list[Any]) -> list[Any]:
    load_error = next((r for r in loads if isinstance(r, ResponseError)), None)
    results: list[Any] = []
    for raw, (_, pending) in zip(replies, queue):
        if load_error is not None and isinstance(raw, ResponseError) and raw.code == "NOSCRIPT":
            raw = load_error  # the script did not compile: say why, not NOSCRIPT
        pending._resolve(raw)
        results.append(pending._error if pending._error is not None else pending._value)
    if len(replies) != len(queue):
        raise ConnectionError(
            f"expected {len(queue)} replies from the transaction, got {len(replies)}"
        )
    return results
