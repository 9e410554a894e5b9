"""Sentinel with TLS and separate credentials: Debian Redis 7.0.15 (the build with TLS).

Data nodes and the sentinel speak TLS only and have different passwords;
the client is given the data credentials and TLS settings as for ``Redis``,
and the sentinel ones through ``sentinel_*``.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

import redspec
from tests.sentinel.conftest import eventually
from tests.sentinel.harness import BUILDS, SERVICE, Deployment
from tests.servers import TLSFiles

DATA_PASSWORD = "data-s3cret"
SENTINEL_PASSWORD = "sentinel-s3cret"

pytestmark = pytest.mark.timeout(180)


@pytest.fixture(scope="module")
def secured(tls_files: TLSFiles) -> Iterator[Deployment]:
    with Deployment(
        BUILDS["redis7"],
        replicas=1,
        sentinels=1,
        quorum=1,
        data_password=DATA_PASSWORD,
        sentinel_password=SENTINEL_PASSWORD,
        tls=tls_files,
    ) as d:
        yield d


def _settings(tls: TLSFiles, **overrides: Any) -> dict[str, Any]:
    settings: dict[str, Any] = {
        "sentinel_password": SENTINEL_PASSWORD,
        "sentinel_ssl": True,
        "sentinel_ssl_ca_certs": tls.ca,
        "password": DATA_PASSWORD,
        "ssl": True,
        "ssl_ca_certs": tls.ca,
    }
    settings.update(overrides)
    return settings


def _no_secret(*texts: object) -> None:
    for text in texts:
        assert "s3cret" not in str(text), text


async def test_tls_and_separate_credentials(secured: Deployment, tls_files: TLSFiles) -> None:
    d = secured
    sentinel = d.sentinels[0]
    s = redspec.Sentinel([(sentinel.host, sentinel.port)], **_settings(tls_files))
    async with s:
        m = s.master_for(SERVICE, decode_responses=True)
        r = s.replica_for(SERVICE, decode_responses=True)
        assert await m.set("secured", "yes") is True
        assert await m.execute_command("WAIT", 1, 10_000) == 1
        assert await r.get("secured") == "yes"
        assert m.settings.ssl is not None and r.settings.ssl is not None
        assert m.settings.port == d.master.port
        # The event subscription works over TLS with the sentinel password too.
        assert await eventually(lambda: _watching(s)) == (sentinel.host, sentinel.port)
        _no_secret(repr(s), repr(m), repr(r))


async def _watching(s: redspec.Sentinel) -> tuple[str, int] | None:
    return s.watching


async def test_wrong_settings_fail_clearly(secured: Deployment, tls_files: TLSFiles) -> None:
    sentinel = secured.sentinels[0]
    where = [(sentinel.host, sentinel.port)]
    cases: list[tuple[dict[str, Any], type[redspec.RedisError], str]] = [
        ({"sentinel_password": "wrong-s3cret"}, redspec.AuthenticationError, "sentinel"),
        ({"password": "wrong-s3cret"}, redspec.AuthenticationError, "authentication failed"),
        (
            {"sentinel_ssl": None, "sentinel_ssl_ca_certs": None},
            redspec.MasterNotFoundError,
            "no sentinel answered about service",
        ),
    ]
    for overrides, error, text in cases:
        s = redspec.Sentinel(where, **_settings(tls_files, **overrides))
        m = s.master_for(SERVICE)
        with pytest.raises(error, match=text) as info:
            await m.get("k")
        _no_secret(info.value, repr(info.value), repr(s), repr(m))
        await s.aclose()


async def test_rediss_sentinel_url(secured: Deployment, tls_files: TLSFiles) -> None:
    sentinel = secured.sentinels[0]
    url = (
        f"rediss+sentinel://:{DATA_PASSWORD}@{sentinel.host}:{sentinel.port}/{SERVICE}"
        f"?sentinel_password={SENTINEL_PASSWORD}&ssl_ca_certs={tls_files.ca}"
        f"&sentinel_ssl_ca_certs={tls_files.ca}"
    )
    m = redspec.Redis.from_url(url, decode_responses=True)
    async with m:
        assert await m.set("via-url", "1") is True
        assert m.settings.port == secured.master.port
        _no_secret(repr(m))
