"""Sending one command to the right node(s), and recovering when the cluster says no.

``RedisCluster._call`` routes a keyed command itself and hands the future of
the send to ``Dispatcher.finish``; everything else starts here:

- ``execute``: one command to the owner of its slot (or to any primary when
  it has no keys), retried as the cluster requires:

  * ``MOVED slot host:port``: the slot table is updated at once (and
    refreshed in the background) and the command is sent to the new owner.
  * ``ASK slot host:port``: ``ASKING`` and the command, back to back on the
    target's connection, once; the table is not changed.
  * ``TRYAGAIN`` (a multi-key command during a migration), ``CLUSTERDOWN``
    (a failover in progress), ``LOADING``, ``READONLY`` (a write reached a
    node that became a replica): sent again with exponential backoff.
  * A node that cannot be reached (the command never left the process):
    the table is refreshed and the command sent again, to whichever node
    serves the slot by then.
  * A connection lost while the command was in flight: it may have run, so
    it is not sent again, except a read-only command once when
    ``retry_reads`` is on.

  Redirections are capped at ``max_redirects``; the waiting (backoff and
  reconnecting) at ``retry_timeout`` seconds from the first failure; then the
  last error is raised.
- ``fan_out``: ``all_shards`` / ``all_nodes`` commands, in parallel, replies
  aggregated per the spec's ``response_policy`` (``routing.aggregate``).
- ``multi_shard``: MGET, DEL, MSET...: split per slot, sent in parallel,
  merged in the caller's key order (``routing.merge_parts``). Parts that
  succeeded stay applied when another fails: a cluster cannot make them atomic.
- ``special``: ``request_policy:special`` commands: a cursor command (SCAN)
  over every primary behind one cursor; otherwise a random primary.
- ``blocking``: blocking commands on a pooled connection of the owner.
"""

from __future__ import annotations

import asyncio
import random
import time
from collections.abc import Sequence
from typing import Any

from .._base import READ
from ..connection import Connection
from ..errors import (
    AskError,
    BusyLoadingError,
    ClusterDownError,
    ClusterError,
    ConnectionError,
    MovedError,
    ReadOnlyError,
    RedisError,
    TryAgainError,
)
from .routing import (
    CommandRoute,
    RequestPolicy,
    SlotPart,
    aggregate,
    merge_parts,
    split_by_slot,
)
from .topology import Node, Shard, Topology

__all__ = ["Dispatcher"]

BACKOFF_MIN = 0.02
BACKOFF_MAX = 0.5
# A reconnect is awaited in slices this long, so a call notices when the
# refreshed table sends its slot elsewhere (a failover).
RECONNECT_SLICE = 0.5
# How long reads avoid a replica that could not be reached.
DOWN_FOR = 1.0
# From how many parallel calls their replies are collected after one wait per
# connection rather than one await each.
_WAIT_ALL_FROM = 8
# Cursor bits that name the shard (by its lowest slot) in a cluster SCAN cursor.
_SHARD_BITS = 14
_SHARD_MASK = (1 << _SHARD_BITS) - 1

_RETRYABLE = (MovedError, TryAgainError, ClusterDownError, BusyLoadingError, ReadOnlyError)
_RECOVERABLE = (*_RETRYABLE, ConnectionError)


def _name(args: Sequence[Any]) -> str:
    head = args[0]
    if isinstance(head, (bytes, memoryview)):
        head = bytes(head).decode("utf-8", "replace")
    return str(head).upper()


def _consume(fut: asyncio.Future[Any]) -> None:
    if not fut.cancelled():
        fut.exception()


class _Attempt:
    """Where a failed attempt went, and whether the command may have reached it."""

    __slots__ = ("node", "sent")

    def __init__(self, node: Node | None, sent: bool) -> None:
        self.node = node
        self.sent = sent


class Dispatcher:
    """The routing and retry policy shared by a ``RedisCluster`` and its views."""

    __slots__ = (
        "encoding",
        "max_redirects",
        "read_from_replicas",
        "retry_reads",
        "retry_timeout",
        "topology",
    )

    def __init__(
        self,
        topology: Topology,
        *,
        encoding: str,
        read_from_replicas: bool,
        retry_reads: bool,
        max_redirects: int,
        retry_timeout: float,
    ) -> None:
        self.topology = topology
        self.encoding = encoding
        self.read_from_replicas = read_from_replicas
        self.retry_reads = retry_reads
        self.max_redirects = max_redirects
        self.retry_timeout = retry_timeout

    # ------------------------------------------------------------ choosing nodes

    def pick(self, shard: Shard, mode: int) -> Node:
        if mode == READ and self.read_from_replicas and shard.replicas:
            return shard.reader()
        return shard.primary

    async def owner(self, slot: int, mode: int) -> Node:
        """The node to send a command of ``slot`` to; discovers the table if needed."""
        topology = self.topology
        shard = topology.slots[slot]
        if shard is None:
            await topology.refresh()
            shard = topology.slots[slot]
            if shard is None:
                raise ClusterDownError(f"CLUSTERDOWN slot {slot} is not served by any node")
        return self.pick(shard, mode)

    async def any_primary(self) -> Node:
        topology = self.topology
        if not topology.shards:
            await topology.refresh()
        return topology.random_primary()

    # ------------------------------------------------------------ one command

    async def finish(
        self,
        fut: asyncio.Future[Any],
        args: Sequence[Any],
        mode: int,
        slot: int | None,
        node: Node,
        timeout: float | None,
    ) -> Any:
        """Await a command the fast path sent to ``node`` (with ``timeout`` as its
        deadline); recover if the cluster says no."""
        try:
            return await fut
        except _RECOVERABLE as exc:
            return await self.execute(
                args, mode, slot, timeout, error=exc, failed=_Attempt(node, True)
            )

    async def execute(
        self,
        args: Sequence[Any],
        mode: int,
        slot: int | None,
        timeout: float | None,
        *,
        node: Node | None = None,
        error: RedisError | None = None,
        failed: _Attempt | None = None,
        blocking: bool = False,
    ) -> Any:
        """Run one command; see the module docstring for what is retried.

        ``slot`` None: a keyless command, sent to ``node`` if given, else to a
        random primary. ``error``/``failed``: the fast path's attempt already
        failed so. ``blocking``: on a pooled connection of its own.
        """
        topology = self.topology
        loop = asyncio.get_running_loop()
        deadline = 0.0
        delay = BACKOFF_MIN
        redirects = 0
        read_retried = False
        # Where the last MOVED/ASK said to go: used as is for the next attempt,
        # so a refresh that read a stale table cannot send it back.
        redirect: Node | None = None
        asking = False
        attempt = failed or _Attempt(None, False)
        while True:
            if error is None:
                if redirect is not None:
                    target = redirect
                elif node is not None:
                    target = node
                elif slot is None:
                    target = await self.any_primary()
                else:
                    target = await self.owner(slot, mode)
                attempt = _Attempt(target, False)
                try:
                    return await self._attempt(
                        target, args, asking, timeout, deadline, attempt, blocking
                    )
                except _RECOVERABLE as exc:
                    error = exc
            assert error is not None
            err, error = error, None
            redirect, asking = None, False
            if isinstance(err, MovedError):
                redirects += 1
                if redirects > self.max_redirects:
                    raise ClusterError(
                        f"{_name(args)}: gave up after {self.max_redirects} redirections "
                        f"(slot {err.slot}, last: {err})"
                    ) from err
                if isinstance(err, AskError):
                    redirect, asking = topology.ask_target(err.host, err.port), True
                else:
                    redirect = topology.moved(err.slot, err.host, err.port)
                    if node is not None:
                        node = redirect  # a command sent to a given node follows it
                continue
            if not deadline:
                deadline = loop.time() + self.retry_timeout
            if isinstance(err, ConnectionError):
                bad = attempt.node
                if bad is not None:
                    bad.down_until = time.monotonic() + DOWN_FOR
                topology.request_refresh()
                if attempt.sent:
                    # It may have run: only a read may go again, once.
                    if mode != READ or read_retried or not self.retry_reads or blocking:
                        raise err
                    read_retried = True
                    continue
            elif isinstance(err, (ClusterDownError, ReadOnlyError)):
                topology.request_refresh()
            elif isinstance(err, BusyLoadingError) and attempt.node is not None:
                attempt.node.down_until = time.monotonic() + DOWN_FOR  # reads go elsewhere
            remaining = deadline - loop.time()
            if remaining <= 0:
                raise err
            await asyncio.sleep(min(delay * (0.5 + random.random() / 2), remaining))
            delay = min(delay * 2, BACKOFF_MAX)

    async def _attempt(
        self,
        target: Node,
        args: Sequence[Any],
        asking: bool,
        timeout: float | None,
        deadline: float,
        attempt: _Attempt,
        blocking: bool,
    ) -> Any:
        if blocking:
            pool = target.core.pool
            conn = await pool.acquire()
            try:
                attempt.sent = True
                return await self._send(conn, args, asking, timeout)
            finally:
                pool.release(conn)
        conn = await self._connection(target, deadline)
        attempt.sent = True
        return await self._send(conn, args, asking, timeout)

    @staticmethod
    async def _send(
        conn: Connection, args: Sequence[Any], asking: bool, timeout: float | None
    ) -> Any:
        if asking:
            # Back to back on one connection: ASKING applies to the next command only.
            ack, fut = conn.send_many((("ASKING",), args), timeout)
            ack.add_done_callback(_consume)
        else:
            fut = conn.send(args, timeout)
        return await fut

    async def _connection(self, target: Node, deadline: float) -> Connection:
        """``target``'s shared connection; raises ConnectionError (nothing sent) when it
        cannot be had within a slice of the retry budget."""
        core = target.core
        conn = core.conn
        if conn is not None and conn.is_usable:
            return conn
        if conn is None:
            # The first connect: bounded by connect_timeout, fails at once when refused.
            return await core.connection()
        loop = asyncio.get_running_loop()
        budget = self.retry_timeout if not deadline else deadline - loop.time()
        wait = max(min(budget, RECONNECT_SLICE), 0.01)
        try:
            return await asyncio.wait_for(core.connection(), wait)
        except asyncio.TimeoutError:
            raise ConnectionError(f"cannot reconnect to {target.name} within {wait:.2f}s") from None

    # ------------------------------------------------------------ other policies

    async def fan_out(
        self, route: CommandRoute, args: Sequence[Any], mode: int, timeout: float | None
    ) -> Any:
        """An all_shards / all_nodes command on every primary / every node, aggregated."""
        topology = self.topology
        if not topology.shards:
            await topology.refresh()
        if route.request is RequestPolicy.ALL_NODES:
            nodes = topology.all_nodes()
        else:
            nodes = topology.primaries()
        replies = await self._gather_sends([(args, None, n) for n in nodes], mode, timeout)
        return aggregate(route, replies)

    async def multi_shard(
        self,
        route: CommandRoute,
        parts: list[SlotPart],
        mode: int,
        timeout: float | None,
    ) -> Any:
        """The parts of a split command, in parallel; merged per the route."""
        topology = self.topology
        if not topology.initialized:
            await topology.refresh()
        slots = topology.slots
        calls: list[tuple[Sequence[Any], int | None, Node | None]] = []
        for part in parts:
            slot = part.slot
            shard = slots[slot] if slot is not None else None
            calls.append((part.argv, slot, self.pick(shard, mode) if shard is not None else None))
        replies = await self._gather_sends(calls, mode, timeout)
        return merge_parts(route, parts, replies)

    async def _gather_sends(
        self,
        calls: list[tuple[Sequence[Any], int | None, Node | None]],
        mode: int,
        timeout: float | None,
    ) -> list[Any]:
        """Run ``(args, slot, node)`` calls in parallel; replies in order, errors in place.

        A call whose node has a live connection is sent at once and awaited as
        a plain future (no coroutine of its own); the others, and any answered
        MOVED & co., go through ``execute``.
        """
        sent: list[asyncio.Future[Any] | asyncio.Task[Any] | None] = [None] * len(calls)
        # One write per connection for the calls that share it.
        batches: dict[Connection, list[int]] = {}
        for i, (args, slot, node) in enumerate(calls):
            conn = node.core.conn if node is not None else None
            if conn is not None and conn.is_usable:
                batch = batches.get(conn)
                if batch is None:
                    batches[conn] = [i]
                else:
                    batch.append(i)
            else:
                sent[i] = asyncio.ensure_future(
                    self.execute(args, mode, slot, timeout, node=node)
                )
        for conn, indices in batches.items():
            if len(indices) == 1:
                sent[indices[0]] = conn.send(calls[indices[0]][0], timeout)
            else:
                futures = conn.send_many([calls[i][0] for i in indices], timeout)
                for i, one in zip(indices, futures):
                    sent[i] = one
        waited = False
        if len(calls) > _WAIT_ALL_FROM and batches:
            # Many replies: replies come in order on a connection (each with its
            # deadline), so wait for the last of each batch once, then read every
            # future without awaiting it.
            lasts: list[asyncio.Future[Any]] = []
            for indices in batches.values():
                last = sent[indices[-1]]
                assert last is not None
                lasts.append(last)
            try:
                await asyncio.wait(lasts)
            except BaseException:  # cancelled: nobody will read these replies
                for fut in sent:
                    if fut is not None:
                        fut.add_done_callback(_consume)
                raise
            waited = True
        replies: list[Any] = []
        for (args, slot, node), fut in zip(calls, sent):
            assert fut is not None
            try:
                if waited and fut.done():
                    replies.append(fut.result())
                else:
                    replies.append(await fut)
            except _RECOVERABLE as exc:
                if isinstance(fut, asyncio.Task):
                    replies.append(exc)
                    continue
                try:
                    replies.append(
                        await self.execute(
                            args, mode, slot, timeout, node=node if slot is None else None,
                            error=exc, failed=_Attempt(node, True),
                        )
                    )
                except RedisError as again:
                    replies.append(again)
            except RedisError as exc:
                replies.append(exc)
        return replies

    def split(self, route: CommandRoute, args: Sequence[Any]) -> list[SlotPart]:
        return split_by_slot(route, args, self.encoding)

    async def special(self, args: Sequence[Any], mode: int, timeout: float | None) -> Any:
        """A ``request_policy:special`` command: the spec leaves its routing to the client.

        The keyspace-wide cursor commands have this policy (SCAN in the pinned
        specs): a call whose first argument is a cursor (an integer >= 0) is
        walked over every primary behind one cursor (see ``_walk``); any other
        call goes to a random primary.
        """
        topology = self.topology
        if not topology.shards:
            await topology.refresh()
        try:
            cursor = int(args[1])
        except (IndexError, TypeError, ValueError):
            cursor = -1
        if cursor < 0:
            return await self.execute(args, mode, None, timeout)
        return await self._walk(args, cursor, timeout)

    async def _walk(self, args: Sequence[Any], cursor: int, timeout: float | None) -> Any:
        """A cursor command over every primary behind one cursor.

        The cursor returned is ``node_cursor << 14 | first_slot``, where
        ``first_slot`` is the lowest slot of the shard being walked: when a
        node's cursor comes back 0 the walk moves on to the shard with the
        next lowest slot, and returns 0 after the last one. So ``scan_iter``
        (and any loop over SCAN) visits every primary once, with SCAN's
        guarantees on each while the slots stay where they are.
        """
        topology = self.topology
        decode = topology.settings.decode_responses
        node_cursor, first = cursor >> _SHARD_BITS, cursor & _SHARD_MASK
        starts = topology.shard_starts()
        index = next((i for i, (s, _) in enumerate(starts) if s >= first), len(starts))
        if index == len(starts):
            return [b"0" if not decode else "0", []]
        start, shard = starts[index]
        if start != first:
            node_cursor = 0  # that shard is gone: start the next one from its beginning
        reply = await self.execute(
            (args[0], node_cursor, *args[2:]), READ, None, timeout, node=self.pick(shard, READ)
        )
        next_cursor = int(reply[0])
        if next_cursor == 0:
            composite = starts[index + 1][0] if index + 1 < len(starts) else 0
        else:
            composite = next_cursor << _SHARD_BITS | start
        text = str(composite)
        return [text if decode else text.encode(), reply[1]]
