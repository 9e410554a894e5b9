"""``Sentinel``: clients for services monitored by Redis Sentinel.

    s = redspec.Sentinel([("10.0.0.1", 26379), ("10.0.0.2", 26379)], sentinel_password=...)
    m = s.master_for("mymaster", decode_responses=True)   # Redis[str], always on the master
    r = s.replica_for("mymaster")                         # Redis[bytes], reads over replicas
    async with s, m, r: ...

The contract:

- Discovery asks the sentinels in turn (the last one that answered first)
  for the master (``SENTINEL GET-MASTER-ADDR-BY-NAME``, with the
  ``config-epoch`` of ``SENTINEL MASTER`` when the sentinel's ACL allows it)
  and checks it with ROLE before any command is sent there (the data user
  needs the ROLE command). An answer from an older configuration than one
  already seen is skipped. No sentinel answering, none knowing the service,
  or none naming a node that says ROLE master: ``MasterNotFoundError``
  (a ``ConnectionError``), naming the service and what each sentinel said.
- Following: one background subscription per Sentinel object (to one
  sentinel at a time, the next one when it is lost) on ``+switch-master``,
  ``+promoted-slave`` and the replica-set events. On a switch, every
  master_for client of the service moves its shared connection and its pool
  at once. READONLY or MASTERDOWN replies, connection loss, and a check every
  ``check_interval`` seconds rediscover too.
- Commands in flight on the old master when a client moves fail with
  ``ConnectionError`` (they may or may not have run there); they are never
  re-sent. Commands sent after the move go to the new master: ordinary
  commands, blocking commands, pipelines and transactions. Pub/sub
  subscribers reconnect to the new master, subscribe again and get a
  ``reconnected`` message.
- ``replica_for`` clients send each ordinary command to the next healthy
  replica (no ``s_down``, ``o_down`` or ``disconnected`` flag in ``SENTINEL
  REPLICAS``, and reporting the replica role); when there is none, to the
  master (``master_fallback=True``, the default) or they fail with
  ``ReplicaNotFoundError``.
- Settings: the keyword settings of ``Redis`` (credentials, TLS, timeouts,
  pool) apply to the data nodes, given to ``Sentinel`` or per client to
  ``master_for``/``replica_for``. The sentinels have their own:
  ``sentinel_username``, ``sentinel_password``, ``sentinel_ssl`` and
  ``sentinel_ssl_*`` (as ``ssl_*`` on ``Redis``), and ``sentinel_timeout``
  (1.0 s: connect and reply timeout of each sentinel query, so a dead
  sentinel costs at most that before the next one is asked). Passwords never
  appear in reprs or errors.

Ownership: a Sentinel owns the clients it made. ``Sentinel.aclose()`` (or
leaving ``async with``) closes every one of them, its sentinel connections
and its background task. Closing a client detaches it; when the last client
of a Sentinel is closed, its background task stops and its sentinel
connections close (a later client starts them again), so a program that
only closes its clients leaks nothing. A client made by
``Redis.from_url("redis+sentinel://...")`` owns its Sentinel and closes it.
"""

from __future__ import annotations

import dataclasses
import ssl as _ssl
from collections.abc import Iterable
from types import TracebackType
from typing import TYPE_CHECKING, Any, Literal, TypedDict, overload

from .._core import ClientCore
from .._settings import ConnectionSettings
from ..client import Redis, _check_timeout, _ssl_context
from ..errors import DataError
from ..url import parse_sentinel_url
from ._clients import (
    Attachment,
    SentinelMasterClient,
    SentinelReplicaClient,
    _SentinelClient,
)
from ._nodes import SentinelNodes, format_address
from ._service import MasterFollower, ReplicaGroup, Service
from ._watch import Watcher

if TYPE_CHECKING:
    from typing_extensions import Self, Unpack

__all__ = ["Sentinel", "SentinelClientOptions", "client_from_url"]

_MASTER_SUSPICIOUS = frozenset({"READONLY", "MASTERDOWN"})
_REPLICA_SUSPICIOUS = frozenset({"MASTERDOWN"})


class SentinelClientOptions(TypedDict, total=False):
    """The ``Redis`` settings that apply to the data nodes (no host, port or unix socket)."""

    db: int
    username: str | None
    password: str | None
    ssl: _ssl.SSLContext | bool | None
    protocol: int
    encoding: str
    connect_timeout: float | None
    command_timeout: float | None
    max_connections: int
    pool_timeout: float | None
    client_name: str | None
    retry_reads: bool
    ssl_ca_certs: str | None
    ssl_certfile: str | None
    ssl_keyfile: str | None
    ssl_cert_reqs: str | None
    ssl_check_hostname: bool | None


def _sentinel_addresses(sentinels: Iterable[tuple[str, int]]) -> list[tuple[str, int]]:
    if isinstance(sentinels, (str, bytes)):
        raise DataError("sentinels must be a list of (host, port) pairs, not a string")
    out: list[tuple[str, int]] = []
    for entry in sentinels:
        if (
            not isinstance(entry, tuple)
            or len(entry) != 2
            or not isinstance(entry[0], str)
            or isinstance(entry[1], bool)
            or not isinstance(entry[1], int)
            or not 0 < entry[1] < 65536
        ):
            raise DataError(f"sentinels: each entry must be a (host, port) pair, not {entry!r}")
        if entry not in out:
            out.append(entry)
    if not out:
        raise DataError("sentinels: give at least one (host, port) pair")
    return out


class Sentinel:
    """Clients for the services a set of sentinels monitors; see the module docstring."""

    def __init__(
        self,
        sentinels: Iterable[tuple[str, int]],
        *,
        sentinel_username: str | None = None,
        sentinel_password: str | None = None,
        sentinel_ssl: _ssl.SSLContext | bool | None = None,
        sentinel_ssl_ca_certs: str | None = None,
        sentinel_ssl_certfile: str | None = None,
        sentinel_ssl_keyfile: str | None = None,
        sentinel_ssl_cert_reqs: str | None = None,
        sentinel_ssl_check_hostname: bool | None = None,
        sentinel_timeout: float | None = 1.0,
        check_interval: float = 5.0,
        **settings: Unpack[SentinelClientOptions],
    ) -> None:
        addresses = _sentinel_addresses(sentinels)
        for refused in ("decode_responses", "unix_socket_path", "host", "port"):
            if refused in settings:
                where = "master_for/replica_for" if refused == "decode_responses" else "nobody"
                raise DataError(f"Sentinel does not take {refused} (it belongs to {where})")
        _check_timeout("sentinel_timeout", sentinel_timeout)
        if isinstance(check_interval, bool) or not isinstance(check_interval, (int, float)):
            raise DataError(f"check_interval must be a number of seconds, not {check_interval!r}")
        if check_interval <= 0:
            raise DataError(f"check_interval must be > 0, not {check_interval!r}")
        self._options: dict[str, Any] = dict(settings)
        # Built once to validate the settings (nothing connects).
        self.data_settings: ConnectionSettings = Redis(**self._options).settings
        context = _ssl_context(
            sentinel_ssl,
            sentinel_ssl_ca_certs,
            sentinel_ssl_certfile,
            sentinel_ssl_keyfile,
            sentinel_ssl_cert_reqs,
            sentinel_ssl_check_hostname,
        )
        sentinel_settings = dataclasses.replace(
            Redis(
                username=sentinel_username,
                password=sentinel_password,
                protocol=self.data_settings.protocol,
                connect_timeout=sentinel_timeout,
            ).settings,
            ssl=context,
        )
        self.nodes = SentinelNodes(addresses, sentinel_settings)
        self._services: dict[str, Service] = {}
        self._attachments: dict[Attachment, _SentinelClient[Any]] = {}
        self._watcher = Watcher(self.nodes, self._services, float(check_interval), sentinel_timeout)
        self._closed = False

    # ------------------------------------------------------------ clients

    @overload
    def master_for(
        self,
        service_name: str,
        *,
        decode_responses: Literal[False] = ...,
        **settings: Unpack[SentinelClientOptions],
    ) -> Redis[bytes]: ...

    @overload
    def master_for(
        self,
        service_name: str,
        *,
        decode_responses: Literal[True],
        **settings: Unpack[SentinelClientOptions],
    ) -> Redis[str]: ...

    @overload
    def master_for(
        self,
        service_name: str,
        *,
        decode_responses: bool,
        **settings: Unpack[SentinelClientOptions],
    ) -> Redis[Any]: ...

    def master_for(
        self, service_name: str, *, decode_responses: bool = False, **settings: Any
    ) -> Redis[Any]:
        """A client of the service's current master; ``settings`` override the Sentinel's."""
        service = self._service(service_name)
        client: SentinelMasterClient[Any] = self._client(
            SentinelMasterClient, service, decode_responses, settings
        )
        attachment = Attachment(service, self._detach, _MASTER_SUSPICIOUS)
        client._core.on_error_reply = attachment.observe
        attachment.follower = MasterFollower(service, client._core)
        service.masters.add(attachment.follower)
        self._attach(client, attachment)
        return client

    @overload
    def replica_for(
        self,
        service_name: str,
        *,
        decode_responses: Literal[False] = ...,
        master_fallback: bool = ...,
        **settings: Unpack[SentinelClientOptions],
    ) -> Redis[bytes]: ...

    @overload
    def replica_for(
        self,
        service_name: str,
        *,
        decode_responses: Literal[True],
        master_fallback: bool = ...,
        **settings: Unpack[SentinelClientOptions],
    ) -> Redis[str]: ...

    @overload
    def replica_for(
        self,
        service_name: str,
        *,
        decode_responses: bool,
        master_fallback: bool = ...,
        **settings: Unpack[SentinelClientOptions],
    ) -> Redis[Any]: ...

    def replica_for(
        self,
        service_name: str,
        *,
        decode_responses: bool = False,
        master_fallback: bool = True,
        **settings: Any,
    ) -> Redis[Any]:
        """A client whose commands go round the service's healthy replicas.

        With ``master_fallback`` (the default) it uses the master while no
        replica is healthy; without, it raises ``ReplicaNotFoundError`` then.
        """
        service = self._service(service_name)
        client: SentinelReplicaClient[Any] = self._client(
            SentinelReplicaClient, service, decode_responses, settings
        )
        home = client._core
        attachment = Attachment(service, self._detach, _REPLICA_SUSPICIOUS)
        home.on_error_reply = attachment.observe

        def make_core(settings: ConnectionSettings) -> ClientCore:
            core = ClientCore(
                settings,
                retry_reads=home.retry_reads,
                max_connections=1,  # only the shared connection is used
                pool_timeout=None,
            )
            core.on_error_reply = attachment.observe
            return core

        attachment.group = ReplicaGroup(service, home, make_core, bool(master_fallback))
        service.groups.add(attachment.group)
        self._attach(client, attachment)
        return client

    def _service(self, name: str) -> Service:
        if self._closed:
            raise DataError("this Sentinel is closed")
        if not isinstance(name, str) or not name or any(c.isspace() for c in name):
            raise DataError(f"service_name must be a non-empty name without spaces, not {name!r}")
        service = self._services.get(name)
        if service is None:
            service = self._services[name] = Service(name, self)
        return service

    def _client(
        self, cls: type[Any], service: Service, decode_responses: bool, settings: dict[str, Any]
    ) -> Any:
        for refused in ("unix_socket_path", "host", "port"):
            if refused in settings:
                raise DataError(f"{refused} is chosen by the sentinels, not given")
        host, port = service.master or ("localhost", 6379)  # replaced before any connect
        return cls(host, port, decode_responses=decode_responses, **{**self._options, **settings})

    def _attach(self, client: _SentinelClient[Any], attachment: Attachment) -> None:
        client._attachment = attachment
        self._attachments[attachment] = client

    async def _detach(self, attachment: Attachment) -> None:
        if attachment.closed:
            return
        attachment.closed = True
        service = attachment.service
        if attachment.follower is not None:
            service.masters.discard(attachment.follower)
        if attachment.group is not None:
            service.groups.discard(attachment.group)
            await attachment.group.aclose()
        self._attachments.pop(attachment, None)
        if not self._attachments:
            await self._rest()
        if attachment.owns_sentinel:
            await self.aclose()

    async def _rest(self) -> None:
        """No client left: stop the background work and close the sentinel connections."""
        await self._watcher.stop()
        for service in self._services.values():
            await service.stop()
            # Nobody listened meanwhile: the next client must look again.
            service.master = None
            service.replicas = None
        await self.nodes.aclose()

    def ensure_watching(self) -> None:
        """Start the background subscription (called when a client connects)."""
        if not self._closed and self._attachments:
            self._watcher.ensure_running()

    # ------------------------------------------------------------ direct queries

    async def discover_master(self, service_name: str) -> tuple[str, int]:
        """The service's master address, checked with ROLE (MasterNotFoundError if none)."""
        return await self._service(service_name).discover(fresh=True)

    async def discover_replicas(self, service_name: str) -> list[tuple[str, int]]:
        """The service's healthy replicas, per ``SENTINEL REPLICAS``."""
        return list(await self._service(service_name).refresh_replicas())

    # ------------------------------------------------------------ life cycle

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        """Close every client made here, the background task and the sentinel connections."""
        if self._closed:
            return
        self._closed = True
        for client in list(self._attachments.values()):
            await client.aclose()
        await self._rest()

    @property
    def closed(self) -> bool:
        return self._closed

    @property
    def watching(self) -> tuple[str, int] | None:
        """The sentinel whose events this object receives now (None: not subscribed)."""
        return self._watcher.subscribed_to

    @property
    def sentinels(self) -> list[tuple[str, int]]:
        """The sentinel addresses, in the order they are asked next."""
        return self.nodes.order()

    def __repr__(self) -> str:
        where = ", ".join(format_address(a) for a in self.nodes.order())
        state = " closed" if self._closed else ""
        return f"<Sentinel {where}{state}>"


_SENTINEL_KEYWORDS = frozenset(
    {
        "sentinel_username",
        "sentinel_password",
        "sentinel_ssl",
        "sentinel_ssl_ca_certs",
        "sentinel_ssl_certfile",
        "sentinel_ssl_keyfile",
        "sentinel_ssl_cert_reqs",
        "sentinel_ssl_check_hostname",
        "sentinel_timeout",
        "check_interval",
    }
)


def client_from_url(url: str, settings: dict[str, Any]) -> Redis[Any]:
    """``Redis.from_url`` of a ``redis+sentinel://`` URL: a master client owning its Sentinel."""
    sentinels, service, options = parse_sentinel_url(url)
    options.update(settings)
    decode = bool(options.pop("decode_responses", False))
    for refused in ("host", "port", "unix_socket_path"):
        if refused in options:
            raise DataError(f"{refused} is chosen by the sentinels of a sentinel URL")
    sentinel_options = {k: options.pop(k) for k in list(options) if k in _SENTINEL_KEYWORDS}
    owner = Sentinel(sentinels, **sentinel_options, **options)
    client = owner.master_for(service, decode_responses=decode)
    assert isinstance(client, _SentinelClient)
    client._attachment.owns_sentinel = True
    return client
