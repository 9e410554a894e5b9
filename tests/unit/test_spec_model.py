"""The committed commands.json, read through codegen.spec (no server needed)."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import pytest

from codegen import dump, merge
from codegen.spec import Argument, Command, Spec, load_spec

ROOT = Path(__file__).resolve().parents[2]
SPEC_PATH = ROOT / "commands.json"
SERVERS = ("redis-8.2.3", "valkey-8.1.8", "redis-7.0.15")
VECTOR_SET = (
    "VADD VCARD VDIM VEMB VGETATTR VINFO VISMEMBER VLINKS VRANDMEMBER VREM VSETATTR VSIM".split()
)


@pytest.fixture(scope="module")
def spec() -> Spec:
    return load_spec(SPEC_PATH)


def _child(args: tuple[Argument, ...], name: str) -> Argument:
    for a in args:
        if a.name == name:
            return a
    raise AssertionError(f"no argument {name!r} in {[a.name for a in args]}")


def test_file_is_canonical() -> None:
    raw = SPEC_PATH.read_bytes()
    assert dump.to_text(json.loads(raw)).encode() == raw


def test_servers_in_priority_order(spec: Spec) -> None:
    assert tuple(s.id for s in spec.servers) == SERVERS
    assert [(s.vendor, s.version) for s in spec.servers] == [
        ("redis", "8.2.3"),
        ("valkey", "8.1.8"),
        ("redis", "7.0.15"),
    ]


def test_priority_rule_is_independent_of_input_order() -> None:
    ids = [
        {"id": f"{v}-{n}", "vendor": v, "version": n}
        for v, n in [
            ("redis", "7.0.15"),
            ("valkey", "8.1.8"),
            ("redis", "8.2.3"),
            ("valkey", "7.2.5"),
        ]
    ]
    got = [s["id"] for s in merge.server_priority(ids)]
    assert got == ["redis-8.2.3", "valkey-8.1.8", "valkey-7.2.5", "redis-7.0.15"]
    assert [s["id"] for s in merge.server_priority(reversed(ids))] == got


def test_counts(spec: Spec) -> None:
    names = [c.name for c in spec.commands]
    assert names == sorted(names)
    assert len(spec.commands) == 268
    assert sum(1 for _ in spec.all_commands()) == 405
    per_server = {
        s.id: sum(s.id in c.available_in for c in spec.all_commands()) for s in spec.servers
    }
    assert per_server == {"redis-8.2.3": 397, "valkey-8.1.8": 379, "redis-7.0.15": 366}
    assert spec.sha256 == hashlib.sha256(SPEC_PATH.read_bytes()).hexdigest()


def test_all_commands_order(spec: Spec) -> None:
    seen = list(spec.all_commands())
    assert seen[0] is spec.commands[0]
    client = spec.get("CLIENT")
    i = seen.index(client)
    assert seen[i + 1 : i + 1 + len(client.subcommands)] == list(client.subcommands)


def test_available_in_is_honest_everywhere(spec: Spec) -> None:
    ids = [s.id for s in spec.servers]
    for c in spec.all_commands():
        assert c.available_in, c.name
        assert list(c.available_in) == [s for s in ids if s in c.available_in], c.name
        for sub in c.subcommands:
            assert set(sub.available_in) <= set(c.available_in), sub.name
        for a in c.walk_arguments():
            assert a.available_in, (c.name, a.name)
            assert set(a.available_in) <= set(c.available_in), (c.name, a.name)
            for k in a.arguments:
                assert set(k.available_in) <= set(a.available_in), (c.name, a.name, k.name)
        assert set(c.since_by_server) <= set(c.available_in) - {c.available_in[0]}
        assert set(c.by_server) <= set(c.available_in)
        assert set(c.arguments_by_server) <= set(c.available_in)


def test_get(spec: Spec) -> None:
    assert spec.get("get") is spec.get("GET")
    assert spec.get("client|kill") is spec.get("CLIENT KILL")
    assert "CLIENT KILL" in spec
    assert "NO SUCH" not in spec
    with pytest.raises(KeyError):
        spec.get("NOSUCHCOMMAND")


def test_get_shape(spec: Spec) -> None:
    get = spec.get("GET")
    assert get.container is None
    assert get.group == "string"
    assert get.arity == 2
    assert get.is_readonly and not get.is_blocking and not get.is_container
    assert get.available_in == SERVERS
    (key,) = get.arguments
    assert (key.name, key.type, key.key_spec_index, key.optional) == ("key", "key", 0, False)
    (ks,) = get.key_specs
    assert ks.begin_search == {"type": "index", "spec": {"index": 1}}
    assert ks.flags == ("RO", "access")


def test_set_condition_has_ifeq_only_on_valkey(spec: Spec) -> None:
    cmd = spec.get("SET")
    cond = _child(cmd.arguments, "condition")
    assert cond.type == "oneof" and cond.optional
    assert [a.token for a in cond.arguments] == ["NX", "XX", "IFEQ"]
    ifeq = cond.arguments[2]
    assert ifeq.available_in == ("valkey-8.1.8",)
    assert ifeq.type == "string" and ifeq.summary
    for a in cond.arguments[:2]:
        assert a.available_in == SERVERS
    assert [a.token for a in cmd.for_server("redis-8.2.3").arguments[2].arguments] == ["NX", "XX"]


def test_zadd_names_come_from_the_newest_server(spec: Spec) -> None:
    zadd = spec.get("ZADD")
    names = [a.name for a in zadd.arguments]
    assert names == ["key", "condition", "comparison", "change", "increment", "data"]
    data = zadd.arguments[-1]
    assert data.multiple and data.available_in == SERVERS
    assert [a.name for a in data.arguments] == ["score", "member"]
    # 7.0 names such as `ip:port` never reach the union tree
    for c in spec.all_commands():
        for a in c.walk_arguments():
            assert ":" not in a.name and "/" not in a.name, (c.name, a.name)


def test_client_kill_is_a_subcommand(spec: Spec) -> None:
    client = spec.get("CLIENT")
    assert client.is_container
    kill = spec.get("CLIENT KILL")
    assert kill in client.subcommands
    assert kill.container == "CLIENT"
    assert kill.doc_name == "client|kill"
    new_format = _child(_child(kill.arguments, "filter").arguments, "new-format")
    ctype = _child(new_format.arguments, "client-type")
    primary = _child(ctype.arguments, "primary")
    assert primary.available_in == ("valkey-8.1.8",)
    client_id = _child(new_format.arguments, "client-id")
    assert not client_id.multiple and client_id.flags_on("valkey-8.1.8") == ("multiple", "optional")
    skipme = _child(new_format.arguments, "skipme")
    assert skipme.type == "oneof" and skipme.type_on("redis-7.0.15") == "string"


def test_vector_sets_exist_with_empty_arguments(spec: Spec) -> None:
    for name in VECTOR_SET:
        c = spec.get(name)
        assert c.available_in == ("redis-8.2.3",), name
        assert c.arguments == () and c.module == "vectorset" and c.group == "module"
        assert c.summary == "" and c.since is None
    assert spec.get("VSIM").doc_name == "VSIM"


def test_oneof_unions(spec: Spec) -> None:
    bitop = _child(spec.get("BITOP").arguments, "operation")
    by_token = {a.token: a.available_in for a in bitop.arguments}
    assert by_token["AND"] == ("redis-8.2.3", "valkey-8.1.8")
    for t in ("DIFF", "DIFF1", "ANDOR", "ONE"):
        assert by_token[t] == ("redis-8.2.3",)
    assert bitop.type_on("redis-7.0.15") == "string"

    bgsave = spec.get("BGSAVE").arguments
    assert [a.type for a in bgsave] == ["oneof"]
    assert {a.token: a.available_in for a in bgsave[0].arguments} == {
        "SCHEDULE": SERVERS,
        "CANCEL": ("valkey-8.1.8",),
    }


def test_restructured_commands_keep_their_own_tree(spec: Spec) -> None:
    shutdown = spec.get("SHUTDOWN")
    assert [a.token for a in shutdown.arguments[1:]] == ["NOW", "FORCE", "ABORT"]
    assert all(a.available_in == SERVERS for a in shutdown.arguments)
    (valkey_tree,) = shutdown.arguments_by_server["valkey-8.1.8"]
    assert valkey_tree.type == "oneof" and valkey_tree.available_in == ("valkey-8.1.8",)
    assert (
        shutdown.for_server("valkey-8.1.8").arguments
        == shutdown.arguments_by_server["valkey-8.1.8"]
    )
    georadius = spec.get("GEORADIUS")
    store = _child(georadius.arguments, "store")
    assert store.available_in == SERVERS
    assert "redis-7.0.15" in georadius.arguments_by_server


def test_valkey_bitcount_end_is_optional(spec: Spec) -> None:
    end = _child(_child(spec.get("BITCOUNT").arguments, "range").arguments, "end")
    assert not end.optional and end.flags_on("valkey-8.1.8") == ("optional",)


def test_vendor_relative_since(spec: Spec) -> None:
    c = spec.get("CLUSTER SLOT-STATS")
    assert c.since == "8.2.0"
    assert c.since_by_server == {"valkey-8.1.8": "8.0.0"}
    assert c.for_server("valkey-8.1.8").since == "8.0.0"
    cmdlog = spec.get("COMMANDLOG")
    assert cmdlog.available_in == ("valkey-8.1.8",)


def test_per_server_fields(spec: Spec) -> None:
    slowlog_get = spec.get("SLOWLOG GET")
    assert not slowlog_get.is_deprecated
    assert slowlog_get.for_server("valkey-8.1.8").is_deprecated
    slots = spec.get("CLUSTER SLOTS")
    assert slots.is_deprecated and not slots.for_server("valkey-8.1.8").is_deprecated
    assert "skip_commandlog" in spec.get("EXEC").for_server("valkey-8.1.8").flags
    assert not spec.get("WAIT").for_server("redis-7.0.15").is_blocking
    assert spec.get("WAIT").is_blocking


def test_deprecated_and_blocking(spec: Spec) -> None:
    deprecated = {c.name for c in spec.all_commands() if c.is_deprecated}
    assert {"GETSET", "GEORADIUS", "CLUSTER SLAVES", "SETEX", "QUIT"} <= deprecated
    assert len(deprecated) == 21
    assert spec.get("GETSET").replaced_by
    assert spec.get("BLPOP").is_blocking
    assert spec.get("XREAD").is_blocking


def test_history_and_key_specs(spec: Spec) -> None:
    set_ = spec.get("SET")
    assert ("6.2.0", "Added the `GET`, `EXAT` and `PXAT` option.") in set_.history
    assert all(len(h) == 2 for c in spec.all_commands() for h in c.history)
    xread = spec.get("XREAD")
    assert xread.key_specs[0].begin_search["type"] == "keyword"
    assert xread.key_specs[0].begin_search["spec"]["keyword"] == "STREAMS"


def test_for_server_filters_arguments(spec: Spec) -> None:
    zscan = spec.get("ZSCAN")
    assert "noscores" in [a.name for a in zscan.arguments]
    assert "noscores" not in [a.name for a in zscan.for_server("redis-8.2.3").arguments]
    view = spec.get("CLIENT").for_server("redis-7.0.15")
    assert all(s.available_in == ("redis-7.0.15",) for s in view.subcommands)
    with pytest.raises(KeyError):
        spec.get("VSIM").for_server("valkey-8.1.8")


def test_loader_defaults_for_omitted_keys(tmp_path: Path) -> None:
    p = tmp_path / "c.json"
    p.write_text(
        json.dumps(
            {
                "servers": [{"id": "redis-9.0.0", "vendor": "redis", "version": "9.0.0"}],
                "commands": {
                    "X": {
                        "arity": -1,
                        "available_in": ["redis-9.0.0"],
                        "arguments": [{"name": "a", "type": "string"}],
                    }
                },
            }
        )
    )
    s = load_spec(p)
    x: Command = s.get("x")
    assert (x.summary, x.group, x.since, x.flags, x.key_specs, x.subcommands) == (
        "",
        "",
        None,
        (),
        (),
        (),
    )
    (a,) = x.arguments
    assert (a.token, a.optional, a.multiple, a.available_in) == (None, False, False, ())


def test_merge_of_one_raw_dump_is_that_server(spec: Spec) -> None:
    """A synthetic two-server merge exercises the rules without live servers."""

    def raw(sid: str, args: Sequence[Mapping[str, Any]]) -> dict[str, object]:
        vendor, version = sid.split("-")
        return {
            "format": dump.RAW_FORMAT,
            "server": {"id": sid, "vendor": vendor, "version": version},
            "commands": {"C": {"arity": -2, "group": "g", "summary": sid, "arguments": args}},
        }

    new: list[dict[str, Any]] = [
        {"name": "key", "type": "key", "key_spec_index": 0},
        {
            "name": "data",
            "type": "block",
            "flags": ["multiple"],
            "arguments": [
                {"name": "score", "type": "double"},
                {"name": "member", "type": "string"},
            ],
        },
    ]
    old: list[dict[str, Any]] = [
        {"name": "key", "type": "key", "key_spec_index": 0},
        {"name": "extra", "type": "pure-token", "token": "EXTRA", "flags": ["optional"]},
        {
            "name": "score_member",
            "type": "block",
            "flags": ["multiple"],
            "arguments": [
                {"name": "score", "type": "double"},
                {"name": "member", "type": "string"},
            ],
        },
    ]
    merged = merge.merge([raw("redis-6.0.0", old), raw("redis-7.0.0", new)])
    c = merged["commands"]["C"]
    assert c["summary"] == "redis-7.0.0"
    assert [a["name"] for a in c["arguments"]] == ["key", "extra", "data"]
    assert c["arguments"][1]["available_in"] == ["redis-6.0.0"]
    assert c["arguments"][2]["available_in"] == ["redis-7.0.0", "redis-6.0.0"]
    assert "arguments_by_server" not in c


def _raw(sid: str, args: Sequence[Mapping[str, Any]], **fields: object) -> dict[str, object]:
    vendor, version = sid.split("-")
    cmd: dict[str, object] = {"arity": -2, "group": "g", "summary": sid, "arguments": args}
    cmd.update(fields)
    return {
        "format": dump.RAW_FORMAT,
        "server": {"id": sid, "vendor": vendor, "version": version},
        "commands": {"C": cmd},
    }


def _tok(token: str, *flags: str) -> dict[str, Any]:
    return {"name": token.lower(), "type": "pure-token", "token": token, "flags": list(flags)}


def _merge_both_orders(*raws: dict[str, object]) -> dict[str, Any]:
    a = merge.merge(list(raws))
    assert dump.to_text(merge.merge(list(reversed(raws)))) == dump.to_text(a)
    return a["commands"]["C"]  # type: ignore[no-any-return]


def test_merge_dissolves_a_lower_servers_wrapper() -> None:
    redis = [_tok("NOW", "optional"), _tok("ABORT", "optional")]
    valkey = [
        {
            "name": "sel",
            "type": "oneof",
            "flags": ["optional"],
            "arguments": [
                {"name": "b", "type": "block", "arguments": [_tok("NOW", "optional")]},
                _tok("ABORT"),
            ],
        }
    ]
    c = _merge_both_orders(_raw("redis-8.0.0", redis), _raw("valkey-8.0.0", valkey))
    assert [a["available_in"] for a in c["arguments"]] == [["redis-8.0.0", "valkey-8.0.0"]] * 2
    # ABORT was a (required) alternative of an optional oneof: optional once flattened
    assert "flags_by_server" not in c["arguments"][1]
    assert list(c["arguments_by_server"]) == ["valkey-8.0.0"]


def test_merge_wraps_siblings_into_a_lower_servers_oneof() -> None:
    redis = [_tok("SCHEDULE", "optional")]
    valkey = [
        {
            "name": "operation",
            "type": "oneof",
            "flags": ["optional"],
            "arguments": [_tok("SCHEDULE"), _tok("CANCEL")],
        }
    ]
    c = _merge_both_orders(_raw("redis-8.0.0", redis), _raw("valkey-8.0.0", valkey))
    (op,) = c["arguments"]
    assert op["type"] == "oneof"
    assert [(a["token"], a["available_in"]) for a in op["arguments"]] == [
        ("SCHEDULE", ["redis-8.0.0", "valkey-8.0.0"]),
        ("CANCEL", ["valkey-8.0.0"]),
    ]
    assert list(c["arguments_by_server"]) == ["redis-8.0.0"]


def test_merge_keeps_the_winner_on_conflict_and_records_the_loser() -> None:
    new = [{"name": "x", "type": "integer"}, {"name": "y", "type": "integer"}]
    old = [{"name": "a", "type": "string"}]
    c = _merge_both_orders(_raw("redis-8.0.0", new), _raw("redis-7.0.0", old))
    assert [a["name"] for a in c["arguments"]] == ["x", "y"]
    assert all(a["available_in"] == ["redis-8.0.0"] for a in c["arguments"])
    assert c["arguments_by_server"] == {"redis-7.0.0": old}
    assert c["available_in"] == ["redis-8.0.0", "redis-7.0.0"]


def test_merge_inserts_vendor_only_nodes_in_their_order() -> None:
    redis = [{"name": "k", "type": "key"}, _tok("Z", "optional")]
    valkey = [
        {"name": "k", "type": "key"},
        _tok("A", "optional"),
        _tok("B", "optional"),
        _tok("Z", "optional"),
    ]
    c = _merge_both_orders(_raw("redis-8.0.0", redis), _raw("valkey-8.0.0", valkey))
    assert [a.get("token") for a in c["arguments"]] == [None, "A", "B", "Z"]
    assert "arguments_by_server" not in c


def test_merge_fields_since_and_by_server() -> None:
    args = [{"name": "k", "type": "key"}]
    c = _merge_both_orders(
        _raw("redis-8.0.0", args, since="8.0.0", flags=["readonly"]),
        _raw("valkey-8.0.0", args, since="7.0.0", flags=["readonly"], doc_flags=["deprecated"]),
        _raw("redis-7.0.0", args, since="8.0.0", flags=["readonly", "stale"]),
    )
    assert c["summary"] == "redis-8.0.0"
    assert c["available_in"] == ["redis-8.0.0", "valkey-8.0.0", "redis-7.0.0"]
    assert c["since_by_server"] == {"valkey-8.0.0": "7.0.0"}
    assert c["by_server"] == {
        "valkey-8.0.0": {"doc_flags": ["deprecated"]},
        "redis-7.0.0": {"flags": ["readonly", "stale"]},
    }


def test_merge_sees_through_a_single_child_block() -> None:
    new = [{"name": "parameter", "type": "string", "flags": ["multiple"]}]
    old: list[dict[str, Any]] = [
        {
            "name": "parameter",
            "type": "block",
            "flags": ["multiple"],
            "arguments": [{"name": "parameter", "type": "string"}],
        }
    ]
    c = _merge_both_orders(_raw("redis-8.0.0", new), _raw("redis-7.0.0", old))
    (p,) = c["arguments"]
    assert p["available_in"] == ["redis-8.0.0", "redis-7.0.0"]
    assert "type_by_server" not in p and "flags_by_server" not in p
