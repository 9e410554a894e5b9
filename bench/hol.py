#!/usr/bin/env python3
"""Head-of-line blocking: small GETs while a large reply streams, redspec against redis-py.

    python bench/hol.py                          # 100 MB value, 3 rounds, writes into RESULTS.md
    python bench/hol.py --mb 20 --rounds 1 --out /tmp/hol.md

redspec sends every ordinary command over one shared connection, so a reply
queued behind a large one waits for it; redis-py takes a pooled connection
per concurrent call, so it does not. What redspec promises is narrower: once
the caller of the large reply gives up (times out or is cancelled) while the
reply is still coming, other callers are not held behind it. Each scenario,
for each client, on one client object:

- ``wanted``: a task GETs the large value; meanwhile another task GETs a
  100 B value again and again, one at a time. Small-GET latencies while the
  large reply streams.
- ``abandoned``: the large GET is cancelled while its reply streams (after
  20 ms over loopback, after 200 ms through the proxy); then small GETs one
  at a time (the first 200 after the cancel).

Both run over loopback at full speed, and through tests/proxy.py limited to
``--rate`` MB/s (a large reply trickling in, as from a distant or busy
server). Figures are medians over all samples of all rounds, with p99 and
max; the order of the clients alternates every round.
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import statistics
import sys
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent / "examples"))
sys.path.insert(0, str(HERE.parent))

from _embedded import EmbeddedRedis  # noqa: E402

from tests.proxy import FaultProxy  # noqa: E402

SMALL = b"s" * 100
BEGIN, END = "<!-- hol:begin -->", "<!-- hol:end -->"


# ------------------------------------------------------------------ clients


async def open_redspec(url: str) -> tuple[Any, Callable[[], Awaitable[None]]]:
    import redspec

    r = redspec.Redis.from_url(url, command_timeout=60)
    await r.ping()
    return r, r.aclose


async def open_redis_py(url: str) -> tuple[Any, Callable[[], Awaitable[None]]]:
    import redis.asyncio

    r = redis.asyncio.Redis.from_url(url, socket_timeout=60, protocol=3)
    await r.ping()
    return r, r.aclose


CLIENTS = {"redspec": open_redspec, "redis-py": open_redis_py}


# ------------------------------------------------------------------ scenarios


async def small_gets_until(r: Any, done: Callable[[], bool], samples: list[float]) -> None:
    while not done():
        t = time.perf_counter()
        got = await r.get(b"hol:small")
        samples.append(time.perf_counter() - t)
        assert got == SMALL


async def wanted(r: Any, size: int) -> tuple[list[float], float]:
    samples: list[float] = []
    t = time.perf_counter()
    big = asyncio.ensure_future(r.get(b"hol:big"))
    await small_gets_until(r, big.done, samples)
    assert len(await big) == size
    return samples, time.perf_counter() - t


async def abandoned(r: Any, after: float) -> tuple[list[float], float]:
    big = asyncio.ensure_future(r.get(b"hol:big"))
    t = time.perf_counter()
    await asyncio.wait([big], timeout=after)
    big.cancel()
    await asyncio.gather(big, return_exceptions=True)
    streamed = time.perf_counter() - t
    samples: list[float] = []
    for _ in range(200):
        t = time.perf_counter()
        got = await r.get(b"hol:small")
        samples.append(time.perf_counter() - t)
        assert got == SMALL
    return samples, streamed


def summary(samples: list[float]) -> str:
    if not samples:
        return "-"
    ordered = sorted(samples)
    p99 = ordered[min(len(ordered) - 1, int(len(ordered) * 0.99))]
    return (f"{statistics.median(ordered) * 1000:.2f} ms (p99 {p99 * 1000:.1f}, "
            f"max {ordered[-1] * 1000:.1f}; n={len(ordered)})")


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--mb", type=int, default=100, help="size of the large value, MB")
    ap.add_argument("--rate", type=float, default=50.0, help="trickle rate through the proxy, MB/s")
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--out", type=Path, default=HERE / "RESULTS.md")
    args = ap.parse_args()
    size = args.mb * 1_000_000

    results: dict[tuple[str, str, str], list[float]] = {}
    streamed: dict[tuple[str, str, str], list[float]] = {}
    server = EmbeddedRedis(args=("--maxmemory", "2gb", "--proto-max-bulk-len", "1gb"))
    url = server.start()
    try:
        import redis

        setup = redis.Redis.from_url(url)
        setup.set(b"hol:big", b"x" * size)
        setup.set(b"hol:small", SMALL)
        setup.close()
        with FaultProxy("127.0.0.1", server.port) as proxy:
            paths = {"loopback": url, f"trickle {args.rate:g} MB/s": proxy.url}
            for rnd in range(args.rounds):
                names = list(CLIENTS) if rnd % 2 == 0 else list(reversed(CLIENTS))
                for path, target in paths.items():
                    proxy.trickle(args.rate * 1_000_000 if path != "loopback" else None, 1 << 16)
                    for name in names:
                        for scenario in ("wanted", "abandoned"):
                            key = (path, scenario, name)

                            async def go(target: str = target, scenario: str = scenario,
                                         name: str = name) -> tuple[list[float], float]:
                                r, close = await CLIENTS[name](target)
                                try:
                                    if scenario == "wanted":
                                        return await wanted(r, size)
                                    return await abandoned(r, 0.02 if target == url else 0.2)
                                finally:
                                    await close()

                            samples, secs = asyncio.run(go())
                            results.setdefault(key, []).extend(samples)
                            streamed.setdefault(key, []).append(secs)
                            print(f"round {rnd + 1} {path:20} {scenario:9} {name:9} "
                                  f"{summary(samples)}; large reply {secs:.2f}s", flush=True)
    finally:
        server.stop()
    write(args, results, streamed)
    return 0


def write(args: argparse.Namespace, results: dict[tuple[str, str, str], list[float]],
          streamed: dict[tuple[str, str, str], list[float]]) -> None:
    lines = [BEGIN, "## Head-of-line blocking (bench/hol.py)", "",
             f"Produced by `python bench/hol.py --mb {args.mb} --rate {args.rate:g} "
             f"--rounds {args.rounds}` on "
             f"{dt.datetime.now(dt.timezone.utc).strftime('%Y-%m-%d %H:%M UTC')}. "
             f"Latency of a 100 B GET on the same client object while a {args.mb} MB reply "
             "streams (*wanted*), and after the large GET was cancelled mid-reply "
             "(*abandoned*: the 200 GETs that follow). Median over all samples of all rounds "
             "(p99, max, number of samples). See the script's docstring.", "",
             "| path | scenario | redspec | redis-py |", "| --- | --- | --- | --- |"]
    for path in dict.fromkeys(k[0] for k in results):
        for scenario in ("wanted", "abandoned"):
            cells = [summary(results.get((path, scenario, n), [])) for n in CLIENTS]
            lines.append(f"| {path} | {scenario} | " + " | ".join(cells) + " |")
    lines += ["", "The large reply took (median of rounds): " + "; ".join(
        f"{p} {s} {n} {statistics.median(v):.2f}s" for (p, s, n), v in streamed.items()
        if s == "wanted") + ".", END]
    block = "\n".join(lines) + "\n"
    text = args.out.read_text() if args.out.exists() else ""
    if BEGIN in text and END in text:
        text = text[: text.index(BEGIN)] + block + text[text.index(END) + len(END) + 1:]
    else:
        text = text.rstrip("\n") + "\n\n" + block
    args.out.write_text(text)
    print(f"wrote {args.out}")


if __name__ == "__main__":
    sys.exit(main())
