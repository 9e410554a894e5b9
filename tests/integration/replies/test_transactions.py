"""The transactions group's reply table against live servers (RESP3 and RESP2).

MULTI, EXEC, DISCARD, WATCH and UNWATCH get no generated methods (pipelines
and the WATCH flow own them), so no annotation exists to check. Instead each
raw reply goes through the converter and type that ``transactions.txt``
declares, exactly as a generated method would use them.
"""

from __future__ import annotations

from typing import Any

import pytest

import redspec
from codegen.replies import load_replies
from redspec import _replies
from tests.integration.replies._data_support import ALL, MODES, client_for
from tests.reply_check import check
from tests.servers import RedisServer

ENTRIES = load_replies()
COMMANDS = ("DISCARD", "EXEC", "MULTI", "UNWATCH", "WATCH")


def typed(command: str, raw: Any, decoded: bool) -> Any:
    """``raw`` through the table's converter for ``command``, checked against its type."""
    reply = ENTRIES[command].base
    assert reply is not None
    conv = eval(reply.conv, vars(_replies)) if reply.conv else None
    value = conv(raw) if conv is not None else raw
    check(value, reply.ann, str if decoded else bytes, path=command)
    return value


def test_table_has_the_group() -> None:
    assert {c for c, e in ENTRIES.items() if e.where.startswith("transactions.txt")} == set(
        COMMANDS
    )


@pytest.mark.parametrize("kind", ALL)
@pytest.mark.parametrize(
    ("protocol", "decoded"), MODES, ids=[f"resp{p}{'-str' if d else ''}" for p, d in MODES]
)
async def test_transaction_replies(
    kind: str, protocol: int, decoded: bool, request: pytest.FixtureRequest
) -> None:
    server: RedisServer = request.getfixturevalue(kind)
    r = client_for(server, protocol, decode_responses=decoded)
    other = client_for(server, protocol)
    ok = "OK" if decoded else b"OK"
    try:
        await r.execute_command("FLUSHALL")
        assert typed("WATCH", await r.execute_command("WATCH", "k", "j"), decoded) is True
        assert typed("UNWATCH", await r.execute_command("UNWATCH"), decoded) is True
        assert typed("MULTI", await r.execute_command("MULTI"), decoded) is True
        await r.execute_command("SET", "k", 1)
        await r.execute_command("INCR", "k")
        assert typed("EXEC", await r.execute_command("EXEC"), decoded) == [ok, 2]
        # A command that fails at EXEC time leaves an error object in the array:
        # a ResponseError is a RespValue, so `list<any>` names it.
        assert typed("MULTI", await r.execute_command("MULTI"), decoded) is True
        await r.execute_command("HGETALL", "k")
        await r.execute_command("INCR", "k")
        value = typed("EXEC", await r.execute_command("EXEC"), decoded)
        assert isinstance(value[0], redspec.ResponseError) and value[1] == 3
        assert "WRONGTYPE" in str(value[0])
        assert typed("MULTI", await r.execute_command("MULTI"), decoded) is True
        await r.execute_command("SET", "k", 5)
        assert typed("DISCARD", await r.execute_command("DISCARD"), decoded) is True
        assert await r.execute_command("GET", "k") == ("3" if decoded else b"3")
        # A WATCHed key changed by another client: EXEC answers nil.
        assert typed("WATCH", await r.execute_command("WATCH", "k"), decoded) is True
        await other.execute_command("SET", "k", 9)
        assert typed("MULTI", await r.execute_command("MULTI"), decoded) is True
        await r.execute_command("SET", "k", 10)
        assert typed("EXEC", await r.execute_command("EXEC"), decoded) is None
        assert await r.execute_command("GET", "k") == ("9" if decoded else b"9")
        # An empty transaction: an empty array.
        assert typed("MULTI", await r.execute_command("MULTI"), decoded) is True
        assert typed("EXEC", await r.execute_command("EXEC"), decoded) == []
    finally:
        await r.aclose()
        await other.aclose()
