"""Merge raw dumps of several servers into one spec (``commands.json``).

Server priority (which server's fields and argument names win, and the order of ``servers``):
the newest Redis first, then Valkey servers newest first, then the remaining Redis servers
newest first, then other vendors. For the pinned servers: ``redis-8.2.3``, ``valkey-8.1.8``,
``redis-7.0.15``. Versions are only compared within one vendor.

Merge, per command (the union of all servers' commands):

* scalar doc and info fields come from the highest-priority server that has the command;
  ``available_in`` lists the servers that have it; ``since_by_server`` the servers whose
  ``since`` differs; ``by_server`` the servers whose arity, flags, acl_categories, tips,
  key_specs, doc_flags, deprecated_since, replaced_by, group or module differ (their values).
* argument trees are merged into the highest-priority tree, one lower server at a time.
  Siblings are matched by token when the lower node has one, else by normalised name
  (untokened nodes only), in order. Between matched anchors the remaining nodes are:
  paired by position when both sides have as many nodes with the same type and token (renamed
  arguments, e.g. 7.0 ZADD ``score_member`` -> ``data``); inserted when only the lower server
  has them (Valkey ``IFEQ``, ``PRIMARY``, ``NOSCORES``); matched through untokened
  oneof/block containers on either side (Valkey SHUTDOWN and BITCOUNT, 7.0 GEORADIUS
  ``STORE``); wrapped into the lower server's oneof when that oneof offers existing siblings
  as alternatives (Valkey BGSAVE ``SCHEDULE | CANCEL``); otherwise left out (the
  higher-priority structure is kept). A 7.0 single-child block around a scalar is seen
  through. Every node carries ``available_in``; ``flags_by_server``/``type_by_server``
  record where a matched node's flags or type differ (7.0 BITOP ``operation`` is a string).
* ``arguments_by_server`` keeps a server's own tree, as served, whenever that server's tree
  cannot be read back out of the union (filtering by ``available_in`` with its flags and
  types): the merge is lossless.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from .dump import (
    _DOC_FIELDS,
    _INFO_FIELDS,
    JSON,
    RAW_FORMAT,
    DumpError,
    _prune,
    _version_key,
)


def server_priority(servers: Iterable[Mapping[str, str]]) -> list[dict[str, str]]:
    """Order servers by merge priority (see the module docstring)."""
    return _priority([dict(s) for s in servers])


def _priority(servers: list[dict[str, str]]) -> list[dict[str, str]]:
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


_CONTAINERS = ("oneof", "block")


class _Node:
    """An argument node while merging: the winning fields plus per-server availability."""

    def __init__(self, fields: Mapping[str, JSON], sid: str) -> None:
        self.fields: dict[str, JSON] = {k: v for k, v in fields.items() if k != "arguments"}
        self.available: list[str] = [sid]
        self.children: list[_Node] = [_Node(c, sid) for c in fields.get("arguments") or []]
        self.flags_by_server: dict[str, list[str]] = {}
        self.type_by_server: dict[str, str] = {}

    @property
    def token(self) -> str | None:
        return _norm_token(self.fields.get("token"))

    @property
    def type(self) -> str:
        return str(self.fields.get("type"))

    def is_open_container(self) -> bool:
        """An untokened oneof/block: its children may stand for siblings on another server."""
        return self.type in _CONTAINERS and self.token is None

    def add_server(self, sid: str) -> None:
        if sid not in self.available:
            self.available.append(sid)

    def to_json(self, order: Sequence[str]) -> dict[str, JSON]:
        out = dict(self.fields)
        out["arguments"] = [c.to_json(order) for c in self.children]
        out["available_in"] = [s for s in order if s in self.available]
        out["flags_by_server"] = {
            s: f for s, f in self.flags_by_server.items() if s in self.available
        }
        out["type_by_server"] = dict(self.type_by_server)
        return _prune(out)


def _same_arg(n: _Node, o: Mapping[str, JSON]) -> bool:
    """Do ``n`` and ``o`` denote the same argument by token or (untokened) by name?"""
    tok = _norm_token(o.get("token"))
    if tok is not None:
        return n.token == tok
    return n.token is None and _norm_name(n.fields.get("name")) == _norm_name(o.get("name"))


def _positional_ok(n: _Node, o: Mapping[str, JSON]) -> bool:
    """May ``o`` be matched to ``n`` by position (same type and token placement)?"""
    if n.type != o.get("type"):
        return False
    tok = _norm_token(o.get("token"))
    if n.token == tok:
        return True
    # token on the block on one server, on the block's first (pure-token) child on the other
    return (
        n.token is None
        and tok is not None
        and n.type == "block"
        and bool(n.children)
        and n.children[0].type == "pure-token"
        and n.children[0].token == tok
    )


def _similar_children(n: _Node, o: Mapping[str, JSON]) -> bool:
    """Containers with the same content: every child of ``o`` has a counterpart in ``n``."""
    kids = o.get("arguments") or []
    if not kids or len(kids) != len(n.children):
        return False
    return all(_same_arg(c, k) or _positional_ok(c, k) for c, k in zip(n.children, kids))


def _unwrap_single(o: Mapping[str, JSON], n: _Node) -> Mapping[str, JSON]:
    """Redis 7.0 wraps a multiple scalar in an untokened one-child block: see through it."""
    kids = o.get("arguments") or []
    if (
        o.get("type") == "block"
        and n.type != "block"
        and len(kids) == 1
        and kids[0].get("type") == n.type
        and (o.get("token") is None or kids[0].get("token") is None)
    ):
        inner = dict(kids[0])
        inner["token"] = o.get("token") or kids[0].get("token")
        inner["flags"] = sorted(set(o.get("flags") or []) | set(inner.get("flags") or []))
        return inner
    return o


class _Merger:
    """Merges one lower-priority server's argument trees into the union tree."""

    def __init__(self, sid: str) -> None:
        self.sid = sid

    def pair(self, n: _Node, o: Mapping[str, JSON]) -> None:
        """``o`` (this server's node) is ``n`` (union node): merge attributes and children."""
        sid = self.sid
        o = _unwrap_single(o, n)
        n.add_server(sid)
        oflags = sorted(o.get("flags") or [])
        if oflags != sorted(n.fields.get("flags") or []):
            n.flags_by_server[sid] = oflags
        if o.get("type") != n.type:
            n.type_by_server[sid] = str(o.get("type"))
            return
        base = n.children
        tok = _norm_token(o.get("token"))
        if n.token is None and tok is not None:  # token moved from the first child to the block
            base[0].add_server(sid)
            self.merge_list(base, o.get("arguments") or [], skip=1)
        else:
            self.merge_list(base, o.get("arguments") or [])

    def merge_list(
        self, base: list[_Node], other: Sequence[Mapping[str, JSON]], skip: int = 0
    ) -> None:
        # 1. direct matches (token, else normalised name), kept in order
        matched: dict[int, int] = {}  # other index -> base index
        last = skip - 1
        used: set[int] = set()
        for j, o in enumerate(other):
            for i in range(last + 1, len(base)):
                if i not in used and _same_arg(base[i], o):
                    matched[j] = i
                    used.add(i)
                    last = i
                    break
        # 2. gaps between the anchors
        inserts: list[tuple[int, _Node]] = []
        j = 0
        while j < len(other):
            if j in matched:
                j += 1
                continue
            start = j
            while j < len(other) and j not in matched:
                j += 1
            lo = matched[start - 1] + 1 if start > 0 else skip
            hi = matched[j] if j < len(other) else len(base)
            gap_base = [i for i in range(lo, hi) if i not in used]
            gap_other = list(range(start, j))
            pos = hi
            self.merge_gap(base, gap_base, other, gap_other, pos, matched, inserts)
        for i_other, i_base in sorted(matched.items()):
            self.pair(base[i_base], other[i_other])
        # insert from the back; equal positions keep this server's order
        for _, pos, node in sorted(
            ((k, p, n) for k, (p, n) in enumerate(inserts)),
            key=lambda t: (t[1], t[0]),
            reverse=True,
        ):
            base.insert(pos, node)

    def merge_gap(
        self,
        base: list[_Node],
        gap_base: list[int],
        other: Sequence[Mapping[str, JSON]],
        gap_other: list[int],
        pos: int,
        matched: dict[int, int],
        inserts: list[tuple[int, _Node]],
    ) -> None:
        sid = self.sid
        # a. same number of nodes, pairwise compatible: renamed arguments
        if len(gap_base) == len(gap_other) and all(
            _positional_ok(base[i], other[j]) for i, j in zip(gap_base, gap_other)
        ):
            matched.update(zip(gap_other, gap_base))
            return
        if not gap_base:  # b. arguments only this server has
            inserts.extend((pos, _Node(other[j], sid)) for j in gap_other)
            return
        # c. structural differences: look through untokened containers on either side
        cands: list[tuple[_Node, list[_Node]]] = []  # (base node, open containers above it)

        def expand(n: _Node, path: list[_Node]) -> None:
            cands.append((n, path))
            if n.is_open_container():
                for c in n.children:
                    expand(c, [*path, n])

        for i in gap_base:
            expand(base[i], [])
        taken: set[int] = set()

        def find(o: Mapping[str, JSON]) -> tuple[_Node, list[_Node]] | None:
            for n, path in cands:
                if id(n) not in taken and _same_arg(n, o):
                    return n, path
            return None

        def resolve(
            o: Mapping[str, JSON], optional: bool, chosen: set[int]
        ) -> list[tuple[Mapping[str, JSON], tuple[_Node, list[_Node]]]] | None:
            """Counterparts for ``o``, or for the nodes inside it when ``o`` is an untokened
            container that has none itself. Nodes of an optional container or of a oneof
            become optional once the container is gone. None: some node has no counterpart."""
            if optional and "optional" not in (o.get("flags") or []):
                o = {**o, "flags": sorted([*(o.get("flags") or []), "optional"])}
            for n, path in cands:
                if id(n) not in taken and id(n) not in chosen and _same_arg(n, o):
                    chosen.add(id(n))
                    return [(o, (n, path))]
            if o.get("type") in _CONTAINERS and o.get("token") is None and o.get("arguments"):
                opt = o.get("type") == "oneof" or "optional" in (o.get("flags") or [])
                out: list[tuple[Mapping[str, JSON], tuple[_Node, list[_Node]]]] = []
                for c in o.get("arguments") or []:
                    r = resolve(c, opt, chosen)
                    if r is None:
                        return None
                    out += r
                return out
            return None

        def top_index(n: _Node, path: list[_Node]) -> int:
            top = path[0] if path else n
            return next(i for i in gap_base if base[i] is top)

        mapped: dict[int, int] = {}  # this server's index -> top-level union index it landed in
        leftovers: list[int] = []
        for j in gap_other:
            o = other[j]
            hit = find(o)
            if hit is not None:
                taken.add(id(hit[0]))
                for p in hit[1]:
                    p.add_server(sid)
                self.pair(hit[0], o)
                mapped[j] = top_index(*hit)
                continue
            # a renamed container with the same content
            similar = [
                i
                for i in gap_base
                if id(base[i]) not in taken
                and sid not in base[i].available
                and _positional_ok(base[i], o)
                and _similar_children(base[i], o)
            ]
            if similar:
                taken.add(id(base[similar[0]]))
                self.pair(base[similar[0]], o)
                mapped[j] = similar[0]
                continue
            if o.get("type") in _CONTAINERS and o.get("token") is None:
                # dissolve this server's container if every leaf has a counterpart
                resolved = resolve(o, False, set())
                if resolved is not None:
                    for x, (n, path) in resolved:
                        taken.add(id(n))
                        for p in path:
                            p.add_server(sid)
                        self.pair(n, x)
                    mapped[j] = min(top_index(*h) for _, h in resolved)
                    continue
                # wrap: a oneof whose tokened alternatives include existing siblings
                if o.get("type") == "oneof":
                    at = self.wrap(base, gap_base, o, taken)
                    if at is not None:
                        mapped[j] = at
                        continue
            leftovers.append(j)
        if leftovers:
            rest = [
                i for i in gap_base if id(base[i]) not in taken and sid not in base[i].available
            ]
            if not rest:
                for j in leftovers:
                    later = [mapped[k] for k in gap_other if k > j and k in mapped]
                    inserts.append((min(later) if later else pos, _Node(other[j], sid)))
            # else: irreconcilable; the union keeps the higher-priority structure and this
            # server's own tree is recorded in the command's arguments_by_server

    def wrap(
        self, base: list[_Node], gap_base: list[int], o: Mapping[str, JSON], taken: set[int]
    ) -> int | None:
        """This server's oneof groups arguments that are plain siblings in the union so far."""
        alts = o.get("arguments") or []
        hits: dict[int, int] = {}  # alternative index -> base index
        for k, a in enumerate(alts):
            if a.get("token") is None:
                continue
            for i in gap_base:
                n = base[i]
                if id(n) not in taken and n.token == _norm_token(a.get("token")):
                    hits[k] = i
                    break
        if not hits:
            return None
        first = min(hits.values())
        new = _Node({k: v for k, v in o.items() if k != "arguments"}, self.sid)
        for k, a in enumerate(alts):
            if k in hits:
                old = base[hits[k]]
                # the alternative keeps the union's fields, with the oneof member's flags
                old.fields["flags"] = sorted(a.get("flags") or [])
                old.flags_by_server = {}
                self.pair(old, a)
                new.children.append(old)
                taken.add(id(old))
            else:
                new.children.append(_Node(a, self.sid))
        for s in (s for k in hits for s in base[hits[k]].available):
            new.add_server(s)
        base[first] = new
        for i in sorted((i for i in hits.values() if i != first), reverse=True):
            base[i] = new  # placeholder, removed below
        # remove duplicate placeholders while keeping indices of the caller's lists valid
        seen = False
        for i in sorted(hits.values()):
            if base[i] is new:
                if seen:
                    base[i] = _Removed
                seen = True
        taken.add(id(new))
        return first


_Removed: Any = _Node({"name": "__removed__", "type": "block"}, "")


def _drop_removed(nodes: list[_Node]) -> None:
    nodes[:] = [n for n in nodes if n is not _Removed]
    for n in nodes:
        _drop_removed(n.children)


def _view(nodes: Sequence[Mapping[str, JSON]], sid: str) -> list[dict[str, JSON]]:
    """One server's tree out of the merged tree (for checking that nothing was lost)."""
    out: list[dict[str, JSON]] = []
    for n in nodes:
        if sid not in (n.get("available_in") or []):
            continue
        flags = (n.get("flags_by_server") or {}).get(sid, n.get("flags")) or []
        typ = (n.get("type_by_server") or {}).get(sid, n.get("type"))
        out.append(
            {
                "type": typ,
                "token": n.get("token"),
                "flags": sorted(flags),
                "arguments": _view(n.get("arguments") or [], sid) if typ == n.get("type") else [],
            }
        )
    return out


def _shape(nodes: Sequence[Mapping[str, JSON]]) -> list[dict[str, JSON]]:
    return [
        {
            "type": n.get("type"),
            "token": n.get("token"),
            "flags": sorted(n.get("flags") or []),
            "arguments": _shape(n.get("arguments") or []),
        }
        for n in nodes
    ]


_BY_SERVER_FIELDS = (
    "arity",
    "flags",
    "acl_categories",
    "tips",
    "key_specs",
    "doc_flags",
    "deprecated_since",
    "replaced_by",
    "group",
    "module",
)


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
    by_server: dict[str, JSON] = {}
    for sid, d in per_server[1:]:
        diff = {k: d.get(k) for k in _BY_SERVER_FIELDS if d.get(k) != top.get(k)}
        if diff:
            by_server[sid] = diff
    out["by_server"] = by_server
    nodes = [_Node(a, sid0) for a in top.get("arguments") or []]
    for sid, d in per_server[1:]:
        _Merger(sid).merge_list(nodes, d.get("arguments") or [])
        _drop_removed(nodes)
    args = [n.to_json(order) for n in nodes]
    out["arguments"] = args
    # Servers whose own tree cannot be read back out of the union: keep their tree as served.
    out["arguments_by_server"] = {
        sid: d.get("arguments") or []
        for sid, d in per_server
        if _view(args, sid) != _shape(d.get("arguments") or [])
    }
    subnames = sorted({s for _, d in per_server for s in d.get("subcommands") or {}})
    subs: dict[str, JSON] = {}
    for sub in subnames:
        ps = [
            (sid, d["subcommands"][sub])
            for sid, d in per_server
            if sub in (d.get("subcommands") or {})
        ]
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
