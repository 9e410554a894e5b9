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
    # the table's comments (docstrings): of the base line, and per "+flags" text
    base_note: str = ""
    notes: dict[str, str] = field(default_factory=dict)


# ---- type expressions ----------------------------------------------------

_TOKEN = re.compile(r"\s*(@?[A-Za-z_*][A-Za-z0-9_\-.*\[\]]*|[<>,?|{}:])")
_FIELD = re.compile(r"[A-Za-z_*][A-Za-z0-9_\-.*\[\]]*")

_ATOMS: dict[str, Reply] = {
    "ok": Reply("bool", "to_ok"),
    "status": Reply("AnyStr", None),
    "bulk": Reply("AnyStr", None),
    "int": Reply("int", None),
    "float": Reply("float", "to_float"),
    "bool": Reply("bool", "to_bool"),
    "any": Reply("RespValue", None),
    "binary": Reply("bytes", "to_binary"),
    "entry": Reply("StreamEntry[AnyStr]", "to_entry"),
    "streams": Reply("dict[AnyStr, list[StreamEntry[AnyStr]]]", "stream_map"),
    "GeoMatch": Reply("GeoMatch[AnyStr]", "to_geo_match"),
    "StreamInfo": Reply("StreamInfo[AnyStr]", "to_stream_info"),
    "StreamGroupInfo": Reply("StreamGroupInfo[AnyStr]", "to_group_info"),
    "StreamConsumerInfo": Reply("StreamConsumerInfo[AnyStr]", "to_consumer_info"),
    "PendingSummary": Reply("PendingSummary[AnyStr]", "to_pending_summary"),
    "PendingEntry": Reply("PendingEntry[AnyStr]", "to_pending_entry"),
}
_GENERIC = {"list": 1, "set": 1, "map": 2, "pairs": 2, "tuple": -1, "maprow": -1}

# Annotations that are not RESP-shaped values (a record's annotation names them).
_NOT_RESP = re.compile(
    r"tuple\[|StreamEntry|GeoMatch|StreamInfo|StreamGroupInfo|StreamConsumerInfo|Pending"
)


class _Parser:
    def __init__(self, text: str, defs: Defs | None = None):
        self.text = text
        self.defs = defs
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
        if name == "{":
            return self.record()
        if name.startswith("@"):
            if self.defs is None:
                raise ReplyError(f"reply type {self.text!r}: {name} outside a table")
            return self.defs.get(name[1:])
        if name in _ATOMS:
            return _ATOMS[name]
        if re.search(r"[-.*\[\]]", name):
            raise ReplyError(f"reply type {self.text!r}: unknown type {name!r}")
        if name not in _GENERIC:
            raise ReplyError(f"reply type {self.text!r}: unknown type {name!r}")
        self.take("<")
        args = [self.union()]
        rest = False
        while self.peek() == ",":
            self.take(",")
            if name == "tuple" and (self.peek() or "").startswith("*"):
                # tuple<int,int,*T>: then any number of T (CLUSTER SLOTS' nodes)
                star = self.take()
                if star != "*":
                    self.toks.insert(self.i, star[1:])
                args.append(self.union())
                rest = True
                if self.peek() != ">":
                    raise ReplyError(f"reply type {self.text!r}: *T must be the last type")
                break
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
        if name == "maprow":
            if len(args) < 3:
                raise ReplyError(f"reply type {self.text!r}: maprow takes a key and 2+ columns")
            row = f"tuple[{', '.join(a[1:])}]"
            return Reply(f"dict[{a[0]}, {row}]", f"rows_of({', '.join(c)})")
        if name == "list":
            return Reply(f"list[{a[0]}]", f"list_of({c[0]})" if args[0].conv else None)
        if name == "set":
            return Reply(f"set[{a[0]}]", f"set_of({c[0]})" if args[0].conv else "to_set")
        if name == "map":
            return Reply(f"dict[{a[0]}, {a[1]}]", f"dict_of({c[0]}, {c[1]})")
        if name == "pairs":
            return Reply(f"list[tuple[{a[0]}, {a[1]}]]", f"pairs_of({c[0]}, {c[1]})")
        if rest:
            a[-1] = f"Unpack[tuple[{a[-1]}, ...]]"
            return Reply(f"tuple[{', '.join(a)}]", f"tuple_rest({', '.join(c)})")
        return Reply(f"tuple[{', '.join(a)}]", f"tuple_of({', '.join(c)})")


    def record(self) -> Reply:
        """``{name:T, other-name:U?}`` (after the ``{``): a map whose fields have types.

        The value is a dict keyed as the server keys it (AnyStr); fields the
        record does not name are kept unchanged, so a newer server's extra
        fields pass through. A field name with ``*`` is a glob pattern
        (``db.[0-9]*``, ``*.ratio``) for fields whose names vary; exact names win.
        """
        fields: list[tuple[str, Reply]] = []
        while True:
            fname = self.take()
            if not _FIELD.fullmatch(fname):
                raise ReplyError(f"reply type {self.text!r}: bad record field {fname!r}")
            if any(f == fname for f, _ in fields):
                raise ReplyError(f"reply type {self.text!r}: field {fname!r} twice")
            self.take(":")
            fields.append((fname, self.union()))
            if self.peek() == "}":
                self.take("}")
                break
            self.take(",")
        special: list[str] = []
        for _, r in fields:
            for a in _split_union(r.ann):
                if _NOT_RESP.search(a) and a not in special:
                    special.append(a)
        ann = f"dict[AnyStr, {' | '.join([*special, 'RespValue'])}]"
        convs = [f"{q_str(f)}: {r.conv}" for f, r in fields if r.conv]
        if not convs:
            return Reply(ann, "dict_of(None, None)")
        return Reply(ann, f"record_of({{{', '.join(convs)}}})")


def q_str(s: str) -> str:
    return '"' + s.replace("\\", "\\\\").replace('"', '\\"') + '"'


class Defs:
    """Named types (``@Name TYPE`` lines), resolved on first use; may be recursive.

    A recursive reference is annotated ``RespValue`` (a record whose fields
    are RESP-shaped is a RESP value) and converted through ``recursive``.
    """

    def __init__(self) -> None:
        self.src: dict[str, tuple[str, str]] = {}  # name -> (type text, where)
        self.done: dict[str, Reply] = {}
        self.active: list[str] = []
        self.recursed: set[str] = set()

    def add(self, name: str, text: str, where: str) -> None:
        if name in self.src:
            raise ReplyError(f"{where}: @{name} defined twice (first at {self.src[name][1]})")
        if name in _ATOMS or name in _GENERIC:
            raise ReplyError(f"{where}: @{name} shadows a built-in type")
        self.src[name] = (text, where)

    def get(self, name: str) -> Reply:
        if name in self.done:
            return self.done[name]
        if name not in self.src:
            raise ReplyError(f"unknown named type @{name}")
        if name in self.active:
            self.recursed.add(name)
            return Reply("RespValue", f"_{name}")
        text, where = self.src[name]
        self.active.append(name)
        try:
            r = _Parser(text, self).parse()
        except ReplyError as e:
            raise ReplyError(f"{where}: {e}") from None
        finally:
            self.active.pop()
        if name in self.recursed:
            if _NOT_RESP.search(r.ann):
                raise ReplyError(f"{where}: recursive @{name} must be RESP-shaped (no tuples)")
            r = Reply(r.ann, f"recursive(lambda _{name}: {r.conv})")
        self.done[name] = r
        return r


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


def reply_type(text: str, defs: Defs | None = None) -> Reply:
    """``pairs<bulk,float>`` -> Reply("list[tuple[AnyStr, float]]", "pairs_of(None, to_float)")."""
    return _Parser(text, defs).parse()


UNKNOWN = Reply("RespValue", None)


# ---- table files -----------------------------------------------------------

_LINE = re.compile(
    r"^(?P<cmd>[A-Z][A-Z0-9_.\-]*(?: [A-Z][A-Z0-9_.\-]*)?)"
    r"(?:\s+\+(?P<flags>[a-z0-9_|&]+))?\s+(?P<type>\S.*?)\s*$"
)
_DEF = re.compile(r"^@(?P<name>[A-Za-z_][A-Za-z0-9_]*)\s+(?P<type>\S.*?)\s*$")


def _lines(text: str) -> list[tuple[int, str, str]]:
    """(line number, line without comment, raw line); a line ending in ``,`` ``<`` or
    ``{`` continues on the next one (long records)."""
    out: list[tuple[int, str, str]] = []
    pending: tuple[int, str, str] | None = None
    for lineno, raw in enumerate(text.splitlines(), 1):
        line = raw.split("#", 1)[0].rstrip()
        if pending is not None:
            line = pending[1] + " " + line.strip()
            lineno, raw = pending[0], pending[2]
            pending = None
        if not line.strip():
            continue
        if line[-1] in ",<{":
            pending = (lineno, line, raw)
            continue
        out.append((lineno, line, raw))
    if pending is not None:
        out.append(pending)
    return out


def parse_defs(text: str, where: str, defs: Defs) -> None:
    """Collect the ``@Name TYPE`` lines of a table file."""
    for lineno, line, _ in _lines(text):
        m = _DEF.match(line)
        if m:
            defs.add(m.group("name"), m.group("type").replace(" ", ""), f"{where}:{lineno}")


def parse_table(
    text: str, where: str, into: dict[str, Entry], defs: Defs | None = None
) -> None:
    if defs is None:
        defs = Defs()
        parse_defs(text, where, defs)
    for lineno, line, raw in _lines(text):
        if line.startswith("@"):
            continue
        m = _LINE.match(line)
        if not m:
            raise ReplyError(f"{where}:{lineno}: cannot parse {raw.strip()!r}")
        cmd = m.group("cmd")
        typ = m.group("type").replace(" ", "")
        try:
            reply = reply_type(typ, defs)
        except ReplyError as e:
            raise ReplyError(f"{where}:{lineno}: {e}") from None
        e = into.setdefault(cmd, Entry(cmd, where=f"{where}:{lineno}"))
        if m.group("flags"):
            flags = tuple(m.group("flags").split("|"))
            for alt in flags:
                if "" in alt.split("&"):
                    raise ReplyError(f"{where}:{lineno}: bad flags +{m.group('flags')}")
            for alt in flags:
                need = set(alt.split("&"))
                for before, _, _ in e.overloads:
                    for b in before:
                        if set(b.split("&")) < need:
                            raise ReplyError(
                                f"{where}:{lineno}: +{alt} after +{b} never wins: list the "
                                "most specific overload first"
                            )
            e.overloads.append((flags, reply, typ))
            e.notes[m.group("flags")] = _comment(raw)
        else:
            if e.base is not None:
                raise ReplyError(f"{where}:{lineno}: second entry without + for {cmd}")
            e.base = reply
            e.base_src = typ
            e.base_note = _comment(raw)


def _comment(raw: str) -> str:
    return raw.split("#", 1)[1].strip() if "#" in raw else ""


def load_replies(directory: str | Path = REPLIES_DIR) -> dict[str, Entry]:
    out: dict[str, Entry] = {}
    defs = Defs()
    paths = sorted(Path(directory).glob("*.txt"))
    for path in paths:
        parse_defs(path.read_text(), path.name, defs)
    for path in paths:
        parse_table(path.read_text(), path.name, out, defs)
    for name in defs.src:
        defs.get(name)  # an unused definition must still parse
    for cmd, e in out.items():
        if e.base is None:
            raise ReplyError(f"{e.where}: {cmd} has + lines but no base entry")
    return out
