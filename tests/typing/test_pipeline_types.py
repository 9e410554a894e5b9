"""mypy --strict checks of pipelines, pub/sub messages, scripts, locks and stream
consumers (not run by pytest: the module has no test functions).
"""

from __future__ import annotations

from typing import Any

from typing_extensions import assert_type

import redspec
from redspec.types import RespValue, StreamEntry


async def pipelines(r: redspec.Redis[bytes], rs: redspec.Redis[str]) -> None:
    p = r.pipeline()
    assert_type(p, redspec.Pipeline[bytes])
    got = p.get("k")
    assert_type(got, redspec.Pending[bytes | None])
    assert_type(got.result(), bytes | None)
    assert_type(p.incr("n"), redspec.Pending[int])
    assert_type(p.set("k", 1), redspec.Pending[bool])
    maybe: list[redspec.Pending[bytes | None]] = [p.getdel("k"), p.xadd("s", {"f": 1})]
    assert_type(maybe[1].result(), bytes | None)  # Pending is covariant
    assert_type(p.hgetall("h"), redspec.Pending[dict[bytes, bytes]])
    assert_type(p.zrange("z", 0, -1, withscores=True), redspec.Pending[list[tuple[bytes, float]]])
    assert_type(p.xrange("s", "-", "+"), redspec.Pending[list[StreamEntry[bytes]]])
    assert_type(p.execute_command("GET", "k"), redspec.Pending[Any])
    assert_type(await p.execute(), list[Any])
    assert_type(await p.execute(raise_on_error=False), list[Any])

    ps = rs.pipeline(transaction=True)
    assert_type(ps, redspec.Pipeline[str])
    await ps.watch("k")
    value = await ps.get("k")  # immediate mode: a Pending is awaitable
    assert_type(value, str | None)
    ps.multi()
    assert_type(ps.get("k").result(), str | None)

    async def fn(pipe: redspec.Pipeline[str]) -> redspec.Pending[int]:
        await pipe.get("k")
        pipe.multi()
        return pipe.incr("k")

    assert_type(await rs.transaction(fn, "k", retries=3), redspec.Pending[int])


async def pubsub(r: redspec.Redis[bytes], rs: redspec.Redis[str]) -> None:
    async with rs.pubsub() as ps:
        assert_type(ps, redspec.PubSub[str])
        msg = await ps.get_message(timeout=1.0)
        assert_type(msg, redspec.Message[str] | None)
        if msg is not None:
            assert_type(msg.channel, str)
            assert_type(msg.data, str)
            assert_type(msg.pattern, str | None)
            assert_type(msg.subscriptions, int | None)
        async for m in ps.listen():
            assert_type(m, redspec.Message[str])
    async with r.pubsub() as pb:
        mb = await pb.get_message(timeout=None)
        assert mb is not None
        assert_type(mb.data, bytes)
        assert_type(mb.kind, redspec.pubsub.MessageKind)

        def handler(m: redspec.Message[Any]) -> None: ...

        async def async_handler(m: redspec.Message[Any]) -> None: ...

        await pb.subscribe("a", b=handler, c=async_handler)


async def scripts(r: redspec.Redis[bytes]) -> None:
    script = r.register_script("return 1")
    assert_type(script, redspec.Script[bytes])
    assert_type(await script(keys=["k"], args=[1, "a", b"b", 1.5]), RespValue)
    p = r.pipeline()
    assert_type(script(keys=["k"], args=[], client=p), redspec.Pending[RespValue])
    assert_type(await r.fcall("f", keys=["k"], args=[1]), RespValue)
    assert_type(await r.function_load("code", replace=True), bytes)
    assert_type(await r.function_dump(), bytes)
    assert_type(await script.load(), str)


async def locks_and_streams(r: redspec.Redis[str]) -> None:
    lock = r.lock("l", timeout=1.5, blocking_timeout=2)
    assert_type(lock, redspec.Lock)
    async with lock as held:
        assert_type(held, redspec.Lock)
    assert_type(await lock.acquire(blocking=False), bool)
    async for entry in r.stream_consumer("s", "g", "c", create=True, claim_idle=1000):
        assert_type(entry, StreamEntry[str])
        assert_type(entry.fields, dict[str, str])
    consumer = r.stream_consumer("s", "g", "c")
    assert_type(consumer, redspec.StreamConsumer[str])
    assert_type(await consumer.ack("1-0"), int)
    async for e in r.stream_reader("s"):
        assert_type(e, StreamEntry[str])
    async for key in r.scan_iter(match="a*"):
        assert_type(key, str)
    async for pair in r.zscan_iter("z"):
        assert_type(pair, tuple[str, float])
    async for field_value in r.hscan_iter("h"):
        assert_type(field_value, tuple[str, str])
