"""Redis Cluster: ``RedisCluster`` and the layers it is built from.

routing.py (pure: slots, key positions, request/response policies from the
generated table) sits below topology.py (the slot table and one
``ClientCore`` per node: the same multiplexed connection + bounded pool that
``Redis`` uses), dispatch.py (redirections, retries, fan-out, split
commands) and client.py (``RedisCluster``).
"""

from .client import ClusterOptions, NodeClient, RedisCluster

__all__ = ["ClusterOptions", "NodeClient", "RedisCluster"]
