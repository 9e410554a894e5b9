"""Redis Sentinel: clients that follow a monitored master (and read from its replicas).

See ``redspec.sentinel._sentinel`` for the contract; ``Sentinel`` is also
``redspec.Sentinel``.
"""

from __future__ import annotations

from ._sentinel import Sentinel, SentinelClientOptions, client_from_url
from ._wire import MasterNotFoundError, ReplicaNotFoundError

__all__ = [
    "MasterNotFoundError",
    "ReplicaNotFoundError",
    "Sentinel",
    "SentinelClientOptions",
    "client_from_url",
]
