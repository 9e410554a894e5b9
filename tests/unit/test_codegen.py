"""The generator: golden output on a small fixture spec, drift of the committed tree, naming.

Regenerate the golden files after an intended change with
``REDSPEC_UPDATE_GOLDEN=1 pytest tests/unit/test_codegen.py``.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import pytest

from codegen.generate import build
from codegen.regenerate import main_check
from codegen.replies import ReplyError, load_replies, parse_table, reply_type
from codegen.signatures import plural, pyname
from codegen.spec import load_spec

ROOT = Path(__file__).resolve().parents[2]
FIXTURES = ROOT / "tests" / "fixtures"
GOLDEN = FIXTURES / "mini_golden"

# The overlay used with the fixture spec (the project's overlay names commands it lacks).
MINI_OVERLAY: dict[str, Any] = {
    "METHOD_NAMES": {"DEL": "delete"},
    "DEFAULTS": {"XADD": {"id": '"*"'}},
    "MODELS": {"XADD": {"trim": "StreamTrim"}},
    "RENAMES": {"XADD": {"data": "fields"}, "ZADD": {"data": "mapping"}},
    "SPLIT_ONEOF": {"SET": ["condition"]},
    "BLOCKING": {"XREAD": ("block", "ms")},
}


def _mini() -> Any:
    return build(
        load_spec(FIXTURES / "mini_commands.json"),
        replies=load_replies(FIXTURES / "mini_replies"),
        overlay=MINI_OVERLAY,
        strict=True,
    )


def test_golden_output() -> None:
    res = _mini()
    assert res.errors == []
    assert res.missing_replies == ["GETSET", "RESTORE-ASKING"]
    if os.environ.get("REDSPEC_UPDATE_GOLDEN"):
        for old in GOLDEN.rglob("*.golden"):
            old.unlink()
        for rel, text in res.files.items():
            p = GOLDEN / (rel + ".golden")
            p.parent.mkdir(parents=True, exist_ok=True)
            p.write_text(text)
    want = {
        p.relative_to(GOLDEN).as_posix()[: -len(".golden")]: p.read_text()
        for p in GOLDEN.rglob("*.golden")
    }
    assert sorted(res.files) == sorted(want)
    for rel, text in res.files.items():
        assert text == want[rel], f"{rel} differs from its golden file"


def test_output_is_deterministic() -> None:
    assert _mini().files == _mini().files


def test_committed_tree_matches_spec() -> None:
    cwd = os.getcwd()
    os.chdir(ROOT)
    try:
        assert main_check("commands.json", "src/redspec/_generated", strict=True) == 0
    finally:
        os.chdir(cwd)


def test_every_file_has_the_header() -> None:
    res = _mini()
    spec = load_spec(FIXTURES / "mini_commands.json")
    for text in res.files.values():
        assert text.startswith("# DO NOT EDIT")
        assert spec.sha256 in text.split("\n", 2)[1]


def test_names() -> None:
    assert pyname("CLIENT NO-EVICT") == "client_no_evict"
    assert pyname("RESTORE-ASKING") == "restore_asking"
    assert pyname("FT.SEARCH") == "ft_search"
    assert pyname("from") == "from_" and pyname("async") == "async_"
    assert plural("key") == "keys" and plural("prefix") == "prefixes"
    from redspec._generated.client import Commands

    for name in ("delete", "client_no_evict", "restore_asking", "cluster_set_config_epoch"):
        assert callable(getattr(Commands, name))
    assert not hasattr(Commands, "del_") and not hasattr(Commands, "subscribe")
    assert not hasattr(Commands, "multi") and not hasattr(Commands, "hello")
    assert callable(Commands.command)  # a container callable bare


def test_no_python_keyword_as_parameter() -> None:
    import inspect
    import keyword

    from redspec._generated.client import Commands

    for name in dir(Commands):
        if name.startswith("_"):
            continue
        for p in inspect.signature(getattr(Commands, name)).parameters:
            assert not keyword.iskeyword(p), (name, p)


def test_pipeline_not_imported_by_redspec() -> None:
    import subprocess
    import sys

    code = "import sys, redspec; print('redspec._generated.pipeline' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"


def test_overlay_entry_without_command_is_an_error() -> None:
    overlay = dict(MINI_OVERLAY, METHOD_NAMES={"DEL": "delete", "NOSUCH": "x"})
    res = build(
        load_spec(FIXTURES / "mini_commands.json"),
        replies=load_replies(FIXTURES / "mini_replies"),
        overlay=overlay,
        strict=True,
    )
    assert any("NOSUCH matches no command" in e for e in res.errors)
    overlay = dict(MINI_OVERLAY, RENAMES={"GET": {"nosuch": "x"}})
    res = build(
        load_spec(FIXTURES / "mini_commands.json"),
        replies=load_replies(FIXTURES / "mini_replies"),
        overlay=overlay,
        strict=True,
    )
    assert any("nosuch" in e for e in res.errors)


def test_lenient_build_skips_and_lists_what_the_spec_lacks() -> None:
    """Without strict, entries naming a command, parameter or +flag the spec lacks are
    skipped and listed; the rest is generated as in strict mode."""
    replies = load_replies(FIXTURES / "mini_replies")
    parse_table("NOSUCHCMD int\n", "x.txt", replies)
    parse_table("GET +nosuchflag int\n", "y.txt", replies)
    overlay = dict(
        MINI_OVERLAY,
        METHOD_NAMES={"DEL": "delete", "NOSUCH": "x"},
        RENAMES={**MINI_OVERLAY["RENAMES"], "GET": {"nosuch": "x"}},
        DEFAULTS={**MINI_OVERLAY["DEFAULTS"], "GET": {"nosuch": "1"}},
    )
    spec = load_spec(FIXTURES / "mini_commands.json")
    res = build(spec, replies=replies, overlay=overlay)
    assert res.errors == []
    listed = "\n".join(res.unused)
    for what in ("NOSUCH matches no command", "NOSUCHCMD exists on no server",
                 "GET +nosuchflag: no such parameter", "RENAMES['GET']['nosuch']",
                 "DEFAULTS['GET']['nosuch']"):  # fmt: skip
        assert what in listed, (what, listed)
    # GET keeps its base reply type, without the dropped overload
    assert "async def get(self, key: KeyT) -> AnyStr | None:" in res.files["client/string.py"]
    strict = build(spec, replies=replies, overlay=overlay, strict=True)
    assert len(strict.errors) == 5, strict.errors


def test_reply_table_errors() -> None:
    replies = load_replies(FIXTURES / "mini_replies")
    parse_table("NOSUCHCMD int\n", "x.txt", replies)
    parse_table("GET +nosuchflag int\n", "y.txt", replies)
    res = build(
        load_spec(FIXTURES / "mini_commands.json"),
        replies=replies,
        overlay=MINI_OVERLAY,
        strict=True,
    )
    assert any("NOSUCHCMD exists on no server" in e for e in res.errors)
    assert any("+nosuchflag: no such parameter" in e for e in res.errors)
    with pytest.raises(ReplyError):
        reply_type("list<bulk")
    with pytest.raises(ReplyError):
        reply_type("float|list<bulk>")


def test_reply_types() -> None:
    r = reply_type("pairs<bulk,float>")
    assert (r.ann, r.conv) == ("list[tuple[AnyStr, float]]", "pairs_of(None, to_float)")
    r = reply_type("map<bulk,list<entry>>?")
    assert r.ann == "dict[AnyStr, list[StreamEntry[AnyStr]]] | None"
    assert r.conv == "dict_of(None, list_of(to_entry))"
    assert reply_type("ok|int").conv == "to_ok"
    assert reply_type("set<bulk>").conv == "to_set"
    assert reply_type("tuple<int,float>?").ann == "tuple[int, float] | None"


def test_project_tables_parse() -> None:
    load_replies()


def test_arity_check_reports_unknown_mismatches() -> None:
    res = build(load_spec(ROOT / "commands.json"), strict=True)
    assert res.errors == []
    assert res.arity == []  # CLIENT KILL and the spec gaps are known (SPEC-NOTES §8)


def test_every_command_has_a_method() -> None:
    from codegen import overlay as overlay_data
    from codegen.generate import EXEMPT, has_method, method_name
    from codegen.nodes import Overlay
    from redspec._generated.client import Commands
    from redspec._generated.meta import COMMANDS
    from redspec._generated.pipeline import PipelineCommands

    ov = Overlay(vars(overlay_data))
    spec = load_spec(ROOT / "commands.json")
    for cmd in spec.all_commands():
        meta = COMMANDS[cmd.name]
        if cmd.name in EXEMPT or (cmd.is_container and not has_method(cmd)):
            assert meta["method"] is None
            continue
        name = method_name(cmd, ov)
        assert meta["method"] == name
        assert callable(getattr(Commands, name)), cmd.name
        assert callable(getattr(PipelineCommands, name)), cmd.name


def test_parameters_the_reply_table_predates_widen_the_reply() -> None:
    """A ZRANGE whose `rev` the reply table was not written against: given, the reply may
    have another shape, so that overload (first) returns RespValue; generate lists it."""
    spec = load_spec(FIXTURES / "mini_commands.json")
    replies = load_replies(FIXTURES / "mini_replies")
    known = {"ZRANGE": frozenset({"key", "start", "stop", "sortby", "limit", "withscores"})}
    res = build(spec, replies=replies, overlay=MINI_OVERLAY, known=known)
    assert res.errors == [] and res.new_arguments == ["ZRANGE: rev"]
    text = res.files["client/sorted_set.py"]
    stubs = [b for b in text.split("@overload")[1:] if "def zrange(" in b.split("\n")[1]]
    widened = [b for b in stubs if "rev: Literal[True]," in b]
    assert len(widened) == 1 and "-> RespValue: ..." in widened[0]
    assert stubs.index(widened[0]) == 1  # right after the base overload: it wins when given
    assert "withscores: bool = ...," in widened[0]  # whatever withscores says
    body = text[text.index("def zrange(", text.index(widened[0])) :]
    assert "            if rev:\n                return await self._call(argv, READ)\n" in body
    # against the pinned servers nothing is new: strict builds never widen
    assert build(spec, replies=replies, overlay=MINI_OVERLAY, strict=True).new_arguments == []


def test_known_arguments_file_is_current() -> None:
    from codegen.known import KNOWN_PATH, load_known

    res = build(load_spec(ROOT / "commands.json"), strict=True)
    assert KNOWN_PATH.read_text() == res.known_arguments
    known = load_known()
    assert known["ZRANGE"] >= {"withscores", "rev", "limit"} and "GET" in known
