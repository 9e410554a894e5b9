"""Connecting over TLS, and telling a server that does not speak it.

A plain-text Redis reads a TLS ClientHello as the start of an inline command
and waits for its end, so the handshake would only end at connect_timeout. If
the handshake has not completed after ``PROBE_AFTER`` seconds, a second, plain
connection sends ``PING``: a server that answers in RESP (``+PONG``,
``-NOAUTH``, ``-DENIED``...) speaks plain text on that port, and the connect
fails at once saying so. A TLS server takes the probe's bytes as a bad record
and closes it; the handshake then goes on as before.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any

from . import errors
from ._settings import ConnectionSettings

__all__ = ["PROBE_AFTER", "connect_tls"]

PROBE_AFTER = 0.25
# First bytes of RESP2/RESP3 replies: what no TLS record starts with.
_RESP_FIRST = frozenset(b"+-:$*%_#,(!=|~>")


async def connect_tls(
    loop: asyncio.AbstractEventLoop,
    factory: Callable[[], asyncio.Protocol],
    s: ConnectionSettings,
) -> None:
    """``loop.create_connection(factory, s.host, s.port, ssl=s.ssl, ...)``."""
    connect: asyncio.Future[Any] = asyncio.ensure_future(
        loop.create_connection(
            factory, s.host, s.port, ssl=s.ssl, server_hostname=s.server_hostname
        )
    )
    probe: asyncio.Future[bool] | None = None
    try:
        done, _ = await asyncio.wait({connect}, timeout=PROBE_AFTER)
        if not done:
            probe = asyncio.ensure_future(_answers_plain_resp(s))
            racing: set[asyncio.Future[Any]] = {connect, probe}
            first, _ = await asyncio.wait(racing, return_when=asyncio.FIRST_COMPLETED)
            if connect not in first and probe.result():
                # (Connection reports it as "cannot connect to <address>: ...")
                raise errors.ConnectionError(
                    "it answered a plain-text PING but not the TLS handshake: it does not "
                    "speak TLS on this port (use redis:// instead of rediss://, ssl=False, "
                    "or the server's TLS port)"
                )
        await connect
    finally:
        for task in (connect, probe):
            if task is not None and not task.done():
                task.cancel()


async def _answers_plain_resp(s: ConnectionSettings) -> bool:
    try:
        reader, writer = await asyncio.open_connection(s.host, s.port)
    except OSError:
        return False
    try:
        writer.write(b"PING\r\n")
        first = await reader.read(1)
        return bool(first) and first[0] in _RESP_FIRST
    except OSError:
        return False
    finally:
        writer.close()
