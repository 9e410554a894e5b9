"""Real Redis/Valkey clusters for the tests, on free loopback ports.

    cluster = start_cluster("redis8", primaries=3, replicas_per_primary=1)
    rc = redspec.RedisCluster.from_url(cluster.url)
    ...
    cluster.stop()

Each node is a ``tests.servers.RedisServer`` (so it dies with the test
process, PR_SET_PDEATHSIG) started with ``--cluster-enabled yes`` and its bus
on a free port of its own (``--cluster-port``). The cluster is formed with
CLUSTER ADDSLOTSRANGE, CLUSTER MEET and CLUSTER REPLICATE, and ``start``
returns once every node reports ``cluster_state:ok``, every node agrees on who
serves every slot, and every replica's link to its primary is up: waits are
on state, never fixed sleeps. Node timeout is short (1500 ms) so failovers
in tests are quick; no persistence.

Admin traffic from the harness goes over plain blocking sockets (RESP2,
``command``), never through the client under test.
"""

from __future__ import annotations

import binascii
import contextlib
import functools
import socket
import subprocess
import time
from collections.abc import Callable, Iterator
from typing import Any

import hiredis

from tests.servers import RedisServer, free_port

__all__ = [
    "NODE_TIMEOUT_MS",
    "Cluster",
    "ClusterNode",
    "CommandError",
    "command",
    "key_slot",
    "start_cluster",
    "wait_until",
]

SLOTS = 16384
NODE_TIMEOUT_MS = 1500


class CommandError(Exception):
    """An error reply to a harness admin command."""


def key_slot(key: str | bytes) -> int:
    """The slot of a key (CRC16-XMODEM, hash tags), computed independently of redspec."""
    data = key.encode() if isinstance(key, str) else key
    start = data.find(b"{")
    if start != -1:
        end = data.find(b"}", start + 1)
        if end > start + 1:
            data = data[start + 1 : end]
    return binascii.crc_hqx(data, 0) % SLOTS


def command(host: str, port: int, *args: Any, timeout: float = 5.0) -> Any:
    """One command over a fresh blocking connection, RESP2; error replies raise."""
    with socket.create_connection((host, port), timeout=timeout) as s:
        out = [b"*%d\r\n" % len(args)]
        for a in args:
            b = a if isinstance(a, bytes) else str(a).encode()
            out.append(b"$%d\r\n%s\r\n" % (len(b), b))
        s.sendall(b"".join(out))
        reader = hiredis.Reader()
        while True:
            reply = reader.gets()
            if reply is not False:
                if isinstance(reply, hiredis.ReplyError):
                    raise CommandError(str(reply))
                return reply
            data = s.recv(1 << 16)
            if not data:
                raise ConnectionError(f"{host}:{port} closed the connection")
            reader.feed(data)


def wait_until(what: str, probe: Callable[[], bool], timeout: float = 20.0) -> None:
    """Poll ``probe`` (errors count as "not yet") until it is true, or fail naming ``what``."""
    deadline = time.monotonic() + timeout
    last: BaseException | None = None
    while time.monotonic() < deadline:
        try:
            if probe():
                return
        except (OSError, CommandError) as exc:
            last = exc
        time.sleep(0.02)
    raise AssertionError(f"timed out after {timeout}s waiting for {what} (last error: {last})")


class ClusterNode:
    """One node: a server process, its bus port and its cluster node id."""

    def __init__(self, server: RedisServer, bus_port: int) -> None:
        self.server = server
        self.bus_port = bus_port
        self.node_id = ""

    @property
    def host(self) -> str:
        return self.server.host

    @property
    def port(self) -> int:
        return self.server.port

    @property
    def address(self) -> tuple[str, int]:
        return (self.server.host, self.server.port)

    def command(self, *args: Any, timeout: float = 5.0) -> Any:
        return command(self.host, self.port, *args, timeout=timeout)

    def info(self, section: str) -> dict[str, str]:
        return _fields(self.command("INFO", section))

    def cluster_state(self) -> str:
        return _fields(self.command("CLUSTER", "INFO")).get("cluster_state", "")

    def role(self) -> str:
        return str(self.command("ROLE")[0].decode())

    @property
    def running(self) -> bool:
        return self.server.running

    def __repr__(self) -> str:
        return f"<ClusterNode {self.host}:{self.port} {self.node_id[:8]}>"


class Cluster:
    """A running cluster; see the module docstring."""

    def __init__(self, kind: str, primaries: int, replicas_per_primary: int) -> None:
        self.kind = kind
        self.primaries_count = primaries
        self.replicas_per_primary = replicas_per_primary
        self.nodes: list[ClusterNode] = []

    # ------------------------------------------------------------ addresses

    @property
    def url(self) -> str:
        node = self.nodes[0]
        return f"redis://{node.host}:{node.port}"

    @property
    def startup_nodes(self) -> list[tuple[str, int]]:
        return [n.address for n in self.nodes]

    def node_at(self, port: int) -> ClusterNode:
        return next(n for n in self.nodes if n.port == port)

    def live_nodes(self) -> list[ClusterNode]:
        return [n for n in self.nodes if n.running]

    # ------------------------------------------------------------ starting

    def start(self) -> Cluster:
        total = self.primaries_count * (1 + self.replicas_per_primary)
        used: set[int] = set()
        for _ in range(total):
            bus = _fresh_port(used)
            server = RedisServer(self.kind, args=_node_args(bus))
            if server.port in used:
                server.port = _fresh_port(used)
            used.add(server.port)
            node = ClusterNode(server, bus)
            self.nodes.append(node)
        try:
            for node in self.nodes:
                node.server.start()
                node.node_id = node.command("CLUSTER", "MYID").decode()
            self._form()
        except BaseException:
            self.stop()
            raise
        return self

    def _form(self) -> None:
        primaries = self.nodes[: self.primaries_count]
        per = SLOTS // len(primaries)
        for i, node in enumerate(primaries):
            first = i * per
            last = SLOTS - 1 if i == len(primaries) - 1 else first + per - 1
            node.command("CLUSTER", "ADDSLOTSRANGE", first, last)
        seed = self.nodes[0]
        for node in self.nodes[1:]:
            seed.command("CLUSTER", "MEET", node.host, node.port, node.bus_port)
        ids = {n.node_id for n in self.nodes}
        for node in self.nodes:
            wait_until(f"{node} to know every node", functools.partial(_knows_all, node, ids))
        replicas = self.nodes[self.primaries_count :]
        for i, node in enumerate(replicas):
            primary = primaries[i % len(primaries)]
            node.command("CLUSTER", "REPLICATE", primary.node_id)
        self.wait_stable()

    def wait_stable(self, timeout: float = 30.0) -> None:
        """Until every live node says cluster_state:ok and they all agree on the slot owners,
        and every live replica is in sync with its primary."""

        def stable() -> bool:
            live = self.live_nodes()
            views = set()
            for node in live:
                if node.cluster_state() != "ok":
                    return False
                views.add(_slot_view(node))
            if len(views) != 1:
                return False
            for node in live:
                if node.role() == "slave":
                    if node.info("replication").get("master_link_status") != "up":
                        return False
            return True

        wait_until(f"the {self.kind} cluster to be stable", stable, timeout)

    # ------------------------------------------------------------ topology queries

    def slot_owner(self, slot: int, via: ClusterNode | None = None) -> ClusterNode:
        """The primary serving ``slot``, as ``via`` (default: any live node) sees it."""
        node = via or self.live_nodes()[0]
        for first, last, primary, *_ in node.command("CLUSTER", "SLOTS"):
            if first <= slot <= last:
                return self.node_at(int(primary[1]))
        raise AssertionError(f"slot {slot} has no owner")

    def primaries(self) -> list[ClusterNode]:
        return [n for n in self.live_nodes() if n.role() == "master"]

    def replicas_of(self, primary: ClusterNode) -> list[ClusterNode]:
        return [
            n
            for n in self.live_nodes()
            if n.role() == "slave" and int(n.info("replication")["master_port"]) == primary.port
        ]

    def keys_on_every_primary(self, count_per_node: int = 1, prefix: str = "k") -> list[str]:
        """Plain keys (no hash tags), ``count_per_node`` of them on every primary."""
        owners = {n.port: 0 for n in self.primaries()}
        ranges = self.slot_ranges()
        keys: list[str] = []
        i = 0
        while any(c < count_per_node for c in owners.values()):
            key = f"{prefix}{i}"
            i += 1
            port = _owner_in(ranges, key_slot(key))
            if owners[port] < count_per_node:
                owners[port] += 1
                keys.append(key)
        return keys

    def slot_ranges(self) -> list[tuple[int, int, int]]:
        """(first, last, primary port) for every slot range, as the first live node sees it."""
        node = self.live_nodes()[0]
        return [
            (int(first), int(last), int(primary[1]))
            for first, last, primary, *_ in node.command("CLUSTER", "SLOTS")
        ]

    # ------------------------------------------------------------ changes

    def move_slot(self, slot: int, target: ClusterNode) -> None:
        """Migrate ``slot`` with its keys to ``target``, as ``redis-cli --cluster`` does:
        IMPORTING/MIGRATING, MIGRATE of every key, then SETSLOT NODE everywhere."""
        source = self.slot_owner(slot)
        if source is target:
            return
        target.command("CLUSTER", "SETSLOT", slot, "IMPORTING", source.node_id)
        source.command("CLUSTER", "SETSLOT", slot, "MIGRATING", target.node_id)
        while True:
            keys = source.command("CLUSTER", "GETKEYSINSLOT", slot, 100)
            if not keys:
                break
            source.command("MIGRATE", target.host, target.port, "", 0, 5000, "KEYS", *keys)
        others = [n for n in self.primaries() if n not in (source, target)]
        for node in [target, source, *others]:
            node.command("CLUSTER", "SETSLOT", slot, "NODE", target.node_id)

        def agreed() -> bool:
            return all(self.slot_owner(slot, via=n) is target for n in self.live_nodes())

        try:
            wait_until(f"every node to agree slot {slot} moved", agreed, timeout=20)
        except AssertionError as exc:
            views = {n.port: self.slot_owner(slot, via=n).port for n in self.live_nodes()}
            nodes = {n.port: n.command("CLUSTER", "NODES").decode() for n in self.live_nodes()}
            raise AssertionError(f"{exc}; owner of {slot} per node: {views}; {nodes}") from None

    # ------------------------------------------------------------ faults

    def kill(self, node: ClusterNode) -> None:
        """SIGKILL a node."""
        node.server.kill()

    def wait_failover(
        self, old_primary: ClusterNode, slot: int, timeout: float = 30.0
    ) -> ClusterNode:
        """After ``old_primary`` (which served ``slot``) died: until another node serves
        ``slot`` and every survivor says cluster_state:ok. Returns that node."""
        survivors = [n for n in self.live_nodes() if n is not old_primary]

        def promoted() -> bool:
            return all(
                n.cluster_state() == "ok"
                and self.slot_owner(slot, via=n) is not old_primary
                for n in survivors
            )

        wait_until(f"a replica of {old_primary} to take over", promoted, timeout)
        return self.slot_owner(slot, via=survivors[0])

    def redis_cli(self, *args: str, timeout: float = 120.0) -> str:
        """Run Debian's redis-cli (e.g. ``--cluster reshard``); its output, or raise."""
        proc = subprocess.run(
            ["redis-cli", *args],
            capture_output=True,
            text=True,
            timeout=timeout,
            stdin=subprocess.DEVNULL,
        )
        if proc.returncode != 0:
            raise AssertionError(f"redis-cli {' '.join(args)} failed: {proc.stdout}{proc.stderr}")
        return proc.stdout

    # ------------------------------------------------------------ stopping

    def stop(self) -> None:
        for node in self.nodes:
            node.server.stop()

    def __repr__(self) -> str:
        return f"<Cluster {self.kind} {len(self.nodes)} nodes>"


def start_cluster(
    kind: str = "redis8", primaries: int = 3, replicas_per_primary: int = 0
) -> Cluster:
    """Start and form a cluster; returns once it is stable (see ``Cluster.wait_stable``)."""
    return Cluster(kind, primaries, replicas_per_primary).start()


@contextlib.contextmanager
def running_cluster(
    kind: str = "redis8", primaries: int = 3, replicas_per_primary: int = 0
) -> Iterator[Cluster]:
    cluster = start_cluster(kind, primaries, replicas_per_primary)
    try:
        yield cluster
    finally:
        cluster.stop()


def _node_args(bus_port: int) -> list[str]:
    return [
        "--cluster-enabled", "yes",
        "--cluster-config-file", "nodes.conf",
        "--cluster-port", str(bus_port),
        "--cluster-node-timeout", str(NODE_TIMEOUT_MS),
        # A replica may always be promoted, however long it was cut off.
        "--cluster-replica-validity-factor", "0",
        "--repl-diskless-sync", "yes",
        "--repl-diskless-sync-delay", "0",
        "--appendonly", "no",
    ]  # fmt: skip


def _fields(text: bytes) -> dict[str, str]:
    fields: dict[str, str] = {}
    for line in text.decode().splitlines():
        if ":" in line and not line.startswith("#"):
            k, _, v = line.partition(":")
            fields[k] = v.strip()
    return fields


def _fresh_port(used: set[int]) -> int:
    while True:
        port = free_port()
        if port not in used:
            used.add(port)
            return port


def _knows_all(node: ClusterNode, ids: set[str]) -> bool:
    return _known(node) >= ids


def _known(node: ClusterNode) -> set[str]:
    ids = set()
    for line in node.command("CLUSTER", "NODES").decode().splitlines():
        parts = line.split()
        if "handshake" not in parts[2] and "noaddr" not in parts[2]:
            ids.add(parts[0])
    return ids


def _slot_view(node: ClusterNode) -> tuple[tuple[int, int, tuple[int, ...]], ...]:
    """Who serves what, as ``node`` sees it: (first, last, (primary port, replica ports...))."""
    view = []
    for first, last, *members in node.command("CLUSTER", "SLOTS"):
        primary, *replicas = members
        ports = (int(primary[1]), *sorted(int(r[1]) for r in replicas))
        view.append((int(first), int(last), ports))
    return tuple(sorted(view))


def _owner_in(ranges: list[tuple[int, int, int]], slot: int) -> int:
    for first, last, port in ranges:
        if first <= slot <= last:
            return port
    raise AssertionError(f"slot {slot} has no owner")
