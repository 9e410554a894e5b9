"""Pub/sub on a cluster: one ``PubSub`` object over as many nodes as needed.

``ClusterPubSub`` is a ``PubSub`` (same methods, ``Message``s, handlers,
``get_message``/``listen``) made of one ordinary ``PubSub`` per node it
talks to, each on a connection of that node's pool:

- SUBSCRIBE / PSUBSCRIBE: on one primary (classic messages reach every node
  of a cluster), chosen at the first subscription.
- SSUBSCRIBE: each shard channel on the primary serving its slot, one
  command per slot; channels of several shards at once are fine.

Every node's messages land in this object's one queue, in the order each
node sent them (no order across nodes). A node subscriber reconnects by
itself after a transient loss and puts the usual ``reconnected`` message in
the stream. When a shard channel's slot is served elsewhere (a reshard: the
server drops the subscription; a failover: its node is gone), its
subscription moves to the new owner once the refreshed topology names it,
and a ``reconnected`` message marks the gap: messages published meanwhile
are lost, as after any reconnect. Classic subscriptions move to another
primary when their node leaves the topology.
"""

from __future__ import annotations

import asyncio
import random
from typing import TYPE_CHECKING, Any, AnyStr, cast

from .. import errors
from ..pubsub import _KINDS, Handler, Message, PubSub
from .routing import key_slot
from .topology import Node

if TYPE_CHECKING:
    from ..types import KeyT
    from .client import RedisCluster

__all__ = ["ClusterPubSub"]

_BACKOFF_MIN = 0.05
_BACKOFF_MAX = 1.0


class _NodePubSub(PubSub[AnyStr]):
    """The subscriber on one node; its messages go to the cluster subscriber's queue."""

    def __init__(self, parent: ClusterPubSub[AnyStr], node: Node) -> None:
        cluster = parent._cluster
        handle: Any = cluster._handle(node)
        super().__init__(handle, ignore_subscribe_messages=parent._ignore)
        self._parent: ClusterPubSub[AnyStr] = parent
        self.node = node

    def _put(self, item: Message[AnyStr] | errors.RedisError) -> None:
        if isinstance(item, errors.MovedError):
            # A resubscribe after a reconnect met a slot served elsewhere now.
            self._parent._rehome_slot(self, item.slot)
            return
        self._parent._put(item)

    def _on_push(self, frame: Any) -> None:
        if isinstance(frame, list) and len(frame) > 1 and _KINDS.get(frame[0]) == "sunsubscribe":
            shards = self._subs["shards"]
            channel = frame[1]
            if channel in shards and not self._restoring:
                # Not asked for: the server dropped it, its slot moved away.
                handler = shards.pop(channel)
                self._parent._rehome(self, {channel: handler})
                return
        super()._on_push(frame)

    def _lost(self) -> None:
        self._parent._node_lost(self)


class ClusterPubSub(PubSub[AnyStr]):
    """A cluster subscriber; see the module docstring. Open it with ``async with``."""

    def __init__(
        self, cluster: RedisCluster[AnyStr], *, ignore_subscribe_messages: bool = False
    ) -> None:
        # PubSub's queue, readers and get_message()/listen() are reused as they
        # are; its connection handling is the node subscribers'.
        super().__init__(cast(Any, cluster), ignore_subscribe_messages=ignore_subscribe_messages)
        self._cluster: RedisCluster[AnyStr] = cluster
        self._ignore = ignore_subscribe_messages
        self._nodes: dict[str, _NodePubSub[AnyStr]] = {}
        self._classic: _NodePubSub[AnyStr] | None = None
        self._tasks: set[asyncio.Task[None]] = set()
        self._watched: set[str] = set()

    # ------------------------------------------------------------ life cycle

    async def __aenter__(self) -> ClusterPubSub[AnyStr]:
        await self._cluster.initialize()
        return self

    async def aclose(self) -> None:
        """Close every node subscriber. Idempotent."""
        self._closed = True
        current = asyncio.current_task()
        for task in list(self._tasks):
            if task is not current:
                task.cancel()
        subs = list(self._nodes.values())
        self._nodes.clear()
        self._classic = None
        await asyncio.gather(*(s.aclose() for s in subs), return_exceptions=True)
        self._wake_readers()

    def _sub(self, node: Node) -> _NodePubSub[AnyStr]:
        sub = self._nodes.get(node.name)
        if sub is None or sub.closed:
            sub = self._nodes[node.name] = _NodePubSub(self, node)
        return sub

    # ---------------------------------------------------------- subscribing

    async def subscribe(self, *channels: KeyT, **handlers: Handler) -> None:
        """SUBSCRIBE on one primary (messages published on any node arrive)."""
        await (await self._classic_sub()).subscribe(*channels, **handlers)

    async def psubscribe(self, *patterns: KeyT, **handlers: Handler) -> None:
        """PSUBSCRIBE on one primary."""
        await (await self._classic_sub()).psubscribe(*patterns, **handlers)

    async def unsubscribe(self, *channels: KeyT) -> None:
        if self._classic is not None:
            await self._classic.unsubscribe(*channels)

    async def punsubscribe(self, *patterns: KeyT) -> None:
        if self._classic is not None:
            await self._classic.punsubscribe(*patterns)

    async def _classic_sub(self) -> _NodePubSub[AnyStr]:
        self._check_open()
        if self._classic is None or self._classic.closed:
            self._classic = self._sub(await self._cluster._dispatch.any_primary())
        return self._classic

    async def ssubscribe(self, *channels: KeyT, **handlers: Handler) -> None:
        """SSUBSCRIBE each channel on the primary serving its slot; returns once every
        node confirmed."""
        self._check_open()
        wanted: dict[Any, Handler | None] = {self._key(c): None for c in channels}
        for name, handler in handlers.items():
            wanted[self._key(name)] = handler
        if not wanted:
            raise errors.DataError("ssubscribe() needs at least one name")
        await self._ssubscribe(wanted)

    async def _ssubscribe(self, wanted: dict[Any, Handler | None]) -> None:
        by_slot: dict[int, dict[Any, Handler | None]] = {}
        encoding = self._cluster._dispatch.encoding
        for name, handler in wanted.items():
            by_slot.setdefault(key_slot(name, encoding), {})[name] = handler
        await asyncio.gather(*(self._ssubscribe_slot(s, names) for s, names in by_slot.items()))

    async def _ssubscribe_slot(self, slot: int, names: dict[Any, Handler | None]) -> None:
        dispatch = self._cluster._dispatch
        for _ in range(dispatch.max_redirects + 1):
            node = await dispatch.owner(slot, 0)
            sub = self._sub(node)
            try:
                await sub._subscribe("shards", "SSUBSCRIBE", (), _table(names))
                return
            except errors.MovedError as exc:
                dispatch.topology.moved(exc.slot, exc.host, exc.port)
        raise errors.ClusterError(f"SSUBSCRIBE: slot {slot} kept moving")

    async def sunsubscribe(self, *channels: KeyT) -> None:
        """SUNSUBSCRIBE from the given shard channels, or from all when none is given."""
        subs = list(self._nodes.values())
        if not channels:
            await asyncio.gather(*(s.sunsubscribe() for s in subs if s.shard_channels))
            return
        names = {self._key(c) for c in channels}
        calls = []
        for sub in subs:
            mine = [n for n in sub.shard_channels if n in names]
            if mine:
                calls.append(sub.sunsubscribe(*mine))
        await asyncio.gather(*calls)

    def _check_open(self) -> None:
        if self._closed:
            raise errors.ConnectionError("pubsub closed")

    @property
    def subscribed(self) -> bool:
        return any(s.subscribed for s in self._nodes.values())

    @property
    def channels(self) -> set[AnyStr]:
        return self._classic.channels if self._classic is not None else set()

    @property
    def patterns(self) -> set[AnyStr]:
        return self._classic.patterns if self._classic is not None else set()

    @property
    def shard_channels(self) -> set[AnyStr]:
        found: set[AnyStr] = set()
        for sub in self._nodes.values():
            found |= sub.shard_channels
        return found

    async def ping(self) -> None:
        """A round trip on every node subscriber."""
        await asyncio.gather(*(s.ping() for s in list(self._nodes.values())))

    # ---------------------------------------------------------- following the slots

    def _spawn(self, coro: Any) -> None:
        if self._closed:
            coro.close()
            return
        task = asyncio.get_running_loop().create_task(coro)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    def _rehome(self, sub: _NodePubSub[AnyStr], names: dict[Any, Handler | None]) -> None:
        """Subscribe ``names`` (dropped by ``sub``'s node) wherever their slots are now."""
        self._spawn(self._move(names))
        self._close_if_idle(sub)

    def _close_if_idle(self, sub: _NodePubSub[AnyStr]) -> None:
        if not sub.subscribed and sub is not self._classic:
            if self._nodes.get(sub.node.name) is sub:
                del self._nodes[sub.node.name]
            self._spawn(sub.aclose())

    def _rehome_slot(self, sub: _NodePubSub[AnyStr], slot: int) -> None:
        encoding = self._cluster._dispatch.encoding
        shards = sub._subs["shards"]
        names = {n: shards.pop(n) for n in list(shards) if key_slot(n, encoding) == slot}
        if names:
            self._rehome(sub, names)

    async def _move(self, names: dict[Any, Handler | None]) -> None:
        delay = _BACKOFF_MIN
        topology = self._cluster._dispatch.topology
        while not self._closed:
            try:
                await topology.refresh()
                await self._ssubscribe(names)
            except errors.RedisError:
                await asyncio.sleep(delay * (0.5 + random.random() / 2))
                delay = min(delay * 2, _BACKOFF_MAX)
                continue
            self._put(Message("reconnected", self._empty, self._empty, None, None))
            return

    def _node_lost(self, sub: _NodePubSub[AnyStr]) -> None:
        if sub.node.name not in self._watched:
            self._watched.add(sub.node.name)
            self._spawn(self._follow(sub))

    async def _follow(self, sub: _NodePubSub[AnyStr]) -> None:
        """While ``sub`` is reconnecting: move what its node no longer serves."""
        delay = _BACKOFF_MIN
        topology = self._cluster._dispatch.topology
        encoding = self._cluster._dispatch.encoding
        try:
            while not self._closed and not sub.closed:
                conn = sub._conn
                if conn is not None and conn.is_usable:
                    return  # it reconnected by itself
                try:
                    await topology.refresh()
                except errors.RedisError:
                    pass
                else:
                    shards = sub._subs["shards"]
                    gone = {
                        n: h
                        for n, h in shards.items()
                        if _owner(topology.slots[key_slot(n, encoding)]) is not sub.node
                    }
                    for n in gone:
                        del shards[n]
                    if gone:
                        self._spawn(self._move(gone))
                    if sub is self._classic and sub.node not in topology.primaries():
                        self._classic = None
                        self._spawn(self._move_classic(sub))
                    if not sub.subscribed or (sub is not self._classic and not shards):
                        self._nodes.pop(sub.node.name, None)
                        await sub.aclose()
                        return
                await asyncio.sleep(delay * (0.5 + random.random() / 2))
                delay = min(delay * 2, _BACKOFF_MAX)
        finally:
            self._watched.discard(sub.node.name)

    async def _move_classic(self, old: _NodePubSub[AnyStr]) -> None:
        channels = dict(old._subs["channels"])
        patterns = dict(old._subs["patterns"])
        old._subs["channels"].clear()
        old._subs["patterns"].clear()
        delay = _BACKOFF_MIN
        while not self._closed:
            try:
                sub = await self._classic_sub()
                if channels:
                    await sub._subscribe("channels", "SUBSCRIBE", (), _table(channels))
                if patterns:
                    await sub._subscribe("patterns", "PSUBSCRIBE", (), _table(patterns))
            except errors.RedisError:
                await asyncio.sleep(delay * (0.5 + random.random() / 2))
                delay = min(delay * 2, _BACKOFF_MAX)
                continue
            self._put(Message("reconnected", self._empty, self._empty, None, None))
            return


def _owner(shard: Any) -> Node | None:
    return None if shard is None else cast(Node, shard.primary)


def _table(names: dict[Any, Handler | None]) -> dict[str, Handler]:
    """Names and handlers (None: to the queue) as ``PubSub._subscribe`` takes them; the
    names stay as they are (bytes or str), ``PubSub._key`` accepts both."""
    return cast("dict[str, Handler]", names)
