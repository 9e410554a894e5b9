"""Micro-benchmark of cluster routing: what every RedisCluster call pays before it is sent.

    python bench/routing_micro.py [--n 200000] [--rounds 7]

Reports ns per call (median of the rounds, and the best round) of ``route_for`` +
``command_slot`` (and the parts alone), timed in process CPU time: the code does no I/O, and
on a shared machine wall time mostly measures the neighbours
for the argv shapes the generated methods build, plus the peers' equivalent where installed
(redis-py's ``key_slot``), all in one run. No server needed.
"""

from __future__ import annotations

import argparse
import importlib
import statistics
import time
import timeit
from collections.abc import Callable

from redspec.cluster.routing import command_slot, key_slot, route_for, split_by_slot

CASES: dict[str, tuple[object, ...]] = {
    "GET str": ("GET", "user:1000:profile"),
    "GET bytes": ("GET", b"user:1000:profile"),
    "GET tagged": ("GET", "{user:1000}:profile"),
    "SET": ("SET", "user:1000", "value", "EX", 10),
    "HSET": ("HSET", "h", "f", "v"),
    "MGET 3 same slot": ("MGET", "{u}a", "{u}b", "{u}c"),
    "EVALSHA 2 keys": ("EVALSHA", "0" * 40, 2, "{u}a", "{u}b", "arg"),
    "XREAD 2 streams": ("XREAD", "COUNT", 10, "STREAMS", "{s}a", "{s}b", "0", "0"),
    "get lower-case": ("get", "k"),
    "XINFO STREAM": ("XINFO", "STREAM", "s"),
}


def _ns(fn: Callable[[], object], n: int, rounds: int) -> str:
    times = timeit.repeat(fn, number=n, repeat=rounds, timer=time.process_time)
    return f"{statistics.median(times) / n * 1e9:5.0f}/{min(times) / n * 1e9:<5.0f}"


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--n", type=int, default=200_000)
    p.add_argument("--rounds", type=int, default=7)
    ns = p.parse_args()
    n, rounds = ns.n, ns.rounds
    print(f"ns per call (median/best of {rounds} rounds of {n})")
    print(f"{'case':24} {'route+slot':>11} {'route_for':>11} {'slot':>11}")
    for label, argv in CASES.items():
        route = route_for(argv)

        def both(argv: tuple[object, ...] = argv) -> object:
            return command_slot(route_for(argv), argv)

        def slot(argv: tuple[object, ...] = argv, route: object = route) -> object:
            return command_slot(route, argv)  # type: ignore[arg-type]

        def rt(argv: tuple[object, ...] = argv) -> object:
            return route_for(argv)

        print(
            f"{label:24} {_ns(both, n, rounds):>11} {_ns(rt, n, rounds):>11}"
            f" {_ns(slot, n, rounds):>11}"
        )
    mget = ("MGET", *(f"key:{i}" for i in range(100)))
    route = route_for(mget)
    split = _ns(lambda: split_by_slot(route, mget), n // 100, rounds)
    print(f"{'split MGET 100 keys':24} {split:>11}")
    print(f"{'key_slot str':24} {_ns(lambda: key_slot('user:1000:profile'), n, rounds):>11}")
    try:
        redis_py_key_slot = importlib.import_module("redis.crc").key_slot
    except ImportError:
        return
    print(
        f"{'redis-py key_slot bytes':24}"
        f" {_ns(lambda: redis_py_key_slot(b'user:1000:profile'), n, rounds):>11}"
    )


if __name__ == "__main__":
    main()
