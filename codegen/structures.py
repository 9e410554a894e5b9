"""Structural rules of the argument walker: oneofs (O1-O5) and multiple/parallel blocks (B2, B4),
and dataclass-backed blocks (B5c). Mixed into ``codegen.signatures._Walker``."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from .nodes import Node, is_ident_token
from .plan import SCALARS, Item, Model, Param, PlanError, camel, pyname, q


class StructureRules:
    """Methods of the walker that handle oneofs and repeated blocks (see signatures._Walker)."""

    plan: Any
    cmd: str
    cmd_avail: tuple[str, ...]
    ov: Any
    scope: str
    params: list[Param]
    checks: list[str]
    # provided by the walker
    new_param: Any
    ref: Any
    ref_given: Any
    scalar: Any
    tok_name: Any
    node: Any
    optional: Any
    walk: Any
    _literal: Any

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
            # a cheap count first; the helper (which names the offenders) only on bad input
            count = " + ".join(
                f"(not not {self.ref(h)})"
                if h.is_bool or h.default == "()"
                else f"({self.ref(h)} is not None)"
                for h in heads
            )
            test = "!= 1" if required else "> 1"
            if required:
                self.plan.choices.append([h.name for h in heads])
            self.checks.append(f"if {count} {test}: _e.{fn}({q(self.cmd)}, {args})")
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
        sub = type(self)(self.plan, self.cmd_avail, self.ov, scope=scope)
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
