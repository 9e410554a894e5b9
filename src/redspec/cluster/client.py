"""``RedisCluster``: every generated command method, routed over a Redis (or Valkey) Cluster.

It carries the same generated mixins and helpers as ``Redis`` (no second
copy of any method); only ``_call`` and ``_call_blocking`` differ. Routing
is compiled from the spec (``routing.py``): a keyed command goes to the
owner of its slot over that node's shared, multiplexed connection (the fast
path: route lookup, CRC16, one table index, one send); MGET/DEL/MSET and
other ``multi_shard`` commands are split per slot and merged in the caller's
key order; ``all_shards``/``all_nodes`` commands (DBSIZE, KEYS, FLUSHALL,
SCRIPT LOAD, CONFIG SET, PING...) fan out and their replies are aggregated
per the spec's response policy, so the typed result is the one ``Redis``
gives; keyless commands go to a random primary; any other command whose
keys span slots raises ``CrossSlotError`` before anything is sent.
Redirections, failovers and retries: see ``dispatch.py``; topology and its
refresh: see ``topology.py``.
"""

from __future__ import annotations

import dataclasses
import inspect
from collections.abc import Awaitable, Callable, Sequence
from types import TracebackType
from typing import TYPE_CHECKING, Any, AnyStr, Literal, overload
from urllib.parse import urlsplit, urlunsplit

from .._base import READ, WRITE
from .._core import ClientCore
from .._generated.client import Commands
from .._settings import ConnectionSettings
from ..client import Redis, _check_int, _check_timeout, _Keywords, prepare_settings
from ..errors import DataError
from ..helpers import ClientHelpers
from ..url import _bool, _seconds, parse_url
from .dispatch import Dispatcher
from .routing import RequestPolicy, command_slot, key_slot, route_for
from .topology import AddressRemap, Node, Topology

if TYPE_CHECKING:
    from typing_extensions import Self, Unpack

    from ..types import KeyT
    from .pipeline import ClusterPipeline
    from .pubsub import ClusterPubSub

__all__ = ["ClusterOptions", "RedisCluster"]

_UNSET: Any = object()
_KEYED = RequestPolicy.KEYED
_KEYLESS = RequestPolicy.KEYLESS
_MULTI_SHARD = RequestPolicy.MULTI_SHARD
_SPECIAL = RequestPolicy.SPECIAL

# Redis's keyword settings and their defaults: one source of truth for both clients.
_REDIS_DEFAULTS: dict[str, Any] = {
    name: p.default
    for name, p in inspect.signature(Redis.__init__).parameters.items()
    if p.kind is inspect.Parameter.KEYWORD_ONLY and name != "decode_responses"
}


class ClusterOptions(_Keywords, total=False):
    """The keyword settings of ``RedisCluster`` besides decode_responses and startup_nodes."""

    read_from_replicas: bool
    address_remap: AddressRemap | None
    refresh_interval: float | None
    max_redirects: int
    retry_timeout: float


_URL_OPTIONS: dict[str, Callable[[str], Any]] = {
    "read_from_replicas": _bool,
    "refresh_interval": _seconds,
    "max_redirects": int,
    "retry_timeout": float,
}


class RedisCluster(ClientHelpers[AnyStr], Commands[AnyStr]):
    """An asyncio client for a Redis (or Valkey) Cluster; the same methods as ``Redis``.

    ``RedisCluster[bytes]`` by default; ``RedisCluster[str]`` with
    ``decode_responses=True``. Nothing connects until the first command (or
    ``async with``, or ``await rc.initialize()``).

    Settings: every keyword setting of ``Redis`` (they apply to each node's
    connections; ``db`` must be 0 and ``unix_socket_path`` is refused), and:

    - ``startup_nodes``: ``[(host, port), ...]`` to discover the cluster from
      (any one that answers will do); ``host``/``port`` add one more.
    - ``read_from_replicas`` (False): send read-only commands (per the spec)
      to the replicas of their shard, in turn, falling back to the primary
      when no replica is reachable. Replicas may lag behind their primary.
    - ``address_remap``: ``(host, port) -> (host, port)``, applied to every
      address the cluster announces (NAT, containers, SSH tunnels).
    - ``refresh_interval`` (60 s; None: never): rediscover the topology
      periodically, besides the refreshes MOVED replies and lost nodes cause.
    - ``max_redirects`` (16): MOVED/ASK redirections followed per command.
    - ``retry_timeout`` (3 s): how long a command keeps retrying through
      CLUSTERDOWN, TRYAGAIN, LOADING and unreachable nodes (a failover)
      before the last error is raised.
    """

    __slots__ = ("_dispatch", "_timeout")

    _dispatch: Dispatcher
    _timeout: float | None

    @overload
    def __init__(
        self: RedisCluster[bytes],
        host: str | None = ...,
        port: int | None = ...,
        *,
        startup_nodes: Sequence[tuple[str, int]] | None = ...,
        decode_responses: Literal[False] = ...,
        **options: Unpack[ClusterOptions],
    ) -> None: ...

    @overload
    def __init__(
        self: RedisCluster[str],
        host: str | None = ...,
        port: int | None = ...,
        *,
        startup_nodes: Sequence[tuple[str, int]] | None = ...,
        decode_responses: Literal[True],
        **options: Unpack[ClusterOptions],
    ) -> None: ...

    @overload
    def __init__(
        self: RedisCluster[Any],
        host: str | None = ...,
        port: int | None = ...,
        *,
        startup_nodes: Sequence[tuple[str, int]] | None = ...,
        decode_responses: bool,
        **options: Unpack[ClusterOptions],
    ) -> None: ...

    def __init__(
        self,
        host: str | None = None,
        port: int | None = None,
        *,
        startup_nodes: Sequence[tuple[str, int]] | None = None,
        decode_responses: bool = False,
        read_from_replicas: bool = False,
        address_remap: AddressRemap | None = None,
        refresh_interval: float | None = 60.0,
        max_redirects: int = 16,
        retry_timeout: float = 3.0,
        **options: Any,
    ) -> None:
        unknown = sorted(set(options) - set(_REDIS_DEFAULTS))
        if unknown:
            raise DataError(f"unknown RedisCluster setting(s): {', '.join(unknown)}")
        if options.get("unix_socket_path") is not None:
            raise DataError("unix_socket_path: a cluster is reached over TCP (startup_nodes)")
        if options.get("db", 0) != 0:
            raise DataError(f"db must be 0 on a cluster, not {options['db']!r}")
        nodes = _startup_nodes(host, port, startup_nodes)
        if address_remap is not None and not callable(address_remap):
            raise DataError("address_remap must be a callable (host, port) -> (host, port)")
        _check_timeout("refresh_interval", refresh_interval)
        _check_timeout("retry_timeout", retry_timeout)
        _check_int("max_redirects", max_redirects, 0, None)
        kw = {**_REDIS_DEFAULTS, **options}
        settings, retry_reads, max_connections, pool_timeout = prepare_settings(
            host=nodes[0][0], port=nodes[0][1], decode_responses=decode_responses, **kw
        )
        if read_from_replicas:
            settings = dataclasses.replace(settings, readonly=True)

        def make_core(node_settings: ConnectionSettings) -> ClientCore:
            return ClientCore(
                node_settings,
                retry_reads=retry_reads,
                max_connections=max_connections,
                pool_timeout=pool_timeout,
            )

        topology = Topology(
            nodes,
            settings,
            make_core,
            address_remap=address_remap,
            refresh_interval=refresh_interval or None,
        )
        self._dispatch = Dispatcher(
            topology,
            encoding=settings.encoding,
            read_from_replicas=read_from_replicas,
            retry_reads=retry_reads,
            max_redirects=max_redirects,
            retry_timeout=float(retry_timeout),
        )
        self._timeout = kw["command_timeout"]

    @overload
    @classmethod
    def from_url(
        cls,
        url: str,
        *,
        decode_responses: Literal[False] = ...,
        startup_nodes: Sequence[tuple[str, int]] | None = ...,
        **settings: Unpack[ClusterOptions],
    ) -> RedisCluster[bytes]: ...

    @overload
    @classmethod
    def from_url(
        cls,
        url: str,
        *,
        decode_responses: Literal[True],
        startup_nodes: Sequence[tuple[str, int]] | None = ...,
        **settings: Unpack[ClusterOptions],
    ) -> RedisCluster[str]: ...

    @overload
    @classmethod
    def from_url(
        cls,
        url: str,
        *,
        decode_responses: bool,
        startup_nodes: Sequence[tuple[str, int]] | None = ...,
        **settings: Unpack[ClusterOptions],
    ) -> RedisCluster[Any]: ...

    @classmethod
    def from_url(cls, url: str, **settings: Any) -> RedisCluster[Any]:
        """A cluster client from ``redis://[user:password@]host:port[,host2:port2...]``.

        Also ``rediss://`` (TLS). Query parameters: every setting of ``Redis``
        and ``read_from_replicas``, ``refresh_interval``, ``max_redirects``,
        ``retry_timeout``; keywords passed here win over the URL. The
        hosts after the first are more startup nodes.
        """
        url, extra_nodes, cluster_options = _split_cluster_url(url)
        options = parse_url(url)
        options.update(cluster_options)
        if extra_nodes:
            options["startup_nodes"] = extra_nodes
        options.update(settings)
        return cls(**options)

    def with_options(self, *, command_timeout: float | None = _UNSET) -> Self:
        """A view with another ``command_timeout``; it shares the nodes and life cycle."""
        view = object.__new__(type(self))
        view._dispatch = self._dispatch
        if command_timeout is _UNSET:
            command_timeout = self._timeout
        _check_timeout("command_timeout", command_timeout)
        view._timeout = command_timeout
        return view

    # ------------------------------------------------------------ sending

    def _call(self, args: Sequence[Any], mode: int) -> Awaitable[Any]:
        route = route_for(args)
        dispatch = self._dispatch
        if route.request is _KEYED:
            # The fast path: one slot, its owner's live shared connection.
            pos = route.first_key
            if pos and pos < len(args):
                slot = key_slot(args[pos], dispatch.encoding)
            else:
                found = command_slot(route, args, dispatch.encoding)
                if found is None:
                    return dispatch.execute(args, mode, None, self._timeout)
                slot = found
            shard = dispatch.topology.slots[slot]
            if shard is not None:
                node = shard.primary
                if mode == READ and dispatch.read_from_replicas and shard.replicas:
                    node = shard.reader()
                conn = node.core.conn
                if conn is not None and conn.is_usable:
                    # The connection keeps the deadline too: it retires itself
                    # when a reply is overdue (redspec._liveness).
                    fut = conn.send(args, self._timeout)
                    return dispatch.finish(fut, args, mode, slot, node, self._timeout)
            return dispatch.execute(args, mode, slot, self._timeout)
        request = route.request
        if request is _KEYLESS:
            return dispatch.execute(args, mode, None, self._timeout)
        if request is _MULTI_SHARD:
            parts = dispatch.split(route, args)
            if len(parts) == 1:
                return dispatch.execute(parts[0].argv, mode, parts[0].slot, self._timeout)
            return dispatch.multi_shard(route, parts, mode, self._timeout)
        if request is _SPECIAL:
            return dispatch.special(args, mode, self._timeout)
        return dispatch.fan_out(route, args, mode, self._timeout)

    def _call_blocking(self, args: Sequence[Any], block: float | None) -> Awaitable[Any]:
        timeout = self._timeout
        if timeout is not None:
            timeout = timeout + block if block else None
        dispatch = self._dispatch
        route = route_for(args)
        slot = command_slot(route, args, dispatch.encoding)
        # On the primary: a blocking read is never re-sent, so a lagging
        # replica could only make it miss entries.
        return dispatch.execute(args, WRITE, slot, timeout, blocking=True)

    def execute_command(self, *args: Any) -> Awaitable[Any]:
        """Send a raw command (``"GET", "k"``), routed like the typed methods; reply unconverted.

        It is treated as a write: never re-sent after a connection loss, never
        sent to a replica.
        """
        if not args:
            raise DataError("execute_command needs at least the command name")
        return self._call(args, WRITE)

    # ------------------------------------------------------------ sessions

    def pipeline(self, transaction: bool = False) -> ClusterPipeline[AnyStr]:
        """Commands for any nodes, sent grouped per node in parallel; results in order.

        Not a transaction by default (``Redis.pipeline()`` is): commands for
        several nodes cannot be one, so this follows redis-py's cluster client.

        ``transaction=True``: MULTI/EXEC (and the WATCH flow) on the primary of
        the one slot its keys map to; see ``redspec.cluster.pipeline``.
        """
        from .pipeline import ClusterPipeline

        return ClusterPipeline(self, transaction)

    def pubsub(self, *, ignore_subscribe_messages: bool = False) -> ClusterPubSub[AnyStr]:
        """A subscriber: SUBSCRIBE/PSUBSCRIBE on one node, SSUBSCRIBE on each channel's
        shard; see ``redspec.cluster.pubsub``. Use it as ``async with rc.pubsub() as ps``."""
        from .pubsub import ClusterPubSub

        return ClusterPubSub(self, ignore_subscribe_messages=ignore_subscribe_messages)

    # ------------------------------------------------------------ topology

    async def initialize(self) -> None:
        """Discover the cluster now (else the first command does)."""
        await self._dispatch.topology.initialize()

    def nodes(self) -> list[Redis[AnyStr]]:
        """A handle (see ``node``) on every node of the last known topology."""
        return [self._handle(n) for n in self._dispatch.topology.all_nodes()]

    def primaries(self) -> list[Redis[AnyStr]]:
        """A handle on every primary of the last known topology."""
        return [self._handle(n) for n in self._dispatch.topology.primaries()]

    def replicas(self) -> list[Redis[AnyStr]]:
        """A handle on every replica of the last known topology."""
        topology = self._dispatch.topology
        return [self._handle(n) for s in topology.shards for n in s.replicas]

    def node(self, host: str, port: int) -> Redis[AnyStr]:
        """A ``Redis`` on one node, for targeted commands (INFO, CONFIG GET, CLIENT LIST...).

        It shares that node's connections with the cluster client; closing
        it does nothing (``rc.aclose()`` closes every node).
        """
        return self._handle(self._dispatch.topology.node(host, port))

    def node_for_key(self, key: KeyT, *, replica: bool = False) -> Redis[AnyStr]:
        """A handle on the primary serving ``key``'s slot (a replica with ``replica=True``)
        in the last known topology; call ``initialize()`` first on a new client."""
        topology = self._dispatch.topology
        slot = key_slot(key, self._dispatch.encoding)
        shard = topology.slots[slot]
        if shard is None:
            raise DataError(f"slot {slot} has no known owner (call initialize() first)")
        return self._handle(shard.reader() if replica else shard.primary)

    def _handle(self, node: Node) -> Redis[AnyStr]:
        return NodeClient._on(node, self._timeout)

    # ------------------------------------------------------------ life cycle

    async def __aenter__(self) -> Self:
        await self.initialize()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        """Close every node's connections; later calls fail with ``ConnectionError``."""
        await self._dispatch.topology.aclose()

    @property
    def settings(self) -> ConnectionSettings:
        """The settings every node connection is opened with (host/port: the first startup node)."""
        return self._dispatch.topology.settings

    @property
    def command_timeout(self) -> float | None:
        return self._timeout

    def __repr__(self) -> str:
        topology = self._dispatch.topology
        state = " closed" if topology.closed else ""
        return (
            f"<{type(self).__name__} {len(topology.shards)} shards "
            f"{len(topology.nodes)} nodes{state}>"
        )


class NodeClient(Redis[AnyStr]):
    """A ``Redis`` on one node of a cluster, sharing the cluster client's connections.

    ``aclose()`` (and leaving ``async with``) does nothing: the cluster
    client owns the connections.
    """

    __slots__ = ("_node",)

    _node: Node

    @classmethod
    def _on(cls, node: Node, timeout: float | None) -> NodeClient[Any]:
        handle: NodeClient[Any] = object.__new__(cls)
        handle._core = node.core
        handle._node = node
        handle._set_timeout(timeout)
        return handle

    def with_options(self, *, command_timeout: float | None = _UNSET) -> Self:
        view = super().with_options(command_timeout=command_timeout)
        view._node = self._node
        return view

    @property
    def node_id(self) -> str:
        return self._node.node_id

    @property
    def is_primary(self) -> bool:
        """Its role in the last known topology."""
        return self._node.primary

    async def aclose(self) -> None:
        """Nothing: the cluster client owns this node's connections."""

    def __repr__(self) -> str:
        role = "primary" if self._node.primary else "replica"
        return f"<NodeClient {self._node.name} {role}>"


def _startup_nodes(
    host: str | None, port: int | None, startup_nodes: Sequence[tuple[str, int]] | None
) -> list[tuple[str, int]]:
    nodes: list[tuple[str, int]] = []
    if host is not None or port is not None:
        nodes.append((host or "localhost", 6379 if port is None else port))
    if startup_nodes is not None:
        if isinstance(startup_nodes, (str, bytes)):
            raise DataError("startup_nodes must be a sequence of (host, port) pairs")
        for item in startup_nodes:
            try:
                h, p = item
            except (TypeError, ValueError):
                raise DataError(
                    f"startup_nodes must hold (host, port) pairs, not {item!r}"
                ) from None
            if not isinstance(h, str) or isinstance(p, bool) or not isinstance(p, int):
                raise DataError(f"startup_nodes must hold (str, int) pairs, not {item!r}")
            nodes.append((h, p))
    return nodes or [("localhost", 6379)]


def _split_cluster_url(url: str) -> tuple[str, list[tuple[str, int]], dict[str, Any]]:
    """(the URL with its first host only, the other hosts, the cluster query parameters)."""
    if not isinstance(url, str):
        raise DataError(f"a URL must be a str, not {type(url).__name__}")
    try:
        parts = urlsplit(url)
    except ValueError:
        raise DataError("malformed URL (check the hosts and ports)") from None
    userinfo, at, hosts = parts.netloc.rpartition("@")
    first, *others = hosts.split(",")
    extra: list[tuple[str, int]] = []
    for item in others:
        h, _, p = item.rpartition(":")
        if not h or not p.isdigit():
            raise DataError("each extra host of a cluster URL needs host:port")
        extra.append((h.strip("[]"), int(p)))
    query: list[str] = []
    cluster_options: dict[str, Any] = {}
    for pair in parts.query.split("&") if parts.query else []:
        name, _, text = pair.partition("=")
        convert = _URL_OPTIONS.get(name)
        if convert is None:
            query.append(pair)
            continue
        if name in cluster_options:
            raise DataError(f"URL parameter {name!r} given twice")
        try:
            cluster_options[name] = convert(text)
        except ValueError:
            raise DataError(f"URL parameter {name}={text!r} is not a valid value") from None
    netloc = f"{userinfo}{at}{first}"
    rebuilt = urlunsplit((parts.scheme, netloc, parts.path, "&".join(query), parts.fragment))
    return rebuilt, extra, cluster_options
