"""redspec: an asyncio Redis client whose typed command methods are generated from the spec."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from ._generated.models import (
    BitfieldGet,
    BitfieldIncrby,
    BitfieldOverflow,
    BitfieldSet,
    StreamTrim,
)
from .client import Redis
from .errors import (
    ArgumentTypeError,
    AskError,
    AuthenticationError,
    BusyLoadingError,
    ClusterDownError,
    ClusterError,
    ConnectionError,
    CrossSlotError,
    DataError,
    DecodeError,
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
    from .cluster import RedisCluster
    from .lock import Lock, LockError, LockNotOwnedError
    from .pipeline import Pending, Pipeline
    from .pubsub import Message, PubSub
    from .scripting import Script
    from .sentinel import MasterNotFoundError, ReplicaNotFoundError, Sentinel
    from .streams import StreamConsumer, StreamReader

# The layers above the client load on first use: ``import redspec`` stays as
# cheap as the client itself (the pipeline module also brings the generated
# pipeline methods).
_LAZY = {
    "Lock": "lock",
    "LockError": "lock",
    "LockNotOwnedError": "lock",
    "Pending": "pipeline",
    "Pipeline": "pipeline",
    "Message": "pubsub",
    "PubSub": "pubsub",
    "RedisCluster": "cluster",
    "Script": "scripting",
    "MasterNotFoundError": "sentinel",
    "ReplicaNotFoundError": "sentinel",
    "Sentinel": "sentinel",
    "StreamConsumer": "streams",
    "StreamReader": "streams",
}


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'redspec' has no attribute {name!r}")
    from importlib import import_module

    value = getattr(import_module(f".{module}", __name__), name)
    globals()[name] = value
    return value


__version__ = "0.1.0"

__all__ = [
    "ArgumentTypeError",
    "AskError",
    "AuthenticationError",
    "BitfieldGet",
    "BitfieldIncrby",
    "BitfieldOverflow",
    "BitfieldSet",
    "BusyLoadingError",
    "ClusterDownError",
    "ClusterError",
    "ConnectionError",
    "CrossSlotError",
    "DataError",
    "DecodeError",
    "GeoMatch",
    "Lock",
    "LockError",
    "LockNotOwnedError",
    "MasterNotFoundError",
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
    "RedisCluster",
    "RedisError",
    "ReplicaNotFoundError",
    "ResponseError",
    "Script",
    "Sentinel",
    "StreamConsumer",
    "StreamConsumerInfo",
    "StreamEntry",
    "StreamGroupInfo",
    "StreamInfo",
    "StreamReader",
    "StreamTrim",
    "TimeoutError",
    "TryAgainError",
    "WatchError",
    "WrongTypeError",
    "__version__",
]
