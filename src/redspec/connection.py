"""One connection to one server: an ``asyncio.Protocol`` around a hiredis reader.

The wire layer knows nothing of commands. ``send`` encodes an argument list
into an outgoing buffer and returns a future for the reply; the buffer is
written once per event-loop turn, so callers that send in the same turn share
one write (automatic pipelining). Replies are matched to futures in FIFO
order. A future that is already done when its reply arrives (its caller
cancelled or timed out) has the reply read and dropped: the stream never
desynchronises.

Each command may carry a timeout; ``_liveness.py`` keeps the deadlines (one
timer per connection) and decides when a connection that missed one is
retired (no new commands) or presumed dead (closed).

RESP3 attribute frames (``|``), which hiredis would hand over as replies of
their own, are cut out of the stream before hiredis sees them and dropped:
an attribute is never matched to a waiter, at the top level or nested.
"""

from __future__ import annotations

import asyncio
from collections import deque
from collections.abc import Callable, Sequence
from typing import Any, cast

import hiredis

from . import _text, _watchdog, errors
from ._frames import AttributeFilter
from ._handshake import connect_and_greet, tune_socket
from ._liveness import BIG_REPLY, INF, Liveness, Waiter, now
from ._settings import ConnectionSettings
from ._text import UNDECODABLE as _undecodable

__all__ = ["Connection", "ConnectionSettings"]

PushHandler = Callable[[list[Any]], None]
LostHandler = Callable[[BaseException | None], None]

_Push = hiredis.PushNotification
_ResponseError = errors.ResponseError
# hiredis returns this when its buffer holds no whole reply; the default (False)
# is also a RESP3 value, so a sentinel is needed.
_NOT_ENOUGH: Any = object()
# A read this large may be part of a large reply (see Liveness._watch_big_reply).
_BIG_CHUNK = 16 << 10



class Connection(Liveness, AttributeFilter, asyncio.Protocol):
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

    A retired connection (see ``_liveness.py``) is no longer usable, but
    still reads the replies of calls in flight; ``on_lost`` is called when it
    is retired, with a ``TimeoutError`` saying why.
    """

    # The mixins' state too: they have no __slots__ of their own, since two
    # bases with slots cannot be combined.
    __slots__ = (
        "_abandoned",
        "_abandoned_at",
        "_attr_buf",
        "_attributes_dropped",
        "_batch_time",
        "_big_head",
        "_buffer",
        "_careful",
        "_closed",
        "_flush_soon",
        "_last_rx",
        "_loop",
        "_on_lost",
        "_on_push",
        "_pack",
        "_paused",
        "_protocol",
        "_reader",
        "_retired",
        "_settings",
        "_timer",
        "_timer_at",
        "_transport",
        "_waiters",
        # Connected, not closing, not broken, not retired: new commands can be
        # sent. A plain attribute (read-only for users): the fast path reads it
        # on every call.
        "is_usable",
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
        self._waiters: deque[Waiter] = deque()
        self._buffer: list[bytes] = []
        # Bound once: binding self._flush per command would allocate a method object.
        self._flush_soon = self._flush
        self._paused = False
        self.is_usable = False
        self._retired = False
        self._timer: _watchdog.TimerEntry | None = None
        self._timer_at = INF
        self._last_rx = now()
        self._abandoned: asyncio.Future[Any] | None = None
        self._abandoned_at = 0.0
        self._batch_time = 0.0
        # data_received must take its careful path (see there).
        self._careful = False
        self._big_head: asyncio.Future[Any] | None = None
        # Bytes of an attribute frame whose end has not arrived yet.
        self._attr_buf: bytes | None = None
        self._attributes_dropped = 0
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
            opening = connect_and_greet(conn, conn._loop, settings)
            if timeout is None:
                conn._protocol = await opening
            else:
                conn._protocol = await asyncio.wait_for(opening, timeout)
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

    def _discard(self) -> None:
        """Forget a connection whose open() failed: no callbacks, nothing pending."""
        self._on_lost = None
        self.is_usable = False
        self._disarm()
        self._fail_pending(self._closed_error)
        if self._transport is not None:
            self._transport.abort()
        elif not self._closed.done():
            self._closed.set_result(None)

    # ---------------------------------------------------------------- sending

    def send(self, args: Sequence[Any], timeout: float | None = None) -> asyncio.Future[Any]:
        """Queue one command; the future resolves with its reply.

        Arguments are str, bytes, memoryview, int or float; anything else
        raises ``DataError`` here, before anything is queued. On a connection
        that is no longer usable the future is already failed with
        ``ConnectionError``. With a ``timeout`` (seconds) the future fails
        with ``TimeoutError`` when no reply came in time.
        """
        try:
            data = self._pack(tuple(args))
        except (TypeError, ValueError) as exc:
            raise _text.pack_error(args, exc, self._settings) from None
        fut = self._loop.create_future()
        if not self.is_usable:
            fut.set_exception(self._closed_error())
            return fut
        buffer = self._buffer
        if timeout is None:
            waiter: Waiter = (fut, INF, args, None)
        else:
            if not buffer or self._paused:
                self._batch_time = now()
            # Else a command queued earlier in this loop turn read the clock:
            # its reading serves all the turn's commands (time.monotonic() per
            # command would cost the pipelining callers several percent).
            deadline = self._batch_time + timeout
            waiter = (fut, deadline, args, timeout)
            # With one timeout for all, deadlines only grow: the timer armed
            # for an earlier one fires first, and nothing is done here.
            if deadline < self._timer_at:
                self._arm(deadline)
        waiters = self._waiters
        if not buffer:
            if not waiters and not self._paused and self._transport is not None:
                # Idle: write at once rather than one loop turn later. A
                # sequential caller saves a loop iteration per command; callers
                # joining in this same turn still share the next write.
                self._transport.write(data)
                waiters.append(waiter)
                return fut
            self._loop.call_soon(self._flush_soon)
        buffer.append(data)
        waiters.append(waiter)
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
        if not self.is_usable:
            raise self._closed_error()
        buffer = self._buffer
        if not buffer:
            self._loop.call_soon(self._flush_soon)
        buffer.append(data)

    def send_many(
        self, commands: Sequence[Sequence[Any]], timeout: float | None = None
    ) -> list[asyncio.Future[Any]]:
        """Queue several commands back to back, in order; one future per command.

        ``timeout`` applies to each reply, counted from now.
        """
        pack = self._pack
        try:
            packed = [pack(tuple(args)) for args in commands]
        except (TypeError, ValueError):
            raise _text.batch_pack_error(commands, pack, self._settings) from None
        create_future = self._loop.create_future
        futures = [create_future() for _ in packed]
        if not self.is_usable:
            for fut in futures:
                fut.set_exception(self._closed_error())
            return futures
        if packed:
            if timeout is None:
                deadline = INF
            else:
                self._batch_time = now()
                deadline = self._batch_time + timeout
            if deadline < self._timer_at:
                self._arm(deadline)
            buffer = self._buffer
            if not buffer:
                self._loop.call_soon(self._flush_soon)
            buffer.extend(packed)
            self._waiters.extend(
                (fut, deadline, args, timeout) for fut, args in zip(futures, commands)
            )
        return futures

    def _flush(self) -> None:
        buffer = self._buffer
        if self._paused or not buffer:
            return  # resume_writing() flushes what was held back
        transport = self._transport
        # A retired connection still writes what its callers queued before.
        if transport is None or transport.is_closing():
            buffer.clear()
            return
        data = buffer[0] if len(buffer) == 1 else b"".join(buffer)
        buffer.clear()
        transport.write(data)

    # ---------------------------------------------------------------- state

    @property
    def protocol_version(self) -> int:
        """The RESP version negotiated: 3 after a successful HELLO 3, else 2."""
        return self._protocol

    @property
    def pending(self) -> int:
        """Replies still awaited (including those of cancelled callers)."""
        return len(self._waiters)

    @property
    def is_retired(self) -> bool:
        """Retired after a missed deadline: no new commands; calls in flight still finish."""
        return self._retired

    @property
    def is_closed(self) -> bool:
        """The transport is closed: nothing more will be read."""
        return self._closed.done()

    @property
    def attributes_dropped(self) -> int:
        """RESP3 attribute frames cut out of the reply stream so far."""
        return self._attributes_dropped

    @property
    def settings(self) -> ConnectionSettings:
        return self._settings

    def close(self, exc: BaseException | None = None) -> None:
        """Stop using the connection: fail every pending future and close the transport.

        Pending futures fail with ``exc`` if given, else ``ConnectionError``.
        ``on_lost`` is not called. Idempotent.
        """
        self.is_usable = False
        self._on_lost = None
        self._disarm()
        self._fail_pending(self._closed_error if exc is None else lambda: exc)
        self._buffer.clear()
        if self._transport is not None:
            if self._retired:
                # What is still coming is owed to callers that gave up; a
                # hung peer would also keep close() waiting to flush.
                self._transport.abort()
            else:
                self._transport.close()
        elif not self._closed.done():
            self._closed.set_result(None)

    async def wait_closed(self) -> None:
        """Wait until the transport is closed (after ``close()`` or a loss)."""
        await asyncio.shield(self._closed)

    def __repr__(self) -> str:
        state = "usable" if self.is_usable else "retired" if self._retired else "closed"
        return f"<Connection {self._settings.address} resp{self._protocol} {state}>"

    # ------------------------------------------------ asyncio.Protocol callbacks

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        # uvloop's transports are not asyncio.Transport subclasses, only alike.
        self._transport = cast(asyncio.Transport, transport)
        tune_socket(transport.get_extra_info("socket"))
        self.is_usable = True

    def data_received(self, data: bytes) -> None:
        # The hot path. Anything unusual (a "|" byte that may start an
        # attribute frame, found by memchr; an attribute still incomplete; a
        # retired connection; an abandoned reply being watched for progress)
        # takes the careful path. "124 in data", not 'b"|" in data': the
        # latter first tries the needle as an int and clears a TypeError.
        if self._careful or 124 in data:
            self._receive_carefully(data)
            return
        reader = self._reader
        reader.feed(data)
        waiters = self._waiters
        # _read_replies() inlined: a call per read costs the sequential caller.
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
                        fut = waiters.popleft()[0]
                    except IndexError:
                        self._unsolicited(reply)
                    else:
                        if not fut.done():
                            if isinstance(reply, _ResponseError):
                                fut.set_exception(reply)
                                if self.on_error_reply is not None:
                                    self._report_error_reply(reply)
                            else:
                                fut.set_result(reply)
                reply = reader.gets()
        except hiredis.ProtocolError as exc:
            self._break(self._protocol_error(str(exc)))
            return
        if _undecodable:
            _text.keep_undecodable(self)  # the failures of a reply not whole yet
        # Only large reads can be part of a large reply: small replies skip this.
        if len(data) >= _BIG_CHUNK and reader.len() >= BIG_REPLY:
            self._watch_big_reply()

    def _receive_carefully(self, data: bytes) -> None:
        self._last_rx = now()  # progress, for dead-peer detection
        if self._attr_buf is None and 124 not in data:
            self._reader.feed(data)
            if not self._read_replies():
                return
        else:
            self._receive_with_bars(data)
        if len(data) >= _BIG_CHUNK and self._reader.len() >= BIG_REPLY:
            self._watch_big_reply()

    def _read_replies(self) -> bool:
        """Hand every whole reply hiredis holds to its waiter; False if the stream broke."""
        reader = self._reader
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
                        fut = waiters.popleft()[0]
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
            self._break(self._protocol_error(str(exc)))
            return False
        if _undecodable:
            _text.keep_undecodable(self)
        if self._retired and self._drained():
            self.close()
        return True

    def _fail_undecodable(self, reply: Any) -> bool:
        """A strict decoder noted bytes that are not text (rare): fail the caller of that
        reply alone, True. Push frames and unsolicited replies go on escaped (False)."""
        message = _text.take_undecodable(self)
        if message is None or type(reply) is _Push or not self._waiters:
            return False
        fut = self._waiters.popleft()[0]
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

    def _protocol_error(self, what: str) -> errors.ProtocolError:
        return errors.ProtocolError(
            f"invalid RESP from {self._settings.address}: {what}; connection discarded"
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
        if not self.is_usable:
            return  # a late reply to a command failed by close()
        if self._on_push is not None:
            self._deliver_push(reply)  # RESP2 pub/sub messages arrive this way
        else:
            raise hiredis.ProtocolError("a reply arrived with no command waiting for it")

    def _break(self, exc: errors.ProtocolError) -> None:
        """The stream is corrupt: nothing after this point can be trusted."""
        self.is_usable = False
        self._disarm()
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
        self.is_usable = False
        return None  # let the transport close itself; connection_lost follows

    def connection_lost(self, exc: BaseException | None) -> None:
        self.is_usable = False
        if _undecodable:
            _text.forget_undecodable(self)
        self._transport = None
        self._disarm()
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
            fut = waiters.popleft()[0]
            if not fut.done():
                fut.set_exception(make_error())

    def _closed_error(self) -> errors.ConnectionError:
        return errors.ConnectionError(f"connection to {self._settings.address} is closed")

    def _address(self) -> str:
        return self._settings.address
