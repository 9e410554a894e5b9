"""One monitored service (a master name): where its master and replicas are, and who follows.

Discovery asks the sentinels in turn for ``SENTINEL MASTER`` (its
``config-epoch``) and ``SENTINEL GET-MASTER-ADDR-BY-NAME`` in one round trip,
checks the named node with ROLE, and promotes the sentinel that answered to
the front. Two rules keep a client off a demoted master:

- an answer from an older configuration than one already seen (a lower
  config-epoch: a sentinel that has not heard of the failover yet) is
  skipped, because the old master keeps saying ROLE master for seconds after
  the switch, until a sentinel reconfigures it;
- a discovery commits only if no newer configuration was committed while it
  ran.

Each commit moves every client that follows the service (``ClientCore.relocate``)
when the address changed. Concurrent rediscoveries after a connection loss
share one run; an event from a sentinel starts a fresh one that asks that
sentinel first.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Coroutine
from typing import TYPE_CHECKING, Any

from .._core import ClientCore
from .._settings import ConnectionSettings
from ..errors import AuthenticationError, ConnectionError, RedisError, ResponseError
from ._nodes import SentinelNodes, at, format_address, probe_role
from ._wire import (
    Address,
    Event,
    MasterNotFoundError,
    ReplicaNotFoundError,
    parse_config_epoch,
    parse_master_address,
    parse_replicas,
)

if TYPE_CHECKING:
    from typing import Protocol

    class Owner(Protocol):
        """What a Service needs from its Sentinel."""

        nodes: SentinelNodes
        data_settings: ConnectionSettings

        def ensure_watching(self) -> None: ...


__all__ = ["MasterFollower", "ReplicaGroup", "Service"]


async def _guarded(aw: Awaitable[None]) -> None:
    """A locate hook's work; anything but a RedisError (a bug) still reaches the
    caller as one, since the core waits for RedisErrors only."""
    try:
        await aw
    except RedisError:
        raise
    except Exception as exc:
        # Only the class name: the text might quote a setting.
        raise ConnectionError(f"cannot locate the server: {type(exc).__name__}") from exc


def _retrieve(task: asyncio.Future[Any]) -> None:
    if not task.cancelled():
        task.exception()


def _not_found(name: str, reasons: list[str], answered: int, unknown: int) -> MasterNotFoundError:
    if not answered:
        what = "no sentinel answered about service"
    elif unknown == answered:
        what = "no sentinel knows service"
    else:
        what = "no sentinel named a usable master for service"
    return MasterNotFoundError(f"{what} {name!r}: {'; '.join(reasons)}")


class Service:
    """What one Sentinel object knows of one service, and the clients that follow it."""

    def __init__(self, name: str, owner: Owner) -> None:
        self.name = name
        self.owner = owner
        self.master: Address | None = None
        self.config_epoch = -1
        # Bumped by every committed discovery; a follower that saw the current
        # generation and lost its connection asks again instead of trusting it.
        self.generation = 0
        self.replicas: list[Address] | None = None  # healthy ones; None: never asked
        self.replica_generation = 0
        self.masters: set[MasterFollower] = set()
        self.groups: set[ReplicaGroup] = set()
        self._discovery: asyncio.Task[Address] | None = None
        self._replica_fetch: asyncio.Task[list[Address]] | None = None
        self._tasks: set[asyncio.Task[Any]] = set()

    @property
    def followed(self) -> bool:
        return bool(self.masters or self.groups)

    # ------------------------------------------------------------ the master

    async def discover(
        self,
        template: ConnectionSettings | None = None,
        *,
        first: Address | None = None,
        fresh: bool = False,
    ) -> Address:
        """The verified master's address; raises MasterNotFoundError (or AuthenticationError).

        Without ``fresh`` a discovery already running is joined.
        """
        running = self._discovery
        if fresh or running is None or running.done():
            running = asyncio.get_running_loop().create_task(
                self._discover(template or self.probe_template(), first)
            )
            running.add_done_callback(_retrieve)
            if not fresh or self._discovery is None or self._discovery.done():
                self._discovery = running
        return await asyncio.shield(running)

    async def _discover(self, template: ConnectionSettings, first: Address | None) -> Address:
        nodes = self.owner.nodes
        name = self.name
        reasons: list[str] = []
        answered = unknown = 0
        verdicts: dict[Address, str | None] = {}
        auth_failures: list[AuthenticationError] = []
        for sentinel in nodes.order(first):
            where = f"sentinel {format_address(sentinel)}"
            try:
                info, reply = await nodes.query(
                    sentinel,
                    [("SENTINEL", "MASTER", name), ("SENTINEL", "GET-MASTER-ADDR-BY-NAME", name)],
                )
                answered += 1
                if isinstance(reply, ResponseError):
                    raise reply
                master = parse_master_address(reply)
                # A sentinel whose ACL refuses SENTINEL MASTER still names the
                # master; without its epoch, that answer cannot be ranked.
                epoch = None if isinstance(info, ResponseError) else parse_config_epoch(info)
            except RedisError as exc:
                reasons.append(f"{where}: {exc}")
                if isinstance(exc, AuthenticationError):
                    auth_failures.append(exc)
                continue
            if master is None:
                unknown += 1
                reasons.append(f"{where} does not know it")
                continue
            if epoch is not None and epoch < self.config_epoch:
                reasons.append(
                    f"{where} names {format_address(master)} from an older configuration "
                    f"(epoch {epoch} < {self.config_epoch})"
                )
                continue
            if master not in verdicts:
                verdicts[master] = await self._check_master(template, master)
            why = verdicts[master]
            if why is not None:
                reasons.append(f"{where} names {format_address(master)}, which {why}")
                continue
            nodes.promote(sentinel)
            return self._commit(master, epoch)
        if auth_failures and len(auth_failures) == len(reasons):
            raise AuthenticationError(
                f"every sentinel refused the sentinel credentials (service {name!r}): "
                + "; ".join(reasons)
            ) from auth_failures[-1]
        raise _not_found(name, reasons, answered, unknown)

    async def _check_master(self, template: ConnectionSettings, master: Address) -> str | None:
        """None if ``master`` says ROLE master, else why not."""
        try:
            role = await probe_role(at(template, master))
        except AuthenticationError:
            raise  # the data credentials are wrong: no other answer can help
        except RedisError as exc:
            return f"does not answer ROLE ({exc})"
        return None if role == "master" else f"says it is a {role}"

    def _commit(self, master: Address, epoch: int | None) -> Address:
        if epoch is not None and epoch < self.config_epoch and self.master is not None:
            return self.master  # a newer configuration was committed meanwhile
        if epoch is not None:
            self.config_epoch = epoch
        self.master = master
        self.generation += 1
        for follower in self.masters:
            follower.move()
        for group in self.groups:
            group.reconcile()
        return master

    def probe_template(self) -> ConnectionSettings:
        """Settings (credentials, TLS) to reach the data nodes: a client's, else the Sentinel's."""
        for follower in self.masters:
            return follower.template
        for group in self.groups:
            return group.template
        return self.owner.data_settings

    # ------------------------------------------------------------ the replicas

    async def refresh_replicas(self, *, first: Address | None = None) -> list[Address]:
        """The healthy replicas per ``SENTINEL REPLICAS``; concurrent calls share one query."""
        running = self._replica_fetch
        if running is None or running.done():
            running = self._replica_fetch = asyncio.get_running_loop().create_task(
                self._fetch_replicas(first)
            )
            running.add_done_callback(_retrieve)
        return await asyncio.shield(running)

    async def _fetch_replicas(self, first: Address | None) -> list[Address]:
        nodes = self.owner.nodes
        reasons: list[str] = []
        for sentinel in nodes.order(first):
            where = f"sentinel {format_address(sentinel)}"
            try:
                (reply,) = await nodes.query(sentinel, [("SENTINEL", "REPLICAS", self.name)])
                if isinstance(reply, ResponseError):
                    reasons.append(f"{where} does not know it ({reply})")
                    continue
                infos = parse_replicas(reply)
            except RedisError as exc:
                reasons.append(f"{where}: {exc}")
                continue
            nodes.promote(sentinel)
            self.replicas = [i.address for i in infos if i.healthy]
            self.replica_generation += 1
            for group in self.groups:
                group.reconcile()
            return self.replicas
        raise MasterNotFoundError(
            f"no sentinel listed the replicas of service {self.name!r}: {'; '.join(reasons)}"
        )

    # ------------------------------------------------------------ events

    def on_event(self, event: Event, source: Address) -> None:
        """A sentinel published something about this service: look again, asking it first."""
        if event.master_may_have_moved:
            self.spawn(self._quietly(self.discover(first=source, fresh=True)))
        if self.groups:
            self.spawn(self._quietly(self.refresh_replicas(first=source)))

    def refresh(self, first: Address | None = None) -> None:
        """The periodic safety net (and the catch-up after resubscribing)."""
        if self.masters or self.groups:
            self.spawn(self._quietly(self.discover(first=first)))
        if self.groups:
            self.spawn(self._quietly(self.refresh_replicas(first=first)))

    def suspect(self) -> None:
        """A client got READONLY or MASTERDOWN: its node is not what it should be."""
        self.spawn(self._quietly(self.discover()))
        if self.groups:
            self.spawn(self._quietly(self.refresh_replicas()))

    @staticmethod
    async def _quietly(aw: Awaitable[Any]) -> None:
        # Background work: the clients rediscover on their own if this fails.
        try:
            await aw
        except RedisError:
            pass

    def spawn(self, coro: Coroutine[Any, Any, None]) -> None:
        task = asyncio.get_running_loop().create_task(coro)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def stop(self) -> None:
        """Cancel the background work of this service."""
        tasks = [*self._tasks, self._discovery, self._replica_fetch]
        self._tasks.clear()
        pending = [t for t in tasks if t is not None and not t.done()]
        for task in pending:
            task.cancel()
        if pending:
            await asyncio.wait(pending)


class MasterFollower:
    """The core of a master_for client: pointed at the service's master, and moved with it."""

    __slots__ = ("core", "generation", "service", "template")

    def __init__(self, service: Service, core: ClientCore) -> None:
        self.service = service
        self.core = core
        self.template = core.settings
        self.generation = -1
        core.locate = self.locate

    async def locate(self) -> None:
        """Before each connection attempt: the master, rediscovered after a loss."""
        await _guarded(self._locate())

    async def _locate(self) -> None:
        service = self.service
        service.owner.ensure_watching()
        if service.master is None or self.generation == service.generation:
            await service.discover(self.template)
        self.generation = service.generation
        self.move()

    def move(self) -> None:
        master = self.service.master
        if master is not None:
            self.core.relocate(
                at(self.template, master),
                f"the master of {self.service.name!r} moved to {format_address(master)}",
            )


class ReplicaGroup:
    """The cores of one replica_for client: one per healthy replica, reads go round them.

    ``cores[0]`` is the client's own core (pipelines, blocking commands and
    pub/sub use it); more are made as replicas appear. When no replica is
    healthy, ``cores[0]`` goes to the master if ``master_fallback``, else its
    next connection attempt raises ``ReplicaNotFoundError``.
    """

    def __init__(
        self,
        service: Service,
        home: ClientCore,
        make_core: Callable[[ConnectionSettings], ClientCore],
        master_fallback: bool,
    ) -> None:
        self.service = service
        self.template = home.settings
        self.make_core = make_core
        self.master_fallback = master_fallback
        self.cores: list[ClientCore] = []
        self.places: dict[ClientCore, Address | None] = {}
        self._seen: dict[ClientCore, int] = {}
        self.turn = 0
        self._add(home, None)

    def _add(self, core: ClientCore, place: Address | None) -> None:
        self.cores.append(core)
        self.places[core] = place
        self._seen[core] = -1

        async def locate() -> None:
            await _guarded(self.locate(core))

        core.locate = locate

    async def locate(self, core: ClientCore) -> None:
        service = self.service
        service.owner.ensure_watching()
        if service.replicas is None or self._seen.get(core) == service.replica_generation:
            try:
                await service.refresh_replicas()
            except RedisError:
                if service.replicas is None:
                    raise
        self._seen[core] = service.replica_generation
        if not service.replicas and self.master_fallback and service.master is None:
            await service.discover(self.template)
        self.reconcile()
        if core not in self.places:
            raise ConnectionError(f"a replica of {service.name!r} left the healthy set")
        if self.places[core] is None:
            fallback = "master_fallback is off" if not self.master_fallback else "no master"
            raise ReplicaNotFoundError(
                f"no healthy replica of service {service.name!r} "
                f"(none without s_down, o_down or disconnected), and {fallback}"
            )

    def targets(self) -> list[Address]:
        replicas = self.service.replicas or []
        if replicas:
            return list(replicas)
        master = self.service.master
        return [master] if self.master_fallback and master is not None else []

    def reconcile(self) -> None:
        """Point one core at each target; retire the cores left over (never cores[0])."""
        targets = self.targets()
        home = self.cores[0]
        kept: dict[Address, ClientCore] = {}
        strays: list[ClientCore] = []
        for core in self.cores:
            place = self.places[core]
            if place is not None and place in targets and place not in kept:
                kept[place] = core
            else:
                strays.append(core)
        missing = [t for t in targets if t not in kept]
        for core in strays:
            if missing:
                self._place(core, missing.pop(0))
            elif core is not home:
                self._retire(core)
            else:
                # Nowhere to go: a live connection is kept until it fails, but
                # the next connection attempt raises ReplicaNotFoundError.
                self.places[home] = None
        for target in missing:
            self._add(self.make_core(at(self.template, target)), target)

    def _place(self, core: ClientCore, target: Address) -> None:
        self.places[core] = target
        core.relocate(
            at(self.template, target),
            f"the replicas of {self.service.name!r} changed; now reading from "
            f"{format_address(target)}",
        )

    def _retire(self, core: ClientCore) -> None:
        self.cores.remove(core)
        place = self.places.pop(core, None)
        self._seen.pop(core, None)
        conn = core.conn
        if conn is not None:
            where = format_address(place) if place is not None else "a replica"
            conn.close(
                ConnectionError(
                    f"{where} left the healthy replicas of {self.service.name!r}; "
                    "the command may or may not have been executed"
                )
            )
        self.service.spawn(core.aclose())

    async def aclose(self) -> None:
        """Close the cores this group made (not cores[0]: its client closes that)."""
        extra = self.cores[1:]
        del self.cores[1:]
        if extra:
            await asyncio.gather(*(core.aclose() for core in extra))
