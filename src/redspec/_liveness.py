"""Reply deadlines and dead-peer detection for ``Connection``, with one timer per connection.

Every command carries its deadline in the connection's FIFO of waiters
(``inf`` when the caller asked for no limit). One timer, armed for the
earliest deadline still pending, fails overdue callers with ``TimeoutError``
and re-arms itself for the next; a reply that arrives costs no timer work.
With one timeout for every call, deadlines grow along the FIFO, so the timer
fires about once per timeout period under steady traffic. The timer lives in
``_watchdog.py``'s thread, not in the event loop (see there why). Commands
queued in one loop turn share one clock reading, taken by the first of them:
a deadline can be early by the time the rest of that turn took.

What a missed deadline says about the connection:

- A caller timed out, or the oldest reply is owed to a caller that gave up
  (timed out or cancelled): the connection is **retired**. It takes no new
  commands, so the client's next calls go to a fresh connection instead of
  queueing behind a reply nobody wants (a 100 MB value still streaming, a
  server that stopped answering). Calls already in flight on it still get
  their replies, or time out on their own deadlines; once none is left
  waiting, it is closed (the rest of an abandoned reply is not read).
- The oldest reply is large (``BIG_REPLY`` bytes or more are in, and it is
  not complete) and its caller gives up: the connection is retired at that
  moment, rather than at the next deadline, and closed if nobody else waits
  (the rest of the reply is not downloaded).
- The oldest reply is owed to a caller that gave up, and no byte at all has
  arrived for ``DEAD_PEER_GRACE`` seconds since that was noticed (or since
  the last byte, whichever is later): the peer is **presumed dead**. The
  connection is closed and every call still in flight fails with
  ``ConnectionError`` (outcome unknown; the client may re-send reads).

A slow but alive server is never presumed dead while bytes keep arriving
(any bytes: a trickling reply is progress), nor while the oldest reply is
still inside its caller's timeout (DEBUG SLEEP, a long script).
"""

from __future__ import annotations

import asyncio
import time
from collections import deque
from collections.abc import Callable, Sequence
from typing import Any

from . import _watchdog, errors

__all__ = ["BIG_REPLY", "DEAD_PEER_GRACE", "INF", "Liveness", "Waiter", "timeout_error"]

DEAD_PEER_GRACE = 1.0
BIG_REPLY = 1 << 20
INF = float("inf")
now = time.monotonic

# (reply future, deadline on the time.monotonic clock, the command's arguments
# (for the timeout message), the caller's timeout in seconds or None)
Waiter = tuple["asyncio.Future[Any]", float, Sequence[Any], "float | None"]


def timeout_error(args: Sequence[Any], timeout: float | None) -> errors.TimeoutError:
    name = args[0] if args else "?"
    if isinstance(name, (bytes, bytearray, memoryview)):
        name = bytes(name).decode("utf-8", "replace")
    # Only the command name: later arguments may be secrets (AUTH, CONFIG SET).
    return errors.TimeoutError(f"no reply to {str(name).upper()} within {timeout}s")


class Liveness:
    """The deadline half of ``Connection``, which holds the attributes below in its slots."""

    _loop: asyncio.AbstractEventLoop
    _waiters: deque[Waiter]
    _transport: asyncio.Transport | None
    is_usable: bool
    _retired: bool
    _timer: _watchdog.TimerEntry | None
    _timer_at: float
    _last_rx: float
    _abandoned: asyncio.Future[Any] | None
    _abandoned_at: float
    _big_head: asyncio.Future[Any] | None
    _careful: bool
    _attr_buf: bytes | None

    def _notify_lost(self, exc: BaseException | None) -> None:
        raise NotImplementedError

    def _fail_pending(self, make_error: Callable[[], BaseException]) -> None:
        raise NotImplementedError

    def _address(self) -> str:
        raise NotImplementedError

    def close(self, exc: BaseException | None = None) -> None:
        raise NotImplementedError

    # ---------------------------------------------------------------- timer

    def _arm(self, at: float) -> None:
        """(Re)arm the connection's one timer to fire at ``at``."""
        timer = self._timer
        if timer is not None:
            _watchdog.cancel(timer)
        self._timer_at = at
        self._timer = _watchdog.call_at(at, self._loop, self._on_timer)

    def _disarm(self) -> None:
        timer = self._timer
        if timer is not None:
            _watchdog.cancel(timer)
            self._timer = None
        self._timer_at = INF

    def _on_timer(self) -> None:
        self._timer = None
        self._timer_at = INF
        waiters = self._waiters
        if not waiters or self._transport is None:
            return
        t = now()
        next_at = INF
        expired = False
        for fut, deadline, args, timeout in waiters:
            if fut.done():
                continue
            if deadline <= t:
                fut.set_exception(timeout_error(args, timeout))
                expired = True
            elif deadline < next_at:
                next_at = deadline
        head = waiters[0][0]
        if head.done():
            # The oldest reply is owed to nobody: everything behind it waits on it.
            if self._abandoned is not head:
                self._abandoned = head
                self._abandoned_at = t
                self._careful = True  # data_received notes when bytes arrive
            silent_since = max(self._abandoned_at, self._last_rx)
            if t - silent_since >= DEAD_PEER_GRACE:
                self._presume_dead(t - silent_since)
                return
            next_at = min(next_at, silent_since + DEAD_PEER_GRACE)
            self._retire("a reply is owed to a caller that gave up")
        else:
            if self._abandoned is not None:
                self._abandoned = None
                self._update_careful()
            if expired:
                self._retire("a command timed out")
        if self._retired and self._drained():
            self.close()
            return
        if next_at < INF:
            self._arm(next_at)

    def _watch_big_reply(self) -> None:
        """A large reply is coming in: retire the connection as soon as its caller gives up.

        Called by ``data_received`` when hiredis holds ``BIG_REPLY`` bytes of an
        incomplete reply. Watching the head's future costs one callback per
        large reply, and none for small ones.
        """
        waiters = self._waiters
        if not waiters:
            return
        head = waiters[0][0]
        if head.done():
            self._give_up_big_reply(head)
        elif head is not self._big_head:
            self._big_head = head
            head.add_done_callback(self._give_up_big_reply)

    def _give_up_big_reply(self, head: asyncio.Future[Any]) -> None:
        waiters = self._waiters
        # Still the head: its caller gave up (cancelled, timed out) before the
        # reply was complete. Otherwise the reply came and was delivered.
        if waiters and waiters[0][0] is head:
            self._retire("a large reply is owed to a caller that gave up")
            if self._retired and self._drained():
                self.close()

    # ---------------------------------------------------------------- outcomes

    def _update_careful(self) -> None:
        """Whether data_received must take its careful path (see there)."""
        self._careful = (
            self._attr_buf is not None or self._retired or self._abandoned is not None
        )

    def _retire(self, why: str) -> None:
        """No new commands: the ones in flight finish (or time out), then it closes."""
        if not self.is_usable:
            return  # already retired, broken or closed
        self.is_usable = False
        self._retired = True
        self._careful = True  # data_received closes it once drained
        self._notify_lost(errors.TimeoutError(f"connection to {self._address()} retired: {why}"))

    def _drained(self) -> bool:
        """Retired and nobody waits for a reply any more."""
        return all(w[0].done() for w in self._waiters)

    def _presume_dead(self, silence: float) -> None:
        message = (
            f"no data from {self._address()} for {silence:.1f}s while a reply was overdue: "
            "connection presumed dead and closed; the command may or may not have been executed"
        )
        self.is_usable = False
        self._retired = False
        self._fail_pending(lambda: errors.ConnectionError(message))
        transport = self._transport
        if transport is not None:
            transport.abort()  # connection_lost() follows and finishes the job
        self._notify_lost(errors.ConnectionError(message))
