"""The routing compiler (codegen/routing.py): key specs -> code, tips -> policies, reports.

Synthetic key specs are compiled and the emitted module is executed, so each shape is
checked by what its code finds, not by its text.
"""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path
from types import MappingProxyType
from typing import Any

import jinja2

from codegen.generate import TEMPLATES, build
from codegen.replies import load_replies
from codegen.routing import RoutingModel, build_model, render_context
from codegen.spec import Argument, Command, KeySpec, Spec, load_spec

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures"


def _ks(bs: dict[str, Any], fk: dict[str, Any], *flags: str) -> KeySpec:
    return KeySpec(MappingProxyType(bs), MappingProxyType(fk), tuple(flags), None)


def _index(i: int) -> dict[str, Any]:
    return {"type": "index", "spec": {"index": i}}


def _range(last: int, step: int = 1, limit: int = 0) -> dict[str, Any]:
    return {"type": "range", "spec": {"lastkey": last, "keystep": step, "limit": limit}}


def _arg(name: str, typ: str, token: str | None = None, **kw: Any) -> Argument:
    base: dict[str, Any] = {
        "display_text": None,
        "optional": False,
        "multiple": False,
        "multiple_token": False,
        "key_spec_index": None,
        "since": None,
        "deprecated_since": None,
        "summary": None,
        "arguments": (),
        "available_in": ("redis-8.2.3",),
    }
    base.update(kw)
    return Argument(name=name, type=typ, token=token, **base)


def _spec_with(*commands: Command) -> Spec:
    mini = load_spec(FIXTURES / "mini_commands.json")
    return replace(mini, commands=tuple(sorted(commands, key=lambda c: c.name)))


def _command(name: str, *specs: KeySpec, tips: tuple[str, ...] = (), **kw: Any) -> Command:
    mini = load_spec(FIXTURES / "mini_commands.json")
    return replace(mini.get("GET"), name=name, key_specs=specs, tips=tips, **kw)


def _module(model: RoutingModel) -> dict[str, Any]:
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(str(TEMPLATES)), trim_blocks=True, autoescape=False
    )
    text = env.get_template("routing.py.jinja").render(header="#", **render_context(model))
    namespace: dict[str, Any] = {}
    exec(compile(text, "routing.py", "exec"), namespace)
    return namespace


def _finder(model: RoutingModel, name: str) -> Any:
    ns = _module(model)
    row = ns["ROUTES"][name]
    if row[4]:
        return lambda argv: [row[4]] if row[4] < len(argv) else []
    return row[5] or (lambda argv: [])


def test_shapes_compile_to_code_that_finds_the_keys() -> None:
    keyword = {"type": "keyword", "spec": {"keyword": "KEYS", "startfrom": 2}}
    backward = {"type": "keyword", "spec": {"keyword": "TO", "startfrom": -2}}
    keynum = {"type": "keynum", "spec": {"keynumidx": 0, "firstkey": 1, "keystep": 1}}
    spec = _spec_with(
        _command("ONE", _ks(_index(1), _range(0))),
        _command("TWO", _ks(_index(1), _range(0)), _ks(_index(3), _range(0))),
        _command("PAIRS", _ks(_index(2), _range(-1, step=2))),
        _command("BUTLAST", _ks(_index(1), _range(-2))),
        _command("FIXED3", _ks(_index(1), _range(2))),
        _command("HALF", _ks(keyword, _range(-1, limit=2))),
        _command("BACK", _ks(backward, _range(0))),
        _command("NUM", _ks(_index(1), _range(0)), _ks(_index(2), keynum)),
    )
    model = build_model(spec)
    ns = _module(model)
    routes = ns["ROUTES"]
    assert routes["ONE"][4] == 1 and routes["ONE"][5] is None  # the fast path: no function

    def keys(name: str, *argv: Any) -> list[int]:
        return _finder(model, name)((name, *argv))

    assert keys("ONE", "k", "v") == [1] and keys("ONE") == []
    assert keys("TWO", "a", "x", "b") == [1, 3] and keys("TWO", "a") == [1]
    assert keys("PAIRS", "x", "k1", "v1", "k2", "v2") == [2, 4]
    assert keys("BUTLAST", "a", "b", "c", 0) == [1, 2, 3]
    assert keys("FIXED3", "a", "b", "c", "d") == [1, 2, 3] and keys("FIXED3", "a") == [1]
    assert keys("HALF", "x", "KEYS", "a", "b", "1", "2") == [3, 4]
    assert keys("HALF", "x", "keys", "a", "1") == [3]
    assert keys("HALF", "x", "KEYS") == []  # the last word is never the keyword
    assert keys("BACK", "TO", "x", "TO", "dest", "y") == [4]
    assert keys("NUM", "d", 2, "a", "b", "arg") == [1, 3, 4]
    assert keys("NUM", "d", b"1", "a", "arg") == [1, 3]
    assert keys("NUM", "d", "x", "a") == [1]
    assert keys("NUM", "d", -3, "a") == [1]


def test_incomplete_specs_use_a_token_scan_of_the_argument_tree() -> None:
    dest = _arg("dest", "key", "INTO", optional=True, key_spec_index=1)
    opts = [
        _arg("by", "pattern", "BY", optional=True),
        _arg("lim", "block", "LIMIT", optional=True,
             arguments=(_arg("o", "integer"), _arg("c", "integer"))),
        _arg("flag", "pure-token", "FLAG", optional=True),
        dest,
    ]  # fmt: skip
    cmd = _command(
        "SCANME",
        _ks(_index(1), _range(0)),
        _ks({"type": "unknown", "spec": {}}, {"type": "unknown", "spec": {}}),
        arguments=(_arg("key", "key", key_spec_index=0), *opts),
    )
    model = build_model(_spec_with(cmd))
    find = _finder(model, "SCANME")
    assert find(("SCANME", "k", "BY", "INTO", "LIMIT", "INTO", 1, "INTO", "d")) == [1, 8]
    assert find(("SCANME", "k", "FLAG")) == [1]
    assert "SCANME" not in model.underived


def test_what_cannot_be_derived_is_reported() -> None:
    nokey = _command(
        "PATTERNS",
        _ks(_index(1), _range(0)),
        _ks({"type": "unknown", "spec": {}}, {"type": "unknown", "spec": {}}),
        arguments=(_arg("key", "key", key_spec_index=0), _arg("p", "pattern", "BY",
                                                               optional=True, key_spec_index=1)),
    )  # fmt: skip
    odd = _command("ODD", _ks({"type": "future", "spec": {}}, _range(0)))
    unsplittable = _command(
        "MULTI2",
        _ks(_index(1), _range(0)),
        _ks(_index(2), _range(-1)),
        tips=("request_policy:multi_shard", "response_policy:agg_sum"),
    )
    newtip = _command("NEWTIP", tips=("request_policy:somewhere_new",))
    model = build_model(_spec_with(nokey, odd, unsplittable, newtip))
    assert "key spec 1 not derived" in model.underived["PATTERNS"]
    assert "key spec 0 not derived (begin_search 'future')" in model.underived["ODD"]
    assert "cannot be split" in model.underived["MULTI2"]
    assert "unknown request_policy somewhere_new" in model.underived["NEWTIP"]
    rows = {r.name: r for r in model.routes}
    assert rows["PATTERNS"].first_key == 1  # still routed by the keys it has
    assert rows["MULTI2"].request == "keyed"  # one slot, or CrossSlotError
    assert rows["NEWTIP"].request == "keyless"
    assert rows["ODD"].request == "keyed" and rows["ODD"].finder is None


def test_server_disagreements_are_reported_and_the_primary_wins() -> None:
    older = {"key_specs": [{"begin_search": _index(2), "find_keys": _range(0), "flags": []}]}
    cmd = _command(
        "MOVED",
        _ks(_index(1), _range(0)),
        available_in=("redis-8.2.3", "redis-7.0.15"),
        by_server=MappingProxyType({"redis-7.0.15": older}),
    )
    model = build_model(_spec_with(cmd))
    assert model.disagreements == [
        "MOVED: key positions on redis-7.0.15 differ from redis-8.2.3's; using redis-8.2.3's"
    ]
    assert {r.name: r.first_key for r in model.routes}["MOVED"] == 1


def test_generate_reports_routing_and_the_committed_spec_has_no_disagreements() -> None:
    res = build(
        load_spec(FIXTURES / "mini_commands.json"),
        replies=load_replies(FIXTURES / "mini_replies"),
        overlay={"METHOD_NAMES": {"DEL": "delete"}},
    )
    assert any(line.startswith("SORT: key spec 1 not derived") for line in res.routing)
    full = build_model(load_spec(FIXTURES.parents[1] / "commands.json"))
    assert full.disagreements == []
    assert set(full.underived) >= {"SORT", "SORT_RO", "SCAN", "RANDOMKEY", "INFO"}
