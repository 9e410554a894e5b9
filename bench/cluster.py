#!/usr/bin/env python3
"""Cluster clients side by side: redspec, redis-py, coredis, valkey-glide; one run, one cluster.

    python bench/cluster.py          # scale 1, 3 rounds: bench/RESULTS-cluster.md (+ RESULTS.md)
    python bench/cluster.py --scale 0.2 --rounds 1 --out /tmp/c.md
    python bench/cluster.py --only redspec,valkey-glide --workloads C1,C2

Starts a 3-primary Redis 8.2.3 cluster on free loopback ports (the test
suite's harness, tests/cluster/harness.py), then runs each workload for each
client in turn on a fresh event loop, the order rotating every round; FLUSHALL
on every primary and an untimed warm-up before each timed section. Figures
are medians of the rounds; ratios are against redis-py in the same run.

    C1  10,000 GETs of a 100 B value over 1,024 keys on as many slots, one at a time
    C2  100 tasks on one client, each 100 x (GET, SET), over 4,096 keys
    C3  one non-transactional pipeline of 10,000 SETs on 10,000 slots (timed 3 times)
    C4  MGET of 100 keys on 100 slots (every primary), 300 times
    C5  DBSIZE summed over the primaries, 1,000 calls; KEYS * (300 keys), 500 calls
    C6  C2's load while `redis-cli --cluster reshard` moves 300 slots holding half
        the keys; the errors the callers saw are counted (the target is 0)

The whole report also goes into bench/RESULTS.md, between the cluster markers,
which bench/run.py keeps when it rewrites that file.
"""

from __future__ import annotations

import argparse
import asyncio
import binascii
import datetime as dt
import gc
import json
import os
import statistics
import sys
import time
import traceback
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
sys.path.insert(0, str(HERE.parent))

from cluster_clients import CLUSTER_CLIENTS, ClusterClient  # noqa: E402
from run import fmt_rate, load_average, machine_facts, run_on_new_loop  # noqa: E402

from tests.cluster.harness import Cluster, start_cluster  # noqa: E402

BASELINE = "redis-py"
METRICS: list[tuple[str, str, str]] = [
    ("C1", "C1 GET, one at a time", "GET/s"),
    ("C2", "C2 100 tasks x (GET+SET)", "cmd/s"),
    ("C3", "C3 one 10,000-SET pipeline over every node", "SET/s"),
    ("C4", "C4 MGET of 100 keys on 100 slots", "keys/s"),
    ("C5dbsize", "C5 DBSIZE over every primary", "calls/s"),
    ("C5keys", "C5 KEYS * over every primary", "calls/s"),
    ("C6", "C6 C2's load during a reshard", "cmd/s"),
    ("C6errors", "C6 errors the callers saw", "errors"),
]
# (metric, compared with, at least): the targets for redspec, same-run ratios.
TARGETS = [
    ("C1", "redis-py", 1.8),
    ("C2", "valkey-glide", 2.0),
    ("C3", "valkey-glide", 1.2),
    ("C4", "valkey-glide", 1.2),
    ("C5dbsize", "valkey-glide", 1.2),
    ("C5keys", "valkey-glide", 1.2),
    ("C6", "valkey-glide", 1.5),
]
VALUE = b"v" * 100
MARK_BEGIN, MARK_END = "<!-- cluster:begin -->", "<!-- cluster:end -->"


def one_key_per_slot() -> list[bytes]:
    """keys[s] hashes to slot s."""
    keys: list[bytes | None] = [None] * 16384
    missing, i = 16384, 0
    while missing:
        k = b"key:%d" % i
        i += 1
        slot = binascii.crc_hqx(k, 0) % 16384
        if keys[slot] is None:
            keys[slot] = k
            missing -= 1
    return [k for k in keys if k is not None]


SLOT_KEYS = one_key_per_slot()


def spread(n: int) -> list[bytes]:
    """``n`` keys on ``n`` slots spread evenly over all 16384 (so over every primary)."""
    stride = 16384 / n
    return [SLOT_KEYS[int(i * stride)] for i in range(n)]


def scaled(n: int, scale: float, least: int = 1) -> int:
    return max(least, round(n * scale))


# ------------------------------------------------------------------ workloads

Opener = Callable[[], Awaitable[ClusterClient]]


async def c1(c: ClusterClient, cluster: Cluster, scale: float) -> dict[str, float]:
    keys = spread(1024)
    for k in keys:
        await c.set(k, VALUE)
    n = scaled(10_000, scale, 100)
    for k in keys[:100]:
        await c.get(k)
    gc.collect()
    t0 = time.perf_counter()
    for i in range(n):
        await c.get(keys[i & 1023])
    return {"C1": n / (time.perf_counter() - t0)}


async def _load(c: ClusterClient, keys: list[bytes], tasks: int, pairs: int) -> tuple[int, int]:
    """``tasks`` workers, each ``pairs`` x (GET, SET); returns (commands done, errors)."""
    done = errors = 0

    async def worker(t: int) -> None:
        nonlocal done, errors
        for i in range(pairs):
            k = keys[(t * 977 + i * 31) % len(keys)]
            try:
                v = await c.get(k)
                if v is not None and v != VALUE:
                    raise AssertionError(f"wrong value for {k!r}")
                await c.set(k, VALUE)
                done += 2
            except AssertionError:
                raise
            except Exception:
                errors += 1

    await asyncio.gather(*(worker(t) for t in range(tasks)))
    return done, errors


async def c2(c: ClusterClient, cluster: Cluster, scale: float) -> dict[str, float]:
    keys = spread(4096)
    await _load(c, keys, 100, 3)
    pairs = scaled(100, scale, 5)
    gc.collect()
    t0 = time.perf_counter()
    done, errors = await _load(c, keys, 100, pairs)
    assert errors == 0, f"{errors} errors"
    return {"C2": done / (time.perf_counter() - t0)}


async def c3(c: ClusterClient, cluster: Cluster, scale: float) -> dict[str, float]:
    n = scaled(10_000, scale, 500)
    items = [(k, VALUE) for k in spread(n)]
    await c.pipeline_set(items)
    gc.collect()
    t0 = time.perf_counter()
    for _ in range(3):
        await c.pipeline_set(items)
    return {"C3": 3 * n / (time.perf_counter() - t0)}


async def c4(c: ClusterClient, cluster: Cluster, scale: float) -> dict[str, float]:
    keys = spread(100)
    await c.pipeline_set([(k, VALUE) for k in keys])
    reps = scaled(300, scale, 10)
    assert list(await c.mget(keys)) == [VALUE] * 100
    gc.collect()
    t0 = time.perf_counter()
    for _ in range(reps):
        await c.mget(keys)
    return {"C4": reps * 100 / (time.perf_counter() - t0)}


async def c5(c: ClusterClient, cluster: Cluster, scale: float) -> dict[str, float]:
    keys = spread(300)
    await c.pipeline_set([(k, VALUE) for k in keys])
    out: dict[str, float] = {}
    if c.dbsize is not None:
        assert await c.dbsize() == 300
        n = scaled(1000, scale, 20)
        gc.collect()
        t0 = time.perf_counter()
        for _ in range(n):
            await c.dbsize()
        out["C5dbsize"] = n / (time.perf_counter() - t0)
    if c.keys is not None:
        found = await c.keys(b"*")
        assert len(found) == 300, len(found)
        n = scaled(500, scale, 10)
        gc.collect()
        t0 = time.perf_counter()
        for _ in range(n):
            await c.keys(b"*")
        out["C5keys"] = n / (time.perf_counter() - t0)
    return out


async def c6(c: ClusterClient, cluster: Cluster, scale: float) -> dict[str, float]:
    slots = scaled(300, scale, 30)
    moving = [SLOT_KEYS[s] for s in range(slots)]  # slots 0.. live on the first primary
    keys = moving + spread(slots)
    await c.pipeline_set([(k, VALUE) for k in keys])
    await _load(c, keys, 100, 2)
    source = cluster.slot_owner(0)
    target = next(n for n in cluster.primaries() if n is not source)
    proc = await asyncio.create_subprocess_exec(
        "redis-cli", "--cluster", "reshard", f"{source.host}:{source.port}",
        "--cluster-from", source.node_id, "--cluster-to", target.node_id,
        "--cluster-slots", str(slots), "--cluster-yes",
        stdout=asyncio.subprocess.DEVNULL, stderr=asyncio.subprocess.PIPE,
    )  # fmt: skip
    done = errors = 0
    t0 = time.perf_counter()
    while proc.returncode is None:
        d, e = await _load(c, keys, 100, 5)
        done, errors = done + d, errors + e
    elapsed = time.perf_counter() - t0
    _, err = await proc.communicate()
    assert proc.returncode == 0, err.decode()[-500:]
    await asyncio.to_thread(cluster.wait_stable)
    # Put the slots back (untimed) so that every client's run starts alike.
    back = await asyncio.create_subprocess_exec(
        "redis-cli", "--cluster", "reshard", f"{target.host}:{target.port}",
        "--cluster-from", target.node_id, "--cluster-to", source.node_id,
        "--cluster-slots", str(slots), "--cluster-yes",
        stdout=asyncio.subprocess.DEVNULL, stderr=asyncio.subprocess.DEVNULL,
    )  # fmt: skip
    await back.wait()
    await asyncio.to_thread(cluster.wait_stable)
    return {"C6": done / elapsed, "C6errors": float(errors)}


WORKLOADS: dict[str, Callable[[ClusterClient, Cluster, float], Awaitable[dict[str, float]]]] = {
    "C1": c1, "C2": c2, "C3": c3, "C4": c4, "C5": c5, "C6": c6,
}  # fmt: skip


def flushall(cluster: Cluster) -> None:
    for node in cluster.primaries():
        node.command("FLUSHALL")


def run_one(
    cls: type[ClusterClient], workload: Any, cluster: Cluster, scale: float, loop: str
) -> dict[str, float]:
    async def go() -> dict[str, float]:
        client = cls()
        await client.open(cluster.url)
        try:
            result: dict[str, float] = await asyncio.wait_for(
                workload(client, cluster, scale), 600
            )
            return result
        finally:
            await client.close()

    gc.collect()
    result: dict[str, float] = run_on_new_loop(loop, go())
    return result


# ------------------------------------------------------------------ report


def report(ctx: dict[str, Any]) -> str:
    med: dict[str, dict[str, float]] = ctx["median"]
    ran = [n for n in ctx["clients"] if n in med]
    base = med.get(BASELINE, {})
    lines = [
        "# Cluster benchmark results",
        "",
        f"Produced by `{ctx['command']}` on {ctx['date']}: a 3-primary Redis "
        f"{ctx['server']} cluster on loopback, medians of {ctx['rounds']} rounds (clients in "
        f"turn, order rotating), event loop `{ctx['loop']}`, scale {ctx['scale']}, "
        f"{ctx['placement']}. Rates: higher is better; in brackets, the ratio to "
        f"{BASELINE} in the same run. Load average before / after: {ctx['load_before']} ; "
        f"{ctx['load_after']}.",
        "",
        "| workload | unit | " + " | ".join(ran) + " |",
        "| --- | --- | " + " | ".join("---:" for _ in ran) + " |",
    ]
    for key, label, unit in METRICS:
        if not any(key in med[n] for n in ran):
            continue
        cells = []
        for n in ran:
            v = med[n].get(key)
            if v is None:
                cells.append("cannot" if key in ctx["cannot"].get(n, ()) else "failed")
            elif key == "C6errors":
                cells.append(f"{v:.0f} (max {ctx['max'][n][key]:.0f})")
            else:
                ratio = f" ({v / base[key]:.2f}x)" if base.get(key) else ""
                cells.append(fmt_rate(v) + ratio)
        lines.append(f"| {label} | {unit} | " + " | ".join(cells) + " |")
    lines += ["", "Spread over the rounds (min - max):", ""]
    lines += ["| workload | " + " | ".join(ran) + " |", "| --- | " + " | ".join("---" for _ in ran)
              + " |"]  # fmt: skip
    for key, label, _ in METRICS:
        if any(key in ctx["min"].get(n, {}) for n in ran) and key != "C6errors":
            cells = [
                f"{fmt_rate(ctx['min'][n][key])} - {fmt_rate(ctx['max'][n][key])}"
                if key in ctx["min"].get(n, {}) else "-"
                for n in ran
            ]  # fmt: skip
            lines.append(f"| {label} | " + " | ".join(cells) + " |")
    lines += ["", "Targets (redspec, same run):", "", "| target | measured | met |",
              "| --- | --- | --- |"]  # fmt: skip
    mine = med.get("redspec", {})
    for key, other, least in TARGETS:
        theirs = med.get(other, {}).get(key)
        if key in mine and theirs:
            times = mine[key] / theirs
            label = next(m[1] for m in METRICS if m[0] == key)
            lines.append(f"| {label} >= {least}x {other} | {times:.2f}x | "
                         f"{'yes' if times >= least else 'NO'} |")  # fmt: skip
    if "C6errors" in mine:
        lines.append(f"| C6 errors surfaced = 0 | {ctx['max']['redspec']['C6errors']:.0f} (max) | "
                     f"{'yes' if ctx['max']['redspec']['C6errors'] == 0 else 'NO'} |")
    lines += ["", "Clients:", ""]
    lines += [f"- {n}: {ctx['describe'].get(n, '')}" for n in ctx["clients"]]
    if ctx["failures"]:
        lines += ["", "Failures:", ""]
        lines += [f"- {n}: {msg}" for n, msgs in ctx["failures"].items() for msg in msgs]
    return "\n".join(lines) + "\n"


def write_into_results(text: str) -> None:
    """Put the report into bench/RESULTS.md between the cluster markers."""
    path = HERE / "RESULTS.md"
    current = path.read_text() if path.exists() else ""
    block = f"{MARK_BEGIN}\n{text.replace('# Cluster', '## Cluster', 1)}{MARK_END}\n"
    if MARK_BEGIN in current and MARK_END in current:
        head, rest = current.split(MARK_BEGIN, 1)
        tail = rest.split(MARK_END, 1)[1].lstrip("\n")
        current = head + block + tail
    else:
        current = current.rstrip("\n") + "\n\n" + block
    path.write_text(current)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=(__doc__ or "").split("\n\n")[0])
    ap.add_argument("--scale", type=float, default=1.0)
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--loop", choices=["asyncio", "uvloop"], default="asyncio")
    ap.add_argument("--only", default="", help="comma-separated: " + ",".join(CLUSTER_CLIENTS))
    ap.add_argument("--workloads", default="", help="comma-separated subset of C1..C6")
    ap.add_argument("--pin", choices=["same", "split", "none"], default="same",
                    help="same: servers and client on one CPU (as bench/run.py); split: one "
                    "CPU each; none: no pinning")  # fmt: skip
    ap.add_argument("--out", type=Path, default=HERE / "RESULTS-cluster.md")
    args = ap.parse_args(argv)
    chosen = [n for n in args.only.split(",") if n] or list(CLUSTER_CLIENTS)
    workloads = [w for w in WORKLOADS if not args.workloads or w in args.workloads.split(",")]

    cpus = sorted(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else []
    placement = "not pinned"
    if args.pin != "none" and cpus:
        # Threads inherit the affinity of the thread that starts them: the servers
        # (started from a helper thread made now) get cpus[0].
        os.sched_setaffinity(0, {cpus[0]})
    load_before = load_average()
    cluster = start_cluster("redis8", 3)
    try:
        if args.pin != "none" and cpus:
            client_cpu = cpus[-1] if args.pin == "split" else cpus[0]
            os.sched_setaffinity(0, {client_cpu})
            placement = f"servers on CPU {cpus[0]}, client (all its threads) on CPU {client_cpu}"
        server = cluster.nodes[0].info("server").get("redis_version", "?")
        samples: dict[str, dict[str, list[float]]] = {n: {} for n in chosen}
        failures: dict[str, list[str]] = {}
        cannot: dict[str, list[str]] = {}
        describe: dict[str, str] = {}
        for name in chosen:
            cls = CLUSTER_CLIENTS[name]
            describe[name] = cls().describe()
            if cls.dbsize is None:
                cannot.setdefault(name, []).append("C5dbsize")
            if cls.keys is None:
                cannot.setdefault(name, []).append("C5keys")
        for rnd in range(args.rounds):
            order = chosen[rnd % len(chosen):] + chosen[: rnd % len(chosen)]
            for wl in workloads:
                for name in order:
                    flushall(cluster)
                    try:
                        res = run_one(CLUSTER_CLIENTS[name], WORKLOADS[wl], cluster, args.scale,
                                      args.loop)  # fmt: skip
                    except Exception as e:
                        msg = f"round {rnd + 1} {wl}: {type(e).__name__}: {e}".splitlines()[0]
                        failures.setdefault(name, []).append(msg)
                        print(f"  {name} {msg}", file=sys.stderr)
                        traceback.print_exc(limit=3)
                        continue
                    for k, v in res.items():
                        samples[name].setdefault(k, []).append(v)
                    print(f"round {rnd + 1} {name:13} " + "  ".join(
                        f"{k}={fmt_rate(v)}" for k, v in res.items()), flush=True)  # fmt: skip
    finally:
        cluster.stop()
    ctx: dict[str, Any] = {
        "command": "python bench/cluster.py " + " ".join(sys.argv[1:] if argv is None else argv),
        "date": dt.datetime.now(dt.timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
        "rounds": args.rounds, "loop": args.loop, "scale": args.scale, "server": server,
        "placement": placement, "load_before": load_before, "load_after": load_average(),
        "clients": chosen, "describe": describe, "failures": failures, "cannot": cannot,
        "machine": machine_facts(),
        "median": {n: {k: statistics.median(v) for k, v in m.items()} for n, m in samples.items()
                   if m},
        "min": {n: {k: min(v) for k, v in m.items()} for n, m in samples.items()},
        "max": {n: {k: max(v) for k, v in m.items()} for n, m in samples.items()},
    }  # fmt: skip
    text = report(ctx)
    args.out.write_text(text)
    args.out.with_suffix(".json").write_text(json.dumps(
        {k: ctx[k] for k in ("date", "command", "machine", "median", "min", "max", "failures")},
        indent=1, sort_keys=True) + "\n")  # fmt: skip
    if args.out == HERE / "RESULTS-cluster.md":
        write_into_results(text)
    print(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
