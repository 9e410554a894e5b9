"""The plan of one generated method: parameters, checks, argv items, dataclasses; naming helpers."""

from __future__ import annotations

import keyword
import re
from dataclasses import dataclass, field
from typing import Any

SCALARS = {"key", "string", "integer", "double", "pattern", "unix-time"}
_BASE_TYPES = {
    "key": "KeyT",
    "string": "ValueT",
    "integer": "int",
    "double": "float",
    "pattern": "PatternT",
}


class PlanError(Exception):
    """The argument tree has a shape no rule covers (fix it with the overlay)."""


@dataclass
class Param:
    name: str
    ann: str  # annotation of the value when given (no "| None")
    kind: str  # "req" | "opt" (keyword unless promoted to positional-with-default)
    default: str | None = None  # "None", "False", "()", '"*"'
    is_bool: bool = False
    multiple: bool = False  # a list-like value (varargs or Sequence)
    seq: bool = False  # needs the _e.seq() guard (decided in finish())
    varargs: bool = False
    positional: bool = False
    avail: tuple[str, ...] = ()
    syntax: str = ""
    deprecated: bool = False
    list_or_args: bool = False  # *args that also take one list or tuple (redis-py's forms)
    note: str = ""  # what a redis-py form parameter means (codegen/compat.py)

    def given(self) -> str:
        if self.is_bool or self.default == "()":
            return self.name
        return f"{self.name} is not None"


# Emission items: ("x", expr) one word; ("*", expr) words of an iterable;
# ("if", cond, [items]); ("stmt", line); ("for", header, [items])
Item = tuple[Any, ...]


@dataclass
class Model:
    name: str
    fields: list[Param]
    doc: str


@dataclass
class Plan:
    command: str
    params: list[Param] = field(default_factory=list)
    checks: list[str] = field(default_factory=list)  # statements run before argv
    items: list[Item] = field(default_factory=list)
    models: list[Model] = field(default_factory=list)
    block_expr: str | None = None  # _call_blocking's seconds expression
    block_cond: str | None = None  # blocking only when this holds (XREAD BLOCK)
    # required oneofs flattened into keywords: exactly one of each group must be
    # given (the @overloads say so to the type checker; _e.exactly_one at run time)
    choices: list[list[str]] = field(default_factory=list)
    # parameter -> the optional parameter it needs (ZRANDMEMBER's withscores needs
    # count): checked at run time, and no @overload lets one go without the other
    needs: dict[str, str] = field(default_factory=dict)
    # the server published no argument tree (older module commands): keys from the key
    # specs, then plain arguments as the arity allows
    undescribed: bool = False
    # redis-py form parameters standing in for a required choice (GEOSEARCH member=):
    # overloads of their own, where the spec's alternatives are absent
    forms: list[str] = field(default_factory=list)
    folds: bool = False  # redis-py form statements reassign parameters (codegen/compat.py)

    def param(self, name: str) -> Param | None:
        for p in self.params:
            if p.name == name:
                return p
        return None


def q(s: str) -> str:
    """A double-quoted Python string literal."""
    return '"' + s.replace("\\", "\\\\").replace('"', '\\"') + '"'


def pyname(s: str) -> str:
    n = re.sub(r"[^0-9a-zA-Z]+", "_", s).strip("_").lower() or "arg"
    if n[0].isdigit():
        n = "_" + n
    if keyword.iskeyword(n) or (keyword.issoftkeyword(n) and n in ("_",)):
        n += "_"
    return n


def plural(n: str) -> str:
    if n.endswith("s"):
        return n
    if n.endswith(("x", "sh", "ch")):
        return n + "es"
    if n.endswith("y") and len(n) > 1 and n[-2] not in "aeiou":
        return n[:-1] + "ies"
    return n + "s"


def camel(s: str) -> str:
    return "".join(p[:1].upper() + p[1:] for p in re.split(r"[^0-9a-zA-Z]+", s.lower()) if p)
