"""The arguments the reply table was written against: ``codegen/known_arguments.txt``.

``generate --strict`` (the pinned servers) writes, per command, the parameter names of its
method; ``check --strict`` fails when the file is stale. Against a user's spec, a parameter
the file does not list for a command is new to the reply table: it may change the reply's
shape (as ``WITHSCORES`` does), so when it is given the method is typed ``RespValue`` (an
overload placed first), and ``generate`` lists it.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import replace
from pathlib import Path

from .replies import UNKNOWN, Entry
from .signatures import Plan

KNOWN_PATH = Path(__file__).parent / "known_arguments.txt"

_HEAD = (
    "# Written by `generate --strict` from the pinned servers' spec: per command, the\n"
    "# parameters its reply entry was written against. Do not edit; `check --strict` compares.\n"
)


def render_known(plans: Iterable[tuple[str, Plan]]) -> str:
    lines = [f"{name}: {' '.join(p.name for p in plan.params)}".rstrip() for name, plan in plans]
    return _HEAD + "".join(f"{ln}\n" for ln in sorted(lines))


def load_known(path: Path = KNOWN_PATH) -> dict[str, frozenset[str]]:
    out: dict[str, frozenset[str]] = {}
    if not path.exists():
        return out
    for line in path.read_text().splitlines():
        if not line or line.startswith("#"):
            continue
        name, _, params = line.partition(":")
        out[name.strip()] = frozenset(params.split())
    return out


def widen(entry: Entry, plan: Plan, known: frozenset[str]) -> tuple[Entry, list[str]]:
    """``entry`` with a ``RespValue`` overload, first, for each keyword parameter the reply
    table does not know; and the names of all such parameters."""
    new = [p for p in plan.params if p.name not in known]
    selectable = [
        p.name
        for p in new
        if not p.positional and not p.varargs and (p.is_bool or p.default == "None")
    ]
    if not selectable:
        return entry, [p.name for p in new]
    first = [((name,), UNKNOWN, "any") for name in selectable]
    return replace(entry, overloads=[*first, *entry.overloads]), [p.name for p in new]


def check_known(text: str, path: Path = KNOWN_PATH) -> str | None:
    """None when ``path`` holds ``text``; else what to do."""
    if path.exists() and path.read_text() == text:
        return None
    return f"{path.name} is out of date: run `generate --strict`"


def plans_of(groups: Mapping[str, list[tuple[object, Plan, object]]]) -> list[tuple[str, Plan]]:
    return [(plan.command, plan) for g in groups.values() for _, plan, _ in g]
