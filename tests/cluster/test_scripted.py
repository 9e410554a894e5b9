"""RedisCluster against scripted fake nodes (tests/unit/fake_server.py): the replies a real
cluster gives only by chance (a redirect loop, CLUSTERDOWN, TRYAGAIN, a server without
CLUSTER SHARDS, a connection dying mid-command), on demand."""

from __future__ import annotations

import time
from typing import Any

import pytest

import redspec
from redspec.cluster import RedisCluster
from tests.unit.fake_server import DEFAULT, OK, FakeClient, FakeServer, encode, error


def shards_reply(port: int, endpoint: str = "127.0.0.1") -> bytes:
    node = {
        "id": "a" * 40,
        "port": port,
        "ip": "127.0.0.1",
        "endpoint": endpoint,
        "role": "master",
        "replication-offset": 0,
        "health": "online",
    }
    return encode([{"slots": [0, 16383], "nodes": [node]}])


class Script:
    """A one-node cluster owning every slot; ``replies[name]`` scripts a command's answers
    (a list: one per call, the last one repeated)."""

    def __init__(self, **replies: list[bytes | None]) -> None:
        self.replies = replies
        self.port = 0
        self.endpoint = "127.0.0.1"
        self.shards = True
        self.seen: list[list[bytes]] = []

    def __call__(self, client: FakeClient, cmd: list[bytes]) -> Any:
        words = [c.upper() for c in cmd[:2]]
        self.seen.append(cmd)
        if words == [b"CLUSTER", b"SHARDS"]:
            if not self.shards:
                return error("ERR unknown subcommand 'SHARDS'. Try CLUSTER HELP.")
            return shards_reply(self.port, self.endpoint)
        if words == [b"CLUSTER", b"SLOTS"]:
            return encode([[0, 16383, [b"", self.port, b"a" * 40]]])
        answers = self.replies.get(cmd[0].decode().upper())
        if answers:
            answer = answers.pop(0) if len(answers) > 1 else answers[0]
            if answer is None:
                client.close()  # the connection dies with the command in flight
            return answer
        return DEFAULT

    def count(self, name: bytes) -> int:
        return sum(1 for c in self.seen if c[0].upper() == name)


async def start(script: Script) -> FakeServer:
    server = FakeServer(script)
    await server.__aenter__()
    script.port = server.port
    return server


async def test_cluster_slots_when_the_server_has_no_cluster_shards() -> None:
    script = Script(GET=[encode("v")])
    script.shards = False
    server = await start(script)
    try:
        async with RedisCluster("127.0.0.1", server.port) as rc:
            assert await rc.get("k") == b"v"
            # An empty host in CLUSTER SLOTS means the node that answered.
            assert [n.settings.port for n in rc.nodes()] == [server.port]
        assert script.count(b"CLUSTER") == 2  # SHARDS refused, then SLOTS
    finally:
        await server.__aexit__()


async def test_the_announced_endpoint_is_used() -> None:
    script = Script(GET=[encode("v")])
    script.endpoint = "localhost"  # cluster-announce-hostname + preferred endpoint type
    server = await start(script)
    try:
        async with RedisCluster("127.0.0.1", server.port) as rc:
            assert [n.settings.host for n in rc.nodes()] == ["localhost"]
            assert await rc.get("k") == b"v"
    finally:
        await server.__aexit__()


async def test_a_redirect_loop_is_capped() -> None:
    script = Script()
    server = await start(script)
    script.replies["GET"] = [error(f"MOVED 7 127.0.0.1:{server.port}")]
    try:
        async with RedisCluster("127.0.0.1", server.port, max_redirects=3) as rc:
            with pytest.raises(redspec.ClusterError, match=r"GET: gave up after 3 redirections"):
                await rc.get("k")
        assert script.count(b"GET") == 4
    finally:
        await server.__aexit__()


async def test_tryagain_and_loading_are_retried() -> None:
    script = Script(
        MGET=[error("TRYAGAIN Multiple keys request during rehashing of slot"), encode([b"1"])],
        GET=[error("LOADING Redis is loading the dataset in memory"), encode("v")],
    )
    server = await start(script)
    try:
        async with RedisCluster("127.0.0.1", server.port) as rc:
            assert await rc.mget("{t}a") == [b"1"]
            assert await rc.get("k") == b"v"
        assert script.count(b"MGET") == 2 and script.count(b"GET") == 2
    finally:
        await server.__aexit__()


async def test_clusterdown_is_retried_until_retry_timeout() -> None:
    script = Script(GET=[error("CLUSTERDOWN The cluster is down")])
    server = await start(script)
    try:
        async with RedisCluster("127.0.0.1", server.port, retry_timeout=0.3) as rc:
            started = time.monotonic()
            with pytest.raises(redspec.ClusterDownError):
                await rc.get("k")
            assert 0.25 <= time.monotonic() - started < 3
        assert script.count(b"GET") > 2
    finally:
        await server.__aexit__()


async def test_a_write_lost_in_flight_is_not_resent_a_read_is_with_retry_reads() -> None:
    script = Script(SET=[None, OK], GET=[None, encode("v")])
    server = await start(script)
    try:
        async with RedisCluster("127.0.0.1", server.port, retry_reads=True) as rc:
            with pytest.raises(redspec.ConnectionError, match="may or may not"):
                await rc.set("k", "v")
            assert script.count(b"SET") == 1
            assert await rc.get("k") == b"v"  # lost once, sent again after the reconnect
            assert script.count(b"GET") == 2
    finally:
        await server.__aexit__()
