"""The reply-table language's composite types (records, named and recursive types,
maprow, binary, `+a&b` overloads) and the converters they generate, on RESP2 and
RESP3 shapes of the same reply."""

from __future__ import annotations

from typing import Any

import pytest

from codegen.replies import Defs, Entry, ReplyError, parse_defs, parse_table, reply_type
from redspec import _replies
from redspec.errors import ResponseError
from tests.reply_check import check


def conv(text: str, defs: Defs | None = None) -> Any:
    r = reply_type(text, defs)
    return eval(r.conv, vars(_replies)) if r.conv else (lambda x: x)


def test_binary() -> None:
    r = reply_type("binary?")
    assert (r.ann, r.conv) == ("bytes | None", "to_binary")
    blob = bytes(range(256))
    as_str = blob.decode("utf-8", "surrogateescape")
    assert _replies.to_binary(as_str) == blob
    assert _replies.to_binary(blob) == blob
    assert _replies.to_binary(None) is None
    check(_replies.to_binary(as_str), "bytes", str)


def test_maprow() -> None:
    r = reply_type("maprow<bulk,float,bulk?>")
    assert r.ann == "dict[AnyStr, tuple[float, AnyStr | None]]"
    c = conv("maprow<bulk,float,bulk?>")
    want = {b"a": (1.0, b"{}"), b"b": (0.5, None)}
    assert c({b"a": [1.0, b"{}"], b"b": [0.5, None]}) == want  # RESP3
    assert c([b"a", b"1", b"{}", b"b", b"0.5", None]) == want  # RESP2
    assert c([]) == {} and c(None) is None
    with pytest.raises(ReplyError):
        reply_type("maprow<bulk,float>")


LIB = "{library_name:bulk, functions:list<{name:bulk, flags:set<status>}>, code:bulk?}"


def test_record() -> None:
    r = reply_type(LIB)
    assert r.ann == "dict[AnyStr, RespValue]"
    c = conv(LIB)
    resp3 = {
        b"library_name": b"lib",
        b"functions": [{b"name": b"f", b"flags": {b"no-writes"}}],
        b"extra": [1, 2],
    }
    resp2 = [
        b"library_name", b"lib",
        b"functions", [[b"name", b"f", b"flags", [b"no-writes"]]],
        b"extra", [1, 2],
    ]  # fmt: skip
    assert c(resp3) == c(resp2) == resp3
    check(c(resp2), r.ann, bytes)
    # str keys (a decoding client) find their converters too
    assert c(["functions", [["flags", ["x"]]]]) == {"functions": [{"flags": {"x"}}]}
    # fields with special types are named in the annotation
    r = reply_type("{entries:list<entry>, n:int}")
    assert r.ann == "dict[AnyStr, list[StreamEntry[AnyStr]] | RespValue]"
    assert reply_type("{n:int, m:bulk}").conv == "dict_of(None, None)"
    for bad in ("{n:int", "{n:int,n:int}", "{:int}", "{n int}"):
        with pytest.raises(ReplyError):
            reply_type(bad)


def test_named_and_recursive_types() -> None:
    defs = Defs()
    parse_defs(
        "@Arg {name:bulk, flags:set<status>, arguments:list<@Arg>}\n"
        "@Doc {arguments:list<@Arg>,\n"
        "      subcommands:map<bulk,@Doc>}   # continued line\n",
        "t.txt",
        defs,
    )
    into: dict[str, Entry] = {}
    parse_table("COMMAND DOCS  map<bulk,@Doc>\n", "t.txt", into, defs)
    r = into["COMMAND DOCS"].base
    assert r is not None and r.ann == "dict[AnyStr, dict[AnyStr, RespValue]]"
    c = eval(r.conv or "", vars(_replies))
    arg3 = {b"name": b"x", b"flags": {b"optional"}, b"arguments": []}
    arg2 = [b"name", b"x", b"flags", [b"optional"], b"arguments", []]
    resp3 = {b"get": {b"arguments": [{b"name": b"b", b"arguments": [arg3]}], b"subcommands": {}}}
    resp2 = [
        b"get",
        [b"arguments", [[b"name", b"b", b"arguments", [arg2]]], b"subcommands", []],
    ]
    assert c(resp2) == c(resp3) == resp3
    with pytest.raises(ReplyError, match="unknown named type"):
        reply_type("list<@Nope>", defs)


def test_conjunction_overloads_order() -> None:
    into: dict[str, Entry] = {}
    parse_table(
        "VSIM list<bulk>\nVSIM +withscores&withattribs maprow<bulk,float,bulk?>\n"
        "VSIM +withscores map<bulk,float>\n",
        "t.txt",
        into,
    )
    assert [f for f, _, _ in into["VSIM"].overloads] == [
        ("withscores&withattribs",),
        ("withscores",),
    ]
    with pytest.raises(ReplyError, match="most specific overload first"):
        parse_table(
            "VSIM list<bulk>\nVSIM +withscores map<bulk,float>\n"
            "VSIM +withscores&withattribs maprow<bulk,float,bulk?>\n",
            "t.txt",
            {},
        )


def test_error_values_are_resp_values() -> None:
    check([ResponseError("ERR x"), 1], "list[RespValue]", bytes)


def test_tuple_rest() -> None:
    text = "tuple<int,int,*tuple<bulk?,int,bulk,map<bulk,bulk>>>"
    r = reply_type(text)
    node = "tuple[AnyStr | None, int, AnyStr, dict[AnyStr, AnyStr]]"
    assert r.ann == f"tuple[int, int, Unpack[tuple[{node}, ...]]]"
    c = conv(text)
    want = (0, 16383, (b"127.0.0.1", 7000, b"id1", {}), (b"h", 7001, b"id2", {b"hostname": b"x"}))
    resp3 = [0, 16383, [b"127.0.0.1", 7000, b"id1", {}], [b"h", 7001, b"id2", {b"hostname": b"x"}]]
    resp2 = [0, 16383, [b"127.0.0.1", 7000, b"id1", []], [b"h", 7001, b"id2", [b"hostname", b"x"]]]
    assert c(resp3) == c(resp2) == want
    check(c(resp2), r.ann, bytes)
    for bad in ("tuple<int,*int,int>", "list<*int>"):
        with pytest.raises(ReplyError):
            reply_type(bad)


def test_record_globs() -> None:
    c = conv("{db.[0-9]*:map<bulk,int>, *.ratio:float, db.count:int}")
    flat = [b"db.0", [b"keys", 1], b"db.count", 2, b"a.ratio", b"1.5", b"other", b"x"]
    assert c(flat) == {b"db.0": {b"keys": 1}, b"db.count": 2, b"a.ratio": 1.5, b"other": b"x"}
    assert c({"db.12": ["keys", 3]}) == {"db.12": {"keys": 3}}
