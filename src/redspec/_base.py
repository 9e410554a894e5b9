"""The contract between generated command mixins and the classes that host them.

A generated client method builds its argument list and ends in one of:

    return await self._call(argv, MODE)                  # reply unchanged
    return _C7(await self._call(argv, MODE))             # through a converter
    return await self._call_blocking(argv, block_seconds)

and a generated pipeline method in ``return self._call(argv, MODE, conv)``.
``MODE`` is ``WRITE`` or ``READ`` (from the spec's ``readonly`` flag: a read
may be retried after a connection loss when the retry policy allows it; a
write never is). ``block_seconds`` is how long the server may block (None
or 0: forever); the client adds it to ``command_timeout`` and runs the
command on an exclusive connection.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from typing import TYPE_CHECKING, Any, AnyStr, Generic

WRITE = 0
READ = 1

if TYPE_CHECKING:
    from .pipeline import Pending


class ClientBase(Generic[AnyStr]):
    """What generated client mixins need from ``Redis`` (and ``RedisCluster``)."""

    __slots__ = ()

    def _call(self, args: Sequence[Any], mode: int) -> Awaitable[Any]:
        raise NotImplementedError

    def _call_blocking(self, args: Sequence[Any], block: float | None) -> Awaitable[Any]:
        raise NotImplementedError


class PipelineBase(Generic[AnyStr]):
    """What generated pipeline mixins need from ``Pipeline``."""

    __slots__ = ()

    def _call(
        self, args: Sequence[Any], mode: int, conv: Callable[[Any], Any] | None
    ) -> Pending[Any]:
        raise NotImplementedError
