"""Talking to sentinels and probing data nodes.

``SentinelNodes`` holds the sentinels of one ``Sentinel`` object in the order
they are asked (the last one that answered first) and one lazily opened
connection to each. Queries fail fast (``sentinel_timeout``) so that the next
sentinel is asked at once; they are never waited out the way a data client
waits for a reconnect. ``probe_role`` opens a short connection to a data
node and asks ROLE, so a discovered master is verified before any client uses
it.
"""

from __future__ import annotations

import asyncio
import dataclasses
from collections.abc import Sequence
from typing import Any

from .._settings import ConnectionSettings
from ..connection import Connection, PushHandler
from ..errors import ConnectionError, RedisError, ResponseError, TimeoutError
from ._wire import Address

__all__ = ["SentinelNodes", "format_address", "open_connection", "probe_role"]


def format_address(address: Address) -> str:
    host, port = address
    return f"[{host}]:{port}" if ":" in host else f"{host}:{port}"


def at(settings: ConnectionSettings, address: Address) -> ConnectionSettings:
    """``settings`` pointed at another host and port."""
    host, port = address
    return dataclasses.replace(settings, host=host, port=port, path=None)


async def open_connection(
    settings: ConnectionSettings, on_push: PushHandler | None = None
) -> Connection:
    """``Connection.open`` with every failure as a RedisError (bounded by connect_timeout)."""
    try:
        return await Connection.open(settings, on_push=on_push)
    except RedisError:
        raise
    except Exception as exc:
        # Only the class name: the text might quote a setting.
        raise ConnectionError(
            f"cannot connect to {settings.address}: {type(exc).__name__}"
        ) from exc


async def _replies(
    conn: Connection, commands: Sequence[Sequence[Any]], timeout: float | None, what: str
) -> list[Any]:
    """Send ``commands`` back to back; their replies (error replies as values).

    On a timeout or a cancellation the connection is closed: replies still
    owed would otherwise meet the next query.
    """
    futures = conn.send_many(commands)
    for fut in futures:
        fut.add_done_callback(_retrieve)  # a caller that gave up reads none of them
    try:
        _, pending = await asyncio.wait(futures, timeout=timeout)
    except BaseException:
        conn.close()
        raise
    if pending:
        conn.close()
        raise TimeoutError(f"{what} did not answer within {timeout}s")
    replies: list[Any] = []
    for fut in futures:
        exc = fut.exception()
        if exc is None:
            replies.append(fut.result())
        elif isinstance(exc, ResponseError):
            replies.append(exc)
        else:
            raise exc  # the connection failed
    return replies


def _retrieve(fut: asyncio.Future[Any]) -> None:
    if not fut.cancelled():
        fut.exception()


async def probe_role(settings: ConnectionSettings) -> str:
    """The ROLE a data node reports (``master``, ``slave``...), over a short connection."""
    conn = await open_connection(settings)
    try:
        (reply,) = await _replies(
            conn, [("ROLE",)], settings.connect_timeout, f"data node {settings.address}"
        )
    finally:
        conn.close()
    if isinstance(reply, RedisError):
        raise reply
    if not isinstance(reply, (list, tuple)) or not reply:
        raise ConnectionError(f"{settings.address} sent an unexpected ROLE reply")
    role = reply[0]
    return role.decode() if isinstance(role, bytes) else str(role)


class _Link:
    """One sentinel: a connection opened on first use and again after a loss."""

    __slots__ = ("_conn", "_opening", "settings")

    def __init__(self, settings: ConnectionSettings) -> None:
        self.settings = settings
        self._conn: Connection | None = None
        self._opening: asyncio.Lock | None = None

    async def query(self, commands: Sequence[Sequence[Any]]) -> list[Any]:
        conn = self._conn
        if conn is None or not conn.is_usable:
            if self._opening is None:
                self._opening = asyncio.Lock()
            async with self._opening:
                conn = self._conn
                if conn is None or not conn.is_usable:
                    conn = self._conn = await open_connection(self.settings)
        return await _replies(
            conn, commands, self.settings.connect_timeout, f"sentinel {self.settings.address}"
        )

    def close(self) -> Connection | None:
        conn, self._conn = self._conn, None
        if conn is not None:
            conn.close()
        return conn


class SentinelNodes:
    """The sentinels, in the order they are asked, and a connection to each."""

    def __init__(self, addresses: Sequence[Address], settings: ConnectionSettings) -> None:
        self.settings = settings  # host and port replaced per sentinel
        self._order: list[Address] = list(addresses)
        self._links: dict[Address, _Link] = {}

    def order(self, first: Address | None = None) -> list[Address]:
        """Every sentinel, the one that answered last first (or ``first`` if given)."""
        order = list(self._order)
        if first is not None and first in order:
            order.remove(first)
            order.insert(0, first)
        return order

    def promote(self, address: Address) -> None:
        """``address`` answered: ask it first from now on."""
        if self._order and self._order[0] != address and address in self._order:
            self._order.remove(address)
            self._order.insert(0, address)

    def settings_for(self, address: Address) -> ConnectionSettings:
        return at(self.settings, address)

    async def query(self, address: Address, commands: Sequence[Sequence[Any]]) -> list[Any]:
        """Replies of one sentinel (error replies as values); raises if it does not answer."""
        link = self._links.get(address)
        if link is None:
            link = self._links[address] = _Link(self.settings_for(address))
        return await link.query(commands)

    async def aclose(self) -> None:
        """Close every sentinel connection (they reopen on the next query)."""
        links, self._links = self._links, {}
        conns = [c for c in (link.close() for link in links.values()) if c is not None]
        if conns:
            await asyncio.wait([asyncio.ensure_future(c.wait_closed()) for c in conns], timeout=2.0)
