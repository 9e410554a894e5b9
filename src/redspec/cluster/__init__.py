"""Redis Cluster: ``RedisCluster`` and the layers it is built from.

routing.py (pure: slots, key positions, request/response policies from the
generated table) sits below topology.py (the slot table and one
``ClientCore`` per node: the same multiplexed connection + bounded pool that
``Redis`` uses), dispatch.py (redirections, retries, fan-out, split
commands) and client.py (``RedisCluster``).
"""

from typing import TYPE_CHECKING, Any

from .client import ClusterOptions, NodeClient, RedisCluster

if TYPE_CHECKING:
    from .pipeline import ClusterPipeline
    from .pubsub import ClusterPubSub

__all__ = ["ClusterOptions", "ClusterPipeline", "ClusterPubSub", "NodeClient", "RedisCluster"]

# Pipelines and pub/sub load on first use, as in the package root.
_LAZY = {"ClusterPipeline": "pipeline", "ClusterPubSub": "pubsub"}


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'redspec.cluster' has no attribute {name!r}")
    from importlib import import_module

    value = getattr(import_module(f".{module}", __name__), name)
    globals()[name] = value
    return value
