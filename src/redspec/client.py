"""``Redis``: the client for one server.

Ordinary commands share one multiplexed connection; blocking commands and
stateful sessions (WATCH/MULTI, pub/sub, MONITOR) take an exclusive
connection from a bounded pool. See ``_core.py`` for connecting, reconnecting
and timeouts, and ``pool.py`` for the pool.
"""

from __future__ import annotations

import codecs
import ssl as _ssl
from collections.abc import AsyncGenerator, Awaitable, Sequence
from contextlib import asynccontextmanager
from types import TracebackType
from typing import TYPE_CHECKING, Any, AnyStr, Literal, TypedDict, overload

from ._base import READ, WRITE
from ._core import ClientCore
from ._generated.client import Commands
from ._settings import DEFAULT_COMMAND_TIMEOUT, ConnectionSettings
from ._text import check_encoding_errors
from .connection import Connection, PushHandler
from .errors import DataError
from .helpers import ClientHelpers
from .url import is_sentinel_url, parse_url

if TYPE_CHECKING:
    from typing_extensions import Self, Unpack

__all__ = ["Redis", "RedisOptions"]

_UNSET: Any = object()


class _Keywords(TypedDict, total=False):
    """The keyword-only settings of ``Redis`` besides decode_responses."""

    db: int
    username: str | None
    password: str | None
    ssl: _ssl.SSLContext | bool | None
    protocol: int
    encoding: str
    encoding_errors: str
    connect_timeout: float | None
    command_timeout: float | None
    max_connections: int
    pool_timeout: float | None
    client_name: str | None
    unix_socket_path: str | None
    retry_reads: bool
    ssl_ca_certs: str | None
    ssl_certfile: str | None
    ssl_keyfile: str | None
    ssl_cert_reqs: str | None
    ssl_check_hostname: bool | None


class RedisOptions(_Keywords, total=False):
    """Every setting ``Redis.from_url`` takes as a keyword, besides decode_responses."""

    host: str
    port: int


class Redis(ClientHelpers[AnyStr], Commands[AnyStr]):
    """An asyncio client for one Redis (or Valkey) server.

    ``Redis[bytes]`` by default; ``Redis[str]`` with ``decode_responses=True``.
    Nothing connects until the first command (or ``async with``).

    Settings (all keyword-only except host and port):

    - ``connect_timeout`` (5.0 s): bounds each connection attempt, and how long a
      command waits for a reconnect after the connection was lost.
    - ``command_timeout`` (5.0 s; None: no limit): how long a command waits
      for its reply, a connect or reconnect it waits for included, before
      ``TimeoutError``. Blocking commands get their block time added (a
      block of 0, "forever", is waited for without limit).
      ``with_options(command_timeout=...)`` overrides it for a view. A
      connection on which a reply is overdue stops taking commands: the next
      calls go to a fresh one (see the README, "Guarantees").
    - ``retry_reads`` (False): when True, a read-only command (per the spec)
      whose connection was lost while it was in flight is sent once more after
      the reconnect. Off by default because it costs reads the fast path (a
      coroutine wraps each one to catch the loss). Writes are never re-sent:
      they may have been executed. Blocking commands are never retried.
    - ``max_connections`` (50) and ``pool_timeout`` (5.0 s): the pool of
      exclusive connections for blocking commands and sessions.
    - TLS: ``ssl=True`` (system CAs), ``ssl=SSLContext``, or ``ssl=True`` with
      ``ssl_ca_certs``, ``ssl_certfile``/``ssl_keyfile`` (client certificate),
      ``ssl_cert_reqs`` (``"required"``, ``"optional"``, ``"none"``) and
      ``ssl_check_hostname``. The chain and host name are verified by default.
    - ``unix_socket_path``: connect to a unix socket instead of host:port.
    - ``encoding`` ("utf-8"): how str arguments are written and, with
      ``decode_responses=True``, how replies are read.
    - ``encoding_errors`` ("strict"): what to do with bytes that are not text in
      that encoding. "strict": a reply holding them fails its call with
      ``DecodeError`` (the connection goes on), and text the encoding cannot
      hold is refused with ``DataError`` before sending. "surrogateescape":
      lossless (such a str written back gives the original bytes); "replace",
      "backslashreplace", "ignore" as in ``bytes.decode``.
    """

    __slots__ = ("_core", "_fast_max", "_timeout")

    _core: ClientCore
    _timeout: float | None
    # The highest mode (WRITE=0 < READ=1) that may take the fast path: WRITE
    # when reads are retried (a coroutine must catch the loss), else READ.
    _fast_max: int

    @overload
    def __init__(  # pyrefly: ignore[inconsistent-overload]  (it does not expand Unpack)
        self: Redis[bytes],
        host: str = ...,
        port: int = ...,
        *,
        decode_responses: Literal[False] = ...,
        **options: Unpack[_Keywords],
    ) -> None: ...

    @overload
    def __init__(  # pyrefly: ignore[inconsistent-overload]  (it does not expand Unpack)
        self: Redis[str],
        host: str = ...,
        port: int = ...,
        *,
        decode_responses: Literal[True],
        **options: Unpack[_Keywords],
    ) -> None: ...

    @overload
    def __init__(  # pyrefly: ignore[inconsistent-overload]  (it does not expand Unpack)
        self: Redis[Any],
        host: str = ...,
        port: int = ...,
        *,
        decode_responses: bool,
        **options: Unpack[_Keywords],
    ) -> None: ...

    def __init__(
        self,
        host: str = "localhost",
        port: int = 6379,
        *,
        db: int = 0,
        username: str | None = None,
        password: str | None = None,
        ssl: _ssl.SSLContext | bool | None = None,
        protocol: int = 3,
        decode_responses: bool = False,
        encoding: str = "utf-8",
        encoding_errors: str = "strict",
        connect_timeout: float | None = 5.0,
        command_timeout: float | None = DEFAULT_COMMAND_TIMEOUT,
        max_connections: int = 50,
        pool_timeout: float | None = 5.0,
        client_name: str | None = None,
        unix_socket_path: str | None = None,
        retry_reads: bool = False,
        ssl_ca_certs: str | None = None,
        ssl_certfile: str | None = None,
        ssl_keyfile: str | None = None,
        ssl_cert_reqs: str | None = None,
        ssl_check_hostname: bool | None = None,
    ) -> None:
        settings, retry, max_conns, pool_wait = prepare_settings(
            host=host,
            port=port,
            db=db,
            username=username,
            password=password,
            ssl=ssl,
            protocol=protocol,
            decode_responses=decode_responses,
            encoding=encoding,
            encoding_errors=encoding_errors,
            connect_timeout=connect_timeout,
            command_timeout=command_timeout,
            max_connections=max_connections,
            pool_timeout=pool_timeout,
            client_name=client_name,
            unix_socket_path=unix_socket_path,
            retry_reads=retry_reads,
            ssl_ca_certs=ssl_ca_certs,
            ssl_certfile=ssl_certfile,
            ssl_keyfile=ssl_keyfile,
            ssl_cert_reqs=ssl_cert_reqs,
            ssl_check_hostname=ssl_check_hostname,
        )
        self._core = ClientCore(
            settings, retry_reads=retry, max_connections=max_conns, pool_timeout=pool_wait
        )
        self._set_timeout(command_timeout)

    @overload
    @classmethod
    def from_url(
        cls,
        url: str,
        *,
        decode_responses: Literal[False] = ...,
        **settings: Unpack[RedisOptions],
    ) -> Redis[bytes]: ...

    @overload
    @classmethod
    def from_url(
        cls, url: str, *, decode_responses: Literal[True], **settings: Unpack[RedisOptions]
    ) -> Redis[str]: ...

    @overload
    @classmethod
    def from_url(
        cls, url: str, *, decode_responses: bool, **settings: Unpack[RedisOptions]
    ) -> Redis[Any]: ...

    @classmethod
    def from_url(cls, url: str, **settings: Any) -> Redis[Any]:
        """A client for ``redis://[user:password@]host:port/db?setting=value``.

        Also ``rediss://`` (TLS) and ``unix:///path?db=0``. Every keyword
        setting of the constructor may be given as a query parameter; keywords
        passed here win over the URL. ``decode_responses=true`` in the query
        works, but only the keyword makes the type ``Redis[str]``.

        ``redis+sentinel://h1:26379,h2:26379/mymaster/0`` gives a client of
        that service's master through a ``Sentinel`` the client owns (see
        ``redspec.sentinel``).
        """
        if is_sentinel_url(url):
            from .sentinel import client_from_url

            return client_from_url(url, settings)
        options = parse_url(url)
        options.update(settings)
        return cls(**options)

    def with_options(self, *, command_timeout: float | None = _UNSET) -> Self:
        """A view of this client with another ``command_timeout`` (None: no limit, explicitly).

        The view shares the connections, the pool and the life cycle of this
        client: closing either closes both.
        """
        view = object.__new__(type(self))
        view._core = self._core
        if command_timeout is _UNSET:
            command_timeout = self._timeout
        _check_timeout("command_timeout", command_timeout)
        view._set_timeout(command_timeout)
        return view

    def _set_timeout(self, timeout: float | None) -> None:
        self._timeout = timeout
        self._fast_max = WRITE if self._core.retry_reads else READ

    # ------------------------------------------------------------ sending

    def _call(self, args: Sequence[Any], mode: int) -> Awaitable[Any]:
        # The fast path: a live shared connection and no retry to make: the
        # connection's own future is the whole answer (it keeps the deadline).
        conn = self._core.conn
        if conn is not None and mode <= self._fast_max and conn.is_usable:
            return conn.send(args, self._timeout)
        return self._core.call(args, mode, self._timeout)

    def _call_blocking(self, args: Sequence[Any], block: float | None) -> Awaitable[Any]:
        timeout = self._timeout
        # A block of 0/None is forever: then no command timeout can apply.
        if timeout is not None:
            timeout = timeout + block if block else None
        return self._core.call_blocking(args, timeout)

    def execute_command(self, *args: Any) -> Awaitable[Any]:
        """Send a raw command (``"GET", "k"``) and return its reply, unconverted.

        It is treated as a write: never re-sent after a connection loss.
        """
        if not args:
            raise DataError("execute_command needs at least the command name")
        return self._call(args, WRITE)

    @asynccontextmanager
    async def _exclusive(self, on_push: PushHandler | None = None) -> AsyncGenerator[Connection]:
        """A connection for the caller alone, for stateful sessions.

        ``async with client._exclusive() as conn:`` leases a connection from the
        pool (waiting up to ``pool_timeout``) and gives it back on exit. It is
        put back only if it is usable and has no reply pending; a session that
        leaves server-side state behind (WATCH, a subscription, MONITOR) must
        undo it or call ``conn.close()`` before leaving the block. With
        ``on_push`` the connection is a fresh one delivering push frames to the
        handler (pub/sub); it is closed on exit.
        """
        pool = self._core.pool
        conn = await pool.acquire(on_push)
        try:
            yield conn
        finally:
            pool.release(conn, reuse=on_push is None)

    # ------------------------------------------------------------ life cycle

    async def __aenter__(self) -> Self:
        await self._core.connection()  # surfaces a wrong address or password here
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        """Close every connection. Calls in flight, and any later call, fail with
        ``ConnectionError("client closed")``."""
        await self._core.aclose()

    async def close(self) -> None:
        """``aclose()`` under redis-py's name."""
        await self._core.aclose()

    @property
    def settings(self) -> ConnectionSettings:
        return self._core.settings

    @property
    def command_timeout(self) -> float | None:
        return self._timeout

    def __repr__(self) -> str:
        s = self._core.settings
        where = f"path={s.path!r}" if s.path else f"host={s.host!r} port={s.port}"
        tls = " ssl" if s.ssl is not None else ""
        state = " closed" if self._core.closed else ""
        return f"<{type(self).__name__} {where} db={s.db}{tls}{state}>"


def prepare_settings(
    *,
    host: str,
    port: int,
    db: int,
    username: str | None,
    password: str | None,
    ssl: _ssl.SSLContext | bool | None,
    protocol: int,
    decode_responses: bool,
    encoding: str,
    connect_timeout: float | None,
    command_timeout: float | None,
    max_connections: int,
    pool_timeout: float | None,
    client_name: str | None,
    unix_socket_path: str | None,
    retry_reads: bool,
    ssl_ca_certs: str | None,
    ssl_certfile: str | None,
    ssl_keyfile: str | None,
    ssl_cert_reqs: str | None,
    ssl_check_hostname: bool | None,
    encoding_errors: str = "strict",
) -> tuple[ConnectionSettings, bool, int, float | None]:
    """Check every setting of ``Redis`` and build the connection settings.

    Returns (settings, retry_reads, max_connections, pool_timeout): what a
    ``ClientCore`` is made from. Shared with ``RedisCluster``, whose nodes
    are each served by a core made the same way. Raises ``DataError``
    naming the bad setting (never a password's value).
    """
    _check_str("host", host, optional=False)
    _check_str("unix_socket_path", unix_socket_path)
    _check_str("username", username)
    _check_str("password", password)
    _check_str("client_name", client_name)
    try:
        codecs.lookup(encoding)
    except (LookupError, TypeError):
        raise DataError(f"unknown encoding {encoding!r}") from None
    check_encoding_errors(encoding_errors)
    _check_int("port", port, 0, 65535)
    _check_int("db", db, 0, None)
    _check_int("max_connections", max_connections, 1, None)
    for name, value in (
        ("connect_timeout", connect_timeout),
        ("command_timeout", command_timeout),
        ("pool_timeout", pool_timeout),
    ):
        _check_timeout(name, value)
    context = _ssl_context(
        ssl, ssl_ca_certs, ssl_certfile, ssl_keyfile, ssl_cert_reqs, ssl_check_hostname
    )
    settings = ConnectionSettings(
        host=host,
        port=port,
        path=unix_socket_path,
        db=db,
        username=username,
        password=password,
        protocol=protocol,
        client_name=client_name,
        ssl=context,
        connect_timeout=connect_timeout,
        decode_responses=bool(decode_responses),
        encoding=encoding,
        encoding_errors=encoding_errors,
    )
    return settings, bool(retry_reads), max_connections, pool_timeout


def _check_str(name: str, value: object, *, optional: bool = True) -> None:
    if not isinstance(value, str) and not (optional and value is None):
        # Never the value itself: it may be a password.
        raise DataError(f"{name} must be a str, not {type(value).__name__}")


def _check_int(name: str, value: object, low: int, high: int | None) -> None:
    if (
        not isinstance(value, int)
        or isinstance(value, bool)
        or value < low
        or (high is not None and value > high)
    ):
        bound = f"{low}..{high}" if high is not None else f">= {low}"
        raise DataError(f"{name} must be an integer {bound}, not {value!r}")


def _check_timeout(name: str, value: object) -> None:
    if value is None:
        return
    if isinstance(value, bool) or not isinstance(value, (int, float)) or value < 0:
        raise DataError(f"{name} must be a number of seconds >= 0 or None, not {value!r}")


_CERT_REQS = {
    "required": _ssl.CERT_REQUIRED,
    "optional": _ssl.CERT_OPTIONAL,
    "none": _ssl.CERT_NONE,
}


def _ssl_context(
    ssl: _ssl.SSLContext | bool | None,
    ca_certs: str | None,
    certfile: str | None,
    keyfile: str | None,
    cert_reqs: str | None,
    check_hostname: bool | None,
) -> _ssl.SSLContext | None:
    """The TLS context the settings ask for; None for plain TCP."""
    given = [
        name
        for name, v in (
            ("ssl_ca_certs", ca_certs),
            ("ssl_certfile", certfile),
            ("ssl_keyfile", keyfile),
            ("ssl_cert_reqs", cert_reqs),
            ("ssl_check_hostname", check_hostname),
        )
        if v is not None
    ]
    if isinstance(ssl, _ssl.SSLContext):
        if given:
            raise DataError(f"{', '.join(given)}: configure the SSLContext passed as ssl instead")
        return ssl
    if ssl is not None and not isinstance(ssl, bool):
        raise DataError(f"ssl must be an SSLContext, True, False or None, not {type(ssl).__name__}")
    if not ssl:
        if given:
            # Refuse rather than silently connect in plain text.
            raise DataError(f"{', '.join(given)} given without ssl=True (or a rediss:// URL)")
        return None
    reqs = _CERT_REQS.get((cert_reqs or "required").lower())
    if reqs is None:
        raise DataError(f"ssl_cert_reqs must be required, optional or none, not {cert_reqs!r}")
    if keyfile is not None and certfile is None:
        raise DataError("ssl_keyfile given without ssl_certfile")
    try:
        context = _ssl.create_default_context(cafile=ca_certs)
        if certfile is not None:
            context.load_cert_chain(certfile, keyfile)
    except OSError as exc:  # ssl.SSLError included
        raise DataError(f"cannot load TLS certificates: {exc}") from None
    if reqs == _ssl.CERT_NONE:
        if check_hostname:
            raise DataError("ssl_check_hostname=True needs certificate verification")
        context.check_hostname = False
    elif check_hostname is not None:
        context.check_hostname = check_hostname
    context.verify_mode = reqs
    return context
