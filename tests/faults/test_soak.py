"""Memory stays flat over a long run, timeouts and connection replacements included.

The bounded form for CI: SOAK_COMMANDS commands in batches of concurrent
calls and pipelines, with a command timing out every few thousand (which
retires the shared connection and opens a fresh one). Python's allocated
blocks are compared after a warm-up and at the end. bench/soak.py runs the
full million and prints the curve.
"""

from __future__ import annotations

import asyncio
import gc
import os
import sys

import redspec
from tests.faults.helpers import report
from tests.servers import RedisServer

SOAK_COMMANDS = int(os.environ.get("REDSPEC_SOAK_COMMANDS", "100000"))
BATCH = 100


def _blocks() -> int:
    gc.collect()
    return sys.getallocatedblocks()


async def test_memory_is_flat_over_a_long_run(redis8: RedisServer) -> None:
    r = redspec.Redis(redis8.host, redis8.port)
    slow = r.with_options(command_timeout=0.005)
    sent = 0
    replaced = 0

    async def batch(i: int) -> None:
        nonlocal sent, replaced
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

    try:
        i = 0
        while sent < SOAK_COMMANDS // 5:  # warm-up: buffers, caches, free lists
            await batch(i)
            i += 1
        before = _blocks()
        while sent < SOAK_COMMANDS:
            await batch(i)
            i += 1
        after = _blocks()
        draining = len(r._core._draining)
    finally:
        await r.aclose()
    growth = after - before
    report(
        f"soak: {sent} commands, {replaced} connections replaced after a timeout; "
        f"allocated blocks {before} -> {after} ({growth:+d})"
    )
    assert replaced > 0
    assert draining <= 2
    # A leak of one object per command would add ~100,000 blocks here.
    assert growth < 2000, growth
