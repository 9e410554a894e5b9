"""Words for docstrings: what a parameter takes, what a reply is, where the command's page is.

The spec says little about arguments beyond their syntax, so a parameter is described by
what the generator knows of it: its type and unit, its default, the group it belongs to
(mutually exclusive options, an option that needs another), and the redis-py form it
stands for. A reply is described from its reply-table type and the table's comment.
"""

from __future__ import annotations

import re

from .plan import Param, Plan

# ---- parameters ------------------------------------------------------------

_ATOM_WORDS = {
    "KeyT": "a key",
    "ValueT": "a value (str, bytes, int or float)",
    "int": "an integer",
    "float": "a number",
    "bool": "a bool",
    "PatternT": "a glob-style pattern",
    "StreamIdT": 'a stream id ("1700000000000-0")',
    "RangeT": 'an index, a score ("(1.5", "-inf") or a lex bound ("[a")',
    "Seconds": "seconds (an int or a timedelta)",
    "Millis": "milliseconds (an int or a timedelta)",
    "UnixSeconds": "a unix time in seconds (an int or a datetime)",
    "UnixMillis": "a unix time in milliseconds (an int or a datetime)",
    "datetime": "a datetime",
    "None": "None",
}
_PLURAL = {
    "KeyT": "keys",
    "ValueT": "values",
    "int": "integers",
    "float": "numbers",
    "PatternT": "patterns",
    "StreamIdT": "stream ids",
    "RangeT": "bounds",
}


def _split_top(s: str, sep: str) -> list[str]:
    """``s`` split on ``sep`` outside brackets."""
    parts: list[str] = []
    depth = start = 0
    i = 0
    while i < len(s):
        ch = s[i]
        if ch in "[<{(":
            depth += 1
        elif ch in "]>})":
            depth -= 1
        elif depth == 0 and s.startswith(sep, i):
            parts.append(s[start:i].strip())
            i += len(sep)
            start = i
            continue
        i += 1
    parts.append(s[start:].strip())
    return parts


def ann_words(ann: str, plural: bool = False) -> str:
    """An annotation in words (``Seconds`` -> "seconds (an int or a timedelta)")."""
    alts = _split_top(ann, "|")
    if len(alts) > 1:
        lits = [a for a in alts if a.startswith("Literal[")]
        rest = [a for a in alts if not a.startswith("Literal[")]
        words = [ann_words(a, plural) for a in rest]
        if lits:
            words.append(
                "one of " + ", ".join(v for lit in lits for v in _split_top(lit[8:-1], ","))
            )
        return " or ".join(words)
    a = ann.strip()
    if a.startswith("Literal["):
        return "one of " + ", ".join(_split_top(a[8:-1], ","))
    if a.startswith("Sequence["):
        return "a sequence of " + ann_words(a[9:-1], plural=True)
    if a.startswith("Mapping["):
        k, v = _split_top(a[8:-1], ",")
        return f"a mapping of {ann_words(k, True)} to {ann_words(v, True)}"
    if a.startswith("tuple["):
        return "a tuple (" + ", ".join(ann_words(x) for x in _split_top(a[6:-1], ",")) + ")"
    if plural and a in _PLURAL:
        return _PLURAL[a]
    if a in _ATOM_WORDS:
        return _ATOM_WORDS[a]
    return f"a {a}" if a[:1].isupper() else a


def _groups(plan: Plan) -> dict[str, str]:
    """Parameter -> the sentence about its option group, from the checks the plan runs."""
    out: dict[str, str] = {}
    for stmt in plan.checks:
        m = re.search(r"_e\.(at_most_one|exactly_one)\(\"[^\"]*\", (.*)\)\s*$", stmt)
        if not m:
            continue
        names = [part.split("=", 1)[0].strip() for part in m.group(2).split(",")]
        how = "At most one of" if m.group(1) == "at_most_one" else "Exactly one of"
        for n in names:
            out[n] = f"{how} {', '.join(names)}."
    for dep, head in plan.needs.items():
        out[dep] = (out.get(dep, "") + f" Needs {head}.").strip()
    return out


_TOKEN = re.compile(r"^\[?([A-Z][A-Z0-9_-]*)\]?$")


def param_words(p: Param, plan: Plan) -> str:
    """What ``p`` takes and how it relates to the others, after its syntax."""
    if p.note:
        return f"{p.note} (redis-py form)"
    # the syntax, when it says more than the name (`[EX seconds]`, not `key`)
    plain = re.sub(r"[^a-z0-9]+", "_", (p.syntax or "").lower()).strip("_")
    syntax = f"`{p.syntax}`" if p.syntax and plain != p.name else ""
    if p.is_bool:
        m = _TOKEN.match(p.syntax or "")
        what = f"sends {m.group(1)} when True" if m else "a flag"
    elif p.varargs:
        what = "one or more " + ann_words(p.ann, plural=True)
        if p.list_or_args:
            what += ", or one list or tuple of them"
    elif p.ann.startswith("tuple[") and p.syntax:
        # name the tuple's parts after the syntax (LIMIT offset count -> (offset, count))
        parts = [w for w in re.findall(r"[a-z][a-z0-9_-]*", p.syntax)]
        what = f"({', '.join(parts)})" if parts else ann_words(p.ann)
        what += ": " + ann_words(p.ann)
    else:
        what = ann_words(p.ann)
    text = f"{syntax}: {what}" if syntax else what[:1].upper() + what[1:]
    if p.default not in (None, "None", "False", "()"):
        text += f"; default {p.default}"
    text += "."
    extra = _groups(plan).get(p.name)
    if extra:
        text += " " + extra
    return text


# ---- replies ---------------------------------------------------------------

_REPLY_ATOMS = {
    "ok": ("True (OK)", "True values"),
    "status": ("a status string", "status strings"),
    "bulk": ("a string", "strings"),
    "int": ("an integer", "integers"),
    "float": ("a float", "floats"),
    "bool": ("True or False", "bools"),
    "any": ("any RESP value", "RESP values"),
    "binary": ("bytes", "bytes values"),
    "entry": ("a StreamEntry (id, fields)", "StreamEntry (id, fields) tuples"),
    "streams": ("a dict of stream name to its list of StreamEntry", "stream dicts"),
}


def reply_words(typ: str, plural: bool = False) -> str:
    """A reply-table type in words (``list<bulk?>`` -> "a list of strings (or None)")."""
    t = typ.strip()
    alts = _split_top(t, "|")
    if len(alts) > 1:
        return " or ".join(reply_words(a, plural) for a in alts)
    if t.endswith("?"):
        inner = reply_words(t[:-1], plural)
        return f"{inner} (or None)" if plural else f"{inner}, or None"
    m = re.match(r"^(\w+)<(.*)>$", t)
    if m:
        kind, args = m.group(1), _split_top(m.group(2), ",")
        if kind == "list":
            return "lists" if plural else f"a list of {reply_words(args[0], True)}"
        if kind == "set":
            return "sets" if plural else f"a set of {reply_words(args[0], True)}"
        if kind == "map":
            what = f"{reply_words(args[0], True)} to {reply_words(args[1], True)}"
            return "dicts" if plural else f"a dict of {what}"
        if kind == "pairs":
            what = f"({_bare(reply_words(args[0]))}, {_bare(reply_words(args[1]))})"
            return "pair lists" if plural else f"a list of {what} pairs"
        if kind == "maprow":
            return "dicts" if plural else f"a dict of {reply_words(args[0], True)} to tuples"
        if kind == "tuple":
            items = [("any number of " + reply_words(a[1:], True)) if a.startswith("*")
                     else reply_words(a) for a in args]
            return "tuples" if plural else f"a tuple ({', '.join(_bare(i) for i in items)})"
    if t.startswith("{"):
        fields = [f.split(":", 1)[0] for f in _split_top(t[1:-1], ",")]
        shown = ", ".join(fields[:6]) + (", ..." if len(fields) > 6 else "")
        return "dicts" if plural else f"a dict with {shown}"
    if t.startswith("@"):
        return f"{t[1:]} dicts" if plural else f"a {t[1:]} dict"
    if t in _REPLY_ATOMS:
        one, many = _REPLY_ATOMS[t]
        return many if plural else one
    return f"{t} records" if plural else f"a {t}"


def _bare(words: str) -> str:
    return re.sub(r"^(a|an) ", "", words)


# ---- the command's page ----------------------------------------------------


def command_link(name: str, valkey_only: bool) -> str:
    """A Markdown link to the command's page: valkey.io for Valkey-only commands."""
    slug = name.lower().replace(" ", "-")
    if valkey_only:
        return f"[{name}](https://valkey.io/commands/{slug}/) on valkey.io"
    return f"[{name}](https://redis.io/docs/latest/commands/{slug}/) on redis.io"
