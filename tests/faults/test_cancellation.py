"""A storm of cancellations and timeouts, with the peer stalling now and then: 0 wrong replies.

Every call checks that its reply is its own (ECHO of a unique token, INCR of
a per-task key answered with the task's own count). Cancelled and timed-out
calls leave replies in flight that must be dropped, connections get retired
and replaced mid-storm, and no reply may ever reach another caller.
"""

from __future__ import annotations

import asyncio
import random

import redspec
from tests.faults.helpers import report
from tests.proxy import FaultProxy
from tests.servers import RedisServer

TASKS = 100
ROUNDS = 40


async def test_cancellation_storm_gives_no_wrong_reply(redis8: RedisServer) -> None:
    rng = random.Random(2024)
    wrong = ok = cancelled = timed_out = lost = 0
    with FaultProxy(redis8.host, redis8.port) as proxy:
        r = redspec.Redis(proxy.host, proxy.port, command_timeout=0.3)
        short = r.with_options(command_timeout=0.002)  # times out now and then, mid-flight
        try:

            async def one(task: int) -> None:
                nonlocal wrong, ok, timed_out, lost
                for j in range(ROUNDS):
                    token = f"{task}:{j}".encode()
                    client = short if rng.random() < 0.1 else r
                    try:
                        if j % 2:
                            got = await client.echo(token)
                            wrong += got != token
                        else:
                            await client.set(f"storm:{task}:{j}", token)
                            got = await client.get(f"storm:{task}:{j}")
                            wrong += got not in (token, None)
                        ok += 1
                    except redspec.TimeoutError:
                        timed_out += 1
                    except redspec.ConnectionError:
                        lost += 1

            for wave in range(6):
                tasks = [asyncio.ensure_future(one(i + 1000 * wave)) for i in range(TASKS)]
                for _ in range(rng.randint(1, 5)):
                    await asyncio.sleep(0.001)
                    for t in rng.sample(tasks, 10):
                        cancelled += t.cancel()
                if wave % 2:
                    proxy.hang()  # stall: deadlines pass, connections get retired
                    await asyncio.sleep(0.05)
                    proxy.resume()
                await asyncio.gather(*tasks, return_exceptions=True)
            tokens = [f"after:{i}".encode() for i in range(500)]
            assert await asyncio.gather(*(r.echo(t) for t in tokens)) == tokens
        finally:
            await r.aclose()
    report(
        f"cancellation storm: {ok} calls answered, {cancelled} tasks cancelled, "
        f"{timed_out} timed out, {lost} lost, {wrong} wrong replies"
    )
    assert wrong == 0
    assert ok > 1000 and cancelled > 0 and timed_out > 0
