"""The clients that bench/run.py measures, each behind the same small interface.

Every operation takes and returns ``bytes``. Methods that return an awaitable
without ``async def`` hand the client's own awaitable through untouched, so the
harness adds no coroutine of its own to the measured call.
"""

from __future__ import annotations

import contextlib
import importlib
from collections.abc import Awaitable
from importlib.metadata import PackageNotFoundError, version
from typing import Any
from urllib.parse import urlsplit


def dist_version(dist: str) -> str:
    try:
        return version(dist)
    except PackageNotFoundError:
        return "not installed"


class Subscriber:
    async def recv(self) -> bytes:
        """The payload of the next published message (subscribe replies skipped)."""
        raise NotImplementedError

    async def close(self) -> None:
        raise NotImplementedError


class Client:
    name = "?"
    dist = "?"  # the distribution whose version RESULTS.md shows
    module = "?"  # what "import time" imports

    @classmethod
    def check(cls) -> None:
        """Raise if the client cannot be used here."""

    async def open(self, url: str) -> None:
        raise NotImplementedError

    async def close(self) -> None:
        raise NotImplementedError

    def get(self, key: bytes) -> Awaitable[Any]:
        raise NotImplementedError

    def set(self, key: bytes, value: bytes) -> Awaitable[Any]:
        raise NotImplementedError

    async def pipeline_set(self, pairs: list[tuple[bytes, bytes]]) -> None:
        raise NotImplementedError

    def xadd(self, stream: bytes, fields: dict[bytes, bytes]) -> Awaitable[Any]:
        raise NotImplementedError

    async def xread_ids(self, stream: bytes, after: bytes, count: int) -> list[bytes]:
        """Ids of up to ``count`` entries after ``after`` (their fields are decoded too)."""
        raise NotImplementedError

    def publish(self, channel: bytes, message: bytes) -> Awaitable[Any]:
        raise NotImplementedError

    async def subscribe(self, channel: bytes) -> Subscriber:
        raise NotImplementedError

    def describe(self) -> str:
        """Settings that matter for the figures (protocol, parser, pool)."""
        return ""


# ------------------------------------------------------------------ redspec


class RedspecClient(Client):
    name, dist, module = "redspec", "redspec", "redspec"

    @classmethod
    def check(cls) -> None:
        redspec = importlib.import_module(cls.module)  # another copy with bench/baseline.py
        missing = [a for a in ("Redis",) if not hasattr(redspec, a)]
        if missing:
            raise RuntimeError(f"redspec has no {', '.join(missing)} yet")

    async def open(self, url: str) -> None:
        redspec = importlib.import_module(self.module)
        self.r = redspec.Redis.from_url(url)
        await self.r.ping()

    async def close(self) -> None:
        await self.r.aclose()

    def get(self, key: bytes) -> Awaitable[Any]:
        return self.r.get(key)

    def set(self, key: bytes, value: bytes) -> Awaitable[Any]:
        return self.r.set(key, value)

    async def pipeline_set(self, pairs: list[tuple[bytes, bytes]]) -> None:
        async with self.r.pipeline(transaction=False) as p:
            for k, v in pairs:
                p.set(k, v)
            replies = await p.execute()
        assert len(replies) == len(pairs)

    def xadd(self, stream: bytes, fields: dict[bytes, bytes]) -> Awaitable[Any]:
        return self.r.xadd(stream, fields)

    async def xread_ids(self, stream: bytes, after: bytes, count: int) -> list[bytes]:
        reply = await self.r.xread({stream: after}, count=count)
        return [entry.id for entry in reply.get(stream, ())]

    def publish(self, channel: bytes, message: bytes) -> Awaitable[Any]:
        return self.r.publish(channel, message)

    async def subscribe(self, channel: bytes) -> Subscriber:
        ps = self.r.pubsub()
        await ps.__aenter__()
        await ps.subscribe(channel)
        return _RedspecSubscriber(ps)

    def describe(self) -> str:
        return "Redis.from_url(url), defaults (RESP3, one multiplexed connection)"


class _RedspecSubscriber(Subscriber):
    def __init__(self, ps: Any) -> None:
        self.ps = ps

    async def recv(self) -> bytes:
        while True:
            m = await self.ps.get_message(timeout=None)
            if m is not None and m.kind == "message":
                return bytes(m.data)

    async def close(self) -> None:
        await self.ps.__aexit__(None, None, None)


# ----------------------------------------------------------------- redis-py


class RedisPyClient(Client):
    name, dist, module = "redis-py", "redis", "redis.asyncio"

    @classmethod
    def check(cls) -> None:
        import redis.utils

        if not redis.utils.HIREDIS_AVAILABLE:
            raise RuntimeError("redis-py without hiredis: not the configuration compared here")

    async def open(self, url: str) -> None:
        import redis.asyncio

        self.r = redis.asyncio.Redis.from_url(url)
        await self.r.ping()

    async def close(self) -> None:
        await self.r.aclose()

    def get(self, key: bytes) -> Awaitable[Any]:
        return self.r.get(key)

    def set(self, key: bytes, value: bytes) -> Awaitable[Any]:
        return self.r.set(key, value)

    async def pipeline_set(self, pairs: list[tuple[bytes, bytes]]) -> None:
        async with self.r.pipeline(transaction=False) as p:
            for k, v in pairs:
                p.set(k, v)
            replies = await p.execute()
        assert len(replies) == len(pairs)

    def xadd(self, stream: bytes, fields: dict[bytes, bytes]) -> Awaitable[Any]:
        return self.r.xadd(stream, fields)  # type: ignore[arg-type]

    async def xread_ids(self, stream: bytes, after: bytes, count: int) -> list[bytes]:
        reply = await self.r.xread({stream: after}, count=count)
        if not reply:
            return []
        if isinstance(reply, dict):  # RESP3: {stream: [[(id, fields), ...]]}
            entries = reply[stream][0]
        else:  # RESP2: [[stream, [(id, fields), ...]]]
            entries = reply[0][1]
        return [entry_id for entry_id, _fields in entries]

    def publish(self, channel: bytes, message: bytes) -> Awaitable[Any]:
        return self.r.publish(channel, message)

    async def subscribe(self, channel: bytes) -> Subscriber:
        ps = self.r.pubsub(ignore_subscribe_messages=True)
        await ps.subscribe(channel)
        return _RedisPySubscriber(ps)

    def describe(self) -> str:
        pool = self.r.connection_pool
        probe = pool.connection_class(**pool.connection_kwargs)  # never connected
        return (f"redis.asyncio.Redis.from_url(url), defaults: RESP{probe.protocol}, "
                f"parser {type(probe._parser).__name__}, {type(pool).__name__}")


class _RedisPySubscriber(Subscriber):
    def __init__(self, ps: Any) -> None:
        self.ps = ps

    async def recv(self) -> bytes:
        while True:
            m = await self.ps.get_message(ignore_subscribe_messages=True, timeout=None)
            if m is not None and m["type"] == "message":
                return bytes(m["data"])

    async def close(self) -> None:
        await self.ps.aclose()


# ------------------------------------------------------------------ coredis


class CoredisClient(Client):
    name, dist, module = "coredis", "coredis", "coredis"

    async def open(self, url: str) -> None:
        import coredis

        self.stack = contextlib.AsyncExitStack()
        # coredis 6 clients are async context managers that must be entered
        self.r = await self.stack.enter_async_context(coredis.Redis.from_url(url))
        await self.r.ping()

    async def close(self) -> None:
        await self.stack.aclose()

    def get(self, key: bytes) -> Awaitable[Any]:
        return self.r.get(key)

    def set(self, key: bytes, value: bytes) -> Awaitable[Any]:
        return self.r.set(key, value)

    async def pipeline_set(self, pairs: list[tuple[bytes, bytes]]) -> None:
        async with self.r.pipeline(transaction=False) as p:
            for k, v in pairs:
                p.set(k, v)
        assert len(p.results) == len(pairs)

    def xadd(self, stream: bytes, fields: dict[bytes, bytes]) -> Awaitable[Any]:
        return self.r.xadd(stream, fields)

    async def xread_ids(self, stream: bytes, after: bytes, count: int) -> list[bytes]:
        reply = await self.r.xread({stream: after}, count=count)
        if not reply:
            return []
        return [entry.identifier for entry in reply[stream]]

    def publish(self, channel: bytes, message: bytes) -> Awaitable[Any]:
        return self.r.publish(channel, message)

    async def subscribe(self, channel: bytes) -> Subscriber:
        stack = contextlib.AsyncExitStack()
        ps = await stack.enter_async_context(
            self.r.pubsub(channels=[channel], ignore_subscribe_messages=True)
        )
        return _CoredisSubscriber(ps, stack)

    def describe(self) -> str:
        pool = type(self.r.connection_pool).__name__
        return f"coredis.Redis.from_url(url), defaults (RESP3), {pool}"


class _CoredisSubscriber(Subscriber):
    def __init__(self, ps: Any, stack: contextlib.AsyncExitStack) -> None:
        self.ps, self.stack = ps, stack

    async def recv(self) -> bytes:
        while True:
            m = await self.ps.get_message(ignore_subscribe_messages=True, timeout=None)
            if m is not None and m["type"] == "message":
                return bytes(m["data"])

    async def close(self) -> None:
        await self.stack.aclose()


# ------------------------------------------------------------- valkey-glide


class GlideClient(Client):
    name, dist, module = "valkey-glide", "valkey-glide", "glide"
    TIMEOUT_MS = 10_000  # glide's default request timeout (250 ms) is shorter than a 1 MiB burst

    def _config(self, channel: bytes | None = None) -> Any:
        from glide import GlideClientConfiguration as Config
        from glide import NodeAddress

        extra: dict[str, Any] = {}
        if channel is not None:  # glide subscribes through the client's configuration
            extra["pubsub_subscriptions"] = Config.PubSubSubscriptions(
                channels_and_patterns={Config.PubSubChannelModes.Exact: {channel.decode()}},
                callback=None, context=None,
            )
        return Config([NodeAddress(self.host, self.port)], request_timeout=self.TIMEOUT_MS,
                      **extra)

    async def open(self, url: str) -> None:
        from glide import GlideClient as Glide

        parts = urlsplit(url)
        self.host, self.port = parts.hostname or "127.0.0.1", parts.port or 6379
        self.r = await Glide.create(self._config())

    async def close(self) -> None:
        await self.r.close()

    def get(self, key: bytes) -> Awaitable[Any]:
        return self.r.get(key)

    def set(self, key: bytes, value: bytes) -> Awaitable[Any]:
        return self.r.set(key, value)

    async def pipeline_set(self, pairs: list[tuple[bytes, bytes]]) -> None:
        from glide import Batch

        batch = Batch(is_atomic=False)
        for k, v in pairs:
            batch.set(k, v)
        replies = await self.r.exec(batch, raise_on_error=True)
        assert replies is not None and len(replies) == len(pairs)

    def xadd(self, stream: bytes, fields: dict[bytes, bytes]) -> Awaitable[Any]:
        return self.r.xadd(stream, list(fields.items()))

    async def xread_ids(self, stream: bytes, after: bytes, count: int) -> list[bytes]:
        from glide import StreamReadOptions

        reply = await self.r.xread({stream: after}, StreamReadOptions(count=count))
        if not reply:
            return []
        return list(reply[stream])  # {stream: {id: [[field, value], ...]}}

    def publish(self, channel: bytes, message: bytes) -> Awaitable[Any]:
        return self.r.publish(message, channel)  # glide's order: message, then channel

    async def subscribe(self, channel: bytes) -> Subscriber:
        from glide import GlideClient as Glide

        return _GlideSubscriber(await Glide.create(self._config(channel)))

    def describe(self) -> str:
        return f"GlideClient (RESP3), request_timeout={self.TIMEOUT_MS} ms"


class _GlideSubscriber(Subscriber):
    def __init__(self, client: Any) -> None:
        self.client = client

    async def recv(self) -> bytes:
        m = await self.client.get_pubsub_message()
        return bytes(m.message)

    async def close(self) -> None:
        await self.client.close()


CLIENTS: dict[str, type[Client]] = {
    c.name: c for c in (RedspecClient, RedisPyClient, CoredisClient, GlideClient)
}
