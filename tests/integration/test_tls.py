"""TLS against Debian's Redis 7.0 (the only server here built with TLS)."""

from __future__ import annotations

import asyncio
import ssl
from pathlib import Path
from urllib.parse import quote

import pytest

import redspec
from tests.servers import RedisServer, TLSFiles, make_tls, start_server


async def _ping(r: redspec.Redis[bytes]) -> object:
    try:
        return await r.execute_command("PING")
    finally:
        await r.aclose()


async def test_right_ca(redis7_tls: RedisServer, tls_files: TLSFiles) -> None:
    r = redspec.Redis(redis7_tls.host, redis7_tls.port, ssl=True, ssl_ca_certs=tls_files.ca)
    assert await _ping(r) == b"PONG"
    r2 = redspec.Redis("localhost", redis7_tls.port, ssl=True, ssl_ca_certs=tls_files.ca)
    assert await _ping(r2) == b"PONG"


async def test_wrong_ca_fails_verification(redis7_tls: RedisServer, tmp_path: Path) -> None:
    other = make_tls(tmp_path)
    r = redspec.Redis(redis7_tls.host, redis7_tls.port, ssl=True, ssl_ca_certs=other.ca)
    with pytest.raises(redspec.ConnectionError, match="verif"):
        await _ping(r)


async def test_default_context_verifies(redis7_tls: RedisServer) -> None:
    # ssl=True with the system CAs: the test CA is not among them.
    r = redspec.Redis(redis7_tls.host, redis7_tls.port, ssl=True)
    with pytest.raises(redspec.ConnectionError, match="verif"):
        await _ping(r)


async def test_wrong_host_name(redis7_tls: RedisServer, tls_files: TLSFiles) -> None:
    # The server listens on 127.0.0.2 too; its certificate names 127.0.0.1 and localhost.
    r = redspec.Redis("127.0.0.2", redis7_tls.port, ssl=True, ssl_ca_certs=tls_files.ca)
    with pytest.raises(redspec.ConnectionError, match=r"verif.*(mismatch|match)"):
        await _ping(r)
    unchecked = redspec.Redis(
        "127.0.0.2",
        redis7_tls.port,
        ssl=True,
        ssl_ca_certs=tls_files.ca,
        ssl_check_hostname=False,
    )
    assert await _ping(unchecked) == b"PONG"


async def test_cert_reqs_none_skips_verification(redis7_tls: RedisServer, tmp_path: Path) -> None:
    other = make_tls(tmp_path)
    r = redspec.Redis(
        redis7_tls.host, redis7_tls.port, ssl=True, ssl_ca_certs=other.ca, ssl_cert_reqs="none"
    )
    assert await _ping(r) == b"PONG"


async def test_ssl_context(redis7_tls: RedisServer, tls_files: TLSFiles) -> None:
    ctx = ssl.create_default_context(cafile=tls_files.ca)
    assert await _ping(redspec.Redis(redis7_tls.host, redis7_tls.port, ssl=ctx)) == b"PONG"
    with pytest.raises(redspec.DataError):
        redspec.Redis(ssl=ctx, ssl_ca_certs=tls_files.ca)


async def test_plain_text_against_tls_port_fails(redis7_tls: RedisServer) -> None:
    r = redspec.Redis(redis7_tls.host, redis7_tls.port, connect_timeout=1)
    with pytest.raises((redspec.ConnectionError, redspec.TimeoutError)):
        await _ping(r)


async def test_rediss_url_with_query(redis7_tls: RedisServer, tls_files: TLSFiles) -> None:
    url = (
        f"rediss://{redis7_tls.host}:{redis7_tls.port}/1?ssl_ca_certs={quote(tls_files.ca)}"
        "&ssl_cert_reqs=required&ssl_check_hostname=true&command_timeout=2&protocol=2"
    )
    r = redspec.Redis.from_url(url)
    assert r.command_timeout == 2
    try:
        info = await r.execute_command("CLIENT", "INFO")
        assert b"db=1" in info and b"resp=2" in info
    finally:
        await r.aclose()


async def test_client_certificates(tls_files: TLSFiles) -> None:
    with start_server("redis7", tls=tls_files, args=["--tls-auth-clients", "yes"]) as server:
        base = f"rediss://{server.host}:{server.port}/0?ssl_ca_certs={quote(tls_files.ca)}"
        # Without a client certificate the server ends the handshake.
        with pytest.raises(redspec.ConnectionError):
            await _ping(redspec.Redis.from_url(base, connect_timeout=2))
        with_cert = (
            f"{base}&ssl_certfile={quote(tls_files.client_cert)}"
            f"&ssl_keyfile={quote(tls_files.client_key)}"
        )
        assert await _ping(redspec.Redis.from_url(with_cert)) == b"PONG"
        ctx = ssl.create_default_context(cafile=tls_files.ca)
        ctx.load_cert_chain(tls_files.client_cert, tls_files.client_key)
        assert await _ping(redspec.Redis(server.host, server.port, ssl=ctx)) == b"PONG"


async def test_bad_tls_files_are_data_errors(tmp_path: Path) -> None:
    with pytest.raises(redspec.DataError, match="cannot load"):
        redspec.Redis(ssl=True, ssl_ca_certs=str(tmp_path / "missing.pem"))
    with pytest.raises(redspec.DataError, match="without ssl=True"):
        redspec.Redis(ssl_ca_certs="ca.pem")
    with pytest.raises(redspec.DataError):
        redspec.Redis(ssl=True, ssl_cert_reqs="sometimes")


async def test_tls_to_a_plain_text_server_says_so_at_once(redis8: RedisServer) -> None:
    # A plain Redis reads the ClientHello as the start of an inline command and
    # waits for its end: the handshake never completes. redspec notices that the
    # port answers plain RESP and says so instead of waiting out connect_timeout.
    url = f"rediss://{redis8.host}:{redis8.port}/0?ssl_cert_reqs=none&connect_timeout=20"
    r = redspec.Redis.from_url(url)
    loop = asyncio.get_running_loop()
    started = loop.time()
    with pytest.raises(redspec.ConnectionError) as info:
        await _ping(r)
    elapsed = loop.time() - started
    message = str(info.value)
    assert "does not speak TLS" in message and "redis://" in message, message
    assert elapsed < 10, elapsed  # not the 20 s connect_timeout
    # the server was not disturbed
    async with redspec.Redis(redis8.host, redis8.port) as plain:
        assert await plain.ping() == b"PONG"


async def test_tls_to_a_silent_server_times_out_naming_the_handshake() -> None:
    async def silent(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await reader.read(1 << 16)  # takes the ClientHello, answers nothing

    server = await asyncio.start_server(silent, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    try:
        r = redspec.Redis("127.0.0.1", port, ssl=True, ssl_cert_reqs="none", connect_timeout=1)
        with pytest.raises(redspec.TimeoutError, match="TLS handshake"):
            await _ping(r)
    finally:
        server.close()
        await server.wait_closed()
