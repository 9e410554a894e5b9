"""Argument tree -> Python parameters + an encoding plan (the body that builds argv).

The rules are those of DESIGN.md ("Generated methods: the mapping rules") and
SPEC-NOTES §13. :func:`plan_command` walks one command's (union) argument tree
and returns a :class:`Plan`: the parameters in signature order, the statements
that check the input, and the items that build ``argv``. Rendering the plan as
source is :mod:`codegen.render`'s business.
"""

from __future__ import annotations

import keyword
import re
from dataclasses import dataclass, field, replace
from typing import Any

from codegen.nodes import Node, Overlay, is_ident_token, to_nodes

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


class _Walker:
    """Walks one command's argument tree, filling a Plan (or a Model's fields)."""

    def __init__(self, plan: Plan, cmd_avail: tuple[str, ...], overlay: Overlay, scope: str = ""):
        self.plan = plan
        self.cmd = plan.command
        self.cmd_avail = cmd_avail
        self.ov = overlay
        self.scope = scope  # "trim." when filling a dataclass's fields
        self.params: list[Param] = []
        self.checks: list[str] = []
        self.taken: set[str] = {"self", "argv"}

    # ---- naming and types -------------------------------------------------

    def new_param(self, node: Node | None, base: str, ann: str, kind: str, **kw: Any) -> Param:
        renamed = self.ov.rename(self.cmd, base)
        name = pyname(renamed)
        if keyword.iskeyword(name.rstrip("_")) and not name.endswith("_"):
            name += "_"
        if name in self.taken:
            name = f"{name}_2"
        self.taken.add(name)
        ann = self.ov.type_for(self.cmd, name) or ann
        avail = node.available_in if node is not None else ()
        p = Param(name, ann, kind, avail=avail, syntax=node.syntax() if node else "", **kw)
        if node is not None and node.deprecated_since:
            p.deprecated = True
        self.params.append(p)
        return p

    def ref(self, p: Param) -> str:
        return self.scope + p.name

    def scalar(self, n: Node, name: str | None = None) -> tuple[str, str]:
        """(annotation, encoding wrapper) of a scalar node."""
        key = (name or n.name).lower()
        tok = (n.token or "").upper()
        if n.type == "unix-time":
            if tok == "PXAT" or "milli" in key:
                return "UnixMillis", "_e.unix_millis({})"
            return "UnixSeconds", "_e.unix_seconds({})"
        if n.type == "integer":
            if tok in ("EX",) or key == "seconds":
                return "Seconds", "_e.seconds({})"
            if tok in ("PX", "BLOCK") or key == "milliseconds":
                return "Millis", "_e.millis({})"
        return _BASE_TYPES.get(n.type, "ValueT"), "{}"

    def tok_name(self, n: Node) -> str:
        if n.token and is_ident_token(n.token):
            return n.token
        return n.name

    # ---- entry ------------------------------------------------------------

    def walk(self, nodes: list[Node]) -> list[Item]:
        items: list[Item] = []
        pending_counter: Node | None = None
        for i, n in enumerate(nodes):
            nxt = nodes[i + 1] if i + 1 < len(nodes) else None
            if (
                n.type == "integer"
                and n.name.lower().startswith("num")
                and nxt is not None
                and nxt.multiple
                and not n.optional
            ):
                pending_counter = n
                continue
            before = len(self.params)
            sub = self.node(n)
            if pending_counter is not None:
                new = self.params[before:]
                if not new:
                    raise PlanError(f"{self.cmd}: counter {pending_counter.name} counts nothing")
                counted = new[0]
                tok = [("x", q(pending_counter.token))] if pending_counter.token else []
                # the counter goes before the counted words (and after their token, if any)
                if sub and sub[0][0] == "x" and n.token and sub[0][1] == q(n.token):
                    sub = [sub[0], *tok, ("x", f"len({self.ref(counted)})"), *sub[1:]]
                else:
                    sub = [*tok, ("x", f"len({self.ref(counted)})"), *sub]
                pending_counter = None
            items.extend(sub)
        return items

    def node(self, n: Node) -> list[Item]:
        if n.optional:
            return self.optional(n)
        return self.required(n)

    # ---- required nodes ---------------------------------------------------

    def required(self, n: Node) -> list[Item]:
        tok = [("x", q(n.token))] if n.token is not None else []
        if n.type == "pure-token":
            return tok
        if n.type in SCALARS:
            if n.multiple:
                return self.multiple_scalar(n, "req")
            ann, wrap = self.scalar(n)
            p = self.new_param(n, n.name, ann, "req")
            return [*tok, ("x", wrap.format(self.ref(p)))]
        if n.type == "oneof":
            return self.oneof(n, required=True)
        if n.type == "block":
            if n.multiple or self._parallel(n):
                return self.multiple_block(n, "req")
            model = self.ov.model_for(self.cmd, n.name)
            if model:
                return self.dataclass_block(n, model, required=True)
            before = len(self.params)
            sub = self.walk(list(n.children))
            new = [p for p in self.params[before:]]
            if n.token and len(new) == 1 and is_ident_token(n.token):
                self._rename(new[0], n.token, sub)
            return [*tok, *sub]
        raise PlanError(f"{self.cmd}: argument type {q(n.type)}")

    def _rename(self, p: Param, base: str, items: list[Item]) -> None:
        name = pyname(self.ov.rename(self.cmd, base))
        if name in self.taken:
            return
        old = p.name
        self.taken.discard(old)
        self.taken.add(name)
        p.name = name

        def fix(it: list[Item]) -> list[Item]:
            out: list[Item] = []
            for x in it:
                if x[0] in ("x", "*", "stmt"):
                    out.append((x[0], re.sub(rf"\b{re.escape(old)}\b", name, x[1])))
                else:
                    out.append((x[0], re.sub(rf"\b{re.escape(old)}\b", name, x[1]), fix(x[2])))
            return out

        items[:] = fix(items)

    def multiple_scalar(self, n: Node, kind: str) -> list[Item]:
        ann, wrap = self.scalar(n)
        if n.multiple_token:
            p = self.new_param(n, n.token or n.name, f"Sequence[{ann}]", "opt", default="()")
            p.multiple = p.seq = True
            v = self.ref(p)
            return [
                (
                    "for",
                    f"_x in _e.seq({v}, {q(p.name)})",
                    [("x", q(n.token)), ("x", wrap.format("_x"))],
                )
            ]
        tok = [("x", q(n.token))] if n.token else []
        base = n.token if (n.token and is_ident_token(n.token)) else plural(n.name)
        if n.token and is_ident_token(n.token):
            base = n.token.lower() if n.token.lower().endswith("s") else plural(n.token.lower())
        if kind == "opt" and n.token:
            p = self.new_param(n, base, f"Sequence[{ann}]", "opt", default="None")
            p.multiple = p.seq = True
            v = self.ref(p)
            body = [
                *tok,
                (
                    "*",
                    f"_e.seq({v}, {q(p.name)})"
                    if wrap == "{}"
                    else f"[{wrap.format('_x')} for _x in _e.seq({v}, {q(p.name)})]",
                ),
            ]
            return [("if", f"{v} is not None", body)]
        p = self.new_param(n, base, ann, kind, default="()" if kind == "opt" else None)
        p.multiple = True
        v = self.ref(p)
        if wrap != "{}":
            return [*tok, ("*", f"[{wrap.format('_x')} for _x in {v}]")]
        return [*tok, ("*", v)]

    # ---- optional nodes ---------------------------------------------------

    def optional(self, n: Node) -> list[Item]:
        tok = [("x", q(n.token))] if n.token is not None else []
        if n.type == "pure-token":
            p = self.new_param(n, self.tok_name(n), "bool", "opt", default="False", is_bool=True)
            return [("if", self.ref(p), tok)]
        if n.type in SCALARS:
            if n.multiple:
                return self.multiple_scalar(n, "opt")
            ann, wrap = self.scalar(n)
            p = self.new_param(n, self.tok_name(n), ann, "opt", default="None")
            v = self.ref(p)
            return [("if", f"{v} is not None", [*tok, ("x", wrap.format(v))])]
        if n.type == "oneof":
            return self.oneof(n, required=False)
        if n.type == "block":
            if n.multiple or self._parallel(n):
                return self.multiple_block(n, "opt")
            model = self.ov.model_for(self.cmd, n.name)
            if model:
                return self.dataclass_block(n, model, required=False)
            return self.optional_block(n)
        raise PlanError(f"{self.cmd}: argument type {q(n.type)}")

    def optional_block(self, n: Node, head_name: str | None = None) -> list[Item]:
        """Flatten an optional block: a head parameter gates the block (B5a/B5b/C)."""
        kids = list(n.children)
        req = [k for k in kids if not k.optional]
        tok = [("x", q(n.token))] if n.token is not None else []
        if kids and all(k.type == "pure-token" and not k.optional for k in kids):
            # a fixed phrase (REPLICAOF NO ONE) -> one bool
            head = self.new_param(
                n, n.token or n.name, "bool", "opt", default="False", is_bool=True
            )
            return [("if", self.ref(head), [*tok, *(("x", q(str(k.token))) for k in kids)])]
        led = (
            not n.token
            and req
            and req[0] is kids[0]
            and kids[0].type in SCALARS
            and kids[0].token is not None
            and is_ident_token(kids[0].token)
            and all(self._tuple_ok(k) for k in req)
        )
        if n.token is not None or led:
            name = head_name or (self.tok_name(n) if n.token else str(kids[0].token))
            if not req:
                head = self.new_param(n, name, "bool", "opt", default="False", is_bool=True)
                before = len(self.params)
                body = self.walk(kids)
                deps = self.params[before:]
                return self._gate(head, [*tok, *body], deps)
            if all(self._tuple_ok(k) for k in req):
                anns, encs = [], []
                for k in req:
                    a, w = self._tuple_elem(k)
                    anns.append(a)
                    encs.append(w)
                if len(req) == 1:
                    head = self.new_param(n, name, anns[0], "opt", default="None")
                    vals = [encs[0].format(self.ref(head))]
                else:
                    head = self.new_param(
                        n, name, f"tuple[{', '.join(anns)}]", "opt", default="None"
                    )
                    vals = [e.format(f"{self.ref(head)}[{i}]") for i, e in enumerate(encs)]
                body: list[Item] = [*tok]
                before = len(self.params)
                ri = 0
                for k in kids:
                    if k.optional:
                        body.extend(self.node(k))
                    else:
                        if k.token and k.type not in ("oneof",):
                            body.append(("x", q(k.token)))
                        elif k.token and k.type == "oneof":
                            body.append(("x", q(k.token)))
                        body.append(("x", vals[ri]))
                        ri += 1
                deps = self.params[before:]
                return self._gate(head, body, deps)
            # a counted list (VALUES num v ...) or a single structured child: named by the token
            before = len(self.params)
            body = self.walk(kids)
            new = self.params[before:]
            reqs = [p for p in new if p.kind == "req"]
            if len(reqs) == 1:
                head = reqs[0]
                self._rename(head, name, body)
                head.kind = "opt"
                head.default = "None"
                return self._gate(head, [*tok, *body], [p for p in new if p is not head])
            raise PlanError(f"{self.cmd}: optional block {n.name} has no rule")
        # no token on the block: the first child leads
        if kids and not kids[0].optional and kids[0].token is not None and kids[0].type != "block":
            first = replace(kids[0], optional=True)
            before = len(self.params)
            first_items = self.optional(first)
            head = self.params[before]
            rest_before = len(self.params)
            body = [*tok, *self._unwrap(first_items)]
            body.extend(self.walk(kids[1:]))
            deps = self.params[rest_before:]
            return self._gate(head, body, deps)
        # no token at all: every required child is a keyword; all or none
        before = len(self.params)
        body = [*tok]
        heads: list[Param] = []
        for k in kids:
            if k.optional:
                body.extend(self.node(k))
                continue
            sub = self.optional(replace(k, optional=True))
            heads.append(self.params[-1])
            body.extend(self._unwrap(sub))
        if not heads:
            raise PlanError(f"{self.cmd}: optional block {n.name} without required children")
        head = heads[0]
        for h in heads[1:]:
            body.insert(0, ("stmt", self._require(h, head)))
        deps = [p for p in self.params[before:] if p is not head]
        return self._gate(
            head, body, [d for d in deps if d not in heads[1:]], also=tuple(heads[1:])
        )

    def _require(self, p: Param, head: Param) -> str:
        return (
            f"if {self.ref_missing(p)}: raise DataError("
            f"{q(self.cmd + ': ' + p.name + ' is required with ' + head.name)})"
        )

    def ref_missing(self, p: Param) -> str:
        v = self.ref(p)
        if p.is_bool or p.default == "()":
            return f"not {v}"
        return f"{v} is None"

    def ref_given(self, p: Param) -> str:
        v = self.ref(p)
        if p.is_bool or p.default == "()":
            return v
        return f"{v} is not None"

    def _gate(
        self, head: Param, body: list[Item], deps: list[Param], also: tuple[Param, ...] = ()
    ) -> list[Item]:
        out: list[Item] = [("if", self.ref_given(head), body)]
        dep_all = [*deps, *also]
        if dep_all and not self.scope:
            cond = " or ".join(self.ref_given(d) for d in dep_all)
            if len(dep_all) > 1:
                cond = f"({cond})"
            names = ", ".join(d.name for d in dep_all)
            msg = f"{self.cmd}: {names} needs {head.name}"
            self.checks.append(f"if {self.ref_missing(head)} and {cond}: raise DataError({q(msg)})")
        return out

    @staticmethod
    def _unwrap(items: list[Item]) -> list[Item]:
        """The body of a single ("if", ...) item (the gate is added by the caller)."""
        if len(items) == 1 and items[0][0] == "if":
            return list(items[0][2])
        return items

    def _tuple_ok(self, k: Node) -> bool:
        if k.multiple or k.optional:
            return False
        if k.type in SCALARS:
            return True
        if k.type == "oneof":
            return all(a.type == "pure-token" and is_ident_token(a.token or "") for a in k.children)
        if k.type == "pure-token":
            return False
        return False

    def _tuple_elem(self, k: Node) -> tuple[str, str]:
        if k.type == "oneof":
            return self._literal(k), "{}"
        return self.scalar(k)

    def _literal(self, n: Node) -> str:
        return "Literal[" + ", ".join(q(a.token) for a in n.children) + "]"

    # ---- oneof ------------------------------------------------------------

    def oneof(self, n: Node, required: bool) -> list[Item]:
        alts = list(n.children)
        live = [a for a in alts if not a.deprecated_since]
        if live and len(live) < len(alts):
            alts = live  # D1: deprecated alternatives are left out
        tok = [("x", q(n.token))] if n.token is not None else []
        if len(alts) == 1 and not n.multiple:
            only = replace(alts[0], optional=not required or alts[0].optional)
            return [*tok, *self.node(only)] if not tok else self._tok_wrap(n, only)
        if n.multiple and all(a.optional for a in alts):
            return self.filter_set(n, alts, required)
        if n.multiple:
            return self.op_sequence(n, alts, required)
        pure = [a for a in alts if a.type == "pure-token"]
        ident = [a for a in pure if is_ident_token(a.token or "")]
        split = self.ov.split_oneof(self.cmd, n.name)
        # O1: only identifier pure tokens
        if len(pure) == len(alts) and (len(ident) == len(alts) or not ident) and not split:
            ann = self._literal(replace(n, children=tuple(alts)))
            name = n.token if n.token and is_ident_token(n.token) else n.name
            if required:
                p = self.new_param(n, name, ann, "req")
                return [*tok, ("x", self.ref(p))]
            p = self.new_param(n, name, ann, "opt", default="None")
            return [("if", f"{self.ref(p)} is not None", [*tok, ("x", self.ref(p))])]
        # O3: one untokened valued alternative plus symbolic pure tokens
        valued = [a for a in alts if a.type != "pure-token"]
        symbolic = [a for a in pure if not is_ident_token(a.token or "")]
        if (
            len(valued) == 1
            and valued[0].token is None
            and valued[0].type in SCALARS
            and symbolic
            and len(symbolic) == len(pure)
        ):
            v = valued[0]
            ann = self.scalar(v)[0]
            ann = f"{ann} | Literal[{', '.join(q(s.token) for s in symbolic)}]"
            if required:
                p = self.new_param(v, v.name, ann, "req")
                return [*tok, ("x", self.ref(p))]
            p = self.new_param(v, v.name, ann, "opt", default="None")
            return [("if", f"{self.ref(p)} is not None", [*tok, ("x", self.ref(p))])]
        # O4: several untokened values that the wire cannot tell apart -> one union parameter
        untok = [a for a in alts if a.token is None and a.type in SCALARS and not a.multiple]
        if len(untok) == len(alts):
            ann = " | ".join(dict.fromkeys(self.scalar(a)[0] for a in alts))
            if required:
                p = self.new_param(n, n.name, ann, "req")
                return [*tok, ("x", self.ref(p))]
            p = self.new_param(n, n.name, ann, "opt", default="None")
            return [("if", f"{self.ref(p)} is not None", [*tok, ("x", self.ref(p))])]
        # O2: flatten into mutually exclusive keywords
        items: list[Item] = []
        heads: list[Param] = []
        group_pure = len(ident) >= 2 and not split
        if group_pure:
            ann = "Literal[" + ", ".join(q(a.token) for a in ident) + "]"
            p = self.new_param(n, n.name, ann, "opt", default="None")
            heads.append(p)
            items.append(("if", f"{self.ref(p)} is not None", [*tok, ("x", self.ref(p))]))
        for a in alts:
            if group_pure and a in ident:
                continue
            before = len(self.params)
            sub = self.optional(replace(a, optional=True))
            if len(self.params) == before:
                raise PlanError(f"{self.cmd}: oneof {n.name} alternative {a.name} has no parameter")
            heads.append(self.params[before])
            if tok:
                sub = [(s[0], s[1], [*tok, *s[2]]) if s[0] == "if" else s for s in sub]
            items.extend(sub)
        if not self.scope:
            fn = "exactly_one" if required else "at_most_one"
            args = ", ".join(f"{h.name}={self.ref(h)}" for h in heads)
            self.checks.append(f"_e.{fn}({q(self.cmd)}, {args})")
        return items

    def _tok_wrap(self, n: Node, only: Node) -> list[Item]:
        sub = self.node(only)
        tok = ("x", q(n.token))
        if len(sub) == 1 and sub[0][0] == "if":
            return [("if", sub[0][1], [tok, *sub[0][2]])]
        return [tok, *sub]

    def filter_set(self, n: Node, alts: list[Node], required: bool) -> list[Item]:
        """O5: a multiple oneof of optional alternatives -> combinable keywords."""
        items: list[Item] = []
        before = len(self.params)
        for a in alts:
            items.extend(self.optional(a))
        new = self.params[before:]
        if required and not self.scope:
            cond = " or ".join(self.ref_given(p) for p in new)
            msg = f"{self.cmd}: give at least one of {', '.join(p.name for p in new)}"
            self.checks.append(f"if not ({cond}): raise DataError({q(msg)})")
        return items

    def op_sequence(self, n: Node, alts: list[Node], required: bool) -> list[Item]:
        """O5: a multiple oneof of required alternatives -> a sequence of op dataclasses."""
        classes: list[tuple[str, list[Item]]] = []
        for a in alts:
            cname = self.ov.model_name(self.cmd, a.name) or camel(self.cmd) + camel(
                self.tok_name(a)
            )
            kids = list(a.children) if a.type == "block" else [replace(a, token=None)]
            lead = [("x", q(a.token))] if a.token is not None else []
            model, body = self._model(cname, kids, "_op.", f"{self.cmd} {a.syntax()}")
            classes.append((model.name, [*lead, *body]))
        union = " | ".join(c for c, _ in classes)
        p = self.new_param(
            n, n.name + "s", union, "req" if required else "opt", default=None if required else "()"
        )
        p.multiple = True
        chain: list[Item] = []
        for i, (cname, body) in enumerate(classes):
            chain.append(("if" if i == 0 else "elif", f"isinstance(_op, {cname})", body))
        msg = f"{self.cmd}: unexpected operation "
        chain.append(("else", "", [("stmt", f"raise DataError({q(msg)} + repr(_op))")]))
        return [("for", f"_op in {self.ref(p)}", chain)]

    # ---- blocks -----------------------------------------------------------

    @staticmethod
    def _parallel(n: Node) -> bool:
        return (
            n.type == "block"
            and sum(1 for c in n.children if c.multiple) == 2
            and len(n.children) == 2
        )

    def multiple_block(self, n: Node, kind: str) -> list[Item]:
        kids = list(n.children)
        tok = [("x", q(n.token))] if n.token is not None else []
        default = None if kind == "req" else "None"
        if self._parallel(n):  # B4
            ka, kb = self.scalar(kids[0])[0], self.scalar(kids[1])[0]
            name = n.token if n.token and is_ident_token(n.token) else n.name
            p = self.new_param(n, name, f"Mapping[{ka}, {kb}]", kind, default=default)
            v = self.ref(p)
            body: list[Item] = [*tok, ("*", f"{v}.keys()"), ("*", f"{v}.values()")]
            return body if kind == "req" else [("if", f"{v} is not None", body)]
        if not all(k.type in SCALARS and not k.multiple and not k.optional for k in kids):
            raise PlanError(f"{self.cmd}: multiple block {n.name} with nested structure")
        keyish = [
            i
            for i, k in enumerate(kids)
            if k.name in ("key", "field", "member", "parameter", "name")
        ]
        name = n.token if n.multiple_token and n.token and is_ident_token(n.token) else n.name
        loop_tok = [("x", q(n.token))] if n.multiple_token else []
        head_tok = [] if n.multiple_token else tok
        if len(kids) == 2 and keyish:  # B2
            ki = keyish[0]
            vi = 1 - ki
            ka, wk = self.scalar(kids[ki])
            va, wv = self.scalar(kids[vi])
            if self.ov.type_for(self.cmd, kids[vi].name):
                va = self.ov.type_for(self.cmd, kids[vi].name) or va
            p = self.new_param(n, name, f"Mapping[{ka}, {va}]", kind, default=default)
            v = self.ref(p)
            order = (
                [wk.format("_k"), wv.format("_v")]
                if ki == 0
                else [wv.format("_v"), wk.format("_k")]
            )
            if not loop_tok and ki == 0 and wk == wv == "{}":
                body = [*head_tok, ("*", f"_e.pairs({v}, {q(p.name)})")]
            else:
                body = [
                    *head_tok,
                    ("for", f"_k, _v in {v}.items()", [*loop_tok, *(("x", o) for o in order)]),
                ]
            return body if kind == "req" else [("if", f"{v} is not None", body)]
        anns, encs = zip(*(self.scalar(k) for k in kids))
        p = self.new_param(n, name, f"Sequence[tuple[{', '.join(anns)}]]", kind, default=default)
        p.multiple = True
        v = self.ref(p)
        inner: list[Item] = [*loop_tok]
        for i, (k, e) in enumerate(zip(kids, encs)):
            if k.token:
                inner.append(("x", q(k.token)))
            inner.append(("x", e.format(f"_t[{i}]")))
        body = [*head_tok, ("for", f"_t in _e.seq({v}, {q(p.name)})", inner)]
        return body if kind == "req" else [("if", f"{v} is not None", body)]

    def dataclass_block(self, n: Node, cname: str, required: bool) -> list[Item]:
        kids = list(n.children)
        tok = [("x", q(n.token))] if n.token is not None else []
        pname = n.token.lower() if n.token and is_ident_token(n.token) else n.name
        pname = self.ov.rename(self.cmd, pname)
        var = pyname(pname)
        model, body = self._model(cname, kids, var + ".", f"{self.cmd} {n.syntax()}")
        p = self.new_param(
            n, pname, model.name, "req" if required else "opt", default=None if required else "None"
        )
        if required:
            return [*tok, *body]
        return [("if", f"{self.ref(p)} is not None", [*tok, *body])]

    def _model(
        self, cname: str, kids: list[Node], scope: str, doc: str
    ) -> tuple[Model, list[Item]]:
        sub = _Walker(self.plan, self.cmd_avail, self.ov, scope=scope)
        body = sub.walk(kids)
        fields = sorted(sub.params, key=lambda p: p.default is not None)
        for f in fields:
            f.kind = "field"
        for m in self.plan.models:
            if m.name == cname:
                return m, body
        model = Model(cname, fields, doc)
        self.plan.models.append(model)
        return model, body


def plan_command(cmd: Any, overlay: Overlay) -> Plan:
    """The parameters and encoding of one command's method."""
    plan = Plan(command=cmd.name)
    args = overlay.arguments(cmd.name)
    nodes = to_nodes(args if args is not None else cmd.arguments)
    w = _Walker(plan, tuple(cmd.available_in), overlay)
    words = [("x", q(part)) for part in cmd.name.split(" ")]
    body = w.walk(nodes)
    plan.items = [*words, *body]
    plan.params = w.params
    plan.checks = w.checks
    _finish(plan, nodes, overlay)
    return plan


def _finish(plan: Plan, nodes: list[Node], overlay: Overlay) -> None:
    """Decide positional/varargs/keyword kinds (S1-S4, M1) and apply defaults."""
    for name, default in overlay.defaults(plan.command).items():
        p = plan.param(name)
        if p is None:
            raise PlanError(f"overlay default for {plan.command}: no parameter {q(name)}")
        p.kind = "opt"
        p.default = default
    req = [p for p in plan.params if p.kind == "req"]
    for p in req:
        p.positional = True
    # trailing optional untokened scalars stay positional with a default
    trailing: list[Param] = []
    for n in reversed(nodes):
        if n.optional and n.token is None and n.type in SCALARS:
            p = next(
                (
                    q
                    for q in plan.params
                    if q.syntax == n.syntax() and q.kind == "opt" and not q.positional
                ),
                None,
            )
            if p is None:
                break
            trailing.insert(0, p)
        else:
            break
    for p in trailing:
        p.positional = True
    positional = [p for p in plan.params if p.positional]
    multis = [p for p in positional if p.multiple]
    if (
        positional
        and positional[-1].multiple
        and len(multis) == 1
        and not positional[-1].ann.startswith(("Sequence[tuple", "Mapping"))
        and "|" not in positional[-1].ann
    ):
        positional[-1].varargs = True
    for p in plan.params:
        if p.multiple and not p.varargs and not p.ann.startswith("Sequence[") and not p.seq:
            if p.ann.startswith(("Mapping", "Sequence[tuple")):
                continue
            p.seq = True
            p.ann = f"Sequence[{p.ann}]"
            conv = f"{p.name} = _e.seq({p.name}, {q(p.name)})"
            if p.default == "None":
                conv = f"if {p.name} is not None: {conv}"
            plan.checks.insert(0, conv)
    # order: required positional, positional with default, varargs, keywords
    kw = [p for p in plan.params if not p.positional]
    plan.params = (
        [p for p in positional if not p.varargs and p.default is None]
        + [p for p in positional if not p.varargs and p.default is not None]
        + [p for p in positional if p.varargs]
        + kw
    )
