"""One process-wide timer thread for reply deadlines.

Why not ``loop.call_later``: while an event loop has any timer pending, every
wait for I/O becomes a wait with a timeout, and the kernel arms a timer for
it. On a virtual machine that costs several microseconds per wait, which is
per command for a caller that awaits its commands one at a time (measured:
redspec's sequential GETs cost 17 us of CPU each without a pending timer and
25 us with one, on the 2-vCPU VM of bench/RESULTS.md). Reply deadlines are
almost never reached, so they live here instead: a daemon thread sleeps until
the earliest one and then hands the callback to its loop with
``call_soon_threadsafe``. The loop itself keeps no timer for them.

Times are ``time.monotonic()`` seconds. ``call_at`` and ``cancel`` may be
called from any thread; callbacks run in their loop's thread.
"""

from __future__ import annotations

import asyncio
import heapq
import itertools
import os
import threading
import time
from collections.abc import Callable

__all__ = ["TimerEntry", "call_at", "cancel"]


class TimerEntry:
    """A scheduled callback; ``cancel(entry)`` stops it."""

    __slots__ = ("callback", "cancelled", "loop", "order", "when")

    def __init__(
        self, when: float, order: int, loop: asyncio.AbstractEventLoop, callback: Callable[[], None]
    ) -> None:
        self.when = when
        self.order = order
        self.loop = loop
        self.callback = callback
        self.cancelled = False

    def __lt__(self, other: TimerEntry) -> bool:
        return (self.when, self.order) < (other.when, other.order)


class _Watchdog:
    def __init__(self) -> None:
        self.cond = threading.Condition(threading.Lock())
        self.heap: list[TimerEntry] = []
        self.cancelled = 0
        self.order = itertools.count()
        self.thread: threading.Thread | None = None

    def call_at(
        self, when: float, loop: asyncio.AbstractEventLoop, callback: Callable[[], None]
    ) -> TimerEntry:
        entry = TimerEntry(when, next(self.order), loop, callback)
        with self.cond:
            heapq.heappush(self.heap, entry)
            if self.thread is None:
                self.thread = threading.Thread(
                    target=self._run, name="redspec-deadlines", daemon=True
                )
                self.thread.start()
            elif self.heap[0] is entry:
                self.cond.notify()  # earlier than what the thread sleeps for
        return entry

    def cancel(self, entry: TimerEntry) -> None:
        if entry.cancelled:
            return
        entry.cancelled = True
        with self.cond:
            self.cancelled += 1
            # Cancelled entries are dropped when they come first; rebuild the
            # heap when they are most of it, so that it cannot grow unbounded.
            if self.cancelled > 64 and self.cancelled * 2 > len(self.heap):
                self.heap = [e for e in self.heap if not e.cancelled]
                heapq.heapify(self.heap)
                self.cancelled = 0

    def _run(self) -> None:
        heap = self.heap
        with self.cond:
            while True:
                heap = self.heap
                if not heap:
                    self.cond.wait()
                    continue
                entry = heap[0]
                if entry.cancelled:
                    heapq.heappop(heap)
                    self.cancelled -= 1
                    continue
                delay = entry.when - time.monotonic()
                if delay > 0:
                    self.cond.wait(delay)
                    continue
                heapq.heappop(heap)
                try:
                    entry.loop.call_soon_threadsafe(_fire, entry)
                except RuntimeError:
                    pass  # the loop is closed: nobody is left to time out

    def after_fork(self) -> None:
        # The thread does not exist in a forked child; its loops do not either.
        self.__init__()  # type: ignore[misc]


def _fire(entry: TimerEntry) -> None:
    if not entry.cancelled:
        entry.cancelled = True
        entry.callback()


_WATCHDOG = _Watchdog()
if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_WATCHDOG.after_fork)
call_at = _WATCHDOG.call_at
cancel = _WATCHDOG.cancel
