# Each line marked `# E: <code>` must be rejected by mypy with that error code.
from __future__ import annotations

from redspec.cluster import RedisCluster


def wants_text(value: str | None) -> None: ...


def wants_count(value: int) -> None: ...


async def misuse(rc: RedisCluster[bytes], rs: RedisCluster[str]) -> None:
    RedisCluster(startup_nodes=[("h", "7000")])  # E: list-item
    RedisCluster(read_from_replicas="yes")  # E: call-overload
    RedisCluster(nonsense=1)  # E: call-overload
    wants_text(await rc.get("k"))  # E: arg-type
    rs.node_for_key(1.5j)  # E: arg-type
    wants_count(rc.pipeline().get("k").result())  # E: arg-type
