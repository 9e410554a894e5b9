"""URL parsing (no server)."""

from __future__ import annotations

import pytest

import redspec
from redspec.url import parse_url


def test_full_redis_url() -> None:
    assert parse_url("redis://us%40er:p%3Aw%2Fd@example.com:6380/2") == {
        "username": "us@er",
        "password": "p:w/d",
        "host": "example.com",
        "port": 6380,
        "db": 2,
    }


def test_minimal_and_password_only() -> None:
    assert parse_url("redis://localhost") == {"host": "localhost"}
    assert parse_url("redis://:secret@h") == {"password": "secret", "host": "h"}
    assert parse_url("redis://[::1]:7000/0") == {"host": "::1", "port": 7000, "db": 0}


def test_rediss_and_tls_params() -> None:
    opts = parse_url(
        "rediss://h/0?ssl_ca_certs=%2Fetc%2Fca.pem&ssl_certfile=c.pem&ssl_keyfile=k.pem"
        "&ssl_cert_reqs=optional&ssl_check_hostname=false"
    )
    assert opts == {
        "host": "h",
        "db": 0,
        "ssl": True,
        "ssl_ca_certs": "/etc/ca.pem",
        "ssl_certfile": "c.pem",
        "ssl_keyfile": "k.pem",
        "ssl_cert_reqs": "optional",
        "ssl_check_hostname": False,
    }


def test_unix() -> None:
    assert parse_url("unix:///run/redis.sock?db=3&password=pw") == {
        "unix_socket_path": "/run/redis.sock",
        "db": 3,
        "password": "pw",
    }


def test_settings_are_converted() -> None:
    opts = parse_url(
        "redis://h?command_timeout=0.5&connect_timeout=none&protocol=2&decode_responses=true"
        "&max_connections=7&pool_timeout=1&retry_reads=yes&client_name=app"
    )
    assert opts == {
        "host": "h",
        "command_timeout": 0.5,
        "connect_timeout": None,
        "protocol": 2,
        "decode_responses": True,
        "max_connections": 7,
        "pool_timeout": 1.0,
        "retry_reads": True,
        "client_name": "app",
    }


@pytest.mark.parametrize(
    ("url", "match"),
    [
        ("redis://h?bogus=1", "unknown URL parameter 'bogus'"),
        ("redis://h?db=1&db=2", "twice"),
        ("redis://h/1?db=2", "twice"),
        ("redis://h?protocol=three", "protocol"),
        ("redis://h?command_timeout=-1", "command_timeout"),
        ("redis://h?decode_responses=maybe", "decode_responses"),
        ("redis://h/zero", "database number"),
        ("redis://h:99999", "the URL's port '99999' is not a port number"),
        ("redis://host:notaport", "the URL's port 'notaport' is not a port number"),
        ("redis://user:pw@host:6379x/0", "port '6379x'"),
        ("redis://[::1:6379", "the URL's host"),
        ("http://h", "scheme"),
        ("unix://", "socket path"),
        ("rediss://h?ssl=false", "contradicts"),
    ],
)
def test_bad_urls(url: str, match: str) -> None:
    with pytest.raises(redspec.DataError, match=match):
        parse_url(url)


def test_errors_never_quote_the_password() -> None:
    for url in ("redis://:hunter2@h:99999", "redis://u:hunter2@h:bad", "redis://:hunter2@[h"):
        with pytest.raises(redspec.DataError) as info:
            parse_url(url)
        assert "hunter2" not in str(info.value)
    with pytest.raises(redspec.DataError) as info:
        parse_url("redis://h?password=hunter2&password=x")
    assert "hunter2" not in str(info.value)


def test_from_url_keywords_win() -> None:
    r = redspec.Redis.from_url("redis://h:1/2?command_timeout=3", command_timeout=4, db=5)
    assert r.command_timeout == 4
    s = r.settings
    assert (s.host, s.port, s.db) == ("h", 1, 5)
    assert repr(redspec.Redis.from_url("unix:///tmp/x.sock")) == "<Redis path='/tmp/x.sock' db=0>"
