"""Dump COMMAND DOCS / COMMAND INFO from live servers and merge them into ``commands.json``.

Two file shapes are written here:

* a *raw* dump (``dump --raw OUT``): one server, normalised but not merged::

      {"format": "redspec-raw-1", "server": {"id", "vendor", "version"},
       "commands": {"GET": {...}, "CLIENT": {..., "subcommands": {"CLIENT KILL": {...}}}}}

* the merged spec (``dump --output`` / ``merge --output``): see ``codegen/spec.py`` for the
  reader and the module docstring there for the field list.

Normalisation of one server's reply (RESP3):

* command names upper case, ``container|sub`` becomes ``CONTAINER SUB``;
* RESP3 sets whose order carries no meaning are sorted (command ``flags``,
  ``acl_categories``, ``tips``, ``doc_flags``, argument ``flags``, key-spec ``flags``);
  ``history`` and ``key_specs`` keep the server's order (key-spec indices refer to it);
* keys whose value is null, an empty list or an empty map are omitted, everywhere.

Server priority (which server's scalar fields and argument names win when they differ, and the
order of ``servers`` in the file): the newest Redis first, then Valkey servers newest first,
then the remaining Redis servers newest first, then anything else. For the pinned servers that
is ``redis-8.2.3``, ``valkey-8.1.8``, ``redis-7.0.15``.
"""

from __future__ import annotations

import json
import re
import socket
from collections.abc import Iterable, Mapping, Sequence
from typing import Any
from urllib.parse import urlsplit

import hiredis

RAW_FORMAT = "redspec-raw-1"

JSON = Any  # the values we handle are plain JSON values

# Sets whose order carries no meaning: sorted for determinism.
_SORTED_COMMAND_FIELDS = ("flags", "acl_categories", "tips", "doc_flags")

# Scalar fields of a command (docs + info) taken from the highest-priority server.
_DOC_FIELDS = (
    "summary",
    "since",
    "group",
    "complexity",
    "history",
    "doc_flags",
    "deprecated_since",
    "replaced_by",
    "module",
)
_INFO_FIELDS = ("arity", "flags", "acl_categories", "tips", "key_specs")

_ARG_FIELDS = (
    "name",
    "type",
    "token",
    "display_text",
    "flags",
    "key_spec_index",
    "since",
    "deprecated_since",
    "summary",
)


class DumpError(Exception):
    """A server could not be dumped, or input files could not be merged."""


# --------------------------------------------------------------------------------------------
# A tiny synchronous RESP3 client
# --------------------------------------------------------------------------------------------


class _Client:
    def __init__(self, host: str, port: int, timeout: float = 10.0) -> None:
        self._sock = socket.create_connection((host, port), timeout=timeout)
        self._reader = hiredis.Reader()

    def close(self) -> None:
        self._sock.close()

    def __enter__(self) -> _Client:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def call(self, *args: str) -> JSON:
        out = [f"*{len(args)}\r\n".encode()]
        for a in args:
            b = a.encode()
            out.append(b"$%d\r\n%s\r\n" % (len(b), b))
        self._sock.sendall(b"".join(out))
        while True:
            reply = self._reader.gets()
            if reply is not False:
                break
            data = self._sock.recv(1 << 16)
            if not data:
                raise DumpError("connection closed by the server")
            self._reader.feed(data)
        if isinstance(reply, hiredis.ReplyError):
            raise DumpError(f"{' '.join(args)}: {reply}")
        return _decode(reply)


def _decode(v: JSON) -> JSON:
    """bytes -> str recursively; hiredis gives lists for arrays and sets, dicts for maps."""
    if isinstance(v, bytes):
        return v.decode("utf-8")
    if isinstance(v, (list, tuple, set, frozenset)):
        return [_decode(x) for x in v]
    if isinstance(v, dict):
        return {_decode(k): _decode(x) for k, x in v.items()}
    return v


def parse_url(url: str) -> tuple[str, int]:
    parts = urlsplit(url if "://" in url else f"redis://{url}")
    if parts.scheme != "redis":
        raise DumpError(f"unsupported URL scheme in {url!r} (only redis://host:port)")
    return parts.hostname or "127.0.0.1", parts.port or 6379


# --------------------------------------------------------------------------------------------
# Dumping one server
# --------------------------------------------------------------------------------------------


def _version_key(version: str) -> tuple[int, ...]:
    return tuple(int(p) if p.isdigit() else 0 for p in re.split(r"[.\-]", version))


def server_identity(info_text: str) -> dict[str, str]:
    fields: dict[str, str] = {}
    for line in info_text.splitlines():
        if ":" in line and not line.startswith("#"):
            k, _, v = line.partition(":")
            fields[k.strip()] = v.strip()
    if fields.get("server_name") == "valkey" or "valkey_version" in fields:
        vendor, version = "valkey", fields.get("valkey_version", "")
    else:
        vendor, version = "redis", fields.get("redis_version", "")
    if not version:
        raise DumpError("INFO server reports no version")
    return {"id": f"{vendor}-{version}", "vendor": vendor, "version": version}


def _canon_name(name: str) -> str:
    return name.replace("|", " ").upper()


def _prune(d: dict[str, JSON]) -> dict[str, JSON]:
    return {k: v for k, v in d.items() if v is not None and v != [] and v != {}}


def _norm_arg(a: Mapping[str, JSON]) -> dict[str, JSON]:
    unknown = set(a) - set(_ARG_FIELDS) - {"arguments", "value"}
    if unknown:
        raise DumpError(f"unknown argument fields {sorted(unknown)} in {a.get('name')!r}")
    out: dict[str, JSON] = {k: a.get(k) for k in _ARG_FIELDS}
    out["flags"] = sorted(a.get("flags") or [])
    out["arguments"] = [_norm_arg(c) for c in a.get("arguments") or []]
    return _prune(out)


def _norm_key_spec(ks: Mapping[str, JSON]) -> dict[str, JSON]:
    out = dict(ks)
    out["flags"] = sorted(ks.get("flags") or [])
    return _prune(out)


def _info_entries(info: JSON) -> dict[str, dict[str, JSON]]:
    """COMMAND INFO reply (array of arrays, or a map on some servers) -> name -> fields."""
    out: dict[str, dict[str, JSON]] = {}
    items = info.values() if isinstance(info, dict) else info
    for entry in items:
        if entry is None:
            continue
        name, arity, flags, _first, _last, _step, acl, tips, key_specs, subs = entry[:10]
        out[_canon_name(name)] = {
            "arity": arity,
            "flags": sorted(flags or []),
            "acl_categories": sorted(acl or []),
            "tips": sorted(tips or []),
            "key_specs": [_norm_key_spec(k) for k in key_specs or []],
        }
        out.update(_info_entries(subs or []))
    return out


def _doc_entries(docs: Mapping[str, JSON]) -> dict[str, tuple[str | None, dict[str, JSON]]]:
    """COMMAND DOCS reply -> canonical name -> (container, normalised doc fields)."""
    out: dict[str, tuple[str | None, dict[str, JSON]]] = {}

    def visit(name: str, d: Mapping[str, JSON], container: str | None) -> None:
        fields: dict[str, JSON] = {k: d.get(k) for k in _DOC_FIELDS}
        fields["history"] = [list(h) for h in d.get("history") or []]
        fields["doc_flags"] = sorted(d.get("doc_flags") or [])
        fields["arguments"] = [_norm_arg(a) for a in d.get("arguments") or []]
        out[name] = (container, fields)
        for sub, sd in (d.get("subcommands") or {}).items():
            visit(_canon_name(sub), sd, name)

    for name, d in docs.items():
        visit(_canon_name(name), d, None)
    return out


def build_raw(server: Mapping[str, str], docs: JSON, info: JSON) -> dict[str, JSON]:
    """Combine one server's COMMAND DOCS and COMMAND INFO into the raw dump shape."""
    doc_entries = _doc_entries(docs)
    info_entries = _info_entries(info)
    missing = sorted(set(info_entries) ^ set(doc_entries))
    if missing:
        raise DumpError(f"COMMAND DOCS and COMMAND INFO disagree on {missing[:10]}")
    flat: dict[str, dict[str, JSON]] = {}
    for name, (_container, fields) in doc_entries.items():
        flat[name] = _prune({**fields, **info_entries[name]})
    top: dict[str, dict[str, JSON]] = {}
    for name in sorted(flat):
        container = doc_entries[name][0]
        if container is None:
            top[name] = flat[name]
    for name in sorted(flat):
        container = doc_entries[name][0]
        if container is not None:
            top[container].setdefault("subcommands", {})[name] = flat[name]
    return {"format": RAW_FORMAT, "server": dict(server), "commands": top}


def dump_server(url: str) -> dict[str, JSON]:
    host, port = parse_url(url)
    with _Client(host, port) as c:
        c.call("HELLO", "3")
        ident = server_identity(c.call("INFO", "server"))
        docs = c.call("COMMAND", "DOCS")
        info = c.call("COMMAND", "INFO")
    return build_raw(ident, docs, info)


# --------------------------------------------------------------------------------------------
# Merging
# --------------------------------------------------------------------------------------------


def server_priority(servers: Iterable[Mapping[str, str]]) -> list[dict[str, str]]:
    """Order servers by merge priority (see the module docstring)."""
    servers = [dict(s) for s in servers]
    redis = sorted(
        (s for s in servers if s["vendor"] == "redis"),
        key=lambda s: _version_key(s["version"]),
        reverse=True,
    )
    valkey = sorted(
        (s for s in servers if s["vendor"] == "valkey"),
        key=lambda s: _version_key(s["version"]),
        reverse=True,
    )
    other = sorted(
        (s for s in servers if s["vendor"] not in ("redis", "valkey")),
        key=lambda s: (s["vendor"], tuple(-x for x in _version_key(s["version"]))),
    )
    return redis[:1] + valkey + redis[1:] + other


def _norm_token(tok: JSON) -> str | None:
    return None if tok is None else str(tok).upper()


def _norm_name(name: JSON) -> str:
    return re.sub(r"[^a-z0-9]+", "-", str(name).lower()).strip("-")


class _Node:
    """An argument node while merging: the winning fields plus per-server availability."""

    def __init__(self, fields: dict[str, JSON], sid: str) -> None:
        self.fields = {k: v for k, v in fields.items() if k != "arguments"}
        self.available: list[str] = [sid]
        self.children: list[_Node] = [_Node(c, sid) for c in fields.get("arguments") or []]
        # every server's own node matched here, to compare types
        self.types: dict[str, str] = {sid: str(fields.get("type"))}

    def to_json(self, order: Sequence[str]) -> dict[str, JSON]:
        out = dict(self.fields)
        out["arguments"] = [c.to_json(order) for c in self.children]
        out["available_in"] = [s for s in order if s in self.available]
        return _prune(out)


def _find(nodes: Sequence[_Node], used: set[int], pred: Any) -> int | None:
    for i, n in enumerate(nodes):
        if i not in used and pred(n):
            return i
    return None


def _merge_children(
    base: list[_Node], other: Sequence[Mapping[str, JSON]], sid: str, conflicts: list[str], path: str
) -> None:
    """Merge one lower-priority server's argument list into ``base`` (in place)."""
    matched: dict[int, int] = {}  # other index -> base index
    used: set[int] = set()
    for j, o in enumerate(other):
        tok = _norm_token(o.get("token"))
        if tok is not None:
            i = _find(base, used, lambda n, t=tok: _norm_token(n.fields.get("token")) == t)
        else:
            nm = _norm_name(o.get("name"))
            i = _find(
                base,
                used,
                lambda n, nm=nm: n.fields.get("token") is None and _norm_name(n.fields["name"]) == nm,
            )
        if i is not None:
            matched[j] = i
            used.add(i)

    # Unmatched nodes, grouped into gaps between matched anchors.
    new_nodes: list[tuple[int, _Node]] = []  # (insert before base index, node)
    j = 0
    while j < len(other):
        if j in matched:
            j += 1
            continue
        start = j
        while j < len(other) and j not in matched:
            j += 1
        gap_other = list(range(start, j))
        lo = matched[start - 1] + 1 if start > 0 else 0
        hi = matched[j] if j < len(other) else len(base)
        gap_base = [i for i in range(lo, max(lo, hi)) if i not in used and sid not in base[i].available]
        if (
            len(gap_other) == 1
            and len(gap_base) == 1
            and base[gap_base[0]].fields.get("type") == other[gap_other[0]].get("type")
            and _norm_token(base[gap_base[0]].fields.get("token"))
            == _norm_token(other[gap_other[0]].get("token"))
        ):
            matched[gap_other[0]] = gap_base[0]
            used.add(gap_base[0])
        elif not gap_base:
            for k in gap_other:
                new_nodes.append((max(lo, hi) if j < len(other) else len(base), _Node(dict(other[k]), sid)))
        else:
            names = ", ".join(str(other[k].get("name")) for k in gap_other)
            conflicts.append(f"{path}: {names}")

    for j, i in matched.items():
        node = base[i]
        o = other[j]
        node.available.append(sid)
        node.types[sid] = str(o.get("type"))
        if node.fields.get("type") == o.get("type"):
            _merge_children(node.children, o.get("arguments") or [], sid, conflicts,
                            f"{path}/{node.fields['name']}")
        elif o.get("arguments") or node.children:
            conflicts.append(f"{path}/{node.fields['name']}: type {o.get('type')} here")

    # insert new nodes (stable, from the back so indices stay valid)
    for pos, n in sorted(new_nodes, key=lambda t: t[0], reverse=True):
        base.insert(pos, n)


def _merge_command(
    name: str, per_server: list[tuple[str, Mapping[str, JSON]]], order: Sequence[str]
) -> dict[str, JSON]:
    sid0, top = per_server[0]
    out: dict[str, JSON] = {k: top.get(k) for k in _DOC_FIELDS + _INFO_FIELDS}
    out["available_in"] = [s for s in order if any(s == p[0] for p in per_server)]
    since0 = top.get("since")
    out["since_by_server"] = {
        sid: d["since"] for sid, d in per_server[1:] if d.get("since") and d.get("since") != since0
    }
    nodes = [_Node(a, sid0) for a in top.get("arguments") or []]
    conflicts: list[str] = []
    for sid, d in per_server[1:]:
        _merge_children(nodes, d.get("arguments") or [], sid, conflicts, name)
    out["arguments"] = [n.to_json(order) for n in nodes]
    # subcommands
    subnames = sorted({s for _, d in per_server for s in d.get("subcommands") or {}})
    subs: dict[str, JSON] = {}
    for sub in subnames:
        ps = [(sid, d["subcommands"][sub]) for sid, d in per_server if sub in (d.get("subcommands") or {})]
        subs[sub] = _merge_command(sub, ps, order)
    out["subcommands"] = subs
    return _prune(out)


def merge(raws: Sequence[Mapping[str, JSON]]) -> dict[str, JSON]:
    for r in raws:
        if r.get("format") != RAW_FORMAT:
            raise DumpError("merge takes raw dumps (made with `dump --raw`)")
    servers = server_priority(r["server"] for r in raws)
    ids = [s["id"] for s in servers]
    if len(set(ids)) != len(ids):
        raise DumpError(f"duplicate servers in merge input: {ids}")
    by_id = {r["server"]["id"]: r for r in raws}
    names = sorted({n for r in raws for n in r["commands"]})
    commands: dict[str, JSON] = {}
    for name in names:
        per = [(sid, by_id[sid]["commands"][name]) for sid in ids if name in by_id[sid]["commands"]]
        commands[name] = _merge_command(name, per, ids)
    return {"servers": servers, "commands": commands}


def to_text(obj: JSON) -> str:
    return json.dumps(obj, indent=1, sort_keys=True, ensure_ascii=False) + "\n"


def write(path: str, obj: JSON) -> None:
    with open(path, "w", encoding="utf-8", newline="\n") as f:
        f.write(to_text(obj))


def read(path: str) -> JSON:
    with open(path, encoding="utf-8") as f:
        return json.load(f)
