"""The exception hierarchy.

Every error redspec raises is a ``RedisError``. Where a builtin exception
means the same thing (``ConnectionError``, ``TimeoutError``, ``ValueError``),
the redspec class also derives from it, so ``except TimeoutError`` works.
OSError and ssl errors are mapped once, in the connection layer; server
error replies become ``ResponseError`` subclasses chosen by their code.
"""

from __future__ import annotations

import builtins

__all__ = [
    "ArgumentTypeError",
    "AskError",
    "AuthenticationError",
    "BusyLoadingError",
    "ClusterDownError",
    "ClusterError",
    "ConnectionError",
    "CrossSlotError",
    "DataError",
    "DecodeError",
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
    "error_from_reply",
]


class RedisError(Exception):
    """Base of every redspec error."""


class ConnectionError(RedisError, builtins.ConnectionError):
    """The connection failed or was lost; the command may or may not have run."""


class TimeoutError(RedisError, builtins.TimeoutError):
    """No reply (or no connection) within the configured time."""


class PoolTimeoutError(TimeoutError):
    """No exclusive connection became free within ``pool_timeout``."""


class AuthenticationError(RedisError):
    """The server rejected the credentials (never retried)."""


class ProtocolError(RedisError):
    """The server sent bytes that are not RESP; the connection was discarded."""


class DataError(RedisError, ValueError):
    """Bad input, detected before anything was sent (or a reply that is not text)."""


class ArgumentTypeError(DataError, TypeError):
    """An argument of a type that cannot be sent (a dict where a value was expected,
    a list where keys go as separate arguments...); nothing was sent."""


class DecodeError(DataError):
    """A reply holds bytes that are not text in the client's encoding
    (``decode_responses=True`` with the default ``encoding_errors="strict"``).

    Only the call that asked for that reply fails; the connection goes on.
    ``reply`` is the reply decoded with ``surrogateescape`` (nothing lost).
    """

    reply: object = None


class ResponseError(RedisError):
    """An error reply. ``code`` is its first word (``ERR``, ``WRONGTYPE``, ``MOVED``...)."""

    code: str

    def __init__(self, message: str) -> None:
        super().__init__(message)
        head = message.split(" ", 1)[0]
        self.code = head if head.isupper() else "ERR"


class WrongTypeError(ResponseError):
    """WRONGTYPE: the key holds another kind of value."""


class NoScriptError(ResponseError):
    """NOSCRIPT: EVALSHA named a script the server does not have."""


class ReadOnlyError(ResponseError):
    """READONLY: a write was sent to a replica."""


class BusyLoadingError(ResponseError):
    """LOADING: the server is loading its dataset."""


class WatchError(ResponseError):
    """A watched key changed: EXEC was aborted."""

    def __init__(self, message: str = "EXECABORT watched key changed, transaction aborted") -> None:
        super().__init__(message)


class ClusterError(ResponseError):
    """Base of the cluster redirection and availability errors."""


class MovedError(ClusterError):
    """MOVED slot host:port: the slot lives on another node."""

    slot: int
    host: str
    port: int

    def __init__(self, message: str) -> None:
        super().__init__(message)
        _, slot, addr = [*message.split(" "), "", ""][:3]
        host, _, port = addr.rpartition(":")
        self.slot = int(slot) if slot.isdigit() else -1
        self.host = host
        self.port = int(port) if port.isdigit() else 0


class AskError(MovedError):
    """ASK slot host:port: retry this one command on another node after ASKING."""


class TryAgainError(ClusterError):
    """TRYAGAIN: a multi-key command hit a slot being migrated."""


class ClusterDownError(ClusterError):
    """CLUSTERDOWN: the cluster cannot serve the slot right now."""


class CrossSlotError(ClusterError):
    """The keys of one command hash to different slots."""


_BY_CODE: dict[str, type[ResponseError]] = {
    "WRONGTYPE": WrongTypeError,
    "NOSCRIPT": NoScriptError,
    "READONLY": ReadOnlyError,
    "LOADING": BusyLoadingError,
    "MOVED": MovedError,
    "ASK": AskError,
    "TRYAGAIN": TryAgainError,
    "CLUSTERDOWN": ClusterDownError,
    "CROSSSLOT": CrossSlotError,
    "EXECABORT": ResponseError,
}


def error_from_reply(message: str) -> ResponseError:
    """The ResponseError subclass for a server error reply's text."""
    head = message.split(" ", 1)[0]
    return _BY_CODE.get(head, ResponseError)(message)
