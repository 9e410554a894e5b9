"""The cluster's shape: which node serves which slot, and one ``ClientCore`` per node.

``Topology`` holds a slot table of 16384 entries, each pointing at a
``Shard`` (a primary ``Node`` and its replicas), and one ``Node`` per
address. Every node is served by its own ``ClientCore``, the same one a
``Redis`` client uses (one multiplexed connection, a bounded exclusive pool,
reconnection with backoff, timeouts), so cluster nodes inherit all of it.

Discovery asks any known node for CLUSTER SHARDS (CLUSTER SLOTS on servers
without it). Which address a node is reached at: the preferred endpoint the
server announces (``cluster-announce-ip``/``-hostname`` and
``cluster-preferred-endpoint-type``), falling back to its hostname, then its
ip, then the address of the node that answered; the TLS port when the
client speaks TLS; then ``address_remap(host, port)`` if given (NAT,
containers). A node is identified by that final address: a node that moves
to another address is a new node.

Refreshes are coalesced: one runs at a time; a request made while one runs
schedules one more round after it (the running one may have asked before the
change). Calls never wait for a refresh unless the table cannot serve them
(no owner for their slot); a MOVED reply updates its slot at once and asks
for a background refresh. Nodes that leave the topology are closed after a
grace period, so calls still in flight on them finish.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import random
import time
from collections.abc import Callable, Iterable, Sequence
from typing import Any

from .._base import WRITE
from .._core import ClientCore
from .._settings import ConnectionSettings
from ..connection import Connection
from ..errors import ClusterDownError, ConnectionError, RedisError, ResponseError

__all__ = ["AddressRemap", "Node", "Shard", "Topology"]

SLOT_COUNT = 16384
AddressRemap = Callable[[str, int], tuple[str, int]]
CoreFactory = Callable[[ConnectionSettings], ClientCore]

# Spacing between two refresh rounds: a reshard answers MOVED for slot after
# slot, and each would otherwise ask for a round of its own.
_MIN_REFRESH_GAP = 0.1
# How long a node that left the topology stays open for the calls in flight on it.
_RETIRE_AFTER = 5.0
# A replica that cannot be reached is left alone this long before another try.
_DOWN_FOR = 1.0
_REVIVE_WAIT = 2.0


class Node:
    """One server of the cluster, at one address, with its ``ClientCore``."""

    __slots__ = ("_reviver", "core", "down_until", "host", "name", "node_id", "port", "primary")

    def __init__(self, host: str, port: int, core: ClientCore) -> None:
        self.host = host
        self.port = port
        self.name = _address(host, port)
        self.core = core
        self.node_id = ""
        # Its role in the last table that listed it.
        self.primary = True
        # time.monotonic() until which a failed connect keeps reads away.
        self.down_until = 0.0
        self._reviver: asyncio.Task[None] | None = None

    @property
    def connected(self) -> bool:
        conn = self.core.conn
        return conn is not None and conn.is_usable

    def revive(self) -> None:
        """Reconnect in the background (one attempt at a time); a failure keeps reads
        away for a while."""
        if self._reviver is not None and not self._reviver.done():
            return
        self._reviver = asyncio.get_running_loop().create_task(self._revive())

    async def _revive(self) -> None:
        wait = self.core.settings.connect_timeout or _REVIVE_WAIT
        try:
            await asyncio.wait_for(self.core.connection(), min(wait, _REVIVE_WAIT))
        except (RedisError, asyncio.TimeoutError):
            self.down_until = time.monotonic() + _DOWN_FOR

    def __repr__(self) -> str:
        role = "primary" if self.primary else "replica"
        return f"<Node {self.name} {role}>"


class Shard:
    """A primary and its replicas; ``reader()`` spreads reads over healthy replicas."""

    __slots__ = ("_turn", "primary", "replicas")

    def __init__(self, primary: Node, replicas: Sequence[Node] = ()) -> None:
        self.primary = primary
        self.replicas = tuple(replicas)
        self._turn = 0

    def reader(self) -> Node:
        """The next replica in turn whose connection is up (or not tried yet, and not
        failing); the primary when none is. A replica whose connection was lost is
        reconnected in the background meanwhile."""
        replicas = self.replicas
        count = len(replicas)
        for _ in range(count):
            self._turn = turn = (self._turn + 1) % count
            node = replicas[turn]
            if node.down_until:
                if node.down_until > time.monotonic():
                    continue  # failed lately (unreachable, or LOADING)
                node.down_until = 0.0
            conn = node.core.conn
            if conn is None or conn.is_usable:
                return node  # None: first use, connects inline and fails fast if refused
            node.revive()
        return self.primary

    def __repr__(self) -> str:
        return f"<Shard {self.primary.name} +{len(self.replicas)} replicas>"


class Topology:
    """The slot table, the nodes, and their refresh; see the module docstring."""

    def __init__(
        self,
        startup_nodes: Sequence[tuple[str, int]],
        settings: ConnectionSettings,
        make_core: CoreFactory,
        *,
        address_remap: AddressRemap | None = None,
        refresh_interval: float | None = None,
    ) -> None:
        self.settings = settings
        self._make_core = make_core
        self._remap = address_remap
        self._startup = [self._remapped(h, p) for h, p in startup_nodes]
        self.refresh_interval = refresh_interval
        self.nodes: dict[str, Node] = {}
        # slots[i] is the shard serving slot i; None: nobody (not discovered yet,
        # or the cluster does not cover it).
        self.slots: list[Shard | None] = [None] * SLOT_COUNT
        self.shards: list[Shard] = []
        self.initialized = False
        self.closed = False
        self._refresher: asyncio.Task[None] | None = None
        self._again = False
        self._last_refresh = 0.0
        self._last_error: BaseException | None = None
        self._periodic: asyncio.Task[None] | None = None
        self._retiring: set[asyncio.Task[None]] = set()
        # Bumped whenever the slot table changes; caches below key on it.
        self.version = 0
        self._starts: tuple[int, list[tuple[int, Shard]]] = (-1, [])

    # ------------------------------------------------------------ nodes

    def _remapped(self, host: str, port: int) -> tuple[str, int]:
        if self._remap is None:
            return host, port
        return self._remap(host, port)

    def node(self, host: str, port: int) -> Node:
        """The node at ``host:port`` (after remapping), created if new."""
        name = _address(host, port)
        node = self.nodes.get(name)
        if node is None:
            settings = dataclasses.replace(self.settings, host=host, port=port)
            node = self.nodes[name] = Node(host, port, self._make_core(settings))
        return node

    def find(self, host: str, port: int) -> Node | None:
        return self.nodes.get(_address(host, port))

    def primaries(self) -> list[Node]:
        return [s.primary for s in self.shards]

    def all_nodes(self) -> list[Node]:
        return [n for s in self.shards for n in (s.primary, *s.replicas)]

    def random_primary(self) -> Node:
        shards = self.shards
        if not shards:
            raise ClusterDownError("CLUSTERDOWN the cluster topology is not known yet")
        return shards[random.randrange(len(shards))].primary

    def shard_starts(self) -> list[tuple[int, Shard]]:
        """(lowest slot, shard) of every shard serving slots, by lowest slot."""
        version, starts = self._starts
        if version != self.version:
            lowest: dict[int, tuple[int, Shard]] = {}
            for slot, shard in enumerate(self.slots):
                if shard is not None and id(shard) not in lowest:
                    lowest[id(shard)] = (slot, shard)
            starts = sorted(lowest.values(), key=lambda pair: pair[0])
            self._starts = (self.version, starts)
        return starts

    # ------------------------------------------------------------ redirections

    def moved(self, slot: int, host: str, port: int) -> Node:
        """MOVED slot host:port: that node serves the slot now. Updates the slot at
        once (the node's shard if known, else a shard of its own) and asks for a
        background refresh. Returns the node."""
        host, port = self._remapped(host, port)
        node = self.node(host, port)
        shard = next((s for s in self.shards if s.primary is node), None)
        if shard is None:
            shard = Shard(node)
        if 0 <= slot < SLOT_COUNT:
            self.slots[slot] = shard
            self.version += 1
        self.request_refresh()
        return node

    def ask_target(self, host: str, port: int) -> Node:
        host, port = self._remapped(host, port)
        return self.node(host, port)

    # ------------------------------------------------------------ refreshing

    async def initialize(self) -> None:
        """Discover the topology now (waits for the refresh round)."""
        await self.refresh()

    def request_refresh(self) -> None:
        """Refresh in the background; coalesced with a round already running."""
        if self.closed:
            return
        if self._refresher is not None and not self._refresher.done():
            self._again = True
            return
        self._refresher = asyncio.get_running_loop().create_task(self._refresh_rounds())

    async def refresh(self) -> None:
        """Refresh and wait for it: joins the running round (plus one more when a
        round is already past its question); raises if no node could answer."""
        if self.closed:
            raise ConnectionError("client closed")
        self.request_refresh()
        refresher = self._refresher
        assert refresher is not None
        await asyncio.shield(refresher)
        if not self.initialized:
            err = self._last_error
            raise ConnectionError(
                f"cannot discover the cluster from {', '.join(_address(*a) for a in self._startup)}"
                + (f": {err}" if err is not None else "")
            ) from err

    async def _refresh_rounds(self) -> None:
        loop = asyncio.get_running_loop()
        while True:
            self._again = False
            wait = self._last_refresh + _MIN_REFRESH_GAP - loop.time()
            if wait > 0 and self.initialized:
                await asyncio.sleep(wait)
            self._last_refresh = loop.time()
            try:
                await self._refresh_once()
            except RedisError as exc:
                self._last_error = exc
            if not self._again or self.closed:
                return

    async def _refresh_periodically(self) -> None:
        interval = self.refresh_interval
        assert interval
        while not self.closed:
            await asyncio.sleep(interval)
            self.request_refresh()

    async def _refresh_once(self) -> None:
        errors: list[str] = []
        for host, port in self._candidates():
            try:
                shards = await self._ask(host, port)
            except RedisError as exc:
                errors.append(f"{_address(host, port)}: {exc}")
                continue
            if shards:
                self._install(shards)
                return
            errors.append(f"{_address(host, port)}: no slots are served")
        raise ConnectionError("no node answered CLUSTER SHARDS: " + "; ".join(errors))

    def _candidates(self) -> list[tuple[str, int]]:
        """Where to ask: nodes with a live connection first (no connect needed),
        then the other known nodes, then the startup nodes."""
        known = list(self.all_nodes())
        random.shuffle(known)
        known.sort(key=lambda n: not n.connected)
        seen: set[tuple[str, int]] = set()
        out: list[tuple[str, int]] = []
        for addr in [(n.host, n.port) for n in known] + self._startup:
            if addr not in seen:
                seen.add(addr)
                out.append(addr)
        return out

    async def _ask(self, host: str, port: int) -> list[_ShardInfo]:
        node = self.find(host, port)
        timeout = self.settings.connect_timeout
        if node is not None and node.connected:
            try:
                reply = await node.core.call(("CLUSTER", "SHARDS"), WRITE, timeout)
            except ResponseError as exc:
                if not _unknown_command(exc):
                    raise
                return self._parse_slots(
                    await node.core.call(("CLUSTER", "SLOTS"), WRITE, timeout), host
                )
            return self._parse_shards(reply, host)
        # A one-off connection: it fails at once on a refused connect, where a
        # node's core would keep retrying for connect_timeout.
        settings = dataclasses.replace(self.settings, host=host, port=port, readonly=False)
        try:
            conn = await Connection.open(settings)
        except RedisError:
            raise
        except Exception as exc:  # unmapped: still a RedisError for the caller
            raise ConnectionError(f"cannot connect to {_address(host, port)}: {exc}") from exc
        try:
            try:
                reply = await _with_timeout(conn.send(("CLUSTER", "SHARDS")), timeout)
            except ResponseError as exc:
                if not _unknown_command(exc):
                    raise
                reply = await _with_timeout(conn.send(("CLUSTER", "SLOTS")), timeout)
                return self._parse_slots(reply, host)
            return self._parse_shards(reply, host)
        finally:
            conn.close()

    # ------------------------------------------------------------ parsing

    def _endpoint(self, fields: dict[str, Any], asked_host: str) -> tuple[str, int] | None:
        port = fields.get("tls-port") if self.settings.ssl is not None else None
        if port is None:
            port = fields.get("port")
        if port is None or int(port) == 0:
            return None
        host = ""
        for name in ("endpoint", "hostname", "ip"):
            value = _text(fields.get(name))
            if value and value != "?":
                host = value
                break
        return self._remapped(host or asked_host, int(port))

    def _parse_shards(self, reply: Any, asked_host: str) -> list[_ShardInfo]:
        shards: list[_ShardInfo] = []
        for raw_shard in reply:
            shard = _as_dict(raw_shard)
            slots = [int(x) for x in shard.get("slots") or ()]
            ranges = list(zip(slots[::2], slots[1::2]))
            primary: tuple[str, int, str] | None = None
            replicas: list[tuple[str, int, str]] = []
            for raw_node in shard.get("nodes") or ():
                fields = _as_dict(raw_node)
                where = self._endpoint(fields, asked_host)
                if where is None:
                    continue
                entry = (where[0], where[1], _text(fields.get("id")))
                health = _text(fields.get("health"))
                if _text(fields.get("role")) == "master":
                    if health != "fail" or primary is None:
                        primary = entry
                elif health in ("online", "loading"):
                    # "loading" also means "has replicated nothing yet" (offset 0):
                    # a replica that is really loading answers LOADING, and reads
                    # then avoid it for a while.
                    replicas.append(entry)
            if ranges and primary is not None:
                shards.append((ranges, primary, replicas))
        return shards

    def _parse_slots(self, reply: Any, asked_host: str) -> list[_ShardInfo]:
        shards: list[_ShardInfo] = []
        for first, last, *members in reply:
            nodes = []
            for member in members:
                host = _text(member[0]) if member[0] is not None else ""
                if host == "?":
                    host = ""
                fields = {"ip": host, "port": member[1], "id": member[2] if len(member) > 2 else ""}
                where = self._endpoint(fields, asked_host)
                if where is not None:
                    nodes.append((where[0], where[1], _text(fields["id"])))
            if nodes:
                shards.append(([(int(first), int(last))], nodes[0], nodes[1:]))
        return shards

    # ------------------------------------------------------------ installing

    def _install(self, infos: list[_ShardInfo]) -> None:
        """Swap in a new table built from ``infos``; nodes no longer listed retire."""
        slots: list[Shard | None] = [None] * SLOT_COUNT
        shards: list[Shard] = []
        by_primary: dict[str, Shard] = {}
        for ranges, primary_info, replica_infos in infos:
            primary = self._node_from(primary_info, True)
            shard = by_primary.get(primary.name)
            if shard is None:
                replicas = [self._node_from(r, False) for r in replica_infos]
                shard = by_primary[primary.name] = Shard(primary, replicas)
                shards.append(shard)
            for first, last in ranges:
                for slot in range(max(first, 0), min(last, SLOT_COUNT - 1) + 1):
                    slots[slot] = shard
        # Keep the read rotation of shards that did not change.
        old = {(s.primary.name, tuple(r.name for r in s.replicas)): s for s in self.shards}
        for shard in shards:
            same = old.get((shard.primary.name, tuple(r.name for r in shard.replicas)))
            if same is not None:
                shard._turn = same._turn
        self.slots = slots
        self.shards = shards
        self.version += 1
        self.initialized = True
        self._last_error = None
        if self.refresh_interval and self._periodic is None and not self.closed:
            self._periodic = asyncio.get_running_loop().create_task(self._refresh_periodically())
        listed = {n.name for s in shards for n in (s.primary, *s.replicas)}
        for name in [n for n in self.nodes if n not in listed]:
            self._retire(self.nodes.pop(name))

    def _node_from(self, info: tuple[str, int, str], primary: bool) -> Node:
        host, port, node_id = info
        node = self.node(host, port)
        node.node_id = node_id
        node.primary = primary
        return node

    def _retire(self, node: Node) -> None:
        async def close_later() -> None:
            try:
                await asyncio.sleep(_RETIRE_AFTER)
            finally:
                await node.core.aclose()

        task = asyncio.get_running_loop().create_task(close_later())
        self._retiring.add(task)
        task.add_done_callback(self._retiring.discard)

    # ------------------------------------------------------------ closing

    async def aclose(self) -> None:
        self.closed = True
        tasks = [t for t in (self._refresher, self._periodic) if t is not None]
        for task in tasks:
            task.cancel()
        for task in list(self._retiring):
            task.cancel()  # its finally closes the node at once
        cores = [n.core for n in self.nodes.values()]
        for node in self.nodes.values():
            if node._reviver is not None:
                node._reviver.cancel()
        self.nodes = {}
        await asyncio.gather(*(c.aclose() for c in cores), return_exceptions=True)
        for task in [*tasks, *self._retiring]:
            with contextlib.suppress(BaseException):
                await task


_ShardInfo = tuple[list[tuple[int, int]], tuple[str, int, str], list[tuple[str, int, str]]]


def _address(host: str, port: int) -> str:
    return f"[{host}]:{port}" if ":" in host else f"{host}:{port}"


def _text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bytes):
        return value.decode("utf-8", "replace")
    return str(value)


def _unknown_command(exc: ResponseError) -> bool:
    return "unknown" in str(exc).lower()


def _as_dict(value: Any) -> dict[str, Any]:
    """A RESP3 map or a RESP2 flat list of pairs, with text keys."""
    items: Iterable[tuple[Any, Any]]
    if isinstance(value, dict):
        items = value.items()
    else:
        items = zip(value[::2], value[1::2])
    return {_text(k): v for k, v in items}


async def _with_timeout(fut: asyncio.Future[Any], timeout: float | None) -> Any:
    if timeout is None:
        return await fut
    try:
        return await asyncio.wait_for(fut, timeout)
    except asyncio.TimeoutError:
        raise ConnectionError(f"no reply to CLUSTER SHARDS within {timeout}s") from None
