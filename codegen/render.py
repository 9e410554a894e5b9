"""A Plan (codegen.signatures) + its reply entry -> the source of one method."""

from __future__ import annotations

import re
import textwrap
from dataclasses import dataclass, field
from typing import Any

from .replies import UNKNOWN, Entry, Reply
from .signatures import Item, Param, Plan, q

LINE = 100
IND = "    "


class RenderError(Exception):
    pass


@dataclass
class Converters:
    """Module-level converter constants, numbered in order of first use."""

    exprs: dict[str, str] = field(default_factory=dict)
    functions: set[str] = field(default_factory=set)  # redspec._replies names used

    def name(self, conv: str | None) -> str | None:
        if conv is None:
            return None
        if _binary(conv):
            # A binary payload a decoding client cannot decode strictly comes
            # back in DecodeError.reply, escaped: keep_bytes marks the converter
            # that turns it into the server's bytes (see redspec._text).
            conv = f"keep_bytes({conv})"
        # Every lower-case identifier in a converter expression is a converter
        # function (``_name`` are lambda parameters of recursive types).
        code = re.sub(r"'[^']*'|\"[^\"]*\"", "", conv)  # record field names are strings
        self.functions.update(re.findall(r"\b(?!lambda\b)[a-z][a-z0-9_]*\b", code))
        if re.fullmatch(r"[a-z_]+", conv):
            return conv
        if conv not in self.exprs:
            self.exprs[conv] = f"_C{len(self.exprs) + 1}"
        return self.exprs[conv]

    def lines(self) -> list[str]:
        return [f"{n} = {e}" for e, n in self.exprs.items()]


@dataclass
class MethodSpec:
    """Everything the renderer needs about one command, beyond its Plan."""

    name: str
    command: str
    readonly: bool
    doc: list[str]
    deprecated: str | None
    blocking: tuple[str, str] | None  # (parameter or "", unit)
    reply: Entry | None


def _binary(conv: str | None) -> bool:
    return conv is not None and re.search(r"\bto_binary\b", conv) is not None


def _guarded(spec: MethodSpec, body: list[str], binary: list[tuple[str, str]]) -> list[str]:
    """The body inside ``try``. Misuse (a TypeError, AttributeError or IndexError from
    building argv or packing it) is explained by ``_e.misuse`` from the parameters'
    annotations, on this failure path only: naming the parameter costs the calls
    that succeed nothing. ``binary``: (condition, converter) of a binary reply."""
    out = [f"{IND * 2}try:"]
    out += [f"{IND}{ln}" if ln else ln for ln in body]
    if binary:
        out.append(f"{IND * 2}except _e.DecodeError as _exc:")
        for cond, conv in binary:
            if cond:
                out.append(f"{IND * 3}if {cond}:")
                out.append(f"{IND * 4}return {conv}(_exc.reply)")
            else:
                out.append(f"{IND * 3}return {conv}(_exc.reply)")
        if all(cond for cond, _ in binary):
            out.append(f"{IND * 3}raise")
    out.append(f"{IND * 2}except _e.MISUSE as _exc:")
    out.append(f"{IND * 3}_e.misuse({q(spec.command)}, {q(spec.name)}, locals(), _exc)")
    out.append(f"{IND * 3}raise")
    return out


def _opt_ann(p: Param) -> str:
    if p.default == "None" and not p.ann.endswith("None"):
        return f"{p.ann} | None"
    return p.ann


def _list_ann(p: Param) -> str:
    return f"Sequence[{p.ann}]"


def _param_src(p: Param, mode: str | None = None, stub: bool = False) -> str:
    """One parameter; mode: None (as planned), "false", "true", "any" (overload variants);
    for ``*args`` that also take one list: "args" or "list" (the overload's form)."""
    if p.varargs:
        if mode == "list":
            return f"{p.name}: {_list_ann(p)}"
        if p.list_or_args and mode is None and not stub:
            return f"*{p.name}: {p.ann} | {_list_ann(p)}"
        return f"*{p.name}: {p.ann}"
    ann, default = _opt_ann(p), p.default
    if mode is not None:
        if p.is_bool:
            ann, default = {
                "false": ("Literal[False]", "False"),
                "true": ("Literal[True]", None),
                "any": ("bool", "False"),
            }[mode]
        elif p.default == "None":
            ann, default = {
                "false": ("None", "None"),
                "true": (p.ann, None),
                "any": (_opt_ann(p), "None"),
            }[mode]
        else:
            raise RenderError(f"parameter {p.name} cannot select an overload")
    if default is None:
        return f"{p.name}: {ann}"
    if stub:
        default = "..."
    return f"{p.name}: {ann} = {default}"


def _signature(
    kw: str,
    name: str,
    params: list[Param],
    ret: str,
    modes: dict[str, str] | None = None,
    stub: bool = False,
) -> list[str]:
    parts = ["self"]
    star_done = False
    modes = modes or {}
    for p in params:
        mode = modes.get(p.name)
        if mode == "omit":
            continue
        if p.varargs and mode == "list":
            # the one list is positional-only: the implementation has *args, no keyword
            parts += [_param_src(p, mode, stub), "/"]
            continue
        if p.varargs:
            star_done = True
        elif not p.positional and not star_done:
            parts.append("*")
            star_done = True
        parts.append(_param_src(p, mode, stub))
    head = f"{IND}{kw} {name}("
    tail = f") -> {ret}:"
    one = head + ", ".join(parts) + tail
    if stub:
        one += " ..."
    if len(one) <= LINE:
        return [one]
    out = [head]
    out += [f"{IND * 2}{x}," for x in parts]
    out.append(f"{IND}{tail}" + (" ..." if stub else ""))
    return out


def _docstring(lines: list[str]) -> list[str]:
    body: list[str] = []
    for ln in lines:
        ln = ln.replace("\\", "\\\\").replace('"""', '\\"\\"\\"')
        if not ln:
            body.append("")
            continue
        lead = len(ln) - len(ln.lstrip())
        body += textwrap.wrap(
            ln.strip(),
            LINE - 8 - lead,
            initial_indent=" " * lead,
            subsequent_indent=" " * (lead + (4 if ": " in ln[:40] else 0)),
            break_on_hyphens=False,
            break_long_words=False,
        ) or [""]
    if len(body) == 1 and len(body[0]) < LINE - 14:
        return [f'{IND * 2}"""{body[0]}"""']
    out = [f'{IND * 2}"""{body[0]}']
    out += [(f"{IND * 2}{b}" if b else "") for b in body[1:]]
    out.append(f'{IND * 2}"""')
    return out


def _static(items: list[Item]) -> bool:
    return all(it[0] in ("x", "*") for it in items)


def _tuple_src(items: list[Item]) -> str:
    parts = [it[1] if it[0] == "x" else f"*{it[1]}" for it in items]
    if len(parts) == 1:
        return f"({parts[0]},)"
    return "(" + ", ".join(parts) + ")"


def _emit(items: list[Item], depth: int, out: list[str]) -> None:
    ind = IND * depth
    run: list[Item] = []

    def flush() -> None:
        if not run:
            return
        # (a star inside a tuple display loses mypy's narrowing in generic classes)
        words: list[Item] = []
        for it in [*run, ("end", "")]:
            if it[0] == "x":
                words.append(it)
                continue
            if len(words) == 1:
                out.append(f"{ind}argv.append({words[0][1]})")
            elif words:
                out.append(f"{ind}argv.extend({_tuple_src(words)})")
            words = []
            if it[0] == "*":
                out.append(f"{ind}argv.extend({it[1]})")
        run.clear()

    for it in items:
        if it[0] in ("x", "*"):
            run.append(it)
            continue
        flush()
        if it[0] == "stmt":
            _stmt(it[1], depth, out)
        elif it[0] in ("if", "elif", "for"):
            out.append(f"{ind}{it[0]} {it[1]}:")
            _emit(it[2], depth + 1, out) if it[2] else out.append(f"{ind}{IND}pass")
        elif it[0] == "else":
            out.append(f"{ind}else:")
            _emit(it[2], depth + 1, out)
        else:
            raise RenderError(f"unknown item {it[0]!r}")
    flush()


def _stmt(line: str, depth: int, out: list[str]) -> None:
    """A statement; `if cond: body` one-liners are split for readability."""
    ind = IND * depth
    m = re.match(r"^if (.*?): (raise .*|\w+ = .*|_e\..*)$", line)
    if m:
        out.append(f"{ind}if {m.group(1)}:")
        out.append(f"{ind}{IND}{m.group(2)}")
    else:
        out.append(f"{ind}{line}")


def _overload_plan(
    spec: MethodSpec, plan: Plan
) -> tuple[list[tuple[dict[str, str], Reply]], Reply]:
    """[(modes by parameter, reply)] for the @overload stubs, and the implementation's reply."""
    entry = spec.reply
    base = entry.base if entry and entry.base else UNKNOWN
    if not entry or not entry.overloads:
        return _choice_overloads(spec, plan, [({}, base)]), base
    lines = entry.overloads
    flags_all: list[str] = []
    for flags, _, _ in lines:
        for f in (g for alt in flags for g in alt.split("&")):
            if plan.param(f) is None:
                raise RenderError(
                    f"reply table {entry.where}: {spec.command} +{f}: no such parameter"
                    f" (have {', '.join(p.name for p in plan.params) or 'none'})"
                )
            if f not in flags_all:
                flags_all.append(f)
            p = plan.param(f)
            before = plan.params[: plan.params.index(p)] if p else []
            if p and p.positional and any(b.positional and b.default for b in before):
                raise RenderError(
                    f"{spec.command} +{f}: a positional parameter after one with a default "
                    "cannot lose its default in an overload (make it keyword-only)"
                )
    out: list[tuple[dict[str, str], Reply]] = [({f: "false" for f in flags_all}, base)]
    # An earlier line wins when its flags are all given, so a later overload
    # must not match them all: a flag an earlier single-flag line names is
    # False here; of an earlier `a&b` line's flags, one not given here is.
    for i, (flags, reply, _) in enumerate(lines):
        for alt in flags:
            given = alt.split("&")
            modes = {g: "any" for g in flags_all}
            for before, _, _ in lines[:i]:
                for b in before:
                    need = [g for g in b.split("&") if g not in given]
                    if need and all(modes[g] != "false" for g in need):
                        modes[need[-1]] = "false"
            for g in given:
                modes[g] = "true"
            out.append((modes, reply))
    anns: list[str] = []
    for _, r in out:
        for a in _split(r.ann):
            if a not in anns:
                anns.append(a)
    if "None" in anns:
        anns = [a for a in anns if a != "None"] + ["None"]
    union = Reply(" | ".join(anns), None)
    if len(anns) == 1 or len({r.ann for _, r in out}) == 1:
        # every flag gives the same type (PING's status or bulk): overloads would
        # differ in nothing; the converters still differ (see _render_method)
        return _choice_overloads(spec, plan, [({}, union)]), union
    out.append(({f: "any" for f in flags_all}, union))
    return _choice_overloads(spec, plan, _with_needs(plan, out)), union


def _with_needs(
    plan: Plan, out: list[tuple[dict[str, str], Reply]]
) -> list[tuple[dict[str, str], Reply]]:
    """Overloads that never let a parameter go without the one it needs
    (``zrandmember(k, withscores=True)`` without ``count`` matches none)."""
    needs = {}
    for dep, head in plan.needs.items():
        hp = plan.param(head)
        if hp is None or (hp.default != "None" and not hp.is_bool):
            continue
        if hp.positional and any(
            b.positional and b.default for b in plan.params[: plan.params.index(hp)]
        ):
            continue  # it cannot lose its default in an overload
        needs[dep] = head
    result: list[tuple[dict[str, str], Reply]] = []
    for modes, reply in out:
        variants = [dict(modes)]
        for dep, head in needs.items():
            if dep not in modes:
                continue
            nxt: list[dict[str, str]] = []
            for m in variants:
                dm, hm = m[dep], m.get(head)
                if dm == "false" or hm == "true":
                    nxt.append(m)
                elif hm == "false":
                    if dm == "any":
                        nxt.append({**m, dep: "false"})
                elif dm == "true":
                    nxt.append({**m, head: "true"})
                else:  # both may or may not be given: two overloads
                    nxt += [{**m, dep: "false"}, {**m, head: "true"}]
            variants = nxt
        for m in variants:
            if all(m != r for r, _ in result):
                result.append((m, reply))
    return result


def _choice_overloads(
    spec: MethodSpec, plan: Plan, out: list[tuple[dict[str, str], Reply]]
) -> list[tuple[dict[str, str], Reply]]:
    """Each overload once per way of picking exactly one keyword of each required oneof
    (``vsim(k, ele=...)`` / ``values=...`` / ``fp32=...``): the picked one without a
    default, the others ``None``; so a call with none or two of them is a type error."""
    if not plan.choices:
        if any(p.list_or_args for p in plan.params):
            return _list_forms(plan, out)
        return out if len(out) > 1 else []
    combos: list[list[str]] = [[]]
    for group in plan.choices:
        combos = [[*c, pick] for c in combos for pick in group]
    result: list[tuple[dict[str, str], Reply]] = []
    for modes, reply in out:
        for combo in combos:
            m = dict(modes)
            for group, pick in zip(plan.choices, combo):
                for g in group:
                    if g in modes:
                        raise RenderError(
                            f"{spec.command}: {g} both selects a reply and is a required choice"
                        )
                    m[g] = "true" if g == pick else "false"
            m.update((f, "omit") for f in plan.forms)
            result.append((m, reply))
        if plan.forms:
            # redis-py's spelling of the choices (GEOSEARCH member=, radius=...): an
            # overload of its own, without the spec's alternatives
            m = dict(modes)
            m.update((g, "omit") for group in plan.choices for g in group)
            result.append((m, reply))
    return _list_forms(plan, result)


def _list_forms(
    plan: Plan, out: list[tuple[dict[str, str], Reply]]
) -> list[tuple[dict[str, str], Reply]]:
    """``*keys`` that also take one list: each overload twice, ``(*keys)`` and ``(keys, /)``."""
    many = next((p for p in plan.params if p.list_or_args), None)
    if many is None:
        return out
    return [({**m, many.name: form}, r) for m, r in out for form in ("args", "list")]


def _split(ann: str) -> list[str]:
    from .replies import _split_union

    return _split_union(ann)


def render_method(spec: MethodSpec, plan: Plan, convs: Converters, pipeline: bool) -> list[str]:
    lines = _render_method(spec, plan, convs, pipeline)
    body = "\n".join(lines)
    for p in plan.params:
        if p.name in ("len", "isinstance", "repr", "list", "object") and f"{p.name}(" in body:
            raise RenderError(f"{spec.command}: parameter {p.name} shadows a builtin the body uses")
    return lines


def _render_method(spec: MethodSpec, plan: Plan, convs: Converters, pipeline: bool) -> list[str]:
    overloads, impl_reply = _overload_plan(spec, plan)
    kw = "def" if pipeline else "async def"

    def ret(r: Reply) -> str:
        return f"Pending[{r.ann}]" if pipeline else r.ann

    out: list[str] = []
    for modes, reply in overloads:
        out.append(f"{IND}@overload")
        out += _signature(kw, spec.name, plan.params, ret(reply), modes, stub=True)
    if spec.deprecated:
        out.append(f"{IND}@deprecated({q(spec.deprecated)})")
    impl_ret = "Pending[Any]" if pipeline and overloads else ret(impl_reply)
    out += _signature(kw, spec.name, plan.params, impl_ret)
    out += _docstring(spec.doc)
    body: list[str] = []
    for c in plan.checks:
        _stmt(c, 2, body)
    mode = "READ" if spec.readonly else "WRITE"
    # the converters: (condition, converter name) in priority order, then the default
    entry = spec.reply
    choices: list[tuple[str, str | None]] = []
    if entry and entry.overloads:
        for flags, reply, _ in entry.overloads:
            cond = " or ".join(
                " and ".join(plan.param(f).given() for f in alt.split("&"))  # type: ignore[union-attr]
                for alt in flags
            )
            choices.append((cond, convs.name(reply.conv)))
    base = entry.base if entry and entry.base else UNKNOWN
    default_conv = convs.name(base.conv)
    binary: list[tuple[str, str]] = []
    if overloads and entry:
        for (cond, c), (_, reply, _) in zip(choices, entry.overloads):
            if c and _binary(reply.conv):
                binary.append((cond, c))
    if default_conv and _binary(base.conv):
        binary.append(("", default_conv))
    # (a parameter the fold statements narrowed loses its narrowing inside a starred
    # tuple display in mypy's generic classes: such methods build a list)
    static = _static(plan.items) and not plan.folds
    if static and not choices and not spec.blocking:
        argv = _tuple_src(plan.items)
    else:
        if static:
            body.append(f"{IND * 2}argv = {_tuple_src(plan.items)}")
        else:
            head: list[Item] = []
            rest = list(plan.items)
            while rest and rest[0][0] == "x":
                head.append(rest.pop(0))
            body.append(f"{IND * 2}argv: list[object] = [{', '.join(h[1] for h in head)}]")
            _emit(rest, 2, body)
        argv = "argv"
    if pipeline:
        if choices:
            conv_expr = " else ".join(f"{c} if {cond}" for cond, c in choices if c) or ""
            conv_expr = (conv_expr + f" else {default_conv}") if conv_expr else str(default_conv)
            if all(c == default_conv for _, c in choices):
                conv_expr = str(default_conv)
        else:
            conv_expr = str(default_conv)
        body.append(f"{IND * 2}return self._call({argv}, {mode}, {conv_expr})")
        return out + _guarded(spec, body, [])
    call = f"self._call({argv}, {mode})"
    if spec.blocking:
        pname, unit = spec.blocking
        p = plan.param(pname) if pname else None
        if pname and p is None:
            raise RenderError(f"{spec.command}: blocking parameter {pname!r} not found")
        if p is None:
            secs = "None"
        elif unit == "ms":
            secs = (
                f"_e.millis({p.name}) / 1000" if p.ann.startswith("Millis") else f"{p.name} / 1000"
            )
        else:
            secs = p.name
        bcall = f"self._call_blocking({argv}, {secs})"
        if p is not None and p.default == "None":
            body.append(f"{IND * 2}if {p.name} is None:")
            body.append(f"{IND * 3}_r = await {call}")
            body.append(f"{IND * 2}else:")
            body.append(f"{IND * 3}_r = await {bcall}")
        else:
            body.append(f"{IND * 2}_r = await {bcall}")
        value = "_r"
        for cond, c in choices:
            body.append(f"{IND * 2}if {cond}:")
            body.append(f"{IND * 3}return {c}(_r)" if c else f"{IND * 3}return _r")
        body.append(
            f"{IND * 2}return {default_conv}({value})" if default_conv else f"{IND * 2}return _r"
        )
        return out + _guarded(spec, body, binary)
    # A choice that converts as the default does is needed only before one that does not
    # (the first matching choice wins: `rev` given must not fall through to `withscores`).
    while choices and choices[-1][1] == default_conv:
        choices.pop()
    for cond, c in choices:
        body.append(f"{IND * 2}if {cond}:")
        body.append(f"{IND * 3}return {c}(await {call})" if c else f"{IND * 3}return await {call}")
    body.append(
        f"{IND * 2}return {default_conv}(await {call})"
        if default_conv
        else f"{IND * 2}return await {call}"
    )
    return out + _guarded(spec, body, binary)


def used_names(src: str, names: Any) -> list[str]:
    return sorted(n for n in names if re.search(rf"(?<![\w.]){re.escape(n)}\b", src))
