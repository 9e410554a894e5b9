"""The clients ``Sentinel.master_for`` and ``replica_for`` return: ``Redis`` with a mover.

They are ``Redis`` (the same generated methods, core, pool, pipelines and
pub/sub); what differs:

- their core's ``locate`` hook asks the Sentinel where to connect, before
  every connection attempt (so a connection loss rediscovers);
- their connections report error replies (``Connection.on_error_reply``):
  READONLY or MASTERDOWN to a master client, MASTERDOWN to a replica client,
  means the node is not what it should be, and the service is rediscovered;
- a replica client sends each ordinary command to the next of its cores, one
  per healthy replica (pipelines, blocking commands and pub/sub use the
  first);
- closing one detaches it from its Sentinel.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Coroutine, Sequence
from typing import TYPE_CHECKING, Any, AnyStr

from ..client import _UNSET, Redis
from ..errors import ResponseError
from ._nodes import format_address
from ._service import MasterFollower, ReplicaGroup, Service

if TYPE_CHECKING:
    from typing_extensions import Self

__all__ = ["Attachment", "SentinelMasterClient", "SentinelReplicaClient"]

_SUSPECT_EVERY = 1.0  # seconds: at most one rediscovery per service for such replies


class Attachment:
    """What ties one client (and its ``with_options`` views) to its Sentinel."""

    __slots__ = (
        "_last_suspicion",
        "closed",
        "detach",
        "follower",
        "group",
        "owns_sentinel",
        "service",
        "suspicious",
    )

    def __init__(
        self,
        service: Service,
        detach: Callable[[Attachment], Coroutine[Any, Any, None]],
        suspicious: frozenset[str],
    ) -> None:
        self.service = service
        self.detach = detach
        self.suspicious = suspicious
        self.follower: MasterFollower | None = None
        self.group: ReplicaGroup | None = None
        self.owns_sentinel = False  # from_url: closing the client closes the Sentinel
        self.closed = False
        self._last_suspicion = -_SUSPECT_EVERY

    def observe(self, reply: ResponseError) -> None:
        """Every error reply to this client (Connection.on_error_reply): READONLY,
        MASTERDOWN mean its node is not what it should be."""
        if reply.code in self.suspicious:
            self.suspect(asyncio.get_running_loop().time())

    def suspect(self, now: float) -> None:
        if not self.closed and now - self._last_suspicion >= _SUSPECT_EVERY:
            self._last_suspicion = now
            self.service.suspect()


class _SentinelClient(Redis[AnyStr]):
    __slots__ = ("_attachment",)

    _attachment: Attachment

    def with_options(self, *, command_timeout: float | None = _UNSET) -> Self:
        view = super().with_options(command_timeout=command_timeout)
        view._attachment = self._attachment
        return view

    async def aclose(self) -> None:
        """Close the connections and detach from the Sentinel (see ``Sentinel``)."""
        await super().aclose()
        await self._attachment.detach(self._attachment)

    def _describe(self, role: str, where: str) -> str:
        s = self._core.settings
        tls = " ssl" if s.ssl is not None else ""
        state = " closed" if self._core.closed else ""
        service = self._attachment.service.name
        return f"<{type(self).__name__} {role} of {service!r} at {where} db={s.db}{tls}{state}>"


class SentinelMasterClient(_SentinelClient[AnyStr]):
    """A ``Redis`` that always talks to the current master of a Sentinel service."""

    __slots__ = ()

    def __repr__(self) -> str:
        master = self._attachment.service.master
        where = format_address(master) if master is not None else "(not discovered yet)"
        return self._describe("master", where)


class SentinelReplicaClient(_SentinelClient[AnyStr]):
    """A ``Redis`` whose reads go round the healthy replicas of a Sentinel service."""

    __slots__ = ()

    def _call(self, args: Sequence[Any], mode: int) -> Awaitable[Any]:
        group = self._attachment.group
        assert group is not None
        cores = group.cores
        if len(cores) == 1:
            core = cores[0]
        else:
            turn = group.turn = (group.turn + 1) % len(cores)
            core = cores[turn]
        conn = core.conn
        if conn is not None and mode <= self._fast_max and conn.is_usable:
            return conn.send(args, self._timeout)  # the connection keeps the deadline
        return core.call(args, mode, self._timeout)

    def __repr__(self) -> str:
        group = self._attachment.group
        places = [p for p in group.places.values() if p is not None] if group else []
        where = ", ".join(format_address(p) for p in places) or "(not discovered yet)"
        return self._describe("replicas", where)
