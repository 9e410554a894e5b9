"""kill -9 of the server under INCR load: no duplicate, no lost acknowledged write.

The server writes every command to its append-only file before answering
(``appendfsync always``), so a reply the client received is a write that
survives the kill. Each acknowledged INCR returns a distinct value; a write
re-sent behind the caller's back would apply twice, and a write acknowledged
but lost would hand out its value again after the restart.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Iterator

import pytest

import redspec
from tests.faults.helpers import report, until
from tests.servers import RedisServer, start_server

TASKS = 50


@pytest.fixture
def durable() -> Iterator[RedisServer]:
    with start_server("redis8", args=["--appendonly", "yes", "--appendfsync", "always"]) as s:
        yield s


async def test_kill9_under_incr_load(durable: RedisServer) -> None:
    r = redspec.Redis(durable.host, durable.port, command_timeout=5, retry_reads=True)
    acked: list[int] = []
    unknown = 0  # failed as lost: may or may not have been applied
    stop = asyncio.Event()

    async def worker() -> None:
        nonlocal unknown
        while not stop.is_set():
            try:
                acked.append(await r.incr("kill9:n"))
            except (redspec.ConnectionError, redspec.TimeoutError):
                unknown += 1
                await asyncio.sleep(0.005)

    try:
        tasks = [asyncio.ensure_future(worker()) for _ in range(TASKS)]
        await until(lambda: len(acked) >= 1000, 60, what="1000 INCRs before the kill")
        before_kill = len(acked)
        await asyncio.to_thread(durable.kill)  # SIGKILL, mid-flight
        t_down = time.monotonic()
        await asyncio.to_thread(durable.start)  # replays the append-only file
        up_after = time.monotonic() - t_down
        # Every INCR waits for an fsync: slow when other tests load the disk.
        target = len(acked) + 1000
        await until(lambda: len(acked) >= target, 60, what="1000 INCRs after the restart")
        stop.set()
        await asyncio.gather(*tasks)
        final = int(await r.get("kill9:n") or 0)
    finally:
        await r.aclose()
    assert len(acked) == len(set(acked)), "an INCR was acknowledged twice with one value"
    assert max(acked) <= final, "an acknowledged INCR was lost in the crash"
    assert final <= len(acked) + unknown, "an INCR was applied more often than it was sent"
    report(
        f"kill -9 under INCR load: {len(acked)} acknowledged ({before_kill} before the kill), "
        f"{unknown} failed as lost, final {final}; 0 duplicates, 0 lost acknowledged "
        f"(server back after {up_after:.2f}s)"
    )
