"""Generated docstrings: the command's page, the arguments in words, the reply in words."""

from __future__ import annotations

import re

import redspec
from codegen.describe import ann_words, reply_words
from redspec._generated.meta import COMMANDS
from redspec.pipeline import Pipeline


def _doc(name: str) -> str:
    doc = getattr(redspec.Redis, name).__doc__
    assert doc
    return re.sub(r"\s+", " ", doc)


def test_every_method_links_its_command_page() -> None:
    for command, meta in COMMANDS.items():
        if meta["method"] is None:
            continue
        doc = _doc(meta["method"])
        slug = command.lower().replace(" ", "-")
        valkey_only = all(s.startswith("valkey") for s in meta["available_in"])
        site = f"https://valkey.io/commands/{slug}/" if valkey_only else (
            f"https://redis.io/docs/latest/commands/{slug}/"
        )
        assert f"[{command}]({site})" in doc, command
        # the pipeline twin says the same
        assert getattr(Pipeline, meta["method"]).__doc__ == getattr(
            redspec.Redis, meta["method"]
        ).__doc__


def test_valkey_only_commands_link_valkey_io() -> None:
    assert "(https://valkey.io/commands/commandlog-get/) on valkey.io" in _doc("commandlog_get")


def test_arguments_say_type_unit_group_and_needs() -> None:
    doc = _doc("set")
    assert "ex: `[EX seconds]`: seconds (an int or a timedelta). At most one of ex, px," in doc
    assert "nx: Sends NX when True. At most one of nx, xx, ifeq." in doc
    assert "ifeq: `[IFEQ comparison-value]`" in doc and "(Valkey only.)" in doc
    assert "withscores: `[WITHSCORES]`" not in _doc("zrandmember")  # the bool says it
    assert "withscores: Sends WITHSCORES when True. Needs count." in _doc("zrandmember")
    assert 'id: A stream id ("1700000000000-0") or one of "*"; default "*".' in _doc("xadd")
    assert "maxlen: trim to at most this many entries (MAXLEN) (redis-py form)" in _doc("xadd")
    assert "keys: `key [key ...]`: one or more keys, or one list or tuple of them." in _doc(
        "delete"
    )


def test_replies_in_words_with_the_tables_notes() -> None:
    doc = _doc("set")
    assert "- With get: a string, or None; the old value." in doc
    assert "- With nx, xx or ifeq: True (OK), or None; None when NX/XX/IFEQ refused it." in doc
    assert "- Otherwise: True (OK); plain SET always sets." in doc
    assert "Returns: An integer." in _doc("incr")
    assert "- With withscores: a list of (string, float) pairs." in _doc("zrange")
    assert "Returns: A list of PendingEntry records." in _doc("xpending_range")


def test_words() -> None:
    assert reply_words("list<bulk?>") == "a list of strings (or None)"
    assert reply_words("tuple<int,list<bulk>>") == "a tuple (integer, list of strings)"
    assert reply_words("map<bulk,int>") == "a dict of strings to integers"
    assert ann_words("Millis | None") == "milliseconds (an int or a timedelta) or None"
    assert ann_words('Literal["NX", "XX"] | None') == 'None or one of "NX", "XX"'
    assert ann_words("Mapping[KeyT, StreamIdT]") == "a mapping of keys to stream ids"
