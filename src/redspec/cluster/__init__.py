"""Redis Cluster: ``RedisCluster`` and the layers it is built from.

routing.py (pure: slots, key positions, request/response policies from the
generated table) sits below topology and the client; every node is served by
the same ``ClientCore`` (one multiplexed connection + a bounded pool) that
``Redis`` uses.
"""
