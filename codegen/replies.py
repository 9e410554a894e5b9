"""The reply table (codegen/replies/*.txt, format in codegen/replies/README.md).

:func:`load_replies` parses every table file; :func:`reply_type` maps a type
expression (``pairs<bulk,float>``) to a Python annotation (with ``AnyStr``)
and a converter expression built from ``redspec._replies`` factories (or
None when the transport's value is already the declared one).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

REPLIES_DIR = Path(__file__).parent / "replies"


class ReplyError(Exception):
    pass


@dataclass(frozen=True)
class Reply:
    ann: str
    conv: str | None


@dataclass
class Entry:
    command: str
    base: Reply | None = None
    base_src: str = ""
    overloads: list[tuple[tuple[str, ...], Reply, str]] = field(default_factory=list)
    where: str = ""


# ---- type expressions ----------------------------------------------------

_TOKEN = re.compile(r"\s*([A-Za-z_][A-Za-z0-9_]*|[<>,?|])")

_ATOMS: dict[str, Reply] = {
    "ok": Reply("bool", "to_ok"),
    "status": Reply("AnyStr", None),
    "bulk": Reply("AnyStr", None),
    "int": Reply("int", None),
    "float": Reply("float", "to_float"),
    "bool": Reply("bool", "to_bool"),
    "any": Reply("RespValue", None),
    "entry": Reply("StreamEntry[AnyStr]", "to_entry"),
    "streams": Reply("dict[AnyStr, list[StreamEntry[AnyStr]]]", "stream_map"),
    "GeoMatch": Reply("GeoMatch[AnyStr]", "to_geo_match"),
}
_GENERIC = {"list": 1, "set": 1, "map": 2, "pairs": 2, "tuple": -1}


class _Parser:
    def __init__(self, text: str):
        self.text = text
        self.toks: list[str] = []
        pos = 0
        text = text.strip()
        while pos < len(text):
            m = _TOKEN.match(text, pos)
            if not m:
                raise ReplyError(f"bad reply type {self.text!r} at {text[pos:]!r}")
            self.toks.append(m.group(1))
            pos = m.end()
        self.i = 0

    def peek(self) -> str | None:
        return self.toks[self.i] if self.i < len(self.toks) else None

    def take(self, want: str | None = None) -> str:
        t = self.peek()
        if t is None or (want is not None and t != want):
            raise ReplyError(f"bad reply type {self.text!r}: expected {want or 'more'}")
        self.i += 1
        return t

    def parse(self) -> Reply:
        r = self.union()
        if self.peek() is not None:
            raise ReplyError(f"bad reply type {self.text!r}: trailing {self.peek()!r}")
        return r

    def union(self) -> Reply:
        parts = [self.postfix()]
        while self.peek() == "|":
            self.take("|")
            parts.append(self.postfix())
        if len(parts) == 1:
            return parts[0]
        anns: list[str] = []
        for p in parts:
            for a in _split_union(p.ann):
                if a not in anns:
                    anns.append(a)
        convs = {p.conv for p in parts} - {None}
        if not convs:
            conv = None
        elif convs == {"to_ok"}:
            conv = "to_ok"
        else:
            raise ReplyError(
                f"reply type {self.text!r}: a union may only join types that need no "
                "conversion (or ok with others)"
            )
        if "None" in anns:
            anns = [a for a in anns if a != "None"] + ["None"]
        return Reply(" | ".join(anns), conv)

    def postfix(self) -> Reply:
        r = self.atom()
        while self.peek() == "?":
            self.take("?")
            if not r.ann.endswith("| None"):
                r = Reply(f"{r.ann} | None", r.conv)
        return r

    def atom(self) -> Reply:
        name = self.take()
        if name in _ATOMS:
            return _ATOMS[name]
        if name not in _GENERIC:
            raise ReplyError(f"reply type {self.text!r}: unknown type {name!r}")
        self.take("<")
        args = [self.union()]
        while self.peek() == ",":
            self.take(",")
            args.append(self.union())
        self.take(">")
        n = _GENERIC[name]
        if n != -1 and len(args) != n:
            raise ReplyError(f"reply type {self.text!r}: {name} takes {n} type(s)")
        a = [x.ann for x in args]
        c = [x.conv or "None" for x in args]
        if name in ("map", "pairs", "tuple"):
            # inside fixed shapes some servers send counts as strings (XPENDING summary)
            c = [("to_int" if x.ann in ("int", "int | None") else cv) for x, cv in zip(args, c)]
        if name == "list":
            return Reply(f"list[{a[0]}]", f"list_of({c[0]})" if args[0].conv else None)
        if name == "set":
            return Reply(f"set[{a[0]}]", f"set_of({c[0]})" if args[0].conv else "to_set")
        if name == "map":
            return Reply(f"dict[{a[0]}, {a[1]}]", f"dict_of({c[0]}, {c[1]})")
        if name == "pairs":
            return Reply(f"list[tuple[{a[0]}, {a[1]}]]", f"pairs_of({c[0]}, {c[1]})")
        return Reply(f"tuple[{', '.join(a)}]", f"tuple_of({', '.join(c)})")


def _split_union(ann: str) -> list[str]:
    out, depth, cur = [], 0, ""
    for ch in ann:
        if ch == "[":
            depth += 1
        elif ch == "]":
            depth -= 1
        if ch == "|" and depth == 0:
            out.append(cur.strip())
            cur = ""
        else:
            cur += ch
    out.append(cur.strip())
    return out


def reply_type(text: str) -> Reply:
    """``pairs<bulk,float>`` -> Reply("list[tuple[AnyStr, float]]", "pairs_of(None, to_float)")."""
    return _Parser(text).parse()


UNKNOWN = Reply("RespValue", None)


# ---- table files -----------------------------------------------------------

_LINE = re.compile(
    r"^(?P<cmd>[A-Z][A-Z0-9_.\-]*(?: [A-Z][A-Z0-9_.\-]*)?)"
    r"(?:\s+\+(?P<flags>[a-z0-9_|]+))?\s+(?P<type>\S.*?)\s*$"
)


def parse_table(text: str, where: str, into: dict[str, Entry]) -> None:
    for lineno, raw in enumerate(text.splitlines(), 1):
        line = raw.split("#", 1)[0].rstrip()
        if not line.strip():
            continue
        m = _LINE.match(line)
        if not m:
            raise ReplyError(f"{where}:{lineno}: cannot parse {raw.strip()!r}")
        cmd = m.group("cmd")
        typ = m.group("type").replace(" ", "")
        try:
            reply = reply_type(typ)
        except ReplyError as e:
            raise ReplyError(f"{where}:{lineno}: {e}") from None
        e = into.setdefault(cmd, Entry(cmd, where=f"{where}:{lineno}"))
        if m.group("flags"):
            flags = tuple(m.group("flags").split("|"))
            e.overloads.append((flags, reply, typ))
        else:
            if e.base is not None:
                raise ReplyError(f"{where}:{lineno}: second entry without + for {cmd}")
            e.base = reply
            e.base_src = typ


def load_replies(directory: str | Path = REPLIES_DIR) -> dict[str, Entry]:
    out: dict[str, Entry] = {}
    for path in sorted(Path(directory).glob("*.txt")):
        parse_table(path.read_text(), path.name, out)
    for cmd, e in out.items():
        if e.base is None:
            raise ReplyError(f"{e.where}: {cmd} has + lines but no base entry")
    return out
