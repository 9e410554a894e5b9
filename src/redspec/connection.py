"""One connection to one server: an ``asyncio.Protocol`` around a hiredis reader.

The wire layer knows nothing of commands. ``send`` encodes an argument list
into an outgoing buffer and returns a future for the reply; the buffer is
written once per event-loop turn, so callers that send in the same turn share
one write (automatic pipelining). Replies are matched to futures in FIFO
order. A future that is already done when its reply arrives (its caller
cancelled or timed out) has the reply read and dropped: the stream never
desynchronises, and the connection stays usable.
"""

from __future__ import annotations

import asyncio
import socket
import ssl
from collections import deque
from collections.abc import Callable, Sequence
from typing import Any, cast

import hiredis

from . import _text, errors
from ._settings import ConnectionSettings
from ._text import UNDECODABLE as _undecodable
from ._tls import connect_tls

__all__ = ["Connection", "ConnectionSettings"]

PushHandler = Callable[[list[Any]], None]
LostHandler = Callable[[BaseException | None], None]

_Push = hiredis.PushNotification
_ResponseError = errors.ResponseError
# hiredis returns this when its buffer holds no whole reply; the default (False)
# is also a RESP3 value, so a sentinel is needed.
_NOT_ENOUGH: Any = object()
_AUTH_CODES = frozenset({"WRONGPASS", "NOAUTH"})
# Idle 30 s, then a probe every 10 s; 3 unanswered probes end the connection.
_KEEPALIVE = [
    (getattr(socket, name), value)
    for name, value in (("TCP_KEEPIDLE", 30), ("TCP_KEEPINTVL", 10), ("TCP_KEEPCNT", 3))
    if hasattr(socket, name)
]


class Connection(asyncio.Protocol):
    """A connected, greeted RESP connection. Create it with ``await Connection.open(settings)``.

    ``on_push(frame)`` receives RESP3 push frames (pub/sub messages, client
    tracking invalidations), and replies that arrive with no command waiting
    (RESP2 pub/sub). ``on_lost(exc)`` is called once when the connection stops
    being usable for any reason other than ``close()``: the peer closed it
    (``exc`` is None or the OSError), or it sent bytes that are not RESP
    (``exc`` is a ``ProtocolError``). Neither callback may raise.
    ``on_error_reply(err)``, if set, also sees each error reply to a command
    (the Sentinel layer watches for READONLY); it is called after the caller's
    future is failed, and any exception it raises goes to the loop's handler.

    Error replies to commands fail their future with a ``ResponseError``
    subclass; error replies nested inside an aggregate reply (EXEC, a RESP3
    map) are delivered in place as ``ResponseError`` instances, not raised.
    """

    __slots__ = (
        "_buffer",
        "_closed",
        "_flush_soon",
        "_loop",
        "_on_lost",
        "_on_push",
        "_pack",
        "_paused",
        "_protocol",
        "_reader",
        "_settings",
        "_transport",
        "_usable",
        "_waiters",
        "on_error_reply",
    )

    def __init__(
        self,
        settings: ConnectionSettings,
        loop: asyncio.AbstractEventLoop,
        on_push: PushHandler | None = None,
    ) -> None:
        self._settings = settings
        self._loop = loop
        self._on_push = on_push
        # Installed by open() once the handshake succeeded: a failed open
        # reports through its exception, not through the callback.
        self._on_lost: LostHandler | None = None
        self._transport: asyncio.Transport | None = None
        self._waiters: deque[asyncio.Future[Any]] = deque()
        self._buffer: list[bytes] = []
        # Bound once: binding self._flush per command would allocate a method object.
        self._flush_soon = self._flush
        self._paused = False
        self._usable = False
        self._protocol = 2
        self._closed: asyncio.Future[None] = loop.create_future()
        # str arguments in settings.encoding (hiredis's own packer for UTF-8).
        self._pack = _text.packer(settings)
        self.on_error_reply: Callable[[errors.ResponseError], None] | None = None
        if settings.decode_responses:
            # Never an error handler that raises: inside gets() that would lose
            # the reply (see _text for how "strict" fails just its caller).
            self._reader = hiredis.Reader(
                replyError=errors.error_from_reply,
                notEnoughData=_NOT_ENOUGH,
                encoding=settings.encoding,
                errors=_text.reader_errors(settings),
            )
        else:
            self._reader = hiredis.Reader(
                replyError=errors.error_from_reply, notEnoughData=_NOT_ENOUGH
            )

    # ------------------------------------------------------------------ opening

    @classmethod
    async def open(
        cls,
        settings: ConnectionSettings,
        *,
        on_push: PushHandler | None = None,
        on_lost: LostHandler | None = None,
    ) -> Connection:
        """Connect and greet (HELLO/AUTH, SETNAME, SELECT, SETINFO) within ``connect_timeout``.

        Raises ``ConnectionError`` (network, TLS), ``TimeoutError``,
        ``AuthenticationError``, or the ``ResponseError`` of a rejected
        handshake command (e.g. SELECT of a database that does not exist).
        """
        conn = cls(settings, asyncio.get_running_loop(), on_push)
        timeout = settings.connect_timeout
        try:
            if timeout is None:
                await conn._connect_and_greet()
            else:
                await asyncio.wait_for(conn._connect_and_greet(), timeout)
        except errors.RedisError:
            conn._discard()
            raise
        except asyncio.TimeoutError:
            conn._discard()
            hint = ""
            if settings.ssl is not None and conn._transport is None:
                hint = (
                    " (the TLS handshake did not complete: a server that does not speak "
                    "TLS on this port never answers it)"
                )
            raise errors.TimeoutError(
                f"timed out after {timeout}s connecting to {settings.address}{hint}"
            ) from None
        except BaseException:
            conn._discard()
            raise
        conn._on_lost = on_lost
        return conn

    async def _connect_and_greet(self) -> None:
        s = self._settings
        loop = self._loop
        try:
            if s.path is not None:
                if s.ssl is not None and not s.server_hostname:
                    raise errors.DataError("TLS over a unix socket needs server_hostname")
                await loop.create_unix_connection(
                    lambda: self, s.path, ssl=s.ssl, server_hostname=s.server_hostname
                )
            elif s.ssl is not None:
                await connect_tls(loop, lambda: self, s)  # names a plain-text server
            else:
                await loop.create_connection(lambda: self, s.host, s.port)
        except ssl.SSLCertVerificationError as exc:
            raise errors.ConnectionError(
                f"TLS certificate verification failed for {s.address}: {exc.verify_message}"
            ) from exc
        except OSError as exc:  # includes ssl.SSLError and socket.gaierror
            raise errors.ConnectionError(f"cannot connect to {s.address}: {exc}") from exc
        await self._greet()

    async def _greet(self) -> None:
        s = self._settings
        if s.protocol == 3:
            hello: list[Any] = ["HELLO", 3]
            if s.password is not None:
                hello += ["AUTH", s.username or "default", s.password]
            if s.client_name:
                hello += ["SETNAME", s.client_name]
            replies = await self._round_trip([hello, *self._after_auth()])
            first = replies[0]
            if not (
                isinstance(first, _ResponseError)
                and (first.code == "NOPROTO" or "unknown command" in str(first).lower())
            ):
                self._check_greeting(replies)
                self._protocol = 3
                return
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
        commands += self._after_auth()
        if commands:
            replies = await self._round_trip(commands)
            if s.password is not None and _is_password_not_needed(replies[0]):
                # HELLO 3 AUTH accepts any password for a password-less default
                # user; make RESP2 agree instead of failing on the same server.
                replies[0] = b"OK"
            self._check_greeting(replies)
        self._protocol = 2

    def _after_auth(self) -> list[list[Any]]:
        s = self._settings
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

    async def _round_trip(self, commands: list[list[Any]]) -> list[Any]:
        """Send all, then read all: one round trip for the whole greeting."""
        return await asyncio.gather(*self.send_many(commands), return_exceptions=True)

    def _check_greeting(self, replies: list[Any]) -> None:
        s = self._settings
        # An authentication failure makes every later command fail with NOAUTH:
        # report the cause, whichever reply carries it.
        for reply in replies:
            if isinstance(reply, _ResponseError) and _is_auth_failure(reply):
                raise errors.AuthenticationError(
                    f"authentication failed for {s.address}: {self._scrub(str(reply))}"
                )
        first_error = next((r for r in replies if isinstance(r, _ResponseError)), None)
        for reply in replies:
            if isinstance(reply, errors.ConnectionError) and first_error is not None:
                # A server that refuses a client (maxclients, protected mode)
                # says why, then closes: keep the why, and keep it retryable.
                raise errors.ConnectionError(
                    f"{s.address} closed the connection during the handshake: "
                    f"{self._scrub(str(first_error))}"
                ) from reply
            if isinstance(reply, BaseException) and not isinstance(reply, _ResponseError):
                raise reply  # ConnectionError, ProtocolError
        # CLIENT SETINFO (always sent last) is Redis 7.2+; older servers reject it, harmlessly.
        setinfo_count = bool(s.lib_name) + bool(s.lib_version)
        for reply in replies[: len(replies) - setinfo_count]:
            if isinstance(reply, _ResponseError):
                raise errors.error_from_reply(self._scrub(str(reply)))

    def _scrub(self, message: str) -> str:
        password = self._settings.password
        if password:
            message = message.replace(password, "***")
        return message

    def _discard(self) -> None:
        """Forget a connection whose open() failed: no callbacks, nothing pending."""
        self._on_lost = None
        self._usable = False
        self._fail_pending(self._closed_error)
        if self._transport is not None:
            self._transport.abort()
        elif not self._closed.done():
            self._closed.set_result(None)

    # ---------------------------------------------------------------- sending

    def send(self, args: Sequence[Any]) -> asyncio.Future[Any]:
        """Queue one command; the future resolves with its reply.

        Arguments are str, bytes, memoryview, int or float; anything else
        raises ``DataError`` here, before anything is queued. On a connection
        that is no longer usable the future is already failed with
        ``ConnectionError``.
        """
        try:
            data = self._pack(tuple(args))
        except (TypeError, ValueError) as exc:
            raise _text.pack_error(args, exc, self._settings) from None
        fut = self._loop.create_future()
        if not self._usable:
            fut.set_exception(self._closed_error())
            return fut
        buffer = self._buffer
        waiters = self._waiters
        if not buffer:
            if not waiters and not self._paused and self._transport is not None:
                # Idle: write at once rather than one loop turn later. A
                # sequential caller saves a loop iteration per command; callers
                # joining in this same turn still share the next write.
                self._transport.write(data)
                waiters.append(fut)
                return fut
            self._loop.call_soon(self._flush_soon)
        buffer.append(data)
        waiters.append(fut)
        return fut

    def send_no_reply(self, args: Sequence[Any]) -> None:
        """Queue a command whose answer is not a reply: SUBSCRIBE and friends.

        Their confirmations arrive as push frames (RESP3) or as unsolicited
        arrays (RESP2) and go to ``on_push``; no future waits for them.
        """
        try:
            data = self._pack(tuple(args))
        except (TypeError, ValueError) as exc:
            raise _text.pack_error(args, exc, self._settings) from None
        if not self._usable:
            raise self._closed_error()
        buffer = self._buffer
        if not buffer:
            self._loop.call_soon(self._flush_soon)
        buffer.append(data)

    def send_many(self, commands: Sequence[Sequence[Any]]) -> list[asyncio.Future[Any]]:
        """Queue several commands back to back, in order; one future per command."""
        pack = self._pack
        try:
            packed = [pack(tuple(args)) for args in commands]
        except (TypeError, ValueError):
            raise _text.batch_pack_error(commands, pack, self._settings) from None
        create_future = self._loop.create_future
        futures = [create_future() for _ in packed]
        if not self._usable:
            for fut in futures:
                fut.set_exception(self._closed_error())
            return futures
        if packed:
            buffer = self._buffer
            if not buffer:
                self._loop.call_soon(self._flush_soon)
            buffer.extend(packed)
            self._waiters.extend(futures)
        return futures

    def _flush(self) -> None:
        buffer = self._buffer
        if self._paused or not buffer:
            return  # resume_writing() flushes what was held back
        transport = self._transport
        if transport is None or not self._usable:
            buffer.clear()
            return
        data = buffer[0] if len(buffer) == 1 else b"".join(buffer)
        buffer.clear()
        transport.write(data)

    # ---------------------------------------------------------------- state

    @property
    def is_usable(self) -> bool:
        """Connected, not closing, not broken: new commands can be sent."""
        return self._usable

    @property
    def protocol_version(self) -> int:
        """The RESP version negotiated: 3 after a successful HELLO 3, else 2."""
        return self._protocol

    @property
    def pending(self) -> int:
        """Replies still awaited (including those of cancelled callers)."""
        return len(self._waiters)

    @property
    def settings(self) -> ConnectionSettings:
        return self._settings

    def close(self, exc: BaseException | None = None) -> None:
        """Stop using the connection: fail every pending future and close the transport.

        Pending futures fail with ``exc`` if given, else ``ConnectionError``.
        ``on_lost`` is not called. Idempotent.
        """
        self._usable = False
        self._on_lost = None
        self._fail_pending(self._closed_error if exc is None else lambda: exc)
        self._buffer.clear()
        if self._transport is not None:
            self._transport.close()
        elif not self._closed.done():
            self._closed.set_result(None)

    async def wait_closed(self) -> None:
        """Wait until the transport is closed (after ``close()`` or a loss)."""
        await asyncio.shield(self._closed)

    def __repr__(self) -> str:
        state = "usable" if self._usable else "closed"
        return f"<Connection {self._settings.address} resp{self._protocol} {state}>"

    # ------------------------------------------------ asyncio.Protocol callbacks

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        # uvloop's transports are not asyncio.Transport subclasses, only alike.
        self._transport = cast(asyncio.Transport, transport)
        sock = transport.get_extra_info("socket")
        if sock is not None and sock.family in (socket.AF_INET, socket.AF_INET6):
            # Already the default of asyncio and uvloop; set it to be sure,
            # since a delayed small write costs a whole round trip.
            try:
                sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
                # A peer that vanished without a FIN (a dead host, a dropped NAT
                # entry) would leave callers waiting forever when no
                # command_timeout is set: keepalive probes notice it.
                sock.setsockopt(socket.SOL_SOCKET, socket.SO_KEEPALIVE, 1)
                for option, value in _KEEPALIVE:
                    sock.setsockopt(socket.IPPROTO_TCP, option, value)
            except OSError:
                pass
        self._usable = True

    def data_received(self, data: bytes) -> None:
        reader = self._reader
        reader.feed(data)
        waiters = self._waiters
        try:
            reply = reader.gets()
            while reply is not _NOT_ENOUGH:
                if _undecodable and self._fail_undecodable(reply):
                    reply = reader.gets()
                    continue
                if type(reply) is _Push:
                    self._deliver_push(reply)
                else:
                    try:
                        fut = waiters.popleft()
                    except IndexError:
                        self._unsolicited(reply)
                    else:
                        # A done future's caller gave up: its reply is dropped here.
                        if not fut.done():
                            if isinstance(reply, _ResponseError):
                                fut.set_exception(reply)
                                if self.on_error_reply is not None:
                                    self._report_error_reply(reply)
                            else:
                                fut.set_result(reply)
                reply = reader.gets()
        except hiredis.ProtocolError as exc:
            self._break(
                errors.ProtocolError(
                    f"invalid RESP from {self._settings.address}: {exc}; connection discarded"
                )
            )
        if _undecodable:
            _text.keep_undecodable(self)  # the failures of a reply not whole yet

    def _fail_undecodable(self, reply: Any) -> bool:
        """A strict decoder noted bytes that are not text (rare): fail the caller of that
        reply alone, True. Push frames and unsolicited replies go on escaped (False)."""
        message = _text.take_undecodable(self)
        if message is None or type(reply) is _Push or not self._waiters:
            return False
        fut = self._waiters.popleft()
        if not fut.done():
            error = errors.DecodeError(message)
            error.reply = reply  # binary payloads (DUMP) are converted from it
            fut.set_exception(error)
        return True

    def _report_error_reply(self, reply: errors.ResponseError) -> None:
        assert self.on_error_reply is not None
        try:
            self.on_error_reply(reply)
        except Exception as exc:
            self._loop.call_exception_handler(
                {"message": "redspec on_error_reply handler failed", "exception": exc}
            )

    def _deliver_push(self, frame: Any) -> None:
        if self._on_push is None:
            return  # nobody subscribed to anything: nothing to route to
        try:
            self._on_push(frame)
        except Exception as exc:
            # A failing handler must not break the reply stream of other callers.
            self._loop.call_exception_handler(
                {"message": "redspec on_push handler failed", "exception": exc, "protocol": self}
            )

    def _unsolicited(self, reply: Any) -> None:
        if not self._usable:
            return  # a late reply to a command failed by close()
        if self._on_push is not None:
            self._deliver_push(reply)  # RESP2 pub/sub messages arrive this way
        else:
            raise hiredis.ProtocolError("a reply arrived with no command waiting for it")

    def _break(self, exc: errors.ProtocolError) -> None:
        """The stream is corrupt: nothing after this point can be trusted."""
        self._usable = False
        self._fail_pending(lambda: errors.ProtocolError(str(exc)))
        self._buffer.clear()
        if self._transport is not None:
            self._transport.abort()
        self._notify_lost(exc)

    def pause_writing(self) -> None:
        self._paused = True

    def resume_writing(self) -> None:
        self._paused = False
        if self._buffer:
            self._flush()

    def eof_received(self) -> bool | None:
        self._usable = False
        return None  # let the transport close itself; connection_lost follows

    def connection_lost(self, exc: BaseException | None) -> None:
        self._usable = False
        if _undecodable:
            _text.forget_undecodable(self)
        self._transport = None
        self._buffer.clear()
        if self._waiters:
            reason = f": {exc}" if exc is not None else ""
            message = (
                f"connection to {self._settings.address} lost{reason}; "
                "the command may or may not have been executed"
            )

            def lost_error() -> errors.ConnectionError:
                err = errors.ConnectionError(message)
                err.__cause__ = exc
                return err

            self._fail_pending(lost_error)
        if not self._closed.done():
            self._closed.set_result(None)
        self._notify_lost(exc)

    # ---------------------------------------------------------------- helpers

    def _notify_lost(self, exc: BaseException | None) -> None:
        callback = self._on_lost
        self._on_lost = None  # once; close() clears it too
        if callback is not None:
            try:
                callback(exc)
            except Exception as cb_exc:
                self._loop.call_exception_handler(
                    {"message": "redspec on_lost handler failed", "exception": cb_exc}
                )

    def _fail_pending(self, make_error: Callable[[], BaseException]) -> None:
        # One exception object per future: an object raised in many tasks
        # would collect all their tracebacks.
        waiters = self._waiters
        while waiters:
            fut = waiters.popleft()
            if not fut.done():
                fut.set_exception(make_error())

    def _closed_error(self) -> errors.ConnectionError:
        return errors.ConnectionError(f"connection to {self._settings.address} is closed")


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
