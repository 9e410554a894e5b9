"""The error classes under redis-py's names (``from redspec.exceptions import WatchError``).

The same classes as :mod:`redspec.errors` (``redspec.exceptions.ConnectionError is
redspec.ConnectionError``); a few have a redis-py name as well:

=========================  ==========================================
redis-py                   redspec
=========================  ==========================================
``ClusterCrossSlotError``  ``CrossSlotError``
``InvalidResponse``        ``ProtocolError``
``MaxConnectionsError``    ``PoolTimeoutError`` (the pool stayed full)
=========================  ==========================================

redis-py classes with no class of their own here (``ExecAbortError``,
``OutOfMemoryError``, ``NoPermissionError``, ``ModuleError``...) are
``ResponseError`` with the server's code in ``.code`` (``"EXECABORT"``,
``"OOM"``, ``"NOPERM"``...); docs/migrating-from-redis-py.md lists them.
"""

from __future__ import annotations

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
from .lock import LockError, LockNotOwnedError

ClusterCrossSlotError = CrossSlotError
InvalidResponse = ProtocolError
MaxConnectionsError = PoolTimeoutError

__all__ = [
    "AskError",
    "AuthenticationError",
    "BusyLoadingError",
    "ClusterCrossSlotError",
    "ClusterDownError",
    "ClusterError",
    "ConnectionError",
    "CrossSlotError",
    "DataError",
    "InvalidResponse",
    "LockError",
    "LockNotOwnedError",
    "MaxConnectionsError",
    "MovedError",
    "NoScriptError",
    "PoolTimeoutError",
    "ProtocolError",
    "ReadOnlyError",
    "RedisError",
    "ResponseError",
    "TimeoutError",
    "TryAgainError",
    "WatchError",
    "WrongTypeError",
]
