"""A lock held in one key: SET NX PX to take it, Lua to release and extend it.

Only the holder's random token can release or extend the lock, so a holder
whose lock expired cannot release someone else's. ``async with r.lock("name",
timeout=10):`` takes it (waiting up to ``blocking_timeout``) and releases it.
"""

from __future__ import annotations

import asyncio
import secrets
from types import TracebackType
from typing import TYPE_CHECKING, Any

from ._base import READ, WRITE
from .errors import RedisError

if TYPE_CHECKING:
    from .client import Redis
    from .types import KeyT

__all__ = ["Lock", "LockError", "LockNotOwnedError"]


class LockError(RedisError):
    """The lock could not be taken in time."""


class LockNotOwnedError(LockError):
    """Release or extend of a lock this holder no longer owns (it expired or was taken)."""


_RELEASE = """
if redis.call('GET', KEYS[1]) == ARGV[1] then
  return redis.call('DEL', KEYS[1])
end
return 0
"""

_EXTEND = """
if redis.call('GET', KEYS[1]) ~= ARGV[1] then return 0 end
local ttl = redis.call('PTTL', KEYS[1])
local ms = tonumber(ARGV[2])
if ARGV[3] == '0' and ttl > 0 then ms = ms + ttl end
redis.call('PEXPIRE', KEYS[1], ms)
return 1
"""


class Lock:
    """A non-reentrant distributed lock in key ``name``."""

    def __init__(
        self,
        client: Redis[Any],
        name: KeyT,
        *,
        timeout: float | None = None,
        sleep: float = 0.1,
        blocking_timeout: float | None = None,
    ) -> None:
        if timeout is not None and timeout <= 0:
            raise LockError("timeout must be positive (seconds) or None")
        self._client = client
        self.name = name
        self.timeout = timeout
        self.sleep = sleep
        self.blocking_timeout = blocking_timeout
        self._token: bytes | None = None
        self._release = client.register_script(_RELEASE)
        self._extend = client.register_script(_EXTEND)

    async def acquire(
        self, *, blocking: bool = True, blocking_timeout: float | None = None
    ) -> bool:
        """Take the lock; False when not taken (non-blocking, or waited past the timeout)."""
        if self._token is not None:
            raise LockError(f"lock {self.name!r} is already held by this Lock (not reentrant)")
        token = secrets.token_hex(16).encode()
        limit = blocking_timeout if blocking_timeout is not None else self.blocking_timeout
        loop = asyncio.get_running_loop()
        deadline = None if limit is None else loop.time() + limit
        argv: list[Any] = ["SET", self.name, token, "NX"]
        if self.timeout is not None:
            argv += ["PX", max(1, int(self.timeout * 1000))]
        while True:
            try:
                taken = await self._client._call(argv, WRITE) is not None
            except BaseException:
                # Cancelled (or the connection lost) after SET may have run: a
                # lock nobody holds a token for must not stay behind.
                self._abandon(token)
                raise
            if taken:
                self._token = token
                return True
            if not blocking:
                return False
            pause = self.sleep
            if deadline is not None:
                remaining = deadline - loop.time()
                if remaining <= 0:
                    return False
                pause = min(pause, remaining)
            await asyncio.sleep(pause)

    def _abandon(self, token: bytes) -> None:
        """Release ``token``'s hold, if any, without waiting (EVAL: no NOSCRIPT to handle)."""
        try:
            aw = self._client._call(("EVAL", _RELEASE, 1, self.name, token), WRITE)
        except Exception:
            return
        fut = asyncio.ensure_future(aw)
        fut.add_done_callback(lambda f: f.cancelled() or f.exception())

    async def release(self) -> None:
        token, self._token = self._token, None
        if token is None:
            raise LockNotOwnedError("release of a lock that is not held")
        if not await self._release(keys=[self.name], args=[token]):
            raise LockNotOwnedError(f"lock {self.name!r} was no longer owned when released")

    async def extend(self, additional: float, *, replace_ttl: bool = False) -> None:
        """Add ``additional`` seconds to the lock's TTL (or set it, with replace_ttl)."""
        if self._token is None:
            raise LockNotOwnedError("extend of a lock that is not held")
        if additional <= 0:
            raise LockError("additional must be a positive number of seconds")
        ok = await self._extend(
            keys=[self.name], args=[self._token, max(1, int(additional * 1000)), int(replace_ttl)]
        )
        if not ok:
            raise LockNotOwnedError(f"lock {self.name!r} is no longer owned")

    async def owned(self) -> bool:
        if self._token is None:
            return False
        current = await self._client._call(("GET", self.name), READ)
        if isinstance(current, str):
            current = current.encode(self._client.settings.encoding, "surrogateescape")
        return bool(current == self._token)

    async def locked(self) -> bool:
        return bool(await self._client._call(("EXISTS", self.name), READ))

    async def __aenter__(self) -> Lock:
        if not await self.acquire():
            raise LockError(f"could not take lock {self.name!r} in time")
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.release()
