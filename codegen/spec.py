"""The command spec (``commands.json``) as typed, frozen dataclasses.

File shape (written by ``codegen/dump.py``; keys whose value would be null, ``[]`` or ``{}`` are
omitted and default here)::

    {"servers": [{"id": "redis-8.2.3", "vendor": "redis", "version": "8.2.3"}, ...],
     "commands": {"GET": {<command>}, "CLIENT": {..., "subcommands": {"CLIENT KILL": {...}}}}}

A command carries the COMMAND DOCS fields (summary, since, group, complexity, history, doc_flags,
deprecated_since, replaced_by, module, arguments) and the COMMAND INFO fields (arity, flags,
acl_categories, tips, key_specs) of the highest-priority server that has it, plus
``available_in`` (server ids, in ``servers`` order) and ``since_by_server`` (servers whose
``since`` differs; versions are vendor relative, never compare them across vendors).

Argument trees are the union over the servers; every node has its own ``available_in``, and
``flags_by_server`` / ``type_by_server`` where a server's node differs. A command's
``by_server`` holds the info/doc fields that differ on a lower-priority server, and
``arguments_by_server`` a server's own tree where it was restructured (so
``Command.for_server(id)`` gives back exactly what that server serves, with the union's names).
``servers`` is in priority order: the newest Redis, then Valkey (newest first), then older Redis.
The merge rules are documented in ``codegen/merge.py``.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from types import MappingProxyType
from typing import Any


def _empty_map() -> Mapping[Any, Any]:
    return MappingProxyType({})


@dataclass(frozen=True)
class Server:
    id: str
    vendor: str
    version: str


@dataclass(frozen=True)
class Argument:
    name: str
    type: str  # key|string|integer|double|pattern|unix-time|pure-token|oneof|block
    token: str | None
    display_text: str | None
    optional: bool
    multiple: bool
    multiple_token: bool
    key_spec_index: int | None
    since: str | None
    deprecated_since: str | None
    summary: str | None
    arguments: tuple[Argument, ...]
    available_in: tuple[str, ...]
    # Where a server's node differs from the union node (other servers: same as above).
    flags_by_server: Mapping[str, tuple[str, ...]] = field(default_factory=_empty_map)
    type_by_server: Mapping[str, str] = field(default_factory=_empty_map)

    def flags_on(self, server_id: str) -> tuple[str, ...]:
        """This node's flags on one server."""
        return self.flags_by_server.get(server_id, self.flags)

    def type_on(self, server_id: str) -> str:
        """This node's type on one server (Redis 7.0 has some oneofs as plain strings)."""
        return self.type_by_server.get(server_id, self.type)

    @property
    def flags(self) -> tuple[str, ...]:
        return tuple(
            f
            for f, on in (
                ("multiple", self.multiple),
                ("multiple_token", self.multiple_token),
                ("optional", self.optional),
            )
            if on
        )

    def walk(self) -> Iterator[Argument]:
        """This node and all nodes below it, depth-first."""
        yield self
        for a in self.arguments:
            yield from a.walk()


@dataclass(frozen=True)
class KeySpec:
    begin_search: Mapping[str, Any]
    find_keys: Mapping[str, Any]
    flags: tuple[str, ...]
    notes: str | None


@dataclass(frozen=True)
class Command:
    name: str  # "GET", "CLIENT KILL"
    container: str | None  # "CLIENT" for CLIENT KILL
    summary: str
    since: str | None
    group: str
    complexity: str | None
    history: tuple[tuple[str, str], ...]
    doc_flags: tuple[str, ...]
    deprecated_since: str | None
    replaced_by: str | None
    module: str | None
    arity: int
    flags: tuple[str, ...]
    acl_categories: tuple[str, ...]
    tips: tuple[str, ...]
    key_specs: tuple[KeySpec, ...]
    arguments: tuple[Argument, ...]
    available_in: tuple[str, ...]
    since_by_server: Mapping[str, str]
    subcommands: tuple[Command, ...]
    # COMMAND INFO / doc fields that differ on a lower-priority server: server id -> field ->
    # value on that server (None: absent there). Fields: arity, flags, acl_categories, tips,
    # key_specs, doc_flags, deprecated_since, replaced_by, group, module.
    by_server: Mapping[str, Mapping[str, Any]] = field(default_factory=_empty_map)
    # A server's own argument tree, as served, where it cannot be read back out of the union
    # tree (restructured on that server: Valkey SHUTDOWN, Redis 7.0 GEORADIUS STORE, ...).
    arguments_by_server: Mapping[str, tuple[Argument, ...]] = field(default_factory=_empty_map)

    @property
    def is_container(self) -> bool:
        return bool(self.subcommands)

    @property
    def is_deprecated(self) -> bool:
        return "deprecated" in self.doc_flags or self.deprecated_since is not None

    @property
    def is_blocking(self) -> bool:
        return "blocking" in self.flags

    @property
    def is_readonly(self) -> bool:
        return "readonly" in self.flags

    @property
    def doc_name(self) -> str:
        """The name as COMMAND DOCS spells it (``client|kill``; module commands as they are)."""
        if self.module is not None:
            return self.name
        return self.name.lower().replace(" ", "|")

    def for_server(self, server_id: str) -> Command:
        """This command as one server serves it: its fields, its argument tree.

        Arguments are the union nodes available on that server (with that server's flags and
        types), or the server's own tree where it was restructured. Argument names are the
        union's. Raises KeyError if the server does not have the command.
        """
        if server_id not in self.available_in:
            raise KeyError(f"{self.name} is not available on {server_id}")
        changes: dict[str, Any] = {}
        for k, v in self.by_server.get(server_id, {}).items():
            if k in ("flags", "acl_categories", "tips", "doc_flags"):
                changes[k] = tuple(v or ())
            elif k == "key_specs":
                changes[k] = tuple(_key_spec(x) for x in v or ())
            elif k == "group":
                changes[k] = str(v or "")
            elif k == "arity":
                changes[k] = int(v)
            else:
                changes[k] = v
        if server_id in self.arguments_by_server:
            args = self.arguments_by_server[server_id]
        else:
            args = _filter_args(self.arguments, server_id)
        return replace(
            self,
            since=self.since_by_server.get(server_id, self.since),
            arguments=args,
            available_in=(server_id,),
            since_by_server=_empty_map(),
            by_server=_empty_map(),
            arguments_by_server=_empty_map(),
            subcommands=tuple(
                s.for_server(server_id) for s in self.subcommands if server_id in s.available_in
            ),
            **changes,
        )

    def walk_arguments(self) -> Iterator[Argument]:
        """Every argument node of this command (not of its subcommands), depth-first."""
        for a in self.arguments:
            yield from a.walk()


@dataclass(frozen=True)
class Spec:
    servers: tuple[Server, ...]
    commands: tuple[Command, ...]  # top level, sorted by name
    sha256: str  # of the file bytes
    _index: Mapping[str, Command] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        index: dict[str, Command] = {}
        for c in self.all_commands():
            index[c.name] = c
        object.__setattr__(self, "_index", MappingProxyType(index))

    def all_commands(self) -> Iterator[Command]:
        """Top-level commands and their subcommands, depth-first, sorted by name."""
        for c in self.commands:
            yield c
            yield from c.subcommands

    def get(self, name: str) -> Command:
        """A command by name: ``"GET"``, ``"CLIENT KILL"`` (case-insensitive, ``|`` accepted)."""
        key = " ".join(name.replace("|", " ").split()).upper()
        try:
            return self._index[key]
        except KeyError:
            raise KeyError(name) from None

    def __contains__(self, name: object) -> bool:
        if not isinstance(name, str):
            return False
        return " ".join(name.replace("|", " ").split()).upper() in self._index

    def server(self, server_id: str) -> Server:
        for s in self.servers:
            if s.id == server_id:
                return s
        raise KeyError(server_id)


class SpecError(ValueError):
    """commands.json is malformed."""


def _str_or_none(v: Any) -> str | None:
    if v is None:
        return None
    if not isinstance(v, str):
        raise SpecError(f"expected a string, got {v!r}")
    return v


def _strs(v: Any) -> tuple[str, ...]:
    if v is None:
        return ()
    if not isinstance(v, (list, tuple)) or not all(isinstance(x, str) for x in v):
        raise SpecError(f"expected a list of strings, got {v!r}")
    return tuple(v)


def _freeze(v: Any) -> Any:
    if isinstance(v, dict):
        return MappingProxyType({k: _freeze(x) for k, x in v.items()})
    if isinstance(v, list):
        return tuple(_freeze(x) for x in v)
    return v


def _argument(
    d: Mapping[str, Any], where: str, default_available: tuple[str, ...] = ()
) -> Argument:
    try:
        name = d["name"]
        typ = d["type"]
    except KeyError as e:
        raise SpecError(f"{where}: argument without {e.args[0]!r}") from None
    flags = set(_strs(d.get("flags")))
    ksi = d.get("key_spec_index")
    if ksi is not None and not isinstance(ksi, int):
        raise SpecError(f"{where}/{name}: key_spec_index {ksi!r}")
    return Argument(
        name=str(name),
        type=str(typ),
        token=_str_or_none(d.get("token")),
        display_text=_str_or_none(d.get("display_text")),
        optional="optional" in flags,
        multiple="multiple" in flags,
        multiple_token="multiple_token" in flags,
        key_spec_index=ksi,
        since=_str_or_none(d.get("since")),
        deprecated_since=_str_or_none(d.get("deprecated_since")),
        summary=_str_or_none(d.get("summary")),
        arguments=tuple(
            _argument(c, f"{where}/{name}", default_available) for c in d.get("arguments") or ()
        ),
        available_in=_strs(d.get("available_in")) or default_available,
        flags_by_server=MappingProxyType(
            {str(k): _strs(v) for k, v in (d.get("flags_by_server") or {}).items()}
        ),
        type_by_server=MappingProxyType(
            {str(k): str(v) for k, v in (d.get("type_by_server") or {}).items()}
        ),
    )


def _filter_args(args: tuple[Argument, ...], sid: str) -> tuple[Argument, ...]:
    out: list[Argument] = []
    for a in args:
        if sid not in a.available_in:
            continue
        flags = set(a.flags_on(sid))
        typ = a.type_on(sid)
        out.append(
            replace(
                a,
                type=typ,
                optional="optional" in flags,
                multiple="multiple" in flags,
                multiple_token="multiple_token" in flags,
                arguments=_filter_args(a.arguments, sid) if typ == a.type else (),
                available_in=(sid,),
                flags_by_server=_empty_map(),
                type_by_server=_empty_map(),
            )
        )
    return tuple(out)


def _key_spec(d: Mapping[str, Any]) -> KeySpec:
    return KeySpec(
        begin_search=_freeze(dict(d.get("begin_search") or {})),
        find_keys=_freeze(dict(d.get("find_keys") or {})),
        flags=_strs(d.get("flags")),
        notes=_str_or_none(d.get("notes")),
    )


def _command(name: str, d: Mapping[str, Any], container: str | None) -> Command:
    history: list[tuple[str, str]] = []
    for h in d.get("history") or ():
        if not (isinstance(h, list) and len(h) == 2):
            raise SpecError(f"{name}: history entry {h!r}")
        history.append((str(h[0]), str(h[1])))
    arity = d.get("arity")
    if not isinstance(arity, int):
        raise SpecError(f"{name}: arity {arity!r}")
    subs = d.get("subcommands") or {}
    return Command(
        name=name,
        container=container,
        summary=str(d.get("summary") or ""),
        since=_str_or_none(d.get("since")),
        group=str(d.get("group") or ""),
        complexity=_str_or_none(d.get("complexity")),
        history=tuple(history),
        doc_flags=_strs(d.get("doc_flags")),
        deprecated_since=_str_or_none(d.get("deprecated_since")),
        replaced_by=_str_or_none(d.get("replaced_by")),
        module=_str_or_none(d.get("module")),
        arity=arity,
        flags=_strs(d.get("flags")),
        acl_categories=_strs(d.get("acl_categories")),
        tips=_strs(d.get("tips")),
        key_specs=tuple(_key_spec(k) for k in d.get("key_specs") or ()),
        arguments=tuple(_argument(a, name) for a in d.get("arguments") or ()),
        available_in=_strs(d.get("available_in")),
        since_by_server=MappingProxyType(
            {str(k): str(v) for k, v in (d.get("since_by_server") or {}).items()}
        ),
        subcommands=tuple(_command(s, subs[s], name) for s in sorted(subs)),
        by_server=_freeze(dict(d.get("by_server") or {})),
        arguments_by_server=MappingProxyType(
            {
                str(sid): tuple(_argument(a, f"{name}@{sid}", (str(sid),)) for a in tree or ())
                for sid, tree in (d.get("arguments_by_server") or {}).items()
            }
        ),
    )


def parse_spec(data: bytes) -> Spec:
    """Build a :class:`Spec` from the bytes of a commands.json file."""
    raw = json.loads(data)
    if not isinstance(raw, dict) or "servers" not in raw or "commands" not in raw:
        raise SpecError("not a merged spec: expected top-level 'servers' and 'commands'")
    servers = tuple(
        Server(id=str(s["id"]), vendor=str(s["vendor"]), version=str(s["version"]))
        for s in raw["servers"]
    )
    cmds = raw["commands"]
    commands = tuple(_command(n, cmds[n], None) for n in sorted(cmds))
    return Spec(servers=servers, commands=commands, sha256=hashlib.sha256(data).hexdigest())


def load_spec(path: str | Path = "commands.json") -> Spec:
    """Read and parse commands.json."""
    return parse_spec(Path(path).read_bytes())


def servers_of(spec: Spec, ids: Sequence[str]) -> tuple[Server, ...]:
    """The spec's servers among ``ids``, in priority order."""
    wanted = set(ids)
    return tuple(s for s in spec.servers if s.id in wanted)
