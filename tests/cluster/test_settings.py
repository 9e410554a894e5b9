"""RedisCluster settings and URLs: checked before anything connects (no server needed)."""

from __future__ import annotations

import pytest

import redspec
from redspec.cluster import RedisCluster


def test_defaults_and_startup_nodes() -> None:
    rc = RedisCluster()
    assert rc.settings.host == "localhost" and rc.settings.port == 6379
    rc = RedisCluster("10.0.0.1", 7000, startup_nodes=[("10.0.0.2", 7001)])
    assert rc._dispatch.topology._startup == [("10.0.0.1", 7000), ("10.0.0.2", 7001)]
    assert rc.command_timeout == 5.0  # redspec._settings.DEFAULT_COMMAND_TIMEOUT, as for Redis
    assert "0 shards" in repr(rc)


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"db": 1}, "db must be 0"),
        ({"unix_socket_path": "/tmp/x.sock"}, "unix_socket_path"),
        ({"nonsense": 1}, "unknown RedisCluster setting"),
        ({"startup_nodes": "h:1"}, "startup_nodes"),
        ({"startup_nodes": [("h", "1")]}, "startup_nodes"),
        ({"startup_nodes": [("h",)]}, "startup_nodes"),
        ({"max_redirects": -1}, "max_redirects"),
        ({"retry_timeout": -1}, "retry_timeout"),
        ({"refresh_interval": "soon"}, "refresh_interval"),
        ({"address_remap": 5}, "address_remap"),
        ({"port": 70000}, "port"),
        ({"command_timeout": -1}, "command_timeout"),
    ],
)
def test_bad_settings_name_the_setting(kwargs: dict[str, object], message: str) -> None:
    with pytest.raises(redspec.DataError, match=message):
        RedisCluster(**kwargs)  # type: ignore[call-overload]


def test_password_never_in_errors_or_repr() -> None:
    rc = RedisCluster(password="s3cret-pw")
    assert "s3cret-pw" not in repr(rc)
    assert "s3cret-pw" not in repr(rc.settings)


def test_from_url_hosts_and_cluster_parameters() -> None:
    rc = RedisCluster.from_url(
        "redis://user:pw@10.0.0.1:7000,10.0.0.2:7001,[::1]:7002"
        "?read_from_replicas=yes&max_redirects=3&retry_timeout=0.5&refresh_interval=none"
        "&command_timeout=2&protocol=2"
    )
    topology = rc._dispatch.topology
    assert topology._startup == [("10.0.0.1", 7000), ("10.0.0.2", 7001), ("::1", 7002)]
    assert rc._dispatch.read_from_replicas is True
    assert rc.settings.readonly is True
    assert rc._dispatch.max_redirects == 3 and rc._dispatch.retry_timeout == 0.5
    assert topology.refresh_interval is None
    assert rc.command_timeout == 2 and rc.settings.protocol == 2
    assert rc.settings.username == "user" and rc.settings.password == "pw"
    tls = RedisCluster.from_url("rediss://10.0.0.1:7000", decode_responses=True)
    assert tls.settings.ssl is not None and tls.settings.decode_responses
    # Keywords win over the URL.
    over = RedisCluster.from_url("redis://h:1?max_redirects=3", max_redirects=4)
    assert over._dispatch.max_redirects == 4


@pytest.mark.parametrize(
    ("url", "message"),
    [
        ("redis://h:1,h2?x=1", "host:port"),
        ("redis://h:1?max_redirects=many", "max_redirects"),
        ("redis://h:1?max_redirects=1&max_redirects=2", "twice"),
        ("redis://h:1/2", "db must be 0"),
        ("redis://h:1?unknown=1", "unknown URL parameter"),
    ],
)
def test_bad_urls(url: str, message: str) -> None:
    with pytest.raises(redspec.DataError, match=message):
        RedisCluster.from_url(url)


async def test_cross_slot_and_bad_keys_fail_before_connecting() -> None:
    rc = RedisCluster("127.0.0.1", 1)  # nothing listens there: nothing may be tried
    with pytest.raises(redspec.CrossSlotError, match="RENAME"):
        await rc.rename("a", "b")
    with pytest.raises(redspec.DataError):
        await rc.get(object())  # type: ignore[arg-type]
    async with rc.pipeline(transaction=True) as p:
        p.set("{x}a", 1)
        with pytest.raises(redspec.CrossSlotError):
            p.set("b", 1)
    await rc.aclose()
