"""Opening a connection: the socket, TLS, and the greeting sent before any command.

The greeting (HELLO/AUTH, SETNAME, SELECT, READONLY, SETINFO) goes out in one
write and comes back in one round trip. A server without HELLO (Redis < 6)
or without RESP3 is greeted again in RESP2.
"""

from __future__ import annotations

import asyncio
import socket
import ssl
from collections.abc import Sequence
from typing import Any, Protocol

from . import errors
from ._settings import ConnectionSettings
from ._tls import connect_tls

__all__ = ["connect_and_greet", "greet", "tune_socket"]

# Idle 30 s, then a probe every 10 s; 3 unanswered probes end the connection.
_KEEPALIVE = [
    (getattr(socket, name), value)
    for name, value in (("TCP_KEEPIDLE", 30), ("TCP_KEEPINTVL", 10), ("TCP_KEEPCNT", 3))
    if hasattr(socket, name)
]

_ResponseError = errors.ResponseError
_AUTH_CODES = frozenset({"WRONGPASS", "NOAUTH"})


class _Sender(Protocol):
    def send_many(
        self, commands: Sequence[Sequence[Any]], timeout: float | None = None
    ) -> list[asyncio.Future[Any]]: ...


async def connect_and_greet(
    conn: Any, loop: asyncio.AbstractEventLoop, s: ConnectionSettings
) -> int:
    """Connect the protocol ``conn`` (a ``Connection``) and greet; the RESP version agreed."""
    try:
        if s.path is not None:
            if s.ssl is not None and not s.server_hostname:
                raise errors.DataError("TLS over a unix socket needs server_hostname")
            await loop.create_unix_connection(
                lambda: conn, s.path, ssl=s.ssl, server_hostname=s.server_hostname
            )
        elif s.ssl is not None:
            await connect_tls(loop, lambda: conn, s)  # names a plain-text server
        else:
            await loop.create_connection(lambda: conn, s.host, s.port)
    except ssl.SSLCertVerificationError as exc:
        raise errors.ConnectionError(
            f"TLS certificate verification failed for {s.address}: {exc.verify_message}"
        ) from exc
    except OSError as exc:  # includes ssl.SSLError and socket.gaierror
        raise errors.ConnectionError(f"cannot connect to {s.address}: {exc}") from exc
    return await greet(conn, s)


def tune_socket(sock: socket.socket | None) -> None:
    """TCP options of a fresh connection (nothing for unix sockets)."""
    if sock is None or sock.family not in (socket.AF_INET, socket.AF_INET6):
        return
    # Already the default of asyncio and uvloop; set it to be sure, since a
    # delayed small write costs a whole round trip.
    try:
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        # A peer that vanished without a FIN (a dead host, a dropped NAT
        # entry) is noticed by keepalive probes even when no command waits.
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_KEEPALIVE, 1)
        for option, value in _KEEPALIVE:
            sock.setsockopt(socket.IPPROTO_TCP, option, value)
    except OSError:
        pass


async def greet(conn: _Sender, s: ConnectionSettings) -> int:
    """Greet the server on ``conn``; the RESP version agreed (3 or 2).

    Raises ``AuthenticationError`` for rejected credentials, the
    ``ResponseError`` of a rejected command (SELECT of a database that does
    not exist), or the ``ConnectionError``/``ProtocolError`` that ended the
    connection meanwhile. The password never appears in a message.
    """
    if s.protocol == 3:
        hello: list[Any] = ["HELLO", 3]
        if s.password is not None:
            hello += ["AUTH", s.username or "default", s.password]
        if s.client_name:
            hello += ["SETNAME", s.client_name]
        replies = await _round_trip(conn, [hello, *_after_auth(s)])
        first = replies[0]
        if not (
            isinstance(first, _ResponseError)
            and (first.code == "NOPROTO" or "unknown command" in str(first).lower())
        ):
            _check(s, replies)
            return 3
        # A server without HELLO (Redis < 6) or without RESP3: greet in RESP2.
        # The SELECT/SETINFO sent after HELLO are repeated; both are idempotent.
    commands: list[list[Any]] = []
    if s.password is not None:
        if s.username is not None:
            commands.append(["AUTH", s.username, s.password])
        else:
            commands.append(["AUTH", s.password])
    if s.client_name:
        commands.append(["CLIENT", "SETNAME", s.client_name])
    commands += _after_auth(s)
    if commands:
        replies = await _round_trip(conn, commands)
        if s.password is not None and _is_password_not_needed(replies[0]):
            # HELLO 3 AUTH accepts any password for a password-less default
            # user; make RESP2 agree instead of failing on the same server.
            replies[0] = b"OK"
        _check(s, replies)
    return 2


def _after_auth(s: ConnectionSettings) -> list[list[Any]]:
    commands: list[list[Any]] = []
    if s.db:
        commands.append(["SELECT", s.db])
    if s.readonly:
        commands.append(["READONLY"])
    if s.lib_name:
        commands.append(["CLIENT", "SETINFO", "LIB-NAME", s.lib_name])
    if s.lib_version:
        commands.append(["CLIENT", "SETINFO", "LIB-VER", s.lib_version])
    return commands


async def _round_trip(conn: _Sender, commands: list[list[Any]]) -> list[Any]:
    """Send all, then read all: one round trip for the whole greeting."""
    return await asyncio.gather(*conn.send_many(commands), return_exceptions=True)


def _check(s: ConnectionSettings, replies: list[Any]) -> None:
    # An authentication failure makes every later command fail with NOAUTH:
    # report the cause, whichever reply carries it.
    for reply in replies:
        if isinstance(reply, _ResponseError) and _is_auth_failure(reply):
            raise errors.AuthenticationError(
                f"authentication failed for {s.address}: {_scrub(s, str(reply))}"
            )
    first_error = next((r for r in replies if isinstance(r, _ResponseError)), None)
    for reply in replies:
        if isinstance(reply, errors.ConnectionError) and first_error is not None:
            # A server that refuses a client (maxclients, protected mode)
            # says why, then closes: keep the why, and keep it retryable.
            raise errors.ConnectionError(
                f"{s.address} closed the connection during the handshake: "
                f"{_scrub(s, str(first_error))}"
            ) from reply
        if isinstance(reply, BaseException) and not isinstance(reply, _ResponseError):
            raise reply  # ConnectionError, ProtocolError
    # CLIENT SETINFO (always sent last) is Redis 7.2+; older servers reject it, harmlessly.
    setinfo_count = bool(s.lib_name) + bool(s.lib_version)
    for reply in replies[: len(replies) - setinfo_count]:
        if isinstance(reply, _ResponseError):
            raise errors.error_from_reply(_scrub(s, str(reply)))


def _scrub(s: ConnectionSettings, message: str) -> str:
    if s.password:
        message = message.replace(s.password, "***")
    return message


def _is_auth_failure(reply: errors.ResponseError) -> bool:
    if reply.code in _AUTH_CODES:
        return True
    text = str(reply).lower()
    # Pre-ACL servers answer AUTH with plain ERR replies.
    return "invalid password" in text or "invalid username-password" in text


def _is_password_not_needed(reply: Any) -> bool:
    if not isinstance(reply, _ResponseError):
        return False
    text = str(reply).lower()
    # Redis >= 6 says "called without any password configured", older ones "no password is set".
    return "without any password configured" in text or "no password is set" in text
