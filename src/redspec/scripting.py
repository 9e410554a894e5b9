"""Lua scripts registered once and run by their SHA1.

``script = r.register_script(src)``; ``await script(keys=[...], args=[...])``
runs EVALSHA and, when the server answers NOSCRIPT (first use, SCRIPT FLUSH,
a restarted server), loads the script and retries once. In a pipeline,
``script(keys=..., args=..., client=pipe)`` queues the EVALSHA and the
pipeline loads the script before it sends the batch. ``readonly=True``
uses EVALSHA_RO (Redis 7+), which replicas and read-only routing accept.
"""

from __future__ import annotations

import hashlib
from collections.abc import Coroutine, Sequence
from typing import TYPE_CHECKING, Any, AnyStr, Generic, cast, overload

from ._base import READ, WRITE
from ._encode import seq
from .errors import NoScriptError

if TYPE_CHECKING:
    from .client import Redis
    from .pipeline import Pending, Pipeline
    from .types import KeyT, RespValue, ValueT

__all__ = ["Script"]


class Script(Generic[AnyStr]):
    """A Lua script bound to a client; call it like a coroutine function."""

    __slots__ = ("_client", "_mode", "_name", "sha", "source")

    def __init__(self, client: Redis[AnyStr], source: str | bytes, *, readonly: bool = False):
        self._client: Redis[AnyStr] = client
        self.source = source
        data = source.encode() if isinstance(source, str) else source
        self.sha = hashlib.sha1(data).hexdigest()
        self._name = "EVALSHA_RO" if readonly else "EVALSHA"
        self._mode = READ if readonly else WRITE

    def _argv(self, keys: Sequence[KeyT], args: Sequence[ValueT]) -> list[Any]:
        keys = seq(keys, "keys")
        args = seq(args, "args")
        return [self._name, self.sha, len(keys), *keys, *args]

    @overload
    def __call__(
        self, keys: Sequence[KeyT] = (), args: Sequence[ValueT] = (), *, client: None = None
    ) -> Coroutine[Any, Any, RespValue]: ...

    @overload
    def __call__(
        self,
        keys: Sequence[KeyT] = (),
        args: Sequence[ValueT] = (),
        *,
        client: Pipeline[AnyStr],
    ) -> Pending[RespValue]: ...

    @overload
    def __call__(
        self,
        keys: Sequence[KeyT] = (),
        args: Sequence[ValueT] = (),
        *,
        client: Redis[AnyStr],
    ) -> Coroutine[Any, Any, RespValue]: ...

    def __call__(
        self,
        keys: Sequence[KeyT] = (),
        args: Sequence[ValueT] = (),
        *,
        client: Pipeline[Any] | Redis[Any] | None = None,
    ) -> Any:
        """Run the script: ``await script(keys=[...], args=[...])``.

        With ``client=pipe`` the call is queued in the pipeline (its Pending
        is returned) and the pipeline loads the script in the same write;
        with ``client=other`` it runs on another client.
        """
        argv = self._argv(keys, args)
        if client is None:
            return self._run(self._client, argv)
        call_script = getattr(client, "_call_script", None)
        if call_script is not None:  # a Pipeline (not imported here: it loads a lot)
            return call_script(self.sha, self.source, argv, self._mode)
        return self._run(cast("Redis[AnyStr]", client), argv)

    async def _run(self, client: Redis[AnyStr], argv: list[Any]) -> RespValue:
        try:
            return await client._call(argv, self._mode)  # type: ignore[no-any-return]
        except NoScriptError:
            # First use on this server, or after SCRIPT FLUSH / a restart:
            # load it and retry once.
            await client._call(("SCRIPT", "LOAD", self.source), WRITE)
            return await client._call(argv, self._mode)  # type: ignore[no-any-return]

    async def load(self) -> str:
        """SCRIPT LOAD now (e.g. before a burst of calls); returns the SHA1."""
        await self._client._call(("SCRIPT", "LOAD", self.source), WRITE)
        return self.sha

    def __repr__(self) -> str:
        return f"<Script {self._name} {self.sha[:12]}>"
