"""redspec: an asyncio Redis client whose typed command methods are generated from the spec."""

from __future__ import annotations

from .client import Redis
from .errors import (
    AskError,
    AuthenticationError,
    BusyLoadingError,
    ClusterDownError,
    ClusterError,
    ConnectionError,
    CrossSlotError,
    DataError,
    MovedError,
    NoScriptError,
    PoolTimeoutError,
    ProtocolError,
    ReadOnlyError,
    RedisError,
    ResponseError,
    TimeoutError,
    TryAgainError,
    WatchError,
    WrongTypeError,
)
from .types import GeoMatch, StreamEntry

__version__ = "0.1.0"

__all__ = [
    "AskError",
    "AuthenticationError",
    "BusyLoadingError",
    "ClusterDownError",
    "ClusterError",
    "ConnectionError",
    "CrossSlotError",
    "DataError",
    "GeoMatch",
    "MovedError",
    "NoScriptError",
    "PoolTimeoutError",
    "ProtocolError",
    "ReadOnlyError",
    "Redis",
    "RedisError",
    "ResponseError",
    "StreamEntry",
    "TimeoutError",
    "TryAgainError",
    "WatchError",
    "WrongTypeError",
    "__version__",
]
