"""The cluster clients that bench/cluster.py measures, behind one small interface.

Each uses its library's public cluster API the way its documentation shows.
Methods that return an awaitable without ``async def`` hand the client's own
awaitable through untouched, so the harness adds no coroutine to the call.
A method set to None means the client has no way to do it.
"""

from __future__ import annotations

import contextlib
from collections.abc import Awaitable, Callable
from typing import Any
from urllib.parse import urlsplit

from clients import dist_version

__all__ = ["CLUSTER_CLIENTS", "ClusterClient"]


class ClusterClient:
    name = "?"
    dist = "?"
    how: dict[str, str] = {}
    # Set to None on a subclass that cannot do it.
    dbsize: Callable[[], Awaitable[Any]] | None
    keys: Callable[[bytes], Awaitable[Any]] | None

    async def open(self, url: str) -> None:
        raise NotImplementedError

    async def close(self) -> None:
        raise NotImplementedError

    def get(self, key: bytes) -> Awaitable[Any]:
        raise NotImplementedError

    def set(self, key: bytes, value: bytes) -> Awaitable[Any]:
        raise NotImplementedError

    def mget(self, keys: list[bytes]) -> Awaitable[Any]:
        raise NotImplementedError

    async def pipeline_set(self, pairs: list[tuple[bytes, bytes]]) -> None:
        raise NotImplementedError

    def describe(self) -> str:
        return f"{dist_version(self.dist)}; " + "; ".join(f"{k}: {v}" for k, v in self.how.items())


class RedspecCluster(ClusterClient):
    name, dist = "redspec", "redspec"
    how = {
        "mget": "mget(*keys) (split per slot, merged in key order)",
        "dbsize/keys": "dbsize(), keys(p) (fan-out and aggregation from the spec's tips)",
    }

    async def open(self, url: str) -> None:
        import redspec

        self.rc = redspec.RedisCluster.from_url(url)
        await self.rc.initialize()

    async def close(self) -> None:
        await self.rc.aclose()

    def get(self, key: bytes) -> Awaitable[Any]:
        return self.rc.get(key)

    def set(self, key: bytes, value: bytes) -> Awaitable[Any]:
        return self.rc.set(key, value)

    def mget(self, keys: list[bytes]) -> Awaitable[Any]:
        return self.rc.mget(*keys)

    async def pipeline_set(self, pairs: list[tuple[bytes, bytes]]) -> None:
        async with self.rc.pipeline(transaction=False) as p:
            for k, v in pairs:
                p.set(k, v)
            replies = await p.execute()
        assert len(replies) == len(pairs)

    def dbsize(self) -> Awaitable[Any]:
        return self.rc.dbsize()

    def keys(self, pattern: bytes) -> Awaitable[Any]:
        return self.rc.keys(pattern)


class RedisPyCluster(ClusterClient):
    name, dist = "redis-py", "redis"
    how = {
        "mget": "mget_nonatomic(keys) (mget refuses keys of several slots)",
        "dbsize/keys": "dbsize()/keys(p) with target_nodes=RedisCluster.PRIMARIES",
    }

    async def open(self, url: str) -> None:
        from redis.asyncio.cluster import RedisCluster

        self.primaries = RedisCluster.PRIMARIES
        self.rc = RedisCluster.from_url(url)
        await self.rc.initialize()

    async def close(self) -> None:
        await self.rc.aclose()

    def get(self, key: bytes) -> Awaitable[Any]:
        return self.rc.get(key)

    def set(self, key: bytes, value: bytes) -> Awaitable[Any]:
        return self.rc.set(key, value)

    def mget(self, keys: list[bytes]) -> Awaitable[Any]:
        return self.rc.mget_nonatomic(keys)

    async def pipeline_set(self, pairs: list[tuple[bytes, bytes]]) -> None:
        async with self.rc.pipeline(transaction=False) as p:
            for k, v in pairs:
                p.set(k, v)
            replies = await p.execute()
        assert len(replies) == len(pairs)

    def dbsize(self) -> Awaitable[Any]:
        return self.rc.dbsize(target_nodes=self.primaries)

    def keys(self, pattern: bytes) -> Awaitable[Any]:
        return self.rc.keys(pattern, target_nodes=self.primaries)


class CoredisCluster(ClusterClient):
    name, dist = "coredis", "coredis"
    how = {
        "mget": "mget(keys) (split per slot)",
        "dbsize": "none: RedisCluster.dbsize() cannot be routed",
        "keys": "keys(p) (every primary, merged into a set)",
    }
    dbsize = None

    async def open(self, url: str) -> None:
        import coredis

        self.stack = contextlib.AsyncExitStack()
        client = coredis.RedisCluster.from_url(url)
        if hasattr(client, "__aenter__"):  # coredis >= 6 must be entered
            client = await self.stack.enter_async_context(client)
        self.rc = client

    async def close(self) -> None:
        await self.stack.aclose()

    def get(self, key: bytes) -> Awaitable[Any]:
        return self.rc.get(key)

    def set(self, key: bytes, value: bytes) -> Awaitable[Any]:
        return self.rc.set(key, value)

    def mget(self, keys: list[bytes]) -> Awaitable[Any]:
        return self.rc.mget(keys)

    async def pipeline_set(self, pairs: list[tuple[bytes, bytes]]) -> None:
        async with self.rc.pipeline(transaction=False) as p:
            for k, v in pairs:
                p.set(k, v)
        assert len(p.results or ()) == len(pairs)

    def keys(self, pattern: bytes) -> Awaitable[Any]:
        return self.rc.keys(pattern)


class GlideCluster(ClusterClient):
    name, dist = "valkey-glide", "valkey-glide"
    how = {
        "mget": "mget(keys) (split per slot by the Rust core)",
        "pipeline": "exec(ClusterBatch(is_atomic=False))",
        "dbsize": "dbsize() (all primaries, summed)",
        "keys": 'custom_command(["KEYS", p]) (all primaries, merged; there is no keys())',
        "request_timeout": "10 s (the 250 ms default can expire on a loaded 2-CPU machine)",
    }

    async def open(self, url: str) -> None:
        from glide import GlideClusterClient, GlideClusterClientConfiguration, NodeAddress

        parts = urlsplit(url)
        config = GlideClusterClientConfiguration(
            [NodeAddress(parts.hostname or "127.0.0.1", parts.port or 6379)],
            request_timeout=10_000,
        )
        self.rc = await GlideClusterClient.create(config)

    async def close(self) -> None:
        await self.rc.close()

    def get(self, key: bytes) -> Awaitable[Any]:
        return self.rc.get(key)

    def set(self, key: bytes, value: bytes) -> Awaitable[Any]:
        return self.rc.set(key, value)

    def mget(self, keys: list[bytes]) -> Awaitable[Any]:
        return self.rc.mget(keys)

    async def pipeline_set(self, pairs: list[tuple[bytes, bytes]]) -> None:
        from glide import ClusterBatch

        batch = ClusterBatch(is_atomic=False)
        for k, v in pairs:
            batch.set(k, v)
        replies = await self.rc.exec(batch, raise_on_error=True)
        assert replies is not None and len(replies) == len(pairs)

    def dbsize(self) -> Awaitable[Any]:
        return self.rc.dbsize()

    def keys(self, pattern: bytes) -> Awaitable[Any]:
        return self.rc.custom_command([b"KEYS", pattern])


CLUSTER_CLIENTS: dict[str, type[ClusterClient]] = {
    c.name: c for c in (RedspecCluster, RedisPyCluster, CoredisCluster, GlideCluster)
}
