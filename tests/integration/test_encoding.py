"""Text encoding: ``encoding`` applies to what is written as well as to what is read,
and ``encoding_errors`` says what happens to bytes that are not text in it.

A reply that cannot be decoded under the default ``encoding_errors="strict"``
fails its own call with ``DecodeError`` (a ``RedisError``) and nothing else:
concurrent callers on the same connection still get their own replies.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Any

import pytest

import redspec
from tests.servers import RedisServer

BAD = b"\xe9x"  # latin-1 "éx"; not UTF-8


@pytest.fixture(params=[3, 2], ids=["resp3", "resp2"])
def protocol(request: pytest.FixtureRequest) -> int:
    return int(request.param)


@pytest.fixture
async def raw(redis8: RedisServer) -> AsyncIterator[redspec.Redis[bytes]]:
    """A bytes client: what the server really holds."""
    r = redspec.Redis(redis8.host, redis8.port)
    await r.execute_command("FLUSHALL")
    yield r
    await r.aclose()


def text_client(server: RedisServer, protocol: int, **settings: Any) -> redspec.Redis[str]:
    return redspec.Redis(
        server.host, server.port, protocol=protocol, decode_responses=True, **settings
    )


# ------------------------------------------------------------------ encoding= on writes


async def test_latin1_round_trip(
    redis8: RedisServer, raw: redspec.Redis[bytes], protocol: int
) -> None:
    async with text_client(redis8, protocol, encoding="latin-1") as r:
        assert await r.set("clé", "é") is True
        assert await raw.get("cl\xe9".encode("latin-1")) == b"\xe9"  # one byte, not UTF-8's two
        assert await r.get("clé") == "é"
        await r.execute_command("SET", "k2", "ü")
        assert await raw.get("k2") == b"\xfc"
        async with r.pipeline(transaction=False) as p:
            p.set("k3", "ß")
            p.get("k3")
            assert await p.execute() == [True, "ß"]
        assert await raw.get("k3") == b"\xdf"
        await r.hset("h", mapping={"à": "ç"})
        assert await raw.hgetall("h") == {b"\xe0": b"\xe7"}
        assert await r.hgetall("h") == {"à": "ç"}


async def test_encoding_applies_to_a_bytes_client_too(
    redis8: RedisServer, raw: redspec.Redis[bytes]
) -> None:
    async with redspec.Redis.from_url(f"{redis8.url}?encoding=latin-1") as r:
        await r.set("k", "é")
        assert await r.get("k") == b"\xe9"
        assert await raw.get("k") == b"\xe9"


async def test_text_the_encoding_cannot_hold_is_refused_before_sending(
    redis8: RedisServer, raw: redspec.Redis[bytes]
) -> None:
    async with text_client(redis8, 3, encoding="latin-1") as r:
        with pytest.raises(redspec.DataError, match="latin-1") as info:
            await r.set("k", "€")
        assert "SET" in str(info.value)
        assert await raw.exists("k") == 0
        assert await r.set("k", "ok") is True  # the connection is intact


# ------------------------------------------------------------------ encoding_errors


async def test_undecodable_reply_is_a_redspec_error_of_that_call_only(
    redis8: RedisServer, raw: redspec.Redis[bytes], protocol: int
) -> None:
    await raw.set("bad", BAD)
    await raw.set("good", "fine")
    await raw.rpush("list", "a", BAD, "b")
    async with text_client(redis8, protocol) as r:
        with pytest.raises(redspec.DecodeError, match="utf-8") as info:
            await r.get("bad")
        assert isinstance(info.value, redspec.DataError)
        assert "encoding_errors" in str(info.value)  # says how to accept such values
        # Concurrent callers around the failing one get their own replies.
        results = await asyncio.gather(
            r.get("good"), r.get("bad"), r.lrange("list", 0, -1), r.get("good"), r.echo("é"),
            return_exceptions=True,
        )
        assert results[0] == "fine" and results[3] == "fine" and results[4] == "é"
        assert isinstance(results[1], redspec.DecodeError)
        assert isinstance(results[2], redspec.DecodeError)  # one bad item fails the whole reply
        async with r.pipeline(transaction=False) as p:
            p.get("bad")
            p.get("good")
            replies = await p.execute(raise_on_error=False)
        assert isinstance(replies[0], redspec.DecodeError) and replies[1] == "fine"
        assert await r.get("good") == "fine"


async def test_undecodable_bytes_split_across_reads(
    redis8: RedisServer, raw: redspec.Redis[bytes], protocol: int
) -> None:
    # A big aggregate arrives in many reads; its bad element is decoded long
    # before the reply is whole: the failure must stay with that reply.
    await raw.rpush("big", *([b"x" * 1000] * 300), BAD, *([b"y" * 1000] * 300))
    await raw.set("good", "fine")
    async with text_client(redis8, protocol) as r, text_client(redis8, protocol) as other:
        big = asyncio.ensure_future(r.lrange("big", 0, -1))
        others = [asyncio.ensure_future(other.get("good")) for _ in range(50)]
        after = asyncio.ensure_future(r.get("good"))
        with pytest.raises(redspec.DecodeError):
            await big
        assert await after == "fine"
        assert await asyncio.gather(*others) == ["fine"] * 50


@pytest.mark.parametrize(
    ("errors", "expected"),
    [("surrogateescape", "\udce9x"), ("replace", "\ufffdx"), ("backslashreplace", "\\xe9x")],
)
async def test_encoding_errors_on_request(
    redis8: RedisServer, raw: redspec.Redis[bytes], protocol: int, errors: str, expected: str
) -> None:
    await raw.set("bad", BAD)
    async with text_client(redis8, protocol, encoding_errors=errors) as r:
        assert await r.get("bad") == expected
        assert await r.mget("bad", "missing") == [expected, None]


async def test_surrogateescape_writes_back_the_original_bytes(
    redis8: RedisServer, raw: redspec.Redis[bytes]
) -> None:
    await raw.set("bad", BAD)
    url = f"{redis8.url}?encoding_errors=surrogateescape"
    async with redspec.Redis.from_url(url, decode_responses=True) as r:
        value = await r.get("bad")
        assert value is not None
        await r.set("copy", value)
        await r.set(value, "as a key")
    assert await raw.get("copy") == BAD
    assert await raw.get(BAD) == b"as a key"


async def test_writing_surrogates_under_strict_is_a_data_error(
    redis8: RedisServer, raw: redspec.Redis[bytes]
) -> None:
    async with text_client(redis8, 3) as r:
        with pytest.raises(redspec.DataError, match="encoding_errors"):
            await r.set("k", "\udce9x")
        with pytest.raises(redspec.DataError):
            await r.execute_command("SET", "k", "\udce9x")
        assert await raw.exists("k") == 0
        assert await r.set("k", "ok") is True


async def test_encoding_errors_setting_is_checked() -> None:
    with pytest.raises(redspec.DataError, match="encoding_errors"):
        redspec.Redis(encoding_errors="nonsense")
    with pytest.raises(redspec.DataError, match="encoding_errors"):
        redspec.Redis.from_url("redis://h/0?encoding_errors=nonsense")
    r = redspec.Redis.from_url("redis://h/0?encoding_errors=replace")
    assert r.settings.encoding_errors == "replace"
    assert redspec.Redis().settings.encoding_errors == "strict"


async def test_undecodable_pubsub_message_is_delivered_not_lost(
    redis8: RedisServer, raw: redspec.Redis[bytes], protocol: int
) -> None:
    async with text_client(redis8, protocol) as r, r.pubsub() as ps:
        await ps.subscribe("ch")
        first = await ps.get_message(timeout=5)
        assert first is not None and first.kind == "subscribe"
        await raw.publish("ch", BAD)
        await raw.publish("ch", "next")
        bad = await ps.get_message(timeout=5)
        nxt = await ps.get_message(timeout=5)
        assert bad is not None and bad.data == "\udce9x"  # escaped: encode it back to get the bytes
        assert bad.data.encode("utf-8", "surrogateescape") == BAD
        assert nxt is not None and nxt.data == "next"
