"""``python -m codegen generate`` / ``check``: commands.json -> src/redspec/_generated/.

Output is byte-deterministic: the same spec, overlay and reply table always
give the same files. ``check`` regenerates in memory and diffs.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import jinja2

from . import routing as routing_model
from .docstrings import deprecation, docstring
from .forms import project_overlay, variant_plan
from .known import load_known, plans_of, render_known, widen
from .nodes import Node, Overlay, to_nodes
from .render import Converters, MethodSpec, RenderError, render_method, used_names
from .replies import Entry, Reply, load_replies
from .signatures import Model, Plan, PlanError, plan_command, pyname, q
from .spec import Command, Spec

TEMPLATES = Path(__file__).parent / "templates"

# Commands served by dedicated APIs (connection state, pub/sub, transactions).
EXEMPT = frozenset(
    {
        "SUBSCRIBE",
        "PSUBSCRIBE",
        "SSUBSCRIBE",
        "UNSUBSCRIBE",
        "PUNSUBSCRIBE",
        "SUNSUBSCRIBE",
        "MULTI",
        "EXEC",
        "DISCARD",
        "WATCH",
        "UNWATCH",
        "MONITOR",
        "SYNC",
        "PSYNC",
        "REPLCONF",
        "HELLO",
        "AUTH",
        "SELECT",
        "QUIT",
        "RESET",
        "CLIENT REPLY",
        "CLIENT TRACKING",
        "CLIENT CACHING",
        "ASKING",
        "READONLY",
        "READWRITE",
    }
)

# Arity vs spec minimum word count: disagreements known and explained (SPEC-NOTES §8).
KNOWN_ARITY = frozenset(
    {
        "CLIENT KILL",
        "QUIT",
        "REPLCONF",
        "DEBUG",
        "COMMAND GETKEYS",
        "COMMAND GETKEYSANDFLAGS",
        "GEOHASH",
        "GEOPOS",
        "PFMERGE",
        "VADD",
        "VCARD",
        "VDIM",
        "VEMB",
        "VGETATTR",
        "VINFO",
        "VISMEMBER",
        "VLINKS",
        "VRANDMEMBER",
        "VREM",
        "VSETATTR",
        "VSIM",
    }
)

_TYPE_NAMES = (
    "KeyT",
    "ValueT",
    "PatternT",
    "StreamIdT",
    "RangeT",
    "Seconds",
    "Millis",
    "UnixSeconds",
    "UnixMillis",
    "RespValue",
    "StreamEntry",
    "GeoMatch",
    "StreamInfo",
    "StreamGroupInfo",
    "StreamConsumerInfo",
    "PendingSummary",
    "PendingEntry",
)


class GenerateError(Exception):
    pass


@dataclass
class Result:
    files: dict[str, str] = field(default_factory=dict)
    errors: list[str] = field(default_factory=list)
    missing_replies: list[str] = field(default_factory=list)
    arity: list[str] = field(default_factory=list)
    unused: list[str] = field(default_factory=list)
    undescribed: list[str] = field(default_factory=list)  # no argument tree: *args methods
    new_arguments: list[str] = field(default_factory=list)  # parameters the replies predate
    known_arguments: str = ""  # codegen/known_arguments.txt for this spec
    routing: list[str] = field(default_factory=list)  # routing the spec does not define


# The servers the reply table and the overlay were written for. Against a spec
# that has all of them, an entry naming no command is a typo and an error.
# A user's spec dumped from fewer servers (only Valkey, say) lacks some of the
# commands the data describes; those entries are then reported, not fatal.
PINNED_SERVERS = frozenset({"redis-8.2.3", "valkey-8.1.8", "redis-7.0.15"})


def method_name(cmd: Command, ov: Overlay) -> str:
    return ov.method_name(cmd.name) or pyname(cmd.name)


def has_method(cmd: Command) -> bool:
    if cmd.name in EXEMPT:
        return False
    if cmd.is_container:
        return cmd.arity in (1, -1)  # callable bare, like COMMAND
    return True


def group_of(cmd: Command, ov: Overlay) -> str:
    g = ov.group(cmd.name) or (cmd.module if cmd.group == "module" and cmd.module else cmd.group)
    return pyname(g or "generic")


def _variant_entry(entry: Entry, required: list[str]) -> Entry:
    """The reply entry of a variant: the reply of the first line its required parameters
    select (XPENDING +start for xpending_range); the lines before it still select theirs."""
    for i, (flags, reply, src) in enumerate(entry.overloads):
        if any(set(alt.split("&")) <= set(required) for alt in flags):
            note = entry.notes.get("|".join(flags), "")
            return Entry(
                entry.command, reply, src, entry.overloads[:i], entry.where, note, entry.notes
            )
    return entry


def min_words(nodes: Iterable[Node]) -> int:
    total = 0
    for n in nodes:
        if n.optional:
            continue
        base = 1 if n.token else 0
        if n.type == "oneof":
            total += base + min((min_words([c]) for c in n.children if True), default=0)
        elif n.type == "block":
            total += base + min_words(n.children)
        elif n.type == "pure-token":
            total += 1
        else:
            total += base + 1
    return total


def _alt_required(n: Node) -> Node:
    return n


def check_arity(cmd: Command) -> str | None:
    words = len(cmd.name.split(" ")) + min_words(to_nodes(cmd.arguments))
    a = cmd.arity
    if (a > 0 and words != a) or (a < 0 and words != -a):
        return f"{cmd.name}: arity {a}, spec minimum {words} words"
    return None


def _model_src(m: Model) -> dict[str, Any]:
    fields = []
    for f in m.fields:
        ann = f.ann if f.default is None or f.ann.endswith("None") else f"{f.ann} | None"
        if f.default == "None":
            fields.append(f"{f.name}: {ann} = None")
        elif f.default is not None:
            fields.append(f"{f.name}: {f.ann} = {f.default}")
        else:
            fields.append(f"{f.name}: {f.ann}")
    return {"name": m.name, "doc": m.doc.replace('"', "'"), "fields": fields}


def _literal(v: Any) -> str:
    if isinstance(v, Mapping):
        return "{" + ", ".join(f"{_literal(k)}: {_literal(x)}" for k, x in v.items()) + "}"
    if isinstance(v, (list, tuple)):
        inner = ", ".join(_literal(x) for x in v)
        return f"({inner},)" if len(v) == 1 else f"({inner})"
    if isinstance(v, str):
        return q(v)
    return repr(v)


def plan_methods(
    spec: Spec,
    commands: Iterable[Command],
    ov: Overlay,
    replies: Mapping[str, Entry],
    res: Result,
    unmatched: list[str],
    taken_names: Mapping[str, str] | None = None,
    known: Mapping[str, frozenset[str]] | None = None,
) -> tuple[dict[str, list[tuple[Command, Plan, MethodSpec]]], dict[str, Model]]:
    """Plan the method of each of ``commands`` that gets one: by group, with the dataclasses
    they need. Problems go to ``res`` (and ``unmatched``, per the strictness);
    ``taken_names``: method names already in use (method -> what uses it); ``known``: the
    parameters the reply table was written against (codegen/known.py)."""
    groups: dict[str, list[tuple[Command, Plan, MethodSpec]]] = {}
    models: dict[str, Model] = {}
    taken: dict[str, str] = dict(taken_names or {})
    for cmd in sorted(commands, key=lambda c: c.name):
        if not has_method(cmd):
            continue
        try:
            plan = plan_command(cmd, ov)
        except PlanError as e:
            res.errors.append(str(e))
            continue
        if plan.undescribed:
            res.undescribed.append(cmd.name)
        else:
            bad = check_arity(cmd)
            if bad and cmd.name not in KNOWN_ARITY:
                res.arity.append(bad)
        for m in plan.models:
            if m.name in models and _model_src(models[m.name]) != _model_src(m):
                res.errors.append(f"{cmd.name}: model {m.name} defined twice, differently")
            models.setdefault(m.name, m)
        name = method_name(cmd, ov)
        if name in taken:
            res.errors.append(f"{cmd.name}: method name {name} taken by {taken[name]}")
            continue
        taken[name] = cmd.name
        entry = replies.get(cmd.name)
        if entry is None:
            res.missing_replies.append(cmd.name)
        else:
            entry = fit_entry(entry, plan, unmatched)
            if known is not None and cmd.name in known:
                entry, fresh = widen(entry, plan, known[cmd.name])
                if fresh:
                    res.new_arguments.append(f"{cmd.name}: {', '.join(fresh)}")
        blocking = None
        if cmd.is_blocking:
            blocking = ov.blocking(cmd.name)
            if blocking and blocking[0] and plan.param(blocking[0]) is None:
                unmatched.append(f"overlay: BLOCKING[{cmd.name!r}] names no parameter")
                blocking = None
            blocking = blocking or (("timeout", "s") if plan.param("timeout") else ("", "s"))
        ms = MethodSpec(
            name=name,
            command=cmd.name,
            readonly=cmd.is_readonly,
            doc=docstring(
                cmd,
                plan,
                spec,
                ov.arguments(cmd.name) is not None and not cmd.arguments,
                ov.summary(cmd.name),
                entry,
            ),
            deprecated=deprecation(cmd) if cmd.is_deprecated else None,
            blocking=blocking,
            reply=entry,
        )
        groups.setdefault(group_of(cmd, ov), []).append((cmd, plan, ms))
    return groups, models


def plan_variants(
    spec: Spec,
    ov: Overlay,
    replies: Mapping[str, Entry],
    res: Result,
    unmatched: list[str],
    groups: dict[str, list[tuple[Command, Plan, MethodSpec]]],
) -> None:
    """The second methods of commands (codegen/compat.py's VARIANTS: ``xpending_range``),
    added to ``groups`` after the command's own."""
    by_name = {c.name: c for c in spec.all_commands()}
    taken = {ms.name: ms.command for group in groups.values() for _, _, ms in group}
    for vname, variant in sorted((ov.data.get("VARIANTS") or {}).items()):
        cmd = by_name.get(variant["command"])
        if cmd is None:
            unmatched.append(f"compat: VARIANTS[{vname!r}] names no command of the spec")
            continue
        try:
            plan = variant_plan(plan_command(cmd, ov), vname, variant["required"])
        except PlanError as e:
            res.errors.append(str(e))
            continue
        if vname in taken:
            res.errors.append(f"compat: VARIANTS[{vname!r}]: method name taken by {taken[vname]}")
            continue
        taken[vname] = cmd.name
        entry = replies.get(cmd.name)
        if entry is not None:
            entry = _variant_entry(entry, variant["required"])
        doc = docstring(cmd, plan, spec, False, ov.summary(cmd.name), entry)
        doc[1:1] = ["", f"The {method_name(cmd, ov)}() form with {', '.join(variant['required'])}."]
        ms = MethodSpec(
            name=vname,
            command=cmd.name,
            readonly=cmd.is_readonly,
            doc=doc,
            deprecated=deprecation(cmd) if cmd.is_deprecated else None,
            blocking=None,
            reply=entry,
        )
        groups.setdefault(group_of(cmd, ov), []).append((cmd, plan, ms))


def build(
    spec: Spec,
    replies: dict[str, Entry] | None = None,
    overlay: Mapping[str, Any] | None = None,
    *,
    strict: bool = False,
    known: Mapping[str, frozenset[str]] | None = None,
) -> Result:
    """Generate every module from ``spec``.

    ``strict``: an overlay or reply-table entry that names a command, parameter or ``+flag``
    the spec lacks is an error (CI, against the pinned servers); otherwise it is skipped and
    listed in ``Result.unused`` (a user's spec from one server, or another server).
    """
    res = Result()
    ov = Overlay(overlay if overlay is not None else project_overlay())
    replies = load_replies() if replies is None else replies
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(str(TEMPLATES)),
        keep_trailing_newline=True,
        trim_blocks=True,
        autoescape=False,
    )
    header = (
        f"# DO NOT EDIT: generated by `python -m codegen generate` from commands.json\n"
        f"# (sha256 {spec.sha256})."
    )
    names = {c.name for c in spec.all_commands()}
    unmatched = res.errors if strict else res.unused
    for cmd in sorted(ov.commands()):
        if cmd not in names:
            unmatched.append(f"overlay: {cmd} matches no command of the spec")
    for cmd in sorted(replies):
        if cmd not in names:
            unmatched.append(f"reply table {replies[cmd].where}: {cmd} exists on no server")

    if known is None and not strict:
        known = load_known()
    groups, models = plan_methods(
        spec, spec.all_commands(), ov, replies, res, unmatched, known=None if strict else known
    )
    res.known_arguments = render_known(plans_of(groups))
    plan_variants(spec, ov, replies, res, unmatched, groups)
    for u in ov.unused(names):
        unmatched.append(f"overlay: {u} matches no parameter")

    for pipeline in (False, True):
        pkg = "pipeline" if pipeline else "client"
        mixins = []
        for g in sorted(groups):
            convs = Converters()
            methods = []
            for _cmd, plan, ms in groups[g]:
                try:
                    methods.append("\n".join(render_method(ms, plan, convs, pipeline)))
                except RenderError as e:
                    if not pipeline:
                        res.errors.append(str(e))
            cls = "".join(p.capitalize() for p in g.split("_")) + (
                "PipelineCommands" if pipeline else "Commands"
            )
            text = "\n".join(methods) + "\n" + "\n".join(convs.lines())
            imports = _imports(text, pipeline, list(models), convs.functions)
            src = env.get_template("group.py.jinja").render(
                header=header,
                title=f"{g} commands ({pkg}).",
                imports="\n".join(imports),
                converters="\n".join(convs.lines()),
                cls=cls,
                base="PipelineBase" if pipeline else "ClientBase",
                methods=methods,
            )
            res.files[f"{pkg}/{g}.py"] = _tidy(src)
            mixins.append((g, cls))
        res.files[f"{pkg}/__init__.py"] = _tidy(
            env.get_template("init.py.jinja").render(
                header=header,
                title=f"All generated command mixins ({pkg}).",
                mixins=mixins,
                name="PipelineCommands" if pipeline else "Commands",
            )
        )
    res.files["models.py"] = _tidy(
        env.get_template("models.py.jinja").render(
            header=header, models=[_model_src(models[k]) for k in sorted(models)]
        )
    )
    entries = []
    for cmd in sorted(spec.all_commands(), key=lambda c: c.name):
        meta = {
            "name": cmd.name,
            "method": method_name(cmd, ov) if has_method(cmd) else None,
            "group": group_of(cmd, ov),
            "arity": cmd.arity,
            "flags": tuple(sorted(cmd.flags)),
            "key_specs": tuple(
                {
                    "begin_search": _plain(k.begin_search),
                    "find_keys": _plain(k.find_keys),
                    "flags": tuple(k.flags),
                }
                for k in cmd.key_specs
            ),
            "tips": tuple(cmd.tips),
            "available_in": tuple(cmd.available_in),
        }
        entries.append(f"    {q(cmd.name)}: {{")
        entries += [f"        {q(k)}: {_literal(v)}," for k, v in meta.items()]
        entries.append("    },")
    res.files["meta.py"] = _tidy(
        env.get_template("meta.py.jinja").render(
            header=header, servers=_literal(tuple(s.id for s in spec.servers)), entries=entries
        )
    )
    _add_routing(res, spec, env, header)
    res.files["__init__.py"] = (
        header + '\n"""Code generated from the spec: never edit by hand."""\n'
    )
    for rel, text in sorted(res.files.items()):
        try:
            compile(text, rel, "exec")
        except SyntaxError as e:
            res.errors.append(f"generated {rel} does not compile: {e}")
    return res


def fit_entry(entry: Entry, plan: Plan, unmatched: list[str]) -> Entry:
    """``entry`` without the ``+flag`` alternatives that name no parameter of ``plan``
    (a flag this spec's servers lack, like Valkey's ZSCAN NOSCORES on Redis); each one
    dropped is listed in ``unmatched``."""
    kept: list[tuple[tuple[str, ...], Reply, str]] = []
    for flags, reply, src in entry.overloads:
        alts = []
        for alt in flags:
            missing = [f for f in alt.split("&") if plan.param(f) is None]
            if missing:
                unmatched.append(
                    f"reply table {entry.where}: {entry.command} +{alt}: no such parameter"
                    f" (have {', '.join(p.name for p in plan.params) or 'none'})"
                )
            else:
                alts.append(alt)
        if alts:
            kept.append((tuple(alts), reply, src))
    if len(kept) == len(entry.overloads) and all(
        k[0] == o[0] for k, o in zip(kept, entry.overloads)
    ):
        return entry
    return replace(entry, overloads=kept)


def _add_routing(res: Result, spec: Spec, env: jinja2.Environment, header: str) -> None:
    """Cluster routing (codegen/routing.py): key positions and policies per command."""
    model = routing_model.build_model(spec)
    res.files["routing.py"] = _tidy(
        env.get_template("routing.py.jinja").render(
            header=header, **routing_model.render_context(model)
        )
    )
    res.routing = [f"{k}: {v}" for k, v in sorted(model.underived.items())]
    res.routing += model.disagreements


def _plain(v: Any) -> Any:
    if isinstance(v, Mapping):
        return {str(k): _plain(x) for k, x in sorted(v.items())}
    if isinstance(v, (list, tuple)):
        return tuple(_plain(x) for x in v)
    return v


def _imports(
    text: str, pipeline: bool, model_names: list[str], converters: set[str]
) -> list[str]:
    out: list[str] = []
    abc = used_names(text, ("Mapping", "Sequence"))
    if abc:
        out.append(_from("collections.abc", abc))
    if used_names(text, ("datetime",)):
        out.append("from datetime import datetime")
    typ = used_names(text, ("Literal", "overload"))
    typ = sorted(
        ["AnyStr", *typ]
        + (["TYPE_CHECKING"] if pipeline or "Unpack[" in text or "@deprecated(" in text else [])
        + (["Any"] if "Pending[Any]" in text else []),
        key=_isort_key,
    )
    out.append(_from("typing", typ))
    out.append("")
    # typing_extensions only for the type checker: importing it costs ~10 ms.
    ext = ["Unpack"] if "Unpack[" in text else []
    if "@deprecated(" in text:
        ext.append("deprecated")
    if ext:
        out.append("if TYPE_CHECKING:")
        out.append("    " + _from("typing_extensions", ext))
        if "deprecated" in ext:
            out.append("else:")
            out.append("    from redspec._deprecation import deprecated")
        out.append("")
    if "_c." in text:
        out.append("from redspec import _compat as _c")
    if "_e." in text:
        out.append("from redspec import _encode as _e")
    base = "PipelineBase" if pipeline else "ClientBase"
    modes = used_names(text, ("READ", "WRITE"))
    out.append(_from("redspec._base", [*modes, base]))
    models = used_names(text, model_names)
    if models:
        out.append(_from("redspec._generated.models", models))
    if converters:
        out.append(_from("redspec._replies", sorted(converters, key=_isort_key)))
    if "DataError" in text:
        out.append("from redspec.errors import DataError")
    types = used_names(text, _TYPE_NAMES)
    if types:
        out.append(_from("redspec.types", types))
    if pipeline:
        out += ["", "if TYPE_CHECKING:", "    from redspec.pipeline import Pending"]
    return out


def _from(module: str, names: list[str]) -> str:
    one = f"from {module} import {', '.join(names)}"
    if len(one) <= 100:
        return one
    return f"from {module} import (\n" + "".join(f"    {n},\n" for n in names) + ")"


def _isort_key(name: str) -> tuple[int, str]:
    """isort's order-by-type: CONSTANTS, then Classes, then functions."""
    kind = 0 if name.isupper() else 1 if name[:1].isupper() else 2
    return kind, name


def _tidy(src: str) -> str:
    lines = [ln.rstrip() for ln in src.splitlines()]
    out: list[str] = []
    blank = 0
    for ln in lines:
        if not ln:
            blank += 1
            if blank > 2:
                continue
        else:
            blank = 0
        out.append(ln)
    while out and not out[-1]:
        out.pop()
    return "\n".join(out) + "\n"
