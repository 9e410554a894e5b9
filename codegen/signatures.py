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
from dataclasses import replace
from typing import Any

from .forms import apply_forms
from .nodes import Node, Overlay, is_ident_token, to_nodes
from .plan import (
    _BASE_TYPES,
    SCALARS,
    Item,
    Model,
    Param,
    Plan,
    PlanError,
    camel,
    plural,
    pyname,
    q,
)
from .structures import StructureRules

__all__ = [
    "Item",
    "Model",
    "Param",
    "Plan",
    "PlanError",
    "camel",
    "plan_command",
    "plural",
    "pyname",
    "q",
]


class _Walker(StructureRules):
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
        ann, wrap = self._scalar(n, name)
        least = self.ov.expiry_least(self.cmd)
        expiry = re.search(r"_e\.(seconds|millis|unix_seconds|unix_millis)\(", wrap)
        if least is not None and expiry:
            # An expiry of a command whose server refuses small ones (overlay
            # EXPIRY_LEAST): the wrapper checks it, naming command and parameter.
            wrap = re.sub(
                r"_e\.(seconds|millis|unix_seconds|unix_millis)\(\{0?\}\)",
                rf'_e.\1({{0}}, {least}, "{self.cmd}", "{{0}}")',
                wrap.replace("{}", "{0}"),
            )
        return ann, wrap

    def _scalar(self, n: Node, name: str | None = None) -> tuple[str, str]:
        key = (name or n.name).lower()
        tok = (n.token or "").upper()
        unit = self.ov.unit(self.cmd, n.name)
        if unit == "ms":
            return "Millis", "_e.millis({})"
        if unit == "ms|at":
            # a duration, or the moment itself (see the overlay's PRELUDE for the flag it needs)
            enc = "(_e.unix_millis({0}) if isinstance({0}, datetime) else _e.millis({0}))"
            return "Millis | datetime", enc
        if unit == "s":
            return "Seconds", "_e.seconds({})"
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
            # Every child is optional (Valkey's SHUTDOWN [[NOSAVE|SAVE] [NOW] [FORCE]]):
            # the block adds nothing to say, so its children stand on their own.
            return body
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
            for d in deps:
                self.plan.needs[d.name] = head.name
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


def plan_command(cmd: Any, overlay: Overlay) -> Plan:
    """The parameters and encoding of one command's method."""
    plan = Plan(command=cmd.name)
    args = overlay.arguments(cmd.name)
    undescribed = not cmd.arguments and not cmd.is_container
    if args is None and undescribed and cmd.arity != len(cmd.name.split(" ")):
        return plan_undescribed(cmd)
    nodes = to_nodes(args if args is not None else cmd.arguments)
    w = _Walker(plan, tuple(cmd.available_in), overlay)
    words = [("x", q(part)) for part in cmd.name.split(" ")]
    body = w.walk(nodes)
    plan.items = [*words, *body]
    plan.params = w.params
    plan.checks = w.checks
    _finish(plan, nodes, overlay)
    for stmt in overlay.prelude(cmd.name):
        plan.checks.append(stmt)
    apply_forms(plan, overlay)
    return plan


def _finish(plan: Plan, nodes: list[Node], overlay: Overlay) -> None:
    """Decide positional/varargs/keyword kinds (S1-S4, M1) and apply defaults."""
    for name, default in overlay.defaults(plan.command).items():
        p = plan.param(name)
        if p is None:
            continue  # reported by Overlay.unused(): this spec's servers lack the parameter
        overlay.mark_used("DEFAULTS", plan.command, name)
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
            if p.ann == "KeyT":
                # keys: a list or tuple of them, or one key alone (redis-py's blpop("k", 0))
                p.ann = "KeyT | Sequence[KeyT]"
                conv = f"{p.name} = _c.key_list({p.name}, {q(p.name)})"
            else:
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


def _fixed_key_offsets(cmd: Any, words: int) -> list[int]:
    """Offsets (0 = first argument after the name) of the keys the key specs place at
    fixed positions, up to the first spec that does not (a range to the end, a keyword
    search, a key count)."""
    offsets: list[int] = []
    for ks in cmd.key_specs:
        bs, fk = ks.begin_search, ks.find_keys
        if bs.get("type") != "index" or fk.get("type") != "range":
            break
        first = int(bs["spec"]["index"]) - words
        last = int(fk["spec"].get("lastkey", 0))
        step = int(fk["spec"].get("keystep", 1)) or 1
        if first < 0 or last < 0:
            break
        offsets.extend(range(first, first + last + 1, step))
    return sorted(set(offsets))


def plan_undescribed(cmd: Any) -> Plan:
    """A command whose server describes no arguments (modules that predate command docs):
    its keys (from the key specs) as positional parameters, then plain arguments as the
    arity allows: named ones up to the minimum, ``*args`` when more may follow."""
    words = len(cmd.name.split(" "))
    plan = Plan(command=cmd.name, undescribed=True)
    keys = _fixed_key_offsets(cmd, words)
    arity = cmd.arity
    minimum = (abs(arity) - words) if arity else 0
    fixed = max([minimum, *(k + 1 for k in keys)])
    if arity > 0:
        fixed = max(fixed, arity - words)
    n_keys = len(keys)
    n_args = fixed - n_keys
    items: list[Item] = [("x", q(part)) for part in cmd.name.split(" ")]
    ki = ai = 0
    for pos in range(fixed):
        if pos in keys:
            ki += 1
            name, ann = ("key" if n_keys == 1 else f"key{ki}"), "KeyT"
        else:
            ai += 1
            name, ann = ("arg" if n_args == 1 else f"arg{ai}"), "ValueT"
        plan.params.append(
            Param(name, ann, "req", positional=True, syntax=name, avail=tuple(cmd.available_in))
        )
        items.append(("x", name))
    if arity <= 0:
        plan.params.append(
            Param("args", "ValueT", "req", positional=True, varargs=True, multiple=True,
                  syntax="[arg ...]", avail=tuple(cmd.available_in))
        )
        items.append(("*", "args"))
    plan.items = items
    return plan
