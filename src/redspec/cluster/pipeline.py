"""Pipelines and transactions on a cluster.

``ClusterPipeline`` is a ``Pipeline``: the same generated pipeline methods,
``Pending[T]`` handles, ``execute()`` and WATCH flow. Each command is routed
when it is queued (a command whose keys span slots raises ``CrossSlotError``
there, before anything is sent).

* ``transaction=False``: ``execute()`` groups the commands by the node that
  serves their slot and sends each group in one write, all groups in
  parallel. Commands without keys go to one primary; ``multi_shard``
  commands over several slots (MGET...) and fan-out commands (DBSIZE...)
  run as they would on the client, in parallel with the groups. A group
  holding a blocking command runs on a pooled connection of that node. A
  command answered MOVED/ASK/TRYAGAIN/CLUSTERDOWN (its slot moved while the
  pipeline was built) is sent again on its own, after the others, in queue
  order, following the redirection; the rest are not re-sent. Results come
  back in the caller's order.
* ``transaction=True``: every command must map to one slot (hash tags);
  MULTI ... EXEC run on an exclusive connection of that slot's primary,
  with ``Pipeline``'s own transaction code. ``watch(*keys)`` binds the
  pipeline to the keys' slot. If the slot moved, the server refuses the
  queued commands and EXEC aborts: nothing is applied. Without WATCH the
  transaction is then sent whole to the new owner; with WATCH the
  ``MovedError`` is raised (the watched keys were on the old owner).
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any, AnyStr, cast

from .._base import READ
from ..errors import (
    AskError,
    ConnectionError,
    CrossSlotError,
    DataError,
    MovedError,
    RedisError,
    ResponseError,
)
from ..pipeline import (
    Conv,
    Pending,
    Pipeline,
    _consume,
    _fill,
    _is_blocking,
    _Queue,
    _with_loads,
)
from .dispatch import _RECOVERABLE, Dispatcher, _Attempt
from .routing import RequestPolicy, command_slot, key_slot, route_for, split_by_slot
from .topology import Node

if TYPE_CHECKING:
    from .client import RedisCluster

__all__ = ["ClusterPipeline"]

_KEYED = RequestPolicy.KEYED
_KEYLESS = RequestPolicy.KEYLESS
_MULTI_SHARD = RequestPolicy.MULTI_SHARD

# How a queued command is sent: its slot (or None), its mode, and its kind:
_GROUPED, _BLOCKING, _THROUGH = 0, 1, 2  # in its node's batch; the same, blocking; as rc would
# Packed in one int per queued command (no tuple for the collector to track):
# (slot + 1) << 3 | mode << 2 | kind, slot -1 meaning "no key".
_Route = int


def _pack(slot: int | None, mode: int, kind: int) -> _Route:
    return ((-1 if slot is None else slot) + 1) << 3 | mode << 2 | kind


def _unpack(route: _Route) -> tuple[int | None, int, int]:
    slot = (route >> 3) - 1
    return (None if slot < 0 else slot), (route >> 2) & 1, route & 3


class ClusterPipeline(Pipeline[AnyStr]):
    """A cluster pipeline; see the module docstring. One task queues and executes."""

    def __init__(self, cluster: RedisCluster[AnyStr], transaction: bool) -> None:
        # Pipeline's transaction code talks to ``self._client``: a handle on the
        # node that serves the transaction's slot, bound once it is known.
        super().__init__(cast(Any, cluster), transaction)
        self._cluster: RedisCluster[AnyStr] = cluster
        self._slot: int | None = None  # the transaction's slot, once a key fixed it
        # Queue positions grouped by node as they are queued (one-key commands whose
        # slot has a known owner), valid for the slot table of version _version;
        # the others (_later: position -> packed route) are placed at execute().
        self._groups: dict[Node, list[int]] = {}
        self._later: dict[int, _Route] = {}
        self._modes = bytearray()
        self._version = -1

    # ------------------------------------------------------------ queueing

    def _call(self, args: Sequence[Any], mode: int, conv: Conv | None) -> Pending[Any]:
        route = route_for(args)
        pos = route.first_key
        if pos and route.request is _KEYED and not self._transaction and not route.blocking:
            # The common case, kept short: one key, no transaction to keep on a slot:
            # queued as Pipeline._call queues, and put in its node's group at once.
            dispatch = self._cluster._dispatch
            topology = dispatch.topology
            shard = None
            if pos < len(args):
                shard = topology.slots[key_slot(args[pos], dispatch.encoding)]
            if shard is not None and (self._version == topology.version or not self._groups):
                self._version = topology.version
                node = shard.primary
                if mode == READ and dispatch.read_from_replicas and shard.replicas:
                    node = shard.reader()
                pending: Pending[Any] = Pending(conv)
                queue = self._queue
                group = self._groups.get(node)
                if group is None:
                    self._groups[node] = [len(queue)]
                else:
                    group.append(len(queue))
                queue.append((args, pending))
                self._modes.append(mode)
                return pending
        where = self._route(args, mode)
        pending = super()._call(args, mode, conv)
        if pending._future is None:  # queued (not run at once while watching)
            self._later[len(self._queue) - 1] = where
            self._modes.append(mode)
        return pending

    def _clear_routes(self) -> tuple[dict[Node, list[int]], dict[int, _Route], bytearray, int]:
        taken = (self._groups, self._later, self._modes, self._version)
        self._groups, self._later, self._modes, self._version = {}, {}, bytearray(), -1
        return taken

    def _route(self, args: Sequence[Any], mode: int) -> _Route:
        route = route_for(args)
        dispatch = self._cluster._dispatch
        request = route.request
        slot: int | None = None
        if request is _KEYED:
            slot = command_slot(route, args, dispatch.encoding)
        elif request is _MULTI_SHARD:
            parts = split_by_slot(route, args, dispatch.encoding)
            if len(parts) > 1:
                if self._transaction:
                    raise CrossSlotError(
                        f"CROSSSLOT {route.name} in a transaction: its keys map to slots "
                        f"{', '.join(str(p.slot) for p in parts[:6])}; a transaction runs "
                        "on one slot (give the keys a common hash tag)"
                    )
                return _pack(None, mode, _THROUGH)
            slot = parts[0].slot
        elif request is not _KEYLESS:
            if self._transaction:
                raise DataError(
                    f"{route.name} runs on every node of the cluster: it cannot be part "
                    "of a transaction"
                )
            return _pack(None, mode, _THROUGH)
        if self._transaction and slot is not None:
            if self._slot is None:
                self._slot = slot
            elif slot != self._slot:
                raise CrossSlotError(
                    f"CROSSSLOT {route.name} in a transaction on slot {self._slot}: its keys "
                    f"map to slot {slot}; a transaction runs on one slot (use a hash tag)"
                )
        return _pack(slot, mode, _BLOCKING if route.blocking and _is_blocking(args) else _GROUPED)

    # ------------------------------------------------------------ WATCH flow

    async def watch(self, *keys: Any) -> None:
        """WATCH keys (all in one slot) on the primary serving it; see ``Pipeline.watch``."""
        if not self._transaction:
            raise RedisError(
                "watch() needs a transactional pipeline: rc.pipeline(transaction=True)"
            )
        if keys and self._conn is None:
            route = route_for(("WATCH", *keys))
            slot = command_slot(route, ("WATCH", *keys), self._cluster._dispatch.encoding)
            if slot is not None:
                if self._slot is not None and slot != self._slot:
                    raise CrossSlotError(
                        f"CROSSSLOT WATCH on slot {slot} in a transaction on slot {self._slot}"
                    )
                self._slot = slot
            await self._bind(self._slot)
        try:
            await super().watch(*keys)
        except MovedError as exc:
            # Surfaced (the caller's reads ran nowhere yet); the next try goes right.
            if not isinstance(exc, AskError):
                self._cluster._dispatch.topology.moved(exc.slot, exc.host, exc.port)
            raise

    async def _bind(self, slot: int | None) -> Node:
        """Point ``self._client`` at the node serving ``slot`` (any primary when None)."""
        dispatch = self._cluster._dispatch
        node = await dispatch.owner(slot, 0) if slot is not None else await dispatch.any_primary()
        self._client = self._cluster._handle(node)
        return node

    # ------------------------------------------------------------ executing

    async def _execute_transaction(
        self, queue: _Queue, scripts: dict[str, str | bytes]
    ) -> list[Any]:
        self._clear_routes()
        slot, self._slot = self._slot, None  # the next transaction picks its own
        if self._watching or not queue:
            # Bound by watch() already (or nothing to do).
            return await super()._execute_transaction(queue, scripts)
        dispatch = self._cluster._dispatch
        redirects = 0
        while True:
            await self._bind(slot)
            try:
                return await super()._execute_transaction(queue, scripts)
            except MovedError as exc:
                # EXEC aborted: nothing ran. Send it whole to the new owner.
                redirects += 1
                if isinstance(exc, AskError) or redirects > dispatch.max_redirects:
                    raise
                dispatch.topology.moved(exc.slot, exc.host, exc.port)
                for _, pending in queue:
                    pending._error = None

    async def _execute_batch(self, queue: _Queue, scripts: dict[str, str | bytes]) -> list[Any]:
        groups, later, modes, version = self._clear_routes()
        if not queue:
            return []
        cluster = self._cluster
        dispatch = cluster._dispatch
        timeout = cluster._timeout
        topology = dispatch.topology
        if not topology.initialized:
            await topology.refresh()
        if groups and version != topology.version:
            # The slot table changed since these were grouped: place them again.
            for i in sorted(i for indices in groups.values() for i in indices):
                later[i] = self._route(queue[i][0], modes[i])
            groups = {}
        routed: list[int] = []
        keyless: Node | None = None
        slots = topology.slots
        replica_reads = dispatch.read_from_replicas
        blocking: set[Node] = set()
        placed: set[Node] = set()  # groups that got commands here: put back in queue order
        for i, route in sorted(later.items()):
            kind = route & 3
            mode = (route >> 2) & 1
            slot: int | None = (route >> 3) - 1
            if slot == -1:
                slot = None
            if kind == _THROUGH:
                routed.append(i)
                continue
            if slot is None:
                if keyless is None:
                    keyless = await dispatch.any_primary()
                node = keyless
            else:
                shard = slots[slot]
                if shard is None:
                    node = await dispatch.owner(slot, mode)
                elif replica_reads and mode == READ and shard.replicas:
                    node = shard.reader()
                else:
                    node = shard.primary
            group = groups.get(node)
            if group is None:
                groups[node] = [i]
            else:
                group.append(i)
                placed.add(node)
            if kind == _BLOCKING:
                blocking.add(node)
        for node in placed:
            groups[node].sort()
        replies: list[Any] = [None] * len(queue)
        failed: dict[int, _Attempt] = {}
        loads: list[Any] = []
        erred = False  # some reply is an error: look for redirections

        async def run_group(node: Node, indices: list[int]) -> None:
            nonlocal erred
            commands = [queue[i][0] for i in indices]
            group_replies, group_erred = await self._send_group(
                dispatch, node, commands, scripts, timeout, failed, indices, node in blocking
            )
            if scripts:
                loads.extend(group_replies[: len(scripts)])
                group_replies = group_replies[len(scripts) :]
            for i, reply in zip(indices, group_replies):
                replies[i] = reply
            erred = erred or group_erred

        async def run_routed(i: int) -> None:
            args = queue[i][0]
            try:
                replies[i] = await cluster._call(args, modes[i])
            except RedisError as exc:
                replies[i] = exc

        await asyncio.gather(
            *(run_group(node, indices) for node, indices in groups.items()),
            *(run_routed(i) for i in routed),
        )
        # Redirected or unreachable: each on its own now, in queue order.
        for i, reply in enumerate(replies) if erred or failed else ():
            known = later.get(i)
            through = known is not None and known & 3 == _THROUGH
            if i in failed or (isinstance(reply, _RECOVERABLE) and not through):
                args = queue[i][0]
                mode = modes[i]
                slot = _unpack(known)[0] if known is not None else self._slot_of(args)
                attempt = failed.get(i) or _Attempt(None, True)
                error = reply if isinstance(reply, RedisError) else None
                try:
                    replies[i] = await dispatch.execute(
                        args, mode, slot, timeout, error=error, failed=attempt
                    )
                except RedisError as exc:
                    replies[i] = exc
        return _fill(queue, replies, loads)

    @staticmethod
    async def _send_group(
        dispatch: Dispatcher,
        node: Node,
        commands: list[Sequence[Any]],
        scripts: dict[str, str | bytes],
        timeout: float | None,
        failed: dict[int, _Attempt],
        indices: list[int],
        blocking: bool,
    ) -> tuple[list[Any], bool]:
        """One node's commands in one write: (replies, True if any is an error);
        on failure every reply is that error."""
        batch = _with_loads(scripts, commands)
        try:
            if blocking:
                pool = node.core.pool
                conn = await pool.acquire()
                try:
                    return await _collect(conn.send_many(batch))
                finally:
                    pool.release(conn)
            try:
                conn = await dispatch._connection(node, 0.0)
            except ConnectionError:
                # Never sent: each command is retried on its own.
                for i in indices:
                    failed[i] = _Attempt(node, False)
                return [None] * len(batch), True
            return await _collect(conn.send_many(batch, timeout))
        except RedisError as exc:
            if isinstance(exc, ConnectionError):
                for i in indices:
                    failed[i] = _Attempt(node, True)
            return [exc] * len(batch), True

    def _slot_of(self, args: Sequence[Any]) -> int | None:
        return command_slot(route_for(args), args, self._cluster._dispatch.encoding)

    async def reset(self) -> None:
        self._clear_routes()
        self._slot = None
        await super().reset()


async def _collect(futures: list[asyncio.Future[Any]]) -> tuple[list[Any], bool]:
    """Every reply of one connection's batch in order, error replies in place, and
    whether there is any; a lost connection (or a reply past its deadline) raises.

    Replies arrive in order, so once the last future is done every one is: only
    that one is awaited (``pipeline._gather`` awaits each, which a batch of
    thousands feels).
    """
    if not futures:
        return [], False
    try:
        await asyncio.wait((futures[-1],))
    except BaseException:
        for fut in futures:
            if not fut.done():
                fut.cancel()
            else:
                _consume(fut)
        raise
    replies: list[Any] = []
    erred = False
    append = replies.append
    for fut in futures:
        if not fut.done():  # in order, in practice; waiting costs nothing then
            await asyncio.wait((fut,))
        try:
            append(fut.result())
        except ResponseError as exc:
            append(exc)
            erred = True
        except BaseException:
            for rest in futures:
                _consume(rest)
            raise
    return replies, erred
