"""The "pubsub" group's generated methods against live servers, RESP3 and RESP2.

The (un)subscribe commands belong to the PubSub API and get no generated
method; here a plain socket holds the subscriptions that the PUBSUB
introspection commands and PUBLISH/SPUBLISH report on.
"""

from __future__ import annotations

import asyncio

import hiredis
import pytest

from redspec._generated.client.pubsub import PubsubCommands
from tests.servers import RedisServer

from ._sys_support import PROTOCOLS, Calls, client_for, str_client_for

calls = Calls()
SERVERS = ["redis8", "valkey8", "redis7"]


class Subscriber:
    """A RESP2 connection subscribed to channels, patterns and shard channels."""

    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.reader, self.writer = reader, writer
        self.parser = hiredis.Reader()

    @classmethod
    async def open(cls, server: RedisServer) -> Subscriber:
        return cls(*await asyncio.open_connection(server.host, server.port))

    async def send(self, *args: str, replies: int) -> list[object]:
        out = b"".join(b"$%d\r\n%s\r\n" % (len(a), a.encode()) for a in args)
        self.writer.write(b"*%d\r\n" % len(args) + out)
        got: list[object] = []
        while len(got) < replies:
            got.append(await self.next())
        return got

    async def next(self) -> object:
        while True:
            reply = self.parser.gets()
            if reply is not False:
                return reply
            self.parser.feed(await asyncio.wait_for(self.reader.read(65536), 5))

    async def close(self) -> None:
        self.writer.close()
        await self.writer.wait_closed()


@pytest.fixture(params=PROTOCOLS)
def protocol(request: pytest.FixtureRequest) -> int:
    return int(request.param)


@pytest.mark.parametrize("kind", SERVERS)
async def test_publish_and_introspection(
    kind: str, protocol: int, request: pytest.FixtureRequest
) -> None:
    server: RedisServer = request.getfixturevalue(kind)
    tag = f"rt-{kind}-{protocol}"
    sub = await Subscriber.open(server)
    r = client_for(server, protocol)
    try:
        await sub.send("SUBSCRIBE", f"{tag}:a", f"{tag}:b", replies=2)
        await sub.send("PSUBSCRIBE", f"{tag}:p*", replies=1)
        await sub.send("SSUBSCRIBE", f"{tag}:s", replies=1)

        await calls.check(r.publish, f"{tag}:a", "m1", expect=1)
        assert await sub.next() == [b"message", f"{tag}:a".encode(), b"m1"]
        await calls.check(r.publish, f"{tag}:nobody", "m2", expect=0)
        await calls.check(r.spublish, f"{tag}:s", "m3", expect=1)
        assert await sub.next() == [b"smessage", f"{tag}:s".encode(), b"m3"]
        await calls.check(r.spublish, f"{tag}:nobody", "m4", expect=0)

        everything = await calls.check(r.pubsub_channels)
        assert {f"{tag}:a".encode(), f"{tag}:b".encode()} <= set(everything)
        mine = await calls.check(r.pubsub_channels, f"{tag}:*")
        assert sorted(mine) == [f"{tag}:a".encode(), f"{tag}:b".encode()]
        assert await calls.check(r.pubsub_numpat) >= 1
        await calls.check(
            r.pubsub_numsub,
            f"{tag}:a",
            f"{tag}:zz",
            expect={f"{tag}:a".encode(): 1, f"{tag}:zz".encode(): 0},
        )
        await calls.check(r.pubsub_numsub, expect={})
        await calls.check(r.pubsub_shardchannels, f"{tag}:*", expect=[f"{tag}:s".encode()])
        assert f"{tag}:s".encode() in await calls.check(r.pubsub_shardchannels)
        await calls.check(
            r.pubsub_shardnumsub, f"{tag}:s", f"{tag}:t",
            expect={f"{tag}:s".encode(): 1, f"{tag}:t".encode(): 0},
        )  # fmt: skip
        helptext = await calls.check(r.pubsub_help)
        assert helptext[0].startswith(b"PUBSUB <subcommand>")
    finally:
        await r.aclose()
        await sub.close()


async def test_decoded(redis8: RedisServer, protocol: int) -> None:
    tag = f"rt-str-{protocol}"
    sub = await Subscriber.open(redis8)
    r = str_client_for(redis8, protocol)
    try:
        await sub.send("SUBSCRIBE", f"{tag}:a", replies=1)
        await sub.send("SSUBSCRIBE", f"{tag}:s", replies=1)
        await calls.check(r.publish, f"{tag}:a", "m", expect=1)
        await calls.check(r.pubsub_channels, f"{tag}:*", expect=[f"{tag}:a"])
        await calls.check(r.pubsub_numsub, f"{tag}:a", expect={f"{tag}:a": 1})
        await calls.check(r.pubsub_shardchannels, f"{tag}:*", expect=[f"{tag}:s"])
        await calls.check(r.pubsub_shardnumsub, f"{tag}:s", expect={f"{tag}:s": 1})
    finally:
        await r.aclose()
        await sub.close()


def test_zz_every_method_called(request: pytest.FixtureRequest) -> None:
    calls.assert_covers(PubsubCommands, request)
