"""How to reach and greet one server: the settings a ``Connection`` is opened with."""

from __future__ import annotations

import ssl as _ssl
from dataclasses import dataclass, field

from ._text import check_encoding_errors
from .errors import DataError

__all__ = ["DEFAULT_COMMAND_TIMEOUT", "ConnectionSettings"]

# How long a command waits for its reply unless told otherwise (seconds):
# long enough for slow commands on a loaded server, short enough that a
# client whose server stopped answering notices (redis-py 8 waits 5 s too).
DEFAULT_COMMAND_TIMEOUT = 5.0


def _package_version() -> str:
    # Imported late: the package's __init__ may import this module before it
    # has defined __version__.
    from . import __version__

    return __version__


@dataclass(frozen=True, slots=True)
class ConnectionSettings:
    """Immutable connection settings.

    ``path`` selects a unix socket (``host`` and ``port`` are then ignored).
    ``readonly`` sends READONLY in the greeting (a cluster replica then
    serves reads of the slots its primary owns).
    ``protocol`` is the RESP version asked for with HELLO; a server without
    HELLO gets RESP2. The password is kept out of ``repr``.
    """

    host: str = "localhost"
    port: int = 6379
    path: str | None = None
    db: int = 0
    username: str | None = None
    password: str | None = field(default=None, repr=False)
    protocol: int = 3
    client_name: str | None = None
    ssl: _ssl.SSLContext | None = None
    server_hostname: str | None = None
    connect_timeout: float | None = 5.0
    decode_responses: bool = False
    encoding: str = "utf-8"
    # What to do with text the encoding cannot hold, both ways (see _text.py).
    encoding_errors: str = "strict"
    lib_name: str = "redspec"
    lib_version: str = field(default_factory=_package_version)
    readonly: bool = False

    def __post_init__(self) -> None:
        if self.protocol not in (2, 3):
            raise DataError(f"protocol must be 2 or 3, not {self.protocol!r}")
        check_encoding_errors(self.encoding_errors)

    @property
    def address(self) -> str:
        """Where the server is, for messages: ``host:port`` or ``unix:path``."""
        if self.path is not None:
            return f"unix:{self.path}"
        if ":" in self.host:  # an IPv6 literal
            return f"[{self.host}]:{self.port}"
        return f"{self.host}:{self.port}"
