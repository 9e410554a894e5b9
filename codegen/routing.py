"""Cluster routing compiled from the spec: key specs -> key-finding code, tips -> policies.

For every command (and subcommand) the generator emits, into
``src/redspec/_generated/routing.py``, how to find its keys in an argv and how a cluster
client should send it. Nothing there interprets key specs per call: each key spec becomes a
few Python statements, and the statements of a command form one small function, shared by
every command with the same shape (``_keys_mget`` serves DEL, EXISTS, MGET, TOUCH...). A
command whose one key always sits at the same index gets no function at all: the runtime
reads ``argv[first_key]``.

Key specs (COMMAND INFO) compile as the server reads them (``getKeysUsingKeySpecs``):

- begin_search ``index`` (a fixed position) or ``keyword`` (search a word forward from
  ``startfrom``, or backward from the end when it is negative; the keys start after it);
- find_keys ``range`` (``lastkey`` >= 0: relative to the first key; < 0: from the end of
  argv; ``limit``: a fraction of the remaining words, XREAD STREAMS) or ``keynum`` (a count
  word, then that many keys: EVAL, ZUNIONSTORE, LMPOP...).

Two cases use the argument tree instead:

- A key spec flagged ``incomplete`` or of type ``unknown`` (MIGRATE KEYS, SORT STORE): the
  arguments carrying its ``key_spec_index`` are found by a forward scan of the command's
  optional tokens, each skipping the words it owns (SORT: BY 1, LIMIT 2, GET 1, STORE
  <key>). Only arguments of type ``key`` are keys: SORT's BY/GET patterns name keys derived
  from stored data, which no client (nor COMMAND GETKEYS) can know; those specs are listed
  as not derived.
- A key argument that is one alternative of a oneof whose other alternative is a pure token
  (MIGRATE's ``key | ""``): the word equal to that token is not a key.

Where servers disagree, the spec's primary entry wins: the newest Redis, then Valkey, then
older Redis (the order of ``servers`` in commands.json); the other servers' key specs are
compiled too and any difference in the resulting key positions is reported. Tips likewise
(Redis 7.0's ``multi_shard`` on MSETNX was dropped by 8.x, rightly: MSETNX cannot be split
without losing its all-or-nothing meaning).
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from .signatures import q
from .spec import Argument, Command, KeySpec, Spec

REQUEST_POLICIES = ("all_nodes", "all_shards", "multi_shard", "special")
RESPONSE_POLICIES = (
    "one_succeeded",
    "all_succeeded",
    "agg_logical_and",
    "agg_logical_or",
    "agg_min",
    "agg_max",
    "agg_sum",
    "special",
)


class Underivable(Exception):
    """A key spec this compiler cannot turn into code."""


@dataclass
class CompiledSpec:
    lines: list[str]  # statements appending to `keys`; `n` is len(argv)
    fixed: int | None = None  # the spec is exactly one key at this index
    tables: dict[str, str] = field(default_factory=dict)  # module constants it uses
    shape: str = ""


@dataclass
class Route:
    name: str
    request: str
    response: str
    readonly: bool
    blocking: bool
    first_key: int
    finder: str | None  # generated function name
    step: int
    notes: list[str] = field(default_factory=list)


@dataclass
class RoutingModel:
    routes: list[Route]
    functions: list[tuple[str, list[str], str, list[str]]]  # name, body, shape, commands
    tables: dict[str, str]
    containers: list[str]
    underived: dict[str, str]
    disagreements: list[str]


def _ident(name: str) -> str:
    return re.sub(r"[^0-9a-zA-Z]+", "_", name).lower()


def _plus(base: str, k: int) -> str:
    if k == 0:
        return base
    return f"{base} + {k}" if k > 0 else f"{base} - {-k}"


def _words(arg: Argument) -> int | None:
    """How many argv words one occurrence of ``arg`` takes (its token included), if fixed."""
    head = 1 if arg.token else 0
    if arg.type == "pure-token":
        return 1
    if arg.type == "oneof":
        sizes = {_words(c) for c in arg.arguments}
        if len(sizes) != 1 or None in sizes:
            return None
        (size,) = sizes
        return None if size is None else head + size
    if arg.type == "block":
        total = head
        for c in arg.arguments:
            if c.optional or c.multiple:
                return None
            w = _words(c)
            if w is None:
                return None
            total += w
        return total
    return head + 1


def _scan_table(cmd: Command, spec_index: int) -> tuple[int, dict[str, tuple[int, bool]]]:
    """A forward token scan finding the key arguments of one key spec.

    Returns the index where the optional tokens start and ``{TOKEN: (words after the
    token, -1 for the rest of argv; whether those words are keys)}``.
    """
    start = len(cmd.name.split(" "))
    args = list(cmd.arguments)
    while args and not args[0].optional:
        w = _words(args[0])
        if w is None or args[0].multiple:
            raise Underivable(f"required argument {args[0].name} has no fixed size")
        start += w
        args.pop(0)
    table: dict[str, tuple[int, bool]] = {}
    found = False

    def add(a: Argument) -> None:
        nonlocal found
        if a.type == "oneof" and not a.token:
            for c in a.arguments:
                add(c)
            return
        if not a.token:
            raise Underivable(f"optional argument {a.name} has no token to find it by")
        is_key = a.key_spec_index == spec_index and a.type == "key"
        found = found or is_key
        if a.multiple and not a.multiple_token:
            if a is not args[-1] and a not in args[-1].arguments:
                raise Underivable(f"{a.name} takes several words but is not last")
            table[a.token.upper()] = (-1, is_key)
            return
        w = _words(a)
        if w is None:
            raise Underivable(f"{a.name} has no fixed size")
        table[a.token.upper()] = (w - 1, is_key)

    for a in args:
        if not a.optional:
            raise Underivable(f"required argument {a.name} after optional ones")
        add(a)
    if not found:
        raise Underivable(f"no argument of type key carries key spec {spec_index}")
    return start, table


def _token_alternatives(cmd: Command, spec_index: int) -> tuple[str, ...]:
    """Pure tokens that may stand where the key of ``spec_index`` would (MIGRATE's "")."""
    for a in cmd.arguments:
        for node in a.walk():
            if node.type != "oneof":
                continue
            if any(c.key_spec_index == spec_index and c.type == "key" for c in node.arguments):
                return tuple(
                    (c.token or "").upper() for c in node.arguments if c.type == "pure-token"
                )
    return ()


def compile_spec(cmd: Command, i: int, ks: KeySpec) -> CompiledSpec:
    bs_type = ks.begin_search.get("type")
    fk_type = ks.find_keys.get("type")
    bs = dict(ks.begin_search.get("spec") or {})
    fk = dict(ks.find_keys.get("spec") or {})
    if bs_type == "unknown" or fk_type == "unknown" or "incomplete" in ks.flags:
        start, table = _scan_table(cmd, i)
        const = f"_SCAN_{_ident(cmd.name).upper()}_{i}"
        items = "".join(f"    {q(t)}: ({w}, {k}),\n" for t, (w, k) in table.items())
        return CompiledSpec(
            lines=[f"keys.extend(_scan(argv, {start}, {const}))"],
            tables={const: "{\n" + items + "}"},
            shape=f"token scan from {start}",
        )
    lines: list[str] = []
    indent = ""
    if bs_type == "index":
        first: str = str(int(bs["index"]))
        shape = f"index {first}"
    elif bs_type == "keyword":
        kw, startfrom = str(bs["keyword"]).upper(), int(bs["startfrom"])
        lines.append(f"first = _after_keyword(argv, {q(kw)}, {startfrom})")
        lines.append("if first:")
        indent = "    "
        first = "first"
        shape = f"keyword {kw} from {startfrom}"
    else:
        raise Underivable(f"begin_search {bs_type!r}")
    if fk_type == "range":
        last, step, limit = int(fk["lastkey"]), int(fk["keystep"]), int(fk["limit"])
        if last >= 0 and first.isdigit():
            pos = int(first)
            if last == 0:
                alts = _token_alternatives(cmd, i)
                if alts:
                    words = ", ".join(q(a) for a in alts)
                    test = f"n > {pos} and _word(argv[{pos}]) not in ({words},)"
                    lines.append(f"if {test}:")
                    lines.append(f"    keys.append({pos})")
                    return CompiledSpec(lines, shape=f"{shape}, unless one of {words}")
                lines.append(f"if n > {pos}:")
                lines.append(f"    keys.append({pos})")
                return CompiledSpec(lines, fixed=pos, shape=shape)
            end = f"min({pos + last + 1}, n)"
        elif last >= 0:
            end = f"min({_plus(first, last + 1)}, n)"
        elif limit == 0:
            end = _plus("n", last + 1)
        elif last == -1:
            end = f"{first} + (n - {first}) // {limit}"
        else:
            raise Underivable(f"range with lastkey {last} and limit {limit}")
        lines.append(f"{indent}keys.extend(range({first}, {end}, {step}))")
        shape += f", range to {last} step {step}" + (f" limit {limit}" if limit else "")
    elif fk_type == "keynum":
        idx, fkey, step = int(fk["keynumidx"]), int(fk["firstkey"]), int(fk["keystep"])
        lines.append(f"{indent}num = _count(argv, {_plus(first, idx)})")
        begin = _plus(first, fkey)
        if first.isdigit():
            begin = str(int(first) + fkey)
        lines.append(f"{indent}keys.extend(range({begin}, min({begin} + num, n), {step}))")
        shape += f", keynum at +{idx}, keys from +{fkey} step {step}"
    else:
        raise Underivable(f"find_keys {fk_type!r}")
    return CompiledSpec(lines, shape=shape)


def _policies(cmd: Command) -> tuple[str | None, str | None]:
    req = resp = None
    for tip in cmd.tips:
        kind, _, value = tip.partition(":")
        if kind == "request_policy":
            req = value
        elif kind == "response_policy":
            resp = value
    return req, resp


def _compile_keys(cmd: Command) -> tuple[list[CompiledSpec], list[str]]:
    compiled: list[CompiledSpec] = []
    notes: list[str] = []
    for i, ks in enumerate(cmd.key_specs):
        try:
            compiled.append(compile_spec(cmd, i, ks))
        except Underivable as e:
            why = (ks.notes or str(e)).rstrip(".")
            notes.append(f"key spec {i} not derived ({why})")
    return compiled, notes


def _args_of_primary(cmd: Command) -> Command:
    if not cmd.available_in:
        return cmd
    try:
        return cmd.for_server(cmd.available_in[0])
    except KeyError:
        return cmd


def build_model(spec: Spec) -> RoutingModel:
    routes: list[Route] = []
    bodies: dict[tuple[str, ...], tuple[str, str, list[str]]] = {}
    tables: dict[str, str] = {}
    underived: dict[str, str] = {}
    disagreements: list[str] = []
    containers = sorted(c.name for c in spec.commands if c.is_container)
    for cmd in sorted(spec.all_commands(), key=lambda c: c.name):
        primary = _args_of_primary(cmd)
        compiled, notes = _compile_keys(primary)
        for sid in cmd.available_in[1:]:
            other, _ = _compile_keys(cmd.for_server(sid))
            if [c.lines for c in other] != [c.lines for c in compiled]:
                disagreements.append(
                    f"{cmd.name}: key positions on {sid} differ from {cmd.available_in[0]}'s;"
                    f" using {cmd.available_in[0]}'s"
                )
        req, resp = _policies(cmd)
        unknown = [
            f"unknown {kind} {v}"
            for kind, v, known in (
                ("request_policy", req, REQUEST_POLICIES),
                ("response_policy", resp, RESPONSE_POLICIES),
            )
            if v is not None and v not in known
        ]
        notes += unknown
        if req not in REQUEST_POLICIES:
            req = "keyed" if cmd.key_specs else "keyless"
        if resp not in RESPONSE_POLICIES:
            resp = "default"
        first_key = 0
        finder = None
        step = 0
        if len(compiled) == 1 and compiled[0].fixed is not None:
            first_key = compiled[0].fixed
        elif compiled:
            body = tuple(line for c in compiled for line in c.lines)
            shape = "; ".join(c.shape for c in compiled)
            if body not in bodies:
                bodies[body] = (f"_keys_{_ident(cmd.name)}", shape, [])
            finder = bodies[body][0]
            bodies[body][2].append(cmd.name)
            for c in compiled:
                tables.update(c.tables)
        if req == "multi_shard":
            step = _split_step(cmd)
            if not step:
                notes.append("request_policy:multi_shard but its keys cannot be split per slot")
                req = "keyed"
        if req == "special":
            notes.append("request_policy:special (the cluster client decides where it goes)")
        if resp == "special":
            notes.append("response_policy:special (aggregate returns one successful reply)")
        if notes:
            underived[cmd.name] = "; ".join(notes)
        routes.append(
            Route(
                name=cmd.name,
                request=req,
                response=resp,
                readonly=cmd.is_readonly,
                blocking=cmd.is_blocking,
                first_key=first_key,
                finder=finder,
                step=step,
                notes=notes,
            )
        )
    functions = [(name, list(body), shape, cmds) for body, (name, shape, cmds) in bodies.items()]
    functions.sort(key=lambda f: f[0])
    return RoutingModel(routes, functions, tables, containers, underived, disagreements)


def _split_step(cmd: Command) -> int:
    """Words per key when a multi_shard command is split per slot; 0 if it cannot be."""
    if len(cmd.key_specs) != 1:
        return 0
    ks = cmd.key_specs[0]
    if ks.begin_search.get("type") != "index" or ks.find_keys.get("type") != "range":
        return 0
    fk = ks.find_keys.get("spec") or {}
    if int(fk.get("lastkey", 0)) >= 0 or int(fk.get("limit", 0)) != 0:
        return 0
    return int(fk.get("keystep", 1))


def _function_src(name: str, body: Iterable[str], shape: str, cmds: list[str]) -> str:
    used = ", ".join(cmds)
    lines = [
        f"def {name}(argv: Sequence[object]) -> list[int]:",
        f'    """{shape}: {used}."""' if len(shape) + len(used) < 80 else f'    """{shape}.',
    ]
    if len(shape) + len(used) >= 80:
        lines += ["", f"    Used by {used}.", '    """']
    lines += ["    n = len(argv)", "    keys: list[int] = []"]
    lines += [f"    {ln}" for ln in body]
    lines.append("    return keys")
    return "\n".join(lines)


def render_context(model: RoutingModel) -> dict[str, Any]:
    entries = []
    for r in model.routes:
        finder = r.finder or "None"
        entries.append(
            f"    {q(r.name)}: ({q(r.request)}, {q(r.response)}, {r.readonly}, {r.blocking},"
            f" {r.first_key}, {finder}, {r.step}),"
        )
    return {
        "functions": [_function_src(*f) for f in model.functions],
        "tables": [f"{k}: Final[ScanTable] = {v}" for k, v in sorted(model.tables.items())],
        "entries": entries,
        "containers": [f"    {q(c)}," for c in model.containers],
        "underived": [f"    {q(k)}: {q(v)}," for k, v in sorted(model.underived.items())],
    }
