"""redspec: an asyncio Redis client whose typed command methods are generated from the spec."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

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
from .lock import Lock, LockError, LockNotOwnedError
from .pubsub import Message, PubSub
from .scripting import Script
from .streams import StreamConsumer, StreamReader
from .types import (
    GeoMatch,
    PendingEntry,
    PendingSummary,
    StreamConsumerInfo,
    StreamEntry,
    StreamGroupInfo,
    StreamInfo,
)

if TYPE_CHECKING:
    from .pipeline import Pending, Pipeline


def __getattr__(name: str) -> Any:
    # Pipeline and Pending load the generated pipeline methods: only on first use.
    if name in ("Pipeline", "Pending"):
        from . import pipeline

        return getattr(pipeline, name)
    raise AttributeError(f"module 'redspec' has no attribute {name!r}")


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
    "Lock",
    "LockError",
    "LockNotOwnedError",
    "Message",
    "MovedError",
    "NoScriptError",
    "Pending",
    "PendingEntry",
    "PendingSummary",
    "Pipeline",
    "PoolTimeoutError",
    "ProtocolError",
    "PubSub",
    "ReadOnlyError",
    "Redis",
    "RedisError",
    "ResponseError",
    "Script",
    "StreamConsumer",
    "StreamConsumerInfo",
    "StreamEntry",
    "StreamGroupInfo",
    "StreamInfo",
    "StreamReader",
    "TimeoutError",
    "TryAgainError",
    "WatchError",
    "WrongTypeError",
    "__version__",
]
