"""mypy --strict checks of Sentinel's master_for/replica_for overloads (not run by pytest)."""

from __future__ import annotations

from typing import Any

from typing_extensions import assert_type

import redspec


async def clients(flag: bool) -> None:
    s = redspec.Sentinel([("127.0.0.1", 26379), ("127.0.0.1", 26380)], sentinel_password=None)
    assert_type(s.master_for("mymaster"), redspec.Redis[bytes])
    assert_type(s.master_for("mymaster", decode_responses=True), redspec.Redis[str])
    assert_type(s.master_for("mymaster", decode_responses=flag), redspec.Redis[Any])
    assert_type(s.replica_for("mymaster"), redspec.Redis[bytes])
    assert_type(s.replica_for("mymaster", decode_responses=True), redspec.Redis[str])
    assert_type(s.replica_for("mymaster", master_fallback=False), redspec.Redis[bytes])
    assert_type(
        s.master_for("mymaster", db=1, password="p", command_timeout=0.5, ssl=True),
        redspec.Redis[bytes],
    )
    assert_type(await s.discover_master("mymaster"), tuple[str, int])
    assert_type(await s.discover_replicas("mymaster"), list[tuple[str, int]])
    async with s as same, s.master_for("mymaster", decode_responses=True) as m:
        assert_type(same, redspec.Sentinel)
        assert_type(await m.get("k"), str | None)
    url = "redis+sentinel://h1:26379,h2:26380/mymaster/0"
    assert_type(redspec.Redis.from_url(url, decode_responses=True), redspec.Redis[str])


def settings() -> None:
    redspec.Sentinel(
        [("h", 26379)],
        sentinel_username="u",
        sentinel_password="p",
        sentinel_ssl=True,
        sentinel_ssl_ca_certs="ca.pem",
        sentinel_timeout=0.5,
        check_interval=10.0,
        password="data",
        ssl=True,
        ssl_ca_certs="ca.pem",
        db=2,
    )


def rejected(s: redspec.Sentinel) -> None:
    redspec.Sentinel([("h", "26379")])  # type: ignore[list-item]
    redspec.Sentinel([("h", 1)], decode_responses=True)  # type: ignore[call-arg]
    s.master_for("m", host="h")  # type: ignore[call-overload]
    s.replica_for("m", unix_socket_path="/tmp/s")  # type: ignore[call-overload]


def errors(exc: Exception) -> None:
    if isinstance(exc, redspec.MasterNotFoundError):
        assert_type(exc, redspec.MasterNotFoundError)
        connection_error: redspec.ConnectionError = exc
        del connection_error
    if isinstance(exc, redspec.ReplicaNotFoundError):
        assert_type(exc, redspec.ReplicaNotFoundError)
