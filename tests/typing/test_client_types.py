"""mypy --strict checks of the client's constructor and from_url overloads (not run by pytest)."""

from __future__ import annotations

import ssl
from typing import Any

from typing_extensions import assert_type

import redspec


def constructors(flag: bool, ctx: ssl.SSLContext) -> None:
    assert_type(redspec.Redis(), redspec.Redis[bytes])
    assert_type(redspec.Redis("h", 6380, db=1, password="p"), redspec.Redis[bytes])
    assert_type(redspec.Redis(decode_responses=False), redspec.Redis[bytes])
    assert_type(redspec.Redis(decode_responses=True), redspec.Redis[str])
    assert_type(redspec.Redis(host="h", decode_responses=True, ssl=ctx), redspec.Redis[str])
    assert_type(redspec.Redis(decode_responses=flag), redspec.Redis[Any])
    assert_type(
        redspec.Redis(
            unix_socket_path="/tmp/r.sock",
            protocol=2,
            connect_timeout=None,
            command_timeout=0.5,
            max_connections=10,
            pool_timeout=1.0,
            client_name="x",
            retry_reads=True,
            ssl=True,
            ssl_ca_certs="ca.pem",
            ssl_certfile="c.pem",
            ssl_keyfile="c.key",
            ssl_cert_reqs="required",
            ssl_check_hostname=True,
        ),
        redspec.Redis[bytes],
    )


def urls(flag: bool) -> None:
    url = "redis://localhost:6379/0"
    assert_type(redspec.Redis.from_url(url), redspec.Redis[bytes])
    assert_type(redspec.Redis.from_url(url, command_timeout=1.0), redspec.Redis[bytes])
    assert_type(redspec.Redis.from_url(url, decode_responses=True), redspec.Redis[str])
    assert_type(redspec.Redis.from_url(url, decode_responses=flag), redspec.Redis[Any])


async def views_and_raw(r: redspec.Redis[str]) -> None:
    assert_type(r.with_options(command_timeout=None), redspec.Redis[str])
    assert_type(await r.execute_command("GET", "k"), Any)
    async with r as same:
        assert_type(same, redspec.Redis[str])
    await r.aclose()


def rejected() -> None:
    redspec.Redis(port="6379")  # type: ignore[call-overload]
    redspec.Redis(nonsense=1)  # type: ignore[call-overload]
    redspec.Redis.from_url("redis://", db="0")  # type: ignore[call-overload]
