"""Cluster routing without a server: slots, key positions, policies, split/merge, aggregation.

Key positions are also cross-checked against a live server's COMMAND GETKEYS in
tests/integration/test_routing_getkeys.py.
"""

from __future__ import annotations

from typing import Any

import pytest

from redspec._generated import meta
from redspec._generated.routing import CONTAINERS, ROUTES, UNDERIVED
from redspec.cluster.routing import (
    SLOT_COUNT,
    CommandRoute,
    RequestPolicy,
    ResponsePolicy,
    SlotPart,
    aggregate,
    command_slot,
    key_positions,
    key_slot,
    merge_parts,
    route_for,
    split_by_slot,
)
from redspec.errors import CrossSlotError, DataError, ResponseError

# ------------------------------------------------------------------ key_slot


@pytest.mark.parametrize(
    ("key", "slot"),
    [
        ("123456789", 0x31C3 % SLOT_COUNT),  # the CRC16-XMODEM check value
        ("foo", 12182),
        ("bar", 5061),
        ("", 0),
        ("{user1000}.following", key_slot("user1000")),
        ("{user1000}.followers", key_slot("user1000")),
        ("foo{}{bar}", key_slot("foo{}{bar}")),  # empty tag: the whole key
        ("foo{{bar}}zap", key_slot("{bar")),  # first { then first } after it
        ("foo{bar}{zap}", key_slot("bar")),
        ("no}tag{", key_slot("no}tag{")),
    ],
)
def test_key_slot_known_values(key: str, slot: int) -> None:
    assert key_slot(key) == slot


def test_key_slot_spec_examples_differ_without_tag() -> None:
    assert key_slot("foo{}{bar}") != key_slot("bar")
    assert key_slot("user1000.following") != key_slot("user1000.followers")


def test_key_slot_types_agree_with_the_wire_form() -> None:
    assert key_slot(b"foo") == key_slot("foo") == key_slot(memoryview(b"foo"))
    assert key_slot(42) == key_slot("42")
    assert key_slot(1.5) == key_slot("1.5")
    assert key_slot("é") == key_slot("é".encode())
    assert key_slot("é", "latin-1") == key_slot(b"\xe9")
    assert key_slot(b"\xff{\x00\x01}\xfe") == key_slot(b"\x00\x01")
    for k in (b"", b"\x00" * 100, bytes(range(256))):
        assert 0 <= key_slot(k) < SLOT_COUNT


def test_key_slot_of_text_the_encoding_cannot_hold() -> None:
    # A str read with encoding_errors="surrogateescape" goes back as its original
    # bytes: its slot is theirs. Text the encoding cannot hold never raises a
    # UnicodeEncodeError here (the connection refuses it with DataError, or
    # writes it per encoding_errors; a MOVED then corrects a lossy guess).
    assert key_slot("\udce9x") == key_slot(b"\xe9x")
    assert key_slot(memoryview(b"a")) == key_slot("a")
    assert 0 <= key_slot("€", "latin-1") < SLOT_COUNT
    assert 0 <= key_slot("\ud800", "utf-16") < SLOT_COUNT


@pytest.mark.parametrize("bad", [True, None, ["k"], object()])
def test_key_slot_refuses_what_the_connection_cannot_send(bad: Any) -> None:
    with pytest.raises(DataError, match="a key must be"):
        key_slot(bad)


# ------------------------------------------------------------------ route_for


def test_route_names_any_spelling() -> None:
    get = route_for(("GET", "k"))
    assert get.name == "GET" and get.known and get.readonly and not get.blocking
    assert get.request is RequestPolicy.KEYED and get.response is ResponsePolicy.DEFAULT
    for spelling in ("get", "Get", b"GET", b"get", bytearray(b"gEt"), memoryview(b"GET")):
        assert route_for((spelling, "k")) == get
    assert route_for(["GET", "k"]) is route_for(("GET", "k"))


def test_route_containers_read_the_subcommand() -> None:
    r = route_for(("XINFO", "STREAM", "s"))
    assert r.name == "XINFO STREAM" and r.readonly and r.first_key == 2
    assert route_for((b"xinfo", b"stream", b"s")) == r
    assert route_for(("object", "encoding", "k")).name == "OBJECT ENCODING"
    assert route_for(("CONFIG", "SET", "a", "b")).request is RequestPolicy.ALL_NODES
    assert route_for(("COMMAND",)).name == "COMMAND"  # a bare container


def test_unknown_commands_have_a_documented_default() -> None:
    r = route_for(("FT.SEARCH", "idx", "*"))
    assert (r.name, r.known, r.request) == ("FT.SEARCH", False, RequestPolicy.KEYLESS)
    assert not r.readonly and not r.blocking
    assert command_slot(r, ("FT.SEARCH", "idx", "*")) is None
    sub = route_for(("CLIENT", "NOSUCH"))
    assert (sub.name, sub.known) == ("CLIENT NOSUCH", False)
    with pytest.raises(DataError):
        route_for(())


def test_flags_and_tips_come_from_the_spec() -> None:
    """Every route agrees with meta.py's raw flags and tips (no hand-kept lists)."""
    for name, m in meta.COMMANDS.items():
        words = name.split(" ")
        r = route_for(words)
        assert r.name == name and r.known
        assert r.readonly == ("readonly" in m["flags"]), name
        assert r.blocking == ("blocking" in m["flags"]), name
        tips = dict(t.split(":", 1) for t in m["tips"] if ":" in t)
        want_req = tips.get("request_policy")
        if want_req is None:
            assert r.request in (RequestPolicy.KEYED, RequestPolicy.KEYLESS), name
            assert (r.request is RequestPolicy.KEYED) == bool(m["key_specs"]), name
        else:
            assert r.request is RequestPolicy[want_req.upper()], name
        assert r.response is ResponsePolicy[tips.get("response_policy", "default").upper()]
    assert set(ROUTES) == set(meta.COMMANDS)
    assert {n.split(" ")[0] for n in meta.COMMANDS if " " in n} == CONTAINERS


def test_multi_shard_commands_split_with_their_key_step() -> None:
    multi = {n: r for n, r in ROUTES.items() if r[0] == "multi_shard"}
    assert {"MGET", "MSET", "DEL", "EXISTS", "TOUCH", "UNLINK"} <= set(multi)
    assert all(row[6] >= 1 for row in multi.values())
    assert ROUTES["MSET"][6] == 2 and ROUTES["MGET"][6] == 1
    # MSETNX lost multi_shard in Redis 8 (the newest server wins): all-or-nothing, one slot
    assert route_for(("MSETNX", "a", 1)).request is RequestPolicy.KEYED


def test_underived_commands_are_listed_with_a_reason() -> None:
    assert "key spec 1 not derived" in UNDERIVED["SORT"]
    assert "request_policy:special" in UNDERIVED["SCAN"]
    assert "response_policy:special" in UNDERIVED["RANDOMKEY"]
    assert "GET" not in UNDERIVED and "XREAD" not in UNDERIVED


# ------------------------------------------------------------------ key positions


def _pos(*argv: Any) -> list[int]:
    return key_positions(route_for(argv), argv)


@pytest.mark.parametrize(
    ("argv", "want"),
    [
        (("GET", "k"), [1]),
        (("GET",), []),
        (("SET", "k", "v", "EX", 1), [1]),
        (("MGET", "a", "b", "c"), [1, 2, 3]),
        (("MSET", "a", 1, "b", 2), [1, 3]),
        (("BLPOP", "a", "b", 0), [1, 2]),
        (("LMOVE", "a", "b", "LEFT", "RIGHT"), [1, 2]),
        (("SINTERSTORE", "d", "a", "b"), [1, 2, 3]),
        (("BITOP", "AND", "d", "a", "b"), [2, 3, 4]),
        (("LCS", "a", "b", "LEN"), [1, 2]),
        (("XINFO", "STREAM", "s", "FULL"), [2]),
        (("PING",), []),
        (("XREAD", "COUNT", 2, "BLOCK", 0, "STREAMS", "a", "b", "0", "$"), [6, 7]),
        (("XREAD", "STREAMS", "STREAMS", "0"), [2]),  # a stream named STREAMS
        (("XREADGROUP", "GROUP", "g", "STREAMS", "STREAMS", "a", ">"), [5]),
        (("EVAL", "return 1", 2, "a", "b", "arg"), [3, 4]),
        (("EVAL", "return 1", "0", "arg"), []),
        (("EVALSHA", "abc", b"1", "a", "arg"), [3]),
        (("EVAL_RO", "s", 1, "a"), [3]),
        (("FCALL", "f", 2, "a", "b"), [3, 4]),
        (("FCALL_RO", "f", 1, "a", "x"), [3]),
        (("EVAL", "s", "notanumber", "a"), []),
        (("EVAL", "s", 5, "a"), [3]),  # fewer words than the count: what is there
        (("ZUNION", 2, "a", "b", "WEIGHTS", 1, 2), [2, 3]),
        (("ZINTER", 1, "a"), [2]),
        (("ZDIFF", 2, "a", "b", "WITHSCORES"), [2, 3]),
        (("ZUNIONSTORE", "d", 2, "a", "b"), [1, 3, 4]),
        (("ZINTERSTORE", "d", 1, "a", "AGGREGATE", "MAX"), [1, 3]),
        (("ZDIFFSTORE", "d", 2, "a", "b"), [1, 3, 4]),
        (("SINTERCARD", 2, "a", "b", "LIMIT", 1), [2, 3]),
        (("ZINTERCARD", 2, "a", "b"), [2, 3]),
        (("LMPOP", 2, "a", "b", "LEFT", "COUNT", 2), [2, 3]),
        (("ZMPOP", 1, "a", "MIN"), [2]),
        (("BLMPOP", 0, 2, "a", "b", "LEFT"), [3, 4]),
        (("BZMPOP", 0.5, 1, "a", "MAX"), [3]),
        (("SORT", "k"), [1]),
        (("SORT", "k", "STORE", "d"), [1, 3]),
        (("SORT", "k", "BY", "w_*", "LIMIT", 0, 10, "GET", "#", "ALPHA", "STORE", "d"), [1, 11]),
        (("sort", "k", "get", "store", "by", "store", "store", "d"), [1, 7]),
        (("SORT", "k", "LIMIT", "STORE", "STORE", "DESC"), [1]),
        (("SORT_RO", "k", "BY", "x", "GET", "y"), [1]),
        (("MIGRATE", "h", 6379, "k", 0, 1000), [3]),
        (("MIGRATE", "h", 6379, "", 0, 1000, "KEYS", "a", "b"), [7, 8]),
        (("MIGRATE", "h", 6379, b"", 0, 1000, "COPY", "AUTH", "KEYS", "KEYS", "a"), [10]),
        (("MIGRATE", "h", 6379, "", 0, 1, "AUTH2", "u", "KEYS", "KEYS", "KEYS", "a"), [10, 11]),
        (("GEORADIUS", "g", 0, 0, 1, "km", "STORE", "d"), [1, 7]),
        (("GEORADIUS", "g", 0, 0, 1, "km", "WITHDIST", "COUNT", 3, "STOREDIST", "d"), [1, 10]),
        (("GEORADIUS", "g", 0, 0, 1, "km"), [1]),
        (("GEORADIUSBYMEMBER", "g", "m", 1, "km", "STORE", "d"), [1, 6]),
        (("GEORADIUSBYMEMBER", "g", "m", 1, "km", "ASC", "STOREDIST", "d"), [1, 7]),
        (("GEOSEARCHSTORE", "d", "s", "FROMMEMBER", "m", "BYRADIUS", 1, "km"), [1, 2]),
    ],
)
def test_key_positions(argv: tuple[Any, ...], want: list[int]) -> None:
    assert _pos(*argv) == want


# ------------------------------------------------------------------ command_slot


def test_command_slot() -> None:
    assert command_slot(route_for(("GET", "foo")), ("GET", "foo")) == 12182
    assert command_slot(route_for(("PING",)), ("PING",)) is None
    argv = ("EVAL", "s", 2, "{t}a", "{t}b")
    assert command_slot(route_for(argv), argv) == key_slot("t")
    argv0 = ("EVAL", "s", 0)
    assert command_slot(route_for(argv0), argv0) is None
    lat = ("GET", "é")
    assert command_slot(route_for(lat), lat, "latin-1") == key_slot(b"\xe9")


def test_cross_slot_is_refused_naming_command_and_slots() -> None:
    argv = ("MGET", "foo", "bar", "zap", "{foo}x")
    with pytest.raises(CrossSlotError) as exc:
        command_slot(route_for(argv), argv)
    msg = str(exc.value)
    assert exc.value.code == "CROSSSLOT"
    assert "MGET" in msg and "12182, 5061 and 6469" in msg and "hash tag" in msg
    many = ("DEL", *(f"k{i}" for i in range(20)))
    with pytest.raises(CrossSlotError, match=r"and \d+ more"):
        command_slot(route_for(many), many)
    store = ("SORT", "a", "STORE", "b")
    with pytest.raises(CrossSlotError, match="SORT"):
        command_slot(route_for(store), store)


# ------------------------------------------------------------------ split / merge


def test_split_mget_keeps_the_callers_order() -> None:
    argv = ("MGET", "foo", "bar", "{foo}2", "zap", "{bar}2")
    route = route_for(argv)
    parts = split_by_slot(route, argv)
    assert [p.slot for p in parts] == [12182, 5061, key_slot("zap")]
    assert parts[0] == SlotPart(12182, ("MGET", "foo", "{foo}2"), (0, 2))
    assert parts[1].argv == ("MGET", "bar", "{bar}2") and parts[1].indices == (1, 4)
    values = {"foo": b"1", "bar": None, "{foo}2": b"3", "zap": b"4", "{bar}2": b"5"}
    replies = [[values[k] for k in p.argv[1:]] for p in parts]
    assert merge_parts(route, parts, replies) == [b"1", None, b"3", b"4", b"5"]


def test_split_mset_moves_values_with_their_keys() -> None:
    argv = (b"MSET", "foo", 1, "bar", b"2", "{foo}x", 3.5)
    route = route_for(argv)
    parts = split_by_slot(route, argv)
    assert [p.argv for p in parts] == [(b"MSET", "foo", 1, "{foo}x", 3.5), (b"MSET", "bar", b"2")]
    assert merge_parts(route, parts, [b"OK", b"OK"]) == b"OK"
    assert merge_parts(route, parts, [True, True]) is True


def test_split_one_slot_is_the_command_itself() -> None:
    argv = ["DEL", "{a}1", "{a}2"]
    parts = split_by_slot(route_for(argv), argv)
    assert parts == [SlotPart(key_slot("a"), ("DEL", "{a}1", "{a}2"), (0, 1))]


def test_merge_sums_counts() -> None:
    for name in ("DEL", "EXISTS", "UNLINK", "TOUCH"):
        argv = (name, "foo", "bar", "foo")
        route = route_for(argv)
        parts = split_by_slot(route, argv)
        assert [p.argv[1:] for p in parts] == [("foo", "foo"), ("bar",)]
        assert merge_parts(route, parts, [2, 1]) == 3


def test_merge_raises_the_first_error() -> None:
    argv = ("MGET", "foo", "bar")
    route = route_for(argv)
    parts = split_by_slot(route, argv)
    err = ResponseError("MOVED 5061 127.0.0.1:7001")
    with pytest.raises(ResponseError, match="MOVED"):
        merge_parts(route, parts, [[b"1"], err])
    with pytest.raises(DataError, match="2 parts but 1 replies"):
        merge_parts(route, parts, [[b"1"]])


def test_split_of_a_route_that_cannot_be_split() -> None:
    argv = ("SUNIONSTORE", "{x}d", "{x}a")
    route = route_for(argv)
    assert split_by_slot(route, argv) == [SlotPart(key_slot("x"), argv, (0, 1))]
    assert split_by_slot(route_for(("PING",)), ("PING",)) == [SlotPart(None, ("PING",), ())]
    with pytest.raises(CrossSlotError):
        split_by_slot(route, ("SUNIONSTORE", "a", "b"))


# ------------------------------------------------------------------ aggregate


def _route(response: ResponsePolicy) -> CommandRoute:
    return CommandRoute("X", RequestPolicy.ALL_SHARDS, response, False, False)


def test_aggregate_from_the_tips() -> None:
    assert aggregate(route_for(("DBSIZE",)), [3, 4, 0]) == 7
    assert aggregate(route_for(("WAIT", 1, 0)), [2, 1, 3]) == 1
    assert aggregate(route_for(("KEYS", "*")), [[b"a"], [], [b"b", b"c"]]) == [b"a", b"b", b"c"]
    assert aggregate(route_for(("SCRIPT", "EXISTS", "x", "y")), [[1, 0], [1, 1]]) == [1, 0]
    assert aggregate(route_for(("SCRIPT", "EXISTS", "x")), [[True], [True]]) == [True]
    assert aggregate(route_for(("FLUSHALL",)), [b"OK", b"OK"]) == b"OK"
    assert aggregate(route_for(("RANDOMKEY",)), [None, b"k", b"j"]) == b"k"
    assert aggregate(route_for(("RANDOMKEY",)), [None, None]) is None


def test_aggregate_each_policy() -> None:
    assert aggregate(_route(ResponsePolicy.AGG_MAX), [1, 5, 2]) == 5
    assert aggregate(_route(ResponsePolicy.AGG_MIN), [[1, 5], [2, 0]]) == [1, 0]
    assert aggregate(_route(ResponsePolicy.AGG_SUM), [[1, 5], [2, 0]]) == [3, 5]
    assert aggregate(_route(ResponsePolicy.AGG_LOGICAL_OR), [0, 1, 0]) == 1
    assert aggregate(_route(ResponsePolicy.AGG_LOGICAL_AND), [1, 1, 0]) == 0
    assert aggregate(_route(ResponsePolicy.DEFAULT), [{b"a": 1}, {b"b": 2}]) == {b"a": 1, b"b": 2}
    assert aggregate(_route(ResponsePolicy.DEFAULT), [{b"a"}, {b"b"}]) == {b"a", b"b"}
    assert aggregate(_route(ResponsePolicy.DEFAULT), [7, 8]) == 7
    assert aggregate(_route(ResponsePolicy.DEFAULT), []) == []
    assert aggregate(_route(ResponsePolicy.AGG_SUM), []) == 0
    assert aggregate(_route(ResponsePolicy.ALL_SUCCEEDED), []) is None


def test_aggregate_errors_per_policy() -> None:
    e1, e2 = ResponseError("ERR one"), ResponseError("ERR two")
    assert aggregate(_route(ResponsePolicy.ONE_SUCCEEDED), [e1, b"OK", e2]) == b"OK"
    assert aggregate(_route(ResponsePolicy.SPECIAL), [e1, None, b"x"]) == b"x"
    for policy in ResponsePolicy:
        with pytest.raises(ResponseError, match="one"):
            aggregate(_route(policy), [e1, e2])
    for policy in set(ResponsePolicy) - {ResponsePolicy.ONE_SUCCEEDED, ResponsePolicy.SPECIAL}:
        with pytest.raises(ResponseError, match="two"):
            aggregate(_route(policy), [1, e2, 3])
    with pytest.raises(DataError, match="different lengths"):
        aggregate(_route(ResponsePolicy.AGG_SUM), [[1], [1, 2]])
